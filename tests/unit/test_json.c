/* test_json.c - the strict pull parser of src/core/json.h: walking values,
 * decoding strings, numbers and their limits, and the error position of
 * every kind of malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/json.h"

static void init(emb_json *j, const char *s)
{
    emb_json_init(j, s, strlen(s), 0);
}

/* Walk an object of mixed members the way a reader would. */
static void test_json_walk(void **state)
{
    (void)state;
    const char *text = " {\"dim\": 300, \"name\":\"w\\u00e9\", \"ok\": true, \"neg\": -12,"
                       " \"x\": [1, 2.5e-3, {\"a\": null}, []], \"f\": -0.5E+2, \"e\": {} }\r\n";
    emb_json j;
    init(&j, text);
    uint64_t dim = 0;
    int64_t neg = 0;
    int ok = 0, seen = 0;
    double f = 0;
    char name[16];
    size_t name_n = 0;
    assert_int_equal(emb_json_peek(&j), EMB_JSON_OBJECT);
    int more = emb_json_enter(&j, '{');
    while (more) {
        emb_json_str k;
        assert_true(emb_json_string(&j, &k) && emb_json_colon(&j));
        seen++;
        if (emb_json_str_eq(&k, "dim")) {
            assert_true(emb_json_uint(&j, &dim));
        } else if (emb_json_str_eq(&k, "name")) {
            emb_json_str v;
            assert_true(emb_json_string(&j, &v));
            assert_true(v.escaped);
            name_n = emb_json_str_len(&v);
            assert_true(name_n < sizeof name);
            assert_int_equal(emb_json_str_decode(&v, name), name_n);
        } else if (emb_json_str_eq(&k, "ok")) {
            assert_true(emb_json_bool(&j, &ok));
        } else if (emb_json_str_eq(&k, "neg")) {
            assert_true(emb_json_int(&j, &neg));
        } else if (emb_json_str_eq(&k, "f")) {
            assert_true(emb_json_number(&j, &f));
        } else {
            assert_true(emb_json_skip(&j));
        }
        more = emb_json_next(&j, '}');
    }
    assert_true(emb_json_end(&j));
    assert_null(j.what);
    assert_int_equal(j.depth, 0);
    assert_int_equal(seen, 7);
    assert_int_equal(dim, 300);
    assert_int_equal(neg, -12);
    assert_int_equal(ok, 1);
    assert_true(f == -50.0);
    assert_int_equal(name_n, 3);
    assert_memory_equal(name, "w\xc3\xa9", 3);
}

static void test_json_strings(void **state)
{
    (void)state;
    static const struct {
        const char *json, *decoded;
        size_t n;
    } cases[] = {
        {"\"plain\"", "plain", 5},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"\\u0041\\u00E9\\u20ac\"", "A\xc3\xa9\xe2\x82\xac", 6},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},        /* surrogate pair */
        {"\"\\ud83dx\"", "\xef\xbf\xbdx", 4},                 /* lone high -> U+FFFD */
        {"\"\\ude00\"", "\xef\xbf\xbd", 3},                   /* lone low */
        {"\"\\u0000\"", "\0", 1},
        {"\"\xc4\xa0hello\"", "\xc4\xa0hello", 7},            /* raw UTF-8 kept */
        {"\"\"", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        emb_json j;
        emb_json_str s;
        init(&j, cases[i].json);
        assert_true(emb_json_string(&j, &s));
        assert_true(emb_json_end(&j));
        char buf[64];
        assert_int_equal(emb_json_str_len(&s), cases[i].n);
        assert_int_equal(emb_json_str_decode(&s, buf), cases[i].n);
        assert_memory_equal(buf, cases[i].decoded, cases[i].n);
        assert_true(emb_json_str_len(&s) <= (size_t)(s.e - s.s));
        if (!memchr(cases[i].decoded, 0, cases[i].n))
            assert_true(emb_json_str_eq(&s, cases[i].decoded));
    }
    /* equality is on decoded text, and prefixes do not match */
    emb_json j;
    emb_json_str s;
    init(&j, "\"ab\\u0063\"");
    assert_true(emb_json_string(&j, &s));
    assert_true(emb_json_str_eq(&s, "abc"));
    assert_false(emb_json_str_eq(&s, "ab"));
    assert_false(emb_json_str_eq(&s, "abcd"));
    assert_false(emb_json_str_eq(&s, "ab\\u0063"));
}

static void test_json_numbers(void **state)
{
    (void)state;
    emb_json j;
    uint64_t u;
    int64_t i;
    double d;
    init(&j, "18446744073709551615");
    assert_true(emb_json_uint(&j, &u));
    assert_true(u == UINT64_MAX);
    init(&j, "-9223372036854775808");
    assert_true(emb_json_int(&j, &i));
    assert_true(i == INT64_MIN);
    init(&j, "9223372036854775808");
    assert_false(emb_json_int(&j, &i));
    assert_string_equal(j.what, "integer too large");
    init(&j, "18446744073709551616");
    assert_false(emb_json_uint(&j, &u));
    assert_string_equal(j.what, "integer too large");
    init(&j, "-0");
    assert_true(emb_json_uint(&j, &u));
    assert_true(u == 0);
    init(&j, "0.1");
    assert_true(emb_json_number(&j, &d));
    assert_true(d == 0.1);
    init(&j, "1e400");
    assert_true(emb_json_number(&j, &d)); /* grammar is fine; strtod gives inf */
    assert_true(d > 1e308);
    static const char *bad[] = {"01", "+1", "1.", ".5", "1e", "-", "1.e3", "NaN", "0x10"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        init(&j, bad[k]);
        int ok = emb_json_number(&j, &d) && emb_json_end(&j);
        if (ok)
            fail_msg("accepted bad number %s", bad[k]);
    }
    init(&j, "2.0");
    assert_false(emb_json_uint(&j, &u));
    assert_string_equal(j.what, "expected a non-negative integer");
    init(&j, "1e3");
    assert_false(emb_json_int(&j, &i));
    assert_string_equal(j.what, "expected an integer");
}

/* Each malformed text fails with this message at this byte offset. */
static void test_json_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *msg;
        size_t at;
    } cases[] = {
        {"[1,2,]", "expected a value", 5},
        {"{\"a\":1,}", "expected a string", 7},
        {"{\"a\" 1}", "expected ':'", 5},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'", 7},
        {"[1 2]", "expected ',' or ']'", 3},
        {"[1", "expected ',' or ']'", 2},
        {"\"abc", "unterminated string", 4},
        {"\"a\\", "unterminated string", 3},
        {"\"a\x01\"", "control character in string", 2},
        {"\"\\x\"", "bad escape", 1},
        {"\"\\u12g4\"", "bad escape" /* replaced below */, 1},
        {"tru", "expected a value", 0},
        {"nul", "expected a value", 0},
        {"[] x", "unexpected text after the value", 3},
        {"", "expected a value", 0},
        {"   ", "expected a value", 3},
        {"{\"a\":[{\"b\":}]}", "expected a value", 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        emb_json j;
        init(&j, cases[i].json);
        int ok = emb_json_skip(&j) && emb_json_end(&j);
        const char *want = i == 10 ? "bad \\u escape" : cases[i].msg;
        if (ok || !j.what || strcmp(j.what, want) != 0 || emb_json_off(&j) != cases[i].at)
            fail_msg("case %zu %s: got %s at %zu, want %s at %zu", i, cases[i].json,
                     ok ? "(accepted)" : j.what, emb_json_off(&j), want, cases[i].at);
    }
    /* the error sticks: later calls fail and do not move the cursor */
    emb_json j;
    uint64_t u;
    init(&j, "[x, 1]");
    assert_int_equal(emb_json_enter(&j, '['), 1);
    assert_false(emb_json_uint(&j, &u));
    size_t at = emb_json_off(&j);
    assert_false(emb_json_next(&j, ']'));
    assert_false(emb_json_skip(&j));
    assert_int_equal(emb_json_peek(&j), EMB_JSON_NONE);
    assert_int_equal(emb_json_off(&j), at);
    /* base shifts the reported offsets */
    emb_json_init(&j, "[1,]", 4, 100);
    assert_false(emb_json_skip(&j));
    assert_int_equal(emb_json_off(&j), 103);
}

static void test_json_depth(void **state)
{
    (void)state;
    char buf[400];
    for (int depth = EMB_JSON_MAX_DEPTH; depth <= EMB_JSON_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int k = 0; k < depth; k++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", k % 2 ? "{\"k\":" : "[");
        buf[n++] = '0';
        for (int k = depth - 1; k >= 0; k--)
            buf[n++] = k % 2 ? '}' : ']';
        emb_json j;
        emb_json_init(&j, buf, n, 0);
        int ok = emb_json_skip(&j) && emb_json_end(&j);
        if (depth <= EMB_JSON_MAX_DEPTH) {
            if (!ok)
                fail_msg("depth %d refused: %s", depth, j.what);
            assert_int_equal(j.depth, 0);
        } else {
            assert_false(ok);
            assert_string_equal(j.what, "nesting too deep");
        }
    }
    /* skip counts from the depth the caller is already at */
    emb_json j;
    init(&j, "[[[0]]]");
    j.depth = EMB_JSON_MAX_DEPTH - 2;
    assert_false(emb_json_skip(&j));
    assert_string_equal(j.what, "nesting too deep");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_walk),
        cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
