/*
 * files.h - file helpers for the test programs (static, header only).
 *
 *   emb_test_slurp(path)      a whole file as a NUL-terminated heap string
 *                             (sqlrun.c, tests/oom/oom_sweep.c,
 *                             tests/unit/test_security.c); NULL when the
 *                             file cannot be opened or read; free() it
 *   emb_test_remove_db(path)  a database file and its -wal, -shm and
 *                             -journal files, those that exist
 */
#ifndef EMB_TESTS_FILES_H
#define EMB_TESTS_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline char *emb_test_slurp(const char *path)
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

static inline void emb_test_remove_db(const char *path)
{
    static const char *const side[] = {"-wal", "-shm", "-journal"};
    char f[1024];
    unlink(path);
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s%s", path, side[i]);
        unlink(f);
    }
}

#endif
