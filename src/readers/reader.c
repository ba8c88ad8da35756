/* reader.c - reader dispatch: open a file or memory as one format, next, free.
 * The shared helpers of the format files are in read_common.c. */
#include "readers/read_formats.h"
#include "core/alloc.h"
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
    r->row = emb_malloc(r->dim * sizeof(float));
    if (!r->row)
        return emb_rd_err(r, err, EMB_ENOMEM, "out of memory");
    return EMB_OK;
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
    if (rc == EMB_OK && (kind == EMB_READ_GGUF || kind == EMB_READ_SAFETENSORS))
        rc = emb_rd_tensor_open(r, err);
    if (rc) {
        emb_reader_free(r);
        return rc;
    }
    *out = r;
    return EMB_OK;
}

/* First bytes read of a GGUF / safetensors file; each retry reads 4 times
 * as many (see open_file). */
#define PREFIX_FIRST ((size_t)1 << 20)

/* Open the file at path as r->kind with the reader *pr (replaced: each try
 * parses with a fresh reader; I/O errors name open_label, the path as the
 * user gave it).  GGUF and safetensors readers need the
 * header and one tensor, not the whole file: they parse the first
 * PREFIX_FIRST bytes, and while parsing fails and the file has more, read 4
 * times as much and parse again.  Their header checks are all of the form
 * "ends within the n bytes read" and their tensor checks "ends within the
 * file", so a parse that succeeds on a prefix succeeds on the whole file
 * with the same result; a parse that still fails on the whole file gives
 * the error it always gave.  The tensor's rows are then read through a
 * window (emb_rd_tensor_open).  The other formats go through the file once
 * and hold a window of it (emb_rd_window). */
static int open_file(emb_reader **pr, const char *path, const char *open_label,
                     const char *tensor, emb_err *err)
{
    emb_reader *r = *pr;
    int kind = r->kind, grow = kind == EMB_READ_GGUF || kind == EMB_READ_SAFETENSORS;
    char label[sizeof r->label];
    memcpy(label, r->label, sizeof label);
    emb_map map;
    int rc = emb_map_open_prefix(&map, path, grow ? PREFIX_FIRST : EMB_RD_WINDOW, r->comp,
                                 open_label, err);
    while (rc == EMB_OK) {
        r->map = map;
        r->data = map.data;
        r->n = map.n;
        rc = open_common(r, tensor, err);
        if (rc == EMB_OK || !grow || map.n == map.size)
            break;
        /* parse again with more bytes, in a fresh reader (the map is
         * taken back from the failed one) */
        map = r->map;
        memset(&r->map, 0, sizeof r->map);
        emb_reader_free(r);
        *pr = r = emb_rd_new(kind, label);
        if (!r) {
            emb_map_close(&map);
            return emb_err_set(err, EMB_ENOMEM, "%s: out of memory", emb_reader_kind_name(kind));
        }
        memcpy(r->label, label, sizeof label);
        size_t want = map.n > SIZE_MAX / 4 ? SIZE_MAX : map.n * 4;
        rc = emb_map_grow(&map, want, r->comp, open_label, err);
        if (rc)
            emb_map_close(&map);
    }
    if (rc == EMB_OK && grow)
        rc = emb_rd_tensor_open(r, err);
    return rc;
}

int emb_reader_open(int kind, const char *path, const char *tensor, emb_reader **out,
                    emb_err *err)
{
    emb_reader *r = emb_rd_new(kind, emb_basename(path));
    if (!r)
        return emb_err_set(err, EMB_ENOMEM, "%s: out of memory", emb_reader_kind_name(kind));
    int rc = EMB_OK;
    if (kind == EMB_READ_SAFETENSORS) {
        emb_map index;
        /* open errors name the path as given; later ones the file name (r->label) */
        rc = emb_map_open_prefix(&index, path, PREFIX_FIRST, r->comp, path, err);
        /* an index is JSON, not a safetensors file: read it all, follow it
         * to the shard, then read that shard as usual */
        if (rc == EMB_OK && emb_safetensors_is_index(index.data, index.n) &&
            (rc = emb_map_grow(&index, SIZE_MAX, r->comp, path, err)) == EMB_OK) {
            r->data = index.data;
            r->n = index.n;
            char shard[4096];
            rc = emb_safetensors_shard(r, path, tensor, shard, sizeof shard, err);
            r->data = NULL;
            r->n = 0;
            if (rc == EMB_OK) {
                char index_label[sizeof r->label];
                memcpy(index_label, r->label, sizeof index_label);
                /* each name cut at 60 bytes: "index -> shard" fits r->label */
                snprintf(r->label, sizeof r->label, "%.60s -> %.60s", index_label,
                         emb_basename(shard));
                emb_map_close(&index);
                char open_label[2 * sizeof shard];
                snprintf(open_label, sizeof open_label, "%s -> %s", path, shard);
                rc = open_file(&r, shard, open_label, tensor, err);
            }
        } else if (rc == EMB_OK) {
            emb_map_close(&index);
            rc = open_file(&r, path, path, tensor, err);
        }
        emb_map_close(&index);
    } else {
        rc = open_file(&r, path, path, tensor, err);
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
    if (r->vocab && !emb_tokfile_get(r->vocab, r->row_id, &tok, &len)) {
        tok = NULL;
        len = 0;
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
    emb_map_close(&r->twin);
    emb_tokfile_free(r->vocab);
    emb_free(r->row);
    emb_free(r);
}
