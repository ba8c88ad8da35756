/*
 * parsefloat.c - decimal to float32, exact fast path + strtof fallback.
 *
 * The digits are gathered into w (at most 19 significant digits) with a
 * decimal exponent e, value = w * 10^e.  Fast path (Clinger's idea, adapted
 * for a float32 result computed through double):
 *   - w <= 2^53 and e >= 0 and w * 10^e <= 2^53: the product is an exact
 *     integer in double; converting it to float rounds once -> correct.
 *   - w <= 2^53 and -8 <= e < 0: q = w / 10^k is rounded once to double,
 *     then to float.  Double rounding could only go wrong if q were within
 *     half a double ulp (2^-53 relative) of a float midpoint m = M * 2^j
 *     (M < 2^25) without being equal to it; but q - m is a multiple of
 *     1 / (10^k 2^-j), so |q - m| / m >= 1 / (10^k M) > 2^-52 when
 *     10^k <= 10^8.  So the double lands on the same side of every float
 *     midpoint as q and the float result is correctly rounded.
 * Everything else (more digits, large exponents) is copied to a small
 * buffer and parsed by strtof_l in the C locale, so results equal strtof
 * (C locale) bit for bit.
 */
#include "readers/parsefloat.h"
#include "core/alloc.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* strtof in the "C" locale, whatever LC_NUMERIC the host program set (a
 * German locale would otherwise stop at the '.').  Falls back to strtof
 * if the locale object cannot be made. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static float strtof_c(const char *s)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? strtof_l(s, NULL, c_locale) : strtof(s, NULL);
}

static const double pow10d[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

#define TWO53 (UINT64_C(1) << 53)

/* Accumulate a run of decimal digits into the significand w: the first 19
 * significant digits are kept (nd counts them; a fraction digit kept also
 * lowers the exponent e10), later ones only raise e10 (integer part) and set
 * inexact when non-zero. */
static inline const char *take_digits(const char *p, const char *end, int frac, uint64_t *w,
                                      int *nd, long *e10, int *inexact, int *any)
{
    while (p < end && (unsigned)(*p - '0') < 10) {
        unsigned d = (unsigned)(*p - '0');
        *any = 1;
        if (*nd < 19) {
            if (*w || d) {
                *w = *w * 10 + d;
                (*nd)++;
            }
            *e10 -= frac;
        } else {
            *e10 += !frac;
            *inexact |= d != 0;
        }
        p++;
    }
    return p;
}

const char *emb_parse_f32(const char *p, const char *end, float *out)
{
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t w = 0;
    int nd = 0, any = 0, inexact = 0;
    long e10 = 0;
    p = take_digits(p, end, 0, &w, &nd, &e10, &inexact, &any);
    if (p < end && *p == '.')
        p = take_digits(p + 1, end, 1, &w, &nd, &e10, &inexact, &any);
    if (!any)
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= end || (unsigned)(*p - '0') >= 10)
            return NULL;
        long x = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (x < 100000)
                x = x * 10 + (*p - '0');
            p++;
        }
        e10 += eneg ? -x : x;
    }
    if (w == 0 && !inexact) {
        *out = neg ? -0.0f : 0.0f;
        return p;
    }
    if (!inexact && w <= TWO53) {
        double d;
        int fast = 0;
        if (e10 >= 0 && e10 <= 15 && w <= TWO53 / (uint64_t)pow10d[e10]) {
            d = (double)w * pow10d[e10];
            fast = 1;
        } else if (e10 < 0 && e10 >= -8) {
            d = (double)w / pow10d[-e10];
            fast = 1;
        }
        if (fast) {
            float f = (float)d;
            *out = neg ? -f : f;
            return p;
        }
    }
    char buf[256];
    size_t len = (size_t)(p - start);
    if (len < sizeof buf) {
        memcpy(buf, start, len);
        buf[len] = 0;
        *out = strtof_c(buf);
    } else {
        char *big = emb_malloc(len + 1);
        if (!big)
            return NULL;
        memcpy(big, start, len);
        big[len] = 0;
        *out = strtof_c(big);
        emb_free(big);
    }
    return p;
}
