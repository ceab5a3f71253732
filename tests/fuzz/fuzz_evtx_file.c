/* fuzz_evtx_file.c - libFuzzer target: the input is a whole EVTX file.
 *
 * Why: the chunk target never sees the file header, so this one covers what the reader does with
 * it: the chunk count against the file size, the dirty flag and header checksum deciding which
 * chunks are trusted, chunks beyond the count read as slack, a truncated last chunk, and the slot
 * window being reused across chunks and files. The input is written to a memfd and read through its
 * /proc path with the real reader (a pool of one worker thread); every record is rendered as a JSON
 * line, as `kizuki dump` does.
 *
 * Two readers are created once and reused for every input, like one `dump` run over many files: one
 * with the defaults, one with --slack and a window of two chunks (so slots are reused within a
 * file).
 *
 * Build and run: see tests/fuzz/README.md. */
#define _GNU_SOURCE /* memfd_create */
#include "core/buf.h"
#include "core/error.h"
#include "core/pool.h"
#include "input/evtx/evtx_reader.h"
#include "output/event_json.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_state {
    struct kz_pool *pool;
    struct kz_evtx_reader *plain, *slack;
    int fd;
    char path[64];
    unsigned long long written, reports;
};

static struct fuzz_state fz;

/* The intern table keeps the arrays it outgrows, on purpose (lock-free readers may still hold them;
 * see src/core/intern.c), and LeakSanitizer would report each one. Nothing else is suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:src/core/intern.c\n";
}

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    if (!rec->event) abort();
    kz_event_json(out, rec->event, "fuzz.evtx");
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct fuzz_state *s = ctx;
    if (len && !data) abort();
    s->written += len;
}

static void report(void *ctx, const char *path, const char *msg) {
    struct fuzz_state *s = ctx;
    s->reports += strlen(path) + strlen(msg);
}

static void fuzz_init(void) {
    if (fz.pool) return;
    fz.fd = memfd_create("fuzz.evtx", MFD_CLOEXEC);
    if (fz.fd < 0) {
        /* No memfd (old kernel, sandbox): a temporary file does the same job. */
        char tmpl[] = "/tmp/fuzz_evtx_XXXXXX";
        fz.fd = mkstemp(tmpl);
        if (fz.fd < 0) abort();
        unlink(tmpl);
    }
    snprintf(fz.path, sizeof fz.path, "/proc/self/fd/%d", fz.fd);
    fz.pool = kz_pool_new(1);
    struct kz_evtx_reader_opts plain = {
        .emit = emit, .write = write_out, .report = report, .ctx = &fz};
    struct kz_evtx_reader_opts slack = plain;
    slack.slack = 1;
    slack.window = 2;
    fz.plain = fz.pool ? kz_evtx_reader_new(fz.pool, &plain) : NULL;
    fz.slack = fz.pool ? kz_evtx_reader_new(fz.pool, &slack) : NULL;
    if (!fz.plain || !fz.slack) abort();
}

static void read_with(struct kz_evtx_reader *r, size_t size) {
    struct kz_err err = {0};
    uint64_t before = kz_evtx_reader_bytes(r);
    int rc = kz_evtx_reader_add_file(r, fz.path, 0, &err);
    kz_evtx_reader_flush(r);
    /* A refused file says why; an accepted one was read at most once. */
    if (rc && !err.msg[0]) abort();
    if (kz_evtx_reader_bytes(r) - before > size) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (ftruncate(fz.fd, 0)) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fz.fd, data + done, size - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    read_with(fz.plain, size);
    read_with(fz.slack, size);
    return 0;
}
