/*
 * keyed.h - the rest of gensim 4.2's KeyedVectors queries over an
 * emb_matrix (most_similar itself is in analogy.h): similarity,
 * n_similarity, rank_by_centrality / doesnt_match, distances, closer_than /
 * rank, relative_cosine_similarity.  Each follows gensim's float32
 * arithmetic step by step (see keyed.c); sums of products are taken in
 * double and rounded once, where numpy/OpenBLAS sum float32 products in
 * their own order, so a result may differ from gensim's in the last bits
 * (the tests state the bound).  Ids must be present rows (the caller
 * resolves tokens).
 */
#ifndef EMB_KEYED_H
#define EMB_KEYED_H

#include "lm/analogy.h"

/* gensim matutils.unitvec: v * (float)(1 / |v|) into out; a zero v gives zeros. */
void emb_unitvec(const float *v, size_t dim, float *out);

/* similarity(a, b) = dot(unitvec(row a), unitvec(row b)). */
int emb_kv_similarity(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                      float *out, emb_err *err);

/* n_similarity(ws1, ws2): cosine of the means of the raw rows (not unit
 * rows: gensim's pre_normalize=False).  Both lists non-empty (EMB_EINVAL). */
int emb_kv_n_similarity(const emb_kernels *kern, const emb_matrix *m, const int64_t *a, size_t na,
                        const int64_t *b, size_t nb, float *out, emb_err *err);

/* rank_by_centrality: scores[i] = dot(unit row ids[i], unitvec(mean of the
 * unit rows)).  doesnt_match is the entry with the lowest (score, token). */
int emb_kv_centrality(const emb_kernels *kern, const emb_matrix *m, const int64_t *ids, size_t n,
                      float *scores, emb_err *err);

/* distances(q, others) = 1 - dot(row, q) / (|q| * |row|), float32 as
 * gensim's cosine_similarities, for rows others[0..n) or, when others is
 * NULL, every row slot (n = m->n_rows).  A zero q or row gives distance 1
 * (gensim: NaN). */
int emb_kv_distances(const emb_kernels *kern, const emb_matrix *m, const float *q,
                     const int64_t *others, size_t n, float *out, emb_err *err);

/* closer_than(a, b): the present rows r != a with distances(a)[r] <
 * distances(a)[b], ascending id, into *ids (malloc'd) and *n.  rank(a, b)
 * is *n + 1. */
int emb_kv_closer_than(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                       int64_t **ids, size_t *n, emb_err *err);

/* relative_cosine_similarity(a, b, topn) = similarity(a, b) / sum of the
 * scores of most_similar([a], topn) (Artetxe et al. 2016 / Leeuwenberg et
 * al.); EMB_EINVAL when there is no other row. */
int emb_kv_relative_cosine(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                           size_t topn, double *out, emb_err *err);

#endif
