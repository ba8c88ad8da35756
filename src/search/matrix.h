/*
 * matrix.h - an embedding matrix in memory, and exact top-k search over it.
 *
 * emb_matrix is a borrowed view: it points at storage owned by someone else
 * (the virtual table's per-connection cache, or a test's arrays).  Row r
 * (0 <= r < n_rows) is the vector of token_id r; rows whose valid[r] is 0
 * are absent (sparse ids, deleted rows) and never returned by a search.
 *
 * Storage types (dtype): f32, f16 (IEEE half), bf16, int8 with one float
 * scale per row (value = scale[r] * int8).  Vectors are widened to f32 for
 * every computation.
 */
#ifndef EMB_MATRIX_H
#define EMB_MATRIX_H

#include "core/emb.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

enum { EMB_DTYPE_F32 = 0, EMB_DTYPE_F16 = 1, EMB_DTYPE_BF16 = 2, EMB_DTYPE_I8 = 3 };
enum { EMB_METRIC_COSINE = 0, EMB_METRIC_DOT = 1, EMB_METRIC_L2 = 2 };

typedef struct emb_matrix {
    size_t n_rows;        /* row slots: token ids 0 .. n_rows-1 */
    size_t dim;           /* floats per row */
    int dtype;            /* EMB_DTYPE_* */
    const void *data;     /* n_rows * dim elements of dtype, row-major */
    const float *scales;  /* EMB_DTYPE_I8 only: n_rows scales, else NULL */
    const uint8_t *valid; /* n_rows flags (1 = row present); NULL = all present */
    const float *norms;   /* n_rows L2 norms of the widened rows, or NULL */
    /* Optional int8 sketch of the rows (src/search/sketch.h) covering at
     * least n_rows rows; emb_matrix_search then scans it first and rescores
     * only rows that can still enter the top k (same result bit for bit). */
    const struct emb_sketch *sketch;
} emb_matrix;

/* Bytes one stored element takes (4, 2, 2, 1); 0 for an unknown dtype. */
size_t emb_dtype_size(int dtype);
/* "f32", "f16", "bf16", "int8"; NULL for unknown.  And the reverse (-1). */
const char *emb_dtype_name(int dtype);
int emb_dtype_parse(const char *name);
const char *emb_metric_name(int metric);
int emb_metric_parse(const char *name);

/* Encode one f32 row into dtype storage `dst` (dim elements); for int8
 * `*scale` receives the row scale (max|x|/127, 0 for a zero row). */
void emb_row_encode(const emb_kernels *kern, int dtype, void *dst, float *scale,
                    const float *src, size_t dim);
/* Widen row r of m into out (dim floats). */
void emb_matrix_row_f32(const emb_kernels *kern, const emb_matrix *m, size_t r, float *out);
static inline int emb_matrix_has_row(const emb_matrix *m, size_t r)
{
    return r < m->n_rows && (m->valid == NULL || m->valid[r]);
}

/* Narrow rows [*lo, *hi) to its first..last candidate: a row stored (m->valid)
 * and allowed (allow, NULL = all).  *lo == *hi when the range has none. */
static inline void emb_matrix_narrow(const emb_matrix *m, const uint8_t *allow, size_t *lo,
                                     size_t *hi)
{
    if (!m->valid && !allow)
        return;
    size_t a = *lo, b = *hi;
    while (a < b && !((!m->valid || m->valid[a]) && (!allow || allow[a])))
        a++;
    while (b > a && !((!m->valid || m->valid[b - 1]) && (!allow || allow[b - 1])))
        b--;
    *lo = a;
    *hi = b;
}

/* One search result: distance under the metric (smaller = nearer):
 * cosine: 1 - cos (cos of a zero vector is 0), dot: -dot, l2: Euclidean. */
typedef struct emb_hit {
    int64_t id;
    float distance;
} emb_hit;

/* Distance under `metric` from the raw dot product of the query and a row,
 * given their L2 norms: cosine 1 - dot / (|q| |r|) (1 when either is zero),
 * dot -dot, l2 sqrt(|q|^2 + |r|^2 - 2 dot) clamped at 0.  NaN becomes +inf
 * so such rows rank last.  Shared by the single and batched searches. */
static inline float emb_distance_from_dot(int metric, float dot, float qnorm, float rnorm)
{
    float d;
    if (metric == EMB_METRIC_DOT) {
        d = -dot;
    } else if (metric == EMB_METRIC_COSINE) {
        float denom = qnorm * rnorm;
        d = denom > 0 ? 1.0f - dot / denom : 1.0f;
    } else {
        float sq = qnorm * qnorm + rnorm * rnorm - 2.0f * dot;
        d = sq > 0 ? sqrtf(sq) : 0.0f;
    }
    return d != d ? INFINITY : d;
}

/* Exact k nearest rows to q (dim floats) under `metric`, ascending by
 * distance, ties broken by smaller id.  `allow`, if not NULL, is an n_rows
 * byte mask: only rows with allow[r] != 0 are candidates (filters apply
 * before the top-k).  Writes min(k, candidates) hits to out (room for k) and
 * their number to *n_out.  Cosine uses m->norms when present. */
int emb_matrix_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out, emb_err *err);

/* emb_matrix_search without the sketch (the plain scan of every row). */
int emb_matrix_search_plain(const emb_kernels *kern, const emb_matrix *m, const float *q,
                            int metric, size_t k, const uint8_t *allow, emb_hit *out,
                            size_t *n_out, emb_err *err);

/* The distance the plain scan gives row r, bit for bit (the same kernel call
 * and formula); qnorm must be kern->norm_f32(q, dim) for cosine, and for l2
 * on int8 rows, else anything.  Used by the sketch to rescore. */
float emb_matrix_row_distance(const emb_kernels *kern, const emb_matrix *m, const float *q,
                              int metric, float qnorm, size_t r);

/* The same distances for every row: dist[r] for r < n_rows, NaN for rows
 * that are absent or not allowed.  For callers that rank lazily. */
int emb_matrix_distances(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                         const uint8_t *allow, float *dist, emb_err *err);

/* The k best entries of dist[0..n) (NaN = not a candidate) that rank after
 * `after` (by distance, then id; NULL = from the start), ascending, into out
 * (room for k).  Returns how many. */
size_t emb_topk_select(const float *dist, size_t n, size_t k, const emb_hit *after, emb_hit *out);

#endif
