/*
 * sketch_big.c - exact top-10 through the int8 sketch on a large matrix,
 * against the plain scan and the memory-bandwidth floor of the stored rows,
 * in one process, interleaved (for bench/sketch.py).
 *
 *   sketch_big ROWS DIM DTYPE REPS      DTYPE: f32 | f16 | bf16
 *
 * Rows are N(0, 1) (sum of 4 uniforms), stored in DTYPE; norms and the
 * sketch are built as the table cache builds them.  Queries alternate
 * between a stored row plus noise and a fresh Gaussian vector.  Per rep:
 * one plain search, one sketch search (results compared: ids and distance
 * bits; a mismatch exits 1) and one streaming read of the stored rows (the
 * floor: 64-byte loads summed, the least work that touches every byte).
 * The sketch search runs twice per rep, with one thread and with two
 * (emb_sketch_set_threads; 2 only where the machine has 2 cores).
 * Prints medians: "plain_ms sketch_ms floor_ms rows_bytes sketch_bytes
 * rescored_per_query isa sketch2_ms".
 */
#include "search/sketch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long rs = 0x9e3779b97f4a7c15ull;
static float gauss(void)
{
    double a = 0;
    for (int i = 0; i < 4; i++) {
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        a += (double)(rs >> 11) / 9007199254740992.0 - 0.5;
    }
    return (float)(a * 1.7320508075688772);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The floor: read every byte of the rows once, 4 x 32 bytes per step into
 * 4 xor chains (AVX2 when the CPU has it, else 16-byte vectors): the least
 * work that touches every byte, so its time is the memory system's. */
typedef unsigned long long v4u __attribute__((vector_size(32)));
#if defined(__x86_64__)
__attribute__((target("avx2")))
#endif
static unsigned long long stream_read_v(const void *p, size_t n_bytes)
{
    const char *c = p;
    v4u a = {0}, b = {0}, e = {0}, f = {0}, x;
    size_t i = 0;
    for (; i + 128 <= n_bytes; i += 128) {
        memcpy(&x, c + i, 32);
        a ^= x;
        memcpy(&x, c + i + 32, 32);
        b ^= x;
        memcpy(&x, c + i + 64, 32);
        e ^= x;
        memcpy(&x, c + i + 96, 32);
        f ^= x;
    }
    a ^= b ^ e ^ f;
    return a[0] ^ a[1] ^ a[2] ^ a[3];
}

static unsigned long long stream_read(const void *p, size_t n_bytes)
{
    return stream_read_v(p, n_bytes);
}

static int same_hits(const emb_hit *a, size_t na, const emb_hit *b, size_t nb)
{
    int same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = a[i].id == b[i].id && memcmp(&a[i].distance, &b[i].distance, 4) == 0;
    return same;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sketch_big ROWS DIM f32|f16|bf16 REPS\n");
        return 2;
    }
    size_t n = (size_t)atol(argv[1]), d = (size_t)atol(argv[2]);
    int dtype = emb_dtype_parse(argv[3]);
    int reps = atoi(argv[4]);
    if (dtype < 0 || dtype == EMB_DTYPE_I8 || reps < 1 || reps > 1000) {
        fprintf(stderr, "sketch_big: bad dtype or reps\n");
        return 2;
    }
    const emb_kernels *k = emb_kernels_get();
    size_t es = emb_dtype_size(dtype);
    void *data = aligned_alloc(64, (n * d * es + 63) / 64 * 64);
    float *norms = malloc(n * sizeof *norms), *row = malloc(d * sizeof *row);
    float *wide = malloc(d * sizeof *wide);
    emb_sketch sk;
    emb_sketch_init(&sk, d);
    if (!data || !norms || !row || !wide || emb_sketch_reserve(&sk, n) != EMB_OK) {
        fprintf(stderr, "sketch_big: out of memory\n");
        return 1;
    }
    emb_matrix m = {n, d, dtype, data, NULL, NULL, norms, &sk};
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < d; i++)
            row[i] = gauss();
        emb_row_encode(k, dtype, (char *)data + r * d * es, NULL, row, d);
        emb_matrix_row_f32(k, &m, r, wide);
        norms[r] = k->norm_f32(wide, d);
        emb_sketch_set(&sk, r, wide);
    }
    float *q = malloc(d * sizeof *q);
    double *tp = malloc(reps * sizeof *tp), *ts = malloc(reps * sizeof *ts);
    double *tf = malloc(reps * sizeof *tf), *tt = malloc(reps * sizeof *tt);
    size_t rescored = 0;
    unsigned long long sink = 0;
    emb_hit a[10], b[10], b1[10];
    size_t na, nb, nb1;
    emb_err err;
    for (int rep = -1; rep < reps; rep++) {
        if (rep % 2) {
            for (size_t i = 0; i < d; i++)
                q[i] = gauss();
        } else {
            emb_matrix_row_f32(k, &m, (size_t)(rs % n), q);
            for (size_t i = 0; i < d; i++)
                q[i] += 0.1f * gauss();
        }
        emb_sketch_stats st;
        double t0 = now();
        emb_matrix_search_plain(k, &m, q, EMB_METRIC_COSINE, 10, NULL, a, &na, &err);
        double t1 = now();
        emb_sketch_search(k, &m, q, EMB_METRIC_COSINE, 10, NULL, b, &nb, &st, &err);
        double t2 = now();
        memcpy(b1, b, sizeof b);
        nb1 = nb;
        sink += stream_read(data, n * d * es);
        double t3 = now();
        emb_sketch_set_threads(2);
        emb_sketch_search(k, &m, q, EMB_METRIC_COSINE, 10, NULL, b, &nb, &st, &err);
        double t4 = now();
        emb_sketch_set_threads(1);
        if (!same_hits(a, na, b1, nb1) || !same_hits(a, na, b, nb)) {
            fprintf(stderr, "sketch_big: sketch and plain results differ\n");
            return 1;
        }
        if (rep >= 0) {
            tp[rep] = t1 - t0;
            ts[rep] = t2 - t1;
            tf[rep] = t3 - t2;
            tt[rep] = t4 - t3;
            rescored += st.rescored;
        }
    }
    qsort(tp, reps, sizeof *tp, cmpd);
    qsort(ts, reps, sizeof *ts, cmpd);
    qsort(tf, reps, sizeof *tf, cmpd);
    qsort(tt, reps, sizeof *tt, cmpd);
    printf("%.3f %.3f %.3f %zu %zu %.1f %s %.3f %llu\n", tp[reps / 2] * 1e3, ts[reps / 2] * 1e3,
           tf[reps / 2] * 1e3, n * d * es, emb_sketch_bytes(&sk), (double)rescored / reps,
           k->name, tt[reps / 2] * 1e3, sink & 1);
    return 0;
}
