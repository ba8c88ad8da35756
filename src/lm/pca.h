/*
 * pca.h - exact principal component analysis of a small set of vectors
 * (word-vector pictures: king/queen/man/woman, countries and capitals).
 *
 * The n points are centred on their mean; the eigenvectors of the smaller of
 * the two symmetric matrices - the d x d scatter Xcᵀ Xc when d <= n, the
 * n x n Gram matrix Xc Xcᵀ otherwise - are found by the cyclic Jacobi method
 * in double precision (exact to rounding, no iteration count to tune).  The
 * result is the same as numpy's SVD of Xc: scores = U S, components = Vᵀ,
 * explained variance = S² / (n - 1).
 *
 * Sign convention (deterministic, sklearn's svd_flip on U): in each
 * component the score with the largest absolute value is positive (the
 * first such point when two tie).
 *
 * Ownership: points, scores and variance are the caller's; nothing
 * allocated outlives the call.
 */
#ifndef EMB_PCA_H
#define EMB_PCA_H

#include "core/emb.h"

#include <stddef.h>

/* The larger of n and d is free; the smaller (the eigenproblem's size) is at
 * most this (Jacobi costs about 10 m³ operations). */
#define EMB_PCA_MAX_SMALL 1024

/* Project n points of d floats (row-major `points`) onto their first k
 * principal components: scores[i * k + j] = score of point i on component
 * j; variance[j] (may be NULL) = explained variance of component j,
 * descending.  Needs n >= 2, 1 <= k <= min(n, d), min(n, d) <=
 * EMB_PCA_MAX_SMALL (EMB_EINVAL / EMB_ERANGE otherwise), EMB_ENOMEM.
 * Components beyond the rank of the points have variance 0 and scores 0. */
int emb_pca(const float *points, size_t n, size_t d, size_t k, double *scores, double *variance,
            emb_err *err);

/* Eigen-decomposition of the symmetric m x m matrix a (row-major, destroyed)
 * by cyclic Jacobi rotations: eigenvalues into w[m] in descending order,
 * eigenvector j into column j of v (m x m, row-major, orthonormal).
 * EMB_ENOMEM only. */
int emb_sym_eigen(double *a, size_t m, double *w, double *v, emb_err *err);

#endif
