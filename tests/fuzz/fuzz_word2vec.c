/* fuzz_word2vec.c - libFuzzer target for the word2vec reader (see fuzz_reader.h, run.sh). */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(EMB_READ_WORD2VEC, data, size, NULL);
}
