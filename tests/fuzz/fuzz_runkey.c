/* fuzz_runkey.c - libFuzzer target: the input is a process's command line (or program path).
 *
 * Why: ingest reads every 4688 and Sysmon 1 command line, which the attacker writes, looking for a
 * program or script run from a share (store.h, kz_store_unc_run / kz_store_run_key). Each input is
 * searched as text; a path found must lie inside it, start with two backslashes and come with its
 * own key (the one kz_store_run_key gives it), and the key must be uppercased and no longer than
 * the path. The raw bytes are also keyed as one path (any length, no terminator). */
#include "store/store.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char key[KZ_STORE_NAME_MAX], srv[256], found[KZ_STORE_NAME_MAX], found_srv[256];
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    size_t len = strlen(text), n = 0;
    const char *p = kz_store_unc_run(text, &n, found, sizeof found, found_srv, sizeof found_srv);
    if (p) {
        if (p < text || p + n > text + len || n < 2 || p[0] != '\\' || p[1] != '\\') abort();
        /* the key given with the path is the path's own key */
        if (!kz_store_run_key(p, n, key, sizeof key, srv, sizeof srv)) abort();
        if (strcmp(key, found) || strcmp(srv, found_srv)) abort();
        size_t k = strlen(key);
        if (k == 0 || k >= n) abort();
        for (size_t i = 0; i < k; i++)
            if (islower((unsigned char)key[i]) || key[i] == '/') abort();
        if (strlen(srv) >= sizeof srv) abort();
    }
    if (kz_store_run_key((const char *)data, size, key, sizeof key, srv, sizeof srv) &&
        strlen(key) >= size)
        abort();
    /* a small key buffer must not be overrun: the key is refused instead */
    char small[8];
    if (kz_store_run_key((const char *)data, size, small, sizeof small, srv, 4) &&
        strlen(small) >= sizeof small)
        abort();
    free(text);
    return 0;
}
