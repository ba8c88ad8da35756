/*
 * fuzz_sql.c - libFuzzer target: SQL statements built from a small grammar
 * over every emb_ function, every table-valued function and the embedding
 * virtual table, run on an in-memory database.
 *
 *   sh tests/fuzz/run.sh 30          (builds build/fuzz/fuzz_sql with embext linked in)
 *   FUZZ_VERBOSE=1 build/fuzz/fuzz_sql CRASH_FILE   (prints the statements of one input)
 *
 * The input bytes are a stream of choices (fuzz_pick): which statement,
 * which function, how many arguments, and each argument from a pool of
 * awkward values: NULLs, wrong types, INT64 limits, NaN/inf, empty and
 * odd-length blobs, vectors of mismatched dims, deep and huge JSON, invalid
 * UTF-8 and NUL bytes in tokens, huge and negative k, tables that do not
 * exist or are shadow tables.  Writes (INSERT / UPDATE / DELETE, also while
 * a read cursor is open), DDL (CREATE / DROP / RENAME) and transactions
 * (BEGIN / COMMIT / ROLLBACK / SAVEPOINT / ROLLBACK TO) are mixed with reads.
 *
 * (emb_import_gguf and emb_tokenizer_load write tables too.)
 *
 * Each input starts from the same image (made once in LLVMFuzzerInitialize):
 * tables w32 (f32, dim 4), w16 (f16, dot), wbf (bf16, dim 3, l2), w8 (int8,
 * chunk_rows 2), wtok (stories260k, 512 x 64, with its tokenizer), wuni
 * (tests/fixtures/keyed/unicase-4d.txt).
 *
 * Files: the functions that read files only ever get names from a fixed list
 * of fixtures that LLVMFuzzerInitialize copies into a fresh temporary
 * directory, which becomes the working directory; every string the fuzzer
 * makes up has its '/' bytes replaced, so no generated name can leave that
 * directory (and a name without '/' is relative to it).
 */
#include "fuzz_db.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <unistd.h>

/* ---- choice stream --------------------------------------------------- */

/* Src and fuzz_pick: fuzz_db.h */

static uint32_t fuzz_u32(Src *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fuzz_pick(s, 256);
    return v;
}

/* ---- growable SQL text ----------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort(); /* the harness itself: no recovery needed */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void buf_fmt(Buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void buf_hex(Buf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_str(b, "x'");
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        buf_add(b, h, 2);
    }
    buf_str(b, "'");
}

/* ---- pools ------------------------------------------------------------- */

static const char *const tables[] = {
    "w32", "w16", "wbf", "w8", "wtok", "wuni", "wnew", "wnew2", "nosuch", "", "w32_config",
    "w32_chunks", "plain", "sqlite_master", "main.w32", "W32", "temp.w32",
};
static const int table_dims[] = {4, 4, 3, 4, 64, 4, 4, 4};
#define N_TABLES (sizeof tables / sizeof tables[0])
#define N_REAL_TABLES 8 /* the embedding tables that may exist */

/* the dim of the table the current statement names (vectors mostly match it) */
static int cur_dim = 4;

/* a table name: mostly one that exists */
static const char *pick_table(Src *s)
{
    unsigned i = fuzz_pick(s, 4) ? fuzz_pick(s, N_REAL_TABLES) : fuzz_pick(s, N_TABLES);
    if (i < N_REAL_TABLES)
        cur_dim = table_dims[i];
    return tables[i];
}

static const char *const paths[] = {
    "glove.txt", "header.vec", "badutf8.txt", "empty.txt", "nan.txt", "ragged.txt",
    "v1_f4.npy", "v3_f2.npy", "fortran.npy", "truncated.npy", "v3.gguf", "q8_0.gguf",
    "truncated.gguf", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
    "tokenizer.json", "vocab.txt", "vocab.json", "bad_json.safetensors", "unicase-4d.txt",
    "unicase-pairs.tsv", "questions-lf.txt", "w2v.bin", "missing.txt", ".", "",
};
#define N_PATHS (sizeof paths / sizeof paths[0])

static const char *const words[] = {
    "'3cosadd'", "'3cosmul'", "'neox'", "'gptj'", "'sum'", "'mean'", "'max'", "'none'",
    "'sinusoidal'", "'rope'", "'rope:gptj'", "'rope:neox'", "'cosine'", "'dot'", "'l2'",
    "'f32'", "'f16'", "'bf16'", "'int8'", "'token_embd.weight'", "'model.embed_tokens.weight'",
    "'a'", "'b'", "'c'", "'king'", "'queen'", "'▁the'", "'x'", "'COSINE'", "''",
};
#define N_WORDS (sizeof words / sizeof words[0])

/* (no 16777215, the largest token_id: one row there makes the in-memory copy
 * 16.7 M slots, seconds under ASan, which libFuzzer reports as a timeout;
 * 1048575 takes the same path at a sixteenth of the cost) */
static const char *const numbers[] = {
    "0", "1", "-1", "2", "3", "4", "5", "7", "8", "10", "64", "100", "511", "512", "4096",
    "65535", "65536", "65537", "1048575", "16777216", "2147483647", "-2147483648",
    "4294967296", "9223372036854775807", "-9223372036854775808", "0.5", "-0.0", "1e-45",
    "1e38", "3.5e38", "1e308", "-1e308", "1e999", "-1e999", "0.000001", "1000000", "-3",
};
#define N_NUMBERS (sizeof numbers / sizeof numbers[0])

/* floats that go into vectors, as text for JSON and as bits for blobs */
static const char *const elems[] = {"0", "1", "-1", "0.5", "2", "-3.25", "100", "1e-40",
                                    "65504", "70000", "3.4e38", "1e39", "NaN", "Infinity",
                                    "-Infinity", "1e999", "\"1\"", "null", "true", "[1]", "{}"};
static const uint32_t elem_bits[] = {0x00000000, 0x3f800000, 0xbf800000, 0x3f000000,
                                     0x40000000, 0xc0500000, 0x42c80000, 0x00000001,
                                     0x477fe000, 0x4788b800, 0x7f7fc99e, 0x7f800000,
                                     0x7fc00000, 0xff800000, 0x80000000, 0x7fa00000};
#define N_ELEMS (sizeof elems / sizeof elems[0])
#define N_ELEM_BITS (sizeof elem_bits / sizeof elem_bits[0])

static const int dims[] = {1, 2, 3, 4, 4, 4, 5, 8, 64, 63, 0, 65536, 65537};
#define N_DIMS (sizeof dims / sizeof dims[0])

/* ---- values -------------------------------------------------------------- */

static void gen_value(Src *s, Buf *b, int depth);

/* a string literal of fuzzer bytes, '/' replaced, quotes doubled; as TEXT
 * through a blob cast so invalid UTF-8 and NUL bytes get through */
static void gen_raw_text(Src *s, Buf *b)
{
    uint8_t tmp[64];
    size_t n = fuzz_pick(s, sizeof tmp);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = (uint8_t)fuzz_pick(s, 256);
        if (tmp[i] == '/')
            tmp[i] = '_';
    }
    buf_str(b, "cast(");
    buf_hex(b, tmp, n);
    buf_str(b, " as text)");
}

static void gen_vec_json(Src *s, Buf *b, int dim)
{
    buf_str(b, "'[");
    for (int i = 0; i < dim; i++) {
        if (i)
            buf_str(b, ",");
        unsigned e = fuzz_pick(s, N_ELEMS + 8);
        if (e < N_ELEMS)
            buf_str(b, elems[e][0] == '"' ? "\"\"1\"\"" : elems[e]);
        else
            buf_fmt(b, "%d", (int)e - (int)N_ELEMS - 3);
    }
    buf_str(b, "]'");
}

static void gen_vec_blob(Src *s, Buf *b, int dim)
{
    if (dim > 70000)
        dim = 70000;
    size_t n = (size_t)dim * 4;
    uint8_t *tmp = malloc(n ? n : 1);
    if (!tmp)
        abort();
    for (int i = 0; i < dim; i++) {
        unsigned e = fuzz_pick(s, N_ELEM_BITS + 8);
        uint32_t bits = e < N_ELEM_BITS ? elem_bits[e] : 0x3f800000u + (e << 20);
        memcpy(tmp + 4 * i, &bits, 4);
    }
    buf_hex(b, tmp, n);
    free(tmp);
}

static void gen_vector(Src *s, Buf *b, int depth)
{
    unsigned c = fuzz_pick(s, 12);
    int dim = fuzz_pick(s, 2) ? cur_dim : dims[fuzz_pick(s, N_DIMS)];
    switch (c) {
    case 0: case 1: case 2: case 3:
        gen_vec_json(s, b, dim > 100 ? 4 : dim);
        break;
    case 4: case 5: case 6:
        gen_vec_blob(s, b, dim);
        break;
    case 7: /* odd length and empty blobs */
        buf_str(b, fuzz_pick(s, 2) ? "x''" : "x'0000803f00'");
        break;
    case 8: /* a stored row */
        buf_fmt(b, "(select vector from %s where token_id = %u)", tables[fuzz_pick(s, 5)],
                fuzz_pick(s, 8));
        break;
    case 9:
        buf_fmt(b, "emb_lookup('%s', %u)", tables[fuzz_pick(s, 5)], fuzz_pick(s, 8));
        break;
    case 10:
        buf_fmt(b, "zeroblob(%d)", dim * 4);
        break;
    default:
        gen_value(s, b, depth + 1);
    }
}

/* deep or wide JSON: nested arrays, long arrays, unterminated text */
static void gen_big_json(Src *s, Buf *b)
{
    static const int sizes[] = {10, 1000, 2001, 100000};
    int n = sizes[fuzz_pick(s, 4)];
    unsigned kind = fuzz_pick(s, 4);
    buf_str(b, "'");
    if (kind == 0) { /* deep */
        for (int i = 0; i < n; i++)
            buf_str(b, "[");
        buf_str(b, "1");
        for (int i = 0; i < n; i++)
            buf_str(b, "]");
    } else if (kind == 1) { /* deep, unclosed */
        for (int i = 0; i < n; i++)
            buf_str(b, "[");
    } else if (kind == 2) { /* wide */
        buf_str(b, "[");
        for (int i = 0; i < n; i++)
            buf_str(b, i ? ",1" : "1");
        buf_str(b, "]");
    } else { /* wide array of vectors */
        buf_str(b, "[");
        for (int i = 0; i < n / 4; i++)
            buf_str(b, i ? ",[1,0,0,1]" : "[1,0,0,1]");
        buf_str(b, "]");
    }
    buf_str(b, "'");
}

/* a JSON array of tokens, token ids and vectors */
static void gen_token_list(Src *s, Buf *b)
{
    unsigned n = fuzz_pick(s, 6);
    buf_str(b, "'[");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_str(b, ",");
        switch (fuzz_pick(s, 9)) {
        case 6: case 7: buf_fmt(b, "%u", fuzz_pick(s, 6)); break; /* mostly rows that exist */
        case 8: buf_str(b, fuzz_pick(s, 2) ? "\"café\"" : "\"straße\""); break;
        case 0: buf_fmt(b, "%u", fuzz_pick(s, 600)); break;
        case 1: buf_str(b, "-1"); break;
        case 2: buf_str(b, "[1,0,0,0]"); break;
        case 3: buf_str(b, "9223372036854775807"); break;
        case 4: buf_str(b, "\"\\ud800\""); break;
        default: {
            static const char *const toks[] = {"\"a\"", "\"b\"", "\"c\"", "\"king\"",
                                               "\"\"", "\"nosuch\"", "1.5", "null", "[]"};
            buf_str(b, toks[fuzz_pick(s, sizeof toks / sizeof toks[0])]);
        }
        }
    }
    buf_str(b, "]'");
}

/* the pure functions: name, arity range, and 'v' (vector) or 'n' (number)
 * for each argument position (the last letter repeats) */
static const struct {
    const char *name;
    unsigned char min_args, max_args;
    const char *kinds;
} scalar_fns[] = {
    {"emb_vec", 1, 1, "v"}, {"emb_json", 1, 1, "v"}, {"emb_dims", 1, 1, "v"},
    {"emb_norm", 1, 1, "v"}, {"emb_normalize", 1, 1, "v"}, {"emb_dot", 2, 2, "v"},
    {"emb_cosine", 2, 2, "v"}, {"emb_cosine_distance", 2, 2, "v"}, {"emb_l2", 2, 2, "v"},
    {"emb_add", 1, 6, "v"}, {"emb_sub", 2, 2, "v"}, {"emb_scale", 2, 2, "vn"},
    {"emb_pe", 2, 3, "n"}, {"emb_add_pe", 2, 3, "vn"}, {"emb_rope", 2, 4, "vnnw"},
    {"emb_isa", 0, 0, "n"}, {"emb_version", 0, 0, "n"},
};
#define N_SCALAR (sizeof scalar_fns / sizeof scalar_fns[0])

static void gen_scalar_call(Src *s, Buf *b, int depth)
{
    unsigned f = fuzz_pick(s, N_SCALAR);
    buf_str(b, scalar_fns[f].name);
    buf_str(b, "(");
    unsigned lo = scalar_fns[f].min_args, hi = scalar_fns[f].max_args;
    unsigned n = fuzz_pick(s, 8) == 0 ? fuzz_pick(s, 5) : lo + fuzz_pick(s, hi - lo + 1);
    const char *kinds = scalar_fns[f].kinds;
    size_t n_kinds = strlen(kinds);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_str(b, ", ");
        char k = kinds[i < n_kinds ? i : n_kinds - 1];
        if (fuzz_pick(s, 6) == 0 || depth > 3)
            gen_value(s, b, depth + 1);
        else if (k == 'v')
            gen_vector(s, b, depth + 1);
        else if (k == 'w')
            buf_str(b, words[fuzz_pick(s, N_WORDS)]);
        else
            buf_str(b, numbers[fuzz_pick(s, N_NUMBERS)]);
    }
    buf_str(b, ")");
}

static void gen_value(Src *s, Buf *b, int depth)
{
    unsigned c = fuzz_pick(s, depth > 3 ? 8 : 13);
    switch (c) {
    case 0: buf_str(b, "NULL"); break;
    case 1: case 2: buf_str(b, numbers[fuzz_pick(s, N_NUMBERS)]); break;
    case 3: buf_str(b, words[fuzz_pick(s, N_WORDS)]); break;
    case 4: gen_raw_text(s, b); break;
    case 5: {
        int dim = dims[fuzz_pick(s, N_DIMS)];
        if (fuzz_pick(s, 2))
            gen_vec_json(s, b, dim > 100 ? 3 : dim);
        else
            gen_vec_blob(s, b, dim > 100 ? 3 : dim);
        break;
    }
    case 6: gen_token_list(s, b); break;
    case 7: buf_fmt(b, "%d", (int)fuzz_u32(s)); break;
    case 8: gen_big_json(s, b); break;
    case 9: gen_scalar_call(s, b, depth); break;
    case 10: gen_vector(s, b, depth); break;
    case 11: buf_fmt(b, "'%s'", pick_table(s)); break;
    default: buf_fmt(b, "'%s'", paths[fuzz_pick(s, N_PATHS)]); break;
    }
}

/* ---- table-valued and table functions ------------------------------------ */

enum { A_ANY, A_TABLE, A_VEC, A_TOKS, A_TOK, A_INT, A_WORD, A_IDS, A_TENSOR, A_TOKTABLE, A_TEXT, A_NEWTABLE,
       /* file names: A_PATH_x prefers the fixtures that suit the function */
       A_PATH, A_PATH_TEXT, A_PATH_W2V, A_PATH_NPY, A_PATH_ST, A_PATH_GGUF, A_PATH_VOCAB,
       A_PATH_PAIRS, A_PATH_ANALOGY, A_PATH_TOKZ };
static const unsigned char path_pref[][6] = {
    [A_PATH_TEXT - A_PATH] = {0, 1, 2, 4, 5, 19},
    [A_PATH_W2V - A_PATH] = {22, 22, 22, 1, 3, 12},
    [A_PATH_NPY - A_PATH] = {6, 7, 8, 9, 6, 7},
    [A_PATH_ST - A_PATH] = {13, 14, 13, 18, 14, 13},
    [A_PATH_GGUF - A_PATH] = {10, 11, 12, 10, 11, 10},
    [A_PATH_VOCAB - A_PATH] = {15, 16, 17, 15, 16, 17},
    [A_PATH_PAIRS - A_PATH] = {20, 20, 20, 21, 3, 2},
    [A_PATH_ANALOGY - A_PATH] = {21, 21, 21, 20, 3, 2},
    [A_PATH_TOKZ - A_PATH] = {10, 15, 11, 15, 12, 17},
};

typedef struct {
    const char *name;
    unsigned char args[9];
    unsigned char n_args;
} Fn;

static const Fn table_fns[] = {
    {"emb_sequence", {A_TABLE, A_IDS, A_WORD}, 3},
    {"emb_most_similar", {A_TABLE, A_TOKS, A_TOKS, A_INT, A_WORD, A_INT}, 6},
    {"emb_analogy", {A_TABLE, A_TOK, A_TOK, A_TOK, A_INT}, 5},
    {"emb_logits", {A_TABLE, A_VEC, A_INT, A_ANY}, 4},
    {"emb_knn", {A_TABLE, A_VEC, A_INT, A_WORD}, 4},
    {"emb_random", {A_INT, A_INT, A_INT, A_ANY}, 4},
    {"emb_read_text", {A_PATH_TEXT}, 1},
    {"emb_read_word2vec", {A_PATH_W2V}, 1},
    {"emb_read_npy", {A_PATH_NPY, A_PATH_VOCAB}, 2},
    {"emb_read_safetensors", {A_PATH_ST, A_TENSOR, A_PATH_VOCAB}, 3},
    {"emb_read_gguf", {A_PATH_GGUF, A_TENSOR}, 2},
    {"emb_eval_analogies", {A_TABLE, A_PATH_ANALOGY, A_INT, A_INT, A_INT}, 5},
    {"emb_eval_pairs", {A_TABLE, A_PATH_PAIRS, A_INT, A_INT, A_INT}, 5},
    {"emb_similar_by_vector", {A_TABLE, A_VEC, A_INT, A_INT}, 4},
    {"emb_doesnt_match", {A_TABLE, A_TOKS}, 2},
    {"emb_most_similar_to_given", {A_TABLE, A_TOK, A_TOKS}, 3},
    {"emb_closer_than", {A_TABLE, A_TOK, A_TOK}, 3},
    {"emb_words_closer_than", {A_TABLE, A_TOK, A_TOK}, 3},
    {"emb_distances", {A_TABLE, A_TOK, A_TOKS}, 3},
    {"emb_bag", {A_TABLE, A_IDS, A_IDS, A_WORD, A_IDS, A_INT, A_INT, A_ANY, A_ANY}, 9},
    {"emb_embedding", {A_TABLE, A_IDS, A_ANY, A_ANY}, 4},
    {"emb_pca", {A_TABLE, A_TOKS, A_INT}, 3},
    {"emb_tokenize", {A_TOKTABLE, A_TEXT, A_INT}, 3},
    /* scalar functions over a table */
    {"emb_lookup", {A_TABLE, A_INT}, 2},
    {"emb_token_id", {A_TABLE, A_TOK}, 2},
    {"emb_cache_release", {A_TABLE}, 1},
    {"emb_similarity", {A_TABLE, A_TOK, A_TOK}, 3},
    {"emb_rank", {A_TABLE, A_TOK, A_TOK}, 3},
    {"emb_n_similarity", {A_TABLE, A_TOKS, A_TOKS}, 3},
    {"emb_relative_cosine_similarity", {A_TABLE, A_TOK, A_TOK, A_INT}, 4},
    {"emb_tokens_json", {A_TOKTABLE, A_TEXT, A_INT}, 3},
    {"emb_detokenize", {A_TOKTABLE, A_IDS}, 2},
    {"emb_tokenizer_info", {A_TOKTABLE}, 1},
    {"emb_tokenizer_load", {A_TABLE, A_PATH_TOKZ}, 2},
    {"emb_import_gguf", {A_NEWTABLE, A_PATH_GGUF, A_TENSOR}, 3},
};
#define N_TABLE_FNS (sizeof table_fns / sizeof table_fns[0])
#define FIRST_SCALAR_TABLE_FN 23

static void gen_arg(Src *s, Buf *b, int kind)
{
    if (kind < A_PATH && fuzz_pick(s, 6) == 0) { /* any value in any place, but never a made-up path */
        gen_value(s, b, 2);
        return;
    }
    switch (kind) {
    case A_TABLE:
        buf_fmt(b, "'%s'", pick_table(s));
        break;
    case A_TENSOR: {
        static const char *const names[] = {"'model.embed_tokens.weight'", "'token_embd.weight'",
                                            "'lm_head.weight'", "'x'", "NULL", "''"};
        buf_str(b, names[fuzz_pick(s, 6)]);
        break;
    }
    case A_VEC:
        if (fuzz_pick(s, 4) == 0) { /* a batch of queries */
            buf_str(b, "'[[1,0,0,0],[0,1,0,0]]'");
            break;
        }
        gen_vector(s, b, 1);
        break;
    case A_TOKS:
        gen_token_list(s, b);
        break;
    case A_TOK: {
        static const char *const toks[] = {"'a'", "'b'", "'c'", "'king'", "'nosuch'", "0", "1", "2",
                                           "-1", "'[1,0,0,0]'", "x'0000803f0000000000000000000000'",
                                           "'café'", "'straße'", "'▁the'", "'<unk>'", "'e'"};
        buf_str(b, toks[fuzz_pick(s, sizeof toks / sizeof toks[0])]);
        break;
    }
    case A_INT: /* half the time a small count that works */
        if (fuzz_pick(s, 2))
            buf_fmt(b, "%u", 1 + fuzz_pick(s, 10));
        else
            buf_str(b, numbers[fuzz_pick(s, N_NUMBERS)]);
        break;
    case A_NEWTABLE: /* a table that may not exist yet */
        if (fuzz_pick(s, 2)) {
            buf_str(b, fuzz_pick(s, 2) ? "'wnew'" : "'wnew2'");
            break;
        }
        buf_fmt(b, "'%s'", pick_table(s));
        break;
    case A_TOKTABLE: /* the table with a tokenizer, mostly */
        if (fuzz_pick(s, 4)) {
            cur_dim = 64;
            buf_str(b, "'wtok'");
        } else {
            buf_fmt(b, "'%s'", pick_table(s));
        }
        break;
    case A_TEXT: { /* text to tokenize */
        static const char *const texts[] = {
            "'I love dogs'", "''", "' '", "'   leading and trailing   '", "'Once upon a time, there was a cat.'",
            "'héllo wörld ▁ ∑ 🙂'", "'<s></s><unk>'", "'\t\n\r'", "char(0, 65, 0)", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
            "printf('%.*c', 5000, 'x')", "printf('%.*c', 100000, ' ')",
        };
        if (fuzz_pick(s, 3))
            buf_str(b, texts[fuzz_pick(s, sizeof texts / sizeof texts[0])]);
        else
            gen_raw_text(s, b);
        break;
    }
    case A_WORD:
        buf_str(b, words[fuzz_pick(s, N_WORDS)]);
        break;
    case A_IDS:
        if (fuzz_pick(s, 5) == 0)
            gen_big_json(s, b);
        else if (fuzz_pick(s, 3) == 0)
            buf_str(b, "'[[0,1],[2,3]]'");
        else
            gen_token_list(s, b);
        break;
    default:
        if (kind >= A_PATH) { /* only fixture names (see the header) */
            if (fuzz_pick(s, 8) == 0)
                buf_str(b, "NULL");
            else if (kind > A_PATH && fuzz_pick(s, 3))
                buf_fmt(b, "'%s'", paths[path_pref[kind - A_PATH][fuzz_pick(s, 6)]]);
            else
                buf_fmt(b, "'%s'", paths[fuzz_pick(s, N_PATHS)]);
        } else {
            gen_value(s, b, 2);
        }
    }
}

static void gen_table_fn(Src *s, Buf *b)
{
    const Fn *f = &table_fns[fuzz_pick(s, N_TABLE_FNS)];
    int scalar = f - table_fns >= FIRST_SCALAR_TABLE_FN;
    /* mostly the usual number of arguments, sometimes one too few or too many */
    unsigned n = f->n_args;
    switch (fuzz_pick(s, 6)) {
    case 0: n = f->n_args + 1; break;
    case 1: n = fuzz_pick(s, f->n_args + 1); break;
    default: n = 1 + fuzz_pick(s, f->n_args); break;
    }
    buf_str(b, scalar ? "select " : "select * from ");
    buf_str(b, f->name);
    buf_str(b, "(");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_str(b, ", ");
        int kind = i < f->n_args ? f->args[i] : A_ANY;
        if (kind == A_PATH_TEXT && f->name[4] == 'r' && fuzz_pick(s, 2) == 0)
            kind = A_PATH; /* a reader on any fixture */
        gen_arg(s, b, kind);
    }
    buf_str(b, ")");
    if (!scalar && fuzz_pick(s, 3) == 0)
        buf_fmt(b, " limit %s", numbers[fuzz_pick(s, 12)]);
}

/* ---- the virtual table ----------------------------------------------------- */

static const char *real_table(Src *s)
{
    unsigned i = fuzz_pick(s, N_REAL_TABLES);
    cur_dim = table_dims[i];
    return tables[i];
}

static void gen_vtab_read(Src *s, Buf *b)
{
    static const char *const cols[] = {"*", "token_id, token, vector", "vector, distance",
                                       "count(*)", "emb_json(vector)", "token, k, metric",
                                       "emb_sum(vector)", "emb_avg(vector)"};
    buf_fmt(b, "select %s from %s", cols[fuzz_pick(s, 8)], real_table(s));
    unsigned n = fuzz_pick(s, 4);
    int knn = 0;
    for (unsigned i = 0; i < n; i++) {
        buf_str(b, i ? " and " : " where ");
        switch (fuzz_pick(s, 10)) {
        case 0: buf_str(b, "token_id = "); gen_arg(s, b, A_INT); break;
        case 1: buf_str(b, "token_id in ("); gen_arg(s, b, A_INT); buf_str(b, ", 1, 2)"); break;
        case 2: buf_str(b, "token_id between "); gen_arg(s, b, A_INT); buf_str(b, " and "); gen_arg(s, b, A_INT); break;
        case 3: buf_str(b, fuzz_pick(s, 2) ? "token_id > " : "token_id <= "); gen_arg(s, b, A_INT); break;
        case 4: buf_str(b, "token = "); gen_arg(s, b, A_TOK); break;
        case 5: case 6: buf_str(b, "vector match "); gen_arg(s, b, A_VEC); knn = 1; break;
        case 7: buf_str(b, "k = "); gen_arg(s, b, A_INT); break;
        case 8: buf_str(b, "metric = "); gen_arg(s, b, A_WORD); break;
        default: buf_str(b, "token in ('a', 'b', NULL)"); break;
        }
    }
    if (knn && fuzz_pick(s, 2))
        buf_str(b, " order by distance");
    if (fuzz_pick(s, 2)) {
        buf_str(b, " limit ");
        gen_arg(s, b, A_INT);
    }
}

static void gen_write(Src *s, Buf *b)
{
    const char *t = real_table(s);
    switch (fuzz_pick(s, 8)) {
    case 0: case 1: {
        static const char *const verbs[] = {"insert", "insert or replace", "insert or ignore",
                                            "replace", "insert or abort", "insert or fail"};
        buf_fmt(b, "%s into %s(token_id, token, vector) values (", verbs[fuzz_pick(s, 6)], t);
        gen_arg(s, b, A_INT);
        buf_str(b, ", ");
        gen_arg(s, b, A_TOK);
        buf_str(b, ", ");
        gen_arg(s, b, A_VEC);
        buf_str(b, ")");
        break;
    }
    case 2:
        buf_fmt(b, "insert into %s(token, vector) values (", t);
        gen_raw_text(s, b);
        buf_str(b, ", ");
        gen_arg(s, b, A_VEC);
        buf_str(b, ")");
        break;
    case 3:
        buf_fmt(b, "insert into %s(token_id, token, vector) select token_id + %u, token, vector from %s",
                t, fuzz_pick(s, 3) * 100, real_table(s));
        break;
    case 4:
        buf_fmt(b, "insert into %s(token_id, vector) select token_id, vector from emb_random(", t);
        gen_arg(s, b, A_INT);
        buf_str(b, ", ");
        gen_arg(s, b, A_INT);
        buf_str(b, ")");
        break;
    case 5: {
        static const char *const sets[] = {"vector = ", "token = ", "token_id = ", "vector = emb_scale(vector, 2), token = "};
        buf_fmt(b, "update %s set %s", t, sets[fuzz_pick(s, 4)]);
        gen_value(s, b, 1);
        buf_str(b, fuzz_pick(s, 2) ? " where token_id = " : " where token_id >= ");
        gen_arg(s, b, A_INT);
        break;
    }
    case 6:
        buf_fmt(b, "delete from %s where token_id %s ", t, fuzz_pick(s, 2) ? "=" : "<");
        gen_arg(s, b, A_INT);
        break;
    default:
        buf_fmt(b, "delete from %s where token = ", t);
        gen_arg(s, b, A_TOK);
        break;
    }
}

static void gen_ddl(Src *s, Buf *b)
{
    static const char *const names[] = {"wnew", "wnew2", "w32", "w8"};
    switch (fuzz_pick(s, 5)) {
    case 0: case 1: {
        buf_fmt(b, "create virtual table %s using embedding(", names[fuzz_pick(s, 2)]);
        static const char *const opts[] = {"dim=4", "dim=1", "dim=3", "dim=65536", "dim=0",
                                           "dim=-1", "dim=65537", "dim=9223372036854775807",
                                           "dtype=f16", "dtype=int8", "dtype=bf16", "dtype=x",
                                           "metric=dot", "metric=l2", "chunk_rows=1",
                                           "chunk_rows=0", "chunk_rows=3", "chunk_rows=1048576",
                                           "chunk_rows=-5", "dim=4 x", "dim", "=", "dim=4=4"};
        unsigned n = fuzz_pick(s, 4), first = 0;
        if (fuzz_pick(s, 4)) { /* mostly a table that can be made */
            buf_str(b, "dim=4");
            first = 1;
        }
        for (unsigned i = 0; i < n; i++)
            buf_fmt(b, "%s%s", i + first ? ", " : "", opts[fuzz_pick(s, sizeof opts / sizeof opts[0])]);
        buf_str(b, ")");
        break;
    }
    case 2:
        buf_fmt(b, "drop table %s", tables[fuzz_pick(s, 7)]);
        break;
    case 3:
        buf_fmt(b, "alter table %s rename to %s", real_table(s), names[fuzz_pick(s, 4)]);
        break;
    default:
        buf_fmt(b, "select emb_cache_release('%s')", real_table(s));
    }
}

static void gen_txn(Src *s, Buf *b)
{
    static const char *const stmts[] = {"begin", "commit", "rollback", "savepoint s1",
                                        "savepoint s2", "release s1", "rollback to s1",
                                        "rollback to s2", "begin immediate", "end"};
    buf_str(b, stmts[fuzz_pick(s, sizeof stmts / sizeof stmts[0])]);
}

/* aggregates over values and rows */
static void gen_aggregate(Src *s, Buf *b)
{
    buf_str(b, fuzz_pick(s, 2) ? "select emb_sum(column1) from (values (" : "select emb_avg(column1) from (values (");
    gen_arg(s, b, A_VEC);
    buf_str(b, "), (");
    gen_arg(s, b, A_VEC);
    buf_str(b, "))");
}

static void gen_statement(Src *s, Buf *b)
{
    switch (fuzz_pick(s, 12)) {
    case 0: case 1: buf_str(b, "select "); gen_scalar_call(s, b, 0); break;
    case 2: case 3: case 4: gen_table_fn(s, b); break;
    case 5: case 6: gen_vtab_read(s, b); break;
    case 7: case 8: gen_write(s, b); break;
    case 9: gen_ddl(s, b); break;
    case 10: gen_txn(s, b); break;
    default: gen_aggregate(s, b); break;
    }
}

/* A read left open (stepped a few rows) while a write runs, then finished. */
static void run_interleaved(sqlite3 *db, Src *s, Buf *b)
{
    b->len = 0;
    gen_vtab_read(s, b);
    sqlite3_stmt *st = NULL;
    fuzz_arm_deadline();
    if (sqlite3_prepare_v2(db, b->p, -1, &st, NULL) != SQLITE_OK || !st) {
        sqlite3_finalize(st);
        return;
    }
    if (fuzz_verbose)
        fprintf(stderr, "SQL (held open): %s\n", b->p);
    unsigned before = fuzz_pick(s, 4);
    int rc = SQLITE_ROW;
    for (unsigned i = 0; i < before && (rc = sqlite3_step(st)) == SQLITE_ROW; i++)
        for (int c = 0; c < sqlite3_column_count(st); c++)
            fuzz_touch_column(st, c);
    b->len = 0;
    if (fuzz_pick(s, 3))
        gen_write(s, b);
    else
        gen_ddl(s, b);
    fuzz_exec(db, b->p, 1000);
    fuzz_arm_deadline();
    for (int i = 0; rc == SQLITE_ROW && i < 1000 && (rc = sqlite3_step(st)) == SQLITE_ROW; i++)
        for (int c = 0; c < sqlite3_column_count(st); c++)
            fuzz_touch_column(st, c);
    sqlite3_finalize(st);
}

/* ---- set-up ---------------------------------------------------------------- */

static char fuzz_dir[64];

static const char *const fixture_files[] = {
    "text/glove.txt", "text/header.vec", "text/badutf8.txt", "text/empty.txt", "text/nan.txt",
    "text/ragged.txt", "npy/v1_f4.npy", "npy/v3_f2.npy", "npy/fortran.npy", "npy/truncated.npy",
    "gguf/v3.gguf", "gguf/q8_0.gguf", "gguf/truncated.gguf", "hf/model.safetensors.index.json",
    "hf/model-00001-of-00002.safetensors", "hf/model-00002-of-00002.safetensors",
    "hf/tokenizer.json", "hf/vocab.txt", "hf/vocab.json", "safetensors/bad_json.safetensors",
    "keyed/unicase-4d.txt", "keyed/unicase-pairs.tsv", "keyed/questions-lf.txt",
};

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return fclose(out);
}

static void remove_fuzz_dir(void)
{
    if (!fuzz_dir[0])
        return;
    char path[512];
    for (size_t i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
        const char *base = strrchr(fixture_files[i], '/') + 1;
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, base);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/w2v.bin", fuzz_dir);
    unlink(path);
    rmdir(fuzz_dir);
}

static const char template_sql[] =
    "create virtual table w32 using embedding(dim=4);"
    "insert into w32(token_id, token, vector) values (0,'a','[1,0,0,0]'),(1,'b','[0,1,0,0]'),"
    " (2,'c','[1,1,0,0]'),(3,'king','[0.5,0.25,-1,2]'),(4,NULL,'[0,0,0,0]'),(100,'far','[3,3,3,3]');"
    "create virtual table w16 using embedding(dim=4, dtype=f16, metric=dot);"
    "insert into w16(token_id, token, vector) select token_id, token, vector from w32;"
    "create virtual table wbf using embedding(dim=3, dtype=bf16, metric=l2);"
    "insert into wbf(token, vector) values ('a','[1,2,3]'),('b','[-1,0,1e30]'),('c','[0,0,0]');"
    "create virtual table w8 using embedding(dim=4, dtype=int8, chunk_rows=2);"
    "insert into w8(token_id, token, vector) select token_id, token, vector from w32;"
    "create virtual table wuni using embedding(dim=4);"
    "insert into wuni(token_id, token, vector) select * from emb_read_text(:uni);"
    "create virtual table wtok using embedding(dim=64);"
    "insert into wtok(token_id, token, vector) select * from emb_read_gguf(:gguf);"
    "select emb_tokenizer_load('wtok', :gguf);"
    "create table plain(id integer primary key, v blob, t text);"
    "insert into plain values (1, x'0000803f', 'a');";

/* Make the corpus / input arguments and -artifact_prefix absolute: the
 * working directory changes below.  (The strings are leaked on purpose:
 * libFuzzer keeps argv.) */
static void absolute_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *prefix = "";
        if (strncmp(arg, "-artifact_prefix=", 17) == 0)
            prefix = "-artifact_prefix=", arg += 17;
        else if (arg[0] == '-')
            continue;
        if (arg[0] == '/' || arg[0] == 0)
            continue;
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            continue;
        size_t n = strlen(prefix) + strlen(cwd) + strlen(arg) + 2;
        char *abs = malloc(n);
        if (!abs)
            continue;
        snprintf(abs, n, "%s%s/%s", prefix, cwd, arg);
        argv[i] = abs;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    absolute_args(*argc, *argv);
    fuzz_common_init();
    const char *root = getenv("EMB_ROOT"); /* the repository; run.sh runs from there */
    char here[4096];
    if (!root) {
        root = getcwd(here, sizeof here);
        /* for the processes libFuzzer starts (-merge, -fork) in our cwd */
        if (root)
            setenv("EMB_ROOT", root, 0);
    }
    char fixtures[4200], gguf[4200], uni[4200];
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures", root);
    snprintf(gguf, sizeof gguf, "%s/tests/data/stories260k-v3.gguf", root);
    snprintf(uni, sizeof uni, "%s/tests/fixtures/keyed/unicase-4d.txt", root);

    /* the template database */
    sqlite3 *db = fuzz_open();
    if (!db)
        abort();
    const char *sql = template_sql;
    while (*sql) {
        sqlite3_stmt *st;
        const char *tail;
        if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
            fprintf(stderr, "fuzz_sql: template: %s\n", sqlite3_errmsg(db));
            abort();
        }
        int i = sqlite3_bind_parameter_index(st, ":gguf");
        if (i)
            sqlite3_bind_text(st, i, gguf, -1, SQLITE_TRANSIENT);
        i = sqlite3_bind_parameter_index(st, ":uni");
        if (i)
            sqlite3_bind_text(st, i, uni, -1, SQLITE_TRANSIENT);
        fuzz_arm_deadline();
        fuzz_deadline.tv_sec += 60;
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        if (sqlite3_finalize(st) != SQLITE_OK) {
            fprintf(stderr, "fuzz_sql: template (run from the repository root or set EMB_ROOT): %s\n",
                    sqlite3_errmsg(db));
            abort();
        }
        sql = tail;
    }
    if (fuzz_save_image(db) != 0)
        abort();
    sqlite3_close(db);

    /* the fixtures, copied into a fresh directory that becomes the cwd */
    strcpy(fuzz_dir, "/tmp/emb_fuzz_sql.XXXXXX");
    if (!mkdtemp(fuzz_dir))
        abort();
    atexit(remove_fuzz_dir);
    char from[4400], to[256];
    for (size_t i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
        snprintf(from, sizeof from, "%s/%s", fixtures, fixture_files[i]);
        snprintf(to, sizeof to, "%s/%s", fuzz_dir, strrchr(fixture_files[i], '/') + 1);
        if (copy_file(from, to) != 0)
            fprintf(stderr, "fuzz_sql: cannot copy %s (%s)\n", from, strerror(errno));
    }
    /* a small word2vec binary: 2 rows of dim 2 */
    snprintf(to, sizeof to, "%s/w2v.bin", fuzz_dir);
    FILE *f = fopen(to, "wb");
    if (f) {
        float v[2] = {1, 2};
        fputs("2 2\n", f);
        fputs("a ", f), fwrite(v, 4, 2, f), fputs("\n", f);
        fputs("b ", f), fwrite(v, 4, 2, f), fputs("\n", f);
        fclose(f);
    }
    if (chdir(fuzz_dir) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Src s = {data, size};
    sqlite3 *db = fuzz_open_image(fuzz_image, fuzz_image_size);
    if (!db)
        return 0;
    unsigned mode = fuzz_pick(&s, 4);
    /* untrusted SQL is normally run with defensive on; sometimes off */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, mode != 0, (int *)0);
    Buf b = {0};
    for (int i = 0; i < 10 && s.n > 0; i++) {
        if (fuzz_pick(&s, 8) == 0) {
            run_interleaved(db, &s, &b);
            continue;
        }
        b.len = 0;
        gen_statement(&s, &b);
        fuzz_exec(db, b.p, 2000);
    }
    free(b.p);
    sqlite3_close(db);
    return 0;
}
