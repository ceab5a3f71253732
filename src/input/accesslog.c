/* accesslog.c - NCSA common/combined access log lines -> events; see accesslog.h.
 *
 * The line is copied once into the decoder's arena and cut in place (separators become NULs), so
 * every field is a reference into that copy: one allocation per line, whatever the field count. */
#include "accesslog.h"

#include "../core/intern.h"
#include "../core/timeutil.h"

#include <string.h>

enum {
    F_CIP,
    F_USER,
    F_METHOD,
    F_STEM,
    F_QUERY,
    F_VERSION,
    F_STATUS,
    F_BYTES,
    F_REFERER,
    F_UA,
    F_REQUEST,
    NF
};
static const char *const names[NF] = {
    "c-ip",      "cs-username", "cs-method",  "cs-uri-stem",   "cs-uri-query", "cs-version",
    "sc-status", "sc-bytes",    "cs-referer", "cs-user-agent", "cs-request",
};
static uint32_t ids[NF];
static int names_ready; /* kz_text_intern_names */

static int month_of(const char *m) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (m[0] == months[3 * i] && m[1] == months[3 * i + 1] && m[2] == months[3 * i + 2])
            return i + 1;
    return 0;
}

static int digits(const char *p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* "dd/Mon/yyyy:HH:MM:SS +hhmm" (26 bytes) -> time. */
static int parse_clf_time(const char *p, size_t n, kz_time *out) {
    int d, y, hh, mm, ss, oh, om, mo;
    if (n != 26 || p[2] != '/' || p[6] != '/' || p[11] != ':' || p[14] != ':' || p[17] != ':' ||
        p[20] != ' ' || (p[21] != '+' && p[21] != '-'))
        return -1;
    if (digits(p, 2, &d) || !(mo = month_of(p + 3)) || digits(p + 7, 4, &y) ||
        digits(p + 12, 2, &hh) || digits(p + 15, 2, &mm) || digits(p + 18, 2, &ss) ||
        digits(p + 22, 2, &oh) || digits(p + 24, 2, &om))
        return -1;
    if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || oh > 23 || om > 59) return -1;
    int64_t off = (oh * 3600 + om * 60) * (p[21] == '-' ? -1 : 1);
    int64_t secs =
        kz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mm * 60 + ss - off;
    *out = secs * KZ_TICKS_PER_SEC;
    return 0;
}

/* A token up to the next space; returns its end. */
static const char *token(const char *p, const char *end) {
    while (p < end && *p != ' ')
        p++;
    return p;
}

/* The end of a quoted string starting after its opening quote: the next `"` not escaped by a
 * backslash (Apache writes \", nginx \x22), or NULL. */
static const char *quoted_end(const char *p, const char *end) {
    while (p < end) {
        if (*p == '\\' && p + 1 < end)
            p += 2;
        else if (*p == '"')
            return p;
        else
            p++;
    }
    return NULL;
}

int kz_accesslog_sniff(const char *line, size_t n) {
    const char *p = line, *end = line + n, *t;
    for (int i = 0; i < 3; i++) { /* host, ident, user */
        t = token(p, end);
        if (t == p || t >= end) return 0;
        p = t + 1;
    }
    if (end - p < 30 || *p != '[' || p[27] != ']' || p[28] != ' ' || p[29] != '"') return 0;
    kz_time ts;
    return parse_clf_time(p + 1, 26, &ts) == 0;
}

static void set(struct kz_text_decoder *d, int f, char *s, size_t n, uint8_t kind) {
    s[n] = 0;
    kz_text_field_ref(d, ids[f], KZ_SEC_EVENTDATA, kind, s, n);
}

static int all_digits(const char *s, size_t n) {
    if (!n || n > 18) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int kz_accesslog_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    kz_text_intern_names(names, ids, NF, &names_ready);
    struct kz_event *ev = &d->event;
    char *c = kz_arena_strndup(&d->arena, line, n);
    if (!c) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    char *p = c, *end = c + n, *t;
    char *host = p;
    if ((t = (char *)token(p, end)) == p || t >= end) goto bad;
    size_t host_len = (size_t)(t - p);
    p = t + 1;
    if ((t = (char *)token(p, end)) == p || t >= end) goto bad; /* ident: not kept */
    p = t + 1;
    char *user = p;
    if ((t = (char *)token(p, end)) == p || t >= end) goto bad;
    size_t user_len = (size_t)(t - p);
    p = t + 1;
    if (end - p < 30 || *p != '[' || p[27] != ']' || p[28] != ' ' || p[29] != '"') goto bad;
    if (parse_clf_time(p + 1, 26, &ev->ts)) {
        d->why = "bad time stamp";
        return KZ_EFORMAT;
    }
    p += 30;
    char *req = p, *req_end = (char *)quoted_end(p, end);
    if (!req_end || req_end + 1 >= end || req_end[1] != ' ') goto bad;
    p = req_end + 2;
    char *status = p;
    t = (char *)token(p, end);
    size_t status_len = (size_t)(t - p);
    if (status_len != 3 || !all_digits(status, 3)) goto bad;
    if (t >= end) goto bad;
    p = t + 1;
    char *bytes = p;
    t = (char *)token(p, end);
    size_t bytes_len = (size_t)(t - p);
    if (!bytes_len || (!all_digits(bytes, bytes_len) && !(bytes_len == 1 && *bytes == '-')))
        goto bad;
    char *ref = NULL, *ua = NULL;
    size_t ref_len = 0, ua_len = 0;
    p = t;
    if (end - p >= 3 && p[0] == ' ' && p[1] == '"') {
        char *q = (char *)quoted_end(p + 2, end);
        if (q) {
            ref = p + 2, ref_len = (size_t)(q - ref);
            p = q + 1;
            if (end - p >= 3 && p[0] == ' ' && p[1] == '"' &&
                (q = (char *)quoted_end(p + 2, end))) {
                ua = p + 2, ua_len = (size_t)(q - ua);
            }
        }
    }

    /* Fields, cut in place (every separator written below lies after the field it ends). */
    set(d, F_CIP, host, host_len, KZ_VK_STRING);
    int has_user = !(user_len == 1 && *user == '-');
    if (has_user) set(d, F_USER, user, user_len, KZ_VK_STRING);
    size_t req_len = (size_t)(req_end - req);
    char *sp1 = memchr(req, ' ', req_len);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(req_end - sp1 - 1)) : NULL;
    if (sp1 && sp1 > req && sp1 + 1 < req_end &&
        (!sp2 || !memchr(sp2 + 1, ' ', (size_t)(req_end - sp2 - 1)))) {
        char *target = sp1 + 1, *target_end = sp2 ? sp2 : req_end;
        char *qm = memchr(target, '?', (size_t)(target_end - target));
        set(d, F_METHOD, req, (size_t)(sp1 - req), KZ_VK_STRING);
        if (qm) {
            set(d, F_STEM, target, (size_t)(qm - target), KZ_VK_STRING);
            set(d, F_QUERY, qm + 1, (size_t)(target_end - qm - 1), KZ_VK_STRING);
        } else {
            set(d, F_STEM, target, (size_t)(target_end - target), KZ_VK_STRING);
        }
        if (sp2)
            set(d, F_VERSION, sp2 + 1, (size_t)(req_end - sp2 - 1), KZ_VK_STRING);
        else
            *req_end = 0;
    } else {
        set(d, F_REQUEST, req, req_len, KZ_VK_STRING);
    }
    set(d, F_STATUS, status, 3, KZ_VK_INT);
    int has_bytes = bytes_len && *bytes != '-';
    if (has_bytes)
        set(d, F_BYTES, bytes, bytes_len, KZ_VK_INT);
    else
        bytes[bytes_len] = 0;
    if (ref && !(ref_len == 1 && *ref == '-')) set(d, F_REFERER, ref, ref_len, KZ_VK_STRING);
    if (ua && !(ua_len == 1 && *ua == '-')) set(d, F_UA, ua, ua_len, KZ_VK_STRING);

    ev->channel = "webserver";
    ev->provider = ref ? "combined" : "common";
    ev->ent.src_ip = host;
    if (has_user) ev->ent.user = user;
    int st = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
    ev->ent.outcome = st < 400;
    if (has_bytes) {
        int64_t b = 0;
        for (size_t i = 0; i < bytes_len; i++)
            b = b * 10 + (bytes[i] - '0');
        ev->ent.bytes = b;
    }
    return 0;
bad:
    d->why = "not an access log line (HOST IDENT USER [TIME] \"REQUEST\" STATUS BYTES)";
    return KZ_EFORMAT;
}
