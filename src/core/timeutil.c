/* timeutil.c - time conversion and formatting; see timeutil.h. */
#include "timeutil.h"

#include "error.h"

#include <string.h>

/* Civil-date conversion after Howard Hinnant's public-domain algorithms ("chrono-compatible
 * low-level date algorithms"): eras of 400 years, March-based years so the leap day is last. */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void kz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Two decimal digits of v (0..99). */
static char *put2(char *o, unsigned v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t kz_time_format(kz_time t, int digits, char *out) {
    int64_t secs = t / KZ_TICKS_PER_SEC, ticks = t % KZ_TICKS_PER_SEC;
    if (ticks < 0) ticks += KZ_TICKS_PER_SEC, secs--;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) rem += 86400, days--;
    int64_t y;
    unsigned m, d;
    kz_civil_from_days(days, &y, &m, &d);
    char *o = out;
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999; /* RFC 3339 has four-digit years */
    o = put2(o, (unsigned)(y / 100));
    o = put2(o, (unsigned)(y % 100));
    *o++ = '-';
    o = put2(o, m);
    *o++ = '-';
    o = put2(o, d);
    *o++ = 'T';
    unsigned r = (unsigned)rem;
    o = put2(o, r / 3600);
    *o++ = ':';
    o = put2(o, r / 60 % 60);
    *o++ = ':';
    o = put2(o, r % 60);
    if (digits > 7) digits = 7;
    if (digits > 0) {
        *o++ = '.';
        unsigned frac = (unsigned)ticks; /* 7 digits */
        char f[7];
        for (int i = 6; i >= 0; i--)
            f[i] = (char)('0' + frac % 10), frac /= 10;
        memcpy(o, f, (size_t)digits);
        o += digits;
    }
    *o++ = 'Z';
    *o = 0;
    return (size_t)(o - out);
}

static int num(const char *s, size_t n, size_t *i, int width, int64_t *v) {
    *v = 0;
    for (int k = 0; k < width; k++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9') return -1;
        *v = *v * 10 + (s[*i] - '0');
    }
    return 0;
}

int kz_time_parse(const char *s, size_t n, kz_time *out) {
    size_t i = 0;
    int64_t y, mo, d, h = 0, mi = 0, se = 0, ticks = 0, off = 0;
    if (num(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || num(s, n, &i, 2, &mo) || i >= n ||
        s[i++] != '-' || num(s, n, &i, 2, &d))
        return KZ_EFORMAT;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return KZ_EFORMAT;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return KZ_EFORMAT;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return KZ_EFORMAT;
        i++;
        if (num(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || num(s, n, &i, 2, &mi))
            return KZ_EFORMAT;
        if (i < n && s[i] == ':') {
            i++;
            if (num(s, n, &i, 2, &se)) return KZ_EFORMAT;
        }
        if (h > 23 || mi > 59 || se > 60) return KZ_EFORMAT;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            i++;
            int k = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (k < 7) ticks = ticks * 10 + (s[i] - '0'), k++;
                i++;
            }
            if (k == 0) return KZ_EFORMAT;
            for (; k < 7; k++)
                ticks *= 10;
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1;
            int64_t oh, om;
            if (num(s, n, &i, 2, &oh)) return KZ_EFORMAT;
            if (i < n && s[i] == ':') i++;
            if (num(s, n, &i, 2, &om)) return KZ_EFORMAT;
            if (oh > 23 || om > 59) return KZ_EFORMAT;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != n) return KZ_EFORMAT;
    int64_t secs =
        kz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    *out = secs * KZ_TICKS_PER_SEC + ticks;
    return 0;
}
