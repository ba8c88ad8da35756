/*
 * json.h - a strict, non-allocating pull parser for JSON text (RFC 8259).
 *
 * The parser walks a borrowed byte range with a cursor; the caller asks for
 * the value it expects next (object, array, string, number, literal) or skips
 * one.  Nothing is allocated: strings come back as raw spans between their
 * quotes, and emb_json_str_eq / emb_json_str_decode decode escapes (\uXXXX
 * to UTF-8, surrogate pairs joined, a lone surrogate becomes U+FFFD) when the
 * caller needs the text.  Grammar: no trailing commas, no comments, numbers
 * as RFC 8259 (no leading zeros, no '+', no NaN), control characters in
 * strings refused, nesting limited to EMB_JSON_MAX_DEPTH.  Raw string bytes
 * are not checked as UTF-8 here (callers that store text do that).
 *
 * Every function returns 1 on success and 0 on failure; the first failure
 * is kept in j->what (a static message) with its position emb_json_off(j),
 * and every later call fails too, so a caller may chain calls and check once.
 *
 *   emb_json j; emb_json_str key;
 *   emb_json_init(&j, text, n, 0);
 *   int more = emb_json_enter(&j, '{');         // 1: a member follows
 *   while (more) {
 *       emb_json_string(&j, &key); emb_json_colon(&j);
 *       if (emb_json_str_eq(&key, "dim")) emb_json_uint(&j, &dim);
 *       else emb_json_skip(&j);
 *       more = emb_json_next(&j, '}');         // ',' -> 1, '}' -> 0
 *   }
 *   emb_json_end(&j);                          // only blanks may remain
 *   if (j.what) -> "...: %s (at byte %zu)", j.what, emb_json_off(&j)
 */
#ifndef EMB_JSON_H
#define EMB_JSON_H

#include <stddef.h>
#include <stdint.h>

#define EMB_JSON_MAX_DEPTH 64

/* kinds returned by emb_json_peek */
enum {
    EMB_JSON_NONE = 0, /* end of input or an error */
    EMB_JSON_OBJECT,
    EMB_JSON_ARRAY,
    EMB_JSON_STRING,
    EMB_JSON_NUMBER,
    EMB_JSON_TRUE,
    EMB_JSON_FALSE,
    EMB_JSON_NULL
};

typedef struct emb_json {
    const char *p, *end, *start; /* borrowed input [start, end), cursor p */
    size_t base;                 /* offset of start in the file, for messages */
    int depth;                   /* open objects/arrays */
    const char *what;            /* first error, NULL while all is well */
} emb_json;

/* A string as it appears in the text: [s, e) between the quotes, escapes
 * not decoded.  `escaped` is 0 when it holds no backslash (raw == decoded). */
typedef struct emb_json_str {
    const char *s, *e;
    int escaped;
} emb_json_str;

void emb_json_init(emb_json *j, const char *text, size_t n, size_t base);
/* Offset of the cursor (base + bytes consumed), for messages. */
size_t emb_json_off(const emb_json *j);
/* Record an error (the first one sticks); returns 0. */
int emb_json_fail(emb_json *j, const char *what);

/* Kind of the next value (after blanks), without consuming it. */
int emb_json_peek(emb_json *j);

/* Open an object ('{') or array ('['); returns 1 when a member/element
 * follows, 0 when it is empty (the closer is consumed) or on error. */
int emb_json_enter(emb_json *j, char open);
/* After a member/element: ',' -> 1 (another follows); the closer -> 0
 * (consumed); anything else -> 0 with an error.  `close` is '}' or ']'. */
int emb_json_next(emb_json *j, char close);
/* The ':' after an object key. */
int emb_json_colon(emb_json *j);

int emb_json_string(emb_json *j, emb_json_str *out);
/* A number, converted with strtod (exact for every value JSON writers emit
 * from doubles). */
int emb_json_number(emb_json *j, double *out);
/* An integer without fraction or exponent, in range. */
int emb_json_int(emb_json *j, int64_t *out);
int emb_json_uint(emb_json *j, uint64_t *out);
/* true / false. */
int emb_json_bool(emb_json *j, int *out);
/* Skip one whole value of any kind. */
int emb_json_skip(emb_json *j);
/* Only blanks remain. */
int emb_json_end(emb_json *j);

/* Does the decoded string equal the C string z? */
int emb_json_str_eq(const emb_json_str *s, const char *z);
/* Decoded length in bytes (never more than the raw length e - s). */
size_t emb_json_str_len(const emb_json_str *s);
/* Decode into out (room for emb_json_str_len bytes; no terminator added);
 * returns the number of bytes written. */
size_t emb_json_str_decode(const emb_json_str *s, char *out);

#endif
