/*
 * ggml_quants.c - dequantization of ggml blocks (layouts in ggml_quants.h).
 *
 * Each decoder mirrors the arithmetic of ggml's reference dequantize_row_*:
 * integer work first, then the same float products and sums in the same
 * order (for example Q4_K computes d1 = d * scale once per sub-block, then
 * d1 * q - m1), so results match ggml bit for bit.  The file asks for no
 * floating-point contraction (an FMA would round differently); the shipped
 * x86-64 build has no FMA anyway and gcc's -std=c11 does not contract.
 * Multi-byte fields are read as little-endian bytes, whatever the host.
 */
#include "readers/ggml_quants.h"

#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define QK 32
#define QK_K 256

static float f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE half -> float, exact (subnormals, infinities, NaN payloads kept). */
static float half(const uint8_t *p)
{
    uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    uint32_t sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0x1F)
        return f32_bits(sign | 0x7F800000u | m << 13);
    if (e == 0) {
        if (m == 0)
            return f32_bits(sign);
        e = 113; /* 127 - 15 + 1 */
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        return f32_bits(sign | e << 23 | (m & 0x3FF) << 13);
    }
    return f32_bits(sign | (e + 112) << 23 | m << 13);
}

static uint32_t u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void deq_f32(const uint8_t *restrict src, float *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = f32_bits(u32le(src + 4 * i));
}

static void deq_f16(const uint8_t *restrict src, float *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = half(src + 2 * i);
}

static void deq_bf16(const uint8_t *restrict src, float *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = f32_bits(((uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8) << 16);
}

static void deq_q4_0(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 18, y += QK) {
        const float d = half(src);
        const uint8_t *qs = src + 2;
        for (int j = 0; j < QK / 2; j++) {
            const int x0 = (qs[j] & 0x0F) - 8, x1 = (qs[j] >> 4) - 8;
            y[j] = (float)x0 * d;
            y[j + QK / 2] = (float)x1 * d;
        }
    }
}

static void deq_q4_1(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 20, y += QK) {
        const float d = half(src), m = half(src + 2);
        const uint8_t *qs = src + 4;
        for (int j = 0; j < QK / 2; j++) {
            const int x0 = qs[j] & 0x0F, x1 = qs[j] >> 4;
            y[j] = (float)x0 * d + m;
            y[j + QK / 2] = (float)x1 * d + m;
        }
    }
}

static void deq_q5_0(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 22, y += QK) {
        const float d = half(src);
        const uint32_t qh = u32le(src + 2);
        const uint8_t *qs = src + 6;
        for (int j = 0; j < QK / 2; j++) {
            const int h0 = (int)(((qh >> j) << 4) & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            const int x0 = ((qs[j] & 0x0F) | h0) - 16, x1 = ((qs[j] >> 4) | h1) - 16;
            y[j] = (float)x0 * d;
            y[j + QK / 2] = (float)x1 * d;
        }
    }
}

static void deq_q5_1(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 24, y += QK) {
        const float d = half(src), m = half(src + 2);
        const uint32_t qh = u32le(src + 4);
        const uint8_t *qs = src + 8;
        for (int j = 0; j < QK / 2; j++) {
            const int h0 = (int)(((qh >> j) << 4) & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
            const int x0 = (qs[j] & 0x0F) | h0, x1 = (qs[j] >> 4) | h1;
            y[j] = (float)x0 * d + m;
            y[j + QK / 2] = (float)x1 * d + m;
        }
    }
}

static void deq_q8_0(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 34, y += QK) {
        const float d = half(src);
        for (int j = 0; j < QK; j++)
            y[j] = (float)(int8_t)src[2 + j] * d;
    }
}

static void deq_q2_k(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 84) {
        const uint8_t *scales = src, *q = src + 16;
        const float d = half(src + 80), dmin = half(src + 82);
        int is = 0;
        for (int n = 0; n < QK_K; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half_ = 0; half_ < 2; half_++) {
                    const uint8_t sc = scales[is++];
                    const float dl = d * (float)(sc & 0x0F), ml = dmin * (float)(sc >> 4);
                    const uint8_t *qq = q + 16 * half_;
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * (float)((qq[l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

/* The 16 6-bit scales of a Q3_K block: 12 bytes hold the low 4 bits of each
 * (bytes 0..7, scale k in byte k % 8, nibble k / 8) and the high 2 bits
 * (bytes 8..11, scale k in byte 8 + k % 4, bits 2 * (k / 4)). */
static void q3_k_scales(const uint8_t *s, int sc[16])
{
    for (int k = 0; k < 16; k++) {
        const int lo = k < 8 ? s[k] & 0x0F : s[k - 8] >> 4;
        const int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
        sc[k] = (lo | hi << 4) - 32;
    }
}

static void deq_q3_k(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 110) {
        const uint8_t *hm = src, *q = src + 32;
        const float d_all = half(src + 108);
        int sc[16], is = 0;
        q3_k_scales(src + 96, sc);
        unsigned m = 1;
        for (int n = 0; n < QK_K; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half_ = 0; half_ < 2; half_++) {
                    const float dl = d_all * (float)sc[is++];
                    const uint8_t *qq = q + 16 * half_, *hh = hm + 16 * half_;
                    for (int l = 0; l < 16; l++) {
                        const int v = ((qq[l] >> shift) & 3) - ((hh[l] & m) ? 0 : 4);
                        *y++ = dl * (float)v;
                    }
                }
            }
        }
    }
}

/* Scale and min j (0..7) of a Q4_K / Q5_K block, 6 bits each: j < 4 in the
 * low 6 bits of bytes j and j + 4; j >= 4 has its low 4 bits in byte j + 4
 * (scale: low nibble, min: high nibble) and its top 2 bits in the top bits
 * of bytes j - 4 (scale) and j (min). */
static void scale_min_k4(int j, const uint8_t *q, int *sc, int *mn)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void deq_q4_k(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 144) {
        const float d = half(src), dmin = half(src + 2);
        const uint8_t *scales = src + 4, *q = src + 16;
        for (int is = 0; is < 8; is += 2, q += 32) {
            int sc, mn;
            scale_min_k4(is, scales, &sc, &mn);
            const float d1 = d * (float)sc, m1 = dmin * (float)mn;
            scale_min_k4(is + 1, scales, &sc, &mn);
            const float d2 = d * (float)sc, m2 = dmin * (float)mn;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void deq_q5_k(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    for (size_t i = 0; i < nb; i++, src += 176) {
        const float d = half(src), dmin = half(src + 2);
        const uint8_t *scales = src + 4, *qh = src + 16, *ql = src + 48;
        unsigned u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            int sc, mn;
            scale_min_k4(is, scales, &sc, &mn);
            const float d1 = d * (float)sc, m1 = dmin * (float)mn;
            scale_min_k4(is + 1, scales, &sc, &mn);
            const float d2 = d * (float)sc, m2 = dmin * (float)mn;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (float)((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

static void deq_q6_k(const uint8_t *restrict src, float *restrict y, size_t nb)
{
    /* Per 128 values: quarter k (0..3) takes the low (k even) or high (k
     * odd) nibble of ql[l + 32 * (k & 1)] and bits 2k..2k+1 of qh[l]; the
     * sub-scale is sc[2k + l / 16].  One loop per quarter and half lets the
     * compiler vectorise; the float operations are ggml's: (d * sc) * q. */
    for (size_t i = 0; i < nb; i++, src += 210) {
        const float d = half(src + 208);
        const uint8_t *ql = src, *qh = src + 128;
        const int8_t *sc = (const int8_t *)(src + 192);
        for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int k = 0; k < 4; k++) {
                const uint8_t *lo = ql + 32 * (k & 1);
                const int shift_lo = 4 * (k >> 1), shift_hi = 2 * k;
                for (int h = 0; h < 2; h++) {
                    const float ds = d * (float)sc[2 * k + h];
                    float *yy = y + 32 * k + 16 * h;
                    for (int l = 16 * h; l < 16 * h + 16; l++) {
                        const int q = (((lo[l] >> shift_lo) & 0x0F) |
                                       (((qh[l] >> shift_hi) & 3) << 4)) - 32;
                        yy[l - 16 * h] = ds * (float)q;
                    }
                }
            }
        }
    }
}

static const emb_ggml_type TYPES[] = {
    {EMB_GGML_F32, "F32", 1, 4, deq_f32},
    {EMB_GGML_F16, "F16", 1, 2, deq_f16},
    {EMB_GGML_BF16, "BF16", 1, 2, deq_bf16},
    {EMB_GGML_Q4_0, "Q4_0", QK, 18, deq_q4_0},
    {EMB_GGML_Q4_1, "Q4_1", QK, 20, deq_q4_1},
    {EMB_GGML_Q5_0, "Q5_0", QK, 22, deq_q5_0},
    {EMB_GGML_Q5_1, "Q5_1", QK, 24, deq_q5_1},
    {EMB_GGML_Q8_0, "Q8_0", QK, 34, deq_q8_0},
    {EMB_GGML_Q2_K, "Q2_K", QK_K, 84, deq_q2_k},
    {EMB_GGML_Q3_K, "Q3_K", QK_K, 110, deq_q3_k},
    {EMB_GGML_Q4_K, "Q4_K", QK_K, 144, deq_q4_k},
    {EMB_GGML_Q5_K, "Q5_K", QK_K, 176, deq_q5_k},
    {EMB_GGML_Q6_K, "Q6_K", QK_K, 210, deq_q6_k},
};

const emb_ggml_type *emb_ggml_type_get(uint32_t id)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].id == id)
            return &TYPES[i];
    return NULL;
}

const char *emb_ggml_type_name(uint32_t id)
{
    static const char *const names[] = {
        "F32",     "F16",    "Q4_0",   "Q4_1",  "Q4_2",  "Q4_3",  "Q5_0",   "Q5_1",
        "Q8_0",    "Q8_1",   "Q2_K",   "Q3_K",  "Q4_K",  "Q5_K",  "Q6_K",   "Q8_K",
        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S",  "IQ4_XS",
        "I8",      "I16",    "I32",    "I64",   "F64",   "IQ1_M", "BF16",   "Q4_0_4_4",
        "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8",
        "MXFP4"};
    return id < sizeof names / sizeof names[0] ? names[id] : NULL;
}

const char *emb_ggml_supported_list(void)
{
    return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K";
}
