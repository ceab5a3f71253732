/* geoip.h - where an address is (a MaxMind DB, read with libmaxminddb), and impossible travel.
 *
 * Why: an account used from Tokyo and, two hours later, from Singapore is in two people's hands
 * (or one person's and a VPN exit's): no flight is that fast. With `--geoip FILE` (a GeoIP2 or
 * GeoLite2 City database, or the `geoip.mmdb` `kizuki simulate` writes), UEBA locates the source
 * addresses of logons and VPN sessions and raises a reason when an account's located activity
 * moves faster than an airliner from its last one (docs/ueba.md, "Impossible travel").
 *
 * The travel memory (per account: the time and place of its last located activity) lives here, in
 * a side table beside the engine's fixed-size profiles. `--ueba-state` keeps it through the
 * engine: each account's profile holds the address and time of its last located activity, and a
 * loaded state gives them back here (kz_geoip_remember), so a continued run judges travel as one
 * run would. It is bounded (KZ_GEOIP_MAX_ACCOUNTS; accounts over the cap
 * are not followed, counted in the stats).
 *
 * Ownership: kz_geoip_open returns a handle the caller frees with kz_geoip_free after every engine
 * that uses it; results are copied into the caller's structs. Not thread-safe (UEBA scores on one
 * thread). */
#ifndef KZ_GEOIP_H
#define KZ_GEOIP_H

#include "../core/error.h"
#include "../core/timeutil.h"

#include <stddef.h>
#include <stdint.h>

/* Impossible travel: faster than this between two located activities ... */
#define KZ_GEOIP_MAX_KMH 1000.0
/* ... over at least this distance (after the accuracy radii of both places are taken off). */
#define KZ_GEOIP_MIN_KM 500.0
/* Accounts whose last location is remembered. */
#define KZ_GEOIP_MAX_ACCOUNTS (1u << 20)

struct kz_geoip;

struct kz_geoip_place {
    double latitude, longitude;
    uint32_t accuracy_km; /* location.accuracy_radius; 0 when the database gives none */
    char country[4];      /* ISO code, "" unknown */
    char city[64];        /* English name, "" unknown */
    char name[96];        /* for sentences: "Tokyo (JP)", "Japan (JP)" or "35.7, 139.7" */
};

/* Opens a MaxMind DB. Returns 0, or KZ_EUSAGE (missing file), KZ_EIO, KZ_ECORRUPT (not a valid
 * database), KZ_ENOMEM with err set ("FILE: ..."). */
int kz_geoip_open(struct kz_geoip **out, const char *path, struct kz_err *err);
void kz_geoip_free(struct kz_geoip *g);

/* Locates ip (IPv4 or IPv6 text). Returns 1 and fills out when the database places it (with
 * coordinates); 0 for private, loopback, link-local, reserved or unknown addresses, text that is
 * no address, or a database entry without coordinates. */
int kz_geoip_lookup(struct kz_geoip *g, const char *ip, struct kz_geoip_place *out);

/* Great-circle distance in km (haversine, mean Earth radius 6,371 km). */
double kz_geoip_distance_km(double lat1, double lon1, double lat2, double lon2);

/* A trip too fast to be one person's. */
struct kz_geoip_trip {
    char from[96], to[96]; /* place names (kz_geoip_place.name) */
    double km;             /* great-circle distance between the two places */
    kz_time elapsed;       /* time between the two activities */
};

/* Feeds the account's activity at ts from address ip (records in time order). Returns 1 and fills
 * trip when it is located and impossible travel from the account's last located activity:
 * (distance - both accuracy radii) >= KZ_GEOIP_MIN_KM and that distance / elapsed time >
 * KZ_GEOIP_MAX_KMH. The activity becomes the account's last location either way (when located).
 * account: any nonzero id of the caller's (UEBA: the account's interned id). located (may be
 * NULL): set to 1 when the activity became the account's last location, else 0. */
int kz_geoip_travel(struct kz_geoip *g, uint32_t account, kz_time ts, const char *ip,
                    struct kz_geoip_trip *trip, int *located);

/* Makes (ts, ip) the account's last location without judging it: the travel memory given back
 * from a saved model. Returns 1 when ip is located and remembered, else 0. */
int kz_geoip_remember(struct kz_geoip *g, uint32_t account, kz_time ts, const char *ip);

/* The reason's sentence: "logon from Singapore (SG) 2 h after Tokyo (JP): 5,310 km, faster than
 * any flight". what: "logon" or "VPN session"; minutes: elapsed time. */
void kz_geoip_trip_text(char *b, size_t size, const char *what, const char *to, const char *from,
                        int32_t km, int32_t minutes);

struct kz_geoip_stats {
    uint64_t lookups, located; /* addresses looked up, and those the database placed */
    uint64_t trips;            /* impossible travel found */
    uint32_t accounts;         /* accounts followed */
    uint64_t over_cap;         /* activities of accounts not followed (KZ_GEOIP_MAX_ACCOUNTS) */
};
void kz_geoip_stats(const struct kz_geoip *g, struct kz_geoip_stats *out);

#endif
