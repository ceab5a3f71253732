/* evtxml.c - Windows event XML -> events; see evtxml.h.
 *
 * Two layers: gathering (kz_evtxml_parse keeps the lines of an unfinished event in the file's
 * state) and the tokenizer (kz_evtxml_event reads one document). The tokenizer decodes every text
 * and attribute value into one scratch area the size of the document (decoding never lengthens
 * text: the longest character reference result, 4 UTF-8 bytes, comes from at least 8 source
 * bytes), with a stack of element frames holding where each element's own text starts, as the
 * EVTX field visitor does. */
#include "evtxml.h"

#include "../core/alloc.h"
#include "../core/intern.h"
#include "../core/timeutil.h"

#include <string.h>

/* ---- the tokenizer ---- */

struct frame {
    const char *name; /* in the document */
    size_t name_len;
    uint32_t id;        /* interned element name */
    uint32_t data_name; /* <Data Name="X">: X's id */
    size_t text_start;  /* this element's own text starts here in the scratch */
    int has_child;
};

struct tk {
    struct kz_text_decoder *d;
    const char *p, *end;
    char *tx; /* scratch for decoded text */
    size_t tx_len;
    struct frame st[KZ_EVTXML_MAX_DEPTH];
    int depth;
    uint8_t section;
};

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int name_char(char c) {
    return !is_space(c) && c != '>' && c != '/' && c != '=' && c != '<' && c != '"' && c != '\'';
}

static size_t put_utf8(char *o, uint32_t c) {
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 63)), 2;
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 63));
        o[2] = (char)(0x80 | (c & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 63));
    o[2] = (char)(0x80 | (c >> 6 & 63)), o[3] = (char)(0x80 | (c & 63));
    return 4;
}

/* Decodes s[0..n) (entities and character references) onto the scratch. An entity kizuki does not
 * know (a DTD's) is kept as written. */
static void decode_text(struct tk *t, const char *s, size_t n) {
    char *o = t->tx + t->tx_len;
    const char *end = s + n;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        size_t k = (size_t)((amp ? amp : end) - s);
        memmove(o, s, k);
        o += k, s += k;
        if (!amp) break;
        const char *semi = memchr(s, ';', (size_t)(end - s) < 12 ? (size_t)(end - s) : 12);
        size_t len = semi ? (size_t)(semi - s) + 1 : 0;
        static const struct {
            const char *ent;
            char c;
        } named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
        int done = 0;
        for (size_t i = 0; semi && i < sizeof named / sizeof *named; i++)
            if (len == strlen(named[i].ent) && !memcmp(s, named[i].ent, len)) {
                *o++ = named[i].c;
                s += len, done = 1;
                break;
            }
        if (!done && semi && len > 3 && s[1] == '#') {
            int hex = s[2] == 'x' || s[2] == 'X';
            uint32_t c = 0;
            const char *q = s + 2 + hex;
            int ok = q < semi;
            for (; q < semi && ok; q++) {
                int v = *q >= '0' && *q <= '9'                ? *q - '0'
                        : hex && *q >= 'a' && *q <= 'f'       ? *q - 'a' + 10
                        : hex && *q >= 'A' && *q <= 'F'       ? *q - 'A' + 10
                                                              : -1;
                if (v < 0) ok = 0;
                else c = c * (hex ? 16 : 10) + (uint32_t)v;
                if (c > 0x10FFFF) ok = 0;
            }
            /* NUL and surrogates are no characters: kept as written, like unknown entities */
            if (ok && c && !(c >= 0xD800 && c <= 0xDFFF)) {
                o += put_utf8(o, c);
                s += len, done = 1;
            }
        }
        if (!done) *o++ = *s++;
    }
    t->tx_len = (size_t)(o - t->tx);
}

static const char *find(const char *p, const char *end, const char *lit) {
    size_t k = strlen(lit);
    for (; p + k <= end; p++) {
        p = memchr(p, lit[0], (size_t)(end - p));
        if (!p || p + k > end) return NULL;
        if (!memcmp(p, lit, k)) return p;
    }
    return NULL;
}

static void field(struct tk *t, uint32_t name, const char *val, size_t n) {
    struct kz_text_decoder *d = t->d;
    struct kz_event *ev = &d->event;
    uint8_t kind = KZ_VK_STRING;
    if (t->section == KZ_SEC_SYSTEM) {
        const char *nm = kz_intern_name(name);
        static const char *const ints[] = {"EventID", "Version", "Level", "Task", "Opcode",
                                           "EventRecordID", "Execution_ProcessID",
                                           "Execution_ThreadID"};
        int digits = n > 0 && n < 20;
        for (size_t i = 0; i < n && digits; i++)
            digits = val[i] >= '0' && val[i] <= '9';
        for (size_t i = 0; digits && i < sizeof ints / sizeof *ints; i++)
            if (!strcmp(nm, ints[i])) kind = KZ_VK_INT;
        if (!strcmp(nm, "TimeCreated_SystemTime")) {
            /* as the EVTX reader writes a FILETIME: 7 fraction digits */
            kz_time ts;
            char *txt = kz_arena_alloc(&d->arena, KZ_TIME_TEXT_MAX);
            if (!kz_time_parse(val, n, &ts) && txt) {
                ev->ts = ts;
                kz_text_field_ref(d, name, t->section, KZ_VK_OTHER, txt, kz_time_format(ts, 7, txt));
                return;
            }
        }
        struct kz_field *f = kz_text_field(d, name, t->section, kind, val, n);
        if (!f) return;
        if (!strcmp(nm, "EventID")) {
            uint32_t id = 0;
            for (size_t i = 0; i < n && val[i] >= '0' && val[i] <= '9' && id < 100000000; i++)
                id = id * 10 + (uint32_t)(val[i] - '0');
            ev->event_id = id;
        } else if (!strcmp(nm, "Channel")) {
            ev->channel = f->val;
        } else if (!strcmp(nm, "Computer")) {
            ev->host = f->val;
        } else if (!strcmp(nm, "Provider_Name")) {
            ev->provider = f->val;
        }
        return;
    }
    kz_text_field(d, name, t->section, kind, val, n);
}

static int bad(struct tk *t, const char *why) {
    t->d->why = why;
    return KZ_EFORMAT;
}

/* <name attr="v" ...> or <name .../>, p after '<'. */
static int open_tag(struct tk *t) {
    struct kz_text_decoder *d = t->d;
    const char *name = t->p;
    while (t->p < t->end && name_char(*t->p))
        t->p++;
    size_t name_len = (size_t)(t->p - name);
    if (!name_len) return bad(t, "bad XML: a tag without a name");
    if (t->depth == KZ_EVTXML_MAX_DEPTH) {
        d->why = "XML elements nested too deep";
        return KZ_ELIMIT;
    }
    if (t->depth == 0 && !(name_len == 5 && !memcmp(name, "Event", 5)))
        return bad(t, "not a Windows event (the root element is not <Event>)");
    if (t->depth > 0) t->st[t->depth - 1].has_child = 1;
    struct frame *f = &t->st[t->depth++];
    f->name = name;
    f->name_len = name_len;
    f->id = kz_text_name(d, name, name_len);
    f->data_name = 0;
    f->has_child = 0;
    f->text_start = t->tx_len;
    if (t->depth == 2) {
#define IS(lit) (name_len == sizeof lit - 1 && !memcmp(name, lit, sizeof lit - 1))
        t->section = IS("System")      ? KZ_SEC_SYSTEM
                     : IS("EventData") ? KZ_SEC_EVENTDATA
                     : IS("UserData")  ? KZ_SEC_USERDATA
                                       : KZ_SEC_OTHER;
    }
    int is_data = t->section == KZ_SEC_EVENTDATA && IS("Data");
#undef IS
    for (;;) {
        while (t->p < t->end && is_space(*t->p))
            t->p++;
        if (t->p >= t->end) return bad(t, "bad XML: a tag is not closed");
        if (*t->p == '>') {
            t->p++;
            return 0;
        }
        if (*t->p == '/') {
            if (t->p + 1 >= t->end || t->p[1] != '>') return bad(t, "bad XML: '/' inside a tag");
            t->p += 2;
            return 1; /* empty element: the caller closes it */
        }
        const char *an = t->p;
        while (t->p < t->end && name_char(*t->p))
            t->p++;
        size_t an_len = (size_t)(t->p - an);
        while (t->p < t->end && is_space(*t->p))
            t->p++;
        if (!an_len || t->p >= t->end || *t->p != '=')
            return bad(t, "bad XML: an attribute without a value");
        t->p++;
        while (t->p < t->end && is_space(*t->p))
            t->p++;
        if (t->p >= t->end || (*t->p != '"' && *t->p != '\''))
            return bad(t, "bad XML: an attribute value not in quotes");
        char q = *t->p++;
        const char *v = t->p, *ve = memchr(v, q, (size_t)(t->end - v));
        if (!ve) return bad(t, "bad XML: an attribute value not closed");
        t->p = ve + 1;
        /* only the default namespace is dropped, as the EVTX reader does (xmlns:auto-ns2 stays) */
        int xmlns = an_len == 5 && !memcmp(an, "xmlns", 5);
        if (t->depth < 3 || xmlns) continue;
        size_t mark = t->tx_len;
        decode_text(t, v, (size_t)(ve - v));
        size_t vlen = t->tx_len - mark;
        t->tx_len = mark;
        if (!vlen) continue;
        if (is_data && an_len == 4 && !memcmp(an, "Name", 4)) {
            f->data_name = kz_text_name(d, t->tx + mark, vlen);
            continue;
        }
        char pair[2 * KZ_INTERN_MAX_LEN + 2];
        size_t k = name_len < KZ_INTERN_MAX_LEN ? name_len : KZ_INTERN_MAX_LEN;
        memcpy(pair, name, k);
        pair[k++] = '_';
        size_t ak = an_len < KZ_INTERN_MAX_LEN ? an_len : KZ_INTERN_MAX_LEN;
        memcpy(pair + k, an, ak);
        field(t, kz_text_name(d, pair, k + ak), t->tx + mark, vlen);
    }
}

static void close_elem(struct tk *t) {
    struct frame *f = &t->st[t->depth - 1];
    const char *text = t->tx + f->text_start;
    size_t len = t->tx_len - f->text_start;
    if (t->depth >= 3) {
        int is_data = t->section == KZ_SEC_EVENTDATA && f->name_len == 4 &&
                      !memcmp(f->name, "Data", 4);
        if (is_data) {
            if (f->data_name)
                field(t, f->data_name, text, len);
            else if (len)
                field(t, f->id, text, len);
        } else if (!f->has_child && len) {
            field(t, f->id, text, len);
        }
    }
    t->tx_len = f->text_start;
    t->depth--;
}

int kz_evtxml_event(struct kz_text_decoder *d, const char *p, size_t n) {
    struct tk t;
    t.d = d;
    t.p = p;
    t.end = p + n;
    t.tx = kz_arena_alloc(&d->arena, n + 1);
    t.tx_len = 0;
    t.depth = 0;
    t.section = KZ_SEC_OTHER;
    if (!t.tx) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    int seen_root = 0;
    while (t.p < t.end) {
        if (*t.p != '<') {
            const char *lt = memchr(t.p, '<', (size_t)(t.end - t.p));
            const char *e = lt ? lt : t.end;
            if (t.depth > 0) decode_text(&t, t.p, (size_t)(e - t.p));
            else
                for (const char *q = t.p; q < e; q++)
                    if (!is_space(*q)) return bad(&t, "bad XML: text outside the <Event> element");
            t.p = e;
            continue;
        }
        const char *s = t.p + 1;
        if (t.end - s >= 3 && !memcmp(s, "!--", 3)) {
            const char *e = find(s + 3, t.end, "-->");
            if (!e) return bad(&t, "bad XML: a comment is not closed");
            t.p = e + 3;
        } else if (t.end - s >= 8 && !memcmp(s, "![CDATA[", 8)) {
            const char *e = find(s + 8, t.end, "]]>");
            if (!e) return bad(&t, "bad XML: a CDATA section is not closed");
            if (t.depth > 0) {
                memmove(t.tx + t.tx_len, s + 8, (size_t)(e - s - 8));
                t.tx_len += (size_t)(e - s - 8);
            }
            t.p = e + 3;
        } else if (s < t.end && (*s == '?' || *s == '!')) {
            const char *e = memchr(s, '>', (size_t)(t.end - s));
            if (!e) return bad(&t, "bad XML: a declaration is not closed");
            t.p = e + 1;
        } else if (s < t.end && *s == '/') {
            const char *nm = s + 1, *q = nm;
            while (q < t.end && name_char(*q))
                q++;
            if (!t.depth || (size_t)(q - nm) != t.st[t.depth - 1].name_len ||
                memcmp(nm, t.st[t.depth - 1].name, (size_t)(q - nm)))
                return bad(&t, "bad XML: an end tag does not match its start tag");
            while (q < t.end && is_space(*q))
                q++;
            if (q >= t.end || *q != '>') return bad(&t, "bad XML: an end tag is not closed");
            t.p = q + 1;
            close_elem(&t);
            if (!t.depth) break;
        } else {
            if (seen_root && !t.depth) return bad(&t, "bad XML: a second root element");
            seen_root = 1;
            t.p = s;
            int rc = open_tag(&t);
            if (rc < 0) return rc;
            if (rc == 1) {
                close_elem(&t);
                if (!t.depth) break;
            }
        }
    }
    if (!seen_root || t.depth) return bad(&t, "bad XML: the <Event> element is not complete");
    for (; t.p < t.end; t.p++)
        if (!is_space(*t.p)) return bad(&t, "bad XML: content after the </Event> end tag");
    d->event.fields = d->fields;
    d->event.nfields = d->nfields;
    kz_event_normalise(&d->event);
    return 0;
}

/* ---- gathering lines into events ---- */

struct state {
    struct kz_buf pending; /* lines of the unfinished event, each with its '\n' */
    size_t scanned;        /* bytes of pending already searched for "</Event>" */
    uint64_t start_line;   /* where the pending event starts */
    int again;             /* d->more was set: the next call brings no new line */
};

static void free_state(void *p) {
    struct state *st = p;
    kz_buf_free(&st->pending);
    kz_free(st);
}

static const char *skip_space(const char *p, const char *end) {
    while (p < end && is_space(*p))
        p++;
    return p;
}

static int starts(const char *p, const char *end, const char *lit) {
    size_t k = strlen(lit);
    return (size_t)(end - p) >= k && !memcmp(p, lit, k);
}

/* "<Event" followed by a space, '>' or '/': not "<EventData" */
static int event_tag(const char *p, const char *end) {
    return starts(p, end, "<Event") && (end - p == 6 || is_space(p[6]) || p[6] == '>' || p[6] == '/');
}

int kz_evtxml_sniff(const char *line, size_t n) {
    const char *p = line, *end = line + n;
    if (starts(p, end, "<?xml")) {
        const char *e = memchr(p, '>', n);
        if (!e) return 0;
        p = skip_space(e + 1, end);
    }
    if (starts(p, end, "<!--")) { /* a comment first, then an event on the same line */
        const char *e = find(p + 4, end, "-->");
        if (!e) return 0;
        p = skip_space(e + 3, end);
        return p == end || event_tag(p, end) || starts(p, end, "<Events>");
    }
    if (starts(p, end, "<Events>")) p = skip_space(p + 8, end);
    return p == end || event_tag(p, end);
}

/* Drops what precedes the next "<Event" in the pending buffer (layout, </Events>). Returns 1 when
 * an event start remains. */
static int keep_from_next_event(struct state *st) {
    const char *p = st->pending.data, *end = p + st->pending.len;
    const char *e = p;
    while ((e = find(e, end, "<Event")) && !event_tag(e, end))
        e++;
    size_t from = e ? (size_t)(e - p) : st->pending.len;
    memmove(st->pending.data, st->pending.data + from, st->pending.len - from);
    st->pending.len -= from;
    st->scanned = 0;
    return e != NULL;
}

int kz_evtxml_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    struct kz_text_seq *seq = d->seq;
    if (!seq) return kz_evtxml_event(d, line, n); /* no file state: the line is one event */
    if (!seq->state) {
        struct state *st = kz_calloc(1, sizeof *st);
        if (!st) {
            d->why = "out of memory";
            return KZ_ELIMIT;
        }
        kz_buf_init(&st->pending, KZ_TEXT_MAX_LINE + 1);
        seq->state = st;
        seq->free_state = free_state;
    }
    struct state *st = seq->state;
    if (st->again) {
        st->again = 0;
    } else {
        size_t raw = d->raw_len >= n ? d->raw_len : n;
        if (!st->pending.len) {
            const char *p = skip_space(line, line + n), *end = line + n;
            if (starts(p, end, "<?xml") || starts(p, end, "<Events") ||
                starts(p, end, "</Events") || starts(p, end, "evtxexport ") ||
                starts(p, end, "<!--")) {
                const char *e = p;
                while ((e = find(e, end, "<Event")) && !event_tag(e, end))
                    e++;
                if (!e) return 1;
                raw -= (size_t)(e - line), line = e;
            } else if (!event_tag(p, end)) {
                d->why = "not Windows event XML (an <Event> element)";
                return KZ_EFORMAT;
            }
            st->start_line = d->line_no;
        }
        kz_buf_append(&st->pending, line, raw);
        kz_buf_putc(&st->pending, '\n');
        if (st->pending.failed) {
            uint64_t from = st->start_line;
            kz_buf_clear(&st->pending);
            st->pending.failed = 0;
            st->scanned = 0;
            seq->pending_line = 0;
            (void)from;
            d->why = "XML event longer than 1 MiB";
            return KZ_ELIMIT;
        }
    }
    size_t from = st->scanned > 8 ? st->scanned - 8 : 0;
    const char *buf = st->pending.data;
    const char *close = find(buf + from, buf + st->pending.len, "</Event>");
    if (!close) {
        st->scanned = st->pending.len;
        seq->pending_line = st->start_line;
        return KZ_TEXT_PENDING;
    }
    size_t doc_len = (size_t)(close - buf) + 8;
    /* the document is copied to the arena: the buffer moves on before the event is used */
    char *doc = kz_arena_strndup(&d->arena, buf, doc_len);
    uint64_t line_of_event = st->start_line;
    memmove(st->pending.data, buf + doc_len, st->pending.len - doc_len);
    st->pending.len -= doc_len;
    st->scanned = 0;
    if (keep_from_next_event(st)) {
        st->start_line = d->line_no;
        seq->pending_line = d->line_no;
        if (find(st->pending.data, st->pending.data + st->pending.len, "</Event>"))
            d->more = 1, st->again = 1;
    } else {
        seq->pending_line = 0;
    }
    if (!doc) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    int rc = kz_evtxml_event(d, doc, doc_len);
    d->event.record_id = line_of_event;
    return rc;
}
