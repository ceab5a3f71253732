/* timeutil.h - kizuki's one representation of time, and its text forms.
 *
 * All timestamps are kz_time: 100-nanosecond ticks since 1970-01-01T00:00:00Z (UTC). That is
 * Windows' FILETIME resolution, so EVTX times convert without loss, and an int64 covers years
 * 1601..30000. */
#ifndef KZ_TIMEUTIL_H
#define KZ_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t kz_time;

#define KZ_TICKS_PER_SEC 10000000LL
/* FILETIME counts from 1601-01-01; this many ticks lie between 1601 and 1970. */
#define KZ_FILETIME_UNIX_OFFSET 116444736000000000LL
#define KZ_TIME_TEXT_MAX 40

static inline kz_time kz_time_from_filetime(uint64_t ft) {
    return (kz_time)(ft - (uint64_t)KZ_FILETIME_UNIX_OFFSET);
}

/* Days since 1970-01-01 of a civil (proleptic Gregorian) date, and back. */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d);
void kz_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Writes t as RFC 3339 UTC with `digits` fraction digits (0..7): "2016-07-08T18:12:51.6816408Z".
 * out must hold KZ_TIME_TEXT_MAX bytes; returns the length. */
size_t kz_time_format(kz_time t, int digits, char *out);

/* Parses RFC 3339 ("2016-07-08T18:12:51.68Z", "+09:00" offsets, a space for T, date only). Returns
 * 0 or KZ_EFORMAT. */
int kz_time_parse(const char *s, size_t n, kz_time *out);

#endif
