/*
 * alloc.c - the core's allocator (see alloc.h) and its failure injection.
 *
 * Why the hook is always compiled in rather than behind a test-only flag:
 * the tests then exercise the very objects that ship (no second build of
 * the core that could behave differently), and the cost is one relaxed
 * atomic load of a flag per allocation, which is nothing next to malloc
 * itself.  The hook is not exported from embext.so (-fvisibility=hidden,
 * no SQL function reaches it): only programs that link the core statically
 * (the unit tests, tests/oom) can arm it.
 *
 * The countdown is shared by all threads (atomics): with several threads
 * allocating, which one sees the failure is not fixed, but exactly the
 * (k + 1)-th allocation overall fails.
 */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int armed;           /* 0: never fail (the fast path) */
static atomic_long countdown;      /* allocations left before the failure */
static atomic_int sticky_mode;     /* keep failing once failed */
static atomic_long n_failed;
static atomic_long n_calls;        /* allocations while armed */

/* 1 when this allocation must fail. */
static int inject(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
    long left = atomic_fetch_sub(&countdown, 1);
    if (left > 0)
        return 0;
    if (left == 0 || atomic_load(&sticky_mode)) {
        atomic_fetch_add(&n_failed, 1);
        return 1;
    }
    return 0;
}

void emb_alloc_fail_after(long k, int sticky)
{
    atomic_store(&armed, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&n_calls, 0);
    if (k < 0)
        return;
    atomic_store(&countdown, k);
    atomic_store(&sticky_mode, sticky != 0);
    atomic_store(&armed, 1);
}

long emb_alloc_failures(void)
{
    return atomic_load(&n_failed);
}

long emb_alloc_calls(void)
{
    return atomic_load(&n_calls);
}

void *emb_malloc(size_t n)
{
    return inject() ? NULL : malloc(n);
}

void *emb_calloc(size_t n, size_t size)
{
    return inject() ? NULL : calloc(n, size);
}

void *emb_realloc(void *p, size_t n)
{
    return inject() ? NULL : realloc(p, n);
}

void emb_free(void *p)
{
    free(p);
}

void *emb_aligned_alloc(size_t align, size_t n)
{
    void *p = NULL;
    if (inject() || posix_memalign(&p, align, n ? n : 1) != 0)
        return NULL;
    return p;
}

char *emb_strndup(const char *s, size_t n)
{
    char *c = emb_malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}
