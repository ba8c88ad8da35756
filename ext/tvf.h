/*
 * tvf.h - plumbing shared by table-valued functions that compute all their
 * rows at once (ext/tvf.c): one eponymous virtual table per function, its
 * arguments as HIDDEN columns (like SQLite's ext/misc/series.c), results
 * buffered as typed cells.
 *
 * A function is described by a TvfSpec: its name, CREATE TABLE text
 * (result columns first, then one HIDDEN column per argument), counts, and
 * xCompute, called from xFilter with args[i] = the i-th argument's value or
 * NULL when it was not given.  xCompute appends rows with embTvfRow and the
 * embTvfCell* setters; on error it returns an SQLite code after
 * embTvfError set the message (or SQLITE_NOMEM).
 *
 * A function whose rows are too many to buffer (the file readers of
 * tvf_read.c) gives a TvfStream instead of xCompute: its rows are produced
 * one at a time in xFilter / xNext, with the same argument handling, the
 * same planner and the same messages as every other function.
 */
#ifndef EMB_TVF_H
#define EMB_TVF_H

#include "embext.h"

#define TVF_MAX_ARGS 10 /* arguments per function, at most */

typedef struct TvfVtab TvfVtab;
typedef struct TvfCursor TvfCursor;

/* Row-at-a-time functions: xStart (from xFilter, args as for xCompute)
 * keeps its state in cur->pState and positions the cursor on the first row
 * or sets cur->eof; xStep moves to the next row (or sets cur->eof); both
 * set cur->rowid.  xColumn gives result column i of the current row;
 * xStop frees cur->pState (called before each xStart and on close). */
typedef struct TvfStream {
    int (*xStart)(TvfVtab *p, TvfCursor *cur, sqlite3_value **args);
    int (*xStep)(TvfVtab *p, TvfCursor *cur);
    void (*xColumn)(TvfCursor *cur, sqlite3_context *ctx, int i);
    void (*xStop)(TvfCursor *cur);
} TvfStream;

typedef struct TvfSpec {
    const char *zName;
    const char *zSchema;
    int nOut;                 /* result columns */
    int nArg;                 /* hidden argument columns */
    int nRequired;            /* leading arguments that must be given */
    int fileIo;               /* reads files: SQLITE_VTAB_DIRECTONLY */
    const char *const *azArg; /* argument names, for messages */
    int (*xCompute)(TvfVtab *p, TvfCursor *cur, sqlite3_value **args);
    const TvfStream *stream; /* instead of xCompute: rows one at a time */
    int innocuous;           /* SQLITE_VTAB_INNOCUOUS (safe in schemas) */
    int kind;                /* the function's own tag (e.g. a reader kind) */
} TvfSpec;

/* The virtual table of one function (base first, as SQLite requires). */
struct TvfVtab {
    sqlite3_vtab base;
    sqlite3 *db;
    const TvfSpec *spec;
    EmbConn *conn;
};

typedef struct TvfCell {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB */
    sqlite3_int64 i;
    double d;
    char *z; /* sqlite3_malloc'd */
} TvfCell;

/* A cursor: the rows xCompute produced, walked in order; or, for a
 * streaming function, its state and the current row. */
struct TvfCursor {
    sqlite3_vtab_cursor base;
    TvfCell *cells; /* nRow * nOut */
    int nRow, nCap, iRow;
    void *pState;         /* streaming: the function's own */
    int eof;              /* streaming: no current row */
    sqlite3_int64 rowid;  /* streaming: the current row's rowid */
    int unusedOut;        /* bit i: result column i is not read by the statement
                             (from xBestIndex's colUsed), so need not be computed */
};

/* Register every spec as an eponymous-only module of db; conn is passed to
 * xCompute through TvfVtab.conn. */
int embTvfRegister(sqlite3 *db, EmbConn *conn, const TvfSpec *specs, int n);

/* Set p's error message (printf-style, sqlite3_mprintf: no %zu); returns
 * SQLITE_ERROR (SQLITE_NOMEM if the message could not be built). */
int embTvfError(TvfVtab *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set the one "missing argument" message of every TVF on pVtab:
 * "<fn>: missing argument '<name>' (usage: <fn>(a, b [, c]))", the usage
 * built from azArg (the first nRequired are required); returns SQLITE_ERROR. */
int embTvfMissingArg(sqlite3_vtab *pVtab, const char *zFn, const char *const *azArg, int nArg,
                     int nRequired, int iMissing);

/* Append a row of nOut NULL cells; NULL on out of memory. */
TvfCell *embTvfRow(TvfCursor *cur, int nOut);
/* Cell setters; text is copied (n < 0: NUL-terminated; z NULL: stays NULL).
 * A NaN double becomes NULL. */
int embTvfCellText(TvfCell *c, const char *z, int n);
void embTvfCellInt(TvfCell *c, sqlite3_int64 v);
/* A BLOB cell: n bytes copied from p (the length is kept in c->i). */
int embTvfCellBlob(TvfCell *c, const void *p, int n);
void embTvfCellDouble(TvfCell *c, double v);
/* Optional integer argument >= lo; NULL or absent gives def. */
int embTvfArgInt(TvfVtab *p, sqlite3_value *arg, const char *zWhat, sqlite3_int64 lo,
                 sqlite3_int64 def, sqlite3_int64 *out);
/* Read the whole file named by a text argument into *pz (sqlite3_malloc'd). */
int embTvfReadFile(TvfVtab *p, sqlite3_value *arg, char **pz, size_t *pn);

/* The functions over an `embedding` table share tvf_table.h. */

#endif
