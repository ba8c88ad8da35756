/* test_vtab_files.c - the `embedding` table on a database file: two
 * connections (cache invalidation), close and reopen, and EXPLAIN QUERY
 * PLAN for every query shape.  Loads the extension from $EMB_EXT (set by
 * tests/run.sh); scratch files go to $EMB_TMP (or /tmp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext_harness.h"
#include "../files.h"

static char db_path[512];

static sqlite3 *open_path(const char *path)
{
    sqlite3 *db = ext_open(path);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static sqlite3 *open_db(void)
{
    return open_path(db_path);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "exec %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
}

/* First column of the rows of sql joined with ',' (NULL -> "null"). */
static void query(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "prepare %s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    out[0] = 0;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "", t ? t : "null");
    }
    if (rc != SQLITE_DONE)
        fprintf(stderr, "step %s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    assert_true(n < cap);
}

static void expect(sqlite3 *db, const char *sql, const char *want)
{
    char got[4096];
    query(db, sql, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "query: %s\n  want: %s\n  got:  %s\n", sql, want, got);
    assert_string_equal(got, want);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("EMB_TMP");
    snprintf(db_path, sizeof db_path, "%s/vtab_files_%ld.db", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    unlink(db_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    emb_test_remove_db(db_path);
    return 0;
}

static void test_vtab_files_two_connections(void **state)
{
    (void)state;
    sqlite3 *a = open_db(), *b = open_db();
    exec_ok(a, "create virtual table wte using embedding(dim=2, metric=l2, chunk_rows=2);"
               "insert into wte(token, vector) values ('x','[0,0]'),('y','[1,0]'),('z','[5,5]');");
    /* b has never seen the table: connects and loads it */
    expect(b, "select token_id from wte where vector match '[0.9,0]' and k = 2", "1,0");
    expect(b, "select emb_json(emb_lookup('wte', 2))", "[5,5]");
    /* a write in a is seen by b's next query (version check reloads b's cache) */
    exec_ok(a, "update wte set vector = '[0.9,0.1]' where token_id = 2");
    expect(b, "select token_id from wte where vector match '[0.9,0]' and k = 2", "2,1");
    expect(b, "select emb_json(emb_lookup('wte', 2))", "[0.9,0.1]");
    expect(b, "select emb_json(vector) from wte where token_id = 2", "[0.9,0.1]");
    /* and the other way round, including deletes and tokens */
    exec_ok(b, "delete from wte where token_id = 1; insert into wte(token, vector) values ('w', '[0.8,0]')");
    expect(a, "select token_id from wte where vector match '[0.8,0]' and k = 2", "3,2");
    expect(a, "select emb_token_id('wte', 'w')", "3");
    expect(a, "select token_id from wte where token = 'y'", "");
    /* an uncommitted write is not seen; a rolled back one never */
    exec_ok(a, "begin; update wte set vector = '[100,100]' where token_id = 0");
    expect(b, "select emb_json(vector) from wte where token_id = 0", "[0,0]");
    exec_ok(a, "rollback");
    expect(a, "select emb_json(vector) from wte where token_id = 0", "[0,0]");
    expect(b, "select emb_json(emb_lookup('wte', 0))", "[0,0]");
    /* b writes inside a transaction with a warm cache, a sees it after commit */
    exec_ok(b, "begin; insert into wte(token_id, vector) values (10, '[0.9,0]');");
    expect(b, "select token_id from wte where vector match '[0.9,0]' and k = 1", "10");
    exec_ok(b, "commit");
    expect(a, "select token_id from wte where vector match '[0.9,0]' and k = 1", "10");
    expect(a, "select group_concat(token_id) from wte", "0,2,3,10");
    sqlite3_close(b);
    sqlite3_close(a);
}

/* The error of sql on db (the statement must fail). */
static void expect_error(sqlite3 *db, const char *sql, const char *want)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    assert_int_not_equal(rc, SQLITE_OK);
    assert_non_null(err);
    if (strcmp(err, want) != 0)
        fprintf(stderr, "%s\n  want: %s\n  got:  %s\n", sql, want, err);
    assert_string_equal(err, want);
    sqlite3_free(err);
}

/* Token uniqueness across connections: each side's INSERT sees the other's
 * committed tokens (its own cache being warm and stale), and a token freed
 * by the other side's DELETE can be taken. */
static void test_vtab_files_token_conflicts(void **state)
{
    (void)state;
    sqlite3 *a = open_db(), *b = open_db();
    exec_ok(a, "create virtual table wte using embedding(dim=2, chunk_rows=2);"
               "insert into wte(token, vector) values ('x','[0,0]'),('y','[1,0]');");
    expect(b, "select emb_token_id('wte', 'y')", "1");
    expect_error(b, "insert into wte(token, vector) values ('y', '[2,2]')",
                 "embedding wte: token 'y' already exists (token_id 1)");
    exec_ok(a, "insert into wte(token, vector) values ('n', '[3,3]')");
    expect(a, "select emb_token_id('wte', 'n')", "2");
    expect_error(b, "insert into wte(token, vector) values ('m', '[2,2]'), ('n', '[2,2]')",
                 "embedding wte: token 'n' already exists (token_id 2)");
    expect(b, "select group_concat(token) from wte", "x,y,n");
    exec_ok(a, "delete from wte where token = 'n'");
    exec_ok(b, "insert into wte(token, vector) values ('n', '[4,4]')");
    expect(b, "select token_id from wte where token = 'n'", "2");
    expect_error(a, "insert into wte(token, vector) values ('n', '[5,5]')",
                 "embedding wte: token 'n' already exists (token_id 2)");
    /* a write rolled back in b leaves its token free for a */
    exec_ok(b, "begin; insert into wte(token, vector) values ('k', '[6,6]'); rollback");
    exec_ok(a, "insert into wte(token, vector) values ('k', '[7,7]')");
    expect(b, "select token_id || ':' || emb_json(vector) from wte where token = 'k'", "3:[7,7]");
    expect(b, "select emb_token_id('wte', 'k')", "3");
    sqlite3_close(b);
    sqlite3_close(a);
}

/* Another connection drops the table, then re-creates it with another dim:
 * this connection's functions must see "no such embedding table", then the
 * new table -- not its old instance (that used to read the new rows with
 * the old layout: "corrupt chunk 0"). */
static void test_vtab_files_dropped_by_other(void **state)
{
    (void)state;
    sqlite3 *a = open_db(), *b = open_db();
    exec_ok(a, "create virtual table w using embedding(dim=2);"
               "insert into w(vector) values ('[1,0]'), ('[0,1]');");
    expect(a, "select emb_json(emb_lookup('w', 1))", "[0,1]");
    exec_ok(b, "drop table w");
    expect_error(a, "select emb_lookup('w', 0)", "emb_lookup: no such embedding table: w");
    expect_error(a, "select * from emb_most_similar('w', '[0]')",
                 "emb_most_similar: no such embedding table: w");
    expect_error(a, "select * from emb_sequence('w', '[0]')",
                 "emb_sequence: no such embedding table: w");
    exec_ok(b, "create virtual table w using embedding(dim=3);"
               "insert into w(vector) values ('[1,2,3]');");
    expect(a, "select emb_json(emb_lookup('w', 0))", "[1,2,3]");
    expect(a, "select emb_json(vector) from emb_sequence('w', '[0, 0]')", "[1,2,3],[1,2,3]");
    expect(a, "select count(*) from emb_most_similar('w', '[0]')", "0");
    /* same again without a failing call in between */
    exec_ok(b, "drop table w; create virtual table w using embedding(dim=4);"
               "insert into w(vector) values ('[4,3,2,1]');");
    expect(a, "select emb_json(emb_lookup('w', 0))", "[4,3,2,1]");
    sqlite3_close(a);
    sqlite3_close(b);
}

/* A database written by embext 0.2.0 (chunk format 1, tests/data/format1-0.2.0.sql
 * says how it was made) opens, reads and takes writes of every kind; its
 * tables stay format 1.  An unknown format is refused by name. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void test_vtab_files_format1(void **state)
{
    (void)state;
    const char *data = getenv("EMB_DATA");
    char src[600];
    snprintf(src, sizeof src, "%s/format1-0.2.0.db", data && *data ? data : "tests/data");
    copy_file(src, db_path);
    sqlite3 *db = open_db(), *b = open_db();
    /* what embext 0.2.0 read from it (same statements, same answers) */
    expect(db, "select group_concat(token_id || coalesce(token, '-') || emb_json(vector), ' ') from f",
           "0a[1,0,0] 1b[0,1,0] 2c[0,0,1] 5f[1,1,0] 6-[0.5,0.25,-2]");
    expect(db, "select group_concat(token_id || token || emb_json(vector), ' ') from q",
           "0x[1,-0.503937,0.2519685,0] 2z[3,3,3,3]");
    expect(db, "select count(*) || ' ' || printf('%.6f', sum(emb_norm(vector))) from h", "300 601.155822");
    expect(db, "select group_concat(token_id) from (select token_id from h where vector match "
               "(select vector from h where token_id = 17) and k = 3)", "17,149,262");
    expect(db, "select token_id from q where vector match '[1,1,1,1]' and k = 1", "2");
    /* writes: in place into stored chunks, buffered into new ones, every dtype */
    exec_ok(db, "insert into f(token_id, token, vector) values (3, 'd', '[2,0,0]')");   /* chunk 1 */
    exec_ok(db, "insert into f(token, vector) values ('g', '[0,2,0]')");              /* id 7 */
    exec_ok(db, "insert into f(token_id, vector) values (20, '[0,0,2]')");            /* new chunk */
    exec_ok(db, "update f set vector = '[9,9,9]' where token_id = 0");
    exec_ok(db, "update f set token = 'bb' where token_id = 1");
    exec_ok(db, "delete from f where token_id = 2");
    exec_ok(db, "insert into q(token, vector) values ('w', '[0,0,1,0]')");
    exec_ok(db, "update q set vector = '[0,0,0,4]' where token_id = 0");
    exec_ok(db, "begin; insert into h(token_id, vector) select token_id + 300, vector from h where token_id < 50;"
                "update h set vector = emb_scale(vector, 2) where token_id = 5; commit");
    exec_ok(db, "begin; delete from f where token_id = 5; savepoint s; update f set vector = '[7,7,7]' where token_id = 3;"
                "rollback to s; release s; commit");
    static const char *const checks[][2] = {
        {"select group_concat(token_id || coalesce(token, '-') || emb_json(vector), ' ') from f",
         "0a[9,9,9] 1bb[0,1,0] 3d[2,0,0] 6-[0.5,0.25,-2] 7g[0,2,0] 20-[0,0,2]"},
        {"select group_concat(token_id || token || emb_json(vector), ' ') from q",
         "0x[0,0,0,4] 2z[3,3,3,3] 3w[0,0,1,0]"},
        {"select count(*) from h", "350"},
        {"select emb_l2((select vector from h where token_id = 5), emb_scale(emb_lookup('h', 305), 2)) = 0", "1"},
        {"select token_id from h where vector match (select vector from h where token_id = 17) and k = 1", "17"},
        {"select group_concat(value) from (select value from f_config where key = 'format' union all "
         "select count(*) from pragma_table_info('f_chunks') where name in ('valid', 'vectors', 'scales'))", "1,3"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        expect(db, checks[i][0], checks[i][1]);
        expect(b, checks[i][0], checks[i][1]); /* the other connection sees them too */
    }
    sqlite3_close(b);
    sqlite3_close(db);
    db = open_db(); /* and after reopening */
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        expect(db, checks[i][0], checks[i][1]);
    exec_ok(db, "update f_config set value = 3 where key = 'format'");
    sqlite3_close(db);
    db = open_db();
    expect_error(db, "select count(*) from f",
                 "embedding f: unknown storage format 3 (this embext reads formats 1 to 2; a newer "
                 "embext wrote it?)");
    sqlite3_close(db);
}

static void test_vtab_files_reopen(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    exec_ok(db, "create virtual table q8 using embedding(dim=3, dtype=int8, metric=dot);"
                "create virtual table h using embedding(dim=3, dtype=f16);"
                "insert into q8(token, vector) values ('a','[1,-0.5,0.25]'),('b','[0,2,0]');"
                "insert into h(token_id, token, vector) values (7, 'seven', '[0.5,0.25,-2]');");
    char before[1024], after[1024];
    query(db, "select group_concat(token_id || token || hex(vector)) from q8", before, sizeof before);
    sqlite3_close(db);
    db = open_db();
    /* a function is the first user of the table in this connection */
    expect(db, "select emb_json(emb_lookup('h', 7)) || emb_token_id('main.h', 'seven')",
           "[0.5,0.25,-2]7");
    query(db, "select group_concat(token_id || token || hex(vector)) from q8", after, sizeof after);
    assert_string_equal(before, after);
    expect(db, "select emb_json(vector) from q8 where token_id = 0", "[1,-0.503937,0.2519685]");
    expect(db, "select token_id from q8 where vector match '[0,1,0]' and k = 1", "1");
    expect(db, "select token || ':' || emb_json(vector) from h where token = 'seven'",
           "seven:[0.5,0.25,-2]");
    expect(db, "select value from h_config where key = 'dtype'", "f16");
    exec_ok(db, "insert into h(vector) values ('[1,1,1]')");
    expect(db, "select group_concat(token_id) from h", "7,8");
    exec_ok(db, "drop table q8; drop table h");
    expect(db, "select count(*) from sqlite_master", "0");
    sqlite3_close(db);
}

static void test_vtab_files_query_plans(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    exec_ok(db, "create virtual table wte using embedding(dim=2);"
                "insert into wte(token, vector) values ('a','[1,0]'),('b','[0,1]');"
                "create table ids(id integer primary key);");
    static const struct {
        const char *sql, *plan;
    } cases[] = {
        {"select * from wte where token_id = 1", "SCAN wte VIRTUAL TABLE INDEX 8:id-eq"},
        {"select * from wte where rowid = ?", "SCAN wte VIRTUAL TABLE INDEX 8:id-eq"},
        {"select * from wte where token_id in (1, 2, 3)", "SCAN wte VIRTUAL TABLE INDEX 16:id-in"},
        {"select * from wte where token_id between 1 and 3", "SCAN wte VIRTUAL TABLE INDEX 96:id-range"},
        {"select * from wte where token_id > 1", "SCAN wte VIRTUAL TABLE INDEX 1056:id-range"},
        {"select * from wte where token_id <= 1", "SCAN wte VIRTUAL TABLE INDEX 64:id-range"},
        {"select * from wte where token = 'a'", "SCAN wte VIRTUAL TABLE INDEX 128:token-eq"},
        {"select * from wte", "SCAN wte VIRTUAL TABLE INDEX 0:scan"},
        {"select * from wte order by token_id", "SCAN wte VIRTUAL TABLE INDEX 0:scan"},
        {"select * from wte where vector match ? and k = 10", "SCAN wte VIRTUAL TABLE INDEX 3:knn"},
        {"select * from wte where vector match ? order by distance limit 10",
         "SCAN wte VIRTUAL TABLE INDEX 8193:knn"}, /* 8193 = match | ORDER BY distance consumed */
        {"select * from wte where vector match ? order by distance, token_id",
         "SCAN wte VIRTUAL TABLE INDEX 8193:knn"},
        {"select * from wte where vector match ? order by token_id limit 3",
         "SCAN wte VIRTUAL TABLE INDEX 4097:knn;USE TEMP B-TREE FOR ORDER BY"},
        {"select * from wte where token_id > 0 order by token_id desc",
         "SCAN wte VIRTUAL TABLE INDEX 1056:id-range;USE TEMP B-TREE FOR ORDER BY"},
        {"select * from wte where vector match ? and k = 5 and metric = 'l2'",
         "SCAN wte VIRTUAL TABLE INDEX 7:knn"},
        {"select * from wte where vector match ? and k = 5 and token_id in (1, 2)",
         "SCAN wte VIRTUAL TABLE INDEX 19:knn id-in"},
        {"select * from wte where vector match ? and k = 5 and token_id between 1 and 9",
         "SCAN wte VIRTUAL TABLE INDEX 99:knn id-range"},
        {"select * from wte where vector match ? and k = 5 and token = 'a'",
         "SCAN wte VIRTUAL TABLE INDEX 131:knn token-eq"},
        {"select w.* from ids cross join wte w on w.token_id = ids.id",
         "SCAN ids;SCAN w VIRTUAL TABLE INDEX 8:id-eq"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sql[512], plan[1024];
        /* EXPLAIN cannot be a subquery: run it and join the detail column */
        snprintf(sql, sizeof sql, "explain query plan %s", cases[i].sql);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        size_t n = 0;
        plan[0] = 0;
        while (sqlite3_step(st) == SQLITE_ROW)
            n += (size_t)snprintf(plan + n, sizeof plan - n, "%s%s", n ? ";" : "",
                                  (const char *)sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        if (strcmp(plan, cases[i].plan) != 0)
            fprintf(stderr, "plan of %s\n  want: %s\n  got:  %s\n", cases[i].sql, cases[i].plan, plan);
        assert_string_equal(plan, cases[i].plan);
    }
    sqlite3_close(db);
}

/* ---- out-of-memory sweep ---------------------------------------------------
 * Allocation number k fails (k = 0, 1, 2, ...) while a script of writes and
 * reads runs; every statement must succeed or fail cleanly, and afterwards
 * the table must still be readable and consistent (ASan checks leaks).
 * Allocation failures come from ext_harness.h. */

static void test_vtab_files_oom(void **state)
{
    (void)state;
    static const char *const script[] = {
        "insert into wte(token, vector) values ('x', '[1,2,3]'), ('y', '[0,1,0]')",
        "update wte set vector = '[3,2,1]' where token_id = 1",
        "select token_id from wte where vector match '[1,0,0]' and k = 3",
        "select token_id from wte where vector match '[1,0,0]' order by distance limit 2",
        "select emb_json(emb_lookup('wte', 2)), emb_token_id('wte', 'b')",
        "select * from emb_sequence('wte', '[[0,1],[2]]', 'sinusoidal')",
        "begin; delete from wte where token_id = 0; update wte set token = 'bb' where token_id = 1; rollback",
        "select * from wte where token_id in (1, 2, 7) or token = 'c'",
        "select emb_cache_release('wte')",
        "select count(*) from wte where token_id between 1 and 5",
    };
    int done = 0;
    long k;
    for (k = 0; !done && k < 100000; k++) {
        sqlite3 *db = open_path(":memory:");
        exec_ok(db, "create virtual table wte using embedding(dim=3, chunk_rows=2);"
                    "insert into wte(token, vector) values ('a','[1,0,0]'),('b','[0,1,0]'),('c','[0,0,1]');");
        oom_failed_once = 0;
        oom_fail_after = k;
        for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
            char *err = NULL;
            int rc = sqlite3_exec(db, script[i], NULL, NULL, &err);
            if (rc != SQLITE_OK && !oom_error(rc, err)) {
                oom_fail_after = -1;
                fprintf(stderr, "k=%ld: %s -> %d %s\n", k, script[i], rc, err ? err : "");
                sqlite3_free(err);
                fail_msg("unexpected error under OOM");
            }
            sqlite3_free(err);
        }
        oom_fail_after = -1;
        if (!oom_failed_once)
            done = 1;
        /* still consistent: the copy and the stored data agree */
        sqlite3_exec(db, "rollback", NULL, NULL, NULL);
        char a[1024], b[1024];
        query(db, "select group_concat(token_id || coalesce(token, '-') || hex(vector)) from wte", a, sizeof a);
        query(db, "select emb_cache_release('wte')", b, sizeof b);
        query(db, "select group_concat(token_id || coalesce(token, '-') || hex(vector)) from wte", b, sizeof b);
        if (strcmp(a, b) != 0)
            fprintf(stderr, "k=%ld: cache %s\n  store %s\n", k, a, b);
        assert_string_equal(a, b);
        sqlite3_close(db);
    }
    assert_true(done);
    assert_true(k > 100); /* the script allocates: the sweep really failed things */
}

int main(void)
{
    oom_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vtab_files_two_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_format1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_token_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_dropped_by_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_query_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_files_oom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
