/*
 * sketch.c - the int8 sketch of an embedding matrix (sketch.h): storage and
 * row encoding.  The search through it, with the proof that it returns the
 * plain scan's result, is sketch_search.c.
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
 */
#include "search/sketch.h"
#include "core/alloc.h"

#include "search/sketch_round.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

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
