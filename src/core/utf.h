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

/* ---- UTF-16 text streams (a log file written as UTF-16) ---- */

/* Streaming UTF-16 -> UTF-8 state: a code unit split between two chunks (odd byte) and a high
 * surrogate waiting for its low half are carried to the next chunk, so a file can be converted
 * in bounded pieces cut anywhere. Unlike kz_utf16le_to_utf8, NUL code units are kept (as NUL
 * bytes, which the text reader then reports as a bad line, as it does for UTF-8 input). */
struct kz_utf16_stream {
    int big_endian;
    int have_odd; /* one byte of a code unit is in odd */
    uint8_t odd;
    uint16_t high; /* a high surrogate waiting for its pair, or 0 */
};

/* Worst-case UTF-8 bytes from n more input bytes (with the carried state), for sizing dst. */
#define KZ_UTF16_STREAM_MAX_OUT(n) (((n) / 2 + 2) * 3 + 4)

/* Converts src[0..n) (any length, any alignment) into dst, which must hold
 * KZ_UTF16_STREAM_MAX_OUT(n) bytes; returns bytes written. Unpaired surrogates become U+FFFD. */
size_t kz_utf16_stream_convert(struct kz_utf16_stream *st, const uint8_t *src, size_t n, char *dst);
/* At the end of the input: what is still carried (a lone high surrogate or a single byte) as
 * U+FFFD into dst (at least 8 bytes); returns bytes written. */
size_t kz_utf16_stream_finish(struct kz_utf16_stream *st, char *dst);

/* Tells UTF-16 text from its first bytes: 1 for little-endian, 2 for big-endian, 0 for neither.
 * *bom is set to the bytes of a byte order mark to skip (2, or 0). Without a BOM, only
 * little-endian ASCII text is recognised (what Windows tools write): at least two code units,
 * every one of the first (up to 32) an ASCII character other than NUL with a zero high byte. A
 * UTF-8 file never matches (its text holds no NUL bytes), so the test costs nothing per byte. */
int kz_utf16_detect(const uint8_t *p, size_t n, size_t *bom);

/* Length of the valid UTF-8 sequence starting at p (1..4), or 0 if p does not start one. */
size_t kz_utf8_valid_prefix(const unsigned char *p, size_t avail);

#endif
