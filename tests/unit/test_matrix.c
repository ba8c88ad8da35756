/* test_matrix.c - dtype helpers, row encoding and emb_matrix_search against a
 * brute-force double-precision reference: every metric, every dtype, every
 * kernel table, ties, k > n, allow masks, absent rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/matrix.h"
#include "search/topk.h"

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

static void test_matrix_names(void **state)
{
    (void)state;
    static const char *const d[] = {"f32", "f16", "bf16", "int8"};
    static const size_t sz[] = {4, 2, 2, 1};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(emb_dtype_name(i), d[i]);
        assert_int_equal(emb_dtype_parse(d[i]), i);
        assert_int_equal(emb_dtype_size(i), sz[i]);
    }
    assert_null(emb_dtype_name(4));
    assert_int_equal(emb_dtype_parse("f64"), -1);
    assert_int_equal(emb_dtype_parse(NULL), -1);
    assert_int_equal(emb_dtype_size(9), 0);
    assert_string_equal(emb_metric_name(EMB_METRIC_L2), "l2");
    assert_int_equal(emb_metric_parse("cosine"), EMB_METRIC_COSINE);
    assert_int_equal(emb_metric_parse("dot"), EMB_METRIC_DOT);
    assert_int_equal(emb_metric_parse("L2"), -1);
    assert_null(emb_metric_name(-1));
}

/* The usable kernel tables (skips placeholder tables without kernels). */
static size_t tables(const emb_kernels **out)
{
    size_t n = 0;
    for (const emb_kernels *const *k = emb_kernels_all(); *k; k++)
        if ((*k)->scan_dot_f32 && n < 8)
            out[n++] = *k;
    if (n == 0)
        out[n++] = &emb_kernels_serial;
    return n;
}

static void test_matrix_encode_roundtrip(void **state)
{
    (void)state;
    const emb_kernels *ks[8];
    size_t nk = tables(ks);
    enum { DIM = 41 };
    float src[DIM], back[DIM];
    unsigned char buf[DIM * 4];
    for (int i = 0; i < DIM; i++)
        src[i] = (float)(rnd() * 3.0);
    src[5] = 0;
    for (size_t t = 0; t < nk; t++) {
        for (int dt = 0; dt < 4; dt++) {
            float scale = -1;
            emb_row_encode(ks[t], dt, buf, &scale, src, DIM);
            emb_matrix m = {1, DIM, dt, buf, &scale, NULL, NULL, NULL};
            emb_matrix_row_f32(ks[t], &m, 0, back);
            double amax = 0;
            for (int i = 0; i < DIM; i++)
                amax = fmax(amax, fabs(src[i]));
            for (int i = 0; i < DIM; i++) {
                double e = fabs((double)back[i] - src[i]), tol;
                switch (dt) {
                case EMB_DTYPE_F32: tol = 0; break;
                case EMB_DTYPE_F16: tol = fabs(src[i]) / 2048 + 6e-8; break;
                case EMB_DTYPE_BF16: tol = fabs(src[i]) / 256; break;
                default: tol = amax * (1.0 / 254 + 0x1p-23); break; /* README's bound */
                }
                if (!(e <= tol))
                    fail_msg("%s dtype %d elem %d: %g vs %g", ks[t]->name, dt, i, back[i], src[i]);
            }
            if (dt == EMB_DTYPE_I8)
                assert_true(fabs(scale - amax / 127) < 1e-6);
        }
    }
    /* int8 zero row: scale 0, all zeros */
    float zero[3] = {0, 0, 0}, s = -1;
    int8_t q[3] = {1, 1, 1};
    emb_row_encode(&emb_kernels_serial, EMB_DTYPE_I8, q, &s, zero, 3);
    assert_true(s == 0 && q[0] == 0 && q[1] == 0 && q[2] == 0);
}

/* The int8 bound the README states: |x - q * scale| <= max|row| * (1/254 +
 * 2^-23) for every element, over rows of 1 .. 768 values whose magnitudes
 * span 1e-6 .. 1e6, with every kernel set. */
static void test_matrix_int8_bound(void **state)
{
    (void)state;
    const emb_kernels *ks[8];
    size_t nk = tables(ks);
    enum { MAXD = 768 };
    static float src[MAXD], back[MAXD];
    static int8_t q[MAXD];
    double worst = 0;
    for (int r = 0; r < 3000; r++) {
        int dim = 1 + (int)((rnd() + 1) / 2 * (MAXD - 1));
        double mag = pow(10.0, -6 + 12 * (rnd() + 1) / 2);
        for (int i = 0; i < dim; i++)
            src[i] = (float)(rnd() * mag);
        double amax = 0;
        for (int i = 0; i < dim; i++)
            amax = fmax(amax, fabs(src[i]));
        for (size_t t = 0; t < nk; t++) {
            float scale = -1;
            emb_row_encode(ks[t], EMB_DTYPE_I8, q, &scale, src, (size_t)dim);
            emb_matrix m = {1, (size_t)dim, EMB_DTYPE_I8, q, &scale, NULL, NULL, NULL};
            emb_matrix_row_f32(ks[t], &m, 0, back);
            for (int i = 0; i < dim; i++) {
                double e = fabs((double)back[i] - src[i]);
                if (!(e <= amax * (1.0 / 254 + 0x1p-23)))
                    fail_msg("%s row %d elem %d: error %.9g > max|row| (%.9g) * (1/254 + 2^-23)",
                             ks[t]->name, r, i, e, amax);
                if (amax > 0)
                    worst = fmax(worst, e / (amax / 254));
            }
        }
    }
    assert_true(worst > 1.0 && worst < 1.0 + 254 * 0x1p-23); /* the step is reached, the bound holds */
}

typedef struct ref_hit {
    double d;
    int64_t id;
} ref_hit;

static int cmp_ref(const void *a, const void *b)
{
    const ref_hit *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Distance of widened row r (double math). */
static double ref_distance(const float *row, const float *q, size_t dim, int metric)
{
    double dot = 0, qq = 0, rr = 0, l2 = 0;
    for (size_t i = 0; i < dim; i++) {
        dot += (double)q[i] * row[i];
        qq += (double)q[i] * q[i];
        rr += (double)row[i] * row[i];
        l2 += ((double)q[i] - row[i]) * ((double)q[i] - row[i]);
    }
    if (metric == EMB_METRIC_DOT)
        return -dot;
    if (metric == EMB_METRIC_L2)
        return sqrt(l2);
    return qq > 0 && rr > 0 ? 1.0 - dot / sqrt(qq * rr) : 1.0;
}

static void check_search(const emb_kernels *kern, const emb_matrix *m, const float *widened,
                         const float *q, int metric, size_t k, const uint8_t *allow, double tol)
{
    emb_hit *out = malloc((k ? k : 1) * sizeof *out);
    ref_hit *ref = malloc(m->n_rows * sizeof *ref);
    double *dist_of = malloc(m->n_rows * sizeof *dist_of);
    size_t n_ref = 0, n_out = 99;
    emb_err err;
    for (size_t r = 0; r < m->n_rows; r++) {
        dist_of[r] = ref_distance(widened + r * m->dim, q, m->dim, metric);
        if (emb_matrix_has_row(m, r) && (!allow || allow[r]))
            ref[n_ref++] = (ref_hit){dist_of[r], (int64_t)r};
    }
    qsort(ref, n_ref, sizeof *ref, cmp_ref);
    assert_int_equal(emb_matrix_search(kern, m, q, metric, k, allow, out, &n_out, &err), EMB_OK);
    size_t want = k < n_ref ? k : n_ref;
    assert_int_equal(n_out, want);
    for (size_t i = 0; i < n_out; i++) {
        int64_t id = out[i].id;
        assert_true(id >= 0 && (size_t)id < m->n_rows);
        assert_true(emb_matrix_has_row(m, (size_t)id) && (!allow || allow[id]));
        double scale = fmax(1.0, fabs(ref[i].d));
        if (!(fabs(out[i].distance - ref[i].d) <= tol * scale) ||
            !(fabs(dist_of[id] - ref[i].d) <= tol * scale))
            fail_msg("%s metric %d dtype %d k %zu rank %zu: id %lld d %.9g, ref id %lld d %.9g",
                     kern->name, metric, m->dtype, k, i, (long long)id, out[i].distance,
                     (long long)ref[i].id, ref[i].d);
        if (i > 0) {
            assert_true(out[i - 1].distance <= out[i].distance);
            if (out[i - 1].distance == out[i].distance)
                assert_true(out[i - 1].id < out[i].id);
        }
    }
    free(out);
    free(ref);
    free(dist_of);
}

static void test_matrix_search_vs_reference(void **state)
{
    (void)state;
    enum { N = 600, DIM = 37 };
    const emb_kernels *ks[8];
    size_t nk = tables(ks);
    float *src = malloc(sizeof(float) * N * DIM), *wide = malloc(sizeof(float) * N * DIM);
    unsigned char *data = malloc(N * DIM * 4);
    float scales[N], norms[N], q[DIM], zq[DIM];
    uint8_t valid[N], allow[N];
    for (size_t i = 0; i < (size_t)N * DIM; i++)
        src[i] = (float)rnd();
    for (int i = 0; i < DIM; i++) {
        q[i] = (float)rnd();
        zq[i] = 0;
    }
    for (int r = 0; r < N; r++) {
        valid[r] = (r % 11) != 3 && !(r >= 256 && r < 520); /* a whole absent block */
        allow[r] = (r % 3) == 0 || r > 560;
    }
    memset(src + 17 * DIM, 0, DIM * sizeof(float)); /* a zero row */
    for (size_t t = 0; t < nk; t++) {
        for (int dt = 0; dt < 4; dt++) {
            size_t es = emb_dtype_size(dt);
            for (int r = 0; r < N; r++)
                emb_row_encode(ks[t], dt, data + (size_t)r * DIM * es, &scales[r],
                               src + (size_t)r * DIM, DIM);
            emb_matrix m = {N, DIM, dt, data, dt == EMB_DTYPE_I8 ? scales : NULL, valid, NULL, NULL};
            for (int r = 0; r < N; r++) {
                emb_matrix_row_f32(&emb_kernels_serial, &m, (size_t)r, wide + (size_t)r * DIM);
                double s = 0;
                for (int i = 0; i < DIM; i++)
                    s += (double)wide[r * DIM + i] * wide[r * DIM + i];
                norms[r] = (float)sqrt(s);
            }
            static const size_t kk[] = {1, 5, 10, 64, 300, 1000};
            for (int metric = 0; metric < 3; metric++) {
                double tol = dt == EMB_DTYPE_I8 && metric == EMB_METRIC_L2 ? 2e-4 : 2e-5;
                for (size_t j = 0; j < sizeof kk / sizeof kk[0]; j++) {
                    check_search(ks[t], &m, wide, q, metric, kk[j], NULL, tol);
                    check_search(ks[t], &m, wide, q, metric, kk[j], allow, tol);
                }
                m.norms = norms; /* with precomputed norms */
                check_search(ks[t], &m, wide, q, metric, 10, NULL, tol);
                check_search(ks[t], &m, wide, zq, metric, 7, allow, tol);
                m.valid = NULL; /* all rows present */
                check_search(ks[t], &m, wide, q, metric, 20, NULL, tol);
                m.valid = valid;
                m.norms = NULL;
            }
        }
    }
    free(src);
    free(wide);
    free(data);
}

static void test_matrix_search_ties_and_edges(void **state)
{
    (void)state;
    /* identical rows: equal distances rank by smaller id */
    float rows[6 * 2] = {1, 1, 0, 1, 1, 1, 1, 1, 2, 2, 1, 1};
    float q[2] = {1, 1};
    emb_hit out[10];
    size_t n = 0;
    emb_err err;
    emb_matrix m = {6, 2, EMB_DTYPE_F32, rows, NULL, NULL, NULL, NULL};
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, EMB_METRIC_L2, 3, NULL, out, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(out[0].id == 0 && out[1].id == 2 && out[2].id == 3);
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, EMB_METRIC_COSINE, 10, NULL, out, &n, &err), 0);
    assert_int_equal(n, 6);
    /* cosine: rows 0, 2, 3, 4, 5 all have cos 1 (up to rounding); row 1 last */
    assert_int_equal(out[5].id, 1);
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, EMB_METRIC_DOT, 2, NULL, out, &n, &err), 0);
    assert_true(n == 2 && out[0].id == 4 && out[0].distance == -4.0f && out[1].id == 0);
    /* k = 0, empty matrix, everything masked */
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, EMB_METRIC_DOT, 0, NULL, out, &n, &err), 0);
    assert_int_equal(n, 0);
    uint8_t none[6] = {0};
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, EMB_METRIC_DOT, 5, none, out, &n, &err), 0);
    assert_int_equal(n, 0);
    emb_matrix empty = {0, 2, EMB_DTYPE_F32, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &empty, q, EMB_METRIC_DOT, 5, NULL, out, &n, &err), 0);
    assert_int_equal(n, 0);
    /* errors */
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, 7, 5, NULL, out, &n, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "matrix: unknown metric 7");
    emb_matrix bad = m;
    bad.dtype = 9;
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &bad, q, 0, 5, NULL, out, &n, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "matrix: unknown dtype 9");
    bad.dtype = EMB_DTYPE_I8;
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &bad, q, 0, 5, NULL, out, &n, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "matrix: int8 matrix without scales");
    /* a NaN query gives +inf distances, never NaN */
    float nq[2] = {NAN, 1};
    assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, nq, EMB_METRIC_DOT, 2, NULL, out, &n, &err), 0);
    assert_true(n == 2 && isinf(out[0].distance) && out[0].id == 0 && out[1].id == 1);
}

/* Distances of every row + batched selection give the full search order. */
static void test_matrix_distances_batches(void **state)
{
    (void)state;
    enum { N = 700, DIM = 19 };
    float *x = malloc(sizeof(float) * N * DIM), q[DIM], dist[N];
    uint8_t valid[N];
    for (size_t i = 0; i < (size_t)N * DIM; i++)
        x[i] = (float)rnd();
    for (int i = 0; i < DIM; i++)
        q[i] = (float)rnd();
    for (int r = 0; r < N; r++)
        valid[r] = r % 5 != 0;
    memcpy(x + 7 * DIM, x + 3 * DIM, DIM * sizeof(float)); /* an exact tie: 3 and 7 */
    emb_matrix m = {N, DIM, EMB_DTYPE_F32, x, NULL, valid, NULL, NULL};
    emb_hit *all = malloc(N * sizeof *all), batch[64];
    emb_err err;
    for (int metric = 0; metric < 3; metric++) {
        size_t n_all = 0;
        assert_int_equal(emb_matrix_search(&emb_kernels_serial, &m, q, metric, N, NULL, all, &n_all, &err), 0);
        assert_int_equal(n_all, N - N / 5);
        assert_int_equal(emb_matrix_distances(&emb_kernels_serial, &m, q, metric, NULL, dist, &err), 0);
        for (int r = 0; r < N; r++) {
            if (!valid[r])
                assert_true(isnan(dist[r]));
            else
                assert_true(fabs(dist[r] - ref_distance(x + r * DIM, q, DIM, metric)) < 1e-5);
        }
        size_t got = 0, sizes[] = {1, 5, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64};
        emb_hit last;
        for (size_t b = 0; b < sizeof sizes / sizeof sizes[0]; b++) {
            size_t n = emb_topk_select(dist, N, sizes[b], got ? &last : NULL, batch);
            for (size_t i = 0; i < n; i++, got++) {
                assert_int_equal(batch[i].id, all[got].id);
                assert_true(batch[i].distance == all[got].distance);
            }
            if (n)
                last = batch[n - 1];
        }
        assert_int_equal(got, n_all);
    }
    free(x);
    free(all);
}

static void test_matrix_topk_heap(void **state)
{
    (void)state;
    emb_hit h[5];
    emb_topk t;
    emb_topk_init(&t, h, 5);
    static const float d[] = {5, 3, 9, 3, 1, 7, 3, 0, 8, 2};
    for (int i = 9; i >= 0; i--) /* ids pushed in descending order: ties still by id */
        emb_topk_push(&t, i, d[i]);
    size_t n = emb_topk_finish(&t);
    assert_int_equal(n, 5);
    static const int64_t want[] = {7, 4, 9, 1, 3};
    for (int i = 0; i < 5; i++)
        assert_int_equal(h[i].id, want[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_names),
        cmocka_unit_test(test_matrix_encode_roundtrip),
        cmocka_unit_test(test_matrix_int8_bound),
        cmocka_unit_test(test_matrix_search_vs_reference),
        cmocka_unit_test(test_matrix_search_ties_and_edges),
        cmocka_unit_test(test_matrix_distances_batches),
        cmocka_unit_test(test_matrix_topk_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
