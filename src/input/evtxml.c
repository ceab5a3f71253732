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

#include <stdio.h>
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
    int fragment; /* kz_evtxml_event_data: an <EventData> fragment, its <Data> elements only */
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

/* The next attribute of a start tag, t->p inside it: 2 with its name an[0..an_len) and raw value
 * v[0..ve) (t->p after it), 0 at the tag's `>`, 1 at `/>` (an empty element; t->p after either),
 * or KZ_EFORMAT for malformed XML. Shared by the event and the ConvertTo-Xml readers. */
static int next_attr(struct tk *t, const char **an, size_t *an_len, const char **v,
                     const char **ve) {
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
        return 1;
    }
    *an = t->p;
    while (t->p < t->end && name_char(*t->p))
        t->p++;
    *an_len = (size_t)(t->p - *an);
    while (t->p < t->end && is_space(*t->p))
        t->p++;
    if (!*an_len || t->p >= t->end || *t->p != '=')
        return bad(t, "bad XML: an attribute without a value");
    t->p++;
    while (t->p < t->end && is_space(*t->p))
        t->p++;
    if (t->p >= t->end || (*t->p != '"' && *t->p != '\''))
        return bad(t, "bad XML: an attribute value not in quotes");
    char q = *t->p++;
    *v = t->p;
    *ve = memchr(*v, q, (size_t)(t->end - *v));
    if (!*ve) return bad(t, "bad XML: an attribute value not closed");
    t->p = *ve + 1;
    return 2;
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
    if (t->depth == 0 && !t->fragment && !(name_len == 5 && !memcmp(name, "Event", 5)))
        return bad(t, "not a Windows event (the root element is not <Event>)");
    if (t->depth > 0) t->st[t->depth - 1].has_child = 1;
    struct frame *f = &t->st[t->depth++];
    f->name = name;
    f->name_len = name_len;
    f->id = kz_text_name(d, name, name_len);
    f->data_name = 0;
    f->has_child = 0;
    f->text_start = t->tx_len;
    if (t->depth == 2 && !t->fragment) {
#define IS(lit) (name_len == sizeof lit - 1 && !memcmp(name, lit, sizeof lit - 1))
        t->section = IS("System")      ? KZ_SEC_SYSTEM
                     : IS("EventData") ? KZ_SEC_EVENTDATA
                     : IS("UserData")  ? KZ_SEC_USERDATA
                                       : KZ_SEC_OTHER;
    }
    int is_data = t->section == KZ_SEC_EVENTDATA && IS("Data");
#undef IS
    for (;;) {
        const char *an, *v, *ve;
        size_t an_len;
        int rc = next_attr(t, &an, &an_len, &v, &ve);
        if (rc != 2) return rc; /* 1: an empty element, which the caller closes */
        /* only the default namespace is dropped, as the EVTX reader does (xmlns:auto-ns2 stays) */
        int xmlns = an_len == 5 && !memcmp(an, "xmlns", 5);
        if ((t->depth < 3 && !(t->fragment && is_data)) || xmlns) continue;
        size_t mark = t->tx_len;
        decode_text(t, v, (size_t)(ve - v));
        size_t vlen = t->tx_len - mark;
        t->tx_len = mark;
        if (!vlen) continue;
        if (is_data && an_len == 4 && !memcmp(an, "Name", 4)) {
            f->data_name = kz_text_name(d, t->tx + mark, vlen);
            continue;
        }
        if (t->fragment) continue; /* only <Data Name=...> counts in a fragment */
        char pair[2 * KZ_INTERN_MAX_LEN + 2];
        size_t k = name_len < KZ_INTERN_MAX_LEN ? name_len : KZ_INTERN_MAX_LEN;
        memcpy(pair, name, k);
        pair[k++] = '_';
        size_t ak = an_len < KZ_INTERN_MAX_LEN ? an_len : KZ_INTERN_MAX_LEN;
        memcpy(pair + k, an, ak);
        /* Sysmon for Linux spells Windows' <Security UserID=...> as UserId: one field name */
        if (t->section == KZ_SEC_SYSTEM && k + ak == 15 && !memcmp(pair, "Security_UserId", 15))
            pair[14] = 'D';
        field(t, kz_text_name(d, pair, k + ak), t->tx + mark, vlen);
    }
}

static void close_elem(struct tk *t) {
    struct frame *f = &t->st[t->depth - 1];
    const char *text = t->tx + f->text_start;
    size_t len = t->tx_len - f->text_start;
    int is_data = t->section == KZ_SEC_EVENTDATA && f->name_len == 4 && !memcmp(f->name, "Data", 4);
    if (t->depth >= 3 || (t->fragment && is_data)) {
        if (is_data) {
            if (f->data_name)
                field(t, f->data_name, text, len);
            else if (len)
                field(t, f->id, text, len);
        } else if (!f->has_child && len && !t->fragment) {
            field(t, f->id, text, len);
        }
    }
    t->tx_len = f->text_start;
    t->depth--;
}

static int tokenize(struct kz_text_decoder *d, const char *p, size_t n, int fragment) {
    struct tk t;
    t.d = d;
    t.p = p;
    t.end = p + n;
    t.tx = kz_arena_alloc(&d->arena, n + 1);
    t.tx_len = 0;
    t.depth = 0;
    t.fragment = fragment;
    t.section = fragment ? KZ_SEC_EVENTDATA : KZ_SEC_OTHER;
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
    return 0;
}

int kz_evtxml_event_data(struct kz_text_decoder *d, const char *p, size_t n) {
    /* the text reader keeps NUL bytes out of its lines, but this XML comes out of a JSON string,
     * where \u0000 is legal: a field value cannot hold one */
    if (memchr(p, 0, n)) {
        d->why = "NUL character in the EventData XML";
        return KZ_EFORMAT;
    }
    return tokenize(d, p, n, 1);
}

int kz_evtxml_event(struct kz_text_decoder *d, const char *p, size_t n) {
    int rc = tokenize(d, p, n, 0);
    if (rc) return rc;
    d->event.fields = d->fields;
    d->event.nfields = d->nfields;
    kz_event_normalise(&d->event);
    return 0;
}

/* ---- Get-WinEvent | ConvertTo-Xml ---- */

/* PowerShell serialises each EventLogRecord as <Object Type="...EventLogRecord"> holding one
 * <Property Name="N" Type="T">value</Property> per .NET property; a property whose value is an
 * object (UserId, Properties) holds child <Property> elements instead, as deep as -Depth allows.
 * The walker below keeps, per open element, its Name and Type attributes and the value of a
 * child called "Value"; a top-level property's value is its own text or that child's, and each
 * child of Properties is one EventData value, in template order. */

#include "psxml_names.h"

enum ps_top {
    PS_ID, PS_VERSION, PS_QUALIFIERS, PS_LEVEL, PS_TASK, PS_OPCODE, PS_KEYWORDS, PS_RECORD_ID,
    PS_PROVIDER_NAME, PS_PROVIDER_ID, PS_LOG_NAME, PS_PROCESS_ID, PS_THREAD_ID, PS_MACHINE_NAME,
    PS_USER_ID, PS_TIME_CREATED, PS_ACTIVITY_ID, PS_RELATED_ACTIVITY_ID, PS_NTOP
};

/* EventLogRecord's property names, by enum ps_top */
static const char *const ps_top_names[PS_NTOP] = {
    "Id",       "Version",     "Qualifiers", "Level",     "Task",        "Opcode",
    "Keywords", "RecordId",    "ProviderName", "ProviderId", "LogName", "ProcessId",
    "ThreadId", "MachineName", "UserId",     "TimeCreated", "ActivityId", "RelatedActivityId"};

struct ps_frame {
    const char *name, *type; /* attribute values as written (NULL when absent) */
    size_t name_len, type_len, text_start;
    const char *value; /* a child's Value (arena), for objects expanded by -Depth */
    size_t value_len;
    int value_guid; /* that Value is a System.Guid */
    int has_child;
};

struct ps {
    struct tk t; /* scratch and decoder; t.st is unused */
    struct ps_frame st[KZ_EVTXML_MAX_DEPTH];
    int depth;
    const char *top[PS_NTOP];
    size_t top_len[PS_NTOP];
    const char **pv; /* Properties values in order; NULL for a -Depth placeholder */
    size_t *pl;
    uint8_t *pguid; /* the value is a System.Guid */
    unsigned nprops;
};

static int attr_is(const char *v, size_t n, const char *lit) {
    return v && n == strlen(lit) && !memcmp(v, lit, n);
}

static int ends_with(const char *v, size_t n, const char *lit) {
    size_t k = strlen(lit);
    return v && n >= k && !memcmp(v + n - k, lit, k);
}

/* The closed element's value: its own text, or (an object written out) its child Value's. */
static const char *ps_value(struct ps *ps, struct ps_frame *f, size_t *len) {
    if (f->has_child) {
        *len = f->value_len;
        return f->value;
    }
    *len = ps->t.tx_len - f->text_start;
    return kz_arena_strndup(&ps->t.d->arena, ps->t.tx + f->text_start, *len);
}

static int ps_close(struct ps *ps) {
    struct ps_frame *f = &ps->st[ps->depth - 1];
    int depth = ps->depth;
    size_t len = 0;
    const char *v = NULL;
    if (depth >= 2) v = ps_value(ps, f, &len);
    int guid = f->has_child ? f->value_guid : attr_is(f->type, f->type_len, "System.Guid");
    if (depth >= 3 && attr_is(f->name, f->name_len, "Value")) {
        struct ps_frame *parent = &ps->st[depth - 2];
        parent->value = v, parent->value_len = len, parent->value_guid = guid;
    }
    if (depth == 2) {
        for (int i = 0; i < PS_NTOP; i++)
            if (attr_is(f->name, f->name_len, ps_top_names[i])) {
                ps->top[i] = v, ps->top_len[i] = len;
                break;
            }
    } else if (depth == 3 && attr_is(ps->st[1].name, ps->st[1].name_len, "Properties")) {
        if (ps->nprops == KZ_TEXT_MAX_FIELDS) {
            ps->t.d->why = "more than 1024 event data values";
            return KZ_ELIMIT;
        }
        /* at a -Depth too small to write the EventProperty out, PowerShell writes its type name */
        int placeholder = !f->has_child && attr_is(v, len, "System.Diagnostics.Eventing.Reader."
                                                           "EventProperty");
        ps->pv[ps->nprops] = placeholder ? NULL : v;
        ps->pl[ps->nprops] = len;
        ps->pguid[ps->nprops] = (uint8_t)guid;
        ps->nprops++;
    }
    ps->t.tx_len = f->text_start;
    ps->depth--;
    return 0;
}

/* <Property Name=.. Type=..> (or <Object Type=..>), p after '<'; 1 for an empty element. */
static int ps_open(struct ps *ps) {
    struct tk *t = &ps->t;
    const char *name = t->p;
    while (t->p < t->end && name_char(*t->p))
        t->p++;
    size_t name_len = (size_t)(t->p - name);
    if (!name_len) return bad(t, "bad XML: a tag without a name");
    if (ps->depth == KZ_EVTXML_MAX_DEPTH) {
        t->d->why = "XML elements nested too deep";
        return KZ_ELIMIT;
    }
    if (ps->depth == 0 && !(name_len == 6 && !memcmp(name, "Object", 6)))
        return bad(t, "not a PowerShell object (the root element is not <Object>)");
    if (ps->depth > 0 && !(name_len == 8 && !memcmp(name, "Property", 8)))
        return bad(t, "not ConvertTo-Xml output (an element other than <Property>)");
    if (ps->depth > 0) ps->st[ps->depth - 1].has_child = 1;
    struct ps_frame *f = &ps->st[ps->depth++];
    memset(f, 0, sizeof *f);
    f->text_start = t->tx_len;
    for (;;) {
        const char *an, *v, *ve;
        size_t an_len;
        int rc = next_attr(t, &an, &an_len, &v, &ve);
        if (rc != 2) return rc;
        /* .NET property and type names hold no entities: compared as written */
        if (an_len == 4 && !memcmp(an, "Name", 4)) f->name = v, f->name_len = (size_t)(ve - v);
        if (an_len == 4 && !memcmp(an, "Type", 4)) f->type = v, f->type_len = (size_t)(ve - v);
    }
}

static int digits_of(const char **p, const char *end, unsigned max_digits, unsigned *out) {
    unsigned v = 0, k = 0;
    while (*p < end && **p >= '0' && **p <= '9' && k < max_digits)
        v = v * 10 + (unsigned)(*(*p)++ - '0'), k++;
    *out = v;
    return k;
}

/* A DateTime as PowerShell's culture writes it: "4/25/2022 11:51:07 AM" (en-US: month first,
 * with AM/PM), "25/04/2022 11:51:07" (en-GB, fr-FR: day first), "25.04.2022 11:51:07" (de-DE),
 * "2022/04/25 11:51:07" (ja-JP), "2022-04-25 11:51:07" (ISO, sv-SE). RFC 3339 is tried first. */
static int ps_time(const char *s, size_t n, kz_time *out) {
    if (!kz_time_parse(s, n, out)) return 0;
    const char *p = s, *end = s + n;
    unsigned a, b, c, hh, mm, ss = 0, y, mo, day;
    unsigned ka = digits_of(&p, end, 4, &a);
    if (!ka || p >= end || (*p != '/' && *p != '.' && *p != '-')) return KZ_EFORMAT;
    char sep = *p++;
    if (!digits_of(&p, end, 2, &b) || p >= end || *p++ != sep) return KZ_EFORMAT;
    unsigned kc = digits_of(&p, end, 4, &c);
    if (!kc || p >= end || *p++ != ' ') return KZ_EFORMAT;
    if (!digits_of(&p, end, 2, &hh) || p >= end || *p++ != ':') return KZ_EFORMAT;
    if (!digits_of(&p, end, 2, &mm)) return KZ_EFORMAT;
    if (p < end && *p == ':') {
        p++;
        if (!digits_of(&p, end, 2, &ss)) return KZ_EFORMAT;
    }
    while (p < end && *p == ' ')
        p++;
    int ampm = -1;
    if (end - p >= 2 && (p[1] == 'M' || p[1] == 'm')) {
        if (p[0] == 'A' || p[0] == 'a') ampm = 0;
        if (p[0] == 'P' || p[0] == 'p') ampm = 1;
        if (ampm >= 0) p += 2;
    }
    if (p != end) return KZ_EFORMAT;
    if (ka == 4) {
        y = a, mo = b, day = c;
    } else if (kc == 4) {
        y = c;
        if (ampm >= 0) /* en-US, the only common culture with AM/PM and a numeric date */
            mo = a, day = b;
        else
            mo = b, day = a;
    } else {
        return KZ_EFORMAT;
    }
    if (ampm >= 0) {
        if (hh < 1 || hh > 12) return KZ_EFORMAT;
        hh = hh % 12 + (ampm ? 12u : 0u);
    }
    if (mo < 1 || mo > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return KZ_EFORMAT;
    int64_t days = kz_days_from_civil(y, mo, day);
    *out = ((days * 86400) + hh * 3600 + mm * 60 + ss) * KZ_TICKS_PER_SEC;
    return 0;
}

/* Writes a System.Guid ("54849625-5478-4994-a5ba-3e3b0328c30d") as the EVTX reader does. */
static const char *ps_guid(struct kz_text_decoder *d, const char *v, size_t n, size_t *len) {
    if (n != 36) {
        *len = n;
        return v;
    }
    char *o = kz_arena_alloc(&d->arena, 39);
    if (!o) return v;
    o[0] = '{';
    for (size_t i = 0; i < 36; i++)
        o[i + 1] = v[i] >= 'a' && v[i] <= 'f' ? (char)(v[i] - 32) : v[i];
    o[37] = '}', o[38] = 0;
    *len = 38;
    return o;
}

static void ps_system(struct ps *ps, const char *name, int top) {
    if (!ps->top[top] || !ps->top_len[top]) return;
    field(&ps->t, kz_text_name(ps->t.d, name, strlen(name)), ps->top[top], ps->top_len[top]);
}

/* The event of a PowerShell EventLogRecord object, fields in the EVTX reader's order. */
static int ps_event(struct ps *ps) {
    struct kz_text_decoder *d = ps->t.d;
    struct tk *t = &ps->t;
    if (!ps->top[PS_ID]) return bad(t, "PowerShell object without an Id (not an event record)");
    t->section = KZ_SEC_SYSTEM;
    ps_system(ps, "Provider_Name", PS_PROVIDER_NAME);
    if (ps->top[PS_PROVIDER_ID])
        ps->top[PS_PROVIDER_ID] = ps_guid(d, ps->top[PS_PROVIDER_ID], ps->top_len[PS_PROVIDER_ID],
                                          &ps->top_len[PS_PROVIDER_ID]);
    ps_system(ps, "Provider_Guid", PS_PROVIDER_ID);
    ps_system(ps, "EventID_Qualifiers", PS_QUALIFIERS);
    ps_system(ps, "EventID", PS_ID);
    ps_system(ps, "Version", PS_VERSION);
    ps_system(ps, "Level", PS_LEVEL);
    ps_system(ps, "Task", PS_TASK);
    ps_system(ps, "Opcode", PS_OPCODE);
    if (ps->top[PS_KEYWORDS]) { /* an Int64 in decimal; EVTX writes the bits in hex */
        const char *k = ps->top[PS_KEYWORDS], *e = k + ps->top_len[PS_KEYWORDS];
        int neg = k < e && *k == '-';
        uint64_t v = 0;
        int ok = k + neg < e;
        for (const char *q = k + neg; q < e && ok; q++) {
            ok = *q >= '0' && *q <= '9' && v <= (UINT64_MAX - 9) / 10;
            v = v * 10 + (uint64_t)(*q - '0');
        }
        if (ok) {
            char *o = kz_arena_alloc(&d->arena, 20);
            if (o) {
                int n = snprintf(o, 20, "0x%llx", (unsigned long long)(neg ? 0 - v : v));
                ps->top[PS_KEYWORDS] = o, ps->top_len[PS_KEYWORDS] = (size_t)n;
            }
        }
    }
    ps_system(ps, "Keywords", PS_KEYWORDS);
    kz_time ts;
    if (ps->top[PS_TIME_CREATED] &&
        !ps_time(ps->top[PS_TIME_CREATED], ps->top_len[PS_TIME_CREATED], &ts)) {
        char *txt = kz_arena_alloc(&d->arena, KZ_TIME_TEXT_MAX);
        if (txt) {
            ps->top[PS_TIME_CREATED] = txt;
            ps->top_len[PS_TIME_CREATED] = kz_time_format(ts, 7, txt);
            ps_system(ps, "TimeCreated_SystemTime", PS_TIME_CREATED);
        }
    }
    ps_system(ps, "EventRecordID", PS_RECORD_ID);
    for (int i = PS_ACTIVITY_ID; i <= PS_RELATED_ACTIVITY_ID; i++)
        if (ps->top[i]) ps->top[i] = ps_guid(d, ps->top[i], ps->top_len[i], &ps->top_len[i]);
    ps_system(ps, "Correlation_ActivityID", PS_ACTIVITY_ID);
    ps_system(ps, "Correlation_RelatedActivityID", PS_RELATED_ACTIVITY_ID);
    ps_system(ps, "Execution_ProcessID", PS_PROCESS_ID);
    ps_system(ps, "Execution_ThreadID", PS_THREAD_ID);
    ps_system(ps, "Channel", PS_LOG_NAME);
    ps_system(ps, "Computer", PS_MACHINE_NAME);
    ps_system(ps, "Security_UserID", PS_USER_ID);

    /* EventData: names from the template of a well-known event, else Data1, Data2 ... */
    const char *names = NULL;
    unsigned version = 0;
    for (size_t i = 0; ps->top[PS_VERSION] && i < ps->top_len[PS_VERSION] && i < 4; i++)
        version = version * 10 + (unsigned)(ps->top[PS_VERSION][i] - '0');
    uint32_t id = d->event.event_id;
    for (size_t i = 0; ps->top[PS_PROVIDER_NAME] && i < sizeof psxml_templates /
                                                           sizeof *psxml_templates; i++) {
        const struct psxml_template *tp = &psxml_templates[i];
        if (tp->id == id && tp->version == version && tp->count == ps->nprops &&
            !strcmp(psxml_providers[tp->provider], ps->top[PS_PROVIDER_NAME])) {
            names = tp->names;
            break;
        }
    }
    t->section = KZ_SEC_EVENTDATA;
    for (unsigned i = 0; i < ps->nprops; i++) {
        const char *nm;
        size_t nl;
        char buf[16];
        if (names) {
            const char *sp = strchr(names, ' ');
            nm = names, nl = sp ? (size_t)(sp - names) : strlen(names);
            names = sp ? sp + 1 : names + nl;
        } else {
            nl = (size_t)snprintf(buf, sizeof buf, "Data%u", i + 1);
            nm = buf;
        }
        if (!ps->pv[i]) continue; /* a -Depth placeholder: the value was not written */
        size_t len = ps->pl[i];
        const char *v = ps->pguid[i] ? ps_guid(d, ps->pv[i], len, &len) : ps->pv[i];
        field(t, kz_text_name(d, nm, nl), v, len);
    }
    d->event.fields = d->fields;
    d->event.nfields = d->nfields;
    kz_event_normalise(&d->event);
    return 0;
}

int kz_evtxml_psobject(struct kz_text_decoder *d, const char *p, size_t n) {
    struct ps *ps = kz_arena_alloc(&d->arena, sizeof *ps);
    if (!ps) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    memset(ps, 0, sizeof *ps);
    struct tk *t = &ps->t;
    t->d = d;
    t->p = p;
    t->end = p + n;
    t->section = KZ_SEC_OTHER;
    t->tx = kz_arena_alloc(&d->arena, n + 1);
    ps->pv = kz_arena_alloc(&d->arena, KZ_TEXT_MAX_FIELDS * sizeof *ps->pv);
    ps->pl = kz_arena_alloc(&d->arena, KZ_TEXT_MAX_FIELDS * sizeof *ps->pl);
    ps->pguid = kz_arena_alloc(&d->arena, KZ_TEXT_MAX_FIELDS);
    if (!t->tx || !ps->pv || !ps->pl || !ps->pguid) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    int seen_root = 0;
    while (t->p < t->end) {
        if (*t->p != '<') {
            const char *lt = memchr(t->p, '<', (size_t)(t->end - t->p));
            const char *e = lt ? lt : t->end;
            if (ps->depth > 0) decode_text(t, t->p, (size_t)(e - t->p));
            else
                for (const char *q = t->p; q < e; q++)
                    if (!is_space(*q)) return bad(t, "bad XML: text outside the <Object> element");
            t->p = e;
            continue;
        }
        const char *s = t->p + 1;
        if (t->end - s >= 3 && !memcmp(s, "!--", 3)) {
            const char *e = find(s + 3, t->end, "-->");
            if (!e) return bad(t, "bad XML: a comment is not closed");
            t->p = e + 3;
        } else if (t->end - s >= 8 && !memcmp(s, "![CDATA[", 8)) {
            const char *e = find(s + 8, t->end, "]]>");
            if (!e) return bad(t, "bad XML: a CDATA section is not closed");
            if (ps->depth > 0) {
                memmove(t->tx + t->tx_len, s + 8, (size_t)(e - s - 8));
                t->tx_len += (size_t)(e - s - 8);
            }
            t->p = e + 3;
        } else if (s < t->end && (*s == '?' || *s == '!')) {
            const char *e = memchr(s, '>', (size_t)(t->end - s));
            if (!e) return bad(t, "bad XML: a declaration is not closed");
            t->p = e + 1;
        } else if (s < t->end && *s == '/') {
            const char *nm = s + 1, *q = nm;
            while (q < t->end && name_char(*q))
                q++;
            /* names are Object or Property: the depth tells which */
            int want_object = ps->depth == 1;
            size_t k = (size_t)(q - nm);
            if (!ps->depth || !(want_object ? k == 6 && !memcmp(nm, "Object", 6)
                                            : k == 8 && !memcmp(nm, "Property", 8)))
                return bad(t, "bad XML: an end tag does not match its start tag");
            while (q < t->end && is_space(*q))
                q++;
            if (q >= t->end || *q != '>') return bad(t, "bad XML: an end tag is not closed");
            t->p = q + 1;
            int rc = ps_close(ps);
            if (rc) return rc;
            if (!ps->depth) break;
        } else {
            if (seen_root && !ps->depth) return bad(t, "bad XML: a second root element");
            seen_root = 1;
            t->p = s;
            int rc = ps_open(ps);
            if (rc < 0) return rc;
            if (ps->depth == 1 && !ends_with(ps->st[0].type, ps->st[0].type_len, "EventLogRecord") &&
                !ends_with(ps->st[0].type, ps->st[0].type_len, "EventRecord"))
                return bad(t, "a PowerShell object that is not an event record");
            if (rc == 1) {
                rc = ps_close(ps);
                if (rc) return rc;
                if (!ps->depth) break;
            }
        }
    }
    if (!seen_root || ps->depth) return bad(t, "bad XML: the <Object> element is not complete");
    for (; t->p < t->end; t->p++)
        if (!is_space(*t->p)) return bad(t, "bad XML: content after the </Object> end tag");
    return ps_event(ps);
}

/* ---- gathering lines into events ---- */

struct state {
    struct kz_buf pending; /* lines of the unfinished event, each with its '\n' */
    size_t scanned;        /* bytes of pending already searched for "</Event>" */
    uint64_t start_line;   /* where the pending event starts */
    int again;             /* d->more was set: the next call brings no new line */
    int ps;                /* the file is ConvertTo-Xml's: records are <Object>, not <Event> */
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

/* "<Object" followed by a space, '>' or '/': not "<Objects" */
static int object_tag(const char *p, const char *end) {
    return starts(p, end, "<Object") &&
           (end - p == 7 || is_space(p[7]) || p[7] == '>' || p[7] == '/');
}

/* ConvertTo-Xml's root, "<Objects>" */
static int objects_tag(const char *p, const char *end) {
    return starts(p, end, "<Objects") && (end - p == 8 || is_space(p[8]) || p[8] == '>');
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
    /* Get-WinEvent | ConvertTo-Xml: <Objects><Object Type="...EventLogRecord"> */
    if (objects_tag(p, end)) {
        const char *e = memchr(p, '>', (size_t)(end - p));
        if (!e) return 0;
        p = skip_space(e + 1, end);
        if (p == end) return 1;
    }
    if (object_tag(p, end)) {
        const char *e = memchr(p, '>', (size_t)(end - p));
        return e && find(p, e, "Eventing.Reader.EventLogRecord") != NULL;
    }
    return p == end || event_tag(p, end);
}

/* The start tag of one record in this file: <Event>, or ConvertTo-Xml's <Object>. */
static int record_tag(const struct state *st, const char *p, const char *end) {
    return st->ps ? object_tag(p, end) : event_tag(p, end);
}

/* The first record start tag in [p, end), or NULL. */
static const char *next_record(const struct state *st, const char *p, const char *end) {
    const char *lit = st->ps ? "<Object" : "<Event";
    while ((p = find(p, end, lit)) && !record_tag(st, p, end))
        p++;
    return p;
}

/* Drops what precedes the next record in the pending buffer (layout, </Events>, </Objects>).
 * Returns 1 when a record start remains. */
static int keep_from_next_event(struct state *st) {
    const char *p = st->pending.data, *end = p + st->pending.len;
    const char *e = next_record(st, p, end);
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
                starts(p, end, "<!--") || starts(p, end, "</Objects")) {
                /* ConvertTo-Xml's root: its records are <Object> elements from here on */
                const char *root = find(p, end, "<Objects");
                while (root && !objects_tag(root, end))
                    root = find(root + 1, end, "<Objects");
                if (root) st->ps = 1;
                const char *e = next_record(st, p, end);
                if (!e) return 1;
                raw -= (size_t)(e - line), line = e;
            } else if (objects_tag(p, end)) {
                st->ps = 1;
                const char *e = next_record(st, p, end);
                if (!e) return 1;
                raw -= (size_t)(e - line), line = e;
            } else if (!record_tag(st, p, end)) {
                if (object_tag(p, end)) {
                    st->ps = 1;
                } else {
                    d->why = st->ps ? "not ConvertTo-Xml output (an <Object> element)"
                                    : "not Windows event XML (an <Event> element)";
                    return KZ_EFORMAT;
                }
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
    const char *close_lit = st->ps ? "</Object>" : "</Event>";
    size_t close_len = strlen(close_lit);
    size_t from = st->scanned > close_len ? st->scanned - close_len : 0;
    const char *buf = st->pending.data;
    const char *close = find(buf + from, buf + st->pending.len, close_lit);
    if (!close) {
        st->scanned = st->pending.len;
        seq->pending_line = st->start_line;
        return KZ_TEXT_PENDING;
    }
    size_t doc_len = (size_t)(close - buf) + close_len;
    /* the document is copied to the arena: the buffer moves on before the event is used */
    char *doc = kz_arena_strndup(&d->arena, buf, doc_len);
    uint64_t line_of_event = st->start_line;
    memmove(st->pending.data, buf + doc_len, st->pending.len - doc_len);
    st->pending.len -= doc_len;
    st->scanned = 0;
    if (keep_from_next_event(st)) {
        st->start_line = d->line_no;
        seq->pending_line = d->line_no;
        if (find(st->pending.data, st->pending.data + st->pending.len, close_lit))
            d->more = 1, st->again = 1;
    } else {
        seq->pending_line = 0;
    }
    if (!doc) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    int rc = st->ps ? kz_evtxml_psobject(d, doc, doc_len) : kz_evtxml_event(d, doc, doc_len);
    d->event.record_id = line_of_event;
    return rc;
}
