/* fuzz_sigma_cache.c - libFuzzer target: a cache file of compiled Vectorscan databases
 * (src/sigma/dbcache.c), as given and re-sealed.
 *
 * Why: the cache directory is outside input (a crash mid-write, a full disk, another version,
 * a user's edit), so dbcache_parse must refuse anything but a file it wrote, without reading
 * past the bytes it has or allocating beyond its limits. The input is a whole cache file. It
 * is parsed three ways: as given against a fixed key (the usual outcome: refused); against the
 * key the file itself declares (so the framing and CRC checks decide); and, when the frame is
 * long enough, with its lengths and CRC made consistent (re-sealed), so the bytes reach
 * Vectorscan's own checks (hs_serialized_database_size, hs_deserialize_database). A database
 * that is accepted is scanned once, to show it can run. Seeds: tests/corpus/sigma_cache/
 * (files kizuki wrote for small rule sets on the development machine; on another platform
 * their keys differ, which is one more refusal path). */
#include "core/alloc.h"
#include "core/crc32.h"
#include "sigma/match_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:src/core/intern.c\n";
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx) {
    ++*(unsigned *)ctx;
    return 0;
}

static void try_db(hs_database_t *db) {
    if (!db) return;
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
        static const char text[] = "\x1f"
                                   "cmd.exe /c whoami\x1f"
                                   "C:\\Windows\\x.exe\x1f";
        unsigned n = 0;
        hs_scan(db, text, sizeof text - 1, 0, scratch, on_match, &n);
        hs_free_scratch(scratch);
    }
    hs_free_database(db);
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4u << 20) return 0;
    hs_database_t *db = NULL;
    /* 1: as given, against a key of the usual form */
    static const char fixed_key[] = "kizuki-hsdb 1 fuzz lit 1\n";
    dbcache_parse(data, size, fixed_key, sizeof fixed_key - 1, &db);
    try_db(db);
    if (size < 32) return 0;
    /* 2: against the key the file declares (bounded by the bytes there are) */
    uint32_t klen = rd32(data + 12);
    if (klen > size - 32) klen = (uint32_t)(size - 32);
    db = NULL;
    dbcache_parse(data, size, data + 32, klen, &db);
    try_db(db);
    /* 3: re-sealed: header fields made to agree with the bytes, CRC recomputed */
    uint8_t *copy = kz_malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    memcpy(copy, "KZHSDB1\n", 8);
    copy[8] = 1, copy[9] = copy[10] = copy[11] = 0;
    uint64_t plen = size - 32 - klen;
    for (int i = 0; i < 4; i++)
        copy[12 + i] = (uint8_t)(klen >> (8 * i));
    for (int i = 0; i < 8; i++)
        copy[16 + i] = (uint8_t)(plen >> (8 * i));
    uint32_t crc = kz_crc32(0, copy + 32, size - 32);
    for (int i = 0; i < 4; i++)
        copy[24 + i] = (uint8_t)(crc >> (8 * i));
    memset(copy + 28, 0, 4);
    db = NULL;
    dbcache_parse(copy, size, copy + 32, klen, &db);
    try_db(db);
    kz_free(copy);
    return 0;
}
