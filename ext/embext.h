/*
 * embext.h - shared declarations of the SQLite glue (ext/).
 *
 * Every ext/ file includes this instead of sqlite3ext.h directly: it pulls in
 * sqlite3ext.h with SQLITE_EXTENSION_INIT3 so that all files share the API
 * routine table filled by the entry point (ext/embext.c).
 *
 * Registration: each family of functions/tables exposes
 *     int embRegister<Family>(sqlite3 *db, EmbConn *conn);
 * called once per connection from sqlite3_embext_init; it returns an SQLite
 * result code.  EmbConn is the per-connection state (see embtab.h).
 */
#ifndef EMBEXT_H
#define EMBEXT_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include "core/emb.h"
#include "kernels/kernels.h"

typedef struct EmbConn EmbConn;

/* Flags for pure functions and for functions that read files. */
#define EMB_PURE (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
#define EMB_FILEIO (SQLITE_UTF8 | SQLITE_DIRECTONLY)

int embRegisterVecFns(sqlite3 *db, EmbConn *conn);
int embRegisterEmbeddingTable(sqlite3 *db, EmbConn *conn);
int embRegisterTableFns(sqlite3 *db, EmbConn *conn);
int embRegisterReaders(sqlite3 *db, EmbConn *conn);
int embRegisterPosenc(sqlite3 *db, EmbConn *conn);
int embRegisterSemantics(sqlite3 *db, EmbConn *conn);
int embRegisterKeyed(sqlite3 *db, EmbConn *conn);
int embRegisterTorch(sqlite3 *db, EmbConn *conn);
int embRegisterKnn(sqlite3 *db, EmbConn *conn);
int embRegisterPca(sqlite3 *db, EmbConn *conn);
int embRegisterTokenizer(sqlite3 *db, EmbConn *conn);
int embRegisterImport(sqlite3 *db, EmbConn *conn);

/* The entry point (ext/embext.c); exported from the shared library. */
int sqlite3_embext_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

#endif
