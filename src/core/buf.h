/* buf.h - a growable byte buffer with a hard cap, and the appenders output code needs.
 *
 * Output is built in buffers and written in one call, so that events decoded in parallel can be
 * printed in order. Every buffer has a cap (curl's dynbuf idea): a write past it fails with
 * KZ_ELIMIT rather than growing without bound. Ownership: the buffer owns data; kz_buf_free frees.
 */
#ifndef KZ_BUF_H
#define KZ_BUF_H

#include <stddef.h>
#include <stdint.h>

struct kz_buf {
    char *data;   /* bytes written so far, NUL-terminated when len < alloc */
    size_t len;   /* bytes in use */
    size_t alloc; /* bytes allocated */
    size_t cap;   /* most bytes the buffer may ever hold */
    int failed; /* set once a write failed (out of memory or over the cap); later writes are no-ops
                 */
};

void kz_buf_init(struct kz_buf *b, size_t cap);
void kz_buf_free(struct kz_buf *b);
void kz_buf_clear(struct kz_buf *b);
/* Makes room for n more bytes; returns 0 or a KZ_E* status (and sets failed). */
int kz_buf_reserve(struct kz_buf *b, size_t n);
void kz_buf_append(struct kz_buf *b, const void *data, size_t n);
struct kz_err;
/* Appends the whole file at path (within b's cap, set by kz_buf_init). Returns 0, or an error code
 * with err set: KZ_EUSAGE when the file does not exist, KZ_EIO when it cannot be read, KZ_ELIMIT
 * ("PATH: larger than TOO_BIG") when it does not fit. For inputs read whole (a state file, a
 * mapping), one place for the reading and its messages. */
int kz_buf_read_file(struct kz_buf *b, const char *path, const char *too_big, struct kz_err *err);
void kz_buf_puts(struct kz_buf *b, const char *s);
void kz_buf_putc_slow(struct kz_buf *b, char c);
/* One byte; inline because output code calls it for every delimiter. */
static inline void kz_buf_putc(struct kz_buf *b, char c) {
    if (b->alloc - b->len >= 2 && !b->failed) {
        b->data[b->len++] = c;
        b->data[b->len] = 0;
    } else {
        kz_buf_putc_slow(b, c);
    }
}
void kz_buf_put_u64(struct kz_buf *b, uint64_t v);
void kz_buf_put_i64(struct kz_buf *b, int64_t v);
void kz_buf_printf(struct kz_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string: quotes, backslashes and control bytes escaped,
 * invalid UTF-8 replaced by U+FFFD so the output is always valid JSON. */
void kz_buf_put_json_str(struct kz_buf *b, const char *s, size_t n);
/* Appends s as a quoted JSON string, or `null` when s is NULL (optional fields of every JSON
 * output: findings, scope). */
void kz_buf_put_json_or_null(struct kz_buf *b, const char *s);
/* Appends s escaped for XML text and attribute values: & < > " as entities, tab, CR and LF as
 * character references (so a document stays on one line), other control bytes as U+FFFD. */
void kz_buf_put_xml_str(struct kz_buf *b, const char *s, size_t n);

#endif
