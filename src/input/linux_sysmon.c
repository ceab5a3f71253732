/* linux_sysmon.c - a Sysmon for Linux event document -> Windows Sysmon fields; see linux_sysmon.h.
 *
 * Sysmon for Linux writes a small, regular subset of XML (elements, double-quoted attributes, the
 * five predefined entities and character references, no comments or CDATA), so this is a flat
 * scanner over tags rather than a general XML parser: it tracks only whether it is inside
 * <System> or <EventData>. Anything it does not expect is skipped, never trusted. */
#include "linux_sysmon.h"

#include <string.h>

/* Decodes XML entities of s[0..n) into the arena; returns the copy (length in *out_len). */
static const char *unescape(struct kz_text_decoder *d, const char *s, size_t n, size_t *out_len) {
    if (!memchr(s, '&', n)) {
        *out_len = n;
        return kz_arena_strndup(&d->arena, s, n);
    }
    char *o = kz_arena_alloc(&d->arena, n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            o[k++] = s[i++];
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        size_t len = semi ? (size_t)(semi - (s + i)) + 1 : 0;
        static const struct {
            const char *name;
            char c;
        } ents[] = {
            {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
        int done = 0;
        for (size_t e = 0; semi && e < sizeof ents / sizeof *ents && !done; e++)
            if (strlen(ents[e].name) == len && !memcmp(s + i, ents[e].name, len))
                o[k++] = ents[e].c, done = 1;
        if (!done && semi && len > 3 && s[i + 1] == '#') {
            unsigned long cp = 0;
            int hex = s[i + 2] == 'x' || s[i + 2] == 'X', ok = 1;
            for (size_t j = i + 2 + (size_t)hex; j < i + len - 1 && ok; j++) {
                char c = s[j];
                int v = c >= '0' && c <= '9'                            ? c - '0'
                        : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                                        : -1;
                if (v < 0 || cp > 0x10FFFF)
                    ok = 0;
                else
                    cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            }
            /* a reference to NUL or past Unicode stays as written */
            if (ok && cp && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                /* UTF-8 of cp: never longer than the reference (&#NN; is >= 4 bytes) */
                if (cp < 0x80) {
                    o[k++] = (char)cp;
                } else if (cp < 0x800) {
                    o[k++] = (char)(0xC0 | cp >> 6);
                    o[k++] = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    o[k++] = (char)(0xE0 | cp >> 12);
                    o[k++] = (char)(0x80 | (cp >> 6 & 0x3F));
                    o[k++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    o[k++] = (char)(0xF0 | cp >> 18);
                    o[k++] = (char)(0x80 | (cp >> 12 & 0x3F));
                    o[k++] = (char)(0x80 | (cp >> 6 & 0x3F));
                    o[k++] = (char)(0x80 | (cp & 0x3F));
                }
                done = 1;
            }
        }
        if (done) {
            i += len;
        } else {
            o[k++] = s[i++];
        }
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

static void add(struct kz_text_decoder *d, const char *name, size_t name_len, uint8_t section,
                const char *v, size_t n) {
    size_t len;
    const char *u = unescape(d, v, n, &len);
    if (u) kz_text_field_ref(d, kz_text_name(d, name, name_len), section, KZ_VK_STRING, u, len);
}

/* The value of attribute `name` in the tag text [p, end); NULL when absent. */
static const char *attr(const char *p, const char *end, const char *name, size_t *len) {
    size_t k = strlen(name);
    for (const char *q = p; q + k + 2 <= end; q++) {
        if ((q == p || q[-1] == ' ') && !memcmp(q, name, k) && q[k] == '=' && q[k + 1] == '"') {
            const char *v = q + k + 2;
            const char *e = memchr(v, '"', (size_t)(end - v));
            if (!e) return NULL;
            *len = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static int name_is(const char *p, size_t n, const char *s) {
    return strlen(s) == n && !memcmp(p, s, n);
}

static uint32_t parse_u32(const char *s) {
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9' && v <= UINT32_MAX; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v > UINT32_MAX ? 0 : (uint32_t)v;
}

int kz_linux_sysmon_parse(struct kz_text_decoder *d, const char *doc, size_t n) {
    struct kz_event *ev = &d->event;
    const char *p = doc, *end = doc + n;
    d->nfields = 0; /* the document is the event */
    int in_system = 0, in_data = 0, seen_event = 0;
    const char *channel = NULL, *computer = NULL, *provider = NULL, *event_id = NULL, *time = NULL;
    unsigned elements = 0;
    while (p < end && elements++ < KZ_LINUX_SYSMON_MAX_ELEMENTS) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) break;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt) break;
        p = gt + 1;
        const char *t = lt + 1, *te = gt;
        int closing = t < te && *t == '/';
        if (closing) t++;
        int empty = te > t && te[-1] == '/';
        if (empty) te--;
        const char *ne = t;
        while (ne < te && *ne != ' ' && *ne != '/')
            ne++;
        size_t nl = (size_t)(ne - t);
        if (closing) {
            if (name_is(t, nl, "System")) in_system = 0;
            if (name_is(t, nl, "EventData")) in_data = 0;
            continue;
        }
        if (name_is(t, nl, "Event")) {
            seen_event = 1;
            continue;
        }
        if (name_is(t, nl, "System")) {
            in_system = 1;
            continue;
        }
        if (name_is(t, nl, "EventData")) {
            in_data = 1;
            continue;
        }
        /* The element's text: up to the next '<' (elements here hold text or nothing). */
        const char *text = p, *text_end = p;
        if (!empty) {
            const char *next = memchr(p, '<', (size_t)(end - p));
            text_end = next ? next : end;
        }
        size_t al;
        const char *a;
        if (in_system) {
            static const char *const simple[] = {"EventID",       "Version", "Level",
                                                 "Task",          "Opcode",  "Keywords",
                                                 "EventRecordID", "Channel", "Computer"};
            int done = 0;
            for (size_t i = 0; i < sizeof simple / sizeof *simple && !done; i++) {
                if (!name_is(t, nl, simple[i])) continue;
                add(d, simple[i], strlen(simple[i]), KZ_SEC_SYSTEM, text,
                    (size_t)(text_end - text));
                const char *v = d->nfields ? d->fields[d->nfields - 1].val : NULL;
                if (i == 0) event_id = v;
                if (i == 7) channel = v;
                if (i == 8) computer = v;
                done = 1;
            }
            if (done) continue;
            if (name_is(t, nl, "Provider")) {
                if ((a = attr(ne, te, "Name", &al))) {
                    add(d, "Provider_Name", 13, KZ_SEC_SYSTEM, a, al);
                    provider = d->fields[d->nfields - 1].val;
                }
                if ((a = attr(ne, te, "Guid", &al)))
                    add(d, "Provider_Guid", 13, KZ_SEC_SYSTEM, a, al);
            } else if (name_is(t, nl, "TimeCreated")) {
                if ((a = attr(ne, te, "SystemTime", &al))) {
                    add(d, "TimeCreated_SystemTime", 22, KZ_SEC_SYSTEM, a, al);
                    time = d->fields[d->nfields - 1].val;
                }
            } else if (name_is(t, nl, "Execution")) {
                if ((a = attr(ne, te, "ProcessID", &al)))
                    add(d, "Execution_ProcessID", 19, KZ_SEC_SYSTEM, a, al);
                if ((a = attr(ne, te, "ThreadID", &al)))
                    add(d, "Execution_ThreadID", 18, KZ_SEC_SYSTEM, a, al);
            } else if (name_is(t, nl, "Security")) {
                if ((a = attr(ne, te, "UserId", &al)) || (a = attr(ne, te, "UserID", &al)))
                    add(d, "Security_UserID", 15, KZ_SEC_SYSTEM, a, al);
            }
        } else if (in_data && name_is(t, nl, "Data")) {
            if ((a = attr(ne, te, "Name", &al)) && al)
                add(d, a, al, KZ_SEC_EVENTDATA, text, (size_t)(text_end - text));
        }
    }
    if (!seen_event || !event_id) {
        d->why = "Sysmon message without an <Event> document and EventID";
        return KZ_EFORMAT;
    }
    ev->event_id = parse_u32(event_id);
    ev->channel = channel && *channel ? channel : "Linux-Sysmon/Operational";
    ev->provider = provider;
    ev->host = computer;
    kz_time ts;
    if (time && !kz_time_parse(time, strlen(time), &ts)) ev->ts = ts;
    ev->fields = d->fields;
    ev->nfields = d->nfields;
    kz_event_normalise(ev);
    return 0;
}
