/*
 * matrix.c - dtype helpers, row encoding and exact top-k search (matrix.h).
 *
 * Search: rows are scanned in blocks of EMB_SEARCH_BLOCK with the kernel
 * table's scan_dot_* / scan_l2sq_* entries into a stack buffer, turned into
 * distances and offered to a bounded max-heap (src/search/topk.h) that lives in the
 * caller's output array: no allocation and no per-row indirect call on the
 * hot path.  Blocks without any candidate (absent rows, allow mask) are
 * skipped; a block is narrowed to its first..last candidate.
 *
 * Metrics (distance, smaller = nearer):
 *   cosine  1 - dot / (|q| |r|), with cos = 0 when either norm is 0;
 *           |r| from m->norms when given, else computed per row.
 *   dot     -dot
 *   l2      sqrt(l2sq)
 * int8 rows: dot = scale[r] * (q . int8 row).  There is no int8 l2 scan
 * kernel, so l2 uses |q|^2 + |r|^2 - 2 dot clamped at 0 (|r| as above).
 * That form loses precision to cancellation when |q - r| is much smaller
 * than |q| (relative error about 1e-7 * |q|^2 / |q - r|^2 on the squared
 * distance); int8 quantisation error is far larger anyway.
 * A NaN distance (only from a non-finite query) is treated as +inf.
 */
#include "search/matrix.h"

#include "search/sketch.h"
#include "search/topk.h"

#include <math.h>
#include <string.h>

#define EMB_SEARCH_BLOCK 256

size_t emb_dtype_size(int dtype)
{
    switch (dtype) {
    case EMB_DTYPE_F32: return 4;
    case EMB_DTYPE_F16: return 2;
    case EMB_DTYPE_BF16: return 2;
    case EMB_DTYPE_I8: return 1;
    default: return 0;
    }
}

static const char *const dtype_names[] = {"f32", "f16", "bf16", "int8"};
static const char *const metric_names[] = {"cosine", "dot", "l2"};

const char *emb_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < 4 ? dtype_names[dtype] : NULL;
}

int emb_dtype_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, dtype_names[i]) == 0)
            return i;
    return -1;
}

const char *emb_metric_name(int metric)
{
    return metric >= 0 && metric < 3 ? metric_names[metric] : NULL;
}

int emb_metric_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, metric_names[i]) == 0)
            return i;
    return -1;
}

void emb_row_encode(const emb_kernels *kern, int dtype, void *dst, float *scale,
                    const float *src, size_t dim)
{
    switch (dtype) {
    case EMB_DTYPE_F32:
        memcpy(dst, src, dim * sizeof(float));
        break;
    case EMB_DTYPE_F16:
        kern->f32_to_f16(dst, src, dim);
        break;
    case EMB_DTYPE_BF16:
        kern->f32_to_bf16(dst, src, dim);
        break;
    case EMB_DTYPE_I8: {
        int8_t *out = dst;
        float amax = 0;
        for (size_t i = 0; i < dim; i++) {
            float a = fabsf(src[i]);
            if (a > amax)
                amax = a;
        }
        float s = amax / 127.0f;
        if (scale)
            *scale = s;
        if (!(s > 0)) {
            memset(out, 0, dim);
            if (scale)
                *scale = 0;
            break;
        }
        float inv = 127.0f / amax;
        for (size_t i = 0; i < dim; i++) {
            float v = nearbyintf(src[i] * inv);
            if (v > 127)
                v = 127;
            if (v < -127)
                v = -127;
            out[i] = (int8_t)v;
        }
        break;
    }
    default:
        break;
    }
}

void emb_matrix_row_f32(const emb_kernels *kern, const emb_matrix *m, size_t r, float *out)
{
    size_t dim = m->dim;
    switch (m->dtype) {
    case EMB_DTYPE_F32:
        memcpy(out, (const float *)m->data + r * dim, dim * sizeof(float));
        break;
    case EMB_DTYPE_F16:
        kern->f16_to_f32(out, (const uint16_t *)m->data + r * dim, dim);
        break;
    case EMB_DTYPE_BF16:
        kern->bf16_to_f32(out, (const uint16_t *)m->data + r * dim, dim);
        break;
    case EMB_DTYPE_I8:
        kern->i8_to_f32(out, (const int8_t *)m->data + r * dim, m->scales ? m->scales[r] : 0,
                        dim);
        break;
    default:
        memset(out, 0, dim * sizeof(float));
        break;
    }
}

/* |row r| without m->norms (slow path, only when norms are not provided). */
static float row_norm(const emb_kernels *kern, const emb_matrix *m, size_t r)
{
    float buf[EMB_SEARCH_BLOCK];
    double s = 0;
    size_t dim = m->dim;
    if (m->dtype == EMB_DTYPE_F32)
        return kern->norm_f32((const float *)m->data + r * dim, dim);
    for (size_t i = 0; i < dim; i += EMB_SEARCH_BLOCK) {
        size_t n = dim - i < EMB_SEARCH_BLOCK ? dim - i : EMB_SEARCH_BLOCK;
        switch (m->dtype) {
        case EMB_DTYPE_F16:
            kern->f16_to_f32(buf, (const uint16_t *)m->data + r * dim + i, n);
            break;
        case EMB_DTYPE_BF16:
            kern->bf16_to_f32(buf, (const uint16_t *)m->data + r * dim + i, n);
            break;
        default:
            kern->i8_to_f32(buf, (const int8_t *)m->data + r * dim + i,
                            m->scales ? m->scales[r] : 0, n);
            break;
        }
        float d = kern->dot_f32(buf, buf, n);
        s += d;
    }
    return (float)sqrt(s);
}

/* Raw scores of rows [r0, r0+n) into out: dot (is_l2 == 0) or l2sq. */
static void scan_block(const emb_kernels *kern, const emb_matrix *m, const float *q, int is_l2,
                       size_t r0, size_t n, float *out)
{
    size_t dim = m->dim;
    switch (m->dtype) {
    case EMB_DTYPE_F32: {
        const float *rows = (const float *)m->data + r0 * dim;
        if (is_l2)
            kern->scan_l2sq_f32(out, q, rows, n, dim);
        else
            kern->scan_dot_f32(out, q, rows, n, dim);
        break;
    }
    case EMB_DTYPE_F16: {
        const uint16_t *rows = (const uint16_t *)m->data + r0 * dim;
        if (is_l2)
            kern->scan_l2sq_f16(out, q, rows, n, dim);
        else
            kern->scan_dot_f16(out, q, rows, n, dim);
        break;
    }
    case EMB_DTYPE_BF16: {
        const uint16_t *rows = (const uint16_t *)m->data + r0 * dim;
        if (is_l2)
            kern->scan_l2sq_bf16(out, q, rows, n, dim);
        else
            kern->scan_dot_bf16(out, q, rows, n, dim);
        break;
    }
    default: { /* int8: always a dot; scaled here */
        kern->scan_dot_i8(out, q, (const int8_t *)m->data + r0 * dim, n, dim);
        for (size_t i = 0; i < n; i++)
            out[i] *= m->scales[r0 + i];
        break;
    }
    }
}

/* A row's raw score from scan_block (dot, or l2sq for l2 on float rows) as
 * the distance under metric: the one formula of the plain scan. */
static inline float raw_to_distance(const emb_kernels *kern, const emb_matrix *m, int metric,
                                    float raw, float qnorm, size_t r)
{
    const int i8 = m->dtype == EMB_DTYPE_I8;
    if (metric == EMB_METRIC_L2 && !i8) { /* raw is l2sq */
        float d = sqrtf(raw);
        return d != d ? INFINITY : d;
    }
    const int want_norm = metric == EMB_METRIC_COSINE || (metric == EMB_METRIC_L2 && i8);
    float rn = !want_norm ? 0 : m->norms ? m->norms[r] : row_norm(kern, m, r);
    return emb_distance_from_dot(metric, raw, qnorm, rn);
}

float emb_matrix_row_distance(const emb_kernels *kern, const emb_matrix *m, const float *q,
                              int metric, float qnorm, size_t r)
{
    float raw;
    scan_block(kern, m, q, metric == EMB_METRIC_L2 && m->dtype != EMB_DTYPE_I8, r, 1, &raw);
    return raw_to_distance(kern, m, metric, raw, qnorm, r);
}

/* The scan shared by search and distances: each candidate's distance goes to
 * the heap (heap != NULL) or to dist[r] (non-candidates keep NaN). */
static int scan_rows(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                     const uint8_t *allow, emb_topk *heap, float *dist, emb_err *err)
{
    if (!kern || !m || !q)
        return emb_err_set(err, EMB_EINVAL, "matrix: NULL argument");
    if (metric < 0 || metric > 2)
        return emb_err_set(err, EMB_EINVAL, "matrix: unknown metric %d", metric);
    if (emb_dtype_size(m->dtype) == 0)
        return emb_err_set(err, EMB_EINVAL, "matrix: unknown dtype %d", m->dtype);
    if (m->dtype == EMB_DTYPE_I8 && !m->scales && m->n_rows > 0)
        return emb_err_set(err, EMB_EINVAL, "matrix: int8 matrix without scales");
    if (dist)
        for (size_t r = 0; r < m->n_rows; r++)
            dist[r] = NAN;
    if ((heap && heap->k == 0) || m->n_rows == 0)
        return EMB_OK;

    const size_t dim = m->dim;
    const int i8 = m->dtype == EMB_DTYPE_I8;
    const int is_l2 = metric == EMB_METRIC_L2;
    const int want_norm = metric == EMB_METRIC_COSINE || (is_l2 && i8);
    const float qnorm = want_norm ? kern->norm_f32(q, dim) : 0;
    float buf[EMB_SEARCH_BLOCK];

    for (size_t b0 = 0; b0 < m->n_rows; b0 += EMB_SEARCH_BLOCK) {
        size_t b1 = m->n_rows - b0 < EMB_SEARCH_BLOCK ? m->n_rows : b0 + EMB_SEARCH_BLOCK;
        /* narrow to the first..last candidate of the block */
        size_t lo = b0, hi = b1;
        emb_matrix_narrow(m, allow, &lo, &hi);
        if (lo == hi)
            continue;
        size_t n = hi - lo;
        scan_block(kern, m, q, is_l2 && !i8, lo, n, buf);
        for (size_t i = 0; i < n; i++) {
            size_t r = lo + i;
            if ((m->valid && !m->valid[r]) || (allow && !allow[r]))
                continue;
            float d = raw_to_distance(kern, m, metric, buf[i], qnorm, r);
            if (heap)
                emb_topk_push(heap, (int64_t)r, d);
            else
                dist[r] = d;
        }
    }
    return EMB_OK;
}

int emb_matrix_search(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                      size_t k, const uint8_t *allow, emb_hit *out, size_t *n_out, emb_err *err)
{
    /* the sketch's candidate list is the only allocation: without memory
     * for it the plain scan (which allocates nothing) gives the answer */
    if (m && m->sketch && emb_sketch_applies(m, q, metric, k)) {
        int rc = emb_sketch_search(kern, m, q, metric, k, allow, out, n_out, NULL, err);
        if (rc != EMB_ENOMEM)
            return rc;
    }
    return emb_matrix_search_plain(kern, m, q, metric, k, allow, out, n_out, err);
}

int emb_matrix_search_plain(const emb_kernels *kern, const emb_matrix *m, const float *q,
                            int metric, size_t k, const uint8_t *allow, emb_hit *out,
                            size_t *n_out, emb_err *err)
{
    if (!out || !n_out)
        return emb_err_set(err, EMB_EINVAL, "matrix: NULL argument");
    emb_topk heap;
    emb_topk_init(&heap, out, k);
    int rc = scan_rows(kern, m, q, metric, allow, &heap, NULL, err);
    if (rc != EMB_OK)
        return rc;
    *n_out = emb_topk_finish(&heap);
    return EMB_OK;
}

int emb_matrix_distances(const emb_kernels *kern, const emb_matrix *m, const float *q, int metric,
                         const uint8_t *allow, float *dist, emb_err *err)
{
    if (!dist)
        return emb_err_set(err, EMB_EINVAL, "matrix: NULL argument");
    return scan_rows(kern, m, q, metric, allow, NULL, dist, err);
}

size_t emb_topk_select(const float *dist, size_t n, size_t k, const emb_hit *after, emb_hit *out)
{
    emb_topk heap;
    emb_topk_init(&heap, out, k);
    for (size_t r = 0; r < n; r++) {
        float d = dist[r];
        if (d != d)
            continue;
        emb_hit x = {(int64_t)r, d};
        if (after && !emb_hit_worse(&x, after))
            continue;
        emb_topk_push(&heap, (int64_t)r, d);
    }
    return emb_topk_finish(&heap);
}
