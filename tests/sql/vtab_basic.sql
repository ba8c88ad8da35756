-- The `embedding` virtual table: options, writes, lookups, scans (ext/vtab_*.c).
-- Query plans are checked in tests/unit/test_vtab_files.c (EXPLAIN QUERY PLAN).

-- create: option errors, exact text
-- error: embedding: missing option dim (e.g. embedding(dim=768))
create virtual table bad using embedding(dtype=f16);
-- error: embedding: missing option dim (e.g. embedding(dim=768))
create virtual table bad using embedding;
-- error: embedding: dim must be an integer in 1..65536 (found 'abc')
create virtual table bad using embedding(dim=abc);
-- error: embedding: dim must be an integer in 1..65536 (found '0')
create virtual table bad using embedding(dim=0);
-- error: embedding: dim must be an integer in 1..65536 (found '65537')
create virtual table bad using embedding(dim=65537);
-- error: embedding: unknown dtype 'f64' (expected f32, f16, bf16 or int8)
create virtual table bad using embedding(dim=4, dtype=f64);
-- error: embedding: unknown metric 'hamming' (expected cosine, dot or l2)
create virtual table bad using embedding(dim=4, metric=hamming);
-- error: embedding: unknown option 'size' (expected dim, dtype, metric, chunk_rows, sketch or layout)
create virtual table bad using embedding(dim=4, size=3);
-- error: embedding: unknown layout 'dense' (expected aligned or packed)
create virtual table bad using embedding(dim=4, layout=dense);
-- error: embedding: option layout given twice
create virtual table bad using embedding(dim=4, layout=packed, layout=aligned);
-- error: embedding: option dim given twice
create virtual table bad using embedding(dim=4, dim=5);
-- error: embedding: option 'dim' needs a value (e.g. dim=768)
create virtual table bad using embedding(dim);
-- error: embedding: chunk_rows must be an integer in 1..4096 (found '0')
create virtual table bad using embedding(dim=4, chunk_rows=0);
select 'create-err-01', count(*) = 0 from sqlite_master;

-- a small table with 2 rows per chunk so that chunk boundaries are exercised
create virtual table wte using embedding(dim = 3, metric = 'l2', chunk_rows = 2);
select 'config-01', (select value from wte_config where key = 'dim') = 3;
select 'config-02', (select value from wte_config where key = 'dtype') = 'f32';
select 'config-03', (select value from wte_config where key = 'metric') = 'l2';
select 'config-04', (select value from wte_config where key = 'chunk_rows') = 2;
select 'config-05', (select typeof(value) from wte_config where key = 'version') = 'integer';
create virtual table dflt using embedding(dim=768);
select 'config-06', (select value from dflt_config where key = 'chunk_rows') = 32;
select 'config-07', (select value from dflt_config where key = 'metric') = 'cosine';
drop table dflt;

-- storage format 2 (ext/vtab_layout.c), 4096-byte pages: a slot is the row,
-- [its int8 scale,] one valid byte; page-aligned slabs of 4092 bytes (one
-- overflow page each) after a pad that fills the record's local part
-- (489 bytes on 4096-byte pages: 7 header bytes + 482)
create virtual table d64 using embedding(dim=64);
create virtual table d768 using embedding(dim=768);
create virtual table p768 using embedding(dim=768, layout=packed);
create virtual table d512 using embedding(dim=512);
create virtual table d3 using embedding(dim=3, chunk_rows=2);
create view lay as select 'd64' t, * from d64_config union all select 'd768', * from d768_config
  union all select 'p768', * from p768_config union all select 'd512', * from d512_config
  union all select 'd3', * from d3_config;
create view lays as select t, group_concat(key || '=' || value, ' ') as v from (select * from lay
  where key in ('format', 'chunk_rows', 'slab_rows', 'slab_bytes', 'pad_bytes', 'chunk_bytes') order by t, key) group by t;
-- 15 slots of 257 bytes per page, 32 pages per chunk
select 'fmt-01', v = 'chunk_bytes=130944 chunk_rows=480 format=2 pad_bytes=482 slab_bytes=4092 slab_rows=15' from lays where t = 'd64';
-- one 3073-byte slot per page (1019 bytes unused, as in a plain table with one such row per page)
select 'fmt-02', v = 'chunk_bytes=130944 chunk_rows=32 format=2 pad_bytes=482 slab_bytes=4092 slab_rows=1' from lays where t = 'd768';
-- packed: slots back to back (98,336 bytes rounded up to 25 overflow pages)
select 'fmt-03', v = 'chunk_bytes=102300 chunk_rows=32 format=2 pad_bytes=482 slab_bytes=3073 slab_rows=1' from lays where t = 'p768';
-- 2049-byte slots would leave half of each page unused: packed by default
-- (32 x 2049 = 65,568 bytes rounded up to 17 overflow pages)
select 'fmt-04', v = 'chunk_bytes=69564 chunk_rows=32 format=2 pad_bytes=482 slab_bytes=2049 slab_rows=1' from lays where t = 'd512';
-- a small chunk stays inside its b-tree leaf: no pad, no alignment
select 'fmt-05', v = 'chunk_bytes=26 chunk_rows=2 format=2 pad_bytes=0 slab_bytes=26 slab_rows=2' from lays where t = 'd3';
insert into p768(token_id, vector) select 40 + value, (select vector from emb_random(1, 768, value)) from json_each('[0,1,2,3,4,5,6,7,8,9]');
insert into d768(token_id, vector) select token_id, vector from p768;
update p768 set vector = emb_scale(vector, 2) where token_id = 45;
update d768 set vector = emb_scale(vector, 2) where token_id = 45;
delete from p768 where token_id in (41, 48);
delete from d768 where token_id in (41, 48);
select 'fmt-06', (select group_concat(token_id || hex(vector)) from p768) = (select group_concat(token_id || hex(vector)) from d768) and (select count(*) from d768) = 8;
select 'fmt-07', emb_cache_release('p768') + emb_cache_release('d768') >= 0 and (select group_concat(token_id || hex(vector)) from p768) = (select group_concat(token_id || hex(vector)) from d768);
drop view lays;
drop view lay;
drop table d64;
drop table d768;
drop table p768;
drop table d512;
drop table d3;

-- inserts: automatic ids (max + 1), explicit ids, JSON and blob vectors
insert into wte(token, vector) values ('the', '[1, 0, 0]'), ('cat', '[0, 1, 0]');
insert into wte(token_id, token, vector) values (5, 'sat', emb_vec('[0, 0, 1]'));
insert into wte(vector) values ('[1, 1, 1]');
insert into wte(rowid, vector) values (9, '[2, 2, 2]');
select 'ins-01', count(*) = 5 from wte;
select 'ins-02', group_concat(token_id) = '0,1,5,6,9' from wte;
select 'ins-03', (select token from wte where token_id = 6) is null;
select 'ins-04', last_insert_rowid() = 9;
select 'ins-05', (select count(*) from wte_chunks) = 4;
select 'ins-06', (select count(*) from wte_tokens) = 3;

-- lookups of every shape
select 'eq-01', emb_json(vector) = '[0,1,0]' from wte where token_id = 1;
-- rows: 0
select * from wte where token_id = 2;
-- rows: 0
select * from wte where token_id = 1000000;
-- rows: 0
select * from wte where token_id = -1;
select 'eq-02', token = 'sat' from wte where rowid = 5;
select 'eq-03', token_id = 5 from wte where token_id = 5.0;
select 'eq-04', token_id = 5 from wte where token_id = '5';
-- rows: 0
select * from wte where token_id = 5.5;
-- rows: 0
select * from wte where token_id = null;
select 'in-01', group_concat(token_id) = '0,5,9' from wte where token_id in (9, 5, 3, 0, 5, 100);
select 'in-02', group_concat(token_id) = '1,6' from wte where token_id in (select 1 union select 6 union select 7);
select 'range-01', group_concat(token_id) = '1,5,6' from wte where token_id between 1 and 6;
select 'range-02', group_concat(token_id) = '5,6,9' from wte where token_id > 1;
select 'range-03', group_concat(token_id) = '6,9' from wte where token_id >= 6;
select 'range-04', group_concat(token_id) = '0,1' from wte where token_id < 5;
select 'range-05', group_concat(token_id) = '0,1,5' from wte where token_id <= 5;
select 'range-06', group_concat(token_id) = '5,6' from wte where token_id > 1.5 and token_id < 8.2;
select 'range-07', count(*) = 0 from wte where token_id > 100;
select 'range-08', count(*) = 0 from wte where token_id < 0;
select 'range-09', count(*) = 0 from wte where token_id > 'abc';
select 'range-10', count(*) = 5 from wte where token_id < 'abc';
select 'range-11', group_concat(token_id) = '5,6' from wte where token_id > 1 and token_id < 9 and token_id <> 7;
select 'tok-01', token_id = 1 from wte where token = 'cat';
-- rows: 0
select * from wte where token = 'dog';
select 'tok-02', count(*) = 1 from wte where token = 'the' and token_id = 0;
select 'tok-03', count(*) = 0 from wte where token = 'the' and token_id = 1;
select 'scan-01', group_concat(token_id) = '0,1,5,6,9' from (select token_id from wte order by token_id);
select 'scan-02', group_concat(token_id) = '9,6,5,1,0' from (select token_id from wte order by token_id desc);
select 'scan-03', group_concat(coalesce(token, '-')) = 'the,cat,sat,-,-' from wte;
select 'scan-04', group_concat(emb_json(vector), ';') = '[1,0,0];[0,1,0];[0,0,1];[1,1,1];[2,2,2]' from wte;
select 'scan-05', count(distance) + count(k) + count(metric) = 0 from wte;
select 'scan-06', group_concat(token_id) = '1,5' from wte where token like '%at';
select 'join-01', group_concat(w.token) = 'cat,sat' from (select 1 as id union all select 5) ids join wte w on w.token_id = ids.id;

-- updates: vector (SGD step), token, token_id
update wte set vector = emb_sub(vector, emb_scale('[0, 10, 0]', 0.01)) where token_id = 1;
select 'upd-01', emb_json(vector) = '[0,0.9,0]' from wte where token_id = 1;
update wte set token = 'kitten' where token_id = 1;
select 'upd-02', token = 'kitten' and emb_json(vector) = '[0,0.9,0]' from wte where token_id = 1;
select 'upd-03', count(*) = 0 from wte where token = 'cat';
update wte set token = null where token_id = 1;
select 'upd-04', token is null from wte where token_id = 1;
select 'upd-05', (select count(*) from wte_tokens where token_id = 1) = 0;
update wte set token = 'cat', token_id = 7 where token_id = 1;
select 'upd-06', group_concat(token_id) = '0,5,6,7,9' from wte;
select 'upd-07', token = 'cat' and emb_json(vector) = '[0,0.9,0]' from wte where token_id = 7;
update wte set token_id = 1 where token = 'cat';
select 'upd-08', token_id = 1 from wte where token = 'cat';
update wte set vector = emb_scale(vector, 2) where token_id >= 6;
select 'upd-09', group_concat(emb_json(vector), ';') = '[2,2,2];[4,4,4]' from wte where token_id >= 6;
update wte set rowid = 2 where token_id = 6;
select 'upd-10', group_concat(token_id) = '0,1,2,5,9' from wte;
-- the same read back from the shadow tables (not this connection's copy)
create table seen as select token_id, token, emb_json(vector) as v from wte;
select 'upd-11', emb_cache_release('wte') = 1;
select 'upd-12', (select count(*) from (select token_id, token, emb_json(vector) from wte except select * from seen)) = 0 and (select count(*) from wte) = 5;

-- conflicts
-- error: embedding wte: token_id 5 already exists
insert into wte(token_id, vector) values (5, '[0, 0, 0]');
insert or ignore into wte(token_id, token, vector) values (5, 'zzz', '[0, 0, 0]');
select 'conf-01', token = 'sat' and emb_json(vector) = '[0,0,1]' from wte where token_id = 5;
insert or replace into wte(token_id, token, vector) values (5, 'sits', '[0, 0, 3]');
select 'conf-02', token = 'sits' and emb_json(vector) = '[0,0,3]' from wte where token_id = 5;
select 'conf-03', (select count(*) from wte_tokens where token = 'sat') = 0;
insert or replace into wte(token_id, vector) values (5, '[0, 0, 4]');
select 'conf-04', token is null from wte where token_id = 5;
-- error: embedding wte: token 'the' already exists (token_id 0)
insert into wte(token, vector) values ('the', '[0, 0, 0]');
-- error: embedding wte: token 'the' already exists (token_id 0)
insert or replace into wte(token_id, token, vector) values (5, 'the', '[0, 0, 0]');
-- error: embedding wte: token 'the' already exists (token_id 0)
update wte set token = 'the' where token_id = 1;
-- error: embedding wte: token_id 0 already exists
update wte set token_id = 0 where token_id = 1;
update or replace wte set token_id = 0 where token_id = 9;
select 'conf-05', group_concat(token_id) = '0,1,2,5' and (select emb_json(vector) from wte where token_id = 0) = '[4,4,4]' from wte;
select 'conf-06', (select count(*) from wte_tokens where token = 'the') = 0;

-- bad values: exact messages, table unchanged
-- error: embedding wte: vector has 2 values; table wte has dim 3
insert into wte(vector) values ('[1, 2]');
-- error: embedding wte: vector element 1 is NaN (expected a finite float)
insert into wte(vector) values (x'0000803f0000c07f00000000');
-- error: embedding wte: vector element 2 is inf (expected a finite float)
insert into wte(vector) values (x'0000803f000000000000807f');
-- error: embedding wte: vector must not be NULL
insert into wte(token, vector) values ('x', null);
-- error: embedding wte: expected a vector (f32 blob or JSON text), found integer
insert into wte(vector) values (3);
-- error: embedding wte: blob length 5 is not a multiple of 4
insert into wte(vector) values (x'0000000000');
-- error: embedding wte: invalid JSON vector: expected a number at offset 1 (found 'a')
insert into wte(vector) values ('[a]');
-- error: embedding wte: token must be text (found integer)
insert into wte(token, vector) values (12, '[1, 2, 3]');
-- error: embedding wte: token_id -1 is negative
insert into wte(token_id, vector) values (-1, '[1, 2, 3]');
-- error: embedding wte: token_id 16777216 exceeds the maximum 16777215
insert into wte(token_id, vector) values (16777216, '[1, 2, 3]');
-- error: embedding wte: token_id must be an integer (found text)
insert into wte(token_id, vector) values ('seven', '[1, 2, 3]');
-- error: embedding wte: token_id must be an integer (found real)
insert into wte(token_id, vector) values (1.5, '[1, 2, 3]');
-- error: embedding wte: rowid and token_id differ (3 vs 4)
insert into wte(rowid, token_id, vector) values (3, 4, '[1, 2, 3]');
-- error: embedding wte: vector has 4 values; table wte has dim 3
update wte set vector = '[1, 2, 3, 4]' where token_id = 0;
-- error: embedding wte: token_id -3 is negative
update wte set token_id = -3 where token_id = 0;
select 'bad-01', group_concat(token_id) = '0,1,2,5' from wte;
select 'bad-02', (select emb_json(vector) from wte where token_id = 0) = '[4,4,4]';
insert into wte(token_id, vector) values (16777215, '[1, 2, 3]');
select 'maxid-01', emb_json(vector) = '[1,2,3]' from wte where token_id = 16777215;
delete from wte where token_id = 16777215;

-- deletes; emptied chunks are removed
delete from wte where token_id = 1;
select 'del-01', group_concat(token_id) = '0,2,5' from wte;
select 'del-02', (select count(*) from wte_tokens where token_id = 1) = 0;
delete from wte where token_id = 1;
delete from wte where token_id > 1;
select 'del-03', group_concat(token_id) = '0' from wte;
select 'del-04', (select group_concat(chunk_id) from wte_chunks) = '0';
delete from wte;
select 'del-05', count(*) = 0 from wte;
select 'del-06', (select count(*) from wte_chunks) + (select count(*) from wte_tokens) = 0;
insert into wte(vector) values ('[1, 1, 1]');
select 'del-07', token_id = 0 from wte;

-- the version changes with every write transaction
create table v(x);
insert into v select value from wte_config where key = 'version';
insert into wte(vector) values ('[1, 2, 3]');
select 'ver-01', (select value from wte_config where key = 'version') <> (select x from v);
delete from v;
insert into v select value from wte_config where key = 'version';
select 'ver-pre', count(*) = 2 from wte;
select 'ver-02', (select value from wte_config where key = 'version') = (select x from v);

-- shadow tables are protected from direct writes when defensive... and listed
select 'shadow-01', (select count(*) from sqlite_master where name like 'wte\_%' escape '\' and type = 'table') = 3;

-- a cache above 8 MB (its vector array is advised onto huge pages and grows
-- by copy, not realloc): grown by write-through from empty, then reloaded
create virtual table big using embedding(dim=512);
create table bigsrc as select token_id, vector from emb_random(6000, 512, 5);
select 'big-00', count(*) = 0 from big where vector match (select vector from bigsrc where token_id = 0) and k = 1;
insert into big(token_id, vector) select token_id, vector from bigsrc where token_id < 3000;
insert into big(token_id, vector) select token_id, vector from bigsrc where token_id >= 3000;
select 'big-01', count(*) = 6000 from big join bigsrc using (token_id) where big.vector = bigsrc.vector;
select 'big-03', (select token_id from big where vector match (select vector from bigsrc where token_id = 4321) and k = 1) = 4321;
select 'big-04', emb_cache_release('big') = 1;
select 'big-05', (select token_id from big where vector match (select vector from bigsrc where token_id = 5999) and k = 1) = 5999;
select 'big-06', count(*) = 6000 from big join bigsrc using (token_id) where big.vector = bigsrc.vector;
drop table big;
drop table bigsrc;
