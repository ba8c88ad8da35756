/*
 * bag.h - PyTorch's nn.EmbeddingBag / F.embedding_bag (torch 1.13 CPU
 * arithmetic) and the max_norm renormalisation of nn.Embedding /
 * F.embedding, over an emb_matrix.
 *
 *   bag b = ids[starts[b] .. starts[b+1]), entries equal to padding_idx left out;
 *   sum:  out = sum of rows in index order, float32 (times per_sample_weights[i]:
 *         out += row * w, rounded per step, as torch's non-FBGEMM CPU loop);
 *   mean: the sum / (float)count (count 0 gives zeros);
 *   max:  element-wise maximum (an empty bag gives zeros).
 *   max_norm: a row whose norm_type-norm exceeds max_norm is used scaled by
 *         (float)(max_norm / (norm + 1e-7)) (torch.embedding_renorm_); torch
 *         writes the scaled row back into the weight, this core never
 *         changes the matrix.
 */
#ifndef EMB_BAG_H
#define EMB_BAG_H

#include "lm/analogy.h"

enum { EMB_BAG_SUM = 0, EMB_BAG_MEAN = 1, EMB_BAG_MAX = 2 };

typedef struct emb_bag_opts {
    int mode;              /* EMB_BAG_* */
    const float *weights;  /* per_sample_weights, one per id, or NULL (sum only) */
    int64_t padding_idx;   /* < 0: none */
    double max_norm;       /* <= 0: none */
    double norm_type;      /* p > 0, or INFINITY */
} emb_bag_opts;

/* "sum" / "mean" / "max" -> EMB_BAG_*, -1 if unknown. */
int emb_bag_mode_parse(const char *name);

/* torch.embedding_renorm_ of one row in place. */
void emb_renorm(float *row, size_t dim, double max_norm, double norm_type);

/* The bags of ids (present rows, checked by the caller): starts holds
 * n_bags + 1 non-decreasing offsets into ids, starts[n_bags] <= n_ids; out
 * receives n_bags * m->dim floats.  EMB_ENOMEM possible. */
int emb_bag(const emb_kernels *kern, const emb_matrix *m, const int64_t *ids, size_t n_ids,
            const size_t *starts, size_t n_bags, const emb_bag_opts *opts, float *out,
            emb_err *err);

#endif
