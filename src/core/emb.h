/*
 * emb.h - status codes and the error struct shared by the whole core (src/).
 *
 * Core functions that can fail return 0 (EMB_OK) or one of the negative codes
 * below, and fill an optional caller-provided emb_err with a message shaped
 * "<component>: <what> (<expected> vs <found>)".  Filling the message never
 * allocates; the core never prints, aborts or asserts on input.
 *
 * Ownership conventions of every src/ header: pointer arguments are borrowed
 * for the call unless the header says a function keeps or copies them;
 * results from _new/_open are owned by the caller and released with the
 * matching _free/_close (which accept NULL); out-parameters are written
 * only on success.  Heap memory comes from core/alloc.h: "malloc'd" in a
 * header means emb_malloc'd, released with emb_free.
 */
#ifndef EMB_H
#define EMB_H

#include <stddef.h>
#include <stdint.h>

/* The release, from the VERSION file (the Makefile passes -DEMB_VERSION). */
#ifndef EMB_VERSION
#define EMB_VERSION "0.0.0-unversioned"
#endif

/* Largest vector dimension accepted anywhere (protects against absurd
 * allocations from a bad argument or a corrupt file). */
#define EMB_MAX_DIM 65536

enum {
    EMB_OK = 0,
    EMB_EINVAL = -1,    /* bad argument or malformed value */
    EMB_ENOMEM = -2,    /* allocation failed */
    EMB_EIO = -3,       /* open/read/stat failed */
    EMB_EFORMAT = -4,   /* file or text does not follow its format */
    EMB_ERANGE = -5,    /* a size or offset out of range / overflow */
    EMB_EUNSUP = -6,    /* valid but unsupported (dtype, version, order) */
    EMB_ENOTFOUND = -7, /* named thing (tensor, token) not present */
    EMB_DONE = 1        /* iterators: no more rows (not an error) */
};

typedef struct emb_err {
    int code;
    char msg[512];
} emb_err;

/* Store code and a printf-style message in *err (err may be NULL).
 * Returns code, so callers can write `return emb_err_set(err, EMB_EINVAL, ...)`. */
int emb_err_set(emb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a status code ("invalid argument", ...). */
const char *emb_status_name(int code);

/* Overflow-checked size arithmetic: return 0 and store the result, or
 * return EMB_ERANGE and leave *out untouched. */
int emb_mul_size(size_t a, size_t b, size_t *out);
int emb_add_size(size_t a, size_t b, size_t *out);

#endif
