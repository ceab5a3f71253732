/* fuzz_zip.c - libFuzzer target: kizuki's own zip reader (src/input/archive.c).
 *
 * Why: a zip archive handed to kizuki scan may be built by an attacker (a zip bomb, a central
 * directory pointing outside the file, lying sizes, zip64 records). The input is written to a file,
 * its directory listed, and every member read to the end through the bounded stream, which must
 * stop at the member's declared size and the ratio cap; the zstd stream reader gets the same bytes.
 * Each member is also read as what it holds (kz_zip_open_member_plain: a .gz or .zst member
 * decompressed, bounded end to end by the ratio against the archive's bytes) and, for the first
 * few, copied out as the EVTX reader does (kz_zip_extract by ARCHIVE/MEMBER path, with a small
 * limit that must hold).
 */
#include "core/alloc.h"
#include "input/archive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

static void drain(struct kz_instream *in, uint64_t cap) {
    static char buf[65536];
    const char *why;
    uint64_t total = 0;
    ssize_t k;
    while ((k = kz_instream_read(in, buf, sizeof buf, &why)) > 0) {
        total += (uint64_t)k;
        if (total > cap) abort(); /* past the bounds archive.h promises */
    }
    if (k < 0 && !why) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    char path[] = "/tmp/kz_fuzz_zip_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        struct kz_zip_member *v;
        uint32_t n;
        const char *why;
        if (kz_zip_list(fd, size, &v, &n, &why) == 0) {
            for (uint32_t i = 0; i < n; i++) {
                if (!v[i].name || strlen(v[i].name) > KZ_ZIP_MAX_NAME) abort();
                struct kz_instream *in = kz_zip_open_member(fd, &v[i], &why);
                if (in) drain(in, v[i].usize);
                kz_instream_close(in);
                /* a compressed member's output is bounded by the ratio over the whole archive */
                in = kz_zip_open_member_plain(fd, &v[i], &why);
                if (in)
                    drain(in, KZ_ARCHIVE_FREE_BYTES + (uint64_t)KZ_ARCHIVE_MAX_RATIO * size +
                                  v[i].usize + 65536);
                kz_instream_close(in);
                if (i < 4 && !strchr(v[i].name, '/') && v[i].name[0] && v[i].name[0] != '.') {
                    char member[sizeof path + KZ_ZIP_MAX_NAME + 2];
                    snprintf(member, sizeof member, "%s/%s", path, v[i].name);
                    uint64_t limit = 1 << 16;
                    int x = kz_zip_extract(member, limit, &why);
                    if (x >= 0) {
                        struct stat sb;
                        if (fstat(x, &sb) || (uint64_t)sb.st_size > limit) abort();
                        close(x);
                    } else if (!why) {
                        abort();
                    }
                }
            }
            kz_zip_free_list(v, n);
        }
        int fd2 = dup(fd);
        if (fd2 >= 0 && lseek(fd2, 0, SEEK_SET) == 0) {
            struct kz_instream *z = kz_zstd_open(fd2);
            if (z) drain(z, KZ_ARCHIVE_FREE_BYTES + (uint64_t)KZ_ARCHIVE_MAX_RATIO * size + 65536);
            if (z) kz_instream_close(z);
            else close(fd2);
        } else if (fd2 >= 0) {
            close(fd2);
        }
        uint8_t head[4096];
        kz_zstd_head(data, size, head, sizeof head);
    }
    close(fd);
    unlink(path);
    return 0;
}
