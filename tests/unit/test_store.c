/* test_store.c - the evidence store's pieces that can be checked against independent answers:
 * SHA-256 against the FIPS 180-2 appendix B vectors, the customers.csv parser and glob against
 * hand-worked cases, the key normalisers, and a store round trip (ingest nothing, verify an
 * empty chain, tamper with HEAD). The full ingest -> verify -> scope path, the tamper and the
 * kill -9 tests run on a simulated estate in tests/e2e/store.sh. */
#include "unit.h"

#include "../../src/core/alloc.h"
#include "../../src/scope/customers.h"
#include "../../src/scope/scope.h"
#include "../../src/store/sha256.h"
#include "../../src/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Deletes a test's temporary folder and everything in it; system()'s status. */
static int remove_store(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

KZ_TEST(store_sha256_fips_vectors) {
    char hex[KZ_SHA256_HEX];
    /* FIPS 180-2 B.1, B.2, and the empty message */
    CHECK_INT(kz_sha256_hex("abc", 3, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    kz_sha256_hex(m2, strlen(m2), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    kz_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* B.3: one million 'a', fed in uneven pieces */
    struct kz_sha256 h;
    REQUIRE(kz_sha256_init(&h) == 0);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof a ? left : sizeof a;
        kz_sha256_update(&h, a, n);
        left -= n;
    }
    kz_sha256_final_hex(&h, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

KZ_TEST(store_customers_glob) {
    CHECK(kz_customers_glob("\\\\FS01\\projects\\Sakura\\*", "\\\\FS01\\projects\\Sakura\\a\\b.docx"));
    CHECK(kz_customers_glob("\\\\fs01\\PROJECTS\\sakura\\*", "\\\\FS01\\projects\\Sakura\\x"));
    CHECK(kz_customers_glob("//FS01/projects/Sakura/*", "\\\\FS01\\projects\\Sakura\\x"));
    CHECK(!kz_customers_glob("\\\\FS01\\projects\\Sakura\\*", "\\\\FS01\\projects\\Sakura2\\x"));
    CHECK(!kz_customers_glob("\\\\FS01\\projects\\Sakura\\*", "\\\\FS02\\projects\\Sakura\\x"));
    CHECK(kz_customers_glob("E:\\CISData\\C0001?\\*", "E:\\CISData\\C00012\\r.dat"));
    CHECK(!kz_customers_glob("E:\\CISData\\C0001?\\*", "E:\\CISData\\C000123\\r.dat"));
    CHECK(kz_customers_glob("*", ""));
    CHECK(!kz_customers_glob("a*b*c", "aXbY"));
    CHECK(kz_customers_glob("a*b*c", "aXbYc"));
    /* no exponential blow-up on many stars */
    char text[4001];
    memset(text, 'a', 4000);
    text[4000] = 0;
    CHECK(!kz_customers_glob("*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
}

KZ_TEST(store_customers_csv) {
    const char csv[] = "pattern,customer\n"
                       "\\\\FS01\\projects\\Sakura\\*,Sakura Kensetsu K.K.\n"
                       "\"D:\\Shares\\projects\\Harbor, Inc\\*\",\"Harbor \"\"Logistics\"\", Inc.\"\r\n"
                       "\n"
                       "*,Everyone else\n";
    struct kz_customers *c = NULL;
    struct kz_err err = {0};
    REQUIRE(kz_customers_parse(csv, sizeof csv - 1, &c, &err) == 0);
    CHECK_INT(kz_customers_count(c), 3);
    CHECK_STR(kz_customers_match(c, "\\\\FS01\\projects\\Sakura\\2024\\a.docx"),
              "Sakura Kensetsu K.K.");
    CHECK_STR(kz_customers_match(c, "D:\\Shares\\projects\\Harbor, Inc\\q.xlsx"),
              "Harbor \"Logistics\", Inc.");
    CHECK_STR(kz_customers_match(c, "C:\\Users\\x"), "Everyone else");
    kz_customers_free(c);
    /* errors name the line */
    const char bad[] = "pattern,customer\na,b\n\"unterminated,c\n";
    CHECK(kz_customers_parse(bad, sizeof bad - 1, &c, &err) == KZ_EFORMAT);
    CHECK(strstr(err.msg, "line 3") != NULL);
    /* found by fuzz_customers: an error in the first field left its length unset */
    const char fuzz1[] = "\"\"\"\xd9\xd9,@\xff s Co\n\"xS1\\/ry\",z\"\"\"";
    CHECK(kz_customers_parse(fuzz1, sizeof fuzz1 - 1, &c, &err) == KZ_EFORMAT);
    const char three[] = "a,b,c\n";
    CHECK(kz_customers_parse(three, sizeof three - 1, &c, &err) == KZ_EFORMAT);
    const char empty[] = "a,\n";
    CHECK(kz_customers_parse(empty, sizeof empty - 1, &c, &err) == KZ_EFORMAT);
}

KZ_TEST(store_keys) {
    char k[64];
    CHECK_STR(kz_store_user_key("CORP\\TSuzuki", k, sizeof k), "tsuzuki");
    CHECK_STR(kz_store_user_key("tsuzuki@CORP.EXAMPLE", k, sizeof k), "tsuzuki");
    CHECK_STR(kz_store_host_key("vdi03.corp.example", k, sizeof k), "VDI03");
    CHECK_STR(kz_store_host_key("\\\\fs01\\projects", k, sizeof k), "FS01");
    CHECK_STR(kz_store_ip_key("::ffff:10.30.0.12", k, sizeof k), "10.30.0.12");
    CHECK_STR(kz_store_ip_key("FE80::1", k, sizeof k), "fe80::1");
}

/* Programs and scripts run from a share (store.h): which paths count, and the key that ties a
 * run to the file written, worked by hand. */
KZ_TEST(store_run_keys) {
    char k[256], srv[64];
    const char *bat = "\\\\corp.example\\SYSVOL\\corp.example\\Policies\\{X}\\Scripts\\a.bat";
    CHECK_STR(kz_store_run_key(bat, strlen(bat), k, sizeof k, srv, sizeof srv),
              "SYSVOL\\CORP.EXAMPLE\\POLICIES\\{X}\\SCRIPTS\\A.BAT");
    CHECK_STR(srv, "CORP");
    const char *slashes = "//dc01/sysvol/corp.example/policies/{x}/scripts/A.Bat";
    CHECK_STR(kz_store_run_key(slashes, strlen(slashes), k, sizeof k, srv, sizeof srv),
              "SYSVOL\\CORP.EXAMPLE\\POLICIES\\{X}\\SCRIPTS\\A.BAT");
    CHECK_STR(srv, "DC01");
    static const char *const not_run[] = {
        "\\\\FS01\\projects\\Acme\\report.docx", /* a document */
        "\\\\FS01\\projects\\tool",              /* no extension */
        "\\\\FS01\\x.exe",                       /* no share: the file is the share's name */
        "\\\\FS01\\share\\",                     /* nothing after the share */
        "\\\\?\\C:\\Windows\\x.exe",             /* a device path, not a share */
        "\\\\.\\pipe\\x.exe",
        "C:\\Windows\\System32\\cmd.exe",        /* local */
        "\\\\FS01\\share\\a.exe.txt",            /* the last extension decides */
        "\\\\FS01\\share\\dir.exe\\readme",
    };
    for (size_t i = 0; i < sizeof not_run / sizeof *not_run; i++)
        CHECK_MSG(!kz_store_run_key(not_run[i], strlen(not_run[i]), k, sizeof k, srv, sizeof srv),
                  "%s counted as run", not_run[i]);
    /* in a command line: quoted to its quote, else to the first blank; the first runnable one */
    static const struct {
        const char *cmd, *want;
    } lines[] = {
        {"cmd.exe /c \\\\corp\\SYSVOL\\s\\run.bat arg", "\\\\corp\\SYSVOL\\s\\run.bat"},
        {"\"\\\\FS01\\tools\\My Tools\\x.exe\" -q", "\\\\FS01\\tools\\My Tools\\x.exe"},
        {"winword.exe \"\\\\FS01\\p\\a.docx\" & \\\\FS01\\p\\b.ps1", "\\\\FS01\\p\\b.ps1"},
        {"robocopy \\\\FS01\\projects E:\\Backup /MIR", NULL},
        {"notepad \\\\FS01\\p\\a.txt", NULL},
        {"\\\\", NULL},
        {"x \\\\\\\\\\", NULL},
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        size_t n = 0;
        const char *p = kz_store_unc_run(lines[i].cmd, &n, k, sizeof k, srv, sizeof srv);
        if (!lines[i].want) {
            CHECK_MSG(p == NULL, "%s: found %.*s", lines[i].cmd, (int)n, p);
            continue;
        }
        CHECK_MSG(p && n == strlen(lines[i].want) && !memcmp(p, lines[i].want, n),
                  "%s: found %.*s", lines[i].cmd, p ? (int)n : 6, p ? p : "(none)");
    }
}

KZ_TEST(store_empty_round_trip_and_head_tamper) {
    char dir[] = "/tmp/kz-store-test-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char sdir[128];
    snprintf(sdir, sizeof sdir, "%s/s", dir);
    struct kz_store *s = NULL;
    struct kz_err err = {0};
    CHECK(kz_store_open(sdir, 0, &s, &err) == KZ_EIO); /* not created without create */
    REQUIRE(kz_store_open(sdir, 1, &s, &err) == 0);
    /* one non-log file: kept as evidence (a batch), indexed with no events */
    char src[160];
    snprintf(src, sizeof src, "%s/notes.evtx", dir);
    FILE *f = fopen(src, "w");
    REQUIRE(f);
    fputs("ElfFile\0 not really", f);
    fclose(f);
    const char *paths[] = {src};
    struct kz_store_ingest_stats st;
    int rc = kz_store_ingest(s, paths, 1, NULL, &st, &err);
    CHECK_INT(rc, 0);
    struct kz_store_verify v;
    CHECK_INT(kz_store_verify(s, &v, NULL, NULL, &err), 0);
    CHECK_INT(v.problems, 0);
    CHECK_INT(v.batches, st.files_added);
    /* a rewritten HEAD is noticed */
    char head[160];
    snprintf(head, sizeof head, "%s/HEAD", sdir);
    if (st.files_added) {
        f = fopen(head, "w");
        REQUIRE(f);
        fprintf(f, "1 %064d\n", 0);
        fclose(f);
        CHECK_INT(kz_store_verify(s, &v, NULL, NULL, &err), 0);
        CHECK(v.problems > 0);
        CHECK(strstr(v.first, "HEAD") != NULL);
        /* no HEAD with one batch: a kill between the first commit and the first HEAD write,
         * i.e. HEAD at batch 0, one behind; consistent */
        CHECK_INT(unlink(head), 0);
        CHECK_INT(kz_store_verify(s, &v, NULL, NULL, &err), 0);
        CHECK_INT(v.problems, 0);
        /* ... and so is HEAD naming batch 0 (64 zeros, batch 1's previous hash) */
        f = fopen(head, "w");
        REQUIRE(f);
        fprintf(f, "0 %064d\n", 0);
        fclose(f);
        CHECK_INT(kz_store_verify(s, &v, NULL, NULL, &err), 0);
        CHECK_INT(v.problems, 0);
        /* with a second batch, no HEAD is two behind: a problem */
        snprintf(src, sizeof src, "%s/notes2.evtx", dir);
        f = fopen(src, "w");
        REQUIRE(f);
        fputs("ElfFile, another", f);
        fclose(f);
        CHECK_INT(kz_store_ingest(s, paths, 1, NULL, &st, &err), 0);
        CHECK_INT(st.files_added, 1);
        CHECK_INT(unlink(head), 0);
        CHECK_INT(kz_store_verify(s, &v, NULL, NULL, &err), 0);
        CHECK_INT(v.batches, 2);
        CHECK(v.problems > 0);
        CHECK(strstr(v.first, "HEAD is missing") != NULL);
    }
    /* scope of an unknown account: empty, not an error */
    struct kz_scope_query q = {.user = "CORP\\nobody"};
    struct kz_scope_result *r = NULL;
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    if (r) CHECK_INT(r->nhosts, 0);
    kz_scope_free(r);
    kz_store_close(s);
    CHECK_INT(remove_store(dir), 0);
}

/* ---- the ingest lock (docs/ingest.md, "Readers during an ingest") ----
 * The writer's open holds DIR/ingest.lock: a second writer is refused with a message naming the
 * reason; a reader opens beside it; a reader that finds the query indexes missing while the lock
 * is held (a bulk load between its first batch and its end) leaves them alone and scope and
 * timeline refuse, saying the store is being loaded; once the writer is gone, the next open
 * builds them. */
static void timeline_sink(void *ctx, const char *p, size_t n) {
    (void)ctx, (void)p, (void)n;
}

KZ_TEST(store_ingest_lock_and_loading) {
    char dir[] = "/tmp/kz-store-lock-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char sdir[128];
    snprintf(sdir, sizeof sdir, "%s/s", dir);
    struct kz_store *w = NULL, *w2 = NULL, *r = NULL;
    struct kz_err err = {0};
    REQUIRE(kz_store_open(sdir, 1, &w, &err) == 0);
    CHECK_INT(kz_store_open(sdir, 1, &w2, &err), KZ_EIO);
    CHECK(w2 == NULL);
    CHECK(strstr(err.msg, "another ingest") != NULL);
    REQUIRE(kz_store_open(sdir, 0, &r, &err) == 0);
    CHECK_INT(kz_store_loading(r), 0);
    kz_store_close(r);
    r = NULL;
    /* what a bulk load's first commit leaves: an index dropped while the writer runs */
    REQUIRE(sqlite3_exec(kz_store_db(w), "DROP INDEX events_user", NULL, NULL, NULL) == SQLITE_OK);
    REQUIRE(kz_store_open(sdir, 0, &r, &err) == 0);
    CHECK_INT(kz_store_loading(r), 1);
    struct kz_scope_query q = {.user = "mallory"};
    struct kz_scope_result *res = NULL;
    memset(&err, 0, sizeof err);
    CHECK(kz_scope_run(r, &q, &res, &err) != 0);
    CHECK(strstr(err.msg, "loading") != NULL);
    kz_scope_free(res);
    uint64_t n = 0;
    memset(&err, 0, sizeof err);
    CHECK(kz_timeline_run(r, &q, KZ_TIMELINE_CSV, timeline_sink, NULL, &n, &err) != 0);
    CHECK(strstr(err.msg, "loading") != NULL);
    /* verify checks a store at rest only (HEAD moves on with every commit of an ingest) */
    struct kz_store_verify v;
    memset(&err, 0, sizeof err);
    CHECK_INT(kz_store_verify(r, &v, NULL, NULL, &err), KZ_EIO);
    CHECK(strstr(err.msg, "an ingest is writing") != NULL);
    kz_store_close(r);
    r = NULL;
    kz_store_close(w); /* the lock goes with the writer */
    REQUIRE(kz_store_open(sdir, 0, &r, &err) == 0);
    CHECK_INT(kz_store_loading(r), 0);
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(kz_store_db(r),
                           "SELECT count(*) FROM sqlite_master WHERE name='events_user'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    CHECK_INT(have, 1); /* rebuilt by the open */
    /* and a writer can open again */
    REQUIRE(kz_store_open(sdir, 1, &w, &err) == 0);
    kz_store_close(w);
    kz_store_close(r);
    CHECK_INT(remove_store(dir), 0);
}

/* ---- rename pairing (docs/scope.md, "Renames"), through ingest and scope ----
 * A delete of P and a write of P.ext on the same host within 2 seconds, in either order and from
 * either log (4663 with DELETE 0x10000 or WriteData 0x2, Sysmon 11 / 23), are one rename: P counts
 * it and names P.ext. The expected values below are worked out by hand from that rule. */

static const char *rename_events[] = {
    /* a.docx -> a.docx.nightsky: 4663 delete, Sysmon 11 one second later: paired */
    "{\"EventID\":4663,\"Channel\":\"Security\",\"Hostname\":\"FS01.corp.example\",\"RecordNumber\":1,"
    "\"@timestamp\":\"2026-03-30T19:40:00.000Z\",\"SubjectUserName\":\"mallory\",\"SubjectDomainName\":"
    "\"CORP\",\"ObjectName\":\"D:\\\\Shares\\\\Acme\\\\a.docx\",\"AccessMask\":\"0x10000\"}",
    "{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":2,\"@timestamp\":\"2026-03-30T19:40:01.000Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\a.docx.nightsky\"}",
    /* b.xlsx -> b.xlsx.locked: Sysmon 23 delete, 4663 WriteData half a second later: paired */
    "{\"EventID\":23,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":3,\"@timestamp\":\"2026-03-30T19:40:10.000Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\b.xlsx\"}",
    "{\"EventID\":4663,\"Channel\":\"Security\",\"Hostname\":\"FS01.corp.example\",\"RecordNumber\":4,"
    "\"@timestamp\":\"2026-03-30T19:40:10.500Z\",\"SubjectUserName\":\"mallory\",\"ObjectName\":"
    "\"D:\\\\Shares\\\\Acme\\\\b.xlsx.locked\",\"AccessMask\":\"0x2\"}",
    /* c.pdf deleted, c.pdf.nightsky written 5 s later: outside the window, not paired */
    "{\"EventID\":4663,\"Channel\":\"Security\",\"Hostname\":\"FS01.corp.example\",\"RecordNumber\":5,"
    "\"@timestamp\":\"2026-03-30T19:40:20.000Z\",\"SubjectUserName\":\"mallory\",\"ObjectName\":"
    "\"D:\\\\Shares\\\\Acme\\\\c.pdf\",\"AccessMask\":\"0x10000\"}",
    "{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":6,\"@timestamp\":\"2026-03-30T19:40:25.000Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\c.pdf.nightsky\"}",
    /* d.txt.nightsky written, d.txt never deleted: a write, no rename */
    "{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":7,\"@timestamp\":\"2026-03-30T19:40:30.000Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\d.txt.nightsky\"}",
    /* e.doc deleted on FS02, e.doc.nightsky written on FS01: other hosts, not paired */
    "{\"EventID\":4663,\"Channel\":\"Security\",\"Hostname\":\"FS02.corp.example\",\"RecordNumber\":8,"
    "\"@timestamp\":\"2026-03-30T19:40:40.000Z\",\"SubjectUserName\":\"mallory\",\"ObjectName\":"
    "\"D:\\\\Shares\\\\Acme\\\\e.doc\",\"AccessMask\":\"0x10000\"}",
    "{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":9,\"@timestamp\":\"2026-03-30T19:40:40.500Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\e.doc.nightsky\"}",
    /* f.ppt.nightsky written a second before f.ppt is deleted: paired (either order) */
    "{\"EventID\":11,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
    "\"FS01.corp.example\",\"RecordNumber\":10,\"@timestamp\":\"2026-03-30T19:40:50.000Z\",\"User\":"
    "\"CORP\\\\mallory\",\"TargetFilename\":\"D:\\\\Shares\\\\Acme\\\\f.ppt.nightsky\"}",
    "{\"EventID\":4663,\"Channel\":\"Security\",\"Hostname\":\"FS01.corp.example\",\"RecordNumber\":11,"
    "\"@timestamp\":\"2026-03-30T19:40:51.000Z\",\"SubjectUserName\":\"mallory\",\"ObjectName\":"
    "\"D:\\\\Shares\\\\Acme\\\\f.ppt\",\"AccessMask\":\"0x10000\"}",
};

static const struct kz_scope_file *file_named(const struct kz_scope_result *r, const char *name) {
    for (uint32_t i = 0; i < r->nfiles; i++) {
        const char *p = r->files[i].path, *sep = p ? strrchr(p, '\\') : NULL;
        if (sep && !strcmp(sep + 1, name)) return &r->files[i];
    }
    return NULL;
}

/* A store in a new temporary folder (its path in dir, for remove_store) holding the events given
 * as JSON lines; NULL when it could not be made. */
static struct kz_store *store_of_events(char dir[64], const char *const *lines, size_t n,
                                        uint64_t *events) {
    snprintf(dir, 64, "/tmp/kz-store-test-XXXXXX");
    if (!mkdtemp(dir)) return NULL;
    char src[160], sdir[160];
    snprintf(src, sizeof src, "%s/events.json", dir);
    snprintf(sdir, sizeof sdir, "%s/s", dir);
    FILE *f = fopen(src, "w");
    if (!f) return NULL;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
    fclose(f);
    struct kz_store *s = NULL;
    struct kz_err err = {0};
    if (kz_store_open(sdir, 1, &s, &err)) return NULL;
    const char *paths[] = {src};
    struct kz_store_ingest_stats st;
    if (kz_store_ingest(s, paths, 1, NULL, &st, &err)) {
        kz_store_close(s);
        return NULL;
    }
    *events = st.events;
    return s;
}

KZ_TEST(store_scope_rename_pairing) {
    char dir[64];
    uint64_t events = 0;
    struct kz_store *s =
        store_of_events(dir, rename_events, sizeof rename_events / sizeof *rename_events, &events);
    REQUIRE(s != NULL);
    CHECK_INT((int)events, 11);
    struct kz_err err = {0};
    struct kz_scope_query q = {.user = "CORP\\mallory"};
    struct kz_scope_result *r = NULL;
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    REQUIRE(r != NULL);
    CHECK_INT(r->nfiles, 11);
    static const struct {
        const char *name;
        uint32_t writes, deletes, renames;
        const char *renamed_to; /* the new name's last component, or NULL */
    } want[] = {
        {"a.docx", 0, 1, 1, "a.docx.nightsky"}, {"a.docx.nightsky", 1, 0, 0, NULL},
        {"b.xlsx", 0, 1, 1, "b.xlsx.locked"},   {"b.xlsx.locked", 1, 0, 0, NULL},
        {"c.pdf", 0, 1, 0, NULL},               {"c.pdf.nightsky", 1, 0, 0, NULL},
        {"d.txt.nightsky", 1, 0, 0, NULL},      {"e.doc", 0, 1, 0, NULL},
        {"e.doc.nightsky", 1, 0, 0, NULL},      {"f.ppt", 0, 1, 1, "f.ppt.nightsky"},
        {"f.ppt.nightsky", 1, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const struct kz_scope_file *x = file_named(r, want[i].name);
        CHECK_MSG(x != NULL, "%s missing", want[i].name);
        if (!x) continue;
        CHECK_MSG(x->writes == want[i].writes && x->deletes == want[i].deletes &&
                      x->renames == want[i].renames,
                  "%s: writes %u deletes %u renames %u", want[i].name, x->writes, x->deletes,
                  x->renames);
        if (want[i].renamed_to) {
            const char *t = x->renamed_to ? strrchr(x->renamed_to, '\\') : NULL;
            CHECK_MSG(t && !strcmp(t + 1, want[i].renamed_to), "%s renamed to %s", want[i].name,
                      x->renamed_to ? x->renamed_to : "(none)");
            /* both names in full: same folder, old name plus the extension */
            CHECK(x->renamed_to && !strncmp(x->renamed_to, x->path, strlen(x->path)));
        } else {
            CHECK_MSG(x->renamed_to == NULL, "%s renamed to %s", want[i].name, x->renamed_to);
        }
    }
    kz_scope_free(r);
    kz_store_close(s);
    CHECK_INT(remove_store(dir), 0);
}

/* ---- hosts that ran a file the account wrote (scope.c) ----
 * mallory writes run.bat into a GPO folder on DC01's SYSVOL at 10:00:00 (5145, WriteData) and a
 * text file beside it. Expected by hand: WS01 (cmd as SYSTEM through the domain name, a minute
 * later), WS02 (Sysmon, quoted, other case), WS06 (through \\DC01) ran it; WS03 ran it before it
 * was written, WS04 from another device of the estate (FS01), WS05 opened the text file: not
 * reached. */
#define RUN_EV(eid, chan, host, rec, ts, rest)                                                   \
    "{\"EventID\":" #eid ",\"Channel\":\"" chan "\",\"Hostname\":\"" host                      \
    "\",\"RecordNumber\":" #rec ",\"@timestamp\":\"2026-03-30T" ts "Z\"," rest "}"
#define SYSVOL_DIR "corp.example\\\\Policies\\\\{AB}\\\\Machine\\\\Scripts"
static const char *const run_events[] = {
    RUN_EV(5145, "Security", "DC01.corp.example", 1, "10:00:00.000",
           "\"SubjectUserName\":\"mallory\",\"ShareName\":\"\\\\\\\\*\\\\SYSVOL\","
           "\"RelativeTargetName\":\"" SYSVOL_DIR "\\\\run.bat\",\"AccessMask\":\"0x2\""),
    RUN_EV(5145, "Security", "DC01.corp.example", 2, "10:00:01.000",
           "\"SubjectUserName\":\"mallory\",\"ShareName\":\"\\\\\\\\*\\\\SYSVOL\","
           "\"RelativeTargetName\":\"" SYSVOL_DIR "\\\\notes.txt\",\"AccessMask\":\"0x2\""),
    RUN_EV(4688, "Security", "WS01.corp.example", 3, "10:01:00.000",
           "\"SubjectUserName\":\"WS01$\",\"NewProcessName\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
           "\"CommandLine\":\"cmd.exe /c \\\\\\\\corp.example\\\\SYSVOL\\\\" SYSVOL_DIR
           "\\\\run.bat\""),
    RUN_EV(1, "Microsoft-Windows-Sysmon/Operational", "WS02.corp.example", 4, "10:01:10.000",
           "\"User\":\"NT AUTHORITY\\\\SYSTEM\",\"Image\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
           "\"CommandLine\":\"cmd /c \\\"\\\\\\\\CORP.EXAMPLE\\\\sysvol\\\\corp.example\\\\policies"
           "\\\\{ab}\\\\machine\\\\scripts\\\\RUN.BAT\\\"\""),
    RUN_EV(4688, "Security", "WS03.corp.example", 5, "09:59:00.000",
           "\"SubjectUserName\":\"WS03$\",\"NewProcessName\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
           "\"CommandLine\":\"cmd.exe /c \\\\\\\\corp.example\\\\SYSVOL\\\\" SYSVOL_DIR
           "\\\\run.bat\""),
    RUN_EV(4624, "Security", "FS01.corp.example", 6, "09:00:00.000",
           "\"TargetUserName\":\"bob\",\"TargetLogonId\":\"0x1\",\"LogonType\":3"),
    RUN_EV(4688, "Security", "WS04.corp.example", 7, "10:02:00.000",
           "\"SubjectUserName\":\"WS04$\",\"NewProcessName\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
           "\"CommandLine\":\"cmd.exe /c \\\\\\\\FS01\\\\SYSVOL\\\\" SYSVOL_DIR "\\\\run.bat\""),
    RUN_EV(4688, "Security", "WS05.corp.example", 8, "10:02:00.000",
           "\"SubjectUserName\":\"alice\",\"NewProcessName\":\"C:\\\\Windows\\\\notepad.exe\","
           "\"CommandLine\":\"notepad.exe \\\\\\\\corp.example\\\\SYSVOL\\\\" SYSVOL_DIR
           "\\\\notes.txt\""),
    RUN_EV(4688, "Security", "WS06.corp.example", 9, "10:03:00.000",
           "\"SubjectUserName\":\"WS06$\",\"NewProcessName\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\","
           "\"CommandLine\":\"cmd.exe /c \\\\\\\\DC01\\\\SYSVOL\\\\" SYSVOL_DIR "\\\\run.bat\""),
};

static const struct kz_scope_host *host_named(const struct kz_scope_result *r, const char *name) {
    for (uint32_t i = 0; i < r->nhosts; i++)
        if (r->hosts[i].host && !strncmp(r->hosts[i].host, name, strlen(name)))
            return &r->hosts[i];
    return NULL;
}

KZ_TEST(store_scope_hosts_that_ran_a_written_file) {
    char dir[64], sdir[80];
    uint64_t events = 0;
    struct kz_store *s =
        store_of_events(dir, run_events, sizeof run_events / sizeof *run_events, &events);
    REQUIRE(s != NULL);
    CHECK_INT((int)events, 9);
    snprintf(sdir, sizeof sdir, "%s/s", dir);
    struct kz_err err = {0};
    struct kz_scope_query q = {.user = "CORP\\mallory"};
    struct kz_scope_result *r = NULL;
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    REQUIRE(r != NULL);
    CHECK_INT(r->nhosts, 4);
    const struct kz_scope_host *dc = host_named(r, "DC01");
    CHECK(dc && dc->ran == NULL && dc->logons == 0);
    static const char *const ran[] = {"WS01", "WS02", "WS06"};
    for (size_t i = 0; i < 3; i++) {
        const struct kz_scope_host *h = host_named(r, ran[i]);
        CHECK_MSG(h && h->ran && strstr(h->ran, "run.bat") && h->logons == 0, "%s", ran[i]);
    }
    for (const char *const *o = (const char *const[]){"WS03", "WS04", "WS05", "FS01", NULL}; *o;
         o++)
        CHECK_MSG(host_named(r, *o) == NULL, "%s listed", *o);
    kz_scope_free(r);
    /* a window that ends before the runs: DC01 only */
    q.has_until = 1;
    REQUIRE(kz_time_parse("2026-03-30T10:00:30Z", 20, &q.until) == 0);
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    REQUIRE(r != NULL);
    CHECK_INT(r->nhosts, 1);
    kz_scope_free(r);
    q.has_until = 0;
    /* a store of the earlier format: read, not added to, and scope says what it cannot find */
    CHECK_INT(sqlite3_exec(kz_store_db(s), "UPDATE meta SET v='kizuki-store 1' WHERE k='format'",
                           NULL, NULL, NULL),
              SQLITE_OK);
    kz_store_close(s);
    s = NULL;
    CHECK_INT(kz_store_open(sdir, 1, &s, &err), KZ_EUSAGE);
    CHECK(strstr(err.msg, "earlier kizuki") != NULL);
    REQUIRE(kz_store_open(sdir, 0, &s, &err) == 0);
    CHECK_INT(kz_store_format(s), 1);
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    REQUIRE(r != NULL);
    CHECK_INT(r->no_runs, 1);
    CHECK_INT(r->nhosts, 1);
    kz_scope_free(r);
    kz_store_close(s);
    CHECK_INT(remove_store(dir), 0);
}

/* ---- HTML escaping: log content must never become markup (docs/scope.md, "Output") ---- */
KZ_TEST(store_scope_html_escapes_everything) {
    const char *evil = "<script>alert(1)</script>";
    const char *evil2 = "\"><img src=x onerror=alert(2)>";
    const char *srcs[] = {evil2};
    struct kz_scope_host host = {.host = evil, .first = 1, .last = 2, .logons = 1,
                                 .nsources = 1, .sources = srcs, .ran = evil2};
    struct kz_scope_edge edge = {.from = evil, .to = evil2, .user = "</td><script>x()</script>",
                                 .logon_type = 3, .first = 1, .count = 1};
    struct kz_scope_file file = {.path = "\\\\FS01\\<script>a</script>.docx", .host = evil,
                                 .customer = evil2, .renamed_to = evil, .writes = 1};
    struct kz_scope_customer cust = {.customer = "<svg onload=alert(3)>", .files = 1, .written = 1};
    struct kz_scope_web web = {.server = "<script src=//x></script>", .client = evil2,
                               .user = "<iframe src=javascript:alert(4)>", .requests = 3,
                               .errors = 1};
    struct kz_scope_vpn vpn = {.gateway = "<script>g</script>", .user = evil,
                               .remote = "<object data=x>", .tunnel = "<embed src=x>", .id = 7};
    struct kz_scope_result r = {.subject_kind = "user", .subject = evil, .hosts = &host,
                                .nhosts = 1, .edges = &edge, .nedges = 1, .files = &file,
                                .nfiles = 1, .customers = &cust, .ncustomers = 1, .web = &web,
                                .nweb = 1, .vpn = &vpn, .nvpn = 1};
    struct kz_buf b;
    kz_buf_init(&b, 1 << 20);
    kz_scope_render(&r, KZ_SCOPE_HTML, 0, &b);
    REQUIRE(b.data != NULL);
    /* every tag the page has is kizuki's own: none of the values' tags survive */
    static const char *never[] = {"<script", "<img", "<svg onload", "<iframe", "<object", "<embed",
                                  "onerror=alert(2)>"};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        CHECK_MSG(strstr(b.data, never[i]) == NULL, "HTML contains %s", never[i]);
    /* and the values are there, escaped, in the web and VPN tables too */
    CHECK(strstr(b.data, "Web sessions (1 ") != NULL);
    CHECK(strstr(b.data, "VPN sessions (1 ") != NULL);
    CHECK(strstr(b.data, "&lt;script src=//x&gt;&lt;/script&gt;") != NULL);
    CHECK(strstr(b.data, "&lt;iframe src=javascript:alert(4)&gt;") != NULL);
    CHECK(strstr(b.data, "&lt;object data=x&gt;") != NULL);
    CHECK(strstr(b.data, "&lt;embed src=x&gt;") != NULL);
    CHECK(strstr(b.data, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;") != NULL);
    /* no script may run at all: the page's policy forbids it */
    CHECK(strstr(b.data, "default-src 'none'") != NULL);
    kz_buf_free(&b);
}

/* The table groups hosts reached only by running a file the account wrote under that file, names
 * without their common domain; a host with logons keeps its own line; JSON keeps every host. */
KZ_TEST(store_scope_table_groups_ran_hosts) {
    const char *bat = "\\\\DC01\\SYSVOL\\d\\run.bat", *exe = "\\\\FS01\\tools\\x.exe";
    const char *srcs[] = {"PWRESET01"};
    struct kz_scope_host hosts[] = {
        {.host = "DC01.corp.example", .first = 1, .last = 2, .logons = 1, .nsources = 1,
         .sources = srcs, .ran = bat},
        {.host = "WS01.corp.example", .first = 3, .last = 3, .ran = bat},
        {.host = "WS02.corp.example", .first = 4, .last = 4, .ran = bat},
        {.host = "LAB7", .first = 5, .last = 5, .ran = exe},
        {.host = "WS03.other.example", .first = 6, .last = 6, .ran = exe},
    };
    struct kz_scope_result r = {.subject_kind = "user", .subject = "CORP\\mallory",
                                .hosts = hosts, .nhosts = 5};
    struct kz_buf b;
    kz_buf_init(&b, 1 << 16);
    kz_scope_render(&r, KZ_SCOPE_TABLE, 0, &b);
    REQUIRE(b.data != NULL);
    CHECK(strstr(b.data, "HOSTS (5)") != NULL);
    CHECK(strstr(b.data, "1 logons  from PWRESET01  ran ...\\run.bat\n") != NULL);
    CHECK(strstr(b.data, "  2 hosts of corp.example ran \\\\DC01\\SYSVOL\\d\\run.bat (no logon)") !=
          NULL);
    CHECK(strstr(b.data, "\n    WS01, WS02\n") != NULL);
    /* different domains: full names */
    CHECK(strstr(b.data, "  2 hosts ran \\\\FS01\\tools\\x.exe (no logon)") != NULL);
    CHECK(strstr(b.data, "\n    LAB7, WS03.other.example\n") != NULL);
    kz_buf_clear(&b);
    kz_scope_render(&r, KZ_SCOPE_JSON, 0, &b);
    REQUIRE(b.data != NULL);
    CHECK(strstr(b.data, "\"host\":\"WS02.corp.example\",\"first\"") != NULL);
    CHECK(strstr(b.data, "\"ran\":\"\\\\\\\\FS01\\\\tools\\\\x.exe\"}") != NULL);
    /* DOT: each file once, on its server, and a dashed edge to every host that ran it */
    kz_buf_clear(&b);
    kz_scope_render(&r, KZ_SCOPE_DOT, 0, &b);
    REQUIRE(b.data != NULL);
    CHECK(strstr(b.data, "\"DC01\" -> \"\\\\\\\\DC01\\\\SYSVOL\\\\d\\\\run.bat\" [label=\"written by "
                         "CORP\\\\mallory\"]") != NULL);
    CHECK(strstr(b.data, "\"FS01\" -> \"\\\\\\\\FS01\\\\tools\\\\x.exe\"") != NULL);
    CHECK(strstr(b.data, "run.bat\" -> \"WS02\" [style=dashed") != NULL);
    CHECK(strstr(b.data, "x.exe\" -> \"LAB7\" [style=dashed") != NULL);
    size_t notes = 0;
    for (const char *p = b.data; (p = strstr(p, "shape=note")); p++) notes++;
    CHECK_INT((int)notes, 2);
    kz_buf_free(&b);
}
