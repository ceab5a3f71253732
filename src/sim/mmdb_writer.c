/* mmdb_writer.c - a MaxMind DB writer (mmdb_writer.h), from the public format specification v2.0.
 *
 * A file is: the search tree (node_count nodes; each node two records, left for a 0 bit and right
 * for a 1 bit of the address, most significant bit first), 16 zero bytes, the data section (the
 * places, each a map encoded once), then the metadata marker "\xAB\xCD\xEFMaxMind.com" and the
 * metadata map. A record holds a node number (< node_count), node_count for "no data", or a data
 * pointer: node_count + 16 + the offset of the value in the data section.
 *
 * The caps (KZ_MMDB_MAX_NODES, KZ_MMDB_MAX_PLACES, short strings) keep node_count + 16 + the data
 * section under 2^24, so every file uses 24-bit records (6-byte nodes). */
#include "mmdb_writer.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "estate.h"
#include "sim_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REC_EMPTY 0xffffffffu
#define REC_DATA 0x80000000u /* | place index */
#define NAME_MAX_LEN 64      /* city and country names are cut here */

struct mmdb_node {
    uint32_t rec[2]; /* node index, REC_EMPTY, or REC_DATA | place */
};

struct kz_mmdb_writer {
    struct mmdb_node *nodes;
    uint32_t nnodes, nodes_cap;
    struct kz_mmdb_place *places; /* strings owned (copied) */
    uint32_t nplaces, places_cap;
};

int kz_mmdb_writer_new(struct kz_mmdb_writer **out) {
    struct kz_mmdb_writer *w = kz_calloc(1, sizeof *w);
    if (!w) return KZ_ENOMEM;
    w->nodes = kz_malloc(64 * sizeof *w->nodes);
    if (!w->nodes) {
        kz_free(w);
        return KZ_ENOMEM;
    }
    w->nodes_cap = 64;
    w->nnodes = 1; /* the root */
    w->nodes[0].rec[0] = w->nodes[0].rec[1] = REC_EMPTY;
    *out = w;
    return 0;
}

void kz_mmdb_writer_free(struct kz_mmdb_writer *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nplaces; i++) {
        kz_free((char *)w->places[i].city);
        kz_free((char *)w->places[i].country_iso);
        kz_free((char *)w->places[i].country_name);
    }
    kz_free(w->places);
    kz_free(w->nodes);
    kz_free(w);
}

static char *copy_name(const char *s) {
    size_t n = strnlen(s, NAME_MAX_LEN);
    char *c = kz_malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

static int same_text(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strncmp(a, b, NAME_MAX_LEN) == 0;
}

/* The index of place p, added when new; -1 on a cap or no memory. */
static int64_t place_index(struct kz_mmdb_writer *w, const struct kz_mmdb_place *p) {
    for (uint32_t i = 0; i < w->nplaces; i++) {
        const struct kz_mmdb_place *q = &w->places[i];
        if (same_text(q->city, p->city) && same_text(q->country_iso, p->country_iso) &&
            same_text(q->country_name, p->country_name) && q->latitude == p->latitude &&
            q->longitude == p->longitude && q->accuracy_radius == p->accuracy_radius)
            return i;
    }
    if (w->nplaces >= KZ_MMDB_MAX_PLACES) return -1;
    if (w->nplaces == w->places_cap) {
        uint32_t cap = w->places_cap ? w->places_cap * 2 : 16;
        struct kz_mmdb_place *nv = kz_realloc(w->places, cap * sizeof *nv);
        if (!nv) return -1;
        w->places = nv;
        w->places_cap = cap;
    }
    struct kz_mmdb_place c = *p;
    c.city = p->city ? copy_name(p->city) : NULL;
    c.country_iso = copy_name(p->country_iso);
    c.country_name = copy_name(p->country_name);
    if ((p->city && !c.city) || !c.country_iso || !c.country_name) {
        kz_free((char *)c.city);
        kz_free((char *)c.country_iso);
        kz_free((char *)c.country_name);
        return -1;
    }
    w->places[w->nplaces] = c;
    return w->nplaces++;
}

static int64_t new_node(struct kz_mmdb_writer *w, uint32_t fill) {
    if (w->nnodes >= KZ_MMDB_MAX_NODES) return -1;
    if (w->nnodes == w->nodes_cap) {
        struct mmdb_node *nv = kz_realloc(w->nodes, (size_t)w->nodes_cap * 2 * sizeof *nv);
        if (!nv) return -1;
        w->nodes = nv;
        w->nodes_cap *= 2;
    }
    w->nodes[w->nnodes].rec[0] = w->nodes[w->nnodes].rec[1] = fill;
    return w->nnodes++;
}

int kz_mmdb_writer_add(struct kz_mmdb_writer *w, const uint8_t addr[16], int prefix,
                       const struct kz_mmdb_place *place) {
    if (prefix < 1 || prefix > 128 || !place || !place->country_iso || !place->country_name)
        return KZ_EUSAGE;
    int64_t pi = place_index(w, place);
    if (pi < 0) return w->nplaces >= KZ_MMDB_MAX_PLACES ? KZ_ELIMIT : KZ_ENOMEM;
    uint32_t node = 0;
    for (int i = 0; i < prefix; i++) {
        int bit = addr[i / 8] >> (7 - i % 8) & 1;
        if (i == prefix - 1) {
            /* the network ends here: whatever was below (narrower networks) is replaced */
            w->nodes[node].rec[bit] = REC_DATA | (uint32_t)pi;
            break;
        }
        uint32_t r = w->nodes[node].rec[bit];
        if (r != REC_EMPTY && !(r & REC_DATA)) {
            node = r;
            continue;
        }
        /* split: a wider network's place (or nothing) goes on in both halves below */
        int64_t n = new_node(w, r);
        if (n < 0) return w->nnodes >= KZ_MMDB_MAX_NODES ? KZ_ELIMIT : KZ_ENOMEM;
        w->nodes[node].rec[bit] = (uint32_t)n;
        node = (uint32_t)n;
    }
    return 0;
}

int kz_mmdb_writer_add_v4(struct kz_mmdb_writer *w, uint32_t ip, int prefix,
                          const struct kz_mmdb_place *place) {
    if (prefix < 0 || prefix > 32) return KZ_EUSAGE;
    uint8_t a[16] = {0};
    a[12] = (uint8_t)(ip >> 24), a[13] = (uint8_t)(ip >> 16), a[14] = (uint8_t)(ip >> 8);
    a[15] = (uint8_t)ip;
    return kz_mmdb_writer_add(w, a, 96 + prefix, place);
}

/* ---- the data format ---- */

enum {
    T_POINTER = 1,
    T_STRING = 2,
    T_DOUBLE = 3,
    T_UINT16 = 5,
    T_UINT32 = 6,
    T_MAP = 7,
    T_UINT64 = 9,
    T_ARRAY = 11,
};

/* A control byte (the type in the top 3 bits; an extended type in the next byte as type - 7),
 * then the size: < 29 in the low 5 bits, else 29/30/31 and 1/2/3 more bytes. */
static void put_ctrl(struct kz_buf *b, int type, uint32_t size) {
    uint8_t c[6];
    int n = 0;
    uint8_t t = (uint8_t)(type <= 7 ? type << 5 : 0);
    uint8_t ext = (uint8_t)(type - 7);
    if (size < 29) {
        c[n++] = (uint8_t)(t | size);
        if (type > 7) c[n++] = ext;
    } else if (size < 29 + 256) {
        c[n++] = (uint8_t)(t | 29);
        if (type > 7) c[n++] = ext;
        c[n++] = (uint8_t)(size - 29);
    } else if (size < 285 + 65536) {
        c[n++] = (uint8_t)(t | 30);
        if (type > 7) c[n++] = ext;
        c[n++] = (uint8_t)((size - 285) >> 8);
        c[n++] = (uint8_t)(size - 285);
    } else {
        uint32_t v = size - 65821;
        c[n++] = (uint8_t)(t | 31);
        if (type > 7) c[n++] = ext;
        c[n++] = (uint8_t)(v >> 16);
        c[n++] = (uint8_t)(v >> 8);
        c[n++] = (uint8_t)v;
    }
    kz_buf_append(b, c, (size_t)n);
}

static void put_str(struct kz_buf *b, const char *s) {
    size_t n = strlen(s);
    put_ctrl(b, T_STRING, (uint32_t)n);
    kz_buf_append(b, s, n);
}

/* Unsigned integers: big-endian, leading zero bytes left out (0 has no payload). */
static void put_uint(struct kz_buf *b, int type, uint64_t v) {
    uint8_t be[8];
    int n = 0;
    for (uint64_t x = v; x; x >>= 8)
        n++;
    for (int i = 0; i < n; i++)
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put_ctrl(b, type, (uint32_t)n);
    kz_buf_append(b, be, (size_t)n);
}

static void put_double(struct kz_buf *b, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    put_ctrl(b, T_DOUBLE, 8);
    kz_buf_append(b, be, 8);
}

/* {"en": s} */
static void put_names(struct kz_buf *b, const char *s) {
    put_ctrl(b, T_MAP, 1);
    put_str(b, "en");
    put_str(b, s);
}

/* A place as GeoIP2 City lays it out: city.names.en, country.iso_code, country.names.en,
 * location.{accuracy_radius, latitude, longitude}. */
static void put_place(struct kz_buf *b, const struct kz_mmdb_place *p) {
    put_ctrl(b, T_MAP, p->city ? 3 : 2);
    if (p->city) {
        put_str(b, "city");
        put_ctrl(b, T_MAP, 1);
        put_str(b, "names");
        put_names(b, p->city);
    }
    put_str(b, "country");
    put_ctrl(b, T_MAP, 2);
    put_str(b, "iso_code");
    put_str(b, p->country_iso);
    put_str(b, "names");
    put_names(b, p->country_name);
    put_str(b, "location");
    put_ctrl(b, T_MAP, 3);
    put_str(b, "accuracy_radius");
    put_uint(b, T_UINT16, p->accuracy_radius);
    put_str(b, "latitude");
    put_double(b, p->latitude);
    put_str(b, "longitude");
    put_double(b, p->longitude);
}

static void put_rec24(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}

int kz_mmdb_writer_write(const struct kz_mmdb_writer *w, const char *path, uint64_t build_epoch,
                         struct kz_err *err) {
    if (build_epoch == 0) /* libmaxminddb refuses a database without a build time */
        return kz_err_set(err, KZ_EUSAGE, "%s: no build time", path);
    int rc = 0;
    struct kz_buf data, out;
    kz_buf_init(&data, (size_t)1 << 24);
    kz_buf_init(&out, (size_t)1 << 28);
    uint32_t *offset = kz_calloc(w->nplaces ? w->nplaces : 1, sizeof *offset);
    if (!offset) {
        rc = kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (uint32_t i = 0; i < w->nplaces; i++) {
        offset[i] = (uint32_t)data.len;
        put_place(&data, &w->places[i]);
    }
    uint64_t nc = w->nnodes;
    if (data.failed || nc + 16 + data.len >= (1u << 24)) {
        rc = kz_err_set(err, KZ_ELIMIT, "%s: database too large for 24-bit records", path);
        goto out;
    }
    /* the tree */
    if (kz_buf_reserve(&out, (size_t)nc * 6) == 0) {
        uint8_t *t = (uint8_t *)out.data;
        for (uint32_t i = 0; i < w->nnodes; i++)
            for (int k = 0; k < 2; k++) {
                uint32_t r = w->nodes[i].rec[k];
                uint32_t v = r == REC_EMPTY ? (uint32_t)nc
                             : r & REC_DATA ? (uint32_t)(nc + 16 + offset[r & ~REC_DATA])
                                            : r;
                put_rec24(t + (size_t)i * 6 + (size_t)k * 3, v);
            }
        out.len = (size_t)nc * 6;
    }
    static const uint8_t zeros[16];
    kz_buf_append(&out, zeros, 16);
    kz_buf_append(&out, data.data, data.len);
    /* the metadata */
    kz_buf_append(&out, "\xab\xcd\xefMaxMind.com", 14);
    put_ctrl(&out, T_MAP, 9);
    put_str(&out, "binary_format_major_version");
    put_uint(&out, T_UINT16, 2);
    put_str(&out, "binary_format_minor_version");
    put_uint(&out, T_UINT16, 0);
    put_str(&out, "build_epoch");
    put_uint(&out, T_UINT64, build_epoch);
    put_str(&out, "database_type");
    put_str(&out, "kizuki-Simulated-City");
    put_str(&out, "description");
    put_names(&out, "Places of a kizuki simulated estate's public addresses (not real data)");
    put_str(&out, "ip_version");
    put_uint(&out, T_UINT16, 6);
    put_str(&out, "languages");
    put_ctrl(&out, T_ARRAY, 1);
    put_str(&out, "en");
    put_str(&out, "node_count");
    put_uint(&out, T_UINT32, nc);
    put_str(&out, "record_size");
    put_uint(&out, T_UINT16, 24);
    if (out.failed) {
        rc = kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    size_t wrote = fwrite(out.data, 1, out.len, f);
    int closed = fclose(f);
    if (wrote != out.len || closed != 0)
        rc = kz_err_set(err, KZ_EIO, "%s: write failed: %s", path, strerror(errno));
out:
    kz_free(offset);
    kz_buf_free(&data);
    kz_buf_free(&out);
    return rc;
}

/* ---- the simulated estate's places ---- */

/* Employees' homes: Japanese cities, weighted towards the Tokyo area where the company is.
 * Coordinates are the cities' centres (rounded); the radius is what city-level databases give. */
static const struct kz_mmdb_place jp_cities[] = {
    {"Tokyo", "JP", "Japan", 35.6895, 139.6917, 20},
    {"Tokyo", "JP", "Japan", 35.6895, 139.6917, 20},
    {"Tokyo", "JP", "Japan", 35.6895, 139.6917, 20},
    {"Yokohama", "JP", "Japan", 35.4437, 139.6380, 20},
    {"Kawasaki", "JP", "Japan", 35.5308, 139.7029, 20},
    {"Saitama", "JP", "Japan", 35.8617, 139.6455, 20},
    {"Chiba", "JP", "Japan", 35.6074, 140.1065, 20},
    {"Osaka", "JP", "Japan", 34.6937, 135.5023, 20},
    {"Nagoya", "JP", "Japan", 35.1815, 136.9066, 20},
    {"Sapporo", "JP", "Japan", 43.0618, 141.3545, 50},
    {"Fukuoka", "JP", "Japan", 33.5904, 130.4017, 50},
    {"Sendai", "JP", "Japan", 38.2682, 140.8694, 50},
};

/* The traveller confounder's hotel (benign.c: 203.116.0.0/16, "a hotel in Singapore"). */
static const struct kz_mmdb_place singapore = {"Singapore", "SG",     "Singapore",
                                               1.3521,      103.8198, 10};

/* The ntt2020 attacker's VPS (scenario_ntt.c): a hosting provider's data centre in Amsterdam.
 * The incident reports kizuki is built from (../shared/seeds) say only that the intruder came in
 * from outside, over the remote-access service, with stolen credentials and a device of its own;
 * they name no country. The scenario's VPS addresses (45.8.0.0-45.150.255.255) are RIPE space,
 * where much rented hosting sits in the Netherlands, so a data centre there is the reading that
 * fits the address. (Singapore, the other plausible reading, is where the traveller confounder's
 * hotel is; it is 5,300 km from Tokyo, and the owners' next VPN sessions come 6 hours after the
 * intruder's night ones: travel could rarely fire there.) Data-centre ranges are placed with a
 * wide radius, as city databases do for hosting networks. */
static const struct kz_mmdb_place ntt_vps = {"Amsterdam", "NL", "Netherlands", 52.3676, 4.9041, 50};

int sim_geoip_write(const struct kz_sim_estate *e, const char *dir, int64_t start_day,
                    struct kz_err *err) {
    struct kz_mmdb_writer *w;
    if (kz_mmdb_writer_new(&w)) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    int rc = 0;
    /* each employee's home /16, in the city its number picks (the same /16 always the same city) */
    for (uint32_t u = 0; u < e->nusers && !rc; u++) {
        uint32_t ip = e->users[u].home_ip;
        if (!ip) continue;
        uint32_t net = ip & 0xffff0000u;
        uint32_t h = (net >> 16) * 2654435761u;
        rc = kz_mmdb_writer_add_v4(w, net, 16,
                                   &jp_cities[(h >> 16) % (sizeof jp_cities / sizeof *jp_cities)]);
    }
    if (!rc) rc = kz_mmdb_writer_add_v4(w, 203u << 24 | 116u << 16, 16, &singapore);
    /* the attacker's VPS network (/24), whether or not the run has the scenario: the database
     * describes the internet, not the incident */
    if (!rc) rc = kz_mmdb_writer_add_v4(w, sim_ntt_remote_ip(e->seed) & 0xffffff00u, 24, &ntt_vps);
    if (rc) {
        kz_mmdb_writer_free(w);
        return kz_err_set(err, rc, "geoip.mmdb: %s", kz_strerror(rc));
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/geoip.mmdb", dir);
    /* the build time is the simulation's first day, so the same options give the same bytes */
    rc = kz_mmdb_writer_write(w, path, start_day > 0 ? (uint64_t)start_day * 86400 : 1, err);
    kz_mmdb_writer_free(w);
    return rc;
}
