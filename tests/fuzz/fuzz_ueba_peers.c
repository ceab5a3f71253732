/* fuzz_ueba_peers.c - libFuzzer target: the input is a peer-group mapping (`scan --peers FILE`, a
 * CSV of `account,group` lines) read by kz_ueba_peers_buffer.
 *
 * Why: the file comes from outside kizuki (an HR or directory export, or whoever can write where
 * it is kept). Reading it must stay within its bounds (quoted fields, "" escapes, CR/LF, a BOM,
 * comments, NUL bytes, over-long lines) and refuse what it cannot read with the line's number;
 * whatever it accepted then drives the peer-rarity feature, so a few records are scored against
 * the groups it set (accounts named a, b, c and d, as a mutated input may name them), under small
 * caps so that the over-cap paths run too. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kz_ueba_opts o;
    kz_ueba_opts_default(&o);
    o.baseline_days = 0;
    o.min_days = 1;
    o.min_events = 1;
    o.max_entities = 256;
    o.max_edges = 256;
    struct kz_ueba *u;
    if (kz_ueba_new(&u, &o)) return 0;
    struct kz_err err = {0};
    size_t sum = 0;
    if (kz_ueba_peers_buffer(u, (const char *)data, size, "peers.csv", &err) != 0)
        sum += strlen(err.msg);
    static const char *users[] = {"a", "b", "c", "d", "CORP\\a"};
    static const char *hosts[] = {"fs01", "fs02", "dc01"};
    for (int i = 0; i < 40; i++) {
        struct kz_ueba_act a = {.ts = (kz_time)i * 9000000000LL,
                                .kind = (uint8_t)(i % 3 ? KZ_UEBA_FILE : KZ_UEBA_LOGON),
                                .logon_type = 3,
                                .outcome = 1,
                                .access = KZ_UEBA_READ,
                                .bytes = -1,
                                .user = users[i % 5],
                                .host = hosts[(i / 5) % 3],
                                .src_ip = i % 7 ? "10.1.2.3" : "10.9.9.9",
                                .object = "\\\\*\\projects",
                                .folder = i % 2 ? "x\\f.doc" : "y\\g.doc"};
        kz_ueba_push(u, &a, on_alert, &sum);
    }
    kz_ueba_free(u);
    return sum == (size_t)-1;
}
