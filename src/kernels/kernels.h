/*
 * kernels.h - the SIMD kernel table and its runtime dispatch.
 *
 * One table per instruction set (kern_serial.c, kern_avx2.c, kern_avx512.c,
 * kern_neon.c), all with the same entries.  Kernels take typed pointers with
 * no alignment requirement and any length n >= 0 (n == 0 gives 0 / no-op).
 * Output buffers may alias an input exactly (out == a) but must not overlap
 * it partially.  Accumulation is in float32 lanes; callers that need more
 * precision use the double reference in tests.
 *
 * Naming: emb_<op>_<dtype>_<isa>; in the table the isa is dropped.
 *
 * Ownership: kernels borrow their arguments for the call and allocate
 * nothing; the tables (and the pointers emb_kernels_get/find/all return)
 * are static constants, never freed.
 */
#ifndef EMB_KERNELS_H
#define EMB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct emb_kernels {
    const char *name; /* "serial", "avx2", "avx512", "neon" */

    /* reductions */
    float (*dot_f32)(const float *a, const float *b, size_t n);
    float (*l2sq_f32)(const float *a, const float *b, size_t n); /* sum (a-b)^2 */
    float (*norm_f32)(const float *a, size_t n);                 /* sqrt(sum a^2) */
    /* Cosine in one pass: *dot = sum a*b, *aa = sum a^2, *bb = sum b^2
     * (all three always written; n == 0 gives three zeros).  The outputs
     * must not overlap the inputs. */
    void (*dot_norms_f32)(const float *a, const float *b, size_t n, float *dot, float *aa,
                          float *bb);

    /* element-wise; out may equal a or b */
    void (*add_f32)(float *out, const float *a, const float *b, size_t n);
    void (*sub_f32)(float *out, const float *a, const float *b, size_t n);
    void (*scale_f32)(float *out, const float *a, float s, size_t n);
    /* out = a + s*b */
    void (*axpy_f32)(float *out, const float *a, float s, const float *b, size_t n);

    /* conversions: IEEE binary16 and bfloat16, round to nearest even,
     * NaN stays NaN, overflow goes to +-inf */
    void (*f16_to_f32)(float *out, const uint16_t *in, size_t n);
    void (*f32_to_f16)(uint16_t *out, const float *in, size_t n);
    void (*bf16_to_f32)(float *out, const uint16_t *in, size_t n);
    void (*f32_to_bf16)(uint16_t *out, const float *in, size_t n);
    /* out[i] = scale * in[i] */
    void (*i8_to_f32)(float *out, const int8_t *in, float scale, size_t n);

    /* Scans: one query q (dim floats) against n_rows contiguous rows
     * (row r starts at rows + r*dim); out[r] = dot(q, row r) or
     * l2sq(q, row r).  int8 rows give the raw dot with the unscaled int8
     * values (the caller multiplies by the row scale). */
    void (*scan_dot_f32)(float *out, const float *q, const float *rows, size_t n_rows, size_t dim);
    void (*scan_l2sq_f32)(float *out, const float *q, const float *rows, size_t n_rows, size_t dim);
    void (*scan_dot_f16)(float *out, const float *q, const uint16_t *rows, size_t n_rows, size_t dim);
    void (*scan_l2sq_f16)(float *out, const float *q, const uint16_t *rows, size_t n_rows, size_t dim);
    void (*scan_dot_bf16)(float *out, const float *q, const uint16_t *rows, size_t n_rows, size_t dim);
    void (*scan_l2sq_bf16)(float *out, const float *q, const uint16_t *rows, size_t n_rows, size_t dim);
    void (*scan_dot_i8)(float *out, const float *q, const int8_t *rows, size_t n_rows, size_t dim);

    /* Multi-query scan: n_q queries (query j at q + j*dim) against n_rows
     * contiguous rows; out[r * n_q + j] = dot(q_j, row r).  The kernel walks
     * a register tile of rows x queries (each row and query vector loaded
     * once per tile), so a block of rows that fits in L2 is read from memory
     * once for all queries (src/search/knn.c sizes the blocks). */
    void (*scan_dot_f32_multi)(float *out, const float *q, size_t n_q, const float *rows,
                               size_t n_rows, size_t dim);

    /* Sketch scan (src/search/sketch.c): out[r] = sum_i q[i] * row_r[i]
     * exactly, for int8 query and rows with values in [-127, 127] (-128 is
     * not allowed), dim <= 65536 (|sum| <= 127^2 * 65536 < 2^31).  Integer
     * arithmetic, so every instruction set gives the same result. */
    void (*scan_dot_i8i8)(int32_t *out, const int8_t *q, const int8_t *rows, size_t n_rows,
                          size_t dim);
    /* The same for n_q queries (query j at q + j*dim): out[j * n_rows + r]
     * (query-major: each query's dots contiguous, as the sketch reads them). */
    void (*scan_dot_i8i8_multi)(int32_t *out, const int8_t *q, size_t n_q, const int8_t *rows,
                                size_t n_rows, size_t dim);
} emb_kernels;

/* scan_dot_i8i8_multi from a table's scan_dot_i8i8, one query at a time
 * over blocks of 64 rows (for sets without a tiled int8 kernel). */
static inline void emb_i8i8_multi_via(void (*one)(int32_t *, const int8_t *, const int8_t *,
                                                  size_t, size_t),
                                      int32_t *out, const int8_t *q, size_t n_q,
                                      const int8_t *rows, size_t n_rows, size_t dim)
{
    int32_t tmp[64];
    for (size_t r0 = 0; r0 < n_rows; r0 += 64) {
        size_t n = n_rows - r0 < 64 ? n_rows - r0 : 64;
        for (size_t j = 0; j < n_q; j++) {
            one(tmp, q + j * dim, rows + r0 * dim, n, dim);
            for (size_t i = 0; i < n; i++)
                out[j * n_rows + r0 + i] = tmp[i];
        }
    }
}

/* AVX-512 VNNI (vpdpbusd) for the avx512 set's int8 sketch kernels: used
 * when the CPU has it, unless turned off (tests run both paths).
 * emb_kernels_vnni() is 1 when the VNNI kernels are in use. */
int emb_kernels_vnni(void);
void emb_kernels_use_vnni(int on);

/* The per-ISA tables.  A table's symbol exists only on architectures where
 * its file compiles (x86-64: serial, avx2, avx512; aarch64: serial, neon). */
extern const emb_kernels emb_kernels_serial;
#if defined(__x86_64__) || defined(__i386__)
extern const emb_kernels emb_kernels_avx2;
extern const emb_kernels emb_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const emb_kernels emb_kernels_neon;
#endif

/* The active table: chosen once (thread-safe) as the best set this CPU and
 * OS support, lowered by the environment variable EMB_ISA=serial|avx2|
 * avx512|neon if that names a supported, lower-or-equal set.  Never NULL. */
const emb_kernels *emb_kernels_get(void);

/* The table named `name` if this CPU supports it, else NULL.  Tests loop
 * over emb_kernels_all() to check every available set. */
const emb_kernels *emb_kernels_find(const char *name);

/* NULL-terminated list of the tables this CPU supports, best first. */
const emb_kernels *const *emb_kernels_all(void);

#endif
