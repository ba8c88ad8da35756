/*
 * wordeval.h - the standard word-vector evaluations with gensim 4.2's exact
 * rules: evaluate_word_analogies (Google analogy questions) and
 * evaluate_word_pairs (WordSim-353 / SimLex-999), over an emb_matrix and
 * its token map (analogy.h).  Inputs are the file's bytes; the caller reads
 * the file.  Upper-casing is Python's str.upper() (lm/unicase.h); lines
 * end in LF, CRLF or a lone CR.
 */
#ifndef EMB_WORDEVAL_H
#define EMB_WORDEVAL_H

#include "lm/analogy.h"

/* evaluate_word_analogies on the text of a questions-words.txt style file:
 * ": section" lines start sections, other lines hold 4 words "a b c d"
 * ("a is to b as c is to d"; lines without exactly 4 words are skipped).
 * Rules (gensim 4.2, case_insensitive=True, dummy4unknown=False):
 *   - the vocabulary is the first `restrict_vocab` present rows; words are
 *     compared upper-cased (str.upper()), and an upper-cased form names the FIRST
 *     (lowest id) row that has it;
 *   - a question with a word outside that vocabulary is skipped (n_oov);
 *   - the prediction is the first of most_similar(positive [b, c],
 *     negative [a], topn=5) over those rows whose upper-cased token is not
 *     a, b or c (or the 5th if all are); correct if it equals d.
 * sections[] holds one entry per section in file order (also empty ones),
 * then a last entry "Total accuracy" with the sums. */
typedef struct emb_section_score {
    char *name; /* malloc'd, NUL-terminated */
    size_t correct;
    size_t total;
} emb_section_score;

typedef struct emb_analogy_eval {
    emb_section_score *sections;
    size_t n_sections;  /* including the total row */
    size_t n_questions; /* well-formed question lines */
    size_t n_oov;       /* of those, skipped for unknown words */
} emb_analogy_eval;

int emb_eval_analogies(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                       const char *text, size_t n_text, size_t restrict_vocab,
                       emb_analogy_eval *out, emb_err *err);
void emb_analogy_eval_free(emb_analogy_eval *ev);

/* gensim's other options, as flags of the *_ex forms:
 *   EMB_EVAL_CASE_SENSITIVE: case_insensitive=False (tokens compare exactly);
 *   EMB_EVAL_DUMMY4UNKNOWN: dummy4unknown=True - an analogy question with an
 *     unknown word counts as incorrect (in total); a pair with an unknown
 *     word scores 0 and is used, and oov_ratio = 100 * n_oov / n_pairs. */
enum { EMB_EVAL_CASE_SENSITIVE = 1, EMB_EVAL_DUMMY4UNKNOWN = 2 };
int emb_eval_analogies_ex(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                          const char *text, size_t n_text, size_t restrict_vocab, int flags,
                          emb_analogy_eval *out, emb_err *err);

/* evaluate_word_pairs on the text of a WordSim-353 style file: lines
 * "word1<TAB>word2<TAB>score"; lines starting with '#' and lines that do not
 * have exactly three tab-separated fields with a numeric third are skipped.
 * Vocabulary and upper-casing as above (restrict_vocab first present rows).
 * A pair with a word outside the vocabulary is skipped and counted in
 * n_oov (dummy4unknown=False).  The model similarity is the cosine of the
 * two rows.  pearson / spearman (average ranks for ties) compare the
 * human scores with the model's; oov_ratio = 100 * n_oov / (n_pairs + n_oov)
 * (a percentage, as gensim reports it).  No usable pair: EMB_EINVAL. */
typedef struct emb_pairs_eval {
    double pearson;
    double spearman;
    double oov_ratio;
    size_t n_pairs; /* pairs used */
    size_t n_oov;
} emb_pairs_eval;

int emb_eval_pairs(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                   const char *text, size_t n_text, size_t restrict_vocab, emb_pairs_eval *out,
                   emb_err *err);
int emb_eval_pairs_ex(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                      const char *text, size_t n_text, size_t restrict_vocab, int flags,
                      emb_pairs_eval *out, emb_err *err);

/* Pearson correlation of x and y (n values, computed in double as
 * scipy.stats.pearsonr: centred, each normalised, dot, clipped to [-1, 1]);
 * NaN when n < 2 or either side is constant. */
double emb_pearson(const double *x, const double *y, size_t n);
/* Spearman rank correlation: Pearson of the average ranks (ties share the
 * mean of their positions, as scipy.stats.rankdata(method='average')),
 * into *out (NaN when n < 2 or a side is constant).  EMB_OK or EMB_ENOMEM
 * (*out untouched). */
int emb_spearman(const double *x, const double *y, size_t n, double *out);

#endif
