/*
 * posenc.h - positional encodings: sinusoidal ("Attention Is All You Need")
 * and rotary (RoPE).  Computed in double, stored as float.
 *
 * Sinusoidal: PE(pos, 2i) = sin(pos / base^(2i/dim)),
 *             PE(pos, 2i+1) = cos(pos / base^(2i/dim)).
 * For odd dim the last element (index dim-1, even) is the sine term of
 * i = (dim-1)/2 and has no cosine partner.
 *
 * Rotary: theta_i = pos * base^(-2i/dim), i = 0 .. dim/2-1, rotating pairs
 *   neox (HF LLaMA, rotate-half): (x[i], x[i + dim/2])
 *   gptj (original LLaMA / GPT-J): (x[2i], x[2i+1])
 *   (a, b) -> (a cos - b sin, b cos + a sin).  dim must be even.
 */
#ifndef EMB_POSENC_H
#define EMB_POSENC_H

#include "core/emb.h"

#include <stddef.h>

#define EMB_PE_BASE 10000.0

enum { EMB_ROPE_NEOX = 0, EMB_ROPE_GPTJ = 1 };

/* out[0..dim) = PE(pos). */
void emb_pe_sinusoidal(float *out, size_t dim, double pos, double base);
/* v += PE(pos). */
void emb_pe_add(float *v, size_t dim, double pos, double base);
/* Rotate v in place.  EMB_EINVAL for odd dim or an unknown style. */
int emb_rope_apply(float *v, size_t dim, double pos, double base, int style, emb_err *err);
/* "neox" / "gptj" -> EMB_ROPE_*, -1 if unknown. */
int emb_rope_style_parse(const char *name);

#endif
