/*
 * read_text.c - GloVe and word2vec / fastText text files.
 *
 * Layout: one row per line, "token v1 v2 ... vD", fields separated by
 * spaces or tabs.  A first line of exactly two non-negative integers "V D"
 * is a word2vec/fastText header (then exactly V rows of D values follow);
 * otherwise the file is GloVe and D is the number of values on the first
 * row.  CRLF line ends, trailing spaces/tabs, a last line without newline,
 * blank lines (skipped) and a UTF-8 byte order mark are accepted.  Tokens
 * must be valid UTF-8 without NUL bytes.  A GloVe file whose first row is
 * an integer token with one integer value ("3 5") reads as a header.  A row with a different number of values, a value
 * that is not a decimal number (or overflows float32), or a header whose V
 * or D disagree with the data is an error naming the line.
 */
#include "readers/parsefloat.h"
#include "readers/read_formats.h"

#include <math.h>
#include <string.h>

static int is_sep(char c)
{
    return c == ' ' || c == '\t';
}

/* The current line [*b, *e) without its line end and trailing blanks;
 * advances the cursor past the newline.  1 with a line, 0 at the end of
 * the data, or an I/O error (the window moves to hold the whole line). */
static int take_line(emb_reader *r, const char **b, const char **e, emb_err *err)
{
    const char *s, *nl;
    size_t left;
    for (;;) {
        s = (const char *)r->data + r->cur.pos;
        left = r->n - r->cur.pos;
        nl = memchr(s, '\n', left);
        if (nl || emb_rd_at_end(r))
            break;
        int rc = emb_rd_window(r, left < EMB_RD_WINDOW / 2 ? EMB_RD_WINDOW : 2 * left, err);
        if (rc)
            return rc;
    }
    if (!left)
        return 0;
    const char *end = nl ? nl : s + left;
    r->cur.pos = nl ? (size_t)(nl + 1 - (const char *)r->data) : r->n;
    while (end > s && (end[-1] == '\r' || is_sep(end[-1])))
        end--;
    *b = s;
    *e = end;
    r->line++;
    return 1;
}

static int is_uint(const char *b, const char *e, uint64_t *v)
{
    if (b == e || e - b > 18)
        return 0;
    uint64_t x = 0;
    for (; b < e; b++) {
        if ((unsigned)(*b - '0') >= 10)
            return 0;
        x = x * 10 + (uint64_t)(*b - '0');
    }
    *v = x;
    return 1;
}

static const char *skip_sep(const char *p, const char *e)
{
    while (p < e && is_sep(*p))
        p++;
    return p;
}

static const char *field_end(const char *p, const char *e)
{
    while (p < e && !is_sep(*p))
        p++;
    return p;
}

static size_t count_fields(const char *p, const char *e)
{
    size_t n = 0;
    for (p = skip_sep(p, e); p < e; p = skip_sep(field_end(p, e), e))
        n++;
    return n;
}

static int text_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    const char *b, *e;
    for (;;) {
        int got = take_line(r, &b, &e, err);
        if (got < 0)
            return got;
        if (!got) {
            if (r->has_header && r->row_id != r->rows)
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "header says %lld rows, file has %lld (line %lld)",
                                  (long long)r->rows, (long long)r->row_id, (long long)r->line);
            return EMB_DONE;
        }
        if (skip_sep(b, e) < e)
            break;
    }
    if (r->has_header && r->row_id >= r->rows)
        return emb_rd_err(r, err, EMB_EFORMAT, "more rows than the header's %lld (line %lld)",
                          (long long)r->rows, (long long)r->line);
    const char *p = b;
    if (is_sep(*p))
        return emb_rd_err(r, err, EMB_EFORMAT, "line starts with a blank, expected a token (line %lld)",
                          (long long)r->line);
    const char *te = field_end(p, e);
    if (memchr(p, 0, (size_t)(te - p)))
        return emb_rd_err(r, err, EMB_EFORMAT, "token contains a NUL byte (line %lld)",
                          (long long)r->line);
    if (!emb_utf8_valid((const uint8_t *)p, (size_t)(te - p)))
        return emb_rd_err(r, err, EMB_EFORMAT, "token is not valid UTF-8 (line %lld)",
                          (long long)r->line);
    *tok = p;
    *tok_len = (size_t)(te - p);
    p = te;
    float *row = r->row;
    size_t dim = r->dim;
    for (size_t i = 0; i < dim; i++) {
        p = skip_sep(p, e);
        if (p == e)
            return emb_rd_err(r, err, EMB_EFORMAT, "expected %zu values, found %zu (line %lld)",
                              dim, i, (long long)r->line);
        const char *q = emb_parse_f32(p, e, &row[i]);
        if (!q || (q < e && !is_sep(*q))) {
            const char *fe = field_end(p, e);
            int shown = fe - p > 40 ? 40 : (int)(fe - p);
            return emb_rd_err(r, err, EMB_EFORMAT, "value %zu is not a number '%.*s' (line %lld)",
                              i + 1, shown, p, (long long)r->line);
        }
        if (isinf(row[i])) {
            int shown = q - p > 40 ? 40 : (int)(q - p);
            return emb_rd_err(r, err, EMB_ERANGE,
                              "value %zu '%.*s' is out of float32 range (line %lld)", i + 1,
                              shown, p, (long long)r->line);
        }
        p = q;
    }
    p = skip_sep(p, e);
    if (p < e)
        return emb_rd_err(r, err, EMB_EFORMAT, "expected %zu values, found %zu (line %lld)", dim,
                          dim + count_fields(p, e), (long long)r->line);
    return EMB_OK;
}

int emb_text_open(emb_reader *r, const char *tensor, emb_err *err)
{
    (void)tensor;
    emb_cur_init(&r->cur, r->data, r->n);
    if (r->n >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
        r->cur.pos = 3;
    r->line = 0;
    const char *b, *e;
    for (;;) {
        int got = take_line(r, &b, &e, err);
        if (got < 0)
            return got;
        if (!got)
            return emb_rd_err(r, err, EMB_EFORMAT, "no rows (line %lld)", (long long)r->line);
        if (skip_sep(b, e) < e)
            break;
    }
    size_t save = (size_t)((const uint8_t *)b - r->data); /* the line's start in the window */
    const char *f1 = skip_sep(b, e), *f1e = field_end(f1, e);
    const char *f2 = skip_sep(f1e, e), *f2e = field_end(f2, e);
    uint64_t v, d;
    if (skip_sep(f2e, e) == e && is_uint(f1, f1e, &v) && is_uint(f2, f2e, &d)) {
        if (d == 0 || d > EMB_MAX_DIM)
            return emb_rd_err(r, err, EMB_ERANGE,
                              "header dimension %llu out of range (1..%d) (line %lld)",
                              (unsigned long long)d, EMB_MAX_DIM, (long long)r->line);
        if (v > emb_rd_size(r))
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "header says %llu rows but the file has only %zu bytes (line %lld)",
                              (unsigned long long)v, emb_rd_size(r), (long long)r->line);
        r->has_header = 1;
        r->rows = (int64_t)v;
        r->dim = (size_t)d;
    } else {
        size_t nf = count_fields(b, e);
        if (nf < 2)
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "first row has a token but no values (line %lld)",
                              (long long)r->line);
        if (nf - 1 > EMB_MAX_DIM)
            return emb_rd_err(r, err, EMB_ERANGE, "%zu values per row, more than %d (line %lld)",
                              nf - 1, EMB_MAX_DIM, (long long)r->line);
        r->dim = nf - 1;
        /* re-read the first line as a row */
        r->cur.pos = save;
        r->line--;
    }
    r->next = text_next;
    return EMB_OK;
}
