#!/bin/sh
# bench/tok_run.sh [ROUNDS] - tokenizer speed: embext (the C core and the SQL
# function emb_tokens_json) against llama.cpp's tokenizer (npm node-llama-cpp
# 3.21.1, model.tokenize) on stories260k, and against js-tiktoken (r50k_base)
# on GPT-2's BPE, on the same English text, one thread each.  Run by
# bench/run.sh (`make bench`); writes bench/REPORT_tok.md (BENCH_TOK_REPORT).
#
# Text: the licence texts of /usr/share/common-licenses (Debian), repeated to
# about 2.2 MB, tokenized paragraph by paragraph (split at blank lines).
# Rounds are interleaved (each round runs every case once, each in its own
# process: one untimed warm-up pass, one timed pass); the report gives
# medians and ratios of medians.  Every case prints a digest of all ids:
# the run fails if embext and the reference disagree.
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
TEXT=build/bench/tok_en.txt
L=/usr/share/common-licenses
: > "$TEXT"
for i in $(seq 20); do cat $L/GPL-3 $L/Apache-2.0 $L/GFDL-1.3 $L/LGPL-2.1 $L/MPL-2.0 >> "$TEXT"; done
SPM=tests/data/stories260k-v3.gguf
BPE=tests/data/gpt2-r50k-tokenizer.gguf

sql_case() { # $1 = model file: emb_tokens_json over every paragraph
    /usr/bin/python3 - "$1" "$TEXT" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension("./embext")
db.execute("create virtual table t using embedding(dim=1)")
db.execute("select emb_tokenizer_load('t', ?)", (sys.argv[1],))
paras = open(sys.argv[2], encoding="utf-8").read().split("\n\n")
q = "select emb_tokens_json('t', ?, 0)"
def run():
    return [db.execute(q, (p,)).fetchone()[0] for p in paras]
run()
t0 = time.perf_counter()
out = run()
sec = time.perf_counter() - t0
digest, n = 2166136261, 0
for j in out:
    if j == "[]":
        continue
    for x in j[1:-1].split(","):
        digest = ((digest ^ int(x)) * 16777619) & 0xffffffff
        n += 1
print("%.6f %d %d %08x" % (sec, sum(len(p.encode()) for p in paras), n, digest))
PY
}

RES=build/bench/tok_results.txt
: > "$RES"
for r in $(seq "$ROUNDS"); do
    echo "round $r/$ROUNDS" >&2
    echo "embext-spm $(build/bench/tok_bench $SPM $TEXT 2 | tail -1)" >> "$RES"
    echo "llama.cpp-spm $(node bench/tok_bench.mjs llama $SPM $TEXT)" >> "$RES"
    echo "embext-sql-spm $(sql_case $SPM)" >> "$RES"
    echo "embext-bpe $(build/bench/tok_bench $BPE $TEXT 2 | tail -1)" >> "$RES"
    echo "js-tiktoken-bpe $(node bench/tok_bench.mjs tiktoken - $TEXT)" >> "$RES"
    echo "embext-sql-bpe $(sql_case $BPE)" >> "$RES"
done
/usr/bin/python3 - "$RES" "$OUT" "$ROUNDS" <<'PY'
import statistics, sys, subprocess
rows = {}
for line in open(sys.argv[1]):
    name, sec, nbytes, ntok, digest = line.split()
    rows.setdefault(name, []).append((float(sec), int(nbytes), int(ntok), digest))
med = {k: statistics.median(s for s, _, _, _ in v) for k, v in rows.items()}
mbs = {k: rows[k][0][1] / med[k] / 1e6 for k in rows}
bad = []
for kind, ref in (("spm", "llama.cpp-spm"), ("bpe", "js-tiktoken-bpe")):
    want = {(n, d) for _, _, n, d in rows[ref]}
    for k in ("embext-" + kind, "embext-sql-" + kind):
        if {(n, d) for _, _, n, d in rows[k]} != want:
            bad.append(k)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
out = ["# Tokenizer speed (bench/tok_run.sh)", "",
       f"Commit {commit}; {rows['embext-spm'][0][1] / 1e6:.2f} MB of English (Debian licence texts), "
       f"by paragraph, one thread; median of {sys.argv[3]} interleaved rounds; "
       "the ids of every case agree with its reference (FNV-1a digest of all ids)." if not bad else
       f"MISMATCH: {', '.join(bad)} gave other ids than the reference", "",
       "| case | tokens | median s | MB/s | vs reference |", "|---|---|---|---|---|"]
for kind, ref in (("spm", "llama.cpp-spm"), ("bpe", "js-tiktoken-bpe")):
    for k in (ref, "embext-" + kind, "embext-sql-" + kind):
        ratio = "1.00" if k == ref else f"{med[ref] / med[k]:.2f} x faster"
        out.append(f"| {k} | {rows[k][0][2]} | {med[k]:.3f} | {mbs[k]:.1f} | {ratio} |")
out += ["", "spm: stories260k-v3.gguf (512 tokens, SentencePiece-style); llama.cpp = node-llama-cpp "
        "3.21.1 model.tokenize (prebuilt binary, called once per paragraph from node).",
        "bpe: GPT-2 r50k_base (50,257 tokens); js-tiktoken 1.0.21 encode; embext reads the same ranks "
        "from tests/data/gpt2-r50k-tokenizer.gguf.",
        "embext = the C core (bench/tok_bench.c); embext-sql = emb_tokens_json per paragraph from "
        "Debian's python3 sqlite3 (includes statement and JSON text costs)."]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
sys.exit(1 if bad else 0)
PY
