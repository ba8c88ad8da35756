#!/usr/bin/python3
"""GloVe in Python: import the shipped GloVe rows into an embedding table,
find nearest neighbours of a numpy vector, solve king - man + woman, and
take vectors back as numpy arrays.

    make && /usr/bin/python3 examples/python/glove.py [glove.txt]

(Debian's /usr/bin/python3: its sqlite3 can load extensions; numpy from
python3-numpy.)
"""
import os
import sqlite3
import sys

import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(root, "bindings", "python"))
import embext  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "glove.6B.50d.10k.txt")
conn = embext.load(sqlite3.connect(":memory:"))
conn.execute("create virtual table glove using embedding(dim=50)")
with conn:
    n = conn.execute("insert into glove(token_id, token, vector) select * from emb_read_text(?)",
                     (path,)).rowcount
print("imported %d rows, embext %s" % (n, conn.execute("select emb_version()").fetchone()[0]))


def vec(token):
    """The stored vector of a token as a numpy float32 array."""
    return embext.from_blob(conn.execute("select vector from glove where token = ?",
                                         (token,)).fetchone()[0])


paris = vec("paris")
print("paris: %s %s, norm %.4f" % (paris.dtype, paris.shape, np.linalg.norm(paris)))

# nearest neighbours of a numpy vector (exact top-k, cosine distance)
knn = "select token, round(distance, 4) from glove where vector match ? and k = ?"
for token, dist in conn.execute(knn, (embext.to_blob(paris), 6)):
    print("  %s %s" % (token, dist))

# king - man + woman in numpy, searched in SQL ...
q = vec("king") - vec("man") + vec("woman")
print("king - man + woman, nearest rows:",
      ", ".join(t for t, _ in conn.execute(knn, (embext.to_blob(q), 4))))
# ... and gensim's most_similar rules (inputs left out), in SQL
token, score = conn.execute(
    "select token, round(score, 4) from emb_analogy('glove', 'man', 'king', 'woman', 1)").fetchone()
print("emb_analogy(man : king :: woman : ?) = %s %s" % (token, score))

# a batch of vectors back as one numpy matrix
words = ["france", "italy", "germany", "paris", "rome", "berlin"]
m = np.stack([vec(w) for w in words])
cos = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (m / np.linalg.norm(m, axis=1, keepdims=True)).T
print("cosine(france, paris) = %.4f, numpy agrees with emb_cosine: %s" % (
    cos[0, 3], abs(cos[0, 3] - conn.execute("select emb_cosine(?, ?)",
                                            (embext.to_blob(m[0]), embext.to_blob(m[3]))).fetchone()[0]) < 1e-6))
