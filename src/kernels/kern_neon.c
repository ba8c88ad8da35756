/*
 * kern_neon.c - AArch64 Advanced SIMD (NEON) kernels.
 *
 * Same entries as kern_serial.c.  NEON is part of the AArch64 base
 * architecture, so no target attribute or run-time check is needed.
 *
 * - Reductions keep four 4-lane accumulators (16 floats per step).
 * - Blocks of 8 elements for every type (8 halfs = one q register, 8 int8 =
 *   one d register); a tail of fewer than 8 elements is copied into a small
 *   zeroed buffer and goes through the same code, so no load crosses the
 *   end of an input.
 * - f16 <-> f32 uses the FCVT instructions (vcvt_f32_f16 / vcvt_f16_f32),
 *   which round to nearest even under the default FPCR and keep NaN a
 *   (quiet) NaN; bf16 uses integer bit operations with the serial rounding
 *   and NaN rule.
 * - Scans run the same four-accumulator loop over one row after another,
 *   widening f16/bf16/int8 on the fly.
 */
#if defined(__aarch64__)

#include "kernels/kernels.h"

#include <arm_neon.h>
#include <string.h>

/* Helpers take the row type and op as constants; forcing them inline lets
 * the compiler drop the switches from every kernel's inner loop. */
#define EMB_NEON_INLINE static inline __attribute__((always_inline))

enum { ROW_F32, ROW_F16, ROW_BF16, ROW_I8 };

/* acc + q*x (dot) or acc + (q-x)^2 (squared L2). */
EMB_NEON_INLINE float32x4_t acc_step(float32x4_t acc, float32x4_t q, float32x4_t x, int l2)
{
    if (l2) {
        float32x4_t d = vsubq_f32(q, x);
        return vfmaq_f32(acc, d, d);
    }
    return vfmaq_f32(acc, q, x);
}

/* Eight elements of `type` from element i of p, widened to f32. */
EMB_NEON_INLINE float32x4x2_t load8(const void *p, size_t i, int type)
{
    float32x4x2_t v;
    switch (type) {
    case ROW_F32: {
        const float *f = (const float *)p + i;
        v.val[0] = vld1q_f32(f);
        v.val[1] = vld1q_f32(f + 4);
        break;
    }
    case ROW_F16: {
        float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)p + i));
        v.val[0] = vcvt_f32_f16(vget_low_f16(h));
        v.val[1] = vcvt_high_f32_f16(h);
        break;
    }
    case ROW_BF16: {
        uint16x8_t h = vld1q_u16((const uint16_t *)p + i);
        v.val[0] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
        v.val[1] = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
        break;
    }
    default: {
        int16x8_t w = vmovl_s8(vld1_s8((const int8_t *)p + i));
        v.val[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
        v.val[1] = vcvtq_f32_s32(vmovl_high_s16(w));
        break;
    }
    }
    return v;
}

/* The last m < 8 elements from element i; missing lanes are 0. */
EMB_NEON_INLINE float32x4x2_t load8_tail(const void *p, size_t i, size_t m, int type)
{
    size_t esz = type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2;
    float buf[8] = {0};
    memcpy(buf, (const char *)p + i * esz, m * esz);
    return load8(buf, 0, type);
}

EMB_NEON_INLINE void store8_tail(float *out, float32x4x2_t v, size_t m)
{
    float buf[8];
    vst1q_f32(buf, v.val[0]);
    vst1q_f32(buf + 4, v.val[1]);
    memcpy(out, buf, m * sizeof *out);
}

/* ---- reductions --------------------------------------------------------- */

/* dot (l2 = 0) or squared L2 (l2 = 1) of the float vector q against n
 * elements of `type` at p: four accumulators, 16 elements per step. */
EMB_NEON_INLINE float row_reduce(const float *q, const void *p, size_t n, int type, int l2)
{
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    float32x4_t s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4x2_t x = load8(p, i, type), y = load8(p, i + 8, type);
        s0 = acc_step(s0, vld1q_f32(q + i), x.val[0], l2);
        s1 = acc_step(s1, vld1q_f32(q + i + 4), x.val[1], l2);
        s2 = acc_step(s2, vld1q_f32(q + i + 8), y.val[0], l2);
        s3 = acc_step(s3, vld1q_f32(q + i + 12), y.val[1], l2);
    }
    if (i + 8 <= n) {
        float32x4x2_t x = load8(p, i, type);
        s0 = acc_step(s0, vld1q_f32(q + i), x.val[0], l2);
        s1 = acc_step(s1, vld1q_f32(q + i + 4), x.val[1], l2);
        i += 8;
    }
    if (i < n) {
        float32x4x2_t qt = load8_tail(q, i, n - i, ROW_F32);
        float32x4x2_t x = load8_tail(p, i, n - i, type);
        s2 = acc_step(s2, qt.val[0], x.val[0], l2);
        s3 = acc_step(s3, qt.val[1], x.val[1], l2);
    }
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

static float emb_dot_f32_neon(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 0);
}

static float emb_l2sq_f32_neon(const float *a, const float *b, size_t n)
{
    return row_reduce(a, b, n, ROW_F32, 1);
}

static float emb_norm_f32_neon(const float *a, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    float32x4_t s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t x0 = vld1q_f32(a + i), x1 = vld1q_f32(a + i + 4);
        float32x4_t x2 = vld1q_f32(a + i + 8), x3 = vld1q_f32(a + i + 12);
        s0 = vfmaq_f32(s0, x0, x0);
        s1 = vfmaq_f32(s1, x1, x1);
        s2 = vfmaq_f32(s2, x2, x2);
        s3 = vfmaq_f32(s3, x3, x3);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t x = vld1q_f32(a + i);
        s0 = vfmaq_f32(s0, x, x);
    }
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++)
        s += a[i] * a[i];
    return vget_lane_f32(vsqrt_f32(vdup_n_f32(s)), 0);
}

/* One step of the fused cosine: dot += x*y, xx += x*x, yy += y*y. */
EMB_NEON_INLINE void dn_step(float32x4_t *d, float32x4_t *xx, float32x4_t *yy, float32x4_t x,
                             float32x4_t y)
{
    *d = vfmaq_f32(*d, x, y);
    *xx = vfmaq_f32(*xx, x, x);
    *yy = vfmaq_f32(*yy, y, y);
}

/* Twelve accumulators (four per sum, 16 floats per step); a tail of fewer
 * than 8 elements goes through the zero-padded buffer like row_reduce. */
static void emb_dot_norms_f32_neon(const float *a, const float *b, size_t n, float *dot,
                                   float *aa, float *bb)
{
    float32x4_t d0 = vdupq_n_f32(0), d1 = d0, d2 = d0, d3 = d0;
    float32x4_t x0 = d0, x1 = d0, x2 = d0, x3 = d0;
    float32x4_t y0 = d0, y1 = d0, y2 = d0, y3 = d0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        dn_step(&d0, &x0, &y0, vld1q_f32(a + i), vld1q_f32(b + i));
        dn_step(&d1, &x1, &y1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        dn_step(&d2, &x2, &y2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        dn_step(&d3, &x3, &y3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    if (i + 8 <= n) {
        dn_step(&d0, &x0, &y0, vld1q_f32(a + i), vld1q_f32(b + i));
        dn_step(&d1, &x1, &y1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        i += 8;
    }
    if (i < n) {
        float32x4x2_t at = load8_tail(a, i, n - i, ROW_F32);
        float32x4x2_t bt = load8_tail(b, i, n - i, ROW_F32);
        dn_step(&d2, &x2, &y2, at.val[0], bt.val[0]);
        dn_step(&d3, &x3, &y3, at.val[1], bt.val[1]);
    }
    *dot = vaddvq_f32(vaddq_f32(vaddq_f32(d0, d1), vaddq_f32(d2, d3)));
    *aa = vaddvq_f32(vaddq_f32(vaddq_f32(x0, x1), vaddq_f32(x2, x3)));
    *bb = vaddvq_f32(vaddq_f32(vaddq_f32(y0, y1), vaddq_f32(y2, y3)));
}

/* ---- element-wise ------------------------------------------------------- */

/* op: 0 add, 1 sub, 2 scale (a*s), 3 axpy (a + s*b) */
EMB_NEON_INLINE void elementwise(float *out, const float *a, const float *b, float s, size_t n,
                               int op)
{
    float32x4_t vs = vdupq_n_f32(s);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t x = vld1q_f32(a + i), r;
        switch (op) {
        case 0: r = vaddq_f32(x, vld1q_f32(b + i)); break;
        case 1: r = vsubq_f32(x, vld1q_f32(b + i)); break;
        case 2: r = vmulq_f32(x, vs); break;
        default: r = vfmaq_f32(x, vs, vld1q_f32(b + i)); break;
        }
        vst1q_f32(out + i, r);
    }
    for (; i < n; i++) {
        switch (op) {
        case 0: out[i] = a[i] + b[i]; break;
        case 1: out[i] = a[i] - b[i]; break;
        case 2: out[i] = a[i] * s; break;
        default: out[i] = a[i] + s * b[i]; break;
        }
    }
}

static void emb_add_f32_neon(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 0);
}

static void emb_sub_f32_neon(float *out, const float *a, const float *b, size_t n)
{
    elementwise(out, a, b, 0, n, 1);
}

static void emb_scale_f32_neon(float *out, const float *a, float s, size_t n)
{
    elementwise(out, a, NULL, s, n, 2);
}

static void emb_axpy_f32_neon(float *out, const float *a, float s, const float *b, size_t n)
{
    elementwise(out, a, b, s, n, 3);
}

/* ---- conversions -------------------------------------------------------- */

EMB_NEON_INLINE void widen(float *out, const void *in, size_t n, int type, float scale)
{
    float32x4_t vs = vdupq_n_f32(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4x2_t v = load8(in, i, type);
        if (type == ROW_I8) {
            v.val[0] = vmulq_f32(vs, v.val[0]);
            v.val[1] = vmulq_f32(vs, v.val[1]);
        }
        vst1q_f32(out + i, v.val[0]);
        vst1q_f32(out + i + 4, v.val[1]);
    }
    if (i < n) {
        float32x4x2_t v = load8_tail(in, i, n - i, type);
        if (type == ROW_I8) {
            v.val[0] = vmulq_f32(vs, v.val[0]);
            v.val[1] = vmulq_f32(vs, v.val[1]);
        }
        store8_tail(out + i, v, n - i);
    }
}

static void emb_f16_to_f32_neon(float *out, const uint16_t *in, size_t n)
{
    widen(out, in, n, ROW_F16, 1.0f);
}

static void emb_bf16_to_f32_neon(float *out, const uint16_t *in, size_t n)
{
    widen(out, in, n, ROW_BF16, 1.0f);
}

static void emb_i8_to_f32_neon(float *out, const int8_t *in, float scale, size_t n)
{
    widen(out, in, n, ROW_I8, scale);
}

/* f16 bits of four floats (FCVT: nearest even under the default FPCR). */
EMB_NEON_INLINE uint16x4_t f16_round4(float32x4_t v)
{
    return vreinterpret_u16_f16(vcvt_f16_f32(v));
}

/* bf16 bits of four floats: round half to even; NaN -> (x >> 16) | 0x40. */
EMB_NEON_INLINE uint16x4_t bf16_round4(float32x4_t v)
{
    uint32x4_t x = vreinterpretq_u32_f32(v);
    uint32x4_t nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7fffffffu)), vdupq_n_u32(0x7f800000u));
    uint32x4_t odd = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
    uint32x4_t r = vshrq_n_u32(vaddq_u32(x, vaddq_u32(odd, vdupq_n_u32(0x7fff))), 16);
    uint32x4_t q = vorrq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(0x40));
    return vmovn_u32(vbslq_u32(nan, q, r));
}

EMB_NEON_INLINE void narrow(uint16_t *out, const float *in, size_t n, int bf16)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(in + i);
        vst1_u16(out + i, bf16 ? bf16_round4(v) : f16_round4(v));
    }
    if (i < n) {
        float fbuf[4] = {0};
        uint16_t hbuf[4];
        memcpy(fbuf, in + i, (n - i) * sizeof *in);
        float32x4_t v = vld1q_f32(fbuf);
        vst1_u16(hbuf, bf16 ? bf16_round4(v) : f16_round4(v));
        memcpy(out + i, hbuf, (n - i) * sizeof *out);
    }
}

static void emb_f32_to_f16_neon(uint16_t *out, const float *in, size_t n)
{
    narrow(out, in, n, 0);
}

static void emb_f32_to_bf16_neon(uint16_t *out, const float *in, size_t n)
{
    narrow(out, in, n, 1);
}

/* ---- scans -------------------------------------------------------------- */

/* out[r] = dot or l2sq of q against row r, one row after another (a single
 * sequential stream; interleaving rows was slower on the x86 machines
 * measured, see kern_avx512.c). */
EMB_NEON_INLINE void scan(float *out, const float *q, const void *rows, size_t n_rows,
                          size_t dim, int type, int l2)
{
    size_t stride = dim * (type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2);
    for (size_t r = 0; r < n_rows; r++)
        out[r] = row_reduce(q, (const char *)rows + r * stride, dim, type, l2);
}

static void emb_scan_dot_f32_neon(float *out, const float *q, const float *rows, size_t n_rows,
                                  size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 0);
}

static void emb_scan_l2sq_f32_neon(float *out, const float *q, const float *rows, size_t n_rows,
                                   size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F32, 1);
}

static void emb_scan_dot_f16_neon(float *out, const float *q, const uint16_t *rows,
                                  size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 0);
}

static void emb_scan_l2sq_f16_neon(float *out, const float *q, const uint16_t *rows,
                                   size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_F16, 1);
}

static void emb_scan_dot_bf16_neon(float *out, const float *q, const uint16_t *rows,
                                   size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 0);
}

static void emb_scan_l2sq_bf16_neon(float *out, const float *q, const uint16_t *rows,
                                    size_t n_rows, size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_BF16, 1);
}

static void emb_scan_dot_i8_neon(float *out, const float *q, const int8_t *rows, size_t n_rows,
                                 size_t dim)
{
    scan(out, q, rows, n_rows, dim, ROW_I8, 0);
}

/* Multi-query scan: a tile of MQ_ROWS rows x MQ_QUERIES queries keeps 16
 * 4-lane accumulators in registers (of 32 q registers); per 4 elements 8
 * loads feed 16 FMAs; the dim tail (< 4) is added in scalar code.  Queries
 * are the outer loop, rows the inner one (the caller's block of rows stays
 * in L2).  Tiles at the edges repeat the last row / query (the extra results
 * are not stored), so there is one code path. */
#define MQ_ROWS 4
#define MQ_QUERIES 4

static void emb_scan_dot_f32_multi_neon(float *out, const float *q, size_t n_q, const float *rows,
                                        size_t n_rows, size_t dim)
{
    if (n_q == 0 || n_rows == 0)
        return;
    const size_t body = dim & ~(size_t)3;
    for (size_t j0 = 0; j0 < n_q; j0 += MQ_QUERIES) {
        const float *qp[MQ_QUERIES];
        for (size_t b = 0; b < MQ_QUERIES; b++)
            qp[b] = q + (j0 + b < n_q ? j0 + b : n_q - 1) * dim;
        size_t nb = n_q - j0 < MQ_QUERIES ? n_q - j0 : MQ_QUERIES;
        for (size_t r0 = 0; r0 < n_rows; r0 += MQ_ROWS) {
            const float *rp[MQ_ROWS];
            for (size_t a = 0; a < MQ_ROWS; a++)
                rp[a] = rows + (r0 + a < n_rows ? r0 + a : n_rows - 1) * dim;
            float32x4_t acc[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    acc[a][b] = vdupq_n_f32(0);
            for (size_t i = 0; i < body; i += 4) {
                float32x4_t qv[MQ_QUERIES];
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    qv[b] = vld1q_f32(qp[b] + i);
#pragma GCC unroll 4
                for (size_t a = 0; a < MQ_ROWS; a++) {
                    float32x4_t x = vld1q_f32(rp[a] + i);
#pragma GCC unroll 4
                    for (size_t b = 0; b < MQ_QUERIES; b++)
                        acc[a][b] = vfmaq_f32(acc[a][b], x, qv[b]);
                }
            }
            size_t na = n_rows - r0 < MQ_ROWS ? n_rows - r0 : MQ_ROWS;
            /* reduce with constant indices first, so acc stays in registers */
            float res[MQ_ROWS][MQ_QUERIES];
#pragma GCC unroll 4
            for (size_t a = 0; a < MQ_ROWS; a++)
#pragma GCC unroll 4
                for (size_t b = 0; b < MQ_QUERIES; b++)
                    res[a][b] = vaddvq_f32(acc[a][b]);
            for (size_t a = 0; a < na; a++) {
                for (size_t b = 0; b < nb; b++) {
                    float s = res[a][b];
                    for (size_t i = body; i < dim; i++)
                        s += qp[b][i] * rp[a][i];
                    out[(r0 + a) * n_q + j0 + b] = s;
                }
            }
        }
    }
}

/* Sketch scan: 16 elements per step, vmull_s8 (int8 x int8 -> int16, exact)
 * and vpadalq_s16 (pairs into int32) into two accumulators; the tail (< 16)
 * is scalar. */
static void emb_scan_dot_i8i8_neon(int32_t *out, const int8_t *q, const int8_t *rows,
                                   size_t n_rows, size_t dim)
{
    const size_t body = dim / 16 * 16;
    for (size_t r = 0; r < n_rows; r++) {
        const int8_t *x = rows + r * dim;
        int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
        size_t i = 0;
        for (; i < body; i += 16) {
            int8x16_t qv = vld1q_s8(q + i), xv = vld1q_s8(x + i);
            a0 = vpadalq_s16(a0, vmull_s8(vget_low_s8(qv), vget_low_s8(xv)));
            a1 = vpadalq_s16(a1, vmull_high_s8(qv, xv));
        }
        int32_t s = vaddvq_s32(vaddq_s32(a0, a1));
        for (; i < dim; i++)
            s += (int32_t)q[i] * (int32_t)x[i];
        out[r] = s;
    }
}

static void emb_scan_dot_i8i8_multi_neon(int32_t *out, const int8_t *q, size_t n_q,
                                          const int8_t *rows, size_t n_rows, size_t dim)
{
    emb_i8i8_multi_via(emb_scan_dot_i8i8_neon, out, q, n_q, rows, n_rows, dim);
}

const emb_kernels emb_kernels_neon = {
    .name = "neon",
    .dot_f32 = emb_dot_f32_neon,
    .l2sq_f32 = emb_l2sq_f32_neon,
    .norm_f32 = emb_norm_f32_neon,
    .dot_norms_f32 = emb_dot_norms_f32_neon,
    .add_f32 = emb_add_f32_neon,
    .sub_f32 = emb_sub_f32_neon,
    .scale_f32 = emb_scale_f32_neon,
    .axpy_f32 = emb_axpy_f32_neon,
    .f16_to_f32 = emb_f16_to_f32_neon,
    .f32_to_f16 = emb_f32_to_f16_neon,
    .bf16_to_f32 = emb_bf16_to_f32_neon,
    .f32_to_bf16 = emb_f32_to_bf16_neon,
    .i8_to_f32 = emb_i8_to_f32_neon,
    .scan_dot_f32 = emb_scan_dot_f32_neon,
    .scan_l2sq_f32 = emb_scan_l2sq_f32_neon,
    .scan_dot_f16 = emb_scan_dot_f16_neon,
    .scan_l2sq_f16 = emb_scan_l2sq_f16_neon,
    .scan_dot_bf16 = emb_scan_dot_bf16_neon,
    .scan_l2sq_bf16 = emb_scan_l2sq_bf16_neon,
    .scan_dot_i8 = emb_scan_dot_i8_neon,
    .scan_dot_i8i8 = emb_scan_dot_i8i8_neon,
    .scan_dot_i8i8_multi = emb_scan_dot_i8i8_multi_neon,
    .scan_dot_f32_multi = emb_scan_dot_f32_multi_neon,
};

#endif
