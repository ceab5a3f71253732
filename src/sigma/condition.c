/* condition.c - the Sigma condition grammar, parsed into the AST of rule.h.
 *
 *     condition := or
 *     or        := and ("or" and)*
 *     and       := not ("and" not)*
 *     not       := "not" not | primary
 *     primary   := "(" or ")" | ("1" | "all") "of" (PATTERN | "them") | SELECTION
 *
 * so `not` binds tighter than `and`, which binds tighter than `or`. PATTERN is a selection name
 * with `*` wildcards; `them` is every selection whose name does not start with `_`. The
 * quantifiers are expanded here into OR/AND nodes over the selections they name, so the matcher
 * sees only four node kinds. Sigma 1's aggregations (`| count() by X > 5`, `near`) are reported as
 * unsupported with the way forward (correlation rules). Every error names the column. */
#include "sigma_int.h"

#include <stdio.h>
#include <string.h>

enum tok_kind { T_END, T_LPAREN, T_RPAREN, T_WORD, T_PIPE, T_BAD };

struct parser {
    struct kz_arena *a;
    const struct kz_sigma_detection *det;
    const char *text;
    size_t len, pos;
    /* the current token */
    int kind;
    size_t start, tlen;
    unsigned depth;
    struct kz_err *err;
};

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void next(struct parser *p) {
    while (p->pos < p->len && is_space(p->text[p->pos]))
        p->pos++;
    p->start = p->pos;
    p->tlen = 0;
    if (p->pos >= p->len) {
        p->kind = T_END;
        return;
    }
    char c = p->text[p->pos];
    if (c == '(' || c == ')' || c == '|') {
        p->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_PIPE;
        p->pos++;
        p->tlen = 1;
        return;
    }
    while (p->pos < p->len && !is_space(p->text[p->pos]) && p->text[p->pos] != '(' &&
           p->text[p->pos] != ')' && p->text[p->pos] != '|')
        p->pos++;
    p->tlen = p->pos - p->start;
    p->kind = T_WORD;
}

static int word_is(const struct parser *p, const char *w) {
    return p->kind == T_WORD && p->tlen == strlen(w) && !strncmp(p->text + p->start, w, p->tlen);
}

static int keyword(const struct parser *p) {
    return word_is(p, "and") || word_is(p, "or") || word_is(p, "not") || word_is(p, "of") ||
           word_is(p, "them");
}

static int perr(struct parser *p, int code, const char *fmt, const char *arg) {
    char what[400];
    snprintf(what, sizeof what, fmt, arg);
    return kz_err_set(p->err, code, "condition `%.200s`: at column %zu: %s", p->text, p->start + 1,
                      what);
}

/* What the current token is, for messages. */
static const char *tok_desc(struct parser *p, char *buf, size_t size) {
    if (p->kind == T_END) return "the end";
    snprintf(buf, size, "`%.*s`", (int)(p->tlen > 60 ? 60 : p->tlen), p->text + p->start);
    return buf;
}

static struct kz_sigma_cond *node(struct parser *p, int op, uint32_t nkids) {
    struct kz_sigma_cond *c = kz_arena_alloc(p->a, sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->op = (uint8_t)op;
    c->nkids = nkids;
    if (nkids) {
        c->kids = kz_arena_alloc(p->a, nkids * sizeof *c->kids);
        if (!c->kids) return NULL;
    }
    return c;
}

/* Glob with `*` only (selection name patterns). */
static int name_match(const char *pat, size_t plen, const char *s) {
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0, slen = strlen(s);
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < plen && pat[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

static int parse_or(struct parser *p, struct kz_sigma_cond **out);

static int unsupported_pipe(struct parser *p) {
    return perr(p, KZ_EUNSUPP, "%s",
                "`|` starts a Sigma 1 aggregation (count(), min(), max(), avg(), sum(), near), "
                "which Sigma 2 replaced with correlation rules; move the counting into a "
                "correlation rule (type event_count or value_count) that references this rule");
}

static int parse_quantified(struct parser *p, int all, struct kz_sigma_cond **out) {
    char buf[80];
    next(p); /* past the quantifier */
    if (!word_is(p, "of"))
        return perr(p, KZ_EFORMAT, "expected `of` after the quantifier, found %s",
                    tok_desc(p, buf, sizeof buf));
    next(p);
    if (p->kind != T_WORD || (keyword(p) && !word_is(p, "them")))
        return perr(p, KZ_EFORMAT, "expected a selection pattern or `them` after `of`, found %s",
                    tok_desc(p, buf, sizeof buf));
    int them = word_is(p, "them");
    const char *pat = p->text + p->start;
    size_t plen = p->tlen;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->det->nselections; i++) {
        const char *name = p->det->selections[i].name;
        if (them ? name[0] != '_' : name_match(pat, plen, name)) n++;
    }
    if (n == 0) {
        char pbuf[80];
        snprintf(pbuf, sizeof pbuf, "%.*s", (int)(plen > 60 ? 60 : plen), pat);
        return perr(p, KZ_EFORMAT,
                    them ? "`them` names no selection (all selection names start with `_`)%s"
                         : "no selection matches `%s`",
                    them ? "" : pbuf);
    }
    struct kz_sigma_cond *c = node(p, all ? KZ_COND_AND : KZ_COND_OR, n);
    if (!c) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
    c->quant = all ? KZ_QUANT_ALL_OF : KZ_QUANT_ONE_OF;
    n = 0;
    for (uint32_t i = 0; i < p->det->nselections; i++) {
        const char *name = p->det->selections[i].name;
        if (!(them ? name[0] != '_' : name_match(pat, plen, name))) continue;
        struct kz_sigma_cond *leaf = node(p, KZ_COND_SEL, 0);
        if (!leaf) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
        leaf->sel = i;
        c->kids[n++] = leaf;
    }
    next(p);
    *out = c;
    return 0;
}

static int parse_primary(struct parser *p, struct kz_sigma_cond **out) {
    char buf[80];
    if (p->kind == T_LPAREN) {
        if (++p->depth > KZ_SIGMA_MAX_COND_DEPTH)
            return perr(p, KZ_ELIMIT, "brackets nest deeper than %s", "64");
        next(p);
        int rc = parse_or(p, out);
        if (rc) return rc;
        if (p->kind != T_RPAREN)
            return perr(p, KZ_EFORMAT, "expected `)` to close the bracket, found %s",
                        tok_desc(p, buf, sizeof buf));
        p->depth--;
        next(p);
        return 0;
    }
    if (p->kind == T_PIPE) return unsupported_pipe(p);
    if (p->kind != T_WORD || keyword(p))
        return perr(p, KZ_EFORMAT,
                    "expected a selection name, `(`, `not`, `1 of` or `all of`, "
                    "found %s",
                    tok_desc(p, buf, sizeof buf));
    if (word_is(p, "1")) return parse_quantified(p, 0, out);
    if (word_is(p, "all")) return parse_quantified(p, 1, out);
    if (word_is(p, "near"))
        return perr(p, KZ_EUNSUPP, "%s",
                    "`near` is Sigma 1 syntax; express it as a temporal correlation rule");
    /* "2 of x" and other counts are not Sigma. */
    int digits = 1;
    for (size_t i = 0; i < p->tlen; i++)
        if (p->text[p->start + i] < '0' || p->text[p->start + i] > '9') digits = 0;
    if (digits)
        return perr(p, KZ_EFORMAT, "only `1 of` and `all of` exist in Sigma, not `%s of`",
                    tok_desc(p, buf, sizeof buf));
    for (uint32_t i = 0; i < p->det->nselections; i++) {
        const char *name = p->det->selections[i].name;
        if (strlen(name) == p->tlen && !memcmp(name, p->text + p->start, p->tlen)) {
            struct kz_sigma_cond *leaf = node(p, KZ_COND_SEL, 0);
            if (!leaf) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
            leaf->sel = i;
            next(p);
            *out = leaf;
            return 0;
        }
    }
    if (memchr(p->text + p->start, '*', p->tlen))
        return perr(p, KZ_EFORMAT, "%s is a pattern; write `1 of` or `all of` before it",
                    tok_desc(p, buf, sizeof buf));
    return perr(p, KZ_EFORMAT, "%s is not a selection defined under detection",
                tok_desc(p, buf, sizeof buf));
}

static int parse_not(struct parser *p, struct kz_sigma_cond **out) {
    if (!word_is(p, "not")) return parse_primary(p, out);
    if (++p->depth > KZ_SIGMA_MAX_COND_DEPTH)
        return perr(p, KZ_ELIMIT, "`not` and brackets nest deeper than %s", "64");
    next(p);
    struct kz_sigma_cond *kid, *c;
    int rc = parse_not(p, &kid);
    if (rc) return rc;
    p->depth--;
    if (!(c = node(p, KZ_COND_NOT, 1))) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
    c->kids[0] = kid;
    *out = c;
    return 0;
}

/* Parses `sub (op sub)*` into one n-ary node (or the lone operand). */
static int parse_chain(struct parser *p, const char *op, int kind,
                       int (*sub)(struct parser *, struct kz_sigma_cond **),
                       struct kz_sigma_cond **out) {
    struct kz_sigma_cond *first, *stack[64], **kids = stack;
    uint32_t n = 0, cap = 64;
    int rc = sub(p, &first);
    if (rc) return rc;
    if (!word_is(p, op)) {
        *out = first;
        return 0;
    }
    kids[n++] = first;
    while (word_is(p, op)) {
        next(p);
        struct kz_sigma_cond *k;
        if ((rc = sub(p, &k))) return rc;
        if (n == cap) {
            /* Long chains move to the arena, doubling (bounded by the condition length). */
            struct kz_sigma_cond **nk = kz_arena_alloc(p->a, 2 * cap * sizeof *nk);
            if (!nk) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
            memcpy(nk, kids, n * sizeof *nk);
            kids = nk;
            cap *= 2;
        }
        kids[n++] = k;
    }
    struct kz_sigma_cond *c = node(p, kind, n);
    if (!c) return kz_err_set(p->err, KZ_ENOMEM, "out of memory");
    memcpy(c->kids, kids, n * sizeof *kids);
    *out = c;
    return 0;
}

static int parse_and(struct parser *p, struct kz_sigma_cond **out) {
    return parse_chain(p, "and", KZ_COND_AND, parse_not, out);
}

static int parse_or(struct parser *p, struct kz_sigma_cond **out) {
    return parse_chain(p, "or", KZ_COND_OR, parse_and, out);
}

int kz_sigma_cond_parse(struct kz_arena *a, const struct kz_sigma_detection *det, const char *text,
                        struct kz_sigma_cond **out, struct kz_err *err) {
    struct parser p = {.a = a, .det = det, .text = text, .len = strlen(text), .err = err};
    *out = NULL;
    if (p.len > KZ_SIGMA_MAX_CONDITION)
        return kz_err_set(err, KZ_ELIMIT, "condition is longer than %u characters",
                          KZ_SIGMA_MAX_CONDITION);
    next(&p);
    if (p.kind == T_END) return kz_err_set(err, KZ_EFORMAT, "condition is empty");
    int rc = parse_or(&p, out);
    if (rc) return rc;
    if (p.kind == T_PIPE) return unsupported_pipe(&p);
    if (p.kind != T_END) {
        char buf[80];
        const char *what = tok_desc(&p, buf, sizeof buf);
        if (p.kind == T_RPAREN) return perr(&p, KZ_EFORMAT, "%s closes no bracket", what);
        return perr(&p, KZ_EFORMAT, "expected `and`, `or` or the end, found %s", what);
    }
    return 0;
}

/* ---- printing ---- */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *s) {
    size_t n = strlen(s);
    if (o->size == 0) return;
    if (o->len + n >= o->size) n = o->size - 1 - o->len;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void format(const struct kz_sigma_cond *c, const struct kz_sigma_detection *det,
                   struct out *o, int depth) {
    if (depth > 200) {
        put(o, "...");
        return;
    }
    switch (c->op) {
    case KZ_COND_SEL:
        put(o, c->sel < det->nselections ? det->selections[c->sel].name : "?");
        break;
    case KZ_COND_NOT:
        put(o, "not ");
        format(c->kids[0], det, o, depth + 1);
        break;
    default:
        put(o, "(");
        for (uint32_t i = 0; i < c->nkids; i++) {
            if (i) put(o, c->op == KZ_COND_AND ? " and " : " or ");
            format(c->kids[i], det, o, depth + 1);
        }
        put(o, ")");
    }
}

void kz_sigma_cond_format(const struct kz_sigma_cond *c, const struct kz_sigma_detection *det,
                          char *buf, size_t size) {
    struct out o = {buf, size, 0};
    if (size) buf[0] = 0;
    if (c) format(c, det, &o, 0);
}
