/* engine.c - compiles a rule set into an engine (variants, filters, regexes, prefilter) and runs
 * it on events: route, prefilter, evaluate, filter, report. See match.h for the design. */
#include "match_int.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "logsource.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENGINE_ARENA_CAP ((size_t)256 << 20)

/* ---- building ---- */

static int skip_rule(struct kz_sigma_engine *e, const struct kz_sigma_rule *r, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));
static int skip_rule(struct kz_sigma_engine *e, const struct kz_sigma_rule *r, const char *fmt,
                     ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->nskips == e->skips_cap) {
        uint32_t cap = e->skips_cap ? e->skips_cap * 2 : 64;
        struct kz_sigma_skip *ns = kz_realloc(e->skips, cap * sizeof *ns);
        if (!ns) return KZ_ENOMEM;
        e->skips = ns;
        e->skips_cap = cap;
    }
    const char *reason = kz_arena_strndup(&e->arena, msg, strlen(msg));
    if (!reason) return KZ_ENOMEM;
    e->skips[e->nskips].rule = r;
    e->skips[e->nskips].reason = reason;
    e->nskips++;
    e->stats.skipped++;
    return 0;
}

static char *lower_dup(struct kz_arena *a, const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = kz_arena_strndup(a, s, n);
    if (d)
        for (size_t i = 0; i < n; i++)
            if (d[i] >= 'A' && d[i] <= 'Z') d[i] = (char)(d[i] + 32);
    return d;
}

/* The channel group (prefilter database) of a lowercase channel, created on first use; 0 is the
 * any-channel group. */
static int group_of(struct kz_sigma_engine *e, const char *channel, uint32_t *out) {
    if (!channel) {
        *out = 0;
        return 0;
    }
    for (uint32_t g = 1; g < e->ngroups; g++)
        if (!strcmp(e->groups[g].channel, channel)) {
            *out = g;
            return 0;
        }
    struct match_group *ng = kz_realloc(e->groups, (e->ngroups + 1) * sizeof *ng);
    if (!ng) return KZ_ENOMEM;
    e->groups = ng;
    memset(&e->groups[e->ngroups], 0, sizeof e->groups[e->ngroups]);
    e->groups[e->ngroups].channel = channel;
    e->groups[e->ngroups].parent = e->ngroups;
    *out = e->ngroups++;
    return 0;
}

/* ---- event ids a rule's condition requires ---- */

#define MAX_RULE_IDS 64u

/* A set of event ids; none = the condition does not pin the event id down. */
struct idset {
    int none;
    uint32_t n;
    uint32_t v[MAX_RULE_IDS];
};

static void ids_union(struct idset *s, const struct idset *t) {
    if (s->none || t->none) {
        s->none = 1;
        return;
    }
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t k = 0;
        while (k < s->n && s->v[k] != t->v[i])
            k++;
        if (k < s->n) continue;
        if (s->n == MAX_RULE_IDS) {
            s->none = 1;
            return;
        }
        s->v[s->n++] = t->v[i];
    }
}

/* `EventID: N` or a list of them, without modifiers. */
static void item_ids(const struct kz_sigma_item *it, struct idset *out) {
    out->none = 1;
    out->n = 0;
    if (it->field != KZ_F_EventID || it->mods || it->nvalues == 0 || it->nvalues > MAX_RULE_IDS)
        return;
    for (uint32_t k = 0; k < it->nvalues; k++) {
        const struct kz_sigma_value *v = &it->values[k];
        if (v->type != KZ_SV_NUMBER || v->num < 0 || v->num > 65535 || v->num != (uint32_t)v->num)
            return;
        out->v[out->n++] = (uint32_t)v->num;
    }
    out->none = 0;
}

static void selection_ids(const struct kz_sigma_selection *sel, struct idset *out) {
    out->none = sel->ngroups == 0;
    out->n = 0;
    for (uint32_t g = 0; g < sel->ngroups && !out->none; g++) {
        struct idset best = {.none = 1}, is;
        for (uint32_t k = 0; k < sel->groups[g].nitems; k++) {
            item_ids(&sel->groups[g].items[k], &is);
            if (!is.none && (best.none || is.n < best.n)) best = is;
        }
        ids_union(out, &best);
    }
}

/* The event ids an event must have for the condition to hold (recursion bounded by the parser's
 * depth limit). */
static void cond_ids(const struct kz_sigma_detection *det, const struct kz_sigma_cond *c,
                     struct idset *out) {
    out->none = 1;
    out->n = 0;
    if (c->op == KZ_COND_SEL) {
        selection_ids(&det->selections[c->sel], out);
        return;
    }
    if (c->op == KZ_COND_NOT) return;
    struct idset kid;
    out->none = c->op == KZ_COND_AND;
    for (uint32_t k = 0; k < c->nkids; k++) {
        cond_ids(det, c->kids[k], &kid);
        if (c->op == KZ_COND_AND) {
            if (!kid.none && (out->none || kid.n < out->n)) *out = kid;
        } else {
            ids_union(out, &kid);
            if (out->none) return;
        }
    }
}

/* The variant's event ids: the target's, narrowed by what the rule requires. Returns 0, 1 when no
 * event id can satisfy both (the variant never matches), or KZ_ENOMEM. */
static int variant_ids(struct kz_sigma_engine *e, struct match_variant *mv,
                       const struct kz_sigma_rule *r, const struct kz_ls_target *tg) {
    mv->nevent_ids = tg->nevent_ids;
    mv->event_ids = tg->event_ids;
    if (!r->detection.cond) return 0;
    struct idset *ids = kz_malloc(sizeof *ids);
    if (!ids) return KZ_ENOMEM;
    cond_ids(&r->detection, r->detection.cond, ids);
    int rc = 0;
    if (!ids->none) {
        uint32_t *v = kz_arena_alloc(&e->arena, ids->n * sizeof *v + 1);
        uint32_t n = 0;
        if (!v) {
            rc = KZ_ENOMEM;
        } else {
            for (uint32_t i = 0; i < ids->n; i++) {
                int in_target = !tg->nevent_ids;
                for (uint32_t k = 0; k < tg->nevent_ids && !in_target; k++)
                    in_target = tg->event_ids[k] == ids->v[i];
                if (in_target) v[n++] = ids->v[i];
            }
            mv->nevent_ids = n;
            mv->event_ids = v;
            rc = n == 0; /* the rule wants ids this log does not have */
        }
    }
    kz_free(ids);
    return rc;
}

/* Does selection sel use a field the target's log never carries? */
static int selection_lacks(const struct kz_sigma_selection *sel, const struct kz_ls_target *tg) {
    for (uint32_t g = 0; g < sel->ngroups; g++)
        for (uint32_t k = 0; k < sel->groups[g].nitems; k++) {
            const struct kz_sigma_item *it = &sel->groups[g].items[k];
            if (it->field && kz_ls_target_lacks(tg, it->field)) return 1;
        }
    return 0;
}

/* Is a selection that uses a field the log lacks under a `not`? Such a filter could never
 * apply on this log, and the rule would fire on what it means to exclude; the rule does not run
 * on that source. Positive uses are harmless (they just do not match there). */
static int negates_absent(const struct kz_sigma_detection *det, const struct kz_sigma_cond *c,
                          const struct kz_ls_target *tg, int negated) {
    switch (c->op) {
    case KZ_COND_SEL:
        return negated && selection_lacks(&det->selections[c->sel], tg);
    case KZ_COND_NOT:
        return negates_absent(det, c->kids[0], tg, !negated);
    default:
        for (uint32_t k = 0; k < c->nkids; k++)
            if (negates_absent(det, c->kids[k], tg, negated)) return 1;
        return 0;
    }
}

/* Variants of one rule or filter from its resolved log source, appended to *v / *n. */
static int make_variants(struct kz_sigma_engine *e, const struct kz_sigma_rule *r,
                         uint32_t rule_index, const struct kz_ls_result *ls,
                         struct match_variant **v, uint32_t *n, uint32_t *cap) {
    for (uint32_t t = 0; t < ls->ntargets; t++) {
        const struct kz_ls_target *tg = ls->targets[t];
        if (tg->nabsent && r->detection.cond &&
            negates_absent(&r->detection, r->detection.cond, tg, 0)) {
            e->stats.sources_dropped++;
            continue;
        }
        if (*n == *cap) {
            uint32_t nc = *cap ? *cap * 2 : 256;
            struct match_variant *nv = kz_realloc(*v, nc * sizeof *nv);
            if (!nv) return KZ_ENOMEM;
            *v = nv;
            *cap = nc;
        }
        struct match_variant *mv = &(*v)[(*n)++];
        memset(mv, 0, sizeof *mv);
        mv->rule = r;
        mv->target = tg;
        mv->rule_index = rule_index;
        mv->product = lower_dup(&e->arena, tg->product ? tg->product : "");
        mv->channel = lower_dup(&e->arena, tg->channel);
        mv->provider = tg->provider;
        mv->nrenames = tg->nrenames;
        mv->rename_from = tg->rename_from;
        mv->rename_to = tg->rename_to;
        mv->always = 1;
        if (!mv->product || (tg->channel && !mv->channel)) return KZ_ENOMEM;
        int ids = variant_ids(e, mv, r, tg);
        if (ids < 0) return ids;
        if (ids) { /* e.g. a Security rule for 4688 on the 5156 source of network_connection */
            (*n)--;
            e->stats.sources_dropped++;
            continue;
        }
        if (group_of(e, mv->channel, &mv->group)) return KZ_ENOMEM;
    }
    return 0;
}

/* Compiles every |re value of a detection; on the first that neither engine takes, returns
 * KZ_EUNSUPP with the reason in err. */
static int compile_regexes(struct kz_sigma_engine *e, const struct kz_sigma_detection *det,
                           struct kz_err *err) {
    for (uint32_t si = 0; si < det->nselections; si++) {
        const struct kz_sigma_selection *sel = &det->selections[si];
        for (uint32_t g = 0; g < sel->ngroups; g++)
            for (uint32_t k = 0; k < sel->groups[g].nitems; k++) {
                const struct kz_sigma_item *it = &sel->groups[g].items[k];
                for (uint32_t vi = 0; vi < it->nvalues; vi++) {
                    if (it->values[vi].type != KZ_SV_REGEX) continue;
                    if (e->nregex == e->regex_cap) {
                        uint32_t cap = e->regex_cap ? e->regex_cap * 2 : 64;
                        struct match_regex *nr = kz_realloc(e->regex, cap * sizeof *nr);
                        if (!nr) return kz_err_set(err, KZ_ENOMEM, "out of memory");
                        e->regex = nr;
                        e->regex_cap = cap;
                    }
                    int rc = match_regex_compile(&e->regex[e->nregex], it, &it->values[vi], err);
                    if (rc) return rc;
                    e->stats.regexes++;
                    e->nregex++;
                }
            }
    }
    return 0;
}

/* Placeholders (|expand) need values from a configuration kizuki does not have yet. */
static const struct kz_sigma_item *find_expand(const struct kz_sigma_detection *det) {
    for (uint32_t si = 0; si < det->nselections; si++)
        for (uint32_t g = 0; g < det->selections[si].ngroups; g++)
            for (uint32_t k = 0; k < det->selections[si].groups[g].nitems; k++)
                if (det->selections[si].groups[g].items[k].mods & KZ_SM(EXPAND))
                    return &det->selections[si].groups[g].items[k];
    return NULL;
}

/* Can rule r run at all? 0: yes; 1: skipped (recorded); <0: error. */
static int check_runnable(struct kz_sigma_engine *e, const struct kz_sigma_rule *r,
                          const struct kz_ls_result *ls, struct kz_err *err) {
    if (ls->status != KZ_LS_MAPPED) {
        const struct kz_sigma_logsource *l = &r->logsource;
        int rc = skip_rule(e, r, "logsource (product: %s, category: %s, service: %s): %s",
                           l->product ? l->product : "-", l->category ? l->category : "-",
                           l->service ? l->service : "-",
                           ls->reason[0] ? ls->reason : "not mapped");
        return rc ? rc : 1;
    }
    const struct kz_sigma_item *ex = find_expand(&r->detection);
    if (ex) {
        int rc = skip_rule(e, r,
                           "field `%s` uses |expand placeholders, which need values for this "
                           "estate (not configurable yet)",
                           ex->field_name);
        return rc ? rc : 1;
    }
    struct kz_err rerr = {0};
    int rc = compile_regexes(e, &r->detection, &rerr);
    if (rc == KZ_ENOMEM) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    if (rc) {
        rc = skip_rule(e, r, "%s", rerr.msg);
        return rc ? rc : 1;
    }
    return 0;
}

static int rule_index_of(const struct kz_sigma_ruleset *rs, const struct kz_sigma_rule *r) {
    for (uint32_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i] == r) return (int)i;
    return -1;
}

/* Attaches each filter to the variants of the rules it names. */
static int attach_filters(struct kz_sigma_engine *e, const uint32_t *first_variant) {
    const struct kz_sigma_ruleset *rs = e->rs;
    for (uint32_t fi = 0; fi < e->nfilters; fi++) {
        const struct kz_sigma_rule *f = e->filters[fi].rule;
        for (uint32_t k = 0; k < f->filter.nrefs; k++) {
            const struct kz_sigma_rule *target = f->filter.rules ? f->filter.rules[k] : NULL;
            if (!target) continue;
            int ri = rule_index_of(rs, target);
            if (ri < 0) continue;
            for (uint32_t vi = first_variant[ri]; vi < first_variant[ri + 1]; vi++) {
                struct match_variant *v = &e->variants[vi];
                uint32_t *nf = kz_arena_alloc(&e->arena, (v->nfilters + 1) * sizeof *nf);
                if (!nf) return KZ_ENOMEM;
                if (v->nfilters) memcpy(nf, v->filters, v->nfilters * sizeof *nf);
                nf[v->nfilters++] = fi;
                v->filters = nf;
            }
            e->stats.filters++;
        }
    }
    return 0;
}

/* Lists each channel group's variants (counting sort on v->group, so each list ascends). */
static int index_variants(struct kz_sigma_engine *e) {
    e->group_vfirst = kz_calloc(e->ngroups + 1, sizeof *e->group_vfirst);
    e->group_vcount = kz_calloc(e->ngroups + 1, sizeof *e->group_vcount);
    e->group_variants = kz_malloc((e->nvariants + 1) * sizeof *e->group_variants);
    if (!e->group_vfirst || !e->group_vcount || !e->group_variants) return KZ_ENOMEM;
    for (uint32_t vi = 0; vi < e->nvariants; vi++)
        e->group_vcount[e->variants[vi].group]++;
    for (uint32_t g = 1; g < e->ngroups; g++)
        e->group_vfirst[g] = e->group_vfirst[g - 1] + e->group_vcount[g - 1];
    uint32_t *fill = kz_calloc(e->ngroups + 1, sizeof *fill);
    if (!fill) return KZ_ENOMEM;
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        uint32_t g = e->variants[vi].group;
        e->group_variants[e->group_vfirst[g] + fill[g]++] = vi;
    }
    kz_free(fill);
    return 0;
}

int kz_sigma_engine_new(struct kz_sigma_engine **out, const struct kz_sigma_ruleset *rs,
                        const struct kz_sigma_engine_opts *opts, struct kz_err *err) {
    *out = NULL;
    const struct kz_ls_map *ls = opts ? opts->ls : NULL;
    if (!ls && !(ls = kz_ls_default(err))) return err->code ? err->code : KZ_EFORMAT;
    struct kz_sigma_engine *e = kz_calloc(1, sizeof *e);
    if (!e) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    e->rs = rs;
    /* a scanner that misses literals would drop matches: evaluate every rule instead */
    e->no_prefilter = (opts && opts->no_prefilter) || kz_sigma_vectorscan_untrusted();
    e->value_cache_all = opts && opts->value_cache_all;
    kz_arena_init(&e->arena, 64 << 10, ENGINE_ARENA_CAP);
    pthread_mutex_init(&e->regex_lock, NULL);
    kz_buf_init(&e->cache_key, DBCACHE_MAX_FILE);
    int rc = 0;
    uint32_t vcap = 0, fcap = 0;
    uint32_t *first_variant = kz_malloc((rs->nrules + 1) * sizeof *first_variant);
    e->groups = kz_calloc(1, sizeof *e->groups); /* group 0: any channel */
    const char *cache_dir = opts && opts->cache_dir && *opts->cache_dir ? opts->cache_dir : NULL;
    if (cache_dir) e->cache_dir = kz_strdup(cache_dir);
    if (!first_variant || !e->groups || (cache_dir && !e->cache_dir)) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    e->ngroups = 1;
    for (uint32_t ri = 0; ri < rs->nrules; ri++) {
        const struct kz_sigma_rule *r = rs->rules[ri];
        first_variant[ri] = e->nvariants;
        if (r->kind == KZ_SIGMA_CORRELATION) continue;
        struct kz_ls_result res;
        kz_ls_resolve(ls, &r->logsource, &res);
        int run = check_runnable(e, r, &res, err);
        if (run < 0) {
            rc = run;
            goto out;
        }
        if (run) continue;
        if (r->kind == KZ_SIGMA_FILTER) {
            if (e->nfilters == fcap) {
                fcap = fcap ? fcap * 2 : 16;
                struct match_filter *nf = kz_realloc(e->filters, fcap * sizeof *nf);
                if (!nf) {
                    rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                    goto out;
                }
                e->filters = nf;
            }
            struct match_filter *f = &e->filters[e->nfilters++];
            memset(f, 0, sizeof *f);
            f->rule = r;
            uint32_t fvcap = 0;
            if (make_variants(e, r, ri, &res, &f->variants, &f->nvariants, &fvcap)) {
                rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                goto out;
            }
            continue;
        }
        if (make_variants(e, r, ri, &res, &e->variants, &e->nvariants, &vcap)) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        e->stats.rules++;
    }
    first_variant[rs->nrules] = e->nvariants;
    e->stats.variants = e->nvariants;
    match_regex_sort(e);
    if (attach_filters(e, first_variant)) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    if (match_sets_build(e)) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    rc = prefilter_build(e, err);
    if (!rc && index_variants(e)) rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
out:
    kz_free(first_variant);
    if (rc) {
        kz_sigma_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void kz_sigma_engine_free(struct kz_sigma_engine *e) {
    if (!e) return;
    prefilter_free(e);
    match_sets_free(e);
    for (uint32_t i = 0; i < e->nregex; i++)
        match_regex_free(&e->regex[i]);
    kz_free(e->regex);
    for (uint32_t i = 0; i < e->nfilters; i++)
        kz_free(e->filters[i].variants);
    kz_free(e->filters);
    kz_free(e->variants);
    kz_free(e->groups);
    kz_free(e->group_vfirst);
    kz_free(e->group_vcount);
    kz_free(e->group_variants);
    kz_free(e->skips);
    kz_arena_free(&e->arena);
    kz_free(e->cache_dir);
    kz_buf_free(&e->cache_key);
    pthread_mutex_destroy(&e->regex_lock);
    kz_free(e);
}

const struct kz_sigma_engine_stats *kz_sigma_engine_stats(const struct kz_sigma_engine *e) {
    return &e->stats;
}

const struct kz_sigma_skip *kz_sigma_engine_skips(const struct kz_sigma_engine *e, uint32_t *n) {
    *n = e->nskips;
    return e->skips;
}

/* ---- scratch ---- */

int kz_sigma_scratch_new(const struct kz_sigma_engine *e, struct kz_sigma_scratch **out) {
    *out = NULL;
    struct kz_sigma_scratch *s = kz_calloc(1, sizeof *s);
    if (!s) return KZ_ENOMEM;
    s->e = e;
    kz_arena_init(&s->arena, 16 << 10, (size_t)64 << 20);
    kz_buf_init(&s->pbuf, MATCH_MAX_PREFILTER + 16);
    kz_buf_init(&s->kbuf, MATCH_MAX_PREFILTER + 16);
    uint32_t nv = e->nvariants ? e->nvariants : 1;
    s->mark = kz_calloc(nv, sizeof *s->mark);
    s->cand = kz_malloc(nv * sizeof *s->cand);
    s->bits_epoch = kz_calloc(nv, sizeof *s->bits_epoch);
    s->bits = kz_malloc(nv * sizeof *s->bits);
    uint32_t nl = e->nliterals ? e->nliterals : 1;
    s->lit_epoch = kz_calloc(nl, sizeof *s->lit_epoch);
    s->lit_at = kz_malloc(nl * sizeof *s->lit_at);
    s->route_slots = kz_calloc(MATCH_ROUTE_SLOTS, sizeof *s->route_slots);
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    int rc = 0;
    if (!s->mark || !s->cand || !s->bits_epoch || !s->bits || !s->lit_epoch || !s->lit_at ||
        !s->md || !s->mctx || !s->route_slots)
        rc = KZ_ENOMEM;
    if (!rc) {
        pcre2_set_match_limit(s->mctx, 200000);
        pcre2_set_depth_limit(s->mctx, 10000);
    }
    /* s->hs starts empty: each Vectorscan database (prefilter group, regex) grows it when this
     * thread first uses it, since the databases are compiled on first use. */
    if (!rc && !(s->hs_fitted = kz_calloc(e->nregex + 1, 1))) rc = KZ_ENOMEM;
    /* per group: its database, then its keyword database */
    if (!rc && !(s->group_fitted = kz_calloc(2 * (size_t)e->ngroups + 1, 1))) rc = KZ_ENOMEM;
    if (rc) {
        kz_sigma_scratch_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void routes_clear(struct kz_sigma_scratch *s) {
    for (uint32_t i = 0; i < s->nroutes; i++) {
        kz_free(s->routes[i].channel);
        kz_free(s->routes[i].accept);
        kz_free(s->routes[i].always);
    }
    s->nroutes = 0;
    s->last_route = 0;
}

void kz_sigma_scratch_free(struct kz_sigma_scratch *s) {
    if (!s) return;
    routes_clear(s);
    kz_free(s->routes);
    kz_free(s->route_slots);
    if (s->hs) hs_free_scratch(s->hs);
    if (s->md) pcre2_match_data_free(s->md);
    if (s->mctx) pcre2_match_context_free(s->mctx);
    kz_free(s->slot_epoch);
    kz_free(s->slot_first);
    kz_free(s->next);
    kz_free(s->lower);
    kz_free(s->ip_epoch);
    kz_free(s->ip_family);
    kz_free(s->ip_addr);
    kz_free(s->mark);
    kz_free(s->cand);
    kz_free(s->bits_epoch);
    kz_free(s->bits);
    kz_free(s->lit_epoch);
    kz_free(s->lit_at);
    kz_free(s->scanned_end);
    kz_free(s->scanned_name);
    kz_free(s->scanned_field);
    kz_free(s->scanned_slot);
    kz_free(s->scanned_hash);
    kz_free(s->seen_field);
    kz_free(s->seen_lit);
    kz_free(s->vcache);
    kz_free(s->vcache_hash);
    kz_free(s->hs_fitted);
    kz_free(s->group_fitted);
    kz_buf_free(&s->pbuf);
    kz_buf_free(&s->kbuf);
    kz_arena_free(&s->arena);
    kz_free(s);
}

const struct kz_sigma_match_stats *kz_sigma_scratch_stats(const struct kz_sigma_scratch *s) {
    return &s->stats;
}

/* ---- routing ---- */

const char *kz_sigma_event_product(const struct kz_event *ev) {
    switch (ev->format) {
    case KZ_FMT_EVTX:
        return "windows";
    case KZ_FMT_JSONL: /* Windows events shipped as JSON; other JSON has no channel */
        return ev->channel ? "windows" : "";
    case KZ_FMT_EVTXML: /* Windows event XML */
        return "windows";
    case KZ_FMT_FORTIGATE:
        return "fortigate";
    case KZ_FMT_SYSLOG: /* auth logs, Sysmon for Linux, Samba: data/logsource.yml's linux */
    case KZ_FMT_AUDITD:
        return "linux";
    default:
        return "";
    }
}

static int accepts(const struct match_variant *v, const char *product, const char *channel,
                   uint32_t event_id) {
    if (strcmp(v->product, product)) return 0;
    if (v->channel && strcmp(v->channel, channel)) return 0;
    if (!v->nevent_ids) return 1;
    for (uint32_t i = 0; i < v->nevent_ids; i++)
        if (v->event_ids[i] == event_id) return 1;
    return 0;
}

static unsigned char ascii_lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Hashes the channel case-folded, so an event's channel is looked up as written: folding it into
 * a copy first cost a copy per event. Only its length, first and last 8 bytes count (with bit
 * 0x20 set, which folds ASCII case and merges a few punctuation marks): a byte-by-byte hash of
 * names like Microsoft-Windows-Sysmon/Operational cost more than the rest of routing, and
 * route_get compares the whole channel anyway. */
static uint32_t route_hash(const char *product, const char *channel, uint32_t event_id) {
    size_t n = strlen(channel);
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, channel, 8);
        memcpy(&b, channel + n - 8, 8);
    } else {
        memcpy(&a, channel, n);
    }
    a |= 0x2020202020202020ull;
    b |= 0x2020202020202020ull;
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^
                 (((uint64_t)event_id << 32 | n << 8 | (unsigned char)product[0]) *
                  0x165667b19e3779f9ull);
    h ^= h >> 29;
    uint32_t r = (uint32_t)(h ^ (h >> 32));
    return r ? r : 1;
}

/* Is channel (any case) the lowercase string lower? */
static int channel_is(const char *lower, const char *channel) {
    while (*lower && ascii_lower((unsigned char)*channel) == (unsigned char)*lower) {
        lower++;
        channel++;
    }
    return !*lower && !*channel;
}

/* The route of (product, channel in any case, event id): found in the cache or built. */
static const struct match_route *route_get(struct kz_sigma_scratch *s, const char *product,
                                           const char *channel_any, uint32_t event_id) {
    const struct kz_sigma_engine *e = s->e;
    if (s->last_route) {
        const struct match_route *r = &s->routes[s->last_route - 1];
        if (r->event_id == event_id && channel_is(r->channel, channel_any) &&
            !strcmp(r->product, product))
            return r;
    }
    uint32_t h = route_hash(product, channel_any, event_id), slot = h & (MATCH_ROUTE_SLOTS - 1);
    for (; s->route_slots[slot]; slot = (slot + 1) & (MATCH_ROUTE_SLOTS - 1)) {
        struct match_route *r = &s->routes[s->route_slots[slot] - 1];
        if (r->hash == h && r->event_id == event_id && channel_is(r->channel, channel_any) &&
            !strcmp(r->product, product)) {
            s->last_route = s->route_slots[slot];
            return r;
        }
    }
    if (s->nroutes == MATCH_MAX_ROUTES) {
        routes_clear(s);
        memset(s->route_slots, 0, MATCH_ROUTE_SLOTS * sizeof *s->route_slots);
        slot = h & (MATCH_ROUTE_SLOTS - 1);
    }
    if (s->nroutes == s->routes_cap) {
        uint32_t cap = s->routes_cap ? s->routes_cap * 2 : 32;
        struct match_route *nr = kz_realloc(s->routes, cap * sizeof *nr);
        if (!nr) return NULL;
        s->routes = nr;
        s->routes_cap = cap;
    }
    struct match_route *r = &s->routes[s->nroutes];
    memset(r, 0, sizeof *r);
    r->event_id = event_id;
    r->hash = h;
    r->product = product;
    r->channel = kz_strdup(channel_any);
    if (r->channel)
        for (char *p = r->channel; *p; p++)
            *p = (char)ascii_lower((unsigned char)*p);
    const char *channel = r->channel;
    uint32_t words = (e->nvariants + 63) / 64 + 1;
    r->accept = kz_calloc(words, sizeof *r->accept);
    r->always = kz_malloc((e->nvariants + 1) * sizeof *r->always);
    if (!r->channel || !r->accept || !r->always) {
        kz_free(r->channel);
        kz_free(r->accept);
        kz_free(r->always);
        return NULL;
    }
    /* The channel's database, or better the one for this event id of the channel. */
    for (uint32_t g = 1; g < e->ngroups; g++)
        if (!e->groups[g].has_id && !strcmp(e->groups[g].channel, channel)) r->group = g;
    uint32_t chan_group = r->group;
    for (uint32_t g = 1; g < e->ngroups && r->group; g++)
        if (e->groups[g].has_id && e->groups[g].parent == r->group &&
            e->groups[g].event_id == event_id)
            r->group = g;
    /* Only the any-channel variants and those of this channel can accept it: merge the two
     * ascending lists (a variant of another channel has another group). */
    const uint32_t *any = e->group_variants + e->group_vfirst[0];
    const uint32_t *own = e->group_variants + e->group_vfirst[chan_group];
    uint32_t nany = e->group_vcount[0], nown = chan_group ? e->group_vcount[chan_group] : 0;
    for (uint32_t i = 0, j = 0; i < nany || j < nown;) {
        uint32_t vi = j == nown || (i < nany && any[i] < own[j]) ? any[i++] : own[j++];
        const struct match_variant *v = &e->variants[vi];
        if (!accepts(v, product, channel, event_id)) continue;
        if (v->always) {
            r->always[r->nalways++] = vi;
        } else {
            r->accept[vi / 64] |= 1ull << (vi % 64);
            r->has_gated = 1;
        }
    }
    s->route_slots[slot] = ++s->nroutes;
    s->last_route = s->nroutes;
    return r;
}

/* The checks routing cannot do: the provider, and the target's `where` conditions on the
 * event's own fields (exact, case-insensitive). */
static int source_matches(const struct match_variant *v, const struct kz_event *ev) {
    if (v->provider && (!ev->provider || strcasecmp(v->provider, ev->provider))) return 0;
    const struct kz_ls_target *tg = v->target;
    for (uint32_t c = 0; tg && c < tg->nwhere; c++) {
        const struct kz_ls_cond *w = &tg->where[c];
        const struct kz_field *f = kz_event_field(ev, w->field);
        if (!f) return 0;
        uint32_t k = 0;
        while (k < w->nvalues && strcasecmp(f->val, w->values[k]))
            k++;
        if (k == w->nvalues) return 0;
    }
    return 1;
}

static int filters_pass(struct kz_sigma_scratch *s, const struct match_variant *v,
                        const char *product, const char *channel, uint32_t event_id) {
    const struct kz_sigma_engine *e = s->e;
    const struct kz_event *ev = s->ev;
    for (uint32_t k = 0; k < v->nfilters; k++) {
        const struct match_filter *f = &e->filters[v->filters[k]];
        for (uint32_t fv = 0; fv < f->nvariants; fv++) {
            const struct match_variant *x = &f->variants[fv];
            if (!accepts(x, product, channel, event_id) || !source_matches(x, ev)) continue;
            if (!match_eval(s, x, &f->rule->detection)) return 0;
            break;
        }
    }
    return 1;
}

uint32_t kz_sigma_match(const struct kz_sigma_engine *e, struct kz_sigma_scratch *s,
                        const struct kz_event *ev, kz_sigma_hit_fn hit, void *ctx) {
    s->stats.events++;
    if (!e->nvariants) return 0;
    s->ev = ev; /* the fields are indexed only for an evaluation (below) */
    const char *product = kz_sigma_event_product(ev);
    const struct match_route *r =
        route_get(s, product, ev->channel ? ev->channel : "", ev->event_id);
    if (!r) return 0;
    const char *channel = r->channel; /* lowercase */

    /* Candidates: the route's always-variants, plus the prefilter's picks that the route takes. */
    uint32_t n = 0;
    uint32_t *cand = s->cand;
    if (r->has_gated) {
        if (++s->mark_epoch == 0) { /* wrapped: forget every stamp */
            memset(s->mark, 0, e->nvariants * sizeof *s->mark);
            memset(s->bits_epoch, 0, e->nvariants * sizeof *s->bits_epoch);
            memset(s->lit_epoch, 0, e->nliterals * sizeof *s->lit_epoch);
            s->mark_epoch = 1;
        }
        if (prefilter_scan(s, &e->groups[r->group]) == PREFILTER_ALL) {
            for (uint32_t vi = 0; vi < e->nvariants; vi++)
                if (r->accept[vi / 64] >> (vi % 64) & 1) cand[n++] = vi;
        } else {
            for (uint32_t k = 0; k < s->ncand; k++) {
                uint32_t vi = cand[k];
                if (r->accept[vi / 64] >> (vi % 64) & 1) cand[n++] = vi;
            }
        }
    }
    if (r->nalways) {
        memcpy(cand + n, r->always, r->nalways * sizeof *cand);
        n += r->nalways;
    }
    /* Rule order, whatever found them; insertion sort: a handful of candidates, mostly sorted. */
    for (uint32_t k = 1; k < n; k++) {
        uint32_t x = cand[k], j = k;
        for (; j > 0 && cand[j - 1] > x; j--)
            cand[j] = cand[j - 1];
        cand[j] = x;
    }
    s->stats.candidates += n;
    if (n && match_index_event(s, ev)) return 0;

    uint32_t hits = 0, last_rule = UINT32_MAX;
    for (uint32_t k = 0; k < n; k++) {
        const struct match_variant *v = &e->variants[cand[k]];
        if (v->rule_index == last_rule) continue; /* a rule reports once per event */
        if (!source_matches(v, ev)) continue;
        if (!match_eval(s, v, &v->rule->detection)) continue;
        if (v->nfilters && !filters_pass(s, v, product, channel, ev->event_id)) {
            s->stats.filtered++;
            continue;
        }
        last_rule = v->rule_index;
        hits++;
        if (hit) hit(ctx, v->rule, v->rule_index, ev);
    }
    s->stats.hits += hits;
    return hits;
}
