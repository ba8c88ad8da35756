/*
 * read_helpers.h - shared helpers for the reader unit tests (static, header
 * only): load a fixture, read a buffer to the end, check every truncated
 * prefix of a valid file.
 *
 * Fixtures are written by tests/fixtures/gen_fixtures.py; the folder is
 * $EMB_FIXTURES (tests/run.sh sets it) or tests/fixtures.
 */
#ifndef EMB_READ_HELPERS_H
#define EMB_READ_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers/reader.h"

static unsigned char *load_fixture(const char *rel, size_t *n)
{
    const char *dir = getenv("EMB_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "tests/fixtures", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Open bytes as `kind` and read to the end.  Returns EMB_DONE or an error
 * (err filled); *rows = rows read. */
static int drain(int kind, const void *buf, size_t n, const char *tensor, int64_t *rows,
                 emb_err *err)
{
    emb_reader *r;
    *rows = 0;
    int rc = emb_reader_open_mem(kind, buf, n, "f", tensor, &r, err);
    if (rc)
        return rc;
    int64_t id;
    const char *tok;
    size_t len;
    const float *vec;
    size_t dim = emb_reader_dim(r);
    volatile float sink = 0;
    while ((rc = emb_reader_next(r, &id, &tok, &len, &vec, err)) == EMB_OK) {
        for (size_t i = 0; i < dim; i++)
            sink += vec[i];
        for (size_t i = 0; i < len; i++)
            sink += (float)tok[i];
        (*rows)++;
    }
    (void)sink;
    emb_reader_free(r);
    return rc;
}

/* The whole fixture reads `want_rows` rows; every shorter prefix (copied to
 * an exact-size buffer, so ASan catches over-reads) fails with an error. */
static void check_prefixes(int kind, const char *rel, const char *tensor, int64_t want_rows)
{
    size_t n;
    unsigned char *buf = load_fixture(rel, &n);
    int64_t rows;
    emb_err err;
    int rc = drain(kind, buf, n, tensor, &rows, &err);
    if (rc != EMB_DONE)
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(rows, want_rows);
    for (size_t k = 0; k < n; k++) {
        unsigned char *p = malloc(k ? k : 1);
        memcpy(p, buf, k);
        rc = drain(kind, p, k, tensor, &rows, &err);
        free(p);
        if (rc >= 0)
            fail_msg("%s: prefix of %zu bytes accepted (%lld rows)", rel, k, (long long)rows);
    }
    free(buf);
}

/* Open must fail with exactly `msg`. */
static void expect_open_error(int kind, const void *buf, size_t n, const char *tensor,
                              const char *msg)
{
    int64_t rows;
    emb_err err = {0};
    int rc = drain(kind, buf, n, tensor, &rows, &err);
    if (rc >= 0)
        fail_msg("accepted, expected \"%s\"", msg);
    assert_string_equal(err.msg, msg);
}

#endif
