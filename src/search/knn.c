/*
 * knn.c - batched exact k nearest rows (knn.h).
 *
 * For each block of up to EMB_KNN_QUERY_BLOCK queries, the rows are visited
 * once in blocks of about EMB_KNN_BLOCK_BYTES of f32 (L2-sized; f16 / bf16 /
 * int8 rows are widened into a buffer of that size first).  The kernel's
 * scan_dot_f32_multi fills scores[i * nq + j] = q_j . row i of the block;
 * each score becomes a distance under the metric and is offered to query j's
 * bounded heap (src/search/topk.h) kept in the caller's output.  A block is narrowed
 * to its first..last valid row; absent rows inside it are skipped.
 *
 * Distances (as matrix.c): cosine 1 - s / (|q| |r|) (1 when a norm is 0),
 * dot -s, l2 sqrt(max(0, |q|^2 + |r|^2 - 2 s)), then recomputed directly for
 * the kept f32 / f16 / bf16 hits (int8 keeps the expansion, as matrix.c).
 * A NaN distance counts as +inf.
 */
#include "search/knn.h"
#include "core/alloc.h"

#include "search/sketch.h"
#include "search/topk.h"

#include <math.h>
#include <stdlib.h>

#define EMB_KNN_BLOCK_BYTES (96 * 1024)

/* Insertion sort of n hits by (distance, id); n is k, small. */
static void sort_hits(emb_hit *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        emb_hit x = h[i];
        size_t j = i;
        while (j > 0 && emb_hit_worse(&h[j - 1], &x)) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

/* Rows [lo, hi) as f32: the matrix itself for f32, else widened into wide. */
static const float *block_rows(const emb_kernels *kern, const emb_matrix *m, size_t lo, size_t hi,
                               float *wide)
{
    if (m->dtype == EMB_DTYPE_F32)
        return (const float *)m->data + lo * m->dim;
    for (size_t r = lo; r < hi; r++)
        emb_matrix_row_f32(kern, m, r, wide + (r - lo) * m->dim);
    return wide;
}

int emb_matrix_search_batch(const emb_kernels *kern, const emb_matrix *m, const float *q,
                            size_t n_q, int metric, size_t k, emb_hit *out, size_t *n_out,
                            emb_err *err)
{
    if (!kern || !m || (!q && n_q > 0) || (!out && n_q > 0 && k > 0) || (!n_out && n_q > 0))
        return emb_err_set(err, EMB_EINVAL, "knn: NULL argument");
    if (metric < 0 || metric > 2)
        return emb_err_set(err, EMB_EINVAL, "knn: unknown metric %d", metric);
    if (emb_dtype_size(m->dtype) == 0)
        return emb_err_set(err, EMB_EINVAL, "knn: unknown dtype %d", m->dtype);
    if (m->dtype == EMB_DTYPE_I8 && !m->scales && m->n_rows > 0)
        return emb_err_set(err, EMB_EINVAL, "knn: int8 matrix without scales");
    for (size_t j = 0; j < n_q; j++)
        n_out[j] = 0;
    if (n_q == 0 || k == 0 || m->n_rows == 0)
        return EMB_OK;

    const size_t dim = m->dim;
    size_t block = dim ? EMB_KNN_BLOCK_BYTES / (dim * sizeof(float)) : 1024;
    block = block < 4 ? 4 : block > 1024 ? 1024 : block / 4 * 4;
    const size_t qb = n_q < EMB_KNN_QUERY_BLOCK ? n_q : EMB_KNN_QUERY_BLOCK;
    size_t n_wide = 0, n_hits;
    if (emb_mul_size(n_q, k, &n_hits) != 0 ||
        (m->dtype != EMB_DTYPE_F32 && emb_mul_size(block, dim, &n_wide) != 0))
        return emb_err_set(err, EMB_ERANGE, "knn: batch too large");
    float *scores = emb_malloc(block * qb * sizeof *scores);
    float *qnorm = emb_malloc(n_q * sizeof *qnorm);
    /* widened rows; for l2 also one row to recompute distances; 4 rows
     * (a group of sketch candidates) at least */
    float *wide = emb_malloc((n_wide + 4 * dim + 1) * sizeof *wide);
    if (!scores || !qnorm || !wide) {
        emb_free(scores);
        emb_free(qnorm);
        emb_free(wide);
        return emb_err_set(err, EMB_ENOMEM, "knn: out of memory");
    }
    const int i8 = m->dtype == EMB_DTYPE_I8;
    const int want_norm = metric != EMB_METRIC_DOT;
    for (size_t j = 0; j < n_q; j++)
        qnorm[j] = want_norm ? kern->norm_f32(q + j * dim, dim) : 0;

    emb_topk heaps[EMB_KNN_QUERY_BLOCK];
    /* the int8 sketch (search/sketch.h): candidates of a block of queries,
     * rescored with this file's kernel call and formula */
    const int use_sketch = emb_sketch_usable(m, k) && (metric == EMB_METRIC_DOT || m->norms);
    const emb_sketch_key key = {metric == EMB_METRIC_COSINE ? EMB_SKETCH_KEY_COSINE
                                : metric == EMB_METRIC_DOT  ? EMB_SKETCH_KEY_DOT
                                                            : EMB_SKETCH_KEY_L2X,
                                m->norms};
    emb_sketch_cands cands[EMB_KNN_QUERY_BLOCK];
    for (size_t j0 = 0; j0 < n_q; j0 += qb) {
        const size_t nq = n_q - j0 < qb ? n_q - j0 : qb;
        for (size_t j = 0; j < nq; j++)
            emb_topk_init(&heaps[j], out + (j0 + j) * k, k);
        int src = use_sketch ? emb_sketch_candidates(kern, m, q + j0 * dim, nq, &key, k, NULL,
                                                     cands, NULL, NULL)
                             : EMB_EUNSUP;
        if (src == EMB_OK) {
            /* candidates 4 at a time, gathered (widened) into `wide`: the
             * kernel computes each (row, query) pair with the same
             * operations wherever it sits, so these are the plain dots */
            for (size_t j = 0; j < nq; j++) {
                const float *qj = q + (j0 + j) * dim;
                for (size_t i = 0; i < cands[j].n; i += 4) {
                    size_t g = cands[j].n - i < 4 ? cands[j].n - i : 4;
                    for (size_t a = 0; a < g; a++)
                        emb_matrix_row_f32(kern, m, cands[j].rows[i + a], wide + a * dim);
                    float s[4];
                    kern->scan_dot_f32_multi(s, qj, 1, wide, g, dim);
                    for (size_t a = 0; a < g; a++) {
                        size_t r = cands[j].rows[i + a];
                        float rn = want_norm ? m->norms[r] : 0;
                        emb_topk_push(&heaps[j], (int64_t)r,
                                      emb_distance_from_dot(metric, s[a], qnorm[j0 + j], rn));
                    }
                }
            }
            emb_sketch_cands_free(cands, nq);
        } /* else (no sketch, a non-finite query, no memory for the lists): plain */
        for (size_t b0 = 0; src != EMB_OK && b0 < m->n_rows; b0 += block) {
            size_t lo = b0, hi = m->n_rows - b0 < block ? m->n_rows : b0 + block;
            while (lo < hi && !emb_matrix_has_row(m, lo))
                lo++;
            while (hi > lo && !emb_matrix_has_row(m, hi - 1))
                hi--;
            if (lo == hi)
                continue;
            const float *rows = block_rows(kern, m, lo, hi, wide);
            kern->scan_dot_f32_multi(scores, q + j0 * dim, nq, rows, hi - lo, dim);
            for (size_t i = 0; i < hi - lo; i++) {
                size_t r = lo + i;
                if (!emb_matrix_has_row(m, r))
                    continue;
                const float *s = scores + i * nq;
                float rn = 0;
                if (want_norm)
                    rn = m->norms ? m->norms[r] : kern->norm_f32(rows + i * dim, dim);
                for (size_t j = 0; j < nq; j++) {
                    float d = emb_distance_from_dot(metric, s[j], qnorm[j0 + j], rn);
                    emb_topk_push(&heaps[j], (int64_t)r, d);
                }
            }
        }
        for (size_t j = 0; j < nq; j++) {
            emb_hit *h = out + (j0 + j) * k;
            size_t n = emb_topk_finish(&heaps[j]);
            if (metric == EMB_METRIC_L2 && !i8) {
                float *row = wide + n_wide;
                for (size_t i = 0; i < n; i++) {
                    emb_matrix_row_f32(kern, m, (size_t)h[i].id, row);
                    float d = sqrtf(kern->l2sq_f32(q + (j0 + j) * dim, row, dim));
                    h[i].distance = d != d ? INFINITY : d;
                }
                sort_hits(h, n);
            }
            n_out[j0 + j] = n;
        }
    }
    emb_free(scores);
    emb_free(qnorm);
    emb_free(wide);
    return EMB_OK;
}
