/* test_eval.c - unit tests of src/sim/eval: scoring findings against a simulation's truth.
 *
 * The truth, scenario and findings below are small and hand-written; every expected figure was
 * worked out by hand from the rules in eval.h (the reasoning is in the comments next to each
 * finding), never taken from what the code printed. */
#include "unit.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "sigma/rule.h"
#include "sim/eval.h"

#include <string.h>

/* ---- the hand-made simulation ---- */

/* Two scenarios of three steps each. nightsky2021's steps are written out of order (2, 1, 3) to
 * check they come back sorted. Times are UTC. */
static const char truth[] =
    "{\"scenario\":\"ntt2020\",\"step\":1,\"stage\":\"initial-access\",\"technique\":\"T1133\","
    "\"host\":\"VPNGW01\",\"user\":\"CORP\\\\tanaka.h\",\"start\":\"2026-03-02T10:00:00Z\","
    "\"end\":\"2026-03-02T10:30:00Z\",\"records\":[{\"file\":\"VPNGW01/fortigate.log\","
    "\"line\":120}]}\n"
    "{\"scenario\":\"ntt2020\",\"step\":2,\"stage\":\"lateral-movement\",\"technique\":"
    "\"T1021.001\",\"host\":\"VDI-07\",\"user\":\"CORP\\\\tanaka.h\",\"start\":"
    "\"2026-03-02T10:35:00Z\",\"end\":\"2026-03-02T11:00:00Z\",\"records\":[{\"file\":"
    "\"VDI-07/Security.evtx\",\"record_id\":5001},{\"file\":\"VDI-07/Security.evtx\","
    "\"record_id\":5002}]}\n"
    "{\"scenario\":\"ntt2020\",\"step\":3,\"stage\":\"collection\",\"technique\":\"T1039\","
    "\"host\":\"FS01\",\"user\":\"CORP\\\\tanaka.h\",\"start\":\"2026-03-02T11:10:00Z\",\"end\":"
    "\"2026-03-02T12:00:00Z\",\"records\":[{\"file\":\"FS01/Security.evtx\",\"record_id\":900}]}\n"
    "{\"scenario\":\"nightsky2021\",\"step\":2,\"stage\":\"execution\",\"technique\":\"T1059\","
    "\"host\":\"PWRESET01\",\"user\":null,\"start\":\"2026-03-04T01:00:00Z\",\"end\":"
    "\"2026-03-04T01:20:00Z\",\"records\":[{\"file\":"
    "\"PWRESET01/Microsoft-Windows-Sysmon%4Operational.evtx\",\"record_id\":77}]}\n"
    "{\"scenario\":\"nightsky2021\",\"step\":1,\"stage\":\"initial-access\",\"technique\":"
    "\"T1190\","
    "\"host\":\"PROXY01\",\"start\":\"2026-03-04T00:50:00Z\",\"end\":\"2026-03-04T00:55:00Z\","
    "\"records\":[{\"file\":\"PROXY01/access.log\",\"line\":3}]}\n"
    "\r\n"
    "{\"scenario\":\"nightsky2021\",\"step\":3,\"stage\":\"persistence\",\"technique\":"
    "\"T1543.003\",\"host\":\"DC01\",\"user\":\"CORP\\\\svc_adss\",\"start\":"
    "\"2026-03-04T02:00:00Z\",\"end\":\"2026-03-04T02:10:00Z\",\"records\":[{\"file\":"
    "\"DC01/System.evtx\",\"record_id\":42}]}\n";

static const char scenario[] =
    "{\"seed\":1,\"users\":10,\"days\":5,\"benign_user_days\":40,\"scenarios\":["
    "{\"name\":\"ntt2020\",\"accounts\":[{\"account\":\"CORP\\\\tanaka.h\",\"sources\":"
    "[\"203.0.113.7\",\"DESKTOP-BYOD\"]}],\"files_exfiltrated\":0},"
    "{\"name\":\"nightsky2021\",\"files_exfiltrated\":3242}],"
    "\"confounders\":["
    "{\"kind\":\"vpn_travel\",\"account\":\"CORP\\\\sato.y\",\"start\":\"2026-03-03T00:00:00Z\","
    "\"end\":\"2026-03-03T23:59:59Z\"},"
    "{\"kind\":\"admin_night_work\",\"account\":\"CORP\\\\ito.admin\",\"start\":"
    "\"2026-03-04T00:00:00Z\",\"end\":\"2026-03-04T06:00:00Z\"},"
    "{\"kind\":\"bulk_copy\",\"account\":\"CORP\\\\kato.m\",\"start\":\"2026-03-05T00:00:00Z\","
    "\"end\":\"2026-03-05T23:00:00Z\"}]}";

/* 17 findings. Step windows: ntt 1 [10:00, 10:30], 2 [10:35, 11:00], 3 [11:10, 12:00] on 03-02;
 * nightsky 1 [00:50, 00:55], 2 [01:00, 01:20], 3 [02:00, 02:10] on 03-04. */
static const char *const findings[] = {
    /* F1 ntt 1 by host: FQDN vs short, 10:04:10 - 10:00 = 250 s */
    "{\"ts\":\"2026-03-02T10:04:10Z\",\"level\":\"medium\",\"host\":\"vpngw01.corp.example.jp\","
    "\"user\":null}",
    /* F2 ntt 1 by user: bare name vs CORP\tanaka.h; 5.25 s, the step's earliest */
    "{\"ts\":\"2026-03-02T10:00:05.25Z\",\"level\":\"low\",\"host\":\"WS0113\","
    "\"user\":\"tanaka.h\"}",
    /* F3 ntt 2 by record (VDI-07/Security.evtx #5002) at 10:20, before the step's start: delay 0.
     * Inside ntt 1's window, but neither its host nor its user is ntt 1's. */
    "{\"ts\":\"2026-03-02T10:20:00Z\",\"level\":\"high\",\"host\":\"OTHERHOST\",\"user\":"
    "\"someone\",\"source\":{\"file\":\"/tmp/sim/logs/VDI-07/Security.evtx\",\"record_id\":5002,"
    "\"format\":\"evtx\"}}",
    /* F4 FP: record 5001 of XVDI-07 (not on a path component boundary), outside every window */
    "{\"ts\":\"2026-03-02T15:00:00Z\",\"level\":\"high\",\"host\":\"WS0200\",\"user\":"
    "\"suzuki.k\",\"source\":{\"file\":\"/tmp/sim/logs/XVDI-07/"
    "Security.evtx\",\"record_id\":5001}}",
    /* F5 FP: record 5001 of another file of the same host */
    "{\"ts\":\"2026-03-02T15:01:00Z\",\"level\":\"high\",\"host\":\"WS0200\",\"user\":null,"
    "\"source\":{\"file\":\"/x/logs/VDI-07/System.evtx\",\"record_id\":5001}}",
    /* F6 ntt 3 by host (short, lower case) and user (upper case) at 11:40: 1800 s; counted once */
    "{\"ts\":\"2026-03-02T11:40:00Z\",\"level\":\"critical\",\"host\":\"fs01\",\"user\":"
    "\"CORP\\\\TANAKA.H\"}",
    /* F6b FP: FS01 one second after ntt 3's end */
    "{\"ts\":\"2026-03-02T12:00:01Z\",\"level\":\"medium\",\"host\":\"FS01\"}",
    /* F6c ntt 3 at exactly its end (windows include both ends); later than F6, delay unchanged */
    "{\"ts\":\"2026-03-02T12:00:00Z\",\"level\":\"low\",\"host\":\"FS01.corp.example.jp\"}",
    /* F7 nightsky 1 by record: a Windows path to PROXY01\access.log, line 3; 00:52:30 = 150 s */
    "{\"ts\":\"2026-03-04T00:52:30Z\",\"level\":\"high\",\"host\":null,\"user\":null,"
    "\"source\":{\"file\":\"C:\\\\sim\\\\logs\\\\PROXY01\\\\access.log\",\"record_id\":3,"
    "\"format\":\"access\"}}",
    /* F8 FP: PWRESET01 five minutes after nightsky 2 ended; user "-" matches nobody */
    "{\"ts\":\"2026-03-04T01:25:00Z\",\"level\":\"medium\",\"host\":\"PWRESET01\",\"user\":\"-\"}",
    /* F9 nightsky 3 by user: UPN vs CORP\svc_adss (CORP = corp's first label); 180 s */
    "{\"ts\":\"2026-03-04T02:03:00Z\",\"level\":\"medium\",\"host\":\"WS0999\",\"user\":"
    "\"svc_adss@corp.example.jp\"}",
    /* F9b FP: same name in another domain */
    "{\"ts\":\"2026-03-04T02:04:00Z\",\"level\":\"low\",\"host\":\"WS0999\",\"user\":"
    "\"OTHERDOM\\\\svc_adss\"}",
    /* F10 FP flagging vpn_travel (medium) */
    "{\"ts\":\"2026-03-03T08:00:00Z\",\"level\":\"medium\",\"host\":\"WS0245\",\"user\":"
    "\"sato.y\"}",
    /* F11 FP flagging vpn_travel (high: the highest) */
    "{\"ts\":\"2026-03-03T09:00:00Z\",\"level\":\"high\",\"host\":\"WS0245\",\"user\":"
    "\"CORP\\\\Sato.Y\"}",
    /* F12 FP flagging admin_night_work (low); DC01 but an hour after nightsky 3 */
    "{\"ts\":\"2026-03-04T03:00:00Z\",\"level\":\"low\",\"host\":\"DC01\",\"user\":"
    "\"ito.admin\"}",
    /* F13 FP: kato.m the day after bulk_copy's window, so it is not flagged */
    "{\"ts\":\"2026-03-06T01:00:00Z\",\"level\":\"critical\",\"user\":\"kato.m\"}",
    /* F14 ntt 2 by host at 10:40; F3 came earlier */
    "{\"ts\":\"2026-03-02T10:40:00Z\",\"level\":\"informational\",\"host\":\"VDI-07\"}",
};
#define NFINDINGS (sizeof findings / sizeof *findings)

static int load(struct kz_eval *ev, int min_level) {
    struct kz_err err = {0};
    kz_eval_init(ev, min_level);
    int rc = kz_eval_load_text(ev, truth, strlen(truth), scenario, strlen(scenario), &err);
    if (rc) kz_test_fail(__FILE__, __LINE__, "load: %s", err.msg);
    return rc;
}

/* Parses and scores every finding; returns how many failed to parse. */
static int add_all(struct kz_eval *ev) {
    int bad = 0;
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    for (size_t i = 0; i < NFINDINGS; i++) {
        struct kz_json_doc doc;
        struct kz_eval_finding f;
        struct kz_err err = {0};
        if (kz_json_parse(findings[i], strlen(findings[i]), &a, NULL, &doc, NULL) ||
            kz_eval_finding_from_json(kz_json_root(&doc), &a, &f, &err)) {
            kz_test_fail(__FILE__, __LINE__, "finding %zu: %s", i, err.msg);
            bad++;
            continue;
        }
        kz_eval_add_finding(ev, &f);
        kz_arena_reset(&a);
    }
    kz_arena_free(&a);
    return bad;
}

static char *result_json(const struct kz_eval *ev) {
    struct kz_buf b;
    kz_buf_init(&b, 0);
    kz_eval_write_json(ev, &b);
    return b.data;
}

/* ---- the whole score ---- */

KZ_TEST(eval_scores_the_hand_made_simulation) {
    struct kz_eval ev;
    REQUIRE(load(&ev, 0) == 0);
    CHECK_INT(ev.nsteps, 6);
    CHECK_INT(ev.nscenarios, 2);
    REQUIRE(add_all(&ev) == 0);
    /* matched: F1 F2 F3 F6 F6c F7 F9 F14 = 8; false positives: F4 F5 F6b F8 F9b F10 F11 F12 F13
     * = 9; 9 * 1000 / 40 benign user-days = 225. Steps: all of ntt2020 (delays 5.25, 0, 1800,
     * first 0); nightsky2021 1 (150) and 3 (180), not 2; first 150. */
    const char *want =
        "{\"steps_total\":6,\"steps_detected\":5,\"scenarios\":["
        "{\"name\":\"ntt2020\",\"steps_total\":3,\"steps_detected\":3,"
        "\"first_detection_delay_s\":0,\"steps\":[{\"step\":1,\"detected\":true,\"delay_s\":5.25},"
        "{\"step\":2,\"detected\":true,\"delay_s\":0},{\"step\":3,\"detected\":true,"
        "\"delay_s\":1800}]},"
        "{\"name\":\"nightsky2021\",\"steps_total\":3,\"steps_detected\":2,"
        "\"first_detection_delay_s\":150,\"steps\":[{\"step\":1,\"detected\":true,"
        "\"delay_s\":150},{\"step\":2,\"detected\":false,\"delay_s\":null},{\"step\":3,"
        "\"detected\":true,\"delay_s\":180}]}],"
        "\"false_positives\":9,\"benign_user_days\":40,\"fp_per_1000_user_days\":225,"
        "\"confounders_flagged\":[{\"kind\":\"vpn_travel\",\"account\":\"CORP\\\\sato.y\","
        "\"level\":\"high\"},{\"kind\":\"admin_night_work\",\"account\":\"CORP\\\\ito.admin\","
        "\"level\":\"low\"}]}\n";
    char *got = result_json(&ev);
    CHECK_STR(got, want);
    kz_free(got);
    CHECK_INT(ev.findings, NFINDINGS);
    CHECK_INT(ev.matched, 8);
    CHECK_INT(ev.false_positives, 9);
    /* per step: ntt 3 was matched by F6 and F6c (F6 once, though by host and user) */
    CHECK_INT(ev.steps[2].findings, 2);
    CHECK_INT(ev.steps[1].findings, 2); /* F3, F14 */
    CHECK(ev.steps[4].number == 2 && !ev.steps[4].detected);
    kz_eval_free(&ev);
}

KZ_TEST(eval_min_level_ignores_lower_findings) {
    struct kz_eval ev;
    /* medium: F2 F6c F9b F12 (low) and F14 (informational) are ignored. ntt 1 falls back to F1
     * (250 s); false positives F4 F5 F6b F8 F10 F11 F13 = 7, 175 per 1000; admin_night_work is no
     * longer flagged (F12 was its only finding). */
    REQUIRE(load(&ev, KZ_LEVEL_MEDIUM) == 0);
    REQUIRE(add_all(&ev) == 0);
    CHECK_INT(ev.below_level, 5);
    CHECK_INT(ev.false_positives, 7);
    char *got = result_json(&ev);
    REQUIRE(got);
    CHECK(strstr(got, "{\"step\":1,\"detected\":true,\"delay_s\":250}") != NULL);
    CHECK(strstr(got, "\"steps_detected\":5,") == got + strlen("{\"steps_total\":6,"));
    CHECK(strstr(got,
                 "\"false_positives\":7,\"benign_user_days\":40,"
                 "\"fp_per_1000_user_days\":175,\"confounders_flagged\":[{\"kind\":"
                 "\"vpn_travel\",\"account\":\"CORP\\\\sato.y\",\"level\":\"high\"}]}") != NULL);
    kz_free(got);
    kz_eval_free(&ev);

    /* critical: F6 (ntt 3, 1800 s) and F13 (a false positive) only: 1 * 1000 / 40 = 25. */
    REQUIRE(load(&ev, KZ_LEVEL_CRITICAL) == 0);
    REQUIRE(add_all(&ev) == 0);
    got = result_json(&ev);
    REQUIRE(got);
    CHECK(!strncmp(got, "{\"steps_total\":6,\"steps_detected\":1,", 36));
    CHECK(strstr(got, "\"first_detection_delay_s\":1800,") != NULL);
    CHECK(strstr(got, "\"first_detection_delay_s\":null,") != NULL); /* nightsky2021 */
    CHECK(strstr(got, "\"false_positives\":1,\"benign_user_days\":40,"
                      "\"fp_per_1000_user_days\":25,\"confounders_flagged\":[]}") != NULL);
    kz_free(got);
    kz_eval_free(&ev);
}

KZ_TEST(eval_text_summary) {
    struct kz_eval ev;
    REQUIRE(load(&ev, 0) == 0);
    REQUIRE(add_all(&ev) == 0);
    struct kz_buf b;
    kz_buf_init(&b, 0);
    kz_eval_write_text(&ev, &b);
    REQUIRE(b.data);
    CHECK(strstr(b.data, "steps detected: 5 of 6\n") != NULL);
    CHECK(strstr(b.data, "  ntt2020: 3 of 3 steps, first detection after 0s\n") != NULL);
    CHECK(strstr(b.data, "  nightsky2021: 2 of 3 steps, first detection after 2m30s\n") != NULL);
    CHECK(strstr(b.data, "detected after 30m00s (2 findings)") != NULL); /* ntt 3 */
    CHECK(strstr(b.data, "missed\n") != NULL);                           /* nightsky 2 */
    CHECK(strstr(b.data, "false positives: 9 (225 per 1000 benign user-days, over 40)") != NULL);
    CHECK(strstr(b.data, "confounders flagged: 2 of 3\n  vpn_travel CORP\\sato.y (high)\n") !=
          NULL);
    kz_buf_free(&b);
    kz_eval_free(&ev);
}

/* ---- matching rules ---- */

KZ_TEST(eval_host_user_and_path_matching) {
    CHECK(kz_eval_host_match("FS01", "fs01"));
    CHECK(kz_eval_host_match("FS01", "fs01.corp.local"));
    CHECK(kz_eval_host_match("fs01.corp.local", "FS01"));
    CHECK(kz_eval_host_match("fs01.corp.local.", "FS01.CORP.LOCAL"));
    CHECK(!kz_eval_host_match("FS01.a.local", "FS01.b.local"));
    CHECK(!kz_eval_host_match("FS01", "FS011"));
    CHECK(!kz_eval_host_match("FS01", "AFS01.corp.local"));
    CHECK(kz_eval_host_match("10.0.0.5", "10.0.0.5"));
    CHECK(!kz_eval_host_match("10", "10.0.0.5")); /* an IP address has no short name */
    CHECK(!kz_eval_host_match("fe80", "fe80::1"));
    CHECK(!kz_eval_host_match("-", "-"));
    CHECK(!kz_eval_host_match("", ""));
    CHECK(!kz_eval_host_match(NULL, "FS01"));

    CHECK(kz_eval_user_match("CORP\\alice", "alice"));
    CHECK(kz_eval_user_match("alice", "CORP\\Alice"));
    CHECK(kz_eval_user_match("CORP\\alice", "corp\\ALICE"));
    CHECK(kz_eval_user_match("CORP\\alice", "alice@corp.example.jp"));
    CHECK(kz_eval_user_match("alice@corp.example.jp", "alice"));
    CHECK(!kz_eval_user_match("CORP\\alice", "OTHER\\alice"));
    CHECK(!kz_eval_user_match("CORP\\alice", "alice2"));
    CHECK(!kz_eval_user_match("CORP\\alice", "CORP\\"));
    CHECK(!kz_eval_user_match("-", "-"));
    CHECK(!kz_eval_user_match("alice", NULL));
    CHECK(kz_eval_user_match("WS01$", "CORP\\ws01$"));

    CHECK(kz_eval_path_match("FS01/Security.evtx", "/data/logs/FS01/Security.evtx"));
    CHECK(kz_eval_path_match("FS01/Security.evtx", "FS01/Security.evtx"));
    CHECK(kz_eval_path_match("FS01/Security.evtx", "C:\\logs\\fs01\\security.EVTX"));
    CHECK(kz_eval_path_match("./FS01\\Security.evtx", "logs/FS01/Security.evtx"));
    CHECK(!kz_eval_path_match("FS01/Security.evtx", "/data/logs/AFS01/Security.evtx"));
    CHECK(!kz_eval_path_match("FS01/Security.evtx", "Security.evtx"));
    CHECK(!kz_eval_path_match("FS01/Security.evtx", "/logs/FS01/Security.evtx.bak"));
    CHECK(!kz_eval_path_match("", "/x"));
}

/* ---- bad input ---- */

struct bad_case {
    const char *truth, *scenario;
    const char *msg; /* a part of the error message */
};

KZ_TEST(eval_rejects_malformed_truth_naming_the_line) {
    const char *ok_scen = "{\"benign_user_days\":10}";
    const char *step = "{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\","
                       "\"end\":\"2026-03-02T11:00:00Z\"}\n";
    static const struct bad_case cases[] = {
        {"{\"step\":1,\"start\":\"2026-03-02T10:00:00Z\",\"end\":\"2026-03-02T11:00:00Z\"}\n", NULL,
         "truth.jsonl:1: `scenario` is missing"},
        {"{\"scenario\":\"s\",\"step\":0,\"start\":\"2026-03-02T10:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\"}\n",
         NULL, "truth.jsonl:1: `step` must be"},
        {"{\"scenario\":\"s\",\"step\":\"1\",\"start\":\"2026-03-02T10:00:00Z\"}\n", NULL,
         "`step` must be an integer"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"yesterday\",\"end\":\"2026-03-02T11:00:00Z\"}"
         "\n",
         NULL, "`start` must be an RFC 3339 time"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T12:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\"}\n",
         NULL, "`end` is before `start`"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\",\"records\":{}}\n",
         NULL, "`records` must be an array"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\",\"records\":[{\"file\":\"a.evtx\"}]}\n",
         NULL, "records[0]: needs `record_id` or `line`"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\",\"records\":[{\"file\":\"a.evtx\",\"record_id\":-4}]}\n",
         NULL, "records[0]: `record_id` must be an integer"},
        {"{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\",\"end\":"
         "\"2026-03-02T11:00:00Z\",\"host\":5}\n",
         NULL, "`host` must be a string"},
        {"\n[1,2]\n", NULL, "truth.jsonl:2: a step must be a JSON object"},
        {"{\"scenario\":\"s\",}\n", NULL, "truth.jsonl:1:17: trailing comma"},
        {"DUP", NULL, "scenario 's' has step 1 twice"},
        {"", "{\"users\":3}", "scenario.json: `benign_user_days` is missing"},
        {"", "{\"benign_user_days\":-1}", "`benign_user_days` must be a number >= 0"},
        {"", "{\"benign_user_days\":1e999}", "`benign_user_days` must be a number >= 0"},
        {"", "[]", "scenario.json: the document must be a JSON object"},
        {"", "{\"benign_user_days\":1,", "scenario.json:1:23:"},
        {"",
         "{\"benign_user_days\":1,\"confounders\":[{\"kind\":\"x\",\"start\":"
         "\"2026-03-02T10:00:00Z\",\"end\":\"2026-03-02T11:00:00Z\"}]}",
         "confounders[0]: `account` is missing"},
        {"", "{\"benign_user_days\":1,\"scenarios\":[{}]}", "scenarios[0]: `name` is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct kz_eval ev;
        struct kz_err err = {0};
        char dup[512];
        const char *t = cases[i].truth;
        if (!strcmp(t, "DUP")) {
            snprintf(dup, sizeof dup, "%s%s", step, step);
            t = dup;
        }
        const char *s = cases[i].scenario ? cases[i].scenario : ok_scen;
        kz_eval_init(&ev, 0);
        int rc = kz_eval_load_text(&ev, t, strlen(t), s, strlen(s), &err);
        CHECK_MSG(rc == KZ_EFORMAT, "case %zu: rc %d (%s)", i, rc, err.msg);
        CHECK_MSG(strstr(err.msg, cases[i].msg) != NULL, "case %zu: message '%s', want '%s'", i,
                  err.msg, cases[i].msg);
        kz_eval_free(&ev);
    }
}

KZ_TEST(eval_reads_findings_strictly) {
    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"[]", "a finding must be a JSON object"},
        {"{\"level\":\"high\"}", "`ts` is missing"},
        {"{\"ts\":\"2026-03-02\",\"level\":\"severe\"}", "`level` must be informational"},
        {"{\"ts\":\"2026-03-02\"}", "`level` must be"},
        {"{\"ts\":17,\"level\":\"low\"}", "`ts` must be an RFC 3339 time"},
        {"{\"ts\":\"2026-03-02\",\"level\":\"low\",\"user\":[\"a\"]}", "`user` must be a string"},
        {"{\"ts\":\"2026-03-02\",\"level\":\"low\",\"source\":\"x\"}",
         "`source` must be an object"},
        {"{\"ts\":\"2026-03-02\",\"level\":\"low\",\"source\":{\"record_id\":\"7\"}}",
         "source: `record_id` must be an integer"},
        {"{\"ts\":\"2026-03-02\",\"level\":\"low\",\"source\":{\"record_id\":1.5}}",
         "source: `record_id` must be an integer"},
    };
    struct kz_arena a;
    kz_arena_init(&a, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct kz_json_doc doc;
        struct kz_eval_finding f;
        struct kz_err err = {0};
        REQUIRE(kz_json_parse(bad[i].json, strlen(bad[i].json), &a, NULL, &doc, NULL) == 0);
        CHECK_MSG(kz_eval_finding_from_json(kz_json_root(&doc), &a, &f, &err) == KZ_EFORMAT,
                  "case %zu accepted", i);
        CHECK_MSG(strstr(err.msg, bad[i].msg) != NULL, "case %zu: '%s', want '%s'", i, err.msg,
                  bad[i].msg);
    }
    /* A complete finding of the findings schema (as `scan` writes it): what scoring needs is read,
     * the rest (kind, rule_id, title, score, tags, reasons, event) is ignored. */
    const char *full =
        "{\"ts\":\"2026-03-02T10:00:00.1234567Z\",\"kind\":\"sigma\",\"rule_id\":\"r-1\","
        "\"title\":\"t\",\"level\":\"critical\",\"score\":90,\"tags\":[\"attack.t1021\"],"
        "\"host\":\"FS01\",\"user\":\"CORP\\\\x\",\"src_ip\":\"10.0.0.1\",\"reasons\":[],"
        "\"source\":{\"file\":\"logs/FS01/Security.evtx\",\"record_id\":12,\"format\":\"evtx\"},"
        "\"event\":{\"EventID\":4624}}";
    struct kz_json_doc doc;
    struct kz_eval_finding f;
    struct kz_err err = {0};
    REQUIRE(kz_json_parse(full, strlen(full), &a, NULL, &doc, NULL) == 0);
    REQUIRE(kz_eval_finding_from_json(kz_json_root(&doc), &a, &f, &err) == 0);
    kz_time want;
    REQUIRE(kz_time_parse("2026-03-02T10:00:00.1234567Z", 28, &want) == 0);
    CHECK(f.ts == want);
    CHECK_INT(f.level, KZ_LEVEL_CRITICAL);
    CHECK_STR(f.host, "FS01");
    CHECK_STR(f.user, "CORP\\x");
    CHECK_STR(f.file, "logs/FS01/Security.evtx");
    CHECK_INT(f.record_id, 12);
    kz_arena_free(&a);
}

KZ_TEST(eval_benign_only_and_sub_second_delays) {
    /* No steps: every finding is a false positive; 3 * 1000 / 7 = 428.571... printed as 428.571. */
    struct kz_eval ev;
    struct kz_err err = {0};
    const char *scen = "{\"benign_user_days\":7,\"scenarios\":[]}";
    kz_eval_init(&ev, 0);
    REQUIRE(kz_eval_load_text(&ev, "", 0, scen, strlen(scen), &err) == 0);
    struct kz_eval_finding f = {.level = KZ_LEVEL_HIGH, .host = "FS01", .user = "x"};
    for (int i = 0; i < 3; i++)
        kz_eval_add_finding(&ev, &f);
    char *got = result_json(&ev);
    CHECK_STR(got, "{\"steps_total\":0,\"steps_detected\":0,\"scenarios\":[],\"false_positives\":3,"
                   "\"benign_user_days\":7,\"fp_per_1000_user_days\":428.571,"
                   "\"confounders_flagged\":[]}\n");
    kz_free(got);
    kz_eval_free(&ev);

    /* benign_user_days 0: no rate. A step detected 0.0000001 s (one tick) after its start. */
    const char *t =
        "{\"scenario\":\"s\",\"step\":1,\"host\":\"H\",\"start\":\"2026-03-02T10:00:00Z\","
        "\"end\":\"2026-03-02T10:00:01Z\"}";
    scen = "{\"benign_user_days\":0}";
    kz_eval_init(&ev, 0);
    REQUIRE(kz_eval_load_text(&ev, t, strlen(t), scen, strlen(scen), &err) == 0);
    REQUIRE(kz_time_parse("2026-03-02T10:00:00.0000001Z", 28, &f.ts) == 0);
    f.host = "h.example";
    kz_eval_add_finding(&ev, &f);
    got = result_json(&ev);
    CHECK_STR(got, "{\"steps_total\":1,\"steps_detected\":1,\"scenarios\":[{\"name\":\"s\","
                   "\"steps_total\":1,\"steps_detected\":1,\"first_detection_delay_s\":0.0000001,"
                   "\"steps\":[{\"step\":1,\"detected\":true,\"delay_s\":0.0000001}]}],"
                   "\"false_positives\":0,\"benign_user_days\":0,\"fp_per_1000_user_days\":null,"
                   "\"confounders_flagged\":[]}\n");
    kz_free(got);
    kz_eval_free(&ev);
}

KZ_TEST(eval_many_records_are_indexed) {
    /* One step listing 20000 records of two files (ids 1..10000 each); the findings name record
     * 7777 of the second file and record 10001 (listed nowhere). Expected by construction: the
     * step is detected once, the other finding is a false positive. */
    struct kz_buf t;
    kz_buf_init(&t, 0);
    kz_buf_puts(&t, "{\"scenario\":\"s\",\"step\":1,\"start\":\"2026-03-02T10:00:00Z\","
                    "\"end\":\"2026-03-02T11:00:00Z\",\"records\":[");
    for (int f = 0; f < 2; f++)
        for (int i = 1; i <= 10000; i++)
            kz_buf_printf(&t, "%s{\"file\":\"H%d/Security.evtx\",\"record_id\":%d}",
                          f || i > 1 ? "," : "", f, i);
    kz_buf_puts(&t, "]}\n");
    REQUIRE(!t.failed);
    struct kz_eval ev;
    struct kz_err err = {0};
    const char *scen = "{\"benign_user_days\":1}";
    kz_eval_init(&ev, 0);
    REQUIRE(kz_eval_load_text(&ev, t.data, t.len, scen, strlen(scen), &err) == 0);
    CHECK_INT(ev.steps[0].nrecords, 20000);
    CHECK_INT(ev.nfiles, 2);
    struct kz_eval_finding f = {
        .level = KZ_LEVEL_LOW, .file = "/l/H1/Security.evtx", .record_id = 10001};
    REQUIRE(kz_time_parse("2026-03-02T12:00:00Z", 20, &f.ts) == 0);
    kz_eval_add_finding(&ev, &f);
    f.record_id = 7777;
    kz_eval_add_finding(&ev, &f);
    CHECK_INT(ev.false_positives, 1);
    CHECK(ev.steps[0].detected);
    /* after the window, but matched by record: 12:00 - 10:00 */
    CHECK_INT(kz_eval_step_delay(&ev.steps[0]), 7200 * KZ_TICKS_PER_SEC);
    kz_eval_free(&ev);
    kz_buf_free(&t);
}
