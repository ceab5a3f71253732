/* fuzz_auditd.c - libFuzzer target: Linux audit records, decoded one by one (kz_auditd_parse) and,
 * through the reader's sequential mode, assembled into events (interleaved records, EOE, the
 * open-event table's bounds, the flush at the end of the file). The checks are fuzz_text.h's,
 * shared by every text-log target. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_text_format(data, size, KZ_FMT_AUDITD);
}
