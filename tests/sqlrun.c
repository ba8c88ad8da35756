/*
 * sqlrun.c - SQL test runner: loads the extension and runs test scripts.
 *
 *   sqlrun EXT.so FILE.sql...        (EMB_DATA, EMB_FIXTURES, EMB_TMP set paths)
 *
 * Rules, per statement of each file:
 *   - every row it returns must end in integer 1 (true); the first column is
 *     a label printed on failure, with the whole row;
 *   - a comment line "-- error: TEXT" before a statement means the statement
 *     must fail with exactly the message TEXT;
 *   - a comment line "-- rows: N" means it must return exactly N rows;
 *   - statements returning no rows are set-up (must succeed).
 * Parameters :data, :fixtures and :tmp are bound to the test data folder (tests/data),
 * tests/fixtures and a scratch folder.  Each file runs in a fresh
 * in-memory database.  Prints "N passed, N failed" and exits 1 on failure.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

static int n_pass, n_fail;

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Skip whitespace and comments from p; record directives found in them. */
static const char *skip_comments(const char *p, char *expect_err, size_t cap, long *expect_rows)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            const char *eol = strchr(p, '\n');
            size_t len = eol ? (size_t)(eol - p) : strlen(p);
            if (len > 10 && strncmp(p, "-- error: ", 10) == 0) {
                size_t m = len - 10 < cap - 1 ? len - 10 : cap - 1;
                memcpy(expect_err, p + 10, m);
                expect_err[m] = 0;
                while (m > 0 && (expect_err[m - 1] == '\r' || expect_err[m - 1] == ' '))
                    expect_err[--m] = 0;
            } else if (len > 9 && strncmp(p, "-- rows: ", 9) == 0) {
                *expect_rows = strtol(p + 9, NULL, 10);
            }
            p += len;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

static void bind_params(sqlite3_stmt *st)
{
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (!name)
            continue;
        const char *val = NULL;
        if (strcmp(name, ":data") == 0)
            val = env_or("EMB_DATA", "tests/data");
        else if (strcmp(name, ":fixtures") == 0)
            val = env_or("EMB_FIXTURES", "tests/fixtures");
        else if (strcmp(name, ":tmp") == 0)
            val = env_or("EMB_TMP", "/tmp");
        if (val)
            sqlite3_bind_text(st, i, val, -1, SQLITE_TRANSIENT);
    }
}

static void print_row(sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; c++) {
        const unsigned char *t = sqlite3_column_text(st, c);
        fprintf(stderr, "%s%s", c ? " | " : "    row: ", t ? (const char *)t : "NULL");
    }
    fputc('\n', stderr);
}

static int line_of(const char *start, const char *p)
{
    int line = 1;
    for (; start < p; start++)
        line += *start == '\n';
    return line;
}

static void run_file(const char *ext, const char *path)
{
    char *sql = emb_test_slurp(path);
    if (!sql) {
        fprintf(stderr, "FAIL %s: cannot read file\n", path);
        n_fail++;
        return;
    }
    sqlite3 *db;
    char *zErr = NULL;
    sqlite3_open(":memory:", &db);
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, ext, NULL, &zErr) != SQLITE_OK) {
        fprintf(stderr, "FAIL %s: cannot load %s: %s\n", path, ext, zErr ? zErr : "?");
        sqlite3_free(zErr);
        sqlite3_close(db);
        free(sql);
        n_fail++;
        return;
    }
    const char *p = sql;
    for (;;) {
        char expect_err[1024] = "";
        long expect_rows = -1;
        p = skip_comments(p, expect_err, sizeof expect_err, &expect_rows);
        if (!*p)
            break;
        int line = line_of(sql, p);
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
        if (!st && rc == SQLITE_OK) { /* only whitespace left */
            p = tail;
            continue;
        }
        long rows = 0;
        int failed = 0;
        if (rc == SQLITE_OK) {
            bind_params(st);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                rows++;
                int n = sqlite3_column_count(st);
                if (n == 0)
                    continue;
                int ok = sqlite3_column_type(st, n - 1) == SQLITE_INTEGER &&
                         sqlite3_column_int64(st, n - 1) == 1;
                if (expect_err[0] || ok) {
                    if (!expect_err[0])
                        n_pass++;
                } else {
                    fprintf(stderr, "FAIL %s:%d: row %ld is not true\n", path, line, rows);
                    print_row(st);
                    n_fail++;
                    failed = 1;
                }
            }
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        const char *msg = sqlite3_errmsg(db);
        if (expect_err[0]) {
            if (rc == SQLITE_OK) {
                fprintf(stderr, "FAIL %s:%d: expected error \"%s\", statement succeeded\n", path,
                        line, expect_err);
                n_fail++;
            } else if (strcmp(msg, expect_err) != 0) {
                fprintf(stderr, "FAIL %s:%d: expected error \"%s\"\n     got error      \"%s\"\n",
                        path, line, expect_err, msg);
                n_fail++;
            } else {
                n_pass++;
            }
        } else if (rc != SQLITE_OK) {
            fprintf(stderr, "FAIL %s:%d: %s\n", path, line, msg);
            n_fail++;
        } else if (expect_rows >= 0) {
            if (rows != expect_rows) {
                fprintf(stderr, "FAIL %s:%d: expected %ld rows, got %ld\n", path, line,
                        expect_rows, rows);
                n_fail++;
            } else if (!failed) {
                n_pass++;
            }
        }
        if (!tail || tail == p) { /* prepare error: skip to after next ';' */
            const char *semi = strchr(p, ';');
            tail = semi ? semi + 1 : p + strlen(p);
        }
        sqlite3_finalize(st);
        p = tail;
    }
    sqlite3_close(db);
    free(sql);
}

/* "sqlrun --isa EXT.so": print the active kernel set (emb_isa()). */
static int print_isa(const char *ext)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = 1;
    sqlite3_open(":memory:", &db);
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, ext, NULL, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "select emb_isa()", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            printf("%s\n", (const char *)sqlite3_column_text(st, 0));
            rc = 0;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--isa") == 0)
        return print_isa(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: %s EXT.so FILE.sql...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        run_file(argv[1], argv[i]);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
