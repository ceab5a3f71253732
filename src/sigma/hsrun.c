/* hsrun.c - every Vectorscan scan of the matcher goes through here, to an implementation that
 * finds what it must.
 *
 * Why: Vectorscan is built as a "fat runtime": hs_scan picks, when the library loads, the code
 * for the CPU (core2, corei7, avx2, avx512). Debian 12's libvectorscan 5.4.9 has a bug in its
 * AVX-512 code: with some literal sets (two 4-byte literals such as `urls` and `mrvx`), a literal
 * near the end of a buffer of about 70 bytes or more is never reported. The AVX2 code of the same
 * library finds it (so does the AVX-512 code when the literal ends the buffer). For kizuki a missed
 * literal is a missed detection (the prefilter drops the rule), so the matcher checks the scanner
 * once per process on such a case, and when the chosen code fails it, calls the library's AVX2
 * entry point instead (every AVX-512 CPU has AVX2; the databases and scratch are the same for every
 * implementation of a fat runtime). fuzz_sigma_match found this: the prefiltered engine and the
 * unfiltered one disagreed.
 *
 * When no implementation passes (a library with the bug but without the AVX2 entry point), the
 * matcher does not trust Vectorscan at all: no prefilter, regexes by PCRE2 (slower, every match
 * found); `scan` says so. KZ_HS_ASSUME_BROKEN=1 forces that state, so tests can check the way
 * around gives the same findings.
 *
 * The check compiles a tiny database and scans a few buffers: under a millisecond, once. */
#include "match_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef hs_error_t (*scan_fn)(const hs_database_t *db, const char *data, unsigned len,
                              unsigned flags, hs_scratch_t *scratch, match_event_handler fn,
                              void *ctx);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static scan_fn chosen; /* set once by choose(); hs_scan when nothing better is known */
static int fallback;   /* 1: the default code failed the check and chosen is the AVX2 one */
static int broken;     /* 1: it failed and no implementation passed: Vectorscan is not trusted */

static int count_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                     void *ctx) {
    ++*(unsigned *)ctx;
    return 0;
}

/* Does fn report `urls` one byte before the end of every buffer from 5 to 200 bytes, with the
 * literal set Vectorscan 5.4.9's AVX-512 code gets wrong? (It misses the literal from 68 bytes
 * on, when 1 to about 30 bytes follow it.) */
static int scanner_ok(scan_fn fn, const hs_database_t *db, hs_scratch_t *scratch) {
    char buf[256];
    for (unsigned n = 5; n <= 200; n++) {
        memset(buf, 'x', n);
        memcpy(buf + n - 5, "urls", 4);
        unsigned hits = 0;
        if (fn(db, buf, n, 0, scratch, count_hit, &hits) != HS_SUCCESS || hits != 1) return 0;
    }
    return 1;
}

static void choose(void) {
    chosen = hs_scan;
    const char *force = getenv("KZ_HS_ASSUME_BROKEN");
    if (force && force[0] == '1') {
        broken = 1;
        return;
    }
    static const char *const lits[] = {"urls", "mrvx"};
    static const unsigned flags[] = {HS_FLAG_CASELESS, HS_FLAG_CASELESS}, ids[] = {0, 1};
    static const size_t lens[] = {4, 4};
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    hs_scratch_t *scratch = NULL;
    if (hs_compile_lit_multi(lits, flags, ids, lens, 2, HS_MODE_BLOCK, NULL, &db, &err) !=
        HS_SUCCESS) {
        hs_free_compile_error(err);
        return;
    }
    if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS && !scanner_ok(hs_scan, db, scratch)) {
        /* The library's own entry point for AVX2 CPUs (exported by the fat runtime). */
        scan_fn avx2 = (scan_fn)dlsym(RTLD_DEFAULT, "avx2_hs_scan");
        if (avx2 && __builtin_cpu_supports("avx2") && scanner_ok(avx2, db, scratch)) {
            chosen = avx2;
            fallback = 1;
        } else {
            broken = 1;
        }
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
}

hs_error_t match_hs_scan(const hs_database_t *db, const char *data, unsigned len,
                         hs_scratch_t *scratch, match_event_handler fn, void *ctx) {
    pthread_once(&once, choose);
    return chosen(db, data, len, 0, scratch, fn, ctx);
}

int match_hs_fallback(void) {
    pthread_once(&once, choose);
    return fallback;
}

int kz_sigma_vectorscan_untrusted(void) {
    pthread_once(&once, choose);
    return broken;
}
