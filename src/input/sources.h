/* sources.h - turns the paths a user gives into the list of input files, each with its format.
 *
 * Folders are walked recursively in name order (so runs are reproducible); the format of each file
 * is told by its content, not its name. A file named on the command line in a format kizuki cannot
 * read is an error; such a file met while walking a folder is skipped and counted. Ownership: the
 * list owns its strings; kz_sources_free frees them. */
#ifndef KZ_SOURCES_H
#define KZ_SOURCES_H

#include "../core/error.h"
#include "../core/event.h"

#include <stdint.h>

struct kz_source {
    char *path;
    uint64_t size;
    uint8_t format; /* enum kz_format */
};

struct kz_sources {
    struct kz_source *v;
    uint32_t n, cap;
    uint32_t skipped; /* files in folders in no supported format */
    uint32_t errors;  /* paths that could not be read or are in no supported format */
    uint64_t bytes;   /* total size of v[] */
};

#define KZ_SOURCES_MAX_DEPTH 64 /* folder nesting; deeper folders are reported and skipped */

/* Adds path (a file or a folder). Problems are reported through report(ctx, message) and counted in
 * errors; returns 0 or KZ_ENOMEM. */
int kz_sources_add(struct kz_sources *s, const char *path,
                   void (*report)(void *ctx, const char *msg), void *ctx);
void kz_sources_free(struct kz_sources *s);
/* Detects the format from the first bytes of a file (gzip: of what it holds). */
uint8_t kz_sources_sniff(const uint8_t *p, size_t n);
/* "evtx", "jsonl", "accesslog", "fortigate" (the `format` of findings and dump), or "unknown". */
const char *kz_sources_format_name(uint8_t format);

#endif
