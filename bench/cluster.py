"""bench/cluster.py - embext through a 3-node dqlite cluster against local SQLite.

    make cluster && /usr/bin/python3 bench/cluster.py [--quick] [--report bench/REPORT_cluster.md]

(bench/run.sh runs it when libdqlite-dev is installed.)  Three embext-node processes on
127.0.0.1 (cluster/), the project's client (cluster/dqlite_client.py), the same Python
process and statements against a local SQLite file (WAL, synchronous=NORMAL) with
embext.so loaded.  Measures:
  - inserts: autocommit single-row and batched (transactions of 1,000 rows, 80 rows per
    INSERT) into embedding tables of dim 64 and 768 and into a plain rowid table holding
    the same BLOBs, rows/s;
  - query latency: KNN k = 10 over 10,000 x 64 and 5,000 x 768 rows, and a lookup by
    token_id; median and p90 of interleaved runs (cluster, local, cluster, ...);
  - failover: SIGKILL of the leader until a new leader answers a KNN query, with dqlite's
    default timing (election timeout 3 s) and with --latency-ms 50 (750 ms); median of
    repeated kills (the killed node restarts between them).
Numbers are from this machine (2 shared cores): compare within one run.
"""

import argparse
import array
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "cluster"))
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
import test_cluster as tc  # noqa: E402  (Node, free_ports, leader_node, ClusterSide)
from dqlite_client import DqliteError  # noqa: E402


def f32(rng, dim):
    return array.array("f", [rng.random() - 0.5 for _ in range(dim)]).tobytes()


class LocalSide(tc.Local):
    def __init__(self, path, ext):
        super().__init__(path, ext)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")


def insert_rates(side, tag, n_single, n_batch, rng):
    """rows/s of single-row autocommit and batched inserts on one side."""
    out = {}
    for dim in (64, 768):
        vecs = [f32(rng, dim) for _ in range(max(n_single, 1000))]
        for kind in ("embedding", "plain"):
            t = "%s_%s_%d" % (tag, kind, dim)
            if kind == "embedding":
                side.exec("create virtual table %s using embedding(dim=%d)" % (t, dim))
                one = "insert into %s(token_id, vector) values (?, ?)" % t
            else:
                side.exec("create table %s(token_id integer primary key, vector blob)" % t)
                one = "insert into %s(token_id, vector) values (?, ?)" % t
            t0 = time.perf_counter()
            for i in range(n_single):
                side.exec(one, (i, vecs[i]))
            out[("single", kind, dim)] = n_single / (time.perf_counter() - t0)
            base = 100000
            per = 80
            t0 = time.perf_counter()
            for b0 in range(0, n_batch, 1000):
                side.exec("begin")
                for s in range(b0, min(b0 + 1000, n_batch), per):
                    ids = range(s, min(s + per, n_batch, b0 + 1000))
                    sql = "insert into %s(token_id, vector) values %s" % (
                        t, ",".join(["(?,?)"] * len(ids)))
                    side.exec(sql, [x for i in ids for x in (base + i, vecs[i % len(vecs)])])
                side.exec("commit")
            out[("batch", kind, dim)] = n_batch / (time.perf_counter() - t0)
    return out


def load_query_tables(side, rng_seed):
    rng = random.Random(rng_seed)
    for t, dim, n in (("q64", 64, 10000), ("q768", 768, 5000)):
        side.exec("create virtual table %s using embedding(dim=%d)" % (t, dim))
        for b0 in range(0, n, 2000):
            side.exec("begin")
            for s in range(b0, b0 + 2000, 80):
                ids = range(s, s + 80)
                sql = "insert into %s(token_id, vector) values %s" % (t, ",".join(["(?,?)"] * 80))
                side.exec(sql, [x for i in ids for x in (i, f32(rng, dim))])
            side.exec("commit")


def query_latency(cluster, local, reps, rng):
    qs = {
        "KNN k=10, 10,000 x 64": ("select token_id, distance from q64 where vector match ? and k = 10", 64),
        "KNN k=10, 5,000 x 768": ("select token_id, distance from q768 where vector match ? and k = 10", 768),
        "lookup by token_id (dim 768)": ("select vector from q768 where token_id = ?", 0),
    }
    out = {}
    for name, (sql, dim) in qs.items():
        times = {"cluster": [], "local": []}
        for r in range(reps + 2):
            p = (f32(rng, dim),) if dim else (rng.randrange(5000),)
            for side_name, side in (("cluster", cluster), ("local", local)):
                t0 = time.perf_counter()
                rows = side.query(sql, p)
                dt = time.perf_counter() - t0
                if r >= 2:  # the first two warm the caches
                    times[side_name].append(dt)
                assert rows
        out[name] = {k: (min(v), statistics.median(v), sorted(v)[int(0.9 * (len(v) - 1))])
                     for k, v in times.items()}
    return out


def failover_times(nodes, kills):
    out = []
    for _ in range(kills):
        old = tc.leader_node(nodes)
        t0 = time.monotonic()
        old.kill()
        while True:
            try:
                side = tc.ClusterSide([n.address for n in nodes if n.alive()], skip=(old.address,), wait=0.5)
                side.query("select token_id from q64 where vector match ? and k = 10",
                           (array.array("f", [0.1] * 64).tobytes(),))
                side.close()
                break
            except (OSError, DqliteError):
                if time.monotonic() - t0 > 60:
                    raise
                time.sleep(0.02)
        out.append(time.monotonic() - t0)
        old.start()
        time.sleep(1.0)
    return out


def start_nodes(node_bin, folder, env):
    ports = tc.free_ports(3)
    nodes = [tc.Node(node_bin, folder, "127.0.0.1:%d" % p, env) for p in ports]
    nodes[0].start()
    nodes[1].start(join=[nodes[0].address])
    nodes[2].start(join=[nodes[0].address, nodes[1].address])
    return nodes


def compare_builds(variants, folder, env, rounds, n_single, n_batch):
    """Insert rates of two builds (label, node program, embext.so), interleaved:
    each round starts a fresh cluster and a fresh local file per build, in turn.
    {label: {(mode, kind, dim, where): [rows/s per round]}}."""
    out = {label: {} for label, _, _ in variants}
    for r in range(rounds):
        for label, node_bin, ext in variants:
            sub = os.path.join(folder, "ab-%s-%d" % (label, r))
            os.makedirs(sub)
            tc.LATENCY_MS = 50
            nodes = start_nodes(node_bin, sub, env)
            try:
                cluster = tc.ClusterSide([n.address for n in nodes])
                rng = random.Random(11 + r)
                got = insert_rates(cluster, "c", n_single, n_batch, rng)
                cluster.close()
            finally:
                for n in nodes:
                    n.terminate()
            local = LocalSide(os.path.join(sub, "local.db"), os.path.abspath(ext))
            got_l = insert_rates(local, "l", n_single, n_batch, random.Random(11 + r))
            local.db.close()
            for k, v in got.items():
                out[label].setdefault(k + ("cluster",), []).append(v)
            for k, v in got_l.items():
                out[label].setdefault(k + ("local",), []).append(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--node", default=os.path.join(ROOT, "build", "cluster", "embext-node"))
    ap.add_argument("--ext", default=os.path.join(ROOT, "embext.so"))
    ap.add_argument("--report", default=os.path.join(HERE, "REPORT_cluster.md"))
    ap.add_argument("--node-before", help="node program of an earlier build: adds insert rates "
                    "of both builds, interleaved")
    ap.add_argument("--ext-before", help="embext.so of that earlier build (the local column)")
    ap.add_argument("--before-label", default="before")
    args = ap.parse_args()
    n_single = 100 if args.quick else 500
    n_batch = 2000 if args.quick else 10000
    reps = 10 if args.quick else 50
    kills = 2 if args.quick else 3
    isa = os.environ.get("EMB_ISA", "")
    env = dict(os.environ)
    folder = tempfile.mkdtemp(prefix="embext-bench-cluster-")
    nodes = []
    lines = []
    try:
        rng = random.Random(5)
        results = {}
        fail = {}
        for latency in (50, None):
            sub = os.path.join(folder, "lat%s" % latency)
            os.makedirs(sub)
            tc.LATENCY_MS = latency
            ports = tc.free_ports(3)
            nodes = [tc.Node(args.node, sub, "127.0.0.1:%d" % p, env) for p in ports]
            nodes[0].start()
            nodes[1].start(join=[nodes[0].address])
            nodes[2].start(join=[nodes[0].address, nodes[1].address])
            cluster = tc.ClusterSide([n.address for n in nodes])
            if latency == 50:
                local = LocalSide(os.path.join(folder, "local.db"), os.path.abspath(args.ext))
                results["insert cluster"] = insert_rates(cluster, "c", n_single, n_batch, rng)
                results["insert local"] = insert_rates(local, "l", n_single, n_batch, rng)
                load_query_tables(cluster, 7)
                load_query_tables(local, 7)
                results["latency"] = query_latency(cluster, local, reps, rng)
                local.db.close()
            else:
                load_query_tables(cluster, 7)
            cluster.close()
            fail[latency] = failover_times(nodes, kills)
            for n in nodes:
                n.terminate()
            nodes = []

        ins_c, ins_l = results["insert cluster"], results["insert local"]
        lines += ["# embext on a 3-node dqlite cluster (bench/cluster.py)", "",
                  "libdqlite %s, 3 nodes on 127.0.0.1, one machine (2 shared cores); local = SQLite %s "
                  "file in WAL mode, synchronous=NORMAL, same Python process and statements. %s"
                  % (subprocess.run(["pkg-config", "--modversion", "dqlite"], capture_output=True,
                                    text=True).stdout.strip(), sqlite3.sqlite_version,
                     ("EMB_ISA=" + isa) if isa else "Kernel set: the best this CPU has."), "",
                  "## Inserts (rows/s)", "",
                  "| table | single-row autocommit, cluster | local | batched (1,000 per transaction), cluster | local |",
                  "|---|---:|---:|---:|---:|"]
        for kind in ("embedding", "plain"):
            for dim in (64, 768):
                lines.append("| %s, dim %d | %.0f | %.0f | %.0f | %.0f |" % (
                    "embedding table" if kind == "embedding" else "plain rowid table (same BLOB)", dim,
                    ins_c[("single", kind, dim)], ins_l[("single", kind, dim)],
                    ins_c[("batch", kind, dim)], ins_l[("batch", kind, dim)]))
        lines += ["", "%d single-row and %d batched inserts per cell." % (n_single, n_batch), "",
                  "## Query latency (ms, min / median / p90 of %d interleaved runs)" % reps, "",
                  "| query | cluster (leader) | local |", "|---|---:|---:|"]
        for name, v in results["latency"].items():
            lines.append("| %s | %s | %s |" % (name, " / ".join("%.2f" % (x * 1e3) for x in v["cluster"]),
                                                " / ".join("%.2f" % (x * 1e3) for x in v["local"])))
        lines += ["", "## Failover (s from SIGKILL of the leader to a KNN answer from the new one)", "",
                  "| node timing | runs | median | max |", "|---|---:|---:|---:|"]
        for latency, name in ((50, "--latency-ms 50 (election timeout 750 ms)"),
                              (None, "dqlite default (election timeout 3 s)")):
            v = fail[latency]
            lines.append("| %s | %d | %.2f | %.2f |" % (name, len(v), statistics.median(v), max(v)))
        if args.node_before and args.ext_before:
            rounds = 2 if args.quick else 3
            ab_single, ab_batch = (100, 2000) if args.quick else (300, 5000)
            ab = compare_builds([(args.before_label, args.node_before, args.ext_before),
                                 ("this build", args.node, args.ext)], folder, env, rounds,
                                ab_single, ab_batch)
            lines += ["", "## Inserts, %s vs this build (rows/s, median of %d interleaved rounds)"
                      % (args.before_label, rounds), "",
                      "Each round: a fresh 3-node cluster (`--latency-ms 50`) and a fresh local file "
                      "per build, in turn; %d single-row and %d batched rows per cell." % (ab_single, ab_batch), "",
                      "| insert | table | %s: cluster | this build: cluster | %s: local | this build: local |"
                      % (args.before_label, args.before_label), "|---|---|---:|---:|---:|---:|"]
            med = statistics.median
            for mode in ("single", "batch"):
                for kind in ("embedding", "plain"):
                    for dim in (64, 768):
                        b, a = ab[args.before_label], ab["this build"]
                        lines.append("| %s | %s, dim %d | %.0f | %.0f | %.0f | %.0f |" % (
                            "autocommit single-row" if mode == "single" else "1,000 per transaction",
                            "embedding" if kind == "embedding" else "plain rowid", dim,
                            med(b[(mode, kind, dim, "cluster")]), med(a[(mode, kind, dim, "cluster")]),
                            med(b[(mode, kind, dim, "local")]), med(a[(mode, kind, dim, "local")])))
        text = "\n".join(lines) + "\n"
        print(text)
        with open(args.report, "w") as f:
            f.write(text)
    finally:
        for n in nodes:
            n.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
