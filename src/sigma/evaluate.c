/* evaluate.c - exact evaluation of one rule variant against one event.
 *
 * The prefilter only says a rule might match; this file decides. Semantics (Sigma 2.x):
 * - string comparisons are case-insensitive unless |cased; folding is ASCII (Windows field values
 *   that rules compare are overwhelmingly ASCII, and ASCII folding cannot be made to disagree by
 *   locale); `*` and `?` are wildcards, `?` being one UTF-8 character;
 * - the values of an item are ORed, or ANDed with |all; an item holds when any instance of its
 *   field satisfies it (a name repeated in the event, like unnamed <Data>, is a list);
 * - a field that is absent satisfies only `null`, `|exists: false` and |neq;
 * - keyword items (no field) search every field of the event;
 * - |re searches (unanchored); i/m/s as flags; |cidr parses the field as an IPv4/IPv6 address;
 *   |lt.. compare numerically; |minute..|year take that part of a timestamp field;
 *   |fieldref compares with the value of another field of the same event.
 * Hostile events: every loop is bounded by the event's own size; PCRE2 runs with match and depth
 * limits so a pathological field cannot stall the scan. */
#include "match_int.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/timeutil.h"

#include <arpa/inet.h>
#include <emmintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NONE UINT32_MAX
#define PCRE_MATCH_LIMIT 200000u /* backtracking steps per regex per field */
#define PCRE_DEPTH_LIMIT 10000u

static const unsigned char lower_table[256] = {
#define L(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define R4(b) L(b), L(b + 1), L(b + 2), L(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef L
};

/* ---- the field index ---- */

int match_index_event(struct kz_sigma_scratch *s, const struct kz_event *ev) {
    s->ev = ev;
    kz_arena_reset(&s->arena);
    if (++s->epoch == 0) { /* wrapped: forget every stamp */
        memset(s->slot_epoch, 0, s->slots_cap * sizeof *s->slot_epoch);
        if (s->ip_epoch) memset(s->ip_epoch, 0, s->fields_cap * sizeof *s->ip_epoch);
        s->epoch = 1;
    }
    if (ev->nfields > s->fields_cap) {
        uint32_t cap = ev->nfields + 64;
        uint32_t *next = kz_realloc(s->next, cap * sizeof *next);
        if (!next) return KZ_ENOMEM;
        s->next = next;
        char **lower = kz_realloc(s->lower, cap * sizeof *lower);
        if (!lower) return KZ_ENOMEM;
        s->lower = lower;
        uint32_t *ip_epoch = kz_realloc(s->ip_epoch, cap * sizeof *ip_epoch);
        if (!ip_epoch) return KZ_ENOMEM;
        s->ip_epoch = ip_epoch;
        memset(ip_epoch + s->fields_cap, 0, (cap - s->fields_cap) * sizeof *ip_epoch);
        uint8_t *ip_family = kz_realloc(s->ip_family, cap);
        if (!ip_family) return KZ_ENOMEM;
        s->ip_family = ip_family;
        unsigned char(*ip_addr)[16] = kz_realloc(s->ip_addr, cap * sizeof *ip_addr);
        if (!ip_addr) return KZ_ENOMEM;
        s->ip_addr = ip_addr;
        s->fields_cap = cap;
    }
    uint32_t names = kz_intern_count() + 1;
    if (names > s->slots_cap) {
        uint32_t cap = names + 1024;
        uint32_t *ep = kz_realloc(s->slot_epoch, cap * sizeof *ep);
        if (!ep) return KZ_ENOMEM;
        memset(ep + s->slots_cap, 0, (cap - s->slots_cap) * sizeof *ep);
        s->slot_epoch = ep;
        uint32_t *first = kz_realloc(s->slot_first, cap * sizeof *first);
        if (!first) return KZ_ENOMEM;
        s->slot_first = first;
        s->slots_cap = cap;
    }
    /* Walk backwards so each name's chain runs in document order. */
    for (uint32_t i = ev->nfields; i-- > 0;) {
        uint32_t id = ev->fields[i].name;
        s->lower[i] = NULL;
        if (id >= s->slots_cap) { /* interned after we sized the table: not referenced by rules */
            s->next[i] = NONE;
            continue;
        }
        s->next[i] = s->slot_epoch[id] == s->epoch ? s->slot_first[id] : NONE;
        s->slot_first[id] = i;
        s->slot_epoch[id] = s->epoch;
    }
    return 0;
}

static uint32_t field_first(const struct kz_sigma_scratch *s, uint32_t id) {
    if (id >= s->slots_cap || s->slot_epoch[id] != s->epoch) return NONE;
    return s->slot_first[id];
}

/* The ASCII-lowercased text of field i, made once per event; NULL when out of memory. */
static const char *field_lower(struct kz_sigma_scratch *s, uint32_t i) {
    if (s->lower[i]) return s->lower[i];
    const struct kz_field *f = &s->ev->fields[i];
    char *d = kz_arena_alloc(&s->arena, f->len + 1);
    if (!d) return NULL;
    for (uint32_t k = 0; k < f->len; k++)
        d[k] = (char)lower_table[(unsigned char)f->val[k]];
    d[f->len] = 0;
    s->lower[i] = d;
    return d;
}

static uint32_t rename_field(const struct match_variant *v, uint32_t id) {
    for (uint32_t i = 0; i < v->nrenames; i++)
        if (v->rename_from[i] == id) return v->rename_to[i];
    return id;
}

/* ---- strings ---- */

/* Does text (n bytes) equal the lowercase pattern lit, ignoring ASCII case? */
static int eq_fold(const char *text, const char *lit, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (lower_table[(unsigned char)text[i]] != (unsigned char)lit[i]) return 0;
    return 1;
}

/* First occurrence of needle (m bytes) in text (n bytes), or NULL. Rules search short needles
 * in short values millions of times, where a general-purpose memmem spends more time setting up
 * than searching; this compares the needle's first and last bytes at 16 positions at once (SSE2,
 * part of x86-64) and only then the middle. */
static const char *find(const char *text, size_t n, const char *needle, size_t m) {
    if (m == 0) return text;
    if (m > n) return NULL;
    if (m == 1) return memchr(text, needle[0], n);
    const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[m - 1]);
    size_t i = 0;
    for (; i + m + 15 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(text + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(text + i + m - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(first, a), _mm_cmpeq_epi8(last, b)));
        while (mask) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (!memcmp(text + i + bit + 1, needle + 1, m - 2)) return text + i + bit;
            mask &= mask - 1;
        }
    }
    for (; i + m <= n; i++)
        if (text[i] == needle[0] && !memcmp(text + i + 1, needle + 1, m - 1)) return text + i;
    return NULL;
}

static size_t utf8_step(const char *t, size_t pos, size_t n) {
    unsigned char c = (unsigned char)t[pos];
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return pos + k > n ? n - pos : k;
}

/* Glob match of pieces over text (already folded when the pattern is case-insensitive). Greedy
 * with one backtrack point (the last `*`), so the cost is at most pieces x text. */
static int glob_match(const struct kz_sigma_piece *pc, uint32_t np, const char *t, size_t n) {
    uint32_t i = 0, star = NONE;
    size_t pos = 0, star_pos = 0;
    for (;;) {
        if (i == np) {
            if (pos == n || (np && pc[np - 1].kind == KZ_PIECE_STAR)) return 1;
            goto back;
        }
        const struct kz_sigma_piece *p = &pc[i];
        if (p->kind == KZ_PIECE_STAR) {
            star = i++;
            star_pos = pos;
            continue;
        }
        if (p->kind == KZ_PIECE_ONE) {
            if (pos >= n) goto back;
            pos += utf8_step(t, pos, n);
            i++;
            continue;
        }
        if (star != NONE && i == star + 1) {
            /* First literal after a star: jump to its next occurrence. */
            const char *q = find(t + pos, n - pos, p->text, p->len);
            if (!q) return 0;
            star_pos = (size_t)(q - t);
            pos = star_pos + p->len;
            i++;
            continue;
        }
        if (n - pos >= p->len && !memcmp(t + pos, p->text, p->len)) {
            pos += p->len;
            i++;
            continue;
        }
    back:
        if (star == NONE || star_pos >= n) return 0;
        pos = ++star_pos;
        i = star + 1;
    }
}

/* Does field i match one pattern? */
static int pattern_match(struct kz_sigma_scratch *s, uint32_t i, const struct kz_sigma_pattern *p) {
    const struct kz_field *f = &s->ev->fields[i];
    const char *t = f->val;
    size_t n = f->len, len = p->len;
    switch (p->match) {
    case KZ_MATCH_ANY:
        return 1;
    case KZ_MATCH_EXACT:
        return n == len && (p->cased ? !memcmp(t, p->text, len) : eq_fold(t, p->text, len));
    case KZ_MATCH_STARTSWITH:
        return n >= len && (p->cased ? !memcmp(t, p->text, len) : eq_fold(t, p->text, len));
    case KZ_MATCH_ENDSWITH:
        return n >= len && (p->cased ? !memcmp(t + n - len, p->text, len)
                                     : eq_fold(t + n - len, p->text, len));
    case KZ_MATCH_CONTAINS:
        if (n < len) return 0;
        if (!p->cased && !(t = field_lower(s, i))) return 0;
        return find(t, n, p->text, len) != NULL;
    case KZ_MATCH_GLOB:
        if (!p->cased && !(t = field_lower(s, i))) return 0;
        return glob_match(p->pieces, p->npieces, t, n);
    }
    return 0;
}

/* ---- numbers, times, addresses ---- */

/* The field as a number: decimal, or 0x hex (Windows writes many ids that way). */
static int field_number(const struct kz_field *f, double *out) {
    const char *t = f->val;
    while (*t == ' ')
        t++;
    if (!*t) return 0;
    char *end;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        *out = (double)strtoull(t + 2, &end, 16);
    else
        *out = strtod(t, &end);
    while (*end == ' ')
        end++;
    return *end == 0 && !isnan(*out);
}

/* The part of a timestamp field a time modifier names; -1 when the field is not a time. */
static int64_t field_time_part(const struct kz_field *f, uint64_t mods) {
    kz_time t;
    if (kz_time_parse(f->val, f->len, &t)) return -1;
    int64_t secs = t / KZ_TICKS_PER_SEC - (t % KZ_TICKS_PER_SEC < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    kz_civil_from_days(days, &y, &m, &d);
    if (mods & KZ_SM(MINUTE)) return sod / 60 % 60;
    if (mods & KZ_SM(HOUR)) return sod / 3600;
    if (mods & KZ_SM(DAY)) return d;
    if (mods & KZ_SM(MONTH)) return m;
    if (mods & KZ_SM(YEAR)) return y;
    /* week: ISO 8601 week number */
    int64_t wday = ((days % 7) + 7 + 3) % 7; /* 0 = Monday (1970-01-01 was a Thursday) */
    int64_t yday = days - kz_days_from_civil(y, 1, 1);
    int64_t week = (yday - wday + 10) / 7;
    if (week < 1) {
        int64_t py = y - 1;
        int64_t pdays = kz_days_from_civil(y, 1, 1) - kz_days_from_civil(py, 1, 1);
        week = (yday + pdays - wday + 10) / 7;
    } else if (week == 53) {
        int64_t ydays = kz_days_from_civil(y + 1, 1, 1) - kz_days_from_civil(y, 1, 1);
        if (yday - wday + 3 >= ydays) week = 1; /* Thursday of this week is next year */
    }
    return week;
}

static int compare(double a, uint64_t mods, double b) {
    if (mods & KZ_SM(LT)) return a < b;
    if (mods & KZ_SM(LTE)) return a <= b;
    if (mods & KZ_SM(GT)) return a > b;
    if (mods & KZ_SM(GTE)) return a >= b;
    return a == b;
}

/* The field as an IP address: 4 or 6 into *family (addr holds 4 or 16 bytes), 0 when it is not
 * one. Parsed once per field however many networks an item lists. */
static int cidr_parse(const struct kz_field *f, unsigned char addr[16]) {
    if (f->len == 0 || f->len > MATCH_MAX_CIDR_TEXT) return 0;
    if (inet_pton(AF_INET, f->val, addr) == 1) return 4;
    if (inet_pton(AF_INET6, f->val, addr) == 1) return 6;
    return 0;
}

/* Is the parsed address inside network v? */
static int cidr_in(const unsigned char *addr, int family, const struct kz_sigma_value *v) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == 6 && v->family == 4 && !memcmp(addr, mapped, 12)) {
        addr += 12; /* ::ffff:a.b.c.d is an IPv4 address */
        family = 4;
    }
    if (family != v->family) return 0;
    unsigned bits = v->prefix, full = bits / 8, rest = bits % 8;
    if (memcmp(addr, v->addr, full)) return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((addr[full] & mask) != (v->addr[full] & mask)) return 0;
    }
    return 1;
}

/* Field i read as an IP address, parsed once per event however many items and networks test
 * it: its family (0 when it is not an address), the bytes in *addr. */
static int field_ip(struct kz_sigma_scratch *s, uint32_t i, const unsigned char **addr) {
    if (s->ip_epoch[i] != s->epoch) {
        s->ip_family[i] = (uint8_t)cidr_parse(&s->ev->fields[i], s->ip_addr[i]);
        s->ip_epoch[i] = s->epoch;
    }
    *addr = s->ip_addr[i];
    return s->ip_family[i];
}

static int cidr_match(struct kz_sigma_scratch *s, uint32_t i, const struct kz_sigma_value *v) {
    const unsigned char *addr;
    int family = field_ip(s, i, &addr);
    return family && cidr_in(addr, family, v);
}

/* ---- regexes ---- */

static int regex_cmp(const void *a, const void *b) {
    const struct kz_sigma_value *x = ((const struct match_regex *)a)->value;
    const struct kz_sigma_value *y = ((const struct match_regex *)b)->value;
    return x < y ? -1 : x > y;
}

static int has_non_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 1;
    return 0;
}

int match_regex_compile(struct match_regex *r, const struct kz_sigma_item *it,
                        const struct kz_sigma_value *v, struct kz_err *err) {
    memset(r, 0, sizeof *r);
    r->value = v;
    uint64_t m = it->mods;
    unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
    if (m & KZ_SM(RE_I)) flags |= HS_FLAG_CASELESS;
    if (m & KZ_SM(RE_M)) flags |= HS_FLAG_MULTILINE;
    if (m & KZ_SM(RE_S)) flags |= HS_FLAG_DOTALL;
    r->hs_flags = flags;
    /* Vectorscan has byte semantics: expressions with non-ASCII characters stay with PCRE2 (UTF
     * mode), where `.` is one character. */
    atomic_init(&r->hs_state, has_non_ascii(v->raw, v->raw_len) ? REGEX_HS_REFUSED : REGEX_HS_UNTRIED);
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (m & KZ_SM(RE_I)) opts |= PCRE2_CASELESS;
    if (m & KZ_SM(RE_M)) opts |= PCRE2_MULTILINE;
    if (m & KZ_SM(RE_S)) opts |= PCRE2_DOTALL;
    int ec;
    PCRE2_SIZE eo;
    r->pcre = pcre2_compile((PCRE2_SPTR)v->raw, v->raw_len, opts, &ec, &eo, NULL);
    if (!r->pcre) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return kz_err_set(err, KZ_EUNSUPP, "regular expression `%.80s` at offset %zu: %s", v->raw,
                          (size_t)eo, (const char *)msg);
    }
    pcre2_jit_compile(r->pcre, PCRE2_JIT_COMPLETE); /* best effort: the interpreter also works */
    return 0;
}

void match_regex_free(struct match_regex *r) {
    if (r->hs) hs_free_database(r->hs);
    if (r->pcre) pcre2_code_free(r->pcre);
    r->hs = NULL;
    r->pcre = NULL;
}

/* The regex's Vectorscan database, compiled on first use (by whichever thread gets there first),
 * or NULL when Vectorscan does not take the expression. */
static hs_database_t *regex_hs(const struct kz_sigma_engine *ce, struct match_regex *r) {
    int st = atomic_load_explicit(&r->hs_state, memory_order_acquire);
    if (st == REGEX_HS_READY) return r->hs;
    if (st == REGEX_HS_REFUSED || kz_sigma_vectorscan_untrusted()) return NULL;
    struct kz_sigma_engine *e = (struct kz_sigma_engine *)ce; /* the lock is the mutable part */
    pthread_mutex_lock(&e->regex_lock);
    if (atomic_load_explicit(&r->hs_state, memory_order_relaxed) == REGEX_HS_UNTRIED) {
        hs_compile_error_t *ce_err = NULL;
        hs_database_t *db = NULL;
        /* An earlier run's database for the same expression, when the cache has one. */
        int cached = 0;
        if (e->cache_dir) {
            dbcache_key_begin(&e->cache_key, "re", HS_MODE_BLOCK);
            dbcache_key_expr(&e->cache_key, r->value->raw, strlen(r->value->raw), r->hs_flags, 0);
            cached = (db = dbcache_load(e->cache_dir, &e->cache_key)) != NULL;
        }
        if (cached || hs_compile(r->value->raw, r->hs_flags, HS_MODE_BLOCK, NULL, &db, &ce_err) ==
                          HS_SUCCESS) {
            if (cached) {
                e->stats.db_cached++;
            } else {
                e->stats.db_compiled++;
                if (e->cache_dir) dbcache_store(e->cache_dir, &e->cache_key, db);
            }
            r->hs = db;
            atomic_store_explicit(&r->hs_state, REGEX_HS_READY, memory_order_release);
        } else {
            hs_free_compile_error(ce_err);
            atomic_store_explicit(&r->hs_state, REGEX_HS_REFUSED, memory_order_release);
        }
    }
    pthread_mutex_unlock(&e->regex_lock);
    return atomic_load_explicit(&r->hs_state, memory_order_acquire) == REGEX_HS_READY ? r->hs
                                                                                      : NULL;
}

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx) {
    return 1; /* one match decides: stop the scan */
}

static int regex_match(struct kz_sigma_scratch *s, const struct kz_sigma_value *v,
                       const struct kz_field *f) {
    const struct kz_sigma_engine *e = s->e;
    struct match_regex key = {.value = v};
    struct match_regex *r = bsearch(&key, e->regex, e->nregex, sizeof *e->regex, regex_cmp);
    if (!r) return 0;
    hs_database_t *db = regex_hs(e, r);
    if (db) {
        size_t idx = (size_t)(r - e->regex);
        /* This thread's scratch must fit the database: grow it the first time. */
        if (!s->hs_fitted[idx]) {
            if (hs_alloc_scratch(db, &s->hs) == HS_SUCCESS) s->hs_fitted[idx] = 1;
        }
        if (s->hs_fitted[idx]) {
            hs_error_t rc = match_hs_scan(db, f->val, f->len, s->hs, on_hs_match, NULL);
            if (rc == HS_SCAN_TERMINATED) return 1;
            if (rc == HS_SUCCESS) return 0;
            /* any other answer is no answer: PCRE2 decides */
        }
    }
    return pcre2_match(r->pcre, (PCRE2_SPTR)f->val, f->len, 0, 0, s->md, s->mctx) >= 0;
}

void match_regex_sort(struct kz_sigma_engine *e) {
    if (e->nregex) qsort(e->regex, e->nregex, sizeof *e->regex, regex_cmp);
}

/* ---- values and items ---- */

/* The log writes the same information differently (logsource `values:`, e.g. 4688's
 * MandatoryLabel S-1-16-12288 for Sysmon's IntegrityLevel High): does the field hold the source
 * form of the rule's value? Exact, case-insensitive. */
static int valmap_match(const struct match_variant *var, const struct kz_sigma_item *it,
                        const struct kz_sigma_value *v, const struct kz_field *f) {
    const struct kz_ls_target *tg = var->target;
    if (!tg || !tg->nvalmaps || !v->raw) return 0;
    for (uint32_t m = 0; m < tg->nvalmaps; m++) {
        const struct kz_ls_valmap *vm = &tg->valmaps[m];
        if (vm->field != it->field) continue;
        for (uint32_t k = 0; k < vm->n; k++)
            if (!strcasecmp(vm->from[k], v->raw) && !strcasecmp(vm->to[k], f->val)) return 1;
    }
    return 0;
}

/* Does field i satisfy one value of item it? */
static int value_match(struct kz_sigma_scratch *s, const struct match_variant *var,
                       const struct kz_sigma_item *it, const struct kz_sigma_value *v, uint32_t i) {
    const struct kz_field *f = &s->ev->fields[i];
    uint64_t m = it->mods;
    switch (v->type) {
    case KZ_SV_REGEX:
        return regex_match(s, v, f);
    case KZ_SV_CIDR:
        return cidr_match(s, i, v);
    case KZ_SV_FIELDREF: {
        uint32_t j = field_first(s, rename_field(var, v->field));
        if (j == NONE) return 0;
        const struct kz_field *g = &s->ev->fields[j];
        /* The referenced value is the literal; fold both sides unless |cased. */
        const char *a = f->val, *b = g->val;
        if (!(m & KZ_SM(CASED)) && (!(a = field_lower(s, i)) || !(b = field_lower(s, j))))
            return 0;
        size_t n = f->len, k = g->len;
        if (m & KZ_SM(CONTAINS)) return n >= k && find(a, n, b, k) != NULL;
        if (m & KZ_SM(STARTSWITH)) return n >= k && !memcmp(a, b, k);
        if (m & KZ_SM(ENDSWITH)) return n >= k && !memcmp(a + n - k, b, k);
        return n == k && !memcmp(a, b, k);
    }
    case KZ_SV_NUMBER:
        if (m & KZ_SM_TIMEPART) {
            int64_t part = field_time_part(f, m);
            return part >= 0 && compare((double)part, m, v->num);
        }
        if (m & KZ_SM_COMPARE) {
            double x;
            return field_number(f, &x) && compare(x, m, v->num);
        }
        break; /* a plain number compares as text */
    default:
        break;
    }
    for (uint32_t k = 0; k < v->npatterns; k++)
        if (pattern_match(s, i, &v->patterns[k])) return 1;
    return valmap_match(var, it, v, f);
}

/* Does any instance of the field (first index i) satisfy value v? */
static int value_any_instance(struct kz_sigma_scratch *s, const struct match_variant *var,
                              const struct kz_sigma_item *it, const struct kz_sigma_value *v,
                              uint32_t i) {
    if (v->type == KZ_SV_NULL) {
        for (uint32_t k = i; k != NONE; k = s->next[k])
            if (s->ev->fields[k].len) return 0;
        return 1; /* absent, or every instance empty */
    }
    for (uint32_t k = i; k != NONE; k = s->next[k])
        if (value_match(s, var, it, v, k)) return 1;
    return 0;
}

/* A keyword value: does any field of the event contain it? */
static int keyword_value(struct kz_sigma_scratch *s, const struct match_variant *var,
                         const struct kz_sigma_item *it, const struct kz_sigma_value *v) {
    for (uint32_t i = 0; i < s->ev->nfields; i++)
        if (value_match(s, var, it, v, i)) return 1;
    return 0;
}

/* Does the variant's log source rewrite values of this field (logsource `values:`)? */
static int field_valmapped(const struct match_variant *var, uint32_t field) {
    const struct kz_ls_target *tg = var->target;
    if (!tg) return 0;
    for (uint32_t m = 0; m < tg->nvalmaps; m++)
        if (tg->valmaps[m].field == field) return 1;
    return 0;
}

/* An item with a set (valueset.c), field present (first): its values ORed over every instance. */
static int set_match(struct kz_sigma_scratch *s, const struct kz_sigma_item *it,
                     const struct match_set *st, uint32_t first) {
    for (uint32_t k = first; k != NONE; k = s->next[k]) {
        const struct kz_field *f = &s->ev->fields[k];
        if (st->cidr) {
            const unsigned char *addr;
            int family = field_ip(s, k, &addr);
            if (family && match_set_cidr(st, family, addr)) return 1;
            continue;
        }
        const char *t = field_lower(s, k);
        if (t && match_set_strings(st, t, f->len, find)) return 1;
    }
    return 0;
}

static int item_match(struct kz_sigma_scratch *s, const struct match_variant *var,
                      const struct kz_sigma_item *it) {
    uint64_t m = it->mods;
    int all = (m & KZ_SM(ALL)) != 0;
    if (!it->field) {
        for (uint32_t k = 0; k < it->nvalues; k++) {
            int hit = keyword_value(s, var, it, &it->values[k]);
            if (hit != all) return hit;
        }
        return all;
    }
    uint32_t first = field_first(s, rename_field(var, it->field));
    if (it->nvalues >= MATCH_SET_MIN_VALUES || (it->nvalues >= 2 && (m & KZ_SM(CIDR)))) {
        const struct match_set *st = match_set_find(s->e, it);
        if (st && (st->cidr || !field_valmapped(var, it->field)))
            return first != NONE && set_match(s, it, st, first);
    }
    if (m & KZ_SM(EXISTS)) return it->nvalues && it->values[0].boolean == (first != NONE);
    int neq = (m & KZ_SM(NEQ)) != 0;
    for (uint32_t k = 0; k < it->nvalues; k++) {
        const struct kz_sigma_value *v = &it->values[k];
        int hit;
        if (first == NONE && v->type != KZ_SV_NULL)
            hit = neq; /* an absent field equals nothing, so it differs from everything */
        else
            hit = value_any_instance(s, var, it, v, first) != neq;
        if (hit != all) return hit;
    }
    return all;
}

static int selection_match(struct kz_sigma_scratch *s, const struct match_variant *var,
                           const struct kz_sigma_selection *sel) {
    for (uint32_t g = 0; g < sel->ngroups; g++) {
        const struct kz_sigma_group *grp = &sel->groups[g];
        uint32_t k = 0;
        while (k < grp->nitems && item_match(s, var, &grp->items[k]))
            k++;
        if (k == grp->nitems) return 1;
    }
    return 0;
}

static int cond_eval(struct kz_sigma_scratch *s, const struct match_variant *var,
                     const struct kz_sigma_detection *det, const struct kz_sigma_cond *c) {
    switch (c->op) {
    case KZ_COND_SEL:
        return selection_match(s, var, &det->selections[c->sel]);
    case KZ_COND_NOT:
        return !cond_eval(s, var, det, c->kids[0]);
    case KZ_COND_AND:
        for (uint32_t k = 0; k < c->nkids; k++)
            if (!cond_eval(s, var, det, c->kids[k])) return 0;
        return 1;
    case KZ_COND_OR:
        for (uint32_t k = 0; k < c->nkids; k++)
            if (cond_eval(s, var, det, c->kids[k])) return 1;
        return 0;
    }
    return 0;
}

int match_eval(struct kz_sigma_scratch *s, const struct match_variant *v,
               const struct kz_sigma_detection *det) {
    return det->cond && cond_eval(s, v, det, det->cond);
}
