/* analogy.c - gensim-exact most_similar, 3CosMul and analogy evaluation
 * (see analogy.h for the rules). */
#include "lm/analogy.h"
#include "core/alloc.h"
#include "search/best.h"
#include "search/sketch.h"
#include "lm/unicase.h"
#include "lm/vocab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int emb_sim_method_parse(const char *name)
{
    if (strcmp(name, "3cosadd") == 0)
        return EMB_SIM_3COSADD;
    if (strcmp(name, "3cosmul") == 0)
        return EMB_SIM_3COSMUL;
    return -1;
}

void emb_row_widen(const emb_kernels *kern, const emb_matrix *m, size_t r, float *out)
{
    size_t off = r * m->dim;
    switch (m->dtype) {
    case EMB_DTYPE_F16:
        kern->f16_to_f32(out, (const uint16_t *)m->data + off, m->dim);
        break;
    case EMB_DTYPE_BF16:
        kern->bf16_to_f32(out, (const uint16_t *)m->data + off, m->dim);
        break;
    case EMB_DTYPE_I8:
        kern->i8_to_f32(out, (const int8_t *)m->data + off, m->scales[r], m->dim);
        break;
    default:
        memcpy(out, (const float *)m->data + off, m->dim * sizeof(float));
        break;
    }
}

void emb_scan_dot_range(const emb_kernels *kern, const emb_matrix *m, const float *q, size_t r0,
                        size_t n, float *out)
{
    if (n == 0) /* an empty table has no data pointer to offset (UBSan) */
        return;
    const size_t off = r0 * m->dim;
    switch (m->dtype) {
    case EMB_DTYPE_F16:
        kern->scan_dot_f16(out, q, (const uint16_t *)m->data + off, n, m->dim);
        break;
    case EMB_DTYPE_BF16:
        kern->scan_dot_bf16(out, q, (const uint16_t *)m->data + off, n, m->dim);
        break;
    case EMB_DTYPE_I8:
        kern->scan_dot_i8(out, q, (const int8_t *)m->data + off, n, m->dim);
        for (size_t r = 0; r < n; r++)
            out[r] *= m->scales[r0 + r];
        break;
    default:
        kern->scan_dot_f32(out, q, (const float *)m->data + off, n, m->dim);
        break;
    }
}

void emb_scan_dot(const emb_kernels *kern, const emb_matrix *m, const float *q, float *out)
{
    emb_scan_dot_range(kern, m, q, 0, m->n_rows, out);
}

void emb_row_norms(const emb_kernels *kern, const emb_matrix *m, float *norms)
{
    /* widen in blocks of up to 16 elements on the stack: no allocation */
    float buf[16];
    for (size_t r = 0; r < m->n_rows; r++) {
        double s = 0;
        if (m->dtype == EMB_DTYPE_F32) {
            const float *x = (const float *)m->data + r * m->dim;
            for (size_t i = 0; i < m->dim; i++)
                s += (double)x[i] * x[i];
        } else {
            emb_matrix one = *m;
            for (size_t i = 0; i < m->dim; i += 16) {
                size_t n = m->dim - i < 16 ? m->dim - i : 16;
                one.dim = n;
                /* a view of elements i..i+n of row r as a 1-row matrix */
                size_t esz = m->dtype == EMB_DTYPE_I8 ? 1 : 2;
                one.data = (const char *)m->data + (r * m->dim + i) * esz;
                one.scales = m->scales ? m->scales + r : NULL;
                emb_row_widen(kern, &one, 0, buf);
                for (size_t j = 0; j < n; j++)
                    s += (double)buf[j] * buf[j];
            }
        }
        norms[r] = (float)sqrt(s);
    }
}

/* Row norms: m->norms, or computed into *owned (freed by the caller). */
int emb_norms_get(const emb_kernels *kern, const emb_matrix *m, const float **norms, float **owned,
                  emb_err *err)
{
    *owned = NULL;
    if (m->norms) {
        *norms = m->norms;
        return EMB_OK;
    }
    float *n = emb_malloc((m->n_rows ? m->n_rows : 1) * sizeof(float));
    if (!n)
        return emb_err_set(err, EMB_ENOMEM, "norms: out of memory");
    emb_row_norms(kern, m, n);
    *owned = n;
    *norms = n;
    return EMB_OK;
}

/* u = row_t / |row_t| (float division, as gensim's get_vector(norm=True));
 * a zero row gives the zero vector. */
void emb_unit_row(const emb_kernels *kern, const emb_matrix *m, const float *norms, int64_t t,
                     float *u)
{
    emb_row_widen(kern, m, (size_t)t, u);
    float nr = norms[t];
    for (size_t i = 0; i < m->dim; i++)
        u[i] = nr > 0 ? u[i] / nr : 0.0f;
}

/* Term t of (pos ++ neg) as a vector in buf: a unit row, or the raw vector. */
static const float *term_vec(const emb_kernels *kern, const emb_matrix *m, const float *norms,
                             const emb_term *t, float *buf)
{
    if (t->vec)
        return t->vec;
    emb_unit_row(kern, m, norms, t->id, buf);
    return buf;
}

/* The end of gensim get_mean_vector(post_normalize=True): divide the float32
 * sum by the total weight, then matutils.unitvec (nrm2, scale by 1/len). */
static void finish_mean(float *mean, size_t dim, size_t total_weight)
{
    float total = (float)total_weight;
    double ss = 0;
    for (size_t i = 0; i < dim; i++) {
        mean[i] /= total;
        ss += (double)mean[i] * mean[i];
    }
    float len = (float)sqrt(ss);
    if (len > 0) {
        float alpha = (float)(1.0 / (double)len);
        for (size_t i = 0; i < dim; i++)
            mean[i] *= alpha;
    }
}

/* gensim get_mean_vector(pre_normalize=True, post_normalize=True) with
 * weights +1 (pos) / -1 (neg). */
static void sim_query_terms(const emb_kernels *kern, const emb_matrix *m, const float *norms,
                            const emb_term *pos, size_t n_pos, const emb_term *neg, size_t n_neg,
                            float *buf, float *mean)
{
    memset(mean, 0, m->dim * sizeof(float));
    for (size_t t = 0; t < n_pos + n_neg; t++) {
        const float *v = term_vec(kern, m, norms, t < n_pos ? &pos[t] : &neg[t - n_pos], buf);
        float w = t < n_pos ? 1.0f : -1.0f;
        for (size_t i = 0; i < m->dim; i++)
            mean[i] += w * v[i];
    }
    finish_mean(mean, m->dim, n_pos + n_neg);
}

void emb_sim_query(const emb_kernels *kern, const emb_matrix *m, const float *norms,
                   const int64_t *pos, size_t n_pos, const int64_t *neg, size_t n_neg, float *buf,
                   float *mean)
{
    memset(mean, 0, m->dim * sizeof(float));
    for (size_t t = 0; t < n_pos + n_neg; t++) {
        emb_unit_row(kern, m, norms, t < n_pos ? pos[t] : neg[t - n_pos], buf);
        float w = t < n_pos ? 1.0f : -1.0f;
        for (size_t i = 0; i < m->dim; i++)
            mean[i] += w * buf[i];
    }
    finish_mean(mean, m->dim, n_pos + n_neg);
}

static int is_input(int64_t r, const emb_term *pos, size_t n_pos, const emb_term *neg,
                    size_t n_neg)
{
    for (size_t i = 0; i < n_pos + n_neg; i++) {
        const emb_term *t = i < n_pos ? &pos[i] : &neg[i - n_pos];
        if (!t->vec && t->id == r)
            return 1;
    }
    return 0;
}

size_t emb_restrict_end(const emb_matrix *m, size_t n)
{
    size_t seen = 0, r = 0;
    for (; r < m->n_rows && seen < n; r++)
        seen += emb_matrix_has_row(m, r) != 0;
    return r;
}

/* most_similar 3CosAdd through the int8 sketch (search/sketch.h): the rows
 * that can rank among the k best scores, among rows < row_end that are not
 * inputs, rescored with the plain path's kernel call (emb_scan_dot_range on
 * one row) and formula, into the same emb_best: the plain result bit for
 * bit.  EMB_EUNSUP / EMB_ENOMEM: the caller runs the plain path. */
static int most_similar_sketch(const emb_kernels *kern, const emb_matrix *m, const float *norms,
                               const emb_term *pos, size_t n_pos, const emb_term *neg,
                               size_t n_neg, size_t row_end, size_t k, emb_scored *out,
                               size_t *n_out)
{
    const size_t n = m->n_rows, dim = m->dim;
    uint8_t *allow = emb_malloc(n ? n : 1);
    float *buf = emb_malloc(dim * sizeof(float)), *q = emb_malloc(dim * sizeof(float));
    int rc = allow && buf && q ? EMB_OK : EMB_ENOMEM;
    emb_sketch_cands c = {NULL, 0};
    if (rc == EMB_OK) {
        for (size_t r = 0; r < n; r++)
            allow[r] = r < row_end;
        for (size_t t = 0; t < n_pos + n_neg; t++) {
            const emb_term *term = t < n_pos ? &pos[t] : &neg[t - n_pos];
            if (!term->vec && term->id >= 0 && (size_t)term->id < n)
                allow[term->id] = 0;
        }
        sim_query_terms(kern, m, norms, pos, n_pos, neg, n_neg, buf, q);
        emb_sketch_key key = {EMB_SKETCH_KEY_SIM, norms};
        rc = emb_sketch_candidates(kern, m, q, 1, &key, k, allow, &c, NULL, NULL);
    }
    if (rc == EMB_OK) {
        emb_best best;
        emb_best_init(&best, out, k);
        for (size_t i = 0; i < c.n; i++) {
            size_t r = c.rows[i];
            float s;
            emb_scan_dot_range(kern, m, q, r, 1, &s);
            s = norms[r] > 0 ? s / norms[r] : 0.0f;
            if (emb_best_wants(&best, s))
                emb_best_push(&best, (int64_t)r, s);
        }
        emb_best_sort(&best);
        *n_out = best.n;
        emb_sketch_cands_free(&c, 1);
    }
    emb_free(allow);
    emb_free(buf);
    emb_free(q);
    return rc;
}

int emb_most_similar_terms(const emb_kernels *kern, const emb_matrix *m, const emb_term *pos,
                           size_t n_pos, const emb_term *neg, size_t n_neg, int method,
                           size_t row_end, size_t k, emb_scored *out, size_t *n_out, emb_err *err)
{
    if (method != EMB_SIM_3COSADD && method != EMB_SIM_3COSMUL)
        return emb_err_set(err, EMB_EINVAL, "most_similar: unknown method %d", method);
    if (method == EMB_SIM_3COSADD && n_pos + n_neg == 0)
        return emb_err_set(err, EMB_EINVAL,
                           "most_similar: no input (positive and negative are both empty)");
    if (method == EMB_SIM_3COSMUL && n_pos == 0)
        return emb_err_set(err, EMB_EINVAL,
                           "most_similar: 3cosmul needs at least one positive input");
    for (size_t t = 0; t < n_pos + n_neg; t++) {
        const emb_term *term = t < n_pos ? &pos[t] : &neg[t - n_pos];
        if (!term->vec && (term->id < 0 || !emb_matrix_has_row(m, (size_t)term->id)))
            return emb_err_set(err, EMB_ENOTFOUND, "most_similar: no row with token_id %lld",
                               (long long)term->id);
    }
    if (row_end > m->n_rows)
        row_end = m->n_rows;
    const float *norms;
    float *owned_norms;
    int rc = emb_norms_get(kern, m, &norms, &owned_norms, err);
    if (rc != EMB_OK)
        return rc;
    if (method == EMB_SIM_3COSADD && m->norms && emb_sketch_usable(m, k + n_pos + n_neg)) {
        rc = most_similar_sketch(kern, m, norms, pos, n_pos, neg, n_neg, row_end, k, out, n_out);
        if (rc == EMB_OK)
            return EMB_OK; /* else (non-finite query, no memory): the plain scan answers */
    }
    size_t n = m->n_rows, dim = m->dim;
    float *scores = emb_malloc((n ? n : 1) * sizeof(float));
    float *tmp = emb_malloc((n ? n : 1) * sizeof(float));
    float *buf = emb_malloc(dim * sizeof(float));
    float *q = emb_malloc(dim * sizeof(float));
    float *dots = method == EMB_SIM_3COSMUL ? emb_malloc((n ? n : 1) * sizeof(float)) : NULL;
    if (!scores || !tmp || !buf || !q || (method == EMB_SIM_3COSMUL && !dots)) {
        rc = emb_err_set(err, EMB_ENOMEM, "most_similar: out of memory");
        goto done;
    }
    if (method == EMB_SIM_3COSADD) {
        sim_query_terms(kern, m, norms, pos, n_pos, neg, n_neg, buf, q);
        emb_scan_dot(kern, m, q, scores);
        for (size_t r = 0; r < n; r++)
            scores[r] = norms[r] > 0 ? scores[r] / norms[r] : 0.0f;
    } else {
        /* numerator (positives) in scores, denominator (negatives) in tmp */
        for (size_t r = 0; r < n; r++)
            scores[r] = tmp[r] = 1.0f;
        for (size_t t = 0; t < n_pos + n_neg; t++) {
            const emb_term *term = t < n_pos ? &pos[t] : &neg[t - n_pos];
            float *acc = t < n_pos ? scores : tmp;
            emb_scan_dot(kern, m, term_vec(kern, m, norms, term, q), dots);
            for (size_t r = 0; r < n; r++) {
                float c = norms[r] > 0 ? dots[r] / norms[r] : 0.0f;
                acc[r] *= (1.0f + c) / 2.0f;
            }
        }
        for (size_t r = 0; r < n; r++)
            scores[r] = scores[r] / (tmp[r] + 1e-6f);
    }
    emb_best best;
    emb_best_init(&best, out, k);
    for (size_t r = 0; r < row_end; r++) {
        if (!emb_matrix_has_row(m, r) || !emb_best_wants(&best, scores[r]))
            continue;
        if (is_input((int64_t)r, pos, n_pos, neg, n_neg))
            continue;
        emb_best_push(&best, (int64_t)r, scores[r]);
    }
    emb_best_sort(&best);
    *n_out = best.n;
    rc = EMB_OK;
done:
    emb_free(scores);
    emb_free(tmp);
    emb_free(buf);
    emb_free(q);
    emb_free(dots);
    emb_free(owned_norms);
    return rc;
}

int emb_most_similar(const emb_kernels *kern, const emb_matrix *m, const int64_t *pos, size_t n_pos,
                     const int64_t *neg, size_t n_neg, int method, size_t k, emb_scored *out,
                     size_t *n_out, emb_err *err)
{
    emb_term *t = emb_malloc((n_pos + n_neg ? n_pos + n_neg : 1) * sizeof *t);
    if (!t)
        return emb_err_set(err, EMB_ENOMEM, "most_similar: out of memory");
    for (size_t i = 0; i < n_pos + n_neg; i++) {
        t[i].id = i < n_pos ? pos[i] : neg[i - n_pos];
        t[i].vec = NULL;
    }
    int rc = emb_most_similar_terms(kern, m, t, n_pos, t + n_pos, n_neg, method, m->n_rows, k, out,
                                    n_out, err);
    emb_free(t);
    return rc;
}

int emb_upper_vocab(const emb_matrix *m, const emb_tokens *tokens, size_t restrict_vocab, int fold,
                    struct emb_vocab **out, size_t *n_rows_used)
{
    size_t cap = restrict_vocab < m->n_rows ? restrict_vocab : m->n_rows;
    emb_vocab *v = emb_vocab_new(cap ? cap : 1);
    if (!v)
        return EMB_ENOMEM;
    size_t seen = 0, r = 0;
    for (; r < m->n_rows && seen < restrict_vocab; r++) {
        if (!emb_matrix_has_row(m, r))
            continue;
        seen++;
        size_t n, un = 0;
        const char *tok = tokens->token_of(tokens->ctx, (int64_t)r, &n);
        if (!tok)
            continue;
        char *u = fold ? emb_upper_utf8(tok, n, &un) : NULL;
        if (fold && !u) {
            emb_vocab_free(v);
            return EMB_ENOMEM;
        }
        const char *key = fold ? u : tok;
        size_t kn = fold ? un : n;
        /* the first (lowest id) row with this (upper-cased) form wins */
        if (emb_vocab_get(v, key, kn) < 0 && emb_vocab_put(v, key, kn, (int64_t)r) != 0) {
            emb_free(u);
            emb_vocab_free(v);
            return EMB_ENOMEM;
        }
        emb_free(u);
    }
    *out = v;
    *n_rows_used = r;
    return EMB_OK;
}
