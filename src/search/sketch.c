/*
 * sketch.c - int8 sketch and exact top-k search through it (sketch.h).
 *
 * Notation: d = dim, u = 2^-24 (float unit roundoff), q the f32 query,
 * x a row widened to f32 (exactly: f16/bf16 widen without rounding),
 * D^ the float dot product the plain scan computes for (q, x), L^ its float
 * squared L2 distance (scan_l2sq_*).
 *
 * Row encoding (sketch_set, all sums in double).  s = max|x|/127 (float),
 * c_i = round(x_i / s) clamped to [-127, 127], e_i = x_i - s*c_i.  Stored:
 *   e  >= |e|     (sqrt of the double sum of e_i^2, times (1 + R), rounded up)
 *   g  >= s*|c|   (|c|^2 is an exact integer; times (1 + 2^-50), rounded up)
 *   xn ~  |x|     (double sum, rounded to nearest float: relative error
 *                  below 2^-24 + (d+2) 2^-53 < 2^-20)
 * with R = (d+16) 2^-52, which exceeds the relative error of a double sum
 * of d non-negative terms, its square root and one product.  s*c_i is exact
 * in double (24 + 8 bits), so each e_i carries one rounding.
 *
 * Query encoding (per search).  t = max|q| / 127 (float), p_i =
 * round(q_i / t) clamped to [-127, 127] (int8), f = q - t*p.  With
 * qq = sum q_i^2 and ff = sum f_i^2 in double:
 *   QN >= |q|  (sqrt(qq) (1 + R)),  FN >= |f|  (sqrt(ff) (1 + R) + 2^-48 max|q|,
 *   the last term covering the rounding of each double f_i).
 *
 * The interval for one row.  P = sum p_i c_i is computed exactly in integer
 * arithmetic (scan_dot_i8i8, any ISA; |P| <= 127^2 d < 2^31).  Let A = s t P (double: s t is exact,
 * the product with P rounds once, |A^ - A| <= 2^-53 |A|).  Then
 *   q.x = (t p + f).(s c + e) = A + s f.c + q.e,
 *   |q.x - A| <= |f| s|c| + |q||e| <= FN g + QN e =: V            (Cauchy-Schwarz)
 * The plain kernel sums d products in some order (lanes, FMA, a tree): each
 * term passes through at most d + 16 roundings, so (the standard bound for
 * any summation order, Higham 3.1) with G = (d+16)u / (1 - (d+16)u):
 *   |D^ - q.x| <= G sum|q_i x_i| + U <= G QN (g + e) + U,
 * using |x| <= s|c| + |e| <= g + e, and U = (d+16) 2^-147 for results that
 * fall in the subnormal range (absolute error <= 2^-150 each; additions
 * there are exact).  This needs no overflow: every partial sum is at most
 * (1 + G) sum|q_i x_i| <= (1 + G) QN (g + e), so rows where that reaches
 * 1e38 are not bounded (always rescored).  Hence
 *   D^ in [A - W, A + W],  W = V + G QN (g + e) + U,
 * and the double evaluation of A +- W is made safe by widening W by
 * 2^-50 |A| and a factor (1 + 2^-40) (a handful of double roundings, each
 * <= 2^-53 of a magnitude <= |A| + W), then rounding the ends outward to
 * float (Dlo, Dhi).
 *
 * From the dot interval to the distance.  The plain scan's cosine and dot
 * distances are float expressions of D^ with everything else fixed:
 * 1 - D^/(qnorm * rnorm) (with the plain scan's own qnorm = norm_f32(q) and
 * rnorm = m->norms[r]; 1 when the product is 0) and -D^.  Each is a chain of
 * correctly rounded operations, and rounding is monotone (a <= b implies
 * fl(a) <= fl(b), also across overflow), so with D^ in [Dlo, Dhi] the same
 * expression evaluated at Dhi and at Dlo gives a lower and an upper bound
 * of the plain distance.  No NaN arises: the ends are finite and the
 * divisor is > 0 (possibly +inf, giving 0).
 *
 * L2 on f32/f16/bf16: the plain distance is sqrtf(L^), L^ a float sum of d
 * non-negative terms fl(q_i - x_i)^2, so (1 - G) L - U <= L^ <= (1 + G) L + U
 * with L = |q - x|^2 = qq + |x|^2 - 2 q.x, and L^ only grows on overflow.
 * L is bounded from q.x in [A - V, A + V], qq (1 +- R) and |x| in
 * xn (1 +- 2^-20), less / plus 2^-49 of the magnitudes involved for the
 * double evaluation; the float ends are rounded down / up and passed
 * through sqrtf, which is monotone.
 *
 * Search.  Pass 1 scans the sketch block by block; for each candidate row it
 * computes lb <= d_r <= ub.  A bounded heap keeps the k smallest ub; its
 * root T (or +inf while it holds fewer than k) never grows.  Rows with
 * lb > T are dropped at once (ub is only computed for the others); the rest
 * go to a list.  Pass 2 rescores exactly the listed rows with lb <= T_final
 * and offers them to the result heap.  Why this is the plain result: the ub
 * heap holds k rows with d <= ub <= T_final, so the k-th smallest distance
 * d_k <= T_final; every row of the plain top k (by distance, then id) has
 * d <= d_k, so lb <= T_final <= T at the time it was seen: it was listed
 * and rescored.  The exact top k of a superset of the plain top k, under
 * the same total order (distance, id), is the plain top k, with the very
 * distances (the same kernel call and formula, emb_matrix_row_distance).
 *
 * Worst case: when all rows lie within about 2 QN e of the k-th distance
 * (for example all rows equal, or rows whose error bound e is large next to
 * the gaps, such as rows with one outlier dimension far above the rest,
 * which makes s large and every small coordinate round to 0), every row is
 * rescored: the search then costs the plain scan plus the sketch pass.
 */
#include "search/sketch.h"
#include "core/alloc.h"

#include "search/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define SKETCH_BLOCK 256

void emb_sketch_init(emb_sketch *sk, size_t dim)
{
    memset(sk, 0, sizeof *sk);
    sk->dim = dim;
}

void emb_sketch_free(emb_sketch *sk)
{
    if (!sk)
        return;
    emb_free(sk->codes);
    emb_free(sk->rows);
    sk->codes = NULL;
    sk->rows = NULL;
    sk->cap = 0;
}

size_t emb_sketch_bytes(const emb_sketch *sk)
{
    return sk ? sk->cap * (sk->dim + sizeof(emb_sketch_row)) : 0;
}

void emb_sketch_unset(emb_sketch *sk, size_t r)
{
    if (r >= sk->cap)
        return;
    memset(sk->codes + r * sk->dim, 0, sk->dim);
    sk->rows[r] = (emb_sketch_row){0, INFINITY, INFINITY, INFINITY};
}

/* Codes arrays of at least SKETCH_HUGE_MIN bytes are 2 MiB aligned and
 * advised as transparent huge pages (Linux, best effort): the scan streams
 * them, and on 4 KiB pages it pays TLB misses (as the table cache's rows;
 * ext/vtab_cache.c).  The advice must precede the first touch, so they grow
 * by allocate + advise + copy. */
#define SKETCH_HUGE_PAGE ((size_t)2 << 20)
#define SKETCH_HUGE_MIN ((size_t)8 << 20)

static int8_t *codes_alloc(size_t nb)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (nb >= SKETCH_HUGE_MIN) {
        size_t rounded = (nb + SKETCH_HUGE_PAGE - 1) / SKETCH_HUGE_PAGE * SKETCH_HUGE_PAGE;
        void *p = emb_aligned_alloc(SKETCH_HUGE_PAGE, rounded);
        if (!p)
            return NULL;
        (void)madvise(p, rounded, MADV_HUGEPAGE);
        return p;
    }
#endif
    return emb_malloc(nb > 0 ? nb : 1);
}

int emb_sketch_reserve(emb_sketch *sk, size_t n)
{
    if (n <= sk->cap)
        return EMB_OK;
    size_t cap = sk->cap * 2 > n ? sk->cap * 2 : n;
    if (sk->dim && cap > SIZE_MAX / sk->dim)
        return EMB_ENOMEM;
    int8_t *codes = codes_alloc(cap * sk->dim);
    if (!codes)
        return EMB_ENOMEM;
    if (sk->codes)
        memcpy(codes, sk->codes, sk->cap * sk->dim);
    emb_sketch_row *rows = emb_realloc(sk->rows, cap * sizeof *rows);
    if (!rows) {
        emb_free(codes);
        return EMB_ENOMEM;
    }
    emb_free(sk->codes);
    sk->codes = codes;
    sk->rows = rows;
    size_t old = sk->cap;
    sk->cap = cap;
    for (size_t r = old; r < cap; r++)
        emb_sketch_unset(sk, r);
    return EMB_OK;
}

/* The next float above f (f not NaN, not +inf), by its bits. */
static inline float next_up(float f)
{
    if (f == 0)
        return 0x1p-149f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = f > 0 ? u + 1 : u - 1;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* v (a double) rounded to a float toward +inf / -inf. */
static inline float f_up(double v)
{
    float f = (float)v;
    return (double)f < v ? next_up(f) : f;
}

static inline float f_down(double v)
{
    float f = (float)v;
    return (double)f > v ? -next_up(-f) : f;
}

/* R of the header comment: relative error cover of a d-term double sum. */
static double rel_err(size_t d)
{
    return (double)(d + 16) * 0x1p-52;
}

void emb_sketch_set(emb_sketch *sk, size_t r, const float *x)
{
    if (r >= sk->cap)
        return;
    const size_t d = sk->dim;
    int8_t *c = sk->codes + r * d;
    float amax = 0;
    double xx = 0;
    for (size_t i = 0; i < d; i++) {
        if (!isfinite(x[i])) {
            emb_sketch_unset(sk, r);
            return;
        }
        float a = fabsf(x[i]);
        if (a > amax)
            amax = a;
        xx += (double)x[i] * x[i];
    }
    const double R = rel_err(d);
    float s = amax / 127.0f;
    double ee = 0, cc = 0;
    for (size_t i = 0; i < d; i++) {
        double v = s > 0 ? nearbyint((double)x[i] / s) : 0;
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        c[i] = (int8_t)v;
        double e = (double)x[i] - (double)s * v;
        ee += e * e;
        cc += v * v;
    }
    emb_sketch_row *row = &sk->rows[r];
    row->s = s;
    row->e = f_up(sqrt(ee) * (1 + R));
    row->g = f_up((double)s * sqrt(cc) * (1 + 0x1p-50));
    row->xn = (float)sqrt(xx);
}

int emb_sketch_applies(const emb_matrix *m, const float *q, int metric, size_t k)
{
    const emb_sketch *sk = m->sketch;
    (void)q;
    if (!sk || sk->dim != m->dim || sk->cap < m->n_rows || m->dtype == EMB_DTYPE_I8)
        return 0;
    if (metric == EMB_METRIC_COSINE && !m->norms)
        return 0;
    if (metric < 0 || metric > 2 || k == 0)
        return 0;
    return k <= m->n_rows / 8;
}

/* One candidate of pass 1. */
typedef struct cand {
    uint32_t r;
    float lb;
} cand;

/* Per-query constants of the bounds (header comment). */
typedef struct qbounds {
    int metric;
    float qnorm;  /* the plain scan's norm_f32(q) */
    double t;     /* query scale */
    double QN, FN, qq_lo, qq_hi;
    double G, U;
    double FNG, QNG, UG, AG; /* the dot / cosine W regrouped (row_bounds) */
} qbounds;

/* Bounds of row r's plain distance from its exact integer dot P: *lb always,
 * *ub only when want_ub (lb alone decides most rows). */
static inline void row_bounds(const qbounds *b, const emb_matrix *m, const emb_sketch_row *sr,
                              size_t r, int32_t P, int want_ub, float *lb, float *ub)
{
    if (!(sr->e < INFINITY)) {
        *lb = -INFINITY;
        *ub = INFINITY;
        return;
    }
    const double A = (double)sr->s * b->t * (double)P;
    const double absA = fabs(A);
    if (b->metric != EMB_METRIC_L2) {
        /* W of the header comment, regrouped: (FN + G QN) g + (1 + G) QN e
         * + U + 2^-50 |A|, all times (1 + 2^-40) (folded into FNG, QNG, UG,
         * AG); the overflow guard QN (g + e) (1 + G) < 1e38 becomes
         * QNG (g + e) < 1e38 (QNG >= QN (1 + G)). */
        const double g = sr->g, e = sr->e;
        if (b->QNG * (g + e) >= 1e38) {
            *lb = -INFINITY;
            *ub = INFINITY;
            return;
        }
        const double W = b->FNG * g + b->QNG * e + b->UG + absA * b->AG;
        const float dhi = f_up(A + W);
        if (!(dhi < INFINITY)) { /* cannot be -inf: W >= 0 and |A| < 1e38 */
            *lb = -INFINITY;
            *ub = INFINITY;
            return;
        }
        const float rn = b->metric == EMB_METRIC_COSINE ? m->norms[r] : 0;
        *lb = b->metric == EMB_METRIC_DOT ? -dhi
                                          : emb_distance_from_dot(EMB_METRIC_COSINE, dhi, b->qnorm, rn);
        if (!want_ub)
            return;
        const float dlo = f_down(A - W);
        if (!(dlo > -INFINITY)) {
            *lb = -INFINITY;
            *ub = INFINITY;
            return;
        }
        *ub = b->metric == EMB_METRIC_DOT ? -dlo
                                          : emb_distance_from_dot(EMB_METRIC_COSINE, dlo, b->qnorm, rn);
        return;
    }
    const double V = b->FN * sr->g + b->QN * sr->e;
    /* l2: L = qq + |x|^2 - 2 q.x with q.x in [A - V2, A + V2] */
    const double V2 = V * (1 + 0x1p-40) + absA * 0x1p-50;
    const double xlo = (double)sr->xn * (1 - 0x1p-20), xhi = (double)sr->xn * (1 + 0x1p-20);
    const double E = (b->qq_hi + xhi * xhi + 2 * absA + 2 * V2) * 0x1p-49;
    double llo = b->qq_lo + xlo * xlo - 2 * (A + V2) - E;
    llo = llo > 0 ? (llo * (1 - b->G) - b->U) * (1 - 0x1p-50) : 0;
    *lb = sqrtf(llo > 0 ? f_down(llo) : 0.0f);
    if (want_ub) {
        double lhi = b->qq_hi + xhi * xhi - 2 * (A - V2) + E;
        lhi = (lhi * (1 + b->G) + b->U) * (1 + 0x1p-50);
        *ub = lhi >= 1e38 ? INFINITY : sqrtf(f_up(lhi));
    }
}

int emb_sketch_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out,
                      emb_sketch_stats *stats, emb_err *err)
{
    if (!kern || !m || !q || !out || !n_out)
        return emb_err_set(err, EMB_EINVAL, "sketch: NULL argument");
    const emb_sketch *sk = m->sketch;
    if (metric < 0 || metric > 2)
        return emb_err_set(err, EMB_EINVAL, "sketch: unknown metric %d", metric);
    if (stats)
        stats->scanned = stats->rescored = 0;
    const size_t d = m->dim;
    int plain = !sk || sk->dim != d || sk->cap < m->n_rows || m->dtype == EMB_DTYPE_I8 ||
                emb_dtype_size(m->dtype) == 0 || (metric == EMB_METRIC_COSINE && !m->norms) ||
                (double)(d + 16) * 0x1p-24 >= 0.01 || d > 65536;
    float amax = 0;
    double qq = 0;
    for (size_t i = 0; !plain && i < d; i++) {
        if (!isfinite(q[i]))
            plain = 1;
        float a = fabsf(q[i]);
        if (a > amax)
            amax = a;
        qq += (double)q[i] * q[i];
    }
    if (plain || k == 0 || m->n_rows == 0)
        return emb_matrix_search_plain(kern, m, q, metric, k, allow, out, n_out, err);

    /* query encoding */
    int8_t *qc = emb_malloc(d + 1);
    size_t cap = 1024;
    cand *list = emb_malloc(cap * sizeof *list);
    emb_hit *ubh = emb_malloc(k * sizeof *ubh);
    if (!qc || !list || !ubh) {
        emb_free(qc);
        emb_free(list);
        emb_free(ubh);
        return emb_err_set(err, EMB_ENOMEM, "sketch: out of memory");
    }
    const float t = amax / 127.0f;
    double ff = 0;
    for (size_t i = 0; i < d; i++) {
        double v = t > 0 ? nearbyint((double)q[i] / t) : 0;
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        qc[i] = (int8_t)v;
        double f = (double)q[i] - (double)t * v;
        ff += f * f;
    }
    const double R = rel_err(d);
    qbounds b;
    b.metric = metric;
    b.qnorm = metric == EMB_METRIC_COSINE ? kern->norm_f32(q, d) : 0;
    b.t = t;
    b.QN = sqrt(qq) * (1 + R);
    b.FN = sqrt(ff) * (1 + R) + (double)amax * 0x1p-48;
    b.qq_lo = qq * (1 - R);
    b.qq_hi = qq * (1 + R);
    const double gu = (double)(d + 16) * 0x1p-24;
    b.G = gu / (1 - gu);
    b.U = (double)(d + 16) * 0x1p-147;
    b.FNG = (b.FN + b.G * b.QN) * (1 + 0x1p-40);
    b.QNG = b.QN * (1 + b.G) * (1 + 0x1p-40);
    b.UG = b.U * (1 + 0x1p-40);
    b.AG = 0x1p-50 * (1 + 0x1p-40);

    /* pass 1 */
    emb_topk uh;
    emb_topk_init(&uh, ubh, k);
    size_t n_list = 0, scanned = 0;
    int32_t dots[SKETCH_BLOCK];
    int rc = EMB_OK;
    for (size_t b0 = 0; b0 < m->n_rows && rc == EMB_OK; b0 += SKETCH_BLOCK) {
        size_t lo = b0, hi = m->n_rows - b0 < SKETCH_BLOCK ? m->n_rows : b0 + SKETCH_BLOCK;
        if (m->valid || allow) {
            while (lo < hi && !((!m->valid || m->valid[lo]) && (!allow || allow[lo])))
                lo++;
            while (hi > lo && !((!m->valid || m->valid[hi - 1]) && (!allow || allow[hi - 1])))
                hi--;
            if (lo == hi)
                continue;
        }
        kern->scan_dot_i8i8(dots, qc, sk->codes + lo * d, hi - lo, d);
        for (size_t r = lo; r < hi; r++) {
            if ((m->valid && !m->valid[r]) || (allow && !allow[r]))
                continue;
            scanned++;
            const float T = uh.count < k ? INFINITY : uh.h[0].distance;
            float lb, ub = INFINITY;
            row_bounds(&b, m, &sk->rows[r], r, dots[r - lo], 0, &lb, &ub);
            if (lb > T)
                continue;
            row_bounds(&b, m, &sk->rows[r], r, dots[r - lo], 1, &lb, &ub);
            emb_topk_push(&uh, (int64_t)r, ub);
            if (n_list == cap) {
                cand *nl = emb_realloc(list, 2 * cap * sizeof *nl);
                if (!nl) {
                    rc = emb_err_set(err, EMB_ENOMEM, "sketch: out of memory");
                    break;
                }
                list = nl;
                cap *= 2;
            }
            list[n_list++] = (cand){(uint32_t)r, lb};
        }
    }
    size_t rescored = 0;
    if (rc == EMB_OK) {
        /* pass 2 */
        const float T = uh.count < k ? INFINITY : uh.h[0].distance;
        const float qn = (metric == EMB_METRIC_COSINE) ? b.qnorm : 0;
        emb_topk heap;
        emb_topk_init(&heap, out, k);
        for (size_t i = 0; i < n_list; i++) {
            if (list[i].lb > T)
                continue;
            size_t r = list[i].r;
            emb_topk_push(&heap, (int64_t)r, emb_matrix_row_distance(kern, m, q, metric, qn, r));
            rescored++;
        }
        *n_out = emb_topk_finish(&heap);
        if (stats) {
            stats->scanned = scanned;
            stats->rescored = rescored;
        }
    }
    emb_free(qc);
    emb_free(list);
    emb_free(ubh);
    return rc;
}
