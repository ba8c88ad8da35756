/* test_read_gguf.c - the GGUF reader: prefixes, metadata walking, bad sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "read_helpers.h"

static void test_read_gguf_prefixes(void **state)
{
    (void)state;
    check_prefixes(EMB_READ_GGUF, "gguf/v1.gguf", "tok.bf16", 6);
    check_prefixes(EMB_READ_GGUF, "gguf/v2.gguf", "tok.bf16", 6);
    check_prefixes(EMB_READ_GGUF, "gguf/v3.gguf", "tok.bf16", 6);
    check_prefixes(EMB_READ_GGUF, "gguf/q8_0.gguf", NULL, 3);
}

/* A little GGUF v3 writer. */
typedef struct gb {
    unsigned char b[4096];
    size_t n;
} gb;

static void put(gb *g, const void *p, size_t n)
{
    memcpy(g->b + g->n, p, n);
    g->n += n;
}
static void u32(gb *g, uint32_t v) { put(g, &v, 4); }
static void u64(gb *g, uint64_t v) { put(g, &v, 8); }
static void str(gb *g, const char *s)
{
    u64(g, strlen(s));
    put(g, s, strlen(s));
}
static void head(gb *g, uint64_t n_tensors, uint64_t n_kv)
{
    g->n = 0;
    put(g, "GGUF", 4);
    u32(g, 3);
    u64(g, n_tensors);
    u64(g, n_kv);
}
/* tensor info for a 2-D tensor, then align to 32 and add `data` zero bytes */
static void tensor(gb *g, const char *name, uint64_t ne0, uint64_t ne1, uint32_t type,
                   uint64_t offset)
{
    str(g, name);
    u32(g, 2);
    u64(g, ne0);
    u64(g, ne1);
    u32(g, type);
    u64(g, offset);
}
static void data(gb *g, size_t n)
{
    while (g->n % 32)
        g->b[g->n++] = 0;
    memset(g->b + g->n, 0, n);
    g->n += n;
}

static int n_bad;

static void expect(gb *g, const char *msg)
{
    int64_t rows;
    emb_err err = {0};
    int rc = drain(EMB_READ_GGUF, g->b, g->n, NULL, &rows, &err);
    if (!msg) {
        if (rc != EMB_DONE)
            fail_msg("unexpected error: %s", err.msg);
        return;
    }
    if (rc >= 0 || strcmp(err.msg, msg) != 0) {
        print_error(" got  %s\n want %s\n", rc >= 0 ? "(accepted)" : err.msg, msg);
        n_bad++;
    }
}

static void test_read_gguf_metadata(void **state)
{
    (void)state;
    gb g;
    /* valid: 2 x 4 F32, tokens shorter than the rows -> NULL tokens after */
    head(&g, 1, 1);
    str(&g, "tokenizer.ggml.tokens");
    u32(&g, 9);
    u32(&g, 8);
    u64(&g, 1);
    str(&g, "only");
    tensor(&g, "token_embd.weight", 4, 2, 0, 0);
    data(&g, 32);
    expect(&g, NULL);
    emb_reader *r;
    emb_err err;
    assert_int_equal(emb_reader_open_mem(EMB_READ_GGUF, g.b, g.n, "f", NULL, &r, &err), 0);
    int64_t id;
    const char *tok;
    size_t len;
    const float *v;
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(tok, "only", 4);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_OK);
    assert_null(tok);
    assert_int_equal(emb_reader_next(r, &id, &tok, &len, &v, &err), EMB_DONE);
    emb_reader_free(r);

    /* an array claiming 2^62 u8 elements */
    head(&g, 0, 1);
    str(&g, "a");
    u32(&g, 9);
    u32(&g, 0);
    u64(&g, UINT64_C(1) << 62);
    expect(&g, "gguf: f: array of 4611686018427387904 elements past the end of the file (at byte 37)");
    /* an array claiming 2^62 strings (each needs at least 8 bytes) */
    head(&g, 0, 1);
    str(&g, "a");
    u32(&g, 9);
    u32(&g, 8);
    u64(&g, UINT64_C(1) << 62);
    str(&g, "x");
    expect(&g, "gguf: f: string length past the end of the file (at byte 58)");
    /* a string length past the end */
    head(&g, 0, 1);
    u64(&g, 1000);
    expect(&g, "gguf: f: metadata entry 0 of 1 past the end of the file (at byte 24)");
    /* nesting */
    head(&g, 0, 1);
    str(&g, "a");
    u32(&g, 9);
    for (int i = 0; i < 10; i++) {
        u32(&g, 9);
        u64(&g, 1);
    }
    expect(&g, "gguf: f: arrays nested too deep (at byte 133)");
    /* unknown value type */
    head(&g, 0, 1);
    str(&g, "a");
    u32(&g, 13);
    expect(&g, "gguf: f: unknown metadata type 13 (at byte 37)");
    /* alignment must be a power of two */
    head(&g, 0, 1);
    str(&g, "general.alignment");
    u32(&g, 4);
    u32(&g, 24);
    expect(&g, "gguf: f: general.alignment must be a u32 power of two (at byte 24)");
    /* tokens of the wrong type */
    head(&g, 0, 1);
    str(&g, "tokenizer.ggml.tokens");
    u32(&g, 9);
    u32(&g, 4);
    u64(&g, 0);
    expect(&g, "gguf: f: tokenizer.ggml.tokens must be an array of strings (at byte 24)");
    /* invalid UTF-8 token */
    head(&g, 0, 1);
    str(&g, "tokenizer.ggml.tokens");
    u32(&g, 9);
    u32(&g, 8);
    u64(&g, 1);
    str(&g, "\xff");
    expect(&g, "gguf: f: token is not valid UTF-8 (at byte 69)");
    assert_int_equal(n_bad, 0);
}

static void test_read_gguf_tensors(void **state)
{
    (void)state;
    gb g;
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 4, UINT64_C(1) << 62, 0, 0);
    data(&g, 32);
    expect(&g, "gguf: f: tensor 'token_embd.weight' (4611686018427387904 x 4 at offset 0) extends "
               "past the end of the file (data starts at byte 96, file has 128 bytes)");
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 4, 2, 0, UINT64_MAX - 8);
    data(&g, 32);
    expect(&g, "gguf: f: tensor 'token_embd.weight' (2 x 4 at offset 18446744073709551607) extends "
               "past the end of the file (data starts at byte 96, file has 128 bytes)");
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 0, 2, 0, 0);
    data(&g, 0);
    expect(&g, "gguf: f: tensor 'token_embd.weight' dimension 0 out of range (1..65536)");
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 48, 1, 8, 0);
    data(&g, 64);
    expect(&g, "gguf: f: tensor 'token_embd.weight': Q8_0 needs a dimension divisible by 32 (found 48)");
    head(&g, 1, 0);
    str(&g, "t");
    u32(&g, 5);
    expect(&g, "gguf: f: tensor with 5 dimensions (at byte 24)");
    head(&g, 2, 0);
    tensor(&g, "a", 4, 2, 0, 0);
    expect(&g, "gguf: f: tensor info 1 of 2 past the end of the file (at byte 65)");
    head(&g, 0, 0);
    expect(&g, "gguf: f: no tensor 'token_embd.weight' (available: none)");
    expect_open_error(EMB_READ_GGUF, "GGUF\x03\0\0\0", 8, NULL, "gguf: f: truncated header (at byte 8)");
    expect_open_error(EMB_READ_GGUF, "GGUF\0\0\0\x03", 8, NULL,
                      "gguf: f: big-endian GGUF (version 3 stored byte-swapped) is not "
                      "supported; expected a little-endian file (at byte 4)");
    expect_open_error(EMB_READ_GGUF, "GGUF\x09\0\0\0", 8, NULL,
                      "gguf: f: unsupported version 9 (expected 1, 2 or 3) (at byte 4)");
    expect_open_error(EMB_READ_GGUF, "GGUF\0\0\0\x07", 8, NULL,
                      "gguf: f: unsupported version 117440512 (expected 1, 2 or 3) (at byte 4)");
    /* a type ggml has but we do not decode, and one nobody has */
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 256, 1, 16, 0);
    data(&g, 66);
    expect(&g, "gguf: f: tensor 'token_embd.weight' has unsupported type IQ2_XXS (16) (expected "
               "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K)");
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 256, 1, 99, 0);
    data(&g, 66);
    expect(&g, "gguf: f: tensor 'token_embd.weight' has unsupported type 99 (expected "
               "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K)");
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 128, 1, 12, 0);
    data(&g, 144);
    expect(&g, "gguf: f: tensor 'token_embd.weight': Q4_K needs a dimension divisible by 256 "
               "(found 128)");
    /* the data of a k-quant tensor must be all there */
    head(&g, 1, 0);
    tensor(&g, "token_embd.weight", 256, 2, 14, 0);
    data(&g, 210 * 2 - 1);
    expect(&g, "gguf: f: tensor 'token_embd.weight' (2 x 256 at offset 0) extends past the end of "
               "the file (data starts at byte 96, file has 515 bytes)");
    assert_int_equal(n_bad, 0);
}

/* Every supported type decodes the fixture ggml wrote (tests/ref/ggml_ref.py)
 * to exactly the floats ggml's own dequantize_row_* returned, bit for bit. */
static const char *const QUANT_TYPES[] = {"f32",  "f16",  "bf16", "q4_0", "q4_1",
                                          "q5_0", "q5_1", "q8_0", "q2_k", "q3_k",
                                          "q4_k", "q5_k", "q6_k"};

static void check_against(const char *gguf_rel, const char *expected_rel, size_t *n_checked)
{
    size_t n, n_exp;
    unsigned char *buf = load_fixture(gguf_rel, &n);
    unsigned char *exp = load_fixture(expected_rel, &n_exp);
    static const char *const toks[] = {"<unk>", "\xc4\xa0hello", "caf\xc3\xa9",
                                       "\xe2\x96\x81world", "<0x0A>", "x"};
    emb_reader *r;
    emb_err err;
    if (emb_reader_open_mem(EMB_READ_GGUF, buf, n, "f", NULL, &r, &err))
        fail_msg("%s: %s", gguf_rel, err.msg);
    size_t dim = emb_reader_dim(r);
    assert_int_equal(dim, 256);
    assert_int_equal(emb_reader_rows(r) * (int64_t)dim * 4 + 128, (int64_t)n_exp);
    const unsigned char *e0 = exp + 128; /* past the .npy header */
    int64_t id;
    const char *tok;
    size_t len;
    const float *v;
    int rc;
    int64_t rows = 0;
    while ((rc = emb_reader_next(r, &id, &tok, &len, &v, &err)) == EMB_OK) {
        assert_int_equal(id, rows);
        assert_true(len == strlen(toks[id]) && memcmp(tok, toks[id], len) == 0);
        for (size_t i = 0; i < dim; i++) {
            uint32_t got, want;
            memcpy(&got, v + i, 4);
            const unsigned char *w = e0 + (id * dim + i) * 4;
            want = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
            if (got != want)
                fail_msg("%s row %lld [%zu]: got %08x (%g), ggml %08x", gguf_rel, (long long)id, i,
                         got, (double)v[i], want);
            (*n_checked)++;
        }
        rows++;
    }
    assert_int_equal(rc, EMB_DONE);
    assert_int_equal(rows, 6);
    emb_reader_free(r);
    free(buf);
    free(exp);
}

static void test_read_gguf_quant_types(void **state)
{
    (void)state;
    size_t n_checked = 0;
    char g_rel[64], e_rel[64];
    for (size_t t = 0; t < sizeof QUANT_TYPES / sizeof QUANT_TYPES[0]; t++) {
        snprintf(g_rel, sizeof g_rel, "gguf/quant/%s.gguf", QUANT_TYPES[t]);
        snprintf(e_rel, sizeof e_rel, "gguf/quant/%s.expected.npy", QUANT_TYPES[t]);
        check_against(g_rel, e_rel, &n_checked);
    }
    assert_int_equal(n_checked, 13 * 6 * 256);
}

/* Files from ggml's writer with other alignments, and the same bytes
 * labelled v2, decode like the v3 / alignment-32 original. */
static void test_read_gguf_containers(void **state)
{
    (void)state;
    size_t n_checked = 0;
    check_against("gguf/quant/align64.gguf", "gguf/quant/q4_k.expected.npy", &n_checked);
    check_against("gguf/quant/align256.gguf", "gguf/quant/q4_k.expected.npy", &n_checked);
    check_against("gguf/quant/v2.gguf", "gguf/quant/q4_k.expected.npy", &n_checked);
    assert_int_equal(n_checked, 3 * 6 * 256);
    size_t n;
    unsigned char *be = load_fixture("gguf/quant/bigendian.gguf", &n);
    expect_open_error(EMB_READ_GGUF, be, n, NULL,
                      "gguf: f: big-endian GGUF (version 3 stored byte-swapped) is not "
                      "supported; expected a little-endian file (at byte 4)");
    free(be);
    check_prefixes(EMB_READ_GGUF, "gguf/quant/q4_k.gguf", NULL, 6);
    /* (align*.gguf end in padding, so their prefixes can be complete) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_gguf_prefixes),
        cmocka_unit_test(test_read_gguf_metadata),
        cmocka_unit_test(test_read_gguf_tensors),
        cmocka_unit_test(test_read_gguf_quant_types),
        cmocka_unit_test(test_read_gguf_containers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
