/*
 * embext.c - the extension entry point: sqlite3_embext_init.
 *
 *   sqlite3 :memory: '.load ./embext' "select emb_isa(), emb_l2('[0,0]','[3,4]')"
 *
 * Parameters: none (sqlite3_load_extension's entry point argument may be
 * omitted: SQLite derives sqlite3_embext_init from the file name).
 * Environment: EMB_ISA=serial|avx2|avx512|neon lowers the kernel set
 * (src/kernels/cpu.c).
 *
 * How it works: registration is table-driven: each family in ext/ exposes
 * embRegister<Family>(db, conn) and is listed below.  `conn` is the
 * per-connection state shared by the virtual table and the functions that
 * read an embedding table; it is freed when the connection closes.
 * Built with -DSQLITE_CORE the same function can be called directly by a
 * program that links SQLite statically.
 */
#include "embext.h"
#include "embtab.h"

SQLITE_EXTENSION_INIT1

static int (*const registrars[])(sqlite3 *, EmbConn *) = {
    embRegisterVecFns,
    embRegisterEmbeddingTable,
    embRegisterTableFns,
    embRegisterReaders,
    embRegisterPosenc,
    embRegisterSemantics,
    embRegisterKeyed,
    embRegisterTorch,
    embRegisterKnn,
    embRegisterPca,
    embRegisterTokenizer,
    embRegisterImport,
};

#ifdef _WIN32
__declspec(dllexport)
#endif
__attribute__((visibility("default"))) int
sqlite3_embext_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
{
#ifndef SQLITE_CORE
    /* SQLITE_EXTENSION_INIT2 stores the routine table on every load; each
     * connection of a process loads the extension (threads may do so at
     * once), and the table is the same, so store it only when it differs:
     * later loads only read it (no write racing the readers). */
    if (__atomic_load_n(&sqlite3_api, __ATOMIC_ACQUIRE) != pApi)
        __atomic_store_n(&sqlite3_api, pApi, __ATOMIC_RELEASE);
#else
    SQLITE_EXTENSION_INIT2(pApi);
#endif
    EmbConn *conn = embConnNew();
    if (!conn) {
        if (pzErrMsg)
            *pzErrMsg = sqlite3_mprintf("embext: out of memory");
        return SQLITE_NOMEM;
    }
    for (size_t i = 0; i < sizeof registrars / sizeof registrars[0]; i++) {
        int rc = registrars[i](db, conn);
        if (rc != SQLITE_OK) {
            if (pzErrMsg)
                *pzErrMsg = sqlite3_mprintf("embext: registration failed: %s",
                                            sqlite3_errstr(rc));
            return rc;
        }
    }
    return SQLITE_OK;
}
