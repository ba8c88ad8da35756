"""Helpers for bench/bench.py: timing, statistics, feature probes, machine
facts and Markdown formatting.  No benchmark case lives here.

Timing rule used everywhere: the systems compared in one case are measured
alternately in the same process (rep 1 of every system, then rep 2, ...,
with the starting system rotated each rep), after one untimed warm-up
call each; a case reports median, min and max over the reps.
"""
import ctypes
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import time

import numpy as np


def stats(times):
    """median / min / max (seconds) of a list of timings."""
    return {"median": statistics.median(times), "min": min(times),
            "max": max(times), "n": len(times)}


class Timed:
    """Returned by a measured fn that times itself (to leave set-up out)."""

    def __init__(self, seconds, result):
        self.seconds = seconds
        self.result = result


def measure(systems, reps, warmup=1):
    """Time each (name, fn) of `systems` `reps` times, interleaved.

    fn(rep) is called with the repetition number (-1.. for warm-ups) and may
    return a value (or a Timed to report its own time); the last value of
    each system is kept in `out[name]`.
    Returns ({name: [seconds...]}, {name: last result})."""
    times = {name: [] for name, _ in systems}
    out = {}
    for w in range(warmup):
        for name, fn in systems:
            out[name] = fn(-1 - w)
    for r in range(reps):
        k = r % len(systems)
        for name, fn in systems[k:] + systems[:k]:
            t0 = time.perf_counter()
            res = fn(r)
            t = time.perf_counter() - t0
            if isinstance(res, Timed):
                t, res = res.seconds, res.result
            times[name].append(t)
            out[name] = res
    return times, out


def connect(path, exts=(), pragmas=()):
    """Autocommit connection with the given extensions loaded."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.enable_load_extension(True)
    for e in exts:
        conn.load_extension(e)
    for p in pragmas:
        conn.execute(p).fetchall()
    return conn


def probe(conn, sql, params=()):
    """None when `sql` runs, else the error text."""
    try:
        conn.execute(sql, params).fetchall()
        return None
    except sqlite3.Error as e:
        return str(e)


def run(cmd, env=None, timeout=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.strip()[-800:]))
    return p.stdout


def cpu_info():
    model, flags, fam, mod = "?", set(), "?", "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and model == "?":
                    model = v
                elif k == "flags" and not flags:
                    flags = set(v.split())
                elif k == "cpu family" and fam == "?":
                    fam = v
                elif k == "model" and mod == "?":
                    mod = v
    except OSError:
        pass
    wanted = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx512_fp16", "asimd"]
    return {"model": model, "family": fam, "cpu_model": mod,
            "flags": [f for f in wanted if f in flags], "cores": os.cpu_count()}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def mem_available_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def blas_info():
    """Which BLAS numpy really calls (through libblas.so.3 alternatives)."""
    try:
        import ctypes
        real = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
        if "openblas" in real:
            lib = ctypes.CDLL("libopenblas.so.0")
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            cfg = lib.openblas_get_config().decode().split()
            return "%s %s (%s kernels)" % (cfg[0], cfg[1], lib.openblas_get_corename().decode())
        return "reference BLAS (%s): not optimised" % real
    except Exception as e:  # noqa: BLE001 - informational only
        return "unknown (%s)" % e


def git_describe(root):
    try:
        sha = run(["git", "-C", root, "rev-parse", "--short", "HEAD"]).strip()
        br = run(["git", "-C", root, "rev-parse", "--abbrev-ref", "HEAD"]).strip()
        dirty = run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"]).strip()
        extra = ""
        if br != "main":
            try:
                m = run(["git", "-C", root, "rev-parse", "--short", "main"]).strip()
                run(["git", "-C", root, "merge-base", "--is-ancestor", "main", "HEAD"])
                extra = ", contains main at %s" % m
            except Exception:  # noqa: BLE001 - no local main, or not merged
                pass
        return "%s (branch %s%s%s)" % (sha, br, extra, ", with uncommitted changes" if dirty else "")
    except Exception:  # noqa: BLE001
        return "unknown"


# ---- shared by the cases ----------------------------------------------------

def bare_topk(ctx, rows, inv_norms, q, k=10):
    """Top-k ids via the bare C loop (rows f32 or f16 numpy array)."""
    q = np.ascontiguousarray(q, dtype=np.float32)
    ids = (ctypes.c_int64 * k)()
    sims = (ctypes.c_float * k)()
    n, d = rows.shape
    fp = ctypes.POINTER(ctypes.c_float)
    if rows.dtype == np.float16:
        got = ctx.bare.bare_topk_f16(rows.ctypes.data_as(ctypes.POINTER(ctypes.c_uint16)),
                                     inv_norms.ctypes.data_as(fp), n, d, q.ctypes.data_as(fp),
                                     k, ids, sims)
    else:
        got = ctx.bare.bare_topk_f32(rows.ctypes.data_as(fp), inv_norms.ctypes.data_as(fp), n, d,
                                     q.ctypes.data_as(fp), k, ids, sims)
    return list(ids[:max(got, 0)])


def small_page_copy(A):
    """A copy of numpy array A in memory that uses 4 KiB pages only (libc
    malloc + madvise(MADV_NOHUGEPAGE)), like a C program's malloc'd buffer
    where transparent huge pages are in "madvise" mode.  numpy itself asks
    for huge pages on large arrays.  The memory is never freed (bench
    process)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.aligned_alloc.restype = ctypes.c_void_p
    libc.aligned_alloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    size = (A.nbytes + 4095) // 4096 * 4096
    p = libc.aligned_alloc(4096, size)
    if not p:
        raise MemoryError("aligned_alloc(%d)" % size)
    libc.madvise(p, size, 15)  # MADV_NOHUGEPAGE
    buf = (ctypes.c_char * size).from_address(p)
    M = np.frombuffer(buf, dtype=A.dtype, count=A.size).reshape(A.shape)
    M[...] = A
    return M


def inv_norms_of(E):
    n = np.linalg.norm(E.astype(np.float32), axis=1)
    return np.where(n > 0, 1.0 / np.where(n > 0, n, 1), 0).astype(np.float32)


def agreement(sysl, Q, ref_name, n=8):
    """recall@10 of each system against the reference system, over n queries."""
    ref = dict(sysl)[ref_name]
    truth = [set(ref(i)) for i in range(n)]
    out = {}
    for name, fn in sysl:
        hit = sum(len(truth[i] & set(int(x) for x in fn(i))) for i in range(n))
        out[name] = "%.3f" % (hit / (10 * n))
    return out


def ratio_table(times, ref, rows_per_rep=None, per=None, bytes_per_rep=None, extra=None, bw=None):
    """Markdown table of a measure() result: median/min/max, ratio ref/this."""
    st = {k: stats(v) for k, v in times.items()}
    head = ["system", "median", "min", "max", "reps", "%s / this" % ref]
    if per:
        head.append("median per %s" % per[0])
    if rows_per_rep:
        head.append("rows/s")
    if bytes_per_rep:
        head += ["GB/s", "of memory bandwidth"]
    if extra:
        head.append(extra[0])
    rows = []
    for name, s in st.items():
        r = [name, fmt_time(s["median"]), fmt_time(s["min"]), fmt_time(s["max"]), s["n"]]
        r.append(fmt_ratio(st[ref]["median"] / s["median"]) if ref in st else "-")
        if per:
            r.append(fmt_time(s["median"] / per[1]))
        if rows_per_rep:
            r.append("{:,.0f}".format(rows_per_rep / s["median"]))
        if bytes_per_rep:
            b = bytes_per_rep.get(name) if isinstance(bytes_per_rep, dict) else bytes_per_rep
            if b:
                gbps = b / s["median"]
                r += ["%.1f" % (gbps / 1e9), "%.0f%%" % (100 * gbps / bw) if bw else "-"]
            else:
                r += ["-", "-"]
        if extra:
            r.append(extra[1].get(name, "-"))
        rows.append(r)
    return table(head, rows)





# ---- formatting -------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "-"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    if s >= 1e-6:
        return "%.1f µs" % (s * 1e6)
    return "%.0f ns" % (s * 1e9)


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return "%.0f" % r
    if r >= 10:
        return "%.1f" % r
    return "%.3g" % r


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def platform_line():
    return "%s %s, Python %s" % (platform.system(), platform.release(), platform.python_version())
