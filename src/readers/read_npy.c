/*
 * read_npy.c - numpy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE
 * for v2/v3), then the header: a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (50000, 768), }
 * padded with spaces and a '\n', then the raw data.  Accepted: 2-D shapes,
 * dtypes '<f4', '<f2', '<f8' (f8 is rounded to float32), C order and
 * Fortran order (column-major: element (r, c) is at c * rows + r; each row
 * is gathered with a stride).  The data must be exactly rows*cols*itemsize
 * bytes (overflow-checked).  The header parser accepts only the literal
 * forms numpy writes: quoted strings, True/False, tuples of integers.
 */
#include "readers/read_formats.h"

#include <stdio.h>
#include <string.h>

typedef struct hdr {
    const char *p, *end, *start;
    size_t base; /* file offset of start */
} hdr;

static void skip_ws(hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int eat(hdr *h, char ch)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == ch) {
        h->p++;
        return 1;
    }
    return 0;
}

static size_t off(const hdr *h)
{
    return h->base + (size_t)(h->p - h->start);
}

/* quoted string -> [*s, *s+*n) (no escapes in the keys and values we use) */
static int str(hdr *h, const char **s, size_t *n)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return 0;
    char q = *h->p++;
    const char *b = h->p;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\')
            return 0;
        h->p++;
    }
    if (h->p >= h->end)
        return 0;
    *s = b;
    *n = (size_t)(h->p - b);
    h->p++;
    return 1;
}

static int word(hdr *h, const char *w)
{
    skip_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

static int npy_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    if (r->row_id >= r->rows)
        return EMB_DONE;
    size_t isz = emb_rd_type_size(r->ttype);
    if (!r->fortran) {
        /* C order: rows one after another through the window (the size was
         * checked at open; a file that shrank since is an I/O error) */
        const uint8_t *row;
        int rc = emb_rd_window(r, r->row_bytes, err);
        if (rc)
            return rc;
        if (emb_cur_bytes(&r->cur, r->row_bytes, &row))
            return emb_rd_err(r, err, EMB_EIO, "file shrank while being read (at byte %zu)",
                              emb_rd_offset(r));
        emb_rd_widen(r->row, row, r->ttype, r->dim);
    } else {
        size_t stride = (size_t)r->rows * isz;
        const uint8_t *p = r->tdata + (size_t)r->row_id * isz;
        for (size_t c = 0; c < r->dim; c++)
            emb_rd_widen(r->row + c, p + c * stride, r->ttype, 1);
    }
    *tok = NULL;
    *tok_len = 0;
    return EMB_OK;
}

int emb_npy_open(emb_reader *r, const char *tensor, emb_err *err)
{
    (void)tensor;
    emb_cur *c = &r->cur;
    emb_cur_init(c, r->data, r->n);
    const uint8_t *magic;
    uint8_t major, minor;
    if (emb_cur_bytes(c, 6, &magic) || memcmp(magic, "\x93NUMPY", 6) != 0)
        return emb_rd_err(r, err, EMB_EFORMAT, "not a .npy file (bad magic) (at byte 0)");
    if (emb_cur_u8(c, &major) || emb_cur_u8(c, &minor))
        return emb_rd_err(r, err, EMB_EFORMAT, "truncated header (at byte %zu)", c->pos);
    if (major < 1 || major > 3)
        return emb_rd_err(r, err, EMB_EUNSUP,
                          "unsupported format version %u.%u (expected 1, 2 or 3) (at byte 6)",
                          major, minor);
    uint32_t hl;
    if (major == 1) {
        uint16_t h16;
        if (emb_cur_u16(c, &h16))
            return emb_rd_err(r, err, EMB_EFORMAT, "truncated header (at byte %zu)", c->pos);
        hl = h16;
    } else if (emb_cur_u32(c, &hl)) {
        return emb_rd_err(r, err, EMB_EFORMAT, "truncated header (at byte %zu)", c->pos);
    }
    const uint8_t *hp;
    int rc = emb_rd_window(r, hl, err);
    if (rc)
        return rc;
    size_t hstart = emb_rd_offset(r);
    if (emb_cur_bytes(c, hl, &hp))
        return emb_rd_err(r, err, EMB_EFORMAT, "header length %u exceeds file size %zu", hl,
                          emb_rd_size(r));
    hdr h = {(const char *)hp, (const char *)hp + hl, (const char *)hp, hstart};
    const char *descr = NULL;
    size_t descr_n = 0;
    int fortran = -1, ndim = -1;
    uint64_t shape[2] = {0, 0};
    if (!eat(&h, '{'))
        return emb_rd_err(r, err, EMB_EFORMAT, "malformed header: expected '{' (at byte %zu)",
                          off(&h));
    while (!eat(&h, '}')) {
        const char *k;
        size_t kn;
        skip_ws(&h);
        size_t key_at = off(&h);
        if (!str(&h, &k, &kn) || !eat(&h, ':'))
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "malformed header: expected 'key': (at byte %zu)", off(&h));
        if (kn == 5 && memcmp(k, "descr", 5) == 0) {
            if (!str(&h, &descr, &descr_n))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "malformed header: descr must be a string (at byte %zu)",
                                  off(&h));
        } else if (kn == 13 && memcmp(k, "fortran_order", 13) == 0) {
            if (word(&h, "True"))
                fortran = 1;
            else if (word(&h, "False"))
                fortran = 0;
            else
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "malformed header: fortran_order must be True or False (at "
                                  "byte %zu)",
                                  off(&h));
        } else if (kn == 5 && memcmp(k, "shape", 5) == 0) {
            if (!eat(&h, '('))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "malformed header: shape must be a tuple (at byte %zu)",
                                  off(&h));
            ndim = 0;
            while (!eat(&h, ')')) {
                skip_ws(&h);
                uint64_t x = 0;
                const char *d0 = h.p;
                while (h.p < h.end && (unsigned)(*h.p - '0') < 10) {
                    if (x > (UINT64_MAX - 9) / 10)
                        return emb_rd_err(r, err, EMB_ERANGE,
                                          "shape value too large (at byte %zu)",
                                          h.base + (size_t)(d0 - h.start));
                    x = x * 10 + (uint64_t)(*h.p++ - '0');
                }
                if (h.p == d0)
                    return emb_rd_err(r, err, EMB_EFORMAT,
                                      "malformed header: bad shape (at byte %zu)", off(&h));
                if (ndim < 2)
                    shape[ndim] = x;
                ndim++;
                if (!eat(&h, ',')) {
                    if (!eat(&h, ')'))
                        return emb_rd_err(r, err, EMB_EFORMAT,
                                          "malformed header: bad shape (at byte %zu)", off(&h));
                    break;
                }
            }
        } else {
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "malformed header: unknown key '%.*s' (at byte %zu)",
                              kn > 40 ? 40 : (int)kn, k, key_at);
        }
        if (!eat(&h, ',')) {
            if (!eat(&h, '}'))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "malformed header: expected ',' or '}' (at byte %zu)", off(&h));
            break;
        }
    }
    if (!descr || fortran < 0 || ndim < 0)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "malformed header: needs descr, fortran_order and shape");
    int tt = 0;
    if (descr_n == 3 && memcmp(descr, "<f4", 3) == 0)
        tt = EMB_T_F32;
    else if (descr_n == 3 && memcmp(descr, "<f2", 3) == 0)
        tt = EMB_T_F16;
    else if (descr_n == 3 && memcmp(descr, "<f8", 3) == 0)
        tt = EMB_T_F64;
    else
        return emb_rd_err(r, err, EMB_EUNSUP, "unsupported dtype '%.*s' (expected <f4, <f2 or <f8)",
                          descr_n > 40 ? 40 : (int)descr_n, descr);
    if (ndim != 2)
        return emb_rd_err(r, err, EMB_EUNSUP, "expected a 2-D array, found %d dimensions", ndim);
    if (shape[1] == 0 || shape[1] > EMB_MAX_DIM)
        return emb_rd_err(r, err, EMB_ERANGE, "dimension %llu out of range (1..%d)",
                          (unsigned long long)shape[1], EMB_MAX_DIM);
    size_t isz = emb_rd_type_size(tt), row_bytes = (size_t)shape[1] * isz, need;
    if (shape[0] > (uint64_t)INT64_MAX || emb_mul_size((size_t)shape[0], row_bytes, &need))
        return emb_rd_err(r, err, EMB_ERANGE, "shape (%llu, %llu) of %.3s is too large",
                          (unsigned long long)shape[0], (unsigned long long)shape[1], descr);
    size_t data_bytes = emb_rd_size(r) - emb_rd_offset(r);
    if (need != data_bytes)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "data is %zu bytes, shape (%llu, %llu) of %.3s needs %zu (at byte %zu)",
                          data_bytes, (unsigned long long)shape[0],
                          (unsigned long long)shape[1], descr, need, emb_rd_offset(r));
    /* Fortran order reads across the whole array: hold all of it */
    if (fortran && (rc = emb_rd_window(r, need, err)) != EMB_OK)
        return rc;
    r->tdata = c->base + c->pos;
    r->ttype = tt;
    r->fortran = fortran;
    r->rows = (int64_t)shape[0];
    r->dim = (size_t)shape[1];
    r->row_bytes = row_bytes;
    r->next = npy_next;
    return EMB_OK;
}
