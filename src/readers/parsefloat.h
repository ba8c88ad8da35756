/*
 * parsefloat.h - fast decimal -> float32 parsing for the text readers.
 *
 * Grammar: [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits].
 * No hex, inf or nan.  The result equals strtof() on the same text bit for
 * bit: an exact fast path covers the common case, the rest goes to strtof.
 * Ownership: the text is borrowed for the call and nothing is kept; the
 * strtof fallback copies the number to the stack, or (longer than 255
 * bytes) to a temporary heap buffer; if that allocation fails the result
 * is NULL, as for "not a number".
 */
#ifndef EMB_PARSEFLOAT_H
#define EMB_PARSEFLOAT_H

/* Parse a number at p (not beyond end).  Returns the first byte after it,
 * or NULL if p does not start with a number.  Out of float range gives
 * +-inf in *out (the caller decides); underflow gives 0 or a subnormal. */
const char *emb_parse_f32(const char *p, const char *end, float *out);

#endif
