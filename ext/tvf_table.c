/*
 * tvf_table.c - the prologue and epilogue shared by the table-valued
 * functions over an `embedding` table (tvf_table.h): open the table named
 * by an argument, parse JSON arrays of tokens / token ids / raw vectors
 * against it, write (token_id, token, score) rows, close.
 *
 *   .load ./embext
 *   create virtual table t using embedding(dim=2);
 *   insert into t(token, vector) values ('a', '[1,0]'), ('b', '[0,1]'), ('c', '[1,1]');
 *   select token from emb_most_similar('t', '["a", [0,1]]', null, 1);   -- c
 *   select * from emb_most_similar('t', '["zz"]', null);
 *       -- error: emb_most_similar: unknown token 'zz' in table t
 *
 * How it works: a term list is read with SQLite's own json_each (one
 * prepared statement per list), so JSON parsing matches SQLite's: the list
 * is first checked to be a valid JSON array and counted, then each element
 * is a text token (looked up in the table's token map), an integer token
 * id (checked to be a present row) or, when allowed, a nested array parsed
 * as a float32 vector (src/core/vectext.c) of the table's dim.
 */
#include "tvf_table.h"
#include "core/alloc.h"
#include "core/vectext.h"

#include <stdlib.h>
#include <string.h>

int embTvfTableOpen(TvfVtab *p, sqlite3_value *arg, TvfTable *t)
{
    const char *zFunc = p->spec->zName;
    memset(t, 0, sizeof *t);
    t->p = p;
    if (!arg || sqlite3_value_type(arg) != SQLITE_TEXT)
        return embTvfError(p, "%s: table must be text (found %s)", zFunc,
                           embTypeName(arg ? sqlite3_value_type(arg) : SQLITE_NULL));
    const char *zName = (const char *)sqlite3_value_text(arg);
    char *zErr = NULL;
    int rc = embTableOpen(p->conn, p->db, zFunc, zName, &t->ref, &zErr);
    if (rc != SQLITE_OK) {
        t->ref = NULL;
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
    }
    t->zTable = zName;
    t->m = embTableMatrix(t->ref);
    return SQLITE_OK;
}

static void termsFree(TvfTerms *l)
{
    for (int i = 0; i < l->n; i++)
        sqlite3_free((void *)l->t[i].vec);
    sqlite3_free(l->t);
    sqlite3_free(l->ids);
    memset(l, 0, sizeof *l);
}

void embTvfTableClose(TvfTable *t)
{
    for (size_t i = 0; i < sizeof t->terms / sizeof t->terms[0]; i++)
        termsFree(&t->terms[i]);
    if (t->ref)
        embTableClose(t->ref);
    t->ref = NULL;
}

/* Resolve one token (text) or token id (integer) to a row id. */
static int resolveTerm(TvfTable *t, int eType, const char *z, int n, sqlite3_int64 id,
                       int64_t *out)
{
    const char *zFunc = t->p->spec->zName;
    if (eType == SQLITE_TEXT) {
        int64_t r = embTableTokenId(t->ref, z, n);
        if (r < 0)
            return embTvfError(t->p, "%s: unknown token '%.*s' in table %s", zFunc, n, z,
                               t->zTable);
        *out = r;
        return SQLITE_OK;
    }
    if (id < 0 || !emb_matrix_has_row(t->m, (size_t)id))
        return embTvfError(t->p, "%s: unknown token_id %lld in table %s", zFunc, (long long)id,
                           t->zTable);
    *out = id;
    return SQLITE_OK;
}

int embTvfTableTerm(TvfTable *t, sqlite3_value *arg, const char *zWhat, int64_t *out)
{
    int type = arg ? sqlite3_value_type(arg) : SQLITE_NULL;
    if (type != SQLITE_TEXT && type != SQLITE_INTEGER)
        return embTvfError(t->p, "%s: %s must be a token (text) or a token id (integer) (found %s)",
                           t->p->spec->zName, zWhat, embTypeName(type));
    const char *z = (const char *)sqlite3_value_text(arg);
    return resolveTerm(t, type, z ? z : "", sqlite3_value_bytes(arg), sqlite3_value_int64(arg),
                       out);
}

/* Vector element i of a terms array: JSON text of numbers -> term->vec. */
static int parseTermVector(TvfTable *t, const char *zWhat, int i, const char *z, int n,
                           emb_term *term)
{
    const char *zFunc = t->p->spec->zName;
    float *v;
    size_t dim;
    emb_err err;
    int rc = emb_json_parse(z, (size_t)n, &v, &dim, &err);
    if (rc == EMB_ENOMEM)
        return SQLITE_NOMEM;
    if (rc != EMB_OK)
        return embTvfError(t->p, "%s: %s[%d] is not a vector: %s", zFunc, zWhat, i, err.msg);
    if (dim != t->m->dim) {
        emb_free(v);
        return embTvfError(t->p, "%s: %s[%d] has %lld values; table %s has dim %lld", zFunc,
                           zWhat, i, (long long)dim, t->zTable, (long long)t->m->dim);
    }
    float *copy = sqlite3_malloc64(dim * sizeof *copy);
    if (copy)
        memcpy(copy, v, dim * sizeof *copy);
    emb_free(v);
    if (!copy)
        return SQLITE_NOMEM;
    term->id = -1;
    term->vec = copy;
    return SQLITE_OK;
}

/* Is arg a valid JSON array; its element count in *pCount.  Not with
 * json_valid(): under memory pressure it answers 0 ("not JSON") where
 * json_type() and json_array_length() report out of memory. */
static int jsonArrayCount(TvfTable *t, sqlite3_value *arg, int *pIsArray, int *pCount)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(t->p->db, "SELECT json_type(?1), json_array_length(?1)", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return rc == SQLITE_NOMEM ? rc
                                  : embTvfError(t->p, "%s: %s", t->p->spec->zName,
                                                sqlite3_errmsg(t->p->db));
    sqlite3_bind_value(st, 1, arg);
    *pIsArray = 0;
    *pCount = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        *pIsArray = type && strcmp(type, "array") == 0;
        *pCount = sqlite3_column_int(st, 1);
        rc = !type && sqlite3_errcode(t->p->db) == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
    } else {
        /* malformed JSON is "not an array"; a failed step for lack of
         * memory is not */
        rc = sqlite3_errcode(t->p->db) == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int parseTerms(TvfTable *t, sqlite3_value *arg, const char *zWhat, int flags,
                      TvfTerms *out)
{
    const char *zFunc = t->p->spec->zName;
    const char *zKinds =
        flags & TVF_TERMS_VECTORS ? "tokens, token ids or vectors" : "tokens or token ids";
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return SQLITE_OK;
    const char *z = (const char *)sqlite3_value_text(arg);
    if (sqlite3_value_type(arg) != SQLITE_TEXT || !z)
        return embTvfError(t->p, "%s: %s must be a JSON array of %s (found %s)", zFunc, zWhat,
                           zKinds, embTypeName(sqlite3_value_type(arg)));
    int isArray = 0, count = 0;
    int rc = jsonArrayCount(t, arg, &isArray, &count);
    if (rc != SQLITE_OK)
        return rc;
    if (!isArray)
        return embTvfError(t->p, "%s: %s must be a JSON array of %s (found '%s')", zFunc, zWhat,
                           zKinds, z);
    if (count == 0)
        return SQLITE_OK;
    out->t = sqlite3_malloc64((sqlite3_uint64)count * sizeof *out->t);
    out->ids = sqlite3_malloc64((sqlite3_uint64)count * sizeof *out->ids);
    if (!out->t || !out->ids)
        return SQLITE_NOMEM;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(t->p->db, "SELECT type, atom, value FROM json_each(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc == SQLITE_NOMEM ? rc : embTvfError(t->p, "%s: %s", zFunc, sqlite3_errmsg(t->p->db));
    sqlite3_bind_value(st, 1, arg);
    int step = SQLITE_DONE;
    for (int i = 0; rc == SQLITE_OK && out->n < count && (step = sqlite3_step(st)) == SQLITE_ROW;
         i++) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        if (!type && sqlite3_errcode(t->p->db) == SQLITE_NOMEM) {
            rc = SQLITE_NOMEM;
            break;
        }
        emb_term *term = &out->t[out->n];
        term->vec = NULL;
        if (type && strcmp(type, "array") == 0 && (flags & TVF_TERMS_VECTORS)) {
            const char *zv = (const char *)sqlite3_column_text(st, 2);
            rc = parseTermVector(t, zWhat, i, zv ? zv : "", sqlite3_column_bytes(st, 2), term);
            out->n += rc == SQLITE_OK;
            continue;
        }
        int eType;
        if (type && strcmp(type, "text") == 0)
            eType = SQLITE_TEXT;
        else if (type && strcmp(type, "integer") == 0)
            eType = SQLITE_INTEGER;
        else {
            rc = embTvfError(t->p,
                             "%s: %s[%d] must be a token (string), a token id (integer)%s (found %s)",
                             zFunc, zWhat, i,
                             flags & TVF_TERMS_VECTORS ? " or a vector (array of numbers)" : "",
                             type ? type : "NULL");
            break;
        }
        const char *zt = (const char *)sqlite3_column_text(st, 1);
        int nt = sqlite3_column_bytes(st, 1);
        if ((flags & TVF_TERMS_SKIP_UNKNOWN) && eType == SQLITE_TEXT &&
            embTableTokenId(t->ref, zt ? zt : "", nt) < 0)
            continue;
        rc = resolveTerm(t, eType, zt ? zt : "", nt, sqlite3_column_int64(st, 1), &term->id);
        out->n += rc == SQLITE_OK;
    }
    /* json_each stopped early (out of memory): not the end of the array */
    if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = step == SQLITE_NOMEM ? SQLITE_NOMEM
                                  : embTvfError(t->p, "%s: %s", zFunc, sqlite3_errmsg(t->p->db));
    sqlite3_finalize(st);
    for (int i = 0; i < out->n; i++)
        out->ids[i] = out->t[i].id;
    return rc;
}

int embTvfTableTerms(TvfTable *t, int slot, sqlite3_value *arg, const char *zWhat, int flags)
{
    TvfTerms *out = &t->terms[slot];
    termsFree(out);
    int rc = parseTerms(t, arg, zWhat, flags, out);
    if (rc != SQLITE_OK)
        termsFree(out);
    return rc;
}

int embTvfTableVec(TvfTable *t, sqlite3_value *arg, const char *zWhat, EmbVec *v)
{
    const char *zFunc = t->p->spec->zName;
    char *zErr = NULL;
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return embTvfError(t->p, "%s: %s must not be NULL", zFunc, zWhat);
    int rc = embVecFromValue(arg, zFunc, v, &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(t->p->base.zErrMsg);
        t->p->base.zErrMsg = zErr;
        return rc;
    }
    size_t dim = t->m->dim;
    if ((size_t)v->dim != dim) {
        rc = embTvfError(t->p, "%s: %s has %d values; table %s has dim %lld%s", zFunc, zWhat,
                         v->dim, t->zTable, (long long)dim, embFloat64Hint(arg, (int)dim));
        embVecFree(v);
    }
    return rc;
}

int embTvfEmitScored(TvfCursor *cur, const TvfTable *t, const emb_scored *s, size_t n,
                     const double *extra)
{
    int nOut = t->p->spec->nOut;
    for (size_t i = 0; i < n; i++) {
        TvfCell *row = embTvfRow(cur, nOut);
        if (!row)
            return SQLITE_NOMEM;
        int tn = 0;
        const char *tok = embTableToken(t->ref, s[i].id, &tn);
        embTvfCellInt(&row[0], s[i].id);
        if (embTvfCellText(&row[1], tok, tn) != SQLITE_OK)
            return SQLITE_NOMEM;
        embTvfCellDouble(&row[2], s[i].score);
        if (extra)
            embTvfCellDouble(&row[3], extra[i]);
    }
    return SQLITE_OK;
}

int embTvfCoreError(TvfVtab *p, int status, const emb_err *err)
{
    return status == EMB_ENOMEM ? SQLITE_NOMEM
                                : embTvfError(p, "%s: %s", p->spec->zName, err->msg);
}
