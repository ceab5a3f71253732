/* w3c.c - IIS W3C extended log lines -> events; see w3c.h.
 *
 * A #Fields directive is parsed once into the file's state (column name ids and what each column
 * means to the event header), so a data line costs one copy into the arena and one pass cutting
 * it at spaces, like accesslog.c. */
#include "w3c.h"

#include "../core/alloc.h"
#include "../core/intern.h"
#include "../core/timeutil.h"

#include <stdio.h>
#include <string.h>

enum role {
    R_NONE = 0,
    R_DATE,
    R_TIME,
    R_CIP,
    R_USER,
    R_STATUS,
    R_BYTES,
    R_HOST,
    R_NUMBER, /* a count, size or port: an integer field when all digits */
};

struct w3c_state {
    uint32_t ncol; /* 0 until a #Fields directive has been read */
    uint32_t id[KZ_W3C_MAX_COLUMNS];
    uint8_t role[KZ_W3C_MAX_COLUMNS];
};

static int starts(const char *p, size_t n, const char *lit) {
    size_t k = strlen(lit);
    return n >= k && !memcmp(p, lit, k);
}

int kz_w3c_sniff(const char *line, size_t n) {
    return starts(line, n, "#Software:") || starts(line, n, "#Version:") ||
           starts(line, n, "#Fields:") || starts(line, n, "#Date:");
}

static enum role role_of(const char *name) {
    static const struct {
        const char *name;
        enum role role;
    } t[] = {
        {"date", R_DATE},         {"time", R_TIME},          {"c-ip", R_CIP},
        {"cs-username", R_USER},  {"sc-status", R_STATUS},   {"sc-bytes", R_BYTES},
        {"s-computername", R_HOST}, {"cs-bytes", R_NUMBER},  {"time-taken", R_NUMBER},
        {"s-port", R_NUMBER},     {"sc-substatus", R_NUMBER}, {"sc-win32-status", R_NUMBER},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(name, t[i].name)) return t[i].role;
    return R_NONE;
}

/* "#Fields: a b cs(User-Agent)" -> the state's columns. */
static int read_fields(struct kz_text_decoder *d, struct w3c_state *st, const char *p,
                       const char *end) {
    uint32_t n = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (p == s) break;
        if (n == KZ_W3C_MAX_COLUMNS) {
            d->why = "#Fields directive with more than 128 columns";
            return KZ_EFORMAT;
        }
        /* cs(User-Agent) -> cs-user-agent: the header columns as Sigma names them */
        char name[KZ_INTERN_MAX_LEN + 1];
        size_t len = (size_t)(p - s), k = 0;
        const char *paren = memchr(s, '(', len);
        if (paren && s[len - 1] == ')' && paren > s) {
            for (const char *q = s; q < paren && k < KZ_INTERN_MAX_LEN; q++)
                name[k++] = *q;
            if (k < KZ_INTERN_MAX_LEN) name[k++] = '-';
            for (const char *q = paren + 1; q < s + len - 1 && k < KZ_INTERN_MAX_LEN; q++)
                name[k++] = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        } else {
            k = len < KZ_INTERN_MAX_LEN ? len : KZ_INTERN_MAX_LEN;
            memcpy(name, s, k);
        }
        name[k] = 0;
        st->id[n] = kz_text_name(d, name, k);
        st->role[n] = (uint8_t)role_of(name);
        n++;
    }
    if (!n) {
        d->why = "#Fields directive names no column";
        return KZ_EFORMAT;
    }
    st->ncol = n;
    return 1;
}

static int all_digits(const char *s, size_t n) {
    if (!n || n > 18) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int kz_w3c_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    struct kz_text_seq *seq = d->seq;
    if (!seq) {
        d->why = "W3C log read without its file's state";
        return KZ_EFORMAT;
    }
    if (!seq->state) {
        if (!(seq->state = kz_calloc(1, sizeof(struct w3c_state)))) {
            d->why = "out of memory";
            return KZ_ELIMIT;
        }
        seq->free_state = kz_free;
    }
    struct w3c_state *st = seq->state;
    if (line[0] == '#') {
        if (starts(line, n, "#Fields:")) return read_fields(d, st, line + 8, line + n);
        return 1; /* #Software, #Version, #Date, #Start-Date, #End-Date, #Remark */
    }
    if (!st->ncol) {
        d->why = "W3C data line before any #Fields directive";
        return KZ_EFORMAT;
    }
    char *c = kz_arena_strndup(&d->arena, line, n);
    if (!c) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    struct kz_event *ev = &d->event;
    char *p = c, *end = c + n;
    char *date = NULL, *time = NULL, *status = NULL;
    uint32_t col = 0;
    while (p < end) {
        char *s = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (col == st->ncol) {
            d->why = "more values than the #Fields directive names";
            return KZ_EFORMAT;
        }
        size_t len = (size_t)(p - s);
        *p = 0; /* cut in place; the separator lies after the value */
        if (p < end) p++;
        uint32_t k = col++;
        if (!len || (len == 1 && *s == '-')) continue;
        uint8_t kind = KZ_VK_STRING;
        switch (st->role[k]) {
        case R_DATE:
            date = s;
            break;
        case R_TIME:
            time = s;
            break;
        case R_CIP:
            ev->ent.src_ip = s;
            break;
        case R_USER:
            ev->ent.user = s;
            break;
        case R_HOST:
            ev->host = s;
            break;
        case R_STATUS:
            if (all_digits(s, len)) kind = KZ_VK_INT, status = s;
            break;
        case R_BYTES:
            if (all_digits(s, len)) {
                kind = KZ_VK_INT;
                int64_t b = 0;
                for (size_t i = 0; i < len; i++)
                    b = b * 10 + (s[i] - '0');
                ev->ent.bytes = b;
            }
            break;
        case R_NUMBER:
            if (all_digits(s, len)) kind = KZ_VK_INT;
            break;
        }
        kz_text_field_ref(d, st->id[k], KZ_SEC_EVENTDATA, kind, s, len);
    }
    if (col != st->ncol) {
        d->why = "fewer values than the #Fields directive names";
        return KZ_EFORMAT;
    }
    if (date && time) {
        /* "2026-03-02" + "07:52:29" (UTC): joined for the RFC 3339 parser */
        char when[64];
        int w = snprintf(when, sizeof when, "%s %s", date, time);
        if (w <= 0 || (size_t)w >= sizeof when || kz_time_parse(when, (size_t)w, &ev->ts)) {
            d->why = "bad date or time";
            return KZ_EFORMAT;
        }
    }
    if (status) {
        long v = 0;
        for (const char *q = status; *q; q++)
            v = v * 10 + (*q - '0');
        ev->ent.outcome = v < 400;
    }
    ev->channel = "webserver";
    ev->provider = "w3c";
    return 0;
}
