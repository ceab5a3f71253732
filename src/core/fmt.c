/* fmt.c - number formatting; see fmt.h. */
#include "fmt.h"

#include <string.h>

/* "00".."99": two digits per division, half the divisions of the digit-by-digit loop. */
static const char digit_pairs[201] = "0001020304050607080910111213141516171819"
                                     "2021222324252627282930313233343536373839"
                                     "4041424344454647484950515253545556575859"
                                     "6061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

char *kz_fmt_u64(char *o, uint64_t v) {
    char tmp[KZ_FMT_U64_MAX];
    int i = sizeof tmp;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[--i] = digit_pairs[2 * r + 1];
        tmp[--i] = digit_pairs[2 * r];
    }
    if (v >= 10) {
        tmp[--i] = digit_pairs[2 * v + 1];
        tmp[--i] = digit_pairs[2 * v];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    memcpy(o, tmp + i, sizeof tmp - (size_t)i);
    return o + (sizeof tmp - (size_t)i);
}

char *kz_fmt_i64(char *o, int64_t v) {
    if (v < 0) {
        *o++ = '-';
        return kz_fmt_u64(o, (uint64_t)0 - (uint64_t)v);
    }
    return kz_fmt_u64(o, (uint64_t)v);
}
