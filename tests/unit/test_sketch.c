/* test_sketch.c - the int8 sketch search (src/search/sketch.c) must return
 * exactly what the plain scan returns: same count, ids, tie order and
 * distances bit for bit, for every kernel table, dtype (f32, f16, bf16)
 * and metric, on data built to break its bounds: ties and duplicate rows,
 * zero rows, rows scaled by 1e-30 / 1e30, subnormal rows, one huge outlier
 * dimension, non-finite rows, k larger than the table, allow masks and
 * absent rows, rows rewritten between queries.  Also: the integer kernel
 * is exact on every ISA (extreme values, every tail length, > 1024 dims),
 * and on plain random data the sketch really prunes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "search/knn.h"
#include "search/sketch.h"
#include "lm/analogy.h"
#include "lm/logits.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static float rnd(void) /* uniform in [-1, 1) */
{
    return (float)((double)(rng() >> 11) / 4503599627370496.0 - 1.0);
}

static void test_kernel_exact(void **state)
{
    (void)state;
    static const size_t dims[] = {1,  2,   15,  16,  17,   31,   32,   33,   63,  64,
                                  65, 127, 128, 129, 1023, 1024, 1025, 2100, 4099};
    int8_t *q = malloc(4099), *rows = malloc(3 * 4099);
    int32_t out[3];
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        size_t d = dims[di];
        for (int mode = 0; mode < 3; mode++) {
            for (size_t i = 0; i < d; i++) {
                q[i] = mode == 0 ? (int8_t)(rng() % 255 - 127) : mode == 1 ? 127 : -127;
                for (int r = 0; r < 3; r++)
                    rows[r * d + i] = mode == 0 ? (int8_t)(rng() % 255 - 127)
                                      : r == 0  ? 127
                                                : -127;
            }
            int64_t want[3];
            for (int r = 0; r < 3; r++) {
                want[r] = 0;
                for (size_t i = 0; i < d; i++)
                    want[r] += (int64_t)q[i] * rows[r * d + i];
            }
            for (int vnni = 0; vnni < 2; vnni++) {
                emb_kernels_use_vnni(vnni);
                for (const emb_kernels *const *k = emb_kernels_all(); *k; k++) {
                    (*k)->scan_dot_i8i8(out, q, rows, 3, d);
                    for (int r = 0; r < 3; r++) {
                        if (out[r] != want[r])
                            fail_msg("%s%s d=%zu mode %d row %d: %lld vs %lld", (*k)->name,
                                     emb_kernels_vnni() ? "+vnni" : "", d, mode, r,
                                     (long long)out[r], (long long)want[r]);
                    }
                    /* the tiled form: 3 rows x n_q queries (rows as queries too) */
                    for (size_t nq = 1; nq <= 6; nq++) {
                        int32_t mo[3 * 6];
                        const int8_t *qq = nq <= 3 ? rows : q;
                        (*k)->scan_dot_i8i8_multi(mo, qq, nq <= 3 ? nq : 1, rows, 3, d);
                        size_t nqq = nq <= 3 ? nq : 1;
                        for (int r = 0; r < 3; r++)
                            for (size_t j = 0; j < nqq; j++) {
                                int64_t w = 0;
                                for (size_t i = 0; i < d; i++)
                                    w += (int64_t)qq[j * d + i] * rows[r * d + i];
                                if (mo[j * 3 + r] != w)
                                    fail_msg("%s%s multi d=%zu nq %zu row %d q %zu: %lld vs %lld",
                                             (*k)->name, emb_kernels_vnni() ? "+vnni" : "", d, nqq,
                                             r, j, (long long)mo[j * 3 + r], (long long)w);
                            }
                    }
                }
            }
            emb_kernels_use_vnni(1);
        }
    }
    free(q);
    free(rows);
}

/* The tiled int8 kernel: 9 rows x 1..7 queries (tiles of 4 with edges),
 * random and extreme codes, every tail length, with and without VNNI. */
static void test_kernel_multi(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 3, 17, 63, 64, 65, 100, 128, 129, 768, 1100};
    int8_t *q = malloc(7 * 1100), *rows = malloc(9 * 1100);
    int32_t out[9 * 7];
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        size_t d = dims[di];
        for (int mode = 0; mode < 2; mode++) {
            for (size_t i = 0; i < 7 * d; i++)
                q[i] = mode ? (int8_t)((i % 3) ? -127 : 127) : (int8_t)(rng() % 255 - 127);
            for (size_t i = 0; i < 9 * d; i++)
                rows[i] = mode ? (int8_t)((i % 2) ? -127 : 127) : (int8_t)(rng() % 255 - 127);
            for (int vnni = 0; vnni < 2; vnni++) {
                emb_kernels_use_vnni(vnni);
                for (const emb_kernels *const *k = emb_kernels_all(); *k; k++)
                    for (size_t nq = 1; nq <= 7; nq++) {
                        (*k)->scan_dot_i8i8_multi(out, q, nq, rows, 9, d);
                        for (size_t r = 0; r < 9; r++)
                            for (size_t j = 0; j < nq; j++) {
                                int64_t w = 0;
                                for (size_t i = 0; i < d; i++)
                                    w += (int64_t)q[j * d + i] * rows[r * d + i];
                                if (out[j * 9 + r] != w)
                                    fail_msg("%s%s multi d=%zu nq %zu row %zu q %zu: %lld vs %lld",
                                             (*k)->name, emb_kernels_vnni() ? "+vnni" : "", d, nq,
                                             r, j, (long long)out[j * 9 + r], (long long)w);
                            }
                    }
            }
            emb_kernels_use_vnni(1);
        }
    }
    free(q);
    free(rows);
}

/* A test matrix: f32 source rows, stored in dtype, widened copy for the
 * sketch and norms, valid flags. */
typedef struct tmat {
    size_t n, dim;
    int dtype;
    float *src;  /* n * dim */
    void *data;  /* stored */
    float *wide; /* widened stored rows */
    float *norms;
    uint8_t *valid;
    emb_sketch sk;
    emb_matrix m;
} tmat;

static void tmat_row(tmat *t, const emb_kernels *k, size_t r)
{
    size_t es = emb_dtype_size(t->dtype);
    emb_row_encode(k, t->dtype, (char *)t->data + r * t->dim * es, NULL, t->src + r * t->dim,
                   t->dim);
    emb_matrix_row_f32(k, &t->m, r, t->wide + r * t->dim);
    t->norms[r] = k->norm_f32(t->wide + r * t->dim, t->dim);
    emb_sketch_set(&t->sk, r, t->wide + r * t->dim);
}

static void tmat_build(tmat *t, const emb_kernels *k, int dtype)
{
    t->dtype = dtype;
    t->data = malloc(t->n * t->dim * 4 + 1);
    t->wide = malloc(t->n * t->dim * sizeof(float) + 1);
    t->norms = malloc(t->n * sizeof(float) + 1);
    emb_sketch_init(&t->sk, t->dim);
    assert_int_equal(emb_sketch_reserve(&t->sk, t->n), EMB_OK);
    t->m = (emb_matrix){t->n, t->dim, dtype, t->data, NULL, t->valid, t->norms, &t->sk};
    for (size_t r = 0; r < t->n; r++)
        tmat_row(t, k, r);
}

static void tmat_free(tmat *t)
{
    free(t->data);
    free(t->wide);
    free(t->norms);
    emb_sketch_free(&t->sk);
}

static size_t total_scanned, total_rescored;

/* Plain and sketch search agree exactly. */
static void check_same(const emb_kernels *k, const tmat *t, const float *q, int metric, size_t kk,
                       const uint8_t *allow, const char *what)
{
    emb_hit *a = malloc((kk + 1) * sizeof *a), *b = malloc((kk + 1) * sizeof *b);
    size_t na = 99, nb = 98;
    emb_err err;
    emb_sketch_stats st;
    assert_int_equal(emb_matrix_search_plain(k, &t->m, q, metric, kk, allow, a, &na, &err), 0);
    assert_int_equal(emb_sketch_search(k, &t->m, q, metric, kk, allow, b, &nb, &st, &err), 0);
    total_scanned += st.scanned;
    total_rescored += st.rescored;
    if (na != nb)
        fail_msg("%s %s %s metric %d k %zu: %zu vs %zu hits", what, k->name,
                 emb_dtype_name(t->dtype), metric, kk, na, nb);
    for (size_t i = 0; i < na; i++)
        if (a[i].id != b[i].id || memcmp(&a[i].distance, &b[i].distance, sizeof(float)) != 0)
            fail_msg("%s %s %s metric %d k %zu hit %zu: plain (%lld, %.9g) sketch (%lld, %.9g)",
                     what, k->name, emb_dtype_name(t->dtype), metric, kk, i, (long long)a[i].id,
                     a[i].distance, (long long)b[i].id, b[i].distance);
    free(a);
    free(b);
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* emb_matrix_search_batch (emb_knn) with and without the sketch agree
 * exactly for a batch of n_q queries. */
static void check_batch(const emb_kernels *k, const tmat *t, const float *q, size_t n_q,
                        int metric, size_t kk, const char *what)
{
    emb_hit *a = malloc((n_q * kk + 1) * sizeof *a), *b = malloc((n_q * kk + 1) * sizeof *b);
    size_t na[8], nb[8];
    emb_err err;
    emb_matrix plain = t->m;
    plain.sketch = NULL;
    assert_true(n_q <= 8);
    assert_int_equal(emb_matrix_search_batch(k, &plain, q, n_q, metric, kk, a, na, &err), 0);
    assert_int_equal(emb_matrix_search_batch(k, &t->m, q, n_q, metric, kk, b, nb, &err), 0);
    for (size_t j = 0; j < n_q; j++) {
        if (na[j] != nb[j])
            fail_msg("batch %s %s %s metric %d k %zu query %zu: %zu vs %zu hits", what, k->name,
                     emb_dtype_name(t->dtype), metric, kk, j, na[j], nb[j]);
        for (size_t i = 0; i < na[j]; i++) {
            const emb_hit *x = &a[j * kk + i], *y = &b[j * kk + i];
            if (x->id != y->id || !same_bits(x->distance, y->distance))
                fail_msg("batch %s %s %s metric %d k %zu query %zu hit %zu: plain (%lld, %.9g) "
                         "sketch (%lld, %.9g)",
                         what, k->name, emb_dtype_name(t->dtype), metric, kk, j, i,
                         (long long)x->id, x->distance, (long long)y->id, y->distance);
        }
    }
    free(a);
    free(b);
}

static void check_scored(const emb_scored *a, size_t na, const emb_scored *b, size_t nb,
                         const char *fn, const char *what, const emb_kernels *k, const tmat *t,
                         size_t kk)
{
    if (na != nb)
        fail_msg("%s %s %s %s k %zu: %zu vs %zu results", fn, what, k->name,
                 emb_dtype_name(t->dtype), kk, na, nb);
    for (size_t i = 0; i < na; i++)
        if (a[i].id != b[i].id || !same_bits(a[i].score, b[i].score))
            fail_msg("%s %s %s %s k %zu item %zu: plain (%lld, %.9g) sketch (%lld, %.9g)", fn,
                     what, k->name, emb_dtype_name(t->dtype), kk, i, (long long)a[i].id,
                     a[i].score, (long long)b[i].id, b[i].score);
}

/* most_similar (3CosAdd, ids and a raw vector as terms, rows limited by
 * row_end) and logits' top k (no probabilities, and with them) with and
 * without the sketch. */
static void check_lm(const emb_kernels *k, const tmat *t, const float *q, size_t kk,
                     const char *what)
{
    emb_scored *a = malloc((kk + 1) * sizeof *a), *b = malloc((kk + 1) * sizeof *b);
    double *pa = malloc((kk + 1) * sizeof *pa), *pb = malloc((kk + 1) * sizeof *pb);
    size_t na = 0, nb = 0;
    emb_err err;
    emb_matrix plain = t->m;
    plain.sketch = NULL;
    int64_t ids[3];
    size_t found = 0;
    for (size_t r = 0; r < t->n && found < 3; r++)
        if (emb_matrix_has_row(&t->m, r))
            ids[found++] = (int64_t)r;
    if (found == 3) {
        emb_term pos[2] = {{ids[1], NULL}, {-1, q}}, neg[1] = {{ids[0], NULL}};
        for (int shape = 0; shape < 3; shape++) {
            size_t np = shape == 0 ? 1 : 2, nn = shape == 2 ? 0 : 1;
            size_t end = shape == 1 ? t->n / 2 : t->n;
            int ra = emb_most_similar_terms(k, &plain, pos, np, neg, nn, EMB_SIM_3COSADD, end, kk,
                                            a, &na, &err);
            int rb = emb_most_similar_terms(k, &t->m, pos, np, neg, nn, EMB_SIM_3COSADD, end, kk,
                                            b, &nb, &err);
            assert_int_equal(ra, rb);
            if (ra == 0)
                check_scored(a, na, b, nb, "most_similar", what, k, t, kk);
        }
    }
    assert_int_equal(emb_logits_topk(k, &plain, q, kk, 1.0, a, NULL, &na, &err), 0);
    assert_int_equal(emb_logits_topk(k, &t->m, q, kk, 1.0, b, NULL, &nb, &err), 0);
    check_scored(a, na, b, nb, "logits", what, k, t, kk);
    assert_int_equal(emb_logits_topk(k, &t->m, q, kk, 0.5, b, pb, &nb, &err), 0);
    assert_int_equal(emb_logits_topk(k, &plain, q, kk, 0.5, a, pa, &na, &err), 0);
    check_scored(a, na, b, nb, "logits+prob", what, k, t, kk);
    free(a);
    free(b);
    free(pa);
    free(pb);
}

typedef void (*fill_fn)(float *src, size_t n, size_t dim);

static void fill_random(float *s, size_t n, size_t dim)
{
    for (size_t i = 0; i < n * dim; i++)
        s[i] = rnd();
}

static void fill_duplicates(float *s, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < dim; i++)
            s[r * dim + i] = r < 7 ? rnd() : s[(r % 7) * dim + i];
}

static void fill_integers(float *s, size_t n, size_t dim) /* many exactly equal distances */
{
    for (size_t i = 0; i < n * dim; i++)
        s[i] = (float)((int)(rng() % 5) - 2);
}

static void fill_zeros_mixed(float *s, size_t n, size_t dim)
{
    fill_random(s, n, dim);
    for (size_t r = 0; r < n; r += 3)
        memset(s + r * dim, 0, dim * sizeof *s);
}

static void fill_scaled(float *s, size_t n, size_t dim) /* 1e-30 and 1e30 rows */
{
    fill_random(s, n, dim);
    for (size_t r = 0; r < n; r++) {
        float f = r % 4 == 0 ? 1e-30f : r % 4 == 1 ? 1e30f : r % 4 == 2 ? 1.0f : 1e-5f;
        for (size_t i = 0; i < dim; i++)
            s[r * dim + i] *= f;
    }
}

static void fill_subnormal(float *s, size_t n, size_t dim)
{
    fill_random(s, n, dim);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < dim; i++)
            s[r * dim + i] *= r % 2 ? 1e-40f : 1e-38f;
}

static void fill_outlier(float *s, size_t n, size_t dim) /* one dimension 1000x the rest */
{
    fill_random(s, n, dim);
    for (size_t r = 0; r < n; r++)
        s[r * dim + 3] = 1000.0f + 0.01f * rnd();
}

static void fill_nonfinite(float *s, size_t n, size_t dim)
{
    fill_random(s, n, dim);
    for (size_t r = 5; r < n; r += 11)
        s[r * dim + r % dim] = r % 2 ? INFINITY : -INFINITY;
}

static void fill_near_dups(float *s, size_t n, size_t dim) /* rows 1 ulp apart */
{
    fill_random(s, 1, dim);
    for (size_t r = 1; r < n; r++)
        for (size_t i = 0; i < dim; i++)
            s[r * dim + i] = nextafterf(s[(r - 1) * dim + i], (rng() & 1) ? 2.0f : -2.0f);
}

static void run_case(const char *what, fill_fn fill, size_t n, size_t dim)
{
    float *src = malloc(n * dim * sizeof *src);
    float *q = malloc(dim * sizeof *q);
    uint8_t *valid = malloc(n), *allow = malloc(n);
    fill(src, n, dim);
    for (size_t r = 0; r < n; r++) {
        valid[r] = r % 13 != 5;
        allow[r] = r % 3 != 1;
    }
    static const int dtypes[] = {EMB_DTYPE_F32, EMB_DTYPE_F16, EMB_DTYPE_BF16};
    static const size_t ks[] = {1, 3, 10, 1000};
    float *qs = malloc(6 * dim * sizeof *qs);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (int di = 0; di < 3; di++) {
            tmat t = {.n = n, .dim = dim, .src = src, .valid = valid};
            tmat_build(&t, k, dtypes[di]);
            for (int qi = 0; qi < 6; qi++) {
                /* queries: random, a stored row, a scaled row, a zero query */
                for (size_t i = 0; i < dim; i++)
                    q[i] = qi == 0 ? rnd()
                         : qi == 1 ? t.wide[7 * dim + i]
                         : qi == 2 ? t.wide[(n - 2) * dim + i] * 3.0f
                         : qi == 3 ? 0.0f
                         : qi == 4 ? rnd() * 1e20f
                                   : src[(n / 2) * dim + i] + 1e-3f * rnd();
                for (int metric = 0; metric < 3; metric++)
                    for (size_t ki = 0; ki < 4; ki++) {
                        check_same(k, &t, q, metric, ks[ki], NULL, what);
                        check_same(k, &t, q, metric, ks[ki], allow, what);
                    }
                for (size_t ki = 0; ki < 4; ki++)
                    check_lm(k, &t, q, ks[ki], what);
                memcpy(qs + qi * dim, q, dim * sizeof *q);
            }
            for (int metric = 0; metric < 3; metric++)
                for (size_t ki = 0; ki < 4; ki++) {
                    check_batch(k, &t, qs, 6, metric, ks[ki], what);
                    check_batch(k, &t, qs + dim, 1, metric, ks[ki], what);
                }
            tmat_free(&t);
        }
    }
    free(qs);
    free(src);
    free(q);
    free(valid);
    free(allow);
}

static void test_random(void **s)
{
    (void)s;
    run_case("random", fill_random, 300, 37);
}
static void test_duplicates(void **s)
{
    (void)s;
    run_case("duplicates", fill_duplicates, 200, 16);
}
static void test_integers(void **s)
{
    (void)s;
    run_case("integers", fill_integers, 250, 8);
}
static void test_zeros(void **s)
{
    (void)s;
    run_case("zeros", fill_zeros_mixed, 200, 24);
}
static void test_scaled(void **s)
{
    (void)s;
    run_case("scaled", fill_scaled, 200, 40);
}
static void test_subnormal(void **s)
{
    (void)s;
    run_case("subnormal", fill_subnormal, 120, 20);
}
static void test_outlier(void **s)
{
    (void)s;
    run_case("outlier", fill_outlier, 200, 64);
}
static void test_nonfinite(void **s)
{
    (void)s;
    run_case("nonfinite", fill_nonfinite, 150, 12);
}
static void test_near_dups(void **s)
{
    (void)s;
    run_case("near duplicates", fill_near_dups, 150, 33);
}
static void test_one_dim(void **s)
{
    (void)s;
    run_case("one dim", fill_random, 100, 1);
}
static void test_wide(void **s) /* > 1024 dims: the kernels' int64 flush */
{
    (void)s;
    run_case("wide", fill_random, 40, 1100);
}

/* Integer rows with max |x| = 127 quantise exactly (s = 1, e = 0) and an
 * integer query with max |q| = 127 too (t = 1, f = 0): the sketch's integer
 * dot is then the true dot and its bound only the kernels' rounding terms.
 * Coordinates 8..511 hold +-127-sized terms that coordinates 520..1023
 * cancel exactly, so partial sums are large while the dot is small; rows
 * differ by +-1 in coordinates 0..7 (where q is 1): many exact ties, which
 * must come out in id order as in the plain scan. */
static void test_exact_ties(void **s)
{
    (void)s;
    const size_t n = 300, dim = 1024;
    float *src = malloc(n * dim * sizeof *src), q[1024], base[1024];
    for (size_t i = 0; i < dim; i++) {
        base[i] = 0;
        q[i] = 127.0f;
    }
    for (size_t i = 0; i < 8; i++) {
        base[i] = (float)((int)(rng() % 100) - 50);
        q[i] = 1.0f;
    }
    for (size_t i = 8; i < 512; i++) {
        base[i] = (float)((int)(rng() % 255) - 127);
        base[i + 512] = -base[i];
    }
    base[8] = 127;
    base[520] = -127;
    for (size_t r = 0; r < n; r++) {
        memcpy(src + r * dim, base, sizeof base);
        src[r * dim + r % 8] += (float)((int)(r / 8 % 3) - 1);
    }
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        tmat t = {.n = n, .dim = dim, .src = src, .valid = NULL};
        tmat_build(&t, *kp, EMB_DTYPE_F32);
        for (int metric = 0; metric < 2; metric++)
            for (size_t kk = 1; kk <= 30; kk += 7)
                check_same(*kp, &t, q, metric, kk, NULL, "exact ties");
        tmat_free(&t);
    }
    free(src);
}

/* Rows rewritten, deleted (valid 0) and re-added between queries. */
static void test_writes_between_queries(void **s)
{
    (void)s;
    const size_t n = 400, dim = 32;
    float *src = malloc(n * dim * sizeof *src), q[32];
    uint8_t *valid = malloc(n);
    fill_random(src, n, dim);
    memset(valid, 1, n);
    const emb_kernels *k = emb_kernels_get();
    tmat t = {.n = n, .dim = dim, .src = src, .valid = valid};
    tmat_build(&t, k, EMB_DTYPE_F32);
    for (int round = 0; round < 40; round++) {
        for (size_t i = 0; i < dim; i++)
            q[i] = rnd();
        size_t r = rng() % n;
        if (round % 3 == 0) { /* the query's own direction becomes a row */
            memcpy(src + r * dim, q, sizeof q);
            tmat_row(&t, k, r);
        } else if (round % 3 == 1) {
            valid[r] = 0;
            emb_sketch_unset(&t.sk, r);
        } else {
            for (size_t i = 0; i < dim; i++)
                src[r * dim + i] = q[i] * 0.5f + 1e-6f;
            valid[r] = 1;
            tmat_row(&t, k, r);
        }
        for (int metric = 0; metric < 3; metric++)
            check_same(k, &t, q, metric, 5, NULL, "writes");
    }
    tmat_free(&t);
    free(src);
    free(valid);
}

/* On plain random data the sketch must prune (else it is only a slower plain
 * scan), and an unset row is always rescored. */
static void test_prunes(void **s)
{
    (void)s;
    const size_t n = 4000, dim = 64;
    float *src = malloc(n * dim * sizeof *src), q[64];
    fill_random(src, n, dim);
    const emb_kernels *k = emb_kernels_get();
    tmat t = {.n = n, .dim = dim, .src = src, .valid = NULL};
    tmat_build(&t, k, EMB_DTYPE_F32);
    for (int metric = 0; metric < 3; metric++) {
        total_scanned = total_rescored = 0;
        for (int j = 0; j < 10; j++) {
            for (size_t i = 0; i < dim; i++)
                q[i] = rnd();
            check_same(k, &t, q, metric, 10, NULL, "prunes");
        }
        assert_int_equal(total_scanned, 10 * n);
        if (total_rescored * 5 > total_scanned)
            fail_msg("metric %d: rescored %zu of %zu rows", metric, total_rescored, total_scanned);
    }
    emb_sketch_unset(&t.sk, 17);
    emb_hit out[10];
    size_t nh;
    emb_sketch_stats st;
    emb_err err;
    assert_int_equal(emb_sketch_search(k, &t.m, q, 0, 10, NULL, out, &nh, &st, &err), 0);
    check_same(k, &t, q, 0, 10, NULL, "unset row");
    assert_true(emb_sketch_applies(&t.m, q, 0, 10));
    assert_false(emb_sketch_applies(&t.m, q, 0, n));
    t.m.sketch = NULL;
    assert_false(emb_sketch_applies(&t.m, q, 0, 10));
    tmat_free(&t);
    free(src);
}

/* Two threads (emb_sketch_set_threads(2)): each half of the rows has its
 * own thresholds; the results must not change (single, batch, most_similar
 * and logits), also with absent rows, an allow mask and ties. */
static void test_two_threads(void **s)
{
    (void)s;
    const size_t n = 34000, dim = 16; /* rows x 1 query above the threads' minimum work */
    float *src = malloc(n * dim * sizeof *src), *qs = malloc(8 * dim * sizeof *qs);
    uint8_t *valid = malloc(n), *allow = malloc(n);
    fill_duplicates(src, n, dim);
    for (size_t r = 0; r < n; r++) {
        valid[r] = r % 13 != 5;
        allow[r] = r % 3 != 1;
        if (r % 7 == 3)
            for (size_t i = 0; i < dim; i++)
                src[r * dim + i] = rnd();
    }
    for (size_t i = 0; i < 8 * dim; i++)
        qs[i] = rnd();
    memcpy(qs + 3 * dim, src + 17003 * dim, dim * sizeof *qs); /* a row near the split */
    int was = emb_sketch_get_threads();
    /* nothing has set it yet: the default, 2 threads where there are 2 cores */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(was, cores >= 2 ? 2 : 1);
    assert_true(emb_sketch_set_threads(2) >= 1);
    assert_int_equal(emb_sketch_set_threads(64) <= 2, 1);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        tmat t = {.n = n, .dim = dim, .src = src, .valid = valid};
        tmat_build(&t, *kp, EMB_DTYPE_F32);
        for (int metric = 0; metric < 3; metric++) {
            for (size_t j = 0; j < 8; j++) {
                check_same(*kp, &t, qs + j * dim, metric, 10, NULL, "threads");
                check_same(*kp, &t, qs + j * dim, metric, 7, allow, "threads");
            }
            check_batch(*kp, &t, qs, 8, metric, 10, "threads");
        }
        for (size_t j = 0; j < 8; j++)
            check_lm(*kp, &t, qs + j * dim, 10, "threads");
        tmat_free(&t);
    }
    emb_sketch_set_threads(was);
    free(src);
    free(qs);
    free(valid);
    free(allow);
}

/* Out of memory (src/core/alloc.h failure injection, allocation k fails and
 * every later one): the sketch's candidate search returns EMB_ENOMEM or
 * EMB_OK cleanly, and every caller then still answers (through the plain
 * path) with the plain result, or reports EMB_ENOMEM; nothing leaks (ASan). */
static void test_oom(void **s)
{
    (void)s;
    const size_t n = 2000, dim = 20;
    float *src = malloc(n * dim * sizeof *src), *qs = malloc(4 * dim * sizeof *qs);
    fill_random(src, n, dim);
    for (size_t i = 0; i < 4 * dim; i++)
        qs[i] = rnd();
    const emb_kernels *k = emb_kernels_get();
    tmat t = {.n = n, .dim = dim, .src = src, .valid = NULL};
    tmat_build(&t, k, EMB_DTYPE_F32);
    emb_matrix plain = t.m;
    plain.sketch = NULL;
    emb_hit want[4 * 10], got[4 * 10];
    size_t nw[4], ng[4];
    emb_err err;
    assert_int_equal(emb_matrix_search_batch(k, &plain, qs, 4, 0, 10, want, nw, &err), 0);
    int sticky_done = 0;
    for (long fail = 0; fail < 200 && !sticky_done; fail++) {
        emb_sketch_cands c[4];
        emb_sketch_key key = {EMB_SKETCH_KEY_COSINE, t.norms};
        emb_alloc_fail_after(fail, 1);
        int rc = emb_sketch_candidates(k, &t.m, qs, 4, &key, 10, NULL, c, NULL, &err);
        emb_alloc_fail_after(-1, 0);
        assert_true(rc == EMB_OK || rc == EMB_ENOMEM);
        if (rc == EMB_OK) {
            emb_sketch_cands_free(c, 4);
            sticky_done = 1;
        }
        /* the callers: a result equal to the plain one, or EMB_ENOMEM */
        emb_alloc_fail_after(fail, 1);
        rc = emb_matrix_search_batch(k, &t.m, qs, 4, 0, 10, got, ng, &err);
        emb_alloc_fail_after(-1, 0);
        assert_true(rc == EMB_OK || rc == EMB_ENOMEM);
        for (size_t j = 0; rc == EMB_OK && j < 4; j++) {
            assert_int_equal(nw[j], ng[j]);
            for (size_t i = 0; i < nw[j]; i++) {
                assert_int_equal(want[j * 10 + i].id, got[j * 10 + i].id);
                assert_true(same_bits(want[j * 10 + i].distance, got[j * 10 + i].distance));
            }
        }
        emb_alloc_fail_after(fail, 1);
        rc = emb_matrix_search(k, &t.m, qs, 0, 10, NULL, got, ng, &err);
        emb_alloc_fail_after(-1, 0);
        assert_int_equal(rc, EMB_OK); /* the plain scan allocates nothing */
        assert_int_equal(ng[0], nw[0]);
        for (size_t i = 0; i < nw[0]; i++)
            assert_int_equal(want[i].id, got[i].id);
        emb_scored sa[10], sb[10];
        size_t na = 0, nb = 0;
        assert_int_equal(emb_logits_topk(k, &plain, qs, 10, 1.0, sa, NULL, &na, &err), 0);
        emb_alloc_fail_after(fail, 1);
        rc = emb_logits_topk(k, &t.m, qs, 10, 1.0, sb, NULL, &nb, &err);
        emb_alloc_fail_after(-1, 0);
        assert_true(rc == EMB_OK || rc == EMB_ENOMEM);
        if (rc == EMB_OK)
            check_scored(sa, na, sb, nb, "logits", "oom", k, &t, 10);
        int64_t ids[2] = {3, 9};
        assert_int_equal(emb_most_similar(k, &plain, ids, 1, ids + 1, 1, EMB_SIM_3COSADD, 10, sa,
                                          &na, &err), 0);
        emb_alloc_fail_after(fail, 1);
        rc = emb_most_similar(k, &t.m, ids, 1, ids + 1, 1, EMB_SIM_3COSADD, 10, sb, &nb, &err);
        emb_alloc_fail_after(-1, 0);
        assert_true(rc == EMB_OK || rc == EMB_ENOMEM);
        if (rc == EMB_OK)
            check_scored(sa, na, sb, nb, "most_similar", "oom", k, &t, 10);
    }
    assert_true(sticky_done);
    tmat_free(&t);
    free(src);
    free(qs);
}

int main(void)
{
    /* `make tsan` runs only the threaded test (EMB_TEST_FILTER=test_two_threads) */
    if (getenv("EMB_TEST_FILTER"))
        cmocka_set_test_filter(getenv("EMB_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_exact),       cmocka_unit_test(test_kernel_multi),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_duplicates),         cmocka_unit_test(test_integers),
        cmocka_unit_test(test_zeros),              cmocka_unit_test(test_scaled),
        cmocka_unit_test(test_subnormal),          cmocka_unit_test(test_outlier),
        cmocka_unit_test(test_nonfinite),          cmocka_unit_test(test_near_dups),
        cmocka_unit_test(test_one_dim),            cmocka_unit_test(test_wide),
        cmocka_unit_test(test_writes_between_queries), cmocka_unit_test(test_exact_ties), cmocka_unit_test(test_prunes),
        cmocka_unit_test(test_two_threads),        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
