#!/usr/bin/python3
"""Reference outputs of torch.nn.EmbeddingBag / F.embedding_bag and
nn.Embedding / F.embedding (max_norm, norm_type) for emb_bag / emb_embedding.

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 tests/ref/torch_ref.py > tests/ref/torch_ref.json
It also writes the weight matrix it uses, tests/fixtures/keyed/torch_weight.npy
(40 x 16 float32; rows 3, 7, 11 scaled so that max_norm applies), and
tests/ref/gen_torch_tests.py turns the JSON into tests/sql/torch_bag.sql.
Every output vector is recorded as the hex of its float32 bytes.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(1913)
W = rng.standard_normal((40, 16)).astype(np.float32)
for r, s in ((3, 4.0), (7, 9.5), (11, 0.05)):
    W[r] *= np.float32(s)
np.save("tests/fixtures/keyed/torch_weight.npy", W)


def hexrows(t):
    a = t.detach().numpy().astype("<f4")
    return [a[i].tobytes().hex().upper() for i in range(a.shape[0])]


def bag_case(name, inp, offsets=None, mode="mean", psw=None, padding_idx=None,
             include_last_offset=False, max_norm=None, norm_type=2.0):
    w = torch.from_numpy(W.copy())
    x = torch.tensor(inp, dtype=torch.long)
    off = None if offsets is None else torch.tensor(offsets, dtype=torch.long)
    p = None if psw is None else torch.tensor(psw, dtype=torch.float32)
    out = F.embedding_bag(x, w, off, max_norm=max_norm, norm_type=norm_type, mode=mode,
                          per_sample_weights=p, include_last_offset=include_last_offset,
                          padding_idx=padding_idx)
    # the same through the module, which must agree
    mod = torch.nn.EmbeddingBag(40, 16, mode=mode, max_norm=max_norm, norm_type=norm_type,
                                include_last_offset=include_last_offset, padding_idx=padding_idx)
    with torch.no_grad():
        mod.weight.copy_(torch.from_numpy(W))
    out2 = mod(x, off, per_sample_weights=p)
    assert torch.equal(out, out2), name
    return {"name": name, "input": inp, "offsets": offsets, "mode": mode, "per_sample_weights": psw,
            "padding_idx": padding_idx, "include_last_offset": include_last_offset,
            "max_norm": max_norm, "norm_type": norm_type, "result": hexrows(out),
            "weight_changed": not np.array_equal(w.numpy(), W)}


def emb_case(name, inp, max_norm=None, norm_type=2.0):
    w = torch.from_numpy(W.copy())
    x = torch.tensor(inp, dtype=torch.long)
    out = F.embedding(x, w, max_norm=max_norm, norm_type=norm_type)
    mod = torch.nn.Embedding(40, 16, max_norm=max_norm, norm_type=norm_type)
    with torch.no_grad():
        mod.weight.copy_(torch.from_numpy(W))
    assert torch.equal(mod(x), out), name
    flat = out.reshape(-1, 16)
    return {"name": name, "input": inp, "max_norm": max_norm, "norm_type": norm_type,
            "result": hexrows(flat), "weight_changed": not np.array_equal(w.numpy(), W)}


ids = [1, 3, 7, 2, 2, 9, 11, 0, 5, 39, 7, 3]
offs = [0, 2, 2, 5, 9]  # bag 1 is empty
psw = [0.5, -1.25, 2.0, 0.1, 3.0, -0.7, 1.5, 0.3, 0.25, -2.0, 0.9, 1.1]
bags = [
    bag_case("sum", ids, offs, "sum"),
    bag_case("mean", ids, offs, "mean"),
    bag_case("max", ids, offs, "max"),
    bag_case("sum-psw", ids, offs, "sum", psw=psw),
    bag_case("sum-pad", ids, offs, "sum", padding_idx=2),
    bag_case("mean-pad", ids, offs, "mean", padding_idx=2),
    bag_case("max-pad", ids, offs, "max", padding_idx=7),
    bag_case("mean-pad-only", [2, 2, 4, 2], [0, 2], "mean", padding_idx=2),
    bag_case("max-pad-only", [2, 2, 4, 2], [0, 2], "max", padding_idx=2),
    bag_case("sum-psw-pad", ids, offs, "sum", psw=psw, padding_idx=3),
    bag_case("mean-last", ids, offs + [12], "mean", include_last_offset=True),
    bag_case("max-last", ids, [0, 3, 12], "max", include_last_offset=True),
    bag_case("sum-2d", [[1, 3, 7], [2, 2, 9], [11, 0, 5]], None, "sum"),
    bag_case("mean-2d", [[1, 3, 7], [2, 2, 9], [11, 0, 5]], None, "mean"),
    bag_case("max-2d-pad", [[1, 3, 7], [2, 2, 9], [11, 0, 2]], None, "max", padding_idx=2),
    bag_case("mean-maxnorm", ids, offs, "mean", max_norm=1.0),
    bag_case("sum-maxnorm-l1", ids, offs, "sum", max_norm=3.0, norm_type=1.0),
    bag_case("max-maxnorm-p3", ids, offs, "max", max_norm=2.0, norm_type=3.0),
    bag_case("sum-psw-maxnorm", ids, offs, "sum", psw=psw, max_norm=1.5),
    bag_case("mean-maxnorm-p1.7", ids, offs, "mean", max_norm=1.2, norm_type=1.7),
]
embs = [
    emb_case("plain", [3, 7, 0, 7]),
    emb_case("maxnorm-2", [3, 7, 0, 7, 11], max_norm=1.0),
    emb_case("maxnorm-l1", [3, 7, 1, 11], max_norm=4.0, norm_type=1.0),
    emb_case("maxnorm-p3.5", [3, 7, 1], max_norm=2.0, norm_type=3.5),
    emb_case("maxnorm-inf", [3, 7, 1], max_norm=0.5, norm_type=float("inf")),
    emb_case("maxnorm-2d", [[3, 7], [1, 3]], max_norm=2.0),
    # every row, norm types whose norm is a float sum of powf (src/lm/bag.c)
    emb_case("maxnorm-p0.5-all", list(range(40)), max_norm=3.0, norm_type=0.5),
    emb_case("maxnorm-p1.5-all", list(range(40)), max_norm=1.5, norm_type=1.5),
    emb_case("maxnorm-p2.5-all", list(range(40)), max_norm=2.0, norm_type=2.5),
    emb_case("maxnorm-p4-all", list(range(40)), max_norm=1.0, norm_type=4.0),
    emb_case("maxnorm-p3.3-all", list(range(40)), max_norm=1.1, norm_type=3.3),
]
json.dump({"torch": torch.__version__, "numpy": np.__version__, "bags": bags, "embeddings": embs},
          sys.stdout, indent=1)
print()
