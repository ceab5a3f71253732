/* evtx_xml.c - the XML visitor: renders a record as Windows' own XML, on one line.
 *
 * Empty attributes are left out and NULL substitutions render as nothing (MS-EVEN6 2.2.12.2/3);
 * text and attribute values are escaped, so log content can never break the XML it is printed in.
 */
#include "evtx_int.h"

#include "../../core/intern.h"
#include "../../core/utf.h"

#define XV_MAX_STACK (EVTX_MAX_DEPTH * 2)

struct xv {
    struct kz_evtx_decoder *d;
    struct kz_buf *out;
    int depth;
    int start_open;        /* a start tag is open: content must first close it with '>' */
    int in_attr;           /* writing an attribute value */
    size_t attr_mark;      /* output length before the attribute being written */
    size_t attr_val_start; /* output length where its value starts */
    uint32_t names[XV_MAX_STACK];
};

/* Writes an element or attribute name. Names come from the file: a damaged or hostile one may hold
 * characters no XML name can, which would break the document. Windows' event schemas use ASCII names,
 * and which non-ASCII characters a name may hold differs between XML editions and parsers, so anything
 * but ASCII letters, digits, '_', '-', '.' and ':' becomes '_' (one per character), and an empty name or
 * one starting with a digit, '-' or '.' gets a leading '_'. */
static void put_name(struct kz_buf *out, uint32_t name) {
    const unsigned char *s = (const unsigned char *)kz_intern_name(name);
    size_t n = kz_intern_len(name);
    if (n == 0 || !(((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') || s[0] == '_' || s[0] == ':'))
        kz_buf_putc(out, '_');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t k = kz_utf8_valid_prefix(s + i, n - i);
            kz_buf_putc(out, '_');
            i += k ? k : 1;
            continue;
        }
        int ok = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '-' || c == '.' || c == ':';
        kz_buf_putc(out, ok ? (char)c : '_');
        i++;
    }
}

static int xv_check(struct xv *v) {
    return v->out->failed ? kz_err_set(&v->d->err, KZ_ELIMIT, "XML output too large") : 0;
}

/* Content is about to be written: finish the start tag if it is still open. */
static void xv_content(struct xv *v) {
    if (v->start_open && !v->in_attr) {
        kz_buf_putc(v->out, '>');
        v->start_open = 0;
    }
}

static int xv_open(void *self, uint32_t name) {
    struct xv *v = self;
    if (v->depth >= XV_MAX_STACK)
        return kz_err_set(&v->d->err, KZ_ELIMIT, "elements nested deeper than %d", XV_MAX_STACK);
    xv_content(v);
    v->names[v->depth++] = name;
    kz_buf_putc(v->out, '<');
    put_name(v->out, name);
    v->start_open = 1;
    return xv_check(v);
}

static int xv_attr_begin(void *self, uint32_t name) {
    struct xv *v = self;
    v->in_attr = 1;
    v->attr_mark = v->out->len;
    kz_buf_putc(v->out, ' ');
    put_name(v->out, name);
    kz_buf_puts(v->out, "=\"");
    v->attr_val_start = v->out->len;
    return xv_check(v);
}

static int xv_attr_end(void *self) {
    struct xv *v = self;
    v->in_attr = 0;
    if (v->out->len == v->attr_val_start)
        v->out->len = v->attr_mark; /* empty: leave it out */
    else
        kz_buf_putc(v->out, '"');
    return xv_check(v);
}

static int xv_close_start(void *self) {
    (void)self;
    return 0; /* '>' is written lazily, so that an element without content can be written as <x/> */
}

static int xv_close(void *self, int empty) {
    (void)empty;
    struct xv *v = self;
    if (v->depth == 0) return kz_err_set(&v->d->err, KZ_ECORRUPT, "unbalanced end tag");
    uint32_t name = v->names[--v->depth];
    if (v->start_open) {
        kz_buf_puts(v->out, "/>");
        v->start_open = 0;
    } else {
        kz_buf_puts(v->out, "</");
        put_name(v->out, name);
        kz_buf_putc(v->out, '>');
    }
    return xv_check(v);
}

static int xv_text(void *self, const char *s, size_t n, int cdata) {
    (void)cdata;
    struct xv *v = self;
    if (n == 0) return 0;
    xv_content(v);
    kz_buf_put_xml_str(v->out, s, n);
    return xv_check(v);
}

static int xv_value(void *self, const struct bx_value *val) {
    struct xv *v = self;
    struct kz_buf *tmp = &v->d->scratch;
    kz_buf_clear(tmp);
    int rc = evtx_render_any(tmp, val);
    if (rc)
        return kz_err_set(&v->d->err, rc, "bad value of type 0x%02x (%u bytes)", val->type,
                          val->len);
    return xv_text(self, tmp->data ? tmp->data : "", tmp->len, 0);
}

static const struct bx_visitor xml_visitor = {
    xv_open, xv_attr_begin, xv_attr_end, xv_close_start, xv_close, xv_text, xv_value,
};

int evtx_render_xml_range(struct kz_evtx_decoder *d, uint32_t start, uint32_t end,
                          struct kz_buf *out) {
    struct xv v = {.d = d, .out = out};
    /* Rendering is charged to the chunk's budget like decoding, so re-walking cannot be the way a
     * hostile chunk takes minutes. */
    d->budget = d->chunk_budget < EVTX_RECORD_BUDGET ? d->chunk_budget : EVTX_RECORD_BUDGET;
    long start_budget = d->budget;
    d->nest = 0;
    d->ops_top = 0;
    int rc = bx_walk_fragment(d, start, end, &xml_visitor, &v);
    d->chunk_budget -= start_budget - (d->budget > 0 ? d->budget : 0);
    return rc;
}
