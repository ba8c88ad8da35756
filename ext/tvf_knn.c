/*
 * tvf_knn.c - batched exact nearest-neighbour search over an `embedding`
 * table: many queries in one pass over the rows.
 *
 *   .load ./embext
 *   create virtual table w using embedding(dim=3);
 *   insert into w(token_id, token, vector) values
 *     (0, 'a', '[1,0,0]'), (1, 'b', '[0,1,0]'), (2, 'c', '[1,1,0]');
 *   select * from emb_knn('w', '[[1,0.1,0],[0,1,0]]', 2);
 *       -- query rank token_id token distance
 *       --   0    1     0      a    0.00496...
 *       --   0    2     2      c    0.22...
 *       --   1    1     1      b    0
 *       --   1    2     2      c    0.29...
 *   select query, token from emb_knn('w', :blob_of_64_queries, 10, 'dot');
 *
 * emb_knn(table, queries [, k [, metric]])
 *     -> (query, rank, token_id, token, distance)
 *   table    name of an embedding table ("table" or "schema.table").
 *   queries  a JSON array of vectors '[[...], [...]]' (each of the table's
 *            dimension), or one f32 blob of n_q * dim little-endian floats
 *            (its size must be a multiple of 4 * dim).  '[]' or an empty
 *            blob gives no rows.
 *   k        neighbours per query, >= 0, default 10.
 *   metric   'cosine', 'dot' or 'l2'; default the table's metric.
 *   query    0-based index of the query in `queries`; rank 1-based.
 *   Rows come ordered by query, then rank (ties by smaller token_id) and
 *   are the rows `select ... from table where vector match q and k = K`
 *   returns for each query on its own, with the same distances (cosine:
 *   1 - cos, dot: -dot, l2: Euclidean) up to float rounding in the last
 *   bits (dot products are summed in a different order).  For l2 see
 *   src/search/knn.h: ranking uses |q|^2 + |r|^2 - 2 q.r, distances are recomputed
 *   directly for f32 / f16 / bf16.
 * Errors (exact text), e.g.:
 *   emb_knn: no such embedding table: nope
 *   emb_knn: queries must not be NULL
 *   emb_knn: queries must be a JSON array of vectors or an f32 blob (found integer)
 *   emb_knn: queries blob has 36 bytes, not a multiple of 4 * dim = 32 (table t has dim 8)
 *   emb_knn: query 1 has 3 values; table t has dim 8
 *   emb_knn: k must be >= 1 (found 0)
 *   emb_knn: query 0: invalid JSON vector: ...
 *   emb_knn: unknown metric 'x' (expected 'cosine', 'dot' or 'l2')
 *
 * How it works: an eponymous virtual table (ext/tvf.c) whose HIDDEN columns
 * take the arguments.  xFilter parses every query into one n_q x dim float
 * array, opens the table's cached matrix (ext/embtab.h: rows plus norms,
 * reloaded when the table changed) and calls emb_matrix_search_batch
 * (src/search/knn.c): the rows are read once per 64 queries in L2-sized blocks and
 * the kernel table's scan_dot_f32_multi computes each block's rows x
 * queries dot products in registers, so a batch costs a fraction of one
 * full scan per query.  The result rows are buffered and walked in order.
 */
#include "embtab.h"
#include "core/alloc.h"
#include "search/knn.h"
#include "tvf.h"

/* Result rows of one emb_knn call, at most (n_queries * min(k, rows)): the
 * hits are held at once (16 bytes each, 1 GiB); docs/SECURITY.md. */
#define EMB_KNN_MAX_HITS ((sqlite3_uint64)1 << 26)
#include "value.h"
#include "core/vectext.h"

#include <stdlib.h>
#include <string.h>

static int isWs(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse '[[...], ...]' of vectors of dimension dim into *pq (sqlite3_malloc'd)
 * and *pn.  SQLITE_OK, or an error set on p. */
static int parseJsonQueries(TvfVtab *p, const char *zTable, const char *z, size_t n, size_t dim, float **pq,
                            size_t *pn)
{
    const char *zFunc = p->spec->zName;
    size_t i = 0, nq = 0, cap = 0;
    float *all = NULL;
    int rc = SQLITE_OK;
    while (i < n && isWs(z[i]))
        i++;
    if (i == n || z[i] != '[')
        return embTvfError(p, "%s: queries must be a JSON array of vectors (found '%.*s')", zFunc,
                           n > 40 ? 40 : (int)n, z);
    i++;
    while (i < n && isWs(z[i]))
        i++;
    if (i < n && z[i] == ']') {
        i++;
    } else {
        for (;;) {
            if (i == n || z[i] != '[') {
                rc = embTvfError(p, "%s: queries must be a JSON array of vectors (expected '[' at "
                                    "offset %lld)", zFunc, (long long)i);
                break;
            }
            size_t e = i;
            while (e < n && z[e] != ']')
                e++;
            if (e == n) {
                rc = embTvfError(p, "%s: query %lld: unterminated vector", zFunc, (long long)nq);
                break;
            }
            float *v = NULL;
            size_t d = 0;
            emb_err err;
            int erc = emb_json_parse(z + i, e + 1 - i, &v, &d, &err);
            if (erc == EMB_ENOMEM) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (erc != EMB_OK) {
                rc = embTvfError(p, "%s: query %lld: invalid JSON vector: %s", zFunc,
                                 (long long)nq, err.msg);
                break;
            }
            if (d != dim) {
                emb_free(v);
                rc = embTvfError(p, "%s: query %lld has %lld values; table %s has dim %lld", zFunc,
                                 (long long)nq, (long long)d, zTable, (long long)dim);
                break;
            }
            if (nq == cap) {
                cap = cap ? 2 * cap : 16;
                float *grown = sqlite3_realloc64(all, (sqlite3_uint64)cap * (dim ? dim : 1) * 4);
                if (!grown) {
                    emb_free(v);
                    rc = SQLITE_NOMEM;
                    break;
                }
                all = grown;
            }
            memcpy(all + nq * dim, v, dim * sizeof *v);
            emb_free(v);
            nq++;
            i = e + 1;
            while (i < n && isWs(z[i]))
                i++;
            if (i < n && z[i] == ',') {
                i++;
                while (i < n && isWs(z[i]))
                    i++;
                continue;
            }
            if (i < n && z[i] == ']') {
                i++;
                break;
            }
            rc = embTvfError(p, "%s: queries must be a JSON array of vectors (expected ',' or ']' "
                                "at offset %lld)", zFunc, (long long)i);
            break;
        }
    }
    while (rc == SQLITE_OK && i < n && isWs(z[i]))
        i++;
    if (rc == SQLITE_OK && i != n)
        rc = embTvfError(p, "%s: queries must be a JSON array of vectors (trailing text at "
                            "offset %lld)", zFunc, (long long)i);
    if (rc != SQLITE_OK) {
        sqlite3_free(all);
        return rc;
    }
    *pq = all;
    *pn = nq;
    return SQLITE_OK;
}

/* The queries argument as n_q x dim floats (*pq sqlite3_malloc'd, may be
 * NULL when n_q is 0). */
static int parseQueries(TvfVtab *p, const char *zTable, sqlite3_value *arg, size_t dim, float **pq,
                        size_t *pn)
{
    const char *zFunc = p->spec->zName;
    int t = arg ? sqlite3_value_type(arg) : SQLITE_NULL;
    if (t == SQLITE_NULL)
        return embTvfError(p, "%s: queries must not be NULL", zFunc);
    if (t == SQLITE_TEXT)
        return parseJsonQueries(p, zTable, (const char *)sqlite3_value_text(arg),
                                (size_t)sqlite3_value_bytes(arg), dim, pq, pn);
    if (t != SQLITE_BLOB)
        return embTvfError(p, "%s: queries must be a JSON array of vectors or an f32 blob (found %s)",
                           zFunc, embTypeName(t));
    size_t n = (size_t)sqlite3_value_bytes(arg), row = dim * sizeof(float);
    unsigned sub = sqlite3_value_subtype(arg);
    if (sub == EMB_SUBTYPE_VEC_BIT)
        return embTvfError(p, "%s: queries is a sqlite-vec bit vector (vec_bit); expected float32 "
                              "(f32 blobs, vec_f32() or JSON text) or vec_int8()", zFunc);
    if (sub == EMB_SUBTYPE_VEC_INT8) { /* sqlite-vec vec_int8(): one int8 per element */
        if (dim == 0 || n % dim != 0)
            return embTvfError(p, "%s: queries int8 vector has %lld values; table %s has dim %lld",
                               zFunc, (long long)n, zTable, (long long)dim);
        float *f = sqlite3_malloc64((n ? n : 1) * sizeof *f);
        if (!f)
            return SQLITE_NOMEM;
        const signed char *b = sqlite3_value_blob(arg);
        for (size_t i = 0; i < n; i++)
            f[i] = (float)b[i];
        *pq = f;
        *pn = n / dim;
        return SQLITE_OK;
    }
    if (row == 0 || n % row != 0)
        return embTvfError(p, "%s: queries blob has %lld bytes, not a multiple of 4 * dim = %lld"
                              " (table %s has dim %lld)%s",
                           zFunc, (long long)n, (long long)row, zTable, (long long)dim,
                           embFloat64Hint(arg, (int)dim));
    float *q = NULL;
    if (n > 0) {
        q = sqlite3_malloc64(n);
        if (!q)
            return SQLITE_NOMEM;
        memcpy(q, sqlite3_value_blob(arg), n);
    }
    *pq = q;
    *pn = n / row;
    return SQLITE_OK;
}

static int emitHits(TvfCursor *cur, EmbTableRef *ref, const emb_hit *hits, const size_t *n_out,
                    size_t n_q, size_t k, int nOut)
{
    for (size_t j = 0; j < n_q; j++) {
        for (size_t i = 0; i < n_out[j]; i++) {
            const emb_hit *h = &hits[j * k + i];
            TvfCell *row = embTvfRow(cur, nOut);
            if (!row)
                return SQLITE_NOMEM;
            int tn = 0;
            const char *tok = embTableToken(ref, h->id, &tn);
            embTvfCellInt(&row[0], (sqlite3_int64)j);
            embTvfCellInt(&row[1], (sqlite3_int64)i + 1);
            embTvfCellInt(&row[2], h->id);
            if (embTvfCellText(&row[3], tok, tn) != SQLITE_OK)
                return SQLITE_NOMEM;
            embTvfCellDouble(&row[4], h->distance);
        }
    }
    return SQLITE_OK;
}

static int computeKnn(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName;
    sqlite3_int64 k;
    int rc = embTvfArgInt(p, args[2], "k", 1, 10, &k);
    if (rc != SQLITE_OK)
        return rc;
    int metric = -1;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        const char *z = (const char *)sqlite3_value_text(args[3]);
        metric = emb_metric_parse(z);
        if (metric < 0)
            return embTvfError(p, "%s: unknown metric '%s' (expected 'cosine', 'dot' or 'l2')",
                               zFunc, z ? z : "");
    }
    if (sqlite3_value_type(args[0]) != SQLITE_TEXT)
        return embTvfError(p, "%s: table must be text (found %s)", zFunc,
                           embTypeName(sqlite3_value_type(args[0])));
    EmbTableRef *ref = NULL;
    char *zErr = NULL;
    rc = embTableOpen(p->conn, p->db, zFunc, (const char *)sqlite3_value_text(args[0]), &ref,
                      &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
    }
    const emb_matrix *m = embTableMatrix(ref);
    if (metric < 0)
        metric = embTableMetric(ref);
    float *q = NULL;
    size_t n_q = 0;
    rc = parseQueries(p, (const char *)sqlite3_value_text(args[0]), args[1], m->dim, &q, &n_q);
    if (rc == SQLITE_OK && n_q > 0) {
        size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows;
        /* the hits of the whole batch are held at once: bounded */
        if ((sqlite3_uint64)n_q * kk > EMB_KNN_MAX_HITS) {
            rc = embTvfError(p, "%s: queries * k too large (%llu vs %llu)", zFunc,
                             (unsigned long long)EMB_KNN_MAX_HITS,
                             (unsigned long long)((sqlite3_uint64)n_q * kk));
            sqlite3_free(q);
            embTableClose(ref);
            return rc;
        }
        emb_hit *hits = sqlite3_malloc64((sqlite3_uint64)n_q * (kk ? kk : 1) * sizeof *hits);
        size_t *n_out = sqlite3_malloc64((sqlite3_uint64)n_q * sizeof *n_out);
        emb_err err;
        int erc;
        if (!hits || !n_out)
            rc = SQLITE_NOMEM;
        else if ((erc = emb_matrix_search_batch(emb_kernels_get(), m, q, n_q, metric, kk, hits,
                                                n_out, &err)) != EMB_OK)
            rc = erc == EMB_ENOMEM ? SQLITE_NOMEM : embTvfError(p, "%s: %s", zFunc, err.msg);
        else
            rc = emitHits(cur, ref, hits, n_out, n_q, kk, p->spec->nOut);
        sqlite3_free(hits);
        sqlite3_free(n_out);
    }
    sqlite3_free(q);
    embTableClose(ref);
    return rc;
}

static const char *const argsKnn[] = {"table", "queries", "k", "metric"};

static const TvfSpec specs[] = {
    {"emb_knn",
     "CREATE TABLE x(query INTEGER, rank INTEGER, token_id INTEGER, token TEXT, distance REAL,"
     " \"table\" HIDDEN, queries HIDDEN, k HIDDEN, metric HIDDEN)",
     5, 4, 2, 0, argsKnn, computeKnn, NULL, 0, 0},
};

int embRegisterKnn(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
}
