/* text_reader.c - parallel, ordered reading of line-oriented logs; see text_reader.h.
 *
 * The calling thread reads each file sequentially (through zlib for gzip) into slot buffers. A
 * slot's block ends at its last newline; the partial line after it is carried into the next
 * slot, so every block holds whole lines and needs no neighbour to be parsed. Line numbers are
 * counted on the calling thread (memchr over the block, far faster than parsing), so each block
 * knows the number of its first line. Slot i of a window of W is reused for block i+W only after
 * its output has been written, which keeps output in order and memory bounded, exactly as in
 * evtx_reader.c. */
#include "text_reader.h"

#include "../core/alloc.h"
#include "../core/intern.h"
#include "../core/utf.h"
#include "accesslog.h"
#include "archive.h"
#include "auditd.h"
#include "evtxml.h"
#include "fortigate.h"
#include "jsonl.h"
#include "squid.h"
#include "syslog.h"
#include "w3c.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SLOT_OUTPUT_CAP (32u << 20) /* output of one block; more is dropped line by line */
#define LINE_ARENA_CAP ((size_t)8 << 20)

/* ---- the decoder ---- */

int kz_text_decoder_init(struct kz_text_decoder *d) {
    memset(d, 0, sizeof *d);
    kz_arena_init(&d->arena, 64 * 1024, LINE_ARENA_CAP);
    d->fields = kz_calloc(KZ_TEXT_MAX_FIELDS, sizeof *d->fields);
    /* One line is one document: the line cap bounds the JSON too. */
    struct kz_json_limits lim = {
        .max_input = KZ_TEXT_MAX_LINE, .max_depth = 32, .max_nodes = 1u << 16};
    if (!d->fields || kz_json_parser_init(&d->json, &lim)) {
        kz_text_decoder_free(d);
        return KZ_ENOMEM;
    }
    kz_event_reset(&d->event);
    return 0;
}

void kz_text_decoder_free(struct kz_text_decoder *d) {
    kz_arena_free(&d->arena);
    kz_free(d->fields);
    d->fields = NULL;
    kz_json_parser_free(&d->json);
}

uint32_t kz_text_name(struct kz_text_decoder *d, const char *name, size_t n) {
    if (n > KZ_INTERN_MAX_LEN) n = KZ_INTERN_MAX_LEN;
    /* A name is C text that rules can spell: an empty one or one holding NUL (a JSON key written
     * "\u0000...") names no field, so the field is left out. */
    if (!n) return 0;
    /* Eight bytes at a time (every field of every line comes through here): a multiply-xorshift
     * of each word, the NUL test folded in (a zero byte in w sets a high bit of the test). */
    uint64_t h = 1469598103934665603ull ^ n, nul = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, name + i, 8);
        nul |= (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, name + i, n - i);
        for (size_t k = i; k < n; k++)
            nul |= name[k] == 0;
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    if (nul) return 0;
    h |= 1; /* 0 marks an empty entry */
    for (unsigned probe = 0; probe < 8; probe++) {
        unsigned k = (unsigned)(h + probe) & (KZ_TEXT_NAME_CACHE - 1);
        if (d->names[k].hash == 0) {
            uint32_t id = kz_intern(name, n);
            if (id) d->names[k].hash = h, d->names[k].id = id;
            return id;
        }
        if (d->names[k].hash == h) {
            uint32_t id = d->names[k].id;
            if (kz_intern_len(id) == n && !memcmp(kz_intern_name(id), name, n)) return id;
        }
    }
    return kz_intern(name, n); /* a crowded neighbourhood: the shared table answers */
}

void kz_text_intern_names(const char *const *names, uint32_t *ids, size_t n, int *ready) {
    if (__atomic_load_n(ready, __ATOMIC_ACQUIRE)) return;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (!*ready) {
        for (size_t i = 0; i < n; i++)
            ids[i] = kz_intern(names[i], strlen(names[i]));
        __atomic_store_n(ready, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
}

static struct kz_field *push(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                             uint8_t kind, const char *val, size_t n) {
    if (!name) return NULL;
    if (d->nfields >= KZ_TEXT_MAX_FIELDS || n > UINT32_MAX) {
        d->dropped++;
        return NULL;
    }
    struct kz_field *f = &d->fields[d->nfields++];
    f->name = name;
    f->section = section;
    f->kind = kind;
    f->flags = 0;
    f->len = (uint32_t)n;
    f->val = val;
    return f;
}

struct kz_field *kz_text_field(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                               uint8_t kind, const char *val, size_t n) {
    char *copy = kz_arena_strndup(&d->arena, val, n);
    if (!copy) {
        d->dropped++;
        return NULL;
    }
    return push(d, name, section, kind, copy, n);
}

struct kz_field *kz_text_field_ref(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                                   uint8_t kind, const char *val, size_t n) {
    return push(d, name, section, kind, val, n);
}

int kz_text_decode_line(struct kz_text_decoder *d, uint8_t format, const char *line, size_t len,
                        uint64_t line_no, uint32_t file_id) {
    int more = d->more; /* the last call left another record of its line to deliver */
    d->more = 0;
    d->line_no = line_no;
    d->raw_len = len;
    if (more) {
        len = 0;
        goto decode;
    }
    /* inside a record that spans lines, a blank line is part of it */
    if (d->seq && d->seq->pending_line && len <= KZ_TEXT_MAX_LINE && !memchr(line, 0, len))
        goto decode;
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len) return 1;
    if (len > KZ_TEXT_MAX_LINE) {
        d->why = "line longer than 1 MiB";
        return KZ_ELIMIT;
    }
    if (memchr(line, 0, len)) {
        d->why = "NUL byte in the line";
        return KZ_EFORMAT;
    }
decode:
    kz_arena_reset(&d->arena);
    d->nfields = 0;
    d->dropped = 0;
    d->why = NULL;
    kz_event_reset(&d->event);
    d->event.fields = d->fields;
    d->event.nfields = 0;
    int rc;
    switch (format) {
    case KZ_FMT_JSONL:
        rc = kz_jsonl_parse(d, line, len);
        break;
    case KZ_FMT_ACCESSLOG:
        rc = kz_accesslog_parse(d, line, len);
        break;
    case KZ_FMT_FORTIGATE:
        rc = kz_fortigate_parse(d, line, len);
        break;
    case KZ_FMT_W3C:
        rc = kz_w3c_parse(d, line, len);
        break;
    case KZ_FMT_SQUID:
        rc = kz_squid_parse(d, line, len);
        break;
    case KZ_FMT_EVTXML:
        rc = kz_evtxml_parse(d, line, len);
        break;
    case KZ_FMT_SYSLOG:
        rc = kz_syslog_parse(d, line, len);
        break;
    case KZ_FMT_AUDITD:
        rc = kz_auditd_decode(d, line, len);
        break;
    default:
        d->why = "not a text format";
        return KZ_EUSAGE;
    }
    if (rc) {
        if (!d->why) d->why = "not in the file's format";
        return rc;
    }
    d->event.fields = d->fields;
    d->event.nfields = d->nfields;
    if (!d->event.record_id) d->event.record_id = line_no; /* else: the line it started on */
    d->event.file_id = file_id;
    d->event.format = format;
    return 0;
}

int kz_text_format_ok(uint8_t format) {
    return format == KZ_FMT_JSONL || format == KZ_FMT_ACCESSLOG || format == KZ_FMT_FORTIGATE ||
           format == KZ_FMT_W3C || format == KZ_FMT_SQUID || format == KZ_FMT_EVTXML ||
           format == KZ_FMT_SYSLOG || format == KZ_FMT_AUDITD;
}

int kz_text_format_sequential(uint8_t format) {
    return format == KZ_FMT_W3C || format == KZ_FMT_EVTXML || format == KZ_FMT_AUDITD;
}

uint64_t kz_text_seq_end(struct kz_text_seq *seq) {
    uint64_t pending = seq->pending_line;
    if (seq->state && seq->free_state) seq->free_state(seq->state);
    memset(seq, 0, sizeof *seq);
    return pending;
}

static uint8_t sniff_utf8(const char *p, size_t n);

uint8_t kz_text_sniff(const char *p, size_t n) {
    size_t bom;
    int utf16 = kz_utf16_detect((const uint8_t *)p, n, &bom);
    if (utf16) { /* what it says, converted: the first 8 KiB are plenty for the first line */
        static __thread char conv[KZ_UTF16_STREAM_MAX_OUT(8192)];
        struct kz_utf16_stream st = {.big_endian = utf16 == 2};
        size_t take = n - bom < 8192 ? n - bom : 8192;
        return sniff_utf8(conv, kz_utf16_stream_convert(&st, (const uint8_t *)p + bom, take, conv));
    }
    return sniff_utf8(p, n);
}

static uint8_t sniff_utf8(const char *p, size_t n) {
    if (kz_jsonl_array_sniff(p, n)) return KZ_FMT_JSONL;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, n -= 3;
    /* the first line that is not blank */
    for (;;) {
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        p += i, n -= i;
        if (!n) return KZ_FMT_UNKNOWN;
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        if (memchr(p, 0, len)) return KZ_FMT_UNKNOWN; /* binary */
        if (kz_jsonl_sniff(p, len)) return KZ_FMT_JSONL;
        if (kz_fortigate_sniff(p, len)) return KZ_FMT_FORTIGATE;
        if (kz_accesslog_sniff(p, len)) return KZ_FMT_ACCESSLOG;
        if (kz_w3c_sniff(p, len)) return KZ_FMT_W3C;
        if (kz_squid_sniff(p, len)) return KZ_FMT_SQUID;
        if (kz_evtxml_sniff(p, len)) return KZ_FMT_EVTXML;
        /* Last: a syslog header may front other formats' lines (FortiGate's, above). */
        if (kz_auditd_sniff(p, len)) return KZ_FMT_AUDITD;
        if (kz_syslog_sniff(p, len)) return KZ_FMT_SYSLOG;
        if (len >= 11 && !memcmp(p, "evtxexport ", 11) && nl) { /* evtxexport's banner line */
            n -= (size_t)(nl + 1 - p), p = nl + 1;
            continue;
        }
        return KZ_FMT_UNKNOWN;
    }
}

/* ---- the reader ---- */

struct slot {
    struct kz_job job;
    int busy;
    struct kz_text_reader *r;
    struct kz_text_decoder dec;
    char *buf;           /* block + KZ_TEXT_MAX_LINE + 1 bytes */
    size_t len;          /* bytes of whole lines in buf */
    uint64_t first_line; /* number of the block's first line */
    uint8_t format;
    uint32_t file_id;
    const char *path; /* owned by the reader's path list */
    struct kz_buf out;
    struct kz_buf problems; /* "line N: why\n" */
    uint32_t nproblems;
    struct kz_text_stats st;
};

struct kz_text_reader {
    struct kz_pool *pool;
    struct kz_text_reader_opts o;
    struct slot *slots;
    int window;
    size_t block;
    uint64_t next_seq, flushed_seq;
    struct kz_text_stats st;
    uint64_t bytes;
    char *carry; /* the partial line after a block's last newline */
    size_t carry_len;
    uint32_t file_reports;
    char **paths;
    size_t npaths, paths_cap;
    struct kz_text_seq seq; /* the current file's state, for a sequential format */
};

static void add_stats(struct kz_text_stats *to, const struct kz_text_stats *from) {
    to->lines += from->lines;
    to->events += from->events;
    to->bad_lines += from->bad_lines;
    to->blank += from->blank;
}

static void slot_problem(struct slot *s, uint64_t line, const char *why) {
    if (s->nproblems++ >= KZ_TEXT_MAX_REPORTS) return;
    kz_buf_printf(&s->problems, "line %llu: %s, skipped\n", (unsigned long long)line, why);
}

/* Hands the decoded event to emit, undoing its output when the block's output is full. */
static void slot_emit(struct slot *s, uint64_t line) {
    struct kz_text_reader *r = s->r;
    s->st.events++;
    size_t mark = s->out.len;
    r->o.emit(r->o.ctx, &s->dec, &s->dec.event, s->file_id, &s->out);
    if (s->out.failed) {
        s->out.len = mark;
        s->out.failed = 0;
        if (s->out.data) s->out.data[mark] = 0;
        s->st.events--;
        s->st.bad_lines++;
        slot_problem(s, line, "output for this block exceeds its limit");
    }
}

static void run_slot(void *arg) {
    struct slot *s = arg;
    const char *p = s->buf, *end = s->buf + s->len;
    uint64_t line = s->first_line;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        s->st.lines++;
        int rc = kz_text_decode_line(&s->dec, s->format, p, n, line, s->file_id);
    again:
        if (rc == 0) {
            slot_emit(s, line);
        } else if (rc == 1) {
            s->st.blank++;
        } else if (rc != KZ_TEXT_PENDING) {
            s->st.bad_lines++;
            slot_problem(s, line, s->dec.why ? s->dec.why : "not in the file's format");
        }
        if (s->dec.more) { /* another record ended on this line (XML events back to back) */
            rc = kz_text_decode_line(&s->dec, s->format, p, n, line, s->file_id);
            goto again;
        }
        line++;
        p = nl ? nl + 1 : end;
    }
    /* The end of a file whose parser holds records back (struct kz_text_seq): it gives them now,
     * one per call, for as long as it sets `more`. */
    if (s->dec.seq && s->dec.seq->at_end) {
        s->dec.more = 1;
        while (s->dec.more) {
            int rc = kz_text_decode_line(&s->dec, s->format, "", 0, line, s->file_id);
            if (rc == 0) slot_emit(s, s->dec.event.record_id);
        }
    }
}

struct kz_text_reader *kz_text_reader_new(struct kz_pool *pool,
                                          const struct kz_text_reader_opts *o) {
    struct kz_text_reader *r = kz_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->pool = pool;
    r->o = *o;
    r->block = o->block ? o->block : KZ_TEXT_BLOCK;
    r->window = o->window > 0 ? o->window : 2 * kz_pool_threads(pool);
    r->carry = kz_malloc(KZ_TEXT_MAX_LINE + 1);
    r->slots = kz_calloc((size_t)r->window, sizeof *r->slots);
    if (!r->slots || !r->carry) goto fail;
    for (int i = 0; i < r->window; i++) {
        struct slot *s = &r->slots[i];
        s->r = r;
        kz_buf_init(&s->out, SLOT_OUTPUT_CAP);
        kz_buf_init(&s->problems, 64 * 1024);
        s->buf = kz_malloc(r->block + KZ_TEXT_MAX_LINE + 1);
        if (!s->buf || kz_text_decoder_init(&s->dec)) goto fail;
    }
    return r;
fail:
    kz_text_reader_free(r);
    return NULL;
}

static void drain(struct kz_text_reader *r, struct slot *s) {
    if (!s->busy) return;
    kz_job_wait(&s->job);
    s->busy = 0;
    if (r->o.write && s->out.len) r->o.write(r->o.ctx, s->out.data, s->out.len);
    if (r->o.report && s->problems.len) {
        char *line = s->problems.data;
        while (*line) {
            char *nl = strchr(line, '\n');
            *nl = 0;
            if (r->file_reports++ < KZ_TEXT_MAX_REPORTS) r->o.report(r->o.ctx, s->path, line);
            line = nl + 1;
        }
    }
    add_stats(&r->st, &s->st);
    kz_buf_clear(&s->out);
    kz_buf_clear(&s->problems);
    r->flushed_seq++;
}

void kz_text_reader_flush(struct kz_text_reader *r) {
    for (uint64_t seq = r->flushed_seq; seq < r->next_seq; seq++)
        drain(r, &r->slots[seq % (uint64_t)r->window]);
    for (size_t i = 0; i < r->npaths; i++)
        kz_free(r->paths[i]);
    r->npaths = 0;
}

/* The first bytes of a file (decompressed), read before anything else to tell UTF-16 text and JSON
 * arrays, then served first. */
#define HEAD_BYTES 4096
/* UTF-16 input is converted in pieces of this many bytes (the output is at most 1.5 times as
 * long: SOURCE_U16_OUT). */
#define U16_IN (64 * 1024)
#define U16_OUT KZ_UTF16_STREAM_MAX_OUT(U16_IN)

/* A file being read: plain (fd) or gzip (gz over the same fd), then (layers over those bytes)
 * UTF-16 converted to UTF-8 and a JSON array cut into one element a line. */
struct source {
    int fd;                 /* -1 for a zip member */
    gzFile gz;
    struct kz_instream *in; /* zstd, or a zip member (archive.h) */
    int failed; /* a read error or a damaged gzip stream ended the file early */
    const char *why;
    uint8_t head[HEAD_BYTES]; /* the first bytes, served before the rest */
    size_t head_len, head_pos;
    struct kz_utf16_stream u16; /* when utf16 */
    int utf16, u16_eof;
    uint8_t *u16_in; /* U16_IN bytes of UTF-16 (kz_malloc'd when utf16) */
    char *u16_out;   /* U16_OUT bytes of UTF-8 not yet delivered */
    size_t out_len, out_pos;
    int json_array; /* a JSON array: kz_jsonl_array_filter over everything read */
    struct kz_jsonl_array arr;
};

static size_t raw_read(struct source *src, char *buf, size_t n);

/* The next bytes of UTF-8 text: through the UTF-16 conversion when the file is UTF-16. */
static size_t text_read(struct source *src, char *buf, size_t n) {
    if (!src->utf16) return raw_read(src, buf, n);
    size_t got = 0;
    while (got < n) {
        if (src->out_pos == src->out_len) {
            if (src->u16_eof) break;
            size_t k = raw_read(src, (char *)src->u16_in, U16_IN);
            src->out_pos = 0;
            if (k == 0) {
                src->u16_eof = 1;
                src->out_len = kz_utf16_stream_finish(&src->u16, src->u16_out);
            } else {
                src->out_len = kz_utf16_stream_convert(&src->u16, src->u16_in, k, src->u16_out);
            }
            continue;
        }
        size_t k = src->out_len - src->out_pos;
        if (k > n - got) k = n - got;
        memcpy(buf + got, src->u16_out + src->out_pos, k);
        src->out_pos += k;
        got += k;
    }
    return got;
}

/* Reads up to n bytes of the file's text; 0 at the end (or after an error, noted in src). */
static size_t source_read(struct source *src, char *buf, size_t n) {
    size_t got = text_read(src, buf, n);
    if (src->json_array) kz_jsonl_array_filter(&src->arr, buf, got);
    return got;
}

/* Reads the file's first bytes and sets up the layers they call for: UTF-16 (by its byte order
 * mark, or little-endian ASCII text by its zero bytes) and, for JSON, an array of events. A
 * UTF-8 file costs this one look at its first bytes and nothing per byte. Returns 0 or KZ_ENOMEM.
 */
static int source_start(struct source *src, uint8_t format) {
    src->head_len = raw_read(src, (char *)src->head, sizeof src->head);
    src->head_pos = 0;
    size_t bom = 0;
    src->utf16 = kz_utf16_detect(src->head, src->head_len, &bom);
    const char *text = (const char *)src->head;
    size_t text_len = src->head_len;
    if (src->utf16) {
        src->u16.big_endian = src->utf16 == 2;
        src->head_pos = bom;
        src->u16_in = kz_malloc(U16_IN);
        src->u16_out = kz_malloc(U16_OUT);
        if (!src->u16_in || !src->u16_out) return KZ_ENOMEM;
        /* the start of the text, converted apart, for the JSON array test */
        struct kz_utf16_stream probe = src->u16;
        text_len =
            kz_utf16_stream_convert(&probe, src->head + bom, src->head_len - bom, src->u16_out);
        text = src->u16_out;
    }
    if (format == KZ_FMT_JSONL && kz_jsonl_array_sniff(text, text_len)) src->json_array = 1;
    return 0;
}

static void source_end(struct source *src) {
    kz_free(src->u16_in);
    kz_free(src->u16_out);
    src->u16_in = NULL;
    src->u16_out = NULL;
}

/* Reads up to n bytes of the file as stored (decompressed); 0 at the end. */
static size_t raw_read(struct source *src, char *buf, size_t n) {
    if (src->head_pos < src->head_len) {
        size_t k = src->head_len - src->head_pos;
        if (k > n) k = n;
        memcpy(buf, src->head + src->head_pos, k);
        src->head_pos += k;
        return k;
    }
    size_t got = 0;
    while (got < n) {
        if (src->in) {
            const char *why = NULL;
            ssize_t k = kz_instream_read(src->in, buf + got, n - got, &why);
            if (k <= 0) {
                if (k < 0) src->failed = 1, src->why = why;
                break;
            }
            got += (size_t)k;
        } else if (src->gz) {
            unsigned want = (unsigned)(n - got > (1u << 30) ? 1u << 30 : n - got);
            int k = gzread(src->gz, buf + got, want);
            if (k <= 0) {
                if (k < 0) {
                    int code;
                    gzerror(src->gz, &code);
                    src->failed = 1;
                    src->why = "damaged gzip stream; the rest of the file is not read";
                }
                break;
            }
            got += (size_t)k;
        } else {
            ssize_t k = read(src->fd, buf + got, n - got);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                if (k < 0) src->failed = 1, src->why = strerror(errno);
                break;
            }
            got += (size_t)k;
        }
    }
    /* A gzip stream that ends early reads as a short file: zlib reports it only as an error. */
    if (src->gz && got < n && !src->failed) {
        int code;
        gzerror(src->gz, &code);
        if (code != Z_OK && code != Z_STREAM_END) {
            src->failed = 1;
            src->why = "truncated or damaged gzip stream; the rest of the file is not read";
        }
    }
    return got;
}

static uint64_t source_pos(struct source *src) {
    if (src->in) return kz_instream_pos(src->in);
    if (src->gz) return (uint64_t)gzoffset(src->gz);
    off_t o = lseek(src->fd, 0, SEEK_CUR);
    return o < 0 ? 0 : (uint64_t)o;
}

static uint64_t count_lines(const char *p, size_t n) {
    uint64_t c = 0;
    const char *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        c++;
        p++;
    }
    return c;
}

static const char *last_newline(const char *p, size_t n) {
    while (n--)
        if (p[n] == '\n') return p + n;
    return NULL;
}

static void overlong(struct kz_text_reader *r, const char *path, uint64_t line) {
    r->st.lines++;
    r->st.bad_lines++;
    if (r->o.report && r->file_reports++ < KZ_TEXT_MAX_REPORTS) {
        char msg[96];
        snprintf(msg, sizeof msg, "line %llu: longer than %zu bytes, skipped",
                 (unsigned long long)line, KZ_TEXT_MAX_LINE);
        r->o.report(r->o.ctx, path, msg);
    }
}

int kz_text_reader_add_file(struct kz_text_reader *r, const char *path, uint8_t format,
                            uint32_t file_id, struct kz_err *err) {
    if (!kz_text_format_ok(format))
        return kz_err_set(err, KZ_EUSAGE, "%s: not a text format", path);
    struct source src;
    memset(&src, 0, sizeof src);
    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0 && errno == ENOTDIR) { /* ARCHIVE.zip/MEMBER */
        const char *why;
        if (!(src.in = kz_zip_open_path(path, &why)))
            return kz_err_set(err, KZ_EIO, "%s: %s", path, why);
    } else if (src.fd < 0) {
        return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    }
    unsigned char magic[4];
    ssize_t m = src.fd >= 0 ? pread(src.fd, magic, 4, 0) : 0;
    if (m == 4 && kz_archive_is_zstd(magic, 4)) {
        int fd2 = dup(src.fd);
        src.in = fd2 >= 0 ? kz_zstd_open(fd2) : NULL;
        if (!src.in) {
            if (fd2 >= 0) close(fd2);
            close(src.fd);
            return kz_err_set(err, KZ_ENOMEM, "%s: cannot start zstd decompression", path);
        }
    } else if (m >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        int fd2 = dup(src.fd);
        src.gz = fd2 >= 0 ? gzdopen(fd2, "rb") : NULL;
        if (!src.gz) {
            if (fd2 >= 0) close(fd2);
            close(src.fd);
            return kz_err_set(err, KZ_ENOMEM, "%s: cannot start gzip decompression", path);
        }
        gzbuffer(src.gz, 256 * 1024);
    }
    if (source_start(&src, format)) goto nomem;
    if (r->npaths == r->paths_cap) {
        size_t cap = r->paths_cap ? r->paths_cap * 2 : 16;
        char **pv = kz_realloc(r->paths, cap * sizeof *pv);
        if (!pv) goto nomem;
        r->paths = pv;
        r->paths_cap = cap;
    }
    char *mypath = kz_strdup(path);
    if (!mypath) goto nomem;
    r->paths[r->npaths++] = mypath;
    r->file_reports = 0;
    r->st.files++;
    struct stat sb; /* syslog's BSD time stamps have no year: the file's time gives it */
    kz_time mtime = fstat(src.fd, &sb) == 0 ? (kz_time)sb.st_mtime * KZ_TICKS_PER_SEC : 0;

    uint64_t line = 0; /* lines completed before the next block */
    uint64_t pos0 = 0;
    int sequential = kz_text_format_sequential(format);
    int eof = 0, skipping = 0;
    r->carry_len = 0;
    while (!eof || r->carry_len) {
        struct slot *s = &r->slots[r->next_seq % (uint64_t)r->window];
        drain(r, s);
        size_t len = r->carry_len;
        memcpy(s->buf, r->carry, len);
        r->carry_len = 0;
        size_t target = len + r->block;
        while (len < target && !eof) {
            size_t got = source_read(&src, s->buf + len, target - len);
            if (got == 0) {
                eof = 1;
                break;
            }
            if (skipping) { /* the rest of an over-long line */
                char *nl = memchr(s->buf + len, '\n', got);
                if (!nl) continue;
                size_t drop = (size_t)(nl - (s->buf + len)) + 1;
                memmove(s->buf + len, nl + 1, got - drop);
                got -= drop;
                skipping = 0;
                overlong(r, mypath, ++line);
            }
            len += got;
        }
        uint64_t pos = source_pos(&src);
        r->bytes += pos - pos0;
        pos0 = pos;
        if (len == 0) break;
        const char *nl = last_newline(s->buf, len);
        size_t end;
        if (nl) {
            end = (size_t)(nl - s->buf) + 1;
        } else if (eof) {
            end = len;
        } else if (len > KZ_TEXT_MAX_LINE) {
            skipping = 1; /* no line end in sight: drop what we have, then up to the newline */
            continue;
        } else {
            memcpy(r->carry, s->buf, len); /* a long line: read on */
            r->carry_len = len;
            continue;
        }
        size_t rest = len - end;
        if (rest > KZ_TEXT_MAX_LINE) {
            skipping = 1;
        } else {
            memcpy(r->carry, s->buf + end, rest);
            r->carry_len = rest;
        }
        s->len = end;
        s->first_line = line + 1;
        line += count_lines(s->buf, end) + (s->buf[end - 1] != '\n');
        s->format = format;
        s->file_id = file_id;
        s->path = mypath;
        s->nproblems = 0;
        memset(&s->st, 0, sizeof s->st);
        if (sequential) /* the blocks before must have set the state this one reads */
            for (uint64_t u = r->flushed_seq; u < r->next_seq; u++)
                drain(r, &r->slots[u % (uint64_t)r->window]);
        s->dec.seq = sequential ? &r->seq : NULL;
        s->dec.ref_time = mtime;
        s->busy = 1;
        r->next_seq++;
        kz_pool_submit(r->pool, &s->job, run_slot, s);
    }
    if (skipping) overlong(r, mypath, ++line); /* the file ended inside it */
    if (sequential) {
        for (uint64_t u = r->flushed_seq; u < r->next_seq; u++)
            drain(r, &r->slots[u % (uint64_t)r->window]);
        if (r->seq.flush_at_end) { /* an empty block: the parser gives what it still holds */
            struct slot *s = &r->slots[r->next_seq % (uint64_t)r->window];
            drain(r, s);
            r->seq.at_end = 1;
            s->len = 0;
            s->first_line = line + 1;
            s->format = format;
            s->file_id = file_id;
            s->path = mypath;
            s->nproblems = 0;
            memset(&s->st, 0, sizeof s->st);
            s->dec.seq = &r->seq;
            s->busy = 1;
            r->next_seq++;
            kz_pool_submit(r->pool, &s->job, run_slot, s);
            drain(r, s);
        }
        uint64_t cut = kz_text_seq_end(&r->seq);
        if (cut) {
            r->st.bad_lines++;
            if (r->o.report && r->file_reports++ < KZ_TEXT_MAX_REPORTS) {
                char msg[96];
                snprintf(msg, sizeof msg, "line %llu: record cut short by the end of the file, skipped",
                         (unsigned long long)cut);
                r->o.report(r->o.ctx, mypath, msg);
            }
        }
    }
    if (src.failed && r->o.report) r->o.report(r->o.ctx, mypath, src.why);
    source_end(&src);
    if (src.gz) gzclose(src.gz);
    kz_instream_close(src.in);
    if (src.fd >= 0) close(src.fd);
    return 0;
nomem:
    source_end(&src);
    if (src.gz) gzclose(src.gz);
    kz_instream_close(src.in);
    if (src.fd >= 0) close(src.fd);
    return kz_err_set(err, KZ_ENOMEM, "out of memory");
}

const struct kz_text_stats *kz_text_reader_stats(const struct kz_text_reader *r) {
    return &r->st;
}

uint64_t kz_text_reader_bytes(const struct kz_text_reader *r) {
    return r->bytes;
}

void kz_text_reader_free(struct kz_text_reader *r) {
    if (!r) return;
    if (r->slots) {
        kz_text_reader_flush(r);
        for (int i = 0; i < r->window; i++) {
            kz_text_decoder_free(&r->slots[i].dec);
            kz_free(r->slots[i].buf);
            kz_buf_free(&r->slots[i].out);
            kz_buf_free(&r->slots[i].problems);
        }
        kz_free(r->slots);
    }
    kz_text_seq_end(&r->seq);
    kz_free(r->paths);
    kz_free(r->carry);
    kz_free(r);
}
