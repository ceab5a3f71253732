/* rule.c - Sigma rules in memory: the modifier table, which modifiers combine, value
 * pre-processing (wildcards, escapes, case, windash, UTF-16, base64, CIDR, numbers), the rule set's
 * lists and the linking of correlations and filters to the rules they name. See rule.h.
 *
 * Why values are pre-processed here: every transformation a modifier describes is a function of
 * the rule alone, so doing it once at load time leaves the matcher with plain byte comparisons,
 * and lets the loader reject, with a reason, a value no matcher could ever use. */
#include "sigma_int.h"

#include "core/alloc.h"
#include "core/intern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the modifier table ---- */

const struct kz_sigma_mod_info kz_sigma_mods[KZ_MOD_COUNT] = {
    [KZ_MOD_CONTAINS] = {"contains", "the value anywhere in the field"},
    [KZ_MOD_STARTSWITH] = {"startswith", "the value at the start of the field"},
    [KZ_MOD_ENDSWITH] = {"endswith", "the value at the end of the field"},
    [KZ_MOD_ALL] = {"all", "every value of the list must match (AND instead of OR)"},
    [KZ_MOD_EXISTS] = {"exists", "the field is present (true) or absent (false)"},
    [KZ_MOD_CASED] = {"cased", "case-sensitive comparison"},
    [KZ_MOD_NEQ] = {"neq", "the field differs from the value"},
    [KZ_MOD_WINDASH] = {"windash", "- / and the Unicode dashes interchangeable at word starts"},
    [KZ_MOD_RE] = {"re", "the value is a regular expression"},
    [KZ_MOD_RE_I] = {"i", "regular expression: case-insensitive"},
    [KZ_MOD_RE_M] = {"m", "regular expression: ^ and $ match at line breaks"},
    [KZ_MOD_RE_S] = {"s", "regular expression: . matches a newline"},
    [KZ_MOD_BASE64] = {"base64", "the value base64-encoded"},
    [KZ_MOD_BASE64OFFSET] = {"base64offset", "the value base64-encoded at the three offsets"},
    [KZ_MOD_UTF16LE] = {"utf16le", "the value as UTF-16LE before base64"},
    [KZ_MOD_UTF16BE] = {"utf16be", "the value as UTF-16BE before base64"},
    [KZ_MOD_UTF16] = {"utf16", "the value as UTF-16 with a byte order mark before base64"},
    [KZ_MOD_WIDE] = {"wide", "alias of utf16le"},
    [KZ_MOD_LT] = {"lt", "the field is a number less than the value"},
    [KZ_MOD_LTE] = {"lte", "the field is a number less than or equal to the value"},
    [KZ_MOD_GT] = {"gt", "the field is a number greater than the value"},
    [KZ_MOD_GTE] = {"gte", "the field is a number greater than or equal to the value"},
    [KZ_MOD_MINUTE] = {"minute", "the minute (0-59) of a timestamp field"},
    [KZ_MOD_HOUR] = {"hour", "the hour (0-23) of a timestamp field"},
    [KZ_MOD_DAY] = {"day", "the day of the month (1-31) of a timestamp field"},
    [KZ_MOD_WEEK] = {"week", "the week of the year (1-53) of a timestamp field"},
    [KZ_MOD_MONTH] = {"month", "the month (1-12) of a timestamp field"},
    [KZ_MOD_YEAR] = {"year", "the year of a timestamp field"},
    [KZ_MOD_CIDR] = {"cidr", "the field is an IP address inside the network"},
    [KZ_MOD_EXPAND] = {"expand", "the value holds %placeholders% expanded by a pipeline"},
    [KZ_MOD_FIELDREF] = {"fieldref", "the value names another field of the event"},
};

int kz_sigma_mod_find(const char *name, size_t len) {
    for (int m = 0; m < KZ_MOD_COUNT; m++)
        if (strlen(kz_sigma_mods[m].name) == len && !memcmp(kz_sigma_mods[m].name, name, len))
            return m;
    return -1;
}

void sigma_mods_text(const struct kz_sigma_item *it, char *buf, size_t size) {
    size_t n = 0;
    if (size) buf[0] = 0;
    for (unsigned i = 0; i < it->nmods && n < size; i++) {
        int w = snprintf(buf + n, size - n, "|%s", kz_sigma_mods[it->mod_order[i]].name);
        if (w < 0) break;
        n += (size_t)w;
    }
}

/* Position of modifier m in the item's list, or -1. */
static int mod_pos(const struct kz_sigma_item *it, int m) {
    for (unsigned i = 0; i < it->nmods; i++)
        if (it->mod_order[i] == m) return (int)i;
    return -1;
}

static int popcount64(uint64_t v) {
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* The error prefix every item problem carries. */
static int item_err(const struct kz_sigma_item *it, struct kz_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int item_err(const struct kz_sigma_item *it, struct kz_err *err, const char *fmt, ...) {
    char mods[256], why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    sigma_mods_text(it, mods, sizeof mods);
    if (it->field)
        return kz_err_set(err, KZ_EFORMAT, "modifier `%s` on field `%s`: %s", mods, it->field_name,
                          why);
    return kz_err_set(err, KZ_EFORMAT, "modifier `%s` on keywords: %s", mods, why);
}

/* Checks that the modifiers of an item can be combined, and in a sensible order. */
static int mods_check(const struct kz_sigma_item *it, struct kz_err *err) {
    uint64_t m = it->mods;
    if (popcount64(m & KZ_SM_POSITION) > 1)
        return item_err(it, err, "contains, startswith and endswith exclude each other; use one");
    if ((m & (KZ_SM(RE_I) | KZ_SM(RE_M) | KZ_SM(RE_S))) && !(m & KZ_SM(RE)))
        return item_err(it, err, "i, m and s are flags of |re and need it first (`Field|re|i`)");
    for (int f = KZ_MOD_RE_I; f <= KZ_MOD_RE_S; f++)
        if (mod_pos(it, f) >= 0 && mod_pos(it, f) < mod_pos(it, KZ_MOD_RE))
            return item_err(it, err, "the regular expression flag |%s must follow |re",
                            kz_sigma_mods[f].name);
    if (m & KZ_SM(EXISTS) && (m & ~KZ_SM(EXISTS)))
        return item_err(it, err, "|exists takes no other modifier (write `Field|exists: true`)");
    if (m & KZ_SM(RE)) {
        uint64_t ok = KZ_SM(RE) | KZ_SM(RE_I) | KZ_SM(RE_M) | KZ_SM(RE_S) | KZ_SM(ALL) |
                      KZ_SM(CASED) | KZ_SM(NEQ);
        if (m & ~ok)
            return item_err(it, err,
                            "|re combines only with i, m, s, all, cased and neq; a regular "
                            "expression says itself where it matches (use .* or ^ and $)");
    }
    if (popcount64(m & KZ_SM_COMPARE) > 1)
        return item_err(it, err, "use one of lt, lte, gt, gte (for a range, use two selections)");
    if (popcount64(m & KZ_SM_TIMEPART) > 1)
        return item_err(it, err, "use one of minute, hour, day, week, month, year");
    if (m & (KZ_SM_COMPARE | KZ_SM_TIMEPART)) {
        uint64_t ok = KZ_SM_COMPARE | KZ_SM_TIMEPART | KZ_SM(ALL) | KZ_SM(NEQ);
        if (m & ~ok)
            return item_err(it, err,
                            "numeric and time modifiers combine only with each other, all and "
                            "neq");
    }
    if (m & KZ_SM(CIDR) && (m & ~(KZ_SM(CIDR) | KZ_SM(ALL) | KZ_SM(NEQ))))
        return item_err(it, err, "|cidr combines only with all and neq");
    if (m & KZ_SM(FIELDREF)) {
        uint64_t ok = KZ_SM(FIELDREF) | KZ_SM_POSITION | KZ_SM(ALL) | KZ_SM(CASED) | KZ_SM(NEQ);
        if (m & ~ok)
            return item_err(it, err,
                            "|fieldref combines only with contains, startswith, endswith, all, "
                            "cased and neq");
    }
    int b64 = mod_pos(it, KZ_MOD_BASE64), b64o = mod_pos(it, KZ_MOD_BASE64OFFSET);
    if (b64 >= 0 && b64o >= 0) return item_err(it, err, "use base64 or base64offset, not both");
    int enc = b64 >= 0 ? b64 : b64o;
    if (popcount64(m & KZ_SM_UTF16) > 1)
        return item_err(it, err, "use one of utf16le, utf16be, utf16, wide");
    for (int u = KZ_MOD_UTF16LE; u <= KZ_MOD_WIDE; u++) {
        int p = mod_pos(it, u);
        if (p < 0) continue;
        if (enc < 0)
            return item_err(it, err,
                            "|%s only says how to encode before base64; add |base64 or "
                            "|base64offset after it (`Field|%s|base64offset|contains`)",
                            kz_sigma_mods[u].name, kz_sigma_mods[u].name);
        if (p > enc)
            return item_err(it, err, "|%s must come before |%s", kz_sigma_mods[u].name,
                            kz_sigma_mods[it->mod_order[enc]].name);
    }
    if (b64o >= 0 && !(m & KZ_SM(CONTAINS)))
        return item_err(it, err,
                        "|base64offset finds the value inside a longer base64 text, so it needs "
                        "|contains after it (`Field|base64offset|contains`)");
    if (enc >= 0) {
        for (int p = KZ_MOD_CONTAINS; p <= KZ_MOD_ENDSWITH; p++)
            if (mod_pos(it, p) >= 0 && mod_pos(it, p) < enc)
                return item_err(it, err,
                                "|%s must come after |%s (the encoded text is what is searched)",
                                kz_sigma_mods[p].name, kz_sigma_mods[it->mod_order[enc]].name);
        if (mod_pos(it, KZ_MOD_WINDASH) > enc)
            return item_err(it, err, "|windash must come before |%s",
                            kz_sigma_mods[it->mod_order[enc]].name);
        if (m & KZ_SM(CASED))
            return item_err(it, err,
                            "base64 text is always compared case-sensitively; drop |cased");
    }
    if (!it->field && (m & (KZ_SM(EXISTS) | KZ_SM_COMPARE | KZ_SM_TIMEPART | KZ_SM(CIDR) |
                            KZ_SM(FIELDREF) | KZ_SM(NEQ))))
        return item_err(it, err, "keywords (values without a field) cannot take this modifier");
    return 0;
}

int sigma_item_parse_key(struct kz_arena *a, const char *key, size_t len, uint32_t line,
                         struct kz_sigma_item *it, struct kz_err *err) {
    memset(it, 0, sizeof *it);
    it->line = line;
    const char *bar = memchr(key, '|', len);
    size_t flen = bar ? (size_t)(bar - key) : len;
    it->field_name = kz_arena_strndup(a, key, flen);
    if (!it->field_name) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    if (flen) {
        if (flen > KZ_INTERN_MAX_LEN)
            return kz_err_set(err, KZ_ELIMIT, "field name `%.40s...` is longer than %u bytes", key,
                              KZ_INTERN_MAX_LEN);
        it->field = kz_intern(key, flen);
        if (!it->field) return kz_err_set(err, KZ_ENOMEM, "out of memory interning a field name");
    }
    const char *p = bar, *end = key + len;
    while (p && p < end) {
        const char *s = p + 1, *e = memchr(s, '|', (size_t)(end - s));
        if (!e) e = end;
        size_t n = (size_t)(e - s);
        int m = kz_sigma_mod_find(s, n);
        if (m < 0) {
            if (n == 0)
                return kz_err_set(err, KZ_EFORMAT,
                                  "field `%s`: empty modifier (`||` or a trailing "
                                  "`|`) in `%.*s`",
                                  it->field_name, (int)(len > 200 ? 200 : len), key);
            return kz_err_set(err, KZ_EFORMAT,
                              "field `%s`: unknown modifier `|%.*s` (Sigma 2 modifiers: contains, "
                              "startswith, endswith, all, exists, cased, neq, windash, re, base64, "
                              "base64offset, utf16le, utf16be, utf16, wide, lt, lte, gt, gte, "
                              "minute..year, cidr, expand, fieldref)",
                              it->field_name, (int)(n > 60 ? 60 : n), s);
        }
        if (it->mods & (1ull << m))
            return kz_err_set(err, KZ_EFORMAT, "field `%s`: modifier `|%s` given twice",
                              it->field_name, kz_sigma_mods[m].name);
        if (it->nmods >= KZ_SIGMA_MAX_MODS)
            return kz_err_set(err, KZ_ELIMIT, "field `%s`: more than %u modifiers", it->field_name,
                              KZ_SIGMA_MAX_MODS);
        it->mods |= 1ull << m;
        it->mod_order[it->nmods++] = (uint8_t)m;
        p = e;
    }
    return mods_check(it, err);
}

int sigma_item_check_values(const struct kz_sigma_item *it, struct kz_err *err) {
    if ((it->mods & KZ_SM(ALL)) && it->nvalues < 2)
        return item_err(it, err,
                        "|all needs a list of two or more values (with one value it means the same "
                        "as without; the specification forbids it)");
    if ((it->mods & KZ_SM(EXISTS)) && it->nvalues != 1)
        return item_err(it, err, "|exists takes exactly one value, true or false");
    return 0;
}

/* ---- scalars: null, booleans, numbers as YAML 1.1 reads them ---- */

static int is_null(const struct sigma_scalar *s) {
    if (!s->plain) return 0;
    return s->len == 0 || !strcmp(s->text, "~") || !strcmp(s->text, "null") ||
           !strcmp(s->text, "Null") || !strcmp(s->text, "NULL");
}

/* 1 true, 0 false, -1 not a boolean. Quoted "true" counts only when quoted is allowed. */
static int bool_of(const char *t) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(t, yes[i])) return 1;
        if (!strcmp(t, no[i])) return 0;
    }
    return -1;
}

/* Parses a YAML number (decimal integer or float, 0x hex, 0o octal); 1 on success. */
static int number_of(const char *t, size_t len, double *out) {
    if (len == 0 || len > 64) return 0;
    char *end;
    errno = 0;
    const char *s = t;
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o') && s[2]) {
        unsigned long long v = strtoull(s + 2, &end, s[1] == 'x' ? 16 : 8);
        if (*end || errno || s[2] == '-' || s[2] == '+' || s[2] == ' ') return 0;
        *out = neg ? -(double)v : (double)v;
        return 1;
    }
    /* strtod also takes "inf", "nan", hex floats and leading spaces: allow digits, one dot and an
     * exponent only. */
    int digits = 0;
    for (const char *c = s; *c; c++) {
        if (*c >= '0' && *c <= '9')
            digits++;
        else if (*c != '.' && *c != 'e' && *c != 'E' && *c != '-' && *c != '+')
            return 0;
    }
    if (!digits || (s[0] != '.' && (s[0] < '0' || s[0] > '9'))) return 0;
    double v = strtod(t, &end);
    if (*end || errno || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* ---- patterns ---- */

/* A growable list of pieces in scratch memory (kz_malloc), capped. */
struct pieces {
    struct kz_sigma_piece *v;
    uint32_t n, alloc;
    char *lit; /* literal bytes of all pieces, back to back */
    size_t lit_len, lit_alloc;
};

static void pieces_free(struct pieces *p) {
    kz_free(p->v);
    kz_free(p->lit);
    memset(p, 0, sizeof *p);
}

static int pieces_push(struct pieces *p, uint8_t kind) {
    if (kind == KZ_PIECE_STAR && p->n && p->v[p->n - 1].kind == KZ_PIECE_STAR) return 0;
    if (p->n == p->alloc) {
        uint32_t na = p->alloc ? p->alloc * 2 : 8;
        if (na > (1u << 20)) return KZ_ELIMIT;
        void *nv = kz_realloc(p->v, na * sizeof *p->v);
        if (!nv) return KZ_ENOMEM;
        p->v = nv;
        p->alloc = na;
    }
    /* LIT pieces record an offset into lit (text is fixed up when copied to the arena). */
    p->v[p->n].kind = kind;
    p->v[p->n].len = 0;
    p->v[p->n].text = (const char *)(uintptr_t)p->lit_len;
    p->n++;
    return 0;
}

static int pieces_lit(struct pieces *p, const char *s, size_t n) {
    if (!n) return 0;
    if (!p->n || p->v[p->n - 1].kind != KZ_PIECE_LIT) {
        int rc = pieces_push(p, KZ_PIECE_LIT);
        if (rc) return rc;
    }
    if (p->lit_len + n + 1 > p->lit_alloc) {
        size_t na = (p->lit_len + n + 1) * 2;
        if (na > ((size_t)16 << 20)) return KZ_ELIMIT;
        char *nl = kz_realloc(p->lit, na);
        if (!nl) return KZ_ENOMEM;
        p->lit = nl;
        p->lit_alloc = na;
    }
    memcpy(p->lit + p->lit_len, s, n);
    p->lit_len += n;
    p->v[p->n - 1].len += (uint32_t)n;
    return 0;
}

/* Sigma wildcards: `*` any run, `?` one character; `\*`, `\?`, `\\` are the characters themselves;
 * a backslash before anything else is a plain backslash. */
static int pieces_parse(struct pieces *p, const char *s, size_t n, int wildcards) {
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char c = s[i];
        if (!wildcards) {
            rc = pieces_lit(p, &c, 1);
        } else if (c == '\\' && i + 1 < n &&
                   (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            rc = pieces_lit(p, &s[++i], 1);
        } else if (c == '*') {
            rc = pieces_push(p, KZ_PIECE_STAR);
        } else if (c == '?') {
            rc = pieces_push(p, KZ_PIECE_ONE);
        } else {
            rc = pieces_lit(p, &c, 1);
        }
    }
    return rc;
}

static int pieces_has_wildcard(const struct pieces *p) {
    for (uint32_t i = 0; i < p->n; i++)
        if (p->v[i].kind != KZ_PIECE_LIT) return 1;
    return 0;
}

/* Turns the piece list into a pattern in the arena: the common shapes become plain comparisons. */
static int pattern_make(struct kz_arena *a, struct pieces *p, int cased,
                        struct kz_sigma_pattern *out) {
    memset(out, 0, sizeof *out);
    out->cased = (uint8_t)cased;
    if (!cased)
        for (size_t i = 0; i < p->lit_len; i++)
            if (p->lit[i] >= 'A' && p->lit[i] <= 'Z') p->lit[i] = (char)(p->lit[i] + 32);
    char *lit = kz_arena_alloc(a, p->lit_len + 1);
    if (!lit) return KZ_ENOMEM;
    if (p->lit_len) memcpy(lit, p->lit, p->lit_len);
    lit[p->lit_len] = 0;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->v[i].kind == KZ_PIECE_LIT) p->v[i].text = lit + (uintptr_t)p->v[i].text;
    const struct kz_sigma_piece *v = p->v;
    uint32_t n = p->n;
    const struct kz_sigma_piece *only = NULL;
    if (n == 0) {
        out->match = KZ_MATCH_EXACT;
        out->text = lit;
        return 0;
    }
    if (n == 1 && v[0].kind == KZ_PIECE_STAR) {
        out->match = KZ_MATCH_ANY;
        out->text = lit;
        return 0;
    }
    if (n == 1 && v[0].kind == KZ_PIECE_LIT)
        out->match = KZ_MATCH_EXACT, only = &v[0];
    else if (n == 2 && v[0].kind == KZ_PIECE_LIT && v[1].kind == KZ_PIECE_STAR)
        out->match = KZ_MATCH_STARTSWITH, only = &v[0];
    else if (n == 2 && v[0].kind == KZ_PIECE_STAR && v[1].kind == KZ_PIECE_LIT)
        out->match = KZ_MATCH_ENDSWITH, only = &v[1];
    else if (n == 3 && v[0].kind == KZ_PIECE_STAR && v[1].kind == KZ_PIECE_LIT &&
             v[2].kind == KZ_PIECE_STAR)
        out->match = KZ_MATCH_CONTAINS, only = &v[1];
    if (only) {
        out->text = only->text;
        out->len = only->len;
        return 0;
    }
    out->match = KZ_MATCH_GLOB;
    out->text = lit;
    out->len = (uint32_t)p->lit_len;
    out->pieces = kz_arena_alloc(a, n * sizeof *out->pieces);
    if (!out->pieces) return KZ_ENOMEM;
    memcpy(out->pieces, v, n * sizeof *v);
    out->npieces = n;
    return 0;
}

/* ---- encodings ---- */

/* UTF-8 to UTF-16 (le, be, or le with BOM); invalid UTF-8 is an error (returns -1). */
static int utf16_encode(const char *s, size_t n, int mod, char **out, size_t *outlen) {
    char *d = kz_malloc(n * 4 + 2);
    if (!d) return KZ_ENOMEM;
    size_t o = 0;
    int be = mod == KZ_MOD_UTF16BE;
    if (mod == KZ_MOD_UTF16) d[o++] = (char)0xFF, d[o++] = (char)0xFE;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k;
        if (u[i] < 0x80)
            cp = u[i], k = 1;
        else if ((u[i] & 0xE0) == 0xC0)
            cp = u[i] & 0x1F, k = 2;
        else if ((u[i] & 0xF0) == 0xE0)
            cp = u[i] & 0x0F, k = 3;
        else if ((u[i] & 0xF8) == 0xF0)
            cp = u[i] & 0x07, k = 4;
        else
            goto bad;
        if (i + k > n) goto bad;
        for (size_t j = 1; j < k; j++) {
            if ((u[i + j] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (u[i + j] & 0x3F);
        }
        i += k;
        uint16_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = (uint16_t)(0xD800 | (cp >> 10));
            units[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
            nu = 2;
        } else {
            units[0] = (uint16_t)cp;
        }
        for (int j = 0; j < nu; j++) {
            d[o++] = (char)(be ? units[j] >> 8 : units[j] & 0xFF);
            d[o++] = (char)(be ? units[j] & 0xFF : units[j] >> 8);
        }
    }
    *out = d;
    *outlen = o;
    return 0;
bad:
    kz_free(d);
    return -1;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; dst holds 4 * ((n + 2) / 3) + 1 bytes. Returns the length. */
static size_t base64_encode(const unsigned char *s, size_t n, char *dst) {
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        dst[o++] = b64chars[v >> 18];
        dst[o++] = b64chars[(v >> 12) & 63];
        dst[o++] = b64chars[(v >> 6) & 63];
        dst[o++] = b64chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        dst[o++] = b64chars[v >> 18];
        dst[o++] = b64chars[(v >> 12) & 63];
        dst[o++] = '=';
        dst[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        dst[o++] = b64chars[v >> 18];
        dst[o++] = b64chars[(v >> 12) & 63];
        dst[o++] = b64chars[(v >> 6) & 63];
        dst[o++] = '=';
    }
    dst[o] = 0;
    return o;
}

/* ---- windash ---- */

static int is_word(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

/* The dashes windash makes interchangeable: - / en dash, em dash, horizontal bar. */
static const char *const windashes[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
#define NWINDASH 5

/* Positions of `-` or `/` that start a word (not after a word character, before one). */
static uint32_t windash_positions(const char *s, size_t n, size_t *pos, uint32_t max) {
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '-' && s[i] != '/') continue;
        if (i > 0 && is_word((unsigned char)s[i - 1])) continue;
        if (i + 1 >= n || !is_word((unsigned char)s[i + 1])) continue;
        if (k < max) pos[k] = i;
        k++;
    }
    return k;
}

/* ---- one value ---- */

struct value_build {
    struct kz_arena *a;
    const struct kz_sigma_item *it;
    struct kz_sigma_value *v;
    uint32_t alloc;
    struct kz_err *err;
};

static int add_pattern(struct value_build *b, struct pieces *p, int cased) {
    struct kz_sigma_value *v = b->v;
    if (v->npatterns >= KZ_SIGMA_MAX_VARIANTS)
        return item_err(b->it, b->err, "value `%.60s` expands to more than %u patterns", v->raw,
                        KZ_SIGMA_MAX_VARIANTS);
    if (v->npatterns == b->alloc) {
        uint32_t na = b->alloc ? b->alloc * 2 : 4;
        struct kz_sigma_pattern *nv = kz_arena_alloc(b->a, na * sizeof *nv);
        if (!nv) return kz_err_set(b->err, KZ_ENOMEM, "out of memory");
        if (v->npatterns) memcpy(nv, v->patterns, v->npatterns * sizeof *nv);
        v->patterns = nv;
        b->alloc = na;
    }
    if (pattern_make(b->a, p, cased, &v->patterns[v->npatterns]))
        return kz_err_set(b->err, KZ_ENOMEM, "out of memory");
    v->npatterns++;
    return 0;
}

/* Wraps literal bytes in the item's position wildcards and adds the pattern. */
static int add_literal(struct value_build *b, const char *s, size_t n, int cased) {
    struct pieces p = {0};
    uint64_t m = b->it->mods;
    int rc = 0;
    if (m & (KZ_SM(CONTAINS) | KZ_SM(ENDSWITH))) rc = pieces_push(&p, KZ_PIECE_STAR);
    if (!rc) rc = pieces_lit(&p, s, n);
    if (!rc && (m & (KZ_SM(CONTAINS) | KZ_SM(STARTSWITH)))) rc = pieces_push(&p, KZ_PIECE_STAR);
    if (!rc)
        rc = add_pattern(b, &p, cased);
    else
        rc = kz_err_set(b->err, rc, "value too large");
    pieces_free(&p);
    return rc;
}

/* One windash variant of the text: wildcards, then encodings, then position. */
static int add_variant(struct value_build *b, const char *s, size_t n, int wildcards) {
    const struct kz_sigma_item *it = b->it;
    uint64_t m = it->mods;
    int cased = (m & KZ_SM(CASED)) != 0;
    struct pieces p = {0};
    int rc = pieces_parse(&p, s, n, wildcards);
    if (rc) {
        pieces_free(&p);
        return kz_err_set(b->err, rc, "value too large");
    }
    if (!(m & (KZ_SM(BASE64) | KZ_SM(BASE64OFFSET)))) {
        /* Keywords search anywhere, unless a position modifier says otherwise. */
        int wrap_start =
            (m & (KZ_SM(CONTAINS) | KZ_SM(ENDSWITH))) || (!it->field && !(m & KZ_SM_POSITION));
        int wrap_end =
            (m & (KZ_SM(CONTAINS) | KZ_SM(STARTSWITH))) || (!it->field && !(m & KZ_SM_POSITION));
        struct pieces q = {0};
        if (wrap_start) rc = pieces_push(&q, KZ_PIECE_STAR);
        for (uint32_t i = 0; i < p.n && !rc; i++) {
            if (p.v[i].kind == KZ_PIECE_LIT)
                rc = pieces_lit(&q, p.lit + (uintptr_t)p.v[i].text, p.v[i].len);
            else
                rc = pieces_push(&q, p.v[i].kind);
        }
        if (!rc && wrap_end) rc = pieces_push(&q, KZ_PIECE_STAR);
        if (rc)
            rc = kz_err_set(b->err, rc, "value too large");
        else
            rc = add_pattern(b, &q, cased);
        pieces_free(&q);
        pieces_free(&p);
        return rc;
    }
    /* Encodings work on bytes: a wildcard cannot survive them. */
    if (pieces_has_wildcard(&p)) {
        pieces_free(&p);
        return item_err(it, b->err,
                        "value `%.60s` has a wildcard (* or ?), which cannot be base64-encoded; "
                        "escape it (\\* or \\?) if it is part of the text",
                        b->v->raw);
    }
    char *bytes = p.lit ? p.lit : (char *)"";
    size_t nbytes = p.lit_len;
    char *wide = NULL;
    for (int u = KZ_MOD_UTF16LE; u <= KZ_MOD_WIDE; u++) {
        if (!(m & (1ull << u))) continue;
        rc = utf16_encode(bytes, nbytes, u == KZ_MOD_WIDE ? KZ_MOD_UTF16LE : u, &wide, &nbytes);
        if (rc == KZ_ENOMEM) {
            pieces_free(&p);
            return kz_err_set(b->err, KZ_ENOMEM, "out of memory");
        }
        if (rc) {
            pieces_free(&p);
            return item_err(it, b->err,
                            "value `%.60s` is not valid UTF-8, so it has no UTF-16 form",
                            b->v->raw);
        }
        bytes = wide;
    }
    if (nbytes == 0) {
        kz_free(wide);
        pieces_free(&p);
        return item_err(it, b->err, "an empty value has no base64 form");
    }
    char *buf = kz_malloc(4 * ((nbytes + 4) / 3) + 8);
    unsigned char *shifted = kz_malloc(nbytes + 2);
    if (!buf || !shifted) {
        rc = kz_err_set(b->err, KZ_ENOMEM, "out of memory");
    } else if (m & KZ_SM(BASE64)) {
        size_t len = base64_encode((const unsigned char *)bytes, nbytes, buf);
        rc = add_literal(b, buf, len, 1);
    } else {
        /* base64offset: the value after 0, 1 or 2 bytes of something else. Only the characters
         * fully determined by the value are kept: drop the leading ones that mix in the
         * preceding bytes and the trailing ones that mix in what follows (and the padding). */
        static const size_t start_drop[3] = {0, 2, 3};
        static const size_t end_drop[3] = {0, 3, 2};
        for (size_t shift = 0; shift < 3 && !rc; shift++) {
            memset(shifted, ' ', shift);
            memcpy(shifted + shift, bytes, nbytes);
            size_t len = base64_encode(shifted, nbytes + shift, buf);
            size_t s0 = start_drop[shift], e0 = end_drop[(nbytes + shift) % 3];
            if (len <= s0 + e0) continue; /* too short to have a stable middle at this offset */
            rc = add_literal(b, buf + s0, len - s0 - e0, 1);
        }
        if (!rc && b->v->npatterns == 0)
            rc = item_err(it, b->err, "value `%.60s` is too short for base64offset", b->v->raw);
    }
    kz_free(buf);
    kz_free(shifted);
    kz_free(wide);
    pieces_free(&p);
    return rc;
}

/* A light syntax check of a regular expression: brackets and parentheses balanced, no trailing
 * backslash. The matcher's regex compiler has the final word; this catches the typos early. */
static const char *regex_problem(const char *s, size_t n) {
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            if (++i >= n) return "it ends with a lone backslash";
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && s[j] == '^') j++;
            if (j < n && s[j] == ']') j++;
            for (; j < n && s[j] != ']'; j++)
                if (s[j] == '\\') j++;
            if (j >= n) return "a `[` character class is never closed";
            i = j;
        } else if (c == '(') {
            if (++depth > 256) return "parentheses nest deeper than 256";
        } else if (c == ')') {
            if (--depth < 0) return "a `)` closes nothing";
        }
    }
    return depth ? "a `(` is never closed" : NULL;
}

static int cidr_parse(const char *s, struct kz_sigma_value *v) {
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof host) return -1;
    memcpy(host, s, hl);
    host[hl] = 0;
    memset(v->addr, 0, sizeof v->addr);
    int bits;
    if (inet_pton(AF_INET, host, v->addr) == 1)
        v->family = 4, bits = 32;
    else if (inet_pton(AF_INET6, host, v->addr) == 1)
        v->family = 6, bits = 128;
    else
        return -1;
    long prefix = bits;
    if (slash) {
        char *end;
        errno = 0;
        if (!slash[1] || slash[1] == '-' || slash[1] == '+') return -1;
        prefix = strtol(slash + 1, &end, 10);
        if (*end || errno || prefix < 0 || prefix > bits) return -1;
    }
    v->prefix = (uint8_t)prefix;
    for (int i = 0; i < 16; i++) {
        int keep = (int)prefix - i * 8;
        if (keep >= 8) continue;
        v->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
    }
    return 0;
}

int sigma_value_compile(struct kz_arena *a, const struct kz_sigma_item *it,
                        const struct sigma_scalar *s, struct kz_sigma_value *v,
                        struct kz_err *err) {
    memset(v, 0, sizeof *v);
    v->line = s->line;
    v->raw = kz_arena_strndup(a, s->text, s->len);
    v->raw_len = (uint32_t)s->len;
    if (!v->raw) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    uint64_t m = it->mods;
    if (m & KZ_SM(EXISTS)) {
        int bv = bool_of(s->text);
        if (bv < 0) return item_err(it, err, "|exists takes true or false, not `%.60s`", s->text);
        v->type = KZ_SV_EXISTS;
        v->boolean = (uint8_t)bv;
        return 0;
    }
    if (is_null(s)) {
        if (m & ~(KZ_SM(NEQ) | KZ_SM(ALL)))
            return item_err(it, err,
                            "a null value means `field absent or empty` and takes no modifier but "
                            "neq (to test presence use `Field|exists: true`)");
        if (!it->field)
            return item_err(it, err, "a keyword cannot be null; remove the empty list entry");
        v->type = KZ_SV_NULL;
        return 0;
    }
    if (memchr(s->text, 0, s->len)) return item_err(it, err, "value contains a NUL byte");
    double num;
    int is_num = s->plain && number_of(s->text, s->len, &num);
    if (m & (KZ_SM_COMPARE | KZ_SM_TIMEPART)) {
        if (!is_num && !number_of(s->text, s->len, &num))
            return item_err(it, err, "needs a number, not `%.60s`", s->text);
        v->type = KZ_SV_NUMBER;
        v->num = num;
        return 0;
    }
    if (m & KZ_SM(RE)) {
        const char *why = regex_problem(s->text, s->len);
        if (why) return item_err(it, err, "regular expression `%.80s`: %s", s->text, why);
        if (s->len == 0) return item_err(it, err, "empty regular expression");
        v->type = KZ_SV_REGEX;
        return 0;
    }
    if (m & KZ_SM(CIDR)) {
        if (cidr_parse(s->text, v))
            return item_err(it, err,
                            "`%.60s` is not an IPv4 or IPv6 network (write e.g. 10.0.0.0/8 or "
                            "fe80::/10)",
                            s->text);
        v->type = KZ_SV_CIDR;
        return 0;
    }
    struct value_build b = {.a = a, .it = it, .v = v, .err = err};
    if (m & KZ_SM(FIELDREF)) {
        if (s->len == 0 || s->len > KZ_INTERN_MAX_LEN)
            return item_err(it, err, "|fieldref needs a field name, not `%.60s`", s->text);
        v->type = KZ_SV_FIELDREF;
        v->field = kz_intern(s->text, s->len);
        if (!v->field) return kz_err_set(err, KZ_ENOMEM, "out of memory interning a field name");
        /* One pattern records the position (exact/contains/...) of the referenced value. */
        return add_literal(&b, "", 0, (m & KZ_SM(CASED)) != 0);
    }
    int bv = s->plain ? bool_of(s->text) : -1;
    if (is_num) {
        v->type = KZ_SV_NUMBER;
        v->num = num;
    } else if (bv >= 0) {
        v->type = KZ_SV_BOOL;
        v->boolean = (uint8_t)bv;
    } else {
        v->type = KZ_SV_STRING;
    }
    /* Numbers and booleans are compared by their text too; they have no wildcards. */
    int wildcards = v->type == KZ_SV_STRING;
    if (!(m & KZ_SM(WINDASH))) return add_variant(&b, s->text, s->len, wildcards);

    size_t pos[8];
    uint32_t k = windash_positions(s->text, s->len, pos, 8);
    if (k == 0) return add_variant(&b, s->text, s->len, wildcards);
    if (k > 5)
        return item_err(it, err,
                        "value `%.60s` has %u dashes at word starts; windash would make 5^%u "
                        "variants (at most 5 dashes)",
                        s->text, k, k);
    uint32_t total = 1;
    for (uint32_t i = 0; i < k; i++)
        total *= NWINDASH;
    char *buf = kz_malloc(s->len + k * 3 + 1);
    if (!buf) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t combo = 0; combo < total && !rc; combo++) {
        size_t o = 0, prev = 0;
        uint32_t c = combo;
        for (uint32_t i = 0; i < k; i++) {
            memcpy(buf + o, s->text + prev, pos[i] - prev);
            o += pos[i] - prev;
            const char *d = windashes[c % NWINDASH];
            c /= NWINDASH;
            memcpy(buf + o, d, strlen(d));
            o += strlen(d);
            prev = pos[i] + 1;
        }
        memcpy(buf + o, s->text + prev, s->len - prev);
        o += s->len - prev;
        rc = add_variant(&b, buf, o, wildcards);
    }
    kz_free(buf);
    return rc;
}

/* ---- the rule set ---- */

void kz_sigma_ruleset_init(struct kz_sigma_ruleset *rs) {
    memset(rs, 0, sizeof *rs);
    kz_arena_init(&rs->arena, 256 * 1024, KZ_SIGMA_ARENA_CAP);
}

void kz_sigma_ruleset_free(struct kz_sigma_ruleset *rs) {
    kz_free(rs->rules);
    kz_free(rs->failures);
    kz_arena_free(&rs->arena);
    memset(rs, 0, sizeof *rs);
}

int sigma_add_rule(struct kz_sigma_ruleset *rs, struct kz_sigma_rule *r) {
    if (rs->nrules >= KZ_SIGMA_MAX_RULES) return KZ_ELIMIT;
    if (rs->nrules == rs->rules_alloc) {
        uint32_t na = rs->rules_alloc ? rs->rules_alloc * 2 : 256;
        void *nv = kz_realloc(rs->rules, na * sizeof *rs->rules);
        if (!nv) return KZ_ENOMEM;
        rs->rules = nv;
        rs->rules_alloc = na;
    }
    rs->rules[rs->nrules++] = r;
    rs->counts[r->kind]++;
    return 0;
}

int sigma_fail(struct kz_sigma_ruleset *rs, const char *file, uint32_t line, const char *fmt, ...) {
    rs->nfailures++;
    if (rs->failures_kept >= KZ_SIGMA_MAX_FAILURES) return 0;
    if (rs->failures_kept == rs->failures_alloc) {
        uint32_t na = rs->failures_alloc ? rs->failures_alloc * 2 : 64;
        void *nv = kz_realloc(rs->failures, na * sizeof *rs->failures);
        if (!nv) return KZ_ENOMEM;
        rs->failures = nv;
        rs->failures_alloc = na;
    }
    char msg[KZ_ERR_MSG_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct kz_sigma_failure *f = &rs->failures[rs->failures_kept];
    f->file = kz_arena_strndup(&rs->arena, file, strlen(file));
    f->reason = kz_arena_strndup(&rs->arena, msg, strlen(msg));
    f->line = line;
    if (!f->file || !f->reason) return KZ_ENOMEM;
    rs->failures_kept++;
    return 0;
}

/* ---- linking correlations and filters ---- */

static struct kz_sigma_rule *find_rule(struct kz_sigma_ruleset *rs, const char *ref) {
    /* ids first (globally unique), then names. Linear: rule sets link once, and references are few.
     */
    for (uint32_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i]->id && !strcmp(rs->rules[i]->id, ref)) return rs->rules[i];
    for (uint32_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i]->name && !strcmp(rs->rules[i]->name, ref)) return rs->rules[i];
    return NULL;
}

/* 1 when following correlation references from r comes back to start. Depth-limited, and the
 * whole walk is limited too (*budget steps): references that branch and join again (a diamond)
 * would otherwise be walked once per path, exponentially many; past the budget the chain is
 * treated as a cycle and the correlation fails with that reason. */
static int corr_cycles(const struct kz_sigma_rule *start, const struct kz_sigma_rule *r, int depth,
                       uint32_t *budget) {
    if (depth > 64 || *budget == 0) return 1;
    --*budget;
    for (uint32_t i = 0; i < r->corr.nrefs; i++) {
        const struct kz_sigma_rule *t = r->corr.rules[i];
        if (!t || t->kind != KZ_SIGMA_CORRELATION) continue;
        if (t == start || corr_cycles(start, t, depth + 1, budget)) return 1;
    }
    return 0;
}

int kz_sigma_ruleset_link(struct kz_sigma_ruleset *rs) {
    for (uint32_t i = 0; i < rs->nrules; i++) {
        struct kz_sigma_rule *r = rs->rules[i];
        if (r->kind == KZ_SIGMA_FILTER) {
            for (uint32_t j = 0; j < r->filter.nrefs; j++)
                r->filter.rules[j] = find_rule(rs, r->filter.rule_refs[j]);
        } else if (r->kind == KZ_SIGMA_CORRELATION) {
            for (uint32_t j = 0; j < r->corr.nrefs; j++)
                r->corr.rules[j] = find_rule(rs, r->corr.rule_refs[j]);
            for (uint32_t j = 0; j < r->corr.naliases; j++)
                for (uint32_t k = 0; k < r->corr.aliases[j].nmaps; k++)
                    r->corr.aliases[j].rules[k] = find_rule(rs, r->corr.aliases[j].rule_refs[k]);
        }
    }
    /* Drop correlations whose references do not resolve (to the failures, with the reason);
     * repeat, since a correlation on a dropped correlation must go too. */
    for (int changed = 1; changed;) {
        changed = 0;
        uint32_t o = 0;
        for (uint32_t i = 0; i < rs->nrules; i++) {
            struct kz_sigma_rule *r = rs->rules[i];
            const char *why = NULL, *ref = NULL;
            if (r->kind == KZ_SIGMA_CORRELATION) {
                for (uint32_t j = 0; j < r->corr.nrefs && !why; j++) {
                    struct kz_sigma_rule *t = r->corr.rules[j];
                    if (!t)
                        why = "is not loaded (no loaded rule has this id or name; titles do not "
                              "count)",
                        ref = r->corr.rule_refs[j];
                    else if (t->kind == KZ_SIGMA_FILTER)
                        why = "is a filter, not a rule", ref = r->corr.rule_refs[j];
                }
                for (uint32_t j = 0; j < r->corr.naliases && !why; j++)
                    for (uint32_t k = 0; k < r->corr.aliases[j].nmaps && !why; k++)
                        if (!r->corr.aliases[j].rules[k])
                            why = "(in aliases) is not loaded",
                            ref = r->corr.aliases[j].rule_refs[k];
                uint32_t budget = 100000;
                if (!why && corr_cycles(r, r, 0, &budget))
                    why = "leads back to this correlation (a cycle)", ref = "chain";
            }
            if (why) {
                if (sigma_fail(rs, r->file, r->line,
                               "rule `%s`: correlation: referenced rule `%s` %s", r->title, ref,
                               why))
                    return KZ_ENOMEM;
                rs->counts[r->kind]--;
                changed = 1;
                /* Later correlations pointing here must not keep a stale pointer. */
                for (uint32_t x = 0; x < rs->nrules; x++) {
                    struct kz_sigma_rule *q = rs->rules[x];
                    if (q->kind != KZ_SIGMA_CORRELATION) continue;
                    for (uint32_t j = 0; j < q->corr.nrefs; j++)
                        if (q->corr.rules[j] == r) q->corr.rules[j] = NULL;
                    for (uint32_t j = 0; j < q->corr.naliases; j++)
                        for (uint32_t k = 0; k < q->corr.aliases[j].nmaps; k++)
                            if (q->corr.aliases[j].rules[k] == r)
                                q->corr.aliases[j].rules[k] = NULL;
                }
                continue;
            }
            rs->rules[o++] = r;
        }
        rs->nrules = o;
    }
    return 0;
}

/* ---- names ---- */

const char *kz_sigma_kind_name(int kind) {
    static const char *const n[] = {"detection", "correlation", "filter"};
    return kind >= 0 && kind < KZ_SIGMA_KINDS ? n[kind] : "?";
}

const char *kz_sigma_level_name(int level) {
    static const char *const n[] = {"", "informational", "low", "medium", "high", "critical"};
    return level >= 0 && level <= KZ_LEVEL_CRITICAL ? n[level] : "";
}

const char *kz_sigma_corr_type_name(int type) {
    static const char *const n[] = {"event_count",      "value_count", "temporal",
                                    "temporal_ordered", "value_sum",   "value_avg",
                                    "value_percentile"};
    return type >= 0 && type <= KZ_CORR_VALUE_PERCENTILE ? n[type] : "?";
}
