/* cli.c - shared command-line helpers; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void kz_cli_init(struct kz_cli *c, const char *command) {
    memset(c, 0, sizeof *c);
    c->command = command;
    int tty = isatty(2);
    c->progress = tty;
    c->color = tty && !getenv("NO_COLOR");
    c->progress_last = -1;
}

double kz_cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kz_cli_progress_clear(struct kz_cli *c) {
    if (c->progress && c->progress_last >= 0) {
        fputs("\r\033[K", stderr);
        c->progress_last = -1;
    }
}

static void vmsg(struct kz_cli *c, const char *kind, const char *color, const char *fmt,
                 va_list ap) {
    kz_cli_progress_clear(c);
    if (c->color) fprintf(stderr, "\033[%sm", color);
    fprintf(stderr, "kizuki %s: %s", c->command, kind);
    if (c->color) fputs("\033[0m", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void kz_cli_error(struct kz_cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, "error: ", "1;31", fmt, ap);
    va_end(ap);
}

void kz_cli_warn(struct kz_cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, "warning: ", "33", fmt, ap);
    va_end(ap);
}

void kz_cli_progress(struct kz_cli *c, uint64_t done, uint64_t total, uint64_t records) {
    if (!c->progress || c->quiet) return;
    double now = kz_cli_now();
    if (c->progress_last >= 0 && now - c->progress_last < 0.25) return;
    c->progress_last = now;
    double pct = total ? 100.0 * (double)done / (double)total : 0;
    fprintf(stderr, "\r\033[K%s: %5.1f%%  %.1f / %.1f MB  %llu records", c->command, pct,
            (double)done / 1e6, (double)total / 1e6, (unsigned long long)records);
}

int kz_cli_flag(const char *arg, const char *name) {
    return !strcmp(arg, name);
}

int kz_cli_opt(struct kz_cli *c, int argc, char **argv, int *i, const char *name, const char **val,
               int *bad) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n)) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n]) return 0;
    if (*i + 1 >= argc) {
        kz_cli_error(c, "%s needs a value (see kizuki %s --help)", name, c->command);
        *bad = 1;
        return 1;
    }
    *val = argv[++*i];
    return 1;
}

int kz_cli_int(struct kz_cli *c, const char *name, const char *val, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < min || v > max) {
        kz_cli_error(c, "%s: '%s' is not a number from %ld to %ld", name, val, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

void kz_cli_print_version(void) {
    printf("kizuki %s\n", KZ_VERSION);
}

int kz_cli_common(struct kz_cli *c, const char *arg, const char *help) {
    if (kz_cli_flag(arg, "--help") || kz_cli_flag(arg, "-h")) {
        fputs(help, stdout);
        return KZ_CLI_DONE;
    }
    if (kz_cli_flag(arg, "--version")) {
        kz_cli_print_version();
        return KZ_CLI_DONE;
    }
    if (kz_cli_flag(arg, "--quiet") || kz_cli_flag(arg, "-q")) {
        c->quiet = 1;
        return KZ_CLI_HANDLED;
    }
    return KZ_CLI_NOT_COMMON;
}
