/*
 * test_semantics.c - the gensim-compatible core (src/analogy.c, src/wordeval.c,
 * src/best.c) on synthetic matrices and on GloVe 6B 50d (first 10k words),
 * checked against gensim 4.2's numbers in gensim_ref.h (generated from
 * tests/ref/gensim_ref.json by tests/ref/gen_semantics_tests.py).
 *
 * GloVe is read by a small test-only loader (not the product's reader) from
 * $EMB_DATA/glove.6B.50d.10k.txt; token ids are 0-based line numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analogy.h"
#include "best.h"
#include "gensim_ref.h"
#include "vocab.h"
#include "wordeval.h"

/* ---- a tiny token table for tests ------------------------------------- */

typedef struct toks {
    char **tok; /* per row, NULL = no token */
    size_t n;
    emb_vocab *map;
} toks;

static int64_t toks_id(void *ctx, const char *s, size_t n)
{
    return emb_vocab_get(((toks *)ctx)->map, s, n);
}

static const char *toks_tok(void *ctx, int64_t id, size_t *n)
{
    toks *t = ctx;
    if (id < 0 || (size_t)id >= t->n || !t->tok[id])
        return NULL;
    *n = strlen(t->tok[id]);
    return t->tok[id];
}

static void toks_init(toks *t, const char *const *words, size_t n)
{
    t->n = n;
    t->tok = calloc(n, sizeof *t->tok);
    t->map = emb_vocab_new(n);
    assert_non_null(t->tok);
    assert_non_null(t->map);
    for (size_t i = 0; i < n; i++) {
        if (!words[i])
            continue;
        t->tok[i] = strdup(words[i]);
        assert_int_equal(emb_vocab_put(t->map, words[i], strlen(words[i]), (int64_t)i), 0);
    }
}

static void toks_free(toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->tok[i]);
    free(t->tok);
    emb_vocab_free(t->map);
}

static emb_tokens as_tokens(toks *t)
{
    emb_tokens e = {t, toks_id, toks_tok};
    return e;
}

/* ---- GloVe loader (test only) ----------------------------------------- */

typedef struct glove {
    emb_matrix m;
    float *data, *norms;
    toks t;
} glove;

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[len] = 0;
        *n = (size_t)len;
    }
    return s;
}

static char *data_file(const char *name, size_t *n)
{
    const char *dir = getenv("EMB_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/data", name);
    char *s = slurp(path, n);
    if (!s)
        print_error("cannot read %s (set EMB_DATA)\n", path);
    return s;
}

static glove *G;

static int glove_setup(void **state)
{
    (void)state;
    size_t n;
    char *text = data_file("glove.6B.50d.10k.txt", &n);
    if (!text)
        return -1;
    glove *g = calloc(1, sizeof *g);
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += text[i] == '\n';
    const size_t dim = 50;
    g->data = malloc(rows * dim * sizeof(float));
    g->norms = malloc(rows * sizeof(float));
    char **words = calloc(rows, sizeof *words);
    char *p = text;
    for (size_t r = 0; r < rows; r++) {
        char *sp = strchr(p, ' ');
        *sp = 0;
        words[r] = p;
        p = sp + 1;
        for (size_t d = 0; d < dim; d++)
            g->data[r * dim + d] = strtof(p, &p);
        p = strchr(p, '\n') + 1;
    }
    toks_init(&g->t, (const char *const *)words, rows);
    free(words);
    free(text);
    g->m.n_rows = rows;
    g->m.dim = dim;
    g->m.dtype = EMB_DTYPE_F32;
    g->m.data = g->data;
    emb_row_norms(emb_kernels_get(), &g->m, g->norms);
    g->m.norms = g->norms;
    G = g;
    return 0;
}

static int glove_teardown(void **state)
{
    (void)state;
    if (!G)
        return 0;
    toks_free(&G->t);
    free(G->data);
    free(G->norms);
    free(G);
    return 0;
}

/* ---- GloVe vs gensim --------------------------------------------------- */

static int64_t term_id(const ref_term *t)
{
    if (!t->word)
        return t->id;
    int64_t id = emb_vocab_get(G->t.map, t->word, strlen(t->word));
    assert_true(id >= 0);
    return id;
}

static void test_semantics_most_similar_gensim(void **state)
{
    (void)state;
    const emb_kernels *kern = emb_kernels_get();
    for (size_t i = 0; i < sizeof ref_queries / sizeof ref_queries[0]; i++) {
        const ref_query *q = &ref_queries[i];
        int64_t pos[4], neg[4];
        for (int j = 0; j < q->n_pos; j++)
            pos[j] = term_id(&q->pos[j]);
        for (int j = 0; j < q->n_neg; j++)
            neg[j] = term_id(&q->neg[j]);
        emb_scored out[10];
        size_t n_out = 99;
        emb_err err;
        int rc = emb_most_similar(kern, &G->m, pos, (size_t)q->n_pos, neg, (size_t)q->n_neg,
                                  q->cosmul ? EMB_SIM_3COSMUL : EMB_SIM_3COSADD, (size_t)q->k,
                                  out, &n_out, &err);
        assert_int_equal(rc, EMB_OK);
        assert_int_equal(n_out, q->n_res);
        for (size_t j = 0; j < n_out; j++) {
            size_t tn;
            const char *w = toks_tok(&G->t, out[j].id, &tn);
            if (strcmp(w, q->res[j].word) != 0)
                fail_msg("query %zu rank %zu: %s vs gensim %s", i, j, w, q->res[j].word);
            double e = fabs(out[j].score - q->res[j].score);
            if (!(e <= 1e-5))
                fail_msg("query %zu %s: %.7f vs gensim %.7f", i, w, out[j].score,
                         q->res[j].score);
        }
    }
}

static void test_semantics_eval_analogies_gensim(void **state)
{
    (void)state;
    size_t n;
    char *text = data_file("questions-words.txt", &n);
    assert_non_null(text);
    emb_tokens tk = as_tokens(&G->t);
    emb_analogy_eval ev;
    emb_err err;
    assert_int_equal(emb_eval_analogies(emb_kernels_get(), &G->m, &tk, text, n, 300000, &ev, &err),
                     EMB_OK);
    size_t n_ref = sizeof ref_sections / sizeof ref_sections[0];
    assert_int_equal(ev.n_sections, n_ref);
    for (size_t i = 0; i < n_ref; i++) {
        assert_string_equal(ev.sections[i].name, ref_sections[i].name);
        if (ev.sections[i].correct != (size_t)ref_sections[i].correct ||
            ev.sections[i].total != (size_t)ref_sections[i].total)
            fail_msg("%s: %zu/%zu vs gensim %d/%d", ref_sections[i].name, ev.sections[i].correct,
                     ev.sections[i].total, ref_sections[i].correct, ref_sections[i].total);
    }
    assert_string_equal(ev.sections[n_ref - 1].name, "Total accuracy");
    assert_int_equal(ev.sections[n_ref - 1].correct, 3958);
    assert_int_equal(ev.sections[n_ref - 1].total, 6762);
    assert_int_equal(ev.n_questions, 19544);
    assert_int_equal(ev.n_questions - ev.n_oov, 6762);
    emb_analogy_eval_free(&ev);
    free(text);
}

static void test_semantics_eval_pairs_gensim(void **state)
{
    (void)state;
    emb_tokens tk = as_tokens(&G->t);
    for (size_t i = 0; i < sizeof ref_pair_evals / sizeof ref_pair_evals[0]; i++) {
        size_t n;
        char *text = data_file(ref_pair_evals[i].file, &n);
        assert_non_null(text);
        emb_pairs_eval pe;
        emb_err err;
        assert_int_equal(
            emb_eval_pairs(emb_kernels_get(), &G->m, &tk, text, n, 300000, &pe, &err), EMB_OK);
        if (!(fabs(pe.pearson - ref_pair_evals[i].pearson) <= 1e-6) ||
            !(fabs(pe.spearman - ref_pair_evals[i].spearman) <= 1e-6) ||
            !(fabs(pe.oov_ratio - ref_pair_evals[i].oov_ratio) <= 1e-9))
            fail_msg("%s: %.8f %.8f %.6f vs gensim %.8f %.8f %.6f", ref_pair_evals[i].file,
                     pe.pearson, pe.spearman, pe.oov_ratio, ref_pair_evals[i].pearson,
                     ref_pair_evals[i].spearman, ref_pair_evals[i].oov_ratio);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest glove_tests[] = {
        cmocka_unit_test(test_semantics_most_similar_gensim),
        cmocka_unit_test(test_semantics_eval_analogies_gensim),
        cmocka_unit_test(test_semantics_eval_pairs_gensim),
    };
    return cmocka_run_group_tests(glove_tests, glove_setup, glove_teardown);
}
