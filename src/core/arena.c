/* arena.c - bump allocator; see arena.h. */
#include "arena.h"

#include "alloc.h"

#include <stdint.h>
#include <string.h>

struct kz_arena_block {
    struct kz_arena_block *next; /* the block filled before this one */
    size_t size;                 /* usable bytes in data[] */
    _Alignas(16) unsigned char data[];
};

void kz_arena_init(struct kz_arena *a, size_t block_size, size_t cap) {
    a->head = NULL;
    a->cur = a->end = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used = 0;
    a->cap = cap ? cap : SIZE_MAX;
}

void *kz_arena_alloc_slow(struct kz_arena *a, size_t size) {
    if (size > a->cap - a->used || size > SIZE_MAX - 7) return NULL;
    size = (size + 7) & ~(size_t)7;
    if (size == 0) size = 8;
    if (size > a->cap - a->used) return NULL;
    if (size > (size_t)(a->end - a->cur)) {
        size_t bsize = size > a->block_size ? size : a->block_size;
        struct kz_arena_block *b = kz_malloc(sizeof *b + bsize);
        if (!b) return NULL;
        b->size = bsize;
        b->next = a->head;
        a->head = b;
        a->cur = (char *)b->data;
        a->end = (char *)b->data + bsize;
    }
    void *p = a->cur;
    a->cur += size;
    a->used += size;
    return p;
}

char *kz_arena_strndup(struct kz_arena *a, const char *s, size_t n) {
    char *d = kz_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void kz_arena_reset(struct kz_arena *a) {
    struct kz_arena_block *b = a->head;
    if (!b) return;
    /* Keep the oldest block (usually the standard size) and free the rest. */
    while (b->next) {
        struct kz_arena_block *next = b->next;
        kz_free(b);
        b = next;
    }
    a->head = b;
    a->cur = (char *)b->data;
    a->end = (char *)b->data + b->size;
    a->used = 0;
}

void kz_arena_free(struct kz_arena *a) {
    struct kz_arena_block *b = a->head;
    while (b) {
        struct kz_arena_block *next = b->next;
        kz_free(b);
        b = next;
    }
    a->head = NULL;
    a->cur = a->end = NULL;
    a->used = 0;
}
