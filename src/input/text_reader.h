/* text_reader.h - reads line-oriented logs (JSON lines, access logs, FortiGate) in parallel blocks
 * and delivers output in file order; the text twin of evtx_reader.h.
 *
 * Why a generic reader: every text format kizuki reads is one record per line, so splitting,
 * decompression, limits, bad-line accounting and ordering are the same for all of them; only the
 * line -> event step differs (src/input/jsonl.c, accesslog.c, fortigate.c). The calling thread
 * reads each file (gzip decompressed in place with zlib) into blocks of about KZ_TEXT_BLOCK bytes
 * cut at line boundaries, and submits them to the pool; a worker parses every line of its block
 * into a struct kz_event and calls emit, which appends whatever it makes of the event to the
 * block's output buffer; write then runs on the calling thread with each block's buffer, strictly
 * in file and block order. At most `window` blocks are in flight, so memory is bounded however
 * large the input.
 *
 * Bad input: a line that is not in the file's format, holds a NUL byte, or is longer than
 * KZ_TEXT_MAX_LINE is skipped and counted (bad_lines), and reported through report with its file
 * and line number (the first KZ_TEXT_MAX_REPORTS per file; the rest are only counted).
 *
 * Ownership: the event passed to emit, and every string in it, belong to the worker's decoder and
 * are valid only during that emit call. The record id of a text event is its 1-based line number
 * in the (decompressed) file. */
#ifndef KZ_TEXT_READER_H
#define KZ_TEXT_READER_H

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/event.h"
#include "../core/json.h"
#include "../core/pool.h"

#include <stdint.h>

#define KZ_TEXT_BLOCK ((size_t)1 << 20)    /* bytes of input per block (cut at a line end) */
#define KZ_TEXT_MAX_LINE ((size_t)1 << 20) /* longer lines are skipped and counted */
#define KZ_TEXT_MAX_FIELDS 1024            /* raw fields per event; further fields are dropped */
#define KZ_TEXT_MAX_REPORTS 20             /* bad lines reported one by one per file */
#define KZ_TEXT_NAME_CACHE 4096            /* field names remembered per decoder (power of 2) */

/* Per-file state of a sequential format, one whose lines depend on earlier ones (IIS W3C's #Fields
 * directive names the columns of the lines after it; a Windows event XML document may span
 * lines). The reader decodes such a file one block at a time, in order, so every line sees what the
 * lines before it set. The parser owns `state` (allocated on first use with kz_malloc, freed with
 * free_state when the file ends); pending_line > 0 says a record that started on that line is not
 * finished (reported as cut short if the file ends there). */
struct kz_text_seq {
    void *state;
    void (*free_state)(void *state);
    uint64_t pending_line;
    /* A parser that holds finished records back (auditd assembles interleaved records) sets
     * flush_at_end; after the file's last line the reader sets at_end and calls it once more with
     * an empty line and `more` set, for as long as it keeps setting `more`. */
    int flush_at_end, at_end;
};

/* kz_text_decode_line's result for a line taken into a record that is not finished yet. */
#define KZ_TEXT_PENDING 2

/* One worker's decoding state, reused from line to line (one per slot, used by one thread at a
 * time). Parsers (jsonl.c, accesslog.c, fortigate.c) fill `event` and `fields` through the helpers
 * below; the arena is reset before every line. */
struct kz_text_decoder {
    struct kz_arena arena;   /* this line's strings */
    struct kz_field *fields; /* KZ_TEXT_MAX_FIELDS entries */
    uint32_t nfields;        /* fields of the current event */
    uint32_t dropped;        /* fields beyond KZ_TEXT_MAX_FIELDS on the current line */
    struct kz_json_parser json;
    struct kz_event event;
    void *user;      /* the caller's per-decoder state (kz_text_decoder_user) */
    const char *why; /* why the last line was rejected (static text) */
    struct kz_text_seq *seq; /* the file's state for a sequential format, else NULL */
    int more; /* set by a parser when its line holds another record: call again, same line */
    uint64_t line_no; /* the line being decoded */
    kz_time ref_time; /* the file's modification time (0: unknown), for years syslog omits */
    size_t raw_len;   /* its length before trailing blanks and CR were cut (XML keeps them) */
    struct {
        uint64_t hash;
        uint32_t id;
    } names[KZ_TEXT_NAME_CACHE]; /* name bytes -> interned id, without the intern lock */
};

/* Sets up / tears down a decoder (for tests, benchmarks and fuzzers; readers own theirs). */
int kz_text_decoder_init(struct kz_text_decoder *d);
void kz_text_decoder_free(struct kz_text_decoder *d);
/* Decodes one line (without its newline; a trailing CR is ignored) of a file in `format` into
 * d->event (record_id = line_no, file_id as given). Returns 0 with an event, 1 for a line that
 * holds no event (blank), KZ_TEXT_PENDING for a line kept for a record that continues on the next
 * lines (the record's event then carries the line it started on), or KZ_EFORMAT / KZ_ELIMIT with
 * d->why set. */
int kz_text_decode_line(struct kz_text_decoder *d, uint8_t format, const char *line, size_t len,
                        uint64_t line_no, uint32_t file_id);

/* ---- helpers for the format parsers ---- */

/* The interned id of name[0..n), through the decoder's cache; 0 (no field) for an empty name or
 * one holding NUL. */
uint32_t kz_text_name(struct kz_text_decoder *d, const char *name, size_t n);
/* Appends a raw field, copying val[0..n) into the arena (NUL-terminated). Returns the field or
 * NULL when out of arena space or past KZ_TEXT_MAX_FIELDS (counted in dropped). */
struct kz_field *kz_text_field(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                               uint8_t kind, const char *val, size_t n);
/* The same for a NUL-terminated string already valid for the line (no copy). */
struct kz_field *kz_text_field_ref(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                                   uint8_t kind, const char *val, size_t n);

/* Interns a parser's fixed field names once per process: ids[i] = the id of names[i], for
 * i < n. *ready (a static int of the caller's, 0 at first) is set once they are; later calls
 * cost one atomic load, so a parser calls this at the top of every line. Thread-safe. */
void kz_text_intern_names(const char *const *names, uint32_t *ids, size_t n, int *ready);

/* ---- the reader ---- */

struct kz_text_stats {
    uint64_t lines;     /* lines read (blank ones included) */
    uint64_t events;    /* lines that gave an event */
    uint64_t bad_lines; /* lines skipped: not in the format, NUL bytes, too long */
    uint64_t blank;     /* empty or whitespace-only lines */
    uint64_t files;     /* files read */
};

typedef void (*kz_text_emit_fn)(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                                uint32_t file_id, struct kz_buf *out);
typedef void (*kz_text_write_fn)(void *ctx, const char *data, size_t len);
typedef void (*kz_text_report_fn)(void *ctx, const char *path, const char *msg);

struct kz_text_reader_opts {
    int window;   /* blocks in flight (0: 2 per thread) */
    size_t block; /* bytes per block (0: KZ_TEXT_BLOCK); tests use small blocks */
    kz_text_emit_fn emit;
    kz_text_write_fn write;   /* may be NULL when emit writes nothing */
    kz_text_report_fn report; /* may be NULL */
    void *ctx;
};

struct kz_text_reader;

struct kz_text_reader *kz_text_reader_new(struct kz_pool *pool,
                                          const struct kz_text_reader_opts *o);
/* Queues every block of the file at path, read as `format` (a KZ_FMT_* text format; gzip is
 * recognised by its magic and decompressed); blocks while the window is full. Returns 0, or
 * KZ_EIO / KZ_EUSAGE / KZ_ENOMEM with err set. */
int kz_text_reader_add_file(struct kz_text_reader *r, const char *path, uint8_t format,
                            uint32_t file_id, struct kz_err *err);
/* Waits for all queued blocks and delivers their output. */
void kz_text_reader_flush(struct kz_text_reader *r);
const struct kz_text_stats *kz_text_reader_stats(const struct kz_text_reader *r);
/* Bytes of input read so far (compressed bytes for .gz files, so progress matches file sizes). */
uint64_t kz_text_reader_bytes(const struct kz_text_reader *r);
void kz_text_reader_free(struct kz_text_reader *r);

static inline void *kz_text_decoder_user(const struct kz_text_decoder *d) {
    return d->user;
}
static inline void kz_text_decoder_set_user(struct kz_text_decoder *d, void *u) {
    d->user = u;
}

/* Is this a text format the reader reads? */
int kz_text_format_ok(uint8_t format);
/* Is it read sequentially (struct kz_text_seq)? */
int kz_text_format_sequential(uint8_t format);
/* Ends a sequential file's state: frees it; returns the line of an unfinished record, or 0. */
uint64_t kz_text_seq_end(struct kz_text_seq *seq);
/* Detects a text format from the start of a file (already decompressed): the first non-blank
 * line decides. Returns a KZ_FMT_* or KZ_FMT_UNKNOWN. */
uint8_t kz_text_sniff(const char *p, size_t n);

#endif
