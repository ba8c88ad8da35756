-- emb_read_gguf on GGUF files written by ggml itself (tests/ref/ggml_ref.py):
-- every tensor type decodes to exactly the f32 rows ggml's dequantize_row_* gave
-- (stored as .npy next to each file), compared as blobs, bit for bit; tokens too.

select 'gguf-f32-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/f32.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/f32.expected.npy') b using (token_id);
select 'gguf-f16-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/f16.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/f16.expected.npy') b using (token_id);
select 'gguf-bf16-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/bf16.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/bf16.expected.npy') b using (token_id);
select 'gguf-q4_0-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q4_0.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_0.expected.npy') b using (token_id);
select 'gguf-q4_1-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q4_1.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_1.expected.npy') b using (token_id);
select 'gguf-q5_0-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q5_0.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q5_0.expected.npy') b using (token_id);
select 'gguf-q5_1-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q5_1.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q5_1.expected.npy') b using (token_id);
select 'gguf-q8_0-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q8_0.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q8_0.expected.npy') b using (token_id);
select 'gguf-q2_k-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q2_k.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q2_k.expected.npy') b using (token_id);
select 'gguf-q3_k-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q3_k.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q3_k.expected.npy') b using (token_id);
select 'gguf-q4_k-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q4_k.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_k.expected.npy') b using (token_id);
select 'gguf-q5_k-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q5_k.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q5_k.expected.npy') b using (token_id);
select 'gguf-q6_k-exact', count(*) = 6, sum(a.vector = b.vector) = 6, sum(length(a.vector) = 1024) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/q6_k.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q6_k.expected.npy') b using (token_id);

select 'gguf-tokens', group_concat(token, '|') = '<unk>|Ġhello|café|▁world|<0x0A>|x'
  from emb_read_gguf(:fixtures || '/gguf/quant/q6_k.gguf');
-- alignment 64 and 256, and version 2, decode like the v3 / alignment 32 file
select 'gguf-align64', sum(a.vector = b.vector) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/align64.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_k.expected.npy') b using (token_id);
select 'gguf-align256', sum(a.vector = b.vector) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/align256.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_k.expected.npy') b using (token_id);
select 'gguf-v2', sum(a.vector = b.vector) = 6
  from emb_read_gguf(:fixtures || '/gguf/quant/v2.gguf') a
  join emb_read_npy(:fixtures || '/gguf/quant/q4_k.expected.npy') b using (token_id);
-- error: emb_read_gguf: bigendian.gguf: big-endian GGUF (version 3 stored byte-swapped) is not supported; expected a little-endian file (at byte 4)
select count(*) from emb_read_gguf(:fixtures || '/gguf/quant/bigendian.gguf');

-- stored into a table: every type is exact in an f32 table; F16 in f16 and BF16 in
-- bf16 tables are exact; quantized values round in f16 / bf16 (q8_0 shown)
create virtual table t32 using embedding(dim=256);
create virtual table t16 using embedding(dim=256, dtype=f16);
create virtual table tb16 using embedding(dim=256, dtype=bf16);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/f32.gguf');
select 'f32-table-f32', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/f32.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/f16.gguf');
select 'f32-table-f16', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/f16.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/bf16.gguf');
select 'f32-table-bf16', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/bf16.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q4_0.gguf');
select 'f32-table-q4_0', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q4_0.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q4_1.gguf');
select 'f32-table-q4_1', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q4_1.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q5_0.gguf');
select 'f32-table-q5_0', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q5_0.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q5_1.gguf');
select 'f32-table-q5_1', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q5_1.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q8_0.gguf');
select 'f32-table-q8_0', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q8_0.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q2_k.gguf');
select 'f32-table-q2_k', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q2_k.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q3_k.gguf');
select 'f32-table-q3_k', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q3_k.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q4_k.gguf');
select 'f32-table-q4_k', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q4_k.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q5_k.gguf');
select 'f32-table-q5_k', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q5_k.expected.npy') b using (token_id);
delete from t32;
insert into t32(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q6_k.gguf');
select 'f32-table-q6_k', count(*) = 6, sum(a.vector = b.vector) = 6 from t32 a join emb_read_npy(:fixtures || '/gguf/quant/q6_k.expected.npy') b using (token_id);
insert into t16(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/f16.gguf');
select 'f16-table-f16', sum(a.vector = b.vector) = 6 from t16 a join emb_read_npy(:fixtures || '/gguf/quant/f16.expected.npy') b using (token_id);
insert into tb16(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/bf16.gguf');
select 'bf16-table-bf16', sum(a.vector = b.vector) = 6 from tb16 a join emb_read_npy(:fixtures || '/gguf/quant/bf16.expected.npy') b using (token_id);
delete from t16;
insert into t16(token_id, token, vector) select * from emb_read_gguf(:fixtures || '/gguf/quant/q8_0.gguf');
select 'f16-table-q8_0-rounds', sum(a.vector <> b.vector) > 0, max(emb_l2(a.vector, b.vector)) < 1e-3
  from t16 a join emb_read_npy(:fixtures || '/gguf/quant/q8_0.expected.npy') b using (token_id);
