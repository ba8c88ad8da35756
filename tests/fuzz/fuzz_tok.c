/*
 * fuzz_tok.c - libFuzzer target for the tokenizer (src/tok).
 *
 * The first input byte picks the mode:
 *   even  the rest is text, encoded with one of four tokenizers read once
 *         from tests/data (run.sh runs from the repository root): SentencePiece
 *         stories260k-v3.gguf, byte-level gpt2-r50k-tokenizer.gguf, the
 *         LLaMA-style stories260k-tokenizer.json, sp-bpe-600.gguf; byte >> 1
 *         chooses.  The ids are decoded again; with a small max_tokens cap
 *         the "too many tokens" path runs too.  Encoding with the word
 *         cache (one per tokenizer, kept across inputs) must give the same
 *         ids as without (a trap otherwise).
 *   odd   the rest is a tokenizer file (GGUF or tokenizer.json) for
 *         emb_tok_load; when it loads, a few fixed texts and the input
 *         itself are encoded and decoded with it.
 * Any status is fine; crashes, leaks, hangs and undefined behaviour are not.
 */
#include "tok/tok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
    "tests/data/stories260k-v3.gguf", "tests/data/gpt2-r50k-tokenizer.gguf",
    "tests/data/stories260k-tokenizer.json", "tests/data/sp-bpe-600.gguf"};
static emb_tok *toks[4];
static emb_tok_cache *caches[4]; /* one word cache per tokenizer, kept across inputs */
static int loaded;

static void load_all(void)
{
    loaded = 1;
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
        emb_err err;
        if (b && fread(b, 1, (size_t)n, f) == (size_t)n && emb_tok_load(b, (size_t)n, &toks[i], &err) == EMB_OK)
            caches[i] = emb_tok_cache_new();
        free(b);
        fclose(f);
    }
}

static void roundtrip(const emb_tok *t, emb_tok_cache *c, const char *text, size_t n,
                      size_t max_tokens)
{
    int32_t *ids = NULL;
    size_t n_ids = 0;
    emb_err err;
    if (emb_tok_encode(t, text, n, -1, n & 1, max_tokens, &ids, &n_ids, &err) == EMB_OK) {
        if (c) { /* the word cache must give the same ids */
            int32_t *cids = NULL;
            size_t n_cids = 0;
            if (emb_tok_encode_cached(t, c, text, n, -1, n & 1, max_tokens, &cids, &n_cids, &err) != EMB_OK ||
                n_cids != n_ids || (n_ids && memcmp(cids, ids, n_ids * sizeof *ids) != 0))
                __builtin_trap();
            free(cids);
        }
        char *out = NULL;
        size_t n_out = 0;
        if (emb_tok_decode(t, ids, n_ids, &out, &n_out, &err) == EMB_OK)
            free(out);
        free(ids);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loaded)
        load_all();
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        int k = (data[0] >> 1) & 3;
        if (toks[k])
            roundtrip(toks[k], caches[k], text, n, (data[0] & 0x80) ? 5 : 0);
        return 0;
    }
    emb_tok *t = NULL;
    emb_err err;
    if (emb_tok_load(data + 1, n, &t, &err) != EMB_OK)
        return 0;
    static const char *const fixed[] = {"I love dogs", " Hello  world\n\t", "caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80",
                                        "\xFF\xFE bad \xC3", "<s></s><unk><0x41>", ""};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        roundtrip(t, NULL, fixed[i], strlen(fixed[i]), 0);
    emb_tok_cache *c = emb_tok_cache_new();
    roundtrip(t, c, text, n < 4096 ? n : 4096, 0);
    roundtrip(t, c, text, n < 4096 ? n : 4096, 0); /* now from the cache */
    emb_tok_cache_free(c);
    int32_t bad[3] = {-1, 0, (int32_t)emb_tok_n_tokens(t)};
    char *out = NULL;
    size_t n_out;
    if (emb_tok_decode(t, bad + 1, 1, &out, &n_out, &err) == EMB_OK)
        free(out);
    if (emb_tok_decode(t, bad, 3, &out, &n_out, &err) == EMB_OK)
        free(out);
    emb_tok_free(t);
    return 0;
}
