/* archive.c - zstd streams and zip members read in place; see archive.h.
 *
 * The zip layout (PKWARE APPNOTE 6.3): the end-of-central-directory record at the end of the
 * file (after an optional comment of up to 65535 bytes) locates the central directory; each of
 * its headers gives a member's name, method, sizes and the offset of its local header, whose own
 * name and extra lengths say where the data starts. Zip64 (sizes or offsets of 0xFFFFFFFF, more
 * than 65535 members) is read from the zip64 end record and the members' zip64 extra fields. All
 * on-disk integers are little-endian and read byte by byte. */
#include "archive.h"

#include "../core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_BUF (64 * 1024)

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) {
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int kz_archive_is_zstd(const uint8_t *p, size_t n) {
    return n >= 4 && p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD;
}

int kz_archive_is_zip(const uint8_t *p, size_t n) {
    /* a local header first, or the end record alone (an empty archive) */
    return n >= 4 && p[0] == 'P' && p[1] == 'K' &&
           ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

size_t kz_zstd_head(const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
    ZSTD_DStream *z = ZSTD_createDStream();
    if (!z) return 0;
    ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, KZ_ZSTD_MAX_WINDOW_LOG);
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    while (o.pos < cap && in.pos < in.size) {
        size_t rc = ZSTD_decompressStream(z, &o, &in);
        if (ZSTD_isError(rc) || (rc == 0 && in.pos == in.size)) break;
    }
    ZSTD_freeDStream(z);
    return o.pos;
}

/* ---- streams ---- */

/* S_GZIP_OVER and S_ZSTD_OVER decompress another stream (a .gz or .zst member of a zip) */
enum { S_ZSTD, S_STORED, S_DEFLATE, S_GZIP_OVER, S_ZSTD_OVER, S_GZIP, S_TAR };

struct kz_instream {
    int kind;
    int fd;
    uint64_t pos;       /* zip: file offset of the next compressed byte */
    uint64_t left;      /* zip: compressed bytes not yet read */
    uint64_t limit;     /* zip: declared size; zstd: UINT64_MAX */
    uint64_t in_total;  /* compressed bytes consumed */
    uint64_t out_total; /* bytes produced */
    int ended;
    int frame_done; /* zstd, gzip: the last call finished a frame (the stream may end here) */
    struct kz_instream *inner; /* the member a *_OVER stream decompresses (owned) */
    struct kz_tar *tar;        /* S_TAR: the archive walker positioned at the member (owned) */
    const char *inner_why;     /* why the inner stream stopped early */
    z_stream z;
    ZSTD_DStream *zs;
    size_t in_len, in_pos;
    uint8_t in[IN_BUF];
};

static struct kz_instream *stream_new(int kind, int fd) {
    struct kz_instream *s = kz_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->kind = kind;
    s->fd = fd;
    s->limit = UINT64_MAX;
    return s;
}

struct kz_instream *kz_zstd_open(int fd) {
    struct kz_instream *s = stream_new(S_ZSTD, fd);
    if (!s) return NULL;
    s->zs = ZSTD_createDStream();
    if (!s->zs) {
        kz_free(s);
        return NULL;
    }
    ZSTD_DCtx_setParameter(s->zs, ZSTD_d_windowLogMax, KZ_ZSTD_MAX_WINDOW_LOG);
    return s;
}

/* Refills the input buffer: from the file (zstd), the member's remaining bytes (zip), or the
 * inner stream (a compressed member). */
static ssize_t refill(struct kz_instream *s) {
    size_t want = IN_BUF;
    ssize_t k;
    if (s->inner) {
        k = kz_instream_read(s->inner, (char *)s->in, want, &s->inner_why);
        if (k < 0) {
            s->in_len = s->in_pos = 0;
            return -1;
        }
    } else if (s->kind == S_ZSTD || s->kind == S_GZIP) {
        do
            k = read(s->fd, s->in, want);
        while (k < 0 && errno == EINTR);
    } else {
        if (s->left < want) want = (size_t)s->left;
        if (!want) return 0;
        do
            k = pread(s->fd, s->in, want, (off_t)s->pos);
        while (k < 0 && errno == EINTR);
        if (k > 0) s->pos += (uint64_t)k, s->left -= (uint64_t)k;
    }
    if (k > 0) s->in_len = (size_t)k, s->in_pos = 0, s->in_total += (uint64_t)k;
    return k;
}

static int over_limits(struct kz_instream *s, const char **why) {
    if (s->out_total > s->limit) {
        *why = "zip member longer than its declared size; the rest is not read";
        return 1;
    }
    /* against the bytes read from the archive itself, so a .gz inside a zip is bounded end to
     * end, not 1000 times per layer */
    uint64_t raw = s->inner ? s->inner->in_total : s->in_total;
    if (s->out_total > KZ_ARCHIVE_FREE_BYTES && s->out_total / KZ_ARCHIVE_MAX_RATIO > raw) {
        *why = "decompresses to more than 1000 times its size (a decompression bomb?); the rest "
               "is not read";
        return 1;
    }
    return 0;
}

/* One inflate call from the input buffer into buf[0..n): zlib's result, *made bytes produced. */
static int inflate_step(struct kz_instream *s, char *buf, size_t n, size_t *made) {
    s->z.next_in = s->in + s->in_pos;
    s->z.avail_in = (uInt)(s->in_len - s->in_pos);
    s->z.next_out = (Bytef *)buf;
    s->z.avail_out = (uInt)(n > (1u << 30) ? 1u << 30 : n);
    uInt before = s->z.avail_out;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    s->in_pos = s->in_len - s->z.avail_in;
    *made = before - s->z.avail_out;
    return rc;
}

ssize_t kz_instream_read(struct kz_instream *s, char *buf, size_t n, const char **why) {
    if (s->ended || !n) return 0;
    if (s->kind == S_TAR) return kz_tar_read(s->tar, buf, n, why);
    if (s->kind == S_STORED) {
        if (n > s->left) n = (size_t)s->left;
        if (!n) return 0;
        if (s->out_total >= s->limit) { /* more stored bytes than the declared size */
            *why = "zip member longer than its declared size; the rest is not read";
            s->ended = 1;
            return -1;
        }
        if (n > s->limit - s->out_total) n = (size_t)(s->limit - s->out_total);
        ssize_t k;
        do
            k = pread(s->fd, buf, n, (off_t)s->pos);
        while (k < 0 && errno == EINTR);
        if (k <= 0) {
            *why = k < 0 ? strerror(errno) : "zip member cut short";
            return -1;
        }
        s->pos += (uint64_t)k, s->left -= (uint64_t)k;
        s->in_total += (uint64_t)k, s->out_total += (uint64_t)k;
        return k;
    }
    for (;;) {
        if (s->in_pos == s->in_len) {
            ssize_t k = refill(s);
            if (k < 0) {
                *why = s->inner ? s->inner_why : strerror(errno);
                s->ended = 1;
                return -1;
            }
            if (k == 0) {
                s->ended = 1;
                /* a zstd or gzip stream that ends between frames (members) is complete */
                if (s->kind != S_DEFLATE && (s->frame_done || s->in_total == 0)) return 0;
                *why = s->kind == S_ZSTD ? "truncated zstd stream; the rest of the file is not read"
                       : s->kind == S_GZIP
                           ? "truncated gzip stream; the rest of the file is not read"
                       : s->kind == S_DEFLATE ? "truncated deflate data in a zip member"
                       : s->kind == S_ZSTD_OVER
                           ? "truncated zstd stream in a zip member; the rest is not read"
                           : "truncated gzip stream in a zip member; the rest is not read";
                return -1;
            }
        }
        size_t made;
        if (s->kind == S_ZSTD || s->kind == S_ZSTD_OVER) {
            ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
            ZSTD_outBuffer o = {buf, n, 0};
            size_t rc = ZSTD_decompressStream(s->zs, &o, &in);
            s->in_pos = in.pos;
            if (ZSTD_isError(rc)) {
                *why = "damaged zstd stream; the rest of the file is not read";
                s->ended = 1;
                return -1;
            }
            s->frame_done = rc == 0;
            made = o.pos;
        } else if (s->kind == S_GZIP_OVER || s->kind == S_GZIP) {
            int rc = inflate_step(s, buf, n, &made);
            if (rc == Z_STREAM_END) {
                /* gzip members may follow one another (cat a.gz b.gz): read on */
                inflateReset(&s->z);
                s->frame_done = 1;
            } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
                if (made) s->frame_done = 0;
            } else if (s->frame_done && !made) {
                s->ended = 1; /* bytes after the last member (padding): ignored, as gzip does */
                return 0;
            } else {
                *why = s->kind == S_GZIP
                           ? "damaged gzip stream; the rest of the file is not read"
                           : "damaged gzip stream in a zip member; the rest is not read";
                s->ended = 1;
                return -1;
            }
        } else {
            int rc = inflate_step(s, buf, n, &made);
            if (rc == Z_STREAM_END) {
                s->ended = 1;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                *why = "damaged deflate data in a zip member";
                s->ended = 1;
                return -1;
            }
        }
        s->out_total += made;
        if (over_limits(s, why)) {
            s->ended = 1;
            return -1;
        }
        if (made) return (ssize_t)made;
        if (s->ended) return 0;
    }
}

static uint64_t tar_pos(const struct kz_tar *t);

uint64_t kz_instream_pos(const struct kz_instream *s) {
    if (s->kind == S_TAR) return tar_pos(s->tar) - s->pos; /* this member's bytes */
    return s->in_total;
}

void kz_instream_close(struct kz_instream *s) {
    if (!s) return;
    if (s->kind == S_TAR) kz_tar_close(s->tar);
    if (s->zs) ZSTD_freeDStream(s->zs);
    if (s->kind == S_DEFLATE || s->kind == S_GZIP_OVER || s->kind == S_GZIP) inflateEnd(&s->z);
    if (s->fd >= 0) close(s->fd);
    kz_instream_close(s->inner);
    kz_free(s);
}

/* ---- zip directory ---- */

static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

void kz_zip_free_list(struct kz_zip_member *v, uint32_t n) {
    for (uint32_t i = 0; v && i < n; i++)
        kz_free(v[i].name);
    kz_free(v);
}

int kz_zip_list(int fd, uint64_t size, struct kz_zip_member **out, uint32_t *nout,
                const char **why) {
    *out = NULL;
    *nout = 0;
    /* the end record: the last "PK\5\6" in the final 22 + 65535 bytes */
    size_t tail = size < 22 + 65535 ? (size_t)size : 22 + 65535;
    uint8_t *t = kz_malloc(tail ? tail : 1);
    if (!t) return *why = "out of memory", -1;
    if (tail < 22 || pread_all(fd, t, tail, size - tail)) {
        kz_free(t);
        return *why = "not a zip archive (no end of central directory)", -1;
    }
    size_t e = tail - 22 + 1;
    while (e-- > 0)
        if (rd32(t + e) == 0x06054b50) break;
    if (e == (size_t)-1) {
        kz_free(t);
        return *why = "not a zip archive (no end of central directory)", -1;
    }
    uint64_t entries = rd16(t + e + 10), cd_size = rd32(t + e + 12), cd_off = rd32(t + e + 16);
    uint64_t eocd_at = size - tail + e;
    kz_free(t);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {
        uint8_t loc[20], rec[56];
        if (eocd_at < 20 || pread_all(fd, loc, 20, eocd_at - 20) || rd32(loc) != 0x07064b50 ||
            pread_all(fd, rec, 56, rd64(loc + 8)) || rd32(rec) != 0x06064b50)
            return *why = "damaged zip64 end of central directory", -1;
        entries = rd64(rec + 32), cd_size = rd64(rec + 40), cd_off = rd64(rec + 48);
    }
    if (cd_off > size || cd_size > size - cd_off)
        return *why = "central directory outside the file", -1;
    if (entries > KZ_ZIP_MAX_MEMBERS) return *why = "more than 65536 members", -1;
    if (cd_size > (uint64_t)entries * (46 + 3 * 65535)) return *why = "central directory too large", -1;
    uint8_t *cd = kz_malloc(cd_size ? (size_t)cd_size : 1);
    struct kz_zip_member *v = kz_calloc(entries ? (size_t)entries : 1, sizeof *v);
    if (!cd || !v || pread_all(fd, cd, (size_t)cd_size, cd_off)) {
        kz_free(cd);
        kz_free(v);
        return *why = "cannot read the central directory", -1;
    }
    uint32_t n = 0;
    size_t p = 0;
    for (uint64_t i = 0; i < entries; i++) {
        if (cd_size - p < 46 || rd32(cd + p) != 0x02014b50) break;
        const uint8_t *h = cd + p;
        size_t name_len = rd16(h + 28), extra_len = rd16(h + 30), comment_len = rd16(h + 32);
        if (cd_size - p - 46 < name_len + extra_len + comment_len) break;
        p += 46 + name_len + extra_len + comment_len;
        const char *name = (const char *)h + 46;
        if (!name_len || name[name_len - 1] == '/') continue; /* a folder */
        struct kz_zip_member *m = &v[n];
        m->method = rd16(h + 10);
        m->csize = rd32(h + 20);
        m->usize = rd32(h + 24);
        m->offset = rd32(h + 42);
        /* zip64 extra field: the 8-byte values that did not fit, in this order */
        const uint8_t *x = h + 46 + name_len, *xe = x + extra_len;
        while (xe - x >= 4) {
            uint16_t id = rd16(x), len = rd16(x + 2);
            if ((size_t)(xe - x - 4) < len) break;
            if (id == 0x0001) {
                const uint8_t *q = x + 4, *qe = q + len;
                if (m->usize == 0xFFFFFFFF && qe - q >= 8) m->usize = rd64(q), q += 8;
                if (m->csize == 0xFFFFFFFF && qe - q >= 8) m->csize = rd64(q), q += 8;
                if (m->offset == 0xFFFFFFFF && qe - q >= 8) m->offset = rd64(q), q += 8;
            }
            x += 4 + len;
        }
        if (name_len > KZ_ZIP_MAX_NAME || memchr(name, 0, name_len)) {
            m->skip = "member name too long or holding NUL";
            name_len = name_len > KZ_ZIP_MAX_NAME ? KZ_ZIP_MAX_NAME : name_len;
        } else if (rd16(h + 8) & 1) {
            m->skip = "encrypted member";
        } else if (m->method != 0 && m->method != 8) {
            m->skip = "compression method other than stored or deflate";
        } else if (m->offset > size || m->csize > size - m->offset) {
            m->skip = "member data outside the archive";
        }
        m->name = kz_malloc(name_len + 1);
        if (!m->name) {
            kz_free(cd);
            kz_zip_free_list(v, n);
            return *why = "out of memory", -1;
        }
        memcpy(m->name, name, name_len);
        m->name[name_len] = 0;
        for (size_t k = 0; k < name_len; k++)
            if (!m->name[k]) m->name[k] = '?';
        n++;
    }
    kz_free(cd);
    *out = v;
    *nout = n;
    return 0;
}

struct kz_instream *kz_zip_open_member(int fd, const struct kz_zip_member *m, const char **why) {
    if (m->skip) return *why = m->skip, NULL;
    uint8_t lh[30];
    if (pread_all(fd, lh, 30, m->offset) || rd32(lh) != 0x04034b50)
        return *why = "damaged zip member (no local header)", NULL;
    uint64_t data = m->offset + 30 + rd16(lh + 26) + rd16(lh + 28);
    int fd2 = dup(fd);
    if (fd2 < 0) return *why = strerror(errno), NULL;
    struct kz_instream *s = stream_new(m->method == 0 ? S_STORED : S_DEFLATE, fd2);
    if (!s) {
        close(fd2);
        return *why = "out of memory", NULL;
    }
    s->pos = data;
    s->left = m->csize;
    s->limit = m->usize;
    if (m->method == 8 && inflateInit2(&s->z, -MAX_WBITS) != Z_OK) {
        s->kind = S_STORED; /* nothing to end */
        kz_instream_close(s);
        return *why = "out of memory", NULL;
    }
    return s;
}

int kz_archive_is_gzip(const uint8_t *p, size_t n) {
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

struct kz_instream *kz_zip_open_member_plain(int fd, const struct kz_zip_member *m,
                                             const char **why) {
    /* the first bytes tell whether the member is itself compressed: read them, then start over */
    struct kz_instream *s = kz_zip_open_member(fd, m, why);
    if (!s) return NULL;
    uint8_t magic[4];
    size_t got = 0;
    while (got < sizeof magic) {
        ssize_t k = kz_instream_read(s, (char *)magic + got, sizeof magic - got, why);
        if (k <= 0) break;
        got += (size_t)k;
    }
    int gz = kz_archive_is_gzip(magic, got), zst = kz_archive_is_zstd(magic, got);
    kz_instream_close(s);
    s = kz_zip_open_member(fd, m, why);
    if (!s || (!gz && !zst)) return s;
    struct kz_instream *o = stream_new(gz ? S_GZIP_OVER : S_ZSTD_OVER, -1);
    if (!o) {
        kz_instream_close(s);
        return *why = "out of memory", NULL;
    }
    o->inner = s;
    if (gz && inflateInit2(&o->z, 16 + MAX_WBITS) != Z_OK) {
        o->kind = S_STORED; /* nothing to end */
        kz_instream_close(o);
        return *why = "out of memory", NULL;
    }
    if (zst) {
        if (!(o->zs = ZSTD_createDStream())) {
            kz_instream_close(o);
            return *why = "out of memory", NULL;
        }
        ZSTD_DCtx_setParameter(o->zs, ZSTD_d_windowLogMax, KZ_ZSTD_MAX_WINDOW_LOG);
    }
    return o;
}

struct kz_instream *kz_gzip_open(int fd) {
    struct kz_instream *s = stream_new(S_GZIP, fd);
    if (!s) return NULL;
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        s->kind = S_ZSTD; /* nothing to end */
        s->fd = -1;       /* the caller keeps fd on failure, as with kz_zstd_open */
        kz_instream_close(s);
        return NULL;
    }
    return s;
}

/* Copies what s yields into an unlinked temporary file (s is closed): its fd, or -1 with *why. */
static int copy_to_temp(struct kz_instream *s, uint64_t max, const char **why) {
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/kizuki-member-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        kz_instream_close(s);
        return *why = "cannot create a temporary file (TMPDIR) to read the member from", -1;
    }
    unlink(tmpl); /* gone when closed, whatever happens */
    size_t cap = 1 << 20;
    char *buf = kz_malloc(cap);
    uint64_t total = 0;
    int rc = buf ? 0 : (*why = "out of memory", -1);
    while (!rc) {
        ssize_t k = kz_instream_read(s, buf, cap, why);
        if (k == 0) break;
        if (k < 0) {
            rc = -1;
            break;
        }
        if ((total += (uint64_t)k) > max) {
            *why = "decompresses to more than the limit for reading it in place (extract it)";
            rc = -1;
            break;
        }
        for (ssize_t done = 0; done < k && !rc;) {
            ssize_t w = write(fd, buf + done, (size_t)(k - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) *why = "cannot write the temporary file (TMPDIR full?)", rc = -1;
            else done += w;
        }
    }
    kz_free(buf);
    kz_instream_close(s);
    if (rc) {
        close(fd);
        return -1;
    }
    return fd;
}

int kz_zip_extract(const char *path, uint64_t max, const char **why) {
    struct kz_instream *s = kz_zip_open_path(path, why);
    if (!s) return -1;
    return copy_to_temp(s, max, why);
}

int kz_archive_decompress_fd(int fd, uint64_t max, const char **why) {
    uint8_t magic[4];
    ssize_t m = pread(fd, magic, sizeof magic, 0);
    int gz = m > 0 && kz_archive_is_gzip(magic, (size_t)m);
    int zst = m > 0 && kz_archive_is_zstd(magic, (size_t)m);
    if (!gz && !zst) return fd;
    int fd2 = dup(fd);
    if (fd2 < 0) return *why = strerror(errno), -1;
    struct kz_instream *s = gz ? kz_gzip_open(fd2) : kz_zstd_open(fd2);
    if (!s) {
        close(fd2);
        return *why = "out of memory", -1;
    }
    return copy_to_temp(s, max, why);
}

/* ---- tar ---- */

/* POSIX ustar (and GNU tar's variant) headers: 512-byte blocks, name[100] at 0, size[12] (octal,
 * or GNU's base-256 when the first byte has its high bit set) at 124, checksum[8] at 148 (the sum
 * of the header's bytes with the checksum field as spaces), typeflag at 156, magic "ustar" at 257,
 * prefix[155] at 345. Long names come as a GNU 'L' entry (the next member's name as data) or a
 * pax 'x' extended header ("LEN path=NAME\n" records). Data is padded to 512 bytes. */

#define TAR_BLOCK 512
#define TAR_MAX_PAX (64 * 1024) /* an extended header larger than this is skipped whole */

static int tar_header_ok(const uint8_t *h) {
    if (memcmp(h + 257, "ustar", 5)) return 0;
    unsigned sum = 0, want = 0;
    for (int i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    int i = 148, digits = 0;
    while (i < 156 && h[i] == ' ')
        i++;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (unsigned)(h[i] - '0');
    return digits > 0 && sum == want;
}

int kz_archive_is_tar(const uint8_t *p, size_t n) {
    return n >= TAR_BLOCK && tar_header_ok(p);
}

static int tar_size(const uint8_t *f, uint64_t *out) {
    uint64_t v = 0;
    if (f[0] & 0x80) { /* GNU base-256: the rest of the 12 bytes, big-endian */
        if (f[0] != 0x80 || f[1] || f[2] || f[3]) return -1; /* beyond 2^64 */
        for (int i = 4; i < 12; i++)
            v = v << 8 | f[i];
        *out = v;
        return 0;
    }
    int i = 0;
    while (i < 12 && f[i] == ' ')
        i++;
    for (; i < 12 && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60) return -1;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    *out = v;
    return 0;
}

struct kz_tar {
    struct kz_instream *in; /* the archive's bytes (decompressed) */
    uint64_t left;          /* data bytes of the current member not read yet */
    uint64_t pad;           /* padding after them */
    uint64_t file_size;     /* a plain tar's size (member sizes are checked against it), or 0 */
    uint64_t consumed;      /* archive bytes read */
    uint32_t members;
    char name[KZ_ZIP_MAX_NAME + 1];      /* of the current member */
    char long_name[KZ_ZIP_MAX_NAME + 1]; /* from a GNU 'L' or pax entry, for the next member */
    int have_long;
};

static ssize_t tar_raw(struct kz_tar *t, uint8_t *buf, size_t n, const char **why) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = kz_instream_read(t->in, (char *)buf + got, n - got, why);
        if (k < 0) return -1;
        if (k == 0) break;
        got += (size_t)k;
    }
    t->consumed += got;
    return (ssize_t)got;
}

/* Reads and drops n bytes. */
static int tar_skip(struct kz_tar *t, uint64_t n, const char **why) {
    uint8_t buf[4096];
    while (n) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        ssize_t got = tar_raw(t, buf, k, why);
        if (got < 0) return -1;
        if ((size_t)got < k) return *why = "tar archive cut short", -1;
        n -= k;
    }
    return 0;
}

struct kz_tar *kz_tar_open(int fd, uint64_t size, const char **why) {
    uint8_t magic[4];
    ssize_t m = pread(fd, magic, sizeof magic, 0);
    int fd2 = dup(fd);
    if (fd2 < 0) return *why = strerror(errno), NULL;
    struct kz_instream *in;
    int plain = 0;
    if (m > 0 && kz_archive_is_gzip(magic, (size_t)m)) {
        in = kz_gzip_open(fd2);
    } else if (m > 0 && kz_archive_is_zstd(magic, (size_t)m)) {
        in = kz_zstd_open(fd2);
    } else {
        plain = 1;
        if ((in = stream_new(S_STORED, fd2))) in->left = size; /* the file as it is */
    }
    if (!in) {
        close(fd2);
        return *why = "out of memory", NULL;
    }
    struct kz_tar *t = kz_calloc(1, sizeof *t);
    if (!t) {
        kz_instream_close(in);
        return *why = "out of memory", NULL;
    }
    t->in = in;
    t->file_size = plain ? size : 0;
    return t;
}

void kz_tar_close(struct kz_tar *t) {
    if (!t) return;
    kz_instream_close(t->in);
    kz_free(t);
}

/* The path of a pax extended header's records ("LEN KEY=VALUE\n" ...), into t->long_name. */
static void tar_pax(struct kz_tar *t, const char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && p[j] >= '0' && p[j] <= '9' && len < n)
            len = len * 10 + (size_t)(p[j++] - '0');
        if (j >= n || p[j] != ' ' || len <= j - i || len > n - i) return; /* damaged: stop */
        const char *kv = p + j + 1, *end = p + i + len - 1;               /* without the newline */
        if (end - kv > 5 && !memcmp(kv, "path=", 5)) {
            size_t vn = (size_t)(end - kv - 5);
            if (vn > KZ_ZIP_MAX_NAME) vn = KZ_ZIP_MAX_NAME;
            memcpy(t->long_name, kv + 5, vn);
            t->long_name[vn] = 0;
            t->have_long = 1;
        }
        i += len;
    }
}

int kz_tar_next(struct kz_tar *t, uint64_t *size, const char **why) {
    if (tar_skip(t, t->left + t->pad, why)) return -1;
    t->left = t->pad = 0;
    for (;;) {
        uint8_t h[TAR_BLOCK];
        ssize_t got = tar_raw(t, h, TAR_BLOCK, why);
        if (got < 0) return -1;
        if (got == 0) return 0; /* no end blocks: ended all the same */
        if (got < TAR_BLOCK) return *why = "tar archive cut short", -1;
        int zero = 1;
        for (int i = 0; i < TAR_BLOCK && zero; i++)
            zero = !h[i];
        if (zero) return 0; /* the end-of-archive block */
        if (!tar_header_ok(h)) return *why = "damaged tar header (bad checksum or magic)", -1;
        uint64_t n;
        if (tar_size(h + 124, &n)) return *why = "tar member size out of range", -1;
        if (t->file_size &&
            n > t->file_size - (t->consumed < t->file_size ? t->consumed : t->file_size))
            return *why = "tar member larger than the archive", -1;
        if (++t->members > KZ_ZIP_MAX_MEMBERS) return *why = "more than 65536 members", -1;
        uint64_t pad = (TAR_BLOCK - n % TAR_BLOCK) % TAR_BLOCK;
        char type = (char)h[156];
        if (type == 'L' || type == 'x') { /* the next member's long name */
            if (n > TAR_MAX_PAX) {
                if (tar_skip(t, n + pad, why)) return -1;
                continue;
            }
            char *buf = kz_malloc((size_t)n + 1);
            if (!buf) return *why = "out of memory", -1;
            got = tar_raw(t, (uint8_t *)buf, (size_t)n, why);
            if (got < 0 || (uint64_t)got < n || tar_skip(t, pad, why)) {
                kz_free(buf);
                if (got >= 0) *why = "tar archive cut short";
                return -1;
            }
            if (type == 'x') {
                tar_pax(t, buf, (size_t)n);
            } else {
                size_t k = strnlen(buf, (size_t)n);
                if (k > KZ_ZIP_MAX_NAME) k = KZ_ZIP_MAX_NAME;
                memcpy(t->long_name, buf, k);
                t->long_name[k] = 0;
                t->have_long = 1;
            }
            kz_free(buf);
            continue;
        }
        if (type != '0' && type != '\0' && type != '7') { /* folders, links, devices, 'g' ... */
            t->have_long = 0;
            if (tar_skip(t, n + pad, why)) return -1;
            continue;
        }
        if (t->have_long) {
            memcpy(t->name, t->long_name, sizeof t->name);
            t->have_long = 0;
        } else { /* prefix "/" name, each NUL-padded */
            size_t pn = strnlen((const char *)h + 345, 155), nn = strnlen((const char *)h, 100);
            size_t k = 0;
            if (pn) {
                memcpy(t->name, h + 345, pn);
                k = pn;
                t->name[k++] = '/';
            }
            memcpy(t->name + k, h, nn);
            t->name[k + nn] = 0;
        }
        for (char *c = t->name; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '?';
        t->left = n;
        t->pad = pad;
        *size = n;
        if (!t->name[0] || t->name[strlen(t->name) - 1] == '/') { /* a folder as a file entry */
            continue;
        }
        return 1;
    }
}

static uint64_t tar_pos(const struct kz_tar *t) {
    return kz_instream_pos(t->in);
}

const char *kz_tar_name(const struct kz_tar *t) {
    return t->name;
}

ssize_t kz_tar_read(struct kz_tar *t, char *buf, size_t n, const char **why) {
    if (n > t->left) n = (size_t)t->left;
    if (!n) return 0;
    ssize_t got = tar_raw(t, (uint8_t *)buf, n, why);
    if (got < 0) return -1;
    if (got == 0) return *why = "tar member cut short", -1;
    t->left -= (uint64_t)got;
    return got;
}

/* The member called name of the tar at fd, as a stream (it owns the walker); NULL with *why. */
static struct kz_instream *tar_open_member(int fd, uint64_t size, const char *name,
                                           const char **why) {
    struct kz_tar *t = kz_tar_open(fd, size, why);
    if (!t) return NULL;
    uint64_t n;
    int rc;
    while ((rc = kz_tar_next(t, &n, why)) == 1)
        if (!strcmp(t->name, name)) break;
    if (rc != 1) {
        if (rc == 0) *why = "no such member in the tar archive";
        kz_tar_close(t);
        return NULL;
    }
    struct kz_instream *s = stream_new(S_TAR, -1);
    if (!s) {
        kz_tar_close(t);
        return *why = "out of memory", NULL;
    }
    s->tar = t;
    s->pos = tar_pos(t); /* where the member starts, for kz_instream_pos */
    return s;
}

struct kz_instream *kz_zip_open_path(const char *path, const char **why) {
    /* the longest prefix ending before a '/' that is a regular file is the archive */
    size_t len = strlen(path);
    char *buf = kz_malloc(len + 1);
    if (!buf) return *why = "out of memory", NULL;
    memcpy(buf, path, len + 1);
    struct kz_instream *s = NULL;
    *why = "no such file";
    for (size_t i = len; i-- > 1;) {
        if (buf[i] != '/') continue;
        buf[i] = 0;
        struct stat sb;
        int fd = stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) ? open(buf, O_RDONLY | O_CLOEXEC) : -1;
        buf[i] = '/';
        if (fd < 0) continue;
        struct kz_zip_member *v;
        uint32_t n;
        uint8_t magic[4];
        if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
            !kz_archive_is_zip(magic, sizeof magic)) { /* not a zip: a tar (.tar, .tar.gz ...) */
            s = tar_open_member(fd, (uint64_t)sb.st_size, buf + i + 1, why);
        } else if (kz_zip_list(fd, (uint64_t)sb.st_size, &v, &n, why) == 0) {
            *why = "no such member in the zip archive";
            for (uint32_t k = 0; k < n; k++)
                if (!strcmp(v[k].name, buf + i + 1)) {
                    s = kz_zip_open_member_plain(fd, &v[k], why);
                    break;
                }
            kz_zip_free_list(v, n);
        }
        close(fd);
        break;
    }
    kz_free(buf);
    return s;
}
