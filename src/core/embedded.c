/* embedded.c - lookup in the table cmake/embed_gen.cmake generates. */
#include "embedded.h"

#include <string.h>

const struct kz_embedded_file *kz_embedded_find(const char *path) {
    for (unsigned i = 0; i < kz_embedded_count; i++)
        if (!strcmp(kz_embedded_files[i].path, path)) return &kz_embedded_files[i];
    return NULL;
}
