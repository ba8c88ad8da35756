-- Functions reading an `embedding` table by name (ext/fn_table.c).
create virtual table wte using embedding(dim=4, chunk_rows=4);
insert into wte(token, vector) values ('a', '[1,0,0,0]'), ('b', '[0,1,0,0]'), ('c', '[1,2,3,4]');
insert into wte(token_id, vector) values (9, '[0,0,0,1]');

-- emb_lookup / emb_token_id
select 'lookup-01', emb_json(emb_lookup('wte', 1)) = '[0,1,0,0]';
select 'lookup-02', emb_lookup('wte', 5) is null;
select 'lookup-03', emb_lookup('wte', -1) is null;
select 'lookup-04', emb_lookup('wte', null) is null;
select 'lookup-05', emb_lookup('main.wte', 2) = (select vector from wte where token_id = 2);
select 'lookup-06', emb_lookup('wte', '9') = emb_vec('[0,0,0,1]');
select 'lookup-07', emb_lookup('wte', 100000) is null;
select 'tokid-01', emb_token_id('wte', 'c') = 2;
select 'tokid-02', emb_token_id('wte', 'zz') is null;
select 'tokid-03', emb_token_id('wte', null) is null;
-- writes are seen by the next call (write-through cache / version check)
update wte set vector = '[5,5,5,5]', token = 'cc' where token_id = 2;
select 'fresh-01', emb_json(emb_lookup('wte', 2)) = '[5,5,5,5]' and emb_token_id('wte', 'cc') = 2 and emb_token_id('wte', 'c') is null;
begin;
delete from wte where token_id = 1;
select 'fresh-02', emb_lookup('wte', 1) is null and emb_token_id('wte', 'b') is null;
rollback;
select 'fresh-03', emb_json(emb_lookup('wte', 1)) = '[0,1,0,0]' and emb_token_id('wte', 'b') = 1;
-- a table not used yet by this connection's statements is connected on demand
create virtual table other using embedding(dim=2, dtype=f16);
insert into other(vector) values ('[0.5,0.25]');
select 'fresh-04', emb_json(emb_lookup('other', 0)) = '[0.5,0.25]';
select 'cache-01', emb_cache_release('other') = 1;
select 'cache-02', emb_cache_release('other') = 0;
select 'cache-03', emb_json(emb_lookup('other', 0)) = '[0.5,0.25]';
select 'cache-04', emb_cache_release('nosuch') = 0;
-- error: emb_lookup: no such embedding table: nosuch
select emb_lookup('nosuch', 1);
create table plain(x);
-- error: emb_token_id: no such embedding table: plain
select emb_token_id('plain', 'a');
-- error: emb_lookup: no such embedding table: temp.wte
select emb_lookup('temp.wte', 1);
-- error: emb_lookup: token_id must be an integer (found text)
select emb_lookup('wte', 'abc');
-- error: emb_lookup: table name must be text (found integer)
select emb_lookup(3, 1);

-- emb_sequence
select 'seq-01', group_concat(pos || ':' || token_id || ':' || batch, ' ') = '0:1:0 1:0:0 2:1:0 3:9:0' from emb_sequence('wte', '[1, 0, 1, 9]');
select 'seq-02', count(*) = 4 and sum(vector = emb_lookup('wte', token_id)) = 4 from emb_sequence('wte', '[1, 0, 1, 9]');
select 'seq-03', group_concat(batch || ':' || pos || ':' || token_id, ' ') = '0:0:0 0:1:1 1:0:9 2:0:2 2:1:2' from emb_sequence('wte', ' [ [0,1] , [9], [2, 2] ] ');
select 'seq-03b', group_concat(batch || ':' || pos, ' ') = '0:0 1:0 0:1' from (select * from emb_sequence('wte', '[[0,1],[9]]') order by pos, batch);
select 'seq-03c', group_concat(batch || ':' || pos, ' ') = '0:0 0:1 1:0' from (select * from emb_sequence('wte', '[[0,1],[9]]') order by batch, pos);
select 'seq-04', count(*) = 0 from emb_sequence('wte', '[]');
select 'seq-05', group_concat(token_id) = '2,1' from emb_sequence('wte', '[2,1]', 'none');
select 'seq-06', group_concat(token_id) = '2,1' from emb_sequence('wte', '[2,1]', null);
select 'seq-07', count(*) = 3 from emb_sequence('wte', '[2,1,0]') s join wte w on w.token_id = s.token_id and w.vector = s.vector;
-- sinusoidal: PE(pos, 2i) = sin(pos / 10000^(2i/4)), PE(pos, 2i+1) = cos(...)
select 'pe-01', emb_json(vector) = '[1,1,0,1]' from emb_sequence('wte', '[0]', 'sinusoidal');
select 'pe-02', emb_l2(vector, emb_add(emb_lookup('wte', 0), json_array(sin(1), cos(1), sin(0.01), cos(0.01)))) < 1e-6
  from emb_sequence('wte', '[1, 0]', 'sinusoidal') where pos = 1;
select 'pe-03', emb_l2(vector, emb_add(emb_lookup('wte', 1), json_array(sin(3), cos(3), sin(0.03), cos(0.03)))) < 1e-6
  from emb_sequence('wte', '[[0], [2, 2, 0, 1]]', 'sinusoidal') where batch = 1 and pos = 3;
-- rope: neox rotates (x0, x2) and (x1, x3); gptj rotates (x0, x1) and (x2, x3)
select 'rope-01', emb_l2(vector, json_array(cos(1), 0, sin(1), 0)) < 1e-6
  from emb_sequence('wte', '[1, 0]', 'rope') where pos = 1;
select 'rope-02', emb_l2(vector, json_array(cos(1), sin(1), 0, 0)) < 1e-6
  from emb_sequence('wte', '[1, 0]', 'rope:gptj') where pos = 1;
select 'rope-03', emb_l2(vector, json_array(cos(2), 0, sin(2), 0)) < 1e-6
  from emb_sequence('wte', '[0, 0, 0]', 'rope:neox') where pos = 2;
select 'rope-04', abs(emb_norm(vector) - emb_norm(emb_lookup('wte', token_id))) < 1e-5 from emb_sequence('wte', '[2, 2, 2, 2, 2]', 'rope');
select 'rope-05', emb_json(vector) = '[0,1,0,0]' from emb_sequence('wte', '[1]', 'rope');
-- errors
-- error: emb_sequence: token_id 99 not in table wte
select * from emb_sequence('wte', '[1, 99, 0]');
-- error: emb_sequence: token_id 5 not in table wte
select * from emb_sequence('wte', '[[1], [5]]');
-- error: emb_sequence: token_id -1 not in table wte
select * from emb_sequence('wte', '[-1]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('wte', '[1, 2.5]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('wte', '[1, 2');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('wte', '[[1], 2]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('wte', 'abc');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('wte', '[1] x');
-- error: emb_sequence: unknown pe 'alibi' (expected none, sinusoidal, rope, rope:neox or rope:gptj)
select * from emb_sequence('wte', '[1]', 'alibi');
-- error: emb_sequence: no such embedding table: nosuch
select * from emb_sequence('nosuch', '[1]');
-- error: emb_sequence: expected arguments (table, ids [, pe])
select * from emb_sequence('wte');
create virtual table odd using embedding(dim=3);
insert into odd(vector) values ('[1,2,3]');
-- error: emb_sequence: rope needs an even dim; table odd has dim 3
select * from emb_sequence('odd', '[0]', 'rope');
select 'odd-01', emb_json(vector) = '[1,3,3]' from emb_sequence('odd', '[0]', 'sinusoidal');
