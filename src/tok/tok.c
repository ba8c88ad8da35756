/*
 * tok.c - the tokenizer object: accessors, encode (BOS/EOS around the kind's
 * own encoder), decode, and GPT-2's byte<->unicode map.
 *
 * GPT-2's map: the bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for the
 * code point of the same value; the other 68 bytes (0x00..0x20, 0x7F..0xA0,
 * 0xAD), in increasing order, stand for U+0100, U+0101, ...
 */
#include "tok/tok_int.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static int byte_is_printable(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
}

uint32_t emb_tok_byte_to_cp(uint8_t b)
{
    if (byte_is_printable(b))
        return b;
    uint32_t k = 0;
    for (unsigned x = 0; x < b; x++)
        k += !byte_is_printable(x);
    return 256 + k;
}

int emb_tok_cp_to_byte(uint32_t cp)
{
    if (cp < 256)
        return byte_is_printable(cp) ? (int)cp : -1;
    uint32_t k = 256;
    for (unsigned x = 0; x < 256; x++)
        if (!byte_is_printable(x) && k++ == cp)
            return (int)x;
    return -1;
}

void emb_tok_free(emb_tok *t)
{
    if (!t)
        return;
    emb_free(t->pool);
    emb_free(t->off);
    emb_free(t->len);
    emb_free(t->score);
    emb_free(t->type);
    emb_free(t->slots);
    emb_free(t->pairs);
    emb_free(t);
}

int emb_tok_alloc(emb_tok *t, size_t nt, size_t pool_n, emb_err *err)
{
    size_t cap = 16;
    while (cap < 2 * nt)
        cap <<= 1;
    t->n_tokens = nt;
    t->pool = emb_malloc(pool_n ? pool_n : 1);
    t->off = emb_malloc(nt * sizeof *t->off);
    t->len = emb_malloc(nt * sizeof *t->len);
    t->score = emb_calloc(nt, sizeof *t->score);
    t->type = emb_malloc(nt);
    t->slots = emb_calloc(cap, sizeof *t->slots);
    t->slot_cap = cap;
    if (!t->pool || !t->off || !t->len || !t->score || !t->type || !t->slots)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory for %zu tokens", nt);
    return EMB_OK;
}

void emb_tok_map_add(emb_tok *t, int32_t id)
{
    const char *s = t->pool + t->off[id];
    size_t sn = t->len[id];
    uint64_t hash = emb_tok_hash(s, sn);
    size_t mask = t->slot_cap - 1, h = hash & mask;
    for (; t->slots[h]; h = (h + 1) & mask) {
        uint32_t other = (uint32_t)t->slots[h] - 1;
        if (t->len[other] == sn && memcmp(t->pool + t->off[other], s, sn) == 0)
            break;
    }
    t->slots[h] = (hash >> 32) << 32 | ((uint64_t)id + 1);
    if (sn > t->max_len)
        t->max_len = (uint32_t)sn;
}

int emb_tok_pairs_alloc(emb_tok *t, size_t n, emb_err *err)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap <<= 1;
    t->pairs = emb_calloc(cap, sizeof *t->pairs);
    if (!t->pairs)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory for %zu merges", n);
    t->pair_cap = cap;
    return EMB_OK;
}

void emb_tok_pair_add(emb_tok *t, int32_t l, int32_t r, int32_t rank, int32_t id, int overwrite)
{
    uint64_t key = ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) + 1;
    size_t mask = t->pair_cap - 1, i = emb_tok_pair_hash(key) & mask;
    while (t->pairs[i].key && t->pairs[i].key != key)
        i = (i + 1) & mask;
    if (t->pairs[i].key == key && !overwrite)
        return;
    t->pairs[i].key = key;
    t->pairs[i].rank = rank;
    t->pairs[i].id = id;
}

void emb_tok_byte_tokens(emb_tok *t)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char name[8];
        size_t len;
        if (t->kind != EMB_TOK_BPE) {
            memcpy(name, "<0x", 3);
            name[3] = hex[b >> 4];
            name[4] = hex[b & 15];
            name[5] = '>';
            len = 6;
        } else {
            uint32_t cp = emb_tok_byte_to_cp((uint8_t)b);
            if (cp < 0x80) {
                name[0] = (char)cp;
                len = 1;
            } else {
                name[0] = (char)(0xC0 | (cp >> 6));
                name[1] = (char)(0x80 | (cp & 0x3F));
                len = 2;
            }
        }
        int32_t id = emb_tok_find(t, name, len);
        if (id < 0 && t->kind == EMB_TOK_SPM) { /* llama.cpp's fallback: the byte itself */
            name[0] = (char)b;
            id = emb_tok_find(t, name, 1);
        }
        t->byte_tok[b] = id;
    }
}

int emb_tok_load(const uint8_t *data, size_t n, emb_tok **out, emb_err *err)
{
    size_t i = 0;
    if (n >= 4 && memcmp(data, "GGUF", 4) == 0)
        return emb_tok_load_gguf(data, n, out, err);
    if (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    while (i < n && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    if (i < n && data[i] == '{')
        return emb_tok_load_hf(data, n, out, err);
    return emb_err_set(err, EMB_EFORMAT,
                       "tok: not a tokenizer (expected a GGUF file or a tokenizer.json object)");
}

int emb_tok_kind(const emb_tok *t) { return t->kind; }
int emb_tok_format(const emb_tok *t) { return t->format; }

const char *emb_tok_model(const emb_tok *t)
{
    return t->kind == EMB_TOK_SPM ? "llama" : t->kind == EMB_TOK_BPE ? "gpt2" : "bpe";
}

size_t emb_tok_n_tokens(const emb_tok *t) { return t->n_tokens; }
int32_t emb_tok_bos(const emb_tok *t) { return t->bos; }
int32_t emb_tok_eos(const emb_tok *t) { return t->eos; }
int emb_tok_add_bos(const emb_tok *t) { return t->add_bos; }

const char *emb_tok_piece(const emb_tok *t, int32_t id, size_t *n)
{
    if (id < 0 || (size_t)id >= t->n_tokens)
        return NULL;
    *n = t->len[id];
    return t->pool + t->off[id];
}

int emb_tok_out_grow(emb_tok_out *o, emb_err *err)
{
    if (o->n >= o->max)
        return emb_err_set(err, EMB_ERANGE, "tok: the text gives more than %zu tokens", o->max);
    size_t cap = o->cap ? 2 * o->cap : 64;
    if (cap > o->max)
        cap = o->max;
    int32_t *ids = emb_realloc(o->ids, cap * sizeof *ids);
    if (!ids)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory for %zu tokens", cap);
    o->ids = ids;
    o->cap = cap;
    return EMB_OK;
}

emb_tok_cache *emb_tok_cache_new(void)
{
    return emb_calloc(1, sizeof(emb_tok_cache));
}

void emb_tok_cache_free(emb_tok_cache *c)
{
    emb_free(c);
}

int emb_tok_encode(const emb_tok *t, const char *text, size_t n, int add_bos, int add_eos,
                   size_t max_tokens, int32_t **ids, size_t *n_ids, emb_err *err)
{
    return emb_tok_encode_cached(t, NULL, text, n, add_bos, add_eos, max_tokens, ids, n_ids, err);
}

int emb_tok_encode_cached(const emb_tok *t, emb_tok_cache *c, const char *text, size_t n,
                          int add_bos, int add_eos, size_t max_tokens, int32_t **ids,
                          size_t *n_ids, emb_err *err)
{
    if (c && c->tok != t) {
        memset(c->slots, 0, sizeof c->slots);
        c->tok = t;
    }
    emb_tok_out o = {NULL, 0, 0, max_tokens && max_tokens < EMB_TOK_MAX_TOKENS
                                     ? max_tokens : EMB_TOK_MAX_TOKENS};
    if (add_bos < 0)
        add_bos = t->add_bos;
    if (add_eos < 0)
        add_eos = t->add_eos;
    int rc = EMB_OK;
    if (add_bos && t->bos >= 0)
        rc = emb_tok_out_push(&o, t->bos, err);
    if (!rc && n)
        rc = t->kind == EMB_TOK_SPM   ? emb_tok_spm_encode(t, c, text, n, &o, err)
             : t->kind == EMB_TOK_BPE ? emb_tok_bpe_encode(t, c, text, n, &o, err)
                                      : emb_tok_cbpe_encode(t, c, text, n, &o, err);
    if (!rc && add_eos && t->eos >= 0)
        rc = emb_tok_out_push(&o, t->eos, err);
    if (rc) {
        emb_free(o.ids);
        return rc;
    }
    if (!o.ids && !(o.ids = emb_malloc(sizeof *o.ids))) /* a valid pointer even for 0 ids */
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    *ids = o.ids;
    *n_ids = o.n;
    return EMB_OK;
}

/* Growing byte buffer for decode. */
typedef struct strbuf {
    char *s;
    size_t n, cap;
} strbuf;

static int sb_add(strbuf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *s = emb_realloc(b->s, cap);
        if (!s)
            return EMB_ENOMEM;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
    return EMB_OK;
}

/* Value of "<0xNN>", or -1. */
static int byte_token_value(const char *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Append the SentencePiece piece s[0..n) with "▁" as a space; skip_space
 * drops one leading space. */
static int spm_piece(strbuf *b, const char *s, size_t n, int skip_space)
{
    size_t i = 0, run = 0;
    while (i < n) {
        if (i + 3 <= n && memcmp(s + i, "\xE2\x96\x81", 3) == 0) {
            if (sb_add(b, s + run, i - run))
                return EMB_ENOMEM;
            if (!skip_space && sb_add(b, " ", 1))
                return EMB_ENOMEM;
            skip_space = 0;
            i += 3;
            run = i;
            continue;
        }
        skip_space = 0;
        i++;
    }
    return sb_add(b, s + run, n - run);
}

/* Append a byte-level piece: each code point back to its byte (a code point
 * outside the map is copied as UTF-8). */
static int bpe_piece(strbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t l = emb_tok_utf8_len(c);
        if (i + l > n)
            l = n - i;
        uint32_t cp = c;
        if (l == 2)
            cp = (uint32_t)(c & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F);
        int byte = l <= 2 ? emb_tok_cp_to_byte(cp) : -1;
        if (byte >= 0) {
            unsigned char ch = (unsigned char)byte;
            if (sb_add(b, &ch, 1))
                return EMB_ENOMEM;
        } else if (sb_add(b, s + i, l)) {
            return EMB_ENOMEM;
        }
        i += l;
    }
    return EMB_OK;
}

int emb_tok_decode(const emb_tok *t, const int32_t *ids, size_t n_ids, char **text,
                   size_t *n_text, emb_err *err)
{
    strbuf b = {NULL, 0, 0};
    int first = 1, rc = sb_add(&b, "", 0);
    for (size_t i = 0; i < n_ids && !rc; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= t->n_tokens) {
            emb_free(b.s);
            return emb_err_set(err, EMB_ERANGE, "tok: token id %ld at position %zu is out of range (0..%zu)",
                               (long)id, i, t->n_tokens - 1);
        }
        const char *s = t->pool + t->off[id];
        size_t n = t->len[id];
        int ty = t->type[id];
        if (ty == EMB_TT_CONTROL || ty == EMB_TT_UNUSED)
            continue;
        if (ty == EMB_TT_BYTE && byte_token_value(s, n) >= 0) {
            unsigned char ch = (unsigned char)byte_token_value(s, n);
            rc = sb_add(&b, &ch, 1);
        } else if (t->kind == EMB_TOK_SPM) {
            if (ty == EMB_TT_UNKNOWN)
                rc = sb_add(&b, "\xE2\x96\x85", 3);
            else
                rc = spm_piece(&b, s, n, first && t->add_space_prefix);
        } else if (t->kind == EMB_TOK_CBPE) {
            rc = ty == EMB_TT_CONTROL ? EMB_OK : spm_piece(&b, s, n, first && t->strip_first);
        } else {
            rc = ty == EMB_TT_USER ? sb_add(&b, s, n) : bpe_piece(&b, s, n);
        }
        first = 0;
    }
    if (rc) {
        emb_free(b.s);
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory while decoding");
    }
    *text = b.s;
    *n_text = b.n;
    return EMB_OK;
}
