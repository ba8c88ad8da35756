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
 * use plain arrays and a scan instead of the heap.
 */
#include "tok/tok_int.h"
#include "core/alloc.h"
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

static int is_space(const char *s, const sym *y)
{
    return y->n == 3 && memcmp(s + y->off, "\xE2\x96\x81", 3) == 0;
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
 * pair found by a scan (highest score, leftmost on ties). */
#define SHORT_SEG 48

static int merge_short(const emb_tok *t, const char *s, const sym *sy, int32_t a, int32_t b,
                       emb_tok_out *o, emb_err *err)
{
    uint32_t off[SHORT_SEG], n[SHORT_SEG];
    float sc[SHORT_SEG];
    uint8_t ok[SHORT_SEG];
    size_t m = (size_t)(b - a);
    for (size_t i = 0; i < m; i++) {
        off[i] = sy[a + (int32_t)i].off;
        n[i] = sy[a + (int32_t)i].n;
    }
    for (size_t i = 0; i + 1 < m; i++) {
        int32_t id = emb_tok_find(t, s + off[i], n[i] + n[i + 1]);
        ok[i] = id >= 0;
        sc[i] = id >= 0 ? t->score[id] : 0;
    }
    while (m > 1) {
        size_t best = m;
        for (size_t i = 0; i + 1 < m; i++)
            if (ok[i] && (best == m || sc[i] > sc[best]))
                best = i;
        if (best == m)
            break;
        n[best] += n[best + 1];
        for (size_t i = best + 1; i + 1 < m; i++) {
            off[i] = off[i + 1];
            n[i] = n[i + 1];
            sc[i] = sc[i + 1];
            ok[i] = ok[i + 1];
        }
        m--;
        for (size_t i = best ? best - 1 : 0; i <= best && i + 1 < m; i++) {
            int32_t id = emb_tok_find(t, s + off[i], n[i] + n[i + 1]);
            ok[i] = id >= 0;
            sc[i] = id >= 0 ? t->score[id] : 0;
        }
    }
    int rc = EMB_OK;
    for (size_t i = 0; i < m && !rc; i++) {
        int32_t id = emb_tok_find(t, s + off[i], n[i]);
        if (id >= 0) {
            rc = emb_tok_out_push(o, id, err);
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

int emb_tok_spm_encode(const emb_tok *t, const char *text, size_t n, emb_tok_out *o,
                       emb_err *err)
{
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++)
        spaces += text[i] == ' ';
    size_t len = n + 2 * spaces + (t->add_space_prefix ? 3 : 0);
    if (n > SPM_MAX_TEXT || len > SPM_MAX_TEXT)
        return emb_err_set(err, EMB_ERANGE, "tok: text of %zu bytes is too long (at most %zu)", n,
                           SPM_MAX_TEXT);
    char *s = emb_malloc(len);
    sym *sy = emb_malloc(len * sizeof *sy);
    heap h = {NULL, 0, 0};
    int rc = EMB_OK;
    if (!s || !sy) {
        rc = emb_err_set(err, EMB_ENOMEM, "tok: out of memory for a text of %zu bytes", n);
        goto done;
    }
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
    int32_t ns = 0;
    for (size_t i = 0; i < len;) {
        size_t cl = emb_tok_utf8_len((unsigned char)s[i]);
        if (cl > len - i)
            cl = len - i;
        sy[ns].off = (uint32_t)i;
        sy[ns].n = (uint32_t)cl;
        ns++;
        i += cl;
    }
    /* Segments: the whole text, or (spm_split) pieces that start where a
     * "▁" follows another character. */
    for (int32_t a = 0; a < ns && !rc;) {
        int32_t b = a + 1;
        if (t->spm_split)
            while (b < ns && !(is_space(s, &sy[b]) && !is_space(s, &sy[b - 1])))
                b++;
        else
            b = ns;
        rc = b - a < SHORT_SEG ? merge_short(t, s, sy, a, b, o, err)
                               : merge(t, s, sy, a, b, &h, o, err);
        a = b;
    }
done:
    emb_free(s);
    emb_free(sy);
    emb_free(h.a);
    return rc;
}
