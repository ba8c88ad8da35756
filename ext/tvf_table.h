/*
 * tvf_table.h - what the table-valued functions over an `embedding` table
 * share (ext/tvf_table.c): the one prologue every such function starts
 * with (open the table named by the first argument, parse its JSON term
 * lists), the one epilogue (free the lists, close the table), and the
 * (token_id, token, score) row writer.
 *
 * Used by tvf_semantics.c (most_similar, analogy, logits, evaluations),
 * tvf_keyed.c (the other gensim KeyedVectors calls), tvf_torch.c (emb_bag,
 * emb_embedding) and tvf_pca.c:
 *
 *     TvfTable t;
 *     int rc = embTvfTableOpen(p, args[0], &t);          // t zeroed first
 *     if (rc == SQLITE_OK)
 *         rc = embTvfTableTerms(&t, 0, args[1], "positive", TVF_TERMS_VECTORS);
 *     if (rc == SQLITE_OK)
 *         ... t.m, t.terms[0].t / .ids / .n ...
 *     embTvfTableClose(&t);                              // always; frees the lists
 *
 * Errors are set on the TvfVtab (embTvfError) and name the function:
 *   "<fn>: table must be text (found null)", "<fn>: no such embedding table: x",
 *   "<fn>: unknown token 'xyz' in table glove", "<fn>: unknown token_id 99 in table glove",
 *   "<fn>: positive must be a JSON array of tokens, token ids or vectors (found 'king')",
 *   "<fn>: positive[0] has 3 values; table glove has dim 50".
 */
#ifndef EMB_TVF_TABLE_H
#define EMB_TVF_TABLE_H

#include "embtab.h"
#include "lm/analogy.h"
#include "tvf.h"
#include "value.h"

enum {
    TVF_TERMS_VECTORS = 1,     /* a nested array is a raw vector of the table's dim */
    TVF_TERMS_SKIP_UNKNOWN = 2 /* unknown tokens are dropped (gensim's ignore_missing) */
};

/* A parsed JSON array of terms: t[i].id the row (-1 for a raw vector, whose
 * values are t[i].vec), ids[i] = t[i].id.  All sqlite3_malloc'd. */
typedef struct TvfTerms {
    emb_term *t;
    int64_t *ids;
    int n;
} TvfTerms;

/* An open table and the term lists parsed against it. */
typedef struct TvfTable {
    TvfVtab *p;          /* the error sink; p->spec->zName names the function */
    EmbTableRef *ref;    /* NULL until opened */
    const char *zTable;  /* the name as given (borrowed from the argument) */
    const emb_matrix *m; /* the table's matrix, norms filled */
    TvfTerms terms[2];   /* filled by embTvfTableTerms, freed by embTvfTableClose */
} TvfTable;

/* Zero t, then open the table named by text argument arg. */
int embTvfTableOpen(TvfVtab *p, sqlite3_value *arg, TvfTable *t);
/* Free the term lists and close the table (fine on a zeroed or failed t). */
void embTvfTableClose(TvfTable *t);

/* Parse the JSON array arg (NULL or SQL NULL: no terms) of tokens
 * (strings), token ids (integers) and, with TVF_TERMS_VECTORS, raw vectors
 * (arrays of numbers) into t->terms[slot]; zWhat names it in messages. */
int embTvfTableTerms(TvfTable *t, int slot, sqlite3_value *arg, const char *zWhat, int flags);
/* One token (text) or token id (integer) argument resolved to a row. */
int embTvfTableTerm(TvfTable *t, sqlite3_value *arg, const char *zWhat, int64_t *out);
/* A vector argument of the table's dim ("<fn>: <what> has N values; table
 * T has dim D", with the float64 hint); *v freed by embVecFree. */
int embTvfTableVec(TvfTable *t, sqlite3_value *arg, const char *zWhat, EmbVec *v);

/* Append (token_id, token, score [, extra]) rows for s[0..n); extra may be
 * NULL (a 4th double column otherwise). */
int embTvfEmitScored(TvfCursor *cur, const TvfTable *t, const emb_scored *s, size_t n,
                     const double *extra);
/* A core status as this function's error: "<fn>: <core message>". */
int embTvfCoreError(TvfVtab *p, int status, const emb_err *err);

#endif
