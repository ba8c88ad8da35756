/*
 * vtab_cache.c - the per-connection matrix cache of an `embedding` table
 * (EmbCache): a contiguous copy of the whole matrix in the stored dtype plus
 * scales, valid flags, norms and tokens, loaded from the shadow chunks,
 * checked against the table's version before each query and updated in
 * place by this connection's own writes (see vtab_store.c for the design).
 * Beside the rows it keeps their int8 sketch (search/sketch.h; not for
 * int8 tables or with the table option sketch=none), re-encoded row by row
 * on each write, so emb_matrix_search on c->m scans the sketch first.
 *
 * A copy that reflects committed data is published to the process registry
 * (vtab_shared.c) and shared with the other connections that open the same
 * table of the same file; a write makes this connection's copy private
 * again first (cacheWritable: taken back when no one else holds it, else
 * cloned), so a published copy never changes.
 */
#include "vtab_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* ---- cache ------------------------------------------------------------- */

void embCacheRelease(EmbCache *c)
{
    if (!c)
        return;
    if (c->shared ? !embSharedRelease(c) : --c->nRef > 0)
        return;
    sqlite3_free(c->zKeyTab);
    for (size_t i = 0; c->tok && i < c->cap; i++)
        sqlite3_free(c->tok[i]);
    sqlite3_free(c->tok);
    sqlite3_free(c->tok_len);
    sqlite3_free(c->data);
    sqlite3_free(c->scales);
    sqlite3_free(c->valid);
    sqlite3_free(c->norms);
    emb_sketch_free(&c->sketch);
    emb_vocab_free(c->vocab);
    sqlite3_free(c);
}

void embCacheRetain(EmbCache *c)
{
    if (c->shared)
        embSharedRetain(c);
    else
        c->nRef++;
}

void embCacheDrop(EmbVtab *p)
{
    embCacheRelease(p->cache);
    p->cache = NULL;
}

static void cacheView(EmbCache *c)
{
    c->m.n_rows = c->n_rows;
    c->m.dim = c->dim;
    c->m.dtype = c->dtype;
    c->m.data = c->data;
    c->m.scales = c->dtype == EMB_DTYPE_I8 ? c->scales : NULL;
    c->m.valid = c->valid;
    c->m.norms = c->norms;
    c->m.sketch = c->has_sketch ? &c->sketch : NULL;
}

/* Vector arrays of at least EMB_HUGE_MIN bytes ask Linux for transparent
 * huge pages (madvise(MADV_HUGEPAGE) on the 2 MiB-aligned interior; THP is
 * often in "madvise" mode): a KNN scan over 4 KiB pages pays TLB misses
 * (50,000 x 768 f32: ~7.3 ms vs ~5.5 ms).  Best effort: errors are ignored,
 * elsewhere it is a no-op.  The advice must precede the first touch, so such
 * arrays grow by malloc + advise + copy rather than realloc. */
#define EMB_HUGE_PAGE ((size_t)2 << 20)
#define EMB_HUGE_MIN ((size_t)8 << 20)

static void adviseHuge(void *buf, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)buf + EMB_HUGE_PAGE - 1) & ~(uintptr_t)(EMB_HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)buf + n) & ~(uintptr_t)(EMB_HUGE_PAGE - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)buf;
    (void)n;
#endif
}

/* Grow the slot arrays to at least n slots (new slots zeroed; with
 * zero_data == 0 the vector bytes are left for the caller to fill). */
static int cacheGrowEx(EmbCache *c, size_t n, int zero_data)
{
    if (n <= c->cap)
        return SQLITE_OK;
    size_t cap = c->cap * 2 > n ? c->cap * 2 : n, nb = cap * c->row_bytes;
    unsigned char *data;
    if (nb >= EMB_HUGE_MIN) {
        if (!(data = sqlite3_malloc64(nb)))
            return SQLITE_NOMEM;
        adviseHuge(data, nb);
        if (c->data)
            memcpy(data, c->data, c->cap * c->row_bytes);
        sqlite3_free(c->data);
    } else if (!(data = sqlite3_realloc64(c->data, nb))) {
        return SQLITE_NOMEM;
    }
    c->data = data;
    float *scales = sqlite3_realloc64(c->scales, cap * sizeof(float));
    if (!scales)
        return SQLITE_NOMEM;
    c->scales = scales;
    uint8_t *valid = sqlite3_realloc64(c->valid, cap);
    if (!valid)
        return SQLITE_NOMEM;
    c->valid = valid;
    float *norms = sqlite3_realloc64(c->norms, cap * sizeof(float));
    if (!norms)
        return SQLITE_NOMEM;
    c->norms = norms;
    char **tok = sqlite3_realloc64(c->tok, cap * sizeof(char *));
    if (!tok)
        return SQLITE_NOMEM;
    c->tok = tok;
    int *tok_len = sqlite3_realloc64(c->tok_len, cap * sizeof(int));
    if (!tok_len)
        return SQLITE_NOMEM;
    c->tok_len = tok_len;
    size_t old = c->cap, add = cap - old;
    if (zero_data)
        memset(c->data + old * c->row_bytes, 0, add * c->row_bytes);
    memset(c->scales + old, 0, add * sizeof(float));
    memset(c->valid + old, 0, add);
    memset(c->norms + old, 0, add * sizeof(float));
    memset(c->tok + old, 0, add * sizeof(char *));
    memset(c->tok_len + old, 0, add * sizeof(int));
    c->cap = cap;
    /* no room for the sketch: go on without it (searches scan the rows) */
    if (c->has_sketch && emb_sketch_reserve(&c->sketch, cap) != EMB_OK) {
        emb_sketch_free(&c->sketch);
        c->has_sketch = 0;
    }
    return SQLITE_OK;
}

static int cacheGrow(EmbCache *c, size_t n)
{
    return cacheGrowEx(c, n, 1);
}

static float cacheRowNorm(EmbVtab *p, EmbCache *c, size_t r)
{
    const emb_kernels *k = emb_kernels_get();
    if (c->dtype == EMB_DTYPE_F32) /* f32 rows: 4 * dim bytes from an aligned malloc */
        /* cppcheck-suppress invalidPointerCast */
        return k->norm_f32((const float *)(c->data + r * c->row_bytes), c->dim);
    emb_matrix_row_f32(k, &c->m, r, p->scratch);
    return k->norm_f32(p->scratch, c->dim);
}

/* Re-encode row r of the sketch from the stored row (widened). */
static void cacheSketchRow(EmbVtab *p, EmbCache *c, size_t r)
{
    if (!c->has_sketch)
        return;
    if (c->dtype == EMB_DTYPE_F32) {
        /* cppcheck-suppress invalidPointerCast */
        emb_sketch_set(&c->sketch, r, (const float *)(c->data + r * c->row_bytes));
        return;
    }
    emb_matrix_row_f32(emb_kernels_get(), &c->m, r, p->scratch);
    emb_sketch_set(&c->sketch, r, p->scratch);
}

static int cacheSetToken(EmbCache *c, size_t r, const char *tok, int n)
{
    if (c->tok[r]) {
        emb_vocab_del(c->vocab, c->tok[r], (size_t)c->tok_len[r]);
        sqlite3_free(c->tok[r]);
        c->tok[r] = NULL;
        c->tok_len[r] = 0;
    }
    if (!tok)
        return SQLITE_OK;
    char *s = sqlite3_malloc(n + 1);
    if (!s)
        return SQLITE_NOMEM;
    memcpy(s, tok, (size_t)n);
    s[n] = 0;
    if (emb_vocab_put(c->vocab, s, (size_t)n, (int64_t)r) != EMB_OK) {
        sqlite3_free(s);
        return SQLITE_NOMEM;
    }
    c->tok[r] = s;
    c->tok_len[r] = n;
    return SQLITE_OK;
}

/* The bound on a table's in-memory copy (its rows, token_id 0 .. the last
 * chunk's end, times the row size): the machine's physical memory.  Above
 * it the copy cannot be made and the search says so, instead of a bare
 * "out of memory" (docs/SECURITY.md lists the bounds). */
static uint64_t cacheMemoryLimit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return UINT64_MAX;
    return (uint64_t)pages * (uint64_t)size;
}

/* A private copy of src (a shared copy about to be written by p's
 * connection while others still read it): the arrays, tokens and sketch
 * copied as they are.  NULL when out of memory. */
static EmbCache *cacheClone(const EmbCache *src)
{
    EmbCache *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->nRef = 1;
    c->version = src->version;
    c->dim = src->dim;
    c->dtype = src->dtype;
    c->row_bytes = src->row_bytes;
    c->has_sketch = src->has_sketch;
    emb_sketch_init(&c->sketch, c->dim);
    c->vocab = emb_vocab_new(1024);
    int rc = c->vocab ? cacheGrowEx(c, src->cap, 0) : SQLITE_NOMEM;
    if (rc == SQLITE_OK && src->cap > 0) {
        c->n_rows = src->n_rows;
        memcpy(c->data, src->data, src->cap * src->row_bytes);
        memcpy(c->scales, src->scales, src->cap * sizeof(float));
        memcpy(c->valid, src->valid, src->cap);
        memcpy(c->norms, src->norms, src->cap * sizeof(float));
        if (c->has_sketch && src->has_sketch) {
            memcpy(c->sketch.codes, src->sketch.codes, src->cap * src->dim);
            memcpy(c->sketch.rows, src->sketch.rows, src->cap * sizeof *src->sketch.rows);
        } else if (c->has_sketch) {
            emb_sketch_free(&c->sketch);
            c->has_sketch = 0;
        }
        for (size_t r = 0; rc == SQLITE_OK && r < src->cap; r++)
            if (src->tok[r])
                rc = cacheSetToken(c, r, src->tok[r], src->tok_len[r]);
    }
    if (rc != SQLITE_OK) {
        embCacheRelease(c);
        return NULL;
    }
    cacheView(c);
    return c;
}

/* p->cache, private and safe to change in place, or NULL (dropped: the
 * next query reloads).  A shared copy is taken back from the registry when
 * p holds its only reference, else cloned; a private copy that a function
 * of this connection still reads (nRef > 1) is dropped. */
static EmbCache *cacheWritable(EmbVtab *p)
{
    EmbCache *c = p->cache;
    if (!c)
        return NULL;
    if (c->shared) {
        if (embSharedUnshare(c))
            return c;
        EmbCache *n = cacheClone(c);
        embCacheRelease(c);
        p->cache = n;
        return n;
    }
    if (c->nRef > 1) {
        embCacheDrop(p);
        return NULL;
    }
    return c;
}

void embCacheSetVersion(EmbVtab *p, int64_t v)
{
    EmbCache *c = cacheWritable(p);
    if (c)
        c->version = v;
}

static int cacheLoad(EmbVtab *p, int64_t version, EmbCache **out)
{
    EmbCache *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->nRef = 1;
    c->version = version;
    c->dim = (size_t)p->dim;
    c->dtype = p->dtype;
    c->row_bytes = p->row_bytes;
    /* int8 rows are their own sketch: the plain scan reads as many bytes */
    c->has_sketch = !p->no_sketch && p->dtype != EMB_DTYPE_I8;
    emb_sketch_init(&c->sketch, c->dim);
    c->vocab = emb_vocab_new(1024);
    sqlite3_stmt *st = NULL;
    int rc = c->vocab ? SQLITE_OK : SQLITE_NOMEM;
    char *sql = NULL;
    int64_t maxc = -1;
    int last_ok = SQLITE_OK; /* the last chunk's blobs fit the table's shape */
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT chunk_id, %s FROM \"%w\".\"%w_chunks\""
                              " ORDER BY chunk_id DESC LIMIT 1",
                              embLayoutCols(p), p->zDb, p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
    }
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        maxc = sqlite3_column_int64(st, 0);
        last_ok = embChunkCheckRow(p, maxc, st, 1);
    }
    if (st && rc == SQLITE_OK)
        rc = sqlite3_finalize(st);
    st = NULL;
    size_t cr = (size_t)p->chunk_rows;
    if (rc == SQLITE_OK && maxc >= 0) {
        /* maxc * cr > MAX_ID + cr, without the product (a hostile chunk id
         * such as 2^62 must not wrap around); and the last chunk must fit
         * the table's shape before its id sizes the allocation (a hostile
         * wte_config dim must not make a 4-row table allocate gigabytes) */
        if ((uint64_t)maxc > ((uint64_t)EMB_VTAB_MAX_ID + cr) / cr)
            rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                              p->zName, (long long)maxc);
        else if ((rc = last_ok) != SQLITE_OK)
            ;
        else if ((uint64_t)(maxc + 1) * cr * p->row_bytes > cacheMemoryLimit())
            rc = embVtabError(p, SQLITE_ERROR,
                              "embedding %s: the in-memory copy for search would exceed this "
                              "machine's memory (%llu vs %llu bytes)",
                              p->zName, (unsigned long long)cacheMemoryLimit(),
                              (unsigned long long)((uint64_t)(maxc + 1) * cr * p->row_bytes));
        else
            rc = cacheGrowEx(c, (size_t)(maxc + 1) * cr, 0);
        c->n_rows = rc == SQLITE_OK ? (size_t)(maxc + 1) * cr : 0;
    }
    cacheView(c);
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT chunk_id, %s FROM \"%w\".\"%w_chunks\" ORDER BY chunk_id",
                              embLayoutCols(p), p->zDb, p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        int64_t next_chunk = 0; /* chunks come in chunk_id order; zero the gaps */
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            int64_t ch = sqlite3_column_int64(st, 0);
            if (ch < 0 || ch > maxc) {
                rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                                  p->zName, (long long)ch);
                break;
            }
            if ((rc = embChunkCheckRow(p, ch, st, 1)) != SQLITE_OK)
                break;
            if (ch < next_chunk) {
                rc = embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk id %lld",
                                  p->zName, (long long)ch);
                break;
            }
            memset(c->data + (size_t)next_chunk * cr * c->row_bytes, 0,
                   (size_t)(ch - next_chunk) * cr * c->row_bytes);
            next_chunk = ch + 1;
            size_t r0 = (size_t)ch * cr;
            embChunkUnpack(p, st, 1, c->valid + r0, c->data + r0 * c->row_bytes, c->scales + r0);
            for (size_t i = 0; i < cr; i++) {
                c->norms[r0 + i] = c->valid[r0 + i] ? cacheRowNorm(p, c, r0 + i) : 0;
                if (c->valid[r0 + i])
                    cacheSketchRow(p, c, r0 + i);
            }
        }
        if (rc == SQLITE_OK && next_chunk <= maxc)
            memset(c->data + (size_t)next_chunk * cr * c->row_bytes, 0,
                   (size_t)(maxc + 1 - next_chunk) * cr * c->row_bytes);
        if (st) {
            int rc2 = sqlite3_finalize(st);
            if (rc == SQLITE_OK)
                rc = rc2;
        }
        st = NULL;
    }
    if (rc == SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT token_id, token FROM \"%w\".\"%w_tokens\"", p->zDb,
                              p->zName);
        rc = sql ? sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            const char *t = (const char *)sqlite3_column_text(st, 1);
            int n = sqlite3_column_bytes(st, 1);
            if (id < 0 || (uint64_t)id >= c->n_rows || !c->valid[id])
                continue; /* token of an absent row: ignored */
            if (!t)
                rc = SQLITE_NOMEM;
            else
                rc = cacheSetToken(c, (size_t)id, t, n);
        }
        if (st) {
            int rc2 = sqlite3_finalize(st);
            if (rc == SQLITE_OK)
                rc = rc2;
        }
    }
    if (rc != SQLITE_OK) {
        embCacheRelease(c);
        if (rc != SQLITE_NOMEM && !p->base.zErrMsg)
            embDbError(p, rc);
        return rc;
    }
    cacheView(c);
    *out = c;
    return SQLITE_OK;
}

int embCacheEnsure(EmbVtab *p)
{
    int64_t v;
    int rc = embStoreReadVersion(p, &v);
    if (rc)
        return rc;
    if (p->cache && p->cache->version == v) {
        /* current: a private copy that holds only committed data is
         * offered to the other connections (or swapped for theirs) */
        if (!p->cache->shared && !p->txn_wrote)
            embSharedPublish(p);
        return SQLITE_OK;
    }
    embCacheDrop(p);
    if ((rc = embBufFlush(p)) != SQLITE_OK)
        return rc;
    if (!p->txn_wrote && (p->cache = embSharedFind(p, v)) != NULL)
        return SQLITE_OK;
    if ((rc = cacheLoad(p, v, &p->cache)) != SQLITE_OK)
        return rc;
    if (!p->txn_wrote)
        embSharedPublish(p);
    return SQLITE_OK;
}

EmbCache *embCacheGet(EmbVtab *p)
{
    if (!p->cache)
        embCacheEnsure(p);
    return p->cache;
}

void embCachePut(EmbVtab *p, int64_t id, const unsigned char *row, float scale, const char *tok,
                 int n_tok, int keep_tok)
{
    EmbCache *c = cacheWritable(p);
    if (!c)
        return;
    size_t r = (size_t)id;
    if (cacheGrow(c, r + 1) != SQLITE_OK) {
        embCacheDrop(p);
        return;
    }
    if (r >= c->n_rows)
        c->n_rows = r + 1;
    memcpy(c->data + r * c->row_bytes, row, c->row_bytes);
    c->scales[r] = scale;
    c->valid[r] = 1;
    cacheView(c);
    c->norms[r] = cacheRowNorm(p, c, r);
    cacheSketchRow(p, c, r);
    if (!keep_tok && cacheSetToken(c, r, tok, n_tok) != SQLITE_OK)
        embCacheDrop(p);
}

void embCacheDel(EmbVtab *p, int64_t id)
{
    if (!p->cache || id < 0 || (size_t)id >= p->cache->n_rows)
        return;
    EmbCache *c = cacheWritable(p);
    if (!c)
        return;
    c->valid[id] = 0;
    c->norms[id] = 0;
    if (c->has_sketch)
        emb_sketch_unset(&c->sketch, (size_t)id);
    cacheSetToken(c, (size_t)id, NULL, 0);
}

