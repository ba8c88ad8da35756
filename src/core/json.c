/*
 * json.c - the strict pull parser of json.h.  Every entry point first checks
 * the sticky error, skips blanks (space, tab, LF, CR), then reads exactly the
 * grammar it names.  Depth is counted by enter/next, and by skip for the
 * values it walks, so no input can recurse past EMB_JSON_MAX_DEPTH.
 */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

void emb_json_init(emb_json *j, const char *text, size_t n, size_t base)
{
    j->p = j->start = text;
    j->end = text + n;
    j->base = base;
    j->depth = 0;
    j->what = NULL;
}

size_t emb_json_off(const emb_json *j)
{
    return j->base + (size_t)(j->p - j->start);
}

int emb_json_fail(emb_json *j, const char *what)
{
    if (!j->what)
        j->what = what;
    return 0;
}

static void ws(emb_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
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

int emb_json_peek(emb_json *j)
{
    if (j->what)
        return EMB_JSON_NONE;
    ws(j);
    if (j->p >= j->end)
        return EMB_JSON_NONE;
    switch (*j->p) {
    case '{': return EMB_JSON_OBJECT;
    case '[': return EMB_JSON_ARRAY;
    case '"': return EMB_JSON_STRING;
    case 't': return EMB_JSON_TRUE;
    case 'f': return EMB_JSON_FALSE;
    case 'n': return EMB_JSON_NULL;
    default: return (*j->p == '-' || is_digit(*j->p)) ? EMB_JSON_NUMBER : EMB_JSON_NONE;
    }
}

static int eat(emb_json *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

int emb_json_enter(emb_json *j, char open)
{
    if (j->what)
        return 0;
    if (!eat(j, open))
        return emb_json_fail(j, open == '{' ? "expected '{'" : "expected '['");
    if (j->depth >= EMB_JSON_MAX_DEPTH)
        return emb_json_fail(j, "nesting too deep");
    j->depth++;
    if (eat(j, open == '{' ? '}' : ']')) {
        j->depth--;
        return 0;
    }
    return 1;
}

int emb_json_next(emb_json *j, char close)
{
    if (j->what)
        return 0;
    if (eat(j, ','))
        return 1;
    if (eat(j, close)) {
        j->depth--;
        return 0;
    }
    return emb_json_fail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

int emb_json_colon(emb_json *j)
{
    if (j->what)
        return 0;
    return eat(j, ':') ? 1 : emb_json_fail(j, "expected ':'");
}

int emb_json_string(emb_json *j, emb_json_str *out)
{
    if (j->what)
        return 0;
    ws(j);
    if (j->p >= j->end || *j->p != '"')
        return emb_json_fail(j, "expected a string");
    const char *p = j->p + 1, *s = p;
    int escaped = 0;
    while (p < j->end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) {
            j->p = p;
            return emb_json_fail(j, "control character in string");
        }
        if (c != '\\') {
            p++;
            continue;
        }
        escaped = 1;
        if (j->end - p < 2) {
            p = j->end;
            break;
        }
        char x = p[1];
        if (x == 'u') {
            if (j->end - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 ||
                hexval(p[5]) < 0) {
                j->p = p;
                return emb_json_fail(j, "bad \\u escape");
            }
            p += 6;
            continue;
        }
        if (x == 0 || !strchr("\"\\/bfnrt", x)) {
            j->p = p;
            return emb_json_fail(j, "bad escape");
        }
        p += 2;
    }
    if (p >= j->end) {
        j->p = p;
        return emb_json_fail(j, "unterminated string");
    }
    out->s = s;
    out->e = p;
    out->escaped = escaped;
    j->p = p + 1;
    return 1;
}

/* The extent of a number at j->p (after blanks): returns its end or NULL. */
static const char *number_end(emb_json *j)
{
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || !is_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < j->end && is_digit(*p))
            p++;
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || !is_digit(*p))
            return NULL;
        while (p < j->end && is_digit(*p))
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || !is_digit(*p))
            return NULL;
        while (p < j->end && is_digit(*p))
            p++;
    }
    if (p < j->end && is_digit(*p)) /* "01" */
        return NULL;
    return p;
}

int emb_json_number(emb_json *j, double *out)
{
    if (j->what)
        return 0;
    ws(j);
    const char *e = number_end(j);
    if (!e)
        return emb_json_fail(j, "expected a number");
    char buf[336];
    size_t n = (size_t)(e - j->p);
    if (n >= sizeof buf)
        return emb_json_fail(j, "number too long");
    memcpy(buf, j->p, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    j->p = e;
    return 1;
}

static int integer(emb_json *j, uint64_t *mag, int *neg, const char *what)
{
    if (j->what)
        return 0;
    ws(j);
    const char *e = number_end(j);
    if (!e)
        return emb_json_fail(j, what);
    const char *p = j->p;
    *neg = *p == '-';
    if (*neg)
        p++;
    uint64_t x = 0;
    for (; p < e && is_digit(*p); p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && digit > UINT64_MAX % 10))
            return emb_json_fail(j, "integer too large");
        x = x * 10 + digit;
    }
    if (p != e)
        return emb_json_fail(j, what);
    *mag = x;
    j->p = e;
    return 1;
}

int emb_json_uint(emb_json *j, uint64_t *out)
{
    const char *at = j->p;
    uint64_t m;
    int neg;
    if (!integer(j, &m, &neg, "expected a non-negative integer"))
        return 0;
    if (neg && m) {
        j->p = at;
        return emb_json_fail(j, "expected a non-negative integer");
    }
    *out = m;
    return 1;
}

int emb_json_int(emb_json *j, int64_t *out)
{
    const char *at = j->p;
    uint64_t m;
    int neg;
    if (!integer(j, &m, &neg, "expected an integer"))
        return 0;
    if (m > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        j->p = at;
        return emb_json_fail(j, "integer too large");
    }
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return 1;
}

static int word(emb_json *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
        j->p += n;
        return 1;
    }
    return emb_json_fail(j, "expected a value");
}

int emb_json_bool(emb_json *j, int *out)
{
    int k = emb_json_peek(j);
    if (k == EMB_JSON_TRUE && word(j, "true")) {
        *out = 1;
        return 1;
    }
    if (k == EMB_JSON_FALSE && word(j, "false")) {
        *out = 0;
        return 1;
    }
    return emb_json_fail(j, "expected true or false");
}

int emb_json_skip(emb_json *j)
{
    emb_json_str s;
    double d;
    int more;
    switch (emb_json_peek(j)) {
    case EMB_JSON_STRING: return emb_json_string(j, &s);
    case EMB_JSON_NUMBER: return emb_json_number(j, &d);
    case EMB_JSON_TRUE: return word(j, "true");
    case EMB_JSON_FALSE: return word(j, "false");
    case EMB_JSON_NULL: return word(j, "null");
    case EMB_JSON_ARRAY:
    case EMB_JSON_OBJECT: break;
    default: return emb_json_fail(j, "expected a value");
    }
    /* Iterative walk: `level` counts containers opened by this call; the
     * kind of each is recovered from the closer the grammar demands, kept
     * as a bit stack (1 = object) deep enough for EMB_JSON_MAX_DEPTH. */
    uint64_t kinds = 0;
    int level = 0;
    for (;;) {
        int k = emb_json_peek(j);
        if (level > 0 || k == EMB_JSON_ARRAY || k == EMB_JSON_OBJECT) {
            if (k == EMB_JSON_ARRAY || k == EMB_JSON_OBJECT) {
                int obj = k == EMB_JSON_OBJECT;
                more = emb_json_enter(j, obj ? '{' : '[');
                if (j->what)
                    return 0;
                if (more) {
                    kinds = (kinds << 1) | (uint64_t)obj;
                    level++;
                    if (obj && !(emb_json_string(j, &s) && emb_json_colon(j)))
                        return 0;
                    continue;
                }
            } else if (!emb_json_skip(j)) { /* a scalar: no recursion beyond one level */
                return 0;
            }
        }
        /* a value just ended inside the container at `level` */
        while (level > 0) {
            int obj = (int)(kinds & 1);
            more = emb_json_next(j, obj ? '}' : ']');
            if (j->what)
                return 0;
            if (more) {
                if (obj && !(emb_json_string(j, &s) && emb_json_colon(j)))
                    return 0;
                break;
            }
            kinds >>= 1;
            level--;
        }
        if (level == 0)
            return 1;
    }
}

int emb_json_end(emb_json *j)
{
    if (j->what)
        return 0;
    ws(j);
    return j->p == j->end ? 1 : emb_json_fail(j, "unexpected text after the value");
}

/* Decode the next character of [*p, e) into buf; returns its byte count. */
static size_t decode_one(const char **pp, const char *e, char buf[4])
{
    const char *p = *pp;
    if (*p != '\\') {
        buf[0] = *p;
        *pp = p + 1;
        return 1;
    }
    char x = p[1];
    if (x != 'u') {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        buf[0] = to[strchr(from, x) - from];
        *pp = p + 2;
        return 1;
    }
    unsigned cp = 0;
    for (int k = 2; k < 6; k++)
        cp = cp * 16 + (unsigned)hexval(p[k]);
    p += 6;
    if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
        unsigned lo = 0;
        for (int k = 2; k < 6; k++)
            lo = lo * 16 + (unsigned)hexval(p[k]);
        if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
    }
    if (cp >= 0xD800 && cp < 0xE000)
        cp = 0xFFFD; /* lone surrogate */
    *pp = p;
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int emb_json_str_eq(const emb_json_str *s, const char *z)
{
    size_t zn = strlen(z);
    if (!s->escaped)
        return (size_t)(s->e - s->s) == zn && memcmp(s->s, z, zn) == 0;
    size_t zi = 0;
    for (const char *p = s->s; p < s->e;) {
        char buf[4];
        size_t n = decode_one(&p, s->e, buf);
        if (zi + n > zn || memcmp(z + zi, buf, n) != 0)
            return 0;
        zi += n;
    }
    return zi == zn;
}

size_t emb_json_str_len(const emb_json_str *s)
{
    if (!s->escaped)
        return (size_t)(s->e - s->s);
    size_t n = 0;
    for (const char *p = s->s; p < s->e;) {
        char buf[4];
        n += decode_one(&p, s->e, buf);
    }
    return n;
}

size_t emb_json_str_decode(const emb_json_str *s, char *out)
{
    if (!s->escaped) {
        memcpy(out, s->s, (size_t)(s->e - s->s));
        return (size_t)(s->e - s->s);
    }
    size_t n = 0;
    for (const char *p = s->s; p < s->e;)
        n += decode_one(&p, s->e, out + n);
    return n;
}
