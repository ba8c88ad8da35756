#!/bin/sh
# Set the one version: VERSION (emb_version() and embext.pc are built from
# it) and the copies the language packages must carry in their own metadata
# (bindings/python/embext/__init__.py, bindings/node/package.json).
# tests/interop/test_version.sh checks that they all agree.
#   scripts/set-version.sh 0.3.0
set -eu
v=${1:?usage: scripts/set-version.sh X.Y.Z}
echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-.][0-9A-Za-z.]+)?$' ||
    { echo "set-version.sh: '$v' is not a version like 1.2.3" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
echo "$v" >"$here/VERSION"
sed -i "s/^__version__ = \".*\"$/__version__ = \"$v\"/" "$here/bindings/python/embext/__init__.py"
sed -i "s/^  \"version\": \".*\",$/  \"version\": \"$v\",/" "$here/bindings/node/package.json"
echo "set-version.sh: $v (add a CHANGELOG.md entry; make rebuilds emb_version())"
