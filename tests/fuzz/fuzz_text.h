/* fuzz_text.h - the body the text-log fuzz targets share (fuzz_accesslog.c, fuzz_fortigate.c,
 * fuzz_jsonl.c differ only in the format they feed).
 *
 * Why: every line of these logs may be written by an attacker (a request line, a user name, a
 * JSON field). The input is split into lines and each goes through kz_text_decode_line as the
 * reader does; every event is printed with kz_event_json (so every field must be valid,
 * NUL-terminated text of its stated length), and the event's invariants are checked: field count
 * within the cap, names interned, values' lengths right. Then the whole input is written to a
 * file and read by the parallel reader (small blocks, window 2), which must see the same number
 * of lines (of the text converted from UTF-16 whole, and a JSON array cut into elements, when the
 * input is one: the reader does both in pieces, as it reads). Included by exactly one .c per
 * target, so the statics are per target. */
#ifndef KZ_FUZZ_TEXT_H
#define KZ_FUZZ_TEXT_H

#include "core/alloc.h"
#include "core/buf.h"
#include "core/intern.h"
#include "core/pool.h"
#include "core/utf.h"
#include "input/jsonl.h"
#include "input/text_reader.h"
#include "output/event_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check(const struct kz_event *ev) {
    if (ev->nfields > KZ_TEXT_MAX_FIELDS) abort();
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct kz_field *f = &ev->fields[i];
        if (!f->name || !f->val || strlen(f->val) != f->len || !kz_intern_name(f->name)[0]) abort();
    }
}

static void emit(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev, uint32_t file_id,
                 struct kz_buf *out) {
    check(ev);
    kz_event_json(out, ev, NULL);
}

static int fuzz_text_format(const uint8_t *data, size_t size, uint8_t format) {
    if (size > 256 * 1024) return 0;
    static struct kz_text_decoder d;
    static int ready;
    if (!ready && kz_text_decoder_init(&d) == 0) ready = 1;
    if (!ready) return 0;
    struct kz_buf out;
    kz_buf_init(&out, 8 << 20);
    uint64_t lines = 0;
    /* a sequential format (W3C, event XML, auditd) keeps state from line to line, as in the reader */
    static struct kz_text_seq seq;
    d.seq = kz_text_format_sequential(format) ? &seq : NULL;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lines++;
        for (int rc = kz_text_decode_line(&d, format, p, n, lines, 0);;
             rc = kz_text_decode_line(&d, format, p, n, lines, 0)) {
            if (rc == 0) {
                check(&d.event);
                kz_event_json(&out, &d.event, NULL);
                kz_buf_clear(&out);
            }
            if (!d.more) break; /* another record ended on this line */
        }
        p = nl ? nl + 1 : end;
    }
    kz_text_seq_end(&seq);
    d.seq = NULL;
    kz_text_sniff((const char *)data, size);
    kz_buf_free(&out);

    /* The reader sees UTF-16 text converted and a JSON array cut into one element a line: count
     * the lines of that text, converted whole here (the reader converts in pieces) and tested
     * from the same 4 KiB head as the reader */
    size_t bom;
    size_t head = size < 4096 ? size : 4096;
    int utf16 = kz_utf16_detect(data, head, &bom);
    char *conv = NULL;
    size_t conv_len = 0;
    if (utf16) {
        conv = malloc(KZ_UTF16_STREAM_MAX_OUT(size) + 8);
        if (!conv) return 0;
        struct kz_utf16_stream st = {.big_endian = utf16 == 2};
        size_t probe = kz_utf16_stream_convert(&st, data + bom, head - bom, conv);
        int array = format == KZ_FMT_JSONL && kz_jsonl_array_sniff(conv, probe);
        memset(&st, 0, sizeof st);
        st.big_endian = utf16 == 2;
        conv_len = kz_utf16_stream_convert(&st, data + bom, size - bom, conv);
        conv_len += kz_utf16_stream_finish(&st, conv + conv_len);
        if (array) {
            struct kz_jsonl_array arr = {0};
            kz_jsonl_array_filter(&arr, conv, conv_len);
        }
    } else if (format == KZ_FMT_JSONL && kz_jsonl_array_sniff((const char *)data, head)) {
        conv = malloc(size ? size : 1);
        if (!conv) return 0;
        memcpy(conv, data, size);
        conv_len = size;
        struct kz_jsonl_array arr = {0};
        kz_jsonl_array_filter(&arr, conv, conv_len);
    }
    if (conv) {
        lines = 0;
        for (const char *q = conv, *e = conv + conv_len; q < e; lines++) {
            const char *nl = memchr(q, '\n', (size_t)(e - q));
            q = nl ? nl + 1 : e;
        }
        free(conv);
    }

    char path[] = "/tmp/kz_fuzz_text_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    /* (gzip input is decompressed by the reader: its line count is another file's) */
    int gz =
        (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) ||
        (size >= 4 && data[0] == 0x28 && data[1] == 0xB5 && data[2] == 0x2F && data[3] == 0xFD);
    if (!gz && write(fd, data, size) == (ssize_t)size) {
        static struct kz_pool *pool;
        if (!pool) pool = kz_pool_new(1);
        struct kz_text_reader_opts o = {.window = 2, .block = 64, .emit = emit};
        struct kz_text_reader *r = pool ? kz_text_reader_new(pool, &o) : NULL;
        if (r) {
            struct kz_err err;
            kz_text_reader_add_file(r, path, format, 0, &err);
            kz_text_reader_flush(r);
            if (kz_text_reader_stats(r)->lines != lines) abort();
            kz_text_reader_free(r);
        }
    }
    close(fd);
    unlink(path);
    return 0;
}

#endif
