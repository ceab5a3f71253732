/* ueba_state.c - saving the UEBA model to a file and loading it back (kz_ueba_save/_load).
 *
 * Why: an estate's logs arrive day after day; a run must be able to continue where the last one
 * stopped, with every profile, learned pair, risk and reason as they were, so that scanning the
 * days in two runs gives the findings of one run over all of them (tests/unit/test_ueba.c,
 * tests/e2e/ueba.sh).
 *
 * The file is written whole to a temporary name beside the target, flushed to disk and renamed
 * over it, so a crash leaves the old state or the new one, never half of one. It may have been
 * tampered with, so loading trusts nothing: a magic, a version, the byte order and the sizes of
 * the structures this build uses; every count is checked against the bytes that remain before
 * anything is allocated; every id a profile or reason holds must name an entity of the right kind;
 * risks must be finite and in range; a checksum over the whole file catches plain corruption. A
 * state that fails any check is refused as a whole (the run then starts from nothing, or stops:
 * the caller decides).
 *
 * Layout (host byte order, checked by a marker; fields in the order read below):
 *   header: magic "KZUEBAS\n", version, byte-order marker, sizeof user, host, anomaly block and
 *           edge slot; counts of names, users, hosts, anomaly blocks, edges; t0, newest time,
 *           started; records, alerts, over-cap counters
 *   names:  per id from 1: type (u8), length (u16), bytes. Raw text of past records is not kept:
 *           its id stays, as an empty placeholder, because learned pairs are keyed by ids.
 *   users:  struct ueba_user as in memory (with its peer group, and the address and time of its
 *           last located activity: the travel memory, given back to geoip.c on load)
 *   hosts:  struct ueba_host (display pointer zeroed), then its display name (u16 length, bytes)
 *   anomaly blocks, edge slots as in memory
 *   a 64-bit FNV-1a checksum of everything before it. */
#include "geoip.h"
#include "ueba_int.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STATE_MAGIC "KZUEBAS\n"
/* 2: Sigma and group evidence, SIDs, week hours; 3: peer groups, bytes volume, the travel memory
 * (each account's last located address and time); 4: return windows (a first-seen reason's v2 is
 * hours since the pair was last seen, no longer days, and its flags the window: a version 3
 * reason would be shown with the wrong gap) */
#define STATE_VERSION 4u
#define STATE_ORDER 0x01020304u
#define STATE_MAX_BYTES ((size_t)1 << 31) /* 2 GiB: far above any model within the caps */
#define STATE_NAME_MAX 1024               /* names are cut at 255, raw text at 1024 */
#define RISK_MAX 150                      /* add_risk never goes above it */

static uint64_t fnv64(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* ---- saving ---- */

static void put32(struct kz_buf *b, uint32_t v) {
    kz_buf_append(b, &v, 4);
}
static void put64(struct kz_buf *b, uint64_t v) {
    kz_buf_append(b, &v, 8);
}

/* Which names to write: every entity, and of the raw text only what profiles and reasons name
 * (accounts' display names); the rest becomes a placeholder. */
static uint8_t *names_kept(const struct kz_ueba *u) {
    uint8_t *keep = kz_calloc(u->nstr + 1, 1);
    if (!keep) return NULL;
    for (uint32_t id = 1; id < u->nstr; id++)
        keep[id] = u->type[id] != T_TEXT;
    for (uint32_t i = 0; i < u->nusers; i++)
        if (u->users[i].display < u->nstr) keep[u->users[i].display] = 1;
    for (uint32_t i = 0; i < u->nanoms; i++) {
        const struct ueba_anom *an = &u->anoms[i];
        for (int j = 0; j < UEBA_RING; j++) {
            const struct ueba_reason_rec *r[2] = {&an->ring[j], &an->peak[j]};
            for (int k = 0; k < 2; k++) {
                if (r[k]->a < u->nstr) keep[r[k]->a] = 1;
                if (r[k]->b < u->nstr) keep[r[k]->b] = 1;
                if (r[k]->host < u->nstr) keep[r[k]->host] = 1;
            }
        }
    }
    keep[0] = 0;
    return keep;
}

static int serialise(const struct kz_ueba *u, struct kz_buf *b) {
    uint8_t *keep = names_kept(u);
    if (!keep) return KZ_ENOMEM;
    kz_buf_append(b, STATE_MAGIC, 8);
    put32(b, STATE_VERSION);
    put32(b, STATE_ORDER);
    put32(b, (uint32_t)sizeof(struct ueba_user));
    put32(b, (uint32_t)sizeof(struct ueba_host));
    put32(b, (uint32_t)sizeof(struct ueba_anom));
    put32(b, (uint32_t)sizeof(struct ueba_edge_slot));
    put32(b, u->nstr ? u->nstr : 1);
    put32(b, u->nusers);
    put32(b, u->nhosts);
    put32(b, u->nanoms);
    put64(b, u->nedges);
    put64(b, (uint64_t)u->t0);
    put64(b, (uint64_t)u->last_ts);
    put64(b, (uint64_t)u->started);
    put64(b, u->records);
    put64(b, u->alerts);
    put64(b, u->over_cap);
    for (uint32_t id = 1; id < u->nstr; id++) {
        size_t n = keep[id] ? strlen(u->str[id]) : 0;
        if (n > STATE_NAME_MAX) n = STATE_NAME_MAX; /* never: names are cut before this */
        uint16_t len = (uint16_t)n;
        kz_buf_putc(b, (char)u->type[id]);
        kz_buf_append(b, &len, 2);
        if (n) kz_buf_append(b, u->str[id], n);
    }
    kz_free(keep);
    if (u->nusers) kz_buf_append(b, u->users, (size_t)u->nusers * sizeof *u->users);
    for (uint32_t i = 0; i < u->nhosts; i++) {
        struct ueba_host h = u->hosts[i];
        h.display = NULL;
        kz_buf_append(b, &h, sizeof h);
        size_t n = strnlen(u->hosts[i].display, STATE_NAME_MAX);
        uint16_t len = (uint16_t)n;
        kz_buf_append(b, &len, 2);
        kz_buf_append(b, u->hosts[i].display, n);
    }
    if (u->nanoms) kz_buf_append(b, u->anoms, (size_t)u->nanoms * sizeof *u->anoms);
    for (uint64_t i = 0; i < u->edge_cap; i++)
        if (u->edges[i].key) kz_buf_append(b, &u->edges[i], sizeof *u->edges);
    if (b->failed) return KZ_ELIMIT;
    put64(b, fnv64(b->data, b->len));
    return b->failed ? KZ_ELIMIT : 0;
}

int kz_ueba_save(const struct kz_ueba *u, const char *path, struct kz_err *err) {
    if (u->nkept)
        return kz_err_set(err, KZ_EUSAGE,
                          "%s: records are waiting to be scored; save after "
                          "kz_ueba_run",
                          path);
    struct kz_buf b;
    kz_buf_init(&b, STATE_MAX_BYTES);
    int rc = serialise(u, &b);
    if (rc) {
        kz_buf_free(&b);
        return kz_err_set(err, rc, "%s: the model does not fit in a state file (%s)", path,
                          kz_strerror(rc));
    }
    /* the temporary file beside the target, so that the rename stays on one file system */
    size_t plen = strlen(path);
    char *tmp = kz_malloc(plen + 32);
    if (!tmp) {
        kz_buf_free(&b);
        return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = kz_err_set(err, KZ_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < b.len;) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = kz_err_set(err, KZ_EIO, "%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd) != 0) rc = kz_err_set(err, KZ_EIO, "%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc) rc = kz_err_set(err, KZ_EIO, "%s: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        goto out;
    }
    /* the rename itself is durable only once the directory is flushed */
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dn = slash == path ? 1 : (size_t)(slash - path);
        memcpy(tmp, path, dn);
        tmp[dn] = 0;
    } else {
        memcpy(tmp, ".", 2);
    }
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
out:
    kz_free(tmp);
    kz_buf_free(&b);
    return rc;
}

/* ---- loading ---- */

struct rd {
    const unsigned char *p, *end;
};

static int take(struct rd *r, void *out, size_t n) {
    if ((size_t)(r->end - r->p) < n) return KZ_ECORRUPT;
    memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

static int risk_ok(const struct ueba_risk *r, uint32_t nanoms, uint8_t *anom_used) {
    if (!isfinite(r->risk) || !isfinite(r->alert_risk) || !isfinite(r->peak)) return 0;
    if (r->risk < 0 || r->risk > RISK_MAX || r->alert_risk < 0 || r->alert_risk > RISK_MAX ||
        r->peak < 0 || r->peak > RISK_MAX)
        return 0;
    if (r->anom > nanoms) return 0;
    if (r->anom) {
        if (anom_used[r->anom - 1]) return 0; /* two entities sharing one block */
        anom_used[r->anom - 1] = 1;
    }
    return 1;
}

static int id_ok(const struct kz_ueba *u, uint32_t id, int type) {
    return id == 0 || (id < u->nstr && (type == 0 || u->type[id] == type));
}

static int reason_ok(const struct kz_ueba *u, const struct ueba_reason_rec *r) {
    return id_ok(u, r->a, 0) && id_ok(u, r->b, 0) && id_ok(u, r->host, 0);
}

/* Fills the fresh engine u from the state in p[0..n). */
static int parse(struct kz_ueba *u, const unsigned char *p, size_t n, struct kz_err *err) {
    if (n < 8 + 8 || memcmp(p, STATE_MAGIC, 8))
        return kz_err_set(err, KZ_EFORMAT, "not a kizuki UEBA state file");
    uint64_t sum;
    memcpy(&sum, p + n - 8, 8);
    if (sum != fnv64(p, n - 8))
        return kz_err_set(err, KZ_ECORRUPT, "checksum mismatch (damaged or edited)");
    struct rd r = {p + 8, p + n - 8};
    uint32_t h32[10];
    uint64_t h64[7];
    if (take(&r, h32, sizeof h32) || take(&r, h64, sizeof h64))
        return kz_err_set(err, KZ_ECORRUPT, "truncated header");
    if (h32[0] != STATE_VERSION)
        return kz_err_set(err, KZ_EUNSUPP, "state version %u (this build reads %u%s)", h32[0],
                          STATE_VERSION,
                          h32[0] < STATE_VERSION
                              ? ": written by an older kizuki; rebuild it by scanning the logs "
                                "again without the state, or remove the file"
                              : ": written by a newer kizuki");
    if (h32[1] != STATE_ORDER || h32[2] != sizeof(struct ueba_user) ||
        h32[3] != sizeof(struct ueba_host) || h32[4] != sizeof(struct ueba_anom) ||
        h32[5] != sizeof(struct ueba_edge_slot))
        return kz_err_set(err, KZ_EUNSUPP, "state written by a build with another layout");
    uint32_t nstr = h32[6], nusers = h32[7], nhosts = h32[8], nanoms = h32[9];
    uint64_t nedges = h64[0];
    size_t left = (size_t)(r.end - r.p);
    /* every count against the bytes that remain, before anything is allocated */
    if (nstr == 0 || nstr > u->o.max_entities || (size_t)(nstr - 1) * 3 > left ||
        (size_t)nusers * sizeof(struct ueba_user) > left ||
        (size_t)nhosts * (sizeof(struct ueba_host) + 2) > left ||
        (size_t)nanoms * sizeof(struct ueba_anom) > left || nedges > u->o.max_edges ||
        nedges * sizeof(struct ueba_edge_slot) > left || nusers >= nstr || nhosts >= nstr ||
        nanoms > nusers + nhosts)
        return kz_err_set(err, KZ_ECORRUPT, "counts do not fit the file");
    kz_time t0 = (kz_time)h64[1], last = (kz_time)h64[2];
    const kz_time lim = (kz_time)1 << 61;
    if (t0 < -lim || t0 > lim || last < -lim || last > lim || h64[3] > 1)
        return kz_err_set(err, KZ_ECORRUPT, "times out of range");

    for (uint32_t id = 1; id < nstr; id++) {
        uint8_t type;
        uint16_t len;
        if (take(&r, &type, 1) || take(&r, &len, 2) || len > STATE_NAME_MAX ||
            (size_t)(r.end - r.p) < len)
            return kz_err_set(err, KZ_ECORRUPT, "name %u truncated", id);
        if (type < T_USER || type > T_TEXT || (len == 0 && type != T_TEXT) || memchr(r.p, 0, len))
            return kz_err_set(err, KZ_ECORRUPT, "name %u is invalid", id);
        uint32_t got = ueba_str_append(u, type, (const char *)r.p, len);
        if (got != id)
            return kz_err_set(err, got ? KZ_ECORRUPT : KZ_ENOMEM, "name %u: %s", id,
                              got ? "out of order" : "duplicate, over the cap or out of memory");
        r.p += len;
    }
    if (u->nstr == 0) u->nstr = 1;

    uint8_t *anom_used = kz_calloc((size_t)nanoms + 1, 1);
    if (!anom_used) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    int rc = 0;
    if (nusers) {
        u->users = kz_malloc((size_t)nusers * sizeof *u->users);
        if (!u->users) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        u->users_cap = nusers;
        take(&r, u->users, (size_t)nusers * sizeof *u->users); /* size checked above */
    }
    for (uint32_t i = 0; i < nusers; i++) {
        struct ueba_user *q = &u->users[i];
        if (!id_ok(u, q->name, T_USER) || !q->name || u->ent[q->name] || !id_ok(u, q->display, 0) ||
            !id_ok(u, q->creator, T_USER) || !id_ok(u, q->sid, T_SID) ||
            (q->sid && u->ent[q->sid]) || !risk_ok(&q->r, nanoms, anom_used) ||
            !id_ok(u, q->group, T_GROUP) || !id_ok(u, q->geo_ip, T_IP) ||
            q->geo_ts < -((kz_time)1 << 61) || q->geo_ts > ((kz_time)1 << 61)) {
            rc = kz_err_set(err, KZ_ECORRUPT, "account profile %u is invalid", i);
            goto out;
        }
        u->ent[q->name] = i + 1;
        if (q->sid) u->ent[q->sid] = i + 1; /* the SID -> account map (one owner per SID) */
        u->nusers = i + 1;
    }
    if (nhosts) {
        u->hosts = kz_malloc((size_t)nhosts * sizeof *u->hosts);
        if (!u->hosts) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        u->hosts_cap = nhosts;
    }
    for (uint32_t i = 0; i < nhosts; i++) {
        struct ueba_host *h = &u->hosts[i];
        uint16_t len;
        if (take(&r, h, sizeof *h) || take(&r, &len, 2) || len == 0 || len > STATE_NAME_MAX ||
            (size_t)(r.end - r.p) < len || memchr(r.p, 0, len)) {
            rc = kz_err_set(err, KZ_ECORRUPT, "host profile %u truncated", i);
            goto out;
        }
        h->display = kz_arena_strndup(&u->arena, (const char *)r.p, len);
        r.p += len;
        if (!h->display) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        if (!id_ok(u, h->name, T_HOST) || !h->name || u->ent[h->name] ||
            !risk_ok(&h->r, nanoms, anom_used)) {
            rc = kz_err_set(err, KZ_ECORRUPT, "host profile %u is invalid", i);
            goto out;
        }
        u->ent[h->name] = i + 1;
        u->nhosts = i + 1;
    }
    if (nanoms) {
        u->anoms = kz_malloc((size_t)nanoms * sizeof *u->anoms);
        if (!u->anoms || take(&r, u->anoms, (size_t)nanoms * sizeof *u->anoms)) {
            rc = kz_err_set(err, u->anoms ? KZ_ECORRUPT : KZ_ENOMEM, "anomaly blocks: %s",
                            u->anoms ? "truncated" : "out of memory");
            goto out;
        }
        u->anoms_cap = u->nanoms = nanoms;
    }
    for (uint32_t i = 0; i < nanoms; i++) {
        const struct ueba_anom *an = &u->anoms[i];
        int ok = an->n <= UEBA_RING && an->head < UEBA_RING && an->npeak <= UEBA_RING;
        for (int j = 0; ok && j < UEBA_RING; j++)
            ok = reason_ok(u, &an->ring[j]) && reason_ok(u, &an->peak[j]);
        if (!ok) {
            rc = kz_err_set(err, KZ_ECORRUPT, "anomaly block %u is invalid", i);
            goto out;
        }
    }
    if ((size_t)(r.end - r.p) != nedges * sizeof(struct ueba_edge_slot)) {
        rc = kz_err_set(err, KZ_ECORRUPT, "learned pairs do not fill the file");
        goto out;
    }
    uint64_t cap = 1 << 14;
    while (cap < (nedges + 1) * 2)
        cap *= 2;
    u->edges = kz_calloc(cap, sizeof *u->edges);
    if (!u->edges) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    u->edge_cap = cap;
    for (uint64_t i = 0; i < nedges; i++) {
        struct ueba_edge_slot e;
        take(&r, &e, sizeof e);
        uint64_t j = e.key & (cap - 1);
        while (u->edges[j].key && u->edges[j].key != e.key)
            j = (j + 1) & (cap - 1);
        if (!e.key || u->edges[j].key) {
            rc = kz_err_set(err, KZ_ECORRUPT, "learned pair %llu is invalid or repeated",
                            (unsigned long long)i);
            goto out;
        }
        u->edges[j] = e;
        u->nedges++;
    }
    u->t0 = t0;
    u->last_ts = last;
    u->started = (int)h64[3];
    u->records = h64[4];
    u->alerts = h64[5];
    u->over_cap = h64[6];
out:
    kz_free(anom_used);
    return rc;
}

/* Back to an empty engine (a refused state must leave nothing half-loaded). */
static void reset(struct kz_ueba *u) {
    struct kz_ueba_opts o = u->o;
    ueba_release(u);
    memset(u, 0, sizeof *u);
    u->o = o;
    kz_arena_init(&u->arena, 1 << 16, (size_t)1 << 30);
}

int kz_ueba_load_buffer(struct kz_ueba *u, const void *p, size_t n, struct kz_err *err) {
    if (u->started || u->nstr > 1 || u->nkept)
        return kz_err_set(err, KZ_EUSAGE, "a state loads into a fresh engine only");
    int rc = parse(u, p, n, err);
    if (rc) {
        reset(u);
        return rc;
    }
    /* the travel memory back into the GeoIP side table (--geoip): each account's last located
     * address and time, located again in this run's database */
    if (u->o.geoip)
        for (uint32_t i = 0; i < u->nusers; i++)
            if (u->users[i].geo_ip)
                kz_geoip_remember(u->o.geoip, u->users[i].name, u->users[i].geo_ts,
                                  u->str[u->users[i].geo_ip]);
    return 0;
}

int kz_ueba_load(struct kz_ueba *u, const char *path, struct kz_err *err) {
    struct kz_buf b;
    kz_buf_init(&b, STATE_MAX_BYTES);
    int rc = kz_buf_read_file(&b, path, "a state file can be", err);
    if (!rc) {
        rc = kz_ueba_load_buffer(u, b.data, b.len, err);
        if (rc) kz_err_prefix(err, "%s: ", path);
    }
    kz_buf_free(&b);
    return rc;
}
