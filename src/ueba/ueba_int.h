/* ueba_int.h - the UEBA engine's private structures (shared by ueba.c and the unit tests that
 * measure them). See ueba.h for the interface and docs/ueba.md for the model.
 *
 * Sizes are part of the design: the budget is <= 2 KiB per entity on average, so a
 * profile is a fixed-size struct, sets are edges in one shared table, and the structures only
 * anomalous users need (their recent reasons) are allocated when the first anomaly comes. */
#ifndef KZ_UEBA_INT_H
#define KZ_UEBA_INT_H

#include "ueba.h"

#include "../core/arena.h"

/* Kinds of interned strings (a name is unique within its kind). */
enum ueba_type {
    T_USER = 1, /* account, lower case, no domain */
    T_HOST,     /* host, lower case, first DNS label */
    T_IP,       /* address as written */
    T_NET,      /* network: a.b.0.0/16 (private IPv4), a.b.c.0/24 (public), 4 groups (IPv6) */
    T_DEVICE,   /* client device, lower case, first label */
    T_SHARE,    /* host\share, lower case */
    T_FOLDER,   /* host\share\folder or host\parent directory, lower case */
    T_PROC,     /* image file name, lower case */
    T_SVC,      /* service name, lower case */
    T_RULE,     /* a Sigma rule's id (or its title when it has none) */
    T_SID,      /* an account's SID as written (S-1-5-21-...), upper case */
    T_GROUP,    /* a peer group (department, OU) from the --peers mapping, as written */
    T_TEXT,     /* display text kept for alerts (DOMAIN\name); last: the state loader checks
                 * types up to it */
};

/* Kinds of learned pairs. */
enum ueba_edge {
    E_USER_HOST = 1,
    E_USER_IP,
    E_USER_NET,
    E_USER_DEV,
    E_USER_SHARE,
    E_USER_FOLDER,
    E_USER_PROC, /* (user, process name, host) */
    E_HOST_SVC,
    E_ORG_DEV, /* (0, device): seen anywhere in the organisation */
    E_ORG_NET,
    E_ORG_SVC,
    E_HOST_RDP_USER, /* (host, user): RDP logons to host by user (for host roles) */
    E_CRED_BY,       /* (account, subject): the account's credentials used in subject's session */
    E_ORG_PROC,      /* (process name): run anywhere in the organisation */
    E_UNOWNED_WRITE, /* (account, share, day): an unowned account's writes there reported */
    E_SIGMA_DAY,     /* (rule, entity, day): the rule's points given to the entity that day */
    E_SIGMA_ENT,     /* (rule, entity): the rule matched the entity's events */
    E_SIGMA_NTH,     /* (rule, n): the rule matched at least n distinct entities (rarity) */
    E_PEER_OF,       /* (account): its peer group (--peers); the group's id is in `first` */
    E_GROUP_MEMBER,  /* (group, account): an account of the group was active */
    E_GROUP_SIZE,    /* (group): `first` counts its active accounts (saturates) */
    E_GROUP_HOST,    /* (group, host): some account of the group logged on there */
    E_GROUP_SHARE,   /* (group, share) */
    E_GROUP_FOLDER,  /* (group, folder): some account of the group read there */
};

/* One learned pair: hours since the start of the stream of its first and last sighting. */
struct ueba_edge_slot {
    uint64_t key; /* 0: empty */
    uint32_t first, last;
};

/* Reasons (what an anomaly says). */
enum ueba_reason {
    /* R_NEW_DEVICE..R_NEW_PROC: a first sighting (flags 0), or a return (flags: the window's
     * days, 10/30/90/180; v2: hours since the pair was last seen; ueba.c "return windows") */
    R_NEW_DEVICE = 1, /* a: device; v1: 1 when new to the organisation */
    R_NEW_NET,        /* a: network; v1: org-new */
    R_NEW_HOST,       /* a: host; v1: logon type (-1 explicit credentials) */
    R_NEW_SHARE,      /* a: share */
    R_NEW_PROC,       /* a: process; b: host */
    R_HOUR,           /* v1: local minute of day; v2: usual range (start hour << 8 | end hour),
                       * 0xffff never in that hour; flags: 1 never, 0 rare */
    R_LOGON_TYPE,     /* v1: type */
    R_SPIKE_READS,    /* v1: value; v2: usual bound */
    R_SPIKE_FOLDERS,
    R_SPIKE_HOSTS,
    R_SPIKE_BYTES,    /* v1: MiB this hour; v2: usual bound (MiB) */
    R_FAILS,          /* v1: failures */
    R_DORMANT,        /* v1: days */
    R_NEW_ACCOUNT,    /* a: creator (T_USER) or none; v1: first day */
    R_NEW_SERVICE,    /* a: service; v1: org-new */
    R_USER_ON_HOST,   /* host alerts: a user's anomaly here; a: user, v1: points */
    R_SHARED_DEVICE,  /* a: device another account used before */
    R_CRED_BY_OTHER,  /* a: the subject account; b: host */
    R_UNOWNED_READS,  /* a: creator (T_USER) or none; b: share; v1: folders this hour; v2: days
                       * since creation */
    R_ORG_NEW_PROC,   /* a: process; b: host (run by an account never logged on as a person) */
    R_UNOWNED_WRITES, /* a: creator (T_USER) or none; b: share; v2: days since creation */
    R_SIGMA,          /* a: title (T_TEXT); b: rule (T_RULE); v1: level; v2: entities the rule
                       * matched before this one */
    R_PRIV_GROUP,     /* a: group name (T_TEXT); b: who added it (T_USER) or none */
    R_PRIV_GROUP_BY,  /* a: group name (T_TEXT); b: the member added (T_USER) */
    R_WEEK,           /* v1: local minute of day; v2: active hours learned; flags: the day of
                       * the week (0 Sunday) of the account's working day */
    R_TRAVEL,    /* impossible travel (--geoip): a: place now, b: place before (T_TEXT); v1: km;
                  * v2: minutes between; flags: 1 a VPN session, 0 a logon */
    R_PEER_RARE, /* nobody of the account's peer group reached it before: a: the host, share or
                  * folder; b: the group (T_GROUP); v1: members active before; flags: 0 host,
                  * 1 share, 2 folder */
};

struct ueba_reason_rec {
    kz_time ts;
    uint64_t record_id;
    uint32_t file_id;
    uint32_t a, b; /* interned ids */
    int32_t v1, v2;
    uint8_t kind; /* enum ueba_reason */
    uint8_t flags;
    uint16_t points; /* points added, x10 */
    uint32_t host;   /* host id where it happened */
};

#define UEBA_RING 8
/* Kept only for entities that had an anomaly: their recent reasons and those of their peak. */
struct ueba_anom {
    struct ueba_reason_rec ring[UEBA_RING]; /* the last reasons, oldest overwritten */
    struct ueba_reason_rec peak[UEBA_RING]; /* the ring when risk peaked */
    uint8_t n, head, npeak;
};

#define UEBA_VOL_BUCKETS 16 /* log2 buckets of hourly values: 1, 2-3, 4-7, ... */
/* VOL_BYTES: MiB moved (VPN sessions' bytes at their end), rounded up */
enum { VOL_READS, VOL_FOLDERS, VOL_HOSTS, VOL_BYTES, NVOL };

/* Risk state shared by users and hosts. */
struct ueba_risk {
    float risk;       /* at risk_ts */
    float alert_risk; /* risk when the last alert of the current episode was raised; 0: none */
    float peak;
    kz_time risk_ts, peak_ts;
    uint32_t alerts;
    uint32_t anom; /* index + 1 into the anomaly blocks, 0 none */
};

struct ueba_user {
    uint32_t name;    /* T_USER id */
    uint32_t display; /* T_TEXT id of DOMAIN\name (or the name) */
    uint32_t events;
    uint32_t last_hour; /* hour (since start) of the last activity */
    uint16_t first_day, last_day, active_days;
    uint8_t is_new;      /* first seen after the baseline */
    uint8_t spiked;      /* volume metrics already reported this hour (bits) */
    uint32_t creator;    /* T_USER id of who created it (4720), 0 unknown */
    uint16_t hours[24];  /* active hours by hour of day (UTC) */
    uint16_t ltypes[16]; /* successful logons by logon type */
    uint32_t vol_hour;   /* hour the counters below are for */
    uint16_t vol[NVOL];  /* this hour: files read, distinct folders, distinct hosts, MiB */
    uint64_t vol_bytes;  /* this hour's bytes (vol[VOL_BYTES] is it in MiB, rounded up) */
    uint16_t hist[NVOL][UEBA_VOL_BUCKETS];
    kz_time fail_since;
    uint16_t fails;
    uint32_t fam_hour;    /* hour + 1 the 24-hour window of fam_pts started; 0 none */
    uint16_t doubt_day;   /* last day with strong doubt about who uses the account (+1; 0 none) */
    uint16_t unowned_day; /* last day an unowned new account's reads were reported (+1; 0 none) */
    uint8_t fam_pts[12];  /* points per family of reasons today (capped; ueba.c) */
    uint32_t sid;         /* T_SID id of the account's SID when a record said it, 0 unknown */
    uint8_t week[21];     /* hours of the week (UTC, Sunday 00:00 = bit 0 of byte 0) it was
                           * ever active in: 168 bits */
    uint32_t group;       /* T_GROUP id of its peer group (--peers), 0 none */
    uint32_t geo_ip;      /* --geoip: T_IP id of its last located activity's address, 0 none */
    kz_time geo_ts;       /* and its time (the travel memory, restored from a state: geoip.c) */
    struct ueba_risk r;
};

enum { ROLE_DC = 1, ROLE_FILESERVER = 2, ROLE_INTERACTIVE = 4, ROLE_RDP = 8, ROLE_CRITICAL = 16 };

struct ueba_host {
    uint32_t name;       /* T_HOST id */
    const char *display; /* first spelling seen (FQDN as in Computer) */
    uint32_t events;
    uint16_t first_day, last_day, active_days;
    uint8_t roles;       /* ROLE_* learned from what it logs */
    uint8_t rdp_users;   /* distinct RDP users (saturates) */
    uint16_t file_users; /* distinct users reaching its shares (saturates) */
    uint8_t svc_pts;     /* points of new services in the current 24-hour window */
    uint32_t svc_hour;   /* hour + 1 that window started; 0 none */
    uint32_t sig_hour;   /* hour + 1 the 24-hour window of sig_pts started; 0 none */
    uint8_t sig_pts;     /* points of Sigma findings on the host itself in that window */
    struct ueba_risk r;
};

/* ---- the engine (ueba.c; ueba_state.c saves and loads it) ---- */

struct pending {
    struct ueba_reason_rec r;
    double points;
};
#define MAX_PENDING 16

struct kept {
    kz_time ts;
    uint64_t record_id;
    uint32_t file_id;
    uint32_t seq;
    uint8_t kind, access;
    int8_t logon_type, outcome;
    uint32_t s[9]; /* T_TEXT ids of the raw strings (0: NULL) */
    int64_t bytes; /* -1 unknown */
};

struct ueba_memo;

struct kz_ueba {
    struct kz_ueba_opts o;
    struct kz_arena arena; /* strings and anomaly blocks' text */
    /* interned strings: open addressing on (type, text) */
    uint32_t *slot;    /* id + 1, 0 empty */
    uint32_t slot_cap; /* power of two */
    const char **str;  /* by id (id 0 unused) */
    uint32_t *hash;    /* by id */
    uint8_t *type;     /* by id */
    uint32_t *ent;     /* by id: user or host index + 1 */
    uint32_t nstr, str_cap;
    /* profiles */
    struct ueba_user *users;
    uint32_t nusers, users_cap;
    struct ueba_host *hosts;
    uint32_t nhosts, hosts_cap;
    struct ueba_anom *anoms;
    uint32_t nanoms, anoms_cap;
    /* learned pairs */
    struct ueba_edge_slot *edges;
    uint64_t edge_cap, nedges;
    /* time */
    int started;
    kz_time t0;      /* midnight UTC of the first record */
    kz_time last_ts; /* newest seen */
    /* kept records (kz_ueba_keep) */
    struct kept *kept;
    uint32_t nkept, kept_cap;
    uint32_t keep_last[9]; /* by field: the T_TEXT id the last kept record had (0 none) */
    /* stats */
    uint64_t records, kept_dropped, over_cap, alerts;
    /* canonical ids of the running records' strings by address (ueba.c, "a run's names") */
    struct ueba_memo *memo; /* memo_mask + 1 entries while kz_ueba_run runs, else NULL */
    uint32_t memo_mask;
    /* per-record scratch */
    struct pending pend[MAX_PENDING];
    uint32_t npend;
    char text[UEBA_RING + 2][512];
    const char *reasons[UEBA_RING + 2];
    struct kz_ueba_ref refs[UEBA_RING + 1];
};

/* ueba.c helpers for ueba_state.c */
/* Appends (type, s[0..n)) as the next id: loading a state must give every name back its
 * saved id, because learned pairs are keyed by ids. n == 0 keeps an id that names nothing (raw
 * text of a past run's records, not saved). Returns the id; 0 on a duplicate name, a cap or no
 * memory. */
uint32_t ueba_str_append(struct kz_ueba *u, int type, const char *s, size_t n);
/* Frees everything the engine holds but not the engine itself (kz_ueba_free, and a refused state
 * load that must leave an empty engine). */
void ueba_release(struct kz_ueba *u);

#endif
