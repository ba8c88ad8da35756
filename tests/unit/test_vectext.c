/* test_vectext.c - strict JSON vector parsing, exact printing, and the vocab map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emb.h"
#include "core/vectext.h"
#include "lm/vocab.h"

static int parse(const char *s, float **v, size_t *dim, emb_err *err)
{
    return emb_json_parse(s, strlen(s), v, dim, err);
}

static void test_vectext_parse_valid(void **state)
{
    (void)state;
    float *v = NULL;
    size_t dim = 0;
    emb_err err;
    assert_int_equal(parse(" [1, -2.5e0,3E+1 ,0.125]\n", &v, &dim, &err), EMB_OK);
    assert_int_equal(dim, 4);
    assert_true(v[0] == 1.0f && v[1] == -2.5f && v[2] == 30.0f && v[3] == 0.125f);
    free(v);
}

static void test_vectext_parse_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[1, 2", "expected ',' or ']' at offset 5 (found end of text)"},
        {"[1 2]", "expected ',' or ']' at offset 3 (found '2')"},
        {"[1,,2]", "expected a number at offset 3 (found ',')"},
        {"[]", "expected a number at offset 1 (found ']')"},
        {"[nan]", "expected a number at offset 1 (found 'n')"},
        {"[+1]", "expected a number at offset 1 (found '+')"},
        {"[01]", "expected ',' or ']' at offset 2 (found '1')"},
        {"[1.]", "expected a number at offset 1 (found '1')"},
        {"[.5]", "expected a number at offset 1 (found '.')"},
        {"[1e]", "expected a number at offset 1 (found '1')"},
        {"[0x10]", "expected ',' or ']' at offset 2 (found 'x')"},
        {"1,2", "expected '[' at offset 0 (found '1')"},
        {"", "expected '[' at offset 0 (found end of text)"},
        {"[1]]", "unexpected ']' after ']' at offset 3"},
        {"[-1e39]", "number -1e39 at offset 1 is out of float32 range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        float *v = (float *)0x1;
        size_t dim = 99;
        emb_err err;
        assert_int_equal(parse(bad[i].text, &v, &dim, &err), EMB_EINVAL);
        assert_string_equal(err.msg, bad[i].msg);
        assert_ptr_equal(v, (float *)0x1); /* out-params untouched on failure */
        assert_int_equal(dim, 99);
    }
}

static void test_vectext_parse_dim_limit(void **state)
{
    (void)state;
    size_t n = (size_t)EMB_MAX_DIM + 1;
    char *s = malloc(2 * n + 2);
    assert_non_null(s);
    size_t k = 0;
    s[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        s[k++] = '1';
        s[k++] = i + 1 < n ? ',' : ']';
    }
    float *v;
    size_t dim;
    emb_err err;
    assert_int_equal(emb_json_parse(s, k, &v, &dim, &err), EMB_ERANGE);
    assert_string_equal(err.msg, "more than 65536 values (dimension limit)");
    assert_int_equal(emb_json_parse(s + 2, k - 2, &v, &dim, &err), EMB_EINVAL);
    s[2 * EMB_MAX_DIM] = ']';
    assert_int_equal(emb_json_parse(s, 2 * EMB_MAX_DIM + 1, &v, &dim, &err), EMB_OK);
    assert_int_equal(dim, EMB_MAX_DIM);
    free(v);
    free(s);
}

/* Every printed float must parse back to the same bits, with at most 9
 * significant digits; checked over a spread of bit patterns. */
static void test_vectext_format_roundtrip(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1664525u + 1013904223u;
        float f;
        memcpy(&f, &x, sizeof f);
        if (f != f || f - f != 0)
            continue; /* NaN / inf are not printable as JSON */
        char buf[32];
        int len = emb_float_format(buf, f);
        assert_true(len > 0 && len < 32);
        float back = strtof(buf, NULL);
        assert_memory_equal(&back, &f, sizeof f);
    }
    char buf[32];
    emb_float_format(buf, 0.1f);
    assert_string_equal(buf, "0.1");
    emb_float_format(buf, 1.0f / 3.0f);
    assert_string_equal(buf, "0.33333334");
    emb_float_format(buf, 16777216.0f);
    assert_string_equal(buf, "16777216");
}

static void test_vectext_format_array(void **state)
{
    (void)state;
    float v[] = {1, -2.5f, 0.1f};
    char *s = emb_json_format(v, 3);
    assert_string_equal(s, "[1,-2.5,0.1]");
    free(s);
}

static void test_vocab_put_get_del(void **state)
{
    (void)state;
    emb_vocab *v = emb_vocab_new(4);
    assert_non_null(v);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "tok%d", i);
        assert_int_equal(emb_vocab_put(v, key, (size_t)n, i), EMB_OK);
    }
    assert_int_equal(emb_vocab_count(v), 5000);
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf(key, sizeof key, "tok%d", i);
        emb_vocab_del(v, key, (size_t)n);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "tok%d", i);
        assert_int_equal(emb_vocab_get(v, key, (size_t)n), i % 2 ? i : -1);
    }
    assert_int_equal(emb_vocab_put(v, "tok1", 4, 77), EMB_OK); /* overwrite */
    assert_int_equal(emb_vocab_get(v, "tok1", 4), 77);
    assert_int_equal(emb_vocab_get(v, "tok", 3), -1);
    assert_int_equal(emb_vocab_put(v, "a\0b", 3, 9), EMB_OK); /* embedded NUL */
    assert_int_equal(emb_vocab_get(v, "a\0b", 3), 9);
    assert_int_equal(emb_vocab_get(v, "a", 1), -1);
    assert_int_equal(emb_vocab_count(v), 2501);
    emb_vocab_free(v);
    emb_vocab_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectext_parse_valid),
        cmocka_unit_test(test_vectext_parse_rejects),
        cmocka_unit_test(test_vectext_parse_dim_limit),
        cmocka_unit_test(test_vectext_format_roundtrip),
        cmocka_unit_test(test_vectext_format_array),
        cmocka_unit_test(test_vocab_put_get_del),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
