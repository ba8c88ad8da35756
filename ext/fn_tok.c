/*
 * fn_tok.c - the model's own tokenizer in SQL, stored with its embedding
 * table (src/tok does the work).
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=64);
 *   insert into wte(token_id, token, vector)
 *     select token_id, token, vector from emb_read_gguf('tests/data/stories260k-v3.gguf');
 *   select emb_tokenizer_load('wte', 'tests/data/stories260k-v3.gguf');   -- 512
 *   select pos, token_id, token from emb_tokenize('wte', 'I love dogs', 0);
 *       -- 0|359|▁I  1|401|▁love  2|360|▁d  3|400|og  4|428|s ... (no BOS)
 *   select emb_tokens_json('wte', 'I love dogs');   -- [1,359,401,360,400,428,419]
 *   select * from emb_sequence('wte', emb_tokens_json('wte', 'I love dogs'), 'rope');
 *   select emb_detokenize('wte', '[359, 401, 360]');  -- I love d
 *
 * Functions (`table` is an embedding table, "table" or "schema.table"):
 *   emb_tokenizer_load(table, path) -> number of tokens
 *       reads the tokenizer of the file at path: the tokenizer.ggml.*
 *       metadata of a GGUF file (model "llama" or "gpt2") or a Hugging Face
 *       tokenizer.json (src/tok/hf_json.c says which), told apart by content,
 *       and stores it in the shadow table <table>_tokenizer, replacing any
 *       stored before.  Reads a file: SQLITE_DIRECTONLY (not usable from
 *       triggers or views).  emb_import_gguf (fn_import.c) calls it too.
 *   emb_tokenize(table, text [, add_bos]) -> (pos, token_id, token)
 *       table-valued; token is the vocabulary's text of the token.
 *   emb_tokens_json(table, text [, add_bos]) -> '[id, ...]'
 *       the same ids as a JSON array, what emb_sequence takes.
 *   emb_detokenize(table, ids) -> text
 *       ids: a JSON array of token ids.
 *   emb_tokenizer_info(table) -> JSON: model, format, tokens, bos, eos, add_bos
 *   add_bos: 1 / 0, or NULL / absent for what the file says
 *   (tokenizer.ggml.add_bos_token; llama-style files default to 1).
 *   NULL text or ids give NULL (no rows for emb_tokenize).  A text that would
 *   give more than 1048576 tokens (EMB_TOK_MAX_TOKENS) is an error.
 * Errors (exact text), e.g.:
 *   emb_tokenize: table wte has no tokenizer (store one with
 *       emb_tokenizer_load('wte', path) from a GGUF file or a tokenizer.json)
 *   emb_tokenize: no such embedding table: nope
 *   emb_tokenize: text must be text (found integer)
 *   emb_detokenize: ids must be a JSON array of integers (found '[1,x]')
 *   emb_detokenize: token id 9999 at position 0 is out of range (0..511)
 *
 * How it works: <table>_tokenizer(id = 1, model, source, version, data) holds
 * the tokenizer part of a GGUF file as a small GGUF blob (no tensors, only
 * the tokenizer.ggml.* keys, byte for byte; see emb_tok_gguf_extract) or a
 * tokenizer.json as it is, so the database alone can tokenize.  Each
 * connection keeps the parsed tokenizers, each with a word cache, in a list
 * (the EmbConn slot); a call reads only the row's version (a random number
 * written with the data) with a statement the embedding table keeps
 * prepared (embTableTokVersion), and reparses when it changed.
 */
#include "core/alloc.h"
#include "embtab.h"
#include "tvf.h"
#include "value.h"
#include "readers/bytes.h"
#include "tok/tok.h"

#include <stdlib.h>
#include <string.h>

/* ---- the per-connection cache ---------------------------------------------- */

typedef struct TokEntry {
    struct TokEntry *next;
    char *zName;          /* as the caller named it */
    sqlite3_int64 version;
    emb_tok *tok;
    emb_tok_cache *words; /* word cache of tok (NULL: none) */
} TokEntry;

void embTokCacheFree(void *cache)
{
    TokEntry *e = cache;
    while (e) {
        TokEntry *next = e->next;
        sqlite3_free(e->zName);
        emb_tok_free(e->tok);
        emb_tok_cache_free(e->words);
        sqlite3_free(e);
        e = next;
    }
}

/* Split "schema.table"; an unqualified name is looked up as SQLite resolves
 * table names (temp, main, then attached databases in order; main when it
 * is nowhere).  *pzDb and *pzTab are sqlite3_malloc'd. */
static int splitName(sqlite3 *db, const char *zName, char **pzDb, char **pzTab)
{
    const char *dot = strchr(zName, '.');
    *pzDb = NULL;
    if (dot) {
        *pzDb = sqlite3_mprintf("%.*s", (int)(dot - zName), zName);
        *pzTab = sqlite3_mprintf("%s", dot + 1);
    } else {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list ORDER BY name <> 'temp', seq",
                               -1, &st, NULL) == SQLITE_OK) {
            while (!*pzDb && sqlite3_step(st) == SQLITE_ROW) {
                const char *zDb = (const char *)sqlite3_column_text(st, 0);
                char *sql = zDb ? sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE type = 'table'"
                                                  " AND name = ?", zDb) : NULL;
                sqlite3_stmt *q = NULL;
                if (sql && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
                    sqlite3_bind_text(q, 1, zName, -1, SQLITE_STATIC);
                    if (sqlite3_step(q) == SQLITE_ROW)
                        *pzDb = sqlite3_mprintf("%s", zDb);
                }
                sqlite3_finalize(q);
                sqlite3_free(sql);
            }
        }
        sqlite3_finalize(st);
        if (!*pzDb)
            *pzDb = sqlite3_mprintf("main");
        *pzTab = sqlite3_mprintf("%s", zName);
    }
    if (!*pzDb || !*pzTab) {
        sqlite3_free(*pzDb);
        sqlite3_free(*pzTab);
        return SQLITE_NOMEM;
    }
    return SQLITE_OK;
}

/* The tokenizer stored with table zName.  SQLITE_OK and *pp (owned by the
 * cache, valid until the next call on this connection) with its word cache
 * *pw (may be NULL), or an error code and *pzErr (sqlite3_malloc'd). */
static int tokGet(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                  const emb_tok **pp, emb_tok_cache **pw, char **pzErr)
{
    /* The hot path is one step of a statement the table keeps: the row's
     * version, which changes with every store. */
    sqlite3_int64 version = 0;
    int found = 0;
    int rc = embTableTokVersion(conn, db, zFunc, zName, &version, &found, pzErr);
    if (rc)
        return rc;
    if (!found) {
        *pzErr = sqlite3_mprintf("%s: table %s has no tokenizer (store one with "
                                 "emb_tokenizer_load('%s', path) from a GGUF file or a tokenizer.json)",
                                 zFunc, zName, zName);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    TokEntry **slot = (TokEntry **)embConnTokSlot(conn), *e;
    for (e = *slot; e; e = e->next)
        if (sqlite3_stricmp(e->zName, zName) == 0)
            break;
    if (e && e->version == version && e->tok) {
        *pp = e->tok;
        *pw = e->words;
        return SQLITE_OK;
    }
    const char *dot = strchr(zName, '.');
    char *sql;
    sqlite3_stmt *st = NULL;
    sql = dot ? NULL : sqlite3_mprintf("SELECT data FROM \"%w_tokenizer\" WHERE id = 1", zName);
    if (dot) {
        char *zDbPart = sqlite3_mprintf("%.*s", (int)(dot - zName), zName);
        sql = zDbPart ? sqlite3_mprintf("SELECT data FROM \"%w\".\"%w_tokenizer\" WHERE id = 1",
                                        zDbPart, dot + 1) : NULL;
        sqlite3_free(zDbPart);
    }
    if (!sql)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        *pzErr = sqlite3_mprintf("%s: cannot read the tokenizer of %s: %s", zFunc, zName,
                                 sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return SQLITE_ERROR;
    }
    const void *blob = sqlite3_column_blob(st, 0);
    int nBlob = sqlite3_column_bytes(st, 0);
    emb_tok *tok = NULL;
    emb_err err = {0, ""};
    if (!blob || emb_tok_load(blob, (size_t)nBlob, &tok, &err) != EMB_OK) {
        *pzErr = sqlite3_mprintf("%s: corrupt tokenizer of %s: %s", zFunc, zName,
                                 blob ? err.msg : "no data");
        sqlite3_finalize(st);
        return err.code == EMB_ENOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (!e) {
        e = sqlite3_malloc(sizeof *e);
        char *z = sqlite3_mprintf("%s", zName);
        if (!e || !z) {
            sqlite3_free(e);
            sqlite3_free(z);
            emb_tok_free(tok);
            return SQLITE_NOMEM;
        }
        memset(e, 0, sizeof *e);
        e->zName = z;
        e->next = *slot;
        *slot = e;
    }
    emb_tok_free(e->tok);
    emb_tok_cache_free(e->words); /* its words belong to the old tokenizer */
    e->tok = tok;
    e->words = emb_tok_cache_new();
    e->version = version;
    *pp = tok;
    *pw = e->words;
    return SQLITE_OK;
}

/* ---- shared argument handling ------------------------------------------------ */

/* add_bos argument: NULL/absent -> -1 (the file's setting), else 0 or 1. */
static int argAddBos(sqlite3_value *v, const char *zFunc, int *out, char **pzErr)
{
    if (!v || sqlite3_value_type(v) == SQLITE_NULL) {
        *out = -1;
        return SQLITE_OK;
    }
    if (sqlite3_value_numeric_type(v) != SQLITE_INTEGER ||
        (sqlite3_value_int64(v) != 0 && sqlite3_value_int64(v) != 1)) {
        *pzErr = sqlite3_mprintf("%s: add_bos must be 0, 1 or NULL (found %s)", zFunc,
                                 sqlite3_value_text(v) ? (const char *)sqlite3_value_text(v) : "?");
        return SQLITE_ERROR;
    }
    *out = (int)sqlite3_value_int64(v);
    return SQLITE_OK;
}

/* Tokenize argv-style arguments (table, text, add_bos).  SQLITE_DONE when
 * the text is NULL. */
static int tokenizeArgs(EmbConn *conn, sqlite3 *db, const char *zFunc, sqlite3_value *vTab,
                        sqlite3_value *vText, sqlite3_value *vBos, const emb_tok **ptok,
                        int32_t **pIds, size_t *pN, char **pzErr)
{
    if (!vText || sqlite3_value_type(vText) == SQLITE_NULL)
        return SQLITE_DONE;
    const char *zName = vTab ? (const char *)sqlite3_value_text(vTab) : NULL;
    if (!zName || sqlite3_value_type(vTab) != SQLITE_TEXT) {
        *pzErr = sqlite3_mprintf("%s: table must be the name of an embedding table (found %s)",
                                 zFunc, embTypeName(vTab ? sqlite3_value_type(vTab) : SQLITE_NULL));
        return SQLITE_ERROR;
    }
    if (sqlite3_value_type(vText) != SQLITE_TEXT) {
        *pzErr = sqlite3_mprintf("%s: text must be text (found %s)", zFunc,
                                 embTypeName(sqlite3_value_type(vText)));
        return SQLITE_ERROR;
    }
    int addBos, rc = argAddBos(vBos, zFunc, &addBos, pzErr);
    if (rc)
        return rc;
    emb_tok_cache *words = NULL;
    if ((rc = tokGet(conn, db, zFunc, zName, ptok, &words, pzErr)))
        return rc;
    const char *text = (const char *)sqlite3_value_text(vText);
    size_t n = (size_t)sqlite3_value_bytes(vText);
    if (!text)
        return SQLITE_NOMEM;
    emb_err err = {0, ""};
    rc = emb_tok_encode_cached(*ptok, words, text, n, addBos, 0, EMB_TOK_MAX_TOKENS, pIds, pN, &err);
    if (rc == EMB_ENOMEM)
        return SQLITE_NOMEM;
    if (rc) {
        *pzErr = sqlite3_mprintf("%s: %s", zFunc, strncmp(err.msg, "tok: ", 5) ? err.msg : err.msg + 5);
        return SQLITE_ERROR;
    }
    return SQLITE_OK;
}

static void resultErr(sqlite3_context *ctx, int rc, char *zErr)
{
    if (zErr)
        sqlite3_result_error(ctx, zErr, -1);
    else if (rc == SQLITE_NOMEM)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_error_code(ctx, rc);
    sqlite3_free(zErr);
}

/* ---- emb_tokens_json ---------------------------------------------------------- */

static void fnTokensJson(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const emb_tok *tok;
    int32_t *ids = NULL;
    size_t n = 0;
    char *zErr = NULL;
    int rc = tokenizeArgs(sqlite3_user_data(ctx), sqlite3_context_db_handle(ctx), "emb_tokens_json",
                          argv[0], argv[1], argc > 2 ? argv[2] : NULL, &tok, &ids, &n, &zErr);
    if (rc == SQLITE_DONE)
        return;
    if (rc) {
        resultErr(ctx, rc, zErr);
        return;
    }
    /* at most 11 bytes per id ("-2147483648" never: ids are >= 0) and a comma */
    size_t cap = 2 + 12 * n + 1;
    char *z = cap <= 0x7fffffff ? sqlite3_malloc64(cap) : NULL;
    if (!z) {
        emb_free(ids);
        if (cap > 0x7fffffff)
            sqlite3_result_error_toobig(ctx);
        else
            sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t k = 0;
    z[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        char digits[12];
        int nd = 0;
        uint32_t v = (uint32_t)ids[i];
        do {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (i)
            z[k++] = ',';
        while (nd)
            z[k++] = digits[--nd];
    }
    z[k++] = ']';
    emb_free(ids);
    sqlite3_result_text(ctx, z, (int)k, sqlite3_free);
}

/* ---- emb_detokenize ----------------------------------------------------------- */

/* Parse a JSON array of integers into *pIds (malloc'd). */
static int parseIdArray(const char *s, int32_t **pIds, size_t *pN)
{
    size_t cap = 16, n = 0;
    int32_t *ids = emb_malloc(cap * sizeof *ids);
    if (!ids)
        return SQLITE_NOMEM;
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p++ != '[')
        goto bad;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == ']' && n == 0) {
            p++;
            break;
        }
        char *end;
        if (!(*p == '-' || (*p >= '0' && *p <= '9')))
            goto bad;
        long long v = strtoll(p, &end, 10);
        if (end == p || *end == '.' || *end == 'e' || *end == 'E')
            goto bad;
        if (v < INT32_MIN || v > INT32_MAX)
            v = INT32_MIN; /* out of range: reported by decode as position i */
        if (n == cap) {
            cap *= 2;
            int32_t *nids = emb_realloc(ids, cap * sizeof *nids);
            if (!nids) {
                emb_free(ids);
                return SQLITE_NOMEM;
            }
            ids = nids;
        }
        ids[n++] = (int32_t)v;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']') {
            p++;
            break;
        }
        goto bad;
    }
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p)
        goto bad;
    *pIds = ids;
    *pN = n;
    return SQLITE_OK;
bad:
    emb_free(ids);
    return SQLITE_ERROR;
}

static void fnDetokenize(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    const char *zName = (const char *)sqlite3_value_text(argv[0]);
    if (!zName || sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        embResultError(ctx, "emb_detokenize: table must be the name of an embedding table (found %s)",
                       embTypeName(sqlite3_value_type(argv[0])));
        return;
    }
    const char *zIds = (const char *)sqlite3_value_text(argv[1]);
    if (!zIds) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = sqlite3_value_type(argv[1]) == SQLITE_TEXT ? parseIdArray(zIds, &ids, &n) : SQLITE_ERROR;
    if (rc == SQLITE_NOMEM) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (rc) {
        embResultError(ctx, "emb_detokenize: ids must be a JSON array of integers (found '%.40s%s')",
                       zIds, strlen(zIds) > 40 ? "..." : "");
        return;
    }
    const emb_tok *tok;
    char *zErr = NULL;
    emb_tok_cache *words;
    rc = tokGet(sqlite3_user_data(ctx), sqlite3_context_db_handle(ctx), "emb_detokenize", zName, &tok,
                &words, &zErr);
    if (rc) {
        emb_free(ids);
        resultErr(ctx, rc, zErr);
        return;
    }
    char *text = NULL;
    size_t nText = 0;
    emb_err err = {0, ""};
    rc = emb_tok_decode(tok, ids, n, &text, &nText, &err);
    emb_free(ids);
    if (rc == EMB_ENOMEM) {
        sqlite3_result_error_nomem(ctx);
    } else if (rc) {
        embResultError(ctx, "emb_detokenize: %s", err.msg + 5);
    } else if (nText > 0x7fffffff) {
        emb_free(text);
        sqlite3_result_error_toobig(ctx);
    } else {
        sqlite3_result_text(ctx, text, (int)nText, emb_free);
    }
}

/* ---- emb_tokenizer_load / emb_tokenizer_info -------------------------------------- */

int embTokStoreFile(EmbConn *conn, sqlite3 *db, const char *zFunc, const char *zName,
                    const char *zPath, int optional, sqlite3_int64 *pnTok, char **pzErr)
{
    EmbTableRef *ref;
    int rc = embTableOpen(conn, db, zFunc, zName, &ref, pzErr);
    if (rc)
        return rc;
    embTableClose(ref);
    emb_map map = {0};
    emb_err err = {0, ""};
    uint8_t *blob = NULL;
    size_t nBlob = 0;
    emb_tok *tok = NULL;
    *pnTok = -1;
    if (emb_map_open(&map, zPath, zFunc, zPath, &err) == EMB_OK) {
        if (map.n >= 4 && memcmp(map.data, "GGUF", 4) == 0) {
            if (emb_tok_gguf_extract(map.data, map.n, &blob, &nBlob, &err) == EMB_OK)
                emb_tok_load_gguf(blob, nBlob, &tok, &err);
        } else if (emb_tok_load(map.data, map.n, &tok, &err) == EMB_OK) {
            /* tokenizer.json: stored as it is */
            nBlob = map.n;
            if (!(blob = emb_malloc(nBlob ? nBlob : 1)))
                err.code = EMB_ENOMEM;
            else
                memcpy(blob, map.data, nBlob);
        }
    }
    emb_map_close(&map);
    if (!tok || !blob) {
        emb_free(blob);
        emb_tok_free(tok);
        if (err.code == EMB_ENOMEM)
            return SQLITE_NOMEM;
        if (optional && err.code == EMB_ENOTFOUND)
            return SQLITE_OK;
        size_t nf = strlen(zFunc);
        if (strncmp(err.msg, zFunc, nf) == 0 && strncmp(err.msg + nf, ": ", 2) == 0)
            *pzErr = sqlite3_mprintf("%s", err.msg);
        else
            *pzErr = sqlite3_mprintf("%s: %s: %s", zFunc, emb_basename(zPath), err.msg);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    size_t nTok = emb_tok_n_tokens(tok);
    const char *model = emb_tok_model(tok);
    char *zDb = NULL, *zTab = NULL;
    if (splitName(db, zName, &zDb, &zTab)) {
        emb_free(blob);
        emb_tok_free(tok);
        return SQLITE_NOMEM;
    }
    char *sql = sqlite3_mprintf(
        "CREATE TABLE IF NOT EXISTS \"%w\".\"%w_tokenizer\"(id INTEGER PRIMARY KEY CHECK (id = 1),"
        " model TEXT, source TEXT, version INTEGER, data BLOB);"
        "INSERT OR REPLACE INTO \"%w\".\"%w_tokenizer\"(id, model, source, version, data)"
        " VALUES (1, ?1, ?2, ?3, ?4)", zDb, zTab, zDb, zTab);
    sqlite3_free(zDb);
    sqlite3_free(zTab);
    if (!sql) {
        emb_free(blob);
        emb_tok_free(tok);
        return SQLITE_NOMEM;
    }
    /* Two statements: run the CREATE, then the INSERT with its parameters,
     * inside a savepoint whose ROLLBACK TO / RELEASE are prepared first, so
     * that a failure (out of memory included) leaves no half-stored
     * tokenizer behind. */
    const char *tail = NULL;
    sqlite3_stmt *st = NULL, *spBegin = NULL, *spUndo = NULL, *spEnd = NULL;
    rc = sqlite3_prepare_v2(db, "SAVEPOINT emb_tokenizer_load", -1, &spBegin, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "ROLLBACK TO emb_tokenizer_load", -1, &spUndo, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "RELEASE emb_tokenizer_load", -1, &spEnd, NULL);
    if (rc != SQLITE_OK || sqlite3_step(spBegin) != SQLITE_DONE) {
        sqlite3_finalize(spBegin);
        sqlite3_finalize(spUndo);
        sqlite3_finalize(spEnd);
        sqlite3_free(sql);
        emb_free(blob);
        emb_tok_free(tok);
        return SQLITE_NOMEM;
    }
    sqlite3_finalize(spBegin);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        rc = rc == SQLITE_DONE ? sqlite3_prepare_v2(db, tail, -1, &st, NULL) : SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) {
        sqlite3_int64 version;
        sqlite3_randomness(sizeof version, &version);
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, emb_basename(zPath), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, version);
        sqlite3_bind_blob64(st, 4, blob, nBlob, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_free(sql);
    emb_free(blob);
    emb_tok_free(tok);
    if (rc != SQLITE_OK) {
        int nomem = sqlite3_errcode(db) == SQLITE_NOMEM;
        if (!nomem)
            *pzErr = sqlite3_mprintf("%s: cannot store the tokenizer of %s: %s", zFunc, zName,
                                     sqlite3_errmsg(db));
        sqlite3_finalize(st);
        /* release only after a successful rollback: a RELEASE would commit
         * the half-stored tokenizer; left open, nothing is committed (a
         * ROLLBACK or closing the connection discards it) */
        if (sqlite3_step(spUndo) == SQLITE_DONE)
            sqlite3_step(spEnd);
        else if (*pzErr) {
            sqlite3_free(*pzErr);
            *pzErr = NULL;
        }
        sqlite3_finalize(spUndo);
        sqlite3_finalize(spEnd);
        return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(spUndo);
    rc = sqlite3_step(spEnd);
    sqlite3_finalize(spEnd);
    if (rc != SQLITE_DONE)
        return SQLITE_NOMEM;
    *pnTok = (sqlite3_int64)nTok;
    return SQLITE_OK;
}

static void fnTokenizerLoad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *zName = (const char *)sqlite3_value_text(argv[0]);
    const char *zPath = (const char *)sqlite3_value_text(argv[1]);
    if (!zName || sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        embResultError(ctx, "emb_tokenizer_load: table must be the name of an embedding table (found %s)",
                       embTypeName(sqlite3_value_type(argv[0])));
        return;
    }
    if (!zPath || sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
        embResultError(ctx, "emb_tokenizer_load: path must be text (found %s)",
                       embTypeName(sqlite3_value_type(argv[1])));
        return;
    }
    char *zErr = NULL;
    sqlite3_int64 nTok = 0;
    int rc = embTokStoreFile(sqlite3_user_data(ctx), sqlite3_context_db_handle(ctx),
                             "emb_tokenizer_load", zName, zPath, 0, &nTok, &zErr);
    if (rc)
        resultErr(ctx, rc, zErr);
    else
        sqlite3_result_int64(ctx, nTok);
}

static void fnTokenizerInfo(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *zName = (const char *)sqlite3_value_text(argv[0]);
    if (!zName || sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        embResultError(ctx, "emb_tokenizer_info: table must be the name of an embedding table (found %s)",
                       embTypeName(sqlite3_value_type(argv[0])));
        return;
    }
    const emb_tok *tok;
    char *zErr = NULL;
    emb_tok_cache *words;
    int rc = tokGet(sqlite3_user_data(ctx), sqlite3_context_db_handle(ctx), "emb_tokenizer_info",
                    zName, &tok, &words, &zErr);
    if (rc) {
        resultErr(ctx, rc, zErr);
        return;
    }
    char *z = sqlite3_mprintf("{\"model\":\"%s\",\"format\":\"%s\",\"tokens\":%lld,\"bos\":%d,"
                              "\"eos\":%d,\"add_bos\":%s}",
                              emb_tok_model(tok),
                              emb_tok_format(tok) == EMB_TOK_FMT_HF ? "tokenizer.json" : "gguf",
                              (long long)emb_tok_n_tokens(tok), (int)emb_tok_bos(tok),
                              (int)emb_tok_eos(tok), emb_tok_add_bos(tok) ? "true" : "false");
    if (!z)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/* ---- emb_tokenize (table-valued) ------------------------------------------------- */

static int computeTokenize(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const emb_tok *tok;
    int32_t *ids = NULL;
    size_t n = 0;
    char *zErr = NULL;
    int rc = tokenizeArgs(p->conn, p->db, "emb_tokenize", args[0], args[1], args[2], &tok, &ids, &n,
                          &zErr);
    if (rc == SQLITE_DONE)
        return SQLITE_OK;
    if (rc) {
        if (zErr) {
            embTvfError(p, "%s", zErr);
            sqlite3_free(zErr);
        }
        return rc;
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        TvfCell *row = embTvfRow(cur, 3);
        size_t len = 0;
        const char *piece = emb_tok_piece(tok, ids[i], &len);
        if (!row || embTvfCellText(&row[2], piece, (int)len)) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&row[0], (sqlite3_int64)i);
        embTvfCellInt(&row[1], ids[i]);
    }
    emb_free(ids);
    return rc;
}

static const char *const argsTokenize[] = {"table", "text", "add_bos"};

static const TvfSpec specs[] = {
    {"emb_tokenize",
     "CREATE TABLE x(pos INTEGER, token_id INTEGER, token TEXT, \"table\" HIDDEN, text HIDDEN,"
     " add_bos HIDDEN)",
     3, 3, 2, 0, argsTokenize, computeTokenize, NULL, 0, 0},
};

int embRegisterTokenizer(sqlite3 *db, EmbConn *conn)
{
    const int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS;
    int rc = embTvfRegister(db, conn, specs, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_tokens_json", 2, flags, conn, fnTokensJson, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_tokens_json", 3, flags, conn, fnTokensJson, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_detokenize", 2, flags, conn, fnDetokenize, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_tokenizer_info", 1, flags, conn, fnTokenizerInfo,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_tokenizer_load", 2, EMB_FILEIO, conn, fnTokenizerLoad,
                                     NULL, NULL);
    return rc;
}
