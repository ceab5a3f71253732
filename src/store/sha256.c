/* sha256.c - SHA-256 through libcrypto's EVP interface; see sha256.h for why. */
#include "sha256.h"

#include "../core/error.h"

#include <openssl/evp.h>

int kz_sha256_init(struct kz_sha256 *h) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    h->md = c;
    if (!c) return KZ_ENOMEM;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        h->md = NULL;
        return KZ_ENOMEM;
    }
    return 0;
}

void kz_sha256_update(struct kz_sha256 *h, const void *data, size_t len) {
    if (h->md && len) EVP_DigestUpdate(h->md, data, len);
}

int kz_sha256_final_hex(struct kz_sha256 *h, char hex[KZ_SHA256_HEX]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hex[0] = 0;
    if (!h->md) return KZ_ENOMEM;
    int ok = EVP_DigestFinal_ex(h->md, d, &n) == 1 && n == KZ_SHA256_LEN;
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
    if (!ok) return KZ_ENOMEM;
    for (unsigned i = 0; i < KZ_SHA256_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * KZ_SHA256_LEN] = 0;
    return 0;
}

int kz_sha256_hex(const void *data, size_t len, char hex[KZ_SHA256_HEX]) {
    struct kz_sha256 h;
    int rc = kz_sha256_init(&h);
    if (rc) {
        hex[0] = 0;
        return rc;
    }
    kz_sha256_update(&h, data, len);
    return kz_sha256_final_hex(&h, hex);
}
