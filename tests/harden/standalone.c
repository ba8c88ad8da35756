/*
 * standalone.c - run a libFuzzer target (LLVMFuzzerTestOneInput) without
 * libFuzzer: on files given as arguments, or on N inputs generated from a
 * seed, so that any compiler with ASan/UBSan can drive it and so that a
 * run is a fixed, countable corpus.
 *
 *   cc -fsanitize=address,undefined ... tests/fuzz/fuzz_dbfile.c tests/harden/standalone.c
 *   ./hostile -n 5000 -seed 1 [-max_len 160]      generated inputs
 *   ./hostile FILE...                             replay inputs (e.g. a crash)
 *
 * Prints "<target>: N inputs run (seed S)".  Exit status 0; a finding stops
 * the program through the sanitizer (non-zero status, report on stderr).
 * Under ASan one allocation above 2 GB is a finding too (as libFuzzer's
 * -malloc_limit_mb in tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=2048:allocator_may_return_null=0";
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    long n = 1000, max_len = 160;
    unsigned long long seed = 1;
    int files = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-max_len") == 0 && i + 1 < argc)
            max_len = atol(argv[++i]);
        else {
            FILE *f = fopen(argv[i], "rb");
            if (!f) {
                fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
                return 2;
            }
            static uint8_t buf[1 << 20];
            size_t len = fread(buf, 1, sizeof buf, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, len);
            files++;
        }
    }
    if (files) {
        printf("%s: %d files run\n", argv[0], files);
        return 0;
    }
    if (max_len < 1)
        max_len = 1;
    uint8_t *buf = malloc((size_t)max_len);
    if (!buf)
        return 2;
    rng_state = seed;
    for (long k = 0; k < n; k++) {
        size_t len = 1 + (size_t)(rng_next() % (uint64_t)max_len);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rng_next();
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);
    printf("%s: %ld inputs run (seed %llu)\n", argv[0], n, seed);
    return 0;
}
