/*
 * best.h - keep the k best (id, score) pairs of a stream: higher score first,
 * equal scores by smaller id.  NaN scores are ignored.
 *
 * The storage (room for k items) is the caller's; the heap is the one of
 * search/heap.h (worst at the root: O(log k) per accepted push, O(1) per
 * rejection), the same code exact KNN uses with the order reversed.
 */
#ifndef EMB_BEST_H
#define EMB_BEST_H

#include "lm/analogy.h"

#include <stddef.h>
#include <stdint.h>

typedef struct emb_best {
    emb_scored *items; /* borrowed, room for k */
    size_t k;
    size_t n;
} emb_best;

void emb_best_init(emb_best *b, emb_scored *storage, size_t k);
/* Offer one candidate. */
void emb_best_push(emb_best *b, int64_t id, float score);
/* Would a candidate with this score (and an id larger than any seen) be kept? */
static inline int emb_best_wants(const emb_best *b, float score)
{
    return b->n < b->k || score > b->items[0].score;
}
/* Sort the kept items best first (the heap is consumed: push no more). */
void emb_best_sort(emb_best *b);

#endif
