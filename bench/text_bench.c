/* text_bench.c - how fast do the text readers turn lines into normalised events, per core?
 *
 * Why: issue 5 asks for JSON lines >= 300 MB/s per core and access logs >= 500 MB/s per core, to
 * normalised events (struct kz_event with raw fields and entity slots), which is what scan and
 * dump consume. This program loads the files named (whole, into memory; .gz is not accepted here,
 * so disk and zlib are not measured), splits them into lines and runs kz_text_decode_line over
 * every line on one thread, again and again for at least S seconds, and prints MB/s and events/s.
 * Each event's field count is summed so the work cannot be optimised away. The format is told by
 * content (kz_text_sniff), as kizuki does.
 *
 * usage: text_bench [--seconds S] FILE...
 * e.g.   kizuki simulate -o /tmp/est --users 200 --days 14 --format jsonl
 *        text_bench /tmp/est/logs/DC01/Security.jsonl /tmp/est/logs/PROXY01/access.log */
#include "core/alloc.h"
#include "core/timeutil.h"
#include "input/text_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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
        double t0 = now(), t;
        do {
            const char *p = buf, *end = buf + n;
            uint64_t line = 0;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                int rc = kz_text_decode_line(&d, fmt, p, len, ++line, 0);
                if (rc == 0)
                    events++, fields += d.event.nfields;
                else if (rc < 0)
                    bad++;
                p = nl ? nl + 1 : end;
            }
            rounds++;
        } while ((t = now() - t0) < seconds);
        printf("%-50s %-9s %8.1f MB/s %10.0f events/s  (%.1f MB x %llu, %llu bad lines, %.1f "
               "fields/event)\n",
               argv[i], kz_event_format_name(fmt), (double)n * (double)rounds / t / 1e6,
               (double)events / t, (double)n / 1e6, (unsigned long long)rounds,
               (unsigned long long)(bad / rounds), events ? (double)fields / (double)events : 0.0);
        free(buf);
    }
    kz_text_decoder_free(&d);
    return 0;
}
