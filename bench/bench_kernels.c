/*
 * bench_kernels.c - micro-benchmark of the kernel tables.
 *
 * For every kernel set this CPU supports (emb_kernels_all()):
 *   - ns per call at dims 50, 768, 4096, inputs hot in L1/L2, of dot_f32,
 *     of the three-pass cosine (dot_f32 + 2 x norm_f32, what emb_cosine
 *     did before dot_norms_f32) and of the fused cosine (one dot_norms_f32
 *     pass, then dot / sqrt(aa * bb) in double, as emb_cosine does now);
 *   - scan throughput in GB/s (bytes of rows read per second) for
 *     scan_dot_f32, scan_dot_f16, scan_dot_bf16 and scan_dot_i8 over a
 *     50,000 x 768 matrix (153.6 MB as f32: far larger than any cache).
 * Each figure is the median of several timed runs.  Output: Markdown.
 *
 * Build (not part of the library; no SQLite needed):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/bench_kernels.c src/[a-z]*.c -lm -lpthread \
 *      -o build/bench_kernels
 * or link build/libembcore.a instead of the sources.
 * Usage: bench_kernels [--quick]     (--quick: fewer runs, 10,000 rows)
 */
#include "kernels/kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 15

static volatile float sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static float *random_floats(size_t n, uint32_t seed)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_kernels: out of memory (%zu floats)\n", n);
        exit(1);
    }
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
    }
    return p;
}

enum { OP_DOT, OP_COS3, OP_COS };

/* Median ns per call of one op at one dim. */
static double time_op(const emb_kernels *k, int op, const float *a, const float *b, size_t dim,
                      int runs)
{
    double t[MAX_RUNS];
    size_t reps = 20000000 / (dim + 16) + 1; /* ~ a few ms per run */
    for (int r = 0; r < runs; r++) {
        float acc = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < reps; i++) {
            if (op == OP_DOT) {
                acc += k->dot_f32(a, b, dim);
            } else if (op == OP_COS3) {
                double na = k->norm_f32(a, dim), nb = k->norm_f32(b, dim);
                acc += (float)(k->dot_f32(a, b, dim) / (na * nb));
            } else {
                float d, aa, bb;
                k->dot_norms_f32(a, b, dim, &d, &aa, &bb);
                acc += (float)((double)d / sqrt((double)aa * (double)bb));
            }
        }
        t[r] = (now_ns() - t0) / (double)reps;
        sink = acc;
    }
    return median(t, runs);
}

enum { ROW_F32, ROW_F16, ROW_BF16, ROW_I8 };

/* Median GB/s of one scan over n_rows x dim rows. */
static double time_scan(const emb_kernels *k, int type, const void *rows, const float *q,
                        float *out, size_t n_rows, size_t dim, int runs)
{
    size_t esz = type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2;
    double t[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        double t0 = now_ns();
        switch (type) {
        case ROW_F32: k->scan_dot_f32(out, q, rows, n_rows, dim); break;
        case ROW_F16: k->scan_dot_f16(out, q, rows, n_rows, dim); break;
        case ROW_BF16: k->scan_dot_bf16(out, q, rows, n_rows, dim); break;
        default: k->scan_dot_i8(out, q, rows, n_rows, dim); break;
        }
        t[r] = now_ns() - t0;
        sink = out[n_rows / 2];
    }
    return (double)(n_rows * dim * esz) / median(t, runs); /* bytes per ns = GB/s */
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int runs = quick ? 3 : 9;
    static const size_t dims[] = {50, 768, 4096};
    float *a = random_floats(4096, 1), *b = random_floats(4096, 2);

    printf("## Kernel calls (ns per call, median of %d runs, inputs in cache)\n\n", runs);
    printf("| set | dot 50 | dot 768 | dot 4096 | cos3 50 | cos3 768 | cos3 4096 "
           "| cosine 50 | cosine 768 | cosine 4096 |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        printf("| %s", (*kp)->name);
        for (int op = OP_DOT; op <= OP_COS; op++)
            for (size_t d = 0; d < 3; d++)
                printf(" | %.1f", time_op(*kp, op, a, b, dims[d], runs));
        printf(" |\n");
        fflush(stdout);
    }
    printf("\ncos3 = dot_f32 + 2 x norm_f32 (three passes over the inputs, the old "
           "emb_cosine);\ncosine = dot_norms_f32 (one pass, emb_cosine now).\n");

    size_t n_rows = quick ? 10000 : 50000, dim = 768, total = n_rows * dim;
    float *rows32 = random_floats(total, 3), *q = random_floats(dim, 4);
    uint16_t *rows16 = malloc(total * sizeof *rows16);
    uint16_t *rowsb16 = malloc(total * sizeof *rowsb16);
    int8_t *rows8 = malloc(total);
    float *out = malloc(n_rows * sizeof *out);
    if (!rows16 || !rowsb16 || !rows8 || !out) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        return 1;
    }
    emb_kernels_serial.f32_to_f16(rows16, rows32, total);
    emb_kernels_serial.f32_to_bf16(rowsb16, rows32, total);
    for (size_t i = 0; i < total; i++)
        rows8[i] = (int8_t)(rows32[i] * 254);

    printf("\n## Scans: one query against %zu x %zu rows (GB/s of rows read, median of %d)\n\n",
           n_rows, dim, runs);
    printf("| set | scan_dot_f32 | scan_dot_f16 | scan_dot_bf16 | scan_dot_i8 | f32 ms/query |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        double g32 = time_scan(*kp, ROW_F32, rows32, q, out, n_rows, dim, runs);
        double g16 = time_scan(*kp, ROW_F16, rows16, q, out, n_rows, dim, runs);
        double gb16 = time_scan(*kp, ROW_BF16, rowsb16, q, out, n_rows, dim, runs);
        double g8 = time_scan(*kp, ROW_I8, rows8, q, out, n_rows, dim, runs);
        printf("| %s | %.1f | %.1f | %.1f | %.1f | %.2f |\n", (*kp)->name, g32, g16, gb16, g8,
               (double)(total * 4) / g32 / 1e6);
        fflush(stdout);
    }
    free(a);
    free(b);
    free(rows32);
    free(rows16);
    free(rowsb16);
    free(rows8);
    free(q);
    free(out);
    return 0;
}
