/*
 * test_security.c - what docs/SECURITY.md states, checked against the
 * built extension so the page cannot drift:
 *
 *   - its table of scalar / aggregate functions (name, argument count,
 *     DETERMINISTIC / INNOCUOUS / DIRECTONLY) equals pragma_function_list;
 *   - its table of table-valued functions equals what SQLite allows from a
 *     view with trusted_schema ON and OFF (DIRECTONLY: never; INNOCUOUS:
 *     always; the rest: ON only), for every emb_ module;
 *   - PRAGMA trusted_schema=OFF and SQLITE_DBCONFIG_DEFENSIVE behave as the
 *     page says (exact messages);
 *   - the in-memory copy bound: token_id 16777215 at dim=65536 is refused
 *     with the machine's memory named in the message.
 * Run from the repository root (tests/run.sh does).
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
#include "../files.h"

static char *slurp(const char *path)
{
    char *s = emb_test_slurp(path);
    if (!s)
        fail_msg("cannot read %s", path);
    return s;
}

/* Does the page hold exactly this line? */
static int has_line(const char *doc, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = doc; (p = strstr(p, line)) != NULL; p++)
        if ((p == doc || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return 1;
    return 0;
}

/* Count the lines of the page that start with prefix. */
static int count_lines(const char *doc, const char *prefix)
{
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *p = doc; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, k) == 0;
    return n;
}

static int exec_err(sqlite3 *db, const char *sql, char *msg, size_t cap)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    snprintf(msg, cap, "%s", err ? err : "");
    sqlite3_free(err);
    return rc;
}

static void test_function_flags_documented(void **state)
{
    (void)state;
    char *doc = slurp("docs/SECURITY.md");
    sqlite3 *db = ext_open(":memory:");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "select name, narg, flags from pragma_function_list"
                                        " where name like 'emb\\_%' escape '\\' order by name, narg",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int narg = sqlite3_column_int(st, 1), flags = sqlite3_column_int(st, 2);
        char fl[80] = "";
        if (flags & SQLITE_DETERMINISTIC)
            strcat(fl, "DETERMINISTIC ");
        if (flags & SQLITE_DIRECTONLY)
            strcat(fl, "DIRECTONLY ");
        if (flags & SQLITE_INNOCUOUS)
            strcat(fl, "INNOCUOUS ");
        if (*fl)
            fl[strlen(fl) - 1] = 0;
        else
            strcpy(fl, "none");
        char line[200];
        snprintf(line, sizeof line, "| `%s` | %d | %s |", name, narg, fl);
        if (!has_line(doc, line))
            fail_msg("docs/SECURITY.md lacks the line: %s", line);
        n++;
    }
    sqlite3_finalize(st);
    /* and no line for a function that is not there: as many rows as lines */
    const char *tab = strstr(doc, "| function | arguments | flags |");
    const char *end = tab ? strstr(tab, "\n\n") : NULL;
    assert_non_null(end);
    char *copy = strndup(tab, (size_t)(end - tab));
    int lines = count_lines(copy, "| `emb_");
    free(copy);
    assert_int_equal(lines, n);
    assert_true(n >= 30);
    sqlite3_close(db);
    free(doc);
}

static void test_tvf_safety_documented(void **state)
{
    (void)state;
    char *doc = slurp("docs/SECURITY.md");
    sqlite3 *db = ext_open(":memory:");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "select name from pragma_module_list where name like "
                                        "'emb\\_%' escape '\\' order by name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char name[64], sql[200], msg[300];
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 0));
        int unsafe[2];
        for (int off = 0; off < 2; off++) {
            assert_int_equal(exec_err(db, off ? "pragma trusted_schema=off" : "pragma trusted_schema=on",
                                      msg, sizeof msg),
                             SQLITE_OK);
            snprintf(sql, sizeof sql, "drop view if exists v; create view v as select * from %s;"
                                      " select * from v", name);
            exec_err(db, sql, msg, sizeof msg);
            unsafe[off] = strstr(msg, "unsafe use of virtual table") != NULL;
        }
        const char *want = unsafe[0] && unsafe[1] ? "never (DIRECTONLY: reads a file)"
                           : !unsafe[0] && !unsafe[1] ? "always (INNOCUOUS)"
                           : !unsafe[0] && unsafe[1] ? "trusted_schema ON only"
                                                     : "?";
        char line[200];
        snprintf(line, sizeof line, "| `%s` | %s |", name, want);
        if (!has_line(doc, line))
            fail_msg("docs/SECURITY.md lacks the line: %s", line);
        n++;
    }
    sqlite3_finalize(st);
    const char *tab = strstr(doc, "| table-valued function | from a view or trigger |");
    const char *end = tab ? strstr(tab, "\n\n") : NULL;
    assert_non_null(end);
    char *copy = strndup(tab, (size_t)(end - tab));
    assert_int_equal(count_lines(copy, "| `emb_"), n);
    free(copy);
    assert_true(n >= 20);
    sqlite3_close(db);
    free(doc);
}

static const char *SETUP =
    "create virtual table w using embedding(dim=2);"
    "insert into w(token_id, token, vector) values (0,'a','[1,0]'),(1,'b','[0,1]');"
    "create table log(x);"
    "create view v_cos as select emb_cosine('[1,0]','[1,1]') c;"
    "create view v_lookup as select length(emb_lookup('w', 0)) l;"
    "create view v_w as select token from w;"
    "create view v_knn as select token from emb_knn('w', '[[1,0]]', 1);"
    "create view v_seq as select token_id from emb_sequence('w', '[1,0]');"
    "create view v_read as select * from emb_read_text('/nonexistent');"
    "create trigger t_ins after insert on log begin"
    "  insert into w(token_id, token, vector) values (new.x, 'x' || new.x, '[1,1]'); end;";

static void expect(sqlite3 *db, const char *sql, int want_rc, const char *want_msg)
{
    char msg[300];
    int rc = exec_err(db, sql, msg, sizeof msg);
    if (rc != want_rc || strcmp(msg, want_msg) != 0)
        fail_msg("%s: rc %d '%s', expected rc %d '%s'", sql, rc, msg, want_rc, want_msg);
}

static void test_trusted_schema_off(void **state)
{
    (void)state;
    sqlite3 *db = ext_open(":memory:");
    expect(db, SETUP, SQLITE_OK, "");
    /* ON (SQLite's default): views and triggers over the table work */
    expect(db, "select * from v_w; select * from v_knn; insert into log values (5)", SQLITE_OK, "");
    expect(db, "select * from v_read", SQLITE_ERROR,
           "unsafe use of virtual table \"emb_read_text\"");
    expect(db, "pragma trusted_schema=off", SQLITE_OK, "");
    expect(db, "select * from v_cos; select * from v_lookup; select * from v_seq", SQLITE_OK, "");
    expect(db, "select * from v_w", SQLITE_ERROR, "unsafe use of virtual table \"w\"");
    expect(db, "select * from v_knn", SQLITE_ERROR, "unsafe use of virtual table \"emb_knn\"");
    expect(db, "select * from v_read", SQLITE_ERROR,
           "unsafe use of virtual table \"emb_read_text\"");
    expect(db, "insert into log values (6)", SQLITE_ERROR, "unsafe use of virtual table \"w\"");
    /* direct SQL is unaffected */
    expect(db, "insert into w(token_id, token, vector) values (7, 'c', '[2,2]');"
               "select token from w where vector match '[1,1]' and k = 1",
           SQLITE_OK, "");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "select count(*) from w", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4); /* a, b, x5 (trusted), c */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_defensive(void **state)
{
    (void)state;
    sqlite3 *db = ext_open(":memory:");
    expect(db, SETUP, SQLITE_OK, "");
    int on = -1;
    assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on), SQLITE_OK);
    assert_int_equal(on, 1);
    expect(db, "insert into w_chunks(chunk_id) values (99)", SQLITE_ERROR,
           "table w_chunks may not be modified");
    expect(db, "update w_config set value = 3 where key = 'dim'", SQLITE_ERROR,
           "table w_config may not be modified");
    expect(db, "delete from w_tokens", SQLITE_ERROR, "table w_tokens may not be modified");
    /* the table itself, and the tokenizer store, still work */
    expect(db, "insert into w(token_id, token, vector) values (9, 'z', '[2,2]');"
               "update w set vector = '[3,3]' where token_id = 9;"
               "delete from w where token_id = 0",
           SQLITE_OK, "");
    char sql[1200];
    const char *dir = getenv("EMB_DATA");
    snprintf(sql, sizeof sql, "select emb_tokenizer_load('w', '%s/stories260k-v3.gguf')",
             dir && *dir ? dir : "tests/data");
    expect(db, sql, SQLITE_OK, "");
    expect(db, "delete from w_tokenizer", SQLITE_ERROR, "table w_tokenizer may not be modified");
    sqlite3_close(db);
}

static void test_cache_bound_names_memory(void **state)
{
    (void)state;
    sqlite3 *db = ext_open(":memory:");
    expect(db, "create virtual table big using embedding(dim=65536);"
               "insert into big(token_id, vector) values (16777215, zeroblob(262144))",
           SQLITE_OK, "");
    unsigned long long mem =
        (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE);
    char want[300];
    snprintf(want, sizeof want,
             "embedding big: the in-memory copy for search would exceed this machine's memory "
             "(%llu vs 4398046511104 bytes)",
             mem);
    expect(db, "select token_id from big where vector match zeroblob(262144) and k = 1",
           SQLITE_ERROR, want);
    char want2[400];
    snprintf(want2, sizeof want2, "emb_lookup: %s", want);
    expect(db, "select emb_lookup('big', 16777215)", SQLITE_ERROR, want2);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_function_flags_documented),
        cmocka_unit_test(test_tvf_safety_documented),
        cmocka_unit_test(test_trusted_schema_off),
        cmocka_unit_test(test_defensive),
        cmocka_unit_test(test_cache_bound_names_memory),
    };
    (void)oom_install;
    (void)oom_error;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
