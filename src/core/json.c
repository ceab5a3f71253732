/* json.c - strict bounded JSON parser and JSON-lines splitter; see json.h.
 *
 * One pass over the input, no recursion: open containers sit on an explicit stack of max_depth
 * entries, so nesting costs no C stack and the depth limit is a plain comparison. Nodes are
 * appended to the parser's scratch array (grown by doubling up to max_nodes) and copied into the
 * arena in one piece at the end, so the arena receives exactly the DOM's size. Strings are scanned
 * 16 bytes at a time with SSE2 for the four things that end a plain run: a quote, a backslash, a
 * control byte, a non-ASCII byte (one signed comparison catches the last two). A string with
 * escapes is scanned once to find its end and check it, then unescaped into an arena block of its
 * raw length (never shorter than the result). */
#include "json.h"

#include "alloc.h"
#include "error.h"
#include "utf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- limits ---- */

static void effective_limits(struct kz_json_limits *out, const struct kz_json_limits *in) {
    struct kz_json_limits l = {0};
    if (in) l = *in;
    if (!l.max_input) l.max_input = KZ_JSON_DEFAULT_MAX_INPUT;
    if (!l.max_depth) l.max_depth = KZ_JSON_DEFAULT_MAX_DEPTH;
    if (!l.max_nodes) l.max_nodes = KZ_JSON_DEFAULT_MAX_NODES;
    if (l.max_input > KZ_JSON_MAX_INPUT_CEILING) l.max_input = KZ_JSON_MAX_INPUT_CEILING;
    if (l.max_depth > KZ_JSON_MAX_DEPTH_CEILING) l.max_depth = KZ_JSON_MAX_DEPTH_CEILING;
    if (l.max_nodes > KZ_JSON_MAX_NODES_CEILING) l.max_nodes = KZ_JSON_MAX_NODES_CEILING;
    *out = l;
}

int kz_json_parser_init(struct kz_json_parser *p, const struct kz_json_limits *lim) {
    memset(p, 0, sizeof *p);
    effective_limits(&p->lim, lim);
    p->stack = kz_malloc(p->lim.max_depth * sizeof *p->stack);
    return p->stack ? 0 : KZ_ENOMEM;
}

void kz_json_parser_free(struct kz_json_parser *p) {
    kz_free(p->nodes);
    kz_free(p->stack);
    p->nodes = NULL;
    p->stack = NULL;
    p->nodes_cap = 0;
}

/* ---- parse state and errors ---- */

struct state {
    const unsigned char *start, *p, *end;
    struct kz_json_node *nodes; /* == parser->nodes, refreshed after growth */
    uint32_t n;
    struct kz_json_parser *parser;
    struct kz_arena *a;
    /* the first error, filled by fail() */
    int kind;
    size_t offset;
    char msg[KZ_JSON_ERR_MSG_MAX];
};

static int fail(struct state *s, int kind, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct state *s, int kind, const unsigned char *at, const char *fmt, ...) {
    s->kind = kind;
    s->offset = (size_t)(at - s->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Describes the byte at `at` for a message: 'x', "end of input", or a hex byte. */
static const char *what(const struct state *s, const unsigned char *at, char buf[16]) {
    if (at >= s->end) return "end of input";
    unsigned char c = *at;
    if (c >= 0x21 && c < 0x7F)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02X", c);
    return buf;
}

static int fail_unexpected(struct state *s, const unsigned char *at, const char *expected) {
    char b[16];
    return fail(s, at >= s->end ? KZ_JSON_E_EOF : KZ_JSON_E_CHAR, at, "expected %s, found %s",
                expected, what(s, at, b));
}

/* ---- nodes ---- */

static int grow(struct state *s) {
    struct kz_json_parser *p = s->parser;
    if (p->nodes_cap >= p->lim.max_nodes)
        return fail(s, KZ_JSON_E_NODES, s->p, "more than %u values (the node limit)",
                    p->lim.max_nodes);
    uint32_t cap = p->nodes_cap ? p->nodes_cap * 2 : 256;
    if (cap > p->lim.max_nodes || cap < p->nodes_cap) cap = p->lim.max_nodes;
    struct kz_json_node *v = kz_realloc(p->nodes, (size_t)cap * sizeof *v);
    if (!v) return fail(s, KZ_JSON_E_NOMEM, s->p, "out of memory for %u nodes", cap);
    p->nodes = v;
    p->nodes_cap = cap;
    s->nodes = v;
    return 0;
}

/* Appends a node; returns its index, or -1 (error set). */
static inline int64_t push(struct state *s, uint8_t type) {
    if (s->n == s->parser->nodes_cap && grow(s)) return -1;
    struct kz_json_node *nd = &s->nodes[s->n];
    nd->type = type;
    nd->flags = 0;
    nd->reserved = 0;
    nd->len = 0;
    nd->u.span = 1;
    return s->n++;
}

/* ---- whitespace, literals, numbers ---- */

static inline void skip_ws(struct state *s) {
    const unsigned char *p = s->p, *end = s->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    s->p = p;
}

static inline int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

/* After a number or literal, a letter, digit or one of . + - means a malformed token ("01",
 * "1.5.2", "truex") rather than a missing comma. */
static inline int token_continues(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '+' || c == '-' || c == '_';
}

static int parse_literal(struct state *s) {
    const unsigned char *p = s->p;
    static const char *const words[] = {"null", "false", "true"};
    static const uint8_t types[] = {KZ_JSON_NULL, KZ_JSON_FALSE, KZ_JSON_TRUE};
    int w = *p == 'n' ? 0 : *p == 'f' ? 1 : 2;
    size_t len = strlen(words[w]);
    if ((size_t)(s->end - p) < len || memcmp(p, words[w], len)) {
        if ((size_t)(s->end - p) < len && !memcmp(p, words[w], (size_t)(s->end - p)))
            return fail(s, KZ_JSON_E_EOF, s->end, "input ends inside '%s'", words[w]);
        return fail(s, KZ_JSON_E_LITERAL, p, "not a JSON value (did you mean '%s'?)", words[w]);
    }
    if (p + len < s->end && token_continues(p[len]))
        return fail(s, KZ_JSON_E_LITERAL, p, "not a JSON value (junk after '%s')", words[w]);
    if (push(s, types[w]) < 0) return -1;
    s->p = p + len;
    return 0;
}

static int parse_number(struct state *s) {
    const unsigned char *p = s->p, *end = s->end, *q = p;
    int integer = 1;
    if (*q == '-') q++;
    if (q >= end) return fail(s, KZ_JSON_E_EOF, q, "input ends inside a number");
    if (*q == '0') {
        q++;
        if (q < end && is_digit(*q))
            return fail(s, KZ_JSON_E_NUMBER, q, "number with a leading zero");
    } else if (is_digit(*q)) {
        while (q < end && is_digit(*q))
            q++;
    } else {
        return fail(s, KZ_JSON_E_NUMBER, q, "'-' must be followed by a digit");
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || !is_digit(*q))
            return fail(s, KZ_JSON_E_NUMBER, q, "a digit must follow the decimal point");
        while (q < end && is_digit(*q))
            q++;
        integer = 0;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        if (q >= end || !is_digit(*q))
            return fail(s, KZ_JSON_E_NUMBER, q, "a digit must follow the exponent");
        while (q < end && is_digit(*q))
            q++;
        integer = 0;
    }
    if (q < end && token_continues(*q)) {
        char b[16];
        return fail(s, KZ_JSON_E_NUMBER, q, "malformed number (%s)", what(s, q, b));
    }
    int64_t i = push(s, KZ_JSON_NUMBER);
    if (i < 0) return -1;
    s->nodes[i].flags = integer ? KZ_JSON_F_INTEGER : 0;
    s->nodes[i].len = (uint32_t)(q - p);
    s->nodes[i].u.str = (const char *)p;
    s->p = q;
    return 0;
}

/* ---- strings ---- */

/* Position of the first byte at or after p that is a quote, a backslash, a control byte or
 * non-ASCII; end when there is none. */
static inline const unsigned char *scan_plain(const unsigned char *p, const unsigned char *end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        /* Signed: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) return p + __builtin_ctz(bits);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
        p++;
    return p;
}

static int hex4(const unsigned char *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static inline char *put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Reads \uXXXX at p (p[0] is the backslash; the caller made sure p+6 <= close). */
static int read_u_escape(struct state *s, const unsigned char *p, uint32_t *cp) {
    if (hex4(p + 2, cp))
        return fail(s, KZ_JSON_E_ESCAPE, p, "\\u must be followed by four hex digits");
    return 0;
}

/* Unescapes the string body [body, close) (checked by the scan: escapes are well-introduced,
 * runs are valid UTF-8) into the arena. */
static int unescape(struct state *s, const unsigned char *body, const unsigned char *close,
                    int64_t node) {
    size_t raw = (size_t)(close - body);
    char *out = kz_arena_alloc(s->a, raw + 1);
    if (!out) return fail(s, KZ_JSON_E_NOMEM, body, "out of memory for a %zu-byte string", raw);
    char *o = out;
    const unsigned char *p = body;
    while (p < close) {
        const unsigned char *bs = memchr(p, '\\', (size_t)(close - p));
        if (!bs) bs = close;
        memcpy(o, p, (size_t)(bs - p));
        o += bs - p;
        p = bs;
        if (p == close) break;
        unsigned char e = p[1]; /* the scan guaranteed p + 1 < close */
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *o++ = (char)e;
            p += 2;
            continue;
        case 'b':
            *o++ = '\b';
            p += 2;
            continue;
        case 'f':
            *o++ = '\f';
            p += 2;
            continue;
        case 'n':
            *o++ = '\n';
            p += 2;
            continue;
        case 'r':
            *o++ = '\r';
            p += 2;
            continue;
        case 't':
            *o++ = '\t';
            p += 2;
            continue;
        default: /* 'u': the only other escape the scan lets through */
            break;
        }
        uint32_t cp;
        if (close - p < 6)
            return fail(s, KZ_JSON_E_ESCAPE, p, "\\u must be followed by four hex digits");
        if (read_u_escape(s, p, &cp)) return -1;
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate pairs with an immediately following \u low surrogate; without one
             * it is unpaired, and the next escape (if any) is decoded on its own. */
            uint32_t lo;
            if (close - p >= 6 && p[0] == '\\' && p[1] == 'u' && !hex4(p + 2, &lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        o = put_utf8(o, cp);
    }
    *o = 0;
    size_t len = (size_t)(o - out);
    kz_arena_trim(s->a, out, raw + 1, len + 1);
    s->nodes[node].flags = KZ_JSON_F_COPIED;
    s->nodes[node].len = (uint32_t)len;
    s->nodes[node].u.str = out;
    return 0;
}

/* Parses the string whose opening quote is at s->p into a new string node. */
static int parse_string(struct state *s) {
    const unsigned char *body = s->p + 1, *p = body, *end = s->end;
    int escaped = 0;
    for (;;) {
        p = scan_plain(p, end);
        if (p >= end) return fail(s, KZ_JSON_E_EOF, end, "input ends inside a string");
        unsigned char c = *p;
        if (c == '"') break;
        if (c == '\\') {
            if (p + 1 >= end) return fail(s, KZ_JSON_E_EOF, end, "input ends inside a string");
            unsigned char e = p[1];
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                e != 't' && e != 'u') {
                char b[16];
                return fail(s, KZ_JSON_E_ESCAPE, p, "\\ followed by %s is not a JSON escape",
                            what(s, p + 1, b));
            }
            escaped = 1;
            p += 2;
            continue;
        }
        if (c < 0x20)
            return fail(s, KZ_JSON_E_CONTROL, p,
                        "control byte 0x%02X inside a string (must be escaped)", c);
        size_t k = kz_utf8_valid_prefix(p, (size_t)(end - p));
        if (!k) return fail(s, KZ_JSON_E_UTF8, p, "invalid UTF-8 (byte 0x%02X) inside a string", c);
        p += k;
    }
    int64_t node = push(s, KZ_JSON_STRING);
    if (node < 0) return -1;
    s->p = p + 1;
    if (escaped) return unescape(s, body, p, node);
    s->nodes[node].len = (uint32_t)(p - body);
    s->nodes[node].u.str = (const char *)body;
    return 0;
}

/* ---- the value grammar, without recursion ---- */

static int parse_doc(struct state *s) {
    struct kz_json_parser *pr = s->parser;
    uint32_t *stack = pr->stack, depth = 0, max_depth = pr->lim.max_depth;
    int64_t i;

value:
    skip_ws(s);
    if (s->p >= s->end) {
        if (depth == 0 && s->n == 0) return fail(s, KZ_JSON_E_EMPTY, s->p, "no JSON value");
        return fail(s, KZ_JSON_E_EOF, s->p, "input ends where a value should start");
    }
    switch (*s->p) {
    case '{':
    case '[': {
        int obj = *s->p == '{';
        if (depth >= max_depth)
            return fail(s, KZ_JSON_E_DEPTH, s->p, "nesting deeper than %u", max_depth);
        if ((i = push(s, obj ? KZ_JSON_OBJECT : KZ_JSON_ARRAY)) < 0) return -1;
        stack[depth++] = (uint32_t)i;
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
            depth--;
            goto after; /* empty: span 1 and len 0 already */
        }
        if (obj) goto key;
        goto value;
    }
    case '"':
        if (parse_string(s)) return -1;
        goto after;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (parse_number(s)) return -1;
        goto after;
    case 't':
    case 'f':
    case 'n':
        if (parse_literal(s)) return -1;
        goto after;
    case '+':
    case '.':
        return fail(s, KZ_JSON_E_NUMBER, s->p, "a number must start with '-' or a digit");
    default:
        return fail_unexpected(s, s->p, "a value");
    }

key:
    /* s->p is at the first non-space byte where a member should start */
    if (s->p >= s->end) return fail(s, KZ_JSON_E_EOF, s->p, "input ends inside an object");
    if (*s->p != '"') {
        char b[16];
        return fail(s, KZ_JSON_E_KEY, s->p, "expected a string key, found %s", what(s, s->p, b));
    }
    if (parse_string(s)) return -1;
    skip_ws(s);
    if (s->p >= s->end) return fail(s, KZ_JSON_E_EOF, s->p, "input ends after an object key");
    if (*s->p != ':') {
        char b[16];
        return fail(s, KZ_JSON_E_KEY, s->p, "expected ':' after an object key, found %s",
                    what(s, s->p, b));
    }
    s->p++;
    goto value;

after:
    /* a value (scalar or closed container) is complete */
    if (depth == 0) {
        skip_ws(s);
        if (s->p < s->end) {
            char b[16];
            return fail(s, KZ_JSON_E_TRAILING, s->p, "%s after the JSON value", what(s, s->p, b));
        }
        return 0;
    }
    {
        struct kz_json_node *top = &s->nodes[stack[depth - 1]];
        int obj = top->type == KZ_JSON_OBJECT;
        top->len++;
        skip_ws(s);
        if (s->p >= s->end)
            return fail(s, KZ_JSON_E_EOF, s->p, "input ends inside an %s",
                        obj ? "object" : "array");
        unsigned char c = *s->p;
        if (c == ',') {
            s->p++;
            skip_ws(s);
            if (s->p < s->end && (*s->p == ']' || *s->p == '}'))
                return fail(s, KZ_JSON_E_COMMA, s->p, "trailing comma before '%c'", *s->p);
            if (obj) goto key;
            goto value;
        }
        if (c == (obj ? '}' : ']')) {
            s->p++;
            top->u.span = s->n - stack[depth - 1];
            depth--;
            goto after;
        }
        return fail_unexpected(s, s->p, obj ? "',' or '}'" : "',' or ']'");
    }
}

static void fill_error(struct kz_json_error *err, const struct state *s) {
    if (!err) return;
    err->kind = s->kind;
    err->code =
        s->kind == KZ_JSON_E_NOMEM ? KZ_ENOMEM
        : (s->kind == KZ_JSON_E_SIZE || s->kind == KZ_JSON_E_DEPTH || s->kind == KZ_JSON_E_NODES)
            ? KZ_ELIMIT
            : KZ_EFORMAT;
    err->offset = s->offset;
    /* Position from the offset: only on error, so the hot path counts no newlines. */
    uint64_t line = 1;
    const unsigned char *ls = s->start;
    size_t off = s->offset;
    for (size_t k = 0; k < off; k++) {
        if (s->start[k] == '\n') {
            line++;
            ls = s->start + k + 1;
        }
    }
    err->line = line;
    err->column = (uint32_t)(s->start + off - ls + 1);
    memcpy(err->msg, s->msg, sizeof err->msg);
}

int kz_json_parser_parse(struct kz_json_parser *p, const char *in, size_t n, struct kz_arena *a,
                         struct kz_json_doc *doc, struct kz_json_error *err) {
    struct state s = {.start = (const unsigned char *)in,
                      .p = (const unsigned char *)in,
                      .end = (const unsigned char *)in + n,
                      .nodes = p->nodes,
                      .parser = p,
                      .a = a};
    doc->nodes = NULL;
    doc->nnodes = 0;
    if (err) memset(err, 0, offsetof(struct kz_json_error, msg) + 1);
    if (n > p->lim.max_input) {
        s.end = s.start + p->lim.max_input;
        fail(&s, KZ_JSON_E_SIZE, s.end, "document of %zu bytes is over the %zu-byte limit", n,
             p->lim.max_input);
        fill_error(err, &s);
        return err ? err->code : KZ_ELIMIT;
    }
    if (n >= 3 && !memcmp(in, "\xEF\xBB\xBF", 3)) s.p += 3;
    if (parse_doc(&s)) {
        fill_error(err, &s);
        return s.kind == KZ_JSON_E_NOMEM ? KZ_ENOMEM
               : (s.kind == KZ_JSON_E_SIZE || s.kind == KZ_JSON_E_DEPTH ||
                  s.kind == KZ_JSON_E_NODES)
                   ? KZ_ELIMIT
                   : KZ_EFORMAT;
    }
    struct kz_json_node *out = kz_arena_alloc(a, (size_t)s.n * sizeof *out);
    if (!out) {
        fail(&s, KZ_JSON_E_NOMEM, s.start, "out of memory for %u nodes", s.n);
        fill_error(err, &s);
        return KZ_ENOMEM;
    }
    memcpy(out, s.nodes, (size_t)s.n * sizeof *out);
    doc->nodes = out;
    doc->nnodes = s.n;
    return 0;
}

int kz_json_parse(const char *in, size_t n, struct kz_arena *a, const struct kz_json_limits *lim,
                  struct kz_json_doc *doc, struct kz_json_error *err) {
    struct kz_json_parser p;
    if (kz_json_parser_init(&p, lim)) {
        doc->nodes = NULL;
        doc->nnodes = 0;
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = KZ_ENOMEM;
            err->kind = KZ_JSON_E_NOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory");
        }
        return KZ_ENOMEM;
    }
    int rc = kz_json_parser_parse(&p, in, n, a, doc, err);
    kz_json_parser_free(&p);
    return rc;
}

/* ---- walking ---- */

const struct kz_json_node *kz_json_at(const struct kz_json_node *arr, uint32_t i) {
    if (!arr || arr->type != KZ_JSON_ARRAY || i >= arr->len) return NULL;
    const struct kz_json_node *v = arr + 1;
    while (i--)
        v = kz_json_next(v);
    return v;
}

const struct kz_json_node *kz_json_getn(const struct kz_json_node *obj, const char *key,
                                        size_t klen) {
    if (!obj || obj->type != KZ_JSON_OBJECT) return NULL;
    const struct kz_json_node *k = obj + 1;
    for (uint32_t i = 0; i < obj->len; i++) {
        if (k->len == klen && !memcmp(k->u.str, key, klen)) return k + 1;
        k = kz_json_next(k + 1);
    }
    return NULL;
}

const struct kz_json_node *kz_json_get(const struct kz_json_node *obj, const char *key) {
    return kz_json_getn(obj, key, strlen(key));
}

int kz_json_str_eq(const struct kz_json_node *n, const char *s) {
    size_t len = strlen(s);
    return n && n->type == KZ_JSON_STRING && n->len == len && !memcmp(n->u.str, s, len);
}

int kz_json_int(const struct kz_json_node *n, int64_t *out) {
    if (!n || n->type != KZ_JSON_NUMBER || !(n->flags & KZ_JSON_F_INTEGER)) return KZ_EFORMAT;
    const char *p = n->u.str, *end = p + n->len;
    int neg = *p == '-';
    if (neg) p++;
    /* Accumulate as a negative number: its range includes INT64_MIN. */
    int64_t v = 0;
    for (; p < end; p++) {
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10) return KZ_EFORMAT;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN) return KZ_EFORMAT;
        v = -v;
    }
    *out = v;
    return 0;
}

int kz_json_double(const struct kz_json_node *n, double *out) {
    if (!n || n->type != KZ_JSON_NUMBER) return KZ_EFORMAT;
    /* strtod wants a terminated string; number text in the input is followed by more input.
     * kizuki never calls setlocale, so strtod reads '.' as the decimal point. */
    char local[64], *buf = local;
    if (n->len >= sizeof local && !(buf = kz_malloc((size_t)n->len + 1))) return KZ_ENOMEM;
    memcpy(buf, n->u.str, n->len);
    buf[n->len] = 0;
    *out = strtod(buf, NULL);
    if (buf != local) kz_free(buf);
    return 0;
}

const char *kz_json_strdup(struct kz_arena *a, const struct kz_json_node *n) {
    if (!n || n->type != KZ_JSON_STRING) return NULL;
    /* Always a copy, even of an unescaped string that is already terminated: the caller's arena
     * may outlive the document's (a per-line arena), which is why it asks for a copy. */
    return kz_arena_strndup(a, n->u.str, n->len);
}

static void write_node(struct kz_buf *out, const struct kz_json_node *n) {
    switch (n->type) {
    case KZ_JSON_NULL:
        kz_buf_puts(out, "null");
        return;
    case KZ_JSON_FALSE:
        kz_buf_puts(out, "false");
        return;
    case KZ_JSON_TRUE:
        kz_buf_puts(out, "true");
        return;
    case KZ_JSON_NUMBER:
        kz_buf_append(out, n->u.str, n->len);
        return;
    case KZ_JSON_STRING:
        kz_buf_putc(out, '"');
        kz_buf_put_json_str(out, n->u.str, n->len);
        kz_buf_putc(out, '"');
        return;
    default:
        break;
    }
    int obj = n->type == KZ_JSON_OBJECT;
    kz_buf_putc(out, obj ? '{' : '[');
    const struct kz_json_node *c = n + 1;
    for (uint32_t i = 0; i < n->len; i++) {
        if (i) kz_buf_putc(out, ',');
        if (obj) {
            write_node(out, c);
            kz_buf_putc(out, ':');
            c++;
        }
        write_node(out, c);
        c = kz_json_next(c);
    }
    kz_buf_putc(out, obj ? '}' : ']');
}

void kz_json_write(struct kz_buf *out, const struct kz_json_node *n) {
    if (n) write_node(out, n);
}

/* ---- JSON lines ---- */

int kz_json_lines_init(struct kz_json_lines *jl, const struct kz_json_limits *lim,
                       struct kz_arena *a, kz_json_line_fn on_doc, kz_json_bad_line_fn on_bad,
                       void *ctx) {
    memset(jl, 0, sizeof *jl);
    if (kz_json_parser_init(&jl->parser, lim)) return KZ_ENOMEM;
    jl->arena = a;
    jl->on_doc = on_doc;
    jl->on_bad = on_bad;
    jl->ctx = ctx;
    /* +2: the CR a CRLF line may carry, and the buffer's NUL */
    kz_buf_init(&jl->partial, jl->parser.lim.max_input + 2);
    return 0;
}

void kz_json_lines_free(struct kz_json_lines *jl) {
    kz_json_parser_free(&jl->parser);
    kz_buf_free(&jl->partial);
}

/* Longest line kept: max_input plus a CR. */
static inline size_t line_max(const struct kz_json_lines *jl) {
    return jl->parser.lim.max_input + 1;
}

static void report_bad(struct kz_json_lines *jl, struct kz_json_error *err) {
    jl->bad++;
    err->line = jl->line;
    if (jl->on_bad) jl->on_bad(jl->ctx, jl->line, err);
}

/* One complete line (without its LF). `copy`: the bytes are in a buffer about to be reused. */
static int do_line(struct kz_json_lines *jl, const char *s, size_t len, int copy) {
    jl->line++;
    if (len && s[len - 1] == '\r') len--;
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i == len) {
        jl->blank++;
        return 0;
    }
    if (copy && jl->keep && len <= jl->parser.lim.max_input) {
        char *c = kz_arena_alloc(jl->arena, len);
        if (!c) return KZ_ENOMEM;
        memcpy(c, s, len);
        s = c;
    }
    struct kz_json_doc doc;
    struct kz_json_error err;
    int rc = kz_json_parser_parse(&jl->parser, s, len, jl->arena, &doc, &err);
    if (rc == 0) {
        jl->docs++;
        rc = jl->on_doc ? jl->on_doc(jl->ctx, jl->line, &doc) : 0;
    } else {
        /* Out of memory is still only this line's problem when the cause is the arena's cap
         * (a huge line); the next line starts from a reset arena. */
        report_bad(jl, &err);
        rc = 0;
    }
    if (!jl->keep) kz_arena_reset(jl->arena);
    return rc;
}

static void overlong_line(struct kz_json_lines *jl) {
    jl->line++;
    struct kz_json_error err = {0};
    err.code = KZ_ELIMIT;
    err.kind = KZ_JSON_E_SIZE;
    err.offset = jl->parser.lim.max_input;
    err.column =
        (uint32_t)(jl->parser.lim.max_input + 1 > UINT32_MAX ? UINT32_MAX
                                                             : jl->parser.lim.max_input + 1);
    snprintf(err.msg, sizeof err.msg, "line of %zu bytes is over the %zu-byte limit",
             jl->overlong_len, jl->parser.lim.max_input);
    report_bad(jl, &err);
    jl->overlong = 0;
    jl->overlong_len = 0;
}

/* Appends a piece of the line being assembled, switching to "overlong" mode past the cap. */
static int add_partial(struct kz_json_lines *jl, const char *data, size_t n) {
    if (jl->overlong) {
        jl->overlong_len += n;
        return 0;
    }
    if (n > line_max(jl) - jl->partial.len) {
        jl->overlong = 1;
        jl->overlong_len = jl->partial.len + n;
        kz_buf_clear(&jl->partial);
        return 0;
    }
    kz_buf_append(&jl->partial, data, n);
    return jl->partial.failed ? KZ_ENOMEM : 0;
}

static int end_partial(struct kz_json_lines *jl) {
    if (jl->overlong) {
        overlong_line(jl);
        return 0;
    }
    int rc = do_line(jl, jl->partial.data, jl->partial.len, 1);
    kz_buf_clear(&jl->partial);
    return rc;
}

int kz_json_lines_feed(struct kz_json_lines *jl, const char *data, size_t n) {
    const char *p = data, *end = data + n;
    int rc;
    if (jl->partial.len || jl->overlong) {
        const char *nl = memchr(p, '\n', n);
        if ((rc = add_partial(jl, p, (size_t)((nl ? nl : end) - p)))) return rc;
        if (!nl) return 0;
        if ((rc = end_partial(jl))) return rc;
        p = nl + 1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return add_partial(jl, p, (size_t)(end - p));
        if ((size_t)(nl - p) > line_max(jl)) {
            jl->overlong_len = (size_t)(nl - p);
            overlong_line(jl);
        } else if ((rc = do_line(jl, p, (size_t)(nl - p), 0))) {
            return rc;
        }
        p = nl + 1;
    }
    return 0;
}

int kz_json_lines_finish(struct kz_json_lines *jl) {
    if (!jl->partial.len && !jl->overlong) return 0;
    return end_partial(jl);
}
