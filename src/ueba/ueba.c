/* ueba.c - the UEBA engine: entities, learned pairs, features, risk and alerts (see ueba.h).
 *
 * One pass over the time-ordered activity. For each record: find (or create) the user's and the
 * host's profiles; if both the run's baseline and the profile's own learning gate are behind us,
 * compute the anomalies of this activity against what was learned so far; then learn from it;
 * then add the anomalies' points to the user's risk (and half of them to the host's), decayed
 * since the last change, and raise an alert when the risk crosses the threshold. Learning after
 * scoring means an activity is compared with the past only, never with itself. */
#include "ueba_int.h"

#include "geoip.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/oaindex.h"
#include "../core/timeutil.h"
#include "../sigma/rule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOUR_TICKS (3600LL * KZ_TICKS_PER_SEC)
#define NAME_MAX_BYTES 255 /* canonical names are cut here: bounded keys whatever the log says */
#define DORMANT_DAYS 30
#define FAILS_BEFORE_SUCCESS 5
#define HOUR_HISTORY 20 /* active hours before the hour of day is judged */
#define LTYPE_HISTORY 10
#define VOL_HISTORY 10
#define HOST_SERVICE_CAP 40
#define NEW_ACCOUNT_DAYS 30   /* how long an account created in the stream is watched as new */
#define UNOWNED_REPEAT_DAYS 7 /* an unowned account's reads are reported again after a week */
/* The day of the week is judged after WEEK_HISTORY active hours over WEEK_DAYS days since the
 * account was first seen (three weeks: each day of the week had three chances). */
#define WEEK_HISTORY 80
#define WEEK_DAYS 21
#define SIGMA_RARE 3       /* a rule that matched at most this many other entities is rare */
#define SIGMA_COUNT_MAX 32 /* distinct entities counted per rule (rarity saturates) */
#define PEER_MIN_OTHERS 3  /* peer rarity needs this many other active accounts in the group */
/* Return windows. A pair of an account and a host, network, device, share or process (on a
 * server) that was seen before but not within the last 180, 90, 30 or 10 days is first-seen again
 * in the longest of those windows it missed (the pair table keeps each pair's last hour, so this
 * costs no memory). Its points are the first sighting's graded by the gap: a 10-day gap is a
 * holiday and worth little, a pair unused for half a year is almost as telling as a new one, and
 * none is worth as much as the first sighting. The family caps and the doubt rules apply as to
 * first sightings, so returns alone add up to little. Longest first. */
static const struct {
    uint16_t days;
    float share; /* of the first sighting's points */
} return_windows[] = {{180, 0.85f}, {90, 0.7f}, {30, 0.5f}, {10, 0.2f}};

/* Points (before the asset's criticality multiplies them); docs/ueba.md explains each. */
enum {
    P_NEW_DEVICE = 25,
    P_ORG_NEW_DEVICE = 10,
    P_NEW_NET = 15,
    P_ORG_NEW_NET = 10,
    P_NEW_HOST_INTERACTIVE = 10,
    P_NEW_HOST_NETWORK = 6,
    P_NEW_SHARE = 8,
    P_NEW_PROC = 5,
    P_HOUR_NEVER = 20,
    P_HOUR_RARE = 10,
    P_LOGON_TYPE = 15,
    P_SPIKE = 25,
    P_SPIKE_MAX = 40,
    P_FAILS = 20,
    P_DORMANT = 15,
    P_NEW_ACCOUNT_CRITICAL = 30,
    P_NEW_SERVICE = 10,
    P_ORG_NEW_SERVICE = 6,
    P_SHARED_DEVICE = 20,
    P_TRAVEL = 30, /* impossible travel (--geoip): src/ueba/geoip.c, docs/ueba.md */
    P_CRED_BY_OTHER = 30,
    P_UNOWNED_CRITICAL = 40,
    P_UNOWNED_READS = 60,
    P_UNOWNED_WRITES = 60,
    P_ORG_NEW_PROC_SERVICE = 60,
    P_SIGMA_MEDIUM = 10,
    P_SIGMA_HIGH = 25,
    P_SIGMA_CRITICAL = 40,
    P_PRIV_GROUP = 40,
    P_PRIV_GROUP_BY = 20,
    P_WEEK = 15,
    P_PEER_HOST = 10,  /* x criticality; nobody of the account's peer group logged on there */
    P_PEER_SHARE = 8,  /* x criticality */
    P_PEER_FOLDER = 5, /* a folder (a customer's) nobody of the group read */
};
/* Families of reasons: within a 24-hour window a user's points from one family are capped, so
 * that one new situation seen through several correlated features (a first remote day: new
 * device, new network, first RDP logon) counts once, and only independent kinds of evidence
 * (who/where from, when, what was reached, how much) add up to an alert.
 * What an impersonator is after (new hosts, shares, volume) counts in full only on a day the
 * account also shows strong doubt about who is using it (an hour it is never active at, a
 * device another account already used, its credentials typed by another account); otherwise
 * at half: an owner reaching a new server or exporting a lot is a change of work more
 * often than an intruder, and the owner's own sources and hours are what tell them apart. */
/* FAM_UNOWNED: what an account that never had a session of a person (interactive, unlock, RDP,
 * cached) does that no owner explains: created in the stream (4720 seen), it reaches a domain
 * controller, reads across customers' folders or writes on a share; or (a service's account) it
 * runs a program never seen anywhere in the organisation. There is no owner's behaviour to compare
 * with, so this is judged without the account's own learning gate, counts in full and is itself
 * strong doubt. A new hire logs on at a desk first; a service does not start new programs. Two such
 * things in a day (two new programs, reads then a DC) are independent evidence: the cap holds both.
 */
/* FAM_SIGMA: Sigma findings on the account (a rule matched what it did). They are evidence about
 * the events themselves, not about the account's history, so they count during the baseline and
 * before the account's learning gate. Points by level (critical 40, high 25, medium 10; low and
 * informational none), once a day per rule and account, weighed by the rule's rarity in the estate
 * (full for a rule that matched at most SIGMA_RARE other accounts or hosts before, then
 * SIGMA_RARE / others): a rule that fires on every admin is the estate's normal, not this
 * account's. The cap (60) lets a day with two rare serious rules alone cross the threshold.
 * FAM_PRIV: an account added to a privileged group (and the account that added it); also judged
 * without the gates (a fact, not a deviation), capped below the threshold: alone it raises
 * nothing.
 * FAM_PEER: access nobody of the account's peer group (department, OU: --peers) ever had, a host,
 * share or customer's folder. Another view of "what was reached" than the account's own first
 * sightings, so it has its own small cap (20), and it counts only on a day of strong doubt about
 * who uses the account: a department's new project, a first remote day on a VDI host nobody of
 * the department used yet, or a move between departments reach new places too (measured: at
 * half without doubt it raised two benign accounts over the threshold in 1,357 user-days). */
enum {
    FAM_SOURCE,
    FAM_TIME,
    FAM_ACCESS,
    FAM_VOLUME,
    FAM_ACCOUNT,
    FAM_UNOWNED,
    FAM_SIGMA,
    FAM_PRIV,
    FAM_PEER,
    NFAM
};
static const int fam_cap[NFAM] = {40, 20, 30, 45, 30, 100, 60, 50, 20};
static int family_of(int reason, int flags) {
    if (reason == R_SIGMA) return FAM_SIGMA;
    if (reason == R_PEER_RARE) return FAM_PEER;
    if (reason == R_PRIV_GROUP || reason == R_PRIV_GROUP_BY) return FAM_PRIV;
    if (reason == R_UNOWNED_READS || reason == R_UNOWNED_WRITES || reason == R_ORG_NEW_PROC ||
        (reason == R_NEW_ACCOUNT && flags))
        return FAM_UNOWNED;
    switch (reason) {
    case R_NEW_DEVICE:
    case R_NEW_NET:
    case R_SHARED_DEVICE:
    case R_TRAVEL:
        return FAM_SOURCE;
    case R_HOUR:
    case R_WEEK:
        return FAM_TIME;
    case R_SPIKE_READS:
    case R_SPIKE_FOLDERS:
    case R_SPIKE_HOSTS:
    case R_SPIKE_BYTES:
        return FAM_VOLUME;
    case R_FAILS:
    case R_DORMANT:
    case R_CRED_BY_OTHER:
        return FAM_ACCOUNT;
    default:
        return FAM_ACCESS;
    }
}

/* A rare Sigma rule of level high or critical (flags 1) says something is wrong with what the
 * account does, as much as an hour it never works at. */
static int is_strong_doubt(int reason, int flags) {
    return reason == R_TRAVEL || reason == R_HOUR || reason == R_SHARED_DEVICE ||
           reason == R_CRED_BY_OTHER || (reason == R_SIGMA && flags) ||
           family_of(reason, flags) == FAM_UNOWNED;
}

/* Volume spikes: an hour is a spike above max(floor, factor x the 95th percentile of the user's
 * past active hours). */
static const int vol_floor[NVOL] = {50, 8, 5, 1024}; /* bytes: 1 GiB in an hour at least */
static const int vol_factor[NVOL] = {4, 3, 3, 4};

void kz_ueba_opts_default(struct kz_ueba_opts *o) {
    memset(o, 0, sizeof *o);
    o->threshold = 55;
    o->half_life_hours = 12;
    o->baseline_days = 5;
    o->min_days = 5;
    o->min_events = 50;
    o->max_entities = 4u << 20;
    o->max_edges = 16u << 20;
    o->max_records = 16u << 20;
}

/* ---- hashing and interning ---- */

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Names are short (accounts, hosts, folders: 5-60 bytes) and hashed for every record kept and
 * again for each canonical name scored, so 8 bytes a step. The value is never saved (a state
 * gives names back by id; ueba_state.c), so it may change between builds. */
static uint32_t hash_text(int type, const char *s, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL * (uint64_t)(type + 1) ^ n, w;
    const char *end = s + n;
    for (; end - s > 8; s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    /* the last 1-8 bytes in whole loads (overlapping what was hashed: the length is in h), not
     * byte by byte into a word, which stalls on the store-to-load forwarding */
    if (n >= 8) {
        memcpy(&w, end - 8, 8);
    } else if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, end - 4, 4);
        w = (uint64_t)hi << 32 | lo;
    } else {
        w = n ? (uint64_t)(uint8_t)s[0] | (uint64_t)(uint8_t)s[n / 2] << 8 |
                    (uint64_t)(uint8_t)s[n - 1] << 16
              : 0;
    }
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return (uint32_t)mix64(h);
}

static int grow_strings(struct kz_ueba *u) {
    uint32_t cap = u->str_cap ? u->str_cap * 2 : 1024;
    const char **s = kz_realloc(u->str, cap * sizeof *s);
    if (!s) return KZ_ENOMEM;
    u->str = s;
    uint32_t *h = kz_realloc(u->hash, cap * sizeof *h);
    if (!h) return KZ_ENOMEM;
    u->hash = h;
    uint8_t *t = kz_realloc(u->type, cap);
    if (!t) return KZ_ENOMEM;
    u->type = t;
    uint32_t *e = kz_realloc(u->ent, cap * sizeof *e);
    if (!e) return KZ_ENOMEM;
    u->ent = e;
    u->str_cap = cap;
    return 0;
}

static int grow_slots(struct kz_ueba *u) {
    uint32_t cap = u->slot_cap ? u->slot_cap * 2 : 2048;
    uint32_t *ns = kz_calloc(cap, sizeof *ns);
    if (!ns) return KZ_ENOMEM;
    for (uint32_t id = 1; id < u->nstr; id++)
        if (u->str[id][0]) /* a placeholder (ueba_str_append) is not indexed */
            kz_oa_insert(ns, cap, u->hash[id], id);
    kz_free(u->slot);
    u->slot = ns;
    u->slot_cap = cap;
    return 0;
}

/* A name looked up: kz_oa_find asks whether id is it. */
struct name_key {
    const struct kz_ueba *u;
    const char *s;
    size_t n;
    uint32_t h;
    int type;
};

static int name_is(const void *ctx, uint32_t id) {
    const struct name_key *k = ctx;
    const struct kz_ueba *u = k->u;
    return u->hash[id] == k->h && u->type[id] == k->type && !strncmp(u->str[id], k->s, k->n) &&
           u->str[id][k->n] == 0;
}

/* The id of (type, s[0..n)) (hash h) when present, else 0. */
static uint32_t lookup(const struct kz_ueba *u, int type, const char *s, size_t n, uint32_t h) {
    if (!u->slot_cap) return 0;
    struct name_key k = {u, s, n, h, type};
    uint32_t i = kz_oa_find(u->slot, u->slot_cap, h, name_is, &k, NULL);
    return i == KZ_OA_NONE ? 0 : u->slot[i] - 1;
}

/* Adds (type, s[0..n)) as the next id, indexed unless n == 0 (a placeholder). */
static uint32_t append(struct kz_ueba *u, int type, const char *s, size_t n, uint32_t h) {
    if (u->nstr == 0) u->nstr = 1; /* id 0 means "none" */
    if (u->nstr >= u->o.max_entities) {
        u->over_cap++;
        return 0;
    }
    if ((u->nstr + 1) * 2 > u->slot_cap && grow_slots(u)) return 0;
    if (u->nstr >= u->str_cap && grow_strings(u)) return 0;
    const char *copy = n ? kz_arena_strndup(&u->arena, s, n) : "";
    if (!copy) {
        u->over_cap++;
        return 0;
    }
    uint32_t id = u->nstr++;
    u->str[id] = copy;
    u->hash[id] = h;
    u->type[id] = (uint8_t)type;
    u->ent[id] = 0;
    if (n) kz_oa_insert(u->slot, u->slot_cap, h, id);
    return id;
}

/* The id of (type, s[0..n)), added when absent; 0 when s is empty or a cap or memory ran out. */
static uint32_t intern(struct kz_ueba *u, int type, const char *s, size_t n) {
    if (!s || n == 0) return 0;
    uint32_t h = hash_text(type, s, n);
    uint32_t id = lookup(u, type, s, n, h);
    return id ? id : append(u, type, s, n, h);
}

uint32_t ueba_str_append(struct kz_ueba *u, int type, const char *s, size_t n) {
    uint32_t h = n ? hash_text(type, s, n) : 0;
    if (n && lookup(u, type, s, n, h)) return 0;
    return append(u, type, s, n, h);
}

/* ---- canonical names ---- */

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int is_ip(const char *s) {
    int dots = 0, colons = 0;
    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s == ':')
            colons++;
        else if (!((*s >= '0' && *s <= '9') ||
                   (colons && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))))
            return 0;
    }
    return dots == 3 || colons >= 2;
}

/* Lower case; for host-like names (stop_dot) only the first label, for accounts (stop_at) only
 * what comes before '@'; after the last '\' when skip_domain. */
static size_t canon(char *out, const char *s, int stop_dot, int stop_at, int skip_domain) {
    if (skip_domain) {
        const char *b = strrchr(s, '\\');
        if (b) s = b + 1;
    }
    if (stop_dot && is_ip(s)) stop_dot = 0;
    size_t n = 0;
    for (; *s && n < NAME_MAX_BYTES; s++) {
        if ((stop_dot && *s == '.') || (stop_at && *s == '@')) break;
        out[n++] = lower(*s);
    }
    out[n] = 0;
    return n;
}

static uint32_t intern_canon(struct kz_ueba *u, int type, const char *s) {
    if (!s || !*s) return 0;
    char b[NAME_MAX_BYTES + 1];
    size_t n = canon(b, s, type == T_HOST || type == T_DEVICE, type == T_USER, type == T_USER);
    return intern(u, type, b, n);
}

/* The network of an address: /16 for private IPv4 (VPN pools hand out addresses across it), /24
 * for public IPv4, the first four groups of IPv6. */
static uint32_t intern_net(struct kz_ueba *u, const char *ip) {
    char b[64];
    unsigned a[4];
    if (sscanf(ip, "%3u.%3u.%3u.%3u", &a[0], &a[1], &a[2], &a[3]) == 4) {
        int private_net =
            a[0] == 10 || (a[0] == 172 && a[1] >= 16 && a[1] < 32) || (a[0] == 192 && a[1] == 168);
        int n = private_net ? snprintf(b, sizeof b, "%u.%u.0.0/16", a[0], a[1])
                            : snprintf(b, sizeof b, "%u.%u.%u.0/24", a[0], a[1], a[2]);
        return intern(u, T_NET, b, (size_t)n);
    }
    size_t n = 0;
    int groups = 0;
    for (; ip[n] && n < 40; n++)
        if (ip[n] == ':' && ++groups == 4) break;
    return intern(u, T_NET, ip, n);
}

/* ---- a run's names, canonical once ---- */

/* kz_ueba_run scores records whose strings are the engine's own (interned when kept), and the
 * same few names (an account, its host, a source address) come back in record after record.
 * While it runs, the canonical id of (kind, string) is remembered by the string's address: an
 * interned string never moves or changes while the engine lives, so the address stands for its
 * text. A direct-mapped cache (a collision only recomputes), used only for strings of the records
 * being run (memo_* callers pass a record's fields, never a buffer of their own), and only ids
 * that were found or added are remembered, so each call's effects (ids added, caps counted) are
 * those the first call had. kind: T_USER, T_HOST, T_DEVICE, T_PROC, T_SVC (intern_canon),
 * T_IP (the address as written), T_NET (intern_net). */
struct ueba_memo {
    const char *s;
    uint32_t kind, id;
};

static struct ueba_memo *memo_slot(const struct kz_ueba *u, int kind, const char *s) {
    if (!u->memo) return NULL;
    uint64_t h = ((uint64_t)(uintptr_t)s ^ (uint64_t)kind << 59) * 0x9e3779b97f4a7c15ULL;
    struct ueba_memo *m = &u->memo[(h >> 32) & u->memo_mask];
    return m;
}

static uint32_t memo_intern(struct kz_ueba *u, int kind, const char *s) {
    if (!s) return 0;
    struct ueba_memo *m = memo_slot(u, kind, s);
    if (m && m->s == s && m->kind == (uint32_t)kind) return m->id;
    uint32_t id = kind == T_NET  ? intern_net(u, s)
                  : kind == T_IP ? intern(u, T_IP, s, strnlen(s, 64))
                                 : intern_canon(u, kind, s);
    if (m && id) *m = (struct ueba_memo){s, (uint32_t)kind, id};
    return id;
}

/* ---- learned pairs ---- */

static uint64_t edge_key(int kind, uint32_t a, uint32_t b, uint32_t c) {
    uint64_t k = mix64(((uint64_t)kind << 32) ^ a);
    k = mix64(k ^ ((uint64_t)b << 1));
    k = mix64(k ^ ((uint64_t)c << 2));
    return k ? k : 1;
}

static int grow_edges(struct kz_ueba *u) {
    uint64_t cap = u->edge_cap ? u->edge_cap * 2 : 1 << 14;
    struct ueba_edge_slot *ne = kz_calloc(cap, sizeof *ne);
    if (!ne) return KZ_ENOMEM;
    for (uint64_t i = 0; i < u->edge_cap; i++) {
        if (!u->edges[i].key) continue;
        uint64_t j = u->edges[i].key & (cap - 1);
        while (ne[j].key)
            j = (j + 1) & (cap - 1);
        ne[j] = u->edges[i];
    }
    kz_free(u->edges);
    u->edges = ne;
    u->edge_cap = cap;
    return 0;
}

/* Records (kind, a, b, c) at hour now. Returns 1 when it was never seen, 0 when it was (*prev
 * gets its last hour), -1 when it could not be learned (a cap; counted) and is treated as known. */
static int edge_touch(struct kz_ueba *u, int kind, uint32_t a, uint32_t b, uint32_t c, uint32_t now,
                      uint32_t *prev) {
    uint64_t key = edge_key(kind, a, b, c);
    if (u->edge_cap) {
        for (uint64_t i = key & (u->edge_cap - 1);; i = (i + 1) & (u->edge_cap - 1)) {
            struct ueba_edge_slot *e = &u->edges[i];
            if (!e->key) break;
            if (e->key == key) {
                if (prev) *prev = e->last;
                e->last = now;
                return 0;
            }
        }
    }
    if (u->nedges >= u->o.max_edges || ((u->nedges + 1) * 2 > u->edge_cap && grow_edges(u))) {
        u->over_cap++;
        if (prev) *prev = now;
        return -1;
    }
    uint64_t i = key & (u->edge_cap - 1);
    while (u->edges[i].key)
        i = (i + 1) & (u->edge_cap - 1);
    u->edges[i] = (struct ueba_edge_slot){.key = key, .first = now, .last = now};
    u->nedges++;
    return 1;
}

/* The slot of (kind, a, b, c), or NULL when absent. */
static struct ueba_edge_slot *edge_slot(const struct kz_ueba *u, int kind, uint32_t a, uint32_t b,
                                        uint32_t c) {
    if (!u->edge_cap) return NULL;
    uint64_t key = edge_key(kind, a, b, c);
    for (uint64_t i = key & (u->edge_cap - 1);; i = (i + 1) & (u->edge_cap - 1)) {
        struct ueba_edge_slot *e = &u->edges[i];
        if (!e->key) return NULL;
        if (e->key == key) return e;
    }
}

/* ---- peer groups ---- */

/* The account's peer group (T_GROUP id) from the mapping, 0 none. A state's pairs are not trusted
 * to name a group: anything else is no group. */
static uint32_t peer_group_of(const struct kz_ueba *u, uint32_t account) {
    const struct ueba_edge_slot *e = edge_slot(u, E_PEER_OF, account, 0, 0);
    if (!e || !e->first || e->first >= u->nstr || u->type[e->first] != T_GROUP) return 0;
    return e->first;
}

int kz_ueba_peer(struct kz_ueba *u, const char *account, const char *group) {
    if (!account || !*account || !group || !*group) return KZ_EUSAGE;
    uint32_t uid = intern_canon(u, T_USER, account);
    uint32_t gid = intern(u, T_GROUP, group, strnlen(group, NAME_MAX_BYTES));
    if (!uid || !gid) return KZ_ELIMIT;
    if (edge_touch(u, E_PEER_OF, uid, 0, 0, gid, NULL) < 0) return KZ_ELIMIT;
    struct ueba_edge_slot *e = edge_slot(u, E_PEER_OF, uid, 0, 0);
    if (e) e->first = e->last = gid; /* the last mapping wins */
    if (u->ent[uid]) u->users[u->ent[uid] - 1].group = gid;
    return 0;
}

/* One CSV field from s[0..n) at *pos: plain, or double-quoted with "" for a quote. Writes at most
 * size - 1 bytes to out. Returns 0, or -1 when the line is malformed. */
static int csv_field(const char *s, size_t n, size_t *pos, char *out, size_t size) {
    size_t i = *pos, o = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] == '"') {
        for (i++;; i++) {
            if (i >= n) return -1; /* unclosed quote */
            if (s[i] == '"') {
                if (i + 1 < n && s[i + 1] == '"') {
                    i++;
                } else {
                    i++;
                    break;
                }
            }
            if (o + 1 >= size) return -1;
            out[o++] = s[i];
        }
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < n && s[i] != ',') return -1;
    } else {
        while (i < n && s[i] != ',') {
            if (s[i] == '"' || o + 1 >= size) return -1;
            out[o++] = s[i++];
        }
        while (o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
            o--;
    }
    out[o] = 0;
    *pos = i < n ? i + 1 : i; /* past the comma */
    return 0;
}

#define PEERS_LINE_MAX 4096

int kz_ueba_peers_buffer(struct kz_ueba *u, const char *p, size_t n, const char *name,
                         struct kz_err *err) {
    uint64_t line = 0, accounts = 0;
    size_t at = 0;
    if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) at = 3; /* a spreadsheet's UTF-8 mark */
    while (at < n) {
        const char *nl = memchr(p + at, '\n', n - at);
        size_t len = nl ? (size_t)(nl - (p + at)) : n - at;
        const char *l = p + at;
        at += len + (nl != NULL);
        line++;
        if (len && l[len - 1] == '\r') len--;
        if (len > PEERS_LINE_MAX)
            return kz_err_set(err, KZ_ELIMIT, "%s:%llu: line longer than %d bytes", name,
                              (unsigned long long)line, PEERS_LINE_MAX);
        size_t k = 0;
        while (k < len && (l[k] == ' ' || l[k] == '\t'))
            k++;
        if (k == len || l[k] == '#') continue;
        if (memchr(l, 0, len))
            return kz_err_set(err, KZ_EFORMAT, "%s:%llu: a NUL byte", name,
                              (unsigned long long)line);
        char account[PEERS_LINE_MAX + 1], group[PEERS_LINE_MAX + 1];
        size_t pos = 0;
        if (csv_field(l, len, &pos, account, sizeof account) ||
            csv_field(l, len, &pos, group, sizeof group) || !*account || !*group)
            return kz_err_set(err, KZ_EFORMAT,
                              "%s:%llu: expected `account,group` (a CSV line of two fields)", name,
                              (unsigned long long)line);
        /* a third column is allowed (an export's extra data) and ignored */
        if (line == 1 && (!strcasecmp(account, "user") || !strcasecmp(account, "account")))
            continue; /* the header */
        if (++accounts > KZ_UEBA_MAX_PEERS)
            return kz_err_set(err, KZ_ELIMIT, "%s:%llu: more than %u accounts", name,
                              (unsigned long long)line, KZ_UEBA_MAX_PEERS);
        int rc = kz_ueba_peer(u, account, group);
        if (rc)
            return kz_err_set(err, rc, "%s:%llu: %s", name, (unsigned long long)line,
                              rc == KZ_EUSAGE ? "an empty account or group"
                                              : "over the model's caps or out of memory");
    }
    return 0;
}

int kz_ueba_load_peers(struct kz_ueba *u, const char *path, struct kz_err *err) {
    struct kz_buf b;
    /* at most KZ_UEBA_MAX_PEERS lines of a useful length */
    kz_buf_init(&b, (size_t)1 << 30);
    int rc = kz_buf_read_file(&b, path, "1 GiB", err);
    if (!rc) rc = kz_ueba_peers_buffer(u, b.data ? b.data : "", b.len, path, err);
    kz_buf_free(&b);
    return rc;
}

/* ---- profiles ---- */

static struct ueba_user *user_of(struct kz_ueba *u, uint32_t id, uint16_t day, int after_baseline) {
    if (!id) return NULL;
    if (u->ent[id]) return &u->users[u->ent[id] - 1];
    if (u->nusers == u->users_cap) {
        uint32_t cap = u->users_cap ? u->users_cap * 2 : 256;
        struct ueba_user *nv = kz_realloc(u->users, cap * sizeof *nv);
        if (!nv) return NULL;
        u->users = nv;
        u->users_cap = cap;
    }
    struct ueba_user *p = &u->users[u->nusers++];
    memset(p, 0, sizeof *p);
    p->name = id;
    p->first_day = p->last_day = day;
    p->active_days = 1;
    p->last_hour = UINT32_MAX;
    p->vol_hour = UINT32_MAX;
    p->is_new = (uint8_t)after_baseline;
    p->group = peer_group_of(u, id);
    u->ent[id] = u->nusers;
    return p;
}

/* Case-insensitive glob: '*' any run, '?' one character. */
static int glob_match(const char *p, const char *s) {
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || (*p && lower(*p) == lower(*s))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

static struct ueba_host *host_of(struct kz_ueba *u, const char *name, uint16_t day) {
    uint32_t id = memo_intern(u, T_HOST, name);
    if (!id) return NULL;
    if (u->ent[id]) return &u->hosts[u->ent[id] - 1];
    if (u->nhosts == u->hosts_cap) {
        uint32_t cap = u->hosts_cap ? u->hosts_cap * 2 : 64;
        struct ueba_host *nv = kz_realloc(u->hosts, cap * sizeof *nv);
        if (!nv) return NULL;
        u->hosts = nv;
        u->hosts_cap = cap;
    }
    struct ueba_host *h = &u->hosts[u->nhosts];
    memset(h, 0, sizeof *h);
    h->name = id;
    h->display = kz_arena_strndup(&u->arena, name, strnlen(name, NAME_MAX_BYTES));
    if (!h->display) return NULL;
    h->first_day = h->last_day = day;
    h->active_days = 1;
    for (uint32_t i = 0; i < u->o.ncritical; i++) {
        if (glob_match(u->o.critical[i], name) || glob_match(u->o.critical[i], u->str[id]))
            h->roles |= ROLE_CRITICAL;
    }
    u->ent[id] = ++u->nhosts;
    return h;
}

/* How much an asset is worth protecting: critical (configured) and domain controllers 3,
 * admin-only servers (RDP targets of a handful of accounts, no interactive desktop use) 2.5,
 * file servers 1.5, the rest 1. */
static double criticality(const struct ueba_host *h) {
    if (!h) return 1;
    if (h->roles & (ROLE_CRITICAL | ROLE_DC)) return 3;
    if ((h->roles & ROLE_RDP) && !(h->roles & ROLE_INTERACTIVE) && h->rdp_users <= 10) return 2.5;
    if (h->roles & ROLE_FILESERVER) return 1.5;
    return 1;
}

static const char *role_name(const struct ueba_host *h) {
    if (!h) return "";
    if (h->roles & ROLE_DC) return " (domain controller)";
    if (h->roles & ROLE_CRITICAL) return " (critical asset)";
    if ((h->roles & ROLE_RDP) && !(h->roles & ROLE_INTERACTIVE) && h->rdp_users <= 10)
        return " (admin server)";
    if (h->roles & ROLE_FILESERVER) return " (file server)";
    return "";
}

int kz_ueba_new(struct kz_ueba **out, const struct kz_ueba_opts *o) {
    struct kz_ueba *u = kz_calloc(1, sizeof *u);
    if (!u) return KZ_ENOMEM;
    if (o)
        u->o = *o;
    else
        kz_ueba_opts_default(&u->o);
    if (u->o.threshold <= 0) u->o.threshold = 55;
    if (u->o.half_life_hours <= 0) u->o.half_life_hours = 12;
    if (!u->o.max_entities) u->o.max_entities = 4u << 20;
    if (!u->o.max_edges) u->o.max_edges = 16u << 20;
    if (!u->o.max_records) u->o.max_records = 16u << 20;
    kz_arena_init(&u->arena, 1 << 16, (size_t)1 << 30);
    *out = u;
    return 0;
}

void ueba_release(struct kz_ueba *u) {
    kz_free(u->slot);
    kz_free(u->str);
    kz_free(u->hash);
    kz_free(u->type);
    kz_free(u->ent);
    kz_free(u->users);
    kz_free(u->hosts);
    kz_free(u->anoms);
    kz_free(u->edges);
    kz_free(u->kept);
    kz_free(u->memo);
    kz_arena_free(&u->arena);
}

void kz_ueba_free(struct kz_ueba *u) {
    if (!u) return;
    ueba_release(u);
    kz_free(u);
}

/* ---- reasons as sentences ---- */

static void local_hm(const struct kz_ueba *u, kz_time ts, int *h, int *m) {
    int64_t mins = ts / (60 * KZ_TICKS_PER_SEC) + u->o.tz_offset_min;
    int64_t mod = ((mins % 1440) + 1440) % 1440;
    *h = (int)(mod / 60);
    *m = (int)(mod % 60);
}

static const char *ltype_name(int t) {
    switch (t) {
    case 2:
        return "interactive";
    case 3:
        return "network";
    case 4:
        return "batch";
    case 5:
        return "service";
    case 7:
        return "unlock";
    case 8:
        return "network cleartext";
    case 9:
        return "new credentials";
    case 10:
        return "RDP";
    case 11:
        return "cached interactive";
    default:
        return "other";
    }
}

static const char *name_of(const struct kz_ueba *u, uint32_t id) {
    return id ? u->str[id] : "?";
}

static const char *host_display(const struct kz_ueba *u, uint32_t id) {
    if (id && u->ent[id] && u->type[id] == T_HOST) return u->hosts[u->ent[id] - 1].display;
    return name_of(u, id);
}

/* An account as shown (DOMAIN\\name when its logons said the domain), from its T_USER id. */
static const char *user_display(const struct kz_ueba *u, uint32_t id) {
    if (id && u->ent[id] && u->type[id] == T_USER) {
        const struct ueba_user *p = &u->users[u->ent[id] - 1];
        if (p->display) return u->str[p->display];
    }
    return name_of(u, id);
}

/* " in 94 days (90-day window; last seen 2026-01-03)" for a pair first-seen again in a return
 * window (flags: the window's days, v2: hours since the pair was last seen), else "". */
static void render_return(const struct kz_ueba *u, const struct ueba_reason_rec *r, char *b,
                          size_t size) {
    *b = 0;
    if (!r->flags || r->v2 <= 0) return;
    kz_time last = r->ts - (kz_time)r->v2 * HOUR_TICKS + u->o.tz_offset_min * 60 * KZ_TICKS_PER_SEC;
    int64_t days = last / (24 * HOUR_TICKS) - (last % (24 * HOUR_TICKS) < 0);
    int64_t y;
    unsigned mo, d;
    kz_civil_from_days(days, &y, &mo, &d);
    snprintf(b, size, " in %d days (%d-day window; last seen %04lld-%02u-%02u)", (int)(r->v2 / 24),
             (int)r->flags, (long long)y, mo, d);
}

static void render_reason(const struct kz_ueba *u, const struct ueba_reason_rec *r, char *b,
                          size_t size) {
    int h, m;
    local_hm(u, r->ts, &h, &m);
    char when[32];
    snprintf(when, sizeof when, ", %02d:%02d", h, m);
    const struct ueba_host *hh =
        r->a && u->ent[r->a] && u->type[r->a] == T_HOST ? &u->hosts[u->ent[r->a] - 1] : NULL;
    char again[96] = "";
    if (r->kind >= R_NEW_DEVICE && r->kind <= R_NEW_PROC) render_return(u, r, again, sizeof again);
    switch (r->kind) {
    case R_NEW_DEVICE:
        snprintf(b, size, "first activity from device %s%s%s%s", name_of(u, r->a),
                 r->v1 ? " (never seen in the organisation)" : "", again, when);
        break;
    case R_NEW_NET:
        snprintf(b, size, "first activity from network %s%s%s%s", name_of(u, r->a),
                 r->v1 ? " (new to the organisation)" : "", again, when);
        break;
    case R_NEW_HOST:
        if (r->v1 < 0)
            snprintf(b, size, "first use of explicit credentials towards %s%s%s%s",
                     host_display(u, r->a), role_name(hh), again, when);
        else
            snprintf(b, size, "first %s logon to %s%s%s%s", ltype_name(r->v1),
                     host_display(u, r->a), role_name(hh), again, when);
        break;
    case R_NEW_SHARE:
        snprintf(b, size, "first access to share %s%s%s", name_of(u, r->a), again, when);
        break;
    case R_NEW_PROC:
        snprintf(b, size, "first run of %s on %s%s%s", name_of(u, r->a), host_display(u, r->b),
                 again, when);
        break;
    case R_HOUR:
        if (r->v2 == 0xffff)
            snprintf(b, size, "active at %02d:%02d (never at this hour before)", h, m);
        else
            snprintf(b, size, "active at %02d:%02d (%s at this hour before; usual %02d:00-%02d:59)",
                     h, m, r->flags ? "never" : "rarely", (int)(r->v2 >> 8), (int)(r->v2 & 0xff));
        break;
    case R_LOGON_TYPE:
        snprintf(b, size, "first %s logon (type %d) for the account%s", ltype_name(r->v1),
                 (int)r->v1, when);
        break;
    case R_SPIKE_READS:
        snprintf(b, size, "%d files read in 1 h (usual: %s%d)%s", (int)r->v1, r->v2 ? "up to " : "",
                 (int)r->v2, when);
        break;
    case R_SPIKE_FOLDERS:
        snprintf(b, size, "reads across %d folders (customers) in 1 h (usual: %s%d)%s", (int)r->v1,
                 r->v2 ? "up to " : "", (int)r->v2, when);
        break;
    case R_SPIKE_HOSTS:
        snprintf(b, size, "logons to %d hosts in 1 h (usual: %s%d)%s", (int)r->v1,
                 r->v2 ? "up to " : "", (int)r->v2, when);
        break;
    case R_SPIKE_BYTES:
        snprintf(b, size, "%d MiB moved over remote access in 1 h (usual: %s%d MiB)%s", (int)r->v1,
                 r->v2 ? "up to " : "", (int)r->v2, when);
        break;
    case R_PEER_RARE: {
        static const char *const what[] = {"logged on to", "used share", "read in folder"};
        snprintf(b, size, "nobody of its peer group %s (%d other accounts) %s %s before%s",
                 name_of(u, r->b), (int)r->v1, what[r->flags % 3],
                 r->flags ? name_of(u, r->a) : host_display(u, r->a), when);
        break;
    }
    case R_FAILS:
        snprintf(b, size, "%d failed logons in the hour before a successful one%s", (int)r->v1,
                 when);
        break;
    case R_DORMANT:
        snprintf(b, size, "first activity in %d days (dormant account)%s", (int)r->v1, when);
        break;
    case R_NEW_ACCOUNT:
        snprintf(b, size, "account first seen %d days ago%s%s%s logs on to %s%s%s", (int)r->v1,
                 r->b ? ", created by " : "", r->b ? user_display(u, r->b) : "",
                 r->flags ? ", never logged on interactively," : "", host_display(u, r->a),
                 role_name(hh), when);
        break;
    case R_UNOWNED_READS:
        snprintf(b, size,
                 "account created %d days ago%s%s, never logged on interactively, reads across "
                 "%d folders (customers) of %s in 1 h%s",
                 (int)r->v2, r->a ? " by " : "", r->a ? user_display(u, r->a) : "", (int)r->v1,
                 name_of(u, r->b), when);
        break;
    case R_NEW_SERVICE:
        snprintf(b, size, "service %s installed on %s (new on this host%s)%s", name_of(u, r->a),
                 host_display(u, r->b), r->v1 ? " and in the organisation" : "", when);
        break;
    case R_UNOWNED_WRITES:
        snprintf(b, size,
                 "account created %d days ago%s%s, never logged on interactively, writes files on "
                 "%s%s",
                 (int)r->v2, r->a ? " by " : "", r->a ? user_display(u, r->a) : "",
                 name_of(u, r->b), when);
        break;
    case R_ORG_NEW_PROC:
        snprintf(b, size,
                 "first run of %s anywhere in the organisation, on %s, by an account never "
                 "logged on interactively (a service's account)%s",
                 name_of(u, r->a), host_display(u, r->b), when);
        break;
    case R_TRAVEL: {
        char trip[320];
        kz_geoip_trip_text(trip, sizeof trip, r->flags ? "VPN session" : "logon", name_of(u, r->a),
                           name_of(u, r->b), r->v1, r->v2);
        snprintf(b, size, "%s%s", trip, when);
        break;
    }
    case R_SHARED_DEVICE:
        snprintf(b, size, "device %s was already used by another account%s", name_of(u, r->a),
                 when);
        break;
    case R_CRED_BY_OTHER:
        snprintf(b, size, "its credentials typed in a session of %s on %s (never before)%s",
                 name_of(u, r->a), host_display(u, r->b), when);
        break;
    case R_USER_ON_HOST:
        snprintf(b, size, "anomalous activity of %s here (+%d)%s", name_of(u, r->a), (int)r->v1,
                 when);
        break;
    case R_SIGMA: {
        static const char *const lv[] = {"medium", "high", "critical"};
        int l =
            r->v1 >= KZ_LEVEL_MEDIUM && r->v1 <= KZ_LEVEL_CRITICAL ? r->v1 - KZ_LEVEL_MEDIUM : 0;
        char others[64] = "";
        if (r->v2 > SIGMA_RARE)
            snprintf(others, sizeof others, "; it matched %s%d others before",
                     r->v2 >= SIGMA_COUNT_MAX - 1 ? "at least " : "", (int)r->v2);
        snprintf(b, size, "Sigma rule \"%s\" (%s%s)%s", name_of(u, r->a), lv[l], others, when);
        break;
    }
    case R_PRIV_GROUP:
        snprintf(b, size, "added to %s (privileged group)%s%s%s", name_of(u, r->a),
                 r->b ? " by " : "", r->b ? user_display(u, r->b) : "", when);
        break;
    case R_PRIV_GROUP_BY:
        snprintf(b, size, "added %s to %s (privileged group)%s", user_display(u, r->b),
                 name_of(u, r->a), when);
        break;
    case R_WEEK: {
        static const char *const dn[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
        snprintf(b, size, "active on a %s at %02d:%02d (never on a %s before, in %d active hours)",
                 dn[r->flags % 7], h, m, dn[r->flags % 7], (int)r->v2);
        break;
    }
    default:
        snprintf(b, size, "anomaly %d", r->kind);
    }
}

/* ---- risk and alerts ---- */

static struct ueba_anom *anom_of(struct kz_ueba *u, struct ueba_risk *r) {
    if (r->anom) return &u->anoms[r->anom - 1];
    if (u->nanoms == u->anoms_cap) {
        uint32_t cap = u->anoms_cap ? u->anoms_cap * 2 : 64;
        struct ueba_anom *nv = kz_realloc(u->anoms, cap * sizeof *nv);
        if (!nv) return NULL;
        u->anoms = nv;
        u->anoms_cap = cap;
    }
    memset(&u->anoms[u->nanoms], 0, sizeof *u->anoms);
    r->anom = ++u->nanoms;
    return &u->anoms[r->anom - 1];
}

static double decayed(const struct kz_ueba *u, const struct ueba_risk *r, kz_time now) {
    if (r->risk <= 0) return 0;
    double hours = (double)(now - r->risk_ts) / (double)HOUR_TICKS;
    if (hours <= 0) return r->risk;
    return r->risk * exp2(-hours / u->o.half_life_hours);
}

static int level_of_score(int score) {
    return score >= 95 ? KZ_LEVEL_CRITICAL : score >= 80 ? KZ_LEVEL_HIGH : KZ_LEVEL_MEDIUM;
}

/* The reasons of a ring, newest last, that still weigh (not decayed below 1 point). */
static uint32_t ring_list(const struct kz_ueba *u, const struct ueba_reason_rec *ring, uint8_t n,
                          uint8_t head, kz_time now, const struct ueba_reason_rec **out) {
    uint32_t k = 0;
    for (uint8_t i = 0; i < n; i++) {
        const struct ueba_reason_rec *r = &ring[(head + UEBA_RING - n + i) % UEBA_RING];
        double hours = (double)(now - r->ts) / (double)HOUR_TICKS;
        if (r->points / 10.0 * exp2(-hours / u->o.half_life_hours) < 1) continue;
        out[k++] = r;
    }
    return k;
}

/* Adds points to an entity, remembers why, and raises an alert when its risk crosses the
 * threshold (again: after falling below half of it, or 20 points above its last alert). */
static void add_risk(struct kz_ueba *u, struct ueba_risk *r, const struct ueba_reason_rec *why,
                     double points, int is_host, const char *entity, const struct kz_ueba_act *a,
                     const char *user_text, kz_ueba_alert_fn fn, void *ctx) {
    double before = decayed(u, r, why->ts);
    double now_risk = before + points;
    if (now_risk > 150) now_risk = 150; /* beyond this more evidence changes nothing */
    if (r->alert_risk > 0 && before < u->o.threshold / 2) r->alert_risk = 0; /* episode over */
    r->risk = (float)now_risk;
    r->risk_ts = why->ts;
    struct ueba_anom *an = anom_of(u, r);
    if (an) {
        struct ueba_reason_rec rec = *why;
        rec.points = (uint16_t)(points * 10 > 65535 ? 65535 : points * 10);
        an->ring[an->head] = rec;
        an->head = (uint8_t)((an->head + 1) % UEBA_RING);
        if (an->n < UEBA_RING) an->n++;
    }
    if (now_risk > r->peak) {
        r->peak = (float)now_risk;
        r->peak_ts = why->ts;
        if (an) {
            memcpy(an->peak, an->ring, sizeof an->peak);
            an->npeak = an->n;
            /* peak ring is stored unrolled: oldest first */
            for (uint8_t i = 0; i < an->n; i++)
                an->peak[i] = an->ring[(an->head + UEBA_RING - an->n + i) % UEBA_RING];
        }
    }
    if (now_risk < u->o.threshold) return;
    int score = now_risk >= 100 ? 100 : (int)lround(now_risk);
    /* one alert per episode, and one more each time its level rises */
    if (r->alert_risk > 0 &&
        level_of_score(score) <=
            level_of_score(r->alert_risk >= 100 ? 100 : (int)lround(r->alert_risk)))
        return;
    r->alert_risk = (float)now_risk;
    r->alerts++;
    u->alerts++;
    if (!fn) return;
    const struct ueba_reason_rec *list[UEBA_RING];
    uint32_t nl = an ? ring_list(u, an->ring, an->n, an->head, why->ts, list) : 0;
    /* reasons[0]: the one line a person acts on; then one sentence per reason */
    size_t o = (size_t)snprintf(u->text[0], sizeof u->text[0], "%s: risk %d:", entity, score);
    for (uint32_t i = 0; i < nl; i++) {
        render_reason(u, list[i], u->text[i + 1], sizeof u->text[i + 1]);
        u->reasons[i + 1] = u->text[i + 1];
        if (o < sizeof u->text[0])
            o += (size_t)snprintf(u->text[0] + o, sizeof u->text[0] - o, "%s %s", i ? ";" : "",
                                  u->text[i + 1]);
        u->refs[i] = (struct kz_ueba_ref){list[i]->ts, list[i]->file_id, list[i]->record_id};
    }
    u->reasons[0] = u->text[0];
    struct kz_ueba_alert al = {
        .ts = why->ts,
        .is_host = is_host,
        .entity = entity,
        .user = user_text,
        .host = a->host,
        .src_ip = a->src_ip,
        .score = score,
        .level = level_of_score(score),
        .nreasons = nl + 1,
        .reasons = u->reasons,
        .file_id = why->file_id,
        .record_id = why->record_id,
        .nrefs = nl,
        .refs = u->refs,
    };
    fn(ctx, &al);
}

/* ---- features ---- */

static void pend(struct kz_ueba *u, const struct kz_ueba_act *a, int kind, uint32_t ra, uint32_t rb,
                 int32_t v1, int32_t v2, double points, uint32_t host) {
    if (u->npend >= MAX_PENDING || points <= 0) return;
    struct pending *p = &u->pend[u->npend++];
    memset(p, 0, sizeof *p);
    p->r.ts = a->ts;
    p->r.record_id = a->record_id;
    p->r.file_id = a->file_id;
    p->r.kind = (uint8_t)kind;
    p->r.a = ra;
    p->r.b = rb;
    p->r.v1 = v1;
    p->r.v2 = v2;
    p->r.host = host;
    p->points = points;
}

static int log2_bucket(uint32_t v) {
    int b = 0;
    while (v > 1 && b < UEBA_VOL_BUCKETS - 1) {
        v >>= 1;
        b++;
    }
    return b;
}

/* The 95th percentile of a user's past active hours for metric m, as the upper end of its
 * bucket; 0 when there is too little history. */
static uint32_t vol_p95(const struct ueba_user *p, int m, uint32_t *total_out) {
    uint32_t total = 0;
    for (int b = 0; b < UEBA_VOL_BUCKETS; b++)
        total += p->hist[m][b];
    *total_out = total;
    if (total < VOL_HISTORY) return 0;
    uint32_t acc = 0;
    for (int b = 0; b < UEBA_VOL_BUCKETS; b++) {
        acc += p->hist[m][b];
        if (acc * 100 >= total * 95) return (2u << b) - 1;
    }
    return UINT32_MAX;
}

/* Closes the user's volume hour when hour moved on: its values join the history. */
static void vol_roll(struct ueba_user *p, uint32_t hour) {
    if (p->vol_hour == hour) return;
    if (p->vol_hour != UINT32_MAX)
        for (int m = 0; m < NVOL; m++)
            if (p->vol[m]) {
                uint16_t *h = &p->hist[m][log2_bucket(p->vol[m])];
                if (*h == UINT16_MAX)
                    for (int b = 0; b < UEBA_VOL_BUCKETS; b++)
                        p->hist[m][b] /= 2;
                (*h)++;
            }
    memset(p->vol, 0, sizeof p->vol);
    p->vol_bytes = 0;
    p->spiked = 0;
    p->vol_hour = hour;
}

/* Judges metric m's value this hour against the user's history (once an hour per metric). */
static void vol_judge(struct kz_ueba *u, struct ueba_user *p, const struct kz_ueba_act *a, int m,
                      int scoring, uint32_t host) {
    if (!scoring || (p->spiked >> m & 1)) return;
    uint32_t total, p95 = vol_p95(p, m, &total);
    if (total < VOL_HISTORY && total > 0) return; /* some history, not enough to judge */
    uint64_t bound = (uint64_t)p95 * (uint64_t)vol_factor[m];
    if (bound < (uint64_t)vol_floor[m]) bound = (uint64_t)vol_floor[m];
    if (p->vol[m] <= bound) return;
    p->spiked |= (uint8_t)(1 << m);
    double pts = P_SPIKE + 5 * log2((double)p->vol[m] / (double)bound);
    if (pts > P_SPIKE_MAX) pts = P_SPIKE_MAX;
    pend(u, a, R_SPIKE_READS + m, 0, 0, p->vol[m], (int32_t)p95, pts, host);
}

static void vol_add(struct kz_ueba *u, struct ueba_user *p, const struct kz_ueba_act *a, int m,
                    int scoring, uint32_t host) {
    if (p->vol[m] < UINT16_MAX) p->vol[m]++;
    vol_judge(u, p, a, m, scoring, host);
}

/* Bytes moved: the hour's sum, judged in MiB (rounded up: any traffic is at least 1) against the
 * user's past hours with traffic, like the counts (a log2 histogram, a multiple of its p95). */
static void vol_add_bytes(struct kz_ueba *u, struct ueba_user *p, const struct kz_ueba_act *a,
                          int scoring, uint32_t host) {
    if (a->bytes <= 0) return;
    uint64_t add = (uint64_t)a->bytes;
    p->vol_bytes = add > UINT64_MAX - p->vol_bytes ? UINT64_MAX : p->vol_bytes + add;
    uint64_t mib = p->vol_bytes / (1u << 20) + (p->vol_bytes % (1u << 20) != 0);
    p->vol[VOL_BYTES] = (uint16_t)(mib > UINT16_MAX ? UINT16_MAX : mib);
    vol_judge(u, p, a, VOL_BYTES, scoring, host);
}

/* The usual hours of a histogram: the complement of its longest run of near-empty hours. */
static int usual_hours(const uint16_t *hours, uint32_t total) {
    int best_len = 0, best_start = 0;
    for (int s = 0; s < 24; s++) {
        int len = 0;
        while (len < 24 && hours[(s + len) % 24] * 100u <= total) /* <= 1% */
            len++;
        if (len > best_len) best_len = len, best_start = s;
    }
    if (best_len == 0 || best_len == 24) return 0x0017; /* 00-23 */
    int start = (best_start + best_len) % 24, end = (best_start + 23) % 24;
    return start << 8 | end;
}

static void feature_hour(struct kz_ueba *u, struct ueba_user *p, const struct kz_ueba_act *a,
                         uint32_t hour, uint32_t host) {
    if (p->last_hour == hour) return; /* judged once per hour */
    uint32_t total = 0;
    for (int i = 0; i < 24; i++)
        total += p->hours[i];
    if (total < HOUR_HISTORY) return;
    int h = (int)(hour % 24);
    uint32_t near = p->hours[(h + 23) % 24] + p->hours[h] + p->hours[(h + 1) % 24];
    int never = near == 0;
    if (!never && near * 100 >= total * 2) return;
    int usual = usual_hours(p->hours, total);
    /* usual_hours works in UTC; shift to the display zone */
    int shift = (int)((u->o.tz_offset_min / 60 % 24 + 24) % 24);
    int us = ((usual >> 8) + shift) % 24, ue = ((usual & 0xff) + shift) % 24;
    int hh, mm;
    local_hm(u, a->ts, &hh, &mm);
    pend(u, a, R_HOUR, 0, 0, hh * 60 + mm, us << 8 | ue, never ? P_HOUR_NEVER : P_HOUR_RARE, host);
    u->pend[u->npend - 1].r.flags = (uint8_t)never;
}

static void learn_hour(struct ueba_user *p, uint32_t hour) {
    if (p->last_hour == hour) return;
    uint16_t *c = &p->hours[hour % 24];
    if (*c == UINT16_MAX)
        for (int i = 0; i < 24; i++)
            p->hours[i] /= 2;
    (*c)++;
    p->last_hour = hour;
}

/* The hour of the week of ts (UTC): 0 is Sunday 00:00-00:59, 167 Saturday 23:00-23:59. */
static int week_hour(kz_time ts) {
    int64_t hours = ts / HOUR_TICKS - (ts % HOUR_TICKS < 0);
    int64_t days = hours >= 0 ? hours / 24 : (hours - 23) / 24;
    int dow = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    return dow * 24 + (int)(((hours % 24) + 24) % 24);
}

/* Whether the account was ever active in the 24 hours of the week from hour s. */
static int week_any(const struct ueba_user *p, int s) {
    for (int i = 0; i < 24; i++) {
        int w = (s + i) % 168;
        if (p->week[w / 8] >> (w % 8) & 1) return 1;
    }
    return 0;
}

/* Rare day of the week: the account's working day around this activity (24 hours from the middle
 * of its quiet hours, so that a working day in any time zone is one day: a Tokyo Monday starts on
 * Sunday evening UTC) was never active before, while at least 4 of the 6 other days of the week
 * were; judged once it has WEEK_HISTORY active hours over WEEK_DAYS days and some quiet hours
 * (an account active around the clock has no working day). The day named is the one in the
 * middle of that window. */
static void feature_week(struct kz_ueba *u, struct ueba_user *p, const struct kz_ueba_act *a,
                         uint32_t hour, uint32_t host) {
    if (p->last_hour == hour || hour / 24 < p->first_day + (uint32_t)WEEK_DAYS) return;
    uint32_t total = 0;
    for (int i = 0; i < 24; i++)
        total += p->hours[i];
    if (total < WEEK_HISTORY) return;
    int usual = usual_hours(p->hours, total);
    if (usual == 0x0017) return;
    int start = usual >> 8, end = usual & 0xff;
    int quiet = (start - end - 1 + 24) % 24; /* hours in the quiet run end+1 .. start-1 */
    int q = (end + 1 + quiet / 2) % 24;
    int w = week_hour(a->ts);
    int s = (w - ((w % 24 - q + 24) % 24) + 168) % 168; /* the window's first hour */
    if (week_any(p, s)) return;
    int days_used = 0;
    for (int k = 1; k < 7; k++)
        days_used += week_any(p, (s + 24 * k) % 168);
    if (days_used < 4) return;
    int hh, mm;
    local_hm(u, a->ts, &hh, &mm);
    pend(u, a, R_WEEK, 0, 0, hh * 60 + mm, (int32_t)(total > 65535 ? 65535 : total), P_WEEK, host);
    u->pend[u->npend - 1].r.flags = (uint8_t)(((s + 12) % 168) / 24);
}

static void learn_week(struct ueba_user *p, kz_time ts) {
    int w = week_hour(ts);
    p->week[w / 8] |= (uint8_t)(1u << (w % 8));
}

/* Peer rarity: the account reached thing (a host, share or folder: kind E_GROUP_*) for the first
 * time (user_new == 1); when nobody of its peer group reached it before either, and the group has
 * at least PEER_MIN_OTHERS other active accounts, that is a reason. Only an account's first time
 * teaches the group (every member's reach starts with one), so the common case costs nothing.
 * flags: 0 host, 1 share, 2 folder. */
static void feature_peer(struct kz_ueba *u, const struct ueba_user *p, uint32_t uid,
                         const struct kz_ueba_act *a, int kind, uint32_t thing, int user_new,
                         int scoring, uint32_t hour, double points, int flags, uint32_t host) {
    uint32_t g = p->group;
    if (!g || user_new != 1 || !thing) return;
    /* the account is one of the group's active members from its first reach */
    if (edge_touch(u, E_GROUP_MEMBER, g, uid, 0, hour, NULL) == 1) {
        int isnew = edge_touch(u, E_GROUP_SIZE, g, 0, 0, hour, NULL);
        struct ueba_edge_slot *e = edge_slot(u, E_GROUP_SIZE, g, 0, 0);
        if (e) {
            if (isnew == 1) e->first = 0;
            if (e->first < UINT32_MAX) e->first++;
        }
    }
    if (edge_touch(u, kind, g, thing, 0, hour, NULL) != 1 || !scoring) return;
    const struct ueba_edge_slot *e = edge_slot(u, E_GROUP_SIZE, g, 0, 0);
    uint32_t others = e && e->first ? e->first - 1 : 0;
    if (others < PEER_MIN_OTHERS) return;
    uint32_t n0 = u->npend;
    pend(u, a, R_PEER_RARE, thing, g, (int32_t)(others > INT32_MAX ? INT32_MAX : others), 0, points,
         host);
    if (u->npend > n0) u->pend[n0].r.flags = (uint8_t)flags;
}

/* Whether a pair last seen at hour prev, seen again at hour now, reached the shortest return
 * window. */
static int return_due(uint32_t prev, uint32_t now) {
    size_t shortest = sizeof return_windows / sizeof return_windows[0] - 1;
    return now > prev && now - prev >= return_windows[shortest].days * 24u;
}

/* A pair last seen at hour prev, seen again at hour now: when the gap reaches a return window,
 * the reason kind with the first sighting's points (full) graded by the window (v1, ra, rb as for
 * the first sighting; see return_windows). */
static void pend_return(struct kz_ueba *u, const struct kz_ueba_act *a, int kind, uint32_t ra,
                        uint32_t rb, int32_t v1, double full, uint32_t prev, uint32_t now,
                        uint32_t host) {
    if (now <= prev) return;
    uint32_t gap = now - prev;
    for (size_t i = 0; i < sizeof return_windows / sizeof return_windows[0]; i++) {
        if (gap < return_windows[i].days * 24u) continue;
        uint32_t n0 = u->npend;
        pend(u, a, kind, ra, rb, v1, gap > INT32_MAX ? INT32_MAX : (int32_t)gap,
             full * return_windows[i].share, host);
        if (u->npend > n0) u->pend[n0].r.flags = (uint8_t)return_windows[i].days;
        return;
    }
}

/* The pending reasons' points: the account's risk (family caps; access and volume at half
 * without strong doubt that day), and half of them to the host where each happened when the
 * account is alerting. host_gated: that host is still learning. */
static void apply_points(struct kz_ueba *u, struct ueba_user *p, uint32_t uid,
                         const struct kz_ueba_act *a, uint16_t day, uint32_t hour, int host_gated,
                         kz_ueba_alert_fn fn, void *ctx) {
    if (!u->npend) return;
    const char *entity = u->str[p->display ? p->display : uid];
    for (uint32_t j = 0; j < u->npend; j++)
        if (is_strong_doubt(u->pend[j].r.kind, u->pend[j].r.flags))
            p->doubt_day = (uint16_t)(day + 1);
    if (p->fam_hour == 0 || hour + 1 - p->fam_hour >= 24) {
        memset(p->fam_pts, 0, sizeof p->fam_pts);
        p->fam_hour = hour + 1;
    }
    for (uint32_t i = 0; i < u->npend; i++) {
        struct pending *pd = &u->pend[i];
        int fam = family_of(pd->r.kind, pd->r.flags);
        int doubt = p->doubt_day == day + 1;
        if (!doubt && (fam == FAM_ACCESS || fam == FAM_VOLUME)) pd->points /= 2;
        if (!doubt && fam == FAM_PEER) continue; /* corroboration only (FAM_PEER) */
        double room = fam_cap[fam] - p->fam_pts[fam];
        if (pd->points > room) pd->points = room;
        if (pd->points < 0.5) continue;
        p->fam_pts[fam] = (uint8_t)(p->fam_pts[fam] + lround(pd->points));
        add_risk(u, &p->r, &pd->r, pd->points, 0, entity, a, entity, fn, ctx);
        struct ueba_host *hh =
            pd->r.host && u->ent[pd->r.host] ? &u->hosts[u->ent[pd->r.host] - 1] : NULL;
        /* A host's risk grows with the anomalies of accounts that are themselves alerting (several
         * suspicious accounts on one host), and with its own (services). */
        if (hh && !host_gated && p->r.alert_risk > 0) {
            struct ueba_reason_rec hr = pd->r;
            hr.kind = R_USER_ON_HOST;
            hr.a = p->display ? p->display : uid;
            hr.v1 = (int32_t)lround(pd->points / 2);
            add_risk(u, &hh->r, &hr, pd->points / 2, 1, hh->display, a, entity, fn, ctx);
        }
    }
}

/* The account's name as shown: DOMAIN\\name once a record gave its NetBIOS domain (a DNS
 * domain, with dots, is not used), else the name as first written. */
static void set_display(struct kz_ueba *u, struct ueba_user *p, const char *user,
                        const char *domain) {
    int netbios = domain && *domain && !strchr(domain, '.');
    if (p->display && !(netbios && !strchr(u->str[p->display], '\\'))) return;
    char b[2 * NAME_MAX_BYTES + 2];
    /* keep the account's own spelling for display */
    const char *bare = strrchr(user, '\\') ? strrchr(user, '\\') + 1 : user;
    int n = netbios ? snprintf(b, sizeof b, "%.255s\\%.255s", domain, bare)
                    : snprintf(b, sizeof b, "%.255s", bare);
    uint32_t d = intern(u, T_TEXT, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
    if (d) p->display = d;
}

static uint32_t intern_sid(struct kz_ueba *u, const char *sid) {
    char b[NAME_MAX_BYTES + 1];
    size_t n = 0;
    for (; sid[n] && n < 184; n++) /* a SID holds at most 15 sub-authorities */
        b[n] = sid[n] >= 'a' && sid[n] <= 'z' ? (char)(sid[n] - 32) : sid[n];
    return intern(u, T_SID, b, n);
}

/* Remembers that sid is p's (the first profile to claim a SID keeps it), so that group changes,
 * which name the member by SID and display name only, find the account. */
static void learn_sid(struct kz_ueba *u, struct ueba_user *p, const char *sid) {
    if (p->sid || (strncmp(sid, "S-1-", 4) && strncmp(sid, "s-1-", 4))) return;
    uint32_t id = intern_sid(u, sid);
    if (!id || u->ent[id]) return;
    u->ent[id] = (uint32_t)(p - u->users) + 1;
    p->sid = id;
}

/* The CN of a DN ("CN=Kato\\, Jr,OU=..." -> "Kato, Jr"), or s itself when it is not a DN. */
static void member_cn(const char *s, char *out) {
    size_t n = 0;
    if ((s[0] == 'C' || s[0] == 'c') && (s[1] == 'N' || s[1] == 'n') && s[2] == '=') {
        for (s += 3; *s && *s != ',' && n < NAME_MAX_BYTES; s++) {
            if (*s == '\\' && s[1]) s++;
            out[n++] = *s;
        }
    } else {
        for (; *s && n < NAME_MAX_BYTES; s++)
            out[n++] = *s;
    }
    out[n] = 0;
}

/* Groups whose members administer the domain or its machines: by the group SID's relative id
 * when the event gives it (Domain Admins 512, Schema Admins 518, Enterprise Admins 519,
 * Administrators 544, Account Operators 548, Server Operators 549, Backup Operators 551), else by
 * the well-known English name. */
static int privileged_group(const char *name, const char *sid) {
    static const char *const names[] = {"Domain Admins",   "Schema Admins",     "Enterprise Admins",
                                        "Administrators",  "Account Operators", "Server Operators",
                                        "Backup Operators"};
    const char *d = sid ? strrchr(sid, '-') : NULL;
    if (d && d[1]) {
        char *end;
        long rid = strtol(d + 1, &end, 10);
        if (*end) return 0;
        return rid == 512 || rid == 518 || rid == 519 || rid == 544 || rid == 548 || rid == 549 ||
               rid == 551;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *a = name, *b = names[i];
        while (*a && *b && lower(*a) == lower(*b))
            a++, b++;
        if (!*a && !*b) return 1;
    }
    return 0;
}

/* Whether an edge exists (without learning it). */
static int edge_find(const struct kz_ueba *u, int kind, uint32_t a, uint32_t b, uint32_t c) {
    if (!u->edge_cap) return 0;
    uint64_t key = edge_key(kind, a, b, c);
    for (uint64_t i = key & (u->edge_cap - 1);; i = (i + 1) & (u->edge_cap - 1)) {
        if (!u->edges[i].key) return 0;
        if (u->edges[i].key == key) return 1;
    }
}

/* A Sigma finding (FAM_SIGMA): on the account that acted, or on the host when no account did. */
static void score_sigma(struct kz_ueba *u, const struct kz_ueba_act *a, uint32_t host_id,
                        uint16_t day, uint32_t hour, int after_baseline, int host_gated,
                        kz_ueba_alert_fn fn, void *ctx) {
    static const int level_pts[] = {P_SIGMA_MEDIUM, P_SIGMA_HIGH, P_SIGMA_CRITICAL};
    int level = a->access;
    if (level < KZ_LEVEL_MEDIUM || level > KZ_LEVEL_CRITICAL || !a->object || !a->folder) return;
    uint32_t rule = intern(u, T_RULE, a->folder, strnlen(a->folder, NAME_MAX_BYTES));
    uint32_t title = intern(u, T_TEXT, a->object, strnlen(a->object, NAME_MAX_BYTES));
    if (!rule || !title) return;
    struct ueba_user *p = NULL;
    uint32_t uid = 0;
    if (a->user && *a->user) {
        uid = memo_intern(u, T_USER, a->user);
        if (!(p = user_of(u, uid, day, after_baseline))) return;
        set_display(u, p, a->user, a->domain);
    }
    uint32_t ent = p ? uid : host_id;
    /* once a day per rule and entity: a web shell's twenty commands are one piece of evidence */
    if (edge_touch(u, E_SIGMA_DAY, rule, ent, day, hour, NULL) != 1) return;
    int isnew = edge_touch(u, E_SIGMA_ENT, rule, ent, 0, hour, NULL) == 1;
    uint32_t n = 0; /* distinct entities the rule matched, this one included */
    while (n < SIGMA_COUNT_MAX && edge_find(u, E_SIGMA_NTH, rule, n + 1, 0))
        n++;
    if (isnew && n < SIGMA_COUNT_MAX && edge_touch(u, E_SIGMA_NTH, rule, n + 1, 0, hour, NULL) == 1)
        n++;
    uint32_t others = n ? n - 1 : 0;
    double pts = level_pts[level - KZ_LEVEL_MEDIUM];
    if (others > SIGMA_RARE) pts = pts * SIGMA_RARE / others;
    pend(u, a, R_SIGMA, title, rule, level, (int32_t)others, pts, host_id);
    if (!u->npend) return;
    u->pend[0].r.flags = (uint8_t)(level >= KZ_LEVEL_HIGH && others <= SIGMA_RARE);
    if (p) {
        apply_points(u, p, uid, a, day, hour, host_gated, fn, ctx);
        return;
    }
    struct ueba_host *h = &u->hosts[u->ent[host_id] - 1];
    if (h->sig_hour == 0 || hour + 1 - h->sig_hour >= 24) {
        h->sig_hour = hour + 1;
        h->sig_pts = 0;
    }
    if (pts > fam_cap[FAM_SIGMA] - h->sig_pts) pts = fam_cap[FAM_SIGMA] - h->sig_pts;
    if (pts < 0.5) return;
    h->sig_pts = (uint8_t)(h->sig_pts + lround(pts));
    add_risk(u, &h->r, &u->pend[0].r, pts, 1, h->display, a, NULL, fn, ctx);
}

/* A member added to a security group (4728/4732/4756): the member found by SID (else by the CN of
 * its DN); to a privileged group, a reason on the member and one on the account that added it
 * (FAM_PRIV). */
static void score_group(struct kz_ueba *u, const struct kz_ueba_act *a, uint32_t host_id,
                        uint16_t day, uint32_t hour, int after_baseline, int host_gated,
                        kz_ueba_alert_fn fn, void *ctx) {
    if (!a->folder || !a->user) return;
    uint32_t sid = a->sid ? intern_sid(u, a->sid) : 0;
    uint32_t uid;
    if (sid && u->ent[sid]) {
        uid = u->users[u->ent[sid] - 1].name;
    } else {
        char cn[NAME_MAX_BYTES + 1];
        member_cn(a->user, cn);
        uid = intern_canon(u, T_USER, cn);
        struct ueba_user *p = user_of(u, uid, day, after_baseline);
        if (!p) return;
        if (!p->display) set_display(u, p, cn, NULL);
        if (sid && !p->sid) {
            u->ent[sid] = (uint32_t)(p - u->users) + 1;
            p->sid = sid;
        }
    }
    if (!privileged_group(a->folder, a->target)) return;
    uint32_t grp = intern(u, T_TEXT, a->folder, strnlen(a->folder, NAME_MAX_BYTES));
    uint32_t by = a->object ? memo_intern(u, T_USER, a->object) : 0;
    if (by == uid) by = 0;
    if (by) {
        struct ueba_user *q = user_of(u, by, day, after_baseline);
        if (q)
            set_display(u, q, a->object, a->domain);
        else
            by = 0;
    }
    pend(u, a, R_PRIV_GROUP, grp, by, 0, 0, P_PRIV_GROUP, host_id);
    apply_points(u, &u->users[u->ent[uid] - 1], uid, a, day, hour, host_gated, fn, ctx);
    if (!by) return;
    u->npend = 0;
    pend(u, a, R_PRIV_GROUP_BY, grp, uid, 0, 0, P_PRIV_GROUP_BY, host_id);
    apply_points(u, &u->users[u->ent[by] - 1], by, a, day, hour, host_gated, fn, ctx);
}

/* Evidence about an entity that is not its own activity (a Sigma finding, a group change): judged
 * whatever the baseline and learning gates (see FAM_SIGMA, FAM_PRIV); the host's profile is
 * found, not counted as active. */
static void score_evidence(struct kz_ueba *u, const struct kz_ueba_act *a, uint16_t day,
                           uint32_t hour, int after_baseline, kz_ueba_alert_fn fn, void *ctx) {
    struct ueba_host *host = host_of(u, a->host, day);
    if (!host) return;
    int host_gated = !after_baseline || host->active_days < u->o.min_days;
    if (a->kind == KZ_UEBA_SIGMA)
        score_sigma(u, a, host->name, day, hour, after_baseline, host_gated, fn, ctx);
    else
        score_group(u, a, host->name, day, hour, after_baseline, host_gated, fn, ctx);
}

static void score_record(struct kz_ueba *u, const struct kz_ueba_act *a, kz_ueba_alert_fn fn,
                         void *ctx) {
    if (!u->started) {
        u->started = 1;
        u->t0 = a->ts - (((a->ts % (24 * HOUR_TICKS)) + 24 * HOUR_TICKS) % (24 * HOUR_TICKS));
    }
    kz_time ts = a->ts < u->last_ts ? u->last_ts : a->ts;
    u->last_ts = ts;
    int64_t hours64 = (ts - u->t0) / HOUR_TICKS;
    uint32_t hour = hours64 < 0 ? 0 : hours64 > 0xffffff00 ? 0xffffff00 : (uint32_t)hours64;
    uint16_t day = (uint16_t)(hour / 24 > 65535 ? 65535 : hour / 24);
    int after_baseline = day >= u->o.baseline_days;
    u->records++;
    u->npend = 0;
    if (a->kind == KZ_UEBA_SIGMA || a->kind == KZ_UEBA_GROUP) {
        score_evidence(u, a, day, hour, after_baseline, fn, ctx);
        return;
    }

    /* where */
    struct ueba_host *host = host_of(u, a->host, day);
    if (!host) return;
    uint32_t host_id = host->name;
    if (host->last_day != day) host->last_day = day, host->active_days++;
    host->events++;
    if (a->kind == KZ_UEBA_AUTH) host->roles |= ROLE_DC;
    if (a->kind == KZ_UEBA_SHARE || (a->kind == KZ_UEBA_FILE && a->object))
        host->roles |= ROLE_FILESERVER;
    if (a->kind == KZ_UEBA_LOGON && a->outcome == 1 &&
        (a->logon_type == 2 || a->logon_type == 7 || a->logon_type == 11))
        host->roles |= ROLE_INTERACTIVE;
    int host_gated = !after_baseline || host->active_days < u->o.min_days;

    /* host-only activity: services */
    if (a->kind == KZ_UEBA_SERVICE) {
        uint32_t svc = memo_intern(u, T_SVC, a->object);
        if (!svc) return;
        int new_here = edge_touch(u, E_HOST_SVC, host_id, svc, 0, hour, NULL) == 1;
        int org_new = edge_touch(u, E_ORG_SVC, svc, 0, 0, hour, NULL) == 1;
        if (new_here && !host_gated) {
            double pts = (P_NEW_SERVICE + (org_new ? P_ORG_NEW_SERVICE : 0)) * criticality(host);
            /* a maintenance day installs several services: at most HOST_SERVICE_CAP points of
             * them per host in 24 hours */
            if (host->svc_hour == 0 || hour + 1 - host->svc_hour >= 24) {
                host->svc_hour = hour + 1;
                host->svc_pts = 0;
            }
            if (pts > HOST_SERVICE_CAP - host->svc_pts) pts = HOST_SERVICE_CAP - host->svc_pts;
            if (pts < 0.5) return;
            host->svc_pts = (uint8_t)(host->svc_pts + lround(pts));
            pend(u, a, R_NEW_SERVICE, svc, host_id, org_new, 0, pts, host_id);
            add_risk(u, &host->r, &u->pend[0].r, pts, 1, host->display, a, NULL, fn, ctx);
        }
        return;
    }

    /* who */
    uint32_t uid = memo_intern(u, T_USER, a->user);
    struct ueba_user *p = user_of(u, uid, day, after_baseline);
    if (!p) return;
    set_display(u, p, a->user, a->domain);
    /* the SID of the account itself: a logon's TargetUserSid, a creation's TargetSid (other
     * records' SID may be the subject's) */
    if (a->sid && (a->kind == KZ_UEBA_LOGON || a->kind == KZ_UEBA_ACCOUNT)) learn_sid(u, p, a->sid);
    if (a->kind == KZ_UEBA_ACCOUNT) {
        p->creator = memo_intern(u, T_USER, a->object);
        /* its creation seen before any activity: new, whether or not in the baseline */
        if (p->events == 0) p->is_new = 1;
        return;
    }
    int new_day = p->last_day != day;
    int32_t dormant = new_day ? (int32_t)day - (int32_t)p->last_day : 0;
    if (new_day) p->last_day = day, p->active_days++;
    p->events++;
    int gated = p->active_days < u->o.min_days || p->events < u->o.min_events;
    int scoring = after_baseline && !gated;
    /* A new account (first seen after the baseline) is judged before its own gate on one thing:
     * reaching a critical asset. */
    int new_account_watch = after_baseline && gated && p->is_new;
    /* An account created in the stream that never had a person's session (judged on the past,
     * before this record is learned): see FAM_UNOWNED. */
    int person = p->ltypes[2] || p->ltypes[7] || p->ltypes[10] || p->ltypes[11];
    int unowned = after_baseline && p->is_new && p->creator && !person &&
                  day - p->first_day <= NEW_ACCOUNT_DAYS;
    vol_roll(p, hour);
    double crit = criticality(host);

    if (scoring && dormant >= DORMANT_DAYS)
        pend(u, a, R_DORMANT, 0, 0, dormant, 0, P_DORMANT, host_id);
    int hour_kind = a->kind == KZ_UEBA_LOGON || a->kind == KZ_UEBA_EXPLICIT ||
                    a->kind == KZ_UEBA_SHARE || a->kind == KZ_UEBA_FILE ||
                    a->kind == KZ_UEBA_PROCESS || a->kind == KZ_UEBA_VPN;
    if (hour_kind) {
        if (scoring) feature_hour(u, p, a, hour, host_id);
        if (scoring) feature_week(u, p, a, hour, host_id);
        /* hours of an alerting episode are not learned: the intruder's night must stay rare */
        if (p->r.alert_risk > 0)
            p->last_hour = hour;
        else if (p->last_hour != hour) {
            learn_week(p, a->ts);
            learn_hour(p, hour);
        }
    }

    /* from where: address, network, device */
    /* (Kerberos requests are left out: their address is often a server acting for the user.) */
    if (a->src_ip &&
        (a->kind == KZ_UEBA_LOGON || a->kind == KZ_UEBA_VPN || a->kind == KZ_UEBA_SHARE)) {
        uint32_t ip = memo_intern(u, T_IP, a->src_ip);
        uint32_t net = memo_intern(u, T_NET, a->src_ip);
        if (ip) edge_touch(u, E_USER_IP, uid, ip, 0, hour, NULL);
        if (net) {
            uint32_t prev = hour;
            int isnew = edge_touch(u, E_USER_NET, uid, net, 0, hour, &prev);
            int org_new = edge_touch(u, E_ORG_NET, net, 0, 0, hour, NULL) == 1;
            if (scoring && isnew == 1)
                pend(u, a, R_NEW_NET, net, 0, org_new, 0, P_NEW_NET + (org_new ? P_ORG_NEW_NET : 0),
                     host_id);
            else if (scoring && isnew == 0)
                pend_return(u, a, R_NEW_NET, net, 0, 0, P_NEW_NET, prev, hour, host_id);
        }
    }
    /* impossible travel (--geoip): geoip.c remembers each account's last located activity */
    if (u->o.geoip && a->src_ip && a->outcome != 0 &&
        (a->kind == KZ_UEBA_LOGON || a->kind == KZ_UEBA_VPN)) {
        struct kz_geoip_trip trip;
        int located = 0;
        int moved = kz_geoip_travel(u->o.geoip, uid, ts, a->src_ip, &trip, &located);
        if (located) {
            /* the travel memory, kept in the profile for --ueba-state (geoip.h) */
            uint32_t ip = intern(u, T_IP, a->src_ip, strnlen(a->src_ip, 64));
            if (ip) p->geo_ip = ip, p->geo_ts = ts;
        }
        if (moved && scoring) {
            uint32_t now = intern(u, T_TEXT, trip.to, strlen(trip.to));
            uint32_t before = intern(u, T_TEXT, trip.from, strlen(trip.from));
            uint32_t n0 = u->npend;
            pend(u, a, R_TRAVEL, now, before, (int32_t)lround(trip.km),
                 (int32_t)(trip.elapsed / (60 * KZ_TICKS_PER_SEC)), P_TRAVEL, host_id);
            if (u->npend > n0 && a->kind == KZ_UEBA_VPN) u->pend[n0].r.flags = 1;
        }
    }
    if (a->device &&
        (a->kind == KZ_UEBA_LOGON || a->kind == KZ_UEBA_VPN || a->kind == KZ_UEBA_AUTH)) {
        uint32_t dev = memo_intern(u, T_DEVICE, a->device);
        /* the host itself is not a client device (both names are canonical the same way) */
        if (dev && strcmp(u->str[dev], u->str[host_id])) {
            uint32_t prev = hour;
            int isnew = edge_touch(u, E_USER_DEV, uid, dev, 0, hour, &prev);
            int org_new = edge_touch(u, E_ORG_DEV, dev, 0, 0, hour, NULL) == 1;
            /* a known machine of the estate used as a client is not new to the organisation */
            uint32_t hid = memo_intern(u, T_HOST, a->device);
            if (hid && u->ent[hid]) org_new = 0;
            /* back on a device after a return window; not a machine the account logs on to
             * (its own workstation: that pair's return is the host's) */
            if (scoring && isnew == 0 && return_due(prev, hour) &&
                !(hid && u->ent[hid] && edge_slot(u, E_USER_HOST, uid, hid, 0)))
                pend_return(u, a, R_NEW_DEVICE, dev, 0, 0, P_NEW_DEVICE, prev, hour, host_id);
            /* nor is a machine the account already logs on to (its own workstation) */
            uint32_t seen_on = 0;
            if (isnew == 1 && hid && u->ent[hid] &&
                edge_touch(u, E_USER_HOST, uid, hid, 0, hour, &seen_on) == 0)
                isnew = 0;
            /* a personal device (not a machine of the estate) that another account already used */
            if (scoring && isnew == 1 && !org_new && !(hid && u->ent[hid]))
                pend(u, a, R_SHARED_DEVICE, dev, 0, 0, 0, P_SHARED_DEVICE, host_id);
            if (scoring && isnew == 1)
                pend(u, a, R_NEW_DEVICE, dev, 0, org_new, 0,
                     P_NEW_DEVICE + (org_new ? P_ORG_NEW_DEVICE : 0), host_id);
        }
    }

    switch (a->kind) {
    case KZ_UEBA_LOGON:
    case KZ_UEBA_EXPLICIT: {
        struct ueba_host *t = host;
        if (a->kind == KZ_UEBA_EXPLICIT) {
            if (!a->target) break;
            t = host_of(u, a->target, day);
            if (!t) break;
            host = &u->hosts[u->ent[host_id] - 1]; /* host_of may have moved the array */
        }
        if (a->kind == KZ_UEBA_EXPLICIT && a->object) {
            /* whose session typed these credentials: another account than their owner? */
            uint32_t subj = memo_intern(u, T_USER, a->object);
            if (subj && subj != uid && edge_touch(u, E_CRED_BY, uid, subj, 0, hour, NULL) == 1 &&
                scoring)
                pend(u, a, R_CRED_BY_OTHER, subj, host_id, 0, 0, P_CRED_BY_OTHER, host_id);
        }
        int lt = a->kind == KZ_UEBA_EXPLICIT ? -1 : a->logon_type;
        if (lt == 4 || lt == 5) break; /* batch and service logons: machines, not people */
        if (a->kind == KZ_UEBA_LOGON) {
            if (p->fails >= FAILS_BEFORE_SUCCESS && a->ts - p->fail_since <= HOUR_TICKS && scoring)
                pend(u, a, R_FAILS, 0, 0, p->fails, 0, P_FAILS, host_id);
            p->fails = 0;
            uint32_t total = 0;
            for (int i = 0; i < 16; i++)
                total += p->ltypes[i];
            if (lt >= 0 && lt < 16) {
                if (scoring && total >= LTYPE_HISTORY && p->ltypes[lt] == 0 && lt != 7)
                    pend(u, a, R_LOGON_TYPE, 0, 0, lt, 0, P_LOGON_TYPE, host_id);
                if (p->ltypes[lt] < UINT16_MAX) p->ltypes[lt]++;
            }
            if (lt == 10 && edge_touch(u, E_HOST_RDP_USER, t->name, uid, 0, hour, NULL) == 1) {
                t->roles |= ROLE_RDP;
                if (t->rdp_users < 255) t->rdp_users++;
            }
        }
        uint32_t prev = hour;
        int isnew = edge_touch(u, E_USER_HOST, uid, t->name, 0, hour, &prev);
        if (isnew == 1 || prev != hour) vol_add(u, p, a, VOL_HOSTS, scoring, host_id);
        double tc = criticality(t);
        feature_peer(u, p, uid, a, E_GROUP_HOST, t->name, isnew, scoring, hour, P_PEER_HOST * tc, 0,
                     t->name);
        if (unowned && isnew == 1 && tc >= 2.5) {
            pend(u, a, R_NEW_ACCOUNT, t->name, p->creator, (int32_t)(day - p->first_day), 0,
                 P_UNOWNED_CRITICAL * tc / 3, t->name);
            u->pend[u->npend - 1].r.flags = 1;
        } else if (scoring && isnew >= 0) {
            double pts = (lt == 3 ? P_NEW_HOST_NETWORK : P_NEW_HOST_INTERACTIVE) * tc;
            if (isnew == 1)
                pend(u, a, R_NEW_HOST, t->name, 0, lt, 0, pts, t->name);
            else
                pend_return(u, a, R_NEW_HOST, t->name, 0, lt, pts, prev, hour, t->name);
        } else if (new_account_watch && isnew == 1 && tc >= 2.5) {
            pend(u, a, R_NEW_ACCOUNT, t->name, p->creator, (int32_t)(day - p->first_day), 0,
                 P_NEW_ACCOUNT_CRITICAL * tc / 3, t->name);
        }
        break;
    }
    case KZ_UEBA_LOGON_FAILED:
        if (a->ts - p->fail_since > HOUR_TICKS) p->fails = 0, p->fail_since = a->ts;
        if (p->fails < UINT16_MAX) p->fails++;
        break;
    case KZ_UEBA_VPN_END:
        vol_add_bytes(u, p, a, scoring, host_id);
        break;
    case KZ_UEBA_VPN:
    case KZ_UEBA_AUTH:
        if (a->outcome == 0) {
            if (a->ts - p->fail_since > HOUR_TICKS) p->fails = 0, p->fail_since = a->ts;
            if (p->fails < UINT16_MAX) p->fails++;
        }
        break;
    case KZ_UEBA_SHARE:
    case KZ_UEBA_FILE: {
        uint32_t share = 0;
        char b[2 * NAME_MAX_BYTES + 4];
        if (a->object) {
            /* host\share, the share's last component ("\\*\projects" -> "projects") */
            const char *s = strrchr(a->object, '\\');
            s = s ? s + 1 : a->object;
            int n = snprintf(b, sizeof b, "\\\\%s\\%.255s", u->str[host_id], s);
            for (int i = 0; i < n; i++)
                b[i] = lower(b[i]);
            share = intern(u, T_SHARE, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
            uint32_t prev = hour;
            int isnew = share ? edge_touch(u, E_USER_SHARE, uid, share, 0, hour, &prev) : -1;
            if (isnew == 1 && host->file_users < UINT16_MAX) host->file_users++;
            if (scoring && isnew == 1)
                pend(u, a, R_NEW_SHARE, share, 0, 0, 0, P_NEW_SHARE * crit, host_id);
            else if (scoring && isnew == 0)
                pend_return(u, a, R_NEW_SHARE, share, 0, 0, P_NEW_SHARE * crit, prev, hour,
                            host_id);
            feature_peer(u, p, uid, a, E_GROUP_SHARE, share, isnew, scoring, hour,
                         P_PEER_SHARE * crit, 1, host_id);
        }
        if (a->kind != KZ_UEBA_FILE || !a->folder) break;
        /* an unowned new account changing files on a share (once a day per share) */
        if (unowned && share && (a->access & (KZ_UEBA_WRITE | KZ_UEBA_DELETE)) &&
            edge_touch(u, E_UNOWNED_WRITE, uid, share, day, hour, NULL) == 1)
            pend(u, a, R_UNOWNED_WRITES, p->creator, share, 0, (int32_t)(day - p->first_day),
                 P_UNOWNED_WRITES, host_id);
        if (!(a->access & KZ_UEBA_READ)) break;
        vol_add(u, p, a, VOL_READS, scoring, host_id);
        /* the folder: first component under the share, or the parent directory of a local path */
        const char *f = a->folder;
        size_t flen;
        int n;
        if (a->object) {
            while (*f == '\\')
                f++;
            const char *e = strchr(f, '\\');
            flen = e ? (size_t)(e - f) : strlen(f);
            if (!e) break; /* a file at the share's root belongs to no folder */
            n = snprintf(b, sizeof b, "%s\\%.*s", share ? u->str[share] : "?",
                         (int)(flen > 255 ? 255 : flen), f);
        } else {
            const char *e = strrchr(f, '\\');
            flen = e ? (size_t)(e - f) : 0;
            if (!flen) break;
            n = snprintf(b, sizeof b, "\\\\%s\\%.*s", u->str[host_id],
                         (int)(flen > 255 ? 255 : flen), f);
        }
        size_t bn = (size_t)n < sizeof b ? (size_t)n : sizeof b - 1;
        for (size_t i = 0; i < bn; i++)
            b[i] = lower(b[i]);
        uint32_t folder = intern(u, T_FOLDER, b, bn);
        if (!folder) break;
        uint32_t prev = hour;
        int isnew = edge_touch(u, E_USER_FOLDER, uid, folder, 0, hour, &prev);
        if (isnew == 1 || prev != hour) vol_add(u, p, a, VOL_FOLDERS, scoring, host_id);
        feature_peer(u, p, uid, a, E_GROUP_FOLDER, folder, isnew, scoring, hour, P_PEER_FOLDER, 2,
                     host_id);
        /* when an unowned new account reads across many folders of a share; again a week later
         * if it goes on (not every night: one alert a week says it all) */
        if (unowned && a->object && p->vol[VOL_FOLDERS] >= vol_floor[VOL_FOLDERS] &&
            (p->unowned_day == 0 || day + 1u >= p->unowned_day + (unsigned)UNOWNED_REPEAT_DAYS)) {
            p->unowned_day = (uint16_t)(day + 1);
            pend(u, a, R_UNOWNED_READS, p->creator, share, p->vol[VOL_FOLDERS],
                 (int32_t)(day - p->first_day), P_UNOWNED_READS, host_id);
        }
        break;
    }
    case KZ_UEBA_PROCESS: {
        if (!a->object) break;
        const char *img = a->object, *s = strrchr(img, '\\');
        uint32_t proc = memo_intern(u, T_PROC, s ? s + 1 : img);
        if (!proc) break;
        /* a program new to the whole estate, started by a service's account (FAM_UNOWNED) */
        int org_new = edge_touch(u, E_ORG_PROC, proc, 0, 0, hour, NULL) == 1;
        if (org_new && after_baseline && !host_gated && !person)
            pend(u, a, R_ORG_NEW_PROC, proc, host_id, 0, 0, P_ORG_NEW_PROC_SERVICE, host_id);
        if (crit <= 1) break; /* otherwise processes are judged on servers only */
        uint32_t prev = hour;
        int isnew = edge_touch(u, E_USER_PROC, uid, proc, host_id, hour, &prev);
        if (scoring && isnew == 1)
            pend(u, a, R_NEW_PROC, proc, host_id, 0, 0, P_NEW_PROC * crit, host_id);
        else if (scoring && isnew == 0)
            pend_return(u, a, R_NEW_PROC, proc, host_id, 0, P_NEW_PROC * crit, prev, hour, host_id);
        break;
    }
    default:
        break;
    }

    apply_points(u, p, uid, a, day, hour, host_gated, fn, ctx);
}

/* Times from logs can be anything (a forged record may say year 30000); the model works within
 * +-7,300 years of 1970, so that the difference of any two times fits in a kz_time. */
#define UEBA_TIME_LIMIT ((kz_time)1 << 61)

void kz_ueba_push(struct kz_ueba *u, const struct kz_ueba_act *a, kz_ueba_alert_fn fn, void *ctx) {
    if (!a->host || a->kind == KZ_UEBA_NONE || a->kind >= KZ_UEBA_NKINDS) return;
    /* services and Sigma findings without an account are the host's */
    if (a->kind != KZ_UEBA_SERVICE && a->kind != KZ_UEBA_SIGMA && (!a->user || !*a->user)) return;
    struct kz_ueba_act c = *a;
    if (c.ts < -UEBA_TIME_LIMIT) c.ts = -UEBA_TIME_LIMIT;
    if (c.ts > UEBA_TIME_LIMIT) c.ts = UEBA_TIME_LIMIT;
    score_record(u, &c, fn, ctx);
}

/* ---- keeping records for an ordered run ---- */

int kz_ueba_keep(struct kz_ueba *u, const struct kz_ueba_act *a) {
    if (u->nkept >= u->o.max_records) {
        u->kept_dropped++;
        return KZ_ELIMIT;
    }
    if (u->nkept == u->kept_cap) {
        uint32_t cap = u->kept_cap ? u->kept_cap * 2 : 4096;
        struct kept *nv = kz_realloc(u->kept, (size_t)cap * sizeof *nv);
        if (!nv) {
            u->kept_dropped++;
            return KZ_ENOMEM;
        }
        u->kept = nv;
        u->kept_cap = cap;
    }
    struct kept *k = &u->kept[u->nkept];
    k->ts = a->ts;
    k->record_id = a->record_id;
    k->file_id = a->file_id;
    k->seq = u->nkept;
    k->kind = a->kind;
    k->access = a->access;
    k->logon_type = a->logon_type;
    k->outcome = a->outcome;
    k->bytes = a->bytes;
    const char *s[9] = {a->user,   a->domain, a->sid,    a->host,  a->target,
                        a->src_ip, a->device, a->object, a->folder};
    /* Of a file's path only what scoring reads is kept (the folder, up to and with its
     * separator), so that millions of file names do not become millions of strings. */
    size_t flen = a->folder ? strnlen(a->folder, 1024) : 0;
    if (a->folder && a->kind == KZ_UEBA_FILE) {
        const char *f = a->folder, *e;
        if (a->object) {
            while (*f == '\\')
                f++;
            e = strchr(f, '\\');
        } else {
            e = strrchr(f, '\\');
        }
        flen = e ? (size_t)(e - a->folder) + 1 : 0;
    }
    for (int i = 0; i < 9; i++) {
        if (!s[i]) {
            k->s[i] = 0;
            continue;
        }
        size_t n = i == 8 ? flen : strnlen(s[i], 1024);
        /* records come file by file: the host, the domain, often the account are the previous
         * record's, and a compare is cheaper than hashing and probing */
        uint32_t last = u->keep_last[i];
        if (last && n && !strncmp(u->str[last], s[i], n) && u->str[last][n] == 0) {
            k->s[i] = last;
            continue;
        }
        k->s[i] = intern(u, T_TEXT, s[i], n);
        if (k->s[i]) u->keep_last[i] = k->s[i];
    }
    u->nkept++;
    return 0;
}

static int kept_cmp(const void *x, const void *y) {
    const struct kept *a = x, *b = y;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* A record's place in time: the key kz_ueba_run sorts instead of the 72-byte records. */
struct order {
    kz_time ts;
    uint64_t seq; /* the record's index in u->kept (keep order) */
};

/* Sorts keys[0..n) by time, ties in keep order (the keys start in keep order and the merge is
 * stable). Records are kept file by file and each file is in time order, so the input is a few
 * hundred sorted runs: a natural merge sort finds them and merges pairs of runs until one is
 * left (log2(runs) passes instead of qsort's log2(n) with a call per comparison). tmp holds n
 * keys, starts n + 1 run boundaries. Returns the sorted array (keys or tmp). */
static struct order *order_sort(struct order *keys, struct order *tmp, uint32_t *starts,
                                uint32_t n) {
    uint32_t runs = 0;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || keys[i].ts < keys[i - 1].ts) starts[runs++] = i;
    starts[runs] = n;
    while (runs > 1) {
        uint32_t out = 0;
        for (uint32_t r = 0; r < runs; r += 2) {
            uint32_t i = starts[r], mid = starts[r + 1 < runs ? r + 1 : runs], end;
            end = r + 2 <= runs ? starts[r + 2 < runs ? r + 2 : runs] : mid;
            uint32_t j = mid, o = i;
            starts[out++] = i;
            while (i < mid && j < end)
                tmp[o++] = keys[j].ts < keys[i].ts ? keys[j++] : keys[i++];
            while (i < mid)
                tmp[o++] = keys[i++];
            while (j < end)
                tmp[o++] = keys[j++];
        }
        starts[out] = n;
        runs = out;
        struct order *t = keys;
        keys = tmp;
        tmp = t;
    }
    return keys;
}

/* Scores kept record k (its strings are the engine's own, interned when kept). */
static void run_one(struct kz_ueba *u, const struct kept *k, kz_ueba_alert_fn fn, void *ctx) {
    const char *s[9];
    for (int j = 0; j < 9; j++)
        s[j] = k->s[j] ? u->str[k->s[j]] : NULL;
    struct kz_ueba_act a = {
        .ts = k->ts,
        .kind = k->kind,
        .logon_type = k->logon_type,
        .outcome = k->outcome,
        .access = k->access,
        .file_id = k->file_id,
        .record_id = k->record_id,
        .bytes = k->bytes,
        .user = s[0],
        .domain = s[1],
        .sid = s[2],
        .host = s[3],
        .target = s[4],
        .src_ip = s[5],
        .device = s[6],
        .object = s[7],
        .folder = s[8],
    };
    kz_ueba_push(u, &a, fn, ctx);
}

void kz_ueba_run(struct kz_ueba *u, kz_ueba_alert_fn fn, void *ctx) {
    uint32_t n = u->nkept;
    struct order *keys = n ? kz_malloc((size_t)n * sizeof *keys) : NULL;
    struct order *tmp = n ? kz_malloc((size_t)n * sizeof *tmp) : NULL;
    uint32_t *starts = n ? kz_malloc(((size_t)n + 1) * sizeof *starts) : NULL;
    /* the memo: room for every name kept so far twice over, 4,096 to 1M entries (16 MiB) */
    uint32_t memo_cap = 4096;
    while (memo_cap < (1u << 20) && memo_cap < 2 * u->nstr)
        memo_cap *= 2;
    u->memo = n ? kz_calloc(memo_cap, sizeof *u->memo) : NULL;
    u->memo_mask = memo_cap - 1;
    if (keys && tmp && starts) {
        for (uint32_t i = 0; i < n; i++)
            keys[i] = (struct order){u->kept[i].ts, i};
        const struct order *sorted = order_sort(keys, tmp, starts, n);
        kz_free(starts);
        starts = NULL;
        for (uint32_t i = 0; i < n; i++) {
            /* in time order the records are read out of keep order: fetch ahead (both cache
             * lines a 72-byte record may span) */
            if (i + 16 < n) {
                const char *next = (const char *)&u->kept[sorted[i + 16].seq];
                __builtin_prefetch(next);
                __builtin_prefetch(next + sizeof(struct kept) - 1);
            }
            run_one(u, &u->kept[sorted[i].seq], fn, ctx);
        }
    } else {
        /* no memory for the keys: sort the records themselves */
        if (n > 1) qsort(u->kept, n, sizeof *u->kept, kept_cmp);
        for (uint32_t i = 0; i < n; i++)
            run_one(u, &u->kept[i], fn, ctx);
    }
    kz_free(keys);
    kz_free(tmp);
    kz_free(starts);
    kz_free(u->memo);
    u->memo = NULL;
    kz_free(u->kept);
    u->kept = NULL;
    u->nkept = u->kept_cap = 0;
}

void kz_ueba_stats(const struct kz_ueba *u, struct kz_ueba_stats *s) {
    memset(s, 0, sizeof *s);
    s->records = u->records;
    s->kept_dropped = u->kept_dropped;
    s->users = u->nusers;
    s->hosts = u->nhosts;
    s->entities = 0;
    for (uint32_t id = 1; id < u->nstr; id++)
        s->entities += u->type[id] != T_TEXT;
    s->edges = u->nedges;
    s->over_cap = u->over_cap;
    s->alerts = u->alerts;
    /* the model: profiles, anomaly blocks, edges, and the names of entities (the raw strings of
     * kept records, T_TEXT, are input waiting to be scored, not model) */
    size_t strings = 0;
    for (uint32_t id = 1; id < u->nstr; id++)
        if (u->type[id] != T_TEXT)
            strings += strlen(u->str[id]) + 1 + sizeof(char *) + 4 + 1 + 4 + 8;
    s->bytes = (size_t)u->users_cap * sizeof *u->users + (size_t)u->hosts_cap * sizeof *u->hosts +
               (size_t)u->anoms_cap * sizeof *u->anoms + u->edge_cap * sizeof *u->edges + strings;
}

/* ---- the riskiest entities ---- */

struct top_item {
    double peak;
    const char *name;
    int is_host;
    uint32_t index;
};

static int top_cmp(const void *x, const void *y) {
    const struct top_item *a = x, *b = y;
    if (a->peak != b->peak) return a->peak > b->peak ? -1 : 1;
    if (a->is_host != b->is_host) return a->is_host - b->is_host;
    return strcmp(a->name, b->name);
}

uint32_t kz_ueba_top(struct kz_ueba *u, uint32_t n,
                     void (*fn)(void *ctx, const struct kz_ueba_entity *e), void *ctx) {
    uint32_t total = u->nusers + u->nhosts, k = 0;
    struct top_item *items = kz_malloc((total + 1) * sizeof *items);
    if (!items) return 0;
    for (uint32_t i = 0; i < u->nusers; i++)
        if (u->users[i].r.peak > 0)
            items[k++] = (struct top_item){
                u->users[i].r.peak,
                u->str[u->users[i].display ? u->users[i].display : u->users[i].name], 0, i};
    for (uint32_t i = 0; i < u->nhosts; i++)
        if (u->hosts[i].r.peak > 0)
            items[k++] = (struct top_item){u->hosts[i].r.peak, u->hosts[i].display, 1, i};
    if (k > 1) qsort(items, k, sizeof *items, top_cmp);
    if (n > k) n = k;
    for (uint32_t i = 0; i < n; i++) {
        const struct ueba_risk *r =
            items[i].is_host ? &u->hosts[items[i].index].r : &u->users[items[i].index].r;
        const struct ueba_anom *an = r->anom ? &u->anoms[r->anom - 1] : NULL;
        uint32_t nr = 0;
        if (an)
            for (uint8_t j = 0; j < an->npeak && nr < UEBA_RING; j++) {
                double hours = (double)(r->peak_ts - an->peak[j].ts) / (double)HOUR_TICKS;
                if (an->peak[j].points / 10.0 * exp2(-hours / u->o.half_life_hours) < 1) continue;
                render_reason(u, &an->peak[j], u->text[nr], sizeof u->text[nr]);
                u->reasons[nr] = u->text[nr];
                nr++;
            }
        struct kz_ueba_entity e = {
            .is_host = items[i].is_host,
            .name = items[i].name,
            .risk_peak = r->peak,
            .peak_ts = r->peak_ts,
            .risk_now = decayed(u, r, u->last_ts),
            .alerts = r->alerts,
            .nreasons = nr,
            .reasons = u->reasons,
        };
        fn(ctx, &e);
    }
    kz_free(items);
    return n;
}
