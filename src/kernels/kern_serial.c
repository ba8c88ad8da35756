/*
 * kern_serial.c - portable C kernels: the complete reference set that every
 * other instruction set must match, and the fallback on any CPU.
 *
 * Reductions use four independent float accumulators so the compiler can
 * keep several FMAs in flight; the result differs from a strict left-to-
 * right sum only by rounding, which the tests bound.
 */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

static float emb_dot_f32_serial(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float emb_l2sq_f32_serial(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
        float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

static float emb_norm_f32_serial(const float *a, size_t n)
{
    return sqrtf(emb_dot_f32_serial(a, a, n));
}

/* Four lanes per sum, written as small arrays so the compiler can keep each
 * sum in one vector register (it does for the dot above too). */
static void emb_dot_norms_f32_serial(const float *a, const float *b, size_t n, float *dot,
                                     float *aa, float *bb)
{
    float d[4] = {0}, x[4] = {0}, y[4] = {0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int j = 0; j < 4; j++) {
            d[j] += a[i + j] * b[i + j];
            x[j] += a[i + j] * a[i + j];
            y[j] += b[i + j] * b[i + j];
        }
    }
    for (; i < n; i++) {
        d[0] += a[i] * b[i];
        x[0] += a[i] * a[i];
        y[0] += b[i] * b[i];
    }
    *dot = (d[0] + d[1]) + (d[2] + d[3]);
    *aa = (x[0] + x[1]) + (x[2] + x[3]);
    *bb = (y[0] + y[1]) + (y[2] + y[3]);
}

static void emb_add_f32_serial(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

static void emb_sub_f32_serial(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] - b[i];
}

static void emb_scale_f32_serial(float *out, const float *a, float s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] * s;
}

static void emb_axpy_f32_serial(float *out, const float *a, float s, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + s * b[i];
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t f32_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* binary16 -> binary32, exact for every input (subnormals included). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) /* inf / NaN: keep payload, force quiet */
        return bits_to_f32(sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0));
    if (exp == 0) {
        /* zero or subnormal: value = man * 2^-24, exact in float */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* binary32 -> binary16, round to nearest even; overflow to inf. */
static uint16_t float_to_half(float f)
{
    uint32_t x = f32_to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or NaN */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
    if (ax >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) {
        /* result is subnormal or zero: scale so the half ulp (2^-24) is 1.0
         * and let the FPU round to nearest even (exact: ax < 2^-14). */
        float v = bits_to_f32(ax) * 0x1p24f;
        return (uint16_t)(sign | (uint16_t)lrintf(v));
    }
    /* normal: rebias exponent, round mantissa 23 -> 10 bits */
    uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u); /* round half to even */
    r = (r - 0x38000000u) >> 13;
    return (uint16_t)(sign | r);
}

static void emb_f16_to_f32_serial(float *out, const uint16_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = half_to_float(in[i]);
}

static void emb_f32_to_f16_serial(uint16_t *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = float_to_half(in[i]);
}

static void emb_bf16_to_f32_serial(float *out, const uint16_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bits_to_f32((uint32_t)in[i] << 16);
}

static uint16_t float_to_bf16(float f)
{
    uint32_t x = f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u); /* round half to even; overflow -> inf */
    return (uint16_t)(x >> 16);
}

static void emb_f32_to_bf16_serial(uint16_t *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = float_to_bf16(in[i]);
}

static void emb_i8_to_f32_serial(float *out, const int8_t *in, float scale, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = scale * (float)in[i];
}

static void emb_scan_dot_f32_serial(float *out, const float *q, const float *rows,
                                    size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = emb_dot_f32_serial(q, rows + r * dim, dim);
}

static void emb_scan_l2sq_f32_serial(float *out, const float *q, const float *rows,
                                     size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = emb_l2sq_f32_serial(q, rows + r * dim, dim);
}

/* Narrow-row scans widen one row at a time into a small stack buffer. */
#define EMB_SERIAL_BLOCK 256

static float dot_widened(const float *q, const uint16_t *row, size_t dim, int bf16)
{
    float buf[EMB_SERIAL_BLOCK];
    float s = 0;
    for (size_t i = 0; i < dim; i += EMB_SERIAL_BLOCK) {
        size_t m = dim - i < EMB_SERIAL_BLOCK ? dim - i : EMB_SERIAL_BLOCK;
        if (bf16)
            emb_bf16_to_f32_serial(buf, row + i, m);
        else
            emb_f16_to_f32_serial(buf, row + i, m);
        s += emb_dot_f32_serial(q + i, buf, m);
    }
    return s;
}

static float l2sq_widened(const float *q, const uint16_t *row, size_t dim, int bf16)
{
    float buf[EMB_SERIAL_BLOCK];
    float s = 0;
    for (size_t i = 0; i < dim; i += EMB_SERIAL_BLOCK) {
        size_t m = dim - i < EMB_SERIAL_BLOCK ? dim - i : EMB_SERIAL_BLOCK;
        if (bf16)
            emb_bf16_to_f32_serial(buf, row + i, m);
        else
            emb_f16_to_f32_serial(buf, row + i, m);
        s += emb_l2sq_f32_serial(q + i, buf, m);
    }
    return s;
}

static void emb_scan_dot_f16_serial(float *out, const float *q, const uint16_t *rows,
                                    size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = dot_widened(q, rows + r * dim, dim, 0);
}

static void emb_scan_l2sq_f16_serial(float *out, const float *q, const uint16_t *rows,
                                     size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = l2sq_widened(q, rows + r * dim, dim, 0);
}

static void emb_scan_dot_bf16_serial(float *out, const float *q, const uint16_t *rows,
                                     size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = dot_widened(q, rows + r * dim, dim, 1);
}

static void emb_scan_l2sq_bf16_serial(float *out, const float *q, const uint16_t *rows,
                                      size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        out[r] = l2sq_widened(q, rows + r * dim, dim, 1);
}

static void emb_scan_dot_i8_serial(float *out, const float *q, const int8_t *rows,
                                   size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++) {
        const int8_t *row = rows + r * dim;
        float s0 = 0, s1 = 0;
        size_t i = 0;
        for (; i + 2 <= dim; i += 2) {
            s0 += q[i] * (float)row[i];
            s1 += q[i + 1] * (float)row[i + 1];
        }
        for (; i < dim; i++)
            s0 += q[i] * (float)row[i];
        out[r] = s0 + s1;
    }
}

/* The reference order: each (row, query) pair is one dot_f32 above; the
 * row stays in cache while every query visits it. */
static void emb_scan_dot_f32_multi_serial(float *out, const float *q, size_t n_q,
                                          const float *rows, size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        for (size_t j = 0; j < n_q; j++)
            out[r * n_q + j] = emb_dot_f32_serial(q + j * dim, rows + r * dim, dim);
}

/* Exact: int32 products summed in int32 (no overflow for dim <= 65536). */
static void emb_scan_dot_i8i8_serial(int32_t *out, const int8_t *q, const int8_t *rows,
                                     size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++) {
        const int8_t *x = rows + r * dim;
        int32_t s = 0;
        for (size_t i = 0; i < dim; i++)
            s += (int32_t)q[i] * (int32_t)x[i];
        out[r] = s;
    }
}

static void emb_scan_dot_i8i8_multi_serial(int32_t *out, const int8_t *q, size_t n_q,
                                           const int8_t *rows, size_t n_rows, size_t dim)
{
    for (size_t r = 0; r < n_rows; r++)
        for (size_t j = 0; j < n_q; j++)
            emb_scan_dot_i8i8_serial(out + j * n_rows + r, q + j * dim, rows + r * dim, 1, dim);
}

const emb_kernels emb_kernels_serial = {
    .name = "serial",
    .dot_f32 = emb_dot_f32_serial,
    .l2sq_f32 = emb_l2sq_f32_serial,
    .norm_f32 = emb_norm_f32_serial,
    .dot_norms_f32 = emb_dot_norms_f32_serial,
    .add_f32 = emb_add_f32_serial,
    .sub_f32 = emb_sub_f32_serial,
    .scale_f32 = emb_scale_f32_serial,
    .axpy_f32 = emb_axpy_f32_serial,
    .f16_to_f32 = emb_f16_to_f32_serial,
    .f32_to_f16 = emb_f32_to_f16_serial,
    .bf16_to_f32 = emb_bf16_to_f32_serial,
    .f32_to_bf16 = emb_f32_to_bf16_serial,
    .i8_to_f32 = emb_i8_to_f32_serial,
    .scan_dot_f32 = emb_scan_dot_f32_serial,
    .scan_l2sq_f32 = emb_scan_l2sq_f32_serial,
    .scan_dot_f16 = emb_scan_dot_f16_serial,
    .scan_l2sq_f16 = emb_scan_l2sq_f16_serial,
    .scan_dot_bf16 = emb_scan_dot_bf16_serial,
    .scan_l2sq_bf16 = emb_scan_l2sq_bf16_serial,
    .scan_dot_i8 = emb_scan_dot_i8_serial,
    .scan_dot_i8i8 = emb_scan_dot_i8i8_serial,
    .scan_dot_i8i8_multi = emb_scan_dot_i8i8_multi_serial,
    .scan_dot_f32_multi = emb_scan_dot_f32_multi_serial,
};
