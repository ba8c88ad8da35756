/*
 * test_vec_subtype.c - values made by sqlite-vec's vec_int8() / vec_bit()
 * (BLOBs with subtype 225 / 224, sqlite-vec 0.1.x) reach embext's vector
 * arguments as what they are: int8 elements widened exactly to f32, bit
 * vectors refused by name.  A test function with_subtype(blob, n) makes such
 * values without sqlite-vec; when sqlite-vec's vec0.so is present
 * ($EMB_VEC0, or bench/vendor/node_modules/sqlite-vec-linux-x64/vec0.so),
 * the same checks also run against the real vec_int8() / vec_bit().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ext_harness.h"

#include <unistd.h>

static void withSubtype(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_blob(ctx, sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0]),
                        SQLITE_TRANSIENT);
    sqlite3_result_subtype(ctx, (unsigned)sqlite3_value_int(argv[1]));
}

/* The first column of the first row of sql, as text. */
static void expect(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_ROW);
    const char *got = (const char *)sqlite3_column_text(st, 0);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "%s\n  got  %s\n  want %s\n", sql, got, want);
    assert_string_equal(got, want);
    sqlite3_finalize(st);
}

static void expect_error(sqlite3 *db, const char *sql, const char *want)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    assert_int_not_equal(rc, SQLITE_OK);
    if (!err || strcmp(err, want) != 0)
        fprintf(stderr, "%s\n  got  %s\n  want %s\n", sql, err ? err : "(null)", want);
    assert_non_null(err);
    assert_string_equal(err, want);
    sqlite3_free(err);
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = ext_open(":memory:");
    assert_int_equal(sqlite3_create_function(db, "with_subtype", 2, SQLITE_UTF8, NULL, withSubtype,
                                             NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "create virtual table w using embedding(dim=4);"
                                  "insert into w(token_id, vector) values (0, '[1,0,0,0]'),"
                                  " (1, '[0,1,0,0]');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

/* int8 -> exact f32 in scalar functions, the table (insert, MATCH) and emb_knn;
 * bit vectors refused with sqlite-vec's name.  mk_int8 / mk_bit are SQL
 * expressions making the value from a JSON array / a hex blob. */
static void check_values(sqlite3 *db, const char *mk_int8_a, const char *mk_int8_b,
                         const char *mk_bit)
{
    char sql[512];
    snprintf(sql, sizeof sql, "select emb_json(%s)", mk_int8_a);
    expect(db, sql, "[1,-2,127,-128]");
    snprintf(sql, sizeof sql, "select emb_dot(%s, '[1,1,1,1]')", mk_int8_a);
    expect(db, sql, "-2.0");
    snprintf(sql, sizeof sql, "insert into w(token_id, vector) values (7, %s)", mk_int8_b);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    expect(db, "select emb_json(vector) from w where token_id = 7", "[0,3,1,0]");
    snprintf(sql, sizeof sql, "select group_concat(token_id) from w where vector match %s and k = 2",
             mk_int8_b);
    expect(db, sql, "7,1");
    snprintf(sql, sizeof sql, "select group_concat(token_id) from emb_knn('w', %s, 1)", mk_int8_b);
    expect(db, sql, "7");
    assert_int_equal(sqlite3_exec(db, "delete from w where token_id = 7", NULL, NULL, NULL),
                     SQLITE_OK);
    snprintf(sql, sizeof sql, "select emb_json(%s)", mk_bit);
    expect_error(db, sql,
                 "emb_json: found a sqlite-vec bit vector (vec_bit, 32 bits); expected float32 "
                 "(an f32 blob, vec_f32() or JSON text)");
    snprintf(sql, sizeof sql, "select * from w where vector match %s and k = 1", mk_bit);
    expect_error(db, sql,
                 "embedding w: vector MATCH: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                 "expected float32 (an f32 blob, vec_f32() or JSON text)");
    snprintf(sql, sizeof sql, "select * from emb_knn('w', %s, 1)", mk_bit);
    expect_error(db, sql,
                 "emb_knn: queries is a sqlite-vec bit vector (vec_bit); expected float32 (f32 "
                 "blobs, vec_f32() or JSON text) or vec_int8()");
}

static void test_subtype_values(void **state)
{
    (void)state;
    sqlite3 *db = open_db();
    check_values(db, "with_subtype(x'01fe7f80', 225)", "with_subtype(x'00030100', 225)",
                 "with_subtype(x'ffffffff', 224)");
    /* subtype 223 (vec_f32) is a plain f32 blob */
    expect(db, "select emb_json(with_subtype(x'0000803f', 223))", "[1]");
    /* an int8 vector of the wrong length names both sides */
    expect_error(db, "select * from w where vector match with_subtype(x'0102', 225) and k = 1",
                 "embedding w: query has 2 values; table w has dim 4");
    sqlite3_close(db);
}

static void test_real_sqlite_vec(void **state)
{
    (void)state;
    const char *vec0 = getenv("EMB_VEC0");
    if (!vec0 || !*vec0)
        vec0 = "bench/vendor/node_modules/sqlite-vec-linux-x64/vec0.so";
    if (access(vec0, R_OK) != 0) {
        fprintf(stderr, "skip: sqlite-vec not found (%s)\n", vec0);
        skip();
    }
    sqlite3 *db = open_db();
    char *err = NULL;
    int rc = sqlite3_load_extension(db, vec0, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "load %s: %s\n", vec0, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    check_values(db, "vec_int8('[1,-2,127,-128]')", "vec_int8('[0,3,1,0]')",
                 "vec_bit(x'ffffffff')");
    sqlite3_close(db);
}

int main(void)
{
    (void)oom_install; /* the harness's OOM helpers are not used here */
    (void)oom_error;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subtype_values),
        cmocka_unit_test(test_real_sqlite_vec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
