/*
 * read_gguf.c - one 2-D tensor (and the vocabulary) from a GGUF file.
 *
 * Layout (all little-endian): "GGUF", u32 version (1, 2 or 3), tensor count
 * and metadata count (u32 in v1, u64 in v2+), the metadata key/values, the
 * tensor infos, padding to the alignment, then the tensor data.  Strings
 * are a length (u32 in v1, u64 in v2+) and bytes.  Metadata value types:
 * u8 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64; arrays hold a
 * type and a count and may nest (depth limited to 8).  All values are
 * walked with the bounds-checked cursor; only general.alignment (default 32,
 * a power of two) and tokenizer.ggml.tokens (an array of strings, checked
 * as UTF-8 here and streamed again in step with the rows) are kept.
 * Tensor info: name, u32 n_dims, dims (u32 in v1, u64 in v2+), u32 type,
 * u64 offset from the aligned data start.  GGUF lists dims fastest first,
 * so a token embedding has ne[0] = dim and ne[1] = rows.  Types: those of
 * ggml_quants.h (F32, F16, BF16, Q4_0 ... Q8_0, Q2_K ... Q6_K), decoded a row
 * at a time; a row is dim / block_elems whole blocks.  Rows past the end of
 * the token list get a NULL token.  Only little-endian files exist in
 * practice; a big-endian one (version byte-swapped) is refused by name.
 */
#include "readers/read_formats.h"
#include "readers/ggml_quants.h"

#include <stdio.h>
#include <string.h>

enum { G_U8, G_I8, G_U16, G_I16, G_U32, G_I32, G_F32, G_BOOL, G_STR, G_ARR, G_U64, G_I64, G_F64 };

#define GGUF_MAX_DEPTH 8

static size_t scalar_size(uint32_t t)
{
    switch (t) {
    case G_U8: case G_I8: case G_BOOL: return 1;
    case G_U16: case G_I16: return 2;
    case G_U32: case G_I32: case G_F32: return 4;
    case G_U64: case G_I64: case G_F64: return 8;
    default: return 0;
    }
}

static int read_count(emb_reader *r, uint64_t *v)
{
    if (r->len_bytes == 4) {
        uint32_t x;
        if (emb_cur_u32(&r->cur, &x))
            return EMB_EFORMAT;
        *v = x;
        return EMB_OK;
    }
    return emb_cur_u64(&r->cur, v);
}

/* Skip one value of type t; `utf8` asks string checks. Returns 0 or an error
 * already described in err. */
static int skip_value(emb_reader *r, uint32_t t, int depth, int utf8, emb_err *err)
{
    emb_cur *c = &r->cur;
    size_t at = c->pos;
    if (t == G_STR) {
        const uint8_t *s;
        size_t n;
        if (emb_cur_str(c, r->len_bytes, &s, &n))
            return emb_rd_err(r, err, EMB_EFORMAT, "string length past the end of the file (at byte %zu)", at);
        if (utf8 && !emb_utf8_valid(s, n))
            return emb_rd_err(r, err, EMB_EFORMAT, "token is not valid UTF-8 (at byte %zu)", at);
        return EMB_OK;
    }
    if (t == G_ARR) {
        uint32_t et;
        uint64_t count;
        if (depth >= GGUF_MAX_DEPTH)
            return emb_rd_err(r, err, EMB_EFORMAT, "arrays nested too deep (at byte %zu)", at);
        if (emb_cur_u32(c, &et) || read_count(r, &count))
            return emb_rd_err(r, err, EMB_EFORMAT, "truncated array header (at byte %zu)", at);
        size_t es = scalar_size(et), total;
        if (es) {
            if (count > SIZE_MAX || emb_mul_size((size_t)count, es, &total) ||
                emb_cur_skip(c, total))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "array of %llu elements past the end of the file (at byte %zu)",
                                  (unsigned long long)count, at);
            return EMB_OK;
        }
        if (et != G_STR && et != G_ARR)
            return emb_rd_err(r, err, EMB_EFORMAT, "unknown array element type %u (at byte %zu)",
                              et, at);
        for (uint64_t i = 0; i < count; i++) {
            int rc = skip_value(r, et, depth + 1, utf8, err);
            if (rc)
                return rc;
        }
        return EMB_OK;
    }
    size_t es = scalar_size(t);
    if (!es)
        return emb_rd_err(r, err, EMB_EFORMAT, "unknown metadata type %u (at byte %zu)", t, at);
    if (emb_cur_skip(c, es))
        return emb_rd_err(r, err, EMB_EFORMAT, "truncated metadata value (at byte %zu)", at);
    return EMB_OK;
}

static int gguf_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    if (r->row_id >= r->rows)
        return EMB_DONE;
    const uint8_t *src;
    int rc = emb_rd_tensor_row(r, &src, err);
    if (rc)
        return rc;
    if (r->qtype)
        r->qtype->dequant(src, r->row, r->dim / r->qtype->block_elems);
    else
        emb_rd_widen(r->row, src, r->ttype, r->dim);
    *tok = NULL;
    *tok_len = 0;
    if (r->row_id < r->n_tokens) {
        const uint8_t *s;
        size_t n;
        if (emb_cur_str(&r->tok, r->len_bytes, &s, &n) == EMB_OK) { /* checked at open */
            *tok = (const char *)s;
            *tok_len = n;
        }
    }
    return EMB_OK;
}

static void add_name(char *list, size_t cap, const uint8_t *s, size_t n, int *n_listed)
{
    size_t len = strlen(list);
    if (len + n + 8 >= cap)
        return;
    snprintf(list + len, cap - len, "%s%.*s", *n_listed ? ", " : "", (int)n, (const char *)s);
    (*n_listed)++;
}

static int key_is(const uint8_t *k, size_t n, const char *z)
{
    return n == strlen(z) && memcmp(k, z, n) == 0;
}

int emb_gguf_open(emb_reader *r, const char *tensor, emb_err *err)
{
    emb_cur *c = &r->cur;
    emb_cur_init(c, r->data, r->n);
    if (!tensor)
        tensor = "token_embd.weight";
    const uint8_t *magic;
    uint32_t version;
    if (emb_cur_bytes(c, 4, &magic) || memcmp(magic, "GGUF", 4) != 0)
        return emb_rd_err(r, err, EMB_EFORMAT, "not a GGUF file (bad magic) (at byte 0)");
    if (emb_cur_u32(c, &version))
        return emb_rd_err(r, err, EMB_EFORMAT, "truncated header (at byte 4)");
    if ((version & 0xFFFF) == 0 && version != 0) {
        uint32_t sw = __builtin_bswap32(version);
        if (sw >= 1 && sw <= 3)
            return emb_rd_err(r, err, EMB_EUNSUP,
                              "big-endian GGUF (version %u stored byte-swapped) is not supported; "
                              "expected a little-endian file (at byte 4)", sw);
    }
    if (version < 1 || version > 3)
        return emb_rd_err(r, err, EMB_EUNSUP, "unsupported version %u (expected 1, 2 or 3) (at byte 4)",
                          version);
    r->len_bytes = version == 1 ? 4 : 8;
    uint64_t n_tensors, n_kv;
    if (read_count(r, &n_tensors) || read_count(r, &n_kv))
        return emb_rd_err(r, err, EMB_EFORMAT, "truncated header (at byte %zu)", c->pos);
    uint64_t alignment = 32;
    for (uint64_t i = 0; i < n_kv; i++) {
        size_t at = c->pos;
        const uint8_t *key;
        size_t key_n;
        uint32_t t;
        if (emb_cur_str(c, r->len_bytes, &key, &key_n) || emb_cur_u32(c, &t))
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "metadata entry %llu of %llu past the end of the file (at byte %zu)",
                              (unsigned long long)i, (unsigned long long)n_kv, at);
        if (key_is(key, key_n, "general.alignment")) {
            uint32_t a;
            if (t != G_U32 || emb_cur_u32(c, &a) || a == 0 || (a & (a - 1)))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "general.alignment must be a u32 power of two (at byte %zu)", at);
            alignment = a;
            continue;
        }
        int is_tokens = key_is(key, key_n, "tokenizer.ggml.tokens");
        if (is_tokens) {
            emb_cur save = *c;
            uint32_t et;
            uint64_t count;
            if (t != G_ARR || emb_cur_u32(c, &et) || et != G_STR || read_count(r, &count))
                return emb_rd_err(r, err, EMB_EFORMAT,
                                  "tokenizer.ggml.tokens must be an array of strings (at byte %zu)",
                                  at);
            r->tok = *c;
            r->n_tokens = count > INT64_MAX ? INT64_MAX : (int64_t)count;
            *c = save;
        }
        int rc = skip_value(r, t, 0, is_tokens, err);
        if (rc)
            return rc;
    }
    char names[300] = "";
    int n_listed = 0, found = 0;
    uint64_t ne[4] = {0}, offset = 0;
    uint32_t n_dims = 0, ttype = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        size_t at = c->pos;
        const uint8_t *name;
        size_t name_n;
        uint32_t nd, tt;
        uint64_t dims[4], o;
        if (emb_cur_str(c, r->len_bytes, &name, &name_n) || emb_cur_u32(c, &nd))
            return emb_rd_err(r, err, EMB_EFORMAT,
                              "tensor info %llu of %llu past the end of the file (at byte %zu)",
                              (unsigned long long)i, (unsigned long long)n_tensors, at);
        if (nd == 0 || nd > 4)
            return emb_rd_err(r, err, EMB_EFORMAT, "tensor with %u dimensions (at byte %zu)", nd,
                              at);
        for (uint32_t d = 0; d < nd; d++)
            if (read_count(r, &dims[d]))
                return emb_rd_err(r, err, EMB_EFORMAT, "truncated tensor info (at byte %zu)", at);
        if (emb_cur_u32(c, &tt) || emb_cur_u64(c, &o))
            return emb_rd_err(r, err, EMB_EFORMAT, "truncated tensor info (at byte %zu)", at);
        add_name(names, sizeof names, name, name_n, &n_listed);
        if (!found && key_is(name, name_n, tensor)) {
            found = 1;
            n_dims = nd;
            memcpy(ne, dims, sizeof dims[0] * nd);
            ttype = tt;
            offset = o;
        }
    }
    if (!found)
        return emb_rd_err(r, err, EMB_ENOTFOUND, "no tensor '%.100s' (available: %s%s)", tensor,
                          n_tensors ? names : "none",
                          (uint64_t)n_listed < n_tensors ? ", ..." : "");
    size_t data_start = c->pos;
    size_t pad = (size_t)(alignment - data_start % alignment) % (size_t)alignment;
    if (emb_add_size(data_start, pad, &data_start) || data_start > emb_rd_size(r))
        return emb_rd_err(r, err, EMB_EFORMAT, "file ends before the tensor data (at byte %zu)",
                          c->pos);
    if (n_dims != 2)
        return emb_rd_err(r, err, EMB_EUNSUP, "tensor '%.100s' is %u-D (expected 2-D)", tensor,
                          n_dims);
    const emb_ggml_type *qt = emb_ggml_type_get(ttype);
    if (!qt) {
        const char *tn = emb_ggml_type_name(ttype);
        return emb_rd_err(r, err, EMB_EUNSUP,
                          "tensor '%.100s' has unsupported type %s%s%u%s (expected %s)", tensor,
                          tn ? tn : "", tn ? " (" : "", ttype, tn ? ")" : "",
                          emb_ggml_supported_list());
    }
    if (ne[0] == 0 || ne[0] > EMB_MAX_DIM)
        return emb_rd_err(r, err, EMB_ERANGE, "tensor '%.100s' dimension %llu out of range (1..%d)",
                          tensor, (unsigned long long)ne[0], EMB_MAX_DIM);
    size_t dim = (size_t)ne[0];
    if (dim % qt->block_elems)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "tensor '%.100s': %s needs a dimension divisible by %zu (found %zu)",
                          tensor, qt->name, qt->block_elems, dim);
    size_t row_bytes = dim / qt->block_elems * qt->block_bytes;
    int t = 0;
    switch (ttype) {
    case EMB_GGML_F32: t = EMB_T_F32; break;
    case EMB_GGML_F16: t = EMB_T_F16; break;
    case EMB_GGML_BF16: t = EMB_T_BF16; break;
    default: r->qtype = qt; break; /* block types decode through ggml_quants.c */
    }
    size_t size, end;
    if (ne[1] > INT64_MAX || emb_mul_size((size_t)ne[1], row_bytes, &size) ||
        offset > SIZE_MAX || emb_add_size(data_start, (size_t)offset, &end) ||
        emb_add_size(end, size, &end) || end > emb_rd_size(r))
        return emb_rd_err(r, err, EMB_ERANGE,
                          "tensor '%.100s' (%llu x %llu at offset %llu) extends past the end of "
                          "the file (data starts at byte %zu, file has %zu bytes)",
                          tensor, (unsigned long long)ne[1], (unsigned long long)ne[0],
                          (unsigned long long)offset, data_start, emb_rd_size(r));
    r->toff = data_start + (size_t)offset;
    r->ttype = t;
    r->rows = (int64_t)ne[1];
    r->dim = dim;
    r->row_bytes = row_bytes;
    r->next = gguf_next;
    return EMB_OK;
}
