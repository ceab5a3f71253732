/* evtx_writer.c - the streaming EVTX writer; see evtx_writer.h and docs/internals/evtx_writer.md.
 *
 * What goes on disk (offsets in bytes; all integers little-endian):
 *   file header (4096): "ElfFile\0", first chunk (8), last chunk (8), next record id (8), header
 *     size 128 (4), minor 1 (2), major 3 (2), block size 4096 (2), chunk count (2), flags at 120
 *     (1 = dirty while the writer is open, 0 after close), CRC32 of bytes 0..120 at 124, zeroes.
 *   chunk (65536): "ElfChnk\0", first/last record number (8+8), first/last record id (8+8), header
 *     size 128, last record offset, free space offset, CRC32 of the records (512..free) at 52,
 *     flags 1 at 120 (as Windows), header CRC32 (0..120 and 128..512) at 124; 128..384 the string
 *     table (64 buckets: newest name offset per bucket, names chained through their first field),
 *     384..512 the template table (32 buckets, chained likewise); records from 512.
 *   record: "**\0\0", size, record id (8), written FILETIME (8), BinXML: fragment header
 *     0f 01 01 00, template instance 0c 01 id (4) definition offset (4) [definition inline on first
 *     use in the chunk: next (4), GUID (16), size (4), fragment], values: count (4), descriptors
 *     {size (2), type (1), 0}, data; then an EOF token and zero padding to a multiple of 8 (as
 *     Windows), and the size again.
 *   name: next (4), hash (2: h = h * 65599 + unit, low 16 bits), characters (2), UTF-16LE, NUL (2).
 *
 * The chunk is built in memory at its final offsets (names and templates are referred to by chunk
 * offset). A record is written straight into it; if it runs past the chunk, everything it added
 * (bytes, names, templates) is rolled back, the chunk is finished and written, and the record is
 * written again into a fresh chunk, where its names and template are new again. */
#include "evtx_writer.h"

#include "../core/alloc.h"
#include "../core/crc32.h"
#include "../core/utf.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHUNK 65536u
#define FILE_HEADER 4096u
/* Where records must end: 8 bytes before the chunk's end. libevtx (evtxexport; 20181227 in Debian
 * 12) checks a record's size against the bytes left in the chunk minus 4,
 * as if the trailing size copy came after the record (it is inside it): see
 * libevtx_record_values_read_header. A record ending on the chunk's last byte fails that check, and
 * libevtx_chunk_read takes the failure for the end of the chunk's records, so the record is lost.
 * Records are multiples of 8 bytes, so keeping 4 bytes free means keeping 8. */
#define CHUNK_END (CHUNK - 8u)
#define EW_FULL 1       /* internal status: the record does not fit the current chunk */
#define EW_MAX_DEPTH 16 /* element nesting in the templates this writer builds */

static const char EVENT_NS[] = "http://schemas.microsoft.com/win/2004/08/events/event";

/* Substitution indices of the <System> template (Windows' generic layout, extended with Computer
 * and EventSourceName, which Windows keeps as literal text or leaves out). */
enum {
    S_LEVEL,
    S_OPCODE,
    S_TASK,
    S_EVENTID,
    S_QUALIFIERS,
    S_KEYWORDS,
    S_TIME,
    S_ACTIVITY,
    S_PID,
    S_TID,
    S_RECORDID,
    S_VERSION,
    S_USER,
    S_RELATED,
    S_PROVIDER,
    S_PROVIDER_GUID,
    S_CHANNEL,
    S_COMPUTER,
    S_SOURCE,
    S_BODY, /* first index after the System values: the nested body, or the first flat item */
};

#define VT_BINXML 0x21

/* ---- templates as the writer keeps them ---- */

enum { EO_OPEN, EO_ATTR, EO_TEXT, EO_SUBST, EO_CLOSE_START, EO_CLOSE_EMPTY, EO_END };

struct ew_op {
    uint8_t kind;    /* EO_* */
    uint8_t flag;    /* EO_OPEN: has attributes; EO_ATTR: another follows; EO_SUBST: optional */
    uint8_t vtype;   /* EO_SUBST: declared value type */
    uint16_t arg;    /* EO_SUBST: value index; EO_OPEN: dependency id (0xffff: none) */
    uint32_t name;   /* EO_OPEN, EO_ATTR: name id */
    uint16_t *units; /* EO_TEXT: UTF-16 text (owned) */
    uint32_t nunits;
};

/* A template skeleton: what is stored in a chunk as a template definition. */
struct ew_skel {
    uint8_t guid[16];  /* the first 4 bytes are the id records name it by */
    struct ew_op *ops; /* owned */
    uint32_t nops, cap;
    uint32_t chunk_off; /* offset of its definition in the current chunk, 0 when not there yet */
};

/* An event layout (what kz_evtx_writer_template registers). */
struct ew_layout {
    char *provider, *event_source, *channel; /* owned; event_source may be NULL */
    int has_guid;
    struct kz_evtx_guid provider_guid;
    uint16_t event_id, task;
    int32_t qualifiers;
    uint8_t version, level, opcode;
    uint64_t keywords;
    int nested;     /* body in its own skeleton, as a BinXML value */
    uint32_t skel;  /* the record's template: flat (System + body) or the shared outer one */
    uint32_t inner; /* nested: the body's skeleton */
    uint32_t nitems;
    uint8_t *types, *optional; /* per item (owned) */
    char **item_names;         /* per item, for messages (owned; NULL for unnamed Data) */
};

struct ew_name {
    char *text;      /* UTF-8 (owned), for lookups */
    uint16_t *units; /* UTF-16 (owned) */
    uint16_t nunits, hash;
};

struct kz_evtx_writer {
    int fd, own_fd;
    char *path; /* for messages (owned) */
    /* registered things */
    struct ew_name *names;
    uint32_t nnames, names_cap;
    struct ew_skel *skels;
    uint32_t nskels, skels_cap;
    struct ew_layout *layouts;
    uint32_t nlayouts, layouts_cap;
    uint32_t outer_skel; /* the shared System template of nested layouts; UINT32_MAX until built */
    /* the chunk being built */
    uint8_t *b;                 /* CHUNK bytes */
    uint32_t pos;               /* write position (becomes the free space offset) */
    int overflow;               /* a write would have gone past the chunk */
    uint32_t *name_off;         /* per name id: offset in this chunk, 0 when not stored yet */
    uint32_t name_off_cap;      /* entries allocated in name_off */
    uint32_t *chunk_names;      /* name ids stored in this chunk, in order */
    uint32_t nchunk_names;      /* (chunk_names has names_cap entries) */
    uint32_t *chunk_skels;      /* skeleton ids defined in this chunk, in order */
    uint32_t nchunk_skels;      /* (chunk_skels has skels_cap entries) */
    uint64_t first_id, last_id; /* record ids in this chunk */
    uint32_t nrecords, last_rec;
    /* the file */
    uint32_t nchunks; /* chunks written */
    uint64_t records; /* records appended */
    int failed;       /* an I/O error happened: further appends fail */
    /* a full log rolls over to path-2.evtx, path-3.evtx ... (writers opened by path only) */
    char *base;           /* the path given to kz_evtx_writer_open (owned), NULL for _open_fd */
    uint32_t max_chunks;  /* chunks per file: KZ_EVTXW_MAX_CHUNKS (tests set fewer) */
    uint32_t part;        /* 1: the file at base; n: its part n */
    uint64_t *part_first; /* first record id of parts 2, 3 ... (part_first[n - 2]) */
    uint32_t parts_cap;
};

/* ---- little helpers ---- */

/* Little-endian stores; one store instruction on little-endian machines. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void put16_at(uint8_t *p, uint16_t v) {
    memcpy(p, &v, 2);
}
static inline void put32_at(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);
}
static inline void put64_at(uint8_t *p, uint64_t v) {
    memcpy(p, &v, 8);
}
#else
static void put16_at(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32_at(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}
static void put64_at(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}
#endif

/* Grows *arr (of elem-size entries, *cap of them) to hold at least need entries, at most max. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t max) {
    if (need <= *cap) return 0;
    if (need > max) return KZ_ELIMIT;
    uint32_t ncap = *cap ? *cap : (elem <= 32 ? 128 : 16); /* a skeleton has about 100 ops */
    while (ncap < need)
        ncap = ncap > max / 2 ? max : ncap * 2;
    void *p = kz_realloc(*arr, (size_t)ncap * elem);
    if (!p) return KZ_ENOMEM;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Decodes one UTF-8 character at s (invalid bytes become U+FFFD, one byte each); returns the code
 * point and advances *s. */
static uint32_t utf8_next(const unsigned char **s) {
    const unsigned char *p = *s;
    size_t n = kz_utf8_valid_prefix(p, 4);
    if (n == 0) {
        *s = p + 1;
        return 0xFFFD;
    }
    *s = p + n;
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    case 3:
        return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    default:
        return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
               (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    }
}

/* UTF-16 code units of a UTF-8 string, stopping at the NUL. */
static size_t utf16_count(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p)
        n += utf8_next(&p) >= 0x10000 ? 2 : 1;
    return n;
}

/* Converts s to a kz_malloc'd UTF-16 array; *n receives the unit count. NULL on no memory. */
static uint16_t *utf16_dup(const char *s, uint32_t *n) {
    size_t count = utf16_count(s);
    uint16_t *u = kz_malloc((count ? count : 1) * sizeof *u);
    if (!u) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (*p) {
        uint32_t cp = utf8_next(&p);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[i++] = (uint16_t)(0xD800 + (cp >> 10));
            u[i++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            u[i++] = (uint16_t)cp;
        }
    }
    *n = (uint32_t)count;
    return u;
}

/* ---- writing into the chunk ---- */

/* Room for n more bytes in the chunk? If not, overflow is set (and stays set for the record). */
static inline int room(struct kz_evtx_writer *w, size_t n) {
    if (__builtin_expect(w->overflow || n > CHUNK_END - w->pos, 0)) {
        w->overflow = 1;
        return 0;
    }
    return 1;
}
static inline void put_bytes(struct kz_evtx_writer *w, const void *p, size_t n) {
    if (!room(w, n)) return;
    if (n) memcpy(w->b + w->pos, p, n);
    w->pos += (uint32_t)n;
}
static inline void put_u8(struct kz_evtx_writer *w, uint8_t v) {
    if (!room(w, 1)) return;
    w->b[w->pos++] = v;
}
static inline void put_u16(struct kz_evtx_writer *w, uint16_t v) {
    if (!room(w, 2)) return;
    put16_at(w->b + w->pos, v);
    w->pos += 2;
}
static inline void put_u32(struct kz_evtx_writer *w, uint32_t v) {
    if (!room(w, 4)) return;
    put32_at(w->b + w->pos, v);
    w->pos += 4;
}
static inline void put_u64(struct kz_evtx_writer *w, uint64_t v) {
    if (!room(w, 8)) return;
    put64_at(w->b + w->pos, v);
    w->pos += 8;
}
static void patch32(struct kz_evtx_writer *w, uint32_t off, uint32_t v) {
    if (!w->overflow && off + 4 <= CHUNK) put32_at(w->b + off, v);
}
static void put_units(struct kz_evtx_writer *w, const uint16_t *u, uint32_t n) {
    for (uint32_t i = 0; i < n && !w->overflow; i++)
        put_u16(w, u[i]);
}
/* Whether 16-byte loads may run past a string's NUL: safe while they stay inside one page (a page
 * is mapped or not as a whole), but AddressSanitizer rightly reports them, so its builds take the
 * byte-by-byte path. */
#if defined(__SSE2__) && !defined(__SANITIZE_ADDRESS__)
#define EW_WIDE_LOADS 1
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#undef EW_WIDE_LOADS
#endif
#endif
#endif

/* UTF-8 text as UTF-16LE into the chunk (no count), with a NUL unit when nul is set; returns the
 * units written. One pass, without strlen: ASCII runs (nearly all the text of Windows events) are
 * widened 16 bytes at a time; a block holding the NUL or a non-ASCII byte is widened up to it and
 * the rest goes character by character. A full block is always stored (32 bytes), so bytes past
 * the text may be scribbled on; finish_chunk zeroes everything after the last record. Sets
 * overflow exactly when a character does not fit. */
static size_t put_utf16(struct kz_evtx_writer *w, const char *s, int nul) {
    if (w->overflow) return 0;
    const unsigned char *p = (const unsigned char *)s;
    uint8_t *o = w->b + w->pos, *start = o, *lim = w->b + CHUNK_END;
    for (;;) {
#ifdef EW_WIDE_LOADS
        const __m128i zero = _mm_setzero_si128();
        while (((uintptr_t)p & 4095) <= 4096 - 16 && lim - o >= 32) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            _mm_storeu_si128((__m128i *)(void *)o, _mm_unpacklo_epi8(x, zero));
            _mm_storeu_si128((__m128i *)(void *)(o + 16), _mm_unpackhi_epi8(x, zero));
            unsigned stop =
                (unsigned)(_mm_movemask_epi8(x) | _mm_movemask_epi8(_mm_cmpeq_epi8(x, zero)));
            if (stop) {
                unsigned k = (unsigned)__builtin_ctz(stop);
                p += k, o += 2 * k;
                break;
            }
            p += 16, o += 32;
        }
#endif
        if (!*p) break;
        if (*p < 0x80) {
            if (lim - o < 2) {
                w->overflow = 1;
                break;
            }
            o[0] = *p++;
            o[1] = 0;
            o += 2;
            continue;
        }
        uint32_t cp = utf8_next(&p);
        if (lim - o < (cp >= 0x10000 ? 4 : 2)) {
            w->overflow = 1;
            break;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put16_at(o, (uint16_t)(0xD800 + (cp >> 10)));
            put16_at(o + 2, (uint16_t)(0xDC00 + (cp & 0x3FF)));
            o += 4;
        } else {
            put16_at(o, (uint16_t)cp);
            o += 2;
        }
    }
    if (w->overflow) return 0;
    w->pos += (uint32_t)(o - start);
    size_t n = (size_t)(o - start) / 2;
    if (nul) put_u16(w, 0), n++;
    return n;
}

/* A name reference: its chunk offset, followed by the name itself the first time in the chunk. */
static void put_name(struct kz_evtx_writer *w, uint32_t id) {
    if (w->name_off[id]) {
        put_u32(w, w->name_off[id]);
        return;
    }
    uint32_t off = w->pos + 4;
    put_u32(w, off);
    if (w->overflow) return;
    const struct ew_name *nm = &w->names[id];
    w->name_off[id] = off;
    w->chunk_names[w->nchunk_names++] = id;
    put_u32(w, 0); /* next name in the same string-table bucket: linked when the chunk is done */
    put_u16(w, nm->hash);
    put_u16(w, nm->nunits);
    put_units(w, nm->units, nm->nunits);
    put_u16(w, 0);
}

/* The tokens of a skeleton, from its first element to its last end tag. */
static void put_ops(struct kz_evtx_writer *w, const struct ew_skel *sk) {
    uint32_t size_at[EW_MAX_DEPTH], attr_at[EW_MAX_DEPTH];
    int depth = 0;
    for (uint32_t i = 0; i < sk->nops && !w->overflow; i++) {
        const struct ew_op *op = &sk->ops[i];
        switch (op->kind) {
        case EO_OPEN:
            put_u8(w, op->flag ? 0x41 : 0x01);
            put_u16(w, op->arg);
            size_at[depth] = w->pos;
            put_u32(w, 0); /* element size, patched at its end */
            put_name(w, op->name);
            attr_at[depth] = 0;
            if (op->flag) {
                attr_at[depth] = w->pos;
                put_u32(w, 0); /* attribute list size, patched at the end of the start tag */
            }
            depth++;
            break;
        case EO_ATTR:
            put_u8(w, op->flag ? 0x46 : 0x06);
            put_name(w, op->name);
            break;
        case EO_TEXT:
            put_u8(w, 0x05);
            put_u8(w, 0x01); /* a string value */
            put_u16(w, (uint16_t)op->nunits);
            put_units(w, op->units, op->nunits);
            break;
        case EO_SUBST:
            put_u8(w, op->flag ? 0x0e : 0x0d);
            put_u16(w, op->arg);
            put_u8(w, op->vtype);
            break;
        case EO_CLOSE_START:
        case EO_CLOSE_EMPTY:
            if (attr_at[depth - 1]) patch32(w, attr_at[depth - 1], w->pos - attr_at[depth - 1] - 4);
            put_u8(w, op->kind == EO_CLOSE_START ? 0x02 : 0x03);
            if (op->kind == EO_CLOSE_EMPTY) {
                depth--;
                patch32(w, size_at[depth], w->pos - size_at[depth] - 4);
            }
            break;
        case EO_END:
            put_u8(w, 0x04);
            depth--;
            patch32(w, size_at[depth], w->pos - size_at[depth] - 4);
            break;
        }
    }
}

static void put_fragment_header(struct kz_evtx_writer *w) {
    static const uint8_t fh[4] = {0x0f, 0x01, 0x01, 0x00}; /* token, major 1, minor 1, flags */
    put_bytes(w, fh, 4);
}

/* A template instance: by reference when the skeleton is already in the chunk, else with its
 * definition inline. */
static void put_instance(struct kz_evtx_writer *w, uint32_t skel_id) {
    struct ew_skel *sk = &w->skels[skel_id];
    put_u8(w, 0x0c);
    put_u8(w, 0x01);
    put_bytes(w, sk->guid, 4);
    if (sk->chunk_off) {
        put_u32(w, sk->chunk_off);
        return;
    }
    uint32_t off = w->pos + 4;
    put_u32(w, off);
    if (w->overflow) return;
    sk->chunk_off = off;
    w->chunk_skels[w->nchunk_skels++] = skel_id;
    put_u32(w, 0); /* next template in the same bucket: linked when the chunk is done */
    put_bytes(w, sk->guid, 16);
    uint32_t size_at = w->pos;
    put_u32(w, 0);
    put_fragment_header(w);
    put_ops(w, sk);
    put_u8(w, 0x00); /* EOF */
    patch32(w, size_at, w->pos - size_at - 4);
}

/* ---- names and skeletons ---- */

static int name_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > KZ_EVTXW_MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        int other = (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!alpha && (i == 0 || !other)) return 0;
    }
    return 1;
}

/* The id of name (registered on first use). */
static int name_id(struct kz_evtx_writer *w, const char *s, uint32_t *id, struct kz_err *err) {
    for (uint32_t i = 0; i < w->nnames; i++) {
        if (!strcmp(w->names[i].text, s)) {
            *id = i;
            return 0;
        }
    }
    if (!name_valid(s))
        return kz_err_set(err, KZ_EUSAGE, "\"%.64s\" is not a valid element or attribute name", s);
    uint32_t cap = w->names_cap;
    int rc = grow((void **)&w->names, &cap, w->nnames + 1, sizeof *w->names, KZ_EVTXW_MAX_NAMES);
    if (!rc) {
        uint32_t c2 = w->name_off_cap, c3 = w->name_off_cap;
        rc = grow((void **)&w->name_off, &c2, cap, sizeof *w->name_off, KZ_EVTXW_MAX_NAMES);
        if (!rc)
            rc = grow((void **)&w->chunk_names, &c3, cap, sizeof *w->chunk_names,
                      KZ_EVTXW_MAX_NAMES);
        if (!rc) w->name_off_cap = cap;
    }
    w->names_cap = cap;
    if (rc == KZ_ELIMIT)
        return kz_err_set(err, rc, "more than %d distinct names", KZ_EVTXW_MAX_NAMES);
    if (rc) return kz_err_set(err, rc, "out of memory");
    struct ew_name *nm = &w->names[w->nnames];
    uint32_t n;
    nm->text = kz_strdup(s);
    nm->units = utf16_dup(s, &n);
    if (!nm->text || !nm->units) {
        kz_free(nm->text);
        kz_free(nm->units);
        return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++)
        h = h * 65599u + nm->units[i];
    nm->nunits = (uint16_t)n;
    nm->hash = (uint16_t)h;
    *id = w->nnames++;
    return 0;
}

/* Builds one skeleton: ops are appended with the sk_* calls below; errors stick in rc. */
struct skb {
    struct kz_evtx_writer *w;
    struct ew_skel sk;
    int rc;
    struct kz_err *err;
};

static struct ew_op *sk_op(struct skb *s, uint8_t kind) {
    if (s->rc) return NULL;
    if (s->sk.nops == s->sk.cap) {
        uint32_t cap = s->sk.cap;
        int rc = grow((void **)&s->sk.ops, &cap, s->sk.nops + 1, sizeof *s->sk.ops, 1u << 16);
        if (rc) {
            s->rc = kz_err_set(s->err, rc, "template too large");
            return NULL;
        }
        s->sk.cap = cap;
    }
    struct ew_op *op = &s->sk.ops[s->sk.nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    return op;
}
static void sk_named(struct skb *s, uint8_t kind, const char *name, int flag, uint16_t arg) {
    uint32_t id;
    if (s->rc) return;
    if ((s->rc = name_id(s->w, name, &id, s->err))) return;
    struct ew_op *op = sk_op(s, kind);
    if (!op) return;
    op->name = id;
    op->flag = (uint8_t)flag;
    op->arg = arg;
}
static void sk_open(struct skb *s, const char *name, int has_attrs, uint16_t dependency) {
    sk_named(s, EO_OPEN, name, has_attrs, dependency);
}
static void sk_attr(struct skb *s, const char *name, int more) {
    sk_named(s, EO_ATTR, name, more, 0);
}
static void sk_subst(struct skb *s, uint16_t index, uint8_t type, int optional) {
    struct ew_op *op = sk_op(s, EO_SUBST);
    if (!op) return;
    op->arg = index;
    op->vtype = type;
    op->flag = (uint8_t)optional;
}
static void sk_text(struct skb *s, const char *text) {
    struct ew_op *op = sk_op(s, EO_TEXT);
    if (!op) return;
    op->units = utf16_dup(text, &op->nunits);
    if (!op->units)
        s->rc = kz_err_set(s->err, KZ_ENOMEM, "out of memory");
    else if (op->nunits > 0xffff)
        s->rc = kz_err_set(s->err, KZ_ELIMIT, "template text too long");
}
static void sk_tok(struct skb *s, uint8_t kind) {
    sk_op(s, kind);
}
/* <name attr=%index/> with one optional substitution per attribute. */
static void sk_attrs_elem(struct skb *s, const char *name, int n, const char *const *attrs,
                          const uint16_t *index, const uint8_t *type) {
    sk_open(s, name, 1, 0xffff);
    for (int i = 0; i < n; i++) {
        sk_attr(s, attrs[i], i + 1 < n);
        sk_subst(s, index[i], type[i], 1);
    }
    sk_tok(s, EO_CLOSE_EMPTY);
}
/* <name>%index</name>, the substitution optional (the element then depends on it). */
static void sk_value_elem(struct skb *s, const char *name, uint16_t index, uint8_t type,
                          int optional) {
    sk_open(s, name, 0, optional ? index : 0xffff);
    sk_tok(s, EO_CLOSE_START);
    sk_subst(s, index, type, optional);
    sk_tok(s, EO_END);
}

/* <Event xmlns=...><System>...</System> with every value a substitution (Windows' own layout). */
static void sk_system(struct skb *s, uint16_t event_dependency) {
    sk_open(s, "Event", 1, event_dependency);
    sk_attr(s, "xmlns", 0);
    sk_text(s, EVENT_NS);
    sk_tok(s, EO_CLOSE_START);
    sk_open(s, "System", 0, 0xffff);
    sk_tok(s, EO_CLOSE_START);
    {
        static const char *const a[] = {"Name", "Guid", "EventSourceName"};
        static const uint16_t ix[] = {S_PROVIDER, S_PROVIDER_GUID, S_SOURCE};
        static const uint8_t ty[] = {KZ_EVTX_VT_WSTRING, KZ_EVTX_VT_GUID, KZ_EVTX_VT_WSTRING};
        sk_attrs_elem(s, "Provider", 3, a, ix, ty);
    }
    sk_open(s, "EventID", 1, S_EVENTID);
    sk_attr(s, "Qualifiers", 0);
    sk_subst(s, S_QUALIFIERS, KZ_EVTX_VT_UINT16, 1);
    sk_tok(s, EO_CLOSE_START);
    sk_subst(s, S_EVENTID, KZ_EVTX_VT_UINT16, 1);
    sk_tok(s, EO_END);
    sk_value_elem(s, "Version", S_VERSION, KZ_EVTX_VT_UINT8, 1);
    sk_value_elem(s, "Level", S_LEVEL, KZ_EVTX_VT_UINT8, 1);
    sk_value_elem(s, "Task", S_TASK, KZ_EVTX_VT_UINT16, 1);
    sk_value_elem(s, "Opcode", S_OPCODE, KZ_EVTX_VT_UINT8, 1);
    sk_value_elem(s, "Keywords", S_KEYWORDS, KZ_EVTX_VT_HEXINT64, 1);
    {
        static const char *const a[] = {"SystemTime"};
        static const uint16_t ix[] = {S_TIME};
        static const uint8_t ty[] = {KZ_EVTX_VT_FILETIME};
        sk_attrs_elem(s, "TimeCreated", 1, a, ix, ty);
    }
    sk_value_elem(s, "EventRecordID", S_RECORDID, KZ_EVTX_VT_UINT64, 1);
    {
        static const char *const a[] = {"ActivityID", "RelatedActivityID"};
        static const uint16_t ix[] = {S_ACTIVITY, S_RELATED};
        static const uint8_t ty[] = {KZ_EVTX_VT_GUID, KZ_EVTX_VT_GUID};
        sk_attrs_elem(s, "Correlation", 2, a, ix, ty);
    }
    {
        static const char *const a[] = {"ProcessID", "ThreadID"};
        static const uint16_t ix[] = {S_PID, S_TID};
        static const uint8_t ty[] = {KZ_EVTX_VT_UINT32, KZ_EVTX_VT_UINT32};
        sk_attrs_elem(s, "Execution", 2, a, ix, ty);
    }
    sk_value_elem(s, "Channel", S_CHANNEL, KZ_EVTX_VT_WSTRING, 1);
    sk_value_elem(s, "Computer", S_COMPUTER, KZ_EVTX_VT_WSTRING, 1);
    {
        static const char *const a[] = {"UserID"};
        static const uint16_t ix[] = {S_USER};
        static const uint8_t ty[] = {KZ_EVTX_VT_SID};
        sk_attrs_elem(s, "Security", 1, a, ix, ty);
    }
    sk_tok(s, EO_END); /* System */
}

/* <EventData>/<UserData> with the items as substitutions base, base + 1, ... */
static void sk_body(struct skb *s, const struct kz_evtx_template_def *def, uint16_t base) {
    if (def->body == KZ_EVTX_BODY_NONE) return;
    int user = def->body == KZ_EVTX_BODY_USERDATA;
    sk_open(s, user ? "UserData" : "EventData", 0, 0xffff);
    if (!user && def->nitems == 0) {
        sk_tok(s, EO_CLOSE_EMPTY);
        return;
    }
    sk_tok(s, EO_CLOSE_START);
    if (user) {
        sk_open(s, def->userdata_element, def->userdata_ns != NULL, 0xffff);
        if (def->userdata_ns) {
            sk_attr(s, "xmlns", 0);
            sk_text(s, def->userdata_ns);
        }
        sk_tok(s, def->nitems ? EO_CLOSE_START : EO_CLOSE_EMPTY);
    }
    for (uint32_t i = 0; i < def->nitems; i++) {
        const struct kz_evtx_item *it = &def->items[i];
        uint16_t index = (uint16_t)(base + i);
        if (user || !it->name) {
            sk_value_elem(s, user ? it->name : "Data", index, it->type, it->optional);
            continue;
        }
        sk_open(s, "Data", 1, it->optional ? index : 0xffff);
        sk_attr(s, "Name", 0);
        sk_text(s, it->name);
        sk_tok(s, EO_CLOSE_START);
        sk_subst(s, index, it->type, it->optional);
        sk_tok(s, EO_END);
    }
    if (user && def->nitems) sk_tok(s, EO_END);
    sk_tok(s, EO_END);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The skeleton's GUID: a hash of its content, so the same layout gets the same GUID in every run;
 * salted until its first 4 bytes (the id records name it by) differ from every other skeleton's. */
static void skel_guid(struct kz_evtx_writer *w, struct ew_skel *sk) {
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    for (uint32_t i = 0; i < sk->nops; i++) {
        const struct ew_op *op = &sk->ops[i];
        uint8_t hdr[4] = {op->kind, op->flag, op->vtype, 0};
        h1 = fnv(h1, hdr, 4), h2 = fnv(h2, hdr, 4);
        h1 = fnv(h1, &op->arg, 2), h2 = fnv(h2, &op->arg, 2);
        if (op->kind == EO_OPEN || op->kind == EO_ATTR) {
            const struct ew_name *nm = &w->names[op->name];
            h1 = fnv(h1, nm->text, strlen(nm->text) + 1);
            h2 = fnv(h2, nm->text, strlen(nm->text) + 1);
        }
        if (op->units) {
            h1 = fnv(h1, op->units, 2 * (size_t)op->nunits);
            h2 = fnv(h2, op->units, 2 * (size_t)op->nunits);
        }
    }
    for (uint32_t salt = 0;; salt++) {
        uint64_t a = fnv(h1, &salt, 4), b = fnv(h2, &salt, 4);
        put64_at(sk->guid, a);
        put64_at(sk->guid + 8, b);
        sk->guid[7] = (uint8_t)((sk->guid[7] & 0x0f) | 0x40); /* shaped as a version 4 GUID */
        sk->guid[8] = (uint8_t)((sk->guid[8] & 0x3f) | 0x80);
        uint32_t k = 0;
        while (k < w->nskels && memcmp(w->skels[k].guid, sk->guid, 4))
            k++;
        if (k == w->nskels) return;
    }
}

static void skel_free(struct ew_skel *sk) {
    for (uint32_t i = 0; i < sk->nops; i++)
        kz_free(sk->ops[i].units);
    kz_free(sk->ops);
    memset(sk, 0, sizeof *sk);
}

/* Adds the skeleton built in s to the writer; *id receives its index. Frees it on failure. */
static int skel_add(struct kz_evtx_writer *w, struct skb *s, uint32_t *id) {
    if (s->rc) {
        skel_free(&s->sk);
        return s->rc;
    }
    uint32_t cap = w->skels_cap;
    int rc = grow((void **)&w->skels, &cap, w->nskels + 1, sizeof *w->skels,
                  2 * KZ_EVTXW_MAX_TEMPLATES + 1);
    if (!rc && cap != w->skels_cap) {
        uint32_t *p = kz_realloc(w->chunk_skels, (size_t)cap * sizeof *p);
        if (!p)
            rc = KZ_ENOMEM;
        else
            w->chunk_skels = p;
    }
    if (rc) {
        skel_free(&s->sk);
        return kz_err_set(s->err, rc, rc == KZ_ELIMIT ? "too many templates" : "out of memory");
    }
    w->skels_cap = cap;
    skel_guid(w, &s->sk);
    s->sk.chunk_off = 0;
    w->skels[w->nskels] = s->sk;
    *id = w->nskels++;
    return 0;
}

/* ---- values ---- */

static uint32_t fixed_size(uint8_t base) {
    switch (base) {
    case KZ_EVTX_VT_INT8:
    case KZ_EVTX_VT_UINT8:
        return 1;
    case KZ_EVTX_VT_INT16:
    case KZ_EVTX_VT_UINT16:
        return 2;
    case KZ_EVTX_VT_INT32:
    case KZ_EVTX_VT_UINT32:
    case KZ_EVTX_VT_REAL32:
    case KZ_EVTX_VT_BOOL:
    case KZ_EVTX_VT_HEXINT32:
        return 4;
    case KZ_EVTX_VT_INT64:
    case KZ_EVTX_VT_UINT64:
    case KZ_EVTX_VT_REAL64:
    case KZ_EVTX_VT_FILETIME:
    case KZ_EVTX_VT_SIZET:
    case KZ_EVTX_VT_HEXINT64:
        return 8;
    case KZ_EVTX_VT_GUID:
    case KZ_EVTX_VT_SYSTIME:
        return 16;
    }
    return 0;
}

static int type_known(uint8_t type) {
    uint8_t base = type & 0x7f;
    if (base == KZ_EVTX_VT_NULL || base > KZ_EVTX_VT_HEXINT64) return 0;
    if (!(type & KZ_EVTX_VT_ARRAY)) return 1;
    return base != KZ_EVTX_VT_BINARY; /* a Binary array has no item boundaries */
}

static void put_guid(struct kz_evtx_writer *w, const struct kz_evtx_guid *g) {
    put_u32(w, g->data1);
    put_u16(w, g->data2);
    put_u16(w, g->data3);
    put_bytes(w, g->data4, 8);
}

static int put_sid(struct kz_evtx_writer *w, const struct kz_evtx_sid *sid, struct kz_err *err) {
    if (sid->count > 15 || sid->authority >> 48)
        return kz_err_set(err, KZ_EUSAGE, "SID with %u sub-authorities or authority over 48 bits",
                          sid->count);
    put_u8(w, sid->revision);
    put_u8(w, sid->count);
    for (int i = 5; i >= 0; i--)
        put_u8(w, (uint8_t)(sid->authority >> 8 * i)); /* big-endian */
    for (int i = 0; i < sid->count; i++)
        put_u32(w, sid->sub[i]);
    return 0;
}

static void put_systime(struct kz_evtx_writer *w, const struct kz_evtx_systime *t) {
    put_u16(w, t->year);
    put_u16(w, t->month);
    put_u16(w, t->day_of_week);
    put_u16(w, t->day);
    put_u16(w, t->hour);
    put_u16(w, t->minute);
    put_u16(w, t->second);
    put_u16(w, t->milliseconds);
}

/* One fixed-size item from a value of the natural C type at p. */
static void put_fixed_item(struct kz_evtx_writer *w, uint8_t base, const void *p) {
    switch (base) {
    case KZ_EVTX_VT_INT8:
    case KZ_EVTX_VT_UINT8:
        put_bytes(w, p, 1);
        break;
    case KZ_EVTX_VT_INT16:
    case KZ_EVTX_VT_UINT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        put_u16(w, v);
        break;
    }
    case KZ_EVTX_VT_REAL32:
    case KZ_EVTX_VT_INT32:
    case KZ_EVTX_VT_UINT32:
    case KZ_EVTX_VT_BOOL:
    case KZ_EVTX_VT_HEXINT32: {
        uint32_t v;
        memcpy(&v, p, 4);
        put_u32(w, v);
        break;
    }
    case KZ_EVTX_VT_GUID:
        put_guid(w, p);
        break;
    case KZ_EVTX_VT_SYSTIME:
        put_systime(w, p);
        break;
    default: { /* the 8-byte types */
        uint64_t v;
        memcpy(&v, p, 8);
        put_u64(w, v);
        break;
    }
    }
}

/* A scalar from the value's union member. */
static int put_scalar(struct kz_evtx_writer *w, const struct kz_evtx_value *v, struct kz_err *err) {
    uint8_t base = v->type;
    switch (base) {
    case KZ_EVTX_VT_WSTRING:
        if (!v->v.s) return kz_err_set(err, KZ_EUSAGE, "string value without text");
        put_utf16(w, v->v.s, 0);
        return 0;
    case KZ_EVTX_VT_ASTRING:
        if (!v->v.s) return kz_err_set(err, KZ_EUSAGE, "string value without text");
        put_bytes(w, v->v.s, strlen(v->v.s));
        return 0;
    case KZ_EVTX_VT_BINARY:
        if (v->count && !v->v.p) return kz_err_set(err, KZ_EUSAGE, "binary value without bytes");
        if (v->count > KZ_EVTXW_MAX_VALUE)
            return kz_err_set(err, KZ_ELIMIT, "binary value of %u bytes (limit %d)", v->count,
                              KZ_EVTXW_MAX_VALUE);
        put_bytes(w, v->v.p, v->count);
        return 0;
    case KZ_EVTX_VT_GUID:
        if (!v->v.guid) return kz_err_set(err, KZ_EUSAGE, "GUID value without a GUID");
        put_guid(w, v->v.guid);
        return 0;
    case KZ_EVTX_VT_SID:
        if (!v->v.sid) return kz_err_set(err, KZ_EUSAGE, "SID value without a SID");
        return put_sid(w, v->v.sid, err);
    case KZ_EVTX_VT_SYSTIME:
        if (!v->v.systime) return kz_err_set(err, KZ_EUSAGE, "SYSTEMTIME value without a time");
        put_systime(w, v->v.systime);
        return 0;
    case KZ_EVTX_VT_REAL32: {
        float f = (float)v->v.r;
        put_fixed_item(w, base, &f);
        return 0;
    }
    case KZ_EVTX_VT_REAL64:
        put_fixed_item(w, base, &v->v.r);
        return 0;
    case KZ_EVTX_VT_BOOL:
        put_u32(w, v->v.u ? 1 : 0);
        return 0;
    }
    /* integers: the low bytes of i or u (the same bits) */
    uint64_t u = v->v.u;
    switch (fixed_size(base)) {
    case 1:
        put_u8(w, (uint8_t)u);
        break;
    case 2:
        put_u16(w, (uint16_t)u);
        break;
    case 4:
        put_u32(w, (uint32_t)u);
        break;
    default:
        put_u64(w, u);
        break;
    }
    return 0;
}

static int put_array(struct kz_evtx_writer *w, const struct kz_evtx_value *v, struct kz_err *err) {
    uint8_t base = v->type & 0x7f;
    if (v->count && !v->v.p) return kz_err_set(err, KZ_EUSAGE, "array value without items");
    for (uint32_t i = 0; i < v->count && !w->overflow; i++) {
        switch (base) {
        case KZ_EVTX_VT_WSTRING:
            if (!v->v.strs[i]) return kz_err_set(err, KZ_EUSAGE, "array item %u is NULL", i);
            put_utf16(w, v->v.strs[i], 1); /* items are NUL-terminated */
            break;
        case KZ_EVTX_VT_ASTRING:
            if (!v->v.strs[i]) return kz_err_set(err, KZ_EUSAGE, "array item %u is NULL", i);
            put_bytes(w, v->v.strs[i], strlen(v->v.strs[i]) + 1);
            break;
        case KZ_EVTX_VT_SID: {
            int rc = put_sid(w, &v->v.sids[i], err);
            if (rc) return rc;
            break;
        }
        default: {
            /* the natural C types have their on-disk sizes (struct kz_evtx_guid and
             * kz_evtx_systime are 16 bytes without padding) */
            put_fixed_item(w, base, (const uint8_t *)v->v.p + (size_t)i * fixed_size(base));
            break;
        }
        }
    }
    return 0;
}

/* Checks a value against its declared type and writes it; *type receives the on-disk type.
 *
 * A NULL value for a substitution that is not optional: Windows writes an empty value of the
 * declared type there (libevtx refuses a NULL-typed one), which only string and binary types have;
 * for the others it is the caller's mistake. */
static int put_value(struct kz_evtx_writer *w, const struct kz_evtx_value *v, uint8_t declared,
                     int optional, uint8_t *type, struct kz_err *err) {
    *type = KZ_EVTX_VT_NULL;
    if (!v || v->type == KZ_EVTX_VT_NULL) {
        if (optional) return 0;
        uint8_t base = declared & 0x7f;
        if (base == KZ_EVTX_VT_WSTRING || base == KZ_EVTX_VT_ASTRING || base == KZ_EVTX_VT_BINARY) {
            *type = declared; /* empty */
            return 0;
        }
        return kz_err_set(err, KZ_EUSAGE,
                          "no value for an item of type 0x%02x that is not optional (only strings "
                          "and binary can be empty)",
                          declared);
    }
    if (v->type != declared)
        return kz_err_set(err, KZ_EUSAGE, "value of type 0x%02x where the template declares 0x%02x",
                          v->type, declared);
    *type = v->type;
    return v->type & KZ_EVTX_VT_ARRAY ? put_array(w, v, err) : put_scalar(w, v, err);
}

/* A value list starts with its count and one descriptor {size (2), type (1), 0} per value; they
 * are reserved zeroed (a NULL value's descriptor stays zero) and filled in as the values are
 * written. Returns the descriptors' offset. */
static inline uint32_t begin_values(struct kz_evtx_writer *w, uint32_t n) {
    put_u32(w, n);
    uint32_t desc = w->pos;
    if (w->overflow || 4 * (size_t)n > CHUNK_END - w->pos) {
        w->overflow = 1;
        return desc;
    }
    memset(w->b + w->pos, 0, 4 * (size_t)n);
    w->pos += 4 * n;
    return desc;
}

/* Fills in descriptor i for the value written from start. */
static inline int end_value(struct kz_evtx_writer *w, uint32_t desc, uint32_t i, uint32_t start,
                            uint8_t type, struct kz_err *err) {
    if (w->overflow) return 0;
    uint32_t len = w->pos - start;
    if (len > KZ_EVTXW_MAX_VALUE)
        return kz_err_set(err, KZ_ELIMIT, "value %u is %u bytes (limit %d)", i, len,
                          KZ_EVTXW_MAX_VALUE);
    put32_at(w->b + desc + 4 * i, len | (uint32_t)type << 16);
    return 0;
}

/* The event's item values as values base, base + 1, ... of the list whose descriptors are at
 * desc. Strings, most of the values of Windows events, take a short way. */
static int put_items(struct kz_evtx_writer *w, const struct ew_layout *L,
                     const struct kz_evtx_event *ev, uint32_t desc, uint32_t base,
                     struct kz_err *err) {
    for (uint32_t i = 0; i < L->nitems && !w->overflow; i++) {
        const struct kz_evtx_value *v = i < ev->nvalues ? &ev->values[i] : NULL;
        uint32_t start = w->pos;
        uint8_t type;
        int rc = 0;
        if (v && v->type == KZ_EVTX_VT_WSTRING && L->types[i] == KZ_EVTX_VT_WSTRING && v->v.s) {
            put_utf16(w, v->v.s, 0);
            type = KZ_EVTX_VT_WSTRING;
        } else {
            rc = put_value(w, v, L->types[i], L->optional[i], &type, err);
        }
        if (!rc) rc = end_value(w, desc, base + i, start, type, err);
        if (rc) {
            kz_err_prefix(err, "item %u (%s): ", i, L->item_names[i] ? L->item_names[i] : "Data");
            return rc;
        }
    }
    return 0;
}

static void put_guid(struct kz_evtx_writer *w, const struct kz_evtx_guid *g);

/* The record's values: the System ones (Windows' generic layout, see S_*), then the body, either
 * one BinXML value holding its own template instance (nested) or the items themselves. */
static int put_record_values(struct kz_evtx_writer *w, const struct ew_layout *L,
                             const struct kz_evtx_event *ev, uint64_t record_id,
                             struct kz_err *err) {
    uint32_t n = S_BODY + (L->nested ? 1 : L->nitems);
    uint32_t desc = begin_values(w, n), start;
    int rc = 0;
#define SYSV(index, vtype, write)                                                                  \
    do {                                                                                           \
        start = w->pos;                                                                            \
        write;                                                                                     \
        if ((rc = end_value(w, desc, index, start, vtype, err))) goto fail;                        \
    } while (0)
    SYSV(S_LEVEL, KZ_EVTX_VT_UINT8, put_u8(w, L->level));
    SYSV(S_OPCODE, KZ_EVTX_VT_UINT8, put_u8(w, L->opcode));
    SYSV(S_TASK, KZ_EVTX_VT_UINT16, put_u16(w, L->task));
    SYSV(S_EVENTID, KZ_EVTX_VT_UINT16, put_u16(w, L->event_id));
    if (L->qualifiers >= 0)
        SYSV(S_QUALIFIERS, KZ_EVTX_VT_UINT16, put_u16(w, (uint16_t)L->qualifiers));
    SYSV(S_KEYWORDS, KZ_EVTX_VT_HEXINT64, put_u64(w, L->keywords));
    SYSV(S_TIME, KZ_EVTX_VT_FILETIME, put_u64(w, (uint64_t)(ev->time + KZ_FILETIME_UNIX_OFFSET)));
    if (ev->activity_id) SYSV(S_ACTIVITY, KZ_EVTX_VT_GUID, put_guid(w, ev->activity_id));
    SYSV(S_PID, KZ_EVTX_VT_UINT32, put_u32(w, ev->process_id));
    SYSV(S_TID, KZ_EVTX_VT_UINT32, put_u32(w, ev->thread_id));
    SYSV(S_RECORDID, KZ_EVTX_VT_UINT64, put_u64(w, record_id));
    SYSV(S_VERSION, KZ_EVTX_VT_UINT8, put_u8(w, L->version));
    if (ev->user) {
        start = w->pos;
        if ((rc = put_sid(w, ev->user, err))) {
            kz_err_prefix(err, "System value %u: ", S_USER);
            return rc;
        }
        if ((rc = end_value(w, desc, S_USER, start, KZ_EVTX_VT_SID, err))) goto fail;
    }
    if (ev->related_activity) SYSV(S_RELATED, KZ_EVTX_VT_GUID, put_guid(w, ev->related_activity));
    SYSV(S_PROVIDER, KZ_EVTX_VT_WSTRING, put_utf16(w, L->provider, 0));
    if (L->has_guid) SYSV(S_PROVIDER_GUID, KZ_EVTX_VT_GUID, put_guid(w, &L->provider_guid));
    SYSV(S_CHANNEL, KZ_EVTX_VT_WSTRING, put_utf16(w, L->channel, 0));
    SYSV(S_COMPUTER, KZ_EVTX_VT_WSTRING, put_utf16(w, ev->computer, 0));
    if (L->event_source) SYSV(S_SOURCE, KZ_EVTX_VT_WSTRING, put_utf16(w, L->event_source, 0));
#undef SYSV
    if (!L->nested) return put_items(w, L, ev, desc, S_BODY, err);
    start = w->pos;
    put_fragment_header(w);
    put_instance(w, L->inner);
    uint32_t inner = begin_values(w, L->nitems);
    if ((rc = put_items(w, L, ev, inner, 0, err))) return rc;
    put_u8(w, 0x00); /* EOF */
    if ((rc = end_value(w, desc, S_BODY, start, VT_BINXML, err))) goto fail;
    return 0;
fail:
    kz_err_prefix(err, "System value: ");
    return rc;
}

/* Writes one record at the current position. Returns 0, EW_FULL when it ran past the chunk, or a
 * KZ_E* status. The caller rolls back on anything but 0. */
static int put_record(struct kz_evtx_writer *w, const struct ew_layout *L,
                      const struct kz_evtx_event *ev, uint64_t record_id, struct kz_err *err) {
    uint32_t start = w->pos;
    put_bytes(w, "**\0\0", 4);
    put_u32(w, 0); /* size, patched below */
    put_u64(w, record_id);
    put_u64(w, (uint64_t)(ev->time + KZ_FILETIME_UNIX_OFFSET));
    put_fragment_header(w);
    put_instance(w, L->skel);
    int rc = put_record_values(w, L, ev, record_id, err);
    if (rc) return rc;
    put_u8(w, 0x00); /* EOF */
    uint32_t size = w->pos + 4 - start;
    static const uint8_t zero[8];
    put_bytes(w, zero, (8 - size % 8) % 8); /* records are multiples of 8 bytes, as Windows' */
    size = w->pos + 4 - start;
    put_u32(w, size);
    patch32(w, start + 4, size);
    if (w->overflow) return EW_FULL;
    if (!w->nrecords) w->first_id = record_id;
    w->last_id = record_id;
    w->last_rec = start;
    w->nrecords++;
    return 0;
}

/* ---- chunks and the file ---- */

static int write_at(struct kz_evtx_writer *w, const uint8_t *p, size_t n, uint64_t off,
                    struct kz_err *err) {
    while (n) {
        ssize_t k = pwrite(w->fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            w->failed = 1;
            return kz_err_set(err, KZ_EIO, "%s: write at offset %llu: %s", w->path,
                              (unsigned long long)off, k < 0 ? strerror(errno) : "no progress");
        }
        p += k, n -= (size_t)k, off += (uint64_t)k;
    }
    return 0;
}

/* The file header. Its first 128 bytes are all that change; the whole 4 KiB block (zeroes after
 * them) is written when the file is opened (full set), later updates rewrite the 128 bytes. */
static int write_header(struct kz_evtx_writer *w, uint32_t flags, int full, struct kz_err *err) {
    uint8_t h[FILE_HEADER];
    memset(h, 0, full ? sizeof h : 128);
    memcpy(h, "ElfFile\0", 8);
    put64_at(h + 8, 0);                                /* first chunk */
    put64_at(h + 16, w->nchunks ? w->nchunks - 1 : 0); /* last chunk */
    put64_at(h + 24, w->records + 1);                  /* next record id */
    put32_at(h + 32, 128);                             /* header size */
    put16_at(h + 36, 1);                               /* minor version */
    put16_at(h + 38, 3);                               /* major version */
    put16_at(h + 40, FILE_HEADER);                     /* header block size */
    put16_at(h + 42, (uint16_t)w->nchunks);            /* chunk count */
    put32_at(h + 120, flags);
    put32_at(h + 124, kz_crc32(0, h, 120));
    return write_at(w, h, full ? sizeof h : 128, 0, err);
}

/* Fills in the chunk header (tables, offsets, checksums). */
static void finish_chunk(struct kz_evtx_writer *w) {
    uint8_t *b = w->b;
    /* No byte after the last record is left from an earlier chunk, a rolled-back record or the
     * string writer's block stores (put_utf16). */
    memset(b + w->pos, 0, CHUNK - w->pos);
    memcpy(b, "ElfChnk\0", 8);
    put64_at(b + 8, w->first_id); /* record numbers: the same as the ids in a file */
    put64_at(b + 16, w->last_id);
    put64_at(b + 24, w->first_id);
    put64_at(b + 32, w->last_id);
    put32_at(b + 40, 128);
    put32_at(b + 44, w->last_rec);
    put32_at(b + 48, w->pos);
    /* String table: each bucket (name hash mod 64) holds the newest name, whose first field points
     * at the previous one. Template table: the same by template id mod 32. */
    uint32_t strings[64] = {0}, templates[32] = {0};
    for (uint32_t k = 0; k < w->nchunk_names; k++) {
        uint32_t id = w->chunk_names[k], off = w->name_off[id], bucket = w->names[id].hash % 64;
        put32_at(b + off, strings[bucket]);
        strings[bucket] = off;
    }
    for (uint32_t k = 0; k < w->nchunk_skels; k++) {
        const struct ew_skel *sk = &w->skels[w->chunk_skels[k]];
        uint32_t bucket = (uint32_t)(sk->guid[0] | sk->guid[1] << 8 | sk->guid[2] << 16 |
                                     (uint32_t)sk->guid[3] << 24) %
                          32;
        put32_at(b + sk->chunk_off, templates[bucket]);
        templates[bucket] = sk->chunk_off;
    }
    for (int i = 0; i < 64; i++)
        put32_at(b + 128 + 4 * i, strings[i]);
    for (int i = 0; i < 32; i++)
        put32_at(b + 384 + 4 * i, templates[i]);
    put32_at(b + 52, kz_crc32(0, b + 512, w->pos - 512));
    put32_at(b + 120, 1); /* chunk flags: what Windows writes */
    put32_at(b + 124, kz_crc32(kz_crc32(0, b, 120), b + 128, 384));
}

/* Starts an empty chunk: zeroes its header (finish_chunk zeroes what follows the records) and
 * forgets its names and templates. */
static void reset_chunk(struct kz_evtx_writer *w) {
    memset(w->b, 0, 512);
    for (uint32_t k = 0; k < w->nchunk_names; k++)
        w->name_off[w->chunk_names[k]] = 0;
    for (uint32_t k = 0; k < w->nchunk_skels; k++)
        w->skels[w->chunk_skels[k]].chunk_off = 0;
    w->nchunk_names = w->nchunk_skels = 0;
    w->pos = 512;
    w->overflow = 0;
    w->nrecords = 0;
    w->first_id = w->last_id = 0;
    w->last_rec = 0;
}

/* Writes the current chunk (if it holds records) and the file header that now counts it. */
static int flush_chunk(struct kz_evtx_writer *w, struct kz_err *err) {
    if (!w->nrecords) return 0;
    finish_chunk(w);
    int rc = write_at(w, w->b, CHUNK, FILE_HEADER + (uint64_t)w->nchunks * CHUNK, err);
    if (rc) return rc;
    w->nchunks++;
    reset_chunk(w);
    return write_header(w, 1, 0, err); /* still open: dirty */
}

/* Ends the full file (its final, clean header) and goes on in the next part: "Security.evtx",
 * then "Security-2.evtx", "Security-3.evtx" ... as a log that Windows archives when full goes on
 * in a new file. Record ids go on from the last one, so (file, record id) still names one record
 * and a reader of all the parts sees one sequence. Only a writer that opened its file by path can
 * do it; on a caller's descriptor a full file stays an error. */
static int roll_over(struct kz_evtx_writer *w, struct kz_err *err) {
    if (!w->base)
        return kz_err_set(err, KZ_ELIMIT, "%s: file full (%u chunks)", w->path, w->max_chunks);
    if (w->part >= UINT32_MAX - 1)
        return kz_err_set(err, KZ_ELIMIT, "%s: too many parts", w->base);
    if (w->part - 1 >= w->parts_cap) {
        uint32_t cap = w->parts_cap ? w->parts_cap * 2 : 8;
        uint64_t *p = kz_realloc(w->part_first, (size_t)cap * sizeof *p);
        if (!p) return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", w->base);
        w->part_first = p;
        w->parts_cap = cap;
    }
    size_t cap = strlen(w->base) + 16;
    char *next = kz_malloc(cap);
    if (!next) return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", w->base);
    kz_evtx_part_name(w->base, w->part + 1, next, cap);
    int rc = write_header(w, 0, 0, err); /* the full part is finished: clean */
    if (!rc && close(w->fd) != 0)
        rc = kz_err_set(err, KZ_EIO, "%s: close: %s", w->path, strerror(errno));
    w->fd = -1;
    if (!rc) {
        w->fd = open(next, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0) rc = kz_err_set(err, KZ_EIO, "%s: %s", next, strerror(errno));
    }
    if (rc) {
        w->failed = 1;
        kz_free(next);
        return rc;
    }
    kz_free(w->path);
    w->path = next;
    w->part_first[w->part - 1] = w->records + 1;
    w->part++;
    w->nchunks = 0;
    return write_header(w, 1, 1, err); /* the new part, open: dirty */
}

/* ---- the public functions ---- */

int kz_evtx_writer_open_fd(struct kz_evtx_writer **out, int fd, const char *name,
                           struct kz_err *err) {
    *out = NULL;
    struct kz_evtx_writer *w = kz_calloc(1, sizeof *w);
    if (!w) return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", name);
    w->fd = fd;
    w->outer_skel = UINT32_MAX;
    w->max_chunks = KZ_EVTXW_MAX_CHUNKS;
    w->part = 1;
    w->path = kz_strdup(name ? name : "(evtx)");
    /* Not zeroed as a whole: every byte up to the records' end is written, reset_chunk zeroes the
     * header and finish_chunk what follows the records (the buffer of a small file is mostly
     * never touched). */
    w->b = kz_malloc(CHUNK);
    if (w->b) memset(w->b, 0, 512);
    if (!w->path || !w->b) {
        kz_free(w->path);
        kz_free(w->b);
        kz_free(w);
        return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", name);
    }
    w->pos = 512;
    int rc = write_header(w, 1, 1, err);
    if (rc) {
        kz_free(w->path);
        kz_free(w->b);
        kz_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int kz_evtx_writer_open(struct kz_evtx_writer **out, const char *path, struct kz_err *err) {
    *out = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    int rc = kz_evtx_writer_open_fd(out, fd, path, err);
    if (rc) {
        close(fd);
        return rc;
    }
    (*out)->own_fd = 1;
    if (!((*out)->base = kz_strdup(path))) {
        kz_evtx_writer_close(*out, NULL);
        *out = NULL;
        return kz_err_set(err, KZ_ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

void kz_evtx_writer_set_max_chunks(struct kz_evtx_writer *w, uint32_t chunks) {
    if (w && chunks >= 1 && chunks <= KZ_EVTXW_MAX_CHUNKS) w->max_chunks = chunks;
}

uint32_t kz_evtx_writer_part_of(const struct kz_evtx_writer *w, uint64_t record_id) {
    uint32_t part = 1;
    if (!w) return part;
    while (part < w->part && record_id >= w->part_first[part - 1])
        part++;
    return part;
}

void kz_evtx_part_name(const char *name, uint32_t part, char *out, size_t cap) {
    if (part <= 1) {
        snprintf(out, cap, "%s", name);
        return;
    }
    size_t n = strlen(name);
    size_t stem = n >= 5 && !strcasecmp(name + n - 5, ".evtx") ? n - 5 : n;
    snprintf(out, cap, "%.*s-%u%s", (int)stem, name, part, name + stem);
}

static void layout_free(struct ew_layout *L) {
    kz_free(L->provider);
    kz_free(L->event_source);
    kz_free(L->channel);
    kz_free(L->types);
    kz_free(L->optional);
    if (L->item_names)
        for (uint32_t i = 0; i < L->nitems; i++)
            kz_free(L->item_names[i]);
    kz_free(L->item_names);
    memset(L, 0, sizeof *L);
}

static int check_def(const struct kz_evtx_template_def *def, struct kz_err *err) {
    if (!def->provider || !def->channel)
        return kz_err_set(err, KZ_EUSAGE, "a template needs a provider and a channel");
    if (def->body < KZ_EVTX_BODY_EVENTDATA || def->body > KZ_EVTX_BODY_NONE)
        return kz_err_set(err, KZ_EUSAGE, "unknown body kind %d", def->body);
    if (def->nitems > KZ_EVTXW_MAX_ITEMS)
        return kz_err_set(err, KZ_ELIMIT, "%u items (limit %d)", def->nitems, KZ_EVTXW_MAX_ITEMS);
    if (def->nitems && !def->items) return kz_err_set(err, KZ_EUSAGE, "items missing");
    if (def->body == KZ_EVTX_BODY_NONE && def->nitems)
        return kz_err_set(err, KZ_EUSAGE, "items given for a template without a body");
    if (def->qualifiers > 0xffff)
        return kz_err_set(err, KZ_EUSAGE, "qualifiers %d over 16 bits", def->qualifiers);
    if (def->body == KZ_EVTX_BODY_USERDATA && !def->userdata_element)
        return kz_err_set(err, KZ_EUSAGE, "UserData needs an element name");
    for (uint32_t i = 0; i < def->nitems; i++) {
        const struct kz_evtx_item *it = &def->items[i];
        if (!type_known(it->type))
            return kz_err_set(err, KZ_EUSAGE, "item %u (%s): type 0x%02x cannot be written", i,
                              it->name ? it->name : "Data", it->type);
        if (!it->name && def->body == KZ_EVTX_BODY_USERDATA)
            return kz_err_set(err, KZ_EUSAGE, "item %u: UserData items need names", i);
    }
    return 0;
}

static int template_add(struct kz_evtx_writer *w, const struct kz_evtx_template_def *def,
                        struct ew_layout *L, struct kz_err *err) {
    int rc;
    L->nitems = def->nitems;
    L->provider = kz_strdup(def->provider);
    L->channel = kz_strdup(def->channel);
    L->event_source = def->event_source ? kz_strdup(def->event_source) : NULL;
    L->types = kz_malloc(def->nitems + 1);
    L->optional = kz_malloc(def->nitems + 1);
    L->item_names = kz_calloc(def->nitems + 1, sizeof *L->item_names);
    if (!L->provider || !L->channel || (def->event_source && !L->event_source) || !L->types ||
        !L->optional || !L->item_names)
        return kz_err_set(err, KZ_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < def->nitems; i++) {
        L->types[i] = def->items[i].type;
        L->optional[i] = def->items[i].optional;
        if (def->items[i].name && !(L->item_names[i] = kz_strdup(def->items[i].name)))
            return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    L->has_guid = def->provider_guid != NULL;
    if (L->has_guid) L->provider_guid = *def->provider_guid;
    L->event_id = def->event_id;
    L->qualifiers = def->qualifiers < 0 ? -1 : def->qualifiers;
    L->version = def->version;
    L->level = def->level;
    L->opcode = def->opcode;
    L->task = def->task;
    L->keywords = def->keywords;
    L->nested = def->nested && def->body != KZ_EVTX_BODY_NONE;
    if (L->nested) {
        if (w->outer_skel == UINT32_MAX) {
            struct skb s = {.w = w, .err = err};
            sk_system(&s, S_BODY);
            sk_subst(&s, S_BODY, VT_BINXML, 1);
            sk_tok(&s, EO_END);
            if ((rc = skel_add(w, &s, &w->outer_skel))) return rc;
        }
        L->skel = w->outer_skel;
        struct skb s = {.w = w, .err = err};
        sk_body(&s, def, 0);
        return skel_add(w, &s, &L->inner);
    }
    struct skb s = {.w = w, .err = err};
    sk_system(&s, 0xffff);
    sk_body(&s, def, S_BODY);
    sk_tok(&s, EO_END);
    return skel_add(w, &s, &L->skel);
}

int kz_evtx_writer_template(struct kz_evtx_writer *w, const struct kz_evtx_template_def *def,
                            uint32_t *id, struct kz_err *err) {
    if (!w || !def || !id) return kz_err_set(err, KZ_EUSAGE, "kz_evtx_writer_template: NULL");
    int rc = check_def(def, err);
    if (!rc && w->nlayouts >= KZ_EVTXW_MAX_TEMPLATES)
        rc = kz_err_set(err, KZ_ELIMIT, "more than %d templates", KZ_EVTXW_MAX_TEMPLATES);
    if (!rc) {
        uint32_t cap = w->layouts_cap;
        rc = grow((void **)&w->layouts, &cap, w->nlayouts + 1, sizeof *w->layouts,
                  KZ_EVTXW_MAX_TEMPLATES);
        if (rc) rc = kz_err_set(err, rc, "out of memory");
        w->layouts_cap = cap;
    }
    if (!rc) {
        struct ew_layout *L = &w->layouts[w->nlayouts];
        memset(L, 0, sizeof *L);
        rc = template_add(w, def, L, err);
        if (rc)
            layout_free(L);
        else
            *id = w->nlayouts++;
    }
    if (rc)
        kz_err_prefix(err, "%s: template %s/%u: ", w->path, def->provider ? def->provider : "?",
                      def->event_id);
    return rc;
}

int kz_evtx_writer_append(struct kz_evtx_writer *w, const struct kz_evtx_event *ev,
                          uint64_t *record_id, struct kz_err *err) {
    if (!w || !ev) return kz_err_set(err, KZ_EUSAGE, "kz_evtx_writer_append: NULL");
    uint64_t id = w->records + 1;
    if (w->failed) return kz_err_set(err, KZ_EIO, "%s: an earlier write failed", w->path);
    if (ev->tmpl >= w->nlayouts)
        return kz_err_set(err, KZ_EUSAGE, "%s: record %llu: no template %u", w->path,
                          (unsigned long long)id, ev->tmpl);
    const struct ew_layout *L = &w->layouts[ev->tmpl];
    if (!ev->computer)
        return kz_err_set(err, KZ_EUSAGE, "%s: record %llu: no computer name", w->path,
                          (unsigned long long)id);
    if (ev->time < -KZ_FILETIME_UNIX_OFFSET)
        return kz_err_set(err, KZ_EUSAGE, "%s: record %llu: time before 1601", w->path,
                          (unsigned long long)id);
    if (ev->nvalues > L->nitems)
        return kz_err_set(err, KZ_EUSAGE, "%s: record %llu: %u values for %u items", w->path,
                          (unsigned long long)id, ev->nvalues, L->nitems);
    for (int attempt = 0;; attempt++) {
        int rc;
        if (!w->nrecords && w->nchunks >= w->max_chunks && (rc = roll_over(w, err))) return rc;
        uint32_t save_pos = w->pos, save_names = w->nchunk_names, save_skels = w->nchunk_skels;
        rc = put_record(w, L, ev, id, err);
        if (rc == 0) {
            w->records = id;
            if (record_id) *record_id = id;
            return 0;
        }
        /* roll back everything the record added to the chunk */
        memset(w->b + save_pos, 0, w->pos - save_pos);
        w->pos = save_pos;
        w->overflow = 0;
        for (uint32_t k = save_names; k < w->nchunk_names; k++)
            w->name_off[w->chunk_names[k]] = 0;
        for (uint32_t k = save_skels; k < w->nchunk_skels; k++)
            w->skels[w->chunk_skels[k]].chunk_off = 0;
        w->nchunk_names = save_names;
        w->nchunk_skels = save_skels;
        if (rc != EW_FULL) {
            kz_err_prefix(err, "%s: record %llu (%s/%u): ", w->path, (unsigned long long)id,
                          L->provider, L->event_id);
            return rc;
        }
        if (!w->nrecords || attempt)
            return kz_err_set(
                err, KZ_ELIMIT, "%s: record %llu (%s/%u): larger than a chunk can hold (%d bytes)",
                w->path, (unsigned long long)id, L->provider, L->event_id, KZ_EVTXW_MAX_RECORD);
        if ((rc = flush_chunk(w, err))) return rc;
    }
}

uint64_t kz_evtx_writer_records(const struct kz_evtx_writer *w) {
    return w ? w->records : 0;
}

int kz_evtx_writer_close(struct kz_evtx_writer *w, struct kz_err *err) {
    if (!w) return 0;
    int rc = 0;
    if (w->failed)
        rc =
            kz_err_set(err, KZ_EIO, "%s: an earlier write failed; the file is incomplete", w->path);
    if (!rc) rc = flush_chunk(w, err);
    if (!rc) rc = write_header(w, 0, 0, err); /* clean */
    if (w->own_fd && close(w->fd) && !rc)
        rc = kz_err_set(err, KZ_EIO, "%s: close: %s", w->path, strerror(errno));
    for (uint32_t i = 0; i < w->nnames; i++) {
        kz_free(w->names[i].text);
        kz_free(w->names[i].units);
    }
    for (uint32_t i = 0; i < w->nskels; i++)
        skel_free(&w->skels[i]);
    for (uint32_t i = 0; i < w->nlayouts; i++)
        layout_free(&w->layouts[i]);
    kz_free(w->names);
    kz_free(w->skels);
    kz_free(w->layouts);
    kz_free(w->name_off);
    kz_free(w->chunk_names);
    kz_free(w->chunk_skels);
    kz_free(w->b);
    kz_free(w->path);
    kz_free(w->base);
    kz_free(w->part_first);
    kz_free(w);
    return rc;
}

/* ---- helpers for callers ---- */

/* Reads decimal (or 0x hex when hex_ok) digits at *s into *v, at most max. */
static int parse_num(const char **s, uint64_t max, int hex_ok, uint64_t *v) {
    const char *p = *s;
    uint64_t x = 0;
    int base = 10, digits = 0;
    if (hex_ok && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) base = 16, p += 2;
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (x > (max - (uint64_t)d) / (uint64_t)base) return KZ_EFORMAT;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    if (!digits) return KZ_EFORMAT;
    *s = p;
    *v = x;
    return 0;
}

int kz_evtx_sid_parse(const char *text, struct kz_evtx_sid *sid) {
    memset(sid, 0, sizeof *sid);
    if (!text || (text[0] != 'S' && text[0] != 's') || text[1] != '-') return KZ_EFORMAT;
    const char *p = text + 2;
    uint64_t v;
    if (parse_num(&p, 255, 0, &v) || *p++ != '-') return KZ_EFORMAT;
    sid->revision = (uint8_t)v;
    if (parse_num(&p, (1ull << 48) - 1, 1, &sid->authority)) return KZ_EFORMAT;
    while (*p == '-') {
        p++;
        if (sid->count == 15 || parse_num(&p, UINT32_MAX, 0, &v)) return KZ_EFORMAT;
        sid->sub[sid->count++] = (uint32_t)v;
    }
    return *p ? KZ_EFORMAT : 0;
}

void kz_evtx_systime_from(kz_time t, struct kz_evtx_systime *st) {
    const int64_t day = 86400 * KZ_TICKS_PER_SEC;
    int64_t days = t / day, rest = t % day;
    if (rest < 0) rest += day, days--;
    int64_t y;
    unsigned m, d;
    kz_civil_from_days(days, &y, &m, &d);
    int64_t secs = rest / KZ_TICKS_PER_SEC;
    st->year = (uint16_t)y;
    st->month = (uint16_t)m;
    st->day = (uint16_t)d;
    st->day_of_week = (uint16_t)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    st->hour = (uint16_t)(secs / 3600);
    st->minute = (uint16_t)(secs / 60 % 60);
    st->second = (uint16_t)(secs % 60);
    st->milliseconds = (uint16_t)(rest % KZ_TICKS_PER_SEC / 10000);
}
