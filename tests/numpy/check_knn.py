#!/usr/bin/python3
"""check_knn.py - the `embedding` table's KNN against a numpy brute force.

    /usr/bin/python3 tests/numpy/check_knn.py [path/to/embext.so]

Builds 2,000 x 64 random rows (seeded; some ids missing) in every dtype,
runs `vector MATCH ? AND k = 10` (and a token_id filter) for every metric
and compares ids with numpy's exact ranking (distance, then token_id) of
the stored (widened) vectors.  Exits 1 on any mismatch.  Needs a Python
whose sqlite3 module can load extensions (Debian's /usr/bin/python3).
"""
import os
import sqlite3
import sys

import numpy as np

ext = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("EMB_EXT", "build/embext.so")
rng = np.random.default_rng(7)
N, D = 2000, 64
ids = np.array([i for i in range(N) if i % 13 != 5])
X = rng.standard_normal((len(ids), D)).astype(np.float32)
X[3] = X[4]  # an exact tie
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(os.path.abspath(ext))
bad = 0
for dtype in ("f32", "f16", "bf16", "int8"):
    db.execute(f"create virtual table t_{dtype} using embedding(dim={D}, dtype={dtype})")
    db.executemany(f"insert into t_{dtype}(token_id, vector) values (?, ?)",
                   ((int(i), x.tobytes()) for i, x in zip(ids, X)))
    rows = db.execute(f"select token_id, vector from t_{dtype}").fetchall()
    tid = np.array([r[0] for r in rows])
    Y = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]).astype(np.float64)
    for qi in range(5):
        q = rng.standard_normal(D).astype(np.float32)
        q64 = q.astype(np.float64)
        for metric in ("cosine", "dot", "l2"):
            if metric == "cosine":
                d = 1 - (Y @ q64) / (np.linalg.norm(Y, axis=1) * np.linalg.norm(q64))
            elif metric == "dot":
                d = -(Y @ q64)
            else:
                d = np.linalg.norm(Y - q64, axis=1)
            want = tid[np.lexsort((tid, d))][:10].tolist()
            got = [r[0] for r in db.execute(
                f"select token_id from t_{dtype} where vector match ? and k = 10 and metric = ?",
                (q.tobytes(), metric))]
            sel = (tid >= 500) & (tid < 900)
            want_f = tid[sel][np.lexsort((tid[sel], d[sel]))][:10].tolist()
            got_f = [r[0] for r in db.execute(
                f"select token_id from t_{dtype} where vector match ? and k = 10 and metric = ?"
                " and token_id between 500 and 899", (q.tobytes(), metric))]
            for w, g, what in ((want, got, ""), (want_f, got_f, " (filtered)")):
                if w != g:
                    bad += 1
                    print(f"MISMATCH {dtype} {metric} q{qi}{what}: numpy {w} vs table {g}")
print("check_knn: %s" % ("all match" if bad == 0 else f"{bad} mismatches"))
sys.exit(1 if bad else 0)
