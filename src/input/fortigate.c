/* fortigate.c - FortiOS key=value log lines -> events; see fortigate.h.
 *
 * Like accesslog.c, the line is copied once into the arena and cut in place: keys end at their
 * `=`, values at their closing quote or the next space. */
#include "fortigate.h"

#include "../core/intern.h"
#include "../core/timeutil.h"

#include <stdio.h>
#include <string.h>

/* The start of the key=value body: after an optional `<PRI>` and syslog header, at the first
 * `date=` that starts a token (FortiOS puts date first), else at the line start. */
static const char *body_start(const char *p, size_t n) {
    const char *end = p + n;
    if (n && *p == '<') {
        const char *q = p + 1;
        while (q < end && q - p <= 4 && *q >= '0' && *q <= '9')
            q++;
        if (q < end && *q == '>' && q > p + 1) p = q + 1;
    }
    size_t window = (size_t)(end - p) < 160 ? (size_t)(end - p) : 160;
    for (size_t i = 0; i + 5 <= window; i++)
        if ((i == 0 || p[i - 1] == ' ') && !memcmp(p + i, "date=", 5)) return p + i;
    return p;
}

static int has_key(const char *p, size_t n, const char *key) {
    size_t k = strlen(key);
    for (size_t i = 0; i + k <= n; i++)
        if ((i == 0 || p[i - 1] == ' ') && !memcmp(p + i, key, k)) return 1;
    return 0;
}

int kz_fortigate_sniff(const char *line, size_t n) {
    const char *b = body_start(line, n);
    size_t m = n - (size_t)(b - line);
    return (m >= 5 && !memcmp(b, "date=", 5) && has_key(b, m, "logid=")) ||
           (has_key(b, m, "logid=") && has_key(b, m, "devid=") && has_key(b, m, "type="));
}

static int key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int eq(const char *a, const char *b) {
    return a && !strcmp(a, b);
}

int kz_fortigate_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    struct kz_event *ev = &d->event;
    const char *b = body_start(line, n);
    size_t m = n - (size_t)(b - line);
    char *c = kz_arena_strndup(&d->arena, b, m);
    if (!c) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    char *p = c, *end = c + m;
    const char *date = NULL, *time = NULL, *tz = NULL, *eventtime = NULL, *logid = NULL;
    const char *user = NULL, *remip = NULL, *srcip = NULL, *devname = NULL, *action = NULL;
    const char *status = NULL, *sent = NULL, *rcvd = NULL;
    unsigned pairs = 0;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end) break;
        char *key = p;
        while (p < end && key_char(*p))
            p++;
        if (p == key || p >= end || *p != '=') {
            d->why = "not a FortiOS key=value log line";
            return KZ_EFORMAT;
        }
        size_t klen = (size_t)(p - key);
        *p++ = 0;
        char *val;
        size_t vlen;
        uint8_t kind = KZ_VK_STRING;
        if (p < end && *p == '"') {
            val = ++p;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end) p++;
                p++;
            }
            if (p >= end) {
                d->why = "unterminated quoted value";
                return KZ_EFORMAT;
            }
            vlen = (size_t)(p - val);
            *p++ = 0;
        } else {
            val = p;
            while (p < end && *p != ' ')
                p++;
            vlen = (size_t)(p - val);
            if (p < end) *p++ = 0;
            int num = vlen > 0 && vlen <= 19;
            for (size_t i = 0; num && i < vlen; i++)
                if (val[i] < '0' || val[i] > '9') num = 0;
            if (num) kind = KZ_VK_INT;
        }
        if (++pairs > KZ_FORTIGATE_MAX_PAIRS) continue;
        kz_text_field_ref(d, kz_text_name(d, key, klen), KZ_SEC_EVENTDATA, kind, val, vlen);
        switch (klen) { /* the pairs the header and entities come from */
        case 2:
            if (!memcmp(key, "tz", 2)) tz = val;
            break;
        case 4:
            if (!memcmp(key, "date", 4))
                date = val;
            else if (!memcmp(key, "time", 4))
                time = val;
            else if (!memcmp(key, "user", 4))
                user = val;
            break;
        case 5:
            if (!memcmp(key, "logid", 5))
                logid = val;
            else if (!memcmp(key, "remip", 5))
                remip = val;
            else if (!memcmp(key, "srcip", 5))
                srcip = val;
            break;
        case 6:
            if (!memcmp(key, "action", 6))
                action = val;
            else if (!memcmp(key, "status", 6))
                status = val;
            break;
        case 7:
            if (!memcmp(key, "devname", 7)) devname = val;
            break;
        case 8:
            if (!memcmp(key, "sentbyte", 8))
                sent = val;
            else if (!memcmp(key, "rcvdbyte", 8))
                rcvd = val;
            break;
        case 9:
            if (!memcmp(key, "eventtime", 9)) eventtime = val;
            break;
        }
    }
    if (!logid && !date) {
        d->why = "no logid or date: not a FortiOS log line";
        return KZ_EFORMAT;
    }
    /* Time: eventtime in whatever unit this FortiOS version writes, else date + time + tz. */
    uint64_t et;
    if (eventtime && !parse_u64(eventtime, &et) && et > 0) {
        if (et >= 100000000000000000ull)
            ev->ts = (kz_time)(et / 100); /* ns */
        else if (et >= 100000000000000ull)
            ev->ts = (kz_time)(et * 10); /* us */
        else if (et >= 100000000000ull)
            ev->ts = (kz_time)(et * 10000); /* ms */
        else
            ev->ts = (kz_time)et * KZ_TICKS_PER_SEC; /* s */
    } else if (date && time) {
        char text[64];
        int k = snprintf(text, sizeof text, "%sT%s%s", date, time,
                         tz && (tz[0] == '+' || tz[0] == '-') ? tz : "");
        if (k <= 0 || (size_t)k >= sizeof text || kz_time_parse(text, (size_t)k, &ev->ts)) {
            d->why = "bad date/time";
            return KZ_EFORMAT;
        }
    } else {
        d->why = "no time (eventtime, or date and time)";
        return KZ_EFORMAT;
    }
    if (logid) {
        size_t L = strlen(logid);
        const char *tail = L > 6 ? logid + L - 6 : logid;
        uint64_t id;
        if (!parse_u64(tail, &id)) ev->event_id = (uint32_t)id;
    }
    ev->channel = "fortigate";
    ev->provider = "FortiGate";
    ev->host = devname;
    struct kz_entities *e = &ev->ent;
    if (user && *user && strcmp(user, "N/A")) e->user = user;
    e->src_ip = remip && *remip ? remip : srcip;
    e->target_host = devname;
    uint64_t s = 0, r = 0;
    int hs = sent && !parse_u64(sent, &s), hr = rcvd && !parse_u64(rcvd, &r);
    if (hs || hr) e->bytes = (int64_t)(s + r);
    const char *what = action ? action : status;
    if (what) {
        if (strstr(what, "fail") || eq(what, "deny") || eq(what, "blocked"))
            e->outcome = 0;
        else if (eq(what, "tunnel-up") || eq(what, "ssl-login-success") || eq(what, "success") ||
                 eq(what, "tunnel-down") || eq(what, "ssl-exit"))
            e->outcome = 1;
    }
    return 0;
}
