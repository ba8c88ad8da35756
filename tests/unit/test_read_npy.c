/* test_read_npy.c - the .npy reader: prefixes, malformed headers, overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "read_helpers.h"

static void test_read_npy_prefixes(void **state)
{
    (void)state;
    static const char *files[] = {"npy/v1_f4.npy", "npy/v2_f2.npy", "npy/v3_f8.npy",
                                  "npy/fortran.npy", "npy/numpy_saved.npy"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_prefixes(EMB_READ_NPY, files[i], NULL, 5);
}

/* Build a v1 file with the given header dict and `data_bytes` zero bytes. */
static size_t make_npy(unsigned char *out, const char *dict, size_t data_bytes)
{
    size_t hl = strlen(dict);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hl & 0xff);
    out[9] = (unsigned char)(hl >> 8);
    memcpy(out + 10, dict, hl);
    memset(out + 10 + hl, 0, data_bytes);
    return 10 + hl + data_bytes;
}

static void test_read_npy_headers(void **state)
{
    (void)state;
    static const struct {
        const char *dict;
        size_t data;
        const char *msg;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24, NULL},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 24, NULL},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }\n", 0, NULL},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 20,
         "npy: f: data is 20 bytes, shape (2, 3) of <f4 needs 24 (at byte 70)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n", 16,
         "npy: f: shape (4611686018427387904, 4) of <f4 is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 4), }\n", 16,
         "npy: f: shape value too large (at byte 61)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }\n", 0,
         "npy: f: dimension 0 out of range (1..65536)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }\n", 96,
         "npy: f: expected a 2-D array, found 3 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4,
         "npy: f: expected a 2-D array, found 0 dimensions"},
        {"{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 3), }\n", 24,
         "npy: f: malformed header: fortran_order must be True or False (at byte 44)"},
        {"{'descr': '<f4', 'shape': (2, 3), }\n", 24,
         "npy: f: malformed header: needs descr, fortran_order and shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}\n", 24,
         "npy: f: malformed header: unknown key 'x' (at byte 68)"},
        {"['descr']", 0, "npy: f: malformed header: expected '{' (at byte 10)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", 24,
         "npy: f: malformed header: expected ',' or '}' (at byte 66)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 24,
         "npy: f: malformed header: bad shape (at byte 63)"},
        {"{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3), }", 24,
         "npy: f: unsupported dtype 'f4' (expected <f4, <f2 or <f8)"},
    };
    unsigned char buf[512];
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = make_npy(buf, cases[i].dict, cases[i].data);
        int64_t rows;
        emb_err err = {0};
        int rc = drain(EMB_READ_NPY, buf, n, NULL, &rows, &err);
        if (!cases[i].msg) {
            if (rc != EMB_DONE)
                fail_msg("case %zu: %s", i, err.msg);
        } else {
            if (rc >= 0)
                fail_msg("case %zu accepted", i);
            if (strcmp(err.msg, cases[i].msg) != 0) {
                print_error("case %zu:\n got  %s\n want %s\n", i, err.msg, cases[i].msg);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
    expect_open_error(EMB_READ_NPY, "\x93NUMPY\x01", 7, NULL, "npy: f: truncated header (at byte 7)");
    expect_open_error(EMB_READ_NPY, "\x93NUMPY\x02\x00\xff\xff\xff\xff", 12, NULL,
                      "npy: f: header length 4294967295 exceeds file size 12");
    expect_open_error(EMB_READ_NPY, "", 0, NULL, "npy: f: not a .npy file (bad magic) (at byte 0)");
}

static void test_read_npy_fortran_values(void **state)
{
    (void)state;
    /* 2 x 3 Fortran order: memory holds columns (1,4), (2,5), (3,6) */
    unsigned char buf[256];
    size_t n = make_npy(buf, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 0);
    float col[6] = {1, 4, 2, 5, 3, 6};
    memcpy(buf + n, col, sizeof col);
    emb_reader *r;
    emb_err err;
    assert_int_equal(emb_reader_open_mem(EMB_READ_NPY, buf, n + 24, "f", NULL, &r, &err), 0);
    assert_int_equal(emb_reader_rows(r), 2);
    assert_int_equal(emb_reader_dim(r), 3);
    int64_t id;
    const char *tok;
    size_t len;
    const float *v;
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_null(tok);
    assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_true(id == 1 && v[0] == 4 && v[1] == 5 && v[2] == 6);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_DONE);
    emb_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_npy_prefixes),
        cmocka_unit_test(test_read_npy_headers),
        cmocka_unit_test(test_read_npy_fortran_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
