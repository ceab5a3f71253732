/* fuzz_ueba_state.c - libFuzzer target: the input is a UEBA state file (kz_ueba_load_buffer).
 *
 * Why: `scan --ueba-state FILE` and `risk --state FILE` read a file that lives on disk between
 * runs, where anyone who holds the disk can edit it. Loading must refuse anything it cannot trust
 * (counts, ids, ranges) without reading past the input or allocating beyond it, and a model it
 * accepts must then work: the input is checked as it is and, since a random input rarely passes
 * the checksum, also re-sealed with a correct checksum (FNV-1a 64 over all but the last 8 bytes,
 * written here from its definition) so that the checks behind it are reached. An accepted model
 * scores a few records and lists its riskiest entities (walking every reason's text). */
#include "core/alloc.h"
#include "core/error.h"
#include "ueba/ueba.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void on_alert(void *ctx, const struct kz_ueba_alert *a) {
    size_t *sum = ctx;
    for (uint32_t i = 0; i < a->nreasons; i++)
        *sum += strlen(a->reasons[i]);
}

static void on_top(void *ctx, const struct kz_ueba_entity *e) {
    size_t *sum = ctx;
    *sum += strlen(e->name);
    for (uint32_t i = 0; i < e->nreasons; i++)
        *sum += strlen(e->reasons[i]);
}

static void try_load(const uint8_t *data, size_t size) {
    struct kz_ueba_opts o;
    kz_ueba_opts_default(&o);
    o.baseline_days = 0;
    o.min_days = 1;
    o.min_events = 1;
    o.max_entities = 4096;
    o.max_edges = 4096;
    struct kz_ueba *u;
    if (kz_ueba_new(&u, &o)) return;
    struct kz_err err = {0};
    if (kz_ueba_load_buffer(u, data, size, &err) == 0) {
        size_t sum = 0;
        static const char *hosts[] = {"fs01", "DC01.corp.example", "vdi04"};
        for (int i = 0; i < 6; i++) {
            struct kz_ueba_act a = {.ts = (kz_time)i * 36000000000LL,
                                    .kind = (uint8_t)(i % 2 ? KZ_UEBA_LOGON : KZ_UEBA_FILE),
                                    .logon_type = (int8_t)(i % 2 ? 10 : -1),
                                    .outcome = 1,
                                    .access = KZ_UEBA_READ,
                                    .bytes = -1,
                                    .user = i % 3 ? "alice" : "bob",
                                    .host = hosts[i % 3],
                                    .src_ip = "10.1.2.3",
                                    .device = "byod-1",
                                    .object = "\\\\*\\projects",
                                    .folder = "cust\\f.doc"};
            kz_ueba_push(u, &a, on_alert, &sum);
        }
        kz_ueba_top(u, 8, on_top, &sum);
    }
    kz_ueba_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try_load(data, size);
    if (size < 16) return 0;
    uint8_t *c = malloc(size);
    if (!c) return 0;
    memcpy(c, data, size);
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < size - 8; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    memcpy(c + size - 8, &h, 8);
    try_load(c, size);
    free(c);
    return 0;
}
