/* fuzz_sigma_load.c - libFuzzer target: the input is a Sigma rule file, or a condition.
 *
 * Why: rule files come from outside (the SigmaHQ repository, colleagues, downloads), and the
 * loader turns them into the structures the matcher trusts. The whole path is driven: libyaml
 * events, the tree with its limits and alias copies, collection merges, every modifier's value
 * pre-processing (windash, UTF-16, base64, CIDR...), correlations, filters and linking. Inputs
 * starting with `?` are a condition instead (the rest of the input), parsed against a fixed set of
 * selections and printed back, to reach the condition grammar without YAML in the way. */
#include "core/alloc.h"
#include "sigma/rule.h"

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
    if (size > 0 && data[0] == '?') {
        static struct kz_sigma_selection sels[] = {
            {.name = "sel1"}, {.name = "sel2"}, {.name = "filter_a"}, {.name = "_hidden"}};
        struct kz_sigma_detection det = {.nselections = 4, .selections = sels};
        char *text = kz_malloc(size);
        if (!text) return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = 0;
        struct kz_arena a;
        kz_arena_init(&a, 4096, 64 << 20);
        struct kz_sigma_cond *c;
        struct kz_err err = {0};
        if (kz_sigma_cond_parse(&a, &det, text, &c, &err) == 0) {
            char out[512];
            kz_sigma_cond_format(c, &det, out, sizeof out);
        }
        kz_arena_free(&a);
        kz_free(text);
        return 0;
    }
    struct kz_sigma_ruleset rs;
    struct kz_err err = {0};
    kz_sigma_ruleset_init(&rs);
    if (kz_sigma_load_buffer(&rs, "fuzz.yml", (const char *)data, size, &err) == 0)
        kz_sigma_ruleset_link(&rs);
    /* Walk what loaded, as a matcher would. */
    char out[256];
    for (uint32_t i = 0; i < rs.nrules; i++) {
        const struct kz_sigma_rule *r = rs.rules[i];
        if (r->detection.cond)
            kz_sigma_cond_format(r->detection.cond, &r->detection, out, sizeof out);
    }
    kz_sigma_ruleset_free(&rs);
    return 0;
}
