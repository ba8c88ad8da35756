"""Cases 5b (text import), 6 (analogies), 7 (dtypes), the 128,000 x 4,096 f16
matrix and the kernel micro-benchmarks, for bench/bench.py (which owns the
shared set-up: ctx.conn on bench/out/bench.db with tables plain, e32, vec,
glove, vglove; ctx.E / ctx.Q numpy copies; see its docstring)."""
import os
import subprocess
import time

import numpy as np

import lib

K = 10


# ---- 5b: text import -----------------------------------------------------------------

def case_text_import(ctx):
    from gensim.models import KeyedVectors
    path, toks, G = ctx.glove
    title = "5b. Text import: GloVe %s x %d (%s, %.1f MB)" % (
        "{:,}".format(G.shape[0]), G.shape[1], os.path.basename(path), os.path.getsize(path) / 1e6)
    miss = ctx.missing("emb_read_text")
    sysl = []
    if not miss:
        if not ctx.missing("embedding", "insert"):
            def imp(rep):
                c = lib.connect(":memory:", [ctx.embext])
                t0 = time.perf_counter()
                c.execute("CREATE VIRTUAL TABLE g USING embedding(dim=%d)" % G.shape[1])
                c.execute("BEGIN")
                c.execute("INSERT INTO g(token_id, token, vector) "
                          "SELECT token_id, token, vector FROM emb_read_text(?)", (path,))
                c.execute("COMMIT")
                t = time.perf_counter() - t0
                n = c.execute("SELECT count(*) FROM g").fetchone()[0]
                c.close()
                return lib.Timed(t, n)
            sysl.append(("embext: emb_read_text into an embedding table", imp))
        cp = lib.connect(":memory:", [ctx.embext])
        sysl.append(("embext: emb_read_text, parse only", lambda r: cp.execute(
            "SELECT count(*), sum(length(vector)) FROM emb_read_text(?)", (path,)).fetchone()[0]))
    sysl.append(("gensim load_word2vec_format(no_header=True)",
                 lambda r: len(KeyedVectors.load_word2vec_format(path, binary=False, no_header=True))))
    times, out = lib.measure(sysl, ctx.reps(3, 7))
    ref = sysl[0][0]
    body = ("The embext import runs in a fresh `:memory:` database per rep (CREATE + INSERT ... "
            "SELECT + COMMIT timed); gensim builds its in-memory KeyedVectors. Rows loaded: %s.\n\n"
            % ", ".join("%s: %s" % (k, v) for k, v in out.items()))
    body += lib.table(*_rows(times, ref))
    if miss:
        body += "\n\nembext: " + miss
    ctx.section(title, body)
    ctx.summarize("GloVe text import", times, "embext: emb_read_text into an embedding table")
    st = {k: lib.stats(v) for k, v in times.items()}
    g = st["gensim load_word2vec_format(no_header=True)"]["median"]
    key = "embext: emb_read_text into an embedding table"
    if key in st:
        r = g / st[key]["median"]
        ctx.target("Text import (emb_read_text into a table) >= 5x faster than gensim", r, 5,
                   "%.1fx (%s vs %s)" % (r, lib.fmt_time(st[key]["median"]), lib.fmt_time(g)), True,
                   profile=dict(db=":memory:", warmup=0, cases=[
                       ("create", "once", "CREATE VIRTUAL TABLE g USING embedding(dim=%d)" % G.shape[1]),
                       ("import", "once", "INSERT INTO g(token_id, token, vector) SELECT token_id, "
                                          "token, vector FROM emb_read_text('%s')" % path.replace("'", "''"))]))
    else:
        ctx.target("Text import (emb_read_text into a table) >= 5x faster than gensim", None, 5,
                   miss or ctx.missing("embedding", "insert"))


def _rows(times, ref):
    st = {k: lib.stats(v) for k, v in times.items()}
    head = ["system", "median", "min", "max", "reps", "%s / this" % ref]
    rows = []
    for name, s in st.items():
        rows.append([name, lib.fmt_time(s["median"]), lib.fmt_time(s["min"]), lib.fmt_time(s["max"]),
                     s["n"], lib.fmt_ratio(st[ref]["median"] / s["median"]) if ref in st else "-"])
    return head, rows


# ---- 6: analogies -------------------------------------------------------------------------

def case_analogies(ctx):
    from gensim.models import KeyedVectors
    path, toks, G = ctx.glove
    qpath = os.path.join(ctx.data, "questions-words.txt")
    title = "6. Analogy evaluation: questions-words.txt on GloVe %s x %d" % ("{:,}".format(G.shape[0]), G.shape[1])
    kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    miss = ctx.missing("embedding", "insert", "emb_eval_analogies")
    sysl = []
    desc = {}
    if not miss:
        c = ctx.conn
        if ctx.analogy_form == "tvf":
            sql = "SELECT * FROM emb_eval_analogies('glove', ?)"
        else:
            sql = "SELECT emb_eval_analogies('glove', ?)"

        def emb(rep):
            cur = c.execute(sql, (qpath,))
            rows = cur.fetchall()
            desc["cols"] = [d[0] for d in cur.description]
            return rows
        sysl.append(("embext emb_eval_analogies", emb))

    def gen(rep):
        score, sections = kv.evaluate_word_analogies(qpath)
        tot = sections[-1]
        return score, len(tot["correct"]), len(tot["correct"]) + len(tot["incorrect"])
    sysl.append(("gensim evaluate_word_analogies", gen))
    times, out = lib.measure(sysl, ctx.reps(3, 5))
    score, corr, n = out["gensim evaluate_word_analogies"]
    body = ("gensim: %d correct of %d answerable questions (%.4f); reference figure in "
            "shared/data/SOURCES.md: 3958 of 6762 (0.5853).\n\n" % (corr, n, score))
    if "embext emb_eval_analogies" in out:
        rows = out["embext emb_eval_analogies"]
        got = analogy_total(desc.get("cols", []), rows)
        if got:
            same = "the same as" if got == (corr, n) else "**different from**"
            body += "embext: %d correct of %d (%s gensim's).\n\n" % (got[0], got[1], same)
        shown = rows if len(rows) <= 20 else rows[:5] + rows[-3:]
        body += "embext result (%d rows; columns %s):\n\n```\n%s\n```\n\n" % (
            len(rows), ", ".join(desc.get("cols", [])), "\n".join(str(r) for r in shown))
    body += lib.table(*_rows(times, sysl[0][0]))
    if miss:
        body += "\n\nembext: " + miss
    ctx.section(title, body)
    ctx.summarize("analogy evaluation", times, "embext emb_eval_analogies")
    st = {k: lib.stats(v) for k, v in times.items()}
    if "embext emb_eval_analogies" in st:
        r = st["gensim evaluate_word_analogies"]["median"] / st["embext emb_eval_analogies"]["median"]
        ctx.target("Analogy evaluation >= 5x faster than gensim", r, 5, "%.1fx (%s vs %s)" % (
            r, lib.fmt_time(st["embext emb_eval_analogies"]["median"]),
            lib.fmt_time(st["gensim evaluate_word_analogies"]["median"])), True,
            profile=dict(warmup=0, cases=[("analogies", "once", sql.replace(
                "?", "'%s'" % qpath.replace("'", "''")))]))
    else:
        ctx.target("Analogy evaluation >= 5x faster than gensim", None, 5, miss)


def case_most_similar(ctx):
    from gensim.models import KeyedVectors
    path, toks, G = ctx.glove
    title = "6b. most_similar(king + woman - man) on GloVe %s x %d" % ("{:,}".format(G.shape[0]), G.shape[1])
    kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    miss = ctx.missing("embedding", "insert", "emb_most_similar")
    sysl = []
    if not miss:
        c = ctx.conn
        sql = ("SELECT token, score FROM emb_most_similar('glove', '[\"king\", \"woman\"]', "
               "'[\"man\"]', 10)")
        sysl.append(("embext emb_most_similar", lambda r: c.execute(sql).fetchall()))
    sysl.append(("gensim most_similar", lambda r: kv.most_similar(positive=["king", "woman"],
                                                                   negative=["man"], topn=10)))
    times, out = lib.measure(sysl, ctx.reps(21, 51))
    g = out["gensim most_similar"]
    body = "gensim: %s.\n\n" % ", ".join("%s %.4f" % (t, sc) for t, sc in g[:5])
    if "embext emb_most_similar" in out:
        e = out["embext emb_most_similar"]
        same = [t for t, _ in e] == [t for t, _ in g] and all(
            abs(a[1] - b[1]) < 1e-4 for a, b in zip(e, g))
        body += "embext: %s (%s gensim's top 10).\n\n" % (
            ", ".join("%s %.4f" % (t, sc) for t, sc in e[:5]),
            "same as" if same else "**different from**")
    body += lib.table(*_rows(times, sysl[0][0]))
    if miss:
        body += "\n\nembext: " + miss
    ctx.section(title, body)
    ctx.summarize("most_similar on GloVe", times, "embext emb_most_similar")


def analogy_total(cols, rows):
    """(correct, total) of the overall row of emb_eval_analogies' answer, or
    None when its shape is not recognised (table rows or one JSON value)."""
    import json
    lc = [c.lower() for c in cols]
    if len(rows) == 1 and len(rows[0]) == 1 and isinstance(rows[0][0], str):
        try:
            obj = json.loads(rows[0][0])
        except ValueError:
            return None
        if isinstance(obj, dict):
            for key in ("total", "Total accuracy", "overall"):
                if isinstance(obj.get(key), dict):
                    obj = obj[key]
            if "correct" in obj and ("total" in obj or "n" in obj):
                return int(obj["correct"]), int(obj.get("total", obj.get("n")))
        return None
    ci = next((i for i, c in enumerate(lc) if c == "correct"), None)
    ti = next((i for i, c in enumerate(lc) if c in ("total", "n", "questions", "answered")), None)
    si = next((i for i, c in enumerate(lc) if c in ("section", "name", "category")), None)
    if ci is None or ti is None:
        return None
    for r in rows:
        if si is None or (isinstance(r[si], str) and "total" in r[si].lower()) or r[si] is None:
            if si is not None or len(rows) == 1:
                return int(r[ci]), int(r[ti])
    return None


# ---- 7: dtypes ------------------------------------------------------------------------------

DTYPES = [("f32", "e32", 4), ("f16", "e16", 2), ("bf16", "eb16", 2), ("int8", "ei8", 1)]


def table_bytes(c, name):
    if name == "plain":
        return c.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'plain'").fetchone()[0]
    return c.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ? OR name LIKE ? ESCAPE '\\'",
                     (name, name + "\\_%")).fetchone()[0]


def case_dtypes(ctx):
    N, D = ctx.E.shape
    title = "7. Storage dtypes: f32 / f16 / bf16 / int8 on %s x %d" % ("{:,}".format(N), D)
    miss = ctx.missing("embedding", "insert", "knn")
    if miss:
        ctx.section(title, "embext: " + miss)
        ctx.target("dtype=f16 scan faster than f32", None, 1, miss)
        return
    c = ctx.conn
    load = {}
    have = [("f32", "e32", 4)]
    for dt, tb, _ in DTYPES[1:]:
        if ctx.missing("dtype_" + dt):
            continue
        t0 = time.perf_counter()
        c.execute("CREATE VIRTUAL TABLE %s USING embedding(dim=%d, dtype=%s, metric=cosine)" % (tb, D, dt))
        c.execute("BEGIN")
        c.execute("INSERT INTO %s(token_id, vector) SELECT id, v FROM plain" % tb)
        c.execute("COMMIT")
        load[dt] = time.perf_counter() - t0
        have.append((dt, tb, _))
    Q = ctx.Q
    nq = len(Q)
    sysl = []
    for dt, tb, _ in have:
        sql = "SELECT token_id FROM %s WHERE vector MATCH ? AND k = %d" % (tb, K)
        sysl.append(("embext %s" % dt, (lambda s: lambda r: [t for (t,) in c.execute(s, (Q[r % nq].tobytes(),))])(sql)))
    H = ctx.E.astype(np.float16)
    invH = lib.inv_norms_of(H)
    sysl.append(("bare C loop f32", lambda r: lib.bare_topk(ctx, ctx.E, ctx.inv, Q[r % nq])))
    sysl.append(("bare C loop f16", lambda r: lib.bare_topk(ctx, H, invH, Q[r % nq])))
    times, _ = lib.measure(sysl, ctx.reps(9, 21))
    recall = lib.agreement(sysl, Q, "bare C loop f32", n=16)
    nbytes = {"embext f32": N * D * 4, "embext f16": N * D * 2, "embext bf16": N * D * 2,
              "embext int8": N * D + N * 4, "bare C loop f32": N * D * 4, "bare C loop f16": N * D * 2}
    body = ("Same random f32 rows stored at each dtype (INSERT ... SELECT from the plain table); "
            "KNN time per query, recall@10 against the exact f32 answer (bare loop on f32) over "
            "16 random queries. Random N(0,1) data is the hardest case for recall: the top-10 "
            "similarities are close together.\n\n")
    body += lib.ratio_table(times, "embext f32", bytes_per_rep=nbytes, extra=("recall@10 vs exact f32", recall), bw=ctx.bw)
    sizes = []
    for name in ["plain"] + [tb for _, tb, _ in have] + (["vec"] if ctx.feat["vec0"] is None else []):
        try:
            sz = table_bytes(c, name)
        except Exception as e:  # dbstat missing
            sz = None
            err = str(e)
        sizes.append([name, "-" if sz is None else "{:,.1f} MB".format(sz / 1e6),
                      "-" if sz is None else "%.2f" % (sz / (N * D * 4)),
                      lib.fmt_time(load.get(dict((t, d) for d, t, _ in have).get(name), None))
                      if name in [tb for _, tb, _ in have[1:]] else "-"])
        if sz is None:
            sizes[-1][1] = "dbstat: " + err
    body += "\n\nStorage in the database file (dbstat, table and its shadow tables):\n\n"
    body += lib.table(["table", "bytes on disk", "of raw f32", "load time (INSERT ... SELECT)"], sizes)
    for dt, _, _ in have[1:]:
        ctx.summarize("top-10 scan, dtype %s" % dt, {k: times[k] for k in ("embext " + dt, "embext f32", "bare C loop f32", "bare C loop f16")}, "embext " + dt)
    gl = glove_dtype_recall(ctx, have)
    if gl:
        body += "\n\nOn real data (GloVe 10,000 x 50, queries = words 100-163), recall@10 against the " \
                "embext f32 table: " + ", ".join("%s %s" % kv for kv in gl.items()) + "."
    ctx.section(title, body)
    st = {k: lib.stats(v) for k, v in times.items()}
    if "embext f16" in st:
        r = st["embext f16"]["median"] / st["embext f32"]["median"]
        ctx.target("dtype=f16 scan faster than f32", r, 1.0, "f16/f32 time ratio %.2f (%s vs %s)" % (
            r, lib.fmt_time(st["embext f16"]["median"]), lib.fmt_time(st["embext f32"]["median"])),
            profile=dict(n=10 if ctx.quick else 30, cases=[(
                "knn_f16", "each", "SELECT token_id FROM e16 WHERE vector MATCH "
                "(SELECT v FROM plain WHERE id = ?1) AND k = 10")]))
    else:
        ctx.target("dtype=f16 scan faster than f32", None, 1, ctx.missing("dtype_f16"))


def glove_dtype_recall(ctx, have):
    if ctx.missing("embedding", "insert", "knn") or not hasattr(ctx, "glove"):
        return None
    c = ctx.conn
    path, toks, G = ctx.glove
    Q = G[100:164]
    out = {}

    def top(tb, q):
        return set(t for (t,) in c.execute("SELECT token_id FROM %s WHERE vector MATCH ? AND k = %d"
                                            % (tb, K), (q.tobytes(),)))
    truth = [top("glove", q) for q in Q]
    for dt, _, _ in have[1:]:
        tb = "glove_" + dt
        c.execute("CREATE VIRTUAL TABLE %s USING embedding(dim=%d, dtype=%s, metric=cosine)" % (tb, G.shape[1], dt))
        c.execute("INSERT INTO %s(token_id, vector) SELECT token_id, vector FROM glove" % tb)
        hits = sum(len(truth[i] & top(tb, q)) for i, q in enumerate(Q))
        out[dt] = "%.3f" % (hits / (K * len(Q)))
    return out


# ---- 128,000 x 4,096 f16 ---------------------------------------------------------------------

def case_big(ctx):
    n, d = 128000, 4096
    title = "8. Top-10 cosine on %s x %s stored as f16 (1 GB)" % ("{:,}".format(n), "{:,}".format(d))
    if ctx.quick:
        ctx.section(title, "Skipped in quick mode (needs ~8 GB of memory and a 1 GB table; run `make bench`).")
        return
    miss = ctx.missing("embedding", "insert", "knn", "dtype_f16", "emb_random")
    if miss:
        ctx.section(title, "embext: " + miss)
        return
    avail = lib.mem_available_gb()
    if avail < 12:
        ctx.section(title, "Skipped: %.1f GB of memory available, 12 GB wanted." % avail)
        return
    db = os.path.join(ctx.out, "big.db")
    for p in (db, db + "-journal"):
        if os.path.exists(p):
            os.unlink(p)
    c = lib.connect(db, [ctx.embext])
    t0 = time.perf_counter()
    c.execute("CREATE VIRTUAL TABLE big USING embedding(dim=%d, dtype=f16, metric=cosine)" % d)
    c.execute("BEGIN")
    c.execute("INSERT INTO big(token_id, vector) SELECT token_id, vector FROM emb_random(?, ?, 11)", (n, d))
    c.execute("COMMIT")
    t_load = time.perf_counter() - t0
    H = np.empty((n, d), dtype=np.float16)
    for tid, v in c.execute("SELECT token_id, vector FROM big"):
        H[tid] = np.frombuffer(v, dtype=np.float32)
    invH = lib.inv_norms_of(H)
    F = H.astype(np.float32)
    F *= invH[:, None]
    import faiss
    faiss.omp_set_num_threads(1)
    sq = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    sq.add(F)
    Q = np.random.default_rng(8).standard_normal((16, d), dtype=np.float32)
    sql = "SELECT token_id FROM big WHERE vector MATCH ? AND k = %d" % K

    def np_knn(r):
        q = Q[r % 16]
        s = F @ (q / np.linalg.norm(q))
        idx = np.argpartition(-s, K)[:K]
        return list(idx[np.argsort(-s[idx])])
    sysl = [("embext f16", lambda r: [t for (t,) in c.execute(sql, (Q[r % 16].tobytes(),))]),
            ("bare C loop f16", lambda r: lib.bare_topk(ctx, H, invH, Q[r % 16])),
            ("numpy f32 (normalised copy, 2 GB)", np_knn),
            ("faiss IndexScalarQuantizer fp16", lambda r: list(sq.search((Q[r % 16] / np.linalg.norm(Q[r % 16]))[None], K)[1][0]))]
    times, _ = lib.measure(sysl, 5)
    recall = lib.agreement(sysl, Q, "bare C loop f16", n=4)
    nb = {"embext f16": n * d * 2, "bare C loop f16": n * d * 2,
          "numpy f32 (normalised copy, 2 GB)": n * d * 4, "faiss IndexScalarQuantizer fp16": n * d * 2}
    body = ("Table filled by `emb_random(%d, %d, 11)` in %.1f s; vec0 is left out here (its load "
            "alone would take minutes).\n\n" % (n, d, t_load))
    body += lib.ratio_table(times, "embext f16", bytes_per_rep=nb, extra=("recall@10 vs bare f16", recall), bw=ctx.bw)
    ctx.section(title, body)
    c.close()
    os.unlink(db)


# ---- kernel micro-benchmarks ----------------------------------------------------------------

def case_kernels(ctx):
    title = "9. Kernel micro-benchmarks (bench/bench_kernels.c)"
    exe = os.path.join(ctx.bin, "bench_kernels")
    src = os.path.join(ctx.root, "bench", "bench_kernels.c")
    if not os.path.exists(src):
        ctx.section(title, "not available (bench/bench_kernels.c is not on this branch yet)")
        return
    if not os.path.exists(exe):
        ctx.section(title, "not available (bench/bench_kernels.c did not build; see run.sh output)")
        return
    args = [exe] + (["--quick"] if ctx.quick else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 and ctx.quick:  # the program may not know --quick
        p = subprocess.run([exe], capture_output=True, text=True, timeout=300)
    text = p.stdout.strip() or p.stderr.strip()
    if text.lstrip().startswith(("|", "#")) or "\n|" in text:  # Markdown: headings one level down
        body = "\n".join("### " + ln.lstrip("#").strip() if ln.startswith("#") else ln
                         for ln in text.splitlines())
    else:
        body = "```\n%s\n```" % text
    if p.returncode != 0:
        body += "\n\nexit status %d" % p.returncode
    ctx.section(title, body)
