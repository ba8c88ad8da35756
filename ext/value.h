/*
 * value.h - SQL value <-> vector conversion and argument checks.
 *
 * A vector in SQL is a BLOB of little-endian float32 (length 4*dim, the
 * sqlite-vec / libSQL F32_BLOB format) or JSON text '[1, 2.5, -3e-1]'.
 */
#ifndef EMB_VALUE_H
#define EMB_VALUE_H

#include "embext.h"

/* A vector argument.  `v` is borrowed from the sqlite3_value when the blob is
 * suitably aligned (valid until the value changes), otherwise a copy that
 * embVecFree releases. */
typedef struct EmbVec {
    const float *v;
    int dim;
    float *owned; /* sqlite3_malloc'd copy, or NULL */
} EmbVec;

/* Decode `arg` as a vector.  Returns SQLITE_OK (filled *out), SQLITE_DONE
 * when arg is NULL (out untouched), or an error code with *pzErr set to a
 * sqlite3_malloc'd message "<zFunc>: <what>" (SQLITE_NOMEM: *pzErr NULL). */
int embVecFromValue(sqlite3_value *arg, const char *zFunc, EmbVec *out, char **pzErr);

/* Same for scalar functions: on error the error is already reported on ctx.
 * Returns 1 = vector in *out, 0 = NULL argument, -1 = error reported. */
int embArgVec(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg, EmbVec *out);

void embVecFree(EmbVec *v);

/* For a dimension-mismatch message: when arg is a blob of 8 * dim bytes (a
 * float64 vector of the expected dim), a hint on how to convert it;
 * otherwise "".  Static text. */
const char *embFloat64Hint(sqlite3_value *arg, int dim);

/* sqlite-vec's value subtypes (vec_f32 / vec_bit / vec_int8 results). */
#define EMB_SUBTYPE_VEC_F32 223
#define EMB_SUBTYPE_VEC_BIT 224
#define EMB_SUBTYPE_VEC_INT8 225

/* Result an f32 vector (copied). */
void embResultVec(sqlite3_context *ctx, const float *v, int dim);
/* Result an f32 vector allocated with sqlite3_malloc (ownership passes). */
void embResultVecOwned(sqlite3_context *ctx, float *v, int dim);

/* printf-style error on ctx: embResultError(ctx, "emb_add: dimension mismatch (%d vs %d)", a, b). */
void embResultError(sqlite3_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read an integer or real argument as double; returns 0 ok, -1 error
 * reported on ctx ("<zFunc>: <zWhat> must be a number (found text)"). */
int embArgDouble(sqlite3_context *ctx, const char *zFunc, const char *zWhat, sqlite3_value *arg,
                 double *out);

/* Name of a value's storage type, for messages: "integer", "text", ... */
const char *embTypeName(int eType);

#endif
