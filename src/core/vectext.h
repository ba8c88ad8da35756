/*
 * vectext.h - vectors as JSON text: a strict parser and an exact printer.
 *
 * Grammar accepted (RFC 8259 numbers only): optional whitespace, '[', one or
 * more numbers separated by ',', ']', optional whitespace.  Numbers must be
 * finite in float32 ('1e39' is rejected, as are nan/inf/hex/leading '+').
 */
#ifndef EMB_VECTEXT_H
#define EMB_VECTEXT_H

#include "core/emb.h"

#include <stddef.h>

/* Parse text[0..n) into a malloc'd float array (*out, caller frees) of
 * *dim elements.  On error returns EMB_EINVAL (or EMB_ENOMEM / EMB_ERANGE for
 * more than EMB_MAX_DIM values) with a message "<what> at offset <i>" and
 * leaves *out untouched. */
int emb_json_parse(const char *text, size_t n, float **out, size_t *dim, emb_err *err);

/* Write the shortest decimal that reads back as exactly f (float32) into
 * buf (room for 32 bytes), NUL-terminated; returns its length.  f must be
 * finite. */
int emb_float_format(char *buf, float f);

/* Format v as "[a,b,...]" into a malloc'd string (caller frees); NULL on
 * out of memory. */
char *emb_json_format(const float *v, size_t dim);

#endif
