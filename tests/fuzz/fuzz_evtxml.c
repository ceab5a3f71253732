/* fuzz_evtxml.c - libFuzzer target: Windows event XML (events on one line or many, gathered and tokenized).
 * The checks are fuzz_text.h's, shared by every text-log target. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_text_format(data, size, KZ_FMT_EVTXML);
}
