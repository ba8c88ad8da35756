/*
 * oom_sweep.c - allocation-failure sweep over a representative set of SQL
 * statements (tests/oom/statements.sql), with embext linked in statically
 * (the objects of `make static`), so that both allocators can be failed:
 *
 *   sqlite   SQLite's allocator (sqlite3_config(SQLITE_CONFIG_MALLOC) wraps
 *            the default one): everything ext/ allocates, the table cache
 *            and the matrix copy included, and SQLite's own work
 *   core     the core's allocator (src/core/alloc.h, emb_alloc_fail_after):
 *            readers, tokenizer, search, lm
 *
 * For each statement and each allocator, on a fresh database (a copy of the
 * one the setup script built): allocation number k fails (k = 0, 1, 2, ...; every later one
 * fails too, "sticky"), until a run in which nothing failed.  Each run must
 *
 *   - fail with SQLITE_NOMEM or an error saying "out of memory", or with the
 *     error the statement gives without any failure; or succeed with exactly
 *     the rows of a run without failures (a fallback path);
 *   - leave the database as it was when it failed (a digest of the schema,
 *     of every ordinary table (shadow tables included) and of every
 *     embedding table read through the table and through a KNN query);
 *     after the final successful run, the database must equal the one of
 *     the run without failures;
 *   - not crash and not leak (built with ASan: LeakSanitizer checks after
 *     each statement).
 *
 *   oom_sweep [--full] [--once] [--only N] [--jobs J] STATEMENTS DATA FIXTURES
 *
 * Each statement, allocator and mode runs in its own child process (J at a
 * time, default 2), so that a crash or a leak is pinned to one statement.
 *
 * Without --full it is the fast sweep of `make test`: k runs over every
 * value below 32, then with a stride that keeps about 32 more points per
 * statement (from the count of a run without failures).  --full tries every k.  --once adds non-sticky runs (only
 * allocation k fails; the code after it must cope).  Prints
 * "<passed> passed, <failed> failed" (one check per statement and allocator)
 * and the number of allocation-failure points tried.  Debugging: OOM_DEBUG=1
 * prints the digest of every table, OOM_TRACE=1 the stack of each first
 * failed SQLite allocation (with --only N and --jobs 1), OOM_K=k starts
 * each sweep at k (so the first run is the failing one to trace).
 */
#include <sqlite3.h>
#include <sqlite3_embext.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "../files.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

/* --- SQLite's allocator, failing on request ------------------------------- */

static sqlite3_mem_methods real_mem;
static long sq_countdown = -1; /* -1: never fail */
static int sq_sticky = 1;
static long sq_failed;
static int sq_counting; /* count calls into sq_calls */
static long sq_calls;

static int sq_inject(void)
{
    sq_calls += sq_counting;
    if (sq_countdown < 0)
        return 0;
    if (sq_countdown > 0) {
        sq_countdown--;
        return 0;
    }
    sq_failed++;
#ifdef HAVE_LSAN
    if (sq_failed <= 3 && getenv("OOM_TRACE")) /* where the first failures hit */
        __sanitizer_print_stack_trace();
#endif
    if (!sq_sticky)
        sq_countdown = -1;
    return 1;
}

static void *sq_malloc(int n)
{
    return sq_inject() ? NULL : real_mem.xMalloc(n);
}

static void *sq_realloc(void *p, int n)
{
    return sq_inject() ? NULL : real_mem.xRealloc(p, n);
}

/* --- results and digests ----------------------------------------------------- */

typedef struct {
    uint64_t h;
    long rows;
} digest;

static void dg_bytes(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        d->h ^= b[i];
        d->h *= 1099511628211ull;
    }
}

static void dg_value(digest *d, sqlite3_stmt *st, int i)
{
    int t = sqlite3_column_type(st, i);
    dg_bytes(d, &t, sizeof t);
    if (t == SQLITE_INTEGER) {
        sqlite3_int64 v = sqlite3_column_int64(st, i);
        dg_bytes(d, &v, sizeof v);
    } else if (t == SQLITE_FLOAT) {
        double v = sqlite3_column_double(st, i);
        dg_bytes(d, &v, sizeof v);
    } else if (t != SQLITE_NULL) {
        const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
                                         : sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        dg_bytes(d, &n, sizeof n);
        if (p)
            dg_bytes(d, p, (size_t)n);
    }
}

/* Run one statement (the first of sql); digest its rows into *d.  Returns the
 * SQLite code; on error *err is a copy of the message (free()) or NULL. */
static int run_one(sqlite3 *db, const char *sql, digest *d, char **err)
{
    sqlite3_stmt *st = NULL;
    *err = NULL;
    d->h = 14695981039346656037ull;
    d->rows = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && st) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            d->rows++;
            for (int i = 0; i < sqlite3_column_count(st); i++)
                dg_value(d, st, i);
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        const char *m = sqlite3_errmsg(db);
        /* copied with the C library: SQLite's allocator may be failing */
        size_t n = strlen(m);
        *err = malloc(n + 1);
        if (*err)
            memcpy(*err, m, n + 1);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Digest of everything the statements can change (no failures armed).
 * any_version: leave out the tables' version stamps (random for each new
 * table; to compare two databases built alike). */
static int db_digest(sqlite3 *db, digest *out, int any_version)
{
    digest all = {14695981039346656037ull, 0}, d;
    char *err = NULL;
    sqlite3_stmt *names = NULL;
    int rc = run_one(db, "select type, name, tbl_name, sql from sqlite_schema order by name", &d,
                     &err);
    dg_bytes(&all, &d, sizeof d);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "select name, sql like 'create virtual table%using embedding%'"
                                " from sqlite_schema where type = 'table' and name not like "
                                "'sqlite_%' and (sql not like 'create virtual table%' or sql "
                                "like 'create virtual table%using embedding%') order by name",
                                -1, &names, NULL);
    while (rc == SQLITE_OK && sqlite3_step(names) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(names, 0);
        int is_emb = sqlite3_column_int(names, 1);
        char sql[512];
        if (is_emb)
            snprintf(sql, sizeof sql, "select token_id, token, vector from \"%s\"", name);
        else if (any_version && strlen(name) > 7 && !strcmp(name + strlen(name) - 7, "_config"))
            snprintf(sql, sizeof sql, "select * from \"%s\" where key is not 'version'", name);
        else if (any_version && strlen(name) > 10 &&
                 !strcmp(name + strlen(name) - 10, "_tokenizer"))
            snprintf(sql, sizeof sql, "select id, model, source, data from \"%s\"", name);
        else
            snprintf(sql, sizeof sql, "select * from \"%s\"", name);
        rc = run_one(db, sql, &d, &err);
        dg_bytes(&all, &d, sizeof d);
        if (getenv("OOM_DEBUG"))
            fprintf(stderr, "digest %s: %016llx %ld\n", name, (unsigned long long)d.h, d.rows);
        if (rc == SQLITE_OK && is_emb) {
            /* the cache and the search must agree with the rows */
            snprintf(sql, sizeof sql,
                     "select token_id, distance from \"%s\" where vector match (select vector"
                     " from \"%s\" order by token_id desc limit 1) and k = 5",
                     name, name);
            rc = run_one(db, sql, &d, &err);
            dg_bytes(&all, &d, sizeof d);
            if (getenv("OOM_DEBUG"))
                fprintf(stderr, "digest %s knn: %016llx %ld\n", name, (unsigned long long)d.h,
                        d.rows);
        }
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "digest: %s\n", err ? err : sqlite3_errstr(rc));
    free(err);
    sqlite3_finalize(names);
    *out = all;
    return rc;
}

/* --- the statements -------------------------------------------------------- */


/* Copy s replacing $DATA, $FIX and $TMP. */
static char *expand(const char *s, const char *data, const char *fix, const char *tmp)
{
    size_t cap = strlen(s) * 2 + 4096, n = 0;
    char *o = malloc(cap);
    while (*s) {
        const char *rep = NULL;
        size_t skip = 0;
        if (!strncmp(s, "$DATA", 5))
            rep = data, skip = 5;
        else if (!strncmp(s, "$FIX", 4))
            rep = fix, skip = 4;
        else if (!strncmp(s, "$TMP", 4))
            rep = tmp, skip = 4;
        if (rep) {
            size_t m = strlen(rep);
            if (n + m + 1 >= cap)
                o = realloc(o, cap = cap * 2 + m);
            memcpy(o + n, rep, m);
            n += m;
            s += skip;
        } else {
            if (n + 2 >= cap)
                o = realloc(o, cap *= 2);
            o[n++] = *s++;
        }
    }
    o[n] = 0;
    return o;
}

/* The file: "-- setup" lines up to "-- statements", then one statement per
 * line (lines starting with "--" are comments). */
static char *setup_sql;
static char **stmts;
static int n_stmts;

static int load_statements(const char *path, const char *data, const char *fix, const char *tmp)
{
    char *raw = emb_test_slurp(path);
    if (!raw)
        return -1;
    char *text = expand(raw, data, fix, tmp);
    free(raw);
    char *mark = strstr(text, "\n-- statements\n");
    if (!mark)
        return -1;
    *mark = 0;
    setup_sql = text;
    int cap = 512;
    stmts = malloc(cap * sizeof *stmts);
    for (char *line = mark + strlen("\n-- statements\n"); *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        if (*line && strncmp(line, "--", 2) != 0) {
            if (n_stmts == cap)
                stmts = realloc(stmts, (cap *= 2) * sizeof *stmts);
            stmts[n_stmts++] = line;
        }
        if (!end)
            break;
        line = end + 1;
    }
    return 0;
}

/* The database the setup script builds, serialized once (make_image) and
 * copied into each fresh database: far cheaper than running the setup
 * (a GGUF read, a tokenizer load) before every sweep. */
static unsigned char *image;
static sqlite3_int64 image_n;

static void make_image(void)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, setup_sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "setup failed: %s\n", err ? err : sqlite3_errmsg(db));
        exit(2);
    }
    image = sqlite3_serialize(db, "main", &image_n, 0);
    if (!image) {
        fprintf(stderr, "setup: cannot serialize the database\n");
        exit(2);
    }
    sqlite3_close(db);
}

/* A new in-memory database holding a copy of the setup image (no failures
 * armed while it is made). */
static sqlite3 *fresh_db(void)
{
    sqlite3 *db = NULL;
    unsigned char *copy = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        !(copy = sqlite3_malloc64((sqlite3_uint64)image_n))) {
        fprintf(stderr, "cannot open a database\n");
        exit(2);
    }
    memcpy(copy, image, (size_t)image_n);
    if (sqlite3_deserialize(db, "main", copy, image_n, image_n,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
        SQLITE_OK) {
        fprintf(stderr, "cannot load the setup image: %s\n", sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

/* --- the sweep -------------------------------------------------------------- */

enum { ALLOC_SQLITE, ALLOC_CORE };
static const char *alloc_name[] = {"sqlite", "core"};
static long points_tried, runs_total, left_open;
static int full_mode, once_mode;


static void arm(int which, long k, int sticky)
{
    if (which == ALLOC_SQLITE) {
        sq_failed = 0;
        sq_sticky = sticky;
        sq_countdown = k;
    } else {
        emb_alloc_fail_after(k, sticky);
    }
}

/* Disarm; returns how many allocations failed. */
static long disarm(int which)
{
    if (which == ALLOC_SQLITE) {
        sq_countdown = -1;
        return sq_failed;
    }
    long n = emb_alloc_failures();
    emb_alloc_fail_after(-1, 0);
    return n;
}

static int is_oom(int rc, const char *err)
{
    return (rc & 0xff) == SQLITE_NOMEM || (err && strstr(err, "out of memory"));
}

/* How many allocations of `which` statement sql makes on a fresh database. */
static long count_allocs(const char *sql, int which)
{
    sqlite3 *db = fresh_db();
    digest rows;
    char *err = NULL;
    if (which == ALLOC_SQLITE) {
        sq_calls = 0;
        sq_counting = 1;
    } else {
        emb_alloc_fail_after(LONG_MAX, 0);
    }
    run_one(db, sql, &rows, &err);
    long n = which == ALLOC_SQLITE ? sq_calls : emb_alloc_calls();
    sq_counting = 0;
    emb_alloc_fail_after(-1, 0);
    free(err);
    sqlite3_close(db);
    return n;
}

/* Sweep statement i for one allocator; 0 when every run behaved.  Fast mode:
 * every k below FAST_HEAD, then about FAST_HEAD more evenly spaced up to
 * the count. */
#define FAST_HEAD 32
static int sweep(int i, int which, int sticky, const digest *want_rows, int want_rc,
                 const char *want_err, const digest *want_db)
{
    const char *sql = stmts[i];
    long n_allocs = count_allocs(sql, which);
    long stride = full_mode || n_allocs <= 2 * FAST_HEAD ? 1 : (n_allocs - FAST_HEAD) / FAST_HEAD;
    sqlite3 *db = fresh_db();
    digest before;
    if (db_digest(db, &before, 0) != SQLITE_OK)
        exit(2);
    int bad = 0;
    /* OOM_K=k: only that k (debugging one failure, with OOM_TRACE=1) */
    long k0 = getenv("OOM_K") ? atol(getenv("OOM_K")) : 0;
    for (long k = k0;; k += k < FAST_HEAD ? 1 : stride) {
        digest rows;
        char *err = NULL;
        arm(which, k, sticky);
        int rc = run_one(db, sql, &rows, &err);
        long failed = disarm(which);
        runs_total++;
        if (getenv("OOM_DEBUG"))
            fprintf(stderr, "k=%ld failed=%ld rc=%d err=%s\n", k, failed, rc, err ? err : "");
        if (failed == 0) {
            /* nothing failed: the statement ran to its end */
            if (rc != want_rc || (rc == SQLITE_OK && memcmp(&rows, want_rows, sizeof rows))) {
                fprintf(stderr, "[%s] stmt %d k=%ld: without failures rc %d (%s), expected %d\n"
                        "  %s\n", alloc_name[which], i + 1, k, rc, err ? err : "", want_rc, sql);
                bad = 1;
            }
            digest after;
            if (db_digest(db, &after, 1) != SQLITE_OK || memcmp(&after, want_db, sizeof after)) {
                fprintf(stderr, "[%s] stmt %d: database after the final run differs\n  %s\n",
                        alloc_name[which], i + 1, sql);
                bad = 1;
            }
            free(err);
            break;
        }
        points_tried++;
        if (rc == SQLITE_OK) {
            /* an allocation failed and the statement coped: same rows */
            if (memcmp(&rows, want_rows, sizeof rows) || want_rc != SQLITE_OK) {
                fprintf(stderr, "[%s] stmt %d k=%ld: succeeded after a failed allocation with "
                        "other rows\n  %s\n", alloc_name[which], i + 1, k, sql);
                bad = 1;
            }
            /* the change is made: go on from a fresh database */
            sqlite3_close(db);
            db = fresh_db();
            if (db_digest(db, &before, 0) != SQLITE_OK)
                exit(2);
            free(err);
            continue;
        }
        /* accepted: out of memory; the error of the run without failures;
         * or that error's code with SQLite's generic text for it (the
         * message itself could not be allocated) */
        int same_error = rc == want_rc && want_err && err &&
                         (!strcmp(err, want_err) || !strcmp(err, sqlite3_errstr(rc)));
        if (!is_oom(rc, err) && !same_error) {
            fprintf(stderr, "[%s] stmt %d k=%ld: not an out-of-memory error: rc %d '%s'\n  %s\n",
                    alloc_name[which], i + 1, k, rc, err ? err : "", sql);
            bad = 1;
        }
        free(err);
        if (!sqlite3_get_autocommit(db)) {
            /* A function that runs its own statements (emb_import_gguf,
             * emb_tokenizer_load) keeps its savepoint open when even the
             * ROLLBACK TO cannot run (SQLite re-prepares it after the
             * schema change, and that needs memory): nothing is committed,
             * and ROLLBACK must give the table back unchanged. */
            left_open++;
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
        digest now;
        if (db_digest(db, &now, 0) != SQLITE_OK || memcmp(&now, &before, sizeof now)) {
            fprintf(stderr, "[%s] stmt %d k=%ld: the database changed after a failed statement\n"
                    "  %s\n", alloc_name[which], i + 1, k, sql);
            bad = 1;
            sqlite3_close(db);
            db = fresh_db();
            if (db_digest(db, &before, 0) != SQLITE_OK)
                exit(2);
        }
        if (bad && !full_mode)
            break;
    }
    sqlite3_close(db);
    return bad;
}

/* One statement, one allocator, sticky or not, in a child process: the
 * reference run, the sweep, the leak check.  1 when something was wrong. */
static int run_unit(int i, int which, int sticky)
{
    sqlite3 *db = fresh_db();
    digest rows, after;
    char *err = NULL;
    int rc = run_one(db, stmts[i], &rows, &err);
    if (db_digest(db, &after, 1) != SQLITE_OK)
        return 1;
    sqlite3_close(db);
    int bad = sweep(i, which, sticky, &rows, rc, err, &after);
    free(err);
#ifdef HAVE_LSAN
    if (__lsan_do_recoverable_leak_check()) {
        fprintf(stderr, "[%s%s] stmt %d: leak\n  %s\n", alloc_name[which], sticky ? "" : ", once",
                i + 1, stmts[i]);
        bad = 1;
    }
#endif
    return bad;
}

int main(int argc, char **argv)
{
    int only = 0, a = 1, jobs = 2;
    for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
        if (!strcmp(argv[a], "--full"))
            full_mode = 1;
        else if (!strcmp(argv[a], "--once"))
            once_mode = 1;
        else if (!strcmp(argv[a], "--only") && a + 1 < argc)
            only = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--jobs") && a + 1 < argc)
            jobs = atoi(argv[++a]);
    }
    if (jobs < 1 || jobs > 64)
        jobs = 2;
    if (argc - a != 3) {
        fprintf(stderr, "usage: oom_sweep [--full] [--once] [--only N] [--jobs J] STATEMENTS DATA "
                        "FIXTURES\n");
        return 2;
    }
    const char *tmp = getenv("EMB_TMP") ? getenv("EMB_TMP") : "/tmp";
    if (load_statements(argv[a], argv[a + 1], argv[a + 2], tmp) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[a]);
        return 2;
    }
    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem);
    sqlite3_mem_methods m = real_mem;
    m.xMalloc = sq_malloc;
    m.xRealloc = sq_realloc;
    sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
    /* no lookaside: every small allocation goes through the allocator */
    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    sqlite3_auto_extension((void (*)(void))sqlite3_embext_init);
    make_image();

    /* one child process per statement, allocator and mode (so a crash or
     * a leak is pinned to it), up to `jobs` at a time */
    int n_units = n_stmts * 2 * (once_mode ? 2 : 1), next = 0, running = 0;
    int pass = 0, fail = 0;
    struct {
        pid_t pid;
        int fd, unit;
    } kids[64];
    while (next < n_units || running > 0) {
        while (running < jobs && next < n_units) {
            int unit = next++;
            int i = unit / (2 * (once_mode ? 2 : 1)), rest = unit % (2 * (once_mode ? 2 : 1));
            if (only && i + 1 != only)
                continue;
            int fds[2];
            if (pipe(fds) != 0)
                return 2;
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0)
                return 2;
            if (pid == 0) {
                close(fds[0]);
                points_tried = runs_total = left_open = 0; /* this child's own counts */
                long res[4];
                res[0] = run_unit(i, rest / (once_mode ? 2 : 1), rest % (once_mode ? 2 : 1) == 0);
                res[1] = points_tried;
                res[2] = runs_total;
                res[3] = left_open;
                if (write(fds[1], res, sizeof res) != (ssize_t)sizeof res)
                    _exit(3);
                fflush(NULL);
                _exit(0); /* no second leak check at exit */
            }
            close(fds[1]);
            kids[running].pid = pid;
            kids[running].fd = fds[0];
            kids[running].unit = unit;
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t pid = wait(&status);
        int j = 0;
        while (j < running && kids[j].pid != pid)
            j++;
        if (j == running)
            continue;
        long res[4] = {1, 0, 0, 0};
        ssize_t got = read(kids[j].fd, res, sizeof res);
        close(kids[j].fd);
        int i = kids[j].unit / (2 * (once_mode ? 2 : 1));
        if (got != (ssize_t)sizeof res || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "stmt %d: the sweep process died (status %d)\n  %s\n", i + 1, status,
                    stmts[i]);
            res[0] = 1;
        }
        if (res[0])
            fail++;
        else
            pass++;
        points_tried += res[1];
        runs_total += res[2];
        left_open += res[3];
        kids[j] = kids[--running];
    }
    printf("oom sweep: %d statements, %ld allocation-failure points tried (%ld runs)%s; "
           "%ld failures left a savepoint open (ROLLBACK restored the table)\n",
           only ? 1 : n_stmts, points_tried, runs_total, full_mode ? ", every k" : "", left_open);
    printf("%d passed, %d failed\n", pass, fail);
    free(stmts);
    free(setup_sql);
    sqlite3_free(image);
    return fail ? 1 : 0;
}
