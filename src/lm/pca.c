/*
 * pca.c - exact PCA by Jacobi eigen-decomposition of the small symmetric
 * matrix (see pca.h).
 */
#include "lm/pca.h"
#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One Jacobi rotation zeroing a[p][q]; applied to a (both sides) and to the
 * columns p, q of v. */
static void rotate(double *a, double *v, size_t m, size_t p, size_t q)
{
    double apq = a[p * m + q];
    double theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
    /* t = tan of the rotation angle, the smaller root (stable form) */
    double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
    double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
    for (size_t r = 0; r < m; r++) { /* columns p, q of a */
        double arp = a[r * m + p], arq = a[r * m + q];
        a[r * m + p] = c * arp - s * arq;
        a[r * m + q] = s * arp + c * arq;
    }
    for (size_t r = 0; r < m; r++) { /* rows p, q of a */
        double apr = a[p * m + r], aqr = a[q * m + r];
        a[p * m + r] = c * apr - s * aqr;
        a[q * m + r] = s * apr + c * aqr;
    }
    a[p * m + q] = a[q * m + p] = 0.0;
    for (size_t r = 0; r < m; r++) {
        double vrp = v[r * m + p], vrq = v[r * m + q];
        v[r * m + p] = c * vrp - s * vrq;
        v[r * m + q] = s * vrp + c * vrq;
    }
}

int emb_sym_eigen(double *a, size_t m, double *w, double *v, emb_err *err)
{
    size_t *order = emb_malloc((m ? m : 1) * sizeof *order);
    double *tmp = emb_malloc((m ? m * m : 1) * sizeof *tmp);
    if (!order || !tmp) {
        emb_free(order);
        emb_free(tmp);
        return emb_err_set(err, EMB_ENOMEM, "pca: out of memory (%zu x %zu matrix)", m, m);
    }
    for (size_t i = 0; i < m * m; i++)
        v[i] = 0.0;
    for (size_t i = 0; i < m; i++)
        v[i * m + i] = 1.0;
    double total = 0.0;
    for (size_t i = 0; i < m * m; i++)
        total += a[i] * a[i];
    /* sweeps until the off-diagonal part is negligible next to the whole
     * (quadratic convergence: about 6-10 sweeps; 100 is a safe bound) */
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++)
                off += a[p * m + q] * a[p * m + q];
        if (!(off > 1e-30 * total))
            break;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++)
                if (a[p * m + q] != 0.0)
                    rotate(a, v, m, p, q);
    }
    /* eigenvalues descending (selection by index keeps it stable) */
    for (size_t i = 0; i < m; i++)
        order[i] = i;
    for (size_t i = 0; i < m; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < m; j++)
            if (a[order[j] * m + order[j]] > a[order[best] * m + order[best]])
                best = j;
        size_t t = order[i];
        order[i] = order[best];
        order[best] = t;
    }
    memcpy(tmp, v, m * m * sizeof *tmp);
    for (size_t j = 0; j < m; j++) {
        w[j] = a[order[j] * m + order[j]];
        for (size_t r = 0; r < m; r++)
            v[r * m + j] = tmp[r * m + order[j]];
    }
    emb_free(order);
    emb_free(tmp);
    return EMB_OK;
}

/* Point i minus the mean, into x (d doubles). */
static void centre(const float *points, const double *mean, size_t d, size_t i, double *x)
{
    for (size_t c = 0; c < d; c++)
        x[c] = points[i * d + c] - mean[c];
}

int emb_pca(const float *points, size_t n, size_t d, size_t k, double *scores, double *variance,
            emb_err *err)
{
    if (n < 2)
        return emb_err_set(err, EMB_EINVAL, "pca: needs at least 2 points (found %zu)", n);
    size_t m = n < d ? n : d;
    if (k < 1 || k > m)
        return emb_err_set(err, EMB_EINVAL,
                           "pca: components must be 1 .. min(points, dim) = %zu (found %zu)", m, k);
    if (m > EMB_PCA_MAX_SMALL)
        return emb_err_set(err, EMB_ERANGE,
                           "pca: min(points, dim) is at most %d (found %zu points of dim %zu)",
                           EMB_PCA_MAX_SMALL, n, d);
    /* the centred points are recomputed from `points` and the mean (no
     * n x d copy): xc(i) = points[i] - mean, into one row buffer x */
    double *mean = emb_calloc(d, sizeof *mean);
    double *x = emb_malloc(d * sizeof *x), *y = emb_malloc(d * sizeof *y);
    double *a = emb_calloc(m * m, sizeof *a);
    double *v = emb_malloc(m * m * sizeof *v);
    double *w = emb_malloc(m * sizeof *w);
    if (!mean || !x || !y || !a || !v || !w) {
        emb_free(mean), emb_free(x), emb_free(y), emb_free(a), emb_free(v), emb_free(w);
        return emb_err_set(err, EMB_ENOMEM, "pca: out of memory (%zu points of dim %zu)", n, d);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < d; c++)
            mean[c] += points[i * d + c];
    for (size_t c = 0; c < d; c++)
        mean[c] /= (double)n;
    int gram = n < d; /* eigenproblem of Xc Xcᵀ (n x n) instead of Xcᵀ Xc (d x d) */
    if (gram) {
        for (size_t r = 0; r < n; r++) {
            centre(points, mean, d, r, x);
            for (size_t c = r; c < n; c++) {
                centre(points, mean, d, c, y);
                double sum = 0.0;
                for (size_t e = 0; e < d; e++)
                    sum += x[e] * y[e];
                a[r * m + c] = a[c * m + r] = sum;
            }
        }
    } else {
        for (size_t i = 0; i < n; i++) { /* sum of outer products, upper triangle */
            centre(points, mean, d, i, x);
            for (size_t r = 0; r < d; r++)
                for (size_t c = r; c < d; c++)
                    a[r * m + c] += x[r] * x[c];
        }
        for (size_t r = 0; r < d; r++)
            for (size_t c = r + 1; c < d; c++)
                a[c * m + r] = a[r * m + c];
    }
    int rc = emb_sym_eigen(a, m, w, v, err);
    if (rc == EMB_OK) {
        /* eigenvalues below rounding level of the largest are rank deficiency */
        double floor_ = (w[0] > 0 ? w[0] : 0) * 1e-12 * (double)m;
        for (size_t j = 0; j < k; j++) {
            double lam = w[j] > floor_ ? w[j] : 0.0;
            if (variance)
                variance[j] = lam / (double)(n - 1);
            for (size_t i = 0; i < n; i++) {
                double s = 0.0;
                if (lam == 0.0)
                    s = 0.0;
                else if (gram) /* score = U S: u_ij * sqrt(lambda_j) */
                    s = v[i * m + j] * sqrt(lam);
                else {
                    centre(points, mean, d, i, x);
                    for (size_t c = 0; c < d; c++)
                        s += x[c] * v[c * m + j];
                }
                scores[i * k + j] = s == 0.0 ? 0.0 : s; /* no -0 */
            }
            size_t arg = 0; /* sign: the largest |score| is positive */
            for (size_t i = 1; i < n; i++)
                if (fabs(scores[i * k + j]) > fabs(scores[arg * k + j]))
                    arg = i;
            if (scores[arg * k + j] < 0)
                for (size_t i = 0; i < n; i++)
                    scores[i * k + j] = 0.0 - scores[i * k + j]; /* no -0 */
        }
    }
    emb_free(mean), emb_free(x), emb_free(y), emb_free(a), emb_free(v), emb_free(w);
    return rc;
}
