/*
 * sketch_search.c - exact top k through the int8 sketch (sketch.h): the
 * bounds, the candidate pass (one or two threads) and the single-query
 * search.  The encoding and its stored bounds are in sketch.c; notation as
 * there: d = dim, u = 2^-24 (float unit roundoff), q the f32 query, x a row
 * widened to f32 (exactly: f16/bf16 widen without rounding), D^ the float
 * dot product the plain scan computes for (q, x), L^ its float squared L2
 * distance (scan_l2sq_*), s, c, e, g, xn and R the row's scale, codes,
 * error, bounds and the double-sum error cover of sketch.c.
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
 * The other keys of emb_sketch_candidates are chains of the same kind in
 * D^ with everything else fixed, so the same argument applies: L2X (the
 * batched search's ranking) is sqrtf(max(0, fl(fl(|q|^2 + rn^2) - 2 D^)))
 * (2 D^ is exact; subtraction, max and sqrtf are monotone), nonincreasing
 * in D^; SIM (3CosAdd) is -fl(D^ / rn) for rn > 0 (-0 otherwise),
 * nonincreasing.  Callers rescore with their own kernel call; the bound on
 * D^ holds for any summation order, so it covers each caller's kernel
 * (scan_dot_*, scan_dot_f32_multi).  No FMA contraction in ISO C mode
 * (-std=c11), so these expressions compute as written everywhere.
 *
 * L2 on f32/f16/bf16: the plain distance is sqrtf(L^), L^ a float sum of d
 * non-negative terms fl(q_i - x_i)^2, so (1 - G) L - U <= L^ <= (1 + G) L + U
 * with L = |q - x|^2 = qq + |x|^2 - 2 q.x, and L^ only grows on overflow.
 * L is bounded from q.x in [A - V, A + V], qq (1 +- R) and |x| in
 * xn (1 +- 2^-20), less / plus 2^-49 of the magnitudes involved for the
 * double evaluation; the float ends are rounded down / up and passed
 * through sqrtf, which is monotone.
 *
 * Search.  Pass 1 scans the sketch block by block (a block of codes is
 * read once for every query of a batch, scan_dot_i8i8_multi); for each
 * candidate row it computes lb <= d_r <= ub.  A bounded heap keeps the k smallest ub; its
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
 *
 * Two threads (emb_sketch_set_threads): each half of the rows runs pass 1
 * with its own heap; a row of the plain top k has lb <= d <= d_k <= the
 * k-th smallest ub of its half (that half's k-th distance is >= d_k), so it
 * is listed, and pass 2 uses the k-th smallest ub of the union.
 */
#include "search/sketch.h"
#include "core/alloc.h"
#include "search/sketch_round.h"
#include "search/topk.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKETCH_BLOCK 256

/* The sketch covers m's rows and its bounds hold for them. */
static int sketch_fits(const emb_matrix *m)
{
    const emb_sketch *sk = m ? m->sketch : NULL;
    if (!sk || sk->dim != m->dim || sk->cap < m->n_rows || m->dtype == EMB_DTYPE_I8 ||
        emb_dtype_size(m->dtype) == 0)
        return 0;
    /* the bound's relative term (d + 16) u must stay small; P fits int32;
     * row numbers fit the candidate list's uint32 */
    return (double)(m->dim + 16) * 0x1p-24 < 0.01 && m->dim <= 65536 &&
           m->n_rows <= UINT32_MAX;
}

int emb_sketch_usable(const emb_matrix *m, size_t k)
{
    return sketch_fits(m) && k > 0 && k <= m->n_rows / 8;
}

int emb_sketch_applies(const emb_matrix *m, const float *q, int metric, size_t k)
{
    (void)q;
    if (metric < 0 || metric > 2 || !emb_sketch_usable(m, k))
        return 0;
    return !(metric == EMB_METRIC_COSINE && !m->norms);
}

/* One candidate of pass 1. */
typedef struct cand {
    uint32_t r;
    float lb;
} cand;

/* Per-query constants of the bounds (header comment). */
typedef struct qbounds {
    int kind;          /* EMB_SKETCH_KEY_* */
    float qnorm;       /* the plain path's norm_f32(q) (COSINE, L2X) */
    const float *rn;   /* row norms of the key (COSINE, L2X, SIM) */
    double t;          /* query scale */
    double QN, FN, qq_lo, qq_hi;
    double G, U;
    double FNG, QNG, UG, AG; /* the dot W regrouped (row_bounds) */
} qbounds;

/* The key of row r at a float dot s: each kind is a chain of correctly
 * rounded operations that is monotone nonincreasing in s (header comment
 * "From the dot interval to the distance"); ISO C mode (-std=c11) forbids
 * contraction into FMA, so this is the same float function as the callers'
 * own copies of these expressions. */
static inline float key_at(const qbounds *b, size_t r, float s)
{
    switch (b->kind) {
    case EMB_SKETCH_KEY_DOT:
        return -s;
    case EMB_SKETCH_KEY_COSINE:
        return emb_distance_from_dot(EMB_METRIC_COSINE, s, b->qnorm, b->rn[r]);
    case EMB_SKETCH_KEY_L2X:
        return emb_distance_from_dot(EMB_METRIC_L2, s, b->qnorm, b->rn[r]);
    default: { /* EMB_SKETCH_KEY_SIM */
        float n = b->rn[r];
        return -(n > 0 ? s / n : 0.0f);
    }
    }
}

/* Bounds of row r's key from its exact integer dot P: *lb always, *ub only
 * when want_ub (lb alone decides most rows). */
static inline void row_bounds(const qbounds *b, const emb_sketch_row *sr, size_t r, int32_t P,
                              int want_ub, float *lb, float *ub)
{
    if (!(sr->e < INFINITY)) {
        *lb = -INFINITY;
        *ub = INFINITY;
        return;
    }
    const double A = (double)sr->s * b->t * (double)P;
    const double absA = fabs(A);
    if (b->kind != EMB_SKETCH_KEY_L2) {
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
        *lb = key_at(b, r, dhi);
        if (!want_ub)
            return;
        const float dlo = f_down(A - W);
        if (!(dlo > -INFINITY)) {
            *lb = -INFINITY;
            *ub = INFINITY;
            return;
        }
        *ub = key_at(b, r, dlo);
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

/* One query's state through pass 1. */
typedef struct qstate {
    qbounds b;
    int8_t *qc;  /* d codes */
    emb_hit *ubh; /* k */
    emb_topk uh; /* the k smallest upper bounds */
    cand *list;
    size_t n_list, cap;
    float cut_T, cut_R; /* the quick test's threshold and its R (query_block) */
} qstate;

/* Encode query q (d floats) into st (qc and ubh allocated by the caller).
 * Returns 0, or 1 when the query has a non-finite value (no bound). */
static int query_setup(qstate *st, const emb_kernels *kern, const float *q, size_t d,
                       const emb_sketch_key *key)
{
    float amax = 0;
    double qq = 0;
    for (size_t i = 0; i < d; i++) {
        if (!isfinite(q[i]))
            return 1;
        float a = fabsf(q[i]);
        if (a > amax)
            amax = a;
        qq += (double)q[i] * q[i];
    }
    const float t = amax / 127.0f;
    double ff = 0;
    for (size_t i = 0; i < d; i++) {
        double v = t > 0 ? nearbyint((double)q[i] / t) : 0;
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        st->qc[i] = (int8_t)v;
        double f = (double)q[i] - (double)t * v;
        ff += f * f;
    }
    const double R = rel_err(d);
    qbounds *b = &st->b;
    b->kind = key->kind;
    b->rn = key->rnorm;
    b->qnorm = key->kind == EMB_SKETCH_KEY_COSINE || key->kind == EMB_SKETCH_KEY_L2X
                   ? kern->norm_f32(q, d)
                   : 0;
    b->t = t;
    b->QN = sqrt(qq) * (1 + R);
    b->FN = sqrt(ff) * (1 + R) + (double)amax * 0x1p-48;
    b->qq_lo = qq * (1 - R);
    b->qq_hi = qq * (1 + R);
    const double gu = (double)(d + 16) * 0x1p-24;
    b->G = gu / (1 - gu);
    b->U = (double)(d + 16) * 0x1p-147;
    b->FNG = (b->FN + b->G * b->QN) * (1 + 0x1p-40);
    b->QNG = b->QN * (1 + b->G) * (1 + 0x1p-40);
    b->UG = b->U * (1 + 0x1p-40);
    b->AG = 0x1p-50 * (1 + 0x1p-40);
    return 0;
}

/* The quick test (pass 1's common case: a row far from the threshold).
 * For the keys DOT, COSINE and SIM, lb = key(dhi) with key(d) = h(fl(d / den))
 * (den = 1, fl(|q| rn[r]) or rn[r] > 0) and h(y) = -y or fl(1 - y), which is
 * nonincreasing in y.  With Y* the smallest float y such that h(y) <= T
 * (found by bisection on the ordered float encodings, once per threshold)
 * and R = the float below Y*:
 *   dhi / den <= R  implies  fl(dhi / den) <= R < Y*  implies  lb > T.
 * R den is exact in double (two 24-bit significands) and dhi = f_up(hi) with
 * hi = A + W (double); f_up(hi) <= X  iff  hi <= f_down(X), and
 * X' = X - |X| 2^-22 - 2^-148 (evaluated in double, each rounding at most
 * 2^-53 |X|) is <= X - max(ulp_float(X), 2^-149) <= f_down(X) for |X| < 1e38.
 * So hi <= X' rejects the row exactly as the full bound would; anything
 * else (including every guard) goes to row_bounds. */
static inline uint32_t f_ord(float f) /* monotone map of finite floats to uint32 */
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static inline float f_unord(uint32_t o)
{
    uint32_t u = (o & 0x80000000u) ? o & 0x7fffffffu : ~o;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline int h_le(int kind, float y, float T)
{
    float h = kind == EMB_SKETCH_KEY_COSINE ? 1.0f - y : -y;
    return h <= T;
}

/* R for threshold T (finite), or NAN when no float y has h(y) <= T in the
 * finite range (then nothing is rejected quickly). */
static float quick_cut(int kind, float T)
{
    uint32_t lo = f_ord(-FLT_MAX), hi = f_ord(FLT_MAX);
    if (!h_le(kind, FLT_MAX, T))
        return NAN;
    if (h_le(kind, -FLT_MAX, T))
        return NAN; /* Y* = -FLT_MAX: no float below it */
    while (hi - lo > 1) { /* h_le(lo) false, h_le(hi) true */
        uint32_t mid = lo + (hi - lo) / 2;
        if (h_le(kind, f_unord(mid), T))
            hi = mid;
        else
            lo = mid;
    }
    return f_unord(lo); /* the float just below Y* = f_unord(hi) */
}

/* Per block of rows, the per-row values of the quick test in arrays (read
 * once per block, used by every query of a batch). */
typedef struct block_soa {
    double s[SKETCH_BLOCK], g[SKETCH_BLOCK], e[SKETCH_BLOCK];
    float rn[SKETCH_BLOCK];
} block_soa;

/* keep[i] = 0 when row lo + i fails the quick test against cut R (so its
 * lower bound exceeds the threshold R was made for), else 1.  n <= block.
 * Straight-line double arithmetic over arrays, compiled also for AVX2
 * (quick_pass below); ISO C mode forbids contraction, so both builds
 * compute the same values (and the test's slack would cover either). */
static inline __attribute__((always_inline)) void
quick_body(const qbounds *b, float R, const block_soa *bs, const int32_t *dots, size_t n,
           uint8_t *keep)
{
    const double t = b->t, FNG = b->FNG, QNG = b->QNG, UG = b->UG, AG = b->AG;
    const float qn = b->kind == EMB_SKETCH_KEY_COSINE ? b->qnorm : 1.0f;
    const float one = b->kind == EMB_SKETCH_KEY_DOT ? 1.0f : 0.0f; /* DOT: den = 1 */
    for (size_t i = 0; i < n; i++) {
        /* den: 1 (DOT), fl(|q| rn) (COSINE) or rn (SIM; qn = 1 is exact) */
        float den = one > 0 ? one : qn * bs->rn[i];
        double X = (double)R * (double)den;
        double A = bs->s[i] * t * (double)dots[i];
        double W = FNG * bs->g[i] + QNG * bs->e[i] + UG + fabs(A) * AG;
        int ok = (den > 0) & (fabs(X) < 1e38) & (QNG * (bs->g[i] + bs->e[i]) < 1e38) &
                 (A + W <= X - fabs(X) * 0x1p-22 - 0x1p-148);
        keep[i] = (uint8_t)!ok;
    }
}

static void quick_generic(const qbounds *b, float R, const block_soa *bs, const int32_t *dots,
                          size_t n, uint8_t *keep)
{
    quick_body(b, R, bs, dots, n, keep);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* gcc vectorises the quick test at O3 only; clang has no optimize attribute */
#if defined(__clang__)
#define QUICK_O3
#else
#define QUICK_O3 , optimize("O3")
#endif
__attribute__((target("avx2") QUICK_O3)) static void
quick_avx2(const qbounds *b, float R, const block_soa *bs, const int32_t *dots, size_t n,
           uint8_t *keep)
{
    quick_body(b, R, bs, dots, n, keep);
}
#endif

/* Rows [lo, hi) of one block for one query, dots[r - lo] = P of row r;
 * bs holds the block's per-row values (NULL: no quick test); wide != 0:
 * the kernel set allows AVX2. */
static int query_block(qstate *st, const emb_matrix *m, const uint8_t *allow, size_t k,
                       const int32_t *dots, size_t lo, size_t hi, const block_soa *bs,
                       int wide)
{
    const emb_sketch_row *rows = m->sketch->rows;
    const qbounds *b = &st->b;
    uint8_t keep[SKETCH_BLOCK];
    int quick = bs && (b->kind == EMB_SKETCH_KEY_DOT || b->kind == EMB_SKETCH_KEY_COSINE ||
                       b->kind == EMB_SKETCH_KEY_SIM);
    const float T0 = st->uh.count < k ? INFINITY : st->uh.h[0].distance;
    if (quick && T0 < INFINITY) {
        /* the cut of the threshold at the block's start: T only falls, so
         * a row it rejects has lb > T0 >= T at its turn */
        if (!(T0 == st->cut_T)) {
            st->cut_T = T0;
            st->cut_R = quick_cut(b->kind, T0);
        }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (wide)
            quick_avx2(b, st->cut_R, bs, dots, hi - lo, keep);
        else
#endif
            quick_generic(b, st->cut_R, bs, dots, hi - lo, keep);
    } else {
        quick = 0;
    }
    (void)wide;
    for (size_t r = lo; r < hi; r++) {
        if (quick && !keep[r - lo])
            continue;
        if ((m->valid && !m->valid[r]) || (allow && !allow[r]))
            continue;
        const float T = st->uh.count < k ? INFINITY : st->uh.h[0].distance;
        const int32_t P = dots[r - lo];
        const emb_sketch_row *sr = &rows[r];
        float lb, ub = INFINITY;
        row_bounds(b, sr, r, P, 0, &lb, &ub);
        if (lb > T)
            continue;
        row_bounds(b, sr, r, P, 1, &lb, &ub);
        emb_topk_push(&st->uh, (int64_t)r, ub);
        if (st->n_list == st->cap) {
            cand *nl = emb_realloc(st->list, 2 * st->cap * sizeof *nl);
            if (!nl)
                return EMB_ENOMEM;
            st->list = nl;
            st->cap *= 2;
        }
        st->list[st->n_list++] = (cand){(uint32_t)r, lb};
    }
    return EMB_OK;
}

void emb_sketch_cands_free(emb_sketch_cands *c, size_t n_q)
{
    for (size_t j = 0; c && j < n_q; j++) {
        emb_free(c[j].rows);
        c[j].rows = NULL;
        c[j].n = 0;
    }
}

/* Pass 1 over rows [r_begin, r_end) for n_q queries: one worker (the
 * calling thread, and with two threads a helper for the second half).  Each
 * worker has its own states (threshold heap, list, cut) and scratch; the
 * query codes and bounds, the matrix and the sketch are shared read-only. */
typedef struct worker {
    const emb_kernels *kern;
    const emb_matrix *m;
    const emb_sketch_key *key;
    const uint8_t *allow;
    const int8_t *qcs;
    size_t n_q, k, r_begin, r_end;
    qstate *st; /* n_q */
    size_t scanned;
    int rc;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    const emb_matrix *m = w->m;
    const emb_sketch *sk = m->sketch;
    const uint8_t *allow = w->allow;
    const size_t d = m->dim, n_q = w->n_q;
    int32_t *dots = emb_malloc(SKETCH_BLOCK * n_q * sizeof *dots);
    block_soa *bs = emb_malloc(sizeof *bs);
    w->rc = dots && bs ? EMB_OK : EMB_ENOMEM;
    const int wide = strcmp(w->kern->name, "avx2") == 0 || strcmp(w->kern->name, "avx512") == 0;
    const float *rn = w->key->kind == EMB_SKETCH_KEY_DOT || w->key->kind == EMB_SKETCH_KEY_L2
                          ? NULL
                          : w->key->rnorm;
    for (size_t b0 = w->r_begin; b0 < w->r_end && w->rc == EMB_OK; b0 += SKETCH_BLOCK) {
        size_t lo = b0, hi = w->r_end - b0 < SKETCH_BLOCK ? w->r_end : b0 + SKETCH_BLOCK;
        emb_matrix_narrow(m, allow, &lo, &hi);
        if (lo == hi)
            continue;
        for (size_t r = lo; r < hi; r++)
            w->scanned += (!m->valid || m->valid[r]) && (!allow || allow[r]);
        /* one query: the row kernel; several: the tiled one (the block of
         * codes stays in L2 while every query visits it) */
        if (n_q == 1)
            w->kern->scan_dot_i8i8(dots, w->qcs, sk->codes + lo * d, hi - lo, d);
        else
            w->kern->scan_dot_i8i8_multi(dots, w->qcs, n_q, sk->codes + lo * d, hi - lo, d);
        for (size_t r = lo; r < hi; r++) {
            const emb_sketch_row *sr = &sk->rows[r];
            bs->s[r - lo] = sr->s;
            bs->g[r - lo] = sr->g;
            bs->e[r - lo] = sr->e;
            bs->rn[r - lo] = rn ? rn[r] : 1.0f;
        }
        for (size_t j = 0; j < n_q && w->rc == EMB_OK; j++)
            w->rc = query_block(&w->st[j], m, allow, w->k, dots + j * (hi - lo), lo, hi, bs, wide);
    }
    emb_free(dots);
    emb_free(bs);
    return NULL;
}

/* Threads for pass 1: 2 when the machine has 2 cores or more (the default;
 * bench/SKETCH.md measured 1.4-1.7x on 2 cores) and the work is large enough
 * to pay for starting one (rows x queries), else 1; emb_sketch_set_threads(1)
 * turns the second thread off.  0 = not set: the default, found on first use. */
static int sketch_threads = 0;

static int sketch_cores(void)
{
    long cores = 1;
#ifdef _SC_NPROCESSORS_ONLN
    cores = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    return cores >= 2 ? 2 : 1;
}

int emb_sketch_set_threads(int n)
{
    int cores = sketch_cores();
    if (n < 1)
        n = 1;
    if (n > 2)
        n = 2;
    if (n > cores)
        n = cores;
    __atomic_store_n(&sketch_threads, n, __ATOMIC_RELAXED);
    return n;
}

int emb_sketch_get_threads(void)
{
    int n = __atomic_load_n(&sketch_threads, __ATOMIC_RELAXED);
    if (n)
        return n;
    /* first use: find the default once (sysconf reads /sys), unless a
     * setting got there first */
    int def = sketch_cores(), unset = 0;
    if (__atomic_compare_exchange_n(&sketch_threads, &unset, def, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
        return def;
    return unset;
}

#define SKETCH_THREAD_MIN_WORK ((size_t)1 << 15) /* rows x queries */

/* Set up n_q query states (qc from qcs, heaps from ubh).  EMB_OK, EMB_ENOMEM
 * or EMB_EUNSUP (a non-finite query). */
static int states_init(qstate *st, size_t n_q, size_t k, int8_t *qcs, emb_hit *ubh,
                       const emb_kernels *kern, const float *q, size_t d,
                       const emb_sketch_key *key, int encode)
{
    int rc = EMB_OK;
    for (size_t j = 0; rc == EMB_OK && j < n_q; j++) {
        st[j].qc = qcs + j * d;
        st[j].ubh = ubh + j * k;
        emb_topk_init(&st[j].uh, st[j].ubh, k);
        st[j].cap = 256;
        st[j].cut_T = NAN;
        if (!(st[j].list = emb_malloc(st[j].cap * sizeof(cand))))
            rc = EMB_ENOMEM;
        else if (encode && query_setup(&st[j], kern, q + j * d, d, key))
            rc = EMB_EUNSUP;
    }
    return rc;
}

int emb_sketch_candidates(const emb_kernels *kern, const emb_matrix *m, const float *q,
                          size_t n_q, const emb_sketch_key *key, size_t k, const uint8_t *allow,
                          emb_sketch_cands *out, emb_sketch_stats *stats, emb_err *err)
{
    if (!kern || !m || (!q && n_q) || !key || (!out && n_q))
        return emb_err_set(err, EMB_EINVAL, "sketch: NULL argument");
    if (key->kind < 0 || key->kind > EMB_SKETCH_KEY_SIM ||
        (key->kind != EMB_SKETCH_KEY_DOT && key->kind != EMB_SKETCH_KEY_L2 && !key->rnorm))
        return emb_err_set(err, EMB_EINVAL, "sketch: bad key");
    if (stats)
        stats->scanned = stats->rescored = 0;
    if (!sketch_fits(m))
        return emb_err_set(err, EMB_EUNSUP, "sketch: none for this matrix");
    if (k == 0 || n_q == 0) {
        for (size_t j = 0; j < n_q; j++)
            out[j] = (emb_sketch_cands){NULL, 0};
        return EMB_OK;
    }
    const size_t d = m->dim;
    size_t nw = emb_sketch_get_threads() >= 2 && m->n_rows >= 2 * SKETCH_BLOCK &&
                        m->n_rows * n_q >= SKETCH_THREAD_MIN_WORK
                    ? 2
                    : 1;
    qstate *st = emb_calloc(nw * n_q, sizeof *st);
    int8_t *qcs = emb_malloc(n_q * d + 1); /* query j's codes at qcs + j*d */
    size_t n_ub;
    emb_hit *ubh = emb_mul_size(nw * n_q, k, &n_ub) == 0 && n_ub < SIZE_MAX / sizeof *ubh
                       ? emb_malloc(n_ub * sizeof *ubh)
                       : NULL;
    int rc = st && qcs && ubh ? EMB_OK : EMB_ENOMEM;
    if (rc == EMB_OK)
        rc = states_init(st, n_q, k, qcs, ubh, kern, q, d, key, 1);
    if (rc == EMB_OK && nw == 2) {
        rc = states_init(st + n_q, n_q, k, qcs, ubh + n_q * k, kern, q, d, key, 0);
        for (size_t j = 0; j < n_q; j++)
            st[n_q + j].b = st[j].b; /* the bounds of the same query */
    }
    worker w[2];
    for (size_t t = 0; t < nw; t++) {
        /* halves on block boundaries */
        size_t half = (m->n_rows / 2 + SKETCH_BLOCK - 1) / SKETCH_BLOCK * SKETCH_BLOCK;
        w[t] = (worker){kern, m, key, allow, qcs, n_q, k,
                        nw == 1 ? 0 : t == 0 ? 0 : half,
                        nw == 1 ? m->n_rows : t == 0 ? half : m->n_rows,
                        st + t * n_q, 0, EMB_OK};
    }
    if (rc == EMB_OK) {
        pthread_t helper;
        int started = nw == 2 && pthread_create(&helper, NULL, worker_run, &w[1]) == 0;
        worker_run(&w[0]);
        if (started)
            pthread_join(helper, NULL);
        else if (nw == 2)
            worker_run(&w[1]); /* no thread: the second half here */
        rc = w[0].rc != EMB_OK ? w[0].rc : nw == 2 ? w[1].rc : EMB_OK;
    }
    /* pass 2's list: the rows whose lower bound does not exceed the final
     * threshold T, the k-th smallest upper bound over all rows (with two
     * workers: over the union of their heaps, which holds the k smallest
     * of each half), ascending (each list is in row order, halves in
     * order) */
    for (size_t j = 0; rc == EMB_OK && j < n_q; j++) {
        if (nw == 2) {
            qstate *o = &st[n_q + j];
            for (size_t i = 0; i < o->uh.count; i++)
                emb_topk_push(&st[j].uh, o->uh.h[i].id, o->uh.h[i].distance);
        }
        const float T = st[j].uh.count < k ? INFINITY : st[j].uh.h[0].distance;
        size_t total = st[j].n_list + (nw == 2 ? st[n_q + j].n_list : 0);
        uint32_t *rows = emb_malloc((total ? total : 1) * sizeof *rows);
        if (!rows) {
            emb_sketch_cands_free(out, j);
            rc = EMB_ENOMEM;
            break;
        }
        size_t n = 0;
        for (size_t t = 0; t < nw; t++) {
            const qstate *x = &st[t * n_q + j];
            for (size_t i = 0; i < x->n_list; i++)
                if (!(x->list[i].lb > T))
                    rows[n++] = x->list[i].r;
        }
        out[j].rows = rows;
        out[j].n = n;
        if (stats)
            stats->rescored += n;
    }
    if (stats)
        stats->scanned = (w[0].scanned + (nw == 2 ? w[1].scanned : 0)) * (rc == EMB_OK ? n_q : 0);
    for (size_t j = 0; st && j < nw * n_q; j++)
        emb_free(st[j].list);
    emb_free(st);
    emb_free(qcs);
    emb_free(ubh);
    if (rc == EMB_ENOMEM)
        return emb_err_set(err, rc, "sketch: out of memory");
    if (rc == EMB_EUNSUP)
        return emb_err_set(err, rc, "sketch: non-finite query");
    return rc;
}

int emb_sketch_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out,
                      emb_sketch_stats *stats, emb_err *err)
{
    if (!kern || !m || !q || !out || !n_out)
        return emb_err_set(err, EMB_EINVAL, "sketch: NULL argument");
    if (metric < 0 || metric > 2)
        return emb_err_set(err, EMB_EINVAL, "sketch: unknown metric %d", metric);
    if (stats)
        stats->scanned = stats->rescored = 0;
    if (k == 0 || m->n_rows == 0 || !sketch_fits(m) || (metric == EMB_METRIC_COSINE && !m->norms))
        return emb_matrix_search_plain(kern, m, q, metric, k, allow, out, n_out, err);
    /* (emb_sketch_usable's k <= n_rows / 8 is a speed rule, not needed here) */
    emb_sketch_key key = {metric == EMB_METRIC_COSINE ? EMB_SKETCH_KEY_COSINE
                          : metric == EMB_METRIC_DOT  ? EMB_SKETCH_KEY_DOT
                                                      : EMB_SKETCH_KEY_L2,
                          m->norms};
    emb_sketch_cands c = {NULL, 0};
    emb_sketch_stats st;
    int rc = emb_sketch_candidates(kern, m, q, 1, &key, k, allow, &c, &st, err);
    if (rc == EMB_EUNSUP)
        return emb_matrix_search_plain(kern, m, q, metric, k, allow, out, n_out, err);
    if (rc != EMB_OK)
        return rc;
    const float qn = metric == EMB_METRIC_COSINE ? kern->norm_f32(q, m->dim) : 0;
    emb_topk heap;
    emb_topk_init(&heap, out, k);
    for (size_t i = 0; i < c.n; i++)
        emb_topk_push(&heap, (int64_t)c.rows[i],
                      emb_matrix_row_distance(kern, m, q, metric, qn, c.rows[i]));
    *n_out = emb_topk_finish(&heap);
    if (stats)
        *stats = st;
    emb_sketch_cands_free(&c, 1);
    return EMB_OK;
}
