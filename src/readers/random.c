/*
 * random.c - emb_random: reproducible N(0, std^2) rows.
 *
 * Generator: xoshiro256** (Blackman & Vigna) with its state filled by
 * splitmix64 from the 64-bit seed.  Uniforms: the top 53 bits of a draw
 * scaled to [0, 1), mapped to (-1, 1) as 2u - 1.  Normals: the Marsaglia
 * polar method (pairs; the second value of a pair is kept for the next
 * call).  Only integer operations, IEEE double +, -, *, / , log and sqrt
 * are used; sqrt is exact and glibc's log is correctly rounded in practice,
 * so the same seed gives the same floats on every x86-64 / aarch64 machine.
 * Values are (float)(std * z), rows are generated in order, token is NULL.
 */
#include "readers/read_common.h"
#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double normal(emb_reader *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    for (;;) {
        double u = 2.0 * ((double)(xoshiro_next(r->s) >> 11) * 0x1.0p-53) - 1.0;
        double v = 2.0 * ((double)(xoshiro_next(r->s) >> 11) * 0x1.0p-53) - 1.0;
        double s = u * u + v * v;
        if (s >= 1.0 || s == 0.0)
            continue;
        double m = sqrt(-2.0 * log(s) / s);
        r->spare = v * m;
        r->has_spare = 1;
        return u * m;
    }
}

static int random_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    (void)err;
    if (r->row_id >= r->rows)
        return EMB_DONE;
    for (size_t i = 0; i < r->dim; i++)
        r->row[i] = (float)(r->std * normal(r));
    *tok = NULL;
    *tok_len = 0;
    return EMB_OK;
}

int emb_random_open(int64_t rows, int64_t dim, uint64_t seed, double std, emb_reader **out,
                    emb_err *err)
{
    if (rows < 0)
        return emb_err_set(err, EMB_EINVAL, "random: rows must be >= 0 (found %lld)",
                           (long long)rows);
    if (dim < 1 || dim > EMB_MAX_DIM)
        return emb_err_set(err, EMB_ERANGE, "random: dim out of range (1..%d vs %lld)",
                           EMB_MAX_DIM, (long long)dim);
    if (rows > EMB_RANDOM_MAX_ROWS)
        return emb_err_set(err, EMB_ERANGE, "random: rows out of range (0..%lld vs %lld)",
                           (long long)EMB_RANDOM_MAX_ROWS, (long long)rows);
    if (rows * dim > EMB_RANDOM_MAX_VALUES)
        return emb_err_set(err, EMB_ERANGE, "random: rows * dim too large (%lld vs %lld)",
                           (long long)EMB_RANDOM_MAX_VALUES, (long long)(rows * dim));
    if (!(std >= 0.0) || isinf(std))
        return emb_err_set(err, EMB_EINVAL, "random: std must be a finite number >= 0 (found %g)",
                           std);
    emb_reader *r = emb_rd_new(EMB_READ_RANDOM, "random");
    if (!r)
        return emb_err_set(err, EMB_ENOMEM, "random: out of memory");
    r->rows = rows;
    r->dim = (size_t)dim;
    r->std = std;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->next = random_next;
    r->row = emb_malloc(r->dim * sizeof(float));
    if (!r->row) {
        emb_reader_free(r);
        return emb_err_set(err, EMB_ENOMEM, "random: out of memory");
    }
    *out = r;
    return EMB_OK;
}
