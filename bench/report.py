"""The report side of bench/bench.py: callgrind profiles of missed
targets and the Markdown report (bench/REPORT.md) plus raw timings
(bench/out/results.json)."""
import datetime
import json
import os
import re
import shutil
import time

import numpy as np

import lib


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            t = f.read()
        return t[t.index("[") + 1:t.index("]")]
    except (OSError, ValueError):
        return "?"


# ---- profiles of missed targets --------------------------------------------------

def short_fn(line):
    """'1,234 (5.6%)  ./x/y.c:func [/usr/lib/libz.so]' -> '1,234 (5.6%)  func  (libz.so)'."""
    m = re.match(r"\s*([\d,]+\s+\(\s*[\d.]+%\))\s+(\S+?)(?:\s+\[(.*)\])?\s*$", line)
    if not m:
        return line.rstrip()[:120]
    fn = m.group(2).rsplit(":", 1)[-1]
    obj = os.path.basename(m.group(3)) if m.group(3) else ""
    return "%s  %s%s" % (m.group(1), fn, "  (%s)" % obj if obj else "")


def run_profiles(ctx, max_id):
    """callgrind the embext statement behind each missed target (once per SQL)."""
    if not ctx.profiles:
        return
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        ctx.section("Profiles of missed targets", "valgrind is not installed: no profile.")
        return
    done = {}
    for what, prof in ctx.profiles:
        key = repr(prof)
        done.setdefault(key, (prof, []))[1].append(what)
    body = []
    budget = time.perf_counter() + (120 if ctx.quick else 900)
    for prof, whats in done.values():
        if time.perf_counter() > budget:
            body.append("Target(s): %s: not profiled (time budget of the run spent)." % "; ".join(whats))
            continue
        out = os.path.join(ctx.out, "callgrind.%s.out" % lib.slug(whats[0])[:40])
        n, warm = prof.get("n", 1), prof.get("warmup", 1)
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
               os.path.join(ctx.bin, "sqlbench"), "--db", prof.get("db", ctx.db), "--ext", ctx.embext,
               "--n", str(n), "--reps", "1", "--warmup", str(warm), "--max-id", str(max_id), "--seed", "3"]
        cmd += ["%s|%s|%s" % c for c in prof["cases"]]
        sqls = "; ".join("%s x%s" % (c[2], n if c[1] == "each" else 1) for c in prof["cases"])
        t0 = time.perf_counter()
        try:
            lib.run(cmd, timeout=600)
            ann = lib.run(["callgrind_annotate", "--inclusive=no", "--auto=no", out])
            inc = lib.run(["callgrind_annotate", "--inclusive=yes", "--auto=no", out])
        except Exception as e:  # noqa: BLE001
            body.append("`%s`: profile failed: %s" % (sqls, e))
            continue
        lines = [ln for ln in ann.splitlines() if ln.strip()]
        i = next((k for k, ln in enumerate(lines) if "file:function" in ln), None)
        tot = next((ln for ln in lines if "PROGRAM TOTALS" in ln), "")
        top = lines[i + 1:i + 16] if i is not None else lines[-15:]
        top = [ln for ln in top if not ln.startswith("-")]
        seen, chain = set(), []
        for ln in inc.splitlines():  # embext's own functions, inclusive cost
            if "embext.so]" not in ln:
                continue
            f = short_fn(ln)
            name = (f.split("%)", 1)[-1].split() or [f])[0]
            if name.split(".")[0] not in seen:
                seen.add(name.split(".")[0])
                chain.append(f.replace("  (embext.so)", ""))
            if len(chain) >= 12:
                break
        body.append("Target(s): %s.\n\nsqlbench ran `%s` (%s, %.0f s under callgrind); "
                    "instructions by function, self cost:\n\n```\n%s\n%s\n```\n\n"
                    "embext functions, inclusive cost (callers above callees):\n\n```\n%s\n```"
                    % ("; ".join(whats), sqls, "after an equal warm-up" if warm else "no warm-up",
                       time.perf_counter() - t0, tot.strip(),
                       "\n".join(short_fn(ln) for ln in top), "\n".join(chain)))
    note = ("Instruction counts, not time: memory stalls do not show, and valgrind does not emulate "
            "AVX-512, so embext runs its AVX2 kernels here. The first statement of a connection also "
            "builds its in-memory copy of the matrix (the cache load and the memcpy under it).")
    ctx.section("Profiles of missed targets (valgrind --tool=callgrind)", note + "\n\n" + "\n\n".join(body))


# ---- report ------------------------------------------------------------------------

def section_key(text):
    """Order of sections in the report: features, cases by number, then the rest."""
    title = text.split("\n", 1)[0][3:]
    m = re.match(r"(\d+)([a-z]?)\.", title)
    if m:
        return (1, int(m.group(1)), m.group(2))
    return (0, 0, "") if title.startswith("Features") else (2, 0, title)


def write_report(ctx, path):
    c = lib.connect(":memory:", [ctx.embext])
    isa = c.execute("SELECT emb_isa()").fetchone()[0] if ctx.feat.get("emb_isa") is None else "?"
    ver = c.execute("SELECT sqlite_version()").fetchone()[0]
    cpu = lib.cpu_info()
    import faiss
    import gensim
    facts = [
        ("commit", lib.git_describe(ctx.root)),
        ("date", datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")),
        ("mode", "quick (`make bench-quick`)" if ctx.quick else "full (`make bench`)"),
        ("CPU", "%s (family %s, model %s), %d cores" % (cpu["model"], cpu["family"],
                                                         cpu["cpu_model"], cpu["cores"])),
        ("CPU flags that matter", " ".join(cpu["flags"])),
        ("embext kernel set", "`emb_isa()` = %s%s" % (isa, (", EMB_ISA=%s" % os.environ["EMB_ISA"])
                                                       if os.environ.get("EMB_ISA") else "")),
        ("bare C loop", ctx.bare_isa + " (function target attributes, -O3)"),
        ("SQLite", "%s (Debian libsqlite3, used by Python and sqlbench)" % ver),
        ("sqlite-vec", getattr(ctx, "vec_version", "missing")),
        ("numpy", "%s, BLAS: %s, 1 thread" % (np.__version__, lib.blas_info())),
        ("faiss", "%s (Debian python3-faiss, compile options: %s), 1 thread (`omp_set_num_threads(1)`)"
         % (faiss.__version__, faiss.get_compile_options().strip()
            if hasattr(faiss, "get_compile_options") else "?")),
        ("gensim", gensim.__version__),
        ("memory read bandwidth", "%.1f GB/s with 2 MiB pages (madvise MADV_HUGEPAGE), %.1f GB/s with "
         "4 KiB pages (median of %d streaming reads of 1 GiB each, alternated, %s loads, 1 thread; "
         "transparent huge pages: %s). \"of memory bandwidth\" columns use the 2 MiB-page figure."
         % (ctx.bw / 1e9, (ctx.bw_4k or 0) / 1e9, len(ctx.bw_runs), ctx.bw_isa, thp_mode())),
        ("load average", "%s at start, %s at end (2 cores shared with other work: expect noise; "
                         "medians of interleaved runs)" % (ctx.load0, lib.loadavg())),
        ("data", ctx.data_source),
        ("run time", "%.0f s" % (time.time() - ctx.t_start)),
        ("platform", lib.platform_line()),
    ]
    parts = ["# embext benchmark report", "",
             "Generated by `%s` (bench/bench.py). Ratios are embext / other on medians measured "
             "alternately in the same run: below 1 means embext is faster." %
             ("make bench-quick" if ctx.quick else "make bench"), "",
             "## Machine and software", "", lib.table(["what", "value"], facts), "",
             "## Targets", "", lib.table(["target", "measured", "status"], ctx.targets), "",
             "## Summary (medians; ratio = embext / other, below 1 = embext faster)", "",
             lib.table(["case", "embext", "median", "other", "other median", "ratio"], ctx.summary)
             if ctx.summary else "No embext case ran.", ""]
    parts += sorted(ctx.sections, key=section_key)
    notes = os.path.join(ctx.root, "bench", "NOTES.md")
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            parts += ["## Analysis (bench/NOTES.md, written by hand after a run)", "", f.read().strip(), ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    with open(os.path.join(ctx.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"facts": dict(facts), "targets": ctx.targets, "cases": ctx.raw}, f, indent=1)
    print("report: %s" % path, flush=True)
