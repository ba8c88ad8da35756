/*
 * alloc.h - the one place where the core (src/) and the glue's own non-SQLite
 * buffers allocate heap memory, so that a test can make allocation k fail.
 *
 *   emb_malloc / emb_calloc / emb_realloc / emb_free    as the C library's
 *   emb_aligned_alloc(align, n)                          posix_memalign; the
 *                                                        block is released
 *                                                        with emb_free
 *   emb_strndup(s, n)                                    n bytes + NUL
 *
 * Every other file of src/ and ext/ calls these instead of malloc, calloc,
 * realloc, free, strdup or posix_memalign (tests/check_alloc.sh fails the
 * build's tests when a raw call appears).  ext/ allocates its SQL-facing
 * memory with sqlite3_malloc64 (SQLite's allocator, which tests replace with
 * sqlite3_config(SQLITE_CONFIG_MALLOC)); it uses these for buffers that it
 * hands to or takes from the core.
 *
 * Failure injection (tests only; always compiled in, see alloc.c for why):
 *
 *   emb_alloc_fail_after(k, sticky)   the next k allocations succeed, number
 *                                     k + 1 fails (k = 0: the very next one);
 *                                     sticky: every later one fails too,
 *                                     until emb_alloc_fail_after(-1, 0)
 *   emb_alloc_fail_after(-1, 0)       stop failing (the default)
 *   emb_alloc_failures()              allocations failed since the last call
 *                                     of emb_alloc_fail_after
 *   emb_alloc_calls()                 allocations tried since then (arm with
 *                                     a huge k to count a statement's)
 *
 * emb_free never fails; a failed emb_realloc leaves p untouched (as the C
 * library's realloc).
 */
#ifndef EMB_ALLOC_H
#define EMB_ALLOC_H

#include <stddef.h>

void *emb_malloc(size_t n);
void *emb_calloc(size_t n, size_t size);
void *emb_realloc(void *p, size_t n);
void emb_free(void *p);
void *emb_aligned_alloc(size_t align, size_t n);
char *emb_strndup(const char *s, size_t n);

void emb_alloc_fail_after(long k, int sticky);
long emb_alloc_failures(void);
long emb_alloc_calls(void);

#endif
