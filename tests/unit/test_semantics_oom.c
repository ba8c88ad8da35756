/*
 * test_semantics_oom.c - out-of-memory sweeps over the semantics functions
 * (ext/tvf_semantics.c, tvf_keyed.c, tvf_torch.c, tvf_table.c, tvf.c,
 * fn_posenc.c): SQLite allocation
 * number k fails (k = 0, 1, 2, ...) while a script of calls runs; every
 * statement must succeed or fail with an out-of-memory error (never another
 * error, never a crash; ASan checks leaks), and once nothing fails any more
 * the results must equal those of a run without failures.
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
#include <unistd.h>

#include "ext_harness.h"


static char questions[512], pairs[512];

static sqlite3 *open_db(void)
{
    sqlite3 *db = ext_open(":memory:");
    char *err = NULL;
    int rc = sqlite3_exec(db,
                      "create virtual table w using embedding(dim=2);"
                      "insert into w(token_id, token, vector) values (0,'athens','[1,0]'),"
                      "(1,'greece','[0,1]'),(2,'rome','[0.7,0.1]'),(3,'italy','[0.6,0.9]'),"
                      "(4,'Rome','[0.5,0.5]');",
                      NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "setup: %s\n", err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    return db;
}

/* Append every result row of sql to out (cap bytes) as text. */
static int collect(void *ctx, int n, char **vals, char **cols)
{
    char *out = ctx;
    (void)cols;
    for (int i = 0; i < n; i++) {
        strncat(out, vals[i] ? vals[i] : "NULL", 8191 - strlen(out));
        strncat(out, "|", 8191 - strlen(out));
    }
    strncat(out, "\n", 8191 - strlen(out));
    return 0;
}

/* Run script[0..n) once without failures (want), then with SQLite
 * allocation k failing for k = 0, 1, ... until a run sees no failure; the
 * statement iErr fails on purpose with an error containing zErr. */
static void sweep(char (*script)[1100], size_t n, size_t iErr, const char *zErr,
                  const char *zWant);

static void test_semantics_oom_sweep(void **state)
{
    (void)state;
    char script[12][1100];
    const char *fixed[] = {
        "select * from emb_most_similar('w', '[\"athens\", 1]', '[\"rome\"]', 3)",
        "select * from emb_most_similar('w', '[\"italy\"]', NULL, 2, '3cosmul')",
        "select * from emb_analogy('w', 'athens', 'greece', 'rome', 2)",
        "select * from emb_logits('w', '[1, 2]', 3, 0.5)",
        "select * from emb_most_similar('w', '[\"nope\"]', '[]')", /* an error, also under OOM */
        "select emb_json(emb_pe(3, 6)), emb_json(emb_rope('[1,2,3,4]', 5, 100, 'gptj')),"
        " emb_json(emb_add_pe('[1,2,3]', 2))",
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        snprintf(script[n++], sizeof script[0], "%s", fixed[i]);
    snprintf(script[n++], sizeof script[0], "select * from emb_eval_analogies('w', '%s')",
             questions);
    snprintf(script[n++], sizeof script[0], "select * from emb_eval_pairs('w', '%s')", pairs);
    sweep(script, n, 4, "unknown token 'nope'", "Total accuracy|3|3|");
}

/* The other KeyedVectors calls and torch's (tvf_keyed.c, tvf_torch.c, and
 * the shared prologue of tvf_table.c), in a sweep of their own (the cost of
 * a sweep grows with the square of the script). */
static void test_semantics_oom_keyed_torch(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        "select * from emb_most_similar('w', '[[1, 0.5], \"rome\"]', NULL, 2, NULL, 3)",
        "select * from emb_doesnt_match('w', '[\"athens\", \"rome\", \"zz\"]')",
        "select * from emb_most_similar_to_given('w', 'athens', '[\"rome\", 3]')",
        "select * from emb_distances('w', 'rome', '[\"athens\", 3]')",
        "select emb_rank('w', 'rome', 'italy'), emb_n_similarity('w', '[\"rome\", \"zz\"]', '[3]')",
        "select * from emb_distances('w', 'zz')", /* an error, also under OOM */
        "select bag, emb_json(vector) from emb_bag('w', '[[0,1],[2,3]]', NULL, 'sum',"
        " '[[0.5,1],[1,2]]', 1)",
        "select pos, emb_json(vector) from emb_embedding('w', '[0,3]', 0.5)",
    };
    static char script[10][1100];
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        snprintf(script[n++], sizeof script[0], "%s", fixed[i]);
    sweep(script, n, 5, "unknown token 'zz'", "1|[1.9000001,1.9]|");
}

static void sweep(char (*script)[1100], size_t n, size_t iErr, const char *zErr,
                  const char *zWant)
{
    static char want[8192], got[8192];
    want[0] = 0;
    sqlite3 *db = open_db();
    for (size_t i = 0; i < n; i++) {
        char *err = NULL;
        if (sqlite3_exec(db, script[i], collect, want, &err) != SQLITE_OK) {
            strncat(want, err ? err : "?", sizeof want - 1 - strlen(want));
            strncat(want, "\n", sizeof want - 1 - strlen(want));
        }
        sqlite3_free(err);
    }
    sqlite3_close(db);
    int n_err = 0; /* the expected error, and no other */
    for (const char *e = strstr(want, "emb_"); e; e = strstr(e + 1, "emb_"))
        n_err++;
    assert_int_equal(n_err, 1);
    assert_non_null(strstr(want, zErr));
    assert_non_null(strstr(want, zWant));

    int done = 0;
    long k;
    for (k = 0; !done && k < 200000; k++) {
        db = open_db();
        got[0] = 0;
        oom_failed_once = 0;
        oom_fail_after = k;
        for (size_t i = 0; i < n; i++) {
            char *err = NULL;
            int rc = sqlite3_exec(db, script[i], collect, got, &err);
            if (rc != SQLITE_OK) {
                int oom = oom_error(rc, err);
                int expected = i == iErr && strstr(err ? err : "", zErr);
                if (!oom && !expected) {
                    oom_fail_after = -1;
                    fprintf(stderr, "k=%ld: %s -> %d %s\n", k, script[i], rc, err ? err : "");
                    sqlite3_free(err);
                    fail_msg("unexpected error under OOM");
                }
                strncat(got, err ? err : "?", sizeof got - 1 - strlen(got));
                strncat(got, "\n", sizeof got - 1 - strlen(got));
            }
            sqlite3_free(err);
        }
        oom_fail_after = -1;
        if (!oom_failed_once) {
            done = 1;
            assert_string_equal(got, want);
        }
        sqlite3_close(db);
    }
    if (getenv("EMB_OOM_VERBOSE"))
        fprintf(stderr, "sweep: %ld allocations\n", k);
    assert_true(done);
    assert_true(k > 50); /* the script allocates: the sweep really failed things */
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("EMB_TMP");
    snprintf(questions, sizeof questions, "%s/sem_oom_q_%d.txt", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    snprintf(pairs, sizeof pairs, "%s/sem_oom_p_%d.txt", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    FILE *f = fopen(questions, "w");
    if (!f)
        return -1;
    fputs(": capitals\nAthens Greece Rome Italy\nRome Italy Athens Greece\n"
          ": other\nathens greece rome nowhere\nROME italy athens GREECE\n",
          f);
    fclose(f);
    f = fopen(pairs, "w");
    if (!f)
        return -1;
    fputs("# test\nathens\tgreece\t2\nrome\titaly\t8\nathens\trome\t9\nx\ty\t1\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(questions);
    unlink(pairs);
    return 0;
}

int main(void)
{
    oom_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semantics_oom_sweep),
        cmocka_unit_test(test_semantics_oom_keyed_torch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
