/*
 * fn_vec.c - scalar and aggregate vector functions.
 *
 *   .load ./embext
 *   select emb_l2('[0,0]', '[3,4]');                          -- 5.0
 *   select emb_json(emb_add(emb_sub(:king, :man), :woman));   -- analogy arithmetic
 *   select emb_json(emb_avg(vector)) from wte where token_id in (1, 2, 3);
 *
 * Functions (vectors are f32 BLOBs or JSON text; results are f32 BLOBs):
 *   emb_vec(x)              validated f32 blob (rejects NaN/inf elements)
 *   emb_json(v)             JSON text, shortest exact float32 digits
 *   emb_dims(v)             number of elements
 *   emb_version(), emb_isa()
 *   emb_dot(a,b)            sum a_i b_i
 *   emb_cosine(a,b)         dot / (|a| |b|) in [-1, 1]; 0 when either is zero
 *   emb_cosine_distance(a,b) 1 - emb_cosine(a,b)
 *   emb_l2(a,b)             Euclidean distance (not squared)
 *   emb_norm(v), emb_normalize(v)  (a zero vector normalises to itself)
 *   emb_add(a,b,...), emb_sub(a,b), emb_scale(v,s)
 *   emb_sum(v), emb_avg(v)  aggregates; NULLs ignored; no rows -> NULL
 *
 * How it works: arguments are decoded by value.c (borrowed blobs, parsed
 * JSON), the arithmetic runs on the active kernel table (src/kernels/kernels.h),
 * aggregates accumulate in double.  emb_cosine reads both vectors once
 * (dot_norms_f32: the three sums in one pass) and divides in double.
 * NULL in any argument gives NULL.
 */
#include "embext.h"
#include "core/alloc.h"
#include "value.h"
#include "core/vectext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const emb_kernels *kern(void)
{
    return emb_kernels_get();
}

/* Decode one vector argument: a NULL argument makes the result NULL.
 * Returns 1 ok (free *a), 0 NULL result already set, -1 error reported. */
static int one_vec(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg, EmbVec *a)
{
    int r = embArgVec(ctx, zFunc, arg, a);
    if (r == 0)
        sqlite3_result_null(ctx);
    return r;
}

/* Decode two vector arguments of equal dimension.
 * Returns 1 ok, 0 NULL result already set, -1 error reported. */
static int two_vecs(sqlite3_context *ctx, const char *zFunc, sqlite3_value **argv, EmbVec *a,
                    EmbVec *b)
{
    int ra = one_vec(ctx, zFunc, argv[0], a);
    if (ra <= 0)
        return ra;
    int rb = one_vec(ctx, zFunc, argv[1], b);
    if (rb <= 0) {
        embVecFree(a);
        return rb;
    }
    if (a->dim != b->dim) {
        embResultError(ctx, "%s: dimension mismatch: argument 1 has %d values, argument 2 has %d",
                       zFunc, a->dim, b->dim);
        embVecFree(a);
        embVecFree(b);
        return -1;
    }
    return 1;
}

/* A result buffer of dim floats, or NULL with the out-of-memory error set. */
static float *result_buf(sqlite3_context *ctx, int dim)
{
    float *out = sqlite3_malloc64((size_t)dim * sizeof *out);
    if (!out)
        sqlite3_result_error_nomem(ctx);
    return out;
}

/* 0 if every element of a is finite; else reports "<zFunc>: element i is
 * NaN|infinite (<why>)", frees a and returns -1. */
static int reject_nonfinite(sqlite3_context *ctx, const char *zFunc, EmbVec *a, const char *why)
{
    for (int i = 0; i < a->dim; i++) {
        if (!isfinite(a->v[i])) {
            embResultError(ctx, "%s: element %d is %s (%s)", zFunc, i,
                           isnan(a->v[i]) ? "NaN" : "infinite", why);
            embVecFree(a);
            return -1;
        }
    }
    return 0;
}

static void fnVec(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    (void)argc;
    if (one_vec(ctx, "emb_vec", argv[0], &a) <= 0 ||
        reject_nonfinite(ctx, "emb_vec", &a, "expected a finite float") < 0)
        return;
    embResultVec(ctx, a.v, a.dim);
    embVecFree(&a);
}

static void fnJson(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    (void)argc;
    if (one_vec(ctx, "emb_json", argv[0], &a) <= 0 ||
        reject_nonfinite(ctx, "emb_json", &a, "JSON has no such number") < 0)
        return;
    char *s = emb_json_format(a.v, (size_t)a.dim);
    embVecFree(&a);
    if (!s) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text(ctx, s, -1, SQLITE_TRANSIENT);
    emb_free(s);
}

static void fnDims(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    (void)argc;
    if (one_vec(ctx, "emb_dims", argv[0], &a) <= 0)
        return;
    sqlite3_result_int(ctx, a.dim);
    embVecFree(&a);
}

static void fnVersion(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, EMB_VERSION, -1, SQLITE_STATIC);
}

static void fnIsa(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, kern()->name, -1, SQLITE_STATIC);
}

/* One pass over both vectors (dot_norms_f32); the three float sums are
 * combined in double, where the product aa * bb of two finite floats can
 * neither overflow nor underflow. */
static double cosine(const float *a, const float *b, int dim)
{
    float dot, aa, bb;
    kern()->dot_norms_f32(a, b, (size_t)dim, &dot, &aa, &bb);
    if (aa == 0 || bb == 0)
        return 0.0;
    double c = (double)dot / sqrt((double)aa * (double)bb);
    return c > 1 ? 1 : c < -1 ? -1 : c;
}

/* emb_dot, emb_cosine, emb_cosine_distance, emb_l2: user data picks which. */
enum { OP_DOT, OP_COS, OP_COSDIST, OP_L2 };
static const char *const pair_names[] = {"emb_dot", "emb_cosine", "emb_cosine_distance", "emb_l2"};

static void fnPair(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int op = (int)(intptr_t)sqlite3_user_data(ctx);
    EmbVec a, b;
    (void)argc;
    if (two_vecs(ctx, pair_names[op], argv, &a, &b) <= 0)
        return;
    double r = 0;
    switch (op) {
    case OP_DOT: r = kern()->dot_f32(a.v, b.v, (size_t)a.dim); break;
    case OP_COS: r = cosine(a.v, b.v, a.dim); break;
    case OP_COSDIST: r = 1.0 - cosine(a.v, b.v, a.dim); break;
    case OP_L2: r = sqrt((double)kern()->l2sq_f32(a.v, b.v, (size_t)a.dim)); break;
    }
    sqlite3_result_double(ctx, r);
    embVecFree(&a);
    embVecFree(&b);
}

static void fnNorm(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    (void)argc;
    if (one_vec(ctx, "emb_norm", argv[0], &a) <= 0)
        return;
    sqlite3_result_double(ctx, kern()->norm_f32(a.v, (size_t)a.dim));
    embVecFree(&a);
}

static void fnNormalize(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    (void)argc;
    if (one_vec(ctx, "emb_normalize", argv[0], &a) <= 0)
        return;
    float *out = result_buf(ctx, a.dim);
    if (!out) {
        embVecFree(&a);
        return;
    }
    float n = kern()->norm_f32(a.v, (size_t)a.dim);
    if (n > 0)
        kern()->scale_f32(out, a.v, 1.0f / n, (size_t)a.dim);
    else
        memcpy(out, a.v, (size_t)a.dim * sizeof *out);
    embVecFree(&a);
    embResultVecOwned(ctx, out, a.dim);
}

static void fnAdd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    if (argc < 2) {
        embResultError(ctx, "emb_add: expected 2 or more vectors (found %d)", argc);
        return;
    }
    if (one_vec(ctx, "emb_add", argv[0], &a) <= 0)
        return;
    int dim = a.dim;
    float *acc = result_buf(ctx, dim);
    if (!acc) {
        embVecFree(&a);
        return;
    }
    memcpy(acc, a.v, (size_t)dim * sizeof *acc);
    embVecFree(&a);
    for (int i = 1; i < argc; i++) {
        EmbVec b;
        if (one_vec(ctx, "emb_add", argv[i], &b) <= 0) {
            sqlite3_free(acc);
            return;
        }
        if (b.dim != dim) {
            embResultError(ctx,
                           "emb_add: dimension mismatch: argument 1 has %d values, argument %d has %d",
                           dim, i + 1, b.dim);
            embVecFree(&b);
            sqlite3_free(acc);
            return;
        }
        kern()->add_f32(acc, acc, b.v, (size_t)dim);
        embVecFree(&b);
    }
    embResultVecOwned(ctx, acc, dim);
}

static void fnSub(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a, b;
    (void)argc;
    if (two_vecs(ctx, "emb_sub", argv, &a, &b) <= 0)
        return;
    float *out = result_buf(ctx, a.dim);
    if (out) {
        kern()->sub_f32(out, a.v, b.v, (size_t)a.dim);
        embResultVecOwned(ctx, out, a.dim);
    }
    embVecFree(&a);
    embVecFree(&b);
}

static void fnScale(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    EmbVec a;
    double s;
    (void)argc;
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    if (embArgDouble(ctx, "emb_scale", "scale factor", argv[1], &s) < 0)
        return;
    if (!isfinite(s)) {
        embResultError(ctx, "emb_scale: scale factor must be finite (found %g)", s);
        return;
    }
    if (one_vec(ctx, "emb_scale", argv[0], &a) <= 0)
        return;
    float *out = result_buf(ctx, a.dim);
    if (out) {
        kern()->scale_f32(out, a.v, (float)s, (size_t)a.dim);
        embResultVecOwned(ctx, out, a.dim);
    }
    embVecFree(&a);
}

/* ---- aggregates: emb_sum / emb_avg ---------------------------------------- */

typedef struct SumState {
    int dim;
    sqlite3_int64 count;
    double *acc;
} SumState;

static void aggStep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *zFunc = sqlite3_user_data(ctx) ? "emb_avg" : "emb_sum";
    SumState *st = sqlite3_aggregate_context(ctx, sizeof *st);
    EmbVec a;
    (void)argc;
    if (!st) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (embArgVec(ctx, zFunc, argv[0], &a) <= 0)
        return; /* NULL ignored; errors already reported */
    if (!st->acc) {
        st->acc = sqlite3_malloc64((size_t)a.dim * sizeof *st->acc);
        if (!st->acc) {
            embVecFree(&a);
            sqlite3_result_error_nomem(ctx);
            return;
        }
        memset(st->acc, 0, (size_t)a.dim * sizeof *st->acc);
        st->dim = a.dim;
    } else if (a.dim != st->dim) {
        embResultError(ctx, "%s: dimension mismatch: this row has %d values, earlier rows have %d",
                       zFunc, a.dim, st->dim);
        embVecFree(&a);
        return;
    }
    for (int i = 0; i < a.dim; i++)
        st->acc[i] += a.v[i];
    st->count++;
    embVecFree(&a);
}

static void aggFinal(sqlite3_context *ctx)
{
    int is_avg = sqlite3_user_data(ctx) != NULL;
    SumState *st = sqlite3_aggregate_context(ctx, 0);
    if (!st || !st->acc || st->count == 0) {
        sqlite3_result_null(ctx);
        if (st)
            sqlite3_free(st->acc);
        return;
    }
    float *out = sqlite3_malloc64((size_t)st->dim * sizeof *out);
    if (!out) {
        sqlite3_free(st->acc);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < st->dim; i++)
        out[i] = (float)(is_avg ? st->acc[i] / (double)st->count : st->acc[i]);
    sqlite3_free(st->acc);
    st->acc = NULL;
    embResultVecOwned(ctx, out, st->dim);
}

int embRegisterVecFns(sqlite3 *db, EmbConn *conn)
{
    static const struct {
        const char *name;
        int n_arg;
        int op;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        {"emb_vec", 1, 0, fnVec},
        {"emb_json", 1, 0, fnJson},
        {"emb_dims", 1, 0, fnDims},
        {"emb_version", 0, 0, fnVersion},
        {"emb_isa", 0, 0, fnIsa},
        {"emb_dot", 2, OP_DOT, fnPair},
        {"emb_cosine", 2, OP_COS, fnPair},
        {"emb_cosine_distance", 2, OP_COSDIST, fnPair},
        {"emb_l2", 2, OP_L2, fnPair},
        {"emb_norm", 1, 0, fnNorm},
        {"emb_normalize", 1, 0, fnNormalize},
        {"emb_add", -1, 0, fnAdd},
        {"emb_sub", 2, 0, fnSub},
        {"emb_scale", 2, 0, fnScale},
    };
    (void)conn;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].n_arg, EMB_PURE,
                                            (void *)(intptr_t)fns[i].op, fns[i].fn, NULL, NULL,
                                            NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    int rc = sqlite3_create_function_v2(db, "emb_sum", 1, EMB_PURE, NULL, NULL, aggStep, aggFinal,
                                        NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "emb_avg", 1, EMB_PURE, (void *)1, NULL, aggStep,
                                        aggFinal, NULL);
    return rc;
}
