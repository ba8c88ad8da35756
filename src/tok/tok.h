/*
 * tok.h - the model's own tokenizer: text -> token ids -> text, as the
 * model file describes it (GGUF tokenizer.ggml.* metadata, or a Hugging Face
 * tokenizer.json).
 *
 * From GGUF, two kinds, chosen by tokenizer.ggml.model:
 *   "llama"  SentencePiece-style: the text (with a leading space when
 *            add_space_prefix, the default) has its spaces replaced by U+2581
 *            "▁", is cut into UTF-8 characters, and adjacent pieces are merged
 *            highest score first (ties: leftmost) while the concatenation is a
 *            token; a piece that is no token becomes its bytes' <0xNN> tokens.
 *   "gpt2"   byte-level BPE: the text is split by GPT-2's pre-tokenizer
 *            pattern ('s 't 're 've 'm 'll 'd, ` ?letters`, ` ?digits`,
 *            ` ?other`, whitespace runs), each chunk's bytes start as one
 *            symbol each (GPT-2's byte<->unicode map gives the token text), and
 *            adjacent symbols are merged lowest merge rank first (ties:
 *            leftmost).  pre = "gpt2" (or absent) is supported; any other pre
 *            variant is rejected at load (EMB_EUNSUP) rather than tokenized
 *            differently from the model's own runtime.
 * From a Hugging Face tokenizer.json (hf_json.c):
 *   BPE with the ByteLevel pre-tokenizer: as "gpt2" above.
 *   BPE over characters ("bpe"; LLaMA-style files: Replace " " -> "▁" with
 *            Prepend "▁", or Metaspace): spaces become "▁", a "▁" goes in
 *            front as the file says, each character starts as its token (or
 *            its bytes' <0xNN> tokens with byte_fallback, or the unknown
 *            token), and pairs merge lowest merge rank first (ties:
 *            leftmost), as tokenizers' BPE model does.
 * BOS (and EOS) are added as tokenizer.ggml.add_bos_token / add_eos_token say
 * (defaults: "llama" BOS yes, "gpt2" BOS no) or as a tokenizer.json's
 * TemplateProcessing says, unless the caller overrides.
 * Control tokens in the text are not parsed (text is text).
 *
 * Decoding: control and unused tokens give nothing, <0xNN> byte tokens give
 * their byte, "▁" gives a space ("llama"; the first token's leading space is
 * removed when add_space_prefix), byte-level text maps back to bytes
 * ("gpt2"), and the unknown token gives U+2585 "▅" ("llama") as llama.cpp does.
 * "bpe" decodes like "llama" (the first space dropped when the decoder
 * strips it; special added tokens are control tokens).
 *
 * Speed, same ids: words (SentencePiece segments, pre-tokenizer chunks) are
 * merged independently, so emb_tok_encode_cached can remember them.
 *
 * The tokenizer keeps no pointer into the bytes it was loaded from.  It is
 * read-only after load: encode/decode may run from several threads.
 */
#ifndef EMB_TOK_H
#define EMB_TOK_H

#include "core/emb.h"

#include <stddef.h>
#include <stdint.h>

/* Largest number of tokens one encode call may produce. */
#define EMB_TOK_MAX_TOKENS 1048576
/* Largest vocabulary accepted from a file. */
#define EMB_TOK_MAX_VOCAB 4194304

enum { EMB_TOK_SPM = 1, EMB_TOK_BPE = 2, EMB_TOK_CBPE = 3 };
enum { EMB_TOK_FMT_GGUF = 1, EMB_TOK_FMT_HF = 2 };

/* GGUF token types (tokenizer.ggml.token_type). */
enum {
    EMB_TT_NORMAL = 1,
    EMB_TT_UNKNOWN = 2,
    EMB_TT_CONTROL = 3,
    EMB_TT_USER = 4,
    EMB_TT_UNUSED = 5,
    EMB_TT_BYTE = 6
};

typedef struct emb_tok emb_tok;

/* Load a tokenizer from bytes: a GGUF file (or blob, below) or a Hugging
 * Face tokenizer.json (hf_json.c says which kinds), told apart by content.
 * Errors as below; EMB_EFORMAT for anything else. */
int emb_tok_load(const uint8_t *data, size_t n, emb_tok **out, emb_err *err);

/* Load the tokenizer from GGUF bytes (a whole model file, or a blob made by
 * emb_tok_gguf_extract).  Errors: EMB_EFORMAT (malformed), EMB_ENOTFOUND (no
 * tokenizer.ggml.model / tokens), EMB_EUNSUP (another model or pre kind). */
int emb_tok_load_gguf(const uint8_t *data, size_t n, emb_tok **out, emb_err *err);

/* The tokenizer part of a GGUF file: a GGUF (same version) with no tensors
 * and only the tokenizer.ggml.* metadata, copied byte for byte; *blob is
 * emb_malloc'd (emb_free()).  emb_tok_load_gguf reads it like the whole file. */
int emb_tok_gguf_extract(const uint8_t *data, size_t n, uint8_t **blob, size_t *blob_n,
                         emb_err *err);

void emb_tok_free(emb_tok *t);

int emb_tok_kind(const emb_tok *t);         /* EMB_TOK_SPM, _BPE or _CBPE */
int emb_tok_format(const emb_tok *t);       /* EMB_TOK_FMT_GGUF or _HF */
/* "llama" (SPM), "gpt2" (byte-level BPE) or "bpe" (character BPE). */
const char *emb_tok_model(const emb_tok *t);
size_t emb_tok_n_tokens(const emb_tok *t);
int32_t emb_tok_bos(const emb_tok *t);      /* -1 when none */
int32_t emb_tok_eos(const emb_tok *t);
int emb_tok_add_bos(const emb_tok *t);      /* the file's default, 0 or 1 */
/* Token text as stored in the vocabulary (borrowed), or NULL if id is out
 * of range. */
const char *emb_tok_piece(const emb_tok *t, int32_t id, size_t *n);

/* Encode text[0..n) (any bytes; invalid UTF-8 is kept as single bytes).
 * add_bos / add_eos: 0, 1, or -1 for the file's setting.  *ids is malloc'd
 * (emb_free()), *n_ids may be 0.  More than max_tokens tokens (capped at
 * EMB_TOK_MAX_TOKENS) is EMB_ERANGE. */
int emb_tok_encode(const emb_tok *t, const char *text, size_t n, int add_bos, int add_eos,
                   size_t max_tokens, int32_t **ids, size_t *n_ids, emb_err *err);

/* A word cache for emb_tok_encode_cached: speeds up encoding text whose
 * words repeat (about 350 KB; NULL when out of memory).  A cache is used
 * by one thread at a time and belongs to the tokenizer it is first used
 * with (passing another one empties it); free it when freeing that
 * tokenizer, since a new tokenizer at the same address would find the old
 * words.  _free(NULL) is fine. */
typedef struct emb_tok_cache emb_tok_cache;
emb_tok_cache *emb_tok_cache_new(void);
void emb_tok_cache_free(emb_tok_cache *c);
/* emb_tok_encode with a cache (NULL: none); same ids. */
int emb_tok_encode_cached(const emb_tok *t, emb_tok_cache *c, const char *text, size_t n,
                          int add_bos, int add_eos, size_t max_tokens, int32_t **ids,
                          size_t *n_ids, emb_err *err);

/* Decode ids into *text (malloc'd, NUL-terminated, *n_text bytes).  An id
 * outside 0..n_tokens-1 is EMB_ERANGE naming its position. */
int emb_tok_decode(const emb_tok *t, const int32_t *ids, size_t n_ids, char **text,
                   size_t *n_text, emb_err *err);

#endif
