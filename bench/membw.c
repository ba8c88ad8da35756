/*
 * membw.c - the physical floor for a scan: single-thread streaming read
 * bandwidth of this machine.
 *
 *   cc -O3 -o build/bench/membw bench/membw.c && build/bench/membw [MiB [reps]]
 *
 * Allocates a buffer (default 1024 MiB), writes it once so every page is
 * really mapped, then reads it front to back `reps` times (default 9) with
 * the widest vector loads the CPU has (AVX-512, else AVX2, else plain
 * 64-bit loads), several independent accumulators so the loop is limited by
 * memory, not by the adder chain.  Prints one JSON line:
 *   {"bytes": N, "isa": "avx512", "gbps": [..each rep..], "median": x}
 * GB/s is 1e9 bytes per second.  One thread, like a single SQL query.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((target("avx512f"))) static uint64_t read_avx512(const char *p, size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= n; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512((const void *)(p + i)));
        a1 = _mm512_xor_si512(a1, _mm512_loadu_si512((const void *)(p + i + 64)));
        a2 = _mm512_xor_si512(a2, _mm512_loadu_si512((const void *)(p + i + 128)));
        a3 = _mm512_xor_si512(a3, _mm512_loadu_si512((const void *)(p + i + 192)));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    uint64_t out[8];
    _mm512_storeu_si512((void *)out, a0);
    return out[0] ^ out[3] ^ out[7];
}

__attribute__((target("avx2"))) static uint64_t read_avx2(const char *p, size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, a0);
    return out[0] ^ out[3];
}

static uint64_t read_scalar(const char *p, size_t n)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, w[4];
    for (size_t i = 0; i + 32 <= n; i += 32) {
        memcpy(w, p + i, 32);
        a0 ^= w[0]; a1 ^= w[1]; a2 ^= w[2]; a3 ^= w[3];
    }
    return a0 ^ a1 ^ a2 ^ a3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int reps = argc > 2 ? atoi(argv[2]) : 9;
    if (mib == 0 || reps <= 0 || reps > 1000) {
        fprintf(stderr, "usage: membw [MiB [reps]]\n");
        return 2;
    }
    size_t n = mib << 20;
    char *buf = aligned_alloc(4096, n);
    if (!buf) {
        fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(i * 131u + 7u);

    const char *isa = "scalar";
    uint64_t (*fn)(const char *, size_t) = read_scalar;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        isa = "avx512";
        fn = read_avx512;
    } else if (__builtin_cpu_supports("avx2")) {
        isa = "avx2";
        fn = read_avx2;
    }
    double *gbps = calloc((size_t)reps, sizeof *gbps), *sorted = calloc((size_t)reps, sizeof *sorted);
    if (!gbps || !sorted)
        return 1;
    volatile uint64_t sink = fn(buf, n); /* warm-up pass */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        sink ^= fn(buf, n);
        double t = now() - t0;
        gbps[r] = (double)n / t / 1e9;
        sorted[r] = gbps[r];
    }
    qsort(sorted, (size_t)reps, sizeof *sorted, cmp_double);
    printf("{\"bytes\": %zu, \"isa\": \"%s\", \"gbps\": [", n, isa);
    for (int r = 0; r < reps; r++)
        printf("%s%.3f", r ? ", " : "", gbps[r]);
    printf("], \"median\": %.3f, \"sink\": %llu}\n", sorted[reps / 2], (unsigned long long)(sink & 1));
    free(buf);
    free(gbps);
    free(sorted);
    return 0;
}
