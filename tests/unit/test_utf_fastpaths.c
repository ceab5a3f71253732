/* test_utf_fastpaths.c - kz_utf16le_to_utf8's vector fast paths (16, 8 and 4 code units at a time)
 * against a plain one-unit-at-a-time reference written here, on strings that put non-ASCII units, NULs
 * and surrogates at every position around the fast paths' block boundaries. */
#include "unit.h"

#include "core/utf.h"

#include <stdint.h>

/* The reference: UTF-16LE to UTF-8 by the textbook rules, stopping at NUL, U+FFFD for lone surrogates. */
static size_t reference(char *o, const uint16_t *u, size_t n) {
    char *start = o;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c == 0) break;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c < 0x80) *o++ = (char)c;
        else if (c < 0x800) *o++ = (char)(0xC0 | c >> 6), *o++ = (char)(0x80 | (c & 0x3F));
        else if (c < 0x10000)
            *o++ = (char)(0xE0 | c >> 12), *o++ = (char)(0x80 | (c >> 6 & 0x3F)),
            *o++ = (char)(0x80 | (c & 0x3F));
        else
            *o++ = (char)(0xF0 | c >> 18), *o++ = (char)(0x80 | (c >> 12 & 0x3F)),
            *o++ = (char)(0x80 | (c >> 6 & 0x3F)), *o++ = (char)(0x80 | (c & 0x3F));
    }
    *o = 0;
    return (size_t)(o - start);
}

KZ_TEST(utf16_fast_paths_match_reference) {
    static const uint16_t specials[] = {0x80, 0x7f, 0x100, 0xff, 0x0, 0xD83D, 0xDE00, 0x3042, 0xFFFF};
    uint16_t u[64];
    uint8_t le[128];
    char got[64 * 3 + 1], want[64 * 3 + 1];
    int bad = 0;
    for (size_t len = 0; len <= 40; len++) {
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t s = 0; s < sizeof specials / sizeof *specials; s++) {
                for (size_t i = 0; i < len; i++) u[i] = (uint16_t)('a' + i % 26);
                if (pos < len) u[pos] = specials[s];
                if (s == 5 && pos + 1 < len) u[pos + 1] = 0xDE00; /* a valid surrogate pair */
                for (size_t i = 0; i < len; i++) le[2 * i] = (uint8_t)u[i], le[2 * i + 1] = (uint8_t)(u[i] >> 8);
                size_t g = kz_utf16le_to_utf8(got, le, len);
                size_t w = reference(want, u, len);
                if (g != w || memcmp(got, want, w + 1)) bad++;
            }
        }
    }
    CHECK_INT(bad, 0);
}
