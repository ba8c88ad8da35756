/*
 * test_read_window.c - the text, word2vec and npy readers go through a file
 * holding a window of it (EMB_RD_WINDOW bytes, reader.h), not all of it.
 * Each case writes a file several windows long, with rows that cross window
 * boundaries and one line / token / header longer than a window, and checks
 * that reading it from the file (windowed) gives exactly the rows that
 * reading the same bytes from memory (emb_reader_open_mem: everything held)
 * gives: ids, tokens and every float bit for bit, and the same error text
 * for a file that is wrong past the first window.  GGUF and safetensors
 * read their header, then the tensor through a window of its own when the
 * bytes read do not hold it: tensors that start past the first MiB and
 * span several windows, f32 and Q8_0, are checked the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers/bytes.h"
#include "readers/reader.h"

static char tmpdir[512];
static char last_msg[512]; /* the error of the last same_rows, or "" */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void putf(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)k);
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Write b to a scratch file; the path goes to out. */
static void to_file(const buf *b, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/window-%d-%s", tmpdir, (int)getpid(), name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    fclose(f);
}

/* Read the bytes of b as `kind` from a file and from memory, row by row:
 * the same rows, and the same end (EMB_DONE or the same error).  Returns
 * the number of rows. */
static int64_t same_rows_of(int kind, const buf *b, const char *name, const char *tensor)
{
    char path[700];
    to_file(b, name, path, sizeof path);
    emb_reader *rf = NULL, *rm = NULL;
    emb_err ef = {0, ""}, em = {0, ""};
    int of = emb_reader_open(kind, path, tensor, &rf, &ef);
    int om = emb_reader_open_mem(kind, b->p, b->n, strrchr(path, '/') + 1, tensor, &rm, &em);
    assert_int_equal(of, om);
    int64_t rows = 0;
    if (of == EMB_OK) {
        assert_int_equal(emb_reader_dim(rf), emb_reader_dim(rm));
        size_t dim = emb_reader_dim(rf);
        for (;;) {
            int64_t idf, idm;
            const char *tf, *tm;
            size_t lf, lm;
            const float *vf, *vm;
            int rcf = emb_reader_next(rf, &idf, &tf, &lf, &vf, &ef);
            int rcm = emb_reader_next(rm, &idm, &tm, &lm, &vm, &em);
            assert_int_equal(rcf, rcm);
            if (rcf != EMB_OK)
                break;
            assert_int_equal(idf, idm);
            assert_int_equal(lf, lm);
            assert_true((tf == NULL) == (tm == NULL));
            if (lf)
                assert_memory_equal(tf, tm, lf);
            assert_memory_equal(vf, vm, dim * sizeof(float));
            rows++;
        }
    }
    /* errors name the same file and say the same thing */
    assert_string_equal(ef.msg, em.msg);
    snprintf(last_msg, sizeof last_msg, "%s", ef.msg);
    emb_reader_free(rf);
    emb_reader_free(rm);
    unlink(path);
    return rows;
}

static int64_t same_rows(int kind, const buf *b, const char *name)
{
    return same_rows_of(kind, b, name, NULL);
}

/* GloVe text, dim 7, `rows` rows of varied widths; row `long_row` gets a
 * token longer than a window.  CRLF ends and blank lines here and there. */
static void glove(buf *b, int rows, int long_row, uint32_t seed)
{
    for (int i = 0; i < rows; i++) {
        if (i == long_row) {
            for (size_t k = 0; k < EMB_RD_WINDOW + EMB_RD_WINDOW / 3; k++)
                put(b, "x", 1);
            putf(b, "%d", i);
        } else {
            putf(b, "t%d", i);
        }
        for (int j = 0; j < 7; j++) {
            int32_t v = (int32_t)(rnd(&seed) % 2000001) - 1000000;
            putf(b, "%s%.*f", rnd(&seed) % 5 ? " " : "\t  ", (int)(rnd(&seed) % 9), v / 1e4);
        }
        if (rnd(&seed) % 7)
            put(b, "\n", 1);
        else
            put(b, "\r\n", 2);
        if (rnd(&seed) % 97 == 0)
            put(b, "\n", 1);
    }
}

static void test_window_text(void **state)
{
    (void)state;
    buf b = {0};
    glove(&b, 60000, 30000, 7);
    assert_true(b.n > 3 * EMB_RD_WINDOW);
    assert_int_equal(same_rows(EMB_READ_TEXT, &b, "g.txt"), 60000);
    /* a word2vec-style header, and no newline after the last row */
    buf h = {0};
    putf(&h, "40000 7\n");
    glove(&h, 40000, -1, 9);
    h.n--; /* the last "\n" (a "\r\n" leaves its "\r", a trailing blank) */
    assert_int_equal(same_rows(EMB_READ_TEXT, &h, "h.txt"), 40000);
    /* an error far past the first window: the same message, line number
     * included, after the same rows */
    size_t at = b.n - 5000;
    while (b.p[at] != '\n')
        at++;
    while (b.p[at] != ' ' && b.p[at] != '\t') /* the next line's first separator */
        at++;
    while (b.p[at] == ' ' || b.p[at] == '\t')
        at++;
    memcpy(b.p + at, "zz", 2); /* the start of its first value */
    int64_t before = same_rows(EMB_READ_TEXT, &b, "bad.txt");
    if (!(before > 50000 && before < 60000))
        fail_msg("%lld rows, then: %s", (long long)before, last_msg);
    assert_non_null(strstr(last_msg, "is not a number 'zz"));
    free(b.p);
    free(h.p);
}

/* word2vec binary: a header, then `token SP 4*dim bytes \n` per row. */
static void test_window_word2vec(void **state)
{
    (void)state;
    enum { DIM = 50, ROWS = 9000 };
    buf b = {0};
    putf(&b, "%d %d\n", ROWS, DIM);
    uint32_t seed = 11;
    for (int i = 0; i < ROWS; i++) {
        if (i == 4500)
            for (size_t k = 0; k < EMB_RD_WINDOW + 17; k++)
                put(&b, "y", 1);
        putf(&b, "w%d ", i);
        for (int j = 0; j < DIM; j++) {
            float v = ((int32_t)rnd(&seed) - (1 << 23)) / 65536.0f;
            put(&b, &v, 4);
        }
        if (i % 3)
            put(&b, "\n", 1);
    }
    assert_true(b.n > 2 * EMB_RD_WINDOW);
    assert_int_equal(same_rows(EMB_READ_WORD2VEC, &b, "w.bin"), ROWS);
    /* cut inside the last row: the same "needs N bytes of values" error */
    b.n -= 10;
    assert_int_equal(same_rows(EMB_READ_WORD2VEC, &b, "cut.bin"), ROWS - 1);
    assert_non_null(strstr(last_msg, "row 8999: needs 200 bytes of values"));
    free(b.p);
}

/* .npy: a header padded past a window (version 2: a u32 header length),
 * then rows; C order and Fortran order. */
static void npy(buf *b, int rows, int dim, int fortran, size_t header_pad)
{
    char dict[200];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': %s, 'shape': (%d, %d), }",
                     fortran ? "True" : "False", rows, dim);
    size_t hl = (size_t)k + header_pad + 1;
    hl += (64 - (12 + hl) % 64) % 64;
    put(b, "\x93NUMPY\x02\x00", 8);
    uint32_t h32 = (uint32_t)hl;
    put(b, &h32, 4);
    put(b, dict, (size_t)k);
    for (size_t i = (size_t)k; i < hl - 1; i++)
        put(b, " ", 1);
    put(b, "\n", 1);
    uint32_t seed = 5;
    for (long i = 0; i < (long)rows * dim; i++) {
        float v = ((int32_t)rnd(&seed) - (1 << 23)) / 4096.0f;
        put(b, &v, 4);
    }
}

static void test_window_npy(void **state)
{
    (void)state;
    buf c = {0}, f = {0}, h = {0};
    npy(&c, 3001, 301, 0, 0); /* rows of 1204 bytes: most windows end inside a row */
    assert_true(c.n > 3 * EMB_RD_WINDOW);
    assert_int_equal(same_rows(EMB_READ_NPY, &c, "c.npy"), 3001);
    npy(&f, 1500, 300, 1, 0);
    assert_int_equal(same_rows(EMB_READ_NPY, &f, "f.npy"), 1500);
    npy(&h, 700, 64, 0, EMB_RD_WINDOW + 1000);
    assert_int_equal(same_rows(EMB_READ_NPY, &h, "h.npy"), 700);
    /* one byte short: the same size error at open */
    c.n--;
    assert_int_equal(same_rows(EMB_READ_NPY, &c, "short.npy"), 0);
    assert_non_null(strstr(last_msg, "data is 3613203 bytes"));
    free(c.p);
    free(f.p);
    free(h.p);
}

/* safetensors: a 1.5 MB tensor "pad" first, then "wte" (rows x dim f32). */
static void test_window_safetensors(void **state)
{
    (void)state;
    enum { ROWS = 3000, DIM = 200, PAD = 1500000 };
    char hdr[300];
    size_t wte = (size_t)ROWS * DIM * 4;
    int k = snprintf(hdr, sizeof hdr,
                     "{\"pad\":{\"dtype\":\"U8\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
                     "\"wte\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%d,%zu]}}",
                     PAD, PAD, ROWS, DIM, PAD, PAD + wte);
    buf b = {0};
    uint64_t hl = (uint64_t)k;
    put(&b, &hl, 8);
    put(&b, hdr, (size_t)k);
    uint32_t seed = 3;
    for (int i = 0; i < PAD; i++) {
        unsigned char c = (unsigned char)rnd(&seed);
        put(&b, &c, 1);
    }
    for (size_t i = 0; i < wte / 4; i++) {
        float v = ((int32_t)rnd(&seed) - (1 << 23)) / 1024.0f;
        put(&b, &v, 4);
    }
    assert_int_equal(same_rows_of(EMB_READ_SAFETENSORS, &b, "m.safetensors", "wte"), ROWS);
    free(b.p);
}

static void gguf_str(buf *b, const char *s)
{
    uint64_t n = strlen(s);
    put(b, &n, 8);
    put(b, s, n);
}

/* GGUF v3, no metadata: "pad" (1.2 MB of f32) then token_embd.weight,
 * rows x dim of type `type` (0 = F32, 8 = Q8_0). */
static void gguf(buf *b, uint32_t type, int rows, int dim)
{
    uint32_t u32;
    uint64_t u64;
    put(b, "GGUF", 4);
    u32 = 3;
    put(b, &u32, 4);
    u64 = 2; /* tensors */
    put(b, &u64, 8);
    u64 = 0; /* metadata pairs */
    put(b, &u64, 8);
    const uint64_t pad_n = 300000;
    gguf_str(b, "pad");
    u32 = 1;
    put(b, &u32, 4);
    put(b, &pad_n, 8);
    u32 = 0;
    put(b, &u32, 4);
    u64 = 0;
    put(b, &u64, 8);
    gguf_str(b, "token_embd.weight");
    u32 = 2;
    put(b, &u32, 4);
    u64 = (uint64_t)dim;
    put(b, &u64, 8);
    u64 = (uint64_t)rows;
    put(b, &u64, 8);
    put(b, &type, 4);
    u64 = pad_n * 4; /* a multiple of the 32-byte alignment */
    put(b, &u64, 8);
    while (b->n % 32)
        put(b, "", 1);
    uint32_t seed = 17;
    for (uint64_t i = 0; i < pad_n; i++) {
        float v = (float)i;
        put(b, &v, 4);
    }
    for (long i = 0; i < (long)rows * dim / (type ? 32 : 1); i++) {
        if (type == 0) {
            float v = ((int32_t)rnd(&seed) - (1 << 23)) / 2048.0f;
            put(b, &v, 4);
        } else { /* Q8_0 block: f16 scale, 32 int8 */
            uint16_t d = (uint16_t)(0x2000 + rnd(&seed) % 0x1000);
            put(b, &d, 2);
            for (int j = 0; j < 32; j++) {
                signed char q = (signed char)(rnd(&seed) % 255 - 127);
                put(b, &q, 1);
            }
        }
    }
}

static void test_window_gguf(void **state)
{
    (void)state;
    buf f = {0}, q = {0};
    gguf(&f, 0, 4000, 96); /* 1.5 MB of rows from byte ~1.2 MB */
    assert_true(f.n > 2 * EMB_RD_WINDOW);
    assert_int_equal(same_rows(EMB_READ_GGUF, &f, "f.gguf"), 4000);
    gguf(&q, 8, 12000, 128); /* Q8_0: 136-byte rows, 1.6 MB */
    assert_int_equal(same_rows(EMB_READ_GGUF, &q, "q.gguf"), 12000);
    /* cut inside the tensor: the open refuses it (the tensor must end in the file) */
    q.n -= 100;
    assert_int_equal(same_rows(EMB_READ_GGUF, &q, "cut.gguf"), 0);
    assert_non_null(strstr(last_msg, "extends past the end of the file"));
    free(f.p);
    free(q.p);
}

/* emb_map_slide itself: the bytes held are always the file's bytes at
 * [off, off + n); dropping moves off; the room grows for a larger want;
 * at the end of the file it holds what is left. */
static void test_window_map_slide(void **state)
{
    (void)state;
    buf b = {0};
    uint32_t seed = 1;
    for (int i = 0; i < 3000000; i++) {
        unsigned char c = (unsigned char)rnd(&seed);
        put(&b, &c, 1);
    }
    char path[700];
    to_file(&b, "slide.bin", path, sizeof path);
    emb_map m;
    emb_err err = {0, ""};
    assert_int_equal(emb_map_open_prefix(&m, path, 1000, "t", "slide.bin", &err), EMB_OK);
    assert_int_equal(m.n, 1000);
    struct {
        size_t drop, want, off, n;
    } steps[] = {
        {0, 500, 0, 1000},             /* held already: nothing read */
        {400, 500, 400, 600},          /* drop only */
        {100, 5000, 500, 5000},        /* grows the room to 5000 and fills it */
        {4999, 10, 5499, 5000},        /* keeps 1, fills the room */
        {0, 2000000, 5499, 2000000},   /* grows again */
        {1999999, 2000000, 2005498, 994502}, /* the rest of the file, short of want */
        {994502, 10, 3000000, 0},      /* all dropped at the end */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        assert_int_equal(emb_map_slide(&m, steps[i].drop, steps[i].want, "t", "slide.bin", &err),
                         EMB_OK);
        assert_int_equal(m.off, steps[i].off);
        assert_int_equal(m.n, steps[i].n);
        if (m.n)
            assert_memory_equal(m.data, b.p + m.off, m.n);
    }
    assert_int_equal(m.has_fd, 0); /* all read: the file is closed */
    emb_map_close(&m);
    unlink(path);
    free(b.p);
}

int main(void)
{
    const char *t = getenv("EMB_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_map_slide),
        cmocka_unit_test(test_window_text),
        cmocka_unit_test(test_window_word2vec),
        cmocka_unit_test(test_window_npy),
        cmocka_unit_test(test_window_safetensors),
        cmocka_unit_test(test_window_gguf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
