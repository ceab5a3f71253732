/* oaindex.h - the probe loop of an open-addressing index over a dense array of entries.
 *
 * Why: several tables map a key to an entry of a dense array (UEBA's interned names, the GeoIP
 * travel memory, a Sigma correlation's distinct values) through the same structure: a
 * power-of-two array of uint32 slots, each 0 (empty) or entry + 1, probed linearly from the key's
 * hash. Each used to carry its own copy of the probe, insert and delete loops; this is the one
 * copy. It is header-only and inline so that a caller's match function, known at compile time,
 * is inlined into the probe: the hot lookups (UEBA interns names for every record) cost what a
 * hand-written loop costs.
 *
 * What stays the caller's: the keys and entries (the helper sees only entry numbers and asks the
 * caller whether an entry matches, or what its hash is), the slots' memory (any allocator:
 * correlate.c carves it from its budget arena), growth and the load factor. Callers keep the
 * index at most half full, so every probe ends at an empty slot. Nothing here allocates or
 * fails. */
#ifndef KZ_OAINDEX_H
#define KZ_OAINDEX_H

#include <stdint.h>

#define KZ_OA_NONE UINT32_MAX

/* The position of the slot holding the entry for which match(ctx, entry) is true, probing from
 * hash h in slot[0..cap) (cap a power of two); KZ_OA_NONE when an empty slot comes first, and
 * then *empty (when not NULL) is that slot: where the key would go. */
static inline uint32_t kz_oa_find(const uint32_t *slot, uint32_t cap, uint32_t h,
                                  int (*match)(const void *ctx, uint32_t entry), const void *ctx,
                                  uint32_t *empty) {
    uint32_t m = cap - 1;
    for (uint32_t i = h & m;; i = (i + 1) & m) {
        if (!slot[i]) {
            if (empty) *empty = i;
            return KZ_OA_NONE;
        }
        if (match(ctx, slot[i] - 1)) return i;
    }
}

/* Puts entry (whose key is not in the index) in the first empty slot from hash h. */
static inline void kz_oa_insert(uint32_t *slot, uint32_t cap, uint32_t h, uint32_t entry) {
    uint32_t m = cap - 1, i = h & m;
    while (slot[i])
        i = (i + 1) & m;
    slot[i] = entry + 1;
}

/* Empties slot pos and moves later entries of its probe run back where their probe would now
 * stop early (no tombstones, so lookups stay short after many deletions); hash(ctx, entry) is the
 * entry's hash, as given to kz_oa_insert. */
static inline void kz_oa_remove(uint32_t *slot, uint32_t cap, uint32_t pos,
                                uint32_t (*hash)(const void *ctx, uint32_t entry),
                                const void *ctx) {
    uint32_t m = cap - 1, i = pos, j = pos;
    slot[i] = 0;
    for (;;) {
        j = (j + 1) & m;
        if (!slot[j]) return;
        uint32_t home = hash(ctx, slot[j] - 1) & m;
        /* j's entry may move to i when its home is not cyclically inside (i, j] */
        int inside = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!inside) {
            slot[i] = slot[j];
            slot[j] = 0;
            i = j;
        }
    }
}

#endif
