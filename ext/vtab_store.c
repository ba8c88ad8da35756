/*
 * vtab_store.c - storage side of the `embedding` virtual table: shadow-table
 * statements, the one-chunk write buffer, the per-connection matrix cache,
 * the per-connection registry of tables and the embtab.h API.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=4);
 *   insert into wte(token, vector) values ('a', '[1,0,0,0]');
 *   select emb_lookup('wte', 0);          -- served by the cache below
 *
 * How it works
 *   Shadow tables (see vtab_embedding.c for the schema): rows of token ids
 *   c*chunk_rows .. (c+1)*chunk_rows-1 live in one `_chunks` row c: a `valid`
 *   blob (one byte per row), a `vectors` blob (rows in the stored dtype) and
 *   for int8 a `scales` blob (one float per row).
 *   Writes go to an in-memory copy of one chunk (EmbChunkBuf) which is
 *   written back when a write moves to another chunk, at xSync, at
 *   xSavepoint (except the savepoints of xUpdate's own shadow-table
 *   statements) and before the cache is loaded; xRollback / xRollbackTo
 *   discard it.  So a bulk insert rewrites each chunk blob once.  A lone
 *   overwrite of an existing row in another chunk (an SGD-style UPDATE) is
 *   done in place with sqlite3_blob_write (embChunkIO) instead: it touches
 *   the row's pages, not the whole chunk; a second consecutive write to
 *   the same chunk switches to the buffer (vtab_write.c).
 *   The cache (EmbCache) is a contiguous copy of the whole matrix in the
 *   stored dtype plus scales, valid flags, norms and tokens (a large
 *   vector array is advised onto 2 MiB pages on Linux, see adviseHuge).
 *   It carries the `version` it reflects; the table stores a fresh random
 *   version at the first change of each write transaction, and readers
 *   compare it before each query, so changes from other connections (or
 *   rolled back ones) are noticed.  This connection's own writes update the cache in place
 *   (write-through); when that is impossible (a reference is held, no
 *   memory) the cache is dropped and reloaded on the next read.
 */
#include "vtab_store.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

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
static int dbError(EmbVtab *p, int rc)
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
        return dbError(p, rc);
    return SQLITE_OK;
}

void embStoreFinalize(EmbVtab *p)
{
    sqlite3_stmt **all[] = {&p->stVersion, &p->stVersionPut, &p->stChunkGet, &p->stChunkPut,
                            &p->stChunkDel, &p->stTokFind, &p->stTokIns, &p->stTokDel};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

/* Step a statement expected to finish (no row); resets it. */
static int stepDone(EmbVtab *p, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SQLITE_OK;
    rc = sqlite3_reset(st);
    return dbError(p, rc ? rc : SQLITE_ERROR);
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
    return dbError(p, rc ? rc : SQLITE_ERROR);
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

int embStoreWriteVersion(EmbVtab *p, int64_t v)
{
    int rc = embStmt(p, &p->stVersionPut,
                     "INSERT OR REPLACE INTO \"%w\".\"%w_config\"(key, value) VALUES ('version', ?)",
                     p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_bind_int64(p->stVersionPut, 1, v);
    sqlite3_int64 last = sqlite3_last_insert_rowid(p->db);
    rc = stepDone(p, p->stVersionPut);
    sqlite3_set_last_insert_rowid(p->db, last);
    return rc;
}

/* ---- chunk buffer ------------------------------------------------------ */

static int bufAlloc(EmbVtab *p)
{
    EmbChunkBuf *b = &p->buf;
    if (b->valid)
        return SQLITE_OK;
    size_t cr = (size_t)p->chunk_rows;
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

int embBufFlush(EmbVtab *p)
{
    EmbChunkBuf *b = &p->buf;
    if (b->chunk < 0 || !b->dirty)
        return SQLITE_OK;
    /* shadow writes must not change the user's last_insert_rowid() */
    sqlite3_int64 last = sqlite3_last_insert_rowid(p->db);
    size_t cr = (size_t)p->chunk_rows;
    int any = 0;
    for (size_t i = 0; i < cr && !any; i++)
        any = b->valid[i] != 0;
    int rc;
    if (!any) {
        rc = embStmt(p, &p->stChunkDel, "DELETE FROM \"%w\".\"%w_chunks\" WHERE chunk_id = ?",
                     p->zDb, p->zName);
        if (rc)
            return rc;
        sqlite3_bind_int64(p->stChunkDel, 1, b->chunk);
        rc = stepDone(p, p->stChunkDel);
    } else {
        rc = embStmt(p, &p->stChunkPut,
                     "INSERT OR REPLACE INTO \"%w\".\"%w_chunks\"(chunk_id, valid, vectors, scales)"
                     " VALUES (?, ?, ?, ?)",
                     p->zDb, p->zName);
        if (rc)
            return rc;
        sqlite3_stmt *st = p->stChunkPut;
        sqlite3_bind_int64(st, 1, b->chunk);
        sqlite3_bind_blob64(st, 2, b->valid, cr, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 3, b->vectors, cr * p->row_bytes, SQLITE_STATIC);
        if (b->scales)
            sqlite3_bind_blob64(st, 4, b->scales, cr * sizeof(float), SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        rc = stepDone(p, st);
        sqlite3_clear_bindings(st);
    }
    if (rc == SQLITE_OK)
        b->dirty = 0;
    sqlite3_set_last_insert_rowid(p->db, last);
    return rc;
}

/* Check the blob sizes of a stored chunk. */
static int chunkCheck(EmbVtab *p, int64_t c, int nValid, int nVec, int nScale)
{
    size_t cr = (size_t)p->chunk_rows;
    if ((size_t)nValid != cr)
        return embVtabError(p, SQLITE_CORRUPT_VTAB,
                            "embedding %s: corrupt chunk %lld (valid blob %lld bytes vs %d)",
                            p->zName, (long long)c, (long long)cr, nValid);
    if ((size_t)nVec != cr * p->row_bytes)
        return embVtabError(p, SQLITE_CORRUPT_VTAB,
                            "embedding %s: corrupt chunk %lld (vectors blob %lld bytes vs %d)",
                            p->zName, (long long)c, (long long)(cr * p->row_bytes), nVec);
    if (p->dtype == EMB_DTYPE_I8 && (size_t)nScale != cr * sizeof(float))
        return embVtabError(p, SQLITE_CORRUPT_VTAB,
                            "embedding %s: corrupt chunk %lld (scales blob %lld bytes vs %d)",
                            p->zName, (long long)c, (long long)(cr * sizeof(float)), nScale);
    return SQLITE_OK;
}

int embBufLoad(EmbVtab *p, int64_t c)
{
    EmbChunkBuf *b = &p->buf;
    if (b->chunk == c && b->valid)
        return SQLITE_OK;
    int rc = embBufFlush(p);
    if (rc)
        return rc;
    if ((rc = bufAlloc(p)) != SQLITE_OK)
        return rc;
    rc = embStmt(p, &p->stChunkGet,
                 "SELECT valid, vectors, scales FROM \"%w\".\"%w_chunks\" WHERE chunk_id = ?",
                 p->zDb, p->zName);
    if (rc)
        return rc;
    sqlite3_stmt *st = p->stChunkGet;
    size_t cr = (size_t)p->chunk_rows;
    sqlite3_bind_int64(st, 1, c);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(st, 0);
        int nv = sqlite3_column_bytes(st, 0);
        const void *x = sqlite3_column_blob(st, 1);
        int nx = sqlite3_column_bytes(st, 1);
        const void *s = sqlite3_column_blob(st, 2);
        int ns = sqlite3_column_bytes(st, 2);
        rc = chunkCheck(p, c, nv, nx, ns);
        if (rc == SQLITE_OK) {
            memcpy(b->valid, v, cr);
            memcpy(b->vectors, x, cr * p->row_bytes);
            if (b->scales)
                memcpy(b->scales, s, cr * sizeof(float));
        }
        sqlite3_reset(st);
        if (rc)
            return rc;
    } else if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        memset(b->valid, 0, cr);
        memset(b->vectors, 0, cr * p->row_bytes);
        if (b->scales)
            memset(b->scales, 0, cr * sizeof(float));
    } else {
        rc = sqlite3_reset(st);
        return dbError(p, rc ? rc : SQLITE_ERROR);
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
        return dbError(p, rc);
    if (off < 0 || n < 0 || off > sqlite3_blob_bytes(b) - n) {
        sqlite3_blob_close(b);
        return embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk %lld (%s blob)",
                            p->zName, (long long)c, zCol);
    }
    rc = write ? sqlite3_blob_write(b, buf, n, off) : sqlite3_blob_read(b, buf, n, off);
    int rc2 = sqlite3_blob_close(b);
    if (rc == SQLITE_OK)
        rc = rc2;
    return rc == SQLITE_OK ? SQLITE_OK : dbError(p, rc);
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

/* ---- cache ------------------------------------------------------------- */

void embCacheRelease(EmbCache *c)
{
    if (!c || --c->nRef > 0)
        return;
    for (size_t i = 0; c->tok && i < c->cap; i++)
        sqlite3_free(c->tok[i]);
    sqlite3_free(c->tok);
    sqlite3_free(c->tok_len);
    sqlite3_free(c->data);
    sqlite3_free(c->scales);
    sqlite3_free(c->valid);
    sqlite3_free(c->norms);
    emb_vocab_free(c->vocab);
    sqlite3_free(c);
}

void embCacheDrop(EmbVtab *p)
{
    embCacheRelease(p->cache);
    p->cache = NULL;
}

static void cacheView(EmbCache *c)
{
    c->m.n_rows = c->n_rows;
    c->m.dim = c->dim;
    c->m.dtype = c->dtype;
    c->m.data = c->data;
    c->m.scales = c->dtype == EMB_DTYPE_I8 ? c->scales : NULL;
    c->m.valid = c->valid;
    c->m.norms = c->norms;
}

/* Vector arrays of at least EMB_HUGE_MIN bytes ask Linux for transparent
 * huge pages (madvise(MADV_HUGEPAGE) on the 2 MiB-aligned interior; THP is
 * often in "madvise" mode): a KNN scan over 4 KiB pages pays TLB misses
 * (50,000 x 768 f32: ~7.3 ms vs ~5.5 ms).  Best effort: errors are ignored,
 * elsewhere it is a no-op.  The advice must precede the first touch, so such
 * arrays grow by malloc + advise + copy rather than realloc. */
#define EMB_HUGE_PAGE ((size_t)2 << 20)
#define EMB_HUGE_MIN ((size_t)8 << 20)

static void adviseHuge(void *buf, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)buf + EMB_HUGE_PAGE - 1) & ~(uintptr_t)(EMB_HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)buf + n) & ~(uintptr_t)(EMB_HUGE_PAGE - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)buf;
    (void)n;
#endif
}

/* Grow the slot arrays to at least n slots (new slots zeroed; with
 * zero_data == 0 the vector bytes are left for the caller to fill). */
static int cacheGrowEx(EmbCache *c, size_t n, int zero_data)
{
    if (n <= c->cap)
        return SQLITE_OK;
    size_t cap = c->cap * 2 > n ? c->cap * 2 : n, nb = cap * c->row_bytes;
    unsigned char *data;
    if (nb >= EMB_HUGE_MIN) {
        if (!(data = sqlite3_malloc64(nb)))
            return SQLITE_NOMEM;
        adviseHuge(data, nb);
        if (c->data)
            memcpy(data, c->data, c->cap * c->row_bytes);
        sqlite3_free(c->data);
    } else if (!(data = sqlite3_realloc64(c->data, nb))) {
        return SQLITE_NOMEM;
    }
    c->data = data;
    float *scales = sqlite3_realloc64(c->scales, cap * sizeof(float));
    if (!scales)
        return SQLITE_NOMEM;
    c->scales = scales;
    uint8_t *valid = sqlite3_realloc64(c->valid, cap);
    if (!valid)
        return SQLITE_NOMEM;
    c->valid = valid;
    float *norms = sqlite3_realloc64(c->norms, cap * sizeof(float));
    if (!norms)
        return SQLITE_NOMEM;
    c->norms = norms;
    char **tok = sqlite3_realloc64(c->tok, cap * sizeof(char *));
    if (!tok)
        return SQLITE_NOMEM;
    c->tok = tok;
    int *tok_len = sqlite3_realloc64(c->tok_len, cap * sizeof(int));
    if (!tok_len)
        return SQLITE_NOMEM;
    c->tok_len = tok_len;
    size_t old = c->cap, add = cap - old;
    if (zero_data)
        memset(c->data + old * c->row_bytes, 0, add * c->row_bytes);
    memset(c->scales + old, 0, add * sizeof(float));
    memset(c->valid + old, 0, add);
    memset(c->norms + old, 0, add * sizeof(float));
    memset(c->tok + old, 0, add * sizeof(char *));
    memset(c->tok_len + old, 0, add * sizeof(int));
    c->cap = cap;
    return SQLITE_OK;
}

static int cacheGrow(EmbCache *c, size_t n)
{
    return cacheGrowEx(c, n, 1);
}

static float cacheRowNorm(EmbVtab *p, EmbCache *c, size_t r)
{
    const emb_kernels *k = emb_kernels_get();
    if (c->dtype == EMB_DTYPE_F32) /* f32 rows: 4 * dim bytes from an aligned malloc */
        /* cppcheck-suppress invalidPointerCast */
        return k->norm_f32((const float *)(c->data + r * c->row_bytes), c->dim);
    emb_matrix_row_f32(k, &c->m, r, p->scratch);
    return k->norm_f32(p->scratch, c->dim);
}

static int cacheSetToken(EmbCache *c, size_t r, const char *tok, int n)
{
    if (c->tok[r]) {
        emb_vocab_del(c->vocab, c->tok[r], (size_t)c->tok_len[r]);
        sqlite3_free(c->tok[r]);
        c->tok[r] = NULL;
        c->tok_len[r] = 0;
    }
    if (!tok)
        return SQLITE_OK;
    char *s = sqlite3_malloc(n + 1);
    if (!s)
        return SQLITE_NOMEM;
    memcpy(s, tok, (size_t)n);
    s[n] = 0;
    if (emb_vocab_put(c->vocab, s, (size_t)n, (int64_t)r) != EMB_OK) {
        sqlite3_free(s);
        return SQLITE_NOMEM;
    }
    c->tok[r] = s;
    c->tok_len[r] = n;
    return SQLITE_OK;
}

static int cacheLoad(EmbVtab *p, int64_t version, EmbCache **out)
{
    EmbCache *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->nRef = 1;
    c->version = version;
    c->dim = (size_t)p->dim;
    c->dtype = p->dtype;
    c->row_bytes = p->row_bytes;
    c->vocab = emb_vocab_new(1024);
    sqlite3_stmt *st = NULL;
    int rc = c->vocab ? SQLITE_OK : SQLITE_NOMEM;
    char *sql = NULL;
    int64_t maxc = -1;
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT max(chunk_id) FROM \"%w\".\"%w_chunks\"", p->zDb, p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
    }
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        maxc = sqlite3_column_int64(st, 0);
    if (st && rc == SQLITE_OK)
        rc = sqlite3_finalize(st);
    st = NULL;
    size_t cr = (size_t)p->chunk_rows;
    if (rc == SQLITE_OK && maxc >= 0) {
        if ((uint64_t)maxc * cr > (uint64_t)EMB_VTAB_MAX_ID + cr)
            rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                              p->zName, (long long)maxc);
        else
            rc = cacheGrowEx(c, (size_t)(maxc + 1) * cr, 0);
        c->n_rows = (size_t)(maxc + 1) * cr;
    }
    cacheView(c);
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT chunk_id, valid, vectors, scales FROM \"%w\".\"%w_chunks\""
                              " ORDER BY chunk_id",
                              p->zDb, p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        int64_t next_chunk = 0; /* chunks come in chunk_id order; zero the gaps */
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            int64_t ch = sqlite3_column_int64(st, 0);
            const void *v = sqlite3_column_blob(st, 0 + 1);
            int nv = sqlite3_column_bytes(st, 1);
            const void *x = sqlite3_column_blob(st, 2);
            int nx = sqlite3_column_bytes(st, 2);
            const void *s = sqlite3_column_blob(st, 3);
            int ns = sqlite3_column_bytes(st, 3);
            if (ch < 0 || ch > maxc) {
                rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                                  p->zName, (long long)ch);
                break;
            }
            if ((rc = chunkCheck(p, ch, nv, nx, ns)) != SQLITE_OK)
                break;
            if (ch < next_chunk) {
                rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                                  p->zName, (long long)ch);
                break;
            }
            memset(c->data + (size_t)next_chunk * cr * c->row_bytes, 0,
                   (size_t)(ch - next_chunk) * cr * c->row_bytes);
            next_chunk = ch + 1;
            size_t r0 = (size_t)ch * cr;
            memcpy(c->valid + r0, v, cr);
            memcpy(c->data + r0 * c->row_bytes, x, cr * c->row_bytes);
            if (p->dtype == EMB_DTYPE_I8)
                memcpy(c->scales + r0, s, cr * sizeof(float));
            for (size_t i = 0; i < cr; i++)
                c->norms[r0 + i] = c->valid[r0 + i] ? cacheRowNorm(p, c, r0 + i) : 0;
        }
        if (rc == SQLITE_OK && next_chunk <= maxc)
            memset(c->data + (size_t)next_chunk * cr * c->row_bytes, 0,
                   (size_t)(maxc + 1 - next_chunk) * cr * c->row_bytes);
        if (st) {
            int rc2 = sqlite3_finalize(st);
            if (rc == SQLITE_OK)
                rc = rc2;
        }
        st = NULL;
    }
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT token_id, token FROM \"%w\".\"%w_tokens\"", p->zDb,
                              p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            const char *t = (const char *)sqlite3_column_text(st, 1);
            int n = sqlite3_column_bytes(st, 1);
            if (id < 0 || (uint64_t)id >= c->n_rows || !c->valid[id])
                continue; /* token of an absent row: ignored */
            if (!t)
                rc = SQLITE_NOMEM;
            else
                rc = cacheSetToken(c, (size_t)id, t, n);
        }
        if (st) {
            int rc2 = sqlite3_finalize(st);
            if (rc == SQLITE_OK)
                rc = rc2;
        }
    }
    if (rc != SQLITE_OK) {
        embCacheRelease(c);
        if (rc != SQLITE_NOMEM && !p->base.zErrMsg)
            dbError(p, rc);
        return rc;
    }
    cacheView(c);
    *out = c;
    return SQLITE_OK;
}

int embCacheEnsure(EmbVtab *p)
{
    int64_t v;
    int rc = embStoreReadVersion(p, &v);
    if (rc)
        return rc;
    if (p->cache && p->cache->version == v)
        return SQLITE_OK;
    embCacheDrop(p);
    if ((rc = embBufFlush(p)) != SQLITE_OK)
        return rc;
    return cacheLoad(p, v, &p->cache);
}

EmbCache *embCacheGet(EmbVtab *p)
{
    if (!p->cache)
        embCacheEnsure(p);
    return p->cache;
}

void embCachePut(EmbVtab *p, int64_t id, const unsigned char *row, float scale, const char *tok,
                 int n_tok, int keep_tok)
{
    EmbCache *c = p->cache;
    if (!c)
        return;
    size_t r = (size_t)id;
    if (c->nRef > 1 || cacheGrow(c, r + 1) != SQLITE_OK) {
        embCacheDrop(p);
        return;
    }
    if (r >= c->n_rows)
        c->n_rows = r + 1;
    memcpy(c->data + r * c->row_bytes, row, c->row_bytes);
    c->scales[r] = scale;
    c->valid[r] = 1;
    cacheView(c);
    c->norms[r] = cacheRowNorm(p, c, r);
    if (!keep_tok && cacheSetToken(c, r, tok, n_tok) != SQLITE_OK)
        embCacheDrop(p);
}

void embCacheDel(EmbVtab *p, int64_t id)
{
    EmbCache *c = p->cache;
    if (!c || id < 0 || (size_t)id >= c->n_rows)
        return;
    if (c->nRef > 1) {
        embCacheDrop(p);
        return;
    }
    c->valid[id] = 0;
    c->norms[id] = 0;
    cacheSetToken(c, (size_t)id, NULL, 0);
}

/* ---- registry and embtab.h ------------------------------------------------ */

EmbConn *embConnNew(void)
{
    EmbConn *c = sqlite3_malloc(sizeof *c);
    if (c)
        c->list = NULL;
    return c;
}

void embConnFree(void *conn)
{
    sqlite3_free(conn);
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
 * SQLite disconnected p meanwhile, free it, *pp = NULL, SQLITE_ERROR. */
static int ensureHeld(EmbVtab **pp)
{
    EmbVtab *p = *pp;
    p->busy++;
    int rc = embCacheEnsure(p);
    if (--p->busy == 0 && p->zombie) {
        embVtabFree(p);
        *pp = NULL;
        return SQLITE_ERROR;
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
    const char *dot = strchr(zName, '.');
    char *zDb = dot ? sqlite3_mprintf("%.*s", (int)(dot - zName), zName) : NULL;
    const char *zTab = dot ? dot + 1 : zName;
    if (dot && !zDb)
        return SQLITE_NOMEM;
    EmbVtab *p = connFind(conn, zDb, zTab);
    int rc = p ? ensureHeld(&p) : SQLITE_ERROR;
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        /* Not connected yet, or its copy cannot be loaded because another
         * connection dropped or re-created the table and this connection
         * still holds the old instance.  Preparing and stepping a statement
         * that reads the table makes SQLite check the schema and connect the
         * current instance, which goes first in the registry. */
        char *sql = zDb ? sqlite3_mprintf("SELECT 1 FROM \"%w\".\"%w\" WHERE 0", zDb, zTab)
                        : sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE 0", zTab);
        sqlite3_stmt *st = NULL;
        if (!sql) {
            sqlite3_free(zDb);
            return SQLITE_NOMEM;
        }
        p = NULL;
        int qrc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (qrc == SQLITE_OK && (qrc = sqlite3_step(st)) == SQLITE_DONE)
            p = connFind(conn, zDb, zTab);
        sqlite3_finalize(st);
        sqlite3_free(sql);
        if (qrc == SQLITE_NOMEM) {
            sqlite3_free(zDb);
            return SQLITE_NOMEM;
        }
        rc = p ? ensureHeld(&p) : SQLITE_ERROR;
    }
    sqlite3_free(zDb);
    if (!p) {
        *pzErr = sqlite3_mprintf("%s: no such embedding table: %s", zFunc, zName);
        return SQLITE_ERROR;
    }
    if (rc != SQLITE_OK) {
        if (rc != SQLITE_NOMEM)
            *pzErr = sqlite3_mprintf("%s: %s", zFunc,
                                     p->base.zErrMsg ? p->base.zErrMsg : sqlite3_errstr(rc));
        return rc;
    }
    EmbTableRef *ref = sqlite3_malloc(sizeof *ref);
    if (!ref)
        return SQLITE_NOMEM;
    ref->metric = p->metric;
    ref->c = p->cache;
    ref->c->nRef++;
    *pp = ref;
    return SQLITE_OK;
}

void embTableClose(EmbTableRef *ref)
{
    if (!ref)
        return;
    embCacheRelease(ref->c);
    sqlite3_free(ref);
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
