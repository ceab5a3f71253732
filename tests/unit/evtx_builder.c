/* evtx_builder.c - in-memory EVTX chunk and file builder for tests; see evtx_builder.h.
 *
 * Layouts written here (offsets in bytes):
 *   chunk header: 0 "ElfChnk\0", 8 first record number, 16 last record number, 24 first record id,
 *     32 last record id, 40 header size (128), 44 last record offset, 48 free space offset, 52 data
 * CRC, 120 flags, 124 header CRC (of 0..120 and 128..512); 128..512 string and template tables
 * (zero). record: "**\0\0", size (4), record id (8), written FILETIME (8), BinXML, size copy (4).
 *   name: next offset (4), hash (2), character count (2), UTF-16LE characters, NUL (2).
 *   template instance: 0x0c, 0x01, template id (4), definition offset (4); definition: next offset
 * (4), GUID (16), data size (4), BinXML fragment. file header: 0 "ElfFile\0", 8 first chunk, 16
 * last chunk, 24 next record id, 32 header size (128), 36 minor (1), 38 major (3), 40 block size
 * (4096), 42 chunk count, 120 flags, 124 CRC of 0..120. */
#include "evtx_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint32_t eb_crc32(const void *data, size_t n) {
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

void eb_init(struct eb_chunk *c) {
    memset(c, 0, sizeof *c);
    c->pos = 512;
}

void eb_release(struct eb_chunk *c) {
    for (int i = 0; i < c->nnames; i++)
        free(c->names[i]);
    c->nnames = 0;
}

/* ---- raw writes ---- */

void eb_bytes(struct eb_chunk *c, const void *p, size_t n) {
    if (n == 0) return;
    if (c->pos + n > EB_CHUNK_SIZE) {
        c->overflow = 1;
        return;
    }
    memcpy(c->b + c->pos, p, n);
    c->pos += (uint32_t)n;
}

void eb_u8(struct eb_chunk *c, uint8_t v) {
    eb_bytes(c, &v, 1);
}

void eb_u16(struct eb_chunk *c, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    eb_bytes(c, b, 2);
}

void eb_u32(struct eb_chunk *c, uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> 8 * i);
    eb_bytes(c, b, 4);
}

void eb_u64(struct eb_chunk *c, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> 8 * i);
    eb_bytes(c, b, 8);
}

void eb_put32_at(struct eb_chunk *c, uint32_t off, uint32_t v) {
    if (off + 4 > EB_CHUNK_SIZE) return;
    for (int i = 0; i < 4; i++)
        c->b[off + i] = (uint8_t)(v >> 8 * i);
}

static void put64_at(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put32_at(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put16_at(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Decodes UTF-8 into UTF-16 code units; returns the count. out may be NULL to count only. */
static size_t utf8_to_units(const char *s, uint16_t *out) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        uint32_t cp;
        if (*p < 0x80)
            cp = *p++;
        else if ((*p & 0xE0) == 0xC0)
            cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F), p += 2;
        else if ((*p & 0xF0) == 0xE0)
            cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F),
            p += 3;
        else
            cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                 (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F),
            p += 4;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            if (out)
                out[n] = (uint16_t)(0xD800 + (cp >> 10)),
                out[n + 1] = (uint16_t)(0xDC00 + (cp & 0x3FF));
            n += 2;
        } else {
            if (out) out[n] = (uint16_t)cp;
            n++;
        }
    }
    return n;
}

uint32_t eb_utf16(struct eb_chunk *c, const char *utf8) {
    size_t n = utf8_to_units(utf8, NULL);
    uint16_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return 0;
    utf8_to_units(utf8, u);
    for (size_t i = 0; i < n; i++)
        eb_u16(c, u[i]);
    free(u);
    return (uint32_t)n;
}

size_t eb_wstr(uint8_t *out, const char *utf8, int nul) {
    size_t n = utf8_to_units(utf8, NULL);
    uint16_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return 0;
    utf8_to_units(utf8, u);
    for (size_t i = 0; i < n; i++)
        put16_at(out + 2 * i, u[i]);
    free(u);
    if (nul) put16_at(out + 2 * n, 0), n++;
    return 2 * n;
}

/* ---- records ---- */

void eb_record_begin(struct eb_chunk *c, uint64_t record_id, uint64_t filetime) {
    c->rec_start = c->pos;
    eb_bytes(c, "**\0\0", 4);
    eb_u32(c, 0); /* size, patched by eb_record_end */
    eb_u64(c, record_id);
    eb_u64(c, filetime);
    if (!c->nrecords) c->first_id = record_id;
    c->last_id = record_id;
}

void eb_record_end(struct eb_chunk *c) {
    uint32_t size = c->pos + 4 - c->rec_start;
    eb_u32(c, size);
    eb_put32_at(c, c->rec_start + 4, size);
    c->last_rec = c->rec_start;
    c->nrecords++;
}

/* ---- tokens ---- */

void eb_fragment_header(struct eb_chunk *c) {
    eb_u8(c, 0x0f);
    eb_u8(c, 1); /* major version */
    eb_u8(c, 1); /* minor version */
    eb_u8(c, 0); /* flags */
}

void eb_eof(struct eb_chunk *c) {
    eb_u8(c, 0x00);
}

void eb_name_ref(struct eb_chunk *c, const char *name) {
    for (int i = 0; i < c->nnames; i++) {
        if (!strcmp(c->names[i], name)) {
            eb_u32(c, c->name_off[i]);
            return;
        }
    }
    uint32_t off = c->pos + 4;
    eb_u32(c, off);
    if (c->nnames < EB_MAX_NAMES) {
        c->names[c->nnames] = strdup(name);
        c->name_off[c->nnames++] = off;
    }
    /* The name structure itself. Its hash: h = h * 65599 + unit, low 16 bits kept. */
    size_t n = utf8_to_units(name, NULL);
    uint16_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return;
    utf8_to_units(name, u);
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * 65599u + u[i];
    eb_u32(c, 0);
    eb_u16(c, (uint16_t)h);
    eb_u16(c, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        eb_u16(c, u[i]);
    eb_u16(c, 0);
    free(u);
}

void eb_open(struct eb_chunk *c, const char *name, int has_attrs) {
    eb_u8(c, has_attrs ? 0x41 : 0x01);
    eb_u16(c, 0xFFFF); /* dependency id: none */
    uint32_t size_at = c->pos;
    eb_u32(c, 0); /* element data size, patched when the element ends */
    eb_name_ref(c, name);
    uint32_t attr_at = 0;
    if (has_attrs) {
        attr_at = c->pos;
        eb_u32(c, 0); /* attribute list size, patched by the close token */
    }
    if (c->depth < EB_MAX_STACK) {
        c->elem_size_at[c->depth] = size_at;
        c->attr_size_at[c->depth] = attr_at;
    }
    c->depth++;
}

void eb_attr(struct eb_chunk *c, const char *name, int more) {
    eb_u8(c, more ? 0x46 : 0x06);
    eb_name_ref(c, name);
}

static void patch_attrs(struct eb_chunk *c) {
    if (c->depth < 1 || c->depth > EB_MAX_STACK) return;
    uint32_t at = c->attr_size_at[c->depth - 1];
    if (at) eb_put32_at(c, at, c->pos - (at + 4));
    c->attr_size_at[c->depth - 1] = 0;
}

static void pop_element(struct eb_chunk *c) {
    if (c->depth < 1) return;
    c->depth--;
    if (c->depth < EB_MAX_STACK) {
        uint32_t at = c->elem_size_at[c->depth];
        eb_put32_at(c, at, c->pos - (at + 4));
    }
}

void eb_close_start(struct eb_chunk *c) {
    patch_attrs(c);
    eb_u8(c, 0x02);
}

void eb_close_empty(struct eb_chunk *c) {
    patch_attrs(c);
    eb_u8(c, 0x03);
    pop_element(c);
}

void eb_end(struct eb_chunk *c) {
    eb_u8(c, 0x04);
    pop_element(c);
}

void eb_text(struct eb_chunk *c, const char *utf8) {
    eb_u8(c, 0x05);
    eb_u8(c, 0x01);
    eb_u16(c, (uint16_t)utf8_to_units(utf8, NULL));
    eb_utf16(c, utf8);
}

void eb_text_ansi(struct eb_chunk *c, const char *s) {
    eb_u8(c, 0x05);
    eb_u8(c, 0x02);
    eb_u16(c, (uint16_t)strlen(s));
    eb_bytes(c, s, strlen(s));
}

void eb_cdata(struct eb_chunk *c, const char *utf8) {
    eb_u8(c, 0x07);
    eb_u16(c, (uint16_t)utf8_to_units(utf8, NULL));
    eb_utf16(c, utf8);
}

void eb_charref(struct eb_chunk *c, uint16_t code) {
    eb_u8(c, 0x08);
    eb_u16(c, code);
}

void eb_entity(struct eb_chunk *c, const char *name) {
    eb_u8(c, 0x09);
    eb_name_ref(c, name);
}

void eb_pi(struct eb_chunk *c, const char *target, const char *data) {
    eb_u8(c, 0x0a);
    eb_name_ref(c, target);
    eb_u8(c, 0x0b);
    eb_u16(c, (uint16_t)utf8_to_units(data, NULL));
    eb_utf16(c, data);
}

void eb_subst(struct eb_chunk *c, uint16_t index, uint8_t type, int optional) {
    eb_u8(c, optional ? 0x0e : 0x0d);
    eb_u16(c, index);
    eb_u8(c, type);
}

int eb_template_instance(struct eb_chunk *c, struct eb_template *t) {
    eb_u8(c, 0x0c);
    eb_u8(c, 0x01);
    eb_u32(c, t->id);
    if (t->def_off) {
        eb_u32(c, t->def_off);
        return 0;
    }
    t->def_off = c->pos + 4;
    eb_u32(c, t->def_off);
    eb_u32(c, 0); /* next template definition offset */
    /* The instance's template id is the first 4 bytes of the definition's GUID. */
    for (int i = 0; i < 4; i++)
        t->guid[i] = (uint8_t)(t->id >> 8 * i);
    eb_bytes(c, t->guid, 16);
    c->tdef_size_at = c->pos;
    eb_u32(c, 0); /* data size, patched by eb_template_def_end */
    return 1;
}

void eb_template_def_end(struct eb_chunk *c) {
    eb_put32_at(c, c->tdef_size_at, c->pos - (c->tdef_size_at + 4));
}

/* ---- values ---- */

void eb_values_begin(struct eb_chunk *c, uint32_t count) {
    eb_u32(c, count);
    c->vals_desc = c->pos;
    c->vals_count = count;
    for (uint32_t i = 0; i < count; i++)
        eb_u32(c, 0);
}

void eb_value_begin(struct eb_chunk *c, uint32_t i, uint8_t type) {
    if (i >= c->vals_count || i >= EB_MAX_VALUES) return;
    c->b[c->vals_desc + 4 * i + 2] = type;
    c->val_start[i] = c->pos;
}

void eb_value_end(struct eb_chunk *c, uint32_t i) {
    if (i >= c->vals_count || i >= EB_MAX_VALUES) return;
    put16_at(c->b + c->vals_desc + 4 * i, (uint16_t)(c->pos - c->val_start[i]));
}

void eb_value(struct eb_chunk *c, uint32_t i, uint8_t type, const void *data, size_t len) {
    eb_value_begin(c, i, type);
    eb_bytes(c, data, len);
    eb_value_end(c, i);
}

/* ---- finishing ---- */

void eb_finish(struct eb_chunk *c) {
    uint8_t *h = c->b;
    memcpy(h, "ElfChnk\0", 8);
    /* Record numbers count from 1 in this builder's chunks; ids are what the records carry. */
    put64_at(h + 8, c->nrecords ? 1 : 0);
    put64_at(h + 16, (uint64_t)c->nrecords);
    put64_at(h + 24, c->first_id);
    put64_at(h + 32, c->last_id);
    put32_at(h + 40, 128);
    put32_at(h + 44, c->last_rec);
    put32_at(h + 48, c->pos);
    put32_at(h + 52, eb_crc32(h + 512, c->pos - 512));
    put32_at(h + 120, 0);
    uint8_t tmp[120 + 384];
    memcpy(tmp, h, 120);
    memcpy(tmp + 120, h + 128, 384);
    put32_at(h + 124, eb_crc32(tmp, sizeof tmp));
}

int eb_write_file(const uint8_t *const *chunks, int nchunks, uint16_t header_chunk_count,
                  uint32_t flags, uint64_t next_record_id, char *path) {
    uint8_t hdr[4096];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, "ElfFile\0", 8);
    put64_at(hdr + 8, 0);
    put64_at(hdr + 16, header_chunk_count ? header_chunk_count - 1u : 0);
    put64_at(hdr + 24, next_record_id);
    put32_at(hdr + 32, 128);
    put16_at(hdr + 36, 1);
    put16_at(hdr + 38, 3);
    put16_at(hdr + 40, 4096);
    put16_at(hdr + 42, header_chunk_count);
    put32_at(hdr + 120, flags);
    put32_at(hdr + 124, eb_crc32(hdr, 120));
    snprintf(path, 64, "/tmp/kz_unit_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path);
        return -1;
    }
    int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr;
    for (int i = 0; i < nchunks && ok; i++)
        ok = fwrite(chunks[i], 1, EB_CHUNK_SIZE, f) == EB_CHUNK_SIZE;
    if (fclose(f) || !ok) {
        unlink(path);
        return -1;
    }
    return 0;
}
