/* topk.c - emb_topk (topk.h) over the shared heap of search/heap.h. */
#include "search/topk.h"

void emb_topk_init(emb_topk *t, emb_hit *storage, size_t k)
{
    t->h = storage;
    t->k = k;
    t->count = 0;
}

void emb_topk_sift_up(emb_topk *t, size_t i)
{
    emb_hit_heap_sift_up(t->h, i);
}

void emb_topk_sift_down(emb_topk *t, size_t i)
{
    emb_hit_heap_sift_down(t->h, t->count, i);
}

size_t emb_topk_finish(emb_topk *t)
{
    emb_hit_heap_sort(t->h, t->count);
    return t->count;
}
