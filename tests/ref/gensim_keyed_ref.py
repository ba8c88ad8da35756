#!/usr/bin/python3
"""Reference values for the gensim KeyedVectors calls that embext mirrors
(emb_most_similar with raw vectors / restrict, emb_similar_by_vector,
emb_doesnt_match, emb_n_similarity, emb_most_similar_to_given, emb_similarity,
emb_rank / emb_closer_than, emb_distances, emb_relative_cosine_similarity,
emb_eval_pairs / emb_eval_analogies with restrict, case and dummy4unknown).

Run from the repository root with Debian's python3-gensim (4.2):
    /usr/bin/python3 tests/ref/gensim_keyed_ref.py > tests/ref/gensim_keyed_ref.json
    /usr/bin/python3 tests/ref/gen_keyed_tests.py     # -> tests/sql/semantics_keyed.sql
Floats are written as the exact float32 / float64 values gensim returned
(repr of a Python float); vectors passed as inputs as shortest float32 text.

gensim's float32 results depend on the BLAS numpy loads (the
libblas.so.3-x86_64-linux-gnu alternative): gensim_keyed_ref.json was made
with Debian's reference BLAS (libblas3 3.11.0), gensim_keyed_ref.openblas.json
with OpenBLAS 0.3.21 (libopenblas0-pthread) on the same machine; ids and
orders are the same, 203 of 2,784 floats differ by up to 8 ulps.
    /usr/bin/python3 tests/ref/gen_keyed_tests.py --measure --ref tests/ref/gensim_keyed_ref.openblas.json
shows how far embext is from the second.
"""
import json
import os
import sys
import tempfile

import gensim
import numpy as np
from gensim.models import KeyedVectors

DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("EMB_DATA", "tests/data")


def f32s(v):
    return [float(x) for x in np.asarray(v, dtype=np.float32)]


def sims(pairs):
    return [[w, float(s)] for w, s in pairs]


def ix(kv, w):
    return kv.key_to_index[w]


def model_cases(kv, words):
    """One model's cases; `words` names the tokens to use."""
    a, b, c, d, e = words["king"], words["man"], words["woman"], words["queen"], words["dog"]
    out = {}
    raw = (kv[a] - kv[b]).astype(np.float32)          # a raw (not unit) vector
    scaled = (kv[c] * np.float32(3.5)).astype(np.float32)
    ms = []

    def q(pos, neg, topn, restrict=None):
        enc = lambda t: {"vec": f32s(t)} if isinstance(t, np.ndarray) else t
        ms.append({"positive": [enc(t) for t in pos], "negative": [enc(t) for t in neg],
                   "k": topn, "restrict": restrict,
                   "result": [[ix(kv, w), w, float(s)] for w, s in
                              kv.most_similar(positive=pos, negative=neg, topn=topn,
                                              restrict_vocab=restrict)]})

    q([raw, c], [], 10)
    q([a], [raw], 5)
    q([scaled], [b], 5)
    q([a, c], [b], 10, restrict=500)
    q([a, c], [b], 5, restrict=3000)
    out["most_similar"] = ms
    out["similar_by_vector"] = [
        {"vec": f32s(v), "k": k, "restrict": r,
         "result": [[ix(kv, w), w, float(s)] for w, s in kv.similar_by_vector(v, topn=k, restrict_vocab=r)]}
        for v, k, r in ((kv[a], 10, None), (raw, 5, None), (scaled, 5, 200))]
    dm = []
    for ws in words["doesnt_match"]:
        ranked = kv.rank_by_centrality(ws)
        dm.append({"tokens": ws, "answer": kv.doesnt_match(ws),
                   "ranked": [[w, float(s)] for s, w in ranked]})
    out["doesnt_match"] = dm
    out["n_similarity"] = [{"a": x, "b": y, "result": float(kv.n_similarity(x, y))}
                           for x, y in words["n_similarity"]]
    out["to_given"] = [{"word": w, "candidates": cs, "result": kv.most_similar_to_given(w, cs),
                        "scores": [float(kv.similarity(w, x)) for x in cs]}
                       for w, cs in words["to_given"]]
    out["similarity"] = [[x, y, float(kv.similarity(x, y))] for x, y in words["pairs"]]
    out["rank"] = [[x, y, int(kv.rank(x, y)), [ix(kv, t) for t in kv.closer_than(x, y)]]
                   for x, y in words["pairs"]]
    wct = kv.words_closer_than(a, d)
    out["words_closer_than"] = [a, d, [ix(kv, t) for t in wct]]
    dl = [b, c, d, e]
    out["distances_list"] = [a, dl, [float(x) for x in kv.distances(a, dl)]]
    dall = kv.distances(a)
    order = sorted(range(len(dall)), key=lambda i: (float(dall[i]), i))
    out["distances_all"] = {"word": a, "n": int(len(dall)),
                            "sample": [[i, float(dall[i])] for i in range(0, len(dall), max(1, len(dall) // 37))],
                            "closest": order[:10]}
    out["distances_vec"] = {"vec": f32s(raw), "others": dl,
                            "result": [float(x) for x in kv.distances(raw, dl)]}
    out["relative_cosine"] = [[x, y, k, float(kv.relative_cosine_similarity(x, y, k))]
                              for (x, y), k in zip(words["pairs"], (10, 3, 25, 10))]
    return out


def evals(kv, name):
    res = {"pairs": [], "analogies": []}
    for pf in ("wordsim353.tsv", "simlex999.txt"):
        for restrict, ci, dummy in ((300000, True, False), (2000, True, False), (300000, False, False),
                                    (300000, True, True), (500, False, True)):
            pe, sp, oov = kv.evaluate_word_pairs(os.path.join(DATA, pf), restrict_vocab=restrict,
                                                 case_insensitive=ci, dummy4unknown=dummy)
            res["pairs"].append({"file": pf, "restrict": restrict, "case_insensitive": ci,
                                 "dummy4unknown": dummy, "pearson": float(pe[0]),
                                 "spearman": float(sp[0]), "oov_ratio": float(oov)})
    for restrict, ci, dummy in ((2000, True, False), (300000, False, False), (300000, True, True),
                                (500, False, True)):
        _, secs = kv.evaluate_word_analogies(os.path.join(DATA, "questions-words.txt"),
                                             restrict_vocab=restrict, case_insensitive=ci,
                                             dummy4unknown=dummy)
        res["analogies"].append({"restrict": restrict, "case_insensitive": ci, "dummy4unknown": dummy,
                                 "sections": [[s["section"], len(s["correct"]),
                                               len(s["correct"]) + len(s["incorrect"])] for s in secs]})
    return res


def line_endings():
    """The same pairs / analogy text with LF, CRLF and CR-only line ends:
    gensim reads pairs in text mode (universal newlines), so all three give
    the same numbers; written to tests/fixtures/keyed/ by this script."""
    src = open(os.path.join(DATA, "wordsim353.tsv"), encoding="utf-8").read()
    qw = open(os.path.join(DATA, "questions-words.txt"), encoding="utf-8").read().split("\n")
    qw = "\n".join(qw[:400] + [l for l in qw if l.startswith(": capital-world")] + qw[5000:5400]) + "\n"
    out = {}
    os.makedirs("tests/fixtures/keyed", exist_ok=True)
    for tag, nl in (("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")):
        with open("tests/fixtures/keyed/wordsim353-%s.tsv" % tag, "w", encoding="utf-8", newline="") as f:
            f.write(src.replace("\n", nl))
        with open("tests/fixtures/keyed/questions-%s.txt" % tag, "w", encoding="utf-8", newline="") as f:
            f.write(qw.replace("\n", nl))
    return out


def unicode_pairs():
    """A pairs file and a tiny model whose tokens need Unicode upper-casing
    (gensim: str.upper()).  Both written to tests/fixtures/keyed/."""
    toks = ["café", "straße", "ǆungla", "ﬁsh", "ωmega", "дом", "istanbul", "ǅx", "ß", "naïve", "CAFÉ", "ȿa"]
    rng = np.random.default_rng(14)
    vecs = rng.standard_normal((len(toks), 4)).astype(np.float32)
    path = "tests/fixtures/keyed/unicase-4d.txt"
    with open(path, "w", encoding="utf-8") as f:
        f.write("%d 4\n" % len(toks))
        for t, v in zip(toks, vecs):
            f.write(t + " " + " ".join("%.9g" % x for x in v) + "\n")
    pairs = [("CAFÉ", "STRASSE", 1.0), ("ǄUNGLA", "FISH", 2.5), ("ΩMEGA", "ДОМ", 3.0), ("ISTANBUL", "ǄX", 4.0),
             ("SS", "NAÏVE", 5.5), ("Café", "ⱾA", 6.0), ("naïve", "dom", 7.0), ("ΩMEGA", "FISH", 0.5)]
    ppath = "tests/fixtures/keyed/unicase-pairs.tsv"
    with open(ppath, "w", encoding="utf-8") as f:
        for x, y, s in pairs:
            f.write("%s\t%s\t%s\n" % (x, y, s))
    kv = KeyedVectors.load_word2vec_format(path, binary=False)
    r = {}
    for ci in (True, False):
        try:
            pe, sp, oov = kv.evaluate_word_pairs(ppath, case_insensitive=ci)
            r[str(ci)] = [float(pe[0]), float(sp[0]), float(oov)]
        except ValueError as e:
            r[str(ci)] = str(e)
        pe, sp, oov = kv.evaluate_word_pairs(ppath, case_insensitive=ci, dummy4unknown=True)
        r[str(ci) + "-dummy"] = [float(pe[0]), float(sp[0]), float(oov)]
    return r


def main():
    out = {"gensim": gensim.__version__, "numpy": np.__version__}
    glove = KeyedVectors.load_word2vec_format(os.path.join(DATA, "glove.6B.50d.10k.txt"),
                                              binary=False, no_header=True)
    gw = {"king": "king", "man": "man", "woman": "woman", "queen": "queen", "dog": "dog",
          "doesnt_match": [["breakfast", "cereal", "dinner", "lunch"], ["paris", "berlin", "london", "apple"],
                           ["red", "green", "blue", "car", "red"]],
          "n_similarity": [(["sushi", "shop"], ["japanese", "restaurant"]), (["king"], ["queen", "woman"]),
                           (["music", "xyzzy"], ["song"])],
          "to_given": [("music", ["water", "sound", "car", "mouse"]), ("king", ["queen", "prince", "man"])],
          "pairs": [("king", "queen"), ("paris", "france"), ("dog", "cat"), ("computer", "apple")]}
    out["glove"] = model_cases(glove, gw)
    out["glove"]["evals"] = evals(glove, "glove")
    w2v = KeyedVectors.load_word2vec_format(os.path.join(DATA, "googlenews-w2v-1000x300-unit.txt"), binary=False)
    ww = {"king": "state", "man": "man", "woman": "woman", "queen": "city", "dog": "game",
          "doesnt_match": [["year", "week", "day", "company"], ["he", "she", "they", "million"]],
          "n_similarity": [(["city", "state"], ["country", "town"]), (["he"], ["she", "they"])],
          "to_given": [("week", ["year", "team", "game"]), ("he", ["she", "it", "million"])],
          "pairs": [("man", "woman"), ("city", "state"), ("year", "day"), ("game", "company")]}
    out["w2v"] = model_cases(w2v, ww)
    out["w2v"]["evals"] = evals(w2v, "w2v")
    line_endings()
    le = {}
    for tag in ("lf", "crlf", "cr"):
        pe, sp, oov = glove.evaluate_word_pairs("tests/fixtures/keyed/wordsim353-%s.tsv" % tag)
        le[tag] = [float(pe[0]), float(sp[0]), float(oov)]
    _, secs = glove.evaluate_word_analogies("tests/fixtures/keyed/questions-lf.txt")
    le["analogies_lf"] = [[s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])] for s in secs]
    out["line_endings"] = le
    out["unicase"] = unicode_pairs()
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()


main()
