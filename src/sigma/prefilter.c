/* prefilter.c - which rules could possibly match this event? One Vectorscan scan decides.
 *
 * For each rule variant we derive, from its condition, a requirement that holds whenever the rule
 * matches: an OR of terms, each an AND of clauses, each clause a set of literals of which one
 * occurs (ignoring case) in a given field of the event (the field the item names, after the
 * variant's renames: NewProcessName for Image on 4688; any field for keywords):
 *   - a pattern gives its literal (a glob its longest literal piece); `*` alone gives nothing;
 *   - a value gives the union of its patterns (windash and base64offset variants); an item one
 *     clause, the union of its values, or, with |all, one clause per value; a regex the longest
 *     text every match must contain (regex_literal); numbers compared, CIDR, field references,
 *     null, |exists and |neq give nothing (no literal is required), and neither do EventID,
 *     Channel and Provider_Name, which routing already decides;
 *   - an AND (items of a group, `and`, `all of`) needs all its parts: their clauses join each
 *     term (at most MATCH_MAX_CLAUSES per term, the best kept); an OR (groups, `or`, `1 of`) puts
 *     the parts' terms side by side (at most MATCH_MAX_TERMS, beyond which they collapse into one
 *     clause, the union of each term's best), and has no requirement if one part has none;
 *     `not X` has none.
 * "Best" means the clause whose lightest literal weighs most (lit_weight: short literals occur
 * everywhere, and so do a few long ones, which it rates as short); a term keeps its best clause,
 * its second best when the best weighs less than EXTRA_CLAUSE_WEIGHT (two weak clauses together,
 * `DestinationPort: 25` and `Initiated: 'true'`, select far better than either), and the others
 * whose literals all weigh EXTRA_CLAUSE_WEIGHT or more. A variant without a
 * requirement, or whose clause would have a literal lighter than MATCH_MIN_LITERAL or more than
 * MATCH_MAX_LITERALS members, is evaluated on every event of its route ("always").
 *
 * The literals of the rules of one channel and event id (plus the channel-wide and any-channel
 * rules) form that route's database, compiled on the route's first scan (group_db); routes with
 * nearly the same literals share one (share_databases). Scanning an event is one hs_scan over
 * its values joined by a separator: the values of the fields those rules name, and when one has
 * keywords the other fields too, but only those long enough to hold a keyword literal (the only
 * kind that counts there); with the value cache (big databases), those other fields go through a
 * second scan with the route's keyword literals alone (kw_db). Each match is attributed to the
 * field it ends in; a (literal, field) sets
 * the requirement bits of the variants that want that literal there, and a variant becomes a
 * candidate when the bits of one of its terms are all set. The prefilter never decides a match:
 * every clause is implied by the rule's condition, so a rule that matches is always a candidate;
 * a literal occurring across two values only costs a needless evaluation. */
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
    static const struct {
        const char *text;
        uint32_t len;
    } ubiquitous[] = {
#define U(s) {s, sizeof s - 1} /* lengths known at compile time: literals are weighed often */
        U("true"), U("false"), U("-"), U(".exe"), U(".dll"), U("windows"), U("system32"),
        U("system"), U("svchost"), U("svchost.exe"), U("\\svchost.exe"),
        U("c:\\windows\\system32\\svchost.exe"), U("c:\\windows\\"), U(":\\windows\\"),
        U("\\windows\\"), U("c:\\windows\\system32\\"), U("\\system32\\"), U("\\system32"),
        U("\\system"), U("c:\\users\\"), U(":\\users\\"), U("\\users\\"), U("c:\\program files"),
        U("\\program files"), U("microsoft"), U("nt authority\\system"), U("s-1-5-18"),
        U("s-1-0-0"), U("medium"), U("high"), U("s-1-16-8192"), U("s-1-16-12288"),
        U("s-1-16-16384"),
#undef U
    };
    for (size_t i = 0; i < sizeof ubiquitous / sizeof *ubiquitous; i++)
        if (l->len == ubiquitous[i].len && !strncasecmp(l->p, ubiquitous[i].text, l->len))
            return MATCH_MIN_LITERAL;
    /* Short whole numbers (logon types, ports, flags, status 0) fill most events' fields. */
    if (l->len <= 3 && (l->anchor & ANCHOR_START) && (l->anchor & ANCHOR_END)) {
        uint32_t i = 0;
        while (i < l->len && l->p[i] >= '0' && l->p[i] <= '9')
            i++;
        if (i == l->len) return MATCH_MIN_LITERAL;
    }
    uint32_t w = (l->anchor & ANCHOR_START ? 2 : 0) + (l->anchor & ANCHOR_END ? 2 : 0);
    for (uint32_t i = 0; i < l->len; i++) {
        unsigned char c = (unsigned char)l->p[i];
        int common = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == ' ' || c == '.' || c == '\\' || c == '/' || c == ':' || c == '-' ||
                     c == '_' || c == '"';
        /* PowerShell's escape character: obfuscated commands are made of it, others lack it */
        w += common ? 1 : c == '`' ? 3 : 2;
    }
    return w;
}

static uint32_t renamed(const struct match_variant *v, uint32_t id) {
    for (uint32_t i = 0; i < v->nrenames; i++)
        if (v->rename_from[i] == id) return v->rename_to[i];
    return id;
}

/* ---- literal sets ---- */

/* A literal as a rule requires it: its text and anchors, and the field it must be seen in. */
struct slit {
    struct match_lit l;
    uint32_t field; /* event name id after the variant's renames; 0: any field (keywords) */
};

/* An OR of literals (a clause), immutable once made, in the build's arena. NULL stands for "no
 * set": the part can match without any literal. */
struct lset {
    uint32_t n;
    uint32_t weight; /* the lowest lit_weight of its literals */
    struct slit v[];
};

/* The one set being built (a value, an item, a union); none: it cannot be given. */
struct lbuf {
    int none;
    uint32_t n;
    struct slit v[MATCH_MAX_LITERALS];
};

/* An OR of terms, each an AND of clauses. nterms 0 means no requirement at all. */
struct term {
    uint32_t n;
    const struct lset *c[MATCH_MAX_CLAUSES];
};
struct req {
    uint32_t nterms;
    struct term t[MATCH_MAX_TERMS];
};

/* What the set computations need besides the rule: the log source (its value maps), the variant
 * (its field renames), where literals made here (from regexes) live for the engine's life, and
 * the build's own memory. */
struct setctx {
    const struct kz_ls_target *tg;
    const struct match_variant *v;
    struct kz_arena *arena;  /* engine: literal texts */
    struct kz_arena *scratch; /* build: sets */
    struct lbuf *buf;
    int oom;
};

static void buf_reset(struct lbuf *b) {
    b->none = 0;
    b->n = 0;
}

static void buf_add(struct lbuf *b, const char *p, uint32_t len, uint8_t anchor, uint32_t field) {
    if (b->none) return;
    struct match_lit l = {p, len, anchor};
    if (len == 0 || lit_weight(&l) < MATCH_MIN_LITERAL || memchr(p, 0, len)) {
        b->none = 1;
        return;
    }
    for (uint32_t i = 0; i < b->n; i++)
        if (b->v[i].l.len == len && b->v[i].l.anchor == anchor && b->v[i].field == field &&
            !strncasecmp(b->v[i].l.p, p, len))
            return;
    if (b->n == MATCH_MAX_LITERALS) {
        b->none = 1;
        return;
    }
    b->v[b->n].l = l;
    b->v[b->n].field = field;
    b->n++;
}

static void buf_add_set(struct lbuf *b, const struct lset *s) {
    if (!s) {
        b->none = 1;
        return;
    }
    for (uint32_t i = 0; i < s->n && !b->none; i++)
        buf_add(b, s->v[i].l.p, s->v[i].l.len, s->v[i].l.anchor, s->v[i].field);
}

/* The set built in cx->buf, made immutable; NULL when it cannot be given. */
static const struct lset *freeze(struct setctx *cx) {
    struct lbuf *b = cx->buf;
    if (b->none || b->n == 0) return NULL;
    struct lset *s = kz_arena_alloc(cx->scratch, sizeof *s + b->n * sizeof *s->v);
    if (!s) {
        cx->oom = 1;
        return NULL;
    }
    s->n = b->n;
    s->weight = UINT32_MAX;
    for (uint32_t i = 0; i < b->n; i++) {
        s->v[i] = b->v[i];
        uint32_t w = lit_weight(&b->v[i].l);
        if (w < s->weight) s->weight = w;
    }
    return s;
}

/* Is a better than b as a clause? (NULL is worst) "Better" means its lightest literal weighs
 * more (short literals occur everywhere), then fewer literals. */
static int lset_better(const struct lset *a, const struct lset *b) {
    if (!a) return 0;
    if (!b) return 1;
    if (a->weight != b->weight) return a->weight > b->weight;
    return a->n < b->n;
}

static void pattern_add(struct lbuf *b, const struct kz_sigma_pattern *p, uint32_t field) {
    switch (p->match) {
    case KZ_MATCH_EXACT:
        buf_add(b, p->text, p->len, ANCHOR_START | ANCHOR_END, field);
        return;
    case KZ_MATCH_STARTSWITH:
        buf_add(b, p->text, p->len, ANCHOR_START, field);
        return;
    case KZ_MATCH_ENDSWITH:
        buf_add(b, p->text, p->len, ANCHOR_END, field);
        return;
    case KZ_MATCH_CONTAINS:
        buf_add(b, p->text, p->len, 0, field);
        return;
    case KZ_MATCH_GLOB: {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < p->npieces; i++)
            if (p->pieces[i].kind == KZ_PIECE_LIT &&
                (best == UINT32_MAX || p->pieces[i].len > p->pieces[best].len))
                best = i;
        if (best == UINT32_MAX) {
            b->none = 1;
            return;
        }
        uint8_t anchor = (best == 0 ? ANCHOR_START : 0) |
                         (best == p->npieces - 1 ? ANCHOR_END : 0);
        buf_add(b, p->pieces[best].text, p->pieces[best].len, anchor, field);
        return;
    }
    default:
        b->none = 1;
    }
}
/* Required literals of regular expressions. A literal every match of an expression must contain:
 * the longest run of plain characters each match must hold in that order, contiguously. Groups
 * that must match once (no quantifier, or `+`, `{n,...}` with n >= 1) and hold no alternation of
 * their own are read through, so `"(?:\{\d\})+"` requires `"{`; an optional group, a lookaround,
 * a class, `.` and escapes such as \d end a run; an alternation at the top level means nothing
 * is required. Conservative by construction: when unsure, a run ends or no literal is given. */
struct rxstate {
    char cur[256];
    size_t run;  /* characters in cur: the current run */
    size_t best; /* characters in out */
    char *out;
};

static void rx_keep(struct rxstate *st) {
    if (st->run > st->best) {
        st->best = st->run;
        memcpy(st->out, st->cur, st->run);
    }
}

/* The end of the group opening at re[i] == '(' (index of its ')'), or n when unbalanced; sets
 * *alt when the group holds a `|` of its own (not inside a nested group or class). */
static size_t rx_group_end(const char *re, size_t n, size_t i, int *alt) {
    int depth = 0;
    *alt = 0;
    for (; i < n; i++) {
        char c = re[i];
        if (c == '\\') {
            i++;
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && re[j] == '^') j++;
            if (j < n && re[j] == ']') j++;
            for (; j < n && re[j] != ']'; j++)
                if (re[j] == '\\') j++;
            i = j;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0) return i;
        } else if (c == '|' && depth == 1) {
            *alt = 1;
        }
    }
    return n;
}

/* Reads re[lo..hi) into st. Returns -1 when an alternation at this level makes nothing required
 * (only meaningful for the whole expression), 0 otherwise. Recursion follows group nesting,
 * which the expression's length bounds; the caller caps that length. */
static int rx_scan(const char *re, size_t lo, size_t hi, struct rxstate *st, unsigned depth) {
    if (depth > 32) { /* deeper than any real rule: stop reading, keep what was found */
        st->run = 0;
        return 0;
    }
    for (size_t i = lo; i < hi; i++) {
        char c = re[i];
        if (c == '[') { /* a class: skip it (a `]` first in the class is a member) */
            size_t j = i + 1;
            if (j < hi && re[j] == '^') j++;
            if (j < hi && re[j] == ']') j++;
            for (; j < hi && re[j] != ']'; j++)
                if (re[j] == '\\') j++;
            i = j;
            st->run = 0;
            continue;
        }
        if (c == '|') return -1;
        if (c == '(') {
            int alt;
            size_t end = rx_group_end(re, hi, i, &alt);
            if (end >= hi) return -1; /* unbalanced: give up */
            /* What follows the group decides whether it must match. */
            size_t q = end + 1;
            int optional = q < hi && (re[q] == '?' || re[q] == '*' ||
                                      (re[q] == '{' && q + 1 < hi && re[q + 1] == '0'));
            int repeated = q < hi && (re[q] == '+' || re[q] == '{');
            size_t body = i + 1;
            int content = 1;
            if (body < end && re[body] == '?') {
                /* (?:...) and (?i:...) read on; named groups too; flags alone, lookarounds,
                 * atomic groups and the rest are not read. */
                size_t k = body + 1;
                if (k < end && (re[k] == '<' || re[k] == 'P' || re[k] == '\'') &&
                    !(k + 1 < end && re[k] == '<' && (re[k + 1] == '=' || re[k + 1] == '!'))) {
                    while (k < end && re[k] != '>' && !(k > body + 1 && re[k] == '\''))
                        k++;
                    body = k + 1;
                } else {
                    while (k < end && ((re[k] >= 'a' && re[k] <= 'z') || re[k] == '-')) {
                        if (re[k] == 'x') return -1; /* extended: white space is not text */
                        k++;
                    }
                    if (k < end && re[k] == ':')
                        body = k + 1;
                    else
                        content = 0;
                }
            }
            if (!content || optional || alt) {
                st->run = 0;
            } else {
                rx_scan(re, body, end, st, depth + 1);
                if (repeated) st->run = 0;
            }
            i = end;
            if (q < hi && re[q] == '{') {
                while (i < hi && re[i] != '}')
                    i++;
            } else if (q < hi && (re[q] == '?' || re[q] == '*' || re[q] == '+')) {
                i = q;
                if (i + 1 < hi && (re[i + 1] == '?' || re[i + 1] == '+')) i++; /* lazy, possessive */
            }
            continue;
        }
        char lit;
        if (c == '\\') {
            if (i + 1 >= hi) return -1;
            char e = re[++i];
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                st->run = 0; /* \d \s \w \b \x.. \1 ... are not literal characters */
                continue;
            }
            lit = e;
        } else if (c == '.' || c == '^' || c == '$' || c == ')') {
            st->run = 0;
            continue;
        } else if (c == '?' || c == '*' || c == '+' || c == '{') {
            /* A quantifier on the last character: `+` and `{n>0` keep one required copy, the
             * others make it optional; either way the run cannot continue past it. */
            int opt = c == '?' || c == '*' || (c == '{' && i + 1 < hi && re[i + 1] == '0');
            if (opt && st->run) st->run--;
            rx_keep(st);
            st->run = 0;
            if (c == '{')
                while (i < hi && re[i] != '}')
                    i++;
            continue;
        } else {
            lit = c;
        }
        if (st->run < sizeof st->cur) st->cur[st->run++] = lit;
        /* the run so far is required unless a quantifier follows; that case is handled above */
        if (!(i + 1 < hi && (re[i + 1] == '?' || re[i + 1] == '*' || re[i + 1] == '{'))) rx_keep(st);
    }
    return 0;
}

static size_t regex_literal(const char *re, size_t n, char *out) {
    struct rxstate st = {.out = out};
    if (n > 4096 || rx_scan(re, 0, n, &st, 0) < 0) return 0;
    return st.best;
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


/* Adds the literals of value v (of item it, in event field `field`) to b: a value needs one of
 * its patterns (windash and base64offset variants are several). */
static void value_add(struct setctx *cx, const struct kz_sigma_item *it,
                      const struct kz_sigma_value *v, uint32_t field) {
    struct lbuf *b = cx->buf;
    if (v->type == KZ_SV_REGEX) {
        char lit[256];
        size_t n = v->raw ? regex_literal(v->raw, v->raw_len, lit) : 0;
        char *p = n ? kz_arena_strndup(cx->arena, lit, n) : NULL;
        if (p)
            buf_add(b, p, (uint32_t)n, 0, field);
        else
            b->none = 1;
        return;
    }
    int textual = v->type == KZ_SV_STRING || v->type == KZ_SV_BOOL ||
                  (v->type == KZ_SV_NUMBER && !(it->mods & (KZ_SM_COMPARE | KZ_SM_TIMEPART)));
    if (!textual || v->npatterns == 0) {
        b->none = 1;
        return;
    }
    for (uint32_t k = 0; k < v->npatterns && !b->none; k++)
        pattern_add(b, &v->patterns[k], field);
}

/* Keeps clause c in term t, which holds the MATCH_MAX_CLAUSES best: a term's clauses are all
 * required, so dropping one only lets more events through. */
static void term_add(struct term *t, const struct lset *c) {
    if (!c) return;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->c[i] == c) return;
    if (t->n < MATCH_MAX_CLAUSES) {
        t->c[t->n++] = c;
        return;
    }
    uint32_t worst = 0;
    for (uint32_t i = 1; i < t->n; i++)
        if (lset_better(t->c[worst], t->c[i])) worst = i;
    if (lset_better(c, t->c[worst])) t->c[worst] = c;
}

static void req_clause(struct req *r, const struct lset *c) {
    r->nterms = c != NULL;
    r->t[0].n = 1;
    r->t[0].c[0] = c;
}

/* One clause that holds whenever r does: the union of each term's best clause; NULL when too
 * large. */
static const struct lset *req_collapse(struct setctx *cx, const struct req *r) {
    buf_reset(cx->buf);
    for (uint32_t i = 0; i < r->nterms && !cx->buf->none; i++) {
        const struct lset *best = NULL;
        for (uint32_t k = 0; k < r->t[i].n; k++)
            if (lset_better(r->t[i].c[k], best)) best = r->t[i].c[k];
        buf_add_set(cx->buf, best);
    }
    return freeze(cx);
}

/* a = a AND b. A single-term side's clauses join every term of the other; when both have
 * several terms, b is collapsed to one clause first (or dropped: a alone is still required). */
static void req_and(struct setctx *cx, struct req *a, const struct req *b) {
    if (b->nterms == 0) return;
    if (a->nterms == 0) {
        *a = *b;
        return;
    }
    struct term one;
    if (b->nterms == 1) {
        one = b->t[0];
    } else if (a->nterms == 1) {
        one = a->t[0];
        *a = *b;
    } else {
        const struct lset *c = req_collapse(cx, b);
        if (!c) return;
        one.n = 1;
        one.c[0] = c;
    }
    for (uint32_t i = 0; i < a->nterms; i++)
        for (uint32_t k = 0; k < one.n; k++)
            term_add(&a->t[i], one.c[k]);
}

/* a = a OR b: the terms side by side while they fit, else one clause for the lot. */
static void req_or(struct setctx *cx, struct req *a, const struct req *b) {
    if (a->nterms == 0) return;
    if (b->nterms == 0) {
        a->nterms = 0;
        return;
    }
    if (a->nterms + b->nterms <= MATCH_MAX_TERMS) {
        memcpy(&a->t[a->nterms], b->t, b->nterms * sizeof *b->t);
        a->nterms += b->nterms;
        return;
    }
    const struct lset *ca = req_collapse(cx, a);
    const struct lset *cb = ca ? req_collapse(cx, b) : NULL;
    buf_reset(cx->buf);
    buf_add_set(cx->buf, ca);
    buf_add_set(cx->buf, cb);
    req_clause(a, freeze(cx));
}

static void item_req(struct setctx *cx, const struct kz_sigma_item *it, struct req *out) {
    out->nterms = 0;
    if (it->mods & (KZ_SM(EXISTS) | KZ_SM(NEQ)) || it->nvalues == 0 || routing_field(it->field) ||
        valmapped(cx->tg, it->field))
        return;
    /* The field the evaluator reads (evaluate.c renames the same way); keywords: any field. */
    uint32_t field = it->field ? renamed(cx->v, it->field) : 0;
    if (it->mods & KZ_SM(ALL)) { /* every value is required: each is a clause */
        out->nterms = 1;
        out->t[0].n = 0;
        for (uint32_t k = 0; k < it->nvalues; k++) {
            buf_reset(cx->buf);
            value_add(cx, it, &it->values[k], field);
            term_add(&out->t[0], freeze(cx));
        }
        if (out->t[0].n == 0) out->nterms = 0;
        return;
    }
    buf_reset(cx->buf);
    for (uint32_t k = 0; k < it->nvalues && !cx->buf->none; k++)
        value_add(cx, it, &it->values[k], field);
    req_clause(out, freeze(cx));
}

/* A selection: an OR of groups, each an AND of items. */
static void selection_req(struct setctx *cx, const struct kz_sigma_selection *sel,
                          struct req *out) {
    out->nterms = 0;
    struct req g, is;
    for (uint32_t gi = 0; gi < sel->ngroups; gi++) {
        const struct kz_sigma_group *grp = &sel->groups[gi];
        g.nterms = 0;
        for (uint32_t k = 0; k < grp->nitems; k++) {
            item_req(cx, &grp->items[k], &is);
            req_and(cx, &g, &is);
        }
        if (gi == 0)
            *out = g;
        else
            req_or(cx, out, &g);
        if (out->nterms == 0) return;
    }
}

/* Recursion depth is bounded by the condition parser (KZ_SIGMA_MAX_COND_DEPTH). */
static int cond_req(struct setctx *cx, const struct kz_sigma_detection *det,
                    const struct kz_sigma_cond *c, struct req *out) {
    out->nterms = 0;
    switch (c->op) {
    case KZ_COND_SEL:
        selection_req(cx, &det->selections[c->sel], out);
        return 0;
    case KZ_COND_NOT:
        return 0; /* `not X` requires no literal */
    default:
        break;
    }
    struct req *kid = kz_malloc(sizeof *kid);
    if (!kid) return KZ_ENOMEM;
    for (uint32_t k = 0; k < c->nkids; k++) {
        if (cond_req(cx, det, c->kids[k], kid)) {
            kz_free(kid);
            return KZ_ENOMEM;
        }
        if (c->op == KZ_COND_AND) {
            req_and(cx, out, kid);
        } else if (k == 0) {
            *out = *kid;
        } else {
            req_or(cx, out, kid);
            if (out->nterms == 0) break;
        }
    }
    kz_free(kid);
    return 0;
}

/* ---- literal table ---- */

struct pair {
    uint32_t lit;
    struct match_pair p;
};

struct build {
    struct kz_sigma_engine *e;
    /* distinct literals (lowercased), open addressing */
    uint32_t nlits, lits_cap, slots_cap;
    struct match_lit *lits;
    uint32_t *slots; /* literal id + 1, 0 empty */
    uint32_t npairs, pairs_cap;
    struct pair *pairs;
    /* the pairs of each variant: var_pairs[var_first[v] .. var_first[v + 1]) index pairs */
    uint32_t *var_first, *var_pairs;
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

static int pair_add(struct build *b, uint32_t lit, uint32_t variant, uint32_t field,
                    uint32_t bit, uint8_t alone) {
    if (b->npairs == b->pairs_cap) {
        uint32_t cap = b->pairs_cap ? b->pairs_cap * 2 : 4096;
        struct pair *np = kz_realloc(b->pairs, cap * sizeof *np);
        if (!np) return KZ_ENOMEM;
        b->pairs = np;
        b->pairs_cap = cap;
    }
    struct pair *x = &b->pairs[b->npairs++];
    x->lit = lit;
    x->p.variant = variant;
    x->p.field = field;
    x->p.bit = bit;
    x->p.alone = alone;
    return 0;
}

/* By literal, then field (keywords, field 0, first): a sighting in one field reads only the
 * pairs of that field and the keywords' (lit_seen). */
static int pair_cmp(const void *a, const void *b) {
    const struct pair *x = a, *y = b;
    if (x->lit != y->lit) return x->lit < y->lit ? -1 : 1;
    if (x->p.field != y->p.field) return x->p.field < y->p.field ? -1 : 1;
    if (x->p.variant != y->p.variant) return x->p.variant < y->p.variant ? -1 : 1;
    return x->p.bit < y->p.bit ? -1 : x->p.bit > y->p.bit;
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
    /* want[lit]: 1 wanted by a variant of the group, 2 also as a keyword (any field) */
    memset(want, 0, b->nlits);
    uint32_t n = 0, nkw = 0;
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        const struct match_variant *v = &e->variants[vi];
        if (v->always || !in_group(grp, v)) continue;
        if (group_fields(grp, v))
            return kz_err_set(err, KZ_ENOMEM, "out of memory building the prefilter");
        for (uint32_t k = b->var_first[vi]; k < b->var_first[vi + 1]; k++) {
            const struct pair *x = &b->pairs[b->var_pairs[k]];
            if (!want[x->lit]) want[x->lit] = 1, n++;
            if (!x->p.field && want[x->lit] == 1) want[x->lit] = 2, nkw++;
        }
    }
    grp->db_group = g;
    atomic_init(&grp->db_state, n ? REGEX_HS_UNTRIED : REGEX_HS_REFUSED);
    atomic_init(&grp->kw_db_state, nkw ? REGEX_HS_UNTRIED : REGEX_HS_REFUSED);
    if (n == 0) return 0;
    grp->lits = kz_malloc(n * sizeof *grp->lits);
    /* The keyword literals, for the fields no rule of the group names. */
    grp->kw_lits = nkw ? kz_malloc(nkw * sizeof *grp->kw_lits) : NULL;
    if (!grp->lits || (nkw && !grp->kw_lits))
        return kz_err_set(err, KZ_ENOMEM, "out of memory building the prefilter");
    grp->kw_min_len = UINT32_MAX;
    for (uint32_t i = 0; i < b->nlits; i++) {
        if (want[i]) grp->lits[grp->nlits++] = i;
        if (want[i] != 2) continue;
        grp->kw_lits[grp->nkw_lits++] = i;
        if (b->lits[i].len < grp->kw_min_len) grp->kw_min_len = b->lits[i].len;
    }
    return 0;
}

/* The union of two ascending id lists into a new one (kz_malloc); NULL when out of memory. */
static uint32_t *ids_union(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
                           uint32_t *n_out) {
    uint32_t *u = kz_malloc(((size_t)na + nb + 1) * sizeof *u), o = 0, i = 0, k = 0;
    if (!u) return NULL;
    while (i < na || k < nb) {
        if (k == nb || (i < na && a[i] < b[k]))
            u[o++] = a[i++];
        else if (i == na || b[k] < a[i])
            u[o++] = b[k++];
        else
            u[o++] = a[i++], k++;
    }
    *n_out = o;
    return u;
}

/* Routes whose databases would hold nearly the same literals share one. Sysmon's process
 * creation and Security 4688 carry the same process_creation rules (under renamed fields, which
 * the pairs tell apart): compiling the two databases was most of a short scan's rule cost, and the
 * few literals only one of them needs cost a scan little. */
#define SHARE_MIN_LITS 256u /* smaller databases compile in a few milliseconds */
static int share_databases(struct kz_sigma_engine *e, struct kz_err *err) {
    for (uint32_t g = 1; g < e->ngroups; g++) {
        struct match_group *G = &e->groups[g];
        if (G->nlits < SHARE_MIN_LITS) continue;
        for (uint32_t h = 1; h < g; h++) {
            struct match_group *H = &e->groups[h];
            if (H->db_group != h || H->nlits < SHARE_MIN_LITS) continue;
            uint32_t common = 0, i = 0, k = 0;
            while (i < G->nlits && k < H->nlits) {
                if (G->lits[i] == H->lits[k]) common++, i++, k++;
                else if (G->lits[i] < H->lits[k]) i++;
                else k++;
            }
            if ((uint64_t)common * 10 < (uint64_t)G->nlits * 9 ||
                (uint64_t)common * 10 < (uint64_t)H->nlits * 9)
                continue;
            uint32_t o = 0, nkw = 0;
            uint32_t *u = ids_union(G->lits, G->nlits, H->lits, H->nlits, &o);
            uint32_t *kw = ids_union(G->kw_lits, G->nkw_lits, H->kw_lits, H->nkw_lits, &nkw);
            uint32_t nids = G->nscan_ids > H->nscan_ids ? G->nscan_ids : H->nscan_ids;
            uint8_t *ids = nids ? kz_calloc(nids, 1) : NULL;
            if (!u || !kw || (nids && !ids)) {
                kz_free(u);
                kz_free(kw);
                kz_free(ids);
                return kz_err_set(err, KZ_ENOMEM, "out of memory building the prefilter");
            }
            kz_free(H->kw_lits);
            H->kw_lits = kw;
            H->nkw_lits = nkw;
            if (G->kw_min_len < H->kw_min_len) H->kw_min_len = G->kw_min_len;
            atomic_store(&H->kw_db_state, nkw ? REGEX_HS_UNTRIED : REGEX_HS_REFUSED);
            for (i = 0; i < nids; i++)
                ids[i] = (i < G->nscan_ids && G->scan_ids[i]) || (i < H->nscan_ids && H->scan_ids[i]);
            kz_free(H->lits);
            H->lits = u;
            H->nlits = o;
            kz_free(H->scan_ids);
            H->scan_ids = ids;
            H->nscan_ids = nids;
            H->scan_all |= G->scan_all;
            G->db_group = h;
            break;
        }
    }
    return 0;
}

/* Compiles group g's database. Compiling is most of an engine's build time (milliseconds per
 * database, hundreds of databases for SigmaHQ) while a scan meets only the few channels and
 * event ids its logs have, so each database is compiled when first needed. Returns the
 * database, or NULL when it could not be built (the caller then takes every gated rule). */
static hs_database_t *group_compile(const struct kz_sigma_engine *e, const uint32_t *ids,
                                    uint32_t n) {
    const char **exprs = kz_calloc(n, sizeof *exprs);
    unsigned *flags = kz_malloc(n * sizeof *flags);
    size_t *lens = kz_malloc(n * sizeof *lens);
    hs_database_t *db = NULL;
    if (!exprs || !flags || !lens) goto out;
    for (uint32_t k = 0; k < n; k++) {
        const struct match_lit *l = &e->lits[ids[k]];
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
        /* Every occurrence, not just the first: the first may be in a field the literal's rules
         * do not name. */
        flags[k] = HS_FLAG_CASELESS;
    }
    /* A database compiled by an earlier run from the same literals, when the cache has one
     * (the caller holds regex_lock, which guards the engine's cache key). */
    struct kz_sigma_engine *me = (struct kz_sigma_engine *)e;
    struct kz_buf *key = &me->cache_key;
    if (e->cache_dir) {
        dbcache_key_begin(key, "lit", HS_MODE_BLOCK);
        for (uint32_t k = 0; k < n; k++)
            dbcache_key_expr(key, exprs[k], lens[k], flags[k], ids[k]);
        if ((db = dbcache_load(e->cache_dir, key))) {
            me->stats.db_cached++;
            goto out;
        }
    }
    hs_compile_error_t *ce = NULL;
    if (hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, &db, &ce) !=
        HS_SUCCESS) {
        hs_free_compile_error(ce);
        db = NULL;
    } else {
        me->stats.db_compiled++;
        if (e->cache_dir) dbcache_store(e->cache_dir, key, db);
    }
out:
    for (uint32_t i = 0; exprs && i < n; i++)
        kz_free((char *)exprs[i]);
    kz_free(exprs);
    kz_free(flags);
    kz_free(lens);
    return db;
}

/* A group's database (kw: its keyword database), compiled by whichever thread needs it first
 * (under the engine's lock for lazy Vectorscan compiles); NULL when it has no literals or could
 * not be built. */
static hs_database_t *group_db(const struct kz_sigma_engine *ce, const struct match_group *cg,
                               int kw) {
    _Atomic int *state = kw ? (_Atomic int *)&cg->kw_db_state : (_Atomic int *)&cg->db_state;
    int st = atomic_load_explicit(state, memory_order_acquire);
    if (st == REGEX_HS_READY) return kw ? cg->kw_db : cg->db;
    if (st == REGEX_HS_REFUSED) return NULL;
    struct kz_sigma_engine *e = (struct kz_sigma_engine *)ce;
    struct match_group *g = (struct match_group *)cg; /* the database is the mutable part */
    hs_database_t **db = kw ? &g->kw_db : &g->db;
    pthread_mutex_lock(&e->regex_lock);
    if (atomic_load_explicit(state, memory_order_relaxed) == REGEX_HS_UNTRIED) {
        *db = kw ? group_compile(e, g->kw_lits, g->nkw_lits) : group_compile(e, g->lits, g->nlits);
        atomic_store_explicit(state, *db ? REGEX_HS_READY : REGEX_HS_REFUSED, memory_order_release);
    }
    pthread_mutex_unlock(&e->regex_lock);
    return atomic_load_explicit(state, memory_order_acquire) == REGEX_HS_READY ? *db : NULL;
}

#define EXTRA_CLAUSE_WEIGHT 10u /* least lit_weight of a term's clauses other than its best */

/* Is every clause of term a also one of term b? (Then b adds nothing to an OR with a.) */
static int term_within(const struct term *a, const struct term *b) {
    for (uint32_t i = 0; i < a->n; i++) {
        uint32_t k = 0;
        while (k < b->n && b->c[k] != a->c[i])
            k++;
        if (k == b->n) return 0;
    }
    return 1;
}

/* Gives variant vi its requirement r: bits, term masks and a pair per (literal, field, bit). */
static int req_assign(struct build *b, uint32_t vi, struct req *r) {
    struct match_variant *v = &b->e->variants[vi];
    /* Beyond its best clause, a term keeps only clauses of long or rare literals: a short one
     * (lit_weight's ubiquitous ones above all) is seen in most events, and each sighting costs
     * a callback while selecting little. Unless the best is weak itself: then the second best
     * too, since an AND of two weak clauses still passes far fewer events (on a simulated
     * estate, 0.7M fewer evaluations of Sysmon network rules for 1M events). */
    for (uint32_t i = 0; i < r->nterms; i++) {
        struct term *t = &r->t[i];
        uint32_t best = 0, second = UINT32_MAX;
        for (uint32_t k = 1; k < t->n; k++)
            if (lset_better(t->c[k], t->c[best])) best = k;
        for (uint32_t k = 0; k < t->n; k++)
            if (k != best && (second == UINT32_MAX || lset_better(t->c[k], t->c[second])))
                second = k;
        if (t->c[best]->weight >= EXTRA_CLAUSE_WEIGHT) second = UINT32_MAX;
        uint32_t n = 0;
        for (uint32_t k = 0; k < t->n; k++)
            if (k == best || k == second || t->c[k]->weight >= EXTRA_CLAUSE_WEIGHT)
                t->c[n++] = t->c[k];
        t->n = n;
    }
    /* A term that requires all another term does and more is redundant in the OR. */
    uint8_t dead[MATCH_MAX_TERMS] = {0};
    for (uint32_t i = 0; i < r->nterms; i++)
        for (uint32_t j = 0; j < r->nterms && !dead[i]; j++)
            if (j != i && !dead[j] && term_within(&r->t[j], &r->t[i]) &&
                (j < i || !term_within(&r->t[i], &r->t[j])))
                dead[i] = 1;
    uint32_t bit = 0;
    v->nterms = 0;
    for (uint32_t i = 0; i < r->nterms; i++) {
        if (dead[i]) continue;
        const struct term *t = &r->t[i];
        uint32_t mask = 0;
        for (uint32_t k = 0; k < t->n; k++) {
            uint32_t m = 1u << bit++;
            mask |= m;
            const struct lset *c = t->c[k];
            for (uint32_t l = 0; l < c->n; l++) {
                uint32_t id;
                if (lit_id(b, &c->v[l].l, &id) ||
                    pair_add(b, id, vi, c->v[l].field, m, t->n == 1))
                    return KZ_ENOMEM;
            }
        }
        v->term_mask[v->nterms++] = mask;
    }
    return 0;
}

int prefilter_build(struct kz_sigma_engine *e, struct kz_err *err) {
    struct build b = {.e = e};
    struct lbuf *buf = kz_malloc(sizeof *buf);
    struct req *r = kz_malloc(sizeof *r);
    struct kz_arena scratch;
    kz_arena_init(&scratch, 256 << 10, (size_t)1 << 30);
    uint8_t *want = NULL;
    int rc = 0;
    if (!buf || !r) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t vi = 0; vi < e->nvariants; vi++) {
        struct match_variant *v = &e->variants[vi];
        v->always = 1;
        if (e->no_prefilter) continue;
        const struct kz_sigma_detection *det = &v->rule->detection;
        if (!det->cond) continue;
        struct setctx cx = {v->target, v, &e->arena, &scratch, buf, 0};
        if (cond_req(&cx, det, det->cond, r) || cx.oom) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        if (r->nterms == 0) continue;
        v->always = 0;
        if (req_assign(&b, vi, r)) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
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
    e->lit_pairs = kz_malloc(b.npairs * sizeof *e->lit_pairs);
    want = kz_malloc(b.nlits);
    if (!e->lit_first || !e->lit_count || !e->lit_pairs || !want) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < b.npairs; i++) {
        uint32_t l = b.pairs[i].lit;
        if (e->lit_count[l] == 0) e->lit_first[l] = i;
        e->lit_count[l]++;
        e->lit_pairs[i] = b.pairs[i].p;
    }
    if (split_by_event_id(e)) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    /* Each group takes the literals of its variants: index the pairs by variant once. */
    b.var_first = kz_calloc((size_t)e->nvariants + 2, sizeof *b.var_first);
    b.var_pairs = kz_malloc(((size_t)b.npairs + 1) * sizeof *b.var_pairs);
    if (!b.var_first || !b.var_pairs) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < b.npairs; i++)
        b.var_first[b.pairs[i].p.variant + 2]++;
    for (uint32_t v = 0; v < e->nvariants; v++)
        b.var_first[v + 2] += b.var_first[v + 1];
    for (uint32_t i = 0; i < b.npairs; i++)
        b.var_pairs[b.var_first[b.pairs[i].p.variant + 1]++] = i;
    for (uint32_t g = 0; g < e->ngroups && !rc; g++)
        rc = group_lits(&b, g, want, err);
    if (!rc) rc = share_databases(e, err);
    e->lits = b.lits; /* the databases are compiled from them on first use */
    b.lits = NULL;
out:
    kz_free(want);
    kz_free(buf);
    kz_free(r);
    kz_arena_free(&scratch);
    kz_free(b.lits);
    kz_free(b.slots);
    kz_free(b.pairs);
    kz_free(b.var_first);
    kz_free(b.var_pairs);
    return rc;
}

void prefilter_free(struct kz_sigma_engine *e) {
    for (uint32_t g = 0; g < e->ngroups; g++) {
        if (e->groups[g].db) hs_free_database(e->groups[g].db);
        if (e->groups[g].kw_db) hs_free_database(e->groups[g].kw_db);
        kz_free(e->groups[g].scan_ids);
        kz_free(e->groups[g].lits);
        kz_free(e->groups[g].kw_lits);
    }
    kz_free(e->lits);
    kz_free(e->lit_first);
    kz_free(e->lit_count);
    kz_free(e->lit_pairs);
}

/* ---- scanning ---- */

/* The requirement bits literal id sets when seen in event field `field` (named `name`): for
 * each variant that wants it in that field, set its bit, and make the variant a candidate when
 * a term is complete. Returns 0 when the literal was already handled in that field. */
static void pairs_seen(struct kz_sigma_scratch *s, const struct match_pair *p, uint32_t n) {
    const struct kz_sigma_engine *e = s->e;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = p[k].variant;
        if (s->mark[v] == s->mark_epoch) continue;
        if (!p[k].alone) {
            if (s->bits_epoch[v] != s->mark_epoch) {
                s->bits_epoch[v] = s->mark_epoch;
                s->bits[v] = 0;
            }
            uint32_t bits = s->bits[v] |= p[k].bit;
            const struct match_variant *mv = &e->variants[v];
            uint32_t t = 0;
            while (t < mv->nterms && (bits & mv->term_mask[t]) != mv->term_mask[t])
                t++;
            if (t == mv->nterms) continue;
        }
        s->mark[v] = s->mark_epoch;
        s->cand[s->ncand++] = v;
    }
}

static int lit_seen(struct kz_sigma_scratch *s, uint32_t id, uint32_t field, uint32_t name) {
    const struct kz_sigma_engine *e = s->e;
    /* Each literal once per field: a value may hold it many times. */
    if (s->lit_epoch[id] == s->mark_epoch && s->lit_at[id] == field) return 0;
    s->lit_epoch[id] = s->mark_epoch;
    s->lit_at[id] = field;
    /* Its pairs by field (pair_cmp): the keywords' (field 0) apply in any field, then only
     * those of this field, found by binary search. */
    const struct match_pair *p = e->lit_pairs + e->lit_first[id];
    uint32_t n = e->lit_count[id], kw = 0;
    while (kw < n && !p[kw].field)
        kw++;
    if (kw) pairs_seen(s, p, kw);
    uint32_t lo = kw, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (p[mid].field < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t end = lo;
    while (end < n && p[end].field == name)
        end++;
    if (end > lo) pairs_seen(s, p + lo, end - lo);
    return 1;
}

/* A literal was seen, ending at offset to in the scanned buffer: attribute it to its field, and
 * remember it for the value cache. */
static int on_literal(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                      void *ctx) {
    struct kz_sigma_scratch *s = ctx;
    /* The scanned field the match ends in: the first whose closing separator is at or after
     * the match's last byte (an anchored end is that separator itself). A literal found in a
     * field is also found ending there, so this never loses a real occurrence. */
    uint32_t last = (uint32_t)to - 1, lo = s->scan_lo, hi = s->scan_hi;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->scanned_end[mid] < last)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->scan_hi) return 0;
    if (!lit_seen(s, id, s->scanned_field[lo], s->scanned_name[lo]) || !s->vcache_on ||
        !s->scanned_slot[lo])
        return 0;
    if (s->nseen == s->seen_cap) {
        uint32_t cap = s->seen_cap ? s->seen_cap * 2 : 256;
        uint32_t *f = kz_realloc(s->seen_field, cap * sizeof *f);
        if (f) s->seen_field = f;
        uint32_t *l = f ? kz_realloc(s->seen_lit, cap * sizeof *l) : NULL;
        if (l) s->seen_lit = l;
        if (!f || !l) {
            s->vcache_on = 0; /* no room to remember: this scan fills nothing */
            return 0;
        }
        s->seen_cap = cap;
    }
    s->seen_field[s->nseen] = lo;
    s->seen_lit[s->nseen++] = id;
    return 0;
}

/* Hash of a value for the value cache, seeded with its database group. */
static uint64_t value_hash(uint32_t group, const char *p, uint32_t len) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)group << 32 | len), w;
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    /* The last 1-7 bytes without a byte-wise copy (whose store a wide load must wait for): the
     * value's last 8 bytes when it has them, else two overlapping 4-byte (or 1-byte) loads. */
    uint32_t rest = len - i;
    if (rest && len >= 8) {
        memcpy(&w, p + len - 8, 8);
        w >>= 8 * (8 - rest);
    } else if (rest >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + rest - 4, 4);
        w = (uint64_t)a | (uint64_t)b << 32;
    } else if (rest) {
        w = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[rest / 2] << 8 |
            (uint64_t)(unsigned char)p[rest - 1] << 16;
    } else {
        w = 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static int grow_scanned(struct kz_sigma_scratch *s, uint32_t n) {
    if (n <= s->scanned_cap) return 0;
    uint32_t cap = n + 64;
    uint32_t **u32s[] = {&s->scanned_end, &s->scanned_name, &s->scanned_field, &s->scanned_slot};
    for (size_t k = 0; k < sizeof u32s / sizeof *u32s; k++) {
        uint32_t *x = kz_realloc(*u32s[k], cap * sizeof *x);
        if (!x) return KZ_ENOMEM;
        *u32s[k] = x;
    }
    uint64_t *h = kz_realloc(s->scanned_hash, cap * sizeof *h);
    if (!h) return KZ_ENOMEM;
    s->scanned_hash = h;
    s->scanned_cap = cap;
    return 0;
}

/* Remembers what this scan found in each value it may cache (at most MATCH_VCACHE_MAX_HITS
 * literals; a value with more is left out, as is one whose slot another value of this event
 * took). */
static void vcache_fill(struct kz_sigma_scratch *s, uint32_t group, const struct kz_event *ev) {
    for (uint32_t n = 0; n < s->nscanned; n++) {
        if (!s->scanned_slot[n]) continue;
        struct match_vcache_entry *ce = &s->vcache[s->scanned_slot[n] - 1];
        const struct kz_field *f = &ev->fields[s->scanned_field[n]];
        uint32_t k = 0;
        for (uint32_t i = 0; i < s->nseen; i++) {
            if (s->seen_field[i] != n) continue;
            if (k == MATCH_VCACHE_MAX_HITS) {
                k = UINT32_MAX;
                break;
            }
            ce->lits[k++] = s->seen_lit[i];
        }
        if (k == UINT32_MAX) {
            s->vcache_hash[s->scanned_slot[n] - 1] = 0;
            continue;
        }
        s->vcache_hash[s->scanned_slot[n] - 1] = s->scanned_hash[n];
        ce->group = group;
        ce->len = f->len;
        ce->nlits = k;
        memcpy(ce->val, f->val, f->len);
    }
}

/* Grows this thread's Vectorscan scratch for database db (slot: its index in group_fitted)
 * the first time the thread uses it. */
static int fit_scratch(struct kz_sigma_scratch *s, hs_database_t *db, size_t slot) {
    if (s->group_fitted[slot]) return 0;
    if (hs_alloc_scratch(db, &s->hs) != HS_SUCCESS) return -1;
    s->group_fitted[slot] = 1;
    return 0;
}

/* Room for n more bytes at d in b (and its NUL): d, or where it moved to; NULL when b cannot
 * grow. */
static char *buf_room(struct kz_buf *b, char *d, size_t n) {
    size_t off = d ? (size_t)(d - b->data) : 0;
    if (b->data && b->alloc - off > n) return b->data + off;
    b->len = off;
    if (kz_buf_reserve(b, n)) return NULL;
    return b->data + off;
}

/* Appends field i (named id) to buffer b at *d as scanned entry n; slot/h: its value cache slot
 * + 1 to fill (0: none) and its hash, read only when the scan fills the cache (s->vcache_on).
 * Returns 0, or -1 when b cannot grow. Inlined: it runs for most fields of most events. */
static inline __attribute__((always_inline)) int scanned_add(struct kz_sigma_scratch *s,
                                                             struct kz_buf *b, char **d,
                                                             uint32_t n, uint32_t i, uint32_t id,
                                                             uint32_t slot, uint64_t h) {
    const struct kz_field *f = &s->ev->fields[i];
    char *p = *d;
    if ((size_t)(b->data + b->alloc - p) <= f->len + 1 && !(p = buf_room(b, p, f->len + 1)))
        return -1;
    memcpy(p, f->val, f->len);
    p += f->len;
    s->scanned_end[n] = (uint32_t)(p - b->data);
    s->scanned_name[n] = id;
    s->scanned_field[n] = i;
    if (s->vcache_on) {
        s->scanned_slot[n] = slot;
        s->scanned_hash[n] = h;
    }
    *p++ = SEP;
    *d = p;
    return 0;
}

/* A buffer's first separator (each value has one on both sides). */
static char *buf_start(struct kz_buf *b) {
    kz_buf_clear(b);
    char *d = buf_room(b, NULL, 1);
    if (d) *d++ = SEP;
    return d;
}

uint32_t prefilter_scan(struct kz_sigma_scratch *s, const struct match_group *rg) {
    s->ncand = 0;
    const struct kz_sigma_engine *e = s->e;
    const struct match_group *g = &e->groups[rg->db_group];
    if (!g->nlits) return 0;
    hs_database_t *db = group_db(e, g, 0);
    size_t gi = (size_t)(g - e->groups);
    if (!db || fit_scratch(s, db, gi)) return PREFILTER_ALL;
    const struct kz_event *ev = s->ev;
    uint32_t nf = ev->nfields;
    /* scanned entries: the values scanned with db from 0, those of the keyword scan from nf */
    if (grow_scanned(s, 2 * nf)) return PREFILTER_ALL;
    /* Big databases scan slowly (a few ns a byte): values seen before are looked up instead. */
    int use_cache = g->nlits >= MATCH_VCACHE_MIN_LITS || e->value_cache_all;
    if (use_cache && !s->vcache) {
        s->vcache = kz_malloc(MATCH_VCACHE_SLOTS * sizeof *s->vcache);
        s->vcache_hash = kz_calloc(MATCH_VCACHE_SLOTS, sizeof *s->vcache_hash);
        if (!s->vcache || !s->vcache_hash) {
            kz_free(s->vcache);
            kz_free(s->vcache_hash);
            s->vcache = NULL;
            s->vcache_hash = NULL;
            use_cache = 0;
        }
    }
    /* Keywords make every field worth scanning, but in the fields no rule names only the few
     * keyword literals can count: with a big database, those fields (times, GUIDs, record
     * numbers: unique values the cache would only churn on) go through the group's small
     * keyword database instead, in a second scan. */
    hs_database_t *kw_db = NULL;
    if (use_cache && g->scan_all && g->nkw_lits) {
        kw_db = group_db(e, g, 1);
        if (!kw_db || fit_scratch(s, kw_db, e->ngroups + gi)) return PREFILTER_ALL;
    }
    s->vcache_on = (uint8_t)use_cache;
    s->nseen = 0;
    struct kz_buf *b = &s->pbuf, *kb = &s->kbuf;
    char *d = buf_start(b), *kd = kw_db ? buf_start(kb) : NULL;
    if (!d || (kw_db && !kd)) return PREFILTER_ALL;
    uint32_t nn = 0, nu = 0;
    size_t total = 1;
    for (uint32_t i = 0; i < nf; i++) {
        const struct kz_field *f = &ev->fields[i];
        uint32_t id = f->name;
        int named = id < g->nscan_ids && g->scan_ids[id];
        if (!named && !g->scan_all) continue; /* GUIDs, hashes and times carry no literal */
        /* Only keyword literals count in a field no rule names: none fits in a shorter value
         * (Version, Level, Opcode, process ids...). */
        if (!named && f->len < g->kw_min_len) continue;
        total += f->len + 1;
        if (total > MATCH_MAX_PREFILTER) return PREFILTER_ALL;
        if (!named && kw_db) {
            if (scanned_add(s, kb, &kd, nf + nu++, i, id, 0, 0)) return PREFILTER_ALL;
            continue;
        }
        uint32_t slot = 0;
        uint64_t h = 0;
        if (use_cache && f->len <= MATCH_VCACHE_MAX_VALUE) {
            h = value_hash(rg->db_group, f->val, f->len);
            uint32_t k = (uint32_t)(h & (MATCH_VCACHE_SLOTS - 1));
            const struct match_vcache_entry *ce = &s->vcache[k];
            if (s->vcache_hash[k] == h && ce->group == rg->db_group && ce->len == f->len &&
                !memcmp(ce->val, f->val, f->len)) {
                for (uint32_t l = 0; l < ce->nlits; l++)
                    lit_seen(s, ce->lits[l], i, id);
                continue;
            }
            slot = k + 1;
        }
        if (scanned_add(s, b, &d, nn++, i, id, slot, h)) return PREFILTER_ALL;
    }
    s->nscanned = nn;
    if (nn) { /* else every value was in the cache */
        s->stats.scans++;
        s->scan_lo = 0;
        s->scan_hi = nn;
        if (match_hs_scan(db, b->data, (unsigned)(d - b->data), s->hs, on_literal, s) != HS_SUCCESS)
            return PREFILTER_ALL;
        if (s->vcache_on) vcache_fill(s, rg->db_group, ev);
    }
    if (nu) {
        s->stats.scans++;
        s->scan_lo = nf;
        s->scan_hi = nf + nu;
        if (match_hs_scan(kw_db, kb->data, (unsigned)(kd - kb->data), s->hs, on_literal, s) !=
            HS_SUCCESS)
            return PREFILTER_ALL;
    }
    return 0;
}
