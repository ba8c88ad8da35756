/* bytes.c - bounds-checked byte cursor, little-endian loads, file mapping. */
#include "readers/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
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

int emb_map_open(emb_map *m, const char *path, const char *component, const char *label,
                 emb_err *err)
{
    m->data = NULL;
    m->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return emb_err_set(err, EMB_EIO, "%s: %s: cannot open (%s)", component, label,
                           strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return emb_err_set(err, EMB_EIO, "%s: %s: cannot stat (%s)", component, label,
                           strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return emb_err_set(err, EMB_EIO, "%s: %s: cannot read (%s)", component, label,
                           strerror(EISDIR));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return emb_err_set(err, EMB_EIO, "%s: %s: not a regular file", component, label);
    }
    if (st.st_size == 0) {
        close(fd);
        return emb_err_set(err, EMB_EFORMAT, "%s: %s: file is empty", component, label);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return emb_err_set(err, EMB_ERANGE, "%s: %s: file too large", component, label);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return emb_err_set(err, EMB_EIO, "%s: %s: cannot map (%s)", component, label,
                           strerror(e));
    madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    m->data = p;
    m->n = (size_t)st.st_size;
    return EMB_OK;
}

void emb_map_close(emb_map *m)
{
    if (m && m->data) {
        munmap((void *)m->data, m->n);
        m->data = NULL;
        m->n = 0;
    }
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
