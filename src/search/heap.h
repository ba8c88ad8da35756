/*
 * heap.h - the one bounded top-k heap, written once and instantiated per
 * item type (EMB_TOPK_HEAP below).  Used by search/topk.h (distances,
 * smallest first: exact KNN) and search/best.h (scores, largest first:
 * most_similar, analogies, logits).
 *
 * The heap keeps the k best items of a stream in caller storage with the
 * worst kept item at the root, so a rejected candidate costs one compare
 * and an accepted one O(log k).  WORSE(a, b) is true when a ranks after b;
 * it must be a strict total order on the items (ties broken by id), which
 * makes the final order independent of the order of the stream.
 *
 * EMB_TOPK_HEAP(P, T, WORSE) defines static inline functions:
 *   P##_sift_up(h, i)          restore the heap after h[i] was appended
 *   P##_sift_down(h, n, i)     restore the heap after h[i] was replaced
 *   P##_offer(h, &n, k, x)     keep x if it is among the k best so far
 *   P##_sort(h, n)             heap sort in place, best first (consumes the heap)
 */
#ifndef EMB_HEAP_H
#define EMB_HEAP_H
#include <stddef.h>

#define EMB_TOPK_HEAP(P, T, WORSE)                                                   \
    static inline void P##_sift_up(T *h, size_t i)                                   \
    {                                                                                \
        T x = h[i];                                                                  \
        while (i > 0) {                                                              \
            size_t p = (i - 1) / 2;                                                  \
            if (!WORSE(&x, &h[p]))                                                   \
                break;                                                               \
            h[i] = h[p];                                                             \
            i = p;                                                                   \
        }                                                                            \
        h[i] = x;                                                                    \
    }                                                                                \
    static inline void P##_sift_down(T *h, size_t n, size_t i)                       \
    {                                                                                \
        T x = h[i];                                                                  \
        for (;;) {                                                                   \
            size_t c = 2 * i + 1;                                                    \
            if (c >= n)                                                              \
                break;                                                               \
            if (c + 1 < n && WORSE(&h[c + 1], &h[c]))                                \
                c++;                                                                 \
            if (!WORSE(&h[c], &x))                                                   \
                break;                                                               \
            h[i] = h[c];                                                             \
            i = c;                                                                   \
        }                                                                            \
        h[i] = x;                                                                    \
    }                                                                                \
    static inline void P##_offer(T *h, size_t *n, size_t k, T x)                     \
    {                                                                                \
        if (*n < k) {                                                                \
            h[*n] = x;                                                               \
            P##_sift_up(h, (*n)++);                                                  \
        } else if (k > 0 && WORSE(&h[0], &x)) {                                      \
            h[0] = x;                                                                \
            P##_sift_down(h, *n, 0);                                                 \
        }                                                                            \
    }                                                                                \
    static inline void P##_sort(T *h, size_t n)                                      \
    {                                                                                \
        for (size_t end = n; end > 1; end--) {                                       \
            T top = h[0];                                                            \
            h[0] = h[end - 1];                                                       \
            h[end - 1] = top;                                                        \
            P##_sift_down(h, end - 1, 0);                                            \
        }                                                                            \
    }

#endif
