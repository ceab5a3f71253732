/* sim.c - runs a simulation: plans, generates day by day, writes every host's logs in time order,
 * and records the ground truth (truth.jsonl, scenario.json, customers.csv, peers.csv; geoip.mmdb:
 * mmdb_writer.c).
 *
 * Memory stays flat over --days: one day's simulated events live at a time; they are sorted by
 * output file and time, written, and forgotten (only the record ids of attack steps are kept, for
 * truth.jsonl). Writing is parallel by file: each file is appended by one thread at a time, in the
 * same order whatever the thread count, so the bytes do not depend on it. */
#include "mmdb_writer.h"
#include "sim_int.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof *(a))

static const char *const channel_file[NCH] = {
    "Security.evtx",
    "System.evtx",
    "Microsoft-Windows-Sysmon%4Operational.evtx",
    "Microsoft-Windows-PowerShell%4Operational.evtx",
    "access.log",
    "localhost_access_log.txt",
    "fortigate.log",
};

static const char *const channel_json[CH_FIRST_TEXT] = {
    "Security.jsonl",
    "System.jsonl",
    "Microsoft-Windows-Sysmon%4Operational.jsonl",
    "Microsoft-Windows-PowerShell%4Operational.jsonl",
};

static const char *file_name(const struct sim *s, uint32_t ch) {
    return s->o->format == KZ_SIM_FORMAT_JSONL && ch < CH_FIRST_TEXT ? channel_json[ch]
                                                                     : channel_file[ch];
}

/* ---- options ---- */

int kz_sim_scenario_parse(const char *name, unsigned *bits) {
    if (!strcmp(name, "ntt2020"))
        *bits = KZ_SIM_NTT2020;
    else if (!strcmp(name, "nightsky2021"))
        *bits = KZ_SIM_NIGHTSKY2021;
    else if (!strcmp(name, "none"))
        *bits = 0;
    else if (!strcmp(name, "all"))
        *bits = KZ_SIM_ALL;
    else
        return KZ_EUSAGE;
    return 0;
}

int64_t kz_sim_default_start(void) {
    return kz_days_from_civil(2026, 3, 2);
}

/* ---- calendar ---- */

kz_time sim_day_start(const struct sim *s, uint32_t d) {
    return ((s->start_day + d) * 86400 - KZ_SIM_TZ_OFFSET) * SEC;
}

/* Japanese public holidays that fall on fixed dates (and the New Year break); the moving ones are
 * approximated by their usual dates. */
static int jp_holiday(unsigned mo, unsigned d) {
    static const uint16_t fixed[] = {101, 102, 103, 111, 211,  223,  320,  429,  503,  504, 505,
                                     720, 811, 916, 923, 1014, 1103, 1123, 1229, 1230, 1231};
    unsigned md = mo * 100 + d;
    for (size_t i = 0; i < N(fixed); i++)
        if (fixed[i] == md) return 1;
    return 0;
}

int sim_workday(const struct sim *s, uint32_t d) {
    int64_t days = s->start_day + d;
    int weekday = (int)((days + 3) % 7); /* 1970-01-01 was a Thursday: 0 = Monday */
    if (weekday >= 5) return 0;
    int64_t y;
    unsigned mo, dd;
    kz_civil_from_days(days, &y, &mo, &dd);
    return !jp_holiday(mo, dd);
}

/* ---- generation helpers ---- */

void sim_gen_init(struct sim_gen *g, struct sim_day *d, uint64_t stream) {
    g->d = d;
    g->step = 0;
    kz_sim_rng_seed(&g->rng, d->s->o->seed, stream * 1000003u + d->day);
}

static void sim_fail(struct sim *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sim_fail(struct sim *s, int code, const char *fmt, ...) {
    if (s->failed) return;
    s->failed = code;
    va_list ap;
    va_start(ap, fmt);
    s->err.code = code;
    vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
    va_end(ap);
}

static int bit_get(const uint8_t *b, uint32_t i) {
    return b[i >> 3] >> (i & 7) & 1;
}
static void bit_set(uint8_t *b, uint32_t i) {
    b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

struct sim_ev *sim_ev_new(struct sim_gen *g, int kind, uint32_t host, kz_time t) {
    static _Thread_local struct sim_ev scratch;
    struct sim_day *d = g->d;
    if (d->nev == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 1u << 16;
        if (cap > SIM_MAX_DAY_EVENTS) cap = SIM_MAX_DAY_EVENTS;
        struct sim_ev *p = d->nev < cap ? kz_realloc(d->ev, (size_t)cap * sizeof *p) : NULL;
        if (!p) {
            sim_fail(d->s, d->nev < cap ? KZ_ENOMEM : KZ_ELIMIT,
                     "day %u has more than %u events: use fewer --users", d->day + 1, d->nev);
            memset(&scratch, 0, sizeof scratch);
            return &scratch;
        }
        d->ev = p;
        d->cap = cap;
    }
    /* Every event of a day lies inside it, so days can be written one after the other. */
    if (t < d->t0) t = d->t0 + (t % SEC + SEC) % SEC;
    if (t >= d->t0 + DAY) t = d->t0 + DAY - SEC + t % SEC;
    if (g->step) {
        struct sim *s = d->s;
        struct sim_step *st = &s->steps[g->step - 1];
        /* The step's host: where its earliest event happened, leaving out the domain controllers'
         * ticket and NTLM events (they follow a logon elsewhere). */
        int auth = kind == K_4768 || kind == K_4769 || kind == K_4776;
        if (!auth && (st->host == KZ_SIM_NONE || t < st->host_time)) {
            st->host = host;
            st->host_time = t;
        }
        if (!st->start || t < st->start) st->start = t;
        if (t > st->end) st->end = t;
        struct sim_account *a = &s->accounts[st->account];
        if (!a->first || t < a->first) a->first = t;
        if (t > a->last) a->last = t;
        if (!auth && d->e->hosts[host].windows) bit_set(a->hosts, host);
    }
    /* Hosts outside this pass's shard: generated (the generators' state stays the same in every
     * pass) but not kept. */
    uint32_t seq = d->nseq++; /* counts every event, kept or not: the same in every pass */
    if (host < d->host_lo || host >= d->host_hi) {
        memset(&scratch, 0, sizeof scratch);
        return &scratch;
    }
    struct sim_ev *x = &d->ev[d->nev++];
    memset(x, 0, sizeof *x);
    x->t = t;
    x->seq = seq;
    x->kind = (uint8_t)kind;
    x->host = host;
    x->u = x->u2 = KZ_SIM_NONE;
    x->step = g->step;
    return x;
}

const char *sim_strf(struct sim_day *d, const char *fmt, ...) {
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return "";
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    char *p = kz_arena_strndup(&d->arena, tmp, (size_t)n);
    if (!p) {
        sim_fail(d->s, KZ_ELIMIT, "day %u: more text than the day's arena holds", d->day + 1);
        return "";
    }
    return p;
}

const char *sim_customer_path(struct sim_day *d, uint32_t customer, uint32_t k) {
    char tmp[512];
    size_t n = kz_sim_customer_file(d->e, customer, k, tmp, sizeof tmp);
    char *p = kz_arena_strndup(&d->arena, tmp, n);
    if (!p) {
        sim_fail(d->s, KZ_ELIMIT, "day %u: more text than the day's arena holds", d->day + 1);
        return "";
    }
    return p;
}

uint32_t sim_step_add(struct sim *s, const char *scenario, const char *stage, const char *technique,
                      uint32_t account) {
    if (s->nsteps == SIM_MAX_STEPS || account >= s->naccounts) return 0;
    struct sim_step *st = &s->steps[s->nsteps++];
    memset(st, 0, sizeof *st);
    st->scenario = scenario;
    st->stage = stage;
    st->technique = technique;
    st->account = account;
    st->user = s->accounts[account].user;
    st->host = KZ_SIM_NONE;
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nsteps; i++)
        n += s->steps[i].scenario == scenario;
    st->number = n;
    return s->nsteps;
}

uint32_t sim_account_add(struct sim *s, uint32_t scenario, uint32_t user) {
    if (s->naccounts == SIM_MAX_ACCOUNTS) return KZ_SIM_NONE;
    struct sim_account *a = &s->accounts[s->naccounts];
    memset(a, 0, sizeof *a);
    a->scenario = scenario;
    a->user = user;
    a->hosts = kz_calloc(s->e->nhosts / 8 + 1, 1);
    a->customers = kz_calloc(s->e->ncustomers / 8 + 1, 1);
    if (!a->hosts || !a->customers) {
        kz_free(a->hosts);
        kz_free(a->customers);
        return KZ_SIM_NONE;
    }
    return s->naccounts++;
}

void sim_account_source(struct sim *s, uint32_t account, const char *source) {
    struct sim_account *a = &s->accounts[account];
    for (uint32_t i = 0; i < a->nsources; i++)
        if (!strcmp(a->sources[i], source)) return;
    if (a->nsources == SIM_MAX_SOURCES) return;
    /* Kept in the estate's arena: sources outlive the day that found them. */
    const char *copy = kz_arena_strndup(&s->e->arena, source, strlen(source));
    if (copy) a->sources[a->nsources++] = copy;
}

void sim_account_customer(struct sim *s, uint32_t account, uint32_t customer) {
    if (account < s->naccounts && customer < s->e->ncustomers)
        bit_set(s->accounts[account].customers, customer);
}

void sim_confounder_add(struct sim *s, const char *kind, uint32_t user, kz_time start,
                        kz_time end) {
    if (s->nconf == SIM_MAX_CONFOUNDERS) return;
    s->conf[s->nconf++] = (struct sim_confounder){kind, user, start, end};
}

/* ---- output files ---- */

struct sim_file {
    struct kz_evtx_writer *w;
    FILE *txt;
    char *txtbuf;
    uint64_t lines;
    uint32_t tmpl[NKINDS];
};

struct sim_run {
    struct sim s;
    struct sim_day day;
    struct sim_file **files; /* nhosts * NCH, NULL until first written */
    uint32_t nfiles;
    char *logdir;
    uint32_t *order;  /* event indexes sorted by file, time, seq */
    uint32_t *counts; /* per file: events today (then start offsets) */
    struct kz_pool *pool;
    int threads;
    struct sim_render **render;
    struct kz_sim_stats *st;
    struct {
        struct sim_rec *v;
        uint64_t n, cap;
    } truth[SIM_MAX_STEPS]; /* each step's records, kept across passes */
    uint64_t ntruth;
    uint32_t shard; /* hosts per pass */
};

static int mkdir_p(const char *path, struct kz_err *err) {
    if (mkdir(path, 0755) && errno != EEXIST)
        return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

static int file_open(struct sim_run *run, uint32_t fi, struct sim_file **out, struct kz_err *err) {
    if (run->files[fi]) {
        *out = run->files[fi];
        return 0;
    }
    const struct kz_sim_host *h = &run->s.e->hosts[fi / NCH];
    int ch = (int)(fi % NCH);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", run->logdir, h->name);
    int rc = mkdir_p(path, err);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/%s/%s", run->logdir, h->name, file_name(&run->s, (uint32_t)ch));
    struct sim_file *f = kz_calloc(1, sizeof *f);
    if (!f) return kz_err_set(err, KZ_ENOMEM, "out of memory opening %s", path);
    if (ch >= CH_FIRST_TEXT || run->s.o->format == KZ_SIM_FORMAT_JSONL) {
        f->txt = fopen(path, "w");
        if (!f->txt) {
            kz_free(f);
            return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
        }
        f->txtbuf = kz_malloc(1 << 16);
        if (f->txtbuf) setvbuf(f->txt, f->txtbuf, _IOFBF, 1 << 16);
    } else if ((rc = kz_evtx_writer_open(&f->w, path, err))) {
        kz_free(f);
        if (rc == KZ_EIO && errno == EMFILE)
            kz_err_prefix(err, "too many open files (raise `ulimit -n`): ");
        return rc;
    } else if (getenv("KZ_SIM_EVTX_MAX_CHUNKS")) {
        /* a test knob: full logs (going on in Security-2.evtx ...) on a small estate */
        unsigned long chunks = strtoul(getenv("KZ_SIM_EVTX_MAX_CHUNKS"), NULL, 10);
        kz_evtx_writer_set_max_chunks(f->w, (uint32_t)chunks);
    }
    run->files[fi] = f;
    *out = f;
    return 0;
}

static int file_close(struct sim_run *run, uint32_t fi, struct kz_err *err) {
    struct sim_file *f = run->files[fi];
    if (!f) return 0;
    int rc = 0;
    if (f->w) {
        rc = kz_evtx_writer_close(f->w, err);
    } else if (f->txt) {
        if (fclose(f->txt)) rc = kz_err_set(err, KZ_EIO, "closing a text log: %s", strerror(errno));
        kz_free(f->txtbuf);
    }
    kz_free(f);
    run->files[fi] = NULL;
    return rc;
}

/* One writer job: the files [first, last) of today's sorted events. */
struct write_job {
    struct kz_job job;
    struct sim_run *run;
    uint32_t first, last;
    struct sim_render *render;
    int rc;
    struct kz_err err;
    uint64_t records, lines;
};

static void write_files(void *arg) {
    struct write_job *j = arg;
    struct sim_run *run = j->run;
    struct sim_ev *ev = run->day.ev;
    for (uint32_t fi = j->first; fi < j->last && !j->rc; fi++) {
        uint32_t a = run->counts[fi], b = run->counts[fi + 1];
        if (a == b) continue;
        struct sim_file *f;
        if ((j->rc = file_open(run, fi, &f, &j->err))) break;
        for (uint32_t k = a; k < b; k++) {
            struct sim_ev *x = &ev[run->order[k]];
            if (f->w) {
                if ((j->rc = sim_render_evtx(j->render, f->w, f->tmpl, x, &j->err))) break;
                j->records++;
            } else if (fi % NCH < CH_FIRST_TEXT) { /* --format jsonl */
                size_t len;
                const char *line = sim_render_json(j->render, x, f->lines + 1, &len, &j->err);
                if (!line) {
                    j->rc = j->err.code ? j->err.code : KZ_ELIMIT;
                    break;
                }
                if (fwrite(line, 1, len, f->txt) != len) {
                    j->rc = kz_err_set(&j->err, KZ_EIO, "writing %s: %s",
                                       file_name(&run->s, fi % NCH), strerror(errno));
                    break;
                }
                f->lines++;
                j->records++;
            } else {
                size_t len;
                const char *line = sim_render_text(j->render, x, &len);
                if (fwrite(line, 1, len, f->txt) != len) {
                    j->rc = kz_err_set(&j->err, KZ_EIO, "writing %s: %s", channel_file[fi % NCH],
                                       strerror(errno));
                    break;
                }
                x->rid = ++f->lines;
                j->lines++;
            }
        }
    }
}

/* Sort key of an event inside its file: time, then generation order. */
static const struct sim_ev *sort_ev;
static int by_time(const void *pa, const void *pb) {
    const struct sim_ev *a = &sort_ev[*(const uint32_t *)pa], *b = &sort_ev[*(const uint32_t *)pb];
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int write_day(struct sim_run *run, struct kz_err *err) {
    struct sim_day *d = &run->day;
    uint32_t nf = run->nfiles;
    memset(run->counts, 0, ((size_t)nf + 1) * sizeof *run->counts);
    for (uint32_t i = 0; i < d->nev; i++)
        run->counts[d->ev[i].host * NCH + (uint32_t)sim_render_channel(d->ev[i].kind) + 1]++;
    for (uint32_t f = 0; f < nf; f++)
        run->counts[f + 1] += run->counts[f];
    uint32_t *pos = kz_malloc(((size_t)nf + 1) * sizeof *pos);
    uint32_t *order = kz_realloc(run->order, ((size_t)d->nev + 1) * sizeof *order);
    if (!pos || !order) {
        kz_free(pos);
        if (order) run->order = order;
        return kz_err_set(err, KZ_ENOMEM, "out of memory sorting day %u", d->day + 1);
    }
    run->order = order;
    memcpy(pos, run->counts, ((size_t)nf + 1) * sizeof *pos);
    for (uint32_t i = 0; i < d->nev; i++)
        order[pos[d->ev[i].host * NCH + (uint32_t)sim_render_channel(d->ev[i].kind)]++] = i;
    kz_free(pos);
    sort_ev = d->ev;
    for (uint32_t f = 0; f < nf; f++)
        if (run->counts[f + 1] - run->counts[f] > 1)
            qsort(order + run->counts[f], run->counts[f + 1] - run->counts[f], sizeof *order,
                  by_time);

    /* Split the files into contiguous ranges of about equal event counts, one per thread. */
    struct write_job jobs[64];
    int nj = run->threads < 64 ? run->threads : 64;
    uint32_t per = d->nev / (uint32_t)nj + 1, f = 0;
    for (int j = 0; j < nj; j++) {
        memset(&jobs[j], 0, sizeof jobs[j]);
        jobs[j].run = run;
        jobs[j].render = run->render[j];
        jobs[j].first = f;
        uint32_t target = j == nj - 1 ? d->nev : (uint32_t)(j + 1) * per;
        while (f < nf && run->counts[f] < target)
            f++;
        if (j == nj - 1) f = nf;
        jobs[j].last = f;
    }
    for (int j = 1; j < nj; j++)
        kz_pool_submit(run->pool, &jobs[j].job, write_files, &jobs[j]);
    write_files(&jobs[0]);
    int rc = 0;
    for (int j = 0; j < nj; j++) {
        if (j) kz_job_wait(&jobs[j].job);
        run->st->evtx_records += jobs[j].records;
        run->st->text_lines += jobs[j].lines;
        if (jobs[j].rc && !rc) {
            rc = jobs[j].rc;
            *err = jobs[j].err;
        }
    }
    if (rc) return rc;

    /* Ground truth: every event of an attack step, by file and record. */
    for (uint32_t k = 0; k < d->nev; k++) {
        struct sim_ev *x = &d->ev[order[k]];
        if (!x->step) continue;
        if (run->ntruth >= SIM_MAX_TRUTH_RECORDS)
            return kz_err_set(err, KZ_ELIMIT, "more than %u attack records", SIM_MAX_TRUTH_RECORDS);
        __typeof__(run->truth[0]) *tr = &run->truth[x->step - 1];
        if (tr->n == tr->cap) {
            uint64_t cap = tr->cap ? tr->cap * 2 : 256;
            struct sim_rec *p = kz_realloc(tr->v, cap * sizeof *p);
            if (!p) return kz_err_set(err, KZ_ENOMEM, "out of memory keeping the truth");
            tr->v = p;
            tr->cap = cap;
        }
        uint32_t fi = x->host * NCH + (uint32_t)sim_render_channel(x->kind);
        const struct sim_file *sf = run->files[fi];
        uint32_t part = sf && sf->w ? kz_evtx_writer_part_of(sf->w, x->rid) : 1;
        tr->v[tr->n++] = (struct sim_rec){.file = fi, .part = part, .id = x->rid};
        run->ntruth++;
    }
    return 0;
}

/* ---- truth.jsonl, scenario.json, customers.csv ---- */

static void put_time(struct kz_buf *b, kz_time t) {
    char tb[KZ_TIME_TEXT_MAX];
    size_t n = kz_time_format(t, 3, tb);
    kz_buf_putc(b, '"');
    kz_buf_append(b, tb, n);
    kz_buf_putc(b, '"');
}

static void put_str(struct kz_buf *b, const char *s) {
    kz_buf_putc(b, '"');
    kz_buf_put_json_str(b, s, strlen(s));
    kz_buf_putc(b, '"');
}

static void put_account(struct kz_buf *b, const struct kz_sim_estate *e, uint32_t u) {
    char a[192];
    snprintf(a, sizeof a, "%s\\%s", KZ_SIM_DOMAIN, u < e->nusers ? e->users[u].sam : "SYSTEM");
    put_str(b, a);
}

static int write_buf(const char *dir, const char *name, struct kz_buf *b, struct kz_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (b->failed) return kz_err_set(err, KZ_ELIMIT, "%s: too large", path);
    FILE *f = fopen(path, "w");
    if (!f) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    size_t w = fwrite(b->data ? b->data : "", 1, b->len, f);
    if (fclose(f) || w != b->len) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

static int write_truth(struct sim_run *run, struct kz_err *err) {
    struct sim *s = &run->s;
    const struct kz_sim_estate *e = s->e;
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.jsonl", run->s.o->outdir);
    FILE *f = fopen(path, "w");
    if (!f) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    struct kz_buf b;
    kz_buf_init(&b, (size_t)1 << 34);
    int rc = 0;
    for (uint32_t i = 0; i < s->nsteps && !rc; i++) {
        const struct sim_step *st = &s->steps[i];
        const struct sim_rec *recs = run->truth[i].v;
        uint64_t nrecs = run->truth[i].n;
        if (!nrecs) continue; /* a step the run's days left no room for */
        /* A step of ticket events only is on their DC. */
        uint32_t host = st->host != KZ_SIM_NONE ? st->host : recs[0].file / NCH;
        kz_buf_clear(&b);
        kz_buf_puts(&b, "{\"scenario\":");
        put_str(&b, st->scenario);
        kz_buf_puts(&b, ",\"step\":");
        kz_buf_put_u64(&b, st->number);
        kz_buf_puts(&b, ",\"stage\":");
        put_str(&b, st->stage);
        kz_buf_puts(&b, ",\"technique\":");
        put_str(&b, st->technique);
        kz_buf_puts(&b, ",\"host\":");
        put_str(&b, host < e->nhosts ? e->hosts[host].fqdn : "");
        kz_buf_puts(&b, ",\"user\":");
        put_account(&b, e, st->user);
        kz_buf_puts(&b, ",\"start\":");
        put_time(&b, st->start);
        kz_buf_puts(&b, ",\"end\":");
        put_time(&b, st->end);
        kz_buf_puts(&b, ",\"records\":[");
        for (uint64_t k = 0; k < nrecs; k++) {
            uint32_t fi = recs[k].file;
            kz_buf_puts(&b, k ? ",{\"file\":\"" : "{\"file\":\"");
            kz_buf_puts(&b, e->hosts[fi / NCH].name);
            kz_buf_putc(&b, '/');
            char part[256];
            kz_evtx_part_name(file_name(s, fi % NCH), recs[k].part, part, sizeof part);
            kz_buf_puts(&b, part);
            kz_buf_puts(&b, fi % NCH >= CH_FIRST_TEXT ? "\",\"line\":" : "\",\"record_id\":");
            kz_buf_put_u64(&b, recs[k].id);
            kz_buf_putc(&b, '}');
        }
        kz_buf_puts(&b, "]}\n");
        run->st->truth_records += nrecs;
        run->st->steps++;
        if (b.failed || fwrite(b.data, 1, b.len, f) != b.len)
            rc = kz_err_set(err, b.failed ? KZ_ELIMIT : KZ_EIO, "%s: write failed", path);
    }
    kz_buf_free(&b);
    if (fclose(f) && !rc) rc = kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    return rc;
}

static int write_scenario_json(struct sim_run *run, struct kz_err *err) {
    struct sim *s = &run->s;
    const struct kz_sim_estate *e = s->e;
    struct kz_buf b;
    kz_buf_init(&b, (size_t)1 << 30);
    kz_buf_puts(&b, "{\"seed\":");
    kz_buf_put_u64(&b, s->o->seed);
    kz_buf_puts(&b, ",\"users\":");
    kz_buf_put_u64(&b, s->o->users);
    kz_buf_puts(&b, ",\"days\":");
    kz_buf_put_u64(&b, s->days);
    kz_buf_puts(&b, ",\"benign_user_days\":");
    kz_buf_put_u64(&b, s->benign_user_days);
    kz_buf_puts(&b, ",\"scenarios\":[");
    for (uint32_t i = 0; i < s->nscen; i++) {
        kz_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        put_str(&b, s->scen[i].name);
        kz_buf_puts(&b, ",\"accounts\":[");
        int first = 1;
        for (uint32_t a = 0; a < s->naccounts; a++) {
            const struct sim_account *ac = &s->accounts[a];
            if (ac->scenario != i || !ac->first) continue; /* unused in this run's days */
            kz_buf_puts(&b, first ? "{\"account\":" : ",{\"account\":");
            first = 0;
            put_account(&b, e, ac->user);
            kz_buf_puts(&b, ",\"sources\":[");
            for (uint32_t k = 0; k < ac->nsources; k++) {
                if (k) kz_buf_putc(&b, ',');
                put_str(&b, ac->sources[k]);
            }
            kz_buf_puts(&b, "],\"first\":");
            put_time(&b, ac->first);
            kz_buf_puts(&b, ",\"last\":");
            put_time(&b, ac->last);
            kz_buf_puts(&b, ",\"hosts\":[");
            int fh = 1;
            for (uint32_t h = 0; h < e->nhosts; h++) {
                if (!bit_get(ac->hosts, h)) continue;
                if (!fh) kz_buf_putc(&b, ',');
                fh = 0;
                put_str(&b, e->hosts[h].fqdn);
            }
            kz_buf_puts(&b, "],\"customers_touched\":[");
            int fc = 1;
            for (uint32_t c = 0; c < e->ncustomers; c++) {
                if (!bit_get(ac->customers, c)) continue;
                if (!fc) kz_buf_putc(&b, ',');
                fc = 0;
                put_str(&b, e->customers[c].name);
            }
            kz_buf_puts(&b, "]}");
        }
        kz_buf_puts(&b, "],\"files_exfiltrated\":");
        kz_buf_put_u64(&b, s->scen[i].files_exfiltrated);
        kz_buf_putc(&b, '}');
    }
    kz_buf_puts(&b, "],\"confounders\":[");
    for (uint32_t i = 0; i < s->nconf; i++) {
        kz_buf_puts(&b, i ? ",{\"kind\":" : "{\"kind\":");
        put_str(&b, s->conf[i].kind);
        kz_buf_puts(&b, ",\"account\":");
        put_account(&b, e, s->conf[i].user);
        kz_buf_puts(&b, ",\"start\":");
        put_time(&b, s->conf[i].start);
        kz_buf_puts(&b, ",\"end\":");
        put_time(&b, s->conf[i].end);
        kz_buf_putc(&b, '}');
    }
    kz_buf_puts(&b, "]}\n");
    int rc = write_buf(s->o->outdir, "scenario.json", &b, err);
    kz_buf_free(&b);
    return rc;
}

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void put_csv(struct kz_buf *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        kz_buf_puts(b, s);
        return;
    }
    kz_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') kz_buf_putc(b, '"');
        kz_buf_putc(b, *s);
    }
    kz_buf_putc(b, '"');
}

static int write_customers(struct sim_run *run, struct kz_err *err) {
    const struct kz_sim_estate *e = run->s.e;
    struct kz_buf b;
    kz_buf_init(&b, (size_t)1 << 30);
    kz_buf_puts(&b, "pattern,customer\n");
    char p[512];
    for (uint32_t c = 0; c < e->ncustomers; c++) {
        const struct kz_sim_customer *cu = &e->customers[c];
        const char *fs = e->hosts[cu->fs].name;
        const char *pats[] = {"\\\\%s\\projects\\%s\\*", "D:\\Shares\\projects\\%s\\*",
                              "\\\\%s\\cisdata\\%s\\*", "E:\\CISData\\%s\\*"};
        for (int k = 0; k < 4; k++) {
            if (k == 0)
                snprintf(p, sizeof p, pats[0], fs, cu->folder);
            else if (k == 1)
                snprintf(p, sizeof p, pats[1], cu->folder);
            else if (k == 2)
                snprintf(p, sizeof p, pats[2], e->hosts[e->wk.cis].name, cu->code);
            else
                snprintf(p, sizeof p, pats[3], cu->code);
            put_csv(&b, p);
            kz_buf_putc(&b, ',');
            put_csv(&b, cu->name);
            kz_buf_putc(&b, '\n');
        }
    }
    int rc = write_buf(run->s.o->outdir, "customers.csv", &b, err);
    kz_buf_free(&b);
    return rc;
}

/* peers.csv: each person's account and department, as an HR or directory export taken when the
 * logs are scanned would give them (`scan --peers`): employees by their department (the
 * department-move confounder by its new one), admin accounts by their owner's. Service accounts
 * belong to no department and are not listed. */
static int write_peers(struct sim_run *run, struct kz_err *err) {
    const struct kz_sim_estate *e = run->s.e;
    struct kz_buf b;
    kz_buf_init(&b, (size_t)1 << 30);
    kz_buf_puts(&b, "user,group\n");
    for (uint32_t u = 0; u < e->nusers; u++) {
        const struct kz_sim_user *us = &e->users[u];
        uint32_t owner = u;
        if (us->kind == KZ_SIM_SERVICE) continue;
        if (us->kind == KZ_SIM_ADMIN_ACCOUNT) {
            if (us->person == KZ_SIM_NONE || us->person >= e->nusers) continue;
            owner = us->person;
        }
        uint32_t d = sim_benign_final_dept(&run->s, owner);
        if (d >= e->ndepts) continue;
        put_csv(&b, us->sam);
        kz_buf_putc(&b, ',');
        put_csv(&b, e->depts[d].name);
        kz_buf_putc(&b, '\n');
    }
    int rc = write_buf(run->s.o->outdir, "peers.csv", &b, err);
    kz_buf_free(&b);
    return rc;
}

/* ---- the run ---- */

static void raise_open_files(uint64_t want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* One pass: plans, then every day of the hosts [host_lo, host_hi). Everything a pass builds
 * (estate, plans, renderers) is freed by pass_end, but the truth records stay in run->truth. */
static int pass_run(struct sim_run *run, uint32_t pass, uint32_t npasses, struct kz_err *err) {
    const struct kz_sim_opts *o = run->s.o;
    struct sim *s = &run->s;
    struct kz_sim_stats *st = run->st;
    int rc;
    if ((rc = kz_sim_estate_build(&s->e, o->seed, o->users, err))) return rc;
    const struct kz_sim_estate *e = s->e;
    /* Plans: confounders, then each scenario's accounts and steps. */
    if ((rc = sim_benign_plan(s)))
        return kz_err_set(err, rc, "planning benign behaviour: %s", s->err.msg);
    const struct sim_scenario *all[] = {&sim_scenario_ntt2020, &sim_scenario_nightsky2021};
    const unsigned bits[] = {KZ_SIM_NTT2020, KZ_SIM_NIGHTSKY2021};
    for (size_t i = 0; i < N(all); i++) {
        if (!(o->scenarios & bits[i])) continue;
        struct sim_scenario *sc = &s->scen[s->nscen++];
        *sc = *all[i];
        if ((rc = sc->plan(s, &sc->state)))
            return kz_err_set(err, rc, "planning %s: %s", sc->name, s->err.msg);
    }
    for (int i = 0; i < run->threads; i++)
        if (!(run->render[i] = sim_render_new(e)))
            return kz_err_set(err, KZ_ENOMEM, "out of memory");

    struct sim_day *d = &run->day;
    d->s = s;
    d->e = e;
    d->host_lo = pass * run->shard;
    d->host_hi = pass + 1 == npasses ? UINT32_MAX : (pass + 1) * run->shard;
    for (uint32_t day = 0; day < s->days; day++) {
        d->day = day;
        d->t0 = sim_day_start(s, day);
        d->weekday = (int)((s->start_day + day + 3) % 7);
        d->holiday = !sim_workday(s, day);
        d->nev = d->nseq = 0;
        kz_arena_reset(&d->arena);
        sim_benign_day(d);
        for (uint32_t i = 0; i < s->nscen; i++)
            s->scen[i].day(d, s->scen[i].state);
        if (s->failed) {
            *err = s->err;
            return s->failed;
        }
        if ((rc = write_day(run, err))) return rc;
        st->events = st->evtx_records + st->text_lines;
        if (o->progress)
            o->progress(o->ctx, pass * s->days + day + 1, npasses * s->days, st->events, 0);
    }
    for (uint32_t fi = 0; fi < run->nfiles; fi++) {
        if (!run->files[fi]) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/%s", run->logdir, e->hosts[fi / NCH].name,
                 file_name(s, fi % NCH));
        /* a full EVTX log went on in parts (Security-2.evtx ...): each is a file */
        uint32_t parts = run->files[fi]->w ? kz_evtx_writer_part_of(run->files[fi]->w, UINT64_MAX)
                                           : 1;
        int crc = file_close(run, fi, err);
        if (crc && !rc) rc = crc;
        for (uint32_t k = 1; k <= parts; k++) {
            char part[4096 + 16];
            kz_evtx_part_name(path, k, part, sizeof part);
            struct stat sb;
            if (!stat(part, &sb)) st->bytes += (uint64_t)sb.st_size;
            st->files++;
        }
    }
    return rc;
}

/* Frees what pass_run built and readies run->s for the next pass. */
static void pass_end(struct sim_run *run) {
    struct sim *s = &run->s;
    if (run->files)
        for (uint32_t fi = 0; fi < run->nfiles; fi++)
            if (run->files[fi]) {
                struct kz_err e2;
                file_close(run, fi, &e2);
            }
    for (int i = 0; run->render && i < run->threads; i++) {
        sim_render_free(run->render[i]);
        run->render[i] = NULL;
    }
    for (uint32_t i = 0; i < s->nscen; i++)
        if (s->scen[i].free) s->scen[i].free(s->scen[i].state);
    sim_benign_free(s);
    for (uint32_t i = 0; i < s->naccounts; i++) {
        kz_free(s->accounts[i].hosts);
        kz_free(s->accounts[i].customers);
    }
    kz_sim_estate_free(s->e);
    const struct kz_sim_opts *o = s->o;
    memset(s, 0, sizeof *s);
    s->o = o;
    s->days = o->days;
    s->start_day = o->start_day;
}

static int by_rec(const void *pa, const void *pb) {
    const struct sim_rec *a = pa, *b = pb;
    if (a->file != b->file) return a->file < b->file ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

int kz_sim_run(const struct kz_sim_opts *o, struct kz_sim_stats *st, struct kz_err *err) {
    memset(st, 0, sizeof *st);
    if (!o->outdir || !*o->outdir) return kz_err_set(err, KZ_EUSAGE, "no output folder");
    if (o->days < 1 || o->days > KZ_SIM_MAX_DAYS)
        return kz_err_set(err, KZ_EUSAGE, "days: %u is not from 1 to %u", o->days, KZ_SIM_MAX_DAYS);
    struct sim_run *run = kz_calloc(1, sizeof *run);
    if (!run) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    struct sim *s = &run->s;
    s->o = o;
    s->days = o->days;
    s->start_day = o->start_day;
    run->st = st;
    int rc = mkdir_p(o->outdir, err);
    if (rc) goto out;
    size_t n = strlen(o->outdir) + 8;
    run->logdir = kz_malloc(n);
    if (!run->logdir) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(run->logdir, n, "%s/logs", o->outdir);
    if ((rc = mkdir_p(run->logdir, err))) goto out;
    /* The size of the estate decides the passes: at most SIM_SHARD_HOSTS hosts' logs are open at a
     * time, so memory does not grow with the estate either. */
    struct kz_sim_estate *probe;
    if ((rc = kz_sim_estate_build(&probe, o->seed, o->users, err))) goto out;
    uint32_t nhosts = probe->nhosts;
    st->hosts = probe->nhosts;
    st->customers = probe->ncustomers;
    /* geoip.mmdb for `scan --geoip`: where the estate's public addresses are (mmdb_writer.c) */
    rc = sim_geoip_write(probe, o->outdir, o->start_day, err);
    kz_sim_estate_free(probe);
    if (rc) goto out;
    run->shard = o->shard_hosts ? o->shard_hosts : SIM_SHARD_HOSTS;
    uint32_t npasses = (nhosts + run->shard - 1) / run->shard;
    raise_open_files((uint64_t)(nhosts < run->shard ? nhosts : run->shard) * NCH + 256);

    run->nfiles = nhosts * NCH;
    run->files = kz_calloc(run->nfiles, sizeof *run->files);
    run->counts = kz_calloc((size_t)run->nfiles + 1, sizeof *run->counts);
    run->threads = o->threads > 0 ? o->threads : kz_cpu_count();
    if (run->threads > 64) run->threads = 64;
    run->pool = run->threads > 1 ? kz_pool_new(run->threads - 1) : NULL;
    if (run->threads > 1 && !run->pool) run->threads = 1;
    run->render = kz_calloc((size_t)run->threads, sizeof *run->render);
    if (!run->files || !run->counts || !run->render) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    kz_arena_init(&run->day.arena, 1 << 20, (size_t)1 << 31);
    for (uint32_t pass = 0; pass < npasses; pass++) {
        if ((rc = pass_run(run, pass, npasses, err))) goto out;
        if (pass + 1 < npasses) pass_end(run);
    }
    /* The truth in a canonical order (by file, then record), whatever the passes. */
    for (uint32_t i = 0; i < SIM_MAX_STEPS; i++)
        if (run->truth[i].n > 1)
            qsort(run->truth[i].v, run->truth[i].n, sizeof *run->truth[i].v, by_rec);
    st->benign_user_days = s->benign_user_days;
    if ((rc = write_truth(run, err)) || (rc = write_scenario_json(run, err)) ||
        (rc = write_customers(run, err)) || (rc = write_peers(run, err)))
        goto out;
out:
    pass_end(run);
    kz_pool_free(run->pool);
    kz_free(run->render);
    for (uint32_t i = 0; i < SIM_MAX_STEPS; i++)
        kz_free(run->truth[i].v);
    kz_arena_free(&run->day.arena);
    kz_free(run->day.ev);
    kz_free(run->order);
    kz_free(run->counts);
    kz_free(run->files);
    kz_free(run->logdir);
    kz_free(run);
    return rc;
}
