/* test_read_text.c - the text reader, the fast float parser, emb_random and the byte cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/bytes.h"
#include "readers/parsefloat.h"
#include "readers/reader.h"

static uint64_t rng_state = 0x1234567;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random decimal in one of many shapes. */
static void random_decimal(char *buf, size_t cap)
{
    char *p = buf;
    int shape = (int)(rnd() % 6);
    if (rnd() % 2)
        *p++ = '-';
    int nint = (int)(rnd() % (shape == 0 ? 25 : 8)) + (shape == 1 ? 0 : 1);
    for (int i = 0; i < nint; i++)
        *p++ = (char)('0' + rnd() % 10);
    if (shape != 2) {
        *p++ = '.';
        int nfrac = (int)(rnd() % (shape == 3 ? 30 : 10)) + 1;
        for (int i = 0; i < nfrac; i++)
            *p++ = (char)('0' + rnd() % 10);
    }
    if (shape >= 4) {
        p += snprintf(p, cap - (size_t)(p - buf), "e%d", (int)(rnd() % 90) - 50);
    }
    *p = 0;
}

static void test_read_text_parse_matches_strtof(void **state)
{
    (void)state;
    char buf[128];
    for (int i = 0; i < 300000; i++) {
        random_decimal(buf, sizeof buf);
        float got = 0, want = strtof(buf, NULL);
        const char *end = emb_parse_f32(buf, buf + strlen(buf), &got);
        if (!end || *end || memcmp(&got, &want, 4) != 0)
            fail_msg("'%s': got %a want %a", buf, (double)got, (double)want);
    }
    /* typical embedding values: 1-8 digits after the point */
    for (int i = 0; i < 300000; i++) {
        int digits = (int)(rnd() % 8) + 1;
        snprintf(buf, sizeof buf, "%s%d.%0*llu", rnd() % 2 ? "-" : "", (int)(rnd() % 10), digits,
                 (unsigned long long)(rnd() % 100000000ULL) % (unsigned long long)pow(10, digits));
        float got = 0, want = strtof(buf, NULL);
        const char *end = emb_parse_f32(buf, buf + strlen(buf), &got);
        if (!end || *end || memcmp(&got, &want, 4) != 0)
            fail_msg("'%s': got %a want %a", buf, (double)got, (double)want);
    }
    /* float32 values printed with 9 significant digits round-trip */
    for (int i = 0; i < 100000; i++) {
        uint32_t bits = (uint32_t)rnd();
        float f;
        memcpy(&f, &bits, 4);
        if (!isfinite(f))
            continue;
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        float got = 0;
        const char *end = emb_parse_f32(buf, buf + strlen(buf), &got);
        if (!end || *end || memcmp(&got, &f, 4) != 0)
            fail_msg("'%s': got %a want %a", buf, (double)got, (double)f);
    }
}

static void test_read_text_parse_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {"", "-", "+", ".", "e5", "-.e1", "nan", "inf", "abc", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        float f;
        const char *s = bad[i];
        const char *end = emb_parse_f32(s, s + strlen(s), &f);
        if (end && *end == 0)
            fail_msg("accepted '%s'", s);
    }
    float f;
    const char *s = "1e";
    assert_null(emb_parse_f32(s, s + 2, &f));
    s = "1e39";
    assert_non_null(emb_parse_f32(s, s + 4, &f));
    assert_true(isinf(f));
    s = "5 6"; /* stops at the blank */
    assert_ptr_equal(emb_parse_f32(s, s + 3, &f), s + 1);
    assert_true(f == 5.0f);
}

/* Read all rows; returns the status and the row count. */
static int read_all(const char *text, size_t n, int64_t *rows, size_t *dim, float *first,
                    emb_err *err)
{
    emb_reader *r;
    int rc = emb_reader_open_mem(EMB_READ_TEXT, text, n, "t.txt", NULL, &r, err);
    if (rc)
        return rc;
    *dim = emb_reader_dim(r);
    int64_t id;
    const char *tok;
    size_t len;
    const float *vec;
    *rows = 0;
    while ((rc = emb_reader_next(r, &id, &tok, &len, &vec, err)) == EMB_OK) {
        if (id != *rows)
            rc = EMB_EINVAL;
        if (*rows == 0 && first)
            first[0] = vec[0];
        (*rows)++;
    }
    /* sticky status */
    int again = emb_reader_next(r, &id, &tok, &len, &vec, err);
    emb_reader_free(r);
    return again == rc ? rc : EMB_EINVAL;
}

static void test_read_text_variants(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t rows;
        size_t dim;
    } ok[] = {
        {"a 1 2\nb 3 4\n", 2, 2},
        {"a 1 2\r\nb 3 4\r\n", 2, 2},
        {"a 1 2  \nb 3 4\t\n", 2, 2},
        {"a 1 2\nb 3 4", 2, 2},
        {"2 2\na 1 2\nb 3 4\n", 2, 2},
        {"\xEF\xBB\xBF" "a 1 2\n\nb 3 4\n\n", 2, 2},
        {"0 3\n", 0, 3},
        {"x 1\n", 1, 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t rows;
        size_t dim;
        float first = 0;
        emb_err err;
        int rc = read_all(ok[i].text, strlen(ok[i].text), &rows, &dim, &first, &err);
        if (rc != EMB_DONE)
            fail_msg("case %zu: %s", i, err.msg);
        assert_int_equal(rows, ok[i].rows);
        assert_int_equal(dim, ok[i].dim);
    }
}

static void test_read_text_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"a 1 2\nb 3\n", "text: t.txt: expected 2 values, found 1 (line 2)"},
        {"a 1 2\nb 3 4 5\n", "text: t.txt: expected 2 values, found 3 (line 2)"},
        {"a 1 2\nb 3 x\n", "text: t.txt: value 2 is not a number 'x' (line 2)"},
        {"a 1 2\nb 3 4x\n", "text: t.txt: value 2 is not a number '4x' (line 2)"},
        {"a 1 2\nb 3 nan\n", "text: t.txt: value 2 is not a number 'nan' (line 2)"},
        {"a 1 2\n 3 4\n", "text: t.txt: line starts with a blank, expected a token (line 2)"},
        {"3 2\na 1 2\nb 3 4\n", "text: t.txt: header says 3 rows, file has 2 (line 3)"},
        {"1 2\na 1 2\nb 3 4\n", "text: t.txt: more rows than the header's 1 (line 3)"},
        {"1 0\n", "text: t.txt: header dimension 0 out of range (1..65536) (line 1)"},
        {"\n\n", "text: t.txt: no rows (line 2)"},
        {"word\n", "text: t.txt: first row has a token but no values (line 1)"},
        {"a 1e-3 -1e400\n", "text: t.txt: value 2 '-1e400' is out of float32 range (line 1)"},
    };
    static const char nul_tok[] = "a 1 2\nb\0c 3 4\n";
    int64_t n_rows;
    size_t n_dim;
    emb_err e;
    assert_true(read_all(nul_tok, sizeof nul_tok - 1, &n_rows, &n_dim, NULL, &e) < 0);
    assert_string_equal(e.msg, "text: t.txt: token contains a NUL byte (line 2)");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t rows;
        size_t dim;
        emb_err err = {0};
        int rc = read_all(bad[i].text, strlen(bad[i].text), &rows, &dim, NULL, &err);
        assert_true(rc < 0);
        assert_string_equal(err.msg, bad[i].msg);
    }
}

/* Every prefix of a valid file either reads cleanly or fails cleanly. */
static void test_read_text_prefixes(void **state)
{
    (void)state;
    const char *text = "3 4\nthe 0.418 0.24968 -0.41242 0.1217\n\xc3\xbc 1 2 3 4\r\nb 1e-3 2E+2 -0 .5\n";
    size_t n = strlen(text);
    int n_ok = 0;
    for (size_t k = 0; k <= n; k++) {
        char *copy = malloc(k ? k : 1); /* exact size so ASan sees over-reads */
        memcpy(copy, text, k);
        int64_t rows;
        size_t dim;
        emb_err err;
        int rc = read_all(copy, k, &rows, &dim, NULL, &err);
        assert_true(rc == EMB_DONE || rc < 0);
        n_ok += rc == EMB_DONE;
        free(copy);
    }
    assert_int_equal(n_ok, 2); /* the whole file, and the file without its final newline */
}

static void test_read_text_files(void **state)
{
    (void)state;
    emb_reader *r = NULL;
    emb_err err;
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, "/nonexistent/x.txt", NULL, &r, &err), EMB_EIO);
    assert_string_equal(err.msg, "text: /nonexistent/x.txt: cannot open (No such file or directory)");
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, "/", NULL, &r, &err), EMB_EIO);
    assert_string_equal(err.msg, "text: /: cannot read (Is a directory)");
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, "/dev/null", NULL, &r, &err), EMB_EIO);
    assert_string_equal(err.msg, "text: /dev/null: not a regular file");
    char path[] = "/tmp/emb_empty_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, path, NULL, &r, &err), EMB_EFORMAT);
    char want[128];
    snprintf(want, sizeof want, "text: %s: file is empty", path);
    assert_string_equal(err.msg, want);
    FILE *f = fdopen(fd, "w");
    fputs("a 1.5 2\n", f);
    fclose(f);
    assert_int_equal(emb_reader_open(EMB_READ_TEXT, path, NULL, &r, &err), EMB_OK);
    int64_t id;
    const char *tok;
    size_t len;
    const float *vec;
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &vec, &err), EMB_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(tok, "a", 1);
    assert_true(vec[0] == 1.5f && vec[1] == 2.0f);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &vec, &err), EMB_DONE);
    emb_reader_free(r);
    emb_reader_free(NULL);
    remove(path);
}

static void test_read_text_random(void **state)
{
    (void)state;
    emb_reader *a, *b;
    emb_err err;
    assert_int_equal(emb_random_open(1000, 10, 5, 2.0, &a, &err), EMB_OK);
    assert_int_equal(emb_random_open(1000, 10, 5, 2.0, &b, &err), EMB_OK);
    assert_int_equal(emb_reader_rows(a), 1000);
    int64_t id;
    const char *tok;
    size_t len;
    const float *va, *vb;
    double sum = 0, sum2 = 0;
    int n = 0;
    while (emb_reader_next(a, &id, &tok, &len, &va, &err) == EMB_OK) {
        assert_int_equal(emb_reader_next(b, &id, &tok, &len, &vb, &err), EMB_OK);
        assert_memory_equal(va, vb, 10 * sizeof(float));
        assert_null(tok);
        for (int i = 0; i < 10; i++) {
            sum += va[i];
            sum2 += (double)va[i] * va[i];
        }
        n += 10;
    }
    assert_int_equal(n, 10000);
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    assert_true(fabs(mean) < 0.06); /* 3 sigma: 3 * 2 / sqrt(10000) */
    assert_true(fabs(sd - 2.0) < 0.06);
    emb_reader_free(a);
    emb_reader_free(b);
    assert_int_equal(emb_random_open(1, 0, 5, 1.0, &a, &err), EMB_ERANGE);
    assert_string_equal(err.msg, "random: dim out of range (1..65536 vs 0)");
    assert_int_equal(emb_random_open(1, 2, 5, NAN, &a, &err), EMB_EINVAL);
}

static void test_read_text_cursor(void **state)
{
    (void)state;
    const uint8_t buf[] = {1, 2, 0, 3, 0, 0, 0, 'a', 'b', 'c', 9};
    emb_cur c;
    emb_cur_init(&c, buf, sizeof buf);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    const uint8_t *s;
    size_t len;
    assert_int_equal(emb_cur_u8(&c, &u8), 0);
    assert_int_equal(u8, 1);
    assert_int_equal(emb_cur_u16(&c, &u16), 0);
    assert_int_equal(u16, 2);
    assert_int_equal(emb_cur_str(&c, 4, &s, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "abc", 3);
    assert_int_equal(emb_cur_u32(&c, &u32), EMB_EFORMAT);
    assert_int_equal(emb_cur_pos(&c), 10);
    assert_int_equal(emb_cur_u64(&c, &u64), EMB_EFORMAT);
    assert_int_equal(emb_cur_skip(&c, 2), EMB_EFORMAT);
    assert_int_equal(emb_cur_skip(&c, 1), 0);
    assert_int_equal(emb_cur_left(&c), 0);
    /* a length prefix larger than the rest leaves the cursor in place */
    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'};
    emb_cur_init(&c, big, sizeof big);
    assert_int_equal(emb_cur_str(&c, 8, &s, &len), EMB_EFORMAT);
    assert_int_equal(emb_cur_pos(&c), 0);
    assert_int_equal(emb_utf8_valid((const uint8_t *)"\xc3\xbc\xe6\x97\xa5", 5), 1);
    assert_int_equal(emb_utf8_valid((const uint8_t *)"\xc0\x80", 2), 0);
    assert_int_equal(emb_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(emb_utf8_valid((const uint8_t *)"\xe6\x97", 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_text_parse_matches_strtof),
        cmocka_unit_test(test_read_text_parse_rejects),
        cmocka_unit_test(test_read_text_variants),
        cmocka_unit_test(test_read_text_errors),
        cmocka_unit_test(test_read_text_prefixes),
        cmocka_unit_test(test_read_text_files),
        cmocka_unit_test(test_read_text_random),
        cmocka_unit_test(test_read_text_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
