/* valueset.c - items with many values, looked up at once instead of value by value.
 *
 * Rules often list dozens of paths or names in one item (`Image|endswith: [...]`, filter lists of
 * legitimate locations, `DestinationIp|cidr: [...]`). Evaluating such an item value by value costs
 * one comparison per value on every event that reaches the rule, and these items sit behind
 * common literals, so they run on most events of their channel. At engine build, each such item
 * becomes a set:
 *   - exact, startswith and endswith patterns go into one hash table keyed by (kind, length,
 *     hash of the text); the field is hashed once forwards (prefixes, exact) and once backwards
 *     (suffixes), probing at each length some pattern has, so the cost follows the field's
 *     length, not the number of values; a hit is confirmed by comparing the bytes;
 *   - contains patterns stay a list searched in the folded field (no per-value dispatch);
 *   - |cidr items become sorted, disjoint address ranges per family (overlapping networks
 *     merged), searched by bisection; the field's address is parsed once per event (evaluate.c).
 * Only plain items qualify: a field, values ORed, case-insensitive string patterns (or networks),
 * no |all, |neq or other modifier that changes how a value compares. Meaning is unchanged: the
 * item holds when some instance of its field matches some pattern, exactly as evaluate.c decides
 * value by value; evaluate.c falls back to that path whenever the log source rewrites values of
 * the item's field (logsource `values:`), which the set does not know. */
#include "match_int.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

enum { SET_EXACT = 1, SET_PREFIX, SET_SUFFIX };

static uint64_t key_of(uint64_t h, uint8_t kind, uint32_t len) {
    h ^= ((uint64_t)kind << 56) ^ ((uint64_t)len << 24);
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t step(uint64_t h, unsigned char c) {
    return (h ^ c) * FNV_PRIME;
}

/* Which patterns a set can hold; the item's other modifiers must not change comparisons. */
#define SET_BLOCKING_MODS                                                                          \
    (KZ_SM(ALL) | KZ_SM(EXISTS) | KZ_SM(NEQ) | KZ_SM(RE) | KZ_SM(FIELDREF) | KZ_SM(EXPAND) |     \
     KZ_SM_COMPARE | KZ_SM_TIMEPART)

static int string_item(const struct kz_sigma_item *it) {
    if (!it->field || (it->mods & (SET_BLOCKING_MODS | KZ_SM(CIDR))) ||
        it->nvalues < MATCH_SET_MIN_VALUES)
        return 0;
    for (uint32_t k = 0; k < it->nvalues; k++) {
        const struct kz_sigma_value *v = &it->values[k];
        if (v->type != KZ_SV_STRING && v->type != KZ_SV_NUMBER && v->type != KZ_SV_BOOL) return 0;
        for (uint32_t p = 0; p < v->npatterns; p++) {
            const struct kz_sigma_pattern *pt = &v->patterns[p];
            if (pt->cased || pt->len == 0) return 0;
            if (pt->match != KZ_MATCH_EXACT && pt->match != KZ_MATCH_STARTSWITH &&
                pt->match != KZ_MATCH_ENDSWITH && pt->match != KZ_MATCH_CONTAINS)
                return 0;
        }
    }
    return 1;
}

static int cidr_item(const struct kz_sigma_item *it) {
    if (!it->field || (it->mods & SET_BLOCKING_MODS) || !(it->mods & KZ_SM(CIDR)) ||
        it->nvalues < 2)
        return 0;
    for (uint32_t k = 0; k < it->nvalues; k++)
        if (it->values[k].type != KZ_SV_CIDR) return 0;
    return 1;
}

/* Adds a distinct length to a sorted list (lens has room for every pattern). */
static void add_len(uint32_t *lens, uint32_t *n, uint32_t len) {
    uint32_t i = 0;
    while (i < *n && lens[i] < len)
        i++;
    if (i < *n && lens[i] == len) return;
    memmove(lens + i + 1, lens + i, (*n - i) * sizeof *lens);
    lens[i] = len;
    (*n)++;
}

static void table_put(struct match_set *st, uint8_t kind, const char *text, uint32_t len) {
    uint64_t h = FNV_OFFSET;
    if (kind == SET_SUFFIX)
        for (uint32_t i = len; i-- > 0;)
            h = step(h, (unsigned char)text[i]);
    else
        for (uint32_t i = 0; i < len; i++)
            h = step(h, (unsigned char)text[i]);
    uint64_t key = key_of(h, kind, len);
    for (uint32_t i = (uint32_t)key & st->mask;; i = (i + 1) & st->mask) {
        struct match_set_entry *en = &st->slots[i];
        if (!en->text) {
            *en = (struct match_set_entry){.key = key, .len = len, .kind = kind, .text = text};
            return;
        }
        if (en->key == key && en->len == len && en->kind == kind && !memcmp(en->text, text, len))
            return; /* the same pattern twice */
    }
}

static int build_string_set(struct kz_arena *a, struct match_set *st,
                            const struct kz_sigma_item *it) {
    uint32_t npat = 0;
    for (uint32_t k = 0; k < it->nvalues; k++)
        npat += it->values[k].npatterns;
    uint32_t slots = 16;
    while (slots < npat * 2)
        slots *= 2;
    st->mask = slots - 1;
    st->slots = kz_arena_alloc(a, slots * sizeof *st->slots);
    st->prefix_lens = kz_arena_alloc(a, (npat + 1) * sizeof *st->prefix_lens);
    st->suffix_lens = kz_arena_alloc(a, (npat + 1) * sizeof *st->suffix_lens);
    st->contains = kz_arena_alloc(a, (npat + 1) * sizeof *st->contains);
    if (!st->slots || !st->prefix_lens || !st->suffix_lens || !st->contains) return KZ_ENOMEM;
    memset(st->slots, 0, slots * sizeof *st->slots);
    for (uint32_t k = 0; k < it->nvalues; k++) {
        const struct kz_sigma_value *v = &it->values[k];
        for (uint32_t p = 0; p < v->npatterns; p++) {
            const struct kz_sigma_pattern *pt = &v->patterns[p];
            switch (pt->match) {
            case KZ_MATCH_EXACT:
                table_put(st, SET_EXACT, pt->text, pt->len);
                if (pt->len > st->max_exact) st->max_exact = pt->len;
                break;
            case KZ_MATCH_STARTSWITH:
                table_put(st, SET_PREFIX, pt->text, pt->len);
                add_len(st->prefix_lens, &st->nprefix, pt->len);
                break;
            case KZ_MATCH_ENDSWITH:
                table_put(st, SET_SUFFIX, pt->text, pt->len);
                add_len(st->suffix_lens, &st->nsuffix, pt->len);
                break;
            default: /* KZ_MATCH_CONTAINS (string_item admits nothing else) */
                st->contains[st->ncontains++] = pt;
                break;
            }
        }
    }
    return 0;
}

/* ---- |cidr sets ---- */

/* The network as a range of 128-bit values (IPv4 in the low half). */
static struct match_range cidr_range(const struct kz_sigma_value *v) {
    unsigned char lo[16] = {0}, hi[16];
    int off = v->family == 4 ? 12 : 0, bytes = v->family == 4 ? 4 : 16;
    memcpy(lo + off, v->addr, (size_t)bytes);
    memcpy(hi, lo, sizeof hi);
    for (int i = 0; i < bytes; i++) {
        int keep = (int)v->prefix - i * 8;
        if (keep < 8) hi[off + i] |= (unsigned char)(keep <= 0 ? 0xFF : 0xFF >> keep);
    }
    struct match_range r;
    for (int h = 0; h < 2; h++) {
        r.lo[h] = r.hi[h] = 0;
        for (int i = 0; i < 8; i++) {
            r.lo[h] = r.lo[h] << 8 | lo[h * 8 + i];
            r.hi[h] = r.hi[h] << 8 | hi[h * 8 + i];
        }
    }
    return r;
}

static int u128_cmp(const uint64_t a[2], const uint64_t b[2]) {
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int range_cmp(const void *x, const void *y) {
    return u128_cmp(((const struct match_range *)x)->lo, ((const struct match_range *)y)->lo);
}

/* One above a (saturating): ranges that touch merge too. */
static void u128_next(const uint64_t a[2], uint64_t out[2]) {
    out[0] = a[0];
    out[1] = a[1] + 1;
    if (out[1] == 0) out[0]++;
    if (out[0] == 0 && out[1] == 0) out[0] = out[1] = UINT64_MAX;
}

static int build_cidr_set(struct kz_arena *a, struct match_set *st,
                          const struct kz_sigma_item *it) {
    for (int fam = 0; fam < 2; fam++) {
        uint32_t n = 0;
        struct match_range *r = kz_arena_alloc(a, (it->nvalues + 1) * sizeof *r);
        if (!r) return KZ_ENOMEM;
        for (uint32_t k = 0; k < it->nvalues; k++)
            if (it->values[k].family == (fam ? 6 : 4)) r[n++] = cidr_range(&it->values[k]);
        qsort(r, n, sizeof *r, range_cmp);
        uint32_t m = 0; /* merge: the union of the networks is what the item accepts */
        for (uint32_t k = 0; k < n; k++) {
            uint64_t next[2];
            if (m) u128_next(r[m - 1].hi, next);
            if (m && u128_cmp(r[k].lo, next) <= 0) {
                if (u128_cmp(r[k].hi, r[m - 1].hi) > 0)
                    memcpy(r[m - 1].hi, r[k].hi, sizeof r[k].hi);
            } else {
                r[m++] = r[k];
            }
        }
        st->ranges[fam] = r;
        st->nranges[fam] = m;
    }
    return 0;
}

int match_set_cidr(const struct match_set *st, int family, const unsigned char *addr) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint64_t x[2] = {0, 0};
    if (family == 6 && !memcmp(addr, mapped, 12)) { /* ::ffff:a.b.c.d is an IPv4 address */
        addr += 12;
        family = 4;
    }
    if (family == 4) {
        x[1] = (uint64_t)addr[0] << 24 | (uint64_t)addr[1] << 16 | (uint64_t)addr[2] << 8 | addr[3];
    } else {
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 8; i++)
                x[h] = x[h] << 8 | addr[h * 8 + i];
    }
    int fam = family == 6;
    const struct match_range *r = st->ranges[fam];
    uint32_t lo = 0, hi = st->nranges[fam]; /* the first range starting above x */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (u128_cmp(r[mid].lo, x) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && u128_cmp(x, r[lo - 1].hi) <= 0;
}

static uint32_t ptr_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32);
}

static int add_item(struct kz_sigma_engine *e, const struct kz_sigma_item *it) {
    int str = string_item(it), cidr = !str && cidr_item(it);
    if (!str && !cidr) return 0;
    if ((e->nsets + 1) * 2 > e->set_slots_cap) { /* keep the table at most half full */
        uint32_t cap = e->set_slots_cap ? e->set_slots_cap * 2 : 256;
        struct match_set **ns = kz_calloc(cap, sizeof *ns);
        if (!ns) return KZ_ENOMEM;
        for (uint32_t i = 0; i < e->set_slots_cap; i++) {
            struct match_set *st = e->set_slots[i];
            if (!st) continue;
            uint32_t j = ptr_hash(st->item) & (cap - 1);
            while (ns[j])
                j = (j + 1) & (cap - 1);
            ns[j] = st;
        }
        kz_free(e->set_slots);
        e->set_slots = ns;
        e->set_slots_cap = cap;
    }
    uint32_t j = ptr_hash(it) & (e->set_slots_cap - 1);
    for (; e->set_slots[j]; j = (j + 1) & (e->set_slots_cap - 1))
        if (e->set_slots[j]->item == it) return 0; /* shared by several variants */
    struct match_set *st = kz_arena_alloc(&e->arena, sizeof *st);
    if (!st) return KZ_ENOMEM;
    memset(st, 0, sizeof *st);
    st->item = it;
    st->cidr = (uint8_t)cidr;
    if (str && build_string_set(&e->arena, st, it)) return KZ_ENOMEM;
    if (cidr && build_cidr_set(&e->arena, st, it)) return KZ_ENOMEM;
    e->set_slots[j] = st;
    e->nsets++;
    return 0;
}

static int add_detection(struct kz_sigma_engine *e, const struct kz_sigma_detection *det) {
    for (uint32_t si = 0; si < det->nselections; si++) {
        const struct kz_sigma_selection *sel = &det->selections[si];
        for (uint32_t g = 0; g < sel->ngroups; g++)
            for (uint32_t k = 0; k < sel->groups[g].nitems; k++)
                if (add_item(e, &sel->groups[g].items[k])) return KZ_ENOMEM;
    }
    return 0;
}

int match_sets_build(struct kz_sigma_engine *e) {
    for (uint32_t i = 0; i < e->nvariants; i++)
        if (add_detection(e, &e->variants[i].rule->detection)) return KZ_ENOMEM;
    for (uint32_t i = 0; i < e->nfilters; i++)
        if (add_detection(e, &e->filters[i].rule->detection)) return KZ_ENOMEM;
    return 0;
}

void match_sets_free(struct kz_sigma_engine *e) {
    kz_free(e->set_slots); /* the sets themselves live in the engine arena */
    e->set_slots = NULL;
    e->set_slots_cap = e->nsets = 0;
}

const struct match_set *match_set_find(const struct kz_sigma_engine *e,
                                       const struct kz_sigma_item *it) {
    if (!e->nsets) return NULL;
    for (uint32_t j = ptr_hash(it) & (e->set_slots_cap - 1); e->set_slots[j];
         j = (j + 1) & (e->set_slots_cap - 1))
        if (e->set_slots[j]->item == it) return e->set_slots[j];
    return NULL;
}

static int probe(const struct match_set *st, uint64_t h, uint8_t kind, uint32_t len,
                 const char *at) {
    uint64_t key = key_of(h, kind, len);
    for (uint32_t i = (uint32_t)key & st->mask; st->slots[i].text; i = (i + 1) & st->mask) {
        const struct match_set_entry *en = &st->slots[i];
        if (en->key == key && en->len == len && en->kind == kind && !memcmp(en->text, at, len))
            return 1;
    }
    return 0;
}

int match_set_strings(const struct match_set *st, const char *t, size_t n,
                      const char *(*find)(const char *, size_t, const char *, size_t)) {
    /* Forwards: prefixes at each of their lengths, then the whole text when it can be exact. */
    int exact = st->max_exact && n <= st->max_exact;
    if (st->nprefix || exact) {
        uint64_t h = FNV_OFFSET;
        size_t pos = 0;
        for (uint32_t li = 0; li < st->nprefix && st->prefix_lens[li] <= n; li++) {
            uint32_t len = st->prefix_lens[li];
            for (; pos < len; pos++)
                h = step(h, (unsigned char)t[pos]);
            if (probe(st, h, SET_PREFIX, len, t)) return 1;
        }
        if (exact) {
            for (; pos < n; pos++)
                h = step(h, (unsigned char)t[pos]);
            if (probe(st, h, SET_EXACT, (uint32_t)n, t)) return 1;
        }
    }
    if (st->nsuffix) {
        uint64_t h = FNV_OFFSET;
        size_t done = 0;
        for (uint32_t li = 0; li < st->nsuffix && st->suffix_lens[li] <= n; li++) {
            uint32_t len = st->suffix_lens[li];
            for (; done < len; done++)
                h = step(h, (unsigned char)t[n - 1 - done]);
            if (probe(st, h, SET_SUFFIX, len, t + n - len)) return 1;
        }
    }
    for (uint32_t k = 0; k < st->ncontains; k++) {
        const struct kz_sigma_pattern *pt = st->contains[k];
        if (n >= pt->len && find(t, n, pt->text, pt->len)) return 1;
    }
    return 0;
}
