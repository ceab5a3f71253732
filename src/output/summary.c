/* summary.c - the scan summary: bounded counting tables and their human form; see summary.h. */
#include "summary.h"

#include "../core/alloc.h"
#include "../core/arena.h"
#include "../core/error.h"
#include "../sigma/rule.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- SipHash (Aumasson & Bernstein, 2012), written from the paper ---- */

static inline uint64_t rotl(uint64_t x, int b) {
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                                  \
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                                     \
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                                     \
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                                  \
    } while (0)

uint64_t kz_summary_siphash(const uint64_t key[2], const void *data, size_t n, int c_rounds,
                            int d_rounds) {
    const unsigned char *p = data;
    uint64_t v0 = key[0] ^ 0x736f6d6570736575ull, v1 = key[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = key[0] ^ 0x6c7967656e657261ull, v3 = key[1] ^ 0x7465646279746573ull;
    size_t words = n / 8;
    for (size_t w = 0; w < words; w++, p += 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--) /* little-endian, whatever the host */
            m = m << 8 | p[i];
        v3 ^= m;
        for (int r = 0; r < c_rounds; r++)
            SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)(n & 0xff) << 56;
    for (size_t i = 0; i < n % 8; i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    for (int r = 0; r < c_rounds; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d_rounds; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- bounded counting tables ---- */

struct entry {
    uint64_t hash;
    const char *key;   /* arena copy, cut to KZ_SUMMARY_KEY_MAX */
    const char *label; /* rules: title (arena copy); else NULL */
    uint64_t count;
    uint32_t key_len;
    uint8_t max_level;
};

struct table {
    struct entry *entries; /* in insertion order */
    uint32_t n, alloc;
    uint32_t *slots; /* open addressing, linear probing: entry index + 1, 0 empty */
    uint32_t nslots; /* power of two, kept at least twice n */
    uint64_t other;  /* findings whose name did not fit (table full) */
    uint64_t unnamed;
};

struct kz_summary {
    uint32_t max_keys;
    uint64_t sipkey[2]; /* random per summary: names cannot be chosen to collide */
    struct table tables[KZ_SUMMARY_TABLES];
    struct kz_arena arena; /* keys and labels */
    uint64_t total;
    uint64_t levels[KZ_LEVEL_CRITICAL + 1];
    uint64_t kinds[4]; /* sigma, correlation, ueba, anything else */
    struct kz_summary_run run;
};

static const char *const kind_names[] = {"sigma", "correlation", "ueba"};

static void random_key(uint64_t key[2]) {
    if (getrandom(key, 2 * sizeof key[0], GRND_NONBLOCK) == (ssize_t)(2 * sizeof key[0])) return;
    /* No entropy yet (early boot): still unpredictable enough from outside the machine. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
    key[1] = (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)key ^ (uint64_t)clock();
}

int kz_summary_new(struct kz_summary **out, uint32_t max_keys) {
    *out = NULL;
    struct kz_summary *s = kz_calloc(1, sizeof *s);
    if (!s) return KZ_ENOMEM;
    s->max_keys = max_keys ? max_keys : KZ_SUMMARY_MAX_KEYS;
    random_key(s->sipkey);
    /* Keys of three tables plus rule titles, each at most KEY_MAX + NUL, rounded to 8. */
    size_t per = (KZ_SUMMARY_KEY_MAX + 8) & ~(size_t)7;
    kz_arena_init(&s->arena, 64 << 10, (size_t)s->max_keys * per * (KZ_SUMMARY_TABLES + 1));
    *out = s;
    return 0;
}

void kz_summary_free(struct kz_summary *s) {
    if (!s) return;
    for (int t = 0; t < KZ_SUMMARY_TABLES; t++) {
        kz_free(s->tables[t].entries);
        kz_free(s->tables[t].slots);
    }
    kz_arena_free(&s->arena);
    kz_free(s);
}

/* Length of s cut to KZ_SUMMARY_KEY_MAX bytes without splitting a UTF-8 sequence. */
static size_t cut_len(const char *s) {
    size_t n = strnlen(s, KZ_SUMMARY_KEY_MAX + 1);
    if (n <= KZ_SUMMARY_KEY_MAX) return n;
    n = KZ_SUMMARY_KEY_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static int table_grow_slots(struct table *t) {
    uint32_t nslots = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = kz_calloc(nslots, sizeof *slots);
    if (!slots) return KZ_ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t h = (uint32_t)t->entries[i].hash & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = i + 1;
    }
    kz_free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* Finds or adds `key` and counts one finding of `level` under it. */
static int table_count(struct kz_summary *s, struct table *t, const char *key, const char *label,
                       int level) {
    if (!key) {
        t->unnamed++;
        return 0;
    }
    size_t len = cut_len(key);
    uint64_t hash = kz_summary_siphash(s->sipkey, key, len, 1, 3);
    uint32_t h = t->nslots ? (uint32_t)hash & (t->nslots - 1) : 0;
    if (t->nslots) {
        for (; t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
            struct entry *e = &t->entries[t->slots[h] - 1];
            if (e->hash == hash && e->key_len == len && !memcmp(e->key, key, len)) {
                e->count++;
                if (level > e->max_level) e->max_level = (uint8_t)level;
                return 0;
            }
        }
    }
    if (t->n >= s->max_keys) { /* full: the name is counted, not kept */
        t->other++;
        return 0;
    }
    if (t->n == t->alloc) {
        uint32_t alloc = t->alloc ? t->alloc * 2 : 64;
        if (alloc > s->max_keys) alloc = s->max_keys;
        struct entry *e = kz_realloc(t->entries, (size_t)alloc * sizeof *e);
        if (!e) goto nomem;
        t->entries = e;
        t->alloc = alloc;
    }
    if ((uint64_t)(t->n + 1) * 2 > t->nslots) {
        if (table_grow_slots(t)) goto nomem;
        h = (uint32_t)hash & (t->nslots - 1);
        while (t->slots[h])
            h = (h + 1) & (t->nslots - 1);
    }
    struct entry *e = &t->entries[t->n];
    e->key = kz_arena_strndup(&s->arena, key, len);
    e->label = label ? kz_arena_strndup(&s->arena, label, cut_len(label)) : NULL;
    if (!e->key || (label && !e->label)) goto nomem;
    e->hash = hash;
    e->key_len = (uint32_t)len;
    e->count = 1;
    e->max_level = (uint8_t)level;
    t->slots[h] = ++t->n;
    return 0;
nomem:
    t->other++;
    return KZ_ENOMEM;
}

static int clamp_level(int level) {
    return level < KZ_LEVEL_INFORMATIONAL || level > KZ_LEVEL_CRITICAL ? KZ_LEVEL_INFORMATIONAL
                                                                       : level;
}

int kz_summary_add(struct kz_summary *s, const struct kz_finding *f) {
    int level = clamp_level(f->level);
    s->total++;
    s->levels[level]++;
    int k = 3;
    for (int i = 0; i < 3 && f->kind; i++)
        if (!strcmp(f->kind, kind_names[i])) k = i;
    s->kinds[k]++;
    const char *title = f->title ? f->title : "";
    int rc =
        table_count(s, &s->tables[KZ_SUMMARY_RULES], f->rule_id ? f->rule_id : title, title, level);
    int rc2 = table_count(s, &s->tables[KZ_SUMMARY_HOSTS], f->host, NULL, level);
    int rc3 = table_count(s, &s->tables[KZ_SUMMARY_USERS], f->user, NULL, level);
    return rc ? rc : rc2 ? rc2 : rc3;
}

void kz_summary_set_run(struct kz_summary *s, const struct kz_summary_run *run) {
    s->run = *run;
}

uint64_t kz_summary_total(const struct kz_summary *s) {
    return s->total;
}

uint64_t kz_summary_level_count(const struct kz_summary *s, int level) {
    if (level == KZ_LEVEL_NONE) level = KZ_LEVEL_INFORMATIONAL;
    return level >= KZ_LEVEL_INFORMATIONAL && level <= KZ_LEVEL_CRITICAL ? s->levels[level] : 0;
}

uint64_t kz_summary_kind_count(const struct kz_summary *s, const char *kind) {
    for (int i = 0; i < 3; i++)
        if (kind && !strcmp(kind, kind_names[i])) return s->kinds[i];
    return s->kinds[3];
}

void kz_summary_table_stats(const struct kz_summary *s, int table, uint32_t *distinct,
                            uint64_t *other, uint64_t *unnamed) {
    const struct table *t = &s->tables[table >= 0 && table < KZ_SUMMARY_TABLES ? table : 0];
    if (distinct) *distinct = t->n;
    if (other) *other = t->other;
    if (unnamed) *unnamed = t->unnamed;
}

/* ---- top N ---- */

/* 1 when a ranks before b: more findings, then name (title for rules), then key. */
static int ranks_before(const struct kz_summary_entry *a, const struct kz_summary_entry *b) {
    if (a->count != b->count) return a->count > b->count;
    const char *na = a->label ? a->label : a->key, *nb = b->label ? b->label : b->key;
    int c = strcmp(na, nb);
    if (c) return c < 0;
    return strcmp(a->key, b->key) < 0;
}

/* The heap keeps the n best so far with the one ranking last at the root, so a newcomer only has
 * to beat the root. */
static void sift_down(struct kz_summary_entry *h, uint32_t n, uint32_t i) {
    for (;;) {
        uint32_t worst = i, l = 2 * i + 1, r = l + 1;
        if (l < n && ranks_before(&h[worst], &h[l])) worst = l;
        if (r < n && ranks_before(&h[worst], &h[r])) worst = r;
        if (worst == i) return;
        struct kz_summary_entry tmp = h[i];
        h[i] = h[worst];
        h[worst] = tmp;
        i = worst;
    }
}

uint32_t kz_summary_top(const struct kz_summary *s, int table, struct kz_summary_entry *out,
                        uint32_t n) {
    if (table < 0 || table >= KZ_SUMMARY_TABLES || !n) return 0;
    const struct table *t = &s->tables[table];
    uint32_t size = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct entry *e = &t->entries[i];
        struct kz_summary_entry c = {e->key, e->label, e->count, e->max_level};
        if (size < n) {
            out[size++] = c;
            if (size == n) /* heapify once full */
                for (uint32_t k = n / 2; k-- > 0;)
                    sift_down(out, n, k);
        } else if (ranks_before(&c, &out[0])) {
            out[0] = c;
            sift_down(out, n, 0);
        }
    }
    if (size < n) /* never filled: heapify what there is */
        for (uint32_t k = size / 2; k-- > 0;)
            sift_down(out, size, k);
    /* Heap sort: the root (ranking last) goes to the end, and so on. */
    for (uint32_t end = size; end > 1; end--) {
        struct kz_summary_entry tmp = out[0];
        out[0] = out[end - 1];
        out[end - 1] = tmp;
        sift_down(out, end - 1, 0);
    }
    return size;
}

/* ---- the human form ---- */

/* 1234567 -> "1,234,567" in out (at least 27 bytes); returns the length. */
static size_t fmt_count(char *out, uint64_t v) {
    char digits[20];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 20);
    size_t len = 0;
    while (n > 0) {
        out[len++] = digits[--n];
        if (n && n % 3 == 0) out[len++] = ',';
    }
    out[len] = 0;
    return len;
}

static void put_count(struct kz_buf *out, uint64_t v) {
    char tmp[32];
    kz_buf_append(out, tmp, fmt_count(tmp, v));
}

static void put_bytes(struct kz_buf *out, uint64_t bytes) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        put_count(out, bytes);
        kz_buf_puts(out, bytes == 1 ? " byte" : " bytes");
        return;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5)
        v /= 1024, u++;
    kz_buf_printf(out, "%.1f %s", v, units[u]);
}

static void put_seconds(struct kz_buf *out, double s) {
    if (s < 0) s = 0;
    if (s < 10)
        kz_buf_printf(out, "%.2f s", s);
    else if (s < 60)
        kz_buf_printf(out, "%.1f s", s);
    else {
        uint64_t whole = (uint64_t)(s + 0.5);
        if (whole >= 3600)
            kz_buf_printf(out, "%llu h %02llu min", (unsigned long long)(whole / 3600),
                          (unsigned long long)(whole / 60 % 60));
        else
            kz_buf_printf(out, "%llu min %02llu s", (unsigned long long)(whole / 60),
                          (unsigned long long)(whole % 60));
    }
}

static void sgr_on(struct kz_buf *out, int colour, const char *sgr) {
    if (colour && sgr && *sgr) kz_buf_printf(out, "\033[%sm", sgr);
}

static void sgr_off(struct kz_buf *out, int colour, const char *sgr) {
    if (colour && sgr && *sgr) kz_buf_puts(out, "\033[0m");
}

static void heading(struct kz_buf *out, int colour, const char *text) {
    sgr_on(out, colour, "1");
    kz_buf_puts(out, text);
    sgr_off(out, colour, "1");
}

/* "N findings" with the right plural. */
static void put_findings(struct kz_buf *out, uint64_t n) {
    put_count(out, n);
    kz_buf_puts(out, n == 1 ? " finding" : " findings");
}

#define NAME_COLS 60 /* a name in a top list */
#define ID_COLS 40   /* a rule id after its title */
#define TOP_MAX 1000 /* rows one list may print */

static void top_list(const struct kz_summary *s, struct kz_buf *out, int colour, int table,
                     uint32_t top_n) {
    static const char *const titles[] = {"Rules that fired most", "Hosts with most findings",
                                         "Users with most findings"};
    static const char *const what[] = {"rule", "host", "user"};
    const struct table *t = &s->tables[table];
    if (!t->n && !t->other) return;
    struct kz_summary_entry rows[TOP_MAX];
    uint32_t n = kz_summary_top(s, table, rows, top_n < TOP_MAX ? top_n : TOP_MAX);
    heading(out, colour, titles[table]);
    kz_buf_puts(out, ":\n");
    uint64_t shown = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct kz_summary_entry *e = &rows[i];
        char num[32];
        fmt_count(num, e->count);
        kz_buf_printf(out, "  %11s  ", num);
        const char *lv = kz_finding_level_name(e->max_level);
        sgr_on(out, colour, kz_finding_level_colour(e->max_level));
        kz_buf_puts(out, lv);
        sgr_off(out, colour, kz_finding_level_colour(e->max_level));
        for (size_t k = strlen(lv); k < 15; k++)
            kz_buf_putc(out, ' ');
        const char *name = e->label && *e->label ? e->label : e->key;
        kz_finding_put_visible(out, name, strlen(name), NAME_COLS);
        if (e->label && strcmp(e->label, e->key)) { /* a rule with an id: the id after it */
            kz_buf_puts(out, "  ");
            sgr_on(out, colour, "2");
            kz_finding_put_visible(out, e->key, strlen(e->key), ID_COLS);
            sgr_off(out, colour, "2");
        }
        kz_buf_putc(out, '\n');
        shown += e->count;
    }
    uint64_t kept = 0;
    for (uint32_t i = 0; i < t->n; i++)
        kept += t->entries[i].count;
    if (t->n > n) {
        kz_buf_puts(out, "  and ");
        put_count(out, t->n - n);
        kz_buf_printf(out, " more %s%s with ", what[table], t->n - n == 1 ? "" : "s");
        put_findings(out, kept - shown);
        kz_buf_putc(out, '\n');
    }
    if (t->other) {
        kz_buf_puts(out, "  ");
        put_findings(out, t->other);
        kz_buf_printf(out, " under further %ss (only ", what[table]);
        put_count(out, s->max_keys);
        kz_buf_printf(out, " distinct %ss are kept)\n", what[table]);
    }
    if (t->unnamed && table != KZ_SUMMARY_RULES) {
        kz_buf_puts(out, "  ");
        put_findings(out, t->unnamed);
        kz_buf_printf(out, " without a %s\n", what[table]);
    }
}

void kz_summary_format(const struct kz_summary *s, struct kz_buf *out, int colour, uint32_t top_n) {
    if (!top_n) top_n = KZ_SUMMARY_TOP;
    const struct kz_summary_run *r = &s->run;
    heading(out, colour, "Findings:");
    kz_buf_putc(out, ' ');
    if (!s->total) {
        kz_buf_puts(out, "none");
    } else {
        put_count(out, s->total);
        const char *sep = " (";
        for (int l = KZ_LEVEL_CRITICAL; l >= KZ_LEVEL_INFORMATIONAL; l--) {
            if (!s->levels[l]) continue;
            kz_buf_puts(out, sep);
            sep = ", ";
            put_count(out, s->levels[l]);
            kz_buf_putc(out, ' ');
            sgr_on(out, colour, kz_finding_level_colour(l));
            kz_buf_puts(out, kz_finding_level_name(l));
            sgr_off(out, colour, kz_finding_level_colour(l));
        }
        kz_buf_putc(out, ')');
    }
    kz_buf_putc(out, '\n');
    if (s->total && s->kinds[0] != s->total) { /* only worth a line when not all are Sigma */
        kz_buf_puts(out, "  by detector: ");
        const char *sep = "";
        for (int k = 0; k < 4; k++) {
            if (!s->kinds[k]) continue;
            kz_buf_puts(out, sep);
            sep = ", ";
            put_count(out, s->kinds[k]);
            kz_buf_putc(out, ' ');
            kz_buf_puts(out, k < 3 ? kind_names[k] : "other");
        }
        kz_buf_putc(out, '\n');
    }

    heading(out, colour, "Read:");
    kz_buf_putc(out, ' ');
    put_count(out, r->files);
    kz_buf_puts(out, r->files == 1 ? " file" : " files");
    if (r->files_failed) {
        kz_buf_puts(out, " (");
        put_count(out, r->files_failed);
        kz_buf_puts(out, " unreadable)");
    }
    kz_buf_puts(out, ", ");
    put_bytes(out, r->bytes);
    kz_buf_puts(out, ", ");
    put_count(out, r->records);
    kz_buf_puts(out, r->records == 1 ? " record" : " records");
    if (r->bad_records) {
        kz_buf_puts(out, " (");
        put_count(out, r->bad_records);
        kz_buf_puts(out, " damaged, skipped)");
    }
    kz_buf_puts(out, " in ");
    put_seconds(out, r->seconds);
    if (r->seconds > 0 && r->records) {
        kz_buf_puts(out, " (");
        put_count(out, (uint64_t)((double)r->records / r->seconds));
        kz_buf_puts(out, " records/s)");
    }
    kz_buf_putc(out, '\n');

    heading(out, colour, "Rules:");
    kz_buf_putc(out, ' ');
    put_count(out, r->rules_loaded);
    kz_buf_puts(out, " loaded");
    if (r->rules_failed) {
        kz_buf_puts(out, ", ");
        sgr_on(out, colour, "33");
        put_count(out, r->rules_failed);
        kz_buf_puts(out, " failed to load");
        sgr_off(out, colour, "33");
    }
    if (r->rules_skipped) {
        kz_buf_puts(out, ", ");
        put_count(out, r->rules_skipped);
        kz_buf_puts(out, " not run");
    }
    kz_buf_putc(out, '\n');

    for (int t = 0; t < KZ_SUMMARY_TABLES; t++)
        top_list(s, out, colour, t, top_n);
}

int kz_summary_print(const struct kz_summary *s, FILE *fp, int colour) {
    struct kz_buf b;
    kz_buf_init(&b, 16u << 20);
    kz_summary_format(s, &b, colour, 0);
    int rc = b.failed ? KZ_ENOMEM : 0;
    if (b.len && fwrite(b.data, 1, b.len, fp) != b.len) rc = KZ_EIO;
    if (fflush(fp)) rc = KZ_EIO;
    kz_buf_free(&b);
    return rc;
}

int kz_summary_colour(FILE *fp) {
    const char *no = getenv("NO_COLOR");
    return isatty(fileno(fp)) && !(no && *no);
}
