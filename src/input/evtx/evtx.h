/* evtx.h - the Windows XML Event Log (EVTX) decoder.
 *
 * An EVTX file is a 4 KiB file header followed by 64 KiB chunks. Each chunk is self-contained: its
 * records refer to names and templates stored in the same chunk, so chunks decode independently and
 * in parallel. A record is Binary XML (BinXML): usually one template instance, i.e. a reference to
 * a template (the XML skeleton, compiled once per chunk and cached) plus an array of typed
 * substitution values.
 *
 * Layers, bottom up: kz_evtx_parse_header / kz_evtx_parse_chunk_header read the on-disk headers;
 * kz_evtx_decode_chunk turns one chunk into events (one callback per record, fields extracted);
 * kz_evtx_render_xml renders a decoded record back to XML; evtx_reader.h walks whole files in
 * parallel.
 *
 * Hostile input: every read is bounds-checked against the chunk; names, templates, nesting,
 * substitution counts and the memory a chunk may expand to are capped (EVTX_MAX_* in evtx_int.h). A
 * record that breaks a rule is counted as bad and skipped; decoding goes on with the next record.
 *
 * Ownership: a decoder is used by one thread at a time. Events passed to the record callback, and
 * their strings, live in the decoder's chunk arena and are valid until the next
 * kz_evtx_decode_chunk call. */
#ifndef KZ_EVTX_H
#define KZ_EVTX_H

#include "../../core/buf.h"
#include "../../core/crc32.h"
#include "../../core/event.h"

#include <stddef.h>
#include <stdint.h>

#define KZ_EVTX_FILE_HEADER_SIZE 4096
#define KZ_EVTX_CHUNK_SIZE 65536

struct kz_evtx_header {
    uint64_t first_chunk;    /* number of the oldest chunk */
    uint64_t last_chunk;     /* number of the current (newest) chunk */
    uint64_t next_record_id; /* id the next record written would get */
    uint32_t header_size;    /* 128 */
    uint16_t minor, major;   /* format version, 3.1 or 3.2 */
    uint16_t block_size;     /* size of the file header block, 4096 */
    uint16_t chunk_count;    /* chunks in use according to the header */
    uint32_t flags;          /* bit 0: dirty (not closed cleanly), bit 1: full */
    uint32_t checksum;       /* CRC32 of the first 120 bytes */
    int checksum_ok;         /* the stored checksum matches */
};

struct kz_evtx_chunk_header {
    uint64_t first_record_num, last_record_num; /* log record numbers */
    uint64_t first_record_id, last_record_id;   /* file record ids (EventRecordID) */
    uint32_t header_size;                       /* 128 */
    uint32_t last_record_offset;                /* offset of the last record in the chunk */
    uint32_t free_space_offset;                 /* end of the records: where free space starts */
    uint32_t data_checksum;                     /* CRC32 of the records (512..free_space_offset) */
    uint32_t header_checksum;                   /* CRC32 of bytes 0..120 and 128..512 */
    int header_checksum_ok, data_checksum_ok;
};

/* Counters a caller accumulates over chunks and files. */
struct kz_evtx_stats {
    uint64_t records;         /* records decoded */
    uint64_t bad_records;     /* records found but not decodable (skipped) */
    uint64_t slack_records;   /* of `records`, those found in free space or uncounted chunks */
    uint64_t chunks;          /* chunks decoded */
    uint64_t bad_chunks;      /* chunks skipped whole (bad signature, unusable header) */
    uint64_t checksum_errors; /* header or data checksums that did not match (records still read) */
};

struct kz_evtx_record {
    uint64_t record_id;           /* from the record header */
    kz_time written;              /* record header's write time */
    const struct kz_event *event; /* decoded fields and header; see the ownership note above */
    int slack;                    /* 1 when the record came from free space or an uncounted chunk */
    /* private: where the record's BinXML sits, for kz_evtx_render_xml */
    const uint8_t *chunk;
    uint32_t binxml_offset, binxml_end;
};

enum {
    KZ_EVTX_SLACK = 1, /* also decode what looks like records in the chunk's free space */
};

struct kz_evtx_decoder;

typedef void (*kz_evtx_record_fn)(void *ctx, struct kz_evtx_decoder *d,
                                  const struct kz_evtx_record *rec);
/* Called for each problem: offset of the record (or 0 for the chunk), its id if known, a message.
 */
typedef void (*kz_evtx_problem_fn)(void *ctx, uint32_t offset, uint64_t record_id, const char *msg);

/* Reads a file header (at least 128 bytes of p). Returns 0, or KZ_EFORMAT if the signature is
 * wrong. */
int kz_evtx_parse_header(const uint8_t *p, size_t n, struct kz_evtx_header *h);

/* Reads a chunk header (n >= 512). Returns 0, or KZ_EFORMAT if the signature is wrong. Checksums
 * are checked and reported in h, not treated as errors. */
int kz_evtx_parse_chunk_header(const uint8_t *chunk, size_t n, struct kz_evtx_chunk_header *h);

struct kz_evtx_decoder *kz_evtx_decoder_new(void);
void kz_evtx_decoder_free(struct kz_evtx_decoder *d);
/* A pointer the caller attaches to a decoder, e.g. per-thread matcher state: a decoder is used by
 * one thread at a time, so what hangs off it needs no lock. NULL until set; the caller frees it. */
void *kz_evtx_decoder_user(const struct kz_evtx_decoder *d);
void kz_evtx_decoder_set_user(struct kz_evtx_decoder *d, void *user);

/* Decodes every record of one chunk (n is normally KZ_EVTX_CHUNK_SIZE; shorter chunks, at the end
 * of a truncated file, are decoded as far as they go). Calls fn for each record decoded and problem
 * (may be NULL) for each record or chunk skipped; adds to st. Returns 0, or KZ_EFORMAT when the
 * chunk was skipped whole, or KZ_ENOMEM. */
int kz_evtx_decode_chunk(struct kz_evtx_decoder *d, const uint8_t *chunk, size_t n, unsigned flags,
                         int slack_chunk, kz_evtx_record_fn fn, kz_evtx_problem_fn problem,
                         void *ctx, struct kz_evtx_stats *st);

/* Appends the record as XML (Windows' own element names and layout, on one line) to out. Returns 0
 * or a KZ_E* status; on error out holds a partial document and should be discarded. */
int kz_evtx_render_xml(struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                       struct kz_buf *out);

#endif
