"""Checks bindings/python/embext against the loaded extension.  Run by
tests/run.sh with Debian's /usr/bin/python3; prints "N passed, M failed"."""
import os
import sqlite3
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import embext  # noqa: E402

passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", name)


conn = embext.load(sqlite3.connect(":memory:"))
check("isa", conn.execute("select emb_isa()").fetchone()[0] in ("serial", "avx2", "avx512", "neon"))
# loading is off again afterwards
try:
    conn.execute("select load_extension('x')")
    check("load-off", False)
except sqlite3.OperationalError as e:
    check("load-off", "not authorized" in str(e))

a, b = embext.to_blob([1, 2, 3]), embext.to_blob((4.0, 5.0, 6.5))
check("blob-format", a == struct.pack("<3f", 1, 2, 3))
check("dot", conn.execute("select emb_dot(?, ?)", (a, b)).fetchone()[0] == 4 + 10 + 19.5)
out = conn.execute("select emb_add(?, ?)", (a, b)).fetchone()[0]
check("roundtrip-list", embext.from_blob(out, numpy=False) == [5.0, 7.0, 9.5])
check("json-agrees", conn.execute("select emb_dot(?, '[4,5,6.5]')", (a,)).fetchone()[0] == 33.5)

try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    v = np.array([0.5, -1.25, 3.0], dtype=np.float64)
    blob = embext.to_blob(v)
    check("numpy-blob", blob == v.astype("<f4").tobytes())
    got = embext.from_blob(conn.execute("select emb_scale(?, 2.0)", (blob,)).fetchone()[0])
    check("numpy-roundtrip", got.dtype == np.float32 and np.array_equal(got, v.astype(np.float32) * 2))
    try:
        embext.to_blob(np.zeros((2, 2)))
        check("numpy-2d-refused", False)
    except ValueError as e:
        check("numpy-2d-refused", "1-D" in str(e))

# a table and a lookup through the binding
conn.execute("create virtual table t using embedding(dim=3)")
conn.execute("insert into t(token, vector) values ('x', ?)", (a,))
got = conn.execute("select vector from t where token = 'x'").fetchone()[0]
check("table-roundtrip", embext.from_blob(got, numpy=False) == [1.0, 2.0, 3.0])
# bad input is an error, not a crash
try:
    embext.from_blob(b"\0\0\0")
    check("odd-bytes", False)
except ValueError:
    check("odd-bytes", True)
try:
    conn.execute("select emb_dot(?, ?)", (a, embext.to_blob([1, 2]))).fetchone()
    check("dim-mismatch", False)
except sqlite3.OperationalError as e:
    check("dim-mismatch", "emb_dot" in str(e))
# the example (examples/python/glove.py) runs and finds what it should
import subprocess  # noqa: E402
r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                                                 "python", "glove.py")],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
check("example", r.returncode == 0 and "emb_analogy(man : king :: woman : ?) = queen 0.8524" in r.stdout
      and "\n  france 0.1975\n" in r.stdout and "numpy agrees with emb_cosine: True" in r.stdout)
if r.returncode != 0:
    print(r.stdout)
os.environ["EMBEXT_PATH"] = "/nonexistent/embext.so"
try:
    embext.load(sqlite3.connect(":memory:"))
    check("missing-lib", False)
except Exception as e:
    check("missing-lib", True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
