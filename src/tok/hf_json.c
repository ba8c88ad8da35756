/*
 * hf_json.c - a Hugging Face tokenizer.json -> emb_tok.
 *
 * Read with the strict pull parser (core/json.h).  Supported, everything
 * else refused by name (EMB_EUNSUP) rather than tokenized differently:
 *
 *   model       type "BPE" (a model without "type" that has "merges" too):
 *               vocab {piece: id}; merges ["left right", ...] or
 *               [["left", "right"], ...], rank = position, every part and
 *               result must be in vocab, a repeated pair keeps its last rank
 *               (as tokenizers' map does); unk_token, byte_fallback,
 *               fuse_unk.  Refused: dropout other than null/0,
 *               continuing_subword_prefix / end_of_word_suffix other than
 *               null/"", ignore_merges true, and WordPiece, WordLevel,
 *               Unigram.
 *   Two shapes of the rest:
 *   byte-level  (GPT-2, RoBERTa, ...) normalizer null; pre_tokenizer
 *               ByteLevel (alone or as the only member of a Sequence) with
 *               use_regex true (GPT-2's split pattern), add_prefix_space
 *               either way; decoder ByteLevel or null.  -> EMB_TOK_BPE.
 *   metaspace   (LLaMA, TinyLlama, Mistral) either pre_tokenizer null and
 *               normalizer Replace " " -> "▁", alone or in a Sequence after
 *               Prepend "▁" (the legacy llama files); or normalizer null and
 *               pre_tokenizer Metaspace (replacement "▁", prepend_scheme
 *               always / first / never or the older add_prefix_space, split
 *               true or false).  Decoder: a Sequence of Replace "▁" -> " ",
 *               ByteFallback, Fuse and Strip " " (start 0 or 1, stop 0), or
 *               Metaspace.  -> EMB_TOK_CBPE: characters are the starting
 *               symbols, with byte_fallback the <0xNN> tokens of a
 *               character that has none.
 *   added_tokens  [{id, content, special}]: special ones are control tokens
 *               (decode to nothing), others user tokens.  They are not
 *               looked for in the text (text is text, as with llama.cpp's
 *               tokenize(special = false)); an added token whose id holds
 *               another text in vocab is refused.
 *   post_processor  null, ByteLevel, TemplateProcessing whose "single" is
 *               at most one SpecialToken, $A, at most one SpecialToken (the
 *               first is BOS, the last EOS, both added by default),
 *               RobertaProcessing (cls = BOS, sep = EOS), or a Sequence of
 *               these.
 * Ids may have holes (unused ids decode to nothing).
 */
#include "tok/tok_int.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hf_ent {
    emb_json_str s;
    int64_t id;
    int special;  /* added tokens: 1 special, 0 not; -1 none */
    int in_vocab; /* in model.vocab */
} hf_ent;

typedef struct hf {
    emb_err *err;
    int rc;
    hf_ent *ents;
    size_t n_ents, cap_ents;
} hf;

static int hf_fail(hf *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int hf_fail(hf *h, int code, const char *fmt, ...)
{
    if (h->rc)
        return h->rc;
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    emb_err_set(h->err, code, "tokenizer.json: %s", what);
    h->rc = code;
    return code;
}

static int json_fail(hf *h, const emb_json *j)
{
    return hf_fail(h, EMB_EFORMAT, "%s (at byte %zu)", j->what ? j->what : "bad JSON",
                   emb_json_off(j));
}

/* The members of the object at j named in keys[0..nk): vals[k] is a cursor
 * at the value (found[k] = 1).  j is advanced past the object. */
static int obj_index(hf *h, emb_json *j, const char *const *keys, int nk, emb_json *vals,
                     int *found)
{
    for (int k = 0; k < nk; k++)
        found[k] = 0;
    if (emb_json_peek(j) != EMB_JSON_OBJECT)
        return j->what ? json_fail(h, j)
                       : hf_fail(h, EMB_EFORMAT, "expected an object (at byte %zu)", emb_json_off(j));
    int more = emb_json_enter(j, '{');
    while (more) {
        emb_json_str key;
        if (!emb_json_string(j, &key) || !emb_json_colon(j))
            break;
        for (int k = 0; k < nk; k++)
            if (!found[k] && emb_json_str_eq(&key, keys[k])) {
                found[k] = 1;
                vals[k] = *j;
                emb_json_peek(&vals[k]); /* skip blanks: offsets point at the value */
            }
        emb_json_skip(j);
        more = emb_json_next(j, '}');
    }
    return j->what ? json_fail(h, j) : EMB_OK;
}

/* A short string value into buf (NUL-terminated; longer ones are cut,
 * which no accepted value is).  0 when the value is no string. */
static int short_str(emb_json v, char *buf, size_t cap)
{
    emb_json_str s;
    buf[0] = 0;
    if (emb_json_peek(&v) != EMB_JSON_STRING || !emb_json_string(&v, &s))
        return 0;
    size_t n = emb_json_str_len(&s);
    if (n >= cap) {
        buf[0] = 0;
        return 1;
    }
    buf[emb_json_str_decode(&s, buf)] = 0;
    return 1;
}

static int is_null(emb_json v)
{
    return emb_json_peek(&v) == EMB_JSON_NULL;
}

/* A boolean value (def when null). -1: not a boolean. */
static int get_bool(emb_json v, int def)
{
    int b;
    if (emb_json_peek(&v) == EMB_JSON_NULL)
        return def;
    return emb_json_bool(&v, &b) ? b : -1;
}

/* The "type" of the object at v, into buf. */
static int obj_type(hf *h, emb_json v, char *buf, size_t cap)
{
    static const char *const keys[] = {"type"};
    emb_json val;
    int found;
    buf[0] = 0;
    if (obj_index(h, &v, keys, 1, &val, &found))
        return h->rc;
    if (found)
        short_str(val, buf, cap);
    return EMB_OK;
}

static int add_ent(hf *h, emb_json_str s, int64_t id, int special)
{
    if (h->n_ents == h->cap_ents) {
        size_t cap = h->cap_ents ? 2 * h->cap_ents : 1024;
        hf_ent *e = emb_realloc(h->ents, cap * sizeof *e);
        if (!e)
            return hf_fail(h, EMB_ENOMEM, "out of memory");
        h->ents = e;
        h->cap_ents = cap;
    }
    h->ents[h->n_ents++] = (hf_ent){s, id, special, special < 0};
    return EMB_OK;
}

static int read_vocab(hf *h, emb_json j)
{
    if (emb_json_peek(&j) != EMB_JSON_OBJECT)
        return hf_fail(h, EMB_EFORMAT, "model.vocab must be an object {piece: id} (at byte %zu)",
                       emb_json_off(&j));
    int more = emb_json_enter(&j, '{');
    while (more && !h->rc) {
        emb_json_str key;
        int64_t id;
        if (!emb_json_string(&j, &key) || !emb_json_colon(&j))
            return json_fail(h, &j);
        emb_json_peek(&j); /* to the value: the offset names it */
        size_t at = emb_json_off(&j);
        if (!emb_json_int(&j, &id))
            return json_fail(h, &j);
        if (id < 0 || id >= EMB_TOK_MAX_VOCAB)
            return hf_fail(h, EMB_ERANGE, "token id %lld out of range 0..%d (at byte %zu)",
                           (long long)id, EMB_TOK_MAX_VOCAB - 1, at);
        add_ent(h, key, id, -1);
        more = emb_json_next(&j, '}');
    }
    return j.what ? json_fail(h, &j) : h->rc;
}

static int read_added(hf *h, emb_json j)
{
    static const char *const keys[] = {"id", "content", "special"};
    if (emb_json_peek(&j) == EMB_JSON_NULL)
        return EMB_OK;
    if (emb_json_peek(&j) != EMB_JSON_ARRAY)
        return hf_fail(h, EMB_EFORMAT, "added_tokens must be an array (at byte %zu)", emb_json_off(&j));
    int more = emb_json_enter(&j, '[');
    while (more && !h->rc) {
        emb_json v[3];
        int f[3];
        size_t at = emb_json_off(&j);
        if (obj_index(h, &j, keys, 3, v, f))
            return h->rc;
        int64_t id;
        emb_json_str content;
        if (!f[0] || !f[1] || !emb_json_int(&v[0], &id) || !emb_json_string(&v[1], &content))
            return hf_fail(h, EMB_EFORMAT, "an added token needs an integer id and a string content (at byte %zu)", at);
        if (id < 0 || id >= EMB_TOK_MAX_VOCAB)
            return hf_fail(h, EMB_ERANGE, "added token id %lld out of range 0..%d (at byte %zu)",
                           (long long)id, EMB_TOK_MAX_VOCAB - 1, at);
        int special = f[2] ? get_bool(v[2], 0) : 0;
        add_ent(h, content, id, special == 1);
        more = emb_json_next(&j, ']');
    }
    return j.what ? json_fail(h, &j) : h->rc;
}

/* Token text of id into the vocabulary; returns the id or -1. */
static int32_t find_str(const emb_tok *t, const emb_json_str *s, char *buf, size_t cap)
{
    size_t n = emb_json_str_len(s);
    if (!s->escaped)
        return emb_tok_find(t, s->s, n);
    if (n > cap)
        return -1;
    emb_json_str_decode(s, buf);
    return emb_tok_find(t, buf, n);
}

static int read_merges(hf *h, emb_tok *t, emb_json j)
{
    if (emb_json_peek(&j) != EMB_JSON_ARRAY)
        return hf_fail(h, EMB_EFORMAT, "model.merges must be an array (at byte %zu)", emb_json_off(&j));
    /* count them first: the table is sized once */
    emb_json c = j;
    size_t nm = 0;
    int more = emb_json_enter(&c, '[');
    while (more) {
        emb_json_skip(&c);
        nm++;
        more = emb_json_next(&c, ']');
    }
    if (c.what)
        return json_fail(h, &c);
    if (nm > EMB_TOK_MAX_VOCAB)
        return hf_fail(h, EMB_ERANGE, "%zu merges (at most %d)", nm, EMB_TOK_MAX_VOCAB);
    if (emb_tok_pairs_alloc(t, nm, h->err))
        return h->rc = EMB_ENOMEM;
    size_t cap = 2 * (size_t)t->max_len + 8;
    char *buf = emb_malloc(5 * cap);
    if (!buf)
        return hf_fail(h, EMB_ENOMEM, "out of memory");
    char *lb = buf + cap, *rb = buf + 2 * cap;
    size_t r = 0;
    more = emb_json_enter(&j, '[');
    while (more && !h->rc) {
        size_t at = emb_json_off(&j);
        const char *ls, *rs;
        size_t ln, rn;
        emb_json_str a, b;
        if (emb_json_peek(&j) == EMB_JSON_STRING) {
            if (!emb_json_string(&j, &a))
                break;
            size_t n = emb_json_str_len(&a);
            if (n > 2 * cap) {
                hf_fail(h, EMB_EFORMAT, "merge %zu: no such tokens (at byte %zu)", r, at);
                break;
            }
            char *tmp = buf + 3 * cap;
            emb_json_str_decode(&a, tmp);
            const char *sp = n > 1 ? memchr(tmp + 1, ' ', n - 1) : NULL;
            if (!sp) {
                hf_fail(h, EMB_EFORMAT, "merge %zu is not \"left right\" (at byte %zu)", r, at);
                break;
            }
            ln = (size_t)(sp - tmp);
            rn = n - ln - 1;
            memcpy(lb, tmp, ln < cap ? ln : cap);
            memcpy(rb, sp + 1, rn < cap ? rn : cap);
            if (ln > cap || rn > cap)
                ln = rn = cap + 1; /* too long to be a token: reported below */
            ls = lb;
            rs = rb;
        } else {
            if (!emb_json_enter(&j, '[') || !emb_json_string(&j, &a) || !emb_json_next(&j, ']') ||
                !emb_json_string(&j, &b) || emb_json_next(&j, ']')) {
                hf_fail(h, EMB_EFORMAT, "merge %zu is not \"left right\" or [left, right] (at byte %zu)", r, at);
                break;
            }
            ln = emb_json_str_len(&a);
            rn = emb_json_str_len(&b);
            if (ln > cap || rn > cap)
                ln = rn = cap + 1;
            else {
                emb_json_str_decode(&a, lb);
                emb_json_str_decode(&b, rb);
            }
            ls = lb;
            rs = rb;
        }
        int32_t l = ln <= cap ? emb_tok_find(t, ls, ln) : -1;
        int32_t rr = rn <= cap ? emb_tok_find(t, rs, rn) : -1;
        int32_t id = -1;
        if (l >= 0 && rr >= 0) {
            memcpy(buf, ls, ln);
            memcpy(buf + ln, rs, rn);
            id = emb_tok_find(t, buf, ln + rn);
        }
        if (id < 0) {
            hf_fail(h, EMB_EFORMAT, "merge %zu: '%.*s' + '%.*s' is not in vocab (at byte %zu)", r,
                    (int)(ln <= cap && ln < 40 ? ln : 0), ls, (int)(rn <= cap && rn < 40 ? rn : 0), rs, at);
            break;
        }
        emb_tok_pair_add(t, l, rr, (int32_t)r, id, 1);
        r++;
        more = emb_json_next(&j, ']');
    }
    emb_free(buf);
    if (!h->rc && j.what)
        json_fail(h, &j);
    return h->rc;
}

/* Fill t's vocabulary from the collected entries (vocab then added). */
static int build_vocab(hf *h, emb_tok *t, int cbpe)
{
    int64_t max_id = -1;
    size_t pool_n = 0;
    for (size_t i = 0; i < h->n_ents; i++)
        if (h->ents[i].id > max_id)
            max_id = h->ents[i].id;
    if (max_id < 0)
        return hf_fail(h, EMB_EFORMAT, "model.vocab is empty");
    size_t nt = (size_t)max_id + 1;
    /* per id, the entry that gives its text: vocab first, added tokens fill holes */
    size_t *who = emb_malloc(nt * sizeof *who);
    if (!who)
        return hf_fail(h, EMB_ENOMEM, "out of memory for %zu tokens", nt);
    for (size_t i = 0; i < nt; i++)
        who[i] = SIZE_MAX;
    for (size_t i = 0; i < h->n_ents && !h->rc; i++) {
        hf_ent *e = &h->ents[i];
        size_t *w = &who[e->id];
        if (*w == SIZE_MAX) {
            *w = i;
            pool_n += emb_json_str_len(&e->s) + 1;
            continue;
        }
        hf_ent *o = &h->ents[*w];
        size_t a = emb_json_str_len(&e->s), b = emb_json_str_len(&o->s);
        int same = a == b;
        if (same && a) {
            char *x = emb_malloc(2 * a);
            if (!x) {
                hf_fail(h, EMB_ENOMEM, "out of memory");
                break;
            }
            emb_json_str_decode(&e->s, x);
            emb_json_str_decode(&o->s, x + a);
            same = memcmp(x, x + a, a) == 0;
            emb_free(x);
        }
        if (!same)
            hf_fail(h, EMB_EFORMAT, "token id %lld has two different texts", (long long)e->id);
        else if (e->special >= 0)
            o->special = e->special; /* an added token over its vocab entry: its kind */
    }
    for (size_t id = 0; id < nt; id++)
        pool_n += who[id] == SIZE_MAX; /* a hole: an empty text */
    if (!h->rc && emb_tok_alloc(t, nt, pool_n, h->err))
        h->rc = EMB_ENOMEM;
    if (h->rc) {
        emb_free(who);
        return h->rc;
    }
    size_t o = 0;
    for (size_t id = 0; id < nt; id++) {
        t->off[id] = o;
        if (who[id] == SIZE_MAX) {
            t->len[id] = 0;
            t->type[id] = EMB_TT_UNUSED;
            t->pool[o++] = 0;
            continue;
        }
        hf_ent *e = &h->ents[who[id]];
        size_t n = emb_json_str_decode(&e->s, t->pool + o);
        t->pool[o + n] = 0;
        t->len[id] = (uint32_t)n;
        o += n + 1;
        const char *s = t->pool + t->off[id];
        t->type[id] = e->special == 1 ? EMB_TT_CONTROL : e->special == 0 ? EMB_TT_USER
                      : cbpe && n == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' ? EMB_TT_BYTE
                                                                                   : EMB_TT_NORMAL;
    }
    /* the text -> id map holds the model's vocab (added tokens are not
     * looked for in the text) */
    for (size_t id = 0; id < nt; id++)
        if (who[id] != SIZE_MAX && h->ents[who[id]].in_vocab)
            emb_tok_map_add(t, (int32_t)id);
    emb_free(who);
    return EMB_OK;
}

enum { M_TYPE, M_VOCAB, M_MERGES, M_UNK, M_BF, M_FUSE, M_DROP, M_CSP, M_EOW, M_IGN, M_N };

static int check_model(hf *h, emb_json *mv, int *mf)
{
    static const char *const names[] = {"type", "vocab", "merges", "unk_token", "byte_fallback",
                                        "fuse_unk", "dropout", "continuing_subword_prefix",
                                        "end_of_word_suffix", "ignore_merges"};
    char ty[40];
    if (mf[M_TYPE])
        short_str(mv[M_TYPE], ty, sizeof ty);
    else
        strcpy(ty, mf[M_MERGES] ? "BPE" : "?");
    if (strcmp(ty, "BPE") != 0)
        return hf_fail(h, EMB_EUNSUP, "model type '%s' is not supported (expected 'BPE')", ty);
    if (!mf[M_VOCAB] || !mf[M_MERGES])
        return hf_fail(h, EMB_EFORMAT, "a BPE model needs vocab and merges");
    double drop = 0;
    if (mf[M_DROP] && !is_null(mv[M_DROP]) && (!emb_json_number(&mv[M_DROP], &drop) || drop != 0))
        return hf_fail(h, EMB_EUNSUP, "model.dropout is not supported (expected null or 0)");
    for (int k = M_CSP; k <= M_EOW; k++) {
        char buf[8];
        if (mf[k] && !is_null(mv[k]) && (!short_str(mv[k], buf, sizeof buf) || buf[0]))
            return hf_fail(h, EMB_EUNSUP, "model.%s is not supported (expected null or \"\")", names[k]);
    }
    if (mf[M_IGN] && get_bool(mv[M_IGN], 0) != 0)
        return hf_fail(h, EMB_EUNSUP, "model.ignore_merges true is not supported");
    return EMB_OK;
}

/* What the normalizer, pre_tokenizer, decoder and post_processor say: each
 * part reader fills its fields. */
typedef struct {
    emb_tok *t;      /* the tokenizer being built (pre_tokenizer, post_processor) */
    int norm;        /* read_normalizer's flags */
    int pre;         /* read_pre's kind */
    int dec, strip;  /* read_decoder's kind and strip */
} hf_parts;

typedef int (*hf_part_reader)(hf *h, emb_json v, int depth, hf_parts *o);

/* The parts of a "Sequence" (the array a), each read by `part` at depth 1
 * (a Sequence inside a Sequence is not taken); with `single`, more than one
 * part is refused ("a <what> Sequence of more than one is not supported"). */
static int read_sequence(hf *h, emb_json a, hf_part_reader part, hf_parts *o, int single,
                         const char *what)
{
    int n = 0, more = emb_json_enter(&a, '[');
    while (more && !h->rc) {
        if (single && ++n > 1)
            return hf_fail(h, EMB_EUNSUP, "a %s Sequence of more than one is not supported", what);
        if (part(h, a, 1, o))
            return h->rc;
        emb_json_skip(&a);
        more = emb_json_next(&a, ']');
    }
    return a.what ? json_fail(h, &a) : h->rc;
}

/* normalizer: 0 none; bit 1 Replace " " -> "▁", bit 2 Prepend "▁". */
static int read_normalizer(hf *h, emb_json v, int depth, hf_parts *o)
{
    int *flags = &o->norm;
    static const char *const keys[] = {"normalizers", "pattern", "content", "prepend"};
    char ty[40], s[16];
    emb_json val[4];
    int f[4];
    if (is_null(v))
        return EMB_OK;
    if (obj_type(h, v, ty, sizeof ty) || obj_index(h, &v, keys, 4, val, f))
        return h->rc;
    if (strcmp(ty, "Sequence") == 0 && depth == 0 && f[0])
        return read_sequence(h, val[0], read_normalizer, o, 0, "normalizer");
    if (strcmp(ty, "Prepend") == 0 && f[3] && short_str(val[3], s, sizeof s) &&
        strcmp(s, "\xE2\x96\x81") == 0) {
        *flags |= 2;
        return EMB_OK;
    }
    if (strcmp(ty, "Replace") == 0 && f[1] && f[2]) {
        static const char *const pk[] = {"String"};
        emb_json pv;
        int pf;
        char from[8];
        if (obj_index(h, &val[1], pk, 1, &pv, &pf))
            return h->rc;
        if (pf && short_str(pv, from, sizeof from) && strcmp(from, " ") == 0 &&
            short_str(val[2], s, sizeof s) && strcmp(s, "\xE2\x96\x81") == 0) {
            *flags |= 1;
            return EMB_OK;
        }
        return hf_fail(h, EMB_EUNSUP, "normalizer Replace is supported only as \" \" -> \"\xE2\x96\x81\"");
    }
    return hf_fail(h, EMB_EUNSUP, "normalizer %s is not supported (expected Prepend \"\xE2\x96\x81\" "
                   "and Replace \" \" -> \"\xE2\x96\x81\", or none)", ty[0] ? ty : "without a type");
}

/* pre_tokenizer: *kind 0 none, 1 ByteLevel, 2 Metaspace; fills t's options. */
static int read_pre(hf *h, emb_json v, int depth, hf_parts *o)
{
    emb_tok *t = o->t;
    int *kind = &o->pre;
    static const char *const keys[] = {"pretokenizers", "add_prefix_space", "use_regex",
                                       "replacement", "prepend_scheme", "split"};
    char ty[40], s[16];
    emb_json val[6];
    int f[6];
    if (is_null(v))
        return EMB_OK;
    if (obj_type(h, v, ty, sizeof ty) || obj_index(h, &v, keys, 6, val, f))
        return h->rc;
    if (strcmp(ty, "Sequence") == 0 && depth == 0 && f[0])
        return read_sequence(h, val[0], read_pre, o, 1, "pre_tokenizer");
    if (strcmp(ty, "ByteLevel") == 0) {
        if (f[2] && get_bool(val[2], 1) != 1)
            return hf_fail(h, EMB_EUNSUP, "pre_tokenizer ByteLevel with use_regex false is not supported");
        int aps = f[1] ? get_bool(val[1], 0) : 0;
        if (aps < 0)
            return hf_fail(h, EMB_EFORMAT, "ByteLevel add_prefix_space must be true or false");
        t->prefix_space = aps;
        *kind = 1;
        return EMB_OK;
    }
    if (strcmp(ty, "Metaspace") == 0) {
        if (!f[3] || !short_str(val[3], s, sizeof s) || strcmp(s, "\xE2\x96\x81") != 0)
            return hf_fail(h, EMB_EUNSUP, "pre_tokenizer Metaspace is supported only with replacement \"\xE2\x96\x81\"");
        int prepend = 1;
        if (f[4] && !is_null(val[4])) {
            short_str(val[4], s, sizeof s);
            if (strcmp(s, "always") == 0 || strcmp(s, "first") == 0)
                prepend = 1;
            else if (strcmp(s, "never") == 0)
                prepend = 0;
            else
                return hf_fail(h, EMB_EUNSUP, "Metaspace prepend_scheme '%s' is not supported", s);
        } else if (f[1]) {
            prepend = get_bool(val[1], 1) == 1;
        }
        int split = f[5] ? get_bool(val[5], 1) : 1;
        t->prepend = prepend ? 2 : 0;
        t->ms_split = split == 1;
        *kind = 2;
        return EMB_OK;
    }
    return hf_fail(h, EMB_EUNSUP, "pre_tokenizer %s is not supported (expected ByteLevel or Metaspace, or none)",
                   ty[0] ? ty : "without a type");
}

/* decoder: *kind 0 none, 1 ByteLevel, 2 metaspace-like; *strip: drop one
 * leading space. */
static int read_decoder(hf *h, emb_json v, int depth, hf_parts *o)
{
    int *kind = &o->dec, *strip = &o->strip;
    static const char *const keys[] = {"decoders", "start", "stop", "content", "prepend_scheme",
                                       "add_prefix_space", "pattern"};
    char ty[40], s[16];
    emb_json val[7];
    int f[7];
    if (is_null(v))
        return EMB_OK;
    if (obj_type(h, v, ty, sizeof ty) || obj_index(h, &v, keys, 7, val, f))
        return h->rc;
    if (strcmp(ty, "Sequence") == 0 && depth == 0 && f[0])
        return read_sequence(h, val[0], read_decoder, o, 0, "decoder");
    if (strcmp(ty, "ByteLevel") == 0) {
        *kind = 1;
        return EMB_OK;
    }
    if (strcmp(ty, "ByteFallback") == 0 || strcmp(ty, "Fuse") == 0)
        return EMB_OK;
    if (strcmp(ty, "Replace") == 0) {
        static const char *const pk[] = {"String"};
        emb_json pv;
        int pf;
        char from[8];
        if (f[6] && obj_index(h, &val[6], pk, 1, &pv, &pf) == EMB_OK && pf &&
            short_str(pv, from, sizeof from) && strcmp(from, "\xE2\x96\x81") == 0 && f[3] &&
            short_str(val[3], s, sizeof s) && strcmp(s, " ") == 0) {
            *kind = 2;
            return EMB_OK;
        }
        return hf_fail(h, EMB_EUNSUP, "decoder Replace is supported only as \"\xE2\x96\x81\" -> \" \"");
    }
    if (strcmp(ty, "Strip") == 0) {
        int64_t start = -1, stop = -1;
        if (f[1] && f[2] && f[3] && emb_json_int(&val[1], &start) && emb_json_int(&val[2], &stop) &&
            short_str(val[3], s, sizeof s) && strcmp(s, " ") == 0 && start <= 1 && start >= 0 &&
            stop == 0) {
            *strip = start == 1;
            return EMB_OK;
        }
        return hf_fail(h, EMB_EUNSUP, "decoder Strip is supported only for \" \" with start 0 or 1 and stop 0");
    }
    if (strcmp(ty, "Metaspace") == 0) {
        *kind = 2;
        *strip = 1;
        if (f[4] && !is_null(val[4]) && short_str(val[4], s, sizeof s) && strcmp(s, "never") == 0)
            *strip = 0;
        else if (!f[4] && f[5] && get_bool(val[5], 1) == 0)
            *strip = 0;
        return EMB_OK;
    }
    return hf_fail(h, EMB_EUNSUP, "decoder %s is not supported", ty[0] ? ty : "without a type");
}

/* Id of a special token named by its text (vocab or added), or -1. */
static int32_t special_id(const emb_tok *t, emb_json v)
{
    char buf[256];
    if (!short_str(v, buf, sizeof buf) || !buf[0])
        return -1;
    size_t n = strlen(buf);
    for (size_t id = 0; id < t->n_tokens; id++)
        if (t->len[id] == n && memcmp(t->pool + t->off[id], buf, n) == 0)
            return (int32_t)id;
    return -1;
}

static int read_post(hf *h, emb_json v, int depth, hf_parts *o)
{
    emb_tok *t = o->t;
    static const char *const keys[] = {"processors", "single", "cls", "sep"};
    char ty[40];
    emb_json val[4];
    int f[4];
    if (is_null(v))
        return EMB_OK;
    if (obj_type(h, v, ty, sizeof ty) || obj_index(h, &v, keys, 4, val, f))
        return h->rc;
    if (strcmp(ty, "Sequence") == 0 && depth == 0 && f[0])
        return read_sequence(h, val[0], read_post, o, 0, "post_processor");
    if (strcmp(ty, "ByteLevel") == 0)
        return EMB_OK;
    if (strcmp(ty, "RobertaProcessing") == 0 && f[2] && f[3]) {
        emb_json c = val[2], s = val[3];
        if (emb_json_enter(&c, '[') && emb_json_enter(&s, '[')) {
            t->bos = special_id(t, c);
            t->eos = special_id(t, s);
        }
        if (t->bos < 0 || t->eos < 0)
            return hf_fail(h, EMB_EFORMAT, "RobertaProcessing: cls and sep must be tokens of the vocabulary");
        t->add_bos = t->add_eos = 1;
        return EMB_OK;
    }
    if (strcmp(ty, "TemplateProcessing") == 0 && f[1]) {
        emb_json a = val[1];
        int seen_a = 0, lead = 0, trail = 0, more = emb_json_enter(&a, '[');
        while (more && !h->rc) {
            static const char *const ik[] = {"SpecialToken", "Sequence"};
            static const char *const sk[] = {"id"};
            emb_json iv[2], idv;
            int ifd[2], idf;
            if (obj_index(h, &a, ik, 2, iv, ifd))
                return h->rc;
            if (ifd[1]) {
                seen_a++;
            } else if (ifd[0]) {
                if (obj_index(h, &iv[0], sk, 1, &idv, &idf))
                    return h->rc;
                int32_t id = idf ? special_id(t, idv) : -1;
                if (id < 0)
                    return hf_fail(h, EMB_EFORMAT, "TemplateProcessing: a special token that is not in the vocabulary");
                if (seen_a) {
                    trail++;
                    t->eos = id;
                } else {
                    lead++;
                    t->bos = id;
                }
            }
            more = emb_json_next(&a, ']');
        }
        if (a.what)
            return json_fail(h, &a);
        if (seen_a != 1 || lead > 1 || trail > 1)
            return hf_fail(h, EMB_EUNSUP, "TemplateProcessing is supported only as [special] $A [special]");
        t->add_bos = lead;
        t->add_eos = trail;
        return EMB_OK;
    }
    return hf_fail(h, EMB_EUNSUP, "post_processor %s is not supported", ty[0] ? ty : "without a type");
}

int emb_tok_load_hf(const uint8_t *data, size_t n, emb_tok **out, emb_err *err)
{
    enum { T_MODEL, T_ADDED, T_NORM, T_PRE, T_POST, T_DEC, T_N };
    static const char *const top[] = {"model", "added_tokens", "normalizer", "pre_tokenizer",
                                      "post_processor", "decoder"};
    static const char *const mkeys[] = {"type", "vocab", "merges", "unk_token", "byte_fallback",
                                        "fuse_unk", "dropout", "continuing_subword_prefix",
                                        "end_of_word_suffix", "ignore_merges"};
    hf h = {err, 0, NULL, 0, 0};
    emb_json j, tv[T_N], mv[M_N];
    int tf[T_N], mf[M_N];
    size_t skip = n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    emb_json_init(&j, (const char *)data + skip, n - skip, skip);
    if (obj_index(&h, &j, top, T_N, tv, tf))
        return h.rc;
    if (!emb_json_end(&j))
        return json_fail(&h, &j);
    if (!tf[T_MODEL])
        return hf_fail(&h, EMB_ENOTFOUND, "no model");
    if (obj_index(&h, &tv[T_MODEL], mkeys, M_N, mv, mf) || check_model(&h, mv, mf))
        return h.rc;
    emb_tok *t = emb_calloc(1, sizeof *t);
    if (!t)
        return hf_fail(&h, EMB_ENOMEM, "out of memory");
    t->format = EMB_TOK_FMT_HF;
    t->bos = t->eos = t->unk = -1;
    hf_parts o = {t, 0, 0, 0, 0};
    if ((tf[T_NORM] && read_normalizer(&h, tv[T_NORM], 0, &o)) ||
        (tf[T_PRE] && read_pre(&h, tv[T_PRE], 0, &o)) ||
        (tf[T_DEC] && read_decoder(&h, tv[T_DEC], 0, &o)))
        goto fail;
    int norm = o.norm, pre = o.pre, dec = o.dec, strip = o.strip;
    if (pre == 1 && norm == 0 && dec != 2) {
        t->kind = EMB_TOK_BPE;
    } else if (pre == 2 && norm == 0 && dec != 1) {
        t->kind = EMB_TOK_CBPE;
    } else if (pre == 0 && (norm & 1) && dec != 1) {
        t->kind = EMB_TOK_CBPE;
        t->prepend = norm & 2 ? 1 : 0;
    } else {
        hf_fail(&h, EMB_EUNSUP, "this combination of normalizer, pre_tokenizer and decoder is not "
                "supported (expected ByteLevel, or Metaspace / Replace \" \" -> \"\xE2\x96\x81\")");
        goto fail;
    }
    if (t->kind == EMB_TOK_CBPE) {
        t->strip_first = strip;
        int bf = mf[M_BF] ? get_bool(mv[M_BF], 0) : 0, fu = mf[M_FUSE] ? get_bool(mv[M_FUSE], 0) : 0;
        t->byte_fallback = bf == 1;
        t->fuse_unk = fu == 1;
    }
    if (read_vocab(&h, mv[M_VOCAB]) || (tf[T_ADDED] && read_added(&h, tv[T_ADDED])) ||
        build_vocab(&h, t, t->kind == EMB_TOK_CBPE) || read_merges(&h, t, mv[M_MERGES]))
        goto fail;
    if (mf[M_UNK] && !is_null(mv[M_UNK])) {
        emb_json_str us;
        emb_json u = mv[M_UNK];
        char buf[256];
        if (!emb_json_string(&u, &us))
            hf_fail(&h, EMB_EFORMAT, "model.unk_token must be a string or null");
        else
            t->unk = find_str(t, &us, buf, sizeof buf);
    }
    if (tf[T_POST] && read_post(&h, tv[T_POST], 0, &o))
        goto fail;
    if (h.rc)
        goto fail;
    emb_tok_byte_tokens(t);
    emb_free(h.ents);
    *out = t;
    return EMB_OK;
fail:
    emb_free(h.ents);
    emb_tok_free(t);
    return h.rc ? h.rc : EMB_EFORMAT;
}
