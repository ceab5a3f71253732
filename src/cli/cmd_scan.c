/* cmd_scan.c - `kizuki scan`: run Sigma rules (and their correlations) over logs, print findings.
 *
 * Pipeline: sources -> EVTX reader (chunks decoded in parallel) -> per-thread matcher (each
 * worker owns a scratch hung off its decoder) -> findings rendered on the worker, into the
 * chunk's output buffer -> written by the main thread strictly in file and chunk order. So the
 * output is byte-identical whatever --threads says. Matches of rules that correlations reference
 * travel the same way as compact records; the main thread collects them, orders them by time
 * (ties by file order) and runs the correlation engine on that stream at the end, so correlation
 * results do not depend on threads or on the order files were given in.
 *
 * The chunk buffer holds a sequence of records: 'F' (a finding: rule index, host, user and the
 * rendered text) and 'C' (a correlation input: time, rule, source and the values the correlation
 * needs). */
#include "cli.h"
#include "cli_ueba.h"

#include "../core/alloc.h"
#include "../core/embedded.h"
#include "../core/intern.h"
#include "../core/pool.h"
#include "../input/evtx/evtx_reader.h"
#include "../input/sources.h"
#include "../input/text_reader.h"
#include "../output/findings.h"
#include "../output/summary.h"
#include "../sigma/correlate.h"
#include "../sigma/match.h"
#include "../ueba/geoip.h"
#include "../ueba/ueba.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: kizuki scan PATH... [--rules DIR]... [--no-default-rules] [--since T] [--until T]\n"
    "                   [-o FILE] [--format table|csv|jsonl] [--min-level L] [--threads N]\n"
    "\n"
    "Runs Sigma rules over the logs under PATH (files, or folders walked recursively; the\n"
    "format is told by content) and prints one finding per matching event, then a summary\n"
    "on stderr. Rules are resolved natively: `logsource` picks the channels and event ids\n"
    "(Sysmon and Security 4688 alike for process_creation), correlation rules run over the\n"
    "time-ordered matches, filters apply to the rules they name. Every rule that cannot\n"
    "run is counted in the summary (list them with `kizuki rules check DIR`).\n"
    "\n"
    "  --rules DIR         Sigma rules to run (file or folder; repeatable). kizuki's own\n"
    "                      rules (built in) run too unless --no-default-rules\n"
    "  --no-default-rules  do not run kizuki's built-in rules\n"
    "  --since T, --until T  only events in [T, T] (RFC 3339, e.g. 2026-03-02T00:00:00Z,\n"
    "                      or a date 2026-03-02)\n"
    "  --format F          table (default on a terminal), jsonl (default otherwise: one\n"
    "                      finding per line, schema in docs/scan.md), or csv (Timesketch-\n"
    "                      ready: datetime, timestamp_desc, message, ...)\n"
    "  --min-level L       informational, low, medium, high or critical (default: all)\n"
    "  -o FILE             write findings to FILE instead of standard output\n"
    "  --threads N         decoding and matching threads (default: one per CPU); the output\n"
    "                      is the same for every N\n"
    "  --no-ueba           no behaviour analytics (UEBA runs by default: `ueba` findings\n"
    "                      when an account or host behaves unlike its history; docs/ueba.md)\n"
    KZ_CLI_UEBA_HELP
    "  --ueba-state FILE   continue the UEBA model saved in FILE (when it exists) and save it\n"
    "                      there after the run, so the next run goes on where this one\n"
    "                      stopped (`kizuki risk --state FILE` lists its riskiest entities)\n"
    "  --no-prefilter      evaluate every rule on every event of its channel (slower; for\n"
    "                      measuring the Vectorscan prefilter)\n"
    "  --no-cache          compile the rules' Vectorscan databases afresh instead of reusing\n"
    "                      those kept in $XDG_CACHE_HOME/kizuki (default ~/.cache/kizuki)\n"
    "  --quiet             no progress and no summary\n"
    "\n"
    "examples:\n"
    "  kizuki scan logs/ --rules sigma/rules/windows\n"
    "  kizuki scan Security.evtx --rules my.yml --format csv -o timeline.csv\n"
    "  kizuki scan logs/ --rules sigma/rules --min-level high --format table\n";

enum out_format { OUT_TABLE, OUT_JSONL, OUT_CSV };

#define SCAN_MAX_CORR_INPUTS (1u << 20) /* correlation inputs kept for one run (~150 MiB at most) */

/* A correlation input, kept on the main thread until the end. */
struct corr_in {
    kz_time ts;
    uint64_t seq; /* arrival order: file order, then record order */
    uint32_t rule;
    uint32_t file_id;
    uint64_t record_id;
    const char *host, *user;
    uint32_t nvalues;
    const uint32_t *fields;
    const char **values;
};

struct scan {
    struct kz_cli cli;
    enum out_format format;
    int colour;
    int min_level;
    int has_since, has_until;
    kz_time since, until;
    struct kz_sigma_ruleset rs;
    struct kz_sigma_engine *engine;
    struct kz_correlator *corr;
    uint8_t *wants;     /* per rule: correlation input wanted */
    uint8_t *generates; /* per rule: own findings reported */
    struct kz_sources sources;
    FILE *out;
    int write_failed;
    struct kz_evtx_reader *reader;
    struct kz_text_reader *text; /* text logs: JSON lines, access logs, FortiGate */
    pthread_mutex_t lock; /* the workers registry */
    uint32_t nworkers, workers_cap;
    struct worker **workers;
    int worker_failed;
    struct kz_summary *summary;
    /* correlation inputs */
    struct kz_arena corr_arena;
    uint32_t ncorr, corr_cap;
    struct corr_in *corr_in;
    uint64_t corr_dropped;
    uint64_t findings;
    struct kz_buf line; /* main thread: correlation findings */
    struct kz_ueba *ueba; /* behaviour analytics; NULL with --no-ueba */
};

/* ---- worker side ---- */

/* Per-decoder state (hung off the decoder, which one thread uses at a time). */
struct worker {
    struct kz_sigma_scratch *scratch;
    struct kz_buf tmp; /* one finding being rendered */
};

struct hit_ctx {
    struct scan *sc;
    struct kz_buf *out;
    uint32_t file_id;
    const struct kz_evtx_record *rec;
    struct kz_buf *tmp;
};

static void put_u32(struct kz_buf *b, uint32_t v) {
    kz_buf_append(b, &v, 4);
}

static void put_str(struct kz_buf *b, const char *s) {
    uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
    put_u32(b, n);
    if (s) kz_buf_append(b, s, n);
}

/* A 'U' record: act (an activity, or a finding as evidence) for UEBA, kept by the main thread
 * like 'C'; its length is patched in once the packed record's size is known. */
static void put_ueba(struct kz_buf *out, const struct kz_ueba_act *act) {
    size_t mark = out->len;
    kz_buf_putc(out, 'U');
    put_u32(out, 0);
    kz_ueba_act_pack(out, act);
    uint32_t len = (uint32_t)(out->len - mark - 5);
    if (!out->failed) memcpy(out->data + mark + 1, &len, 4);
}

/* The account as DOMAIN\user when the event gives both. */
static const char *event_user(const struct kz_event *ev, char *buf, size_t size) {
    const char *u = ev->ent.user, *d = ev->ent.domain;
    if (!u || !*u) return NULL;
    if (!d || !*d) return u;
    snprintf(buf, size, "%s\\%s", d, u);
    return buf;
}

static void scan_render(const struct scan *sc, struct kz_buf *out, const struct kz_finding *f) {
    switch (sc->format) {
    case OUT_JSONL:
        kz_finding_jsonl(out, f);
        break;
    case OUT_CSV:
        kz_finding_csv(out, f);
        break;
    case OUT_TABLE:
        kz_finding_table_row(out, f, sc->colour);
        break;
    }
}

static void on_hit(void *ctx, const struct kz_sigma_rule *rule, uint32_t ri,
                   const struct kz_event *ev) {
    struct hit_ctx *h = ctx;
    struct scan *sc = h->sc;
    struct kz_buf *out = h->out;
    char ubuf[512];
    const char *user = event_user(ev, ubuf, sizeof ubuf);
    if (sc->wants[ri]) {
        const uint32_t *fields;
        uint32_t nfields = 0;
        kz_correlator_wants(sc->corr, rule, &fields, &nfields);
        size_t mark = out->len;
        kz_buf_putc(out, 'C');
        put_u32(out, 0); /* length, patched below */
        kz_buf_append(out, &ev->ts, sizeof ev->ts);
        put_u32(out, ri);
        put_u32(out, h->file_id);
        kz_buf_append(out, &ev->record_id, sizeof ev->record_id);
        put_str(out, ev->host);
        put_str(out, user);
        put_u32(out, nfields);
        for (uint32_t k = 0; k < nfields; k++) {
            const struct kz_field *f = kz_event_field(ev, fields[k]);
            put_u32(out, fields[k]);
            put_str(out, f ? f->val : NULL);
        }
        uint32_t len = (uint32_t)(out->len - mark - 5);
        if (!out->failed) memcpy(out->data + mark + 1, &len, 4);
    }
    if (!sc->generates[ri]) return;
    /* 'U': the finding as evidence for UEBA (docs/ueba.md, "Sigma findings"), in the stream
     * beside the event's activity, whatever --min-level shows */
    struct kz_ueba_act act;
    if (sc->ueba && kz_ueba_extract_finding(ev, rule->level, rule->id, rule->title, &act)) {
        act.file_id = h->file_id;
        put_ueba(out, &act);
    }
    if (rule->level < sc->min_level) return;
    struct kz_finding f = {
        .ts = ev->ts,
        .kind = "sigma",
        .rule_id = rule->id,
        .title = rule->title,
        .level = rule->level,
        .score = kz_finding_level_score(rule->level),
        .ntags = rule->ntags,
        .tags = rule->tags,
        .host = ev->host,
        .user = user,
        .src_ip = ev->ent.src_ip,
        .file = sc->sources.v[h->file_id].path,
        .record_id = ev->record_id,
        .format = kz_sources_format_name(sc->sources.v[h->file_id].format),
        .event = ev,
    };
    const char *reason = rule->detection.condition;
    if (reason) {
        f.nreasons = 1;
        f.reasons = &reason;
    }
    struct kz_buf *t = h->tmp;
    kz_buf_clear(t);
    scan_render(sc, t, &f);
    if (t->failed) return;
    kz_buf_putc(out, 'F');
    put_u32(out, (uint32_t)(4 + 4 + (ev->host ? strlen(ev->host) : 0) + 4 +
                            (user ? strlen(user) : 0) + t->len));
    put_u32(out, ri);
    put_str(out, ev->host);
    put_str(out, user);
    kz_buf_append(out, t->data, t->len);
}

/* Per-decoder state: the matcher scratch and a render buffer. */

static struct worker *worker_new(struct scan *sc) {
    struct worker *w = kz_calloc(1, sizeof *w);
    if (!w) return NULL;
    kz_buf_init(&w->tmp, 64 << 20);
    if (kz_sigma_scratch_new(sc->engine, &w->scratch)) {
        kz_buf_free(&w->tmp);
        kz_free(w);
        return NULL;
    }
    pthread_mutex_lock(&sc->lock);
    if (sc->nworkers == sc->workers_cap) {
        uint32_t cap = sc->workers_cap ? sc->workers_cap * 2 : 16;
        struct worker **nv = kz_realloc(sc->workers, cap * sizeof *nv);
        if (nv) {
            sc->workers = nv;
            sc->workers_cap = cap;
        }
    }
    int ok = sc->nworkers < sc->workers_cap;
    if (ok) sc->workers[sc->nworkers++] = w;
    pthread_mutex_unlock(&sc->lock);
    if (!ok) {
        kz_sigma_scratch_free(w->scratch);
        kz_buf_free(&w->tmp);
        kz_free(w);
        return NULL;
    }
    return w;
}

static struct worker *worker_of(struct scan *sc, struct kz_evtx_decoder *d) {
    struct worker *w = kz_evtx_decoder_user(d);
    if (!w && (w = worker_new(sc))) kz_evtx_decoder_set_user(d, w);
    return w;
}

static void scan_event(struct scan *sc, struct worker *w, const struct kz_event *ev,
                       const struct kz_evtx_record *rec, uint32_t file_id, struct kz_buf *out);

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    struct scan *sc = ctx;
    scan_event(sc, worker_of(sc, d), rec->event, rec, file_id, out);
}

/* An event of a text log (JSON lines, access log, FortiGate): the worker hangs off the text
 * decoder; rec is NULL. */
static void emit_text(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                      uint32_t file_id, struct kz_buf *out) {
    struct scan *sc = ctx;
    struct worker *w = kz_text_decoder_user(d);
    if (!w && (w = worker_new(sc))) kz_text_decoder_set_user(d, w);
    scan_event(sc, w, ev, NULL, file_id, out);
}

/* One event from any reader, on a worker thread. */
static void scan_event(struct scan *sc, struct worker *w, const struct kz_event *ev,
                       const struct kz_evtx_record *rec, uint32_t file_id, struct kz_buf *out) {
    if ((sc->has_since && ev->ts < sc->since) || (sc->has_until && ev->ts > sc->until)) return;
    if (!w) {
        sc->worker_failed = 1;
        return;
    }
    struct hit_ctx h = {.sc = sc, .out = out, .file_id = file_id, .rec = rec, .tmp = &w->tmp};
    kz_sigma_match(sc->engine, w->scratch, ev, on_hit, &h);
    struct kz_ueba_act act;
    if (sc->ueba && kz_ueba_extract(ev, &act)) {
        act.file_id = file_id;
        put_ueba(out, &act);
    }
}

/* ---- main-thread side ---- */

static uint32_t get_u32(const char **p) {
    uint32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    return v;
}

/* A string record field, copied into the correlation arena (NULL stays NULL). */
static const char *get_str(struct scan *sc, const char **p, int copy, uint32_t *len_out) {
    uint32_t n = get_u32(p);
    if (len_out) *len_out = n;
    if (n == UINT32_MAX) return NULL;
    const char *s = *p;
    *p += n;
    return copy ? kz_arena_strndup(&sc->corr_arena, s, n) : s;
}

static void keep_corr_input(struct scan *sc, const char *p) {
    if (sc->ncorr >= SCAN_MAX_CORR_INPUTS) {
        sc->corr_dropped++;
        return;
    }
    if (sc->ncorr == sc->corr_cap) {
        uint32_t cap = sc->corr_cap ? sc->corr_cap * 2 : 1024;
        struct corr_in *nv = kz_realloc(sc->corr_in, cap * sizeof *nv);
        if (!nv) {
            sc->corr_dropped++;
            return;
        }
        sc->corr_in = nv;
        sc->corr_cap = cap;
    }
    struct corr_in *c = &sc->corr_in[sc->ncorr];
    memcpy(&c->ts, p, sizeof c->ts);
    p += sizeof c->ts;
    c->rule = get_u32(&p);
    c->file_id = get_u32(&p);
    memcpy(&c->record_id, p, sizeof c->record_id);
    p += sizeof c->record_id;
    c->host = get_str(sc, &p, 1, NULL);
    c->user = get_str(sc, &p, 1, NULL);
    c->nvalues = get_u32(&p);
    c->seq = sc->ncorr;
    uint32_t *fields = kz_arena_alloc(&sc->corr_arena, (c->nvalues + 1) * sizeof *fields);
    const char **values = kz_arena_alloc(&sc->corr_arena, (c->nvalues + 1) * sizeof *values);
    if (!fields || !values) {
        sc->corr_dropped++;
        return;
    }
    for (uint32_t k = 0; k < c->nvalues; k++) {
        fields[k] = get_u32(&p);
        values[k] = get_str(sc, &p, 1, NULL);
    }
    c->fields = fields;
    c->values = values;
    sc->ncorr++;
}

/* A NUL-terminated copy of a record's string, cut to what the summary keeps. */
static const char *copy_key(char *buf, const char *s, uint32_t n) {
    if (n > KZ_SUMMARY_KEY_MAX) n = KZ_SUMMARY_KEY_MAX;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct scan *sc = ctx;
    const char *p = data, *end = data + len;
    while (p + 5 <= end) {
        char type = *p++;
        uint32_t n = get_u32(&p);
        if (n > (size_t)(end - p)) break; /* a truncated record: the buffer hit its cap */
        const char *rec = p, *next = p + n;
        if (type == 'F') {
            uint32_t ri = get_u32(&rec), hl, ul;
            const char *host = get_str(sc, &rec, 0, &hl);
            const char *user = get_str(sc, &rec, 0, &ul);
            size_t tlen = (size_t)(next - rec);
            if (!sc->write_failed && fwrite(rec, 1, tlen, sc->out) != tlen) sc->write_failed = 1;
            const struct kz_sigma_rule *r = sc->rs.rules[ri];
            char hbuf[KZ_SUMMARY_KEY_MAX + 1], ubuf[KZ_SUMMARY_KEY_MAX + 1];
            struct kz_finding f = {.kind = "sigma", .rule_id = r->id, .title = r->title,
                                   .level = r->level};
            if (host) f.host = copy_key(hbuf, host, hl);
            if (user) f.user = copy_key(ubuf, user, ul);
            kz_summary_add(sc->summary, &f);
            sc->findings++;
        } else if (type == 'C') {
            keep_corr_input(sc, rec);
        } else if (type == 'U' && sc->ueba) {
            struct kz_ueba_act act;
            if (!kz_ueba_act_unpack(rec, n, &act)) kz_ueba_keep(sc->ueba, &act);
        }
        p = next;
    }
    uint64_t bytes = kz_evtx_reader_bytes(sc->reader),
             events = kz_evtx_reader_stats(sc->reader)->records;
    if (sc->text) {
        bytes += kz_text_reader_bytes(sc->text);
        events += kz_text_reader_stats(sc->text)->events;
    }
    kz_cli_progress(&sc->cli, bytes, sc->sources.bytes, events);
}

/* ---- correlation, after the stream ---- */

static int corr_cmp(const void *a, const void *b) {
    const struct corr_in *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void on_alert(void *ctx, const struct kz_corr_alert *a) {
    struct scan *sc = ctx;
    const struct kz_sigma_rule *r = a->rule;
    if (r->level < sc->min_level) return;
    /* One line a person can act on: what held, over which group, in what window. */
    char reason[1024];
    size_t o = (size_t)snprintf(reason, sizeof reason, "%s %g", kz_sigma_corr_type_name(r->corr.type),
                                a->value);
    for (uint32_t k = 0; k < a->ngroup && o < sizeof reason; k++)
        o += (size_t)snprintf(reason + o, sizeof reason - o, "%s%s=%s", k ? ", " : " for ",
                              kz_intern_name(a->group_fields[k]),
                              a->group_values[k] ? a->group_values[k] : "(none)");
    char first[KZ_TIME_TEXT_MAX], last[KZ_TIME_TEXT_MAX];
    kz_time_format(a->first, 0, first);
    kz_time_format(a->last, 0, last);
    char window[128];
    snprintf(window, sizeof window, "%u events from %s to %s", a->nevents, first, last);
    const char *reasons[2] = {reason, window};
    /* The last contributing event names the place (host, user) and the source record. */
    const struct kz_corr_ref *ev = a->nevents ? &a->events[a->nevents - 1] : NULL;
    const struct corr_in *src = NULL;
    if (ev)
        for (uint32_t i = sc->ncorr; i-- > 0;)
            if (sc->corr_in[i].file_id == ev->file_id &&
                sc->corr_in[i].record_id == ev->record_id) {
                src = &sc->corr_in[i];
                break;
            }
    struct kz_finding f = {
        .ts = a->last,
        .kind = "correlation",
        .rule_id = r->id,
        .title = r->title,
        .level = r->level,
        .score = kz_finding_level_score(r->level),
        .ntags = r->ntags,
        .tags = r->tags,
        .host = src ? src->host : NULL,
        .user = src ? src->user : NULL,
        .nreasons = 2,
        .reasons = reasons,
        .file = ev ? sc->sources.v[ev->file_id].path : NULL,
        .record_id = ev ? ev->record_id : 0,
        .format = ev ? kz_sources_format_name(sc->sources.v[ev->file_id].format) : NULL,
    };
    kz_buf_clear(&sc->line);
    scan_render(sc, &sc->line, &f);
    if (!sc->write_failed && fwrite(sc->line.data, 1, sc->line.len, sc->out) != sc->line.len)
        sc->write_failed = 1;
    kz_summary_add(sc->summary, &f);
    sc->findings++;
}

static void run_correlations(struct scan *sc) {
    if (!sc->corr) return;
    if (sc->ncorr > 1) qsort(sc->corr_in, sc->ncorr, sizeof *sc->corr_in, corr_cmp);
    for (uint32_t i = 0; i < sc->ncorr; i++) {
        const struct corr_in *c = &sc->corr_in[i];
        struct kz_corr_input in = {
            .ts = c->ts,
            .rule = sc->rs.rules[c->rule],
            .file_id = c->file_id,
            .record_id = c->record_id,
            .nvalues = c->nvalues,
            .fields = c->fields,
            .values = c->values,
        };
        kz_correlator_push(sc->corr, &in, on_alert, sc);
    }
    kz_correlator_finish(sc->corr, on_alert, sc);
}

/* ---- behaviour analytics, after the stream ---- */

static void on_ueba(void *ctx, const struct kz_ueba_alert *a) {
    struct scan *sc = ctx;
    if (a->level < sc->min_level) return;
    const char *title = a->is_host ? "Unusual behaviour of a host" : "Unusual behaviour of an account";
    struct kz_finding f = {
        .ts = a->ts,
        .kind = "ueba",
        .rule_id = a->is_host ? "ueba.host" : "ueba.user",
        .title = title,
        .level = a->level,
        .score = a->score,
        .host = a->host,
        .user = a->user,
        .src_ip = a->src_ip,
        .nreasons = a->nreasons,
        .reasons = a->reasons,
        .file = a->file_id < sc->sources.n ? sc->sources.v[a->file_id].path : NULL,
        .record_id = a->record_id,
        .format = a->file_id < sc->sources.n
                      ? kz_sources_format_name(sc->sources.v[a->file_id].format)
                      : NULL,
    };
    kz_buf_clear(&sc->line);
    scan_render(sc, &sc->line, &f);
    if (!sc->write_failed && fwrite(sc->line.data, 1, sc->line.len, sc->out) != sc->line.len)
        sc->write_failed = 1;
    kz_summary_add(sc->summary, &f);
    sc->findings++;
}

/* ---- rules ---- */

/* kizuki's own rules, compiled into the binary from rules/. */
static int load_default_rules(struct scan *sc, struct kz_err *err) {
    for (unsigned i = 0; i < kz_embedded_count; i++) {
        const struct kz_embedded_file *f = &kz_embedded_files[i];
        if (strncmp(f->path, "rules/", 6)) continue;
        int rc = kz_sigma_load_buffer(&sc->rs, f->path, f->data, f->len, err);
        if (rc == KZ_ENOMEM) return rc;
    }
    return 0;
}

static int level_of(const char *s) {
    static const char *names[] = {"informational", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) return KZ_LEVEL_INFORMATIONAL + i;
    return -1;
}

static void report_source(void *ctx, const char *msg) {
    struct scan *sc = ctx;
    kz_cli_error(&sc->cli, "%s", msg);
}

static void report_problem(void *ctx, const char *path, const char *msg) {
    struct scan *sc = ctx;
    if (!sc->cli.quiet) kz_cli_warn(&sc->cli, "%s: %s", path, msg);
}

static int parse_time(struct scan *sc, const char *opt, const char *val, kz_time *out) {
    if (!kz_time_parse(val, strlen(val), out)) return 0;
    kz_cli_error(&sc->cli, "%s: '%s' is not a time (write 2026-03-02 or 2026-03-02T09:00:00Z)",
                 opt, val);
    return -1;
}

int kz_cmd_scan(int argc, char **argv) {
    struct scan sc = {0};
    kz_cli_init(&sc.cli, "scan");
    pthread_mutex_init(&sc.lock, NULL);
    kz_sigma_ruleset_init(&sc.rs);
    kz_arena_init(&sc.corr_arena, 1 << 20, (size_t)1 << 30);
    kz_buf_init(&sc.line, 16 << 20);
    const char **paths = kz_calloc((size_t)argc, sizeof *paths);
    const char **rule_paths = kz_calloc((size_t)argc, sizeof *rule_paths);
    int npaths = 0, nrules = 0, bad = 0, no_default = 0, no_prefilter = 0, rc = KZ_EXIT_OK;
    int format_given = 0, no_ueba = 0, no_cache = 0;
    long threads = 0;
    const char *outpath = NULL, *val, *ueba_state = NULL;
    struct kz_cli_ueba uopt;
    struct kz_pool *pool = NULL;
    struct kz_err err = {0};
    if (kz_cli_ueba_init(&uopt, argc) || !paths || !rule_paths) {
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&sc.cli, a, help);
        if (common == KZ_CLI_DONE) goto out;
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_flag(a, "--no-default-rules")) {
            no_default = 1;
        } else if (kz_cli_flag(a, "--no-prefilter")) {
            no_prefilter = 1;
        } else if (kz_cli_flag(a, "--no-cache")) {
            no_cache = 1;
        } else if (kz_cli_flag(a, "--no-ueba")) {
            no_ueba = 1;
        } else if (kz_cli_ueba_opt(&sc.cli, &uopt, argc, argv, &i, &bad)) {
            continue;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--ueba-state", &val, &bad)) {
            if (!bad) ueba_state = val;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--rules", &val, &bad)) {
            if (!bad) rule_paths[nrules++] = val;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            format_given = 1;
            if (!strcmp(val, "jsonl") || !strcmp(val, "json"))
                sc.format = OUT_JSONL;
            else if (!strcmp(val, "csv"))
                sc.format = OUT_CSV;
            else if (!strcmp(val, "table"))
                sc.format = OUT_TABLE;
            else {
                kz_cli_error(&sc.cli, "--format: '%s' is not one of table, csv, jsonl", val);
                bad = 1;
            }
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--min-level", &val, &bad)) {
            if (!bad && (sc.min_level = level_of(val)) < 0) {
                kz_cli_error(&sc.cli,
                             "--min-level: '%s' is not one of informational, low, medium, "
                             "high, critical",
                             val);
                bad = 1;
            }
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--since", &val, &bad)) {
            if (!bad && parse_time(&sc, "--since", val, &sc.since)) bad = 1;
            sc.has_since = 1;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--until", &val, &bad)) {
            if (!bad && parse_time(&sc, "--until", val, &sc.until)) bad = 1;
            sc.has_until = 1;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "--threads", &val, &bad)) {
            if (!bad && kz_cli_int(&sc.cli, "--threads", val, 1, 256, &threads)) bad = 1;
        } else if (kz_cli_opt(&sc.cli, argc, argv, &i, "-o", &val, &bad) ||
                   kz_cli_opt(&sc.cli, argc, argv, &i, "--output", &val, &bad)) {
            outpath = val;
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(&sc.cli, "unknown option '%s' (see kizuki scan --help)", a);
            bad = 1;
        } else {
            paths[npaths++] = a;
        }
    }
    if (!bad && npaths == 0) {
        kz_cli_error(&sc.cli, "no PATH given (see kizuki scan --help)");
        bad = 1;
    }
    /* --ueba-state with --no-ueba would neither load nor save the model: the caller would
     * believe the history continues while it is silently dropped */
    if (!bad && no_ueba && ueba_state) {
        kz_cli_error(&sc.cli, "--ueba-state cannot be used with --no-ueba (the model would be "
                              "neither loaded nor saved)");
        bad = 1;
    }
    if (!bad && no_ueba && uopt.given) {
        kz_cli_error(&sc.cli, "%s cannot be used with --no-ueba (it is a UEBA option)", uopt.given);
        bad = 1;
    }
    if (bad) {
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    if (!format_given) sc.format = isatty(outpath ? -1 : STDOUT_FILENO) ? OUT_TABLE : OUT_JSONL;
    sc.colour = sc.format == OUT_TABLE && !outpath && sc.cli.color && isatty(STDOUT_FILENO);
    double t0 = kz_cli_now();

    /* Rules: built-in, then each --rules path, then references resolved over all of them. */
    if (!no_default && load_default_rules(&sc, &err) == KZ_ENOMEM) {
        kz_cli_error(&sc.cli, "out of memory loading rules");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    for (int i = 0; i < nrules; i++) {
        int lrc = kz_sigma_load_path(&sc.rs, rule_paths[i], &err);
        if (lrc == KZ_ENOMEM) {
            kz_cli_error(&sc.cli, "out of memory loading rules");
            rc = KZ_EXIT_INTERNAL;
            goto out;
        }
        if (lrc) {
            kz_cli_error(&sc.cli, "%s", err.msg);
            rc = KZ_EXIT_INPUT;
            goto out;
        }
    }
    if (kz_sigma_ruleset_link(&sc.rs)) {
        kz_cli_error(&sc.cli, "out of memory linking rules");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    struct kz_sigma_engine_opts eo = {.no_prefilter = no_prefilter};
    char cache_dir[4096];
    if (!no_cache && kz_sigma_cache_dir(cache_dir, sizeof cache_dir) == 0)
        eo.cache_dir = cache_dir;
    if (kz_sigma_engine_new(&sc.engine, &sc.rs, &eo, &err) ||
        kz_correlator_new(&sc.corr, &sc.rs, &err)) {
        kz_cli_error(&sc.cli, "%s", err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        goto out;
    }
    if (sc.rs.nrules && kz_sigma_vectorscan_untrusted())
        kz_cli_warn(&sc.cli, "this system's Vectorscan failed kizuki's self-check (it misses some "
                             "literals: Vectorscan 5.4.9's AVX-512 bug) and offers no working "
                             "alternative: rules run without the prefilter and regexes with "
                             "PCRE2 (the same findings, slower)");
    sc.wants = kz_calloc(sc.rs.nrules + 1, 1);
    sc.generates = kz_calloc(sc.rs.nrules + 1, 1);
    if (!sc.wants || !sc.generates || kz_summary_new(&sc.summary, 0)) {
        kz_cli_error(&sc.cli, "out of memory");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    for (uint32_t i = 0; i < sc.rs.nrules; i++) {
        const uint32_t *fields;
        uint32_t nf;
        sc.wants[i] = (uint8_t)kz_correlator_wants(sc.corr, sc.rs.rules[i], &fields, &nf);
        sc.generates[i] = (uint8_t)kz_correlator_generates(sc.corr, sc.rs.rules[i]);
    }

    if (!no_ueba && (rc = kz_cli_ueba_open(&sc.cli, &uopt, ueba_state, 1, "--ueba-state: ",
                                           &sc.ueba)))
        goto out;
    for (int i = 0; i < npaths; i++)
        if (kz_sources_add(&sc.sources, paths[i], report_source, &sc)) {
            kz_cli_error(&sc.cli, "out of memory listing inputs");
            rc = KZ_EXIT_INTERNAL;
            goto out;
        }
    if (sc.sources.errors) rc = KZ_EXIT_INPUT;
    sc.out = stdout;
    if (outpath && !(sc.out = fopen(outpath, "w"))) {
        kz_cli_error(&sc.cli, "%s: %s", outpath, strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    static char obuf[1 << 20];
    setvbuf(sc.out, obuf, _IOFBF, sizeof obuf);
    kz_buf_clear(&sc.line);
    if (sc.format == OUT_CSV) kz_finding_csv_header(&sc.line);
    if (sc.format == OUT_TABLE) kz_finding_table_header(&sc.line, sc.colour);
    if (sc.line.len) fwrite(sc.line.data, 1, sc.line.len, sc.out);

    pool = kz_pool_new((int)threads);
    struct kz_evtx_reader_opts o = {
        .emit = emit, .write = write_out, .report = report_problem, .ctx = &sc};
    struct kz_text_reader_opts to = {
        .emit = emit_text, .write = write_out, .report = report_problem, .ctx = &sc};
    sc.reader = pool ? kz_evtx_reader_new(pool, &o) : NULL;
    sc.text = pool ? kz_text_reader_new(pool, &to) : NULL;
    if (!sc.reader || !sc.text) {
        kz_cli_error(&sc.cli, "out of memory starting the decoder");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    /* Each file goes to its format's reader; switching readers first drains the other one, so
     * findings stay in file order. */
    for (uint32_t i = 0; i < sc.sources.n; i++) {
        int arc;
        if (sc.sources.v[i].format == KZ_FMT_EVTX) {
            kz_text_reader_flush(sc.text);
            arc = kz_evtx_reader_add_file(sc.reader, sc.sources.v[i].path, i, &err);
        } else {
            kz_evtx_reader_flush(sc.reader);
            arc = kz_text_reader_add_file(sc.text, sc.sources.v[i].path, sc.sources.v[i].format, i,
                                          &err);
        }
        if (arc) {
            kz_cli_error(&sc.cli, "%s", err.msg);
            rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        }
    }
    kz_evtx_reader_flush(sc.reader);
    kz_text_reader_flush(sc.text);
    run_correlations(&sc);
    if (sc.ueba) kz_ueba_run(sc.ueba, on_ueba, &sc);
    if (sc.ueba && ueba_state && kz_ueba_save(sc.ueba, ueba_state, &err)) {
        kz_cli_error(&sc.cli, "--ueba-state: %s", err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    kz_cli_progress_clear(&sc.cli);
    if (fflush(sc.out) || sc.write_failed) {
        kz_cli_error(&sc.cli, "writing output: %s", strerror(errno));
        rc = KZ_EXIT_INPUT;
    }
    if (sc.worker_failed) {
        kz_cli_error(&sc.cli, "out of memory: some events were not matched");
        rc = KZ_EXIT_INTERNAL;
    }
    if (sc.corr_dropped)
        kz_cli_warn(&sc.cli,
                    "%llu matches for correlations were not kept (more than %u); correlation "
                    "results are incomplete",
                    (unsigned long long)sc.corr_dropped, SCAN_MAX_CORR_INPUTS);
    struct kz_ueba_stats us = {0};
    if (sc.ueba) kz_ueba_stats(sc.ueba, &us);
    if (us.kept_dropped)
        kz_cli_warn(&sc.cli,
                    "%llu activities were not kept for behaviour analytics (over its cap); UEBA "
                    "results are incomplete",
                    (unsigned long long)us.kept_dropped);
    struct kz_geoip_stats gs;
    kz_geoip_stats(uopt.geoip, &gs);
    if (gs.over_cap)
        kz_cli_warn(&sc.cli,
                    "%llu logons of accounts beyond the travel memory's cap (%u accounts) were not "
                    "checked for impossible travel",
                    (unsigned long long)gs.over_cap, KZ_GEOIP_MAX_ACCOUNTS);
    if (sc.sources.n == 0 && rc == KZ_EXIT_OK) {
        kz_cli_error(&sc.cli, "no logs in a format kizuki reads found under the given paths");
        rc = KZ_EXIT_INPUT;
    }
    if (!sc.cli.quiet) {
        const struct kz_evtx_stats *st = kz_evtx_reader_stats(sc.reader);
        const struct kz_text_stats *tst = kz_text_reader_stats(sc.text);
        const struct kz_sigma_engine_stats *es = kz_sigma_engine_stats(sc.engine);
        struct kz_corr_stats cs;
        kz_correlator_stats(sc.corr, &cs);
        struct kz_summary_run run = {
            .files = sc.sources.n,
            .files_failed = sc.sources.errors,
            .records = st->records + tst->events,
            .bad_records = st->bad_records + tst->bad_lines,
            .bytes = kz_evtx_reader_bytes(sc.reader) + kz_text_reader_bytes(sc.text),
            .rules_loaded = es->rules + (cs.correlations - cs.skipped),
            .rules_failed = sc.rs.nfailures,
            .rules_skipped = es->skipped + cs.skipped,
            .seconds = kz_cli_now() - t0,
        };
        kz_summary_set_run(sc.summary, &run);
        kz_summary_print(sc.summary, stderr, kz_summary_colour(stderr));
        if (sc.rs.nfailures || es->skipped || cs.skipped)
            fprintf(stderr,
                    "  rules that did not load or cannot run are listed by `kizuki rules check "
                    "DIR`\n");
    }
out:
    if (sc.reader) kz_evtx_reader_free(sc.reader);
    kz_text_reader_free(sc.text);
    kz_pool_free(pool);
    for (uint32_t i = 0; i < sc.nworkers; i++) {
        kz_sigma_scratch_free(sc.workers[i]->scratch);
        kz_buf_free(&sc.workers[i]->tmp);
        kz_free(sc.workers[i]);
    }
    kz_free(sc.workers);
    if (sc.out && sc.out != stdout) fclose(sc.out);
    kz_correlator_free(sc.corr);
    kz_ueba_free(sc.ueba);
    kz_cli_ueba_free(&uopt); /* after the engine that uses it */
    kz_sigma_engine_free(sc.engine);
    kz_sigma_ruleset_free(&sc.rs);
    kz_summary_free(sc.summary);
    kz_free(sc.wants);
    kz_free(sc.generates);
    kz_free(sc.corr_in);
    kz_arena_free(&sc.corr_arena);
    kz_buf_free(&sc.line);
    kz_sources_free(&sc.sources);
    kz_free(paths);
    kz_free(rule_paths);
    pthread_mutex_destroy(&sc.lock);
    return rc;
}
