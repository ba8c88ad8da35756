/*
 * sketch_stats.c - how many rows the int8 sketch rescores (src/search/sketch.h),
 * for bench/sketch.py.  Reads a raw little-endian f32 matrix file
 * (n_rows * dim floats), builds the norms and the sketch as the table cache
 * does, and runs n_q queries per metric through emb_sketch_search, each
 * checked against the plain scan (ids and distances bit for bit; a mismatch
 * exits 1).  Queries: the first half are stored rows (row i * n / half), the
 * second half Gaussian vectors with the rows' per-dimension scale.
 *
 * usage: sketch_stats FILE DIM K N_Q
 * prints one line per metric: "<metric> scanned <rows> rescored <rows> fraction <f>"
 * and "sketch_bytes <b> f32_bytes <b>".
 */
#include "search/sketch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rs = 0x243f6a8885a308d3ull;
static double gauss(void) /* sum of 4 uniforms, centred, unit variance */
{
    double a = 0;
    for (int i = 0; i < 4; i++) {
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        a += (double)(rs >> 11) / 9007199254740992.0 - 0.5;
    }
    return a * 1.7320508075688772;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sketch_stats FILE DIM K N_Q\n");
        return 2;
    }
    size_t dim = (size_t)atol(argv[2]), k = (size_t)atol(argv[3]), nq = (size_t)atol(argv[4]);
    FILE *f = fopen(argv[1], "rb");
    if (!f || dim == 0) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f) / (dim * sizeof(float));
    fseek(f, 0, SEEK_SET);
    float *x = malloc(n * dim * sizeof *x), *norms = malloc(n * sizeof *norms);
    float *q = malloc(dim * sizeof *q), *sd = calloc(dim, sizeof *sd);
    emb_hit *a = malloc(k * sizeof *a), *b = malloc(k * sizeof *b);
    if (!x || !norms || !q || !sd || !a || !b || fread(x, sizeof *x, n * dim, f) != n * dim) {
        fprintf(stderr, "sketch_stats: cannot read %s\n", argv[1]);
        return 2;
    }
    fclose(f);
    const emb_kernels *kern = emb_kernels_get();
    emb_sketch sk;
    emb_sketch_init(&sk, dim);
    if (emb_sketch_reserve(&sk, n) != EMB_OK)
        return 2;
    for (size_t r = 0; r < n; r++) {
        norms[r] = kern->norm_f32(x + r * dim, dim);
        emb_sketch_set(&sk, r, x + r * dim);
        for (size_t i = 0; i < dim; i++)
            sd[i] += x[r * dim + i] * x[r * dim + i];
    }
    for (size_t i = 0; i < dim; i++)
        sd[i] = sqrtf(sd[i] / (float)n);
    emb_matrix m = {n, dim, EMB_DTYPE_F32, x, NULL, NULL, norms, &sk};
    static const char *const names[] = {"cosine", "dot", "l2"};
    for (int metric = 0; metric < 3; metric++) {
        size_t scanned = 0, rescored = 0;
        for (size_t j = 0; j < nq; j++) {
            if (j < nq / 2)
                memcpy(q, x + (j * (n / (nq / 2 ? nq / 2 : 1)) % n) * dim, dim * sizeof *q);
            else
                for (size_t i = 0; i < dim; i++)
                    q[i] = (float)gauss() * sd[i];
            size_t na, nb;
            emb_sketch_stats st;
            emb_err err;
            if (emb_matrix_search_plain(kern, &m, q, metric, k, NULL, a, &na, &err) ||
                emb_sketch_search(kern, &m, q, metric, k, NULL, b, &nb, &st, &err)) {
                fprintf(stderr, "sketch_stats: %s\n", err.msg);
                return 2;
            }
            if (na != nb) {
                fprintf(stderr, "sketch_stats: MISMATCH %s query %zu\n", names[metric], j);
                return 1;
            }
            for (size_t i = 0; i < na; i++)
                if (a[i].id != b[i].id || memcmp(&a[i].distance, &b[i].distance, 4) != 0) {
                    fprintf(stderr, "sketch_stats: MISMATCH %s query %zu hit %zu\n", names[metric],
                            j, i);
                    return 1;
                }
            scanned += st.scanned;
            rescored += st.rescored;
        }
        printf("%s scanned %zu rescored %zu fraction %.6f\n", names[metric], scanned, rescored,
               scanned ? (double)rescored / (double)scanned : 0.0);
    }
    printf("sketch_bytes %zu f32_bytes %zu\n", emb_sketch_bytes(&sk), n * dim * sizeof(float));
    emb_sketch_free(&sk);
    free(x);
    free(norms);
    free(q);
    free(sd);
    free(a);
    free(b);
    return 0;
}
