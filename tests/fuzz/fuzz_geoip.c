/* fuzz_geoip.c - libFuzzer target: the input is a GeoIP database file (`--geoip FILE`).
 *
 * Why: the database is a file the user points kizuki at; a damaged or hostile one must be
 * refused with a reason or give odd answers, never crash or hang kizuki. libmaxminddb opens
 * files only, so each input is written to a temporary file and opened through kz_geoip_open;
 * an accepted database then answers lookups of IPv4, IPv6 and mapped addresses, and feeds the
 * travel memory (names of both places read again from the database). Seeds: tests/corpus/geoip
 * (the databases the unit tests and `kizuki simulate` write). */
#include "core/error.h"
#include "ueba/geoip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libmaxminddb 1.7.1 (Debian 12) leaks about 4.6 KB when MMDB_open fails on a metadata map it
 * cannot decode (maxmind/libmaxminddb pull request 356, fixed upstream in 2024). kizuki opens one
 * database per run and stops when it fails, so that leak is bounded; it is suppressed here, for
 * libmaxminddb's own allocations only, so that leaks of ours still stop the fuzzer. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libmaxminddb.so\n";
}

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) snprintf(path, sizeof path, "/tmp/kz_fuzz_geoip_%d.mmdb", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);
    struct kz_geoip *g;
    struct kz_err err = {0};
    if (kz_geoip_open(&g, path, &err) == 0) {
        static const char *ips[] = {
            "126.1.2.3",       "203.116.5.77",    "153.10.0.1",   "60.1.2.3",
            "0.0.0.1",         "255.255.255.254", "2400:4050::1", "::ffff:203.116.1.1",
            "2001:4860::8888", "45.92.231.71",    "1.1.1.1",      "ffff::1"};
        size_t n = sizeof ips / sizeof *ips;
        struct kz_geoip_place p;
        size_t sum = 0;
        for (size_t i = 0; i < n; i++)
            if (kz_geoip_lookup(g, ips[i], &p)) sum += strlen(p.name) + p.accuracy_km;
        struct kz_geoip_trip t;
        for (size_t i = 0; i < 2 * n; i++)
            if (kz_geoip_travel(g, (uint32_t)(i % 3 + 1), (kz_time)i * 600000000LL, ips[i % n], &t,
                                NULL))
                sum += strlen(t.from) + strlen(t.to);
        /* a saved model's travel memory given back, then judged against */
        for (size_t i = 0; i < n; i++)
            sum += (size_t)kz_geoip_remember(g, (uint32_t)(i % 5 + 1), (kz_time)i, ips[i]);
        kz_geoip_free(g);
        if (sum == (size_t)-1) abort(); /* keeps the work from being optimised away */
    }
    return 0;
}
