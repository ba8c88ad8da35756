/*
 * read_word2vec.c - the word2vec binary format (word2vec's -binary 1 output,
 * gensim's save_word2vec_format(binary=True)).
 *
 * Layout: an ASCII header line "V D\n", then V rows of: token bytes, one
 * space, D little-endian float32 (4*D bytes), usually followed by '\n'.
 * Whitespace before a token (the previous row's newline) is skipped.  The
 * header is checked against the file size before any row is read (every row
 * needs at least 2 + 4*D bytes); each row is checked against the bytes that
 * remain.  Tokens must be non-empty valid UTF-8 without NUL bytes.
 */
#include "readers/read_formats.h"

#include <string.h>

static int is_ws(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Skip whitespace, moving the window on when it runs out. */
static int skip_ws(emb_reader *r, emb_err *err)
{
    emb_cur *c = &r->cur;
    for (;;) {
        while (emb_cur_left(c) && is_ws(c->base[c->pos]))
            c->pos++;
        if (emb_cur_left(c) || emb_rd_at_end(r))
            return EMB_OK;
        int rc = emb_rd_window(r, EMB_RD_WINDOW, err);
        if (rc)
            return rc;
    }
}

static int w2v_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    emb_cur *c = &r->cur;
    int rc = skip_ws(r, err);
    if (rc)
        return rc;
    if (r->row_id >= r->rows) {
        if (emb_cur_left(c))
            return emb_rd_err(r, err, EMB_EFORMAT, "unexpected data after %lld rows (at byte %zu)",
                              (long long)r->rows, emb_rd_offset(r));
        return EMB_DONE;
    }
    size_t start = emb_rd_offset(r);
    if (!emb_cur_left(c))
        return emb_rd_err(r, err, EMB_EFORMAT, "file ends after %lld of %lld rows (at byte %zu)",
                          (long long)r->row_id, (long long)r->rows, start);
    /* the token, its space and the values in the window (a longer token
     * than the window holds makes it grow) */
    const uint8_t *s, *sp;
    size_t need = r->row_bytes + 256;
    for (;;) {
        if ((rc = emb_rd_window(r, need, err)) != EMB_OK)
            return rc;
        s = c->base + c->pos;
        sp = memchr(s, ' ', emb_cur_left(c));
        if (sp || emb_rd_at_end(r))
            break;
        need = 2 * emb_cur_left(c) + r->row_bytes;
    }
    if (!sp)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "row %lld: token without a following space (at byte %zu)",
                          (long long)r->row_id, start);
    size_t len = (size_t)(sp - s);
    if ((rc = emb_rd_window(r, len + 1 + r->row_bytes, err)) != EMB_OK)
        return rc;
    s = c->base + c->pos; /* the window may have moved */
    if (memchr(s, 0, len) || !emb_utf8_valid(s, len))
        return emb_rd_err(r, err, EMB_EFORMAT, "row %lld: token is not valid UTF-8 (at byte %zu)",
                          (long long)r->row_id, start);
    c->pos += len + 1;
    const uint8_t *vals;
    if (emb_cur_bytes(c, r->row_bytes, &vals))
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "row %lld: needs %zu bytes of values, only %zu left (at byte %zu)",
                          (long long)r->row_id, r->row_bytes, emb_cur_left(c), emb_rd_offset(r));
    emb_rd_widen(r->row, vals, EMB_T_F32, r->dim);
    *tok = (const char *)s;
    *tok_len = len;
    return EMB_OK;
}

static int read_uint(emb_cur *c, uint64_t *v)
{
    uint64_t x = 0;
    size_t start = c->pos;
    while (emb_cur_left(c) && (unsigned)(c->base[c->pos] - '0') < 10) {
        if (x > (UINT64_MAX - 9) / 10)
            return EMB_ERANGE;
        x = x * 10 + (c->base[c->pos] - '0');
        c->pos++;
    }
    if (c->pos == start)
        return EMB_EFORMAT;
    *v = x;
    return EMB_OK;
}

int emb_word2vec_open(emb_reader *r, const char *tensor, emb_err *err)
{
    (void)tensor;
    emb_cur *c = &r->cur;
    emb_cur_init(c, r->data, r->n);
    uint64_t v, d;
    if (read_uint(c, &v))
        return emb_rd_err(r, err, EMB_EFORMAT, "expected a header \"V D\" (at byte %zu)", c->pos);
    while (emb_cur_left(c) && (c->base[c->pos] == ' ' || c->base[c->pos] == '\t'))
        c->pos++;
    if (read_uint(c, &d))
        return emb_rd_err(r, err, EMB_EFORMAT, "expected a header \"V D\" (at byte %zu)", c->pos);
    while (emb_cur_left(c) && (c->base[c->pos] == ' ' || c->base[c->pos] == '\r'))
        c->pos++;
    uint8_t nl;
    if (emb_cur_u8(c, &nl) || nl != '\n')
        return emb_rd_err(r, err, EMB_EFORMAT, "expected a newline after the header (at byte %zu)",
                          c->pos);
    if (d == 0 || d > EMB_MAX_DIM)
        return emb_rd_err(r, err, EMB_ERANGE, "dimension %llu out of range (1..%d)",
                          (unsigned long long)d, EMB_MAX_DIM);
    r->dim = (size_t)d;
    r->row_bytes = r->dim * 4;
    size_t need;
    size_t follow = emb_rd_size(r) - emb_rd_offset(r);
    if (v > (uint64_t)INT64_MAX || emb_mul_size((size_t)v, r->row_bytes + 2, &need) ||
        need > follow)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "header says %llu rows of %zu values, more than the %zu bytes that "
                          "follow hold (at byte %zu)",
                          (unsigned long long)v, r->dim, follow, emb_rd_offset(r));
    r->rows = (int64_t)v;
    r->next = w2v_next;
    return EMB_OK;
}
