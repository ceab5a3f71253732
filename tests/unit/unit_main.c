/* unit_main.c - runs every registered unit test (or those whose name contains argv[1]). */
#include "unit.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct kz_test *head, **tail = &head;
static int cur_failed, cur_skipped;
static const char *cur_name;

void kz_test_register(struct kz_test *t) {
    *tail = t;
    tail = &t->next;
}

void kz_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stdout, "FAIL %s (%s:%d): ", cur_name, file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    cur_failed = 1;
}

void kz_test_skip(const char *why) {
    printf("SKIP %s: %s\n", cur_name, why);
    cur_skipped = 1;
}

const char *kz_test_shared(void) {
    static char path[4096];
    const char *env = getenv("KZ_SHARED_DATA");
    const char *cands[] = {env, "../shared/data", "../../shared/data", "../../../shared/data"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        struct stat sb;
        if (cands[i] && !stat(cands[i], &sb) && S_ISDIR(sb.st_mode)) {
            snprintf(path, sizeof path, "%s", cands[i]);
            return path;
        }
    }
    return NULL;
}

unsigned char *kz_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n >= 0 ? kz_malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        kz_free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    for (struct kz_test *t = head; t; t = t->next) {
        if (argc > 1 && !strstr(t->name, argv[1])) continue;
        cur_name = t->name;
        cur_failed = cur_skipped = 0;
        t->fn();
        kz_alloc_fail_never();
        if (cur_failed)
            failed++;
        else if (cur_skipped)
            skipped++;
        else
            passed++;
    }
    printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

char *kz_test_temp_file(const char *tag, const void *data, size_t n) {
    char *path = kz_malloc(96);
    if (!path) return NULL;
    snprintf(path, 96, "/tmp/kz_%.40s_XXXXXX", tag);
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n) {
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        kz_free(path);
        return NULL;
    }
    close(fd);
    return path;
}
