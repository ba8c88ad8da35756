/* test_read_word2vec.c - the word2vec binary reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "read_helpers.h"

static void test_read_word2vec_prefixes(void **state)
{
    (void)state;
    /* without the optional final newline every shorter prefix is incomplete */
    check_prefixes(EMB_READ_WORD2VEC, "word2vec/nonl.bin", NULL, 5);
}

static void test_read_word2vec_values(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t n = 0;
    memcpy(buf, "2 2\r\n", 5);
    n = 5;
    float a[2] = {1.5f, -2.0f}, b[2] = {0.25f, 3.0f};
    memcpy(buf + n, "ab ", 3), n += 3;
    memcpy(buf + n, a, 8), n += 8;
    memcpy(buf + n, "\n\xc3\xbc ", 4), n += 4;
    memcpy(buf + n, b, 8), n += 8;
    buf[n++] = '\n';
    emb_reader *r;
    emb_err err;
    assert_int_equal(emb_reader_open_mem(EMB_READ_WORD2VEC, buf, n, "w", NULL, &r, &err), 0);
    assert_int_equal(emb_reader_rows(r), 2);
    int64_t id;
    const char *tok;
    size_t len;
    const float *v;
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_true(len == 2 && memcmp(tok, "ab", 2) == 0 && v[0] == 1.5f && v[1] == -2.0f);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_true(id == 1 && len == 2 && memcmp(tok, "\xc3\xbc", 2) == 0 && v[1] == 3.0f);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_DONE);
    emb_reader_free(r);
}

static void test_read_word2vec_errors(void **state)
{
    (void)state;
    expect_open_error(EMB_READ_WORD2VEC, "x 2\n", 4, NULL,
                      "word2vec: f: expected a header \"V D\" (at byte 0)");
    expect_open_error(EMB_READ_WORD2VEC, "2 2 x\n", 6, NULL,
                      "word2vec: f: expected a newline after the header (at byte 5)");
    expect_open_error(EMB_READ_WORD2VEC, "2 0\n", 4, NULL,
                      "word2vec: f: dimension 0 out of range (1..65536)");
    expect_open_error(EMB_READ_WORD2VEC, "99999999999999999999999 2\n", 26, NULL,
                      "word2vec: f: expected a header \"V D\" (at byte 19)");
    expect_open_error(EMB_READ_WORD2VEC, "4611686018427387904 4\n", 22, NULL,
                      "word2vec: f: header says 4611686018427387904 rows of 4 values, more than "
                      "the 0 bytes that follow hold (at byte 22)");
    static const char no_space[] = "1 1\nabcdefgh";
    expect_open_error(EMB_READ_WORD2VEC, no_space, sizeof no_space - 1, NULL,
                      "word2vec: f: row 0: token without a following space (at byte 4)");
    static const char bad_tok[] = "1 1\n\xff\xfe 1234";
    expect_open_error(EMB_READ_WORD2VEC, bad_tok, sizeof bad_tok - 1, NULL,
                      "word2vec: f: row 0: token is not valid UTF-8 (at byte 4)");
    static const char extra[] = "1 1\na 1234\nb 5678";
    expect_open_error(EMB_READ_WORD2VEC, extra, sizeof extra - 1, NULL,
                      "word2vec: f: unexpected data after 1 rows (at byte 11)");
    static const char early[] = "2 1\na 1234\n      ";
    expect_open_error(EMB_READ_WORD2VEC, early, sizeof early - 1, NULL,
                      "word2vec: f: file ends after 1 of 2 rows (at byte 17)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_word2vec_prefixes),
        cmocka_unit_test(test_read_word2vec_values),
        cmocka_unit_test(test_read_word2vec_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
