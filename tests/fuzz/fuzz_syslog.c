/* fuzz_syslog.c - libFuzzer target: syslog lines (RFC 3164 and 5424 headers; sshd, sudo and su
 * messages; Sysmon for Linux event XML; Samba vfs_full_audit). The checks are fuzz_text.h's,
 * shared by every text-log target. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_text_format(data, size, KZ_FMT_SYSLOG);
}
