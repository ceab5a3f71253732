/* dbcache.c - compiled Vectorscan databases kept on disk between runs.
 *
 * Why: compiling the prefilter databases and regexes of the SigmaHQ Windows rules takes
 * Vectorscan about half a CPU second per run (the process_creation database alone has ~8,000
 * literals), a large part of a scan's rule cost on a few hundred thousand events, while the
 * databases only change when the rules do. So each database is serialized
 * (hs_serialize_database) into a cache directory the first time it is compiled and read back
 * on later runs instead of compiling.
 *
 * A cache file is outside input like any other (a full disk, a crash mid-write, another version
 * of kizuki or Vectorscan, another CPU, a user's edit), so it is never trusted: it is read whole
 * only when its size is within DBCACHE_MAX_FILE, and used only when its header, its exact key
 * (the full description of the database's inputs, compared byte for byte: a hash collision can
 * never substitute another rule set's database), its CRC-32 and Vectorscan's own checks on the
 * serialized bytes (version, platform, checksum) all agree. Anything else is ignored and the
 * database compiled and written afresh. A database made from a cache file is therefore the
 * one compiling would make, and findings do not depend on the cache.
 *
 * The key holds the database's expressions, ids, flags and mode, Vectorscan's version string,
 * the host platform (hs_populate_platform: CPU features and tuning), the pointer size and this
 * format's version; the file is named after the key's SHA-256. The directory must be the
 * user's own (not writable by others: a shared /tmp folder is refused); files are written under
 * a temporary name and renamed into place, so readers never see half a file.
 *
 * File layout (little-endian): "KZHSDB1\n", u32 format version, u32 key length, u64 payload
 * length, u32 CRC-32 of key and payload, u32 zero; then the key, then hs_serialize's bytes. */
#include "match_int.h"

#include "core/alloc.h"
#include "core/crc32.h"
#include "store/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DBCACHE_MAGIC "KZHSDB1\n"
#define DBCACHE_VERSION 1u
#define DBCACHE_HEADER 32u

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- keys ---- */

void dbcache_key_begin(struct kz_buf *k, const char *kind, unsigned mode) {
    kz_buf_clear(k);
    kz_buf_puts(k, "kizuki-hsdb ");
    kz_buf_put_u64(k, DBCACHE_VERSION);
    kz_buf_putc(k, ' ');
    kz_buf_puts(k, hs_version());
    kz_buf_putc(k, ' ');
    kz_buf_put_u64(k, sizeof(void *));
    kz_buf_putc(k, ' ');
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof plat);
    if (hs_populate_platform(&plat) == HS_SUCCESS) {
        kz_buf_put_u64(k, plat.tune);
        kz_buf_putc(k, ' ');
        kz_buf_put_u64(k, plat.cpu_features);
    }
    kz_buf_putc(k, ' ');
    kz_buf_puts(k, kind);
    kz_buf_putc(k, ' ');
    kz_buf_put_u64(k, mode);
    kz_buf_putc(k, '\n');
}

void dbcache_key_expr(struct kz_buf *k, const char *expr, size_t len, unsigned flags, unsigned id) {
    /* lengths first: the key is unambiguous whatever bytes the expressions hold */
    kz_buf_put_u64(k, len);
    kz_buf_putc(k, ' ');
    kz_buf_put_u64(k, flags);
    kz_buf_putc(k, ' ');
    kz_buf_put_u64(k, id);
    kz_buf_putc(k, ' ');
    kz_buf_append(k, expr, len);
    kz_buf_putc(k, '\n');
}

/* ---- reading ---- */

int dbcache_parse(const uint8_t *file, size_t n, const void *key, size_t keylen,
                  hs_database_t **out) {
    *out = NULL;
    if (n < DBCACHE_HEADER || memcmp(file, DBCACHE_MAGIC, 8)) return KZ_EFORMAT;
    if (get_u32(file + 8) != DBCACHE_VERSION || get_u32(file + 28) != 0) return KZ_EFORMAT;
    uint64_t klen = get_u32(file + 12), plen = get_u64(file + 16);
    if (klen != keylen || plen == 0 || plen > DBCACHE_MAX_FILE || n != DBCACHE_HEADER + klen + plen)
        return KZ_ECORRUPT;
    const uint8_t *k = file + DBCACHE_HEADER, *payload = k + klen;
    if (memcmp(k, key, keylen)) return KZ_ECORRUPT; /* another database's file */
    if (kz_crc32(0, k, (size_t)(klen + plen)) != get_u32(file + 24)) return KZ_ECORRUPT;
    /* Vectorscan checks its own header here: magic, version, platform, length and CRC. */
    size_t dbsize = 0;
    if (hs_serialized_database_size((const char *)payload, (size_t)plen, &dbsize) != HS_SUCCESS ||
        dbsize == 0 || dbsize > DBCACHE_MAX_DB)
        return KZ_ECORRUPT;
    hs_database_t *db = NULL;
    if (hs_deserialize_database((const char *)payload, (size_t)plen, &db) != HS_SUCCESS)
        return KZ_ECORRUPT;
    *out = db;
    return 0;
}

/* The cache file's path for key: DIR/<SHA-256 of the key>.hsdb. */
static int file_path(const char *dir, const struct kz_buf *key, char *path, size_t cap) {
    char hex[KZ_SHA256_HEX];
    if (kz_sha256_hex(key->data, key->len, hex)) return KZ_ENOMEM;
    int w = snprintf(path, cap, "%s/%s.hsdb", dir, hex);
    return w > 0 && (size_t)w < cap ? 0 : KZ_ELIMIT;
}

/* Is dir the user's own directory, which nobody else can write to? A database from a folder
 * others can write would run whatever they put there. */
static int own_dir(const char *dir) {
    struct stat st;
    return !lstat(dir, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           !(st.st_mode & (S_IWGRP | S_IWOTH));
}

hs_database_t *dbcache_load(const char *dir, const struct kz_buf *key) {
    char path[4096];
    if (!dir || key->failed || !own_dir(dir) || file_path(dir, key, path, sizeof path)) return NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    hs_database_t *db = NULL;
    uint8_t *file = NULL;
    struct stat st;
    /* Only the user's own regular files, within the size bound, are read. */
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        st.st_size < (off_t)DBCACHE_HEADER || (uint64_t)st.st_size > DBCACHE_MAX_FILE)
        goto out;
    size_t n = (size_t)st.st_size, got = 0;
    if (!(file = kz_malloc(n))) goto out;
    while (got < n) {
        ssize_t r = read(fd, file + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) goto out;
        got += (size_t)r;
    }
    dbcache_parse(file, n, key->data, key->len, &db);
out:
    kz_free(file);
    close(fd);
    return db;
}

/* ---- writing ---- */

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return KZ_EIO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates dir (and its parent, for ~/.cache/kizuki) for the user alone when missing, then
 * accepts it only when it is the user's own (own_dir). */
static int usable_dir(const char *dir) {
    struct stat st;
    if (lstat(dir, &st) && errno == ENOENT) {
        char parent[4096];
        size_t n = strlen(dir);
        if (n >= sizeof parent) return 0;
        memcpy(parent, dir, n + 1);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            if (mkdir(parent, 0700) && errno != EEXIST) return 0;
        }
        if (mkdir(dir, 0700) && errno != EEXIST) return 0;
    }
    return own_dir(dir);
}

int dbcache_dir_usable(const char *dir) {
    return dir && *dir && usable_dir(dir);
}

void dbcache_store(const char *dir, const struct kz_buf *key, const hs_database_t *db) {
    char path[4096], tmp[4200];
    if (!dir || key->failed || key->len > UINT32_MAX || !usable_dir(dir) ||
        file_path(dir, key, path, sizeof path))
        return;
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) return;
    if (len == 0 || DBCACHE_HEADER + key->len + len > DBCACHE_MAX_FILE) goto out;
    uint8_t hdr[DBCACHE_HEADER];
    memcpy(hdr, DBCACHE_MAGIC, 8);
    put_u32(hdr + 8, DBCACHE_VERSION);
    put_u32(hdr + 12, (uint32_t)key->len);
    put_u64(hdr + 16, len);
    put_u32(hdr + 24, kz_crc32(kz_crc32(0, key->data, key->len), bytes, len));
    put_u32(hdr + 28, 0);
    int w = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (w <= 0 || (size_t)w >= sizeof tmp) goto out;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) goto out;
    int rc = write_all(fd, hdr, sizeof hdr);
    if (!rc) rc = write_all(fd, key->data, key->len);
    if (!rc) rc = write_all(fd, bytes, len);
    if (close(fd)) rc = KZ_EIO;
    /* A failed write leaves no file behind: the next run compiles and tries again. */
    if (rc || rename(tmp, path)) unlink(tmp);
out:
    free(bytes); /* Vectorscan's allocator */
}

int kz_sigma_cache_dir(char *out, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int w;
    if (xdg && xdg[0] == '/')
        w = snprintf(out, cap, "%s/kizuki", xdg);
    else if (home && home[0] == '/')
        w = snprintf(out, cap, "%s/.cache/kizuki", home);
    else
        return -1;
    return w > 0 && (size_t)w < cap ? 0 : -1;
}
