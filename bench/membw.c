/*
 * membw.c - the physical floor for a scan: single-thread streaming read
 * bandwidth of this machine.
 *
 *   cc -O3 -o build/bench/membw bench/membw.c && build/bench/membw [MiB [reps]]
 *
 * Allocates two buffers (default 1024 MiB each): one with plain 4 KiB pages
 * and one 2 MiB-aligned with madvise(MADV_HUGEPAGE) (what numpy does for
 * large arrays; with transparent huge pages in "madvise" mode only such
 * memory gets 2 MiB pages, and fewer TLB misses stream faster).  Each is
 * written once so every page is really mapped, then both are read front to
 * back `reps` times (default 9), alternately, with
 * the widest vector loads the CPU has (AVX-512, else AVX2, else plain
 * 64-bit loads), several independent accumulators so the loop is limited by
 * memory, not by the adder chain.  Prints one JSON line:
 *   {"bytes": N, "isa": "avx512", "gbps": [..], "median": x,
 *    "gbps_4k": [..], "median_4k": y}
 * where gbps / median are for the huge-page buffer.
 * GB/s is 1e9 bytes per second.  One thread, like a single SQL query.
 */
#include <immintrin.h>
#include <stdint.h>
#include <sys/mman.h>
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
    char *huge = NULL, *small = NULL;
    if (posix_memalign((void **)&huge, (size_t)2 << 20, n) != 0 ||
        posix_memalign((void **)&small, 4096, n) != 0) {
        fprintf(stderr, "membw: cannot allocate 2 x %zu MiB\n", mib);
        return 1;
    }
#ifdef MADV_HUGEPAGE
    madvise(huge, n, MADV_HUGEPAGE);
#endif
#ifdef MADV_NOHUGEPAGE
    madvise(small, n, MADV_NOHUGEPAGE);
#endif
    for (size_t i = 0; i < n; i++)
        huge[i] = small[i] = (char)(i * 131u + 7u);

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
    double *g[2], *sorted = calloc((size_t)reps, sizeof *sorted);
    g[0] = calloc((size_t)reps, sizeof(double));
    g[1] = calloc((size_t)reps, sizeof(double));
    if (!g[0] || !g[1] || !sorted)
        return 1;
    volatile uint64_t sink = fn(huge, n) ^ fn(small, n); /* warm-up passes */
    for (int r = 0; r < reps; r++) {
        for (int b = 0; b < 2; b++) {
            double t0 = now();
            sink ^= fn(b ? small : huge, n);
            g[b][r] = (double)n / (now() - t0) / 1e9;
        }
    }
    printf("{\"bytes\": %zu, \"isa\": \"%s\"", n, isa);
    for (int b = 0; b < 2; b++) {
        const char *sfx = b ? "_4k" : "";
        printf(", \"gbps%s\": [", sfx);
        for (int r = 0; r < reps; r++) {
            printf("%s%.3f", r ? ", " : "", g[b][r]);
            sorted[r] = g[b][r];
        }
        qsort(sorted, (size_t)reps, sizeof *sorted, cmp_double);
        printf("], \"median%s\": %.3f", sfx, sorted[reps / 2]);
    }
    printf(", \"sink\": %llu}\n", (unsigned long long)(sink & 1));
    free(huge);
    free(small);
    free(g[0]);
    free(g[1]);
    free(sorted);
    return 0;
}
