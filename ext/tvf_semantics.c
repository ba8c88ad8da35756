/*
 * tvf_semantics.c - language-model semantics over an `embedding` table, as
 * table-valued functions: neighbours and analogies with gensim's rules, the
 * tied output layer, and the standard word-vector evaluations.
 *
 *   .load ./embext
 *   create virtual table glove using embedding(dim=50);
 *   insert into glove(token_id, token, vector)
 *     select token_id, token, vector from emb_read_text(:data || '/glove.6B.50d.10k.txt');
 *   select token, score from emb_most_similar('glove', '["king","woman"]', '["man"]', 5);
 *       -- queen 0.8524, throne, prince, daughter, elizabeth (gensim 4.2's numbers)
 *   select token, score from emb_analogy('glove', 'man', 'king', 'woman');   -- same
 *   select * from emb_most_similar('glove', '[691, 787]', '[300]', 3, '3cosmul');
 *   select token, logit, prob from emb_logits('wte', :hidden, 5, 0.8);
 *   select * from emb_eval_analogies('glove', :data || '/questions-words.txt');
 *   select * from emb_eval_pairs('glove', :data || '/wordsim353.tsv');
 *
 * Functions (arguments are positional, or constraints on the HIDDEN columns
 * of the same names; optional ones may be omitted or NULL; `table` may be
 * "schema.table"):
 *   emb_most_similar(table, positive, negative [, k [, method]])
 *       -> (token_id, token, score)
 *     positive / negative: JSON arrays of tokens (strings) and/or token ids
 *     (integers), or NULL / '[]'.  gensim 4.2's KeyedVectors.most_similar:
 *     each input row unit-normalised, mean of (+positive, -negative),
 *     re-normalised; score = cosine with every row; the input rows are
 *     excluded; k best rows (default 10), best first, equal scores by smaller
 *     token_id.  method '3cosadd' (default) or '3cosmul' (most_similar_cosmul:
 *     prod((1 + cos_p) / 2) / (prod((1 + cos_n) / 2) + 1e-6)).
 *   emb_analogy(table, a, b, c [, k]) -> (token_id, token, score)
 *     "a is to b as c is to ?": positive [b, c], negative [a]; each a token
 *     (text) or a token id (integer).
 *   emb_logits(table, hidden [, k [, temperature]]) -> (token_id, token, logit, prob)
 *     the tied-embedding LM head: logit = dot(hidden, row) for every row;
 *     prob = softmax(logit / temperature) over the whole vocabulary (max
 *     subtracted, sum in double); the k rows (default 10) with the highest
 *     logits, descending, ties by token_id.  temperature default 1, > 0.
 *   emb_eval_analogies(table, path [, restrict]) -> (section, correct, total)
 *     gensim's evaluate_word_analogies on a questions-words.txt file: one row
 *     per ": section" in file order, then 'Total accuracy'.  Only the first
 *     `restrict` rows (default 300000) are the vocabulary and the candidates;
 *     words compare upper-cased (ASCII), the first row of an upper-cased form
 *     wins; questions with an unknown word are skipped (not counted in
 *     total); the answer is the first of the top 5 not among the 3 inputs.
 *   emb_eval_pairs(table, path) -> (pearson, spearman, oov_ratio)
 *     gensim's evaluate_word_pairs on a WordSim-353 / SimLex-999 file
 *     (word1 TAB word2 TAB score, '#' comments): Pearson and Spearman
 *     (average ranks) of human scores vs cosine; oov_ratio is the percentage
 *     of pairs skipped for an unknown word.
 *   The two evaluations read files: SQLITE_VTAB_DIRECTONLY (not usable from
 *   triggers or views of the schema).
 * Errors (exact text), e.g.:
 *   emb_most_similar: unknown token 'xyz' in table wte
 *   emb_most_similar: unknown token_id 99999 in table wte
 *   emb_most_similar: no such embedding table: nope
 *   emb_most_similar: positive must be a JSON array of tokens or token ids (found 'king')
 *   emb_most_similar: unknown method 'x' (expected '3cosadd' or '3cosmul')
 *   emb_most_similar: no input tokens (positive and negative are both empty)
 *   emb_logits: hidden has 3 values; table glove has dim 50
 *   emb_eval_analogies: x.txt: cannot open (No such file or directory)
 *
 * How it works: each function is a generic eponymous virtual table
 * (ext/tvf.c, like SQLite's series.c) whose HIDDEN columns take the
 * arguments; xFilter opens the table through embtab.h (the per-connection
 * matrix copy with its row norms, kept by the vtab and reloaded when the
 * table's version changed, so writes are seen by the next call), computes
 * every result row with the pure-C core (src/lm/analogy.c, src/lm/logits.c,
 * src/lm/wordeval.c) and the cursor walks them.  most_similar and logits are
 * one SIMD kernel scan over the cached rows (cosine = dot / cached norm, as
 * gensim); the analogy evaluation packs the unit rows once per call and
 * scores 4 questions per pass (src/search/multiscan.c): the GloVe 10k run takes
 * ~0.1 s, gensim 4.2 ~1.1 s.  Speed and numbers: see tests/ref/gensim_ref.py.
 */
#include "embtab.h"
#include "core/alloc.h"
#include "lm/logits.h"
#include "tvf.h"
#include "value.h"
#include "lm/bag.h"
#include "lm/keyed.h"
#include "lm/wordeval.h"
#include "core/vectext.h"

#include <stdlib.h>

#include <math.h>
#include <string.h>

/* Open the table named by args[0] (tvf.h).  SQLITE_OK and *pRef, or an error set. */
int embTvfOpenTable(TvfVtab *p, sqlite3_value *arg, EmbTableRef **pRef, const char **pzName)
{
    const char *zFunc = p->spec->zName;
    if (sqlite3_value_type(arg) != SQLITE_TEXT)
        return embTvfError(p, "%s: table must be text (found %s)", zFunc,
                           embTypeName(sqlite3_value_type(arg)));
    const char *zName = (const char *)sqlite3_value_text(arg);
    char *zErr = NULL;
    int rc = embTableOpen(p->conn, p->db, zFunc, zName, pRef, &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
    }
    *pzName = zName;
    return SQLITE_OK;
}

static int64_t tokIdOf(void *ctx, const char *tok, size_t n)
{
    return embTableTokenId(ctx, tok, (int)n);
}

static const char *tokOf(void *ctx, int64_t id, size_t *n)
{
    int pn = 0;
    const char *z = embTableToken(ctx, id, &pn);
    *n = (size_t)pn;
    return z;
}

/* Resolve one token (text) or token id (integer) to a row id. */
static int resolveTerm(TvfVtab *p, EmbTableRef *ref, const char *zTable, int eType, const char *z,
                       int n, sqlite3_int64 id, int64_t *out)
{
    const char *zFunc = p->spec->zName;
    if (eType == SQLITE_TEXT) {
        int64_t t = embTableTokenId(ref, z, n);
        if (t < 0)
            return embTvfError(p, "%s: unknown token '%.*s' in table %s", zFunc, n, z, zTable);
        *out = t;
        return SQLITE_OK;
    }
    if (id < 0 || !emb_matrix_has_row(embTableMatrix(ref), (size_t)id))
        return embTvfError(p, "%s: unknown token_id %lld in table %s", zFunc, (long long)id,
                           zTable);
    *out = id;
    return SQLITE_OK;
}

/* Terms of a JSON array argument: row ids, and (with TERMS_VECTORS) raw
 * vectors given as nested arrays of numbers. */
typedef struct TermList {
    emb_term *t; /* sqlite3_malloc'd; t[i].vec sqlite3_malloc'd too */
    int n;
} TermList;

enum {
    TERMS_VECTORS = 1,     /* a nested array is a vector of the table's dim */
    TERMS_SKIP_UNKNOWN = 2 /* unknown tokens are dropped (gensim's ignore_missing) */
};

static void termsFree(TermList *l)
{
    for (int i = 0; i < l->n; i++)
        sqlite3_free((void *)l->t[i].vec);
    sqlite3_free(l->t);
    l->t = NULL;
    l->n = 0;
}

/* Vector element of a terms array: JSON text of numbers -> t->vec. */
static int parseTermVector(TvfVtab *p, const emb_matrix *m, const char *zTable, const char *zWhat,
                           int i, const char *z, int n, emb_term *t)
{
    const char *zFunc = p->spec->zName;
    float *v;
    size_t dim;
    emb_err err;
    int rc = emb_json_parse(z, (size_t)n, &v, &dim, &err);
    if (rc == EMB_ENOMEM)
        return SQLITE_NOMEM;
    if (rc != EMB_OK)
        return embTvfError(p, "%s: %s[%d] is not a vector: %s", zFunc, zWhat, i, err.msg);
    if (dim != m->dim) {
        emb_free(v);
        return embTvfError(p, "%s: %s[%d] has %lld values; table %s has dim %lld", zFunc, zWhat, i,
                           (long long)dim, zTable, (long long)m->dim);
    }
    float *copy = sqlite3_malloc64(dim * sizeof *copy);
    if (copy)
        memcpy(copy, v, dim * sizeof *copy);
    emb_free(v);
    if (!copy)
        return SQLITE_NOMEM;
    t->id = -1;
    t->vec = copy;
    return SQLITE_OK;
}

/* Parse a JSON array of tokens / ids (arg may be NULL) into *out. */
static int parseTermList(TvfVtab *p, EmbTableRef *ref, const char *zTable, sqlite3_value *arg,
                         const char *zWhat, int flags, TermList *out)
{
    const char *zFunc = p->spec->zName;
    const char *zKinds = flags & TERMS_VECTORS ? "tokens, token ids or vectors" : "tokens or token ids";
    out->t = NULL;
    out->n = 0;
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return SQLITE_OK;
    const char *z = (const char *)sqlite3_value_text(arg);
    if (sqlite3_value_type(arg) != SQLITE_TEXT || !z)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found %s)", zFunc, zWhat, zKinds,
                           embTypeName(sqlite3_value_type(arg)));
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db,
                                "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END, "
                                "(SELECT count(*) FROM json_each(CASE WHEN json_valid(?1) "
                                "THEN ?1 ELSE '[]' END))",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    sqlite3_bind_value(st, 1, arg);
    int isArray = 0, count = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        isArray = t && strcmp(t, "array") == 0;
        count = sqlite3_column_int(st, 1);
        rc = !t && sqlite3_errcode(p->db) == SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
    } else {
        rc = sqlite3_errcode(p->db);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_NOMEM)
        return rc;
    rc = SQLITE_OK;
    if (!isArray)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found '%s')", zFunc, zWhat,
                           zKinds, z);
    if (count == 0)
        return SQLITE_OK;
    out->t = sqlite3_malloc64((sqlite3_uint64)count * sizeof *out->t);
    if (!out->t)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(p->db, "SELECT type, atom, value FROM json_each(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        termsFree(out);
        return rc == SQLITE_NOMEM ? rc : embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    }
    sqlite3_bind_value(st, 1, arg);
    int step = SQLITE_DONE;
    for (int i = 0; rc == SQLITE_OK && out->n < count && (step = sqlite3_step(st)) == SQLITE_ROW;
         i++) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        if (!type && sqlite3_errcode(p->db) == SQLITE_NOMEM) {
            rc = SQLITE_NOMEM;
            break;
        }
        emb_term *t = &out->t[out->n];
        t->vec = NULL;
        if (type && strcmp(type, "array") == 0 && (flags & TERMS_VECTORS)) {
            const char *zv = (const char *)sqlite3_column_text(st, 2);
            rc = parseTermVector(p, embTableMatrix(ref), zTable, zWhat, i, zv ? zv : "",
                                 sqlite3_column_bytes(st, 2), t);
            out->n += rc == SQLITE_OK;
            continue;
        }
        int eType;
        if (type && strcmp(type, "text") == 0)
            eType = SQLITE_TEXT;
        else if (type && strcmp(type, "integer") == 0)
            eType = SQLITE_INTEGER;
        else {
            rc = embTvfError(p, "%s: %s[%d] must be a token (string), a token id (integer)%s (found %s)",
                             zFunc, zWhat, i, flags & TERMS_VECTORS ? " or a vector (array of numbers)" : "",
                             type ? type : "NULL");
            break;
        }
        const char *zt = (const char *)sqlite3_column_text(st, 1);
        int nt = sqlite3_column_bytes(st, 1);
        if ((flags & TERMS_SKIP_UNKNOWN) && eType == SQLITE_TEXT &&
            embTableTokenId(ref, zt ? zt : "", nt) < 0)
            continue;
        rc = resolveTerm(p, ref, zTable, eType, zt ? zt : "", nt, sqlite3_column_int64(st, 1),
                         &t->id);
        out->n += rc == SQLITE_OK;
    }
    /* json_each stopped early (out of memory): not the end of the array */
    if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = step == SQLITE_NOMEM ? SQLITE_NOMEM
                                  : embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        termsFree(out);
    return rc;
}

/* The ids of a term list without vectors (borrowed view: terms hold ids). */
static int termIds(const TermList *l, int64_t **pIds)
{
    *pIds = sqlite3_malloc64((sqlite3_uint64)(l->n ? l->n : 1) * sizeof **pIds);
    if (!*pIds)
        return SQLITE_NOMEM;
    for (int i = 0; i < l->n; i++)
        (*pIds)[i] = l->t[i].id;
    return SQLITE_OK;
}

/* Parse a JSON array of tokens / ids (arg may be NULL) into *pIds
 * (sqlite3_malloc'd; tvf.h, used by emb_pca). */
int embTvfParseTerms(TvfVtab *p, EmbTableRef *ref, const char *zTable, sqlite3_value *arg,
                     const char *zWhat, int64_t **pIds, int *pn)
{
    TermList l;
    *pIds = NULL;
    *pn = 0;
    int rc = parseTermList(p, ref, zTable, arg, zWhat, 0, &l);
    if (rc != SQLITE_OK)
        return rc;
    if (l.n > 0 && (rc = termIds(&l, pIds)) == SQLITE_OK)
        *pn = l.n;
    termsFree(&l);
    return rc;
}

/* Emit (token_id, token, score) rows. */
static int emitScored(TvfCursor *cur, EmbTableRef *ref, const emb_scored *s, size_t n,
                      const double *extra, int nOut)
{
    for (size_t i = 0; i < n; i++) {
        TvfCell *row = embTvfRow(cur, nOut);
        if (!row)
            return SQLITE_NOMEM;
        int tn = 0;
        const char *tok = embTableToken(ref, s[i].id, &tn);
        embTvfCellInt(&row[0], s[i].id);
        if (embTvfCellText(&row[1], tok, tn) != SQLITE_OK)
            return SQLITE_NOMEM;
        embTvfCellDouble(&row[2], s[i].score);
        if (extra)
            embTvfCellDouble(&row[3], extra[i]);
    }
    return SQLITE_OK;
}

/* Run the core's most_similar and emit rows; maps core errors to messages. */
static int runSimilar(TvfVtab *p, TvfCursor *cur, EmbTableRef *ref, const emb_term *pos, int nPos,
                      const emb_term *neg, int nNeg, int method, sqlite3_int64 k,
                      sqlite3_int64 restrict_vocab)
{
    const char *zFunc = p->spec->zName;
    const emb_matrix *m = embTableMatrix(ref);
    if (method == EMB_SIM_3COSADD && nPos + nNeg == 0)
        return embTvfError(p, "%s: no input tokens (positive and negative are both empty)", zFunc);
    if (method == EMB_SIM_3COSMUL && nPos == 0)
        return embTvfError(p, "%s: 3cosmul needs at least one positive token", zFunc);
    size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows;
    size_t end = restrict_vocab > 0 ? emb_restrict_end(m, (size_t)restrict_vocab) : m->n_rows;
    emb_scored *out = sqlite3_malloc64((kk ? kk : 1) * sizeof *out);
    if (!out)
        return SQLITE_NOMEM;
    size_t n = 0;
    emb_err err;
    int rc = emb_most_similar_terms(emb_kernels_get(), m, pos, (size_t)nPos, neg, (size_t)nNeg,
                                    method, end, kk, out, &n, &err);
    if (rc == EMB_ENOMEM)
        rc = SQLITE_NOMEM;
    else if (rc != EMB_OK)
        rc = embTvfError(p, "%s: %s", zFunc, err.msg);
    else
        rc = emitScored(cur, ref, out, n, NULL, p->spec->nOut);
    sqlite3_free(out);
    return rc;
}

/* ---- the functions --------------------------------------------------------- */

static int computeMostSimilar(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName, *zTable;
    sqlite3_int64 k, restrict_vocab;
    int method = EMB_SIM_3COSADD;
    int rc = embTvfArgInt(p, args[3], "k", 0, 10, &k);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[5], "restrict", 1, 0, &restrict_vocab);
    if (rc != SQLITE_OK)
        return rc;
    if (args[4] && sqlite3_value_type(args[4]) != SQLITE_NULL) {
        const char *z = (const char *)sqlite3_value_text(args[4]);
        if (!z)
            return SQLITE_NOMEM;
        method = emb_sim_method_parse(z);
        if (method < 0 || sqlite3_value_type(args[4]) != SQLITE_TEXT)
            return embTvfError(p, "%s: unknown method '%s' (expected '3cosadd' or '3cosmul')",
                               zFunc, z);
    }
    EmbTableRef *ref = NULL;
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    TermList pos = {NULL, 0}, neg = {NULL, 0};
    rc = parseTermList(p, ref, zTable, args[1], "positive", TERMS_VECTORS, &pos);
    if (rc == SQLITE_OK)
        rc = parseTermList(p, ref, zTable, args[2], "negative", TERMS_VECTORS, &neg);
    if (rc == SQLITE_OK)
        rc = runSimilar(p, cur, ref, pos.t, pos.n, neg.t, neg.n, method, k, restrict_vocab);
    termsFree(&pos);
    termsFree(&neg);
    embTableClose(ref);
    return rc;
}

/* A vector argument checked against the table: "<fn>: <what> has N values;
 * table T has dim D". */
static int tableVec(TvfVtab *p, EmbTableRef *ref, const char *zTable, sqlite3_value *arg,
                    const char *zWhat, EmbVec *v)
{
    const char *zFunc = p->spec->zName;
    char *zErr = NULL;
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return embTvfError(p, "%s: %s must not be NULL", zFunc, zWhat);
    int rc = embVecFromValue(arg, zFunc, v, &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
    }
    size_t dim = embTableMatrix(ref)->dim;
    if ((size_t)v->dim != dim) {
        rc = embTvfError(p, "%s: %s has %d values; table %s has dim %lld%s", zFunc, zWhat, v->dim,
                         zTable, (long long)dim, embFloat64Hint(arg, (int)dim));
        embVecFree(v);
    }
    return rc;
}

static int computeSimilarByVector(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    sqlite3_int64 k, restrict_vocab;
    int rc = embTvfArgInt(p, args[2], "k", 0, 10, &k);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[3], "restrict", 1, 0, &restrict_vocab);
    if (rc != SQLITE_OK)
        return rc;
    EmbTableRef *ref = NULL;
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    EmbVec v;
    if ((rc = tableVec(p, ref, zTable, args[1], "vector", &v)) == SQLITE_OK) {
        emb_term t = {-1, v.v};
        rc = runSimilar(p, cur, ref, &t, 1, NULL, 0, EMB_SIM_3COSADD, k, restrict_vocab);
        embVecFree(&v);
    }
    embTableClose(ref);
    return rc;
}

static int computeAnalogy(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    static const char *const names[3] = {"a", "b", "c"};
    const char *zTable;
    sqlite3_int64 k;
    int rc = embTvfArgInt(p, args[4], "k", 0, 10, &k);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < 3; i++) {
        int t = args[i + 1] ? sqlite3_value_type(args[i + 1]) : SQLITE_NULL;
        if (t != SQLITE_TEXT && t != SQLITE_INTEGER)
            return embTvfError(p,
                               "%s: %s must be a token (text) or a token id (integer) (found %s)",
                               p->spec->zName, names[i], embTypeName(t));
    }
    EmbTableRef *ref = NULL;
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    int64_t ids[3];
    for (int i = 0; i < 3 && rc == SQLITE_OK; i++) {
        sqlite3_value *v = args[i + 1];
        const char *z = (const char *)sqlite3_value_text(v);
        rc = resolveTerm(p, ref, zTable, sqlite3_value_type(v), z ? z : "", sqlite3_value_bytes(v),
                         sqlite3_value_int64(v), &ids[i]);
    }
    if (rc == SQLITE_OK) {
        emb_term pos[2] = {{ids[1], NULL}, {ids[2], NULL}}, neg = {ids[0], NULL};
        rc = runSimilar(p, cur, ref, pos, 2, &neg, 1, EMB_SIM_3COSADD, k, 0);
    }
    embTableClose(ref);
    return rc;
}

static int computeLogits(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName, *zTable;
    sqlite3_int64 k;
    double temp = 1.0;
    int rc = embTvfArgInt(p, args[2], "k", 0, 10, &k);
    if (rc != SQLITE_OK)
        return rc;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(args[3]);
        if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
            return embTvfError(p, "%s: temperature must be a number (found %s)", zFunc,
                               embTypeName(sqlite3_value_type(args[3])));
        temp = sqlite3_value_double(args[3]);
        if (!isfinite(temp) || !(temp > 0))
            return embTvfError(p, "%s: temperature must be > 0 (found %s)", zFunc,
                               (const char *)sqlite3_value_text(args[3]));
    }
    if (!args[1] || sqlite3_value_type(args[1]) == SQLITE_NULL)
        return embTvfError(p, "%s: hidden must not be NULL", zFunc);
    EmbVec h;
    char *zErr = NULL;
    rc = embVecFromValue(args[1], zFunc, &h, &zErr);
    if (rc != SQLITE_OK) {
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zErr;
        return rc;
    }
    EmbTableRef *ref = NULL;
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK) {
        embVecFree(&h);
        return rc;
    }
    const emb_matrix *m = embTableMatrix(ref);
    if ((size_t)h.dim != m->dim) {
        rc = embTvfError(p, "%s: hidden has %d values; table %s has dim %lld%s", zFunc, h.dim,
                         zTable, (long long)m->dim, embFloat64Hint(args[1], (int)m->dim));
    } else {
        size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows, n = 0;
        emb_scored *out = sqlite3_malloc64((kk ? kk : 1) * sizeof *out);
        double *prob = sqlite3_malloc64((kk ? kk : 1) * sizeof *prob);
        emb_err err;
        if (!out || !prob)
            rc = SQLITE_NOMEM;
        else if ((rc = emb_logits_topk(emb_kernels_get(), m, h.v, kk, temp, out, prob, &n, &err)) !=
                 EMB_OK)
            rc = rc == EMB_ENOMEM ? SQLITE_NOMEM : embTvfError(p, "%s: %s", zFunc, err.msg);
        else
            rc = emitScored(cur, ref, out, n, prob, p->spec->nOut);
        sqlite3_free(out);
        sqlite3_free(prob);
    }
    embTableClose(ref);
    embVecFree(&h);
    return rc;
}

/* The optional (restrict, case_insensitive, dummy4unknown) of an evaluation. */
static int evalOptions(TvfVtab *p, sqlite3_value **args, sqlite3_int64 *restrict_vocab, int *flags)
{
    sqlite3_int64 ci, dummy;
    int rc = embTvfArgInt(p, args[0], "restrict", 1, 300000, restrict_vocab);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[1], "case_insensitive", 0, 1, &ci);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[2], "dummy4unknown", 0, 0, &dummy);
    if (rc == SQLITE_OK && (ci > 1 || dummy > 1))
        rc = embTvfError(p, "%s: %s must be 0 or 1 (found %lld)", p->spec->zName,
                         ci > 1 ? "case_insensitive" : "dummy4unknown",
                         (long long)(ci > 1 ? ci : dummy));
    *flags = (ci ? 0 : EMB_EVAL_CASE_SENSITIVE) | (dummy ? EMB_EVAL_DUMMY4UNKNOWN : 0);
    return rc;
}

static int computeEvalAnalogies(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName, *zTable;
    sqlite3_int64 restrict_vocab;
    int flags;
    char *text = NULL;
    size_t n;
    int rc = evalOptions(p, args + 2, &restrict_vocab, &flags);
    EmbTableRef *ref = NULL;
    if (rc != SQLITE_OK || (rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    if ((rc = embTvfReadFile(p, args[1], &text, &n)) != SQLITE_OK) {
        embTableClose(ref);
        return rc;
    }
    emb_tokens tk = {ref, tokIdOf, tokOf};
    emb_analogy_eval ev;
    emb_err err;
    rc = emb_eval_analogies_ex(emb_kernels_get(), embTableMatrix(ref), &tk, text, n,
                               (size_t)restrict_vocab, flags, &ev, &err);
    if (rc != EMB_OK) {
        rc = rc == EMB_ENOMEM ? SQLITE_NOMEM : embTvfError(p, "emb_%s", err.msg);
    } else {
        for (size_t i = 0; i < ev.n_sections && rc == SQLITE_OK; i++) {
            TvfCell *row = embTvfRow(cur, p->spec->nOut);
            if (!row) {
                rc = SQLITE_NOMEM;
                break;
            }
            rc = embTvfCellText(&row[0], ev.sections[i].name, -1);
            embTvfCellInt(&row[1], (sqlite3_int64)ev.sections[i].correct);
            embTvfCellInt(&row[2], (sqlite3_int64)ev.sections[i].total);
        }
        emb_analogy_eval_free(&ev);
    }
    (void)zFunc;
    embTableClose(ref);
    sqlite3_free(text);
    return rc;
}

static int computeEvalPairs(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    sqlite3_int64 restrict_vocab;
    int flags;
    char *text = NULL;
    size_t n;
    int rc = evalOptions(p, args + 2, &restrict_vocab, &flags);
    EmbTableRef *ref = NULL;
    if (rc != SQLITE_OK || (rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    if ((rc = embTvfReadFile(p, args[1], &text, &n)) != SQLITE_OK) {
        embTableClose(ref);
        return rc;
    }
    emb_tokens tk = {ref, tokIdOf, tokOf};
    emb_pairs_eval pe;
    emb_err err;
    rc = emb_eval_pairs_ex(emb_kernels_get(), embTableMatrix(ref), &tk, text, n,
                           (size_t)restrict_vocab, flags, &pe, &err);
    if (rc != EMB_OK) {
        rc = rc == EMB_ENOMEM ? SQLITE_NOMEM : embTvfError(p, "emb_%s", err.msg);
    } else {
        TvfCell *row = embTvfRow(cur, p->spec->nOut);
        if (!row) {
            rc = SQLITE_NOMEM;
        } else {
            embTvfCellDouble(&row[0], pe.pearson);
            embTvfCellDouble(&row[1], pe.spearman);
            embTvfCellDouble(&row[2], pe.oov_ratio);
        }
    }
    embTableClose(ref);
    sqlite3_free(text);
    return rc;
}

/* ---- gensim KeyedVectors extras ---------------------------------------- */

/* A single token / token id argument resolved to a row. */
static int argTerm(TvfVtab *p, EmbTableRef *ref, const char *zTable, sqlite3_value *v,
                   const char *zWhat, int64_t *out)
{
    int t = v ? sqlite3_value_type(v) : SQLITE_NULL;
    if (t != SQLITE_TEXT && t != SQLITE_INTEGER)
        return embTvfError(p, "%s: %s must be a token (text) or a token id (integer) (found %s)",
                           p->spec->zName, zWhat, embTypeName(t));
    const char *z = (const char *)sqlite3_value_text(v);
    return resolveTerm(p, ref, zTable, t, z ? z : "", sqlite3_value_bytes(v),
                       sqlite3_value_int64(v), out);
}

static int coreError(TvfVtab *p, int rc, const emb_err *err)
{
    return rc == EMB_ENOMEM ? SQLITE_NOMEM : embTvfError(p, "%s: %s", p->spec->zName, err->msg);
}

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

static int emitRanked(TvfCursor *cur, EmbTableRef *ref, Ranked *r, int n, int nOut,
                      int (*cmp)(const void *, const void *))
{
    qsort(r, (size_t)n, sizeof *r, cmp);
    emb_scored *s = sqlite3_malloc64((sqlite3_uint64)(n ? n : 1) * sizeof *s);
    if (!s)
        return SQLITE_NOMEM;
    for (int i = 0; i < n; i++)
        s[i] = r[i].s;
    int rc = emitScored(cur, ref, s, (size_t)n, NULL, nOut);
    sqlite3_free(s);
    return rc;
}

/* emb_doesnt_match(table, tokens): gensim rank_by_centrality, ascending. */
static int computeDoesntMatch(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    EmbTableRef *ref = NULL;
    int rc = embTvfOpenTable(p, args[0], &ref, &zTable);
    if (rc != SQLITE_OK)
        return rc;
    TermList l = {NULL, 0};
    int64_t *ids = NULL;
    float *sc = NULL;
    Ranked *r = NULL;
    if ((rc = parseTermList(p, ref, zTable, args[1], "tokens", TERMS_SKIP_UNKNOWN, &l)) != SQLITE_OK)
        goto done;
    if (l.n == 0) {
        rc = embTvfError(p, "%s: no token of the list is in table %s", p->spec->zName, zTable);
        goto done;
    }
    if ((rc = termIds(&l, &ids)) != SQLITE_OK)
        goto done;
    sc = sqlite3_malloc64((sqlite3_uint64)l.n * sizeof *sc);
    r = sqlite3_malloc64((sqlite3_uint64)l.n * sizeof *r);
    if (!sc || !r) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    emb_err err;
    int crc = emb_kv_centrality(emb_kernels_get(), embTableMatrix(ref), ids, (size_t)l.n, sc, &err);
    if (crc != EMB_OK) {
        rc = coreError(p, crc, &err);
        goto done;
    }
    for (int i = 0; i < l.n; i++) {
        r[i].s.id = ids[i];
        r[i].s.score = sc[i];
        r[i].pos = i;
        r[i].tok = embTableToken(ref, ids[i], &r[i].n);
        if (!r[i].tok) {
            r[i].tok = "";
            r[i].n = 0;
        }
    }
    rc = emitRanked(cur, ref, r, l.n, p->spec->nOut, cmpScoreToken);
done:
    sqlite3_free(r);
    sqlite3_free(sc);
    sqlite3_free(ids);
    termsFree(&l);
    embTableClose(ref);
    return rc;
}

/* emb_most_similar_to_given(table, token, candidates): similarity to each,
 * best first. */
static int computeToGiven(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    EmbTableRef *ref = NULL;
    int rc = embTvfOpenTable(p, args[0], &ref, &zTable);
    if (rc != SQLITE_OK)
        return rc;
    TermList l = {NULL, 0};
    Ranked *r = NULL;
    int64_t a;
    if ((rc = argTerm(p, ref, zTable, args[1], "word", &a)) != SQLITE_OK ||
        (rc = parseTermList(p, ref, zTable, args[2], "candidates", 0, &l)) != SQLITE_OK)
        goto done;
    if (l.n == 0) {
        rc = embTvfError(p, "%s: candidates is empty", p->spec->zName);
        goto done;
    }
    if (!(r = sqlite3_malloc64((sqlite3_uint64)l.n * sizeof *r))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    for (int i = 0; i < l.n; i++) {
        emb_err err;
        int crc = emb_kv_similarity(emb_kernels_get(), embTableMatrix(ref), a, l.t[i].id,
                                    &r[i].s.score, &err);
        if (crc != EMB_OK) {
            rc = coreError(p, crc, &err);
            goto done;
        }
        r[i].s.id = l.t[i].id;
        r[i].pos = i;
    }
    rc = emitRanked(cur, ref, r, l.n, p->spec->nOut, cmpScoreDesc);
done:
    sqlite3_free(r);
    termsFree(&l);
    embTableClose(ref);
    return rc;
}

/* emb_closer_than(table, a, b): rows closer to a than b is, by id. */
static int computeCloserThan(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    EmbTableRef *ref = NULL;
    int rc = embTvfOpenTable(p, args[0], &ref, &zTable);
    if (rc != SQLITE_OK)
        return rc;
    int64_t a, b, *ids = NULL;
    size_t n = 0;
    if ((rc = argTerm(p, ref, zTable, args[1], "a", &a)) == SQLITE_OK &&
        (rc = argTerm(p, ref, zTable, args[2], "b", &b)) == SQLITE_OK) {
        emb_err err;
        int crc = emb_kv_closer_than(emb_kernels_get(), embTableMatrix(ref), a, b, &ids, &n, &err);
        if (crc != EMB_OK)
            rc = coreError(p, crc, &err);
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
            TvfCell *row = embTvfRow(cur, p->spec->nOut);
            int tn = 0;
            const char *tok = embTableToken(ref, ids[i], &tn);
            if (!row) {
                rc = SQLITE_NOMEM;
                break;
            }
            embTvfCellInt(&row[0], ids[i]);
            rc = embTvfCellText(&row[1], tok, tn);
        }
        emb_free(ids);
    }
    embTableClose(ref);
    return rc;
}

/* emb_distances(table, token_or_vector [, others]): 1 - cosine. */
static int computeDistances(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    EmbTableRef *ref = NULL;
    int rc = embTvfOpenTable(p, args[0], &ref, &zTable);
    if (rc != SQLITE_OK)
        return rc;
    const emb_matrix *m = embTableMatrix(ref);
    const emb_kernels *kern = emb_kernels_get();
    EmbVec v = {NULL, 0, NULL};
    float *row = NULL, *dist = NULL;
    int64_t *ids = NULL;
    TermList l = {NULL, 0};
    const float *q;
    int t = args[1] ? sqlite3_value_type(args[1]) : SQLITE_NULL;
    if (t == SQLITE_INTEGER || (t == SQLITE_TEXT && embTableTokenId(ref, (const char *)sqlite3_value_text(args[1]), sqlite3_value_bytes(args[1])) >= 0)) {
        int64_t id;
        if ((rc = argTerm(p, ref, zTable, args[1], "token_or_vector", &id)) != SQLITE_OK)
            goto done;
        if (!(row = sqlite3_malloc64(m->dim * sizeof *row))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        emb_row_widen(kern, m, (size_t)id, row);
        q = row;
    } else if (t == SQLITE_BLOB || (t == SQLITE_TEXT && sqlite3_value_text(args[1])[0] == '[')) {
        if ((rc = tableVec(p, ref, zTable, args[1], "token_or_vector", &v)) != SQLITE_OK)
            goto done;
        q = v.v;
    } else {
        rc = t == SQLITE_TEXT ? argTerm(p, ref, zTable, args[1], "token_or_vector", &(int64_t){0})
                              : embTvfError(p, "%s: token_or_vector must be a token, a token id or a vector (found %s)",
                                            p->spec->zName, embTypeName(t));
        goto done;
    }
    if ((rc = parseTermList(p, ref, zTable, args[2], "others", 0, &l)) != SQLITE_OK)
        goto done;
    size_t n = l.n ? (size_t)l.n : m->n_rows;
    if (l.n && (rc = termIds(&l, &ids)) != SQLITE_OK)
        goto done;
    if (!(dist = sqlite3_malloc64((n ? n : 1) * sizeof *dist))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    emb_err err;
    int crc = emb_kv_distances(kern, m, q, ids, n, dist, &err);
    if (crc != EMB_OK) {
        rc = coreError(p, crc, &err);
        goto done;
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        int64_t id = ids ? ids[i] : (int64_t)i;
        if (!ids && !emb_matrix_has_row(m, (size_t)id))
            continue;
        TvfCell *c = embTvfRow(cur, p->spec->nOut);
        int tn = 0;
        const char *tok = embTableToken(ref, id, &tn);
        if (!c) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&c[0], id);
        rc = embTvfCellText(&c[1], tok, tn);
        embTvfCellDouble(&c[2], dist[i]);
    }
done:
    sqlite3_free(dist);
    sqlite3_free(ids);
    sqlite3_free(row);
    termsFree(&l);
    embVecFree(&v);
    embTableClose(ref);
    return rc;
}

/* ---- PyTorch: EmbeddingBag and Embedding(max_norm) --------------------- */

/* A 1-D or 2-D (rectangular) JSON array of integers (ids) or numbers. */
typedef struct Tensor {
    int64_t *ids; /* isFloat == 0 */
    float *vals;  /* isFloat == 1 */
    size_t n, rows, cols;
    size_t over;  /* elements past EMB_TENSOR_MAX, counted, not kept */
    int is2d;
} Tensor;

/* Elements of one emb_bag / emb_embedding argument, at most (as
 * emb_sequence's ids: a context of 2^20 tokens); docs/SECURITY.md. */
#define EMB_TENSOR_MAX 1048576

static void tensorFree(Tensor *t)
{
    sqlite3_free(t->ids);
    sqlite3_free(t->vals);
    memset(t, 0, sizeof *t);
}

/* Append the elements of JSON array z to t; nested arrays are rows when
 * depth 0.  Returns SQLITE_OK or an error set on p. */
static int tensorAppend(TvfVtab *p, sqlite3_value *arg, const char *z, int depth, int isFloat,
                        const char *zWhat, Tensor *t, size_t *cap)
{
    const char *zFunc = p->spec->zName;
    const char *zKind = isFloat ? "numbers" : "integers";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "SELECT type, atom, value FROM json_each(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    if (arg)
        sqlite3_bind_value(st, 1, arg);
    else
        sqlite3_bind_text(st, 1, z, -1, SQLITE_TRANSIENT);
    size_t before = t->n;
    int nRows = 0, step = SQLITE_DONE;
    while (rc == SQLITE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        if (!type && sqlite3_errcode(p->db) == SQLITE_NOMEM) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (type && strcmp(type, "array") == 0 && depth == 0) {
            if (t->n > 0 && !t->is2d) {
                rc = embTvfError(p, "%s: %s mixes numbers and arrays", zFunc, zWhat);
                break;
            }
            t->is2d = 1;
            size_t n0 = t->n;
            rc = tensorAppend(p, NULL, (const char *)sqlite3_column_text(st, 2), 1, isFloat, zWhat,
                              t, cap);
            if (rc == SQLITE_OK && nRows > 0 && t->n - n0 != t->cols && !t->over)
                rc = embTvfError(p, "%s: %s rows differ in length (%lld and %lld)", zFunc, zWhat,
                                 (long long)t->cols, (long long)(t->n - n0));
            t->cols = t->n - n0;
            nRows++;
            continue;
        }
        int ok = type && (strcmp(type, "integer") == 0 || (isFloat && strcmp(type, "real") == 0));
        if (!ok || (t->is2d && depth == 0)) {
            rc = embTvfError(p, "%s: %s must be a JSON array of %s or of arrays of %s (found %s)",
                             zFunc, zWhat, zKind, zKind, type ? type : "NULL");
            break;
        }
        if (t->n == EMB_TENSOR_MAX) {
            t->over++;
            continue;
        }
        if (t->n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            void *q = isFloat ? sqlite3_realloc64(t->vals, nc * sizeof *t->vals)
                              : sqlite3_realloc64(t->ids, nc * sizeof *t->ids);
            if (!q) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (isFloat)
                t->vals = q;
            else
                t->ids = q;
            *cap = nc;
        }
        if (isFloat)
            t->vals[t->n++] = (float)sqlite3_column_double(st, 1);
        else
            t->ids[t->n++] = sqlite3_column_int64(st, 1);
    }
    /* json_each stopped early (out of memory): not the end of the array */
    if (rc == SQLITE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = step == SQLITE_NOMEM ? SQLITE_NOMEM
                                  : embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    sqlite3_finalize(st);
    if (depth == 0) {
        t->rows = t->is2d ? (size_t)nRows : 1;
        if (!t->is2d)
            t->cols = t->n - before;
    }
    return rc;
}

static int parseTensor(TvfVtab *p, sqlite3_value *arg, const char *zWhat, int isFloat, Tensor *t)
{
    const char *zKind = isFloat ? "numbers" : "integers";
    size_t cap = 0;
    memset(t, 0, sizeof *t);
    const char *z = arg ? (const char *)sqlite3_value_text(arg) : NULL;
    if (!arg || sqlite3_value_type(arg) != SQLITE_TEXT || !z)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found %s)", p->spec->zName,
                           zWhat, zKind, embTypeName(arg ? sqlite3_value_type(arg) : SQLITE_NULL));
    sqlite3_stmt *st = NULL;
    int isArray = 0, rcv = sqlite3_prepare_v2(
                         p->db, "SELECT json_valid(?1) AND json_type(?1) = 'array'", -1, &st, NULL);
    if (rcv == SQLITE_OK) {
        sqlite3_bind_value(st, 1, arg);
        rcv = sqlite3_step(st);
        isArray = rcv == SQLITE_ROW && sqlite3_column_int(st, 0);
        rcv = rcv == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(p->db);
    }
    sqlite3_finalize(st);
    if (rcv == SQLITE_NOMEM)
        return SQLITE_NOMEM;
    if (!isArray)
        return embTvfError(p, "%s: %s must be a JSON array of %s (found '%s')", p->spec->zName,
                           zWhat, zKind, z);
    int rc = tensorAppend(p, arg, NULL, 0, isFloat, zWhat, t, &cap);
    if (rc == SQLITE_OK && t->over)
        rc = embTvfError(p, "%s: %s has too many elements (%d vs %llu)", p->spec->zName, zWhat,
                         EMB_TENSOR_MAX, (unsigned long long)(t->n + t->over));
    if (rc != SQLITE_OK)
        tensorFree(t);
    return rc;
}

/* Check every id of t against the table. */
static int checkIds(TvfVtab *p, EmbTableRef *ref, const char *zTable, const Tensor *t)
{
    const emb_matrix *m = embTableMatrix(ref);
    for (size_t i = 0; i < t->n; i++)
        if (t->ids[i] < 0 || !emb_matrix_has_row(m, (size_t)t->ids[i]))
            return embTvfError(p, "%s: input[%lld]: token_id %lld not in table %s", p->spec->zName,
                               (long long)i, (long long)t->ids[i], zTable);
    return SQLITE_OK;
}

/* max_norm / norm_type arguments: *max_norm 0 when not given. */
static int argMaxNorm(TvfVtab *p, sqlite3_value *aMax, sqlite3_value *aType, double *max_norm,
                      double *norm_type)
{
    const char *zFunc = p->spec->zName;
    *max_norm = 0;
    *norm_type = 2;
    if (aMax && sqlite3_value_type(aMax) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(aMax);
        *max_norm = sqlite3_value_double(aMax);
        if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !(*max_norm > 0) || isinf(*max_norm))
            return embTvfError(p, "%s: max_norm must be a positive number (found %s)", zFunc,
                               sqlite3_value_text(aMax) ? (const char *)sqlite3_value_text(aMax) : "NULL");
    }
    if (aType && sqlite3_value_type(aType) != SQLITE_NULL) {
        int t = sqlite3_value_numeric_type(aType);
        *norm_type = sqlite3_value_double(aType);
        if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !(*norm_type > 0))
            return embTvfError(p, "%s: norm_type must be a number > 0 or 1e999 for inf (found %s)",
                               zFunc,
                               sqlite3_value_text(aType) ? (const char *)sqlite3_value_text(aType) : "NULL");
    }
    return SQLITE_OK;
}

/* emb_bag(table, input, offsets, mode, per_sample_weights, padding_idx,
 *         include_last_offset, max_norm, norm_type) -> (bag, vector) */
static int computeBag(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName, *zTable;
    emb_bag_opts o = {EMB_BAG_MEAN, NULL, -1, 0, 2};
    sqlite3_int64 pad, last;
    int rc = embTvfArgInt(p, args[5], "padding_idx", 0, -1, &pad);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[6], "include_last_offset", 0, 0, &last);
    if (rc == SQLITE_OK && last > 1)
        rc = embTvfError(p, "%s: include_last_offset must be 0 or 1 (found %lld)", zFunc,
                         (long long)last);
    if (rc == SQLITE_OK)
        rc = argMaxNorm(p, args[7], args[8], &o.max_norm, &o.norm_type);
    if (rc != SQLITE_OK)
        return rc;
    o.padding_idx = pad;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        const char *z = (const char *)sqlite3_value_text(args[3]);
        o.mode = sqlite3_value_type(args[3]) == SQLITE_TEXT && z ? emb_bag_mode_parse(z) : -1;
        if (o.mode < 0)
            return embTvfError(p, "%s: unknown mode '%s' (expected 'sum', 'mean' or 'max')", zFunc,
                               z ? z : "");
    }
    Tensor in, off, w;
    memset(&off, 0, sizeof off);
    memset(&w, 0, sizeof w);
    if ((rc = parseTensor(p, args[1], "input", 0, &in)) != SQLITE_OK)
        return rc;
    EmbTableRef *ref = NULL;
    size_t *starts = NULL, n_bags = 0;
    float *out = NULL;
    int hasOff = args[2] && sqlite3_value_type(args[2]) != SQLITE_NULL;
    if (hasOff && (rc = parseTensor(p, args[2], "offsets", 0, &off)) != SQLITE_OK)
        goto done;
    if (in.is2d && hasOff) {
        rc = embTvfError(p, "%s: offsets must be NULL when input is 2-D (each row is a bag)", zFunc);
        goto done;
    }
    if (!in.is2d && !hasOff) {
        rc = embTvfError(p, "%s: a 1-D input needs offsets (or give a 2-D input: one bag per row)",
                         zFunc);
        goto done;
    }
    if (hasOff && off.is2d) {
        rc = embTvfError(p, "%s: offsets must be a 1-D JSON array of integers", zFunc);
        goto done;
    }
    if (args[4] && sqlite3_value_type(args[4]) != SQLITE_NULL) {
        if (o.mode != EMB_BAG_SUM) {
            rc = embTvfError(p, "%s: per_sample_weights needs mode 'sum' (as torch)", zFunc);
            goto done;
        }
        if ((rc = parseTensor(p, args[4], "per_sample_weights", 1, &w)) != SQLITE_OK)
            goto done;
        if (w.n != in.n || w.is2d != in.is2d) {
            rc = embTvfError(p, "%s: per_sample_weights has %lld values; input has %lld", zFunc,
                             (long long)w.n, (long long)in.n);
            goto done;
        }
        o.weights = w.vals;
    }
    /* bag boundaries */
    if (in.is2d) {
        n_bags = in.rows;
        if (!(starts = sqlite3_malloc64((n_bags + 1) * sizeof *starts))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        for (size_t b = 0; b <= n_bags; b++)
            starts[b] = b * in.cols;
    } else {
        if (off.n == 0 || (last && off.n < 1)) {
            rc = embTvfError(p, "%s: offsets is empty", zFunc);
            goto done;
        }
        n_bags = last ? off.n - 1 : off.n;
        if (!(starts = sqlite3_malloc64((n_bags + 1) * sizeof *starts))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        if (off.ids[0] != 0) {
            rc = embTvfError(p, "%s: offsets[0] must be 0 (found %lld)", zFunc,
                             (long long)off.ids[0]);
            goto done;
        }
        for (size_t b = 0; b < off.n; b++) {
            if (off.ids[b] < (b ? off.ids[b - 1] : 0) || (size_t)off.ids[b] > in.n) {
                rc = embTvfError(p,
                                 "%s: offsets must be non-decreasing and at most %lld (the input "
                                 "length); offsets[%lld] = %lld",
                                 zFunc, (long long)in.n, (long long)b, (long long)off.ids[b]);
                goto done;
            }
            if (b <= n_bags)
                starts[b] = (size_t)off.ids[b];
        }
        if (!last)
            starts[n_bags] = in.n;
    }
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK ||
        (rc = checkIds(p, ref, zTable, &in)) != SQLITE_OK)
        goto done;
    const emb_matrix *m = embTableMatrix(ref);
    size_t bytes;
    if (emb_mul_size(n_bags ? n_bags : 1, m->dim * sizeof(float), &bytes) != 0 ||
        !(out = sqlite3_malloc64(bytes))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    emb_err err;
    int crc = emb_bag(emb_kernels_get(), m, in.ids, in.n, starts, n_bags, &o, out, &err);
    if (crc != EMB_OK) {
        rc = coreError(p, crc, &err);
        goto done;
    }
    for (size_t b = 0; b < n_bags && rc == SQLITE_OK; b++) {
        TvfCell *row = embTvfRow(cur, p->spec->nOut);
        if (!row) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&row[0], (sqlite3_int64)b);
        rc = embTvfCellBlob(&row[1], out + b * m->dim, (int)(m->dim * sizeof(float)));
    }
done:
    sqlite3_free(out);
    sqlite3_free(starts);
    tensorFree(&in);
    tensorFree(&off);
    tensorFree(&w);
    embTableClose(ref);
    return rc;
}

/* emb_embedding(table, input [, max_norm [, norm_type]]) -> (batch, pos, token_id, vector) */
static int computeEmbedding(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zTable;
    double max_norm, norm_type;
    int rc = argMaxNorm(p, args[2], args[3], &max_norm, &norm_type);
    if (rc != SQLITE_OK)
        return rc;
    Tensor in;
    if ((rc = parseTensor(p, args[1], "input", 0, &in)) != SQLITE_OK)
        return rc;
    EmbTableRef *ref = NULL;
    float *row = NULL;
    if ((rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK ||
        (rc = checkIds(p, ref, zTable, &in)) != SQLITE_OK)
        goto done;
    const emb_matrix *m = embTableMatrix(ref);
    if (!(row = sqlite3_malloc64(m->dim * sizeof *row))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < in.n && rc == SQLITE_OK; i++) {
        emb_row_widen(emb_kernels_get(), m, (size_t)in.ids[i], row);
        if (max_norm > 0)
            emb_renorm(row, m->dim, max_norm, norm_type);
        TvfCell *c = embTvfRow(cur, p->spec->nOut);
        if (!c) {
            rc = SQLITE_NOMEM;
            break;
        }
        embTvfCellInt(&c[0], (sqlite3_int64)(in.cols ? i / in.cols : 0));
        embTvfCellInt(&c[1], (sqlite3_int64)(in.cols ? i % in.cols : 0));
        embTvfCellInt(&c[2], in.ids[i]);
        rc = embTvfCellBlob(&c[3], row, (int)(m->dim * sizeof(float)));
    }
done:
    sqlite3_free(row);
    tensorFree(&in);
    embTableClose(ref);
    return rc;
}

/* ---- scalar functions over a table ----------------------------------------
 * They share the TVF helpers: a TvfVtab on the stack is the error sink and
 * the message is moved to the context. */

typedef struct ScalarCall {
    TvfVtab v;
    TvfSpec spec;
    sqlite3_context *ctx;
} ScalarCall;

static void scalarBegin(ScalarCall *c, sqlite3_context *ctx, const char *zName)
{
    memset(c, 0, sizeof *c);
    c->spec.zName = zName;
    c->v.spec = &c->spec;
    c->v.db = sqlite3_context_db_handle(ctx);
    c->v.conn = sqlite3_user_data(ctx);
    c->ctx = ctx;
}

/* Report rc (and the message, if any) on the context. */
static void scalarEnd(ScalarCall *c, int rc)
{
    if (rc == SQLITE_NOMEM)
        sqlite3_result_error_nomem(c->ctx);
    else if (rc != SQLITE_OK)
        sqlite3_result_error(c->ctx, c->v.base.zErrMsg ? c->v.base.zErrMsg : "error", -1);
    sqlite3_free(c->v.base.zErrMsg);
}

/* emb_similarity(table, a, b) and emb_rank(table, a, b) */
static void fnPairOp(sqlite3_context *ctx, int argc, sqlite3_value **argv, const char *zName,
                     int isRank)
{
    ScalarCall c;
    const char *zTable;
    EmbTableRef *ref = NULL;
    (void)argc;
    scalarBegin(&c, ctx, zName);
    int rc = embTvfOpenTable(&c.v, argv[0], &ref, &zTable);
    int64_t a, b;
    if (rc == SQLITE_OK && (rc = argTerm(&c.v, ref, zTable, argv[1], "a", &a)) == SQLITE_OK &&
        (rc = argTerm(&c.v, ref, zTable, argv[2], "b", &b)) == SQLITE_OK) {
        emb_err err;
        int crc;
        if (isRank) {
            int64_t *ids = NULL;
            size_t n = 0;
            crc = emb_kv_closer_than(emb_kernels_get(), embTableMatrix(ref), a, b, &ids, &n, &err);
            emb_free(ids);
            if (crc == EMB_OK)
                sqlite3_result_int64(ctx, (sqlite3_int64)n + 1);
        } else {
            float s;
            crc = emb_kv_similarity(emb_kernels_get(), embTableMatrix(ref), a, b, &s, &err);
            if (crc == EMB_OK)
                sqlite3_result_double(ctx, s);
        }
        if (crc != EMB_OK)
            rc = coreError(&c.v, crc, &err);
    }
    embTableClose(ref);
    scalarEnd(&c, rc);
}

static void fnSimilarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fnPairOp(ctx, argc, argv, "emb_similarity", 0);
}

static void fnRank(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    fnPairOp(ctx, argc, argv, "emb_rank", 1);
}

/* emb_n_similarity(table, tokens1, tokens2) */
static void fnNSimilarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ScalarCall c;
    const char *zTable;
    EmbTableRef *ref = NULL;
    TermList l1 = {NULL, 0}, l2 = {NULL, 0};
    int64_t *i1 = NULL, *i2 = NULL;
    (void)argc;
    scalarBegin(&c, ctx, "emb_n_similarity");
    int rc = embTvfOpenTable(&c.v, argv[0], &ref, &zTable);
    if (rc == SQLITE_OK)
        rc = parseTermList(&c.v, ref, zTable, argv[1], "tokens1", TERMS_SKIP_UNKNOWN, &l1);
    if (rc == SQLITE_OK)
        rc = parseTermList(&c.v, ref, zTable, argv[2], "tokens2", TERMS_SKIP_UNKNOWN, &l2);
    if (rc == SQLITE_OK && (l1.n == 0 || l2.n == 0))
        rc = embTvfError(&c.v, "emb_n_similarity: %s has no token of table %s",
                         l1.n == 0 ? "tokens1" : "tokens2", zTable);
    if (rc == SQLITE_OK && (rc = termIds(&l1, &i1)) == SQLITE_OK &&
        (rc = termIds(&l2, &i2)) == SQLITE_OK) {
        emb_err err;
        float s;
        int crc = emb_kv_n_similarity(emb_kernels_get(), embTableMatrix(ref), i1, (size_t)l1.n, i2,
                                      (size_t)l2.n, &s, &err);
        if (crc == EMB_OK)
            sqlite3_result_double(ctx, s);
        else
            rc = coreError(&c.v, crc, &err);
    }
    sqlite3_free(i1);
    sqlite3_free(i2);
    termsFree(&l1);
    termsFree(&l2);
    embTableClose(ref);
    scalarEnd(&c, rc);
}

/* emb_relative_cosine_similarity(table, a, b [, topn]) */
static void fnRelCosine(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ScalarCall c;
    const char *zTable;
    EmbTableRef *ref = NULL;
    sqlite3_int64 topn = 10;
    scalarBegin(&c, ctx, "emb_relative_cosine_similarity");
    int rc = embTvfArgInt(&c.v, argc > 3 ? argv[3] : NULL, "topn", 1, 10, &topn);
    if (rc == SQLITE_OK)
        rc = embTvfOpenTable(&c.v, argv[0], &ref, &zTable);
    int64_t a, b;
    if (rc == SQLITE_OK && (rc = argTerm(&c.v, ref, zTable, argv[1], "a", &a)) == SQLITE_OK &&
        (rc = argTerm(&c.v, ref, zTable, argv[2], "b", &b)) == SQLITE_OK) {
        emb_err err;
        double r;
        size_t k = (size_t)topn < embTableMatrix(ref)->n_rows ? (size_t)topn
                                                              : embTableMatrix(ref)->n_rows;
        int crc = emb_kv_relative_cosine(emb_kernels_get(), embTableMatrix(ref), a, b, k, &r, &err);
        if (crc == EMB_OK)
            sqlite3_result_double(ctx, r);
        else
            rc = coreError(&c.v, crc, &err);
    }
    embTableClose(ref);
    scalarEnd(&c, rc);
}

static const char *const argsSimilar[] = {"table", "positive", "negative", "k", "method", "restrict"};
static const char *const argsByVector[] = {"table", "vector", "k", "restrict"};
static const char *const argsDoesnt[] = {"table", "tokens"};
static const char *const argsToGiven[] = {"table", "word", "candidates"};
static const char *const argsCloser[] = {"table", "a", "b"};
static const char *const argsDist[] = {"table", "token_or_vector", "others"};
static const char *const argsBag[] = {"table", "input", "offsets", "mode", "per_sample_weights",
                                      "padding_idx", "include_last_offset", "max_norm",
                                      "norm_type"};
static const char *const argsEmbedding[] = {"table", "input", "max_norm", "norm_type"};
static const char *const argsAnalogy[] = {"table", "a", "b", "c", "k"};
static const char *const argsLogits[] = {"table", "hidden", "k", "temperature"};
static const char *const argsEvalA[] = {"table", "path", "restrict", "case_insensitive",
                                        "dummy4unknown"};
static const char *const argsEvalP[] = {"table", "path", "restrict", "case_insensitive",
                                        "dummy4unknown"};

static const TvfSpec specs[] = {
    {"emb_most_similar",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, positive HIDDEN,"
     " negative HIDDEN, k HIDDEN, method HIDDEN, \"restrict\" HIDDEN)",
     3, 6, 1, 0, argsSimilar, computeMostSimilar, NULL, 0, 0},
    {"emb_similar_by_vector",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, vector HIDDEN,"
     " k HIDDEN, \"restrict\" HIDDEN)",
     3, 4, 2, 0, argsByVector, computeSimilarByVector, NULL, 0, 0},
    {"emb_doesnt_match",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, tokens HIDDEN)",
     3, 2, 2, 0, argsDoesnt, computeDoesntMatch, NULL, 0, 0},
    {"emb_most_similar_to_given",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, word HIDDEN,"
     " candidates HIDDEN)",
     3, 3, 3, 0, argsToGiven, computeToGiven, NULL, 0, 0},
    {"emb_closer_than",
     "CREATE TABLE x(token_id INTEGER, token TEXT, \"table\" HIDDEN, a HIDDEN, b HIDDEN)",
     2, 3, 3, 0, argsCloser, computeCloserThan, NULL, 0, 0},
    {"emb_distances",
     "CREATE TABLE x(token_id INTEGER, token TEXT, distance REAL, \"table\" HIDDEN,"
     " token_or_vector HIDDEN, others HIDDEN)",
     3, 3, 2, 0, argsDist, computeDistances, NULL, 0, 0},
    {"emb_bag",
     "CREATE TABLE x(bag INTEGER, vector BLOB, \"table\" HIDDEN, input HIDDEN, offsets HIDDEN,"
     " mode HIDDEN, per_sample_weights HIDDEN, padding_idx HIDDEN, include_last_offset HIDDEN,"
     " max_norm HIDDEN, norm_type HIDDEN)",
     2, 9, 2, 0, argsBag, computeBag, NULL, 0, 0},
    {"emb_embedding",
     "CREATE TABLE x(batch INTEGER, pos INTEGER, token_id INTEGER, vector BLOB, \"table\" HIDDEN,"
     " input HIDDEN, max_norm HIDDEN, norm_type HIDDEN)",
     4, 4, 2, 0, argsEmbedding, computeEmbedding, NULL, 0, 0},
    {"emb_analogy",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, a HIDDEN,"
     " b HIDDEN, c HIDDEN, k HIDDEN)",
     3, 5, 4, 0, argsAnalogy, computeAnalogy, NULL, 0, 0},
    {"emb_logits",
     "CREATE TABLE x(token_id INTEGER, token TEXT, logit REAL, prob REAL, \"table\" HIDDEN,"
     " hidden HIDDEN, k HIDDEN, temperature HIDDEN)",
     4, 4, 2, 0, argsLogits, computeLogits, NULL, 0, 0},
    {"emb_eval_analogies",
     "CREATE TABLE x(section TEXT, correct INTEGER, total INTEGER, \"table\" HIDDEN,"
     " path HIDDEN, \"restrict\" HIDDEN, case_insensitive HIDDEN, dummy4unknown HIDDEN)",
     3, 5, 2, 1, argsEvalA, computeEvalAnalogies, NULL, 0, 0},
    {"emb_eval_pairs",
     "CREATE TABLE x(pearson REAL, spearman REAL, oov_ratio REAL, \"table\" HIDDEN,"
     " path HIDDEN, \"restrict\" HIDDEN, case_insensitive HIDDEN, dummy4unknown HIDDEN)",
     3, 5, 2, 1, argsEvalP, computeEvalPairs, NULL, 0, 0},
};

int embRegisterSemantics(sqlite3 *db, EmbConn *conn)
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
        rc = sqlite3_create_function(db, fns[i].name, fns[i].nArg, SQLITE_UTF8 | SQLITE_INNOCUOUS, conn, fns[i].x,
                                     NULL, NULL);
    return rc;
}
