/* arena.h - bump allocator for data that lives exactly as long as a batch (a chunk, a record).
 *
 * Decoding allocates many small strings per event; freeing them one by one would cost more than
 * decoding. An arena hands out memory from large blocks and frees everything at once on reset.
 * Every arena has a cap: an allocation that would take it over the cap fails (returns NULL), which
 * is how hostile input is kept from growing memory without bound. Ownership: pointers from an arena
 * are valid until kz_arena_reset or kz_arena_free; nothing from an arena is ever passed to kz_free.
 */
#ifndef KZ_ARENA_H
#define KZ_ARENA_H

#include <stddef.h>

struct kz_arena_block;

struct kz_arena {
    struct kz_arena_block *head; /* block currently being filled; older ones chained behind it */
    char *cur, *end;             /* free space left in head */
    size_t block_size;           /* size of each new block (bigger requests get their own block) */
    size_t used;                 /* bytes handed out since the last reset, for the cap */
    size_t cap;                  /* most bytes this arena may hand out between resets */
};

/* Initialises an empty arena; no memory is taken until the first allocation. */
void kz_arena_init(struct kz_arena *a, size_t block_size, size_t cap);
void *kz_arena_alloc_slow(struct kz_arena *a, size_t size);
/* Returns `size` bytes aligned to 8, or NULL when out of memory or over the cap. Inline: decoders
 * allocate per field. */
static inline void *kz_arena_alloc(struct kz_arena *a, size_t size) {
    size_t rounded = (size + 7) & ~(size_t)7;
    if (size - 1 < (size_t)(a->end - a->cur) && rounded <= (size_t)(a->end - a->cur) &&
        rounded <= a->cap - a->used) {
        void *p = a->cur;
        a->cur += rounded;
        a->used += rounded;
        return p;
    }
    return kz_arena_alloc_slow(a, size);
}
/* Gives back the end of the most recent allocation p of `size` bytes, keeping `keep` bytes (for
 * text rendered into a worst-case-sized buffer). Does nothing if p was not the most recent. */
static inline void kz_arena_trim(struct kz_arena *a, void *p, size_t size, size_t keep) {
    size = (size + 7) & ~(size_t)7;
    keep = (keep + 7) & ~(size_t)7;
    if ((char *)p + size != a->cur || keep > size) return;
    a->cur = (char *)p + keep;
    a->used -= size - keep;
}
/* Copies n bytes and appends a NUL. */
char *kz_arena_strndup(struct kz_arena *a, const char *s, size_t n);
/* Forgets everything allocated; keeps the first block for reuse. */
void kz_arena_reset(struct kz_arena *a);
/* Releases all memory. */
void kz_arena_free(struct kz_arena *a);

#endif
