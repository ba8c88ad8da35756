#!/bin/sh
# bench/run.sh [--quick] - `make bench` / `make bench-quick`: embext side by side
# with sqlite-vec 0.1.9 (vec0), numpy, faiss, gensim and a bare C loop; writes
# bench/REPORT.md (override with BENCH_REPORT=path).  Then bench/writes.py:
# WAL frames per single-row statement, single-row and bulk write rates, vs a
# plain rowid table and vs the build of EMB_OLD_REV (default a333108, the
# last commit writing chunk format 1; built from `git archive` into
# build/bench/old, skipped when git or the commit is missing); writes
# bench/REPORT_writes.md (BENCH_WRITES_REPORT=path).
#
# Installs what it compares against when missing: Debian packages through
# scripts/deps.sh bench (numpy, faiss, gensim, OpenBLAS), sqlite-vec's prebuilt
# vec0.so from the npm registry into bench/vendor (git-ignored).  Builds
# ./embext.so and the C helpers into build/bench, then runs bench/bench.py with
# Debian's /usr/bin/python3 (its sqlite3 module can load extensions).
# Every system runs on one thread.  EMB_DATA names the data folder
# (default: ../shared/data next to the repository).
set -eu
cd "$(dirname "$0")/.."
QUICK=""
for a in "$@"; do
    case "$a" in
    --quick) QUICK=--quick ;;
    *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
    esac
done

sh scripts/deps.sh bench

VEC0=bench/vendor/node_modules/sqlite-vec-linux-x64/vec0.so
if [ ! -f "$VEC0" ]; then
    if [ "$(uname -m)" = x86_64 ] && command -v npm >/dev/null 2>&1; then
        mkdir -p bench/vendor
        npm install --silent --no-audit --no-fund --prefix bench/vendor sqlite-vec-linux-x64@0.1.9 ||
            echo "run.sh: could not install sqlite-vec; vec0 cases will be reported as missing" >&2
    else
        echo "run.sh: npm (or x86-64) missing; vec0 cases will be reported as missing" >&2
    fi
fi

make embext.so build/libembcore.a
mkdir -p build/bench
CC=${CC:-cc}
W="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla"
$CC -O3 $W -o build/bench/membw bench/membw.c
$CC -O3 $W -shared -fPIC -fvisibility=hidden -o build/bench/bare_scan.so bench/bare_scan.c -lm
$CC -O2 $W -o build/bench/sqlbench bench/sqlbench.c -lsqlite3
$CC -O2 $W -Isrc -o build/bench/read_strategy bench/read_strategy.c build/libembcore.a -lm -lpthread
rm -f build/bench/bench_kernels
if [ -f bench/bench_kernels.c ]; then
    $CC -O2 $W -Isrc -o build/bench/bench_kernels \
        bench/bench_kernels.c build/libembcore.a -lm -lpthread ||
        echo "run.sh: bench/bench_kernels.c did not build; reported as missing" >&2
fi
# the int8 sketch (bench/sketch.py): sqlite-vector 1.1.2 from npm, a stats helper
SQLITE_VECTOR=bench/vendor/node_modules/@sqliteai/sqlite-vector-linux-x86_64/vector.so
if [ ! -f "$SQLITE_VECTOR" ] && [ "$(uname -m)" = x86_64 ] && command -v npm >/dev/null 2>&1; then
    npm install --silent --no-audit --no-fund --prefix bench/vendor \
        @sqliteai/sqlite-vector-linux-x86_64@1.1.2 ||
        echo "run.sh: could not install sqlite-vector; reported as missing" >&2
fi
$CC -O2 $W -Isrc -o build/bench/sketch_stats bench/sketch_stats.c build/libembcore.a -lm -lpthread
$CC -O2 $W -Isrc -o build/bench/sketch_big bench/sketch_big.c build/libembcore.a -lm -lpthread

if [ -z "${EMB_DATA:-}" ]; then
    EMB_DATA=$(cd .. && pwd)/shared/data
    [ -d "$EMB_DATA" ] || EMB_DATA=$(cd ../.. && pwd)/shared/data
fi
export EMB_DATA

# One thread everywhere; OpenBLAS core overrides (set on some machines for
# older OpenBLAS builds) slow a current one down, so drop them for this
# process only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    /usr/bin/python3 bench/bench.py $QUICK --embext ./embext.so --vec0 "$VEC0" \
    --bin build/bench --data "$EMB_DATA" --report "${BENCH_REPORT:-bench/REPORT.md}" ${BENCH_ARGS:-}
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    /usr/bin/python3 bench/sketch.py $QUICK
# the tokenizer against llama.cpp's and js-tiktoken (bench/REPORT_tok.md)
sh bench/tok_run.sh "$([ -n "$QUICK" ] && echo 1 || echo 5)"

# writes: the old build from git (its own folder: the file must be named embext.so)
OLD_REV=${EMB_OLD_REV:-a333108}
OLD_SO=build/bench/old/embext.so
if [ ! -f "$OLD_SO" ] || [ "$(cat build/bench/old/.rev 2>/dev/null)" != "$OLD_REV" ]; then
    rm -rf build/bench/old && mkdir -p build/bench/old
    if git archive "$OLD_REV" 2>/dev/null | tar -x -C build/bench/old &&
        make -C build/bench/old embext.so >/dev/null 2>&1; then
        echo "$OLD_REV" > build/bench/old/.rev
    else
        echo "run.sh: could not build $OLD_REV; the old columns of bench/REPORT_writes.md are left out" >&2
        rm -f "$OLD_SO"
    fi
fi
/usr/bin/python3 bench/writes.py $QUICK --embext ./embext.so --old "$OLD_SO" \
    --old-name "embext $OLD_REV (0.2.0 when EMB_OLD_REV is unset)" --report "${BENCH_WRITES_REPORT:-bench/REPORT_writes.md}"
# embext through a 3-node dqlite cluster (bench/cluster.py, README "More than
# one machine"): when libdqlite-dev is installed (make cluster installs it)
if [ -f /usr/include/dqlite.h ]; then
    make build/cluster/embext-node
    # the same node program over the old build's static library (the tree
    # unpacked above), for insert rates before and after side by side
    ab=""
    if [ -f "$OLD_SO" ] && make -C build/bench/old build/static/libembext.a >/dev/null 2>&1 &&
        $CC -O2 -std=c11 -D_GNU_SOURCE -Iinclude -o build/bench/old/embext-node \
            cluster/node.c cluster/wire.c build/bench/old/build/static/libembext.a \
            -ldqlite -lsqlite3 -lm -lpthread; then
        ab="--node-before build/bench/old/embext-node --ext-before $OLD_SO --before-label $OLD_REV"
    fi
    /usr/bin/python3 bench/cluster.py $QUICK $ab --report "${BENCH_CLUSTER_REPORT:-bench/REPORT_cluster.md}" ||
        echo "run.sh: bench/cluster.py failed" >&2
else
    echo "run.sh: libdqlite-dev not installed (make cluster installs it); cluster benchmark skipped" >&2
fi
