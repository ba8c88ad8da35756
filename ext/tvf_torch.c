/*
 * tvf_torch.c - torch 1.13's nn.EmbeddingBag / F.embedding_bag and
 * nn.Embedding / F.embedding (with max_norm) over an `embedding` table.
 *
 *   .load ./embext
 *   create virtual table glove using embedding(dim=50);
 *   insert into glove(token_id, token, vector) select * from emb_read_text('tests/data/glove.6B.50d.10k.txt');
 *   select bag, emb_norm(vector) from emb_bag('glove', '[1,3,7,2,2,9]', '[0,2,2]', 'max');
 *   select bag, emb_json(vector) from emb_bag('glove', '[[1,3],[2,9]]', null, 'sum', '[[0.5,2],[1,1]]', 2);
 *   select pos, token_id, emb_norm(vector) from emb_embedding('glove', '[3,7,3]', 1.0);   -- 1.0 each
 *
 * Functions (positional arguments or HIDDEN-column constraints):
 *   emb_bag(table, input, offsets [, mode [, per_sample_weights [, padding_idx
 *           [, include_last_offset [, max_norm [, norm_type]]]]]]) -> (bag, vector)
 *     input: a JSON array of token ids with offsets (first 0, non-decreasing,
 *     at most the input length), or a 2-D array (one bag per row, offsets
 *     NULL).  mode 'mean' (default), 'sum' or 'max'; per_sample_weights the
 *     same shape as input, mode 'sum' only; entries equal to padding_idx are
 *     left out (and from the mean's count); an empty bag is zeros;
 *     include_last_offset 1: the last offset ends the last bag.
 *   emb_embedding(table, input [, max_norm [, norm_type]]) -> (batch, pos, token_id, vector)
 *     the rows of a 1-D or 2-D id array; with max_norm a row whose
 *     norm_type-norm (default 2, 1e999 = inf) exceeds it is returned scaled
 *     by max_norm / (norm + 1e-7).  torch renormalises its weight in place;
 *     the stored rows here are never changed.
 * Errors, e.g.:
 *   emb_bag: input[2]: token_id 99999 not in table glove
 *   emb_bag: offsets[0] must be 0 (found 1)
 *   emb_bag: per_sample_weights needs mode 'sum' (as torch)
 *   emb_bag: unknown mode 'min' (expected 'sum', 'mean' or 'max')
 *   emb_embedding: max_norm must be a positive number (found -1)
 *
 * How it works: the JSON arrays are read with SQLite's json_each into
 * flat arrays (2-D arrays row by row, checked rectangular); the table is
 * opened through tvf_table.c and the core (src/lm/bag.c) follows torch's CPU
 * arithmetic step by step; the rows are buffered (ext/tvf.c).
 */
#include "lm/bag.h"
#include "tvf_table.h"

#include <math.h>
#include <string.h>

/* A 1-D or 2-D (rectangular) JSON array of integers (ids) or numbers. */
typedef struct Tensor {
    int64_t *ids; /* isFloat == 0 */
    float *vals;  /* isFloat == 1 */
    size_t n, rows, cols;
    size_t over;  /* elements past EMB_TENSOR_MAX, counted, not kept */
    int is2d;
} Tensor;

/* Elements of one emb_bag / emb_embedding argument, at most (as
 * emb_sequence's ids: a context of 2^20 tokens); docs/SECURITY.md. */
#define EMB_TENSOR_MAX 1048576

static void tensorFree(Tensor *t)
{
    sqlite3_free(t->ids);
    sqlite3_free(t->vals);
    memset(t, 0, sizeof *t);
}

/* Append the elements of JSON array z to t; nested arrays are rows when
 * depth 0.  Returns SQLITE_OK or an error set on p. */
static int tensorAppend(TvfVtab *p, sqlite3_value *arg, const char *z, int depth, int isFloat,
                        const char *zWhat, Tensor *t, size_t *cap)
{
    const char *zFunc = p->spec->zName;
    const char *zKind = isFloat ? "numbers" : "integers";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "SELECT type, atom, value FROM json_each(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    if (arg)
        sqlite3_bind_value(st, 1, arg);
    else
        sqlite3_bind_text(st, 1, z, -1, SQLITE_TRANSIENT);
    size_t before = t->n;
    int nRows = 0, step = SQLITE_DONE;
    while (rc == SQLITE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        if (!type && sqlite3_errcode(p->db) == SQLITE_NOMEM) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (type && strcmp(type, "array") == 0 && depth == 0) {
            if (t->n > 0 && !t->is2d) {
                rc = embTvfError(p, "%s: %s mixes numbers and arrays", zFunc, zWhat);
                break;
            }
            t->is2d = 1;
            size_t n0 = t->n;
            rc = tensorAppend(p, NULL, (const char *)sqlite3_column_text(st, 2), 1, isFloat, zWhat,
                              t, cap);
            if (rc == SQLITE_OK && nRows > 0 && t->n - n0 != t->cols && !t->over)
                rc = embTvfError(p, "%s: %s rows differ in length (%lld and %lld)", zFunc, zWhat,
                                 (long long)t->cols, (long long)(t->n - n0));
            t->cols = t->n - n0;
            nRows++;
            continue;
        }
        int ok = type && (strcmp(type, "integer") == 0 || (isFloat && strcmp(type, "real") == 0));
        if (!ok || (t->is2d && depth == 0)) {
            rc = embTvfError(p, "%s: %s must be a JSON array of %s or of arrays of %s (found %s)",
                             zFunc, zWhat, zKind, zKind, type ? type : "NULL");
            break;
        }
        if (t->n == EMB_TENSOR_MAX) {
            t->over++;
            continue;
        }
        if (t->n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            void *q = isFloat ? sqlite3_realloc64(t->vals, nc * sizeof *t->vals)
                              : sqlite3_realloc64(t->ids, nc * sizeof *t->ids);
            if (!q) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (isFloat)
                t->vals = q;
            else
                t->ids = q;
            *cap = nc;
        }
        if (isFloat)
            t->vals[t->n++] = (float)sqlite3_column_double(st, 1);
        else
            t->ids[t->n++] = sqlite3_column_int64(st, 1);
    }
    /* json_each stopped early (out of memory): not the end of the array */
    if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = step == SQLITE_NOMEM ? SQLITE_NOMEM
                                  : embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    sqlite3_finalize(st);
    if (depth == 0) {
        t->rows = t->is2d ? (size_t)nRows : 1;
        if (!t->is2d)
            t->cols = t->n - before;
    }
    return rc;
}

static int parseTensor(TvfVtab *p, sqlite3_value *arg, const char *zWhat, int isFloat, Tensor *t)
{
    const char *zKind = isFloat ? "numbers" : "integers";
    size_t cap = 0;
    memset(t, 0, sizeof *t);
    const char *z = arg ? (const char *)sqlite3_value_text(arg) : NULL;
    if (!arg || sqlite3_value_type(arg) != SQLITE_TEXT || !z)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found %s)", p->spec->zName,
                           zWhat, zKind, embTypeName(arg ? sqlite3_value_type(arg) : SQLITE_NULL));
    sqlite3_stmt *st = NULL;
    /* json_type, not json_valid: under memory pressure json_valid answers 0
     * where json_type reports out of memory (malformed JSON is an error) */
    int isArray = 0, rcv = sqlite3_prepare_v2(p->db, "SELECT json_type(?1) = 'array'", -1, &st,
                                              NULL);
    if (rcv == SQLITE_OK) {
        sqlite3_bind_value(st, 1, arg);
        rcv = sqlite3_step(st);
        isArray = rcv == SQLITE_ROW && sqlite3_column_int(st, 0);
        rcv = rcv == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(p->db);
    }
    sqlite3_finalize(st);
    if (rcv == SQLITE_NOMEM)
        return SQLITE_NOMEM;
    if (!isArray)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found '%s')", p->spec->zName,
                           zWhat, zKind, z);
    int rc = tensorAppend(p, arg, NULL, 0, isFloat, zWhat, t, &cap);
    if (rc == SQLITE_OK && t->over)
        rc = embTvfError(p, "%s: %s has too many elements (%d vs %llu)", p->spec->zName, zWhat,
                         EMB_TENSOR_MAX, (unsigned long long)(t->n + t->over));
    if (rc != SQLITE_OK)
        tensorFree(t);
    return rc;
}

/* Open the table of arg and check every id of in against it. */
static int openWithIds(TvfVtab *p, sqlite3_value *arg, const Tensor *in, TvfTable *t)
{
    int rc = embTvfTableOpen(p, arg, t);
    for (size_t i = 0; rc == SQLITE_OK && i < in->n; i++)
        if (in->ids[i] < 0 || !emb_matrix_has_row(t->m, (size_t)in->ids[i]))
            rc = embTvfError(p, "%s: input[%lld]: token_id %lld not in table %s", p->spec->zName,
                             (long long)i, (long long)in->ids[i], t->zTable);
    return rc;
}

/* max_norm / norm_type arguments: *max_norm 0 when not given. */
static int argMaxNorm(TvfVtab *p, sqlite3_value *aMax, sqlite3_value *aType, double *max_norm,
                      double *norm_type)
{
    const char *zFunc = p->spec->zName;
    *max_norm = 0;
    *norm_type = 2;
    if (aMax && sqlite3_value_type(aMax) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(aMax);
        *max_norm = sqlite3_value_double(aMax);
        if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !(*max_norm > 0) || isinf(*max_norm))
            return embTvfError(p, "%s: max_norm must be a positive number (found %s)", zFunc,
                               sqlite3_value_text(aMax) ? (const char *)sqlite3_value_text(aMax) : "NULL");
    }
    if (aType && sqlite3_value_type(aType) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(aType);
        *norm_type = sqlite3_value_double(aType);
        if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !(*norm_type > 0))
            return embTvfError(p, "%s: norm_type must be a number > 0 or 1e999 for inf (found %s)",
                               zFunc,
                               sqlite3_value_text(aType) ? (const char *)sqlite3_value_text(aType) : "NULL");
    }
    return SQLITE_OK;
}

/* emb_bag(table, input, offsets, mode, per_sample_weights, padding_idx,
 *         include_last_offset, max_norm, norm_type) -> (bag, vector) */
static int computeBag(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName;
    emb_bag_opts o = {EMB_BAG_MEAN, NULL, -1, 0, 2};
    sqlite3_int64 pad, last;
    int rc = embTvfArgInt(p, args[5], "padding_idx", 0, -1, &pad);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[6], "include_last_offset", 0, 0, &last);
    if (rc == SQLITE_OK && last > 1)
        rc = embTvfError(p, "%s: include_last_offset must be 0 or 1 (found %lld)", zFunc,
                         (long long)last);
    if (rc == SQLITE_OK)
        rc = argMaxNorm(p, args[7], args[8], &o.max_norm, &o.norm_type);
    if (rc != SQLITE_OK)
        return rc;
    o.padding_idx = pad;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        const char *z = (const char *)sqlite3_value_text(args[3]);
        o.mode = sqlite3_value_type(args[3]) == SQLITE_TEXT && z ? emb_bag_mode_parse(z) : -1;
        if (o.mode < 0)
            return embTvfError(p, "%s: unknown mode '%s' (expected 'sum', 'mean' or 'max')", zFunc,
                               z ? z : "");
    }
    Tensor in, off, w;
    memset(&off, 0, sizeof off);
    memset(&w, 0, sizeof w);
    if ((rc = parseTensor(p, args[1], "input", 0, &in)) != SQLITE_OK)
        return rc;
    TvfTable t;
    memset(&t, 0, sizeof t);
    size_t *starts = NULL, n_bags = 0;
    float *out = NULL;
    int hasOff = args[2] && sqlite3_value_type(args[2]) != SQLITE_NULL;
    if (hasOff && (rc = parseTensor(p, args[2], "offsets", 0, &off)) != SQLITE_OK)
        goto done;
    if (in.is2d && hasOff) {
        rc = embTvfError(p, "%s: offsets must be NULL when input is 2-D (each row is a bag)", zFunc);
        goto done;
    }
    if (!in.is2d && !hasOff) {
        rc = embTvfError(p, "%s: a 1-D input needs offsets (or give a 2-D input: one bag per row)",
                         zFunc);
        goto done;
    }
    if (hasOff && off.is2d) {
        rc = embTvfError(p, "%s: offsets must be a 1-D JSON array of integers", zFunc);
        goto done;
    }
    if (args[4] && sqlite3_value_type(args[4]) != SQLITE_NULL) {
        if (o.mode != EMB_BAG_SUM) {
            rc = embTvfError(p, "%s: per_sample_weights needs mode 'sum' (as torch)", zFunc);
            goto done;
        }
        if ((rc = parseTensor(p, args[4], "per_sample_weights", 1, &w)) != SQLITE_OK)
            goto done;
        if (w.n != in.n || w.is2d != in.is2d) {
            rc = embTvfError(p, "%s: per_sample_weights has %lld values; input has %lld", zFunc,
                             (long long)w.n, (long long)in.n);
            goto done;
        }
        o.weights = w.vals;
    }
    /* bag boundaries */
    if (in.is2d) {
        n_bags = in.rows;
        if (!(starts = sqlite3_malloc64((n_bags + 1) * sizeof *starts))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        for (size_t b = 0; b <= n_bags; b++)
            starts[b] = b * in.cols;
    } else {
        if (off.n == 0 || (last && off.n < 1)) {
            rc = embTvfError(p, "%s: offsets is empty", zFunc);
            goto done;
        }
        n_bags = last ? off.n - 1 : off.n;
        if (!(starts = sqlite3_malloc64((n_bags + 1) * sizeof *starts))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        if (off.ids[0] != 0) {
            rc = embTvfError(p, "%s: offsets[0] must be 0 (found %lld)", zFunc,
                             (long long)off.ids[0]);
            goto done;
        }
        for (size_t b = 0; b < off.n; b++) {
            if (off.ids[b] < (b ? off.ids[b - 1] : 0) || (size_t)off.ids[b] > in.n) {
                rc = embTvfError(p,
                                 "%s: offsets must be non-decreasing and at most %lld (the input "
                                 "length); offsets[%lld] = %lld",
                                 zFunc, (long long)in.n, (long long)b, (long long)off.ids[b]);
                goto done;
            }
            if (b <= n_bags)
                starts[b] = (size_t)off.ids[b];
        }
        if (!last)
            starts[n_bags] = in.n;
    }
    if ((rc = openWithIds(p, args[0], &in, &t)) != SQLITE_OK)
        goto done;
    const emb_matrix *m = t.m;
    size_t bytes;
    if (emb_mul_size(n_bags ? n_bags : 1, m->dim * sizeof(float), &bytes) != 0 ||
        !(out = sqlite3_malloc64(bytes))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    emb_err err;
    int crc = emb_bag(emb_kernels_get(), m, in.ids, in.n, starts, n_bags, &o, out, &err);
    if (crc != EMB_OK) {
        rc = embTvfCoreError(p, crc, &err);
        goto done;
    }
    for (size_t b = 0; b < n_bags && rc == SQLITE_OK; b++) {
        TvfCell *row = embTvfRow(cur, p->spec->nOut);
        if (!row) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&row[0], (sqlite3_int64)b);
        rc = embTvfCellBlob(&row[1], out + b * m->dim, (int)(m->dim * sizeof(float)));
    }
done:
    sqlite3_free(out);
    sqlite3_free(starts);
    tensorFree(&in);
    tensorFree(&off);
    tensorFree(&w);
    embTvfTableClose(&t);
    return rc;
}

/* emb_embedding(table, input [, max_norm [, norm_type]]) -> (batch, pos, token_id, vector) */
static int computeEmbedding(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    double max_norm, norm_type;
    int rc = argMaxNorm(p, args[2], args[3], &max_norm, &norm_type);
    if (rc != SQLITE_OK)
        return rc;
    Tensor in;
    if ((rc = parseTensor(p, args[1], "input", 0, &in)) != SQLITE_OK)
        return rc;
    TvfTable t;
    float *row = NULL;
    if ((rc = openWithIds(p, args[0], &in, &t)) != SQLITE_OK)
        goto done;
    const emb_matrix *m = t.m;
    if (!(row = sqlite3_malloc64(m->dim * sizeof *row))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < in.n && rc == SQLITE_OK; i++) {
        emb_row_widen(emb_kernels_get(), m, (size_t)in.ids[i], row);
        if (max_norm > 0)
            emb_renorm(row, m->dim, max_norm, norm_type);
        TvfCell *c = embTvfRow(cur, p->spec->nOut);
        if (!c) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&c[0], (sqlite3_int64)(in.cols ? i / in.cols : 0));
        embTvfCellInt(&c[1], (sqlite3_int64)(in.cols ? i % in.cols : 0));
        embTvfCellInt(&c[2], in.ids[i]);
        rc = embTvfCellBlob(&c[3], row, (int)(m->dim * sizeof(float)));
    }
done:
    sqlite3_free(row);
    tensorFree(&in);
    embTvfTableClose(&t);
    return rc;
}


static const char *const argsBag[] = {"table", "input", "offsets", "mode", "per_sample_weights",
                                      "padding_idx", "include_last_offset", "max_norm",
                                      "norm_type"};
static const char *const argsEmbedding[] = {"table", "input", "max_norm", "norm_type"};

static const TvfSpec specs[] = {
    {.zName = "emb_bag",
     .zSchema = "CREATE TABLE x(bag INTEGER, vector BLOB, \"table\" HIDDEN, input HIDDEN,"
                " offsets HIDDEN, mode HIDDEN, per_sample_weights HIDDEN, padding_idx HIDDEN,"
                " include_last_offset HIDDEN, max_norm HIDDEN, norm_type HIDDEN)",
     .nOut = 2, .nArg = 9, .nRequired = 2, .azArg = argsBag, .xCompute = computeBag},
    {.zName = "emb_embedding",
     .zSchema = "CREATE TABLE x(batch INTEGER, pos INTEGER, token_id INTEGER, vector BLOB,"
                " \"table\" HIDDEN, input HIDDEN, max_norm HIDDEN, norm_type HIDDEN)",
     .nOut = 4, .nArg = 4, .nRequired = 2, .azArg = argsEmbedding, .xCompute = computeEmbedding},
};

int embRegisterTorch(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
}
