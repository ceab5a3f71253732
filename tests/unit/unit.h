/* unit.h - the unit-test harness: every file in tests/unit registers its tests with KZ_TEST.
 *
 * A test is a function; CHECK records a failure (with file and line) and carries on, REQUIRE stops
 * the test. Tests that need ../shared/data call kz_test_shared() and return early with
 * kz_test_skip(...) when it is absent. The runner (unit_main.c) prints one line per failed or
 * skipped test and a final "N passed, N failed, N skipped" line. */
#ifndef KZ_UNIT_H
#define KZ_UNIT_H

#include <stdio.h>
#include <string.h>

struct kz_test {
    const char *name;
    void (*fn)(void);
    struct kz_test *next;
};

void kz_test_register(struct kz_test *t);
void kz_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A new file /tmp/kz_<tag>_XXXXXX holding the n bytes: its path (kz_malloc'd; the caller unlinks
 * it and kz_frees the path), or NULL when it could not be written. */
char *kz_test_temp_file(const char *tag, const void *data, size_t n);
void kz_test_skip(const char *why);
/* Path of ../shared/data (or $KZ_SHARED_DATA), or NULL when absent. */
const char *kz_test_shared(void);
/* Reads a whole file into a kz_malloc'd buffer; NULL on error. */
unsigned char *kz_test_read_file(const char *path, size_t *len);

#define KZ_TEST(name)                                                                              \
    static void name(void);                                                                        \
    static struct kz_test name##_reg = {#name, name, NULL};                                        \
    __attribute__((constructor)) static void name##_register(void) {                               \
        kz_test_register(&name##_reg);                                                             \
    }                                                                                              \
    static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) kz_test_fail(__FILE__, __LINE__, "%s", #cond);                                \
    } while (0)
#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) kz_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
    } while (0)
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            kz_test_fail(__FILE__, __LINE__, "%s", #cond);                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!g_ || strcmp(g_, w_))                                                                 \
            kz_test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #got,                  \
                         g_ ? g_ : "(null)", w_);                                                  \
    } while (0)
#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) kz_test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", #got, g_, w_);   \
    } while (0)

#endif
