/*
 * read_tokens.c - a token column from a vocabulary file, for matrices whose
 * format has no tokens (npy, safetensors).  Row i gets the piece with id i.
 *
 * Files, detected by content (first non-blank byte '{' = JSON):
 *   tokenizer.json  Hugging Face tokenizers: model.vocab is a {piece: id}
 *                   object (BPE, WordPiece, WordLevel) or a [[piece, score],
 *                   ...] list (Unigram, id = position); the top-level
 *                   added_tokens [{"id": N, "content": "..."}] are applied
 *                   after it and win over a vocab entry with the same id
 *                   (as the tokenizers library decodes them).
 *   vocab.json      {piece: id} at the top level (GPT-2 style).
 *   vocab.txt       one piece per line, id = line number from 0 (BERT); a
 *                   trailing CR is dropped, an empty line is the piece "".
 * Pieces are kept exactly as the file has them: JSON escapes are decoded,
 * nothing else, so byte-level BPE pieces stay "Ġhello" (U+0120 for the
 * space byte) and SentencePiece pieces "▁the"; they must be UTF-8.
 * Ids must be below the matrix's row count (a larger id means the file does
 * not belong to the matrix); rows without an id get a NULL token.  Two
 * different model.vocab pieces with one id are an error.
 * Errors read "tokens: tokens file <name>: <what> (at byte N | line N)".
 * Memory: one int64 offset and one int32 length per row, plus the decoded
 * pieces; the file's mapping is closed before the rows are read.
 */
#include "readers/read_common.h"
#include "core/alloc.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct emb_tokfile {
    char *buf;      /* decoded pieces back to back */
    size_t n_buf, cap_buf;
    size_t *off;    /* per id: offset in buf */
    int32_t *len;   /* per id: length, -1 = no piece */
    int64_t n;      /* ids = rows of the matrix */
};

typedef struct vload {
    emb_tokfile *v;
    const char *label;
    emb_err *err;
    int rc;
    /* added_tokens, applied after the model vocab */
    int64_t *add_id;
    size_t *add_off;
    int32_t *add_len;
    size_t n_add, cap_add;
    int64_t n_set;
} vload;

static int vfail(vload *L, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vfail(vload *L, int code, const char *fmt, ...)
{
    if (L->rc)
        return L->rc;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    emb_err_set(L->err, code, "tokens: %s: %s", L->label, what);
    L->rc = code;
    return code;
}

/* Append n bytes; returns the offset or (size_t)-1 when out of memory. */
static size_t put(vload *L, const char *s, size_t n, const emb_json_str *js)
{
    emb_tokfile *v = L->v;
    if (v->cap_buf - v->n_buf < n) {
        size_t cap = v->cap_buf ? v->cap_buf : 4096;
        while (cap - v->n_buf < n)
            cap *= 2;
        char *b = emb_realloc(v->buf, cap);
        if (!b)
            return (size_t)-1;
        v->buf = b;
        v->cap_buf = cap;
    }
    size_t at = v->n_buf;
    if (js)
        n = emb_json_str_decode(js, v->buf + at);
    else
        memcpy(v->buf + at, s, n);
    v->n_buf += n;
    return at;
}

/* Store a piece (raw bytes s[0..n), or a JSON string) under id. */
static int piece(vload *L, int64_t id, const char *s, size_t n, const emb_json_str *js,
                 int added, size_t where)
{
    emb_tokfile *v = L->v;
    if (js)
        n = emb_json_str_len(js);
    if (id < 0 || id >= v->n)
        return vfail(L, EMB_ERANGE, "token id %lld out of range: the matrix has %lld rows (at %s %zu)",
                     (long long)id, (long long)v->n, js ? "byte" : "line", where);
    if (n > INT32_MAX)
        return vfail(L, EMB_ERANGE, "token too long (at byte %zu)", where);
    size_t at = put(L, s, n, js);
    if (at == (size_t)-1)
        return vfail(L, EMB_ENOMEM, "out of memory");
    if (!emb_utf8_valid((const uint8_t *)v->buf + at, n))
        return vfail(L, EMB_EFORMAT, "token %lld is not valid UTF-8 (at %s %zu)", (long long)id,
                     js ? "byte" : "line", where);
    if (added) {
        if (L->n_add == L->cap_add) {
            size_t cap = L->cap_add ? 2 * L->cap_add : 64;
            int64_t *a = emb_realloc(L->add_id, cap * sizeof *a);
            if (a)
                L->add_id = a;
            size_t *o = emb_realloc(L->add_off, cap * sizeof *o);
            if (o)
                L->add_off = o;
            int32_t *l = emb_realloc(L->add_len, cap * sizeof *l);
            if (l)
                L->add_len = l;
            if (!a || !o || !l)
                return vfail(L, EMB_ENOMEM, "out of memory");
            L->cap_add = cap;
        }
        L->add_id[L->n_add] = id;
        L->add_off[L->n_add] = at;
        L->add_len[L->n_add++] = (int32_t)n;
        return 0;
    }
    if (v->len[id] >= 0) {
        if ((size_t)v->len[id] == n && memcmp(v->buf + v->off[id], v->buf + at, n) == 0)
            return 0;
        int n0 = v->len[id] > 40 ? 40 : v->len[id], n1 = n > 40 ? 40 : (int)n;
        return vfail(L, EMB_EFORMAT,
                     "token id %lld is given to two pieces, '%.*s' and '%.*s' (at %s %zu)",
                     (long long)id, n0, v->buf + v->off[id], n1, v->buf + at,
                     js ? "byte" : "line", where);
    }
    v->off[id] = at;
    v->len[id] = (int32_t)n;
    L->n_set++;
    return 0;
}

static int json_fail(vload *L, emb_json *j)
{
    if (L->rc)
        return L->rc;
    return vfail(L, EMB_EFORMAT, "malformed JSON: %s (at byte %zu)", j->what, emb_json_off(j));
}

/* {piece: id, ...}; the '{' is next. */
static int vocab_dict(vload *L, emb_json *j)
{
    int more = emb_json_enter(j, '{');
    while (more && !L->rc) {
        emb_json_str k;
        int64_t id;
        emb_json_peek(j); /* skip blanks: `at` is where the key starts */
        size_t at = emb_json_off(j);
        if (!emb_json_string(j, &k) || !emb_json_colon(j) || !emb_json_int(j, &id))
            break;
        piece(L, id, NULL, 0, &k, 0, at);
        more = emb_json_next(j, '}');
    }
    return L->rc ? L->rc : j->what ? json_fail(L, j) : 0;
}

/* [[piece, score], ...] (Unigram); id = position. */
static int vocab_list(vload *L, emb_json *j)
{
    int64_t id = 0;
    int more = emb_json_enter(j, '[');
    while (more && !L->rc) {
        emb_json_str p;
        emb_json_peek(j);
        size_t at = emb_json_off(j);
        if (emb_json_peek(j) != EMB_JSON_ARRAY || !emb_json_enter(j, '[')) {
            emb_json_fail(j, "expected a [piece, score] pair");
            break;
        }
        if (!emb_json_string(j, &p))
            break;
        piece(L, id++, NULL, 0, &p, 0, at);
        int m = emb_json_next(j, ']');
        while (m) { /* the score, and anything after it */
            emb_json_skip(j);
            m = emb_json_next(j, ']');
        }
        more = emb_json_next(j, ']');
    }
    return L->rc ? L->rc : j->what ? json_fail(L, j) : 0;
}

static int model(vload *L, emb_json *j, int *have_vocab)
{
    int more = emb_json_enter(j, '{');
    while (more && !L->rc) {
        emb_json_str k;
        if (!emb_json_string(j, &k) || !emb_json_colon(j))
            break;
        int kind = emb_json_peek(j);
        if (emb_json_str_eq(&k, "vocab") && kind == EMB_JSON_OBJECT) {
            *have_vocab = 1;
            vocab_dict(L, j);
        } else if (emb_json_str_eq(&k, "vocab") && kind == EMB_JSON_ARRAY) {
            *have_vocab = 1;
            vocab_list(L, j);
        } else {
            emb_json_skip(j);
        }
        more = emb_json_next(j, '}');
    }
    return L->rc ? L->rc : j->what ? json_fail(L, j) : 0;
}

/* [{"id": N, "content": "...", ...}, ...] */
static int added_tokens(vload *L, emb_json *j)
{
    int more = emb_json_enter(j, '[');
    while (more && !L->rc) {
        emb_json_peek(j);
        size_t at = emb_json_off(j);
        int64_t id = -1;
        emb_json_str content = {0};
        int have_id = 0, have_content = 0;
        if (emb_json_peek(j) != EMB_JSON_OBJECT) {
            emb_json_fail(j, "added_tokens entries must be objects");
            break;
        }
        int m = emb_json_enter(j, '{');
        while (m) {
            emb_json_str k;
            if (!emb_json_string(j, &k) || !emb_json_colon(j))
                break;
            if (emb_json_str_eq(&k, "id"))
                have_id = emb_json_int(j, &id);
            else if (emb_json_str_eq(&k, "content"))
                have_content = emb_json_string(j, &content);
            else
                emb_json_skip(j);
            m = emb_json_next(j, '}');
        }
        if (j->what)
            break;
        if (!have_id || !have_content)
            return vfail(L, EMB_EFORMAT, "added_tokens entry without id and content (at byte %zu)", at);
        piece(L, id, NULL, 0, &content, 1, at);
        more = emb_json_next(j, ']');
    }
    return L->rc ? L->rc : j->what ? json_fail(L, j) : 0;
}

static int load_json(vload *L, const char *text, size_t n)
{
    emb_json j;
    emb_json_init(&j, text, n, 0);
    int have_vocab = 0, n_direct = 0;
    int more = emb_json_enter(&j, '{');
    while (more && !L->rc) {
        emb_json_str k;
        emb_json_peek(&j);
        size_t at = emb_json_off(&j);
        if (!emb_json_string(&j, &k) || !emb_json_colon(&j))
            break;
        int kind = emb_json_peek(&j);
        if (emb_json_str_eq(&k, "model") && kind == EMB_JSON_OBJECT) {
            model(L, &j, &have_vocab);
        } else if (emb_json_str_eq(&k, "added_tokens") && kind == EMB_JSON_ARRAY) {
            added_tokens(L, &j);
        } else if (kind == EMB_JSON_NUMBER) { /* vocab.json: piece -> id */
            int64_t id;
            if (!emb_json_int(&j, &id))
                break;
            n_direct++;
            piece(L, id, NULL, 0, &k, 0, at);
        } else {
            emb_json_skip(&j);
        }
        more = emb_json_next(&j, '}');
    }
    emb_json_end(&j);
    if (L->rc)
        return L->rc;
    if (j.what)
        return json_fail(L, &j);
    if (!have_vocab && !n_direct)
        return vfail(L, EMB_EFORMAT, "no vocabulary (expected a tokenizer.json with model.vocab, "
                                     "or a vocab.json object of piece: id)");
    emb_tokfile *v = L->v;
    for (size_t i = 0; i < L->n_add; i++) {
        int64_t id = L->add_id[i];
        if (v->len[id] < 0)
            L->n_set++;
        v->off[id] = L->add_off[i];
        v->len[id] = L->add_len[i];
    }
    return 0;
}

static int load_lines(vload *L, const char *p, size_t n)
{
    const char *end = p + n;
    int64_t id = 0;
    while (p < end && !L->rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t len = (size_t)(e - p);
        if (len && p[len - 1] == '\r')
            len--;
        piece(L, id, p, len, NULL, 0, (size_t)id + 1);
        id++;
        p = nl ? nl + 1 : end;
    }
    return L->rc;
}

int emb_tokfile_load(const char *path, int64_t rows, emb_tokfile **out, emb_err *err)
{
    char label[160];
    snprintf(label, sizeof label, "tokens file %.140s", emb_basename(path));
    if (rows < 0)
        return emb_err_set(err, EMB_EUNSUP, "tokens: %s: the matrix does not state its row count",
                           label);
    emb_map m = {0};
    char open_label[4096 + 16]; /* open errors name the path as given */
    snprintf(open_label, sizeof open_label, "tokens file %s", path);
    int rc = emb_map_open(&m, path, "tokens", open_label, err);
    if (rc)
        return rc;
    emb_tokfile *v = emb_calloc(1, sizeof *v);
    size_t nr = (size_t)rows;
    if (v && rows) {
        v->off = emb_malloc(nr * sizeof *v->off);
        v->len = emb_malloc(nr * sizeof *v->len);
    }
    vload L = {.v = v, .label = label, .err = err};
    if (!v || (rows && (!v->off || !v->len))) {
        rc = vfail(&L, EMB_ENOMEM, "out of memory");
    } else {
        v->n = rows;
        for (size_t i = 0; i < nr; i++)
            v->len[i] = -1;
        size_t i = 0;
        while (i < m.n && (m.data[i] == ' ' || m.data[i] == '\t' || m.data[i] == '\n' ||
                           m.data[i] == '\r'))
            i++;
        if (i < m.n && m.data[i] == '{')
            rc = load_json(&L, (const char *)m.data, m.n);
        else
            rc = load_lines(&L, (const char *)m.data, m.n);
    }
    emb_free(L.add_id);
    emb_free(L.add_off);
    emb_free(L.add_len);
    emb_map_close(&m);
    if (rc) {
        emb_tokfile_free(v);
        return rc;
    }
    *out = v;
    return EMB_OK;
}

int emb_tokfile_get(const emb_tokfile *v, int64_t id, const char **tok, size_t *len)
{
    if (id < 0 || id >= v->n || v->len[id] < 0)
        return 0;
    *tok = v->buf ? v->buf + v->off[id] : "";
    *len = (size_t)v->len[id];
    return 1;
}

void emb_tokfile_free(emb_tokfile *v)
{
    if (!v)
        return;
    emb_free(v->buf);
    emb_free(v->off);
    emb_free(v->len);
    emb_free(v);
}

int emb_reader_set_tokens(emb_reader *r, const char *path, emb_err *err)
{
    emb_tokfile *v;
    int rc = emb_tokfile_load(path, r->rows, &v, err);
    if (rc)
        return rc;
    emb_tokfile_free(r->vocab);
    r->vocab = v;
    return EMB_OK;
}
