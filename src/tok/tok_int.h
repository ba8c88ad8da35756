/*
 * tok_int.h - internals shared by the src/tok files (not a public header):
 *   gguf_vocab.c  GGUF metadata -> emb_tok (and the tokenizer-only blob)
 *   tok.c         accessors, decode, encode dispatch, free
 *   tok_spm.c     SentencePiece-style encode ("llama")
 *   tok_bpe.c     byte-level BPE encode ("gpt2") and GPT-2's pre-tokenizer
 *   ucat.h        generated Unicode category ranges (gen_ucat.mjs)
 */
#ifndef EMB_TOK_INT_H
#define EMB_TOK_INT_H

#include "tok/tok.h"
#include "lm/vocab.h"

/* One BPE merge: left and right token ids -> merged id, with its rank. */
typedef struct emb_tok_pair {
    uint64_t key;  /* (left << 32 | right) + 1; 0 = empty slot */
    int32_t rank;
    int32_t id;
} emb_tok_pair;

struct emb_tok {
    int kind;                 /* EMB_TOK_SPM / EMB_TOK_BPE */
    size_t n_tokens;
    char *pool;               /* token texts, each NUL-terminated */
    size_t *off;              /* n_tokens: offset of each text in pool */
    uint32_t *len;            /* n_tokens: bytes of each text */
    float *score;             /* n_tokens (0 when the file has none) */
    uint8_t *type;            /* n_tokens, EMB_TT_* */
    emb_vocab *map;           /* text -> id (the last id wins, as in llama.cpp) */
    int32_t bos, eos, unk;    /* -1 = none */
    int add_bos, add_eos, add_space_prefix;
    int32_t byte_tok[256];    /* SPM: <0xNN> token of each byte; BPE: token of
                                 each byte's one-character text; -1 = none */
    emb_tok_pair *pairs;      /* BPE merges, open addressing */
    size_t pair_cap;          /* power of two (0 for SPM) */
};

/* Append one id to a growing array; EMB_ERANGE past max. */
typedef struct emb_tok_out {
    int32_t *ids;
    size_t n, cap, max;
} emb_tok_out;
int emb_tok_out_push(emb_tok_out *o, int32_t id, emb_err *err);

int emb_tok_spm_encode(const emb_tok *t, const char *text, size_t n, emb_tok_out *o,
                       emb_err *err);
int emb_tok_bpe_encode(const emb_tok *t, const char *text, size_t n, emb_tok_out *o,
                       emb_err *err);
/* Merge lookup (BPE): the pair's slot or NULL. */
const emb_tok_pair *emb_tok_pair_find(const emb_tok *t, int32_t left, int32_t right);

/* GPT-2 byte-level map: the code point that stands for byte b, and back
 * (-1 for a code point that stands for no byte). */
uint32_t emb_tok_byte_to_cp(uint8_t b);
int emb_tok_cp_to_byte(uint32_t cp);

/* Length of the UTF-8 sequence that starts with byte c, as llama.cpp counts
 * it from the lead byte alone (1 for continuation bytes). */
static inline size_t emb_tok_utf8_len(unsigned char c)
{
    static const uint8_t lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[c >> 4];
}

#endif
