/*
 * tok_bench.c - tokenizer speed of the core (src/tok), one thread.
 *
 *   build/bench/tok_bench MODEL TEXT_FILE [ROUNDS [nocache]]
 *
 * MODEL is a GGUF file or a tokenizer.json.  TEXT_FILE is split into
 * paragraphs (blank-line separated, as a table of documents would hold
 * them); each round encodes every paragraph (no BOS) with a new, empty word
 * cache (emb_tok_encode_cached; "nocache": none) and prints "seconds
 * cpu_seconds bytes tokens digest" (wall time, the process's CPU time, and
 * an FNV-1a of all ids, to check the references gave the same ids).  The
 * run prints one line per round.
 */
#include "readers/bytes.h"
#include "tok/tok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tok_bench MODEL TEXT_FILE [ROUNDS [nocache]]\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 1;
    int use_cache = !(argc > 4 && strcmp(argv[4], "nocache") == 0);
    emb_err err = {0, ""};
    emb_map model = {NULL, 0}, text = {NULL, 0};
    emb_tok *tok = NULL;
    if (emb_map_open(&model, argv[1], "tok_bench", argv[1], &err) ||
        emb_tok_load(model.data, model.n, &tok, &err) ||
        emb_map_open(&text, argv[2], "tok_bench", argv[2], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *s = (const char *)text.data;
    for (int r = 0; r < rounds; r++) {
        size_t bytes = 0, tokens = 0;
        uint32_t digest = 2166136261u; /* FNV-1a over the ids, as tok_bench.mjs */
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        emb_tok_cache *cache = use_cache ? emb_tok_cache_new() : NULL;
        size_t i = 0;
        while (i < text.n) {
            const char *end = memmem(s + i, text.n - i, "\n\n", 2);
            size_t len = end ? (size_t)(end - (s + i)) : text.n - i;
            int32_t *ids;
            size_t n_ids;
            if (emb_tok_encode_cached(tok, cache, s + i, len, 0, 0, 0, &ids, &n_ids, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            for (size_t k = 0; k < n_ids; k++)
                digest = (digest ^ (uint32_t)ids[k]) * 16777619u;
            free(ids);
            bytes += len;
            tokens += n_ids;
            i += len + (end ? 2 : 0);
        }
        emb_tok_cache_free(cache);
        double sec = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        printf("%.6f %.6f %zu %zu %08x\n", sec, cpu, bytes, tokens, digest);
    }
    emb_tok_free(tok);
    emb_map_close(&model);
    emb_map_close(&text);
    return 0;
}
