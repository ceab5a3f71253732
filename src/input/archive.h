/* archive.h - compressed inputs read in place: zstd streams (.zst) and the members of zip archives
 * (.zip), beside gzip, which text_reader.c reads through zlib's gz* API.
 *
 * Why our own zip reader (about 200 lines over zlib's raw inflate) and not libarchive or libzip:
 * kizuki needs only the central directory, stored and deflated members, and streaming reads of
 * one member at a time; a reader that small is fuzzed here (tests/fuzz/fuzz_zip.c) with our
 * bounds, where a general archive library brings dozens of formats and filters of attack surface
 * to a tool whose input is written by attackers. zstd uses libzstd (libzstd-dev).
 *
 * A zip member is named `ARCHIVE/MEMBER` (the archive's path, a slash, the member's name as
 * stored), like a file in a folder: sources.c lists such names, text_reader.c opens them.
 *
 * Bounds (zip bombs): a stream stops, and says why, once it has produced more than
 * KZ_ARCHIVE_MAX_RATIO bytes per compressed byte beyond its first KZ_ARCHIVE_FREE_BYTES, or (zip)
 * more than the member's declared size; at most KZ_ZIP_MAX_MEMBERS members are listed per
 * archive; zstd frames may need a window of at most 2^KZ_ZSTD_MAX_WINDOW_LOG bytes. Memory per
 * stream is fixed (an input buffer and the decompressor's state). Ownership: each stream owns its
 * buffers and its file descriptor. */
#ifndef KZ_ARCHIVE_H
#define KZ_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KZ_ARCHIVE_MAX_RATIO 1000               /* output bytes per input byte, past the free part */
#define KZ_ARCHIVE_FREE_BYTES ((uint64_t)64 << 20) /* output always allowed whatever the ratio */
#define KZ_ZIP_MAX_MEMBERS 65536
#define KZ_ZIP_MAX_NAME 1024
#define KZ_ZSTD_MAX_WINDOW_LOG 27 /* 128 MiB: zstd's own default limit, set explicitly */

/* ---- magic ---- */
int kz_archive_is_gzip(const uint8_t *p, size_t n);
int kz_archive_is_zstd(const uint8_t *p, size_t n);
int kz_archive_is_zip(const uint8_t *p, size_t n);

/* Decompresses the start of a zstd stream p[0..n) into out[0..cap) for sniffing; returns bytes. */
size_t kz_zstd_head(const uint8_t *p, size_t n, uint8_t *out, size_t cap);

/* ---- streams: zstd over a file, or one zip member ---- */
struct kz_instream;

/* A zstd stream over fd (which it takes). NULL when out of memory. */
struct kz_instream *kz_zstd_open(int fd);
/* The member named by path `ARCHIVE/MEMBER` (ARCHIVE a zip file, decompressed when the member is
 * itself a gzip or zstd stream (kz_zip_open_member_plain); or a tar, plain or compressed, whose
 * members are read as stored). NULL with *why set when it is not one (why: static text). */
struct kz_instream *kz_zip_open_path(const char *path, const char **why);
/* Reads up to n bytes: > 0, 0 at the end, -1 when the stream stops early (*why says why). */
ssize_t kz_instream_read(struct kz_instream *s, char *buf, size_t n, const char **why);
/* Compressed bytes consumed so far (progress). */
uint64_t kz_instream_pos(const struct kz_instream *s);
void kz_instream_close(struct kz_instream *s);

/* ---- tar (plain, or inside one gzip or zstd stream) ---- */

/* A tar archive is read as a stream of members, never extracted: `ARCHIVE.tar/MEMBER` names a
 * member like a zip's (kz_zip_open_path opens either; a tar is found by scanning from its
 * start, so opening members of a compressed tar one after another decompresses its front again
 * each time). Regular files only (folders, links and devices are passed over); names from ustar's
 * prefix + name, GNU long-name entries and pax `path` records, at most KZ_ZIP_MAX_NAME bytes;
 * at most KZ_ZIP_MAX_MEMBERS entries; a member of a plain tar cannot be larger than the file,
 * and a compressed one is bounded by the ratio limit above. */
struct kz_tar;
int kz_archive_is_tar(const uint8_t *p, size_t n); /* a ustar header with a good checksum */
/* A walker over the tar at fd (dup'd; gzip or zstd told by magic and decompressed). NULL with
 * *why when out of memory; whether it is a tar is known at the first kz_tar_next. */
struct kz_tar *kz_tar_open(int fd, uint64_t size, const char **why);
/* Moves to the next regular member: 1 with *size set (kz_tar_name, kz_tar_read), 0 at the end,
 * -1 with *why set (damaged header, cut short, too many members). */
int kz_tar_next(struct kz_tar *t, uint64_t *size, const char **why);
const char *kz_tar_name(const struct kz_tar *t);
/* Reads the current member's data: > 0, 0 at its end, -1 with *why set. */
ssize_t kz_tar_read(struct kz_tar *t, char *buf, size_t n, const char **why);
void kz_tar_close(struct kz_tar *t);

/* ---- zip directory ---- */
struct kz_zip_member {
    char *name;        /* as stored, NUL-terminated (kz_malloc'd) */
    uint64_t offset;   /* of its local header */
    uint64_t csize;    /* compressed bytes */
    uint64_t usize;    /* declared uncompressed bytes */
    uint16_t method;   /* 0 stored, 8 deflate */
    const char *skip;  /* why it cannot be read (encrypted, method, zip64...), or NULL */
};
/* Lists the members of the zip file at fd (size bytes): 0 with *out (kz_free each name, then the
 * array), or -1 with *why set. Folders (names ending in '/') are left out. */
int kz_zip_list(int fd, uint64_t size, struct kz_zip_member **out, uint32_t *n, const char **why);
void kz_zip_free_list(struct kz_zip_member *v, uint32_t n);
/* A stream over one listed member of the zip at fd (dup'd: the caller keeps its fd). */
struct kz_instream *kz_zip_open_member(int fd, const struct kz_zip_member *m, const char **why);
/* The same, and when the member is a gzip or zstd stream (a .gz or .zst file zipped), what it
 * holds: one layer of decompression inside the zip, bounded as a whole (the ratio limit counts the
 * member's bytes in the archive). */
struct kz_instream *kz_zip_open_member_plain(int fd, const struct kz_zip_member *m,
                                             const char **why);
/* Copies the member `ARCHIVE/MEMBER` (decompressed as kz_zip_open_path does) into an unlinked
 * temporary file under $TMPDIR (default /tmp), for readers that need random access (EVTX).
 * Returns its fd (positioned at the end; read with pread), or -1 with *why set, also when the
 * member yields more than max bytes. The file vanishes when the fd is closed. */
int kz_zip_extract(const char *path, uint64_t max, const char **why);
#define KZ_ZIP_MAX_EXTRACT ((uint64_t)4 << 30) /* an EVTX member read from a zip: 4 GiB */
/* A gzip stream over fd (which it takes; members one after another are read on). NULL when out
 * of memory. */
struct kz_instream *kz_gzip_open(int fd);
/* For readers that need random access (EVTX) to a file that may be compressed: when the file at
 * fd starts with gzip or zstd magic, decompresses it (bounded as every stream: the ratio limit,
 * and at most max bytes) into an unlinked temporary file under $TMPDIR and returns that fd (the
 * caller still closes fd); otherwise returns fd itself. -1 with *why set on failure. */
int kz_archive_decompress_fd(int fd, uint64_t max, const char **why);

#endif
