/* buf.c - growable capped buffer and escaping appenders; see buf.h. */
#include "buf.h"

#include "alloc.h"
#include "error.h"
#include "fmt.h"
#include "utf.h"

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

void kz_buf_init(struct kz_buf *b, size_t cap) {
    memset(b, 0, sizeof *b);
    b->cap = cap ? cap : (size_t)1 << 30;
}

void kz_buf_free(struct kz_buf *b) {
    kz_free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void kz_buf_clear(struct kz_buf *b) {
    b->len = 0;
    b->failed = 0;
    if (b->data) b->data[0] = 0;
}

int kz_buf_reserve(struct kz_buf *b, size_t n) {
    if (b->failed) return KZ_ELIMIT;
    if (n <= b->alloc - b->len) return 0;
    if (n > b->cap - b->len) {
        b->failed = 1;
        return KZ_ELIMIT;
    }
    size_t want = b->alloc ? b->alloc : 256;
    while (want - b->len < n + 1)
        want *= 2;
    if (want > b->cap + 1) want = b->cap + 1;
    char *d = kz_realloc(b->data, want);
    if (!d) {
        b->failed = 1;
        return KZ_ENOMEM;
    }
    b->data = d;
    b->alloc = want;
    return 0;
}

void kz_buf_append(struct kz_buf *b, const void *data, size_t n) {
    if (kz_buf_reserve(b, n + 1)) return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

void kz_buf_puts(struct kz_buf *b, const char *s) {
    kz_buf_append(b, s, strlen(s));
}

void kz_buf_putc_slow(struct kz_buf *b, char c) {
    if (kz_buf_reserve(b, 2)) return;
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void kz_buf_put_u64(struct kz_buf *b, uint64_t v) {
    if (kz_buf_reserve(b, KZ_FMT_U64_MAX + 1)) return;
    char *o = kz_fmt_u64(b->data + b->len, v);
    b->len = (size_t)(o - b->data);
    *o = 0;
}

void kz_buf_put_i64(struct kz_buf *b, int64_t v) {
    if (v < 0) {
        kz_buf_putc(b, '-');
        kz_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        kz_buf_put_u64(b, (uint64_t)v);
    }
}

void kz_buf_printf(struct kz_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        kz_buf_append(b, tmp, (size_t)n);
        return;
    }
    if (kz_buf_reserve(b, (size_t)n + 1)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static const char hexdig[] = "0123456789abcdef";

/* Bytes that stand for themselves inside a JSON string: printable ASCII but '"' and '\\'. */
static const unsigned char json_plain[256] = {
    [' '] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1,  ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,  ['8'] = 1,
    ['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1,  ['@'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,  ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,  ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,  ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1,  ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,  ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,  ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,  ['y'] = 1,
    ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/* Exact length of s escaped by kz_buf_put_json_str, for when the worst case does not fit. */
static size_t json_escaped_len(const unsigned char *p, size_t n) {
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (json_plain[c])
            len++, i++;
        else if (c < 0x80)
            len += (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') ? 2 : 6, i++;
        else {
            size_t k = kz_utf8_valid_prefix(p + i, n - i);
            len += k ? k : 3;
            i += k ? k : 1;
        }
    }
    return len;
}

void kz_buf_put_json_or_null(struct kz_buf *b, const char *s) {
    if (!s) {
        kz_buf_puts(b, "null");
        return;
    }
    kz_buf_putc(b, '"');
    kz_buf_put_json_str(b, s, strlen(s));
    kz_buf_putc(b, '"');
}

void kz_buf_put_json_str(struct kz_buf *b, const char *s, size_t n) {
    /* Worst case every byte becomes \u00XX (6 bytes); near the cap, reserve exactly instead. */
    size_t need = n * 6 + 1;
    if (b->cap - b->len < need) need = json_escaped_len((const unsigned char *)s, n) + 1;
    if (kz_buf_reserve(b, need)) return;
    char *o = b->data + b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* Most text is plain ASCII: copy runs of it at once. */
        const unsigned char *run = p;
        while (p < end && json_plain[*p])
            p++;
        if (p > run) {
            memcpy(o, run, (size_t)(p - run));
            o += p - run;
            if (p == end) break;
        }
        unsigned char c = *p;
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            default:
                *o++ = 'u', *o++ = '0', *o++ = '0';
                *o++ = hexdig[c >> 4], *o++ = hexdig[c & 15];
            }
            p++;
            continue;
        }
        size_t len = kz_utf8_valid_prefix(p, (size_t)(end - p));
        if (len) {
            memcpy(o, p, len);
            o += len;
            p += len;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
}

/* Exact length of s escaped by kz_buf_put_xml_str. */
static size_t xml_escaped_len(const unsigned char *p, size_t n) {
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        switch (c) {
        case '&':
        case '\n':
        case '\r':
            len += 5, i++;
            continue;
        case '<':
        case '>':
        case '\t':
            len += 4, i++;
            continue;
        case '"':
            len += 6, i++;
            continue;
        }
        if (c < 0x20)
            len += 3, i++;
        else if (c < 0x80)
            len++, i++;
        else {
            size_t k = kz_utf8_valid_prefix(p + i, n - i);
            len += k ? k : 3;
            i += k ? k : 1;
        }
    }
    return len;
}

void kz_buf_put_xml_str(struct kz_buf *b, const char *s, size_t n) {
    size_t need = n * 6 + 1;
    if (b->cap - b->len < need) need = xml_escaped_len((const unsigned char *)s, n) + 1;
    if (kz_buf_reserve(b, need)) return;
    char *o = b->data + b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        /* Line breaks as references: one event stays on one line, and attribute values keep them.
         */
        case '\n':
            rep = "&#10;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\t':
            rep = "&#9;";
            break;
        }
        if (rep) {
            size_t rl = strlen(rep);
            memcpy(o, rep, rl);
            o += rl;
            p++;
        } else if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            /* XML 1.0 cannot carry these even as references; show them visibly instead. */
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        } else if (c < 0x80) {
            *o++ = (char)c;
            p++;
        } else {
            size_t len = kz_utf8_valid_prefix(p, (size_t)(end - p));
            if (len) {
                memcpy(o, p, len);
                o += len;
                p += len;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                p++;
            }
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = 0;
}

int kz_buf_read_file(struct kz_buf *b, const char *path, const char *too_big, struct kz_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return kz_err_set(err, errno == ENOENT ? KZ_EUSAGE : KZ_EIO, "%s: %s", path,
                          strerror(errno));
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && !b->failed)
        kz_buf_append(b, chunk, got);
    int rc = 0;
    if (ferror(f))
        rc = kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    else if (b->failed)
        rc = kz_err_set(err, KZ_ELIMIT, "%s: larger than %s", path, too_big);
    fclose(f);
    return rc;
}
