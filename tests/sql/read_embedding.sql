-- Readers feeding the embedding virtual table (the main use: INSERT ... SELECT * FROM emb_read_*).
create virtual table wte using embedding(dim=4);
insert into wte(token_id, token, vector) select * from emb_read_text(:fixtures || '/text/glove.txt');
select 'emb-count', count(*) = 6 from wte;
select 'emb-same-vectors', count(*) = 6 from wte w
  join emb_read_text(:fixtures || '/text/glove.txt') r on r.token_id = w.token_id
  where w.vector = r.vector and w.token = r.token;
select 'emb-token-lookup', token_id = 2 from wte where token = '日本';

-- a bad row at line 5: nothing of that file stays, in autocommit and in a transaction
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
insert into wte(token_id, token, vector) select token_id + 100, token || '#', vector from emb_read_text(:fixtures || '/text/ragged.txt');
select 'emb-autocommit-no-partial', count(*) = 6 from wte;
begin;
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
insert into wte(token_id, token, vector) select token_id + 100, token || '#', vector from emb_read_text(:fixtures || '/text/ragged.txt');
select 'emb-txn-no-partial', count(*) = 6 from wte;
commit;

-- GGUF with tokens, npy and safetensors without
create virtual table g using embedding(dim=8);
insert into g select * from emb_read_gguf(:fixtures || '/gguf/v3.gguf', 'tok.f16');
select 'gguf-into-table', count(*) = 6, sum(token is not null) = 6 from g;
select 'gguf-token', token_id = 4 from g where token = 'x y';
create virtual table n using embedding(dim=3);
insert into n(token_id, vector) select token_id, vector from emb_read_npy(:fixtures || '/npy/v2_f8.npy');
select 'npy-into-table', count(*) = 5 from n;
create virtual table s using embedding(dim=3, dtype=bf16);
insert into s(token_id, vector) select token_id, vector from emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', 'wte.bf16');
select 'bf16-roundtrip', count(*) = 4 from s w
  join emb_read_safetensors(:fixtures || '/safetensors/model.safetensors', 'wte.bf16') r using (token_id)
  where w.vector = r.vector;
create virtual table rnd using embedding(dim=16);
insert into rnd(token_id, vector) select token_id, vector from emb_random(100, 16, 3, 0.02);
select 'random-into-table', count(*) = 100 from rnd;
