/* binxml.c - compiles BinXML fragments and templates into ops, reads substitution values, and walks
 * ops with a visitor. All offsets are relative to the chunk, as in the file. See evtx_int.h. */
#include "evtx_int.h"

#include "../../core/alloc.h"
#include "../../core/intern.h"
#include "../../core/utf.h"

#include <stdio.h>

/* ---- per-chunk cache: chunk offset -> name id or compiled template ---- */

static struct bx_cache_slot *cache_find(struct kz_evtx_decoder *d, uint32_t off, int create) {
    uint32_t key = off + 1;
    uint32_t i = (key * 2654435761u) & d->cache_mask;
    while (d->cache[i].key) {
        if (d->cache[i].key == key) return &d->cache[i];
        i = (i + 1) & d->cache_mask;
    }
    if (!create) return NULL;
    /* A chunk has at most 64 KiB of names and templates, each at a distinct offset and at least 8
     * bytes long, so 8192 slots (kept at most half full) always suffice. */
    if ((d->cache_used + 1) * 2 > d->cache_mask + 1) return NULL;
    d->cache_slots_used[d->cache_used++] = (uint16_t)i;
    d->cache[i].key = key;
    d->cache[i].name = 0;
    d->cache[i].tmpl = NULL;
    return &d->cache[i];
}

/* Name structure at off: next-name offset (4), hash (2), character count (2), UTF-16LE characters,
 * NUL. */
int bx_name(struct kz_evtx_decoder *d, uint32_t off, uint32_t *id) {
    struct bx_cache_slot *s = cache_find(d, off, 0);
    if (s && s->name) {
        *id = s->name;
        return 0;
    }
    if (off < 512 || (uint64_t)off + 8 > d->chunk_len)
        return kz_err_set(&d->err, KZ_ECORRUPT, "name offset %u outside the chunk", off);
    uint32_t nchars = rd16(d->chunk + off + 6);
    if (nchars > EVTX_MAX_NAME_CHARS || (uint64_t)off + 8 + 2 * (uint64_t)nchars > d->chunk_len)
        return kz_err_set(&d->err, KZ_ECORRUPT, "name at offset %u: bad length %u", off, nchars);
    char utf8[KZ_UTF8_MAX_FOR_UTF16(EVTX_MAX_NAME_CHARS)];
    size_t n = kz_utf16le_to_utf8(utf8, d->chunk + off + 8, nchars);
    uint32_t name = kz_intern(utf8, n);
    if (!name) return kz_err_set(&d->err, KZ_ELIMIT, "too many distinct names");
    s = cache_find(d, off, 1);
    if (s) s->name = name;
    *id = name;
    return 0;
}

/* Could a name structure be at off, referenced from a field that ends at pos? Names are stored
 * before (or, inline, exactly at) the place that refers to them. */
static int plausible_name(const struct kz_evtx_decoder *d, uint32_t off, uint32_t pos) {
    if (off < 512 || off > pos || (uint64_t)off + 8 > d->chunk_len) return 0;
    uint32_t nchars = rd16(d->chunk + off + 6);
    return nchars <= EVTX_MAX_NAME_CHARS &&
           (uint64_t)off + 8 + 2 * (uint64_t)nchars <= d->chunk_len;
}

/* Reads a name reference at *pos; if the name is stored inline (its offset is where we are), skips
 * it. */
static int read_name_ref(struct kz_evtx_decoder *d, uint32_t *pos, uint32_t end, uint32_t *id) {
    if (*pos + 4 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated name reference");
    uint32_t off = rd32(d->chunk + *pos);
    *pos += 4;
    int rc = bx_name(d, off, id);
    if (rc) return rc;
    if (off == *pos) {
        uint32_t nchars = rd16(d->chunk + off + 6);
        *pos += 8 + 2 * nchars + 2;
        if (*pos > end)
            return kz_err_set(&d->err, KZ_ECORRUPT, "inline name runs past its fragment");
    }
    return 0;
}

/* ---- compiling ---- */

static int text_op(struct kz_evtx_decoder *d, struct bx_op *op, const uint8_t *utf16,
                   uint32_t nchars, int cdata) {
    char *t = kz_arena_alloc(&d->arena, KZ_UTF8_MAX_FOR_UTF16((size_t)nchars));
    if (!t)
        return kz_err_set(&d->err, KZ_ELIMIT,
                          "chunk expands beyond its memory limit (template text)");
    op->kind = OP_TEXT;
    op->vtype = (uint8_t)cdata;
    op->len = (uint32_t)kz_utf16le_to_utf8(t, utf16, nchars);
    op->u.text = t;
    return 0;
}

static int literal_op(struct kz_evtx_decoder *d, struct bx_op *op, const char *s, size_t n) {
    char *t = kz_arena_strndup(&d->arena, s, n);
    if (!t)
        return kz_err_set(&d->err, KZ_ELIMIT,
                          "chunk expands beyond its memory limit (template text)");
    op->kind = OP_TEXT;
    op->vtype = 0;
    op->len = (uint32_t)n;
    op->u.text = t;
    return 0;
}

/* Encodes code point c as UTF-8 into out (4 bytes); returns the length. */
static size_t utf8_encode(uint32_t c, char *out) {
    if (c < 0x80) return out[0] = (char)c, 1;
    if (c < 0x800) return out[0] = (char)(0xC0 | c >> 6), out[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12), out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    if (c > 0x10FFFF) c = 0xFFFD;
    out[0] = (char)(0xF0 | c >> 18), out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F)), out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Compiles the BinXML in [start, end) up to its EOF token (or end) into ops in the chunk arena. */
int bx_compile(struct kz_evtx_decoder *d, uint32_t start, uint32_t end, struct bx_op **ops_out,
               uint32_t *nops_out) {
    const uint8_t *c = d->chunk;
    /* The scratch is a stack: a template instance met while compiling compiles its template above
     * the ops collected so far. */
    uint32_t base = d->ops_top;
    struct bx_op *ops = d->ops_scratch + base;
    uint32_t n = 0, pos = start;
    uint32_t open_stack[EVTX_MAX_DEPTH];
    int depth = 0, rc, in_start_tag = 0;
    if (end > d->chunk_len) end = d->chunk_len;

    while (pos < end) {
        if (base + n + 2 >= EVTX_MAX_OPS)
            return kz_err_set(&d->err, KZ_ELIMIT, "fragment at %u has too many tokens", start);
        uint8_t tok = c[pos];
        uint8_t token = tok & 0x0f;
        if (tok & 0xb0) /* only 0x40 may be set besides the token number */
            return kz_err_set(&d->err, KZ_ECORRUPT, "bad token 0x%02x at offset %u", tok, pos);
        struct bx_op *op = &ops[n];
        memset(op, 0, sizeof *op);
        pos++;
        switch (token) {
        case BX_EOF:
            goto done;
        case BX_FRAGMENT:
            pos += 3;
            continue;
        case BX_OPEN: {
            /* dependency id (2), element size (4), name, [attribute list size (4)]. Some writers
             * leave the dependency id out (seen in CAPI2 logs); the name offset then only makes
             * sense when read 2 bytes earlier, which is how the two layouts are told apart. */
            if (pos + 10 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated start tag");
            if (plausible_name(d, rd32(c + pos + 6), pos + 10) ||
                !plausible_name(d, rd32(c + pos + 4), pos + 8)) {
                op->arg = rd16(c + pos);
                pos += 6;
            } else {
                op->arg = 0xffff;
                pos += 4;
            }
            if ((rc = read_name_ref(d, &pos, end, &op->name))) return rc;
            if (tok & 0x40) pos += 4;
            if (depth >= EVTX_MAX_DEPTH)
                return kz_err_set(&d->err, KZ_ELIMIT, "elements nested deeper than %d",
                                  EVTX_MAX_DEPTH);
            op->kind = OP_OPEN;
            if (depth > 0) ops[open_stack[depth - 1]].vtype |= 2; /* the parent has children */
            open_stack[depth++] = n;
            in_start_tag = 1;
            break;
        }
        case BX_CLOSE_START:
            op->kind = OP_CLOSE_START;
            in_start_tag = 0;
            break;
        case BX_CLOSE_EMPTY:
        case BX_END:
            if (depth == 0)
                return kz_err_set(&d->err, KZ_ECORRUPT, "end tag without a start tag at offset %u",
                                  pos - 1);
            op->kind = token == BX_END ? OP_END : OP_CLOSE_EMPTY;
            ops[open_stack[--depth]].skip = n + 1;
            in_start_tag = 0;
            break;
        case BX_VALUE: {
            if (pos + 3 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated value");
            uint8_t vt = c[pos];
            uint32_t nchars = rd16(c + pos + 1);
            pos += 3;
            if (vt != VT_WSTRING && vt != VT_ASTRING)
                return kz_err_set(&d->err, KZ_EUNSUPP, "literal value of type 0x%02x", vt);
            uint32_t bytes = vt == VT_WSTRING ? 2 * nchars : nchars;
            if ((uint64_t)pos + bytes > end)
                return kz_err_set(&d->err, KZ_ECORRUPT, "value text runs past its fragment");
            if (vt == VT_WSTRING) {
                if ((rc = text_op(d, op, c + pos, nchars, 0))) return rc;
            } else {
                struct kz_buf tmp;
                kz_buf_init(&tmp, EVTX_MAX_TEXT);
                bx_render_value(&tmp, VT_ASTRING, c + pos, bytes);
                rc = literal_op(d, op, tmp.data ? tmp.data : "", tmp.len);
                kz_buf_free(&tmp);
                if (rc) return rc;
            }
            pos += bytes;
            break;
        }
        case BX_ATTR:
            op->kind = OP_ATTR;
            if ((rc = read_name_ref(d, &pos, end, &op->name))) return rc;
            break;
        case BX_CDATA: {
            if (pos + 2 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated CDATA");
            uint32_t nchars = rd16(c + pos);
            pos += 2;
            if ((uint64_t)pos + 2 * nchars > end)
                return kz_err_set(&d->err, KZ_ECORRUPT, "CDATA runs past its fragment");
            if ((rc = text_op(d, op, c + pos, nchars, 1))) return rc;
            pos += 2 * nchars;
            break;
        }
        case BX_CHARREF: {
            if (pos + 2 > end)
                return kz_err_set(&d->err, KZ_ECORRUPT, "truncated character reference");
            char u[4];
            size_t len = utf8_encode(rd16(c + pos), u);
            pos += 2;
            if ((rc = literal_op(d, op, u, len))) return rc;
            break;
        }
        case BX_ENTITY: {
            uint32_t name;
            if ((rc = read_name_ref(d, &pos, end, &name))) return rc;
            const char *s = kz_intern_name(name), *rep = NULL;
            if (!strcmp(s, "lt"))
                rep = "<";
            else if (!strcmp(s, "gt"))
                rep = ">";
            else if (!strcmp(s, "amp"))
                rep = "&";
            else if (!strcmp(s, "quot"))
                rep = "\"";
            else if (!strcmp(s, "apos"))
                rep = "'";
            if (rep)
                rc = literal_op(d, op, rep, 1);
            else {
                char tmp[KZ_INTERN_MAX_LEN + 3];
                int len = snprintf(tmp, sizeof tmp, "&%s;", s);
                rc =
                    literal_op(d, op, tmp, (size_t)len < sizeof tmp ? (size_t)len : sizeof tmp - 1);
            }
            if (rc) return rc;
            break;
        }
        case BX_PI_TARGET: {
            uint32_t name;
            if ((rc = read_name_ref(d, &pos, end, &name))) return rc;
            continue; /* processing instructions carry nothing kizuki uses */
        }
        case BX_PI_DATA: {
            if (pos + 2 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated PI data");
            pos += 2 + 2 * (uint32_t)rd16(c + pos);
            continue;
        }
        case BX_TEMPLATE: {
            pos--; /* bx_template_instance reads the token itself */
            uint32_t values_off;
            struct bx_template *t;
            d->ops_top = base + n + 1;
            rc = bx_template_instance(d, &pos, end, &t, &values_off);
            d->ops_top = base;
            if (rc) return rc;
            struct bx_value *vals;
            uint32_t nvals, consumed;
            if ((rc = bx_parse_values(d, values_off, end, &vals, &nvals, &consumed))) return rc;
            pos = values_off + consumed;
            op->kind = OP_TEMPLATE;
            op->u.tmpl = t;
            op->len = values_off;
            break;
        }
        case BX_SUBST:
        case BX_SUBST_OPT:
            if (pos + 3 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated substitution");
            op->kind = OP_SUBST;
            op->arg = rd16(c + pos);
            op->vtype = c[pos + 2];
            pos += 3;
            if (token == BX_SUBST_OPT) {
                op->len = 1;
                /* An element whose content holds an optional substitution that is NULL is left out
                 * whole (MS-EVEN6 2.2.12.1): note it on the element. */
                if (!in_start_tag && depth > 0) {
                    struct bx_op *el = &ops[open_stack[depth - 1]];
                    if (!el->len)
                        el->len = (uint32_t)op->arg + 1;
                    else if (el->len != (uint32_t)op->arg + 1)
                        el->vtype |= 1;
                }
            }
            break;
        default:
            return kz_err_set(&d->err, KZ_ECORRUPT, "unknown token 0x%02x at offset %u", tok,
                              pos - 1);
        }
        if (pos > end) return kz_err_set(&d->err, KZ_ECORRUPT, "token runs past its fragment");
        n++;
    }
done:
    if (depth != 0)
        return kz_err_set(&d->err, KZ_ECORRUPT, "fragment at %u ends inside an element", start);
    struct bx_op *out = kz_arena_alloc(&d->arena, (size_t)n * sizeof *out);
    if (!out && n)
        return kz_err_set(&d->err, KZ_ELIMIT,
                          "chunk expands beyond its memory limit (compiled template)");
    if (n) memcpy(out, ops, (size_t)n * sizeof *out);
    *ops_out = out;
    *nops_out = n;
    return 0;
}

/* Template definition at def_off: next-template offset (4), GUID (16), data size (4), BinXML. */
int bx_template_get(struct kz_evtx_decoder *d, uint32_t def_off, struct bx_template **out) {
    struct bx_cache_slot *s = cache_find(d, def_off, 1);
    if (!s) return kz_err_set(&d->err, KZ_ELIMIT, "too many templates in chunk");
    if (s->tmpl) {
        if (s->tmpl->state == 1) {
            *out = s->tmpl;
            return 0;
        }
        return kz_err_set(&d->err, KZ_ECORRUPT,
                          s->tmpl->state == 0 ? "template at %u refers to itself"
                                              : "template at %u is damaged",
                          def_off);
    }
    if (def_off < 512 || (uint64_t)def_off + 24 > d->chunk_len)
        return kz_err_set(&d->err, KZ_ECORRUPT, "template offset %u outside the chunk", def_off);
    uint32_t size = rd32(d->chunk + def_off + 20);
    if ((uint64_t)def_off + 24 + size > d->chunk_len)
        return kz_err_set(&d->err, KZ_ECORRUPT, "template at %u runs past the chunk", def_off);
    struct bx_template *t = kz_arena_alloc(&d->arena, sizeof *t);
    if (!t)
        return kz_err_set(&d->err, KZ_ELIMIT, "chunk expands beyond its memory limit (template)");
    t->offset = def_off;
    t->state = 0;
    t->plan = NULL;
    t->plan_state = 0;
    s->tmpl = t;
    int rc = bx_compile(d, def_off + 24, def_off + 24 + size, &t->ops, &t->nops);
    t->state = rc ? -1 : 1;
    if (rc) {
        kz_err_prefix(&d->err, "template at %u: ", def_off);
        return rc;
    }
    *out = t;
    return 0;
}

/* Template instance token at *pos: 0x0c, unknown (1), template id (4), definition offset (4), then
 * the definition itself when it is stored here for the first time. Leaves *pos after it all and
 * sets *values_off to where the substitution values start. */
int bx_template_instance(struct kz_evtx_decoder *d, uint32_t *pos, uint32_t end,
                         struct bx_template **tmpl, uint32_t *values_off) {
    uint32_t p = *pos;
    if (p + 10 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated template instance");
    uint32_t def_off = rd32(d->chunk + p + 6);
    p += 10;
    if (def_off == p) {
        if (p + 24 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated template definition");
        uint32_t size = rd32(d->chunk + p + 20);
        if ((uint64_t)p + 24 + size > end)
            return kz_err_set(&d->err, KZ_ECORRUPT, "template definition runs past the record");
        p += 24 + size;
    }
    int rc = bx_template_get(d, def_off, tmpl);
    if (rc) return rc;
    /* The instance names its template by the first 4 bytes of the template's GUID. A mismatch means
     * the offset points at something else (a record from an older chunk generation that was
     * partly overwritten): decoding would put the values into the wrong skeleton. */
    if (rd32(d->chunk + *pos + 2) != rd32(d->chunk + def_off + 4))
        return kz_err_set(&d->err, KZ_ECORRUPT, "template at %u is not the one the record names",
                          def_off);
    *pos = p;
    *values_off = p;
    return 0;
}

/* Values: count (4), count descriptors of size (2), type (1), padding (1), then the values back to
 * back. */
int bx_parse_values(struct kz_evtx_decoder *d, uint32_t pos, uint32_t end,
                    struct bx_value **vals_out, uint32_t *nvals_out, uint32_t *consumed) {
    const uint8_t *c = d->chunk;
    if (end > d->chunk_len) end = d->chunk_len;
    if (pos + 4 > end) return kz_err_set(&d->err, KZ_ECORRUPT, "truncated substitution count");
    uint32_t n = rd32(c + pos);
    if (n > EVTX_MAX_VALUES)
        return kz_err_set(&d->err, KZ_ELIMIT, "%u substitution values (limit %d)", n,
                          EVTX_MAX_VALUES);
    uint32_t desc = pos + 4, data = desc + 4 * n;
    if (data > end)
        return kz_err_set(&d->err, KZ_ECORRUPT, "substitution descriptors run past the record");
    struct bx_value *vals = kz_arena_alloc(&d->arena, (n ? n : 1) * sizeof *vals);
    if (!vals)
        return kz_err_set(&d->err, KZ_ELIMIT, "chunk expands beyond its memory limit (values)");
    uint32_t p = data;
    const uint8_t *dp = c + desc;
    for (uint32_t i = 0; i < n; i++, dp += 4) {
        uint32_t dw = rd32(dp); /* size (16 bits), type (8), padding */
        uint32_t len = dw & 0xffff;
        vals[i].type = (uint8_t)(dw >> 16);
        vals[i].len = len;
        vals[i].data = c + p;
        p += len; /* at most 4096 x 65535 past a chunk offset: no overflow in 32 bits */
    }
    if (p > end) return kz_err_set(&d->err, KZ_ECORRUPT, "substitution values run past the record");
    *vals_out = vals;
    *nvals_out = n;
    *consumed = p - pos;
    return 0;
}

/* ---- walking ---- */

/* Walks ops[from, to). item: ops[from] opens one item of a repeated (array) element, whose rules
 * were applied to the whole array already. */
static int walk_ops(struct kz_evtx_decoder *d, const struct bx_op *ops, uint32_t from, uint32_t to,
                    int item, const struct bx_value *vals, uint32_t nvals,
                    const struct bx_visitor *vis, void *self);

static int walk_template(struct kz_evtx_decoder *d, const struct bx_template *t,
                         uint32_t values_off, uint32_t end, const struct bx_visitor *vis,
                         void *self) {
    struct bx_value *vals;
    uint32_t nvals, consumed;
    int rc = bx_parse_values(d, values_off, end, &vals, &nvals, &consumed);
    if (rc) return rc;
    return walk_ops(d, t->ops, 0, t->nops, 0, vals, nvals, vis, self);
}

/* A BinXML value (or a record body): fragment headers, then a template instance or plain elements.
 */
int bx_walk_fragment(struct kz_evtx_decoder *d, uint32_t start, uint32_t end,
                     const struct bx_visitor *vis, void *self) {
    if (d->nest >= EVTX_MAX_NEST)
        return kz_err_set(&d->err, KZ_ELIMIT, "BinXML nested deeper than %d", EVTX_MAX_NEST);
    d->nest++;
    int rc;
    uint32_t pos = start;
    while (pos < end && d->chunk[pos] == BX_FRAGMENT)
        pos += 4;
    if (pos < end && d->chunk[pos] == BX_TEMPLATE) {
        struct bx_template *t;
        uint32_t values_off;
        rc = bx_template_instance(d, &pos, end, &t, &values_off);
        if (!rc) rc = walk_template(d, t, values_off, end, vis, self);
    } else {
        struct bx_op *ops;
        uint32_t nops;
        rc = bx_compile(d, pos, end, &ops, &nops);
        if (!rc) rc = walk_ops(d, ops, 0, nops, 0, NULL, 0, vis, self);
    }
    d->nest--;
    return rc;
}

int bx_value_is_null(const struct bx_value *vals, uint32_t nvals, uint32_t index) {
    if (index >= nvals || vals[index].type == VT_NULL) return 1;
    /* An empty string is a value (Windows shows the element, empty); empty binary is not. */
    uint8_t type = vals[index].type;
    return vals[index].len == 0 && type != VT_WSTRING && type != VT_ASTRING;
}

int bx_element_omitted(const struct bx_op *ops, uint32_t open, const struct bx_value *vals,
                       uint32_t nvals) {
    const struct bx_op *op = &ops[open];
    /* Only an element that is nothing but its value is left out: <Event> holding <System> and an
     * optional EventData document stays when the document is NULL. */
    if (!op->len || (op->vtype & 2)) return 0;
    if (bx_value_is_null(vals, nvals, op->len - 1)) return 1;
    if (!(op->vtype & 1)) return 0;
    /* Several optional substitutions: any NULL one among the element's own content. */
    for (uint32_t k = open + 1, depth = 0; k + 1 < op->skip; k++) {
        if (ops[k].kind == OP_OPEN)
            k = ops[k].skip - 1;
        else if (ops[k].kind == OP_ATTR)
            depth = 1;
        else if (ops[k].kind == OP_CLOSE_START)
            depth = 0;
        else if (ops[k].kind == OP_SUBST && ops[k].len && !depth &&
                 bx_value_is_null(vals, nvals, ops[k].arg))
            return 1;
    }
    return 0;
}

int bx_array_content(const struct bx_op *ops, uint32_t open) {
    uint32_t k = open + 1, end = ops[open].skip;
    while (k < end && ops[k].kind != OP_CLOSE_START && ops[k].kind != OP_CLOSE_EMPTY)
        k++;
    if (k + 3 == end && ops[k].kind == OP_CLOSE_START && ops[k + 1].kind == OP_SUBST &&
        ops[k + 2].kind == OP_END)
        return (int)k + 1;
    return -1;
}

struct repeat_ctx {
    struct kz_evtx_decoder *d;
    const struct bx_op *ops;
    uint32_t from, to;
    struct bx_value *vals; /* a copy, with the array's slot replaced by each item in turn */
    uint32_t nvals, slot;
    const struct bx_visitor *vis;
    void *self;
};

static int repeat_item(void *ctx, const struct bx_value *item) {
    struct repeat_ctx *r = ctx;
    r->vals[r->slot] = *item;
    return walk_ops(r->d, r->ops, r->from, r->to, 1, r->vals, r->nvals, r->vis, r->self);
}

/* <X>{array}</X> stands for one <X>item</X> per item (MS-EVEN6 2.2.12.1). */
static int walk_array_element(struct kz_evtx_decoder *d, const struct bx_op *ops, uint32_t open,
                              const struct bx_value *vals, uint32_t nvals, uint32_t slot,
                              const struct bx_visitor *vis, void *self) {
    struct bx_value *copy = kz_arena_alloc(&d->arena, nvals * sizeof *copy);
    if (!copy)
        return kz_err_set(&d->err, KZ_ELIMIT,
                          "chunk expands beyond its memory limit (array values)");
    memcpy(copy, vals, nvals * sizeof *copy);
    struct repeat_ctx r = {d, ops, open, ops[open].skip, copy, nvals, slot, vis, self};
    int rc = bx_array_items(&vals[slot], repeat_item, &r);
    if (rc > 0 || rc == KZ_EUNSUPP) rc = kz_err_set(&d->err, KZ_ECORRUPT, "bad array value");
    return rc;
}

static int walk_ops(struct kz_evtx_decoder *d, const struct bx_op *ops, uint32_t from, uint32_t to,
                    int item, const struct bx_value *vals, uint32_t nvals,
                    const struct bx_visitor *vis, void *self) {
    int rc = 0, in_attr = 0;
    if ((d->budget -= (long)(to - from)) < 0)
        return kz_err_set(&d->err, KZ_ELIMIT, "record expands beyond %d tokens",
                          EVTX_RECORD_BUDGET);
    for (uint32_t i = from; i < to && !rc; i++) {
        const struct bx_op *op = &ops[i];
        if (in_attr && op->kind != OP_TEXT && op->kind != OP_SUBST) {
            in_attr = 0;
            if ((rc = vis->attr_end(self))) break;
        }
        switch (op->kind) {
        case OP_OPEN: {
            if (op->skip <= i || op->skip > to) {
                rc = kz_err_set(&d->err, KZ_ECORRUPT, "unbalanced element");
                break;
            }
            int whole = !(item && i == from);
            if (whole && bx_element_omitted(ops, i, vals, nvals)) {
                i = op->skip - 1;
                break;
            }
            int k = whole && i ? bx_array_content(ops, i) : -1;
            if (k >= 0 && ops[k].arg < nvals && (vals[ops[k].arg].type & VT_ARRAY)) {
                rc = walk_array_element(d, ops, i, vals, nvals, ops[k].arg, vis, self);
                i = op->skip - 1;
                break;
            }
            rc = vis->open(self, op->name);
            break;
        }
        case OP_ATTR:
            in_attr = 1;
            rc = vis->attr_begin(self, op->name);
            break;
        case OP_CLOSE_START:
            rc = vis->close_start(self);
            break;
        case OP_CLOSE_EMPTY:
            rc = vis->close(self, 1);
            break;
        case OP_END:
            rc = vis->close(self, 0);
            break;
        case OP_TEXT:
            rc = vis->text(self, op->u.text, op->len, op->vtype);
            break;
        case OP_SUBST: {
            if (op->arg >= nvals) break; /* no such value: render nothing, as for NULL */
            const struct bx_value *v = &vals[op->arg];
            if (v->type == VT_NULL || (v->len == 0 && v->type != VT_WSTRING)) break;
            if (v->type == VT_BINXML) {
                /* A document inside an attribute value cannot be XML; refusing it also keeps the
                 * visitors' one attribute in progress from being reentered. */
                if (in_attr) {
                    rc = kz_err_set(&d->err, KZ_ECORRUPT, "BinXML value inside an attribute");
                    break;
                }
                uint32_t off = (uint32_t)(v->data - d->chunk);
                rc = bx_walk_fragment(d, off, off + v->len, vis, self);
            } else {
                rc = vis->value(self, v);
            }
            break;
        }
        case OP_TEMPLATE:
            rc = walk_template(d, op->u.tmpl, op->len, d->chunk_len, vis, self);
            break;
        }
    }
    if (!rc && in_attr) rc = vis->attr_end(self);
    return rc;
}
