/*
 * bare_scan.c - the reference a top-k scan is measured against: a bare C
 * loop over an in-memory matrix, no SQLite, no checks.
 *
 *   cc -O3 -shared -fPIC -o build/bench/bare_scan.so bench/bare_scan.c
 *   (loaded by bench/bench.py through ctypes on the same numpy arrays the
 *   other systems use)
 *
 * Exact top-k by cosine on raw (not normalised) rows, as an embedding table
 * stores them: the caller precomputes 1/||row|| once (like a table that
 * caches row norms), the loop computes dot(q, row) for every row with
 * AVX-512 or AVX2+FMA (chosen at run time, function target attributes; no
 * -march flag), multiplies by the inverse norms, and keeps the k best in a
 * small min-heap.  Returns ids and cosine similarities, best first.
 * f16 rows (IEEE half, widened with F16C / AVX-512 conversions) are
 * supported too, for the narrow-dtype cases.
 */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int bare_isa(void);
EXPORT int bare_topk_f32(const float *rows, const float *inv_norms, int64_t n_rows, int64_t dim,
                         const float *q, int k, int64_t *ids, float *sims);
EXPORT int bare_topk_f16(const uint16_t *rows, const float *inv_norms, int64_t n_rows, int64_t dim,
                         const float *q, int k, int64_t *ids, float *sims);

__attribute__((target("avx512f"))) static float dot_f32_avx512(const float *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

__attribute__((target("avx512f,f16c"))) static float dot_f16_avx512(const float *a, const uint16_t *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i),
                             _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i))), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16),
                             _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i + 16))), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32),
                             _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i + 32))), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48),
                             _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i + 48))), s3);
    }
    for (; i + 16 <= n; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i),
                             _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i))), s0);
    float tail = 0.0f;
    for (; i < n; i++) {
        __m128 h = _mm_cvtph_ps(_mm_cvtsi32_si128(b[i]));
        tail += a[i] * _mm_cvtss_f32(h);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))) + tail;
}

__attribute__((target("avx2,fma"))) static float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static float dot_f32_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float tail = 0.0f;
    for (; i < n; i++)
        tail += a[i] * b[i];
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) + tail;
}

__attribute__((target("avx2,fma,f16c"))) static float dot_f16_avx2(const float *a, const uint16_t *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8)));
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), b1, s1);
    }
    float tail = 0.0f;
    for (; i < n; i++)
        tail += a[i] * _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(b[i])));
    return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

static float dot_f32_plain(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

typedef float (*dot_f32_fn)(const float *, const float *, size_t);
typedef float (*dot_f16_fn)(const float *, const uint16_t *, size_t);

static int isa_level(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return 512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 256;
    return 0;
}

/* 512 (AVX-512), 256 (AVX2+FMA) or 0 (plain C): which loop runs. */
EXPORT int bare_isa(void)
{
    return isa_level();
}

/* Min-heap of the k best (highest similarity; ties: lower id is better). */
static int worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void heap_offer(float *hs, int64_t *hi, int *len, int k, float s, int64_t id)
{
    int i;
    if (*len < k) {
        i = (*len)++;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(s, id, hs[p], hi[p]))
                break;
            hs[i] = hs[p];
            hi[i] = hi[p];
            i = p;
        }
        hs[i] = s;
        hi[i] = id;
        return;
    }
    if (!worse(hs[0], hi[0], s, id))
        return;
    i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= k)
            break;
        if (c + 1 < k && worse(hs[c + 1], hi[c + 1], hs[c], hi[c]))
            c++;
        if (!worse(hs[c], hi[c], s, id))
            break;
        hs[i] = hs[c];
        hi[i] = hi[c];
        i = c;
    }
    hs[i] = s;
    hi[i] = id;
}

static void heap_drain(float *hs, int64_t *hi, int len, int64_t *ids, float *sims)
{
    /* repeated extraction of the worst fills the output from the back */
    while (len > 0) {
        ids[len - 1] = hi[0];
        sims[len - 1] = hs[0];
        len--;
        float s = hs[len];
        int64_t id = hi[len];
        int i = 0;
        for (;;) {
            int c = 2 * i + 1;
            if (c >= len)
                break;
            if (c + 1 < len && worse(hs[c + 1], hi[c + 1], hs[c], hi[c]))
                c++;
            if (!worse(hs[c], hi[c], s, id))
                break;
            hs[i] = hs[c];
            hi[i] = hi[c];
            i = c;
        }
        hs[i] = s;
        hi[i] = id;
    }
}

/* Top-k cosine of q against n_rows rows of dim f32 (row-major), inv_norms[r]
 * = 1/||row r|| (0 for a zero row).  k <= 1024.  Returns the number found. */
EXPORT int bare_topk_f32(const float *rows, const float *inv_norms, int64_t n_rows, int64_t dim,
                         const float *q, int k, int64_t *ids, float *sims)
{
    static dot_f32_fn dot;
    if (!dot) {
        int lvl = isa_level();
        dot = lvl == 512 ? dot_f32_avx512 : lvl == 256 ? dot_f32_avx2 : dot_f32_plain;
    }
    float hs[1024];
    int64_t hi[1024];
    int len = 0;
    if (k > 1024)
        k = 1024;
    float qn = sqrtf(dot(q, q, (size_t)dim));
    float qinv = qn > 0.0f ? 1.0f / qn : 0.0f;
    for (int64_t r = 0; r < n_rows; r++) {
        float s = dot(q, rows + r * dim, (size_t)dim) * inv_norms[r] * qinv;
        heap_offer(hs, hi, &len, k, s, r);
    }
    heap_drain(hs, hi, len, ids, sims);
    return len;
}

static float dot_f16_plain(const float *a, const uint16_t *b, size_t n)
{
    (void)a;
    (void)b;
    (void)n;
    return NAN; /* not offered without F16C; bare_topk_f16 reports -1 */
}

/* Same for IEEE half rows.  Returns -1 when the CPU lacks F16C/AVX2. */
EXPORT int bare_topk_f16(const uint16_t *rows, const float *inv_norms, int64_t n_rows, int64_t dim,
                         const float *q, int k, int64_t *ids, float *sims)
{
    static dot_f16_fn dot;
    int lvl = isa_level();
    if (lvl == 0)
        return -1;
    if (!dot)
        dot = lvl == 512 ? dot_f16_avx512 : lvl == 256 ? dot_f16_avx2 : dot_f16_plain;
    float hs[1024];
    int64_t hi[1024];
    int len = 0;
    if (k > 1024)
        k = 1024;
    float qn = 0.0f;
    for (int64_t i = 0; i < dim; i++)
        qn += q[i] * q[i];
    qn = sqrtf(qn);
    float qinv = qn > 0.0f ? 1.0f / qn : 0.0f;
    for (int64_t r = 0; r < n_rows; r++) {
        float s = dot(q, rows + r * dim, (size_t)dim) * inv_norms[r] * qinv;
        heap_offer(hs, hi, &len, k, s, r);
    }
    heap_drain(hs, hi, len, ids, sims);
    return len;
}
