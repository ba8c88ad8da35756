/* keyed.c - gensim KeyedVectors queries (see keyed.h). */
#include "lm/keyed.h"
#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* float32 result of a dot product summed in double. */
static float dot_f(const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

void emb_unitvec(const float *v, size_t dim, float *out)
{
    double ss = 0;
    for (size_t i = 0; i < dim; i++)
        ss += (double)v[i] * v[i];
    float len = (float)sqrt(ss);
    float alpha = len > 0 ? (float)(1.0 / (double)len) : 0.0f;
    for (size_t i = 0; i < dim; i++)
        out[i] = len > 0 ? v[i] * alpha : 0.0f;
}

static int two_bufs(size_t dim, float **a, float **b, emb_err *err)
{
    *a = emb_malloc(dim * sizeof(float));
    *b = emb_malloc(dim * sizeof(float));
    if (*a && *b)
        return EMB_OK;
    emb_free(*a);
    emb_free(*b);
    *a = *b = NULL;
    return emb_err_set(err, EMB_ENOMEM, "out of memory");
}

int emb_kv_similarity(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                      float *out, emb_err *err)
{
    float *ua, *ub;
    int rc = two_bufs(m->dim, &ua, &ub, err);
    if (rc != EMB_OK)
        return rc;
    emb_row_widen(kern, m, (size_t)a, ua);
    emb_row_widen(kern, m, (size_t)b, ub);
    emb_unitvec(ua, m->dim, ua);
    emb_unitvec(ub, m->dim, ub);
    *out = dot_f(ua, ub, m->dim);
    emb_free(ua);
    emb_free(ub);
    return EMB_OK;
}

/* mean of the raw rows ids[0..n) (float32 sum, divided by n) into mean. */
static void raw_mean(const emb_kernels *kern, const emb_matrix *m, const int64_t *ids, size_t n,
                     float *buf, float *mean)
{
    memset(mean, 0, m->dim * sizeof(float));
    for (size_t t = 0; t < n; t++) {
        emb_row_widen(kern, m, (size_t)ids[t], buf);
        for (size_t i = 0; i < m->dim; i++)
            mean[i] += buf[i];
    }
    float total = (float)n;
    for (size_t i = 0; i < m->dim; i++)
        mean[i] /= total;
}

int emb_kv_n_similarity(const emb_kernels *kern, const emb_matrix *m, const int64_t *a, size_t na,
                        const int64_t *b, size_t nb, float *out, emb_err *err)
{
    if (na == 0 || nb == 0)
        return emb_err_set(err, EMB_EINVAL, "n_similarity: both lists need a known token");
    float *ma, *mb, *buf = emb_malloc(m->dim * sizeof(float));
    if (!buf)
        return emb_err_set(err, EMB_ENOMEM, "out of memory");
    int rc = two_bufs(m->dim, &ma, &mb, err);
    if (rc != EMB_OK) {
        emb_free(buf);
        return rc;
    }
    raw_mean(kern, m, a, na, buf, ma);
    raw_mean(kern, m, b, nb, buf, mb);
    emb_unitvec(ma, m->dim, ma);
    emb_unitvec(mb, m->dim, mb);
    *out = dot_f(ma, mb, m->dim);
    emb_free(ma);
    emb_free(mb);
    emb_free(buf);
    return EMB_OK;
}

int emb_kv_centrality(const emb_kernels *kern, const emb_matrix *m, const int64_t *ids, size_t n,
                      float *scores, emb_err *err)
{
    const float *norms;
    float *owned, *u = NULL, *mean = NULL;
    if (n == 0)
        return emb_err_set(err, EMB_EINVAL, "doesnt_match: no known token");
    int rc = emb_norms_get(kern, m, &norms, &owned, err);
    if (rc != EMB_OK)
        return rc;
    size_t bytes;
    if (emb_mul_size(n, m->dim * sizeof(float), &bytes) != 0 || !(u = emb_malloc(bytes)) ||
        !(mean = emb_calloc(m->dim, sizeof(float)))) {
        rc = emb_err_set(err, EMB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t t = 0; t < n; t++) {
        float *ut = u + t * m->dim;
        emb_unit_row(kern, m, norms, ids[t], ut);
        for (size_t i = 0; i < m->dim; i++)
            mean[i] += ut[i];
    }
    /* get_mean_vector(vectors, post_normalize=True): / n, then unitvec */
    float total = (float)n;
    for (size_t i = 0; i < m->dim; i++)
        mean[i] /= total;
    emb_unitvec(mean, m->dim, mean);
    for (size_t t = 0; t < n; t++)
        scores[t] = dot_f(u + t * m->dim, mean, m->dim);
done:
    emb_free(u);
    emb_free(mean);
    emb_free(owned);
    return rc;
}

int emb_kv_distances(const emb_kernels *kern, const emb_matrix *m, const float *q,
                     const int64_t *others, size_t n, float *out, emb_err *err)
{
    const float *norms;
    float *owned, *buf = NULL, *dots = NULL;
    int rc = emb_norms_get(kern, m, &norms, &owned, err);
    if (rc != EMB_OK)
        return rc;
    float qn = (float)sqrt((double)dot_f(q, q, m->dim));
    if (others) {
        if (!(buf = emb_malloc(m->dim * sizeof(float)))) {
            rc = emb_err_set(err, EMB_ENOMEM, "out of memory");
            goto done;
        }
    } else if (!(dots = emb_malloc((m->n_rows ? m->n_rows : 1) * sizeof(float)))) {
        rc = emb_err_set(err, EMB_ENOMEM, "out of memory");
        goto done;
    } else {
        emb_scan_dot(kern, m, q, dots);
        n = m->n_rows;
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = others ? (size_t)others[i] : i;
        float d;
        if (others) {
            emb_row_widen(kern, m, r, buf);
            d = dot_f(buf, q, m->dim);
        } else {
            d = dots[r];
        }
        float den = qn * norms[r];
        out[i] = 1.0f - (den > 0 ? d / den : 0.0f);
    }
done:
    emb_free(buf);
    emb_free(dots);
    emb_free(owned);
    return rc;
}

int emb_kv_closer_than(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                       int64_t **ids, size_t *n, emb_err *err)
{
    size_t nr = m->n_rows;
    float *q = emb_malloc(m->dim * sizeof(float));
    float *dist = emb_malloc((nr ? nr : 1) * sizeof(float));
    int64_t *res = NULL;
    int rc = EMB_OK;
    *ids = NULL;
    *n = 0;
    if (!q || !dist) {
        rc = emb_err_set(err, EMB_ENOMEM, "out of memory");
        goto done;
    }
    emb_row_widen(kern, m, (size_t)a, q);
    if ((rc = emb_kv_distances(kern, m, q, NULL, nr, dist, err)) != EMB_OK)
        goto done;
    size_t cnt = 0;
    float lim = dist[b];
    for (size_t r = 0; r < nr; r++)
        cnt += emb_matrix_has_row(m, r) && (int64_t)r != a && dist[r] < lim;
    if (!(res = emb_malloc((cnt ? cnt : 1) * sizeof *res))) {
        rc = emb_err_set(err, EMB_ENOMEM, "out of memory");
        goto done;
    }
    cnt = 0;
    for (size_t r = 0; r < nr; r++)
        if (emb_matrix_has_row(m, r) && (int64_t)r != a && dist[r] < lim)
            res[cnt++] = (int64_t)r;
    *ids = res;
    *n = cnt;
done:
    emb_free(q);
    emb_free(dist);
    return rc;
}

int emb_kv_relative_cosine(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                           size_t topn, double *out, emb_err *err)
{
    emb_scored *top = emb_malloc((topn ? topn : 1) * sizeof *top);
    if (!top)
        return emb_err_set(err, EMB_ENOMEM, "out of memory");
    size_t n = 0;
    float sim;
    int rc = emb_most_similar(kern, m, &a, 1, NULL, 0, EMB_SIM_3COSADD, topn, top, &n, err);
    if (rc == EMB_OK)
        rc = emb_kv_similarity(kern, m, a, b, &sim, err);
    if (rc == EMB_OK && n == 0)
        rc = emb_err_set(err, EMB_EINVAL,
                         "relative_cosine_similarity: no similar tokens (the table has one row)");
    if (rc == EMB_OK) {
        double sum = 0; /* Python's sum() of float(score), in order */
        for (size_t i = 0; i < n; i++)
            sum += (double)top[i].score;
        *out = (double)sim / sum;
    }
    emb_free(top);
    return rc;
}
