/* fuzz_logsource.c - libFuzzer target: the input is a logsource mapping file (data/logsource.yml
 * format).
 *
 * Why: the mapping decides which events every Sigma rule sees; a site may ship its own (a log
 * it collects under another channel name), so kz_ls_load treats it as outside input: limits on
 * size, nodes, nesting, keys, entries, targets, ids and values, and a file:line error for
 * everything else. Whatever loads is then resolved against a handful of logsources (each
 * combination of product / category / service the resolver distinguishes) and every answer's
 * targets are walked, as the rule compiler would. */
#include "core/alloc.h"
#include "core/intern.h"
#include "sigma/logsource.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The intern table keeps the arrays it outgrows, on purpose (see src/core/intern.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:src/core/intern.c\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 256 * 1024) return 0;
    struct kz_ls_map *m = NULL;
    struct kz_err err = {0};
    if (kz_ls_load(&m, "fuzz.yml", (const char *)data, size, &err) != 0) return 0;
    static const char *const names[] = {NULL,       "windows", "linux", "process_creation",
                                        "security", "proxy",   "a",     "A"};
    const size_t nn = sizeof names / sizeof *names;
    uint32_t image = kz_intern("Image", 5);
    for (size_t p = 0; p < nn; p++)
        for (size_t c = 0; c < nn; c++)
            for (size_t s = 0; s < nn; s += 3) {
                struct kz_sigma_logsource ls = {
                    .product = names[p], .category = names[c], .service = names[s]};
                struct kz_ls_result r;
                kz_ls_resolve(m, &ls, &r);
                for (uint32_t i = 0; i < r.ntargets; i++) {
                    const struct kz_ls_target *t = r.targets[i];
                    (void)kz_ls_target_field(t, image);
                    (void)kz_ls_target_lacks(t, image);
                    (void)kz_ls_target_accepts(t, "Security", NULL, 4688);
                    for (uint32_t k = 0; k < t->nwhere; k++)
                        for (uint32_t v = 0; v < t->where[k].nvalues; v++)
                            (void)strlen(t->where[k].values[v]);
                    for (uint32_t k = 0; k < t->nvalmaps; k++)
                        for (uint32_t v = 0; v < t->valmaps[k].n; v++)
                            (void)(strlen(t->valmaps[k].from[v]) + strlen(t->valmaps[k].to[v]));
                }
                (void)strlen(r.reason);
            }
    kz_ls_free(m);
    return 0;
}
