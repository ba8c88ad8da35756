/*
 * main.c - a program with embext linked in statically (make static), no
 * .load needed: sqlite3_auto_extension registers it on every connection.
 *
 *   make static && cc -Iinclude examples/static/main.c libembext.a -lsqlite3 -lm -lpthread
 *   ./a.out "select emb_cosine('[1,0]', '[1,1]')"
 */
#include <sqlite3.h>
#include <sqlite3_embext.h>
#include <stdio.h>

static int print_row(void *unused, int n, char **val, char **col)
{
    (void)unused;
    (void)col;
    for (int i = 0; i < n; i++)
        printf("%s%s", i ? "|" : "", val[i] ? val[i] : "NULL");
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *sql = argc > 1 ? argv[1] : "select emb_version(), emb_l2('[0,0]', '[3,4]')";
    if (sqlite3_auto_extension((void (*)(void))sqlite3_embext_init) != SQLITE_OK)
        return 1;
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        fprintf(stderr, "open: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, print_row, NULL, &err);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "error: %s\n", err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}
