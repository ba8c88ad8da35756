/*
 * bytes.h - a bounds-checked cursor over a byte range, and whole-file
 * reading, for the file-format readers (read_*.c).
 *
 * Every read checks the bytes that remain first; a failed read leaves the
 * cursor where it was and returns EMB_EFORMAT without touching outputs, so a
 * reader can report "truncated ... at byte N" with N = emb_cur_pos().
 * Integers are little-endian in the file, whatever the host.
 */
#ifndef EMB_BYTES_H
#define EMB_BYTES_H

#include "core/emb.h"

#include <stddef.h>
#include <stdint.h>

typedef struct emb_cur {
    const uint8_t *base; /* borrowed: start of the range */
    size_t n;            /* bytes in the range */
    size_t pos;          /* next byte to read, 0 <= pos <= n */
} emb_cur;

void emb_cur_init(emb_cur *c, const void *base, size_t n);
static inline size_t emb_cur_left(const emb_cur *c) { return c->n - c->pos; }
static inline size_t emb_cur_pos(const emb_cur *c) { return c->pos; }

/* Each returns 0 or EMB_EFORMAT (not enough bytes left; cursor unchanged). */
int emb_cur_u8(emb_cur *c, uint8_t *out);
int emb_cur_u16(emb_cur *c, uint16_t *out);
int emb_cur_u32(emb_cur *c, uint32_t *out);
int emb_cur_u64(emb_cur *c, uint64_t *out);
/* Borrow `len` bytes (pointer into the range) and advance. */
int emb_cur_bytes(emb_cur *c, size_t len, const uint8_t **out);
int emb_cur_skip(emb_cur *c, size_t len);
/* Length-prefixed string: a u32 (len_bytes 4) or u64 (len_bytes 8) length,
 * then that many bytes (borrowed). */
int emb_cur_str(emb_cur *c, int len_bytes, const uint8_t **s, size_t *len);
/* Move to absolute position pos <= n. */
int emb_cur_seek(emb_cur *c, size_t pos);

/* Little-endian loads from unaligned memory. */
uint16_t emb_load_u16le(const uint8_t *p);
uint32_t emb_load_u32le(const uint8_t *p);
uint64_t emb_load_u64le(const uint8_t *p);
float emb_load_f32le(const uint8_t *p);
double emb_load_f64le(const uint8_t *p);

/* A file's bytes, read into private memory with pread (bytes.c says why:
 * no memory mapping, so a file truncated while it is read is an error,
 * never a SIGBUS).  An empty file is an error.  emb_map_close(NULL) and
 * closing a zeroed map are fine. */
typedef struct emb_map {
    const uint8_t *data; /* owned: n bytes of the file from byte off */
    size_t n;            /* bytes held */
    size_t off;          /* file offset of data[0]: 0 until emb_map_slide drops bytes */
    size_t cap;          /* room at data */
    size_t size;         /* the file's size when it was opened */
    int fd, has_fd;      /* open (has_fd 1) from emb_map_open_prefix until all is read */
} emb_map;

/* Open `path` and read all of it.  Errors name `component` and `label`
 * (callers pass the path as the user gave it, so the message points at
 * that file) and the OS reason:
 * "<component>: <label>: cannot open (No such file or directory)",
 * "... cannot read (Is a directory)", "... not a regular file",
 * "... file is empty", "... file shrank while being read (N bytes
 * expected, M read)", "... out of memory (file of N bytes)". */
int emb_map_open(emb_map *m, const char *path, const char *component, const char *label,
                 emb_err *err);
/* Open `path` and read only its first min(size, max_bytes) bytes (more with
 * emb_map_grow).  For formats whose header says where the one needed
 * region lies (GGUF, safetensors): only the bytes up to it are read. */
int emb_map_open_prefix(emb_map *m, const char *path, size_t max_bytes, const char *component,
                        const char *label, emb_err *err);
/* Read on until min(size, want) bytes are in (m->data may move). */
int emb_map_grow(emb_map *m, size_t want, const char *component, const char *label,
                 emb_err *err);
/* A window over the file, for readers that go through it once (text,
 * word2vec, npy): drop the first `drop` bytes held (off += drop), then hold
 * at least min(want, bytes left in the file from the new off), reading on
 * into the room there is (the room grows to `want` when that is larger).
 * m->data may move: pointers into it are stale after the call. */
int emb_map_slide(emb_map *m, size_t drop, size_t want, const char *component,
                  const char *label, emb_err *err);
void emb_map_close(emb_map *m);

/* The last path component (borrowed from path), for messages. */
const char *emb_basename(const char *path);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int emb_utf8_valid(const uint8_t *s, size_t n);

#endif
