/*
 * kern_avx512.c - AVX-512 F/BW/VL/DQ kernels (Skylake-SP, Ice Lake, Zen 4).
 *
 * Same entries as kern_serial.c.  Every function carries its own target
 * attribute, so the file builds without -mavx512f and the table is only
 * used after cpu.c has checked the four feature bits at run time.
 *
 * - 16 floats per register; every tail (float, 16-bit or 8-bit) is done with
 *   a lane mask, so no scalar loop is needed and masked-off memory is never
 *   touched.
 * - Reductions keep four accumulators (64 floats per step).
 * - f16 <-> f32 uses vcvtph2ps / vcvtps2ph (part of AVX-512F) with the
 *   rounding mode in the instruction (nearest even); bf16 uses integer bit
 *   operations (no avx512_bf16 needed) with the serial rounding and NaN rule.
 * - Scans run a four-accumulator loop over one row after another, widening
 *   f16/bf16/int8 on the fly (one sequential stream), on 256-bit registers
 *   (measured faster than 512-bit for streaming rows: see scan()).
 */
#if defined(__x86_64__) || defined(__i386__)

#include "kernels/kernels.h"

#include <immintrin.h>

#define EMB_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define EMB_AVX512_INLINE                                                                      \
    static inline __attribute__((always_inline,                                              \
                                 target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/* Lanes 0..m-1 set, m <= 16. */
EMB_AVX512_INLINE __mmask16 tail_mask(size_t m)
{
    return (__mmask16)((1u << m) - 1u);
}

/* acc + q*x (dot) or acc + (q-x)^2 (squared L2). */
EMB_AVX512_INLINE __m512 acc_step(__m512 acc, __m512 q, __m512 x, int l2)
{
    if (l2) {
        __m512 d = _mm512_sub_ps(q, x);
        return _mm512_fmadd_ps(d, d, acc);
    }
    return _mm512_fmadd_ps(q, x, acc);
}

/* ---- loads and reductions ----------------------------------------------- */

enum { ROW_F32, ROW_F16, ROW_BF16, ROW_I8 };

/* The lanes of m from element i of p (type `type`) widened to f32;
 * lanes outside m are 0 and their memory is not read. */
EMB_AVX512_INLINE __m512 load16(const void *p, size_t i, __mmask16 m, int type)
{
    switch (type) {
    case ROW_F32:
        return _mm512_maskz_loadu_ps(m, (const float *)p + i);
    case ROW_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i));
    case ROW_BF16: {
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    default: {
        __m128i b = _mm_maskz_loadu_epi8(m, (const int8_t *)p + i);
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
    }
    }
}

/* Sixteen full lanes: a plain load (the mask-free form is cheaper). */
EMB_AVX512_INLINE __m512 load16_full(const void *p, size_t i, int type)
{
    switch (type) {
    case ROW_F32:
        return _mm512_loadu_ps((const float *)p + i);
    case ROW_F16:
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)));
    case ROW_BF16: {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    default: {
        __m128i b = _mm_loadu_si128((const __m128i *)((const int8_t *)p + i));
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
    }
    }
}

/* dot (l2 = 0) or squared L2 (l2 = 1) of the float vector q against n
 * elements of `type` at p: four accumulators, 64 elements per step. */
EMB_AVX512_INLINE float row_reduce(const float *q, const void *p, size_t n, int type, int l2)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = acc_step(s0, _mm512_loadu_ps(q + i), load16_full(p, i, type), l2);
        s1 = acc_step(s1, _mm512_loadu_ps(q + i + 16), load16_full(p, i + 16, type), l2);
        s2 = acc_step(s2, _mm512_loadu_ps(q + i + 32), load16_full(p, i + 32, type), l2);
        s3 = acc_step(s3, _mm512_loadu_ps(q + i + 48), load16_full(p, i + 48, type), l2);
    }
    for (; i + 16 <= n; i += 16)
        s0 = acc_step(s0, _mm512_loadu_ps(q + i), load16_full(p, i, type), l2);
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        s1 = acc_step(s1, _mm512_maskz_loadu_ps(m, q + i), load16(p, i, m, type), l2);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static EMB_AVX512 float emb_dot_f32_avx512(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 0);
}

static EMB_AVX512 float emb_l2sq_f32_avx512(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 1);
}

static EMB_AVX512 float emb_norm_f32_avx512(const float *a, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 x0 = _mm512_loadu_ps(a + i), x1 = _mm512_loadu_ps(a + i + 16);
        __m512 x2 = _mm512_loadu_ps(a + i + 32), x3 = _mm512_loadu_ps(a + i + 48);
        s0 = _mm512_fmadd_ps(x0, x0, s0);
        s1 = _mm512_fmadd_ps(x1, x1, s1);
        s2 = _mm512_fmadd_ps(x2, x2, s2);
        s3 = _mm512_fmadd_ps(x3, x3, s3);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(a + i);
        s0 = _mm512_fmadd_ps(x, x, s0);
    }
    if (i < n) {
        __m512 x = _mm512_maskz_loadu_ps(tail_mask(n - i), a + i);
        s1 = _mm512_fmadd_ps(x, x, s1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(s)));
}

/* One step of the fused cosine: dot += x*y, xx += x*x, yy += y*y.  The
 * empty asm pins x and y in registers: without it GCC 12 folds a load into
 * the x*y FMA and then loads y a second time for y*y (12 loads per 64
 * floats instead of 8, measured 30% slower at n = 4096). */
EMB_AVX512_INLINE void dn_step(__m512 *d, __m512 *xx, __m512 *yy, __m512 x, __m512 y)
{
    __asm__("" : "+v"(x), "+v"(y));
    *d = _mm512_fmadd_ps(x, y, *d);
    *xx = _mm512_fmadd_ps(x, x, *xx);
    *yy = _mm512_fmadd_ps(y, y, *yy);
}

/* Twelve accumulators (four per sum, 64 floats per step); the tail is one
 * masked step, so no scalar loop. */
static EMB_AVX512 void emb_dot_norms_f32_avx512(const float *a, const float *b, size_t n,
                                                float *dot, float *aa, float *bb)
{
    __m512 d0 = _mm512_setzero_ps(), d1 = d0, d2 = d0, d3 = d0;
    __m512 x0 = d0, x1 = d0, x2 = d0, x3 = d0;
    __m512 y0 = d0, y1 = d0, y2 = d0, y3 = d0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        dn_step(&d0, &x0, &y0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        dn_step(&d1, &x1, &y1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        dn_step(&d2, &x2, &y2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        dn_step(&d3, &x3, &y3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    }
    for (; i + 16 <= n; i += 16)
        dn_step(&d0, &x0, &y0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        dn_step(&d1, &x1, &y1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    }
    *dot = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(d0, d1), _mm512_add_ps(d2, d3)));
    *aa = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)));
    *bb = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(y0, y1), _mm512_add_ps(y2, y3)));
}

/* ---- element-wise ------------------------------------------------------- */

/* op: 0 add, 1 sub, 2 scale (a*s), 3 axpy (a + s*b) */
EMB_AVX512_INLINE __m512 elem_op(__m512 a, __m512 b, __m512 s, int op)
{
    switch (op) {
    case 0: return _mm512_add_ps(a, b);
    case 1: return _mm512_sub_ps(a, b);
    case 2: return _mm512_mul_ps(a, s);
    default: return _mm512_fmadd_ps(s, b, a);
    }
}

EMB_AVX512_INLINE void elementwise(float *out, const float *a, const float *b, float s, size_t n,
                                   int op)
{
    __m512 vs = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 b0 = op == 2 ? vs : _mm512_loadu_ps(b + i);
        __m512 b1 = op == 2 ? vs : _mm512_loadu_ps(b + i + 16);
        __m512 r0 = elem_op(_mm512_loadu_ps(a + i), b0, vs, op);
        __m512 r1 = elem_op(_mm512_loadu_ps(a + i + 16), b1, vs, op);
        _mm512_storeu_ps(out + i, r0);
        _mm512_storeu_ps(out + i + 16, r1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail_mask(n - i);
        __m512 b0 = op == 2 ? vs : _mm512_maskz_loadu_ps(m, b + i);
        _mm512_mask_storeu_ps(out + i, m, elem_op(_mm512_maskz_loadu_ps(m, a + i), b0, vs, op));
    }
}

static EMB_AVX512 void emb_add_f32_avx512(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 0);
}

static EMB_AVX512 void emb_sub_f32_avx512(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 1);
}

static EMB_AVX512 void emb_scale_f32_avx512(float *out, const float *a, float s, size_t n)
{
    elementwise(out, a, NULL, s, n, 2);
}

static EMB_AVX512 void emb_axpy_f32_avx512(float *out, const float *a, float s, const float *b,
                                           size_t n)
{
    elementwise(out, a, b, s, n, 3);
}

/* ---- conversions -------------------------------------------------------- */

static EMB_AVX512 void emb_f16_to_f32_avx512(float *out, const uint16_t *in, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, load16_full(in, i, ROW_F16));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, load16(in, i, m, ROW_F16));
    }
}

static EMB_AVX512 void emb_bf16_to_f32_avx512(float *out, const uint16_t *in, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, load16_full(in, i, ROW_BF16));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, load16(in, i, m, ROW_BF16));
    }
}

static EMB_AVX512 void emb_i8_to_f32_avx512(float *out, const int8_t *in, float scale, size_t n)
{
    __m512 vs = _mm512_set1_ps(scale);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_mul_ps(vs, load16_full(in, i, ROW_I8)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(vs, load16(in, i, m, ROW_I8)));
    }
}

static EMB_AVX512 void emb_f32_to_f16_avx512(uint16_t *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(in + i),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(out + i), h);
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, in + i),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(out + i, m, h);
    }
}

/* bf16 bits of sixteen floats: round half to even; NaN -> (x >> 16) | 0x40. */
EMB_AVX512_INLINE __m256i bf16_round16(__m512 v)
{
    __m512i x = _mm512_castps_si512(v);
    __m512i ax = _mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff));
    __mmask16 nan = _mm512_cmpgt_epi32_mask(ax, _mm512_set1_epi32(0x7f800000));
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(x, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    r = _mm512_srli_epi32(r, 16);
    __m512i q = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    r = _mm512_mask_blend_epi32(nan, r, q);
    return _mm512_cvtepi32_epi16(r); /* lanes are <= 0xffff: truncation is exact */
}

static EMB_AVX512 void emb_f32_to_bf16_avx512(uint16_t *out, const float *in, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(out + i), bf16_round16(_mm512_loadu_ps(in + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm256_mask_storeu_epi16(out + i, m, bf16_round16(_mm512_maskz_loadu_ps(m, in + i)));
    }
}

/* ---- scans -------------------------------------------------------------- */

/* The lanes of m (m < 0x100) from element i of p widened to f32 in a
 * 256-bit register; lanes outside m are 0 and their memory is not read. */
EMB_AVX512_INLINE __m256 load8(const void *p, size_t i, __mmask8 m, int type)
{
    switch (type) {
    case ROW_F32:
        return _mm256_maskz_loadu_ps(m, (const float *)p + i);
    case ROW_F16:
        return _mm256_cvtph_ps(_mm_maskz_loadu_epi16(m, (const uint16_t *)p + i));
    case ROW_BF16: {
        __m128i h = _mm_maskz_loadu_epi16(m, (const uint16_t *)p + i);
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    default: {
        __m128i b = _mm_maskz_loadu_epi8(m, (const int8_t *)p + i);
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    }
    }
}

/* Eight full lanes: plain loads. */
EMB_AVX512_INLINE __m256 load8_full(const void *p, size_t i, int type)
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

EMB_AVX512_INLINE __m256 acc_step8(__m256 acc, __m256 q, __m256 x, int l2)
{
    if (l2) {
        __m256 d = _mm256_sub_ps(q, x);
        return _mm256_fmadd_ps(d, d, acc);
    }
    return _mm256_fmadd_ps(q, x, acc);
}

/* row_reduce on 256-bit registers (four accumulators, 32 elements per step,
 * one masked step for the tail), used by the scans: see scan(). */
EMB_AVX512_INLINE float row_reduce8(const float *q, const void *p, size_t n, int type, int l2)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = acc_step8(s0, _mm256_loadu_ps(q + i), load8_full(p, i, type), l2);
        s1 = acc_step8(s1, _mm256_loadu_ps(q + i + 8), load8_full(p, i + 8, type), l2);
        s2 = acc_step8(s2, _mm256_loadu_ps(q + i + 16), load8_full(p, i + 16, type), l2);
        s3 = acc_step8(s3, _mm256_loadu_ps(q + i + 24), load8_full(p, i + 24, type), l2);
    }
    for (; i + 8 <= n; i += 8)
        s0 = acc_step8(s0, _mm256_loadu_ps(q + i), load8_full(p, i, type), l2);
    if (i < n) {
        __mmask8 m = (__mmask8)tail_mask(n - i);
        s1 = acc_step8(s1, _mm256_maskz_loadu_ps(m, q + i), load8(p, i, m, type), l2);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* out[r] = dot or l2sq of q against row r.  One row at a time: a single
 * sequential stream measured faster (about 1.5x) than interleaving two or
 * four rows, or adding software prefetch, on a 150 MB matrix (Zen 4).
 * The rows are streamed with 256-bit loads and FMAs: on Zen 4 the same loop
 * on 512-bit registers measured 1.3-1.8x slower over a 50,000 x 768 matrix
 * (f16 11-14 vs 18-19 GB/s, i8 8 vs 14 GB/s; 8 accumulators, 2-row
 * interleave and software prefetch did not help the 512-bit loop). */
EMB_AVX512_INLINE void scan(float *out, const float *q, const void *rows, size_t n_rows,
                            size_t dim, int type, int l2)
{
    size_t stride = dim * (type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2);
    for (size_t r = 0; r < n_rows; r++)
        out[r] = row_reduce8(q, (const char *)rows + r * stride, dim, type, l2);
}

static EMB_AVX512 void emb_scan_dot_f32_avx512(float *out, const float *q, const float *rows,
                                               size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 0);
}

static EMB_AVX512 void emb_scan_l2sq_f32_avx512(float *out, const float *q, const float *rows,
                                                size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 1);
}

static EMB_AVX512 void emb_scan_dot_f16_avx512(float *out, const float *q, const uint16_t *rows,
                                               size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 0);
}

static EMB_AVX512 void emb_scan_l2sq_f16_avx512(float *out, const float *q,
                                                const uint16_t *rows, size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 1);
}

static EMB_AVX512 void emb_scan_dot_bf16_avx512(float *out, const float *q,
                                                const uint16_t *rows, size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 0);
}

static EMB_AVX512 void emb_scan_l2sq_bf16_avx512(float *out, const float *q,
                                                 const uint16_t *rows, size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 1);
}

static EMB_AVX512 void emb_scan_dot_i8_avx512(float *out, const float *q, const int8_t *rows,
                                              size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_I8, 0);
}

/* Multi-query scan: a tile of MQ_ROWS rows x MQ_QUERIES queries keeps 16
 * 16-lane accumulators in registers (of 32 zmm); per 16 elements 8 loads
 * feed 16 FMAs, the dim tail is one masked step.  Queries are the outer
 * loop (4 query vectors stay in L1), rows the inner one (the caller's block
 * of rows stays in L2).  Tiles at the edges repeat the last row / query (the
 * extra results are not stored), so there is one code path. */
#define MQ_ROWS 4
#define MQ_QUERIES 4

static EMB_AVX512 void emb_scan_dot_f32_multi_avx512(float *out, const float *q, size_t n_q,
                                                     const float *rows, size_t n_rows, size_t dim)
{
    if (n_q == 0 || n_rows == 0)
        return;
    for (size_t j0 = 0; j0 < n_q; j0 += MQ_QUERIES) {
        const float *qp[MQ_QUERIES];
        for (size_t b = 0; b < MQ_QUERIES; b++)
            qp[b] = q + (j0 + b < n_q ? j0 + b : n_q - 1) * dim;
        size_t nb = n_q - j0 < MQ_QUERIES ? n_q - j0 : MQ_QUERIES;
        for (size_t r0 = 0; r0 < n_rows; r0 += MQ_ROWS) {
            const float *rp[MQ_ROWS];
            for (size_t a = 0; a < MQ_ROWS; a++)
                rp[a] = rows + (r0 + a < n_rows ? r0 + a : n_rows - 1) * dim;
            __m512 acc[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    acc[a][b] = _mm512_setzero_ps();
            size_t i = 0;
            for (; i + 16 <= dim; i += 16) {
                __m512 qv[MQ_QUERIES];
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    qv[b] = _mm512_loadu_ps(qp[b] + i);
#pragma GCC unroll 4
                for (size_t a = 0; a < MQ_ROWS; a++) {
                    __m512 x = _mm512_loadu_ps(rp[a] + i);
#pragma GCC unroll 4
                    for (size_t b = 0; b < MQ_QUERIES; b++)
                        acc[a][b] = _mm512_fmadd_ps(x, qv[b], acc[a][b]);
                }
            }
            if (i < dim) {
                __mmask16 m = tail_mask(dim - i);
                __m512 qv[MQ_QUERIES];
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    qv[b] = _mm512_maskz_loadu_ps(m, qp[b] + i);
#pragma GCC unroll 4
                for (size_t a = 0; a < MQ_ROWS; a++) {
                    __m512 x = _mm512_maskz_loadu_ps(m, rp[a] + i);
#pragma GCC unroll 4
                    for (size_t b = 0; b < MQ_QUERIES; b++)
                        acc[a][b] = _mm512_fmadd_ps(x, qv[b], acc[a][b]);
                }
            }
            size_t na = n_rows - r0 < MQ_ROWS ? n_rows - r0 : MQ_ROWS;
            /* reduce with constant indices first, so acc stays in registers */
            float res[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    res[a][b] = _mm512_reduce_add_ps(acc[a][b]);
            for (size_t a = 0; a < na; a++)
                for (size_t b = 0; b < nb; b++)
                    out[(r0 + a) * n_q + j0 + b] = res[a][b];
        }
    }
}

/* Sketch scan: 64 elements per step: the row's codes take q's sign (masked
 * subtract from 0 where q < 0), vpmaddubsw with |q| (u8) sums pairs into
 * int16 without saturation (2 * 127 * 127 < 2^15), vpmaddwd with ones into
 * 16 int32 lanes; the tail is one masked step (masked-off bytes are zero and
 * not read). */
EMB_AVX512_INLINE __m512i i8_step512(__m512i acc, __m512i qv, __m512i xv, __m512i ones)
{
    __mmask64 neg = _mm512_movepi8_mask(qv);
    __m512i xs = _mm512_mask_sub_epi8(xv, neg, _mm512_setzero_si512(), xv);
    __m512i p = _mm512_maddubs_epi16(_mm512_abs_epi8(qv), xs);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p, ones));
}

static EMB_AVX512 void emb_scan_dot_i8i8_avx512(int32_t *out, const int8_t *q,
                                                const int8_t *rows, size_t n_rows, size_t dim)
{
    const __m512i ones = _mm512_set1_epi16(1);
    const size_t body = dim / 64 * 64;
    const size_t m = dim - body;
    const __mmask64 tail = m ? (__mmask64)((1ull << m) - 1ull) : 0;
    for (size_t r = 0; r < n_rows; r++) {
        const int8_t *x = rows + r * dim;
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        size_t i = 0;
        for (; i + 128 <= body; i += 128) {
            a0 = i8_step512(a0, _mm512_loadu_si512(q + i), _mm512_loadu_si512(x + i), ones);
            a1 = i8_step512(a1, _mm512_loadu_si512(q + i + 64), _mm512_loadu_si512(x + i + 64),
                            ones);
        }
        if (i < body)
            a0 = i8_step512(a0, _mm512_loadu_si512(q + i), _mm512_loadu_si512(x + i), ones);
        if (m)
            a1 = i8_step512(a1, _mm512_maskz_loadu_epi8(tail, q + body),
                            _mm512_maskz_loadu_epi8(tail, x + body), ones);
        out[r] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
    }
}

/* With AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes and sums
 * groups of 4 into int32 lanes (no saturation).  The row's codes c become
 * unsigned by c + 128 (xor 0x80), so the sum is q.c + 128 sum(q); the
 * second term is subtracted at the end.  Bounds: a lane takes at most
 * dim/16 products of magnitude <= 255 * 127, and the whole sum at most
 * 65536 * 255 * 127 < 2^31, so nothing wraps for dim <= 65536 (and int32
 * wrap-around would cancel in the subtraction anyway).  The dim tail is one
 * masked step with the query's masked bytes zero.  Rows go 4 at a time
 * (one query load feeds 4 vpdpbusd) and their 4 sums are reduced together. */
#define EMB_AVX512_VNNI                                                                        \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

EMB_AVX512_VNNI static inline __m128i reduce4_epi32(__m512i a0, __m512i a1, __m512i a2,
                                                     __m512i a3)
{
    __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
    __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
    __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

static int32_t qsum_i8(const int8_t *q, size_t dim)
{
    int32_t s = 0;
    for (size_t i = 0; i < dim; i++)
        s += q[i];
    return s;
}

/* 4 rows (pointers x0..x3) x queries q[0..nq) (nq <= 4), sums into res[a][b]
 * before the 128 sum(q) correction. */
EMB_AVX512_VNNI static inline void vnni_tile(const int8_t *const *x, const int8_t *const *q,
                                             size_t dim, int32_t res[4][4])
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[4][4];
#pragma GCC unroll 4
    for (int a = 0; a < 4; a++)
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++)
            acc[a][b] = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        __m512i qv[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++)
            qv[b] = _mm512_loadu_si512(q[b] + i);
#pragma GCC unroll 4
        for (int a = 0; a < 4; a++) {
            __m512i xv = _mm512_xor_si512(_mm512_loadu_si512(x[a] + i), flip);
#pragma GCC unroll 4
            for (int b = 0; b < 4; b++)
                acc[a][b] = _mm512_dpbusd_epi32(acc[a][b], xv, qv[b]);
        }
    }
    if (i < dim) {
        __mmask64 m = (__mmask64)((1ull << (dim - i)) - 1ull);
        __m512i qv[4];
#pragma GCC unroll 4
        for (int b = 0; b < 4; b++)
            qv[b] = _mm512_maskz_loadu_epi8(m, q[b] + i);
#pragma GCC unroll 4
        for (int a = 0; a < 4; a++) {
            __m512i xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x[a] + i), flip);
#pragma GCC unroll 4
            for (int b = 0; b < 4; b++)
                acc[a][b] = _mm512_dpbusd_epi32(acc[a][b], xv, qv[b]);
        }
    }
#pragma GCC unroll 4
    for (int a = 0; a < 4; a++)
        _mm_storeu_si128((__m128i *)res[a], reduce4_epi32(acc[a][0], acc[a][1], acc[a][2], acc[a][3]));
}

/* One query, 4 rows per step (the 4 accumulators of a row-only tile). */
EMB_AVX512_VNNI static void scan_i8i8_vnni(int32_t *out, const int8_t *q, const int8_t *rows,
                                           size_t n_rows, size_t dim)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int64_t corr = 128 * (int64_t)qsum_i8(q, dim);
    const size_t body = dim / 64 * 64;
    const __mmask64 tail = dim > body ? (__mmask64)((1ull << (dim - body)) - 1ull) : 0;
    const __m512i qt = _mm512_maskz_loadu_epi8(tail, q + body);
    for (size_t r0 = 0; r0 < n_rows; r0 += 4) {
        const int8_t *x[4];
        for (size_t a = 0; a < 4; a++)
            x[a] = rows + (r0 + a < n_rows ? r0 + a : n_rows - 1) * dim;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = 0; i < body; i += 64) {
            __m512i qv = _mm512_loadu_si512(q + i);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_xor_si512(_mm512_loadu_si512(x[0] + i), flip), qv);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_xor_si512(_mm512_loadu_si512(x[1] + i), flip), qv);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_xor_si512(_mm512_loadu_si512(x[2] + i), flip), qv);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_xor_si512(_mm512_loadu_si512(x[3] + i), flip), qv);
        }
        if (tail) {
            a0 = _mm512_dpbusd_epi32(
                a0, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, x[0] + body), flip), qt);
            a1 = _mm512_dpbusd_epi32(
                a1, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, x[1] + body), flip), qt);
            a2 = _mm512_dpbusd_epi32(
                a2, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, x[2] + body), flip), qt);
            a3 = _mm512_dpbusd_epi32(
                a3, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, x[3] + body), flip), qt);
        }
        int32_t res[4];
        _mm_storeu_si128((__m128i *)res, reduce4_epi32(a0, a1, a2, a3));
        size_t na = n_rows - r0 < 4 ? n_rows - r0 : 4;
        for (size_t a = 0; a < na; a++)
            out[r0 + a] = (int32_t)((int64_t)res[a] - corr);
    }
}

EMB_AVX512_VNNI static void scan_i8i8_multi_vnni(int32_t *out, const int8_t *q, size_t n_q,
                                                 const int8_t *rows, size_t n_rows, size_t dim)
{
    int64_t corr[4];
    for (size_t j0 = 0; j0 < n_q; j0 += 4) {
        const int8_t *qp[4];
        size_t nb = n_q - j0 < 4 ? n_q - j0 : 4;
        for (size_t b = 0; b < 4; b++) {
            qp[b] = q + (j0 + (b < nb ? b : nb - 1)) * dim;
            corr[b] = 128 * (int64_t)qsum_i8(qp[b], dim);
        }
        for (size_t r0 = 0; r0 < n_rows; r0 += 4) {
            const int8_t *x[4];
            for (size_t a = 0; a < 4; a++)
                x[a] = rows + (r0 + a < n_rows ? r0 + a : n_rows - 1) * dim;
            int32_t res[4][4];
            vnni_tile(x, qp, dim, res);
            size_t na = n_rows - r0 < 4 ? n_rows - r0 : 4;
            for (size_t a = 0; a < na; a++)
                for (size_t b = 0; b < nb; b++)
                    out[(j0 + b) * n_rows + r0 + a] = (int32_t)((int64_t)res[a][b] - corr[b]);
        }
    }
}

static void emb_scan_dot_i8i8_avx512_any(int32_t *out, const int8_t *q, const int8_t *rows,
                                         size_t n_rows, size_t dim)
{
    if (emb_kernels_vnni())
        scan_i8i8_vnni(out, q, rows, n_rows, dim);
    else
        emb_scan_dot_i8i8_avx512(out, q, rows, n_rows, dim);
}

static void emb_scan_dot_i8i8_multi_avx512(int32_t *out, const int8_t *q, size_t n_q,
                                           const int8_t *rows, size_t n_rows, size_t dim)
{
    if (emb_kernels_vnni())
        scan_i8i8_multi_vnni(out, q, n_q, rows, n_rows, dim);
    else
        emb_i8i8_multi_via(emb_scan_dot_i8i8_avx512, out, q, n_q, rows, n_rows, dim);
}

const emb_kernels emb_kernels_avx512 = {
    .name = "avx512",
    .dot_f32 = emb_dot_f32_avx512,
    .l2sq_f32 = emb_l2sq_f32_avx512,
    .norm_f32 = emb_norm_f32_avx512,
    .dot_norms_f32 = emb_dot_norms_f32_avx512,
    .add_f32 = emb_add_f32_avx512,
    .sub_f32 = emb_sub_f32_avx512,
    .scale_f32 = emb_scale_f32_avx512,
    .axpy_f32 = emb_axpy_f32_avx512,
    .f16_to_f32 = emb_f16_to_f32_avx512,
    .f32_to_f16 = emb_f32_to_f16_avx512,
    .bf16_to_f32 = emb_bf16_to_f32_avx512,
    .f32_to_bf16 = emb_f32_to_bf16_avx512,
    .i8_to_f32 = emb_i8_to_f32_avx512,
    .scan_dot_f32 = emb_scan_dot_f32_avx512,
    .scan_l2sq_f32 = emb_scan_l2sq_f32_avx512,
    .scan_dot_f16 = emb_scan_dot_f16_avx512,
    .scan_l2sq_f16 = emb_scan_l2sq_f16_avx512,
    .scan_dot_bf16 = emb_scan_dot_bf16_avx512,
    .scan_l2sq_bf16 = emb_scan_l2sq_bf16_avx512,
    .scan_dot_i8 = emb_scan_dot_i8_avx512,
    .scan_dot_i8i8 = emb_scan_dot_i8i8_avx512_any,
    .scan_dot_i8i8_multi = emb_scan_dot_i8i8_multi_avx512,
    .scan_dot_f32_multi = emb_scan_dot_f32_multi_avx512,
};

#endif
