/* evtx_reader.c - parallel, ordered reading of EVTX files; see evtx_reader.h.
 *
 * The calling thread reads chunks with pread into slots and submits each to the pool; slot i of a
 * window of W is reused for chunk i+W only after its output has been written, which is what keeps
 * the output in order and memory bounded. */
#include "evtx_reader.h"

#include "../../core/alloc.h"
#include "../archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REPORTS_PER_FILE 20 /* further problems in a file are counted, not printed one by one  \
                                 */
/* Memory bound: window slots x (decoder arena and scratch + this output cap) stays under 256 MiB.
 */
#define SLOT_OUTPUT_CAP (32u << 20)

struct slot {
    struct kz_job job;
    int busy;
    struct kz_evtx_reader *r;
    struct kz_evtx_decoder *dec;
    uint8_t *chunk;  /* KZ_EVTX_CHUNK_SIZE bytes */
    size_t len;      /* bytes of chunk read */
    int slack_chunk; /* chunk beyond the header's count, read as slack */
    int beyond;      /* chunk beyond the header's count: an unused (blank) chunk is no error */
    uint32_t file_id;
    const char *path;       /* owned by the file entry */
    uint64_t file_off;      /* offset of the chunk in its file, for messages */
    struct kz_buf out;      /* what emit produced */
    struct kz_buf problems; /* one message per line */
    uint32_t nproblems;
    struct kz_evtx_stats st;
};

struct kz_evtx_reader {
    struct kz_pool *pool;
    struct kz_evtx_reader_opts o;
    struct slot *slots;
    int window;
    uint64_t next_seq;    /* sequence number of the next chunk to submit */
    uint64_t flushed_seq; /* all chunks before this have been written */
    struct kz_evtx_stats st;
    uint64_t bytes;
    char *cur_path;        /* the file whose chunks are being queued */
    uint32_t file_reports; /* problems printed for the current file */
    char **paths;          /* paths still referenced by slots, freed on flush */
    size_t npaths, paths_cap;
};

int kz_evtx_sniff(const uint8_t *p, size_t n) {
    return n >= 8 && !memcmp(p, "ElfFile\0", 8);
}

static void add_stats(struct kz_evtx_stats *to, const struct kz_evtx_stats *from) {
    to->records += from->records;
    to->bad_records += from->bad_records;
    to->slack_records += from->slack_records;
    to->chunks += from->chunks;
    to->bad_chunks += from->bad_chunks;
    to->checksum_errors += from->checksum_errors;
}

static void on_problem(void *ctx, uint32_t off, uint64_t record_id, const char *msg);

static void on_record(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct slot *s = ctx;
    size_t mark = s->out.len;
    s->r->o.emit(s->r->o.ctx, d, rec, s->file_id, &s->out);
    if (s->out.failed) {
        /* Drop this record's partial output, so that what is written stays well-formed. */
        s->out.len = mark;
        s->out.failed = 0;
        if (s->out.data) s->out.data[mark] = 0;
        s->st.records--;
        if (rec->slack) s->st.slack_records--;
        s->st.bad_records++;
        on_problem(ctx, (uint32_t)(rec->binxml_offset - 24), rec->record_id,
                   "output for this chunk exceeds its limit; record skipped");
    }
}

static void on_problem(void *ctx, uint32_t off, uint64_t record_id, const char *msg) {
    struct slot *s = ctx;
    s->nproblems++;
    if (s->nproblems > MAX_REPORTS_PER_FILE) return;
    kz_buf_printf(&s->problems, "chunk at 0x%llx", (unsigned long long)s->file_off);
    if (off) kz_buf_printf(&s->problems, ", record at +0x%x", off);
    if (record_id) kz_buf_printf(&s->problems, " (id %llu)", (unsigned long long)record_id);
    kz_buf_printf(&s->problems, ": %s\n", msg);
}

static void run_slot(void *arg) {
    struct slot *s = arg;
    if (s->beyond && (s->len < 8 || memcmp(s->chunk, "ElfChnk\0", 8))) return;
    int rc = kz_evtx_decode_chunk(s->dec, s->chunk, s->len, s->r->o.flags, s->slack_chunk,
                                  on_record, on_problem, s, &s->st);
    if (rc == KZ_ENOMEM) {
        s->st.bad_chunks++;
        on_problem(s, 0, 0, "out of memory: the rest of this chunk was not decoded");
    }
}

struct kz_evtx_reader *kz_evtx_reader_new(struct kz_pool *pool,
                                          const struct kz_evtx_reader_opts *o) {
    struct kz_evtx_reader *r = kz_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->pool = pool;
    r->o = *o;
    if (r->o.slack) r->o.flags |= KZ_EVTX_SLACK;
    r->window = o->window > 0 ? o->window : 2 * kz_pool_threads(pool);
    r->slots = kz_calloc((size_t)r->window, sizeof *r->slots);
    if (!r->slots) goto fail;
    for (int i = 0; i < r->window; i++) {
        struct slot *s = &r->slots[i];
        s->r = r;
        s->dec = kz_evtx_decoder_new();
        s->chunk = kz_malloc(KZ_EVTX_CHUNK_SIZE);
        kz_buf_init(&s->out, SLOT_OUTPUT_CAP);
        kz_buf_init(&s->problems, 64 * 1024);
        if (!s->dec || !s->chunk) goto fail;
    }
    return r;
fail:
    kz_evtx_reader_free(r);
    return NULL;
}

/* Waits for the slot's chunk and writes its output and problems. */
static void drain(struct kz_evtx_reader *r, struct slot *s) {
    if (!s->busy) return;
    kz_job_wait(&s->job);
    s->busy = 0;
    if (r->o.write && s->out.len) r->o.write(r->o.ctx, s->out.data, s->out.len);
    if (r->o.report && s->problems.len) {
        char *line = s->problems.data;
        while (*line) {
            char *nl = strchr(line, '\n');
            *nl = 0;
            if (r->file_reports++ < MAX_REPORTS_PER_FILE) r->o.report(r->o.ctx, s->path, line);
            line = nl + 1;
        }
    }
    add_stats(&r->st, &s->st);
    kz_buf_clear(&s->out);
    kz_buf_clear(&s->problems);
    r->flushed_seq++;
}

static int submit(struct kz_evtx_reader *r, int fd, uint64_t off, size_t want, int beyond,
                  int slack_chunk, uint32_t file_id, const char *path) {
    struct slot *s = &r->slots[r->next_seq % (uint64_t)r->window];
    drain(r, s);
    ssize_t got = pread(fd, s->chunk, want, (off_t)off);
    if (got <= 0) return got < 0 ? KZ_EIO : 0;
    r->bytes += (uint64_t)got;
    s->len = (size_t)got;
    s->slack_chunk = slack_chunk;
    s->beyond = beyond;
    s->file_id = file_id;
    s->path = path;
    s->file_off = off;
    s->nproblems = 0;
    memset(&s->st, 0, sizeof s->st);
    s->busy = 1;
    r->next_seq++;
    kz_pool_submit(r->pool, &s->job, run_slot, s);
    return 0;
}

void kz_evtx_reader_flush(struct kz_evtx_reader *r) {
    for (uint64_t seq = r->flushed_seq; seq < r->next_seq; seq++)
        drain(r, &r->slots[seq % (uint64_t)r->window]);
    for (size_t i = 0; i < r->npaths; i++)
        kz_free(r->paths[i]);
    r->npaths = 0;
}

int kz_evtx_reader_add_file(struct kz_evtx_reader *r, const char *path, uint32_t file_id,
                            struct kz_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOTDIR) { /* ARCHIVE.zip/MEMBER: chunks need random access */
        const char *why;
        fd = kz_zip_extract(path, KZ_ZIP_MAX_EXTRACT, &why);
        if (fd < 0) return kz_err_set(err, KZ_EIO, "%s: %s", path, why);
    } else if (fd < 0) {
        return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    } else { /* Security.evtx.gz / .zst: chunks need random access, so decompressed to a file */
        const char *why;
        int plain = kz_archive_decompress_fd(fd, KZ_ZIP_MAX_EXTRACT, &why);
        if (plain != fd) close(fd);
        if (plain < 0) return kz_err_set(err, KZ_EIO, "%s: %s", path, why);
        fd = plain;
    }
    struct stat sb;
    uint8_t head[KZ_EVTX_FILE_HEADER_SIZE];
    ssize_t got;
    if (fstat(fd, &sb) || (got = pread(fd, head, sizeof head, 0)) < 0) {
        int e = errno;
        close(fd);
        return kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(e));
    }
    struct kz_evtx_header h;
    if (kz_evtx_parse_header(head, (size_t)got, &h)) {
        close(fd);
        if (kz_evtx_sniff(head, (size_t)got))
            return kz_err_set(err, KZ_ECORRUPT,
                              "%s: truncated EVTX file (%zd bytes, no complete header)", path, got);
        return kz_err_set(err, KZ_EFORMAT, "%s: not an EVTX file (no ElfFile signature)", path);
    }
    /* Paths are referenced by slots until their chunks are drained. */
    if (r->npaths == r->paths_cap) {
        size_t cap = r->paths_cap ? r->paths_cap * 2 : 16;
        char **p = kz_realloc(r->paths, cap * sizeof *p);
        if (!p) {
            close(fd);
            return kz_err_set(err, KZ_ENOMEM, "out of memory");
        }
        r->paths = p;
        r->paths_cap = cap;
    }
    char *mypath = kz_strdup(path);
    if (!mypath) {
        close(fd);
        return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    r->paths[r->npaths++] = mypath;
    r->file_reports = 0;

    uint64_t size = (uint64_t)sb.st_size;
    uint64_t in_file =
        size > KZ_EVTX_FILE_HEADER_SIZE
            ? (size - KZ_EVTX_FILE_HEADER_SIZE + KZ_EVTX_CHUNK_SIZE - 1) / KZ_EVTX_CHUNK_SIZE
            : 0;
    if (!h.checksum_ok && r->o.report)
        r->o.report(r->o.ctx, mypath, "file header checksum mismatch");
    /* The header's chunk count is what Windows considers in use. A file that was not closed cleanly
     * (dirty) may hold more chunks than it counts; so may a header that is damaged. Chunks beyond
     * the count are read as in-use only when the header cannot be trusted, else only with --slack.
     */
    uint64_t counted = h.chunk_count;
    int header_trusted = h.checksum_ok && !(h.flags & 1) && counted <= in_file;
    int rc = 0;
    for (uint64_t i = 0; i < in_file && !rc; i++) {
        int beyond = i >= counted;
        if (beyond && header_trusted && !r->o.slack) break;
        rc = submit(r, fd, KZ_EVTX_FILE_HEADER_SIZE + i * KZ_EVTX_CHUNK_SIZE, KZ_EVTX_CHUNK_SIZE,
                    beyond, beyond && header_trusted, file_id, mypath);
    }
    /* Chunks are read before being queued, so the file can be closed now. */
    close(fd);
    if (rc) return kz_err_set(err, rc, "%s: %s", path, strerror(errno));
    return 0;
}

const struct kz_evtx_stats *kz_evtx_reader_stats(const struct kz_evtx_reader *r) {
    return &r->st;
}

uint64_t kz_evtx_reader_bytes(const struct kz_evtx_reader *r) {
    return r->bytes;
}

void kz_evtx_reader_free(struct kz_evtx_reader *r) {
    if (!r) return;
    if (r->slots) {
        kz_evtx_reader_flush(r);
        for (int i = 0; i < r->window; i++) {
            kz_evtx_decoder_free(r->slots[i].dec);
            kz_free(r->slots[i].chunk);
            kz_buf_free(&r->slots[i].out);
            kz_buf_free(&r->slots[i].problems);
        }
        kz_free(r->slots);
    }
    kz_free(r->paths);
    kz_free(r);
}
