/* syslog.c - RFC 3164 / RFC 5424 syslog lines -> events; see syslog.h.
 *
 * The header is read in place; the message is copied once into the arena, and the recognisers
 * (sshd, sudo, su) cut their fields out of further copies, so the `message` field stays whole for
 * keyword rules. Sysmon for Linux and Samba messages go to their own decoders. */
#include "syslog.h"

#include "linux_sysmon.h"
#include "samba_audit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct head {
    int pri; /* -1 when absent */
    int version;
    kz_time ts;
    const char *host, *app, *procid, *msgid, *sd, *msg;
    size_t host_len, app_len, procid_len, msgid_len, sd_len, msg_len;
};

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int month_of(const char *p) {
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++)
        if (!memcmp(p, names + 3 * m, 3)) return m + 1;
    return 0;
}

int kz_syslog_year(kz_time ref, unsigned month, unsigned day) {
    int64_t secs = ref ? ref / KZ_TICKS_PER_SEC : (int64_t)time(NULL);
    int64_t y;
    unsigned m, dd;
    kz_civil_from_days(secs / 86400 - (secs % 86400 < 0), &y, &m, &dd);
    /* A day up to one day after the reference is this year (time zones); later, last year. */
    int64_t ref_day = kz_days_from_civil(y, m, dd);
    if (kz_days_from_civil(y, month, day) > ref_day + 1) y--;
    return (int)y;
}

/* `Mmm dd hh:mm:ss` (day space- or zero-padded) at p; returns its length or 0. */
static size_t bsd_time(const char *p, const char *end, kz_time ref, kz_time *ts) {
    if (end - p < 15) return 0;
    int mon = month_of(p);
    if (!mon || p[3] != ' ') return 0;
    const char *q = p + 4;
    unsigned day = 0;
    if (*q == ' ') q++;
    int k = 0;
    while (q < end && is_digit(*q) && k < 2)
        day = day * 10 + (unsigned)(*q++ - '0'), k++;
    if (!k || !day || day > 31 || end - q < 9 || *q != ' ') return 0;
    q++;
    if (!is_digit(q[0]) || !is_digit(q[1]) || q[2] != ':' || !is_digit(q[3]) || !is_digit(q[4]) ||
        q[5] != ':' || !is_digit(q[6]) || !is_digit(q[7]))
        return 0;
    unsigned hh = (unsigned)((q[0] - '0') * 10 + q[1] - '0');
    unsigned mm = (unsigned)((q[3] - '0') * 10 + q[4] - '0');
    unsigned ss = (unsigned)((q[6] - '0') * 10 + q[7] - '0');
    if (hh > 23 || mm > 59 || ss > 60) return 0;
    q += 8;
    if (ts) {
        int y = kz_syslog_year(ref, (unsigned)mon, day);
        int64_t days = kz_days_from_civil(y, (unsigned)mon, day);
        *ts = ((kz_time)days * 86400 + hh * 3600 + mm * 60 + ss) * KZ_TICKS_PER_SEC;
    }
    return (size_t)(q - p);
}

static const char *token_end(const char *p, const char *end) {
    while (p < end && *p != ' ')
        p++;
    return p;
}

/* An RFC 3339 time token (rsyslog's file format, RFC 5424): needs a date, `T` and a time. */
static int iso_time(const char *p, size_t n, kz_time *ts) {
    if (n < 19 || n > 40 || !is_digit(p[0]) || p[4] != '-' || p[10] != 'T') return 0;
    kz_time t;
    if (kz_time_parse(p, n, &t)) return 0;
    if (ts) *ts = t;
    return 1;
}

/* The BSD tag (`prog[pid]:` or `prog:`) and message after the host. */
static void bsd_tag(const char *p, const char *end, struct head *h) {
    const char *q = p;
    while (q < end && q - p < 128 && *q != ':' && *q != '[' && *q != ' ')
        q++;
    if (q < end && q > p && (*q == ':' || *q == '[')) {
        h->app = p;
        h->app_len = (size_t)(q - p);
        if (*q == '[') {
            const char *pid = q + 1, *r = pid;
            while (r < end && r - pid < 32 && *r != ']')
                r++;
            if (r < end && *r == ']') {
                h->procid = pid;
                h->procid_len = (size_t)(r - pid);
                q = r + 1;
            }
        }
        if (q < end && *q == ':') {
            q++;
            while (q < end && *q == ' ') /* sudo pads its message with spaces */
                q++;
            p = q;
        } else {
            h->app = h->procid = NULL; /* not a tag after all: the whole rest is the message */
            h->app_len = h->procid_len = 0;
        }
    }
    h->msg = p;
    h->msg_len = (size_t)(end - p);
}

/* RFC 5424 structured data: `-` or one or more [ID param="value" ...] (\" \\ \] escapes). */
static const char *sd_end(const char *p, const char *end) {
    if (p < end && *p == '-') return p + 1;
    if (p >= end || *p != '[') return NULL;
    while (p < end && *p == '[') {
        int quoted = 0;
        p++;
        for (; p < end; p++) {
            if (quoted && *p == '\\' && p + 1 < end)
                p++;
            else if (*p == '"')
                quoted = !quoted;
            else if (!quoted && *p == ']')
                break;
        }
        if (p >= end) return NULL;
        p++;
    }
    return p;
}

static int nil(const char *p, size_t n) {
    return n == 1 && *p == '-';
}

static int parse_head(const char *p, size_t n, kz_time ref, kz_time *ts, struct head *h) {
    const char *end = p + n;
    memset(h, 0, sizeof *h);
    h->pri = -1;
    if (n && *p == '<') {
        const char *q = p + 1;
        int v = 0;
        while (q < end && is_digit(*q) && q - p <= 3)
            v = v * 10 + (*q++ - '0');
        if (q >= end || *q != '>' || q == p + 1 || v > 191) return -1;
        h->pri = v;
        p = q + 1;
    }
    if (h->pri >= 0 && end - p >= 2 && p[0] == '1' && p[1] == ' ') {
        /* RFC 5424 */
        h->version = 1;
        p += 2;
        const char *f[5];
        size_t fl[5];
        for (int i = 0; i < 5; i++) {
            const char *e = token_end(p, end);
            if (e == p || e >= end) return -1;
            f[i] = p;
            fl[i] = (size_t)(e - p);
            p = e + 1;
        }
        if (!nil(f[0], fl[0]) && !iso_time(f[0], fl[0], ts)) return -1;
        if (!nil(f[1], fl[1])) h->host = f[1], h->host_len = fl[1];
        if (!nil(f[2], fl[2])) h->app = f[2], h->app_len = fl[2];
        if (!nil(f[3], fl[3])) h->procid = f[3], h->procid_len = fl[3];
        if (!nil(f[4], fl[4])) h->msgid = f[4], h->msgid_len = fl[4];
        const char *e = sd_end(p, end);
        if (!e) return -1;
        if (!nil(p, (size_t)(e - p))) h->sd = p, h->sd_len = (size_t)(e - p);
        p = e;
        if (p < end && *p != ' ') return -1;
        if (p < end) p++;
        if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* the BOM of a UTF-8 MSG */
        h->msg = p;
        h->msg_len = (size_t)(end - p);
        return 0;
    }
    size_t tl = bsd_time(p, end, ref, ts);
    if (!tl) {
        const char *e = token_end(p, end);
        if (!iso_time(p, (size_t)(e - p), ts)) return -1;
        tl = (size_t)(e - p);
    }
    p += tl;
    if (p >= end || *p != ' ') return -1;
    p++;
    const char *e = token_end(p, end);
    if (e == p) return -1;
    h->host = p;
    h->host_len = (size_t)(e - p);
    p = e < end ? e + 1 : e;
    bsd_tag(p, end, h);
    return 0;
}

int kz_syslog_sniff(const char *line, size_t n) {
    struct head h;
    /* A line with a time and a host but no tag is syslog too, yet so is much else: sniffing
     * wants a tag (prog: or prog[pid]:) or the RFC 5424 form. */
    return parse_head(line, n, 0, NULL, &h) == 0 && (h.version == 1 || h.app);
}

/* ---- recognisers: they read a NUL-terminated copy of the message ---- */

static const char *after(const char *s, const char *prefix) {
    size_t k = strlen(prefix);
    return strncmp(s, prefix, k) ? NULL : s + k;
}

static void put(struct kz_text_decoder *d, const char *name, const char *v, size_t n) {
    kz_text_field(d, kz_text_name(d, name, strlen(name)), KZ_SEC_EVENTDATA, KZ_VK_STRING, v, n);
}

/* The value of the field just added (the arena copy). */
static const char *last(struct kz_text_decoder *d) {
    return d->nfields ? d->fields[d->nfields - 1].val : NULL;
}

/* sshd: "Accepted publickey for alice from 198.51.100.7 port 50522 ssh2: ..." and friends. */
static void sshd(struct kz_text_decoder *d, const char *m) {
    struct kz_entities *e = &d->event.ent;
    const char *p;
    int ok;
    if ((p = after(m, "Accepted ")))
        ok = 1;
    else if ((p = after(m, "Failed ")))
        ok = 0;
    else if ((p = after(m, "Invalid user ")))
        ok = -1;
    else
        return;
    if (ok >= 0) {
        const char *sp = strchr(p, ' ');
        if (!sp || strncmp(sp, " for ", 5)) return;
        put(d, "auth_method", p, (size_t)(sp - p));
        p = sp + 5;
        const char *iv = after(p, "invalid user ");
        if (iv) p = iv;
    }
    /* The user name ends at the last " from " (a name may hold spaces: it is the client's). */
    const char *from = NULL;
    for (const char *q = strstr(p, " from "); q; q = strstr(q + 1, " from "))
        from = q;
    if (!from) return;
    put(d, "user", p, (size_t)(from - p));
    e->user = last(d);
    const char *ip = from + 6, *ipe = ip;
    while (*ipe && *ipe != ' ')
        ipe++;
    put(d, "source_ip", ip, (size_t)(ipe - ip));
    e->src_ip = last(d);
    const char *port = after(ipe, " port ");
    if (port) {
        const char *pe = port;
        while (is_digit(*pe))
            pe++;
        if (pe > port) put(d, "source_port", port, (size_t)(pe - port));
    }
    e->outcome = ok == 1;
    const char *word = ok == 1 ? "success" : "failure";
    put(d, "outcome", word, strlen(word));
}

/* sudo: "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id". */
static void sudo(struct kz_text_decoder *d, const char *m) {
    struct kz_entities *e = &d->event.ent;
    while (*m == ' ')
        m++;
    const char *sep = strstr(m, " : ");
    if (!sep || sep == m || memchr(m, ' ', (size_t)(sep - m))) return;
    put(d, "user", m, (size_t)(sep - m));
    e->user = last(d);
    int failed = 0, command = 0;
    const char *p = sep + 3;
    while (*p) {
        const char *q = strstr(p, " ; ");
        /* COMMAND is last and may itself hold " ; " */
        if (!strncmp(p, "COMMAND=", 8)) q = NULL;
        size_t n = q ? (size_t)(q - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        static const struct {
            const char *key, *name;
        } keys[] = {{"TTY", "tty"},
                    {"PWD", "pwd"},
                    {"USER", "target_user"},
                    {"COMMAND", "command"},
                    {"GROUP", "target_group"}};
        int known = 0;
        for (size_t k = 0; eq && k < sizeof keys / sizeof *keys; k++) {
            if ((size_t)(eq - p) == strlen(keys[k].key) &&
                !memcmp(p, keys[k].key, (size_t)(eq - p))) {
                put(d, keys[k].name, eq + 1, n - (size_t)(eq - p) - 1);
                if (k == 3) e->command_line = last(d), command = 1;
                known = 1;
            }
        }
        if (!known && !eq) { /* "3 incorrect password attempts", "user NOT in sudoers" */
            put(d, "reason", p, n);
            failed = 1;
        }
        if (!q) break;
        p = q + 3;
    }
    if (command || failed) e->outcome = !failed;
}

/* su: PAM's session line, and su's own failure line. */
static void su(struct kz_text_decoder *d, const char *m) {
    struct kz_entities *e = &d->event.ent;
    const char *p = strstr(m, "session opened for user ");
    if (p && (!strncmp(m, "pam_unix(su:", 12) || !strncmp(m, "pam_unix(su-l:", 14))) {
        p += 24;
        size_t n = strcspn(p, " (");
        put(d, "target_user", p, n);
        const char *by = strstr(p + n, " by ");
        if (by) {
            by += 4;
            size_t k = strcspn(by, " (");
            if (k) {
                put(d, "user", by, k);
                e->user = last(d);
            }
        }
        e->outcome = 1;
        return;
    }
    if ((p = after(m, "FAILED SU (to "))) {
        size_t n = strcspn(p, ")");
        put(d, "target_user", p, n);
        if (p[n] == ')' && p[n + 1] == ' ') {
            const char *u = p + n + 2;
            size_t k = strcspn(u, " ");
            put(d, "user", u, k);
            e->user = last(d);
        }
        e->outcome = 0;
    }
}

static int prog_is(const struct head *h, const char *name) {
    return h->app && h->app_len == strlen(name) && !memcmp(h->app, name, h->app_len);
}

int kz_syslog_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    struct kz_event *ev = &d->event;
    struct head h;
    if (parse_head(line, n, d->ref_time, &ev->ts, &h)) {
        d->why = "not a syslog line (RFC 3164 or 5424 header)";
        return KZ_EFORMAT;
    }
    char num[8];
    if (h.pri >= 0) {
        int k = snprintf(num, sizeof num, "%d", h.pri >> 3);
        kz_text_field(d, kz_text_name(d, "facility", 8), KZ_SEC_EVENTDATA, KZ_VK_INT, num,
                      (size_t)k);
        k = snprintf(num, sizeof num, "%d", h.pri & 7);
        kz_text_field(d, kz_text_name(d, "severity", 8), KZ_SEC_EVENTDATA, KZ_VK_INT, num,
                      (size_t)k);
    }
    if (h.host) {
        put(d, "hostname", h.host, h.host_len);
        ev->host = last(d);
    }
    if (h.app) {
        put(d, "program", h.app, h.app_len);
        ev->provider = last(d);
    }
    if (h.procid) put(d, "pid", h.procid, h.procid_len);
    if (h.msgid) put(d, "msgid", h.msgid, h.msgid_len);
    if (h.sd) put(d, "structured_data", h.sd, h.sd_len);
    put(d, "message", h.msg, h.msg_len);
    const char *msg = last(d);
    ev->channel = "syslog";
    ev->ent.target_host = ev->host;
    if (!msg) return 0;
    /* Sysmon for Linux writes its events as XML documents in the message. */
    const char *x = msg;
    while (*x == ' ')
        x++;
    if (!strncmp(x, "<Event>", 7) || !strncmp(x, "<Event ", 7)) {
        /* the document is the event: linux_sysmon.c drops the syslog header's fields */
        int rc = kz_linux_sysmon_parse(d, x, h.msg_len - (size_t)(x - msg));
        if (rc) return rc;
        return 0;
    }
    if (prog_is(&h, "smbd_audit") || prog_is(&h, "smbd")) {
        if (kz_samba_audit_parse(d, msg) == 0) return 0;
    }
    if (prog_is(&h, "sshd"))
        sshd(d, msg);
    else if (prog_is(&h, "sudo"))
        sudo(d, msg);
    else if (prog_is(&h, "su"))
        su(d, msg);
    return 0;
}
