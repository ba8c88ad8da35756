/* bytes.c - bounds-checked byte cursor, little-endian loads, file reading. */
#include "readers/bytes.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void emb_cur_init(emb_cur *c, const void *base, size_t n)
{
    c->base = base;
    c->n = n;
    c->pos = 0;
}

uint16_t emb_load_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t emb_load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t emb_load_u64le(const uint8_t *p)
{
    return (uint64_t)emb_load_u32le(p) | ((uint64_t)emb_load_u32le(p + 4) << 32);
}

float emb_load_f32le(const uint8_t *p)
{
    uint32_t u = emb_load_u32le(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

double emb_load_f64le(const uint8_t *p)
{
    uint64_t u = emb_load_u64le(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int emb_cur_bytes(emb_cur *c, size_t len, const uint8_t **out)
{
    if (len > emb_cur_left(c))
        return EMB_EFORMAT;
    *out = c->base + c->pos;
    c->pos += len;
    return EMB_OK;
}

int emb_cur_skip(emb_cur *c, size_t len)
{
    if (len > emb_cur_left(c))
        return EMB_EFORMAT;
    c->pos += len;
    return EMB_OK;
}

int emb_cur_seek(emb_cur *c, size_t pos)
{
    if (pos > c->n)
        return EMB_EFORMAT;
    c->pos = pos;
    return EMB_OK;
}

int emb_cur_u8(emb_cur *c, uint8_t *out)
{
    if (emb_cur_left(c) < 1)
        return EMB_EFORMAT;
    *out = c->base[c->pos++];
    return EMB_OK;
}

int emb_cur_u16(emb_cur *c, uint16_t *out)
{
    if (emb_cur_left(c) < 2)
        return EMB_EFORMAT;
    *out = emb_load_u16le(c->base + c->pos);
    c->pos += 2;
    return EMB_OK;
}

int emb_cur_u32(emb_cur *c, uint32_t *out)
{
    if (emb_cur_left(c) < 4)
        return EMB_EFORMAT;
    *out = emb_load_u32le(c->base + c->pos);
    c->pos += 4;
    return EMB_OK;
}

int emb_cur_u64(emb_cur *c, uint64_t *out)
{
    if (emb_cur_left(c) < 8)
        return EMB_EFORMAT;
    *out = emb_load_u64le(c->base + c->pos);
    c->pos += 8;
    return EMB_OK;
}

int emb_cur_str(emb_cur *c, int len_bytes, const uint8_t **s, size_t *len)
{
    size_t save = c->pos;
    uint64_t n;
    if (len_bytes == 4) {
        uint32_t n32;
        if (emb_cur_u32(c, &n32))
            return EMB_EFORMAT;
        n = n32;
    } else if (emb_cur_u64(c, &n)) {
        return EMB_EFORMAT;
    }
    if (n > emb_cur_left(c)) {
        c->pos = save;
        return EMB_EFORMAT;
    }
    *s = c->base + c->pos;
    *len = (size_t)n;
    c->pos += (size_t)n;
    return EMB_OK;
}

const char *emb_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash && slash[1])
        return slash + 1;
    if (!slash)
        return path;
    /* trailing slash: "dir/" -> keep the whole path */
    return path;
}

/* Files are read, not memory-mapped.  With a mapping, a file that another
 * process truncates while a reader walks it raises SIGBUS on the next
 * access past the new end, and that kills the host process (an extension
 * may not install signal handlers).  Reading with pread into private
 * memory turns the same event into a short read, which is reported as an
 * error; once read, the bytes cannot change under the parser.  The cost is
 * a copy out of the page cache (measured by bench/cases_import.py, `make
 * bench`).  Memory: a prefix (emb_map_open_prefix + emb_map_grow: a GGUF or
 * safetensors header) or a window that moves through the file
 * (emb_map_slide: text, word2vec and npy rows, a GGUF or safetensors
 * tensor), driven by reader.c and read_common.c.  The buffer is plain heap
 * memory: advising it as transparent huge pages
 * made filling it 3 times slower here (the kernel compacts memory to find
 * 2 MiB pages on each fault). */
#define MAP_CHUNK ((size_t)8 << 20)  /* bytes per pread call */

static void *buffer_alloc(size_t n)
{
    return emb_malloc(n ? n : 1);
}

/* Read on until m->n >= want (room for want at m->data): file bytes
 * [off + n, off + want). */
static int fill(emb_map *m, size_t want, const char *component, const char *label, emb_err *err)
{
    uint8_t *dst = (uint8_t *)m->data;
    while (m->n < want) {
        size_t len = want - m->n < MAP_CHUNK ? want - m->n : MAP_CHUNK;
        ssize_t got = pread(m->fd, dst + m->n, len, (off_t)(m->off + m->n));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return emb_err_set(err, EMB_EIO, "%s: %s: cannot read (%s)", component, label,
                               strerror(errno));
        if (got == 0)
            return emb_err_set(err, EMB_EIO,
                               "%s: %s: file shrank while being read (%zu bytes expected, %zu read)",
                               component, label, m->size, m->off + m->n);
        m->n += (size_t)got;
    }
    if (m->off + m->n == m->size) {
        close(m->fd); /* all read: nothing more to do with the file */
        m->fd = -1;
        m->has_fd = 0;
    }
    return EMB_OK;
}

int emb_map_open_prefix(emb_map *m, const char *path, size_t max_bytes, const char *component,
                        const char *label, emb_err *err)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return emb_err_set(err, EMB_EIO, "%s: %s: cannot open (%s)", component, label,
                           strerror(errno));
    }
    struct stat st;
    int rc = EMB_OK;
    if (fstat(fd, &st) != 0)
        rc = emb_err_set(err, EMB_EIO, "%s: %s: cannot stat (%s)", component, label,
                         strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = emb_err_set(err, EMB_EIO, "%s: %s: cannot read (%s)", component, label,
                         strerror(EISDIR));
    else if (!S_ISREG(st.st_mode))
        rc = emb_err_set(err, EMB_EIO, "%s: %s: not a regular file", component, label);
    else if (st.st_size == 0)
        rc = emb_err_set(err, EMB_EFORMAT, "%s: %s: file is empty", component, label);
    else if ((uint64_t)st.st_size > SIZE_MAX / 2)
        rc = emb_err_set(err, EMB_ERANGE, "%s: %s: file too large", component, label);
    if (rc) {
        close(fd);
        return rc;
    }
    m->fd = fd;
    m->has_fd = 1;
    m->size = (size_t)st.st_size;
    rc = emb_map_grow(m, max_bytes, component, label, err);
    if (rc)
        emb_map_close(m);
    return rc;
}

int emb_map_grow(emb_map *m, size_t want, const char *component, const char *label,
                 emb_err *err)
{
    if (want > m->size - m->off)
        want = m->size - m->off;
    if (want <= m->n)
        return EMB_OK;
    if (!m->has_fd)
        return emb_err_set(err, EMB_EIO, "%s: %s: file closed", component, label);
    uint8_t *p = buffer_alloc(want);
    if (!p)
        return emb_err_set(err, EMB_ENOMEM, "%s: %s: out of memory (file of %zu bytes)",
                           component, label, m->size);
    if (m->n)
        memcpy(p, m->data, m->n);
    emb_free((void *)m->data);
    m->data = p;
    m->cap = want;
    return fill(m, want, component, label, err);
}

int emb_map_slide(emb_map *m, size_t drop, size_t want, const char *component,
                  const char *label, emb_err *err)
{
    if (drop > m->n)
        drop = m->n;
    size_t keep = m->n - drop, left = m->size - m->off - drop;
    if (want > left)
        want = left;
    uint8_t *p = (uint8_t *)m->data;
    if (want <= keep || !m->has_fd) { /* drop only: what is wanted is held, or all is read */
        if (keep && drop)
            memmove(p, p + drop, keep);
        m->off += drop;
        m->n = keep;
        return want <= keep ? EMB_OK
                            : emb_err_set(err, EMB_EIO, "%s: %s: file closed", component, label);
    }
    if (want > m->cap) {
        p = buffer_alloc(want);
        if (!p)
            return emb_err_set(err, EMB_ENOMEM, "%s: %s: out of memory (%zu bytes of a file of %zu)",
                               component, label, want, m->size);
        if (keep)
            memcpy(p, m->data + drop, keep);
        emb_free((void *)m->data);
        m->data = p;
        m->cap = want;
    } else if (keep && drop) {
        memmove(p, p + drop, keep);
    }
    m->off += drop;
    m->n = keep;
    return fill(m, left < m->cap ? left : m->cap, component, label, err);
}

int emb_map_open(emb_map *m, const char *path, const char *component, const char *label,
                 emb_err *err)
{
    return emb_map_open_prefix(m, path, SIZE_MAX, component, label, err);
}

void emb_map_close(emb_map *m)
{
    if (!m)
        return;
    emb_free((void *)m->data);
    if (m->has_fd)
        close(m->fd);
    memset(m, 0, sizeof *m);
    m->fd = -1;
}

int emb_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (k > n - i - 1)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}
