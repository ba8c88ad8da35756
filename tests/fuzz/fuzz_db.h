/*
 * fuzz_db.h - what the SQL-level fuzz targets (fuzz_sql.c, fuzz_dbfile.c)
 * share: a connection with embext linked in statically (-DSQLITE_CORE, so
 * sqlite3_embext_init is called directly), a bounded statement runner that
 * touches every result value, and an in-memory database image that each
 * input starts from (sqlite3_deserialize of a copy of a template built once).
 *
 * Bounds that keep one input short and finite: a progress handler stops a
 * statement after FUZZ_STMT_MS milliseconds of CPU time (not wall time: the
 * machine may be busy), SQLite's heap is capped by
 * sqlite3_hard_heap_limit64, and strings and blobs by SQLITE_LIMIT_LENGTH.
 * Any SQL error is fine; crashes, leaks, sanitizer reports, hangs are not.
 */
#ifndef EMB_FUZZ_DB_H
#define EMB_FUZZ_DB_H

#include <sqlite3.h>
#include "../../include/sqlite3_embext.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The fuzzer's input read as a stream of choices. */
typedef struct {
    const uint8_t *p;
    size_t n;
} Src;

/* A choice in 0 .. n-1 (0 once the input is used up). */
static unsigned fuzz_pick(Src *s, unsigned n)
{
    if (n <= 1 || s->n == 0)
        return 0;
    unsigned v = s->p[0];
    s->p++, s->n--;
    if (n > 256 && s->n) {
        v = v << 8 | s->p[0];
        s->p++, s->n--;
    }
    return v % n;
}

#ifndef FUZZ_STMT_MS
#define FUZZ_STMT_MS 300
#endif

static int fuzz_verbose;            /* FUZZ_VERBOSE=1: print each statement and its outcome */
static struct timespec fuzz_deadline;

static int fuzz_progress(void *unused)
{
    (void)unused;
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec > fuzz_deadline.tv_sec ||
           (now.tv_sec == fuzz_deadline.tv_sec && now.tv_nsec > fuzz_deadline.tv_nsec);
}

static void fuzz_arm_deadline(void)
{
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &fuzz_deadline);
    fuzz_deadline.tv_nsec += (long)FUZZ_STMT_MS * 1000000L;
    fuzz_deadline.tv_sec += fuzz_deadline.tv_nsec / 1000000000L;
    fuzz_deadline.tv_nsec %= 1000000000L;
}

/* A fresh in-memory connection with embext registered; NULL on failure. */
static sqlite3 *fuzz_open(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    char *err = NULL;
    if (sqlite3_embext_init(db, &err, NULL) != SQLITE_OK) {
        fprintf(stderr, "fuzz: embext init failed: %s\n", err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 8 << 20);
    sqlite3_progress_handler(db, 200, fuzz_progress, NULL);
    return db;
}

/* Touch every byte of a value so that ASan sees a bad pointer. */
static void fuzz_touch_column(sqlite3_stmt *st, int i)
{
    static volatile unsigned sink;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        for (int j = 0; p && j < n; j++)
            sink += p[j];
        break;
    }
    case SQLITE_TEXT: {
        const unsigned char *p = sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        for (int j = 0; p && j < n; j++)
            sink += p[j];
        break;
    }
    case SQLITE_FLOAT:
        sink += (unsigned)(sqlite3_column_double(st, i) != 0);
        break;
    default:
        sink += (unsigned)sqlite3_column_int64(st, i);
    }
    (void)sink;
}

/* Run every statement of sql (up to max_rows rows each); returns the number
 * of statements that ended in an error. */
static int fuzz_exec(sqlite3 *db, const char *sql, int max_rows)
{
    int errors = 0;
    while (sql && *sql) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        fuzz_arm_deadline();
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            if (fuzz_verbose)
                fprintf(stderr, "SQL: %.300s\n  prepare: %s\n", sql, sqlite3_errmsg(db));
            errors++;
            break; /* the rest of the text cannot be split reliably */
        }
        if (!st) { /* blank or comment */
            sql = tail;
            continue;
        }
        if (fuzz_verbose)
            fprintf(stderr, "SQL: %s\n", sqlite3_sql(st));
        int rows = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && rows++ < max_rows)
            for (int i = 0; i < sqlite3_column_count(st); i++)
                fuzz_touch_column(st, i);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            errors++;
            if (fuzz_verbose)
                fprintf(stderr, "  -> %s\n", sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
        sql = tail;
    }
    return errors;
}

/* The template image: built once by the target's build function, then
 * handed out as fresh copies. */
static unsigned char *fuzz_image;
static sqlite3_int64 fuzz_image_size;

static int fuzz_save_image(sqlite3 *db)
{
    sqlite3_int64 n = 0;
    unsigned char *p = sqlite3_serialize(db, "main", &n, 0);
    if (!p)
        return -1;
    fuzz_image = malloc((size_t)n);
    if (!fuzz_image) {
        sqlite3_free(p);
        return -1;
    }
    memcpy(fuzz_image, p, (size_t)n);
    fuzz_image_size = n;
    sqlite3_free(p);
    return 0;
}

/* Open a connection on a copy of image (n bytes; the copy is owned by
 * SQLite); NULL on failure. */
static sqlite3 *fuzz_open_image(const unsigned char *image, sqlite3_int64 n)
{
    sqlite3 *db = fuzz_open();
    if (!db)
        return NULL;
    unsigned char *copy = sqlite3_malloc64((sqlite3_uint64)n);
    if (!copy) {
        sqlite3_close(db);
        return NULL;
    }
    memcpy(copy, image, (size_t)n);
    if (sqlite3_deserialize(db, "main", copy, n, n,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static void fuzz_common_init(void)
{
    const char *v = getenv("FUZZ_VERBOSE");
    fuzz_verbose = v && *v == '1';
    /* bounded memory: an allocation that follows a hostile size fails cleanly */
    sqlite3_hard_heap_limit64(512 << 20);
}

#endif
