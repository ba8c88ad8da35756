#!/bin/sh
# bench/tok_run.sh [ROUNDS] - tokenizer speed: embext (the C core and the SQL
# functions emb_tokens_json and emb_tokenize) against llama.cpp's tokenizer
# (npm node-llama-cpp 3.21.1, model.tokenize) on stories260k, and against
# js-tiktoken (r50k_base) on GPT-2's BPE, on the same English text, one
# thread each.  Run by bench/run.sh (`make bench`); writes
# bench/REPORT_tok.md (BENCH_TOK_REPORT).
#
# Two texts, tokenized paragraph by paragraph (split at blank lines):
#   licences   the licence texts of /usr/share/common-licenses (Debian),
#              repeated to about 2.2 MB (words repeat a lot);
#   copyright  the first 2.2 MB of distinct paragraphs of
#              /usr/share/doc/*/copyright, in file order (little repetition
#              beyond natural language's own; depends on the installed
#              packages, so compare ratios, not runs on other machines).
# embext's word cache starts empty for every timed pass (a new cache in the
# core; a new connection in SQL), so only repetition inside the text helps;
# "nocache" runs the core without it.  Rounds are interleaved (each round
# runs every case once, each in its own process: the core and the
# references do one untimed warm-up pass first); the report gives medians
# and ratios of medians.  Every case prints a digest of all ids: the run
# fails if embext and the reference disagree.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
OUT=${BENCH_TOK_REPORT:-bench/REPORT_tok.md}
V=bench/vendor/tok
if [ ! -d "$V/node_modules/node-llama-cpp" ] || [ ! -d "$V/node_modules/js-tiktoken" ]; then
    mkdir -p "$V"
    [ -f "$V/package.json" ] || echo '{"name":"tokref","private":true}' > "$V/package.json"
    (cd "$V" && npm i -E --no-audit --no-fund node-llama-cpp@3.21.1 js-tiktoken@1.0.21)
fi
make embext.so build/libembcore.a >/dev/null
mkdir -p build/bench
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Isrc -o build/bench/tok_bench bench/tok_bench.c \
    build/libembcore.a -lm -lpthread
L=/usr/share/common-licenses
: > build/bench/tok_licences.txt
for i in $(seq 20); do
    cat $L/GPL-3 $L/Apache-2.0 $L/GFDL-1.3 $L/LGPL-2.1 $L/MPL-2.0 >> build/bench/tok_licences.txt
done
/usr/bin/python3 - build/bench/tok_copyright.txt <<'PY'
import glob, sys
paras, seen, total = [], set(), 0
for f in sorted(glob.glob("/usr/share/doc/*/copyright")):
    try:
        text = open(f, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        continue
    for p in text.split("\n\n"):
        if p.strip() and p not in seen and total < 2_200_000:
            seen.add(p)
            paras.append(p)
            total += len(p.encode())
open(sys.argv[1], "w", encoding="utf-8").write("\n\n".join(paras))
PY
SPM=tests/data/stories260k-v3.gguf
BPE=tests/data/gpt2-r50k-tokenizer.gguf

sql_case() { # $1 = model file, $2 = text, $3 = json | tvf: a new connection, one timed pass
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension("./embext")
db.execute("create virtual table t using embedding(dim=1)")
db.execute("select emb_tokenizer_load('t', ?)", (sys.argv[1],))
paras = open(sys.argv[2], encoding="utf-8").read().split("\n\n")
q = ("select emb_tokens_json('t', ?, 0)" if sys.argv[3] == "json" else
     "select json_group_array(token_id) from emb_tokenize('t', ?, 0)")
db.execute(q, ("Warm up.",)).fetchone()
t0, c0 = time.perf_counter(), time.process_time()
out = [db.execute(q, (p,)).fetchone()[0] for p in paras]
sec, cpu = time.perf_counter() - t0, time.process_time() - c0
digest, n = 2166136261, 0
for j in out:
    if j == "[]":
        continue
    for x in j[1:-1].split(","):
        digest = ((digest ^ int(x)) * 16777619) & 0xffffffff
        n += 1
print("%.6f %.6f %d %d %08x" % (sec, cpu, sum(len(p.encode()) for p in paras), n, digest))
PY
}

RES=build/bench/tok_results.txt
: > "$RES"
for r in $(seq "$ROUNDS"); do
    echo "round $r/$ROUNDS" >&2
    for text in licences copyright; do
        T=build/bench/tok_$text.txt
        echo "$text llama.cpp-spm $(node bench/tok_bench.mjs llama $SPM $T)" >> "$RES"
        echo "$text embext-spm $(build/bench/tok_bench $SPM $T 2 | tail -1)" >> "$RES"
        echo "$text embext-spm-nocache $(build/bench/tok_bench $SPM $T 2 nocache | tail -1)" >> "$RES"
        echo "$text embext-sql-spm $(sql_case $SPM $T json)" >> "$RES"
        echo "$text embext-sql-tvf-spm $(sql_case $SPM $T tvf)" >> "$RES"
        echo "$text js-tiktoken-bpe $(node bench/tok_bench.mjs tiktoken - $T)" >> "$RES"
        echo "$text embext-bpe $(build/bench/tok_bench $BPE $T 2 | tail -1)" >> "$RES"
        echo "$text embext-bpe-nocache $(build/bench/tok_bench $BPE $T 2 nocache | tail -1)" >> "$RES"
        echo "$text embext-sql-bpe $(sql_case $BPE $T json)" >> "$RES"
        echo "$text embext-sql-tvf-bpe $(sql_case $BPE $T tvf)" >> "$RES"
    done
done
/usr/bin/python3 - "$RES" "$OUT" "$ROUNDS" <<'PY'
import statistics, sys, subprocess
rows, cpus = {}, {}
for line in open(sys.argv[1]):
    text, name, sec, cpu, nbytes, ntok, digest = line.split()
    rows.setdefault((text, name), []).append((float(sec), int(nbytes), int(ntok), digest))
    cpus.setdefault((text, name), []).append(float(cpu))
med = {k: statistics.median(s for s, _, _, _ in v) for k, v in rows.items()}
cmed = {k: statistics.median(v) for k, v in cpus.items()}
mbs = {k: rows[k][0][1] / med[k] / 1e6 for k in rows}
cmbs = {k: rows[k][0][1] / cmed[k] / 1e6 for k in rows}
bad = []
texts = ("licences", "copyright")
kinds = (("spm", "llama.cpp-spm"), ("bpe", "js-tiktoken-bpe"))
cases = lambda kind: ("embext-" + kind, "embext-%s-nocache" % kind, "embext-sql-" + kind,
                      "embext-sql-tvf-" + kind)
for text in texts:
    for kind, ref in kinds:
        want = {(n, d) for _, _, n, d in rows[(text, ref)]}
        for k in cases(kind):
            if {(n, d) for _, _, n, d in rows[(text, k)]} != want:
                bad.append(text + "/" + k)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
load = open("/proc/loadavg").read().split()[0]
out = ["# Tokenizer speed (bench/tok_run.sh)", "",
       f"Commit {commit}; one thread; median of {sys.argv[3]} interleaved rounds (load average "
       f"{load} at the end: a shared machine); " +
       ("the ids of every case agree with its reference (FNV-1a digest of all ids)." if not bad else
        f"MISMATCH: {', '.join(bad)} gave other ids than the reference"), ""]
for text in texts:
    out += [f"## {text}: {rows[(text, 'embext-spm')][0][1] / 1e6:.2f} MB, by paragraph", "",
            "| case | tokens | median s (wall) | MB/s (wall) | median CPU s | MB/s per CPU second | vs reference (CPU) |",
            "|---|---|---|---|---|---|---|"]
    for kind, ref in kinds:
        for k in (ref,) + cases(kind):
            ratio = "1.00" if k == ref else f"{cmed[(text, ref)] / cmed[(text, k)]:.2f} x faster"
            out.append(f"| {k} | {rows[(text, k)][0][2]} | {med[(text, k)]:.3f} | {mbs[(text, k)]:.1f} | "
                       f"{cmed[(text, k)]:.3f} | {cmbs[(text, k)]:.1f} | {ratio} |")
    out.append("")
out += ["licences: /usr/share/common-licenses (GPL-3, Apache-2.0, GFDL-1.3, LGPL-2.1, MPL-2.0) x 20; "
        "copyright: distinct paragraphs of /usr/share/doc/*/copyright up to 2.2 MB.",
        "spm: stories260k-v3.gguf (512 tokens, SentencePiece-style); llama.cpp = node-llama-cpp "
        "3.21.1 model.tokenize (prebuilt binary, called once per paragraph from node).",
        "bpe: GPT-2 r50k_base (50,257 tokens); js-tiktoken 1.0.21 encode; embext reads the same ranks "
        "from tests/data/gpt2-r50k-tokenizer.gguf.",
        "embext = the C core (bench/tok_bench.c) with its word cache, empty at the start of the pass; "
        "-nocache without it; embext-sql = emb_tokens_json per paragraph, embext-sql-tvf = "
        "json_group_array(token_id) over emb_tokenize per paragraph, from Debian's python3 sqlite3 on a "
        "new connection (includes the statement, Python and JSON text costs).",
        "CPU s = the process's CPU time during the timed pass (C: CLOCK_PROCESS_CPUTIME_ID, Python: "
        "time.process_time, node: process.cpuUsage, all threads): on a shared machine the wall time "
        "also counts waiting for a core; MB/s per CPU second is the one-core rate."]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
sys.exit(1 if bad else 0)
PY
