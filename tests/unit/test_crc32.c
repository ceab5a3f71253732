/* test_crc32.c - kz_crc32 against zlib's crc32 (an independent implementation of the same CRC) for
 * every length up to 600 bytes, every alignment, chunk-sized buffers and continued computations. */
#include "unit.h"

#include "core/crc32.h"

#include <stdint.h>
#include <zlib.h>

KZ_TEST(crc32_check_value) {
    /* The standard check value of CRC-32/ISO-HDLC. */
    CHECK_INT(kz_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_INT(kz_crc32(0, "", 0), 0);
}

KZ_TEST(crc32_matches_zlib_all_lengths_and_alignments) {
    static unsigned char buf[70000];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift: reproducible bytes */
        buf[i] = (unsigned char)x;
    }
    int bad = 0;
    for (size_t align = 0; align < 16; align++)
        for (size_t n = 0; n <= 600; n++)
            bad += kz_crc32(0, buf + align, n) != (uint32_t)crc32(0, buf + align, (uInt)n);
    CHECK_INT(bad, 0);
    CHECK_INT(kz_crc32(0, buf + 3, 65536), (uint32_t)crc32(0, buf + 3, 65536));
    CHECK_INT(kz_crc32(0, buf, sizeof buf), (uint32_t)crc32(0, buf, sizeof buf));
    /* Continuing a CRC over two pieces equals one pass, as the chunk header checksum needs. */
    uint32_t two = kz_crc32(kz_crc32(0, buf, 120), buf + 128, 384);
    uint32_t ref = (uint32_t)crc32(crc32(0, buf, 120), buf + 128, 384);
    CHECK_INT(two, ref);
    CHECK_INT(kz_crc32(kz_crc32(0, buf, 1000), buf + 1000, 5000), (uint32_t)crc32(0, buf, 6000));
}
