/*
 * tvf.c - the one base of every eponymous table-valued function (see
 * tvf.h): rows computed at once in xFilter (tvf_semantics.c, tvf_knn.c) or
 * streamed one at a time (the file readers of tvf_read.c).  For example:
 *
 *   .load ./embext
 *   select * from emb_most_similar('glove', '["king","woman"]', '["man"]', 5);
 *
 * Parameters: each function's argument columns, how many are required and
 * its output columns come from its TvfSpec (tvf.h); the functions and their
 * arguments are documented in tvf_semantics.c, tvf_knn.c and tvf_read.c.
 *
 * How it works (contract of the methods): xConnect declares the spec's schema (and
 * SQLITE_VTAB_DIRECTONLY for functions that read files, INNOCUOUS for those
 * the spec marks safe); xBestIndex
 * consumes the usable equality constraints on argument columns, idxNum is
 * the bit set of the arguments given (their values arrive in argv in
 * argument order), an argument constraint that is not usable makes the plan
 * impossible (SQLITE_CONSTRAINT), and a plan without every required
 * argument costs 1e12; xFilter maps argv back to argument slots, checks the
 * required ones (embTvfMissingArg: an argument not given; one given as NULL
 * is the function's to judge), drops the previous rows and calls xCompute,
 * after which the cursor walks the buffered rows in order; or, for a
 * streaming spec, xStart, and xStep at each xNext.  Argument columns read
 * back as NULL.
 */
#include "tvf.h"
#include "value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

typedef struct TvfAux {
    const TvfSpec *spec;
    EmbConn *conn;
} TvfAux;

/* ---- helpers --------------------------------------------------------------- */

/* The one message for a missing argument, shared by every table-valued
 * function (the readers of tvf_read.c included):
 *   "<fn>: missing argument '<name>' (usage: <fn>(a, b [, c [, d]]))"
 * with the usage built from the argument names; returns SQLITE_ERROR
 * (SQLITE_NOMEM when the message could not be built). */
int embTvfMissingArg(sqlite3_vtab *pVtab, const char *zFn, const char *const *azArg, int nArg,
                     int nRequired, int iMissing)
{
    sqlite3_str *u = sqlite3_str_new(NULL);
    sqlite3_str_appendf(u, "%s(", zFn);
    for (int a = 0; a < nArg; a++)
        sqlite3_str_appendf(u, "%s%s", a == 0 ? "" : a < nRequired ? ", " : " [, ", azArg[a]);
    for (int a = nRequired > 0 ? nRequired : 1; a < nArg; a++)
        sqlite3_str_appendall(u, "]");
    sqlite3_str_appendall(u, ")");
    char *zUsage = sqlite3_str_finish(u);
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = zUsage ? sqlite3_mprintf("%s: missing argument '%s' (usage: %s)", zFn,
                                              azArg[iMissing], zUsage)
                            : NULL;
    sqlite3_free(zUsage);
    return pVtab->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

int embTvfError(TvfVtab *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    return p->base.zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static void tvfClear(TvfCursor *cur, int nOut)
{
    for (int i = 0; i < cur->nRow * nOut; i++)
        sqlite3_free(cur->cells[i].z);
    sqlite3_free(cur->cells);
    cur->cells = NULL;
    cur->nRow = cur->nCap = cur->iRow = 0;
}

/* A new zeroed (all NULL) row; NULL on out of memory. */
TvfCell *embTvfRow(TvfCursor *cur, int nOut)
{
    if (cur->nRow == cur->nCap) {
        int nc = cur->nCap ? cur->nCap * 2 : 16;
        TvfCell *c = sqlite3_realloc64(cur->cells, (sqlite3_uint64)nc * nOut * sizeof *c);
        if (!c)
            return NULL;
        cur->cells = c;
        cur->nCap = nc;
    }
    TvfCell *row = cur->cells + (size_t)cur->nRow++ * nOut;
    memset(row, 0, (size_t)nOut * sizeof *row);
    return row;
}

int embTvfCellText(TvfCell *c, const char *z, int n)
{
    if (!z)
        return SQLITE_OK;
    size_t len = n < 0 ? strlen(z) : (size_t)n;
    char *copy = sqlite3_malloc64(len + 1); /* a copy, not mprintf: tokens are many */
    if (!copy)
        return SQLITE_NOMEM;
    memcpy(copy, z, len);
    copy[len] = 0;
    c->z = copy;
    c->type = SQLITE_TEXT;
    return SQLITE_OK;
}

int embTvfCellBlob(TvfCell *c, const void *p, int n)
{
    c->z = sqlite3_malloc(n > 0 ? n : 1);
    if (!c->z)
        return SQLITE_NOMEM;
    memcpy(c->z, p, (size_t)n);
    c->i = n;
    c->type = SQLITE_BLOB;
    return SQLITE_OK;
}

void embTvfCellInt(TvfCell *c, sqlite3_int64 v)
{
    c->type = SQLITE_INTEGER;
    c->i = v;
}

void embTvfCellDouble(TvfCell *c, double v)
{
    c->type = isnan(v) ? SQLITE_NULL : SQLITE_FLOAT;
    c->d = v;
}

/* Optional integer argument >= lo (NULL / absent: def). */
int embTvfArgInt(TvfVtab *p, sqlite3_value *arg, const char *zWhat, sqlite3_int64 lo,
                 sqlite3_int64 def, sqlite3_int64 *out)
{
    *out = def;
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return SQLITE_OK;
    if (sqlite3_value_numeric_type(arg) != SQLITE_INTEGER)
        return embTvfError(p, "%s: %s must be an integer (found %s)", p->spec->zName, zWhat,
                           embTypeName(sqlite3_value_type(arg)));
    *out = sqlite3_value_int64(arg);
    if (*out < lo)
        return embTvfError(p, "%s: %s must be >= %lld (found %lld)", p->spec->zName, zWhat,
                           (long long)lo, (long long)*out);
    return SQLITE_OK;
}
/* Read a whole file given as a text argument. */
int embTvfReadFile(TvfVtab *p, sqlite3_value *arg, char **pz, size_t *pn)
{
    const char *zFunc = p->spec->zName;
    if (!arg || sqlite3_value_type(arg) != SQLITE_TEXT)
        return embTvfError(p, "%s: path must be text (found %s)", zFunc,
                           embTypeName(arg ? sqlite3_value_type(arg) : SQLITE_NULL));
    const char *zPath = (const char *)sqlite3_value_text(arg);
    if (!zPath)
        return SQLITE_NOMEM;
    FILE *f = fopen(zPath, "rb");
    if (!f) /* the path as given and the OS reason, as the readers word it */
        return embTvfError(p, "%s: %s: cannot open (%s)", zFunc, zPath, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    errno = 0;
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *b = sqlite3_realloc64(buf, nc);
            if (!b) {
                sqlite3_free(buf);
                fclose(f);
                return SQLITE_NOMEM;
            }
            buf = b;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (bad) {
        sqlite3_free(buf);
        return embTvfError(p, "%s: %s: cannot read (%s)", zFunc, zPath, strerror(bad));
    }
    *pz = buf;
    *pn = n;
    return SQLITE_OK;
}

/* ---- virtual table methods ------------------------------------------------- */

/* xConnect: declare the schema; file readers are DIRECTONLY. */
static int tvfConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr)
{
    const TvfAux *aux = pAux;
    (void)argc;
    (void)argv;
    (void)pzErr;
    int rc = sqlite3_declare_vtab(db, aux->spec->zSchema);
    if (rc != SQLITE_OK)
        return rc;
    if (aux->spec->fileIo)
        sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    else if (aux->spec->innocuous)
        sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    TvfVtab *p = sqlite3_malloc(sizeof *p);
    if (!p)
        return SQLITE_NOMEM;
    memset(p, 0, sizeof *p);
    p->db = db;
    p->spec = aux->spec;
    p->conn = aux->conn;
    *ppVtab = &p->base;
    return SQLITE_OK;
}

static int tvfDisconnect(sqlite3_vtab *pVtab)
{
    sqlite3_free(pVtab);
    return SQLITE_OK;
}

static int tvfOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur)
{
    (void)pVtab;
    TvfCursor *cur = sqlite3_malloc(sizeof *cur);
    if (!cur)
        return SQLITE_NOMEM;
    memset(cur, 0, sizeof *cur);
    cur->eof = 1;
    *ppCur = &cur->base;
    return SQLITE_OK;
}

/* Drop the previous rows (or the stream's state). */
static void tvfReset(TvfCursor *cur, const TvfSpec *s)
{
    tvfClear(cur, s->nOut);
    if (s->stream && cur->pState)
        s->stream->xStop(cur);
    cur->pState = NULL;
    cur->eof = 1;
}

static int tvfClose(sqlite3_vtab_cursor *pCur)
{
    TvfCursor *cur = (TvfCursor *)pCur;
    tvfReset(cur, ((TvfVtab *)pCur->pVtab)->spec);
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* xBestIndex: consume equality constraints on the argument columns; idxNum
 * is the bit set of arguments given (bits 16.. the result columns not
 * read, see TvfCursor.unusedOut).  An argument whose constraint is not
 * usable in this plan makes the plan impossible (SQLITE_CONSTRAINT). */
static int tvfBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *info)
{
    const TvfSpec *s = ((TvfVtab *)pVtab)->spec;
    int aIdx[TVF_MAX_ARGS], unusable = 0, idxNum = 0, n = 0;
    for (int a = 0; a < s->nArg; a++)
        aIdx[a] = -1;
    for (int c = 0; c < info->nConstraint; c++) {
        const struct sqlite3_index_constraint *pc = &info->aConstraint[c];
        int a = pc->iColumn - s->nOut;
        if (a < 0 || a >= s->nArg || pc->op != SQLITE_INDEX_CONSTRAINT_EQ)
            continue;
        if (!pc->usable)
            unusable |= 1 << a;
        else
            aIdx[a] = c;
    }
    for (int a = 0; a < s->nArg; a++) {
        if (aIdx[a] < 0)
            continue;
        idxNum |= 1 << a;
        info->aConstraintUsage[aIdx[a]].argvIndex = ++n;
        info->aConstraintUsage[aIdx[a]].omit = 1;
    }
    if (unusable & ~idxNum)
        return SQLITE_CONSTRAINT;
    int req = (1 << s->nRequired) - 1;
    /* result columns the statement never reads, as bits 16.. of idxNum
     * (TvfCursor.unusedOut): a function may skip computing them */
    if (s->nOut <= 15)
        idxNum |= (int)(~info->colUsed & ((1u << s->nOut) - 1)) << 16;
    info->idxNum = idxNum;
    /* a streaming function yields a whole file; the others a few rows */
    info->estimatedCost = (idxNum & req) != req ? 1e12 : s->stream ? 1e6 : 1000.0;
    info->estimatedRows = s->stream ? 100000 : 10;
    return SQLITE_OK;
}

static int tvfFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv)
{
    TvfCursor *cur = (TvfCursor *)pCur;
    TvfVtab *p = (TvfVtab *)pCur->pVtab;
    const TvfSpec *s = p->spec;
    sqlite3_value *args[TVF_MAX_ARGS] = {0};
    (void)idxStr;
    tvfReset(cur, s);
    int j = 0;
    for (int a = 0; a < s->nArg; a++)
        args[a] = (idxNum & (1 << a)) && j < argc ? argv[j++] : NULL;
    /* an argument not given is missing; one given as NULL is the function's
     * to judge ("<fn>: table must be text (found null)") */
    for (int a = 0; a < s->nRequired; a++)
        if (!args[a])
            return embTvfMissingArg(&p->base, s->zName, s->azArg, s->nArg, s->nRequired, a);
    cur->eof = 0;
    cur->unusedOut = (idxNum >> 16) & 0x7fff;
    if (!s->stream)
        return s->xCompute(p, cur, args);
    int rc = s->stream->xStart(p, cur, args);
    if (rc != SQLITE_OK)
        cur->eof = 1;
    return rc;
}

static int tvfNext(sqlite3_vtab_cursor *pCur)
{
    TvfCursor *cur = (TvfCursor *)pCur;
    TvfVtab *p = (TvfVtab *)pCur->pVtab;
    if (!p->spec->stream) {
        cur->iRow++;
        return SQLITE_OK;
    }
    int rc = p->spec->stream->xStep(p, cur);
    if (rc != SQLITE_OK)
        cur->eof = 1;
    return rc;
}

static int tvfEof(sqlite3_vtab_cursor *pCur)
{
    TvfCursor *cur = (TvfCursor *)pCur;
    if (((TvfVtab *)pCur->pVtab)->spec->stream)
        return cur->eof;
    return cur->iRow >= cur->nRow;
}

static int tvfColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int i)
{
    TvfCursor *cur = (TvfCursor *)pCur;
    const TvfSpec *s = ((TvfVtab *)pCur->pVtab)->spec;
    if (i >= s->nOut)
        return SQLITE_OK; /* hidden argument columns read back as NULL */
    if (s->stream) {
        s->stream->xColumn(cur, ctx, i);
        return SQLITE_OK;
    }
    const TvfCell *c = &cur->cells[(size_t)cur->iRow * s->nOut + i];
    switch (c->type) {
    case SQLITE_INTEGER:
        sqlite3_result_int64(ctx, c->i);
        break;
    case SQLITE_FLOAT:
        sqlite3_result_double(ctx, c->d);
        break;
    case SQLITE_BLOB: /* length in c->i */
        sqlite3_result_blob(ctx, c->z, (int)c->i, SQLITE_TRANSIENT);
        break;
    case SQLITE_TEXT:
        sqlite3_result_text(ctx, c->z, -1, SQLITE_TRANSIENT);
        break;
    default:
        break;
    }
    return SQLITE_OK;
}

static int tvfRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid)
{
    const TvfCursor *cur = (const TvfCursor *)pCur;
    *pRowid = ((TvfVtab *)pCur->pVtab)->spec->stream ? cur->rowid : cur->iRow + 1;
    return SQLITE_OK;
}

static const sqlite3_module tvfModule = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous-only */
    .xConnect = tvfConnect,
    .xBestIndex = tvfBestIndex,
    .xDisconnect = tvfDisconnect,
    .xDestroy = tvfDisconnect,
    .xOpen = tvfOpen,
    .xClose = tvfClose,
    .xFilter = tvfFilter,
    .xNext = tvfNext,
    .xEof = tvfEof,
    .xColumn = tvfColumn,
    .xRowid = tvfRowid,
};

int embTvfRegister(sqlite3 *db, EmbConn *conn, const TvfSpec *specs, int n)
{
    for (int i = 0; i < n; i++) {
        TvfAux *aux = sqlite3_malloc(sizeof *aux);
        if (!aux)
            return SQLITE_NOMEM;
        aux->spec = &specs[i];
        aux->conn = conn;
        int rc = sqlite3_create_module_v2(db, specs[i].zName, &tvfModule, aux, sqlite3_free);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
