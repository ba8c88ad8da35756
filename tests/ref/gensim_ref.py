#!/usr/bin/python3
"""Reference numbers for emb_most_similar / emb_analogy / emb_eval_* / emb_logits.

Run from the repository root with Debian's python (gensim 4.2, numpy, scipy):
    /usr/bin/python3 tests/ref/gensim_ref.py [DATA_DIR] > tests/ref/gensim_ref.json
DATA_DIR defaults to $EMB_DATA or tests/data.  The JSON it prints is
committed; tests/ref/gen_semantics_tests.py turns it into SQL and C tests.

- GloVe 6B 50d (first 10,000 words) loaded with gensim's own loader
  (KeyedVectors.load_word2vec_format(no_header=True)); token ids are the
  0-based line numbers (gensim's index).
- most_similar / most_similar_cosmul queries by word and by index.
- evaluate_word_analogies(questions-words.txt) with gensim's defaults
  (restrict_vocab=300000, case_insensitive=True, dummy4unknown=False).
- evaluate_word_pairs on wordsim353.tsv and simlex999.txt (defaults).
- the same on googlenews-w2v-257x300, googlenews-w2v-1000x300-unit and
  glove-twitter-25d-11925 (word2vec text with header).
- stories260k: the tied output layer computed with numpy from token_embd.weight,
  which this script reads from the GGUF v1 file itself (no gguf library).
"""
import json
import os
import struct
import sys

import gensim
import numpy as np
from gensim.models import KeyedVectors

DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("EMB_DATA", "tests/data")


def sims(pairs):
    return [[w, float(s)] for w, s in pairs]


def gguf_tensor(path, want):
    """Minimal GGUF v1..v3 reader: returns (tokens, float32 array of tensor `want`)."""
    b = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, b, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    assert b[:4] == b"GGUF"
    pos = 4
    version = take("I")
    cnt = "I" if version == 1 else "Q"

    def string():
        nonlocal pos
        n = take(cnt)
        s = b[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et = take("I")
            n = take(cnt)
            return [value(et) for _ in range(n)]
        return take(scalar[t])

    n_tensors = take(cnt)
    n_kv = take(cnt)
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("I"))
    infos = {}
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        dims = [take(cnt) for _ in range(nd)]
        typ = take("I")
        off = take("Q")
        infos[name] = (dims, typ, off)
    align = kv.get("general.alignment", 32)
    data0 = (pos + align - 1) // align * align
    dims, typ, off = infos[want]
    assert typ == 0, "expected an F32 tensor"
    n = int(np.prod(dims))
    a = np.frombuffer(b, dtype="<f4", count=n, offset=data0 + off)
    # GGUF lists dims fastest-first: ne[0] = embedding dim, ne[1] = vocab size
    return kv["tokenizer.ggml.tokens"], a.reshape(dims[1], dims[0]).astype(np.float32)


def logits_ref(W, tokens, hidden, k, temperature):
    logit = W.astype(np.float64) @ hidden.astype(np.float64)
    z = logit / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = sorted(range(len(logit)), key=lambda i: (-logit[i], i))[:k]
    return [[i, tokens[i], float(logit[i]), float(p[i])] for i in order]


def main():
    out = {"gensim": gensim.__version__, "numpy": np.__version__}
    kv = KeyedVectors.load_word2vec_format(os.path.join(DATA, "glove.6B.50d.10k.txt"),
                                           binary=False, no_header=True)
    ix = kv.key_to_index
    ms = []

    def q(kind, pos, neg, topn=10):
        f = kv.most_similar if kind == "3cosadd" else kv.most_similar_cosmul
        ms.append({"method": kind, "positive": pos, "negative": neg, "k": topn,
                   "result": sims(f(positive=pos, negative=neg, topn=topn))})

    q("3cosadd", ["king", "woman"], ["man"])
    q("3cosadd", ["paris", "germany"], ["france"])
    q("3cosadd", ["computer"], [], 5)
    q("3cosadd", ["good", "better", "fast"], ["bad"], 7)
    q("3cosadd", [], ["good"], 3)
    q("3cosadd", ["walking", "ran"], ["walked"], 1)
    q("3cosadd", [ix["king"], ix["woman"]], [ix["man"]])
    q("3cosadd", [ix["tokyo"], "france"], ["paris"], 4)
    q("3cosmul", ["king", "woman"], ["man"])
    q("3cosmul", ["baghdad", "greece"], ["athens"], 5)
    q("3cosmul", ["computer"], [], 5)
    q("3cosmul", ["good", "better", "fast"], ["bad", "slow"], 6)
    out["most_similar"] = ms
    out["glove_index"] = {w: ix[w] for w in ("king", "man", "woman", "queen", "tokyo", "the")}

    score, sections = kv.evaluate_word_analogies(os.path.join(DATA, "questions-words.txt"))
    out["analogies"] = {
        "score": score,
        "sections": [[s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])]
                     for s in sections],
    }
    pairs = {}
    for name in ("wordsim353.tsv", "simlex999.txt"):
        pearson, spearman, oov = kv.evaluate_word_pairs(os.path.join(DATA, name))
        pairs[name] = {"pearson": float(pearson[0]), "spearman": float(spearman[0]),
                       "oov_ratio": float(oov)}
    out["pairs"] = pairs

    # the same evaluations on three more files in word2vec text format (header
    # line), among them mixed-case Google News tokens (the case rules matter)
    extra = {}
    for name in ("googlenews-w2v-257x300.txt", "googlenews-w2v-1000x300-unit.txt",
                 "glove-twitter-25d-11925.txt"):
        kx = KeyedVectors.load_word2vec_format(os.path.join(DATA, name), binary=False)
        _, secs = kx.evaluate_word_analogies(os.path.join(DATA, "questions-words.txt"))
        e = {"dim": kx.vector_size,
             "total": [len(secs[-1]["correct"]), len(secs[-1]["correct"]) + len(secs[-1]["incorrect"])]}
        for pf in ("wordsim353.tsv", "simlex999.txt"):
            pe, sp, oov = kx.evaluate_word_pairs(os.path.join(DATA, pf))
            e[pf] = [float(pe[0]), float(sp[0]), float(oov)]
        e["most_similar_5_9_minus_7"] = sims(kx.most_similar(positive=[5, 9], negative=[7], topn=3))
        extra[name] = e
    out["extra"] = extra

    tokens, W = gguf_tensor(os.path.join(DATA, "stories260k-f32.gguf"), "token_embd.weight")
    rng = np.random.default_rng(260)
    h_rand = rng.standard_normal(W.shape[1]).astype(np.float32)
    once = tokens.index("▁Once")
    lg = {"shape": list(W.shape), "once_id": once,
          "hidden_random": [float(x) for x in h_rand], "cases": []}
    for name, h in (("random", h_rand), ("row_once", W[once])):
        for k, t in ((10, 1.0), (5, 0.5), (3, 2.0)):
            lg["cases"].append({"hidden": name, "k": k, "temperature": t,
                                "result": logits_ref(W, tokens, h, k, t)})
    out["logits"] = lg
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()


main()
