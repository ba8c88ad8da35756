/*
 * logits.h - the tied-embedding output layer (unembedding) of a language
 * model: logit(r) = dot(hidden, row r) for every present row, softmax over
 * the whole vocabulary at a temperature, top k rows.
 *
 * Ownership: kern, m and hidden are borrowed for the call; out and prob are
 * the caller's storage; nothing allocated outlives the call.
 */
#ifndef EMB_LOGITS_H
#define EMB_LOGITS_H

#include "lm/analogy.h"

/* Top k rows of m by logit (descending, ties by smaller id) into out[] (room
 * for k), their probabilities into prob[] (room for k):
 *   prob(r) = exp((logit(r) - max) / T) / sum_s exp((logit(s) - max) / T),
 * the sum over all present rows, in double (numerically stable).
 * hidden has m->dim floats; temperature must be finite and > 0 (EMB_EINVAL).
 * *n_out = min(k, present rows).  prob may be NULL (no probabilities
 * wanted): then the top k comes through m's int8 sketch when it has one
 * (search/sketch.h; the same rows and logits, reading a quarter of the
 * bytes), since only the softmax's sum needs every logit. */
int emb_logits_topk(const emb_kernels *kern, const emb_matrix *m, const float *hidden, size_t k,
                    double temperature, emb_scored *out, double *prob, size_t *n_out, emb_err *err);

#endif
