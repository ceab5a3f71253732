/* customers.h - maps file and record paths to the customers they belong to (customers.csv).
 *
 * customers.csv is `pattern,customer` with a header line (fields quoted as RFC 4180 says when they
 * hold a comma or a quote): glob patterns on UNC or local paths, `*` for any run of characters
 * (separators included), `?` for one; matching ignores ASCII case and treats `/` and `\` alike,
 * because Windows paths do. The first pattern that matches wins. The file is outside input: it is
 * bounded (KZ_CUSTOMERS_MAX_*) and a bad line is reported with its number, never a crash.
 * Ownership: the mapping owns its strings; kz_customers_match returns pointers into it. */
#ifndef KZ_CUSTOMERS_H
#define KZ_CUSTOMERS_H

#include "../core/error.h"

#include <stddef.h>
#include <stdint.h>

#define KZ_CUSTOMERS_MAX_BYTES (64u << 20) /* file size */
#define KZ_CUSTOMERS_MAX_ROWS 1000000u
#define KZ_CUSTOMERS_MAX_FIELD 4096u       /* bytes in one pattern or name */

struct kz_customers;

/* Parses a customers.csv held in memory. A first line `pattern,customer` is taken as the header.
 * Returns 0, KZ_EFORMAT (err names the line) or KZ_ELIMIT / KZ_ENOMEM. */
int kz_customers_parse(const char *data, size_t len, struct kz_customers **out,
                       struct kz_err *err);
/* Reads and parses the file at path (KZ_EIO when it cannot be read). */
int kz_customers_load(const char *path, struct kz_customers **out, struct kz_err *err);
void kz_customers_free(struct kz_customers *c);
uint32_t kz_customers_count(const struct kz_customers *c);

/* The customer of path, or NULL when no pattern matches. */
const char *kz_customers_match(const struct kz_customers *c, const char *path);

/* The glob itself (exposed for tests): 1 when text matches pattern as described above. Bounded:
 * linear backtracking on the last `*`, so no input makes it exponential. */
int kz_customers_glob(const char *pattern, const char *text);

#endif
