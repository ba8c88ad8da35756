/*
 * value.c - decoding vector arguments and returning vector results.
 *
 *   .load ./embext
 *   select emb_json(emb_vec('[1, 2.5, -3e-1]'));   -- [1,2.5,-0.3]
 *
 * Parameters (what every vector argument of every function accepts): an f32
 * BLOB (little-endian, 4 bytes per element) or JSON text '[1, 2.5, ...]',
 * 1 .. EMB_MAX_DIM elements; NULL is passed to the caller as "NULL result".
 *
 * How it works: a BLOB argument must have a length that is a positive multiple of 4 and
 * at most 4*EMB_MAX_DIM; it is used in place when 4-byte aligned (SQLite
 * usually hands out aligned buffers) and copied otherwise.  TEXT arguments
 * are parsed as strict JSON arrays (src/core/vectext.c).  Other types are errors.
 */
#include "value.h"
#include "core/alloc.h"

#include "core/vectext.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *embTypeName(int eType)
{
    switch (eType) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
    default: return "null";
    }
}

int embVecFromValue(sqlite3_value *arg, const char *zFunc, EmbVec *out, char **pzErr)
{
    int eType = sqlite3_value_type(arg);
    *pzErr = NULL;
    if (eType == SQLITE_NULL)
        return SQLITE_DONE;
    if (eType == SQLITE_BLOB) {
        const void *p = sqlite3_value_blob(arg);
        int n = sqlite3_value_bytes(arg);
        unsigned sub = sqlite3_value_subtype(arg);
        if (sub == EMB_SUBTYPE_VEC_BIT) {
            *pzErr = sqlite3_mprintf("%s: found a sqlite-vec bit vector (vec_bit, %d bits); "
                                     "expected float32 (an f32 blob, vec_f32() or JSON text)",
                                     zFunc, n * 8);
            return SQLITE_ERROR;
        }
        if (sub == EMB_SUBTYPE_VEC_INT8) { /* sqlite-vec vec_int8(): one int8 per element */
            if (n == 0 || n > EMB_MAX_DIM) {
                *pzErr = sqlite3_mprintf("%s: sqlite-vec int8 vector of %d elements (expected 1 .. %d)",
                                         zFunc, n, EMB_MAX_DIM);
                return SQLITE_ERROR;
            }
            float *f = sqlite3_malloc64((sqlite3_uint64)n * sizeof *f);
            if (!f)
                return SQLITE_NOMEM;
            for (int i = 0; i < n; i++)
                f[i] = (float)((const signed char *)p)[i];
            out->v = out->owned = f;
            out->dim = n;
            return SQLITE_OK;
        }
        if (n == 0 || n % 4 != 0) {
            *pzErr = sqlite3_mprintf("%s: blob length %d is not a %smultiple of 4", zFunc, n,
                                     n == 0 ? "positive " : "");
            return SQLITE_ERROR;
        }
        if (n / 4 > EMB_MAX_DIM) {
            *pzErr = sqlite3_mprintf("%s: vector dimension %d exceeds the limit %d", zFunc, n / 4,
                                     EMB_MAX_DIM);
            return SQLITE_ERROR;
        }
        out->dim = n / 4;
        if (((uintptr_t)p & 3u) == 0) {
            out->v = p;
            out->owned = NULL;
        } else {
            float *copy = sqlite3_malloc(n);
            if (!copy)
                return SQLITE_NOMEM;
            memcpy(copy, p, (size_t)n);
            out->v = out->owned = copy;
        }
        return SQLITE_OK;
    }
    if (eType == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(arg);
        int n = sqlite3_value_bytes(arg);
        float *v;
        size_t dim;
        emb_err err;
        if (!s)
            return SQLITE_NOMEM;
        int rc = emb_json_parse(s, (size_t)n, &v, &dim, &err);
        if (rc == EMB_ENOMEM)
            return SQLITE_NOMEM;
        if (rc != EMB_OK) {
            *pzErr = sqlite3_mprintf("%s: invalid JSON vector: %s", zFunc, err.msg);
            return SQLITE_ERROR;
        }
        if (dim == 0) { /* unreachable: the grammar needs one number */
            emb_free(v);
            *pzErr = sqlite3_mprintf("%s: empty vector", zFunc);
            return SQLITE_ERROR;
        }
        float *copy = sqlite3_malloc64(dim * sizeof *copy);
        if (!copy) {
            emb_free(v);
            return SQLITE_NOMEM;
        }
        memcpy(copy, v, dim * sizeof *copy);
        emb_free(v);
        out->v = out->owned = copy;
        out->dim = (int)dim;
        return SQLITE_OK;
    }
    *pzErr = sqlite3_mprintf("%s: expected a vector (f32 blob or JSON text), found %s", zFunc,
                             embTypeName(eType));
    return SQLITE_ERROR;
}

int embArgVec(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg, EmbVec *out)
{
    char *zErr = NULL;
    int rc = embVecFromValue(arg, zFunc, out, &zErr);
    if (rc == SQLITE_OK)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_NOMEM || !zErr)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
    return -1;
}

void embVecFree(EmbVec *v)
{
    if (v) {
        sqlite3_free(v->owned);
        v->owned = NULL;
        v->v = NULL;
    }
}

const char *embFloat64Hint(sqlite3_value *arg, int dim)
{
    if (arg && sqlite3_value_type(arg) == SQLITE_BLOB && dim > 0 &&
        sqlite3_value_subtype(arg) == 0 && (sqlite3_int64)sqlite3_value_bytes(arg) == 8 * (sqlite3_int64)dim)
        return " (the blob has 8 bytes per value: it looks like float64; convert it to float32, "
               "e.g. numpy v.astype(np.float32).tobytes() or new Float32Array(values))";
    return "";
}

void embResultVec(sqlite3_context *ctx, const float *v, int dim)
{
    sqlite3_result_blob(ctx, v, dim * 4, SQLITE_TRANSIENT);
}

void embResultVecOwned(sqlite3_context *ctx, float *v, int dim)
{
    sqlite3_result_blob(ctx, v, dim * 4, sqlite3_free);
}

void embResultError(sqlite3_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *z = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (!z) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
}

int embArgDouble(sqlite3_context *ctx, const char *zFunc, const char *zWhat, sqlite3_value *arg,
                 double *out)
{
    int eType = sqlite3_value_numeric_type(arg);
    if (eType != SQLITE_INTEGER && eType != SQLITE_FLOAT) {
        embResultError(ctx, "%s: %s must be a number (found %s)", zFunc, zWhat,
                       embTypeName(sqlite3_value_type(arg)));
        return -1;
    }
    *out = sqlite3_value_double(arg);
    return 0;
}
