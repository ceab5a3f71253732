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
    }
    /* scope of an unknown account: empty, not an error */
    struct kz_scope_query q = {.user = "CORP\\nobody"};
    struct kz_scope_result *r = NULL;
    CHECK_INT(kz_scope_run(s, &q, &r, &err), 0);
    if (r) CHECK_INT(r->nhosts, 0);
    kz_scope_free(r);
    kz_store_close(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}
