/*
 * vtab_embedding.c - the `embedding` virtual table: a token-embedding matrix
 * stored in the database file, with O(1) lookups and exact top-k search.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=4, metric=cosine);
 *   insert into wte(token, vector) values ('cat', '[1,0,0,0]'), ('dog', '[0.9,0.1,0,0]');
 *   select token_id, token, emb_json(vector) from wte where token = 'dog';
 *   select token, distance from wte where vector match '[1,0,0,0]' and k = 2;
 *   select token, distance from wte where vector match :q order by distance limit 10;
 *
 * Options: CREATE VIRTUAL TABLE t USING embedding(dim=N [, dtype=D] [, metric=M]
 *          [, chunk_rows=R] [, sketch=none] [, layout=L])
 *   dim         1 .. 65536, required
 *   dtype       f32 (default) | f16 | bf16 | int8 (one float scale per row)
 *   metric      cosine (default) | dot | l2: the default metric of MATCH
 *   chunk_rows  rows per stored chunk (default: what fills about 128 KB,
 *               at most 4096, e.g. 480 at dim 64 f32, 32 at dim 768); a
 *               tuning/testing knob
 *   sketch      int8 (default) | none: keep an int8 sketch beside the
 *               in-memory copy (+~25 % of f32 rows) so exact KNN reads fewer
 *               bytes (src/search/sketch.h); none for memory-tight uses
 *   layout      aligned (default) | packed: aligned places each row within
 *               one database page, so a single-row write changes one page
 *               of rows (when that leaves at most a quarter of each page
 *               unused; else rows are packed anyway); packed stores rows
 *               back to back: fewer pages, single-row writes may touch two
 *               (vtab_layout.c)
 * Columns: token_id INTEGER (the rowid, 0 .. 16777215), token TEXT (optional,
 *   unique when present), vector BLOB (f32 out whatever the dtype; in: f32
 *   blob or JSON text), and hidden: distance (KNN only), k, metric (per-query
 *   metric override: `and metric = 'l2'`).
 * Query shapes (EXPLAIN QUERY PLAN shows the idxStr in brackets):
 *   token_id = ?              [id-eq]     one row, no scan
 *   token_id IN (...)         [id-in]     the whole list in one xFilter
 *   token_id > / >= / < / <= / BETWEEN [id-range]
 *   token = ?                 [token-eq]  through the UNIQUE tokens index
 *   no constraint             [scan]      all rows in token_id order
 *   vector MATCH :q AND k = N [knn]       N nearest rows, ascending distance,
 *   vector MATCH :q ORDER BY distance LIMIT N   ties by smaller token_id
 *   Extra token_id / token constraints of a KNN query filter the candidates
 *   before the top-k ([knn id-in] etc.).  Without k (SQLite 3.40 does not
 *   pass LIMIT with MATCH) all distances are computed in one scan and rows
 *   come out lazily in sorted batches, so LIMIT stops early.
 *   distance: cosine 1 - cos (cos = 0 for a zero vector), dot -dot, l2
 *   Euclidean (int8: from |q|^2 + |r|^2 - 2 q.r, clamped at 0).
 *   k larger than the table returns every row; 0 or negative k is an error.
 * Writes: INSERT with or without token_id (none: max + 1), INSERT OR REPLACE /
 *   OR IGNORE on token_id, UPDATE of vector, token or token_id, DELETE.
 *   A token that already belongs to another row is always an error.
 * Errors (table unchanged), e.g. for table wte:
 *   embedding wte: vector dimension mismatch (4 vs 3)
 *   embedding wte: vector element 1 is NaN (expected a finite float)
 *   embedding wte: vector must not be NULL
 *   embedding wte: expected a vector (f32 blob or JSON text), found integer
 *   embedding wte: token 'cat' already exists (token_id 0)
 *   embedding wte: token must be text (found integer)
 *   embedding wte: token_id 3 already exists
 *   embedding wte: token_id -1 is negative
 *   embedding wte: token_id 16777216 exceeds the maximum 16777215
 *   embedding wte: token_id must be an integer (found text)
 *   embedding wte: k must be a positive integer (found 0)
 *   embedding wte: k requires vector MATCH
 *   embedding wte: query dimension mismatch (4 vs 3)
 *   embedding wte: unknown metric 'x' (expected cosine, dot or l2)
 * dtype error bounds (vs the f32 value x of each element, round to nearest):
 *   f16 |e| <= 2^-11 |x| (normal range, |x| >= 6.1e-5; below that 2^-25 absolute),
 *   bf16 |e| <= 2^-8 |x|, int8 |e| <= max|row| / 254.
 * Memory: each connection that reads a table keeps one copy of it:
 *   n_slots * (dim * sizeof(dtype) + 21) bytes + token strings,
 *   n_slots = largest token_id + 1 rounded up to chunk_rows (GPT-2 wte,
 *   50257 x 768 f32: 155 MB; f16: 78 MB).  The copy is made on the first
 *   read (any query, emb_lookup, ...; ~130 ms for 50k x 768 f32), shared by
 *   all queries and functions, updated in place by this connection's
 *   writes, and reloaded only after another connection (or a rollback)
 *   changed the table.  emb_cache_release('t') frees it; a smaller dtype
 *   shrinks it.  Writes buffer at most one chunk (<= 128 KB by default).
 * Write cost: an autocommit single-row INSERT / UPDATE / DELETE writes the
 *   pages it changes: the row's page in its chunk (in place), the token row
 *   and its index entry, the version row (tests/unit/test_vtab_wal.c: at
 *   most twice the pages of a plain rowid table with a unique token).
 * Functions over a table by name (ext/fn_table.c): emb_lookup(t, id),
 *   emb_token_id(t, token), emb_cache_release(t), emb_sequence(t, ids [, pe]).
 * Shadow tables may be read directly; writes to them only go through the
 * table (they are declared with xShadowName, so SQLITE_DBCONFIG_DEFENSIVE
 * makes them read-only).
 *
 * How it works: shadow tables t_config(key, value) (dim, dtype, metric,
 * chunk_rows, version, format and the chunk layout: slab_rows, slab_bytes,
 * pad_bytes, chunk_bytes), t_chunks(chunk_id, pad, slots) and
 * t_tokens(token_id, token UNIQUE).  Tables made by embext 0.2.0 (format 1:
 * t_chunks(chunk_id, valid, vectors, scales)) are read and written in their
 * format; a format newer than EMB_FORMAT is refused by name.  See
 * vtab_layout.c for where a row sits, vtab_store.c for the chunk write
 * buffer, vtab_cache.c for the cache, vtab_query.c for xBestIndex / the
 * cursor (idxNum is a bit set of consumed constraints), vtab_write.c for
 * xUpdate.
 */
#include "vtab_store.h"
#include "value.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const schema_sql =
    "CREATE TABLE x(token_id INTEGER, token TEXT, vector BLOB, distance REAL HIDDEN,"
    " k INTEGER HIDDEN, metric TEXT HIDDEN)";

/* ---- create / connect ---------------------------------------------------- */

typedef struct EmbOpts {
    int dim, dtype, metric, chunk_rows;
    int no_sketch; /* sketch=none */
    int packed;    /* layout=packed */
    EmbLayout lay; /* stored format (readConfig) */
} EmbOpts;

/* Copy of the option value with surrounding blanks and quotes removed. */
static char *optValue(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0])
        s++, n -= 2;
    return sqlite3_mprintf("%.*s", (int)n, s);
}

static int optInt(const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi)
        return -1;
    *out = (int)x;
    return 0;
}

static int parseOptions(int argc, const char *const *argv, EmbOpts *o, char **pzErr)
{
    o->dim = 0;
    o->dtype = EMB_DTYPE_F32;
    o->metric = EMB_METRIC_COSINE;
    o->chunk_rows = 0;
    o->no_sketch = 0;
    o->packed = 0;
    int seen = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        char *key = optValue(a, eq ? (size_t)(eq - a) : strlen(a));
        char *val = eq ? optValue(eq + 1, strlen(eq + 1)) : NULL;
        int rc = SQLITE_OK, bit = 0;
        if (!key || (eq && !val)) {
            rc = SQLITE_NOMEM;
        } else if (!eq) {
            *pzErr = sqlite3_mprintf("embedding: option '%s' needs a value (e.g. dim=768)", key);
            rc = SQLITE_ERROR;
        } else if (strcmp(key, "dim") == 0) {
            bit = 1;
            if (optInt(val, 1, EMB_MAX_DIM, &o->dim)) {
                *pzErr = sqlite3_mprintf("embedding: dim must be an integer in 1..%d (found '%s')",
                                         EMB_MAX_DIM, val);
                rc = SQLITE_ERROR;
            }
        } else if (strcmp(key, "dtype") == 0) {
            bit = 2;
            if ((o->dtype = emb_dtype_parse(val)) < 0) {
                *pzErr = sqlite3_mprintf(
                    "embedding: unknown dtype '%s' (expected f32, f16, bf16 or int8)", val);
                rc = SQLITE_ERROR;
            }
        } else if (strcmp(key, "metric") == 0) {
            bit = 4;
            if ((o->metric = emb_metric_parse(val)) < 0) {
                *pzErr = sqlite3_mprintf(
                    "embedding: unknown metric '%s' (expected cosine, dot or l2)", val);
                rc = SQLITE_ERROR;
            }
        } else if (strcmp(key, "chunk_rows") == 0) {
            bit = 8;
            if (optInt(val, 1, EMB_CHUNK_MAX_ROWS, &o->chunk_rows)) {
                *pzErr = sqlite3_mprintf(
                    "embedding: chunk_rows must be an integer in 1..%d (found '%s')",
                    EMB_CHUNK_MAX_ROWS, val);
                rc = SQLITE_ERROR;
            }
        } else if (strcmp(key, "sketch") == 0) {
            bit = 16;
            if (strcmp(val, "none") == 0 || strcmp(val, "int8") == 0) {
                o->no_sketch = strcmp(val, "none") == 0;
            } else {
                *pzErr = sqlite3_mprintf(
                    "embedding: unknown sketch '%s' (expected int8 or none)", val);
                rc = SQLITE_ERROR;
            }
        } else if (strcmp(key, "layout") == 0) {
            bit = 32;
            if (strcmp(val, "aligned") == 0 || strcmp(val, "packed") == 0) {
                o->packed = strcmp(val, "packed") == 0;
            } else {
                *pzErr = sqlite3_mprintf(
                    "embedding: unknown layout '%s' (expected aligned or packed)", val);
                rc = SQLITE_ERROR;
            }
        } else {
            *pzErr = sqlite3_mprintf("embedding: unknown option '%s' (expected dim, dtype, metric,"
                                     " chunk_rows, sketch or layout)",
                                     key);
            rc = SQLITE_ERROR;
        }
        if (rc == SQLITE_OK && (seen & bit)) {
            *pzErr = sqlite3_mprintf("embedding: option %s given twice", key);
            rc = SQLITE_ERROR;
        }
        seen |= bit;
        sqlite3_free(key);
        sqlite3_free(val);
        if (rc)
            return rc;
    }
    if (!o->dim) {
        *pzErr = sqlite3_mprintf("embedding: missing option dim (e.g. embedding(dim=768))");
        return SQLITE_ERROR;
    }
    return SQLITE_OK; /* chunk_rows 0: chosen with the layout (createShadow) */
}

/* Run SQL built by sqlite3_mprintf (%w: no printf format attribute). */
static int execf(sqlite3 *db, char **pzErr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (!sql)
        return SQLITE_NOMEM;
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK && pzErr && rc != SQLITE_NOMEM) {
        sqlite3_free(*pzErr);
        *pzErr = sqlite3_mprintf("embedding: %s", sqlite3_errmsg(db));
    }
    return rc;
}

/* Usable bytes per page of database zDb (page size - reserved bytes). */
static int usableSize(sqlite3 *db, const char *zDb)
{
    int page = 4096, reserve = 0;
    char *sql = sqlite3_mprintf("PRAGMA \"%w\".page_size", zDb);
    sqlite3_stmt *st = NULL;
    if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
#ifdef SQLITE_FCNTL_RESERVE_BYTES
    reserve = -1; /* negative: query */
    if (sqlite3_file_control(db, zDb, SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK ||
        reserve < 0 || reserve > 255)
        reserve = 0;
#endif
    if (page < 512 || page > 65536)
        page = 4096;
    return page - reserve;
}

static int createShadow(sqlite3 *db, const char *zDb, const char *zName, EmbOpts *o,
                        char **pzErr)
{
    int64_t version;
    sqlite3_randomness(sizeof version, &version);
    int rc = execf(db, pzErr,
                   "CREATE TABLE \"%w\".\"%w_config\"(key TEXT PRIMARY KEY, value);"
                   "CREATE TABLE \"%w\".\"%w_chunks\"(chunk_id INTEGER PRIMARY KEY, pad BLOB,"
                   " slots BLOB);"
                   "CREATE TABLE \"%w\".\"%w_tokens\"(token_id INTEGER PRIMARY KEY,"
                   " token TEXT NOT NULL UNIQUE);",
                   zDb, zName, zDb, zName, zDb, zName);
    if (rc != SQLITE_OK)
        return rc;
    /* the page size is settled now that the file has tables */
    size_t rb = (size_t)o->dim * emb_dtype_size(o->dtype);
    embLayoutPlan(&o->lay, usableSize(db, zDb), rb, o->dtype == EMB_DTYPE_I8, o->packed,
                  &o->chunk_rows);
    rc = execf(db, pzErr,
               "INSERT INTO \"%w\".\"%w_config\"(key, value) VALUES ('format', %d), ('dim', %d),"
               " ('dtype', '%s'), ('metric', '%s'), ('chunk_rows', %d), ('version', %lld),"
               " ('slab_rows', %d), ('slab_bytes', %d), ('pad_bytes', %d), ('chunk_bytes', %d);",
               zDb, zName, o->lay.format, o->dim, emb_dtype_name(o->dtype),
               emb_metric_name(o->metric), o->chunk_rows, (long long)version, o->lay.slab_rows,
               o->lay.slab_bytes, o->lay.pad_bytes, o->lay.chunk_bytes);
    if (rc == SQLITE_OK && o->no_sketch)
        rc = execf(db, pzErr,
                   "INSERT INTO \"%w\".\"%w_config\"(key, value) VALUES ('sketch', 'none')", zDb,
                   zName);
    return rc;
}

static int readConfig(sqlite3 *db, const char *zDb, const char *zName, EmbOpts *o, char **pzErr)
{
    char *sql = sqlite3_mprintf("SELECT key, value FROM \"%w\".\"%w_config\"", zDb, zName);
    sqlite3_stmt *st = NULL;
    if (!sql)
        return SQLITE_NOMEM;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    memset(o, 0, sizeof *o);
    o->dtype = o->metric = -1;
    o->lay.format = 1; /* 0.2.0 wrote 'format' 1; no key: older, the same layout */
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || !v)
            continue;
        if (strcmp(k, "dim") == 0)
            o->dim = sqlite3_column_int(st, 1);
        else if (strcmp(k, "dtype") == 0)
            o->dtype = emb_dtype_parse(v);
        else if (strcmp(k, "metric") == 0)
            o->metric = emb_metric_parse(v);
        else if (strcmp(k, "chunk_rows") == 0)
            o->chunk_rows = sqlite3_column_int(st, 1);
        else if (strcmp(k, "sketch") == 0)
            o->no_sketch = strcmp(v, "none") == 0;
        else if (strcmp(k, "format") == 0)
            o->lay.format = sqlite3_column_int(st, 1);
        else if (strcmp(k, "slab_rows") == 0)
            o->lay.slab_rows = sqlite3_column_int(st, 1);
        else if (strcmp(k, "slab_bytes") == 0)
            o->lay.slab_bytes = sqlite3_column_int(st, 1);
        else if (strcmp(k, "pad_bytes") == 0)
            o->lay.pad_bytes = sqlite3_column_int(st, 1);
        else if (strcmp(k, "chunk_bytes") == 0)
            o->lay.chunk_bytes = sqlite3_column_int(st, 1);
    }
    if (st) {
        int rc2 = sqlite3_finalize(st);
        if (rc == SQLITE_OK)
            rc = rc2;
    }
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("embedding %s: cannot read %s_config: %s", zName, zName,
                                 sqlite3_errmsg(db));
        return rc;
    }
    if (o->dim < 1 || o->dim > EMB_MAX_DIM || o->dtype < 0 || o->metric < 0 ||
        o->chunk_rows < 1 || o->chunk_rows > EMB_CHUNK_MAX_ROWS) {
        *pzErr = sqlite3_mprintf("embedding %s: corrupt %s_config", zName, zName);
        return SQLITE_CORRUPT_VTAB;
    }
    if (o->lay.format < 1 || o->lay.format > EMB_FORMAT) {
        *pzErr = sqlite3_mprintf("embedding %s: unknown storage format %d (this embext reads "
                                 "formats 1 to %d; a newer embext wrote it?)",
                                 zName, o->lay.format, EMB_FORMAT);
        return SQLITE_ERROR;
    }
    size_t rb = (size_t)o->dim * emb_dtype_size(o->dtype);
    o->lay.slot_bytes = o->lay.format == 2 ? (int)rb + (o->dtype == EMB_DTYPE_I8 ? 4 : 0) + 1 : 0;
    if (!embLayoutValid(&o->lay, rb, o->dtype == EMB_DTYPE_I8, o->chunk_rows)) {
        *pzErr = sqlite3_mprintf("embedding %s: corrupt %s_config (chunk layout)", zName, zName);
        return SQLITE_CORRUPT_VTAB;
    }
    return SQLITE_OK;
}

static int embInit(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                   sqlite3_vtab **ppVtab, char **pzErr, int isCreate)
{
    EmbOpts o;
    const char *zDb = argv[1], *zName = argv[2];
    int rc;
    *ppVtab = NULL;
    if (isCreate) {
        rc = parseOptions(argc, argv, &o, pzErr);
        if (rc == SQLITE_OK)
            rc = createShadow(db, zDb, zName, &o, pzErr);
    } else {
        rc = readConfig(db, zDb, zName, &o, pzErr);
    }
    /* an error whose message could not be allocated is a lack of memory
     * (else SQLite reports a bare "vtable constructor failed") */
    if (rc == SQLITE_ERROR && !*pzErr)
        rc = SQLITE_NOMEM;
    if (rc != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_declare_vtab(db, schema_sql)) != SQLITE_OK)
        return rc;
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
    EmbVtab *p = sqlite3_malloc(sizeof *p);
    if (!p)
        return SQLITE_NOMEM;
    memset(p, 0, sizeof *p);
    p->db = db;
    p->conn = pAux;
    p->zDb = sqlite3_mprintf("%s", zDb);
    p->zName = sqlite3_mprintf("%s", zName);
    p->dim = o.dim;
    p->dtype = o.dtype;
    p->metric = o.metric;
    p->chunk_rows = o.chunk_rows;
    p->lay = o.lay;
    p->no_sketch = o.no_sketch;
    p->row_bytes = (size_t)o.dim * emb_dtype_size(o.dtype);
    p->buf.chunk = -1;
    p->next_id = -1;
    p->last_chunk = -1;
    p->absent_chunk = -1;
    /* dim floats, then a row, then a slot (vtab_write.c, vtab_layout.c) */
    p->scratch = sqlite3_malloc64((size_t)o.dim * sizeof(float) + 2 * p->row_bytes + 8);
    if (!p->zDb || !p->zName || !p->scratch) {
        sqlite3_free(p->zDb);
        sqlite3_free(p->zName);
        sqlite3_free(p->scratch);
        sqlite3_free(p);
        return SQLITE_NOMEM;
    }
    embConnAdd(p->conn, p);
    *ppVtab = &p->base;
    return SQLITE_OK;
}

static int embCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr)
{
    return embInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int embConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr)
{
    return embInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

void embVtabFree(EmbVtab *p)
{
    embStoreFinalize(p);
    embBufFree(p);
    embCacheDrop(p);
    sqlite3_free(p->scratch);
    sqlite3_free(p->zDb);
    sqlite3_free(p->zName);
    sqlite3_free(p->zWhat);
    sqlite3_free(p->base.zErrMsg);
    sqlite3_free(p);
}

/* A function reading the table by name may be stepping one of p's
 * statements when SQLite reloads the schema and disconnects p (another
 * connection dropped or re-created the table): then only unlink p here and
 * let embTableOpen free it once that step has returned. */
static int embDisconnect(sqlite3_vtab *tab)
{
    EmbVtab *p = (EmbVtab *)tab;
    embConnRemove(p->conn, p);
    if (p->busy)
        p->zombie = 1;
    else
        embVtabFree(p);
    return SQLITE_OK;
}

static int embDestroy(sqlite3_vtab *tab)
{
    EmbVtab *p = (EmbVtab *)tab;
    embBufDiscard(p);
    embStoreFinalize(p);
    int rc = execf(p->db, NULL,
                   "DROP TABLE IF EXISTS \"%w\".\"%w_config\";"
                   "DROP TABLE IF EXISTS \"%w\".\"%w_chunks\";"
                   "DROP TABLE IF EXISTS \"%w\".\"%w_tokens\";"
                   "DROP TABLE IF EXISTS \"%w\".\"%w_tokenizer\";",
                   p->zDb, p->zName, p->zDb, p->zName, p->zDb, p->zName, p->zDb, p->zName);
    if (rc != SQLITE_OK)
        return rc;
    return embDisconnect(tab);
}

static int embRename(sqlite3_vtab *tab, const char *zNew)
{
    EmbVtab *p = (EmbVtab *)tab;
    int rc = embBufFlush(p);
    if (rc)
        return rc;
    embStoreFinalize(p);
    static const char *const sfx[] = {"config", "chunks", "tokens"};
    for (int i = 0; i < 3 && rc == SQLITE_OK; i++)
        rc = execf(p->db, NULL, "ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"", p->zDb,
                   p->zName, sfx[i], zNew, sfx[i]);
    char *zTok = rc == SQLITE_OK ? sqlite3_mprintf("%s_tokenizer", p->zName) : NULL;
    if (zTok && sqlite3_table_column_metadata(p->db, p->zDb, zTok, NULL, NULL, NULL, NULL, NULL,
                                              NULL) == SQLITE_OK) /* ext/fn_tok.c's, if stored */
        rc = execf(p->db, NULL, "ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_tokenizer\"", p->zDb,
                   zTok, zNew);
    sqlite3_free(zTok);
    if (rc != SQLITE_OK)
        return embVtabError(p, rc, "embedding %s: rename failed: %s", p->zName,
                            sqlite3_errmsg(p->db));
    char *z = sqlite3_mprintf("%s", zNew);
    if (!z)
        return SQLITE_NOMEM;
    sqlite3_free(p->zName);
    p->zName = z;
    sqlite3_free(p->zWhat);
    p->zWhat = NULL;
    return SQLITE_OK;
}

static int embShadowName(const char *zName)
{
    return strcmp(zName, "config") == 0 || strcmp(zName, "chunks") == 0 ||
           strcmp(zName, "tokens") == 0 || strcmp(zName, "tokenizer") == 0;
}

/* ---- transactions ---------------------------------------------------------- */

static int embBegin(sqlite3_vtab *tab)
{
    EmbVtab *p = (EmbVtab *)tab;
    embBufDiscard(p);
    p->next_id = -1;
    p->last_chunk = -1;
    p->version_written = 0;
    p->txn_wrote = 0;
    return SQLITE_OK;
}

static int embSync(sqlite3_vtab *tab)
{
    return embBufFlush((EmbVtab *)tab);
}

static int embCommit(sqlite3_vtab *tab)
{
    EmbVtab *p = (EmbVtab *)tab;
    embBufDiscard(p);
    p->version_written = 0;
    p->txn_wrote = 0;
    return SQLITE_OK;
}

/* Undo: pending rows are dropped; the shadow tables are restored by SQLite;
 * the cache is dropped when this transaction had changed it.  After
 * ROLLBACK TO the next write stores a new version again. */
static int undo(EmbVtab *p, int whole)
{
    embBufDiscard(p);
    if (p->txn_wrote)
        embCacheDrop(p);
    p->next_id = -1;
    p->last_chunk = -1;
    p->version_written = 0;
    if (whole)
        p->txn_wrote = 0;
    return SQLITE_OK;
}

static int embRollback(sqlite3_vtab *tab)
{
    return undo((EmbVtab *)tab, 1);
}

/* A savepoint flushes the chunk buffer so that ROLLBACK TO can simply
 * discard it.  Savepoints opened while this table's xUpdate runs belong to
 * its own shadow-table statements (a statement journal: the version's
 * INSERT OR REPLACE, a token write made multi-write by a trigger, formerly
 * every token INSERT OR REPLACE); those statements never touch the buffer,
 * so it need not be flushed (flushing there rewrote the whole chunk once
 * per inserted row), and rolling one of them back leaves it as it is. */
static int embSavepoint(sqlite3_vtab *tab, int iSavepoint)
{
    EmbVtab *p = (EmbVtab *)tab;
    (void)iSavepoint;
    if (p->in_update)
        return SQLITE_OK;
    return embBufFlush(p);
}

static int embRelease(sqlite3_vtab *tab, int iSavepoint)
{
    (void)tab;
    (void)iSavepoint;
    return SQLITE_OK;
}

static int embRollbackTo(sqlite3_vtab *tab, int iSavepoint)
{
    EmbVtab *p = (EmbVtab *)tab;
    (void)iSavepoint;
    if (p->in_update) {
        /* a shadow-table statement of xUpdate failed (xUpdate fails too);
         * keep the buffer, reload the cache from storage to be safe */
        if (p->txn_wrote)
            embCacheDrop(p);
        return SQLITE_OK;
    }
    return undo(p, 0);
}

static sqlite3_module embModule = {
    .iVersion = 3,
    .xCreate = embCreate,
    .xConnect = embConnect,
    .xBestIndex = embBestIndex,
    .xDisconnect = embDisconnect,
    .xDestroy = embDestroy,
    .xOpen = embOpen,
    .xClose = embClose,
    .xFilter = embFilter,
    .xNext = embNext,
    .xEof = embEof,
    .xColumn = embColumn,
    .xRowid = embRowid,
    .xUpdate = embUpdate,
    .xBegin = embBegin,
    .xSync = embSync,
    .xCommit = embCommit,
    .xRollback = embRollback,
    .xRename = embRename,
    .xSavepoint = embSavepoint,
    .xRelease = embRelease,
    .xRollbackTo = embRollbackTo,
    .xShadowName = embShadowName,
};

int embRegisterEmbeddingTable(sqlite3 *db, EmbConn *conn)
{
    return sqlite3_create_module_v2(db, "embedding", &embModule, conn, embConnFree);
}
