/* evtx_fields.c - the field-extraction visitor: turns a record's document into a kz_event.
 *
 * Field naming (what Sigma rules and `kizuki dump` use):
 *   <System>: each child's text under its element name (EventID, Channel, Computer...) and each
 * attribute as Element_Attribute (Provider_Name, TimeCreated_SystemTime, Execution_ProcessID...).
 *   <EventData>: <Data Name="X">v</Data> gives X = v; an unnamed <Data> gives Data = v (repeated as
 * often as it occurs); other children (Binary...) by element name. <UserData> and other sections:
 * every leaf element's text by its element name, attributes as Element_Attribute. xmlns attributes
 * are dropped. Name lookups are cached so that the per-record cost is hashing, not interning. */
#include "evtx_int.h"

#include "../../core/alloc.h"
#include "../../core/intern.h"

#include <stdio.h>

#define FV_MAX_STACK (EVTX_MAX_DEPTH * 2)

struct fv_frame {
    uint32_t name;       /* element name id */
    uint32_t text_start; /* where this element's content starts in d->text */
    uint32_t data_name;  /* EventData <Data Name=...>: the name id, 0 if none */
    uint8_t has_child;   /* a child element was seen */
    uint8_t parts;       /* content parts seen (text or values) */
    uint8_t kind;        /* kz_value_kind of the last value part */
};

struct fv {
    struct kz_evtx_decoder *d;
    int depth;
    uint8_t section;     /* enum kz_section of the current top-level child of <Event> */
    uint32_t attr_name;  /* attribute being collected, 0 if none */
    uint32_t attr_start; /* where its value starts in d->text */
    uint8_t attr_parts;
    uint8_t attr_kind; /* kz_value_kind of the last part */
    struct fv_frame st[FV_MAX_STACK];
};

/* ---- name caches ---- */

/* Element and attribute id -> id of "Element_Attribute". */
static uint32_t pair_name(struct kz_evtx_decoder *d, uint32_t elem, uint32_t attr) {
    uint64_t key = (uint64_t)elem << 32 | attr;
    uint32_t i = (uint32_t)(key * 0x9E3779B97F4A7C15ull >> 52); /* 4096 slots */
    for (uint32_t k = 0; k < 4096; k++, i = (i + 1) & 4095) {
        if (d->pair_keys[i] == key) return d->pair_ids[i];
        if (d->pair_keys[i] == 0) break;
    }
    char tmp[2 * KZ_INTERN_MAX_LEN + 2];
    int n = snprintf(tmp, sizeof tmp, "%s_%s", kz_intern_name(elem), kz_intern_name(attr));
    if (n < 0) return 0;
    uint32_t id = kz_intern(tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
    if (d->pair_used < 2048 && d->pair_keys[i] == 0) {
        d->pair_keys[i] = key;
        d->pair_ids[i] = id;
        d->pair_used++;
    }
    return id;
}

/* ---- building the event ---- */

/* Makes room for n more fields. */
static int reserve_fields(struct kz_evtx_decoder *d, uint32_t n) {
    if (n <= d->fields_cap - d->nfields) return 0;
    if (n > EVTX_MAX_FIELDS - d->nfields)
        return kz_err_set(&d->err, KZ_ELIMIT, "more than %d fields", EVTX_MAX_FIELDS);
    uint32_t cap = d->fields_cap ? d->fields_cap : 64;
    while (cap - d->nfields < n)
        cap *= 2;
    struct kz_field *f = kz_realloc(d->fields, cap * sizeof *f);
    if (!f) return kz_err_set(&d->err, KZ_ENOMEM, "out of memory for fields");
    d->fields = f;
    d->fields_cap = cap;
    return 0;
}

/* Adds a field whose text val (NUL-terminated, len bytes) already lives in the chunk arena. */
static inline __attribute__((always_inline)) int emit_owned(struct kz_evtx_decoder *d,
                                                            uint8_t section, uint32_t name,
                                                            uint8_t kind, char *val, size_t len) {
    if (!name) return 0; /* the name table is full: drop the field, keep the event */
    if (d->nfields == d->fields_cap) {
        int rc = reserve_fields(d, 1);
        if (rc) return rc;
    }
    if (len > EVTX_MAX_TEXT) {
        len = EVTX_MAX_TEXT;
        val[len] = 0;
    }
    struct kz_field *f = &d->fields[d->nfields++];
    f->name = name;
    f->section = section;
    f->kind = kind;
    f->flags = 0;
    f->len = (uint32_t)len;
    f->val = val;
    if (section == KZ_SEC_SYSTEM && name < KZ_F_WELL_KNOWN_COUNT) {
        struct kz_event *ev = &d->event;
        switch (name) {
        case KZ_F_EventID: {
            uint32_t id = 0;
            for (size_t i = 0; i < len && val[i] >= '0' && val[i] <= '9' && id < 100000000; i++)
                id = id * 10 + (uint32_t)(val[i] - '0');
            ev->event_id = id;
            break;
        }
        case KZ_F_Channel:
            ev->channel = val;
            break;
        case KZ_F_Computer:
            ev->host = val;
            break;
        case KZ_F_Provider_Name:
            ev->provider = val;
            break;
        }
    }
    return 0;
}

/* Adds a field, copying its text into the chunk arena. */
static int emit(struct kz_evtx_decoder *d, uint8_t section, uint32_t name, uint8_t kind,
                const char *text, size_t len) {
    if (len > EVTX_MAX_TEXT) len = EVTX_MAX_TEXT;
    char *val = kz_arena_strndup(&d->arena, text, len);
    if (!val) return kz_err_set(&d->err, KZ_ELIMIT, "chunk expands beyond its memory limit");
    return emit_owned(d, section, name, kind, val, len);
}

/* Renders one value straight into the chunk arena (the common field: one value, no literal text).
 */
static int render_owned(struct kz_evtx_decoder *d, const struct bx_value *v, char **out,
                        size_t *len) {
    size_t bound = bx_text_bound(v->type, v->len);
    char *p = kz_arena_alloc(&d->arena, bound);
    if (!p) return kz_err_set(&d->err, KZ_ELIMIT, "chunk expands beyond its memory limit");
    char *end = bx_render_to(p, v->type, v->data, v->len);
    if (!end)
        return kz_err_set(&d->err, KZ_ECORRUPT, "bad value of type 0x%02x (%u bytes)", v->type,
                          v->len);
    kz_arena_trim(&d->arena, p, bound, (size_t)(end - p) + 1);
    *out = p;
    *len = (size_t)(end - p);
    return 0;
}

/* ---- visitor callbacks ---- */

static int fv_open(void *self, uint32_t name) {
    struct fv *v = self;
    v->d->doc_elements++;
    if (v->depth >= FV_MAX_STACK)
        return kz_err_set(&v->d->err, KZ_ELIMIT, "elements nested deeper than %d", FV_MAX_STACK);
    if (v->depth > 0) v->st[v->depth - 1].has_child = 1;
    if (v->depth == 1) {
        v->section = name == KZ_F_System      ? KZ_SEC_SYSTEM
                     : name == KZ_F_EventData ? KZ_SEC_EVENTDATA
                     : name == KZ_F_UserData  ? KZ_SEC_USERDATA
                                              : KZ_SEC_OTHER;
    }
    struct fv_frame *f = &v->st[v->depth++];
    f->name = name;
    f->text_start = (uint32_t)v->d->text.len;
    f->data_name = 0;
    f->has_child = 0;
    f->parts = 0;
    f->kind = KZ_VK_STRING;
    return 0;
}

static int fv_attr_begin(void *self, uint32_t name) {
    struct fv *v = self;
    v->attr_name = name;
    v->attr_start = (uint32_t)v->d->text.len;
    v->attr_parts = 0;
    v->attr_kind = KZ_VK_STRING;
    return 0;
}

static int fv_attr_end(void *self) {
    struct fv *v = self;
    struct kz_evtx_decoder *d = v->d;
    if (d->text.len < v->attr_start)
        return kz_err_set(&d->err, KZ_ECORRUPT, "unbalanced attribute");
    const char *text = d->text.data ? d->text.data + v->attr_start : "";
    size_t len = d->text.len - v->attr_start;
    int rc = 0;
    if (len > 0 && v->depth >= 3 && v->attr_name != d->id_xmlns) {
        struct fv_frame *f = &v->st[v->depth - 1];
        if (v->section == KZ_SEC_EVENTDATA && f->name == KZ_F_Data && v->attr_name == KZ_F_Name) {
            /* Records with a field plan never get here; the walk interns (takes a lock). */
            f->data_name = kz_intern(text, len);
        } else {
            uint8_t kind = v->attr_parts == 1 ? v->attr_kind : KZ_VK_STRING;
            rc = emit(v->d, v->section, pair_name(d, f->name, v->attr_name), kind, text, len);
        }
    }
    d->text.len = v->attr_start;
    v->attr_name = 0;
    return rc;
}

static int fv_close_start(void *self) {
    (void)self;
    return 0;
}

static int fv_close(void *self, int empty) {
    (void)empty;
    struct fv *v = self;
    struct kz_evtx_decoder *d = v->d;
    if (v->depth == 0) return kz_err_set(&d->err, KZ_ECORRUPT, "unbalanced end tag");
    struct fv_frame *f = &v->st[v->depth - 1];
    const char *text = d->text.data ? d->text.data + f->text_start : "";
    size_t len = d->text.len - f->text_start;
    uint8_t kind = f->parts == 1 ? f->kind : KZ_VK_STRING;
    int rc = 0;
    if (v->depth >= 3) {
        if (v->section == KZ_SEC_EVENTDATA && f->name == KZ_F_Data) {
            if (f->data_name)
                rc = emit(v->d, v->section, f->data_name, kind, text, len);
            else if (len)
                rc = emit(v->d, v->section, KZ_F_Data, kind, text, len);
        } else if (!f->has_child && len) {
            rc = emit(v->d, v->section, f->name, kind, text, len);
        }
    }
    d->text.len = f->text_start;
    if (d->text.data) d->text.data[d->text.len] = 0;
    v->depth--;
    return rc;
}

static int fv_text(void *self, const char *s, size_t n, int cdata) {
    (void)cdata;
    struct fv *v = self;
    if (v->attr_name) {
        v->attr_parts++;
        v->attr_kind = KZ_VK_STRING;
    } else if (v->depth > 0) {
        v->st[v->depth - 1].parts++;
        v->st[v->depth - 1].kind = KZ_VK_STRING;
    }
    kz_buf_append(&v->d->text, s, n);
    return v->d->text.failed ? kz_err_set(&v->d->err, KZ_ELIMIT, "field text too long") : 0;
}

struct item_ctx {
    struct kz_buf *out;
    int count;
};

static int render_item(void *ctx, const struct bx_value *item) {
    struct item_ctx *c = ctx;
    /* Array items are rendered one per line, the way Event Viewer lists multi-valued data. */
    if (c->count++) kz_buf_putc(c->out, '\n');
    return bx_render_value(c->out, item->type, item->data, item->len);
}

/* Shared with the XML visitor: renders any non-BinXML value, arrays included, into out. */
int evtx_render_any(struct kz_buf *out, const struct bx_value *val) {
    if (val->type & VT_ARRAY) {
        struct item_ctx c = {out, 0};
        return bx_array_items(val, render_item, &c);
    }
    return bx_render_value(out, val->type, val->data, val->len);
}

static int fv_value(void *self, const struct bx_value *val) {
    struct fv *v = self;
    struct kz_evtx_decoder *d = v->d;
    if (v->attr_name) {
        v->attr_parts++;
        v->attr_kind = val->type & VT_ARRAY ? KZ_VK_STRING : bx_value_kind(val->type);
        if (v->attr_name == d->id_systemtime && val->type == VT_FILETIME && val->len >= 8)
            if (rd64(val->data)) d->event.ts = kz_time_from_filetime(rd64(val->data));
    } else if (v->depth > 0) {
        v->st[v->depth - 1].parts++;
        v->st[v->depth - 1].kind = bx_value_kind(val->type);
        if (val->type & VT_ARRAY) v->st[v->depth - 1].kind = KZ_VK_STRING;
    }
    int rc = evtx_render_any(&d->text, val);
    if (d->text.failed) return kz_err_set(&d->err, KZ_ELIMIT, "field text too long");
    if (rc)
        return kz_err_set(&d->err, rc, "bad value of type 0x%02x (%u bytes)", val->type, val->len);
    return 0;
}

static const struct bx_visitor field_visitor = {
    fv_open, fv_attr_begin, fv_attr_end, fv_close_start, fv_close, fv_text, fv_value,
};

/* ---- field plans: the visitor above, run once per template on symbols instead of values ----
 *
 * Walking a template with the visitor costs an indirect call per op and text assembly per field,
 * for every record. But a template fixes everything except the values: which fields exist, their
 * names and sections, which values and literal texts make up each. So the first record that uses a
 * template runs the visitor's rules over the template's ops once, recording for every field it
 * would emit the parts (literal text or substitution number) of its text; later records just render
 * those parts. Templates the rules cannot be fixed for (a BinXML value, whose content is a document
 * of its own; a Data Name made of values) keep the walk, as does any record whose value turns out
 * to be BinXML. */

#define FP_TEXT UINT32_MAX /* fpart.subst of a literal text part */

static const char empty_text[1] = ""; /* the text of every empty field (never written to) */

struct fpart {
    uint32_t subst;   /* substitution index, or FP_TEXT */
    uint32_t len;     /* literal: bytes */
    const char *text; /* literal: UTF-8 */
};

enum {
    FE_IF_NONEMPTY = 1, /* leave the field out when its text is empty */
    FE_SYSTEMTIME = 2,  /* a FILETIME here is the event's time */
    FE_NESTED = 4,      /* not a field: a BinXML value whose document continues here */
    FE_ARRAY = 8,       /* the element's content is one value: an array repeats the field */
    FE_ARRAY_WALK = 16, /* ... but the element also gives attribute fields: arrays need the walk */
};

struct fentry {
    uint32_t name; /* field name; FE_NESTED: the element the nested document is inside */
    uint8_t section;
    uint8_t flags; /* FE_* */
    uint16_t nparts;
    struct fpart *parts;
    uint8_t depth;  /* FE_NESTED: element depth the nested document starts at */
    uint16_t cond;  /* 1 + an optional substitution whose NULL leaves the field out, or 0 */
    uint32_t first; /* parts[0].subst, kept here to spare the common field a pointer chase */
};

/* A plan is built for the place in the document where the template starts; a template met in
 * another place (rare) is walked. */
struct fplan {
    struct fentry *e;
    uint32_t n;
    uint8_t depth, section; /* where the template's document starts */
    uint32_t parent;        /* name of the element around it, 0 at the top */
};

#define FP_MAX_PARTS 4096   /* parts open at once while building */
#define FP_MAX_ENTRIES 4096 /* fields one template may produce */

struct fp_frame {
    uint32_t name;
    uint32_t parts_start; /* first of this element's direct content parts */
    uint32_t data_name;   /* EventData <Data Name=...> id */
    uint8_t has_child;
    uint8_t attr_fields; /* its attributes gave fields */
    uint16_t cond;       /* bx_op.len of an element with an optional substitution */
    int array_subst;     /* bx_array_content() of the element, -1 when none */
};

struct fp_builder {
    struct kz_evtx_decoder *d;
    struct fpart parts[FP_MAX_PARTS];
    uint32_t nparts;
    struct fentry entries[FP_MAX_ENTRIES];
    uint32_t nentries;
    struct fp_frame st[FV_MAX_STACK];
    int depth;
    uint8_t section;
    uint32_t attr_name, attr_start;
    int in_attr;
};

/* Records a field made of parts[from..nparts). Returns 0, or -1 when the plan cannot be built. */
static int fp_entry(struct fp_builder *b, uint32_t name, uint8_t flags, uint32_t from) {
    if (!name || b->nentries >= FP_MAX_ENTRIES) return -1;
    uint32_t n = b->nparts - from;
    struct fpart *parts = kz_arena_alloc(&b->d->arena, (n ? n : 1) * sizeof *parts);
    if (!parts) return -1;
    if (n) memcpy(parts, b->parts + from, n * sizeof *parts);
    uint16_t cond = b->depth > 0 ? b->st[b->depth - 1].cond : 0;
    b->entries[b->nentries++] =
        (struct fentry){name,  b->section,        flags, (uint16_t)n,
                        parts, (uint8_t)b->depth, cond,  n ? parts[0].subst : FP_TEXT};
    return n > UINT16_MAX ? -1 : 0;
}

static int fp_attr_end(struct fp_builder *b) {
    struct kz_evtx_decoder *d = b->d;
    int rc = 0;
    b->in_attr = 0;
    if (b->depth >= 3 && b->attr_name != d->id_xmlns) {
        struct fp_frame *f = &b->st[b->depth - 1];
        if (b->section == KZ_SEC_EVENTDATA && f->name == KZ_F_Data && b->attr_name == KZ_F_Name) {
            /* The name of the field must be known now: only literal text will do. */
            char name[KZ_INTERN_MAX_LEN];
            size_t len = 0;
            for (uint32_t i = b->attr_start; i < b->nparts; i++) {
                if (b->parts[i].subst != FP_TEXT) return -1;
                size_t k = b->parts[i].len;
                if (len + k > sizeof name) k = sizeof name - len;
                memcpy(name + len, b->parts[i].text, k);
                len += k;
            }
            if (len) f->data_name = kz_intern(name, len);
        } else {
            uint8_t flags = FE_IF_NONEMPTY | (b->attr_name == d->id_systemtime ? FE_SYSTEMTIME : 0);
            rc = fp_entry(b, pair_name(d, f->name, b->attr_name), flags, b->attr_start);
            f->attr_fields = 1;
        }
    }
    b->nparts = b->attr_start;
    return rc;
}

static int fp_build(struct kz_evtx_decoder *d, const struct bx_template *t, uint8_t depth,
                    uint8_t section, uint32_t parent, struct fplan **out) {
    if (depth >= 3 || depth >= FV_MAX_STACK)
        return -1; /* deeper, the parent's fields would change */
    struct fp_builder *b = kz_malloc(sizeof *b);
    if (!b) return -1;
    b->d = d;
    b->nparts = b->nentries = 0;
    b->depth = depth;
    b->section = section;
    b->in_attr = 0;
    if (depth) b->st[depth - 1] = (struct fp_frame){parent, 0, 0, 0, 0, 0, -1};
    int rc = 0;
    for (uint32_t i = 0; i < t->nops && !rc; i++) {
        const struct bx_op *op = &t->ops[i];
        if (b->in_attr && op->kind != OP_TEXT && op->kind != OP_SUBST && (rc = fp_attr_end(b)))
            break;
        switch (op->kind) {
        case OP_OPEN:
            if (b->depth >= FV_MAX_STACK) {
                rc = -1;
                break;
            }
            if (b->depth > 0) {
                b->st[b->depth - 1].has_child = 1;
                /* Left out with its parent: simple to walk, hard to plan; rare. */
                if (b->st[b->depth - 1].cond) {
                    rc = -1;
                    break;
                }
            }
            if ((op->vtype & 1) && op->len &&
                !(op->vtype & 2)) { /* several optional substitutions */
                rc = -1;
                break;
            }
            if (b->depth == 1)
                b->section = op->name == KZ_F_System      ? KZ_SEC_SYSTEM
                             : op->name == KZ_F_EventData ? KZ_SEC_EVENTDATA
                             : op->name == KZ_F_UserData  ? KZ_SEC_USERDATA
                                                          : KZ_SEC_OTHER;
            b->st[b->depth++] = (struct fp_frame){op->name,
                                                  b->nparts,
                                                  0,
                                                  0,
                                                  0,
                                                  (uint16_t)((op->vtype & 2) ? 0 : op->len),
                                                  i ? bx_array_content(t->ops, i) : -1};
            break;
        case OP_ATTR:
            b->in_attr = 1;
            b->attr_name = op->name;
            b->attr_start = b->nparts;
            break;
        case OP_CLOSE_START:
            break;
        case OP_CLOSE_EMPTY:
        case OP_END: {
            if (b->depth == 0) {
                rc = -1;
                break;
            }
            struct fp_frame *f = &b->st[b->depth - 1];
            uint8_t array = f->array_subst < 0 ? 0 : f->attr_fields ? FE_ARRAY_WALK : FE_ARRAY;
            if (b->depth >= 3) {
                if (b->section == KZ_SEC_EVENTDATA && f->name == KZ_F_Data)
                    rc = f->data_name
                             ? fp_entry(b, f->data_name, array, f->parts_start)
                             : fp_entry(b, KZ_F_Data, FE_IF_NONEMPTY | array, f->parts_start);
                else if (!f->has_child)
                    rc = fp_entry(b, f->name, FE_IF_NONEMPTY | array, f->parts_start);
            }
            /* Above depth 3 an element gives no field of its own, so neither its omission (the
             * entries inside carry its condition) nor its repetition changes the fields. */
            b->nparts = f->parts_start;
            b->depth--;
            break;
        }
        case OP_TEXT:
        case OP_SUBST:
            if (op->kind == OP_SUBST && (op->vtype & 0x7f) == VT_BINXML) {
                /* A nested document directly inside <Event> or a section element (how Windows
                 * stores EventData and UserData): it adds elements, never text to a field. */
                if (b->in_attr || b->depth == 0 || b->depth >= 3 || b->nparts >= FP_MAX_PARTS) {
                    rc = -1;
                    break;
                }
                uint32_t from = b->nparts;
                b->parts[b->nparts++] = (struct fpart){op->arg, 0, NULL};
                rc = fp_entry(b, b->st[b->depth - 1].name, FE_NESTED, from);
                b->nparts = from;
                b->st[b->depth - 1].has_child = 1;
            } else if (b->nparts >= FP_MAX_PARTS)
                rc = -1;
            else if (op->kind == OP_TEXT)
                b->parts[b->nparts++] = (struct fpart){FP_TEXT, op->len, op->u.text};
            else
                b->parts[b->nparts++] = (struct fpart){op->arg, 0, NULL};
            break;
        case OP_TEMPLATE:
            rc = -1;
            break;
        }
    }
    if (!rc && b->in_attr) rc = fp_attr_end(b);
    struct fplan *plan = NULL;
    if (!rc) {
        plan = kz_arena_alloc(&d->arena, sizeof *plan);
        struct fentry *e = kz_arena_alloc(&d->arena, (b->nentries ? b->nentries : 1) * sizeof *e);
        if (!plan || !e)
            rc = -1;
        else {
            if (b->nentries) memcpy(e, b->entries, b->nentries * sizeof *e);
            plan->e = e;
            plan->n = b->nentries;
            plan->depth = depth;
            plan->section = section;
            plan->parent = parent;
        }
    }
    kz_free(b);
    *out = plan;
    return rc;
}

#define FP_FALLBACK 1 /* this record needs the walk */

static int fp_run_fragment(struct kz_evtx_decoder *d, uint32_t start, uint32_t end, uint8_t depth,
                           uint8_t section, uint32_t parent);

struct array_emit {
    struct kz_evtx_decoder *d;
    const struct fentry *e;
};

/* One field per array item, as the walk gives one element per item. */
static int emit_array_item(void *ctx, const struct bx_value *item) {
    struct array_emit *a = ctx;
    struct kz_buf *text = &a->d->text;
    text->len = 0;
    int rc = bx_render_value(text, item->type, item->data, item->len);
    if (rc) return kz_err_set(&a->d->err, rc, "bad array item of type 0x%02x", item->type);
    if (text->failed) return kz_err_set(&a->d->err, KZ_ELIMIT, "field text too long");
    if ((a->e->flags & FE_IF_NONEMPTY) && text->len == 0) return 0;
    return emit(a->d, a->e->section, a->e->name, bx_value_kind(item->type),
                text->data ? text->data : "", text->len);
}

static int fp_run(struct kz_evtx_decoder *d, const struct fplan *plan, const struct bx_value *vals,
                  uint32_t nvals) {
    struct kz_buf *text = &d->text;
    if ((d->budget -= (long)plan->n) < 0)
        return kz_err_set(&d->err, KZ_ELIMIT, "record expands beyond %d fields",
                          EVTX_RECORD_BUDGET);
    /* A plan gives at most one field per entry (arrays aside): room for all at once. */
    int rc0 = reserve_fields(d, plan->n);
    if (rc0) return rc0;
    /* Locals, so the loop bounds stay in registers while fields are written through pointers. */
    const struct fentry *e = plan->e, *e_end = plan->e + plan->n;
    for (; e < e_end; e++) {
        if (e->flags & FE_NESTED) {
            uint32_t k = e->parts[0].subst;
            if (k >= nvals) continue;
            const struct bx_value *v = &vals[k];
            if (v->type != VT_BINXML) {
                /* Anything else here is text directly inside <Event> or a section: no field. */
                continue;
            }
            uint32_t off = (uint32_t)(v->data - d->chunk);
            int rc = fp_run_fragment(d, off, off + v->len, e->depth, e->section, e->name);
            if (rc) return rc;
            continue;
        }
        /* The element rules of the walk (binxml.c), in the same order: NULL optional content
         * leaves the element out; an array as its whole content repeats it. */
        if (e->cond && bx_value_is_null(vals, nvals, e->cond - 1u)) continue;
        if ((e->flags & (FE_ARRAY | FE_ARRAY_WALK)) && e->parts[0].subst < nvals &&
            (vals[e->parts[0].subst].type & VT_ARRAY)) {
            if (e->flags & FE_ARRAY_WALK) return FP_FALLBACK;
            struct array_emit ae = {d, e};
            int rc = bx_array_items(&vals[e->parts[0].subst], emit_array_item, &ae);
            if (rc > 0 || rc == KZ_EUNSUPP)
                rc = kz_err_set(&d->err, KZ_ECORRUPT, "bad array value");
            if (rc) return rc;
            continue;
        }
        if (e->nparts <= 1 && e->first != FP_TEXT) {
            /* Nothing, or one value and nothing else: the common fields, done without assembling
             * text. A missing, NULL or empty value gives an empty field. */
            uint32_t k = e->first;
            const struct bx_value *v = k < nvals && e->nparts ? &vals[k] : NULL;
            if (!v || v->len == 0 || v->type == VT_NULL) {
                if (e->flags & FE_IF_NONEMPTY) continue;
                int rc = emit_owned(d, e->section, e->name, KZ_VK_STRING, (char *)empty_text, 0);
                if (rc) return rc;
                continue;
            }
            if (!(v->type & VT_ARRAY) && v->type != VT_BINXML) {
                char *val = NULL;
                size_t len = 0;
                int rc = render_owned(d, v, &val, &len);
                if (rc) return rc;
                if ((e->flags & FE_SYSTEMTIME) && v->type == VT_FILETIME && v->len >= 8 &&
                    rd64(v->data))
                    d->event.ts = kz_time_from_filetime(rd64(v->data));
                if ((e->flags & FE_IF_NONEMPTY) && len == 0) continue;
                if ((rc = emit_owned(d, e->section, e->name, bx_value_kind(v->type), val, len)))
                    return rc;
                continue;
            }
        }
        uint8_t kind = KZ_VK_STRING;
        uint32_t parts = 0;
        text->len = 0;
        for (uint32_t k = 0; k < e->nparts; k++) {
            const struct fpart *p = &e->parts[k];
            if (p->subst == FP_TEXT) {
                kz_buf_append(text, p->text, p->len);
                kind = KZ_VK_STRING;
                parts++;
                continue;
            }
            /* The same skipping rules as walk_ops. */
            if (p->subst >= nvals) continue;
            const struct bx_value *v = &vals[p->subst];
            if (v->type == VT_NULL || (v->len == 0 && v->type != VT_WSTRING)) continue;
            if (v->type == VT_BINXML) return FP_FALLBACK;
            int rc = evtx_render_any(text, v);
            if (rc)
                return kz_err_set(&d->err, rc, "bad value of type 0x%02x (%u bytes)", v->type,
                                  v->len);
            kind = v->type & VT_ARRAY ? KZ_VK_STRING : bx_value_kind(v->type);
            if ((e->flags & FE_SYSTEMTIME) && v->type == VT_FILETIME && v->len >= 8)
                if (rd64(v->data)) d->event.ts = kz_time_from_filetime(rd64(v->data));
            parts++;
        }
        if (text->failed) return kz_err_set(&d->err, KZ_ELIMIT, "field text too long");
        if ((e->flags & FE_IF_NONEMPTY) && text->len == 0) continue;
        int rc = emit(d, e->section, e->name, parts == 1 ? kind : KZ_VK_STRING,
                      text->data ? text->data : "", text->len);
        if (rc) return rc;
    }
    return 0;
}

/* Runs the plan of the template instance that makes up the fragment [start, end), for a document
 * that starts at the given depth and section inside the element `parent`. */
static int fp_run_fragment(struct kz_evtx_decoder *d, uint32_t start, uint32_t end, uint8_t depth,
                           uint8_t section, uint32_t parent) {
    uint32_t pos = start;
    while (pos < end && d->chunk[pos] == BX_FRAGMENT)
        pos += 4;
    if (pos >= end || d->chunk[pos] != BX_TEMPLATE || d->nest >= EVTX_MAX_NEST) return FP_FALLBACK;
    struct bx_template *t;
    uint32_t values_off;
    int rc = bx_template_instance(d, &pos, end, &t, &values_off);
    if (rc) return rc;
    if (t->plan_state == 0)
        t->plan_state = fp_build(d, t, depth, section, parent, &t->plan) ? -1 : 1;
    if (t->plan_state != 1) return FP_FALLBACK;
    const struct fplan *plan = t->plan;
    if (plan->depth != depth || plan->section != section || plan->parent != parent)
        return FP_FALLBACK;
    struct bx_value *vals;
    uint32_t nvals, consumed;
    if ((rc = bx_parse_values(d, values_off, end, &vals, &nvals, &consumed))) return rc;
    /* The walk counts elements as it opens them; a plan has no elements, so count the root here. */
    if (t->nops && t->ops[0].kind == OP_OPEN && !bx_element_omitted(t->ops, 0, vals, nvals))
        d->doc_elements++;
    d->nest++;
    rc = fp_run(d, plan, vals, nvals);
    d->nest--;
    return rc;
}

/* Tries the plans of the record's templates. Returns 0 done, FP_FALLBACK, or an error. */
static int extract_with_plan(struct kz_evtx_decoder *d, uint32_t start, uint32_t end) {
    if (d->no_plan) return FP_FALLBACK;
    int rc = fp_run_fragment(d, start, end, 0, KZ_SEC_OTHER, 0);
    if (rc == FP_FALLBACK) {
        d->nfields = 0;
        d->doc_elements = 0;
        kz_buf_clear(&d->text);
    }
    return rc;
}

int evtx_extract_fields(struct kz_evtx_decoder *d, uint32_t start, uint32_t end) {
    struct fv v;
    v.d = d;
    v.depth = 0;
    v.section = KZ_SEC_OTHER;
    v.attr_name = 0;
    kz_buf_clear(&d->text);
    d->nfields = 0;
    int rc = extract_with_plan(d, start, end);
    if (rc == FP_FALLBACK) rc = bx_walk_fragment(d, start, end, &field_visitor, &v);
    if (rc) return rc;
    /* Fields move into the chunk arena so events stay valid for the whole chunk. */
    struct kz_field *fields =
        kz_arena_alloc(&d->arena, (d->nfields ? d->nfields : 1) * sizeof *fields);
    if (!fields) return kz_err_set(&d->err, KZ_ELIMIT, "chunk expands beyond its memory limit");
    if (d->nfields) memcpy(fields, d->fields, d->nfields * sizeof *fields);
    d->event.fields = fields;
    d->event.nfields = d->nfields;
    return 0;
}
