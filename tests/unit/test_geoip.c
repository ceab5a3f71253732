/* test_geoip.c - the MaxMind DB writer (src/sim/mmdb_writer.c) read back by libmaxminddb (an
 * independent reader), address lookups (src/ueba/geoip.c), great-circle distances checked against
 * values worked out by hand, and impossible travel (the rule, then through the UEBA engine).
 *
 * Reference coordinates (city centres): Tokyo 35.6895 N 139.6917 E, Osaka 34.6937 N 135.5023 E,
 * Singapore 1.3521 N 103.8198 E. Expected distances come from the spherical law of cosines (a
 * different formula from the haversine the code uses), R = 6,371 km: Tokyo-Osaka 396.4 km,
 * Tokyo-Singapore 5,315.1 km; one degree of a meridian is 2 pi R / 360 = 111.19 km; a quarter of
 * the equator pi R / 2 = 10,007.5 km. */
#include "unit.h"

#include "core/alloc.h"
#include "sim/mmdb_writer.h"
#include "ueba/geoip.h"
#include "ueba/ueba.h"

#include <math.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <unistd.h>

static const struct kz_mmdb_place tokyo = {"Tokyo", "JP", "Japan", 35.6895, 139.6917, 20};
static const struct kz_mmdb_place osaka = {"Osaka", "JP", "Japan", 34.6937, 135.5023, 20};
static const struct kz_mmdb_place singapore = {"Singapore", "SG",     "Singapore",
                                               1.3521,      103.8198, 10};
/* 600 km from Tokyo along its meridian, but with a 100 km radius (country-level accuracy) */
static const struct kz_mmdb_place vague = {NULL,     "JP", "Japan", 35.6895 - 600 / 111.19,
                                           139.6917, 100};

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* A tiny database: 126.0.0.0/8 Tokyo, 153.10.0.0/16 Osaka, 203.116.0.0/16 Singapore with
 * 203.116.5.0/24 refined to Tokyo, 60.1.0.0/16 the vague place, 2400:4050::/32 Tokyo (IPv6). */
static int write_tiny(char *path, size_t size) {
    snprintf(path, size, "/tmp/kz_test_geoip_%d.mmdb", (int)getpid());
    struct kz_mmdb_writer *w;
    if (kz_mmdb_writer_new(&w)) return -1;
    int rc = kz_mmdb_writer_add_v4(w, V4(126, 0, 0, 0), 8, &tokyo);
    rc |= kz_mmdb_writer_add_v4(w, V4(153, 10, 0, 0), 16, &osaka);
    rc |= kz_mmdb_writer_add_v4(w, V4(203, 116, 0, 0), 16, &singapore);
    rc |= kz_mmdb_writer_add_v4(w, V4(203, 116, 5, 0), 24, &tokyo);
    rc |= kz_mmdb_writer_add_v4(w, V4(60, 1, 0, 0), 16, &vague);
    uint8_t v6[16] = {0x24, 0x00, 0x40, 0x50};
    rc |= kz_mmdb_writer_add(w, v6, 32, &tokyo);
    struct kz_err err = {0};
    if (!rc) rc = kz_mmdb_writer_write(w, path, 1772409600, &err);
    kz_mmdb_writer_free(w);
    return rc;
}

/* One value of the record for ip, read with libmaxminddb alone. */
static int mm_get(MMDB_s *db, const char *ip, MMDB_entry_data_s *d, const char *const *path) {
    int gai = 0, err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string(db, ip, &gai, &err);
    if (gai || err || !r.found_entry) return 0;
    return MMDB_aget_value(&r.entry, d, path) == MMDB_SUCCESS && d->has_data;
}

static int mm_str_is(MMDB_s *db, const char *ip, const char *const *path, const char *want) {
    MMDB_entry_data_s d;
    return mm_get(db, ip, &d, path) && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
           d.data_size == strlen(want) && !memcmp(d.utf8_string, want, d.data_size);
}

/* The writer's output through libmaxminddb itself: metadata, tree, every value type. */
KZ_TEST(geoip_writer_read_back_by_libmaxminddb) {
    char path[128];
    REQUIRE(write_tiny(path, sizeof path) == 0);
    MMDB_s db;
    REQUIRE(MMDB_open(path, MMDB_MODE_MMAP, &db) == MMDB_SUCCESS);
    CHECK_INT(db.metadata.ip_version, 6);
    CHECK_INT(db.metadata.record_size, 24);
    CHECK_INT(db.metadata.binary_format_major_version, 2);
    CHECK_INT((long long)db.metadata.build_epoch, 1772409600);
    CHECK_STR(db.metadata.database_type, "kizuki-Simulated-City");
    CHECK_INT(db.metadata.languages.count, 1);
    static const char *const city[] = {"city", "names", "en", NULL};
    static const char *const iso[] = {"country", "iso_code", NULL};
    static const char *const cname[] = {"country", "names", "en", NULL};
    static const char *const lat[] = {"location", "latitude", NULL};
    static const char *const lon[] = {"location", "longitude", NULL};
    static const char *const acc[] = {"location", "accuracy_radius", NULL};
    CHECK(mm_str_is(&db, "126.200.3.4", city, "Tokyo"));
    CHECK(mm_str_is(&db, "126.200.3.4", iso, "JP"));
    CHECK(mm_str_is(&db, "126.200.3.4", cname, "Japan"));
    CHECK(mm_str_is(&db, "153.10.255.255", city, "Osaka"));
    CHECK(mm_str_is(&db, "203.116.0.1", city, "Singapore"));
    CHECK(mm_str_is(&db, "203.116.0.1", iso, "SG"));
    /* the narrower network added later refines the wider one; the rest keeps its place */
    CHECK(mm_str_is(&db, "203.116.5.77", city, "Tokyo"));
    CHECK(mm_str_is(&db, "203.116.4.255", city, "Singapore"));
    CHECK(mm_str_is(&db, "203.116.6.0", city, "Singapore"));
    CHECK(mm_str_is(&db, "2400:4050:1:2::9", city, "Tokyo"));
    MMDB_entry_data_s d;
    CHECK(mm_get(&db, "203.116.9.9", &d, lat) && d.type == MMDB_DATA_TYPE_DOUBLE &&
          d.double_value == 1.3521);
    CHECK(mm_get(&db, "203.116.9.9", &d, lon) && d.type == MMDB_DATA_TYPE_DOUBLE &&
          d.double_value == 103.8198);
    CHECK(mm_get(&db, "203.116.9.9", &d, acc) && d.type == MMDB_DATA_TYPE_UINT16 && d.uint16 == 10);
    CHECK(mm_get(&db, "60.1.2.3", &d, acc) && d.uint16 == 100);
    CHECK(!mm_get(&db, "60.1.2.3", &d, city)); /* a country-level place has no city */
    /* outside every network: no entry */
    int gai = 0, err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string(&db, "153.11.0.1", &gai, &err);
    CHECK(!gai && !err && !r.found_entry);
    r = MMDB_lookup_string(&db, "8.8.8.8", &gai, &err);
    CHECK(!gai && !err && !r.found_entry);
    r = MMDB_lookup_string(&db, "2001:4860::8888", &gai, &err);
    CHECK(!gai && !err && !r.found_entry);
    /* every entry's whole data walks cleanly (sizes and pointers in range) */
    const char *ips[] = {"126.1.1.1", "153.10.0.1", "203.116.1.1", "203.116.5.1", "60.1.0.1"};
    for (size_t i = 0; i < sizeof ips / sizeof *ips; i++) {
        r = MMDB_lookup_string(&db, ips[i], &gai, &err);
        MMDB_entry_data_list_s *list = NULL;
        CHECK(r.found_entry && MMDB_get_entry_data_list(&r.entry, &list) == MMDB_SUCCESS);
        MMDB_free_entry_data_list(list);
    }
    MMDB_close(&db);
    unlink(path);
}

KZ_TEST(geoip_writer_limits) {
    struct kz_mmdb_writer *w;
    REQUIRE(kz_mmdb_writer_new(&w) == 0);
    uint8_t a[16] = {0};
    CHECK_INT(kz_mmdb_writer_add(w, a, 0, &tokyo), KZ_EUSAGE);
    CHECK_INT(kz_mmdb_writer_add(w, a, 129, &tokyo), KZ_EUSAGE);
    CHECK_INT(kz_mmdb_writer_add_v4(w, 0, 33, &tokyo), KZ_EUSAGE);
    struct kz_mmdb_place p = tokyo;
    p.country_iso = NULL;
    CHECK_INT(kz_mmdb_writer_add(w, a, 8, &p), KZ_EUSAGE);
    /* distinct places are capped */
    int rc = 0;
    for (uint32_t i = 0; i <= KZ_MMDB_MAX_PLACES && !rc; i++) {
        p = tokyo;
        p.accuracy_radius = (uint16_t)i;
        rc = kz_mmdb_writer_add_v4(w, i << 8, 24, &p);
    }
    CHECK_INT(rc, KZ_ELIMIT);
    struct kz_err err = {0};
    CHECK_INT(kz_mmdb_writer_write(w, "/tmp/kz_never_written.mmdb", 0, &err), KZ_EUSAGE);
    CHECK(access("/tmp/kz_never_written.mmdb", F_OK) != 0);
    kz_mmdb_writer_free(w);
}

KZ_TEST(geoip_distances_by_hand) {
    double d = kz_geoip_distance_km(35.6895, 139.6917, 34.6937, 135.5023);
    CHECK_MSG(fabs(d - 396.4) < 1, "Tokyo-Osaka %.1f km, want 396.4", d);
    d = kz_geoip_distance_km(35.6895, 139.6917, 1.3521, 103.8198);
    CHECK_MSG(fabs(d - 5315.1) < 2, "Tokyo-Singapore %.1f km, want 5315.1", d);
    d = kz_geoip_distance_km(10, 20, 11, 20);
    CHECK_MSG(fabs(d - 111.19) < 0.01, "one degree of meridian %.3f km", d);
    d = kz_geoip_distance_km(0, 0, 0, 90);
    CHECK_MSG(fabs(d - 10007.5) < 0.1, "quarter equator %.1f km", d);
    d = kz_geoip_distance_km(0, 179.5, 0, -179.5); /* across the date line: 1 degree */
    CHECK_MSG(fabs(d - 111.19) < 0.01, "date line %.3f km", d);
    d = kz_geoip_distance_km(90, 0, -90, 0); /* pole to pole: pi R */
    CHECK_MSG(fabs(d - 20015.1) < 0.1, "poles %.1f km", d);
}

KZ_TEST(geoip_lookup_and_errors) {
    char path[128];
    REQUIRE(write_tiny(path, sizeof path) == 0);
    struct kz_geoip *g;
    struct kz_err err = {0};
    REQUIRE(kz_geoip_open(&g, path, &err) == 0);
    struct kz_geoip_place p;
    CHECK_INT(kz_geoip_lookup(g, "126.9.9.9", &p), 1);
    CHECK_STR(p.name, "Tokyo (JP)");
    CHECK_STR(p.country, "JP");
    CHECK_STR(p.city, "Tokyo");
    CHECK_INT(p.accuracy_km, 20);
    CHECK(p.latitude == 35.6895 && p.longitude == 139.6917);
    CHECK_INT(kz_geoip_lookup(g, "::ffff:203.116.1.2", &p), 1); /* IPv4-mapped */
    CHECK_STR(p.name, "Singapore (SG)");
    CHECK_INT(kz_geoip_lookup(g, "2400:4050::1", &p), 1);
    CHECK_STR(p.name, "Tokyo (JP)");
    CHECK_INT(kz_geoip_lookup(g, "60.1.0.9", &p), 1);
    CHECK_STR(p.name, "Japan (JP)"); /* no city: the country */
    /* private, loopback, link-local, CGN, documentation, unknown, not an address: no location
     * (126/8 is Tokyo in this database, so 126.x is found and the rest is the rule) */
    const char *none[] = {"10.1.2.3",       "192.168.0.1", "172.16.5.5", "127.0.0.1", "169.254.1.1",
                          "100.64.0.1",     "8.8.8.8",     "::1",        "fe80::1",   "fd00::1",
                          "ff02::1",        "2001:db8::1", "not-an-ip",  "",          "126.1.1.1.1",
                          "::ffff:10.0.0.1"};
    for (size_t i = 0; i < sizeof none / sizeof *none; i++)
        CHECK_MSG(kz_geoip_lookup(g, none[i], &p) == 0, "%s located", none[i]);
    CHECK_INT(kz_geoip_lookup(g, NULL, &p), 0);
    kz_geoip_free(g);

    /* a missing file, a folder, a file that is no database: errors with the reason */
    CHECK_INT(kz_geoip_open(&g, "/nonexistent/geo.mmdb", &err), KZ_EUSAGE);
    CHECK(strstr(err.msg, "/nonexistent/geo.mmdb") != NULL);
    CHECK_INT(kz_geoip_open(&g, "/tmp", &err), KZ_EUSAGE);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs("not a database\n", f);
    fclose(f);
    CHECK_INT(kz_geoip_open(&g, path, &err), KZ_ECORRUPT);
    CHECK(strstr(err.msg, "not a usable MaxMind DB") != NULL);
    CHECK(g == NULL);
    unlink(path);
}

#define HOUR (3600LL * KZ_TICKS_PER_SEC)

KZ_TEST(geoip_impossible_travel_rule) {
    char path[128];
    REQUIRE(write_tiny(path, sizeof path) == 0);
    struct kz_geoip *g;
    struct kz_err err = {0};
    REQUIRE(kz_geoip_open(&g, path, &err) == 0);
    struct kz_geoip_trip t;
    kz_time t0 = 1000 * HOUR;
    /* account 1: Tokyo, then Singapore 2 h later: 5,315 km - 30 km of radii in 2 h */
    CHECK_INT(kz_geoip_travel(g, 1, t0, "126.1.1.1", &t, NULL), 0); /* the first place: nothing */
    CHECK_INT(kz_geoip_travel(g, 1, t0 + 2 * HOUR, "203.116.1.1", &t, NULL), 1);
    CHECK_STR(t.from, "Tokyo (JP)");
    CHECK_STR(t.to, "Singapore (SG)");
    CHECK(fabs(t.km - 5315.1) < 2);
    CHECK(t.elapsed == 2 * HOUR);
    /* ... and back 12 h later: 441 km/h, a flight */
    CHECK_INT(kz_geoip_travel(g, 1, t0 + 14 * HOUR, "126.1.1.1", &t, NULL), 0);
    /* account 2 (the traveller): Tokyo, Singapore 12 h later */
    CHECK_INT(kz_geoip_travel(g, 2, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 2, t0 + 12 * HOUR, "203.116.200.1", &t, NULL), 0);
    /* the boundary: (5,315.1 - 30) km at 1,000 km/h is 5.285 h */
    CHECK_INT(kz_geoip_travel(g, 3, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 3, t0 + 5 * HOUR, "203.116.1.1", &t, NULL), 1);
    CHECK_INT(kz_geoip_travel(g, 4, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(
        kz_geoip_travel(g, 4, t0 + 5 * HOUR + 20 * 60 * KZ_TICKS_PER_SEC, "203.116.1.1", &t, NULL),
        0);
    /* Tokyo to Osaka (396 km) within a minute: under 500 km, never a reason */
    CHECK_INT(kz_geoip_travel(g, 5, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 5, t0 + 60 * KZ_TICKS_PER_SEC, "153.10.1.1", &t, NULL), 0);
    /* 600 km apart, but radii 20 + 100 km: 480 km apart at most, not a reason */
    CHECK_INT(kz_geoip_travel(g, 6, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 6, t0 + 60 * KZ_TICKS_PER_SEC, "60.1.1.1", &t, NULL), 0);
    /* unlocated activity in between changes nothing: Tokyo, private, Singapore 1 h after Tokyo */
    CHECK_INT(kz_geoip_travel(g, 7, t0, "126.7.7.7", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 7, t0 + HOUR / 2, "10.0.0.5", &t, NULL), 0);
    CHECK_INT(kz_geoip_travel(g, 7, t0 + HOUR, "203.116.1.1", &t, NULL), 1);
    CHECK_INT(kz_geoip_travel(g, 0, t0, "126.7.7.7", &t, NULL), 0); /* account 0 is no account */
    struct kz_geoip_stats st;
    kz_geoip_stats(g, &st);
    CHECK_INT(st.accounts, 7);
    CHECK_INT(st.trips, 3);
    CHECK_INT(st.over_cap, 0);
    kz_geoip_free(g);
    unlink(path);
    char b[160];
    kz_geoip_trip_text(b, sizeof b, "logon", "Singapore (SG)", "Tokyo (JP)", 5315, 120);
    CHECK_STR(b, "logon from Singapore (SG) 2 h after Tokyo (JP): 5,315 km, faster than any "
                 "flight");
    kz_geoip_trip_text(b, sizeof b, "VPN session", "A", "B", 1234567, 95);
    CHECK_STR(b, "VPN session from A 1 h 35 min after B: 1,234,567 km, faster than any flight");
    kz_geoip_trip_text(b, sizeof b, "logon", "A", "B", 999, 5);
    CHECK_STR(b, "logon from A 5 min after B: 999 km, faster than any flight");
}

/* The travel memory keeps every account apart while its table grows (dense slots by 128, the
 * index by doubling from 256 at half full): 5,000 accounts (ids spread over the 32-bit range)
 * each located in Tokyo, then, after all of them, in Singapore 2 h later: every one of them is a
 * trip from its own Tokyo activity, none from another account's. Then an account's memory moves
 * on: Tokyo again 14 h later is a flight, no trip. */
KZ_TEST(geoip_travel_memory_grows) {
    char path[128];
    REQUIRE(write_tiny(path, sizeof path) == 0);
    struct kz_geoip *g;
    struct kz_err err = {0};
    REQUIRE(kz_geoip_open(&g, path, &err) == 0);
    struct kz_geoip_trip t;
    kz_time t0 = 1000 * HOUR;
    enum { N = 5000 };
    int located = 0, trips = 0;
    for (uint32_t i = 1; i <= N; i++) {
        int loc = 0;
        CHECK_INT(kz_geoip_travel(g, i * 2654435761u, t0 + i, "126.1.1.1", &t, &loc), 0);
        located += loc;
    }
    CHECK_INT(located, N);
    for (uint32_t i = 1; i <= N; i++) {
        if (kz_geoip_travel(g, i * 2654435761u, t0 + 2 * HOUR + i, "203.116.1.1", &t, NULL) != 1)
            continue;
        trips++;
        if (i == N) {
            CHECK_STR(t.from, "Tokyo (JP)");
            CHECK(t.elapsed == 2 * HOUR);
        }
    }
    CHECK_INT(trips, N);
    CHECK_INT(kz_geoip_travel(g, 7 * 2654435761u, t0 + 16 * HOUR, "126.1.1.1", &t, NULL), 0);
    struct kz_geoip_stats st;
    kz_geoip_stats(g, &st);
    CHECK_INT((int)st.accounts, N);
    CHECK_INT((int)st.trips, N);
    CHECK_INT((int)st.over_cap, 0);
    kz_geoip_free(g);
    unlink(path);
}

/* ---- through the UEBA engine (--geoip) ---- */

struct reasons_of {
    const char *name;
    char text[4096];
};

static void collect(void *ctx, const struct kz_ueba_entity *e) {
    struct reasons_of *r = ctx;
    if (e->is_host || !strstr(e->name, r->name)) return;
    for (uint32_t i = 0; i < e->nreasons; i++) {
        size_t o = strlen(r->text);
        snprintf(r->text + o, sizeof r->text - o, "%s|", e->reasons[i]);
    }
}

/* Seven days of sessions from Tokyo for three accounts, then on day 8: "mover" (VPN) and
 * "rdpmover" (an RDP logon from the internet) in Singapore 2 h after Tokyo, "flyer" 12 h after. */
static void travel_stream(struct kz_ueba *u) {
    const kz_time day = 24 * HOUR, t0 = (kz_time)20513 * day; /* 2026-03-02 00:00 UTC */
    static const char *users[] = {"mover", "flyer", "rdpmover"};
    for (int d = 0; d < 7; d++)
        for (int k = 0; k < 10; k++)
            for (int i = 0; i < 3; i++) {
                struct kz_ueba_act a = {.ts = t0 + d * day + k * HOUR * 9 / 10 + i,
                                        .kind = i == 2 ? KZ_UEBA_LOGON : KZ_UEBA_VPN,
                                        .logon_type = (int8_t)(i == 2 ? 10 : -1),
                                        .outcome = 1,
                                        .user = users[i],
                                        .host = i == 2 ? "RDS01" : "VPNGW01",
                                        .src_ip = i == 0 ? "126.10.20.30" : "126.40.50.60",
                                        .record_id = (uint64_t)(d * 100 + k * 3 + i)};
                kz_ueba_push(u, &a, NULL, NULL);
            }
    struct {
        kz_time at;
        int user;
        const char *ip;
    } last[] = {{0, 1, "126.40.50.60"},       {HOUR / 2, 0, "126.10.20.30"},
                {HOUR, 2, "126.40.50.60"},    {HOUR * 5 / 2, 0, "203.116.1.1"},
                {HOUR * 3, 2, "203.116.9.9"}, {HOUR * 12, 1, "203.116.77.9"}};
    for (size_t j = 0; j < sizeof last / sizeof *last; j++) {
        int i = last[j].user;
        struct kz_ueba_act a = {.ts = t0 + 7 * day + last[j].at,
                                .kind = i == 2 ? KZ_UEBA_LOGON : KZ_UEBA_VPN,
                                .logon_type = (int8_t)(i == 2 ? 10 : -1),
                                .outcome = 1,
                                .user = users[i],
                                .host = i == 2 ? "RDS01" : "VPNGW01",
                                .src_ip = last[j].ip,
                                .record_id = 9000 + j};
        kz_ueba_push(u, &a, NULL, NULL);
    }
}

static const char *reasons(struct kz_ueba *u, struct reasons_of *r, const char *name) {
    memset(r, 0, sizeof *r);
    r->name = name;
    kz_ueba_top(u, 100, collect, r);
    return r->text;
}

KZ_TEST(geoip_travel_through_the_engine) {
    char path[128], state[160];
    REQUIRE(write_tiny(path, sizeof path) == 0);
    snprintf(state, sizeof state, "%s.state", path);
    struct kz_geoip *g;
    struct kz_err err = {0};
    REQUIRE(kz_geoip_open(&g, path, &err) == 0);
    struct kz_ueba_opts o;
    kz_ueba_opts_default(&o);
    o.geoip = g;
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    travel_stream(u);
    struct reasons_of r;
    const char *m = reasons(u, &r, "mover");
    CHECK_MSG(strstr(m, "VPN session from Singapore (SG) 2 h after Tokyo (JP): 5,315 km, faster "
                        "than any flight, 02:30"),
              "mover: %s", m);
    m = reasons(u, &r, "rdpmover");
    CHECK_MSG(strstr(m, "logon from Singapore (SG) 2 h after Tokyo (JP): 5,315 km, faster than "
                        "any flight"),
              "rdpmover: %s", m);
    m = reasons(u, &r, "flyer");
    CHECK_MSG(!strstr(m, "faster than any flight"), "flyer: %s", m);
    /* the reason survives a saved state (its place names are kept with it) */
    REQUIRE(kz_ueba_save(u, state, &err) == 0);
    kz_ueba_free(u);
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    CHECK_INT(kz_ueba_load(u, state, &err), 0);
    m = reasons(u, &r, "mover");
    CHECK_MSG(strstr(m, "VPN session from Singapore (SG) 2 h after Tokyo (JP)"), "loaded: %s", m);
    kz_ueba_free(u);
    /* without --geoip: no travel */
    o.geoip = NULL;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    travel_stream(u);
    m = reasons(u, &r, "mover");
    CHECK_MSG(!strstr(m, "faster than any flight"), "no geoip: %s", m);
    kz_ueba_free(u);
    kz_geoip_free(g);
    unlink(state);
    unlink(path);
}
