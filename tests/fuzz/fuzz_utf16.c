/* fuzz_utf16.c - libFuzzer target: the streaming UTF-16 -> UTF-8 conversion (src/core/utf.c)
 * that the text reader runs over UTF-16 logs.
 *
 * Why: a UTF-16 file's bytes are attacker-chosen (lone surrogates, odd lengths), and the reader
 * converts it in pieces cut anywhere. The first input byte picks the byte order and a piece size;
 * the rest is converted whole and in those pieces: the outputs must be identical, within
 * KZ_UTF16_STREAM_MAX_OUT, and valid UTF-8 (NUL included, as a NUL code unit gives a NUL byte).
 * kz_utf16_detect and the text sniffer get the bytes too.
 */
#include "core/utf.h"
#include "input/text_reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t run(const uint8_t *p, size_t n, int be, size_t step, char *out) {
    struct kz_utf16_stream st = {.big_endian = be};
    size_t o = 0;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        size_t w = kz_utf16_stream_convert(&st, p + i, k, out + o);
        if (w > KZ_UTF16_STREAM_MAX_OUT(k)) abort();
        o += w;
    }
    o += kz_utf16_stream_finish(&st, out + o);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    int be = data[0] & 1;
    size_t step = (size_t)(data[0] >> 1) + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t cap = KZ_UTF16_STREAM_MAX_OUT(n) + 16;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b) abort();
    size_t la = run(p, n, be, n ? n : 1, a), lb = run(p, n, be, step, b);
    if (la != lb || memcmp(a, b, la)) abort();
    for (size_t i = 0; i < la;) {
        size_t k = kz_utf8_valid_prefix((const unsigned char *)a + i, la - i);
        if (!k) abort();
        i += k;
    }
    size_t bom;
    kz_utf16_detect(p, n, &bom);
    if (bom > n) abort();
    kz_text_sniff((const char *)p, n);
    free(a);
    free(b);
    return 0;
}
