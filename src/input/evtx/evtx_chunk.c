/* evtx_chunk.c - EVTX file and chunk headers, checksums, and the record loop of a chunk.
 *
 * Recovery rules (what a damaged file gives back):
 *   - a chunk whose signature is wrong is skipped whole (counted in bad_chunks);
 *   - a wrong header or data checksum is counted and reported, and the records are read anyway;
 *   - a record whose signature, size or trailing size copy is wrong is counted as bad, and the loop
 *     searches forward for the next valid record signature in the chunk;
 *   - a record whose BinXML cannot be decoded is counted as bad and skipped;
 *   - a free-space offset past the chunk is ignored (the loop runs to the end of the chunk). */
#include "evtx_int.h"

#include "../../core/alloc.h"
#include "../../core/crc32.h"
#include "../../core/intern.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- headers ---- */

int kz_evtx_parse_header(const uint8_t *p, size_t n, struct kz_evtx_header *h) {
    memset(h, 0, sizeof *h);
    if (n < 128 || memcmp(p, "ElfFile\0", 8)) return KZ_EFORMAT;
    h->first_chunk = rd64(p + 8);
    h->last_chunk = rd64(p + 16);
    h->next_record_id = rd64(p + 24);
    h->header_size = rd32(p + 32);
    h->minor = rd16(p + 36);
    h->major = rd16(p + 38);
    h->block_size = rd16(p + 40);
    h->chunk_count = rd16(p + 42);
    h->flags = rd32(p + 120);
    h->checksum = rd32(p + 124);
    h->checksum_ok = kz_crc32(0, p, 120) == h->checksum;
    return 0;
}

int kz_evtx_parse_chunk_header(const uint8_t *c, size_t n, struct kz_evtx_chunk_header *h) {
    memset(h, 0, sizeof *h);
    if (n < 512 || memcmp(c, "ElfChnk\0", 8)) return KZ_EFORMAT;
    h->first_record_num = rd64(c + 8);
    h->last_record_num = rd64(c + 16);
    h->first_record_id = rd64(c + 24);
    h->last_record_id = rd64(c + 32);
    h->header_size = rd32(c + 40);
    h->last_record_offset = rd32(c + 44);
    h->free_space_offset = rd32(c + 48);
    h->data_checksum = rd32(c + 52);
    h->header_checksum = rd32(c + 124);
    uint32_t crc = kz_crc32(0, c, 120);
    crc = kz_crc32(crc, c + 128, 384);
    h->header_checksum_ok = crc == h->header_checksum;
    if (h->free_space_offset >= 512 && h->free_space_offset <= n)
        h->data_checksum_ok = kz_crc32(0, c + 512, h->free_space_offset - 512) == h->data_checksum;
    return 0;
}

/* ---- decoder ---- */

#define CACHE_SLOTS 16384

struct kz_evtx_decoder *kz_evtx_decoder_new(void) {
    struct kz_evtx_decoder *d = kz_calloc(1, sizeof *d);
    if (!d) return NULL;
    kz_arena_init(&d->arena, 256 * 1024, EVTX_CHUNK_ARENA_CAP);
    d->cache = kz_calloc(CACHE_SLOTS, sizeof *d->cache);
    d->cache_mask = CACHE_SLOTS - 1;
    d->cache_slots_used = kz_malloc(CACHE_SLOTS / 2 * sizeof *d->cache_slots_used);
    d->ops_scratch = kz_malloc(EVTX_MAX_OPS * sizeof *d->ops_scratch);
    d->pair_keys = kz_calloc(4096, sizeof *d->pair_keys);
    d->pair_ids = kz_calloc(4096, sizeof *d->pair_ids);
    kz_buf_init(&d->text, EVTX_SCRATCH_CAP);
    kz_buf_init(&d->scratch, EVTX_SCRATCH_CAP);
    /* KZ_EVTX_NO_PLAN=1 makes every record take the walk: the tests compare both ways. */
    const char *no_plan = getenv("KZ_EVTX_NO_PLAN");
    d->no_plan = no_plan && *no_plan && *no_plan != '0';
    d->id_systemtime = kz_intern("SystemTime", 10);
    d->id_xmlns = kz_intern("xmlns", 5);
    if (!d->cache || !d->cache_slots_used || !d->ops_scratch || !d->pair_keys || !d->pair_ids ||
        !d->id_systemtime || !d->id_xmlns) {
        kz_evtx_decoder_free(d);
        return NULL;
    }
    return d;
}

void *kz_evtx_decoder_user(const struct kz_evtx_decoder *d) {
    return d->user;
}

void kz_evtx_decoder_set_user(struct kz_evtx_decoder *d, void *user) {
    d->user = user;
}

void kz_evtx_decoder_free(struct kz_evtx_decoder *d) {
    if (!d) return;
    kz_arena_free(&d->arena);
    kz_free(d->cache);
    kz_free(d->cache_slots_used);
    kz_free(d->ops_scratch);
    kz_free(d->pair_keys);
    kz_free(d->pair_ids);
    kz_free(d->fields);
    kz_buf_free(&d->text);
    kz_buf_free(&d->scratch);
    kz_free(d);
}

static void begin_chunk(struct kz_evtx_decoder *d, const uint8_t *chunk, size_t n) {
    kz_arena_reset(&d->arena);
    for (uint32_t i = 0; i < d->cache_used; i++)
        d->cache[d->cache_slots_used[i]].key = 0;
    d->cache_used = 0;
    d->chunk = chunk;
    d->chunk_len = (uint32_t)n;
    d->chunk_budget = EVTX_CHUNK_BUDGET;
}

/* ---- records ---- */

#define RECORD_HEADER 24 /* signature (4), size (4), record id (8), written time (8) */
#define RECORD_MIN (RECORD_HEADER + 4)

/* Is there a plausible record at off? Returns its size, or 0. */
static uint32_t record_at(const uint8_t *c, uint32_t n, uint32_t off) {
    if ((uint64_t)off + RECORD_MIN > n || memcmp(c + off, "**\0\0", 4)) return 0;
    uint32_t size = rd32(c + off + 4);
    if (size < RECORD_MIN || (uint64_t)off + size > n) return 0;
    if (rd32(c + off + size - 4) != size) return 0;
    return size;
}

/* Next offset >= from where a plausible record starts, or n. */
static uint32_t resync(const uint8_t *c, uint32_t n, uint32_t from) {
    for (uint32_t off = from; off + RECORD_MIN <= n; off++) {
        const uint8_t *hit = memchr(c + off, '*', n - off);
        if (!hit) break;
        off = (uint32_t)(hit - c);
        if (record_at(c, n, off)) return off;
    }
    return n;
}

static int decode_record(struct kz_evtx_decoder *d, uint32_t off, uint32_t size,
                         struct kz_evtx_record *rec) {
    const uint8_t *c = d->chunk;
    kz_event_reset(&d->event);
    d->event.format = KZ_FMT_EVTX;
    d->err.code = 0;
    d->budget = d->chunk_budget < EVTX_RECORD_BUDGET ? d->chunk_budget : EVTX_RECORD_BUDGET;
    long budget_start = d->budget;
    d->doc_elements = 0;
    d->nest = 0;
    d->ops_top = 0;
    rec->record_id = rd64(c + off + 8);
    rec->written = kz_time_from_filetime(rd64(c + off + 16));
    rec->chunk = c;
    rec->binxml_offset = off + RECORD_HEADER;
    rec->binxml_end = off + size - 4;
    d->event.record_id = rec->record_id;
    d->event.ts = rec->written;
    int rc = evtx_extract_fields(d, rec->binxml_offset, rec->binxml_end);
    d->chunk_budget -= budget_start - (d->budget > 0 ? d->budget : 0);
    if (rc) return rc;
    /* A document without a single element (seen only in free space, where stale offsets point at
     * overwritten data) is not an event. */
    if (d->doc_elements == 0) return kz_err_set(&d->err, KZ_ECORRUPT, "record has no element");
    kz_event_normalise(&d->event);
    rec->event = &d->event;
    return 0;
}

/* Does the document's EventRecordID equal the record header's id? */
static int record_id_matches(const struct kz_evtx_record *rec) {
    const struct kz_field *f = kz_event_field(rec->event, KZ_F_EventRecordID);
    if (!f || f->section != KZ_SEC_SYSTEM) return 0;
    uint64_t id = 0;
    for (uint32_t i = 0; i < f->len; i++) {
        if (f->val[i] < '0' || f->val[i] > '9' || id > UINT64_MAX / 10) return 0;
        id = id * 10 + (uint64_t)(f->val[i] - '0');
    }
    return f->len > 0 && id == rec->record_id;
}

static void report(kz_evtx_problem_fn problem, void *ctx, uint32_t off, uint64_t id,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(kz_evtx_problem_fn problem, void *ctx, uint32_t off, uint64_t id,
                   const char *fmt, ...) {
    if (!problem) return;
    char msg[KZ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    problem(ctx, off, id, msg);
}

int kz_evtx_decode_chunk(struct kz_evtx_decoder *d, const uint8_t *c, size_t n, unsigned flags,
                         int slack_chunk, kz_evtx_record_fn fn, kz_evtx_problem_fn problem,
                         void *ctx, struct kz_evtx_stats *st) {
    struct kz_evtx_chunk_header h;
    if (n > KZ_EVTX_CHUNK_SIZE) n = KZ_EVTX_CHUNK_SIZE;
    if (kz_evtx_parse_chunk_header(c, n, &h)) {
        /* A chunk of zeroes is one Windows allocated and never used: not damage. */
        int blank = n >= 512;
        for (size_t i = 0; i < 512 && blank; i++)
            blank = c[i] == 0;
        if (!slack_chunk && !blank) {
            st->bad_chunks++;
            report(problem, ctx, 0, 0,
                   n < 512 ? "truncated chunk (%zu bytes)" : "bad chunk signature", n);
        }
        return KZ_EFORMAT;
    }
    st->chunks++;
    if (!h.header_checksum_ok && !slack_chunk) {
        st->checksum_errors++;
        report(problem, ctx, 0, 0, "chunk header checksum mismatch (records read anyway)");
    }
    uint32_t end = (uint32_t)n;
    if (h.free_space_offset >= 512 && h.free_space_offset <= n) {
        end = h.free_space_offset;
        if (!h.data_checksum_ok && !slack_chunk) {
            st->checksum_errors++;
            report(problem, ctx, 0, 0, "chunk data checksum mismatch (records read anyway)");
        }
    }
    begin_chunk(d, c, n);
    struct kz_evtx_record rec;
    uint32_t off = 512;
    /* Records in use: from 512 up to the free-space offset. */
    while (off + RECORD_HEADER <= end) {
        /* In use means inside [512, free space): a record reaching past it is stale. */
        uint32_t size = record_at(c, end, off);
        int copy_bad = 0;
        if (!size && !slack_chunk && !memcmp(c + off, "**\0\0", 4)) {
            /* Signature and size fine but the size copy at the end is not: Windows writes the copy
             * last, so a record being written when the log was copied lacks it. Keep the record if
             * its BinXML decodes (as evtx-rs does); the template checks guard against garbage. */
            uint32_t rsize = rd32(c + off + 4);
            if (rsize >= RECORD_MIN && rsize <= end - off) size = rsize, copy_bad = 1;
        }
        if (!size) {
            if (slack_chunk) break;
            uint32_t next = resync(c, end, off + 1);
            /* Zeroes after the last record are padding, not damage. */
            int zero = 1;
            for (uint32_t i = off; i < off + 8 && i < end; i++)
                zero &= c[i] == 0;
            if (!(zero && next == end)) {
                st->bad_records++;
                uint32_t rsize = rd32(c + off + 4);
                if (!memcmp(c + off, "**\0\0", 4))
                    report(problem, ctx, off, rd64(c + off + 8), "bad record size %u", rsize);
                else
                    report(problem, ctx, off, 0, "bad record signature");
            }
            off = next;
            continue;
        }
        rec.slack = slack_chunk;
        int rc = decode_record(d, off, size, &rec);
        if (rc == KZ_ENOMEM) return rc;
        if (!rc && copy_bad && !record_id_matches(&rec)) {
            /* Written only in part: the values are still zeroes. Not an event. */
            rc = kz_err_set(&d->err, KZ_ECORRUPT,
                            "incomplete record (its EventRecordID is not %llu)",
                            (unsigned long long)rec.record_id);
        }
        if (rc) {
            if (!slack_chunk) {
                st->bad_records++;
                report(problem, ctx, off, rec.record_id, "%s%s",
                       copy_bad ? "record size copy missing, and: " : "", d->err.msg);
            }
            if (copy_bad) {
                off = resync(c, end, off + 1);
                continue;
            }
        } else {
            if (copy_bad)
                report(problem, ctx, off, rec.record_id,
                       "record size copy missing (record decoded and kept)");
            st->records++;
            if (slack_chunk) st->slack_records++;
            fn(ctx, d, &rec);
        }
        off += size;
    }
    /* Free space: overwritten or deleted records may still be whole there. */
    if (flags & KZ_EVTX_SLACK) {
        off = end > off ? end : off;
        while ((off = resync(c, (uint32_t)n, off)) < n) {
            uint32_t size = record_at(c, (uint32_t)n, off);
            rec.slack = 1;
            int rc = decode_record(d, off, size, &rec);
            if (rc == KZ_ENOMEM) return rc;
            if (!rc) {
                st->records++;
                st->slack_records++;
                fn(ctx, d, &rec);
                off += size;
            } else {
                off++;
            }
        }
    }
    return 0;
}

int kz_evtx_render_xml(struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                       struct kz_buf *out) {
    if (rec->chunk != d->chunk) return KZ_EUSAGE; /* only valid for the chunk being decoded */
    return evtx_render_xml_range(d, rec->binxml_offset, rec->binxml_end, out);
}
