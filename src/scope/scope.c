/* scope.c - the scope query (sessions held, hop by hop) and its aggregation; rendering is in
 * scope_render.c, the timeline in timeline.c. See scope.h for the rules. */
#include "scope.h"

#include "../core/alloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define TIME_MAX INT64_MAX

/* ---- small helpers ---- */

#define GROW(v, n, cap)                                                                        \
    ((n) < (cap) ? 0                                                                           \
                 : grow_array((void **)&(v), &(cap), sizeof *(v)))

static int grow_array(void **v, uint32_t *cap, size_t size) {
    uint32_t nc = *cap ? *cap * 2 : 64;
    void *nv = kz_realloc(*v, (size_t)nc * size);
    if (!nv) return KZ_ENOMEM;
    *v = nv;
    *cap = nc;
    return 0;
}

struct session {
    int64_t host, user, lid, ip, ws;
    int ltype;
    kz_time start, end;
    int expanded;
};

/* (host, lid) -> session index, open addressing */
struct held {
    uint64_t *keys; /* 0 empty */
    uint32_t *idx;
    uint32_t size, n;
};

static uint64_t skey(int64_t host, int64_t lid) {
    uint64_t k = ((uint64_t)host * 0x9E3779B97F4A7C15ull) ^ (uint64_t)lid;
    return k ? k : 1;
}

static int held_find(const struct held *h, int64_t host, int64_t lid, const struct session *sv) {
    if (!h->size) return -1;
    uint64_t k = skey(host, lid);
    for (uint32_t j = (uint32_t)(k >> 7) & (h->size - 1); h->keys[j];
         j = (j + 1) & (h->size - 1))
        if (h->keys[j] == k && sv[h->idx[j]].host == host && sv[h->idx[j]].lid == lid)
            return (int)h->idx[j];
    return -1;
}

static int held_put(struct held *h, int64_t host, int64_t lid, uint32_t index) {
    if ((h->n + 1) * 2 > h->size) {
        uint32_t ns = h->size ? h->size * 2 : 1024;
        uint64_t *nk = kz_calloc(ns, sizeof *nk);
        uint32_t *ni = kz_calloc(ns, sizeof *ni);
        if (!nk || !ni) {
            kz_free(nk);
            kz_free(ni);
            return KZ_ENOMEM;
        }
        for (uint32_t j = 0; j < h->size; j++) {
            if (!h->keys[j]) continue;
            uint32_t m = (uint32_t)(h->keys[j] >> 7) & (ns - 1);
            while (nk[m]) m = (m + 1) & (ns - 1);
            nk[m] = h->keys[j];
            ni[m] = h->idx[j];
        }
        kz_free(h->keys);
        kz_free(h->idx);
        h->keys = nk;
        h->idx = ni;
        h->size = ns;
    }
    uint64_t k = skey(host, lid);
    uint32_t j = (uint32_t)(k >> 7) & (h->size - 1);
    while (h->keys[j]) j = (j + 1) & (h->size - 1);
    h->keys[j] = k;
    h->idx[j] = index;
    h->n++;
    return 0;
}

struct ctx {
    struct kz_store *s;
    sqlite3 *db;
    const struct kz_scope_query *q;
    struct kz_scope_result *r;
    kz_time since, until;
    struct session *sv;
    uint32_t ns, scap;
    struct held held;
    int64_t subject_user; /* user mode */
    int64_t subject_ws;   /* host mode: the host's device key */
    int64_t *subject_hosts;
    uint32_t nsubject_hosts, shcap;
    struct kz_err *err;
    int rc;
    /* name id -> text cache */
    int64_t *name_ids;
    const char **name_texts;
    uint32_t name_size, name_n;
};

static sqlite3_stmt *prep(struct ctx *c, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        if (!c->rc)
            c->rc = kz_err_set(c->err, KZ_EIO, "store query failed: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static const char *name_of(struct ctx *c, int64_t id) {
    if (id <= 0) return NULL;
    if ((c->name_n + 1) * 2 > c->name_size) {
        uint32_t ns = c->name_size ? c->name_size * 2 : 1024;
        int64_t *ni = kz_calloc(ns, sizeof *ni);
        const char **nt = kz_calloc(ns, sizeof *nt);
        if (!ni || !nt) {
            kz_free(ni);
            kz_free(nt);
            return NULL;
        }
        for (uint32_t j = 0; j < c->name_size; j++) {
            if (!c->name_ids[j]) continue;
            uint32_t m = (uint32_t)((uint64_t)c->name_ids[j] * 0x9E3779B97F4A7C15ull >> 40) &
                         (ns - 1);
            while (ni[m]) m = (m + 1) & (ns - 1);
            ni[m] = c->name_ids[j];
            nt[m] = c->name_texts[j];
        }
        kz_free(c->name_ids);
        kz_free(c->name_texts);
        c->name_ids = ni;
        c->name_texts = nt;
        c->name_size = ns;
    }
    uint32_t j = (uint32_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 40) & (c->name_size - 1);
    for (; c->name_ids[j]; j = (j + 1) & (c->name_size - 1))
        if (c->name_ids[j] == id) return c->name_texts[j];
    const char *t = kz_store_name(c->s, id);
    char *copy = kz_arena_strndup(&c->r->arena, t, strlen(t));
    if (!copy) return NULL;
    c->name_ids[j] = id;
    c->name_texts[j] = copy;
    c->name_n++;
    return copy;
}

static int64_t one_int(struct ctx *c, sqlite3_stmt *st) {
    int64_t v = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    if (st) sqlite3_reset(st);
    return v;
}

/* ---- sessions ---- */

struct stmts {
    sqlite3_stmt *logoff, *host_ws, *ws_ips, *from_ws, *from_ip, *explicit_, *user_logons,
        *ws_hosts, *ip_estate;
};

static kz_time session_end(struct ctx *c, struct stmts *q, int64_t host, int64_t lid,
                           kz_time start) {
    sqlite3_stmt *st = q->logoff;
    sqlite3_bind_int64(st, 1, host);
    sqlite3_bind_int64(st, 2, lid);
    sqlite3_bind_int64(st, 3, start);
    kz_time end = TIME_MAX;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        end = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return end;
}

/* Adds the logon session in the current row of st (ts, host, user, lid, ltype, ip, ws) unless
 * it is held already or lies outside the window. */
static void add_session(struct ctx *c, struct stmts *q, sqlite3_stmt *st) {
    struct session n = {
        .start = sqlite3_column_int64(st, 0),
        .host = sqlite3_column_int64(st, 1),
        .user = sqlite3_column_int64(st, 2),
        .lid = sqlite3_column_int64(st, 3),
        .ltype = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4),
        .ip = sqlite3_column_int64(st, 5),
        .ws = sqlite3_column_int64(st, 6),
    };
    if (!n.lid || n.start > c->until) return;
    if (held_find(&c->held, n.host, n.lid, c->sv) >= 0) return;
    n.end = session_end(c, q, n.host, n.lid, n.start);
    if (n.end < c->since) return;
    if (c->ns >= KZ_SCOPE_MAX_SESSIONS) {
        c->r->truncated = 1;
        return;
    }
    if (GROW(c->sv, c->ns, c->scap) || held_put(&c->held, n.host, n.lid, c->ns)) {
        c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
        return;
    }
    c->sv[c->ns++] = n;
}

/* Is the source id (an address or device key) a host of the estate? */
static int estate_source(struct ctx *c, struct stmts *q, int64_t ip, int64_t ws) {
    if (ws) {
        sqlite3_bind_int64(q->ws_hosts, 1, ws);
        if (one_int(c, q->ws_hosts)) return 1;
    }
    if (ip) {
        sqlite3_bind_int64(q->ip_estate, 1, ip);
        if (one_int(c, q->ip_estate)) return 1;
    }
    return 0;
}

static void roots_from(struct ctx *c, struct stmts *q, sqlite3_stmt *st, int64_t id, int estate) {
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, c->since == INT64_MIN ? INT64_MIN : INT64_MIN);
    sqlite3_bind_int64(st, 3, c->until);
    while (!c->rc && sqlite3_step(st) == SQLITE_ROW) {
        int64_t user = sqlite3_column_int64(st, 2), host = sqlite3_column_int64(st, 1);
        if (estate) {
            /* a pivot host: only the subject's own sessions from it */
            if (c->subject_user && user != c->subject_user) continue;
            if (c->subject_ws) {
                int ok = 0;
                for (uint32_t k = 0; k < c->nsubject_hosts; k++)
                    ok |= c->subject_hosts[k] == host;
                if (!ok) continue;
            }
        }
        if (c->subject_ws && !c->subject_user) {
            /* host mode: sessions on the host */
            int ok = 0;
            for (uint32_t k = 0; k < c->nsubject_hosts; k++)
                ok |= c->subject_hosts[k] == host;
            if (!ok) continue;
        }
        add_session(c, q, st);
    }
    sqlite3_reset(st);
}

/* Follows the hops out of session i. */
static void expand(struct ctx *c, struct stmts *q, uint32_t i) {
    struct session p = c->sv[i];
    kz_time end = p.end < c->until ? p.end : c->until;
    /* accounts whose credentials were used explicitly in p */
    int64_t creds[64];
    uint32_t ncreds = 0;
    struct {
        kz_time ts;
        int64_t tuser, tserver;
    } ex[64];
    uint32_t nex = 0;
    sqlite3_stmt *st = q->explicit_;
    sqlite3_bind_int64(st, 1, p.host);
    sqlite3_bind_int64(st, 2, p.lid);
    sqlite3_bind_int64(st, 3, p.start);
    sqlite3_bind_int64(st, 4, end);
    while (sqlite3_step(st) == SQLITE_ROW && nex < 64) {
        ex[nex].ts = sqlite3_column_int64(st, 0);
        ex[nex].tuser = sqlite3_column_int64(st, 1);
        ex[nex].tserver = sqlite3_column_int64(st, 2);
        if (ex[nex].tuser && ncreds < 64) creds[ncreds++] = ex[nex].tuser;
        nex++;
    }
    sqlite3_reset(st);
    /* the held host's device key and addresses */
    sqlite3_bind_int64(q->host_ws, 1, p.host);
    int64_t ws = one_int(c, q->host_ws);
    int64_t ips[32];
    uint32_t nips = 0;
    if (ws) {
        sqlite3_bind_int64(q->ws_ips, 1, ws);
        while (sqlite3_step(q->ws_ips) == SQLITE_ROW && nips < 32)
            ips[nips++] = sqlite3_column_int64(q->ws_ips, 0);
        sqlite3_reset(q->ws_ips);
    }
    /* logons coming from the held host while p was open */
    for (uint32_t k = 0; k <= nips && !c->rc; k++) {
        sqlite3_stmt *from = k == 0 ? q->from_ws : q->from_ip;
        int64_t id = k == 0 ? ws : ips[k - 1];
        if (!id) continue;
        sqlite3_bind_int64(from, 1, id);
        sqlite3_bind_int64(from, 2, p.start);
        sqlite3_bind_int64(from, 3, end);
        while (!c->rc && sqlite3_step(from) == SQLITE_ROW) {
            int64_t user = sqlite3_column_int64(from, 2);
            int ok = user == p.user;
            for (uint32_t m = 0; m < ncreds && !ok; m++)
                ok = creds[m] == user;
            if (ok) add_session(c, q, from);
        }
        sqlite3_reset(from);
    }
    /* the account named by a 4648 logging on to the server it names */
    for (uint32_t k = 0; k < nex && !c->rc; k++) {
        if (!ex[k].tuser) continue;
        sqlite3_stmt *ul = q->user_logons;
        sqlite3_bind_int64(ul, 1, ex[k].tuser);
        sqlite3_bind_int64(ul, 2, ex[k].ts);
        sqlite3_bind_int64(ul, 3, ex[k].ts + KZ_SCOPE_HOP_WINDOW);
        while (!c->rc && sqlite3_step(ul) == SQLITE_ROW) {
            int64_t host = sqlite3_column_int64(ul, 1);
            int ok = host == p.host;
            if (!ok && ex[k].tserver) {
                sqlite3_bind_int64(q->host_ws, 1, host);
                ok = one_int(c, q->host_ws) == ex[k].tserver;
            }
            if (ok) add_session(c, q, ul);
        }
        sqlite3_reset(ul);
    }
}

/* ---- aggregation ---- */

struct agg {
    struct kz_scope_host *hosts;
    uint32_t nh, hcap;
    struct kz_scope_edge *edges;
    uint32_t ne, ecap;
    struct kz_scope_file *files;
    uint32_t nf, fcap;
    int64_t *host_ids, *file_ids;
};

static struct kz_scope_host *host_entry(struct ctx *c, struct agg *a, int64_t host) {
    for (uint32_t i = 0; i < a->nh; i++)
        if (a->host_ids[i] == host) return &a->hosts[i];
    uint32_t cap = a->hcap;
    if (GROW(a->hosts, a->nh, a->hcap)) return NULL;
    if (cap != a->hcap) {
        int64_t *v = kz_realloc(a->host_ids, a->hcap * sizeof *v);
        if (!v) return NULL;
        a->host_ids = v;
    }
    a->host_ids[a->nh] = host;
    struct kz_scope_host *h = &a->hosts[a->nh++];
    memset(h, 0, sizeof *h);
    h->host = name_of(c, host);
    h->first = TIME_MAX;
    h->last = INT64_MIN;
    return h;
}

static void host_time(struct kz_scope_host *h, kz_time t) {
    if (t < h->first) h->first = t;
    if (t > h->last) h->last = t;
}

static const char *source_text(struct ctx *c, const struct session *s) {
    if (s->ws) return name_of(c, s->ws);
    return name_of(c, s->ip);
}

static int add_logon(struct ctx *c, struct agg *a, const struct session *s) {
    struct kz_scope_host *h = host_entry(c, a, s->host);
    if (!h) return KZ_ENOMEM;
    h->logons++;
    host_time(h, s->start);
    if (s->end != TIME_MAX) host_time(h, s->end < c->until ? s->end : c->until);
    if (s->ltype >= 0) {
        uint32_t k = 0;
        while (k < h->ntypes && h->types[k] < s->ltype) k++;
        if ((k == h->ntypes || h->types[k] != s->ltype) && h->ntypes < 12) {
            memmove(&h->types[k + 1], &h->types[k], (h->ntypes - k) * sizeof *h->types);
            h->types[k] = s->ltype;
            h->ntypes++;
        }
    }
    const char *src = source_text(c, s);
    if (src) {
        int seen = 0;
        for (uint32_t k = 0; k < h->nsources && !seen; k++)
            seen = !strcmp(h->sources[k], src);
        if (!seen && h->nsources < 64) {
            if (!h->sources) h->sources = kz_arena_alloc(&c->r->arena, 64 * sizeof *h->sources);
            if (!h->sources) return KZ_ENOMEM;
            h->sources[h->nsources++] = src;
        }
    }
    return 0;
}

static int add_edge(struct ctx *c, struct agg *a, const struct session *s) {
    const char *from = source_text(c, s);
    if (!from) from = "?";
    /* an address learnt for a device reads better as the device */
    if (!s->ws && s->ip) {
        sqlite3_stmt *st = prep(c, "SELECT ws FROM addrs WHERE ip=? LIMIT 1");
        if (st) {
            sqlite3_bind_int64(st, 1, s->ip);
            int64_t ws = one_int(c, st);
            sqlite3_finalize(st);
            if (ws) from = name_of(c, ws);
        }
    }
    char key[256];
    const char *to_full = name_of(c, s->host);
    kz_store_host_key(to_full, key, sizeof key);
    const char *user = name_of(c, s->user);
    for (uint32_t i = 0; i < a->ne; i++) {
        struct kz_scope_edge *e = &a->edges[i];
        if (!strcmp(e->from, from) && !strcmp(e->to, key) && e->logon_type == s->ltype &&
            !strcmp(e->user ? e->user : "", user ? user : "")) {
            e->count++;
            if (s->start < e->first) e->first = s->start;
            return 0;
        }
    }
    if (GROW(a->edges, a->ne, a->ecap)) return KZ_ENOMEM;
    struct kz_scope_edge *e = &a->edges[a->ne++];
    e->from = from;
    e->to = kz_arena_strndup(&c->r->arena, key, strlen(key));
    e->user = user;
    e->logon_type = s->ltype;
    e->first = s->start;
    e->count = 1;
    return e->to ? 0 : KZ_ENOMEM;
}

static struct kz_scope_file *file_entry(struct ctx *c, struct agg *a, int64_t obj, int64_t host,
                                        uint32_t *hint_table, uint32_t hint_size) {
    uint32_t j = (uint32_t)((uint64_t)obj * 0x9E3779B97F4A7C15ull >> 40) & (hint_size - 1);
    for (; hint_table[j]; j = (j + 1) & (hint_size - 1))
        if (a->file_ids[hint_table[j] - 1] == obj) return &a->files[hint_table[j] - 1];
    uint32_t cap = a->fcap;
    if (GROW(a->files, a->nf, a->fcap)) return NULL;
    if (cap != a->fcap) {
        int64_t *v = kz_realloc(a->file_ids, a->fcap * sizeof *v);
        if (!v) return NULL;
        a->file_ids = v;
    }
    a->file_ids[a->nf] = obj;
    hint_table[j] = a->nf + 1;
    struct kz_scope_file *f = &a->files[a->nf++];
    memset(f, 0, sizeof *f);
    f->path = name_of(c, obj);
    f->host = name_of(c, host);
    f->first = f->first_write = TIME_MAX;
    f->last = INT64_MIN;
    if (f->path && f->path[0] == '\\' && f->path[1] == '\\') {
        const char *p = strchr(f->path + 2, '\\');
        const char *q = p ? strchr(p + 1, '\\') : NULL;
        size_t n = q ? (size_t)(q - f->path) : strlen(f->path);
        f->share = kz_arena_strndup(&c->r->arena, f->path, n);
    }
    if (f->path) f->customer = kz_customers_match(c->q->customers, f->path);
    return f;
}

static int cmp_host(const void *x, const void *y) {
    return strcmp(((const struct kz_scope_host *)x)->host ?: "",
                  ((const struct kz_scope_host *)y)->host ?: "");
}
static int cmp_edge(const void *x, const void *y) {
    const struct kz_scope_edge *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    int d = strcmp(a->to, b->to);
    return d ? d : strcmp(a->from, b->from);
}
static int cmp_file(const void *x, const void *y) {
    return strcmp(((const struct kz_scope_file *)x)->path ?: "",
                  ((const struct kz_scope_file *)y)->path ?: "");
}
static int cmp_customer(const void *x, const void *y) {
    return strcmp(((const struct kz_scope_customer *)x)->customer,
                  ((const struct kz_scope_customer *)y)->customer);
}

/* The events of one user in the window, kept when inside a held session (or all, without
 * sources), folded into hosts and files. */
static void fold_events(struct ctx *c, struct agg *a, int64_t user, int64_t host_only, int held,
                        uint32_t *ftab, uint32_t fsize) {
    sqlite3_stmt *st =
        host_only
            ? prep(c, "SELECT ts, host, eid, lid, obj, acc, bytes FROM events WHERE host=? AND "
                      "ts BETWEEN ? AND ?")
            : prep(c, "SELECT ts, host, eid, lid, obj, acc, bytes FROM events WHERE user=? AND "
                      "ts BETWEEN ? AND ?");
    if (!st) return;
    sqlite3_bind_int64(st, 1, host_only ? host_only : user);
    sqlite3_bind_int64(st, 2, c->since);
    sqlite3_bind_int64(st, 3, c->until);
    while (!c->rc && sqlite3_step(st) == SQLITE_ROW) {
        kz_time ts = sqlite3_column_int64(st, 0);
        int64_t host = sqlite3_column_int64(st, 1);
        int eid = sqlite3_column_int(st, 2);
        int64_t lid = sqlite3_column_int64(st, 3), obj = sqlite3_column_int64(st, 4);
        int acc = sqlite3_column_int(st, 5);
        int64_t bytes = sqlite3_column_int64(st, 6);
        if (held && held_find(&c->held, host, lid, c->sv) < 0) continue;
        /* authentication on a domain controller is not reaching it */
        if (eid == 4768 || eid == 4769 || eid == 4770 || eid == 4771 || eid == 4776) continue;
        /* web requests and VPN tunnels (event id 0) are listed apart, not as hosts reached */
        if (eid == 0) continue;
        struct kz_scope_host *h = host_entry(c, a, host);
        if (!h) goto oom;
        host_time(h, ts);
        if (obj && acc) {
            if (fsize && a->nf * 2 + 2 > fsize) {
                c->r->truncated = 1;
                continue;
            }
            struct kz_scope_file *f = file_entry(c, a, obj, host, ftab, fsize);
            if (!f) goto oom;
            if (acc & KZ_ACC_READ) f->reads++;
            if (acc & KZ_ACC_WRITE) f->writes++;
            if (acc & KZ_ACC_DELETE) f->deletes++;
            if (acc & KZ_ACC_RENAME) f->renames++;
            if (bytes > 0) f->bytes += bytes;
            if (ts < f->first) f->first = ts;
            if (ts > f->last) f->last = ts;
            if ((acc & KZ_ACC_WRITE) && ts < f->first_write) f->first_write = ts;
        }
    }
    sqlite3_finalize(st);
    return;
oom:
    sqlite3_finalize(st);
    c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
}

#define RENAME_WINDOW (2 * KZ_TICKS_PER_SEC)

static int cmp_path_key(const void *key, const void *x) {
    const struct kz_scope_file *f = x;
    const char *k = key;
    return strcmp(k, f->path ? f->path : "");
}

/* Renames. Windows logs none as such: a program that renames P to P.ext (ransomware appending
 * its extension, an editor saving) shows as a delete of P (4663 DELETE, Sysmon 23/26) and a write
 * of P.ext (Sysmon 11, 4663/5145 WriteData) on the same host within a moment. Such a pair is
 * one operation: P counts a rename (besides its delete) and names P.ext as its new name, P.ext
 * keeps its write. files must be sorted by path. */
static void pair_renames(struct kz_scope_file *files, uint32_t n) {
    char stem[KZ_STORE_NAME_MAX + 1];
    for (uint32_t i = 0; i < n; i++) {
        struct kz_scope_file *f = &files[i];
        if (!f->writes || !f->path) continue;
        const char *dot = strrchr(f->path, '.'), *sep = strrchr(f->path, '\\');
        if (!dot || (sep && dot < sep) || dot == f->path) continue;
        size_t len = (size_t)(dot - f->path);
        if (len >= sizeof stem) continue;
        memcpy(stem, f->path, len);
        stem[len] = 0;
        struct kz_scope_file *old = bsearch(stem, files, n, sizeof *files, cmp_path_key);
        if (!old || !old->deletes || !old->host || !f->host || strcmp(old->host, f->host)) continue;
        kz_time d1 = f->first - old->last, d2 = old->last - f->last;
        if (d1 > RENAME_WINDOW || d2 > RENAME_WINDOW) continue;
        old->renames++;
        if (!old->renamed_to) old->renamed_to = f->path;
    }
}

/* Web requests (KZ_WEB rows) grouped by server, client and user. */
static void fold_web(struct ctx *c, sqlite3_stmt *st, struct kz_scope_web **v, uint32_t *n,
                     uint32_t *cap) {
    while (!c->rc && sqlite3_step(st) == SQLITE_ROW) {
        kz_time ts = sqlite3_column_int64(st, 0);
        int64_t host = sqlite3_column_int64(st, 1), user = sqlite3_column_int64(st, 2),
                ip = sqlite3_column_int64(st, 3);
        int status = sqlite3_column_int(st, 4);
        const char *server = name_of(c, host), *client = name_of(c, ip), *uname = name_of(c, user);
        struct kz_scope_web *w = NULL;
        for (uint32_t i = 0; i < *n && !w; i++)
            if ((*v)[i].server == server && (*v)[i].client == client && (*v)[i].user == uname)
                w = &(*v)[i];
        if (!w) {
            if (*n >= 10000) { /* one entry per (server, client, user): bounded */
                c->r->truncated = 1;
                continue;
            }
            if (GROW(*v, *n, *cap)) {
                c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
                break;
            }
            w = &(*v)[(*n)++];
            /* name_of's texts are cached per query: equal names are equal pointers */
            *w = (struct kz_scope_web){.server = server, .client = client, .user = uname,
                                       .first = ts, .last = ts};
        }
        w->requests++;
        if (status >= 400) w->errors++;
        if (ts < w->first) w->first = ts;
        if (ts > w->last) w->last = ts;
    }
    sqlite3_reset(st);
}

static int cmp_web(const void *x, const void *y) {
    const struct kz_scope_web *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return strcmp(a->client ?: "", b->client ?: "");
}
static int cmp_vpn(const void *x, const void *y) {
    const struct kz_scope_vpn *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The subject's VPN tunnels in the window: tunnel-up rows, each closed by the first tunnel-down
 * of the same gateway and tunnel id after it. With sources, only tunnels whose remote or tunnel
 * address is one of them (ids in src_ids). */
static void fold_vpn(struct ctx *c, const int64_t *src_ids, uint32_t nsrc,
                     struct kz_scope_result *r) {
    sqlite3_stmt *st = prep(c, "SELECT ts, host, lid, ip, ws FROM logons WHERE user=? AND "
                               "kind=3 AND ltype=1 AND ts BETWEEN ? AND ?");
    sqlite3_stmt *down = prep(c, "SELECT min(ts) FROM logons WHERE user=? AND kind=3 AND ltype=0 "
                                 "AND host=? AND lid=? AND ts>=?");
    uint32_t cap = 0;
    if (!st || !down) goto out;
    sqlite3_bind_int64(st, 1, c->subject_user);
    sqlite3_bind_int64(st, 2, c->since);
    sqlite3_bind_int64(st, 3, c->until);
    while (!c->rc && sqlite3_step(st) == SQLITE_ROW) {
        kz_time ts = sqlite3_column_int64(st, 0);
        int64_t host = sqlite3_column_int64(st, 1), lid = sqlite3_column_int64(st, 2),
                ip = sqlite3_column_int64(st, 3), ws = sqlite3_column_int64(st, 4);
        int keep = !src_ids;
        for (uint32_t i = 0; i < nsrc && !keep; i++)
            keep = (ip && src_ids[i] == ip) || (ws && src_ids[i] == ws);
        if (!keep) continue;
        if (r->nvpn >= 100000) {
            r->truncated = 1;
            break;
        }
        if (GROW(r->vpn, r->nvpn, cap)) {
            c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
            break;
        }
        struct kz_scope_vpn *v = &r->vpn[r->nvpn++];
        *v = (struct kz_scope_vpn){.gateway = name_of(c, host), .user = name_of(c, c->subject_user),
                                   .remote = name_of(c, ip), .tunnel = name_of(c, ws),
                                   .start = ts, .end = ts, .id = lid};
        sqlite3_bind_int64(down, 1, c->subject_user);
        sqlite3_bind_int64(down, 2, host);
        sqlite3_bind_int64(down, 3, lid);
        sqlite3_bind_int64(down, 4, ts);
        if (sqlite3_step(down) == SQLITE_ROW && sqlite3_column_type(down, 0) != SQLITE_NULL)
            v->end = sqlite3_column_int64(down, 0);
        sqlite3_reset(down);
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(down);
}

/* ---- hosts reached over HTTP ----
 * A web exploit gives no logon to follow: the attacker's requests reach a web application, whose
 * service account then runs the commands (nightsky2021: the portal's java.exe as svc-adss). With
 * sources, a server counts as reached by the subject account when a request from a source
 * reached it (its own log names the source; or a reverse proxy's log names the source and the
 * server's log has the same request, from another address, within WEB_FORWARD_WINDOW) and the
 * subject account has an event on that server within WEB_EXEC_WINDOW after the request. Only the
 * host (first/last of those events, the source as where it came from) is added: files, and so
 * customers, still come from held sessions only. */
#define WEB_FORWARD_WINDOW (2 * KZ_TICKS_PER_SEC)
#define WEB_EXEC_WINDOW (60 * KZ_TICKS_PER_SEC)
#define WEB_MAX_SERVERS 64
#define WEB_MAX_REQUESTS 100000

/* The subject's events on host in [ts, ts + WEB_EXEC_WINDOW]: the host is reached, from src. */
static void web_acts(struct ctx *c, struct agg *a, sqlite3_stmt *acts, int64_t host, kz_time ts,
                     int64_t src) {
    kz_time end = ts + WEB_EXEC_WINDOW < c->until ? ts + WEB_EXEC_WINDOW : c->until;
    sqlite3_bind_int64(acts, 1, host);
    sqlite3_bind_int64(acts, 2, ts);
    sqlite3_bind_int64(acts, 3, end);
    sqlite3_bind_int64(acts, 4, c->subject_user);
    while (!c->rc && sqlite3_step(acts) == SQLITE_ROW) {
        int eid = sqlite3_column_int(acts, 1);
        if (eid == 4768 || eid == 4769 || eid == 4770 || eid == 4771 || eid == 4776) continue;
        struct kz_scope_host *x = host_entry(c, a, host);
        const char *text = name_of(c, src);
        if (!x) {
            c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
            break;
        }
        host_time(x, sqlite3_column_int64(acts, 0));
        int dup = !text;
        for (uint32_t m = 0; m < x->nsources && !dup; m++)
            dup = !strcmp(x->sources[m], text);
        if (!dup && x->nsources < 64) {
            if (!x->sources) x->sources = kz_arena_alloc(&c->r->arena, 64 * sizeof *x->sources);
            if (!x->sources) {
                c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
                break;
            }
            x->sources[x->nsources++] = text;
        }
    }
    sqlite3_reset(acts);
}

static void web_hosts(struct ctx *c, struct agg *a, const int64_t *src_ids, uint32_t nsrc) {
    int64_t servers[WEB_MAX_SERVERS];
    uint32_t nservers = 0;
    /* the web servers: hosts with request rows (web rows have no logon id; logons_session) */
    /* hosts keeps one name per device (the first seen: an EVTX file's full name, or an access
     * log's folder name, which is also the device key), so both are candidates */
    sqlite3_stmt *hs = prep(c, "SELECT host FROM hosts UNION SELECT ws FROM hosts");
    sqlite3_stmt *isweb = prep(c, "SELECT 1 FROM logons WHERE host=? AND lid IS NULL AND kind=4 "
                                  "LIMIT 1");
    sqlite3_stmt *reqs = prep(c, "SELECT ts, host FROM logons WHERE ip=? AND kind=4 AND ts "
                                 "BETWEEN ? AND ?");
    sqlite3_stmt *what = prep(c, "SELECT obj FROM events WHERE host=? AND ts=? AND eid=0 AND "
                                 "src=? LIMIT 1");
    sqlite3_stmt *fwd = prep(c, "SELECT 1 FROM events WHERE host=? AND ts BETWEEN ? AND ? AND "
                                "eid=0 AND obj=? LIMIT 1");
    sqlite3_stmt *acts = prep(c, "SELECT ts, eid FROM events WHERE host=? AND ts BETWEEN ? AND ? "
                                 "AND user=? AND eid!=0");
    sqlite3_stmt *byws = prep(c, "SELECT host FROM hosts WHERE ws=?");
    if (!hs || !isweb || !reqs || !what || !fwd || !acts || !byws) goto out;
    while (sqlite3_step(hs) == SQLITE_ROW && nservers < WEB_MAX_SERVERS) {
        int64_t h = sqlite3_column_int64(hs, 0);
        sqlite3_bind_int64(isweb, 1, h);
        if (sqlite3_step(isweb) == SQLITE_ROW) servers[nservers++] = h;
        sqlite3_reset(isweb);
    }
    uint32_t seen = 0;
    for (uint32_t i = 0; i < nsrc && !c->rc; i++) {
        sqlite3_bind_int64(reqs, 1, src_ids[i]);
        sqlite3_bind_int64(reqs, 2, c->since);
        sqlite3_bind_int64(reqs, 3, c->until);
        while (!c->rc && sqlite3_step(reqs) == SQLITE_ROW) {
            if (++seen > WEB_MAX_REQUESTS) {
                c->r->truncated = 1;
                break;
            }
            kz_time ts = sqlite3_column_int64(reqs, 0);
            int64_t server = sqlite3_column_int64(reqs, 1), obj = 0;
            sqlite3_bind_int64(what, 1, server);
            sqlite3_bind_int64(what, 2, ts);
            sqlite3_bind_int64(what, 3, src_ids[i]);
            if (sqlite3_step(what) == SQLITE_ROW) obj = sqlite3_column_int64(what, 0);
            sqlite3_reset(what);
            for (uint32_t k = 0; k < nservers && !c->rc; k++) {
                int64_t h = servers[k];
                if (h != server) { /* forwarded: the same request on h within the window */
                    if (!obj) continue;
                    sqlite3_bind_int64(fwd, 1, h);
                    sqlite3_bind_int64(fwd, 2, ts - WEB_FORWARD_WINDOW);
                    sqlite3_bind_int64(fwd, 3, ts + WEB_FORWARD_WINDOW);
                    sqlite3_bind_int64(fwd, 4, obj);
                    int hit = sqlite3_step(fwd) == SQLITE_ROW;
                    sqlite3_reset(fwd);
                    if (!hit) continue;
                }
                /* what the subject account did on that server right after the request: the
                 * access log names the server by its folder ("PWRESET01"), its Windows logs by
                 * their full name, so every host name of the same device is looked at */
                int64_t names[2] = {h, 0};
                uint32_t nnames = 1;
                char key[256];
                const char *text = name_of(c, h);
                int64_t ws = text ? kz_store_name_id(c->s, kz_store_host_key(text, key, sizeof key))
                                  : 0;
                sqlite3_bind_int64(byws, 1, ws);
                if (ws && sqlite3_step(byws) == SQLITE_ROW) {
                    names[1] = sqlite3_column_int64(byws, 0);
                    if (names[1] != h) nnames = 2;
                }
                sqlite3_reset(byws);
                for (uint32_t m = 0; m < nnames && !c->rc; m++)
                    web_acts(c, a, acts, names[m], ts, src_ids[i]);
            }
        }
        sqlite3_reset(reqs);
    }
out:
    sqlite3_finalize(hs);
    sqlite3_finalize(isweb);
    sqlite3_finalize(reqs);
    sqlite3_finalize(what);
    sqlite3_finalize(fwd);
    sqlite3_finalize(acts);
    sqlite3_finalize(byws);
}

/* ---- hosts that ran a file the account wrote ----
 * No logon reaches them: the account wrote a program or script on a share, and processes there
 * ran it (nightsky2021: adsync_svc writes a batch file into a GPO's folder under SYSVOL, and
 * every domain machine's scheduled task runs it as SYSTEM; no event on those machines names the
 * account). A host counts when a process on it, of any account, was started after the account's
 * first write of the file (in the window, inside held sessions with sources) from that file
 * (runs: its program or its command line names it, kz_store_run_key). The run names the server by
 * a device of the estate, which must then be the one written to, or by another name (a domain
 * namespace such as \\corp.example\SYSVOL, replicated to every domain controller), which matches
 * the share and path on any server. Only the host is added (the run's time, the file as `ran`):
 * what the process did there is not the account's files. */
#define RUNS_MAX 1000000 /* run rows looked at per answer */

static void run_hosts(struct ctx *c, struct agg *a) {
    sqlite3_stmt *runs = prep(c, "SELECT ts, host, server FROM runs WHERE key=? AND ts BETWEEN "
                                 "? AND ?");
    sqlite3_stmt *device = prep(c, "SELECT 1 FROM hosts WHERE ws=?");
    uint32_t seen = 0, nf = a->nf;
    char key[KZ_STORE_NAME_MAX], srv[256];
    for (uint32_t i = 0; runs && device && i < nf && !c->rc; i++) {
        const struct kz_scope_file *f = &a->files[i];
        if (f->first_write == TIME_MAX || !f->path ||
            !kz_store_run_key(f->path, strlen(f->path), key, sizeof key, srv, sizeof srv))
            continue;
        int64_t kid = kz_store_name_id(c->s, key);
        if (!kid) continue; /* never run from a share */
        int64_t written_on = kz_store_name_id(c->s, srv);
        sqlite3_bind_int64(runs, 1, kid);
        sqlite3_bind_int64(runs, 2, f->first_write > c->since ? f->first_write : c->since);
        sqlite3_bind_int64(runs, 3, c->until);
        while (!c->rc && sqlite3_step(runs) == SQLITE_ROW) {
            if (++seen > RUNS_MAX) {
                c->r->truncated = 1;
                break;
            }
            int64_t server = sqlite3_column_int64(runs, 2);
            if (server && server != written_on) {
                sqlite3_bind_int64(device, 1, server);
                int other_device = sqlite3_step(device) == SQLITE_ROW;
                sqlite3_reset(device);
                if (other_device) continue;
            }
            struct kz_scope_host *h = host_entry(c, a, sqlite3_column_int64(runs, 1));
            if (!h) {
                c->rc = kz_err_set(c->err, KZ_ENOMEM, "out of memory");
                break;
            }
            host_time(h, sqlite3_column_int64(runs, 0));
            if (!h->ran) h->ran = f->path;
        }
        sqlite3_reset(runs);
    }
    sqlite3_finalize(runs);
    sqlite3_finalize(device);
}

/* Web and VPN sessions (see scope.h). */
static void fold_text(struct ctx *c, struct kz_scope_result *r) {
    int64_t ids[2 * KZ_SCOPE_MAX_SOURCES];
    uint32_t n = 0;
    char key[512];
    for (uint32_t i = 0; i < c->q->nsources; i++) {
        int64_t ip = kz_store_name_id(c->s, kz_store_ip_key(c->q->sources[i], key, sizeof key));
        if (ip) ids[n++] = ip;
    }
    uint32_t wcap = 0;
    if (c->q->nsources) {
        sqlite3_stmt *st = prep(c, "SELECT ts, host, user, ip, ltype FROM logons WHERE ip=? AND "
                                   "kind=4 AND ts BETWEEN ? AND ?");
        for (uint32_t i = 0; st && i < n && !c->rc; i++) {
            sqlite3_bind_int64(st, 1, ids[i]);
            sqlite3_bind_int64(st, 2, c->since);
            sqlite3_bind_int64(st, 3, c->until);
            fold_web(c, st, &r->web, &r->nweb, &wcap);
        }
        sqlite3_finalize(st);
    } else if (c->subject_user) {
        sqlite3_stmt *st = prep(c, "SELECT ts, host, user, ip, ltype FROM logons WHERE user=? AND "
                                   "kind=4 AND ts BETWEEN ? AND ?");
        if (st) {
            sqlite3_bind_int64(st, 1, c->subject_user);
            sqlite3_bind_int64(st, 2, c->since);
            sqlite3_bind_int64(st, 3, c->until);
            fold_web(c, st, &r->web, &r->nweb, &wcap);
        }
        sqlite3_finalize(st);
    }
    if (c->subject_user && !c->rc) fold_vpn(c, c->q->nsources ? ids : NULL, n, r);
    if (r->nweb) qsort(r->web, r->nweb, sizeof *r->web, cmp_web);
    if (r->nvpn) qsort(r->vpn, r->nvpn, sizeof *r->vpn, cmp_vpn);
}

#define FILE_TABLE (1u << 22) /* distinct files one answer lists at most: 2M */

static int scope_run(struct kz_store *s, const struct kz_scope_query *q,
                     struct kz_scope_result **out, struct kz_err *err) {
    *out = NULL;
    if (!!q->user == !!q->host)
        return kz_err_set(err, KZ_EUSAGE, "give one of --user or --host");
    if (q->nsources > KZ_SCOPE_MAX_SOURCES)
        return kz_err_set(err, KZ_ELIMIT, "more than %u sources", KZ_SCOPE_MAX_SOURCES);
    struct kz_scope_result *r = kz_calloc(1, sizeof *r);
    if (!r) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    kz_arena_init(&r->arena, 1 << 16, 0);
    struct ctx c = {.s = s, .db = kz_store_db(s), .q = q, .r = r, .err = err};
    c.since = q->has_since ? q->since : INT64_MIN;
    c.until = q->has_until ? q->until : INT64_MAX;
    r->has_since = q->has_since;
    r->has_until = q->has_until;
    r->since = q->since;
    r->until = q->until;
    struct stmts st = {0};
    struct agg a = {0};
    uint32_t *ftab = NULL;
    char key[512];
    r->subject_kind = q->user ? "user" : "host";
    r->subject = kz_arena_strndup(&r->arena, q->user ? q->user : q->host,
                                  strlen(q->user ? q->user : q->host));
    if (q->user) {
        c.subject_user = kz_store_name_id(s, kz_store_user_key(q->user, key, sizeof key));
        if (!c.subject_user) goto done;
    } else {
        c.subject_ws = kz_store_name_id(s, kz_store_host_key(q->host, key, sizeof key));
        if (!c.subject_ws) goto done;
        sqlite3_stmt *hs = prep(&c, "SELECT host FROM hosts WHERE ws=?");
        if (!hs) goto done;
        sqlite3_bind_int64(hs, 1, c.subject_ws);
        while (sqlite3_step(hs) == SQLITE_ROW && c.nsubject_hosts < 16) {
            if (GROW(c.subject_hosts, c.nsubject_hosts, c.shcap)) break;
            c.subject_hosts[c.nsubject_hosts++] = sqlite3_column_int64(hs, 0);
        }
        sqlite3_finalize(hs);
    }
    st.logoff = prep(&c, "SELECT min(ts) FROM logons WHERE host=? AND lid=? AND kind=1 AND ts>=?");
    st.host_ws = prep(&c, "SELECT ws FROM hosts WHERE host=?");
    st.ws_ips = prep(&c, "SELECT ip FROM addrs WHERE ws=?");
    st.from_ws = prep(&c, "SELECT ts, host, user, lid, ltype, ip, ws FROM logons WHERE ws=? AND "
                          "kind=0 AND ts BETWEEN ? AND ?");
    st.from_ip = prep(&c, "SELECT ts, host, user, lid, ltype, ip, ws FROM logons WHERE ip=? AND "
                          "kind=0 AND ts BETWEEN ? AND ?");
    st.explicit_ = prep(&c, "SELECT ts, tuser, tserver FROM logons WHERE host=? AND lid=? AND "
                            "kind=2 AND ts BETWEEN ? AND ?");
    st.user_logons = prep(&c, "SELECT ts, host, user, lid, ltype, ip, ws FROM logons WHERE "
                              "user=? AND kind=0 AND ts BETWEEN ? AND ?");
    st.ws_hosts = prep(&c, "SELECT count(*) FROM hosts WHERE ws=?");
    st.ip_estate = prep(&c, "SELECT count(*) FROM addrs a JOIN hosts h ON h.ws = a.ws WHERE "
                            "a.ip=?");
    if (c.rc) goto done;

    int with_sources = q->nsources > 0;
    if (with_sources) {
        for (uint32_t i = 0; i < q->nsources && !c.rc; i++) {
            int64_t ip = kz_store_name_id(s, kz_store_ip_key(q->sources[i], key, sizeof key));
            int64_t ws = kz_store_name_id(s, kz_store_host_key(q->sources[i], key, sizeof key));
            int estate = estate_source(&c, &st, ip, ws);
            if (ip) roots_from(&c, &st, st.from_ip, ip, estate);
            if (ws) roots_from(&c, &st, st.from_ws, ws, estate);
        }
        for (uint32_t i = 0; i < c.ns && !c.rc; i++)
            expand(&c, &st, i);
    } else if (c.subject_user) {
        sqlite3_bind_int64(st.user_logons, 1, c.subject_user);
        sqlite3_bind_int64(st.user_logons, 2, c.since);
        sqlite3_bind_int64(st.user_logons, 3, c.until);
        while (!c.rc && sqlite3_step(st.user_logons) == SQLITE_ROW)
            add_session(&c, &st, st.user_logons);
        sqlite3_reset(st.user_logons);
    } else {
        sqlite3_stmt *hl = prep(&c, "SELECT ts, host, user, lid, ltype, ip, ws FROM logons WHERE "
                                    "host=? AND kind=0 AND ts BETWEEN ? AND ?");
        for (uint32_t k = 0; hl && k < c.nsubject_hosts && !c.rc; k++) {
            sqlite3_bind_int64(hl, 1, c.subject_hosts[k]);
            sqlite3_bind_int64(hl, 2, c.since);
            sqlite3_bind_int64(hl, 3, c.until);
            while (!c.rc && sqlite3_step(hl) == SQLITE_ROW)
                add_session(&c, &st, hl);
            sqlite3_reset(hl);
        }
        sqlite3_finalize(hl);
    }
    if (c.rc) goto done;
    r->sessions = c.ns;

    /* hosts and edges from the sessions */
    for (uint32_t i = 0; i < c.ns && !c.rc; i++) {
        const struct session *se = &c.sv[i];
        if (add_edge(&c, &a, se)) c.rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        int mine = c.subject_user ? se->user == c.subject_user : 1;
        if (mine && add_logon(&c, &a, se)) c.rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    /* what was done inside them */
    ftab = kz_calloc(FILE_TABLE, sizeof *ftab);
    if (!ftab) c.rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
    if (!c.rc && c.subject_user) {
        fold_events(&c, &a, c.subject_user, 0, with_sources, ftab, FILE_TABLE);
    } else if (!c.rc) {
        if (with_sources) {
            /* every held session's host, events of the session only */
            int64_t done_hosts[1024];
            uint32_t nd = 0;
            for (uint32_t i = 0; i < c.ns && !c.rc; i++) {
                int seen = 0;
                for (uint32_t k = 0; k < nd && !seen; k++)
                    seen = done_hosts[k] == c.sv[i].host;
                if (seen) continue;
                if (nd < 1024) done_hosts[nd++] = c.sv[i].host;
                fold_events(&c, &a, 0, c.sv[i].host, 1, ftab, FILE_TABLE);
            }
        } else {
            for (uint32_t k = 0; k < c.nsubject_hosts && !c.rc; k++)
                fold_events(&c, &a, 0, c.subject_hosts[k], 0, ftab, FILE_TABLE);
        }
    }
    if (!c.rc) fold_text(&c, r);
    if (!c.rc && c.subject_user && with_sources) {
        int64_t ids[KZ_SCOPE_MAX_SOURCES];
        uint32_t n = 0;
        for (uint32_t i = 0; i < q->nsources; i++) {
            int64_t ip = kz_store_name_id(s, kz_store_ip_key(q->sources[i], key, sizeof key));
            if (ip) ids[n++] = ip;
        }
        web_hosts(&c, &a, ids, n);
    }
    if (!c.rc && c.subject_user) {
        if (kz_store_format(s) >= 2)
            run_hosts(&c, &a);
        else
            r->no_runs = 1;
    }
    if (c.rc) goto done;

    /* customers */
    struct kz_scope_customer *cust = NULL;
    uint32_t ncust = 0, ccap = 0;
    for (uint32_t i = 0; i < a.nf; i++) {
        struct kz_scope_file *f = &a.files[i];
        if (!f->customer) continue;
        struct kz_scope_customer *e = NULL;
        for (uint32_t k = 0; k < ncust && !e; k++)
            if (cust[k].customer == f->customer) e = &cust[k];
        if (!e) {
            if (GROW(cust, ncust, ccap)) {
                c.rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                break;
            }
            e = &cust[ncust++];
            *e = (struct kz_scope_customer){.customer = f->customer, .first = f->first,
                                            .last = f->last};
        }
        e->files++;
        if (f->first < e->first) e->first = f->first;
        if (f->last > e->last) e->last = f->last;
        if (f->writes || f->deletes || f->renames) e->written = 1;
    }
    if (a.nh) qsort(a.hosts, a.nh, sizeof *a.hosts, cmp_host);
    if (a.ne) qsort(a.edges, a.ne, sizeof *a.edges, cmp_edge);
    if (a.nf) qsort(a.files, a.nf, sizeof *a.files, cmp_file);
    pair_renames(a.files, a.nf);
    if (ncust) qsort(cust, ncust, sizeof *cust, cmp_customer);
    r->hosts = a.hosts, r->nhosts = a.nh, a.hosts = NULL;
    r->edges = a.edges, r->nedges = a.ne, a.edges = NULL;
    r->files = a.files, r->nfiles = a.nf, a.files = NULL;
    r->customers = cust, r->ncustomers = ncust;
done:
    sqlite3_finalize(st.logoff);
    sqlite3_finalize(st.host_ws);
    sqlite3_finalize(st.ws_ips);
    sqlite3_finalize(st.from_ws);
    sqlite3_finalize(st.from_ip);
    sqlite3_finalize(st.explicit_);
    sqlite3_finalize(st.user_logons);
    sqlite3_finalize(st.ws_hosts);
    sqlite3_finalize(st.ip_estate);
    kz_free(a.hosts);
    kz_free(a.edges);
    kz_free(a.files);
    kz_free(a.host_ids);
    kz_free(a.file_ids);
    kz_free(ftab);
    kz_free(c.sv);
    kz_free(c.held.keys);
    kz_free(c.held.idx);
    kz_free(c.subject_hosts);
    kz_free(c.name_ids);
    kz_free(c.name_texts);
    if (c.rc) {
        kz_scope_free(r);
        return c.rc;
    }
    *out = r;
    return 0;
}

void kz_scope_free(struct kz_scope_result *r) {
    if (!r) return;
    kz_free(r->hosts);
    kz_free(r->edges);
    kz_free(r->files);
    kz_free(r->customers);
    kz_free(r->web);
    kz_free(r->vpn);
    kz_arena_free(&r->arena);
    kz_free(r);
}

int kz_scope_run(struct kz_store *s, const struct kz_scope_query *q, struct kz_scope_result **out,
                 struct kz_err *err) {
    *out = NULL;
    /* every query of the answer in one snapshot: the last batch committed when it started */
    int rc = kz_store_read_begin(s, "scope", err);
    if (rc) return rc;
    rc = scope_run(s, q, out, err);
    kz_store_read_end(s);
    return rc;
}
