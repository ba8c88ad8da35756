#!/bin/sh
# Cross-check the core for AArch64 (the NEON kernel table never builds on x86).
#
#   sh tests/cross-aarch64.sh          (from the repository root or anywhere)
#
# 1. If no AArch64 cross compiler is found (CROSS_CC, default
#    aarch64-linux-gnu-gcc), prints "skipped: no aarch64 cross compiler" and
#    exits 0.  CROSS_CFLAGS (default empty) adds flags to every cross
#    compile and link, e.g. -I/-L of a cmocka built for AArch64.
# 2. Compiles every src/*/*.c for AArch64 with the Makefile's warning flags
#    and -Werror into $BUILD/aarch64 (default build/aarch64).  Any warning or
#    error: exit 1.
# 3. Only if qemu-aarch64 (or qemu-aarch64-static) AND a cmocka that links
#    for AArch64 are both available: links each tests/unit/test_*.c against
#    the AArch64 core and runs it under qemu (the cross libraries are found
#    through QEMU_LD_PREFIX, default /usr/aarch64-linux-gnu).  A test that
#    needs a library with no AArch64 build (e.g. SQLite) is reported as not
#    linked and skipped; a test that fails to compile or run: exit 1.
# Prints what it did.  Not part of `make test`.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
CROSS_CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
BUILD=${BUILD:-build}
OUT=$BUILD/aarch64

if ! command -v "$CROSS_CC" >/dev/null 2>&1; then
    echo "skipped: no aarch64 cross compiler"
    exit 0
fi

# Keep in step with WARN and BASEFLAGS in the Makefile (-MMD -MP dropped).
WARN="-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla"
FLAGS="-O2 -g -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden $WARN -Werror -Isrc ${CROSS_CFLAGS:-}"

mkdir -p "$OUT/src" "$OUT/tests" || exit 1
echo "== aarch64 compile: $CROSS_CC ($("$CROSS_CC" -dumpversion)) -Werror"
fail=0
objs=""
n=0
for f in src/*/*.c; do
    o=$OUT/$(echo "$f" | tr / _ | sed 's/\.c$//').o
    # shellcheck disable=SC2086
    if "$CROSS_CC" $FLAGS -c -o "$o" "$f"; then
        objs="$objs $o"
        n=$((n + 1))
    else
        echo "FAILED: $f"
        fail=$((fail + 1))
    fi
done
echo "compiled $n of $((n + fail)) src/*/*.c files for aarch64"
if [ $fail != 0 ]; then
    echo "aarch64: $fail file(s) failed to compile"
    exit 1
fi
# shellcheck disable=SC2086
rm -f "$OUT/libembcore.a" && ar rcs "$OUT/libembcore.a" $objs || exit 1

qemu=""
for q in qemu-aarch64 qemu-aarch64-static; do
    if command -v "$q" >/dev/null 2>&1; then
        qemu=$q
        break
    fi
done
probe=$OUT/cmocka_probe
printf '#include <stdarg.h>\n#include <stddef.h>\n#include <setjmp.h>\n#include <cmocka.h>\nint main(void) { return 0; }\n' >"$probe.c"
# shellcheck disable=SC2086
if "$CROSS_CC" ${CROSS_CFLAGS:-} -o "$probe" "$probe.c" -lcmocka >/dev/null 2>&1; then
    cmocka=yes
else
    cmocka=no
fi
if [ -z "$qemu" ] || [ $cmocka = no ]; then
    echo "not running the unit tests: qemu: ${qemu:-not found}, aarch64 cmocka: $cmocka"
    echo "aarch64: compile OK"
    exit 0
fi

export QEMU_LD_PREFIX="${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}"
echo "== aarch64 unit tests under $qemu (QEMU_LD_PREFIX=$QEMU_LD_PREFIX)"
ran=0
skipped=0
for t in tests/unit/test_*.c; do
    name=$(basename "$t" .c)
    o=$OUT/tests/$name.o
    bin=$OUT/tests/$name
    # shellcheck disable=SC2086
    if ! "$CROSS_CC" $FLAGS -c -o "$o" "$t"; then
        echo "FAILED: $t does not compile for aarch64"
        fail=$((fail + 1))
        continue
    fi
    # shellcheck disable=SC2086
    if ! "$CROSS_CC" $FLAGS -o "$bin" "$o" "$OUT/libembcore.a" -lcmocka -lm -lpthread \
           2>/dev/null &&
       ! "$CROSS_CC" $FLAGS -o "$bin" "$o" "$OUT/libembcore.a" -lcmocka -lsqlite3 -lm \
           -lpthread 2>/dev/null; then
        echo "not linked: $name (needs a library with no aarch64 build here)"
        skipped=$((skipped + 1))
        continue
    fi
    echo "== $bin"
    if "$qemu" "$bin"; then
        ran=$((ran + 1))
    else
        echo "FAILED: $name under $qemu"
        fail=$((fail + 1))
    fi
done
echo "aarch64: $ran test binaries passed, $fail failed, $skipped not linked"
[ $fail = 0 ]
