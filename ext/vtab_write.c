/*
 * vtab_write.c - xUpdate of the `embedding` virtual table (INSERT, UPDATE,
 * DELETE).  User reference: vtab_embedding.c.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=2);
 *   insert into wte(token, vector) values ('a', '[1,0]');          -- token_id 0
 *   insert or replace into wte(token_id, vector) values (0, '[0,1]');
 *   update wte set vector = emb_sub(vector, emb_scale('[1,1]', 0.01)) where token_id = 0;
 *   delete from wte where token_id = 0;
 *
 * How it works
 *   Every argument is checked before anything changes (a single-row
 *   statement has no statement journal, so a late failure could not be
 *   undone): id range, vector type / dimension / finiteness, token type and
 *   uniqueness (index lookup in t_tokens), token_id conflicts (validity byte
 *   in the chunk).  An INSERT into a free token_id skips the token lookup:
 *   its token write, the first change after the version, fails on the
 *   UNIQUE index of t_tokens before it changes anything (see tokPutNew).
 *   Then the transaction's new version is stored (once per transaction),
 *   the token row is written, the row is written in place into its stored
 *   chunk (the first write of a transaction to that chunk) or into the
 *   chunk buffer, and the cache is updated in place (vtab_store.c).
 *   Conflicts follow sqlite3_vtab_on_conflict(): REPLACE overwrites, IGNORE
 *   skips (SQLite turns the SQLITE_CONSTRAINT into OK), others fail.
 *   UPDATE of the token only: xColumn used sqlite3_vtab_nochange() for the
 *   vector, so the stored bytes are kept without a decode/encode round trip.
 */
#include "vtab_store.h"
#include "value.h"

#include <float.h>
#include <math.h>
#include <string.h>

static int idArg(EmbVtab *p, sqlite3_value *v, int64_t *out)
{
    int t = sqlite3_value_numeric_type(v);
    int64_t x;
    if (t == SQLITE_INTEGER) {
        x = sqlite3_value_int64(v);
    } else if (t == SQLITE_FLOAT && sqlite3_value_double(v) == floor(sqlite3_value_double(v)) &&
               fabs(sqlite3_value_double(v)) < 9e18) {
        x = (int64_t)sqlite3_value_double(v);
    } else {
        return embVtabError(p, SQLITE_MISMATCH,
                            "embedding %s: token_id must be an integer (found %s)", p->zName,
                            embTypeName(sqlite3_value_type(v)));
    }
    if (x < 0)
        return embVtabError(p, SQLITE_CONSTRAINT, "embedding %s: token_id %lld is negative",
                            p->zName, (long long)x);
    if (x > EMB_VTAB_MAX_ID)
        return embVtabError(p, SQLITE_CONSTRAINT,
                            "embedding %s: token_id %lld exceeds the maximum %d", p->zName,
                            (long long)x, EMB_VTAB_MAX_ID);
    *out = x;
    return SQLITE_OK;
}

/* Decode, check and encode the vector into row (row_bytes) / *scale. */
static int vecArg(EmbVtab *p, sqlite3_value *v, unsigned char *row, float *scale)
{
    EmbVec vec;
    char *zErr = NULL;
    if (!p->zWhat && !(p->zWhat = sqlite3_mprintf("embedding %s", p->zName)))
        return SQLITE_NOMEM;
    int rc = embVecFromValue(v, p->zWhat, &vec, &zErr);
    if (rc == SQLITE_DONE)
        return embVtabError(p, SQLITE_CONSTRAINT, "embedding %s: vector must not be NULL",
                            p->zName);
    if (rc != SQLITE_OK) {
        if (zErr) {
            sqlite3_free(p->base.zErrMsg);
            p->base.zErrMsg = zErr;
        }
        return rc == SQLITE_NOMEM ? rc : SQLITE_MISMATCH;
    }
    if (vec.dim != p->dim) {
        int d = vec.dim;
        embVecFree(&vec);
        return embVtabError(p, SQLITE_MISMATCH, "embedding %s: vector has %d values; table %s has dim %d%s",
                            p->zName, d, p->zName, p->dim, embFloat64Hint(v, p->dim));
    }
    /* One SIMD pass first: when |v| is finite and within the dtype's range,
     * so is every element (a NaN or inf makes it NaN or inf); only other
     * vectors are looked at element by element (rows of large but valid
     * values included, which then pass). */
    const emb_kernels *k = emb_kernels_get();
    float lim = p->dtype == EMB_DTYPE_F16 ? 65504.0f : p->dtype == EMB_DTYPE_BF16 ? 3.38953139e38f : FLT_MAX;
    float norm = k->norm_f32(vec.v, (size_t)vec.dim);
    for (int i = 0; !(norm <= lim) && i < vec.dim; i++) {
        float x = vec.v[i];
        if (!isfinite(x)) {
            embVecFree(&vec);
            return embVtabError(p, SQLITE_MISMATCH,
                                "embedding %s: vector element %d is %s (expected a finite float)",
                                p->zName, i, x != x ? "NaN" : (x > 0 ? "inf" : "-inf"));
        }
        if (p->dtype == EMB_DTYPE_F16 && fabsf(x) > 65504.0f) {
            embVecFree(&vec);
            return embVtabError(p, SQLITE_MISMATCH,
                                "embedding %s: vector element %d (%g) exceeds the f16 range (65504)",
                                p->zName, i, (double)x);
        }
        /* the largest finite bf16, 0x7F7F: (2 - 2^-7) * 2^127 */
        if (p->dtype == EMB_DTYPE_BF16 && fabsf(x) > 3.38953139e38f) {
            embVecFree(&vec);
            return embVtabError(p, SQLITE_MISMATCH,
                                "embedding %s: vector element %d (%g) exceeds the bf16 range (3.38953e+38)",
                                p->zName, i, (double)x);
        }
    }
    emb_row_encode(k, p->dtype, row, scale, vec.v, (size_t)p->dim);
    embVecFree(&vec);
    return SQLITE_OK;
}

static int tokArg(EmbVtab *p, sqlite3_value *v, const char **tok, int *n)
{
    int t = sqlite3_value_type(v);
    *tok = NULL;
    *n = 0;
    if (t == SQLITE_NULL)
        return SQLITE_OK;
    if (t != SQLITE_TEXT)
        return embVtabError(p, SQLITE_MISMATCH, "embedding %s: token must be text (found %s)",
                            p->zName, embTypeName(t));
    *tok = (const char *)sqlite3_value_text(v);
    *n = sqlite3_value_bytes(v);
    return *tok ? SQLITE_OK : SQLITE_NOMEM;
}

/* Store a fresh version once per transaction (dropping a stale cache). */
static int ensureVersion(EmbVtab *p)
{
    if (p->version_written)
        return SQLITE_OK;
    int64_t old, v;
    int rc = embStoreReadVersion(p, &old);
    if (rc)
        return rc;
    if (p->cache && p->cache->version != old)
        embCacheDrop(p);
    do
        sqlite3_randomness(sizeof v, &v);
    while (v == old || v == 0);
    if ((rc = embStoreWriteVersion(p, v)) != SQLITE_OK)
        return rc;
    embCacheSetVersion(p, v); /* the copy becomes private first (vtab_cache.c) */
    p->version_written = 1;
    p->txn_wrote = 1;
    return SQLITE_OK;
}

/* Largest stored id + 1 (0 for an empty table).  Chunks are looked at from
 * the last one down (a chunk without valid rows is dropped when its buffer
 * is flushed, but one may be stored by a build that did not). */
static int nextId(EmbVtab *p, int64_t *out)
{
    if (p->next_id >= 0) {
        *out = p->next_id;
        return SQLITE_OK;
    }
    int rc = embBufFlush(p);
    if (rc)
        return rc;
    char *sql = sqlite3_mprintf("SELECT chunk_id FROM \"%w\".\"%w_chunks\" ORDER BY chunk_id DESC",
                                p->zDb, p->zName);
    sqlite3_stmt *st = NULL;
    if (!sql)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(p->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    int64_t next = 0;
    while (rc == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW) {
            if (step != SQLITE_DONE)
                rc = step;
            break;
        }
        int64_t c = sqlite3_column_int64(st, 0);
        /* (embBufLoad runs its own statement on the same table meanwhile) */
        if ((rc = embBufLoad(p, c)) != SQLITE_OK)
            break;
        int cr = p->chunk_rows, last = -1;
        for (int i = cr - 1; i >= 0 && last < 0; i--)
            if (embBufValid(p, (size_t)i))
                last = i;
        if (last >= 0) {
            next = c * cr + last + 1;
            break;
        }
    }
    if (st) {
        int rc2 = sqlite3_finalize(st);
        if (rc == SQLITE_OK)
            rc = rc2;
    }
    if (rc != SQLITE_OK)
        return p->base.zErrMsg ? rc : embDbError(p, rc);
    p->next_id = next;
    *out = next;
    return SQLITE_OK;
}

/* Writes to chunk c go through the buffer when it holds c already or the
 * previous write was to c too (sequential writes); otherwise rows are
 * read / written in place (vtab_layout.c): a lone write costs the pages of
 * its row, not a chunk. */
static int useBuffer(EmbVtab *p, int64_t c)
{
    return c == p->buf.chunk || c == p->last_chunk;
}

static int rowValid(EmbVtab *p, int64_t id, int *valid)
{
    int64_t c = id / p->chunk_rows;
    size_t off = (size_t)(id % p->chunk_rows);
    int rc;
    if (useBuffer(p, c)) {
        if ((rc = embBufLoad(p, c)) == SQLITE_OK)
            *valid = embBufValid(p, off);
        return rc;
    }
    rc = embRowValidIO(p, id, valid);
    if (rc == SQLITE_NOTFOUND) {
        *valid = 0;
        p->absent_chunk = c; /* putRow goes to the buffer directly */
        rc = SQLITE_OK;
    }
    return rc;
}

/* The stored bytes (and scale) of an existing row. */
static int readRow(EmbVtab *p, int64_t id, unsigned char *row, float *scale)
{
    int64_t c = id / p->chunk_rows;
    size_t off = (size_t)(id % p->chunk_rows);
    if (c == p->buf.chunk) {
        memcpy(row, embBufRow(p, off), p->row_bytes);
        *scale = embBufScale(p, off);
        return SQLITE_OK;
    }
    int rc = embRowReadIO(p, id, row, scale);
    if (rc == SQLITE_NOTFOUND)
        rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: chunk %lld vanished", p->zName,
                          (long long)c);
    return rc;
}

/* Store row id: in place when its chunk is stored and not buffered,
 * else in the buffer (a new chunk, or sequential writes). */
static int putRow(EmbVtab *p, int64_t id, const unsigned char *row, float scale)
{
    int64_t c = id / p->chunk_rows;
    int rc;
    if (!useBuffer(p, c) && c != p->absent_chunk) {
        p->last_chunk = c;
        rc = embRowWriteIO(p, id, row, scale);
        if (rc != SQLITE_NOTFOUND)
            return rc;
    }
    p->last_chunk = c;
    if ((rc = embBufLoad(p, c)) != SQLITE_OK)
        return rc;
    embBufSet(p, (size_t)(id % p->chunk_rows), row, scale);
    return SQLITE_OK;
}

/* A delete goes through the buffer even when alone: its flush UPDATEs the
 * chunk (SQLite writes only the page whose bytes changed) or, when no row
 * is left, deletes the chunk. */
static int delRow(EmbVtab *p, int64_t id)
{
    p->last_chunk = id / p->chunk_rows;
    int rc = embBufLoad(p, id / p->chunk_rows);
    if (rc)
        return rc;
    embBufClear(p, (size_t)(id % p->chunk_rows));
    if ((rc = embTokDel(p, id)) != SQLITE_OK)
        return rc;
    embCacheDel(p, id);
    if (p->next_id == id + 1)
        p->next_id = -1;
    return SQLITE_OK;
}

static int doDelete(EmbVtab *p, sqlite3_value *v)
{
    int64_t id = sqlite3_value_int64(v);
    int valid = 0;
    if (id < 0 || id > EMB_VTAB_MAX_ID)
        return SQLITE_OK;
    int rc = rowValid(p, id, &valid);
    if (rc || !valid)
        return rc;
    if ((rc = ensureVersion(p)) != SQLITE_OK)
        return rc;
    return delRow(p, id);
}

static int tokExists(EmbVtab *p, const char *tok, int n, int64_t owner)
{
    return embVtabError(p, SQLITE_CONSTRAINT,
                        "embedding %s: token '%.*s' already exists (token_id %lld)", p->zName, n,
                        tok, (long long)owner);
}

/* The token must not belong to a row other than newId / oldId (index lookup). */
static int tokCheck(EmbVtab *p, const char *tok, int n, int64_t newId, int64_t oldId)
{
    int64_t owner;
    int rc = embTokFind(p, tok, n, &owner);
    if (rc == SQLITE_OK && owner >= 0 && owner != newId && owner != oldId)
        rc = tokExists(p, tok, n, owner);
    return rc;
}

/* Token write of an INSERT into the free slot newId: the UNIQUE index on
 * token rejects a token that another row holds (rows written earlier in
 * this statement or transaction included, rolled back ones not), before
 * the write changes anything; only then is the owner looked up for the
 * message.  Same outcome as tokCheck + embTokPut with one lookup fewer. */
static int tokPutNew(EmbVtab *p, int64_t newId, const char *tok, int n)
{
    int rc = embTokPut(p, newId, tok, n);
    if (rc == SQLITE_OK)
        return rc;
    /* (embTokPut reports a constraint as SQLITE_ERROR; any failure with the
     * token held elsewhere is the failure the old pre-check reported) */
    int64_t owner;
    if (embTokFind(p, tok, n, &owner) == SQLITE_OK && owner >= 0 && owner != newId)
        return tokExists(p, tok, n, owner);
    return rc;
}

static int update(EmbVtab *p, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid)
{
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = NULL;
    p->absent_chunk = -1;
    if (argc == 1)
        return doDelete(p, argv[0]);

    int isInsert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
    int64_t oldId = isInsert ? -1 : sqlite3_value_int64(argv[0]);
    sqlite3_value *vId = argv[2 + EMB_COL_ID], *vRow = argv[1];
    sqlite3_value *vVec = argv[2 + EMB_COL_VECTOR], *vTok = argv[2 + EMB_COL_TOKEN];
    int64_t newId = -1, other = -1;
    int rc = SQLITE_OK;

    /* 1. check every argument */
    if (isInsert) {
        if (sqlite3_value_type(vId) != SQLITE_NULL) {
            rc = idArg(p, vId, &newId);
            if (rc == SQLITE_OK && sqlite3_value_type(vRow) != SQLITE_NULL) {
                rc = idArg(p, vRow, &other);
                if (rc == SQLITE_OK && other != newId)
                    rc = embVtabError(p, SQLITE_CONSTRAINT,
                                      "embedding %s: rowid and token_id differ (%lld vs %lld)",
                                      p->zName, (long long)other, (long long)newId);
            }
        } else if (sqlite3_value_type(vRow) != SQLITE_NULL) {
            rc = idArg(p, vRow, &newId);
        }
    } else {
        int64_t colId = -1, rowId = -1;
        rc = idArg(p, vId, &colId);
        if (rc == SQLITE_OK)
            rc = idArg(p, vRow, &rowId);
        newId = colId != oldId ? colId : rowId;
    }
    if (rc)
        return rc;
    unsigned char *row = (unsigned char *)(p->scratch + p->dim);
    float scale = 0;
    int keepVec = !isInsert && sqlite3_value_nochange(vVec);
    if (!keepVec && (rc = vecArg(p, vVec, row, &scale)) != SQLITE_OK)
        return rc;
    const char *tok;
    int nTok;
    if ((rc = tokArg(p, vTok, &tok, &nTok)) != SQLITE_OK)
        return rc;
    if (newId < 0) {
        if ((rc = nextId(p, &newId)) != SQLITE_OK)
            return rc;
        if (newId > EMB_VTAB_MAX_ID)
            return embVtabError(p, SQLITE_CONSTRAINT,
                                "embedding %s: token_id %lld exceeds the maximum %d", p->zName,
                                (long long)newId, EMB_VTAB_MAX_ID);
    }
    /* An INSERT into a free slot leaves the token check to the UNIQUE
     * index of the token write (its first change, see below); otherwise
     * the token is checked here, before the token_id conflict. */
    int moved = !isInsert && newId != oldId, replacing = 0, valid = 0;
    if (tok && !isInsert && (rc = tokCheck(p, tok, nTok, newId, oldId)) != SQLITE_OK)
        return rc;
    if (isInsert || moved) {
        if ((rc = rowValid(p, newId, &valid)) != SQLITE_OK)
            return rc;
        if (tok && isInsert && valid && (rc = tokCheck(p, tok, nTok, newId, oldId)) != SQLITE_OK)
            return rc;
        if (valid) {
            int mode = sqlite3_vtab_on_conflict(p->db);
            if (mode != SQLITE_REPLACE) {
                if (mode != SQLITE_IGNORE)
                    embVtabError(p, SQLITE_CONSTRAINT, "embedding %s: token_id %lld already exists",
                                 p->zName, (long long)newId);
                return SQLITE_CONSTRAINT;
            }
            replacing = 1;
        }
    }
    if (!isInsert) {
        if ((rc = rowValid(p, oldId, &valid)) != SQLITE_OK)
            return rc;
        if (!valid)
            return SQLITE_OK; /* the row went away meanwhile */
        if (keepVec && (rc = readRow(p, oldId, row, &scale)) != SQLITE_OK)
            return rc;
    }

    /* 2. apply */
    if ((rc = ensureVersion(p)) != SQLITE_OK)
        return rc;
    if (moved && (rc = delRow(p, oldId)) != SQLITE_OK)
        return rc;
    int keepTok = 0;
    if (!isInsert && !moved && p->cache && (uint64_t)newId < p->cache->n_rows) {
        const char *old = p->cache->tok[newId];
        keepTok = (old == NULL && tok == NULL) ||
                  (old && tok && p->cache->tok_len[newId] == nTok && memcmp(old, tok, (size_t)nTok) == 0);
    }
    if (!keepTok) {
        if (tok && isInsert && !valid)
            rc = tokPutNew(p, newId, tok, nTok);
        else if (tok)
            rc = embTokPut(p, newId, tok, nTok);
        else if (replacing || !isInsert)
            rc = embTokDel(p, newId);
        if (rc)
            return rc;
    }
    if ((rc = putRow(p, newId, row, scale)) != SQLITE_OK)
        return rc;
    embCachePut(p, newId, row, scale, tok, nTok, keepTok);
    if (p->next_id >= 0 && newId >= p->next_id)
        p->next_id = newId + 1;
    if (isInsert)
        *pRowid = newId;
    return SQLITE_OK;
}

int embUpdate(sqlite3_vtab *tab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid)
{
    EmbVtab *p = (EmbVtab *)tab;
    p->in_update++;
    int rc = update(p, argc, argv, pRowid);
    p->in_update--;
    return rc;
}
