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
# The core (src/*/*.c) and the glue (ext/*.c, -DSQLITE_CORE) are compiled
# once into $OUT/obj with the fuzzer's instrumentation and shared by every
# target; an object is rebuilt when its source or any header is newer.
FLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fno-omit-frame-pointer -fno-sanitize-recover=all"
mkdir -p "$OUT/obj"
compile_one() { # SRC: compile into $OUT/obj unless up to date
    o="$OUT/obj/$(echo "$1" | tr / _).o"
    if [ "$o" -nt "$1" ] && [ -z "$(find src ext include -name '*.h' -newer "$o" | head -1)" ]; then
        return 0
    fi
    $CC $FLAGS -DSQLITE_CORE -Iext -fsanitize=fuzzer-no-link,address,undefined -c -o "$o" "$1"
}
objs_ok=1
for c in src/*/*.c ext/*.c; do
    compile_one "$c" || objs_ok=0
done
if [ $objs_ok = 0 ]; then
    echo "FAILED: cannot compile the library for fuzzing (is libclang-rt-14-dev installed?)"
    exit 1
fi
CORE_OBJS=$(for c in src/*/*.c; do echo "$OUT/obj/$(echo "$c" | tr / _).o"; done)
EXT_OBJS=$(for c in ext/*.c; do echo "$OUT/obj/$(echo "$c" | tr / _).o"; done)
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    target=${name#fuzz_}
    case " ${FUZZ_ONLY:-$target} " in *" $target "*) ;; *) continue ;; esac
    case $target in
    sql | dbfile) extra="$EXT_OBJS -lsqlite3" ;;
    *) extra= ;;
    esac
    echo "== fuzz $target (${SECS}s)"
    # shellcheck disable=SC2086 # word lists
    if ! $CC $FLAGS -fsanitize=fuzzer,address,undefined \
        -o "$OUT/$name" "$src" $CORE_OBJS $extra -lm -lpthread; then
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
        grep -E "^Done [0-9]+ runs" "$OUT/$name.log" | tail -1
    fi
done
[ $fail = 0 ] && echo "fuzz: all targets ran clean"
exit $fail
