#!/usr/bin/python3
"""ggml_ref.py - GGUF fixtures made by ggml itself, with ggml's own decoding.

For every tensor type emb_read_gguf supports, quantize one small test
matrix with ggml_quantize_chunk, write it as `token_embd.weight` of a GGUF
file with ggml's gguf writer (gguf_init_empty / gguf_set_* /
gguf_add_tensor / gguf_write_to_file: llama.cpp's own writer), and store
what ggml's dequantize_row_<type> returns for it.  Also writes GGUF files
for the container tests (alignment 64 and 256, a v2 copy, a big-endian
copy).  Output, in tests/fixtures/gguf/quant/:

  source.f32              the original matrix, rows x dim little-endian f32
  <type>.gguf             the quantized tensor + tokenizer.ggml.tokens
  <type>.expected.npy     ggml's dequantized rows (numpy <f4, 128-byte header)
  errors.txt              max |ggml - original| per type
  align64.gguf, align256.gguf, v2.gguf, bigendian.gguf

Run once when ggml changes (needs node-llama-cpp's prebuilt ggml):
  (mkdir -p tests/ref/vendor && cd tests/ref/vendor && npm i -E node-llama-cpp@3.21.1)
  /usr/bin/python3 tests/ref/ggml_ref.py
Only the standard library is used (ctypes, struct).
"""
import ctypes as C
import glob
import math
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "gguf", "quant")

ROWS, DIM = 6, 256

# ggml_type ids (ggml.h) of the supported types
TYPES = [("F32", 0), ("F16", 1), ("BF16", 30), ("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 6),
         ("Q5_1", 7), ("Q8_0", 8), ("Q2_K", 10), ("Q3_K", 11), ("Q4_K", 12), ("Q5_K", 13),
         ("Q6_K", 14)]


def find_lib():
    pat = os.path.join(HERE, "vendor", "node_modules", "@node-llama-cpp", "linux-x64",
                       "bins", "linux-x64", "libggml-base.so")
    hits = glob.glob(pat)
    if not hits:
        sys.exit("ggml_ref.py: %s not found (npm i -E node-llama-cpp@3.21.1 in tests/ref/vendor)"
                 % pat)
    return C.CDLL(hits[0])


class InitParams(C.Structure):
    _fields_ = [("mem_size", C.c_size_t), ("mem_buffer", C.c_void_p), ("no_alloc", C.c_bool)]


class ReadParams(C.Structure):
    _fields_ = [("no_alloc", C.c_bool), ("ctx", C.c_void_p)]  # ctx: struct ggml_context **


def matrix():
    """Rows that exercise the quantizers: normal values, an outlier per row,
    exact zeros, a negative-only row, an all-zero row, a constant row and a
    row of tiny values (subnormal f16 scales)."""
    rnd = random.Random(12)
    m = []
    for r in range(ROWS):
        if r == 3:
            row = [0.0] * DIM
        elif r == 4:
            row = [0.375] * DIM
        elif r == 5:
            row = [rnd.gauss(0, 1e-6) for _ in range(DIM)]
        else:
            row = [rnd.gauss(0, 0.05 * (r + 1)) for _ in range(DIM)]
            for k in range(0, DIM, 7):
                row[k] = 0.0
            row[rnd.randrange(DIM)] = 3.5 * (1 if r != 2 else -1)
            if r == 2:
                row = [-abs(v) for v in row]
        m.append([struct.unpack("<f", struct.pack("<f", v))[0] for v in row])
    return m


def write_npy(path, vals):
    """A numpy v1 file of ROWS x DIM <f4 (header padded to 128 bytes)."""
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (ROWS, DIM)
    head += " " * (128 - 10 - 1 - len(head)) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        f.write(struct.pack("<%df" % len(vals), *vals))


def main():
    g = find_lib()
    g.ggml_quantize_chunk.restype = C.c_size_t
    g.ggml_quantize_chunk.argtypes = [C.c_int, C.c_void_p, C.c_void_p, C.c_int64, C.c_int64,
                                      C.c_int64, C.c_void_p]
    g.ggml_row_size.restype = C.c_size_t
    g.ggml_row_size.argtypes = [C.c_int, C.c_int64]
    g.ggml_init.restype = C.c_void_p
    g.ggml_init.argtypes = [InitParams]
    g.ggml_new_tensor_2d.restype = C.c_void_p
    g.ggml_new_tensor_2d.argtypes = [C.c_void_p, C.c_int, C.c_int64, C.c_int64]
    g.ggml_set_name.restype = C.c_void_p
    g.ggml_set_name.argtypes = [C.c_void_p, C.c_char_p]
    g.ggml_get_data.restype = C.c_void_p
    g.ggml_get_data.argtypes = [C.c_void_p]
    g.ggml_free.argtypes = [C.c_void_p]
    g.gguf_init_empty.restype = C.c_void_p
    g.gguf_free.argtypes = [C.c_void_p]
    g.gguf_set_val_u32.argtypes = [C.c_void_p, C.c_char_p, C.c_uint32]
    g.gguf_set_val_str.argtypes = [C.c_void_p, C.c_char_p, C.c_char_p]
    g.gguf_set_arr_str.argtypes = [C.c_void_p, C.c_char_p, C.POINTER(C.c_char_p), C.c_size_t]
    g.gguf_add_tensor.argtypes = [C.c_void_p, C.c_void_p]
    g.gguf_write_to_file.restype = C.c_bool
    g.gguf_write_to_file.argtypes = [C.c_void_p, C.c_char_p, C.c_bool]

    os.makedirs(OUT, exist_ok=True)
    m = matrix()
    flat = [v for row in m for v in row]
    src = (C.c_float * len(flat))(*flat)
    with open(os.path.join(OUT, "source.f32"), "wb") as f:
        f.write(struct.pack("<%df" % len(flat), *flat))
    tokens = ["<unk>", "\u0120hello", "caf\u00e9", "\u2581world", "<0x0A>", "x"]
    tok_arr = (C.c_char_p * ROWS)(*[t.encode() for t in tokens])

    def write_gguf(path, ttype, data, kvs=()):
        ctx = g.ggml_init(InitParams(1 << 20, None, False))
        t = g.ggml_new_tensor_2d(ctx, ttype, DIM, ROWS)
        g.ggml_set_name(t, b"token_embd.weight")
        C.memmove(g.ggml_get_data(t), data, len(data))
        gg = g.gguf_init_empty()
        g.gguf_set_val_str(gg, b"general.architecture", b"llama")
        for key, val in kvs:
            g.gguf_set_val_u32(gg, key, val)
        g.gguf_set_arr_str(gg, b"tokenizer.ggml.tokens", tok_arr, ROWS)
        g.gguf_add_tensor(gg, t)
        assert g.gguf_write_to_file(gg, path.encode(), False), path
        g.gguf_free(gg)
        g.ggml_free(ctx)

    g.gguf_init_from_file.restype = C.c_void_p
    g.gguf_init_from_file.argtypes = [C.c_char_p, ReadParams]
    g.gguf_get_data_offset.restype = C.c_size_t
    g.gguf_get_data_offset.argtypes = [C.c_void_p]

    def data_offset(path):
        gg = g.gguf_init_from_file(path.encode(), ReadParams(True, None))
        assert gg, path
        off = g.gguf_get_data_offset(gg)
        g.gguf_free(gg)
        return off

    def check_loads(path):
        """ggml's reader loads the file, tensor data included."""
        ctx = C.c_void_p()
        gg = g.gguf_init_from_file(path.encode(), ReadParams(False, C.addressof(ctx)))
        assert gg and ctx.value, path + ": ggml cannot load it"
        g.gguf_free(gg)
        g.ggml_free(ctx.value)

    lines = []
    for name, tid in TYPES:
        row_bytes = g.ggml_row_size(tid, DIM)
        buf = C.create_string_buffer(row_bytes * ROWS)
        got = g.ggml_quantize_chunk(tid, src, buf, 0, ROWS, DIM, None)
        assert got == row_bytes * ROWS, (name, got)
        data = buf.raw
        write_gguf(os.path.join(OUT, name.lower() + ".gguf"), tid, data)
        check_loads(os.path.join(OUT, name.lower() + ".gguf"))
        out = (C.c_float * (ROWS * DIM))()
        if name == "F32":
            C.memmove(out, data, len(data))
        else:
            fn = getattr(g, {"F16": "ggml_fp16_to_fp32_row", "BF16": "ggml_bf16_to_fp32_row"}
                         .get(name, "dequantize_row_" + name.lower().replace("_k", "_K")))
            fn.argtypes = [C.c_void_p, C.c_void_p, C.c_int64]
            fn(data, out, ROWS * DIM)  # rows are contiguous; ggml decodes block by block
        vals = list(out)
        write_npy(os.path.join(OUT, name.lower() + ".expected.npy"), vals)
        err = max(abs(a - b) for a, b in zip(vals, flat))
        # rows 0-2 are the ordinary ones (gaussian, zeros, one outlier)
        n3 = 3 * DIM
        rel = math.sqrt(sum((a - b) ** 2 for a, b in zip(vals[:n3], flat[:n3]))
                        / sum(b * b for b in flat[:n3]))
        tiny = max(abs(a - b) for a, b in zip(vals[5 * DIM:], flat[5 * DIM:]))
        lines.append("%-5s %4d bytes/row  max abs err %-10.4g  rows 0-2: relative RMS err %-10.3g"
                     "  tiny row (1e-6): max abs err %.3g" % (name, row_bytes, err, rel, tiny))

    # container variants, all from ggml's writer, of the Q4_K matrix
    row_bytes = g.ggml_row_size(12, DIM)
    buf = C.create_string_buffer(row_bytes * ROWS)
    g.ggml_quantize_chunk(12, src, buf, 0, ROWS, DIM, None)
    for a in (64, 256):
        path = os.path.join(OUT, "align%d.gguf" % a)
        write_gguf(path, 12, buf.raw, [(b"general.alignment", a)])
        # ggml's writer stores the key but pads the data to its default 32;
        # its own reader then expects the data at the aligned offset.  Move
        # the data there, and check that ggml's reader loads the result.
        raw = open(path, "rb").read()
        want = data_offset(path)
        have = len(raw) - len(buf.raw)
        assert want >= have and want % a == 0, (want, have)
        tail = -len(buf.raw) % a  # ggml reads the data block padded to the alignment
        open(path, "wb").write(raw[:have] + b"\0" * (want - have) + raw[have:] + b"\0" * tail)
        check_loads(path)
    v3 = open(os.path.join(OUT, "q4_k.gguf"), "rb").read()
    assert v3[4:8] == struct.pack("<I", 3)
    # v2 has the same little-endian layout as v3 (v3 only added big-endian files)
    open(os.path.join(OUT, "v2.gguf"), "wb").write(v3[:4] + struct.pack("<I", 2) + v3[8:])
    check_loads(os.path.join(OUT, "v2.gguf"))
    # a big-endian writer stores the version (and every number) byte-swapped
    open(os.path.join(OUT, "bigendian.gguf"), "wb").write(v3[:4] + struct.pack(">I", 3) + v3[8:])

    with open(os.path.join(OUT, "errors.txt"), "w") as f:
        f.write("# made by tests/ref/ggml_ref.py: ggml's dequantized values vs the original "
                "f32 (%d x %d)\n" % (ROWS, DIM))
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
