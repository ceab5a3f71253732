/* fuzz_ueba.c - libFuzzer target: the input is a stream of UEBA activity records in their wire
 * form (u32 length + kz_ueba_act_pack bytes), as the decoding threads hand them to the main thread.
 *
 * Why: the records carry strings written by whoever wrote the logs (user names, host names, share
 * paths, device names), and the engine cuts, lower-cases, hashes and renders them into reasons.
 * Each input is unpacked record by record (a malformed one must be refused, never read past) and
 * every accepted record goes through the engine twice: pushed as it comes (time going backwards
 * included) and kept then run; alert texts are walked. Small caps make the over-cap paths run. */
#include "core/alloc.h"
#include "ueba/ueba.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void on_alert(void *ctx, const struct kz_ueba_alert *a) {
    size_t *sum = ctx;
    for (uint32_t i = 0; i < a->nreasons; i++)
        *sum += strlen(a->reasons[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kz_ueba_opts o;
    kz_ueba_opts_default(&o);
    o.baseline_days = 0;
    o.min_days = 1;
    o.min_events = 1;
    o.max_entities = 64;
    o.max_edges = 64;
    o.max_records = 32;
    const char *crit[] = {"*dc*", "?"};
    o.critical = crit;
    o.ncritical = 2;
    struct kz_ueba *a, *b;
    if (kz_ueba_new(&a, &o)) return 0;
    if (kz_ueba_new(&b, &o)) {
        kz_ueba_free(a);
        return 0;
    }
    size_t sum = 0, off = 0;
    while (size - off >= 4) {
        uint32_t n;
        memcpy(&n, data + off, 4);
        off += 4;
        if (n > size - off) break;
        struct kz_ueba_act act;
        if (!kz_ueba_act_unpack((const char *)data + off, n, &act)) {
            kz_ueba_push(a, &act, on_alert, &sum);
            kz_ueba_keep(b, &act);
        }
        off += n;
    }
    kz_ueba_run(b, on_alert, &sum);
    kz_ueba_free(a);
    kz_ueba_free(b);
    return sum == (size_t)-1;
}
