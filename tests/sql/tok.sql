-- The tokenizer functions (ext/fn_tok.c) on stories260k: the walkthrough,
-- BOS handling, bytes that are not valid UTF-8, storage with the table
-- (a file database reopened), reloading, bad input of every argument.
-- The reference ids (llama.cpp, js-tiktoken) are in tok_llama_ref.sql and
-- tok_gpt2_ref.sql.
create virtual table wte using embedding(dim=64);
insert into wte(token_id, token, vector) select token_id, token, vector from emb_read_gguf(:data || '/stories260k-v3.gguf');
create virtual table bare using embedding(dim=2);
create table plain(x);

-- error: emb_tokenize: table wte has no tokenizer (store one with emb_tokenizer_load('wte', path) from a GGUF file or a tokenizer.json)
select * from emb_tokenize('wte', 'I love dogs');
-- error: emb_tokens_json: table bare has no tokenizer (store one with emb_tokenizer_load('bare', path) from a GGUF file or a tokenizer.json)
select emb_tokens_json('bare', 'x');
-- error: emb_detokenize: no such embedding table: nope
select emb_detokenize('nope', '[1]');
select 'load', emb_tokenizer_load('wte', :data || '/stories260k-v3.gguf') = 512;
select 'shadow-row', (select model || ' ' || source || ' ' || typeof(version) || ' ' || typeof(data) from wte_tokenizer) = 'llama stories260k-v3.gguf integer blob';

-- the walkthrough
-- rows: 6
select 'tok-' || pos, (pos, token_id, token) in (values (0, 359, '▁I'), (1, 401, '▁lo'), (2, 360, 've'),
       (3, 400, '▁do'), (4, 428, 'g'), (5, 419, 's')) from emb_tokenize('wte', 'I love dogs', 0);
select 'bos-default', (select group_concat(token_id) from emb_tokenize('wte', 'I love dogs')) = '1,359,401,360,400,428,419';
select 'bos-named', (select group_concat(token_id) from emb_tokenize where "table" = 'wte' and text = 'I love dogs' and add_bos = 0) = '359,401,360,400,428,419';
select 'json', emb_tokens_json('wte', 'I love dogs', 0) = '[359,401,360,400,428,419]';
select 'json-null-bos', emb_tokens_json('wte', 'I love dogs', null) = '[1,359,401,360,400,428,419]';
select 'detok', emb_detokenize('wte', '[359, 401, 360]') = 'I love';
select 'detok-bos', emb_detokenize('wte', '[1,359,401,360,400,428,419,2]') = 'I love dogs';
select 'detok-empty', emb_detokenize('wte', '[]') = '';
select 'detok-ws', emb_detokenize('wte', ' [ 359 ,401 ] ') = 'I lo';
select 'seq', (select count(*) from emb_sequence('wte', emb_tokens_json('wte', 'I love dogs'), 'rope')) = 7;
select 'empty', emb_tokens_json('wte', '') = '[1]';
select 'empty-nobos', emb_tokens_json('wte', '', 0) = '[]';
-- rows: 0
select * from emb_tokenize('wte', '', 0);
select 'info', emb_tokenizer_info('wte') = '{"model":"llama","format":"gguf","tokens":512,"bos":1,"eos":2,"add_bos":true}';
-- byte fallback: characters the vocabulary lacks become <0xNN> tokens
select 'bytes', emb_tokens_json('wte', '😀', 0) = '[410,243,162,155,131]';
select 'bytes-pieces', (select group_concat(token, ' ') from emb_tokenize('wte', '😀', 0)) = '▁ <0xF0> <0x9F> <0x98> <0x80>';
-- bytes that are not UTF-8 go through as byte tokens and come back
select 'invalid-utf8', emb_tokens_json('wte', cast(x'ff41c3' as text), 0) = '[410,258,68,198]';
select 'invalid-rt', emb_detokenize('wte', emb_tokens_json('wte', cast(x'ff41c3280a80' as text), 0)) = cast(x'ff41c3280a80' as text);
select 'rt-ws', emb_detokenize('wte', emb_tokens_json('wte', '  two  spaces	tab
newline ', 0)) = '  two  spaces	tab
newline ';

-- NULL in, NULL out
select 'null-text', emb_tokens_json('wte', null) is null;
select 'null-ids', emb_detokenize('wte', null) is null;
-- rows: 0
select * from emb_tokenize('wte', null);

-- bad input
-- error: emb_tokenize: text must be text (found integer)
select * from emb_tokenize('wte', 42);
-- error: emb_tokens_json: text must be text (found blob)
select emb_tokens_json('wte', x'41');
-- error: emb_tokens_json: text must be text (found real)
select emb_tokens_json('wte', 1.5);
-- error: emb_tokens_json: table must be the name of an embedding table (found integer)
select emb_tokens_json(1, 'x');
-- error: emb_tokens_json: add_bos must be 0, 1 or NULL (found 2)
select emb_tokens_json('wte', 'x', 2);
-- error: emb_tokenize: add_bos must be 0, 1 or NULL (found yes)
select * from emb_tokenize('wte', 'x', 'yes');
-- error: emb_tokenize: missing argument 'text' (usage: emb_tokenize(table, text [, add_bos]))
select * from emb_tokenize('wte');
-- error: emb_tokenize: no such embedding table: plain
select * from emb_tokenize('plain', 'x');
-- error: emb_detokenize: ids must be a JSON array of integers (found '[1,x]')
select emb_detokenize('wte', '[1,x]');
-- error: emb_detokenize: ids must be a JSON array of integers (found '[1.5]')
select emb_detokenize('wte', '[1.5]');
-- error: emb_detokenize: ids must be a JSON array of integers (found '[1,]')
select emb_detokenize('wte', '[1,]');
-- error: emb_detokenize: ids must be a JSON array of integers (found '359')
select emb_detokenize('wte', 359);
-- error: emb_detokenize: token id 512 at position 1 is out of range (0..511)
select emb_detokenize('wte', '[1, 512]');
-- error: emb_detokenize: token id -1 at position 0 is out of range (0..511)
select emb_detokenize('wte', '[-1]');
-- error: emb_detokenize: token id -2147483648 at position 0 is out of range (0..511)
select emb_detokenize('wte', '[99999999999]');
-- more than EMB_TOK_MAX_TOKENS (1048576) tokens
-- error: emb_tokens_json: the text gives more than 1048576 tokens
select emb_tokens_json('wte', replace(hex(zeroblob(600000)), '0', 'é'));
select 'max-ok', length(emb_tokens_json('wte', replace(hex(zeroblob(100000)), '0', 'é'), 0)) > 200000;
-- loading: files and tables that are wrong
-- error: emb_tokenizer_load: no such embedding table: plain
select emb_tokenizer_load('plain', :data || '/stories260k-v3.gguf');
-- error: emb_tokenizer_load: glove.6B.50d.10k.txt: tok: not a tokenizer (expected a GGUF file or a tokenizer.json object)
select emb_tokenizer_load('bare', :data || '/glove.6B.50d.10k.txt');
-- error: emb_tokenizer_load: no/such/model.gguf: cannot open (No such file or directory)
select emb_tokenizer_load('bare', 'no/such/model.gguf');
-- error: emb_tokenizer_load: path must be text (found null)
select emb_tokenizer_load('bare', null);
select 'bare-still-none', (select count(*) from sqlite_schema where name = 'bare_tokenizer') = 0;
-- a second load replaces the first (here: the GPT-2 tokenizer, then back)
select 'reload-gpt2', emb_tokenizer_load('wte', :data || '/gpt2-r50k-tokenizer.gguf') = 50257;
select 'reload-gpt2-ids', emb_tokens_json('wte', 'I love dogs') = '[40,1842,6844]';
select 'reload-back', emb_tokenizer_load('wte', :data || '/stories260k-v3.gguf') = 512;
select 'reload-back-ids', emb_tokens_json('wte', 'I love dogs', 0) = '[359,401,360,400,428,419]';

-- stored with the table: a file database, closed and opened again
attach :tmp || '/tok_store.db' as f;
drop table if exists f.w;
create virtual table f.w using embedding(dim=64);
select 'file-load', emb_tokenizer_load('f.w', :data || '/stories260k-v3.gguf') = 512;
detach f;
attach :tmp || '/tok_store.db' as f;
select 'file-reopen', emb_tokens_json('f.w', 'I love dogs', 0) = '[359,401,360,400,428,419]';
-- dropping the table drops its tokenizer
drop table f.w;
select 'drop-shadow', (select count(*) from f.sqlite_schema where name = 'w_tokenizer') = 0;
detach f;

-- an unqualified name in an attached database: stored and read there
attach ':memory:' as aux;
create virtual table aux.wa using embedding(dim=2);
select 'aux-load', emb_tokenizer_load('wa', :data || '/stories260k-v3.gguf') = 512;
select 'aux-stored', (select count(*) from aux.wa_tokenizer) = 1;
select 'aux-ids', emb_tokens_json('wa', 'I love dogs', 0) = '[359,401,360,400,428,419]';
select 'aux-qualified', emb_tokens_json('aux.wa', 'I love dogs', 0) = '[359,401,360,400,428,419]';
detach aux;
-- renaming the table takes its tokenizer along
alter table wte rename to wte2;
select 'rename-ids', emb_tokens_json('wte2', 'I love dogs', 0) = '[359,401,360,400,428,419]';
select 'rename-gone', (select count(*) from sqlite_schema where name = 'wte_tokenizer') = 0;
