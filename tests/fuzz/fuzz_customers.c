/* fuzz_customers.c - libFuzzer target: the input is a customers.csv.
 *
 * Why: the customer mapping comes from outside (a file an analyst was handed), and every path
 * scope reports goes through its globs. Each input is parsed; when it loads, every pattern is
 * matched against a few fixed paths and against every other pattern taken as text (a worst case
 * for the `*` backtracking), and a pattern always matches its own literal text when it has no
 * wildcard. A parse error must carry a message. */
#include "scope/customers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kz_customers *c = NULL;
    struct kz_err err = {0};
    int rc = kz_customers_parse((const char *)data, size, &c, &err);
    if (rc) {
        if (!err.msg[0]) abort();
        return 0;
    }
    static const char *paths[] = {"\\\\FS01\\projects\\Sakura\\2024\\a.docx",
                                  "E:\\CISData\\C00012\\r.dat", "", "*"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        (void)kz_customers_match(c, paths[i]);
    kz_customers_free(c);
    /* the glob on raw halves of the input: pattern | text */
    if (size > 1 && size < 8192) {
        char *buf = malloc(size + 1);
        if (!buf) return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        size_t cut = (size_t)data[0] % size;
        char *text = buf + cut;
        char save = *text;
        *text = 0;
        (void)kz_customers_glob(buf, text + 1 <= buf + size ? text + (save ? 1 : 0) : "");
        if (!strpbrk(buf, "*?") && !strchr(buf, '/') && !strchr(buf, '\\'))
            if (!kz_customers_glob(buf, buf)) abort();
        free(buf);
    }
    return 0;
}
