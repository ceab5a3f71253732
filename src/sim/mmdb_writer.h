/* mmdb_writer.h - writes small MaxMind DB (.mmdb) files: networks -> places (city, country,
 * latitude, longitude, accuracy radius), in the layout of a GeoIP2/GeoLite2 City database.
 *
 * Why: impossible travel (`--geoip FILE`, src/ueba/geoip.c) needs a GeoIP database, and the
 * real ones are licensed data that cannot ship with kizuki or its tests. `kizuki simulate`
 * writes `geoip.mmdb` locating its estate's public addresses, and the unit tests write tiny
 * databases and read them back through libmaxminddb (an independent reader checks the writer).
 * Written from the public MaxMind DB File Format Specification, version 2.0.
 *
 * The tree is an IPv6 tree (ip_version 6); an IPv4 network a.b.c.d/n is stored at ::a.b.c.d/(96+n),
 * where readers look IPv4 addresses up. A network added after a wider one that holds it refines
 * it (the rest of the wider one keeps its place); a wider one added after narrower ones inside it
 * replaces them. Identical places are written once in the data section.
 *
 * Ownership: the writer copies every string it is given; kz_mmdb_writer_free frees everything. */
#ifndef KZ_MMDB_WRITER_H
#define KZ_MMDB_WRITER_H

#include "../core/error.h"

#include <stdint.h>

struct kz_mmdb_place {
    const char *city;         /* city.names.en, NULL for none (a country-level place) */
    const char *country_iso;  /* country.iso_code, two letters */
    const char *country_name; /* country.names.en */
    double latitude, longitude;
    uint16_t accuracy_radius; /* km: location.accuracy_radius */
};

struct kz_mmdb_writer;

/* Caps: at most KZ_MMDB_MAX_NODES tree nodes and KZ_MMDB_MAX_PLACES distinct places. */
#define KZ_MMDB_MAX_NODES (1u << 22)
#define KZ_MMDB_MAX_PLACES 4096u

int kz_mmdb_writer_new(struct kz_mmdb_writer **out);
void kz_mmdb_writer_free(struct kz_mmdb_writer *w);
/* Maps the network addr/prefix to place. addr: 16 bytes, big-endian IPv6; prefix 0..128.
 * Returns 0, KZ_EUSAGE (bad prefix or place), KZ_ELIMIT (a cap), KZ_ENOMEM. */
int kz_mmdb_writer_add(struct kz_mmdb_writer *w, const uint8_t addr[16], int prefix,
                       const struct kz_mmdb_place *place);
/* The same for an IPv4 network (ip in host order, prefix 0..32). */
int kz_mmdb_writer_add_v4(struct kz_mmdb_writer *w, uint32_t ip, int prefix,
                          const struct kz_mmdb_place *place);
/* Writes the database to path (replaced). build_epoch: the metadata's build time (seconds since
 * 1970, not 0: readers refuse that; pass a fixed value for byte-identical output). Returns 0 or a
 * KZ_E* code with err set. */
int kz_mmdb_writer_write(const struct kz_mmdb_writer *w, const char *path, uint64_t build_epoch,
                         struct kz_err *err);

/* `kizuki simulate`: writes DIR/geoip.mmdb placing the estate's public addresses: each employee's
 * home network (/16) in a Japanese city, the traveller confounder's hotel network 203.116.0.0/16
 * in Singapore, and the ntt2020 attacker's VPS network (/24) in an Amsterdam data centre.
 * start_day (days since 1970) is the metadata's build time. */
struct kz_sim_estate;
int sim_geoip_write(const struct kz_sim_estate *e, const char *dir, int64_t start_day,
                    struct kz_err *err);

#endif
