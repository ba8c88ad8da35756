#!/usr/bin/python3
"""bench/writes.py - what writes to an `embedding` table cost: WAL frames per
single-row statement, single-row autocommit insert rate, bulk loads, against
a plain rowid table and against an older embext build, in one run.

    /usr/bin/python3 bench/writes.py --embext ./embext.so [--old OLD/embext.so]
        [--quick] [--rounds N] [--report bench/REPORT_writes.md]

(bench/run.sh, i.e. `make bench`, runs it with --old built from the last
commit that wrote chunk format 1, see EMB_OLD_REV there.)  Each .so must be
named embext.so (SQLite derives the entry point from the file name).

Cases
  frames   WAL frames per autocommit INSERT / UPDATE (vector) / DELETE of one
           row, after 2,000 committed rows (checkpointed), averaged over 200
           statements; WAL mode, wal_autocheckpoint off; frames = growth of
           the -wal file / (page size + 24).  The plain table is
           `create table p(id integer primary key, token text unique, vector
           blob)` holding the same rows (the fair equivalent: a rowid, a
           unique token, the f32 blob).
  single   rows/s of 2,000 single-row autocommit INSERTs (journal_mode=WAL,
           synchronous=NORMAL: commits write the WAL without fsync, so the
           rate reflects the work, not the disk's flush latency).
  bulk     INSERT ... SELECT of 50,000 x 768 f32 rows from a plain table in
           one transaction (rollback journal, the default), its DROP TABLE,
           and the GloVe 10k text import (emb_read_text, dim 50); the pages
           the loaded table takes.
Systems of one case alternate within each round (order rotated); medians.
On a shared machine the wall times of bulk loads move by tens of percent
between runs; the process's CPU time (user + system) is steadier.
"""
import argparse
import os
import random
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOVE = os.path.join(ROOT, "tests", "data", "glove.6B.50d.10k.txt")
PLAIN = "create table t(id integer primary key, token text unique, vector blob)"


def connect(so, path):
    db = sqlite3.connect(path, isolation_level=None)
    if so:
        db.enable_load_extension(True)
        db.load_extension(os.path.abspath(so))
        db.enable_load_extension(False)
    return db


def fresh(tmp, name):
    path = os.path.join(tmp, name)
    for f in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(f):
            os.remove(f)
    return path


def wal_frames(path, page):
    try:
        n = os.path.getsize(path + "-wal")
    except FileNotFoundError:
        return 0
    return 0 if n < 32 else (n - 32) // (page + 24)


def create(kind, dim):
    """The table statement of a system kind: plain, emb (default layout) or packed."""
    if kind == "plain":
        return PLAIN
    return f"create virtual table t using embedding(dim={dim}" + (", layout=packed" if kind == "packed" else "") + ")"


def kind_of(name):
    return name if name in ("plain", "packed") else "emb"


def statements(kind):
    col = "token_id" if kind != "plain" else "id"
    return (f"insert into t({col}, token, vector) values (?, ?, ?)",
            f"update t set vector = ? where {col} = ?",
            f"delete from t where {col} = ?")


def vectors(dim, n, seed):
    rnd = random.Random(seed)
    return [struct.pack(f"{dim}f", *(rnd.uniform(-1, 1) for _ in range(dim))) for _ in range(n)]


def frames_case(so, kind, dim, tmp, n_pre, n_ops):
    """WAL frames per statement for insert / update / delete."""
    path = fresh(tmp, f"frames_{kind}_{dim}.db")
    db = connect(so, path)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma wal_autocheckpoint = 0")
    db.execute("pragma synchronous = off")  # same frames, no fsync
    db.execute(create(kind, dim))
    ins, upd, dele = statements(kind)
    vec = vectors(dim, n_pre + 2 * n_ops, 1)
    db.execute("begin")
    for i in range(n_pre):
        db.execute(ins, (i, f"tok{i}", vec[i]))
    db.execute("commit")
    db.execute("pragma wal_checkpoint(truncate)")
    page = db.execute("pragma page_size").fetchone()[0]
    ids = list(range(n_pre))
    random.Random(2).shuffle(ids)
    out = {}
    for op in ("insert", "update", "delete"):
        db.execute("pragma wal_checkpoint(truncate)")
        f0 = wal_frames(path, page)
        for k in range(n_ops):
            if op == "insert":
                db.execute(ins, (n_pre + k, f"tok{n_pre + k}", vec[n_pre + k]))
            elif op == "update":
                db.execute(upd, (vec[n_pre + n_ops + k], ids[k]))
            else:
                db.execute(dele, (ids[n_ops + k],))
        out[op] = (wal_frames(path, page) - f0) / n_ops
    db.close()
    return out


def single_rate(so, kind, dim, tmp, n):
    path = fresh(tmp, f"single_{kind}_{dim}.db")
    db = connect(so, path)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma synchronous = normal")
    db.execute(create(kind, dim))
    ins = statements(kind)[0]
    vec = vectors(dim, 64, 3)
    t = time.perf_counter()
    for i in range(n):
        db.execute(ins, (i, f"tok{i}", vec[i % 64]))
    dt = time.perf_counter() - t
    db.close()
    return n / dt


class Bulk:
    """One database per system with the 50k x 768 source rows."""

    def __init__(self, so, name, tmp, n):
        self.kind, self.n = kind_of(name), n
        self.path = fresh(tmp, f"bulk_{name}.db")
        self.db = connect(so, self.path)
        src = connect(None, self.path)
        src.execute("create table src(id integer primary key, vector blob)")
        rows = vectors(768, 1000, 4)
        src.execute("begin")
        for i in range(n):  # 1,000 distinct rows, repeated (f32 bytes are what matters)
            src.execute("insert into src values (?, ?)", (i, rows[i % 1000]))
        src.execute("commit")
        src.close()

    def load(self):
        db = self.db
        db.execute(create(self.kind, 768))
        if self.kind == "plain":
            sql = "insert into t(id, vector) select id, vector from src"
        else:
            sql = "insert into t(token_id, vector) select id, vector from src"
        used = lambda: (db.execute("pragma page_count").fetchone()[0]
                        - db.execute("pragma freelist_count").fetchone()[0])
        p0 = used()
        t0, c0 = time.perf_counter(), time.process_time()
        db.execute("begin")
        db.execute(sql)
        db.execute("commit")
        t1, c1 = time.perf_counter(), time.process_time()
        pages = used() - p0
        db.execute("drop table t")
        t2 = time.perf_counter()
        return t1 - t0, c1 - c0, t2 - t1, pages

    def glove(self):
        if self.kind == "plain":
            return None
        db = self.db
        db.execute(create(self.kind, 50).replace(" t ", " g "))
        t0 = time.perf_counter()
        db.execute("begin")
        db.execute(f"insert into g select * from emb_read_text('{GLOVE}')")
        db.execute("commit")
        t1 = time.perf_counter()
        db.execute("drop table g")
        return t1 - t0


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embext", required=True)
    ap.add_argument("--old")
    ap.add_argument("--old-name", help="what the old build is, for the report (default: its path)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--report")
    a = ap.parse_args()
    rounds = a.rounds or (3 if a.quick else 5)
    n_bulk = 10000 if a.quick else 50000
    systems = [("new", a.embext), ("packed", a.embext), ("plain", a.embext)]
    if a.old and os.path.exists(a.old):
        systems.insert(0, ("old", a.old))
    elif a.old:
        print(f"writes.py: old build {a.old} missing; old columns left out", file=sys.stderr)
    names = [s for s, _ in systems]
    lines = ["# Writes: WAL frames per statement, single-row and bulk rates", "",
             "Made by `bench/writes.py` (run by `make bench`); systems: "
             + ", ".join(f"{n} = {'plain rowid table' if n == 'plain' else (a.old_name or so) if n == 'old' else so + (' with layout=packed' if n == 'packed' else ' (default layout, aligned)')}" for n, so in systems)
             + f"; {rounds} rounds, medians.", ""]
    tmp = tempfile.mkdtemp(prefix="embw_")
    try:
        lines += ["## WAL frames per single-row autocommit statement", "",
                  "| dim | statement | " + " | ".join(names) + " | new / plain | packed / plain |",
                  "|---|---|" + "---|" * (len(names) + 2)]
        for dim in (64, 768):
            fr = {n: frames_case(so, kind_of(n), dim, tmp, 2000, 200)
                  for n, so in systems}
            for op in ("insert", "update", "delete"):
                lines.append(f"| {dim} | {op.upper()} | " + " | ".join(f"{fr[n][op]:.2f}" for n in names)
                             + f" | {fr['new'][op] / fr['plain'][op]:.2f} | {fr['packed'][op] / fr['plain'][op]:.2f} |")
        lines += ["", "## Single-row autocommit INSERT (rows/s, WAL, synchronous=NORMAL)", "",
                  "| dim | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        n_single = 500 if a.quick else 2000
        for dim in (64, 768):
            rate = {n: [] for n in names}
            for r in range(rounds):
                order = systems[r % len(systems):] + systems[:r % len(systems)]
                for n, so in order:
                    rate[n].append(single_rate(so, kind_of(n), dim, tmp, n_single))
            lines.append(f"| {dim} | " + " | ".join(f"{med(rate[n]):,.0f}" for n in names) + " |")
        bulk = {n: Bulk(so, n, tmp, n_bulk) for n, so in systems}
        load = {n: [] for n in names}
        cpu = {n: [] for n in names}
        drop = {n: [] for n in names}
        glove = {n: [] for n in names}
        pages = {}
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                t_load, c_load, t_drop, pages[n] = bulk[n].load()
                load[n].append(t_load)
                cpu[n].append(c_load)
                drop[n].append(t_drop)
                g = bulk[n].glove()
                if g is not None:
                    glove[n].append(g)
        ratio = lambda d: "".join(f" {med(d[n]) / med(d['old']):.3f} |" if "old" in d and d["old"] and d[n] else " - |"
                                  for n in ("new", "packed"))
        lines += ["", f"## Bulk loads ({n_bulk:,} x 768 f32 INSERT ... SELECT in one transaction; GloVe 10k import)", "",
                  "| case | " + " | ".join(names) + " | new / old | packed / old |", "|---|" + "---|" * (len(names) + 2),
                  f"| INSERT ... SELECT {n_bulk:,} x 768 + COMMIT (ms) | "
                  + " | ".join(f"{med(load[n]) * 1e3:.0f}" for n in names) + " |" + ratio(load),
                  "| the same, CPU time of the process (ms) | "
                  + " | ".join(f"{med(cpu[n]) * 1e3:.0f}" for n in names) + " |" + ratio(cpu),
                  "| rows/s (wall) | " + " | ".join(f"{n_bulk / med(load[n]):,.0f}" for n in names) + " |" + " - | - |",
                  "| DROP TABLE (ms) | " + " | ".join(f"{med(drop[n]) * 1e3:.0f}" for n in names) + " |" + ratio(drop),
                  "| pages the table takes | " + " | ".join(f"{pages[n]:,}" for n in names) + " |"
                  + "".join(f" {pages[n] / pages['old']:.3f} |" if "old" in pages else " - |" for n in ("new", "packed")),
                  "| GloVe 10k emb_read_text import + COMMIT (ms) | "
                  + " | ".join(f"{med(glove[n]) * 1e3:.1f}" if glove[n] else "-" for n in names) + " |" + ratio(glove)]
        for b in bulk.values():
            b.db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines += ["", f"load average {os.getloadavg()[0]:.2f}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
