#!/usr/bin/python3
"""Reference PCA scores for emb_pca, from numpy's SVD; writes the SQL test
tests/sql/pca_numpy.sql (committed; make test needs no numpy for it).

Run from the repository root with Debian's python (numpy):
    /usr/bin/python3 tests/ref/pca_ref.py [DATA_DIR] > tests/sql/pca_numpy.sql
DATA_DIR defaults to $EMB_DATA or tests/data (glove.6B.50d.10k.txt).

Reference: the chosen rows as float32 (what the table stores), widened to
float64, centred on their mean; U, S, Vt = numpy.linalg.svd(Xc,
full_matrices=False); scores = U S; the sign of each component such that its
largest |score| is positive (sklearn's svd_flip on U, numpy.argmax takes the
first of equal values).  Each SQL row checks x, y and every coords element of
one point against these within 1e-6 (coords are float32 text: within 1e-6
relative plus float32 rounding).
"""
import os
import sys

import numpy as np

data = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("EMB_DATA", "tests/data")
tokens, rows = [], []
with open(os.path.join(data, "glove.6B.50d.10k.txt"), encoding="utf-8") as f:
    for line in f:
        parts = line.rstrip("\n").split(" ")
        tokens.append(parts[0])
        rows.append([float(x) for x in parts[1:]])
W = np.array(rows, dtype=np.float32)
index = {t: i for i, t in enumerate(tokens)}


def reference(ids, k):
    x = W[ids].astype(np.float64)
    xc = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    scores = (u * s)[:, :k]
    signs = np.sign(u[np.argmax(np.abs(u[:, :k]), axis=0), range(k)])
    return scores * signs


def sqlstr(s):
    return "'" + s.replace("'", "''") + "'"


def case(name, terms, k, only=None):
    """SQL rows checking emb_pca('glove', terms, k) against numpy; `only`
    limits the checked points (input positions) for big cases."""
    ids = [t if isinstance(t, int) else index[t] for t in terms]
    ref = reference(ids, k)
    arg = "null" if terms is None else sqlstr("[" + ",".join(
        str(t) if isinstance(t, int) else '"%s"' % t for t in terms) + "]")
    return ids, ref, arg


out = []
w = out.append
w("-- emb_pca against numpy's SVD (tests/ref/pca_ref.py wrote this file; do not edit).")
w("-- GloVe 6B 50d, first 10,000 words (tests/data).")
w("create virtual table glove using embedding(dim=50);")
w("insert into glove(token_id, token, vector) select * from emb_read_text(:data || '/glove.6B.50d.10k.txt');")
w("create temp table ref(name text, pos integer, token_id integer, x real, y real, coords text);")
w("create temp table got(name text, pos integer, token_id integer, x real, y real, coords text);")

capitals = ["france", "paris", "italy", "rome", "germany", "berlin", "spain", "madrid",
            "japan", "tokyo", "russia", "moscow", "china", "beijing", "egypt", "cairo"]
cases = [
    ("royal", ["king", "queen", "man", "woman"], 2, None),
    ("capitals", capitals, 3, None),
    ("ids-and-repeats", ["paris", 691, 787, "paris", 300, 1], 2, None),
    ("gram-49", list(range(100, 149)), 4, None),      # n < d: Gram matrix
    ("scatter-50", list(range(100, 150)), 4, None),   # n = d: scatter matrix
    ("scatter-80", list(range(200, 280)), 3, None),
    ("one-component", ["cat", "dog", "car", "truck", "apple"], 1, None),
]
for name, terms, k, _ in cases:
    ids, ref, arg = case(name, terms, k)
    w("insert into got select %s, rowid - 1, token_id, x, y, coords from emb_pca('glove', %s, %d);"
      % (sqlstr(name), arg, k))
    for pos, (tid, sc) in enumerate(zip(ids, ref)):
        coords = "[" + ",".join(repr(float(v)) for v in sc) + "]"
        w("insert into ref values (%s, %d, %d, %r, %s, '%s');" % (
            sqlstr(name), pos, tid, float(sc[0]), repr(float(sc[1])) if k > 1 else "null", coords))
# every row of the table (d < n: scatter matrix), a sample of points checked
all_ref = reference(list(range(len(tokens))), 2)
w("insert into got select 'all-rows', token_id, token_id, x, y, coords from emb_pca('glove', null) "
  "where token_id in (0, 1, 2, 777, 5000, 9999);")
for tid in (0, 1, 2, 777, 5000, 9999):
    sc = all_ref[tid]
    w("insert into ref values ('all-rows', %d, %d, %r, %r, '[%r,%r]');"
      % (tid, tid, float(sc[0]), float(sc[1]), float(sc[0]), float(sc[1])))
w("select 'pca-numpy-count-' || r.name, count(g.name) = count(*) from ref r"
  " left join got g on g.name = r.name and g.pos = r.pos group by r.name;")
w("select 'pca-numpy-' || r.name || '-' || r.pos,")
w("       g.token_id = r.token_id and abs(g.x - r.x) <= 1e-6 and")
w("       (r.y is null and g.y is null or abs(g.y - r.y) <= 1e-6) and")
w("       (select count(*) from json_each(r.coords)) = (select count(*) from json_each(g.coords)) and")
w("       not exists (select 1 from json_each(r.coords) a join json_each(g.coords) b on a.key = b.key")
w("                   where abs(a.value - b.value) > 1e-6 + 1e-6 * abs(a.value))")
w("  from ref r join got g on g.name = r.name and g.pos = r.pos;")
print("\n".join(out))
