/*
 * harden.h - helpers shared by the crash-safety and concurrency tests
 * (tests/harden/crash.c, tests/harden/concurrent.c): opening a database
 * file with embext linked in (libembext.a, so the same code runs in the
 * normal, ASan and TSan builds), statement helpers that stop the test with a
 * message, the row values both tests derive from numbers, and a
 * brute-force nearest-neighbour check.
 */
#ifndef EMB_HARDEN_H
#define EMB_HARDEN_H

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/sqlite3_embext.h"

#define HARDEN_DIM 8

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAILED: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Open path (flags as sqlite3_open_v2) with embext registered and a busy
 * timeout; stops the test on failure. */
static sqlite3 *harden_open(const char *path, int flags)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        die("open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    char *err = NULL;
    if (sqlite3_embext_init(db, &err, NULL) != SQLITE_OK)
        die("embext init: %s", err ? err : "?");
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die("%s: %s", sql, err ? err : sqlite3_errmsg(db));
}

static sqlite3_stmt *prepare_or_die(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die("prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

/* Element j of the vector of row id at version ver: multiples of 1/4 in
 * [-8, 8), exact in f32, f16 and bf16, so every dtype compares byte for
 * byte after widening. */
static float harden_elem(int64_t id, int64_t ver, int j)
{
    int64_t x = (id * 7 + ver * 13 + (int64_t)j * 3 + (id * ver) % 5) % 64;
    return (float)(x - 32) / 4.0f;
}

static void harden_vec(int64_t id, int64_t ver, float *v)
{
    for (int j = 0; j < HARDEN_DIM; j++)
        v[j] = harden_elem(id, ver, j);
}

/* Bind the vector of row id at version ver as parameter i of st. */
static void harden_bind_vec(sqlite3_stmt *st, int i, int64_t id, int64_t ver)
{
    float v[HARDEN_DIM];
    harden_vec(id, ver, v);
    sqlite3_bind_blob(st, i, v, sizeof v, SQLITE_TRANSIENT);
}

/* Step a statement that returns no rows, then reset it; die naming who. */
static void harden_step_done(sqlite3 *db, sqlite3_stmt *st, const char *who)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die("%s: %s: %s", who, sqlite3_sql(st), sqlite3_errmsg(db));
    sqlite3_reset(st);
}

/* ---- brute force -------------------------------------------------------- */

enum { METRIC_COSINE, METRIC_DOT, METRIC_L2 };

static double harden_distance(const float *a, const float *b, int metric)
{
    double dot = 0, na = 0, nb = 0, l2 = 0;
    for (int j = 0; j < HARDEN_DIM; j++) {
        dot += (double)a[j] * b[j];
        na += (double)a[j] * a[j];
        nb += (double)b[j] * b[j];
        l2 += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    }
    if (metric == METRIC_DOT)
        return -dot;
    if (metric == METRIC_L2)
        return sqrt(l2);
    return na == 0 || nb == 0 ? 1.0 : 1.0 - dot / sqrt(na * nb);
}

typedef struct {
    int64_t id;
    double d;
} Hit;

static int hit_cmp(const void *x, const void *y)
{
    const Hit *a = x, *b = y;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Does got[0..n_got) (ids and distances from the extension) equal the
 * brute-force top k of all[0..n_all) (every row's exact distance; sorted in
 * place)?  Distances agree position by position within tol, each returned
 * id is a row whose own distance agrees within tol, no id twice; near ties
 * may come out in either order.  Writes the reason into why on failure. */
static int harden_knn_equal(const Hit *got, size_t n_got, Hit *all, size_t n_all, size_t k,
                            double tol, char *why, size_t why_cap)
{
    if (n_all > 0) /* all may be NULL when empty (nothing committed yet) */
        qsort(all, n_all, sizeof *all, hit_cmp);
    size_t want = k < n_all ? k : n_all;
    if (n_got != want) {
        snprintf(why, why_cap, "%zu rows, expected %zu", n_got, want);
        return 0;
    }
    for (size_t i = 0; i < n_got; i++) {
        if (!(fabs(got[i].d - all[i].d) <= tol)) {
            snprintf(why, why_cap, "rank %zu: distance %.9g, expected %.9g (id %lld)", i + 1,
                     got[i].d, all[i].d, (long long)all[i].id);
            return 0;
        }
        int found = 0;
        for (size_t j = 0; j < n_all && !found; j++)
            if (all[j].id == got[i].id) {
                found = 1;
                if (!(fabs(all[j].d - got[i].d) <= tol)) {
                    snprintf(why, why_cap, "id %lld: distance %.9g, its row gives %.9g",
                             (long long)got[i].id, got[i].d, all[j].d);
                    return 0;
                }
            }
        if (!found) {
            snprintf(why, why_cap, "id %lld is not a row", (long long)got[i].id);
            return 0;
        }
        for (size_t j = 0; j < i; j++)
            if (got[j].id == got[i].id) {
                snprintf(why, why_cap, "id %lld twice", (long long)got[i].id);
                return 0;
            }
    }
    return 1;
}

#endif
