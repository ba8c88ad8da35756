/*
 * sqlbench.c - time SQL statements from C, without a scripting language's
 * per-call overhead, several cases measured alternately.
 *
 *   build/bench/sqlbench --db bench/out/bench.db --ext ./embext --ext vec0 \
 *       --n 10000 --max-id 50000 --seed 7 --reps 7 \
 *       'plain|each|SELECT v FROM plain WHERE id = ?1' \
 *       'emb|each|SELECT vector FROM emb WHERE token_id = ?1' \
 *       'seq|json|SELECT vector FROM emb_sequence('"'"'emb'"'"', ?1)'
 *
 * Options: --db FILE (opened read-write), --ext PATH (load an extension,
 * repeatable), --pragma SQL (run after opening, repeatable), --n N ids,
 * --max-id M (ids are uniform in [0, M) from a fixed splitmix64 stream of
 * --seed), --reps R measured repetitions after --warmup W untimed ones
 * (default 1).  Statements are prepared when first run, so a case may use a
 * table that an earlier case creates (e.g. with --warmup 0 --reps 1).
 * Each case is "name|mode|SQL":
 *   each  prepare once, then for every id: bind ?1 = id, step all rows, reset
 *   json  run once with ?1 = the N ids as a JSON array text '[3,17,...]'
 *   once  run once, no parameter
 * Every case runs inside its own BEGIN ... COMMIT (one read transaction, as
 * a program doing many lookups would), and reads every column of every
 * row (blob bytes are touched) so no work is skipped.  Repetitions go
 * round-robin over the cases: rep 1 of each case, then rep 2, ...
 * Output, one JSON line per case:
 *   {"case": "emb", "rows": 10000, "times": [s, s, ...]}
 * ("rows": rows returned per repetition).  Errors go to stderr, exit 1.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CASES 16
#define MAX_EXT 4
#define MAX_PRAGMA 8

typedef struct Case {
    const char *name;
    const char *mode;
    const char *sql;
    sqlite3_stmt *stmt;
    double *times;
    long long rows;
} Case;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static volatile unsigned sink;

static int drain(sqlite3 *db, sqlite3_stmt *st, long long *rows)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        for (int c = 0; c < nc; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
                const unsigned char *p = sqlite3_column_blob(st, c);
                int nb = sqlite3_column_bytes(st, c);
                if (p && nb > 0)
                    sink += p[0] + p[nb - 1];
            } else {
                sink += (unsigned)sqlite3_column_int64(st, c);
            }
        }
        (*rows)++;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "sqlbench: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlbench: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int run_case(sqlite3 *db, Case *c, const int64_t *ids, int n, const char *json, double *t)
{
    long long rows = 0;
    if (!c->stmt && sqlite3_prepare_v2(db, c->sql, -1, &c->stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlbench: %s: %s\n", c->name, sqlite3_errmsg(db));
        return -1;
    }
    if (exec(db, "BEGIN"))
        return -1;
    double t0 = now();
    if (strcmp(c->mode, "each") == 0) {
        for (int i = 0; i < n; i++) {
            sqlite3_bind_int64(c->stmt, 1, ids[i]);
            if (drain(db, c->stmt, &rows))
                return -1;
            sqlite3_reset(c->stmt);
        }
    } else {
        if (strcmp(c->mode, "json") == 0)
            sqlite3_bind_text(c->stmt, 1, json, -1, SQLITE_STATIC);
        if (drain(db, c->stmt, &rows))
            return -1;
        sqlite3_reset(c->stmt);
    }
    *t = now() - t0;
    if (exec(db, "COMMIT"))
        return -1;
    c->rows = rows;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dbpath = NULL, *exts[MAX_EXT], *pragmas[MAX_PRAGMA];
    int n_ext = 0, n_pragma = 0, n = 1000, reps = 5, warmup = 1, n_cases = 0;
    long long max_id = 1000;
    uint64_t seed = 1;
    Case cases[MAX_CASES];
    memset(cases, 0, sizeof cases);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more)
            dbpath = argv[++i];
        else if (!strcmp(a, "--ext") && more && n_ext < MAX_EXT)
            exts[n_ext++] = argv[++i];
        else if (!strcmp(a, "--pragma") && more && n_pragma < MAX_PRAGMA)
            pragmas[n_pragma++] = argv[++i];
        else if (!strcmp(a, "--n") && more)
            n = atoi(argv[++i]);
        else if (!strcmp(a, "--max-id") && more)
            max_id = atoll(argv[++i]);
        else if (!strcmp(a, "--seed") && more)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--reps") && more)
            reps = atoi(argv[++i]);
        else if (!strcmp(a, "--warmup") && more)
            warmup = atoi(argv[++i]);
        else if (a[0] != '-' && n_cases < MAX_CASES) {
            char *s = strdup(a), *p1 = strchr(s, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
            if (!p2) {
                fprintf(stderr, "sqlbench: case must be name|mode|SQL: %s\n", a);
                return 2;
            }
            *p1 = *p2 = 0;
            cases[n_cases].name = s;
            cases[n_cases].mode = p1 + 1;
            cases[n_cases].sql = p2 + 1;
            n_cases++;
        } else {
            fprintf(stderr, "sqlbench: bad argument %s\n", a);
            return 2;
        }
    }
    if (!dbpath || n <= 0 || reps <= 0 || warmup < 0 || max_id <= 0 || n_cases == 0) {
        fprintf(stderr, "usage: sqlbench --db FILE [--ext P]... [--pragma SQL]... [--n N] "
                        "[--max-id M] [--seed S] [--reps R] [--warmup W] 'name|each|json|once|SQL'...\n");
        return 2;
    }

    int64_t *ids = malloc((size_t)n * sizeof *ids);
    char *json = malloc((size_t)n * 22 + 3);
    if (!ids || !json)
        return 1;
    size_t pos = 0;
    json[pos++] = '[';
    for (int i = 0; i < n; i++) {
        ids[i] = (int64_t)(splitmix64(&seed) % (uint64_t)max_id);
        pos += (size_t)sprintf(json + pos, "%s%lld", i ? "," : "", (long long)ids[i]);
    }
    json[pos++] = ']';
    json[pos] = 0;

    sqlite3 *db;
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlbench: cannot open %s\n", dbpath);
        return 1;
    }
    sqlite3_enable_load_extension(db, 1);
    for (int i = 0; i < n_ext; i++) {
        char *err = NULL;
        if (sqlite3_load_extension(db, exts[i], NULL, &err) != SQLITE_OK) {
            fprintf(stderr, "sqlbench: load %s: %s\n", exts[i], err ? err : "?");
            return 1;
        }
    }
    for (int i = 0; i < n_pragma; i++)
        if (exec(db, pragmas[i]))
            return 1;
    for (int c = 0; c < n_cases; c++) {
        cases[c].times = calloc((size_t)reps, sizeof(double));
        if (!cases[c].times)
            return 1;
    }
    for (int r = -warmup; r < reps; r++) { /* r < 0: warm-up, not recorded */
        for (int c = 0; c < n_cases; c++) {
            double t;
            if (run_case(db, &cases[c], ids, n, json, &t))
                return 1;
            if (r >= 0)
                cases[c].times[r] = t;
        }
    }
    for (int c = 0; c < n_cases; c++) {
        printf("{\"case\": \"%s\", \"rows\": %lld, \"times\": [", cases[c].name, cases[c].rows);
        for (int r = 0; r < reps; r++)
            printf("%s%.9f", r ? ", " : "", cases[c].times[r]);
        printf("]}\n");
        sqlite3_finalize(cases[c].stmt);
    }
    sqlite3_close(db);
    free(ids);
    free(json);
    return 0;
}
