/*
 * kern_avx2.c - AVX2 + FMA + F16C kernels (x86-64 CPUs from Haswell / Zen 1).
 *
 * Same entries as kern_serial.c.  Every function carries its own target
 * attribute, so the file builds without -mavx2 and the table is only used
 * after cpu.c has checked avx2, fma and f16c at run time.
 *
 * - Reductions keep four 8-lane accumulators (32 floats per step) so that
 *   several FMAs are in flight; float tails use masked loads (vmaskmovps
 *   never touches the masked-off bytes, so reading past the end is safe).
 * - 16-bit and 8-bit tails are copied into a small zeroed buffer and then
 *   go through the same widening code as the body.
 * - f16 <-> f32 uses F16C with the rounding mode in the instruction
 *   (nearest even); bf16 uses integer bit operations with the same rounding
 *   and NaN rule as the serial code.
 * - Scans (one query against many rows) run the same four-accumulator loop
 *   over one row after another, widening f16/bf16/int8 on the fly.  One
 *   sequential stream reads memory faster than several interleaved rows on
 *   the machines measured (see scan() below); a 50,000 x 768 f32 scan is
 *   bound by memory bandwidth.
 */
#if defined(__x86_64__) || defined(__i386__)

#include "kernels/kernels.h"

#include <immintrin.h>
#include <string.h>

#define EMB_AVX2 __attribute__((target("avx2,fma,f16c")))
#define EMB_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/* Lanes 0..m-1 set (m <= 8): the mask for vmaskmovps. */
EMB_AVX2_INLINE __m256i tail_mask(size_t m)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

EMB_AVX2_INLINE float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* acc + q*x (dot) or acc + (q-x)^2 (squared L2). */
EMB_AVX2_INLINE __m256 acc_step(__m256 acc, __m256 q, __m256 x, int l2)
{
    if (l2) {
        __m256 d = _mm256_sub_ps(q, x);
        return _mm256_fmadd_ps(d, d, acc);
    }
    return _mm256_fmadd_ps(q, x, acc);
}

/* ---- loads and reductions ----------------------------------------------- */

enum { ROW_F32, ROW_F16, ROW_BF16, ROW_I8 };

/* Eight elements of `type` starting at element i of p, widened to f32. */
EMB_AVX2_INLINE __m256 load8(const void *p, size_t i, int type)
{
    switch (type) {
    case ROW_F32:
        return _mm256_loadu_ps((const float *)p + i);
    case ROW_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    case ROW_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    default: {
        __m128i b = _mm_loadl_epi64((const __m128i *)((const int8_t *)p + i));
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    }
    }
}

/* The last m < 8 elements from element i; missing lanes are 0. */
EMB_AVX2_INLINE __m256 load8_tail(const void *p, size_t i, size_t m, int type)
{
    if (type == ROW_F32)
        return _mm256_maskload_ps((const float *)p + i, tail_mask(m));
    size_t esz = type == ROW_I8 ? 1 : 2;
    uint16_t buf[8] = {0};
    memcpy(buf, (const char *)p + i * esz, m * esz);
    return load8(buf, 0, type);
}

/* dot (l2 = 0) or squared L2 (l2 = 1) of the float vector q against n
 * elements of `type` at p: four accumulators, 32 elements per step. */
EMB_AVX2_INLINE float row_reduce(const float *q, const void *p, size_t n, int type, int l2)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = acc_step(s0, _mm256_loadu_ps(q + i), load8(p, i, type), l2);
        s1 = acc_step(s1, _mm256_loadu_ps(q + i + 8), load8(p, i + 8, type), l2);
        s2 = acc_step(s2, _mm256_loadu_ps(q + i + 16), load8(p, i + 16, type), l2);
        s3 = acc_step(s3, _mm256_loadu_ps(q + i + 24), load8(p, i + 24, type), l2);
    }
    for (; i + 8 <= n; i += 8)
        s0 = acc_step(s0, _mm256_loadu_ps(q + i), load8(p, i, type), l2);
    if (i < n) {
        __m256 qt = _mm256_maskload_ps(q + i, tail_mask(n - i));
        s1 = acc_step(s1, qt, load8_tail(p, i, n - i, type), l2);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static EMB_AVX2 float emb_dot_f32_avx2(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 0);
}

static EMB_AVX2 float emb_l2sq_f32_avx2(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 1);
}

static EMB_AVX2 float emb_norm_f32_avx2(const float *a, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 x0 = _mm256_loadu_ps(a + i), x1 = _mm256_loadu_ps(a + i + 8);
        __m256 x2 = _mm256_loadu_ps(a + i + 16), x3 = _mm256_loadu_ps(a + i + 24);
        s0 = _mm256_fmadd_ps(x0, x0, s0);
        s1 = _mm256_fmadd_ps(x1, x1, s1);
        s2 = _mm256_fmadd_ps(x2, x2, s2);
        s3 = _mm256_fmadd_ps(x3, x3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i);
        s0 = _mm256_fmadd_ps(x, x, s0);
    }
    if (i < n) {
        __m256 x = _mm256_maskload_ps(a + i, tail_mask(n - i));
        s1 = _mm256_fmadd_ps(x, x, s1);
    }
    float s = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(s)));
}

/* One step of the fused cosine: dot += x*y, xx += x*x, yy += y*y. */
EMB_AVX2_INLINE void dn_step(__m256 *d, __m256 *xx, __m256 *yy, __m256 x, __m256 y)
{
    *d = _mm256_fmadd_ps(x, y, *d);
    *xx = _mm256_fmadd_ps(x, x, *xx);
    *yy = _mm256_fmadd_ps(y, y, *yy);
}

/* Twelve accumulators (four per sum, 32 floats per step): three FMAs per
 * 8 floats against two loads, so this is FMA-bound, not load-bound. */
static EMB_AVX2 void emb_dot_norms_f32_avx2(const float *a, const float *b, size_t n, float *dot,
                                            float *aa, float *bb)
{
    __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0;
    __m256 x0 = d0, x1 = d0, x2 = d0, x3 = d0;
    __m256 y0 = d0, y1 = d0, y2 = d0, y3 = d0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        dn_step(&d0, &x0, &y0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        dn_step(&d1, &x1, &y1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        dn_step(&d2, &x2, &y2, _mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        dn_step(&d3, &x3, &y3, _mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    }
    for (; i + 8 <= n; i += 8)
        dn_step(&d0, &x0, &y0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        dn_step(&d1, &x1, &y1, _mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
    }
    *dot = hsum(_mm256_add_ps(_mm256_add_ps(d0, d1), _mm256_add_ps(d2, d3)));
    *aa = hsum(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)));
    *bb = hsum(_mm256_add_ps(_mm256_add_ps(y0, y1), _mm256_add_ps(y2, y3)));
}

/* ---- element-wise ------------------------------------------------------- */

/* op: 0 add, 1 sub, 2 scale (a*s), 3 axpy (a + s*b) */
EMB_AVX2_INLINE __m256 elem_op(__m256 a, __m256 b, __m256 s, int op)
{
    switch (op) {
    case 0: return _mm256_add_ps(a, b);
    case 1: return _mm256_sub_ps(a, b);
    case 2: return _mm256_mul_ps(a, s);
    default: return _mm256_fmadd_ps(s, b, a);
    }
}

EMB_AVX2_INLINE void elementwise(float *out, const float *a, const float *b, float s, size_t n,
                                 int op)
{
    __m256 vs = _mm256_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 b0 = op == 2 ? vs : _mm256_loadu_ps(b + i);
        __m256 b1 = op == 2 ? vs : _mm256_loadu_ps(b + i + 8);
        __m256 r0 = elem_op(_mm256_loadu_ps(a + i), b0, vs, op);
        __m256 r1 = elem_op(_mm256_loadu_ps(a + i + 8), b1, vs, op);
        _mm256_storeu_ps(out + i, r0);
        _mm256_storeu_ps(out + i + 8, r1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 b0 = op == 2 ? vs : _mm256_loadu_ps(b + i);
        _mm256_storeu_ps(out + i, elem_op(_mm256_loadu_ps(a + i), b0, vs, op));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 b0 = op == 2 ? vs : _mm256_maskload_ps(b + i, m);
        _mm256_maskstore_ps(out + i, m, elem_op(_mm256_maskload_ps(a + i, m), b0, vs, op));
    }
}

static EMB_AVX2 void emb_add_f32_avx2(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 0);
}

static EMB_AVX2 void emb_sub_f32_avx2(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 1);
}

static EMB_AVX2 void emb_scale_f32_avx2(float *out, const float *a, float s, size_t n)
{
    elementwise(out, a, NULL, s, n, 2);
}

static EMB_AVX2 void emb_axpy_f32_avx2(float *out, const float *a, float s, const float *b,
                                       size_t n)
{
    elementwise(out, a, b, s, n, 3);
}

/* ---- conversions -------------------------------------------------------- */

static EMB_AVX2 void emb_f16_to_f32_avx2(float *out, const uint16_t *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, load8(in, i, ROW_F16));
    if (i < n)
        _mm256_maskstore_ps(out + i, tail_mask(n - i), load8_tail(in, i, n - i, ROW_F16));
}

static EMB_AVX2 void emb_bf16_to_f32_avx2(float *out, const uint16_t *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, load8(in, i, ROW_BF16));
    if (i < n)
        _mm256_maskstore_ps(out + i, tail_mask(n - i), load8_tail(in, i, n - i, ROW_BF16));
}

static EMB_AVX2 void emb_i8_to_f32_avx2(float *out, const int8_t *in, float scale, size_t n)
{
    __m256 vs = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(vs, load8(in, i, ROW_I8)));
    if (i < n)
        _mm256_maskstore_ps(out + i, tail_mask(n - i),
                            _mm256_mul_ps(vs, load8_tail(in, i, n - i, ROW_I8)));
}

/* Store the low m (<= 8) 16-bit lanes of h. */
EMB_AVX2_INLINE void store_u16(uint16_t *out, __m128i h, size_t m)
{
    if (m == 8) {
        _mm_storeu_si128((__m128i *)out, h);
    } else {
        uint16_t buf[8];
        _mm_storeu_si128((__m128i *)buf, h);
        memcpy(out, buf, m * sizeof *out);
    }
}

/* vcvtps2ph rounding: nearest even, no exceptions (must be a constant). */
#define EMB_F16_ROUND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

static EMB_AVX2 void emb_f32_to_f16_avx2(uint16_t *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), EMB_F16_ROUND);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
    if (i < n) {
        __m256 x = _mm256_maskload_ps(in + i, tail_mask(n - i));
        store_u16(out + i, _mm256_cvtps_ph(x, EMB_F16_ROUND), n - i);
    }
}

/* bf16 bits of eight floats: round half to even; NaN -> (x >> 16) | 0x40. */
EMB_AVX2_INLINE __m128i bf16_round8(__m256 v)
{
    __m256i x = _mm256_castps_si256(v);
    __m256i ax = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
    __m256i nan = _mm256_cmpgt_epi32(ax, _mm256_set1_epi32(0x7f800000));
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(x, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff)));
    r = _mm256_srli_epi32(r, 16);
    __m256i q = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    r = _mm256_blendv_epi8(r, q, nan);
    /* every lane is <= 0xffff, so unsigned saturation is exact */
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

static EMB_AVX2 void emb_f32_to_bf16_avx2(uint16_t *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), bf16_round8(_mm256_loadu_ps(in + i)));
    if (i < n)
        store_u16(out + i, bf16_round8(_mm256_maskload_ps(in + i, tail_mask(n - i))), n - i);
}

/* ---- scans -------------------------------------------------------------- */

/* out[r] = dot or l2sq of q against row r.  One row at a time: a single
 * sequential stream measured faster (about 1.5x) than interleaving two or
 * four rows, or adding software prefetch, on a 150 MB matrix (Zen 4). */
EMB_AVX2_INLINE void scan(float *out, const float *q, const void *rows, size_t n_rows,
                          size_t dim, int type, int l2)
{
    size_t stride = dim * (type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2);
    for (size_t r = 0; r < n_rows; r++)
        out[r] = row_reduce(q, (const char *)rows + r * stride, dim, type, l2);
}

static EMB_AVX2 void emb_scan_dot_f32_avx2(float *out, const float *q, const float *rows,
                                           size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 0);
}

static EMB_AVX2 void emb_scan_l2sq_f32_avx2(float *out, const float *q, const float *rows,
                                            size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 1);
}

static EMB_AVX2 void emb_scan_dot_f16_avx2(float *out, const float *q, const uint16_t *rows,
                                           size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 0);
}

static EMB_AVX2 void emb_scan_l2sq_f16_avx2(float *out, const float *q, const uint16_t *rows,
                                            size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 1);
}

static EMB_AVX2 void emb_scan_dot_bf16_avx2(float *out, const float *q, const uint16_t *rows,
                                            size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 0);
}

static EMB_AVX2 void emb_scan_l2sq_bf16_avx2(float *out, const float *q, const uint16_t *rows,
                                             size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 1);
}

static EMB_AVX2 void emb_scan_dot_i8_avx2(float *out, const float *q, const int8_t *rows,
                                          size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_I8, 0);
}

/* Multi-query scan: a tile of MQ_ROWS rows x MQ_QUERIES queries keeps 12
 * 8-lane accumulators in registers (16 ymm: 12 + 3 query vectors + 1 row
 * vector); per 8 elements 7 loads feed 12 FMAs.  Queries are the outer loop
 * (3 query vectors stay in L1), rows the inner one (the caller's block of
 * rows stays in L2).  Tiles at the edges repeat the last row / query (the
 * extra results are not stored), so there is one code path. */
#define MQ_ROWS 4
#define MQ_QUERIES 3

static EMB_AVX2 void emb_scan_dot_f32_multi_avx2(float *out, const float *q, size_t n_q,
                                                 const float *rows, size_t n_rows, size_t dim)
{
    if (n_q == 0 || n_rows == 0)
        return;
    const size_t body = dim & ~(size_t)7;
    const __m256i tm = tail_mask(dim - body);
    for (size_t j0 = 0; j0 < n_q; j0 += MQ_QUERIES) {
        const float *qp[MQ_QUERIES];
        for (size_t b = 0; b < MQ_QUERIES; b++)
            qp[b] = q + (j0 + b < n_q ? j0 + b : n_q - 1) * dim;
        size_t nb = n_q - j0 < MQ_QUERIES ? n_q - j0 : MQ_QUERIES;
        for (size_t r0 = 0; r0 < n_rows; r0 += MQ_ROWS) {
            const float *rp[MQ_ROWS];
            for (size_t a = 0; a < MQ_ROWS; a++)
                rp[a] = rows + (r0 + a < n_rows ? r0 + a : n_rows - 1) * dim;
            __m256 acc[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    acc[a][b] = _mm256_setzero_ps();
            size_t i = 0;
            for (; i < body; i += 8) {
                __m256 qv[MQ_QUERIES];
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    qv[b] = _mm256_loadu_ps(qp[b] + i);
#pragma GCC unroll 4
                for (size_t a = 0; a < MQ_ROWS; a++) {
                    __m256 x = _mm256_loadu_ps(rp[a] + i);
#pragma GCC unroll 4
                    for (size_t b = 0; b < MQ_QUERIES; b++)
                        acc[a][b] = _mm256_fmadd_ps(x, qv[b], acc[a][b]);
                }
            }
            if (i < dim) {
                __m256 qv[MQ_QUERIES];
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    qv[b] = _mm256_maskload_ps(qp[b] + i, tm);
#pragma GCC unroll 4
                for (size_t a = 0; a < MQ_ROWS; a++) {
                    __m256 x = _mm256_maskload_ps(rp[a] + i, tm);
#pragma GCC unroll 4
                    for (size_t b = 0; b < MQ_QUERIES; b++)
                        acc[a][b] = _mm256_fmadd_ps(x, qv[b], acc[a][b]);
                }
            }
            size_t na = n_rows - r0 < MQ_ROWS ? n_rows - r0 : MQ_ROWS;
            /* reduce with constant indices first, so acc stays in registers */
            float res[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    res[a][b] = hsum(acc[a][b]);
            for (size_t a = 0; a < na; a++)
                for (size_t b = 0; b < nb; b++)
                    out[(r0 + a) * n_q + j0 + b] = res[a][b];
        }
    }
}

/* Sketch scan: vpmaddubsw of |q| (as u8) with the row's codes carrying
 * q's sign (vpsignb), pairs summed into int16 without saturation
 * (2 * 127 * 127 < 2^15), then vpmaddwd with ones into int32 lanes; 32
 * elements per step, two accumulators, the tail (< 32) scalar. */
EMB_AVX2_INLINE __m256i i8_step(__m256i acc, const int8_t *q, const int8_t *x, __m256i ones)
{
    __m256i qv = _mm256_loadu_si256((const __m256i *)q);
    __m256i xv = _mm256_loadu_si256((const __m256i *)x);
    __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(qv), _mm256_sign_epi8(xv, qv));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
}

static EMB_AVX2 void emb_scan_dot_i8i8_avx2(int32_t *out, const int8_t *q, const int8_t *rows,
                                            size_t n_rows, size_t dim)
{
    const size_t body = dim / 32 * 32;
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t r = 0; r < n_rows; r++) {
        const int8_t *x = rows + r * dim;
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        size_t i = 0;
        for (; i + 64 <= body; i += 64) {
            a0 = i8_step(a0, q + i, x + i, ones);
            a1 = i8_step(a1, q + i + 32, x + i + 32, ones);
        }
        if (i < body)
            a0 = i8_step(a0, q + i, x + i, ones);
        a0 = _mm256_add_epi32(a0, a1);
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        int32_t s = _mm_cvtsi128_si32(h);
        for (i = body; i < dim; i++)
            s += (int32_t)q[i] * (int32_t)x[i];
        out[r] = s;
    }
}

static EMB_AVX2 void emb_scan_dot_i8i8_multi_avx2(int32_t *out, const int8_t *q, size_t n_q,
                                          const int8_t *rows, size_t n_rows, size_t dim)
{
    emb_i8i8_multi_via(emb_scan_dot_i8i8_avx2, out, q, n_q, rows, n_rows, dim);
}

const emb_kernels emb_kernels_avx2 = {
    .name = "avx2",
    .dot_f32 = emb_dot_f32_avx2,
    .l2sq_f32 = emb_l2sq_f32_avx2,
    .norm_f32 = emb_norm_f32_avx2,
    .dot_norms_f32 = emb_dot_norms_f32_avx2,
    .add_f32 = emb_add_f32_avx2,
    .sub_f32 = emb_sub_f32_avx2,
    .scale_f32 = emb_scale_f32_avx2,
    .axpy_f32 = emb_axpy_f32_avx2,
    .f16_to_f32 = emb_f16_to_f32_avx2,
    .f32_to_f16 = emb_f32_to_f16_avx2,
    .bf16_to_f32 = emb_bf16_to_f32_avx2,
    .f32_to_bf16 = emb_f32_to_bf16_avx2,
    .i8_to_f32 = emb_i8_to_f32_avx2,
    .scan_dot_f32 = emb_scan_dot_f32_avx2,
    .scan_l2sq_f32 = emb_scan_l2sq_f32_avx2,
    .scan_dot_f16 = emb_scan_dot_f16_avx2,
    .scan_l2sq_f16 = emb_scan_l2sq_f16_avx2,
    .scan_dot_bf16 = emb_scan_dot_bf16_avx2,
    .scan_l2sq_bf16 = emb_scan_l2sq_bf16_avx2,
    .scan_dot_i8 = emb_scan_dot_i8_avx2,
    .scan_dot_i8i8 = emb_scan_dot_i8i8_avx2,
    .scan_dot_i8i8_multi = emb_scan_dot_i8i8_multi_avx2,
    .scan_dot_f32_multi = emb_scan_dot_f32_multi_avx2,
};

#endif
