/* utf.c - UTF-16LE -> UTF-8 and UTF-8 validation; see utf.h. */
#include "utf.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* 16 code units per step while they are ASCII and not NUL; returns how many were converted. */
__attribute__((target("avx2"))) static size_t ascii_avx2(char *o, const uint8_t *src, size_t n) {
    size_t i = 0;
    const __m256i max = _mm256_set1_epi16(0x7f), zero = _mm256_setzero_si256();
    for (; i + 16 <= n; i += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + 2 * i));
        /* Units above 0x7f leave something after a saturating subtract of 0x7f; NUL equals 0. */
        __m256i ascii = _mm256_cmpeq_epi16(_mm256_subs_epu16(v, max), zero);
        __m256i nul = _mm256_cmpeq_epi16(v, zero);
        if ((unsigned)_mm256_movemask_epi8(_mm256_andnot_si256(nul, ascii)) != 0xffffffffu) break;
        __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
        _mm_storeu_si128((__m128i *)(o + i), _mm_packus_epi16(lo, hi));
    }
    return i;
}

static int have_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2");
    return cached;
}
#endif

size_t kz_utf16le_to_utf8(char *dst, const uint8_t *src, size_t n) {
    char *o = dst;
    size_t i = 0;
    while (i < n) {
        /* Fast paths: 16, 8, then 4 ASCII code units at once (no NUL among them). Windows text is
         * mostly ASCII, and this loop is the decoder's single largest cost without them. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (n - i >= 16 && have_avx2()) {
            size_t k = ascii_avx2(o, src + 2 * i, n - i);
            o += k;
            i += k;
        }
#endif
#if defined(__SSE2__)
        while (i + 8 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src + 2 * i));
            /* ASCII and not NUL: nothing left after a saturating subtract of 0x7f, and not zero. */
            __m128i ascii = _mm_cmpeq_epi16(_mm_subs_epu16(v, _mm_set1_epi16(0x7f)), _mm_setzero_si128());
            __m128i nul = _mm_cmpeq_epi16(v, _mm_setzero_si128());
            if (_mm_movemask_epi8(_mm_andnot_si128(nul, ascii)) != 0xffff) break;
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

/* ---- UTF-16 text streams ---- */

static size_t put_cp(char *o, uint32_t c) {
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* One code unit through the surrogate state. */
static size_t put_unit(struct kz_utf16_stream *st, uint16_t u, char *o) {
    size_t k = 0;
    if (st->high) {
        if (u >= 0xDC00 && u <= 0xDFFF) {
            uint32_t c = 0x10000 + ((uint32_t)(st->high - 0xD800) << 10) + (uint32_t)(u - 0xDC00);
            st->high = 0;
            return put_cp(o, c);
        }
        st->high = 0;
        k = put_cp(o, 0xFFFD); /* the high half had no pair: the unit is read on its own */
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
        st->high = u;
        return k;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) return k + put_cp(o + k, 0xFFFD);
    return k + put_cp(o + k, u);
}

size_t kz_utf16_stream_convert(struct kz_utf16_stream *st, const uint8_t *src, size_t n,
                               char *dst) {
    char *o = dst;
    size_t i = 0;
    int be = st->big_endian;
    if (st->have_odd && n) {
        uint8_t a = st->odd, b = src[0];
        st->have_odd = 0;
        i = 1;
        o += put_unit(st, be ? (uint16_t)(a << 8 | b) : (uint16_t)(b << 8 | a), o);
    }
    while (i + 2 <= n) {
        /* ASCII runs of little-endian text (nearly all of a Windows log) four units at a time */
        if (!be && !st->high) {
            while (i + 8 <= n) {
                uint64_t v;
                memcpy(&v, src + i, 8);
                if (v & 0xFF80FF80FF80FF80ull) break;
                o[0] = (char)v;
                o[1] = (char)(v >> 16);
                o[2] = (char)(v >> 32);
                o[3] = (char)(v >> 48);
                o += 4;
                i += 8;
            }
            if (i + 2 > n) break;
        }
        uint16_t u =
            be ? (uint16_t)(src[i] << 8 | src[i + 1]) : (uint16_t)(src[i + 1] << 8 | src[i]);
        o += put_unit(st, u, o);
        i += 2;
    }
    if (i < n) {
        st->have_odd = 1;
        st->odd = src[i];
    }
    return (size_t)(o - dst);
}

size_t kz_utf16_stream_finish(struct kz_utf16_stream *st, char *dst) {
    size_t k = 0;
    if (st->high) k += put_cp(dst + k, 0xFFFD);
    if (st->have_odd) k += put_cp(dst + k, 0xFFFD);
    st->high = 0;
    st->have_odd = 0;
    return k;
}

int kz_utf16_detect(const uint8_t *p, size_t n, size_t *bom) {
    *bom = 0;
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
        /* FF FE 00 00 is UTF-32LE's mark, which no Windows tool writes for logs: not UTF-16 */
        if (n >= 4 && p[2] == 0 && p[3] == 0) return 0;
        *bom = 2;
        return 1;
    }
    if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
        *bom = 2;
        return 2;
    }
    size_t units = n / 2 < 32 ? n / 2 : 32;
    if (units < 2) return 0;
    for (size_t i = 0; i < units; i++) {
        uint8_t lo = p[2 * i], hi = p[2 * i + 1];
        if (hi != 0 || lo == 0 || lo >= 0x80) return 0;
    }
    return 1;
}
