/* sources.c - input discovery; see sources.h. */
#include "sources.h"

#include "../core/alloc.h"
#include "archive.h"
#include "evtx/evtx_reader.h"
#include "text_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Bytes read from the start of a file to tell its format (the first line of a text log). */
#define SNIFF_BYTES 4096
#define ZSTD_SNIFF_BYTES (256 * 1024) /* of a zstd file, when SNIFF_BYTES gave nothing */

uint8_t kz_sources_sniff(const uint8_t *p, size_t n) {
    if (kz_evtx_sniff(p, n)) return KZ_FMT_EVTX;
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) { /* gzip: sniff what it holds */
        static __thread uint8_t plain[SNIFF_BYTES];
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return KZ_FMT_UNKNOWN;
        z.next_in = (Bytef *)p;
        z.avail_in = (uInt)n;
        z.next_out = plain;
        z.avail_out = sizeof plain;
        inflate(&z, Z_SYNC_FLUSH);
        size_t got = sizeof plain - z.avail_out;
        inflateEnd(&z);
        /* EVTX.gz: the EVTX reader decompresses it to a temporary file */
        if (kz_evtx_sniff(plain, got)) return KZ_FMT_EVTX;
        return kz_text_sniff((const char *)plain, got);
    }
    if (kz_archive_is_zstd(p, n)) { /* zstd: sniff what it holds */
        static __thread uint8_t plain[SNIFF_BYTES];
        size_t got = kz_zstd_head(p, n, plain, sizeof plain);
        if (kz_evtx_sniff(plain, got)) return KZ_FMT_EVTX; /* as for gzip */
        return kz_text_sniff((const char *)plain, got);
    }
    return kz_text_sniff((const char *)p, n);
}

const char *kz_sources_format_name(uint8_t format) {
    return kz_event_format_name(format);
}

static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...) {
    if (!report) return;
    char msg[KZ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(ctx, msg);
}

static int push(struct kz_sources *s, const char *path, uint64_t size, uint8_t format) {
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        struct kz_source *v = kz_realloc(s->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *copy = kz_strdup(path);
    if (!copy) return KZ_ENOMEM;
    s->v[s->n++] = (struct kz_source){copy, size, format};
    s->bytes += size;
    return 0;
}

/* The format of an archive member from its first bytes (what it holds, for a compressed zip
 * member); KZ_FMT_UNKNOWN with *why saying why it is not read, or NULL when it is just in no
 * format kizuki reads. EVTX members count with their uncompressed size (usize). */
static uint8_t sniff_member(const uint8_t *head, size_t got, uint64_t usize, const char *kind,
                            uint64_t *member_size, const char **why) {
    if (kz_evtx_sniff(head, got)) {
        *member_size = usize;
        if (usize > KZ_ZIP_MAX_EXTRACT) {
            *why = "EVTX member larger than 4 GiB is not read in place (extract it)";
            return KZ_FMT_UNKNOWN;
        }
        return KZ_FMT_EVTX;
    }
    if (kz_archive_is_zip(head, got) || kz_archive_is_zstd(head, got) ||
        kz_archive_is_gzip(head, got) || kz_archive_is_tar(head, got)) {
        /* one layer inside a zip is read (a .gz or .zst member); not two; none inside a tar */
        *why = !strcmp(kind, "zip")
                   ? "archive inside a zip archive (or a compressed file compressed "
                     "again) is not read in place (extract it)"
                   : "archive or compressed file inside a tar archive is not read "
                     "in place (extract it)";
        return KZ_FMT_UNKNOWN;
    }
    uint8_t format = kz_text_sniff((const char *)head, got);
    if (format == KZ_FMT_UNKNOWN) *why = NULL; /* not in a format kizuki reads: counted only */
    return format;
}

/* Lists ARCHIVE/MEMBER in format, or counts (and reports why, when there is a why) a member
 * that is not read. */
static int push_member(struct kz_sources *s, const char *path, const char *name, uint64_t size,
                       uint8_t format, const char *why, void (*report)(void *, const char *),
                       void *ctx) {
    if (format == KZ_FMT_UNKNOWN) {
        s->skipped++;
        if (why) say(report, ctx, "%s/%s: %s, skipped", path, name, why);
        return 0;
    }
    size_t len = strlen(path) + 1 + strlen(name) + 1;
    char *member = kz_malloc(len);
    if (!member) return KZ_ENOMEM;
    snprintf(member, len, "%s/%s", path, name);
    int rc = push(s, member, size, format);
    kz_free(member);
    return rc;
}

/* Every member of a tar archive (plain, .tar.gz, .tar.zst), read in one pass: each is sniffed from
 * its first bytes and listed as ARCHIVE/MEMBER, as for zip. Returns 0 or KZ_ENOMEM; 1 when the
 * file is not a tar after all (its first header is not one), nothing listed. */
static int add_tar(struct kz_sources *s, const char *path, uint64_t size, int explicit,
                   void (*report)(void *, const char *), void *ctx) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    const char *why = NULL;
    struct kz_tar *t = kz_tar_open(fd, size, &why);
    close(fd);
    if (!t) return 1;
    static __thread uint8_t head[SNIFF_BYTES];
    int rc = 0, first = 1;
    uint32_t before = s->n;
    uint64_t msize;
    int k;
    while (!rc && (k = kz_tar_next(t, &msize, &why)) != 0) {
        if (k < 0) {
            if (first) { /* not a tar (a compressed file whose content is no tar) */
                kz_tar_close(t);
                return 1;
            }
            s->errors++;
            say(report, ctx, "%s: %s; the rest of the archive is not read", path, why);
            break;
        }
        first = 0;
        size_t got = 0;
        while (got < sizeof head) {
            ssize_t r = kz_tar_read(t, (char *)head + got, sizeof head - got, &why);
            if (r <= 0) break;
            got += (size_t)r;
        }
        uint64_t member_size = msize;
        uint8_t format = sniff_member(head, got, msize, "tar", &member_size, &why);
        rc = push_member(s, path, kz_tar_name(t), member_size, format, why, report, ctx);
    }
    kz_tar_close(t);
    if (first && !rc) return 1; /* not one member: an empty tar reads as no format */
    if (!rc && explicit && s->n == before) {
        s->errors++;
        say(report, ctx, "%s: no member of this tar archive is in a format kizuki reads", path);
    }
    return rc;
}

/* Every member of a zip archive, sniffed from its first bytes (of what it holds, for a .gz or
 * .zst member), as ARCHIVE/MEMBER. Members in no format kizuki reads are counted in skipped, like
 * files in a folder; members that cannot be read (encrypted, other methods, a zip inside the zip)
 * are also reported. EVTX members are listed with their uncompressed size (the EVTX reader
 * extracts them to a temporary file). An archive named on the command line with nothing readable
 * in it is an error. */
static int add_zip(struct kz_sources *s, const char *path, uint64_t size, int explicit,
                   void (*report)(void *, const char *), void *ctx) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s->errors++;
        say(report, ctx, "%s: %s", path, strerror(errno));
        return 0;
    }
    struct kz_zip_member *v;
    uint32_t n;
    const char *why;
    if (kz_zip_list(fd, size, &v, &n, &why)) {
        close(fd);
        s->errors++;
        say(report, ctx, "%s: %s", path, why);
        return 0;
    }
    static __thread uint8_t head[SNIFF_BYTES];
    int rc = 0;
    uint32_t before = s->n;
    for (uint32_t i = 0; i < n && !rc; i++) {
        struct kz_instream *in = kz_zip_open_member_plain(fd, &v[i], &why);
        size_t got = 0;
        while (in && got < sizeof head) {
            ssize_t k = kz_instream_read(in, (char *)head + got, sizeof head - got, &why);
            if (k <= 0) break;
            got += (size_t)k;
        }
        kz_instream_close(in);
        uint64_t member_size = v[i].csize;
        uint8_t format =
            in ? sniff_member(head, got, v[i].usize, "zip", &member_size, &why) : KZ_FMT_UNKNOWN;
        rc = push_member(s, path, v[i].name, member_size, format, why, report, ctx);
    }
    kz_zip_free_list(v, n);
    close(fd);
    if (!rc && explicit && s->n == before) {
        s->errors++;
        say(report, ctx, "%s: no member of this zip archive is in a format kizuki reads", path);
    }
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(struct kz_sources *s, const char *path, int explicit, int depth,
               void (*report)(void *, const char *), void *ctx) {
    struct stat sb;
    if (stat(path, &sb)) {
        s->errors++;
        say(report, ctx, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (depth >= KZ_SOURCES_MAX_DEPTH) {
            s->errors++;
            say(report, ctx, "%s: folders nested deeper than %d, skipped", path,
                KZ_SOURCES_MAX_DEPTH);
            return 0;
        }
        DIR *dir = opendir(path);
        if (!dir) {
            s->errors++;
            say(report, ctx, "%s: %s", path, strerror(errno));
            return 0;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        int rc = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                char **nn = kz_realloc(names, cap * sizeof *nn);
                if (!nn) {
                    rc = KZ_ENOMEM;
                    break;
                }
                names = nn;
            }
            if (!(names[n] = kz_strdup(e->d_name))) {
                rc = KZ_ENOMEM;
                break;
            }
            n++;
        }
        closedir(dir);
        if (n) qsort(names, n, sizeof *names, cmp_names);
        size_t plen = strlen(path);
        int slash = plen && path[plen - 1] == '/';
        for (size_t i = 0; i < n; i++) {
            if (!rc) {
                size_t len = plen + 1 + strlen(names[i]) + 1;
                char *child = kz_malloc(len);
                if (!child)
                    rc = KZ_ENOMEM;
                else {
                    snprintf(child, len, slash ? "%s%s" : "%s/%s", path, names[i]);
                    rc = add(s, child, 0, depth + 1, report, ctx);
                    kz_free(child);
                }
            }
            kz_free(names[i]);
        }
        kz_free(names);
        return rc;
    }
    if (!S_ISREG(sb.st_mode)) {
        if (explicit) {
            s->errors++;
            say(report, ctx, "%s: not a regular file", path);
        }
        return 0;
    }
    static __thread uint8_t head[SNIFF_BYTES];
    ssize_t got = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, head, sizeof head);
        close(fd);
    }
    if (got < 0) {
        s->errors++;
        say(report, ctx, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (kz_archive_is_zip(head, (size_t)got)) return add_zip(s, path, (uint64_t)sb.st_size, explicit, report, ctx);
    if (kz_archive_is_tar(head, (size_t)got)) {
        int rc = add_tar(s, path, (uint64_t)sb.st_size, explicit, report, ctx);
        if (rc != 1) return rc;
    }
    uint8_t format = kz_sources_sniff(head, (size_t)got);
    /* a .tar.gz or .tar.zst: compressed, and what it holds is no format of its own */
    if (format == KZ_FMT_UNKNOWN &&
        (kz_archive_is_gzip(head, (size_t)got) || kz_archive_is_zstd(head, (size_t)got))) {
        int rc = add_tar(s, path, (uint64_t)sb.st_size, explicit, report, ctx);
        if (rc != 1) return rc;
    }
    if (format == KZ_FMT_UNKNOWN && kz_archive_is_zstd(head, (size_t)got)) {
        /* zstd yields nothing until it holds a whole block (up to 128 KiB compressed; EVTX chunks
         * compress into large ones): sniff again from more of the file */
        size_t cap = ZSTD_SNIFF_BYTES;
        uint8_t *more = kz_malloc(cap);
        fd = more ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            ssize_t k = read(fd, more, cap);
            close(fd);
            if (k > 0) format = kz_sources_sniff(more, (size_t)k);
        }
        kz_free(more);
    }
    if (format == KZ_FMT_UNKNOWN) {
        if (explicit) {
            s->errors++;
            say(report, ctx,
                "%s: not in a format kizuki reads (supported: EVTX, JSON lines of Windows events, "
                "Windows event XML, web access logs (also IIS W3C), Squid logs, FortiGate logs, "
                "syslog, auditd; "
                "also inside .gz, .zst, .zip and .tar)",
                path);
        } else {
            s->skipped++;
        }
        return 0;
    }
    return push(s, path, (uint64_t)sb.st_size, format);
}

int kz_sources_add(struct kz_sources *s, const char *path, void (*report)(void *, const char *),
                   void *ctx) {
    return add(s, path, 1, 0, report, ctx);
}

void kz_sources_free(struct kz_sources *s) {
    for (uint32_t i = 0; i < s->n; i++)
        kz_free(s->v[i].path);
    kz_free(s->v);
    memset(s, 0, sizeof *s);
}
