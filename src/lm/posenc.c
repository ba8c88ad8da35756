/* posenc.c - sinusoidal and rotary positional encodings (see posenc.h). */
#include "lm/posenc.h"

#include <math.h>
#include <string.h>

/* pos / base^(2i/dim) for pair index i. */
static double angle(double pos, double base, size_t i, size_t dim)
{
    return pos * pow(base, -(2.0 * (double)i) / (double)dim);
}

void emb_pe_sinusoidal(float *out, size_t dim, double pos, double base)
{
    for (size_t j = 0; j < dim; j += 2) {
        double a = angle(pos, base, j / 2, dim);
        out[j] = (float)sin(a);
        if (j + 1 < dim)
            out[j + 1] = (float)cos(a);
    }
}

void emb_pe_add(float *v, size_t dim, double pos, double base)
{
    for (size_t j = 0; j < dim; j += 2) {
        double a = angle(pos, base, j / 2, dim);
        v[j] = (float)((double)v[j] + sin(a));
        if (j + 1 < dim)
            v[j + 1] = (float)((double)v[j + 1] + cos(a));
    }
}

int emb_rope_apply(float *v, size_t dim, double pos, double base, int style, emb_err *err)
{
    if (dim % 2 != 0)
        return emb_err_set(err, EMB_EINVAL, "rope: dimension must be even (found %zu)", dim);
    if (style != EMB_ROPE_NEOX && style != EMB_ROPE_GPTJ)
        return emb_err_set(err, EMB_EINVAL, "rope: unknown style %d", style);
    size_t half = dim / 2;
    for (size_t i = 0; i < half; i++) {
        double a = angle(pos, base, i, dim), c = cos(a), s = sin(a);
        size_t p = style == EMB_ROPE_NEOX ? i : 2 * i;
        size_t q = style == EMB_ROPE_NEOX ? i + half : 2 * i + 1;
        double x = v[p], y = v[q];
        v[p] = (float)(x * c - y * s);
        v[q] = (float)(y * c + x * s);
    }
    return EMB_OK;
}

int emb_rope_style_parse(const char *name)
{
    if (strcmp(name, "neox") == 0)
        return EMB_ROPE_NEOX;
    if (strcmp(name, "gptj") == 0)
        return EMB_ROPE_GPTJ;
    return -1;
}
