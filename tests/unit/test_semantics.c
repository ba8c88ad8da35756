/*
 * test_semantics.c - the gensim-compatible core (src/lm/analogy.c, src/lm/wordeval.c,
 * src/search/best.c) on synthetic matrices and on GloVe 6B 50d (first 10k words),
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

#include "lm/analogy.h"
#include "search/best.h"
#include "gensim_ref.h"
#include "search/multiscan.h"
#include "lm/vocab.h"
#include "lm/wordeval.h"

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
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "tests/data", name);
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
                                  q->cosmul ? EMB_SIM_3COSMUL : EMB_SIM_3COSADD, (size_t)q->k, out,
                                  &n_out, &err);
        assert_int_equal(rc, EMB_OK);
        assert_int_equal(n_out, q->n_res);
        for (size_t j = 0; j < n_out; j++) {
            size_t tn;
            const char *w = toks_tok(&G->t, out[j].id, &tn);
            if (strcmp(w, q->res[j].word) != 0)
                fail_msg("query %zu rank %zu: %s vs gensim %s", i, j, w, q->res[j].word);
            double e = fabs(out[j].score - q->res[j].score);
            if (!(e <= 1e-5))
                fail_msg("query %zu %s: %.7f vs gensim %.7f", i, w, out[j].score, q->res[j].score);
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
        assert_int_equal(emb_eval_pairs(emb_kernels_get(), &G->m, &tk, text, n, 300000, &pe, &err),
                         EMB_OK);
        if (!(fabs(pe.pearson - ref_pair_evals[i].pearson) <= 1e-6) ||
            !(fabs(pe.spearman - ref_pair_evals[i].spearman) <= 1e-6) ||
            !(fabs(pe.oov_ratio - ref_pair_evals[i].oov_ratio) <= 1e-9))
            fail_msg("%s: %.8f %.8f %.6f vs gensim %.8f %.8f %.6f", ref_pair_evals[i].file,
                     pe.pearson, pe.spearman, pe.oov_ratio, ref_pair_evals[i].pearson,
                     ref_pair_evals[i].spearman, ref_pair_evals[i].oov_ratio);
        free(text);
    }
}

/* ---- synthetic matrices ------------------------------------------------- */

static void test_semantics_best_order(void **state)
{
    (void)state;
    emb_scored st[3];
    emb_best b;
    emb_best_init(&b, st, 3);
    const float sc[] = {0.5f, 0.9f, NAN, 0.1f, 0.9f, 0.7f, 0.5f};
    for (int i = 0; i < 7; i++)
        emb_best_push(&b, i, sc[i]);
    emb_best_sort(&b);
    assert_int_equal(b.n, 3);
    assert_int_equal(st[0].id, 1); /* 0.9, smaller id first */
    assert_int_equal(st[1].id, 4);
    assert_int_equal(st[2].id, 5);
    emb_best_init(&b, st, 0);
    emb_best_push(&b, 1, 1.0f);
    assert_int_equal(b.n, 0);
}

static void test_semantics_correlations(void **state)
{
    (void)state;
    /* scipy.stats 1.10: pearsonr / spearmanr */
    const double x[] = {1, 2, 3, 4, 5}, y[] = {5, 6, 7, 8, 7};
    assert_true(fabs(emb_pearson(x, y, 5) - 0.8320502943378436) < 1e-12);
    double rho = 0;
    assert_int_equal(emb_spearman(x, y, 5, &rho), EMB_OK);
    assert_true(fabs(rho - 0.8207826816681233) < 1e-12);
    const double u[] = {1, 2, 2, 3, 5, 5, 5}, v[] = {3, 1, 4, 1, 5, 9, 2};
    assert_int_equal(emb_spearman(u, v, 7, &rho), EMB_OK);
    assert_true(fabs(rho - 0.3870681424252975) < 1e-12);
    assert_true(fabs(emb_pearson(u, v, 7) - 0.48052787471930486) < 1e-12);
    assert_true(isnan(emb_pearson(x, y, 1)));
    const double c[] = {2, 2, 2, 2, 2};
    assert_true(isnan(emb_pearson(x, c, 5)));
}

/* multiscan: every row count / dim shape against a double reference, for
 * the generic build and (when the CPU has it) the AVX2 build */
static void test_semantics_multiscan_reference(void **state)
{
    (void)state;
    const size_t rows[] = {1, 15, 16, 17, 1023, 1024, 1025, 2100};
    const size_t dims[] = {1, 3, 50, 64};
    emb_kernels k = emb_kernels_serial;
    const char *names[] = {"serial", "avx2"};
    unsigned seed = 7;
    for (int ni = 0; ni < 2; ni++) {
        if (ni == 1 && !__builtin_cpu_supports("avx2"))
            continue;
        k.name = names[ni];
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
            for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
                size_t n = rows[ri], dim = dims[di];
                float *m = malloc(n * dim * sizeof *m), *q = malloc(4 * dim * sizeof *q);
                float *out = malloc(4 * (EMB_MS_CHUNK + 16) * sizeof *out);
                for (size_t i = 0; i < n * dim; i++)
                    m[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / 16777216.0f - 0.5f;
                for (size_t i = 0; i < 4 * dim; i++)
                    q[i] = (float)((seed = seed * 1103515245u + 12345u) >> 8) / 16777216.0f - 0.5f;
                emb_packed pk;
                assert_int_equal(emb_packed_init(&pk, n, dim), EMB_OK);
                for (size_t r = 0; r < n; r++)
                    emb_packed_set_row(&pk, r, m + r * dim);
                for (size_t c = 0; c * EMB_MS_CHUNK < n; c++) {
                    size_t cn = emb_packed_chunk_rows(&pk, c),
                           stride = emb_packed_chunk_stride(&pk, c);
                    assert_true(stride >= cn && stride % 16 == 0);
                    emb_packed_scan4(&k, &pk, c, q, out);
                    for (size_t i = 0; i < 4; i++)
                        for (size_t j = 0; j < cn; j++) {
                            double ref = 0, mag = 0;
                            const float *row = m + (c * EMB_MS_CHUNK + j) * dim;
                            for (size_t d = 0; d < dim; d++) {
                                ref += (double)q[i * dim + d] * row[d];
                                mag += fabs((double)q[i * dim + d] * row[d]);
                            }
                            double err = fabs(out[i * stride + j] - ref);
                            if (!(err <= 1e-6 * mag + 1e-30))
                                fail_msg("%s n=%zu dim=%zu q%zu row %zu: %g vs %g", names[ni], n,
                                         dim, i, c * EMB_MS_CHUNK + j, out[i * stride + j], ref);
                        }
                }
                emb_packed_free(&pk);
                free(m);
                free(q);
                free(out);
            }
        }
    }
}

/* a small 2-d matrix: a, b, c, B (case variant of b), d, e, King, king */
static const char *const small_words[] = {"a", "b", "c", "B", "d", "e", "King", "king", NULL, "z"};
static float small_data[10][2];
static uint8_t small_valid[10] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1};

static emb_matrix small_matrix(void)
{
    const double deg[10] = {0, 90, 45, 99, 120, 200, 30, 300, 0, 260};
    const double len[10] = {1, 2, 1, 3, 1, 1, 1, 1, 0, 0};
    for (int i = 0; i < 10; i++) {
        small_data[i][0] = (float)(len[i] * cos(deg[i] * M_PI / 180));
        small_data[i][1] = (float)(len[i] * sin(deg[i] * M_PI / 180));
    }
    emb_matrix m = {10, 2, EMB_DTYPE_F32, small_data, NULL, small_valid, NULL, NULL};
    return m;
}

static void test_semantics_most_similar_small(void **state)
{
    (void)state;
    emb_matrix m = small_matrix();
    const emb_kernels *kern = emb_kernels_get();
    emb_scored out[10];
    size_t n;
    emb_err err;
    /* query = unit(b) + unit(c) - unit(a), direction ~99.7 deg: B (99) first */
    int64_t pos[2] = {1, 2}, neg[1] = {0};
    assert_int_equal(emb_most_similar(kern, &m, pos, 2, neg, 1, EMB_SIM_3COSADD, 10, out, &n, &err),
                     EMB_OK);
    assert_int_equal(n, 6); /* 10 slots - 1 absent - 3 inputs */
    assert_int_equal(out[0].id, 3);
    assert_int_equal(out[1].id, 4);
    double qa = atan2(1 + sin(M_PI / 4), cos(M_PI / 4) - 1);
    assert_true(fabs(out[0].score - cos(qa - 99 * M_PI / 180)) < 1e-6);
    /* the zero row (z, id 9) scores 0 */
    for (size_t i = 0; i < n; i++)
        if (out[i].id == 9)
            assert_true(out[i].score == 0.0f);
    /* k smaller than the candidates; k = 0 */
    assert_int_equal(emb_most_similar(kern, &m, pos, 2, neg, 1, EMB_SIM_3COSADD, 2, out, &n, &err),
                     EMB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(emb_most_similar(kern, &m, pos, 2, neg, 1, EMB_SIM_3COSADD, 0, out, &n, &err),
                     EMB_OK);
    assert_int_equal(n, 0);
    /* 3cosmul with one positive ranks as cosine */
    int64_t one = 0;
    assert_int_equal(
        emb_most_similar(kern, &m, &one, 1, NULL, 0, EMB_SIM_3COSMUL, 3, out, &n, &err), EMB_OK);
    assert_int_equal(out[0].id, 6); /* King at 30 deg */
    assert_true(fabs(out[0].score - (1 + cos(M_PI / 6)) / 2 / (1 + 1e-6)) < 1e-6);
    assert_int_equal(out[1].id, 2);
    /* errors */
    assert_int_equal(
        emb_most_similar(kern, &m, NULL, 0, NULL, 0, EMB_SIM_3COSADD, 3, out, &n, &err),
        EMB_EINVAL);
    assert_string_equal(err.msg, "most_similar: no input (positive and negative are both empty)");
    assert_int_equal(emb_most_similar(kern, &m, NULL, 0, neg, 1, EMB_SIM_3COSMUL, 3, out, &n, &err),
                     EMB_EINVAL);
    assert_string_equal(err.msg, "most_similar: 3cosmul needs at least one positive input");
    int64_t absent = 8, big = 99;
    assert_int_equal(
        emb_most_similar(kern, &m, &absent, 1, NULL, 0, EMB_SIM_3COSADD, 3, out, &n, &err),
        EMB_ENOTFOUND);
    assert_string_equal(err.msg, "most_similar: no row with token_id 8");
    assert_int_equal(
        emb_most_similar(kern, &m, &big, 1, NULL, 0, EMB_SIM_3COSADD, 3, out, &n, &err),
        EMB_ENOTFOUND);
    assert_int_equal(emb_sim_method_parse("3cosmul"), EMB_SIM_3COSMUL);
    assert_int_equal(emb_sim_method_parse("3CosAdd"), -1);
}

/* the same query on f16, bf16 and int8 storage gives the same ranking */
static void test_semantics_most_similar_dtypes(void **state)
{
    (void)state;
    emb_matrix m = small_matrix();
    const emb_kernels *kern = emb_kernels_get();
    uint16_t h[20], bf[20];
    int8_t i8[20];
    float scales[10];
    kern->f32_to_f16(h, &small_data[0][0], 20);
    kern->f32_to_bf16(bf, &small_data[0][0], 20);
    for (int r = 0; r < 10; r++) {
        float mx = fmaxf(fabsf(small_data[r][0]), fabsf(small_data[r][1]));
        scales[r] = mx / 127;
        for (int d = 0; d < 2; d++)
            i8[r * 2 + d] = (int8_t)(mx > 0 ? lrintf(small_data[r][d] / scales[r]) : 0);
    }
    int64_t pos[2] = {1, 2}, neg[1] = {0};
    emb_scored ref[6], out[6];
    size_t n_ref, n;
    emb_err err;
    assert_int_equal(
        emb_most_similar(kern, &m, pos, 2, neg, 1, EMB_SIM_3COSADD, 6, ref, &n_ref, &err), 0);
    const void *datas[3] = {h, bf, i8};
    const int dtypes[3] = {EMB_DTYPE_F16, EMB_DTYPE_BF16, EMB_DTYPE_I8};
    for (int t = 0; t < 3; t++) {
        emb_matrix q = m;
        q.dtype = dtypes[t];
        q.data = datas[t];
        q.scales = dtypes[t] == EMB_DTYPE_I8 ? scales : NULL;
        assert_int_equal(
            emb_most_similar(kern, &q, pos, 2, neg, 1, EMB_SIM_3COSADD, 6, out, &n, &err), 0);
        assert_int_equal(n, n_ref);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(out[i].id, ref[i].id);
            assert_true(fabs(out[i].score - ref[i].score) < 2e-2);
        }
    }
}

static void small_eval(const char *text, size_t restrict_vocab, emb_analogy_eval *ev, int expect_rc,
                       const char *expect_msg)
{
    emb_matrix m = small_matrix();
    toks t;
    toks_init(&t, small_words, 10);
    emb_tokens tk = as_tokens(&t);
    emb_err err;
    int rc = emb_eval_analogies(emb_kernels_get(), &m, &tk, text, strlen(text), restrict_vocab, ev,
                                &err);
    assert_int_equal(rc, expect_rc);
    if (expect_msg)
        assert_string_equal(err.msg, expect_msg);
    toks_free(&t);
}

static void test_semantics_eval_analogies_rules(void **state)
{
    (void)state;
    emb_analogy_eval ev;
    /* B (case variant of input b) ranks first but is ignored: d is the answer.
     * Words match upper-cased; "KING" names row 6 (the first of King/king). */
    small_eval(": first\n"
               "a b c d\n"
               "A B C D\n"
               "a b c e\n"
               "too few words\n"
               "a b c zzz\n"
               "\n"
               ": empty\n"
               ":  last one  \r\n"
               "a b king d\n"
               "a b c d extra\n",
               300000, &ev, EMB_OK, NULL);
    assert_int_equal(ev.n_sections, 4);
    assert_string_equal(ev.sections[0].name, "first");
    assert_int_equal(ev.sections[0].correct, 2);
    assert_int_equal(ev.sections[0].total, 3);
    assert_string_equal(ev.sections[1].name, "empty");
    assert_int_equal(ev.sections[1].total, 0);
    assert_string_equal(ev.sections[2].name, "last one");
    assert_int_equal(ev.sections[2].total, 1);
    assert_string_equal(ev.sections[3].name, "Total accuracy");
    assert_int_equal(ev.sections[3].total, 4);
    assert_int_equal(ev.n_questions, 5);
    assert_int_equal(ev.n_oov, 1);
    emb_analogy_eval_free(&ev);
    /* restrict_vocab 3: only a, b, c are words; everything else is OOV */
    small_eval(": s\na b c d\n", 3, &ev, EMB_OK, NULL);
    assert_int_equal(ev.sections[0].total, 0);
    assert_int_equal(ev.n_oov, 1);
    emb_analogy_eval_free(&ev);
    small_eval("a b c d\n: s\n", 300000, &ev, EMB_EFORMAT,
               "eval_analogies: missing section header (': name') before line 1");
    small_eval("", 300000, &ev, EMB_OK, NULL);
    assert_int_equal(ev.n_sections, 1);
    assert_int_equal(ev.sections[0].total, 0);
    emb_analogy_eval_free(&ev);
}

static void test_semantics_eval_pairs_rules(void **state)
{
    (void)state;
    emb_matrix m = small_matrix();
    toks t;
    toks_init(&t, small_words, 10);
    emb_tokens tk = as_tokens(&t);
    emb_err err;
    emb_pairs_eval pe;
    const char *text = "# comment\ta\tb\n"
                       "a\tb\t1\n"
                       "a\tc\t 8.5 \r\n"
                       "A\tKING\t9\n"
                       "a\tzzz\t3\n"
                       "a b 4\n"
                       "a\tb\tx\n"
                       "a\tb\t1\t2\n"
                       "b\td\t2\n";
    assert_int_equal(
        emb_eval_pairs(emb_kernels_get(), &m, &tk, text, strlen(text), 300000, &pe, &err), 0);
    assert_int_equal(pe.n_pairs, 4);
    assert_int_equal(pe.n_oov, 1);
    assert_true(fabs(pe.oov_ratio - 20.0) < 1e-12);
    /* model: cos(a,b)=0, cos(a,c)=cos45, cos(a,King)=cos30, cos(b,d)=cos30 */
    double gold[4] = {1, 8.5, 9, 2}, model[4] = {0, cos(M_PI / 4), cos(M_PI / 6), cos(M_PI / 6)};
    assert_true(fabs(pe.pearson - emb_pearson(gold, model, 4)) < 1e-6);
    double rho = 0;
    assert_int_equal(emb_spearman(gold, model, 4, &rho), EMB_OK);
    assert_true(fabs(pe.spearman - rho) < 1e-12);
    const char *none = "a\tzzz\t1\n";
    assert_int_equal(
        emb_eval_pairs(emb_kernels_get(), &m, &tk, none, strlen(none), 300000, &pe, &err),
        EMB_EINVAL);
    assert_string_equal(err.msg,
                        "eval_pairs: no valid similarity judgements (1 pairs out of vocabulary)");
    toks_free(&t);
}

int main(void)
{
    /* one group (tests/run.sh counts one summary line per binary); the group
     * setup loads GloVe for the *_gensim tests */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semantics_best_order),
        cmocka_unit_test(test_semantics_correlations),
        cmocka_unit_test(test_semantics_multiscan_reference),
        cmocka_unit_test(test_semantics_most_similar_small),
        cmocka_unit_test(test_semantics_most_similar_dtypes),
        cmocka_unit_test(test_semantics_eval_analogies_rules),
        cmocka_unit_test(test_semantics_eval_pairs_rules),
        cmocka_unit_test(test_semantics_most_similar_gensim),
        cmocka_unit_test(test_semantics_eval_analogies_gensim),
        cmocka_unit_test(test_semantics_eval_pairs_gensim),
    };
    return cmocka_run_group_tests(tests, glove_setup, glove_teardown);
}
