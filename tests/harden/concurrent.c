/*
 * concurrent.c - concurrency as a test: one writer and several readers on
 * one WAL database; every read must see exactly one committed transaction,
 * never a mix of two, never one older than the last that had committed when
 * the read began.
 *
 *   build/harden/concurrent procs   [N_TXN [N_READERS]]   writer and readers are processes
 *   build/harden/concurrent threads [N_TXN [N_READERS]]   threads, one SQLITE_OPEN_FULLMUTEX
 *                                                          connection each (make harden-tsan
 *                                                          builds this under ThreadSanitizer)
 *
 * Table w (f32, dim 8, cosine, chunk_rows 8).  State t (after transaction t):
 *   rows 0 .. R-1 with vector harden_vec(id, t) and token 'r<id>', except row
 *   t % R whose token is 'x<t>'; and one extra row 1000 + t, token 'e<t>',
 *   vector harden_vec(1000 + t, t).
 * Transaction t (the writer) updates every vector, moves the 'x' token,
 * deletes row 1000 + t - 1 and inserts row 1000 + t, then publishes t (shared
 * memory) after COMMIT returns.  A reader notes the published t0 before a
 * statement and t1 after it; the database was at some t in [t0, t1 + 1]
 * meanwhile.  Each read must equal state t for one such t:
 *   - scan: every row, token and vector byte for byte;
 *   - lookups: token_id IN (...) and emb_lookup, vectors byte for byte;
 *   - KNN: vector MATCH ... AND k (with the vectors it returns), emb_knn and
 *     emb_most_similar against a brute force over state t.
 * Prints how many transactions were committed and how many reads checked.
 */
#include "harden.h"
#include "../files.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define R 40
#define EXTRA 1000
#define MAX_READS_KINDS 6

typedef struct {
    _Atomic long long published; /* last committed transaction */
    _Atomic int done;
    _Atomic long long reads[MAX_READS_KINDS];
    _Atomic long long distinct; /* reads that saw a newer state than the previous read */
} Shared;

static Shared *sh;
static const char *db_path;
static int n_txn;

/* ---- state t -------------------------------------------------------------- */

static void token_of(int64_t id, long long t, char *out, size_t cap)
{
    if (id >= EXTRA)
        snprintf(out, cap, "e%lld", t);
    else if (id == t % R)
        snprintf(out, cap, "x%lld", t);
    else
        snprintf(out, cap, "r%lld", (long long)id);
}

static int64_t row_id(int i, long long t) { return i < R ? i : EXTRA + t; }

/* ---- the writer ------------------------------------------------------------- */


static void writer(int flags)
{
    sqlite3 *db = harden_open(db_path, flags);
    sqlite3_stmt *upd = prepare_or_die(db, "update w set vector = ? where token_id = ?");
    sqlite3_stmt *tok = prepare_or_die(db, "update w set token = ? where token_id = ?");
    sqlite3_stmt *del = prepare_or_die(db, "delete from w where token_id = ?");
    sqlite3_stmt *ins = prepare_or_die(db, "insert into w(token_id, token, vector) values (?, ?, ?)");
    char s[32];
    for (long long t = 1; t <= n_txn; t++) {
        exec_or_die(db, "begin immediate");
        for (int64_t id = 0; id < R; id++) {
            harden_bind_vec(upd, 1, id, t);
            sqlite3_bind_int64(upd, 2, id);
            harden_step_done(db, upd, "writer");
        }
        int64_t old = (t - 1) % R;
        token_of(old, t, s, sizeof s); /* back to r<id> (or x<t> when old == t % R) */
        sqlite3_bind_text(tok, 1, s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(tok, 2, old);
        harden_step_done(db, tok, "writer");
        token_of(t % R, t, s, sizeof s);
        sqlite3_bind_text(tok, 1, s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(tok, 2, t % R);
        harden_step_done(db, tok, "writer");
        sqlite3_bind_int64(del, 1, EXTRA + t - 1);
        harden_step_done(db, del, "writer");
        sqlite3_bind_int64(ins, 1, EXTRA + t);
        token_of(EXTRA + t, t, s, sizeof s);
        sqlite3_bind_text(ins, 2, s, -1, SQLITE_TRANSIENT);
        harden_bind_vec(ins, 3, EXTRA + t, t);
        harden_step_done(db, ins, "writer");
        exec_or_die(db, "commit");
        atomic_store(&sh->published, t);
    }
    atomic_store(&sh->done, 1);
    sqlite3_finalize(upd);
    sqlite3_finalize(tok);
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_close(db);
}

/* ---- the readers ------------------------------------------------------------- */

typedef struct {
    int64_t id;
    char tok[32];
    int has_vec;
    float v[HARDEN_DIM];
    double d;
} Row;

/* Run sql (one optional blob parameter) and collect up to cap rows of
 * (token_id, [token], [vector], [distance]) per the column names. */
static int collect(sqlite3 *db, sqlite3_stmt *st, Row *rows, int cap)
{
    int n = 0, rc;
    int cols = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap)
            die("reader: %s: more than %d rows", sqlite3_sql(st), cap);
        Row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        for (int c = 0; c < cols; c++) {
            const char *name = sqlite3_column_name(st, c);
            if (strcmp(name, "token_id") == 0)
                r->id = sqlite3_column_int64(st, c);
            else if (strcmp(name, "token") == 0) {
                const unsigned char *s = sqlite3_column_text(st, c);
                snprintf(r->tok, sizeof r->tok, "%s", s ? (const char *)s : "NULL");
            } else if (strcmp(name, "vector") == 0 || strncmp(name, "emb_lookup", 10) == 0) {
                if (sqlite3_column_bytes(st, c) == (int)sizeof r->v) {
                    memcpy(r->v, sqlite3_column_blob(st, c), sizeof r->v);
                    r->has_vec = 1;
                } else {
                    r->has_vec = -1;
                }
            } else if (strcmp(name, "distance") == 0 || strcmp(name, "score") == 0) {
                r->d = sqlite3_column_double(st, c);
            }
        }
    }
    if (rc != SQLITE_DONE)
        die("reader: %s: %s", sqlite3_sql(st), sqlite3_errmsg(db));
    sqlite3_reset(st);
    return n;
}

static int vec_is(const Row *r, long long t)
{
    float v[HARDEN_DIM];
    harden_vec(r->id, t, v);
    return r->has_vec == 1 && memcmp(r->v, v, sizeof v) == 0;
}

/* scan: exactly state t */
static int scan_is(const Row *rows, int n, long long t)
{
    if (n != R + 1)
        return 0;
    char s[32];
    for (int i = 0; i < n; i++) {
        if (rows[i].id != row_id(i, t) || !vec_is(&rows[i], t))
            return 0;
        token_of(rows[i].id, t, s, sizeof s);
        if (strcmp(rows[i].tok, s) != 0)
            return 0;
    }
    return 1;
}

/* KNN rows vs the brute force over state t; exclude >= 0 leaves that id out
 * and score = 1 - distance (emb_most_similar) */
static int knn_is(const Row *rows, int n, long long t, const float *q, size_t k, int exclude,
                  int check_vecs)
{
    Hit all[R + 1], got[16];
    size_t n_all = 0;
    float v[HARDEN_DIM];
    for (int i = 0; i < R + 1; i++) {
        int64_t id = row_id(i, t);
        if (id == exclude)
            continue;
        harden_vec(id, t, v);
        all[n_all].id = id;
        all[n_all].d = harden_distance(q, v, METRIC_COSINE);
        n_all++;
    }
    for (int i = 0; i < n && i < 16; i++) {
        got[i].id = rows[i].id;
        got[i].d = exclude >= 0 ? 1.0 - rows[i].d : rows[i].d;
        if (check_vecs && !vec_is(&rows[i], t))
            return 0;
    }
    char why[200];
    return harden_knn_equal(got, (size_t)n, all, n_all, k, 1e-4, why, sizeof why);
}

enum { RD_SCAN, RD_LOOKUP, RD_KNN, RD_EMB_KNN, RD_MOST_SIMILAR, RD_EMB_LOOKUP };
static const char *const read_names[] = {"scan", "token_id IN", "vector MATCH", "emb_knn",
                                         "emb_most_similar", "emb_lookup"};

static void reader(int flags, unsigned seed)
{
    sqlite3 *db = harden_open(db_path, flags);
    sqlite3_stmt *st[MAX_READS_KINDS];
    st[RD_SCAN] = prepare_or_die(db, "select token_id, token, vector from w");
    st[RD_LOOKUP] = prepare_or_die(db, "select token_id, vector from w where token_id in (0, 7, 39, ?1)");
    st[RD_KNN] = prepare_or_die(db, "select token_id, distance, vector from w where vector match ?1 and k = 6");
    st[RD_EMB_KNN] = prepare_or_die(db, "select token_id, distance from emb_knn('w', ?1, 6)");
    st[RD_MOST_SIMILAR] = prepare_or_die(db, "select token_id, score from emb_most_similar('w', '[5]', null, 6)");
    st[RD_EMB_LOOKUP] = prepare_or_die(db, "select token_id, emb_lookup('w', token_id) from w where token_id in (1, 2, 30)");
    Row rows[R + 8];
    long long newest = 0;
    while (!atomic_load(&sh->done)) {
        int kind = (int)(rand_r(&seed) % MAX_READS_KINDS);
        float q[HARDEN_DIM];
        harden_vec(rand_r(&seed) % 100, rand_r(&seed) % 100, q);
        long long t0 = atomic_load(&sh->published);
        sqlite3_stmt *s = st[kind];
        sqlite3_clear_bindings(s);
        long long bound = EXTRA + t0 + rand_r(&seed) % 2;
        if (kind == RD_LOOKUP)
            sqlite3_bind_int64(s, 1, bound);
        else if (kind == RD_KNN || kind == RD_EMB_KNN)
            sqlite3_bind_blob(s, 1, q, sizeof q, SQLITE_TRANSIENT);
        int n = collect(db, s, rows, R + 8);
        long long t1 = atomic_load(&sh->published);
        long long seen = -1;
        for (long long t = t0; t <= t1 + 1 && t <= n_txn && seen < 0; t++) {
            int ok;
            switch (kind) {
            case RD_SCAN: ok = scan_is(rows, n, t); break;
            case RD_LOOKUP: {
                int want = 3 + (bound == EXTRA + t);
                ok = n == want;
                for (int i = 0; i < n && ok; i++)
                    ok = vec_is(&rows[i], t);
                break;
            }
            case RD_KNN: ok = knn_is(rows, n, t, q, 6, -1, 1); break;
            case RD_EMB_KNN: ok = knn_is(rows, n, t, q, 6, -1, 0); break;
            case RD_MOST_SIMILAR: {
                float v5[HARDEN_DIM];
                harden_vec(5, t, v5);
                ok = knn_is(rows, n, t, v5, 6, 5, 0);
                break;
            }
            default:
                ok = n == 3;
                for (int i = 0; i < n && ok; i++)
                    ok = vec_is(&rows[i], t);
            }
            if (ok)
                seen = t;
        }
        if (seen < 0)
            die("reader: %s returned %d rows that are no single committed state in %lld .. %lld "
                "(a mix of transactions, or a stale copy)",
                read_names[kind], n, t0, t1 + 1);
        if (seen > newest) {
            newest = seen;
            atomic_fetch_add(&sh->distinct, 1);
        }
        atomic_fetch_add(&sh->reads[kind], 1);
    }
    for (int i = 0; i < MAX_READS_KINDS; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(db);
}

/* ---- set-up and modes ---------------------------------------------------------- */

static void create_db(void)
{
    unlink(db_path);
    sqlite3 *db = harden_open(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec_or_die(db, "pragma journal_mode = wal");
    exec_or_die(db, "create virtual table w using embedding(dim=8, chunk_rows=8)");
    exec_or_die(db, "begin");
    sqlite3_stmt *ins = prepare_or_die(db, "insert into w(token_id, token, vector) values (?, ?, ?)");
    char s[32];
    for (int i = 0; i < R + 1; i++) {
        int64_t id = row_id(i, 0);
        sqlite3_bind_int64(ins, 1, id);
        token_of(id, 0, s, sizeof s);
        sqlite3_bind_text(ins, 2, s, -1, SQLITE_TRANSIENT);
        harden_bind_vec(ins, 3, id, 0);
        harden_step_done(db, ins, "writer");
    }
    sqlite3_finalize(ins);
    exec_or_die(db, "commit");
    sqlite3_close(db);
}

static void *reader_thread(void *arg)
{
    reader(SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, (unsigned)(uintptr_t)arg);
    return NULL;
}

static void *writer_thread(void *arg)
{
    (void)arg;
    writer(SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "procs";
    n_txn = argc > 2 ? atoi(argv[2]) : 300;
    int n_readers = argc > 3 ? atoi(argv[3]) : (strcmp(mode, "threads") == 0 ? 3 : 1);
    char dir[] = "/tmp/emb_conc.XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    char path[128];
    snprintf(path, sizeof path, "%s/conc.db", dir);
    db_path = path;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memset(sh, 0, sizeof *sh);
    create_db();
    if (strcmp(mode, "threads") == 0) {
        if (!sqlite3_threadsafe())
            die("this SQLite is built without threads");
        pthread_t w, rd[16];
        if (n_readers > 16)
            n_readers = 16;
        for (int i = 0; i < n_readers; i++)
            pthread_create(&rd[i], NULL, reader_thread, (void *)(uintptr_t)(i + 1));
        pthread_create(&w, NULL, writer_thread, NULL);
        pthread_join(w, NULL);
        for (int i = 0; i < n_readers; i++)
            pthread_join(rd[i], NULL);
    } else {
        pid_t pids[16];
        if (n_readers > 16)
            n_readers = 16;
        for (int i = 0; i < n_readers; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                reader(SQLITE_OPEN_READWRITE, (unsigned)i + 1);
                _exit(0);
            }
        }
        pid_t wp = fork();
        if (wp == 0) {
            writer(SQLITE_OPEN_READWRITE);
            _exit(0);
        }
        int status, failed = 0;
        waitpid(wp, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        if (failed)
            atomic_store(&sh->done, 1);
        for (int i = 0; i < n_readers; i++) {
            waitpid(pids[i], &status, 0);
            failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        if (failed)
            die("a writer or reader process failed (see above)");
    }
    long long total = 0;
    for (int i = 0; i < MAX_READS_KINDS; i++)
        total += sh->reads[i];
    printf("concurrent %s: %lld transactions committed, %d reader%s, %lld reads checked (",
           mode, (long long)sh->published, n_readers, n_readers == 1 ? "" : "s", total);
    for (int i = 0; i < MAX_READS_KINDS; i++)
        printf("%s%s %lld", i ? ", " : "", read_names[i], (long long)sh->reads[i]);
    printf("), %lld saw a newer transaction than the read before\n", (long long)sh->distinct);
    if (sh->published != n_txn)
        die("the writer committed %lld of %d transactions", (long long)sh->published, n_txn);
    if (total == 0)
        die("no read was checked");
    emb_test_remove_db(path);
    rmdir(dir);
    return 0;
}
