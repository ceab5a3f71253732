/* sha256.h - SHA-256 (FIPS 180-4) for the evidence store: file digests and the batch hash chain.
 *
 * A thin wrapper over OpenSSL's libcrypto (Debian: libssl-dev). Why a library and not our own
 * code: the store hashes every byte it ingests, and libcrypto uses the CPU's SHA extensions
 * (about 1.7 GB/s on the development VM against roughly 0.2 GB/s for portable C), so hashing
 * stays well under the ingest budget; and a digest used as evidence is better computed by
 * the implementation every examiner already trusts. The test vectors of FIPS 180-2 appendix B
 * (tests/unit/test_store.c) pin the wrapper down. Ownership: the context is a plain value owned
 * by the caller; kz_sha256_final releases what libcrypto holds. */
#ifndef KZ_SHA256_H
#define KZ_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KZ_SHA256_LEN 32
#define KZ_SHA256_HEX 65 /* 64 hex digits and a NUL */

struct kz_sha256 {
    void *md; /* EVP_MD_CTX; NULL after a failed init (final then reports it) */
};

/* Starts a digest; returns 0 or KZ_ENOMEM. */
int kz_sha256_init(struct kz_sha256 *h);
void kz_sha256_update(struct kz_sha256 *h, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits and a NUL; frees the context. Returns 0 or
 * KZ_ENOMEM when init had failed. */
int kz_sha256_final_hex(struct kz_sha256 *h, char hex[KZ_SHA256_HEX]);
/* One call: the hex digest of data[0..len). */
int kz_sha256_hex(const void *data, size_t len, char hex[KZ_SHA256_HEX]);

#endif
