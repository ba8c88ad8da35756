#!/bin/sh
# Install what a make target needs on Debian 12 when it is missing.
#   deps.sh demo    what `make demo` needs (sqlite3, libsqlite3-dev)
#   deps.sh test    build + test tools (cmocka, sqlite3, libsqlite3-dev, clang + libclang-rt-14-dev for fuzzing)
#   deps.sh bench   also numpy, faiss, gensim (Debian packages)
#   deps.sh cluster libdqlite-dev (make cluster) and go-dqlite (the dqlite shell)
set -e
need=""
want() { dpkg -s "$1" >/dev/null 2>&1 || need="$need $1"; }
want sqlite3
want libsqlite3-dev
if [ "$1" = cluster ]; then
    want libdqlite-dev
    want go-dqlite
elif [ "$1" != demo ]; then
    want libcmocka-dev
    want clang
    want libclang-rt-14-dev
    want python3
    want python3-numpy
    want gcc-aarch64-linux-gnu
    want python3-apsw   # README client lines (tests/interop)
    want sqlite-utils
    want nodejs         # bindings/node and the sqlite-vec test (npm packages: scripts/npm-vendor.sh)
    command -v npm >/dev/null 2>&1 || need="$need npm"
fi
if [ "$1" = bench ]; then
    want python3-numpy
    want python3-faiss
    want python3-gensim
    # numpy and faiss on Debian link the reference BLAS (libblas3) unless an
    # optimised one is installed; a fair comparison uses OpenBLAS.
    want libopenblas0-pthread
    want valgrind   # profiles of missed targets
    # sqlite-vec comes from the npm registry (bench/run.sh)
    command -v npm >/dev/null 2>&1 || need="$need npm"
fi
[ -z "$need" ] && exit 0
echo "deps.sh: installing:$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
