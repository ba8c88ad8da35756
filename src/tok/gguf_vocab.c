/*
 * gguf_vocab.c - the tokenizer.ggml.* metadata of a GGUF file -> emb_tok.
 *
 * The GGUF header and metadata are walked with the bounds-checked cursor
 * (readers/bytes.h): "GGUF", u32 version (1..3), tensor and metadata counts
 * (u32 in v1, u64 later), then key (string), u32 type, value.  Strings are a
 * length (u32 in v1, u64 later) and bytes.  Arrays: u32 element type, count,
 * elements (nesting limited).  Keys read here:
 *   tokenizer.ggml.model       string "llama" | "gpt2"
 *   tokenizer.ggml.pre         string (gpt2 only: "gpt2" or absent)
 *   tokenizer.ggml.tokens      [string]
 *   tokenizer.ggml.scores      [f32]  (same count)
 *   tokenizer.ggml.token_type  [i32]  (same count)
 *   tokenizer.ggml.merges      [string] "left right", rank = index
 *   tokenizer.ggml.{bos,eos,unknown}_token_id   an integer
 *   tokenizer.ggml.add_{bos,eos}_token, add_space_prefix   bool
 * Everything else is skipped.  emb_tok_gguf_extract keeps only these keys
 * (all tokenizer.ggml.* keys), so a database can store the tokenizer without
 * the tensors.
 */
#include "tok/tok_int.h"
#include "core/alloc.h"
#include "readers/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { G_U8, G_I8, G_U16, G_I16, G_U32, G_I32, G_F32, G_BOOL, G_STR, G_ARR, G_U64, G_I64, G_F64 };

typedef struct gguf_walk {
    emb_cur c;
    int len_bytes;       /* 4 (v1) or 8 */
    uint32_t version;
    uint64_t n_tensors, n_kv;
} gguf_walk;

/* An array value found in the metadata: element type, count, and a cursor
 * at its first element. */
typedef struct gguf_arr {
    int present;
    uint32_t et;
    uint64_t count;
    emb_cur at;
} gguf_arr;

typedef struct tok_meta {
    const uint8_t *model, *pre;
    size_t model_n, pre_n;
    gguf_arr tokens, scores, types, merges;
    int64_t bos, eos, unk;
    int add_bos, add_eos, add_space;
} tok_meta;

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

static int read_count(gguf_walk *w, uint64_t *v)
{
    if (w->len_bytes == 4) {
        uint32_t x;
        if (emb_cur_u32(&w->c, &x))
            return EMB_EFORMAT;
        *v = x;
        return EMB_OK;
    }
    return emb_cur_u64(&w->c, v);
}

static int skip_value(gguf_walk *w, uint32_t t, int depth, emb_err *err)
{
    size_t at = w->c.pos;
    if (t == G_STR) {
        const uint8_t *s;
        size_t n;
        if (emb_cur_str(&w->c, w->len_bytes, &s, &n))
            return emb_err_set(err, EMB_EFORMAT, "gguf: string past the end (at byte %zu)", at);
        return EMB_OK;
    }
    if (t == G_ARR) {
        uint32_t et;
        uint64_t count;
        if (depth >= 8)
            return emb_err_set(err, EMB_EFORMAT, "gguf: arrays nested too deep (at byte %zu)", at);
        if (emb_cur_u32(&w->c, &et) || read_count(w, &count))
            return emb_err_set(err, EMB_EFORMAT, "gguf: truncated array (at byte %zu)", at);
        size_t es = scalar_size(et), total;
        if (es) {
            if (count > SIZE_MAX || emb_mul_size((size_t)count, es, &total) ||
                emb_cur_skip(&w->c, total))
                return emb_err_set(err, EMB_EFORMAT, "gguf: array past the end (at byte %zu)", at);
            return EMB_OK;
        }
        if (et != G_STR && et != G_ARR)
            return emb_err_set(err, EMB_EFORMAT, "gguf: unknown array type %u (at byte %zu)", et, at);
        if (count > emb_cur_left(&w->c))
            return emb_err_set(err, EMB_EFORMAT, "gguf: array past the end (at byte %zu)", at);
        for (uint64_t i = 0; i < count; i++) {
            int rc = skip_value(w, et, depth + 1, err);
            if (rc)
                return rc;
        }
        return EMB_OK;
    }
    size_t es = scalar_size(t);
    if (!es)
        return emb_err_set(err, EMB_EFORMAT, "gguf: unknown metadata type %u (at byte %zu)", t, at);
    if (emb_cur_skip(&w->c, es))
        return emb_err_set(err, EMB_EFORMAT, "gguf: truncated value (at byte %zu)", at);
    return EMB_OK;
}

static int walk_header(gguf_walk *w, const uint8_t *data, size_t n, emb_err *err)
{
    const uint8_t *magic;
    emb_cur_init(&w->c, data, n);
    if (emb_cur_bytes(&w->c, 4, &magic) || memcmp(magic, "GGUF", 4) != 0)
        return emb_err_set(err, EMB_EFORMAT, "gguf: not a GGUF file (bad magic)");
    if (emb_cur_u32(&w->c, &w->version) || w->version < 1 || w->version > 3)
        return emb_err_set(err, EMB_EUNSUP, "gguf: unsupported or missing version (expected 1..3)");
    w->len_bytes = w->version == 1 ? 4 : 8;
    if (read_count(w, &w->n_tensors) || read_count(w, &w->n_kv))
        return emb_err_set(err, EMB_EFORMAT, "gguf: truncated header");
    return EMB_OK;
}

static int key_is(const uint8_t *k, size_t n, const char *z)
{
    return n == strlen(z) && memcmp(k, z, n) == 0;
}

/* An integer metadata value of any integer type. */
static int read_int(gguf_walk *w, uint32_t t, int64_t *v)
{
    uint8_t b;
    uint16_t h;
    uint32_t x;
    uint64_t y;
    switch (t) {
    case G_U8: if (emb_cur_u8(&w->c, &b)) return EMB_EFORMAT; *v = b; return EMB_OK;
    case G_I8: if (emb_cur_u8(&w->c, &b)) return EMB_EFORMAT; *v = (int8_t)b; return EMB_OK;
    case G_U16: if (emb_cur_u16(&w->c, &h)) return EMB_EFORMAT; *v = h; return EMB_OK;
    case G_I16: if (emb_cur_u16(&w->c, &h)) return EMB_EFORMAT; *v = (int16_t)h; return EMB_OK;
    case G_U32: if (emb_cur_u32(&w->c, &x)) return EMB_EFORMAT; *v = x; return EMB_OK;
    case G_I32: if (emb_cur_u32(&w->c, &x)) return EMB_EFORMAT; *v = (int32_t)x; return EMB_OK;
    case G_U64: case G_I64:
        if (emb_cur_u64(&w->c, &y)) return EMB_EFORMAT;
        *v = y > INT64_MAX ? -1 : (int64_t)y;
        return EMB_OK;
    default: return EMB_EINVAL;
    }
}

static int read_meta(const uint8_t *data, size_t n, tok_meta *m, emb_err *err)
{
    gguf_walk w;
    int rc = walk_header(&w, data, n, err);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->bos = m->eos = m->unk = -1;
    m->add_bos = m->add_eos = m->add_space = -1;
    for (uint64_t i = 0; i < w.n_kv; i++) {
        size_t at = w.c.pos;
        const uint8_t *key;
        size_t kn;
        uint32_t t;
        if (emb_cur_str(&w.c, w.len_bytes, &key, &kn) || emb_cur_u32(&w.c, &t))
            return emb_err_set(err, EMB_EFORMAT, "gguf: metadata entry %llu past the end (at byte %zu)",
                               (unsigned long long)i, at);
        if (kn < 15 || memcmp(key, "tokenizer.ggml.", 15) != 0) {
            if ((rc = skip_value(&w, t, 0, err)))
                return rc;
            continue;
        }
        const char *k = (const char *)key + 15;
        size_t k_n = kn - 15;
        gguf_arr *arr = NULL;
        if (key_is((const uint8_t *)k, k_n, "tokens")) arr = &m->tokens;
        else if (key_is((const uint8_t *)k, k_n, "scores")) arr = &m->scores;
        else if (key_is((const uint8_t *)k, k_n, "token_type")) arr = &m->types;
        else if (key_is((const uint8_t *)k, k_n, "merges")) arr = &m->merges;
        if (arr) {
            if (t != G_ARR)
                return emb_err_set(err, EMB_EFORMAT, "gguf: tokenizer.ggml.%.*s must be an array (at byte %zu)",
                                   (int)k_n, k, at);
            emb_cur save = w.c;
            if (emb_cur_u32(&w.c, &arr->et) || read_count(&w, &arr->count))
                return emb_err_set(err, EMB_EFORMAT, "gguf: truncated array (at byte %zu)", at);
            arr->at = w.c;
            arr->present = 1;
            w.c = save;
            if ((rc = skip_value(&w, t, 0, err)))
                return rc;
            continue;
        }
        int is_str = key_is((const uint8_t *)k, k_n, "model") || key_is((const uint8_t *)k, k_n, "pre");
        if (is_str) {
            const uint8_t *s;
            size_t sn;
            if (t != G_STR || emb_cur_str(&w.c, w.len_bytes, &s, &sn))
                return emb_err_set(err, EMB_EFORMAT, "gguf: tokenizer.ggml.%.*s must be a string (at byte %zu)",
                                   (int)k_n, k, at);
            if (k[0] == 'm') { m->model = s; m->model_n = sn; }
            else { m->pre = s; m->pre_n = sn; }
            continue;
        }
        int64_t *idp = key_is((const uint8_t *)k, k_n, "bos_token_id") ? &m->bos
                       : key_is((const uint8_t *)k, k_n, "eos_token_id") ? &m->eos
                       : key_is((const uint8_t *)k, k_n, "unknown_token_id") ? &m->unk : NULL;
        if (idp) {
            rc = read_int(&w, t, idp);
            if (rc == EMB_EINVAL)
                return emb_err_set(err, EMB_EFORMAT, "gguf: tokenizer.ggml.%.*s must be an integer (at byte %zu)",
                                   (int)k_n, k, at);
            if (rc)
                return emb_err_set(err, EMB_EFORMAT, "gguf: truncated value (at byte %zu)", at);
            continue;
        }
        int *flag = key_is((const uint8_t *)k, k_n, "add_bos_token") ? &m->add_bos
                    : key_is((const uint8_t *)k, k_n, "add_eos_token") ? &m->add_eos
                    : key_is((const uint8_t *)k, k_n, "add_space_prefix") ? &m->add_space : NULL;
        if (flag && t == G_BOOL) {
            uint8_t b;
            if (emb_cur_u8(&w.c, &b))
                return emb_err_set(err, EMB_EFORMAT, "gguf: truncated value (at byte %zu)", at);
            *flag = b != 0;
            continue;
        }
        if ((rc = skip_value(&w, t, 0, err)))
            return rc;
    }
    return EMB_OK;
}

int emb_tok_gguf_extract(const uint8_t *data, size_t n, uint8_t **blob, size_t *blob_n,
                         emb_err *err)
{
    gguf_walk w;
    int rc = walk_header(&w, data, n, err);
    if (rc)
        return rc;
    /* First pass: total size and count of the kept entries. */
    size_t hdr = 4 + 4 + 2 * (size_t)w.len_bytes, total = hdr;
    uint64_t kept = 0;
    size_t kv_start = w.c.pos;
    for (int pass = 0; pass < 2; pass++) {
        uint8_t *out = NULL;
        size_t o = hdr;
        if (pass == 1) {
            out = emb_malloc(total);
            if (!out)
                return emb_err_set(err, EMB_ENOMEM, "gguf: out of memory (%zu bytes)", total);
            memcpy(out, "GGUF", 4);
            for (int b = 0; b < 4; b++)
                out[4 + b] = (uint8_t)(w.version >> (8 * b));
            for (int b = 0; b < w.len_bytes; b++) {
                out[8 + b] = 0; /* no tensors */
                out[8 + w.len_bytes + b] = (uint8_t)(b < 8 ? kept >> (8 * b) : 0);
            }
            emb_cur_seek(&w.c, kv_start);
        }
        for (uint64_t i = 0; i < w.n_kv; i++) {
            size_t at = w.c.pos;
            const uint8_t *key;
            size_t kn;
            uint32_t t;
            if (emb_cur_str(&w.c, w.len_bytes, &key, &kn) || emb_cur_u32(&w.c, &t)) {
                emb_free(out);
                return emb_err_set(err, EMB_EFORMAT,
                                   "gguf: metadata entry %llu past the end (at byte %zu)",
                                   (unsigned long long)i, at);
            }
            if ((rc = skip_value(&w, t, 0, err))) {
                emb_free(out);
                return rc;
            }
            if (kn >= 15 && memcmp(key, "tokenizer.ggml.", 15) == 0) {
                size_t len = w.c.pos - at;
                if (pass == 0) {
                    total += len;
                    kept++;
                } else {
                    memcpy(out + o, data + at, len);
                    o += len;
                }
            }
        }
        if (pass == 1) {
            *blob = out;
            *blob_n = total;
        }
    }
    return EMB_OK;
}

/* Copy the array of strings into t->pool/off/len. */
static int load_tokens(emb_tok *t, const tok_meta *m, int len_bytes, emb_err *err)
{
    if (m->tokens.et != G_STR)
        return emb_err_set(err, EMB_EFORMAT, "gguf: tokenizer.ggml.tokens must hold strings");
    if (m->tokens.count == 0 || m->tokens.count > EMB_TOK_MAX_VOCAB)
        return emb_err_set(err, EMB_ERANGE, "gguf: %llu tokens (expected 1..%d)",
                           (unsigned long long)m->tokens.count, EMB_TOK_MAX_VOCAB);
    size_t nt = (size_t)m->tokens.count, pool_n = 0;
    emb_cur c = m->tokens.at;
    for (size_t i = 0; i < nt; i++) {
        const uint8_t *s;
        size_t sn;
        if (emb_cur_str(&c, len_bytes, &s, &sn) || sn > UINT32_MAX)
            return emb_err_set(err, EMB_EFORMAT, "gguf: token %zu past the end of the file", i);
        pool_n += sn + 1;
    }
    if (emb_tok_alloc(t, nt, pool_n, err))
        return EMB_ENOMEM;
    c = m->tokens.at;
    size_t o = 0;
    for (size_t i = 0; i < nt; i++) {
        const uint8_t *s;
        size_t sn;
        emb_cur_str(&c, len_bytes, &s, &sn); /* checked above */
        memcpy(t->pool + o, s, sn);
        t->pool[o + sn] = 0;
        t->off[i] = o;
        t->len[i] = (uint32_t)sn;
        o += sn + 1;
        t->type[i] = EMB_TT_NORMAL;
        emb_tok_map_add(t, (int32_t)i); /* a repeated text: the last id wins */
    }
    if (m->scores.present) {
        if (m->scores.et != G_F32 || m->scores.count != nt)
            return emb_err_set(err, EMB_EFORMAT,
                               "gguf: tokenizer.ggml.scores must be %zu f32 (found %llu of type %u)",
                               nt, (unsigned long long)m->scores.count, m->scores.et);
        for (size_t i = 0; i < nt; i++)
            t->score[i] = emb_load_f32le(m->scores.at.base + m->scores.at.pos + 4 * i);
    }
    if (m->types.present) {
        if (m->types.et != G_I32 || m->types.count != nt)
            return emb_err_set(err, EMB_EFORMAT,
                               "gguf: tokenizer.ggml.token_type must be %zu i32 (found %llu of type %u)",
                               nt, (unsigned long long)m->types.count, m->types.et);
        for (size_t i = 0; i < nt; i++) {
            uint32_t v = emb_load_u32le(m->types.at.base + m->types.at.pos + 4 * i);
            t->type[i] = v >= 1 && v <= 6 ? (uint8_t)v : EMB_TT_NORMAL;
        }
    }
    return EMB_OK;
}

static int load_merges(emb_tok *t, const tok_meta *m, int len_bytes, emb_err *err)
{
    if (!m->merges.present || m->merges.et != G_STR)
        return emb_err_set(err, EMB_EFORMAT, "gguf: a gpt2 tokenizer needs tokenizer.ggml.merges (strings)");
    if (m->merges.count > EMB_TOK_MAX_VOCAB)
        return emb_err_set(err, EMB_ERANGE, "gguf: %llu merges (at most %d)",
                           (unsigned long long)m->merges.count, EMB_TOK_MAX_VOCAB);
    size_t nm = (size_t)m->merges.count;
    if (emb_tok_pairs_alloc(t, nm, err))
        return EMB_ENOMEM;
    emb_cur c = m->merges.at;
    char *buf = NULL;
    size_t buf_cap = 0;
    for (size_t r = 0; r < nm; r++) {
        const uint8_t *s;
        size_t sn;
        if (emb_cur_str(&c, len_bytes, &s, &sn)) {
            emb_free(buf);
            return emb_err_set(err, EMB_EFORMAT, "gguf: merge %zu past the end of the file", r);
        }
        const uint8_t *sp = sn > 1 ? memchr(s + 1, ' ', sn - 1) : NULL;
        if (!sp)
            continue; /* not "left right": cannot apply */
        size_t ln = (size_t)(sp - s), rn = sn - ln - 1;
        int32_t l = emb_tok_find(t, (const char *)s, ln);
        int32_t rr = emb_tok_find(t, (const char *)sp + 1, rn);
        if (ln + rn > buf_cap) {
            emb_free(buf);
            buf_cap = 2 * (ln + rn) + 16;
            buf = emb_malloc(buf_cap);
            if (!buf)
                return emb_err_set(err, EMB_ENOMEM, "gguf: out of memory");
        }
        memcpy(buf, s, ln);
        memcpy(buf + ln, sp + 1, rn);
        int32_t id = emb_tok_find(t, buf, ln + rn);
        if (l < 0 || rr < 0 || id < 0)
            continue; /* a merge whose parts or result are no tokens never applies */
        /* the first (lowest) rank of a repeated merge counts, as in llama.cpp */
        emb_tok_pair_add(t, l, rr, (int32_t)r, id, 0);
    }
    emb_free(buf);
    return EMB_OK;
}

static int32_t id_or_none(int64_t v, size_t nt)
{
    return v >= 0 && (uint64_t)v < nt ? (int32_t)v : -1;
}

int emb_tok_load_gguf(const uint8_t *data, size_t n, emb_tok **out, emb_err *err)
{
    tok_meta m;
    gguf_walk w;
    int rc = walk_header(&w, data, n, err);
    if (rc)
        return rc;
    if ((rc = read_meta(data, n, &m, err)))
        return rc;
    if (!m.model)
        return emb_err_set(err, EMB_ENOTFOUND, "gguf: no tokenizer in the file (tokenizer.ggml.model is missing)");
    int kind;
    if (key_is(m.model, m.model_n, "llama"))
        kind = EMB_TOK_SPM;
    else if (key_is(m.model, m.model_n, "gpt2"))
        kind = EMB_TOK_BPE;
    else
        return emb_err_set(err, EMB_EUNSUP,
                           "gguf: tokenizer.ggml.model '%.*s' is not supported (expected 'llama' or 'gpt2')",
                           (int)(m.model_n > 40 ? 40 : m.model_n), (const char *)m.model);
    if (kind == EMB_TOK_BPE && m.pre && !key_is(m.pre, m.pre_n, "gpt2"))
        return emb_err_set(err, EMB_EUNSUP,
                           "gguf: tokenizer.ggml.pre '%.*s' is not supported (expected 'gpt2')",
                           (int)(m.pre_n > 40 ? 40 : m.pre_n), (const char *)m.pre);
    if (!m.tokens.present)
        return emb_err_set(err, EMB_ENOTFOUND, "gguf: no tokenizer.ggml.tokens in the file");
    emb_tok *t = emb_calloc(1, sizeof *t);
    if (!t)
        return emb_err_set(err, EMB_ENOMEM, "gguf: out of memory");
    t->kind = kind;
    t->format = EMB_TOK_FMT_GGUF;
    if ((rc = load_tokens(t, &m, w.len_bytes, err)) ||
        (kind == EMB_TOK_BPE && (rc = load_merges(t, &m, w.len_bytes, err)))) {
        emb_tok_free(t);
        return rc;
    }
    size_t nt = t->n_tokens;
    t->bos = id_or_none(m.bos, nt);
    t->eos = id_or_none(m.eos, nt);
    t->unk = id_or_none(m.unk, nt);
    t->add_bos = m.add_bos >= 0 ? m.add_bos : kind == EMB_TOK_SPM;
    t->add_eos = m.add_eos >= 0 ? m.add_eos : 0;
    t->add_space_prefix = kind == EMB_TOK_SPM && (m.add_space >= 0 ? m.add_space : 1);
    emb_tok_byte_tokens(t);
    if (kind == EMB_TOK_SPM && (rc = emb_tok_spm_pairs(t, err))) {
        emb_tok_free(t);
        return rc;
    }
    t->spm_split = kind == EMB_TOK_SPM;
    for (size_t i = 0; i < nt && t->spm_split; i++) {
        const char *s = t->pool + t->off[i];
        size_t tn = t->len[i], prev_is_sp = 1;
        for (size_t k = 0; k < tn;) {
            size_t cl = emb_tok_utf8_len((unsigned char)s[k]);
            if (cl > tn - k)
                cl = tn - k;
            int is_sp = cl == 3 && memcmp(s + k, "\xE2\x96\x81", 3) == 0;
            if (is_sp && !prev_is_sp && k > 0)
                t->spm_split = 0;
            prev_is_sp = is_sp;
            k += cl;
        }
    }
    *out = t;
    return EMB_OK;
}
