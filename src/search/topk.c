/* topk.c - bounded max-heap (topk.h): sift operations and final heap sort. */
#include "search/topk.h"

void emb_topk_init(emb_topk *t, emb_hit *storage, size_t k)
{
    t->h = storage;
    t->k = k;
    t->count = 0;
}

void emb_topk_sift_up(emb_topk *t, size_t i)
{
    emb_hit x = t->h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!emb_hit_worse(&x, &t->h[p]))
            break;
        t->h[i] = t->h[p];
        i = p;
    }
    t->h[i] = x;
}

static void sift_down_n(emb_hit *h, size_t n, size_t i)
{
    emb_hit x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && emb_hit_worse(&h[c + 1], &h[c]))
            c++;
        if (!emb_hit_worse(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

void emb_topk_sift_down(emb_topk *t, size_t i)
{
    sift_down_n(t->h, t->count, i);
}

size_t emb_topk_finish(emb_topk *t)
{
    size_t n = t->count;
    for (size_t end = n; end > 1; end--) {
        emb_hit top = t->h[0];
        t->h[0] = t->h[end - 1];
        t->h[end - 1] = top;
        sift_down_n(t->h, end - 1, 0);
    }
    return n;
}
