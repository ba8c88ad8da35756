/*
 * tvf_pca.c - a 2-D (or k-D) picture of chosen rows of an `embedding` table:
 * exact principal component analysis as a table-valued function.
 *
 *   .load ./embext
 *   create virtual table glove using embedding(dim=50);
 *   insert into glove(token_id, token, vector)
 *     select * from emb_read_text('tests/data/glove.6B.50d.10k.txt');
 *   select token, round(x, 3), round(y, 3)
 *     from emb_pca('glove', '["king","queen","man","woman"]', 2);
 *   select token, coords from emb_pca('glove', '["paris","france","rome","italy"]', 3);
 *   select count(*) from emb_pca('glove', null);          -- every row, 2 components
 *
 * emb_pca(table, tokens [, components]) -> (token_id, token, x, y, coords)
 *   table       name of an embedding table ("table" or "schema.table").
 *   tokens      JSON array of tokens (strings) and/or token ids (integers),
 *               at least 2; NULL = every row of the table (token_id order).
 *   components  1 .. min(points, dim), default 2; min(points, dim) at most
 *               1024 (EMB_PCA_MAX_SMALL).
 *   One row per input token, in input order (a repeated token is a repeated
 *   point): x, y = its scores on the first two principal components (y NULL
 *   when components = 1), coords = all scores as a JSON vector (float32
 *   text, so it feeds any emb_ function).  The points are centred on their
 *   mean; scores are those of numpy's SVD of the centred points (U S), with
 *   a deterministic sign: in each component the score with the largest
 *   absolute value is positive (sklearn's svd_flip).  Checked against numpy
 *   by tests/sql/pca_numpy.sql (written by tests/ref/pca_ref.py).
 * Errors (exact text), e.g.:
 *   emb_pca: no such embedding table: nope
 *   emb_pca: unknown token 'xyz' in table glove
 *   emb_pca: tokens must be a JSON array of tokens or token ids (found 'king')
 *   emb_pca: needs at least 2 points (found 1)
 *   emb_pca: components must be 1 .. min(points, dim) = 4 (found 5)
 *
 * How it works: an eponymous virtual table (ext/tvf.c) whose HIDDEN columns
 * take the arguments; xFilter opens the table's per-connection matrix
 * (ext/embtab.h), widens the chosen rows to f32 and calls emb_pca
 * (src/lm/pca.c: Jacobi eigen-decomposition of the smaller of the scatter
 * and Gram matrices, in double); the rows are buffered and walked in order.
 */
#include "lm/pca.h"
#include "tvf_table.h"
#include "core/alloc.h"
#include "core/vectext.h"

#include <stdlib.h>
#include <string.h>

static int computePca(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName;
    sqlite3_int64 k;
    int rc = embTvfArgInt(p, args[2], "components", 1, 2, &k);
    if (rc != SQLITE_OK)
        return rc;
    TvfTable t;
    rc = embTvfTableOpen(p, args[0], &t);
    if (rc != SQLITE_OK) {
        embTvfTableClose(&t);
        return rc;
    }
    const emb_matrix *m = t.m;
    int64_t *ids = NULL;
    int n = 0;
    if (args[1] && sqlite3_value_type(args[1]) != SQLITE_NULL) {
        rc = embTvfTableTerms(&t, 0, args[1], "tokens", 0);
        ids = t.terms[0].ids; /* owned by t */
        n = t.terms[0].n;
    } else { /* every present row */
        size_t count = 0;
        for (size_t r = 0; r < m->n_rows; r++)
            count += emb_matrix_has_row(m, r);
        ids = sqlite3_malloc64((count ? count : 1) * sizeof *ids);
        if (!ids)
            rc = SQLITE_NOMEM;
        for (size_t r = 0; ids && r < m->n_rows; r++)
            if (emb_matrix_has_row(m, r))
                ids[n++] = (int64_t)r;
    }
    float *pts = NULL;
    double *scores = NULL;
    if (rc == SQLITE_OK) {
        size_t kk = (size_t)k;
        pts = sqlite3_malloc64(((sqlite3_uint64)n * m->dim + 1) * sizeof *pts);
        scores = sqlite3_malloc64(((sqlite3_uint64)n * kk + 1) * sizeof *scores);
        if (!pts || !scores)
            rc = SQLITE_NOMEM;
        for (int i = 0; rc == SQLITE_OK && i < n; i++)
            emb_matrix_row_f32(emb_kernels_get(), m, (size_t)ids[i], pts + (size_t)i * m->dim);
        emb_err err;
        if (rc == SQLITE_OK) {
            int st = emb_pca(pts, (size_t)n, m->dim, kk, scores, NULL, &err);
            if (st == EMB_ENOMEM)
                rc = SQLITE_NOMEM;
            else if (st != EMB_OK) /* the core's "pca: " prefix is this function's name */
                rc = embTvfError(p, "%s: %s", zFunc,
                                 strncmp(err.msg, "pca: ", 5) == 0 ? err.msg + 5 : err.msg);
        }
        float *co = rc == SQLITE_OK ? sqlite3_malloc64(kk * sizeof *co) : NULL;
        if (rc == SQLITE_OK && !co)
            rc = SQLITE_NOMEM;
        for (int i = 0; rc == SQLITE_OK && i < n; i++) {
            TvfCell *row = embTvfRow(cur, p->spec->nOut);
            if (!row) {
                rc = SQLITE_NOMEM;
                break;
            }
            const double *s = scores + (size_t)i * kk;
            int tn = 0;
            const char *tok = embTableToken(t.ref, ids[i], &tn);
            embTvfCellInt(&row[0], ids[i]);
            if (embTvfCellText(&row[1], tok, tn) != SQLITE_OK)
                rc = SQLITE_NOMEM;
            embTvfCellDouble(&row[2], s[0]);
            if (kk > 1)
                embTvfCellDouble(&row[3], s[1]);
            for (size_t j = 0; j < kk; j++)
                co[j] = (float)s[j];
            char *json = emb_json_format(co, kk);
            if (!json || embTvfCellText(&row[4], json, -1) != SQLITE_OK)
                rc = SQLITE_NOMEM;
            emb_free(json);
        }
        sqlite3_free(co);
    }
    sqlite3_free(pts);
    sqlite3_free(scores);
    if (ids != t.terms[0].ids)
        sqlite3_free(ids);
    embTvfTableClose(&t);
    return rc;
}

static const char *const argsPca[] = {"table", "tokens", "components"};

static const TvfSpec specs[] = {
    {.zName = "emb_pca",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, x REAL, y REAL, coords TEXT,"
                " \"table\" HIDDEN, tokens HIDDEN, components HIDDEN)",
     .nOut = 5, .nArg = 3, .nRequired = 1, .azArg = argsPca, .xCompute = computePca},
};

int embRegisterPca(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
}
