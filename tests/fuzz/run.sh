#!/bin/sh
# Build every libFuzzer target tests/fuzz/fuzz_<name>.c and run each for
# SECONDS (default 30) seconds; exit 1 if any target finds a crash, leak,
# timeout or sanitizer error.
#
#   sh tests/fuzz/run.sh [SECONDS]        (make fuzz FUZZ_SECONDS=10)
#
# Needs clang with libFuzzer (Debian: clang + libclang-rt-14-dev).  Seeds:
# tests/fuzz/corpus/<name>/ (committed, read only); inputs libFuzzer finds
# go to build/fuzz/corpus/<name>/, crash reproducers to build/fuzz/.
# A reproducer can be replayed with: build/fuzz/fuzz_<name> CRASH_FILE
# (FUZZ_VERBOSE=1 makes the SQL targets print their statements).
#
# The SQL-level targets (fuzz_sql: statements over every function and the
# virtual table; fuzz_dbfile: hostile database files) link embext itself
# (ext/*.c with -DSQLITE_CORE) and Debian's libsqlite3.
#
# FUZZ_ONLY="sql dbfile" runs only those targets.
set -u
SECS=${1:-30}
[ -n "$SECS" ] || SECS=30
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build/fuzz}
cd "$(dirname "$0")/../.." || exit 1
mkdir -p "$OUT"
# absolute paths: fuzz_sql changes its working directory (to its fixture copy)
OUT=$(cd "$OUT" && pwd)
ROOT=$(pwd)
fail=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    target=${name#fuzz_}
    case " ${FUZZ_ONLY:-$target} " in *" $target "*) ;; *) continue ;; esac
    case $target in
    sql | dbfile) extra="-DSQLITE_CORE -Iext ext/*.c -lsqlite3" ;;
    *) extra= ;;
    esac
    echo "== fuzz $target (${SECS}s)"
    if ! $CC -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -o "$OUT/$name" "$src" src/*/*.c $extra -lm -lpthread; then
        echo "FAILED: cannot build $name (is libclang-rt-14-dev installed?)"
        fail=1
        continue
    fi
    mkdir -p "$OUT/corpus/$target"
    if ! "$OUT/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -artifact_prefix="$OUT/$name-" -print_final_stats=0 \
        "$OUT/corpus/$target" "$ROOT/tests/fuzz/corpus/$target" > "$OUT/$name.log" 2>&1; then
        tail -40 "$OUT/$name.log"
        echo "FAILED: fuzz target $target (log $OUT/$name.log)"
        fail=1
    else
        grep -E "^#[0-9]+.*(DONE|pulse)" "$OUT/$name.log" | tail -1
    fi
done
[ $fail = 0 ] && echo "fuzz: all targets ran clean"
exit $fail
