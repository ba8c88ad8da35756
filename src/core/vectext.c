/* vectext.c - strict JSON vector parsing and shortest round-trip printing. */
#include "core/vectext.h"
#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the JSON number starting at s[0] (s has n bytes), 0 if none. */
static size_t json_number_len(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && is_digit(s[i]))
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i;
}

static const char *describe(const char *s, size_t n, size_t i, char *buf, size_t cap)
{
    if (i >= n)
        return "end of text";
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

int emb_json_parse(const char *text, size_t n, float **out, size_t *dim, emb_err *err)
{
    size_t i = 0, count = 0, cap = 16;
    char what[16], num[400];
    float *v = emb_malloc(cap * sizeof *v);
    if (!v)
        return emb_err_set(err, EMB_ENOMEM, "out of memory");
    while (i < n && is_ws(text[i]))
        i++;
    if (i >= n || text[i] != '[') {
        emb_err_set(err, EMB_EINVAL, "expected '[' at offset %zu (found %s)", i,
                    describe(text, n, i, what, sizeof what));
        goto fail;
    }
    i++;
    for (;;) {
        while (i < n && is_ws(text[i]))
            i++;
        size_t len = json_number_len(text + i, n - i);
        if (len == 0) {
            emb_err_set(err, EMB_EINVAL, "expected a number at offset %zu (found %s)", i,
                        describe(text, n, i, what, sizeof what));
            goto fail;
        }
        if (len >= sizeof num) {
            emb_err_set(err, EMB_EINVAL, "number at offset %zu is too long (%zu chars)", i, len);
            goto fail;
        }
        memcpy(num, text + i, len);
        num[len] = 0;
        float f = strtof(num, NULL);
        if (!isfinite(f)) {
            emb_err_set(err, EMB_EINVAL, "number %s at offset %zu is out of float32 range", num, i);
            goto fail;
        }
        if (count == cap) {
            if (cap >= EMB_MAX_DIM) {
                emb_err_set(err, EMB_ERANGE, "more than %d values (dimension limit)", EMB_MAX_DIM);
                goto fail;
            }
            float *nv = emb_realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                emb_err_set(err, EMB_ENOMEM, "out of memory");
                goto fail;
            }
            v = nv;
            cap *= 2;
        }
        v[count++] = f;
        i += len;
        while (i < n && is_ws(text[i]))
            i++;
        if (i < n && text[i] == ',') {
            i++;
            continue;
        }
        if (i < n && text[i] == ']') {
            i++;
            break;
        }
        emb_err_set(err, EMB_EINVAL, "expected ',' or ']' at offset %zu (found %s)", i,
                    describe(text, n, i, what, sizeof what));
        goto fail;
    }
    while (i < n && is_ws(text[i]))
        i++;
    if (i < n) {
        emb_err_set(err, EMB_EINVAL, "unexpected %s after ']' at offset %zu",
                    describe(text, n, i, what, sizeof what), i);
        goto fail;
    }
    *out = v;
    *dim = count;
    return EMB_OK;
fail:
    emb_free(v);
    return err ? err->code : EMB_EINVAL;
}

int emb_float_format(char *buf, float f)
{
    /* %.9g always round-trips a float32; find the shortest that does. */
    int len = 0;
    for (int prec = 1; prec <= 9; prec++) {
        len = snprintf(buf, 32, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    /* make sure JSON readers see a number: "%g" never emits "inf"/"nan" for
     * finite input, and "1e+20" is valid JSON. */
    return len;
}

char *emb_json_format(const float *v, size_t dim)
{
    size_t cap = 2 + dim * 17 + 1, len = 0;
    char *s = emb_malloc(cap);
    if (!s)
        return NULL;
    s[len++] = '[';
    for (size_t i = 0; i < dim; i++) {
        char tmp[32];
        int k = emb_float_format(tmp, v[i]);
        if (len + (size_t)k + 3 > cap) {
            cap = cap * 2 + (size_t)k + 3;
            char *ns = emb_realloc(s, cap);
            if (!ns) {
                emb_free(s);
                return NULL;
            }
            s = ns;
        }
        if (i)
            s[len++] = ',';
        memcpy(s + len, tmp, (size_t)k);
        len += (size_t)k;
    }
    s[len++] = ']';
    s[len] = 0;
    return s;
}
