/*
 * read_safetensors.c - one 2-D tensor from a .safetensors file.
 *
 * Layout: u64 LE header length N, N bytes of JSON, then the data block.
 * The JSON is an object: tensor name -> {"dtype": "F32", "shape": [R, C],
 * "data_offsets": [begin, end]} (offsets relative to the data block), plus
 * an optional "__metadata__" object that is skipped.  The JSON is read with
 * core/json.h (strict RFC 8259, nesting limited to 64, never allocates);
 * names are compared with their escapes decoded; a name listed twice is an
 * error.  Accepted dtypes: F32, F16, BF16 (widened).
 * The tensor's byte range must lie inside the data block and match its
 * shape exactly.  A wrong name lists the available tensors.
 */
#include "readers/read_formats.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

/* [a, b, ...] of at most `cap` integers; *n = how many there were. */
static int js_uints(emb_json *j, uint64_t *v, int cap, int *n)
{
    *n = 0;
    int more = emb_json_enter(j, '[');
    while (more) {
        uint64_t x;
        if (!emb_json_uint(j, &x))
            return 0;
        if (*n < cap)
            v[*n] = x;
        (*n)++;
        more = emb_json_next(j, ']');
    }
    return !j->what;
}

typedef struct tinfo {
    const char *dt, *dt_end;
    uint64_t shape[2], offs[2];
    int ndim, n_offs, have_dt, have_shape, have_offs;
} tinfo;

static int parse_tensor(emb_json *j, tinfo *t)
{
    memset(t, 0, sizeof *t);
    if (emb_json_peek(j) != EMB_JSON_OBJECT)
        return emb_json_fail(j, "expected a tensor object");
    int more = emb_json_enter(j, '{');
    while (more) {
        emb_json_str k;
        if (!emb_json_string(j, &k) || !emb_json_colon(j))
            return 0;
        if (emb_json_str_eq(&k, "dtype")) {
            emb_json_str v;
            if (!emb_json_string(j, &v))
                return 0;
            t->dt = v.s;
            t->dt_end = v.e;
            t->have_dt = 1;
        } else if (emb_json_str_eq(&k, "shape")) {
            if (!js_uints(j, t->shape, 2, &t->ndim))
                return 0;
            t->have_shape = 1;
        } else if (emb_json_str_eq(&k, "data_offsets")) {
            if (!js_uints(j, t->offs, 2, &t->n_offs))
                return 0;
            t->have_offs = 1;
        } else if (!emb_json_skip(j)) {
            return 0;
        }
        more = emb_json_next(j, '}');
    }
    return !j->what;
}

static int st_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    if (r->row_id >= r->rows)
        return EMB_DONE;
    const uint8_t *src;
    int rc = emb_rd_tensor_row(r, &src, err);
    if (rc)
        return rc;
    emb_rd_widen(r->row, src, r->ttype, r->dim);
    *tok = NULL;
    *tok_len = 0;
    return EMB_OK;
}

static void add_name(char *list, size_t cap, const char *s, const char *e, int *n_listed)
{
    size_t len = strlen(list), n = (size_t)(e - s);
    if (len + n + 8 >= cap)
        return;
    snprintf(list + len, cap - len, "%s%.*s", *n_listed ? ", " : "", (int)n, s);
    (*n_listed)++;
}

int emb_safetensors_open(emb_reader *r, const char *tensor, emb_err *err)
{
    emb_cur *c = &r->cur;
    emb_cur_init(c, r->data, r->n);
    if (!tensor)
        return emb_rd_err(r, err, EMB_EINVAL, "a tensor name is required");
    if (emb_safetensors_is_index(r->data, r->n))
        return emb_safetensors_shard(r, NULL, tensor, NULL, 0, err);
    uint64_t hl;
    if (emb_cur_u64(c, &hl))
        return emb_rd_err(r, err, EMB_EFORMAT, "file too short for the header length (%zu bytes)",
                          r->n);
    const uint8_t *hp;
    if (hl > emb_rd_size(r) - 8 || emb_cur_bytes(c, (size_t)hl, &hp))
        return emb_rd_err(r, err, EMB_EFORMAT, "header length %llu exceeds file size %zu",
                          (unsigned long long)hl, emb_rd_size(r));
    size_t data_start = c->pos, data_len = emb_rd_size(r) - data_start;
    emb_json j;
    emb_json_init(&j, (const char *)hp, (size_t)hl, 8);
    char names[300] = "";
    int n_tensors = 0, n_listed = 0, found = 0;
    tinfo want = {0};
    if (emb_json_peek(&j) != EMB_JSON_OBJECT)
        emb_json_fail(&j, "expected '{'");
    int more = emb_json_enter(&j, '{');
    while (more) {
        emb_json_str name;
        if (!emb_json_string(&j, &name) || !emb_json_colon(&j))
            break;
        if (emb_json_str_eq(&name, "__metadata__")) {
            emb_json_skip(&j);
        } else {
            tinfo t;
            if (!parse_tensor(&j, &t))
                break;
            n_tensors++;
            add_name(names, sizeof names, name.s, name.e, &n_listed);
            if (emb_json_str_eq(&name, tensor)) {
                if (found)
                    return emb_rd_err(r, err, EMB_EFORMAT,
                                      "tensor '%.100s' is listed twice in the header", tensor);
                want = t;
                found = 1;
            }
        }
        more = emb_json_next(&j, '}');
    }
    emb_json_end(&j);
    if (j.what)
        return emb_rd_err(r, err, EMB_EFORMAT, "malformed JSON header: %s (at byte %zu)", j.what,
                          emb_json_off(&j));
    if (!found)
        return emb_rd_err(r, err, EMB_ENOTFOUND, "no tensor '%.100s' (available: %s%s)", tensor,
                          n_tensors ? names : "none",
                          n_listed < n_tensors ? ", ..." : "");
    if (!want.have_dt || !want.have_shape || !want.have_offs)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "tensor '%.100s' needs dtype, shape and data_offsets", tensor);
    size_t dtn = (size_t)(want.dt_end - want.dt);
    int tt;
    if (dtn == 3 && memcmp(want.dt, "F32", 3) == 0)
        tt = EMB_T_F32;
    else if (dtn == 3 && memcmp(want.dt, "F16", 3) == 0)
        tt = EMB_T_F16;
    else if (dtn == 4 && memcmp(want.dt, "BF16", 4) == 0)
        tt = EMB_T_BF16;
    else
        return emb_rd_err(r, err, EMB_EUNSUP,
                          "tensor '%.100s' has unsupported dtype '%.*s' (expected F32, F16 or BF16)",
                          tensor, dtn > 20 ? 20 : (int)dtn, want.dt);
    if (want.ndim != 2)
        return emb_rd_err(r, err, EMB_EUNSUP, "tensor '%.100s' is %d-D (expected 2-D)", tensor,
                          want.ndim);
    if (want.n_offs != 2 || want.offs[0] > want.offs[1] || want.offs[1] > data_len)
        return emb_rd_err(r, err, EMB_ERANGE,
                          "tensor '%.100s' data_offsets [%llu, %llu] outside the data block "
                          "(%zu bytes at byte %zu)",
                          tensor, (unsigned long long)want.offs[0],
                          (unsigned long long)want.offs[1], data_len, data_start);
    if (want.shape[1] == 0 || want.shape[1] > EMB_MAX_DIM)
        return emb_rd_err(r, err, EMB_ERANGE, "tensor '%.100s' dimension %llu out of range (1..%d)",
                          tensor, (unsigned long long)want.shape[1], EMB_MAX_DIM);
    size_t row_bytes = (size_t)want.shape[1] * emb_rd_type_size(tt), need;
    uint64_t span = want.offs[1] - want.offs[0];
    if (want.shape[0] > (uint64_t)INT64_MAX ||
        emb_mul_size((size_t)want.shape[0], row_bytes, &need) || need != span)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "tensor '%.100s' shape [%llu, %llu] of %.*s does not match its %llu "
                          "data bytes",
                          tensor, (unsigned long long)want.shape[0],
                          (unsigned long long)want.shape[1], (int)dtn, want.dt,
                          (unsigned long long)span);
    r->toff = data_start + (size_t)want.offs[0];
    r->ttype = tt;
    r->rows = (int64_t)want.shape[0];
    r->dim = (size_t)want.shape[1];
    r->row_bytes = row_bytes;
    r->next = st_next;
    return EMB_OK;
}

/* ---- sharded checkpoints: model.safetensors.index.json ----------------
 * {"metadata": {...}, "weight_map": {"tensor name": "shard file", ...}}.
 * The data starts (after blanks) with '{', which a safetensors file can
 * only do if its u64 header length also fits the file, so the two never
 * collide. */

int emb_safetensors_is_index(const uint8_t *data, size_t n)
{
    if (n >= 8 && emb_load_u64le(data) <= n - 8)
        return 0;
    size_t i = 0;
    while (i < n && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    return i < n && data[i] == '{';
}

/* A shard name must stay next to the index: relative, no ".." part. */
static int shard_name_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '/' || memchr(s, 0, n) || !emb_utf8_valid((const uint8_t *)s, n))
        return 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        if (j - i == 2 && s[i] == '.' && s[i + 1] == '.')
            return 0;
        i = j + 1;
    }
    return 1;
}

int emb_safetensors_shard(emb_reader *r, const char *index_path, const char *tensor, char *out,
                          size_t cap, emb_err *err)
{
    if (!tensor)
        return emb_rd_err(r, err, EMB_EINVAL, "a tensor name is required");
    emb_json j;
    emb_json_init(&j, (const char *)r->data, r->n, 0);
    emb_json_str found = {0}, key, val;
    int n_found = 0, have_map = 0, n_names = 0, n_listed = 0;
    char names[300] = "";
    int more = emb_json_enter(&j, '{');
    while (more) {
        if (!emb_json_string(&j, &key) || !emb_json_colon(&j))
            break;
        if (!emb_json_str_eq(&key, "weight_map")) {
            emb_json_skip(&j);
        } else {
            if (emb_json_peek(&j) != EMB_JSON_OBJECT) {
                emb_json_fail(&j, "weight_map must be an object");
                break;
            }
            have_map = 1;
            int m = emb_json_enter(&j, '{');
            while (m) {
                if (!emb_json_string(&j, &key) || !emb_json_colon(&j) ||
                    !emb_json_string(&j, &val))
                    break;
                n_names++;
                add_name(names, sizeof names, key.s, key.e, &n_listed);
                if (emb_json_str_eq(&key, tensor)) {
                    if (n_found)
                        return emb_rd_err(r, err, EMB_EFORMAT,
                                          "tensor '%.100s' is listed in two shards: %.*s and %.*s",
                                          tensor, (int)(found.e - found.s), found.s,
                                          (int)(val.e - val.s), val.s);
                    found = val;
                    n_found = 1;
                }
                m = emb_json_next(&j, '}');
            }
        }
        more = emb_json_next(&j, '}');
    }
    emb_json_end(&j);
    if (j.what)
        return emb_rd_err(r, err, EMB_EFORMAT, "malformed index JSON: %s (at byte %zu)", j.what,
                          emb_json_off(&j));
    if (!have_map)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "not a safetensors file, nor an index with a \"weight_map\" object");
    if (!n_found)
        return emb_rd_err(r, err, EMB_ENOTFOUND, "no tensor '%.100s' in weight_map (available: %s%s)",
                          tensor, n_names ? names : "none", n_listed < n_names ? ", ..." : "");
    if (found.escaped)
        return emb_rd_err(r, err, EMB_EUNSUP, "shard name of '%.100s' has JSON escapes", tensor);
    size_t sn = (size_t)(found.e - found.s);
    if (!shard_name_ok(found.s, sn))
        return emb_rd_err(r, err, EMB_EINVAL,
                          "shard name '%.*s' of '%.100s' must be a relative path without '..'",
                          sn > 100 ? 100 : (int)sn, found.s, tensor);
    if (!index_path)
        return emb_rd_err(r, err, EMB_EINVAL,
                          "a sharded-checkpoint index must be opened by path (its shards are "
                          "files next to it)");
    const char *slash = strrchr(index_path, '/');
    size_t dn = slash ? (size_t)(slash - index_path) + 1 : 0;
    if (dn + sn + 1 > cap)
        return emb_rd_err(r, err, EMB_ERANGE, "shard path too long");
    memcpy(out, index_path, dn);
    memcpy(out + dn, found.s, sn);
    out[dn + sn] = 0;
    return EMB_OK;
}
