/* correlate.c - the Sigma correlation engine (see correlate.h for the semantics and bounds).
 *
 * Layout of the state: a correlation (struct corr) has a hash table of groups keyed by the values
 * of its group-by fields, and a list of its groups in time order (by last input for sliding
 * windows, by window start for closed ones), so expiry and eviction always take the list's head
 * and cost O(1) per group. A group holds, depending on the type, a ring of entries (time, value,
 * count), a set of distinct values (hashes, with a least-recently-seen list), or one time per
 * referenced rule; and a small ring of its latest contributing events for the alert.
 *
 * Memory: all group state comes from one arena with a cap (the memory budget), carved into
 * power-of-two chunks that go back to per-size free lists when a group shrinks or dies, so a
 * long stream reaches a steady state where pushing allocates nothing. Static tables (which rule
 * feeds which correlation, with which fields) live in a second arena built once.
 *
 * Order: every push first closes the windows that ended before it, then feeds the input to the
 * correlations referencing its rule, in rule-set order. An alert is reported, then fed at once to
 * the correlations referencing the one that fired (depth first), so the output order depends only
 * on the input sequence. */
#include "correlate.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/oaindex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TIME_NONE INT64_MIN /* "never seen"; inputs are clamped above it */
#define NONE32 UINT32_MAX

#define DEFAULT_MAX_GROUPS 10000u
#define DEFAULT_MAX_ENTRIES 4096u
#define DEFAULT_MAX_VALUES 4096u
#define DEFAULT_MEMORY ((size_t)256 << 20)
/* A timespan longer than this (about 290 centuries) is treated as this, so times never overflow. */
#define MAX_SPAN_TICKS ((kz_time)1 << 62)

/* ---- chunks: power-of-two pieces of the state arena, recycled through free lists ---- */

#define CHUNK_MIN_SHIFT 4 /* 16 bytes */
#define CHUNK_CLASSES 24  /* up to 128 MiB */

struct free_chunk {
    struct free_chunk *next;
};

/* ---- group state ---- */

/* One entry of a ring: inputs at time ts (n of them, values summing to v). */
struct entry {
    kz_time ts;
    double v;
    uint64_t n;
};

/* One distinct value of value_count: its hash, when it was last seen, and its neighbours in the
 * least-recently-seen list (slot indices). */
struct vslot {
    uint64_t h;
    kz_time seen;
    uint32_t older, newer;
};

struct group {
    struct group *hnext;         /* hash chain */
    struct group *older, *newer; /* the correlation's time-ordered list */
    uint64_t hash;               /* of the full group values */
    kz_time first;               /* closed windows: when this window opened */
    kz_time last;                /* latest input (after clamping) */
    uint32_t size;               /* bytes of this chunk (struct and key) */
    uint32_t key_len;            /* bytes of key: each value (truncated) and a NUL */
    /* latest contributing events, a ring */
    struct kz_corr_ref *ev;
    uint32_t ev_cap, ev_head, ev_n;
    /* event_count, value_sum, value_avg, value_percentile: a ring of entries */
    struct entry *ent;
    uint32_t ent_cap, ent_head, ent_n;
    uint64_t count; /* inputs in the ring */
    double sum;     /* their values */
    /* value_count: slots (dense), an open-addressing index of slot + 1, and the LRU list ends */
    struct vslot *vs;
    uint32_t *vidx;
    uint32_t vcap, vn, icap, lru_old, lru_new;
    /* temporal: last time of each rule position; temporal_ordered: the latest start of an in-order
     * chain through each position */
    kz_time *seen;
    char key[];
};

/* ---- static tables ---- */

/* "Matches of this rule feed correlation corr": at which positions of its `rules`, and which
 * fields give the group values and the value (aliases already resolved). */
struct edge {
    uint32_t corr;
    uint64_t positions; /* bit p: rules[p] is this rule */
    uint32_t *gfields;  /* ngroup_by ids */
    uint32_t vfield;    /* 0 when the type needs no value */
};

/* A rule some correlation references. */
struct rinfo {
    const struct kz_sigma_rule *rule;
    uint32_t first_edge, nedges;
    uint32_t *wants; /* fields its matches must carry, sorted, unique */
    uint32_t nwants;
    uint8_t generates;
};

struct corr {
    const struct kz_sigma_rule *rule;
    const struct kz_sigma_correlation *def;
    const char *skip; /* why it does not run; NULL when it does */
    uint8_t closed;   /* upper bound or equality in the condition: closed windows */
    uint8_t generates;
    kz_time span;
    kz_time clock; /* latest input time this correlation has seen */
    int started;
    uint32_t max_values;
    struct group **buckets;
    uint32_t nbuckets, ngroups;
    struct group *oldest, *newest;
    const char **gvals;      /* alert scratch: group values */
    struct kz_corr_ref *evs; /* alert scratch: events */
    double *pct;             /* value_percentile scratch (max_entries) */
};

/* An input as the engine sees it: a match, or an alert of a correlation fed to the next one. */
struct cin {
    kz_time ts;
    const struct kz_sigma_rule *rule;
    uint32_t nvalues;
    const uint32_t *fields;
    const char *const *values;
    uint32_t nrefs;
    const struct kz_corr_ref *refs;
};

struct kz_correlator {
    const struct kz_sigma_ruleset *rs;
    struct kz_corr_limits lim;
    struct corr *corrs;
    uint32_t ncorrs;
    uint32_t *order; /* runnable correlations, referenced ones first */
    uint32_t norder;
    uint32_t *closed_list; /* runnable closed-window correlations, in that order */
    uint32_t nclosed;
    struct edge *edges;
    struct rinfo *rinfos;
    uint32_t nrinfos;
    uint32_t *rtab; /* rule pointer -> rinfo index + 1, open addressing */
    uint32_t rtab_mask;
    struct kz_arena meta;  /* tables above that are built once */
    struct kz_arena state; /* group state, in chunks */
    struct free_chunk *free[CHUNK_CLASSES];
    kz_time clock;
    int started, pushed;
    struct kz_corr_stats st;
    /* key of the input being fed: truncated values, each with its NUL */
    char keybuf[KZ_CORR_MAX_GROUP_BY * (KZ_CORR_MAX_KEY_VALUE + 1)];
    uint32_t keylen;
    uint64_t keyhash;
};

/* ---- small helpers ---- */

static uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* FNV-1a over bytes, continued from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_SEED 0xcbf29ce484222325ULL

static uint64_t ptr_hash(const void *p) {
    return mix64((uint64_t)(uintptr_t)p);
}

static uint32_t pow2_at_least(uint32_t n) {
    uint32_t p = 1;
    while (p < n && p < (1u << 31))
        p <<= 1;
    return p;
}

/* b - a > span, for a <= b, without overflow. */
static int farther_than(kz_time a, kz_time b, kz_time span) {
    return a < b && (uint64_t)b - (uint64_t)a > (uint64_t)span;
}

/* The oldest time still inside a window ending at t. */
static kz_time window_low(kz_time t, kz_time span) {
    return t < TIME_NONE + 1 + span ? TIME_NONE + 1 : t - span;
}

/* The value of field f in an input, or NULL. */
static const char *input_value(const struct cin *in, uint32_t f) {
    if (!f || !in->fields || !in->values) return NULL;
    for (uint32_t i = 0; i < in->nvalues; i++)
        if (in->fields[i] == f) return in->values[i];
    return NULL;
}

/* A field value as a number: decimal or 0x hex, spaces around allowed, finite. */
static int parse_number(const char *s, double *out) {
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* ---- chunks ---- */

static int chunk_class(size_t n) {
    int k = 0;
    while (k < CHUNK_CLASSES && ((size_t)1 << (k + CHUNK_MIN_SHIFT)) < n)
        k++;
    return k;
}

static void *chunk_alloc(struct kz_correlator *c, size_t n) {
    int k = chunk_class(n);
    if (k >= CHUNK_CLASSES) return NULL;
    struct free_chunk *f = c->free[k];
    if (f) {
        c->free[k] = f->next;
        return f;
    }
    return kz_arena_alloc(&c->state, (size_t)1 << (k + CHUNK_MIN_SHIFT));
}

static void chunk_free(struct kz_correlator *c, void *p, size_t n) {
    if (!p) return;
    int k = chunk_class(n);
    struct free_chunk *f = p;
    f->next = c->free[k];
    c->free[k] = f;
}

/* ---- groups: list, hash table, life cycle ---- */

static void list_unlink(struct corr *k, struct group *g) {
    if (g->older)
        g->older->newer = g->newer;
    else
        k->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        k->newest = g->older;
    g->older = g->newer = NULL;
}

static void list_append(struct corr *k, struct group *g) {
    g->older = k->newest;
    g->newer = NULL;
    if (k->newest)
        k->newest->newer = g;
    else
        k->oldest = g;
    k->newest = g;
}

static void group_free(struct kz_correlator *c, struct corr *k, struct group *g) {
    struct group **pp = &k->buckets[g->hash & (k->nbuckets - 1)];
    while (*pp && *pp != g)
        pp = &(*pp)->hnext;
    if (*pp) *pp = g->hnext;
    list_unlink(k, g);
    chunk_free(c, g->ev, (size_t)g->ev_cap * sizeof *g->ev);
    chunk_free(c, g->ent, (size_t)g->ent_cap * sizeof *g->ent);
    chunk_free(c, g->vs, (size_t)g->vcap * sizeof *g->vs);
    chunk_free(c, g->vidx, (size_t)g->icap * sizeof *g->vidx);
    chunk_free(c, g->seen, (size_t)k->def->nrefs * sizeof *g->seen);
    chunk_free(c, g, g->size);
    k->ngroups--;
    c->st.groups_live--;
}

/* Frees the correlation's oldest group other than keep, to make room; 0 when one was freed. */
static int reclaim(struct kz_correlator *c, struct corr *k, const struct group *keep) {
    struct group *g = k->oldest;
    if (g == keep) g = g->newer;
    if (!g) return -1;
    group_free(c, k, g);
    c->st.groups_evicted++;
    return 0;
}

/* A chunk for group g of correlation k, evicting k's oldest other groups while the budget is
 * spent. */
static void *group_chunk(struct kz_correlator *c, struct corr *k, const struct group *g, size_t n) {
    void *p;
    while (!(p = chunk_alloc(c, n)))
        if (reclaim(c, k, g)) return NULL;
    return p;
}

static void buckets_grow(struct corr *k) {
    uint32_t nb = k->nbuckets ? k->nbuckets * 2 : 16;
    if (nb <= k->nbuckets) return;
    struct group **b = kz_calloc(nb, sizeof *b);
    if (!b) return; /* longer chains; still correct */
    for (uint32_t i = 0; i < k->nbuckets; i++)
        for (struct group *g = k->buckets[i], *next; g; g = next) {
            next = g->hnext;
            g->hnext = b[g->hash & (nb - 1)];
            b[g->hash & (nb - 1)] = g;
        }
    kz_free(k->buckets);
    k->buckets = b;
    k->nbuckets = nb;
}

static struct group *group_find(struct kz_correlator *c, struct corr *k) {
    if (!k->nbuckets) return NULL;
    for (struct group *g = k->buckets[c->keyhash & (k->nbuckets - 1)]; g; g = g->hnext)
        if (g->hash == c->keyhash && g->key_len == c->keylen &&
            !memcmp(g->key, c->keybuf, c->keylen))
            return g;
    return NULL;
}

static struct group *group_new(struct kz_correlator *c, struct corr *k, kz_time t) {
    if (!k->nbuckets || k->ngroups >= k->nbuckets) buckets_grow(k);
    if (!k->nbuckets) return NULL;
    while (k->ngroups >= c->lim.max_groups && k->oldest) {
        group_free(c, k, k->oldest);
        c->st.groups_evicted++;
    }
    size_t size = sizeof(struct group) + c->keylen;
    struct group *g = group_chunk(c, k, NULL, size);
    if (!g) return NULL;
    memset(g, 0, sizeof *g);
    g->size = (uint32_t)size;
    g->hash = c->keyhash;
    g->key_len = c->keylen;
    memcpy(g->key, c->keybuf, c->keylen);
    g->first = t;
    g->last = t;
    g->lru_old = g->lru_new = NONE32;
    uint8_t type = k->def->type;
    if (type == KZ_CORR_TEMPORAL || type == KZ_CORR_TEMPORAL_ORDERED) {
        /* Not yet linked: a failed allocation here must not evict g itself. */
        while (!(g->seen = chunk_alloc(c, (size_t)k->def->nrefs * sizeof *g->seen)))
            if (reclaim(c, k, NULL)) {
                chunk_free(c, g, size);
                return NULL;
            }
        for (uint32_t i = 0; i < k->def->nrefs; i++)
            g->seen[i] = TIME_NONE;
    }
    struct group **b = &k->buckets[g->hash & (k->nbuckets - 1)];
    g->hnext = *b;
    *b = g;
    list_append(k, g);
    k->ngroups++;
    c->st.groups_live++;
    return g;
}

/* Empties a group's window, keeping its memory for the next one. */
static void group_reset(struct corr *k, struct group *g) {
    g->ev_head = g->ev_n = 0;
    g->ent_head = g->ent_n = 0;
    g->count = 0;
    g->sum = 0;
    if (g->vidx) memset(g->vidx, 0, (size_t)g->icap * sizeof *g->vidx);
    g->vn = 0;
    g->lru_old = g->lru_new = NONE32;
    if (g->seen)
        for (uint32_t i = 0; i < k->def->nrefs; i++)
            g->seen[i] = TIME_NONE;
}

/* ---- the entry ring ---- */

static struct entry *ent_at(const struct group *g, uint32_t i) {
    return &g->ent[(g->ent_head + i) % g->ent_cap];
}

static void ent_pop(struct group *g) {
    struct entry *e = ent_at(g, 0);
    g->count -= e->n;
    g->sum -= e->v;
    g->ent_head = (g->ent_head + 1) % g->ent_cap;
    if (--g->ent_n == 0) g->count = 0, g->sum = 0; /* no drift once empty */
}

static int ent_grow(struct kz_correlator *c, struct corr *k, struct group *g) {
    uint32_t cap = g->ent_cap ? g->ent_cap * 2 : 4;
    if (cap > c->lim.max_entries) cap = c->lim.max_entries;
    if (cap <= g->ent_cap) return -1;
    struct entry *e = group_chunk(c, k, g, (size_t)cap * sizeof *e);
    if (!e) return -1;
    for (uint32_t i = 0; i < g->ent_n; i++)
        e[i] = *ent_at(g, i);
    chunk_free(c, g->ent, (size_t)g->ent_cap * sizeof *g->ent);
    g->ent = e;
    g->ent_cap = cap;
    g->ent_head = 0;
    return 0;
}

/* Adds one input with value v at time t. Counting types merge inputs of the same time, and at the
 * cap merge the two oldest entries (the count and sum stay exact, the merged entry takes the later
 * time); a percentile keeps values one by one and drops the oldest. */
static void ent_add(struct kz_correlator *c, struct corr *k, struct group *g, kz_time t, double v,
                    int mergeable) {
    if (mergeable && g->ent_n) {
        struct entry *tail = ent_at(g, g->ent_n - 1);
        if (tail->ts == t) {
            tail->n++;
            tail->v += v;
            g->count++;
            g->sum += v;
            return;
        }
    }
    if (g->ent_n == g->ent_cap && ent_grow(c, k, g)) {
        if (!g->ent_cap) {
            c->st.no_memory++;
            return;
        }
        c->st.entries_merged++;
        if (mergeable && g->ent_n >= 2) {
            struct entry *a = ent_at(g, 0), *b = ent_at(g, 1);
            b->n += a->n;
            b->v += a->v;
            g->ent_head = (g->ent_head + 1) % g->ent_cap;
            g->ent_n--;
        } else {
            ent_pop(g);
        }
    }
    struct entry *e = &g->ent[(g->ent_head + g->ent_n) % g->ent_cap];
    e->ts = t;
    e->v = v;
    e->n = 1;
    g->ent_n++;
    g->count++;
    g->sum += v;
}

/* ---- the distinct-value set (value_count) ---- */

/* A value looked up in the index (core/oaindex.h): its hash h, and the group's slots. */
struct vkey {
    const struct vslot *vs;
    uint64_t h;
};

static int vslot_is(const void *ctx, uint32_t s) {
    const struct vkey *k = ctx;
    return k->vs[s].h == k->h;
}

static uint32_t vslot_hash(const void *ctx, uint32_t s) {
    return (uint32_t)((const struct vslot *)ctx)[s].h;
}

/* Index position holding hash h, or NONE32 (then *empty is where it would go). */
static uint32_t vpos(const struct group *g, uint64_t h, uint32_t *empty) {
    struct vkey k = {g->vs, h};
    uint32_t i = kz_oa_find(g->vidx, g->icap, (uint32_t)h, vslot_is, &k, empty);
    return i == KZ_OA_NONE ? NONE32 : i;
}

/* Removes index entry i, shifting later entries of its probe run back (no tombstones). */
static void vidx_remove(struct group *g, uint32_t i) {
    kz_oa_remove(g->vidx, g->icap, i, vslot_hash, g->vs);
}

static void lru_unlink(struct group *g, uint32_t s) {
    struct vslot *v = &g->vs[s];
    if (v->older != NONE32)
        g->vs[v->older].newer = v->newer;
    else
        g->lru_old = v->newer;
    if (v->newer != NONE32)
        g->vs[v->newer].older = v->older;
    else
        g->lru_new = v->older;
}

static void lru_append(struct group *g, uint32_t s) {
    g->vs[s].older = g->lru_new;
    g->vs[s].newer = NONE32;
    if (g->lru_new != NONE32)
        g->vs[g->lru_new].newer = s;
    else
        g->lru_old = s;
    g->lru_new = s;
}

static void vslot_delete(struct group *g, uint32_t s) {
    lru_unlink(g, s);
    vidx_remove(g, vpos(g, g->vs[s].h, NULL));
    uint32_t last = g->vn - 1;
    if (s != last) { /* keep slots dense: the last one moves into the hole */
        g->vs[s] = g->vs[last];
        struct vslot *v = &g->vs[s];
        if (v->older != NONE32)
            g->vs[v->older].newer = s;
        else
            g->lru_old = s;
        if (v->newer != NONE32)
            g->vs[v->newer].older = s;
        else
            g->lru_new = s;
        g->vidx[vpos(g, v->h, NULL)] = s + 1;
    }
    g->vn--;
}

static int vset_grow(struct kz_correlator *c, struct corr *k, struct group *g) {
    uint32_t cap = g->vcap ? g->vcap * 2 : 8;
    if (cap > k->max_values) cap = k->max_values;
    if (cap <= g->vcap) return -1;
    uint32_t icap = pow2_at_least(cap * 2);
    struct vslot *vs = group_chunk(c, k, g, (size_t)cap * sizeof *vs);
    if (!vs) return -1;
    uint32_t *vidx = group_chunk(c, k, g, (size_t)icap * sizeof *vidx);
    if (!vidx) {
        chunk_free(c, vs, (size_t)cap * sizeof *vs);
        return -1;
    }
    if (g->vn) memcpy(vs, g->vs, (size_t)g->vn * sizeof *vs);
    chunk_free(c, g->vs, (size_t)g->vcap * sizeof *g->vs);
    chunk_free(c, g->vidx, (size_t)g->icap * sizeof *g->vidx);
    g->vs = vs;
    g->vidx = vidx;
    g->vcap = cap;
    g->icap = icap;
    memset(vidx, 0, (size_t)icap * sizeof *vidx);
    for (uint32_t s = 0; s < g->vn; s++) {
        uint32_t e = 0;
        vpos(g, vs[s].h, &e);
        vidx[e] = s + 1;
    }
    return 0;
}

/* Records that value hash h was seen at t. */
static void vset_touch(struct kz_correlator *c, struct corr *k, struct group *g, uint64_t h,
                       kz_time t) {
    if (g->vcap) {
        uint32_t i = vpos(g, h, NULL);
        if (i != NONE32) {
            uint32_t s = g->vidx[i] - 1;
            g->vs[s].seen = t;
            lru_unlink(g, s);
            lru_append(g, s);
            return;
        }
    }
    if (g->vn == g->vcap && vset_grow(c, k, g)) {
        if (!g->vcap) {
            c->st.no_memory++;
            return;
        }
        vslot_delete(g, g->lru_old);
        c->st.values_evicted++;
    }
    uint32_t s = g->vn++, e = 0;
    g->vs[s].h = h;
    g->vs[s].seen = t;
    lru_append(g, s);
    vpos(g, h, &e);
    g->vidx[e] = s + 1;
}

/* ---- the events ring ---- */

static void ev_add(struct kz_correlator *c, struct corr *k, struct group *g,
                   const struct kz_corr_ref *refs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (g->ev_n == g->ev_cap && g->ev_cap < KZ_CORR_ALERT_EVENTS) {
            uint32_t cap = g->ev_cap ? g->ev_cap * 2 : 4;
            struct kz_corr_ref *ev = group_chunk(c, k, g, (size_t)cap * sizeof *ev);
            if (ev) {
                for (uint32_t j = 0; j < g->ev_n; j++)
                    ev[j] = g->ev[(g->ev_head + j) % g->ev_cap];
                chunk_free(c, g->ev, (size_t)g->ev_cap * sizeof *g->ev);
                g->ev = ev;
                g->ev_cap = cap;
                g->ev_head = 0;
            }
        }
        if (!g->ev_cap) return;
        if (g->ev_n == g->ev_cap) { /* keep the latest */
            g->ev_head = (g->ev_head + 1) % g->ev_cap;
            g->ev_n--;
        }
        g->ev[(g->ev_head + g->ev_n++) % g->ev_cap] = refs[i];
    }
}

/* ---- evaluation ---- */

/* Drops what fell out of a sliding window starting at lo. */
static void expire_state(struct corr *k, struct group *g, kz_time lo) {
    while (g->ent_n && ent_at(g, 0)->ts < lo)
        ent_pop(g);
    while (g->lru_old != NONE32 && g->vs[g->lru_old].seen < lo)
        vslot_delete(g, g->lru_old);
    while (g->ev_n && g->ev[g->ev_head].ts < lo) {
        g->ev_head = (g->ev_head + 1) % g->ev_cap;
        g->ev_n--;
    }
}

static double percentile(struct corr *k, const struct group *g) {
    uint32_t n = g->ent_n;
    for (uint32_t i = 0; i < n; i++)
        k->pct[i] = ent_at(g, i)->v;
    qsort(k->pct, n, sizeof *k->pct, cmp_double);
    double p = k->def->percentile;
    if (p < 0) p = 0;
    if (p > 100) p = 100;
    double rank = p / 100.0 * (double)(n - 1);
    uint32_t lo = (uint32_t)rank;
    if (lo >= n - 1) return k->pct[n - 1];
    double frac = rank - (double)lo;
    return k->pct[lo] + frac * (k->pct[lo + 1] - k->pct[lo]);
}

/* The group's aggregate over entries at or after lo, and the time of the oldest one that counts.
 * Returns -1 when there is nothing to compare (no numeric input). */
static int group_value(struct corr *k, const struct group *g, kz_time lo, double *value,
                       kz_time *first) {
    *first = g->first;
    switch (k->def->type) {
    case KZ_CORR_EVENT_COUNT:
    case KZ_CORR_VALUE_SUM:
    case KZ_CORR_VALUE_AVG:
    case KZ_CORR_VALUE_PERCENTILE:
        if (!g->ent_n || !g->count) return -1;
        *first = ent_at(g, 0)->ts;
        if (k->def->type == KZ_CORR_EVENT_COUNT)
            *value = (double)g->count;
        else if (k->def->type == KZ_CORR_VALUE_SUM)
            *value = g->sum;
        else if (k->def->type == KZ_CORR_VALUE_AVG)
            *value = g->sum / (double)g->count;
        else
            *value = percentile(k, g);
        return 0;
    case KZ_CORR_VALUE_COUNT:
        if (!g->vn) return -1;
        *value = g->vn;
        *first = g->vs[g->lru_old].seen;
        return 0;
    case KZ_CORR_TEMPORAL:
    case KZ_CORR_TEMPORAL_ORDERED: {
        /* temporal: rules seen in the window. temporal_ordered: starts never increase along the
         * chain (a chain through p extends one through p-1), so the positions inside the window
         * are a prefix, and the last of them holds the start of the longest in-order chain. */
        uint32_t n = 0;
        kz_time oldest = TIME_NONE;
        for (uint32_t p = 0; p < k->def->nrefs; p++) {
            kz_time s = g->seen[p];
            if (s == TIME_NONE || s < lo) continue;
            n++;
            if (oldest == TIME_NONE || s < oldest) oldest = s;
        }
        *value = n;
        if (oldest != TIME_NONE) *first = oldest;
        return 0;
    }
    }
    return -1;
}

static int condition_holds(const struct kz_sigma_correlation *d, double v) {
    if (d->ncmp == 0) return v >= (double)d->nrefs; /* temporal default: every rule */
    for (uint32_t i = 0; i < d->ncmp && i < 6; i++) {
        double x = d->cmp_val[i];
        int ok;
        switch (d->cmp_op[i]) {
        case KZ_CMP_GT:
            ok = v > x;
            break;
        case KZ_CMP_GTE:
            ok = v >= x;
            break;
        case KZ_CMP_LT:
            ok = v < x;
            break;
        case KZ_CMP_LTE:
            ok = v <= x;
            break;
        case KZ_CMP_EQ:
            ok = v == x;
            break;
        case KZ_CMP_NEQ:
            ok = v != x;
            break;
        default:
            ok = 0;
        }
        if (!ok) return 0;
    }
    return 1;
}

static void dispatch(struct kz_correlator *c, const struct cin *in, int depth, kz_corr_fire_fn fire,
                     void *ctx);

/* Reports an alert of group g, then feeds it to the correlations that reference this one. */
static void emit(struct kz_correlator *c, struct corr *k, struct group *g, double value,
                 kz_time first, int depth, kz_corr_fire_fn fire, void *ctx) {
    const struct kz_sigma_correlation *d = k->def;
    const char *p = g->key;
    for (uint32_t i = 0; i < d->ngroup_by; i++) {
        k->gvals[i] = p;
        p += strlen(p) + 1;
    }
    for (uint32_t i = 0; i < g->ev_n; i++)
        k->evs[i] = g->ev[(g->ev_head + i) % g->ev_cap];
    struct kz_corr_alert a = {
        .rule = k->rule,
        .first = first,
        .last = g->last,
        .value = value,
        .ngroup = d->ngroup_by,
        .group_fields = d->group_by,
        .group_values = k->gvals,
        .nevents = g->ev_n,
        .events = k->evs,
    };
    c->st.alerts++;
    if (k->generates && fire) {
        c->st.reported++;
        fire(ctx, &a);
    }
    if (depth + 1 >= KZ_CORR_MAX_DEPTH) return;
    struct cin next = {
        .ts = a.last,
        .rule = k->rule,
        .nvalues = a.ngroup,
        .fields = a.group_fields,
        .values = a.group_values,
        .nrefs = a.nevents,
        .refs = a.events,
    };
    dispatch(c, &next, depth + 1, fire, ctx);
}

/* Tests a closed window and forgets its group. */
static void group_close(struct kz_correlator *c, struct corr *k, struct group *g, int depth,
                        kz_corr_fire_fn fire, void *ctx) {
    double v;
    kz_time first;
    if (!group_value(k, g, g->first, &v, &first) && condition_holds(k->def, v))
        emit(c, k, g, v, first, depth, fire, ctx);
    group_free(c, k, g);
}

/* Ends what lies more than a timespan before t: closed windows are tested, sliding groups whose
 * latest input is out of the window are forgotten. */
static void expire_groups(struct kz_correlator *c, struct corr *k, kz_time t, int depth,
                          kz_corr_fire_fn fire, void *ctx) {
    struct group *g;
    if (k->closed) {
        while ((g = k->oldest) && farther_than(g->first, t, k->span))
            group_close(c, k, g, depth, fire, ctx);
    } else {
        while ((g = k->oldest) && farther_than(g->last, t, k->span))
            group_free(c, k, g);
    }
}

/* ---- feeding ---- */

/* Builds the group key of an input in c->keybuf; -1 when a group-by field is missing. */
static int build_key(struct kz_correlator *c, const struct corr *k, const struct edge *e,
                     const struct cin *in) {
    uint64_t h = FNV_SEED;
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->def->ngroup_by; i++) {
        const char *v = input_value(in, e->gfields[i]);
        if (!v) return -1;
        size_t len = strlen(v);
        h = fnv(h, v, len);
        h = fnv(h, "\0", 1); /* ("ab","c") and ("a","bc") differ */
        size_t keep = len;
        if (keep > KZ_CORR_MAX_KEY_VALUE) {
            keep = KZ_CORR_MAX_KEY_VALUE;
            while (keep && ((unsigned char)v[keep] & 0xC0) == 0x80) /* whole UTF-8 characters */
                keep--;
        }
        memcpy(c->keybuf + n, v, keep);
        n += (uint32_t)keep;
        c->keybuf[n++] = 0;
    }
    c->keylen = n;
    c->keyhash = mix64(h);
    return 0;
}

static void feed(struct kz_correlator *c, struct corr *k, const struct edge *e,
                 const struct cin *in, int depth, kz_corr_fire_fn fire, void *ctx) {
    const struct kz_sigma_correlation *d = k->def;
    for (uint32_t i = 0; i < d->ngroup_by; i++)
        if (!input_value(in, e->gfields[i])) {
            c->st.ungrouped++;
            return;
        }
    uint64_t vhash = 0;
    double num = 0;
    if (d->type == KZ_CORR_VALUE_COUNT) {
        const char *v = input_value(in, e->vfield);
        if (!v) {
            c->st.no_value++;
            return;
        }
        vhash = mix64(fnv(FNV_SEED, v, strlen(v)));
    } else if (d->type >= KZ_CORR_VALUE_SUM) {
        const char *v = input_value(in, e->vfield);
        if (!v || parse_number(v, &num)) {
            c->st.no_value++;
            return;
        }
    }
    kz_time t = in->ts;
    if (k->started && t < k->clock) {
        if (farther_than(t, k->clock, k->span)) {
            c->st.late++;
            return;
        }
        t = k->clock; /* a little late: counted as now */
    } else {
        k->clock = t;
        k->started = 1;
    }
    /* Before the key is built: closing windows may feed other correlations, which use the key
     * buffer too. */
    expire_groups(c, k, t, depth, fire, ctx);
    if (build_key(c, k, e, in)) return;
    struct group *g = group_find(c, k);
    if (!g && !(g = group_new(c, k, t))) {
        c->st.no_memory++;
        return;
    }
    if (!k->closed && k->newest != g) {
        list_unlink(k, g);
        list_append(k, g);
    }
    g->last = t;
    kz_time lo = k->closed ? g->first : window_low(t, k->span);
    switch (d->type) {
    case KZ_CORR_EVENT_COUNT:
        ent_add(c, k, g, t, 0, 1);
        break;
    case KZ_CORR_VALUE_SUM:
    case KZ_CORR_VALUE_AVG:
        ent_add(c, k, g, t, num, 1);
        break;
    case KZ_CORR_VALUE_PERCENTILE:
        ent_add(c, k, g, t, num, 0);
        break;
    case KZ_CORR_VALUE_COUNT:
        vset_touch(c, k, g, vhash, t);
        break;
    case KZ_CORR_TEMPORAL:
        for (uint32_t p = 0; p < d->nrefs; p++)
            if (e->positions >> p & 1) g->seen[p] = t;
        break;
    case KZ_CORR_TEMPORAL_ORDERED:
        /* Highest position first, so one input never fills two consecutive steps. */
        for (uint32_t p = d->nrefs; p-- > 0;) {
            if (!(e->positions >> p & 1)) continue;
            if (p == 0)
                g->seen[0] = t;
            else if (g->seen[p - 1] != TIME_NONE && g->seen[p - 1] >= lo &&
                     (g->seen[p] == TIME_NONE || g->seen[p] < g->seen[p - 1]))
                g->seen[p] = g->seen[p - 1];
        }
        break;
    }
    ev_add(c, k, g, in->refs, in->nrefs);
    if (k->closed) return;
    expire_state(k, g, lo);
    double v;
    kz_time first;
    if (!group_value(k, g, lo, &v, &first) && condition_holds(d, v)) {
        emit(c, k, g, v, first, depth, fire, ctx);
        group_reset(k, g);
    }
}

/* A rule looked up in rtab (core/oaindex.h). */
struct rkey {
    const struct rinfo *rinfos;
    const struct kz_sigma_rule *r;
};

static int rinfo_is(const void *ctx, uint32_t x) {
    const struct rkey *k = ctx;
    return k->rinfos[x].rule == k->r;
}

static const struct rinfo *rinfo_find(const struct kz_correlator *c,
                                      const struct kz_sigma_rule *r) {
    if (!c->rtab || !r) return NULL;
    struct rkey k = {c->rinfos, r};
    uint32_t i = kz_oa_find(c->rtab, c->rtab_mask + 1, (uint32_t)ptr_hash(r), rinfo_is, &k, NULL);
    return i == KZ_OA_NONE ? NULL : &c->rinfos[c->rtab[i] - 1];
}

static void dispatch(struct kz_correlator *c, const struct cin *in, int depth, kz_corr_fire_fn fire,
                     void *ctx) {
    const struct rinfo *ri = rinfo_find(c, in->rule);
    if (!ri) return;
    for (uint32_t i = 0; i < ri->nedges; i++) {
        const struct edge *e = &c->edges[ri->first_edge + i];
        feed(c, &c->corrs[e->corr], e, in, depth, fire, ctx);
    }
}

/* ---- public: running ---- */

void kz_correlator_push(struct kz_correlator *c, const struct kz_corr_input *in,
                        kz_corr_fire_fn fire, void *ctx) {
    if (!c || !in) return;
    c->st.inputs++;
    c->pushed = 1;
    kz_time t = in->ts == TIME_NONE ? TIME_NONE + 1 : in->ts;
    if (c->started && t < c->clock) {
        c->st.out_of_order++;
    } else {
        c->clock = t;
        c->started = 1;
    }
    /* Windows that ended before now are tested first, so alerts come in time order. */
    for (uint32_t i = 0; i < c->nclosed; i++)
        expire_groups(c, &c->corrs[c->closed_list[i]], c->clock, 0, fire, ctx);
    struct kz_corr_ref ref = {t, in->rule, in->file_id, in->record_id};
    struct cin ci = {
        .ts = t,
        .rule = in->rule,
        .nvalues = in->fields && in->values ? in->nvalues : 0,
        .fields = in->fields,
        .values = in->values,
        .nrefs = 1,
        .refs = &ref,
    };
    dispatch(c, &ci, 0, fire, ctx);
}

void kz_correlator_finish(struct kz_correlator *c, kz_corr_fire_fn fire, void *ctx) {
    if (!c) return;
    /* Referenced correlations first: their last alerts may still feed the ones above. */
    for (uint32_t i = 0; i < c->norder; i++) {
        struct corr *k = &c->corrs[c->order[i]];
        while (k->oldest) {
            if (k->closed)
                group_close(c, k, k->oldest, 0, fire, ctx);
            else
                group_free(c, k, k->oldest);
        }
        k->started = 0;
    }
    c->started = 0;
}

void kz_correlator_stats(const struct kz_correlator *c, struct kz_corr_stats *out) {
    *out = c->st;
    out->memory = c->state.used;
}

const char *kz_correlator_skipped(const struct kz_correlator *c, uint32_t i,
                                  const struct kz_sigma_rule **r) {
    for (uint32_t j = 0; j < c->ncorrs; j++)
        if (c->corrs[j].skip && i-- == 0) {
            if (r) *r = c->corrs[j].rule;
            return c->corrs[j].skip;
        }
    return NULL;
}

int kz_correlator_wants(const struct kz_correlator *c, const struct kz_sigma_rule *r,
                        const uint32_t **fields, uint32_t *nfields) {
    const struct rinfo *ri = rinfo_find(c, r);
    if (fields) *fields = ri ? ri->wants : NULL;
    if (nfields) *nfields = ri ? ri->nwants : 0;
    return ri && ri->nedges ? 1 : 0;
}

int kz_correlator_generates(const struct kz_correlator *c, const struct kz_sigma_rule *r) {
    const struct rinfo *ri = rinfo_find(c, r);
    return ri ? ri->generates : 1;
}

int kz_correlator_set_limits(struct kz_correlator *c, const struct kz_corr_limits *lim) {
    if (c->pushed) return KZ_EUSAGE;
    struct kz_corr_limits l = c->lim;
    if (lim->max_groups) l.max_groups = lim->max_groups;
    if (lim->max_entries) l.max_entries = lim->max_entries;
    if (lim->max_values) l.max_values = lim->max_values;
    if (lim->memory) l.memory = lim->memory;
    if (l.max_entries < 2 || l.max_entries > KZ_CORR_HARD_MAX_ENTRIES || l.max_values < 1 ||
        l.max_values > KZ_CORR_HARD_MAX_VALUES)
        return KZ_EUSAGE;
    for (uint32_t i = 0; i < c->ncorrs; i++) {
        struct corr *k = &c->corrs[i];
        if (k->skip || k->def->type != KZ_CORR_VALUE_PERCENTILE) continue;
        double *p = kz_malloc((size_t)l.max_entries * sizeof *p);
        if (!p) return KZ_ENOMEM;
        kz_free(k->pct);
        k->pct = p;
    }
    c->lim = l;
    c->state.cap = l.memory;
    for (uint32_t i = 0; i < c->ncorrs; i++) {
        struct corr *k = &c->corrs[i];
        if (k->skip) continue;
        /* value_count: room for the threshold, or it could never be reached. */
        double need = 0;
        for (uint32_t j = 0; j < k->def->ncmp && j < 6; j++)
            if (k->def->cmp_val[j] + 1 > need) need = k->def->cmp_val[j] + 1;
        k->max_values = l.max_values;
        if (need > k->max_values)
            k->max_values =
                need > KZ_CORR_HARD_MAX_VALUES ? KZ_CORR_HARD_MAX_VALUES : (uint32_t)need;
    }
    return 0;
}

/* ---- public: building ---- */

static int rtab_insert(struct kz_correlator *c, const struct kz_sigma_rule *r, uint32_t *index) {
    struct rkey k = {c->rinfos, r};
    uint32_t i, empty = 0;
    i = kz_oa_find(c->rtab, c->rtab_mask + 1, (uint32_t)ptr_hash(r), rinfo_is, &k, &empty);
    if (i != KZ_OA_NONE) {
        *index = c->rtab[i] - 1;
        return 0;
    }
    *index = c->nrinfos++;
    c->rtab[empty] = *index + 1;
    memset(&c->rinfos[*index], 0, sizeof c->rinfos[*index]);
    c->rinfos[*index].rule = r;
    c->rinfos[*index].generates = 1;
    return 1;
}

/* The field giving group-by name g for matches of rule r: the alias's mapping for r, else g. */
static uint32_t resolve_field(const struct kz_sigma_correlation *d, uint32_t g,
                              const struct kz_sigma_rule *r) {
    for (uint32_t i = 0; i < d->naliases; i++) {
        const struct kz_sigma_alias *a = &d->aliases[i];
        if (a->alias != g) continue;
        for (uint32_t j = 0; j < a->nmaps; j++)
            if (a->rules[j] == r) return a->fields[j];
    }
    return g;
}

/* Correlation index of rule r, or NONE32 (linear in the correlations: only used while building,
 * through the table built in order()). */
struct ctab {
    uint32_t *slots; /* corr index + 1 */
    uint32_t mask;
};

/* A rule looked up in a ctab (core/oaindex.h). */
struct ckey {
    const struct corr *corrs;
    const struct kz_sigma_rule *r;
};

static int corr_is(const void *ctx, uint32_t x) {
    const struct ckey *k = ctx;
    return k->corrs[x].rule == k->r;
}

static uint32_t ctab_find(const struct kz_correlator *c, const struct ctab *t,
                          const struct kz_sigma_rule *r) {
    struct ckey k = {c->corrs, r};
    uint32_t i = kz_oa_find(t->slots, t->mask + 1, (uint32_t)ptr_hash(r), corr_is, &k, NULL);
    return i == KZ_OA_NONE ? NONE32 : t->slots[i] - 1;
}

/* Orders the correlations so that referenced ones come first (Kahn's algorithm over the
 * references between correlations), skipping those in a cycle, on a skipped one, or deeper than
 * KZ_CORR_MAX_DEPTH. Iterative, so a hostile chain cannot exhaust the stack. */
static int order_correlations(struct kz_correlator *c, struct kz_err *err) {
    uint32_t n = c->ncorrs;
    int rc = KZ_ENOMEM;
    struct ctab t = {0};
    uint32_t tsize = pow2_at_least(n * 2 + 2);
    t.slots = kz_calloc(tsize, sizeof *t.slots);
    t.mask = tsize - 1;
    uint32_t *pending = kz_calloc(n + 1, sizeof *pending);
    uint32_t *height = kz_calloc(n + 1, sizeof *height);
    uint32_t *dep_start = kz_calloc(n + 2, sizeof *dep_start);
    uint32_t *queue = kz_calloc(n + 1, sizeof *queue);
    uint32_t *deps = NULL, *fill = NULL;
    if (!t.slots || !pending || !height || !dep_start || !queue) goto out;
    for (uint32_t i = 0; i < n; i++)
        kz_oa_insert(t.slots, tsize, (uint32_t)ptr_hash(c->corrs[i].rule), i);
    /* Reverse edges: for each correlation, the ones that reference it. */
    size_t nedges = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct kz_sigma_correlation *d = c->corrs[i].def;
        for (uint32_t p = 0; p < d->nrefs && p < KZ_CORR_MAX_RULES; p++) {
            uint32_t j = d->rules[p] ? ctab_find(c, &t, d->rules[p]) : NONE32;
            if (j == NONE32) continue;
            pending[i]++;
            dep_start[j + 1]++;
            nedges++;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        dep_start[i + 1] += dep_start[i];
    deps = kz_calloc(nedges + 1, sizeof *deps);
    fill = kz_calloc(n + 1, sizeof *fill);
    if (!deps || !fill) goto out;
    for (uint32_t i = 0; i < n; i++) {
        const struct kz_sigma_correlation *d = c->corrs[i].def;
        for (uint32_t p = 0; p < d->nrefs && p < KZ_CORR_MAX_RULES; p++) {
            uint32_t j = d->rules[p] ? ctab_find(c, &t, d->rules[p]) : NONE32;
            if (j != NONE32) deps[dep_start[j] + fill[j]++] = i;
        }
    }
    uint32_t qh = 0, qt = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!pending[i]) queue[qt++] = i;
    while (qh < qt) {
        uint32_t i = queue[qh++];
        struct corr *k = &c->corrs[i];
        uint32_t h = 1;
        const struct kz_sigma_correlation *d = k->def;
        for (uint32_t p = 0; p < d->nrefs && p < KZ_CORR_MAX_RULES; p++) {
            uint32_t j = d->rules[p] ? ctab_find(c, &t, d->rules[p]) : NONE32;
            if (j == NONE32) continue;
            if (c->corrs[j].skip && !k->skip) k->skip = "references a correlation that is skipped";
            if (height[j] + 1 > h) h = height[j] + 1;
        }
        height[i] = h;
        if (h > KZ_CORR_MAX_DEPTH && !k->skip)
            k->skip = "chain of correlations deeper than 16 (KZ_CORR_MAX_DEPTH)";
        if (!k->skip) c->order[c->norder++] = i;
        for (uint32_t x = dep_start[i]; x < dep_start[i + 1]; x++)
            if (--pending[deps[x]] == 0) queue[qt++] = deps[x];
    }
    for (uint32_t i = 0; i < n; i++)
        if (pending[i] && !c->corrs[i].skip) c->corrs[i].skip = "part of a cycle of correlations";
    rc = 0;
out:
    if (rc) kz_err_set(err, rc, "correlations: out of memory ordering %u correlations", n);
    kz_free(t.slots);
    kz_free(pending);
    kz_free(height);
    kz_free(dep_start);
    kz_free(queue);
    kz_free(deps);
    kz_free(fill);
    return rc;
}

/* Builds the rule -> correlation edges and what each rule must carry. */
static int build_edges(struct kz_correlator *c, struct kz_err *err) {
    size_t maxr = 1;
    for (uint32_t o = 0; o < c->norder; o++)
        maxr += c->corrs[c->order[o]].def->nrefs;
    uint32_t tsize = pow2_at_least((uint32_t)(maxr * 2));
    c->rtab = kz_calloc(tsize, sizeof *c->rtab);
    c->rtab_mask = tsize - 1;
    c->rinfos = kz_calloc(maxr, sizeof *c->rinfos);
    if (!c->rtab || !c->rinfos) goto oom;
    /* Pass 1: rules, edge counts and generate, in rule-set order. */
    size_t nedges = 0;
    for (uint32_t i = 0; i < c->ncorrs; i++) {
        const struct corr *k = &c->corrs[i];
        if (k->skip) continue;
        for (uint32_t p = 0; p < k->def->nrefs; p++) {
            const struct kz_sigma_rule *r = k->def->rules[p];
            int dup = 0;
            for (uint32_t q = 0; q < p; q++)
                dup |= k->def->rules[q] == r;
            if (dup) continue;
            uint32_t x;
            rtab_insert(c, r, &x);
            c->rinfos[x].nedges++;
            if (!k->def->generate) c->rinfos[x].generates = 0;
            nedges++;
        }
    }
    c->edges = kz_arena_alloc(&c->meta, (nedges + 1) * sizeof *c->edges);
    if (!c->edges) goto oom;
    uint32_t at = 0;
    for (uint32_t x = 0; x < c->nrinfos; x++) {
        c->rinfos[x].first_edge = at;
        at += c->rinfos[x].nedges;
        c->rinfos[x].nedges = 0; /* refilled below */
    }
    /* Pass 2: the edges, each with its resolved fields. */
    for (uint32_t i = 0; i < c->ncorrs; i++) {
        const struct corr *k = &c->corrs[i];
        if (k->skip) continue;
        const struct kz_sigma_correlation *d = k->def;
        for (uint32_t p = 0; p < d->nrefs; p++) {
            const struct kz_sigma_rule *r = d->rules[p];
            int dup = 0;
            for (uint32_t q = 0; q < p; q++)
                dup |= d->rules[q] == r;
            if (dup) continue;
            const struct rinfo *ri = rinfo_find(c, r);
            struct rinfo *rw = &c->rinfos[ri - c->rinfos];
            struct edge *e = &c->edges[rw->first_edge + rw->nedges++];
            e->corr = i;
            e->positions = 0;
            for (uint32_t q = p; q < d->nrefs; q++)
                if (d->rules[q] == r) e->positions |= (uint64_t)1 << q;
            e->gfields = kz_arena_alloc(&c->meta, (d->ngroup_by + 1) * sizeof *e->gfields);
            if (!e->gfields) goto oom;
            for (uint32_t g = 0; g < d->ngroup_by; g++)
                e->gfields[g] = resolve_field(d, d->group_by[g], r);
            e->vfield =
                d->type == KZ_CORR_VALUE_COUNT || d->type >= KZ_CORR_VALUE_SUM ? d->field : 0;
        }
    }
    /* What each rule's matches must carry: the union of its edges' fields, sorted, unique. */
    for (uint32_t x = 0; x < c->nrinfos; x++) {
        struct rinfo *ri = &c->rinfos[x];
        size_t n = 0;
        for (uint32_t j = 0; j < ri->nedges; j++)
            n += c->corrs[c->edges[ri->first_edge + j].corr].def->ngroup_by + 1;
        uint32_t *w = kz_arena_alloc(&c->meta, (n + 1) * sizeof *w);
        if (!w) goto oom;
        uint32_t m = 0;
        for (uint32_t j = 0; j < ri->nedges; j++) {
            const struct edge *e = &c->edges[ri->first_edge + j];
            for (uint32_t g = 0; g < c->corrs[e->corr].def->ngroup_by; g++)
                if (e->gfields[g]) w[m++] = e->gfields[g];
            if (e->vfield) w[m++] = e->vfield;
        }
        qsort(w, m, sizeof *w, cmp_u32);
        uint32_t u = 0;
        for (uint32_t j = 0; j < m; j++)
            if (!u || w[u - 1] != w[j]) w[u++] = w[j];
        ri->wants = w;
        ri->nwants = u;
    }
    return 0;
oom:
    return kz_err_set(err, KZ_ENOMEM, "correlations: out of memory building the rule tables");
}

int kz_correlator_new(struct kz_correlator **out, const struct kz_sigma_ruleset *rs,
                      struct kz_err *err) {
    *out = NULL;
    struct kz_correlator *c = kz_calloc(1, sizeof *c);
    if (!c) return kz_err_set(err, KZ_ENOMEM, "correlations: out of memory");
    c->rs = rs;
    c->lim.max_groups = DEFAULT_MAX_GROUPS;
    c->lim.max_entries = DEFAULT_MAX_ENTRIES;
    c->lim.max_values = DEFAULT_MAX_VALUES;
    c->lim.memory = DEFAULT_MEMORY;
    kz_arena_init(&c->meta, 64 << 10, (size_t)1 << 30);
    kz_arena_init(&c->state, 1 << 20, c->lim.memory);
    int rc;
    for (uint32_t i = 0; i < rs->nrules; i++)
        c->ncorrs += rs->rules[i]->kind == KZ_SIGMA_CORRELATION;
    c->corrs = kz_calloc(c->ncorrs + 1, sizeof *c->corrs);
    c->order = kz_calloc(c->ncorrs + 1, sizeof *c->order);
    c->closed_list = kz_calloc(c->ncorrs + 1, sizeof *c->closed_list);
    if (!c->corrs || !c->order || !c->closed_list) {
        rc = kz_err_set(err, KZ_ENOMEM, "correlations: out of memory");
        goto fail;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < rs->nrules; i++) {
        const struct kz_sigma_rule *r = rs->rules[i];
        if (r->kind != KZ_SIGMA_CORRELATION) continue;
        struct corr *k = &c->corrs[n++];
        const struct kz_sigma_correlation *d = &r->corr;
        k->rule = r;
        k->def = d;
        k->generates = 1;
        uint64_t s = d->timespan_s;
        k->span = s > (uint64_t)(MAX_SPAN_TICKS / KZ_TICKS_PER_SEC) ? MAX_SPAN_TICKS
                                                                    : (kz_time)s * KZ_TICKS_PER_SEC;
        for (uint32_t j = 0; j < d->ncmp && j < 6; j++)
            if (d->cmp_op[j] != KZ_CMP_GT && d->cmp_op[j] != KZ_CMP_GTE) k->closed = 1;
        if (d->nrefs == 0)
            k->skip = "references no rules";
        else if (d->nrefs > KZ_CORR_MAX_RULES)
            k->skip = "references more than 64 rules (KZ_CORR_MAX_RULES)";
        else if (d->ngroup_by > KZ_CORR_MAX_GROUP_BY)
            k->skip = "has more than 32 group-by fields (KZ_CORR_MAX_GROUP_BY)";
        for (uint32_t p = 0; p < d->nrefs && !k->skip; p++)
            if (!d->rules[p] || d->rules[p]->kind == KZ_SIGMA_FILTER)
                k->skip = "has a rule reference that is not linked (kz_sigma_ruleset_link)";
        for (uint32_t a = 0; a < d->naliases && !k->skip; a++)
            for (uint32_t j = 0; j < d->aliases[a].nmaps; j++)
                if (!d->aliases[a].rules || !d->aliases[a].rules[j])
                    k->skip = "has an alias naming a rule that is not linked";
    }
    if ((rc = order_correlations(c, err))) goto fail;
    for (uint32_t i = 0; i < c->ncorrs; i++)
        c->st.skipped += c->corrs[i].skip != NULL;
    c->st.correlations = c->ncorrs;
    if ((rc = build_edges(c, err))) goto fail;
    for (uint32_t o = 0; o < c->norder; o++) {
        struct corr *k = &c->corrs[c->order[o]];
        const struct rinfo *ri = rinfo_find(c, k->rule);
        k->generates = ri ? ri->generates : 1;
        if (k->closed) c->closed_list[c->nclosed++] = c->order[o];
        k->gvals = kz_arena_alloc(&c->meta, (k->def->ngroup_by + 1) * sizeof *k->gvals);
        k->evs = kz_arena_alloc(&c->meta, KZ_CORR_ALERT_EVENTS * sizeof *k->evs);
        if (!k->gvals || !k->evs) {
            rc = kz_err_set(err, KZ_ENOMEM, "correlations: out of memory");
            goto fail;
        }
    }
    struct kz_corr_limits keep = {0};
    if ((rc = kz_correlator_set_limits(c, &keep))) {
        rc = kz_err_set(err, rc, "correlations: out of memory");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    kz_correlator_free(c);
    return rc;
}

void kz_correlator_free(struct kz_correlator *c) {
    if (!c) return;
    for (uint32_t i = 0; c->corrs && i < c->ncorrs; i++) {
        kz_free(c->corrs[i].buckets);
        kz_free(c->corrs[i].pct);
    }
    kz_free(c->corrs);
    kz_free(c->order);
    kz_free(c->closed_list);
    kz_free(c->rtab);
    kz_free(c->rinfos);
    kz_arena_free(&c->meta);
    kz_arena_free(&c->state);
    kz_free(c);
}
