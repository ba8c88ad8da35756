/*
 * pqueue.h - a growable binary heap, written once for the merge queues of
 * the tokenizers (tok_spm.c: best score first, tok_bpe.c: lowest rank
 * first).  TOK_PQUEUE(Q, T, BETTER, CAP0) defines
 *
 *   typedef struct Q { T *a; size_t n, cap; } Q;     (zero-initialise it)
 *   static int Q##_push(Q *h, T c);   EMB_OK or EMB_ENOMEM
 *   static T Q##_pop(Q *h);           the best element; h->n must be > 0
 *
 * where BETTER(const T *x, const T *y) is nonzero when x comes out before y
 * and CAP0 is the first capacity.  The caller frees h->a.
 */
#ifndef EMB_TOK_PQUEUE_H
#define EMB_TOK_PQUEUE_H

#include <stdlib.h>
#include "core/alloc.h"

#define TOK_PQUEUE(Q, T, BETTER, CAP0)                                                            \
    typedef struct Q {                                                                            \
        T *a;                                                                                     \
        size_t n, cap;                                                                            \
    } Q;                                                                                          \
                                                                                                  \
    static int Q##_push(Q *h, T c)                                                                \
    {                                                                                             \
        if (h->n == h->cap) {                                                                     \
            size_t cap = h->cap ? 2 * h->cap : (CAP0);                                            \
            T *a = emb_realloc(h->a, cap * sizeof *a);                                                \
            if (!a)                                                                               \
                return EMB_ENOMEM;                                                                \
            h->a = a;                                                                             \
            h->cap = cap;                                                                         \
        }                                                                                         \
        size_t i = h->n++;                                                                        \
        while (i > 0) {                                                                           \
            size_t up = (i - 1) / 2;                                                              \
            if (!BETTER(&c, &h->a[up]))                                                           \
                break;                                                                            \
            h->a[i] = h->a[up];                                                                   \
            i = up;                                                                               \
        }                                                                                         \
        h->a[i] = c;                                                                              \
        return EMB_OK;                                                                            \
    }                                                                                             \
                                                                                                  \
    static T Q##_pop(Q *h)                                                                        \
    {                                                                                             \
        T top = h->a[0], last = h->a[--h->n];                                                     \
        size_t i = 0;                                                                             \
        for (;;) {                                                                                \
            size_t l = 2 * i + 1, best = l;                                                       \
            if (l >= h->n)                                                                        \
                break;                                                                            \
            if (l + 1 < h->n && BETTER(&h->a[l + 1], &h->a[l]))                                   \
                best = l + 1;                                                                     \
            if (!BETTER(&h->a[best], &last))                                                      \
                break;                                                                            \
            h->a[i] = h->a[best];                                                                 \
            i = best;                                                                             \
        }                                                                                         \
        if (h->n)                                                                                 \
            h->a[i] = last;                                                                       \
        return top;                                                                               \
    }

#endif
