/*
 * test_pca.c - the PCA core (src/lm/pca.c): the Jacobi eigen-decomposition
 * against its defining identities on random symmetric matrices and a known
 * spectrum, and emb_pca's arguments, signs and messages.  Agreement with
 * numpy's SVD is tests/sql/pca_numpy.sql.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm/pca.h"

static uint64_t rng = 88172645463325252ull;
static double uniform(void) /* xorshift64, [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

/* A V = V diag(w), Vᵀ V = I, w descending, for random symmetric matrices */
static void test_pca_eigen_identities(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 7, 31, 64};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t m = sizes[t];
        double *a = malloc(m * m * sizeof *a), *a0 = malloc(m * m * sizeof *a0);
        double *v = malloc(m * m * sizeof *v), *w = malloc(m * sizeof *w);
        for (size_t r = 0; r < m; r++)
            for (size_t c = r; c < m; c++)
                a[r * m + c] = a[c * m + r] = uniform();
        memcpy(a0, a, m * m * sizeof *a);
        emb_err err;
        assert_int_equal(emb_sym_eigen(a, m, w, v, &err), EMB_OK);
        double worst = 0.0;
        for (size_t j = 0; j < m; j++) {
            if (j > 0)
                assert_true(w[j - 1] >= w[j]);
            for (size_t r = 0; r < m; r++) {
                double av = 0.0;
                for (size_t c = 0; c < m; c++)
                    av += a0[r * m + c] * v[c * m + j];
                worst = fmax(worst, fabs(av - w[j] * v[r * m + j]));
            }
            for (size_t j2 = 0; j2 < m; j2++) {
                double d = 0.0;
                for (size_t r = 0; r < m; r++)
                    d += v[r * m + j] * v[r * m + j2];
                worst = fmax(worst, fabs(d - (j == j2)));
            }
        }
        assert_true(worst <= 1e-12);
        free(a), free(a0), free(v), free(w);
    }
}

/* diag(3, -1, 2) rotated: the eigenvalues come back sorted */
static void test_pca_eigen_known(void **state)
{
    (void)state;
    double c = cos(0.3), s = sin(0.3);
    double q[9] = {c, -s, 0, s, c, 0, 0, 0, 1}, d[3] = {3, -1, 2}, a[9];
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 3; k++) {
            a[r * 3 + k] = 0;
            for (int e = 0; e < 3; e++)
                a[r * 3 + k] += q[r * 3 + e] * d[e] * q[k * 3 + e];
        }
    double w[3], v[9];
    assert_int_equal(emb_sym_eigen(a, 3, w, v, NULL), EMB_OK);
    assert_true(fabs(w[0] - 3) < 1e-14 && fabs(w[1] - 2) < 1e-14 && fabs(w[2] + 1) < 1e-14);
}

/* four points of a square: variances, centred scores, the sign rule */
static void test_pca_square(void **state)
{
    (void)state;
    const float pts[] = {0, 0, 4, 0, 0, 2, 4, 2}; /* 4 wide, 2 high */
    double sc[8], var[2];
    emb_err err;
    assert_int_equal(emb_pca(pts, 4, 2, 2, sc, var, &err), EMB_OK);
    assert_true(fabs(var[0] - 16.0 / 3) < 1e-12 && fabs(var[1] - 4.0 / 3) < 1e-12);
    for (int i = 0; i < 4; i++) {
        assert_true(fabs(fabs(sc[i * 2]) - 2) < 1e-12);
        assert_true(fabs(fabs(sc[i * 2 + 1]) - 1) < 1e-12);
    }
    /* all |scores| tie: the first point's score is made positive */
    assert_true(sc[0] > 0 && sc[1] > 0);
}

/* a point set with more dims than points takes the Gram path: same scores
 * as the same points padded with zero dims that keep d < n */
static void test_pca_gram_equals_scatter(void **state)
{
    (void)state;
    enum { N = 6, D = 9 };
    float wide[N * D], narrow[N * 4];
    for (int i = 0; i < N; i++)
        for (int c = 0; c < D; c++)
            wide[i * D + c] = c < 4 ? (float)uniform() : 0.0f;
    for (int i = 0; i < N; i++)
        memcpy(narrow + i * 4, wide + i * D, 4 * sizeof(float));
    double a[N * 3], b[N * 3];
    assert_int_equal(emb_pca(wide, N, D, 3, a, NULL, NULL), EMB_OK);   /* n < d: Gram */
    assert_int_equal(emb_pca(narrow, N, 4, 3, b, NULL, NULL), EMB_OK); /* d < n: scatter */
    for (int i = 0; i < N * 3; i++)
        assert_true(fabs(a[i] - b[i]) < 1e-12);
}

static void test_pca_errors(void **state)
{
    (void)state;
    const float pts[6] = {1, 2, 3, 4, 5, 6};
    double sc[6];
    emb_err err;
    assert_int_equal(emb_pca(pts, 1, 3, 1, sc, NULL, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "pca: needs at least 2 points (found 1)");
    assert_int_equal(emb_pca(pts, 2, 3, 3, sc, NULL, &err), EMB_EINVAL);
    assert_string_equal(err.msg, "pca: components must be 1 .. min(points, dim) = 2 (found 3)");
    assert_int_equal(emb_pca(pts, 2, 3, 0, sc, NULL, &err), EMB_EINVAL);
    assert_int_equal(emb_pca(pts, 2000, 2000, 1, sc, NULL, &err), EMB_ERANGE);
    assert_string_equal(err.msg, "pca: min(points, dim) is at most 1024 (found 2000 points of dim 2000)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pca_eigen_identities),
        cmocka_unit_test(test_pca_eigen_known),
        cmocka_unit_test(test_pca_square),
        cmocka_unit_test(test_pca_gram_equals_scatter),
        cmocka_unit_test(test_pca_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
