"""knn_batch.py - exact top-10 for a batch of 64 queries over 50,000 x 768:
emb_knn (one pass over the rows for all queries) vs 64 separate
`vector match q and k = 10` queries, and numpy (one sgemm) when installed.

    /usr/bin/python3 bench/knn_batch.py [metric [dtype [repeats]]]

Needs a Python whose sqlite3 module can load extensions, run from the
repository root after `make` (loads ./embext.so).  Prints the median of
`repeats` runs (default 5) in milliseconds per query, and whether the batch
returned the same token ids as the separate queries.
"""
import sqlite3
import statistics
import sys
import time

metric = sys.argv[1] if len(sys.argv) > 1 else "cosine"
dtype = sys.argv[2] if len(sys.argv) > 2 else "f32"
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
N, DIM, NQ, K = 50000, 768, 64, 10

db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension("./embext")
db.execute(f"create virtual table e using embedding(dim={DIM}, dtype={dtype})")
db.execute("insert into e(token_id, token, vector) select token_id, token, vector "
           f"from emb_random({N}, {DIM}, 42)")
qs = [r[0] for r in db.execute(f"select vector from emb_random({NQ}, {DIM}, 7)")]
blob = b"".join(qs)
db.execute("select count(*) from emb_knn('e', ?, 1, ?)", (qs[0], metric)).fetchall()  # load cache


def batch():
    return db.execute("select query, token_id from emb_knn('e', ?, ?, ?)",
                      (blob, K, metric)).fetchall()


def single():
    out = []
    for j, q in enumerate(qs):
        out += [(j, r[0]) for r in db.execute(
            "select token_id from e where vector match ? and k = ? and metric = ?", (q, K, metric))]
    return out


def median_ms_per_query(f):
    times, res = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000 / NQ, res


tb, rb = median_ms_per_query(batch)
ts, rs = median_ms_per_query(single)
print(f"{dtype} {metric}: emb_knn batch {tb:.2f} ms/query, separate queries {ts:.2f} ms/query, "
      f"speed-up {ts / tb:.1f}x, same ids: {rb == rs}")

try:
    import numpy as np
except ImportError:
    sys.exit(0)
if dtype == "f32" and metric == "cosine":
    m = np.frombuffer(b"".join(r[0] for r in db.execute("select vector from e order by token_id")),
                      dtype=np.float32).reshape(N, DIM)
    q = np.frombuffer(blob, dtype=np.float32).reshape(NQ, DIM)
    mn = m / np.linalg.norm(m, axis=1, keepdims=True)

    def numpy_knn():
        s = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ mn.T
        idx = np.argpartition(-s, K, axis=1)[:, :K]
        return np.take_along_axis(idx, np.argsort(-np.take_along_axis(s, idx, 1), 1), 1)

    tn, rn = median_ms_per_query(numpy_knn)
    same = [(j, int(t)) for j in range(NQ) for t in rn[j]] == rb
    print(f"numpy (normalised rows, sgemm + argpartition): {tn:.2f} ms/query, same ids: {same}")
