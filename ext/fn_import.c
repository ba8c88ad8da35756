/*
 * fn_import.c - a model's token embeddings and its tokenizer in one call.
 *
 *   .load ./embext
 *   select emb_import_gguf('wte', 'tests/data/stories260k-v3.gguf');      -- 512
 *   select emb_tokens_json('wte', 'I love dogs');   -- [1,359,401,360,400,428,419]
 *
 *   emb_import_gguf(table, path [, tensor]) -> number of rows inserted
 *       When `table` ("table" or "schema.table") does not exist it is
 *       created as `embedding(dim=N)`, N from the tensor; an existing
 *       embedding table (made with other options, e.g. dtype=f16) gets the
 *       rows.  Rows are those of emb_read_gguf(path [, tensor]) (tensor
 *       token_embd.weight by default); then the file's tokenizer, when it
 *       has one (tokenizer.ggml.model), is stored with the table as
 *       emb_tokenizer_load does.  Reads a file: SQLITE_DIRECTONLY.
 *
 * Why a function: `INSERT INTO t SELECT * FROM emb_read_gguf(...)` cannot
 * store the tokenizer, since the reader does not know where its rows go and
 * the table does not know where they came from; an explicit
 * emb_tokenizer_load(table, path) after such an INSERT stays the way for
 * that form (and for tokenizer.json files).
 *
 * How it works: nested statements on the caller's connection: the table
 * check, `SELECT emb_dims(vector) ... LIMIT 1` for the dimension, CREATE
 * VIRTUAL TABLE, the INSERT ... SELECT (atomic by itself), then
 * embTokStoreFile.  If a later step fails, a table this call created is
 * dropped again, so an error leaves no half import behind.
 * Errors: "emb_import_gguf: " and the failing step's message, e.g.
 *   emb_import_gguf: emb_read_gguf: nosuch.gguf: cannot open (No such file or directory)
 */
#include "embtab.h"
#include "value.h"

#include <string.h>

/* Run sql with ?1 = path and ?2 = tensor (NULL: not bound); *pOut gets the
 * first column of the first row when pOut is given. */
static int runStep(sqlite3 *db, const char *sql, const char *zPath, const char *zTensor,
                   sqlite3_int64 *pOut)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (zPath && sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_text(st, 1, zPath, -1, SQLITE_STATIC);
    if (zTensor && sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_text(st, 2, zTensor, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && pOut)
        *pOut = sqlite3_column_int64(st, 0);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    return sqlite3_finalize(st);
}

static void fnImportGguf(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    static const char *const names[] = {"table", "path", "tensor"};
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    for (int i = 0; i < argc; i++)
        if (sqlite3_value_type(argv[i]) != SQLITE_TEXT) {
            embResultError(ctx, "emb_import_gguf: %s must be text (found %s)", names[i],
                           embTypeName(sqlite3_value_type(argv[i])));
            return;
        }
    const char *zName = (const char *)sqlite3_value_text(argv[0]);
    const char *zPath = (const char *)sqlite3_value_text(argv[1]);
    const char *zTensor = argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : NULL;
    if (!zName || !zPath || (argc > 2 && !zTensor)) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    const char *dot = strchr(zName, '.');
    char *zDb = dot ? sqlite3_mprintf("%.*s", (int)(dot - zName), zName) : sqlite3_mprintf("main");
    char *zTab = sqlite3_mprintf("%s", dot ? dot + 1 : zName);
    const char *zRead = zTensor ? "emb_read_gguf(?1, ?2)" : "emb_read_gguf(?1)";
    char *zExists = zDb && zTab ? sqlite3_mprintf("SELECT count(*) FROM \"%w\".sqlite_schema WHERE type = 'table'"
                                                  " AND name = '%q'", zDb, zTab) : NULL;
    char *zDim = sqlite3_mprintf("SELECT emb_dims(vector) FROM %s LIMIT 1", zRead);
    char *zInsert = zDb && zTab ? sqlite3_mprintf("INSERT INTO \"%w\".\"%w\"(token_id, token, vector)"
                                                  " SELECT token_id, token, vector FROM %s", zDb, zTab, zRead) : NULL;
    int rc = zExists && zDim && zInsert ? SQLITE_OK : SQLITE_NOMEM, created = 0;
    sqlite3_int64 exists = 0, dim = 0, rows = 0, nTok = 0;
    char *zErr = NULL;
    /* All steps inside one savepoint whose ROLLBACK TO / RELEASE are
     * prepared before any change: a failure (out of memory included, when
     * no new statement could be prepared) leaves nothing behind. */
    sqlite3_stmt *spUndo = NULL, *spEnd = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "ROLLBACK TO emb_import_gguf", -1, &spUndo, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "RELEASE emb_import_gguf", -1, &spEnd, NULL);
    if (rc == SQLITE_OK)
        rc = runStep(db, "SAVEPOINT emb_import_gguf", NULL, NULL, NULL);
    int inSavepoint = rc == SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = runStep(db, zExists, NULL, NULL, &exists);
    if (rc == SQLITE_OK && !exists) {
        if ((rc = runStep(db, zDim, zPath, zTensor, &dim)) == SQLITE_OK && dim <= 0) {
            zErr = sqlite3_mprintf("emb_import_gguf: %s: no rows", zPath);
            rc = SQLITE_ERROR;
        }
        if (rc == SQLITE_OK) {
            char *zCreate = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING embedding(dim=%lld)",
                                            zDb, zTab, (long long)dim);
            rc = zCreate ? runStep(db, zCreate, NULL, NULL, NULL) : SQLITE_NOMEM;
            sqlite3_free(zCreate);
            created = rc == SQLITE_OK;
        }
    }
    if (rc == SQLITE_OK && (rc = runStep(db, zInsert, zPath, zTensor, NULL)) == SQLITE_OK)
        rows = sqlite3_changes64(db);
    if (rc == SQLITE_OK)
        rc = embTokStoreFile(sqlite3_user_data(ctx), db, "emb_import_gguf", zName, zPath, 1, &nTok,
                             &zErr);
    if (rc != SQLITE_OK && !zErr && rc != SQLITE_NOMEM)
        zErr = sqlite3_mprintf("emb_import_gguf: %s", sqlite3_errmsg(db));
    /* On failure: roll back to the savepoint and release it.  If even the
     * rollback fails (no memory), keep the savepoint open: the statement
     * then ends with SQLITE_NOMEM and SQLite rolls the whole transaction
     * back, while a RELEASE here would commit the half import. */
    int undone = 0;
    if (inSavepoint && rc != SQLITE_OK && sqlite3_step(spUndo) == SQLITE_DONE)
        undone = 1, created = 0; /* rolled back: nothing to drop */
    if (inSavepoint && (rc == SQLITE_OK || undone) && sqlite3_step(spEnd) != SQLITE_DONE &&
        rc == SQLITE_OK)
        rc = SQLITE_NOMEM;
    if (inSavepoint && rc != SQLITE_OK && !undone)
        created = 0, rc = SQLITE_NOMEM; /* SQLite's rollback will undo it all */
    sqlite3_finalize(spUndo);
    sqlite3_finalize(spEnd);
    if (rc != SQLITE_OK && created) { /* leave no half import behind */
        char *zDrop = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w\";"
                                      "DROP TABLE IF EXISTS \"%w\".\"%w_tokenizer\"", zDb, zTab, zDb, zTab);
        if (zDrop)
            sqlite3_exec(db, zDrop, NULL, NULL, NULL);
        sqlite3_free(zDrop);
    }
    sqlite3_free(zDb);
    sqlite3_free(zTab);
    sqlite3_free(zExists);
    sqlite3_free(zDim);
    sqlite3_free(zInsert);
    if (rc == SQLITE_OK)
        sqlite3_result_int64(ctx, rows);
    else if (zErr)
        sqlite3_result_error(ctx, zErr, -1);
    else
        sqlite3_result_error_nomem(ctx);
    sqlite3_free(zErr);
}

int embRegisterImport(sqlite3 *db, EmbConn *conn)
{
    int rc = sqlite3_create_function(db, "emb_import_gguf", 2, EMB_FILEIO, conn, fnImportGguf,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "emb_import_gguf", 3, EMB_FILEIO, conn, fnImportGguf,
                                     NULL, NULL);
    return rc;
}
