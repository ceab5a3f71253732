/* embedded.h - data files compiled into the binary (cmake/embed.cmake): the Sigma logsource mapping
 * (data/logsource.yml) and kizuki's own rules (every .yml under rules/).
 *
 * Why embedded: `kizuki` is one file a responder copies onto an analysis machine; its defaults must
 * not depend on where it was installed. The files stay plain data in the repository. */
#ifndef KZ_EMBEDDED_H
#define KZ_EMBEDDED_H

#include <stddef.h>

struct kz_embedded_file {
    const char *path; /* relative to the repository root, e.g. "rules/windows/x.yml" */
    const char *data; /* the bytes, followed by a NUL */
    size_t len;       /* bytes, without the NUL */
};

/* The files in path order, ended by an entry whose path is NULL. */
extern const struct kz_embedded_file kz_embedded_files[];
extern const unsigned kz_embedded_count;

/* The embedded file at path, or NULL. */
const struct kz_embedded_file *kz_embedded_find(const char *path);

#endif
