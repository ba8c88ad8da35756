/* fuzz_safetensors.c - libFuzzer target for the safetensors reader (see fuzz_reader.h, run.sh).
 * The tensor asked for is "w"; the seeds name their tensors "w" (and others). */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(EMB_READ_SAFETENSORS, data, size, "w");
}
