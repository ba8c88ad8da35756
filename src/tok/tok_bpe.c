/*
 * tok_bpe.c - byte-level BPE encoding (GGUF tokenizer.ggml.model "gpt2").
 *
 * Pre-tokenizer: the text is cut into chunks by GPT-2's pattern
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * matched by hand, alternatives tried in that order at each position:
 * a contraction; an optional ' ' then a run of letters; of numbers; of
 * anything else that is not white space; a white-space run that ends the
 * text, or else all of it but its last character when that leaves at least
 * one (the last one then joins the next chunk as its ' '); a single white
 * space character.  Classes come from ucat.h (generated).  A byte that does
 * not start valid UTF-8 counts as one character of class "other".
 *
 * BPE inside a chunk: each byte starts as the token of its one-character
 * byte-level text; the adjacent pair with the lowest merge rank (leftmost on
 * ties) is merged until no pair is a merge.  A min-heap of candidate pairs
 * keeps long chunks O(n log n).
 */
#include "tok/tok_int.h"
#include "tok/pqueue.h"
#include "tok/ucat.h"
#include "readers/bytes.h"

#include <stdlib.h>
#include <string.h>

enum { C_OTHER = 0, C_LETTER = 1, C_NUMBER = 2, C_SPACE = 3 };

/* Classes of the ASCII characters. */
static const uint8_t ascii_cls[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
};

static int ucat(uint32_t cp)
{
    if (cp < 0x80)
        return ascii_cls[cp];
    size_t lo = 0, hi = EMB_UCAT_N;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < emb_ucat_ranges[mid][0])
            hi = mid;
        else if (cp > emb_ucat_ranges[mid][1])
            lo = mid + 1;
        else
            return (int)emb_ucat_ranges[mid][2];
    }
    return C_OTHER;
}

/* The character at s[i] (i < n): its class and byte length. */
static int char_at(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    unsigned char c = s[i];
    if (c < 0x80) {
        *len = 1;
        return ascii_cls[c];
    }
    size_t l = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (l == 0 || l > n - i || !emb_utf8_valid(s + i, l)) {
        *len = 1;
        return C_OTHER;
    }
    uint32_t cp = l == 2 ? (uint32_t)(c & 0x1F) : l == 3 ? (uint32_t)(c & 0x0F) : (uint32_t)(c & 0x07);
    for (size_t k = 1; k < l; k++)
        cp = cp << 6 | (s[i + k] & 0x3F);
    *len = l;
    return ucat(cp);
}

/* End of the run of class cls starting at i. */
static size_t run_end(const unsigned char *s, size_t n, size_t i, int cls)
{
    while (i < n) {
        size_t l;
        if (char_at(s, n, i, &l) != cls)
            break;
        i += l;
    }
    return i;
}

/* Length of the chunk that starts at i (i < n). */
static size_t chunk_len(const unsigned char *s, size_t n, size_t i)
{
    if (s[i] == '\'' && i + 1 < n) {
        unsigned char a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd')
            return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    size_t l, j = i;
    if (s[i] == ' ' && i + 1 < n)
        j = i + 1;
    int c = char_at(s, n, j, &l);
    if (j == i + 1 && c == C_SPACE) { /* ' ' then white space: no optional-space form */
        j = i;
        c = C_SPACE;
    }
    if (c != C_SPACE)
        return run_end(s, n, j, c) - i;
    /* White space from i. */
    size_t end = i, last = i;
    while (end < n) {
        size_t cl;
        if (char_at(s, n, end, &cl) != C_SPACE)
            break;
        last = end;
        end += cl;
    }
    if (end == n || last == i)
        return end - i;
    return last - i;
}

typedef struct bsym {
    int32_t prev, next, id;
    uint32_t n; /* 0: merged away */
} bsym;

typedef struct bcand {
    int32_t rank, left, right, lid, rid;
} bcand;

static int bbetter(const bcand *x, const bcand *y)
{
    return x->rank < y->rank || (x->rank == y->rank && x->left < y->left);
}

TOK_PQUEUE(bheap, bcand, bbetter, 64)

static int bpair(const emb_tok *t, const bsym *sy, int32_t l, int32_t r, bheap *h)
{
    if (l < 0 || r < 0 || sy[l].id < 0 || sy[r].id < 0)
        return EMB_OK;
    const emb_tok_pair *p = emb_tok_pair_find(t, sy[l].id, sy[r].id);
    if (!p)
        return EMB_OK;
    bcand c = {p->rank, l, r, sy[l].id, sy[r].id};
    return bheap_push(h, c);
}

/* Short words (most of them): the merges over plain arrays, the
 * lowest-ranked pair found by a scan (leftmost on ties).  ids[0..m) are the
 * starting symbols (-1: no token). */
#define SHORT_CHUNK 48

static int bpe_short(const emb_tok *t, int32_t *ids, size_t m, emb_tok_out *o, emb_err *err)
{
    int32_t rk[SHORT_CHUNK], mid[SHORT_CHUNK];
    for (size_t i = 0; i + 1 < m; i++) {
        const emb_tok_pair *p = ids[i] >= 0 && ids[i + 1] >= 0
                                    ? emb_tok_pair_find(t, ids[i], ids[i + 1]) : NULL;
        rk[i] = p ? p->rank : INT32_MAX;
        mid[i] = p ? p->id : -1;
    }
    while (m > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < m; i++)
            if (rk[i] < rk[best])
                best = i;
        if (rk[best] == INT32_MAX)
            break;
        ids[best] = mid[best];
        for (size_t i = best + 1; i + 1 < m; i++) {
            ids[i] = ids[i + 1];
            rk[i] = rk[i + 1];
            mid[i] = mid[i + 1];
        }
        m--;
        for (size_t i = best ? best - 1 : 0; i <= best && i + 1 < m; i++) {
            const emb_tok_pair *p = ids[i] >= 0 && ids[i + 1] >= 0
                                        ? emb_tok_pair_find(t, ids[i], ids[i + 1]) : NULL;
            rk[i] = p ? p->rank : INT32_MAX;
            mid[i] = p ? p->id : -1;
        }
    }
    for (size_t i = 0; i < m; i++) {
        int32_t id = ids[i] >= 0 ? ids[i] : t->unk;
        if (id >= 0) {
            int rc = emb_tok_out_push(o, id, err);
            if (rc)
                return rc;
        }
    }
    return EMB_OK;
}

/* The same merges for a word of any length: a heap of candidate pairs;
 * sy has room for m symbols. */
static int bpe_long(const emb_tok *t, const int32_t *ids, size_t m, bsym *sy, bheap *h,
                    emb_tok_out *o, emb_err *err)
{
    int32_t ns = (int32_t)m;
    for (int32_t i = 0; i < ns; i++) {
        sy[i].prev = i - 1;
        sy[i].next = i + 1 < ns ? i + 1 : -1;
        sy[i].id = ids[i];
        sy[i].n = 1;
    }
    h->n = 0;
    for (int32_t i = 1; i < ns; i++)
        if (bpair(t, sy, i - 1, i, h))
            return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    while (h->n) {
        bcand c = bheap_pop(h);
        bsym *l = &sy[c.left], *r = &sy[c.right];
        if (l->n == 0 || r->n == 0 || l->next != c.right || l->id != c.lid || r->id != c.rid)
            continue;
        l->id = emb_tok_pair_find(t, c.lid, c.rid)->id;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            sy[r->next].prev = c.left;
        if (bpair(t, sy, l->prev, c.left, h) || bpair(t, sy, c.left, l->next, h))
            return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    }
    for (int32_t i = 0; ns > 0 && i >= 0; i = sy[i].next) {
        int32_t id = sy[i].id >= 0 ? sy[i].id : t->unk;
        if (id >= 0) {
            int rc = emb_tok_out_push(o, id, err);
            if (rc)
                return rc;
        }
    }
    return EMB_OK;
}

/* Working memory of one encode call. */
typedef struct bwork {
    bsym *sy;
    int32_t *ids;
    size_t cap;
    bheap h;
} bwork;

static int bwork_room(bwork *w, size_t m, emb_err *err)
{
    if (m <= w->cap)
        return EMB_OK;
    size_t cap = m < 256 ? 256 : m;
    bsym *sy = emb_realloc(w->sy, cap * sizeof *sy);
    if (sy)
        w->sy = sy;
    int32_t *ids = emb_realloc(w->ids, cap * sizeof *ids);
    if (ids)
        w->ids = ids;
    if (!sy || !ids)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
    w->cap = cap;
    return EMB_OK;
}

static void bwork_free(bwork *w)
{
    emb_free(w->sy);
    emb_free(w->ids);
    emb_free(w->h.a);
}

/* Merge the word whose starting symbols are ids[0..m) (m <= w->cap). */
static int bpe_word(const emb_tok *t, bwork *w, int32_t *ids, size_t m, emb_tok_out *o,
                    emb_err *err)
{
    return m < SHORT_CHUNK ? bpe_short(t, ids, m, o, err) : bpe_long(t, ids, m, w->sy, &w->h, o, err);
}

int emb_tok_bpe_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                       emb_tok_out *o, emb_err *err)
{
    if (n > INT32_MAX - 1)
        return emb_err_set(err, EMB_ERANGE, "tok: text of %zu bytes is too long", n);
    const unsigned char *s = (const unsigned char *)text;
    char *copy = NULL;
    if (t->prefix_space && n && s[0] != ' ') { /* ByteLevel add_prefix_space */
        if (!(copy = emb_malloc(n + 1)))
            return emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
        copy[0] = ' ';
        memcpy(copy + 1, text, n);
        s = (const unsigned char *)copy;
        n++;
    }
    bwork w = {NULL, NULL, 0, {NULL, 0, 0}};
    int rc = EMB_OK;
    for (size_t i = 0; i < n && !rc;) {
        size_t len = chunk_len(s, n, i), at = o->n;
        if (emb_tok_cache_get(cache, (const char *)s + i, len, o, err, &rc)) {
            i += len;
            continue;
        }
        int32_t stack[SHORT_CHUNK], *ids = stack;
        if (len >= SHORT_CHUNK) {
            if ((rc = bwork_room(&w, len, err)))
                break;
            ids = w.ids;
        }
        for (size_t k = 0; k < len; k++)
            ids[k] = t->byte_tok[s[i + k]];
        rc = bpe_word(t, &w, ids, len, o, err);
        if (!rc && o->n > at) /* a word of no tokens (all unknown) is not cached */
            emb_tok_cache_put(cache, (const char *)s + i, len, o->ids + at, o->n - at);
        i += len;
    }
    bwork_free(&w);
    emb_free(copy);
    return rc;
}

/* ---- character BPE with byte fallback (tokenizer.json, llama-style) -------- */

/* Starting symbols of the word s[0..n), as tokenizers' BPE builds them: one
 * per UTF-8 character (a byte that does not start valid UTF-8 counts as
 * one character): its token; else, with byte_fallback, its bytes' <0xNN>
 * tokens when all of them exist; else the unknown token, held back until
 * the next character that is a token or the end (so byte-fallback tokens
 * can come before it, as in tokenizers), a run of them fused into one with
 * fuse_unk; nothing when there is no unknown token.  Returns the count. */
static size_t cbpe_symbols(const emb_tok *t, const unsigned char *s, size_t n, int32_t *ids)
{
    size_t m = 0;
    int unk = 0; /* an unknown token is held back */
    for (size_t i = 0; i < n;) {
        size_t l;
        char_at(s, n, i, &l);
        int32_t id = emb_tok_find(t, (const char *)s + i, l);
        if (id >= 0) {
            if (unk)
                ids[m++] = t->unk;
            unk = 0;
            ids[m++] = id;
        } else {
            size_t k = 0;
            while (t->byte_fallback && k < l && t->byte_tok[s[i + k]] >= 0)
                k++;
            if (t->byte_fallback && k == l) {
                for (k = 0; k < l; k++)
                    ids[m++] = t->byte_tok[s[i + k]];
            } else if (t->unk >= 0) {
                if (unk && !t->fuse_unk)
                    ids[m++] = t->unk;
                unk = 1;
            }
        }
        i += l;
    }
    if (unk)
        ids[m++] = t->unk;
    return m;
}

int emb_tok_cbpe_encode(const emb_tok *t, emb_tok_cache *cache, const char *text, size_t n,
                        emb_tok_out *o, emb_err *err)
{
    static const char sp[] = "\xE2\x96\x81";
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++)
        spaces += text[i] == ' ';
    int pre = t->prepend == 1 ? n > 0
            : t->prepend == 2 ? !(n >= 3 && memcmp(text, sp, 3) == 0) && !(n && text[0] == ' ')
                              : 0;
    if (n > ((size_t)64 << 20) || n + 2 * spaces + 3 > ((size_t)64 << 20))
        return emb_err_set(err, EMB_ERANGE, "tok: text of %zu bytes is too long (at most %zu)", n,
                           (size_t)64 << 20);
    size_t len = n + 2 * spaces + (pre ? 3 : 0), k = 0;
    unsigned char *s = emb_malloc(len ? len : 1);
    if (!s)
        return emb_err_set(err, EMB_ENOMEM, "tok: out of memory for a text of %zu bytes", n);
    if (pre) {
        memcpy(s, sp, 3);
        k = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') {
            memcpy(s + k, sp, 3);
            k += 3;
        } else {
            s[k++] = (unsigned char)text[i];
        }
    }
    bwork w = {NULL, NULL, 0, {NULL, 0, 0}};
    int rc = EMB_OK;
    for (size_t a = 0; a < len && !rc;) {
        size_t b = len;
        if (t->ms_split) /* each "▁" starts a word */
            for (b = a + 1; b < len && !(b + 3 <= len && memcmp(s + b, sp, 3) == 0); b++)
                ;
        size_t at = o->n;
        if (t->ms_split && emb_tok_cache_get(cache, (const char *)s + a, b - a, o, err, &rc)) {
            a = b;
            continue;
        }
        if ((rc = bwork_room(&w, b - a, err)))
            break;
        size_t m = cbpe_symbols(t, s + a, b - a, w.ids);
        rc = bpe_word(t, &w, w.ids, m, o, err);
        if (!rc && t->ms_split && o->n > at)
            emb_tok_cache_put(cache, (const char *)s + a, b - a, o->ids + at, o->n - at);
        a = b;
    }
    bwork_free(&w);
    emb_free(s);
    return rc;
}
