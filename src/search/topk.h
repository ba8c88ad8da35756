/*
 * topk.h - exact top-k selection (smallest distances) on the shared bounded
 * heap of search/heap.h.
 *
 * The heap lives in caller storage (room for k hits), so selection never
 * allocates.  Order: by distance ascending, ties by smaller id.  push is
 * inline because search calls it once per candidate row.
 */
#ifndef EMB_TOPK_H
#define EMB_TOPK_H

#include "search/heap.h"
#include "search/matrix.h"

#include <stddef.h>
#include <stdint.h>

typedef struct emb_topk {
    emb_hit *h;   /* borrowed, room for k */
    size_t k;
    size_t count;
} emb_topk;

/* a ranks after b (a is "worse") */
static inline int emb_hit_worse(const emb_hit *a, const emb_hit *b)
{
    return a->distance > b->distance || (a->distance == b->distance && a->id > b->id);
}

EMB_TOPK_HEAP(emb_hit_heap, emb_hit, emb_hit_worse)

void emb_topk_init(emb_topk *t, emb_hit *storage, size_t k);
void emb_topk_sift_down(emb_topk *t, size_t i);
void emb_topk_sift_up(emb_topk *t, size_t i);

static inline void emb_topk_push(emb_topk *t, int64_t id, float distance)
{
    emb_hit x = {id, distance};
    emb_hit_heap_offer(t->h, &t->count, t->k, x);
}

/* Sort the kept hits ascending in place (heap storage); returns how many. */
size_t emb_topk_finish(emb_topk *t);

#endif
