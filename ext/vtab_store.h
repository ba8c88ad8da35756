/*
 * vtab_store.h - internals shared by the `embedding` virtual table files:
 * the table object, its shadow-table I/O, the write buffer (one chunk) and
 * the per-connection matrix cache.  Not a public interface (see embtab.h
 * for what SQL functions use).
 *
 *   ext/vtab_embedding.c  module methods (create/connect, best index, cursor,
 *                         update, transactions)
 *   ext/vtab_store.c      shadow tables, chunk buffer, tokens
 *   ext/vtab_layout.c     where a row's bytes sit in a stored chunk (formats
 *                         1 and 2), in-place row I/O
 *   ext/vtab_cache.c      the in-memory copy (EmbCache) and its sketch
 *   ext/vtab_shared.c     one copy per process: the registry of shared copies
 *   ext/vtab_registry.c   EmbConn registry and the embtab.h API
 */
#ifndef EMB_VTAB_STORE_H
#define EMB_VTAB_STORE_H

#include "embtab.h"
#include "search/matrix.h"
#include "search/sketch.h"
#include "lm/vocab.h"

#include <stdint.h>

/* Largest token_id accepted (2^24 - 1): the cache and search index rows by id. */
#define EMB_VTAB_MAX_ID 16777215
/* Default chunk size: rows per chunk blob such that a chunk is <= 128 KB. */
#define EMB_CHUNK_BYTES (128 * 1024)
#define EMB_CHUNK_MAX_ROWS 4096

/* Column numbers of the declared schema. */
enum { EMB_COL_ID = 0, EMB_COL_TOKEN, EMB_COL_VECTOR, EMB_COL_DISTANCE, EMB_COL_K, EMB_COL_METRIC };

/* The in-memory copy of one table's matrix (reference counted: the table
 * holds one reference while the copy is current, each EmbTableRef one).
 * A published copy (shared != 0, ext/vtab_shared.c) is shared by the
 * connections of the process; it is never modified, and its nRef changes
 * only under the registry's mutex. */
typedef struct EmbCache EmbCache;
struct EmbCache {
    int nRef;
    int shared;           /* in the process registry (vtab_shared.c) */
    EmbCache *pNextShared;
    uint64_t key_dev, key_ino; /* published: the database file */
    char *zKeyTab;        /* published: the table name */
    int64_t version;      /* _config version this copy reflects */
    size_t n_rows, cap;   /* row slots used / allocated */
    size_t dim;
    int dtype;
    size_t row_bytes;
    unsigned char *data;  /* cap * row_bytes */
    float *scales;        /* int8 only */
    uint8_t *valid;
    float *norms;
    char **tok;           /* per slot, sqlite3_malloc'd or NULL */
    int *tok_len;
    emb_vocab *vocab;
    int has_sketch;       /* sketch holds every row (table option sketch != none) */
    emb_sketch sketch;    /* int8 sketch of the rows (search/sketch.h), cap rows */
    emb_matrix m;         /* view over the arrays, refreshed after changes */
};

/* Where the rows of a stored chunk sit (vtab_layout.c has the details).
 * Format 1 (embext 0.2.0): three blobs per chunk, valid (1 byte per row),
 * vectors (row_bytes per row), scales (int8: 1 float per row).
 * Format 2: one blob `slots` of slabs; a slab is slab_bytes long and holds
 * slab_rows slots of slot_bytes = row bytes [+ 4-byte scale] + 1 valid byte;
 * a `pad` blob before it makes slab k start on overflow page k of the
 * record, so a slot never straddles two pages. */
typedef struct EmbLayout {
    int format;           /* 1 or 2 */
    int slot_bytes;       /* format 2 only, as the four below */
    int slab_rows;
    int slab_bytes;
    int pad_bytes;
    int chunk_bytes;      /* length of the slots blob */
} EmbLayout;

/* Largest format this build reads and writes. */
#define EMB_FORMAT 2

/* Write buffer: one chunk held in memory while rows are written to it, as
 * the stored blobs: format 1 valid / vectors / scales, format 2 the slots
 * blob in `vectors` (valid, scales NULL). */
typedef struct EmbChunkBuf {
    int64_t chunk;        /* -1: empty */
    int dirty;
    int stored;           /* the chunk's row exists (flush updates it in place) */
    uint8_t *valid;       /* chunk_rows */
    unsigned char *vectors; /* chunk_rows * row_bytes, or the slots blob */
    float *scales;        /* chunk_rows (int8 only) */
} EmbChunkBuf;

typedef struct EmbVtab EmbVtab;
struct EmbVtab {
    sqlite3_vtab base;
    sqlite3 *db;
    EmbConn *conn;
    EmbVtab *pNext;       /* conn's registry list */
    char *zDb, *zName;
    char *zWhat;          /* "embedding <zName>" for vector errors, built on first use */
    int dim, dtype, metric, chunk_rows;
    EmbLayout lay;        /* stored format of the chunks */
    int no_sketch;        /* table option sketch=none */
    size_t row_bytes;
    EmbCache *cache;      /* current copy or NULL */
    EmbChunkBuf buf;
    int64_t next_id;      /* next automatic id, -1 = unknown */
    int version_written;  /* a new version is stored since the last (re)start */
    int txn_wrote;        /* this transaction changed the table (cache is ahead) */
    int busy;             /* > 0 while embTableOpen reads it: a schema reload that
                             SQLite runs meanwhile must not free it */
    int zombie;           /* xDisconnect came while busy: embTableOpen frees it */
    int64_t last_chunk;   /* chunk of the previous row write, -1 = none */
    int64_t absent_chunk; /* chunk this xUpdate found not stored, -1 = none */
    int in_update;        /* > 0 while xUpdate runs (its shadow-table statements
                             may open savepoints on this table, see xSavepoint) */
    float *scratch;       /* dim floats */
    sqlite3_stmt *stVersion, *stVersionPut, *stVersionIns, *stChunkGet, *stChunkPut, *stChunkDel;
    sqlite3_stmt *stChunkIns;
    sqlite3_stmt *stTokFind, *stTokIns, *stTokDel;
    sqlite3_stmt *stTokenizer; /* version of the <table>_tokenizer row (embTableTokVersion) */
};

struct EmbConn {
    EmbVtab *list;
    void *tok; /* ext/fn_tok.c's tokenizer cache (embTokCacheFree) */
};

/* Error message on the vtab (replaces the old one); returns rc. */
int embVtabError(EmbVtab *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Free conn's cached copy of table zName (if connected); 1 if one was freed. */
int embTableReleaseCache(EmbConn *conn, const char *zName);

/* Release everything of p (xDisconnect's work; vtab_embedding.c). */
void embVtabFree(EmbVtab *p);

/* Registry (vtab_store.c). */
void embConnAdd(EmbConn *conn, EmbVtab *p);
void embConnRemove(EmbConn *conn, EmbVtab *p);

/* Statements and shadow tables. */
void embStoreFinalize(EmbVtab *p);
int embStoreReadVersion(EmbVtab *p, int64_t *out);
int embStoreWriteVersion(EmbVtab *p, int64_t v);

/* Chunk buffer: load chunk c (flushing the previous one), flush, discard. */
int embBufLoad(EmbVtab *p, int64_t c);
int embBufFlush(EmbVtab *p);
void embBufDiscard(EmbVtab *p);
void embBufFree(EmbVtab *p);

/* Cache (vtab_cache.c): make p->cache current (flush, version check, a
 * shared copy of that version or a (re)load). */
int embCacheEnsure(EmbVtab *p);
/* Take one more reference to c (thread-safe for shared copies). */
void embCacheRetain(EmbCache *c);
/* A write is about to change the table: store version v in p's copy, which
 * becomes private first (taken back from the registry, or cloned, or
 * dropped when it cannot be). */
void embCacheSetVersion(EmbVtab *p, int64_t v);
/* p->cache, loading it if absent (no version check). */
EmbCache *embCacheGet(EmbVtab *p);
void embCacheRelease(EmbCache *c);
void embCacheDrop(EmbVtab *p);
/* Write-through (drops the cache when it cannot be updated in place). */
void embCachePut(EmbVtab *p, int64_t id, const unsigned char *row, float scale, const char *tok,
                 int n_tok, int keep_tok);
void embCacheDel(EmbVtab *p, int64_t id);

/* The process registry of shared copies (vtab_shared.c). */
/* A published copy of p's table at version, with a new reference, or NULL. */
EmbCache *embSharedFind(EmbVtab *p, int64_t version);
/* Publish p->cache (current, no uncommitted writes of p's own); when the
 * same version is already published, p->cache becomes that copy instead. */
void embSharedPublish(EmbVtab *p);
void embSharedRetain(EmbCache *c);
/* Drop one reference; 1 when it was the last (c is then unlinked). */
int embSharedRelease(EmbCache *c);
/* Unlink c when the caller holds its only reference (1), else 0. */
int embSharedUnshare(EmbCache *c);
/* Copies published (for tests). */
int embSharedCount(void);
/* c's reference count (read under the registry's mutex when shared). */
int embCacheRefs(EmbCache *c);

/* Read (write == 0) or overwrite n bytes at offset off of column zCol of
 * stored chunk c in place (sqlite3_blob_*).  SQLITE_NOTFOUND: no such chunk. */
int embChunkIO(EmbVtab *p, const char *zCol, int64_t c, int write, void *buf, int n, int off);

/* ---- layout (vtab_layout.c) ---- */
/* Plan format 2 for rows of row_bytes (+ scale when int8) on pages of
 * `usable` bytes, page-aligned slabs unless `packed`; *chunk_rows: the
 * option given (0: choose). */
void embLayoutPlan(EmbLayout *l, int usable, size_t row_bytes, int is_i8, int packed,
                   int *chunk_rows);
/* Check a layout read from _config against the table's row size. */
int embLayoutValid(const EmbLayout *l, size_t row_bytes, int is_i8, int chunk_rows);
/* Column list of the stored blobs ("valid, vectors, scales" / "slots"). */
const char *embLayoutCols(const EmbVtab *p);
int embLayoutNCols(const EmbVtab *p);
/* The stored blobs of chunk c are columns col.. of st: check their sizes
 * (SQLITE_CORRUPT_VTAB with a message otherwise). */
int embChunkCheckRow(EmbVtab *p, int64_t c, sqlite3_stmt *st, int col);
/* Copy chunk c's rows from st (checked) into valid[cr], data[cr * row_bytes]
 * and scales[cr] (int8 only). */
void embChunkUnpack(EmbVtab *p, sqlite3_stmt *st, int col, uint8_t *valid, unsigned char *data,
                    float *scales);
/* The buffer's row off: valid?, bytes, scale; set (valid = 1) or clear. */
int embBufValid(const EmbVtab *p, size_t off);
const unsigned char *embBufRow(const EmbVtab *p, size_t off);
float embBufScale(const EmbVtab *p, size_t off);
void embBufSet(EmbVtab *p, size_t off, const unsigned char *row, float scale);
void embBufClear(EmbVtab *p, size_t off);
/* Row id in the stored chunk, in place (sqlite3_blob_*); SQLITE_NOTFOUND
 * when its chunk is not stored.  Writing sets the row's valid flag. */
int embRowValidIO(EmbVtab *p, int64_t id, int *valid);
int embRowReadIO(EmbVtab *p, int64_t id, unsigned char *row, float *scale);
int embRowWriteIO(EmbVtab *p, int64_t id, const unsigned char *row, float scale);

/* Token helpers on the shadow table. */
int embTokFind(EmbVtab *p, const char *tok, int n, int64_t *id);
int embTokPut(EmbVtab *p, int64_t id, const char *tok, int n);
int embTokDel(EmbVtab *p, int64_t id);

/* Module methods implemented in vtab_query.c and vtab_write.c. */
int embBestIndex(sqlite3_vtab *tab, sqlite3_index_info *info);
int embOpen(sqlite3_vtab *tab, sqlite3_vtab_cursor **ppCur);
int embClose(sqlite3_vtab_cursor *cur);
int embFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
              sqlite3_value **argv);
int embNext(sqlite3_vtab_cursor *cur);
int embEof(sqlite3_vtab_cursor *cur);
int embColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol);
int embRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid);
int embUpdate(sqlite3_vtab *tab, int argc, sqlite3_value **argv, sqlite3_int64 *pRowid);

/* Prepare (once) *pp with SQL built by sqlite3_mprintf (which has %w, so no
 * printf format attribute here). */
int embStmt(EmbVtab *p, sqlite3_stmt **pp, const char *fmt, ...);

/* Shared by vtab_store.c and vtab_cache.c: set the table's error from the
 * database's message (returns rc). */
int embDbError(EmbVtab *p, int rc);

#endif
