/* test_tok.c - tokenizer.json rules on tiny hand-made vocabularies (ids
 * worked out by hand from tokenizers' BPE rules), the variants refused by
 * name with their messages, and every truncated prefix of a valid file
 * rejected cleanly.  The corpus-wide checks against the real tokenizers are
 * the SQL tests tests/sql/tok_*_ref.sql. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"

#define SP "\xE2\x96\x81"

/* vocab: <unk> ▁ a b ▁a ab <0xC3> <0xA9> ▁ab b▁; merges b+▁, ▁+a, a+b, ▁a+b */
#define CBPE_MODEL(extra)                                                                            \
    "\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"byte_fallback\": true, " extra    \
    "\"vocab\": {\"<unk>\": 0, \"" SP "\": 1, \"a\": 2, \"b\": 3, \"" SP "a\": 4, \"ab\": 5, "     \
    "\"<0xC3>\": 6, \"<0xA9>\": 7, \"" SP "ab\": 8, \"b" SP "\": 9}, "                             \
    "\"merges\": [\"b " SP "\", \"" SP " a\", [\"a\", \"b\"], \"" SP "a b\"]}"

static const char legacy_json[] =
    "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", \"prepend\": \"" SP "\"},"
    " {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"" SP "\"}]},"
    " \"pre_tokenizer\": null,"
    " \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": {\"String\": \"" SP "\"},"
    " \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"},"
    " {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}]},"
    " \"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true}],"
    CBPE_MODEL("\"fuse_unk\": true, ") "}";

static const char meta_json[] =
    "{\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"" SP "\", \"prepend_scheme\": \"first\","
    " \"split\": true}, \"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"" SP "\"},"
    CBPE_MODEL("\"fuse_unk\": false, ") "}";

/* byte level: Ġ h i Ġh hi Ġhi <|e|>; merges Ġ+h, Ġh+i; EOS by template */
static const char bl_json[] =
    "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\","
    " \"add_prefix_space\": true, \"use_regex\": true}]}, \"decoder\": {\"type\": \"ByteLevel\"},"
    " \"added_tokens\": [{\"id\": 6, \"content\": \"<|e|>\", \"special\": true}],"
    " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"Sequence\": {\"id\": \"A\"}},"
    " {\"SpecialToken\": {\"id\": \"<|e|>\", \"type_id\": 0}}]},"
    " \"model\": {\"type\": \"BPE\", \"vocab\": {\"\\u0120\": 0, \"h\": 1, \"i\": 2, \"\\u0120h\": 3,"
    " \"hi\": 4, \"\\u0120hi\": 5}, \"merges\": [\"\\u0120 h\", \"\\u0120h i\"]}}";

static emb_tok *load(const char *json)
{
    emb_tok *t = NULL;
    emb_err err;
    if (emb_tok_load((const uint8_t *)json, strlen(json), &t, &err) != EMB_OK)
        fail_msg("load: %s", err.msg);
    return t;
}

static void expect_ids(const emb_tok *t, const char *text, int add, const int32_t *want, size_t n_want)
{
    int32_t *ids = NULL;
    size_t n = 0;
    emb_err err;
    assert_int_equal(emb_tok_encode(t, text, strlen(text), add, add, 0, &ids, &n, &err), EMB_OK);
    char got[256] = "", exp[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%d,", (int)ids[i]);
    for (size_t i = 0; i < n_want; i++)
        snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%d,", (int)want[i]);
    if (strcmp(got, exp) != 0)
        fail_msg("'%s': got [%s] want [%s]", text, got, exp);
    free(ids);
}
#define IDS(t, text, add, ...)                                                                      \
    do {                                                                                            \
        static const int32_t w_[] = {__VA_ARGS__};                                                  \
        expect_ids(t, text, add, w_, sizeof w_ / sizeof w_[0]);                                     \
    } while (0)

static void expect_text(const emb_tok *t, const int32_t *ids, size_t n, const char *want)
{
    char *out = NULL;
    size_t n_out = 0;
    emb_err err;
    assert_int_equal(emb_tok_decode(t, ids, n, &out, &n_out, &err), EMB_OK);
    assert_string_equal(out, want);
    free(out);
}

static void test_tok_hf_legacy(void **state)
{
    (void)state;
    emb_tok *t = load(legacy_json);
    assert_int_equal(emb_tok_kind(t), EMB_TOK_CBPE);
    assert_string_equal(emb_tok_model(t), "bpe");
    assert_int_equal(emb_tok_format(t), EMB_TOK_FMT_HF);
    assert_int_equal(emb_tok_n_tokens(t), 10);
    IDS(t, "ab", 0, 8);                /* ▁ab: ▁+a, then ▁a+b */
    IDS(t, "ab a", 0, 4, 9, 2);        /* ▁ab▁a: b+▁ first (rank 0) crosses the word */
    IDS(t, " ab", 0, 1, 8);            /* Prepend always: ▁▁ab */
    IDS(t, "\xC3\xA9", 0, 1, 6, 7);    /* é is no token: its bytes */
    IDS(t, "x", 0, 1, 0);              /* no token, no byte tokens: <unk> */
    IDS(t, "xy", 0, 1, 0);             /* fuse_unk */
    IDS(t, "xy\xC3\xA9", 0, 1, 6, 7, 0); /* tokenizers puts the held-back <unk> after the bytes */
    expect_ids(t, "", 0, NULL, 0);      /* nothing: Prepend leaves "" alone */
    const int32_t d1[] = {8}, d2[] = {1, 6, 7}, d3[] = {0, 4, 9, 2};
    expect_text(t, d1, 1, "ab");
    expect_text(t, d2, 3, "\xC3\xA9");
    expect_text(t, d3, 4, "ab a"); /* <unk> is special: nothing */
    emb_tok_free(t);
}

static void test_tok_hf_metaspace(void **state)
{
    (void)state;
    emb_tok *t = load(meta_json);
    IDS(t, "ab a", 0, 8, 4);           /* split: ▁ab | ▁a */
    IDS(t, " ab", 0, 8);               /* starts with ▁ already: no prepend */
    IDS(t, "xy", 0, 1, 0, 0);          /* no fuse_unk */
    const int32_t d1[] = {8, 4};
    expect_text(t, d1, 2, "ab a");
    emb_tok_free(t);
}

static void test_tok_hf_bytelevel(void **state)
{
    (void)state;
    emb_tok *t = load(bl_json);
    assert_int_equal(emb_tok_kind(t), EMB_TOK_BPE);
    assert_int_equal(emb_tok_eos(t), 6);
    IDS(t, "hi", -1, 5, 6);            /* add_prefix_space, then the template's EOS */
    IDS(t, "hi", 0, 5);
    IDS(t, " hi", 0, 5);
    IDS(t, "hi hi", 0, 5, 5);
    const int32_t d1[] = {5, 5, 6};
    expect_text(t, d1, 3, " hi hi");
    emb_tok_free(t);
}

static void expect_refused(const char *json, int code, const char *msg)
{
    emb_tok *t = NULL;
    emb_err err = {0, ""};
    int rc = emb_tok_load((const uint8_t *)json, strlen(json), &t, &err);
    if (rc != code || strcmp(err.msg, msg) != 0)
        fail_msg("%s\n  got %d '%s'\n want %d '%s'", json, rc, err.msg, code, msg);
    assert_null(t);
}

static void test_tok_hf_refused(void **state)
{
    (void)state;
    expect_refused("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}", EMB_EUNSUP,
                   "tokenizer.json: model type 'WordPiece' is not supported (expected 'BPE')");
    expect_refused("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0]]}}", EMB_EUNSUP,
                   "tokenizer.json: model type 'Unigram' is not supported (expected 'BPE')");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"x\"}},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: pre_tokenizer Split is not supported (expected ByteLevel or Metaspace, or none)");
    expect_refused("{\"normalizer\": {\"type\": \"NFKC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: normalizer NFKC is not supported (expected Prepend \"" SP "\" and Replace \" \" -> \""
                   SP "\", or none)");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"ignore_merges\": true,"
                   " \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: model.ignore_merges true is not supported");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"dropout\": 0.1,"
                   " \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: model.dropout is not supported (expected null or 0)");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\","
                   " \"continuing_subword_prefix\": \"##\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: model.continuing_subword_prefix is not supported (expected null or \"\")");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": false}, \"model\": {\"type\": \"BPE\","
                   " \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: pre_tokenizer ByteLevel with use_regex false is not supported");
    expect_refused("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: this combination of normalizer, pre_tokenizer and decoder is not supported "
                   "(expected ByteLevel, or Metaspace / Replace \" \" -> \"" SP "\")");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"decoder\": {\"type\": \"WordPiece\"},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: decoder WordPiece is not supported");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"post_processor\": {\"type\": \"BertProcessing\"},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: post_processor BertProcessing is not supported");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\","
                   " \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}", EMB_EFORMAT,
                   "tokenizer.json: merge 0: 'a' + 'b' is not in vocab (at byte 104)");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\","
                   " \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", EMB_EFORMAT,
                   "tokenizer.json: token id 0 has two different texts");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\","
                   " \"vocab\": {\"a\": -1}, \"merges\": []}}", EMB_ERANGE,
                   "tokenizer.json: token id -1 out of range 0..4194303 (at byte 81)");
    /* Sequences: one part of each kind at depth 1, refused inside */
    expect_refused("{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"},"
                   " {\"type\": \"ByteLevel\"}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                   EMB_EUNSUP, "tokenizer.json: a pre_tokenizer Sequence of more than one is not supported");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"post_processor\": {\"type\": \"Sequence\","
                   " \"processors\": [{\"type\": \"ByteLevel\"}, {\"type\": \"BertProcessing\"}]},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: post_processor BertProcessing is not supported");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"decoder\": {\"type\": \"Sequence\","
                   " \"decoders\": [{\"type\": \"Sequence\", \"decoders\": []}]},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: decoder Sequence is not supported");
    expect_refused("{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Lowercase\"}]},"
                   " \"pre_tokenizer\": {\"type\": \"ByteLevel\"},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EUNSUP,
                   "tokenizer.json: normalizer Lowercase is not supported (expected Prepend \"" SP "\" and Replace \" \" -> \""
                   SP "\", or none)");
    expect_refused("{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [1, 2]},"
                   " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", EMB_EFORMAT,
                   "tokenizer.json: expected an object (at byte 57)");
    expect_refused("{\"model\": 1}", EMB_EFORMAT, "tokenizer.json: expected an object (at byte 10)");
    expect_refused("{}", EMB_ENOTFOUND, "tokenizer.json: no model");
    expect_refused("not json", EMB_EFORMAT,
                   "tok: not a tokenizer (expected a GGUF file or a tokenizer.json object)");
}

/* Every prefix of a valid file shorter than it fails cleanly (ASan build:
 * no read past the prefix). */
static void test_tok_truncated(void **state)
{
    (void)state;
    const char *files[] = {legacy_json, meta_json, bl_json};
    for (size_t f = 0; f < 3; f++) {
        size_t n = strlen(files[f]);
        for (size_t k = 0; k < n; k++) {
            char *p = malloc(k ? k : 1);
            memcpy(p, files[f], k);
            emb_tok *t = NULL;
            emb_err err;
            int rc = emb_tok_load((const uint8_t *)p, k, &t, &err);
            if (rc == EMB_OK)
                fail_msg("file %zu: prefix of %zu bytes loaded", f, k);
            assert_null(t);
            free(p);
        }
    }
}

/* More tokens than max_tokens: EMB_ERANGE and the message. */
static void test_tok_max_tokens(void **state)
{
    (void)state;
    emb_tok *t = load(meta_json); /* "ab ab ab" -> 3 tokens */
    int32_t *ids = NULL;
    size_t n = 0;
    emb_err err;
    assert_int_equal(emb_tok_encode(t, "ab ab ab", 8, 0, 0, 2, &ids, &n, &err), EMB_ERANGE);
    assert_string_equal(err.msg, "tok: the text gives more than 2 tokens");
    assert_null(ids);
    assert_int_equal(emb_tok_encode(t, "ab ab ab", 8, 0, 0, 3, &ids, &n, &err), EMB_OK);
    assert_int_equal(n, 3);
    free(ids);
    emb_tok_free(t);
}

/* The word cache gives what encoding gives, and a cache passed with
 * another tokenizer forgets the first one's words. */
static void test_tok_cache(void **state)
{
    (void)state;
    emb_tok *a = load(legacy_json), *b = load(meta_json);
    emb_tok_cache *c = emb_tok_cache_new();
    assert_non_null(c);
    const char *texts[] = {"ab a", "ab a", "xy\xC3\xA9 ab", "xy\xC3\xA9 ab"};
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 4; i++) {
            emb_tok *t = round ? b : a;
            int32_t *x = NULL, *y = NULL;
            size_t nx = 0, ny = 0;
            emb_err err;
            size_t n = strlen(texts[i]);
            assert_int_equal(emb_tok_encode(t, texts[i], n, 0, 0, 0, &x, &nx, &err), EMB_OK);
            assert_int_equal(emb_tok_encode_cached(t, c, texts[i], n, 0, 0, 0, &y, &ny, &err), EMB_OK);
            assert_int_equal(nx, ny);
            assert_memory_equal(x, y, nx * sizeof *x);
            free(x);
            free(y);
        }
    emb_tok_cache_free(c);
    emb_tok_cache_free(NULL);
    emb_tok_free(a);
    emb_tok_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_hf_legacy),
        cmocka_unit_test(test_tok_hf_metaspace),
        cmocka_unit_test(test_tok_hf_bytelevel),
        cmocka_unit_test(test_tok_hf_refused),
        cmocka_unit_test(test_tok_truncated),
        cmocka_unit_test(test_tok_max_tokens),
        cmocka_unit_test(test_tok_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
