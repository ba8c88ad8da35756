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
#include "core/alloc.h"
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

/* Short chunks (most words): the same merges over plain arrays, the
 * lowest-ranked pair found by a scan (leftmost on ties). */
#define SHORT_CHUNK 48

static int bpe_short(const emb_tok *t, const unsigned char *s, size_t n, emb_tok_out *o,
                     emb_err *err)
{
    int32_t ids[SHORT_CHUNK], rk[SHORT_CHUNK], mid[SHORT_CHUNK];
    size_t m = n;
    for (size_t i = 0; i < m; i++)
        ids[i] = t->byte_tok[s[i]];
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
            const emb_tok_pair *p = emb_tok_pair_find(t, ids[i], ids[i + 1]);
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

/* BPE over the bytes s[0..n) of one chunk; sy has room for n symbols. */
static int bpe_chunk(const emb_tok *t, const unsigned char *s, size_t n, bsym *sy, bheap *h,
                     emb_tok_out *o, emb_err *err)
{
    int32_t ns = (int32_t)n;
    for (int32_t i = 0; i < ns; i++) {
        sy[i].prev = i - 1;
        sy[i].next = i + 1 < ns ? i + 1 : -1;
        sy[i].id = t->byte_tok[s[i]];
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
    for (int32_t i = 0; i >= 0; i = sy[i].next) {
        int32_t id = sy[i].id >= 0 ? sy[i].id : t->unk;
        if (id >= 0) {
            int rc = emb_tok_out_push(o, id, err);
            if (rc)
                return rc;
        }
    }
    return EMB_OK;
}

int emb_tok_bpe_encode(const emb_tok *t, const char *text, size_t n, emb_tok_out *o,
                       emb_err *err)
{
    const unsigned char *s = (const unsigned char *)text;
    if (n > INT32_MAX)
        return emb_err_set(err, EMB_ERANGE, "tok: text of %zu bytes is too long", n);
    bsym *sy = NULL;
    size_t sy_cap = 0;
    bheap h = {NULL, 0, 0};
    int rc = EMB_OK;
    for (size_t i = 0; i < n && !rc;) {
        size_t len = chunk_len(s, n, i);
        if (len > sy_cap) {
            size_t cap = len < 256 ? 256 : len;
            bsym *nsy = emb_realloc(sy, cap * sizeof *nsy);
            if (!nsy) {
                rc = emb_err_set(err, EMB_ENOMEM, "tok: out of memory");
                break;
            }
            sy = nsy;
            sy_cap = cap;
        }
        rc = len < SHORT_CHUNK ? bpe_short(t, s + i, len, o, err)
                               : bpe_chunk(t, s + i, len, sy, &h, o, err);
        i += len;
    }
    emb_free(sy);
    emb_free(h.a);
    return rc;
}
