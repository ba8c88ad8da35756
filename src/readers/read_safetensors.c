/*
 * read_safetensors.c - one 2-D tensor from a .safetensors file.
 *
 * Layout: u64 LE header length N, N bytes of JSON, then the data block.
 * The JSON is an object: tensor name -> {"dtype": "F32", "shape": [R, C],
 * "data_offsets": [begin, end]} (offsets relative to the data block), plus
 * an optional "__metadata__" object that is skipped.  The JSON parser here
 * is strict (RFC 8259 grammar, nesting limited to 64, no trailing commas,
 * only blanks after the object) and never allocates; names are compared
 * with their escapes decoded.  Accepted dtypes: F32, F16, BF16 (widened).
 * The tensor's byte range must lie inside the data block and match its
 * shape exactly.  A wrong name lists the available tensors.
 */
#include "readers/read_formats.h"

#include <stdio.h>
#include <string.h>

typedef struct js {
    const char *p, *end, *start;
    size_t base; /* file offset of start */
    const char *what;
} js;

static size_t js_off(const js *j)
{
    return j->base + (size_t)(j->p - j->start);
}

static void js_ws(js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int js_fail(js *j, const char *what)
{
    if (!j->what)
        j->what = what;
    return 0;
}

static int js_eat(js *j, char c)
{
    js_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A string: sets [*s, *e) to the raw text between the quotes. */
static int js_string(js *j, const char **s, const char **e)
{
    js_ws(j);
    if (j->p >= j->end || *j->p != '"')
        return js_fail(j, "expected a string");
    j->p++;
    *s = j->p;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20)
            return js_fail(j, "control character in string");
        if (c == '\\') {
            if (j->end - j->p < 2)
                return js_fail(j, "unterminated string");
            char x = j->p[1];
            if (x == 'u') {
                if (j->end - j->p < 6)
                    return js_fail(j, "bad \\u escape");
                for (int k = 2; k < 6; k++)
                    if (hexval(j->p[k]) < 0)
                        return js_fail(j, "bad \\u escape");
                j->p += 6;
                continue;
            }
            if (x == 0 || !strchr("\"\\/bfnrt", x))
                return js_fail(j, "bad escape");
            j->p += 2;
            continue;
        }
        j->p++;
    }
    if (j->p >= j->end)
        return js_fail(j, "unterminated string");
    *e = j->p++;
    return 1;
}

/* Does the raw JSON string [s, e) decode to the C string z?  (\uXXXX is
 * decoded to UTF-8, surrogate pairs included.) */
static int js_str_eq(const char *s, const char *e, const char *z)
{
    size_t zi = 0;
    while (s < e) {
        char buf[4];
        size_t n = 1;
        if (*s != '\\') {
            buf[0] = *s++;
        } else {
            char x = s[1];
            s += 2;
            if (x != 'u') {
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                buf[0] = to[strchr(from, x) - from];
            } else {
                unsigned cp = 0;
                for (int k = 0; k < 4; k++)
                    cp = cp * 16 + (unsigned)hexval(s[k]);
                s += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                    unsigned lo = 0;
                    for (int k = 2; k < 6; k++)
                        lo = lo * 16 + (unsigned)hexval(s[k]);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        s += 6;
                    }
                }
                if (cp < 0x80) {
                    buf[0] = (char)cp;
                } else if (cp < 0x800) {
                    buf[0] = (char)(0xC0 | (cp >> 6));
                    buf[1] = (char)(0x80 | (cp & 0x3F));
                    n = 2;
                } else if (cp < 0x10000) {
                    buf[0] = (char)(0xE0 | (cp >> 12));
                    buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    buf[2] = (char)(0x80 | (cp & 0x3F));
                    n = 3;
                } else {
                    buf[0] = (char)(0xF0 | (cp >> 18));
                    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    buf[3] = (char)(0x80 | (cp & 0x3F));
                    n = 4;
                }
            }
        }
        for (size_t k = 0; k < n; k++, zi++)
            if (z[zi] == 0 || z[zi] != buf[k])
                return 0;
    }
    return z[zi] == 0;
}

static int js_number(js *j)
{
    js_ws(j);
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || (unsigned)(*p - '0') >= 10)
        return js_fail(j, "expected a value");
    if (*p == '0')
        p++;
    else
        while (p < j->end && (unsigned)(*p - '0') < 10)
            p++;
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || (unsigned)(*p - '0') >= 10)
            return js_fail(j, "bad number");
        while (p < j->end && (unsigned)(*p - '0') < 10)
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || (unsigned)(*p - '0') >= 10)
            return js_fail(j, "bad number");
        while (p < j->end && (unsigned)(*p - '0') < 10)
            p++;
    }
    j->p = p;
    return 1;
}

/* A non-negative integer (no sign, fraction or exponent). */
static int js_uint(js *j, uint64_t *v)
{
    js_ws(j);
    const char *p = j->p;
    uint64_t x = 0;
    if (p >= j->end || (unsigned)(*p - '0') >= 10)
        return js_fail(j, "expected a non-negative integer");
    if (*p == '0' && p + 1 < j->end && (unsigned)(p[1] - '0') < 10)
        return js_fail(j, "bad number");
    while (p < j->end && (unsigned)(*p - '0') < 10) {
        if (x > (UINT64_MAX - 9) / 10)
            return js_fail(j, "integer too large");
        x = x * 10 + (uint64_t)(*p++ - '0');
    }
    if (p < j->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return js_fail(j, "expected a non-negative integer");
    j->p = p;
    *v = x;
    return 1;
}

static int js_word(js *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
        j->p += n;
        return 1;
    }
    return js_fail(j, "expected a value");
}

static int js_skip(js *j, int depth)
{
    if (depth > 64)
        return js_fail(j, "nesting too deep");
    js_ws(j);
    if (j->p >= j->end)
        return js_fail(j, "expected a value");
    const char *s, *e;
    switch (*j->p) {
    case '"': return js_string(j, &s, &e);
    case 't': return js_word(j, "true");
    case 'f': return js_word(j, "false");
    case 'n': return js_word(j, "null");
    case '[':
        j->p++;
        if (js_eat(j, ']'))
            return 1;
        do {
            if (!js_skip(j, depth + 1))
                return 0;
        } while (js_eat(j, ','));
        return js_eat(j, ']') ? 1 : js_fail(j, "expected ',' or ']'");
    case '{':
        j->p++;
        if (js_eat(j, '}'))
            return 1;
        do {
            if (!js_string(j, &s, &e))
                return 0;
            if (!js_eat(j, ':'))
                return js_fail(j, "expected ':'");
            if (!js_skip(j, depth + 1))
                return 0;
        } while (js_eat(j, ','));
        return js_eat(j, '}') ? 1 : js_fail(j, "expected ',' or '}'");
    default: return js_number(j);
    }
}

/* [a, b, ...] of at most `cap` integers; *n = how many there were. */
static int js_uints(js *j, uint64_t *v, int cap, int *n)
{
    if (!js_eat(j, '['))
        return js_fail(j, "expected '['");
    *n = 0;
    if (js_eat(j, ']'))
        return 1;
    do {
        uint64_t x;
        if (!js_uint(j, &x))
            return 0;
        if (*n < cap)
            v[*n] = x;
        (*n)++;
    } while (js_eat(j, ','));
    return js_eat(j, ']') ? 1 : js_fail(j, "expected ',' or ']'");
}

typedef struct tinfo {
    const char *dt, *dt_end;
    uint64_t shape[2], offs[2];
    int ndim, n_offs, have_dt, have_shape, have_offs;
} tinfo;

static int parse_tensor(js *j, tinfo *t)
{
    memset(t, 0, sizeof *t);
    if (!js_eat(j, '{'))
        return js_fail(j, "expected a tensor object");
    if (js_eat(j, '}'))
        return 1;
    do {
        const char *s, *e;
        if (!js_string(j, &s, &e))
            return 0;
        if (!js_eat(j, ':'))
            return js_fail(j, "expected ':'");
        if (js_str_eq(s, e, "dtype")) {
            if (!js_string(j, &t->dt, &t->dt_end))
                return 0;
            t->have_dt = 1;
        } else if (js_str_eq(s, e, "shape")) {
            if (!js_uints(j, t->shape, 2, &t->ndim))
                return 0;
            t->have_shape = 1;
        } else if (js_str_eq(s, e, "data_offsets")) {
            if (!js_uints(j, t->offs, 2, &t->n_offs))
                return 0;
            t->have_offs = 1;
        } else if (!js_skip(j, 2)) {
            return 0;
        }
    } while (js_eat(j, ','));
    return js_eat(j, '}') ? 1 : js_fail(j, "expected ',' or '}'");
}

static int st_next(emb_reader *r, const char **tok, size_t *tok_len, emb_err *err)
{
    (void)err;
    if (r->row_id >= r->rows)
        return EMB_DONE;
    emb_rd_widen(r->row, r->tdata + (size_t)r->row_id * r->row_bytes, r->ttype, r->dim);
    *tok = NULL;
    *tok_len = 0;
    return EMB_OK;
}

static void add_name(char *list, size_t cap, const char *s, const char *e, int *n_listed)
{
    size_t len = strlen(list), n = (size_t)(e - s);
    if (len + n + 8 >= cap)
        return;
    snprintf(list + len, cap - len, "%s%.*s", *n_listed ? ", " : "", (int)n, s);
    (*n_listed)++;
}

int emb_safetensors_open(emb_reader *r, const char *tensor, emb_err *err)
{
    emb_cur *c = &r->cur;
    emb_cur_init(c, r->data, r->n);
    if (!tensor)
        return emb_rd_err(r, err, EMB_EINVAL, "a tensor name is required");
    uint64_t hl;
    if (emb_cur_u64(c, &hl))
        return emb_rd_err(r, err, EMB_EFORMAT, "file too short for the header length (%zu bytes)",
                          r->n);
    const uint8_t *hp;
    if (hl > emb_cur_left(c) || emb_cur_bytes(c, (size_t)hl, &hp))
        return emb_rd_err(r, err, EMB_EFORMAT, "header length %llu exceeds file size %zu",
                          (unsigned long long)hl, r->n);
    size_t data_start = c->pos, data_len = r->n - data_start;
    js j = {(const char *)hp, (const char *)hp + hl, (const char *)hp, 8, NULL};
    char names[300] = "";
    int n_tensors = 0, n_listed = 0, found = 0;
    tinfo want = {0};
    if (!js_eat(&j, '{'))
        js_fail(&j, "expected '{'");
    else if (!js_eat(&j, '}')) {
        do {
            const char *s, *e;
            if (!js_string(&j, &s, &e))
                break;
            if (!js_eat(&j, ':')) {
                js_fail(&j, "expected ':'");
                break;
            }
            if (js_str_eq(s, e, "__metadata__")) {
                if (!js_skip(&j, 1))
                    break;
                continue;
            }
            tinfo t;
            if (!parse_tensor(&j, &t))
                break;
            n_tensors++;
            add_name(names, sizeof names, s, e, &n_listed);
            if (js_str_eq(s, e, tensor)) {
                want = t;
                found = 1;
            }
        } while (js_eat(&j, ','));
        if (!j.what && !js_eat(&j, '}'))
            js_fail(&j, "expected ',' or '}'");
    }
    js_ws(&j);
    if (!j.what && j.p != j.end)
        js_fail(&j, "unexpected text after the header object");
    if (j.what)
        return emb_rd_err(r, err, EMB_EFORMAT, "malformed JSON header: %s (at byte %zu)", j.what,
                          js_off(&j));
    if (!found)
        return emb_rd_err(r, err, EMB_ENOTFOUND, "no tensor '%.100s' (available: %s%s)", tensor,
                          n_tensors ? names : "none",
                          n_listed < n_tensors ? ", ..." : "");
    if (!want.have_dt || !want.have_shape || !want.have_offs)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "tensor '%.100s' needs dtype, shape and data_offsets", tensor);
    size_t dtn = (size_t)(want.dt_end - want.dt);
    int tt;
    if (dtn == 3 && memcmp(want.dt, "F32", 3) == 0)
        tt = EMB_T_F32;
    else if (dtn == 3 && memcmp(want.dt, "F16", 3) == 0)
        tt = EMB_T_F16;
    else if (dtn == 4 && memcmp(want.dt, "BF16", 4) == 0)
        tt = EMB_T_BF16;
    else
        return emb_rd_err(r, err, EMB_EUNSUP,
                          "tensor '%.100s' has unsupported dtype '%.*s' (expected F32, F16 or BF16)",
                          tensor, dtn > 20 ? 20 : (int)dtn, want.dt);
    if (want.ndim != 2)
        return emb_rd_err(r, err, EMB_EUNSUP, "tensor '%.100s' is %d-D (expected 2-D)", tensor,
                          want.ndim);
    if (want.n_offs != 2 || want.offs[0] > want.offs[1] || want.offs[1] > data_len)
        return emb_rd_err(r, err, EMB_ERANGE,
                          "tensor '%.100s' data_offsets [%llu, %llu] outside the data block "
                          "(%zu bytes at byte %zu)",
                          tensor, (unsigned long long)want.offs[0],
                          (unsigned long long)want.offs[1], data_len, data_start);
    if (want.shape[1] == 0 || want.shape[1] > EMB_MAX_DIM)
        return emb_rd_err(r, err, EMB_ERANGE, "tensor '%.100s' dimension %llu out of range (1..%d)",
                          tensor, (unsigned long long)want.shape[1], EMB_MAX_DIM);
    size_t row_bytes = (size_t)want.shape[1] * emb_rd_type_size(tt), need;
    uint64_t span = want.offs[1] - want.offs[0];
    if (want.shape[0] > (uint64_t)INT64_MAX ||
        emb_mul_size((size_t)want.shape[0], row_bytes, &need) || need != span)
        return emb_rd_err(r, err, EMB_EFORMAT,
                          "tensor '%.100s' shape [%llu, %llu] of %.*s does not match its %llu "
                          "data bytes",
                          tensor, (unsigned long long)want.shape[0],
                          (unsigned long long)want.shape[1], (int)dtn, want.dt,
                          (unsigned long long)span);
    r->tdata = r->data + data_start + want.offs[0];
    r->ttype = tt;
    r->rows = (int64_t)want.shape[0];
    r->dim = (size_t)want.shape[1];
    r->row_bytes = row_bytes;
    r->next = st_next;
    return EMB_OK;
}
