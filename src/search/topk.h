/*
 * topk.h - bounded max-heap for exact top-k selection (smallest distances).
 *
 * The heap lives in caller storage (room for k hits), so selection never
 * allocates.  Order: by distance ascending, ties by smaller id.  push is
 * inline because search calls it once per candidate row.
 */
#ifndef EMB_TOPK_H
#define EMB_TOPK_H

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

void emb_topk_init(emb_topk *t, emb_hit *storage, size_t k);
void emb_topk_sift_down(emb_topk *t, size_t i);
void emb_topk_sift_up(emb_topk *t, size_t i);

static inline void emb_topk_push(emb_topk *t, int64_t id, float distance)
{
    emb_hit x = {id, distance};
    if (t->count < t->k) {
        t->h[t->count] = x;
        emb_topk_sift_up(t, t->count++);
    } else if (t->k > 0 && emb_hit_worse(&t->h[0], &x)) {
        t->h[0] = x;
        emb_topk_sift_down(t, 0);
    }
}

/* Sort the kept hits ascending in place (heap storage); returns how many. */
size_t emb_topk_finish(emb_topk *t);

#endif
