/*
 * analogy.h - word-vector semantics with gensim 4.2's exact rules:
 * most_similar (3CosAdd) and most_similar_cosmul (3CosMul), over an
 * emb_matrix (src/search/matrix.h).  The evaluations are in wordeval.h.
 *
 * most_similar(positive P, negative N), as gensim's KeyedVectors:
 *   u_t  = row_t / |row_t|                       (each input unit-normalised)
 *   mean = (sum_{p in P} u_p - sum_{n in N} u_n) / (|P| + |N|), then mean /= |mean|
 *   score(r) = dot(row_r, mean) / |row_r|        (row norms from m->norms)
 *   the input rows are excluded; the top k by score (ties: smaller id first).
 * most_similar_cosmul (Levy & Goldberg's 3CosMul, gensim's shift to [0, 1]):
 *   c_t(r) = (1 + dot(row_r, u_t) / |row_r|) / 2
 *   score(r) = prod_{p in P} c_p(r) / (prod_{n in N} c_n(r) + 1e-6)
 * A zero row has score 0 (3CosAdd) / c = 1/2 (3CosMul); a zero input
 * vector contributes nothing.  Absent rows (m->valid) are never returned.
 *
 * Token text is reached through emb_tokens (the caller's token map), so the
 * core needs no SQLite.  Borrowed pointers throughout: nothing here keeps a
 * reference after the call returns.
 */
#ifndef EMB_ANALOGY_H
#define EMB_ANALOGY_H

#include "core/emb.h"
#include "kernels/kernels.h"
#include "search/matrix.h"

#include <stddef.h>
#include <stdint.h>

enum { EMB_SIM_3COSADD = 0, EMB_SIM_3COSMUL = 1 };

/* Token map of a matrix: id_of returns the id of token text tok[0..n) or -1;
 * token_of returns the NUL-terminated token of row id (length in *n) or NULL
 * if the row has none. */
typedef struct emb_tokens {
    void *ctx;
    int64_t (*id_of)(void *ctx, const char *tok, size_t n);
    const char *(*token_of)(void *ctx, int64_t id, size_t *n);
} emb_tokens;

typedef struct emb_scored {
    int64_t id;
    float score;
} emb_scored;

/* "3cosadd" / "3cosmul" -> EMB_SIM_*, -1 if unknown. */
int emb_sim_method_parse(const char *name);

/* out[r] = dot(q, row r) for every row slot r < m->n_rows (f32 view of any
 * dtype; absent rows get whatever their storage holds). */
/* emb_scan_dot on rows [r0, r0 + n) only, into out[0 .. n): the same
 * kernel call per row, so the same values bit for bit. */
void emb_scan_dot_range(const emb_kernels *kern, const emb_matrix *m, const float *q, size_t r0,
                        size_t n, float *out);
void emb_scan_dot(const emb_kernels *kern, const emb_matrix *m, const float *q, float *out);

/* Row r widened to f32 into out (dim floats). */
void emb_row_widen(const emb_kernels *kern, const emb_matrix *m, size_t r, float *out);

/* L2 norm of every row slot into norms (n_rows floats, double accumulation). */
void emb_row_norms(const emb_kernels *kern, const emb_matrix *m, float *norms);

/* Row norms of m: m->norms when set (*owned = NULL), else computed into a
 * malloc'd array returned in both *norms and *owned (the caller frees
 * *owned).  EMB_ENOMEM possible. */
int emb_norms_get(const emb_kernels *kern, const emb_matrix *m, const float **norms, float **owned,
                  emb_err *err);

/* u = row t / norms[t] (float division, gensim get_vector(norm=True)); a
 * zero row gives zeros.  u is m->dim floats. */
void emb_unit_row(const emb_kernels *kern, const emb_matrix *m, const float *norms, int64_t t,
                  float *u);

/* The 3CosAdd query of gensim: mean of the unit input rows (+1 positive,
 * -1 negative), re-normalised, into mean (dim floats); buf is dim floats of
 * scratch.  Ids must be present rows. */
void emb_sim_query(const emb_kernels *kern, const emb_matrix *m, const float *norms,
                   const int64_t *pos, size_t n_pos, const int64_t *neg, size_t n_neg, float *buf,
                   float *mean);

/* gensim most_similar / most_similar_cosmul.  pos/neg are row ids (each must
 * be a present row: EMB_ENOTFOUND otherwise); 3CosAdd needs at least one
 * input, 3CosMul at least one positive (EMB_EINVAL).  Writes up to k results
 * (room for k in out), best first, and their number to *n_out. */
int emb_most_similar(const emb_kernels *kern, const emb_matrix *m, const int64_t *pos, size_t n_pos,
                     const int64_t *neg, size_t n_neg, int method, size_t k, emb_scored *out,
                     size_t *n_out, emb_err *err);

/* One input of most_similar: a row (vec NULL, id a present row) or a raw
 * vector of m->dim floats (id ignored).  gensim treats an ndarray input as
 * given: it is NOT unit-normalised before it enters the mean (3CosAdd) or
 * the products (3CosMul), and it is never excluded from the results. */
typedef struct emb_term {
    int64_t id;
    const float *vec;
} emb_term;

/* most_similar over terms; only row slots < row_end are candidates (gensim's
 * restrict_vocab: pass emb_restrict_end(m, N); m->n_rows for all). */
int emb_most_similar_terms(const emb_kernels *kern, const emb_matrix *m, const emb_term *pos,
                           size_t n_pos, const emb_term *neg, size_t n_neg, int method,
                           size_t row_end, size_t k, emb_scored *out, size_t *n_out, emb_err *err);

/* The slot bound of the first n present rows (all rows: m->n_rows). */
size_t emb_restrict_end(const emb_matrix *m, size_t n);

/* Helpers shared with wordeval.c.  The vocabulary of the first
 * `restrict_vocab` present rows: token -> lowest id, tokens upper-cased as
 * Python's str.upper() when fold is set (gensim case_insensitive=True),
 * exact otherwise.  *n_rows_used receives the row slot bound (rows >= it
 * are outside).  Returns 0 or EMB_ENOMEM. */
struct emb_vocab;
int emb_upper_vocab(const emb_matrix *m, const emb_tokens *tokens, size_t restrict_vocab, int fold,
                    struct emb_vocab **out, size_t *n_rows_used);

#endif
