/* alloc.c - allocation wrappers with accounting and failure injection; see alloc.h. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Each block carries its size in a 16-byte header (keeps malloc's alignment) so that kz_free can
 * account for it without the caller passing the size. */
#define HDR 16

static atomic_size_t in_use, peak;
static atomic_long fail_countdown = -1; /* < 0: injection off */
static atomic_long failures;

static int should_fail(void) {
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (n < 0) return 0;
    if (n == 0) {
        atomic_fetch_add(&failures, 1);
        return 1;
    }
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

static void account(size_t add, size_t sub) {
    size_t now = atomic_fetch_add_explicit(&in_use, add, memory_order_relaxed) + add;
    if (sub) now = atomic_fetch_sub_explicit(&in_use, sub, memory_order_relaxed) - sub;
    size_t p = atomic_load_explicit(&peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
}

void *kz_malloc(size_t size) {
    if (size > SIZE_MAX - HDR || should_fail()) return NULL;
    unsigned char *p = malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    account(size, 0);
    return p + HDR;
}

void *kz_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = kz_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *kz_realloc(void *ptr, size_t size) {
    if (!ptr) return kz_malloc(size);
    if (size > SIZE_MAX - HDR || should_fail()) return NULL;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    account(size, old);
    return p + HDR;
}

void kz_free(void *ptr) {
    if (!ptr) return;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    account(0, old);
    free(base);
}

char *kz_strndup(const char *s, size_t n) {
    char *d = kz_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *kz_strdup(const char *s) {
    return kz_strndup(s, strlen(s));
}

size_t kz_alloc_in_use(void) {
    return atomic_load(&in_use);
}
size_t kz_alloc_peak(void) {
    return atomic_load(&peak);
}
void kz_alloc_reset_peak(void) {
    atomic_store(&peak, atomic_load(&in_use));
}
void kz_alloc_fail_after(long n) {
    atomic_store(&failures, 0);
    atomic_store(&fail_countdown, n);
}
void kz_alloc_fail_never(void) {
    atomic_store(&fail_countdown, -1);
}
long kz_alloc_failures(void) {
    return atomic_load(&failures);
}
