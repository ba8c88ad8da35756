/* read_common.c - helpers shared by the format files (read_*.c, random.c):
 * a new reader object, error messages, element sizes and widening. */
#include "readers/read_common.h"
#include "core/alloc.h"
#include "kernels/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int emb_rd_err(const emb_reader *r, emb_err *err, int code, const char *fmt, ...)
{
    if (err) {
        char what[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        emb_err_set(err, code, "%s: %s: %s", r->comp, r->label, what);
    }
    return code;
}

int emb_rd_window(emb_reader *r, size_t need, emb_err *err)
{
    if (emb_cur_left(&r->cur) >= need || emb_rd_at_end(r))
        return EMB_OK;
    size_t want = need > EMB_RD_WINDOW ? need : EMB_RD_WINDOW;
    int rc = emb_map_slide(&r->map, r->cur.pos, want, r->comp, r->label, err);
    r->data = r->map.data;
    r->n = r->map.n;
    emb_cur_init(&r->cur, r->data, r->n);
    return rc;
}

int emb_rd_tensor_open(emb_reader *r, emb_err *err)
{
    size_t size;
    if (emb_mul_size((size_t)r->rows, r->row_bytes, &size))
        return emb_rd_err(r, err, EMB_ERANGE, "tensor too large");
    if (!r->map.data || r->toff + size <= r->n) { /* held (or in memory) */
        r->tdata = r->data + r->toff;
        return EMB_OK;
    }
    /* the header is parsed: the file descriptor moves to the tensor window */
    r->tdata = NULL;
    memset(&r->twin, 0, sizeof r->twin);
    r->twin.fd = r->map.fd;
    r->twin.has_fd = r->map.has_fd;
    r->twin.size = r->map.size;
    r->twin.off = r->toff;
    r->map.fd = -1;
    r->map.has_fd = 0;
    size_t want = r->row_bytes > EMB_RD_WINDOW ? r->row_bytes : EMB_RD_WINDOW;
    return emb_map_slide(&r->twin, 0, want, r->comp, r->label, err);
}

int emb_rd_tensor_row(emb_reader *r, const uint8_t **row, emb_err *err)
{
    size_t at = (size_t)r->row_id * r->row_bytes;
    if (r->tdata) {
        *row = r->tdata + at;
        return EMB_OK;
    }
    emb_map *w = &r->twin;
    size_t rel = r->toff + at - w->off; /* rows come in order: never before the window */
    if (rel + r->row_bytes > w->n) {
        size_t want = r->row_bytes > EMB_RD_WINDOW ? r->row_bytes : EMB_RD_WINDOW;
        int rc = emb_map_slide(w, rel, want, r->comp, r->label, err);
        if (rc)
            return rc;
        rel = r->toff + at - w->off;
        if (rel + r->row_bytes > w->n)
            return emb_rd_err(r, err, EMB_EIO, "file shrank while being read (at byte %zu)",
                              w->off + w->n);
    }
    *row = w->data + rel;
    return EMB_OK;
}

int emb_rd_at_end(const emb_reader *r)
{
    return !r->map.data || r->map.off + r->map.n == r->map.size;
}

size_t emb_rd_offset(const emb_reader *r)
{
    return (r->map.data ? r->map.off : 0) + r->cur.pos;
}

size_t emb_rd_size(const emb_reader *r)
{
    return r->map.data ? r->map.size : r->n;
}

size_t emb_rd_type_size(int ttype)
{
    switch (ttype) {
    case EMB_T_F32: return 4;
    case EMB_T_F16:
    case EMB_T_BF16: return 2;
    case EMB_T_F64: return 8;
    default: return 0;
    }
}

void emb_rd_widen(float *out, const uint8_t *src, int ttype, size_t n)
{
    const emb_kernels *k = emb_kernels_get();
    uint16_t buf[256];
    switch (ttype) {
    case EMB_T_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(out, src, 4 * n);
#else
        for (size_t i = 0; i < n; i++)
            out[i] = emb_load_f32le(src + 4 * i);
#endif
        break;
    case EMB_T_F64:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)emb_load_f64le(src + 8 * i);
        break;
    case EMB_T_F16:
    case EMB_T_BF16:
        for (size_t i = 0; i < n; i += 256) {
            size_t m = n - i < 256 ? n - i : 256;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            memcpy(buf, src + 2 * i, 2 * m); /* the file's byte order is the host's */
#else
            for (size_t j = 0; j < m; j++)
                buf[j] = emb_load_u16le(src + 2 * (i + j));
#endif
            if (ttype == EMB_T_F16)
                k->f16_to_f32(out + i, buf, m);
            else
                k->bf16_to_f32(out + i, buf, m);
        }
        break;
    default:
        break;
    }
}

emb_reader *emb_rd_new(int kind, const char *label)
{
    emb_reader *r = emb_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->comp = emb_reader_kind_name(kind);
    snprintf(r->label, sizeof r->label, "%s", label ? label : "(memory)");
    r->rows = -1;
    return r;
}
