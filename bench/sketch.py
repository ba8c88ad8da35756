"""bench/sketch.py - the int8 sketch of exact KNN (src/search/sketch.h) against
the plain f32 scan (a sketch=none table), sqlite-vector 1.1.2's
vector_quantize_scan (approximate) and faiss IndexFlatIP, all on one thread,
interleaved in one process (bench/lib.py: measure), medians.

  /usr/bin/python3 bench/sketch.py [--quick] [--out bench/SKETCH.md]

Cases
  1. 50,000 x 768 f32 rows, N(0, 1), top-10 cosine, one query at a time:
     embext MATCH ... AND k = 10 with the sketch, the same on a sketch=none
     table, sqlite-vector vector_quantize_scan (after vector_quantize and
     vector_quantize_preload).  Every sketch result is checked equal to the
     plain one (ids and distances); sqlite-vector's recall@10 is reported.
  2. emb_knn with a batch of 64 queries (per query) vs faiss IndexFlatIP on
     the normalised rows (cosine), 1 thread.
  3. Fraction of rows rescored (build/bench/sketch_stats) on GloVe 10k x 50
     (tests/data), stories260k's 512 x 64 token embeddings (tests/data) and
     the 50k x 768 rows; memory of the sketch next to the f32 rows.
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.path.join(ROOT, "build", "embext")
VECTOR = os.path.join(ROOT, "bench", "vendor", "node_modules", "@sqliteai",
                      "sqlite-vector-linux-x86_64", "vector.so")
STATS = os.path.join(ROOT, "build", "bench", "sketch_stats")


def ms(t):
    return 1e3 * t


def build_db(path, X):
    c = lib.connect(path, [EXT])
    n, d = X.shape
    c.execute(f"create virtual table s using embedding(dim={d})")
    c.execute(f"create virtual table p using embedding(dim={d}, sketch=none)")
    c.execute("create table sv(id integer primary key, e blob)")
    c.execute("begin")
    for i in range(n):
        b = X[i].tobytes()
        c.execute("insert into s(token_id, vector) values (?, ?)", (i, b))
        c.execute("insert into p(token_id, vector) values (?, ?)", (i, b))
        c.execute("insert into sv(id, e) values (?, ?)", (i, b))
    c.execute("commit")
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "SKETCH.md"))
    a = ap.parse_args()
    n, d = (10000, 768) if a.quick else (50000, 768)
    n_q, reps = (10, 3) if a.quick else (30, 5)
    rng = np.random.default_rng(20261204)
    X = rng.standard_normal((n, d), dtype=np.float32)
    Q = rng.standard_normal((max(n_q, 64), d), dtype=np.float32)
    lines = [f"# Sketch benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"Machine: {lib.cpu_info()}; load average at start {lib.loadavg()}.", ""]
    tmp = tempfile.mkdtemp(prefix="embsketch")
    db = os.path.join(tmp, "b.db")
    build_db(db, X)
    c = lib.connect(db, [EXT])
    have_sv = os.path.exists(VECTOR)
    if have_sv:
        c.load_extension(VECTOR)
        c.execute(f"select vector_init('sv', 'e', 'type=FLOAT32,dimension={d},distance=COSINE')")
        c.execute("select vector_quantize('sv', 'e')")
        c.execute("select vector_quantize_preload('sv', 'e')")

    def knn(t, q):
        return c.execute(f"select token_id, distance from {t} where vector match ? and k = 10",
                         (q.tobytes(),)).fetchall()

    def sv(q):
        return c.execute("select rowid, distance from vector_quantize_scan('sv', 'e', ?, 10)",
                         (q.tobytes(),)).fetchall()

    # 1. one query at a time
    systems = [("embext sketch", lambda r: [knn("s", q) for q in Q[:n_q]]),
               ("embext plain f32", lambda r: [knn("p", q) for q in Q[:n_q]])]
    if have_sv:
        systems.append(("sqlite-vector quantize_scan", lambda r: [sv(q) for q in Q[:n_q]]))
    times, out = lib.measure(systems, reps)
    same = out["embext sketch"] == out["embext plain f32"]
    med = {k: lib.stats(v)["median"] / n_q for k, v in times.items()}
    lines += [f"## 1. Top-10 cosine, {n:,} x {d} f32, one query ({n_q} queries x {reps} reps, "
              "interleaved; median per query)", "",
              "| system | ms / query | vs plain | vs sqlite-vector |", "|---|---|---|---|"]
    for k in med:
        vs_sv = f"{med[k] / med['sqlite-vector quantize_scan']:.2f}x" if have_sv else "-"
        lines.append(f"| {k} | {ms(med[k]):.2f} | {med[k] / med['embext plain f32']:.2f}x | {vs_sv} |")
    lines.append("")
    lines.append(f"Sketch results identical to the plain scan (ids and distances, all {n_q} queries): "
                 f"{'yes' if same else 'NO'}.")
    if have_sv:
        rec = np.mean([len({i for i, _ in s} & {i for i, _ in p}) / 10.0
                       for s, p in zip(out["sqlite-vector quantize_scan"], out["embext plain f32"])])
        lines.append(f"sqlite-vector recall@10 against the exact result: {rec:.3f}.")
    else:
        lines.append("sqlite-vector: not installed (bench/vendor), not measured.")
    lines.append("")

    # 2. emb_knn batch of 64 vs faiss
    B = Q[:64]
    blob = B.tobytes()

    def emb_knn(t):
        return c.execute(f"select query, token_id from emb_knn('{t}', ?, 10)", (blob,)).fetchall()

    systems = [("emb_knn (sketch table)", lambda r: emb_knn("s")),
               ("emb_knn (sketch=none table)", lambda r: emb_knn("p"))]
    try:
        import faiss
        faiss.omp_set_num_threads(1)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        index = faiss.IndexFlatIP(d)
        index.add(Xn)
        Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
        systems.append(("faiss IndexFlatIP", lambda r: index.search(Bn, 10)))
    except ImportError:
        faiss = None
    times, _ = lib.measure(systems, reps)
    lines += ["## 2. Batch of 64 queries, top-10 cosine, per query", "",
              "| system | ms / query | vs faiss |", "|---|---|---|"]
    fm = lib.stats(times["faiss IndexFlatIP"])["median"] if faiss else None
    for k, v in times.items():
        m = lib.stats(v)["median"]
        lines.append(f"| {k} | {ms(m) / 64:.3f} | {m / fm:.2f}x |" if fm else f"| {k} | {ms(m) / 64:.3f} | - |")
    lines.append("")

    # 3. fraction rescored, memory
    lines += ["## 3. Rows rescored (k = 10; half the queries are stored rows, half Gaussian)", "",
              "| data | rows x dim | metric | rows rescored / rows scanned | sketch bytes / f32 bytes |",
              "|---|---|---|---|---|"]
    sets = []
    glove = os.path.join(ROOT, "tests", "data", "glove.6B.50d.10k.txt")
    G = np.array([[float(v) for v in l.split()[1:]] for l in open(glove, encoding="utf-8")
                  if len(l.split()) == 51], dtype=np.float32)
    sets.append(("GloVe 6B 50d 10k", G))
    g = lib.connect(":memory:", [EXT])
    S = np.array([np.frombuffer(v, dtype=np.float32) for (v,) in g.execute(
        "select vector from emb_read_gguf(?) order by token_id",
        (os.path.join(ROOT, "tests", "data", "stories260k-f32.gguf"),))])
    sets.append(("stories260k token_embd", S))
    sets.append((f"N(0,1) {n // 1000}k x {d}", X))
    for name, M in sets:
        f = os.path.join(tmp, "m.f32")
        M.astype(np.float32).tofile(f)
        r = subprocess.run([STATS, f, str(M.shape[1]), "10", "100"], capture_output=True, text=True)
        if r.returncode != 0:
            lines.append(f"| {name} | {M.shape[0]} x {M.shape[1]} | - | FAILED: {r.stderr.strip()} | - |")
            continue
        res = dict()
        for line in r.stdout.splitlines():
            w = line.split()
            if w[0] == "sketch_bytes":
                mem = int(w[1]) / int(w[3])
            else:
                res[w[0]] = (int(w[2]), int(w[4]))
        for metric, (sc, rs) in res.items():
            lines.append(f"| {name} | {M.shape[0]:,} x {M.shape[1]} | {metric} | "
                         f"{rs:,} / {sc:,} = {100.0 * rs / sc:.3f} % | {100 * mem:.1f} % |")
    lines.append("")
    text = "\n".join(lines) + "\n"
    with open(a.out, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(text)
    os.remove(db)


if __name__ == "__main__":
    main()
