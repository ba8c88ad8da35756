/* test_read_tokens.c - vocabulary files as the token column
 * (emb_reader_set_tokens): each format's rules and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers/reader.h"

/* A 4 x 2 f32 .npy in memory (rows known: 4). */
static emb_reader *npy4(void)
{
    static unsigned char buf[128 + 32];
    const char *head = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }";
    memset(buf, 0, sizeof buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = 118;
    memset(buf + 10, ' ', 118);
    memcpy(buf + 10, head, strlen(head));
    buf[127] = '\n';
    emb_reader *r;
    emb_err err;
    if (emb_reader_open_mem(EMB_READ_NPY, buf, sizeof buf, "m.npy", NULL, &r, &err))
        fail_msg("%s", err.msg);
    return r;
}

static char tmp_path[256];

static const char *write_tmp(const char *name, const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "%s/emb_tok_%d_%s",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), name);
    FILE *f = fopen(tmp_path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return tmp_path;
}

/* The tokens of the 4 rows joined by '|' ("NULL" for none), or the error. */
static void expect_tokens(const char *name, const char *text, const char *want)
{
    emb_reader *r = npy4();
    emb_err err;
    const char *path = write_tmp(name, text);
    int rc = emb_reader_set_tokens(r, path, &err);
    unlink(path);
    char got[512] = "";
    if (rc) {
        snprintf(got, sizeof got, "%s", err.msg);
    } else {
        int64_t id;
        const char *tok;
        size_t len;
        const float *v;
        while (emb_reader_next(r, &id, &tok, &len, &v, &err) == EMB_OK) {
            size_t n = strlen(got);
            snprintf(got + n, sizeof got - n, "%s%.*s", id ? "|" : "", tok ? (int)len : 4,
                     tok ? tok : "NULL");
        }
    }
    emb_reader_free(r);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", name, got, want);
}

static void test_tokens_formats(void **state)
{
    (void)state;
    expect_tokens("a.txt", "a\nb\r\n\nd\n", "a|b||d");
    expect_tokens("b.txt", "x\ny", "x|y|NULL|NULL");
    expect_tokens("c.json", "{\"\\u0120hi\": 1, \"a\": 0, \"\\ud83d\\ude00\": 3}",
                  "a|\xc4\xa0hi|NULL|\xf0\x9f\x98\x80");
    /* tokenizer.json: added_tokens come first in the file but win */
    expect_tokens("d.json",
                  "{\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true},"
                  " {\"id\": 3, \"content\": \"<new>\"}],"
                  " \"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"b\": 1, \"c\": 2},"
                  " \"merges\": [\"b c\"]}}",
                  "<s>|b|c|<new>");
    expect_tokens("e.json",
                  "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0,"
                  " \"vocab\": [[\"<unk>\", 0.0], [\"\\u2581the\", -1.5e0], [\"s\", -3]]}}",
                  "<unk>|\xe2\x96\x81the|s|NULL");
    /* the same piece twice under one id is fine; duplicates of an id are not */
    expect_tokens("f.json", "{\"a\": 0, \"a\": 0}", "a|NULL|NULL|NULL");
}

static void test_tokens_errors(void **state)
{
    (void)state;
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    static const struct {
        const char *name, *text, *msg;
    } cases[] = {
        {"g.json", "{\"a\": 0, \"b\": 0}",
         "token id 0 is given to two pieces, 'a' and 'b' (at byte 9)"},
        {"h.json", "{\"a\": 4}", "token id 4 out of range: the matrix has 4 rows (at byte 1)"},
        {"i.json", "{\"a\": -1}", "token id -1 out of range: the matrix has 4 rows (at byte 1)"},
        {"j.json", "{\"a\": 1.5}", "malformed JSON: expected an integer (at byte 6)"},
        {"k.json", "{\"a\": 1,}", "malformed JSON: expected a string (at byte 8)"},
        {"l.json", "{\"x\": \"y\"}",
         "no vocabulary (expected a tokenizer.json with model.vocab, or a vocab.json object of "
         "piece: id)"},
        {"m.json", "{\"model\": {\"vocab\": [\"a\"]}}",
         "malformed JSON: expected a [piece, score] pair (at byte 21)"},
        {"n.json", "{\"added_tokens\": [{\"id\": 1}], \"model\": {\"vocab\": {}}}",
         "added_tokens entry without id and content (at byte 18)"},
        {"o.txt", "a\n\xc3\n", "token 1 is not valid UTF-8 (at line 2)"},
        {"p.txt", "a\nb\nc\nd\ne\n", "token id 4 out of range: the matrix has 4 rows (at line 5)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[512];
        snprintf(want, sizeof want, "tokens: tokens file emb_tok_%s_%s: %s", pid, cases[i].name,
                 cases[i].msg);
        expect_tokens(cases[i].name, cases[i].text, want);
    }
    emb_reader *r = npy4();
    emb_err err;
    assert_int_equal(emb_reader_set_tokens(r, "/nonexistent/v.txt", &err), EMB_EIO);
    assert_string_equal(err.msg, "tokens: tokens file /nonexistent/v.txt: cannot open (No such file or directory)");
    emb_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_formats),
        cmocka_unit_test(test_tokens_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
