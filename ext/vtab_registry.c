/*
 * vtab_registry.c - the per-connection registry of open `embedding` tables
 * and the embtab.h API through which the scalar and table-valued functions
 * reach a table's cached matrix by name.
 */
#include "vtab_store.h"

#include <stdlib.h>
#include <string.h>

/* ---- registry and embtab.h ------------------------------------------------ */

EmbConn *embConnNew(void)
{
    EmbConn *c = sqlite3_malloc(sizeof *c);
    if (c) {
        c->list = NULL;
        c->tok = NULL;
    }
    return c;
}

void embConnFree(void *conn)
{
    if (conn)
        embTokCacheFree(((EmbConn *)conn)->tok);
    sqlite3_free(conn);
}

void **embConnTokSlot(EmbConn *conn)
{
    return &conn->tok;
}

void embConnAdd(EmbConn *conn, EmbVtab *p)
{
    if (!conn)
        return;
    p->pNext = conn->list;
    conn->list = p;
}

void embConnRemove(EmbConn *conn, EmbVtab *p)
{
    if (!conn)
        return;
    for (EmbVtab **pp = &conn->list; *pp; pp = &(*pp)->pNext) {
        if (*pp == p) {
            *pp = p->pNext;
            return;
        }
    }
}

struct EmbTableRef {
    EmbCache *c;
    int metric;
};

static EmbVtab *connFind(EmbConn *conn, const char *zDb, const char *zName)
{
    static const char *const order[] = {"temp", "main", NULL};
    if (zDb) {
        for (EmbVtab *p = conn->list; p; p = p->pNext)
            if (sqlite3_stricmp(p->zDb, zDb) == 0 && sqlite3_stricmp(p->zName, zName) == 0)
                return p;
        return NULL;
    }
    for (int i = 0; i < 3; i++)
        for (EmbVtab *p = conn->list; p; p = p->pNext)
            if (sqlite3_stricmp(p->zName, zName) == 0 &&
                (!order[i] || sqlite3_stricmp(p->zDb, order[i]) == 0))
                return p;
    return NULL;
}

/* "schema.table" or "table": *pzDb = the schema (sqlite3_free it; NULL when
 * none is named), *pzTab = the table (borrowed from zName). */
static int nameParts(const char *zName, char **pzDb, const char **pzTab)
{
    const char *dot = strchr(zName, '.');
    *pzDb = dot ? sqlite3_mprintf("%.*s", (int)(dot - zName), zName) : NULL;
    *pzTab = dot ? dot + 1 : zName;
    return dot && !*pzDb ? SQLITE_NOMEM : SQLITE_OK;
}

/* The table is not connected yet, or this connection holds an old
 * instance (another connection dropped or re-created it): preparing and
 * stepping a statement that reads the table makes SQLite check the schema
 * and connect the current instance, which goes first in the registry.
 * *pp = that instance, or NULL when there is no such table; SQLITE_NOMEM
 * when memory ran out, else SQLITE_OK. */
static int connectByStatement(EmbConn *conn, sqlite3 *db, const char *zDb, const char *zTab,
                              EmbVtab **pp)
{
    char *sql = zDb ? sqlite3_mprintf("SELECT 1 FROM \"%w\".\"%w\" WHERE 0", zDb, zTab)
                    : sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE 0", zTab);
    sqlite3_stmt *st = NULL;
    int qrc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    *pp = NULL;
    if (qrc == SQLITE_OK && (qrc = sqlite3_step(st)) == SQLITE_DONE)
        *pp = connFind(conn, zDb, zTab);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return qrc == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
}

int embTableReleaseCache(EmbConn *conn, const char *zName)
{
    const char *dot = strchr(zName, '.');
    char *zDb = dot ? sqlite3_mprintf("%.*s", (int)(dot - zName), zName) : NULL;
    EmbVtab *p = conn ? connFind(conn, zDb, dot ? dot + 1 : zName) : NULL;
    sqlite3_free(zDb);
    if (!p || !p->cache)
        return 0;
    embCacheDrop(p);
    return 1;
}

/* embCacheEnsure for a function (no statement on the table holds p): if
 * SQLite disconnected p meanwhile, free it, *pp = NULL, SQLITE_ERROR; but
 * SQLITE_NOMEM when the load ran out of memory (SQLite then rolls back the
 * whole transaction, which can disconnect a table it had created: the
 * cause is the memory, not a missing table). */
static int ensureHeld(EmbVtab **pp)
{
    EmbVtab *p = *pp;
    p->busy++;
    int rc = embCacheEnsure(p);
    if (--p->busy == 0 && p->zombie) {
        embVtabFree(p);
        *pp = NULL;
        return rc == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    }
    return rc;
}

int embTableOpen(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                 EmbTableRef **pp, char **pzErr)
{
    *pzErr = NULL;
    if (!conn || !zName) {
        *pzErr = sqlite3_mprintf("%s: no such embedding table: %s", zFunc, zName ? zName : "NULL");
        return SQLITE_ERROR;
    }
    char *zDb;
    const char *zTab;
    if (nameParts(zName, &zDb, &zTab) != SQLITE_OK)
        return SQLITE_NOMEM;
    EmbVtab *p = connFind(conn, zDb, zTab);
    int rc = p ? ensureHeld(&p) : SQLITE_ERROR;
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        if (connectByStatement(conn, db, zDb, zTab, &p) == SQLITE_NOMEM)
            rc = SQLITE_NOMEM;
        else
            rc = p ? ensureHeld(&p) : SQLITE_ERROR;
    }
    sqlite3_free(zDb);
    if (rc == SQLITE_NOMEM)
        return rc;
    if (!p) {
        *pzErr = sqlite3_mprintf("%s: no such embedding table: %s", zFunc, zName);
        return SQLITE_ERROR;
    }
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("%s: %s", zFunc,
                                 p->base.zErrMsg ? p->base.zErrMsg : sqlite3_errstr(rc));
        return rc;
    }
    EmbTableRef *ref = sqlite3_malloc(sizeof *ref);
    if (!ref)
        return SQLITE_NOMEM;
    ref->metric = p->metric;
    ref->c = p->cache;
    embCacheRetain(ref->c);
    *pp = ref;
    return SQLITE_OK;
}

int embTableTokVersion(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                       sqlite3_int64 *pVersion, int *pFound, char **pzErr)
{
    *pzErr = NULL;
    *pFound = 0;
    char *zDb;
    const char *zTab;
    if (nameParts(zName, &zDb, &zTab) != SQLITE_OK)
        return SQLITE_NOMEM;
    EmbVtab *p = conn ? connFind(conn, zDb, zTab) : NULL;
    if (!p && connectByStatement(conn, db, zDb, zTab, &p) == SQLITE_NOMEM) {
        sqlite3_free(zDb);
        return SQLITE_NOMEM;
    }
    sqlite3_free(zDb);
    if (!p) {
        *pzErr = sqlite3_mprintf("%s: no such embedding table: %s", zFunc, zName);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    p->busy++;
    int rc = SQLITE_OK;
    if (!p->stTokenizer) {
        char *sql = sqlite3_mprintf("SELECT version FROM \"%w\".\"%w_tokenizer\" WHERE id = 1",
                                    p->zDb, p->zName);
        rc = sql ? sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &p->stTokenizer, NULL)
                 : SQLITE_NOMEM;
        sqlite3_free(sql);
        if (rc != SQLITE_OK && rc != SQLITE_NOMEM)
            rc = SQLITE_OK; /* no such table yet: no tokenizer */
    }
    if (rc == SQLITE_OK && p->stTokenizer) {
        int s = sqlite3_step(p->stTokenizer);
        if (s == SQLITE_ROW) {
            *pVersion = sqlite3_column_int64(p->stTokenizer, 0);
            *pFound = 1;
        }
        if (sqlite3_reset(p->stTokenizer) == SQLITE_NOMEM) {
            rc = SQLITE_NOMEM;
        } else if (s != SQLITE_ROW && s != SQLITE_DONE) {
            /* the table went away (dropped): prepare again next time */
            sqlite3_finalize(p->stTokenizer);
            p->stTokenizer = NULL;
        }
    }
    if (--p->busy == 0 && p->zombie) {
        embVtabFree(p);
        *pFound = 0;
        *pzErr = sqlite3_mprintf("%s: no such embedding table: %s", zFunc, zName);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    return rc;
}

void embTableClose(EmbTableRef *ref)
{
    if (!ref)
        return;
    embCacheRelease(ref->c);
    sqlite3_free(ref);
}

void embTableCacheInfo(const EmbTableRef *ref, int *shared, int *refs, int64_t *bytes,
                       int64_t *sketch_bytes)
{
    EmbCache *c = ref->c;
    *shared = c->shared;
    *refs = embCacheRefs(c) - 1;
    *bytes = (int64_t)(c->cap * (c->row_bytes + 2 * sizeof(float) + 1 + sizeof(char *) +
                                 sizeof(int)));
    *sketch_bytes = c->has_sketch ? (int64_t)emb_sketch_bytes(&c->sketch) : 0;
}

const emb_matrix *embTableMatrix(const EmbTableRef *ref)
{
    return &ref->c->m;
}

int embTableMetric(const EmbTableRef *ref)
{
    return ref->metric;
}

int64_t embTableTokenId(const EmbTableRef *ref, const char *tok, int n)
{
    return emb_vocab_get(ref->c->vocab, tok, (size_t)(n < 0 ? 0 : n));
}

const char *embTableToken(const EmbTableRef *ref, int64_t id, int *pn)
{
    const EmbCache *c = ref->c;
    if (id < 0 || (uint64_t)id >= c->n_rows || !c->valid[id] || !c->tok[id])
        return NULL;
    if (pn)
        *pn = c->tok_len[id];
    return c->tok[id];
}

