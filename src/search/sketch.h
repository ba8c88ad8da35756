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
 * in sketch_search.c), keeps the k-th smallest upper end as a threshold, and
 * rescores exactly, with the plain scan's own kernel call, only the rows
 * whose lower end does not exceed the final threshold.  The result equals
 * emb_matrix_search_plain's bit for bit: ids, distances, tie order.
 *
 * The same pass serves every exact top k of the library through
 * emb_sketch_candidates (a key per caller): emb_matrix_search (vector MATCH,
 * ORDER BY distance LIMIT), emb_matrix_search_batch (emb_knn: a block of
 * codes is read once for up to 64 queries), most_similar / analogies
 * (3CosAdd) and the top k of logits.  Each caller rescores the candidates
 * with its own kernel call, so each gets its own plain result bit for bit.
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

/* Is m->sketch worth scanning for a top k?  Yes when it covers the rows
 * (same dim, capacity >= n_rows), the dtype is not int8, and k is small next
 * to the table (k * 8 <= n_rows), so that rescoring is rare. */
int emb_sketch_usable(const emb_matrix *m, size_t k);
/* Should emb_matrix_search use m->sketch for this query?  emb_sketch_usable,
 * and cosine needs m->norms. */
int emb_sketch_applies(const emb_matrix *m, const float *q, int metric, size_t k);

typedef struct emb_sketch_stats {
    size_t scanned;  /* candidate rows whose bounds were computed */
    size_t rescored; /* rows scored exactly */
} emb_sketch_stats;

/* Exactly emb_matrix_search_plain(kern, m, q, metric, k, allow, ...), using
 * m->sketch (which must cover m->n_rows rows of m->dim); a non-finite query
 * or a matrix the sketch does not fit goes to the plain scan.  stats may be
 * NULL.  Allocates a candidate list. */
int emb_sketch_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out,
                      emb_sketch_stats *stats, emb_err *err);

/*
 * The general form, for every caller that ranks rows by a function of the
 * float dot product s of the query with each row, whatever order the
 * caller's kernel sums in (the bound covers any order): the rows that can
 * rank among the k smallest keys, ties by smaller id.  The caller rescores
 * exactly those rows with its own kernel call and formula and keeps the k
 * best: that is its plain result, bit for bit (proof in sketch_search.c).
 *
 * Keys (smaller ranks first), each monotone nonincreasing in s for a row:
 *   COSINE  emb_distance_from_dot(EMB_METRIC_COSINE, s, |q|, rnorm[r])
 *   DOT     -s (emb_matrix_search's dot distance, emb_logits' order)
 *   L2      sqrtf of the float sum of (q_i - x_i)^2 (scan_l2sq_*; not a
 *           function of s: bounded directly, see sketch_search.c)
 *   L2X     emb_distance_from_dot(EMB_METRIC_L2, s, |q|, rnorm[r]) (the
 *           batched search's l2 ranking)
 *   SIM     -(rnorm[r] > 0 ? s / rnorm[r] : 0) (most_similar's 3CosAdd)
 * |q| is kern->norm_f32(q, dim), as the plain paths compute it.
 */
enum {
    EMB_SKETCH_KEY_COSINE = 0,
    EMB_SKETCH_KEY_DOT = 1,
    EMB_SKETCH_KEY_L2 = 2,
    EMB_SKETCH_KEY_L2X = 3,
    EMB_SKETCH_KEY_SIM = 4
};

typedef struct emb_sketch_key {
    int kind;            /* EMB_SKETCH_KEY_* */
    const float *rnorm;  /* n_rows norms (COSINE, L2X, SIM), borrowed */
} emb_sketch_key;

/* One query's candidate rows, ascending; rows is malloc'd (free with
 * emb_sketch_cands_free). */
typedef struct emb_sketch_cands {
    uint32_t *rows;
    size_t n;
} emb_sketch_cands;

void emb_sketch_cands_free(emb_sketch_cands *c, size_t n_q);

/* Threads for the sketch pass (process-wide): 1 or 2, never more than the
 * online cores; the default is 2 on a machine with 2 cores or more, else 1.
 * The pass splits the rows in two halves when rows x queries is large
 * enough.  Returns the value in force. */
int emb_sketch_set_threads(int n);
int emb_sketch_get_threads(void);

/* For each of n_q queries (q + j*dim), the rows among those present (valid)
 * and allowed (allow, NULL = all) that may rank among the k best under key:
 * a superset of the exact top k, in out[j] (room for n_q).  The sketch is
 * read once per block of rows for all queries.  Returns EMB_OK, EMB_ENOMEM,
 * EMB_EINVAL, or EMB_EUNSUP when the sketch cannot answer (no sketch fitting
 * m, or a query with a non-finite value): the caller then runs its plain
 * path.  On failure out holds nothing to free.  stats (may be NULL) sums
 * over the queries. */
int emb_sketch_candidates(const emb_kernels *kern, const emb_matrix *m, const float *q,
                          size_t n_q, const emb_sketch_key *key, size_t k, const uint8_t *allow,
                          emb_sketch_cands *out, emb_sketch_stats *stats, emb_err *err);

#endif
