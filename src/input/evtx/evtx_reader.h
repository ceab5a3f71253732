/* evtx_reader.h - reads whole EVTX files, decoding chunks in parallel, delivering output in file
 * order.
 *
 * The caller's emit function runs on worker threads, once per record, and appends whatever it makes
 * of the record (a JSON line, XML, a count) to that chunk's output buffer; the write function then
 * runs on the calling thread with each chunk's buffer, strictly in file and chunk order. At most
 * `window` chunks are in flight, so memory is bounded whatever the input size. Problems (bad chunks
 * and records) are counted in the stats and reported, in order, through the problem function with
 * the file's path. */
#ifndef KZ_EVTX_READER_H
#define KZ_EVTX_READER_H

#include "evtx.h"

#include "../../core/error.h"
#include "../../core/pool.h"

#include <stdint.h>

typedef void (*kz_evtx_emit_fn)(void *ctx, struct kz_evtx_decoder *d,
                                const struct kz_evtx_record *rec, uint32_t file_id,
                                struct kz_buf *out);
typedef void (*kz_evtx_write_fn)(void *ctx, const char *data, size_t len);
typedef void (*kz_evtx_report_fn)(void *ctx, const char *path, const char *msg);

struct kz_evtx_reader_opts {
    unsigned flags; /* KZ_EVTX_* decode flags */
    int slack;      /* also read chunks beyond the header's chunk count, and free space */
    int window;     /* chunks in flight (0: 4 per thread) */
    kz_evtx_emit_fn emit;
    kz_evtx_write_fn write;   /* may be NULL when emit writes nothing */
    kz_evtx_report_fn report; /* may be NULL */
    void *ctx;
};

struct kz_evtx_reader;

struct kz_evtx_reader *kz_evtx_reader_new(struct kz_pool *pool,
                                          const struct kz_evtx_reader_opts *o);
/* Queues every chunk of the file at path; blocks while the window is full. A path
 * `ARCHIVE.zip/MEMBER` is a zip member: it is copied to an unlinked temporary file first
 * (kz_zip_extract, at most KZ_ZIP_MAX_EXTRACT bytes), closed once its chunks are queued. Returns
 * 0, or KZ_EIO / KZ_EFORMAT (with err set) when the file cannot be read at all. */
int kz_evtx_reader_add_file(struct kz_evtx_reader *r, const char *path, uint32_t file_id,
                            struct kz_err *err);
/* Waits for all queued chunks and delivers their output. */
void kz_evtx_reader_flush(struct kz_evtx_reader *r);
/* Totals so far (complete after flush), and bytes of input read. */
const struct kz_evtx_stats *kz_evtx_reader_stats(const struct kz_evtx_reader *r);
uint64_t kz_evtx_reader_bytes(const struct kz_evtx_reader *r);
void kz_evtx_reader_free(struct kz_evtx_reader *r);

/* Is this the start of an EVTX file? (n >= 8) */
int kz_evtx_sniff(const uint8_t *p, size_t n);

#endif
