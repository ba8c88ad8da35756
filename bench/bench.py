#!/usr/bin/python3
"""bench.py - embext side by side with sqlite-vec (vec0), numpy, faiss, gensim
and a bare C loop, in one run; writes a Markdown report.

    sh bench/run.sh [--quick]          (what `make bench` / `make bench-quick` run)
    /usr/bin/python3 bench/bench.py --embext ./embext.so --vec0 PATH/vec0.so \
        --bin build/bench [--quick] [--report bench/REPORT.md]

Run it with Debian's /usr/bin/python3 (its sqlite3 module can load
extensions; numpy, faiss and gensim are Debian packages).  bench/run.sh sets
OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 (every system runs on one thread,
as one SQL query does) and unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for
this process only.

How it works: each case first probes the embext features it needs with a
tiny query; a missing one is reported as "not available (...)" and the case
is skipped.  Data are generated once per run from fixed seeds (emb_random
when embext has it, else numpy) into a plain `INTEGER PRIMARY KEY, BLOB`
table; every system is loaded from that table, so all see identical f32
values.  Systems of one case are timed alternately (lib.measure), and the
report gives median / min / max and the ratio embext / other (below 1 means
embext is faster).  Micro-second cases (lookups, sequences) are timed from C
(bench/sqlbench.c) so Python's per-call cost does not hide SQLite's.
"""
import argparse
import ctypes
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from report import run_profiles, write_report  # noqa: E402
from cases_more import (case_dtypes, case_big, case_text_import,  # noqa: E402
                        case_analogies, case_most_similar, case_kernels)
from cases_import import case_big_import  # noqa: E402

K = 10
N, D = 50000, 768
SEED = 42


class Ctx:
    """Run state shared by the cases: paths, features, report parts."""

    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.out = os.path.join(self.root, "bench", "out")
        os.makedirs(self.out, exist_ok=True)
        self.embext = os.path.abspath(args.embext)
        self.vec0 = os.path.abspath(args.vec0) if args.vec0 else None
        self.bin = os.path.abspath(args.bin)
        self.data = args.data
        self.db = os.path.join(self.out, "bench.db")
        self.feat = {}
        self.sections = []
        self.targets = []   # (target, measured, status)
        self.facts = []     # (what, value) rows for the machine table
        self.summary = []   # rows of the summary table
        self.profiles = []  # (target, profile spec) to profile
        self.raw = {}       # case -> system -> stats and times (bench/out/results.json)
        self.bw = None      # bytes/s
        self.t_start = time.time()
        self.bare = None

    def reps(self, quick, full):
        return quick if self.quick else full

    def missing(self, *feats):
        """None when all features exist, else the 'not available' text."""
        for f in feats:
            err = self.feat.get(f, "not probed")
            if err is not None:
                return "not available (%s missing: %s)" % (FEATURE_NAMES.get(f, f), err)
        return None

    def section(self, title, body):
        self.sections.append("## %s\n\n%s\n" % (title, body.strip()))
        print("== %s" % title, flush=True)

    def summarize(self, case, times, ref, per=1, unit=""):
        """Summary rows: ref's median against every other system of a case."""
        st = {k: lib.stats(v) for k, v in times.items()}
        self.raw[case] = {k: dict(v, per=per, times=times[k]) for k, v in st.items()}
        if ref not in st:
            return
        e = st[ref]["median"] / per
        first = True
        for name, s in st.items():
            if name == ref:
                continue
            o = s["median"] / per
            self.summary.append([case if first else "", ref if first else "",
                                 lib.fmt_time(e) + unit if first else "", name,
                                 lib.fmt_time(o) + unit, lib.fmt_ratio(e / o)])
            first = False

    def target(self, what, ratio, limit, measured, higher_is_better=False, profile=None):
        """Record a target; `profile` = dict(cases=[(name, mode, SQL)...], n=,
        db=None (bench.db), warmup=1) for sqlbench, run under callgrind at the
        end when the target is missed."""
        if ratio is None:
            self.targets.append((what, measured, "not measured"))
            return
        ok = ratio >= limit if higher_is_better else ratio <= limit
        self.targets.append((what, measured, "**met**" if ok else "**not met** (why: Analysis and Profiles below)"))
        if not ok and profile:
            self.profiles.append((what, profile))


FEATURE_NAMES = {
    "emb_isa": "function emb_isa",
    "embedding": "module embedding",
    "insert": "INSERT into an embedding table",
    "knn": "KNN query `vector MATCH ? AND k = ?`",
    "knn_limit": "KNN query `ORDER BY distance LIMIT`",
    "knn_join": "KNN with the query vector from a joined table",
    "emb_sequence": "function emb_sequence",
    "emb_lookup": "function emb_lookup",
    "dtype_f16": "embedding dtype=f16",
    "dtype_bf16": "embedding dtype=bf16",
    "dtype_int8": "embedding dtype=int8",
    "emb_random": "function emb_random",
    "emb_read_text": "function emb_read_text",
    "emb_eval_analogies": "function emb_eval_analogies",
    "emb_most_similar": "function emb_most_similar",
    "emb_knn": "function emb_knn (batched KNN)",
    "vec0": "sqlite-vec vec0.so",
}


# ---- set-up -------------------------------------------------------------------

def probe_features(ctx):
    f = ctx.feat
    c = lib.connect(":memory:", [ctx.embext])
    f["emb_isa"] = lib.probe(c, "SELECT emb_isa()")
    f["embedding"] = lib.probe(c, "CREATE VIRTUAL TABLE p USING embedding(dim=2)")
    later = ["insert", "knn", "knn_limit", "knn_join", "emb_sequence", "emb_lookup",
             "dtype_f16", "dtype_bf16", "dtype_int8", "emb_eval_analogies", "emb_most_similar", "emb_knn"]
    if f["embedding"] is None:
        f["insert"] = lib.probe(c, "INSERT INTO p(token_id, token, vector) VALUES "
                                   "(0, 'a', emb_vec('[1,0]')), (1, 'b', emb_vec('[0,1]')), "
                                   "(2, 'c', emb_vec('[1,1]')), (3, 'd', emb_vec('[1,-1]'))")
        f["knn"] = lib.probe(c, "SELECT token_id, distance FROM p WHERE vector MATCH "
                                "emb_vec('[1,0]') AND k = 1")
        f["knn_limit"] = lib.probe(c, "SELECT token_id FROM p WHERE vector MATCH "
                                      "emb_vec('[1,0]') ORDER BY distance LIMIT 1")
        c.execute("CREATE TEMP TABLE pq(id INTEGER PRIMARY KEY, v BLOB)")
        c.execute("INSERT INTO pq VALUES (1, emb_vec('[1,0]')), (2, emb_vec('[0,1]'))")
        f["knn_join"] = lib.probe(c, "SELECT pq.id, p.token_id FROM pq JOIN p "
                                     "ON p.vector MATCH pq.v AND p.k = 1")
        if f["knn_join"] is None:
            n = len(c.execute("SELECT pq.id, p.token_id FROM pq JOIN p ON p.vector MATCH pq.v "
                              "AND p.k = 1").fetchall())
            if n != 2:
                f["knn_join"] = "join gave %d rows, expected 2" % n
        f["emb_sequence"] = lib.probe(c, "SELECT * FROM emb_sequence('p', '[0,1]')")
        f["emb_lookup"] = lib.probe(c, "SELECT emb_lookup('p', 0)")
        f["emb_knn"] = lib.probe(c, "SELECT * FROM emb_knn('p', '[[1,0],[0,1]]', 1)")
        f["emb_most_similar"] = lib.probe(c, "SELECT * FROM emb_most_similar('p', '[\"a\"]', NULL, 1)")
        for dt in ("f16", "bf16", "int8"):
            f["dtype_" + dt] = lib.probe(
                c, "CREATE VIRTUAL TABLE p_%s USING embedding(dim=2, dtype=%s)" % (dt, dt))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as qf:
            qf.write(": s\na b c d\nb a d c\n")
        ctx.analogy_form = None
        for form, sql in (("tvf", "SELECT * FROM emb_eval_analogies('p', ?)"),
                          ("scalar", "SELECT emb_eval_analogies('p', ?)")):
            err = lib.probe(c, sql, (qf.name,))
            if err is None:
                ctx.analogy_form = form
                f["emb_eval_analogies"] = None
                break
            f.setdefault("emb_eval_analogies", err)
        os.unlink(qf.name)
    else:
        for k in later:
            f[k] = "needs module embedding"
    f["emb_random"] = lib.probe(c, "SELECT count(*) FROM emb_random(2, 3, 1)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as tf:
        tf.write("a 1 0\nb 0 1\n")
    f["emb_read_text"] = lib.probe(c, "SELECT count(*) FROM emb_read_text(?)", (tf.name,))
    os.unlink(tf.name)
    c.close()
    f["vec0"] = None
    if not ctx.vec0 or not os.path.exists(ctx.vec0):
        f["vec0"] = "vec0.so not found (%s)" % ctx.vec0
    rows = [(FEATURE_NAMES.get(k, k), "yes" if v is None else "no: " + v.replace("|", "/"))
            for k, v in f.items()]
    ctx.section("Features found in this build", lib.table(["feature", "available"], rows))


def load_bare(ctx):
    so = os.path.join(ctx.bin, "bare_scan.so")
    b = ctypes.CDLL(so)
    f32p, i64p = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int64)
    b.bare_topk_f32.argtypes = [f32p, f32p, ctypes.c_int64, ctypes.c_int64, f32p,
                                ctypes.c_int, i64p, f32p]
    b.bare_topk_f16.argtypes = [ctypes.POINTER(ctypes.c_uint16), f32p, ctypes.c_int64,
                                ctypes.c_int64, f32p, ctypes.c_int, i64p, f32p]
    ctx.bare = b
    ctx.bare_isa = {512: "AVX-512", 256: "AVX2+FMA", 0: "plain C"}[b.bare_isa()]


def membw(ctx, label):
    out = json.loads(lib.run([os.path.join(ctx.bin, "membw"), "1024", ctx.reps("5", "9")]))
    ctx.bw_runs = getattr(ctx, "bw_runs", []) + out["gbps"]
    ctx.bw_runs_4k = getattr(ctx, "bw_runs_4k", []) + out.get("gbps_4k", [])
    ctx.bw = float(np.median(ctx.bw_runs)) * 1e9
    ctx.bw_4k = float(np.median(ctx.bw_runs_4k)) * 1e9 if ctx.bw_runs_4k else None
    print("memory bandwidth (%s): %.1f GB/s (huge pages), %.1f GB/s (4 KiB pages)"
          % (label, out["median"], out.get("median_4k", 0)), flush=True)
    ctx.bw_isa = out["isa"]


def make_data(ctx):
    for p in (ctx.db, ctx.db + "-journal"):
        if os.path.exists(p):
            os.unlink(p)
    exts = [ctx.embext] + ([ctx.vec0] if ctx.feat["vec0"] is None else [])
    c = lib.connect(ctx.db, exts)
    c.execute("CREATE TABLE plain(id INTEGER PRIMARY KEY, v BLOB)")
    t0 = time.perf_counter()
    if ctx.feat["emb_random"] is None:
        c.execute("BEGIN")
        c.execute("INSERT INTO plain(id, v) SELECT token_id, vector FROM emb_random(?, ?, ?)",
                  (N, D, SEED))
        c.execute("COMMIT")
        ctx.data_source = "`emb_random(%d, %d, %d)` (N(0, 1) rows), written to a plain table" % (N, D, SEED)
    else:
        E = np.random.default_rng(SEED).standard_normal((N, D), dtype=np.float32)
        c.execute("BEGIN")
        c.executemany("INSERT INTO plain(id, v) VALUES (?, ?)",
                      ((i, E[i].tobytes()) for i in range(N)))
        c.execute("COMMIT")
        ctx.data_source = ("numpy `default_rng(%d).standard_normal` f32 (emb_random not available), "
                           "written to a plain table" % SEED)
    gen = time.perf_counter() - t0
    blob = b"".join(v for (v,) in c.execute("SELECT v FROM plain ORDER BY id"))
    ctx.E = np.frombuffer(blob, dtype=np.float32).reshape(N, D).copy()
    ctx.inv = lib.inv_norms_of(ctx.E)
    ctx.En = (ctx.E * ctx.inv[:, None]).astype(np.float32)
    ctx.Q = np.random.default_rng(7).standard_normal((64, D), dtype=np.float32)
    ctx.conn = c
    print("data: %d x %d in %.1f s" % (N, D, gen), flush=True)


# ---- case 5a: bulk load (also builds the query tables) ------------------------

def case_bulk(ctx):
    title = "5a. Bulk load: INSERT ... SELECT of %d x %d f32 rows" % (N, D)
    miss = ctx.missing("embedding", "insert")
    systems = []
    scratch = os.path.join(ctx.out, "load.db")

    def loader(create, insert):
        def fn(rep):
            for p in (scratch, scratch + "-journal"):
                if os.path.exists(p):
                    os.unlink(p)
            c = lib.connect(scratch, [ctx.embext] + ([ctx.vec0] if ctx.feat["vec0"] is None else []))
            c.execute("ATTACH ? AS src", (ctx.db,))
            t0 = time.perf_counter()
            c.execute(create)
            c.execute("BEGIN")
            c.execute(insert)
            c.execute("COMMIT")
            t = time.perf_counter() - t0
            c.close()
            return lib.Timed(t, None)
        return fn

    if not miss:
        systems.append(("embext", loader("CREATE VIRTUAL TABLE main.t USING embedding(dim=%d)" % D,
                                         "INSERT INTO main.t(token_id, vector) SELECT id, v FROM src.plain")))
    if ctx.feat["vec0"] is None:
        systems.append(("vec0", loader(
            "CREATE VIRTUAL TABLE main.t USING vec0(embedding float[%d] distance_metric=cosine)" % D,
            "INSERT INTO main.t(rowid, embedding) SELECT id, v FROM src.plain")))
    systems.append(("plain table", loader(
        "CREATE TABLE main.t(id INTEGER PRIMARY KEY, v BLOB)",
        "INSERT INTO main.t(id, v) SELECT id, v FROM src.plain")))
    times, _ = lib.measure(systems, ctx.reps(3, 5), warmup=0)
    for p in (scratch, scratch + "-journal"):
        if os.path.exists(p):
            os.unlink(p)
    body = ("Each rep loads a fresh database file (default settings, rollback journal, "
            "`synchronous=FULL`) from the plain source table attached read-only; the time covers "
            "CREATE + INSERT + COMMIT.\n\n")
    body += lib.ratio_table(times, "embext", rows_per_rep=N)
    ctx.summarize("bulk load 50k x 768", times, "embext")
    if miss:
        body += "\n\nembext: " + miss
    ctx.section(title, body)
    st = {k: lib.stats(v) for k, v in times.items()}
    if "embext" in st and "vec0" in st:
        r = st["vec0"]["median"] / st["embext"]["median"]
        ctx.target("Bulk INSERT ... SELECT >= 5x faster than vec0", r, 5,
                   "%.1fx (%s vs %s)" % (r, lib.fmt_time(st["embext"]["median"]),
                                         lib.fmt_time(st["vec0"]["median"])), True)
    else:
        ctx.target("Bulk INSERT ... SELECT >= 5x faster than vec0", None, 5, miss or "vec0 missing")

    # the tables the query cases use, in bench.db
    c = ctx.conn
    t0 = time.perf_counter()
    if not miss:
        c.execute("CREATE VIRTUAL TABLE e32 USING embedding(dim=%d, metric=cosine)" % D)
        c.execute("BEGIN")
        c.execute("INSERT INTO e32(token_id, vector) SELECT id, v FROM plain")
        c.execute("COMMIT")
    if ctx.feat["vec0"] is None:
        c.execute("CREATE VIRTUAL TABLE vec USING vec0(embedding float[%d] distance_metric=cosine)" % D)
        c.execute("BEGIN")
        c.execute("INSERT INTO vec(rowid, embedding) SELECT id, v FROM plain")
        c.execute("COMMIT")
    print("query tables built in %.1f s" % (time.perf_counter() - t0), flush=True)


# ---- case 1: top-10 cosine --------------------------------------------------------

def knn_systems(ctx, E, En, inv, Q, emb_table, vec_conns, conn, with_limit=True, small_pages=False):
    """(name, fn(rep) -> ids) for one query per call; query = Q[rep % len(Q)]."""
    import faiss
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(E.shape[1])
    index.add(En)
    nq = len(Q)
    sysl = []
    if emb_table and not ctx.missing("knn"):
        sql = "SELECT token_id, distance FROM %s WHERE vector MATCH ? AND k = %d" % (emb_table, K)
        sysl.append(("embext", lambda r: [t for t, _ in conn.execute(sql, (Q[r % nq].tobytes(),))]))
        if with_limit and not ctx.missing("knn_limit"):
            sql2 = ("SELECT token_id, distance FROM %s WHERE vector MATCH ? ORDER BY distance LIMIT %d"
                    % (emb_table, K))
            sysl.append(("embext (ORDER BY distance LIMIT)",
                         lambda r: [t for t, _ in conn.execute(sql2, (Q[r % nq].tobytes(),))]))
    for name, vc, vt in vec_conns:
        vsql = "SELECT rowid, distance FROM %s WHERE embedding MATCH ? AND k = %d" % (vt, K)
        sysl.append((name, (lambda c, s: lambda r: [t for t, _ in c.execute(s, (Q[r % nq].tobytes(),))])(vc, vsql)))

    def np_knn(r):
        q = Q[r % nq]
        s = En @ (q / np.linalg.norm(q))
        idx = np.argpartition(-s, K)[:K]
        return list(idx[np.argsort(-s[idx], kind="stable")])

    def faiss_knn(r):
        q = Q[r % nq]
        _, ids = index.search((q / np.linalg.norm(q))[None, :].astype(np.float32), K)
        return list(ids[0])

    sysl.append(("numpy (E@q + argpartition)", np_knn))
    sysl.append(("faiss IndexFlatIP", faiss_knn))
    sysl.append(("bare C loop (%s)%s" % (ctx.bare_isa, ", 2 MiB pages" if small_pages else ""),
                 lambda r: lib.bare_topk(ctx, E, inv, Q[r % nq])))
    if small_pages:
        Es = lib.small_page_copy(E)
        sysl.insert(len(sysl) - 1, ("bare C loop (%s), 4 KiB pages" % ctx.bare_isa,
                                    lambda r: lib.bare_topk(ctx, Es, inv, Q[r % nq])))
    return sysl, index


def case_knn(ctx):
    title = "1. Exact top-10 cosine, %s x %s f32, one query at a time" % ("{:,}".format(N), D)
    vec_conns = []
    if ctx.feat["vec0"] is None:
        ctx.connB = lib.connect(ctx.db, [ctx.embext, ctx.vec0], ["PRAGMA cache_size=-1000000"])
        vec_conns = [("vec0 (default cache)", ctx.conn, "vec"),
                     ("vec0 (cache_size 1 GB)", ctx.connB, "vec")]
    has_emb = not ctx.missing("embedding", "insert", "knn")
    sysl, index = knn_systems(ctx, ctx.E, ctx.En, ctx.inv, ctx.Q, "e32" if has_emb else None,
                              vec_conns, ctx.conn, small_pages=True)
    bare_name = sysl[-1][0]
    first = first_query_cost(ctx) if has_emb else ""
    times, _ = lib.measure(sysl, ctx.reps(15, 31))
    ctx.knn_times = times
    agree = lib.agreement(sysl, ctx.Q, bare_name)
    nbytes = N * D * 4
    body = ("Query i of each rep is the same random N(0,1) vector for every system. embext and "
            "vec0 answer through SQL (Python `sqlite3`, one prepared statement, all rows fetched); "
            "numpy and faiss get rows normalised beforehand (not timed); the bare C loop reads "
            "the raw rows with precomputed inverse norms (bench/bare_scan.c, -O3), once in numpy's "
            "array (numpy asks the kernel for 2 MiB pages) and once in a copy with 4 KiB pages "
            "(plain malloc, as a C library gets). All single threaded. GB/s = %s MB of f32 rows / "
            "median time.\n\n" % ("{:,.1f}".format(nbytes / 1e6)))
    body += lib.ratio_table(times, "embext" if has_emb else bare_name, bytes_per_rep=nbytes,
                            extra=("recall@10 vs bare loop", agree), bw=ctx.bw)
    if not has_emb:
        body += "\n\nembext: " + ctx.missing("embedding", "insert", "knn")
    else:
        body += "\n\n" + first
    ctx.section(title, body)
    ctx.summarize("top-10 cosine 50k x 768, 1 query", times, "embext")
    st = {k: lib.stats(v) for k, v in times.items()}
    e = st.get("embext")

    knn_prof = dict(n=10 if ctx.quick else 30, cases=[(
        "knn", "each", "SELECT token_id, distance FROM e32 WHERE vector MATCH "
        "(SELECT v FROM plain WHERE id = ?1) AND k = 10")])

    def tgt(what, other, limit, higher=False, invert=False, prof=True):
        if e is None or other not in st:
            ctx.target(what, None, limit, ctx.missing("embedding", "insert", "knn", "vec0") or "missing")
            return
        r = e["median"] / st[other]["median"]
        val = 1 / r if invert else r
        ctx.target(what, val, limit, "%s: embext %s vs %s (ratio embext/other %.3g)" % (
            other, lib.fmt_time(e["median"]), lib.fmt_time(st[other]["median"]), r), higher,
            knn_prof if prof else None)

    tgt("Top-10 scan within 1.5x of the bare SIMD loop (2 MiB pages: the stricter of the two)", bare_name, 1.5)
    tgt("Top-10 scan >= 10x faster than vec0 (default cache)", "vec0 (default cache)", 10, True, True)
    tgt("(stricter) Top-10 scan >= 10x faster than vec0 with cache_size 1 GB", "vec0 (cache_size 1 GB)", 10,
        True, True, False)
    tgt("Single query ahead of numpy", "numpy (E@q + argpartition)", 1.0)
    tgt("Single query at least even with faiss", "faiss IndexFlatIP", 1.0)
    ctx.faiss_index = index

    # batch of 64
    title = "1b. Batch of 64 queries, %s x %s f32" % ("{:,}".format(N), D)
    Q = ctx.Q
    En = ctx.En
    bsys = []
    knn_name = "embext emb_knn (64 queries, one pass)"
    if has_emb and not ctx.missing("emb_knn"):
        qblob = Q.astype(np.float32).tobytes()
        ksql = "SELECT query, token_id FROM emb_knn('e32', ?, %d)" % K
        bsys.append((knn_name, lambda r: ctx.conn.execute(ksql, (qblob,)).fetchall()))
    if has_emb:
        sql = "SELECT token_id, distance FROM e32 WHERE vector MATCH ? AND k = %d" % K
        bsys.append(("embext (64 KNN queries)",
                     lambda r: [ctx.conn.execute(sql, (q.tobytes(),)).fetchall() for q in Q]))
        if not ctx.missing("knn_join"):
            ctx.conn.execute("CREATE TEMP TABLE IF NOT EXISTS queries(id INTEGER PRIMARY KEY, v BLOB)")
            ctx.conn.execute("DELETE FROM queries")
            ctx.conn.executemany("INSERT INTO queries VALUES (?, ?)",
                                 [(i, Q[i].tobytes()) for i in range(len(Q))])
            jsql = ("SELECT q.id, e.token_id FROM temp.queries q JOIN e32 e "
                    "ON e.vector MATCH q.v AND e.k = %d" % K)
            bsys.append(("embext (one SQL join over 64 queries)",
                         lambda r: ctx.conn.execute(jsql).fetchall()))
    if ctx.feat["vec0"] is None and not ctx.quick:
        vsql = "SELECT rowid, distance FROM vec WHERE embedding MATCH ? AND k = %d" % K
        bsys.append(("vec0 (64 KNN queries, default cache)",
                     lambda r: [ctx.conn.execute(vsql, (q.tobytes(),)).fetchall() for q in Q]))
    Qn = (Q / np.linalg.norm(Q, axis=1, keepdims=True)).astype(np.float32)

    def np_batch(r):
        S = En @ Qn.T
        idx = np.argpartition(-S, K, axis=0)[:K]
        return [idx[np.argsort(-S[idx[:, j], j]), j] for j in range(S.shape[1])]

    bsys.append(("numpy (E @ Q.T matrix-matrix)", np_batch))
    bsys.append(("faiss IndexFlatIP (64-query search)", lambda r: index.search(Qn, K)))
    bsys.append(("bare C loop x 64", lambda r: [lib.bare_topk(ctx, ctx.E, ctx.inv, q) for q in Q]))
    btimes, bout = lib.measure(bsys, ctx.reps(3, 7))
    note = ("numpy and faiss turn the 64 queries into one matrix-matrix product (OpenBLAS sgemm), "
            "which reads the matrix once per block of queries instead of once per query. So does "
            "embext's `emb_knn(table, queries, k)` (one pass over the rows for up to 64 queries, a "
            "rows x queries register-tiled kernel); a `vector MATCH` query, alone or in a join, "
            "scans the matrix once per query. ")
    if knn_name in bout:
        truth = [set(lib.bare_topk(ctx, ctx.E, ctx.inv, q)) for q in Q]
        got = {}
        for qi, tid in bout[knn_name]:
            got.setdefault(qi, set()).add(tid)
        hits = sum(len(truth[i] & got.get(i, set())) for i in range(len(Q)))
        note += "emb_knn recall@10 against the bare loop over the 64 queries: %.3f. " % (hits / (K * len(Q)))
    if ctx.feat["vec0"] is None and ctx.quick:
        note += ("vec0 is not re-measured in quick mode: 64 x its single-query median = %s. "
                 % lib.fmt_time(64 * st["vec0 (default cache)"]["median"]))
    ref = knn_name if knn_name in btimes else "embext (64 KNN queries)" if has_emb else "bare C loop x 64"
    ctx.section(title, note + "\n\n" + lib.ratio_table(btimes, ref, per=("query", 64)))
    ctx.summarize("top-10 cosine, batch of 64 (per query)", btimes, ref, per=64)


def first_query_cost(ctx):
    """Time and memory of the first KNN on a new connection (loads its copy)."""
    q = ctx.Q[0].tobytes()
    sql = "SELECT token_id FROM e32 WHERE vector MATCH ? AND k = %d" % K
    c = lib.connect(ctx.db, [ctx.embext])
    r0 = rss_mb()
    t0 = time.perf_counter()
    c.execute(sql, (q,)).fetchall()
    t1 = time.perf_counter()
    r1 = rss_mb()
    c.execute(sql, (q,)).fetchall()
    t2 = time.perf_counter()
    c.close()
    r2 = rss_mb()
    return ("First KNN on a new connection (builds that connection's in-memory copy of the matrix): "
            "%s, then %s for the second query; process RSS +%.0f MB for that connection, %.0f MB "
            "returned on close (raw f32 matrix: %.0f MB)." % (
                lib.fmt_time(t1 - t0), lib.fmt_time(t2 - t1), r1 - r0, r1 - r2, N * D * 4 / 1e6))


def rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ---- cases 2, 3: lookups (timed in C) -------------------------------------------

def sqlbench(ctx, n, cases, reps, pragmas=()):
    cmd = [os.path.join(ctx.bin, "sqlbench"), "--db", ctx.db, "--ext", ctx.embext]
    if ctx.feat["vec0"] is None:
        cmd += ["--ext", ctx.vec0]
    for p in pragmas:
        cmd += ["--pragma", p]
    cmd += ["--n", str(n), "--max-id", str(N), "--seed", "7", "--reps", str(reps)]
    cmd += ["%s|%s|%s" % c for c in cases]
    out = lib.run(cmd)
    res = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {r["case"]: r["times"] for r in res}, {r["case"]: r["rows"] for r in res}


def case_lookups(ctx):
    n = 10000
    title = "2. %s point lookups by id in one transaction" % "{:,}".format(n)
    cases = [("plain table", "each", "SELECT v FROM plain WHERE id = ?1")]
    miss = ctx.missing("embedding", "insert")
    if not miss:
        cases.insert(0, ("embext", "each", "SELECT vector FROM e32 WHERE token_id = ?1"))
        if not ctx.missing("emb_lookup"):
            cases.append(("embext emb_lookup()", "each", "SELECT emb_lookup('e32', ?1)"))
    if ctx.feat["vec0"] is None:
        cases.append(("vec0", "each", "SELECT embedding FROM vec WHERE rowid = ?1"))
    times, rows = sqlbench(ctx, n, cases, ctx.reps(5, 11))
    body = ("Timed in C (bench/sqlbench.c): one prepared statement, bind / step / reset per id, "
            "every returned blob touched, %s uniform random ids in [0, %s), one BEGIN ... COMMIT. "
            "Rows returned per rep: %s.\n\n" % ("{:,}".format(n), "{:,}".format(N),
                                                 ", ".join("%s %d" % kv for kv in rows.items())))
    ref = "embext" if not miss else "plain table"
    body += lib.ratio_table(times, ref, per=("lookup", n))
    ctx.summarize("point lookup (per lookup)", times, "embext", per=n)
    if miss:
        body += "\n\nembext: " + miss
    ctx.section(title, body)
    st = {k: lib.stats(v) for k, v in times.items()}
    if "embext" in st:
        r = st["embext"]["median"] / st["plain table"]["median"]
        ctx.target("10,000 lookups within 1.5x of a plain INTEGER PRIMARY KEY table", r, 1.5,
                   "%.2fx (%s vs %s per lookup)" % (r, lib.fmt_time(st["embext"]["median"] / n),
                                                    lib.fmt_time(st["plain table"]["median"] / n)),
                   profile=dict(n=n, cases=[("lookup", "each", "SELECT vector FROM e32 WHERE token_id = ?1")]))
    else:
        ctx.target("10,000 lookups within 1.5x of a plain INTEGER PRIMARY KEY table", None, 1.5, miss)


def case_sequence(ctx):
    n = 1024
    title = "3. Sequence of %s ids: emb_sequence vs separate lookups" % "{:,}".format(n)
    miss = ctx.missing("embedding", "insert", "emb_sequence")
    cases = [("plain: 1,024 lookups", "each", "SELECT v FROM plain WHERE id = ?1"),
             ("plain: json_each join", "json",
              "SELECT p.v FROM json_each(?1) j JOIN plain p ON p.id = j.value ORDER BY j.key")]
    if not ctx.missing("embedding", "insert"):
        cases.insert(0, ("embext: 1,024 lookups", "each", "SELECT vector FROM e32 WHERE token_id = ?1"))
    if not miss:
        cases.insert(0, ("emb_sequence", "json", "SELECT pos, token_id, vector FROM emb_sequence('e32', ?1)"))
    times, rows = sqlbench(ctx, n, cases, ctx.reps(7, 15))
    body = ("Same 1,024 random ids (repeats possible) for every system; timed in C. Rows per rep: %s.\n\n"
            % ", ".join("%s %d" % kv for kv in rows.items()))
    ref = "emb_sequence" if not miss else cases[0][0]
    body += lib.ratio_table(times, ref, per=("id", n))
    ctx.summarize("1,024-id sequence", times, "emb_sequence")
    if miss:
        body += "\n\nemb_sequence: " + miss
    ctx.section(title, body)


# ---- case 4: scalar distance functions ------------------------------------------

def case_scalar(ctx):
    title = "4. Scalar cosine over a plain BLOB column (%s rows x %d)" % ("{:,}".format(N), D)
    c = getattr(ctx, "connB", None) or lib.connect(
        ctx.db, [ctx.embext] + ([ctx.vec0] if ctx.feat["vec0"] is None else []),
        ["PRAGMA cache_size=-1000000"])
    q = ctx.Q[0].tobytes()
    sysl = [("baseline: sum(length(v))", lambda r: c.execute("SELECT sum(length(v)) FROM plain").fetchone()),
            ("emb_cosine", lambda r: c.execute("SELECT sum(emb_cosine(v, ?)) FROM plain", (q,)).fetchone())]
    if ctx.feat["vec0"] is None:
        sysl.append(("vec_distance_cosine", lambda r: c.execute(
            "SELECT sum(vec_distance_cosine(v, ?)) FROM plain", (q,)).fetchone()))
    times, out = lib.measure(sysl, ctx.reps(5, 11))
    st = {k: lib.stats(v) for k, v in times.items()}
    base = st["baseline: sum(length(v))"]["median"]
    net = {k: "%.0f ns" % ((s["median"] - base) / N * 1e9) for k, s in st.items()}
    check = ""
    if "vec_distance_cosine" in out:
        cs, vs = out["emb_cosine"][0], out["vec_distance_cosine"][0]
        check = (" Check: sum(emb_cosine) = %.4f, N - sum(vec_distance_cosine) = %.4f."
                 % (cs, N - vs))
    body = ("One statement `SELECT sum(f(v, :q)) FROM plain` per rep on a connection with a 1 GB "
            "page cache (the table is in SQLite's cache); per-call cost net of the baseline scan "
            "that reads the same blobs." + check + "\n\n")
    body += lib.ratio_table(times, "emb_cosine", per=("row", N), extra=("per call, net of baseline", net))
    ctx.summarize("scalar cosine over 50k blobs (per row)", times, "emb_cosine", per=N)
    ctx.section(title, body)


# ---- glove KNN -------------------------------------------------------------------

def load_glove(ctx):
    """GloVe 10k x 50 as numpy + tokens, and as tables glove (embext), vglove (vec0)."""
    path = os.path.join(ctx.data, "glove.6B.50d.10k.txt")
    toks, vecs = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ")
            toks.append(parts[0])
            vecs.append([float(x) for x in parts[1:]])
    G = np.array(vecs, dtype=np.float32)
    ctx.glove = (path, toks, G)
    c = ctx.conn
    if not ctx.missing("embedding", "insert"):
        c.execute("CREATE VIRTUAL TABLE glove USING embedding(dim=%d, metric=cosine)" % G.shape[1])
        c.execute("BEGIN")
        if not ctx.missing("emb_read_text"):
            c.execute("INSERT INTO glove(token_id, token, vector) "
                      "SELECT token_id, token, vector FROM emb_read_text(?)", (path,))
        else:
            c.executemany("INSERT INTO glove(token_id, token, vector) VALUES (?, ?, ?)",
                          ((i, toks[i], G[i].tobytes()) for i in range(len(toks))))
        c.execute("COMMIT")
    if ctx.feat["vec0"] is None:
        c.execute("CREATE VIRTUAL TABLE vglove USING vec0(embedding float[%d] distance_metric=cosine)"
                  % G.shape[1])
        c.execute("BEGIN")
        c.executemany("INSERT INTO vglove(rowid, embedding) VALUES (?, ?)",
                      ((i, G[i].tobytes()) for i in range(len(toks))))
        c.execute("COMMIT")


def case_glove_knn(ctx):
    path, toks, G = ctx.glove
    title = "1c. Exact top-10 cosine on GloVe %s x %d (real data)" % ("{:,}".format(G.shape[0]), G.shape[1])
    inv = lib.inv_norms_of(G)
    Gn = (G * inv[:, None]).astype(np.float32)
    Q = G[100:164].copy()
    has_emb = not ctx.missing("embedding", "insert", "knn")
    vc = [("vec0", ctx.conn, "vglove")] if ctx.feat["vec0"] is None else []
    sysl, _ = knn_systems(ctx, G, Gn, inv, Q, "glove" if has_emb else None, vc, ctx.conn, False)
    times, _ = lib.measure(sysl, ctx.reps(41, 101))
    agree = lib.agreement(sysl, Q, sysl[-1][0])
    body = ("Queries: the vectors of words 100-163 (each finds itself first). The matrix is 2 MB, "
            "so fixed per-query costs (SQL, Python call) weigh more than in case 1.\n\n")
    body += lib.ratio_table(times, "embext" if has_emb else sysl[-1][0], bytes_per_rep=G.nbytes,
                            extra=("recall@10 vs bare loop", agree), bw=ctx.bw)
    ctx.section(title, body)
    ctx.summarize("top-10 cosine GloVe 10k x 50", times, "embext")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--embext", default="./embext.so")
    ap.add_argument("--vec0", default=None)
    ap.add_argument("--bin", default="build/bench")
    ap.add_argument("--data", default=None)
    ap.add_argument("--report", default="bench/REPORT.md")
    ap.add_argument("--keep-db", action="store_true", help="keep bench/out/bench.db after the run")
    ap.add_argument("--no-profile", action="store_true", help="skip callgrind of missed targets")
    ap.add_argument("--only", default=None, help="comma list of case names (development)")
    args = ap.parse_args()
    ctx = Ctx(args)
    if not ctx.data:
        ctx.data = os.environ.get("EMB_DATA") or os.path.join(ctx.root, "..", "shared", "data")
    ctx.load0 = lib.loadavg()
    load_bare(ctx)
    probe_features(ctx)
    if ctx.feat["vec0"] is None:
        cv = lib.connect(":memory:", [ctx.vec0])
        ctx.vec_version = "%s (vec0.so from npm sqlite-vec-linux-x64)" % cv.execute(
            "SELECT vec_version()").fetchone()[0]
    membw(ctx, "start")
    make_data(ctx)
    only = set(args.only.split(",")) if args.only else None
    steps = [("bulk", case_bulk), ("knn", case_knn), ("lookups", case_lookups),
             ("sequence", case_sequence), ("scalar", case_scalar), ("glove", load_glove),
             ("glove_knn", case_glove_knn), ("text", case_text_import),
             ("analogies", case_analogies), ("most_similar", case_most_similar),
             ("dtypes", case_dtypes), ("big", case_big),
             ("kernels", case_kernels), ("bigimport", case_big_import)]
    for name, fn in steps:
        if only and name not in only and name not in ("bulk", "glove"):
            continue
        try:
            fn(ctx)
        except Exception as e:  # a broken case must not hide the others
            import traceback
            traceback.print_exc()
            ctx.section("%s: FAILED" % name, "The case raised `%s: %s`." % (type(e).__name__, e))
    membw(ctx, "end")
    if not args.no_profile:
        run_profiles(ctx, N)
    write_report(ctx, args.report)
    if not args.keep_db:  # the 0.7 GB database is rebuilt by every run
        for p in (ctx.db, ctx.db + "-journal"):
            if os.path.exists(p):
                os.unlink(p)


if __name__ == "__main__":
    main()
