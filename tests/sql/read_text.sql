-- emb_read_text and the shared table-valued-function behaviour (ext/tvf_read.c).
-- Values of every text fixture are checked against numpy in read_values_text.sql.

select 'glove-count', count(*) = 10000, min(token_id) = 0, max(token_id) = 9999
  from emb_read_text(:data || '/glove.6B.50d.10k.txt');
select 'glove-first', token = 'the', length(vector) = 200,
       emb_json(vector) like '[0.418,0.24968,-0.41242,%'
  from emb_read_text(:data || '/glove.6B.50d.10k.txt') where token_id = 0;
select 'w2v-header', count(*) = 11925, sum(length(vector) = 100) = 11925
  from emb_read_text(:data || '/glove-twitter-25d-11925.txt');
select 'w2v-300', count(*) = 257, min(length(vector)) = 1200
  from emb_read_text(:data || '/googlenews-w2v-257x300.txt');
select 'columns', (select group_concat(name, ',') from pragma_table_info('emb_read_text')) = 'token_id,token,vector';
select 'star-3-cols', count(*) = 6 from (select * from emb_read_text(:fixtures || '/text/glove.txt'));
select 'utf8-token', token = '日本' from emb_read_text(:fixtures || '/text/glove.txt') where token_id = 2;

-- errors: exact text, with the line number
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
select count(*) from emb_read_text(:fixtures || '/text/ragged.txt');
-- error: emb_read_text: ragged_long.txt: expected 4 values, found 5 (line 3)
select count(*) from emb_read_text(:fixtures || '/text/ragged_long.txt');
-- error: emb_read_text: nan.txt: value 3 is not a number 'abc' (line 3)
select count(*) from emb_read_text(:fixtures || '/text/nan.txt');
-- error: emb_read_text: overflow.txt: value 4 '1e39' is out of float32 range (line 1)
select count(*) from emb_read_text(:fixtures || '/text/overflow.txt');
-- error: emb_read_text: badutf8.txt: token is not valid UTF-8 (line 2)
select count(*) from emb_read_text(:fixtures || '/text/badutf8.txt');
-- error: emb_read_text: notoken.txt: first row has a token but no values (line 1)
select count(*) from emb_read_text(:fixtures || '/text/notoken.txt');
-- error: emb_read_text: header_rows.vec: header says 7 rows, file has 6 (line 7)
select count(*) from emb_read_text(:fixtures || '/text/header_rows.vec');
-- error: emb_read_text: header_dim.vec: expected 5 values, found 4 (line 2)
select count(*) from emb_read_text(:fixtures || '/text/header_dim.vec');
-- error: emb_read_text: tests/fixtures/text/empty.txt: file is empty
select count(*) from emb_read_text('tests/fixtures/text/empty.txt');
-- error: emb_read_text: blank.txt: no rows (line 3)
select count(*) from emb_read_text(:fixtures || '/text/blank.txt');
-- error: emb_read_text: no/such/missing.txt: cannot open (No such file or directory)
select count(*) from emb_read_text('no/such/missing.txt');
-- error: emb_read_text: tests/fixtures/text: cannot read (Is a directory)
select count(*) from emb_read_text('tests/fixtures/text');
-- error: emb_read_text: missing argument 'path' (usage: emb_read_text(path))
select count(*) from emb_read_text();
-- error: emb_read_text: path must be text (found null)
select count(*) from emb_read_text(NULL);
-- the path may come from another table (a join: the shared TVF planner
-- orders the scan so the argument is known when the file is opened)
select 'path-from-join', sum(r.token_id = 0 and r.token = 'the') = 2, count(*) = 20000
  from (select :data || '/glove.6B.50d.10k.txt' as p union all
        select :data || '/glove.6B.50d.10k.txt') f, emb_read_text(f.p) r;
select 'rowid-is-token-id', min(rowid) = 0, max(rowid) = 256
  from emb_read_text(:data || '/googlenews-w2v-257x300.txt');
-- error: emb_read_text: missing argument 'path' (usage: emb_read_text(path))
select count(*) from emb_read_text where token_id = 0;
-- error: emb_read_text: path must be text (found integer)
select count(*) from emb_read_text(42);

create table t(token_id, token, vector);

-- a failing INSERT ... SELECT leaves no partial rows (statement rollback)
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
insert into t(token_id, token, vector) select * from emb_read_text(:fixtures || '/text/ragged.txt');
select 'rollback-empty', count(*) = 0 from t;
begin;
insert into t values (-1, 'keep', x'');
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
insert into t(token_id, token, vector) select * from emb_read_text(:fixtures || '/text/ragged.txt');
select 'rollback-in-txn', count(*) = 1 from t;
-- a valid file inside a transaction: validated first, then every row inserted
insert into t(token_id, token, vector) select * from emb_read_text(:fixtures || '/text/crlf.txt');
select 'txn-valid', count(*) = 7 from t;
delete from t where token_id >= 0;
commit;
select 'rollback-keeps-earlier', count(*) = 1, max(token) = 'keep' from t;
insert into t(token_id, token, vector) select * from emb_read_text(:fixtures || '/text/glove.txt');
select 'insert-select', count(*) = 7 from t;

-- DIRECTONLY: not usable from views or triggers of the schema
create view v_read as select * from emb_read_text('x.txt');
-- error: unsafe use of virtual table "emb_read_text"
select * from v_read;
create table log(x);
create trigger trg after insert on log begin
  insert into t select * from emb_read_text('x.txt');
end;
-- error: unsafe use of virtual table "emb_read_text"
insert into log values (1);
create view v_npy as select * from emb_read_npy('x.npy');
-- error: unsafe use of virtual table "emb_read_npy"
select * from v_npy;

-- emb_random: reproducible, N(0, std^2), INNOCUOUS (views may use it)
select 'random-count', count(*) = 100, sum(length(vector) = 32) = 100 from emb_random(100, 8);
select 'random-same-seed', (select group_concat(hex(vector)) from emb_random(5, 4, 7))
                         = (select group_concat(hex(vector)) from emb_random(5, 4, 7));
select 'random-default-seed', (select group_concat(hex(vector)) from emb_random(5, 4))
                            = (select group_concat(hex(vector)) from emb_random(5, 4, 42));
select 'random-other-seed', (select group_concat(hex(vector)) from emb_random(5, 4, 7))
                          != (select group_concat(hex(vector)) from emb_random(5, 4, 8));
select 'random-token-null', count(*) = 3, sum(token is null) = 3 from emb_random(3, 2);
select 'random-zero-rows', count(*) = 0 from emb_random(0, 2);
-- exact values for fixed seeds vs a Python implementation: read_values_random.sql
select 'random-scaled', (select hex(emb_scale(vector, 0.5)) from emb_random(1, 6, 3))
                      = (select hex(vector) from emb_random(1, 6, 3, 0.5));
create view v_rand as select * from emb_random(2, 3, 1);
select 'random-in-view', count(*) = 2 from v_rand;
-- error: emb_random: dim out of range (1..65536 vs 0)
select * from emb_random(3, 0);
-- error: emb_random: rows must be >= 0 (found -1)
select * from emb_random(-1, 3);
-- error: emb_random: std must be a finite number >= 0 (found -1)
select * from emb_random(1, 3, 1, -1.0);
-- error: emb_random: rows must be an integer (found text)
select * from emb_random('a', 3);
-- error: emb_random: missing argument 'dim' (usage: emb_random(rows, dim [, seed [, std]]))
select * from emb_random(3);
