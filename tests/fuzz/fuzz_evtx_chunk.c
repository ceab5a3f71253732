/* fuzz_evtx_chunk.c - libFuzzer target: the input is one EVTX chunk.
 *
 * Why: the chunk decoder (record loop, BinXML compiler, template cache, value renderers) is the
 * part of kizuki that reads the most hostile bytes. This target drives it the way the file reader
 * does: the chunk sits at the start of a 64 KiB buffer, one decoder is created once and reused for
 * every input, and every decoded record is rendered both as XML and as a JSON line.
 *
 * Input handling:
 *   - shorter than 64 KiB: decoded with its real length (a truncated last chunk). The bytes of the
 *     buffer past the length are poisoned for AddressSanitizer, so a read past `n` is reported even
 *     though the buffer is 64 KiB (in production such a read returns a stale earlier chunk);
 *   - 64 KiB or longer: the first 64 KiB are decoded from the buffer, and the whole input is also
 *     passed as it is, to check the decoder clamps n to the chunk size.
 * Each buffer is decoded three ways, the combinations the reader uses: in-use records only; with
 * KZ_EVTX_SLACK (free space too); and as a slack chunk (one beyond the header's count, with
 * --slack).
 *
 * Build and run: see tests/fuzz/README.md. */
#include "core/buf.h"
#include "input/evtx/evtx.h"
#include "output/event_json.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n) __asan_poison_memory_region((p), (n))
#define FUZZ_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#endif
#endif
#ifndef FUZZ_POISON
#define FUZZ_POISON(p, n) ((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Output caps: large enough for any record a 64 KiB chunk can expand to within the decoder's
 * limits, small enough that a runaway renderer fails with KZ_ELIMIT instead of exhausting memory.
 */
#define FUZZ_OUT_CAP (64u << 20)

struct fuzz_state {
    struct kz_evtx_decoder
        *dec;       /* created once, reused: production decodes many chunks per decoder */
    uint8_t *chunk; /* KZ_EVTX_CHUNK_SIZE bytes, like a reader slot */
    struct kz_buf xml, json;
    const uint8_t *cur; /* the buffer being decoded, for the record invariants */
    size_t cur_len;
    unsigned long problems;
};

static struct fuzz_state fz;

/* The intern table keeps the arrays it outgrows, on purpose (lock-free readers may still hold them;
 * see src/core/intern.c), and LeakSanitizer would report each one. Nothing else is suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:src/core/intern.c\n";
}

static void fuzz_init(void) {
    if (fz.dec) return;
    fz.dec = kz_evtx_decoder_new();
    fz.chunk = malloc(KZ_EVTX_CHUNK_SIZE);
    if (!fz.dec || !fz.chunk) abort();
    kz_buf_init(&fz.xml, FUZZ_OUT_CAP);
    kz_buf_init(&fz.json, FUZZ_OUT_CAP);
}

static void on_record(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct fuzz_state *s = ctx;
    /* What the decoder promises about every record it hands out. */
    if (!rec->event || rec->chunk != s->cur) abort();
    if (rec->binxml_offset < 512 || rec->binxml_offset > rec->binxml_end ||
        rec->binxml_end > s->cur_len)
        abort();

    kz_buf_clear(&s->xml);
    int rc = kz_evtx_render_xml(d, rec, &s->xml);
    kz_buf_clear(&s->json);
    kz_event_json(&s->json, rec->event, "fuzz.evtx");
    /* A finished document is NUL-terminated: callers print it with fputs. (kz_buf_clear does not
     * write a NUL, so an empty or failed result is not checked.) */
    if (!rc && !s->xml.failed && s->xml.len && s->xml.data[s->xml.len]) abort();
    if (!s->json.failed && s->json.len && s->json.data[s->json.len]) abort();
}

static void on_problem(void *ctx, uint32_t offset, uint64_t record_id, const char *msg) {
    struct fuzz_state *s = ctx;
    s->problems += strlen(msg) + (offset & 1) + (record_id & 1);
}

static void decode_all_ways(const uint8_t *chunk, size_t n) {
    static const struct {
        unsigned flags;
        int slack_chunk;
    } ways[] = {{0, 0}, {KZ_EVTX_SLACK, 0}, {KZ_EVTX_SLACK, 1}};
    fz.cur = chunk;
    fz.cur_len = n < KZ_EVTX_CHUNK_SIZE ? n : KZ_EVTX_CHUNK_SIZE;
    for (size_t i = 0; i < sizeof ways / sizeof *ways; i++) {
        struct kz_evtx_stats st = {0};
        int rc = kz_evtx_decode_chunk(fz.dec, chunk, n, ways[i].flags, ways[i].slack_chunk,
                                      on_record, on_problem, &fz, &st);
        (void)rc;
        /* Counters stay within what the chunk can hold: a record takes at least 28 bytes, and the
         * in-use and free-space passes never both count the same bytes. A bad record is either one
         * that was found (28 bytes or more) or the damaged stretch before the next one. */
        uint64_t most = fz.cur_len / 28 + 1;
        if (st.records > most || st.bad_records > 2 * most || st.slack_records > st.records ||
            st.chunks > 1 || st.bad_chunks > 1 || st.chunks + st.bad_chunks > 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    size_t n = size < KZ_EVTX_CHUNK_SIZE ? size : KZ_EVTX_CHUNK_SIZE;
    FUZZ_UNPOISON(fz.chunk, KZ_EVTX_CHUNK_SIZE);
    memcpy(fz.chunk, data, n);
    /* Garbage, not zeroes, past the end: a decoder that reads past n must not see a tidy chunk. */
    memset(fz.chunk + n, 0xA5, KZ_EVTX_CHUNK_SIZE - n);
    FUZZ_POISON(fz.chunk + n, KZ_EVTX_CHUNK_SIZE - n);
    decode_all_ways(fz.chunk, n);
    FUZZ_UNPOISON(fz.chunk, KZ_EVTX_CHUNK_SIZE);
    if (size > KZ_EVTX_CHUNK_SIZE) decode_all_ways(data, size);
    return 0;
}
