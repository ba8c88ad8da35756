#!/bin/sh
# One version everywhere: VERSION = emb_version() = the pkg-config file that
# `make install` writes = the Python package (module and pip metadata) = the
# Node package.json.  Also: the installed files are the ones the README
# names, `pkg-config --cflags --libs --static embext` builds
# examples/static/main.c, and `make uninstall` removes exactly what install
# added.  Run by tests/run.sh from the repository root (EMBEXT_PATH = the
# embext.so under test); prints "N passed, M failed".
set -u
pass=0 fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $2"; fi; }
want=$(cat VERSION)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

got=$(sqlite3 :memory: -cmd ".load ${EMBEXT_PATH%.so}" "select emb_version()" 2>&1)
[ "$got" = "$want" ]; ok $? "emb_version() is '$got', VERSION '$want'"

# make install into a scratch DESTDIR (PREFIX /usr/local as in the README)
make -s install DESTDIR="$tmp/root" PREFIX=/usr/local >"$tmp/install.log" 2>&1
ok $? "make install failed: $(cat "$tmp/install.log")"
files=$(cd "$tmp/root" && find . -type f | sort | tr '\n' ' ')
[ "$files" = "./usr/local/include/sqlite3_embext.h ./usr/local/lib/embext.so ./usr/local/lib/libembext.a ./usr/local/lib/pkgconfig/embext.pc " ]
ok $? "make install put: $files"
export PKG_CONFIG_PATH="$tmp/root/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
got=$(pkg-config --modversion embext 2>&1)
[ "$got" = "$want" ]; ok $? "embext.pc says '$got', VERSION '$want'"
# shellcheck disable=SC2046
${CC:-cc} -o "$tmp/example" examples/static/main.c $(pkg-config --cflags --libs --static embext) >"$tmp/cc.log" 2>&1
ok $? "pkg-config flags do not build the example: $(cat "$tmp/cc.log")"
got=$("$tmp/example" "select emb_version(), emb_dims('[1,2,3]')" 2>&1)
[ "$got" = "$want|3" ]; ok $? "the example built with pkg-config printed '$got'"
make -s uninstall DESTDIR="$tmp/root" PREFIX=/usr/local >/dev/null 2>&1
left=$(cd "$tmp/root" && find . -type f | tr '\n' ' ')
[ -z "$left" ]; ok $? "make uninstall left: $left"

# the Python package: module attribute and pip's metadata (offline install
# of a copy, so no build files land in the tree)
got=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, 'bindings/python'); import embext; print(embext.__version__)" 2>&1)
[ "$got" = "$want" ]; ok $? "bindings/python embext.__version__ is '$got'"
cp -r bindings/python "$tmp/py"
rm -rf "$tmp/py/build" "$tmp/py/embext.egg-info"
if /usr/bin/python3 -c "import setuptools" 2>/dev/null; then
    /usr/bin/python3 -m pip install -q --no-build-isolation --no-index --target "$tmp/site" "$tmp/py" >"$tmp/pip.log" 2>&1
    ok $? "pip install --no-build-isolation ./bindings/python failed: $(cat "$tmp/pip.log")"
    got=$(PYTHONPATH="$tmp/site" /usr/bin/python3 -c "import importlib.metadata as m; print(m.version('embext'))" 2>&1)
    [ "$got" = "$want" ]; ok $? "pip metadata version is '$got'"
    # the installed package loads the library named by EMBEXT_PATH
    got=$(cd "$tmp" && PYTHONPATH="$tmp/site" /usr/bin/python3 -c "import sqlite3, embext; print(embext.load(sqlite3.connect(':memory:')).execute('select emb_version()').fetchone()[0])" 2>&1)
    [ "$got" = "$want" ]; ok $? "installed package reports '$got'"
else
    echo "SKIP pip install check: setuptools missing (apt-get install python3-setuptools)"
fi

# the Node package
got=$(node -p "require('./bindings/node/package.json').version" 2>&1)
[ "$got" = "$want" ]; ok $? "bindings/node/package.json version is '$got'"
got=$(node -p "require('./bindings/node').version" 2>&1)
[ "$got" = "$want" ]; ok $? "bindings/node version is '$got'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
