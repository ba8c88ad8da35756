/* test_unicase.c - emb_upper_utf8 (src/lm/unicase.c) is Python's str.upper()
 * for every code point: the FNV-1a 64 check value of all the results equals
 * the one tests/ref/gen_unicase.py --hash computes from str.upper() itself;
 * plus a few spelled-out cases, multi-code-point results, and malformed
 * UTF-8 copied through unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "lm/unicase.h"

/* tests/ref/gen_unicase.py --hash */
#define UPPER_ALL_FNV 0x4d01f625ce40b230ull /* Python 3.11.2, Unicode 14.0.0 */

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_unicase_every_code_point(void **state)
{
    (void)state;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t changed = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char in[4];
        size_t n = utf8_encode(cp, in), m = 0;
        char *up = emb_upper_utf8(in, n, &m);
        assert_non_null(up);
        changed += m != n || memcmp(up, in, n) != 0;
        for (size_t i = 0; i <= m; i++) /* the result and its NUL */
            h = (h ^ (unsigned char)up[i]) * 0x100000001b3ull;
        emb_free(up);
    }
    assert_int_equal(changed, 1525); /* Unicode 14: 1,525 code points change */
    assert_true(h == UPPER_ALL_FNV);
}

static void expect_upper(const char *in, const char *want)
{
    size_t m = 0;
    char *up = emb_upper_utf8(in, strlen(in), &m);
    assert_non_null(up);
    assert_int_equal(m, strlen(want));
    assert_string_equal(up, want);
    emb_free(up);
}

static void test_unicase_strings(void **state)
{
    (void)state;
    expect_upper("café", "CAFÉ");
    expect_upper("straße", "STRASSE");
    expect_upper("ﬃx", "FFIX");              /* U+FB03: three code points */
    expect_upper("ǆungla", "ǄUNGLA");       /* U+01C6 -> U+01C4 */
    expect_upper("ǅx", "ǄX");                /* titlecase U+01C5 -> U+01C4 */
    expect_upper("ωμέγα дом", "ΩΜΈΓΑ ДОМ");
    expect_upper("ȿ", "Ȿ");                  /* U+023F: 2 bytes -> 3 bytes */
    expect_upper("\xce\x90", "\xce\x99\xcc\x88\xcc\x81"); /* U+0390 -> U+0399 U+0308 U+0301 */
    expect_upper("ABC 123", "ABC 123");
    expect_upper("", "");
}

static void test_unicase_malformed_copied(void **state)
{
    (void)state;
    const char bad[] = "a\xff\xc3(b\xe2\x82";
    size_t m = 0;
    char *up = emb_upper_utf8(bad, sizeof bad - 1, &m);
    assert_non_null(up);
    assert_int_equal(m, sizeof bad - 1);
    assert_memory_equal(up, "A\xff\xc3(B\xe2\x82", m);
    emb_free(up);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unicase_every_code_point),
        cmocka_unit_test(test_unicase_strings),
        cmocka_unit_test(test_unicase_malformed_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
