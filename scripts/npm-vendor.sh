#!/bin/sh
# Install the npm packages the interoperability tests use into tests/vendor
# (git-ignored), once: better-sqlite3@12 (the Node binding's test; 13 needs
# Node 22) and sqlite-vec-linux-x64@0.1.9 (vec0.so, the side-by-side test).
# Nothing is downloaded when both are already there and load.
#   exit 0  installed (or already there)
#   exit 77 the npm registry cannot be reached (callers skip, saying so)
#   exit 1  anything else (the registry answered but the install failed)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/tests/vendor
BSQL=$dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node
VEC0=$dir/node_modules/sqlite-vec-linux-x64/vec0.so
ready() {
    [ -f "$VEC0" ] && [ -f "$BSQL" ] &&
        (cd "$dir" && node -e "require('better-sqlite3')" >/dev/null 2>&1)
}
ready && exit 0
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "npm-vendor.sh: node/npm are not installed (apt-get install nodejs npm)" >&2
    exit 1
fi
if ! timeout 60 npm ping >/dev/null 2>&1; then
    echo "npm-vendor.sh: the npm registry cannot be reached; better-sqlite3 and sqlite-vec not installed" >&2
    exit 77
fi
mkdir -p "$dir"
echo "npm-vendor.sh: installing better-sqlite3@12 and sqlite-vec-linux-x64@0.1.9 into tests/vendor (once)" >&2
# better-sqlite3 builds its native module from source when no prebuilt
# binary can be fetched (node-gyp with the local Node headers).
if ! npm install --silent --no-audit --no-fund --no-save --prefix "$dir" \
        better-sqlite3@12 sqlite-vec-linux-x64@0.1.9 >&2; then
    echo "npm-vendor.sh: npm install failed" >&2
    exit 1
fi
ready || { echo "npm-vendor.sh: installed, but better-sqlite3 or vec0.so is missing or does not load" >&2; exit 1; }
