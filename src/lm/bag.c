/* bag.c - EmbeddingBag pooling and max_norm renormalisation (see bag.h). */
#include "lm/bag.h"
#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int emb_bag_mode_parse(const char *name)
{
    if (strcmp(name, "sum") == 0)
        return EMB_BAG_SUM;
    if (strcmp(name, "mean") == 0)
        return EMB_BAG_MEAN;
    if (strcmp(name, "max") == 0)
        return EMB_BAG_MAX;
    return -1;
}

/* The norm_type-norm of row as torch 1.13's CPU Tensor.norm computes it in
 * float32 (measured against the Debian build, AVX2 kernels):
 *   p = 2:   eight float lanes accumulate x*x over the first dim - dim % 8
 *            elements, the lanes are added left to right, then the tail, sqrt;
 *   p = 1:   a left-to-right float sum of |x|;
 *   p = inf: max |x| (exact);
 *   other p: a left-to-right float sum of powf(|x|, (float)p), then
 *            powf(sum, 1.0f / (float)p) (torch's NormOps in float; with the
 *            C library's powf, which is torch's std::pow on float). */
static float row_norm(const float *row, size_t dim, double p)
{
    if (isinf(p)) {
        float mx = 0;
        for (size_t i = 0; i < dim; i++)
            mx = fabsf(row[i]) > mx ? fabsf(row[i]) : mx;
        return mx;
    }
    if (p == 2) {
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t n8 = dim - dim % 8, i = 0;
        for (; i < n8; i += 8)
            for (int j = 0; j < 8; j++) {
                float sq = row[i + j] * row[i + j];
                lane[j] = lane[j] + sq;
            }
        float acc = lane[0];
        for (int j = 1; j < 8; j++)
            acc = acc + lane[j];
        for (; i < dim; i++) {
            float sq = row[i] * row[i];
            acc = acc + sq;
        }
        return sqrtf(acc);
    }
    if (p == 1) {
        float acc = 0;
        for (size_t i = 0; i < dim; i++)
            acc = acc + fabsf(row[i]);
        return acc;
    }
    float pf = (float)p, acc = 0;
    for (size_t i = 0; i < dim; i++) {
        float t = powf(fabsf(row[i]), pf);
        acc = acc + t;
    }
    return powf(acc, 1.0f / pf);
}

void emb_renorm(float *row, size_t dim, double max_norm, double norm_type)
{
    double norm = row_norm(row, dim, norm_type);
    if (norm > max_norm) {
        float scale = (float)(max_norm / (norm + 1e-7));
        for (size_t i = 0; i < dim; i++)
            row[i] *= scale;
    }
}

int emb_bag(const emb_kernels *kern, const emb_matrix *m, const int64_t *ids, size_t n_ids,
            const size_t *starts, size_t n_bags, const emb_bag_opts *opts, float *out,
            emb_err *err)
{
    size_t dim = m->dim;
    float *row = emb_malloc(dim * sizeof *row);
    if (!row)
        return emb_err_set(err, EMB_ENOMEM, "embedding_bag: out of memory");
    (void)n_ids;
    for (size_t b = 0; b < n_bags; b++) {
        float *o = out + b * dim;
        size_t count = 0;
        memset(o, 0, dim * sizeof *o);
        for (size_t i = starts[b]; i < starts[b + 1]; i++) {
            if (opts->padding_idx >= 0 && ids[i] == opts->padding_idx)
                continue;
            emb_row_widen(kern, m, (size_t)ids[i], row);
            if (opts->max_norm > 0)
                emb_renorm(row, dim, opts->max_norm, opts->norm_type);
            if (opts->mode == EMB_BAG_MAX) {
                for (size_t d = 0; d < dim; d++)
                    if (count == 0 || row[d] > o[d])
                        o[d] = row[d];
            } else if (opts->weights && opts->padding_idx < 0) {
                /* torch: BLAS saxpy, a fused multiply-add per element */
                float w = opts->weights[i];
                for (size_t d = 0; d < dim; d++)
                    o[d] = fmaf(row[d], w, o[d]);
            } else if (opts->weights) {
                /* torch with a padding_idx: a plain loop, product rounded first */
                float w = opts->weights[i];
                for (size_t d = 0; d < dim; d++) {
                    float t = row[d] * w;
                    o[d] = o[d] + t;
                }
            } else {
                for (size_t d = 0; d < dim; d++)
                    o[d] += row[d];
            }
            count++;
        }
        if (opts->mode == EMB_BAG_MEAN && count > 0) {
            float c = (float)count;
            for (size_t d = 0; d < dim; d++)
                o[d] /= c;
        }
    }
    emb_free(row);
    return EMB_OK;
}
