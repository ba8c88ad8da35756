-- How tests/data/format1-0.2.0.db was made: this script run by embext 0.2.0
-- (commit a333108, the last build writing chunk format 1):
--   sqlite3 tests/data/format1-0.2.0.db -cmd '.load ./embext' < tests/data/format1-0.2.0.sql
-- Three tables in format 1 (valid / vectors / scales blobs per chunk);
-- tests/unit/test_vtab_files.c reads and writes them with the current build.
create virtual table f using embedding(dim=3, chunk_rows=2);
insert into f(token_id, token, vector) values (0, 'a', '[1,0,0]'), (1, 'b', '[0,1,0]'),
  (2, 'c', '[0,0,1]'), (5, 'f', '[1,1,0]'), (6, null, '[0.5,0.25,-2]');
create virtual table q using embedding(dim=4, dtype=int8, metric=dot);
insert into q(token, vector) values ('x', '[1,-0.5,0.25,0]'), ('y', '[0,2,0,1]'), ('z', '[3,3,3,3]');
delete from q where token = 'y';
create virtual table h using embedding(dim=16, dtype=f16, chunk_rows=64);
insert into h(token_id, vector) select token_id, vector from emb_random(300, 16, 7, 0.5);
vacuum;
