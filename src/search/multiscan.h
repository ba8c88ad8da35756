/*
 * multiscan.h - many queries against one matrix: dot products of 4 queries
 * at a time with rows packed for it (the inner loop of the analogy
 * evaluation: thousands of queries, each against every row).
 *
 * Packing: rows in panels of 16; panel p holds dim x 16 floats, element
 * (d, row 16p + i) at d * 16 + i (padding rows are zero), so a scan reads
 * memory sequentially.  Scans go chunk by chunk (EMB_MS_CHUNK rows, 200 KB
 * for dim 50) so that a chunk stays in cache while every query visits it.
 *
 * The scan is generic C with GCC/Clang vector extensions (4 queries x 8 or
 * 16 rows of accumulators); on x86-64 the same body is also compiled for
 * AVX2+FMA and used when the active kernel set (emb_kernels_get) is avx2 or
 * avx512, so EMB_ISA=serial forces the generic build.
 */
#ifndef EMB_MULTISCAN_H
#define EMB_MULTISCAN_H

#include "core/emb.h"
#include "kernels/kernels.h"

#include <stddef.h>

#define EMB_MS_CHUNK 1024

typedef struct emb_packed {
    float *data; /* owned (malloc) */
    size_t n_rows, dim;
} emb_packed;

/* Allocate zeroed packed storage for n_rows x dim.  0 or EMB_ENOMEM / EMB_ERANGE. */
int emb_packed_init(emb_packed *p, size_t n_rows, size_t dim);
void emb_packed_free(emb_packed *p);
/* Store row r (dim floats). */
void emb_packed_set_row(emb_packed *p, size_t r, const float *v);
/* Rows and stride of chunk c (c < number of chunks = ceil(n_rows / EMB_MS_CHUNK)). */
size_t emb_packed_chunk_rows(const emb_packed *p, size_t c);
size_t emb_packed_chunk_stride(const emb_packed *p, size_t c);

/* out[i * stride + j] = dot(q + i * dim, row c * EMB_MS_CHUNK + j) for the
 * 4 queries i = 0..3 (q holds 4 * dim floats) and every j < stride. */
void emb_packed_scan4(const emb_kernels *kern, const emb_packed *p, size_t c, const float *q,
                      float *out);

#endif
