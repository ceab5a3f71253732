/* utf.h - UTF-16LE to UTF-8 conversion and UTF-8 validation.
 *
 * Windows stores text as UTF-16 little-endian; kizuki works in UTF-8 everywhere. Conversion never
 * fails: unpaired surrogates become U+FFFD, so a hostile string cannot stop a record from decoding.
 */
#ifndef KZ_UTF_H
#define KZ_UTF_H

#include <stddef.h>
#include <stdint.h>

/* Worst-case UTF-8 bytes for n UTF-16 code units (3 each), plus one for a NUL. */
#define KZ_UTF8_MAX_FOR_UTF16(n) ((n)*3 + 1)

/* Converts n UTF-16LE code units at src (unaligned bytes) to UTF-8 in dst, which must hold
 * KZ_UTF8_MAX_FOR_UTF16(n) bytes. Stops at the first NUL code unit. Writes a NUL terminator and
 * returns the number of bytes written before it. */
size_t kz_utf16le_to_utf8(char *dst, const uint8_t *src, size_t n);

/* Length of the valid UTF-8 sequence starting at p (1..4), or 0 if p does not start one. */
size_t kz_utf8_valid_prefix(const unsigned char *p, size_t avail);

#endif
