-- emb_read_word2vec, emb_read_npy, emb_read_safetensors, emb_read_gguf: shapes and errors.
-- Values of every fixture are checked against numpy in read_values_*.sql.

select 'npy-rows', count(*) = 5, sum(token is null) = 5, sum(length(vector) = 12) = 5
  from emb_read_npy(:fixtures || '/npy/v1_f4.npy');
select 'st-rows', count(*) = 6, sum(length(vector) = 16) = 6
  from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', 'model.embed_tokens.weight');
select 'gguf-default-tensor', count(*) = 6, sum(length(vector) = 32) = 6, min(token) = '''q'''
  from emb_read_gguf(:fixtures || '/gguf/v2.gguf');
select 'gguf-null-tensor-default', count(*) = 6 from emb_read_gguf(:fixtures || '/gguf/v1.gguf', NULL);
select 'w2v-rows', count(*) = 5, sum(length(vector) = 12) = 5 from emb_read_word2vec(:fixtures || '/word2vec/nl.bin');

-- word2vec binary
-- error: emb_read_word2vec: truncated.bin: row 4: needs 12 bytes of values, only 6 left (at byte 85)
select count(*) from emb_read_word2vec(:fixtures || '/word2vec/truncated.bin');
-- error: emb_read_word2vec: badheader.bin: expected a header "V D" (at byte 0)
select count(*) from emb_read_word2vec(:fixtures || '/word2vec/badheader.bin');
-- error: emb_read_word2vec: no/such/missing.bin: cannot open (No such file or directory)
select count(*) from emb_read_word2vec('no/such/missing.bin');

-- npy
-- error: emb_read_npy: big_endian.npy: unsupported dtype '>f4' (expected <f4, <f2 or <f8)
select count(*) from emb_read_npy(:fixtures || '/npy/big_endian.npy');
-- error: emb_read_npy: int.npy: unsupported dtype '<i4' (expected <f4, <f2 or <f8)
select count(*) from emb_read_npy(:fixtures || '/npy/int.npy');
-- error: emb_read_npy: one_d.npy: expected a 2-D array, found 1 dimensions
select count(*) from emb_read_npy(:fixtures || '/npy/one_d.npy');
-- error: emb_read_npy: bad_magic.npy: not a .npy file (bad magic) (at byte 0)
select count(*) from emb_read_npy(:fixtures || '/npy/bad_magic.npy');
-- error: emb_read_npy: truncated.npy: data is 55 bytes, shape (5, 3) of <f4 needs 60 (at byte 128)
select count(*) from emb_read_npy(:fixtures || '/npy/truncated.npy');
-- error: emb_read_npy: extra.npy: data is 64 bytes, shape (5, 3) of <f4 needs 60 (at byte 128)
select count(*) from emb_read_npy(:fixtures || '/npy/extra.npy');
-- error: emb_read_npy: header_len.npy: header length 60000 exceeds file size 188
select count(*) from emb_read_npy(:fixtures || '/npy/header_len.npy');
-- error: emb_read_npy: bad_version.npy: unsupported format version 4.0 (expected 1, 2 or 3) (at byte 6)
select count(*) from emb_read_npy(:fixtures || '/npy/bad_version.npy');
-- error: emb_read_npy: tests/fixtures/npy: cannot read (Is a directory)
select count(*) from emb_read_npy('tests/fixtures/npy');
-- error: emb_read_npy: glove.txt: not a .npy file (bad magic) (at byte 0)
select count(*) from emb_read_npy(:fixtures || '/text/glove.txt');

-- safetensors
-- error: emb_read_safetensors: model.safetensors: no tensor 'wte' (available: model.embed_tokens.weight, wte.f16, bias, wte.bf16)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', 'wte');
-- error: emb_read_safetensors: model.safetensors: tensor 'bias' is 1-D (expected 2-D)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', 'bias');
-- error: emb_read_safetensors: truncated.safetensors: tensor 'wte.bf16' data_offsets [152, 176] outside the data block (166 bytes at byte 312)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/truncated.safetensors', 'wte.bf16');
-- error: emb_read_safetensors: header_len.safetensors: header length 1099511627776 exceeds file size 488
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/header_len.safetensors', 'w');
-- error: emb_read_safetensors: bad_json.safetensors: malformed JSON header: expected ',' or '}' (at byte 72)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/bad_json.safetensors', 'a');
-- error: emb_read_safetensors: offsets.safetensors: tensor 'w' data_offsets [0, 16] outside the data block (8 bytes at byte 72)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/offsets.safetensors', 'w');
-- error: emb_read_safetensors: shape.safetensors: tensor 'w' shape [2, 3] of F32 does not match its 16 data bytes
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/shape.safetensors', 'w');
-- error: emb_read_safetensors: int.safetensors: tensor 'w' has unsupported dtype 'I32' (expected F32, F16 or BF16)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/int.safetensors', 'w');
-- error: emb_read_safetensors: missing argument 'tensor' (usage: emb_read_safetensors(path, tensor [, tokens]))
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors');
-- error: emb_read_safetensors: tensor must be text (found null)
select count(*) from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', NULL);

-- gguf
-- error: emb_read_gguf: truncated.gguf: tensor 'token_embd.weight' (6 x 8 at offset 0) extends past the end of the file (data starts at byte 672, file has 855 bytes)
select count(*) from emb_read_gguf(:fixtures || '/gguf/truncated.gguf');
-- error: emb_read_gguf: bad_magic.gguf: not a GGUF file (bad magic) (at byte 0)
select count(*) from emb_read_gguf(:fixtures || '/gguf/bad_magic.gguf');
-- error: emb_read_gguf: bad_version.gguf: unsupported version 9 (expected 1, 2 or 3) (at byte 4)
select count(*) from emb_read_gguf(:fixtures || '/gguf/bad_version.gguf');
-- error: emb_read_gguf: offset.gguf: tensor 'token_embd.weight' (6 x 8 at offset 0) extends past the end of the file (data starts at byte 96, file has 100 bytes)
select count(*) from emb_read_gguf(:fixtures || '/gguf/offset.gguf');
select 'gguf-q4_0-zero-block', count(*) = 1, sum(length(vector) = 128) = 1
  from emb_read_gguf(:fixtures || '/gguf/q4.gguf');
-- error: emb_read_gguf: v3.gguf: no tensor 'nope' (available: output_norm.weight, token_embd.weight, tok.f16, tok.bf16)
select count(*) from emb_read_gguf(:fixtures || '/gguf/v3.gguf', 'nope');
-- error: emb_read_gguf: v3.gguf: tensor 'output_norm.weight' is 1-D (expected 2-D)
select count(*) from emb_read_gguf(:fixtures || '/gguf/v3.gguf', 'output_norm.weight');
-- error: emb_read_gguf: tensor must be text (found integer)
select count(*) from emb_read_gguf(:fixtures || '/gguf/v3.gguf', 1);
-- a long tensor list is cut short in the message
-- error: emb_read_gguf: stories260k-f32.gguf: no tensor 'nope' (available: token_embd.weight, blk.0.attn_q.weight, blk.0.attn_k.weight, blk.0.attn_v.weight, blk.0.attn_output.weight, blk.0.ffn_gate.weight, blk.0.ffn_down.weight, blk.0.ffn_up.weight, blk.0.attn_norm.weight, blk.0.ffn_norm.weight, blk.1.attn_q.weight, blk.1.attn_k.weight, blk.1.attn_v.weight, ...)
select count(*) from emb_read_gguf(:data || '/stories260k-f32.gguf', 'nope');

-- word2vec rows are checked as read: a truncated file inside an explicit
-- transaction leaves no partial rows in a plain table
create table t2(token_id, token, vector);
begin;
-- error: emb_read_word2vec: truncated.bin: row 4: needs 12 bytes of values, only 6 left (at byte 85)
insert into t2 select * from emb_read_word2vec(:fixtures || '/word2vec/truncated.bin');
select 'w2v-txn-no-partial', count(*) = 0 from t2;
insert into t2 select * from emb_read_word2vec(:fixtures || '/word2vec/nl.bin');
commit;
select 'w2v-txn-valid', count(*) = 5 from t2;
