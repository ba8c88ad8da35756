/*
 * knn.h - exact k nearest rows for a batch of queries in one pass over the
 * matrix (the batched form of emb_matrix_search, src/search/matrix.h).
 *
 * One scan per query reads the whole matrix per query and is bound by memory
 * bandwidth (50,000 x 768 f32 = 154 MB per query).  The batch reads the
 * matrix once per block of up to EMB_KNN_QUERY_BLOCK queries: rows go in
 * blocks small enough to stay in L2, and the kernel table's
 * scan_dot_f32_multi computes the rows x queries dot products of a block
 * while it is in cache.  f16 / bf16 / int8 rows are widened block by block
 * into a small f32 buffer first.
 */
#ifndef EMB_KNN_H
#define EMB_KNN_H

#include "search/matrix.h"

#define EMB_KNN_QUERY_BLOCK 64 /* queries that share one pass over the rows */

/* Exact k nearest rows of m for each of n_q queries (q holds n_q * dim
 * floats, query j at q + j*dim).  Query j's hits go to out + j*k (room for
 * n_q * k hits), ascending by distance, ties by smaller id, and their number
 * to n_out[j] (room for n_q).  Same metrics, valid mask and distances as
 * emb_matrix_search, with these differences from it:
 *   - dot products sum in a different order, so a distance may differ from
 *     emb_matrix_search's in the last bits (a few float ulps);
 *   - l2 ranks by |q|^2 + |r|^2 - 2 q.r (|r| from m->norms when present);
 *     for f32 / f16 / bf16 the returned distances are then recomputed
 *     directly as sqrt(sum (q - r)^2) and the hits re-sorted.  The ranking
 *     can differ from a direct scan only between rows whose squared
 *     distances differ by less than about 1e-6 * (|q|^2 + |r|^2).
 * Allocates scratch (one block of widened rows and one block of scores):
 * returns 0, EMB_EINVAL (bad argument, message in err) or EMB_ENOMEM. */
int emb_matrix_search_batch(const emb_kernels *kern, const emb_matrix *m, const float *q,
                            size_t n_q, int metric, size_t k, emb_hit *out, size_t *n_out,
                            emb_err *err);

#endif
