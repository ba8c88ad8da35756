/*
 * sketch.h - an int8 sketch of an embedding matrix, for exact top-k search
 * that reads a quarter of the bytes of the f32 rows.
 *
 * Each row x (widened to f32) is kept as int8 codes c (dim bytes) with one
 * scale s = max|x| / 127, so x = s*c + e; beside them the row keeps an
 * upper bound on |e| (the L2 norm of its quantisation error), an upper
 * bound on s*|c| and |x|: 16 bytes.  For 768 dims that is 784 bytes per row
 * beside 3,072 bytes of f32 (25.5 %), 50 % of bf16/f16 rows.
 *
 * A search (emb_sketch_search) quantises the query to int8, scans the
 * codes with the exact integer kernel (scan_dot_i8i8), turns each row's
 * integer dot into an interval that provably holds the distance the plain
 * scan would compute for that row (float rounding included; the proof is
 * in sketch.c), keeps the k-th smallest upper end as a threshold, and
 * rescores exactly, with the plain scan's own kernel call, only the rows
 * whose lower end does not exceed the final threshold.  The result equals
 * emb_matrix_search_plain's bit for bit: ids, distances, tie order.
 *
 * Int8-stored matrices have no sketch (their rows are already int8, the
 * plain scan reads the same bytes).  The sketch is owned by whoever owns
 * the matrix storage (the table's cache); emb_matrix.sketch borrows it.
 */
#ifndef EMB_SKETCH_H
#define EMB_SKETCH_H

#include "search/matrix.h"

#include <stddef.h>
#include <stdint.h>

/* Per-row bounds, all rounded upward except xn (nearest). */
typedef struct emb_sketch_row {
    float s;  /* scale: x ~ s * codes; 0 for a zero row */
    float e;  /* >= |x - s*c|; +inf = no bound (row always rescored) */
    float g;  /* >= s * |c| */
    float xn; /* |x| (nearest float of the exact norm) */
} emb_sketch_row;

typedef struct emb_sketch {
    size_t dim;
    size_t cap;            /* rows allocated */
    int8_t *codes;         /* cap * dim */
    emb_sketch_row *rows;  /* cap */
} emb_sketch;

/* Empty sketch for rows of dim floats (allocates nothing). */
void emb_sketch_init(emb_sketch *sk, size_t dim);
void emb_sketch_free(emb_sketch *sk);
/* Room for at least n rows; new rows are unset.  EMB_OK or EMB_ENOMEM. */
int emb_sketch_reserve(emb_sketch *sk, size_t n);
/* Encode row r (r < cap) from its widened f32 values x.  A row with a
 * non-finite value is stored unset. */
void emb_sketch_set(emb_sketch *sk, size_t r, const float *x);
/* Mark row r as having no sketch: a search always rescores it. */
void emb_sketch_unset(emb_sketch *sk, size_t r);
/* Bytes held (codes and per-row bounds). */
size_t emb_sketch_bytes(const emb_sketch *sk);

/* Should emb_matrix_search use m->sketch for this query?  Yes when the
 * sketch covers the rows, the dtype is not int8, cosine has norms, and k is
 * small next to the table (k * 8 <= n_rows), so that rescoring is rare. */
int emb_sketch_applies(const emb_matrix *m, const float *q, int metric, size_t k);

typedef struct emb_sketch_stats {
    size_t scanned;  /* candidate rows whose bounds were computed */
    size_t rescored; /* rows scored exactly */
} emb_sketch_stats;

/* Exactly emb_matrix_search_plain(kern, m, q, metric, k, allow, ...), using
 * m->sketch (which must cover m->n_rows rows of m->dim); a non-finite query
 * goes to the plain scan.  stats may be NULL.  Allocates a candidate list. */
int emb_sketch_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out,
                      emb_sketch_stats *stats, emb_err *err);

#endif
