#!/bin/sh
# Install what a make target needs on Debian 12 when it is missing.
#   deps.sh test    build + test tools (cmocka, sqlite3, libsqlite3-dev, clang + libclang-rt-14-dev for fuzzing)
#   deps.sh bench   also numpy, faiss, gensim (Debian packages)
set -e
need=""
want() { dpkg -s "$1" >/dev/null 2>&1 || need="$need $1"; }
want libcmocka-dev
want sqlite3
want libsqlite3-dev
want clang
want libclang-rt-14-dev
want python3
want gcc-aarch64-linux-gnu
if [ "$1" = bench ]; then
    want python3-numpy
    want python3-faiss
    want python3-gensim
fi
[ -z "$need" ] && exit 0
echo "deps.sh: installing:$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
