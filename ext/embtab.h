/*
 * embtab.h - how SQL functions reach an `embedding` virtual table's data.
 *
 * The virtual table (ext/vtab_embedding.c) keeps an in-memory copy of the
 * matrix (src/search/matrix.h view + token map), one per process for a
 * table of a database file (shared by its connections, ext/vtab_shared.c),
 * that is reloaded when the table changed (its version, kept in a shadow
 * table, differs).  Functions that take a table name
 * (emb_lookup, emb_token_id, emb_sequence, emb_most_similar, emb_analogy,
 * emb_logits, emb_eval_*) use this interface instead of SQL queries.
 *
 * EmbConn is the per-connection state; it is created in the entry point and
 * passed to every embRegister* function, and is freed with the connection.
 */
#ifndef EMB_EMBTAB_H
#define EMB_EMBTAB_H

#include "embext.h"
#include "search/matrix.h"

typedef struct EmbTableRef EmbTableRef;

/* Per-connection state: created by the entry point, freed by SQLite when the
 * connection closes (it is the embedding module's client data). */
EmbConn *embConnNew(void);
void embConnFree(void *conn);
/* The connection's tokenizer cache slot (ext/fn_tok.c), freed with the
 * connection by embTokCacheFree. */
void **embConnTokSlot(EmbConn *conn);
void embTokCacheFree(void *cache);
/* The version of the tokenizer row stored with embedding table zName
 * (ext/fn_tok.c writes <table>_tokenizer): *pFound = 0 when there is none.
 * Read with a statement the table keeps prepared (cheap per call, and a
 * read like any other, so changes by other connections are seen).
 * Errors: "<zFunc>: no such embedding table: <zName>" and others, as
 * embTableOpen. */
int embTableTokVersion(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                       sqlite3_int64 *pVersion, int *pFound, char **pzErr);
/* Store the tokenizer of the file at zPath (GGUF or tokenizer.json) with
 * embedding table zName, replacing any stored before (ext/fn_tok.c).
 * *pnTok = its number of tokens; with optional, a GGUF file without a
 * tokenizer is no error (*pnTok = -1).  Errors: code and *pzErr. */
int embTokStoreFile(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                    const char *zPath, int optional, sqlite3_int64 *pnTok, char **pzErr);

/* Open embedding table zName ("table" or "schema.table") of connection db:
 * connects it if this connection has not used it yet, checks its version
 * and (re)loads the in-memory matrix if needed.  zFunc names the caller in
 * messages.  Returns SQLITE_OK and *pp, or an error code with *pzErr a
 * sqlite3_malloc'd message such as
 *     "emb_lookup: no such embedding table: wte".
 * The reference stays valid until embTableClose (the matrix it shows does
 * not change under it). */
int embTableOpen(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                 EmbTableRef **pp, char **pzErr);
void embTableClose(EmbTableRef *ref);

const emb_matrix *embTableMatrix(const EmbTableRef *ref); /* norms filled */
int embTableMetric(const EmbTableRef *ref);               /* EMB_METRIC_* */
/* Token id of token text (n bytes), or -1 when absent. */
int64_t embTableTokenId(const EmbTableRef *ref, const char *tok, int n);
/* Token text of id (NUL-terminated, *pn bytes), or NULL when the row has no
 * token or does not exist. */
const char *embTableToken(const EmbTableRef *ref, int64_t id, int *pn);
/* The copy behind ref: *shared 1 when it is the process's shared copy
 * (ext/vtab_shared.c), *refs the references to it other than ref's own,
 * *bytes its rows and bounds, *sketch_bytes its int8 sketch. */
void embTableCacheInfo(const EmbTableRef *ref, int *shared, int *refs, int64_t *bytes,
                       int64_t *sketch_bytes);

#endif
