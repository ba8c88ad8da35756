/*
 * slurp.h - a whole file as a NUL-terminated heap string, for the test
 * programs (sqlrun.c, tests/oom/oom_sweep.c, tests/unit/test_security.c).
 * NULL when the file cannot be opened or read; free() the result.
 */
#ifndef EMB_TESTS_SLURP_H
#define EMB_TESTS_SLURP_H

#include <stdio.h>
#include <stdlib.h>

static char *emb_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

#endif
