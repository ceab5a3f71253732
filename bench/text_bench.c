/* text_bench.c - how fast do the text readers turn lines into normalised events, per core?
 *
 * Why: issue 5 asks for JSON lines >= 300 MB/s per core and access logs >= 500 MB/s per core, to
 * normalised events (struct kz_event with raw fields and entity slots), which is what scan and
 * dump consume. This program loads the files named (whole, into memory; .gz is not accepted here,
 * so disk and zlib are not measured), splits them into lines and runs kz_text_decode_line over
 * every line on one thread, again and again for at least S seconds, and prints MB/s and events/s
 * per CPU-second of the decoding thread (CLOCK_THREAD_CPUTIME_ID: "per core", and steadier than
 * wall time on a shared machine; the wall-clock rate is printed after it). Each event's field
 * count is summed so the work cannot be optimised away. The format is told by content
 * (kz_text_sniff), as kizuki does; sequential formats (IIS W3C, event XML, auditd) get the file
 * state the reader gives them, records that end on the same line (d.more) are all taken, and
 * auditd's held-back events are flushed at the end of each round, as the reader does.
 *
 * usage: text_bench [--seconds S] FILE...
 * e.g.   kizuki simulate -o /tmp/est --users 200 --days 14 --format jsonl
 *        text_bench /tmp/est/logs/DC01/Security.jsonl /tmp/est/logs/PROXY01/access.log
 *        bench/inputs.sh runs it over every text format kizuki reads. */
#include "core/alloc.h"
#include "core/timeutil.h"
#include "input/text_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) {
    return clock_s(CLOCK_MONOTONIC);
}

/* One decode_line call and every further record it says the line holds. */
static void take(struct kz_text_decoder *d, uint8_t fmt, const char *p, size_t len, uint64_t line,
                 uint64_t *events, uint64_t *bad, uint64_t *fields) {
    d->more = 0;
    for (;;) {
        int rc = kz_text_decode_line(d, fmt, p, len, line, 0);
        if (rc == 0)
            (*events)++, *fields += d->event.nfields;
        else if (rc < 0)
            (*bad)++;
        if (!d->more) break;
    }
}

static char *load(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)size;
    return buf;
}

int main(int argc, char **argv) {
    double seconds = 3;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "--seconds")) seconds = atof(argv[2]), first = 3;
    if (first >= argc) {
        fprintf(stderr, "usage: text_bench [--seconds S] FILE...\n");
        return 1;
    }
    struct kz_text_decoder d;
    if (kz_text_decoder_init(&d)) return 2;
    for (int i = first; i < argc; i++) {
        size_t n;
        char *buf = load(argv[i], &n);
        if (!buf) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 1;
        }
        uint8_t fmt = kz_text_sniff(buf, n < 4096 ? n : 4096);
        if (!kz_text_format_ok(fmt)) {
            fprintf(stderr, "%s: not a text format kizuki reads\n", argv[i]);
            return 1;
        }
        uint64_t events = 0, bad = 0, fields = 0, rounds = 0;
        struct kz_text_seq seq;
        int sequential = kz_text_format_sequential(fmt);
        double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t;
        do {
            memset(&seq, 0, sizeof seq);
            d.seq = sequential ? &seq : NULL;
            const char *p = buf, *end = buf + n;
            uint64_t line = 0;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                take(&d, fmt, p, len, ++line, &events, &bad, &fields);
                p = nl ? nl + 1 : end;
            }
            if (sequential && seq.flush_at_end) { /* auditd: events still held back */
                seq.at_end = 1;
                for (d.more = 1; d.more;) /* as the reader does: one per call while `more` */
                    if (kz_text_decode_line(&d, fmt, "", 0, line, 0) == 0)
                        events++, fields += d.event.nfields;
            }
            kz_text_seq_end(&seq);
            d.seq = NULL;
            rounds++;
        } while ((t = now() - t0) < seconds);
        double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (cpu <= 0) cpu = t;
        /* the rate per CPU-second comes first: scripts read the last "N MB/s" of the line */
        printf("%-50s %-9s %8.1f MB/s %10.0f events/s per CPU-second  (wall clock: %.1f MB per "
               "second; %.1f MB x %llu, %llu bad lines, %.1f fields/event)\n",
               argv[i], kz_event_format_name(fmt), (double)n * (double)rounds / cpu / 1e6,
               (double)events / cpu, (double)n * (double)rounds / t / 1e6, (double)n / 1e6,
               (unsigned long long)rounds, (unsigned long long)(bad / rounds),
               events ? (double)fields / (double)events : 0.0);
        free(buf);
    }
    kz_text_decoder_free(&d);
    return 0;
}
