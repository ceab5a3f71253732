/* evtx_decode_bench.c - how fast does the EVTX decoder turn chunks into events, with no I/O around
 * it?
 *
 * Why: the issue sets a target of 1,000,000 records/s per core for decoding alone (the Rust evtx
 * crate reaches about 870k records/s on one core). `kizuki dump` also reads files and formats
 * output, so it cannot show the decoder's own speed; this program can. It loads every in-use chunk
 * of the given files (or of the EVTX files under the given folders) into memory first, then has
 * each of N threads decode every chunk again and again with kz_evtx_decode_chunk, one decoder per
 * thread, for at least S seconds, and prints records, seconds, records/s (in total and per thread),
 * bytes/s and the decoder's peak allocation. The record callback does a little work with each event
 * (sums a few of its fields) so that nothing can be optimised away, and nothing more.
 *
 * usage: evtx_bench [--seconds S] [--threads N] PATH...
 *
 * bench/run.sh runs it on the dense Security and Sysmon logs of the shared corpus; see
 * bench/RESULTS.md. */
#include "core/alloc.h"
#include "core/error.h"
#include "input/evtx/evtx.h"
#include "input/sources.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_THREADS 256

static const char usage[] = "usage: evtx_bench [--seconds S] [--threads N] PATH...\n"
                            "\n"
                            "Loads the in-use chunks of the EVTX files named (or found under the "
                            "folders named) into memory,\n"
                            "then decodes them repeatedly with kz_evtx_decode_chunk for at least S "
                            "seconds (default 3) on N\n"
                            "threads (default 1), one decoder per thread, and prints records/s, "
                            "bytes/s and peak allocation.\n";

/* ---- the chunks to decode ---- */

struct bench_chunk {
    const uint8_t *data; /* points into its file's buffer */
    size_t len;          /* KZ_EVTX_CHUNK_SIZE, or less for the last chunk of a truncated file */
};

struct bench_input {
    uint8_t **files; /* whole file contents, kz_malloc'd */
    size_t nfiles;
    struct bench_chunk *chunks;
    size_t nchunks, chunks_cap;
    uint64_t bytes; /* sum of the chunks' lengths */
};

static int add_chunk(struct bench_input *in, const uint8_t *data, size_t len) {
    if (in->nchunks == in->chunks_cap) {
        size_t cap = in->chunks_cap ? in->chunks_cap * 2 : 256;
        struct bench_chunk *v = kz_realloc(in->chunks, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        in->chunks = v;
        in->chunks_cap = cap;
    }
    in->chunks[in->nchunks].data = data;
    in->chunks[in->nchunks].len = len;
    in->nchunks++;
    in->bytes += len;
    return 0;
}

/* Reads the whole file into memory and records its in-use chunks, choosing them as the reader does
 * without --slack: the chunks the file header counts when the header can be trusted, else every
 * chunk in the file; chunks without the "ElfChnk" signature (blank space) are left out. */
static int load_file(struct bench_input *in, const char *path, struct kz_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    uint8_t *data = NULL;
    size_t size = 0, alloc = 0;
    for (;;) {
        if (size == alloc) {
            size_t grown = alloc ? alloc * 2 : 1 << 20;
            uint8_t *p = kz_realloc(data, grown);
            if (!p) {
                kz_free(data);
                fclose(f);
                return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
            }
            data = p;
            alloc = grown;
        }
        size_t got = fread(data + size, 1, alloc - size, f);
        size += got;
        if (got == 0) break;
    }
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed) {
        kz_free(data);
        return kz_err_set(err, KZ_EIO, "%s: read error", path);
    }
    if (size && size < alloc) { /* give back what the doubling over-allocated */
        uint8_t *p = kz_realloc(data, size);
        if (p) data = p;
    }
    struct kz_evtx_header h;
    if (size < KZ_EVTX_FILE_HEADER_SIZE || kz_evtx_parse_header(data, size, &h)) {
        kz_free(data);
        return kz_err_set(err, KZ_EFORMAT, "%s: not an EVTX file", path);
    }
    uint8_t **files = kz_realloc(in->files, (in->nfiles + 1) * sizeof *files);
    if (!files) {
        kz_free(data);
        return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
    }
    in->files = files;
    in->files[in->nfiles++] = data;

    size_t in_file =
        (size - KZ_EVTX_FILE_HEADER_SIZE + KZ_EVTX_CHUNK_SIZE - 1) / KZ_EVTX_CHUNK_SIZE;
    int header_trusted = h.checksum_ok && !(h.flags & 1) && h.chunk_count <= in_file;
    size_t use = header_trusted ? h.chunk_count : in_file;
    for (size_t i = 0; i < use; i++) {
        size_t off = KZ_EVTX_FILE_HEADER_SIZE + i * KZ_EVTX_CHUNK_SIZE;
        size_t len = size - off < KZ_EVTX_CHUNK_SIZE ? size - off : KZ_EVTX_CHUNK_SIZE;
        if (len < 512 || memcmp(data + off, "ElfChnk\0", 8)) continue;
        if (add_chunk(in, data + off, len)) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    return 0;
}

static void free_input(struct bench_input *in) {
    for (size_t i = 0; i < in->nfiles; i++)
        kz_free(in->files[i]);
    kz_free(in->files);
    kz_free(in->chunks);
}

/* ---- the decoding threads ---- */

struct bench_thread {
    pthread_t tid;
    int index;
    const struct bench_input *in;
    double seconds;              /* run at least this long */
    pthread_barrier_t *start;    /* all threads start timing together */
    struct kz_evtx_decoder *dec; /* this thread's own decoder */
    /* results */
    int failed;                  /* decoder could not be created, or ran out of memory */
    uint64_t records;            /* records decoded in the timed run */
    uint64_t bytes;              /* chunk bytes decoded in the timed run */
    uint64_t passes_done;        /* complete passes over all chunks */
    double elapsed;              /* seconds this thread spent in the timed run */
    double cpu;                  /* CPU seconds it used in that time (less than elapsed when the
                                  * machine is busy with other work and the thread waits for a core) */
    struct kz_evtx_stats warmup; /* counters of the untimed first pass */
    struct kz_evtx_stats timed;  /* counters of the timed run */
    uint64_t sink;               /* what the callback computed from the events */
};

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void) {
    return clock_seconds(CLOCK_MONOTONIC);
}

/* The record callback: touches the event (its id, field count and first field) so the decoder's
 * work is observable, and does nothing else. */
static void on_record(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    uint64_t *sink = ctx;
    const struct kz_event *ev = rec->event;
    *sink += ev->event_id + ev->nfields + rec->record_id;
    if (ev->nfields) *sink += ev->fields[0].len;
}

/* Decodes every chunk once, starting at chunk `first` (threads start at different chunks so they do
 * not walk the same memory in lockstep), adding chunk bytes to *bytes. Returns 0 after a full pass,
 * 1 when the deadline (if > 0) passed first, or KZ_ENOMEM. */
static int decode_pass(struct bench_thread *t, size_t first, struct kz_evtx_stats *st,
                       double deadline, uint64_t *bytes) {
    const struct bench_input *in = t->in;
    for (size_t k = 0; k < in->nchunks; k++) {
        const struct bench_chunk *c = &in->chunks[(first + k) % in->nchunks];
        int rc = kz_evtx_decode_chunk(t->dec, c->data, c->len, 0, 0, on_record, NULL, &t->sink, st);
        if (rc == KZ_ENOMEM) return rc;
        *bytes += c->len;
        if (deadline > 0 && now_seconds() >= deadline) return 1; /* time is up, mid-pass */
    }
    return 0;
}

static void *thread_main(void *arg) {
    struct bench_thread *t = arg;
    size_t first = t->in->nchunks ? (size_t)t->index * 7919 % t->in->nchunks : 0;
    uint64_t ignored = 0;
    /* Untimed warm-up pass: fills caches, interns the field names (a global, locked table). */
    if (!t->dec || decode_pass(t, first, &t->warmup, 0, &ignored) == KZ_ENOMEM) t->failed = 1;
    pthread_barrier_wait(t->start);
    if (t->failed) return NULL;
    double start = now_seconds(), deadline = start + t->seconds;
    double cpu_start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (;;) {
        int rc = decode_pass(t, first, &t->timed, deadline, &t->bytes);
        if (rc == KZ_ENOMEM) {
            t->failed = 1;
            break;
        }
        if (rc == 1) break;
        t->passes_done++;
    }
    t->elapsed = now_seconds() - start;
    t->cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    t->records = t->timed.records;
    return NULL;
}

/* ---- command line ---- */

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void report_source(void *ctx, const char *msg) {
    fprintf(stderr, "evtx_bench: %s\n", msg);
}

static double mib(uint64_t bytes) {
    return (double)bytes / (1024.0 * 1024.0);
}

int main(int argc, char **argv) {
    double seconds = 3;
    long nthreads = 1;
    struct kz_sources sources = {0};
    struct bench_input in = {0};
    struct bench_thread *threads = NULL;
    pthread_barrier_t start;
    int rc = 1, barrier_ready = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            if (parse_double(argv[++i], 0.01, 3600, &seconds)) {
                fprintf(stderr, "evtx_bench: --seconds: '%s' is not a number from 0.01 to 3600\n",
                        argv[i]);
                goto out;
            }
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (parse_long(argv[++i], 1, MAX_THREADS, &nthreads)) {
                fprintf(stderr, "evtx_bench: --threads: '%s' is not a number from 1 to %d\n",
                        argv[i], MAX_THREADS);
                goto out;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "evtx_bench: unknown option or missing value '%s'\n%s", a, usage);
            goto out;
        } else if (kz_sources_add(&sources, a, report_source, NULL)) {
            fprintf(stderr, "evtx_bench: out of memory listing inputs\n");
            goto out;
        }
    }
    if (sources.errors) goto out;
    if (sources.n == 0) {
        fprintf(stderr, "%s", usage);
        goto out;
    }

    /* Load everything before timing anything. */
    for (uint32_t i = 0; i < sources.n; i++) {
        if (sources.v[i].format != KZ_FMT_EVTX) continue;
        struct kz_err err = {0};
        if (load_file(&in, sources.v[i].path, &err)) {
            fprintf(stderr, "evtx_bench: %s\n", err.msg);
            goto out;
        }
    }
    if (in.nchunks == 0) {
        fprintf(stderr, "evtx_bench: no EVTX chunks in the given paths\n");
        goto out;
    }

    /* What is allocated from here on belongs to the decoders (and the few bytes of the thread
     * table). */
    size_t base_in_use = kz_alloc_in_use();
    kz_alloc_reset_peak();
    threads = kz_calloc((size_t)nthreads, sizeof *threads);
    if (!threads || pthread_barrier_init(&start, NULL, (unsigned)nthreads)) {
        fprintf(stderr, "evtx_bench: cannot set up threads\n");
        goto out;
    }
    barrier_ready = 1;
    for (long i = 0; i < nthreads; i++) {
        struct bench_thread *t = &threads[i];
        t->index = (int)i;
        t->in = &in;
        t->seconds = seconds;
        t->start = &start;
        t->dec = kz_evtx_decoder_new();
    }
    long started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started])) break;
    if (started < nthreads) {
        /* The barrier waits for every thread, so a partial start cannot go on. */
        fprintf(stderr, "evtx_bench: could only start %ld of %ld threads\n", started, nthreads);
        exit(1);
    }
    for (long i = 0; i < nthreads; i++)
        pthread_join(threads[i].tid, NULL);
    size_t decoder_peak = kz_alloc_peak() - base_in_use;

    /* Totals. The wall time of the run is the longest thread's; total records/s is over that time.
     */
    uint64_t records = 0, bytes = 0, bad = 0, sink = 0, passes = 0;
    double wall = 0, per_thread_sum = 0, cpu = 0;
    int failed = 0;
    for (long i = 0; i < nthreads; i++) {
        const struct bench_thread *t = &threads[i];
        failed |= t->failed;
        records += t->records;
        bytes += t->bytes;
        bad += t->timed.bad_records;
        sink += t->sink;
        passes += t->passes_done;
        if (t->elapsed > wall) wall = t->elapsed;
        cpu += t->cpu;
        if (t->elapsed > 0) per_thread_sum += (double)t->records / t->elapsed;
    }
    if (failed) {
        fprintf(stderr, "evtx_bench: a decoder ran out of memory\n");
        goto out;
    }
    const struct kz_evtx_stats *pass = &threads[0].warmup;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("input: %u files, %zu chunks (%.1f MiB), %llu records per pass (%llu bad)\n", sources.n,
           in.nchunks, mib(in.bytes), (unsigned long long)pass->records,
           (unsigned long long)pass->bad_records);
    printf("threads: %ld\n", nthreads);
    printf("records decoded: %llu (%llu full passes, %llu bad records)\n",
           (unsigned long long)records, (unsigned long long)passes, (unsigned long long)bad);
    printf("seconds: %.3f\n", wall);
    printf("records/s total: %.0f\n", wall > 0 ? (double)records / wall : 0.0);
    printf("records/s per thread: %.0f\n", per_thread_sum / (double)nthreads);
    /* Per CPU-second: what one core achieves when it is not shared with other work. */
    printf("records per CPU-second: %.0f (%.2f CPU seconds used)\n",
           cpu > 0 ? (double)records / cpu : 0.0, cpu);
    if (nthreads > 1) {
        for (long i = 0; i < nthreads; i++)
            printf("  thread %ld: %.0f records/s\n", i,
                   threads[i].elapsed > 0 ? (double)threads[i].records / threads[i].elapsed : 0.0);
    }
    printf("MB/s total (chunk bytes): %.1f\n", wall > 0 ? (double)bytes / wall / 1e6 : 0.0);
    printf("decoder peak allocation: %.2f MiB (%.2f MiB per decoder)\n", mib(decoder_peak),
           mib(decoder_peak) / (double)nthreads);
    printf("peak RSS: %.1f MiB (of which %.1f MiB is the loaded input)\n",
           (double)ru.ru_maxrss / 1024.0, mib(base_in_use));
    printf("checksum: %llu\n", (unsigned long long)sink);
    rc = 0;
out:
    if (threads) {
        for (long i = 0; i < nthreads; i++)
            kz_evtx_decoder_free(threads[i].dec);
        kz_free(threads);
    }
    if (barrier_ready) pthread_barrier_destroy(&start);
    free_input(&in);
    kz_sources_free(&sources);
    return rc;
}
