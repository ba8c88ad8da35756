/* best.c - top-k selection of scored ids (see best.h). */
#include "search/best.h"

#include <math.h>
#include <stdlib.h>

/* a ranks before b: higher score, then smaller id. */
static int better(const emb_scored *a, const emb_scored *b)
{
    return a->score > b->score || (a->score == b->score && a->id < b->id);
}

void emb_best_init(emb_best *b, emb_scored *storage, size_t k)
{
    b->items = storage;
    b->k = k;
    b->n = 0;
}

static void sift_down(emb_scored *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (r < n && better(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        emb_scored t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

void emb_best_push(emb_best *b, int64_t id, float score)
{
    if (b->k == 0 || isnan(score))
        return;
    emb_scored c = {id, score};
    emb_scored *h = b->items;
    if (b->n < b->k) {
        /* sift up: the root holds the worst item */
        size_t i = b->n++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!better(&h[p], &c))
                break;
            h[i] = h[p];
            i = p;
        }
        h[i] = c;
        return;
    }
    if (!better(&c, &h[0]))
        return;
    h[0] = c;
    sift_down(h, b->n, 0);
}

static int cmp_best_first(const void *pa, const void *pb)
{
    const emb_scored *a = pa, *b = pb;
    if (better(a, b))
        return -1;
    return better(b, a) ? 1 : 0;
}

void emb_best_sort(emb_best *b)
{
    qsort(b->items, b->n, sizeof b->items[0], cmp_best_first);
}
