/* test_shared.c - one in-memory copy per process (ext/vtab_shared.c):
 * connections to the same table of the same file share one copy (also
 * through a second path to the file); in-memory and temp databases do not;
 * a connection with uncommitted writes keeps them to itself and sees them;
 * after its commit every connection sees the new rows; and under threads
 * (one writer, readers on their own connections, WAL) each reader's answer
 * matches the snapshot it read in the same transaction.  `make tsan` runs
 * this binary under ThreadSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "ext_harness.h"
#include "../files.h"

#include <pthread.h>
#include <unistd.h>

#define DIM 8
#define ROWS 3000

static char db_path[256];

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

/* First column of the first row as text (caller frees), NULL for NULL. */
static char *one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    char *out = t ? strdup((const char *)t) : NULL;
    sqlite3_finalize(st);
    return out;
}

/* one() for threads: NULL on any error (cmocka's failures must not be
 * raised off the main thread). */
static char *tone(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static int one_int(sqlite3 *db, const char *sql)
{
    char *t = one(db, sql);
    int v = t ? atoi(t) : -1;
    free(t);
    return v;
}

static sqlite3 *open_file(const char *path)
{
    sqlite3 *db = ext_open(path);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* The table: rows i = (sin(i + j)), row 0 is written by the tests. */
static void make_db(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/embext_test_shared_%d.db", (int)getpid());
    unlink(db_path);
    sqlite3 *db = open_file(db_path);
    exec(db, "pragma journal_mode = wal");
    exec(db, "create virtual table wte using embedding(dim=8)");
    exec(db, "with recursive r(i) as (select 1 union all select i + 1 from r where i < 2999) "
             "insert into wte(token_id, token, vector) select i, 't' || i, json_array("
             "sin(i), sin(i + 1), sin(i + 2), sin(i + 3), sin(i + 4), sin(i + 5), sin(i + 6), "
             "sin(i + 7)) from r");
    exec(db, "insert into wte(token_id, token, vector) values (0, 't0', '[0,0,0,0,0,0,0,-1]')");
    sqlite3_close(db);
}

#define Q "'[1,2,3,4,5,6,7,8]'"
#define TOP1 "select token_id from wte where vector match " Q " and k = 1"

static void test_shared_copy(void **state)
{
    (void)state;
    make_db();
    sqlite3 *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = open_file(db_path);
    /* one copy for four connections */
    for (int i = 0; i < 4; i++) {
        assert_int_not_equal(one_int(c[i], TOP1), 0);
        char *info = one(c[i], "select emb_cache_info('wte')");
        char want[64];
        snprintf(want, sizeof want, "{\"shared\":1,\"refs\":%d,", i + 1);
        if (strncmp(info, want, strlen(want)) != 0)
            fail_msg("connection %d: %s (want %s...)", i, info, want);
        free(info);
    }
    /* a second path to the same file shares too */
    char alias[300];
    snprintf(alias, sizeof alias, "/tmp/../tmp/%s", db_path + 5);
    sqlite3 *a = open_file(alias);
    assert_int_not_equal(one_int(a, TOP1), 0);
    char *info = one(a, "select emb_cache_info('wte')");
    assert_non_null(strstr(info, "\"shared\":1,\"refs\":5,"));
    free(info);
    sqlite3_close(a);

    /* uncommitted writes stay with their connection */
    exec(c[1], "begin");
    exec(c[1], "update wte set vector = " Q " where token_id = 0");
    assert_int_equal(one_int(c[1], TOP1), 0);
    info = one(c[1], "select emb_cache_info('wte')");
    assert_non_null(strstr(info, "\"shared\":0"));
    free(info);
    for (int i = 0; i < 4; i++)
        if (i != 1)
            assert_int_not_equal(one_int(c[i], TOP1), 0);
    exec(c[1], "rollback");
    assert_int_not_equal(one_int(c[1], TOP1), 0);
    /* committed writes reach everyone, and the copies meet again */
    exec(c[2], "update wte set vector = " Q " where token_id = 0");
    for (int i = 0; i < 4; i++)
        assert_int_equal(one_int(c[i], TOP1), 0);
    for (int i = 0; i < 4; i++) {
        info = one(c[i], "select emb_cache_info('wte')");
        assert_non_null(strstr(info, "\"shared\":1,\"refs\":4,"));
        free(info);
    }
    /* the same through a function (emb_most_similar reads the copy) */
    char *ms = one(c[3], "select group_concat(token_id) from emb_most_similar('wte', '[5]', '[]', 3)");
    char *ms0 = one(c[0], "select group_concat(token_id) from emb_most_similar('wte', '[5]', '[]', 3)");
    assert_string_equal(ms, ms0);
    free(ms);
    free(ms0);
    for (int i = 0; i < 4; i++)
        sqlite3_close(c[i]);

    /* memory and temp databases keep a private copy */
    sqlite3 *m1 = ext_open(":memory:"), *m2 = ext_open(":memory:");
    exec(m1, "create virtual table wte using embedding(dim=2)");
    exec(m1, "insert into wte(token_id, vector) values (0, '[1,0]')");
    exec(m2, "create virtual table wte using embedding(dim=2)");
    exec(m2, "insert into wte(token_id, vector) values (0, '[1,0]')");
    for (int i = 0; i < 2; i++) {
        info = one(i ? m2 : m1, "select emb_cache_info('wte')");
        assert_non_null(strstr(info, "\"shared\":0,\"refs\":1,"));
        free(info);
    }
    sqlite3_close(m1);
    sqlite3_close(m2);
    sqlite3 *f = open_file(db_path);
    exec(f, "create virtual table temp.tt using embedding(dim=2)");
    exec(f, "insert into tt(token_id, vector) values (0, '[1,0]')");
    info = one(f, "select emb_cache_info('tt')");
    assert_non_null(strstr(info, "\"shared\":0"));
    free(info);
    sqlite3_close(f);
    emb_test_remove_db(db_path);
}

/* Threads: the writer flips row 0 between the query's own vector (then it
 * is the nearest row) and a far vector, committing each time; each reader,
 * in one read transaction, reads row 0 and asks for the nearest row: the
 * answer must agree with the row it read. */
#define READERS 3
#define ROUNDS 60

static int stop_writer;
static int reader_errors;
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
    (void)arg;
    sqlite3 *db = open_file(db_path);
    for (int i = 0; i < 400 && !__atomic_load_n(&stop_writer, __ATOMIC_ACQUIRE); i++) {
        const char *sql = i % 2 ? "update wte set vector = " Q " where token_id = 0"
                                : "update wte set vector = '[0,0,0,0,0,0,0,-1]' where token_id = 0";
        char *err = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
            pthread_mutex_lock(&err_mu);
            reader_errors++;
            pthread_mutex_unlock(&err_mu);
        }
        sqlite3_free(err);
    }
    sqlite3_close(db);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    sqlite3 *db = open_file(db_path);
    int bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (sqlite3_exec(db, "begin", NULL, NULL, NULL) != SQLITE_OK) {
            bad++;
            continue;
        }
        char *v = tone(db, "select emb_json(vector) from wte where token_id = 0");
        char *t = tone(db, TOP1);
        int top = t ? atoi(t) : -1;
        free(t);
        char *sim = tone(db, "select token_id from emb_knn('wte', '[[1,2,3,4,5,6,7,8]]', 1)");
        int near = v && v[1] == '1';
        if (near != (top == 0) || !sim || atoi(sim) != top)
            bad++;
        free(v);
        free(sim);
        sqlite3_exec(db, "commit", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    pthread_mutex_lock(&err_mu);
    reader_errors += bad;
    pthread_mutex_unlock(&err_mu);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    make_db();
    pthread_t w, r[READERS];
    stop_writer = 0;
    reader_errors = 0;
    assert_int_equal(pthread_create(&w, NULL, writer, NULL), 0);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    __atomic_store_n(&stop_writer, 1, __ATOMIC_RELEASE);
    pthread_join(w, NULL);
    assert_int_equal(reader_errors, 0);
    emb_test_remove_db(db_path);
}

int main(void)
{
    (void)oom_install;
    (void)oom_error;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_copy),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
