/* evtx_int.h - private to the EVTX decoder: compiled BinXML, caches, limits, the visitor interface.
 *
 * BinXML is compiled, once per template per chunk, into a flat array of ops (struct bx_op). Walking
 * ops with a record's substitution values drives a visitor: one visitor extracts fields into a
 * kz_event (evtx_fields.c), another renders XML (evtx_xml.c). Both see exactly the same document,
 * so what `dump
 * --format xml` shows is what detection matched on. */
#ifndef KZ_EVTX_INT_H
#define KZ_EVTX_INT_H

#include "evtx.h"

#include "../../core/arena.h"
#include "../../core/buf.h"
#include "../../core/error.h"
#include "../../core/event.h"

#include <stdint.h>
#include <string.h>

/* ---- limits: keep memory and time bounded on hostile files ---- */
#define EVTX_MAX_DEPTH 64        /* element nesting inside one fragment */
#define EVTX_MAX_NEST 16         /* BinXML values nested inside BinXML values */
#define EVTX_MAX_OPS 32768       /* ops in one compiled fragment */
#define EVTX_MAX_VALUES 4096     /* substitution values in one template instance */
#define EVTX_MAX_FIELDS 4096     /* fields in one event */
#define EVTX_MAX_NAME_CHARS 1024 /* characters in an element or attribute name */
#define EVTX_MAX_TEXT (1u << 20) /* bytes of text in one field */
#define EVTX_RECORD_BUDGET                                                                         \
    200000 /* ops (and plan fields) for one record, nesting included;                              \
            * real records need a few hundred */
#define EVTX_CHUNK_BUDGET                                                                          \
    20000000 /* the same for all records of a chunk together, so that a                            \
              * chunk of small hostile records cannot take minutes */
#define EVTX_CHUNK_ARENA_CAP                                                                       \
    (8u << 20)                      /* bytes a chunk's decoding may allocate (128x its size; real  \
                                     * chunks use well under 2 MiB) */
#define EVTX_SCRATCH_CAP (4u << 20) /* text being assembled for one record */

/* ---- little-endian readers: on-disk formats are read as bytes, never as packed structs ---- */
static inline uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v; /* kizuki targets little-endian hosts; see CMakeLists.txt */
}
static inline uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* BinXML tokens (MS-EVEN6 2.2.12), without the 0x40 "more follows" flag. */
enum {
    BX_EOF = 0x00,
    BX_OPEN = 0x01,
    BX_CLOSE_START = 0x02,
    BX_CLOSE_EMPTY = 0x03,
    BX_END = 0x04,
    BX_VALUE = 0x05,
    BX_ATTR = 0x06,
    BX_CDATA = 0x07,
    BX_CHARREF = 0x08,
    BX_ENTITY = 0x09,
    BX_PI_TARGET = 0x0a,
    BX_PI_DATA = 0x0b,
    BX_TEMPLATE = 0x0c,
    BX_SUBST = 0x0d,
    BX_SUBST_OPT = 0x0e,
    BX_FRAGMENT = 0x0f,
};

/* Substitution value types (MS-EVEN6 2.2.12, "ValueType"); 0x80 marks an array of the base type. */
enum {
    VT_NULL = 0x00,
    VT_WSTRING = 0x01,
    VT_ASTRING = 0x02,
    VT_INT8 = 0x03,
    VT_UINT8 = 0x04,
    VT_INT16 = 0x05,
    VT_UINT16 = 0x06,
    VT_INT32 = 0x07,
    VT_UINT32 = 0x08,
    VT_INT64 = 0x09,
    VT_UINT64 = 0x0a,
    VT_REAL32 = 0x0b,
    VT_REAL64 = 0x0c,
    VT_BOOL = 0x0d,
    VT_BINARY = 0x0e,
    VT_GUID = 0x0f,
    VT_SIZET = 0x10,
    VT_FILETIME = 0x11,
    VT_SYSTIME = 0x12,
    VT_SID = 0x13,
    VT_HEXINT32 = 0x14,
    VT_HEXINT64 = 0x15,
    VT_EVTHANDLE = 0x20,
    VT_BINXML = 0x21,
    VT_EVTXML = 0x23,
    VT_ARRAY = 0x80,
};

/* ---- compiled BinXML ---- */
enum bx_op_kind {
    OP_OPEN,        /* start tag: name; skip = index of the op after the element */
    OP_ATTR,        /* attribute: name; its value is the TEXT/SUBST ops that follow */
    OP_CLOSE_START, /* end of the start tag, content follows */
    OP_CLOSE_EMPTY, /* end of an element without content */
    OP_END,         /* end tag */
    OP_TEXT,        /* literal text (UTF-8): value text, CDATA, character and entity references */
    OP_SUBST,       /* substitution: value number arg, declared type vtype, optional if flag */
    OP_TEMPLATE, /* a template instance inside a non-template fragment: tmpl + values at values_off
                  */
};

struct bx_template;

struct bx_op {
    uint8_t kind;  /* enum bx_op_kind */
    uint8_t vtype; /* OP_SUBST: declared value type; OP_TEXT: 1 if it came from CDATA;
                    * OP_OPEN: bit 0 set if its content has more than one optional
                    * substitution, bit 1 if it has child elements */
    uint16_t arg;  /* OP_SUBST: substitution index */
    uint32_t name; /* OP_OPEN, OP_ATTR: interned name id */
    uint32_t skip; /* OP_OPEN: index just past the element's OP_END/OP_CLOSE_EMPTY */
    uint32_t len;  /* OP_TEXT: bytes of text; OP_TEMPLATE: chunk offset of the values;
                    * OP_SUBST: 1 if optional; OP_OPEN: 1 + the index of the first optional
                    * substitution in its content (0: none) */
    union {
        const char *text;         /* OP_TEXT */
        struct bx_template *tmpl; /* OP_TEMPLATE */
    } u;
};

struct fplan;

struct bx_template {
    uint32_t offset; /* chunk offset of the template definition: the cache key */
    int state;       /* 0 compiling (a reference now is a cycle), 1 ready, -1 broken */
    struct bx_op *ops;
    uint32_t nops;
    struct fplan *plan; /* field plan (evtx_fields.c), built on first use */
    int plan_state;     /* 0 not built yet, 1 built, -1 this template needs the full walk */
};

/* A substitution value: points into the chunk. */
struct bx_value {
    uint8_t type;
    uint32_t len;
    const uint8_t *data;
};

/* What a walk over ops reports. Return nonzero from a callback to stop the walk with that status.
 */
struct bx_visitor {
    int (*open)(void *self, uint32_t name);
    int (*attr_begin)(void *self, uint32_t name);
    int (*attr_end)(void *self);
    int (*close_start)(void *self);
    int (*close)(void *self, int empty);
    int (*text)(void *self, const char *s, size_t n, int cdata);
    /* A substitution value that is not BinXML (those are walked). May be an array type. */
    int (*value)(void *self, const struct bx_value *v);
};

/* Per-chunk lookup tables: chunk offset -> interned name / compiled template. */
struct bx_cache_slot {
    uint32_t key; /* chunk offset + 1 (0 = empty) */
    uint32_t name;
    struct bx_template *tmpl;
};

struct kz_evtx_decoder {
    void *user;            /* the caller's per-decoder state (kz_evtx_decoder_set_user) */
    struct kz_arena arena; /* everything decoded from the current chunk */
    const uint8_t *chunk;  /* the chunk being decoded */
    uint32_t chunk_len;
    struct bx_cache_slot *cache; /* open addressing on offset, names and templates share it */
    uint32_t cache_mask, cache_used;
    uint16_t *cache_slots_used; /* which slots are set, so a new chunk clears only those */
    struct bx_op *ops_scratch;  /* compile buffer, EVTX_MAX_OPS entries, used as a stack */
    uint32_t ops_top;           /* entries in use by compiles in progress */
    struct kz_buf text;         /* text being collected for the current fields */
    struct kz_buf scratch;      /* one rendered value */
    struct kz_event event;      /* the record being decoded */
    struct kz_field *fields;    /* its fields (copied into the arena when the record is done) */
    uint32_t nfields, fields_cap;
    uint64_t *pair_keys; /* (element id << 32 | attribute id) -> "Element_Attribute" id */
    uint32_t *pair_ids;
    uint32_t pair_used;
    long budget;                      /* ops left for this record */
    long chunk_budget;                /* ops left for the rest of the chunk */
    int no_plan;                      /* always walk (tests compare the two ways) */
    uint32_t doc_elements;            /* elements of the record's document seen (0: empty document) */
    int nest;                         /* BinXML nesting depth of the walk */
    uint32_t id_systemtime, id_xmlns; /* interned once */
    struct kz_err err;                /* why the current record failed */
};

/* binxml.c */
int bx_name(struct kz_evtx_decoder *d, uint32_t off, uint32_t *id);
int bx_template_get(struct kz_evtx_decoder *d, uint32_t def_off, struct bx_template **out);
int bx_compile(struct kz_evtx_decoder *d, uint32_t start, uint32_t end, struct bx_op **ops,
               uint32_t *nops);
int bx_template_instance(struct kz_evtx_decoder *d, uint32_t *pos, uint32_t end,
                         struct bx_template **tmpl, uint32_t *values_off);
int bx_parse_values(struct kz_evtx_decoder *d, uint32_t pos, uint32_t end, struct bx_value **vals,
                    uint32_t *nvals, uint32_t *consumed);
int bx_walk_fragment(struct kz_evtx_decoder *d, uint32_t start, uint32_t end,
                     const struct bx_visitor *vis, void *self);
/* The element rules of MS-EVEN6 2.2.12.1, shared by the walk and the field plans: */
/* Is substitution `index` NULL (missing, of NULL type, or empty)? */
int bx_value_is_null(const struct bx_value *vals, uint32_t nvals, uint32_t index);
/* Is the element opened at ops[open] left out because an optional substitution in it is NULL? */
int bx_element_omitted(const struct bx_op *ops, uint32_t open, const struct bx_value *vals,
                       uint32_t nvals);
/* If the element's content is exactly one substitution (which repeats the element when it is an
 * array), the index of that OP_SUBST; else -1. */
int bx_array_content(const struct bx_op *ops, uint32_t open);

/* binxml_value.c: renders a non-BinXML value (one item if array: see bx_array_items) as UTF-8 text.
 * bx_render_to writes at o, which must have bx_text_bound(type, len) bytes, NUL-terminates, and
 * returns the end of the text (at the NUL), or NULL for a value too short or malformed for its
 * type. */
char *bx_render_to(char *o, uint8_t type, const uint8_t *p, uint32_t len);
int bx_render_value(struct kz_buf *out, uint8_t type, const uint8_t *p, uint32_t len);
/* Splits an array value into items: returns the number of items and sets item i via the callback.
 */
int bx_array_items(const struct bx_value *v, int (*fn)(void *ctx, const struct bx_value *item),
                   void *ctx);
/* At least the bytes bx_render_value needs for one value (not an array), its NUL included. */
static inline size_t bx_text_bound(uint8_t type, uint32_t len) {
    size_t bound;
    switch (type) {
    case VT_WSTRING:
        bound = 3 * ((size_t)len / 2) + 2;
        break; /* KZ_UTF8_MAX_FOR_UTF16 + 1 */
    case VT_SID:
        bound = 40 + 3 * (size_t)len;
        break; /* "-" and 10 digits per 4 bytes */
    default:
        bound = 2 * (size_t)len + 2;
        break; /* hex of binary; Latin-1 as UTF-8 */
    }
    return bound < 64 ? 64 : bound; /* numbers, GUIDs, times: under 64 */
}

/* The kz_value_kind a value of this type renders as. */
static inline uint8_t bx_value_kind(uint8_t type) {
    switch (type & 0x7f) {
    case VT_WSTRING:
    case VT_ASTRING:
        return KZ_VK_STRING;
    case VT_INT8:
    case VT_UINT8:
    case VT_INT16:
    case VT_UINT16:
    case VT_INT32:
    case VT_UINT32:
    case VT_INT64:
    case VT_UINT64:
        return KZ_VK_INT;
    case VT_REAL32:
    case VT_REAL64:
        return KZ_VK_REAL;
    case VT_BOOL:
        return KZ_VK_BOOL;
    }
    return KZ_VK_OTHER;
}

/* Records whose template has a field plan skip the walk (evtx_fields.c); the environment variable
 * KZ_EVTX_NO_PLAN=1 (for tests) forces the walk, which must give the same events. */

/* evtx_fields.c / evtx_xml.c */
int evtx_render_any(struct kz_buf *out, const struct bx_value *val);
int evtx_extract_fields(struct kz_evtx_decoder *d, uint32_t start, uint32_t end);
int evtx_render_xml_range(struct kz_evtx_decoder *d, uint32_t start, uint32_t end,
                          struct kz_buf *out);

#endif
