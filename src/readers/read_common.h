/*
 * read_common.h - the reader object and the helpers (read_common.c) shared by
 * the format files (read_*.c, random.c) and the dispatch (reader.c).  Not for
 * users of the readers; see reader.h.  The format openers are declared in
 * read_formats.h, so helpers -> formats -> dispatch has no cycle.
 *
 * A format provides `int emb_<fmt>_open(emb_reader *r, const char *tensor,
 * emb_err *err)` that parses the header from r->data / r->n, sets r->dim,
 * r->rows and r->next, and returns 0 or an error.  reader.c then allocates
 * r->row (dim floats).  r->next fills r->row and the token (borrowed) and
 * returns EMB_OK, EMB_DONE or an error.
 */
#ifndef EMB_READ_COMMON_H
#define EMB_READ_COMMON_H

#include "readers/bytes.h"
#include "readers/reader.h"

/* element types of binary tensors */
enum { EMB_T_F32 = 1, EMB_T_F16, EMB_T_BF16, EMB_T_F64 };

/* A token column loaded from a vocabulary file (read_tokens.c). */
typedef struct emb_tokfile emb_tokfile;
/* Load `path` for a matrix of `rows` rows (ids must be below it). */
int emb_tokfile_load(const char *path, int64_t rows, emb_tokfile **out, emb_err *err);
/* Piece of id (borrowed): 1, or 0 when the id has none. */
int emb_tokfile_get(const emb_tokfile *v, int64_t id, const char **tok, size_t *len);
void emb_tokfile_free(emb_tokfile *v);

struct emb_reader {
    int kind;
    const char *comp;  /* "text", "npy", ... */
    char label[128];   /* file name for messages */
    emb_map map;       /* owned mapping (emb_reader_open), or empty */
    const uint8_t *data;
    size_t n;
    size_t dim;
    int64_t rows;      /* -1 unknown */
    int64_t row_id;    /* id of the next row */
    float *row;        /* dim floats */
    int status;        /* sticky: 0 running, EMB_DONE or an error */
    emb_err saved;     /* the sticky error */
    int (*next)(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err);

    emb_cur cur;       /* position in data */
    /* text */
    int64_t line;      /* line number of the line being read (1-based) */
    int has_header;
    /* tensors */
    const uint8_t *tdata; /* first byte of the tensor when it is held, else NULL */
    size_t toff;          /* GGUF / safetensors: file offset of the tensor */
    emb_map twin;         /* GGUF / safetensors: window over a tensor not held */
    int ttype;
    const struct emb_ggml_type *qtype; /* gguf block types; NULL = widen ttype */
    int fortran;
    size_t row_bytes;
    /* gguf tokens */
    emb_cur tok;
    int64_t n_tokens;
    int len_bytes;
    /* tokens from a vocabulary file (emb_reader_set_tokens), or NULL */
    emb_tokfile *vocab;
    /* random */
    uint64_t s[4];
    double spare, std;
    int has_spare;
};

/* A zeroed reader of `kind` (rows = -1), or NULL when out of memory. */
emb_reader *emb_rd_new(int kind, const char *label);

/* Set err to "<comp>: <label>: <fmt...>" and return code. */
int emb_rd_err(const emb_reader *r, emb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Readers that go through a file once (text, word2vec, npy) hold a window
 * of it (EMB_RD_WINDOW, reader.h): r->data / r->n is the window, r->cur a
 * position in it.
 * emb_rd_window makes at least `need` bytes from r->cur available (fewer
 * only at the end of the file), dropping the bytes before r->cur: pointers
 * into r->data taken before the call are stale after it.  Readers over
 * memory (emb_reader_open_mem) hold everything; the call does nothing. */
int emb_rd_window(emb_reader *r, size_t need, emb_err *err);
/* GGUF / safetensors, after the header is parsed: the tensor's bytes come
 * from r->data when the bytes read hold them (r->tdata), else through a
 * window of their own (r->twin, EMB_RD_WINDOW bytes) that takes over the
 * file from r->map.  emb_rd_tensor_row points *row at row r->row_id. */
int emb_rd_tensor_open(emb_reader *r, emb_err *err);
int emb_rd_tensor_row(emb_reader *r, const uint8_t **row, emb_err *err);
/* 1 when r->data holds the rest of the input (the window reaches its end). */
int emb_rd_at_end(const emb_reader *r);
/* File offset of r->cur (for "at byte N"), and the input's size in bytes. */
size_t emb_rd_offset(const emb_reader *r);
size_t emb_rd_size(const emb_reader *r);

/* Widen n elements of type ttype at src (little-endian) into out. */
void emb_rd_widen(float *out, const uint8_t *src, int ttype, size_t n);
/* Bytes per element (0 for block types). */
size_t emb_rd_type_size(int ttype);

#endif
