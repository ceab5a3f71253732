/* test_corpus.c - replays the fuzz corpus (tests/corpus/evtx/) through the chunk decoder.
 *
 * Every file there is an input a fuzzer once made misbehave (tests/fuzz/README.md says how they get
 * there). Each is decoded the way tests/fuzz/fuzz_evtx_chunk.c decodes it: copied to the start of a
 * 64 KiB buffer, decoded with its real length three ways (in-use records, with KZ_EVTX_SLACK, as a
 * slack chunk), every record rendered as XML and as JSON. The test passes when nothing crashes (run
 * it under KZ_SANITIZE=ON to catch memory errors) and the counters stay within what a chunk can
 * hold. An empty corpus still passes, but synthetic chunks built here are always replayed. */
#include "unit.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "input/evtx/evtx.h"
#include "output/event_json.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Seconds one corpus file may take to replay (all three ways, both renderers) under the sanitizers.
 * A real chunk takes milliseconds; an input that takes longer is a denial of service. */
#define REPLAY_MAX_SECS 10.0

static double now_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct replay {
    struct kz_evtx_decoder *dec;
    struct kz_buf xml, json;
    const uint8_t *chunk;
    size_t len;
    unsigned long rendered, problems;
    int bad_record; /* a record broke the decoder's promises (see on_record) */
};

static void on_record(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct replay *r = ctx;
    if (!rec->event || rec->chunk != r->chunk || rec->binxml_offset > rec->binxml_end ||
        rec->binxml_end > r->len)
        r->bad_record = 1;
    kz_buf_clear(&r->xml);
    (void)kz_evtx_render_xml(d, rec, &r->xml);
    kz_buf_clear(&r->json);
    kz_event_json(&r->json, rec->event, "corpus.evtx");
    r->rendered++;
}

static void on_problem(void *ctx, uint32_t offset, uint64_t record_id, const char *msg) {
    struct replay *r = ctx;
    if (msg && msg[0]) r->problems++;
}

/* Decodes chunk (n bytes) the three ways; checks the counters. Returns the stats of the first way.
 */
static struct kz_evtx_stats replay_chunk(struct replay *r, const uint8_t *chunk, size_t n,
                                         const char *what) {
    static const struct {
        unsigned flags;
        int slack_chunk;
    } ways[] = {{0, 0}, {KZ_EVTX_SLACK, 0}, {KZ_EVTX_SLACK, 1}};
    struct kz_evtx_stats first = {0};
    r->chunk = chunk;
    r->len = n < KZ_EVTX_CHUNK_SIZE ? n : KZ_EVTX_CHUNK_SIZE;
    for (size_t i = 0; i < sizeof ways / sizeof *ways; i++) {
        struct kz_evtx_stats st = {0};
        r->bad_record = 0;
        int rc = kz_evtx_decode_chunk(r->dec, chunk, n, ways[i].flags, ways[i].slack_chunk,
                                      on_record, on_problem, r, &st);
        uint64_t most = r->len / 28 + 1; /* a record is at least 28 bytes */
        /* KZ_ENOMEM: the chunk expanded beyond the decoder's arena cap (a documented outcome). */
        CHECK_MSG(rc == 0 || rc == KZ_EFORMAT || rc == KZ_ENOMEM, "%s (way %zu): status %d", what,
                  i, rc);
        CHECK_MSG(!r->bad_record, "%s (way %zu): a record pointed outside the chunk", what, i);
        CHECK_MSG(st.records <= most && st.bad_records <= 2 * most &&
                      st.slack_records <= st.records,
                  "%s (way %zu): %llu records, %llu bad, %llu slack in %zu bytes", what, i,
                  (unsigned long long)st.records, (unsigned long long)st.bad_records,
                  (unsigned long long)st.slack_records, r->len);
        CHECK_MSG(st.chunks + st.bad_chunks <= 1, "%s (way %zu): %llu chunks, %llu bad", what, i,
                  (unsigned long long)st.chunks, (unsigned long long)st.bad_chunks);
        CHECK_MSG(rc != KZ_EFORMAT || (st.chunks == 0 && st.records == 0),
                  "%s (way %zu): skipped chunk still counted", what, i);
        if (i == 0) first = st;
    }
    return first;
}

static int replay_init(struct replay *r) {
    memset(r, 0, sizeof *r);
    r->dec = kz_evtx_decoder_new();
    kz_buf_init(&r->xml, 64u << 20);
    kz_buf_init(&r->json, 64u << 20);
    return r->dec ? 0 : KZ_ENOMEM;
}

static void replay_free(struct replay *r) {
    kz_evtx_decoder_free(r->dec);
    kz_buf_free(&r->xml);
    kz_buf_free(&r->json);
}

static const char *corpus_dir(void) {
    static const char *const cands[] = {"tests/corpus/evtx", "../tests/corpus/evtx",
                                        "../../tests/corpus/evtx"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        struct stat sb;
        if (!stat(cands[i], &sb) && S_ISDIR(sb.st_mode)) return cands[i];
    }
    return NULL;
}

KZ_TEST(corpus_evtx_replay) {
    struct replay r;
    REQUIRE(replay_init(&r) == 0);
    uint8_t *chunk = kz_malloc(KZ_EVTX_CHUNK_SIZE);
    REQUIRE(chunk);
    const char *dir = corpus_dir();
    int files = 0;
    DIR *dh = dir ? opendir(dir) : NULL;
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (de->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        unsigned char *data = kz_test_read_file(path, &len);
        CHECK_MSG(data, "%s: cannot read", path);
        if (!data) continue;
        /* As the fuzzer does: the input at the start of a 64 KiB buffer, decoded with its length.
         */
        size_t n = len < KZ_EVTX_CHUNK_SIZE ? len : KZ_EVTX_CHUNK_SIZE;
        memset(chunk, 0xA5, KZ_EVTX_CHUNK_SIZE);
        memcpy(chunk, data, n);
        double t0 = now_secs();
        replay_chunk(&r, chunk, n, path);
        if (len > KZ_EVTX_CHUNK_SIZE) replay_chunk(&r, data, len, path);
        double secs = now_secs() - t0;
        CHECK_MSG(secs < REPLAY_MAX_SECS, "%s: replay took %.1f s (limit %.0f s)", path, secs,
                  REPLAY_MAX_SECS);
        kz_free(data);
        files++;
    }
    if (dh) closedir(dh);
    if (!files)
        printf("note: corpus_evtx_replay: no files in tests/corpus/evtx (only synthetic input)\n");
    kz_free(chunk);
    replay_free(&r);
}

/* ---- synthetic chunks: always replayed, whatever the corpus holds ---- */

/* Writes a chunk header at c for a chunk whose records end at free_space, with valid checksums. */
static void make_header(uint8_t *c, uint32_t free_space) {
    memcpy(c, "ElfChnk\0", 8);
    uint64_t one = 1;
    memcpy(c + 8, &one, 8);  /* first record number */
    memcpy(c + 16, &one, 8); /* last record number */
    memcpy(c + 24, &one, 8); /* first record id */
    memcpy(c + 32, &one, 8); /* last record id */
    uint32_t header_size = 128, last_record = 512;
    memcpy(c + 40, &header_size, 4);
    memcpy(c + 44, &last_record, 4);
    memcpy(c + 48, &free_space, 4);
    uint32_t data_crc = kz_crc32(0, c + 512, free_space - 512);
    memcpy(c + 52, &data_crc, 4);
    uint32_t header_crc = kz_crc32(kz_crc32(0, c, 120), c + 128, 384);
    memcpy(c + 124, &header_crc, 4);
}

KZ_TEST(corpus_evtx_synthetic) {
    struct replay r;
    REQUIRE(replay_init(&r) == 0);
    uint8_t *c = kz_malloc(KZ_EVTX_CHUNK_SIZE);
    REQUIRE(c);
    struct kz_evtx_stats st;

    /* All 0xFF behind a valid signature: the free-space offset is out of range (ignored), no record
     * signature anywhere. One chunk, no records, one bad stretch, a header checksum error. */
    memset(c, 0xFF, KZ_EVTX_CHUNK_SIZE);
    memcpy(c, "ElfChnk\0", 8);
    st = replay_chunk(&r, c, KZ_EVTX_CHUNK_SIZE, "all-0xFF chunk");
    CHECK_INT(st.chunks, 1);
    CHECK_INT(st.bad_chunks, 0);
    CHECK_INT(st.records, 0);
    CHECK_INT(st.bad_records, 1);
    CHECK_INT(st.checksum_errors, 1);

    /* The same, cut short (the last chunk of a truncated file). */
    st = replay_chunk(&r, c, 4000, "truncated all-0xFF chunk");
    CHECK_INT(st.chunks, 1);
    CHECK_INT(st.records, 0);
    CHECK(st.bad_records <= 1);

    /* Shorter than a chunk header: skipped whole. */
    st = replay_chunk(&r, c, 300, "300-byte chunk");
    CHECK_INT(st.chunks, 0);
    CHECK_INT(st.bad_chunks, 1);

    /* No signature: skipped whole. */
    memset(c, 0xFF, KZ_EVTX_CHUNK_SIZE);
    st = replay_chunk(&r, c, KZ_EVTX_CHUNK_SIZE, "unsigned chunk");
    CHECK_INT(st.chunks, 0);
    CHECK_INT(st.bad_chunks, 1);
    CHECK_INT(st.records, 0);

    /* Valid header and checksums, one record at 512 whose BinXML is a bare end-of-stream token,
     * then a record signature with an impossible size in the free space. The record is either
     * decoded or counted bad, never both; the checksums match; the slack pass must not trip over
     * the fake. */
    memset(c, 0, KZ_EVTX_CHUNK_SIZE);
    uint8_t *rec = c + 512;
    uint32_t size = 32;
    uint64_t id = 1;
    memcpy(rec, "**\0\0", 4);
    memcpy(rec + 4, &size, 4);
    memcpy(rec + 8, &id, 8);
    rec[24] = 0x00; /* BinXML: end of stream */
    memcpy(rec + size - 4, &size, 4);
    uint8_t *fake = c + 512 + size + 64;
    uint32_t huge = 0xFFFFFFF0u;
    memcpy(fake, "**\0\0", 4);
    memcpy(fake + 4, &huge, 4);
    make_header(c, 512 + size);
    st = replay_chunk(&r, c, KZ_EVTX_CHUNK_SIZE, "one-record chunk");
    CHECK_INT(st.chunks, 1);
    CHECK_INT(st.bad_chunks, 0);
    CHECK_INT(st.checksum_errors, 0);
    CHECK_INT(st.records + st.bad_records, 1);

    kz_free(c);
    replay_free(&r);
}

/* ---- corpus files with a known right answer ---- */

static void on_record_xml(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct kz_buf *out = ctx;
    kz_buf_clear(out);
    if (kz_evtx_render_xml(d, rec, out)) kz_buf_puts(out, "(render failed)");
}

/* A template instance inside a template definition: compiling the inner template must not overwrite
 * the ops the outer one has collected so far (fixed in 3a8a606). */
KZ_TEST(corpus_evtx_nested_template) {
    const char *dir = corpus_dir();
    if (!dir) {
        kz_test_skip("tests/corpus/evtx not found");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/nested-template-clobbers-compile-scratch.bin", dir);
    size_t len = 0;
    unsigned char *data = kz_test_read_file(path, &len);
    REQUIRE(data);
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    struct kz_buf xml;
    kz_buf_init(&xml, 1 << 20);
    struct kz_evtx_stats st = {0};
    CHECK_INT(kz_evtx_decode_chunk(d, data, len, 0, 0, on_record_xml, NULL, &xml, &st), 0);
    CHECK_INT(st.records, 1);
    CHECK_INT(st.bad_records, 0);
    CHECK_STR(xml.len ? xml.data : "", "<Event><Outer><Inner/></Outer></Event>");
    kz_buf_free(&xml);
    kz_evtx_decoder_free(d);
    kz_free(data);
}
