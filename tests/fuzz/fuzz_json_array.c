/* fuzz_json_array.c - libFuzzer target: the JSON array filter (src/input/jsonl.c,
 * kz_jsonl_array_filter) that cuts `[ {...}, {...} ]` into one element a line as it streams.
 *
 * Why: the filter rewrites attacker bytes in place, in pieces cut anywhere. Checks: applied to the
 * whole input and to pieces (the first byte picks their size) it gives the same bytes; it only
 * ever turns `[` `]` `,` CR LF into a blank or a line end; and for a document the project's own
 * JSON parser accepts as an array of objects, every non-blank line of the result parses as one of
 * its elements, and their count is the array's length.
 */
#include "core/arena.h"
#include "core/json.h"
#include "input/jsonl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 256 * 1024) return 0;
    size_t step = (size_t)data[0] + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *a = malloc(n + 1), *b = malloc(n + 1);
    if (!a || !b) abort();
    memcpy(a, in, n);
    memcpy(b, in, n);
    struct kz_jsonl_array sa = {0}, sb = {0};
    kz_jsonl_array_filter(&sa, a, n);
    for (size_t i = 0; i < n; i += step)
        kz_jsonl_array_filter(&sb, b + i, n - i < step ? n - i : step);
    if (memcmp(a, b, n)) abort();
    for (size_t i = 0; i < n; i++)
        if (a[i] != in[i] && !(strchr("[],\r\n", in[i]) && (a[i] == ' ' || a[i] == '\n'))) abort();
    kz_jsonl_array_sniff(in, n);

    static struct kz_json_parser p;
    static struct kz_arena arena;
    static int ready;
    if (!ready) {
        struct kz_json_limits lim = {.max_input = 1 << 20, .max_depth = 32, .max_nodes = 1u << 16};
        if (kz_json_parser_init(&p, &lim)) abort();
        kz_arena_init(&arena, 64 * 1024, 64 << 20);
        ready = 1;
    }
    kz_arena_reset(&arena);
    struct kz_json_doc doc;
    struct kz_json_error err;
    if (kz_json_parser_parse(&p, in, n, &arena, &doc, &err) == 0) {
        const struct kz_json_node *root = kz_json_root(&doc);
        int objects = root && root->type == KZ_JSON_ARRAY;
        size_t count = 0;
        for (const struct kz_json_node *e = objects ? kz_json_first(root) : NULL;
             e && e < root + root->u.span; e = kz_json_next(e)) {
            objects &= e->type == KZ_JSON_OBJECT;
            count++;
        }
        if (objects) {
            size_t lines = 0;
            for (const char *q = a, *end = a + n; q < end;) {
                const char *nl = memchr(q, '\n', (size_t)(end - q));
                size_t len = nl ? (size_t)(nl - q) : (size_t)(end - q);
                int blank = 1;
                for (size_t i = 0; i < len && blank; i++)
                    blank = q[i] == ' ' || q[i] == '\t' || q[i] == '\r';
                if (!blank) {
                    struct kz_json_doc d2;
                    kz_arena_reset(&arena);
                    if (kz_json_parser_parse(&p, q, len, &arena, &d2, &err)) abort();
                    const struct kz_json_node *r2 = kz_json_root(&d2);
                    if (!r2 || r2->type != KZ_JSON_OBJECT) abort();
                    lines++;
                }
                q = nl ? nl + 1 : end;
            }
            if (lines != count) abort();
        }
    }
    free(a);
    free(b);
    return 0;
}
