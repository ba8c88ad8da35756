/*
 * test_kernels.c - every kernel of every kernel set this CPU supports,
 * against a double-precision reference (or, for conversions, against the
 * serial set bit for bit).
 *
 * Inputs come from a fixed-seed generator, so a failure repeats exactly.
 * Each reduction is checked twice:
 *   - "exact" inputs: multiples of 1/8 in [-2, 2], whose products and sums
 *     are exact in float at every length tested, so any kernel must return
 *     the reference exactly (a dropped or doubled element cannot hide);
 *   - "real" inputs: uniform floats, error bounded by
 *     FLT_EPSILON * (n/4 + 8) * sum |a_i b_i|  (twice the worst case of the
 *     serial kernel's four-accumulator order).
 * Every comparison is written `!(err <= tol)`, so a NaN result fails.
 * Buffers end exactly at the last element (heap tools see overruns) and
 * start 0..3 elements past an aligned address; outputs carry a guard element
 * that must stay untouched.
 */
#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const size_t lengths[] = {0,  1,  2,   3,   4,   5,   6,   7,   8,   9,    10,   11,
                                 12, 13, 14,  15,  16,  17,  31,  32,  33,  63,   64,   65,
                                 127, 128, 129, 767, 768, 769, 1536, 4096};
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])
#define MAX_LEN 4096
#define GUARD 12345.0f

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
    rng_state = s;
}

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static float rng_real(void)
{
    return (float)((double)(rng_next() >> 40) / (double)(1ull << 23) - 1.0);
}

/* multiple of 1/8 in [-2, 2] */
static float rng_eighth(void)
{
    return (float)((int)(rng_next() % 33) - 16) / 8.0f;
}

static void fill(float *p, size_t n, int exact)
{
    for (size_t i = 0; i < n; i++)
        p[i] = exact ? rng_eighth() : rng_real();
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A buffer of n elements that starts `off` elements past a malloc'd
 * (aligned) address and ends exactly at the end of the allocation. */
static void *buf_new(size_t n, size_t off, size_t esz)
{
    char *p = malloc((n + off) * esz + 1);
    assert_non_null(p);
    return p + off * esz;
}

static void buf_free(void *p, size_t off, size_t esz)
{
    free((char *)p - off * esz);
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            print_error(__VA_ARGS__);                                                          \
            fail_msg("check failed: %s", #cond);                                               \
        }                                                                                      \
    } while (0)

/* ---- double references -------------------------------------------------- */

static double ref_dot(const float *a, const float *b, size_t n, double *mag)
{
    double s = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)a[i] * b[i];
        m += fabs((double)a[i] * b[i]);
    }
    *mag = m;
    return s;
}

static double ref_l2sq(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return s;
}

static double tol_for(size_t n, double mag, int exact)
{
    return exact ? 0.0 : FLT_EPSILON * ((double)n / 4 + 8) * mag;
}

/* ---- dispatch ----------------------------------------------------------- */

static void test_kernels_find_by_name(void **state)
{
    (void)state;
    assert_non_null(emb_kernels_find("serial"));
    assert_ptr_equal(emb_kernels_find("serial"), &emb_kernels_serial);
    assert_null(emb_kernels_find("no-such-isa"));
    assert_null(emb_kernels_find(""));
#if !defined(__aarch64__)
    assert_null(emb_kernels_find("neon"));
#endif
    const emb_kernels *active = emb_kernels_get();
    assert_non_null(active);
    int found = 0;
    size_t n = 0;
    for (const emb_kernels *const *k = emb_kernels_all(); *k; k++, n++) {
        assert_ptr_equal(emb_kernels_find((*k)->name), *k);
        if (*k == active)
            found = 1;
    }
    assert_true(found);
    assert_true(n >= 1);
    assert_ptr_equal(emb_kernels_all()[n - 1], &emb_kernels_serial); /* serial is last */
    const char *want = getenv("EMB_ISA");
    if (want && emb_kernels_find(want))
        assert_string_equal(active->name, want);
    else
        assert_ptr_equal(active, emb_kernels_all()[0]);
}

static void test_kernels_tables_complete(void **state)
{
    (void)state;
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        assert_non_null(k->name);
#define HAS(f) CHECK(k->f != NULL, "%s: %s is NULL\n", k->name, #f)
        HAS(dot_f32);
        HAS(l2sq_f32);
        HAS(norm_f32);
        HAS(dot_norms_f32);
        HAS(add_f32);
        HAS(sub_f32);
        HAS(scale_f32);
        HAS(axpy_f32);
        HAS(f16_to_f32);
        HAS(f32_to_f16);
        HAS(bf16_to_f32);
        HAS(f32_to_bf16);
        HAS(i8_to_f32);
        HAS(scan_dot_f32);
        HAS(scan_l2sq_f32);
        HAS(scan_dot_f16);
        HAS(scan_l2sq_f16);
        HAS(scan_dot_bf16);
        HAS(scan_l2sq_bf16);
        HAS(scan_dot_i8);
        HAS(scan_dot_f32_multi);
#undef HAS
    }
}

/* ---- reductions --------------------------------------------------------- */

enum { OP_DOT, OP_L2SQ, OP_NORM };

static void check_reduction(int op, int exact)
{
    rng_seed(1000 + (uint64_t)op * 10 + (uint64_t)exact);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t li = 0; li < N_LENGTHS; li++) {
            size_t n = lengths[li];
            for (size_t off = 0; off < 4; off++) {
                size_t off_b = (off * 3 + 1) % 4;
                float *a = buf_new(n, off, 4), *b = buf_new(n, off_b, 4);
                fill(a, n, exact);
                fill(b, n, exact);
                double mag, want, got;
                switch (op) {
                case OP_DOT:
                    want = ref_dot(a, b, n, &mag);
                    got = k->dot_f32(a, b, n);
                    break;
                case OP_L2SQ:
                    want = mag = ref_l2sq(a, b, n);
                    got = k->l2sq_f32(a, b, n);
                    break;
                default:
                    want = sqrt(ref_dot(a, a, n, &mag));
                    mag = want;
                    got = k->norm_f32(a, n);
                    if (exact) /* sqrt of an exact sum: correctly rounded */
                        want = (float)want;
                    break;
                }
                double err = fabs(got - want), tol = tol_for(n, mag, exact);
                CHECK(err <= tol, "%s op %d exact %d n %zu off %zu: got %.9g want %.9g tol %g\n",
                      k->name, op, exact, n, off, got, want, tol);
                buf_free(a, off, 4);
                buf_free(b, off_b, 4);
            }
        }
    }
}

/* dot_norms_f32: all three sums against their own reference and tolerance,
 * written into the middle of a guarded array (nothing else may change). */
static void check_dot_norms(int exact)
{
    rng_seed(1100 + (uint64_t)exact);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t li = 0; li < N_LENGTHS; li++) {
            size_t n = lengths[li];
            for (size_t off = 0; off < 4; off++) {
                size_t off_b = (off * 3 + 1) % 4;
                float *a = buf_new(n, off, 4), *b = buf_new(n, off_b, 4);
                float out[5] = {GUARD, GUARD, GUARD, GUARD, GUARD};
                fill(a, n, exact);
                fill(b, n, exact);
                double mag[3], want[3];
                want[0] = ref_dot(a, b, n, &mag[0]);
                want[1] = ref_dot(a, a, n, &mag[1]);
                want[2] = ref_dot(b, b, n, &mag[2]);
                k->dot_norms_f32(a, b, n, &out[1], &out[2], &out[3]);
                static const char *const what[3] = {"dot", "aa", "bb"};
                for (int j = 0; j < 3; j++) {
                    double got = out[1 + j];
                    double err = fabs(got - want[j]), tol = tol_for(n, mag[j], exact);
                    CHECK(err <= tol,
                          "%s dot_norms %s exact %d n %zu off %zu: got %.9g want %.9g tol %g\n",
                          k->name, what[j], exact, n, off, got, want[j], tol);
                }
                CHECK(out[0] == GUARD && out[4] == GUARD, "%s dot_norms n %zu: wrote outside\n",
                      k->name, n);
                buf_free(a, off, 4);
                buf_free(b, off_b, 4);
            }
        }
    }
}

static void test_kernels_dot_norms_matches_reference(void **state)
{
    (void)state;
    check_dot_norms(1);
    check_dot_norms(0);
}

static void test_kernels_dot_matches_reference(void **state)
{
    (void)state;
    check_reduction(OP_DOT, 1);
    check_reduction(OP_DOT, 0);
}

static void test_kernels_l2sq_matches_reference(void **state)
{
    (void)state;
    check_reduction(OP_L2SQ, 1);
    check_reduction(OP_L2SQ, 0);
}

static void test_kernels_norm_matches_reference(void **state)
{
    (void)state;
    check_reduction(OP_NORM, 1);
    check_reduction(OP_NORM, 0);
}

static void test_kernels_reductions_propagate_nan(void **state)
{
    (void)state;
    float a[80], b[80];
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t n = 1; n <= 80; n++) {
            for (size_t pos = 0; pos < n; pos += (n - pos > 1 ? n - 1 - pos : 1)) {
                for (size_t i = 0; i < n; i++)
                    a[i] = b[i] = 0.5f;
                a[pos] = NAN;
                CHECK(isnan(k->dot_f32(a, b, n)), "%s dot n %zu pos %zu\n", k->name, n, pos);
                CHECK(isnan(k->l2sq_f32(b, a, n)), "%s l2sq n %zu pos %zu\n", k->name, n, pos);
                CHECK(isnan(k->norm_f32(a, n)), "%s norm n %zu pos %zu\n", k->name, n, pos);
                /* NaN in a: dot and aa are NaN, bb = n/4 exactly; then in b */
                float d, aa, bb;
                k->dot_norms_f32(a, b, n, &d, &aa, &bb);
                CHECK(isnan(d) && isnan(aa) && bb == 0.25f * (float)n,
                      "%s dot_norms(nan, b) n %zu pos %zu: %g %g %g\n", k->name, n, pos, (double)d,
                      (double)aa, (double)bb);
                k->dot_norms_f32(b, a, n, &d, &aa, &bb);
                CHECK(isnan(d) && aa == 0.25f * (float)n && isnan(bb),
                      "%s dot_norms(a, nan) n %zu pos %zu: %g %g %g\n", k->name, n, pos, (double)d,
                      (double)aa, (double)bb);
            }
        }
    }
}

/* ---- element-wise ------------------------------------------------------- */

enum { OP_ADD, OP_SUB, OP_SCALE, OP_AXPY };

static void check_elementwise(int op)
{
    rng_seed(2000 + (uint64_t)op);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t li = 0; li < N_LENGTHS; li++) {
            size_t n = lengths[li];
            for (size_t off = 0; off < 4; off++) {
                for (int alias = 0; alias < 2; alias++) {
                    size_t off_b = (off + 1) % 4, off_o = (off + 2) % 4;
                    float *a = buf_new(n, off, 4), *b = buf_new(n, off_b, 4);
                    float *out = buf_new(n + 1, off_o, 4);
                    float *a0 = buf_new(n, 0, 4);
                    float s = rng_real() * 3;
                    fill(a, n, 0);
                    fill(b, n, 0);
                    memcpy(a0, a, n * sizeof *a);
                    out[n] = GUARD;
                    float *dst = alias ? a : out;
                    switch (op) {
                    case OP_ADD: k->add_f32(dst, a, b, n); break;
                    case OP_SUB: k->sub_f32(dst, a, b, n); break;
                    case OP_SCALE: k->scale_f32(dst, a, s, n); break;
                    default: k->axpy_f32(dst, a, s, b, n); break;
                    }
                    for (size_t i = 0; i < n; i++) {
                        double x = a0[i], y = b[i], want, tol = 0;
                        switch (op) {
                        case OP_ADD: want = (float)(x + y); break;
                        case OP_SUB: want = (float)(x - y); break;
                        case OP_SCALE: want = (float)(x * s); break;
                        default: /* fused or not: two roundings at most */
                            want = x + (double)s * y;
                            tol = FLT_EPSILON * (fabs(x) + fabs(s * y));
                            break;
                        }
                        double err = fabs(dst[i] - want);
                        CHECK(err <= tol, "%s op %d n %zu off %zu alias %d i %zu: %.9g vs %.9g\n",
                              k->name, op, n, off, alias, i, (double)dst[i], want);
                    }
                    CHECK(out[n] == GUARD, "%s op %d n %zu: wrote past the end\n", k->name, op, n);
                    buf_free(a, off, 4);
                    buf_free(b, off_b, 4);
                    buf_free(out, off_o, 4);
                    buf_free(a0, 0, 4);
                }
            }
        }
    }
}

static void test_kernels_add_is_exact(void **state)
{
    (void)state;
    check_elementwise(OP_ADD);
}

static void test_kernels_sub_is_exact(void **state)
{
    (void)state;
    check_elementwise(OP_SUB);
}

static void test_kernels_scale_is_exact(void **state)
{
    (void)state;
    check_elementwise(OP_SCALE);
}

static void test_kernels_axpy_matches_reference(void **state)
{
    (void)state;
    check_elementwise(OP_AXPY);
}

/* ---- conversions -------------------------------------------------------- */

/* Widening: all 65536 patterns, bit-equal to serial (which is exact), at
 * every start offset 0..3 and a few lengths so each tail path runs. */
static void check_widen(int bf16)
{
    uint16_t *in = malloc(65536 * sizeof *in + 8);
    float *want = malloc(65536 * sizeof *want);
    float *got = malloc((65536 + 8) * sizeof *got);
    assert_non_null(in);
    assert_non_null(want);
    assert_non_null(got);
    for (uint32_t i = 0; i < 65536; i++)
        in[i] = (uint16_t)i;
    (bf16 ? emb_kernels_serial.bf16_to_f32 : emb_kernels_serial.f16_to_f32)(want, in, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        if (bf16)
            CHECK(bits(want[i]) == (uint32_t)h << 16, "serial bf16 %04x\n", h);
        else if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            CHECK(isnan(want[i]), "serial f16 %04x not NaN\n", h);
    }
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        void (*fn)(float *, const uint16_t *, size_t) = bf16 ? k->bf16_to_f32 : k->f16_to_f32;
        for (size_t off = 0; off < 4; off++) {
            size_t n = 65536 - off;
            got[off + n] = GUARD;
            fn(got + off, in + off, n);
            for (size_t i = 0; i < n; i++)
                CHECK(bits(got[off + i]) == bits(want[off + i]), "%s bf16 %d h %04zx: %08x vs %08x\n",
                      k->name, bf16, off + i, bits(got[off + i]), bits(want[off + i]));
            CHECK(got[off + n] == GUARD, "%s bf16 %d: wrote past the end\n", k->name, bf16);
        }
        for (size_t n = 0; n <= 40; n++) { /* short lengths: tail-only paths */
            got[n] = GUARD;
            fn(got, in + 0x3c00 + n, n);
            for (size_t i = 0; i < n; i++)
                CHECK(bits(got[i]) == bits(want[0x3c00 + n + i]), "%s short n %zu i %zu\n", k->name,
                      n, i);
            CHECK(got[n] == GUARD, "%s short n %zu: wrote past the end\n", k->name, n);
        }
    }
    free(in);
    free(want);
    free(got);
}

static void test_kernels_f16_to_f32_all_patterns(void **state)
{
    (void)state;
    check_widen(0);
}

static void test_kernels_bf16_to_f32_all_patterns(void **state)
{
    (void)state;
    check_widen(1);
}

/* Floats that probe narrowing: for every 16-bit pattern h, its exact value,
 * the halfway point to the next pattern and one f32 ulp either side of it;
 * plus random bit patterns, f32 subnormals, the overflow edge, inf, NaN. */
static size_t narrow_inputs(float *v, size_t cap, int bf16)
{
    size_t n = 0;
    float w[2];
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t p[2] = {(uint16_t)h, (uint16_t)(h + 1)};
        if ((h & 0x7fff) >= (bf16 ? 0x7f80u : 0x7c00u))
            continue; /* inf/NaN handled below */
        (bf16 ? emb_kernels_serial.bf16_to_f32 : emb_kernels_serial.f16_to_f32)(w, p, 2);
        float mid = (float)(((double)w[0] + (double)w[1]) / 2); /* exact in f32 */
        if (n + 4 > cap)
            break;
        v[n++] = w[0];
        v[n++] = mid;
        v[n++] = from_bits(bits(mid) + 1);
        v[n++] = from_bits(bits(mid) - 1);
    }
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00400000, /* f32 subnormals */
        0x33000000, 0x33000001, 0x32ffffff, 0xb3000000, 0x33800000, /* around 2^-25, 2^-24 */
        0x387fc000, 0x387fe000, 0x387fffff, 0x38800000,             /* f16 subnormal/normal edge */
        0x477fe000, 0x477fefff, 0x477ff000, 0x477fffff, 0x47800000, /* f16 overflow edge */
        0x7f7fffff, 0x7f7f7fff, 0x7f7f8000, 0xff7fffff, 0x7f000000, /* bf16 overflow edge */
        0x7f800000, 0xff800000,                                     /* inf */
        0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, /* NaN, quiet and signalling */
        0x7f801000, 0x7fffffff, 0xffffffff, 0x7f80ffff, 0x7fa00000,
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0] && n < cap; i++)
        v[n++] = from_bits(special[i]);
    rng_seed(3000 + (uint64_t)bf16);
    while (n < cap)
        v[n++] = from_bits((uint32_t)rng_next());
    return n;
}

static void check_narrow(int bf16)
{
    size_t cap = 4 * 65536 + 20000;
    float *in = malloc((cap + 4) * sizeof *in);
    uint16_t *want = malloc(cap * sizeof *want);
    uint16_t *got = malloc((cap + 8) * sizeof *got);
    assert_non_null(in);
    assert_non_null(want);
    assert_non_null(got);
    size_t n = narrow_inputs(in, cap, bf16);
    (bf16 ? emb_kernels_serial.f32_to_bf16 : emb_kernels_serial.f32_to_f16)(want, in, n);
    for (size_t i = 0; i < n; i++) { /* the serial reference keeps NaN a NaN */
        uint16_t e = bf16 ? 0x7f80 : 0x7c00, m = bf16 ? 0x7f : 0x3ff;
        if (isnan(in[i]))
            CHECK((want[i] & e) == e && (want[i] & m), "serial NaN %08x -> %04x\n", bits(in[i]),
                  want[i]);
    }
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        void (*fn)(uint16_t *, const float *, size_t) = bf16 ? k->f32_to_bf16 : k->f32_to_f16;
        for (size_t off = 0; off < 4; off++) {
            size_t m = n - off, off_o = (off + 1) % 4;
            memmove(in + off, in, n * sizeof *in); /* shift a copy in place */
            got[off_o + m] = 0xbeef;
            fn(got + off_o, in + off, m);
            memmove(in, in + off, n * sizeof *in);
            for (size_t i = 0; i < m; i++)
                CHECK(got[off_o + i] == want[i], "%s bf16 %d in %08x: %04x vs %04x\n", k->name,
                      bf16, bits(in[i]), got[off_o + i], want[i]);
            CHECK(got[off_o + m] == 0xbeef, "%s bf16 %d: wrote past the end\n", k->name, bf16);
        }
        for (size_t len = 0; len <= 40; len++) {
            size_t start = n - 40 - len; /* the special and random values */
            got[len] = 0xbeef;
            fn(got, in + start, len);
            for (size_t i = 0; i < len; i++)
                CHECK(got[i] == want[start + i], "%s short len %zu i %zu\n", k->name, len, i);
            CHECK(got[len] == 0xbeef, "%s short len %zu: wrote past the end\n", k->name, len);
        }
    }
    free(in);
    free(want);
    free(got);
}

static void test_kernels_f32_to_f16_matches_serial(void **state)
{
    (void)state;
    check_narrow(0);
}

static void test_kernels_f32_to_bf16_matches_serial(void **state)
{
    (void)state;
    check_narrow(1);
}

static void test_kernels_i8_to_f32_is_exact(void **state)
{
    (void)state;
    static const float scales[] = {1.0f, 0.0f, -1.0f, 0.0078125f, 0.01234567f, 3.5e-5f, 1e30f};
    int8_t in[300 + 3];
    float out[300 + 4];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (int8_t)(uint8_t)(i * 37 + 11);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
                for (size_t off = 0; off < 4; off++) {
                    const int8_t *src = in + (off % 3);
                    float *dst = out + ((off + 1) % 4);
                    dst[n] = GUARD;
                    k->i8_to_f32(dst, src, scales[si], n);
                    for (size_t i = 0; i < n; i++) {
                        float want = (float)((double)scales[si] * src[i]);
                        CHECK(bits(dst[i]) == bits(want), "%s n %zu i %zu: %g vs %g\n", k->name,
                              n, i, (double)dst[i], (double)want);
                    }
                    CHECK(dst[n] == GUARD, "%s n %zu: wrote past the end\n", k->name, n);
                }
            }
        }
    }
}

/* ---- scans -------------------------------------------------------------- */

enum { ROW_F32, ROW_F16, ROW_BF16, ROW_I8 };

static const size_t scan_rows[] = {0, 1, 2, 3, 4, 5, 7, 17};
static const size_t scan_dims[] = {0,  1,  2,  3,  7,  8,  15,  16,  17,  31,  32,
                                   33, 48, 50, 64, 65, 100, 127, 300, 768, 769, 1536};

static void check_scan(int type, int l2, int exact)
{
    rng_seed(4000 + (uint64_t)type * 10 + (uint64_t)l2 * 2 + (uint64_t)exact);
    size_t esz = type == ROW_F32 ? 4 : type == ROW_I8 ? 1 : 2;
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t di = 0; di < sizeof scan_dims / sizeof scan_dims[0]; di++) {
            for (size_t ri = 0; ri < sizeof scan_rows / sizeof scan_rows[0]; ri++) {
                size_t dim = scan_dims[di], n_rows = scan_rows[ri], total = dim * n_rows;
                size_t off = (di + ri) % 4, off_q = (di + ri + 1) % 4;
                void *rows = buf_new(total, off, esz);
                float *wide = malloc(total * sizeof *wide + 1); /* rows as f32 */
                float *q = buf_new(dim, off_q, 4);
                float *out = buf_new(n_rows + 1, 0, 4);
                assert_non_null(wide);
                fill(q, dim, exact);
                fill(wide, total, exact);
                if (type == ROW_F16) { /* exact values survive the round trip */
                    emb_kernels_serial.f32_to_f16(rows, wide, total);
                    emb_kernels_serial.f16_to_f32(wide, rows, total);
                } else if (type == ROW_BF16) {
                    emb_kernels_serial.f32_to_bf16(rows, wide, total);
                    emb_kernels_serial.bf16_to_f32(wide, rows, total);
                } else if (type == ROW_I8) {
                    int8_t *r8 = rows;
                    for (size_t i = 0; i < total; i++) {
                        r8[i] = (int8_t)(uint8_t)rng_next();
                        wide[i] = r8[i];
                    }
                } else {
                    memcpy(rows, wide, total * sizeof *wide);
                }
                out[n_rows] = GUARD;
                if (type == ROW_F32)
                    (l2 ? k->scan_l2sq_f32 : k->scan_dot_f32)(out, q, rows, n_rows, dim);
                else if (type == ROW_F16)
                    (l2 ? k->scan_l2sq_f16 : k->scan_dot_f16)(out, q, rows, n_rows, dim);
                else if (type == ROW_BF16)
                    (l2 ? k->scan_l2sq_bf16 : k->scan_dot_bf16)(out, q, rows, n_rows, dim);
                else
                    k->scan_dot_i8(out, q, rows, n_rows, dim);
                for (size_t r = 0; r < n_rows; r++) {
                    double mag, want;
                    want = ref_dot(q, wide + r * dim, dim, &mag);
                    if (l2)
                        want = mag = ref_l2sq(q, wide + r * dim, dim);
                    /* i8 "exact" sums reach 2^14 * 2^3 ulps: still exact */
                    double err = fabs(out[r] - want), tol = tol_for(dim, mag, exact);
                    CHECK(err <= tol,
                          "%s type %d l2 %d exact %d dim %zu rows %zu r %zu: %.9g vs %.9g\n",
                          k->name, type, l2, exact, dim, n_rows, r, (double)out[r], want);
                }
                CHECK(out[n_rows] == GUARD, "%s scan type %d: wrote past the end\n", k->name, type);
                buf_free(rows, off, esz);
                buf_free(q, off_q, 4);
                buf_free(out, 0, 4);
                free(wide);
            }
        }
    }
}

#define SCAN_TEST(name, type, l2)                                                              \
    static void name(void **state)                                                             \
    {                                                                                          \
        (void)state;                                                                           \
        check_scan(type, l2, 1);                                                               \
        check_scan(type, l2, 0);                                                               \
    }

/* Multi-query scan: every (row, query) cell against the double reference,
 * n_q 0..9 and 64 (edge tiles of every shape), every scan dim, rows 0..17;
 * queries and rows start at odd offsets; the guard after out must stay. */
static const size_t multi_queries[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64};

static void check_scan_multi(int exact)
{
    rng_seed(5000 + (uint64_t)exact);
    for (const emb_kernels *const *kp = emb_kernels_all(); *kp; kp++) {
        const emb_kernels *k = *kp;
        for (size_t di = 0; di < sizeof scan_dims / sizeof scan_dims[0]; di++) {
            for (size_t ri = 0; ri < sizeof scan_rows / sizeof scan_rows[0]; ri++) {
                for (size_t qi = 0; qi < sizeof multi_queries / sizeof multi_queries[0]; qi++) {
                    size_t dim = scan_dims[di], n_rows = scan_rows[ri], n_q = multi_queries[qi];
                    if (n_q == 64 && dim > 300 && n_rows > 5)
                        continue; /* keep the sanitizer run short */
                    size_t off = (di + ri + qi) % 4, off_q = (di + ri + qi + 1) % 4;
                    size_t n_out = n_rows * n_q;
                    float *rows = buf_new(dim * n_rows, off, 4);
                    float *q = buf_new(dim * n_q, off_q, 4);
                    float *out = buf_new(n_out + 1, 0, 4);
                    fill(rows, dim * n_rows, exact);
                    fill(q, dim * n_q, exact);
                    for (size_t i = 0; i < n_out; i++)
                        out[i] = NAN;
                    out[n_out] = GUARD;
                    k->scan_dot_f32_multi(out, q, n_q, rows, n_rows, dim);
                    for (size_t r = 0; r < n_rows; r++) {
                        for (size_t j = 0; j < n_q; j++) {
                            double mag, want = ref_dot(q + j * dim, rows + r * dim, dim, &mag);
                            double got = out[r * n_q + j];
                            double err = fabs(got - want), tol = tol_for(dim, mag, exact);
                            CHECK(err <= tol,
                                  "%s multi exact %d dim %zu rows %zu n_q %zu r %zu j %zu: "
                                  "%.9g vs %.9g\n",
                                  k->name, exact, dim, n_rows, n_q, r, j, got, want);
                        }
                    }
                    CHECK(out[n_out] == GUARD, "%s multi: wrote past the end\n", k->name);
                    buf_free(rows, off, 4);
                    buf_free(q, off_q, 4);
                    buf_free(out, 0, 4);
                }
            }
        }
    }
}

static void test_kernels_scan_dot_f32_multi_matches_reference(void **state)
{
    (void)state;
    check_scan_multi(1);
    check_scan_multi(0);
}

SCAN_TEST(test_kernels_scan_dot_f32_matches_reference, ROW_F32, 0)
SCAN_TEST(test_kernels_scan_l2sq_f32_matches_reference, ROW_F32, 1)
SCAN_TEST(test_kernels_scan_dot_f16_matches_reference, ROW_F16, 0)
SCAN_TEST(test_kernels_scan_l2sq_f16_matches_reference, ROW_F16, 1)
SCAN_TEST(test_kernels_scan_dot_bf16_matches_reference, ROW_BF16, 0)
SCAN_TEST(test_kernels_scan_l2sq_bf16_matches_reference, ROW_BF16, 1)
SCAN_TEST(test_kernels_scan_dot_i8_matches_reference, ROW_I8, 0)

int main(void)
{
    printf("kernel sets:");
    for (const emb_kernels *const *k = emb_kernels_all(); *k; k++)
        printf(" %s", (*k)->name);
    printf(" (active: %s)\n", emb_kernels_get()->name);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_find_by_name),
        cmocka_unit_test(test_kernels_tables_complete),
        cmocka_unit_test(test_kernels_dot_matches_reference),
        cmocka_unit_test(test_kernels_l2sq_matches_reference),
        cmocka_unit_test(test_kernels_norm_matches_reference),
        cmocka_unit_test(test_kernels_dot_norms_matches_reference),
        cmocka_unit_test(test_kernels_reductions_propagate_nan),
        cmocka_unit_test(test_kernels_add_is_exact),
        cmocka_unit_test(test_kernels_sub_is_exact),
        cmocka_unit_test(test_kernels_scale_is_exact),
        cmocka_unit_test(test_kernels_axpy_matches_reference),
        cmocka_unit_test(test_kernels_f16_to_f32_all_patterns),
        cmocka_unit_test(test_kernels_bf16_to_f32_all_patterns),
        cmocka_unit_test(test_kernels_f32_to_f16_matches_serial),
        cmocka_unit_test(test_kernels_f32_to_bf16_matches_serial),
        cmocka_unit_test(test_kernels_i8_to_f32_is_exact),
        cmocka_unit_test(test_kernels_scan_dot_f32_matches_reference),
        cmocka_unit_test(test_kernels_scan_l2sq_f32_matches_reference),
        cmocka_unit_test(test_kernels_scan_dot_f16_matches_reference),
        cmocka_unit_test(test_kernels_scan_l2sq_f16_matches_reference),
        cmocka_unit_test(test_kernels_scan_dot_bf16_matches_reference),
        cmocka_unit_test(test_kernels_scan_l2sq_bf16_matches_reference),
        cmocka_unit_test(test_kernels_scan_dot_i8_matches_reference),
        cmocka_unit_test(test_kernels_scan_dot_f32_multi_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
