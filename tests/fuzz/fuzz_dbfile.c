/*
 * fuzz_dbfile.c - hostile database files: libFuzzer target (and, linked
 * with tests/harden/standalone.c, a generator of thousands of files).
 *
 *   sh tests/fuzz/run.sh 30                 (build/fuzz/fuzz_dbfile)
 *   make harden-dbfile                      (the generated corpus, ASan build)
 *   FUZZ_VERBOSE=1 build/fuzz/fuzz_dbfile CRASH_FILE
 *
 * A small valid database (made once): tables w (f32, dim 4, chunk_rows 2,
 * tokens, a gap, a row without token, a stored tokenizer), h (f16, dim 3),
 * q (int8, dim 5, chunk_rows 3), b (bf16, dim 2).  Each input is a program
 * of mutations applied to a copy of it:
 *   - through SQL with writable_schema on and defensive off: the shadow
 *     tables' config values (dim, dtype, chunk_rows, version, format,
 *     metric, the chunk layout: slab_rows, slab_bytes, pad_bytes,
 *     chunk_bytes: wrong values, wrong types, NULL, deleted), chunk blobs
 *     (truncated, extended, empty, NULL, text, random), chunk ids (negative,
 *     huge, moved, deleted, added), token rows (invalid UTF-8, empty, ids of
 *     missing rows), the tokenizer row, and the schema itself (the declared
 *     dim, the shadow tables' constraints, after which NULL and blob tokens
 *     can be stored);
 *   - then its raw bytes (overwrites at chosen offsets).
 * The image is then opened afresh (as a user opening a file from elsewhere)
 * and the standard queries run on every table: count, scan, lookups by id
 * and token, KNN (k and ORDER BY distance LIMIT), emb_knn,
 * emb_most_similar, emb_lookup, emb_sequence, emb_tokenize, UPDATE, INSERT,
 * DELETE, DROP.  Errors are expected; crashes, ASan/UBSan reports, leaks and
 * allocations past the limit (-malloc_limit_mb) are findings.
 */
#include "fuzz_db.h"


static const char *const tabs[] = {"w", "h", "q", "b"};
static const int tab_dim[] = {4, 3, 5, 2};

static const char *const config_keys[] = {"format", "dim", "dtype", "metric", "chunk_rows",
                                          "version", "slab_rows", "slab_bytes", "pad_bytes",
                                          "chunk_bytes", "nosuch"};
static const char *const config_values[] = {
    "0", "1", "-1", "2", "3", "4", "5", "7", "65536", "65537", "4096", "1048576",
    "16777216", "2147483648", "9223372036854775807", "-9223372036854775808", "NULL",
    "'f32'", "'f16'", "'bf16'", "'int8'", "'f64'", "''", "'cosine'", "'dot'", "'l2'",
    "'4'", "x'04'", "4.5", "1e308", "'dim'", "cast(x'ff' as text)", "zeroblob(8)",
};
static const char *const blob_exprs[] = {
    "NULL", "x''", "substr(%s, 1, 1)", "substr(%s, 1, length(%s) - 1)", "substr(%s, 2)",
    "%s || x'00'", "%s || zeroblob(4)", "%s || %s", "randomblob(length(%s))", "zeroblob(length(%s))",
    "'text'", "42", "1.5", "zeroblob(1048576)", "cast(%s as text)", "x'ffffffffffffffff'",
    "x'0000c07f0000c07f0000c07f0000c07f0000c07f0000c07f0000c07f0000c07f'",
    "x'0000807f0000807f0000807f0000807f0000807f0000807f0000807f0000807f'",
};
static const char *const id_values[] = {"-1", "0", "1", "2", "3", "4", "7", "100", "100000",
                                        "16777216", "16777215", "2147483647",
                                        "4611686018427387904", "9223372036854775807",
                                        "-9223372036854775808", "NULL", "'x'", "1.5"};
static const char *const token_values[] = {
    "'a'", "'b'", "''", "cast(x'ff' as text)", "cast(x'c0' as text)", "cast(x'610062' as text)",
    "'zz'", "NULL", "x'01'", "7", "hex(randomblob(200))", "'<unk>'",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))


static void sqlf(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (sql)
        fuzz_exec(db, sql, 100);
    sqlite3_free(sql);
}

/* a blob expression over column col (every %s becomes the column) */
static void blob_expr(char *out, size_t cap, unsigned which, const char *col)
{
    snprintf(out, cap, blob_exprs[which], col, col, col);
}

/* Serialize db, close it, open the image afresh (schema edits take effect). */
static sqlite3 *reopen(sqlite3 *db)
{
    sqlite3_int64 n = 0;
    unsigned char *p = sqlite3_serialize(db, "main", &n, 0);
    sqlite3_close(db);
    if (!p)
        return NULL;
    sqlite3 *db2 = fuzz_open_image(p, n);
    sqlite3_free(p);
    return db2;
}

static void hostile_setup(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 0, (int *)0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 1, (int *)0);
    fuzz_exec(db, "pragma writable_schema = on", 1);
}

static sqlite3 *mutate_sql(sqlite3 *db, Src *s)
{
    char e[256];
    const char *t = tabs[fuzz_pick(s, N(tabs))];
    switch (fuzz_pick(s, 16)) {
    case 14: case 15: { /* one byte inside a stored blob: a chunk's slots (flags, rows,
                         * int8 scales), its padding, the stored tokenizer */
        static const char *const where[] = {"%s_chunks set slots", "%s_chunks set slots",
                                            "%s_chunks set pad", "w_tokenizer set data"};
        static const char *const cols[] = {"slots", "slots", "pad", "data"};
        unsigned i = fuzz_pick(s, 4);
        char target[64];
        snprintf(target, sizeof target, where[i], t);
        unsigned off = fuzz_pick(s, 65536), val = fuzz_pick(s, 256);
        sqlf(db, "update %s = substr(%s, 1, %u %% max(length(%s), 1)) || x'%02x' || "
                 "substr(%s, %u %% max(length(%s), 1) + 2)%s",
             target, cols[i], off, cols[i], val, cols[i], off, cols[i],
             i < 3 ? (fuzz_pick(s, 2) ? " where chunk_id = 0" : " where chunk_id = 1") : "");
        break;
    }
    case 0: case 1:
        sqlf(db, "update %s_config set value = %s where key = '%s'", t,
             config_values[fuzz_pick(s, N(config_values))], config_keys[fuzz_pick(s, N(config_keys))]);
        break;
    case 2:
        if (fuzz_pick(s, 2))
            sqlf(db, "delete from %s_config where key = '%s'", t, config_keys[fuzz_pick(s, N(config_keys))]);
        else
            sqlf(db, "insert or replace into %s_config values ('%s', %s)", t,
                 config_keys[fuzz_pick(s, N(config_keys))], config_values[fuzz_pick(s, N(config_values))]);
        break;
    case 3: case 4: {
        static const char *const cols[] = {"slots", "slots", "pad"};
        const char *col = cols[fuzz_pick(s, 3)];
        blob_expr(e, sizeof e, fuzz_pick(s, N(blob_exprs)), col);
        sqlf(db, "update %s_chunks set %s = %s where chunk_id = %u", t, col, e, fuzz_pick(s, 6));
        break;
    }
    case 5:
        sqlf(db, "update or replace %s_chunks set chunk_id = %s where chunk_id = %u", t,
             id_values[fuzz_pick(s, N(id_values))], fuzz_pick(s, 6));
        break;
    case 6:
        sqlf(db, "delete from %s_chunks where chunk_id = %u", t, fuzz_pick(s, 6));
        break;
    case 7:
        sqlf(db, "insert or replace into %s_chunks select %s, pad, slots from %s_chunks where chunk_id = %u",
             t, id_values[fuzz_pick(s, N(id_values))], t, fuzz_pick(s, 3));
        break;
    case 8:
        sqlf(db, "update or replace %s_tokens set %s = %s where token_id = %u", t,
             fuzz_pick(s, 2) ? "token" : "token_id",
             fuzz_pick(s, 2) ? token_values[fuzz_pick(s, N(token_values))] : id_values[fuzz_pick(s, N(id_values))],
             fuzz_pick(s, 10));
        break;
    case 9:
        if (fuzz_pick(s, 2))
            sqlf(db, "delete from %s_tokens where token_id = %u", t, fuzz_pick(s, 10));
        else
            sqlf(db, "insert or replace into %s_tokens values (%s, %s)", t,
                 id_values[fuzz_pick(s, N(id_values))], token_values[fuzz_pick(s, N(token_values))]);
        break;
    case 10: {
        static const char *const sets[] = {"model = 'gpt2'", "model = 'llama'", "model = NULL",
                                           "model = 'bert'", "version = 99", "version = NULL",
                                           "version = 0", "source = NULL", "id = 2"};
        if (fuzz_pick(s, 2)) {
            blob_expr(e, sizeof e, fuzz_pick(s, N(blob_exprs)), "data");
            sqlf(db, "update w_tokenizer set data = %s", e);
        } else {
            sqlf(db, "update w_tokenizer set %s", sets[fuzz_pick(s, N(sets))]);
        }
        break;
    }
    case 11: { /* the declared options */
        static const char *const decl[] = {"dim=4", "dim=3", "dim=5", "dim=65536", "dim=0",
                                           "dim=4, dtype=f16", "dim=4, dtype=int8",
                                           "dim=4, chunk_rows=3", "dim=4, metric=l2", "", "dim=x"};
        unsigned i = fuzz_pick(s, N(tabs));
        sqlf(db, "update sqlite_master set sql = 'CREATE VIRTUAL TABLE %s USING embedding(%s)' where name = '%s'",
             tabs[i], decl[fuzz_pick(s, N(decl))], tabs[i]);
        return reopen(db);
    }
    case 12: { /* looser shadow tables: NOT NULL / UNIQUE / types gone */
        static const char *const ddl[] = {
            "CREATE TABLE \"%s_tokens\"(token_id INTEGER PRIMARY KEY, token)",
            "CREATE TABLE \"%s_chunks\"(chunk_id INTEGER PRIMARY KEY, pad, slots)",
            "CREATE TABLE \"%s_config\"(key, value)",
            "CREATE TABLE \"%s_chunks\"(chunk_id INTEGER PRIMARY KEY, slots)",
        };
        static const char *const suffix[] = {"tokens", "chunks", "config", "chunks"};
        unsigned i = fuzz_pick(s, N(ddl));
        char sql[256];
        snprintf(sql, sizeof sql, ddl[i], t);
        sqlf(db, "update sqlite_master set sql = '%q' where name = '%s_%s'", sql, t, suffix[i]);
        db = reopen(db);
        if (db) {
            hostile_setup(db);
            if (i == 0)
                sqlf(db, "insert into %s_tokens values (%u, %s)", t, fuzz_pick(s, 10),
                     fuzz_pick(s, 2) ? "NULL" : "x'6100'");
            else if (i == 2)
                sqlf(db, "insert into %s_config values ('dim', %s)", t, config_values[fuzz_pick(s, N(config_values))]);
        }
        return db;
    }
    default: /* drop a shadow table */
        sqlf(db, "drop table %s_%s", t, fuzz_pick(s, 2) ? "tokens" : "chunks");
        break;
    }
    return db;
}

static void standard_queries(sqlite3 *db, Src *s)
{
    for (size_t i = 0; i < N(tabs); i++) {
        const char *t = tabs[i];
        int d = tab_dim[i];
        char q[128] = "'[1";
        for (int j = 1; j < d; j++)
            strcat(q, ",0.5");
        strcat(q, "]'");
        sqlf(db, "select count(*) from %s", t);
        sqlf(db, "select token_id, token, vector from %s", t);
        sqlf(db, "select vector from %s where token_id = 1", t);
        sqlf(db, "select token, vector from %s where token_id in (0, 2, 5, 100)", t);
        sqlf(db, "select token_id, vector from %s where token = 'a'", t);
        sqlf(db, "select token_id, distance from %s where vector match %s and k = 3", t, q);
        sqlf(db, "select token_id, distance from %s where vector match %s order by distance limit 2", t, q);
        sqlf(db, "select * from emb_knn('%s', '[' || %s || ']', 2)", t, q);
        sqlf(db, "select * from emb_most_similar('%s', '[\"a\"]', null, 3)", t);
        sqlf(db, "select emb_lookup('%s', 2), emb_token_id('%s', 'b')", t, t);
        sqlf(db, "select * from emb_sequence('%s', '[0, 1]')", t);
    }
    sqlf(db, "select * from emb_tokenize('w', 'I love dogs')");
    sqlf(db, "select emb_tokenizer_info('w')");
    /* writes, in a transaction that is kept or rolled back */
    int keep = (int)fuzz_pick(s, 2);
    fuzz_exec(db, "begin", 1);
    for (size_t i = 0; i < N(tabs); i++) {
        const char *t = tabs[i];
        sqlf(db, "update %s set vector = emb_scale(vector, 2) where token_id = 1", t);
        sqlf(db, "insert into %s(token, vector) select 'new', vector from %s where token_id = 0", t, t);
        sqlf(db, "delete from %s where token_id = 2", t);
        sqlf(db, "select token_id, distance from %s where vector match (select vector from %s where token_id = 0) and k = 2", t, t);
    }
    fuzz_exec(db, keep ? "commit" : "rollback", 1);
    sqlf(db, "select count(*), sum(length(vector)) from %s", tabs[fuzz_pick(s, N(tabs))]);
    for (size_t i = 0; i < N(tabs); i++)
        sqlf(db, "drop table %s", tabs[i]);
}

static const char template_sql[] =
    "create virtual table w using embedding(dim=4, chunk_rows=2);"
    "insert into w(token_id, token, vector) values (0,'a','[1,0,0,0]'),(1,'b','[0,1,0,0]'),"
    " (2,'c','[1,1,0,0]'),(3,'king','[0.5,0.25,-1,2]'),(4,NULL,'[0,0,0,0]'),(7,'g','[1,2,3,4]'),"
    " (8,'h','[-1,-2,-3,-4]'),(9,'i','[0,0,0,1]');"
    "create virtual table h using embedding(dim=3, dtype=f16, metric=dot, chunk_rows=4);"
    "insert into h(token_id, token, vector) values (0,'a','[1,2,3]'),(1,'b','[0,0,1]'),(2,'c','[-1,0.5,0]'),(5,'f','[2,2,2]');"
    "create virtual table q using embedding(dim=5, dtype=int8, metric=l2, chunk_rows=3);"
    "insert into q(token_id, token, vector) values (0,'a','[1,2,3,4,5]'),(1,'b','[0,0,0,0,0]'),(2,'c','[-1,0,1,0,-1]'),(4,NULL,'[9,9,9,9,9]');"
    "create virtual table b using embedding(dim=2, dtype=bf16);"
    "insert into b(token, vector) values ('a','[1,2]'),('b','[3,-4]'),('c','[0,1]');";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_common_init();
    const char *root = getenv("EMB_ROOT");
    char here[4096], gguf[4200];
    if (!root) {
        root = getcwd(here, sizeof here);
        /* for the processes libFuzzer starts (-merge, -fork) in our cwd */
        if (root)
            setenv("EMB_ROOT", root, 0);
    }
    snprintf(gguf, sizeof gguf, "%s/tests/data/stories260k-v3.gguf", root);
    sqlite3 *db = fuzz_open();
    if (!db)
        abort();
    if (fuzz_exec(db, template_sql, 10) != 0)
        abort();
    char *sql = sqlite3_mprintf("select emb_tokenizer_load('w', %Q)", gguf);
    fuzz_arm_deadline();
    fuzz_deadline.tv_sec += 60;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "fuzz_dbfile: cannot load the tokenizer from %s: %s (run from the repository root or set EMB_ROOT)\n",
                gguf, sqlite3_errmsg(db));
        abort();
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    if (fuzz_save_image(db) != 0)
        abort();
    sqlite3_close(db);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Src s = {data, size};
    sqlite3 *db = fuzz_open_image(fuzz_image, fuzz_image_size);
    if (!db)
        return 0;
    hostile_setup(db);
    unsigned n_sql = fuzz_pick(&s, 6);
    for (unsigned i = 0; i < n_sql && db; i++)
        db = mutate_sql(db, &s);
    if (!db)
        return 0;
    sqlite3_int64 n = 0;
    unsigned char *img = sqlite3_serialize(db, "main", &n, 0);
    sqlite3_close(db);
    if (!img)
        return 0;
    /* raw bytes: a few overwrites, mostly past the 100-byte file header */
    unsigned n_raw = fuzz_pick(&s, 4) == 0 ? 1 + fuzz_pick(&s, 8) : 0;
    for (unsigned i = 0; i < n_raw && n > 0; i++) {
        uint32_t off = (uint32_t)fuzz_pick(&s, 65536) << 8 | fuzz_pick(&s, 256);
        off %= (uint32_t)n;
        static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x04, 0x40};
        img[off] = fuzz_pick(&s, 2) ? (uint8_t)fuzz_pick(&s, 256) : vals[fuzz_pick(&s, N(vals))];
    }
    db = fuzz_open_image(img, n);
    sqlite3_free(img);
    if (!db)
        return 0;
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, (int)fuzz_pick(&s, 2), (int *)0);
    standard_queries(db, &s);
    sqlite3_close(db);
    return 0;
}
