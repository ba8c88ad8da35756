/*
 * vtab_shared.c - one in-memory copy of an `embedding` table per process:
 * the registry of published EmbCache copies (ext/vtab_cache.c) shared by
 * every connection of the process that opens the same table of the same
 * database file.
 *
 *   .load ./embext
 *   -- connection 1                         -- connection 2 (same process)
 *   select token from wte                   select token from wte
 *    where vector match :q and k = 5;        where vector match :q and k = 5;
 *   -- loads the copy and publishes it      -- finds it: no second copy
 *
 * Identity.  A copy is keyed by the database file (device and inode of
 * sqlite3_db_filename, so two paths to one file, or one file attached
 * under two schema names, share), the table name (case-insensitive, as
 * SQLite compares names), the table's version (the random 64-bit value
 * its _config row gets at each writing transaction, vtab_write.c) and its
 * layout (dim, dtype, row bytes).  In-memory and temp databases (no file
 * name) never share.
 *
 * Rules (the callers in vtab_cache.c keep them):
 *   - Only a copy that reflects committed data is published: one loaded or
 *     kept current by a connection with no uncommitted writes of its own to
 *     the table (EmbVtab.txn_wrote == 0) whose read of the version gave
 *     that copy's version.  Every connection still reads the version before
 *     each query, in its own transaction, and takes a copy of exactly that
 *     version, so it never sees a stale one.
 *   - A published copy is never modified.  A connection about to write
 *     either takes it back (it was the only user: embSharedUnshare) or
 *     works on a private clone; its copy is published again once its
 *     transaction has committed and a later query finds it current.
 *   - Several versions of one table may be published at once (readers on
 *     older snapshots); a copy leaves the registry when its last reference
 *     is released.
 *
 * Thread safety: one pthread mutex guards the list and the reference count
 * of every published copy (EmbCache.nRef); a private copy's count belongs
 * to its connection.  `make tsan` runs the threaded test under
 * ThreadSanitizer.
 */
#include "vtab_store.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t sharedMu = PTHREAD_MUTEX_INITIALIZER;
static EmbCache *sharedList; /* published copies, linked by pNextShared */

/* The file identity of p's database, 0 when it has none (memory, temp, or
 * the file cannot be stat'ed). */
static int sharedFile(EmbVtab *p, uint64_t *dev, uint64_t *ino)
{
    const char *f = sqlite3_db_filename(p->db, p->zDb);
    struct stat st;
    if (!f || !*f || stat(f, &st) != 0)
        return 0;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 1;
}

static int sameTable(const EmbCache *c, EmbVtab *p, uint64_t dev, uint64_t ino, int64_t version)
{
    return c->version == version && c->key_dev == dev && c->key_ino == ino &&
           c->dim == (size_t)p->dim && c->dtype == p->dtype && c->row_bytes == p->row_bytes &&
           sqlite3_stricmp(c->zKeyTab, p->zName) == 0;
}

/* Find a published copy (caller holds the mutex). */
static EmbCache *sharedLookup(EmbVtab *p, uint64_t dev, uint64_t ino, int64_t version)
{
    for (EmbCache *c = sharedList; c; c = c->pNextShared)
        if (sameTable(c, p, dev, ino, version))
            return c;
    return NULL;
}

EmbCache *embSharedFind(EmbVtab *p, int64_t version)
{
    uint64_t dev, ino;
    if (!sharedFile(p, &dev, &ino))
        return NULL;
    pthread_mutex_lock(&sharedMu);
    EmbCache *c = sharedLookup(p, dev, ino, version);
    if (c)
        c->nRef++;
    pthread_mutex_unlock(&sharedMu);
    return c;
}

void embSharedPublish(EmbVtab *p)
{
    EmbCache *c = p->cache;
    uint64_t dev, ino;
    if (!c || c->shared || p->txn_wrote || !sharedFile(p, &dev, &ino))
        return;
    char *zTab = sqlite3_mprintf("%s", p->zName);
    if (!zTab)
        return; /* stays private */
    pthread_mutex_lock(&sharedMu);
    EmbCache *o = sharedLookup(p, dev, ino, c->version);
    if (o) {
        /* another connection published this version meanwhile: use its
         * copy, release ours */
        o->nRef++;
        pthread_mutex_unlock(&sharedMu);
        sqlite3_free(zTab);
        p->cache = o;
        embCacheRelease(c);
        return;
    }
    c->shared = 1;
    c->key_dev = dev;
    c->key_ino = ino;
    sqlite3_free(c->zKeyTab); /* a copy taken back by a writer had one */
    c->zKeyTab = zTab;
    c->pNextShared = sharedList;
    sharedList = c;
    pthread_mutex_unlock(&sharedMu);
}

void embSharedRetain(EmbCache *c)
{
    pthread_mutex_lock(&sharedMu);
    c->nRef++;
    pthread_mutex_unlock(&sharedMu);
}

/* Take c out of the registry (sharedMu held): no connection finds it again. */
static void sharedUnlink(EmbCache *c)
{
    EmbCache **pp = &sharedList;
    while (*pp && *pp != c)
        pp = &(*pp)->pNextShared;
    if (*pp)
        *pp = c->pNextShared;
    c->shared = 0;
}

int embSharedRelease(EmbCache *c)
{
    pthread_mutex_lock(&sharedMu);
    int last = --c->nRef == 0;
    if (last)
        sharedUnlink(c);
    pthread_mutex_unlock(&sharedMu);
    return last;
}

int embSharedUnshare(EmbCache *c)
{
    pthread_mutex_lock(&sharedMu);
    int only = c->nRef == 1;
    if (only)
        sharedUnlink(c);
    pthread_mutex_unlock(&sharedMu);
    return only;
}

int embCacheRefs(EmbCache *c)
{
    if (!c->shared)
        return c->nRef;
    pthread_mutex_lock(&sharedMu);
    int n = c->nRef;
    pthread_mutex_unlock(&sharedMu);
    return n;
}

int embSharedCount(void)
{
    int n = 0;
    pthread_mutex_lock(&sharedMu);
    for (EmbCache *c = sharedList; c; c = c->pNextShared)
        n++;
    pthread_mutex_unlock(&sharedMu);
    return n;
}
