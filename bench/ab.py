#!/usr/bin/python3
"""bench/ab.py OLD.so NEW.so [--rounds N] - two builds of embext side by side.

For a change that must not slow anything down (a refactor): the same
statements on the same data, alternating OLD and NEW within each round, and
the median of each reported with the ratio NEW / OLD (below 1: NEW faster).
Uses Debian's /usr/bin/python3 (its sqlite3 module loads extensions) and the
shipped data in tests/data.  Each file must be named embext.so (SQLite derives
the entry point from the name), so put the builds in two folders:

    git worktree add --detach /tmp/old <rev> && make -C /tmp/old embext.so
    /usr/bin/python3 bench/ab.py /tmp/old/embext.so ./embext.so

Cases: bulk load of 50,000 x 768 random rows, top-10 cosine KNN scan on it
(and on a sketch=none copy: the plain scan), 1,000 single-row inserts, an
update followed by a KNN query,
10,000 lookups by id, emb_most_similar and emb_analogy on GloVe 10k, a GloVe
10k text import, emb_read_gguf of stories260k.
"""
import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
GLOVE = os.path.join(DATA, "glove.6B.50d.10k.txt")
GGUF = os.path.join(DATA, "stories260k-f32.gguf")


def connect(so, path):
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(os.path.abspath(so))
    db.enable_load_extension(False)
    return db


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def setup(so, tmp, tag):
    """A database per build with the big table and GloVe loaded."""
    path = os.path.join(tmp, tag + ".db")
    db = connect(so, path)
    db.execute("create virtual table big using embedding(dim=768)")
    db.execute("insert into big select * from emb_random(50000, 768, 42)")
    db.execute("create virtual table plain using embedding(dim=768, sketch=none)")
    db.execute("insert into plain select * from big")
    db.execute("create virtual table glove using embedding(dim=50)")
    db.execute(f"insert into glove select * from emb_read_text('{GLOVE}')")
    db.commit()
    q = db.execute("select vector from big where token_id = 7").fetchone()[0]
    return db, q


def cases(db, q):
    def bulk():
        db.execute("create virtual table t using embedding(dim=768)")
        db.execute("insert into t select * from emb_random(20000, 768, 1)")
        db.commit()
        db.execute("drop table t")
        db.commit()

    def knn():
        db.execute("select token_id, distance from big where vector match ? and k = 10",
                   (q,)).fetchall()

    def knn_plain():
        db.execute("select token_id, distance from plain where vector match ? and k = 10",
                   (q,)).fetchall()

    def inserts():
        for i in range(1000):
            db.execute("insert into big(token_id, vector) values (?, ?)", (60000 + i, q))
        db.commit()
        db.execute("delete from big where token_id >= 60000")
        db.commit()

    def update_knn():
        db.execute("update big set vector = ? where token_id = 11", (q,))
        db.commit()
        db.execute("select token_id, distance from big where vector match ? and k = 10",
                   (q,)).fetchall()

    def lookups():
        for i in range(0, 50000, 5):
            db.execute("select vector from big where token_id = ?", (i,)).fetchone()

    def similar():
        db.execute("select * from emb_most_similar('glove', '[\"king\"]', '[]', 10)").fetchall()

    def analogy():
        db.execute("select * from emb_analogy('glove', 'man', 'king', 'woman', 10)").fetchall()

    def text_import():
        db.execute(f"select count(*) from emb_read_text('{GLOVE}')").fetchone()

    def gguf():
        db.execute(f"select count(*), sum(length(vector)) from emb_read_gguf('{GGUF}')").fetchone()

    return [("bulk load 20k x 768", bulk, 1), ("KNN top-10 cosine, 50k x 768", knn, 5),
            ("KNN top-10 cosine, 50k x 768, sketch=none (plain scan)", knn_plain, 5),
            ("1,000 single-row inserts + delete (one transaction each)", inserts, 1),
            ("update one row, commit, KNN top-10", update_knn, 3),
            ("10,000 lookups by id", lookups, 1), ("emb_most_similar (GloVe 10k)", similar, 5),
            ("emb_analogy (GloVe 10k)", analogy, 5), ("emb_read_text GloVe 10k", text_import, 1),
            ("emb_read_gguf stories260k", gguf, 5)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=9)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        builds = {}
        for tag, so in (("old", a.old), ("new", a.new)):
            db, q = setup(so, tmp, tag)
            builds[tag] = cases(db, q)
            for _, fn, reps in builds[tag]:  # warm the caches
                fn()
        times = {tag: [[] for _ in builds[tag]] for tag in builds}
        for r in range(a.rounds):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for i in range(len(builds["old"])):
                for tag in order:
                    _, fn, reps = builds[tag][i]
                    times[tag][i].append(min(timed(fn) for _ in range(reps)))
    print(f"| case | old (ms) | new (ms) | new / old |\n|---|---|---|---|")
    for i, (name, _, _) in enumerate(builds["old"]):
        o = statistics.median(times["old"][i]) * 1e3
        n = statistics.median(times["new"][i]) * 1e3
        print(f"| {name} | {o:.2f} | {n:.2f} | {n / o:.3f} |")
    print(f"\n{a.rounds} rounds, medians; old = {a.old}, new = {a.new}; "
          f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
