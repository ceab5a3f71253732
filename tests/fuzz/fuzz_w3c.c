/* fuzz_w3c.c - libFuzzer target: IIS W3C extended log lines (a #Fields directive, then data lines; read sequentially).
 * The checks are fuzz_text.h's, shared by every text-log target. */
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_text_format(data, size, KZ_FMT_W3C);
}
