#!/usr/bin/python3
"""hf_ref.py - a tiny Hugging Face style checkpoint for the reader tests.

Writes tests/fixtures/hf/:
  model.safetensors.index.json   weight_map -> two shards (HF's layout)
  model-00001-of-00002.safetensors   model.embed_tokens.weight BF16 [10, 4]
  model-00002-of-00002.safetensors   lm_head.weight F32 [10, 4], model.norm.weight F32 [4]
  embed.expected.npy / lm_head.expected.npy   the same rows as <f4 (bf16 widened
                                  exactly: its bits << 16)
  dup.index.json                 a tensor listed in two shards
  escape.index.json              a shard name with '..'
  tokenizer.json                 BPE (byte-level pieces such as "\u0120hello"),
                                 vocab as a dict, plus added_tokens
  wordpiece.tokenizer.json       WordPiece, vocab dict ("##ing")
  unigram.tokenizer.json         Unigram, vocab as a list of [piece, score]
  vocab.txt                      one piece per line (BERT), id = line number
  vocab.json                     {piece: id} (GPT-2)
  range.vocab.json, bad_utf8.vocab.txt   bad token files
and tests/sql/read_hf.sql, whose expected tokens come from Python's json
module reading the files back.
The JSON files follow the structure transformers / tokenizers write (model
type, vocab, merges, added_tokens objects with id / content / special ...).
Standard library only:  /usr/bin/python3 tests/ref/hf_ref.py
"""
import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "hf")
ROWS, DIM = 10, 4


def st_bytes(tensors):
    """safetensors: u64 header length, JSON header, data (in order)."""
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def npy_bytes(vals, rows, dim):
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, dim)
    head += " " * (128 - 10 - 1 - len(head)) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode()
            + struct.pack("<%df" % len(vals), *vals))


def write(name, data, mode="wb"):
    with open(os.path.join(OUT, name), mode) as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rnd = random.Random(7)
    emb_bits = [rnd.getrandbits(16) & 0xBFFF | 0x3C00 for _ in range(ROWS * DIM)]  # finite bf16
    emb_f32 = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in emb_bits]
    head = [struct.unpack("<f", struct.pack("<f", rnd.gauss(0, 1)))[0] for _ in range(ROWS * DIM)]
    norm = [1.0, 0.5, 0.25, 2.0]
    s1 = st_bytes([("model.embed_tokens.weight", "BF16", [ROWS, DIM],
                    struct.pack("<%dH" % len(emb_bits), *emb_bits))])
    s2 = st_bytes([("lm_head.weight", "F32", [ROWS, DIM], struct.pack("<%df" % len(head), *head)),
                   ("model.norm.weight", "F32", [DIM], struct.pack("<4f", *norm))])
    n1, n2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    write(n1, s1)
    write(n2, s2)
    index = {"metadata": {"total_size": len(s1) + len(s2) - 16},
             "weight_map": {"lm_head.weight": n2, "model.embed_tokens.weight": n1,
                            "model.norm.weight": n2}}
    write("model.safetensors.index.json", json.dumps(index, indent=2).encode())
    write("embed.expected.npy", npy_bytes(emb_f32, ROWS, DIM))
    write("lm_head.expected.npy", npy_bytes(head, ROWS, DIM))
    # a hand-written duplicate key (json.dumps cannot make one)
    write("dup.index.json", ('{"metadata": {}, "weight_map": {"model.embed_tokens.weight": "%s",'
                             ' "lm_head.weight": "%s", "model.embed_tokens.weight": "%s"}}\n'
                             % (n1, n2, n2)).encode())
    write("escape.index.json", json.dumps(
        {"weight_map": {"model.embed_tokens.weight": "../" + n1}}).encode())

    # byte-level BPE (GPT-2 / LLaMA-3 style): "\u0120" is the byte-level space
    bpe_vocab = ["<|endoftext|>", "!", "a", "\u0120hello", "\u0120wor", "ld", "caf\u00e9",
                 "\u010a", "\U0001F600"]
    added_bpe = [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True},
                 {"id": 9, "content": "<|eot_id|>", "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True}]
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_bpe,
           "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                             "use_regex": True},
           "post_processor": None, "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "continuing_subword_prefix": None, "end_of_word_suffix": None,
                     "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": {p: i for i, p in enumerate(bpe_vocab)},
                     "merges": ["\u0120 h", "\u0120h ello", "w o", "l d"]}}
    # ensure_ascii=True: every non-ASCII piece is written as \u escapes
    # (an emoji as a surrogate pair), as Python's json module does by default
    write("tokenizer.json", json.dumps(tok, indent=2, ensure_ascii=True).encode())
    bpe_tokens = bpe_vocab + ["<|eot_id|>"]

    wp_vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "##ing", "run", "\u00e9t\u00e9"]
    wp = {"version": "1.0", "added_tokens": [
        {"id": 0, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}],
        "normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100,
                  "vocab": {p: i for i, p in enumerate(wp_vocab)}}}
    write("wordpiece.tokenizer.json", json.dumps(wp, indent=2, ensure_ascii=False).encode())

    ug_vocab = [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -2.5],
                ["\u2581the", -3.25], ["s", -4.0], ["\u2581\u65e5\u672c", -9.5]]
    ug = {"version": "1.0", "added_tokens": [
        {"id": 1, "content": "</s>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}],
        "model": {"type": "Unigram", "unk_id": 2, "vocab": ug_vocab, "byte_fallback": False}}
    write("unigram.tokenizer.json", json.dumps(ug, ensure_ascii=False).encode())

    write("vocab.txt", "".join(p + "\n" for p in wp_vocab).encode())
    write("vocab.json", json.dumps({p: i for i, p in enumerate(bpe_vocab)},
                                   ensure_ascii=False).encode())

    write("range.vocab.json", json.dumps({"a": 0, "b": 10}).encode())
    write("bad_utf8.vocab.txt", b"ok\n\xff\xfe\n")
    write_sql()


def expected_tokens(fname):
    """The token column, read back with Python's json module (the reference
    JSON decoder), by the rules of read_tokens.c."""
    path = os.path.join(OUT, fname)
    toks = {}
    if fname.endswith(".txt"):
        for i, line in enumerate(open(path, encoding="utf-8").read().split("\n")[:-1]):
            toks[i] = line.rstrip("\r")
        return toks
    doc = json.load(open(path, encoding="utf-8"))
    if "model" in doc:
        vocab = doc["model"]["vocab"]
        if isinstance(vocab, dict):
            toks.update({i: p for p, i in vocab.items()})
        else:
            toks.update({i: p for i, (p, _score) in enumerate(vocab)})
        for t in doc.get("added_tokens", []):
            toks[t["id"]] = t["content"]
    else:
        toks.update({i: p for p, i in doc.items()})
    return toks


def q(s):
    return "'" + s.replace("'", "''") + "'"


def write_sql():
    index = ":fixtures || '/hf/model.safetensors.index.json'"
    emb = "'model.embed_tokens.weight'"
    out = ["-- GENERATED by tests/ref/hf_ref.py: a sharded Hugging Face checkpoint and its",
           "-- token files (tests/fixtures/hf).  Expected tokens are read back with Python's",
           "-- json module; expected vectors are the shards' values written as .npy.", ""]
    for tensor, exp in (("model.embed_tokens.weight", "embed"), ("lm_head.weight", "lm_head")):
        out.append("select 'shard-%s', count(*) = %d, sum(a.vector = b.vector) = %d\n"
                   "  from emb_read_safetensors(%s, '%s') a\n"
                   "  join emb_read_npy(:fixtures || '/hf/%s.expected.npy') b using (token_id);"
                   % (tensor, ROWS, ROWS, index, tensor, exp))
    for fname in ("tokenizer.json", "wordpiece.tokenizer.json", "unigram.tokenizer.json",
                  "vocab.txt", "vocab.json"):
        toks = expected_tokens(fname)
        want = "|".join("%d=%s" % (i, toks.get(i, "NULL")) for i in range(ROWS))
        out.append("select 'tokens-%s', group_concat(token_id || '=' || ifnull(token, 'NULL'), '|')"
                   " = %s\n  from emb_read_safetensors(%s, %s, :fixtures || '/hf/%s');"
                   % (fname, q(want), index, emb, fname))
    toks = expected_tokens("vocab.txt")
    want = "|".join("%d=%s" % (i, toks.get(i, "NULL")) for i in range(ROWS))
    out.append("select 'tokens-npy', group_concat(token_id || '=' || ifnull(token, 'NULL'), '|')"
               " = %s\n  from emb_read_npy(:fixtures || '/hf/embed.expected.npy',"
               " :fixtures || '/hf/vocab.txt');" % q(want))
    out.append("select 'tokens-npy-null', count(*) = %d, count(token) = 0"
               " from emb_read_npy(:fixtures || '/hf/embed.expected.npy', NULL);" % ROWS)
    out.append("""
-- end to end: a sharded checkpoint with tokenizer.json into an embedding table
create virtual table wte using embedding(dim=%d);
insert into wte(token_id, token, vector)
  select * from emb_read_safetensors(%s, %s, :fixtures || '/hf/tokenizer.json');
select 'import-count', count(*) = %d, count(token) = %d from wte;
select 'import-token', token = %s from wte where token_id = 3;
select 'import-vector', a.vector = b.vector
  from wte a join emb_read_npy(:fixtures || '/hf/embed.expected.npy') b using (token_id)
  where a.token_id = 7;
""" % (DIM, index, emb, ROWS, ROWS, q(expected_tokens("tokenizer.json")[3])))
    errors = [
        ("emb_read_safetensors: dup.index.json: tensor 'model.embed_tokens.weight' is listed in two"
         " shards: model-00001-of-00002.safetensors and model-00002-of-00002.safetensors",
         "emb_read_safetensors(:fixtures || '/hf/dup.index.json', %s)" % emb),
        ("emb_read_safetensors: escape.index.json: shard name '../model-00001-of-00002.safetensors'"
         " of 'model.embed_tokens.weight' must be a relative path without '..'",
         "emb_read_safetensors(:fixtures || '/hf/escape.index.json', %s)" % emb),
        ("emb_read_safetensors: model.safetensors.index.json: no tensor 'nope' in weight_map"
         " (available: lm_head.weight, model.embed_tokens.weight, model.norm.weight)",
         "emb_read_safetensors(%s, 'nope')" % index),
        ("emb_read_safetensors: model.safetensors.index.json -> model-00002-of-00002.safetensors:"
         " tensor 'model.norm.weight' is 1-D (expected 2-D)",
         "emb_read_safetensors(%s, 'model.norm.weight')" % index),
        ("emb_read_safetensors: tokenizer.json: not a safetensors file, nor an index with a"
         " \"weight_map\" object",
         "emb_read_safetensors(:fixtures || '/hf/tokenizer.json', %s)" % emb),
        ("emb_read_safetensors: tokens file range.vocab.json: token id 10 out of range: the matrix"
         " has 10 rows (at byte 9)",
         "emb_read_safetensors(%s, %s, :fixtures || '/hf/range.vocab.json')" % (index, emb)),
        ("emb_read_npy: tokens file bad_utf8.vocab.txt: token 1 is not valid UTF-8 (at line 2)",
         "emb_read_npy(:fixtures || '/hf/embed.expected.npy', :fixtures || '/hf/bad_utf8.vocab.txt')"),
        ("emb_read_npy: tokens file no/such/missing.json: cannot open (No such file or directory)",
         "emb_read_npy(:fixtures || '/hf/embed.expected.npy', 'no/such/missing.json')"),
        ("emb_read_npy: tokens file model.safetensors.index.json: no vocabulary (expected a"
         " tokenizer.json with model.vocab, or a vocab.json object of piece: id)",
         "emb_read_npy(:fixtures || '/hf/embed.expected.npy', %s)" % index),
        ("emb_read_npy: tokens must be text (found integer)",
         "emb_read_npy(:fixtures || '/hf/embed.expected.npy', 3)"),
    ]
    for msg, call in errors:
        out.append("-- error: %s\nselect count(*) from %s;" % (msg, call))
    path = os.path.join(HERE, "..", "sql", "read_hf.sql")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
