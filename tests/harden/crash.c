/*
 * crash.c - crash safety as a test: a child process bulk-loads and updates
 * two embedding tables in batches; the parent SIGKILLs it at random moments
 * and checks the database after every kill.
 *
 *   build/harden/crash [RUNS [SEED]]     (RUNS kills per journal mode, default 20)
 *   make harden-crash                     (200 kills per mode)
 *
 * Batch b is one transaction whose contents follow from b alone:
 *   - insert rows b*R .. b*R+R-1 into a (f32, dim 8, cosine, chunk_rows 16)
 *     and h (f16, dim 8, l2), vectors harden_vec(id, b), tokens 't<id>' in a,
 *     'h<id>' for odd ids in h; when b % 3 == 0 the rows of a come as one
 *     bulk INSERT ... SELECT from emb_random(R, 8, b) instead (the parent
 *     asks emb_random for the same rows when it checks);
 *   - rows 0, 5, 11 of batch b-1 get vectors harden_vec(id, b) in both;
 *   - row 7 of batch b-2 is deleted from both, row 3 of batch b-2 gets
 *     token 'u<id>_<b>' in a.
 * The child reports b through a pipe after COMMIT returns.  After each kill
 * the parent reopens the file and checks: PRAGMA integrity_check is ok; the
 * tables equal, byte for byte, the state after batch L or after batch L+1
 * (L = the last reported batch; L+1 when the kill fell between COMMIT and the
 * report) and nothing else, so every committed batch is there and nothing
 * uncommitted is visible; KNN (vector MATCH and emb_knn) equals a brute
 * force over that state.  The next child continues with the next batch.
 * Runs in WAL and in rollback-journal (DELETE) mode, each on a fresh file.
 */
#include "harden.h"
#include "../files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define R 16 /* rows per batch */

/* ---- the expected state ------------------------------------------------- */

/* Row id after batches 0..last: present? its vector version and tokens. */
static int expect_row(int64_t id, int64_t last, int64_t *ver, char *tok_a, char *tok_h, size_t cap)
{
    int64_t bi = id / R, j = id % R;
    if (bi > last || (j == 7 && bi + 2 <= last))
        return 0;
    *ver = (j == 0 || j == 5 || j == 11) && bi + 1 <= last ? bi + 1 : bi;
    if (j == 3 && bi + 2 <= last)
        snprintf(tok_a, cap, "u%lld_%lld", (long long)id, (long long)(bi + 2));
    else
        snprintf(tok_a, cap, "t%lld", (long long)id);
    if (id % 2)
        snprintf(tok_h, cap, "h%lld", (long long)id);
    else
        tok_h[0] = 0;
    return 1;
}

/* The vector of row id at version ver in table t ('a' or 'h'): harden_vec,
 * or for a's rows of a bulk batch (never updated since) row id % R of
 * emb_random(R, 8, batch), asked from db. */
static void expect_vec(sqlite3 *db, char t, int64_t id, int64_t ver, float *v)
{
    static int64_t cached_batch = -1;
    static float rows[R][HARDEN_DIM];
    int64_t bi = id / R;
    if (t != 'a' || ver != bi || bi % 3 != 0) {
        harden_vec(id, ver, v);
        return;
    }
    if (cached_batch != bi) {
        sqlite3_stmt *st = prepare_or_die(db, "select token_id, vector from emb_random(?1, 8, ?2)");
        sqlite3_bind_int(st, 1, R);
        sqlite3_bind_int64(st, 2, bi);
        int n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < R) {
            if (sqlite3_column_bytes(st, 1) != (int)sizeof rows[0])
                die("emb_random returned a vector of %d bytes", sqlite3_column_bytes(st, 1));
            memcpy(rows[n++], sqlite3_column_blob(st, 1), sizeof rows[0]);
        }
        if (sqlite3_finalize(st) != SQLITE_OK || n != R)
            die("emb_random(%d, 8, %lld): %s", R, (long long)bi, sqlite3_errmsg(db));
        cached_batch = bi;
    }
    memcpy(v, rows[id % R], sizeof rows[0]);
}

/* ---- the child ------------------------------------------------------------ */


static void child(const char *path, int64_t first, int fd)
{
    sqlite3 *db = harden_open(path, SQLITE_OPEN_READWRITE);
    sqlite3_stmt *ins_a = prepare_or_die(db, "insert into a(token_id, token, vector) values (?, ?, ?)");
    sqlite3_stmt *ins_h = prepare_or_die(db, "insert into h(token_id, token, vector) values (?, ?, ?)");
    sqlite3_stmt *upd_a = prepare_or_die(db, "update a set vector = ? where token_id = ?");
    sqlite3_stmt *upd_h = prepare_or_die(db, "update h set vector = ? where token_id = ?");
    sqlite3_stmt *del_a = prepare_or_die(db, "delete from a where token_id = ?");
    sqlite3_stmt *del_h = prepare_or_die(db, "delete from h where token_id = ?");
    sqlite3_stmt *tok_a = prepare_or_die(db, "update a set token = ? where token_id = ?");
    sqlite3_stmt *knn = prepare_or_die(db, "select token_id from a where vector match ? and k = 3");
    sqlite3_stmt *bulk = prepare_or_die(db, "insert into a(token_id, token, vector) "
                                            "select ?1 + token_id, 't' || (?1 + token_id), vector "
                                            "from emb_random(?2, 8, ?3)");
    char tok[64];
    for (int64_t b = first;; b++) {
        exec_or_die(db, "begin");
        if (b % 3 == 0) {
            sqlite3_bind_int64(bulk, 1, b * R);
            sqlite3_bind_int(bulk, 2, R);
            sqlite3_bind_int64(bulk, 3, b);
            harden_step_done(db, bulk, "child");
        }
        for (int64_t id = b * R; id < (b + 1) * R; id++) {
            if (b % 3 != 0) {
                snprintf(tok, sizeof tok, "t%lld", (long long)id);
                sqlite3_bind_int64(ins_a, 1, id);
                sqlite3_bind_text(ins_a, 2, tok, -1, SQLITE_TRANSIENT);
                harden_bind_vec(ins_a, 3, id, b);
                harden_step_done(db, ins_a, "child");
            }
            snprintf(tok, sizeof tok, "h%lld", (long long)id);
            sqlite3_bind_int64(ins_h, 1, id);
            if (id % 2)
                sqlite3_bind_text(ins_h, 2, tok, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(ins_h, 2);
            harden_bind_vec(ins_h, 3, id, b);
            harden_step_done(db, ins_h, "child");
        }
        if (b >= 1) {
            static const int js[] = {0, 5, 11};
            for (int k = 0; k < 3; k++) {
                int64_t id = (b - 1) * R + js[k];
                harden_bind_vec(upd_a, 1, id, b);
                sqlite3_bind_int64(upd_a, 2, id);
                harden_step_done(db, upd_a, "child");
                harden_bind_vec(upd_h, 1, id, b);
                sqlite3_bind_int64(upd_h, 2, id);
                harden_step_done(db, upd_h, "child");
            }
        }
        if (b >= 2) {
            sqlite3_bind_int64(del_a, 1, (b - 2) * R + 7);
            harden_step_done(db, del_a, "child");
            sqlite3_bind_int64(del_h, 1, (b - 2) * R + 7);
            harden_step_done(db, del_h, "child");
            int64_t id = (b - 2) * R + 3;
            snprintf(tok, sizeof tok, "u%lld_%lld", (long long)id, (long long)b);
            sqlite3_bind_text(tok_a, 1, tok, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(tok_a, 2, id);
            harden_step_done(db, tok_a, "child");
        }
        exec_or_die(db, "commit");
        if (write(fd, &b, sizeof b) != (ssize_t)sizeof b)
            _exit(3);
        if (b % 4 == 0) { /* keep this connection's in-memory copy live */
            harden_bind_vec(knn, 1, b, b + 1);
            while (sqlite3_step(knn) == SQLITE_ROW)
                ;
            sqlite3_reset(knn);
        }
    }
}

/* ---- the parent's checks ------------------------------------------------ */

/* Compare table t with the state after batch last; 1 if equal. */
static int table_equals(sqlite3 *db, const char *t, int64_t last, char *why, size_t cap)
{
    char sql[128];
    snprintf(sql, sizeof sql, "select token_id, token, vector from %s order by token_id", t);
    sqlite3_stmt *st = prepare_or_die(db, sql);
    int64_t id = 0, ver;
    char ta[64], th[64];
    int ok = 1;
    int rc;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t got = sqlite3_column_int64(st, 0);
        for (; id < got; id++)
            if (expect_row(id, last, &ver, ta, th, sizeof ta)) {
                snprintf(why, cap, "%s: row %lld missing", t, (long long)id);
                ok = 0;
                break;
            }
        if (!ok)
            break;
        if (!expect_row(got, last, &ver, ta, th, sizeof ta)) {
            snprintf(why, cap, "%s: row %lld present", t, (long long)got);
            ok = 0;
            break;
        }
        const char *want_tok = t[0] == 'a' ? ta : th;
        const unsigned char *tok = sqlite3_column_text(st, 1);
        if (want_tok[0] ? !tok || strcmp((const char *)tok, want_tok) != 0 : tok != NULL) {
            snprintf(why, cap, "%s: row %lld token '%s', expected '%s'", t, (long long)got,
                     tok ? (const char *)tok : "NULL", want_tok);
            ok = 0;
            break;
        }
        float v[HARDEN_DIM];
        expect_vec(db, t[0], got, ver, v);
        if (sqlite3_column_bytes(st, 2) != (int)sizeof v ||
            memcmp(sqlite3_column_blob(st, 2), v, sizeof v) != 0) {
            snprintf(why, cap, "%s: row %lld vector differs from version %lld", t, (long long)got,
                     (long long)ver);
            ok = 0;
            break;
        }
        id = got + 1;
    }
    if (ok && rc != SQLITE_DONE)
        die("%s: %s", sql, sqlite3_errmsg(db));
    for (; ok && id < (last + 1) * R; id++)
        if (expect_row(id, last, &ver, ta, th, sizeof ta)) {
            snprintf(why, cap, "%s: row %lld missing", t, (long long)id);
            ok = 0;
        }
    sqlite3_finalize(st);
    return ok;
}

static Hit *all_hits;
static size_t all_cap;

/* vector MATCH and emb_knn on table t against the brute force after last */
static int knn_checks(sqlite3 *db, const char *t, int metric, int64_t last, unsigned *seed, char *why,
                      size_t cap)
{
    size_t n_all = 0;
    if ((size_t)(last + 1) * R > all_cap) {
        all_cap = (size_t)(last + 1) * R * 2 + 64;
        all_hits = realloc(all_hits, all_cap * sizeof *all_hits);
        if (!all_hits)
            die("out of memory");
    }
    float q[HARDEN_DIM], v[HARDEN_DIM];
    harden_vec(rand_r(seed) % 1000, rand_r(seed) % 1000 + 3, q);
    char ta[64], th[64];
    int64_t ver;
    for (int64_t id = 0; id < (last + 1) * R; id++)
        if (expect_row(id, last, &ver, ta, th, sizeof ta)) {
            expect_vec(db, t[0], id, ver, v);
            all_hits[n_all].id = id;
            all_hits[n_all].d = harden_distance(q, v, metric);
            n_all++;
        }
    size_t k = 1 + rand_r(seed) % 12;
    for (int form = 0; form < 2; form++) {
        char sql[160];
        if (form == 0)
            snprintf(sql, sizeof sql, "select token_id, distance from %s where vector match ? and k = %zu", t, k);
        else
            snprintf(sql, sizeof sql, "select token_id, distance from emb_knn('%s', ?, %zu)", t, k);
        sqlite3_stmt *st = prepare_or_die(db, sql);
        sqlite3_bind_blob(st, 1, q, sizeof q, SQLITE_TRANSIENT);
        Hit got[16];
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < 16) {
            got[n].id = sqlite3_column_int64(st, 0);
            got[n].d = sqlite3_column_double(st, 1);
            n++;
        }
        if (sqlite3_finalize(st) != SQLITE_OK)
            die("%s: %s", sql, sqlite3_errmsg(db));
        char reason[120];
        if (!harden_knn_equal(got, n, all_hits, n_all, k, 1e-4, reason, sizeof reason)) {
            snprintf(why, cap, "%s: %s", sql, reason);
            return 0;
        }
    }
    return 1;
}

static void run_mode(const char *dir, const char *mode, int runs, unsigned seed)
{
    char path[512];
    snprintf(path, sizeof path, "%s/crash-%s.db", dir, mode);
    unlink(path);
    sqlite3 *db = harden_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    char sql[256];
    snprintf(sql, sizeof sql, "pragma journal_mode = %s", mode);
    exec_or_die(db, sql);
    exec_or_die(db, "create virtual table a using embedding(dim=8, chunk_rows=16);"
                    "create virtual table h using embedding(dim=8, dtype=f16, metric=l2)");
    sqlite3_close(db);

    int64_t last = -1; /* the last batch in the database */
    int late = 0, knn = 0;
    long batches = 0;
    for (int run = 0; run < runs; run++) {
        int fds[2];
        if (pipe(fds) != 0)
            die("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            close(fds[0]);
            child(path, last + 1, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* a random moment: sometimes at once (during open / recovery) */
        long us = rand_r(&seed) % 8 == 0 ? rand_r(&seed) % 3000 : 2000 + rand_r(&seed) % 150000;
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            die("%s run %d: the child ended by itself (status %d)", mode, run, status);
        int64_t b, reported = last;
        while (read(fds[0], &b, sizeof b) == (ssize_t)sizeof b) {
            if (b != reported + 1)
                die("%s run %d: child reported batch %lld after %lld", mode, run, (long long)b,
                    (long long)reported);
            reported = b;
        }
        close(fds[0]);

        db = harden_open(path, SQLITE_OPEN_READWRITE);
        sqlite3_stmt *st = prepare_or_die(db, "pragma integrity_check");
        if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
            die("%s run %d: integrity_check: %s", mode, run,
                sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        char why[400] = "", why2[400] = "";
        int64_t found;
        if (table_equals(db, "a", reported, why, sizeof why))
            found = reported;
        else if (table_equals(db, "a", reported + 1, why2, sizeof why2))
            found = reported + 1, late++;
        else
            die("%s run %d: table a is neither the state after batch %lld (%s) nor after %lld (%s)",
                mode, run, (long long)reported, why, (long long)reported + 1, why2);
        if (!table_equals(db, "h", found, why, sizeof why))
            die("%s run %d: table a is at batch %lld but h is not: %s", mode, run, (long long)found, why);
        if (!knn_checks(db, "a", METRIC_COSINE, found, &seed, why, sizeof why) ||
            !knn_checks(db, "h", METRIC_L2, found, &seed, why, sizeof why))
            die("%s run %d (batch %lld): %s", mode, run, (long long)found, why);
        knn += 4;
        sqlite3_close(db);
        batches += found - last;
        last = found;
    }
    printf("crash %s: %d SIGKILLs survived, %ld batches committed (%d found committed before "
           "their report), integrity ok, tables exact, %d KNN queries = brute force\n",
           mode, runs, batches, late, knn);
    emb_test_remove_db(path);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    unsigned seed = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)time(NULL);
    char dir[] = "/tmp/emb_crash.XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    printf("crash: seed %u, %d kills per mode\n", seed, runs);
    fflush(stdout);
    run_mode(dir, "wal", runs, seed);
    run_mode(dir, "delete", runs, seed + 1);
    rmdir(dir);
    free(all_hits);
    return 0;
}
