-- Transactions, savepoints, statement rollback, DROP and RENAME of the
-- `embedding` table.  `snap` keeps a copy of the matrix to compare with.

create virtual table wte using embedding(dim=2, chunk_rows=2, dtype=bf16);
insert into wte(token, vector) values ('a', '[1,0]'), ('b', '[0,1]'), ('c', '[1,1]');
create table snap as select token_id, token, vector from wte;
create view diff as
  select count(*) as n from (
    select token_id, token, vector from wte except select token_id, token, vector from snap
    union all
    select token_id, token, vector from snap except select token_id, token, vector from wte);

-- a multi-row INSERT whose 3rd row fails leaves the table unchanged (autocommit)
-- error: embedding wte: token 'a' already exists (token_id 0)
insert into wte(token, vector) values ('d', '[1,0]'), ('e', '[0,1]'), ('a', '[1,1]');
select 'stmt-01', (select n from diff) = 0 and (select count(*) from wte) = 3;
-- error: embedding wte: vector has 3 values; table wte has dim 2
insert into wte(token, vector) select 'x' || value, case when value = 3 then '[1,2,3]' else '[1,2]' end from json_each('[1,2,3,4]');
select 'stmt-02', (select n from diff) = 0;
-- the same inside a transaction: only the failing statement is undone
begin;
insert into wte(token, vector) values ('d', '[2,0]');
-- error: embedding wte: token 'b' already exists (token_id 1)
insert into wte(token, vector) values ('e', '[1,0]'), ('f', '[0,1]'), ('b', '[1,1]');
select 'stmt-03', group_concat(coalesce(token, '-')) = 'a,b,c,d' from wte;
-- error: embedding wte: token_id 1 already exists
update wte set token_id = token_id + 1 where token_id >= 0;
select 'stmt-04', group_concat(token_id) = '0,1,2,3' from wte;
commit;
select 'stmt-05', group_concat(coalesce(token, '-')) = 'a,b,c,d' from wte;
delete from wte where token = 'd';
select 'stmt-06', (select n from diff) = 0;

-- ROLLBACK restores the matrix exactly, including the cache seen by KNN
begin;
insert into wte(token, vector) values ('z', '[5,5]');
update wte set vector = '[-1,-1]', token = 'aa' where token_id = 0;
delete from wte where token_id = 1;
select 'rb-01', group_concat(token_id) = '0,2,3' from wte;
select 'rb-02', group_concat(token_id) = '0,2' from wte where vector match '[-1,-1]' and k = 2 and metric = 'l2';
rollback;
select 'rb-03', (select n from diff) = 0;
select 'rb-04', group_concat(token_id) = '0,2' from wte where vector match '[1,0]' and k = 2;
select 'rb-05', (select count(*) from wte_tokens) = 3;
select 'rb-06', token_id = 0 from wte where token = 'a';
-- many rows across chunks, then rollback
begin;
insert into wte(vector) select emb_vec(json_array(value, -value)) from json_each('[1,2,3,4,5,6,7,8,9,10,11,12,13]');
select 'rb-07', count(*) = 16 from wte;
select 'rb-08', max(token_id) = 15 from wte;
rollback;
select 'rb-09', (select n from diff) = 0 and (select count(*) from wte_chunks) = 2;

-- savepoints
begin;
insert into wte(token, vector) values ('s1', '[1,2]');
savepoint one;
insert into wte(token, vector) values ('s2', '[2,2]');
update wte set vector = '[9,9]' where token_id = 0;
savepoint two;
delete from wte where token_id = 2;
select 'sp-01', group_concat(token) = 'a,b,s1,s2' from wte;
rollback to two;
select 'sp-02', group_concat(token) = 'a,b,c,s1,s2' from wte;
select 'sp-03', emb_json(vector) = '[9,9]' from wte where token_id = 0;
rollback to one;
select 'sp-04', group_concat(token) = 'a,b,c,s1' from wte;
select 'sp-05', emb_json(vector) = '[1,0]' from wte where token_id = 0;
insert into wte(token, vector) values ('s3', '[3,3]');
release one;
select 'sp-06', group_concat(token) = 'a,b,c,s1,s3' from wte;
select 'sp-07', token_id = 4 from wte where token = 's3';
commit;
select 'sp-08', group_concat(token) = 'a,b,c,s1,s3' from wte;
delete from wte where token_id >= 3;
select 'sp-09', (select n from diff) = 0;

-- DROP removes the shadow tables; RENAME renames them
create virtual table other using embedding(dim=2);
insert into other(vector) values ('[1,2]');
-- error: embedding other: invalid JSON vector: expected a number at offset 1 (found 'a')
insert into other(vector) values ('[a]');
alter table other rename to renamed;
-- error: embedding renamed: invalid JSON vector: expected a number at offset 1 (found 'a')
insert into renamed(vector) values ('[a]');
select 'ren-01', (select group_concat(name) from (select name from sqlite_master where type = 'table' and name like 'renamed%' order by name)) = 'renamed,renamed_chunks,renamed_config,renamed_tokens';
select 'ren-02', (select count(*) from sqlite_master where name like 'other%') = 0;
select 'ren-03', emb_json(vector) = '[1,2]' from renamed where token_id = 0;
insert into renamed(vector) values ('[3,4]');
select 'ren-04', count(*) = 2 from renamed;
drop table renamed;
select 'drop-01', (select count(*) from sqlite_master where name like 'renamed%') = 0;
drop table wte;
select 'drop-02', (select count(*) from sqlite_master where name like 'wte%') = 0;

-- in-place overwrites (a row of a chunk that is not in the write buffer),
-- checked against the stored data: emb_cache_release forces a reload
create virtual table ip using embedding(dim=2, chunk_rows=2, dtype=int8);
insert into ip(token, vector) values ('a', '[1,0]'), ('b', '[0,1]'), ('c', '[1,1]'), ('d', '[2,1]'), ('e', '[4,4]');
create table ipsnap as select token_id, token, vector from ip;
update ip set vector = '[0.5,-0.25]' where token_id = 1;
update ip set token = 'dd' where token_id = 3;
update ip set vector = '[3,3]' where token_id = 0;
select 'ip-00', emb_cache_release('ip') = 1;
select 'ip-01', emb_l2(vector, '[0.5,-0.25]') < 0.003 from ip where token_id = 1;
select 'ip-02', token = 'dd' and vector = (select vector from ipsnap where token_id = 3) from ip where token_id = 3;
select 'ip-03', emb_json(vector) = '[3,3]' from ip where token_id = 0;
select 'ip-04', group_concat(token) = 'a,b,c,dd,e' from ip;
begin;
update ip set vector = '[9,9]' where token_id = 0;
update ip set vector = '[7,7]' where token_id = 4;
update ip set vector = '[5,5]' where token_id = 2;
rollback;
select 'ip-05', emb_cache_release('ip') in (0, 1);
select 'ip-06', group_concat(emb_json(vector), ';') = '[3,3];[1,1];[4,4]' from ip where token_id in (0, 4, 2);
-- a multi-row UPDATE failing on its 2nd row after an in-place write: unchanged
-- error: embedding ip: vector has 3 values; table ip has dim 2
update ip set vector = case when token_id = 2 then '[1,2,3]' else '[6,6]' end where token_id in (0, 2, 4);
select 'ip-07', emb_cache_release('ip') in (0, 1);
select 'ip-08', group_concat(emb_json(vector), ';') = '[3,3];[1,1];[4,4]' from ip where token_id in (0, 2, 4);
-- the same inside a transaction (statement rollback; row 0 is written in place)
begin;
update ip set vector = '[8,8]' where token_id = 4;
-- error: embedding ip: vector has 3 values; table ip has dim 2
update ip set vector = case when token_id = 2 then '[1,2,3]' else '[6,6]' end where token_id in (0, 2);
commit;
select 'ip-09', emb_cache_release('ip') in (0, 1);
select 'ip-10', group_concat(emb_json(vector), ';') = '[3,3];[1,1];[8,8]' from ip where token_id in (0, 2, 4);
-- sequential overwrites of many rows go through the buffer
update ip set vector = emb_scale(vector, 2);
select 'ip-11', emb_cache_release('ip') in (0, 1);
select 'ip-12', group_concat(emb_json(vector), ';') = '[6,6];[2,2];[16,16]' from ip where token_id in (0, 2, 4);

-- token writes in the middle of a chunk: xUpdate's own shadow-table
-- statements open savepoints of their own (here: the trigger makes the token
-- INSERT a multi-write statement); the chunk buffer is not flushed for them,
-- so ROLLBACK TO, statement rollback and a failing token write must still
-- keep exactly the rows written before them.  emb_cache_release forces a
-- reload from storage.
create virtual table tk using embedding(dim=2, chunk_rows=8);
insert into tk(token, vector) values ('a', '[1,0]'), ('b', '[0,1]');
create trigger tk_boom before insert on tk_tokens when new.token like 'boom%'
  begin select raise(abort, 'boom'); end;
begin;
insert into tk(token, vector) values ('c', '[1,1]');
savepoint s;
insert into tk(token, vector) select 'x' || value, emb_vec(json_array(value, 0)) from json_each('[1,2,3]');
select 'tk-01', group_concat(token) = 'a,b,c,x1,x2,x3' from tk;
rollback to s;
select 'tk-02', group_concat(token) = 'a,b,c' from tk;
select 'tk-03', (select group_concat(token) from (select token from tk_tokens order by token_id)) = 'a,b,c';
insert into tk(token, vector) values ('x1', '[5,5]');
select 'tk-04', token_id = 3 from tk where token = 'x1';
-- error: embedding tk: token 'b' already exists (token_id 1)
insert into tk(token, vector) values ('y1', '[1,0]'), ('y2', '[0,1]'), ('b', '[1,1]');
select 'tk-05', group_concat(token) = 'a,b,c,x1' from tk;
-- a single-row INSERT has no statement journal: its failing token write must
-- not drop the buffered rows before it (row 'e' is only in the buffer)
insert into tk(token, vector) values ('e', '[4,4]');
-- error: embedding tk: boom
insert into tk(token, vector) values ('boom', '[3,4]');
select 'tk-06', group_concat(token) = 'a,b,c,x1,e' from tk;
-- error: embedding tk: boom
insert into tk(token, vector) values ('q1', '[1,1]'), ('boom2', '[2,2]'), ('q2', '[3,3]');
select 'tk-07', group_concat(token) = 'a,b,c,x1,e' from tk;
insert into tk(token, vector) values ('d', '[2,1]');
commit;
select 'tk-08', emb_cache_release('tk') in (0, 1);
select 'tk-09', group_concat(token_id || ':' || token || '=' || emb_json(vector), ' ') = '0:a=[1,0] 1:b=[0,1] 2:c=[1,1] 3:x1=[5,5] 4:e=[4,4] 5:d=[2,1]' from tk;
select 'tk-10', (select group_concat(token_id || token) from (select * from tk_tokens order by token_id)) = '0a,1b,2c,3x1,4e,5d';
select 'tk-11', token_id = 2 from tk where vector match '[1,1]' and k = 1 and metric = 'l2';
-- the same failures in autocommit mode leave the table unchanged
-- error: embedding tk: boom
insert into tk(token, vector) values ('boom', '[3,4]');
-- error: embedding tk: boom
insert into tk(token, vector) values ('q1', '[1,1]'), ('boom2', '[2,2]');
select 'tk-12', emb_cache_release('tk') in (0, 1);
select 'tk-13', group_concat(token) = 'a,b,c,x1,e,d' and count(*) = 6 from tk;
-- token of an existing row replaced (upsert on token_id), then rolled back
begin;
update tk set token = 'cc' where token_id = 2;
insert or replace into tk(token_id, token, vector) values (3, 'x9', '[6,6]');
select 'tk-14', group_concat(token) = 'a,b,cc,x9,e,d' from tk;
select 'tk-15', (select group_concat(token) from (select token from tk_tokens order by token_id)) = 'a,b,cc,x9,e,d';
rollback;
select 'tk-16', (select group_concat(token) from (select token from tk_tokens order by token_id)) = 'a,b,c,x1,e,d';
select 'tk-17', emb_json(vector) = '[5,5]' from tk where token = 'x1';
drop table tk;
-- token uniqueness of an INSERT into a free token_id (checked by the UNIQUE
-- index of the token write): against committed rows, rows of the same
-- statement, of the same transaction, after ROLLBACK / ROLLBACK TO, with a
-- warm and a cold cache, OR IGNORE, and the message when the id is taken too
create virtual table tu using embedding(dim=2);
insert into tu(token, vector) values ('p', '[1,0]'), ('q', '[0,1]');
select 'tu-01', emb_token_id('tu', 'q') = 1;
-- error: embedding tu: token 'p' already exists (token_id 0)
insert into tu(token, vector) values ('p', '[1,1]');
-- error: embedding tu: token 'r' already exists (token_id 2)
insert into tu(token, vector) values ('r', '[1,1]'), ('s', '[2,2]'), ('r', '[3,3]');
select 'tu-02', group_concat(token) = 'p,q' and count(*) = 2 from tu;
select 'tu-03', emb_token_id('tu', 'r') is null and emb_token_id('tu', 'p') = 0;
select 'tu-04', (select group_concat(token) from (select token from tu_tokens order by token_id)) = 'p,q';
-- error: embedding tu: token 'q' already exists (token_id 1)
insert into tu(token_id, token, vector) values (7, 'q', '[1,1]');
select 'tu-05', max(token_id) = 1 from tu;
begin;
insert into tu(token, vector) values ('r', '[1,1]');
-- error: embedding tu: token 'r' already exists (token_id 2)
insert into tu(token, vector) values ('r', '[2,2]');
-- error: embedding tu: token 'r' already exists (token_id 2)
insert into tu(token, vector) values ('t', '[2,2]'), ('r', '[2,2]');
select 'tu-06', group_concat(token) = 'p,q,r' from tu;
savepoint a;
insert into tu(token, vector) values ('s', '[3,3]');
rollback to a;
insert into tu(token, vector) values ('s', '[4,4]');
select 'tu-07', token_id = 3 and emb_json(vector) = '[4,4]' from tu where token = 's';
rollback;
select 'tu-08', group_concat(token) = 'p,q' from tu;
insert into tu(token, vector) values ('r', '[5,5]'), ('s', '[6,6]');
select 'tu-09', group_concat(token_id || token) = '0p,1q,2r,3s' from tu;
select 'tu-10', emb_token_id('tu', 's') = 3;
-- a deleted row's token is free again, in the same statement too
delete from tu where token = 'q';
insert into tu(token, vector) values ('q', '[7,7]');
select 'tu-11', token_id = 4 from tu where token = 'q';
-- OR IGNORE skips the duplicate, keeps the others
insert or ignore into tu(token, vector) values ('u', '[1,2]'), ('p', '[2,1]'), ('v', '[2,2]');
select 'tu-12', group_concat(token_id || token) = '0p,2r,3s,4q,5u,6v' from tu;
select 'tu-13', emb_json(vector) = '[1,0]' from tu where token = 'p';
-- the token error comes first when the token_id is taken as well
-- error: embedding tu: token 'r' already exists (token_id 2)
insert into tu(token_id, token, vector) values (0, 'r', '[1,1]');
-- error: embedding tu: token_id 0 already exists
insert into tu(token_id, token, vector) values (0, 'w', '[1,1]');
insert or replace into tu(token_id, token, vector) values (0, 'p', '[9,9]');
insert or replace into tu(token_id, token, vector) values (6, 'pp', '[8,8]');
select 'tu-14', group_concat(token_id || token) = '0p,2r,3s,4q,5u,6pp' from tu;
select 'tu-14b', emb_json(vector) = '[9,9]' from tu where token_id = 0;
-- cold cache: the same checks read only the shadow tables
select 'tu-15', emb_cache_release('tu') in (0, 1);
-- error: embedding tu: token 'pp' already exists (token_id 6)
insert into tu(token, vector) values ('x', '[1,1]'), ('pp', '[1,1]');
select 'tu-16', emb_cache_release('tu') in (0, 1);
select 'tu-17', count(*) = 6 and emb_token_id('tu', 'x') is null from tu;
select 'tu-18', (select count(*) from tu_tokens) = 6;
drop table tu;
