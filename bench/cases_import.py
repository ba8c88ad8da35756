"""Case 9 for bench/bench.py: importing a LLaMA-3-size token embedding
(128,256 x 4,096) from the files people download, against reading the same
file at memory bandwidth.

Files, generated in a temporary folder and removed afterwards (never
committed): a BF16 safetensors shard (1.05 GB) and a Q6_K GGUF (431 MB, with
128,256 tokens).  The Q6_K blocks are random bytes with a fixed finite f16
scale, which is a valid Q6_K tensor (every 6-bit pattern and int8 sub-scale
decodes); the values do not matter for speed.

Systems, interleaved (lib.measure), each rep in a fresh child process so its
memory can be sampled from /proc/<pid>/status every 20 ms:
  read file        readinto() of the whole file in 16 MiB pieces (page cache
                   -> one reused buffer): the file's size read at bandwidth
  emb_read_*       SELECT count(*), sum(length(vector)), count(token) over the
                   table-valued function: every row decoded to float32 and
                   handed to SQLite as a 16 KiB blob
  ... into table   INSERT INTO an embedding(dim=4096, dtype=f16) table in a
                   file database (one rep; writes 1 GB)
  mmap / pread + touch   bench/read_strategy.c: the readers' file access
                   before (mmap) and now (pread into private memory, so a
                   file truncated while it is read cannot raise SIGBUS),
                   touching one byte per 64: their difference is the cost
                   of the copy (time, and RssAnon instead of RssFile)
Peak RssAnon is the heap (rows, buffers); RssFile is the mapped file (page
cache pages the process touches, shared and reclaimable).

Standalone:  /usr/bin/python3 bench/cases_import.py [--embext ./embext.so] [--quick]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

ROWS, DIM = 128256, 4096
CHUNK = 4096  # rows written per step while generating


def write_safetensors(path):
    name = "model.embed_tokens.weight"
    nbytes = ROWS * DIM * 2
    head = ('{"__metadata__":{"format":"pt"},"%s":{"dtype":"BF16","shape":[%d,%d],'
            '"data_offsets":[0,%d]}}' % (name, ROWS, DIM, nbytes)).encode()
    head += b" " * (-len(head) % 8)
    rng = np.random.default_rng(1)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for r in range(0, ROWS, CHUNK):
            n = min(CHUNK, ROWS - r)
            x = rng.standard_normal((n, DIM), dtype=np.float32) * 0.02
            f.write((x.view(np.uint32) >> 16).astype("<u2").tobytes())
    return name


def write_gguf_q6k(path):
    """GGUF v3: general.alignment, tokenizer.ggml.tokens, one Q6_K tensor."""
    def s(b):
        return struct.pack("<Q", len(b)) + b
    kv = s(b"general.alignment") + struct.pack("<II", 4, 32)
    toks = b"".join(s(b"tok%d" % i) for i in range(ROWS))
    kv += s(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, ROWS) + toks
    info = s(b"token_embd.weight") + struct.pack("<IQQIQ", 2, DIM, ROWS, 14, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kv + info
    head += b"\0" * (-len(head) % 32)
    blocks_per_row = DIM // 256
    rng = np.random.default_rng(2)
    with open(path, "wb") as f:
        f.write(head)
        for r in range(0, ROWS, CHUNK):
            n = min(CHUNK, ROWS - r)
            b = rng.integers(0, 256, size=(n * blocks_per_row, 210), dtype=np.uint8)
            b[:, 208:210] = np.frombuffer(struct.pack("<e", 1.0 / 4096), dtype=np.uint8)
            f.write(b.tobytes())


CHILD = r"""
import sqlite3, sys, time
ext, sql, arg1, arg2, db = sys.argv[1:6]
c = sqlite3.connect(db, isolation_level=None)
c.enable_load_extension(True)
c.load_extension(ext)
args = [a for a in (arg1, arg2) if a != "-"]
t0 = time.perf_counter()
for stmt in sql.split(";;"):
    row = c.execute(stmt, args if "?" in stmt else ()).fetchall()
t = time.perf_counter() - t0
print(t, row)
"""

READ = r"""
import sys, time
buf = bytearray(16 << 20)
t0 = time.perf_counter()
n = 0
with open(sys.argv[1], "rb", buffering=0) as f:
    while True:
        k = f.readinto(buf)
        if not k:
            break
        n += k
print(time.perf_counter() - t0, n)
"""


# bench/read_strategy.c: the readers' file access before (mmap) and now
# (pread into private memory, src/readers/bytes.c), each touching one byte
# per 64 of the whole file: the difference is what the copy costs.
STRATEGY = {"mmap": "mmap + touch (readers before)", "pread": "pread + touch (readers now)"}


def run_child(argv):
    """Run argv, sample its memory; returns (seconds, output, peak anon, peak file) in bytes."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"RssAnon": 0, "RssFile": 0}

    def sample():
        while p.poll() is None:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        k = line.split(":")[0]
                        if k in peak:
                            peak[k] = max(peak[k], int(line.split()[1]) * 1024)
            except OSError:
                pass
            time.sleep(0.02)
    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate()
    th.join()
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (argv[:3], err.strip()[-300:]))
    t, rest = out.strip().split(" ", 1)
    return float(t), rest, peak["RssAnon"], peak["RssFile"]


def case_big_import(ctx):
    title = "9. Import a 128,256 x 4,096 token embedding: BF16 safetensors and Q6_K GGUF"
    tmp = tempfile.mkdtemp(prefix="emb-bigimport-", dir=os.environ.get("EMB_BENCH_TMP"))
    py = sys.executable
    try:
        st = os.path.join(tmp, "model-00001-of-00001.safetensors")
        gg = os.path.join(tmp, "q6_k.gguf")
        t0 = time.perf_counter()
        tensor = write_safetensors(st)
        write_gguf_q6k(gg)
        gen = time.perf_counter() - t0
        body = ("Files generated in %.0f s in a temporary folder (removed after): %s (%.2f GB) and "
                "%s (%.2f GB). Each rep runs in a fresh process; memory sampled every 20 ms.\n\n"
                % (gen, os.path.basename(st), os.path.getsize(st) / 1e9, os.path.basename(gg),
                   os.path.getsize(gg) / 1e9))
        scan = "SELECT count(*), sum(length(vector)), count(token) FROM %s"
        files = [("BF16 safetensors", st, "emb_read_safetensors(?, ?)", tensor),
                 ("Q6_K GGUF", gg, "emb_read_gguf(?)", "-")]
        reps = ctx.reps(2, 5)
        for label, path, call, arg in files:
            mem = {}

            def mk_read(p=path):
                def fn(rep):
                    t, _, a, f = run_child([py, "-c", READ, p])
                    mem["read file"] = (a, f)
                    return lib.Timed(t, None)
                return fn

            def mk_scan(p=path, c=call, a2=arg):
                def fn(rep):
                    t, out, a, f = run_child([py, "-c", CHILD, ctx.embext, scan % c, p, a2,
                                              ":memory:"])
                    mem[c.split("(")[0]] = (a, f)
                    return lib.Timed(t, out)
                return fn
            def mk_strategy(mode, p=path):
                def fn(rep):
                    t, out, a, f = run_child([os.path.join(ctx.bin, "read_strategy"), mode, p])
                    mem[STRATEGY[mode]] = (a, f)
                    return lib.Timed(t, None)
                return fn
            systems = [("read file", mk_read()), (call.split("(")[0], mk_scan())]
            if os.path.exists(os.path.join(ctx.bin, "read_strategy")):
                systems += [(STRATEGY[m], mk_strategy(m)) for m in ("mmap", "pread")]
            times, out = lib.measure(systems, reps)
            db = os.path.join(tmp, "import.db")
            ins = ("CREATE VIRTUAL TABLE t USING embedding(dim=%d, dtype=f16);;BEGIN;;"
                   "INSERT INTO t(token_id, token, vector) SELECT token_id, token, vector FROM %s;;"
                   "COMMIT;;SELECT count(*) FROM t" % (DIM, call))
            t, res, a, f = run_child([py, "-c", CHILD, ctx.embext, ins, path, arg, db])
            os.unlink(db)
            name_ins = "%s into embedding(dtype=f16)" % call.split("(")[0]
            times[name_ins] = [t]
            mem[name_ins] = (a, f)
            size = os.path.getsize(path)
            body += "**%s** (%.2f GB, %s rows)\n\n" % (label, size / 1e9, "{:,}".format(ROWS))
            body += lib.ratio_table(times, "read file", bytes_per_rep=size)
            body += "\n\n| system | peak RssAnon | peak RssFile | result |\n|---|---|---|---|\n"
            for k in times:
                a, f = mem.get(k, (0, 0))
                r = out.get(k) if k in out else res if k == name_ins else ""
                body += "| %s | %.1f MB | %.1f MB | %s |\n" % (k, a / 1e6, f / 1e6, r or "")
            body += "\n"
        ctx.section(title, body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--embext", default="./embext.so")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin", default="build/bench")
    args = ap.parse_args()

    class Ctx:
        quick = args.quick
        embext = os.path.abspath(args.embext)
        bin = os.path.abspath(args.bin)
        sections = []

        def reps(self, q, full):
            return q if self.quick else full

        def section(self, title, body):
            print("## %s\n\n%s" % (title, body))
    case_big_import(Ctx())
