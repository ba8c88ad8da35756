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
-- error: emb_tokenize: table plainimp has no tokenizer (store one with emb_tokenizer_load('plainimp', path) from a GGUF file or a tokenizer.json)
select * from emb_tokenize('plainimp', 'I love dogs');
-- reads a file: not from a view
create view v_imp as select emb_import_gguf('w5', 'x') as n;
-- error: unsafe use of emb_import_gguf()
select * from v_imp;
-- the connection's parsed tokenizer (and its word cache) follows the stored
-- row: inside a transaction, after a rollback, after a drop, and after a
-- commit made through another handle on the same file
begin;
select 'txn-gpt2', emb_tokenizer_load('wte', :data || '/gpt2-r50k-tokenizer.gguf') = 50257;
select 'txn-gpt2-ids', emb_tokens_json('wte', 'I love dogs', 0) = '[40,1842,6844]';
rollback;
select 'txn-back', emb_tokens_json('wte', 'I love dogs', 0) = '[359,401,360,400,428,419]';
begin;
drop table wte_tokenizer;
-- error: emb_tokens_json: table wte has no tokenizer (store one with emb_tokenizer_load('wte', path) from a GGUF file or a tokenizer.json)
select emb_tokens_json('wte', 'I love dogs', 0);
rollback;
select 'drop-back', emb_tokens_json('wte', 'I love dogs', 0) = '[359,401,360,400,428,419]';
attach :tmp || '/tok_fresh.db' as f1;
drop table if exists f1.v;
create virtual table f1.v using embedding(dim=1);
select 'f1-load', emb_tokenizer_load('f1.v', :data || '/stories260k-v3.gguf') = 512;
attach :tmp || '/tok_fresh.db' as f2;
select 'f2-llama', emb_tokens_json('f2.v', 'I love dogs', 0) = '[359,401,360,400,428,419]';
select 'f1-gpt2', emb_tokenizer_load('f1.v', :data || '/gpt2-r50k-tokenizer.gguf') = 50257;
select 'f2-gpt2', emb_tokens_json('f2.v', 'I love dogs', 0) = '[40,1842,6844]';
select 'f2-gpt2-again', emb_tokens_json('f2.v', 'I love dogs', 0) = '[40,1842,6844]';
detach f2;
detach f1;
-- invalid UTF-8 (text values may hold any bytes): byte tokens, and back.  As in
-- llama.cpp, a character's length comes from its lead byte: 0xFF starts a
-- 4-byte one, so "\xffA\xc3" is one symbol, no token: three byte tokens
select 'bad-utf8-ids', emb_tokens_json('wte', cast(x'ff41c3' as text), 0) =
       '[' || (select token_id from wte where token = '▁') || ',' ||
       (select token_id from wte where token = '<0xFF>') || ',' ||
       (select token_id from wte where token = '<0x41>') || ',' ||
       (select token_id from wte where token = '<0xC3>') || ']';
select 'bad-utf8-rt-llama', emb_detokenize('wte', emb_tokens_json('wte', cast(x'ff41c3e2809c20c0' as text), 0))
       = cast(x'ff41c3e2809c20c0' as text);
create virtual table g2 using embedding(dim=1);
select 'g2-load', emb_tokenizer_load('g2', :data || '/gpt2-r50k-tokenizer.json') = 50257;
select 'bad-utf8-rt-gpt2', emb_detokenize('g2', emb_tokens_json('g2', cast(x'ff41c3e2809c20c0' as text), 0))
       = cast(x'ff41c3e2809c20c0' as text);
select 'g2-info', emb_tokenizer_info('g2') = '{"model":"gpt2","format":"tokenizer.json","tokens":50257,"bos":-1,"eos":-1,"add_bos":false}';
-- bad input to the functions: NULL gives NULL, other types an error naming the function
select 'null-text', emb_tokens_json('wte', null) is null;
select 'null-ids', emb_detokenize('wte', null) is null;
-- rows: 0
select * from emb_tokenize('wte', null);
-- error: emb_tokens_json: text must be text (found blob)
select emb_tokens_json('wte', x'41');
-- error: emb_tokenize: text must be text (found real)
select * from emb_tokenize('wte', 1.5);
-- error: emb_detokenize: ids must be a JSON array of integers (found '7')
select emb_detokenize('wte', 7);
