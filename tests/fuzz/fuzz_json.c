/* fuzz_json.c - libFuzzer target: the input is a JSON document, and also a stream of JSON lines.
 *
 * Why: JSON lines of Windows events come from outside (shippers, exports, an attacker who can
 * write a log line), and the parser's DOM is trusted by everything that walks it. Each input is
 * parsed whole with small limits (depth 16, 4096 nodes, so the limit paths are reached), then the
 * DOM is walked the way callers do (kz_json_next over every node, kz_json_get of each key,
 * kz_json_int / kz_json_double on numbers, kz_json_write back out) and its invariants are checked:
 * spans stay inside the document, child counts match the nodes walked, the text written back parses
 * again to the same number of nodes. Then the same bytes go through the JSON-lines splitter in two
 * pieces cut at a point taken from the input, with an arena that is reset per line. */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Walks the subtree at n, checking it stays inside [n, end); returns the node after it. */
static const struct kz_json_node *walk(const struct kz_json_node *n,
                                       const struct kz_json_node *end) {
    if (n >= end) abort();
    if (n->type == KZ_JSON_NUMBER) {
        int64_t i;
        double d;
        kz_json_int(n, &i);
        kz_json_double(n, &d);
    }
    if (n->type < KZ_JSON_ARRAY) return n + 1;
    const struct kz_json_node *stop = n + n->u.span, *c = n + 1;
    if (stop > end || n->u.span < 1) abort();
    int obj = n->type == KZ_JSON_OBJECT;
    for (uint32_t i = 0; i < n->len; i++) {
        if (obj) {
            if (c->type != KZ_JSON_STRING) abort();
            if (kz_json_getn(n, c->u.str, c->len) == NULL) abort();
            c++;
        }
        c = walk(c, stop);
    }
    if (c != stop) abort();
    return stop;
}

static int on_doc(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    walk(doc->nodes, doc->nodes + doc->nnodes);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 256 * 1024) return 0;
    struct kz_json_limits lim = {.max_input = 128 * 1024, .max_depth = 16, .max_nodes = 4096};
    struct kz_arena a;
    kz_arena_init(&a, 4096, 8 << 20);
    struct kz_json_doc doc;
    struct kz_json_error err;
    if (kz_json_parse((const char *)data, size, &a, &lim, &doc, &err) == 0) {
        if (walk(doc.nodes, doc.nodes + doc.nnodes) != doc.nodes + doc.nnodes) abort();
        struct kz_buf out;
        kz_buf_init(&out, 4 << 20);
        kz_json_write(&out, kz_json_root(&doc));
        struct kz_json_doc again;
        /* escapes may grow when written back (\b becomes \u0008): no size limit this time */
        struct kz_json_limits wide = lim;
        wide.max_input = 0;
        if (!out.failed && (kz_json_parse(out.data, out.len, &a, &wide, &again, &err) != 0 ||
                            again.nnodes != doc.nnodes))
            abort();
        kz_buf_free(&out);
    } else if (err.offset > size || err.line == 0 || err.column == 0 || !err.msg[0]) {
        abort();
    }
    kz_arena_reset(&a);

    struct kz_json_lines jl;
    lim.max_input = 1024; /* long lines take the overlong path */
    if (kz_json_lines_init(&jl, &lim, &a, on_doc, NULL, NULL) == 0) {
        size_t cut = size ? data[0] % (size + 1) : 0;
        kz_json_lines_feed(&jl, (const char *)data, cut);
        kz_json_lines_feed(&jl, (const char *)data + cut, size - cut);
        kz_json_lines_finish(&jl);
        if (jl.docs + jl.bad + jl.blank != jl.line) abort();
        kz_json_lines_free(&jl);
    }
    kz_arena_free(&a);
    return 0;
}
