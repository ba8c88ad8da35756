/* test_vtab_wal.c - what single-row writes to an `embedding` table cost in
 * database pages, and that the in-place writes behind that keep SQLite's
 * guarantees.
 *
 * Cost: WAL frames per autocommit statement (sqlite3_wal_hook reports the
 * WAL's frame count after each commit; the hook also turns automatic
 * checkpoints off), for INSERT, UPDATE (vector) and DELETE of one row, at
 * dim 64 and 768 (f32) and dim 64 int8, against a plain rowid table holding
 * the same rows: create table p(id integer primary key, token text unique,
 * vector blob).  Both start from the same 1,000 rows (committed, then
 * checkpointed); each operation runs 100 times on the same ids with the
 * same vectors.  The embedding table must write at most twice the plain
 * table's frames for each operation.
 * Guarantees: in-place writes (allowed with SQLITE_DBCONFIG_DEFENSIVE)
 * undone by ROLLBACK, ROLLBACK TO and a failed statement inside a transaction; a process that dies inside a transaction
 * (its pages spilled to the WAL or the database file) leaves the committed
 * state; one that dies after autocommit statements keeps them all.  Scratch
 * files go to $EMB_TMP (or /tmp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext_harness.h"
#include "../files.h"

enum { N_PRE = 1000, N_OPS = 100 };

static char db_path[512];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("EMB_TMP");
    snprintf(db_path, sizeof db_path, "%s/vtab_wal_%ld.db", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    emb_test_remove_db(db_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    emb_test_remove_db(db_path);
    return 0;
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

static void expect(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "query: %s\n  want: %s\n  got:  %s\n", sql, want, got ? got : "(none)");
    assert_non_null(got);
    assert_string_equal(got, want);
    sqlite3_finalize(st);
}

/* ---- frames per statement ------------------------------------------------------ */

static int frames_hook(void *arg, sqlite3 *db, const char *zDb, int n)
{
    (void)db;
    (void)zDb;
    *(int *)arg = n;
    return SQLITE_OK;
}

static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void fill_vec(float *v, int dim, uint32_t *s)
{
    for (int i = 0; i < dim; i++)
        v[i] = (float)rng_next(s) / 16777216.0f * 2.0f - 1.0f;
}

static void step_write(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "step: %s\n", sqlite3_errmsg(sqlite3_db_handle(st)));
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_reset(st);
}

typedef struct Frames {
    double insert, update, del; /* per statement */
} Frames;

/* The three operations on a fresh WAL database holding table t (an
 * embedding table when `create` says so, else the plain table). */
static Frames measure(const char *create, int dim, int emb)
{
    emb_test_remove_db(db_path);
    sqlite3 *db = ext_open(db_path);
    int frames = 0;
    exec_ok(db, "pragma journal_mode = wal; pragma synchronous = off"); /* same frames, no fsync */
    sqlite3_wal_hook(db, frames_hook, &frames);
    exec_ok(db, create);
    const char *col = emb ? "token_id" : "id";
    char sql[3][200];
    snprintf(sql[0], sizeof sql[0], "insert into t(%s, token, vector) values (?1, 'tok' || ?1, ?2)", col);
    snprintf(sql[1], sizeof sql[1], "update t set vector = ?2 where %s = ?1", col);
    snprintf(sql[2], sizeof sql[2], "delete from t where %s = ?1", col);
    sqlite3_stmt *st[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL), SQLITE_OK);
    float *v = malloc((size_t)dim * sizeof(float));
    assert_non_null(v);
    uint32_t s = 12345;
    exec_ok(db, "begin");
    for (int i = 0; i < N_PRE; i++) {
        fill_vec(v, dim, &s);
        sqlite3_bind_int(st[0], 1, i);
        sqlite3_bind_blob(st[0], 2, v, dim * 4, SQLITE_STATIC);
        step_write(st[0]);
    }
    exec_ok(db, "commit");
    assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                     SQLITE_OK);
    /* ids to update and delete: a fixed shuffle of the preloaded rows */
    int ids[N_PRE];
    for (int i = 0; i < N_PRE; i++)
        ids[i] = i;
    for (int i = N_PRE - 1; i > 0; i--) {
        int j = (int)(rng_next(&s) % (uint32_t)(i + 1)), x = ids[i];
        ids[i] = ids[j];
        ids[j] = x;
    }
    Frames f;
    double *out[3] = {&f.insert, &f.update, &f.del};
    for (int op = 0; op < 3; op++) {
        frames = 0;
        assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                         SQLITE_OK);
        long total = 0;
        for (int k = 0; k < N_OPS; k++) {
            int before = frames;
            sqlite3_bind_int(st[op], 1, op == 0 ? N_PRE + k : ids[op == 1 ? k : N_OPS + k]);
            if (op < 2) {
                fill_vec(v, dim, &s);
                sqlite3_bind_blob(st[op], 2, v, dim * 4, SQLITE_STATIC);
            }
            step_write(st[op]);
            assert_true(frames > before); /* every statement committed something */
            total += frames - before;
        }
        *out[op] = (double)total / N_OPS;
    }
    expect(db, emb ? "select count(*) from t" : "select count(*) from t",
           N_PRE == 1000 && N_OPS == 100 ? "1000" : "?");
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(st[i]);
    free(v);
    sqlite3_close(db);
    return f;
}

static void check_cost(int dim, const char *dtype)
{
    char create[200];
    snprintf(create, sizeof create, "create virtual table t using embedding(dim=%d, dtype=%s)", dim,
             dtype);
    Frames e = measure(create, dim, 1);
    Frames p = measure("create table t(id integer primary key, token text unique, vector blob)", dim, 0);
    printf("dim %d %s, WAL frames per statement, embedding vs plain: insert %.2f vs %.2f, "
           "update %.2f vs %.2f, delete %.2f vs %.2f\n",
           dim, dtype, e.insert, p.insert, e.update, p.update, e.del, p.del);
    assert_true(e.insert <= 2 * p.insert);
    assert_true(e.update <= 2 * p.update);
    assert_true(e.del <= 2 * p.del);
}

static void test_vtab_wal_frames_dim64(void **state)
{
    (void)state;
    check_cost(64, "f32");
}

static void test_vtab_wal_frames_dim768(void **state)
{
    (void)state;
    check_cost(768, "f32");
}

static void test_vtab_wal_frames_int8(void **state)
{
    (void)state;
    check_cost(64, "int8");
}

/* ---- rollback of in-place writes ---------------------------------------------------- */

/* Each check runs the same statements on the embedding table t and on a
 * plain table m with the same columns and rows: afterwards both must hold
 * the same rows (SQLite's own undo on m is the reference). */

/* sql with every '@' replaced by table (t or m). */
static char *for_table(const char *sql, char table)
{
    char *out = strdup(sql);
    assert_non_null(out);
    for (char *c = out; *c; c++)
        if (*c == '@')
            *c = table;
    return out;
}

/* "@" statements run on t, then on m; both must succeed (or both fail when
 * fails != 0). */
static void both(sqlite3 *db, const char *sql, int fails)
{
    for (int i = 0; i < 2; i++) {
        char *q = for_table(sql, i ? 'm' : 't'), *err = NULL;
        int rc = sqlite3_exec(db, q, NULL, NULL, &err);
        if ((rc != SQLITE_OK) != (fails != 0))
            fprintf(stderr, "exec %s: %s\n", q, err ? err : "ok");
        assert_int_equal(rc != SQLITE_OK, fails != 0);
        sqlite3_free(err);
        free(q);
    }
}

static const char *const FILL =
    "insert into @(token_id, token, vector) "
    "with recursive g(v) as (select 0 union all select v + 1 from g where v < 999), "
    "d(i) as (select 1 union all select i + 1 from d where i < 64) "
    "select v, 'w' || v, emb_vec((select json_group_array(i * 0.01 + v) from d)) "
    "from g where v % 7 != 3";

/* t (dim 64: 15 rows per page, 480 per chunk; ids 0-999 but the multiples
 * of 7 plus 3, in three chunks) and m the same. */
static void fill_small(sqlite3 *db)
{
    exec_ok(db, "create virtual table t using embedding(dim=64);"
                "create table m(token_id integer primary key, token text unique, vector blob)");
    both(db, FILL, 0);
}

/* The rows of t (read from storage: cache dropped first) and of m. */
static char *rows_of(sqlite3 *db, char table)
{
    if (table == 't')
        exec_ok(db, "select emb_cache_release('t')");
    char *q = for_table("select count(*) || ':' || "
                        "group_concat(token_id || coalesce(token, '-') || '=' || hex(vector), ' ') "
                        "from (select * from @ order by token_id)",
                        table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    free(q);
    return out;
}

static void same_rows(sqlite3 *db, sqlite3 *other)
{
    char *t = rows_of(db, 't'), *m = rows_of(db, 'm');
    assert_true(strlen(t) > 1000);
    assert_string_equal(t, m);
    if (other) {
        char *o = rows_of(other, 't');
        assert_string_equal(t, o);
        free(o);
    }
    free(t);
    free(m);
}

/* Lone writes in several chunks (each done in place), undone by ROLLBACK,
 * ROLLBACK TO and a failing multi-row statement in a transaction. */
static const char *const UNDONE =
    "begin; update @ set vector = emb_scale(vector, 3) where token_id = 10 + 1;"
    "insert into @(token_id, token, vector) values (3, 'new', emb_vec(zeroblob(256)));"
    "delete from @ where token_id = 600; update @ set token = 'x' where token_id = 900;"
    "rollback";
static const char *const SAVEPOINTS =
    "begin; update @ set vector = emb_scale(vector, 2) where token_id = 11;"
    "savepoint s; update @ set vector = emb_scale(vector, 5) where token_id = 500;"
    "insert into @(token_id, vector) values (10, emb_vec(zeroblob(256)));"
    "delete from @ where token_id = 960; rollback to s;"
    "insert into @(token_id, token, vector) values (17, 'seventeen', emb_scale((select vector from @ where token_id = 16), -1));"
    "release s; commit";
/* row 700's token is row 1's: the third row fails (UNIQUE) after two writes */
static const char *const FAILING =
    "update @ set vector = emb_scale(vector, 9), token = case when token_id = 700 then 'w1' "
    "else token || 'z' end where token_id in (20, 600, 700)";

static void test_vtab_wal_rollback(void **state)
{
    (void)state;
    static const char *const modes[] = {"wal", "delete"};
    for (int m = 0; m < 2; m++) {
        emb_test_remove_db(db_path);
        sqlite3 *db = ext_open(db_path), *b = ext_open(db_path);
        char pragma[64];
        snprintf(pragma, sizeof pragma, "pragma journal_mode = %s", modes[m]);
        exec_ok(db, pragma);
        sqlite3_busy_timeout(b, 2000);
        fill_small(db);
        /* in-place writes go through xUpdate: allowed with read-only shadow tables */
        sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        assert_int_not_equal(sqlite3_exec(db, "update t_chunks set slots = slots", NULL, NULL, NULL),
                             SQLITE_OK);
        char *before = rows_of(db, 't');
        expect(b, "select count(*) from t", "857");
        both(db, UNDONE, 0);
        char *after = rows_of(db, 't');
        assert_string_equal(before, after);
        free(after);
        same_rows(db, b);
        both(db, SAVEPOINTS, 0);
        same_rows(db, b);
        expect(b, "select token_id from t where token = 'seventeen'", "17");
        exec_ok(db, "begin");
        both(db, FAILING, 1);
        both(db, "update @ set token = 'kept' where token_id = 21", 0);
        exec_ok(db, "commit");
        same_rows(db, b);
        expect(b, "select token_id from t where token = 'kept'", "21");
        both(db, FAILING, 1); /* autocommit */
        same_rows(db, b);
        free(before);
        sqlite3_close(b);
        sqlite3_close(db);
    }
}

/* ---- a process that dies ---------------------------------------------------------------- */

/* Child: open, run sql for each table of `tables` ('@' = the table), then
 * _exit without closing or committing what is open. */
static void die_after(const char *mode, const char *sql, const char *tables)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open(db_path, &db) != SQLITE_OK)
            _exit(2);
        sqlite3_enable_load_extension(db, 1);
        const char *ext = getenv("EMB_EXT");
        if (sqlite3_load_extension(db, ext && *ext ? ext : "build/embext.so", NULL, NULL) != SQLITE_OK)
            _exit(3);
        char pragma[64];
        snprintf(pragma, sizeof pragma, "pragma journal_mode = %s", mode);
        if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK)
            _exit(4);
        for (const char *t = tables; *t; t++)
            if (sqlite3_exec(db, for_table(sql, *t), NULL, NULL, NULL) != SQLITE_OK)
                _exit(5);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_vtab_wal_process_dies(void **state)
{
    (void)state;
    static const char *const modes[] = {"wal", "delete"};
    for (int m = 0; m < 2; m++) {
        emb_test_remove_db(db_path);
        sqlite3 *db = ext_open(db_path);
        char pragma[64];
        snprintf(pragma, sizeof pragma, "pragma journal_mode = %s", modes[m]);
        exec_ok(db, pragma);
        fill_small(db);
        char *before = rows_of(db, 't');
        sqlite3_close(db);
        /* dies inside a transaction whose pages were spilled (cache_size 2) */
        die_after(modes[m], "pragma cache_size = 2; begin;"
                            "update @ set vector = emb_scale(vector, 3) where token_id = 10 + 1;"
                            "insert into @(token_id, vector) values (3, emb_vec(zeroblob(256)));"
                            "delete from @ where token_id = 600;"
                            "insert into @(token_id, vector) with recursive g(v) as (select 1000 "
                            "union all select v + 1 from g where v < 2999) select v, emb_vec(zeroblob(256)) from g;"
                            "update @ set vector = emb_scale(vector, 7) where token_id = 999;"
                            "update @ set token = 'gone' where token_id = 1", "t");
        db = ext_open(db_path);
        char *after = rows_of(db, 't');
        assert_string_equal(before, after);
        free(after);
        expect(db, "pragma integrity_check", "ok");
        same_rows(db, NULL);
        sqlite3_close(db);
        /* dies after autocommit writes: every one of them is kept */
        die_after(modes[m], "update @ set vector = emb_scale(vector, 3) where token_id = 11;"
                            "insert into @(token_id, token, vector) values (3, 'three', emb_vec(zeroblob(256)));"
                            "delete from @ where token_id = 600;"
                            "insert into @(token_id, token, vector) values (1000, 'last', emb_vec(zeroblob(256)));"
                            "update @ set token = 'one' where token_id = 1", "mt");
        db = ext_open(db_path);
        same_rows(db, NULL);
        expect(db, "select count(*) || ' ' || (select token_id from t where token = 'last') || ' ' || "
                   "(select token from t where token_id = 3) from t", "858 1000 three");
        expect(db, "pragma integrity_check", "ok");
        free(before);
        sqlite3_close(db);
    }
}

int main(void)
{
    oom_install(); /* (not used here: the harness's hooks stay idle) */
    (void)oom_error;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vtab_wal_frames_dim64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_wal_frames_dim768, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_wal_frames_int8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_wal_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtab_wal_process_dies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
