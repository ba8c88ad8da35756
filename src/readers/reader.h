/*
 * reader.h - streaming readers for embedding-matrix files, all with one shape.
 *
 *   emb_reader *r; emb_err err;
 *   if (emb_reader_open(EMB_READ_NPY, "wte.npy", NULL, &r, &err)) -> err.msg
 *   while ((rc = emb_reader_next(r, &id, &tok, &tok_len, &vec, &err)) == EMB_OK)
 *       use id, tok[0..tok_len) (NULL when the format has no tokens), vec[0..dim)
 *   rc == EMB_DONE at the end, negative on error (err.msg says what and where)
 *   emb_reader_free(r);
 *
 * Formats (kind):
 *   EMB_READ_TEXT        GloVe text (no header) or word2vec / fastText text
 *                        ("V D" first line), detected automatically
 *   EMB_READ_WORD2VEC    word2vec binary ("V D\n", token ' ' D x f32 LE)
 *   EMB_READ_NPY         numpy .npy v1-v3, 2-D, <f4 / <f2 / <f8, C or Fortran order
 *   EMB_READ_SAFETENSORS 2-D F32 / F16 / BF16 tensor named `tensor`; the path may
 *                        be a model.safetensors.index.json, whose weight_map
 *                        names the shard (a file next to the index)
 *   EMB_READ_GGUF        GGUF v1-v3 tensor `tensor` (default token_embd.weight),
 *                        F32 / F16 / BF16 and the ggml quants of ggml_quants.h,
 *                        tokens from tokenizer.ggml.tokens
 * token_id is the row number (0-based).  Memory: one row of floats plus the
 * read-only file mapping.  Pointers returned by next() are borrowed and valid
 * until the next call.  Errors read "<reader>: <file>: <what> (at byte N)" or
 * "(line N)", where <file> is the path's last component.
 */
#ifndef EMB_READER_H
#define EMB_READER_H

#include "core/emb.h"

#include <stddef.h>
#include <stdint.h>

enum {
    EMB_READ_TEXT = 1,
    EMB_READ_WORD2VEC,
    EMB_READ_NPY,
    EMB_READ_SAFETENSORS,
    EMB_READ_GGUF,
    EMB_READ_RANDOM /* only through emb_random_open */
};

typedef struct emb_reader emb_reader;

/* Open the file at `path` as `kind`.  `tensor` names the tensor for
 * safetensors (required) and GGUF (NULL = token_embd.weight); others ignore
 * it.  GGUF and safetensors read the header and the bytes up to the end of
 * the tensor; text, word2vec and npy go through the file once holding a
 * window of EMB_RD_WINDOW bytes (more for a longer line, row or header;
 * all of a Fortran-order npy), so a file cut short while it is read gives
 * "file shrank while being read" when the reader reaches the cut. */
#define EMB_RD_WINDOW ((size_t)1 << 20)
int emb_reader_open(int kind, const char *path, const char *tensor, emb_reader **out,
                    emb_err *err);

/* Same over bytes in memory (borrowed; must outlive the reader).  `label`
 * names the data in messages. */
int emb_reader_open_mem(int kind, const void *bytes, size_t n, const char *label,
                        const char *tensor, emb_reader **out, emb_err *err);

/* Next row: EMB_OK (outputs set), EMB_DONE, or a negative error.  After an
 * error or EMB_DONE, further calls return the same status. */
int emb_reader_next(emb_reader *r, int64_t *token_id, const char **token, size_t *token_len,
                    const float **vec, emb_err *err);

/* Take the token column from a vocabulary file instead: tokenizer.json
 * (Hugging Face: model.vocab of BPE / WordPiece / WordLevel / Unigram, plus
 * added_tokens), vocab.json ({piece: id}) or vocab.txt (one piece per line,
 * id = line number).  Row i gets the piece with id i, exactly as the file
 * has it (byte-level "Ġhello" stays so), NULL when no piece has that id; an
 * id at or past the matrix's row count is an error.  Call before the first
 * next().  Errors: "tokens: <file>: ...". */
int emb_reader_set_tokens(emb_reader *r, const char *path, emb_err *err);

size_t emb_reader_dim(const emb_reader *r);
/* Number of rows if the format states it (header, shape), else -1. */
int64_t emb_reader_rows(const emb_reader *r);
void emb_reader_free(emb_reader *r);

/* Short name of a kind for messages: "text", "word2vec", "npy", ... */
const char *emb_reader_kind_name(int kind);

/* emb_random: `rows` rows of `dim` values drawn from N(0, std^2), from a
 * xoshiro256** generator seeded through splitmix64 with `seed`, turned into
 * normals by the Marsaglia polar method.  Pure integer and IEEE double
 * arithmetic: the same seed gives the same rows on every machine.  Each
 * value is (float)(std * z).  Errors: "random: ..." */
#define EMB_RANDOM_DEFAULT_SEED 42
/* Bounds (emb_random is innocuous: a view may call it): as many rows as an
 * embedding table has token ids (0 .. 16777215), and at most 2^31 values
 * in all (8 GiB of float32, seconds to generate, not hours). */
#define EMB_RANDOM_MAX_ROWS ((int64_t)16777216)
#define EMB_RANDOM_MAX_VALUES ((int64_t)1 << 31)
int emb_random_open(int64_t rows, int64_t dim, uint64_t seed, double std, emb_reader **out,
                    emb_err *err);

#endif
