/* evtx_builder.h - assembles EVTX chunks and files in memory, byte by byte, for the decoder's
 * tests.
 *
 * Tests need inputs whose every byte they know: a chunk holding exactly one token or one value
 * type, or one deliberate fault. The builder writes the on-disk layout (MS-EVEN6 and the libevtx
 * notes) directly into a 64 KiB chunk at its final offsets, because names and template definitions
 * are referred to by chunk offset: a name or template is written inline the first time it is used
 * and by reference after. It computes its own CRC32 (bitwise, independent of kz_crc32) so checksum
 * tests do not trust the code under test. Ownership: a struct eb_chunk is plain memory owned by the
 * caller; nothing is allocated except by eb_write_file, whose path the caller unlinks. */
#ifndef KZ_TEST_EVTX_BUILDER_H
#define KZ_TEST_EVTX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define EB_CHUNK_SIZE 65536
#define EB_MAX_NAMES 256
#define EB_MAX_STACK 128
#define EB_MAX_VALUES 8192

struct eb_chunk {
    uint8_t b[EB_CHUNK_SIZE]; /* the chunk image */
    uint32_t pos;             /* where the next byte is written (becomes the free space offset) */
    int overflow;             /* a write would have gone past the chunk */
    /* records */
    uint32_t rec_start; /* offset of the record being written */
    uint32_t last_rec;  /* offset of the last finished record */
    uint64_t first_id, last_id;
    int nrecords;
    /* names already stored in the chunk */
    char *names[EB_MAX_NAMES];
    uint32_t name_off[EB_MAX_NAMES];
    int nnames;
    /* open elements: where their size fields are, for patching */
    uint32_t elem_size_at[EB_MAX_STACK], attr_size_at[EB_MAX_STACK];
    int depth;
    /* the template definition being written */
    uint32_t tdef_size_at;
    /* the substitution value array being written */
    uint32_t vals_desc, vals_count, val_start[EB_MAX_VALUES];
};

/* A template as the test sees it: its id (also the first 4 bytes of its GUID, as Windows writes it)
 * and, once written, the chunk offset of its definition. */
struct eb_template {
    uint32_t id;
    uint32_t def_off; /* 0 until the first instance writes the definition inline */
    uint8_t guid[16];
};

/* CRC32 (IEEE, reflected, init and final xor ~0), computed bit by bit. */
uint32_t eb_crc32(const void *data, size_t n);

/* Starts an empty chunk: zeroes everything and places the write position at 512. */
void eb_init(struct eb_chunk *c);
/* Frees the name copies (eb_init may be called again afterwards). */
void eb_release(struct eb_chunk *c);

/* ---- raw writes at the current position ---- */
void eb_u8(struct eb_chunk *c, uint8_t v);
void eb_u16(struct eb_chunk *c, uint16_t v);
void eb_u32(struct eb_chunk *c, uint32_t v);
void eb_u64(struct eb_chunk *c, uint64_t v);
void eb_bytes(struct eb_chunk *c, const void *p, size_t n);
/* UTF-8 text as UTF-16LE code units (no count, no NUL); returns the number of units. */
uint32_t eb_utf16(struct eb_chunk *c, const char *ascii);
void eb_put32_at(struct eb_chunk *c, uint32_t off, uint32_t v);

/* ---- records ---- */
void eb_record_begin(struct eb_chunk *c, uint64_t record_id, uint64_t filetime);
void eb_record_end(struct eb_chunk *c);

/* ---- BinXML tokens ---- */
void eb_fragment_header(struct eb_chunk *c);
void eb_eof(struct eb_chunk *c);
/* Name reference: the offset of the name, followed by the name itself when it is new to the chunk.
 */
void eb_name_ref(struct eb_chunk *c, const char *name);
/* Open start element; has_attrs adds the 0x40 flag and an attribute list size (patched later). */
void eb_open(struct eb_chunk *c, const char *name, int has_attrs);
/* Attribute; `more` sets the 0x40 flag (another attribute follows). The value tokens follow. */
void eb_attr(struct eb_chunk *c, const char *name, int more);
void eb_close_start(struct eb_chunk *c);
void eb_close_empty(struct eb_chunk *c); /* ends the element opened last */
void eb_end(struct eb_chunk *c);         /* end element token, ends the element opened last */
void eb_text(struct eb_chunk *c, const char *ascii);      /* value token, string type */
void eb_text_ansi(struct eb_chunk *c, const char *ascii); /* value token, ANSI string type */
void eb_cdata(struct eb_chunk *c, const char *ascii);
void eb_charref(struct eb_chunk *c, uint16_t code);
void eb_entity(struct eb_chunk *c, const char *name);
void eb_pi(struct eb_chunk *c, const char *target, const char *data);
void eb_subst(struct eb_chunk *c, uint16_t index, uint8_t type, int optional);

/* Template instance: inline definition the first time (returns 1: the caller writes the body tokens
 * from fragment header to EOF, then calls eb_template_def_end), by reference after (returns 0). */
int eb_template_instance(struct eb_chunk *c, struct eb_template *t);
void eb_template_def_end(struct eb_chunk *c);

/* ---- substitution values: count, descriptors {size, type, 0}, data ---- */
void eb_values_begin(struct eb_chunk *c, uint32_t count);
/* Value i (in order) from bytes. */
void eb_value(struct eb_chunk *c, uint32_t i, uint8_t type, const void *data, size_t len);
/* Value i built in place (e.g. nested BinXML written with the token calls): begin, write, end. */
void eb_value_begin(struct eb_chunk *c, uint32_t i, uint8_t type);
void eb_value_end(struct eb_chunk *c, uint32_t i);

/* ---- finishing ---- */
/* Writes the chunk header: signature, record numbers and ids, header size, last record and free
 * space offsets, data and header checksums. */
void eb_finish(struct eb_chunk *c);

/* Writes a 4 KiB file header (chunk count, correct CRC) followed by the chunks to a new temporary
 * file; stores its path in path (at least 64 bytes). Returns 0 or -1. flags is the header's flags.
 */
int eb_write_file(const uint8_t *const *chunks, int nchunks, uint16_t header_chunk_count,
                  uint32_t flags, uint64_t next_record_id, char *path);

/* UTF-16LE, the way string values are stored: utf8 becomes 2 bytes per unit into out (with a NUL
 * when nul is set); returns the byte count. */
size_t eb_wstr(uint8_t *out, const char *utf8, int nul);

#endif
