/*
 * tvf_semantics.c - language-model semantics over an `embedding` table, as
 * table-valued functions: neighbours and analogies with gensim's rules, the
 * tied output layer, and the standard word-vector evaluations.  The other
 * gensim KeyedVectors calls are in tvf_keyed.c, torch's EmbeddingBag /
 * Embedding in tvf_torch.c; all share the prologue of tvf_table.c.
 *
 *   .load ./embext
 *   create virtual table glove using embedding(dim=50);
 *   insert into glove(token_id, token, vector)
 *     select token_id, token, vector from emb_read_text(:data || '/glove.6B.50d.10k.txt');
 *   select token, score from emb_most_similar('glove', '["king","woman"]', '["man"]', 5);
 *       -- queen 0.8524, throne, prince, daughter, elizabeth (gensim 4.2's numbers)
 *   select token, score from emb_analogy('glove', 'man', 'king', 'woman');   -- same
 *   select * from emb_most_similar('glove', '[691, 787]', '[300]', 3, '3cosmul');
 *   select token, score from emb_similar_by_vector('glove', emb_lookup('glove', 691), 3);
 *   select token, logit, prob from emb_logits('wte', :hidden, 5, 0.8);
 *   select * from emb_eval_analogies('glove', :data || '/questions-words.txt');
 *   select * from emb_eval_pairs('glove', :data || '/wordsim353.tsv');
 *
 * Functions (arguments are positional, or constraints on the HIDDEN columns
 * of the same names; optional ones may be omitted or NULL; `table` may be
 * "schema.table"):
 *   emb_most_similar(table, positive, negative [, k [, method [, restrict]]])
 *       -> (token_id, token, score)
 *     positive / negative: JSON arrays of tokens (strings), token ids
 *     (integers) and raw vectors (arrays of numbers, used as given), or
 *     NULL / '[]'.  gensim 4.2's KeyedVectors.most_similar: each input row
 *     unit-normalised, mean of (+positive, -negative), re-normalised; score
 *     = cosine with every row; the input rows are excluded; k best rows
 *     (default 10), best first, equal scores by smaller token_id.  method
 *     '3cosadd' (default) or '3cosmul' (most_similar_cosmul: prod((1 +
 *     cos_p) / 2) / (prod((1 + cos_n) / 2) + 1e-6)).  restrict: only the
 *     first N rows by token id are candidates (gensim's restrict_vocab).
 *   emb_similar_by_vector(table, vector [, k [, restrict]]) -> (token_id, token, score)
 *     similar_by_vector: cosine with the vector, nothing excluded.
 *   emb_analogy(table, a, b, c [, k]) -> (token_id, token, score)
 *     "a is to b as c is to ?": positive [b, c], negative [a]; each a token
 *     (text) or a token id (integer).
 *   emb_logits(table, hidden [, k [, temperature]]) -> (token_id, token, logit, prob)
 *     the tied-embedding LM head: logit = dot(hidden, row) for every row;
 *     prob = softmax(logit / temperature) over the whole vocabulary (max
 *     subtracted, sum in double); the k rows (default 10) with the highest
 *     logits, descending, ties by token_id.  temperature default 1, > 0.
 *   emb_eval_analogies(table, path [, restrict [, case_insensitive [, dummy4unknown]]])
 *       -> (section, correct, total)
 *     gensim's evaluate_word_analogies on a questions-words.txt file: one row
 *     per ": section" in file order, then 'Total accuracy'.  Only the first
 *     `restrict` rows (default 300000) are the vocabulary and the candidates;
 *     with case_insensitive (default 1) words compare upper-cased as
 *     Python's str.upper() (src/lm/unicase.c), the first row of an
 *     upper-cased form wins; questions with an unknown word are skipped (not
 *     counted in total), or counted wrong with dummy4unknown = 1; the answer
 *     is the first of the top 5 not among the 3 inputs.
 *   emb_eval_pairs(table, path [, restrict [, case_insensitive [, dummy4unknown]]])
 *       -> (pearson, spearman, oov_ratio)
 *     gensim's evaluate_word_pairs on a WordSim-353 / SimLex-999 file
 *     (word1 TAB word2 TAB score, '#' comments): Pearson and Spearman
 *     (average ranks) of human scores vs cosine; oov_ratio is the percentage
 *     of pairs with an unknown word (skipped, or scored 0 with dummy4unknown).
 *   The two evaluations read files: SQLITE_VTAB_DIRECTONLY (not usable from
 *   triggers or views of the schema).
 * Errors (exact text), e.g.:
 *   emb_most_similar: unknown token 'xyz' in table wte
 *   emb_most_similar: unknown token_id 99999 in table wte
 *   emb_most_similar: no such embedding table: nope
 *   emb_most_similar: positive must be a JSON array of tokens, token ids or vectors (found 'king')
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
#include "lm/logits.h"
#include "lm/wordeval.h"
#include "tvf_table.h"

#include <math.h>
#include <string.h>

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

/* Run the core's most_similar and emit rows; maps core errors to messages. */
static int runSimilar(TvfTable *t, TvfCursor *cur, const emb_term *pos, int nPos,
                      const emb_term *neg, int nNeg, int method, sqlite3_int64 k,
                      sqlite3_int64 restrict_vocab)
{
    const char *zFunc = t->p->spec->zName;
    const emb_matrix *m = t->m;
    if (method == EMB_SIM_3COSADD && nPos + nNeg == 0)
        return embTvfError(t->p, "%s: no input tokens (positive and negative are both empty)",
                           zFunc);
    if (method == EMB_SIM_3COSMUL && nPos == 0)
        return embTvfError(t->p, "%s: 3cosmul needs at least one positive token", zFunc);
    size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows;
    size_t end = restrict_vocab > 0 ? emb_restrict_end(m, (size_t)restrict_vocab) : m->n_rows;
    emb_scored *out = sqlite3_malloc64((kk ? kk : 1) * sizeof *out);
    if (!out)
        return SQLITE_NOMEM;
    size_t n = 0;
    emb_err err;
    int rc = emb_most_similar_terms(emb_kernels_get(), m, pos, (size_t)nPos, neg, (size_t)nNeg,
                                    method, end, kk, out, &n, &err);
    if (rc != EMB_OK)
        rc = embTvfCoreError(t->p, rc, &err);
    else
        rc = embTvfEmitScored(cur, t, out, n, NULL);
    sqlite3_free(out);
    return rc;
}

static int computeMostSimilar(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName;
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
    TvfTable t;
    rc = embTvfTableOpen(p, args[0], &t);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&t, 0, args[1], "positive", TVF_TERMS_VECTORS);
    if (rc == SQLITE_OK)
        rc = embTvfTableTerms(&t, 1, args[2], "negative", TVF_TERMS_VECTORS);
    if (rc == SQLITE_OK)
        rc = runSimilar(&t, cur, t.terms[0].t, t.terms[0].n, t.terms[1].t, t.terms[1].n, method,
                        k, restrict_vocab);
    embTvfTableClose(&t);
    return rc;
}

static int computeSimilarByVector(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    sqlite3_int64 k, restrict_vocab;
    int rc = embTvfArgInt(p, args[2], "k", 0, 10, &k);
    if (rc == SQLITE_OK)
        rc = embTvfArgInt(p, args[3], "restrict", 1, 0, &restrict_vocab);
    if (rc != SQLITE_OK)
        return rc;
    TvfTable t;
    EmbVec v;
    if ((rc = embTvfTableOpen(p, args[0], &t)) == SQLITE_OK &&
        (rc = embTvfTableVec(&t, args[1], "vector", &v)) == SQLITE_OK) {
        emb_term term = {-1, v.v};
        rc = runSimilar(&t, cur, &term, 1, NULL, 0, EMB_SIM_3COSADD, k, restrict_vocab);
        embVecFree(&v);
    }
    embTvfTableClose(&t);
    return rc;
}

static int computeAnalogy(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    static const char *const names[3] = {"a", "b", "c"};
    sqlite3_int64 k;
    int rc = embTvfArgInt(p, args[4], "k", 0, 10, &k);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < 3; i++) { /* types first: before the table is opened */
        int type = args[i + 1] ? sqlite3_value_type(args[i + 1]) : SQLITE_NULL;
        if (type != SQLITE_TEXT && type != SQLITE_INTEGER)
            return embTvfError(p,
                               "%s: %s must be a token (text) or a token id (integer) (found %s)",
                               p->spec->zName, names[i], embTypeName(type));
    }
    TvfTable t;
    int64_t ids[3];
    rc = embTvfTableOpen(p, args[0], &t);
    for (int i = 0; i < 3 && rc == SQLITE_OK; i++)
        rc = embTvfTableTerm(&t, args[i + 1], names[i], &ids[i]);
    if (rc == SQLITE_OK) {
        emb_term pos[2] = {{ids[1], NULL}, {ids[2], NULL}}, neg = {ids[0], NULL};
        rc = runSimilar(&t, cur, pos, 2, &neg, 1, EMB_SIM_3COSADD, k, 0);
    }
    embTvfTableClose(&t);
    return rc;
}

static int computeLogits(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    const char *zFunc = p->spec->zName;
    sqlite3_int64 k;
    double temp = 1.0;
    int rc = embTvfArgInt(p, args[2], "k", 0, 10, &k);
    if (rc != SQLITE_OK)
        return rc;
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        int type = sqlite3_value_numeric_type(args[3]);
        if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
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
    TvfTable t;
    if ((rc = embTvfTableOpen(p, args[0], &t)) == SQLITE_OK && (size_t)h.dim != t.m->dim) {
        rc = embTvfError(p, "%s: hidden has %d values; table %s has dim %lld%s", zFunc, h.dim,
                         t.zTable, (long long)t.m->dim, embFloat64Hint(args[1], (int)t.m->dim));
    } else if (rc == SQLITE_OK) {
        const emb_matrix *m = t.m;
        size_t kk = (size_t)k < m->n_rows ? (size_t)k : m->n_rows, n = 0;
        emb_scored *out = sqlite3_malloc64((kk ? kk : 1) * sizeof *out);
        double *prob = sqlite3_malloc64((kk ? kk : 1) * sizeof *prob);
        emb_err err;
        if (!out || !prob)
            rc = SQLITE_NOMEM;
        /* prob (column 3) not read: no softmax, so the top k can come from
         * the int8 sketch (lm/logits.h) */
        else if ((rc = emb_logits_topk(emb_kernels_get(), m, h.v, kk, temp, out,
                                       (cur->unusedOut & 8) ? NULL : prob, &n, &err)) !=
                 EMB_OK)
            rc = embTvfCoreError(p, rc, &err);
        else
            rc = embTvfEmitScored(cur, &t, out, n, (cur->unusedOut & 8) ? NULL : prob);
        sqlite3_free(out);
        sqlite3_free(prob);
    }
    embVecFree(&h);
    embTvfTableClose(&t);
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
    *flags = rc == SQLITE_OK ? (ci ? 0 : EMB_EVAL_CASE_SENSITIVE) |
                                   (dummy ? EMB_EVAL_DUMMY4UNKNOWN : 0)
                             : 0;
    return rc;
}

/* The evaluations' prologue: options, the table, then the file (so a bad
 * table is reported before a missing file). */
static int evalBegin(TvfVtab *p, sqlite3_value **args, TvfTable *t, sqlite3_int64 *restrict_vocab,
                     int *flags, char **text, size_t *n)
{
    *text = NULL;
    memset(t, 0, sizeof *t);
    int rc = evalOptions(p, args + 2, restrict_vocab, flags);
    if (rc == SQLITE_OK)
        rc = embTvfTableOpen(p, args[0], t);
    if (rc == SQLITE_OK)
        rc = embTvfReadFile(p, args[1], text, n);
    return rc;
}

static int computeEvalAnalogies(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    sqlite3_int64 restrict_vocab;
    int flags;
    char *text;
    size_t n;
    int rc = evalBegin(p, args, &t, &restrict_vocab, &flags, &text, &n);
    if (rc == SQLITE_OK) {
        emb_tokens tk = {t.ref, tokIdOf, tokOf};
        emb_analogy_eval ev;
        emb_err err;
        rc = emb_eval_analogies_ex(emb_kernels_get(), t.m, &tk, text, n, (size_t)restrict_vocab,
                                   flags, &ev, &err);
        if (rc != EMB_OK) { /* the core's "eval_analogies: " is this function's name */
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
    }
    embTvfTableClose(&t);
    sqlite3_free(text);
    return rc;
}

static int computeEvalPairs(TvfVtab *p, TvfCursor *cur, sqlite3_value **args)
{
    TvfTable t;
    sqlite3_int64 restrict_vocab;
    int flags;
    char *text;
    size_t n;
    int rc = evalBegin(p, args, &t, &restrict_vocab, &flags, &text, &n);
    if (rc == SQLITE_OK) {
        emb_tokens tk = {t.ref, tokIdOf, tokOf};
        emb_pairs_eval pe;
        emb_err err;
        rc = emb_eval_pairs_ex(emb_kernels_get(), t.m, &tk, text, n, (size_t)restrict_vocab, flags,
                               &pe, &err);
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
    }
    embTvfTableClose(&t);
    sqlite3_free(text);
    return rc;
}

static const char *const argsSimilar[] = {"table", "positive", "negative", "k", "method", "restrict"};
static const char *const argsByVector[] = {"table", "vector", "k", "restrict"};
static const char *const argsAnalogy[] = {"table", "a", "b", "c", "k"};
static const char *const argsLogits[] = {"table", "hidden", "k", "temperature"};
static const char *const argsEval[] = {"table", "path", "restrict", "case_insensitive",
                                       "dummy4unknown"};

static const TvfSpec specs[] = {
    {.zName = "emb_most_similar",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN,"
                " positive HIDDEN, negative HIDDEN, k HIDDEN, method HIDDEN, \"restrict\" HIDDEN)",
     .nOut = 3, .nArg = 6, .nRequired = 1, .azArg = argsSimilar, .xCompute = computeMostSimilar},
    {.zName = "emb_similar_by_vector",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN,"
                " vector HIDDEN, k HIDDEN, \"restrict\" HIDDEN)",
     .nOut = 3, .nArg = 4, .nRequired = 2, .azArg = argsByVector,
     .xCompute = computeSimilarByVector},
    {.zName = "emb_analogy",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, score REAL, \"table\" HIDDEN,"
                " a HIDDEN, b HIDDEN, c HIDDEN, k HIDDEN)",
     .nOut = 3, .nArg = 5, .nRequired = 4, .azArg = argsAnalogy, .xCompute = computeAnalogy},
    {.zName = "emb_logits",
     .zSchema = "CREATE TABLE x(token_id INTEGER, token TEXT, logit REAL, prob REAL,"
                " \"table\" HIDDEN, hidden HIDDEN, k HIDDEN, temperature HIDDEN)",
     .nOut = 4, .nArg = 4, .nRequired = 2, .azArg = argsLogits, .xCompute = computeLogits},
    {.zName = "emb_eval_analogies",
     .zSchema = "CREATE TABLE x(section TEXT, correct INTEGER, total INTEGER, \"table\" HIDDEN,"
                " path HIDDEN, \"restrict\" HIDDEN, case_insensitive HIDDEN, dummy4unknown HIDDEN)",
     .nOut = 3, .nArg = 5, .nRequired = 2, .fileIo = 1, .azArg = argsEval,
     .xCompute = computeEvalAnalogies},
    {.zName = "emb_eval_pairs",
     .zSchema = "CREATE TABLE x(pearson REAL, spearman REAL, oov_ratio REAL, \"table\" HIDDEN,"
                " path HIDDEN, \"restrict\" HIDDEN, case_insensitive HIDDEN, dummy4unknown HIDDEN)",
     .nOut = 3, .nArg = 5, .nRequired = 2, .fileIo = 1, .azArg = argsEval,
     .xCompute = computeEvalPairs},
};

int embRegisterSemantics(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, specs, (int)(sizeof specs / sizeof specs[0]));
}
