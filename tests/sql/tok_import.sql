-- emb_import_gguf (ext/fn_import.c): rows and tokenizer in one call.
select 'imp-rows', emb_import_gguf('wte', :data || '/stories260k-v3.gguf') = 512;
select 'imp-count', (select count(*) from wte) = 512;
select 'imp-dim', (select emb_dims(vector) from wte where token_id = 0) = 64;
select 'imp-same-rows', (select count(*) from wte w join emb_read_gguf(:data || '/stories260k-v3.gguf') r
                         on r.token_id = w.token_id and r.token is w.token and r.vector = w.vector) = 512;
select 'imp-tok', emb_tokens_json('wte', 'I love dogs') = '[1,359,401,360,400,428,419]';
select 'imp-info', emb_tokenizer_info('wte') = '{"model":"llama","format":"gguf","tokens":512,"bos":1,"eos":2,"add_bos":true}';
select 'imp-seq', (select count(*) from emb_sequence('wte', emb_tokens_json('wte', 'I love dogs'), 'rope')) = 7;
-- an existing table keeps its options and gets the rows
create virtual table half using embedding(dim=64, dtype=f16);
select 'imp-existing', emb_import_gguf('half', :data || '/stories260k-f32.gguf', 'token_embd.weight') = 512;
select 'imp-existing-tok', emb_tokens_json('half', 'I love dogs', 0) = '[359,401,360,400,428,419]';
-- a schema-qualified name
attach ':memory:' as aux;
select 'imp-aux', emb_import_gguf('aux.wte2', :data || '/stories260k-v3.gguf') = 512;
select 'imp-aux-tok', emb_tokens_json('aux.wte2', 'I love dogs', 0) = '[359,401,360,400,428,419]';
select 'imp-aux-where', (select count(*) from aux.sqlite_schema where name in ('wte2', 'wte2_tokenizer')) = 2;
-- a failed import leaves no table behind
-- error: emb_import_gguf: emb_read_gguf: no/such/dir/nosuch.gguf: cannot open (No such file or directory)
select emb_import_gguf('w2', 'no/such/dir/nosuch.gguf');
select 'imp-none-left', (select count(*) from sqlite_schema where name like 'w2%') = 0;
-- error: emb_import_gguf: emb_read_gguf: gpt2-r50k-tokenizer.gguf: no tensor 'token_embd.weight' (available: none)
select emb_import_gguf('w3', :data || '/gpt2-r50k-tokenizer.gguf');
select 'imp-none-left-2', (select count(*) from sqlite_schema where name like 'w3%') = 0;
-- error: emb_import_gguf: table must be text (found integer)
select emb_import_gguf(1, 'x');
-- error: emb_import_gguf: path must be text (found null)
select emb_import_gguf('w4', null);
-- error: emb_import_gguf: tensor must be text (found integer)
select emb_import_gguf('w4', 'x', 3);
-- the plain INSERT ... SELECT form stores no tokenizer: the error says what to do
create virtual table plainimp using embedding(dim=64);
insert into plainimp(token_id, token, vector) select * from emb_read_gguf(:data || '/stories260k-v3.gguf');
-- error: emb_tokenize: table plainimp has no tokenizer (store one with emb_tokenizer_load('plainimp', 'model.gguf'))
select * from emb_tokenize('plainimp', 'I love dogs');
-- reads a file: not from a view
create view v_imp as select emb_import_gguf('w5', 'x') as n;
-- error: unsafe use of emb_import_gguf()
select * from v_imp;
