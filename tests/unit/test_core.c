/* test_core.c - unit tests of src/core: alloc, arena, buf, intern, timeutil, utf, pool, event.
 *
 * Expected values are worked out from the specifications (RFC 3339, the Gregorian calendar, UTF-8
 * and UTF-16, JSON and XML escaping rules), never copied from what the code prints. */
#include "unit.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/event.h"
#include "core/intern.h"
#include "core/pool.h"
#include "core/timeutil.h"
#include "core/utf.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- alloc ---- */

KZ_TEST(alloc_accounting_tracks_bytes_in_use) {
    size_t base = kz_alloc_in_use();
    char *p = kz_malloc(1000);
    REQUIRE(p);
    CHECK_INT(kz_alloc_in_use() - base, 1000);
    p = kz_realloc(p, 3000);
    REQUIRE(p);
    CHECK_INT(kz_alloc_in_use() - base, 3000);
    CHECK(kz_alloc_peak() >= base + 3000);
    p = kz_realloc(p, 10);
    REQUIRE(p);
    CHECK_INT(kz_alloc_in_use() - base, 10);
    kz_free(p);
    CHECK_INT(kz_alloc_in_use(), base);
    kz_alloc_reset_peak();
    CHECK_INT(kz_alloc_peak(), base);
    kz_free(NULL); /* allowed, changes nothing */
    CHECK_INT(kz_alloc_in_use(), base);
}

KZ_TEST(alloc_calloc_zeroes_and_rejects_overflow) {
    unsigned char *p = kz_calloc(100, 3);
    REQUIRE(p);
    int nonzero = 0;
    for (int i = 0; i < 300; i++)
        nonzero |= p[i];
    CHECK_INT(nonzero, 0);
    kz_free(p);
    CHECK(kz_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(kz_malloc(SIZE_MAX - 4) == NULL);
}

KZ_TEST(alloc_strdup_copies) {
    char *s = kz_strdup("hello");
    REQUIRE(s);
    CHECK_STR(s, "hello");
    kz_free(s);
    s = kz_strndup("abcdef", 3);
    REQUIRE(s);
    CHECK_STR(s, "abc");
    kz_free(s);
}

KZ_TEST(alloc_fail_after_fails_the_nth_allocation) {
    size_t base = kz_alloc_in_use();
    kz_alloc_fail_after(2);
    void *a = kz_malloc(8), *b = kz_malloc(8), *c = kz_malloc(8), *d = kz_calloc(2, 8);
    char *e = kz_strdup("x");
    kz_alloc_fail_never();
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(c == NULL);
    CHECK(d == NULL);
    CHECK(e == NULL);
    CHECK_INT(kz_alloc_failures(), 3);
    /* realloc of a live block fails too, and leaves the block intact */
    kz_alloc_fail_after(0);
    void *r = kz_realloc(a, 4096);
    kz_alloc_fail_never();
    CHECK(r == NULL);
    CHECK_INT(kz_alloc_failures(), 1);
    void *f = kz_malloc(8);
    CHECK(f != NULL);
    kz_free(a);
    kz_free(b);
    kz_free(f);
    CHECK_INT(kz_alloc_in_use(), base);
    /* n < 0 disables injection */
    kz_alloc_fail_after(-1);
    void *g = kz_malloc(8);
    CHECK(g != NULL);
    kz_free(g);
    kz_alloc_fail_never();
}

/* ---- arena ---- */

KZ_TEST(arena_aligns_to_8) {
    struct kz_arena a;
    kz_arena_init(&a, 256, 0);
    size_t sizes[] = {1, 3, 7, 13, 8, 1, 100, 5, 300, 2};
    char *prev = NULL;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char *p = kz_arena_alloc(&a, sizes[i]);
        REQUIRE(p);
        CHECK_MSG((uintptr_t)p % 8 == 0, "allocation %zu of %zu bytes not 8-aligned", i, sizes[i]);
        memset(p, 0xAB, sizes[i]); /* ASan: the whole size must be usable */
        CHECK(p != prev);
        prev = p;
    }
    kz_arena_free(&a);
}

KZ_TEST(arena_distinct_allocations_do_not_overlap) {
    struct kz_arena a;
    kz_arena_init(&a, 64, 0);
    char *p[50];
    for (int i = 0; i < 50; i++) {
        p[i] = kz_arena_alloc(&a, 24);
        REQUIRE(p[i]);
        memset(p[i], i, 24);
    }
    for (int i = 0; i < 50; i++)
        for (int k = 0; k < 24; k++)
            CHECK(p[i][k] == (char)i);
    kz_arena_free(&a);
}

KZ_TEST(arena_cap_returns_null) {
    struct kz_arena a;
    kz_arena_init(&a, 1024, 100);
    CHECK(kz_arena_alloc(&a, 64) != NULL);
    CHECK(kz_arena_alloc(&a, 40) == NULL); /* 64 + 40 > 100 */
    CHECK(kz_arena_alloc(&a, 32) != NULL); /* 96 <= 100 */
    CHECK(kz_arena_alloc(&a, 5) == NULL);  /* rounds to 8: 104 > 100 */
    CHECK(kz_arena_alloc(&a, 1000) == NULL);
    kz_arena_reset(&a);
    CHECK(kz_arena_alloc(&a, 96) != NULL); /* the cap is per reset */
    kz_arena_free(&a);
}

KZ_TEST(arena_rejects_sizes_that_overflow_rounding) {
    /* A request near SIZE_MAX cannot be met; rounding it up to a multiple of 8 must not wrap it to
     * a small size and hand out an 8-byte block. */
    struct kz_arena a;
    kz_arena_init(&a, 1024, 0);
    CHECK(kz_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(kz_arena_alloc(&a, SIZE_MAX - 3) == NULL);
    kz_arena_free(&a);
}

KZ_TEST(arena_reset_reuses_and_frees_big_blocks) {
    size_t base = kz_alloc_in_use();
    struct kz_arena a;
    kz_arena_init(&a, 4096, 0);
    char *first = kz_arena_alloc(&a, 16);
    REQUIRE(first);
    for (int i = 0; i < 10; i++)
        CHECK(kz_arena_alloc(&a, 100000) != NULL); /* own blocks */
    size_t grown = kz_alloc_in_use() - base;
    CHECK(grown >= 10 * 100000);
    kz_arena_reset(&a);
    CHECK(kz_alloc_in_use() - base < 100000); /* only the first (standard) block is kept */
    char *again = kz_arena_alloc(&a, 16);
    CHECK(again == first); /* the kept block is reused from its start */
    char *s = kz_arena_strndup(&a, "abcdef", 4);
    REQUIRE(s);
    CHECK_STR(s, "abcd");
    kz_arena_free(&a);
    CHECK_INT(kz_alloc_in_use(), base);
}

/* ---- buf ---- */

KZ_TEST(buf_cap_sets_failed) {
    struct kz_buf b;
    kz_buf_init(&b, 16);
    kz_buf_puts(&b, "0123456789");
    CHECK(!b.failed);
    CHECK_INT(b.len, 10);
    kz_buf_puts(&b, "0123456789"); /* 20 > 16 */
    CHECK(b.failed);
    CHECK_INT(b.len, 10);
    CHECK(b.alloc <= 17);
    kz_buf_putc(&b, 'x'); /* no-op once failed */
    CHECK_INT(b.len, 10);
    CHECK_INT(kz_buf_reserve(&b, 1), KZ_ELIMIT);
    kz_buf_clear(&b);
    CHECK(!b.failed);
    CHECK_INT(b.len, 0);
    kz_buf_puts(&b, "abc");
    CHECK_STR(b.data, "abc");
    kz_buf_free(&b);
}

KZ_TEST(buf_numbers_and_printf) {
    struct kz_buf b;
    kz_buf_init(&b, 0);
    kz_buf_put_u64(&b, 0);
    kz_buf_putc(&b, ' ');
    kz_buf_put_u64(&b, UINT64_MAX);
    kz_buf_putc(&b, ' ');
    kz_buf_put_i64(&b, INT64_MIN);
    kz_buf_putc(&b, ' ');
    kz_buf_put_i64(&b, -42);
    CHECK_STR(b.data, "0 18446744073709551615 -9223372036854775808 -42");
    kz_buf_clear(&b);
    char big[600];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    kz_buf_printf(&b, "<%s>%d", big, 7); /* longer than printf's stack buffer */
    CHECK_INT(b.len, 599 + 3);
    CHECK(b.data[0] == '<' && b.data[600] == '>' && b.data[601] == '7' && b.data[602] == 0);
    kz_buf_free(&b);
}

KZ_TEST(buf_json_escapes_quotes_and_controls) {
    struct kz_buf b;
    kz_buf_init(&b, 0);
    const char in[] = "a\"b\\c\nd\re\tf\x01g\x1f";
    kz_buf_put_json_str(&b, in, sizeof in - 1);
    CHECK_STR(b.data, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f");
    kz_buf_free(&b);
}

KZ_TEST(buf_json_replaces_invalid_utf8) {
    struct kz_buf b;
    kz_buf_init(&b, 0);
    /* valid 2/3/4-byte sequences pass through */
    const char ok[] = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
    kz_buf_put_json_str(&b, ok, sizeof ok - 1);
    CHECK_STR(b.data, ok);
    kz_buf_clear(&b);
    /* stray continuation, bad lead byte, truncated sequence at the end */
    const char bad[] = "a\x80"
                       "b\xFF"
                       "c\xC3";
    kz_buf_put_json_str(&b, bad, sizeof bad - 1);
    CHECK_STR(b.data, "a\xEF\xBF\xBD"
                      "b\xEF\xBF\xBD"
                      "c\xEF\xBF\xBD");
    kz_buf_clear(&b);
    /* overlong '/' (C0 AF) and an encoded surrogate (ED A0 80) are not UTF-8 */
    const char over[] = "\xC0\xAF|\xED\xA0\x80";
    kz_buf_put_json_str(&b, over, sizeof over - 1);
    CHECK_STR(b.data, "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    kz_buf_free(&b);
}

KZ_TEST(buf_json_escape_fits_under_cap) {
    /* 20 plain bytes into an empty buffer with a 64-byte cap are not a write past the cap. */
    struct kz_buf b;
    kz_buf_init(&b, 64);
    kz_buf_put_json_str(&b, "abcdefghijklmnopqrst", 20);
    CHECK(!b.failed);
    CHECK_STR(b.data ? b.data : "", "abcdefghijklmnopqrst");
    kz_buf_clear(&b);
    kz_buf_put_xml_str(&b, "abcdefghijklmnopqrst", 20);
    CHECK(!b.failed);
    CHECK_STR(b.data ? b.data : "", "abcdefghijklmnopqrst");
    kz_buf_free(&b);
}

KZ_TEST(buf_xml_escapes) {
    struct kz_buf b;
    kz_buf_init(&b, 0);
    const char in[] = "<a href=\"x\">&'\t\n\x01\xC3\xA9\xFF";
    kz_buf_put_xml_str(&b, in, sizeof in - 1);
    /* tab and LF as character references (buf.h: a document stays on one line) */
    CHECK_STR(b.data,
              "&lt;a href=&quot;x&quot;&gt;&amp;'&#9;&#10;\xEF\xBF\xBD\xC3\xA9\xEF\xBF\xBD");
    kz_buf_free(&b);
}

/* ---- intern ---- */

KZ_TEST(intern_same_name_same_id) {
    uint32_t a = kz_intern("UnitTestName", 12);
    uint32_t b = kz_intern("UnitTestName", 12);
    uint32_t c = kz_intern("UnitTestNamf", 12);
    uint32_t d = kz_intern("UnitTestName2", 13);
    uint32_t e = kz_intern("UnitTestNameXYZ", 12); /* length bounds the name */
    CHECK(a != 0);
    CHECK_INT(a, b);
    CHECK(a != c);
    CHECK(a != d && c != d);
    CHECK_INT(e, a);
    CHECK_STR(kz_intern_name(a), "UnitTestName");
    CHECK_INT(kz_intern_len(a), 12);
    CHECK_INT(kz_intern_find("UnitTestName", 12), a);
}

KZ_TEST(intern_find_never_adds) {
    uint32_t before = kz_intern_count();
    CHECK_INT(kz_intern_find("NeverInternedUnitName", 21), 0);
    CHECK_INT(kz_intern_count(), before);
    CHECK_STR(kz_intern_name(0), "");
    CHECK_STR(kz_intern_name(0xFFFFFFF0u), "");
    CHECK_INT(kz_intern_len(0), 0);
}

KZ_TEST(intern_well_known_ids) {
    static const struct {
        uint32_t id;
        const char *name;
    } wk[] = {
        {KZ_F_EventID, "EventID"},
        {KZ_F_EventID_Qualifiers, "EventID_Qualifiers"},
        {KZ_F_Version, "Version"},
        {KZ_F_Level, "Level"},
        {KZ_F_Task, "Task"},
        {KZ_F_Opcode, "Opcode"},
        {KZ_F_Keywords, "Keywords"},
        {KZ_F_TimeCreated_SystemTime, "TimeCreated_SystemTime"},
        {KZ_F_EventRecordID, "EventRecordID"},
        {KZ_F_Channel, "Channel"},
        {KZ_F_Computer, "Computer"},
        {KZ_F_Provider_Name, "Provider_Name"},
        {KZ_F_Provider_Guid, "Provider_Guid"},
        {KZ_F_Provider_EventSourceName, "Provider_EventSourceName"},
        {KZ_F_Execution_ProcessID, "Execution_ProcessID"},
        {KZ_F_Execution_ThreadID, "Execution_ThreadID"},
        {KZ_F_Security_UserID, "Security_UserID"},
        {KZ_F_Data, "Data"},
        {KZ_F_Name, "Name"},
        {KZ_F_System, "System"},
        {KZ_F_EventData, "EventData"},
        {KZ_F_UserData, "UserData"},
        {KZ_F_Event, "Event"},
    };
    CHECK_INT(sizeof wk / sizeof *wk, KZ_F_WELL_KNOWN_COUNT - 1);
    for (size_t i = 0; i < sizeof wk / sizeof *wk; i++) {
        CHECK_STR(kz_intern_name(wk[i].id), wk[i].name);
        CHECK_INT(kz_intern(wk[i].name, strlen(wk[i].name)), wk[i].id);
        CHECK_INT(kz_intern_find(wk[i].name, strlen(wk[i].name)), wk[i].id);
    }
    CHECK(kz_intern_count() >= KZ_F_WELL_KNOWN_COUNT - 1);
}

KZ_TEST(intern_many_names_and_truncation) {
    char name[32];
    static uint32_t ids[5000];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof name, "unit_many_%d", i);
        ids[i] = kz_intern(name, (size_t)n);
        REQUIRE(ids[i] != 0);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof name, "unit_many_%d", i);
        CHECK_STR(kz_intern_name(ids[i]), name);
        CHECK_INT(kz_intern_find(name, (size_t)n), ids[i]);
    }
    char longname[KZ_INTERN_MAX_LEN + 100];
    memset(longname, 'L', sizeof longname);
    uint32_t a = kz_intern(longname, sizeof longname);
    uint32_t b = kz_intern(longname, KZ_INTERN_MAX_LEN);
    CHECK(a != 0);
    CHECK_INT(a, b);
    CHECK_INT(kz_intern_len(a), KZ_INTERN_MAX_LEN);
}

/* ---- timeutil ---- */

static const char *fmt_time(kz_time t, int digits) {
    static char out[KZ_TIME_TEXT_MAX];
    kz_time_format(t, digits, out);
    return out;
}

KZ_TEST(time_days_from_civil_known_dates) {
    /* Day numbers counted by hand: 30 years 1970..1999 hold 7 leap days (72..96): 10957 days to
     * 2000-01-01; + 31 (Jan) + 28 = 2000-02-29 is day 11016. */
    CHECK_INT(kz_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(kz_days_from_civil(2000, 1, 1), 10957);
    CHECK_INT(kz_days_from_civil(2000, 2, 29), 11016);
    CHECK_INT(kz_days_from_civil(2000, 3, 1), 11017);
    /* 2024-01-01: 54 years with 13 leap days (72..2020) = 19723; + 31 + 28 = 19782 */
    CHECK_INT(kz_days_from_civil(2024, 2, 29), 19782);
    /* 1900 and 2100 are not leap years: Feb 28 is followed by Mar 1 */
    CHECK_INT(kz_days_from_civil(1900, 3, 1) - kz_days_from_civil(1900, 2, 28), 1);
    CHECK_INT(kz_days_from_civil(2100, 3, 1) - kz_days_from_civil(2100, 2, 28), 1);
    /* 1601-01-01: FILETIME's epoch is 11644473600 s = 134774 days before 1970 */
    CHECK_INT(kz_days_from_civil(1601, 1, 1), -134774);
    CHECK_INT(KZ_FILETIME_UNIX_OFFSET, 134774LL * 86400 * KZ_TICKS_PER_SEC);
    int64_t y;
    unsigned m, d;
    kz_civil_from_days(11016, &y, &m, &d);
    CHECK(y == 2000 && m == 2 && d == 29);
    kz_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    kz_civil_from_days(-134774, &y, &m, &d);
    CHECK(y == 1601 && m == 1 && d == 1);
}

KZ_TEST(time_format_known_values) {
    CHECK_STR(fmt_time(0, 0), "1970-01-01T00:00:00Z");
    CHECK_STR(fmt_time(0, 7), "1970-01-01T00:00:00.0000000Z");
    /* 2016-07-08T18:12:51Z is 1468001571 s: day 16990 (2016-07-08) * 86400 + 65571 s */
    kz_time t = 1468001571LL * KZ_TICKS_PER_SEC + 6816408;
    CHECK_STR(fmt_time(t, 7), "2016-07-08T18:12:51.6816408Z");
    CHECK_STR(fmt_time(t, 3), "2016-07-08T18:12:51.681Z"); /* truncated, not rounded */
    CHECK_STR(fmt_time(t, 0), "2016-07-08T18:12:51Z");
    CHECK_STR(fmt_time(-1, 7), "1969-12-31T23:59:59.9999999Z");
    /* leap days */
    CHECK_STR(fmt_time(11016LL * 86400 * KZ_TICKS_PER_SEC, 0), "2000-02-29T00:00:00Z");
    CHECK_STR(fmt_time(19782LL * 86400 * KZ_TICKS_PER_SEC + 86399LL * KZ_TICKS_PER_SEC, 0),
              "2024-02-29T23:59:59Z");
    /* FILETIME edges: 0 is 1601-01-01; 9999-12-31T23:59:59.9999999 is 253402300799 s after 1970 */
    CHECK_STR(fmt_time(kz_time_from_filetime(0), 7), "1601-01-01T00:00:00.0000000Z");
    CHECK_STR(fmt_time(253402300799LL * KZ_TICKS_PER_SEC + 9999999, 7),
              "9999-12-31T23:59:59.9999999Z");
    /* FILETIME 0x01D1D94AA5D6E9C0 = 131124778803587520 ticks since 1601 = 13112477880 s + 0.358752
     * s; minus 11644473600 s to 1970 = 1468004280 s = day 16990 (2016-07-08) + 68280 s (18:58:00).
     */
    CHECK_STR(fmt_time(kz_time_from_filetime(0x01D1D94AA5D6E9C0ULL), 7),
              "2016-07-08T18:58:00.3587520Z");
}

KZ_TEST(time_parse_known_values) {
    kz_time t;
    const char *s = "2016-07-08T18:12:51.68Z";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC + 6800000);
    s = "2016-07-09T03:12:51.68+09:00";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC + 6800000);
    s = "2016-07-08T12:42:51.68-05:30";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC + 6800000);
    s = "2016-07-08 18:12:51";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC);
    s = "2000-02-29";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 11016LL * 86400 * KZ_TICKS_PER_SEC);
    s = "1601-01-01T00:00:00Z";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, -KZ_FILETIME_UNIX_OFFSET);
    s = "9999-12-31T23:59:59.9999999Z";
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 253402300799LL * KZ_TICKS_PER_SEC + 9999999);
    s = "2016-07-08T18:12:51.123456789Z"; /* digits past the 7th are dropped */
    REQUIRE(kz_time_parse(s, strlen(s), &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC + 1234567);
    /* n bounds the text: what follows is not read */
    s = "2016-07-08T18:12:51Zgarbage";
    REQUIRE(kz_time_parse(s, 20, &t) == 0);
    CHECK_INT(t, 1468001571LL * KZ_TICKS_PER_SEC);
}

KZ_TEST(time_format_parse_round_trip) {
    kz_time samples[] = {
        0,
        1,
        -1,
        1468001571LL * KZ_TICKS_PER_SEC + 6816408,
        11016LL * 86400 * KZ_TICKS_PER_SEC + 12345,
        -KZ_FILETIME_UNIX_OFFSET,
        -KZ_FILETIME_UNIX_OFFSET + 9999999,
        253402300799LL * KZ_TICKS_PER_SEC + 9999999,
        951782400LL * KZ_TICKS_PER_SEC + 4242424, /* 2000-02-29 */
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        char buf[KZ_TIME_TEXT_MAX];
        size_t n = kz_time_format(samples[i], 7, buf);
        CHECK_INT(n, strlen(buf));
        CHECK_INT(n, 28);
        kz_time back = 0;
        CHECK_INT(kz_time_parse(buf, n, &back), 0);
        CHECK_MSG(back == samples[i], "%s parsed back as %lld, want %lld", buf, (long long)back,
                  (long long)samples[i]);
    }
}

KZ_TEST(time_parse_rejects_garbage) {
    const char *bad[] = {
        "",
        "garbage",
        "2016",
        "2016-07",
        "2016-7-08",
        "2016-13-01",
        "2016-00-10",
        "2016-07-32",
        "2016-07-00",
        "2016-07-08T",
        "2016-07-08T25:00:00Z",
        "2016-07-08T18:60:00Z",
        "2016-07-08T18:12:51.Z",
        "2016-07-08T18:12:51Zjunk",
        "2016-07-08X18:12:51Z",
        "2016-07-08T18:12:51+0",
        "2016-07-08T18:12:51+09:",
        "20a6-07-08",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kz_time t;
        CHECK_MSG(kz_time_parse(bad[i], strlen(bad[i]), &t) == KZ_EFORMAT, "accepted \"%s\"",
                  bad[i]);
    }
}

KZ_TEST(time_parse_rejects_impossible_dates) {
    /* RFC 3339 5.7: the day must exist in its month and year. */
    const char *bad[] = {"2021-02-30", "2021-04-31", "2023-02-29", "1900-02-29T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kz_time t;
        CHECK_MSG(kz_time_parse(bad[i], strlen(bad[i]), &t) == KZ_EFORMAT, "accepted \"%s\"",
                  bad[i]);
    }
    kz_time t;
    CHECK_INT(kz_time_parse("2024-02-29", 10, &t), 0);
    CHECK_INT(kz_time_parse("2000-02-29", 10, &t), 0);
}

KZ_TEST(time_parse_rejects_bad_offsets) {
    /* RFC 3339 time-numoffset: hours 00-23, minutes 00-59. */
    const char *bad[] = {"2016-07-08T18:12:51+24:00", "2016-07-08T18:12:51+09:60",
                         "2016-07-08T18:12:51-99:99"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kz_time t;
        CHECK_MSG(kz_time_parse(bad[i], strlen(bad[i]), &t) == KZ_EFORMAT, "accepted \"%s\"",
                  bad[i]);
    }
}

/* ---- utf ---- */

static const char *u16(const uint16_t *units, size_t n, size_t *len) {
    static char out[256];
    uint8_t bytes[128];
    for (size_t i = 0; i < n; i++)
        bytes[2 * i] = (uint8_t)units[i], bytes[2 * i + 1] = (uint8_t)(units[i] >> 8);
    *len = kz_utf16le_to_utf8(out, bytes, n);
    return out;
}

KZ_TEST(utf16_bmp) {
    size_t len;
    const uint16_t a[] = {'A', 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x20AC, 0xFFFF};
    const char *s = u16(a, 8, &len);
    CHECK_STR(s, "A\x7F\xC2\x80\xC3\xA9\xDF\xBF\xE0\xA0\x80\xE2\x82\xAC\xEF\xBF\xBF");
    CHECK_INT(len, 1 + 1 + 2 + 2 + 2 + 3 + 3 + 3);
}

KZ_TEST(utf16_surrogate_pairs) {
    size_t len;
    /* U+1F600 = D83D DE00 -> F0 9F 98 80; U+10000 = D800 DC00; U+10FFFF = DBFF DFFF */
    const uint16_t a[] = {0xD83D, 0xDE00, 0xD800, 0xDC00, 0xDBFF, 0xDFFF};
    CHECK_STR(u16(a, 6, &len), "\xF0\x9F\x98\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
    CHECK_INT(len, 12);
}

KZ_TEST(utf16_unpaired_surrogates) {
    size_t len;
    const uint16_t a[] = {0xD800, 'A'}; /* high then not-low: the 'A' survives */
    CHECK_STR(u16(a, 2, &len), "\xEF\xBF\xBD"
                               "A");
    const uint16_t b[] = {0xDC00, 'B'}; /* lone low */
    CHECK_STR(u16(b, 2, &len), "\xEF\xBF\xBD"
                               "B");
    const uint16_t c[] = {'C', 0xD83D}; /* high at the very end */
    CHECK_STR(u16(c, 2, &len), "C\xEF\xBF\xBD");
    const uint16_t d[] = {0xD800, 0xD800, 0xDC00}; /* high, then a proper pair */
    CHECK_STR(u16(d, 3, &len), "\xEF\xBF\xBD\xF0\x90\x80\x80");
}

KZ_TEST(utf16_stops_at_nul) {
    size_t len;
    const uint16_t a[] = {'A', 'B', 0, 'C'};
    CHECK_STR(u16(a, 4, &len), "AB");
    CHECK_INT(len, 2);
    const uint16_t e[] = {0};
    CHECK_STR(u16(e, 0, &len), "");
    CHECK_INT(len, 0);
}

KZ_TEST(utf8_valid_prefix) {
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"A", 1), 1);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xC3\xA9", 2), 2);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xE2\x82\xAC", 3), 3);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xF0\x9F\x98\x80", 4), 4);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\x80", 1), 0);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xC3\xA9", 1), 0); /* truncated */
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xC0\x80", 2), 0); /* overlong NUL */
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xE0\x80\xAF", 3), 0);
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xED\xA0\x80", 3), 0); /* surrogate */
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xF4\x90\x80\x80", 4),
              0); /* > U+10FFFF */
    CHECK_INT(kz_utf8_valid_prefix((const unsigned char *)"\xC3(", 2), 0);
}

/* ---- pool ---- */

struct pool_case {
    atomic_int *total;
    int runs;
};

static void pool_job(void *arg) {
    struct pool_case *c = arg;
    c->runs++;
    atomic_fetch_add(c->total, 1);
}

KZ_TEST(pool_runs_every_job_once) {
    enum { N = 2000 };
    struct kz_pool *p = kz_pool_new(4);
    REQUIRE(p);
    CHECK_INT(kz_pool_threads(p), 4);
    atomic_int total = 0;
    struct kz_job *jobs = calloc(N, sizeof *jobs);
    struct pool_case *cases = calloc(N, sizeof *cases);
    REQUIRE(jobs && cases);
    for (int i = 0; i < N; i++) {
        cases[i].total = &total;
        kz_pool_submit(p, &jobs[i], pool_job, &cases[i]);
    }
    for (int i = 0; i < N; i++)
        kz_job_wait(&jobs[i]);
    CHECK_INT(atomic_load(&total), N);
    int wrong = 0;
    for (int i = 0; i < N; i++)
        wrong += cases[i].runs != 1;
    CHECK_INT(wrong, 0);
    /* jobs still queued when the pool is freed run before the workers stop */
    for (int i = 0; i < N; i++)
        cases[i].runs = 0;
    atomic_store(&total, 0);
    for (int i = 0; i < N; i++)
        kz_pool_submit(p, &jobs[i], pool_job, &cases[i]);
    kz_pool_free(p);
    CHECK_INT(atomic_load(&total), N);
    wrong = 0;
    for (int i = 0; i < N; i++)
        wrong += cases[i].runs != 1;
    CHECK_INT(wrong, 0);
    free(jobs);
    free(cases);
}

KZ_TEST(pool_default_threads_is_cpu_count) {
    struct kz_pool *p = kz_pool_new(0);
    REQUIRE(p);
    CHECK_INT(kz_pool_threads(p), kz_cpu_count() > 256 ? 256 : kz_cpu_count());
    CHECK(kz_cpu_count() >= 1);
    kz_pool_free(p);
}

/* ---- event ---- */

static void set_field(struct kz_field *f, const char *name, uint8_t section, const char *val) {
    f->name = kz_intern(name, strlen(name));
    f->section = section;
    f->kind = KZ_VK_STRING;
    f->flags = 0;
    f->val = val;
    f->len = (uint32_t)strlen(val);
}

KZ_TEST(event_normalise_prefers_target_user) {
    struct kz_field f[8];
    struct kz_event ev;
    memset(&ev, 0, sizeof ev);
    set_field(&f[0], "SubjectUserName", KZ_SEC_EVENTDATA, "alice");
    set_field(&f[1], "SubjectDomainName", KZ_SEC_EVENTDATA, "CORP");
    set_field(&f[2], "TargetUserName", KZ_SEC_EVENTDATA, "bob");
    set_field(&f[3], "TargetDomainName", KZ_SEC_EVENTDATA, "WEST");
    set_field(&f[4], "LogonType", KZ_SEC_EVENTDATA, "10");
    set_field(&f[5], "IpAddress", KZ_SEC_EVENTDATA, "10.1.2.3");
    set_field(&f[6], "WorkstationName", KZ_SEC_EVENTDATA, "WS01");
    set_field(&f[7], "BytesTransferred", KZ_SEC_EVENTDATA, "1234");
    kz_event_reset(&ev);
    ev.fields = f;
    ev.nfields = 8;
    ev.host = "DC01";
    kz_event_normalise(&ev);
    CHECK_STR(ev.ent.user, "bob");
    CHECK_STR(ev.ent.domain, "WEST");
    CHECK_INT(ev.ent.logon_type, 10);
    CHECK_STR(ev.ent.src_ip, "10.1.2.3");
    CHECK_STR(ev.ent.src_host, "WS01");
    CHECK_STR(ev.ent.target_host, "DC01"); /* defaults to the event's host */
    CHECK_INT(ev.ent.bytes, 1234);
    CHECK(ev.ent.process == NULL);
    CHECK(ev.ent.sid == NULL);
    /* idempotent */
    kz_event_normalise(&ev);
    CHECK_STR(ev.ent.user, "bob");
    CHECK_INT(ev.ent.logon_type, 10);
}

KZ_TEST(event_normalise_ignores_dash_and_system) {
    struct kz_field f[5];
    struct kz_event ev;
    memset(&ev, 0, sizeof ev);
    set_field(&f[0], "TargetUserName", KZ_SEC_EVENTDATA, "-");
    set_field(&f[1], "SubjectUserName", KZ_SEC_EVENTDATA, "alice");
    set_field(&f[2], "TargetDomainName", KZ_SEC_EVENTDATA, "");
    set_field(&f[3], "SubjectDomainName", KZ_SEC_EVENTDATA, "CORP");
    set_field(&f[4], "Image", KZ_SEC_SYSTEM, "C:\\should-not-be-used.exe");
    kz_event_reset(&ev);
    ev.fields = f;
    ev.nfields = 5;
    kz_event_normalise(&ev);
    CHECK_STR(ev.ent.user, "alice");
    CHECK_STR(ev.ent.domain, "CORP");
    CHECK(ev.ent.process == NULL);
    CHECK_INT(ev.ent.logon_type, -1);
    CHECK_INT(ev.ent.bytes, -1);
    CHECK_INT(ev.ent.outcome, -1);
    CHECK(ev.ent.target_host == NULL);
}

KZ_TEST(event_field_lookup_and_reset) {
    struct kz_field f[3];
    struct kz_event ev;
    memset(&ev, 0, sizeof ev);
    set_field(&f[0], "Data", KZ_SEC_EVENTDATA, "one");
    set_field(&f[1], "Data", KZ_SEC_EVENTDATA, "two");
    set_field(&f[2], "CommandLine", KZ_SEC_EVENTDATA, "cmd /c whoami");
    ev.fields = f;
    ev.nfields = 3;
    ev.event_id = 4688;
    ev.host = "h";
    kz_event_reset(&ev);
    CHECK_INT(ev.event_id, 0);
    CHECK(ev.host == NULL);
    CHECK(ev.fields == f && ev.nfields == 3); /* fields are left to the reader */
    const struct kz_field *got = kz_event_field(&ev, KZ_F_Data);
    REQUIRE(got);
    CHECK_STR(got->val, "one"); /* the first one */
    CHECK(kz_event_field(&ev, kz_intern("Nope", 4)) == NULL);
    kz_event_normalise(&ev);
    CHECK_STR(ev.ent.command_line, "cmd /c whoami");
}

/* kz_buf_read_file: the whole file within the cap; missing, too big and unreadable each give their
 * own code and a message naming the file. */
KZ_TEST(buf_read_file) {
    char dir[] = "/tmp/kz_buf_read_XXXXXX", path[64];
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    for (int i = 0; i < 100000; i++) fputc('a' + i % 26, f); /* more than one 64 KiB read */
    fclose(f);
    struct kz_buf b;
    struct kz_err err = {0};
    kz_buf_init(&b, 200000);
    CHECK(kz_buf_read_file(&b, path, "x", &err) == 0);
    CHECK(b.len == 100000 && b.data[0] == 'a' && b.data[99999] == 'a' + 99999 % 26);
    kz_buf_free(&b);
    kz_buf_init(&b, 1000);
    CHECK(kz_buf_read_file(&b, path, "a test file can be", &err) == KZ_ELIMIT);
    CHECK(strstr(err.msg, "larger than a test file can be") && strstr(err.msg, path));
    kz_buf_free(&b);
    kz_buf_init(&b, 1000);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(kz_buf_read_file(&b, path, "x", &err) == KZ_EUSAGE);
    CHECK(strstr(err.msg, "missing") != NULL);
    CHECK(kz_buf_read_file(&b, dir, "x", &err) == KZ_EIO); /* a directory: opens, cannot be read */
    kz_buf_free(&b);
    snprintf(path, sizeof path, "%s/f", dir);
    unlink(path);
    rmdir(dir);
}
