/*
 * test_semantics_oom.c - out-of-memory sweep over the semantics functions
 * (ext/tvf_semantics.c, ext/tvf.c, ext/fn_posenc.c): SQLite allocation
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
    assert_non_null(strstr(want, "unknown token 'nope'"));
    assert_non_null(strstr(want, "Total accuracy|3|3|"));

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
                int expected = i == 4 && strstr(err ? err : "", "unknown token 'nope'");
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
