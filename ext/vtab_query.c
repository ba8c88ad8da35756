/*
 * vtab_query.c - reading the `embedding` virtual table: xBestIndex and the
 * cursor (xFilter / xNext / xColumn ...).  User reference: vtab_embedding.c.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=2);
 *   insert into wte(vector) values ('[1,0]'), ('[0,1]'), ('[1,1]');
 *   explain query plan select * from wte where vector match '[1,0]' and k = 2;
 *       -- SCAN wte VIRTUAL TABLE INDEX 3:knn
 *
 * How it works
 *   idxNum is a set of IX_* bits, one per consumed constraint role; the
 *   constraint values arrive in argv in bit order.  idxStr is a readable
 *   plan name ("id-eq", "id-in", "id-range", "token-eq", "scan", "knn ...").
 *   Every plan reads the per-connection cache (vtab_store.c), made current at
 *   the start of xFilter.  Plans without MATCH produce a list of ids (eq, in,
 *   token) or walk a range of slots; KNN runs emb_matrix_search once with
 *   k = min(k, LIMIT + OFFSET); with neither (SQLite 3.40 does not pass
 *   LIMIT together with MATCH) it computes every row's distance once
 *   (emb_matrix_distances, n floats) and emits growing batches (32, 128,
 *   ...) each selected after the previous one's last row, so SQLite's
 *   LIMIT stops early after one scan of the matrix.  Id / token constraints of a
 *   KNN query become an `allow` mask applied before the top-k.  IX_ALL (an
 *   ORDER BY other than distance) asks for every row in one search.
 *   Only the MATCH, k, metric, LIMIT and OFFSET constraints are omitted from
 *   SQLite's own checks; id and token constraints are handled exactly but
 *   also re-checked by SQLite (cheap, and safe for odd types).
 */
#include "vtab_store.h"
#include "value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef SQLITE_INDEX_CONSTRAINT_LIMIT
#define SQLITE_INDEX_CONSTRAINT_LIMIT 73
#define SQLITE_INDEX_CONSTRAINT_OFFSET 74
#endif

enum {
    IX_MATCH = 1 << 0, IX_K = 1 << 1, IX_METRIC = 1 << 2, IX_EQ = 1 << 3, IX_IN = 1 << 4,
    IX_LO = 1 << 5, IX_HI = 1 << 6, IX_TOKEN = 1 << 7, IX_LIMIT = 1 << 8, IX_OFFSET = 1 << 9,
    IX_N_ROLES = 10, IX_LO_STRICT = 1 << 10, IX_HI_STRICT = 1 << 11, IX_ALL = 1 << 12,
    IX_ORDERED = 1 << 13 /* ORDER BY distance consumed */
};
enum { R_MATCH, R_K, R_METRIC, R_EQ, R_IN, R_LO, R_HI, R_TOKEN, R_LIMIT, R_OFFSET };
#define IX_FILTERS (IX_EQ | IX_IN | IX_LO | IX_HI | IX_TOKEN)
#define KNN_FIRST_BATCH 32

/* ---- xBestIndex -------------------------------------------------------------- */

static int isIdCol(int col)
{
    return col == EMB_COL_ID || col < 0;
}

int embBestIndex(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    EmbVtab *p = (EmbVtab *)tab;
    int at[IX_N_ROLES];
    int flags = 0, other = 0, unusable = 0, hasMatch = 0, hasKM = 0;
    for (int r = 0; r < IX_N_ROLES; r++)
        at[r] = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        int col = c->iColumn, op = c->op, role = -1;
        if (op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
            role = R_LIMIT;
        } else if (op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            role = R_OFFSET;
        } else if (col == EMB_COL_VECTOR && op == SQLITE_INDEX_CONSTRAINT_MATCH) {
            hasMatch = 1;
            role = R_MATCH;
        } else if ((col == EMB_COL_K || col == EMB_COL_METRIC) && op == SQLITE_INDEX_CONSTRAINT_EQ) {
            hasKM = 1;
            role = col == EMB_COL_K ? R_K : R_METRIC;
        } else if (isIdCol(col) && op == SQLITE_INDEX_CONSTRAINT_EQ) {
            role = c->usable && sqlite3_vtab_in(info, i, -1) ? R_IN : R_EQ;
        } else if (isIdCol(col) && (op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE)) {
            role = R_LO;
        } else if (isIdCol(col) && (op == SQLITE_INDEX_CONSTRAINT_LT || op == SQLITE_INDEX_CONSTRAINT_LE)) {
            role = R_HI;
        } else if (col == EMB_COL_TOKEN && op == SQLITE_INDEX_CONSTRAINT_EQ) {
            role = R_TOKEN;
        }
        if (role < 0) {
            other = 1;
            continue;
        }
        if (!c->usable) {
            if (role <= R_METRIC)
                unusable = 1;
            other = 1;
            continue;
        }
        if (at[role] >= 0) {
            other = 1; /* a second constraint of the same role: SQLite checks it */
            continue;
        }
        at[role] = i;
        if (role == R_LO && op == SQLITE_INDEX_CONSTRAINT_GT)
            flags |= IX_LO_STRICT;
        if (role == R_HI && op == SQLITE_INDEX_CONSTRAINT_LT)
            flags |= IX_HI_STRICT;
    }
    if (hasKM && !hasMatch) {
        embVtabError(p, SQLITE_ERROR, "embedding %s: %s requires vector MATCH", p->zName,
                     at[R_K] >= 0 ? "k" : "metric");
        return SQLITE_ERROR;
    }
    if (unusable)
        return SQLITE_CONSTRAINT; /* MATCH / k / metric must be usable in the plan */

    double n_est = p->cache ? (double)p->cache->n_rows + 1 : 100000.0;
    int knn = at[R_MATCH] >= 0;
    const char *name;
    if (knn) {
        int consumed = 0;
        if (info->nOrderBy >= 1 && info->aOrderBy[0].iColumn == EMB_COL_DISTANCE &&
            !info->aOrderBy[0].desc)
            consumed = info->nOrderBy == 1 ||
                       (info->nOrderBy == 2 && isIdCol(info->aOrderBy[1].iColumn) &&
                        !info->aOrderBy[1].desc);
        info->orderByConsumed = consumed;
        if (consumed)
            flags |= IX_ORDERED;
        if (info->nOrderBy > 0 && !consumed)
            flags |= IX_ALL; /* SQLite sorts everything anyway: no lazy batches */
        if (other || (info->nOrderBy > 0 && !consumed))
            at[R_LIMIT] = at[R_OFFSET] = -1;
        if (at[R_LIMIT] < 0)
            at[R_OFFSET] = -1;
        info->estimatedCost = n_est;
        info->estimatedRows = 10;
        name = "knn";
    } else {
        /* one access path, the most selective */
        int keep = at[R_EQ] >= 0      ? R_EQ
                   : at[R_TOKEN] >= 0 ? R_TOKEN
                   : at[R_IN] >= 0    ? R_IN
                   : at[R_LO] >= 0 || at[R_HI] >= 0 ? R_LO
                                                    : -1;
        for (int r = R_EQ; r < IX_N_ROLES; r++)
            if (!(r == keep || (keep == R_LO && r == R_HI)))
                at[r] = -1;
        if (keep != R_LO)
            flags &= ~(IX_LO_STRICT | IX_HI_STRICT);
        if (keep == R_EQ || keep == R_TOKEN) {
            info->estimatedCost = keep == R_EQ ? 1 : 2;
            info->estimatedRows = 1;
            info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
            name = keep == R_EQ ? "id-eq" : "token-eq";
        } else if (keep == R_IN) {
            info->estimatedCost = 10;
            info->estimatedRows = 10;
            name = "id-in";
        } else if (keep == R_LO) {
            int both = at[R_LO] >= 0 && at[R_HI] >= 0;
            info->estimatedCost = both ? n_est / 100 + 5 : n_est / 4 + 5;
            info->estimatedRows = (sqlite3_int64)(both ? n_est / 100 + 1 : n_est / 4 + 1);
            name = "id-range";
        } else {
            info->estimatedCost = n_est + 10;
            info->estimatedRows = (sqlite3_int64)n_est;
            name = "scan";
        }
        if (info->nOrderBy == 1 && isIdCol(info->aOrderBy[0].iColumn) && !info->aOrderBy[0].desc)
            info->orderByConsumed = 1;
    }
    int argv_i = 0;
    for (int r = 0; r < IX_N_ROLES; r++) {
        if (at[r] < 0)
            continue;
        flags |= 1 << r;
        info->aConstraintUsage[at[r]].argvIndex = ++argv_i;
        info->aConstraintUsage[at[r]].omit =
            r == R_MATCH || r == R_K || r == R_METRIC || r == R_LIMIT || r == R_OFFSET;
        if (r == R_IN)
            sqlite3_vtab_in(info, at[r], 1);
    }
    info->idxNum = flags;
    if (knn)
        info->idxStr = sqlite3_mprintf("knn%s%s%s%s%s", (flags & IX_EQ) ? " id-eq" : "",
                                       (flags & IX_IN) ? " id-in" : "",
                                       (flags & (IX_LO | IX_HI)) ? " id-range" : "",
                                       (flags & IX_TOKEN) ? " token-eq" : "",
                                       (flags & IX_LIMIT) ? " limit" : "");
    else
        info->idxStr = sqlite3_mprintf("%s", name);
    if (!info->idxStr)
        return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    return SQLITE_OK;
}

/* ---- cursor ------------------------------------------------------------------ */

enum { CUR_LIST, CUR_RANGE, CUR_KNN };

typedef struct EmbCursor {
    sqlite3_vtab_cursor base;
    int mode;
    emb_hit *hits;       /* CUR_LIST ids / CUR_KNN results */
    size_t n_hits, i;
    int64_t cur, hi;     /* CUR_RANGE */
    /* CUR_KNN lazy batches */
    float *q;
    int metric, lazy;
    uint8_t *allow;
    size_t allow_n, k_batch;
    float *dist;         /* lazy: every row's distance, NaN = not a candidate */
    size_t dist_n;
} EmbCursor;

int embOpen(sqlite3_vtab *tab, sqlite3_vtab_cursor **ppCur)
{
    (void)tab;
    EmbCursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *ppCur = &c->base;
    return SQLITE_OK;
}

static void curReset(EmbCursor *c)
{
    sqlite3_free(c->hits);
    sqlite3_free(c->q);
    sqlite3_free(c->allow);
    sqlite3_free(c->dist);
    c->dist = NULL;
    c->dist_n = 0;
    c->hits = NULL;
    c->q = NULL;
    c->allow = NULL;
    c->n_hits = c->i = 0;
    c->lazy = 0;
    c->cur = 0;
    c->hi = -1;
}

int embClose(sqlite3_vtab_cursor *cur)
{
    curReset((EmbCursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int rowPresent(const EmbCache *cache, int64_t id)
{
    return cache && id >= 0 && (uint64_t)id < cache->n_rows && cache->valid[id];
}

/* Skip list entries / range slots that are not rows. */
static void curSettle(EmbCursor *c)
{
    EmbVtab *p = (EmbVtab *)c->base.pVtab;
    EmbCache *cache = embCacheGet(p);
    if (c->mode == CUR_LIST) {
        while (c->i < c->n_hits && !rowPresent(cache, c->hits[c->i].id))
            c->i++;
    } else if (c->mode == CUR_RANGE) {
        int64_t end = cache ? (int64_t)cache->n_rows - 1 : -1;
        if (c->hi > end)
            c->hi = end;
        while (cache && c->cur <= c->hi && !cache->valid[c->cur])
            c->cur++;
    }
}

/* An integer-valued id from v, or 0 (no such id can match). */
static int valueId(sqlite3_value *v, int64_t *out)
{
    int t = sqlite3_value_numeric_type(v);
    if (t == SQLITE_INTEGER) {
        *out = sqlite3_value_int64(v);
        return 1;
    }
    if (t == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (d >= 0 && d <= EMB_VTAB_MAX_ID && d == floor(d)) {
            *out = (int64_t)d;
            return 1;
        }
    }
    return 0;
}

/* Lower / upper bound of the id range from a comparison value. */
static int64_t boundLo(sqlite3_value *v, int strict)
{
    int t = sqlite3_value_numeric_type(v);
    if (t == SQLITE_INTEGER) {
        int64_t x = sqlite3_value_int64(v);
        return x >= EMB_VTAB_MAX_ID ? EMB_VTAB_MAX_ID + 1 : (x < 0 ? 0 : x + strict);
    }
    if (t == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (d != d || d >= EMB_VTAB_MAX_ID)
            return EMB_VTAB_MAX_ID + 1;
        if (d < 0)
            return 0;
        return strict ? (int64_t)floor(d) + 1 : (int64_t)ceil(d);
    }
    return EMB_VTAB_MAX_ID + 1; /* NULL, text, blob: id > x is never true */
}

static int64_t boundHi(sqlite3_value *v, int strict)
{
    int t = sqlite3_value_numeric_type(v);
    if (t == SQLITE_INTEGER) {
        int64_t x = sqlite3_value_int64(v);
        if (x < 0)
            return -1; /* no id is below 0; also keeps INT64_MIN - 1 from overflowing */
        return x > EMB_VTAB_MAX_ID ? EMB_VTAB_MAX_ID : x - strict;
    }
    if (t == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (d != d || d < 0)
            return -1; /* the (int64_t) cast of -1e300 would be undefined */
        if (d > EMB_VTAB_MAX_ID)
            return EMB_VTAB_MAX_ID;
        return strict ? (int64_t)ceil(d) - 1 : (int64_t)floor(d);
    }
    return t == SQLITE_NULL ? -1 : EMB_VTAB_MAX_ID; /* text / blob sort above numbers */
}

static int cmpHitId(const void *a, const void *b)
{
    int64_t x = ((const emb_hit *)a)->id, y = ((const emb_hit *)b)->id;
    return (x > y) - (x < y);
}

/* Collect the ids of an IN list (sorted, unique) into c->hits. */
static int collectIn(EmbCursor *c, sqlite3_value *list)
{
    size_t cap = 16, n = 0;
    emb_hit *h = sqlite3_malloc64(cap * sizeof *h);
    if (!h)
        return SQLITE_NOMEM;
    sqlite3_value *v;
    int rc;
    for (rc = sqlite3_vtab_in_first(list, &v); rc == SQLITE_OK && v;
         rc = sqlite3_vtab_in_next(list, &v)) {
        int64_t id;
        if (!valueId(v, &id))
            continue;
        if (n == cap) {
            emb_hit *g = sqlite3_realloc64(h, 2 * cap * sizeof *h);
            if (!g) {
                sqlite3_free(h);
                return SQLITE_NOMEM;
            }
            h = g;
            cap *= 2;
        }
        h[n].id = id;
        h[n++].distance = 0;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        sqlite3_free(h);
        return rc;
    }
    qsort(h, n, sizeof *h, cmpHitId);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || h[m - 1].id != h[i].id)
            h[m++] = h[i];
    c->hits = h;
    c->n_hits = m;
    return SQLITE_OK;
}

/* Mask of the rows allowed by the id/token constraints of a KNN query. */
static int buildAllow(EmbCursor *c, EmbCache *cache, int flags, sqlite3_value **vals)
{
    size_t n = cache->n_rows;
    uint8_t *allow = sqlite3_malloc64(n ? n : 1);
    if (!allow)
        return SQLITE_NOMEM;
    memset(allow, 1, n);
    if (flags & IX_EQ) {
        int64_t id = -1;
        int ok = valueId(vals[R_EQ], &id);
        for (size_t r = 0; r < n; r++)
            if (!ok || (int64_t)r != id)
                allow[r] = 0;
    }
    if (flags & IX_IN) {
        int rc = collectIn(c, vals[R_IN]);
        if (rc) {
            sqlite3_free(allow);
            return rc;
        }
        size_t j = 0;
        for (size_t r = 0; r < n; r++) {
            while (j < c->n_hits && c->hits[j].id < (int64_t)r)
                j++;
            if (!(j < c->n_hits && c->hits[j].id == (int64_t)r))
                allow[r] = 0;
        }
        sqlite3_free(c->hits);
        c->hits = NULL;
        c->n_hits = 0;
    }
    if (flags & (IX_LO | IX_HI)) {
        int64_t lo = (flags & IX_LO) ? boundLo(vals[R_LO], !!(flags & IX_LO_STRICT)) : 0;
        int64_t hi = (flags & IX_HI) ? boundHi(vals[R_HI], !!(flags & IX_HI_STRICT))
                                     : EMB_VTAB_MAX_ID;
        for (size_t r = 0; r < n; r++)
            if ((int64_t)r < lo || (int64_t)r > hi)
                allow[r] = 0;
    }
    if (flags & IX_TOKEN) {
        const char *t = (const char *)sqlite3_value_text(vals[R_TOKEN]);
        int64_t id = t ? emb_vocab_get(cache->vocab, t, (size_t)sqlite3_value_bytes(vals[R_TOKEN]))
                       : -1;
        for (size_t r = 0; r < n; r++)
            if ((int64_t)r != id)
                allow[r] = 0;
    }
    c->allow = allow;
    c->allow_n = n;
    return SQLITE_OK;
}

/* Bounded KNN: one search for the c->k_batch best rows.  Lazy KNN: all
 * distances once, then batches of c->k_batch rows ranked after the last row
 * of the previous batch (`after`). */
static int knnRun(EmbCursor *c, const emb_hit *after)
{
    EmbVtab *p = (EmbVtab *)c->base.pVtab;
    emb_hit last = after ? *after : (emb_hit){0, 0};
    emb_hit *h = sqlite3_realloc64(c->hits, (c->k_batch ? c->k_batch : 1) * sizeof *h);
    if (!h)
        return SQLITE_NOMEM;
    c->hits = h;
    c->i = 0;
    if (c->dist) {
        c->n_hits = emb_topk_select(c->dist, c->dist_n, c->k_batch, after ? &last : NULL, h);
        return SQLITE_OK;
    }
    EmbCache *cache = embCacheGet(p);
    if (!cache)
        return p->base.zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
    emb_err err;
    size_t n = 0;
    emb_matrix view = cache->m;
    if (c->allow && view.n_rows > c->allow_n)
        view.n_rows = c->allow_n; /* rows added since xFilter are not candidates */
    int rc;
    if (c->dist_n && view.n_rows > c->dist_n)
        view.n_rows = c->dist_n; /* the rows of the first lazy batch */
    if (c->lazy && !after && emb_sketch_applies(&view, c->q, c->metric, c->k_batch)) {
        /* first lazy batch through the sketch (the same hits as ranking every
         * distance); the distances of all rows only if more are asked for */
        c->dist_n = view.n_rows;
        rc = emb_matrix_search(emb_kernels_get(), &view, c->q, c->metric, c->k_batch, c->allow,
                               h, &n, &err);
    } else if (c->lazy) {
        c->dist = sqlite3_malloc64((view.n_rows ? view.n_rows : 1) * sizeof(float));
        if (!c->dist)
            return SQLITE_NOMEM;
        c->dist_n = view.n_rows;
        rc = emb_matrix_distances(emb_kernels_get(), &view, c->q, c->metric, c->allow, c->dist,
                                  &err);
        if (rc == EMB_OK)
            n = emb_topk_select(c->dist, c->dist_n, c->k_batch, after ? &last : NULL, h);
    } else {
        rc = emb_matrix_search(emb_kernels_get(), &view, c->q, c->metric, c->k_batch, c->allow,
                               h, &n, &err);
    }
    if (rc != EMB_OK)
        return embVtabError(p, SQLITE_ERROR, "embedding %s: %s", p->zName, err.msg);
    c->n_hits = n;
    return SQLITE_OK;
}

static int knnFilter(EmbCursor *c, EmbCache *cache, int flags, sqlite3_value **vals)
{
    EmbVtab *p = (EmbVtab *)c->base.pVtab;
    EmbVec q;
    char *zErr = NULL;
    /* SQLite 3.40 does not pass LIMIT to the table, so only k = N, a pushed
     * LIMIT or ORDER BY distance (read lazily, cheap under a LIMIT) bound it */
    if (!(flags & (IX_K | IX_LIMIT | IX_ORDERED)))
        return embVtabError(p, SQLITE_ERROR,
                            "embedding %s: vector MATCH needs a bound: add k = N, or ORDER BY "
                            "distance LIMIT N",
                            p->zName);
    char *zWhat = sqlite3_mprintf("embedding %s: vector MATCH", p->zName);
    if (!zWhat)
        return SQLITE_NOMEM;
    int rc = embVecFromValue(vals[R_MATCH], zWhat, &q, &zErr);
    sqlite3_free(zWhat);
    if (rc == SQLITE_DONE)
        return SQLITE_OK; /* MATCH NULL: no rows */
    if (rc != SQLITE_OK) {
        if (zErr) {
            sqlite3_free(p->base.zErrMsg);
            p->base.zErrMsg = zErr;
        }
        return rc;
    }
    if (q.dim != p->dim) {
        embVecFree(&q);
        return embVtabError(p, SQLITE_ERROR, "embedding %s: query has %d values; table %s has dim %d%s",
                            p->zName, q.dim, p->zName, p->dim, embFloat64Hint(vals[R_MATCH], p->dim));
    }
    c->q = sqlite3_malloc64((size_t)q.dim * sizeof(float));
    if (!c->q) {
        embVecFree(&q);
        return SQLITE_NOMEM;
    }
    memcpy(c->q, q.v, (size_t)q.dim * sizeof(float));
    embVecFree(&q);

    c->metric = p->metric;
    if (flags & IX_METRIC) {
        const char *m = (const char *)sqlite3_value_text(vals[R_METRIC]);
        c->metric = emb_metric_parse(m);
        if (c->metric < 0)
            return embVtabError(p, SQLITE_ERROR,
                                "embedding %s: unknown metric '%s' (expected cosine, dot or l2)",
                                p->zName, m ? m : "NULL");
    }
    size_t k = cache->n_rows;
    int bounded = 0;
    if (flags & IX_K) {
        int64_t kk = 0;
        sqlite3_value *v = vals[R_K];
        int t = sqlite3_value_numeric_type(v);
        double d = t == SQLITE_FLOAT ? sqlite3_value_double(v) : 0;
        if (t == SQLITE_INTEGER)
            kk = sqlite3_value_int64(v);
        else if (t == SQLITE_FLOAT && d >= 1 && d == floor(d))
            kk = d > 9e18 ? INT64_MAX : (int64_t)d;
        if (kk <= 0) {
            const char *shown = (const char *)sqlite3_value_text(v);
            return embVtabError(p, SQLITE_ERROR,
                                "embedding %s: k must be a positive integer (found %s)", p->zName,
                                shown ? shown : "NULL");
        }
        if ((uint64_t)kk < k)
            k = (size_t)kk;
        bounded = 1;
    }
    if (flags & IX_LIMIT) {
        int64_t lim = sqlite3_value_int64(vals[R_LIMIT]);
        int64_t off = (flags & IX_OFFSET) ? sqlite3_value_int64(vals[R_OFFSET]) : 0;
        if (lim >= 0) {
            if (off > 0)
                lim = lim > INT64_MAX - off ? INT64_MAX : lim + off;
            if ((uint64_t)lim < k)
                k = (size_t)lim;
            bounded = 1;
        }
    }
    if (flags & IX_FILTERS) {
        if ((rc = buildAllow(c, cache, flags, vals)) != SQLITE_OK)
            return rc;
    }
    if (flags & IX_ALL)
        bounded = 1;
    c->lazy = !bounded;
    c->k_batch = bounded ? k : (KNN_FIRST_BATCH < k ? KNN_FIRST_BATCH : k);
    return knnRun(c, NULL);
}

int embFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
              sqlite3_value **argv)
{
    EmbCursor *c = (EmbCursor *)cur;
    EmbVtab *p = (EmbVtab *)cur->pVtab;
    (void)idxStr;
    curReset(c);
    int rc = embCacheEnsure(p);
    if (rc != SQLITE_OK)
        return rc;
    EmbCache *cache = p->cache;
    sqlite3_value *vals[IX_N_ROLES] = {0};
    int a = 0;
    for (int r = 0; r < IX_N_ROLES; r++)
        if ((idxNum & (1 << r)) && a < argc)
            vals[r] = argv[a++];
    if (idxNum & IX_MATCH) {
        c->mode = CUR_KNN;
        return knnFilter(c, cache, idxNum, vals);
    }
    if (idxNum & (IX_EQ | IX_TOKEN)) {
        c->mode = CUR_LIST;
        int64_t id = -1;
        int found;
        if (idxNum & IX_EQ) {
            found = valueId(vals[R_EQ], &id);
        } else {
            const char *t = (const char *)sqlite3_value_text(vals[R_TOKEN]);
            id = t ? emb_vocab_get(cache->vocab, t, (size_t)sqlite3_value_bytes(vals[R_TOKEN]))
                   : -1;
            found = id >= 0;
        }
        if (found) {
            c->hits = sqlite3_malloc(sizeof *c->hits);
            if (!c->hits)
                return SQLITE_NOMEM;
            c->hits[0].id = id;
            c->hits[0].distance = 0;
            c->n_hits = 1;
        }
    } else if (idxNum & IX_IN) {
        c->mode = CUR_LIST;
        if ((rc = collectIn(c, vals[R_IN])) != SQLITE_OK)
            return rc;
    } else {
        c->mode = CUR_RANGE;
        c->cur = (idxNum & IX_LO) ? boundLo(vals[R_LO], !!(idxNum & IX_LO_STRICT)) : 0;
        c->hi = (idxNum & IX_HI) ? boundHi(vals[R_HI], !!(idxNum & IX_HI_STRICT))
                                 : EMB_VTAB_MAX_ID;
    }
    curSettle(c);
    return SQLITE_OK;
}

int embNext(sqlite3_vtab_cursor *cur)
{
    EmbCursor *c = (EmbCursor *)cur;
    if (c->mode == CUR_RANGE) {
        c->cur++;
        curSettle(c);
        return SQLITE_OK;
    }
    c->i++;
    if (c->mode == CUR_LIST) {
        curSettle(c);
        return SQLITE_OK;
    }
    /* lazy KNN: the next, bigger batch when one ran out */
    if (c->lazy && c->i == c->n_hits && c->n_hits == c->k_batch && c->n_hits > 0) {
        emb_hit last = c->hits[c->n_hits - 1];
        c->k_batch = c->k_batch * 4 < c->dist_n ? c->k_batch * 4 : c->dist_n;
        return knnRun(c, &last);
    }
    return SQLITE_OK;
}

int embEof(sqlite3_vtab_cursor *cur)
{
    EmbCursor *c = (EmbCursor *)cur;
    if (c->mode == CUR_RANGE)
        return c->cur > c->hi;
    return c->i >= c->n_hits;
}

static int64_t curId(const EmbCursor *c)
{
    return c->mode == CUR_RANGE ? c->cur : c->hits[c->i].id;
}

int embRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid)
{
    *pRowid = curId((EmbCursor *)cur);
    return SQLITE_OK;
}

int embColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol)
{
    EmbCursor *c = (EmbCursor *)cur;
    EmbVtab *p = (EmbVtab *)cur->pVtab;
    int64_t id = curId(c);
    switch (iCol) {
    case EMB_COL_ID:
        sqlite3_result_int64(ctx, id);
        return SQLITE_OK;
    case EMB_COL_DISTANCE:
        if (c->mode == CUR_KNN)
            sqlite3_result_double(ctx, c->hits[c->i].distance);
        return SQLITE_OK;
    case EMB_COL_TOKEN:
    case EMB_COL_VECTOR:
        break;
    default:
        return SQLITE_OK; /* k, metric: NULL */
    }
    if (iCol == EMB_COL_VECTOR && sqlite3_vtab_nochange(ctx))
        return SQLITE_OK; /* UPDATE not touching the vector: xUpdate keeps it */
    EmbCache *cache = embCacheGet(p);
    if (!rowPresent(cache, id))
        return SQLITE_OK;
    if (iCol == EMB_COL_TOKEN) {
        if (cache->tok[id])
            sqlite3_result_text(ctx, cache->tok[id], cache->tok_len[id], SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (cache->dtype == EMB_DTYPE_F32) {
        sqlite3_result_blob(ctx, cache->data + (size_t)id * cache->row_bytes,
                            (int)cache->row_bytes, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    emb_matrix_row_f32(emb_kernels_get(), &cache->m, (size_t)id, p->scratch);
    sqlite3_result_blob(ctx, p->scratch, (int)(cache->dim * sizeof(float)), SQLITE_TRANSIENT);
    return SQLITE_OK;
}
