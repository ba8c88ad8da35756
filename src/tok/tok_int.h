/*
 * tok_int.h - internals shared by the src/tok files (not a public header):
 *   gguf_vocab.c  GGUF metadata -> emb_tok (and the tokenizer-only blob)
 *   tok.c         accessors, decode, encode dispatch, free
 *   tok_spm.c     SentencePiece-style encode ("llama")
 *   tok_bpe.c     byte-level BPE encode ("gpt2") and GPT-2's pre-tokenizer,
 *                 character BPE with byte fallback (tokenizer.json, llama-style)
 *   hf_json.c     Hugging Face tokenizer.json -> emb_tok
 *   ucat.h        generated Unicode category ranges (gen_ucat.mjs)
 */
#ifndef EMB_TOK_INT_H
#define EMB_TOK_INT_H

#include "tok/tok.h"
#include "core/alloc.h"
#include <string.h>

/* One BPE merge: left and right token ids -> merged id, with its rank. */
typedef struct emb_tok_pair {
    uint64_t key;  /* (left << 32 | right) + 1; 0 = empty slot */
    int32_t rank;
    int32_t id;
} emb_tok_pair;

struct emb_tok {
    int kind;                 /* EMB_TOK_SPM / EMB_TOK_BPE / EMB_TOK_CBPE */
    int format;               /* EMB_TOK_FMT_GGUF / EMB_TOK_FMT_HF */
    size_t n_tokens;
    char *pool;               /* token texts, each NUL-terminated */
    size_t *off;              /* n_tokens: offset of each text in pool */
    uint32_t *len;            /* n_tokens: bytes of each text */
    float *score;             /* n_tokens (0 when the file has none) */
    uint8_t *type;            /* n_tokens, EMB_TT_* */
    uint64_t *slots;          /* text -> id hash map: per slot the text's hash
                                 (high 32 bits) and id + 1 (low 32), 0 = empty
                                 (the last id of a repeated text wins, as in
                                 llama.cpp) */
    size_t slot_cap;          /* power of two */
    uint32_t max_len;         /* longest token text */
    int spm_split;            /* SPM: no token has "▁" after another character
                                 than "▁", so merges never cross the start of
                                 a "▁" run and each run-started word can be
                                 merged on its own (same result, faster) */
    int32_t bos, eos, unk;    /* -1 = none */
    int add_bos, add_eos, add_space_prefix;
    int32_t byte_tok[256];    /* SPM: <0xNN> token of each byte; BPE: token of
                                 each byte's one-character text; -1 = none */
    int32_t char_tok[128];    /* SPM: token of each ASCII character's text
                                 (' ' -> "▁"), -1 = none */
    emb_tok_pair *pairs;      /* BPE merges, open addressing; SPM: every pair
                                 of tokens whose texts joined are a token
                                 (emb_tok_spm_pairs) */
    size_t pair_cap;          /* power of two */
    /* tokenizer.json options (0 for GGUF files) */
    int prefix_space;         /* BPE: ByteLevel add_prefix_space (a ' ' in front
                                 of a text that does not start with one) */
    int prepend;              /* CBPE: 1 = "▁" in front of a non-empty text
                                 (Prepend normalizer); 2 = in front of a text
                                 that does not start with "▁" (Metaspace) */
    int ms_split;             /* CBPE: Metaspace split: each "▁" starts a word */
    int byte_fallback, fuse_unk;  /* CBPE */
    int strip_first;          /* CBPE decode: drop one leading space */
};

static inline uint64_t emb_tok_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w = 0;
    uint32_t a, b;
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    if (n >= 4) { /* two overlapping 4-byte loads cover 4..7 bytes */
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else if (n) {
        w = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n / 2] << 8 |
            (unsigned char)s[n - 1];
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

/* Id of the token whose text is s[0..n), or -1. */
static inline int32_t emb_tok_find(const emb_tok *t, const char *s, size_t n)
{
    if (n > t->max_len)
        return -1;
    uint64_t h = emb_tok_hash(s, n);
    size_t mask = t->slot_cap - 1, i = h & mask;
    for (;;) {
        uint64_t v = t->slots[i];
        if (v == 0)
            return -1;
        uint32_t id = (uint32_t)v - 1;
        if ((v >> 32) == (h >> 32) && t->len[id] == n && memcmp(t->pool + t->off[id], s, n) == 0)
            return (int32_t)id;
        i = (i + 1) & mask;
    }
}

/* Append one id to a growing array; EMB_ERANGE past max. */
typedef struct emb_tok_out {
    int32_t *ids;
    size_t n, cap, max;
} emb_tok_out;
int emb_tok_out_grow(emb_tok_out *o, emb_err *err);
static inline int emb_tok_out_push(emb_tok_out *o, int32_t id, emb_err *err)
{
    if (o->n == o->cap) {
        int rc = emb_tok_out_grow(o, err);
        if (rc)
            return rc;
    }
    o->ids[o->n++] = id;
    return EMB_OK;
}

/* Storage helpers shared by the loaders (tok.c).  alloc: the per-token
 * arrays for nt tokens and a pool of pool_n bytes; each token then gets its
 * text with set_text (in id order, pool filled front to back) and goes into
 * the text -> id map with map_add.  Errors are EMB_ENOMEM. */
int emb_tok_alloc(emb_tok *t, size_t nt, size_t pool_n, emb_err *err);
void emb_tok_map_add(emb_tok *t, int32_t id);
/* Merges table of room for n pairs; pair_add: first rank wins unless
 * overwrite (tokenizers keeps the last of a repeated pair). */
int emb_tok_pairs_alloc(emb_tok *t, size_t n, emb_err *err);
void emb_tok_pair_add(emb_tok *t, int32_t l, int32_t r, int32_t rank, int32_t id, int overwrite);
/* Per byte: SPM/CBPE its <0xNN> token, BPE its byte-level character's. */
void emb_tok_byte_tokens(emb_tok *t);
/* SPM: fill t->pairs with every (left, right) token pair whose texts
 * joined are a token, split at a character boundary, and t->char_tok. */
int emb_tok_spm_pairs(emb_tok *t, emb_err *err);

int emb_tok_load_hf(const uint8_t *data, size_t n, emb_tok **out, emb_err *err);

/* The word cache (emb_tok_cache, tok.c): a direct-mapped table from a
 * word's text (a SentencePiece segment, a pre-tokenizer chunk) to its ids,
 * for words of up to TOK_CACHE_TEXT bytes giving up to TOK_CACHE_IDS ids.
 * Words are encoded independently of their neighbours, so a hit gives what
 * encoding would. */
#define TOK_CACHE_SLOTS 8192
#define TOK_CACHE_TEXT 22
#define TOK_CACHE_IDS 8
typedef struct emb_tok_cache_slot {
    uint32_t tag;
    uint8_t n_text, n_ids;
    char text[TOK_CACHE_TEXT];
    int32_t ids[TOK_CACHE_IDS];
} emb_tok_cache_slot;
struct emb_tok_cache {
    const emb_tok *tok; /* the tokenizer the slots belong to */
    emb_tok_cache_slot slots[TOK_CACHE_SLOTS];
};
/* On a hit: the ids pushed to o, 1 returned (*rc set when pushing fails). */
static inline int emb_tok_cache_get(emb_tok_cache *c, const char *s, size_t n, emb_tok_out *o,
                                    emb_err *err, int *rc)
{
    if (!c || n > TOK_CACHE_TEXT || n == 0)
        return 0;
    uint64_t h = emb_tok_hash(s, n);
    const emb_tok_cache_slot *e = &c->slots[h & (TOK_CACHE_SLOTS - 1)];
    if (e->tag != (uint32_t)(h >> 32) || e->n_text != n || memcmp(e->text, s, n) != 0)
        return 0;
    for (size_t i = 0; i < e->n_ids && !*rc; i++)
        *rc = emb_tok_out_push(o, e->ids[i], err);
    return 1;
}
static inline void emb_tok_cache_put(emb_tok_cache *c, const char *s, size_t n, const int32_t *ids,
                                     size_t n_ids)
{
    if (!c || n > TOK_CACHE_TEXT || n == 0 || n_ids > TOK_CACHE_IDS)
        return;
    uint64_t h = emb_tok_hash(s, n);
    emb_tok_cache_slot *e = &c->slots[h & (TOK_CACHE_SLOTS - 1)];
    e->tag = (uint32_t)(h >> 32);
    e->n_text = (uint8_t)n;
    e->n_ids = (uint8_t)n_ids;
    memcpy(e->text, s, n);
    if (n_ids) /* ids may be NULL when nothing was pushed */
        memcpy(e->ids, ids, n_ids * sizeof *ids);
}

int emb_tok_spm_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                       emb_tok_out *o, emb_err *err);
int emb_tok_bpe_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                       emb_tok_out *o, emb_err *err);
int emb_tok_cbpe_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                        emb_tok_out *o, emb_err *err);
static inline uint64_t emb_tok_pair_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

/* Merge lookup (BPE): the pair's slot or NULL. */
static inline const emb_tok_pair *emb_tok_pair_find(const emb_tok *t, int32_t left, int32_t right)
{
    uint64_t key = ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
    size_t mask = t->pair_cap - 1, i = emb_tok_pair_hash(key) & mask;
    for (;;) {
        const emb_tok_pair *p = &t->pairs[i];
        if (p->key == key)
            return p;
        if (p->key == 0)
            return NULL;
        i = (i + 1) & mask;
    }
}

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
