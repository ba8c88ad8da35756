/* logits.c - tied output layer: logits, softmax, top k (see logits.h). */
#include "lm/logits.h"
#include "core/alloc.h"
#include "search/best.h"
#include "search/sketch.h"

#include <math.h>
#include <stdlib.h>

/* Without probabilities, the top k through the int8 sketch: candidate rows
 * by the key -logit, rescored with the plain path's kernel call
 * (emb_scan_dot_range on one row) into the same emb_best. */
static int logits_sketch(const emb_kernels *kern, const emb_matrix *m, const float *hidden,
                         size_t k, emb_scored *out, size_t *n_out)
{
    emb_sketch_cands c = {NULL, 0};
    emb_sketch_key key = {EMB_SKETCH_KEY_DOT, NULL};
    int rc = emb_sketch_candidates(kern, m, hidden, 1, &key, k, NULL, &c, NULL, NULL);
    if (rc != EMB_OK)
        return rc;
    emb_best best;
    emb_best_init(&best, out, k);
    for (size_t i = 0; i < c.n; i++) {
        float s;
        emb_scan_dot_range(kern, m, hidden, c.rows[i], 1, &s);
        if (emb_best_wants(&best, s))
            emb_best_push(&best, (int64_t)c.rows[i], s);
    }
    emb_best_sort(&best);
    *n_out = best.n;
    emb_sketch_cands_free(&c, 1);
    return EMB_OK;
}

int emb_logits_topk(const emb_kernels *kern, const emb_matrix *m, const float *hidden, size_t k,
                    double temperature, emb_scored *out, double *prob, size_t *n_out, emb_err *err)
{
    if (!isfinite(temperature) || !(temperature > 0))
        return emb_err_set(err, EMB_EINVAL, "logits: temperature must be > 0 (found %g)",
                           temperature);
    if (!prob && emb_sketch_usable(m, k) && logits_sketch(kern, m, hidden, k, out, n_out) == EMB_OK)
        return EMB_OK; /* else (non-finite hidden, no memory): the plain scan answers */
    size_t n = m->n_rows;
    float *logit = emb_malloc((n ? n : 1) * sizeof *logit);
    if (!logit)
        return emb_err_set(err, EMB_ENOMEM, "logits: out of memory");
    emb_scan_dot(kern, m, hidden, logit);
    double max = -INFINITY;
    for (size_t r = 0; r < n; r++)
        if (emb_matrix_has_row(m, r) && logit[r] > max)
            max = logit[r];
    double sum = 0;
    emb_best best;
    emb_best_init(&best, out, k);
    for (size_t r = 0; r < n; r++) {
        if (!emb_matrix_has_row(m, r))
            continue;
        sum += exp(((double)logit[r] - max) / temperature);
        if (emb_best_wants(&best, logit[r]))
            emb_best_push(&best, (int64_t)r, logit[r]);
    }
    emb_best_sort(&best);
    for (size_t i = 0; prob && i < best.n; i++)
        prob[i] = exp(((double)out[i].score - max) / temperature) / sum;
    *n_out = best.n;
    emb_free(logit);
    return EMB_OK;
}
