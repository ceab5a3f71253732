/* test_sigma_load.c - unit tests of src/sigma: the rule loader, value modifiers, the condition
 * parser, correlations, filters, rule collections, the errors users see, and the SigmaHQ corpus.
 *
 * The rules are written here by hand from the Sigma 2 specification's text; expected encodings
 * (base64, UTF-16) were worked out independently of kizuki (by hand and with Python's base64). */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "sigma/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static int load(struct kz_sigma_ruleset *rs, const char *yaml) {
    struct kz_err err = {0};
    kz_sigma_ruleset_init(rs);
    int rc = kz_sigma_load_buffer(rs, "test.yml", yaml, strlen(yaml), &err);
    if (!rc) rc = kz_sigma_ruleset_link(rs);
    return rc;
}

static const struct kz_sigma_selection *sel(const struct kz_sigma_rule *r, const char *name) {
    for (uint32_t i = 0; i < r->detection.nselections; i++)
        if (!strcmp(r->detection.selections[i].name, name)) return &r->detection.selections[i];
    return NULL;
}

/* The first item of a one-group selection. */
static const struct kz_sigma_item *item0(const struct kz_sigma_rule *r, const char *name) {
    const struct kz_sigma_selection *s = sel(r, name);
    return s && s->ngroups && s->groups[0].nitems ? &s->groups[0].items[0] : NULL;
}

/* A rule with one selection `sel` holding `body` (indented by 8). */
static char *one_rule(const char *body) {
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "title: T\nlogsource:\n    product: windows\ndetection:\n    sel:\n%s"
             "    condition: sel\n",
             body);
    return buf;
}

/* Loads a one-selection rule and returns its item (rs must be freed by the caller). */
static const struct kz_sigma_item *load_item(struct kz_sigma_ruleset *rs, const char *body) {
    if (load(rs, one_rule(body)) || rs->nrules != 1) return NULL;
    return item0(rs->rules[0], "sel");
}

/* Loads YAML expected to fail once; returns the reason ("" when it loaded). */
static const char *fail_reason(struct kz_sigma_ruleset *rs, const char *yaml, uint32_t *line) {
    load(rs, yaml);
    if (rs->failures_kept == 0) return "";
    if (line) *line = rs->failures[0].line;
    return rs->failures[0].reason;
}

#define CHECK_HAS(hay, needle)                                                                     \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (!h_ || !strstr(h_, needle))                                                            \
            kz_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", \
                         needle);                                                                  \
    } while (0)

static void cond_text(const struct kz_sigma_rule *r, char *buf, size_t size) {
    kz_sigma_cond_format(r->detection.cond, &r->detection, buf, size);
}

/* ---- metadata ---- */

KZ_TEST(sigma_rule_metadata_and_plain_field) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: Suspicious cmd\n"
                    "id: 11111111-2222-3333-4444-555555555555\n"
                    "name: susp_cmd\n"
                    "status: experimental\n"
                    "level: high\n"
                    "tags:\n  - attack.execution\n  - attack.t1059.003\n"
                    "logsource:\n  product: windows\n  category: process_creation\n"
                    "  service: sysmon\n  definition: needs Sysmon\n"
                    "detection:\n  selection:\n    Image|endswith: '\\CMD.exe'\n"
                    "  condition: selection\n"
                    "falsepositives:\n  - admins\n";
    REQUIRE(load(&rs, y) == 0);
    REQUIRE(rs.nrules == 1);
    CHECK_INT(rs.nfailures, 0);
    const struct kz_sigma_rule *r = rs.rules[0];
    CHECK_INT(r->kind, KZ_SIGMA_DETECTION);
    CHECK_STR(r->title, "Suspicious cmd");
    CHECK_STR(r->id, "11111111-2222-3333-4444-555555555555");
    CHECK_STR(r->name, "susp_cmd");
    CHECK_INT(r->level, KZ_LEVEL_HIGH);
    CHECK_INT(r->status, KZ_STATUS_EXPERIMENTAL);
    REQUIRE(r->ntags == 2);
    CHECK_STR(r->tags[1], "attack.t1059.003");
    CHECK_STR(r->logsource.product, "windows");
    CHECK_STR(r->logsource.category, "process_creation");
    CHECK_STR(r->logsource.service, "sysmon");
    CHECK_STR(r->logsource.definition, "needs Sysmon");
    CHECK_INT(r->line, 1);
    CHECK_INT(rs.counts[KZ_SIGMA_DETECTION], 1);
    const struct kz_sigma_item *it = item0(r, "selection");
    REQUIRE(it);
    CHECK_INT(it->field, kz_intern_find("Image", 5));
    CHECK_STR(it->field_name, "Image");
    CHECK_INT(it->mods, KZ_SM(ENDSWITH));
    CHECK_INT(it->line, 16);
    REQUIRE(it->nvalues == 1 && it->values[0].npatterns == 1);
    CHECK_INT(it->values[0].type, KZ_SV_STRING);
    CHECK_STR(it->values[0].raw, "\\CMD.exe");
    CHECK_INT(it->values[0].patterns[0].match, KZ_MATCH_ENDSWITH);
    CHECK_STR(it->values[0].patterns[0].text, "\\cmd.exe"); /* case folded */
    CHECK_INT(it->values[0].patterns[0].cased, 0);
    kz_sigma_ruleset_free(&rs);
}

/* ---- wildcards, escapes, position modifiers ---- */

KZ_TEST(sigma_wildcards_and_escapes) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(&rs, "        F:\n"
                                                    "          - 'plain'\n"
                                                    "          - 'a\\*b'\n"
                                                    "          - 'a*b'\n"
                                                    "          - '*mid*'\n"
                                                    "          - 'pre*'\n"
                                                    "          - '*suf'\n"
                                                    "          - 'x?y'\n"
                                                    "          - 'C:\\Windows\\'\n"
                                                    "          - '\\\\\\\\srv'\n"
                                                    "          - '*'\n"
                                                    "          - ''\n");
    REQUIRE(it && it->nvalues == 11);
    const struct kz_sigma_pattern *p;
    p = &it->values[0].patterns[0];
    CHECK_INT(p->match, KZ_MATCH_EXACT);
    CHECK_STR(p->text, "plain");
    p = &it->values[1].patterns[0];
    CHECK_INT(p->match, KZ_MATCH_EXACT); /* escaped star is a character */
    CHECK_STR(p->text, "a*b");
    p = &it->values[2].patterns[0];
    REQUIRE(p->match == KZ_MATCH_GLOB && p->npieces == 3);
    CHECK_INT(p->pieces[0].kind, KZ_PIECE_LIT);
    CHECK_INT(p->pieces[1].kind, KZ_PIECE_STAR);
    CHECK(p->pieces[2].len == 1 && p->pieces[2].text[0] == 'b');
    p = &it->values[3].patterns[0];
    CHECK_INT(p->match, KZ_MATCH_CONTAINS);
    CHECK_STR(p->text, "mid");
    CHECK_INT(it->values[4].patterns[0].match, KZ_MATCH_STARTSWITH);
    CHECK_INT(it->values[5].patterns[0].match, KZ_MATCH_ENDSWITH);
    p = &it->values[6].patterns[0];
    REQUIRE(p->match == KZ_MATCH_GLOB && p->npieces == 3);
    CHECK_INT(p->pieces[1].kind, KZ_PIECE_ONE);
    /* A backslash before an ordinary character is itself. */
    CHECK_STR(it->values[7].patterns[0].text, "c:\\windows\\");
    /* \\ is one backslash: four in the YAML text become two. */
    CHECK_STR(it->values[8].patterns[0].text, "\\\\srv");
    CHECK_INT(it->values[9].patterns[0].match, KZ_MATCH_ANY);
    p = &it->values[10].patterns[0];
    CHECK(p->match == KZ_MATCH_EXACT && p->len == 0);
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_contains_startswith_cased) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(&rs, "        CommandLine|contains: 'a*B'\n");
    REQUIRE(it);
    const struct kz_sigma_pattern *p = &it->values[0].patterns[0];
    REQUIRE(p->match == KZ_MATCH_GLOB && p->npieces == 5); /* * a * b * */
    CHECK(p->pieces[3].text[0] == 'b');
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        CommandLine|startswith|cased: 'PowerShell'\n");
    REQUIRE(it);
    CHECK_INT(it->mods, KZ_SM(STARTSWITH) | KZ_SM(CASED));
    CHECK_INT(it->nmods, 2);
    CHECK_INT(it->mod_order[0], KZ_MOD_STARTSWITH);
    p = &it->values[0].patterns[0];
    CHECK_INT(p->match, KZ_MATCH_STARTSWITH);
    CHECK_STR(p->text, "PowerShell");
    CHECK_INT(p->cased, 1);
    kz_sigma_ruleset_free(&rs);
}

/* ---- generic modifiers ---- */

KZ_TEST(sigma_all_exists_neq) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(
        &rs, "        CommandLine|contains|all:\n          - ' -enc '\n          - 'IEX'\n");
    REQUIRE(it);
    CHECK(it->mods & KZ_SM(ALL));
    CHECK_INT(it->nvalues, 2);
    CHECK_STR(it->values[1].patterns[0].text, "iex");
    kz_sigma_ruleset_free(&rs);

    uint32_t line = 0;
    CHECK_HAS(fail_reason(&rs, one_rule("        F|contains|all: 'x'\n"), &line),
              "|all needs a list of two or more values");
    CHECK_INT(line, 6);
    kz_sigma_ruleset_free(&rs);

    it = load_item(&rs, "        ParentImage|exists: false\n");
    REQUIRE(it);
    CHECK_INT(it->values[0].type, KZ_SV_EXISTS);
    CHECK_INT(it->values[0].boolean, 0);
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|exists: maybe\n"), NULL),
              "|exists takes true or false");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|exists|contains: true\n"), NULL),
              "|exists takes no other modifier");
    kz_sigma_ruleset_free(&rs);

    it = load_item(&rs, "        User|neq: SYSTEM\n");
    REQUIRE(it);
    CHECK_INT(it->mods, KZ_SM(NEQ));
    CHECK_STR(it->values[0].patterns[0].text, "system");
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_windash_makes_every_dash_variant) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it =
        load_item(&rs, "        CommandLine|windash|contains: ' -exec bypass'\n");
    REQUIRE(it && it->nvalues == 1);
    const struct kz_sigma_value *v = &it->values[0];
    REQUIRE(v->npatterns == 5);
    CHECK_STR(v->patterns[0].text, " -exec bypass");
    CHECK_STR(v->patterns[1].text, " /exec bypass");
    CHECK_STR(v->patterns[2].text, " \xE2\x80\x93"
                                   "exec bypass"); /* en dash */
    CHECK_STR(v->patterns[3].text, " \xE2\x80\x94"
                                   "exec bypass"); /* em dash */
    CHECK_STR(v->patterns[4].text, " \xE2\x80\x95"
                                   "exec bypass"); /* horizontal bar */
    CHECK_INT(v->patterns[0].match, KZ_MATCH_CONTAINS);
    kz_sigma_ruleset_free(&rs);
    /* Two word-start dashes: every combination (25); a dash inside a word is left alone. */
    it = load_item(&rs, "        CommandLine|windash|contains: '-a -b x-y'\n");
    REQUIRE(it);
    CHECK_INT(it->values[0].npatterns, 25);
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        CommandLine|windash: 'x-y'\n");
    REQUIRE(it);
    CHECK_INT(it->values[0].npatterns, 1);
    kz_sigma_ruleset_free(&rs);
}

/* ---- regular expressions ---- */

KZ_TEST(sigma_regex_and_flags) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(
        &rs, "        TargetFilename|re|i|m|s: '^C:\\\\Users\\\\[^\\\\]+\\\\NTUSER\\.DAT$'\n");
    REQUIRE(it);
    CHECK_INT(it->mods, KZ_SM(RE) | KZ_SM(RE_I) | KZ_SM(RE_M) | KZ_SM(RE_S));
    CHECK_INT(it->values[0].type, KZ_SV_REGEX);
    CHECK_STR(it->values[0].raw, "^C:\\\\Users\\\\[^\\\\]+\\\\NTUSER\\.DAT$"); /* untouched */
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|re|contains: 'a'\n"), NULL),
              "|re combines only with");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|i: 'a'\n"), NULL), "need it first");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|re: '(abc'\n"), NULL), "a `(` is never closed");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|re: '[abc'\n"), NULL), "never closed");
    kz_sigma_ruleset_free(&rs);
    /* ( inside a class and escaped parentheses are not groups. */
    it = load_item(&rs, "        F|re: '[(]\\(x\\)'\n");
    CHECK(it != NULL);
    kz_sigma_ruleset_free(&rs);
}

/* ---- encodings ---- */

KZ_TEST(sigma_base64_and_base64offset) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(&rs, "        F|base64: 'test'\n");
    REQUIRE(it);
    CHECK_STR(it->values[0].patterns[0].text, "dGVzdA==");
    CHECK_INT(it->values[0].patterns[0].match, KZ_MATCH_EXACT);
    CHECK_INT(it->values[0].patterns[0].cased, 1);
    kz_sigma_ruleset_free(&rs);
    /* base64("test") = dGVzdA==, base64(" test") = IHRlc3Q=, base64("  test") = ICB0ZXN0; the
     * stable middles are dGVzd, Rlc3 and 0ZXN0. */
    it = load_item(&rs, "        F|base64offset|contains: 'test'\n");
    REQUIRE(it && it->values[0].npatterns == 3);
    CHECK_STR(it->values[0].patterns[0].text, "dGVzd");
    CHECK_STR(it->values[0].patterns[1].text, "Rlc3");
    CHECK_STR(it->values[0].patterns[2].text, "0ZXN0");
    CHECK_INT(it->values[0].patterns[2].match, KZ_MATCH_CONTAINS);
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        F|wide|base64: 'cmd'\n");
    REQUIRE(it);
    CHECK_STR(it->values[0].patterns[0].text, "YwBtAGQA");
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        F|utf16le|base64offset|contains: 'cmd'\n");
    REQUIRE(it);
    CHECK_STR(it->values[0].patterns[0].text, "YwBtAGQA");
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        F|utf16be|base64: 'cmd'\n");
    REQUIRE(it);
    CHECK_STR(it->values[0].patterns[0].text, "AGMAbQBk");
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        F|utf16|base64: 'cmd'\n");
    REQUIRE(it);
    CHECK_STR(it->values[0].patterns[0].text, "//5jAG0AZAA=");
    kz_sigma_ruleset_free(&rs);

    uint32_t line = 0;
    CHECK_HAS(fail_reason(&rs, one_rule("        CommandLine|base64offset: 'x'\n"), &line),
              "modifier `|base64offset` on field `CommandLine`: |base64offset finds the value "
              "inside a longer base64 text, so it needs |contains");
    CHECK_INT(line, 6);
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|contains|base64offset: 'x'\n"), NULL),
              "|contains must come after |base64offset");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|wide: 'x'\n"), NULL),
              "add |base64 or |base64offset after it");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|base64: 'a*b'\n"), NULL), "has a wildcard");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|base64|utf16le: 'a'\n"), NULL),
              "|utf16le must come before |base64");
    kz_sigma_ruleset_free(&rs);
}

/* ---- numbers, time parts, cidr, expand, fieldref, null ---- */

KZ_TEST(sigma_numeric_time_cidr_expand_fieldref_null) {
    struct kz_sigma_ruleset rs;
    const struct kz_sigma_item *it = load_item(&rs, "        Count|gte: 10\n");
    REQUIRE(it);
    CHECK(it->mods == KZ_SM(GTE) && it->values[0].type == KZ_SV_NUMBER);
    CHECK(it->values[0].num == 10.0);
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        Count|lt: ten\n"), NULL), "needs a number");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        Count|lt|gt: 1\n"), NULL), "use one of lt");
    kz_sigma_ruleset_free(&rs);
    it = load_item(&rs, "        UtcTime|hour|gte: 22\n");
    REQUIRE(it);
    CHECK_INT(it->mods, KZ_SM(HOUR) | KZ_SM(GTE));
    kz_sigma_ruleset_free(&rs);
    const char *parts[] = {"minute", "day", "week", "month", "year"};
    for (int i = 0; i < 5; i++) {
        char body[100];
        snprintf(body, sizeof body, "        UtcTime|%s: 3\n", parts[i]);
        CHECK_MSG(load_item(&rs, body) != NULL, "|%s did not load", parts[i]);
        kz_sigma_ruleset_free(&rs);
    }

    it = load_item(&rs, "        DestinationIp|cidr:\n          - 192.168.1.77/24\n"
                        "          - 'fe80::1/10'\n          - 10.1.2.3\n");
    REQUIRE(it && it->nvalues == 3);
    const struct kz_sigma_value *v = &it->values[0];
    CHECK(v->type == KZ_SV_CIDR && v->family == 4 && v->prefix == 24);
    CHECK(v->addr[0] == 192 && v->addr[1] == 168 && v->addr[2] == 1 && v->addr[3] == 0);
    v = &it->values[1];
    CHECK(v->family == 6 && v->prefix == 10 && v->addr[0] == 0xfe && v->addr[1] == 0x80 &&
          v->addr[15] == 0);
    CHECK(it->values[2].prefix == 32 && it->values[2].addr[3] == 3);
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        Ip|cidr: 10.0.0.0/33\n"), NULL),
              "is not an IPv4 or IPv6 network");
    kz_sigma_ruleset_free(&rs);

    it = load_item(&rs, "        Path|expand|startswith: '%SystemRoot%\\Temp'\n");
    REQUIRE(it);
    CHECK(it->mods & KZ_SM(EXPAND));
    CHECK_STR(it->values[0].patterns[0].text, "%systemroot%\\temp");
    CHECK_INT(rs.placeholders, 1);
    kz_sigma_ruleset_free(&rs);

    it = load_item(&rs, "        SubjectUserName|fieldref: TargetUserName\n");
    REQUIRE(it);
    CHECK_INT(it->values[0].type, KZ_SV_FIELDREF);
    CHECK_INT(it->values[0].field, kz_intern_find("TargetUserName", 14));
    kz_sigma_ruleset_free(&rs);

    it = load_item(&rs, "        F1: null\n        F2:\n        F3: ~\n        F4: 'null'\n");
    REQUIRE(it);
    const struct kz_sigma_group *g = &sel(rs.rules[0], "sel")->groups[0];
    REQUIRE(g->nitems == 4);
    CHECK_INT(g->items[0].values[0].type, KZ_SV_NULL);
    CHECK_INT(g->items[1].values[0].type, KZ_SV_NULL);
    CHECK_INT(g->items[2].values[0].type, KZ_SV_NULL);
    CHECK_INT(g->items[3].values[0].type, KZ_SV_STRING); /* quoted: the word null */
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, one_rule("        F|contains: null\n"), NULL), "a null value means");
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_numbers_booleans_lists_and_groups) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: T\nlogsource: {product: windows}\ndetection:\n"
                    "  sel:\n    EventID: 4688\n    Quoted: '4688'\n    Flag: true\n"
                    "    Many: [1, 2, 0x10]\n"
                    "  alt:\n    - Image: a.exe\n    - Image: b.exe\n      User: x\n"
                    "  condition: sel or alt\n";
    REQUIRE(load(&rs, y) == 0 && rs.nrules == 1);
    const struct kz_sigma_group *g = &sel(rs.rules[0], "sel")->groups[0];
    REQUIRE(g->nitems == 4);
    CHECK_INT(g->items[0].values[0].type, KZ_SV_NUMBER);
    CHECK(g->items[0].values[0].num == 4688.0);
    CHECK_STR(g->items[0].values[0].patterns[0].text, "4688");
    CHECK_INT(g->items[1].values[0].type, KZ_SV_STRING);
    CHECK_INT(g->items[2].values[0].type, KZ_SV_BOOL);
    CHECK_INT(g->items[2].values[0].boolean, 1);
    REQUIRE(g->items[3].nvalues == 3);
    CHECK(g->items[3].values[2].num == 16.0);
    CHECK_STR(g->items[3].values[2].patterns[0].text, "0x10"); /* the text is kept too */
    const struct kz_sigma_selection *alt = sel(rs.rules[0], "alt");
    REQUIRE(alt && alt->ngroups == 2);
    CHECK_INT(alt->groups[0].nitems, 1);
    CHECK_INT(alt->groups[1].nitems, 2);
    kz_sigma_ruleset_free(&rs);
}

/* ---- keywords ---- */

KZ_TEST(sigma_keyword_selections) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: T\nlogsource: {product: linux}\ndetection:\n"
                    "  keywords:\n    - 'Failed password'\n    - 'evil*thing'\n"
                    "  one: 'mimikatz'\n"
                    "  both:\n    '|all':\n      - 'sekurlsa'\n      - 'logonpasswords'\n"
                    "  condition: keywords or one or both\n";
    REQUIRE(load(&rs, y) == 0);
    REQUIRE(rs.nrules == 1);
    const struct kz_sigma_item *it = item0(rs.rules[0], "keywords");
    REQUIRE(it && it->nvalues == 2);
    CHECK_INT(it->field, 0);
    CHECK_INT(it->values[0].patterns[0].match, KZ_MATCH_CONTAINS);
    CHECK_STR(it->values[0].patterns[0].text, "failed password");
    CHECK_INT(it->values[1].patterns[0].match, KZ_MATCH_GLOB);
    it = item0(rs.rules[0], "one");
    REQUIRE(it && it->nvalues == 1);
    CHECK_STR(it->values[0].patterns[0].text, "mimikatz");
    it = item0(rs.rules[0], "both");
    REQUIRE(it);
    CHECK(it->field == 0 && (it->mods & KZ_SM(ALL)) && it->nvalues == 2);
    kz_sigma_ruleset_free(&rs);
}

/* ---- conditions ---- */

static const char *cond_of(struct kz_sigma_ruleset *rs, const char *cond, char *buf, size_t size) {
    char y[1024];
    snprintf(y, sizeof y,
             "title: T\nlogsource: {product: windows}\ndetection:\n"
             "  sel1: {A: 1}\n  sel2: {B: 2}\n  sel3: {C: 3}\n  filter_a: {D: 4}\n"
             "  _hidden: {E: 5}\n  condition: %s\n",
             cond);
    buf[0] = 0;
    if (load(rs, y) || rs->nrules != 1)
        snprintf(buf, size, "ERROR %s", rs->failures_kept ? rs->failures[0].reason : "?");
    else
        cond_text(rs->rules[0], buf, size);
    kz_sigma_ruleset_free(rs);
    return buf;
}

KZ_TEST(sigma_condition_precedence_and_forms) {
    struct kz_sigma_ruleset rs;
    char b[600];
    CHECK_STR(cond_of(&rs, "sel1", b, sizeof b), "sel1");
    CHECK_STR(cond_of(&rs, "sel1 or sel2 and not sel3", b, sizeof b),
              "(sel1 or (sel2 and not sel3))");
    CHECK_STR(cond_of(&rs, "not sel1 and sel2", b, sizeof b), "(not sel1 and sel2)");
    CHECK_STR(cond_of(&rs, "(sel1 or sel2) and sel3", b, sizeof b), "((sel1 or sel2) and sel3)");
    CHECK_STR(cond_of(&rs, "not (sel1 or sel2)", b, sizeof b), "not (sel1 or sel2)");
    CHECK_STR(cond_of(&rs, "not not sel1", b, sizeof b), "not not sel1");
    CHECK_STR(cond_of(&rs, "sel1 and sel2 and sel3", b, sizeof b), "(sel1 and sel2 and sel3)");
    CHECK_STR(cond_of(&rs, "1 of sel*", b, sizeof b), "(sel1 or sel2 or sel3)");
    CHECK_STR(cond_of(&rs, "all of sel*", b, sizeof b), "(sel1 and sel2 and sel3)");
    CHECK_STR(cond_of(&rs, "1 of them", b, sizeof b), "(sel1 or sel2 or sel3 or filter_a)");
    CHECK_STR(cond_of(&rs, "all of them", b, sizeof b), "(sel1 and sel2 and sel3 and filter_a)");
    CHECK_STR(cond_of(&rs, "sel1 and not 1 of filter_*", b, sizeof b), "(sel1 and not (filter_a))");
    CHECK_STR(cond_of(&rs, "all of sel* and not _hidden", b, sizeof b),
              "((sel1 and sel2 and sel3) and not _hidden)");
    CHECK_STR(cond_of(&rs, "[sel1, sel2]", b, sizeof b), "(sel1 or sel2)"); /* condition list */
}

KZ_TEST(sigma_condition_errors) {
    struct kz_sigma_ruleset rs;
    char b[600];
    CHECK_HAS(cond_of(&rs, "sel1 and nope", b, sizeof b),
              "condition `sel1 and nope`: at column 10: `nope` is not a selection");
    CHECK_HAS(cond_of(&rs, "1 of nothing*", b, sizeof b), "no selection matches `nothing*`");
    CHECK_HAS(cond_of(&rs, "(sel1 or sel2", b, sizeof b), "expected `)`");
    CHECK_HAS(cond_of(&rs, "sel1 or sel2)", b, sizeof b), "closes no bracket");
    CHECK_HAS(cond_of(&rs, "sel1 and", b, sizeof b), "expected a selection name");
    CHECK_HAS(cond_of(&rs, "sel1 sel2", b, sizeof b), "expected `and`, `or` or the end");
    CHECK_HAS(cond_of(&rs, "2 of sel*", b, sizeof b), "only `1 of` and `all of`");
    CHECK_HAS(cond_of(&rs, "1 sel*", b, sizeof b), "expected `of`");
    CHECK_HAS(cond_of(&rs, "sel*", b, sizeof b), "is a pattern");
    CHECK_HAS(cond_of(&rs, "sel1 | count() by User > 5", b, sizeof b), "Sigma 1 aggregation");
    CHECK_HAS(cond_of(&rs, "sel1 near sel2", b, sizeof b), "expected `and`");
    CHECK_HAS(cond_of(&rs, "near sel2", b, sizeof b), "temporal correlation");
    CHECK_HAS(cond_of(&rs, "''", b, sizeof b), "condition is empty");
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 70; i++)
        deep[n++] = '(';
    memcpy(deep + n, "sel1", 4);
    n += 4;
    for (int i = 0; i < 70; i++)
        deep[n++] = ')';
    deep[n] = 0;
    CHECK_HAS(cond_of(&rs, deep, b, sizeof b), "nest deeper than 64");
}

/* ---- correlations ---- */

KZ_TEST(sigma_correlation_chain_with_names_aliases_generate) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: Brute force then success\nid: c0000000-0000-0000-0000-000000000001\n"
                    "level: high\ncorrelation:\n  type: temporal_ordered\n"
                    "  rules:\n    - many_failed\n    - success\n"
                    "  group-by:\n    - user\n  timespan: 10m\n"
                    "  aliases:\n    user:\n      many_failed: TargetUserName\n"
                    "      success: TargetUserName\n"
                    "  generate: true\n"
                    "---\n"
                    "title: Many failed\nname: many_failed\ncorrelation:\n  type: event_count\n"
                    "  rules: failed\n  group-by: [TargetUserName]\n  timespan: 1h\n"
                    "  condition:\n    gte: 10\n    lt: 1000\n"
                    "---\n"
                    "title: Failed logon\nname: failed\nlogsource: {product: windows, service: "
                    "security}\ndetection:\n  sel: {EventID: 4625}\n  condition: sel\n"
                    "---\n"
                    "title: Logon\nname: success\nid: d0000000-0000-0000-0000-000000000002\n"
                    "logsource: {product: windows, service: security}\n"
                    "detection:\n  sel: {EventID: 4624}\n  condition: sel\n"
                    "---\n"
                    "title: Many users\ncorrelation:\n  type: value_count\n"
                    "  rules: [d0000000-0000-0000-0000-000000000002]\n  group-by: [IpAddress]\n"
                    "  timespan: 1d\n  condition: {field: TargetUserName, gt: 20}\n";
    REQUIRE(load(&rs, y) == 0);
    CHECK_INT(rs.nfailures, 0);
    for (uint32_t i = 0; i < rs.failures_kept; i++)
        printf("    unexpected: %s:%u: %s\n", rs.failures[i].file, rs.failures[i].line,
               rs.failures[i].reason);
    REQUIRE(rs.nrules == 5);
    CHECK_INT(rs.counts[KZ_SIGMA_CORRELATION], 3);
    CHECK_INT(rs.counts[KZ_SIGMA_DETECTION], 2);
    const struct kz_sigma_rule *top = rs.rules[0], *mf = rs.rules[1];
    CHECK_INT(top->kind, KZ_SIGMA_CORRELATION);
    CHECK_INT(top->corr.type, KZ_CORR_TEMPORAL_ORDERED);
    CHECK_INT(top->corr.timespan_s, 600);
    CHECK_INT(top->corr.generate, 1);
    REQUIRE(top->corr.nrefs == 2);
    CHECK(top->corr.rules[0] == mf);
    CHECK(top->corr.rules[1] == rs.rules[3]);
    REQUIRE(top->corr.naliases == 1 && top->corr.aliases[0].nmaps == 2);
    CHECK_INT(top->corr.aliases[0].alias, kz_intern_find("user", 4));
    CHECK(top->corr.aliases[0].rules[1] == rs.rules[3]);
    CHECK_INT(top->corr.aliases[0].fields[0], kz_intern_find("TargetUserName", 14));
    CHECK_INT(mf->corr.type, KZ_CORR_EVENT_COUNT);
    CHECK_INT(mf->corr.timespan_s, 3600);
    REQUIRE(mf->corr.ncmp == 2);
    CHECK(mf->corr.cmp_op[0] == KZ_CMP_GTE && mf->corr.cmp_val[0] == 10.0);
    CHECK(mf->corr.cmp_op[1] == KZ_CMP_LT && mf->corr.cmp_val[1] == 1000.0);
    CHECK(mf->corr.rules[0] == rs.rules[2]);
    const struct kz_sigma_rule *vc = rs.rules[4];
    CHECK_INT(vc->corr.type, KZ_CORR_VALUE_COUNT);
    CHECK_INT(vc->corr.field, kz_intern_find("TargetUserName", 14));
    CHECK(vc->corr.rules[0] == rs.rules[3]); /* by id */
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_correlation_errors) {
    struct kz_sigma_ruleset rs;
    const char *base = "title: C\ncorrelation:\n  type: %s\n  rules: [r]\n  group-by: [U]\n"
                       "  timespan: %s\n%s"
                       "---\ntitle: R\nname: r\nlogsource: {product: x}\n"
                       "detection: {s: {A: 1}, condition: s}\n";
    struct {
        const char *type, *timespan, *extra, *want;
    } cases[] = {
        {"event_count", "5m", "", "`condition` is missing"},
        {"event_count", "5 minutes", "  condition: {gte: 1}\n", "timespan `5 minutes`"},
        {"value_count", "5m", "  condition: {gte: 1}\n", "needs `field:`"},
        {"value_sum", "5m", "  condition: {gte: 1}\n", "needs `field:`"},
        {"event_cnt", "5m", "  condition: {gte: 1}\n", "unknown type `event_cnt`"},
        {"event_count", "5m", "  condition: {more: 1}\n", "unknown key `more`"},
        {"event_count", "5m", "  condition: {gte: many}\n", "`gte` needs a number"},
        {"temporal", "5m", "", "needs two or more rules"},
        {"event_count", "5m", "  condition: {gte: 1}\n  groupby: [x]\n", "unknown key `groupby`"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char y[1024];
        snprintf(y, sizeof y, base, cases[i].type, cases[i].timespan, cases[i].extra);
        CHECK_HAS(fail_reason(&rs, y, NULL), cases[i].want);
        kz_sigma_ruleset_free(&rs);
    }
    /* Percentile and average load. */
    const char *ok = "title: C\ncorrelation:\n  type: value_percentile\n  rules: [r]\n"
                     "  timespan: 1h\n  condition: {field: Bytes, percentile: 95, gt: 1000}\n"
                     "---\ntitle: R\nname: r\nlogsource: {product: x}\n"
                     "detection: {s: {A: 1}, condition: s}\n";
    REQUIRE(load(&rs, ok) == 0);
    CHECK_INT(rs.nfailures, 0);
    REQUIRE(rs.nrules == 2);
    CHECK(rs.rules[0]->corr.percentile == 95.0);
    kz_sigma_ruleset_free(&rs);
    /* A reference to a rule that is not loaded fails at link time, with the name. */
    const char *missing = "title: C\ncorrelation:\n  type: event_count\n  rules: [ghost]\n"
                          "  timespan: 1h\n  condition: {gte: 2}\n";
    CHECK_HAS(fail_reason(&rs, missing, NULL), "referenced rule `ghost` is not loaded");
    CHECK_INT(rs.nrules, 0);
    CHECK_INT(rs.counts[KZ_SIGMA_CORRELATION], 0);
    kz_sigma_ruleset_free(&rs);
    /* Two correlations naming each other. */
    const char *cycle = "title: A\nname: a\ncorrelation: {type: event_count, rules: [b], "
                        "timespan: 1h, condition: {gte: 2}}\n---\n"
                        "title: B\nname: b\ncorrelation: {type: event_count, rules: [a], "
                        "timespan: 1h, condition: {gte: 2}}\n";
    CHECK_HAS(fail_reason(&rs, cycle, NULL), "cycle");
    CHECK_INT(rs.nrules, 0);
    kz_sigma_ruleset_free(&rs);
}

/* ---- filters ---- */

KZ_TEST(sigma_filters_load_and_link) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: Rule\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\n"
                    "logsource: {product: windows, category: process_creation}\n"
                    "detection: {sel: {Image|endswith: '\\whoami.exe'}, condition: sel}\n"
                    "---\n"
                    "title: Not on domain controllers\nlogsource: {product: windows}\n"
                    "filter:\n  rules:\n    - 6f3e2987-db24-4c78-a860-b4f4095a7095\n"
                    "    - not-loaded-rule\n"
                    "  selection:\n    ComputerName|startswith: 'DC-'\n"
                    "  condition: not selection\n";
    REQUIRE(load(&rs, y) == 0);
    CHECK_INT(rs.nfailures, 0);
    REQUIRE(rs.nrules == 2);
    const struct kz_sigma_rule *f = rs.rules[1];
    CHECK_INT(f->kind, KZ_SIGMA_FILTER);
    CHECK_INT(rs.counts[KZ_SIGMA_FILTER], 1);
    REQUIRE(f->filter.nrefs == 2);
    CHECK(f->filter.rules[0] == rs.rules[0]);
    CHECK(f->filter.rules[1] == NULL); /* a filter for a rule not loaded is harmless */
    REQUIRE(f->detection.nselections == 1);
    char b[100];
    cond_text(f, b, sizeof b);
    CHECK_STR(b, "not selection");
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, "title: F\nfilter:\n  sel: {A: 1}\n  condition: not sel\n", NULL),
              "filter: `rules` is missing");
    kz_sigma_ruleset_free(&rs);
}

/* ---- collections: action global / reset / repeat ---- */

KZ_TEST(sigma_collections_global_reset_repeat) {
    struct kz_sigma_ruleset rs;
    const char *y = "action: global\ntitle: Shared\nlevel: medium\n"
                    "logsource: {product: windows}\ndetection:\n  condition: sel\n"
                    "---\n"
                    "logsource: {category: process_creation}\ndetection:\n  sel: {Image: a.exe}\n"
                    "---\n"
                    "action: repeat\ndetection:\n  sel: {Image: b.exe}\n"
                    "---\n"
                    "action: reset\n"
                    "---\n"
                    "title: Alone\nlogsource: {product: linux}\n"
                    "detection: {k: [x], condition: k}\n";
    REQUIRE(load(&rs, y) == 0);
    for (uint32_t i = 0; i < rs.failures_kept; i++)
        printf("    unexpected: %u: %s\n", rs.failures[i].line, rs.failures[i].reason);
    REQUIRE(rs.nrules == 3);
    const struct kz_sigma_rule *a = rs.rules[0], *b = rs.rules[1], *c = rs.rules[2];
    CHECK_STR(a->title, "Shared");
    CHECK_INT(a->level, KZ_LEVEL_MEDIUM);
    CHECK_STR(a->logsource.product, "windows"); /* merged map */
    CHECK_STR(a->logsource.category, "process_creation");
    CHECK_STR(item0(a, "sel")->values[0].patterns[0].text, "a.exe");
    CHECK_STR(b->logsource.category, "process_creation"); /* repeated */
    CHECK_STR(item0(b, "sel")->values[0].patterns[0].text, "b.exe");
    CHECK_STR(c->title, "Alone");
    CHECK_INT(c->level, KZ_LEVEL_NONE); /* global was reset */
    kz_sigma_ruleset_free(&rs);
    CHECK_HAS(fail_reason(&rs, "action: frobnicate\n", NULL), "unknown `action: frobnicate`");
    kz_sigma_ruleset_free(&rs);
}

/* ---- malformed rules: the reason and the line ---- */

KZ_TEST(sigma_malformed_rules_report_line_and_reason) {
    struct kz_sigma_ruleset rs;
    struct {
        const char *yaml, *want;
        uint32_t line;
    } cases[] = {
        {"title: T\nlogsource: {product: w}\ndetection:\n  sel:\n    A: [x\n", "YAML syntax error",
         6},
        {"logsource: {product: w}\ndetection: {s: {A: 1}, condition: s}\n", "`title` is missing",
         1},
        {"title: T\nlogsource: {product: w}\n", "not a Sigma rule", 1},
        {"title: T\ndetection: {s: {A: 1}, condition: s}\n", "`logsource` is missing", 1},
        {"title: T\nlevel: severe\nlogsource: {product: w}\ndetection: {s: {A: 1}, condition: "
         "s}\n",
         "level `severe`", 2},
        {"title: T\nstatus: beta\nlogsource: {product: w}\ndetection: {s: {A: 1}, condition: "
         "s}\n",
         "status `beta`", 2},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A:\n      B: 1\n  condition: "
         "s\n",
         "the value is a map", 6},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A: []\n  condition: s\n",
         "empty list of values", 5},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A: 1\n    A: 2\n  condition: "
         "s\n",
         "key `A` appears twice", 6},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A|contain: x\n  condition: s\n",
         "unknown modifier `|contain`", 5},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A|contains|endswith: x\n  "
         "condition: s\n",
         "exclude each other", 5},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    A: x\n", "has no `condition`",
         3},
        {"title: T\nlogsource: {product: w}\ndetection:\n  condition: s\n", "defines no selection",
         3},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n  condition: s\n",
         "selection `s` is empty", 4},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s: {A: 1}\n  timeframe: 5m\n  "
         "condition: s\n",
         "`timeframe` belongs to Sigma 1", 5},
        {"- a\n- b\n", "not a Sigma rule", 1},
        {"title: T\nlogsource: {product: w}\ndetection:\n  s:\n    - [a, b]\n  condition: s\n",
         "a list entry is a list", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t line = 0;
        const char *why = fail_reason(&rs, cases[i].yaml, &line);
        CHECK_MSG(strstr(why, cases[i].want), "case %zu: \"%s\" lacks \"%s\"", i, why,
                  cases[i].want);
        CHECK_MSG(line == cases[i].line, "case %zu (%s): line %u, want %u", i, cases[i].want, line,
                  cases[i].line);
        CHECK_MSG(rs.nrules == 0 && rs.nfailures == 1, "case %zu: %u rules, %u failures", i,
                  rs.nrules, rs.nfailures);
        kz_sigma_ruleset_free(&rs);
    }
}

KZ_TEST(sigma_failure_does_not_stop_the_next_document) {
    struct kz_sigma_ruleset rs;
    const char *y = "title: Bad\nlogsource: {product: w}\ndetection: {s: {A|nope: 1}, condition: "
                    "s}\n---\ntitle: Good\nlogsource: {product: w}\ndetection: {s: {A: 1}, "
                    "condition: s}\n";
    REQUIRE(load(&rs, y) == 0);
    CHECK_INT(rs.nrules, 1);
    CHECK_INT(rs.nfailures, 1);
    CHECK_HAS(rs.failures[0].reason, "rule `Bad`: selection `s`: field `A`: unknown modifier");
    CHECK_STR(rs.failures[0].file, "test.yml");
    CHECK_INT(rs.failures[0].line, 3);
    kz_sigma_ruleset_free(&rs);
}

/* ---- hostile input ---- */

KZ_TEST(sigma_hostile_yaml_hits_limits_not_memory) {
    struct kz_sigma_ruleset rs;
    /* 200 levels of nesting. */
    char *deep = kz_malloc(1000);
    REQUIRE(deep);
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        deep[n++] = '[';
    for (int i = 0; i < 200; i++)
        deep[n++] = ']';
    deep[n] = 0;
    CHECK_HAS(fail_reason(&rs, deep, NULL), "nests deeper than 64");
    kz_sigma_ruleset_free(&rs);
    kz_free(deep);
    /* Billion laughs: every level doubles ten times; copies stop at the node budget. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    CHECK_HAS(fail_reason(&rs, bomb, NULL), "YAML nodes in one file");
    kz_sigma_ruleset_free(&rs);
    /* Many word-start dashes under windash. */
    CHECK_HAS(fail_reason(&rs, one_rule("        F|windash: '-a -b -c -d -e -f'\n"), NULL),
              "at most 5 dashes");
    kz_sigma_ruleset_free(&rs);
    /* Aliases that stay small are fine. */
    const char *alias = "title: T\nlogsource: &ls {product: windows}\n"
                        "detection:\n  s: {A: &v hello}\n  t: {B: *v}\n  condition: s and t\n";
    REQUIRE(load(&rs, alias) == 0);
    CHECK_INT(rs.nrules, 1);
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_load_survives_every_allocation_failure) {
    const char *y =
        "title: T\nid: x\nlogsource: {product: w}\ndetection:\n"
        "  s:\n    A|windash|contains: ['-x', 'y']\n    B|wide|base64offset|contains: z\n"
        "  k: [kw]\n  condition: s or 1 of k*\n"
        "---\ntitle: C\ncorrelation: {type: event_count, rules: [x], timespan: 1h, "
        "condition: {gte: 2}}\n";
    size_t base = kz_alloc_in_use();
    int ok_runs = 0;
    for (long n = 0; n < 400; n++) {
        struct kz_sigma_ruleset rs;
        struct kz_err err = {0};
        kz_sigma_ruleset_init(&rs);
        kz_alloc_fail_after(n);
        int rc = kz_sigma_load_buffer(&rs, "t.yml", y, strlen(y), &err);
        if (!rc) rc = kz_sigma_ruleset_link(&rs);
        long failures = kz_alloc_failures();
        kz_alloc_fail_never();
        if (!rc && failures == 0) {
            CHECK_INT(rs.nrules, 2);
            ok_runs++;
        }
        kz_sigma_ruleset_free(&rs);
        CHECK_INT(kz_alloc_in_use(), base);
        if (ok_runs) break;
    }
    CHECK_INT(ok_runs, 1);
}

/* ---- files and folders ---- */

KZ_TEST(sigma_load_folder_sorted_and_recursive) {
    char dir[] = "/tmp/kz_sigma_XXXXXX";
    REQUIRE(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/sub", dir);
    REQUIRE(mkdir(p, 0700) == 0);
    const char *names[] = {"b.yml", "a.yaml", "sub/c.yml", "notes.txt"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        REQUIRE(f);
        fprintf(f, "title: %s\nlogsource: {product: w}\ndetection: {s: {A: 1}, condition: s}\n",
                names[i]);
        fclose(f);
    }
    struct kz_sigma_ruleset rs;
    struct kz_err err = {0};
    kz_sigma_ruleset_init(&rs);
    CHECK_INT(kz_sigma_load_path(&rs, dir, &err), 0);
    CHECK_INT(rs.nfiles, 3);
    REQUIRE(rs.nrules == 3);
    CHECK_STR(rs.rules[0]->title, "a.yaml");
    CHECK_STR(rs.rules[1]->title, "b.yml");
    CHECK_STR(rs.rules[2]->title, "sub/c.yml");
    snprintf(p, sizeof p, "%s/missing", dir);
    CHECK(kz_sigma_load_path(&rs, p, &err) != 0);
    CHECK_INT(rs.nfailures, 1);
    kz_sigma_ruleset_free(&rs);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
}

/* ---- the SigmaHQ repository ---- */

KZ_TEST(sigma_sigmahq_rules_load) {
    const char *shared = kz_test_shared();
    if (!shared) {
        kz_test_skip("../shared/data absent: SigmaHQ load rate not measured");
        return;
    }
    static const char *const dirs[] = {"rules",
                                       "rules-compliance",
                                       "rules-dfir",
                                       "rules-emerging-threats",
                                       "rules-placeholder",
                                       "rules-threat-hunting"};
    struct kz_sigma_ruleset rs;
    kz_sigma_ruleset_init(&rs);
    int found = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/sigma/SigmaHQ/%s", shared, dirs[i]);
        if (stat(p, &st) != 0) continue;
        found++;
        struct kz_err err = {0};
        int rc = kz_sigma_load_path(&rs, p, &err);
        CHECK_MSG(rc == 0, "%s: %s", p, err.msg);
    }
    if (!found) {
        kz_sigma_ruleset_free(&rs);
        kz_test_skip("../shared/data/sigma/SigmaHQ absent");
        return;
    }
    CHECK_INT(kz_sigma_ruleset_link(&rs), 0);
    double total = (double)rs.nrules + rs.nfailures;
    double rate = total > 0 ? (double)rs.nrules / total : 0;
    printf("    SigmaHQ: %u files, %u rules loaded, %u failed (%.2f%%)\n", rs.nfiles, rs.nrules,
           rs.nfailures, 100.0 * rate);
    for (uint32_t i = 0; i < rs.failures_kept; i++)
        printf("    failed: %s:%u: %s\n", rs.failures[i].file, rs.failures[i].line,
               rs.failures[i].reason);
    CHECK(rs.nfiles > 1000);
    CHECK_MSG(rate >= 0.995, "only %.2f%% of SigmaHQ rules load", 100.0 * rate);
    kz_sigma_ruleset_free(&rs);
}
