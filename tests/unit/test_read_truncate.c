/*
 * test_read_truncate.c - a file truncated while a reader streams it gives
 * a clean error or the rows read before, never a SIGBUS (src/readers/bytes.c
 * reads files with pread into private memory instead of mapping them).
 *
 *   - core: emb_map_grow after the file shrank reports it by exact text;
 *   - core: a reader opened on a file keeps giving every row after the
 *     file is truncated to a few bytes (with a mapping, the next row would
 *     raise SIGBUS);
 *   - SQL: emb_read_* statements stepped row by row while the file is
 *     truncated between rows (same process), for every format;
 *   - SQL: a child process truncates and rewrites the file in a loop while
 *     the parent reads it again and again: every read ends with all rows
 *     or a clean error naming the function.
 * Scratch files go to $EMB_TMP (tests/run.sh sets it) or /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext_harness.h"
#include "readers/bytes.h"
#include "readers/reader.h"

static char tmpdir[512];

static void scratch(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/trunc-%d-%s", tmpdir, (int)getpid(), name);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    if (!a || !b)
        fail_msg("cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static void data_path(char *out, size_t cap, const char *env, const char *dflt, const char *rel)
{
    const char *dir = getenv(env);
    snprintf(out, cap, "%s/%s", dir && *dir ? dir : dflt, rel);
}

/* A GloVe-style text file of `rows` rows of dimension 8. */
static void write_text(const char *path, int rows)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < rows; i++) {
        fprintf(f, "tok%d", i);
        for (int j = 0; j < 8; j++)
            fprintf(f, " %d.%03d", (i + j) % 7, (i * 31 + j) % 1000);
        fputc('\n', f);
    }
    fclose(f);
}

static void test_map_shrank_message(void **state)
{
    (void)state;
    char path[600];
    scratch(path, sizeof path, "grow.txt");
    write_text(path, 2000);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    emb_map m;
    emb_err err = {0, ""};
    assert_int_equal(emb_map_open_prefix(&m, path, 4096, "gguf", "grow.txt", &err), EMB_OK);
    assert_int_equal(m.n, 4096);
    assert_int_equal(truncate(path, 5000), 0);
    assert_int_equal(emb_map_grow(&m, SIZE_MAX, "gguf", "grow.txt", &err), EMB_EIO);
    char want[200];
    snprintf(want, sizeof want,
             "gguf: grow.txt: file shrank while being read (%lld bytes expected, 5000 read)",
             (long long)st.st_size);
    assert_string_equal(err.msg, want);
    emb_map_close(&m);
    emb_map_close(&m); /* twice is fine */
    unlink(path);
}

/* The text reader holds a window of the file (EMB_RD_WINDOW bytes), not
 * all of it: cut to 10 bytes after the first row, it delivers the rows
 * already in the window, then fails cleanly when it reads on. */
static void test_reader_survives_truncation(void **state)
{
    (void)state;
    char path[600];
    scratch(path, sizeof path, "rows.txt");
    write_text(path, 50000); /* ~2.5 MB: more than two windows */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size > 2 * EMB_RD_WINDOW);
    emb_reader *r = NULL;
    emb_err err = {0, ""};
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, path, NULL, &r, &err), EMB_OK);
    int64_t id;
    const char *tok;
    size_t tn;
    const float *v;
    assert_int_equal(emb_reader_next(r, &id, &tok, &tn, &v, &err), EMB_OK);
    assert_int_equal(truncate(path, 10), 0);
    long n = 1;
    int rc;
    while ((rc = emb_reader_next(r, &id, &tok, &tn, &v, &err)) == EMB_OK)
        n++;
    assert_int_equal(rc, EMB_EIO);
    /* every row that starts inside the first window came (~50 bytes a row) */
    assert_true(n > (long)(EMB_RD_WINDOW / 60) && n < 50000);
    char want[200];
    snprintf(want, sizeof want, "rows.txt: file shrank while being read (%lld bytes expected, ",
             (long long)st.st_size);
    if (strncmp(err.msg, "text: ", 6) != 0 || !strstr(err.msg, want))
        fail_msg("message: %s", err.msg);
    /* the error is sticky */
    assert_int_equal(emb_reader_next(r, &id, &tok, &tn, &v, &err), EMB_EIO);
    emb_reader_free(r);
    unlink(path);
}

/* The statement of each format over path, and its row count. */
typedef struct {
    const char *name, *env, *dflt, *src, *fmt;
    int rows;
} fmt_case;

static const fmt_case CASES[] = {
    {"glove.txt", "EMB_DATA", "tests/data", "glove-twitter-25d-11925.txt",
     "select token_id from emb_read_text('%q')", 11925},
    {"w2v.txt", "EMB_DATA", "tests/data", "googlenews-w2v-257x300.txt",
     "select token_id from emb_read_text('%q')", 257},
    {"f32.gguf", "EMB_DATA", "tests/data", "stories260k-f32.gguf",
     "select token_id from emb_read_gguf('%q')", 512},
    {"nl.bin", "EMB_FIXTURES", "tests/fixtures", "word2vec/nl.bin",
     "select token_id from emb_read_word2vec('%q')", -1},
    {"v1.npy", "EMB_FIXTURES", "tests/fixtures", "npy/v1_f4.npy",
     "select token_id from emb_read_npy('%q')", -1},
    {"m.safetensors", "EMB_FIXTURES", "tests/fixtures", "safetensors/model.safetensors",
     "select token_id from emb_read_safetensors('%q', 'model.embed_tokens.weight')", -1},
};

/* Step the statement of c over a fresh copy, truncating the file to
 * `keep` bytes after the first row.  A file no larger than one window is
 * held whole: all rows still come.  A larger text, word2vec or npy file is
 * read on through its window: the read stops with a clean error naming the
 * function.  A larger GGUF / safetensors file does one or the other,
 * depending on whether the bytes read at open hold its tensor. */
static void truncate_between_rows(sqlite3 *db, const fmt_case *c, long keep)
{
    char src[1024], path[600];
    data_path(src, sizeof src, c->env, c->dflt, c->src);
    scratch(path, sizeof path, c->name);
    copy_file(src, path);
    struct stat fst;
    assert_int_equal(stat(path, &fst), 0);
    int holds = (size_t)fst.st_size <= EMB_RD_WINDOW;
    int tensor = strstr(c->fmt, "gguf") || strstr(c->fmt, "safetensors");
    /* the count without truncation */
    char *sql = sqlite3_mprintf(c->fmt, path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int want = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        want++;
    if (sqlite3_reset(st) != SQLITE_OK)
        fail_msg("%s: %s", c->name, sqlite3_errmsg(db));
    if (c->rows >= 0)
        assert_int_equal(want, c->rows);
    int got = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (got++ == 0)
            assert_int_equal(truncate(path, keep), 0);
    }
    if (holds || (tensor && rc == SQLITE_DONE)) {
        assert_int_equal(rc, SQLITE_DONE);
        assert_int_equal(got, want);
    } else {
        const char *fn = strstr(c->fmt, "emb_read_");
        const char *msg = sqlite3_errmsg(db);
        if (rc != SQLITE_ERROR || strncmp(msg, fn, strcspn(fn, "(")) != 0 ||
            !strstr(msg, "file shrank while being read"))
            fail_msg("%s: keep %ld: rc %d '%s'", c->name, keep, rc, msg);
        assert_true(got > 0 && got < want);
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    unlink(path);
}

static void test_sql_truncate_between_rows(void **state)
{
    (void)state;
    sqlite3 *db = ext_open(":memory:");
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        truncate_between_rows(db, &CASES[i], 0);
        truncate_between_rows(db, &CASES[i], 7);
    }
    sqlite3_close(db);
}

/* A child rewrites and truncates the file in a loop; the parent reads it
 * repeatedly: each read gives every row or a clean error. */
static void race_case(sqlite3 *db, const fmt_case *c, int reads)
{
    char src[1024], path[600];
    data_path(src, sizeof src, c->env, c->dflt, c->src);
    scratch(path, sizeof path, c->name);
    copy_file(src, path);
    size_t n;
    {
        FILE *f = fopen(src, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = (size_t)ftell(f);
        fclose(f);
    }
    char *sql = sqlite3_mprintf(c->fmt, path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int want = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        want++;
    sqlite3_reset(st);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        /* truncate to a random length, then restore, forever */
        unsigned s = 12345;
        char restore[1024];
        snprintf(restore, sizeof restore, "%s", src);
        for (;;) {
            s = s * 1103515245u + 12345u;
            if (truncate(path, (off_t)((s >> 8) % (n + 1))) != 0)
                _exit(1);
            usleep(200);
            copy_file(restore, path);
        }
    }
    int full = 0, errors = 0;
    const char *fn = strstr(c->fmt, "emb_read_");
    size_t fn_len = strcspn(fn, "(");
    for (int i = 0; i < reads; i++) {
        int got = 0, rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            got++;
        if (rc == SQLITE_DONE) {
            /* a read that saw a shorter, still valid file (text formats)
             * gives fewer rows; never more */
            assert_true(got <= want);
            full += got == want;
        } else {
            const char *msg = sqlite3_errmsg(db);
            if (strncmp(msg, fn, fn_len) != 0)
                fail_msg("%s: read %d: unclean error '%s'", c->name, i, msg);
            errors++;
        }
        sqlite3_reset(st);
    }
    kill(kid, SIGKILL);
    int status;
    waitpid(kid, &status, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    unlink(path);
    print_message("%s: %d reads, %d complete, %d clean errors\n", c->name, reads, full, errors);
    assert_int_equal(full + errors <= reads, 1);
}

static void test_sql_truncate_race(void **state)
{
    (void)state;
    sqlite3 *db = ext_open(":memory:");
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        race_case(db, &CASES[i], 60);
    sqlite3_close(db);
}

int main(void)
{
    const char *t = getenv("EMB_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_shrank_message),
        cmocka_unit_test(test_reader_survives_truncation),
        cmocka_unit_test(test_sql_truncate_between_rows),
        cmocka_unit_test(test_sql_truncate_race),
    };
    (void)oom_install;
    (void)oom_error;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
