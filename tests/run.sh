#!/bin/sh
# Run the whole suite against one build folder ($BUILD, default build):
# every cmocka binary, then the SQL scripts (tests/sql/*.sql and the
# sql/walkthrough_*.sql walkthroughs) once per kernel set this CPU supports
# (EMB_ISA forces each; a set the CPU lacks is reported, not run).
# Appends "<passed> <failed>" to $BUILD/summary and prints the totals.
set -u
BUILD=${BUILD:-build}
EXT=$BUILD/embext.so
here=$(cd "$(dirname "$0")/.." && pwd)
# The suite's data ships in tests/data (see tests/data/SOURCES.md).
EMB_DATA=${EMB_DATA:-$here/tests/data}
export EMB_DATA
export EMB_FIXTURES=${EMB_FIXTURES:-$here/tests/fixtures}
export EMB_EXT=$EXT
EMB_TMP=$(mktemp -d)
export EMB_TMP
trap 'rm -rf "$EMB_TMP"' EXIT

pass=0
fail=0
log=$EMB_TMP/log
# run_counted WHAT PASS_SED FAIL_SED CMD...: run CMD, show its output and add
# the counts the two sed scripts pick from it to pass/fail (a command that
# exits non-zero without a counted failure is one failure).
run_counted() {
    what=$1 psed=$2 fsed=$3
    shift 3
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n "$psed" "$log")
    f=$(sed -n "$fsed" "$log")
    pass=$((pass + ${p:-0}))
    fail=$((fail + ${f:-0}))
    if [ $rc != 0 ] && [ "${f:-0}" = 0 ]; then
        echo "FAILED: $what exited with $rc"
        fail=$((fail + 1))
    fi
}
CMOCKA_P='s/^\[  PASSED  \] \([0-9]*\) test.*/\1/p'
CMOCKA_F='s/^\[  FAILED  \] \([0-9]*\) test.*/\1/p'
SQL_P='s/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'
SQL_F='s/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p'

# one place allocates (src/core/alloc.c): no raw malloc/free elsewhere
echo "== allocator guard (tests/check_alloc.sh)"
run_counted "allocator guard" "$SQL_P" "$SQL_F" sh tests/check_alloc.sh

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    run_counted "$t" "$CMOCKA_P" "$CMOCKA_F" "$t"
done

ran=0
for isa in serial avx2 avx512 neon; do
    got=$(EMB_ISA=$isa "$BUILD/sqlrun" --isa "$EXT" 2>/dev/null)
    if [ "$got" != "$isa" ]; then
        echo "== SQL tests, kernel set $isa: not available on this CPU, skipped"
        continue
    fi
    echo "== SQL tests, kernel set $isa"
    # the sql/ walkthroughs check themselves too (every row ends in a true column)
    walk=$(ls sql/walkthrough_*.sql 2>/dev/null)
    run_counted "SQL runner" "$SQL_P" "$SQL_F" env EMB_ISA=$isa "$BUILD/sqlrun" "$EXT" tests/sql/*.sql $walk
    ran=$((ran + 1))
done
# the transaction row buffer of the text readers (ext/tvf_read.c): once
# dropped midway (small cap) and once disabled, the same rows must come out
for cap in 4096 0; do
    echo "== SQL tests, EMB_READ_BUFFER_CAP=$cap"
    run_counted "SQL runner (EMB_READ_BUFFER_CAP=$cap)" "$SQL_P" "$SQL_F" \
        env EMB_READ_BUFFER_CAP=$cap "$BUILD/sqlrun" "$EXT" tests/sql/read_txn_buffer.sql
done
if [ "$ran" = 0 ]; then
    echo "FAILED: no kernel set ran the SQL tests"
    fail=$((fail + 1))
fi
preload=
if nm -D "$EXT" 2>/dev/null | grep -q __asan_init; then
    # a sanitizer build: the shell is not instrumented, preload the runtimes
    preload="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
fi
# The allocation-failure sweep (tests/oom): SQLite's allocator and the
# core's failing at allocation k over tests/oom/statements.sql; only in the
# sanitizer build, where LeakSanitizer checks that nothing leaks (the full
# sweep, every k: make oom).
if [ -n "$preload" ] && [ -x "$BUILD/oom_sweep" ]; then
    echo "== allocation failures, fast sweep (tests/oom/oom_sweep.c)"
    run_counted "oom sweep" "$SQL_P" "$SQL_F" \
        "$BUILD/oom_sweep" tests/oom/statements.sql "$EMB_DATA" "$EMB_FIXTURES"
fi
# verdict STATUS MESSAGE: count one check, passed when STATUS is 0.
verdict() {
    if [ "$1" = 0 ]; then
        pass=$((pass + 1))
    else
        echo "FAILED: $2"
        fail=$((fail + 1))
    fi
}
# shell_sql ARGS...: the sqlite3 shell with this build's extension loaded.
shell_sql() {
    LD_PRELOAD=$preload sqlite3 :memory: -cmd ".load $EXT" "$@"
}
if command -v sqlite3 >/dev/null 2>&1; then
    # The demo (`make demo`): it must run cleanly and find queen for
    # king - man + woman on the shipped GloVe rows.
    echo "== demo (sql/demo.sql in the sqlite3 shell)"
    shell_sql <sql/demo.sql >"$log" 2>&1 &&
        ! grep -q "Error" "$log" && grep -q "queen *│ 0.8524" "$log"
    st=$?
    [ $st = 0 ] || cat "$log"
    verdict $st "sql/demo.sql"
    # emb_version() is the VERSION file (one version for the library and its docs)
    echo "== emb_version() = VERSION"
    v=$(shell_sql "select emb_version()" 2>&1)
    [ "$v" = "$(cat "$here/VERSION")" ]
    verdict $? "emb_version() is '$v', VERSION is '$(cat "$here/VERSION")'"
    # The static library (make static): a program with embext linked in through
    # sqlite3_auto_extension must answer like the loadable module.
    if [ -x "$BUILD/static/example" ]; then
        echo "== static library (examples/static/main.c)"
        q="select emb_version(), emb_l2('[0,0]','[3,4]'), (select count(*) from pragma_function_list where name like 'emb_%')"
        got=$("$BUILD/static/example" "$q" 2>&1)
        want=$(shell_sql "$q" 2>&1)
        [ "$got" = "$want" ] && [ -n "$got" ]
        verdict $? "static example printed '$got', the module '$want'"
    fi
fi
# The Python package (bindings/python) with Debian's /usr/bin/python3, whose
# sqlite3 can load extensions; not for the sanitizer build (the interpreter is
# not instrumented).
if [ -x /usr/bin/python3 ] && [ -z "$preload" ]; then
    echo "== Python bindings (tests/python/test_bindings.py)"
    run_counted "Python bindings" "$SQL_P" "$SQL_F" \
        env EMBEXT_PATH="$(cd "$(dirname "$EXT")" && pwd)/$(basename "$EXT")" \
        /usr/bin/python3 tests/python/test_bindings.py
fi
# Integrations (bindings/node, tests/node, tests/interop; not for the
# sanitizer build): npm pieces come from scripts/npm-vendor.sh into the
# git-ignored tests/vendor, installed once; skipped only when the npm
# registry cannot be reached.
if [ -z "$preload" ]; then
    abs_ext="$(cd "$(dirname "$EXT")" && pwd)/$(basename "$EXT")"
    sh "$here/scripts/npm-vendor.sh"
    npm_st=$?
    if [ $npm_st = 77 ]; then
        echo "== Node bindings and sqlite-vec: SKIPPED (the npm registry cannot be reached)"
    elif [ $npm_st != 0 ]; then
        verdict 1 "scripts/npm-vendor.sh could not install better-sqlite3 / sqlite-vec"
    else
        echo "== Node bindings (tests/node/test_bindings.js, better-sqlite3@12)"
        run_counted "Node bindings" "$SQL_P" "$SQL_F" \
            env EMBEXT_PATH="$abs_ext" NODE_PATH="$here/tests/vendor/node_modules" \
            node tests/node/test_bindings.js
        echo "== sqlite-vec 0.1.9 side by side (tests/interop/test_sqlite_vec.py)"
        run_counted "sqlite-vec side by side" "$SQL_P" "$SQL_F" \
            env EMBEXT_PATH="$abs_ext" VEC0="$here/tests/vendor/node_modules/sqlite-vec-linux-x64/vec0.so" \
            /usr/bin/python3 tests/interop/test_sqlite_vec.py
    fi
    # every README example (sql/sh blocks, table examples) as written; the
    # Node one is skipped when better-sqlite3 could not be installed
    echo "== README examples (tests/interop/test_readme.py)"
    run_counted "README examples" "$SQL_P" "$SQL_F" \
        env EMBEXT_PATH="$abs_ext" NODE_PATH="$here/tests/vendor/node_modules" \
        /usr/bin/python3 tests/interop/test_readme.py
    # embext on a 3-node dqlite cluster (make cluster's node program, loopback);
    # skipped only when its Debian packages cannot be installed
    echo "== dqlite cluster (tests/cluster/run.sh)"
    run_counted "dqlite cluster" "$SQL_P" "$SQL_F" sh tests/cluster/run.sh "$BUILD"
    # one version: VERSION = emb_version() = embext.pc = Python and Node packages
    echo "== one version (tests/interop/test_version.sh)"
    run_counted "version check" "$SQL_P" "$SQL_F" env EMBEXT_PATH="$abs_ext" sh tests/interop/test_version.sh
    # the committed README picture is what `make figures` makes now
    echo "== docs/pca-glove.svg is up to date (scripts/figure_pca.py --check)"
    EMBEXT_PATH="$abs_ext" /usr/bin/python3 scripts/figure_pca.py --check docs/pca-glove.svg
    verdict $? "docs/pca-glove.svg differs from what make figures renders"
fi
# Hardening, short forms (the long ones: make harden; docs/SECURITY.md):
# hostile database files (tests/fuzz/fuzz_dbfile.c driven by
# tests/harden/standalone.c), SIGKILL crash safety in WAL and rollback-journal
# mode (tests/harden/crash.c), a writer and readers as processes and as
# threads (tests/harden/concurrent.c).  Seeds vary per run and are printed.
# harden_run WHAT CMD...: one check, passed when CMD exits 0.
harden_run() {
    what=$1
    shift
    echo "== $what"
    "$@" >"$log" 2>&1
    st=$?
    cat "$log"
    verdict $st "$what"
}
if [ -x "$BUILD/harden/hostile" ]; then
    harden_run "hostile database files" "$BUILD/harden/hostile" -n 1500 -seed "$(date +%s)"
    harden_run "crash safety (SIGKILL, WAL and rollback journal)" "$BUILD/harden/crash" 20
    harden_run "concurrency (writer and reader processes, WAL)" "$BUILD/harden/concurrent" procs 300
    harden_run "concurrency (writer and reader threads, FULLMUTEX)" "$BUILD/harden/concurrent" threads 300
fi
echo "$pass $fail" >>"$BUILD/summary"
echo "$BUILD: $pass passed, $fail failed"
[ "$fail" = 0 ]
