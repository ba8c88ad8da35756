#include "reader_impl.h"
int emb_npy_open(emb_reader *r, const char *tensor, emb_err *err)
{
    (void)tensor;
    return emb_rd_err(r, err, EMB_EUNSUP, "not implemented yet");
}
