/* prefilter.c - which rules could possibly match this event? One Vectorscan scan decides.
 *
 * For each rule we derive, from its condition, a set of literals such that whenever the rule
 * matches, at least one of them occurs (ignoring case) in some value of the event:
 *   - a pattern gives its literal (a glob its longest literal piece); `*` alone gives nothing;
 *   - a value gives the union of its patterns (windash and base64offset variants); an item the
 *     union of its values, or, with |all, the best single value; regexes, numbers compared,
 *     CIDR, field references, null, |exists and |neq give nothing (no literal is required),
 *     and neither do EventID, Channel and Provider_Name, which routing already decides;
 *   - an AND (items of a group, `and`, `all of`) needs all its parts, so the best part's set is
 *     enough; an OR (groups, values, `or`, `1 of`) needs the union of all parts, and has no set if
 *     one part has none; `not X` has no set.
 * "Best" means the set whose shortest literal is longest (short literals occur everywhere, and so
 * do a few long ones, which lit_weight rates as short). A rule
 * without a set, or whose set would have a literal shorter than MATCH_MIN_LITERAL or more than
 * MATCH_MAX_LITERALS members, is evaluated on every event of its route ("always").
 *
 * The literals of the rules of one channel and event id (plus the channel-wide and any-channel
 * rules) form that route's database, compiled on the route's first scan (group_db); scanning an
 * event is one hs_scan over its values joined by a separator: the values of the fields those
 * rules name (every field when one has keywords).
 * The prefilter never decides a match, so a literal occurring across two values only costs a
 * needless evaluation. */
#include "match_int.h"

#include "core/alloc.h"
#include "core/intern.h"

#include <string.h>
#include <strings.h>

/* Values are joined with this byte in the scanned buffer (Vectorscan's literal API refuses NUL
 * at the start of a literal). A literal containing it can only match more, never less. */
#define SEP '\x1f'

/* How selective a literal is: its length, where characters that are rare in Windows logs count
 * double (punctuation other than path and command-line separators, non-ASCII bytes: `^^` or a
 * Cyrillic letter select as well as four letters), and an anchored end counts as two. */
static uint32_t lit_weight(const struct match_lit *l) {
    /* Literals that occur in most events of their channel select nothing, however long: the
     * booleans of Sysmon network events (Initiated, SourceIsIpv6) and the Windows folder every
     * process path and command line holds. They weigh the least an acceptable literal may, so
     * any other part of an AND is preferred to them. */
    static const char *const ubiquitous[] = {"true", "false", "c:\\windows\\", "\\windows\\",
                                             "c:\\windows\\system32\\", "\\system32\\"};
    for (size_t i = 0; i < sizeof ubiquitous / sizeof *ubiquitous; i++)
        if (l->len == strlen(ubiquitous[i]) && !strncasecmp(l->p, ubiquitous[i], l->len))
            return MATCH_MIN_LITERAL;
    uint32_t w = (l->anchor & ANCHOR_START ? 2 : 0) + (l->anchor & ANCHOR_END ? 2 : 0);
    for (uint32_t i = 0; i < l->len; i++) {
        unsigned char c = (unsigned char)l->p[i];
        int common = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == ' ' || c == '.' || c == '\\' || c == '/' || c == ':' || c == '-' ||
                     c == '_' || c == '"';
        w += common ? 1 : 2;
    }
    return w;
}

/* A literal set; none = "no set can be given" (the part may match without any literal). */
struct litset {
    int none;
    uint32_t n;
    struct match_lit v[MATCH_MAX_LITERALS];
};

/* What the set computations need besides the rule: the log source (its value maps) and where to
 * keep literals made here (from regexes). */
struct setctx {
    const struct kz_ls_target *tg;
    struct kz_arena *arena;
};

static void set_none(struct litset *s) {
    s->none = 1;
    s->n = 0;
}

static uint32_t set_min_len(const struct litset *s) {
    uint32_t m = UINT32_MAX;
    for (uint32_t i = 0; i < s->n; i++)
        if (lit_weight(&s->v[i]) < m) m = lit_weight(&s->v[i]);
    return m;
}

/* Is a better than b as a required set? (none is worst) */
static int set_better(const struct litset *a, const struct litset *b) {
    if (a->none || a->n == 0) return 0;
    if (b->none || b->n == 0) return 1;
    uint32_t ma = set_min_len(a), mb = set_min_len(b);
    if (ma != mb) return ma > mb;
    return a->n < b->n;
}

static void set_add(struct litset *s, const char *p, uint32_t len, uint8_t anchor) {
    if (s->none) return;
    struct match_lit l = {p, len, anchor};
    if (len == 0 || lit_weight(&l) < MATCH_MIN_LITERAL || memchr(p, 0, len)) {
        set_none(s);
        return;
    }
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].len == len && s->v[i].anchor == anchor && !strncasecmp(s->v[i].p, p, len))
            return;
    if (s->n == MATCH_MAX_LITERALS) {
        set_none(s);
        return;
    }
    s->v[s->n++] = l;
}

/* s |= t */
static void set_union(struct litset *s, const struct litset *t) {
    if (t->none || t->n == 0) {
        set_none(s);
        return;
    }
    for (uint32_t i = 0; i < t->n && !s->none; i++)
        set_add(s, t->v[i].p, t->v[i].len, t->v[i].anchor);
}

static void pattern_set(const struct kz_sigma_pattern *p, struct litset *out) {
    switch (p->match) {
    case KZ_MATCH_EXACT:
        set_add(out, p->text, p->len, ANCHOR_START | ANCHOR_END);
        return;
    case KZ_MATCH_STARTSWITH:
        set_add(out, p->text, p->len, ANCHOR_START);
        return;
    case KZ_MATCH_ENDSWITH:
        set_add(out, p->text, p->len, ANCHOR_END);
        return;
    case KZ_MATCH_CONTAINS:
        set_add(out, p->text, p->len, 0);
        return;
    case KZ_MATCH_GLOB: {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < p->npieces; i++)
            if (p->pieces[i].kind == KZ_PIECE_LIT &&
                (best == UINT32_MAX || p->pieces[i].len > p->pieces[best].len))
                best = i;
        if (best == UINT32_MAX) {
            set_none(out);
            return;
        }
        uint8_t anchor = (best == 0 ? ANCHOR_START : 0) |
                         (best == p->npieces - 1 ? ANCHOR_END : 0);
        set_add(out, p->pieces[best].text, p->pieces[best].len, anchor);
        return;
    }
    default:
        set_none(out);
    }
}

/* A literal every match of regular expression re must contain, or 0: the longest run of plain
 * characters at the top level of an expression without top-level alternation, where each
 * character is required (not under ?, * or {0,}). Groups, classes and escapes other than escaped
 * punctuation end a run. Conservative by construction: when unsure, no literal. */
static size_t regex_literal(const char *re, size_t n, char *out) {
    size_t best = 0, run = 0, best_at = 0;
    char cur[256];
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        if (c == '[') { /* a class: skip it (a `]` first in the class is a member) */
            size_t j = i + 1;
            if (j < n && re[j] == '^') j++;
            if (j < n && re[j] == ']') j++;
            for (; j < n && re[j] != ']'; j++)
                if (re[j] == '\\') j++;
            i = j;
            run = 0;
            continue;
        }
        if (c == '(') {
            depth++;
            run = 0;
            continue;
        }
        if (c == ')') {
            depth--;
            run = 0;
            continue;
        }
        if (c == '|') {
            if (depth == 0) return 0; /* top-level alternation: nothing is required */
            run = 0;
            continue;
        }
        if (depth > 0) continue;
        char lit;
        if (c == '\\') {
            if (i + 1 >= n) return 0;
            char e = re[++i];
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                run = 0; /* \d \s \w \b \x.. \1 ... are not literal characters */
                continue;
            }
            lit = e;
        } else if (c == '.' || c == '^' || c == '$') {
            run = 0;
            continue;
        } else if (c == '?' || c == '*' || c == '+' || c == '{') {
            /* A quantifier on the last character: `+` and `{n>0` keep one required copy, the
             * others make it optional; either way the run cannot continue past it. */
            int optional = c == '?' || c == '*' || (c == '{' && i + 1 < n && re[i + 1] == '0');
            if (optional && run) run--;
            if (run > best) {
                best = run;
                best_at = 0;
                memcpy(out, cur, run);
            }
            run = 0;
            if (c == '{')
                while (i < n && re[i] != '}')
                    i++;
            continue;
        } else {
            lit = c;
        }
        if (run < sizeof cur) cur[run++] = lit;
        /* the run so far is required unless a quantifier follows; that case is handled above */
        if (run > best && !(i + 1 < n && (re[i + 1] == '?' || re[i + 1] == '*' || re[i + 1] == '{'))) {
            best = run;
            memcpy(out, cur, run);
        }
    }
    (void)best_at;
    return depth == 0 ? best : 0;
}

static void value_set(const struct setctx *cx, const struct kz_sigma_item *it,
                      const struct kz_sigma_value *v, struct litset *out) {
    out->none = 0;
    out->n = 0;
    if (v->type == KZ_SV_REGEX) {
        char lit[256];
        size_t n = v->raw ? regex_literal(v->raw, v->raw_len, lit) : 0;
        char *p = n ? kz_arena_strndup(cx->arena, lit, n) : NULL;
        if (p)
            set_add(out, p, (uint32_t)n, 0);
        else
            set_none(out);
        return;
    }
    int textual = v->type == KZ_SV_STRING || v->type == KZ_SV_BOOL ||
                  (v->type == KZ_SV_NUMBER && !(it->mods & (KZ_SM_COMPARE | KZ_SM_TIMEPART)));
    if (!textual || v->npatterns == 0) {
        set_none(out);
        return;
    }
    for (uint32_t k = 0; k < v->npatterns && !out->none; k++)
        pattern_set(&v->patterns[k], out);
}

/* Fields routing already decides (the event id, channel, provider): their values occur in every
 * event of the route, so as literals they would select every event. */
static int routing_field(uint32_t field) {
    return field == KZ_F_EventID || field == KZ_F_Channel || field == KZ_F_Provider_Name;
}

/* Does the target write this Sigma field's values differently (logsource `values:`)? Then the
 * rule's literals need not occur in its events. */
static int valmapped(const struct kz_ls_target *tg, uint32_t field) {
    for (uint32_t m = 0; tg && m < tg->nvalmaps; m++)
        if (tg->valmaps[m].field == field) return 1;
    return 0;
}

static void item_set(const struct setctx *cx, const struct kz_sigma_item *it,
                     struct litset *out) {
    out->none = 0;
    out->n = 0;
    if (it->mods & (KZ_SM(EXISTS) | KZ_SM(NEQ)) || it->nvalues == 0 || routing_field(it->field) ||
        valmapped(cx->tg, it->field)) {
        set_none(out);
        return;
    }
    struct litset vs;
    if (it->mods & KZ_SM(ALL)) {
        set_none(out);
        for (uint32_t k = 0; k < it->nvalues; k++) {
            value_set(cx, it, &it->values[k], &vs);
            if (set_better(&vs, out)) *out = vs;
        }
        return;
    }
    for (uint32_t k = 0; k < it->nvalues && !out->none; k++) {
        value_set(cx, it, &it->values[k], &vs);
        set_union(out, &vs);
    }
}

static void selection_set(const struct setctx *cx, const struct kz_sigma_selection *sel,
                          struct litset *out) {
    out->none = 0;
    out->n = 0;
    if (sel->ngroups == 0) set_none(out);
    struct litset best, is;
    for (uint32_t g = 0; g < sel->ngroups && !out->none; g++) {
        const struct kz_sigma_group *grp = &sel->groups[g];
        set_none(&best);
        for (uint32_t k = 0; k < grp->nitems; k++) {
            item_set(cx, &grp->items[k], &is);
            if (set_better(&is, &best)) best = is;
        }
        set_union(out, &best);
    }
}

/* Recursion depth is bounded by the condition parser (KZ_SIGMA_MAX_COND_DEPTH). The sets are
 * large (MATCH_MAX_LITERALS), so they live on the heap, one per level. */
static int cond_set(const struct setctx *cx, const struct kz_sigma_detection *det,
                    const struct kz_sigma_cond *c, struct litset *out) {
    out->none = 0;
    out->n = 0;
    switch (c->op) {
    case KZ_COND_SEL:
        selection_set(cx, &det->selections[c->sel], out);
        return 0;
    case KZ_COND_NOT:
        set_none(out);
        return 0;
    default:
        break;
    }
    struct litset *kid = kz_malloc(sizeof *kid);
    if (!kid) return KZ_ENOMEM;
    if (c->op == KZ_COND_AND) set_none(out);
    for (uint32_t k = 0; k < c->nkids; k++) {
        if (cond_set(cx, det, c->kids[k], kid)) {
            kz_free(kid);
            return KZ_ENOMEM;
        }
        if (c->op == KZ_COND_AND) {
            if (set_better(kid, out)) *out = *kid;
        } else {
            set_union(out, kid);
            if (out->none) break;
        }
    }
    kz_free(kid);
    return 0;
}

/* ---- literal table ---- */

struct pair {
    uint32_t lit, variant;
};

struct build {
    struct kz_sigma_engine *e;
    /* distinct literals (lowercased), open addressing */
    uint32_t nlits, lits_cap, slots_cap;
    struct match_lit *lits;
    uint32_t *slots; /* literal id + 1, 0 empty */
    uint32_t npairs, pairs_cap;
    struct pair *pairs;
};

static uint32_t hash_lit(const char *p, uint32_t len, uint8_t anchor) {
    uint32_t h = 2166136261u ^ anchor;
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 'A' && c <= 'Z') c += 32;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int lit_id(struct build *b, const struct match_lit *want, uint32_t *id) {
    const char *p = want->p;
    uint32_t len = want->len;
    if (2 * (b->nlits + 1) > b->slots_cap) {
        uint32_t cap = b->slots_cap ? b->slots_cap * 2 : 1024;
        uint32_t *slots = kz_calloc(cap, sizeof *slots);
        if (!slots) return KZ_ENOMEM;
        for (uint32_t i = 0; i < b->nlits; i++) {
            uint32_t h = hash_lit(b->lits[i].p, b->lits[i].len, b->lits[i].anchor) & (cap - 1);
            while (slots[h])
                h = (h + 1) & (cap - 1);
            slots[h] = i + 1;
        }
        kz_free(b->slots);
        b->slots = slots;
        b->slots_cap = cap;
    }
    uint32_t h = hash_lit(p, len, want->anchor) & (b->slots_cap - 1);
    for (; b->slots[h]; h = (h + 1) & (b->slots_cap - 1)) {
        const struct match_lit *l = &b->lits[b->slots[h] - 1];
        if (l->len == len && l->anchor == want->anchor && !strncasecmp(l->p, p, len)) {
            *id = b->slots[h] - 1;
            return 0;
        }
    }
    if (b->nlits == b->lits_cap) {
        uint32_t cap = b->lits_cap ? b->lits_cap * 2 : 1024;
        struct match_lit *nl = kz_realloc(b->lits, cap * sizeof *nl);
        if (!nl) return KZ_ENOMEM;
        b->lits = nl;
        b->lits_cap = cap;
    }
    b->lits[b->nlits] = *want;
    b->slots[h] = b->nlits + 1;
    *id = b->nlits++;
    return 0;
}

static int pair_add(struct build *b, uint32_t lit, uint32_t variant) {
    if (b->npairs == b->pairs_cap) {
        uint32_t cap = b->pairs_cap ? b->pairs_cap * 2 : 4096;
        struct pair *np = kz_realloc(b->pairs, cap * sizeof *np);
        if (!np) return KZ_ENOMEM;
        b->pairs = np;
        b->pairs_cap = cap;
    }
    b->pairs[b->npairs].lit = lit;
    b->pairs[b->npairs].variant = variant;
    b->npairs++;
    return 0;
}

static int pair_cmp(const void *a, const void *b) {
    const struct pair *x = a, *y = b;
    if (x->lit != y->lit) return x->lit < y->lit ? -1 : 1;
    return x->variant < y->variant ? -1 : x->variant > y->variant;
}

static uint32_t renamed(const struct match_variant *v, uint32_t id) {
    for (uint32_t i = 0; i < v->nrenames; i++)
        if (v->rename_from[i] == id) return v->rename_to[i];
    return id;
}

/* Marks in g the event fields variant v's literals can come from (every field for keywords). */
static int group_fields(struct match_group *g, const struct match_variant *v) {
    const struct kz_sigma_detection *det = &v->rule->detection;
    for (uint32_t si = 0; si < det->nselections; si++)
        for (uint32_t gi = 0; gi < det->selections[si].ngroups; gi++)
            for (uint32_t k = 0; k < det->selections[si].groups[gi].nitems; k++) {
                uint32_t f = det->selections[si].groups[gi].items[k].field;
                if (!f) {
                    g->scan_all = 1;
                    continue;
                }
                if (routing_field(f)) continue;
                f = renamed(v, f);
                if (f >= g->nscan_ids) {
                    uint32_t n = f + 256;
                    uint8_t *ids = kz_realloc(g->scan_ids, n);
                    if (!ids) return KZ_ENOMEM;
                    memset(ids + g->nscan_ids, 0, n - g->nscan_ids);
                    g->scan_ids = ids;
                    g->nscan_ids = n;
                }
                g->scan_ids[f] = 1;
            }
    return 0;
}

/* Does variant v belong in group g's database? Any-channel rules are in every database; a channel's
 * database holds its channel-wide rules; an (event id) database of a channel adds the rules of that
 * event id. */
static int in_group(const struct match_group *g, const struct match_variant *v) {
    if (v->group == 0) return 1;
    if (v->group != g->parent) return 0;
    if (v->nevent_ids == 0) return 1;
    if (!g->has_id) return 0;
    for (uint32_t i = 0; i < v->nevent_ids; i++)
        if (v->event_ids[i] == g->event_id) return 1;
    return 0;
}

/* Splits each channel's database by event id: one for each event id its gated rules name (most
 * name one), so an event's scan sees only the literals of rules that can apply to it. */
static int split_by_event_id(struct kz_sigma_engine *e) {
    uint32_t nchannels = e->ngroups;
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        const struct match_variant *v = &e->variants[vi];
        if (v->always || v->group == 0 || v->group >= nchannels) continue;
        for (uint32_t i = 0; i < v->nevent_ids; i++) {
            uint32_t g = nchannels;
            while (g < e->ngroups &&
                   !(e->groups[g].parent == v->group && e->groups[g].event_id == v->event_ids[i]))
                g++;
            if (g < e->ngroups) continue;
            struct match_group *ng = kz_realloc(e->groups, (e->ngroups + 1) * sizeof *ng);
            if (!ng) return KZ_ENOMEM;
            e->groups = ng;
            struct match_group *x = &e->groups[e->ngroups++];
            memset(x, 0, sizeof *x);
            x->channel = e->groups[v->group].channel;
            x->parent = v->group;
            x->has_id = 1;
            x->event_id = v->event_ids[i];
        }
    }
    return 0;
}

/* Collects the literals of group g's database (the literals of the variants that belong in it)
 * and the fields its scans read. The database itself is compiled on the group's first scan. */
static int group_lits(struct build *b, uint32_t g, uint8_t *want, struct kz_err *err) {
    struct kz_sigma_engine *e = b->e;
    struct match_group *grp = &e->groups[g];
    memset(want, 0, b->nlits);
    for (uint32_t i = 0; i < b->npairs; i++)
        if (in_group(grp, &e->variants[b->pairs[i].variant])) want[b->pairs[i].lit] = 1;
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        const struct match_variant *v = &e->variants[vi];
        if (!v->always && in_group(grp, v) && group_fields(grp, v))
            return kz_err_set(err, KZ_ENOMEM, "out of memory building the prefilter");
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nlits; i++)
        n += want[i];
    atomic_init(&grp->db_state, n ? REGEX_HS_UNTRIED : REGEX_HS_REFUSED);
    if (n == 0) return 0;
    if (!(grp->lits = kz_malloc(n * sizeof *grp->lits)))
        return kz_err_set(err, KZ_ENOMEM, "out of memory building the prefilter");
    for (uint32_t i = 0; i < b->nlits; i++)
        if (want[i]) grp->lits[grp->nlits++] = i;
    return 0;
}

/* Compiles group g's database. Compiling is most of an engine's build time (milliseconds per
 * database, hundreds of databases for SigmaHQ) while a scan meets only the few channels and
 * event ids its logs have, so each database is compiled when first needed. Returns the
 * database, or NULL when it could not be built (the caller then takes every gated rule). */
static hs_database_t *group_compile(const struct kz_sigma_engine *e, const struct match_group *cg) {
    struct match_group *g = (struct match_group *)cg; /* the database is the mutable part */
    uint32_t n = g->nlits;
    const char **exprs = kz_calloc(n, sizeof *exprs);
    unsigned *flags = kz_malloc(n * sizeof *flags);
    size_t *lens = kz_malloc(n * sizeof *lens);
    hs_database_t *db = NULL;
    if (!exprs || !flags || !lens) goto out;
    for (uint32_t k = 0; k < n; k++) {
        const struct match_lit *l = &e->lits[g->lits[k]];
        /* The anchors are the separators around each value in the scanned buffer. */
        char *x = kz_malloc(l->len + 2);
        if (!x) goto out;
        size_t o = 0;
        if (l->anchor & ANCHOR_START) x[o++] = SEP;
        memcpy(x + o, l->p, l->len);
        o += l->len;
        if (l->anchor & ANCHOR_END) x[o++] = SEP;
        exprs[k] = x;
        lens[k] = o;
        flags[k] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
    }
    hs_compile_error_t *ce = NULL;
    if (hs_compile_lit_multi(exprs, flags, g->lits, lens, n, HS_MODE_BLOCK, NULL, &db, &ce) !=
        HS_SUCCESS) {
        hs_free_compile_error(ce);
        db = NULL;
    }
out:
    for (uint32_t i = 0; exprs && i < n; i++)
        kz_free((char *)exprs[i]);
    kz_free(exprs);
    kz_free(flags);
    kz_free(lens);
    return db;
}

/* Group g's database, compiled by whichever thread needs it first (under the engine's lock for
 * lazy Vectorscan compiles); NULL when it has no literals or could not be built. */
static hs_database_t *group_db(const struct kz_sigma_engine *ce, const struct match_group *cg) {
    int st = atomic_load_explicit(&cg->db_state, memory_order_acquire);
    if (st == REGEX_HS_READY) return cg->db;
    if (st == REGEX_HS_REFUSED) return NULL;
    struct kz_sigma_engine *e = (struct kz_sigma_engine *)ce;
    struct match_group *g = (struct match_group *)cg;
    pthread_mutex_lock(&e->regex_lock);
    if (atomic_load_explicit(&g->db_state, memory_order_relaxed) == REGEX_HS_UNTRIED) {
        g->db = group_compile(e, g);
        atomic_store_explicit(&g->db_state, g->db ? REGEX_HS_READY : REGEX_HS_REFUSED,
                              memory_order_release);
    }
    pthread_mutex_unlock(&e->regex_lock);
    return atomic_load_explicit(&g->db_state, memory_order_acquire) == REGEX_HS_READY ? g->db
                                                                                      : NULL;
}

int prefilter_build(struct kz_sigma_engine *e, struct kz_err *err) {
    struct build b = {.e = e};
    struct litset *set = kz_malloc(sizeof *set);
    uint8_t *want = NULL;
    int rc = 0;
    if (!set) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        struct match_variant *v = &e->variants[vi];
        v->always = 1;
        if (e->no_prefilter) continue;
        const struct kz_sigma_detection *det = &v->rule->detection;
        if (!det->cond) continue;
        struct setctx cx = {v->target, &e->arena};
        if (cond_set(&cx, det, det->cond, set)) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        if (set->none || set->n == 0) continue;
        v->always = 0;
        for (uint32_t k = 0; k < set->n; k++) {
            uint32_t id;
            if ((rc = lit_id(&b, &set->v[k], &id)) ||
                (rc = pair_add(&b, id, vi))) {
                rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    for (uint32_t vi = 0; vi < e->nvariants; vi++)
        e->stats.unfiltered += e->variants[vi].always;
    e->stats.literals = b.nlits;
    e->nliterals = b.nlits;
    if (b.nlits == 0) goto out;
    qsort(b.pairs, b.npairs, sizeof *b.pairs, pair_cmp);
    e->lit_first = kz_calloc(b.nlits, sizeof *e->lit_first);
    e->lit_count = kz_calloc(b.nlits, sizeof *e->lit_count);
    e->lit_variants = kz_malloc(b.npairs * sizeof *e->lit_variants);
    want = kz_malloc(b.nlits);
    if (!e->lit_first || !e->lit_count || !e->lit_variants || !want) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < b.npairs; i++) {
        uint32_t l = b.pairs[i].lit;
        if (e->lit_count[l] == 0) e->lit_first[l] = i;
        e->lit_count[l]++;
        e->lit_variants[i] = b.pairs[i].variant;
    }
    if (split_by_event_id(e)) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t g = 0; g < e->ngroups && !rc; g++)
        rc = group_lits(&b, g, want, err);
    e->lits = b.lits; /* the databases are compiled from them on first use */
    b.lits = NULL;
out:
    kz_free(want);
    kz_free(set);
    kz_free(b.lits);
    kz_free(b.slots);
    kz_free(b.pairs);
    return rc;
}

void prefilter_free(struct kz_sigma_engine *e) {
    for (uint32_t g = 0; g < e->ngroups; g++) {
        if (e->groups[g].db) hs_free_database(e->groups[g].db);
        kz_free(e->groups[g].scan_ids);
        kz_free(e->groups[g].lits);
    }
    kz_free(e->lits);
    kz_free(e->lit_first);
    kz_free(e->lit_count);
    kz_free(e->lit_variants);
}

/* ---- scanning ---- */

static int on_literal(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                      void *ctx) {
    struct kz_sigma_scratch *s = ctx;
    const struct kz_sigma_engine *e = s->e;
    const uint32_t *v = e->lit_variants + e->lit_first[id];
    for (uint32_t k = 0; k < e->lit_count[id]; k++) {
        if (s->mark[v[k]] == s->mark_epoch) continue;
        s->mark[v[k]] = s->mark_epoch;
        s->cand[s->ncand++] = v[k];
    }
    return 0;
}

uint32_t prefilter_scan(struct kz_sigma_scratch *s, const struct match_group *g) {
    s->ncand = 0;
    if (!g->nlits) return 0;
    hs_database_t *db = group_db(s->e, g);
    if (!db) return PREFILTER_ALL;
    size_t gi = (size_t)(g - s->e->groups);
    /* This thread's scratch must fit the database: grow it the first time. */
    if (!s->group_fitted[gi]) {
        if (hs_alloc_scratch(db, &s->hs) != HS_SUCCESS) return PREFILTER_ALL;
        s->group_fitted[gi] = 1;
    }
    const struct kz_event *ev = s->ev;
    struct kz_buf *b = &s->pbuf;
    kz_buf_clear(b);
    /* Only the fields the group's rules name: GUIDs, hashes and times carry no literal. */
    size_t total = 1; /* a separator before the first value: each value has one on both sides */
    for (uint32_t i = 0; i < ev->nfields; i++) {
        uint32_t id = ev->fields[i].name;
        if (g->scan_all || (id < g->nscan_ids && g->scan_ids[id])) total += ev->fields[i].len + 1;
    }
    if (total > MATCH_MAX_PREFILTER || kz_buf_reserve(b, total)) return PREFILTER_ALL;
    if (total == 1) return 0;
    char *d = b->data;
    *d++ = SEP;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        uint32_t id = ev->fields[i].name;
        if (!g->scan_all && (id >= g->nscan_ids || !g->scan_ids[id])) continue;
        memcpy(d, ev->fields[i].val, ev->fields[i].len);
        d += ev->fields[i].len;
        *d++ = SEP;
    }
    s->stats.scans++;
    if (hs_scan(db, b->data, (unsigned)total, 0, s->hs, on_literal, s) != HS_SUCCESS)
        return PREFILTER_ALL;
    return 0;
}
