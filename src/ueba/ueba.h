/* ueba.h - behaviour analytics: is someone using a valid account who is not its owner?
 *
 * Why: the first incident kizuki is built from used stolen passwords and no malware; no rule
 * matches it, only behaviour gives it away (a new device, an unusual hour, a host or share the
 * account never used, a burst of reads across many customers' folders). This module keeps a
 * compact profile per user and host, learns from the time-ordered activity stream, scores each
 * activity's anomalies, lets the risk decay, and raises a `ueba` finding when an entity's risk
 * crosses the threshold, with every contributing reason as a sentence and the events behind it.
 *
 * Use:
 *   1. kz_ueba_extract turns a normalised event into a compact activity record (struct
 *      kz_ueba_act; strings borrowed from the event). Any thread may call it. Records travel
 *      between threads with kz_ueba_act_pack / kz_ueba_act_unpack.
 *   2. kz_ueba_new; then either kz_ueba_keep for every record in any order (the engine interns
 *      and stores them compactly) and kz_ueba_run once, which orders them by time (ties by the
 *      order they were kept, so file order) and scores them; or kz_ueba_push records already in
 *      time order (streaming).
 *   3. Alerts arrive through a callback; kz_ueba_top lists the riskiest entities afterwards.
 * Results depend only on the records and their keep order, never on threads.
 *
 * What is modelled, the reasons and their points, the knobs and the measured figures: docs/ueba.md.
 *
 * Memory: entities (users, hosts, source addresses, devices, shares, folders, processes) are
 * interned strings with a 4-byte id; profiles are fixed-size (struct sizes in ueba_int.h, about 310
 * bytes per user, 90 per host); "has X been seen with Y" is one global open-addressing table of
 * 16-byte edges (first and last day, a count). Caps on entities, edges and kept records
 * (struct kz_ueba_opts); over a cap, new entities or edges are not learned and counted in the
 * stats (the stream goes on).
 *
 * Ownership: the engine copies every string it keeps (its own arena); an alert's strings and
 * arrays are valid only during the callback. struct kz_ueba_act only borrows. */
#ifndef KZ_UEBA_H
#define KZ_UEBA_H

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/timeutil.h"

#include <stddef.h>
#include <stdint.h>

/* What a record says happened. */
enum kz_ueba_kind {
    KZ_UEBA_NONE = 0,
    KZ_UEBA_LOGON,        /* 4624: a logon session started on host */
    KZ_UEBA_LOGON_FAILED, /* 4625: a logon refused on host */
    KZ_UEBA_EXPLICIT,     /* 4648: credentials used explicitly, towards target */
    KZ_UEBA_AUTH,         /* 4768/4776 on a domain controller; outcome says if it worked */
    KZ_UEBA_LOGOFF,       /* 4634/4647 */
    KZ_UEBA_SHARE,        /* 5140: a network share connected (object = share) */
    KZ_UEBA_FILE,         /* 5145/4663: a file touched (folder, access) */
    KZ_UEBA_PROCESS,      /* 4688/Sysmon 1: a process started (object = image file name) */
    KZ_UEBA_SERVICE,      /* 7045/4697: a service installed (object = service name) */
    KZ_UEBA_ACCOUNT,      /* 4720: an account created (user = the new account) */
    KZ_UEBA_VPN,          /* remote-access session (VPN logs: fed by the text readers) */
    KZ_UEBA_SIGMA,        /* a Sigma rule matched an event of this account (or, user NULL, of
                           * this host): access = the rule's level (enum kz_sigma_level), object
                           * = its title, folder = its id (kz_ueba_extract_finding) */
    KZ_UEBA_GROUP,        /* 4728/4732/4756: a member added to a security group; user/sid = the
                           * member, object = the account that added it, folder = the group's
                           * name, target = the group's SID */
    KZ_UEBA_VPN_END,      /* a remote-access session ended: bytes = what it moved (both ways) */
    KZ_UEBA_NKINDS
};

/* KZ_UEBA_FILE access bits. */
enum { KZ_UEBA_READ = 1, KZ_UEBA_WRITE = 2, KZ_UEBA_DELETE = 4 };

/* One activity, as UEBA needs it. A VPN session from the text readers fills: kind VPN, user,
 * host (the gateway), src_ip (the client's public address), device (client id / host name when the
 * log gives one), outcome, bytes. */
struct kz_ueba_act {
    kz_time ts;
    uint8_t kind;       /* enum kz_ueba_kind */
    int8_t logon_type;  /* Windows logon type, -1 unknown */
    int8_t outcome;     /* 1 success, 0 failure, -1 unknown */
    uint8_t access;     /* KZ_UEBA_READ | WRITE | DELETE (FILE) */
    uint32_t file_id;   /* source file index in the caller's table */
    uint64_t record_id; /* record inside it */
    int64_t bytes;      /* bytes moved, -1 unknown */
    const char *user;   /* account name without domain; NULL for host-only activity */
    const char *domain; /* account domain as written, NULL unknown */
    const char *sid;    /* account SID, NULL unknown */
    const char *host;   /* where it was logged (Computer) */
    const char *target; /* host acted on when not `host` (4648 target server), else NULL */
    const char *src_ip; /* where it came from (IPv4-mapped prefix removed), NULL local/unknown */
    const char *device; /* client workstation or device name, NULL when none */
    const char *object; /* SHARE, FILE: share; PROCESS: image name; SERVICE: service name;
                         * ACCOUNT: the account that created it; EXPLICIT: the account whose
                         * session used the credentials */
    const char *folder; /* FILE: the top-level folder of the share (the customer's folder), or
                         * the file's parent directory for local paths (4663) */
};

/* Returns 1 and fills out (strings borrowed from ev) when ev is activity UEBA uses, else 0.
 * ev must have been through kz_event_normalise. */
int kz_ueba_extract(const struct kz_event *ev, struct kz_ueba_act *out);

/* Returns 1 and fills out (strings borrowed from ev and the arguments) with the record of a Sigma
 * finding: a rule (rule_id, title, level: enum kz_sigma_level) matched ev. The account is the one
 * who acted (the subject of process starts and account/group changes; the event's account
 * otherwise); machine and system accounts leave user NULL (the finding is the host's). Returns 0
 * below level medium (low and informational rules are not evidence about an entity). */
int kz_ueba_extract_finding(const struct kz_event *ev, int level, const char *rule_id,
                            const char *title, struct kz_ueba_act *out);

/* Serialises a record into b (any thread); kz_ueba_act_unpack reads one back from p[0..n),
 * strings pointing into p. Returns 0, or KZ_EFORMAT when p is not a whole record. */
void kz_ueba_act_pack(struct kz_buf *b, const struct kz_ueba_act *a);
int kz_ueba_act_unpack(const char *p, size_t n, struct kz_ueba_act *out);

/* ---- the engine ---- */

/* geoip.h: impossible travel when --geoip FILE is given */
struct kz_geoip;

struct kz_ueba_opts {
    double threshold;            /* risk at which a finding is raised (default 55) */
    double half_life_hours;      /* an entity's risk halves in this time (default 12) */
    uint32_t baseline_days;      /* the first N days of the stream only teach (default 5) */
    uint32_t min_days;           /* a profile raises nothing before N active days (default 5) */
    uint32_t min_events;         /* ... and N activities (default 50) */
    int tz_offset_min;           /* local time for the hours written in reasons (default 0: UTC) */
    uint32_t max_entities;       /* interned strings (default 4M) */
    uint32_t max_edges;          /* learned pairs (default 16M, 256 MiB) */
    uint32_t max_records;        /* records kz_ueba_keep holds (default 16M) */
    const char *const *critical; /* host name patterns (glob, no case) of critical assets */
    uint32_t ncritical;
    struct kz_geoip *geoip; /* --geoip: where addresses are (geoip.h); NULL: no travel. Not owned:
                             * the caller frees it after the engine */
};
void kz_ueba_opts_default(struct kz_ueba_opts *o);

/* An event behind an alert. */
struct kz_ueba_ref {
    kz_time ts;
    uint32_t file_id;
    uint64_t record_id;
};

struct kz_ueba_alert {
    kz_time ts;         /* the triggering activity's time */
    int is_host;        /* 0: a user's risk crossed the threshold; 1: a host's */
    const char *entity; /* "DOMAIN\user" or the host */
    const char *user;   /* DOMAIN\user of the triggering activity, NULL for host alerts
                         * without one */
    const char *host;   /* where the triggering activity happened */
    const char *src_ip; /* its source address, NULL unknown */
    int score;          /* 0-100 */
    int level;          /* enum kz_sigma_level: MEDIUM, HIGH or CRITICAL */
    uint32_t nreasons;  /* sentences; the first is the summary line */
    const char *const *reasons;
    uint32_t file_id; /* the triggering record */
    uint64_t record_id;
    uint32_t nrefs; /* every event that contributed, oldest first */
    const struct kz_ueba_ref *refs;
};
typedef void (*kz_ueba_alert_fn)(void *ctx, const struct kz_ueba_alert *a);

struct kz_ueba_stats {
    uint64_t records;      /* activities scored */
    uint64_t kept_dropped; /* records kz_ueba_keep refused (over max_records or no memory) */
    uint32_t users, hosts; /* profiles */
    uint32_t entities;     /* named entities: accounts, hosts, addresses, networks, devices,
                            * shares, folders, processes, services */
    uint64_t edges;        /* learned pairs */
    uint64_t over_cap;     /* entities or edges not learned (a cap was hit) */
    uint64_t alerts;       /* user and host alerts raised */
    size_t bytes;          /* memory held by the model (profiles, anomaly blocks, edges, entity
                            * names and their index; not records waiting in kz_ueba_keep) */
};

struct kz_ueba;

int kz_ueba_new(struct kz_ueba **out, const struct kz_ueba_opts *o);
void kz_ueba_free(struct kz_ueba *u);
/* Keeps a copy of a record for kz_ueba_run. Returns 0, or KZ_ELIMIT / KZ_ENOMEM (counted in
 * stats.kept_dropped; the run goes on without it). */
int kz_ueba_keep(struct kz_ueba *u, const struct kz_ueba_act *a);
/* Orders the kept records by time (ties: keep order), scores them, frees them. */
void kz_ueba_run(struct kz_ueba *u, kz_ueba_alert_fn fn, void *ctx);
/* Scores one record; records must come in time order (an older one is scored as if at the
 * newest time seen). */
void kz_ueba_push(struct kz_ueba *u, const struct kz_ueba_act *a, kz_ueba_alert_fn fn, void *ctx);
void kz_ueba_stats(const struct kz_ueba *u, struct kz_ueba_stats *out);

/* Peer groups (department or OU): account -> group, as an HR or directory export gives them.
 * Access nobody of the account's group ever had is a reason ("nobody in Sales logs on to FS03").
 * kz_ueba_peer sets one account's group (account spelled as in logs: name, DOMAIN\name or
 * name@domain; the group as written, cut at 255 bytes); the last call for an account wins.
 * Returns 0, KZ_EUSAGE (empty name or group) or KZ_ELIMIT (the entity or pair cap, or no
 * memory). Call before the records are scored (after kz_ueba_load when a state is loaded).
 * kz_ueba_load_peers reads a CSV file of `account,group` lines (an optional header line
 * `user,group`; `#` comments and blank lines skipped; fields may be double-quoted) and
 * kz_ueba_peers_buffer the same text from p[0..n) (name: for messages). Bounded: lines of at most
 * 4 KiB, at most KZ_UEBA_MAX_PEERS accounts; a malformed line stops the load with its number
 * (KZ_EFORMAT, err set), because a half-read mapping would make peers look rarer than they are. */
#define KZ_UEBA_MAX_PEERS (1u << 22)
int kz_ueba_peer(struct kz_ueba *u, const char *account, const char *group);
int kz_ueba_load_peers(struct kz_ueba *u, const char *path, struct kz_err *err);
int kz_ueba_peers_buffer(struct kz_ueba *u, const char *p, size_t n, const char *name,
                         struct kz_err *err);

/* The model persisted between runs (ueba_state.c; format and checks there and in docs/ueba.md).
 * kz_ueba_save writes everything learned so far to path atomically (a temporary file beside it,
 * fsync, rename); call it after kz_ueba_run. kz_ueba_load fills a fresh engine (nothing kept or
 * pushed yet) from a file kz_ueba_save wrote, so the next records continue that history; the run's
 * own options (threshold, baseline...) stay those given to kz_ueba_new. A state that fails any
 * check (format, version, layout of this build, counts, ids, ranges, checksum) is refused whole
 * and the engine is left empty. Return 0 or a KZ_E* code with err set; a missing file is
 * KZ_EUSAGE. kz_ueba_load_buffer reads the state from memory (p[0..n), for the fuzzer). */
int kz_ueba_save(const struct kz_ueba *u, const char *path, struct kz_err *err);
int kz_ueba_load(struct kz_ueba *u, const char *path, struct kz_err *err);
int kz_ueba_load_buffer(struct kz_ueba *u, const void *p, size_t n, struct kz_err *err);

/* An entity's standing after the run. */
struct kz_ueba_entity {
    int is_host;
    const char *name;  /* DOMAIN\user or host */
    double risk_peak;  /* the highest risk it reached */
    kz_time peak_ts;   /* when */
    double risk_now;   /* risk at the end of the stream (after decay) */
    uint32_t alerts;   /* alerts it raised */
    uint32_t nreasons; /* reasons of its peak */
    const char *const *reasons;
};
/* Calls fn for the n entities with the highest peak risk (users and hosts, highest first, ties
 * by name), only those with a peak > 0. Strings are valid during the call. Returns how many. */
uint32_t kz_ueba_top(struct kz_ueba *u, uint32_t n,
                     void (*fn)(void *ctx, const struct kz_ueba_entity *e), void *ctx);

#endif
