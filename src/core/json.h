/* json.h - a strict, bounded JSON parser (RFC 8259) into a compact DOM, and a JSON-lines splitter.
 *
 * Why one parser: kizuki reads JSON written by attackers (JSON lines of Windows events, hundreds of
 * MB/s per core) and its own files (findings.jsonl, truth.jsonl, scenario.json). Both need the same
 * things: strictness (a document another tool would reject is rejected here too, so what kizuki
 * sees is what everyone sees), hard limits (size, depth, node count: hostile input cannot make it
 * allocate or recurse without bound), errors a user can act on (line, column, byte offset,
 * message), and speed.
 *
 * The DOM is one array of nodes in document order (pre-order). A container is followed by its
 * children; an object's children are key/value pairs (a string node for the key, then the value's
 * subtree) in the order written, duplicates kept. Every container records where its subtree ends,
 * so a sibling is one step away whatever lies inside: walk with kz_json_first / kz_json_next, find
 * a member with kz_json_get.
 *
 * Strings: a string without escapes points straight into the input (zero copy, NOT NUL-terminated);
 * a string with escapes is unescaped into the arena (NUL-terminated, flag KZ_JSON_F_COPIED). Either
 * way `str` and `len` give the exact bytes, which are valid UTF-8 (escapes of unpaired surrogates
 * become U+FFFD) and may contain NUL when the text had \u0000. Numbers keep their text; convert on
 * demand with kz_json_int / kz_json_double.
 *
 * Ownership: the nodes and the unescaped strings live in the caller's arena; zero-copy strings live
 * in the caller's input. A document is valid while BOTH the arena (until kz_arena_reset/free) and
 * the input buffer are. Copy out (kz_json_strdup) what must outlive them. A parser object only
 * holds scratch space reused from one document to the next; it may be freed while documents live
 * on.
 */
#ifndef KZ_JSON_H
#define KZ_JSON_H

#include "arena.h"
#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */

/* Defaults used when a field of struct kz_json_limits is 0. */
#define KZ_JSON_DEFAULT_MAX_INPUT ((size_t)64 << 20) /* bytes per document */
#define KZ_JSON_DEFAULT_MAX_DEPTH 64                 /* nested arrays/objects */
#define KZ_JSON_DEFAULT_MAX_NODES (1u << 22)         /* nodes per document (keys count) */
/* Ceilings: larger requests are clamped to these (string lengths are 32-bit; the depth stack is
 * allocated whole when the parser is made). */
#define KZ_JSON_MAX_INPUT_CEILING ((size_t)UINT32_MAX - 1)
#define KZ_JSON_MAX_DEPTH_CEILING 4096
#define KZ_JSON_MAX_NODES_CEILING (1u << 28)

struct kz_json_limits {
    size_t max_input;   /* most bytes in one document (one line, for JSON lines) */
    uint32_t max_depth; /* most containers open at once; 1 allows [1,2] but not [[1]] */
    uint32_t max_nodes; /* most nodes in one document */
};

/* ---- the DOM ---- */

enum kz_json_type {
    KZ_JSON_NULL,
    KZ_JSON_FALSE,
    KZ_JSON_TRUE,
    KZ_JSON_NUMBER,
    KZ_JSON_STRING, /* also every object key */
    KZ_JSON_ARRAY,
    KZ_JSON_OBJECT,
};

enum {
    KZ_JSON_F_COPIED = 1, /* string: unescaped into the arena, NUL-terminated */
    KZ_JSON_F_INTEGER = 2 /* number: written without fraction or exponent ("-12", not "1.0") */
};

/* 16 bytes: the DOM of a typical event is about as large as its text. */
struct kz_json_node {
    uint8_t type;  /* enum kz_json_type */
    uint8_t flags; /* KZ_JSON_F_* */
    uint16_t reserved;
    uint32_t len; /* string, number: bytes of str; array: elements; object: members (pairs) */
    union {
        const char *str; /* string: its bytes (see above); number: its text as written */
        size_t span;     /* array, object: nodes in the subtree, this one included */
    } u;
};

struct kz_json_doc {
    const struct kz_json_node *nodes; /* nodes[0] is the root; in the arena */
    uint32_t nnodes;
};

/* ---- errors ---- */

enum kz_json_error_kind {
    KZ_JSON_OK,
    KZ_JSON_E_EMPTY,    /* no value at all (empty or only whitespace) */
    KZ_JSON_E_EOF,      /* the input ends inside a value */
    KZ_JSON_E_CHAR,     /* a byte that cannot start or continue anything here */
    KZ_JSON_E_TRAILING, /* more after the top-level value */
    KZ_JSON_E_COMMA,    /* a comma before ] or } (trailing comma) */
    KZ_JSON_E_LITERAL,  /* misspelt true / false / null */
    KZ_JSON_E_NUMBER,   /* a number that breaks the grammar (01, 1., .5, -, 1e, +1) */
    KZ_JSON_E_ESCAPE,   /* a backslash escape JSON does not have, or a bad \u */
    KZ_JSON_E_CONTROL,  /* a raw control byte (< 0x20) inside a string */
    KZ_JSON_E_UTF8,     /* invalid UTF-8 inside a string */
    KZ_JSON_E_KEY,      /* an object member without a string key or without ':' */
    KZ_JSON_E_SIZE,     /* the document exceeds max_input */
    KZ_JSON_E_DEPTH,    /* nesting exceeds max_depth */
    KZ_JSON_E_NODES,    /* more than max_nodes */
    KZ_JSON_E_NOMEM,    /* allocation failed (arena cap or memory) */
};

#define KZ_JSON_ERR_MSG_MAX 160

struct kz_json_error {
    int code;        /* KZ_E* status: KZ_EFORMAT, KZ_ELIMIT or KZ_ENOMEM (0: no error) */
    int kind;        /* enum kz_json_error_kind */
    size_t offset;   /* byte offset of the problem in the document */
    uint64_t line;   /* 1-based line of offset (for JSON lines: the line's number in the stream) */
    uint32_t column; /* 1-based column of offset, in bytes */
    char msg[KZ_JSON_ERR_MSG_MAX]; /* what is wrong, without the position: "trailing comma before
                                      ']'" */
};

/* ---- parsing ---- */

/* Scratch space (node stack, container stack) reused across documents: one per thread. */
struct kz_json_parser {
    struct kz_json_limits lim;  /* effective limits (defaults and ceilings applied) */
    struct kz_json_node *nodes; /* nodes of the document being parsed; copied into the arena */
    uint32_t nodes_cap;
    uint32_t *stack; /* index of each open container; lim.max_depth entries */
};

/* Prepares p with the given limits (NULL: all defaults). Returns 0 or KZ_ENOMEM. */
int kz_json_parser_init(struct kz_json_parser *p, const struct kz_json_limits *lim);
void kz_json_parser_free(struct kz_json_parser *p);

/* Parses exactly one JSON value (whitespace around it allowed; a UTF-8 byte order mark at the very
 * start is skipped, RFC 8259 section 8.1) from in[0..n) into doc, with nodes and unescaped strings
 * in arena a. On failure returns KZ_EFORMAT, KZ_ELIMIT or KZ_ENOMEM, fills err (if non-NULL) and
 * leaves doc empty; whatever the arena received stays there until it is reset. */
int kz_json_parser_parse(struct kz_json_parser *p, const char *in, size_t n, struct kz_arena *a,
                         struct kz_json_doc *doc, struct kz_json_error *err);
/* The same with a parser made and freed for this one call (lim NULL: defaults). */
int kz_json_parse(const char *in, size_t n, struct kz_arena *a, const struct kz_json_limits *lim,
                  struct kz_json_doc *doc, struct kz_json_error *err);

/* ---- walking the DOM ---- */

static inline const struct kz_json_node *kz_json_root(const struct kz_json_doc *d) {
    return d->nnodes ? d->nodes : NULL;
}
/* The node after n's subtree: n's next sibling when n is not its parent's last child. */
static inline const struct kz_json_node *kz_json_next(const struct kz_json_node *n) {
    return n + (n->type >= KZ_JSON_ARRAY ? n->u.span : 1);
}
/* First element of an array, first key of an object; NULL when n is empty or not a container. */
static inline const struct kz_json_node *kz_json_first(const struct kz_json_node *n) {
    return n && n->type >= KZ_JSON_ARRAY && n->len ? n + 1 : NULL;
}
/* Element i of an array (linear in i), or NULL. */
const struct kz_json_node *kz_json_at(const struct kz_json_node *arr, uint32_t i);
/* The value of the FIRST member named key (NUL-terminated / klen bytes) of object obj, or NULL
 * when obj is NULL, not an object, or has no such member. Linear in the object's members. */
const struct kz_json_node *kz_json_get(const struct kz_json_node *obj, const char *key);
const struct kz_json_node *kz_json_getn(const struct kz_json_node *obj, const char *key,
                                        size_t klen);
/* 1 when n is a string equal to s (NUL-terminated). */
int kz_json_str_eq(const struct kz_json_node *n, const char *s);

/* Number n as an int64: 0, or KZ_EFORMAT when n is not a number, has a fraction or exponent
 * ("1.0", "1e2"), or is out of range. */
int kz_json_int(const struct kz_json_node *n, int64_t *out);
/* Number n as the nearest double (strtod rounding; overflow gives +-HUGE_VAL): 0 or KZ_EFORMAT
 * when n is not a number. */
int kz_json_double(const struct kz_json_node *n, double *out);
/* A NUL-terminated copy of string n in arena a (always a copy, so it lives as long as a, whatever
 * happens to the document); NULL when n is not a string or the arena is full. */
const char *kz_json_strdup(struct kz_arena *a, const struct kz_json_node *n);

/* Writes n back as compact JSON (no spaces; strings re-escaped by kz_buf_put_json_str; numbers as
 * written). For debugging and tests. */
void kz_json_write(struct kz_buf *out, const struct kz_json_node *n);

/* ---- JSON lines ---- */

/* Called for each line holding a document; return 0 to go on, anything else to stop (that value
 * is then returned by kz_json_lines_feed / _finish). line_no is 1-based over everything fed. */
typedef int (*kz_json_line_fn)(void *ctx, uint64_t line_no, const struct kz_json_doc *doc);
/* Called for each line that is not a valid document: err->line is line_no, err->column and
 * err->offset are within the line. Parsing goes on with the next line. */
typedef void (*kz_json_bad_line_fn)(void *ctx, uint64_t line_no, const struct kz_json_error *err);

/* Splits input fed in pieces of any size into lines (LF, with an optional CR before it) and parses
 * each. Blank lines (only whitespace) are counted and skipped. A line longer than max_input is
 * reported as KZ_JSON_E_SIZE without being kept in memory. Lines that fit in one fed piece are
 * parsed in place; only a line split across pieces is copied (into `partial`, capped at
 * max_input). Unless `keep` is set, the arena is reset after each line's callback, so memory stays
 * flat however long the input: the callback must copy out what it keeps. With `keep`, zero-copy
 * strings point into the fed pieces, which must then outlive the documents (a line split across
 * pieces is first copied into the arena). */
struct kz_json_lines {
    struct kz_json_parser parser;
    struct kz_arena *arena;
    int keep;                   /* 1: never reset the arena (documents accumulate up to its cap) */
    kz_json_line_fn on_doc;     /* may be NULL */
    kz_json_bad_line_fn on_bad; /* may be NULL */
    void *ctx;
    uint64_t line;         /* lines completed so far */
    uint64_t docs;         /* lines that held a document */
    uint64_t bad;          /* lines that did not */
    uint64_t blank;        /* empty or whitespace-only lines */
    struct kz_buf partial; /* the start of a line that continues in the next piece */
    int overlong;          /* the current partial line already exceeds max_input */
    size_t overlong_len;   /* its length so far, for the message */
};

/* Sets up jl (lim NULL: defaults). Returns 0 or KZ_ENOMEM. */
int kz_json_lines_init(struct kz_json_lines *jl, const struct kz_json_limits *lim,
                       struct kz_arena *a, kz_json_line_fn on_doc, kz_json_bad_line_fn on_bad,
                       void *ctx);
/* Feeds the next n bytes. Returns 0, the callback's non-zero value, or KZ_ENOMEM. */
int kz_json_lines_feed(struct kz_json_lines *jl, const char *data, size_t n);
/* Parses a last line that had no newline. Same returns as feed. */
int kz_json_lines_finish(struct kz_json_lines *jl);
void kz_json_lines_free(struct kz_json_lines *jl);

#endif
