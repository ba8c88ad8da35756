/*
 * tvf_keyed.c - the gensim 4.2 KeyedVectors calls besides most_similar
 * (which is in tvf_semantics.c), over an `embedding` table.
 *
 *   .load ./embext
 *   create virtual table glove using embedding(dim=50);
 *   insert into glove(token_id, token, vector) select * from emb_read_text('tests/data/glove.6B.50d.10k.txt');
 *   select token from emb_doesnt_match('glove', '["paris","berlin","london","apple"]') limit 1;  -- apple
 *   select emb_similarity('glove', 'king', 'queen'), emb_rank('glove', 'king', 'queen');    -- 0.7839, 2
 *   select token from emb_closer_than('glove', 'king', 'queen');                            -- prince
 *   select token, distance from emb_distances('glove', 'king', '["queen","man"]');
 *
 * Functions (TVFs take positional arguments or HIDDEN-column constraints;
 * `table` may be "schema.table"; a token argument is a token (text) or a
 * token id (integer)):
 *   emb_doesnt_match(table, tokens) -> (token_id, token, score)
 *     rank_by_centrality ascending (score = cosine of each unit row with the
 *     normalised mean of the unit rows; equal scores by token, as Python
 *     sorts (score, word) tuples); the first row is doesnt_match's answer.
 *     Unknown tokens are left out, as gensim does.
 *   emb_most_similar_to_given(table, word, candidates) -> (token_id, token, score)
 *     similarity(word, c) per candidate, best first, equal scores in list
 *     order (numpy argmax takes the first).
 *   emb_closer_than(table, a, b), emb_words_closer_than(table, a, b) -> (token_id, token)
 *     closer_than / words_closer_than (gensim's deprecated alias): rows
 *     whose cosine distance to a is smaller than b's, a itself left out, by id.
 *   emb_distances(table, token_or_vector [, others]) -> (token_id, token, distance)
 *     distances: 1 - cos against the `others` (JSON array, in its order,
 *     repeats kept) or every row (by id); a vector is taken as given.
 *   emb_similarity(table, a, b), emb_rank(table, a, b),
 *   emb_n_similarity(table, tokens1, tokens2),
 *   emb_relative_cosine_similarity(table, a, b [, topn]): scalar functions,
 *     similarity, rank (1 + the rows closer to a than b), n_similarity
 *     (cosine of the means of the raw rows; unknown tokens left out) and
 *     relative_cosine_similarity (similarity / the sum of the top-`topn`
 *     most_similar scores, default 10).
 * Errors, e.g.:
 *   emb_doesnt_match: no token of the list is in table glove
 *   emb_most_similar_to_given: candidates is empty
 *   emb_rank: unknown token 'xyzzy' in table glove
 *   emb_n_similarity: tokens1 has no token of table glove
 *   emb_distances: token_or_vector has 3 values; table glove has dim 50
 *
 * How it works: each TVF opens the table and parses its term lists with
 * tvf_table.c, computes with the pure-C core (src/lm/keyed.c: gensim's
 * float32 steps, products summed in double and rounded once) and buffers
 * the rows (ext/tvf.c).  The scalar functions reuse the same helpers with
 * a TvfVtab on the stack as the error sink; the message moves to the
 * function's context.
 */
#include "lm/keyed.h"
#include "tvf_table.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct Ranked {
    emb_scored s;
    const char *tok;
    int n;
    int pos;
} Ranked;

/* (score, token) ascending: gensim sorts (similarity, word) tuples. */
static int cmpScoreToken(const void *pa, const void *pb)
{
    const Ranked *a = pa, *b = pb;
    if (a->s.score != b->s.score)
        return a->s.score < b->s.score ? -1 : 1;
    int c = memcmp(a->tok, b->tok, (size_t)(a->n < b->n ? a->n : b->n));
    if (c)
        return c;
    return a->n != b->n ? (a->n < b->n ? -1 : 1) : a->pos - b->pos;
}

/* score descending, list order for equal scores (numpy argmax: the first). */
static int cmpScoreDesc(const void *pa, const void *pb)
{
    const Ranked *a = pa, *b = pb;
    if (a->s.score != b->s.score)
        return a->s.score > b->s.score ? -1 : 1;
    return a->pos - b->pos;
}

/* Sort r[0..n) by cmp and emit (token_id, token, score) rows. */
static int emitRanked(TvfCursor *cur, const TvfTable *t, Ranked *r, int n,
                      int (*cmp)(const void *, const void *))
{
    qsort(r, (size_t)n, sizeof *r, cmp);
    emb_scored *s = sqlite3_malloc64((sqlite3_uint64)(n ? n : 1) * sizeof *s);
    if (!s)
        return SQLITE_NOMEM;
    for (int i = 0; i < n; i++)
        s[i] = r[i].s;
    int rc = embTvfEmitScored(cur, t, s, (size_t)n, NULL);
    sqlite3_free(s);
    return rc;
}

/* emb_doesnt_match(table, tokens): gensim rank_by_centrality, ascending. */
static int computeDoesntMatch(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    const TvfTerms *l = &t.terms[0];
    float *sc = NULL;
    Ranked *r = NULL;
    int rc = embTvfTableOpen(p, args[0], &t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&t, 0, args[1], "tokens", TVF_TERMS_SKIP_UNKNOWN);
    if (rc == SQLITE_OK && l->n == 0)
        rc = embTvfError(p, "%s: no token of the list is in table %s", p->spec->zName, t.zTable);
    if (rc == SQLITE_OK) {
        sc = sqlite3_malloc64((sqlite3_uint64)l->n * sizeof *sc);
        r = sqlite3_malloc64((sqlite3_uint64)l->n * sizeof *r);
        if (!sc || !r)
            rc = SQLITE_NOMEM;
    }
    emb_err err;
    int st;
    if (rc == SQLITE_OK &&
        (st = emb_kv_centrality(emb_kernels_get(), t.m, l->ids, (size_t)l->n, sc, &err)) != EMB_OK)
        rc = embTvfCoreError(p, st, &err);
    if (rc == SQLITE_OK) {
        for (int i = 0; i < l->n; i++) {
            r[i].s.id = l->ids[i];
            r[i].s.score = sc[i];
            r[i].pos = i;
            r[i].tok = embTableToken(t.ref, l->ids[i], &r[i].n);
            if (!r[i].tok) {
                r[i].tok = "";
                r[i].n = 0;
            }
        }
        rc = emitRanked(cur, &t, r, l->n, cmpScoreToken);
    }
    sqlite3_free(r);
    sqlite3_free(sc);
    embTvfTableClose(&t);
    return rc;
}

/* emb_most_similar_to_given(table, word, candidates): similarity to each,
 * best first. */
static int computeToGiven(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    const TvfTerms *l = &t.terms[0];
    Ranked *r = NULL;
    int64_t a;
    int rc = embTvfTableOpen(p, args[0], &t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerm(&t, args[1], "word", &a);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&t, 0, args[2], "candidates", 0);
    if (rc == SQLITE_OK && l->n == 0)
        rc = embTvfError(p, "%s: candidates is empty", p->spec->zName);
    if (rc == SQLITE_OK && !(r = sqlite3_malloc64((sqlite3_uint64)l->n * sizeof *r)))
        rc = SQLITE_NOMEM;
    for (int i = 0; rc == SQLITE_OK && i < l->n; i++) {
        emb_err err;
        int st = emb_kv_similarity(emb_kernels_get(), t.m, a, l->ids[i], &r[i].s.score, &err);
        if (st != EMB_OK)
            rc = embTvfCoreError(p, st, &err);
        r[i].s.id = l->ids[i];
        r[i].pos = i;
    }
    if (rc == SQLITE_OK)
        rc = emitRanked(cur, &t, r, l->n, cmpScoreDesc);
    sqlite3_free(r);
    embTvfTableClose(&t);
    return rc;
}

/* emb_closer_than(table, a, b): rows closer to a than b is, by id. */
static int computeCloserThan(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    int64_t a, b, *ids = NULL;
    size_t n = 0;
    int rc = embTvfTableOpen(p, args[0], &t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerm(&t, args[1], "a", &a);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerm(&t, args[2], "b", &b);
    emb_err err;
    int st;
    if (rc == SQLITE_OK &&
        (st = emb_kv_closer_than(emb_kernels_get(), t.m, a, b, &ids, &n, &err)) != EMB_OK)
        rc = embTvfCoreError(p, st, &err);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        TvfCell *row = embTvfRow(cur, p->spec->nOut);
        int tn = 0;
        const char *tok = embTableToken(t.ref, ids[i], &tn);
        if (!row) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&row[0], ids[i]);
        rc = embTvfCellText(&row[1], tok, tn);
    }
    emb_free(ids);
    embTvfTableClose(&t);
    return rc;
}

/* The query of emb_distances: a token / token id (its row, widened into
 * *row) or a vector (*v); *q points at it. */
static int distancesQuery(TvfTable *t, sqlite3_value *arg, EmbVec *v, float **row, const float **q)
{
    static const char zWhat[] = "token_or_vector";
    int type = arg ? sqlite3_value_type(arg) : SQLITE_NULL;
    const char *z = type == SQLITE_TEXT ? (const char *)sqlite3_value_text(arg) : NULL;
    int isToken = type == SQLITE_INTEGER ||
                  (z && embTableTokenId(t->ref, z, sqlite3_value_bytes(arg)) >= 0);
    if (isToken) {
        int64_t id;
        int rc = embTvfTableTerm(t, arg, zWhat, &id);
        if (rc != SQLITE_OK)
            return rc;
        if (!(*row = sqlite3_malloc64(t->m->dim * sizeof **row)))
            return SQLITE_NOMEM;
        emb_row_widen(emb_kernels_get(), t->m, (size_t)id, *row);
        *q = *row;
        return SQLITE_OK;
    }
    if (type == SQLITE_BLOB || (z && z[0] == '[')) {
        int rc = embTvfTableVec(t, arg, zWhat, v);
        *q = v->v;
        return rc;
    }
    if (z) /* text that is no token: "unknown token ..." */
        return embTvfTableTerm(t, arg, zWhat, &(int64_t){0});
    return embTvfError(t->p, "%s: %s must be a token, a token id or a vector (found %s)",
                       t->p->spec->zName, zWhat, embTypeName(type));
}

/* emb_distances(table, token_or_vector [, others]): 1 - cosine. */
static int computeDistances(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    const TvfTerms *l = &t.terms[0];
    EmbVec v = {NULL, 0, NULL};
    float *row = NULL, *dist = NULL;
    const float *q = NULL;
    size_t n = 0;
    int rc = embTvfTableOpen(p, args[0], &t);
    if (rc == SQLITE_OK)
        rc = distancesQuery(&t, args[1], &v, &row, &q);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&t, 0, args[2], "others", 0);
    if (rc == SQLITE_OK) {
        n = l->n ? (size_t)l->n : t.m->n_rows;
        if (!(dist = sqlite3_malloc64((n ? n : 1) * sizeof *dist)))
            rc = SQLITE_NOMEM;
    }
    emb_err err;
    int st;
    if (rc == SQLITE_OK && (st = emb_kv_distances(emb_kernels_get(), t.m, q, l->n ? l->ids : NULL,
                                                  n, dist, &err)) != EMB_OK)
        rc = embTvfCoreError(p, st, &err);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        int64_t id = l->n ? l->ids[i] : (int64_t)i;
        if (!l->n && !emb_matrix_has_row(t.m, (size_t)id))
            continue;
        TvfCell *c = embTvfRow(cur, p->spec->nOut);
        int tn = 0;
        const char *tok = embTableToken(t.ref, id, &tn);
        if (!c) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&c[0], id);
        rc = embTvfCellText(&c[1], tok, tn);
        embTvfCellDouble(&c[2], dist[i]);
    }
    sqlite3_free(dist);
    sqlite3_free(row);
    embVecFree(&v);
    embTvfTableClose(&t);
    return rc;
}

/* ---- scalar functions over a table ----------------------------------------
 * They share the TVF helpers: a TvfVtab on the stack is the error sink and
 * the message is moved to the context. */

typedef struct ScalarCall {
    TvfVtab v;
    TvfSpec spec;
    sqlite3_context *ctx;
    TvfTable t;
} ScalarCall;

/* Set up the call (the table is opened by embTvfTableOpen(&c->v, .., &c->t)). */
static void scalarBegin(ScalarCall *c, sqlite3_context *ctx, const char *zName)
{
    memset(c, 0, sizeof *c);
    c->spec.zName = zName;
    c->v.spec = &c->spec;
    c->v.db = sqlite3_context_db_handle(ctx);
    c->v.conn = sqlite3_user_data(ctx);
    c->ctx = ctx;
}

/* Close the table; report rc (and the message, if any) on the context. */
static void scalarEnd(ScalarCall *c, int rc)
{
    embTvfTableClose(&c->t);
    if (rc == SQLITE_NOMEM)
        sqlite3_result_error_nomem(c->ctx);
    else if (rc != SQLITE_OK)
        sqlite3_result_error(c->ctx, c->v.base.zErrMsg ? c->v.base.zErrMsg : "error", -1);
    sqlite3_free(c->v.base.zErrMsg);
}

/* Open the table of argv[0] and resolve the terms argv[1] ("a") and
 * argv[2] ("b") to row ids: the start of every (table, a, b) call. */
static int scalarOpenPair(ScalarCall *c, sqlite3_value **argv, int64_t *a, int64_t *b)
{
    int rc = embTvfTableOpen(&c->v, argv[0], &c->t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerm(&c->t, argv[1], "a", a);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerm(&c->t, argv[2], "b", b);
    return rc;
}

/* emb_similarity(table, a, b) and emb_rank(table, a, b) */
static void fnPairOp(sqlite3_context *ctx, sqlite3_value **argv, const char *zName, int isRank)
{
    ScalarCall c;
    int64_t a, b;
    scalarBegin(&c, ctx, zName);
    int rc = scalarOpenPair(&c, argv, &a, &b);
    if (rc == SQLITE_OK) {
        emb_err err;
        int st;
        if (isRank) {
            int64_t *ids = NULL;
            size_t n = 0;
            st = emb_kv_closer_than(emb_kernels_get(), c.t.m, a, b, &ids, &n, &err);
            emb_free(ids);
            if (st == EMB_OK)
                sqlite3_result_int64(ctx, (sqlite3_int64)n + 1);
        } else {
            float s;
            st = emb_kv_similarity(emb_kernels_get(), c.t.m, a, b, &s, &err);
            if (st == EMB_OK)
                sqlite3_result_double(ctx, s);
        }
        if (st != EMB_OK)
            rc = embTvfCoreError(&c.v, st, &err);
    }
    scalarEnd(&c, rc);
}

static void fnSimilarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    fnPairOp(ctx, argv, "emb_similarity", 0);
}

static void fnRank(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    fnPairOp(ctx, argv, "emb_rank", 1);
}

/* emb_n_similarity(table, tokens1, tokens2) */
static void fnNSimilarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ScalarCall c;
    const TvfTerms *l1 = &c.t.terms[0], *l2 = &c.t.terms[1];
    (void)argc;
    scalarBegin(&c, ctx, "emb_n_similarity");
    int rc = embTvfTableOpen(&c.v, argv[0], &c.t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&c.t, 0, argv[1], "tokens1", TVF_TERMS_SKIP_UNKNOWN);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&c.t, 1, argv[2], "tokens2", TVF_TERMS_SKIP_UNKNOWN);
    if (rc == SQLITE_OK && (l1->n == 0 || l2->n == 0))
        rc = embTvfError(&c.v, "emb_n_similarity: %s has no token of table %s",
                         l1->n == 0 ? "tokens1" : "tokens2", c.t.zTable);
    if (rc == SQLITE_OK) {
        emb_err err;
        float s;
        int st = emb_kv_n_similarity(emb_kernels_get(), c.t.m, l1->ids, (size_t)l1->n, l2->ids,
                                     (size_t)l2->n, &s, &err);
        if (st == EMB_OK)
            sqlite3_result_double(ctx, s);
        else
            rc = embTvfCoreError(&c.v, st, &err);
    }
    scalarEnd(&c, rc);
}

/* emb_relative_cosine_similarity(table, a, b [, topn]) */
static void fnRelCosine(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ScalarCall c;
    sqlite3_int64 topn = 10;
    int64_t a, b;
    scalarBegin(&c, ctx, "emb_relative_cosine_similarity");
    int rc = embTvfArgInt(&c.v, argc > 3 ? argv[3] : NULL, "topn", 1, 10, &topn);
    if (rc == SQLITE_OK)
        rc = scalarOpenPair(&c, argv, &a, &b);
    if (rc == SQLITE_OK) {
        emb_err err;
        double r;
        size_t k = (size_t)topn < c.t.m->n_rows ? (size_t)topn : c.t.m->n_rows;
        int st = emb_kv_relative_cosine(emb_kernels_get(), c.t.m, a, b, k, &r, &err);
        if (st == EMB_OK)
            sqlite3_result_double(ctx, r);
        else
            rc = embTvfCoreError(&c.v, st, &err);
    }
    scalarEnd(&c, rc);
}

static const char *const argsDoesnt[] = {"table", "tokens"};
static const char *const argsToGiven[] = {"table", "word", "candidates"};
static const char *const argsCloser[] = {"table", "a", "b"};
static const char *const argsDist[] = {"table", "token_or_vector", "others"};

#define CLOSER_SCHEMA "CREATE TABLE x(token_id INTEGER, token TEXT, \"table\" HIDDEN, a HIDDEN, b HIDDEN)"

static const TvfSpec specs[] = {
    {.zName = "emb_doesnt_match",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN,"
                " tokens HIDDEN)",
     .nOut = 3, .nArg = 2, .nRequired = 2, .azArg = argsDoesnt, .xCompute = computeDoesntMatch},
    {.zName = "emb_most_similar_to_given",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN,"
                " word HIDDEN, candidates HIDDEN)",
     .nOut = 3, .nArg = 3, .nRequired = 3, .azArg = argsToGiven, .xCompute = computeToGiven},
    {.zName = "emb_closer_than", .zSchema = CLOSER_SCHEMA, .nOut = 2, .nArg = 3, .nRequired = 3,
     .azArg = argsCloser, .xCompute = computeCloserThan},
    {.zName = "emb_words_closer_than", .zSchema = CLOSER_SCHEMA, .nOut = 2, .nArg = 3,
     .nRequired = 3, .azArg = argsCloser, .xCompute = computeCloserThan},
    {.zName = "emb_distances",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, distance REAL, \"table\" HIDDEN,"
                " token_or_vector HIDDEN, others HIDDEN)",
     .nOut = 3, .nArg = 3, .nRequired = 2, .azArg = argsDist, .xCompute = computeDistances},
};

int embRegisterKeyed(sqlite3 *db, EmbConn *conn)
{
    static const struct {
        const char *name;
        int nArg;
        void (*x)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        {"emb_similarity", 3, fnSimilarity},
        {"emb_rank", 3, fnRank},
        {"emb_n_similarity", 3, fnNSimilarity},
        {"emb_relative_cosine_similarity", 3, fnRelCosine},
        {"emb_relative_cosine_similarity", 4, fnRelCosine},
    };
    int rc = embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof fns / sizeof fns[0]; i++)
        rc = sqlite3_create_function(db, fns[i].name, fns[i].nArg, SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                     conn, fns[i].x, NULL, NULL);
    return rc;
}
