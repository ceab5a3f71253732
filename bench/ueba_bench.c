/* ueba_bench.c - how fast is the UEBA stage alone, and how much memory does its model take?
 *
 * Why: the design's budget for behaviour analytics is >= 1,000,000 activities/s per core and
 * <= 2 KiB per entity. `kizuki scan` spends most of its time decoding, so it cannot show the
 * UEBA stage's own speed; this program can. It decodes the EVTX files under PATH once (on all
 * cores), keeps the activity records kz_ueba_extract finds (packed, in memory), and then, on one
 * thread, runs the whole UEBA stage again and again for at least S seconds on a fresh engine
 * each time: kz_ueba_keep for every record (what scan's main thread does as chunks arrive),
 * kz_ueba_run (order by time, score, alert). It prints records, runs, activities/s, alerts, and
 * the model's size: entities, profiles, bytes per entity and per profile.
 *
 * With --peers FILE (a `kizuki simulate` estate's peers.csv), each run also reads the peer-group
 * mapping (timed with the run) and the peer-rarity feature learns its groups' pairs. With
 * --geoip FILE (the estate's geoip.mmdb) the logons and VPN sessions from public addresses are
 * located for impossible travel, as `scan --geoip` does (the database is opened afresh before
 * each run, untimed, so that no run starts with the last one's travel memory); both are how the
 * quality figures are measured (bench/ueba_quality.sh). What scan adds and this leaves out: the
 * records of Sigma findings (one per finding of level medium or above, a few hundred in an estate
 * of a million events).
 *
 * usage: ueba_bench [--seconds S] [--peers FILE] [--geoip FILE] PATH...
 *        (e.g. a simulated estate's logs/) */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/pool.h"
#include "input/evtx/evtx_reader.h"
#include "input/sources.h"
#include "ueba/geoip.h"
#include "ueba/ueba.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench {
    struct kz_buf packed; /* u32 length + packed record, for every activity */
    uint64_t records;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: the stage's speed per core, whatever else the machine is running (the
 * shared development VM is often loaded several times over; wall time would measure the load). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    struct kz_ueba_act a;
    if (!kz_ueba_extract(rec->event, &a)) return;
    a.file_id = file_id;
    size_t mark = out->len;
    uint32_t len = 0;
    kz_buf_append(out, &len, 4);
    kz_ueba_act_pack(out, &a);
    len = (uint32_t)(out->len - mark - 4);
    if (!out->failed) memcpy(out->data + mark, &len, 4);
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct bench *b = ctx;
    kz_buf_append(&b->packed, data, len);
}

static void count_alert(void *ctx, const struct kz_ueba_alert *a) {
    (*(uint64_t *)ctx)++;
}

int main(int argc, char **argv) {
    double seconds = 3;
    struct kz_sources src = {0};
    struct kz_buf peers;
    kz_buf_init(&peers, (size_t)1 << 30);
    const char *peers_path = NULL, *geoip_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "--peers") && i + 1 < argc) {
            peers_path = argv[++i];
            FILE *f = fopen(peers_path, "rb");
            if (!f) {
                perror(peers_path);
                return 1;
            }
            char chunk[1 << 16];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
                kz_buf_append(&peers, chunk, got);
            fclose(f);
        } else if (!strcmp(argv[i], "--geoip") && i + 1 < argc) {
            geoip_path = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: ueba_bench [--seconds S] [--peers FILE] [--geoip FILE] "
                            "PATH...\n");
            return 1;
        } else if (kz_sources_add(&src, argv[i], NULL, NULL)) {
            return 2;
        }
    }
    if (!src.n) {
        fprintf(stderr, "usage: ueba_bench [--seconds S] [--peers FILE] [--geoip FILE] PATH...\n");
        return 1;
    }
    struct bench b = {0};
    kz_buf_init(&b.packed, (size_t)4 << 30);
    struct kz_pool *pool = kz_pool_new(0);
    struct kz_evtx_reader_opts o = {.emit = emit, .write = write_out, .ctx = &b};
    struct kz_evtx_reader *r = kz_evtx_reader_new(pool, &o);
    for (uint32_t i = 0; i < src.n; i++) {
        struct kz_err err;
        if (src.v[i].format == KZ_FMT_EVTX) kz_evtx_reader_add_file(r, src.v[i].path, i, &err);
    }
    kz_evtx_reader_flush(r);
    uint64_t events = kz_evtx_reader_stats(r)->records;
    kz_evtx_reader_free(r);
    kz_pool_free(pool);
    if (b.packed.failed) {
        fprintf(stderr, "ueba_bench: out of memory keeping records\n");
        return 2;
    }

    uint64_t runs = 0, alerts = 0;
    struct kz_ueba_stats st = {0};
    double t0 = now(), busy = 0;
    while (busy < seconds || runs == 0) {
        struct kz_ueba_opts opts;
        kz_ueba_opts_default(&opts);
        struct kz_geoip *geo = NULL;
        if (geoip_path) {
            struct kz_err gerr = {0};
            if (kz_geoip_open(&geo, geoip_path, &gerr)) {
                fprintf(stderr, "ueba_bench: %s\n", gerr.msg);
                return 1;
            }
            opts.geoip = geo;
        }
        struct kz_ueba *u;
        if (kz_ueba_new(&u, &opts)) return 2;
        double t1 = cpu_now();
        struct kz_err perr = {0};
        if (peers_path && kz_ueba_peers_buffer(u, peers.data, peers.len, peers_path, &perr)) {
            fprintf(stderr, "ueba_bench: %s\n", perr.msg);
            return 1;
        }
        const char *p = b.packed.data, *end = p + b.packed.len;
        b.records = 0;
        while (end - p >= 4) {
            uint32_t n;
            memcpy(&n, p, 4);
            struct kz_ueba_act a;
            if (!kz_ueba_act_unpack(p + 4, n, &a)) kz_ueba_keep(u, &a);
            p += 4 + n;
            b.records++;
        }
        alerts = 0;
        kz_ueba_run(u, count_alert, &alerts);
        busy += cpu_now() - t1;
        kz_ueba_stats(u, &st);
        kz_ueba_free(u);
        kz_geoip_free(geo);
        runs++;
    }
    double wall = now() - t0;
    printf("ueba_bench: %llu events decoded, %llu activity records (%.1f MiB packed)\n",
           (unsigned long long)events, (unsigned long long)b.records,
           (double)b.packed.len / (1 << 20));
    printf("  %llu runs in %.2f CPU s (%.2f s wall): %.0f activities per CPU-second on one thread "
           "(keep + order + score), %llu alerts per run\n",
           (unsigned long long)runs, busy, wall, (double)b.records * (double)runs / busy,
           (unsigned long long)alerts);
    printf("  model: %u entities (%u accounts, %u hosts), %llu learned pairs, %.2f MiB: %.0f "
           "bytes per entity, %.0f bytes per account or host profile\n",
           st.entities, st.users, st.hosts, (unsigned long long)st.edges,
           (double)st.bytes / (1 << 20), (double)st.bytes / (st.entities ? st.entities : 1),
           (double)st.bytes / (st.users + st.hosts ? st.users + st.hosts : 1));
    if (peers_path) printf("  with the peer groups of %s\n", peers_path);
    if (geoip_path) printf("  with the places of %s (impossible travel)\n", geoip_path);
    kz_buf_free(&b.packed);
    kz_buf_free(&peers);
    kz_sources_free(&src);
    return 0;
}
