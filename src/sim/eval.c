/* eval.c - scoring findings against ground truth; see eval.h for the rules.
 *
 * The truth is small (tens of steps, a few confounders) except for the records a step lists, which
 * can run to millions (every file read during an exfiltration). Records are therefore kept in one
 * open-addressing table keyed by record id, each entry naming its truth file and step; a finding
 * looks up its record id and compares the few candidate files' paths with its own. Host and user
 * windows are checked step by step: the steps are few, the findings many. */
#include "eval.h"

#include "../core/alloc.h"
#include "../sigma/rule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kz_eval_record {
    uint64_t id;   /* record id or line; 0 marks an empty table slot */
    uint32_t file; /* index in ev->files */
    uint32_t step; /* index in ev->steps */
};

void kz_eval_init(struct kz_eval *ev, int min_level) {
    memset(ev, 0, sizeof *ev);
    ev->min_level = min_level;
    kz_arena_init(&ev->arena, 64 * 1024, KZ_EVAL_MAX_STRINGS);
}

void kz_eval_free(struct kz_eval *ev) {
    kz_free(ev->steps);
    kz_free(ev->scenarios);
    kz_free(ev->conf);
    kz_free(ev->files);
    kz_free(ev->recs);
    kz_free(ev->table);
    kz_arena_free(&ev->arena);
    memset(ev, 0, sizeof *ev);
}

/* ---- growing arrays (every one capped) ---- */

static int grow(void **v, uint64_t *cap, uint64_t need, size_t elem, uint64_t max) {
    if (need <= *cap) return 0;
    if (need > max) return KZ_ELIMIT;
    uint64_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    if (c > max) c = max;
    void *n = kz_realloc(*v, (size_t)c * elem);
    if (!n) return KZ_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}

static int grow32(void **v, uint32_t *cap, uint32_t need, size_t elem, uint32_t max) {
    uint64_t c = *cap;
    int rc = grow(v, &c, need, elem, max);
    *cap = (uint32_t)c;
    return rc;
}

/* ---- reading JSON fields ---- */

/* Optional string: NULL when absent or null. */
static int get_str(const struct kz_json_node *obj, const char *key, int required,
                   struct kz_arena *a, const char **out, struct kz_err *err) {
    const struct kz_json_node *v = kz_json_get(obj, key);
    *out = NULL;
    if (!v || v->type == KZ_JSON_NULL) {
        if (required) return kz_err_set(err, KZ_EFORMAT, "`%s` is missing", key);
        return 0;
    }
    if (v->type != KZ_JSON_STRING) return kz_err_set(err, KZ_EFORMAT, "`%s` must be a string", key);
    if (required && v->len == 0) return kz_err_set(err, KZ_EFORMAT, "`%s` is empty", key);
    if (!(*out = kz_json_strdup(a, v))) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    return 0;
}

static int get_time(const struct kz_json_node *obj, const char *key, kz_time *out,
                    struct kz_err *err) {
    const struct kz_json_node *v = kz_json_get(obj, key);
    if (!v || v->type == KZ_JSON_NULL) return kz_err_set(err, KZ_EFORMAT, "`%s` is missing", key);
    if (v->type != KZ_JSON_STRING || kz_time_parse(v->u.str, v->len, out))
        return kz_err_set(err, KZ_EFORMAT,
                          "`%s` must be an RFC 3339 time (\"2026-03-02T09:15:00Z\")", key);
    return 0;
}

/* A non-negative integer; absent or null gives *present = 0. */
static int get_uint(const struct kz_json_node *obj, const char *key, uint64_t max, uint64_t *out,
                    int *present, struct kz_err *err) {
    const struct kz_json_node *v = kz_json_get(obj, key);
    int64_t i;
    *present = 0;
    if (!v || v->type == KZ_JSON_NULL) return 0;
    if (kz_json_int(v, &i) || i < 0 || (uint64_t)i > max)
        return kz_err_set(err, KZ_EFORMAT, "`%s` must be an integer from 0 to %llu", key,
                          (unsigned long long)max);
    *out = (uint64_t)i;
    *present = 1;
    return 0;
}

/* ---- truth files ---- */

/* Normalises a truth file path in place: '\' to '/', no leading "./" or '/'. */
static const char *normalise_path(char *p) {
    for (char *c = p; *c; c++)
        if (*c == '\\') *c = '/';
    for (;;) {
        if (p[0] == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else
            break;
    }
    return p;
}

/* Index of a truth file, added if new (linear over the distinct files, with the last one cached:
 * a step's records come grouped by file). */
static int file_index(struct kz_eval *ev, const struct kz_json_node *name, uint32_t *out,
                      uint32_t *cache, struct kz_err *err) {
    char *copy = kz_arena_strndup(&ev->arena, name->u.str, name->len);
    if (!copy) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    const char *p = normalise_path(copy);
    if (!*p) return kz_err_set(err, KZ_EFORMAT, "a record's `file` is empty");
    if (*cache < ev->nfiles && !strcmp(ev->files[*cache], p)) {
        *out = *cache;
        return 0;
    }
    for (uint32_t i = 0; i < ev->nfiles; i++) {
        if (!strcmp(ev->files[i], p)) {
            *out = *cache = i;
            return 0;
        }
    }
    int rc = grow32((void **)&ev->files, &ev->files_cap, ev->nfiles + 1, sizeof *ev->files,
                    KZ_EVAL_MAX_FILES);
    if (rc)
        return kz_err_set(err, rc,
                          rc == KZ_ELIMIT ? "more than %u distinct record files"
                                          : "out of memory (%u files)",
                          (unsigned)KZ_EVAL_MAX_FILES);
    ev->files[ev->nfiles] = p;
    *out = *cache = ev->nfiles++;
    return 0;
}

static int add_records(struct kz_eval *ev, const struct kz_json_node *recs, uint32_t step,
                       uint64_t *count, struct kz_err *err) {
    if (!recs || recs->type == KZ_JSON_NULL) return 0;
    if (recs->type != KZ_JSON_ARRAY)
        return kz_err_set(err, KZ_EFORMAT, "`records` must be an array");
    uint32_t cache = UINT32_MAX;
    const struct kz_json_node *r = kz_json_first(recs);
    for (uint32_t i = 0; i < recs->len; i++, r = kz_json_next(r)) {
        if (r->type != KZ_JSON_OBJECT)
            return kz_err_set(err, KZ_EFORMAT, "records[%u] must be an object", i);
        const struct kz_json_node *file = kz_json_get(r, "file");
        if (!file || file->type != KZ_JSON_STRING)
            return kz_err_set(err, KZ_EFORMAT, "records[%u]: `file` must be a string", i);
        uint64_t id = 0;
        int has_id, has_line;
        uint64_t line = 0;
        if (get_uint(r, "record_id", UINT64_MAX >> 1, &id, &has_id, err) ||
            get_uint(r, "line", UINT64_MAX >> 1, &line, &has_line, err)) {
            kz_err_prefix(err, "records[%u]: ", i);
            return KZ_EFORMAT;
        }
        if (!has_id) id = line;
        if (!has_id && !has_line)
            return kz_err_set(err, KZ_EFORMAT, "records[%u]: needs `record_id` or `line`", i);
        if (id == 0)
            return kz_err_set(err, KZ_EFORMAT, "records[%u]: record ids and lines start at 1", i);
        uint32_t fi = 0;
        int rc = file_index(ev, file, &fi, &cache, err);
        if (rc) return rc;
        rc = grow((void **)&ev->recs, &ev->recs_cap, ev->nrecs + 1, sizeof *ev->recs,
                  KZ_EVAL_MAX_RECORDS);
        if (rc)
            return kz_err_set(err, rc,
                              rc == KZ_ELIMIT ? "more than %u records in the truth"
                                              : "out of memory for %u records",
                              (unsigned)KZ_EVAL_MAX_RECORDS);
        ev->recs[ev->nrecs++] = (struct kz_eval_record){.id = id, .file = fi, .step = step};
        (*count)++;
    }
    return 0;
}

int kz_eval_add_step(struct kz_eval *ev, const struct kz_json_node *obj, struct kz_err *err) {
    if (ev->prepared) return kz_err_set(err, KZ_EUSAGE, "steps added after kz_eval_prepare");
    if (!obj || obj->type != KZ_JSON_OBJECT)
        return kz_err_set(err, KZ_EFORMAT, "a step must be a JSON object");
    int rc = grow32((void **)&ev->steps, &ev->steps_cap, ev->nsteps + 1, sizeof *ev->steps,
                    KZ_EVAL_MAX_STEPS);
    if (rc)
        return kz_err_set(err, rc, rc == KZ_ELIMIT ? "more than %u steps" : "out of memory",
                          (unsigned)KZ_EVAL_MAX_STEPS);
    struct kz_eval_step st = {0};
    uint64_t number;
    int present;
    struct kz_arena *a = &ev->arena;
    if ((rc = get_str(obj, "scenario", 1, a, &st.scenario, err)) ||
        (rc = get_uint(obj, "step", UINT32_MAX, &number, &present, err)))
        return rc;
    if (!present || number == 0)
        return kz_err_set(err, KZ_EFORMAT, "`step` must be an integer from 1 (the step's number)");
    st.number = (uint32_t)number;
    if ((rc = get_str(obj, "stage", 0, a, &st.stage, err)) ||
        (rc = get_str(obj, "technique", 0, a, &st.technique, err)) ||
        (rc = get_str(obj, "host", 0, a, &st.host, err)) ||
        (rc = get_str(obj, "user", 0, a, &st.user, err)) ||
        (rc = get_time(obj, "start", &st.start, err)) || (rc = get_time(obj, "end", &st.end, err)))
        return rc;
    if (st.end < st.start) return kz_err_set(err, KZ_EFORMAT, "`end` is before `start`");
    uint64_t mark = ev->nrecs;
    if ((rc = add_records(ev, kz_json_get(obj, "records"), ev->nsteps, &st.nrecords, err))) {
        ev->nrecs = mark;
        return rc;
    }
    st.order = ev->nsteps;
    ev->steps[ev->nsteps++] = st;
    return 0;
}

/* ---- scenario.json ---- */

static int scenario_index(struct kz_eval *ev, const char *name, uint32_t *out, struct kz_err *err) {
    for (uint32_t i = 0; i < ev->nscenarios; i++) {
        if (!strcmp(ev->scenarios[i].name, name)) {
            *out = i;
            return 0;
        }
    }
    int rc = grow32((void **)&ev->scenarios, &ev->scenarios_cap, ev->nscenarios + 1,
                    sizeof *ev->scenarios, KZ_EVAL_MAX_SCENARIOS);
    if (rc)
        return kz_err_set(err, rc, rc == KZ_ELIMIT ? "more than %u scenarios" : "out of memory",
                          (unsigned)KZ_EVAL_MAX_SCENARIOS);
    ev->scenarios[ev->nscenarios] = (struct kz_eval_scenario){.name = name};
    *out = ev->nscenarios++;
    return 0;
}

int kz_eval_set_scenario(struct kz_eval *ev, const struct kz_json_node *root, struct kz_err *err) {
    if (ev->prepared || ev->have_scenario_json)
        return kz_err_set(err, KZ_EUSAGE, "scenario.json given twice or after kz_eval_prepare");
    if (!root || root->type != KZ_JSON_OBJECT)
        return kz_err_set(err, KZ_EFORMAT, "the document must be a JSON object");
    const struct kz_json_node *bud = kz_json_get(root, "benign_user_days");
    double d;
    if (!bud) return kz_err_set(err, KZ_EFORMAT, "`benign_user_days` is missing");
    if (kz_json_double(bud, &d) || !isfinite(d) || d < 0)
        return kz_err_set(err, KZ_EFORMAT, "`benign_user_days` must be a number >= 0");
    ev->benign_user_days = d;
    int rc;
    const struct kz_json_node *scen = kz_json_get(root, "scenarios");
    if (scen && scen->type != KZ_JSON_NULL) {
        if (scen->type != KZ_JSON_ARRAY)
            return kz_err_set(err, KZ_EFORMAT, "`scenarios` must be an array");
        const struct kz_json_node *s = kz_json_first(scen);
        for (uint32_t i = 0; i < scen->len; i++, s = kz_json_next(s)) {
            const char *name;
            uint32_t idx;
            if (s->type != KZ_JSON_OBJECT)
                return kz_err_set(err, KZ_EFORMAT, "scenarios[%u] must be an object", i);
            if ((rc = get_str(s, "name", 1, &ev->arena, &name, err))) {
                kz_err_prefix(err, "scenarios[%u]: ", i);
                return rc;
            }
            if ((rc = scenario_index(ev, name, &idx, err))) return rc;
        }
    }
    const struct kz_json_node *conf = kz_json_get(root, "confounders");
    if (conf && conf->type != KZ_JSON_NULL) {
        if (conf->type != KZ_JSON_ARRAY)
            return kz_err_set(err, KZ_EFORMAT, "`confounders` must be an array");
        const struct kz_json_node *c = kz_json_first(conf);
        for (uint32_t i = 0; i < conf->len; i++, c = kz_json_next(c)) {
            struct kz_eval_confounder cf = {0};
            if (c->type != KZ_JSON_OBJECT)
                return kz_err_set(err, KZ_EFORMAT, "confounders[%u] must be an object", i);
            if ((rc = get_str(c, "kind", 1, &ev->arena, &cf.kind, err)) ||
                (rc = get_str(c, "account", 1, &ev->arena, &cf.account, err)) ||
                (rc = get_time(c, "start", &cf.start, err)) ||
                (rc = get_time(c, "end", &cf.end, err))) {
                kz_err_prefix(err, "confounders[%u]: ", i);
                return rc;
            }
            if (cf.end < cf.start)
                return kz_err_set(err, KZ_EFORMAT, "confounders[%u]: `end` is before `start`", i);
            rc = grow32((void **)&ev->conf, &ev->conf_cap, ev->nconf + 1, sizeof *ev->conf,
                        KZ_EVAL_MAX_CONFOUNDERS);
            if (rc)
                return kz_err_set(err, rc,
                                  rc == KZ_ELIMIT ? "more than %u confounders" : "out of memory",
                                  (unsigned)KZ_EVAL_MAX_CONFOUNDERS);
            ev->conf[ev->nconf++] = cf;
        }
    }
    ev->have_scenario_json = 1;
    return 0;
}

/* ---- prepare: order steps, index records ---- */

static int step_cmp(const void *a, const void *b) {
    const struct kz_eval_step *x = a, *y = b;
    if (x->scenario_index != y->scenario_index)
        return x->scenario_index < y->scenario_index ? -1 : 1;
    if (x->number != y->number) return x->number < y->number ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static inline uint64_t hash_id(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return id;
}

int kz_eval_prepare(struct kz_eval *ev, struct kz_err *err) {
    int rc;
    if (ev->prepared) return 0;
    if (!ev->have_scenario_json)
        return kz_err_set(err, KZ_EFORMAT, "scenario.json was not read (benign_user_days needed)");
    /* Scenarios: scenario.json's order, then names only the truth uses, as they first appear. */
    for (uint32_t i = 0; i < ev->nsteps; i++)
        if ((rc = scenario_index(ev, ev->steps[i].scenario, &ev->steps[i].scenario_index, err)))
            return rc;
    if (ev->nsteps) qsort(ev->steps, ev->nsteps, sizeof *ev->steps, step_cmp);
    for (uint32_t i = 0; i < ev->nsteps; i++) {
        struct kz_eval_step *st = &ev->steps[i];
        if (i && st->scenario_index == st[-1].scenario_index && st->number == st[-1].number)
            return kz_err_set(err, KZ_EFORMAT, "truth: scenario '%s' has step %u twice",
                              st->scenario, st->number);
        ev->scenarios[st->scenario_index].steps_total++;
    }
    /* Records pointed at steps by their line order; point them at the sorted positions. */
    uint32_t *where = kz_malloc((size_t)(ev->nsteps ? ev->nsteps : 1) * sizeof *where);
    if (!where) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < ev->nsteps; i++)
        where[ev->steps[i].order] = i;
    uint64_t cap = 16;
    while (cap < ev->nrecs * 2)
        cap *= 2;
    ev->table = kz_calloc((size_t)cap, sizeof *ev->table);
    if (!ev->table) {
        kz_free(where);
        return kz_err_set(err, KZ_ENOMEM, "out of memory indexing %llu records",
                          (unsigned long long)ev->nrecs);
    }
    ev->table_cap = cap;
    for (uint64_t i = 0; i < ev->nrecs; i++) {
        struct kz_eval_record r = ev->recs[i];
        r.step = where[r.step];
        uint64_t h = hash_id(r.id) & (cap - 1);
        while (ev->table[h].id)
            h = (h + 1) & (cap - 1);
        ev->table[h] = r;
    }
    kz_free(where);
    kz_free(ev->recs);
    ev->recs = NULL;
    ev->nrecs = ev->recs_cap = 0;
    ev->prepared = 1;
    return 0;
}

/* ---- loading from memory ---- */

struct load_ctx {
    struct kz_eval *ev;
    struct kz_err *err;
    int failed;
};

static int load_step(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct load_ctx *lc = ctx;
    int rc = kz_eval_add_step(lc->ev, kz_json_root(doc), lc->err);
    if (rc) {
        kz_err_prefix(lc->err, "truth.jsonl:%llu: ", (unsigned long long)line);
        lc->failed = rc;
        return rc;
    }
    return 0;
}

static void load_bad(void *ctx, uint64_t line, const struct kz_json_error *e) {
    struct load_ctx *lc = ctx;
    if (lc->failed) return;
    lc->failed = e->code ? e->code : KZ_EFORMAT;
    kz_err_set(lc->err, lc->failed, "truth.jsonl:%llu:%u: %s", (unsigned long long)line, e->column,
               e->msg);
}

int kz_eval_load_text(struct kz_eval *ev, const char *truth_jsonl, size_t truth_len,
                      const char *scenario_json, size_t scenario_len, struct kz_err *err) {
    struct kz_arena scratch;
    kz_arena_init(&scratch, 64 * 1024, 0);
    struct load_ctx lc = {.ev = ev, .err = err};
    struct kz_json_lines jl;
    struct kz_json_limits lim = {.max_input = KZ_EVAL_TRUTH_LINE_MAX,
                                 .max_nodes = KZ_EVAL_TRUTH_NODES_MAX};
    int rc = kz_json_lines_init(&jl, &lim, &scratch, load_step, load_bad, &lc);
    if (rc) {
        kz_arena_free(&scratch);
        return kz_err_set(err, rc, "out of memory");
    }
    rc = kz_json_lines_feed(&jl, truth_jsonl, truth_len);
    if (!rc && !lc.failed) rc = kz_json_lines_finish(&jl);
    kz_json_lines_free(&jl);
    if (lc.failed) rc = lc.failed;
    if (!rc) {
        struct kz_json_doc doc;
        struct kz_json_error je;
        kz_arena_reset(&scratch);
        rc = kz_json_parse(scenario_json, scenario_len, &scratch, NULL, &doc, &je);
        if (rc)
            kz_err_set(err, rc, "scenario.json:%llu:%u: %s", (unsigned long long)je.line, je.column,
                       je.msg);
        else if ((rc = kz_eval_set_scenario(ev, kz_json_root(&doc), err)))
            kz_err_prefix(err, "scenario.json: ");
    }
    kz_arena_free(&scratch);
    if (!rc) rc = kz_eval_prepare(ev, err);
    return rc;
}

/* ---- findings ---- */

int kz_eval_level_parse(const char *s, size_t n) {
    for (int l = KZ_LEVEL_INFORMATIONAL; l <= KZ_LEVEL_CRITICAL; l++) {
        const char *name = kz_sigma_level_name(l);
        if (strlen(name) == n && !memcmp(name, s, n)) return l;
    }
    return -1;
}

int kz_eval_finding_from_json(const struct kz_json_node *obj, struct kz_arena *a,
                              struct kz_eval_finding *f, struct kz_err *err) {
    memset(f, 0, sizeof *f);
    if (!obj || obj->type != KZ_JSON_OBJECT)
        return kz_err_set(err, KZ_EFORMAT, "a finding must be a JSON object");
    int rc;
    if ((rc = get_time(obj, "ts", &f->ts, err))) return rc;
    const struct kz_json_node *lv = kz_json_get(obj, "level");
    if (!lv || lv->type != KZ_JSON_STRING ||
        (f->level = kz_eval_level_parse(lv->u.str, lv->len)) < 0)
        return kz_err_set(err, KZ_EFORMAT,
                          "`level` must be informational, low, medium, high or critical");
    if ((rc = get_str(obj, "host", 0, a, &f->host, err)) ||
        (rc = get_str(obj, "user", 0, a, &f->user, err)))
        return rc;
    const struct kz_json_node *src = kz_json_get(obj, "source");
    if (src && src->type != KZ_JSON_NULL) {
        int present;
        if (src->type != KZ_JSON_OBJECT)
            return kz_err_set(err, KZ_EFORMAT, "`source` must be an object");
        if ((rc = get_str(src, "file", 0, a, &f->file, err)) ||
            (rc = get_uint(src, "record_id", UINT64_MAX >> 1, &f->record_id, &present, err))) {
            kz_err_prefix(err, "source: ");
            return rc;
        }
    }
    return 0;
}

/* ---- matching ---- */

static int is_none(const char *s) {
    return !s || !*s || (s[0] == '-' && !s[1]);
}

static int is_ipv4ish(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) return 0;
    return 1;
}

static int is_ipv6ish(const char *s, size_t n) {
    return memchr(s, ':', n) != NULL;
}

/* Hosts: same name without case; a short name matches an FQDN's first label. */
static int host_match_n(const char *a, size_t na, const char *b, size_t nb) {
    while (na && a[na - 1] == '.')
        na--;
    while (nb && b[nb - 1] == '.')
        nb--;
    if (!na || !nb) return 0;
    if (na == nb && !strncasecmp(a, b, na)) return 1;
    if (is_ipv4ish(a, na) || is_ipv4ish(b, nb) || is_ipv6ish(a, na) || is_ipv6ish(b, nb)) return 0;
    const char *da = memchr(a, '.', na), *db = memchr(b, '.', nb);
    if (da && db) return 0; /* two different FQDNs */
    size_t la = da ? (size_t)(da - a) : na, lb = db ? (size_t)(db - b) : nb;
    return la == lb && !strncasecmp(a, b, la);
}

int kz_eval_host_match(const char *a, const char *b) {
    if (is_none(a) || is_none(b)) return 0;
    return host_match_n(a, strlen(a), b, strlen(b));
}

/* Splits "DOMAIN\name", "name@domain" or "name" into name and domain (domain_len 0 if none). */
static void split_user(const char *s, const char **name, size_t *name_len, const char **domain,
                       size_t *domain_len) {
    size_t n = strlen(s);
    const char *bs = strrchr(s, '\\');
    if (bs) {
        *name = bs + 1;
        *name_len = n - (size_t)(bs + 1 - s);
        *domain = s;
        *domain_len = (size_t)(bs - s);
        return;
    }
    const char *at = strrchr(s, '@');
    if (at && at != s) {
        *name = s;
        *name_len = (size_t)(at - s);
        *domain = at + 1;
        *domain_len = n - (size_t)(at + 1 - s);
        return;
    }
    *name = s;
    *name_len = n;
    *domain = NULL;
    *domain_len = 0;
}

int kz_eval_user_match(const char *a, const char *b) {
    if (is_none(a) || is_none(b)) return 0;
    const char *na, *nb, *da, *db;
    size_t nla, nlb, dla, dlb;
    split_user(a, &na, &nla, &da, &dla);
    split_user(b, &nb, &nlb, &db, &dlb);
    if (!nla || nla != nlb || strncasecmp(na, nb, nla)) return 0;
    if (!dla || !dlb) return 1;
    /* Both name a domain: NetBIOS "CORP" and DNS "corp.example.jp" agree on the first label. */
    return host_match_n(da, dla, db, dlb);
}

static inline int is_sep(char c) {
    return c == '/' || c == '\\';
}

static inline char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

int kz_eval_path_match(const char *truth_file, const char *path) {
    if (!truth_file || !path) return 0;
    /* skip what normalise_path would have removed from the truth side */
    for (;;) {
        if (is_sep(truth_file[0]))
            truth_file++;
        else if (truth_file[0] == '.' && is_sep(truth_file[1]))
            truth_file += 2;
        else
            break;
    }
    size_t nt = strlen(truth_file), np = strlen(path);
    if (!nt || nt > np) return 0;
    const char *t = truth_file + nt, *p = path + np;
    while (t > truth_file) {
        t--, p--;
        if (is_sep(*t) ? !is_sep(*p) : lower(*t) != lower(*p)) return 0;
    }
    return p == path || is_sep(p[-1]);
}

static void hit(struct kz_eval *ev, struct kz_eval_step *st, kz_time ts) {
    if (st->seen == ev->findings) return; /* this finding was already counted for the step */
    st->seen = ev->findings;
    st->findings++;
    if (!st->detected) {
        st->detected = 1;
        st->first = ts;
        ev->scenarios[st->scenario_index].steps_detected++;
    } else if (ts < st->first) {
        st->first = ts;
    }
}

void kz_eval_add_finding(struct kz_eval *ev, const struct kz_eval_finding *f) {
    if (!ev->prepared) return;
    ev->findings++;
    if (f->level < ev->min_level) {
        ev->below_level++;
        return;
    }
    int matched = 0;
    if (f->record_id && f->file && ev->table_cap) {
        uint64_t mask = ev->table_cap - 1, h = hash_id(f->record_id) & mask;
        for (; ev->table[h].id; h = (h + 1) & mask) {
            const struct kz_eval_record *r = &ev->table[h];
            if (r->id == f->record_id && kz_eval_path_match(ev->files[r->file], f->file)) {
                hit(ev, &ev->steps[r->step], f->ts);
                matched = 1;
            }
        }
    }
    for (uint32_t i = 0; i < ev->nsteps; i++) {
        struct kz_eval_step *st = &ev->steps[i];
        if (f->ts < st->start || f->ts > st->end) continue;
        if (kz_eval_host_match(st->host, f->host) || kz_eval_user_match(st->user, f->user)) {
            hit(ev, st, f->ts);
            matched = 1;
        }
    }
    if (matched) {
        ev->matched++;
        return;
    }
    ev->false_positives++;
    for (uint32_t i = 0; i < ev->nconf; i++) {
        struct kz_eval_confounder *c = &ev->conf[i];
        if (f->ts >= c->start && f->ts <= c->end && kz_eval_user_match(c->account, f->user) &&
            f->level > c->level)
            c->level = f->level;
    }
}

kz_time kz_eval_step_delay(const struct kz_eval_step *st) {
    if (!st->detected || st->first <= st->start) return 0;
    return st->first - st->start;
}

/* ---- output ---- */

/* Ticks as seconds, exactly: "750", "12.5", "0.0000001". */
static void put_secs(struct kz_buf *out, kz_time t) {
    if (t < 0) {
        kz_buf_putc(out, '-');
        t = -t;
    }
    kz_buf_put_u64(out, (uint64_t)(t / KZ_TICKS_PER_SEC));
    int64_t frac = t % KZ_TICKS_PER_SEC;
    if (!frac) return;
    char digits[8];
    for (int i = 6; i >= 0; i--, frac /= 10)
        digits[i] = (char)('0' + frac % 10);
    int n = 7;
    while (digits[n - 1] == '0')
        n--;
    kz_buf_putc(out, '.');
    kz_buf_append(out, digits, (size_t)n);
}

/* A non-negative number with at most 3 decimals, trailing zeros dropped: "3.5", "4000". */
static void put_num(struct kz_buf *out, double v) {
    char b[400]; /* "%.3f" of the largest double is 313 bytes */
    int n = snprintf(b, sizeof b, "%.3f", v);
    if (n <= 0 || n >= (int)sizeof b) {
        kz_buf_puts(out, "null");
        return;
    }
    while (n > 0 && b[n - 1] == '0')
        n--;
    if (n > 0 && b[n - 1] == '.') n--;
    kz_buf_append(out, b, (size_t)n);
}

static void put_str(struct kz_buf *out, const char *s) {
    if (!s) {
        kz_buf_puts(out, "null");
        return;
    }
    kz_buf_putc(out, '"');
    kz_buf_put_json_str(out, s, strlen(s));
    kz_buf_putc(out, '"');
}

static uint32_t steps_detected(const struct kz_eval *ev) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < ev->nsteps; i++)
        n += ev->steps[i].detected != 0;
    return n;
}

/* Earliest delay among a scenario's detected steps; -1 when none was detected. */
static kz_time scenario_delay(const struct kz_eval *ev, uint32_t sc) {
    kz_time best = -1;
    for (uint32_t i = 0; i < ev->nsteps; i++) {
        const struct kz_eval_step *st = &ev->steps[i];
        if (st->scenario_index != sc || !st->detected) continue;
        kz_time d = kz_eval_step_delay(st);
        if (best < 0 || d < best) best = d;
    }
    return best;
}

void kz_eval_write_json(const struct kz_eval *ev, struct kz_buf *out) {
    kz_buf_printf(out, "{\"steps_total\":%u,\"steps_detected\":%u,\"scenarios\":[", ev->nsteps,
                  steps_detected(ev));
    for (uint32_t s = 0; s < ev->nscenarios; s++) {
        const struct kz_eval_scenario *sc = &ev->scenarios[s];
        if (s) kz_buf_putc(out, ',');
        kz_buf_puts(out, "{\"name\":");
        put_str(out, sc->name);
        kz_buf_printf(out, ",\"steps_total\":%u,\"steps_detected\":%u,\"first_detection_delay_s\":",
                      sc->steps_total, sc->steps_detected);
        kz_time d = scenario_delay(ev, s);
        if (d < 0)
            kz_buf_puts(out, "null");
        else
            put_secs(out, d);
        kz_buf_puts(out, ",\"steps\":[");
        int first = 1;
        for (uint32_t i = 0; i < ev->nsteps; i++) {
            const struct kz_eval_step *st = &ev->steps[i];
            if (st->scenario_index != s) continue;
            if (!first) kz_buf_putc(out, ',');
            first = 0;
            kz_buf_printf(out, "{\"step\":%u,\"detected\":%s,\"delay_s\":", st->number,
                          st->detected ? "true" : "false");
            if (st->detected)
                put_secs(out, kz_eval_step_delay(st));
            else
                kz_buf_puts(out, "null");
            kz_buf_putc(out, '}');
        }
        kz_buf_puts(out, "]}");
    }
    kz_buf_printf(out, "],\"false_positives\":%llu,\"benign_user_days\":",
                  (unsigned long long)ev->false_positives);
    put_num(out, ev->benign_user_days);
    kz_buf_puts(out, ",\"fp_per_1000_user_days\":");
    if (ev->benign_user_days > 0)
        put_num(out, (double)ev->false_positives * 1000.0 / ev->benign_user_days);
    else
        kz_buf_puts(out, "null");
    kz_buf_puts(out, ",\"confounders_flagged\":[");
    int first = 1;
    for (uint32_t i = 0; i < ev->nconf; i++) {
        const struct kz_eval_confounder *c = &ev->conf[i];
        if (!c->level) continue;
        if (!first) kz_buf_putc(out, ',');
        first = 0;
        kz_buf_puts(out, "{\"kind\":");
        put_str(out, c->kind);
        kz_buf_puts(out, ",\"account\":");
        put_str(out, c->account);
        kz_buf_puts(out, ",\"level\":");
        put_str(out, kz_sigma_level_name(c->level));
        kz_buf_putc(out, '}');
    }
    kz_buf_puts(out, "]}\n");
}

/* Text from the truth files for a terminal: control bytes become '?'. */
static void put_plain(struct kz_buf *out, const char *s) {
    for (; *s; s++)
        kz_buf_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7F) ? '?' : *s);
}

/* A duration for people: "45s", "12m30s", "3h05m", "2d04h". */
static void put_duration(struct kz_buf *out, kz_time t) {
    int64_t s = t / KZ_TICKS_PER_SEC;
    if (s < 60)
        kz_buf_printf(out, "%llds", (long long)s);
    else if (s < 3600)
        kz_buf_printf(out, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        kz_buf_printf(out, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
    else
        kz_buf_printf(out, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
}

void kz_eval_write_text(const struct kz_eval *ev, struct kz_buf *out) {
    kz_buf_printf(out, "steps detected: %u of %u\n", steps_detected(ev), ev->nsteps);
    for (uint32_t s = 0; s < ev->nscenarios; s++) {
        const struct kz_eval_scenario *sc = &ev->scenarios[s];
        kz_buf_puts(out, "  ");
        put_plain(out, sc->name);
        kz_buf_printf(out, ": %u of %u steps", sc->steps_detected, sc->steps_total);
        kz_time d = scenario_delay(ev, s);
        if (d >= 0) {
            kz_buf_puts(out, ", first detection after ");
            put_duration(out, d);
        }
        kz_buf_putc(out, '\n');
        for (uint32_t i = 0; i < ev->nsteps; i++) {
            const struct kz_eval_step *st = &ev->steps[i];
            if (st->scenario_index != s) continue;
            size_t mark = out->len;
            kz_buf_printf(out, "    step %-3u ", st->number);
            put_plain(out, st->stage ? st->stage : "-");
            while (out->len - mark < 40 && !out->failed)
                kz_buf_putc(out, ' ');
            kz_buf_putc(out, ' ');
            mark = out->len;
            put_plain(out, st->technique ? st->technique : "-");
            while (out->len - mark < 10 && !out->failed)
                kz_buf_putc(out, ' ');
            kz_buf_putc(out, ' ');
            if (st->detected) {
                kz_buf_puts(out, "detected after ");
                put_duration(out, kz_eval_step_delay(st));
                kz_buf_printf(out, " (%llu finding%s)\n", (unsigned long long)st->findings,
                              st->findings == 1 ? "" : "s");
            } else {
                kz_buf_puts(out, "missed\n");
            }
        }
    }
    kz_buf_printf(out, "false positives: %llu", (unsigned long long)ev->false_positives);
    if (ev->benign_user_days > 0) {
        kz_buf_puts(out, " (");
        put_num(out, (double)ev->false_positives * 1000.0 / ev->benign_user_days);
        kz_buf_puts(out, " per 1000 benign user-days, over ");
        put_num(out, ev->benign_user_days);
        kz_buf_putc(out, ')');
    }
    kz_buf_printf(out, "\nfindings: %llu read, %llu matched a step",
                  (unsigned long long)ev->findings, (unsigned long long)ev->matched);
    if (ev->below_level)
        kz_buf_printf(out, ", %llu below --min-level", (unsigned long long)ev->below_level);
    uint32_t flagged = 0;
    for (uint32_t i = 0; i < ev->nconf; i++)
        flagged += ev->conf[i].level != 0;
    kz_buf_printf(out, "\nconfounders flagged: %u of %u\n", flagged, ev->nconf);
    for (uint32_t i = 0; i < ev->nconf; i++) {
        const struct kz_eval_confounder *c = &ev->conf[i];
        if (!c->level) continue;
        kz_buf_puts(out, "  ");
        put_plain(out, c->kind);
        kz_buf_putc(out, ' ');
        put_plain(out, c->account);
        kz_buf_printf(out, " (%s)\n", kz_sigma_level_name(c->level));
    }
}
