/* test_knn.c - emb_matrix_search_batch (src/search/knn.c) against one
 * emb_matrix_search per query: every kernel table, dtype and metric, with
 * and without row norms, absent rows, n_q across a query block (70 > 64),
 * k = 0, 1, 10, k > rows; ties; argument errors by exact text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/knn.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static float rnd(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 4503599627370496.0 - 1.0);
}

#define N 300
#define DIM 37
#define NQ 70

/* Distances equal up to float rounding: relative 2e-6; int8 l2 (sq) uses
 * |q|^2 + |r|^2 - 2 q.r in both searches, summed differently: its squares
 * agree within 4e-6 * (|q|^2 + |r|^2) <= 4e-6 * 2 * DIM here. */
static int close_enough(float x, float y, int sq)
{
    if (sq)
        return fabs((double)x * x - (double)y * y) <= 4e-6 * 2 * DIM;
    return fabs((double)x - y) <= 2e-6 * (1 + fabs((double)y));
}

/* A batch hit `a` at another rank than in the single search `one`: allowed
 * only as a near tie (the sums run in another order): one holds a's id with
 * a distance within tol, or a is missing from one and ties its last hit. */
static int near_tie(const emb_hit *one, size_t n1, const emb_hit *a, int sq)
{
    for (size_t i = 0; i < n1; i++)
        if (one[i].id == a->id)
            return close_enough(one[i].distance, a->distance, sq);
    return n1 > 0 && close_enough(one[n1 - 1].distance, a->distance, sq);
}

/* Every query of q (NQ x DIM) against m with batch and with one search per
 * query: same ids in the same order (but for near ties), distances within
 * float rounding. */
static void compare(const emb_kernels *k, const emb_matrix *m, const float *q, size_t n_q,
                    int metric, size_t kk)
{
    emb_hit *batch = malloc((n_q * kk + 1) * sizeof *batch);
    emb_hit *one = malloc((kk + 1) * sizeof *one);
    size_t *n_out = malloc((n_q + 1) * sizeof *n_out);
    assert_non_null(batch);
    assert_non_null(one);
    assert_non_null(n_out);
    emb_err err;
    assert_int_equal(emb_matrix_search_batch(k, m, q, n_q, metric, kk, batch, n_out, &err), 0);
    for (size_t j = 0; j < n_q; j++) {
        size_t n1 = 99;
        assert_int_equal(emb_matrix_search(k, m, q + j * DIM, metric, kk, NULL, one, &n1, &err), 0);
        if (n_out[j] != n1)
            fail_msg("%s dtype %d metric %d k %zu query %zu: %zu vs %zu hits", k->name, m->dtype,
                     metric, kk, j, n_out[j], n1);
        for (size_t i = 0; i < n1; i++) {
            const emb_hit *a = &batch[j * kk + i], *b = &one[i];
            int sq = m->dtype == EMB_DTYPE_I8 && metric == EMB_METRIC_L2;
            if (a->id != b->id && !near_tie(one, n1, a, sq))
                fail_msg("%s dtype %d metric %d k %zu query %zu rank %zu: id %lld %.9g vs id "
                         "%lld %.9g (not a near tie)",
                         k->name, m->dtype, metric, kk, j, i, (long long)a->id,
                         (double)a->distance, (long long)b->id, (double)b->distance);
            if (!close_enough(a->distance, b->distance, sq))
                fail_msg("%s dtype %d metric %d k %zu query %zu rank %zu: id %lld %.9g vs id "
                         "%lld %.9g",
                         k->name, m->dtype, metric, kk, j, i, (long long)a->id,
                         (double)a->distance, (long long)b->id, (double)b->distance);
            if (m->valid && !m->valid[a->id])
                fail_msg("absent row %lld returned", (long long)a->id);
        }
    }
    free(batch);
    free(one);
    free(n_out);
}

static void test_knn_batch_equals_single_search(void **state)
{
    (void)state;
    static float src[N * DIM], q[NQ * DIM], norms[N], scales[N];
    static uint8_t data[N * DIM * 4], valid[N];
    for (size_t i = 0; i < N * DIM; i++)
        src[i] = rnd();
    for (size_t i = 0; i < NQ * DIM; i++)
        q[i] = rnd();
    memcpy(q + 3 * DIM, src + 17 * DIM, DIM * sizeof(float)); /* a copy of row 17 */
    memset(q + 5 * DIM, 0, DIM * sizeof(float));              /* a zero query: ties */
    for (size_t r = 0; r < N; r++)
        valid[r] = r % 7 != 2;
    static const size_t ks[] = {0, 1, 10, N + 5};
    static const size_t nqs[] = {0, 1, 5, NQ};
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (int dt = 0; dt < 4; dt++) {
            size_t es = emb_dtype_size(dt);
            float wide[DIM];
            for (size_t r = 0; r < N; r++)
                emb_row_encode(k, dt, data + r * DIM * es, &scales[r], src + r * DIM, DIM);
            emb_matrix m = {N, DIM, dt, data, dt == EMB_DTYPE_I8 ? scales : NULL, valid, NULL, NULL};
            for (size_t r = 0; r < N; r++) {
                emb_matrix_row_f32(k, &m, r, wide);
                norms[r] = k->norm_f32(wide, DIM);
            }
            for (int with_norms = 0; with_norms < 2; with_norms++) {
                m.norms = with_norms ? norms : NULL;
                m.valid = with_norms ? valid : NULL;
                for (int metric = 0; metric < 3; metric++)
                    for (size_t ki = 0; ki < 4; ki++)
                        for (size_t qi = 0; qi < 4; qi++)
                            compare(k, &m, q, nqs[qi], metric, ks[ki]);
            }
        }
    }
}

static void test_knn_batch_ties_and_errors(void **state)
{
    (void)state;
    /* four equal rows and one nearer: ties by smaller id */
    float rows[5 * 2] = {1, 0, 1, 0, 1, 0, 1, 0, 3, 0};
    float q[2 * 2] = {1, 0, 0, 0};
    emb_matrix m = {5, 2, EMB_DTYPE_F32, rows, NULL, NULL, NULL, NULL};
    emb_hit out[2 * 3];
    size_t n_out[2];
    emb_err err;
    const emb_kernels *k = emb_kernels_get();
    assert_int_equal(emb_matrix_search_batch(k, &m, q, 2, EMB_METRIC_L2, 3, out, n_out, &err), 0);
    assert_int_equal(n_out[0], 3);
    assert_int_equal(out[0].id, 0);
    assert_int_equal(out[1].id, 1);
    assert_int_equal(out[2].id, 2);
    assert_true(out[0].distance == 0.0f);
    assert_int_equal(out[3].id, 0); /* zero query: distances 1, 1, 1, 1, 3 */
    assert_true(out[3].distance == 1.0f);
    assert_int_equal(out[5].id, 2);
    assert_int_equal(emb_matrix_search_batch(k, &m, q, 2, EMB_METRIC_DOT, 1, out, n_out, &err), 0);
    assert_int_equal(out[0].id, 4);
    assert_true(out[0].distance == -3.0f);

    assert_int_equal(emb_matrix_search_batch(k, &m, q, 2, 7, 3, out, n_out, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "knn: unknown metric 7");
    m.dtype = 9;
    assert_int_equal(emb_matrix_search_batch(k, &m, q, 2, 0, 3, out, n_out, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "knn: unknown dtype 9");
    m.dtype = EMB_DTYPE_I8;
    assert_int_equal(emb_matrix_search_batch(k, &m, q, 2, 0, 3, out, n_out, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "knn: int8 matrix without scales");
    assert_int_equal(emb_matrix_search_batch(k, &m, NULL, 2, 0, 3, out, n_out, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "knn: NULL argument");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knn_batch_equals_single_search),
        cmocka_unit_test(test_knn_batch_ties_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
