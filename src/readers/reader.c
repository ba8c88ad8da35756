/* reader.c - the common reader object: open (file or memory), next, free. */
#include "readers/reader_impl.h"
#include "kernels/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *emb_reader_kind_name(int kind)
{
    switch (kind) {
    case EMB_READ_TEXT: return "text";
    case EMB_READ_WORD2VEC: return "word2vec";
    case EMB_READ_NPY: return "npy";
    case EMB_READ_SAFETENSORS: return "safetensors";
    case EMB_READ_GGUF: return "gguf";
    case EMB_READ_RANDOM: return "random";
    default: return "reader";
    }
}

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
        for (size_t i = 0; i < n; i++)
            out[i] = emb_load_f32le(src + 4 * i);
        break;
    case EMB_T_F64:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)emb_load_f64le(src + 8 * i);
        break;
    case EMB_T_F16:
    case EMB_T_BF16:
        for (size_t i = 0; i < n; i += 256) {
            size_t m = n - i < 256 ? n - i : 256;
            for (size_t j = 0; j < m; j++)
                buf[j] = emb_load_u16le(src + 2 * (i + j));
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

static int open_common(emb_reader *r, const char *tensor, emb_err *err)
{
    int rc;
    switch (r->kind) {
    case EMB_READ_TEXT: rc = emb_text_open(r, tensor, err); break;
    case EMB_READ_WORD2VEC: rc = emb_word2vec_open(r, tensor, err); break;
    case EMB_READ_NPY: rc = emb_npy_open(r, tensor, err); break;
    case EMB_READ_SAFETENSORS: rc = emb_safetensors_open(r, tensor, err); break;
    case EMB_READ_GGUF: rc = emb_gguf_open(r, tensor, err); break;
    default: return emb_err_set(err, EMB_EINVAL, "reader: unknown kind %d", r->kind);
    }
    if (rc)
        return rc;
    if (r->dim == 0 || r->dim > EMB_MAX_DIM || !r->next)
        return emb_rd_err(r, err, EMB_ERANGE, "dimension %zu out of range (1..%d)", r->dim,
                          EMB_MAX_DIM);
    r->row = malloc(r->dim * sizeof(float));
    if (!r->row)
        return emb_rd_err(r, err, EMB_ENOMEM, "out of memory");
    return EMB_OK;
}

emb_reader *emb_rd_new(int kind, const char *label)
{
    emb_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->comp = emb_reader_kind_name(kind);
    snprintf(r->label, sizeof r->label, "%s", label ? label : "(memory)");
    r->rows = -1;
    return r;
}

int emb_reader_open_mem(int kind, const void *bytes, size_t n, const char *label,
                        const char *tensor, emb_reader **out, emb_err *err)
{
    emb_reader *r = emb_rd_new(kind, label);
    if (!r)
        return emb_err_set(err, EMB_ENOMEM, "%s: out of memory", emb_reader_kind_name(kind));
    r->data = bytes;
    r->n = bytes ? n : 0;
    int rc = open_common(r, tensor, err);
    if (rc) {
        emb_reader_free(r);
        return rc;
    }
    *out = r;
    return EMB_OK;
}

int emb_reader_open(int kind, const char *path, const char *tensor, emb_reader **out,
                    emb_err *err)
{
    emb_reader *r = emb_rd_new(kind, emb_basename(path));
    if (!r)
        return emb_err_set(err, EMB_ENOMEM, "%s: out of memory", emb_reader_kind_name(kind));
    int rc = emb_map_open(&r->map, path, r->comp, r->label, err);
    if (rc == EMB_OK) {
        r->data = r->map.data;
        r->n = r->map.n;
        rc = open_common(r, tensor, err);
    }
    if (rc) {
        emb_reader_free(r);
        return rc;
    }
    *out = r;
    return EMB_OK;
}

int emb_reader_next(emb_reader *r, int64_t *token_id, const char **token, size_t *token_len,
                    const float **vec, emb_err *err)
{
    if (r->status) {
        if (r->status < 0 && err)
            *err = r->saved;
        return r->status;
    }
    const char *tok = NULL;
    size_t len = 0;
    int rc = r->next(r, &tok, &len, &r->saved);
    if (rc) {
        r->status = rc;
        if (rc < 0 && err)
            *err = r->saved;
        return rc;
    }
    *token_id = r->row_id++;
    *token = tok;
    *token_len = len;
    *vec = r->row;
    return EMB_OK;
}

size_t emb_reader_dim(const emb_reader *r)
{
    return r->dim;
}

int64_t emb_reader_rows(const emb_reader *r)
{
    return r->rows;
}

void emb_reader_free(emb_reader *r)
{
    if (!r)
        return;
    emb_map_close(&r->map);
    free(r->row);
    free(r);
}
