/* read_formats.h - one opener per file format (read_*.c), called by the
 * dispatch in reader.c.  See read_common.h for what an opener must do. */
#ifndef EMB_READ_FORMATS_H
#define EMB_READ_FORMATS_H
#include "readers/read_common.h"

int emb_text_open(emb_reader *r, const char *tensor, emb_err *err);
int emb_word2vec_open(emb_reader *r, const char *tensor, emb_err *err);
int emb_npy_open(emb_reader *r, const char *tensor, emb_err *err);
int emb_safetensors_open(emb_reader *r, const char *tensor, emb_err *err);
/* Sharded safetensors: is this data an index (model.safetensors.index.json)
 * rather than a safetensors file?  And the path of the shard that holds
 * `tensor` (relative to the index's folder), written to out[cap]. */
int emb_safetensors_is_index(const uint8_t *data, size_t n);
int emb_safetensors_shard(emb_reader *r, const char *index_path, const char *tensor, char *out,
                          size_t cap, emb_err *err);
int emb_gguf_open(emb_reader *r, const char *tensor, emb_err *err);

#endif
