/* match_int.h - what the matcher's files share (engine.c builds and routes, prefilter.c finds the
 * candidate rules, evaluate.c decides): the compiled forms and the per-thread scratch. Nothing
 * outside src/sigma uses this. Ownership as in match.h: the engine owns variants, filters, regexes
 * and literal tables (engine arena and kz_malloc'd arrays freed by kz_sigma_engine_free). */
#ifndef KZ_SIGMA_MATCH_INT_H
#define KZ_SIGMA_MATCH_INT_H

#include "match.h"

#include "core/arena.h"
#include "core/buf.h"
#include "logsource.h"

#include <hs/hs.h>
#include <pthread.h>
#include <stdatomic.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define MATCH_MAX_ROUTES 4096u       /* routes cached per thread (then the cache is cleared) */
#define MATCH_ROUTE_SLOTS 8192u      /* hash slots of the route cache (twice the routes) */
#define MATCH_MAX_PREFILTER (4u << 20) /* bytes of event values scanned by the prefilter */
#define MATCH_MIN_LITERAL 3u         /* shorter literals select too much to be worth scanning */
#define MATCH_MAX_LITERALS 2048u /* literals one rule may contribute (more: always evaluated) */
#define MATCH_MAX_CIDR_TEXT 64u      /* longest field text tried as an IP address */
#define MATCH_SET_MIN_VALUES 6u  /* string values in an item before they are looked up as a set */
#define MATCH_VCACHE_SLOTS 4096u    /* per-thread cache of scanned values (a power of two) */
#define MATCH_VCACHE_MIN_LITS 512u  /* databases smaller than this scan faster than it looks up */
#define MATCH_VCACHE_MAX_VALUE 512u /* longer values are scanned every time */
#define MATCH_VCACHE_MAX_HITS 8u    /* values holding more literals are scanned every time */
#define MATCH_MAX_TERMS 8u   /* ORed terms of a prefilter requirement */
#define MATCH_MAX_CLAUSES 4u /* ANDed literal sets per term (terms x clauses <= 32 bits) */

/* A rule (or filter) as it runs on one of its log sources. */
struct match_variant {
    const struct kz_sigma_rule *rule;
    const struct kz_ls_target *target; /* the log source (where, values, absent) */
    uint32_t rule_index;   /* position in the rule set: hits are reported in this order */
    const char *product;   /* lowercase */
    const char *channel;   /* NULL: any channel of the product */
    const char *provider;  /* NULL: any provider */
    uint32_t nevent_ids;   /* 0: any */
    const uint32_t *event_ids;
    uint32_t nrenames;
    const uint32_t *rename_from, *rename_to;
    uint32_t group;        /* prefilter database (channel group) it belongs to */
    uint8_t always;        /* no literal set: a candidate whenever its route is */
    /* Its prefilter requirement (prefilter.c): an OR of terms, each an AND of clauses, each
     * clause one bit set when one of its literals is seen in its field. The variant is a
     * candidate once the bits of one term are all set. */
    uint8_t nterms;
    uint32_t term_mask[MATCH_MAX_TERMS];
    uint32_t nfilters;     /* filters (indexes into engine->filters) that apply to this rule */
    uint32_t *filters;
};

/* A Sigma meta filter: the rule's match stands only if, for every filter whose log source covers
 * the event, the filter's condition holds too. */
struct match_filter {
    const struct kz_sigma_rule *rule;
    uint32_t nvariants;
    struct match_variant *variants; /* its sources (only routing and renames are used) */
};

/* A compiled |re value. PCRE2 compiles it when the engine is built (that is the check that the
 * rule can run); Vectorscan, which runs it faster but takes long to compile, on first use: most of
 * a rule set's regexes are never reached behind the prefilter. That first use is the only change
 * an engine sees after it is built, under regex_lock; hs_state publishes the result. */
enum { REGEX_HS_UNTRIED = 0, REGEX_HS_READY, REGEX_HS_REFUSED };
struct match_regex {
    const struct kz_sigma_value *value;
    unsigned hs_flags;
    _Atomic int hs_state;  /* REGEX_HS_* */
    hs_database_t *hs;     /* when READY */
    pcre2_code *pcre;      /* always */
};

/* A prefilter literal; anchored ends match the separator around each value in the scanned
 * buffer, so an exact value ("0x17") is found only as a whole value, not inside every number. */
enum { ANCHOR_START = 1, ANCHOR_END = 2 };
struct match_lit {
    const char *p; /* engine or rule-set memory */
    uint32_t len;
    uint8_t anchor;
};

/* What seeing a literal means for one variant: the field it must be seen in (the event's name
 * id, after the variant's renames; 0: any field, for keywords) and the requirement bit it sets. */
struct match_pair {
    uint32_t variant;
    uint32_t field;
    uint32_t bit;  /* 1 << clause index */
    uint8_t alone; /* the clause is a term by itself: seeing it makes the variant a candidate */
};

/* A prefilter database: the literals of the rules of one channel (plus the any-channel rules). */
struct match_group {
    const char *channel;  /* lowercase; NULL for the any-channel group */
    uint32_t parent;      /* the channel's group (itself for a channel group) */
    uint8_t has_id;       /* 1: only the rules of this event id (and the channel-wide ones) */
    uint32_t event_id;
    uint32_t db_group;    /* the group whose database (and scanned fields) its scans use:
                           * itself, or one with nearly the same literals (prefilter.c) */
    uint32_t nlits;       /* its literals (ids into engine lits, ascending); 0: nothing to scan */
    uint32_t *lits;
    _Atomic int db_state; /* REGEX_HS_*: the database is compiled on first scan (prefilter.c) */
    hs_database_t *db;    /* when READY */
    /* Which event fields are worth scanning: the fields its rules name (after renames), unless
     * one of them has keywords (then every field). Ids beyond nscan_ids are not named. */
    uint8_t scan_all;
    uint32_t nscan_ids;
    uint8_t *scan_ids;    /* per field id: 1 when a rule of the group names it */
    /* The keyword literals among lits (ids, ascending): all a field no rule names can hold.
     * With the value cache, such fields are scanned with this small database instead of the
     * group's (prefilter_scan); compiled on first use like db. */
    uint32_t nkw_lits;
    uint32_t *kw_lits;
    uint32_t kw_min_len; /* the shortest keyword literal: a shorter value holds none of them */
    _Atomic int kw_db_state;
    hs_database_t *kw_db;
};

/* An item whose many values are looked up at once (valueset.c). */
struct match_set_entry {
    uint64_t key;     /* hash of (kind, length, text) */
    uint32_t len;
    uint8_t kind;
    const char *text; /* NULL: empty slot */
};
/* A |cidr set's networks as address ranges, both ends included: 128-bit values as two 64-bit
 * halves, most significant first (IPv4 in the low half). */
struct match_range {
    uint64_t lo[2], hi[2];
};
struct match_set {
    const struct kz_sigma_item *item;
    uint8_t cidr;      /* a |cidr item: the networks as sorted, disjoint ranges per family,
                        * looked up by binary search */
    uint32_t nranges[2];            /* IPv4, IPv6 */
    struct match_range *ranges[2];
    uint32_t mask;     /* slots - 1 (a power of two) */
    struct match_set_entry *slots; /* exact, prefix and suffix patterns */
    uint32_t max_exact;            /* longest exact pattern; 0 when none */
    uint32_t nprefix, nsuffix;     /* distinct prefix / suffix lengths, ascending */
    uint32_t *prefix_lens, *suffix_lens;
    uint32_t ncontains;
    const struct kz_sigma_pattern **contains;
};

struct kz_sigma_engine {
    const struct kz_sigma_ruleset *rs;
    struct kz_arena arena;
    int no_prefilter;
    int value_cache_all; /* kz_sigma_engine_opts.value_cache_all */
    uint32_t nvariants;
    struct match_variant *variants;
    uint32_t nfilters;
    struct match_filter *filters;
    uint32_t nregex, regex_cap;
    struct match_regex *regex; /* sorted by value pointer after build, for lookup */
    pthread_mutex_t regex_lock; /* Vectorscan compiles on first use (regexes, prefilter groups) */
    char *cache_dir;            /* compiled databases kept here (dbcache.c); NULL: none */
    struct kz_buf cache_key;    /* the key being made, under regex_lock */
    uint32_t ngroups;
    struct match_group *groups;
    /* The variants of each channel group (v->group), ascending: a route is built from those of
     * its channel and of group 0 (any channel) instead of testing every variant. */
    uint32_t *group_vfirst, *group_vcount; /* per group: where its variants start, how many */
    uint32_t *group_variants;
    uint32_t nliterals;
    uint32_t *lit_first, *lit_count; /* literal id -> its pairs in lit_pairs */
    struct match_pair *lit_pairs;
    struct match_lit *lits;          /* literal id -> literal */
    uint32_t nskips, skips_cap;
    struct kz_sigma_skip *skips;
    uint32_t nsets, set_slots_cap;
    struct match_set **set_slots; /* open addressing on the item pointer (valueset.c) */
    struct kz_sigma_engine_stats stats;
};

/* What scanning one value with one database found: the literals seen in it (prefilter.c).
 * Command lines, images, hashes and users repeat from event to event; a value found here is
 * not scanned again. */
struct match_vcache_entry {
    uint32_t group;    /* the database group (its db_group) */
    uint32_t len;      /* value length */
    uint32_t nlits;
    uint32_t lits[MATCH_VCACHE_MAX_HITS];
    char val[MATCH_VCACHE_MAX_VALUE]; /* the value itself: a hash collision must not hit */
};

/* A cached routing decision for (channel, event id): which variants accept such events. */
struct match_route {
    const char *product; /* the engine's product string (static) */
    char *channel;       /* lowercase copy (kz_malloc) */
    uint32_t hash;       /* of (product, channel, event id) */
    uint32_t event_id;
    uint32_t group;      /* prefilter database to scan */
    uint64_t *accept;    /* bitmap over variants */
    uint32_t nalways;    /* accepting variants without literals (or all, without prefilter) */
    uint32_t *always;
    uint8_t has_gated;   /* some accepting variant has literals */
};

struct kz_sigma_scratch {
    const struct kz_sigma_engine *e;
    hs_scratch_t *hs;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* PCRE2 limits: no regex may backtrack without bound */
    uint8_t *hs_fitted;        /* per regex: s->hs has been grown for its database */
    uint8_t *group_fitted;     /* per prefilter group: likewise */
    /* field index of the current event: first field with a name id, then a chain */
    uint32_t epoch;
    uint32_t slots_cap;
    uint32_t *slot_epoch, *slot_first;
    uint32_t fields_cap;
    uint32_t *next;
    char **lower;       /* case-folded copies, made on first need (arena) */
    /* per field: the value read as an IP address (|cidr), once per event */
    uint32_t *ip_epoch;   /* == epoch when ip_family/ip_addr are this event's */
    uint8_t *ip_family;   /* 0: not an address, 4 or 6 */
    unsigned char (*ip_addr)[16];
    struct kz_arena arena;
    const struct kz_event *ev;
    /* candidates */
    uint32_t mark_epoch;
    uint32_t *mark;     /* per variant: == mark_epoch when the prefilter selected it */
    uint32_t ncand;
    uint32_t *cand;
    uint32_t *bits_epoch; /* per variant: == mark_epoch when bits[] is this event's */
    uint32_t *bits;       /* per variant: requirement bits seen in this event */
    uint32_t *lit_epoch;  /* per literal: == mark_epoch when lit_at[] is this event's */
    uint32_t *lit_at;     /* per literal: the scanned field it was last handled in */
    struct kz_buf pbuf; /* prefilter input: the scanned values, separated by SEP */
    struct kz_buf kbuf; /* the same for the keyword database (prefilter_scan) */
    uint32_t nscanned, scanned_cap;
    uint32_t *scanned_end;  /* per scanned field: offset of the separator after its value */
    uint32_t *scanned_name; /* per scanned field: its name id */
    uint32_t *scanned_field; /* per scanned field: its index in the event */
    uint32_t scan_lo, scan_hi; /* the scanned entries of the buffer being scanned */
    /* the value cache (lazily allocated; only for databases of MATCH_VCACHE_MIN_LITS or more) */
    struct match_vcache_entry *vcache;
    uint64_t *vcache_hash;  /* per slot: the hash of its entry's (group, value); 0: empty. Apart
                             * from the entries, so a miss (most unique values) touches 32 KiB */
    uint8_t vcache_on;      /* this scan fills the cache (the group is big enough) */
    uint32_t *scanned_slot; /* per scanned field: its cache slot + 1 to fill, 0: none */
    uint64_t *scanned_hash; /* per scanned field: its value's hash, when slot */
    uint32_t nseen, seen_cap;
    uint32_t *seen_field, *seen_lit; /* (scanned field, literal) pairs of this scan */
    /* routes: a cache hashed on (channel, event id) */
    uint32_t nroutes, routes_cap;
    struct match_route *routes;
    uint32_t *route_slots; /* MATCH_ROUTE_SLOTS entries: route index + 1, 0 empty */
    uint32_t last_route;   /* the previous event's route index + 1 (0: none): runs of events
                            * share one, and comparing beats hashing the channel */
    struct kz_sigma_match_stats stats;
};

/* ---- evaluate.c ---- */
/* Does the event satisfy the variant's condition (not its filters)? */
int match_eval(struct kz_sigma_scratch *s, const struct match_variant *v,
               const struct kz_sigma_detection *det);
/* Compiles the regex of value v (flags from the item). Returns 0, or KZ_EUNSUPP with a reason in
 * err when neither engine takes it, or KZ_ENOMEM. */
int match_regex_compile(struct match_regex *r, const struct kz_sigma_item *it,
                        const struct kz_sigma_value *v, struct kz_err *err);
void match_regex_free(struct match_regex *r);
/* Sorts e->regex by value so evaluation finds a value's regex by binary search. */
void match_regex_sort(struct kz_sigma_engine *e);
/* Indexes the event's fields by name id in the scratch. Returns 0 or KZ_ENOMEM. */
int match_index_event(struct kz_sigma_scratch *s, const struct kz_event *ev);

/* ---- valueset.c ---- */
/* Makes a set of every item of the engine's rules and filters that qualifies. 0 or KZ_ENOMEM. */
int match_sets_build(struct kz_sigma_engine *e);
void match_sets_free(struct kz_sigma_engine *e);
/* The set of item it, or NULL when its values are compared one by one. */
const struct match_set *match_set_find(const struct kz_sigma_engine *e,
                                       const struct kz_sigma_item *it);
/* Does the folded text t (n bytes) match a string pattern of the set? find is evaluate.c's
 * substring search. */
int match_set_strings(const struct match_set *st, const char *t, size_t n,
                      const char *(*find)(const char *, size_t, const char *, size_t));
/* Is the address (family 4 or 6, 4 or 16 bytes; an IPv4-mapped IPv6 address counts as IPv4) in
 * one of a |cidr set's networks? */
int match_set_cidr(const struct match_set *st, int family, const unsigned char *addr);

/* ---- prefilter.c ---- */
#define PREFILTER_ALL UINT32_MAX /* prefilter_scan: the event was too large to scan, take all */
/* Builds the literal tables and one database per channel group; sets v->always. */
int prefilter_build(struct kz_sigma_engine *e, struct kz_err *err);
/* Scans the values of s->ev with group g's database and collects the variants whose literals
 * occur into s->cand / s->ncand (any route; the caller filters). Returns 0, or PREFILTER_ALL when
 * the values exceed MATCH_MAX_PREFILTER bytes (then every gated variant is a candidate). */
uint32_t prefilter_scan(struct kz_sigma_scratch *s, const struct match_group *g);
void prefilter_free(struct kz_sigma_engine *e);

/* ---- hsrun.c ---- */
/* hs_scan (flags 0) through an implementation checked to find what it must: the library's
 * default, or its AVX2 code when the default misses matches (Vectorscan 5.4.9 on AVX-512). */
hs_error_t match_hs_scan(const hs_database_t *db, const char *data, unsigned len,
                         hs_scratch_t *scratch, match_event_handler fn, void *ctx);
/* 1 when the library's default scanner failed the check and the AVX2 one is used instead. */
int match_hs_fallback(void);

/* ---- dbcache.c ---- */
#define DBCACHE_MAX_FILE (256u << 20) /* largest cache file read (SigmaHQ's biggest: ~1 MiB) */
#define DBCACHE_MAX_DB (512u << 20)   /* largest database a cache file may unpack into */
/* A database's key: everything its compilation depends on. begin starts it (kind: "lit" or
 * "re", the Vectorscan mode), then one expr per expression; key->failed means no caching. */
void dbcache_key_begin(struct kz_buf *key, const char *kind, unsigned mode);
void dbcache_key_expr(struct kz_buf *key, const char *expr, size_t len, unsigned flags,
                      unsigned id);
/* The database cached in dir under key, or NULL when there is none that passes every check. */
hs_database_t *dbcache_load(const char *dir, const struct kz_buf *key);
/* Writes db to dir under key (best effort: failures only mean compiling next time). */
void dbcache_store(const char *dir, const struct kz_buf *key, const hs_database_t *db);
/* The checks of dbcache_load on a file's n bytes (exposed for the fuzz target): 0 and the
 * database in *out, or KZ_EFORMAT / KZ_ECORRUPT. */
int dbcache_parse(const uint8_t *file, size_t n, const void *key, size_t keylen,
                  hs_database_t **out);
/* Is dir a cache directory kizuki may use (created for the user when missing)? */
int dbcache_dir_usable(const char *dir);

#endif
