#!/bin/sh
# Run the whole suite against one build folder ($BUILD, default build):
# every cmocka binary, then the SQL scripts once per kernel set this CPU
# supports (EMB_ISA forces each; a set the CPU lacks is reported, not run).
set -u
BUILD=${BUILD:-build}
EXT=$BUILD/embext.so
export EMB_DATA=${EMB_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
export EMB_FIXTURES=${EMB_FIXTURES:-tests/fixtures}
export EMB_EXT=$EXT
EMB_TMP=$(mktemp -d)
export EMB_TMP
trap 'rm -rf "$EMB_TMP"' EXIT
[ -d "$EMB_DATA" ] || EMB_DATA=$(pwd)/../shared/data

fail=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    if ! "$t"; then
        echo "FAILED: $t"
        fail=1
    fi
done

ran=0
for isa in serial avx2 avx512 neon; do
    got=$(EMB_ISA=$isa "$BUILD/sqlrun" --isa "$EXT" 2>/dev/null)
    if [ "$got" != "$isa" ]; then
        echo "== SQL tests, kernel set $isa: not supported by this CPU, skipped"
        continue
    fi
    echo "== SQL tests, kernel set $isa"
    if ! EMB_ISA=$isa "$BUILD/sqlrun" "$EXT" tests/sql/*.sql; then
        echo "FAILED: SQL tests with EMB_ISA=$isa"
        fail=1
    fi
    ran=$((ran + 1))
done
if [ "$ran" = 0 ]; then
    echo "FAILED: no kernel set ran the SQL tests"
    fail=1
fi
exit $fail
