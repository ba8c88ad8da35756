#!/bin/sh
# tests/cluster/run.sh [BUILD] - the dqlite cluster test in `make test` (normal build
# only: tests/run.sh calls it outside the sanitizer pass).  Installs libdqlite-dev
# and go-dqlite (scripts/deps.sh cluster), builds BUILD/cluster/embext-node, runs
# tests/cluster/test_cluster.py (3 nodes on 127.0.0.1, about 20 s) and prints its
# "N passed, N failed".  Skipped, with a message and no count, only when the
# packages are missing and Debian's archive cannot be reached.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
if ! sh scripts/deps.sh cluster; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    if ! $SUDO apt-get update -qq --error-on=any >/dev/null 2>&1; then
        echo "cluster test SKIPPED: libdqlite-dev / go-dqlite are not installed and Debian's archive cannot be reached"
        exit 0
    fi
    echo "FAILED: scripts/deps.sh cluster could not install libdqlite-dev / go-dqlite"
    exit 1
fi
${MAKE:-make} -s BUILD="$BUILD" "$BUILD/cluster/embext-node" || {
    echo "FAILED: $BUILD/cluster/embext-node did not build"
    exit 1
}
exec timeout 240 /usr/bin/python3 tests/cluster/test_cluster.py \
    --node "$BUILD/cluster/embext-node" --ext "$BUILD/embext.so" --shell /usr/bin/dqlite
