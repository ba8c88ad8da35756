/* test_read_safetensors.c - the safetensors reader and its strict JSON header parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "read_helpers.h"

static void test_read_safetensors_prefixes(void **state)
{
    (void)state;
    /* wte.bf16 is the last tensor, so every prefix cuts into it or the header */
    check_prefixes(EMB_READ_SAFETENSORS, "safetensors/model.safetensors", "wte.bf16", 4);
}

/* header JSON + `data` zero bytes */
static size_t make_st(unsigned char *out, const char *json, size_t data)
{
    uint64_t n = strlen(json);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(n >> (8 * i));
    memcpy(out + 8, json, n);
    memset(out + 8 + n, 0, data);
    return 8 + n + data;
}

static void test_read_safetensors_json(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t data;
        const char *msg;
    } cases[] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, NULL},
        {" {\"__metadata__\":{\"a\":[1,2.5e-3,{\"b\":null}],\"c\":true},"
         "\"w\":{\"dtype\":\"F16\",\"shape\":[1,4],\"data_offsets\":[0,8],\"x\":\"y\"}}  ", 8, NULL},
        {"{\"\\u0077\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[4,8]}}", 8, NULL},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}", 0, NULL},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},}", 16,
         "safetensors: f: malformed JSON header: expected a string (at byte 65)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}} x", 16,
         "safetensors: f: malformed JSON header: unexpected text after the value (at byte 66)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", 16,
         "safetensors: f: malformed JSON header: expected a non-negative integer (at byte 39)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2.0],\"data_offsets\":[0,16]}}", 16,
         "safetensors: f: malformed JSON header: expected a non-negative integer (at byte 39)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,99999999999999999999999]}}", 16,
         "safetensors: f: malformed JSON header: integer too large (at byte 60)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}", 16,
         "safetensors: f: tensor 'w' shape [4611686018427387904, 4] of F32 does not match its 16 data bytes"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,4]}}", 16,
         "safetensors: f: tensor 'w' data_offsets [8, 4] outside the data block (16 bytes at byte 64)"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2]}}", 16,
         "safetensors: f: tensor 'w' needs dtype, shape and data_offsets"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, NULL},
        {"{\"a\":\"b\"}", 0, "safetensors: f: malformed JSON header: expected a tensor object (at byte 13)"},
        {"{\"w\":{\"dtype\":\"F32\x01\"}}", 0,
         "safetensors: f: malformed JSON header: control character in string (at byte 26)"},
        {"{\"w\":{\"dtype\":\"F\\q\"}}", 0,
         "safetensors: f: malformed JSON header: bad escape (at byte 24)"},
        {"{\"__metadata__\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0,
         "safetensors: f: malformed JSON header: nesting too deep (at byte 88)"},
        {"{}", 0, "safetensors: f: no tensor 'w' (available: none)"},
        /* "\u0000" decodes to NUL, which never matches inside a C string */
        {"{\"w\\u0000\":{}}", 0, "safetensors: f: no tensor 'w' (available: w\\u0000)"},
        {"[]", 0, "safetensors: f: malformed JSON header: expected '{' (at byte 8)"},
    };
    unsigned char buf[1024];
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = make_st(buf, cases[i].json, cases[i].data);
        int64_t rows;
        emb_err err = {0};
        int rc = drain(EMB_READ_SAFETENSORS, buf, n, "w", &rows, &err);
        if (!cases[i].msg) {
            if (rc != EMB_DONE) {
                print_error("case %zu: %s\n", i, err.msg);
                bad++;
            }
        } else if (rc >= 0 || strcmp(err.msg, cases[i].msg) != 0) {
            print_error("case %zu:\n got  %s\n want %s\n", i, rc >= 0 ? "(accepted)" : err.msg,
                        cases[i].msg);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    /* a backslash before a raw NUL byte is not an escape (found by fuzzing) */
    static const char nul_esc[] = "\x09\0\0\0\0\0\0\0{\"w\\\0\":1}";
    expect_open_error(EMB_READ_SAFETENSORS, nul_esc, sizeof nul_esc - 1, "w",
                      "safetensors: f: malformed JSON header: bad escape (at byte 11)");
    expect_open_error(EMB_READ_SAFETENSORS, "\x10\0\0\0", 4, "w",
                      "safetensors: f: file too short for the header length (4 bytes)");
    expect_open_error(EMB_READ_SAFETENSORS, "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10, "w",
                      "safetensors: f: header length 18446744073709551615 exceeds file size 10");
}

static void test_read_safetensors_names(void **state)
{
    (void)state;
    /* many tensors: the list in the message is cut short with ", ..." */
    char json[8192] = "{";
    for (int i = 0; i < 100; i++)
        snprintf(json + strlen(json), sizeof json - strlen(json),
                 "%s\"layer.%d.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}",
                 i ? "," : "", i);
    strcat(json, "}");
    unsigned char *buf = malloc(strlen(json) + 16);
    size_t n = make_st(buf, json, 4);
    int64_t rows;
    emb_err err;
    assert_true(drain(EMB_READ_SAFETENSORS, buf, n, "nope", &rows, &err) == EMB_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no tensor 'nope' (available: layer.0.weight, layer.1.weight, "));
    assert_non_null(strstr(err.msg, ", ...)"));
    assert_true(strlen(err.msg) < 400);
    assert_int_equal(drain(EMB_READ_SAFETENSORS, buf, n, "layer.99.weight", &rows, &err), EMB_DONE);
    assert_int_equal(rows, 1);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_safetensors_prefixes),
        cmocka_unit_test(test_read_safetensors_json),
        cmocka_unit_test(test_read_safetensors_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
