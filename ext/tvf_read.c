/*
 * tvf_read.c - table-valued functions that import embedding matrices.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=50);
 *   insert into wte(token_id, token, vector)
 *       select * from emb_read_text('glove.6B.50d.txt');
 *   select count(*) from emb_read_gguf('stories260k-f32.gguf');      -- 512
 *   select token_id, emb_json(vector) from emb_random(3, 4, 7, 0.02);
 *
 * Every function yields rows (token_id INTEGER, token TEXT, vector BLOB):
 * token_id is the row number from 0, vector is a little-endian float32 BLOB
 * (f16 / bf16 / f64 / quantized sources are widened or rounded to float32).
 *
 *   emb_read_text(path)          GloVe text (no header: "token v1 .. vD" per
 *                                line) or word2vec / fastText .vec text (first
 *                                line "V D"), detected automatically.  UTF-8
 *                                tokens, CRLF, trailing blanks, a last line
 *                                without newline, blank lines all accepted.
 *   emb_read_word2vec(path)      word2vec binary: "V D\n", then V times
 *                                token, ' ', D float32 LE, optional '\n'.
 *   emb_read_npy(path [, tokens])
 *                                numpy .npy v1/v2/v3, 2-D, '<f4', '<f2' or
 *                                '<f8', C or Fortran order; token is NULL
 *                                unless `tokens` names a vocabulary file.
 *   emb_read_safetensors(path, tensor [, tokens])
 *                                2-D F32 / F16 / BF16 tensor by name, e.g.
 *                                'transformer.wte.weight'.  A wrong name lists
 *                                the tensors in the file.  `path` may be a
 *                                sharded checkpoint's model.safetensors.index.json:
 *                                its weight_map names the shard (next to it).
 *                                `tokens`: tokenizer.json / vocab.json /
 *                                vocab.txt gives the token column (row i =
 *                                id i, pieces as the file has them, NULL for
 *                                ids it lacks); without it token is NULL.
 *   emb_read_gguf(path [, tensor])
 *                                GGUF v1/v2/v3, tensor 'token_embd.weight' by
 *                                default, F32 / F16 / BF16 and the ggml quants
 *                                Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q6_K (decoded
 *                                to float32 exactly as ggml); tokens from
 *                                tokenizer.ggml.tokens (NULL past its end).
 *                                GGUF lists dims fastest first: ne[0] = dim,
 *                                ne[1] = rows.
 *   emb_random(rows, dim [, seed [, std]])
 *                                rows x dim values from N(0, std^2), default
 *                                seed 42, std 1 (nn.Embedding's init); the
 *                                same seed gives the same values on every
 *                                machine (xoshiro256** + Marsaglia polar).
 *
 * Errors stop the statement with a message naming the function, the file
 * (last path component) and the place; a file that cannot be opened or
 * read is named by the path as given, with the OS reason:
 *   emb_read_text: bad.txt: expected 4 values, found 3 (line 5)
 *   emb_read_npy: x.npy: unsupported dtype '>f4' (expected <f4, <f2 or <f8)
 *   emb_read_npy: data/x.npy: cannot open (No such file or directory)
 *   emb_read_safetensors: m.safetensors: no tensor 'wte' (available: a, b)
 * An INSERT ... SELECT that hits an error leaves no partial rows: binary
 * formats are fully checked when opened; text and word2vec rows are
 * checked as they are read, and SQLite undoes the statement (autocommit, or
 * a target such as an embedding table that gets a statement journal).
 * Inside an explicit transaction the text and word2vec readers first read
 * the whole file once to validate it, because an INSERT into a plain table
 * without constraints has no statement journal to undo partial rows.  That
 * pass keeps the rows it parsed (id, token bytes, float32 vector, packed in
 * 4 MiB blocks) and serves them from memory, up to READ_BUFFER_CAP = 64 MiB;
 * a file whose rows need more (or a failed allocation) drops the buffer,
 * finishes validating and parses the file again.  Testing knob: the
 * environment variable EMB_READ_BUFFER_CAP (bytes, read at each xFilter)
 * overrides the cap; 0 disables the buffer.
 *
 * Security: the file readers are SQLITE_VTAB_DIRECTONLY, so a view or
 * trigger in a database schema cannot use them to read files ("unsafe use
 * of virtual table"); emb_random is SQLITE_VTAB_INNOCUOUS.
 *
 * How it works: each function is a streaming TvfSpec on the table-valued
 * function base of ext/tvf.c (arguments as HIDDEN columns, the planner and
 * the missing-argument message shared with every other function).  xStart
 * opens a streaming reader from src/readers/reader.h over a read-only memory map;
 * each xNext decodes one row into a dim-float buffer, so memory stays one
 * row plus the mapping (outside autocommit, text and word2vec: up to
 * READ_BUFFER_CAP of buffered rows, see above).
 */
#include "embext.h"
#include "tvf.h"
#include "readers/reader.h"
#include "value.h"

#include <stdlib.h>
#include <string.h>

static const char *const argsFile[] = {"path"};
static const char *const argsTensor[] = {"path", "tensor"};
static const char *const argsRandom[] = {"rows", "dim", "seed", "std"};
#define READ_SCHEMA(args) "CREATE TABLE x(token_id INTEGER, token TEXT, vector BLOB, " args ")"

static const TvfStream readStream; /* below */

static const char *const argsNpy[] = {"path", "tokens"};
static const char *const argsSafetensors[] = {"path", "tensor", "tokens"};

static const TvfSpec aReadFn[] = {
    {"emb_read_text", READ_SCHEMA("path HIDDEN"), 3, 1, 1, 1, argsFile, NULL, &readStream, 0,
     EMB_READ_TEXT},
    {"emb_read_word2vec", READ_SCHEMA("path HIDDEN"), 3, 1, 1, 1, argsFile, NULL, &readStream, 0,
     EMB_READ_WORD2VEC},
    {"emb_read_npy", READ_SCHEMA("path HIDDEN, tokens HIDDEN"), 3, 2, 1, 1, argsNpy, NULL,
     &readStream, 0, EMB_READ_NPY},
    {"emb_read_safetensors", READ_SCHEMA("path HIDDEN, tensor HIDDEN, tokens HIDDEN"), 3, 3, 2, 1,
     argsSafetensors, NULL, &readStream, 0, EMB_READ_SAFETENSORS},
    {"emb_read_gguf", READ_SCHEMA("path HIDDEN, tensor HIDDEN"), 3, 2, 1, 1, argsTensor, NULL,
     &readStream, 0, EMB_READ_GGUF},
    {"emb_random", READ_SCHEMA("rows HIDDEN, dim HIDDEN, seed HIDDEN, std HIDDEN"), 3, 4, 2, 0,
     argsRandom, NULL, &readStream, 1, EMB_READ_RANDOM},
};

/* Rows kept by the validation pass (explicit transactions, text/word2vec). */
#define READ_BUFFER_CAP ((sqlite3_int64)64 << 20) /* bytes of buffered rows */
#define READ_BLOCK_SIZE ((sqlite3_int64)4 << 20)  /* bytes per block */
#define TOK_NULL 0xffffffffu

/* One block: a header, then records back to back, each 8-byte aligned:
 * int64 id, uint32 token length (TOK_NULL = NULL token), uint32 pad,
 * dim floats, token bytes. */
typedef struct ReadBlock {
    struct ReadBlock *next;
    sqlite3_int64 used, cap; /* bytes of records / room after the header */
} ReadBlock;

typedef struct RowRec {
    int64_t id;
    uint32_t tok_len;
    uint32_t pad;
} RowRec;

/* A streaming function's state (TvfCursor.pState). */
typedef struct ReadState {
    emb_reader *r;
    int eof;
    int64_t id;
    const char *tok;
    size_t tok_len;
    const float *vec;
    size_t dim;
    ReadBlock *first, *last; /* buffered rows (NULL when streaming) */
    ReadBlock *blk;          /* block being served */
    sqlite3_int64 off;       /* next record in blk */
} ReadState;

static void freeBlocks(ReadState *cur)
{
    ReadBlock *b = cur->first;
    while (b) {
        ReadBlock *next = b->next;
        sqlite3_free(b);
        b = next;
    }
    cur->first = cur->last = cur->blk = NULL;
    cur->off = 0;
}

static int setError(sqlite3_vtab *pVtab, const char *zFunc, const emb_err *err, int code)
{
    if (code == EMB_ENOMEM)
        return SQLITE_NOMEM;
    /* the reader says "<component>: <file>: ..."; replace the component */
    const char *msg = err->msg;
    const char *colon = strstr(msg, ": ");
    if (colon)
        msg = colon + 2;
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_mprintf("%s: %s", zFunc, msg);
    return pVtab->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int argError(TvfVtab *p, const char *zArg, const char *zExpected, sqlite3_value *v)
{
    return embTvfError(p, "%s: %s must be %s (found %s)", p->spec->zName, zArg, zExpected,
                       embTypeName(v ? sqlite3_value_type(v) : SQLITE_NULL));
}

static sqlite3_int64 recSize(size_t dim, size_t tok_len)
{
    sqlite3_int64 n = (sqlite3_int64)(sizeof(RowRec) + dim * sizeof(float) + tok_len);
    return (n + 7) & ~(sqlite3_int64)7;
}

/* Serve the next buffered row. */
static void stepBuffered(ReadState *cur)
{
    while (cur->blk && cur->off >= cur->blk->used) {
        cur->blk = cur->blk->next;
        cur->off = 0;
    }
    if (!cur->blk) {
        cur->eof = 1;
        return;
    }
    char *p = (char *)(cur->blk + 1) + cur->off;
    RowRec rec;
    memcpy(&rec, p, sizeof rec);
    size_t n = rec.tok_len == TOK_NULL ? 0 : rec.tok_len;
    cur->id = rec.id;
    cur->vec = (const float *)(p + sizeof rec);
    cur->tok = rec.tok_len == TOK_NULL ? NULL : p + sizeof rec + cur->dim * sizeof(float);
    cur->tok_len = n;
    cur->off += recSize(cur->dim, n);
}

/* xStep: the next row, from the buffer or the reader. */
static int readStep(TvfVtab *p, TvfCursor *tc)
{
    ReadState *cur = tc->pState;
    emb_err err;
    int rc = EMB_OK;
    if (!cur->r)
        stepBuffered(cur);
    else
        rc = emb_reader_next(cur->r, &cur->id, &cur->tok, &cur->tok_len, &cur->vec, &err);
    if (rc != EMB_OK)
        cur->eof = 1;
    tc->eof = cur->eof;
    tc->rowid = cur->id;
    if (rc == EMB_OK || rc == EMB_DONE)
        return SQLITE_OK;
    return setError(&p->base, p->spec->zName, &err, rc);
}

static int openRandom(TvfVtab *p, sqlite3_value **args, emb_reader **out)
{
    sqlite3_int64 seed = EMB_RANDOM_DEFAULT_SEED;
    double std = 1.0;
    if (sqlite3_value_type(args[0]) != SQLITE_INTEGER)
        return argError(p, "rows", "an integer", args[0]);
    if (sqlite3_value_type(args[1]) != SQLITE_INTEGER)
        return argError(p, "dim", "an integer", args[1]);
    if (args[2] && sqlite3_value_type(args[2]) != SQLITE_NULL) {
        if (sqlite3_value_type(args[2]) != SQLITE_INTEGER)
            return argError(p, "seed", "an integer", args[2]);
        seed = sqlite3_value_int64(args[2]);
    }
    if (args[3] && sqlite3_value_type(args[3]) != SQLITE_NULL) {
        int t = sqlite3_value_type(args[3]);
        if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
            return argError(p, "std", "a number", args[3]);
        std = sqlite3_value_double(args[3]);
    }
    emb_err err;
    int rc = emb_random_open(sqlite3_value_int64(args[0]), sqlite3_value_int64(args[1]),
                             (uint64_t)seed, std, out, &err);
    return rc ? setError(&p->base, p->spec->zName, &err, rc) : SQLITE_OK;
}

/* Text and word2vec rows are checked only as they are read, so an error can
 * come after rows were already inserted.  In autocommit mode SQLite rolls
 * the whole statement back.  Inside an explicit transaction it does so only
 * when the statement has a statement journal, which an INSERT into a plain
 * table without constraints does not get; so there the file is read once
 * to validate it before the first row is returned (validate() below). */
static int canFailMidway(int kind)
{
    return kind == EMB_READ_TEXT || kind == EMB_READ_WORD2VEC;
}

static sqlite3_int64 bufferCap(void)
{
    const char *v = getenv("EMB_READ_BUFFER_CAP");
    if (v && *v) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end == 0 && n >= 0)
            return n;
    }
    return READ_BUFFER_CAP;
}

/* Append one row to the buffer; 0 when it does not fit under cap or a
 * block cannot be allocated (the caller then drops the buffer). */
static int keepRow(ReadState *cur, sqlite3_int64 *total, sqlite3_int64 cap, int64_t id,
                   const char *tok, size_t len, const float *vec)
{
    if (tok && len >= TOK_NULL)
        return 0;
    sqlite3_int64 need = recSize(cur->dim, tok ? len : 0);
    if (need > cap - *total)
        return 0;
    ReadBlock *b = cur->last;
    if (!b || b->cap - b->used < need) {
        sqlite3_int64 room = need > READ_BLOCK_SIZE ? need : READ_BLOCK_SIZE;
        if (room > cap - *total)
            room = need > cap - *total ? need : cap - *total;
        b = sqlite3_malloc64((sqlite3_uint64)(sizeof *b + (size_t)room));
        if (!b)
            return 0;
        b->next = NULL;
        b->used = 0;
        b->cap = room;
        if (cur->last)
            cur->last->next = b;
        else
            cur->first = b;
        cur->last = b;
        *total += room;
    }
    char *p = (char *)(b + 1) + b->used;
    RowRec rec = {id, tok ? (uint32_t)len : TOK_NULL, 0};
    memcpy(p, &rec, sizeof rec);
    memcpy(p + sizeof rec, vec, cur->dim * sizeof(float));
    if (tok && len)
        memcpy(p + sizeof rec + cur->dim * sizeof(float), tok, len);
    b->used += need;
    return 1;
}

/* Read the whole file to validate it, keeping the rows in memory while they
 * fit under the cap; then serve from memory (cur->r = NULL) or, if the
 * buffer was dropped, reopen the file to parse it again. */
static int validate(ReadState *cur, int kind, const char *path, const char *tensor,
                    emb_err *err)
{
    int64_t id;
    const char *tok;
    size_t len;
    const float *vec;
    int rc;
    sqlite3_int64 cap = bufferCap(), total = 0;
    int keep = cap > 0;
    cur->dim = emb_reader_dim(cur->r);
    while ((rc = emb_reader_next(cur->r, &id, &tok, &len, &vec, err)) == EMB_OK) {
        if (keep && !keepRow(cur, &total, cap, id, tok, len, vec)) {
            keep = 0;
            freeBlocks(cur);
        }
    }
    emb_reader_free(cur->r);
    cur->r = NULL;
    if (rc < 0) {
        freeBlocks(cur);
        return rc;
    }
    if (keep) {
        cur->blk = cur->first;
        cur->off = 0;
        return EMB_OK;
    }
    return emb_reader_open(kind, path, tensor, &cur->r, err);
}

/* xStop: close the reader and drop the buffered rows. */
static void readStop(TvfCursor *tc)
{
    ReadState *cur = tc->pState;
    freeBlocks(cur);
    emb_reader_free(cur->r);
    sqlite3_free(cur);
    tc->pState = NULL;
}

/* xStart: check the arguments, open the reader (validating text and
 * word2vec files first inside an explicit transaction), read row one. */
static int readStart(TvfVtab *p, TvfCursor *tc, sqlite3_value **args)
{
    const TvfSpec *fn = p->spec;
    ReadState *cur = sqlite3_malloc(sizeof *cur);
    if (!cur)
        return SQLITE_NOMEM;
    memset(cur, 0, sizeof *cur);
    tc->pState = cur;
    int rc;
    if (fn->kind == EMB_READ_RANDOM) {
        rc = openRandom(p, args, &cur->r);
    } else {
        if (sqlite3_value_type(args[0]) != SQLITE_TEXT)
            return argError(p, "path", "text", args[0]);
        /* optional arguments by name: tensor (safetensors, gguf), tokens (npy, safetensors) */
        sqlite3_value *vTensor = NULL, *vTokens = NULL;
        for (int j = 1; j < fn->nArg; j++) {
            if (strcmp(fn->azArg[j], "tensor") == 0)
                vTensor = args[j];
            else if (strcmp(fn->azArg[j], "tokens") == 0)
                vTokens = args[j];
        }
        const char *tensor = NULL, *tokens = NULL;
        if (vTensor && sqlite3_value_type(vTensor) != SQLITE_NULL) {
            if (sqlite3_value_type(vTensor) != SQLITE_TEXT)
                return argError(p, "tensor", "text", vTensor);
            tensor = (const char *)sqlite3_value_text(vTensor);
        } else if (fn->kind == EMB_READ_SAFETENSORS) {
            return argError(p, "tensor", "text", vTensor);
        }
        if (vTokens && sqlite3_value_type(vTokens) != SQLITE_NULL) {
            if (sqlite3_value_type(vTokens) != SQLITE_TEXT)
                return argError(p, "tokens", "text", vTokens);
            tokens = (const char *)sqlite3_value_text(vTokens);
        }
        const char *path = (const char *)sqlite3_value_text(args[0]);
        emb_err err;
        rc = emb_reader_open(fn->kind, path, tensor, &cur->r, &err);
        if (rc == EMB_OK && tokens)
            rc = emb_reader_set_tokens(cur->r, tokens, &err);
        if (rc == EMB_OK && canFailMidway(fn->kind) && !sqlite3_get_autocommit(p->db))
            rc = validate(cur, fn->kind, path, tensor, &err);
        if (rc)
            rc = setError(&p->base, fn->zName, &err, rc);
    }
    if (rc != SQLITE_OK)
        return rc;
    if (cur->r)
        cur->dim = emb_reader_dim(cur->r);
    return readStep(p, tc);
}

/* xColumn: token_id, token, vector of the current row. */
static void readColumn(TvfCursor *tc, sqlite3_context *ctx, int i)
{
    const ReadState *cur = tc->pState;
    switch (i) {
    case 0:
        sqlite3_result_int64(ctx, cur->id);
        break;
    case 1:
        if (cur->tok)
            sqlite3_result_text(ctx, cur->tok, (int)cur->tok_len, SQLITE_TRANSIENT);
        else
            sqlite3_result_null(ctx);
        break;
    case 2:
        /* float32 in host order; embext targets little-endian hosts */
        sqlite3_result_blob(ctx, cur->vec, (int)(cur->dim * sizeof(float)),
                            SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_result_null(ctx);
        break;
    }
}

static const TvfStream readStream = {readStart, readStep, readColumn, readStop};

int embRegisterReaders(sqlite3 *db, EmbConn *conn)
{
    return embTvfRegister(db, conn, aReadFn, (int)(sizeof aReadFn / sizeof aReadFn[0]));
}
