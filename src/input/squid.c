/* squid.c - Squid native access.log lines -> events; see squid.h.
 *
 * As accesslog.c: the line is copied once into the arena and cut in place. The URL's parts
 * (host, path, query, extension) are cut from a second copy of the URL, since c-uri keeps it
 * whole. */
#include "squid.h"

#include "../core/intern.h"

#include <string.h>

enum {
    F_CIP,
    F_ELAPSED,
    F_ACTION,
    F_STATUS,
    F_BYTES,
    F_METHOD,
    F_URI,
    F_HOST,
    F_RDNS,
    F_STEM,
    F_QUERY,
    F_EXT,
    F_USER,
    F_HIER,
    F_RIP,
    F_TYPE,
    F_UA,
    NF
};
static const char *const names[NF] = {
    "c-ip",       "time-taken",  "s-action",        "sc-status",   "sc-bytes",     "cs-method",
    "c-uri",      "cs-host",     "r-dns",           "c-uri-stem",  "c-uri-query",  "c-uri-extension",
    "cs-username", "s-hierarchy", "r-ip",           "rs-content-type", "c-useragent",
};
static uint32_t ids[NF];
static int names_ready; /* kz_text_intern_names */

#define NTOK 10

struct tok {
    char *s;
    size_t n;
};

static int digits(const char *s, size_t n) {
    if (!n || n > 18) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Splits p[0..n) at runs of spaces into up to NTOK tokens; *rest is what follows the last one. */
static int split(const char *p, size_t n, struct tok *t, const char **rest) {
    const char *end = p + n;
    int k = 0;
    while (k < NTOK) {
        while (p < end && *p == ' ')
            p++;
        if (p == end) break;
        const char *s = p;
        while (p < end && *p != ' ')
            p++;
        t[k].s = (char *)s;
        t[k].n = (size_t)(p - s);
        k++;
    }
    *rest = p;
    return k;
}

/* TIME.MS, ACTION/CODE: the two columns that tell a Squid line from other text. */
static int head_ok(const struct tok *t, int k) {
    if (k < 4) return 0;
    const char *dot = memchr(t[0].s, '.', t[0].n);
    if (!dot || !digits(t[0].s, (size_t)(dot - t[0].s)) ||
        !digits(dot + 1, t[0].n - (size_t)(dot - t[0].s) - 1) || !digits(t[1].s, t[1].n))
        return 0;
    const char *slash = memchr(t[3].s, '/', t[3].n);
    if (!slash || slash == t[3].s || t[3].s + t[3].n - slash != 4 || !digits(slash + 1, 3))
        return 0;
    for (const char *q = t[3].s; q < slash; q++)
        if (!((*q >= 'A' && *q <= 'Z') || *q == '_')) return 0;
    return 1;
}

int kz_squid_sniff(const char *line, size_t n) {
    struct tok t[NTOK];
    const char *rest;
    int k = split(line, n, t, &rest);
    return k == NTOK && head_ok(t, k);
}

static void set(struct kz_text_decoder *d, int f, char *s, size_t n, uint8_t kind) {
    s[n] = 0;
    kz_text_field_ref(d, ids[f], KZ_SEC_EVENTDATA, kind, s, n);
}

static int absent(const struct tok *t) {
    return t->n == 1 && t->s[0] == '-';
}

/* host, path, query and extension of the URL (a copy, cut in place). */
static void url_parts(struct kz_text_decoder *d, const char *url, size_t n, int connect) {
    char *u = kz_arena_strndup(&d->arena, url, n);
    if (!u) return;
    char *end = u + n, *host = u;
    char *scheme = strstr(u, "://");
    if (scheme) host = scheme + 3;
    else if (!connect) return; /* "error:invalid-request" and the like: no URL to take apart */
    char *path = host;
    while (path < end && *path != '/' && *path != '?')
        path++;
    char *host_end = path;
    char *at = memchr(host, '@', (size_t)(host_end - host)); /* user:password@host */
    if (at) host = at + 1;
    char *colon = NULL;
    if (host < host_end && *host == '[') { /* [IPv6]:port */
        char *rb = memchr(host, ']', (size_t)(host_end - host));
        if (rb) colon = rb + 1 < host_end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(host, ':', (size_t)(host_end - host));
    }
    size_t hlen = (size_t)((colon ? colon : host_end) - host);
    char *query = memchr(path, '?', (size_t)(end - path));
    char *path_end = query ? query : end;
    /* the extension: after the last dot of the last path segment */
    char *ext = NULL;
    for (char *q = path_end; q > path && q[-1] != '/'; q--)
        if (q[-1] == '.') {
            ext = q;
            break;
        }
    size_t ext_len = ext ? (size_t)(path_end - ext) : 0;
    if (query) set(d, F_QUERY, query + 1, (size_t)(end - query - 1), KZ_VK_STRING);
    if (ext_len) {
        /* ext lies inside the stem: give it its own copy */
        kz_text_field(d, ids[F_EXT], KZ_SEC_EVENTDATA, KZ_VK_STRING, ext, ext_len);
    }
    if (path < path_end) {
        char *stem = kz_arena_strndup(&d->arena, path, (size_t)(path_end - path));
        if (stem) kz_text_field_ref(d, ids[F_STEM], KZ_SEC_EVENTDATA, KZ_VK_STRING, stem,
                                    (size_t)(path_end - path));
    }
    if (hlen) {
        host[hlen] = 0;
        kz_text_field_ref(d, ids[F_HOST], KZ_SEC_EVENTDATA, KZ_VK_STRING, host, hlen);
        kz_text_field_ref(d, ids[F_RDNS], KZ_SEC_EVENTDATA, KZ_VK_STRING, host, hlen);
    }
}

int kz_squid_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    kz_text_intern_names(names, ids, NF, &names_ready);
    struct kz_event *ev = &d->event;
    char *c = kz_arena_strndup(&d->arena, line, n);
    if (!c) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    struct tok t[NTOK];
    const char *rest;
    int k = split(c, n, t, &rest);
    if (k != NTOK || !head_ok(t, k) || !digits(t[4].s, t[4].n)) {
        d->why = "not a Squid access.log line (TIME ELAPSED CLIENT ACTION/CODE SIZE METHOD URL "
                 "IDENT HIERARCHY/PEER TYPE)";
        return KZ_EFORMAT;
    }
    /* time: seconds.milliseconds */
    const char *dot = memchr(t[0].s, '.', t[0].n);
    int64_t secs = 0, frac = 0;
    size_t slen = (size_t)(dot - t[0].s), flen = t[0].n - slen - 1;
    for (size_t i = 0; i < slen; i++)
        secs = secs * 10 + (t[0].s[i] - '0');
    int fd = 0;
    for (size_t i = 0; i < flen && fd < 7; i++, fd++)
        frac = frac * 10 + (dot[1 + i] - '0');
    for (; fd < 7; fd++)
        frac *= 10;
    if (secs > 253402300799) { /* after 9999-12-31: not a time Squid wrote */
        d->why = "time stamp out of range";
        return KZ_EFORMAT;
    }
    ev->ts = secs * KZ_TICKS_PER_SEC + frac;

    /* the optional quoted User-Agent after the ten columns */
    char *ua = NULL;
    size_t ua_len = 0;
    const char *q = rest;
    while (q < c + n && *q == ' ')
        q++;
    if (q < c + n && *q == '"') {
        const char *e = memchr(q + 1, '"', (size_t)(c + n - q - 1));
        if (e) ua = (char *)q + 1, ua_len = (size_t)(e - q - 1);
    }

    char *slash = memchr(t[3].s, '/', t[3].n);
    size_t action_len = (size_t)(slash - t[3].s);
    int status = (slash[1] - '0') * 100 + (slash[2] - '0') * 10 + (slash[3] - '0');
    int connect = t[5].n == 7 && !memcmp(t[5].s, "CONNECT", 7);
    url_parts(d, t[6].s, t[6].n, connect);
    set(d, F_CIP, t[2].s, t[2].n, KZ_VK_STRING);
    set(d, F_ELAPSED, t[1].s, t[1].n, KZ_VK_INT);
    set(d, F_ACTION, t[3].s, action_len, KZ_VK_STRING);
    set(d, F_STATUS, slash + 1, 3, KZ_VK_INT);
    set(d, F_BYTES, t[4].s, t[4].n, KZ_VK_INT);
    set(d, F_METHOD, t[5].s, t[5].n, KZ_VK_STRING);
    set(d, F_URI, t[6].s, t[6].n, KZ_VK_STRING);
    if (!absent(&t[7])) set(d, F_USER, t[7].s, t[7].n, KZ_VK_STRING);
    char *peer = memchr(t[8].s, '/', t[8].n);
    if (peer) {
        size_t plen = t[8].n - (size_t)(peer - t[8].s) - 1;
        if (plen && !(plen == 1 && peer[1] == '-')) set(d, F_RIP, peer + 1, plen, KZ_VK_STRING);
        set(d, F_HIER, t[8].s, (size_t)(peer - t[8].s), KZ_VK_STRING);
    } else if (!absent(&t[8])) {
        set(d, F_HIER, t[8].s, t[8].n, KZ_VK_STRING);
    }
    if (!absent(&t[9])) set(d, F_TYPE, t[9].s, t[9].n, KZ_VK_STRING);
    if (ua && ua_len && !(ua_len == 1 && *ua == '-')) set(d, F_UA, ua, ua_len, KZ_VK_STRING);

    ev->channel = "proxy";
    ev->provider = "squid";
    ev->ent.src_ip = t[2].s;
    if (!absent(&t[7])) ev->ent.user = t[7].s;
    int64_t b = 0;
    for (size_t i = 0; i < t[4].n; i++)
        b = b * 10 + (t[4].s[i] - '0');
    ev->ent.bytes = b;
    ev->ent.outcome = status != 0 && status < 400 && memcmp(t[3].s, "TCP_DENIED", 10 < action_len ? 10 : action_len) != 0;
    return 0;
}
