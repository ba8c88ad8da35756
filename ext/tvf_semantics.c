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
 *   emb_logits: dimension mismatch (50 vs 3)
 *   emb_eval_analogies: cannot read file 'x.txt'
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
#include "lm/logits.h"
#include "tvf.h"
#include "value.h"
#include "lm/wordeval.h"

#include <math.h>
#include <string.h>

/* Open the table named by args[0].  SQLITE_OK and *pRef, or an error set. */
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

/* Parse a JSON array of tokens / ids (arg may be NULL) into *pIds (sqlite3_malloc'd). */
int embTvfParseTerms(TvfVtab *p, EmbTableRef *ref, const char *zTable, sqlite3_value *arg,
                     const char *zWhat, int64_t **pIds, int *pn)
{
    const char *zFunc = p->spec->zName;
    *pIds = NULL;
    *pn = 0;
    if (!arg || sqlite3_value_type(arg) == SQLITE_NULL)
        return SQLITE_OK;
    const char *z = (const char *)sqlite3_value_text(arg);
    if (sqlite3_value_type(arg) != SQLITE_TEXT || !z)
        return embTvfError(p, "%s: %s must be a JSON array of tokens or token ids (found %s)",
                           zFunc, zWhat, embTypeName(sqlite3_value_type(arg)));
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
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        isArray = t && strcmp(t, "array") == 0;
        count = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (!isArray)
        return embTvfError(p, "%s: %s must be a JSON array of tokens or token ids (found '%s')",
                           zFunc, zWhat, z);
    if (count == 0)
        return SQLITE_OK;
    int64_t *ids = sqlite3_malloc64((sqlite3_uint64)count * sizeof *ids);
    if (!ids)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(p->db, "SELECT type, atom FROM json_each(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_free(ids);
        return embTvfError(p, "%s: %s", zFunc, sqlite3_errmsg(p->db));
    }
    sqlite3_bind_value(st, 1, arg);
    int n = 0;
    while (rc == SQLITE_OK && n < count && sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        int eType;
        if (type && strcmp(type, "text") == 0)
            eType = SQLITE_TEXT;
        else if (type && strcmp(type, "integer") == 0)
            eType = SQLITE_INTEGER;
        else {
            rc = embTvfError(
                p, "%s: %s[%d] must be a token (string) or a token id (integer) (found %s)", zFunc,
                zWhat, n, type ? type : "NULL");
            break;
        }
        const char *zt = (const char *)sqlite3_column_text(st, 1);
        rc = resolveTerm(p, ref, zTable, eType, zt ? zt : "", sqlite3_column_bytes(st, 1),
                         sqlite3_column_int64(st, 1), &ids[n]);
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        sqlite3_free(ids);
        return rc;
    }
    *pIds = ids;
    *pn = n;
    return SQLITE_OK;
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
static int runSimilar(TvfVtab *p, TvfCursor *cur, EmbTableRef *ref, const int64_t *pos, int nPos,
                      const int64_t *neg, int nNeg, int method, sqlite3_int64 k)
{
    const char *zFunc = p->spec->zName;
    const emb_matrix *m = embTableMatrix(ref);
    if (method == EMB_SIM_3COSADD && nPos + nNeg == 0)
        return embTvfError(p, "%s: no input tokens (positive and negative are both empty)", zFunc);
    if (method == EMB_SIM_3COSMUL && nPos == 0)
        return embTvfError(p, "%s: 3cosmul needs at least one positive token", zFunc);
    size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows;
    emb_scored *out = sqlite3_malloc64((kk ? kk : 1) * sizeof *out);
    if (!out)
        return SQLITE_NOMEM;
    size_t n = 0;
    emb_err err;
    int rc = emb_most_similar(emb_kernels_get(), m, pos, (size_t)nPos, neg, (size_t)nNeg, method,
                              kk, out, &n, &err);
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
    sqlite3_int64 k;
    int method = EMB_SIM_3COSADD;
    int rc = embTvfArgInt(p, args[3], "k", 0, 10, &k);
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
    int64_t *pos = NULL, *neg = NULL;
    int nPos = 0, nNeg = 0;
    rc = embTvfParseTerms(p, ref, zTable, args[1], "positive", &pos, &nPos);
    if (rc == SQLITE_OK)
        rc = embTvfParseTerms(p, ref, zTable, args[2], "negative", &neg, &nNeg);
    if (rc == SQLITE_OK)
        rc = runSimilar(p, cur, ref, pos, nPos, neg, nNeg, method, k);
    sqlite3_free(pos);
    sqlite3_free(neg);
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
        int64_t pos[2] = {ids[1], ids[2]};
        rc = runSimilar(p, cur, ref, pos, 2, &ids[0], 1, EMB_SIM_3COSADD, k);
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
        rc = embTvfError(p, "%s: dimension mismatch (%lld vs %d)", zFunc, (long long)m->dim, h.dim);
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

static int computeEvalAnalogies(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName, *zTable;
    sqlite3_int64 restrict_vocab;
    char *text = NULL;
    size_t n;
    EmbTableRef *ref = NULL;
    int rc = embTvfArgInt(p, args[2], "restrict", 1, 300000, &restrict_vocab);
    if (rc != SQLITE_OK || (rc = embTvfOpenTable(p, args[0], &ref, &zTable)) != SQLITE_OK)
        return rc;
    if ((rc = embTvfReadFile(p, args[1], &text, &n)) != SQLITE_OK) {
        embTableClose(ref);
        return rc;
    }
    emb_tokens tk = {ref, tokIdOf, tokOf};
    emb_analogy_eval ev;
    emb_err err;
    rc = emb_eval_analogies(emb_kernels_get(), embTableMatrix(ref), &tk, text, n,
                            (size_t)restrict_vocab, &ev, &err);
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
    char *text = NULL;
    size_t n;
    EmbTableRef *ref = NULL;
    int rc = embTvfOpenTable(p, args[0], &ref, &zTable);
    if (rc != SQLITE_OK)
        return rc;
    if ((rc = embTvfReadFile(p, args[1], &text, &n)) != SQLITE_OK) {
        embTableClose(ref);
        return rc;
    }
    emb_tokens tk = {ref, tokIdOf, tokOf};
    emb_pairs_eval pe;
    emb_err err;
    rc = emb_eval_pairs(emb_kernels_get(), embTableMatrix(ref), &tk, text, n, 300000, &pe, &err);
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

static const char *const argsSimilar[] = {"table", "positive", "negative", "k", "method"};
static const char *const argsAnalogy[] = {"table", "a", "b", "c", "k"};
static const char *const argsLogits[] = {"table", "hidden", "k", "temperature"};
static const char *const argsEvalA[] = {"table", "path", "restrict"};
static const char *const argsEvalP[] = {"table", "path"};

static const TvfSpec specs[] = {
    {"emb_most_similar",
     "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN, positive HIDDEN,"
     " negative HIDDEN, k HIDDEN, method HIDDEN)",
     3, 5, 1, 0, argsSimilar, computeMostSimilar, NULL, 0, 0},
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
     " path HIDDEN, \"restrict\" HIDDEN)",
     3, 3, 2, 1, argsEvalA, computeEvalAnalogies, NULL, 0, 0},
    {"emb_eval_pairs",
     "CREATE TABLE x(pearson REAL, spearman REAL, oov_ratio REAL, \"table\" HIDDEN,"
     " path HIDDEN)",
     3, 2, 2, 1, argsEvalP, computeEvalPairs, NULL, 0, 0},
};

int embRegisterSemantics(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
}
