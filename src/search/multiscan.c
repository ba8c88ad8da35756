/* multiscan.c - 4-query scans over panel-packed rows (see multiscan.h). */
#include "search/multiscan.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

#define PANEL 16 /* rows per panel */

int emb_packed_init(emb_packed *p, size_t n_rows, size_t dim)
{
    size_t padded = (n_rows + PANEL - 1) / PANEL * PANEL, floats, bytes;
    if (emb_mul_size(padded ? padded : PANEL, dim, &floats) != 0 ||
        emb_mul_size(floats, sizeof(float), &bytes) != 0)
        return EMB_ERANGE;
    p->data = emb_calloc(1, bytes);
    if (!p->data)
        return EMB_ENOMEM;
    p->n_rows = n_rows;
    p->dim = dim;
    return EMB_OK;
}

void emb_packed_free(emb_packed *p)
{
    if (p) {
        emb_free(p->data);
        p->data = NULL;
    }
}

size_t emb_packed_chunk_rows(const emb_packed *p, size_t c)
{
    size_t c0 = c * EMB_MS_CHUNK;
    return p->n_rows - c0 < EMB_MS_CHUNK ? p->n_rows - c0 : EMB_MS_CHUNK;
}

size_t emb_packed_chunk_stride(const emb_packed *p, size_t c)
{
    return (emb_packed_chunk_rows(p, c) + PANEL - 1) / PANEL * PANEL;
}

void emb_packed_set_row(emb_packed *p, size_t r, const float *v)
{
    float *panel = p->data + r / PANEL * PANEL * p->dim;
    for (size_t d = 0; d < p->dim; d++)
        panel[d * PANEL + r % PANEL] = v[d];
}

/* Generic: 4 queries x 8 rows per step, as 4-float vectors (8 SSE / NEON
 * registers of accumulators). */
typedef float v4sf __attribute__((vector_size(16)));
#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v4sf))

static void scan4_generic(const float *panels, size_t n_panels, size_t stride, size_t dim,
                          const float *q, float *out)
{
    const float *q0 = q, *q1 = q + dim, *q2 = q + 2 * dim, *q3 = q + 3 * dim;
    for (size_t pn = 0; pn < n_panels; pn++) {
        for (size_t h = 0; h < PANEL; h += 8) {
            v4sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
            const float *col = panels + pn * PANEL * dim + h;
            for (size_t d = 0; d < dim; d++, col += PANEL) {
                v4sf m, n;
                LOAD4(m, col);
                LOAD4(n, col + 4);
                a0 += m * q0[d];
                b0 += n * q0[d];
                a1 += m * q1[d];
                b1 += n * q1[d];
                a2 += m * q2[d];
                b2 += n * q2[d];
                a3 += m * q3[d];
                b3 += n * q3[d];
            }
            size_t j = pn * PANEL + h;
            memcpy(out + j, &a0, sizeof a0);
            memcpy(out + j + 4, &b0, sizeof b0);
            memcpy(out + stride + j, &a1, sizeof a1);
            memcpy(out + stride + j + 4, &b1, sizeof b1);
            memcpy(out + 2 * stride + j, &a2, sizeof a2);
            memcpy(out + 2 * stride + j + 4, &b2, sizeof b2);
            memcpy(out + 3 * stride + j, &a3, sizeof a3);
            memcpy(out + 3 * stride + j + 4, &b3, sizeof b3);
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
typedef float v8sf __attribute__((vector_size(32)));
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8sf))

/* The same computation compiled for AVX2: 4 queries x 16 rows, 8 ymm
 * accumulators.  ISO C mode: no contraction into FMA, so the results are
 * bit-identical to the generic build. */
__attribute__((target("avx2,fma"))) static void scan4_avx2(const float *panels, size_t n_panels,
                                                           size_t stride, size_t dim,
                                                           const float *q, float *out)
{
    const float *q0 = q, *q1 = q + dim, *q2 = q + 2 * dim, *q3 = q + 3 * dim;
    for (size_t pn = 0; pn < n_panels; pn++) {
        v8sf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        const float *col = panels + pn * PANEL * dim;
        for (size_t d = 0; d < dim; d++, col += PANEL) {
            v8sf m, n;
            LOAD8(m, col);
            LOAD8(n, col + 8);
            a0 += m * q0[d];
            b0 += n * q0[d];
            a1 += m * q1[d];
            b1 += n * q1[d];
            a2 += m * q2[d];
            b2 += n * q2[d];
            a3 += m * q3[d];
            b3 += n * q3[d];
        }
        size_t j = pn * PANEL;
        memcpy(out + j, &a0, sizeof a0);
        memcpy(out + j + 8, &b0, sizeof b0);
        memcpy(out + stride + j, &a1, sizeof a1);
        memcpy(out + stride + j + 8, &b1, sizeof b1);
        memcpy(out + 2 * stride + j, &a2, sizeof a2);
        memcpy(out + 2 * stride + j + 8, &b2, sizeof b2);
        memcpy(out + 3 * stride + j, &a3, sizeof a3);
        memcpy(out + 3 * stride + j + 8, &b3, sizeof b3);
    }
}
#endif

void emb_packed_scan4(const emb_kernels *kern, const emb_packed *p, size_t c, const float *q,
                      float *out)
{
    size_t stride = emb_packed_chunk_stride(p, c);
    const float *panels = p->data + c * EMB_MS_CHUNK * p->dim;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (strcmp(kern->name, "avx2") == 0 || strcmp(kern->name, "avx512") == 0) {
        scan4_avx2(panels, stride / PANEL, stride, p->dim, q, out);
        return;
    }
#endif
    (void)kern;
    scan4_generic(panels, stride / PANEL, stride, p->dim, q, out);
}
