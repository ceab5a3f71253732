/* sigma_load.c - loads Sigma rule files (YAML, through libyaml's event API) into a rule set.
 *
 * Why the event API and our own tree: we need the line of every node for messages, hard limits
 * on nodes and nesting that hold before anything large is built, control over aliases (copied
 * against the node budget, so `billion laughs` documents stop at the limit), and a tree we can
 * merge for rule collections (`action: global` / `reset` / `repeat`). Each file is parsed into a
 * scratch arena that is reset per file; what a rule keeps is built in the rule set's arena.
 *
 * A file may hold several YAML documents: rules, correlations with the rules they use, filters,
 * and the collection actions. Each document that is a rule either loads or becomes one failure
 * with the line of the problem and a reason; a YAML syntax error fails the rest of its file. */
#include "sigma_int.h"

#include "core/alloc.h"
#include "core/intern.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- the YAML tree ---- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
    uint8_t kind;     /* enum ykind */
    uint8_t plain;    /* scalar written without quotes or tag */
    uint32_t line;    /* 1-based */
    uint32_t n;       /* SEQ: items; MAP: pairs */
    const char *text; /* SCALAR, NUL-terminated */
    size_t len;
    struct ynode **kids; /* SEQ: n items; MAP: 2n (key, value, key, value...) */
};

struct frame {
    struct ynode *node;
    char *anchor;
    struct ynode **kids; /* kz_malloc'd while the collection is open */
    uint32_t n, alloc;
};

struct anchor {
    const char *name;
    struct ynode *node;
};

struct loader {
    struct kz_sigma_ruleset *rs;
    const char *file;
    struct kz_arena scratch; /* trees of this file */
    uint32_t nodes;          /* nodes built in this file (the budget) */
    struct anchor *anchors;
    uint32_t nanchors, anchors_alloc;
    /* collection state */
    struct ynode *global; /* action: global document, merged into the following ones */
    struct ynode *prev;   /* the previous rule document, for action: repeat */
    /* a problem found while building the document's tree (a duplicate key): the document fails
     * with it, the rest of the file is still read */
    char doc_why[300];
    uint32_t doc_why_line;
    /* errors of the document being compiled */
    struct kz_err err;
    uint32_t err_line;
};

static struct ynode *ynew(struct loader *l, int kind, uint32_t line) {
    if (l->nodes >= KZ_SIGMA_MAX_YAML_NODES) return NULL;
    struct ynode *y = kz_arena_alloc(&l->scratch, sizeof *y);
    if (!y) return NULL;
    memset(y, 0, sizeof *y);
    y->kind = (uint8_t)kind;
    y->line = line;
    l->nodes++;
    return y;
}

/* Deep copy for an alias: counted against the node budget. */
static struct ynode *ycopy(struct loader *l, const struct ynode *s, int depth) {
    if (depth > (int)KZ_SIGMA_MAX_YAML_DEPTH) return NULL;
    struct ynode *y = ynew(l, s->kind, s->line);
    if (!y) return NULL;
    *y = *s;
    if (s->kind == Y_SCALAR) return y;
    uint32_t nk = s->kind == Y_MAP ? 2 * s->n : s->n;
    if (nk) {
        y->kids = kz_arena_alloc(&l->scratch, nk * sizeof *y->kids);
        if (!y->kids) return NULL;
        for (uint32_t i = 0; i < nk; i++)
            if (!(y->kids[i] = ycopy(l, s->kids[i], depth + 1))) return NULL;
    }
    return y;
}

static const struct ynode *map_get(const struct ynode *m, const char *key) {
    if (!m || m->kind != Y_MAP) return NULL;
    for (uint32_t i = 0; i < m->n; i++)
        if (!strcmp(m->kids[2 * i]->text, key)) return m->kids[2 * i + 1];
    return NULL;
}

/* The key node of `key` in map m (for messages about the section as a whole). */
static const struct ynode *map_key(const struct ynode *m, const char *key) {
    if (!m || m->kind != Y_MAP) return m;
    for (uint32_t i = 0; i < m->n; i++)
        if (!strcmp(m->kids[2 * i]->text, key)) return m->kids[2 * i];
    return m;
}

/* Deep merge for rule collections: keys of `over` replace those of `base`, maps merge. */
static struct ynode *ymerge(struct loader *l, const struct ynode *base, const struct ynode *over,
                            int depth) {
    if (!base || base->kind != Y_MAP || over->kind != Y_MAP || depth > (int)KZ_SIGMA_MAX_YAML_DEPTH)
        return (struct ynode *)over;
    struct ynode *y = ynew(l, Y_MAP, over->line);
    if (!y) return NULL;
    uint32_t cap = base->n + over->n;
    y->kids = kz_arena_alloc(&l->scratch, 2 * (size_t)cap * sizeof *y->kids + 1);
    if (!y->kids) return NULL;
    for (uint32_t i = 0; i < base->n; i++) {
        const struct ynode *k = base->kids[2 * i], *ov = map_get(over, k->text);
        y->kids[2 * y->n] = (struct ynode *)k;
        y->kids[2 * y->n + 1] =
            ov ? ymerge(l, base->kids[2 * i + 1], ov, depth + 1) : base->kids[2 * i + 1];
        if (!y->kids[2 * y->n + 1]) return NULL;
        y->n++;
    }
    for (uint32_t i = 0; i < over->n; i++) {
        if (map_get(base, over->kids[2 * i]->text)) continue;
        y->kids[2 * y->n] = over->kids[2 * i];
        y->kids[2 * y->n + 1] = over->kids[2 * i + 1];
        y->n++;
    }
    return y;
}

/* Map without one key (the `action` of a collection document). */
static struct ynode *ywithout(struct loader *l, const struct ynode *m, const char *key) {
    struct ynode *y = ynew(l, Y_MAP, m->line);
    if (!y) return NULL;
    y->kids = kz_arena_alloc(&l->scratch, 2 * (size_t)m->n * sizeof *y->kids + 1);
    if (!y->kids) return NULL;
    for (uint32_t i = 0; i < m->n; i++) {
        if (!strcmp(m->kids[2 * i]->text, key)) continue;
        y->kids[2 * y->n] = m->kids[2 * i];
        y->kids[2 * y->n + 1] = m->kids[2 * i + 1];
        y->n++;
    }
    return y;
}

/* ---- compile errors ---- */

static int bad(struct loader *l, const struct ynode *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(struct loader *l, const struct ynode *at, int code, const char *fmt, ...) {
    va_list ap;
    char msg[KZ_ERR_MSG_MAX];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); /* fmt's arguments may point into l->err.msg */
    va_end(ap);
    l->err.code = code;
    memcpy(l->err.msg, msg, sizeof msg);
    if (at) l->err_line = at->line;
    return code;
}

static int oom(struct loader *l) {
    return bad(l, NULL, KZ_ENOMEM, "out of memory");
}

static const char *kind_word(const struct ynode *y) {
    return y->kind == Y_MAP ? "a map" : y->kind == Y_SEQ ? "a list" : "a single value";
}

static int is_null_node(const struct ynode *y) {
    return y->kind == Y_SCALAR && y->plain &&
           (y->len == 0 || !strcmp(y->text, "~") || !strcmp(y->text, "null") ||
            !strcmp(y->text, "Null") || !strcmp(y->text, "NULL"));
}

/* A scalar string attribute copied into the rule set's arena; NULL when absent. */
static int get_str(struct loader *l, const struct ynode *m, const char *key, int required,
                   const char **out) {
    const struct ynode *y = map_get(m, key);
    *out = NULL;
    if (!y || is_null_node(y)) {
        if (required) return bad(l, m, KZ_EFORMAT, "`%s` is missing", key);
        return 0;
    }
    if (y->kind != Y_SCALAR)
        return bad(l, y, KZ_EFORMAT, "`%s` must be a single value, not %s", key, kind_word(y));
    if (!(*out = kz_arena_strndup(&l->rs->arena, y->text, y->len))) return oom(l);
    return 0;
}

/* A list of strings (a single string counts as a list of one). */
static int get_str_list(struct loader *l, const struct ynode *y, const char *what,
                        const char ***out, uint32_t *n) {
    *out = NULL;
    *n = 0;
    if (!y || is_null_node(y)) return 0;
    uint32_t cnt = y->kind == Y_SEQ ? y->n : 1;
    if (y->kind == Y_MAP)
        return bad(l, y, KZ_EFORMAT, "`%s` must be a list of values, not a map", what);
    const char **v = kz_arena_alloc(&l->rs->arena, (cnt + 1) * sizeof *v);
    if (!v) return oom(l);
    for (uint32_t i = 0; i < cnt; i++) {
        const struct ynode *s = y->kind == Y_SEQ ? y->kids[i] : y;
        if (s->kind != Y_SCALAR || is_null_node(s))
            return bad(l, s, KZ_EFORMAT, "`%s`: every entry must be a single value", what);
        if (!(v[i] = kz_arena_strndup(&l->rs->arena, s->text, s->len))) return oom(l);
    }
    *out = v;
    *n = cnt;
    return 0;
}

static uint32_t intern_or_zero(const char *s) {
    size_t n = strlen(s);
    return n && n <= KZ_INTERN_MAX_LEN ? kz_intern(s, n) : 0;
}

/* ---- detection ---- */

static int compile_item(struct loader *l, const struct ynode *key, const struct ynode *val,
                        struct kz_sigma_item *it) {
    struct kz_arena *a = &l->rs->arena;
    int rc = sigma_item_parse_key(a, key->text, key->len, key->line, it, &l->err);
    if (rc) return bad(l, key, rc, "%s", l->err.msg);
    if (key->len > 0 && !it->field && !it->nmods)
        return bad(l, key, KZ_EFORMAT, "empty field name");
    if (val->kind == Y_MAP)
        return bad(l, val, KZ_EFORMAT,
                   "field `%s`: the value is a map; a field takes one value or a list of values",
                   it->field_name);
    uint32_t n = val->kind == Y_SEQ ? val->n : 1;
    if (n == 0)
        return bad(l, val, KZ_EFORMAT,
                   "field `%s`: empty list of values (it would match nothing); give values or "
                   "remove the field",
                   it->field_name);
    if (n > KZ_SIGMA_MAX_VALUES)
        return bad(l, val, KZ_ELIMIT, "field `%s`: more than %u values", it->field_name,
                   KZ_SIGMA_MAX_VALUES);
    it->values = kz_arena_alloc(a, n * sizeof *it->values);
    if (!it->values) return oom(l);
    for (uint32_t i = 0; i < n; i++) {
        const struct ynode *s = val->kind == Y_SEQ ? val->kids[i] : val;
        if (s->kind != Y_SCALAR)
            return bad(l, s, KZ_EFORMAT,
                       "field `%s`: a list entry is %s; entries must be single "
                       "values",
                       it->field_name, kind_word(s));
        struct sigma_scalar sc = {s->text, s->len, s->line, s->plain};
        if ((rc = sigma_value_compile(a, it, &sc, &it->values[i], &l->err)))
            return bad(l, s, rc, "%s", l->err.msg);
        it->nvalues++;
    }
    if (it->mods & KZ_SM(EXPAND)) l->rs->placeholders++;
    if ((rc = sigma_item_check_values(it, &l->err))) return bad(l, key, rc, "%s", l->err.msg);
    return 0;
}

/* A map of `field|mods: values` items: one AND group. */
static int compile_group(struct loader *l, const struct ynode *m, struct kz_sigma_group *g,
                         uint32_t *budget) {
    if (m->n == 0) return bad(l, m, KZ_EFORMAT, "empty map: a selection needs at least one field");
    if (m->n > *budget)
        return bad(l, m, KZ_ELIMIT, "more than %u items in one selection", KZ_SIGMA_MAX_ITEMS);
    *budget -= m->n;
    g->items = kz_arena_alloc(&l->rs->arena, m->n * sizeof *g->items);
    if (!g->items) return oom(l);
    for (uint32_t i = 0; i < m->n; i++) {
        int rc = compile_item(l, m->kids[2 * i], m->kids[2 * i + 1], &g->items[i]);
        if (rc) return rc;
        g->nitems++;
    }
    return 0;
}

/* A keyword item from scalars (list entries or a lone value). */
static int compile_keywords(struct loader *l, const struct ynode *const *vals, uint32_t n,
                            struct kz_sigma_group *g) {
    struct kz_arena *a = &l->rs->arena;
    struct kz_sigma_item *it = kz_arena_alloc(a, sizeof *it);
    if (!it) return oom(l);
    memset(it, 0, sizeof *it);
    it->field_name = "";
    it->line = vals[0]->line;
    it->values = kz_arena_alloc(a, n * sizeof *it->values);
    if (!it->values) return oom(l);
    for (uint32_t i = 0; i < n; i++) {
        struct sigma_scalar sc = {vals[i]->text, vals[i]->len, vals[i]->line, vals[i]->plain};
        int rc = sigma_value_compile(a, it, &sc, &it->values[i], &l->err);
        if (rc) return bad(l, vals[i], rc, "%s", l->err.msg);
        it->nvalues++;
    }
    g->items = it;
    g->nitems = 1;
    return 0;
}

static int compile_selection(struct loader *l, const struct ynode *key, const struct ynode *y,
                             struct kz_sigma_selection *sel) {
    struct kz_arena *a = &l->rs->arena;
    uint32_t budget = KZ_SIGMA_MAX_ITEMS;
    int rc;
    sel->name = kz_arena_strndup(a, key->text, key->len);
    sel->line = key->line;
    if (!sel->name) return oom(l);
    if (is_null_node(y)) return bad(l, key, KZ_EFORMAT, "selection `%s` is empty", sel->name);
    if (y->kind == Y_MAP) {
        sel->groups = kz_arena_alloc(a, sizeof *sel->groups);
        if (!sel->groups) return oom(l);
        memset(sel->groups, 0, sizeof *sel->groups);
        sel->ngroups = 1;
        rc = compile_group(l, y, sel->groups, &budget);
    } else if (y->kind == Y_SCALAR) {
        sel->groups = kz_arena_alloc(a, sizeof *sel->groups);
        if (!sel->groups) return oom(l);
        sel->ngroups = 1;
        const struct ynode *one = y;
        rc = compile_keywords(l, &one, 1, sel->groups);
    } else {
        if (y->n == 0) return bad(l, y, KZ_EFORMAT, "selection `%s` is an empty list", sel->name);
        /* Maps are groups (ORed); plain values together make one keyword group. */
        uint32_t nmaps = 0, nkw = 0;
        for (uint32_t i = 0; i < y->n; i++) {
            const struct ynode *e = y->kids[i];
            if (e->kind == Y_MAP)
                nmaps++;
            else if (e->kind == Y_SCALAR && !is_null_node(e))
                nkw++;
            else
                return bad(l, e, KZ_EFORMAT,
                           "selection `%s`: a list entry is %s; entries are maps of fields or "
                           "keyword values",
                           sel->name, is_null_node(e) ? "empty" : kind_word(e));
        }
        if (nkw > budget) return bad(l, y, KZ_ELIMIT, "too many keywords in `%s`", sel->name);
        uint32_t ng = nmaps + (nkw ? 1 : 0);
        sel->groups = kz_arena_alloc(a, ng * sizeof *sel->groups);
        const struct ynode **kw = nkw ? kz_arena_alloc(&l->scratch, nkw * sizeof *kw) : NULL;
        if (!sel->groups || (nkw && !kw)) return oom(l);
        memset(sel->groups, 0, ng * sizeof *sel->groups);
        rc = 0;
        nkw = 0;
        for (uint32_t i = 0; i < y->n && !rc; i++) {
            const struct ynode *e = y->kids[i];
            if (e->kind == Y_MAP)
                rc = compile_group(l, e, &sel->groups[sel->ngroups++], &budget);
            else
                kw[nkw++] = e;
        }
        if (!rc && nkw) rc = compile_keywords(l, kw, nkw, &sel->groups[sel->ngroups++]);
    }
    return rc;
}

/* Selections and condition: `detection:` of a rule, or the body of a filter (skip: keys that
 * are not selections there). */
static int compile_detection(struct loader *l, const struct ynode *d, const struct ynode *key,
                             const char *section, const char *const *skip,
                             struct kz_sigma_detection *det) {
    struct kz_arena *a = &l->rs->arena;
    if (!d) return bad(l, NULL, KZ_EFORMAT, "`%s` is missing", section);
    if (d->kind != Y_MAP)
        return bad(l, d, KZ_EFORMAT, "`%s` must be a map of selections and a condition, not %s",
                   section, kind_word(d));
    const struct ynode *cond = map_get(d, "condition");
    if (!cond || is_null_node(cond))
        return bad(l, key, KZ_EFORMAT, "`%s` has no `condition`", section);
    const struct ynode *tf = map_get(d, "timeframe");
    if (tf)
        return bad(l, tf, KZ_EUNSUPP,
                   "`timeframe` belongs to Sigma 1 aggregations; use a correlation rule with "
                   "`timespan` instead");
    uint32_t nsel = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const char *k = d->kids[2 * i]->text;
        int skipped = !strcmp(k, "condition");
        for (const char *const *s = skip; s && *s; s++)
            skipped |= !strcmp(k, *s);
        if (!skipped) nsel++;
    }
    if (nsel == 0) return bad(l, key, KZ_EFORMAT, "`%s` defines no selection", section);
    if (nsel > KZ_SIGMA_MAX_SELECTIONS)
        return bad(l, d, KZ_ELIMIT, "more than %u selections", KZ_SIGMA_MAX_SELECTIONS);
    det->selections = kz_arena_alloc(a, nsel * sizeof *det->selections);
    if (!det->selections) return oom(l);
    memset(det->selections, 0, nsel * sizeof *det->selections);
    for (uint32_t i = 0; i < d->n; i++) {
        const struct ynode *k = d->kids[2 * i];
        int skipped = !strcmp(k->text, "condition");
        for (const char *const *s = skip; s && *s; s++)
            skipped |= !strcmp(k->text, *s);
        if (skipped) continue;
        int rc = compile_selection(l, k, d->kids[2 * i + 1], &det->selections[det->nselections]);
        if (rc) {
            if (rc != KZ_ENOMEM) {
                char msg[KZ_ERR_MSG_MAX];
                snprintf(msg, sizeof msg, "%s", l->err.msg);
                if (strncmp(msg, "selection `", 11))
                    snprintf(l->err.msg, sizeof l->err.msg, "selection `%.60s`: %.400s", k->text,
                             msg);
            }
            return rc;
        }
        det->nselections++;
    }
    /* The condition: a string, or (Sigma 1) a list of strings, ORed. */
    uint32_t nc = cond->kind == Y_SEQ ? cond->n : 1;
    if (cond->kind == Y_MAP || nc == 0)
        return bad(l, cond, KZ_EFORMAT, "`condition` must be a string (or a list of strings)");
    struct kz_sigma_cond **parts = kz_arena_alloc(a, nc * sizeof *parts);
    size_t total = 0;
    if (!parts) return oom(l);
    for (uint32_t i = 0; i < nc; i++) {
        const struct ynode *c = cond->kind == Y_SEQ ? cond->kids[i] : cond;
        if (c->kind != Y_SCALAR)
            return bad(l, c, KZ_EFORMAT, "`condition` list entries must be strings");
        int rc = kz_sigma_cond_parse(a, det, c->text, &parts[i], &l->err);
        if (rc) return bad(l, c, rc, "%s", l->err.msg);
        total += c->len + 4;
    }
    char *text = kz_arena_alloc(a, total + 1);
    if (!text) return oom(l);
    text[0] = 0;
    size_t o = 0;
    for (uint32_t i = 0; i < nc; i++) {
        const struct ynode *c = cond->kind == Y_SEQ ? cond->kids[i] : cond;
        if (i) memcpy(text + o, " or ", 4), o += 4;
        memcpy(text + o, c->text, c->len);
        o += c->len;
        text[o] = 0;
    }
    det->condition = text;
    if (nc == 1) {
        det->cond = parts[0];
    } else {
        struct kz_sigma_cond *orn = kz_arena_alloc(a, sizeof *orn);
        if (!orn) return oom(l);
        memset(orn, 0, sizeof *orn);
        orn->op = KZ_COND_OR;
        orn->nkids = nc;
        orn->kids = parts;
        det->cond = orn;
    }
    return 0;
}

/* ---- correlation ---- */

static int parse_timespan(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || !end[0] || end[1] || v == 0 || v > (1ull << 40)) return -1;
    uint64_t mul;
    switch (*end) {
    case 's':
        mul = 1;
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = 86400;
        break;
    case 'w':
        mul = 7 * 86400;
        break;
    case 'M':
        mul = 30 * 86400;
        break;
    case 'y':
        mul = 365 * 86400;
        break;
    default:
        return -1;
    }
    /* A century is longer than any log; beyond that the product could overflow. */
    if (v > 100ull * 365 * 86400 / mul) return -1;
    *out = v * mul;
    return 0;
}

static int number_node(const struct ynode *y, double *out) {
    if (y->kind != Y_SCALAR || !y->len || y->len > 32) return -1;
    char *end;
    errno = 0;
    double v = strtod(y->text, &end);
    if (*end || errno || v != v || y->text[0] == ' ') return -1;
    *out = v;
    return 0;
}

static int compile_correlation(struct loader *l, const struct ynode *root, const struct ynode *c,
                               struct kz_sigma_correlation *corr) {
    static const char *const types[] = {"event_count",      "value_count", "temporal",
                                        "temporal_ordered", "value_sum",   "value_avg",
                                        "value_percentile"};
    static const char *const keys[] = {"type",      "rules",   "group-by", "timespan",
                                       "condition", "aliases", "generate", NULL};
    struct kz_arena *a = &l->rs->arena;
    int rc;
    if (c->kind != Y_MAP)
        return bad(l, c, KZ_EFORMAT, "`correlation` must be a map, not %s", kind_word(c));
    for (uint32_t i = 0; i < c->n; i++) {
        const char *k = c->kids[2 * i]->text;
        int known = 0;
        for (const char *const *p = keys; *p; p++)
            known |= !strcmp(k, *p);
        if (!known)
            return bad(l, c->kids[2 * i], KZ_EFORMAT,
                       "correlation: unknown key `%.60s` (keys: type, rules, group-by, timespan, "
                       "condition, aliases, generate)",
                       k);
    }
    const struct ynode *t = map_get(c, "type");
    if (!t || t->kind != Y_SCALAR)
        return bad(l, t ? t : c, KZ_EFORMAT, "correlation: `type` is missing");
    int type = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(t->text, types[i])) type = i;
    if (type < 0)
        return bad(l, t, KZ_EFORMAT,
                   "correlation: unknown type `%.60s` (event_count, value_count, temporal, "
                   "temporal_ordered, value_sum, value_avg, value_percentile)",
                   t->text);
    corr->type = (uint8_t)type;
    const struct ynode *rules = map_get(c, "rules");
    if (!rules) return bad(l, c, KZ_EFORMAT, "correlation: `rules` is missing (ids or names)");
    if ((rc = get_str_list(l, rules, "rules", &corr->rule_refs, &corr->nrefs))) return rc;
    if (corr->nrefs == 0) return bad(l, rules, KZ_EFORMAT, "correlation: `rules` is empty");
    if ((type == KZ_CORR_TEMPORAL || type == KZ_CORR_TEMPORAL_ORDERED) && corr->nrefs < 2)
        return bad(l, rules, KZ_EFORMAT, "correlation: a %s correlation needs two or more rules",
                   types[type]);
    corr->rules = kz_arena_alloc(a, corr->nrefs * sizeof *corr->rules);
    if (!corr->rules) return oom(l);
    memset(corr->rules, 0, corr->nrefs * sizeof *corr->rules);

    const char **gb;
    const struct ynode *gby = map_get(c, "group-by");
    if ((rc = get_str_list(l, gby, "group-by", &gb, &corr->ngroup_by))) return rc;
    if (corr->ngroup_by) {
        corr->group_by = kz_arena_alloc(a, corr->ngroup_by * sizeof *corr->group_by);
        if (!corr->group_by) return oom(l);
        for (uint32_t i = 0; i < corr->ngroup_by; i++)
            if (!(corr->group_by[i] = intern_or_zero(gb[i])))
                return bad(l, gby, KZ_EFORMAT, "correlation: bad group-by field `%.60s`", gb[i]);
    }
    const struct ynode *ts = map_get(c, "timespan");
    if (!ts) return bad(l, c, KZ_EFORMAT, "correlation: `timespan` is missing (e.g. 5m, 1h)");
    if (ts->kind != Y_SCALAR || parse_timespan(ts->text, &corr->timespan_s))
        return bad(l, ts, KZ_EFORMAT,
                   "correlation: timespan `%.40s` is not a number followed by s, m, h, d, w, M or "
                   "y (e.g. 90m)",
                   ts->kind == Y_SCALAR ? ts->text : "");

    const struct ynode *cond = map_get(c, "condition");
    int needs_field = type == KZ_CORR_VALUE_COUNT || type >= KZ_CORR_VALUE_SUM;
    int percentile_given = 0;
    if (!cond && type != KZ_CORR_TEMPORAL && type != KZ_CORR_TEMPORAL_ORDERED)
        return bad(l, c, KZ_EFORMAT, "correlation: `condition` is missing (e.g. `gte: 10`)");
    if (cond) {
        static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
        if (cond->kind != Y_MAP || cond->n == 0)
            return bad(l, cond, KZ_EFORMAT,
                       "correlation: `condition` must be a map such as `gte: 10`");
        for (uint32_t i = 0; i < cond->n; i++) {
            const struct ynode *k = cond->kids[2 * i], *v = cond->kids[2 * i + 1];
            int op = -1;
            for (int j = 0; j < 6; j++)
                if (!strcmp(k->text, ops[j])) op = j;
            if (!strcmp(k->text, "field")) {
                if (v->kind != Y_SCALAR || !(corr->field = intern_or_zero(v->text)))
                    return bad(l, v, KZ_EFORMAT, "correlation: `field` must name a field");
                if (!needs_field)
                    return bad(l, k, KZ_EFORMAT,
                               "correlation: `field` is for value_* types, not %s", types[type]);
            } else if (!strcmp(k->text, "percentile") && type == KZ_CORR_VALUE_PERCENTILE) {
                if (number_node(v, &corr->percentile) || corr->percentile < 0 ||
                    corr->percentile > 100)
                    return bad(l, v, KZ_EFORMAT, "correlation: `percentile` must be 0 to 100");
                percentile_given = 1;
            } else if (op >= 0) {
                if (number_node(v, &corr->cmp_val[corr->ncmp]))
                    return bad(l, v, KZ_EFORMAT, "correlation: `%s` needs a number", ops[op]);
                corr->cmp_op[corr->ncmp++] = (uint8_t)op;
            } else {
                return bad(l, k, KZ_EFORMAT,
                           "correlation condition: unknown key `%.40s` (gt, gte, lt, lte, eq, "
                           "neq, field)",
                           k->text);
            }
        }
        if (corr->ncmp == 0)
            return bad(l, cond, KZ_EFORMAT,
                       "correlation: the condition has no comparison (gt, "
                       "gte, lt, lte, eq, neq)");
    }
    /* The specification's examples leave the percentile out; the median is the neutral choice
     * (docs/rules.md says so). */
    if (type == KZ_CORR_VALUE_PERCENTILE && !percentile_given) corr->percentile = 50;
    if (needs_field && !corr->field)
        return bad(l, cond ? cond : c, KZ_EFORMAT,
                   "correlation: a %s correlation needs `field:` in its condition", types[type]);

    const struct ynode *al = map_get(c, "aliases");
    if (al && !is_null_node(al)) {
        if (al->kind != Y_MAP)
            return bad(l, al, KZ_EFORMAT,
                       "correlation: `aliases` must be a map alias -> "
                       "{rule name: field}");
        corr->aliases = kz_arena_alloc(a, (al->n + 1) * sizeof *corr->aliases);
        if (!corr->aliases) return oom(l);
        for (uint32_t i = 0; i < al->n; i++) {
            const struct ynode *k = al->kids[2 * i], *m = al->kids[2 * i + 1];
            struct kz_sigma_alias *x = &corr->aliases[corr->naliases];
            memset(x, 0, sizeof *x);
            if (!(x->alias = intern_or_zero(k->text)))
                return bad(l, k, KZ_EFORMAT, "correlation: bad alias name");
            if (m->kind != Y_MAP || m->n == 0)
                return bad(l, m, KZ_EFORMAT,
                           "correlation: alias `%.60s` must map rule names to "
                           "fields",
                           k->text);
            x->rule_refs = kz_arena_alloc(a, m->n * sizeof *x->rule_refs);
            x->rules = kz_arena_alloc(a, m->n * sizeof *x->rules);
            x->fields = kz_arena_alloc(a, m->n * sizeof *x->fields);
            if (!x->rule_refs || !x->rules || !x->fields) return oom(l);
            for (uint32_t j = 0; j < m->n; j++) {
                const struct ynode *rk = m->kids[2 * j], *fv = m->kids[2 * j + 1];
                if (fv->kind != Y_SCALAR || !(x->fields[j] = intern_or_zero(fv->text)))
                    return bad(l, fv, KZ_EFORMAT,
                               "correlation: alias `%.60s`: the field for "
                               "rule `%.60s` must be a field name",
                               k->text, rk->text);
                if (!(x->rule_refs[j] = kz_arena_strndup(a, rk->text, rk->len))) return oom(l);
                x->rules[j] = NULL;
                x->nmaps++;
            }
            corr->naliases++;
        }
        /* Every alias should be used in group-by, or it does nothing. */
        for (uint32_t i = 0; i < corr->naliases; i++) {
            int used = 0;
            for (uint32_t j = 0; j < corr->ngroup_by; j++)
                used |= corr->group_by[j] == corr->aliases[i].alias;
            if (!used)
                return bad(l, al, KZ_EFORMAT,
                           "correlation: alias `%s` is not used in group-by (aliases only "
                           "rename group-by fields)",
                           kz_intern_name(corr->aliases[i].alias));
        }
    }
    const struct ynode *gen = map_get(c, "generate");
    if (!gen) gen = map_get(root, "generate");
    if (gen) {
        if (gen->kind != Y_SCALAR || (strcmp(gen->text, "true") && strcmp(gen->text, "false")))
            return bad(l, gen, KZ_EFORMAT, "`generate` must be true or false");
        corr->generate = !strcmp(gen->text, "true");
    }
    return 0;
}

/* ---- one rule document ---- */

static int compile_rule(struct loader *l, const struct ynode *doc, struct kz_sigma_rule *r) {
    struct kz_arena *a = &l->rs->arena;
    int rc;
    memset(r, 0, sizeof *r);
    r->line = doc->line;
    if (!(r->file = kz_arena_strndup(a, l->file, strlen(l->file)))) return oom(l);
    const struct ynode *det = map_get(doc, "detection"), *corr = map_get(doc, "correlation"),
                       *filt = map_get(doc, "filter");
    if (!!det + !!corr + !!filt > 1)
        return bad(l, doc, KZ_EFORMAT,
                   "a document has one of `detection`, `correlation` or `filter`, not several");
    r->kind = corr ? KZ_SIGMA_CORRELATION : filt ? KZ_SIGMA_FILTER : KZ_SIGMA_DETECTION;
    if ((rc = get_str(l, doc, "title", 1, &r->title))) return rc;
    if ((rc = get_str(l, doc, "id", 0, &r->id))) return rc;
    if ((rc = get_str(l, doc, "name", 0, &r->name))) return rc;
    const char *level, *status;
    if ((rc = get_str(l, doc, "level", 0, &level))) return rc;
    if (level) {
        for (int i = KZ_LEVEL_INFORMATIONAL; i <= KZ_LEVEL_CRITICAL; i++)
            if (!strcmp(level, kz_sigma_level_name(i))) r->level = (uint8_t)i;
        if (!r->level)
            return bad(l, map_get(doc, "level"), KZ_EFORMAT,
                       "level `%.40s` is not one of informational, low, medium, high, critical",
                       level);
    }
    if ((rc = get_str(l, doc, "status", 0, &status))) return rc;
    if (status) {
        static const char *const st[] = {"",           "stable",     "test", "experimental",
                                         "deprecated", "unsupported"};
        for (int i = 1; i <= KZ_STATUS_UNSUPPORTED; i++)
            if (!strcmp(status, st[i])) r->status = (uint8_t)i;
        if (!r->status)
            return bad(l, map_get(doc, "status"), KZ_EFORMAT,
                       "status `%.40s` is not one of stable, test, experimental, deprecated, "
                       "unsupported",
                       status);
    }
    if ((rc = get_str_list(l, map_get(doc, "tags"), "tags", &r->tags, &r->ntags))) return rc;
    const struct ynode *ls = map_get(doc, "logsource");
    if (ls && !is_null_node(ls)) {
        if (ls->kind != Y_MAP)
            return bad(l, ls, KZ_EFORMAT, "`logsource` must be a map (product, category, service)");
        if ((rc = get_str(l, ls, "product", 0, &r->logsource.product)) ||
            (rc = get_str(l, ls, "category", 0, &r->logsource.category)) ||
            (rc = get_str(l, ls, "service", 0, &r->logsource.service)) ||
            (rc = get_str(l, ls, "definition", 0, &r->logsource.definition)))
            return rc;
    } else if (r->kind == KZ_SIGMA_DETECTION) {
        return bad(l, doc, KZ_EFORMAT,
                   "`logsource` is missing (say which logs the rule reads: product, category, "
                   "service)");
    }
    if (r->kind == KZ_SIGMA_DETECTION) {
        if (!det)
            return bad(l, doc, KZ_EFORMAT,
                       "no `detection`, `correlation` or `filter` section: not a Sigma rule");
        return compile_detection(l, det, map_key(doc, "detection"), "detection", NULL,
                                 &r->detection);
    }
    if (r->kind == KZ_SIGMA_CORRELATION) return compile_correlation(l, doc, corr, &r->corr);
    /* filter: rules + selections + condition */
    static const char *const skip[] = {"rules", NULL};
    if (filt->kind != Y_MAP)
        return bad(l, filt, KZ_EFORMAT, "`filter` must be a map (rules, selections, condition)");
    const struct ynode *fr = map_get(filt, "rules");
    if (!fr || is_null_node(fr))
        return bad(l, filt, KZ_EFORMAT,
                   "filter: `rules` is missing (the ids or names of the rules it applies to)");
    if ((rc = get_str_list(l, fr, "rules", &r->filter.rule_refs, &r->filter.nrefs))) return rc;
    r->filter.rules = kz_arena_alloc(a, (r->filter.nrefs + 1) * sizeof *r->filter.rules);
    if (!r->filter.rules) return oom(l);
    memset(r->filter.rules, 0, (r->filter.nrefs + 1) * sizeof *r->filter.rules);
    return compile_detection(l, filt, map_key(doc, "filter"), "filter", skip, &r->detection);
}

/* The name a failure gives the rule: its title, else its id, else its line. */
static void rule_label(const struct ynode *doc, char *buf, size_t size) {
    const struct ynode *t = map_get(doc, "title"), *id = map_get(doc, "id");
    if (t && t->kind == Y_SCALAR && t->len)
        snprintf(buf, size, "`%.100s`", t->text);
    else if (id && id->kind == Y_SCALAR && id->len)
        snprintf(buf, size, "%.60s", id->text);
    else
        snprintf(buf, size, "at line %u", doc->line);
}

/* One finished YAML document: a collection action, or a rule to compile. */
static int document(struct loader *l, struct ynode *doc) {
    if (!doc || is_null_node(doc)) return 0; /* empty document (e.g. a trailing ---) */
    if (doc->kind != Y_MAP)
        return sigma_fail(l->rs, l->file, doc->line,
                          "document is %s, not a Sigma rule (a map with title, logsource, "
                          "detection...)",
                          kind_word(doc));
    const struct ynode *action = map_get(doc, "action");
    if (action) {
        const char *act = action->kind == Y_SCALAR ? action->text : "";
        if (!strcmp(act, "global")) {
            l->global = ywithout(l, doc, "action");
            return l->global ? 0 : KZ_ENOMEM;
        }
        if (!strcmp(act, "reset")) {
            l->global = NULL;
            return 0;
        }
        if (!strcmp(act, "repeat")) {
            if (!l->prev)
                return sigma_fail(l->rs, l->file, action->line,
                                  "`action: repeat` with no rule before it to repeat");
            struct ynode *body = ywithout(l, doc, "action");
            if (!body || !(doc = ymerge(l, l->prev, body, 0))) return KZ_ENOMEM;
        } else {
            return sigma_fail(l->rs, l->file, action->line,
                              "unknown `action: %.40s` (global, reset or repeat)", act);
        }
    } else if (l->global) {
        if (!(doc = ymerge(l, l->global, doc, 0))) return KZ_ENOMEM;
    }
    l->prev = doc;
    struct kz_sigma_rule *r = kz_arena_alloc(&l->rs->arena, sizeof *r);
    if (!r) return KZ_ENOMEM;
    l->err.code = 0;
    l->err.msg[0] = 0;
    l->err_line = doc->line;
    int rc = compile_rule(l, doc, r);
    if (rc == KZ_ENOMEM) return rc;
    if (rc) {
        char label[160];
        rule_label(doc, label, sizeof label);
        return sigma_fail(l->rs, l->file, l->err_line, "rule %s: %s", label, l->err.msg);
    }
    rc = sigma_add_rule(l->rs, r);
    if (rc == KZ_ELIMIT)
        return sigma_fail(l->rs, l->file, doc->line, "more than %u rules loaded; rule not kept",
                          KZ_SIGMA_MAX_RULES);
    return rc;
}

/* ---- the YAML event loop ---- */

static int frame_add(struct frame *f, struct ynode *kid) {
    if (f->n == f->alloc) {
        uint32_t na = f->alloc ? f->alloc * 2 : 8;
        void *nv = kz_realloc(f->kids, na * sizeof *f->kids);
        if (!nv) return KZ_ENOMEM;
        f->kids = nv;
        f->alloc = na;
    }
    f->kids[f->n++] = kid;
    return 0;
}

static int anchor_add(struct loader *l, const char *name, struct ynode *node) {
    if (l->nanchors >= 10000) return KZ_ELIMIT;
    if (l->nanchors == l->anchors_alloc) {
        uint32_t na = l->anchors_alloc ? l->anchors_alloc * 2 : 16;
        void *nv = kz_realloc(l->anchors, na * sizeof *l->anchors);
        if (!nv) return KZ_ENOMEM;
        l->anchors = nv;
        l->anchors_alloc = na;
    }
    const char *copy = kz_arena_strndup(&l->scratch, name, strlen(name));
    if (!copy) return KZ_ENOMEM;
    l->anchors[l->nanchors].name = copy;
    l->anchors[l->nanchors].node = node;
    l->nanchors++;
    return 0;
}

/* Attaches a finished node to the open collection (or makes it the document root). Map keys
 * must be scalars and unique. */
static int attach(struct loader *l, struct frame *stack, uint32_t depth, struct ynode *node,
                  struct ynode **root, const char **why) {
    if (depth == 0) {
        *root = node;
        return 0;
    }
    struct frame *f = &stack[depth - 1];
    if (f->node->kind == Y_MAP && f->n % 2 == 0) {
        if (node->kind != Y_SCALAR) {
            *why = "a map key is itself a list or map (keys must be plain names)";
            return KZ_EFORMAT;
        }
        for (uint32_t i = 0; i < f->n; i += 2)
            if (f->kids[i]->len == node->len && !memcmp(f->kids[i]->text, node->text, node->len)) {
                if (!l->doc_why[0]) {
                    snprintf(l->doc_why, sizeof l->doc_why,
                             "key `%.80s` appears twice in the same map (first on line %u); "
                             "YAML readers would silently keep only one",
                             node->text, f->kids[i]->line);
                    l->doc_why_line = node->line;
                }
                break;
            }
    }
    return frame_add(f, node);
}

static int parse_yaml(struct loader *l, const char *text, size_t len) {
    yaml_parser_t parser;
    yaml_event_t ev;
    struct frame stack[KZ_SIGMA_MAX_YAML_DEPTH];
    uint32_t depth = 0, ndocs = 0;
    struct ynode *root = NULL;
    int rc = 0, done = 0;
    char why_buf[300];
    const char *why = NULL;
    uint32_t why_line = 0;
    if (!yaml_parser_initialize(&parser)) return KZ_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    memset(stack, 0, sizeof stack);
    while (!done && !rc) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                rc = KZ_ENOMEM;
                break;
            }
            snprintf(why_buf, sizeof why_buf, "YAML syntax error: %s%s%s",
                     parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
                     parser.context ? parser.context : "");
            why = why_buf;
            why_line = (uint32_t)parser.problem_mark.line + 1;
            rc = KZ_EFORMAT;
            break;
        }
        uint32_t line = (uint32_t)ev.start_mark.line + 1;
        struct ynode *node = NULL;
        const char *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            root = NULL;
            l->nanchors = 0;
            l->doc_why[0] = 0;
            if (++ndocs > KZ_SIGMA_MAX_DOCUMENTS) {
                why = "too many YAML documents in one file", why_line = line, rc = KZ_ELIMIT;
            }
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (l->doc_why[0] && root) {
                char label[160];
                rule_label(root, label, sizeof label);
                rc = sigma_fail(l->rs, l->file, l->doc_why_line, "rule %s: %s", label, l->doc_why);
                l->doc_why[0] = 0;
            } else {
                rc = document(l, root);
            }
            root = NULL;
            break;
        case YAML_SCALAR_EVENT: {
            node = ynew(l, Y_SCALAR, line);
            if (!node) break;
            node->len = ev.data.scalar.length;
            node->text =
                kz_arena_strndup(&l->scratch, (const char *)ev.data.scalar.value, node->len);
            node->plain =
                ev.data.scalar.plain_implicit && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (!node->text) node = NULL;
            anchor = (const char *)ev.data.scalar.anchor;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            if (depth >= KZ_SIGMA_MAX_YAML_DEPTH) {
                why = "YAML nests deeper than 64 levels", why_line = line, rc = KZ_ELIMIT;
                break;
            }
            struct ynode *c = ynew(l, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP, line);
            if (!c) {
                rc = l->nodes >= KZ_SIGMA_MAX_YAML_NODES ? KZ_ELIMIT : KZ_ENOMEM;
                break;
            }
            const char *an =
                (const char *)(ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                                    : ev.data.mapping_start.anchor);
            stack[depth].node = c;
            stack[depth].n = 0;
            stack[depth].anchor = an ? kz_arena_strndup(&l->scratch, an, strlen(an)) : NULL;
            if (an && !stack[depth].anchor) rc = KZ_ENOMEM;
            depth++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            struct frame *f = &stack[--depth];
            node = f->node;
            node->n = node->kind == Y_MAP ? f->n / 2 : f->n;
            if (f->n) {
                node->kids = kz_arena_alloc(&l->scratch, f->n * sizeof *node->kids);
                if (!node->kids) {
                    node = NULL;
                    break;
                }
                memcpy(node->kids, f->kids, f->n * sizeof *node->kids);
            }
            anchor = f->anchor;
            f->n = 0;
            break;
        }
        case YAML_ALIAS_EVENT: {
            const char *an = (const char *)ev.data.alias.anchor;
            struct ynode *target = NULL;
            for (uint32_t i = l->nanchors; i-- > 0;)
                if (!strcmp(l->anchors[i].name, an)) {
                    target = l->anchors[i].node;
                    break;
                }
            if (!target) {
                why = "alias to an anchor that is not defined before it", why_line = line;
                rc = KZ_EFORMAT;
                break;
            }
            node = ycopy(l, target, (int)depth);
            if (!node && l->nodes < KZ_SIGMA_MAX_YAML_NODES) rc = KZ_ENOMEM;
            break;
        }
        default:
            break;
        }
        int is_node = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_END_EVENT ||
                      ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_ALIAS_EVENT;
        if (!rc && is_node && !node) {
            if (l->nodes >= KZ_SIGMA_MAX_YAML_NODES) {
                snprintf(why_buf, sizeof why_buf,
                         "more than %u YAML nodes in one file (aliases count as copies)",
                         KZ_SIGMA_MAX_YAML_NODES);
                why = why_buf, why_line = line, rc = KZ_ELIMIT;
            } else {
                rc = KZ_ENOMEM;
            }
        }
        if (!rc && node) {
            if (anchor) rc = anchor_add(l, anchor, node);
            if (!rc) rc = attach(l, stack, depth, node, &root, &why);
            if (rc && why) why_line = node->line;
        }
        yaml_event_delete(&ev);
    }
    for (uint32_t i = 0; i < KZ_SIGMA_MAX_YAML_DEPTH; i++)
        kz_free(stack[i].kids);
    yaml_parser_delete(&parser);
    if (rc && rc != KZ_ENOMEM) {
        if (!why) why = "limit reached";
        if (sigma_fail(l->rs, l->file, why_line, "%s (the rest of the file is not read)", why))
            return KZ_ENOMEM;
        return 0;
    }
    return rc;
}

/* ---- entry points ---- */

int kz_sigma_load_buffer(struct kz_sigma_ruleset *rs, const char *file, const char *text,
                         size_t len, struct kz_err *err) {
    struct loader l = {.rs = rs, .file = file};
    if (len > KZ_SIGMA_MAX_FILE_BYTES) {
        rs->nfiles++;
        if (sigma_fail(rs, file, 0, "file is larger than %u MiB; not a rule file?",
                       KZ_SIGMA_MAX_FILE_BYTES >> 20))
            return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", file);
        return 0;
    }
    kz_arena_init(&l.scratch, 64 * 1024, (size_t)256 << 20);
    rs->nfiles++;
    int rc = parse_yaml(&l, text, len);
    kz_arena_free(&l.scratch);
    kz_free(l.anchors);
    if (rc) return kz_err_set(err, rc, "%s: %s", file, kz_strerror(rc));
    return 0;
}

static int load_file(struct kz_sigma_ruleset *rs, const char *path, struct kz_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (sigma_fail(rs, path, 0, "cannot open: %s", strerror(e)))
            return kz_err_set(err, KZ_ENOMEM, "out of memory");
        return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(e));
    }
    size_t cap = KZ_SIGMA_MAX_FILE_BYTES + 1, n = 0;
    struct stat st;
    size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0 && (size_t)st.st_size < cap
                      ? (size_t)st.st_size + 1
                      : cap;
    char *buf = kz_malloc(want);
    if (!buf) {
        fclose(f);
        return kz_err_set(err, KZ_ENOMEM, "out of memory reading %s", path);
    }
    size_t got;
    while (n < want && (got = fread(buf + n, 1, want - n, f)) > 0)
        n += got;
    int ioerr = ferror(f);
    fclose(f);
    int rc = 0;
    if (ioerr) {
        kz_free(buf);
        if (sigma_fail(rs, path, 0, "read error")) return KZ_ENOMEM;
        return kz_err_set(err, KZ_EIO, "%s: read error", path);
    }
    if (n == want && want < cap) {
        /* The file grew since fstat: read it again with the full cap. */
        char *nb = kz_realloc(buf, cap);
        if (!nb) {
            kz_free(buf);
            return kz_err_set(err, KZ_ENOMEM, "out of memory reading %s", path);
        }
        buf = nb;
        f = fopen(path, "rb");
        n = 0;
        if (f) {
            while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0)
                n += got;
            fclose(f);
        }
    }
    rc = kz_sigma_load_buffer(rs, path, buf, n, err);
    kz_free(buf);
    return rc;
}

struct pathlist {
    char **v;
    uint32_t n, alloc;
};

static int pathlist_add(struct pathlist *p, const char *s) {
    if (p->n >= KZ_SIGMA_MAX_FILES) return KZ_ELIMIT;
    if (p->n == p->alloc) {
        uint32_t na = p->alloc ? p->alloc * 2 : 64;
        void *nv = kz_realloc(p->v, na * sizeof *p->v);
        if (!nv) return KZ_ENOMEM;
        p->v = nv;
        p->alloc = na;
    }
    if (!(p->v[p->n] = kz_strdup(s))) return KZ_ENOMEM;
    p->n++;
    return 0;
}

static int has_rule_ext(const char *name) {
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* Collects rule files under dir (recursively; hidden entries skipped; depth-limited so a
 * symlink loop ends). */
static int walk(struct kz_sigma_ruleset *rs, const char *dir, int depth, struct pathlist *out) {
    if (depth > 32) return sigma_fail(rs, dir, 0, "folders nest deeper than 32 (a symlink loop?)");
    DIR *d = opendir(dir);
    if (!d) return sigma_fail(rs, dir, 0, "cannot open folder: %s", strerror(errno));
    struct dirent *e;
    int rc = 0;
    size_t dl = strlen(dir);
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t nl = strlen(e->d_name);
        char *p = kz_malloc(dl + nl + 2);
        if (!p) {
            rc = KZ_ENOMEM;
            break;
        }
        memcpy(p, dir, dl);
        p[dl] = '/';
        memcpy(p + dl + 1, e->d_name, nl + 1);
        struct stat st;
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(rs, p, depth + 1, out);
            else if (S_ISREG(st.st_mode) && has_rule_ext(e->d_name))
                rc = pathlist_add(out, p);
        }
        kz_free(p);
    }
    closedir(d);
    if (rc == KZ_ELIMIT)
        rc = sigma_fail(rs, dir, 0, "more than %u rule files; the rest are not read",
                        KZ_SIGMA_MAX_FILES);
    return rc;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kz_sigma_load_path(struct kz_sigma_ruleset *rs, const char *path, struct kz_err *err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (sigma_fail(rs, path, 0, "cannot read: %s", strerror(e)))
            return kz_err_set(err, KZ_ENOMEM, "out of memory");
        return kz_err_set(err, e == ENOENT ? KZ_EUSAGE : KZ_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISDIR(st.st_mode)) return load_file(rs, path, err);
    struct pathlist files = {0};
    /* Strip trailing slashes so paths in messages read well. */
    char *dir = kz_strdup(path);
    if (!dir) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/';)
        dir[--n] = 0;
    int rc = walk(rs, dir, 0, &files);
    if (!rc) {
        if (files.n) qsort(files.v, files.n, sizeof *files.v, cmp_path);
        for (uint32_t i = 0; i < files.n && !rc; i++) {
            rc = load_file(rs, files.v[i], err);
            if (rc == KZ_EIO) rc = 0; /* recorded as a failure; go on with the others */
        }
    } else {
        kz_err_set(err, rc, "%s: %s", path, kz_strerror(rc));
    }
    for (uint32_t i = 0; i < files.n; i++)
        kz_free(files.v[i]);
    kz_free(files.v);
    kz_free(dir);
    return rc;
}
