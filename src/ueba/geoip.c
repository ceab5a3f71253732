/* geoip.c - addresses to places (libmaxminddb) and the impossible-travel memory (geoip.h).
 *
 * libmaxminddb opens and reads the database (memory-mapped; every offset it follows is checked
 * against the file, and a lookup follows at most 128 tree levels). What is read from it is
 * checked again here: coordinates must be finite and in range, names are cut to their fields and
 * control bytes replaced, so a damaged or hostile database gives "no location" or odd names,
 * never a crash (tests/fuzz/fuzz_geoip.c).
 *
 * The travel memory is an open-addressing table keyed by the caller's account id: the time, place
 * and accuracy of the account's last located activity (32 bytes an account), grown by doubling up
 * to KZ_GEOIP_MAX_ACCOUNTS. The place's name is not stored: the entry keeps the database offset of
 * the place's record and reads the name again when a trip is reported (rare). */
#include "geoip.h"

#include "../core/alloc.h"
#include "../core/oaindex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct travel_slot {
    kz_time ts;       /* the last located activity */
    uint32_t account; /* the caller's id (nonzero) */
    uint32_t offset;  /* the place's record in the database (its name is read again from it) */
    float latitude, longitude;
    uint32_t accuracy_km;
};

struct kz_geoip {
    MMDB_s db;
    struct travel_slot *slots; /* the accounts followed, in the order they came (n of vcap) */
    uint32_t *index;           /* slot + 1 by account (core/oaindex.h), cap slots */
    uint32_t cap, n, vcap;     /* cap: a power of two, 0 before the first account */
    uint64_t lookups, located, trips, over_cap;
};

int kz_geoip_open(struct kz_geoip **out, const char *path, struct kz_err *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return kz_err_set(err, errno == ENOENT ? KZ_EUSAGE : KZ_EIO, "%s: %s", path,
                          strerror(errno));
    if (!S_ISREG(st.st_mode))
        return kz_err_set(err, KZ_EUSAGE, "%s: not a file (a MaxMind DB is expected)", path);
    struct kz_geoip *g = kz_calloc(1, sizeof *g);
    if (!g) return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (rc != MMDB_SUCCESS) {
        int code = rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR ? KZ_EIO
                   : rc == MMDB_OUT_OF_MEMORY_ERROR                  ? KZ_ENOMEM
                                                                     : KZ_ECORRUPT;
        kz_free(g);
        return kz_err_set(err, code, "%s: not a usable MaxMind DB: %s", path, MMDB_strerror(rc));
    }
    *out = g;
    return 0;
}

void kz_geoip_free(struct kz_geoip *g) {
    if (!g) return;
    MMDB_close(&g->db);
    kz_free(g->slots);
    kz_free(g->index);
    kz_free(g);
}

/* ---- addresses ---- */

/* Addresses no database places: private, loopback, link-local, shared (CGN), documentation,
 * benchmarking, multicast and reserved ranges. ip in host order. */
static int v4_unroutable(uint32_t ip) {
    static const struct {
        uint32_t net;
        int bits;
    } r[] =
        {
            {0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},
            {0xa9fe0000, 16}, {0xac100000, 12}, {0xc0000000, 24}, {0xc0000200, 24},
            {0xc0a80000, 16}, {0xc6120000, 15}, {0xc6336400, 24}, {0xcb007100, 24},
            {0xe0000000, 3}, /* 224/4 multicast and 240/4 reserved */
        };
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if ((ip ^ r[i].net) >> (32 - r[i].bits) == 0) return 1;
    return 0;
}

static int v6_unroutable(const uint8_t a[16]) {
    static const uint8_t zero[16];
    if (!memcmp(a, zero, 15) && a[15] <= 1) return 1;    /* :: and ::1 */
    if ((a[0] & 0xfe) == 0xfc) return 1;                 /* fc00::/7 unique local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return 1; /* fe80::/10 link-local */
    if (a[0] == 0xff) return 1;                          /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return 1; /* 2001:db8::/32 */
    return 0;
}

/* Copies the string at entry's path into out (cut, control bytes replaced); "" when absent. */
static void get_text(MMDB_entry_s *e, char *out, size_t size, const char *const *path) {
    out[0] = 0;
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return;
    size_t n = d.data_size < size - 1 ? d.data_size : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d.utf8_string[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = 0;
}

static int get_double(MMDB_entry_s *e, const char *const *path, double *out) {
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data) return 0;
    if (d.type == MMDB_DATA_TYPE_DOUBLE)
        *out = d.double_value;
    else if (d.type == MMDB_DATA_TYPE_FLOAT)
        *out = d.float_value;
    else
        return 0;
    return isfinite(*out);
}

/* The place of a database record (entry), or 0 when it has no usable coordinates. */
static int place_of(MMDB_entry_s *e, struct kz_geoip_place *out) {
    static const char *const lat[] = {"location", "latitude", NULL};
    static const char *const lon[] = {"location", "longitude", NULL};
    static const char *const acc[] = {"location", "accuracy_radius", NULL};
    static const char *const iso[] = {"country", "iso_code", NULL};
    static const char *const city[] = {"city", "names", "en", NULL};
    static const char *const country[] = {"country", "names", "en", NULL};
    memset(out, 0, sizeof *out);
    if (!get_double(e, lat, &out->latitude) || !get_double(e, lon, &out->longitude) ||
        fabs(out->latitude) > 90 || fabs(out->longitude) > 180)
        return 0;
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, acc) == MMDB_SUCCESS && d.has_data) {
        if (d.type == MMDB_DATA_TYPE_UINT16) out->accuracy_km = d.uint16;
        if (d.type == MMDB_DATA_TYPE_UINT32) out->accuracy_km = d.uint32;
    }
    if (out->accuracy_km > 20000) out->accuracy_km = 20000; /* half the Earth's circumference */
    get_text(e, out->country, sizeof out->country, iso);
    get_text(e, out->city, sizeof out->city, city);
    char cname[64];
    get_text(e, cname, sizeof cname, country);
    if (out->city[0])
        snprintf(out->name, sizeof out->name, "%s%s%s%s", out->city, out->country[0] ? " (" : "",
                 out->country, out->country[0] ? ")" : "");
    else if (cname[0])
        snprintf(out->name, sizeof out->name, "%s%s%s%s", cname, out->country[0] ? " (" : "",
                 out->country, out->country[0] ? ")" : "");
    else if (out->country[0])
        snprintf(out->name, sizeof out->name, "%s", out->country);
    else
        snprintf(out->name, sizeof out->name, "%.1f, %.1f", out->latitude, out->longitude);
    return 1;
}

/* Looks ip up; 1 with *entry set when the database has a record for it. */
static int find(struct kz_geoip *g, const char *ip, MMDB_entry_s *entry) {
    if (!ip) return 0;
    g->lookups++;
    char b[64];
    size_t n = strnlen(ip, sizeof b);
    if (n == 0 || n >= sizeof b) return 0;
    memcpy(b, ip, n + 1);
    int err = 0;
    MMDB_lookup_result_s res;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, b, &a4) == 1) {
        if (v4_unroutable(ntohl(a4.s_addr))) return 0;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = a4};
        res = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&sa, &err);
    } else if (inet_pton(AF_INET6, b, &a6) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a6.s6_addr, mapped, 12)) {
            /* ::ffff:a.b.c.d is the IPv4 address */
            memcpy(&a4.s_addr, a6.s6_addr + 12, 4);
            if (v4_unroutable(ntohl(a4.s_addr))) return 0;
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = a4};
            res = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&sa, &err);
        } else {
            if (v6_unroutable(a6.s6_addr)) return 0;
            struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = a6};
            res = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&sa, &err);
        }
    } else {
        return 0;
    }
    if (err != MMDB_SUCCESS || !res.found_entry) return 0;
    *entry = res.entry;
    return 1;
}

int kz_geoip_lookup(struct kz_geoip *g, const char *ip, struct kz_geoip_place *out) {
    MMDB_entry_s e;
    if (!find(g, ip, &e) || !place_of(&e, out)) return 0;
    g->located++;
    return 1;
}

double kz_geoip_distance_km(double lat1, double lon1, double lat2, double lon2) {
    const double rad = M_PI / 180, earth_km = 6371.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (h > 1) h = 1;
    return 2 * earth_km * asin(sqrt(h));
}

/* ---- the travel memory ---- */

static uint32_t slot_hash(uint32_t k) {
    k ^= k >> 16;
    k *= 0x7feb352du;
    k ^= k >> 15;
    k *= 0x846ca68bu;
    k ^= k >> 16;
    return k;
}

/* An account looked up: kz_oa_find asks whether slot i is its. */
struct account_key {
    const struct travel_slot *slots;
    uint32_t account;
};

static int slot_is(const void *ctx, uint32_t i) {
    const struct account_key *k = ctx;
    return k->slots[i].account == k->account;
}

/* The slot of account; a new account gets a fresh one (*fresh = 1: no place yet). NULL when a
 * new account cannot be taken (the cap, or no memory). The index grows by doubling at half
 * full. */
static struct travel_slot *slot_of(struct kz_geoip *g, uint32_t account, int *fresh) {
    *fresh = 0;
    if (g->cap) {
        struct account_key k = {g->slots, account};
        uint32_t i = kz_oa_find(g->index, g->cap, slot_hash(account), slot_is, &k, NULL);
        if (i != KZ_OA_NONE) return &g->slots[g->index[i] - 1];
    }
    if (g->n >= KZ_GEOIP_MAX_ACCOUNTS) return NULL;
    if (g->n == g->vcap) {
        uint32_t vcap = g->vcap ? g->vcap * 2 : 128;
        struct travel_slot *nv = kz_realloc(g->slots, (size_t)vcap * sizeof *nv);
        if (!nv) return NULL;
        g->slots = nv;
        g->vcap = vcap;
    }
    if ((g->n + 1) * 2 > g->cap) {
        uint32_t cap = g->cap ? g->cap * 2 : 256;
        uint32_t *ni = kz_calloc(cap, sizeof *ni);
        if (!ni) return NULL;
        for (uint32_t i = 0; i < g->n; i++)
            kz_oa_insert(ni, cap, slot_hash(g->slots[i].account), i);
        kz_free(g->index);
        g->index = ni;
        g->cap = cap;
    }
    struct travel_slot *s = &g->slots[g->n];
    memset(s, 0, sizeof *s);
    s->account = account;
    kz_oa_insert(g->index, g->cap, slot_hash(account), g->n++);
    *fresh = 1;
    return s;
}

/* Makes (ts, the place of entry e) the account's last location. */
static void keep_place(struct travel_slot *s, kz_time ts, const MMDB_entry_s *e,
                       const struct kz_geoip_place *now) {
    s->ts = ts;
    s->offset = e->offset;
    s->latitude = (float)now->latitude;
    s->longitude = (float)now->longitude;
    s->accuracy_km = now->accuracy_km;
}

int kz_geoip_remember(struct kz_geoip *g, uint32_t account, kz_time ts, const char *ip) {
    if (!account) return 0;
    MMDB_entry_s e;
    struct kz_geoip_place now;
    if (!find(g, ip, &e) || !place_of(&e, &now)) return 0;
    int fresh;
    struct travel_slot *s = slot_of(g, account, &fresh);
    if (!s) {
        g->over_cap++;
        return 0;
    }
    keep_place(s, ts, &e, &now);
    return 1;
}

int kz_geoip_travel(struct kz_geoip *g, uint32_t account, kz_time ts, const char *ip,
                    struct kz_geoip_trip *trip, int *located) {
    if (located) *located = 0;
    if (!account) return 0;
    MMDB_entry_s e;
    struct kz_geoip_place now;
    if (!find(g, ip, &e) || !place_of(&e, &now)) return 0;
    g->located++;
    int fresh;
    struct travel_slot *s = slot_of(g, account, &fresh);
    if (!s) {
        g->over_cap++;
        return 0;
    }
    if (located) *located = 1;
    int found = 0;
    if (!fresh) {
        double km = kz_geoip_distance_km(s->latitude, s->longitude, now.latitude, now.longitude);
        double apart = km - s->accuracy_km - now.accuracy_km;
        kz_time dt = ts >= s->ts ? ts - s->ts : s->ts - ts;
        double hours = (double)dt / (3600.0 * KZ_TICKS_PER_SEC);
        if (apart >= KZ_GEOIP_MIN_KM && apart > KZ_GEOIP_MAX_KMH * hours) {
            struct kz_geoip_place before;
            MMDB_entry_s pe = {.mmdb = &g->db, .offset = s->offset};
            if (!place_of(&pe, &before))
                snprintf(before.name, sizeof before.name, "%.1f, %.1f", s->latitude, s->longitude);
            memset(trip, 0, sizeof *trip);
            snprintf(trip->from, sizeof trip->from, "%s", before.name);
            snprintf(trip->to, sizeof trip->to, "%s", now.name);
            trip->km = km;
            trip->elapsed = dt;
            g->trips++;
            found = 1;
        }
    }
    keep_place(s, ts, &e, &now);
    return found;
}

/* 5310 -> "5,310" */
static void thousands(char *b, size_t size, int32_t v) {
    char d[16];
    int n = snprintf(d, sizeof d, "%d", v < 0 ? 0 : (int)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i && (n - i) % 3 == 0 && o + 2 < size) b[o++] = ',';
        b[o++] = d[i];
    }
    b[o] = 0;
}

void kz_geoip_trip_text(char *b, size_t size, const char *what, const char *to, const char *from,
                        int32_t km, int32_t minutes) {
    char kms[24], when[32];
    thousands(kms, sizeof kms, km);
    if (minutes < 0) minutes = 0;
    if (minutes < 60)
        snprintf(when, sizeof when, "%d min", (int)minutes);
    else if (minutes < 600 && minutes % 60)
        snprintf(when, sizeof when, "%d h %02d min", (int)(minutes / 60), (int)(minutes % 60));
    else
        snprintf(when, sizeof when, "%d h", (int)((minutes + 30) / 60));
    snprintf(b, size, "%s from %s %s after %s: %s km, faster than any flight", what, to, when, from,
             kms);
}

void kz_geoip_stats(const struct kz_geoip *g, struct kz_geoip_stats *out) {
    memset(out, 0, sizeof *out);
    if (!g) return;
    out->lookups = g->lookups;
    out->located = g->located;
    out->trips = g->trips;
    out->accounts = g->n;
    out->over_cap = g->over_cap;
}
