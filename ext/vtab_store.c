/*
 * vtab_store.c - storage side of the `embedding` virtual table: shadow-table
 * statements, the one-chunk write buffer and the token rows.  The matrix
 * cache is in vtab_cache.c, the per-connection registry and the embtab.h
 * API in vtab_registry.c; vtab_store.h declares all three.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=4);
 *   insert into wte(token, vector) values ('a', '[1,0,0,0]');
 *   select emb_lookup('wte', 0);          -- served by the cache below
 *
 * How it works
 *   Shadow tables (see vtab_embedding.c for the schema): rows of token ids
 *   c*chunk_rows .. (c+1)*chunk_rows-1 live in one `_chunks` row c, laid
 *   out as vtab_layout.c says (format 2: one `slots` blob, each row's bytes
 *   and valid flag within one page; format 1: valid / vectors / scales).
 *   A lone write to a stored chunk is done in place with sqlite3_blob_write
 *   (vtab_layout.c): it dirties the row's page only.  Other writes go to an
 *   in-memory copy of one chunk (EmbChunkBuf, the stored blobs as they are)
 *   which is written back when a write moves to another chunk, at xSync,
 *   at xSavepoint (except the savepoints of xUpdate's own shadow-table
 *   statements) and before the cache is loaded; xRollback / xRollbackTo
 *   discard it.  Written back means an UPDATE of the stored row, with blobs
 *   of unchanged sizes, so SQLite writes only the pages whose bytes
 *   differ; an INSERT for a new chunk; a DELETE when no valid row is left.
 *   So a bulk insert writes each chunk once, and a second consecutive write
 *   to one chunk (vtab_write.c) costs what changed, not the chunk.
 *   The cache (EmbCache, vtab_cache.c) is a contiguous copy of the whole
 *   matrix.  It carries the `version` it reflects; the table stores a fresh
 *   random version (an UPDATE of its _config row: one page) at the first
 *   change of each write transaction, and readers compare it before each
 *   query, so changes from other connections (or rolled back ones) are
 *   noticed.  This connection's own writes update the cache in place
 *   (write-through); when that is impossible (a reference is held, no
 *   memory) the cache is dropped and reloaded on the next read.
 */
#include "vtab_store.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int embVtabError(EmbVtab *p, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    return rc;
}

/* An SQLite failure while touching shadow tables. */
int embDbError(EmbVtab *p, int rc)
{
    if (rc == SQLITE_NOMEM)
        return rc;
    return embVtabError(p, rc, "embedding %s: %s", p->zName, sqlite3_errmsg(p->db));
}

int embStmt(EmbVtab *p, sqlite3_stmt **pp, const char *fmt, ...)
{
    if (*pp)
        return SQLITE_OK;
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (!sql)
        return SQLITE_NOMEM;
    int rc = sqlite3_prepare_v3(p->db, sql, -1, SQLITE_PREPARE_PERSISTENT, pp, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return embDbError(p, rc);
    return SQLITE_OK;
}

void embStoreFinalize(EmbVtab *p)
{
    sqlite3_stmt **all[] = {&p->stVersion, &p->stVersionPut, &p->stVersionIns, &p->stChunkGet,
                            &p->stChunkPut, &p->stChunkIns, &p->stChunkDel, &p->stTokFind,
                            &p->stTokIns, &p->stTokDel, &p->stTokenizer};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

/* Step a statement expected to finish (no row); resets it.  The error is
 * the step's own (a second sqlite3_reset would say SQLITE_OK, and an out of
 * memory reported as a plain error sends callers down paths meant for a
 * missing table: SQLite may have rolled the transaction back). */
static int stepDone(EmbVtab *p, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int rc2 = sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SQLITE_OK;
    return embDbError(p, rc2 ? rc2 : rc == SQLITE_ROW ? SQLITE_ERROR : rc);
}

/* Step st once: *out = column 0 of its row, or dflt when there is none;
 * st is reset.  SQLITE_OK, or the error with its message on p. */
static int stepInt64(EmbVtab *p, sqlite3_stmt *st, int64_t dflt, int64_t *out)
{
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : dflt;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return SQLITE_OK;
    }
    rc = sqlite3_reset(st);
    return embDbError(p, rc ? rc : SQLITE_ERROR);
}

int embStoreReadVersion(EmbVtab *p, int64_t *out)
{
    int rc = embStmt(p, &p->stVersion,
                     "SELECT value FROM \"%w\".\"%w_config\" WHERE key = 'version'", p->zDb,
                     p->zName);
    if (rc)
        return rc;
    return stepInt64(p, p->stVersion, 0, out);
}

/* An UPDATE of the one row (its page only; INSERT OR REPLACE also rewrote
 * the key's index entry); INSERT when the row is missing. */
int embStoreWriteVersion(EmbVtab *p, int64_t v)
{
    int rc = embStmt(p, &p->stVersionPut,
                     "UPDATE \"%w\".\"%w_config\" SET value = ? WHERE key = 'version'", p->zDb,
                     p->zName);
    if (rc)
        return rc;
    sqlite3_bind_int64(p->stVersionPut, 1, v);
    sqlite3_int64 last = sqlite3_last_insert_rowid(p->db);
    rc = stepDone(p, p->stVersionPut);
    if (rc == SQLITE_OK && sqlite3_changes(p->db) == 0) {
        rc = embStmt(p, &p->stVersionIns,
                     "INSERT INTO \"%w\".\"%w_config\"(key, value) VALUES ('version', ?)", p->zDb,
                     p->zName);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(p->stVersionIns, 1, v);
            rc = stepDone(p, p->stVersionIns);
        }
    }
    sqlite3_set_last_insert_rowid(p->db, last);
    return rc;
}

/* ---- chunk buffer ------------------------------------------------------ */

static int bufAlloc(EmbVtab *p)
{
    EmbChunkBuf *b = &p->buf;
    if (b->vectors)
        return SQLITE_OK;
    size_t cr = (size_t)p->chunk_rows;
    if (p->lay.format == 2) {
        b->vectors = sqlite3_malloc64((size_t)p->lay.chunk_bytes);
        return b->vectors ? SQLITE_OK : SQLITE_NOMEM;
    }
    b->valid = sqlite3_malloc64(cr);
    b->vectors = sqlite3_malloc64(cr * p->row_bytes);
    b->scales = p->dtype == EMB_DTYPE_I8 ? sqlite3_malloc64(cr * sizeof(float)) : NULL;
    if (!b->valid || !b->vectors || (p->dtype == EMB_DTYPE_I8 && !b->scales)) {
        embBufFree(p);
        return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

void embBufFree(EmbVtab *p)
{
    sqlite3_free(p->buf.valid);
    sqlite3_free(p->buf.vectors);
    sqlite3_free(p->buf.scales);
    memset(&p->buf, 0, sizeof p->buf);
    p->buf.chunk = -1;
}

void embBufDiscard(EmbVtab *p)
{
    p->buf.chunk = -1;
    p->buf.dirty = 0;
}

/* Write the buffer back: a chunk without valid rows is deleted, a stored
 * one is UPDATEd (same blob sizes: SQLite rewrites only the pages whose
 * bytes differ), a new one INSERTed. */
int embBufFlush(EmbVtab *p)
{
    EmbChunkBuf *b = &p->buf;
    if (b->chunk < 0 || !b->dirty)
        return SQLITE_OK;
    /* shadow writes must not change the user's last_insert_rowid() */
    sqlite3_int64 last = sqlite3_last_insert_rowid(p->db);
    size_t cr = (size_t)p->chunk_rows;
    int any = 0, f2 = p->lay.format == 2;
    for (size_t i = 0; i < cr && !any; i++)
        any = embBufValid(p, i);
    int rc;
    sqlite3_stmt *st;
    if (!any) {
        rc = embStmt(p, &p->stChunkDel, "DELETE FROM \"%w\".\"%w_chunks\" WHERE chunk_id = ?",
                     p->zDb, p->zName);
        if (rc)
            return rc;
        sqlite3_bind_int64(p->stChunkDel, 1, b->chunk);
        rc = stepDone(p, p->stChunkDel);
        if (rc == SQLITE_OK)
            b->stored = 0;
    } else {
        if (b->stored)
            rc = f2 ? embStmt(p, &p->stChunkPut,
                              "UPDATE \"%w\".\"%w_chunks\" SET slots = ?2 WHERE chunk_id = ?1",
                              p->zDb, p->zName)
                    : embStmt(p, &p->stChunkPut,
                              "UPDATE \"%w\".\"%w_chunks\" SET valid = ?2, vectors = ?3, scales = ?4"
                              " WHERE chunk_id = ?1",
                              p->zDb, p->zName);
        else
            rc = f2 ? embStmt(p, &p->stChunkIns,
                              "INSERT INTO \"%w\".\"%w_chunks\"(chunk_id, pad, slots)"
                              " VALUES (?1, zeroblob(%d), ?2)",
                              p->zDb, p->zName, p->lay.pad_bytes)
                    : embStmt(p, &p->stChunkIns,
                              "INSERT INTO \"%w\".\"%w_chunks\"(chunk_id, valid, vectors, scales)"
                              " VALUES (?1, ?2, ?3, ?4)",
                              p->zDb, p->zName);
        if (rc)
            return rc;
        st = b->stored ? p->stChunkPut : p->stChunkIns;
        sqlite3_bind_int64(st, 1, b->chunk);
        if (f2) {
            sqlite3_bind_blob64(st, 2, b->vectors, (size_t)p->lay.chunk_bytes, SQLITE_STATIC);
        } else {
            sqlite3_bind_blob64(st, 2, b->valid, cr, SQLITE_STATIC);
            sqlite3_bind_blob64(st, 3, b->vectors, cr * p->row_bytes, SQLITE_STATIC);
            if (b->scales)
                sqlite3_bind_blob64(st, 4, b->scales, cr * sizeof(float), SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 4);
        }
        rc = stepDone(p, st);
        sqlite3_clear_bindings(st);
        if (rc == SQLITE_OK)
            b->stored = 1;
    }
    if (rc == SQLITE_OK)
        b->dirty = 0;
    sqlite3_set_last_insert_rowid(p->db, last);
    return rc;
}

int embBufLoad(EmbVtab *p, int64_t c)
{
    EmbChunkBuf *b = &p->buf;
    if (b->chunk == c && b->vectors)
        return SQLITE_OK;
    int rc = embBufFlush(p);
    if (rc)
        return rc;
    if ((rc = bufAlloc(p)) != SQLITE_OK)
        return rc;
    rc = embStmt(p, &p->stChunkGet, "SELECT %s FROM \"%w\".\"%w_chunks\" WHERE chunk_id = ?",
                 embLayoutCols(p), p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_stmt *st = p->stChunkGet;
    size_t cr = (size_t)p->chunk_rows;
    size_t nvec = p->lay.format == 2 ? (size_t)p->lay.chunk_bytes : cr * p->row_bytes;
    sqlite3_bind_int64(st, 1, c);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = embChunkCheckRow(p, c, st, 0);
        if (rc == SQLITE_OK && p->lay.format == 2) {
            memcpy(b->vectors, sqlite3_column_blob(st, 0), nvec);
        } else if (rc == SQLITE_OK) {
            memcpy(b->valid, sqlite3_column_blob(st, 0), cr);
            memcpy(b->vectors, sqlite3_column_blob(st, 1), nvec);
            if (b->scales)
                memcpy(b->scales, sqlite3_column_blob(st, 2), cr * sizeof(float));
        }
        sqlite3_reset(st);
        if (rc)
            return rc;
        b->stored = 1;
    } else if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        if (b->valid)
            memset(b->valid, 0, cr);
        memset(b->vectors, 0, nvec);
        if (b->scales)
            memset(b->scales, 0, cr * sizeof(float));
        b->stored = 0;
    } else {
        rc = sqlite3_reset(st);
        return embDbError(p, rc ? rc : SQLITE_ERROR);
    }
    b->chunk = c;
    b->dirty = 0;
    return SQLITE_OK;
}

int embChunkIO(EmbVtab *p, const char *zCol, int64_t c, int write, void *buf, int n, int off)
{
    char *zTab = sqlite3_mprintf("%s_chunks", p->zName);
    sqlite3_blob *b = NULL;
    if (!zTab)
        return SQLITE_NOMEM;
    int rc = sqlite3_blob_open(p->db, p->zDb, zTab, zCol, c, write, &b);
    sqlite3_free(zTab);
    if (rc == SQLITE_ERROR) /* no such rowid */
        return SQLITE_NOTFOUND;
    if (rc != SQLITE_OK)
        return embDbError(p, rc);
    if (off < 0 || n < 0 || off > sqlite3_blob_bytes(b) - n) {
        sqlite3_blob_close(b);
        return embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk %lld (%s blob)",
                            p->zName, (long long)c, zCol);
    }
    rc = write ? sqlite3_blob_write(b, buf, n, off) : sqlite3_blob_read(b, buf, n, off);
    int rc2 = sqlite3_blob_close(b);
    if (rc == SQLITE_OK)
        rc = rc2;
    return rc == SQLITE_OK ? SQLITE_OK : embDbError(p, rc);
}

/* ---- tokens -------------------------------------------------------------- */

int embTokFind(EmbVtab *p, const char *tok, int n, int64_t *id)
{
    int rc = embStmt(p, &p->stTokFind, "SELECT token_id FROM \"%w\".\"%w_tokens\" WHERE token = ?",
                     p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_bind_text(p->stTokFind, 1, tok, n, SQLITE_STATIC);
    return stepInt64(p, p->stTokFind, -1, id);
}

int embTokPut(EmbVtab *p, int64_t id, const char *tok, int n)
{
    int rc = embStmt(p, &p->stTokIns,
                     "INSERT INTO \"%w\".\"%w_tokens\"(token_id, token) VALUES (?, ?)"
                     " ON CONFLICT(token_id) DO UPDATE SET token = excluded.token",
                     p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_bind_int64(p->stTokIns, 1, id);
    sqlite3_bind_text(p->stTokIns, 2, tok, n, SQLITE_STATIC);
    sqlite3_int64 last = sqlite3_last_insert_rowid(p->db);
    rc = stepDone(p, p->stTokIns);
    sqlite3_set_last_insert_rowid(p->db, last);
    return rc;
}

int embTokDel(EmbVtab *p, int64_t id)
{
    int rc = embStmt(p, &p->stTokDel, "DELETE FROM \"%w\".\"%w_tokens\" WHERE token_id = ?",
                     p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_bind_int64(p->stTokDel, 1, id);
    return stepDone(p, p->stTokDel);
}

