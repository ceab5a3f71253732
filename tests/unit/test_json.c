/* test_json.c - unit tests of src/core/json: the RFC 8259 grammar, escapes, every error class,
 * the limits, the JSON-lines splitter, and a differential test against Python's json module.
 *
 * Expected values come from RFC 8259 (its section 13 examples, the grammar of sections 2-7), from
 * Unicode (UTF-8 and UTF-16 surrogate arithmetic worked out by hand in the comments), and from
 * Python: json_differential_python and json_otrf_python run python3 (through popen, skipped when it
 * is absent) on the same bytes and compare its reading of every document with ours. */
#include "unit.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses text (NUL-terminated) with default limits into a fresh arena owned by the caller. */
static int parse(struct kz_arena *a, const char *text, struct kz_json_doc *doc,
                 struct kz_json_error *err) {
    return kz_json_parse(text, strlen(text), a, NULL, doc, err);
}

static int str_is(const struct kz_json_node *n, const char *bytes, size_t len) {
    return n && n->type == KZ_JSON_STRING && n->len == len && !memcmp(n->u.str, bytes, len);
}

static int64_t int_of(const struct kz_json_node *n) {
    int64_t v = -999999;
    if (kz_json_int(n, &v)) return -999999;
    return v;
}

/* ---- RFC 8259 section 13 ---- */

KZ_TEST(json_rfc8259_image_example) {
    const char *text = "{\n"
                       "  \"Image\": {\n"
                       "      \"Width\":  800,\n"
                       "      \"Height\": 600,\n"
                       "      \"Title\":  \"View from 15th Floor\",\n"
                       "      \"Thumbnail\": {\n"
                       "          \"Url\":    \"http://www.example.com/image/481989943\",\n"
                       "          \"Height\": 125,\n"
                       "          \"Width\":  100\n"
                       "      },\n"
                       "      \"Animated\" : false,\n"
                       "      \"IDs\": [116, 943, 234, 38793]\n"
                       "    }\n"
                       "}\n";
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    struct kz_json_error err;
    REQUIRE(parse(&a, text, &doc, &err) == 0);
    /* root + "Image" + its object + 6 keys + 4 scalar values + Thumbnail object with 3 pairs (7)
     * + IDs array with 4 numbers (5) = 1+1+1+6+4+7+5 = 25 */
    CHECK_INT(doc.nnodes, 25);
    const struct kz_json_node *root = kz_json_root(&doc);
    REQUIRE(root && root->type == KZ_JSON_OBJECT);
    CHECK_INT(root->len, 1);
    CHECK_INT(root->u.span, 25);
    const struct kz_json_node *img = kz_json_get(root, "Image");
    REQUIRE(img && img->type == KZ_JSON_OBJECT);
    CHECK_INT(img->len, 6);
    CHECK_INT(int_of(kz_json_get(img, "Width")), 800);
    CHECK_INT(int_of(kz_json_get(img, "Height")), 600);
    CHECK(kz_json_str_eq(kz_json_get(img, "Title"), "View from 15th Floor"));
    const struct kz_json_node *th = kz_json_get(img, "Thumbnail");
    CHECK(kz_json_str_eq(kz_json_get(th, "Url"), "http://www.example.com/image/481989943"));
    CHECK_INT(int_of(kz_json_get(th, "Height")), 125);
    CHECK_INT(int_of(kz_json_get(th, "Width")), 100);
    const struct kz_json_node *anim = kz_json_get(img, "Animated");
    REQUIRE(anim);
    CHECK_INT(anim->type, KZ_JSON_FALSE);
    const struct kz_json_node *ids = kz_json_get(img, "IDs");
    REQUIRE(ids && ids->type == KZ_JSON_ARRAY);
    CHECK_INT(ids->len, 4);
    CHECK_INT(int_of(kz_json_at(ids, 0)), 116);
    CHECK_INT(int_of(kz_json_at(ids, 3)), 38793);
    CHECK(kz_json_at(ids, 4) == NULL);
    /* Key order is kept: the members come back in the order written. */
    const char *order[] = {"Width", "Height", "Title", "Thumbnail", "Animated", "IDs"};
    const struct kz_json_node *k = kz_json_first(img);
    for (int i = 0; i < 6; i++, k = kz_json_next(k + 1))
        CHECK(kz_json_str_eq(k, order[i]));
    CHECK(k == root + 25);                    /* past the last member is the end of the document */
    CHECK(kz_json_get(img, "width") == NULL); /* keys are case-sensitive */
    kz_arena_free(&a);
}

KZ_TEST(json_rfc8259_array_example_and_scalars) {
    const char *text = "[\n  {\n     \"precision\": \"zip\",\n     \"Latitude\":  37.7668,\n"
                       "     \"Longitude\": -122.3959,\n     \"Address\":   \"\",\n"
                       "     \"City\":      \"SAN FRANCISCO\",\n     \"State\":     \"CA\",\n"
                       "     \"Zip\":       \"94107\",\n     \"Country\":   \"US\"\n  },\n"
                       "  {\n     \"precision\": \"zip\",\n     \"Latitude\":  37.371991,\n"
                       "     \"Longitude\": -122.026020,\n     \"Address\":   \"\",\n"
                       "     \"City\":      \"SUNNYVALE\",\n     \"State\":     \"CA\",\n"
                       "     \"Zip\":       \"94085\",\n     \"Country\":   \"US\"\n  }\n]";
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    REQUIRE(parse(&a, text, &doc, NULL) == 0);
    CHECK_INT(doc.nnodes, 1 + 2 * 17);
    const struct kz_json_node *root = kz_json_root(&doc);
    CHECK_INT(root->len, 2);
    const struct kz_json_node *second = kz_json_at(root, 1);
    REQUIRE(second);
    CHECK(kz_json_str_eq(kz_json_get(second, "City"), "SUNNYVALE"));
    CHECK(kz_json_str_eq(kz_json_get(second, "Address"), ""));
    double d;
    REQUIRE(kz_json_double(kz_json_get(second, "Longitude"), &d) == 0);
    CHECK(d == -122.026020);
    /* the number keeps its text, trailing zero included */
    CHECK(str_is(&(struct kz_json_node){.type = KZ_JSON_STRING,
                                        .len = kz_json_get(second, "Longitude")->len,
                                        .u.str = kz_json_get(second, "Longitude")->u.str},
                 "-122.026020", 11));
    CHECK(kz_json_int(kz_json_get(second, "Latitude"), &(int64_t){0}) == KZ_EFORMAT);

    /* RFC 8259 also shows three documents that are only a scalar. */
    REQUIRE(parse(&a, "\"Hello world!\"", &doc, NULL) == 0);
    CHECK(str_is(kz_json_root(&doc), "Hello world!", 12));
    REQUIRE(parse(&a, "42", &doc, NULL) == 0);
    CHECK_INT(int_of(kz_json_root(&doc)), 42);
    REQUIRE(parse(&a, " true ", &doc, NULL) == 0);
    CHECK_INT(kz_json_root(&doc)->type, KZ_JSON_TRUE);
    REQUIRE(parse(&a, "null", &doc, NULL) == 0);
    CHECK_INT(kz_json_root(&doc)->type, KZ_JSON_NULL);
    kz_arena_free(&a);
}

/* ---- strings ---- */

KZ_TEST(json_every_escape) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    /* \" \\ \/ \b \f \n \r \t, \u0041 = 'A', \u00e9 = U+00E9 = C3 A9, \u20AC = U+20AC = E2 82 AC,
     * \u0000 = a NUL byte, \ud83d\ude00 = 0x10000 + (0x3D << 10) + 0x200 = U+1F600 = F0 9F 98 80 */
    REQUIRE(parse(&a, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\u0000\\ud83d\\ude00\"",
                  &doc, NULL) == 0);
    const char want[] = "\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\0\xF0\x9F\x98\x80";
    const struct kz_json_node *s = kz_json_root(&doc);
    CHECK(str_is(s, want, sizeof want - 1));
    CHECK(s->flags & KZ_JSON_F_COPIED);
    CHECK(s->u.str[s->len] == 0); /* unescaped strings are NUL-terminated */
    /* Hex digits in either case. */
    REQUIRE(parse(&a, "\"\\u00C9\\u00c9\\uABcd\"", &doc, NULL) == 0);
    CHECK(str_is(kz_json_root(&doc), "\xC3\x89\xC3\x89\xEA\xAF\x8D", 7)); /* U+ABCD = EA AF 8D */
    kz_arena_free(&a);
}

KZ_TEST(json_unpaired_surrogates_become_replacement_char) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"\"\\ud800\"", "\xEF\xBF\xBD"},                    /* high at the end */
        {"\"\\ud800x\"", "\xEF\xBF\xBDx"},                  /* high then plain text */
        {"\"\\udc00\"", "\xEF\xBF\xBD"},                    /* low alone */
        {"\"\\udc00\\ud800\"", "\xEF\xBF\xBD\xEF\xBF\xBD"}, /* low then high: both unpaired */
        {"\"\\ud800\\n\"", "\xEF\xBF\xBD\n"},               /* high then another escape */
        {"\"\\ud800\\u0041\"", "\xEF\xBF\xBD"
                               "A"}, /* high then a non-surrogate \u */
        /* high, high, low: the first is unpaired, the second pairs: U+10000 = F0 90 80 80 */
        {"\"\\ud800\\ud800\\udc00\"", "\xEF\xBF\xBD\xF0\x90\x80\x80"},
        /* the last pair: U+10FFFF = F4 8F BF BF */
        {"\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct kz_json_error err;
        int rc = parse(&a, cases[i].json, &doc, &err);
        CHECK_MSG(rc == 0, "%s: %s", cases[i].json, err.msg);
        if (rc) continue;
        CHECK_MSG(str_is(kz_json_root(&doc), cases[i].want, strlen(cases[i].want)), "%s",
                  cases[i].json);
    }
    kz_arena_free(&a);
}

KZ_TEST(json_plain_strings_are_zero_copy_and_utf8_is_kept) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    /* Japanese text (valid UTF-8) and a long string past the 16-byte vector steps. */
    const char *text =
        "{\"k\":\"\xE6\x97\xA5\xE6\x9C\xAC\",\"long\":\"0123456789abcdefghijklmnop\"}";
    REQUIRE(parse(&a, text, &doc, NULL) == 0);
    const struct kz_json_node *k = kz_json_get(kz_json_root(&doc), "k");
    CHECK(str_is(k, "\xE6\x97\xA5\xE6\x9C\xAC", 6));
    CHECK(k->u.str == text + 6); /* points into the input */
    CHECK(!(k->flags & KZ_JSON_F_COPIED));
    const char *dup = kz_json_strdup(&a, k);
    CHECK_STR(dup, "\xE6\x97\xA5\xE6\x9C\xAC");
    CHECK(str_is(kz_json_get(kz_json_root(&doc), "long"), "0123456789abcdefghijklmnop", 26));
    /* the zero-copy key compares without a copy */
    CHECK(kz_json_getn(kz_json_root(&doc), "longer", 4) != NULL);
    /* strdup copies even an unescaped string, so the copy outlives the document's arena */
    struct kz_arena keep;
    kz_arena_init(&keep, 0, 0);
    struct kz_json_doc d2;
    REQUIRE(parse(&a, "[\"a\\nb\"]", &d2, NULL) == 0);
    const char *kept = kz_json_strdup(&keep, kz_json_at(kz_json_root(&d2), 0));
    CHECK(kept != kz_json_at(kz_json_root(&d2), 0)->u.str);
    kz_arena_reset(&a);
    REQUIRE(parse(&a, "[\"zzzz\\nzzzz\"]", &d2, NULL) == 0); /* reuses the same memory */
    CHECK_STR(kept, "a\nb");
    kz_arena_free(&keep);
    kz_arena_free(&a);
}

/* ---- numbers ---- */

KZ_TEST(json_numbers_grammar_and_conversion) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    const char *valid[] = {"0",
                           "-0",
                           "1",
                           "-1",
                           "10",
                           "0.5",
                           "-0.0",
                           "1e5",
                           "1E+5",
                           "1e-5",
                           "0e0",
                           "1.5E3",
                           "123456789012345678901234567890",
                           "1e400"};
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        int rc = parse(&a, valid[i], &doc, NULL);
        CHECK_MSG(rc == 0, "%s rejected", valid[i]);
        if (rc) continue;
        const struct kz_json_node *n = kz_json_root(&doc);
        CHECK_INT(n->type, KZ_JSON_NUMBER);
        CHECK_INT(n->len, strlen(valid[i]));
    }
    int64_t v;
    REQUIRE(parse(&a,
                  "[9223372036854775807,-9223372036854775808,9223372036854775808,"
                  "-9223372036854775809,-0,1.0,1e2,12]",
                  &doc, NULL) == 0);
    const struct kz_json_node *arr = kz_json_root(&doc);
    CHECK(kz_json_int(kz_json_at(arr, 0), &v) == 0 && v == INT64_MAX);
    CHECK(kz_json_int(kz_json_at(arr, 1), &v) == 0 && v == INT64_MIN);
    CHECK(kz_json_int(kz_json_at(arr, 2), &v) == KZ_EFORMAT); /* INT64_MAX + 1 */
    CHECK(kz_json_int(kz_json_at(arr, 3), &v) == KZ_EFORMAT); /* INT64_MIN - 1 */
    CHECK(kz_json_int(kz_json_at(arr, 4), &v) == 0 && v == 0);
    CHECK(kz_json_int(kz_json_at(arr, 5), &v) == KZ_EFORMAT); /* has a fraction */
    CHECK(kz_json_int(kz_json_at(arr, 6), &v) == KZ_EFORMAT); /* has an exponent */
    CHECK(kz_json_at(arr, 7)->flags & KZ_JSON_F_INTEGER);
    CHECK(!(kz_json_at(arr, 6)->flags & KZ_JSON_F_INTEGER));
    double d;
    CHECK(kz_json_double(kz_json_at(arr, 6), &d) == 0 && d == 100.0);
    CHECK(kz_json_double(kz_json_at(arr, 1), &d) == 0 && d == -9223372036854775808.0);
    REQUIRE(parse(&a, "[1e400,-1e400,2.5e-3,0.1]", &doc, NULL) == 0);
    arr = kz_json_root(&doc);
    CHECK(kz_json_double(kz_json_at(arr, 0), &d) == 0 && isinf(d) && d > 0);
    CHECK(kz_json_double(kz_json_at(arr, 1), &d) == 0 && isinf(d) && d < 0);
    CHECK(kz_json_double(kz_json_at(arr, 2), &d) == 0 && d == 0.0025);
    CHECK(kz_json_double(kz_json_at(arr, 3), &d) == 0 && d == 0.1);
    /* A number longer than the converter's stack buffer: 70 digits of 1 then ".5". */
    char big[80];
    memset(big, '1', 70);
    memcpy(big + 70, ".5", 3);
    REQUIRE(parse(&a, big, &doc, NULL) == 0);
    CHECK(kz_json_double(kz_json_root(&doc), &d) == 0 && d > 1.1e69 && d < 1.2e69);
    /* Conversions refuse what is not a number. */
    REQUIRE(parse(&a, "\"12\"", &doc, NULL) == 0);
    CHECK(kz_json_int(kz_json_root(&doc), &v) == KZ_EFORMAT);
    CHECK(kz_json_double(kz_json_root(&doc), &d) == KZ_EFORMAT);
    CHECK(kz_json_int(NULL, &v) == KZ_EFORMAT);
    kz_arena_free(&a);
}

/* ---- errors ---- */

struct error_case {
    const char *json;
    int kind;
    size_t offset; /* where the error must point */
};

KZ_TEST(json_every_error_class) {
    static const struct error_case cases[] = {
        {"", KZ_JSON_E_EMPTY, 0},
        {" \n\t ", KZ_JSON_E_EMPTY, 4},
        {"[1,2", KZ_JSON_E_EOF, 4},
        {"{\"a\":", KZ_JSON_E_EOF, 5},
        {"{\"a\"", KZ_JSON_E_EOF, 4},
        {"\"abc", KZ_JSON_E_EOF, 4},
        {"\"ab\\", KZ_JSON_E_EOF, 4},
        {"[", KZ_JSON_E_EOF, 1},
        {"{", KZ_JSON_E_EOF, 1},
        {"tru", KZ_JSON_E_EOF, 3},
        {"-", KZ_JSON_E_EOF, 1},
        {"@", KZ_JSON_E_CHAR, 0},
        {"[1 2]", KZ_JSON_E_CHAR, 3},
        {"{\"a\":1 \"b\":2}", KZ_JSON_E_CHAR, 7},
        {"[1}", KZ_JSON_E_CHAR, 2},
        {"{\"a\":1]", KZ_JSON_E_CHAR, 6},
        {"[\x80]", KZ_JSON_E_CHAR, 1},    /* non-ASCII outside a string */
        {"\xEF\xBB", KZ_JSON_E_CHAR, 0},  /* half a byte order mark */
        {"[\"a\"\v]", KZ_JSON_E_CHAR, 4}, /* \v is not JSON whitespace */
        {"{\"a\":}", KZ_JSON_E_CHAR, 5},
        {"1 2", KZ_JSON_E_TRAILING, 2},
        {"{} x", KZ_JSON_E_TRAILING, 3},
        {"[]]", KZ_JSON_E_TRAILING, 2},
        {"\"a\"\"b\"", KZ_JSON_E_TRAILING, 3},
        {"[1,]", KZ_JSON_E_COMMA, 3},
        {"[1, ]", KZ_JSON_E_COMMA, 4},
        {"{\"a\":1,}", KZ_JSON_E_COMMA, 7},
        {"[,1]", KZ_JSON_E_CHAR, 1},
        {"truex", KZ_JSON_E_LITERAL, 0},
        {"nul", KZ_JSON_E_EOF, 3},
        {"nulL", KZ_JSON_E_LITERAL, 0},
        {"True", KZ_JSON_E_CHAR, 0},
        {"[fals]", KZ_JSON_E_LITERAL, 1},
        {"01", KZ_JSON_E_NUMBER, 1},
        {"-01", KZ_JSON_E_NUMBER, 2},
        {"1.", KZ_JSON_E_NUMBER, 2},
        {"[1.]", KZ_JSON_E_NUMBER, 3},
        {".5", KZ_JSON_E_NUMBER, 0},
        {"+1", KZ_JSON_E_NUMBER, 0},
        {"-a", KZ_JSON_E_NUMBER, 1},
        {"1e", KZ_JSON_E_NUMBER, 2},
        {"1e+", KZ_JSON_E_NUMBER, 3},
        {"1.5.2", KZ_JSON_E_NUMBER, 3},
        {"0x10", KZ_JSON_E_NUMBER, 1},
        {"[1e5e]", KZ_JSON_E_NUMBER, 4},
        {"\"\\x41\"", KZ_JSON_E_ESCAPE, 1},
        {"\"\\'\"", KZ_JSON_E_ESCAPE, 1},
        {"\"\\U0041\"", KZ_JSON_E_ESCAPE, 1},
        {"\"\\u12\"", KZ_JSON_E_ESCAPE, 1},
        {"\"\\u12g4\"", KZ_JSON_E_ESCAPE, 1},
        {"\"ab\\u\"", KZ_JSON_E_ESCAPE, 3},
        {"\"a\tb\"", KZ_JSON_E_CONTROL, 2},
        {"\"a\nb\"", KZ_JSON_E_CONTROL, 2},
        {"\"\x1f\"", KZ_JSON_E_CONTROL, 1},
        {"\"0123456789abcdef\x01\"", KZ_JSON_E_CONTROL, 17}, /* found by the vector scan */
        {"\"\x80\"", KZ_JSON_E_UTF8, 1},                     /* lone continuation byte */
        {"\"\xC3\"", KZ_JSON_E_UTF8, 1},                     /* truncated sequence */
        {"\"\xC0\xAF\"", KZ_JSON_E_UTF8, 1},                 /* overlong '/' */
        {"\"\xED\xA0\x80\"", KZ_JSON_E_UTF8, 1},             /* a surrogate encoded in UTF-8 */
        {"\"\xF4\x90\x80\x80\"", KZ_JSON_E_UTF8, 1},         /* above U+10FFFF */
        {"\"ok \xFF\"", KZ_JSON_E_UTF8, 4},
        {"{1:2}", KZ_JSON_E_KEY, 1},
        {"{a:2}", KZ_JSON_E_KEY, 1},
        {"{\"a\" 2}", KZ_JSON_E_KEY, 5},
        {"{\"a\",2}", KZ_JSON_E_KEY, 4},
        {"NaN", KZ_JSON_E_CHAR, 0},
        {"-Infinity", KZ_JSON_E_NUMBER, 1},
    };
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct kz_json_doc doc;
        struct kz_json_error err;
        int rc = parse(&a, cases[i].json, &doc, &err);
        CHECK_MSG(rc == KZ_EFORMAT, "case %zu '%s': rc %d", i, cases[i].json, rc);
        CHECK_MSG(err.kind == cases[i].kind, "case %zu '%s': kind %d, want %d (%s)", i,
                  cases[i].json, err.kind, cases[i].kind, err.msg);
        CHECK_MSG(err.offset == cases[i].offset, "case %zu '%s': offset %zu, want %zu (%s)", i,
                  cases[i].json, err.offset, cases[i].offset, err.msg);
        CHECK_MSG(err.msg[0] != 0, "case %zu: no message", i);
        CHECK(doc.nnodes == 0 && doc.nodes == NULL);
    }
    kz_arena_free(&a);
}

KZ_TEST(json_error_position_is_line_and_column) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    struct kz_json_error err;
    /* the comma after "2" is trailing: the error points at the ']' that follows it, alone on
     * line 4 (column 1); offsets: '[' 0, LF 1, "    1," 2-7, LF 8, "    2," 9-14, LF 15, ']' 16 */
    REQUIRE(parse(&a, "[\n    1,\n    2,\n]", &doc, &err) == KZ_EFORMAT);
    CHECK_INT(err.kind, KZ_JSON_E_COMMA);
    CHECK_INT(err.line, 4);
    CHECK_INT(err.column, 1);
    CHECK_INT(err.offset, 16);
    CHECK(strstr(err.msg, "trailing comma") != NULL);
    REQUIRE(parse(&a, "{\"a\": 1,\n \"b\": tru }", &doc, &err) == KZ_EFORMAT);
    CHECK_INT(err.line, 2);
    CHECK_INT(err.column, 7);
    kz_arena_free(&a);
}

KZ_TEST(json_byte_order_mark_is_skipped_only_at_the_start) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    REQUIRE(parse(&a, "\xEF\xBB\xBF{\"a\":1}", &doc, NULL) == 0);
    CHECK_INT(int_of(kz_json_get(kz_json_root(&doc), "a")), 1);
    CHECK(parse(&a, " \xEF\xBB\xBF{}", &doc, NULL) == KZ_EFORMAT);
    CHECK(parse(&a, "\xEF\xBB\xBF", &doc, NULL) == KZ_EFORMAT);
    kz_arena_free(&a);
}

/* ---- limits ---- */

KZ_TEST(json_limits_depth_nodes_size) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    struct kz_json_error err;
    struct kz_json_limits lim = {.max_depth = 3};
    CHECK(kz_json_parse("[[[1]]]", 7, &a, &lim, &doc, &err) == 0);
    CHECK(kz_json_parse("[[[[1]]]]", 9, &a, &lim, &doc, &err) == KZ_ELIMIT);
    CHECK_INT(err.kind, KZ_JSON_E_DEPTH);
    CHECK_INT(err.offset, 3);
    CHECK(kz_json_parse("{\"a\":{\"b\":[{}]}}", 16, &a, &lim, &doc, &err) == KZ_ELIMIT);
    CHECK_INT(err.kind, KZ_JSON_E_DEPTH);
    /* Default depth: 64 arrays deep parse, 65 do not. */
    char deep[200];
    for (int d = 64; d <= 65; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        int rc = kz_json_parse(deep, (size_t)(2 * d), &a, NULL, &doc, &err);
        CHECK_INT(rc, d == 64 ? 0 : KZ_ELIMIT);
    }
    /* A hostile depth far past the limit stops at the limit, with no recursion. */
    size_t n = 1 << 20;
    char *huge = kz_malloc(n);
    REQUIRE(huge);
    memset(huge, '[', n);
    CHECK(kz_json_parse(huge, n, &a, NULL, &doc, &err) == KZ_ELIMIT);
    CHECK_INT(err.kind, KZ_JSON_E_DEPTH);
    kz_free(huge);

    /* Nodes: [1,2,3] is 4 nodes; {"a":1} is 3 (the key counts). */
    lim = (struct kz_json_limits){.max_nodes = 4};
    CHECK(kz_json_parse("[1,2,3]", 7, &a, &lim, &doc, &err) == 0);
    CHECK_INT(doc.nnodes, 4);
    CHECK(kz_json_parse("[1,2,3,4]", 9, &a, &lim, &doc, &err) == KZ_ELIMIT);
    CHECK_INT(err.kind, KZ_JSON_E_NODES);
    lim.max_nodes = 2;
    CHECK(kz_json_parse("{\"a\":1}", 7, &a, &lim, &doc, &err) == KZ_ELIMIT);
    /* Many nodes under the default limit: past the scratch array's first growths. */
    struct kz_buf b;
    kz_buf_init(&b, 0);
    kz_buf_putc(&b, '[');
    for (int i = 0; i < 100000; i++)
        kz_buf_puts(&b, i ? ",7" : "7");
    kz_buf_putc(&b, ']');
    REQUIRE(!b.failed);
    REQUIRE(kz_json_parse(b.data, b.len, &a, NULL, &doc, &err) == 0);
    CHECK_INT(doc.nnodes, 100001);
    CHECK_INT(kz_json_root(&doc)->len, 100000);
    CHECK_INT(int_of(kz_json_at(kz_json_root(&doc), 99999)), 7);
    kz_buf_free(&b);

    /* Size: the limit is on the whole document, checked before reading it. */
    lim = (struct kz_json_limits){.max_input = 8};
    CHECK(kz_json_parse("[1,2,33]", 8, &a, &lim, &doc, &err) == 0);
    CHECK(kz_json_parse("[1,2,333]", 9, &a, &lim, &doc, &err) == KZ_ELIMIT);
    CHECK_INT(err.kind, KZ_JSON_E_SIZE);
    CHECK_INT(err.offset, 8);
    kz_arena_free(&a);
}

KZ_TEST(json_arena_cap_and_failed_allocations) {
    /* A capped arena: 1000 plain numbers make 16 KB of nodes, which do not fit in 4 KB (the copy
     * of the DOM fails); 1000 escaped strings fail earlier, while unescaping. */
    struct kz_arena a;
    kz_arena_init(&a, 1024, 4096);
    {
        struct kz_buf nums;
        kz_buf_init(&nums, 0);
        kz_buf_putc(&nums, '[');
        for (int i = 0; i < 1000; i++)
            kz_buf_puts(&nums, i ? ",1" : "1");
        kz_buf_putc(&nums, ']');
        struct kz_json_doc d;
        struct kz_json_error e;
        CHECK(kz_json_parse(nums.data, nums.len, &a, NULL, &d, &e) == KZ_ENOMEM);
        CHECK_INT(e.kind, KZ_JSON_E_NOMEM);
        kz_buf_free(&nums);
        kz_arena_reset(&a);
    }
    struct kz_buf b;
    kz_buf_init(&b, 0);
    kz_buf_putc(&b, '[');
    for (int i = 0; i < 1000; i++)
        kz_buf_puts(&b, i ? ",\"x\\n\"" : "\"x\\n\"");
    kz_buf_putc(&b, ']');
    struct kz_json_doc doc;
    struct kz_json_error err;
    CHECK(kz_json_parse(b.data, b.len, &a, NULL, &doc, &err) == KZ_ENOMEM);
    CHECK_INT(err.kind, KZ_JSON_E_NOMEM);
    kz_arena_free(&a);
    /* Every allocation failing in turn: a clean KZ_ENOMEM each time, never a crash or a leak. */
    size_t base = kz_alloc_in_use();
    int ok = 0, nomem = 0;
    for (long k = 0; k < 80; k++) {
        kz_arena_init(&a, 256, 0);
        kz_alloc_fail_after(k);
        int rc = kz_json_parse(b.data, b.len, &a, NULL, &doc, &err);
        kz_alloc_fail_never();
        if (rc == 0) {
            ok++;
            CHECK_INT(kz_json_root(&doc)->len, 1000);
        } else {
            CHECK_INT(rc, KZ_ENOMEM);
            nomem++;
        }
        kz_arena_free(&a);
        CHECK_INT(kz_alloc_in_use(), base);
    }
    CHECK(ok > 0 && nomem > 0);
    kz_buf_free(&b);
}

/* ---- walking and writing ---- */

KZ_TEST(json_walk_duplicates_and_write_back) {
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_doc doc;
    const char *text = " { \"a\" : [ 1 , { \"b\" : null } , [ ] ] , \"a\" : 2 , \"c\" : { } } ";
    REQUIRE(parse(&a, text, &doc, NULL) == 0);
    const struct kz_json_node *root = kz_json_root(&doc);
    CHECK_INT(root->len, 3); /* duplicates are kept */
    const struct kz_json_node *first = kz_json_get(root, "a");
    REQUIRE(first && first->type == KZ_JSON_ARRAY); /* get returns the first */
    CHECK_INT(first->len, 3);
    CHECK_INT(first->u.span, 6); /* array, 1, {, "b", null, [] */
    CHECK_INT(kz_json_at(first, 2)->type, KZ_JSON_ARRAY);
    CHECK_INT(kz_json_at(first, 2)->len, 0);
    CHECK(kz_json_first(kz_json_at(first, 2)) == NULL);
    CHECK_INT(kz_json_get(kz_json_at(first, 1), "b")->type, KZ_JSON_NULL);
    CHECK(kz_json_get(first, "b") == NULL); /* not an object */
    CHECK(kz_json_get(NULL, "b") == NULL);
    CHECK_INT(kz_json_get(root, "c")->type, KZ_JSON_OBJECT);
    struct kz_buf out;
    kz_buf_init(&out, 0);
    kz_json_write(&out, root);
    CHECK_STR(out.data, "{\"a\":[1,{\"b\":null},[]],\"a\":2,\"c\":{}}");
    kz_buf_free(&out);
    kz_arena_free(&a);
}

/* ---- JSON lines ---- */

struct lines_log {
    struct kz_buf out; /* "LINE:compact-json\n" and "LINE!kind@column\n" */
    int stop_at;       /* line number whose callback returns 7, or 0 */
};

static int log_doc(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct lines_log *l = ctx;
    kz_buf_printf(&l->out, "%llu:", (unsigned long long)line);
    kz_json_write(&l->out, kz_json_root(doc));
    kz_buf_putc(&l->out, '\n');
    return (int)line == l->stop_at ? 7 : 0;
}

static void log_bad(void *ctx, uint64_t line, const struct kz_json_error *err) {
    struct lines_log *l = ctx;
    kz_buf_printf(&l->out, "%llu!%d@%u,%llu\n", (unsigned long long)line, err->kind, err->column,
                  (unsigned long long)err->line);
}

/* Feeds text in pieces of `step` bytes (0: whole) and returns the log. */
static char *run_lines(const char *text, size_t step, const struct kz_json_limits *lim,
                       struct kz_json_lines *stats) {
    struct lines_log log = {0};
    kz_buf_init(&log.out, 0);
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_lines jl;
    if (kz_json_lines_init(&jl, lim, &a, log_doc, log_bad, &log)) return NULL;
    size_t n = strlen(text);
    if (!step) step = n ? n : 1;
    for (size_t i = 0; i < n; i += step)
        kz_json_lines_feed(&jl, text + i, i + step > n ? n - i : step);
    kz_json_lines_finish(&jl);
    if (stats) *stats = jl;
    kz_json_lines_free(&jl);
    kz_arena_free(&a);
    return log.out.data ? log.out.data : kz_strdup("");
}

KZ_TEST(json_lines_split_report_and_go_on) {
    /* line 1 ok; 2 blank; 3 trailing comma (reported at the ] after it, column 6); 4 ok with
     * CRLF; 5 whitespace; 6 bad escape at column 2; 7 ok without a final newline */
    const char *text = "{\"a\":1}\n\n[1,2,]\n{\"b\":\"x y\"}\r\n  \t\n\"\\q\"\n[true]";
    const char *want = "1:{\"a\":1}\n"
                       "3!5@6,3\n"
                       "4:{\"b\":\"x y\"}\n"
                       "6!8@2,6\n"
                       "7:[true]\n";
    size_t steps[] = {0, 1, 2, 3, 5, 7, 64};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        struct kz_json_lines st;
        char *got = run_lines(text, steps[i], NULL, &st);
        REQUIRE(got);
        CHECK_MSG(!strcmp(got, want), "step %zu: got\n%s", steps[i], got);
        CHECK_INT(st.line, 7);
        CHECK_INT(st.docs, 3);
        CHECK_INT(st.bad, 2);
        CHECK_INT(st.blank, 2);
        kz_free(got);
    }
}

KZ_TEST(json_lines_overlong_lines_are_reported_not_kept) {
    struct kz_json_limits lim = {.max_input = 10};
    /* line 1: 10 bytes (fits); line 2: 11 bytes (too long); line 3: 10 bytes + CR (fits);
     * line 4: 30 bytes; line 5: [5] */
    const char *text = "[1,2,3,44]\n[1,2,3,444]\n[1,2,3,44]\r\n[1111111111,2222222222,33333]\n[5]";
    const char *want = "1:[1,2,3,44]\n2!12@11,2\n3:[1,2,3,44]\n4!12@11,4\n5:[5]\n";
    size_t steps[] = {0, 1, 4, 13};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char *got = run_lines(text, steps[i], &lim, NULL);
        REQUIRE(got);
        CHECK_MSG(!strcmp(got, want), "step %zu: got\n%s", steps[i], got);
        kz_free(got);
    }
    /* An overlong last line with no newline is still reported. */
    char *got = run_lines("[1]\n[1,2,3,4,5,6,7,8,9]", 3, &lim, NULL);
    CHECK_STR(got, "1:[1]\n2!12@11,2\n");
    kz_free(got);
}

struct keep_ctx {
    struct kz_json_doc docs[4];
    int n;
};

static int keep_doc(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct keep_ctx *kc = ctx;
    if (kc->n < 4) kc->docs[kc->n++] = *doc;
    return 0;
}

KZ_TEST(json_lines_callback_stops_and_keep_mode) {
    struct lines_log log = {.stop_at = 2};
    kz_buf_init(&log.out, 0);
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_lines jl;
    REQUIRE(kz_json_lines_init(&jl, NULL, &a, log_doc, log_bad, &log) == 0);
    const char *text = "1\n2\n3\n";
    CHECK_INT(kz_json_lines_feed(&jl, text, strlen(text)), 7);
    CHECK_STR(log.out.data, "1:1\n2:2\n");
    kz_json_lines_free(&jl);
    kz_buf_free(&log.out);

    /* keep: documents stay valid after the call, even one assembled from two pieces, and
     * after the splitter's own buffer has been reused for a later split line. */
    struct keep_ctx kc = {0};
    REQUIRE(kz_json_lines_init(&jl, NULL, &a, keep_doc, NULL, &kc) == 0);
    jl.keep = 1;
    char piece1[] = "[\"abc\"]\n[\"de", piece2[] = "f\"]\n[\"xy", piece3[] = "z\"]\n";
    REQUIRE(kz_json_lines_feed(&jl, piece1, strlen(piece1)) == 0);
    REQUIRE(kz_json_lines_feed(&jl, piece2, strlen(piece2)) == 0);
    REQUIRE(kz_json_lines_feed(&jl, piece3, strlen(piece3)) == 0);
    REQUIRE(kz_json_lines_finish(&jl) == 0);
    REQUIRE(kc.n == 3);
    CHECK(str_is(kz_json_at(kz_json_root(&kc.docs[0]), 0), "abc", 3));
    CHECK(str_is(kz_json_at(kz_json_root(&kc.docs[1]), 0), "def", 3));
    CHECK(str_is(kz_json_at(kz_json_root(&kc.docs[2]), 0), "xyz", 3));
    kz_json_lines_free(&jl);
    kz_arena_free(&a);
}

/* ---- differential test against Python ---- */

/* The canonical form both sides print: objects as ordered pairs (duplicates kept), integers as
 * written but "-0" as "0" (Python reads it as int 0), other numbers as "%.17g" of the nearest
 * double, strings with printable ASCII as is and everything else as \uXXXX (UTF-16 units,
 * lower-case hex; surrogate code points as U+FFFD). */
static void canon(struct kz_buf *o, const struct kz_json_node *n) {
    switch (n->type) {
    case KZ_JSON_NULL:
        kz_buf_puts(o, "null");
        return;
    case KZ_JSON_FALSE:
        kz_buf_puts(o, "false");
        return;
    case KZ_JSON_TRUE:
        kz_buf_puts(o, "true");
        return;
    case KZ_JSON_NUMBER:
        if (n->flags & KZ_JSON_F_INTEGER) {
            const char *p = n->u.str;
            size_t len = n->len;
            if (len == 2 && !memcmp(p, "-0", 2)) p++, len--;
            kz_buf_append(o, p, len);
        } else {
            double d = 0;
            kz_json_double(n, &d);
            kz_buf_printf(o, "%.17g", d);
        }
        return;
    case KZ_JSON_STRING: {
        kz_buf_putc(o, '"');
        const unsigned char *p = (const unsigned char *)n->u.str, *end = p + n->len;
        while (p < end) {
            uint32_t cp;
            unsigned char c = *p;
            if (c < 0x80)
                cp = c, p += 1;
            else if (c < 0xE0)
                cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F), p += 2;
            else if (c < 0xF0)
                cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F),
                p += 3;
            else
                cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                     (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F),
                p += 4;
            if (cp >= 0x20 && cp < 0x7F && cp != '"' && cp != '\\')
                kz_buf_putc(o, (char)cp);
            else if (cp < 0x10000)
                kz_buf_printf(o, "\\u%04x", cp);
            else
                kz_buf_printf(o, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10),
                              0xDC00 + ((cp - 0x10000) & 0x3FF));
        }
        kz_buf_putc(o, '"');
        return;
    }
    default:
        break;
    }
    int obj = n->type == KZ_JSON_OBJECT;
    kz_buf_putc(o, obj ? '{' : '[');
    const struct kz_json_node *c = n + 1;
    for (uint32_t i = 0; i < n->len; i++) {
        if (i) kz_buf_putc(o, ',');
        if (obj) {
            canon(o, c);
            kz_buf_putc(o, ':');
            c++;
        }
        canon(o, c);
        c = kz_json_next(c);
    }
    kz_buf_putc(o, obj ? '}' : ']');
}

/* Reads each input line (hex-encoded document) and prints "OK <canonical>" or "ERR". */
static const char python_canon[] =
    "import sys, json\n"
    "if hasattr(sys, 'set_int_max_str_digits'): sys.set_int_max_str_digits(0)\n"
    "class Obj(list): pass\n"
    "def const(x): raise ValueError(x)\n"
    "def esc(c):\n"
    "    o = ord(c)\n"
    "    if 0xD800 <= o <= 0xDFFF: o = 0xFFFD\n"
    "    if 0x20 <= o < 0x7F and c not in '\"\\\\': return c\n"
    "    if o < 0x10000: return '\\\\u%04x' % o\n"
    "    o -= 0x10000\n"
    "    return '\\\\u%04x\\\\u%04x' % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF))\n"
    "def canon(v):\n"
    "    if v is None: return 'null'\n"
    "    if v is True: return 'true'\n"
    "    if v is False: return 'false'\n"
    "    if isinstance(v, int): return str(v)\n"
    "    if isinstance(v, float): return '%.17g' % v\n"
    "    if isinstance(v, str): return '\"' + ''.join(esc(c) for c in v) + '\"'\n"
    "    if isinstance(v, Obj): return '{' + ','.join(canon(k) + ':' + canon(x) for k, x in v) + "
    "'}'\n"
    "    return '[' + ','.join(canon(x) for x in v) + ']'\n"
    "out = []\n"
    "for line in open(sys.argv[1]):\n"
    "    data = bytes.fromhex(line.strip())\n"
    "    try:\n"
    "        s = data.decode('utf-8')\n"
    "        if s.startswith('\\ufeff'): s = s[1:]\n"
    "        out.append('OK ' + canon(json.loads(s, parse_constant=const, "
    "object_pairs_hook=Obj)))\n"
    "    except (ValueError, RecursionError):\n"
    "        out.append('ERR')\n"
    "sys.stdout.write('\\n'.join(out) + '\\n')\n";

static int have_python(void) {
    return system("python3 -c 'import json' >/dev/null 2>&1") == 0;
}

/* Documents chosen to reach every branch of both grammars; mutated below. */
static const char *const tricky[] = {
    "{}",
    "[]",
    "0",
    "-0",
    "-0.0",
    "1E400",
    "-1e-400",
    "123456789012345678901234567890",
    "0.1",
    "1.7976931348623157e308",
    "5e-324",
    "2.2250738585072014e-308",
    "[1e5,1E+5,1e-5]",
    "\"\"",
    "\" \"",
    "\"\\u0000\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\ud800\\ud800\\udc00\"",
    "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
    "\"\xE6\x97\xA5\xE6\x9C\xAC\"",
    "\"\xF0\x9F\x98\x80\"",
    "\"\xEF\xBF\xBF\"",
    "\"\xC2\x80\xDF\xBF\"",
    "\"\x7F\"",
    "{\"a\":1,\"a\":2}",
    "{\"\":\"\"}",
    "[[[[[]]]]]",
    "[{\"a\":[{\"b\":{}}]}]",
    " \t\r\n[ 1 , 2 ]\n ",
    "[true,false,null]",
    "{\"C:\\\\Windows\\\\System32\":\"x\"}",
    "{\"EventID\":4688,\"CommandLine\":\"cmd.exe /c \\\"whoami\\\"\",\"Level\":0.5}",
    "\"0123456789abcdef0123456789abcdef\\u00e9\"",
    "[1,]",
    "{\"a\":1,}",
    "[01]",
    "[.5]",
    "[1.]",
    "\"\\x\"",
    "\"\\u12\"",
    "\"\x01\"",
    "\"\x80\"",
    "\"\xED\xA0\x80\"",
    "NaN",
    "Infinity",
    "[-Infinity]",
    "tru",
    "nulls",
    "[1 2]",
    "{\"a\" 1}",
    "\xEF\xBB\xBF[1]",
    "[\"a\",{\"b\":-12.5e+3}]",
    "\"\\u00E9\\u00e9\"",
    "[-]",
    "[1e]",
    "[\"\\ud834\\udd1e\"]",
};

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

KZ_TEST(json_differential_python) {
    if (!have_python()) {
        kz_test_skip("python3 not available");
        return;
    }
    /* The documents: the tricky set, and 3000 mutations of it (a byte replaced by one of the
     * grammar's interesting bytes, deleted, inserted, or a slice doubled), all deterministic. */
    static const unsigned char interesting[] = {
        '"',  '\\', ',',  ']',  '}',  '[',  '{',  ':',  'u',  '0',  '1',  '-',  '+', 'e', '.', ' ',
        '\n', 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF, 'n', 't', 'd', 'D'};
    size_t ntricky = sizeof tricky / sizeof *tricky, total = ntricky + 3000;
    char **docs = kz_calloc(total, sizeof *docs);
    size_t *lens = kz_calloc(total, sizeof *lens);
    REQUIRE(docs && lens);
    uint32_t seed = 20240601;
    for (size_t i = 0; i < total; i++) {
        const char *src = tricky[i < ntricky ? i : lcg(&seed) % ntricky];
        size_t n = strlen(src);
        char *d = kz_malloc(2 * n + 8);
        REQUIRE(d);
        memcpy(d, src, n);
        if (i >= ntricky) {
            int edits = 1 + (int)(lcg(&seed) % 3);
            for (int e = 0; e < edits; e++) {
                uint32_t op = lcg(&seed) % 4, pos = n ? lcg(&seed) % (uint32_t)n : 0;
                unsigned char c = interesting[lcg(&seed) % sizeof interesting];
                if (op == 0 && n) {
                    d[pos] = (char)c;
                } else if (op == 1 && n > 1) {
                    memmove(d + pos, d + pos + 1, n - pos - 1);
                    n--;
                } else if (op == 2 && n < 2 * strlen(src) + 4) {
                    memmove(d + pos + 1, d + pos, n - pos);
                    d[pos] = (char)c;
                    n++;
                } else if (op == 3 && n) {
                    size_t len = 1 + lcg(&seed) % 4;
                    if (pos + len > n) len = n - pos;
                    if (n + len <= 2 * strlen(src) + 6) {
                        memmove(d + pos + len, d + pos, n - pos);
                        n += len;
                    }
                }
            }
        }
        docs[i] = d;
        lens[i] = n;
    }
    char path[] = "/tmp/kz_json_diff_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    REQUIRE(f);
    for (size_t i = 0; i < total; i++) {
        for (size_t k = 0; k < lens[i]; k++)
            fprintf(f, "%02x", (unsigned char)docs[i][k]);
        fputc('\n', f);
    }
    fclose(f);
    char script_path[] = "/tmp/kz_json_diff_py_XXXXXX";
    int sfd = mkstemp(script_path);
    REQUIRE(sfd >= 0);
    REQUIRE(write(sfd, python_canon, sizeof python_canon - 1) ==
            (ssize_t)(sizeof python_canon - 1));
    close(sfd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "python3 %s %s", script_path, path);
    FILE *py = popen(cmd, "r");
    REQUIRE(py);
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_buf mine, theirs;
    kz_buf_init(&mine, 0);
    kz_buf_init(&theirs, 0);
    size_t agree = 0, accepted = 0, shown = 0;
    for (size_t i = 0; i < total; i++) {
        /* one line of Python's output */
        kz_buf_clear(&theirs);
        int c;
        while ((c = fgetc(py)) != EOF && c != '\n')
            kz_buf_putc(&theirs, (char)c);
        if (c == EOF && theirs.len == 0) {
            CHECK_MSG(0, "python stopped after %zu documents", i);
            break;
        }
        kz_buf_clear(&mine);
        struct kz_json_doc doc;
        struct kz_json_error err;
        if (kz_json_parse(docs[i], lens[i], &a, NULL, &doc, &err) == 0) {
            kz_buf_puts(&mine, "OK ");
            canon(&mine, kz_json_root(&doc));
            accepted++;
        } else {
            kz_buf_puts(&mine, "ERR");
        }
        if (mine.len == theirs.len && !memcmp(mine.data, theirs.data, mine.len)) {
            agree++;
        } else if (shown++ < 5) {
            struct kz_buf hex;
            kz_buf_init(&hex, 0);
            for (size_t k = 0; k < lens[i]; k++)
                kz_buf_printf(&hex, "%02x", (unsigned char)docs[i][k]);
            CHECK_MSG(0, "document %zu (hex %s): kizuki '%s' (%s), python '%s'", i, hex.data,
                      mine.data, err.msg, theirs.data);
            kz_buf_free(&hex);
        }
        kz_arena_reset(&a);
    }
    CHECK_INT(agree, total);
    CHECK(accepted > total / 10); /* the mutations leave a good share of valid documents */
    pclose(py);
    unlink(path);
    unlink(script_path);
    kz_buf_free(&mine);
    kz_buf_free(&theirs);
    kz_arena_free(&a);
    for (size_t i = 0; i < total; i++)
        kz_free(docs[i]);
    kz_free(docs);
    kz_free(lens);
}

/* Real JSON lines from the shared corpus (OTRF Security-Datasets, Windows events in several
 * shippers' layouts, CRLF line ends): Python extracts a few files and prints each line's canonical
 * form; kizuki reads the same bytes with the JSON-lines splitter and must agree on every line. */
static const char python_otrf[] =
    "import sys, zipfile, glob, os\n"
    "root, raw, out = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "exec(open(sys.argv[4]).read().split('out = []')[0])\n"
    "zips = sorted(glob.glob(os.path.join(root, 'datasets/atomic/windows/**/*.zip'), "
    "recursive=True))\n"
    "with open(raw, 'wb') as r, open(out, 'w') as o:\n"
    "    n = 0\n"
    "    for z in zips[:6]:\n"
    "        with zipfile.ZipFile(z) as zf:\n"
    "            for info in zf.infolist():\n"
    "                if not info.filename.endswith('.json'): continue\n"
    "                for line in zf.read(info).split(b'\\n')[:1500]:\n"
    "                    if not line.strip(): continue\n"
    "                    r.write(line + b'\\n')\n"
    "                    try:\n"
    "                        s = line.decode('utf-8')\n"
    "                        o.write('OK ' + canon(json.loads(s, parse_constant=const, "
    "object_pairs_hook=Obj)) + '\\n')\n"
    "                    except (ValueError, RecursionError):\n"
    "                        o.write('ERR\\n')\n"
    "                    n += 1\n"
    "print(n)\n";

struct otrf_ctx {
    FILE *expected;
    struct kz_buf mine, theirs;
    size_t lines, agree, shown;
};

static void otrf_compare(struct otrf_ctx *c, const char *mine) {
    kz_buf_clear(&c->theirs);
    int ch;
    while ((ch = fgetc(c->expected)) != EOF && ch != '\n')
        kz_buf_putc(&c->theirs, (char)ch);
    c->lines++;
    if (c->theirs.data && !strcmp(mine, c->theirs.data))
        c->agree++;
    else if (c->shown++ < 3)
        CHECK_MSG(0, "OTRF line %zu: kizuki '%.200s', python '%.200s'", c->lines, mine,
                  c->theirs.data ? c->theirs.data : "");
}

static int otrf_doc(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct otrf_ctx *c = ctx;
    kz_buf_clear(&c->mine);
    kz_buf_puts(&c->mine, "OK ");
    canon(&c->mine, kz_json_root(doc));
    otrf_compare(c, c->mine.data);
    return 0;
}

static void otrf_bad(void *ctx, uint64_t line, const struct kz_json_error *err) {
    otrf_compare(ctx, "ERR");
}

KZ_TEST(json_otrf_python) {
    const char *shared = kz_test_shared();
    if (!shared) {
        kz_test_skip("../shared/data not present");
        return;
    }
    if (!have_python()) {
        kz_test_skip("python3 not available");
        return;
    }
    char root[1024], raw[] = "/tmp/kz_otrf_raw_XXXXXX", exp[] = "/tmp/kz_otrf_exp_XXXXXX",
                     script[] = "/tmp/kz_otrf_py_XXXXXX", canon_py[] = "/tmp/kz_otrf_canon_XXXXXX";
    snprintf(root, sizeof root, "%s/jsonl/otrf", shared);
    int fds[4] = {mkstemp(raw), mkstemp(exp), mkstemp(script), mkstemp(canon_py)};
    REQUIRE(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0 && fds[3] >= 0);
    REQUIRE(write(fds[2], python_otrf, sizeof python_otrf - 1) ==
            (ssize_t)(sizeof python_otrf - 1));
    REQUIRE(write(fds[3], python_canon, sizeof python_canon - 1) ==
            (ssize_t)(sizeof python_canon - 1));
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "python3 %s '%s' %s %s %s", script, root, raw, exp, canon_py);
    FILE *py = popen(cmd, "r");
    REQUIRE(py);
    long expected_lines = 0;
    int got = fscanf(py, "%ld", &expected_lines);
    pclose(py);
    if (got != 1 || expected_lines == 0) {
        kz_test_skip("no OTRF Windows datasets found");
        goto out;
    }
    struct otrf_ctx c = {0};
    kz_buf_init(&c.mine, 0);
    kz_buf_init(&c.theirs, 0);
    c.expected = fopen(exp, "r");
    FILE *in = fopen(raw, "rb");
    REQUIRE(c.expected && in);
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    struct kz_json_lines jl;
    REQUIRE(kz_json_lines_init(&jl, NULL, &a, otrf_doc, otrf_bad, &c) == 0);
    char buf[4096]; /* small pieces: many lines cross a piece boundary */
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        kz_json_lines_feed(&jl, buf, n);
    kz_json_lines_finish(&jl);
    CHECK_INT(c.lines, expected_lines);
    CHECK_INT(c.agree, expected_lines);
    CHECK(jl.docs > 1000);
    kz_json_lines_free(&jl);
    kz_arena_free(&a);
    fclose(in);
    fclose(c.expected);
    kz_buf_free(&c.mine);
    kz_buf_free(&c.theirs);
out:
    unlink(raw);
    unlink(exp);
    unlink(script);
    unlink(canon_py);
}
