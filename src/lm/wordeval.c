/* wordeval.c - gensim's evaluate_word_analogies and evaluate_word_pairs
 * (see wordeval.h for the rules).
 *
 * Analogy evaluation speed: every question needs one pass over all rows.
 * The unit-normalised rows are packed once (multiscan.h: transposed in
 * chunks of EMB_MS_CHUNK rows) and every group of 4 questions is scored
 * against a chunk while it is hot in cache; each question keeps its own
 * best-5 list across chunks. */
#include "lm/wordeval.h"
#include "core/alloc.h"
#include "search/multiscan.h"
#include "lm/unicase.h"
#include "lm/vocab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOPN 5 /* gensim: most_similar(..., topn=5) */

/* Next line of text[0..n) from *pos, without its end: "\n", "\r\n" or a
 * lone "\r" (Python's universal newlines, as gensim's text-mode reads).
 * Returns 0 at the end. */
static int next_line(const char *text, size_t n, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= n)
        return 0;
    const char *s = text + *pos;
    size_t rest = n - *pos, l = 0;
    while (l < rest && s[l] != '\n' && s[l] != '\r')
        l++;
    size_t end = l;
    if (end < rest)
        end += (s[end] == '\r' && end + 1 < rest && s[end + 1] == '\n') ? 2 : 1;
    *pos += end;
    *line = s;
    *len = l;
    return 1;
}

/* Python's str.split() whitespace, ASCII part. */
static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

/* Look up s[0..n) in v, upper-cased first when fold is set; -1 if absent,
 * -2 out of memory. */
static int64_t upper_get(const emb_vocab *v, int fold, const char *s, size_t n)
{
    if (!fold)
        return emb_vocab_get(v, s, n);
    size_t un;
    char *u = emb_upper_utf8(s, n, &un);
    if (!u)
        return -2;
    int64_t id = emb_vocab_get(v, u, un);
    emb_free(u);
    return id;
}

void emb_analogy_eval_free(emb_analogy_eval *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->n_sections; i++)
        emb_free(ev->sections[i].name);
    emb_free(ev->sections);
    memset(ev, 0, sizeof *ev);
}

typedef struct question {
    int64_t w[4]; /* canonical ids of a, b, c, expected */
    size_t section;
} question;

typedef struct parsed {
    emb_section_score *sections;
    size_t n_sections, cap_sections;
    question *qs;
    size_t n_qs, cap_qs;
    size_t n_questions, n_oov;
} parsed;

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < p->n_sections; i++)
        emb_free(p->sections[i].name);
    emb_free(p->sections);
    emb_free(p->qs);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    size_t bytes;
    if (emb_mul_size(nc, elt, &bytes) != 0)
        return EMB_ENOMEM;
    void *a = emb_realloc(*arr, bytes);
    if (!a)
        return EMB_ENOMEM;
    *arr = a;
    *cap = nc;
    return 0;
}

static int add_section(parsed *p, const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ':' || line[i] == ' '))
        i++;
    while (len > i && is_space(line[len - 1]))
        len--;
    while (i < len && is_space(line[i]))
        i++;
    if (grow((void **)&p->sections, &p->cap_sections, p->n_sections + 1, sizeof *p->sections))
        return EMB_ENOMEM;
    char *name = emb_malloc(len - i + 1);
    if (!name)
        return EMB_ENOMEM;
    memcpy(name, line + i, len - i);
    name[len - i] = 0;
    emb_section_score *s = &p->sections[p->n_sections++];
    s->name = name;
    s->correct = s->total = 0;
    return 0;
}

static int parse_questions(const char *text, size_t n_text, const emb_vocab *v, int flags,
                           parsed *p, emb_err *err)
{
    size_t pos = 0, line_no = 0, len;
    const char *line;
    for (; next_line(text, n_text, &pos, &line, &len); line_no++) {
        if (len >= 2 && line[0] == ':' && line[1] == ' ') {
            if (add_section(p, line, len))
                return emb_err_set(err, EMB_ENOMEM, "eval_analogies: out of memory");
            continue;
        }
        if (p->n_sections == 0)
            return emb_err_set(err, EMB_EFORMAT,
                               "eval_analogies: missing section header (': name') before line %zu",
                               line_no + 1);
        const char *w[5];
        size_t wl[5], nw = 0, i = 0;
        while (i < len && nw < 5) {
            while (i < len && is_space(line[i]))
                i++;
            if (i == len)
                break;
            size_t st = i;
            while (i < len && !is_space(line[i]))
                i++;
            w[nw] = line + st;
            wl[nw++] = i - st;
        }
        if (nw != 4)
            continue; /* gensim: "Skipping invalid line" */
        p->n_questions++;
        question q;
        int oov = 0;
        for (int k = 0; k < 4; k++) {
            q.w[k] = upper_get(v, !(flags & EMB_EVAL_CASE_SENSITIVE), w[k], wl[k]);
            if (q.w[k] == -2)
                return emb_err_set(err, EMB_ENOMEM, "eval_analogies: out of memory");
            oov |= q.w[k] < 0;
        }
        if (oov) {
            p->n_oov++;
            if (flags & EMB_EVAL_DUMMY4UNKNOWN) /* gensim: counted as incorrect */
                p->sections[p->n_sections - 1].total++;
            continue;
        }
        q.section = p->n_sections - 1;
        if (grow((void **)&p->qs, &p->cap_qs, p->n_qs + 1, sizeof *p->qs))
            return emb_err_set(err, EMB_ENOMEM, "eval_analogies: out of memory");
        p->qs[p->n_qs++] = q;
    }
    return EMB_OK;
}

/* Insert (id, s) into the best-first list top[0..*n) of at most TOPN. */
static void top_insert(emb_scored *top, int *n, int64_t id, float s)
{
    int p = *n < TOPN ? (*n)++ : TOPN - 1;
    while (p > 0 && s > top[p - 1].score) {
        top[p] = top[p - 1];
        p--;
    }
    top[p].id = id;
    top[p].score = s;
}

/* Offer the scores of rows c0 .. c0+cn of one question to its best-5 list
 * (absent rows and the question's inputs excluded). */
static void select_top(const float *scores, size_t c0, size_t cn, const uint8_t *allowed,
                       const int64_t *w, emb_scored *top, int *count)
{
    typedef float v4sf __attribute__((vector_size(16)));
    typedef int v4si __attribute__((vector_size(16)));
    int nt = *count;
    float worst = nt < TOPN ? -INFINITY : top[TOPN - 1].score;
    for (size_t j0 = 0; j0 < cn; j0 += 8) {
        size_t j1 = j0 + 8 < cn ? j0 + 8 : cn;
        if (nt == TOPN && j1 == j0 + 8) {
            /* skip 8 scores at once when none beats the current 5th */
            v4sf lo, hi, wv = {worst, worst, worst, worst};
            uint64_t g[2];
            memcpy(&lo, scores + j0, sizeof lo);
            memcpy(&hi, scores + j0 + 4, sizeof hi);
            v4si gt = (lo > wv) | (hi > wv);
            memcpy(g, &gt, sizeof g);
            if (!(g[0] | g[1]))
                continue;
        }
        for (size_t j = j0; j < j1; j++) {
            float s = scores[j];
            if (!(s > worst) && !(nt < TOPN && !isnan(s)))
                continue;
            int64_t r = (int64_t)(c0 + j);
            if (!allowed[r] || r == w[0] || r == w[1] || r == w[2])
                continue;
            top_insert(top, &nt, r, s);
            if (nt == TOPN)
                worst = top[TOPN - 1].score;
        }
    }
    *count = nt;
}

/* Score every question against every packed row, 4 questions per scan,
 * chunk by chunk; queries holds n_q4 * 4 * dim floats (padding zero). */
static void solve_all(const emb_kernels *kern, const emb_packed *pk, const uint8_t *allowed,
                      const parsed *p, const float *queries, emb_scored *tops, int *counts,
                      float *scores)
{
    size_t dim = pk->dim, n_chunks = (pk->n_rows + EMB_MS_CHUNK - 1) / EMB_MS_CHUNK;
    for (size_t c = 0; c < n_chunks; c++) {
        size_t cn = emb_packed_chunk_rows(pk, c), stride = emb_packed_chunk_stride(pk, c);
        for (size_t q0 = 0; q0 < p->n_qs; q0 += 4) {
            emb_packed_scan4(kern, pk, c, queries + q0 * dim, scores);
            for (size_t i = 0; i < 4 && q0 + i < p->n_qs; i++)
                select_top(scores + i * stride, c * EMB_MS_CHUNK, cn, allowed, p->qs[q0 + i].w,
                           tops + (q0 + i) * TOPN, &counts[q0 + i]);
        }
    }
}

int emb_eval_analogies(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                       const char *text, size_t n_text, size_t restrict_vocab,
                       emb_analogy_eval *out, emb_err *err)
{
    return emb_eval_analogies_ex(kern, m, tokens, text, n_text, restrict_vocab, 0, out, err);
}

int emb_eval_analogies_ex(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                          const char *text, size_t n_text, size_t restrict_vocab, int flags,
                          emb_analogy_eval *out, emb_err *err)
{
    int fold = !(flags & EMB_EVAL_CASE_SENSITIVE);
    parsed p;
    memset(&p, 0, sizeof p);
    emb_vocab *v = NULL;
    const float *norms = NULL;
    float *owned_norms = NULL, *queries = NULL, *scores = NULL, *buf = NULL;
    emb_packed pk = {NULL, 0, 0};
    emb_scored *tops = NULL;
    int *counts = NULL;
    int64_t *canon = NULL;
    uint8_t *allowed = NULL;
    size_t n_used = 0, dim = m->dim, bytes;
    int rc = emb_upper_vocab(m, tokens, restrict_vocab, fold, &v, &n_used);
    if (rc != EMB_OK) {
        rc = emb_err_set(err, rc, "eval_analogies: out of memory");
        goto done;
    }
    rc = parse_questions(text, n_text, v, flags, &p, err);
    if (rc != EMB_OK)
        goto done;
    rc = emb_norms_get(kern, m, &norms, &owned_norms, err);
    if (rc != EMB_OK)
        goto done;
    if (emb_packed_init(&pk, n_used, dim) != EMB_OK)
        goto nomem;
    /* queries padded to a multiple of 4 with zeros */
    if (emb_mul_size((p.n_qs + 3) / 4 * 4 + 4, dim * sizeof(float), &bytes) != 0 ||
        !(queries = emb_calloc(1, bytes)))
        goto nomem;
    tops = emb_malloc((p.n_qs ? p.n_qs : 1) * TOPN * sizeof *tops);
    counts = emb_calloc(p.n_qs ? p.n_qs : 1, sizeof *counts);
    canon = emb_malloc((n_used ? n_used : 1) * sizeof *canon);
    allowed = emb_malloc(n_used ? n_used : 1);
    scores = emb_malloc(4 * (EMB_MS_CHUNK + 16) * sizeof *scores);
    buf = emb_malloc(dim * sizeof *buf);
    if (!tops || !counts || !canon || !allowed || !scores || !buf)
        goto nomem;

    /* unit rows, packed; canonical id of each row's upper-cased token */
    for (size_t r = 0; r < n_used; r++) {
        allowed[r] = emb_matrix_has_row(m, r);
        canon[r] = -1;
        if (!allowed[r])
            continue;
        emb_row_widen(kern, m, r, buf);
        float nr = norms[r];
        for (size_t d = 0; d < dim; d++)
            buf[d] = nr > 0 ? buf[d] / nr : 0.0f;
        emb_packed_set_row(&pk, r, buf);
        size_t tn;
        const char *tok = tokens->token_of(tokens->ctx, (int64_t)r, &tn);
        if (tok && (canon[r] = upper_get(v, fold, tok, tn)) == -2)
            goto nomem;
    }
    for (size_t qi = 0; qi < p.n_qs; qi++) {
        const int64_t *w = p.qs[qi].w;
        emb_sim_query(kern, m, norms, &w[1], 2, &w[0], 1, buf, queries + qi * dim);
    }
    solve_all(kern, &pk, allowed, &p, queries, tops, counts, scores);

    /* gensim: the first of the 5 whose upper-cased token is not an input
     * (else the last one) is the prediction */
    for (size_t qi = 0; qi < p.n_qs; qi++) {
        const int64_t *w = p.qs[qi].w;
        const emb_scored *top = tops + qi * TOPN;
        int64_t pred = -1;
        for (int j = 0; j < counts[qi]; j++) {
            pred = canon[top[j].id];
            if (pred != w[0] && pred != w[1] && pred != w[2])
                break;
        }
        emb_section_score *s = &p.sections[p.qs[qi].section];
        s->total++;
        s->correct += counts[qi] > 0 && pred == w[3];
    }
    /* the total row */
    if (grow((void **)&p.sections, &p.cap_sections, p.n_sections + 1, sizeof *p.sections))
        goto nomem;
    emb_section_score tot = {NULL, 0, 0};
    for (size_t i = 0; i < p.n_sections; i++) {
        tot.correct += p.sections[i].correct;
        tot.total += p.sections[i].total;
    }
    if (!(tot.name = emb_malloc(sizeof "Total accuracy")))
        goto nomem;
    memcpy(tot.name, "Total accuracy", sizeof "Total accuracy");
    p.sections[p.n_sections++] = tot;
    out->sections = p.sections;
    out->n_sections = p.n_sections;
    out->n_questions = p.n_questions;
    out->n_oov = p.n_oov;
    p.sections = NULL;
    p.n_sections = 0;
    rc = EMB_OK;
    goto done;
nomem:
    rc = emb_err_set(err, EMB_ENOMEM, "eval_analogies: out of memory");
done:
    parsed_free(&p);
    emb_vocab_free(v);
    emb_free(owned_norms);
    emb_packed_free(&pk);
    emb_free(queries);
    emb_free(tops);
    emb_free(counts);
    emb_free(canon);
    emb_free(allowed);
    emb_free(scores);
    emb_free(buf);
    return rc;
}

/* ---- word pairs ------------------------------------------------------- */

double emb_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
    }
    if (!(sxx > 0) || !(syy > 0))
        return NAN;
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->v < b->v)
        return -1;
    if (a->v > b->v)
        return 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Average ranks (1-based) of x into r; 0 or EMB_ENOMEM. */
static int average_ranks(const double *x, size_t n, double *r)
{
    keyed *k = emb_malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return EMB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        k[i].v = x[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].v == k[i].v)
            j++;
        double avg = ((double)(i + 1) + (double)j) / 2.0; /* mean of ranks i+1 .. j */
        for (size_t t = i; t < j; t++)
            r[k[t].i] = avg;
        i = j;
    }
    emb_free(k);
    return EMB_OK;
}

int emb_spearman(const double *x, const double *y, size_t n, double *out)
{
    double *rx = emb_malloc((n ? n : 1) * sizeof *rx), *ry = emb_malloc((n ? n : 1) * sizeof *ry);
    int rc = EMB_ENOMEM;
    if (rx && ry && average_ranks(x, n, rx) == 0 && average_ranks(y, n, ry) == 0) {
        *out = emb_pearson(rx, ry, n);
        rc = EMB_OK;
    }
    emb_free(rx);
    emb_free(ry);
    return rc;
}

/* Python float(): optional surrounding whitespace, decimal / inf / nan;
 * 1 ok, 0 not a number. */
static int parse_score(const char *s, size_t n, double *out)
{
    char tmp[64];
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || n >= sizeof tmp || memchr(s, 'x', n) || memchr(s, 'X', n))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    *out = strtod(tmp, &end);
    return end == tmp + n;
}

/* Cosine of rows a and b in double (a zero row gives 0). */
static double row_cosine(const emb_kernels *kern, const emb_matrix *m, int64_t a, int64_t b,
                         float *ba, float *bb)
{
    emb_row_widen(kern, m, (size_t)a, ba);
    emb_row_widen(kern, m, (size_t)b, bb);
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < m->dim; i++) {
        d += (double)ba[i] * bb[i];
        na += (double)ba[i] * ba[i];
        nb += (double)bb[i] * bb[i];
    }
    return na > 0 && nb > 0 ? d / (sqrt(na) * sqrt(nb)) : 0.0;
}

int emb_eval_pairs(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                   const char *text, size_t n_text, size_t restrict_vocab, emb_pairs_eval *out,
                   emb_err *err)
{
    return emb_eval_pairs_ex(kern, m, tokens, text, n_text, restrict_vocab, 0, out, err);
}

int emb_eval_pairs_ex(const emb_kernels *kern, const emb_matrix *m, const emb_tokens *tokens,
                      const char *text, size_t n_text, size_t restrict_vocab, int flags,
                      emb_pairs_eval *out, emb_err *err)
{
    int fold = !(flags & EMB_EVAL_CASE_SENSITIVE), dummy = !!(flags & EMB_EVAL_DUMMY4UNKNOWN);
    emb_vocab *v = NULL;
    double *gold = NULL, *model = NULL;
    float *ba = NULL, *bb = NULL;
    size_t n = 0, cap = 0, cap2 = 0, n_oov = 0, n_used, pos = 0, len;
    const char *line;
    int rc = emb_upper_vocab(m, tokens, restrict_vocab, fold, &v, &n_used);
    if (rc != EMB_OK)
        goto nomem;
    ba = emb_malloc(m->dim * sizeof *ba);
    bb = emb_malloc(m->dim * sizeof *bb);
    if (!ba || !bb)
        goto nomem;
    while (next_line(text, n_text, &pos, &line, &len)) {
        if (len > 0 && line[0] == '#')
            continue;
        const char *t1 = memchr(line, '\t', len);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
        if (!t2 || memchr(t2 + 1, '\t', len - (size_t)(t2 + 1 - line)))
            continue;
        double sim;
        if (!parse_score(t2 + 1, len - (size_t)(t2 + 1 - line), &sim))
            continue;
        int64_t a = upper_get(v, fold, line, (size_t)(t1 - line));
        int64_t b = upper_get(v, fold, t1 + 1, (size_t)(t2 - t1 - 1));
        if (a == -2 || b == -2)
            goto nomem;
        if ((a < 0 || b < 0) && (n_oov++, !dummy))
            continue;
        if (grow((void **)&gold, &cap, n + 1, sizeof *gold) ||
            grow((void **)&model, &cap2, n + 1, sizeof *model))
            goto nomem;
        gold[n] = sim; /* dummy4unknown: an unknown pair scores 0 */
        model[n++] = a < 0 || b < 0 ? 0.0 : row_cosine(kern, m, a, b, ba, bb);
    }
    if (n == 0) {
        rc = emb_err_set(err, EMB_EINVAL,
                         "eval_pairs: no valid similarity judgements (%zu pairs out of vocabulary)",
                         n_oov);
        goto done;
    }
    out->pearson = emb_pearson(gold, model, n);
    if (emb_spearman(gold, model, n, &out->spearman) != EMB_OK)
        goto nomem;
    /* gensim: with dummy4unknown the unknown pairs are already among the n */
    out->oov_ratio = 100.0 * (double)n_oov / (double)(dummy ? n : n + n_oov);
    out->n_pairs = n;
    out->n_oov = n_oov;
    rc = EMB_OK;
    goto done;
nomem:
    rc = emb_err_set(err, EMB_ENOMEM, "eval_pairs: out of memory");
done:
    emb_vocab_free(v);
    emb_free(gold);
    emb_free(model);
    emb_free(ba);
    emb_free(bb);
    return rc;
}
