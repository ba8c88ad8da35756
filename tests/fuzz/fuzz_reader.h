/*
 * fuzz_reader.h - the body shared by the libFuzzer targets fuzz_<reader>.c:
 * open the input bytes as one reader kind (emb_reader_open_mem, no files)
 * and read every row, touching every value and token byte so that ASan sees
 * any out-of-bounds pointer.  Any status is fine; crashes, leaks, hangs and
 * undefined behaviour are not.
 */
#ifndef EMB_FUZZ_READER_H
#define EMB_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

#include "readers/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_reader(int kind, const uint8_t *data, size_t size, const char *tensor)
{
    emb_reader *r;
    emb_err err;
    if (emb_reader_open_mem(kind, data, size, "fuzz", tensor, &r, &err) != EMB_OK)
        return 0;
    int64_t id;
    const char *tok;
    size_t len, dim = emb_reader_dim(r);
    const float *vec;
    volatile float sink = 0;
    int rows = 0;
    while (emb_reader_next(r, &id, &tok, &len, &vec, &err) == EMB_OK && rows++ < 100000) {
        for (size_t i = 0; i < dim; i++)
            sink += vec[i];
        for (size_t i = 0; i < len; i++)
            sink += (float)(unsigned char)tok[i];
    }
    (void)sink;
    emb_reader_free(r);
    return 0;
}

#endif
