/* fuzz_tar.c - libFuzzer target: kizuki's own tar reader (src/input/archive.c, kz_tar_*).
 *
 * Why: a .tar (or .tar.gz / .tar.zst) handed to kizuki scan may be built by an attacker: lying
 * sizes, bad checksums, long-name and pax entries that never end, names without NUL. The input is
 * written to a file and walked member by member (each read to its end, or partly, in turn), as
 * sources.c lists and sniffs members; then the first members are opened again by path, as the
 * text reader opens ARCHIVE/MEMBER. Checks: names are NUL-terminated and at most
 * KZ_ZIP_MAX_NAME bytes, a member yields at most its declared size, the members of a plain tar
 * together never yield more than the file holds, and an error always says why.
 */
#include "core/alloc.h"
#include "input/archive.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    char path[] = "/tmp/kz_fuzz_tar_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        const char *why = NULL;
        struct kz_tar *t = kz_tar_open(fd, size, &why);
        if (!t && !why) abort();
        int plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b) &&
                    !(size >= 4 && data[0] == 0x28 && data[1] == 0xB5);
        uint64_t total = 0, msize;
        char names[4][KZ_ZIP_MAX_NAME + 1];
        int nnames = 0, rc, i = 0;
        static char buf[65536];
        while (t && (rc = kz_tar_next(t, &msize, &why)) == 1) {
            const char *name = kz_tar_name(t);
            if (strnlen(name, KZ_ZIP_MAX_NAME + 1) > KZ_ZIP_MAX_NAME) abort();
            if (nnames < 4 && name[0] && !strstr(name, "//") && name[0] != '/')
                memcpy(names[nnames++], name, strlen(name) + 1);
            uint64_t got = 0;
            ssize_t k;
            size_t want =
                (i++ % 3 == 0) ? 7 : sizeof buf; /* sometimes a member is left part-read */
            while ((k = kz_tar_read(t, buf, want, &why)) > 0) {
                got += (uint64_t)k;
                if (want == 7) break;
            }
            if (k < 0 && !why) abort();
            if (got > msize) abort();
            total += got;
            if (plain && total > size) abort();
        }
        if (t && rc < 0 && !why) abort();
        kz_tar_close(t);
        for (int n = 0; n < nnames; n++) {
            char member[sizeof path + KZ_ZIP_MAX_NAME + 2];
            snprintf(member, sizeof member, "%s/%s", path, names[n]);
            struct kz_instream *in = kz_zip_open_path(member, &why);
            if (!in) continue;
            ssize_t k;
            uint64_t got = 0;
            while ((k = kz_instream_read(in, buf, sizeof buf, &why)) > 0)
                got += (uint64_t)k;
            if (plain && got > size) abort();
            kz_instream_close(in);
        }
    }
    close(fd);
    unlink(path);
    return 0;
}
