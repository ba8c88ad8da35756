/* best.c - emb_best (best.h) over the shared heap of search/heap.h. */
#include "search/best.h"
#include "search/heap.h"

#include <math.h>

/* a ranks after b: lower score, then larger id. */
static inline int scored_worse(const emb_scored *a, const emb_scored *b)
{
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

EMB_TOPK_HEAP(scored_heap, emb_scored, scored_worse)

void emb_best_init(emb_best *b, emb_scored *storage, size_t k)
{
    b->items = storage;
    b->k = k;
    b->n = 0;
}

void emb_best_push(emb_best *b, int64_t id, float score)
{
    if (isnan(score))
        return;
    emb_scored c = {id, score};
    scored_heap_offer(b->items, &b->n, b->k, c);
}

void emb_best_sort(emb_best *b)
{
    scored_heap_sort(b->items, b->n);
}
