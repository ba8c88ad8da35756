/*
 * sketch_round.h - directed float rounding shared by the sketch's encoding
 * (sketch.c) and its bounds (sketch_search.c).  Internal to src/search.
 */
#ifndef EMB_SKETCH_ROUND_H
#define EMB_SKETCH_ROUND_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The next float above f (f not NaN, not +inf), by its bits. */
static inline float next_up(float f)
{
    if (f == 0)
        return 0x1p-149f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = f > 0 ? u + 1 : u - 1;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* v (a double) rounded to a float toward +inf / -inf. */
static inline float f_up(double v)
{
    float f = (float)v;
    return (double)f < v ? next_up(f) : f;
}

static inline float f_down(double v)
{
    float f = (float)v;
    return (double)f > v ? -next_up(-f) : f;
}

/* R of the header comment: relative error cover of a d-term double sum. */
static inline double rel_err(size_t d)
{
    return (double)(d + 16) * 0x1p-52;
}

#endif
