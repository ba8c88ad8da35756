/*
 * tok_spm.c - SentencePiece-style encoding (GGUF tokenizer.ggml.model
 * "llama"), following the rules of llama.cpp's SPM tokenizer:
 *
 *   1. With add_space_prefix, a space goes in front of the text; then every
 *      ' ' becomes "▁" (U+2581).  Tabs and newlines stay as they are.
 *   2. The text is cut into symbols of one UTF-8 character each (the length
 *      read from the lead byte; a stray continuation byte is one symbol).
 *   3. For every pair of neighbours whose concatenation is a token, a
 *      candidate (score of that token, left position) goes into a max-heap:
 *      highest score first, the leftmost on ties.  The best candidate is
 *      merged unless one of its sides changed since it was pushed; the
 *      merged symbol's new pairs with its neighbours become candidates.
 *   4. Each final symbol is its token, or, when it is no token (only single
 *      characters can be), its bytes' <0xNN> tokens (the unknown token for
 *      a byte that has none).
 * Speed, same result: when no token has "▁" right after another character
 * (t->spm_split, checked at load), no merge can cross the start of a "▁"
 * run, so each such word is merged on its own; words under 48 characters
 * use plain arrays and a scan instead of the heap, and look neighbours up
 * by their token ids in a table of every token pair that joins into a
 * token (built at load) rather than by hashing their text.
 */
#include "tok/tok_int.h"
#include "tok/pqueue.h"

#include <stdlib.h>
#include <string.h>

/* Longest text accepted (bytes after escaping). */
#define SPM_MAX_TEXT ((size_t)64 << 20)

typedef struct sym {
    int32_t prev, next;
    uint32_t off, n; /* bytes of the escaped text; n == 0: merged away */
} sym;

typedef struct cand {
    float score;
    int32_t left, right;
    uint32_t n; /* bytes of the merge when pushed */
    int32_t id;
} cand;

static int better(const cand *x, const cand *y)
{
    return x->score > y->score || (x->score == y->score && x->left < y->left);
}

TOK_PQUEUE(heap, cand, better, 256)

static int try_pair(const emb_tok *t, const char *s, const sym *sy, int32_t l, int32_t r, heap *h)
{
    if (l < 0 || r < 0)
        return EMB_OK;
    uint32_t n = sy[l].n + sy[r].n;
    int32_t id = emb_tok_find(t, s + sy[l].off, n);
    if (id < 0)
        return EMB_OK;
    cand c = {t->score[id], l, r, n, id};
    return heap_push(h, c);
}

/* Merge the symbols a..b-1 and emit their tokens. */
static int merge(const emb_tok *t, const char *s, sym *sy, int32_t a, int32_t b, heap *h,
                 emb_tok_out *o, emb_err *err)
{
    for (int32_t i = a; i < b; i++) {
        sy[i].prev = i > a ? i - 1 : -1;
        sy[i].next = i + 1 < b ? i + 1 : -1;
    }
    h->n = 0;
    for (int32_t i = a + 1; i < b; i++)
        if (try_pair(t, s, sy, i - 1, i, h))
            return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    while (h->n) {
        cand c = heap_pop(h);
        sym *l = &sy[c.left], *r = &sy[c.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != c.n)
            continue; /* stale: a side was merged since */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            sy[r->next].prev = c.left;
        if (try_pair(t, s, sy, l->prev, c.left, h) || try_pair(t, s, sy, c.left, l->next, h))
            return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    }
    int rc = EMB_OK;
    for (int32_t i = a; i >= 0 && !rc; i = sy[i].next) {
        int32_t id = emb_tok_find(t, s + sy[i].off, sy[i].n);
        if (id >= 0) {
            rc = emb_tok_out_push(o, id, err);
            continue;
        }
        for (uint32_t k = 0; k < sy[i].n && !rc; k++) {
            int32_t bt = t->byte_tok[(unsigned char)s[sy[i].off + k]];
            if (bt < 0)
                bt = t->unk;
            if (bt >= 0)
                rc = emb_tok_out_push(o, bt, err);
        }
    }
    return rc;
}

/* Short segments (most words): the same merges over plain arrays, the best
 * pair found by a scan (highest score, leftmost on ties), neighbours joined
 * by token ids through t->pairs (built at load: every split of every token
 * into two tokens) instead of hashing their text. */
#define SHORT_SEG 48

int emb_tok_spm_pairs(emb_tok *t, emb_err *err)
{
    size_t n_pairs = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t id = 0; id < t->n_tokens; id++) {
            const char *s = t->pool + t->off[id];
            size_t n = t->len[id];
            int32_t whole = -1;
            for (size_t k = emb_tok_utf8_len((unsigned char)s[0]); k < n;
                 k += emb_tok_utf8_len((unsigned char)s[k])) {
                int32_t l = emb_tok_find(t, s, k), r = l >= 0 ? emb_tok_find(t, s + k, n - k) : -1;
                if (l < 0 || r < 0)
                    continue;
                if (pass == 0) {
                    n_pairs++;
                    continue;
                }
                if (whole < 0)
                    whole = emb_tok_find(t, s, n); /* the id text lookups give */
                emb_tok_pair_add(t, l, r, 0, whole, 0);
            }
        }
        if (pass == 0 && emb_tok_pairs_alloc(t, n_pairs, err))
            return EMB_ENOMEM;
    }
    for (int c = 0; c < 128; c++) {
        char ch = (char)c;
        t->char_tok[c] = emb_tok_find(t, &ch, 1);
    }
    return EMB_OK;
}

/* The token a symbol's text is (-1: none). */
static inline int32_t sym_id(const emb_tok *t, const char *s, uint32_t n)
{
    return n == 1 && (unsigned char)s[0] < 0x80 ? t->char_tok[(unsigned char)s[0]]
                                                : emb_tok_find(t, s, n);
}

/* The token two neighbours joined are (-1: none): by ids when both are
 * tokens, else by text. */
static inline int32_t join_id(const emb_tok *t, const char *s, int32_t li, int32_t ri, uint32_t off,
                              uint32_t n)
{
    if (li >= 0 && ri >= 0) {
        const emb_tok_pair *p = emb_tok_pair_find(t, li, ri);
        return p ? p->id : -1;
    }
    return emb_tok_find(t, s + off, n);
}

static int merge_short_ids(const emb_tok *t, const char *s, const sym *sy, int32_t a, int32_t b,
                           emb_tok_out *o, emb_err *err)
{
    uint32_t off[SHORT_SEG], n[SHORT_SEG];
    int32_t id[SHORT_SEG], mid[SHORT_SEG];
    float sc[SHORT_SEG];
    size_t m = (size_t)(b - a);
    for (size_t i = 0; i < m; i++) {
        off[i] = sy[a + (int32_t)i].off;
        n[i] = sy[a + (int32_t)i].n;
        id[i] = sym_id(t, s + off[i], n[i]);
    }
    for (size_t i = 0; i + 1 < m; i++) {
        mid[i] = join_id(t, s, id[i], id[i + 1], off[i], n[i] + n[i + 1]);
        sc[i] = mid[i] >= 0 ? t->score[mid[i]] : 0;
    }
    while (m > 1) {
        size_t best = m;
        for (size_t i = 0; i + 1 < m; i++)
            if (mid[i] >= 0 && (best == m || sc[i] > sc[best]))
                best = i;
        if (best == m)
            break;
        id[best] = mid[best];
        n[best] += n[best + 1];
        for (size_t i = best + 1; i + 1 < m; i++) {
            off[i] = off[i + 1];
            n[i] = n[i + 1];
            id[i] = id[i + 1];
            sc[i] = sc[i + 1];
            mid[i] = mid[i + 1];
        }
        m--;
        for (size_t i = best ? best - 1 : 0; i <= best && i + 1 < m; i++) {
            mid[i] = join_id(t, s, id[i], id[i + 1], off[i], n[i] + n[i + 1]);
            sc[i] = mid[i] >= 0 ? t->score[mid[i]] : 0;
        }
    }
    int rc = EMB_OK;
    for (size_t i = 0; i < m && !rc; i++) {
        if (id[i] >= 0) {
            rc = emb_tok_out_push(o, id[i], err);
            continue;
        }
        for (uint32_t k = 0; k < n[i] && !rc; k++) {
            int32_t bt = t->byte_tok[(unsigned char)s[off[i] + k]];
            if (bt < 0)
                bt = t->unk;
            if (bt >= 0)
                rc = emb_tok_out_push(o, bt, err);
        }
    }
    return rc;
}

int emb_tok_spm_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                       emb_tok_out *o, emb_err *err)
{
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++)
        spaces += text[i] == ' ';
    size_t len = n + 2 * spaces + (t->add_space_prefix ? 3 : 0);
    if (n > SPM_MAX_TEXT || len > SPM_MAX_TEXT)
        return emb_err_set(err, EMB_ERANGE, "tok: text of %zu bytes is too long (at most %zu)", n,
                           SPM_MAX_TEXT);
    char *s = emb_malloc(len ? len : 1);
    sym local[SHORT_SEG], *big = NULL;
    size_t big_cap = 0;
    heap h = {NULL, 0, 0};
    int rc = EMB_OK;
    if (!s)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory for a text of %zu bytes", n);
    size_t k = 0;
    if (t->add_space_prefix) {
        memcpy(s, "\xE2\x96\x81", 3);
        k = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') {
            memcpy(s + k, "\xE2\x96\x81", 3);
            k += 3;
        } else {
            s[k++] = text[i];
        }
    }
    /* Segments: the whole text, or (spm_split) pieces that start where a
     * "▁" follows another character; each is looked up in the cache, and
     * cut into symbols and merged when it is not there. */
    for (size_t i = 0; i < len && !rc;) {
        size_t a = i, m = 0;
        int prev_sp = 0;
        while (i < len) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x80) { /* ASCII: one byte, no "▁" */
                i++;
                m++;
                prev_sp = 0;
                continue;
            }
            size_t cl = emb_tok_utf8_len(c);
            if (cl > len - i)
                cl = len - i;
            int sp = cl == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x96 &&
                     (unsigned char)s[i + 2] == 0x81;
            if (m && sp && !prev_sp && t->spm_split)
                break;
            prev_sp = sp;
            i += cl;
            m++;
        }
        size_t at = o->n;
        if (t->spm_split && emb_tok_cache_get(cache, s + a, i - a, o, err, &rc))
            continue;
        sym *sy = local;
        if (m > SHORT_SEG) {
            if (m > big_cap) {
                emb_free(big);
                big_cap = m;
                if (!(big = emb_malloc(m * sizeof *big))) {
                    rc = emb_err_set(err, EMB_ENOMEM, "tok: out of memory for a text of %zu bytes", n);
                    break;
                }
            }
            sy = big;
        }
        for (size_t q = a, y = 0; y < m; y++) {
            size_t cl = emb_tok_utf8_len((unsigned char)s[q]);
            if (cl > len - q)
                cl = len - q;
            sy[y].off = (uint32_t)q;
            sy[y].n = (uint32_t)cl;
            q += cl;
        }
        rc = m >= SHORT_SEG ? merge(t, s, sy, 0, (int32_t)m, &h, o, err)
                            : merge_short_ids(t, s, sy, 0, (int32_t)m, o, err);
        if (!rc && t->spm_split && o->n > at)
            emb_tok_cache_put(cache, s + a, i - a, o->ids + at, o->n - at);
    }
    emb_free(s);
    emb_free(big);
    emb_free(h.a);
    return rc;
}
