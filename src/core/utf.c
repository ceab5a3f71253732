/* utf.c - UTF-16LE -> UTF-8 and UTF-8 validation; see utf.h. */
#include "utf.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t kz_utf16le_to_utf8(char *dst, const uint8_t *src, size_t n) {
    char *o = dst;
    size_t i = 0;
    while (i < n) {
        /* Fast paths: 8, then 4 ASCII code units at once (no NUL among them). Windows text is
         * mostly ASCII, and this loop is the decoder's single largest cost without them. */
#if defined(__SSE2__)
        while (i + 8 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src + 2 * i));
            /* Any unit >= 0x80 (high byte set or bit 7) or == 0 leaves the fast path. */
            __m128i big = _mm_cmpgt_epi16(_mm_and_si128(v, _mm_set1_epi16((short)0xff80)),
                                          _mm_setzero_si128());
            __m128i hi = _mm_cmplt_epi16(v, _mm_setzero_si128()); /* units >= 0x8000 */
            __m128i nul = _mm_cmpeq_epi16(v, _mm_setzero_si128());
            if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(big, hi), nul))) break;
            _mm_storel_epi64((__m128i *)o, _mm_packus_epi16(v, v));
            o += 8;
            i += 8;
        }
#endif
        while (i + 4 <= n) {
            uint64_t v;
            memcpy(&v, src + 2 * i, 8);
            if (v & 0xFF80FF80FF80FF80ull) break;
            /* Each code unit non-zero: (x - 1) borrows into bit 15 only for x == 0. */
            if ((v - 0x0001000100010001ull) & ~v & 0x8000800080008000ull) break;
            o[0] = (char)v;
            o[1] = (char)(v >> 16);
            o[2] = (char)(v >> 32);
            o[3] = (char)(v >> 48);
            o += 4;
            i += 4;
        }
        if (i >= n) break;
        uint32_t c = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        if (c < 0x80) {
            if (c == 0) break;
            *o++ = (char)c;
            i++;
            continue;
        }
        i++;
        if (c >= 0xD800 && c <= 0xDBFF && i < n) {
            uint32_t lo = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            } else {
                c = 0xFFFD;
            }
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c < 0x800) {
            *o++ = (char)(0xC0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *o++ = (char)(0xE0 | c >> 12);
            *o++ = (char)(0x80 | (c >> 6 & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (char)(0xF0 | c >> 18);
            *o++ = (char)(0x80 | (c >> 12 & 0x3F));
            *o++ = (char)(0x80 | (c >> 6 & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *o = 0;
    return (size_t)(o - dst);
}

size_t kz_utf8_valid_prefix(const unsigned char *p, size_t avail) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t min, cp;
    if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (avail < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}
