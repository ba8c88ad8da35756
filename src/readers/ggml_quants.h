/*
 * ggml_quants.h - ggml tensor types as GGUF stores them, and dequantization
 * of whole rows to f32 with exactly ggml's arithmetic (dequantize_row_*):
 * the same float operations in the same order, so every value is bit for
 * bit what ggml computes (tests/ref/ggml_ref.py makes the fixtures that
 * check this against libggml-base.so).
 *
 * Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (blocks of 32)
 * and the k-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (super-blocks of 256).
 * Left out: Q8_1 and Q8_K (ggml's intermediate types for dot products,
 * not written to model files), the IQ* types (codebook grids that need
 * large tables), TQ1_0 / TQ2_0 (ternary), MXFP4 / NVFP4 and the removed
 * repacked Q4_0_4_4-style types.  emb_ggml_type_get() returns NULL for those.
 *
 * Block layouts (all little-endian; d, dmin and m are IEEE half floats):
 *   Q4_0  18 B: d, qs[16]            v = ((nibble) - 8) * d; low nibbles are
 *                                    elements 0..15, high nibbles 16..31
 *   Q4_1  20 B: d, m, qs[16]         v = nibble * d + m
 *   Q5_0  22 B: d, qh u32, qs[16]    5th bit of element j is qh bit j;
 *                                    v = (q5 - 16) * d
 *   Q5_1  24 B: d, m, qh u32, qs[16] v = q5 * d + m
 *   Q8_0  34 B: d, qs[32] int8       v = q * d
 *   Q2_K  84 B: scales[16] (4-bit scale | 4-bit min), qs[64] (2 bits), d, dmin
 *   Q3_K 110 B: hmask[32], qs[64] (2 low bits), scales[12] (16 6-bit
 *               scales, offset 32), d
 *   Q4_K 144 B: d, dmin, scales[12] (8 6-bit scale/min pairs), qs[128]
 *   Q5_K 176 B: d, dmin, scales[12], qh[32] (5th bits), qs[128]
 *   Q6_K 210 B: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16]
 *               int8, d;  v = d * scale * (q6 - 32)
 */
#ifndef EMB_GGML_QUANTS_H
#define EMB_GGML_QUANTS_H

#include <stddef.h>
#include <stdint.h>

/* ggml_type ids as stored in GGUF tensor infos */
enum {
    EMB_GGML_F32 = 0,
    EMB_GGML_F16 = 1,
    EMB_GGML_Q4_0 = 2,
    EMB_GGML_Q4_1 = 3,
    EMB_GGML_Q5_0 = 6,
    EMB_GGML_Q5_1 = 7,
    EMB_GGML_Q8_0 = 8,
    EMB_GGML_Q2_K = 10,
    EMB_GGML_Q3_K = 11,
    EMB_GGML_Q4_K = 12,
    EMB_GGML_Q5_K = 13,
    EMB_GGML_Q6_K = 14,
    EMB_GGML_BF16 = 30
};

typedef struct emb_ggml_type {
    uint32_t id;
    const char *name;    /* "Q4_K" */
    size_t block_elems;  /* values per block (1 for F32/F16/BF16) */
    size_t block_bytes;  /* bytes per block */
    /* Decode n_blocks consecutive blocks at src into n_blocks * block_elems
     * floats at out.  src needs no alignment. */
    void (*dequant)(const uint8_t *src, float *out, size_t n_blocks);
} emb_ggml_type;

/* The type with ggml id `id`, or NULL when unsupported. */
const emb_ggml_type *emb_ggml_type_get(uint32_t id);
/* Name of any ggml type id, supported or not ("IQ2_XXS"), or NULL. */
const char *emb_ggml_type_name(uint32_t id);
/* Comma-separated list of the supported names, for messages. */
const char *emb_ggml_supported_list(void);

#endif
