/* fuzz_text.c - libFuzzer target for the text reader (see fuzz_reader.h, run.sh). */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(EMB_READ_TEXT, data, size, NULL);
}
