/* evtx_fields.c - the field-extraction visitor: turns a record's document into a kz_event.
 *
 * Field naming (what Sigma rules and `kizuki dump` use):
 *   <System>: each child's text under its element name (EventID, Channel, Computer...) and each attribute
 *             as Element_Attribute (Provider_Name, TimeCreated_SystemTime, Execution_ProcessID...).
 *   <EventData>: <Data Name="X">v</Data> gives X = v; an unnamed <Data> gives Data = v (repeated as often
 *             as it occurs); other children (Binary...) by element name.
 *   <UserData> and other sections: every leaf element's text by its element name, attributes as
 *             Element_Attribute.
 * xmlns attributes are dropped. Name lookups are cached so that the per-record cost is hashing, not
 * interning. */
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
    const char *attr_literal; /* when the value is exactly one literal from a template: that text */
    uint8_t attr_parts;
    uint8_t attr_kind;   /* kz_value_kind of the last part */
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

static int emit(struct fv *v, uint32_t name, uint8_t kind, const char *text, size_t len) {
    struct kz_evtx_decoder *d = v->d;
    if (!name) return 0; /* the name table is full: drop the field, keep the event */
    if (d->nfields == d->fields_cap) {
        if (d->fields_cap >= EVTX_MAX_FIELDS)
            return kz_err_set(&d->err, KZ_ELIMIT, "more than %d fields", EVTX_MAX_FIELDS);
        uint32_t cap = d->fields_cap ? d->fields_cap * 2 : 64;
        struct kz_field *f = kz_realloc(d->fields, cap * sizeof *f);
        if (!f) return kz_err_set(&d->err, KZ_ENOMEM, "out of memory for fields");
        d->fields = f;
        d->fields_cap = cap;
    }
    if (len > EVTX_MAX_TEXT) len = EVTX_MAX_TEXT;
    char *val = kz_arena_strndup(&d->arena, text, len);
    if (!val) return kz_err_set(&d->err, KZ_ENOMEM, "chunk expands beyond the memory limit");
    struct kz_field *f = &d->fields[d->nfields++];
    f->name = name;
    f->section = v->section;
    f->kind = kind;
    f->flags = 0;
    f->len = (uint32_t)len;
    f->val = val;
    if (v->section == KZ_SEC_SYSTEM) {
        struct kz_event *ev = &d->event;
        switch (name) {
        case KZ_F_EventID: {
            uint32_t id = 0;
            for (size_t i = 0; i < len && val[i] >= '0' && val[i] <= '9' && id < 100000000; i++)
                id = id * 10 + (uint32_t)(val[i] - '0');
            ev->event_id = id;
            break;
        }
        case KZ_F_Channel: ev->channel = val; break;
        case KZ_F_Computer: ev->host = val; break;
        case KZ_F_Provider_Name: ev->provider = val; break;
        }
    }
    return 0;
}

/* ---- visitor callbacks ---- */

static int fv_open(void *self, uint32_t name) {
    struct fv *v = self;
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
    v->attr_literal = NULL;
    v->attr_parts = 0;
    v->attr_kind = KZ_VK_STRING;
    return 0;
}

static int fv_attr_end(void *self) {
    struct fv *v = self;
    struct kz_evtx_decoder *d = v->d;
    const char *text = d->text.data + v->attr_start;
    size_t len = d->text.len - v->attr_start;
    int rc = 0;
    if (len > 0 && v->depth >= 3 && v->attr_name != d->id_xmlns) {
        struct fv_frame *f = &v->st[v->depth - 1];
        if (v->section == KZ_SEC_EVENTDATA && f->name == KZ_F_Data && v->attr_name == KZ_F_Name) {
            /* The Name of a Data item is almost always template text: cache its id by address. */
            if (v->attr_parts == 1 && v->attr_literal) {
                uint32_t off = (uint32_t)((uintptr_t)v->attr_literal >> 3);
                uint32_t i = (off * 2654435761u) & 1023;
                for (uint32_t k = 0; k < 1024; k++, i = (i + 1) & 1023) {
                    if (d->literal_keys[i] == v->attr_literal) {
                        f->data_name = d->literal_ids[i];
                        break;
                    }
                    if (!d->literal_keys[i]) {
                        f->data_name = kz_intern(text, len);
                        d->literal_keys[i] = v->attr_literal;
                        d->literal_ids[i] = f->data_name;
                        break;
                    }
                }
            }
            if (!f->data_name) f->data_name = kz_intern(text, len);
        } else {
            uint8_t kind = v->attr_parts == 1 ? v->attr_kind : KZ_VK_STRING;
            rc = emit(v, pair_name(d, f->name, v->attr_name), kind, text, len);
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
            if (f->data_name) rc = emit(v, f->data_name, kind, text, len);
            else if (len) rc = emit(v, KZ_F_Data, kind, text, len);
        } else if (!f->has_child && len) {
            rc = emit(v, f->name, kind, text, len);
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
        v->attr_literal = s;
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
        v->attr_literal = NULL;
        v->attr_kind = val->type & VT_ARRAY ? KZ_VK_STRING : bx_value_kind(val->type);
        if (v->attr_name == d->id_systemtime && val->type == VT_FILETIME && val->len >= 8)
            d->event.ts = kz_time_from_filetime(rd64(val->data));
    } else if (v->depth > 0) {
        v->st[v->depth - 1].parts++;
        v->st[v->depth - 1].kind = bx_value_kind(val->type);
        if (val->type & VT_ARRAY) v->st[v->depth - 1].kind = KZ_VK_STRING;
    }
    int rc = evtx_render_any(&d->text, val);
    if (d->text.failed) return kz_err_set(&d->err, KZ_ELIMIT, "field text too long");
    if (rc) return kz_err_set(&d->err, rc, "bad value of type 0x%02x (%u bytes)", val->type, val->len);
    return 0;
}

static const struct bx_visitor field_visitor = {
    fv_open, fv_attr_begin, fv_attr_end, fv_close_start, fv_close, fv_text, fv_value,
};

int evtx_extract_fields(struct kz_evtx_decoder *d, uint32_t start, uint32_t end) {
    struct fv v;
    v.d = d;
    v.depth = 0;
    v.section = KZ_SEC_OTHER;
    v.attr_name = 0;
    kz_buf_clear(&d->text);
    d->nfields = 0;
    int rc = bx_walk_fragment(d, start, end, &field_visitor, &v);
    if (rc) return rc;
    /* Fields move into the chunk arena so events stay valid for the whole chunk. */
    struct kz_field *fields = kz_arena_alloc(&d->arena, (d->nfields ? d->nfields : 1) * sizeof *fields);
    if (!fields) return kz_err_set(&d->err, KZ_ENOMEM, "chunk expands beyond the memory limit");
    if (d->nfields) memcpy(fields, d->fields, d->nfields * sizeof *fields);
    d->event.fields = fields;
    d->event.nfields = d->nfields;
    return 0;
}
