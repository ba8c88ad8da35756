/*
 * vocab.h - token string -> token id hash map (open addressing).
 *
 * Keys are byte strings (need not be NUL-terminated, may hold any bytes);
 * the map copies them.  Used by the virtual table's cache and by the
 * analogy/evaluation code for O(1) token lookups.
 */
#ifndef EMB_VOCAB_H
#define EMB_VOCAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct emb_vocab emb_vocab;

emb_vocab *emb_vocab_new(size_t expected);
void emb_vocab_free(emb_vocab *v);
/* Insert or overwrite.  Returns 0, or EMB_ENOMEM (map unchanged). */
int emb_vocab_put(emb_vocab *v, const char *key, size_t n, int64_t id);
/* Remove the key if present. */
void emb_vocab_del(emb_vocab *v, const char *key, size_t n);
/* The id stored for key, or -1. */
int64_t emb_vocab_get(const emb_vocab *v, const char *key, size_t n);
size_t emb_vocab_count(const emb_vocab *v);

#endif
