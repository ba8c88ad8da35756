/* vocab.c - token -> id hash map: linear probing, FNV-1a, tombstones. */
#include "lm/vocab.h"
#include "core/alloc.h"

#include "core/emb.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char *key; /* NULL = empty; TOMBSTONE = deleted */
    size_t n;
    uint64_t hash;
    int64_t id;
} slot;

struct emb_vocab {
    slot *slots;
    size_t cap;   /* power of two */
    size_t count; /* live keys */
    size_t used;  /* live + tombstones */
};

static char tombstone_byte;
#define TOMBSTONE (&tombstone_byte)

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

emb_vocab *emb_vocab_new(size_t expected)
{
    emb_vocab *v = emb_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    size_t cap = 16;
    while (cap < expected * 2 && cap < ((size_t)1 << 40))
        cap <<= 1;
    v->slots = emb_calloc(cap, sizeof *v->slots);
    if (!v->slots) {
        emb_free(v);
        return NULL;
    }
    v->cap = cap;
    return v;
}

void emb_vocab_free(emb_vocab *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->cap; i++)
        if (v->slots[i].key && v->slots[i].key != TOMBSTONE)
            emb_free(v->slots[i].key);
    emb_free(v->slots);
    emb_free(v);
}

/* Index of the slot holding key, or of the first free slot on its probe
 * path (reusing a tombstone) when absent; *found tells which. */
static size_t probe(const emb_vocab *v, const char *key, size_t n, uint64_t h, int *found)
{
    size_t mask = v->cap - 1, i = h & mask, free_at = (size_t)-1;
    for (;;) {
        const slot *s = &v->slots[i];
        if (s->key == NULL) {
            *found = 0;
            return free_at != (size_t)-1 ? free_at : i;
        }
        if (s->key == TOMBSTONE) {
            if (free_at == (size_t)-1)
                free_at = i;
        } else if (s->hash == h && s->n == n && memcmp(s->key, key, n) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow(emb_vocab *v)
{
    size_t cap = v->cap * 2;
    slot *ns = emb_calloc(cap, sizeof *ns);
    if (!ns)
        return EMB_ENOMEM;
    for (size_t i = 0; i < v->cap; i++) {
        slot *s = &v->slots[i];
        if (!s->key || s->key == TOMBSTONE)
            continue;
        size_t j = s->hash & (cap - 1);
        while (ns[j].key)
            j = (j + 1) & (cap - 1);
        ns[j] = *s;
    }
    emb_free(v->slots);
    v->slots = ns;
    v->cap = cap;
    v->used = v->count;
    return EMB_OK;
}

int emb_vocab_put(emb_vocab *v, const char *key, size_t n, int64_t id)
{
    if ((v->used + 1) * 4 > v->cap * 3 && grow(v) != EMB_OK)
        return EMB_ENOMEM;
    uint64_t h = hash_bytes(key, n);
    int found;
    size_t i = probe(v, key, n, h, &found);
    if (found) {
        v->slots[i].id = id;
        return EMB_OK;
    }
    char *copy = emb_malloc(n + 1);
    if (!copy)
        return EMB_ENOMEM;
    memcpy(copy, key, n);
    copy[n] = 0;
    if (v->slots[i].key == NULL)
        v->used++;
    v->slots[i] = (slot){copy, n, h, id};
    v->count++;
    /* cppcheck-suppress memleak ; copy is owned by the slot (cppcheck misses the compound literal) */
    return EMB_OK;
}

void emb_vocab_del(emb_vocab *v, const char *key, size_t n)
{
    int found;
    size_t i = probe(v, key, n, hash_bytes(key, n), &found);
    if (!found)
        return;
    emb_free(v->slots[i].key);
    v->slots[i].key = TOMBSTONE;
    v->count--;
}

int64_t emb_vocab_get(const emb_vocab *v, const char *key, size_t n)
{
    int found;
    size_t i = probe(v, key, n, hash_bytes(key, n), &found);
    return found ? v->slots[i].id : -1;
}

size_t emb_vocab_count(const emb_vocab *v)
{
    return v->count;
}
