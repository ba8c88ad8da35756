/*
 * test_read_txn_oom.c - out-of-memory behaviour of the row buffer that the
 * text and word2vec readers keep inside an explicit transaction
 * (ext/tvf_read.c, READ_BUFFER_CAP): when a buffer block cannot be
 * allocated the reader drops the buffer and re-reads the file, so the
 * INSERT still yields every row; and an allocation sweep (SQLite allocation
 * number k fails) over BEGIN / INSERT ... SELECT / COMMIT only ever fails
 * with an out-of-memory error and never leaves partial rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext_harness.h"

/* Large allocations (the buffer's 4 MiB blocks) fail while set. */
static int big_fail;
static long big_refused;
static void *(*chain_malloc)(int);
static void *(*chain_realloc)(void *, int);

static void *big_malloc(int n)
{
    if (big_fail && n >= (1 << 20)) {
        big_refused++;
        return NULL;
    }
    return chain_malloc(n);
}

static void *big_realloc(void *p, int n)
{
    if (big_fail && n >= (1 << 20)) {
        big_refused++;
        return NULL;
    }
    return chain_realloc(p, n);
}

static char glove[512], crlf[512];

static sqlite3 *open_db(void)
{
    sqlite3 *db = ext_open(":memory:");
    assert_int_equal(sqlite3_exec(db, "create table t(token_id integer, token text, vector blob)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

static int run(sqlite3 *db, const char *fmt, const char *path, char **err)
{
    char *sql = sqlite3_mprintf(fmt, path);
    if (!sql)
        return SQLITE_NOMEM;
    int rc = sqlite3_exec(db, sql, NULL, NULL, err);
    sqlite3_free(sql);
    return rc;
}

/* One text value summarising table t (count, ids, tokens, vectors). */
static char *digest(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "select count(*) || ':' || coalesce(sum(token_id), -1)"
                                        " || ':' || coalesce(group_concat(token || hex(vector)"
                                        ", ','), '') from (select * from t order by token_id)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *s = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_non_null(s);
    return s;
}

static const char *INSERT = "insert into t select * from emb_read_text(%Q)";

static void test_block_oom_falls_back(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    assert_int_equal(run(db, INSERT, glove, NULL), SQLITE_OK); /* autocommit: streams */
    char *want = digest(db);
    assert_int_equal(strncmp(want, "10000:49995000:the", 18), 0);
    assert_int_equal(sqlite3_exec(db, "delete from t", NULL, NULL, NULL), SQLITE_OK);

    big_fail = 1;
    big_refused = 0;
    assert_int_equal(sqlite3_exec(db, "begin", NULL, NULL, NULL), SQLITE_OK);
    char *err = NULL;
    int rc = run(db, INSERT, glove, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "insert: %s\n", err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "commit", NULL, NULL, NULL), SQLITE_OK);
    big_fail = 0;
    assert_true(big_refused > 0); /* the buffer really was refused */
    char *got = digest(db);
    assert_string_equal(got, want);
    free(got);
    free(want);
    sqlite3_close(db);
}

static void test_txn_oom_sweep(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    assert_int_equal(run(db, INSERT, crlf, NULL), SQLITE_OK);
    char *want = digest(db);
    sqlite3_close(db);
    assert_int_equal(strncmp(want, "6:15:", 5), 0);

    int done = 0;
    long k;
    for (k = 0; !done && k < 100000; k++) {
        db = open_db();
        oom_failed_once = 0;
        oom_fail_after = k;
        char *err = NULL;
        int rc = sqlite3_exec(db, "begin", NULL, NULL, &err);
        if (rc == SQLITE_OK)
            rc = run(db, INSERT, crlf, &err);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "commit", NULL, NULL, &err);
        oom_fail_after = -1;
        if (rc != SQLITE_OK) {
            if (!oom_error(rc, err))
                fprintf(stderr, "k=%ld: %d %s\n", k, rc, err ? err : "");
            assert_true(oom_error(rc, err));
            sqlite3_exec(db, "rollback", NULL, NULL, NULL);
        }
        sqlite3_free(err);
        char *got = digest(db);
        if (rc != SQLITE_OK)
            assert_string_equal(got, "0:-1:"); /* no partial rows */
        else
            assert_string_equal(got, want);
        if (!oom_failed_once) {
            assert_int_equal(rc, SQLITE_OK);
            done = 1;
        }
        free(got);
        sqlite3_close(db);
    }
    free(want);
    assert_true(done);
    assert_true(k > 10); /* the script allocates: the sweep really failed things */
}

static int setup(void **state)
{
    (void)state;
    const char *data = getenv("EMB_DATA");
    const char *fix = getenv("EMB_FIXTURES");
    snprintf(glove, sizeof glove, "%s/glove.6B.50d.10k.txt", data && *data ? data : "data");
    snprintf(crlf, sizeof crlf, "%s/text/crlf.txt", fix && *fix ? fix : "tests/fixtures");
    return 0;
}

int main(void)
{
    oom_install();
    sqlite3_mem_methods m;
    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &m);
    chain_malloc = m.xMalloc;
    chain_realloc = m.xRealloc;
    m.xMalloc = big_malloc;
    m.xRealloc = big_realloc;
    sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_oom_falls_back),
        cmocka_unit_test(test_txn_oom_sweep),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
