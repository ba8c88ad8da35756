/*
 * ext_harness.h - shared helpers for the unit tests that drive the built
 * extension through SQLite (static, header only; include after <cmocka.h>
 * and <sqlite3.h>): opening a connection with the extension loaded, and
 * out-of-memory injection.
 *
 *   sqlite3 *db = ext_open(":memory:");     embext loaded from $EMB_EXT
 *                                           (tests/run.sh sets it) or
 *                                           build/embext.so
 *   int main(void) { oom_install(); ... }      before any other SQLite call
 *   oom_failed_once = 0; oom_fail_after = k;   allocation number k fails
 *   ... run statements; check oom_error(rc, err) for every failure ...
 *   oom_fail_after = -1;                        stop failing
 *   if (!oom_failed_once) -> the script needed fewer than k allocations: done
 *
 * Only SQLite's allocator is replaced (sqlite3_malloc / sqlite3_realloc, so
 * everything the extension allocates through SQLite); once allocation k has
 * failed, every later one fails too until oom_fail_after is reset.
 */
#ifndef EMB_EXT_HARNESS_H
#define EMB_EXT_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open path (file name or ":memory:") and load the extension; any failure
 * fails the test. */
static sqlite3 *ext_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_enable_load_extension(db, 1);
    const char *ext = getenv("EMB_EXT");
    char *err = NULL;
    int rc = sqlite3_load_extension(db, ext && *ext ? ext : "build/embext.so", NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "load: %s\n", err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    return db;
}

static sqlite3_mem_methods oom_real_mem;
static long oom_fail_after = -1; /* -1: never */
static int oom_failed_once;

static void *oom_malloc(int n)
{
    if (oom_fail_after == 0) {
        oom_failed_once = 1;
        return NULL;
    }
    if (oom_fail_after > 0)
        oom_fail_after--;
    return oom_real_mem.xMalloc(n);
}

static void *oom_realloc(void *p, int n)
{
    if (oom_fail_after == 0) {
        oom_failed_once = 1;
        return NULL;
    }
    if (oom_fail_after > 0)
        oom_fail_after--;
    return oom_real_mem.xRealloc(p, n);
}

/* Route SQLite's allocations through oom_malloc / oom_realloc. */
static void oom_install(void)
{
    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &oom_real_mem);
    sqlite3_mem_methods m = oom_real_mem;
    m.xMalloc = oom_malloc;
    m.xRealloc = oom_realloc;
    sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
}

/* 1 if a failed statement (rc, error text err or NULL) failed for lack of memory. */
static int oom_error(int rc, const char *err)
{
    return rc == SQLITE_NOMEM || strstr(err ? err : "", "out of memory") != NULL;
}

#endif
