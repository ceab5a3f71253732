/* logsource.c - loads the Sigma logsource mapping (data/logsource.yml) and resolves rules'
 * logsources against it. The format and the resolution rules are described in logsource.h and
 * at the top of data/logsource.yml.
 *
 * Why its own small YAML tree (and not sigma_load.c's): the mapping is a different document
 * with a fixed shape, and sharing the rule loader's internals would tie two formats together.
 * The tree here is minimal (no aliases, one document), built through libyaml's event API with
 * the same habits: every node counted against a budget, nesting bounded, duplicate keys refused
 * (a second `security:` would otherwise silently win), and every error names file and line. The
 * tree lives in a scratch arena freed when loading ends; what the map keeps is copied into the
 * map's arena. */
#include "logsource.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/embedded.h"
#include "core/intern.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- the map ---- */

enum ls_kind {
    LS_ANY,      /* `any:` of a product: the product alone */
    LS_CATEGORY, /* categories: NAME */
    LS_SERVICE,  /* services: NAME */
    LS_PRODUCT,  /* a product marked unsupported as a whole */
};

struct ls_entry {
    uint8_t kind;            /* enum ls_kind */
    const char *product;     /* lowercase; NULL for the generic section */
    const char *name;        /* lowercase category or service; NULL for ANY and PRODUCT */
    const char *unsupported; /* reason, when the entry is a log kizuki does not read */
    uint32_t ntargets;
    struct kz_ls_target *targets;
    uint32_t line;
};

struct kz_ls_map {
    struct kz_arena arena;
    uint32_t nentries, entries_alloc;
    struct ls_entry *entries; /* kz_malloc'd */
};

/* ---- ASCII case folding (names are ASCII; locale-independent on purpose) ---- */

static int fold(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    for (; *a && *b; a++, b++)
        if (fold((unsigned char)*a) != fold((unsigned char)*b)) return 0;
    return *a == *b;
}

/* ---- the YAML tree ---- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
    uint8_t kind;
    uint8_t plain; /* scalar written without quotes (so `~` and `null` mean null) */
    uint32_t line;
    uint32_t n; /* SEQ: items; MAP: keys + values (always even) */
    const char *text;
    size_t len;
    struct ynode *first, *last, *next; /* children, in order (MAP: key, value, key, value ...) */
};

struct loader {
    struct kz_ls_map *m;
    const char *name;
    struct kz_arena scratch;
    uint32_t nodes;
    struct kz_err *err;
};

static int fail(struct loader *l, uint32_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct loader *l, uint32_t line, int code, const char *fmt, ...) {
    char msg[KZ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line) return kz_err_set(l->err, code, "%s:%u: %s", l->name, line, msg);
    return kz_err_set(l->err, code, "%s: %s", l->name, msg);
}

static int oom(struct loader *l) {
    return fail(l, 0, KZ_ENOMEM, "out of memory");
}

static struct ynode *ynew(struct loader *l, int kind, uint32_t line) {
    struct ynode *y = kz_arena_alloc(&l->scratch, sizeof *y);
    if (!y) return NULL;
    memset(y, 0, sizeof *y);
    y->kind = (uint8_t)kind;
    y->line = line;
    return y;
}

static const char *kind_word(const struct ynode *y) {
    return y->kind == Y_MAP ? "a map" : y->kind == Y_SEQ ? "a list" : "a single value";
}

/* Adds child c to parent p; for a map, a key that repeats an earlier key is an error. */
static int attach(struct loader *l, struct ynode *p, struct ynode *c) {
    if (p->kind == Y_MAP && (p->n % 2) == 0) {
        if (c->kind != Y_SCALAR)
            return fail(l, c->line, KZ_EFORMAT, "a map key must be a single value, not %s",
                        kind_word(c));
        if (p->n / 2 >= KZ_LS_MAX_KEYS)
            return fail(l, c->line, KZ_ELIMIT, "more than %u keys in one map", KZ_LS_MAX_KEYS);
        uint32_t i = 0;
        for (struct ynode *k = p->first; k; k = k->next, i++)
            if (i % 2 == 0 && k->len == c->len && !memcmp(k->text, c->text, c->len))
                return fail(l, c->line, KZ_EFORMAT, "key `%s` repeats the one on line %u", c->text,
                            k->line);
    }
    if (p->last)
        p->last->next = c;
    else
        p->first = c;
    p->last = c;
    p->n++;
    return 0;
}

static int parse_tree(struct loader *l, const char *text, size_t len, struct ynode **root) {
    yaml_parser_t parser;
    yaml_event_t ev;
    struct ynode *stack[KZ_LS_MAX_DEPTH];
    uint32_t depth = 0, ndocs = 0;
    int rc = 0, done = 0;
    *root = NULL;
    if (!yaml_parser_initialize(&parser)) return oom(l);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && !rc) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                rc = oom(l);
            } else {
                rc = fail(l, (uint32_t)parser.problem_mark.line + 1, KZ_EFORMAT,
                          "YAML syntax error: %s%s%s",
                          parser.problem ? parser.problem : "unknown problem",
                          parser.context ? " " : "", parser.context ? parser.context : "");
            }
            break;
        }
        uint32_t line = (uint32_t)ev.start_mark.line + 1;
        struct ynode *node = NULL;
        int opens = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1)
                rc = fail(l, line, KZ_EFORMAT, "the mapping is one YAML document, not several");
            break;
        case YAML_ALIAS_EVENT:
            rc = fail(l, line, KZ_EFORMAT,
                      "YAML aliases are not used in the mapping (write the value out)");
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++l->nodes > KZ_LS_MAX_NODES) {
                rc = fail(l, line, KZ_ELIMIT, "more than %u YAML nodes", KZ_LS_MAX_NODES);
                break;
            }
            if (ev.type == YAML_SCALAR_EVENT) {
                node = ynew(l, Y_SCALAR, line);
                if (!node) {
                    rc = oom(l);
                    break;
                }
                node->len = ev.data.scalar.length;
                node->text =
                    kz_arena_strndup(&l->scratch, (const char *)ev.data.scalar.value, node->len);
                if (!node->text) {
                    rc = oom(l);
                    break;
                }
                node->plain = ev.data.scalar.plain_implicit &&
                              ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            } else {
                if (depth >= KZ_LS_MAX_DEPTH) {
                    rc = fail(l, line, KZ_ELIMIT, "YAML nests deeper than %u levels",
                              KZ_LS_MAX_DEPTH);
                    break;
                }
                node = ynew(l, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP, line);
                if (!node) {
                    rc = oom(l);
                    break;
                }
                opens = 1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth) depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc || !node) continue;
        /* attach to the open collection, or become the root */
        if (depth)
            rc = attach(l, stack[depth - 1], node);
        else if (!*root)
            *root = node;
        if (!rc && opens) stack[depth++] = node;
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- tree helpers ---- */

static int is_null(const struct ynode *y) {
    return y->kind == Y_SCALAR && y->plain &&
           (y->len == 0 || !strcmp(y->text, "~") || !strcmp(y->text, "null") ||
            !strcmp(y->text, "Null") || !strcmp(y->text, "NULL"));
}

static int want(struct loader *l, const struct ynode *y, int kind, const char *what) {
    if (y->kind == kind) return 0;
    return fail(l, y->line, KZ_EFORMAT, "%s must be %s, not %s", what,
                kind == Y_MAP   ? "a map"
                : kind == Y_SEQ ? "a list"
                                : "a single value",
                kind_word(y));
}

/* Checks that every key of map y is one of keys[] (a typo must not be ignored). */
static int only_keys(struct loader *l, const struct ynode *y, const char *what,
                     const char *const *keys) {
    for (const struct ynode *k = y->first; k; k = k->next->next) {
        int ok = 0;
        for (const char *const *p = keys; *p; p++)
            if (!strcmp(k->text, *p)) ok = 1;
        if (!ok) {
            char list[256] = "";
            size_t off = 0;
            for (const char *const *p = keys; *p && off < sizeof list; p++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                        p == keys ? "" : ", ", *p);
            return fail(l, k->line, KZ_EFORMAT, "unknown key `%s` in %s (expected: %s)", k->text,
                        what, list);
        }
    }
    return 0;
}

static const struct ynode *get(const struct ynode *map, const char *key) {
    for (const struct ynode *k = map->first; k; k = k->next->next)
        if (!strcmp(k->text, key)) return k->next;
    return NULL;
}

/* A name, channel, field or value: a non-empty scalar of bounded size. */
static int text_of(struct loader *l, const struct ynode *y, const char *what, size_t max) {
    if (y->kind != Y_SCALAR)
        return fail(l, y->line, KZ_EFORMAT, "%s must be a single value, not %s", what,
                    kind_word(y));
    if (y->len == 0 || is_null(y)) return fail(l, y->line, KZ_EFORMAT, "%s is empty", what);
    if (y->len > max) return fail(l, y->line, KZ_ELIMIT, "%s is longer than %zu bytes", what, max);
    if (memchr(y->text, 0, y->len))
        return fail(l, y->line, KZ_EFORMAT, "%s contains a NUL byte", what);
    return 0;
}

static int copy_text(struct loader *l, const struct ynode *y, const char *what, size_t max,
                     int lower, const char **out) {
    int rc = text_of(l, y, what, max);
    if (rc) return rc;
    char *s = kz_arena_strndup(&l->m->arena, y->text, y->len);
    if (!s) return oom(l);
    if (lower)
        for (char *p = s; *p; p++)
            *p = (char)fold((unsigned char)*p);
    *out = s;
    return 0;
}

static int field_id(struct loader *l, const struct ynode *y, const char *what, uint32_t *out) {
    int rc = text_of(l, y, what, KZ_LS_MAX_NAME);
    if (rc) return rc;
    if (!(*out = kz_intern(y->text, y->len))) return oom(l);
    return 0;
}

/* A scalar or a list of scalars: the items, counted; *one is set when y itself is a scalar. */
static uint32_t items_of(const struct ynode *y, const struct ynode **first) {
    if (y->kind == Y_SEQ) {
        *first = y->first;
        return y->n;
    }
    *first = y;
    return 1;
}

/* ---- targets ---- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_ids(struct loader *l, const struct ynode *y, struct kz_ls_target *t) {
    const struct ynode *it;
    uint32_t n = items_of(y, &it);
    if (y->kind == Y_MAP) return want(l, y, Y_SEQ, "`event_ids`");
    if (n == 0) return fail(l, y->line, KZ_EFORMAT, "`event_ids` is an empty list");
    if (n > KZ_LS_MAX_IDS)
        return fail(l, y->line, KZ_ELIMIT, "more than %u event ids in one target", KZ_LS_MAX_IDS);
    uint32_t *ids = kz_arena_alloc(&l->m->arena, n * sizeof *ids);
    if (!ids) return oom(l);
    for (uint32_t i = 0; i < n; i++, it = it->next) {
        if (it->kind != Y_SCALAR || !it->plain || it->len == 0 || it->len > 5)
            return fail(l, it->line, KZ_EFORMAT, "event id `%s` is not a number from 0 to 65535",
                        it->kind == Y_SCALAR ? it->text : kind_word(it));
        uint32_t v = 0;
        for (size_t k = 0; k < it->len; k++) {
            if (it->text[k] < '0' || it->text[k] > '9') {
                v = 65536;
                break;
            }
            v = v * 10 + (uint32_t)(it->text[k] - '0');
        }
        if (v > 65535)
            return fail(l, it->line, KZ_EFORMAT, "event id `%s` is not a number from 0 to 65535",
                        it->text);
        ids[i] = v;
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!k || ids[k - 1] != ids[i]) ids[k++] = ids[i];
    t->event_ids = ids;
    t->nevent_ids = k;
    return 0;
}

static int parse_rename(struct loader *l, const struct ynode *y, struct kz_ls_target *t) {
    int rc = want(l, y, Y_MAP, "`rename`");
    if (rc) return rc;
    uint32_t n = y->n / 2;
    if (n > KZ_LS_MAX_FIELDS)
        return fail(l, y->line, KZ_ELIMIT, "more than %u renames in one target", KZ_LS_MAX_FIELDS);
    uint32_t *from = kz_arena_alloc(&l->m->arena, (n + 1) * sizeof *from);
    uint32_t *to = kz_arena_alloc(&l->m->arena, (n + 1) * sizeof *to);
    if (!from || !to) return oom(l);
    uint32_t i = 0;
    for (const struct ynode *k = y->first; k; k = k->next->next, i++) {
        if ((rc = field_id(l, k, "a renamed field", &from[i])) ||
            (rc = field_id(l, k->next, "the field a rename reads", &to[i])))
            return rc;
    }
    t->rename_from = from;
    t->rename_to = to;
    t->nrenames = n;
    return 0;
}

/* Scalars of a scalar-or-list node copied into the arena. */
static int copy_values(struct loader *l, const struct ynode *y, const char *what, uint32_t *n,
                       const char ***out) {
    const struct ynode *it;
    if (y->kind == Y_MAP) return want(l, y, Y_SEQ, what);
    uint32_t cnt = items_of(y, &it);
    if (cnt == 0) return fail(l, y->line, KZ_EFORMAT, "%s is an empty list", what);
    if (cnt > KZ_LS_MAX_VALUES)
        return fail(l, y->line, KZ_ELIMIT, "more than %u values in %s", KZ_LS_MAX_VALUES, what);
    const char **v = kz_arena_alloc(&l->m->arena, cnt * sizeof *v);
    if (!v) return oom(l);
    for (uint32_t i = 0; i < cnt; i++, it = it->next) {
        int rc = copy_text(l, it, what, KZ_LS_MAX_NAME, 0, &v[i]);
        if (rc) return rc;
    }
    *n = cnt;
    *out = v;
    return 0;
}

static int parse_where(struct loader *l, const struct ynode *y, struct kz_ls_target *t) {
    int rc = want(l, y, Y_MAP, "`where`");
    if (rc) return rc;
    uint32_t n = y->n / 2;
    if (n > KZ_LS_MAX_FIELDS)
        return fail(l, y->line, KZ_ELIMIT, "more than %u fields in `where`", KZ_LS_MAX_FIELDS);
    struct kz_ls_cond *c = kz_arena_alloc(&l->m->arena, (n + 1) * sizeof *c);
    if (!c) return oom(l);
    uint32_t i = 0;
    for (const struct ynode *k = y->first; k; k = k->next->next, i++) {
        const char **vals = NULL;
        if ((rc = field_id(l, k, "a `where` field", &c[i].field)) ||
            (rc = copy_values(l, k->next, "a `where` value", &c[i].nvalues, &vals)))
            return rc;
        c[i].values = vals;
    }
    t->where = c;
    t->nwhere = n;
    return 0;
}

static int parse_values(struct loader *l, const struct ynode *y, struct kz_ls_target *t) {
    int rc = want(l, y, Y_MAP, "`values`");
    if (rc) return rc;
    uint32_t n = y->n / 2;
    if (n > KZ_LS_MAX_FIELDS)
        return fail(l, y->line, KZ_ELIMIT, "more than %u fields in `values`", KZ_LS_MAX_FIELDS);
    struct kz_ls_valmap *vm = kz_arena_alloc(&l->m->arena, (n + 1) * sizeof *vm);
    if (!vm) return oom(l);
    uint32_t i = 0;
    for (const struct ynode *k = y->first; k; k = k->next->next, i++) {
        const struct ynode *pairs = k->next;
        if ((rc = field_id(l, k, "a `values` field", &vm[i].field)) ||
            (rc = want(l, pairs, Y_MAP, "the value map of a field")))
            return rc;
        /* count the source forms first: one rule value may have several */
        uint32_t total = 0;
        for (const struct ynode *p = pairs->first; p; p = p->next->next) {
            total += p->next->kind == Y_SEQ ? p->next->n : 1;
            if (total > KZ_LS_MAX_VALUES)
                return fail(l, pairs->line, KZ_ELIMIT, "more than %u values in one value map",
                            KZ_LS_MAX_VALUES);
        }
        const char **from = kz_arena_alloc(&l->m->arena, (total + 1) * sizeof *from);
        const char **to = kz_arena_alloc(&l->m->arena, (total + 1) * sizeof *to);
        if (!from || !to) return oom(l);
        uint32_t j = 0;
        for (const struct ynode *p = pairs->first; p; p = p->next->next) {
            const char *f, **tv;
            uint32_t nt;
            if ((rc = copy_text(l, p, "a rule value", KZ_LS_MAX_NAME, 0, &f)) ||
                (rc = copy_values(l, p->next, "a source value", &nt, &tv)))
                return rc;
            for (uint32_t q = 0; q < nt; q++, j++) {
                from[j] = f;
                to[j] = tv[q];
            }
        }
        vm[i].n = j;
        vm[i].from = from;
        vm[i].to = to;
    }
    t->valmaps = vm;
    t->nvalmaps = n;
    return 0;
}

static int parse_absent(struct loader *l, const struct ynode *y, struct kz_ls_target *t) {
    int rc = want(l, y, Y_SEQ, "`absent`");
    if (rc) return rc;
    if (y->n > KZ_LS_MAX_FIELDS)
        return fail(l, y->line, KZ_ELIMIT, "more than %u fields in `absent`", KZ_LS_MAX_FIELDS);
    uint32_t *ids = kz_arena_alloc(&l->m->arena, (y->n + 1) * sizeof *ids);
    if (!ids) return oom(l);
    uint32_t i = 0;
    for (const struct ynode *it = y->first; it; it = it->next, i++)
        if ((rc = field_id(l, it, "an absent field", &ids[i]))) return rc;
    t->absent = ids;
    t->nabsent = y->n;
    return 0;
}

/* Parses one TARGET map into t[0..*nt): `channels:` expands into one target per channel. */
static int parse_target(struct loader *l, const struct ynode *y, const char *product,
                        struct kz_ls_target *t, uint32_t room, uint32_t *nt) {
    static const char *const keys[] = {"channel", "channels", "provider", "event_ids",
                                       "where",   "rename",   "values",   "absent",
                                       "product", "note",     NULL};
    int rc = want(l, y, Y_MAP, "a target");
    if (!rc) rc = only_keys(l, y, "a target", keys);
    if (rc) return rc;
    const struct ynode *ch = get(y, "channel"), *chs = get(y, "channels"), *v;
    if (ch && chs)
        return fail(l, y->line, KZ_EFORMAT, "a target has `channel` or `channels`, not both");
    if (!ch && !chs)
        return fail(l, y->line, KZ_EFORMAT,
                    "a target needs `channel` (`~` for any channel) or `channels`");
    struct kz_ls_target base;
    memset(&base, 0, sizeof base);
    base.product = product;
    base.line = y->line;
    if ((v = get(y, "product")) &&
        (rc = copy_text(l, v, "`product`", KZ_LS_MAX_NAME, 1, &base.product)))
        return rc;
    if ((v = get(y, "provider")) &&
        (rc = copy_text(l, v, "`provider`", KZ_LS_MAX_NAME, 0, &base.provider)))
        return rc;
    if ((v = get(y, "note")) && (rc = copy_text(l, v, "`note`", KZ_LS_MAX_TEXT, 0, &base.note)))
        return rc;
    if ((v = get(y, "event_ids")) && (rc = parse_ids(l, v, &base))) return rc;
    if ((v = get(y, "rename")) && (rc = parse_rename(l, v, &base))) return rc;
    if ((v = get(y, "where")) && (rc = parse_where(l, v, &base))) return rc;
    if ((v = get(y, "values")) && (rc = parse_values(l, v, &base))) return rc;
    if ((v = get(y, "absent")) && (rc = parse_absent(l, v, &base))) return rc;
    if (ch) {
        if (!room)
            return fail(l, y->line, KZ_ELIMIT, "more than %u targets in one entry",
                        KZ_LS_MAX_TARGETS);
        t[0] = base;
        if (!is_null(ch) && (rc = copy_text(l, ch, "`channel`", KZ_LS_MAX_NAME, 0, &t[0].channel)))
            return rc;
        *nt = 1;
        return 0;
    }
    if ((rc = want(l, chs, Y_SEQ, "`channels`"))) return rc;
    if (chs->n == 0) return fail(l, chs->line, KZ_EFORMAT, "`channels` is an empty list");
    if (chs->n > room)
        return fail(l, chs->line, KZ_ELIMIT, "more than %u targets in one entry",
                    KZ_LS_MAX_TARGETS);
    uint32_t i = 0;
    for (const struct ynode *c = chs->first; c; c = c->next, i++) {
        t[i] = base;
        t[i].line = c->line;
        if ((rc = copy_text(l, c, "a channel", KZ_LS_MAX_NAME, 0, &t[i].channel))) return rc;
    }
    *nt = i;
    return 0;
}

/* ---- entries ---- */

static int add_entry(struct loader *l, const struct ls_entry *e) {
    struct kz_ls_map *m = l->m;
    if (m->nentries >= KZ_LS_MAX_ENTRIES)
        return fail(l, e->line, KZ_ELIMIT, "more than %u entries", KZ_LS_MAX_ENTRIES);
    if (m->nentries == m->entries_alloc) {
        uint32_t na = m->entries_alloc ? 2 * m->entries_alloc : 64;
        struct ls_entry *p = kz_realloc(m->entries, na * sizeof *p);
        if (!p) return oom(l);
        m->entries = p;
        m->entries_alloc = na;
    }
    m->entries[m->nentries++] = *e;
    return 0;
}

/* Reads `unsupported: "why"` (the only key of y); 0 and *why, or an error. */
static int parse_unsupported(struct loader *l, const struct ynode *y, const char **why) {
    static const char *const keys[] = {"unsupported", NULL};
    int rc = only_keys(l, y, "an unsupported entry", keys);
    const struct ynode *v = get(y, "unsupported");
    if (rc) return rc;
    if (!v) return fail(l, y->line, KZ_EFORMAT, "an empty map (expected `unsupported: why`)");
    return copy_text(l, v, "`unsupported`", KZ_LS_MAX_TEXT, 0, why);
}

/* ENTRY: a list of targets, or {unsupported: why}. */
static int parse_entry(struct loader *l, const struct ynode *y, struct ls_entry *e) {
    if (y->kind == Y_MAP) return parse_unsupported(l, y, &e->unsupported);
    if (y->kind != Y_SEQ)
        return fail(l, y->line, KZ_EFORMAT,
                    "an entry is a list of targets or `{unsupported: why}`, not %s", kind_word(y));
    if (y->n == 0) return fail(l, y->line, KZ_EFORMAT, "an entry with no targets");
    struct kz_ls_target tmp[KZ_LS_MAX_TARGETS];
    uint32_t n = 0;
    for (const struct ynode *it = y->first; it; it = it->next) {
        uint32_t got = 0;
        int rc = parse_target(l, it, e->product, tmp + n, KZ_LS_MAX_TARGETS - n, &got);
        if (rc) return rc;
        n += got;
    }
    e->targets = kz_arena_alloc(&l->m->arena, n * sizeof *e->targets);
    if (!e->targets) return oom(l);
    memcpy(e->targets, tmp, n * sizeof *tmp);
    e->ntargets = n;
    return 0;
}

/* `categories:` or `services:` of a section. */
static int parse_names(struct loader *l, const struct ynode *y, const char *product, int kind,
                       const char *what) {
    int rc = want(l, y, Y_MAP, what);
    if (rc) return rc;
    for (const struct ynode *k = y->first; k; k = k->next->next) {
        struct ls_entry e;
        memset(&e, 0, sizeof e);
        e.kind = (uint8_t)kind;
        e.product = product;
        e.line = k->line;
        if ((rc = copy_text(l, k, kind == LS_CATEGORY ? "a category name" : "a service name",
                            KZ_LS_MAX_NAME, 1, &e.name)))
            return rc;
        /* YAML keys are compared exactly; names are not: `Security` and `security` collide */
        for (uint32_t i = 0; i < l->m->nentries; i++) {
            const struct ls_entry *o = &l->m->entries[i];
            if (o->kind == kind && ieq(o->product, product) && ieq(o->name, e.name))
                return fail(l, k->line, KZ_EFORMAT, "`%s` repeats the entry on line %u", k->text,
                            o->line);
        }
        if ((rc = parse_entry(l, k->next, &e)) || (rc = add_entry(l, &e))) return rc;
    }
    return 0;
}

static int parse_section(struct loader *l, const struct ynode *y, const char *product) {
    static const char *const pkeys[] = {"unsupported", "any", "categories", "services", NULL};
    static const char *const gkeys[] = {"categories", "services", NULL};
    const char *what = product ? "a product" : "`generic`";
    int rc = want(l, y, Y_MAP, what);
    if (!rc) rc = only_keys(l, y, what, product ? pkeys : gkeys);
    if (rc) return rc;
    const struct ynode *v;
    if (product && (v = get(y, "unsupported"))) {
        if (y->n != 2)
            return fail(l, y->line, KZ_EFORMAT,
                        "product `%s` is unsupported as a whole: it has no other keys", product);
        struct ls_entry e = {.kind = LS_PRODUCT, .product = product, .line = v->line};
        if ((rc = copy_text(l, v, "`unsupported`", KZ_LS_MAX_TEXT, 0, &e.unsupported))) return rc;
        return add_entry(l, &e);
    }
    if (product) {
        /* a product always gets an ANY entry, so "is this product known" is one lookup */
        struct ls_entry e = {.kind = LS_ANY, .product = product, .line = y->line};
        if ((v = get(y, "any"))) {
            e.line = v->line;
            if ((rc = parse_entry(l, v, &e))) return rc;
        }
        if ((rc = add_entry(l, &e))) return rc;
    }
    if ((v = get(y, "categories")) &&
        (rc = parse_names(l, v, product, LS_CATEGORY, "`categories`")))
        return rc;
    if ((v = get(y, "services")) && (rc = parse_names(l, v, product, LS_SERVICE, "`services`")))
        return rc;
    return 0;
}

static int parse_root(struct loader *l, const struct ynode *root) {
    static const char *const keys[] = {"version", "generic", "products", NULL};
    if (!root) return fail(l, 0, KZ_EFORMAT, "the mapping is empty");
    int rc = want(l, root, Y_MAP, "the mapping");
    if (!rc) rc = only_keys(l, root, "the mapping", keys);
    if (rc) return rc;
    const struct ynode *v = get(root, "version");
    if (!v) return fail(l, root->line, KZ_EFORMAT, "`version: 1` is missing");
    if (v->kind != Y_SCALAR || strcmp(v->text, "1"))
        return fail(l, v->line, KZ_EFORMAT, "`version` must be 1 (this kizuki reads version 1)");
    if ((v = get(root, "generic")) && (rc = parse_section(l, v, NULL))) return rc;
    if (!(v = get(root, "products"))) return 0;
    if ((rc = want(l, v, Y_MAP, "`products`"))) return rc;
    for (const struct ynode *k = v->first; k; k = k->next->next) {
        const char *product;
        if ((rc = copy_text(l, k, "a product name", KZ_LS_MAX_NAME, 1, &product))) return rc;
        for (uint32_t i = 0; i < l->m->nentries; i++)
            if ((l->m->entries[i].kind == LS_ANY || l->m->entries[i].kind == LS_PRODUCT) &&
                ieq(l->m->entries[i].product, product))
                return fail(l, k->line, KZ_EFORMAT, "product `%s` repeats the one on line %u",
                            k->text, l->m->entries[i].line);
        if ((rc = parse_section(l, k->next, product))) return rc;
    }
    return 0;
}

/* ---- entry points ---- */

int kz_ls_load(struct kz_ls_map **out, const char *name, const char *text, size_t len,
               struct kz_err *err) {
    struct loader l = {.name = name ? name : "logsource", .err = err};
    struct ynode *root;
    int rc;
    *out = NULL;
    if (len > KZ_LS_MAX_FILE_BYTES)
        return fail(&l, 0, KZ_ELIMIT, "larger than %u bytes", KZ_LS_MAX_FILE_BYTES);
    if (!(l.m = kz_calloc(1, sizeof *l.m))) return oom(&l);
    kz_arena_init(&l.m->arena, 16384, KZ_LS_ARENA_CAP);
    kz_arena_init(&l.scratch, 32768, KZ_LS_ARENA_CAP);
    rc = parse_tree(&l, text, len, &root);
    if (!rc) rc = parse_root(&l, root);
    kz_arena_free(&l.scratch);
    if (rc) {
        kz_ls_free(l.m);
        return rc;
    }
    *out = l.m;
    return 0;
}

void kz_ls_free(struct kz_ls_map *m) {
    if (!m) return;
    kz_arena_free(&m->arena);
    kz_free(m->entries);
    kz_free(m);
}

static struct kz_ls_map *default_map;
static struct kz_err default_err;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_load(void) {
    const char *path = "data/logsource.yml";
    const struct kz_embedded_file *f = kz_embedded_find(path);
    if (!f) {
        kz_err_set(&default_err, KZ_EFORMAT, "%s: not compiled into this binary", path);
        return;
    }
    kz_ls_load(&default_map, path, f->data, f->len, &default_err);
}

const struct kz_ls_map *kz_ls_default(struct kz_err *err) {
    pthread_once(&default_once, default_load);
    if (!default_map && err) *err = default_err;
    return default_map;
}

uint32_t kz_ls_entry_count(const struct kz_ls_map *m) {
    return m ? m->nentries : 0;
}

const char *kz_ls_status_name(int status) {
    switch (status) {
    case KZ_LS_MAPPED:
        return "mapped";
    case KZ_LS_UNSUPPORTED:
        return "unsupported";
    default:
        return "unknown";
    }
}

uint32_t kz_ls_target_field(const struct kz_ls_target *t, uint32_t sigma_field) {
    for (uint32_t i = 0; i < t->nrenames; i++)
        if (t->rename_from[i] == sigma_field) return t->rename_to[i];
    return sigma_field;
}

int kz_ls_target_lacks(const struct kz_ls_target *t, uint32_t sigma_field) {
    for (uint32_t i = 0; i < t->nabsent; i++)
        if (t->absent[i] == sigma_field) return 1;
    return 0;
}

int kz_ls_target_accepts(const struct kz_ls_target *t, const char *channel, const char *provider,
                         uint32_t event_id) {
    if (t->channel && !ieq(t->channel, channel ? channel : "")) return 0;
    if (t->provider && !ieq(t->provider, provider ? provider : "")) return 0;
    if (!t->nevent_ids) return 1;
    uint32_t lo = 0, hi = t->nevent_ids; /* ids are sorted */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->event_ids[mid] == event_id) return 1;
        if (t->event_ids[mid] < event_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ---- resolution ---- */

/* What one name (a category or a service) resolves to, before intersecting. */
struct found {
    int any;                 /* an entry with this name exists */
    const char *unsupported; /* the first unsupported reason met */
    uint32_t n;
    int overflow;
    const struct kz_ls_target *t[KZ_LS_MAX_TARGETS];
};

static void found_add(struct found *f, const struct ls_entry *e) {
    f->any = 1;
    if (e->unsupported && !f->unsupported) f->unsupported = e->unsupported;
    for (uint32_t i = 0; i < e->ntargets; i++) {
        const struct kz_ls_target *t = &e->targets[i];
        int dup = 0;
        for (uint32_t k = 0; k < f->n && !dup; k++)
            dup = f->t[k] == t;
        if (dup) continue;
        if (f->n == KZ_LS_MAX_TARGETS) {
            f->overflow = 1;
            return;
        }
        f->t[f->n++] = t;
    }
}

/* Entries of `kind` named `name`: in the product (then, if it has none, the generic section),
 * or with no product, in the generic section and every product. */
static void collect(const struct kz_ls_map *m, const char *product, int kind, const char *name,
                    struct found *f) {
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; i < m->nentries; i++) {
        const struct ls_entry *e = &m->entries[i];
        if (e->kind != kind || !ieq(e->name, name)) continue;
        if (product && !ieq(e->product, product)) continue;
        found_add(f, e);
    }
    if (f->any || !product) return;
    for (uint32_t i = 0; i < m->nentries; i++) {
        const struct ls_entry *e = &m->entries[i];
        if (e->kind == kind && !e->product && ieq(e->name, name)) found_add(f, e);
    }
}

static void set_reason(struct kz_ls_result *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_reason(struct kz_ls_result *out, int status, const char *fmt, ...) {
    va_list ap;
    out->status = status;
    out->ntargets = 0;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Turns one name's findings into the result; 1 when it is final (not MAPPED). */
static int found_status(const struct found *f, const char *what, const char *name,
                        const char *product, struct kz_ls_result *out) {
    if (f->overflow) {
        set_reason(out, KZ_LS_UNKNOWN, "%s `%s`: the mapping gives more than %u sources", what,
                   name, KZ_LS_MAX_TARGETS);
        return 1;
    }
    if (f->n) return 0;
    if (f->unsupported) {
        set_reason(out, KZ_LS_UNSUPPORTED, "%s `%s`: %s", what, name, f->unsupported);
        return 1;
    }
    if (product)
        set_reason(out, KZ_LS_UNKNOWN,
                   "unknown %s `%s` for product `%s` (not in the logsource mapping)", what, name,
                   product);
    else
        set_reason(out, KZ_LS_UNKNOWN, "unknown %s `%s` (not in the logsource mapping)", what,
                   name);
    return 1;
}

/* A category target lies inside a service target: same channel (an any-channel service covers
 * every channel) and no conflicting provider. */
static int within(const struct kz_ls_target *c, const struct kz_ls_target *s) {
    if (s->channel && (!c->channel || !ieq(s->channel, c->channel))) return 0;
    if (s->provider && (!c->provider || !ieq(s->provider, c->provider))) return 0;
    if (s->nevent_ids) { /* the service narrows event ids: every category id must be in it */
        if (!c->nevent_ids) return 0;
        for (uint32_t i = 0; i < c->nevent_ids; i++)
            if (!kz_ls_target_accepts(s, c->channel, c->provider, c->event_ids[i])) return 0;
    }
    return 1;
}

void kz_ls_resolve(const struct kz_ls_map *m, const struct kz_sigma_logsource *ls,
                   struct kz_ls_result *out) {
    const char *product = ls->product, *category = ls->category, *service = ls->service;
    memset(out, 0, sizeof *out);
    out->status = KZ_LS_UNKNOWN;
    if (!m) {
        set_reason(out, KZ_LS_UNKNOWN, "no logsource mapping loaded");
        return;
    }
    if (!product && !category && !service) {
        set_reason(out, KZ_LS_UNKNOWN, "the logsource names no product, category or service");
        return;
    }
    if (product) {
        const struct ls_entry *pe = NULL;
        for (uint32_t i = 0; i < m->nentries && !pe; i++)
            if ((m->entries[i].kind == LS_ANY || m->entries[i].kind == LS_PRODUCT) &&
                ieq(m->entries[i].product, product))
                pe = &m->entries[i];
        if (!pe) {
            set_reason(out, KZ_LS_UNKNOWN, "unknown product `%s` (not in the logsource mapping)",
                       product);
            return;
        }
        if (pe->kind == LS_PRODUCT) {
            set_reason(out, KZ_LS_UNSUPPORTED, "product `%s`: %s", product, pe->unsupported);
            return;
        }
        if (!category && !service) {
            struct found f;
            memset(&f, 0, sizeof f);
            found_add(&f, pe);
            if (pe->unsupported) {
                set_reason(out, KZ_LS_UNSUPPORTED, "product `%s` alone: %s", product,
                           pe->unsupported);
            } else if (!f.n) {
                set_reason(out, KZ_LS_UNKNOWN,
                           "product `%s` alone means nothing in the mapping: the rule needs a "
                           "category or a service",
                           product);
            } else {
                out->status = KZ_LS_MAPPED;
                out->ntargets = f.n;
                memcpy(out->targets, f.t, f.n * sizeof f.t[0]);
            }
            return;
        }
    }
    struct found fc = {0}, fs = {0};
    if (category) {
        collect(m, product, LS_CATEGORY, category, &fc);
        if (found_status(&fc, "category", category, product, out)) return;
    }
    if (service) {
        collect(m, product, LS_SERVICE, service, &fs);
        if (found_status(&fs, "service", service, product, out)) return;
    }
    if (category && service) {
        struct found both;
        memset(&both, 0, sizeof both);
        for (uint32_t i = 0; i < fc.n; i++)
            for (uint32_t k = 0; k < fs.n; k++)
                if (within(fc.t[i], fs.t[k])) {
                    both.t[both.n++] = fc.t[i];
                    break;
                }
        if (!both.n) {
            set_reason(out, KZ_LS_UNKNOWN,
                       "category `%s` and service `%s` share no log in the logsource mapping",
                       category, service);
            return;
        }
        fc = both;
    }
    const struct found *f = category ? &fc : &fs;
    out->status = KZ_LS_MAPPED;
    out->ntargets = f->n;
    memcpy(out->targets, f->t, f->n * sizeof f->t[0]);
}
