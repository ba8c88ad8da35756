"""test_cluster.py - embext on a 3-node dqlite cluster against a local SQLite run.

    /usr/bin/python3 tests/cluster/test_cluster.py --node build/cluster/embext-node \
        --ext build/embext.so [--shell /usr/bin/dqlite]

Starts three embext-node processes on free 127.0.0.1 ports (data directories in a fresh
temporary folder), then:
  1. loads 10,000 x 64 rows (f32 and int8 tables, with tokens) and 5,000 x 768 rows in
     transactions through the cluster's leader, and the same statements into a local
     SQLite file with build/embext.so loaded;
  2. runs KNN (cosine, l2; k = N and ORDER BY distance LIMIT N; f32 and int8), lookups by
     id / IN / token, emb_lookup, emb_most_similar and emb_knn on the leader and locally:
     ids, tokens, vectors and distances must be equal bit for bit (both sides run the
     kernel set pinned by EMB_ISA, checked with emb_isa() on the cluster);
  3. the dqlite shell (Debian go-dqlite) with a JSON vector in the SQL text: same answer;
  4. SIGKILL of the leader: a new leader answers identically within FAILOVER_WAIT_S;
     writes on it; the killed node restarts from its directory and catches up: its own
     copy of the database (DUMP, served by a follower too) answers identically; a second
     SIGKILL of the leader, same checks.  (Not TRANSFER of the leadership to the restarted
     node: with libdqlite 1.11.1 / libraft 0.15.0, this sequence with a TRANSFER to the
     restarted node before the second kill made a follower die of SIGSEGV inside a libuv
     callback in 5 of 6 runs; without the writes between the kills it did not, 3 runs);
  5. SIGKILL of the leader during a stream of autocommit INSERTs: every acknowledged row
     is there with its vector, and nothing that was not sent;
  6. SIGTERM stops every node cleanly (exit status 0).
Every process is ended by its pid and the folder removed, whatever happens.  Prints each
failed check and "N passed, N failed"; exits non-zero on any failure.
"""

import argparse
import array
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "cluster"))
from dqlite_client import Connection, DqliteError, find_leader  # noqa: E402

FAILOVER_WAIT_S = 20.0   # a new leader must answer correctly within this
READY_WAIT_S = 30.0      # a node must print its ready line within this
LATENCY_MS = 100         # --latency-ms of the nodes: election timeout 1.5 s (a busy machine)
DB = "embext-test"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAILED: %s%s" % (name, (": " + detail) if detail else ""), flush=True)
    return ok


def say(msg):
    print("cluster: " + msg, flush=True)


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Node:
    def __init__(self, binary, folder, address, env):
        self.binary = binary
        self.dir = os.path.join(folder, "node-" + address.rsplit(":", 1)[1])
        self.address = address
        self.env = env
        self.proc = None
        self.log = self.dir + ".log"

    def start(self, join=None):
        args = [self.binary, self.dir, self.address]
        if LATENCY_MS is not None:
            args += ["--latency-ms", str(LATENCY_MS)]
        if join:
            args += ["--join", ",".join(join)]
        self.out = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.out, env=self.env)
        line = b""
        deadline = time.monotonic() + READY_WAIT_S
        # the ready line comes once the node serves (and has joined)
        os.set_blocking(self.proc.stdout.fileno(), False)
        while b"ready" not in line and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            chunk = self.proc.stdout.read()
            if chunk:
                line += chunk
            else:
                time.sleep(0.02)
        if b"ready" not in line:
            raise RuntimeError("node %s did not start: %s" % (self.address, self.tail()))
        self.id = int(line.split(b"id=")[1].split()[0])
        return self

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def terminate(self, wait=15.0):
        """SIGTERM; the exit status (None if it had to be killed)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


def exact(rows):
    """Rows with every float as its bit pattern: equality is bit-for-bit."""
    return [tuple(v.hex() if isinstance(v, float) else v for v in r) for r in rows]


def f32(values):
    return array.array("f", values).tobytes()


def make_data(seed=17):
    rng = random.Random(seed)
    v64 = [f32([rng.random() - 0.5 for _ in range(64)]) for _ in range(10000)]
    v768 = [f32([rng.random() - 0.5 for _ in range(768)]) for _ in range(5000)]
    q64 = [f32([rng.random() - 0.5 for _ in range(64)]) for _ in range(4)]
    q768 = [f32([rng.random() - 0.5 for _ in range(768)]) for _ in range(3)]
    return v64, v768, q64, q768


SCHEMA = [
    "create virtual table e64 using embedding(dim=64)",
    "create virtual table q8 using embedding(dim=64, dtype=int8)",
    "create virtual table e768 using embedding(dim=768, metric=l2)",
]


def load_statements(v64, v768):
    """(sql, params) lists that load the tables in transactions of 2,000 rows,
    80 rows per INSERT (240 parameters: dqlite 1.11 takes at most 255)."""
    out = []
    per = 80

    def add(table, vecs, tokens):
        for t0 in range(0, len(vecs), 2000):
            out.append(("begin", ()))
            for s in range(t0, min(t0 + 2000, len(vecs)), per):
                ids = range(s, min(s + per, len(vecs)))
                if tokens:
                    sql = "insert into %s(token_id, token, vector) values %s" % (
                        table, ",".join(["(?,?,?)"] * len(ids)))
                    params = [x for i in ids for x in (i, "w%d" % i, vecs[i])]
                else:
                    sql = "insert into %s(token_id, vector) values %s" % (
                        table, ",".join(["(?,?)"] * len(ids)))
                    params = [x for i in ids for x in (i, vecs[i])]
                out.append((sql, params))
            out.append(("commit", ()))

    add("e64", v64, True)
    add("q8", v64, True)
    add("e768", v768, False)
    return out


def queries(q64, q768):
    jq = json.dumps([round(x, 6) for x in array.array("f", q64[0])])
    out = [
        ("select count(*), sum(token_id) from e64", ()),
        ("select count(*), sum(token_id) from q8", ()),
        ("select count(*), sum(token_id) from e768", ()),
        ("select emb_isa()", ()),
        ("select token_id, token, vector from e64 where token_id in (0, 17, 4242, 9999)", ()),
        ("select token_id, vector from e64 where token = 'w777'", ()),
        ("select token_id, token, vector from q8 where token_id = 123", ()),
        ("select emb_lookup('e768', 4999), emb_lookup('e64', 5)", ()),
        ("select token_id, distance from e64 where vector match '%s' and k = 10" % jq, ()),
        ("select token_id, token, score from emb_most_similar('e64', '[\"w1\", \"w2\"]', '[\"w3\"]', 10)", ()),
        ("select token_id, score from emb_most_similar('e768', '[10, 20]', null, 10)", ()),
        ("select query, rank, token_id, distance from emb_knn('e64', ?, 10)", (b"".join(q64),)),
        ("select query, rank, token_id, distance from emb_knn('e768', ?, 10, 'cosine')", (b"".join(q768),)),
        ("select query, rank, token_id, distance from emb_knn('q8', ?, 5, 'l2')", (b"".join(q64[:2]),)),
    ]
    for q in q64:
        out += [
            ("select token_id, token, distance from e64 where vector match ? and k = 10", (q,)),
            ("select token_id, distance from e64 where vector match ? and k = 10 and metric = 'l2'", (q,)),
            ("select token_id, distance from e64 where vector match ? order by distance limit 7", (q,)),
            ("select token_id, token, distance from q8 where vector match ? and k = 10", (q,)),
            ("select token_id, distance from q8 where vector match ? and k = 10 and metric = 'l2'", (q,)),
        ]
    for q in q768:
        out += [
            ("select token_id, distance from e768 where vector match ? and k = 10", (q,)),
            ("select token_id, distance from e768 where vector match ? and k = 10 and metric = 'cosine'", (q,)),
        ]
    return out


class Local:
    def __init__(self, path, ext):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.enable_load_extension(True)
        self.db.load_extension(ext)

    def exec(self, sql, params=()):
        self.db.execute(sql, params)

    def query(self, sql, params=()):
        return self.db.execute(sql, params).fetchall()


def answers(side, qs):
    return [exact(side.query(sql, params)) for sql, params in qs]


def compare(name, cluster_answers, local_answers, qs):
    bad = [qs[i][0] for i in range(len(qs)) if cluster_answers[i] != local_answers[i]]
    check(name, not bad, "%d of %d statements differ, first: %s" % (
        len(bad), len(qs), bad[0] if bad else ""))
    return not bad


class ClusterSide:
    """Statements on the current leader; reconnects once after a failover."""

    def __init__(self, addresses, skip=(), wait=FAILOVER_WAIT_S):
        self.conn = find_leader(addresses, wait=wait, skip=skip)
        self.db = self.conn.open(DB)

    def exec(self, sql, params=()):
        return self.conn.exec(self.db, sql, params)

    def query(self, sql, params=()):
        return self.conn.query(self.db, sql, params)

    def close(self):
        self.conn.close()


def leader_node(nodes):
    for n in nodes:
        if not n.alive():
            continue
        try:
            c = Connection(n.address, timeout=2.0)
            try:
                _, addr = c.leader()
            finally:
                c.close()
            for m in nodes:
                if m.address == addr and m.alive():
                    return m
        except (OSError, DqliteError):
            pass
    return None


def failover(nodes, qs, want, what):
    """SIGKILL the leader; time until a new leader answers qs as `want`."""
    old = leader_node(nodes)
    if not check(what + ": a leader before the kill", old is not None):
        return None, None
    t0 = time.monotonic()
    old.kill()
    last = "no answer"
    addresses = [n.address for n in nodes if n.alive()]
    while time.monotonic() - t0 < FAILOVER_WAIT_S:
        try:
            side = ClusterSide(addresses, skip=(old.address,), wait=1.0)
            got = answers(side, qs)
            if got == want:
                dt = time.monotonic() - t0
                say("%s: new leader answered identically %.2f s after SIGKILL" % (what, dt))
                check(what + ": new leader answers identically within %.0f s" % FAILOVER_WAIT_S, True)
                return old, side
            last = "answers differ"
            side.close()
        except (OSError, DqliteError) as e:
            last = str(e)
        time.sleep(0.05)
    check(what + ": new leader answers identically within %.0f s" % FAILOVER_WAIT_S, False,
          "%s; %s" % (last, describe(nodes)))
    return old, None


def describe(nodes):
    """Who is alive and whom each node takes for the leader (for failure messages)."""
    out = []
    for n in nodes:
        if not n.alive():
            out.append("%s dead (%s)" % (n.address, n.proc.returncode if n.proc else "never started"))
            continue
        try:
            c = Connection(n.address, timeout=2.0)
            try:
                out.append("%s sees leader '%s'" % (n.address, c.leader()[1]))
            finally:
                c.close()
        except (OSError, DqliteError) as e:
            out.append("%s: %s" % (n.address, e))
    return ", ".join(out)


def follower_answers(node, folder, ext, qs):
    """The answers of a node's own copy of the database: DUMP it (database file and
    WAL), open that locally with embext loaded."""
    c = Connection(node.address)
    try:
        files = c.dump(DB)
    finally:
        c.close()
    where = os.path.join(folder, "dump")
    shutil.rmtree(where, ignore_errors=True)
    os.makedirs(where)
    for name, data in files.items():
        with open(os.path.join(where, name), "wb") as f:
            f.write(data)
    side = Local(os.path.join(where, DB), ext)
    try:
        return answers(side, qs)
    finally:
        side.db.close()


def run_shell(shell, addresses, sql):
    """The dqlite shell's exit status and output (rows as 'a|b' lines)."""
    try:
        out = subprocess.run([shell, "-s", ",".join(addresses), DB, sql],
                             capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return out.returncode, out.stdout.decode() + out.stderr.decode()


def stream_writes(nodes, local, v64):
    """Autocommit INSERTs from a thread while the leader is SIGKILLed."""
    addresses = [n.address for n in nodes]
    acked, sent = [], []
    stop = threading.Event()
    errors = []
    rng = random.Random(99)

    def writer():
        side = None
        i = 0
        while not stop.is_set() and i < 100000:
            tid = 20000 + i
            vec = v64[rng.randrange(len(v64))]
            i += 1
            try:
                if side is None:
                    side = ClusterSide(addresses, wait=FAILOVER_WAIT_S)
                sent.append((tid, vec))
                side.exec("insert into e64(token_id, token, vector) values (?, ?, ?)",
                          (tid, "s%d" % tid, vec))
                acked.append((tid, vec))
            except (OSError, DqliteError) as e:
                errors.append(str(e))
                if side is not None:
                    side.close()
                side = None
        if side is not None:
            side.close()

    t = threading.Thread(target=writer)
    t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 30 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.01)
    old = leader_node(nodes)
    n_before = len(acked)
    if old is not None:
        old.kill()
    deadline = time.monotonic() + FAILOVER_WAIT_S
    while len(acked) < n_before + 30 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.02)
    stop.set()
    t.join(timeout=FAILOVER_WAIT_S + 5)
    check("stream: the writer stopped", not t.is_alive())
    say("stream: %d writes acknowledged before the kill, %d after; %d failed and were retried "
        "with new ids" % (n_before, len(acked) - n_before, len(errors)))
    check("stream: writes acknowledged before (%d) and after (%d) the kill" % (
        n_before, len(acked) - n_before), n_before >= 30 and len(acked) >= n_before + 30,
        "errors: %s" % errors[:3])
    side = ClusterSide([n.address for n in nodes if n.alive()])
    got = dict(side.query("select token_id, vector from e64 where token_id between 20000 and 29999"))
    sent_ids = {tid for tid, _ in sent}
    lost = [tid for tid, vec in acked if got.get(tid) != vec]
    check("stream: no acknowledged row lost (%d acknowledged, %d sent)" % (len(acked), len(sent)),
          not lost, "lost %s" % lost[:10])
    check("stream: no row that was never sent", set(got) <= sent_ids)
    # keep the local twin equal: the rows that made it, as they are
    for tid in sorted(got):
        local.exec("insert into e64(token_id, token, vector) values (?, ?, ?)",
                   (tid, "s%d" % tid, got[tid]))
    side.close()
    return old


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--ext", required=True)
    ap.add_argument("--shell", default="/usr/bin/dqlite")
    args = ap.parse_args()
    ext = os.path.abspath(args.ext)

    # one kernel set for the nodes and the local run: avx2 where there is one
    isa = os.environ.get("EMB_ISA") or "avx2"
    probe = sqlite3.connect(":memory:")
    probe.enable_load_extension(True)
    os.environ["EMB_ISA"] = isa
    probe.load_extension(ext)
    isa = probe.execute("select emb_isa()").fetchone()[0]
    probe.close()
    os.environ["EMB_ISA"] = isa
    say("kernel set pinned: EMB_ISA=%s" % isa)

    # the node program's command line
    h = subprocess.run([args.node, "--help"], capture_output=True, text=True, timeout=10)
    check("embext-node --help", h.returncode == 0 and h.stdout.startswith("usage: embext-node")
          and "--join" in h.stdout, h.stdout[:200] + h.stderr[:200])
    h = subprocess.run([args.node, "--nope"], capture_output=True, text=True, timeout=10)
    check("embext-node refuses an unknown option", h.returncode == 2 and
          "unknown option '--nope'" in h.stderr, h.stderr[:200])

    folder = tempfile.mkdtemp(prefix="embext-cluster-")
    nodes = []
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t_start = time.monotonic()
    try:
        env = dict(os.environ, EMB_ISA=isa)
        ports = free_ports(3)
        nodes = [Node(os.path.abspath(args.node), folder, "127.0.0.1:%d" % p, env) for p in ports]
        addresses = [n.address for n in nodes]
        nodes[0].start()
        nodes[1].start(join=[addresses[0]])
        nodes[2].start(join=[addresses[0], addresses[1]])
        c = Connection(addresses[0])
        members = c.cluster()
        c.close()
        check("3 voters", sorted(r for _, _, r in members) == ["voter"] * 3, str(members))

        v64, v768, q64, q768 = make_data()
        local = Local(os.path.join(folder, "local.db"), ext)
        side = ClusterSide(addresses)
        t0 = time.monotonic()
        for sql, params in [(s, ()) for s in SCHEMA] + load_statements(v64, v768):
            side.exec(sql, params)
            local.exec(sql, params)
        say("loaded 10,000 x 64 (f32 and int8) and 5,000 x 768 in %.1f s" % (time.monotonic() - t0))

        qs = queries(q64, q768)
        want = answers(local, qs)
        check("local run answers", all(want) and want[3] == [(isa,)], str(want[3]))
        compare("leader = local (KNN cosine/l2, int8, lookups, emb_most_similar, emb_knn)",
                answers(side, qs), want, qs)
        # errors travel through the wire protocol with their text
        try:
            side.exec("insert into e64(token_id, vector) values (?, ?)", (5, "[1, 2]"))
            check("error message over the wire", False, "no error")
        except DqliteError as e:
            check("error message over the wire",
                  str(e) == "embedding e64: vector has 2 values; table e64 has dim 64", str(e))

        # the dqlite shell, a JSON vector in the SQL text
        if os.path.exists(args.shell):
            jq = json.dumps([round(x, 6) for x in array.array("f", q64[1])])
            sql = "select token_id, distance from e64 where vector match '%s' and k = 10" % jq
            rc, out = run_shell(args.shell, addresses, sql)
            ok = rc == 0
            if ok:
                try:  # the shell prints floats in the shortest form that reads back exactly
                    shell_rows = [(int(a), float(b)) for a, b in
                                  (line.split("|") for line in out.splitlines() if line)]
                except ValueError:
                    shell_rows, ok = None, False
            check("dqlite shell: JSON-vector KNN = local",
                  ok and exact(shell_rows) == exact(local.query(sql)), out[:300])
            ins = "insert into e64(token_id, token, vector) values (30000, 'shell', '%s')" % jq
            rc, out = run_shell(args.shell, addresses, ins)
            check("dqlite shell: insert with a JSON vector", rc == 0, out[:300])
            local.exec(ins)
            want = answers(local, qs)
        else:
            check("dqlite shell installed (%s)" % args.shell, False)

        side.close()
        # failover 1
        killed, side = failover(nodes, qs, want, "kill 1")
        if side is None:
            raise RuntimeError("no leader after the first kill")
        # writes on the new leader: autocommit and one transaction
        for i in range(10000, 10050):
            st = ("insert into e64(token_id, token, vector) values (?, ?, ?)", (i, "n%d" % i, v64[i - 10000]))
            side.exec(*st)
            local.exec(*st)
        for st in [("begin", ()),
                   ("update e64 set vector = emb_scale(vector, 2) where token_id < 100", ()),
                   ("delete from e64 where token_id between 200 and 249", ()),
                   ("update q8 set token = 'renamed' where token_id = 7", ()),
                   ("commit", ())]:
            side.exec(*st)
            local.exec(*st)
        want = answers(local, qs)
        compare("writes on the new leader = local", answers(side, qs), want, qs)

        # the killed node restarts from its directory and catches up: its own
        # copy of the database (DUMP works on a follower) answers like local
        killed.start()
        t0 = time.monotonic()
        caught_up, last = False, ""
        while time.monotonic() - t0 < FAILOVER_WAIT_S and not caught_up:
            try:
                caught_up = follower_answers(killed, folder, ext, qs) == want
                last = "answers differ"
            except (OSError, DqliteError, sqlite3.Error) as e:
                last = str(e)
            if not caught_up:
                time.sleep(0.2)
        check("restarted node caught up (its dump answers like local)", caught_up, last)
        if caught_up:
            say("restarted node caught up %.2f s after its start" % (time.monotonic() - t0))
        side.close()

        # failover 2: kill the current leader (the restarted node)
        killed, side = failover(nodes, qs, want, "kill 2")
        if side is None:
            raise RuntimeError("no leader after the second kill")
        side.close()
        killed.start()

        # a kill during a stream of autocommit writes
        killed = stream_writes(nodes, local, v64)
        want = answers(local, qs)
        side = ClusterSide([n.address for n in nodes if n.alive()])
        compare("after the stream = local", answers(side, qs), want, qs)
        side.close()
        if killed is not None:
            killed.start()

        # clean stop
        for n in nodes:
            rc = n.terminate()
            check("SIGTERM stops %s cleanly" % n.address, rc == 0, "exit %s; %s" % (rc, n.tail()))
    except Exception as e:  # a crash of the test is a failure, not a skip
        check("cluster test ran to the end", False, "%s: %s" % (type(e).__name__, e))
        for n in nodes:
            if n.proc is not None:
                print("--- %s log:\n%s" % (n.address, n.tail()))
    finally:
        for n in nodes:
            n.kill()
        shutil.rmtree(folder, ignore_errors=True)
    say("%.1f s in all" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
