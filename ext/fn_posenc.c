/*
 * fn_posenc.c - positional encodings as scalar SQL functions.
 *
 *   .load ./embext
 *   select emb_json(emb_pe(1, 4));             -- [0.84147096,0.5403023,0.009999833,0.99995]
 *   select emb_json(emb_add_pe('[0,0,0,0]', 1));          -- same as above
 *   select emb_json(emb_rope('[1,0,0,0]', 1));            -- rotate-half (HF LLaMA) RoPE
 *   select emb_json(emb_rope('[1,0,0,0]', 1, 500000, 'gptj'));
 *   -- token + position: the input representation of a sequence
 *   select pos, emb_add_pe(emb_lookup('wte', id), pos)
 *     from (select key as pos, value as id from json_each('[5, 9, 2]'));
 *
 * Functions (vectors are f32 BLOBs or JSON text; results are f32 BLOBs):
 *   emb_pe(pos, dim [, base])       sinusoidal encoding of "Attention Is All You Need":
 *                                   PE(pos, 2i) = sin(pos / base^(2i/dim)),
 *                                   PE(pos, 2i+1) = cos(pos / base^(2i/dim)), base 10000.
 *                                   Odd dim: the last element (index dim-1, even) is the
 *                                   sine of pair i = (dim-1)/2 and has no cosine partner;
 *                                   the exponent still divides by the odd dim.
 *   emb_add_pe(v, pos [, base])     v + emb_pe(pos, dims(v), base) (sum in double, then f32).
 *   emb_rope(v, pos [, base [, style]])
 *                                   rotary encoding: pair i (i < dim/2) is rotated by the
 *                                   angle pos * base^(-2i/dim); style 'neox' (default;
 *                                   rotate-half as HF LLaMA / GPT-NeoX: pairs (i, i+dim/2))
 *                                   or 'gptj' (adjacent pairs (2i, 2i+1), as the original
 *                                   LLaMA / GPT-J code).  (a, b) -> (a cos - b sin,
 *                                   b cos + a sin).  dim must be even.  LLaMA 3 uses
 *                                   base 500000.  The norm is preserved and
 *                                   dot(rope(q, m), rope(k, n)) depends only on m - n.
 * Parameters:
 *   pos   any finite number (integer positions; fractions allow position
 *         interpolation, e.g. pos / 4 for 4x context extension); negative is allowed.
 *   dim   integer 1 .. 65536.
 *   base  finite number > 0; NULL means the default 10000.
 *   style 'neox' | 'gptj'; NULL means 'neox'.
 * A NULL vector, pos or dim gives NULL.
 *
 * How it works: src/lm/posenc.c computes every angle in double (pow, sin, cos)
 * and stores f32; nothing is cached, one call costs dim/2 sin+cos pairs.
 * Errors (exact text), e.g.:
 *   emb_pe: dim out of range (1..65536 vs 0)
 *   emb_rope: vector dimension must be even (found 5)
 *   emb_rope: unknown style 'llama' (expected 'neox' or 'gptj')
 *   emb_pe: base must be a finite number > 0 (found -2.0)
 */
#include "embext.h"
#include "lm/posenc.h"
#include "value.h"

#include <math.h>
#include <string.h>

/* Read the position argument.  1 ok, 0 NULL (result set), -1 error reported. */
static int arg_pos(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg, double *pos)
{
    if (sqlite3_value_type(arg) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return 0;
    }
    if (embArgDouble(ctx, zFunc, "pos", arg, pos) != 0)
        return -1;
    if (!isfinite(*pos)) {
        embResultError(ctx, "%s: pos must be a finite number (found %s)", zFunc,
                       *pos > 0 ? "inf" : "-inf");
        return -1;
    }
    return 1;
}

/* Optional base argument (argv index i < argc).  0 ok, -1 error reported. */
static int arg_base(sqlite3_context *ctx, const char *zFunc, int argc, sqlite3_value **argv, int i,
                    double *base)
{
    *base = EMB_PE_BASE;
    if (i >= argc || sqlite3_value_type(argv[i]) == SQLITE_NULL)
        return 0;
    if (embArgDouble(ctx, zFunc, "base", argv[i], base) != 0)
        return -1;
    if (!isfinite(*base) || !(*base > 0)) {
        embResultError(ctx, "%s: base must be a finite number > 0 (found %s)", zFunc,
                       (const char *)sqlite3_value_text(argv[i]));
        return -1;
    }
    return 0;
}

static void fnPe(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double pos, base;
    int r = arg_pos(ctx, "emb_pe", argv[0], &pos);
    if (r <= 0)
        return;
    int eType = sqlite3_value_numeric_type(argv[1]);
    if (eType == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    if (eType != SQLITE_INTEGER) {
        embResultError(ctx, "emb_pe: dim must be an integer (found %s)",
                       embTypeName(sqlite3_value_type(argv[1])));
        return;
    }
    sqlite3_int64 dim = sqlite3_value_int64(argv[1]);
    if (dim < 1 || dim > EMB_MAX_DIM) {
        embResultError(ctx, "emb_pe: dim out of range (1..%d vs %lld)", EMB_MAX_DIM,
                       (long long)dim);
        return;
    }
    if (arg_base(ctx, "emb_pe", argc, argv, 2, &base) != 0)
        return;
    float *out = sqlite3_malloc64((sqlite3_uint64)dim * sizeof(float));
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    emb_pe_sinusoidal(out, (size_t)dim, pos, base);
    embResultVecOwned(ctx, out, (int)dim);
}

/* Decode the vector argument into a fresh sqlite3_malloc'd copy.
 * 1 ok (*out, *dim), 0 NULL result set, -1 error reported. */
static int arg_vec_copy(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg, float **out,
                        int *dim)
{
    EmbVec v;
    int r = embArgVec(ctx, zFunc, arg, &v);
    if (r <= 0) {
        if (r == 0)
            sqlite3_result_null(ctx);
        return r;
    }
    float *copy = sqlite3_malloc64((sqlite3_uint64)v.dim * sizeof(float));
    if (!copy) {
        embVecFree(&v);
        sqlite3_result_error_nomem(ctx);
        return -1;
    }
    memcpy(copy, v.v, (size_t)v.dim * sizeof(float));
    *dim = v.dim;
    *out = copy;
    embVecFree(&v);
    return 1;
}

/* The (v, pos [, base]) prefix of emb_add_pe and emb_rope, v not decoded
 * yet: 1 ok, 0 NULL result set (v or pos NULL), -1 error reported. */
static int arg_pos_base(sqlite3_context *ctx, const char *zFunc, int argc, sqlite3_value **argv,
                        double *pos, double *base)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return 0;
    }
    int r = arg_pos(ctx, zFunc, argv[1], pos);
    if (r <= 0)
        return r;
    return arg_base(ctx, zFunc, argc, argv, 2, base) != 0 ? -1 : 1;
}

static void fnAddPe(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double pos, base;
    float *v;
    int dim;
    if (arg_pos_base(ctx, "emb_add_pe", argc, argv, &pos, &base) <= 0)
        return;
    if (arg_vec_copy(ctx, "emb_add_pe", argv[0], &v, &dim) <= 0)
        return;
    emb_pe_add(v, (size_t)dim, pos, base);
    embResultVecOwned(ctx, v, dim);
}

static void fnRope(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double pos, base;
    int style = EMB_ROPE_NEOX;
    float *v;
    int dim;
    if (arg_pos_base(ctx, "emb_rope", argc, argv, &pos, &base) <= 0)
        return;
    if (argc > 3 && sqlite3_value_type(argv[3]) != SQLITE_NULL) {
        if (sqlite3_value_type(argv[3]) != SQLITE_TEXT) {
            embResultError(ctx, "emb_rope: style must be 'neox' or 'gptj' (found %s)",
                           embTypeName(sqlite3_value_type(argv[3])));
            return;
        }
        const char *z = (const char *)sqlite3_value_text(argv[3]);
        style = z ? emb_rope_style_parse(z) : -1;
        if (style < 0) {
            if (z)
                embResultError(ctx, "emb_rope: unknown style '%s' (expected 'neox' or 'gptj')", z);
            else
                sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    if (arg_vec_copy(ctx, "emb_rope", argv[0], &v, &dim) <= 0)
        return;
    if (dim % 2 != 0) {
        sqlite3_free(v);
        embResultError(ctx, "emb_rope: vector dimension must be even (found %d)", dim);
        return;
    }
    emb_err err;
    if (emb_rope_apply(v, (size_t)dim, pos, base, style, &err) != EMB_OK) {
        sqlite3_free(v);
        embResultError(ctx, "emb_%s", err.msg);
        return;
    }
    embResultVecOwned(ctx, v, dim);
}

int embRegisterPosenc(sqlite3 *db, EmbConn *conn)
{
    static const struct {
        const char *name;
        int n_arg;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        {"emb_pe", 2, fnPe},        {"emb_pe", 3, fnPe},     {"emb_add_pe", 2, fnAddPe},
        {"emb_add_pe", 3, fnAddPe}, {"emb_rope", 2, fnRope}, {"emb_rope", 3, fnRope},
        {"emb_rope", 4, fnRope},
    };
    (void)conn;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int rc = sqlite3_create_function(db, fns[i].name, fns[i].n_arg, EMB_PURE, NULL, fns[i].fn,
                                         NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
