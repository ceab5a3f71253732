/* alloc.h - every allocation in kizuki goes through these wrappers.
 *
 * Why: (1) accounting: tests and benchmarks can read the bytes in use and the peak, to prove memory
 * stays flat; (2) failure injection: a test can make the Nth allocation fail, to exercise every
 * error path (the "torture" idea from curl and SQLite). kz_malloc returns NULL on failure like
 * malloc; callers must handle it. Ownership: whoever allocates frees with kz_free; sizes are
 * tracked in a small header. */
#ifndef KZ_ALLOC_H
#define KZ_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *kz_malloc(size_t size);
void *kz_calloc(size_t count, size_t size);
void *kz_realloc(void *ptr, size_t size);
void kz_free(void *ptr);
char *kz_strdup(const char *s);
char *kz_strndup(const char *s, size_t n);

/* Bytes currently allocated, and the high-water mark since start (or the last reset). */
size_t kz_alloc_in_use(void);
size_t kz_alloc_peak(void);
void kz_alloc_reset_peak(void);

/* Failure injection: after `n` more successful allocations, every allocation fails until
 * kz_alloc_fail_never() is called. n < 0 disables injection. Returns how many allocations
 * have failed so far because of it. */
void kz_alloc_fail_after(long n);
void kz_alloc_fail_never(void);
long kz_alloc_failures(void);

#endif
