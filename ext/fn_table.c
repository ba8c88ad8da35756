/*
 * fn_table.c - functions that read an `embedding` table by name:
 * emb_lookup, emb_token_id, emb_cache_release and the table-valued
 * emb_sequence.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=4);
 *   insert into wte(token, vector) values ('a', '[1,0,0,0]'), ('b', '[0,1,0,0]');
 *   select emb_json(emb_lookup('wte', 1));                  -- [0,1,0,0]
 *   select emb_token_id('wte', 'b');                        -- 1
 *   select pos, token_id, emb_json(vector) from emb_sequence('wte', '[1, 0, 1]');
 *   select batch, pos, token_id from emb_sequence('wte', '[[0, 1], [1]]', 'sinusoidal');
 *
 * Functions (the table name may be "schema.table"):
 *   emb_lookup(table, token_id)     f32 vector blob, NULL if the row is absent
 *                                   or token_id is NULL
 *   emb_token_id(table, token)      token_id of the token, NULL if unknown
 *   emb_cache_release(table)        frees this connection's in-memory copy
 *                                   of the table (reloaded on the next use);
 *                                   returns 1 if a copy was freed, else 0
 *   emb_sequence(table, ids [, pe]) rows (batch, pos, token_id, vector):
 *       ids  JSON array of token ids '[73, 786, 2934]' (batch = 0) or array
 *            of arrays '[[1,2],[3]]' (batch = index of the inner array); pos
 *            counts from 0 in each sequence; repeats allowed
 *       pe   NULL | 'none' | 'sinusoidal' (adds PE(pos), base 10000) |
 *            'rope' = 'rope:neox' | 'rope:gptj' (rotates, base 10000)
 * Errors: "emb_lookup: no such embedding table: wte",
 *   "emb_sequence: token_id 99 not in table wte",
 *   "emb_sequence: ids must be a JSON array of integers or of arrays of integers",
 *   "emb_sequence: unknown pe 'x' (expected none, sinusoidal, rope, rope:neox or rope:gptj)".
 * These read the database, so they are not DETERMINISTIC.
 *
 * How it works: each call opens the table through embtab.h (the
 * per-connection cache, checked against the table's version), so a lookup
 * is a version check plus a copy.  emb_sequence is an eponymous virtual
 * table whose hidden columns tbl, ids, pe take the arguments (like SQLite's
 * series.c); xFilter validates every id first, then rows are produced from
 * the cached matrix, with the positional encoding applied per row.
 */
#include "embtab.h"
#include "search/sketch.h"
#include "lm/posenc.h"
#include "value.h"
#include "vtab_store.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int argTable(sqlite3_context *ctx, const char *zFunc, sqlite3_value *arg,
                    EmbTableRef **pp)
{
    EmbConn *conn = sqlite3_user_data(ctx);
    const char *name = (const char *)sqlite3_value_text(arg);
    char *zErr = NULL;
    if (sqlite3_value_type(arg) != SQLITE_TEXT || !name) {
        embResultError(ctx, "%s: table name must be text (found %s)", zFunc,
                       embTypeName(sqlite3_value_type(arg)));
        return -1;
    }
    int rc = embTableOpen(conn, sqlite3_context_db_handle(ctx), zFunc, name, pp, &zErr);
    if (rc != SQLITE_OK) {
        if (zErr)
            sqlite3_result_error(ctx, zErr, -1);
        else
            sqlite3_result_error_code(ctx, rc);
        sqlite3_free(zErr);
        return -1;
    }
    return 0;
}

static void fnLookup(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    EmbTableRef *ref;
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    int t = sqlite3_value_numeric_type(argv[1]);
    if (t != SQLITE_INTEGER) {
        embResultError(ctx, "emb_lookup: token_id must be an integer (found %s)",
                       embTypeName(sqlite3_value_type(argv[1])));
        return;
    }
    if (argTable(ctx, "emb_lookup", argv[0], &ref))
        return;
    const emb_matrix *m = embTableMatrix(ref);
    int64_t id = sqlite3_value_int64(argv[1]);
    if (id >= 0 && emb_matrix_has_row(m, (size_t)id)) {
        float *out = sqlite3_malloc64(m->dim * sizeof(float));
        if (!out) {
            sqlite3_result_error_nomem(ctx);
        } else {
            emb_matrix_row_f32(emb_kernels_get(), m, (size_t)id, out);
            embResultVecOwned(ctx, out, (int)m->dim);
        }
    }
    embTableClose(ref);
}

static void fnTokenId(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    EmbTableRef *ref;
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    if (argTable(ctx, "emb_token_id", argv[0], &ref))
        return;
    const char *tok = (const char *)sqlite3_value_text(argv[1]);
    int n = sqlite3_value_bytes(argv[1]);
    int64_t id = tok ? embTableTokenId(ref, tok, n) : -1;
    if (id >= 0)
        sqlite3_result_int64(ctx, id);
    embTableClose(ref);
}

static void fnCacheRelease(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    if (!name) {
        embResultError(ctx, "emb_cache_release: table name must be text (found %s)",
                       embTypeName(sqlite3_value_type(argv[0])));
        return;
    }
    sqlite3_result_int(ctx, embTableReleaseCache(sqlite3_user_data(ctx), name));
}

/* emb_cache_info(table): JSON about the in-memory copy this connection
 * uses: {"shared":0|1,"refs":N,"bytes":B,"sketch_bytes":S} (refs: other
 * references to the copy, e.g. other connections sharing it). */
static void fnCacheInfo(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    EmbTableRef *ref;
    if (argTable(ctx, "emb_cache_info", argv[0], &ref))
        return;
    int shared, refs;
    int64_t bytes, sk;
    embTableCacheInfo(ref, &shared, &refs, &bytes, &sk);
    embTableClose(ref);
    char *z = sqlite3_mprintf("{\"shared\":%d,\"refs\":%d,\"bytes\":%lld,\"sketch_bytes\":%lld}",
                              shared, refs, (long long)bytes, (long long)sk);
    if (!z)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/* emb_search_threads([n]): threads of the sketch pass for the whole process
 * (1 or 2, never more than the cores; src/search/sketch.h); returns the value
 * in force.  Without an argument it only reads it. */
static void fnSearchThreads(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (argc == 1) {
        if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
            embResultError(ctx, "emb_search_threads: n must be an integer 1 or 2 (found %s)",
                           embTypeName(sqlite3_value_type(argv[0])));
            return;
        }
        sqlite3_int64 n = sqlite3_value_int64(argv[0]);
        if (n < 1 || n > 2) {
            embResultError(ctx, "emb_search_threads: n must be 1 or 2 (found %lld)", (long long)n);
            return;
        }
        sqlite3_result_int(ctx, emb_sketch_set_threads((int)n));
        return;
    }
    sqlite3_result_int(ctx, emb_sketch_get_threads());
}

/* ---- emb_sequence ------------------------------------------------------------ */

enum { SEQ_BATCH, SEQ_POS, SEQ_ID, SEQ_VECTOR, SEQ_TBL, SEQ_IDS, SEQ_PE };
enum { PE_NONE, PE_SIN, PE_ROPE_NEOX, PE_ROPE_GPTJ };

typedef struct SeqVtab {
    sqlite3_vtab base;
    EmbConn *conn;
    sqlite3 *db;
} SeqVtab;

typedef struct SeqCursor {
    sqlite3_vtab_cursor base;
    EmbTableRef *ref;
    int64_t *ids;
    int *batch, *pos;
    size_t n, cap, i;
    size_t n_over; /* ids past EMB_SEQ_MAX_IDS, counted, not kept */
    int pe;
    float *vec;
} SeqCursor;

static int seqConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr)
{
    (void)argc;
    (void)argv;
    (void)pzErr;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(batch INTEGER, pos INTEGER, token_id INTEGER,"
                                      " vector BLOB, tbl HIDDEN, ids HIDDEN, pe HIDDEN)");
    if (rc != SQLITE_OK)
        return rc;
    SeqVtab *p = sqlite3_malloc(sizeof *p);
    if (!p)
        return SQLITE_NOMEM;
    memset(p, 0, sizeof *p);
    p->conn = pAux;
    p->db = db;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *ppVtab = &p->base;
    return SQLITE_OK;
}

static int seqDisconnect(sqlite3_vtab *tab)
{
    sqlite3_free(tab);
    return SQLITE_OK;
}

static int seqBestIndex(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    int at[3] = {-1, -1, -1}, unusable = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn < SEQ_TBL || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
            continue;
        if (!c->usable) {
            unusable = 1;
            continue;
        }
        at[c->iColumn - SEQ_TBL] = i;
    }
    if (unusable)
        return SQLITE_CONSTRAINT;
    if (at[0] < 0 || at[1] < 0) {
        sqlite3_free(tab->zErrMsg);
        tab->zErrMsg = sqlite3_mprintf("emb_sequence: expected arguments (table, ids [, pe])");
        return SQLITE_ERROR;
    }
    int n = 0;
    for (int j = 0; j < 3; j++) {
        if (at[j] < 0)
            continue;
        info->aConstraintUsage[at[j]].argvIndex = ++n;
        info->aConstraintUsage[at[j]].omit = 1;
        info->idxNum |= 1 << j;
    }
    info->estimatedCost = 10;
    info->estimatedRows = 10;
    /* rows come out by (batch, pos) */
    if (info->nOrderBy == 2 && info->aOrderBy[0].iColumn == SEQ_BATCH && !info->aOrderBy[0].desc &&
        info->aOrderBy[1].iColumn == SEQ_POS && !info->aOrderBy[1].desc)
        info->orderByConsumed = 1;
    return SQLITE_OK;
}

static int seqOpen(sqlite3_vtab *tab, sqlite3_vtab_cursor **ppCur)
{
    (void)tab;
    SeqCursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *ppCur = &c->base;
    return SQLITE_OK;
}

static void seqReset(SeqCursor *c)
{
    embTableClose(c->ref);
    c->ref = NULL;
    sqlite3_free(c->ids);
    sqlite3_free(c->batch);
    sqlite3_free(c->pos);
    sqlite3_free(c->vec);
    c->ids = NULL;
    c->batch = c->pos = NULL;
    c->vec = NULL;
    c->n = c->cap = c->i = 0;
}

static int seqClose(sqlite3_vtab_cursor *cur)
{
    seqReset((SeqCursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* At most this many ids per call (a context window of 2^20 tokens, the
 * tokenizer's own limit, EMB_TOK_MAX_TOKENS); docs/SECURITY.md. */
#define EMB_SEQ_MAX_IDS 1048576

static int seqPush(SeqCursor *c, int64_t id, int batch, int pos)
{
    if (c->n == EMB_SEQ_MAX_IDS) {
        c->n_over++;
        return SQLITE_OK;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        int64_t *ids = sqlite3_realloc64(c->ids, cap * sizeof *ids);
        if (ids)
            c->ids = ids;
        int *b = sqlite3_realloc64(c->batch, cap * sizeof *b);
        if (b)
            c->batch = b;
        int *q = sqlite3_realloc64(c->pos, cap * sizeof *q);
        if (q)
            c->pos = q;
        if (!ids || !b || !q)
            return SQLITE_NOMEM;
        c->cap = cap;
    }
    c->ids[c->n] = id;
    c->batch[c->n] = batch;
    c->pos[c->n++] = pos;
    return SQLITE_OK;
}

static const char *skipWs(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Parse one '[int, ...]' at *ps; -1 = syntax error, else SQLite code. */
static int parseSeq(SeqCursor *c, const char **ps, int batch)
{
    const char *s = skipWs(*ps);
    if (*s != '[')
        return -1;
    s = skipWs(s + 1);
    int pos = 0;
    if (*s == ']') {
        *ps = s + 1;
        return SQLITE_OK;
    }
    for (;;) {
        char *end;
        if (!(*s == '-' || isdigit((unsigned char)*s)))
            return -1;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end == '.' || *end == 'e' || *end == 'E')
            return -1;
        int rc = seqPush(c, v, batch, pos++);
        if (rc)
            return rc;
        s = skipWs(end);
        if (*s == ']') {
            *ps = s + 1;
            return SQLITE_OK;
        }
        if (*s != ',')
            return -1;
        s = skipWs(s + 1);
    }
}

static int parseIds(SeqCursor *c, const char *s)
{
    s = skipWs(s);
    if (*s != '[')
        return -1;
    const char *t = skipWs(s + 1);
    int rc;
    if (*t == '[') { /* array of arrays */
        int batch = 0;
        s = t;
        for (;;) {
            if ((rc = parseSeq(c, &s, batch++)) != SQLITE_OK)
                return rc;
            s = skipWs(s);
            if (*s == ']')
                break;
            if (*s != ',')
                return -1;
            s = skipWs(s + 1);
        }
        s++;
    } else if ((rc = parseSeq(c, &s, 0)) != SQLITE_OK) {
        return rc;
    }
    return *skipWs(s) ? -1 : SQLITE_OK;
}

static int seqError(SeqCursor *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seqError(SeqCursor *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sqlite3_vtab *tab = c->base.pVtab;
    sqlite3_free(tab->zErrMsg);
    tab->zErrMsg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    return rc;
}

static int seqFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv)
{
    SeqCursor *c = (SeqCursor *)cur;
    SeqVtab *p = (SeqVtab *)cur->pVtab;
    (void)idxStr;
    seqReset(c);
    if (argc < 2 || (idxNum & 3) != 3)
        return seqError(c, SQLITE_ERROR, "emb_sequence: expected arguments (table, ids [, pe])");
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    if (!name)
        return seqError(c, SQLITE_ERROR, "emb_sequence: table name must be text (found %s)",
                        embTypeName(sqlite3_value_type(argv[0])));
    c->pe = PE_NONE;
    if ((idxNum & 4) && argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
        const char *pe = (const char *)sqlite3_value_text(argv[2]);
        if (pe && strcmp(pe, "none") == 0)
            c->pe = PE_NONE;
        else if (pe && strcmp(pe, "sinusoidal") == 0)
            c->pe = PE_SIN;
        else if (pe && (strcmp(pe, "rope") == 0 || strcmp(pe, "rope:neox") == 0))
            c->pe = PE_ROPE_NEOX;
        else if (pe && strcmp(pe, "rope:gptj") == 0)
            c->pe = PE_ROPE_GPTJ;
        else
            return seqError(c, SQLITE_ERROR,
                            "emb_sequence: unknown pe '%s' (expected none, sinusoidal, rope,"
                            " rope:neox or rope:gptj)",
                            pe ? pe : "");
    }
    char *zErr = NULL;
    int rc = embTableOpen(p->conn, p->db, "emb_sequence", name, &c->ref, &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(cur->pVtab->zErrMsg);
        cur->pVtab->zErrMsg = zErr;
        return rc;
    }
    const emb_matrix *m = embTableMatrix(c->ref);
    const char *ids = (const char *)sqlite3_value_text(argv[1]);
    rc = ids ? parseIds(c, ids) : -1;
    if (rc == -1)
        return seqError(c, SQLITE_ERROR, "emb_sequence: ids must be a JSON array of integers or"
                                         " of arrays of integers");
    if (rc)
        return rc;
    if (c->n_over)
        return seqError(c, SQLITE_ERROR, "emb_sequence: too many ids (%d vs %llu)",
                        EMB_SEQ_MAX_IDS, (unsigned long long)(c->n + c->n_over));
    for (size_t i = 0; i < c->n; i++)
        if (c->ids[i] < 0 || !emb_matrix_has_row(m, (size_t)c->ids[i]))
            return seqError(c, SQLITE_ERROR, "emb_sequence: token_id %lld not in table %s",
                            (long long)c->ids[i], name);
    if ((c->pe == PE_ROPE_NEOX || c->pe == PE_ROPE_GPTJ) && m->dim % 2)
        return seqError(c, SQLITE_ERROR,
                        "emb_sequence: rope needs an even dim; table %s has dim %lld", name,
                        (long long)m->dim);
    c->vec = sqlite3_malloc64(m->dim * sizeof(float));
    return c->vec ? SQLITE_OK : SQLITE_NOMEM;
}

static int seqNext(sqlite3_vtab_cursor *cur)
{
    ((SeqCursor *)cur)->i++;
    return SQLITE_OK;
}

static int seqEof(sqlite3_vtab_cursor *cur)
{
    SeqCursor *c = (SeqCursor *)cur;
    return c->i >= c->n;
}

static int seqColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol)
{
    SeqCursor *c = (SeqCursor *)cur;
    switch (iCol) {
    case SEQ_BATCH: sqlite3_result_int(ctx, c->batch[c->i]); break;
    case SEQ_POS: sqlite3_result_int(ctx, c->pos[c->i]); break;
    case SEQ_ID: sqlite3_result_int64(ctx, c->ids[c->i]); break;
    case SEQ_VECTOR: {
        const emb_matrix *m = embTableMatrix(c->ref);
        emb_matrix_row_f32(emb_kernels_get(), m, (size_t)c->ids[c->i], c->vec);
        if (c->pe == PE_SIN)
            emb_pe_add(c->vec, m->dim, c->pos[c->i], EMB_PE_BASE);
        else if (c->pe != PE_NONE)
            emb_rope_apply(c->vec, m->dim, c->pos[c->i], EMB_PE_BASE,
                           c->pe == PE_ROPE_GPTJ ? EMB_ROPE_GPTJ : EMB_ROPE_NEOX, NULL);
        embResultVec(ctx, c->vec, (int)m->dim);
        break;
    }
    default: break;
    }
    return SQLITE_OK;
}

static int seqRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid)
{
    *pRowid = (sqlite3_int64)((SeqCursor *)cur)->i;
    return SQLITE_OK;
}

static sqlite3_module seqModule = {
    .iVersion = 0,
    .xConnect = seqConnect,
    .xBestIndex = seqBestIndex,
    .xDisconnect = seqDisconnect,
    .xOpen = seqOpen,
    .xClose = seqClose,
    .xFilter = seqFilter,
    .xNext = seqNext,
    .xEof = seqEof,
    .xColumn = seqColumn,
    .xRowid = seqRowid,
};

int embRegisterTableFns(sqlite3 *db, EmbConn *conn)
{
    const int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "emb_lookup", 2, flags, conn, fnLookup, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_token_id", 2, flags, conn, fnTokenId, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_cache_info", 1, flags, conn, fnCacheInfo, NULL,
                                     NULL);
    for (int n = 0; n <= 1 && rc == SQLITE_OK; n++)
        rc = sqlite3_create_function(db, "emb_search_threads", n, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                     NULL, fnSearchThreads, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_cache_release", 1, flags, conn, fnCacheRelease,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_module(db, "emb_sequence", &seqModule, conn);
    return rc;
}
