/* crc32.h - CRC-32 (IEEE 802.3 polynomial, reflected; the same as zlib's and EVTX's checksums).
 *
 * EVTX checksums every chunk's records, so this runs over every byte kizuki decodes: on x86-64 CPUs
 * with carry-less multiplication it folds 64 bytes per step (several GB/s), elsewhere it uses zlib.
 */
#ifndef KZ_CRC32_H
#define KZ_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of n bytes, continuing from crc (0 to start). */
uint32_t kz_crc32(uint32_t crc, const void *data, size_t n);

#endif
