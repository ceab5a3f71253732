/* customers.c - customers.csv parsing and glob matching; see customers.h. */
#include "customers.h"

#include "../core/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct row {
    char *pattern;
    char *customer;
};

struct kz_customers {
    struct row *rows;
    uint32_t n, cap;
};

static int fold(int c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == '/') return '\\';
    return c;
}

int kz_customers_glob(const char *p, const char *t) {
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            while (*p == '*') p++;
            if (!*p) return 1;
            star = p;
            resume = t;
        } else if (*p == '?' || (*p && fold((unsigned char)*p) == fold((unsigned char)*t))) {
            p++;
            t++;
        } else if (star) {
            p = star;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*') p++;
    return !*p;
}

/* One CSV field starting at *pos; quoted fields may hold commas, doubled quotes and newlines.
 * Returns 0, or KZ_EFORMAT / KZ_ELIMIT. */
static int field(const char *d, size_t len, size_t *pos, char *out, size_t *outlen) {
    size_t i = *pos, n = 0;
    if (i < len && d[i] == '"') {
        i++;
        for (;;) {
            if (i >= len) return KZ_EFORMAT; /* unterminated quote */
            if (d[i] == '"') {
                if (i + 1 < len && d[i + 1] == '"') {
                    i++;
                } else {
                    i++;
                    break;
                }
            }
            if (n >= KZ_CUSTOMERS_MAX_FIELD) return KZ_ELIMIT;
            out[n++] = d[i++];
        }
        if (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r') return KZ_EFORMAT;
    } else {
        while (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r') {
            if (d[i] == '"') return KZ_EFORMAT;
            if (n >= KZ_CUSTOMERS_MAX_FIELD) return KZ_ELIMIT;
            out[n++] = d[i++];
        }
    }
    out[n] = 0;
    *outlen = n;
    *pos = i;
    return 0;
}

void kz_customers_free(struct kz_customers *c) {
    if (!c) return;
    for (uint32_t i = 0; i < c->n; i++) {
        kz_free(c->rows[i].pattern);
        kz_free(c->rows[i].customer);
    }
    kz_free(c->rows);
    kz_free(c);
}

int kz_customers_parse(const char *d, size_t len, struct kz_customers **out,
                       struct kz_err *err) {
    *out = NULL;
    if (len > KZ_CUSTOMERS_MAX_BYTES)
        return kz_err_set(err, KZ_ELIMIT, "customers file larger than %u MiB",
                          KZ_CUSTOMERS_MAX_BYTES >> 20);
    struct kz_customers *c = kz_calloc(1, sizeof *c);
    char *a = kz_malloc(KZ_CUSTOMERS_MAX_FIELD + 1), *b = kz_malloc(KZ_CUSTOMERS_MAX_FIELD + 1);
    int rc = 0;
    if (!c || !a || !b) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    size_t pos = 0, line = 1;
    if (len >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3)) pos = 3; /* a UTF-8 BOM */
    while (pos < len) {
        size_t start_line = line;
        if (d[pos] == '\n' || d[pos] == '\r') { /* blank line */
            if (d[pos] == '\n') line++;
            pos++;
            continue;
        }
        size_t na = 0, nb = 0;
        int frc = field(d, len, &pos, a, &na);
        if (!frc && (pos >= len || d[pos] != ',')) frc = KZ_EFORMAT;
        if (!frc) {
            pos++;
            frc = field(d, len, &pos, b, &nb);
        }
        if (!frc && pos < len && d[pos] == ',') frc = KZ_EFORMAT; /* a third column */
        for (size_t k = 0; k < na; k++) /* newlines inside quotes */
            if (a[k] == '\n') line++;
        if (frc) {
            rc = kz_err_set(err, frc, "line %zu: %s", start_line,
                            frc == KZ_ELIMIT ? "field longer than 4096 bytes"
                                             : "expected `pattern,customer` (quote fields that "
                                               "hold commas or quotes)");
            goto out;
        }
        while (pos < len && (d[pos] == '\r' || d[pos] == '\n')) {
            if (d[pos] == '\n') line++;
            pos++;
        }
        if (start_line == 1 && !strcmp(a, "pattern") && !strcmp(b, "customer")) continue;
        if (!na || !nb) {
            rc = kz_err_set(err, KZ_EFORMAT, "line %zu: empty pattern or customer", start_line);
            goto out;
        }
        if (c->n >= KZ_CUSTOMERS_MAX_ROWS) {
            rc = kz_err_set(err, KZ_ELIMIT, "more than %u patterns", KZ_CUSTOMERS_MAX_ROWS);
            goto out;
        }
        if (c->n == c->cap) {
            uint32_t cap = c->cap ? c->cap * 2 : 64;
            struct row *v = kz_realloc(c->rows, cap * sizeof *v);
            if (!v) {
                rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                goto out;
            }
            c->rows = v;
            c->cap = cap;
        }
        struct row *r = &c->rows[c->n];
        r->pattern = kz_strndup(a, na);
        r->customer = kz_strndup(b, nb);
        if (!r->pattern || !r->customer) {
            kz_free(r->pattern);
            kz_free(r->customer);
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        c->n++;
    }
out:
    kz_free(a);
    kz_free(b);
    if (rc) {
        kz_customers_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int kz_customers_load(const char *path, struct kz_customers **out, struct kz_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > KZ_CUSTOMERS_MAX_BYTES) {
                rc = kz_err_set(err, KZ_ELIMIT, "%s: larger than %u MiB", path,
                                KZ_CUSTOMERS_MAX_BYTES >> 20);
                break;
            }
            cap = cap ? cap * 2 : 1 << 16;
            char *nd = kz_realloc(data, cap);
            if (!nd) {
                rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                break;
            }
            data = nd;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (!rc && ferror(f)) rc = kz_err_set(err, KZ_EIO, "%s: read error", path);
    fclose(f);
    if (!rc) {
        rc = kz_customers_parse(data, len, out, err);
        if (rc) kz_err_prefix(err, "%s: ", path);
    }
    kz_free(data);
    return rc;
}

uint32_t kz_customers_count(const struct kz_customers *c) {
    return c ? c->n : 0;
}

const char *kz_customers_match(const struct kz_customers *c, const char *path) {
    if (!c || !path) return NULL;
    for (uint32_t i = 0; i < c->n; i++)
        if (kz_customers_glob(c->rows[i].pattern, path)) return c->rows[i].customer;
    return NULL;
}
