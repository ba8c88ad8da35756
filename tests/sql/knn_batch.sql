-- emb_knn (ext/tvf_knn.c): a batch of queries in one pass must give, for every
-- dtype and metric, the same rows as one `vector match q and k = K` query per
-- query (token ids in rank order; distances equal up to float rounding), plus
-- argument handling and errors.  The equality blocks below are the same
-- statements for each (table, metric) pair.

-- 500 rows x 37 (odd dim: kernel tails) from emb_random, every dtype; rows
-- with token_id % 11 = 5 deleted (absent rows inside blocks)
create virtual table w32 using embedding(dim=37);
create virtual table w16 using embedding(dim=37, dtype=f16);
create virtual table wbf using embedding(dim=37, dtype=bf16);
create virtual table wi8 using embedding(dim=37, dtype=int8);
insert into w32(token_id, token, vector) select token_id, 't' || token_id, vector from emb_random(500, 37, 7);
insert into w16(token_id, token, vector) select token_id, token, vector from w32;
insert into wbf(token_id, token, vector) select token_id, token, vector from w32;
insert into wi8(token_id, token, vector) select token_id, token, vector from w32;
delete from w32 where token_id % 11 = 5;
delete from w16 where token_id % 11 = 5;
delete from wbf where token_id % 11 = 5;
delete from wi8 where token_id % 11 = 5;
select 'setup-rows', (select count(*) from w32) = 455, (select count(*) from wi8) = 455;

-- 70 queries (more than one block of 64): 68 random, a copy of row 42, zeros
create table q(qid integer primary key, v);
insert into q select token_id, vector from emb_random(68, 37, 99);
insert into q values (68, (select vector from emb_random(500, 37, 7) where token_id = 42));
insert into q values (69, zeroblob(148));
create table qj as select json_group_array(json(emb_json(v))) as j from (select v from q order by qid);
select 'setup-queries', (select count(*) from q) = 70, json_array_length((select j from qj)) = 70;

-- w32 cosine k=10
create table b_w32_cosine as select query, rank, token_id, distance
  from emb_knn('w32', (select j from qj), 10, 'cosine');
create table s_w32_cosine as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w32 where vector match q.v and k = 10 and metric = 'cosine')) e;
select 'eq-w32-cosine-count', (select count(*) from b_w32_cosine) = 70 * 10,
  (select count(*) from s_w32_cosine) = 70 * 10;
select 'eq-w32-cosine-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w32_cosine b join s_w32_cosine s using (query, rank);
select 'eq-w32-cosine-absent', count(*) = 0 from b_w32_cosine where token_id % 11 = 5;

-- w32 dot k=7
create table b_w32_dot as select query, rank, token_id, distance
  from emb_knn('w32', (select j from qj), 7, 'dot');
create table s_w32_dot as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w32 where vector match q.v and k = 7 and metric = 'dot')) e;
select 'eq-w32-dot-count', (select count(*) from b_w32_dot) = 70 * 7,
  (select count(*) from s_w32_dot) = 70 * 7;
select 'eq-w32-dot-rows', count(*) = 70 * 7,
  sum(b.token_id = s.token_id) = 70 * 7,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w32_dot b join s_w32_dot s using (query, rank);
select 'eq-w32-dot-absent', count(*) = 0 from b_w32_dot where token_id % 11 = 5;

-- w32 l2 k=10
create table b_w32_l2 as select query, rank, token_id, distance
  from emb_knn('w32', (select j from qj), 10, 'l2');
create table s_w32_l2 as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w32 where vector match q.v and k = 10 and metric = 'l2')) e;
select 'eq-w32-l2-count', (select count(*) from b_w32_l2) = 70 * 10,
  (select count(*) from s_w32_l2) = 70 * 10;
select 'eq-w32-l2-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w32_l2 b join s_w32_l2 s using (query, rank);
select 'eq-w32-l2-absent', count(*) = 0 from b_w32_l2 where token_id % 11 = 5;

-- w16 cosine k=10
create table b_w16_cosine as select query, rank, token_id, distance
  from emb_knn('w16', (select j from qj), 10, 'cosine');
create table s_w16_cosine as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w16 where vector match q.v and k = 10 and metric = 'cosine')) e;
select 'eq-w16-cosine-count', (select count(*) from b_w16_cosine) = 70 * 10,
  (select count(*) from s_w16_cosine) = 70 * 10;
select 'eq-w16-cosine-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w16_cosine b join s_w16_cosine s using (query, rank);
select 'eq-w16-cosine-absent', count(*) = 0 from b_w16_cosine where token_id % 11 = 5;

-- w16 dot k=7
create table b_w16_dot as select query, rank, token_id, distance
  from emb_knn('w16', (select j from qj), 7, 'dot');
create table s_w16_dot as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w16 where vector match q.v and k = 7 and metric = 'dot')) e;
select 'eq-w16-dot-count', (select count(*) from b_w16_dot) = 70 * 7,
  (select count(*) from s_w16_dot) = 70 * 7;
select 'eq-w16-dot-rows', count(*) = 70 * 7,
  sum(b.token_id = s.token_id) = 70 * 7,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w16_dot b join s_w16_dot s using (query, rank);
select 'eq-w16-dot-absent', count(*) = 0 from b_w16_dot where token_id % 11 = 5;

-- w16 l2 k=10
create table b_w16_l2 as select query, rank, token_id, distance
  from emb_knn('w16', (select j from qj), 10, 'l2');
create table s_w16_l2 as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from w16 where vector match q.v and k = 10 and metric = 'l2')) e;
select 'eq-w16-l2-count', (select count(*) from b_w16_l2) = 70 * 10,
  (select count(*) from s_w16_l2) = 70 * 10;
select 'eq-w16-l2-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_w16_l2 b join s_w16_l2 s using (query, rank);
select 'eq-w16-l2-absent', count(*) = 0 from b_w16_l2 where token_id % 11 = 5;

-- wbf cosine k=10
create table b_wbf_cosine as select query, rank, token_id, distance
  from emb_knn('wbf', (select j from qj), 10, 'cosine');
create table s_wbf_cosine as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wbf where vector match q.v and k = 10 and metric = 'cosine')) e;
select 'eq-wbf-cosine-count', (select count(*) from b_wbf_cosine) = 70 * 10,
  (select count(*) from s_wbf_cosine) = 70 * 10;
select 'eq-wbf-cosine-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wbf_cosine b join s_wbf_cosine s using (query, rank);
select 'eq-wbf-cosine-absent', count(*) = 0 from b_wbf_cosine where token_id % 11 = 5;

-- wbf dot k=7
create table b_wbf_dot as select query, rank, token_id, distance
  from emb_knn('wbf', (select j from qj), 7, 'dot');
create table s_wbf_dot as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wbf where vector match q.v and k = 7 and metric = 'dot')) e;
select 'eq-wbf-dot-count', (select count(*) from b_wbf_dot) = 70 * 7,
  (select count(*) from s_wbf_dot) = 70 * 7;
select 'eq-wbf-dot-rows', count(*) = 70 * 7,
  sum(b.token_id = s.token_id) = 70 * 7,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wbf_dot b join s_wbf_dot s using (query, rank);
select 'eq-wbf-dot-absent', count(*) = 0 from b_wbf_dot where token_id % 11 = 5;

-- wbf l2 k=10
create table b_wbf_l2 as select query, rank, token_id, distance
  from emb_knn('wbf', (select j from qj), 10, 'l2');
create table s_wbf_l2 as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wbf where vector match q.v and k = 10 and metric = 'l2')) e;
select 'eq-wbf-l2-count', (select count(*) from b_wbf_l2) = 70 * 10,
  (select count(*) from s_wbf_l2) = 70 * 10;
select 'eq-wbf-l2-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wbf_l2 b join s_wbf_l2 s using (query, rank);
select 'eq-wbf-l2-absent', count(*) = 0 from b_wbf_l2 where token_id % 11 = 5;

-- wi8 cosine k=10
create table b_wi8_cosine as select query, rank, token_id, distance
  from emb_knn('wi8', (select j from qj), 10, 'cosine');
create table s_wi8_cosine as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wi8 where vector match q.v and k = 10 and metric = 'cosine')) e;
select 'eq-wi8-cosine-count', (select count(*) from b_wi8_cosine) = 70 * 10,
  (select count(*) from s_wi8_cosine) = 70 * 10;
select 'eq-wi8-cosine-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wi8_cosine b join s_wi8_cosine s using (query, rank);
select 'eq-wi8-cosine-absent', count(*) = 0 from b_wi8_cosine where token_id % 11 = 5;

-- wi8 dot k=7
create table b_wi8_dot as select query, rank, token_id, distance
  from emb_knn('wi8', (select j from qj), 7, 'dot');
create table s_wi8_dot as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wi8 where vector match q.v and k = 7 and metric = 'dot')) e;
select 'eq-wi8-dot-count', (select count(*) from b_wi8_dot) = 70 * 7,
  (select count(*) from s_wi8_dot) = 70 * 7;
select 'eq-wi8-dot-rows', count(*) = 70 * 7,
  sum(b.token_id = s.token_id) = 70 * 7,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wi8_dot b join s_wi8_dot s using (query, rank);
select 'eq-wi8-dot-absent', count(*) = 0 from b_wi8_dot where token_id % 11 = 5;

-- wi8 l2 k=10
create table b_wi8_l2 as select query, rank, token_id, distance
  from emb_knn('wi8', (select j from qj), 10, 'l2');
create table s_wi8_l2 as select q.qid as query, e.key + 1 as rank,
    json_extract(e.value, '$[0]') as token_id, json_extract(e.value, '$[1]') as distance
  from q, json_each((select json_group_array(json_array(token_id, distance))
                     from wi8 where vector match q.v and k = 10 and metric = 'l2')) e;
select 'eq-wi8-l2-count', (select count(*) from b_wi8_l2) = 70 * 10,
  (select count(*) from s_wi8_l2) = 70 * 10;
select 'eq-wi8-l2-rows', count(*) = 70 * 10,
  sum(b.token_id = s.token_id) = 70 * 10,
  max(abs(b.distance - s.distance)) <= 2e-6 * (1 + max(abs(s.distance)))
  from b_wi8_l2 b join s_wi8_l2 s using (query, rank);
select 'eq-wi8-l2-absent', count(*) = 0 from b_wi8_l2 where token_id % 11 = 5;

-- the copy of row 42 finds row 42 first (f32: distance 0 under l2 and cosine)
select 'self-l2', token_id = 42, distance = 0 from b_w32_l2 where query = 68 and rank = 1;
select 'self-cos', token_id = 42, abs(distance) < 1e-6 from b_w32_cosine where query = 68 and rank = 1;
-- the zero query: every cosine distance is 1, so ties go by token_id
select 'zero-cos', group_concat(token_id) = '0,1,2,3,4,6,7,8,9,10' from b_w32_cosine where query = 69;
select 'zero-cos-dist', min(distance) = 1 and max(distance) = 1 from b_w32_cosine where query = 69;

-- ordering: by query then rank; distances ascending within a query
select 'order-rank', count(*) = 0 from b_w32_dot a join b_w32_dot b
  on a.query = b.query and b.rank = a.rank + 1 where b.distance < a.distance;
-- rows come out ordered by (query, rank) without an ORDER BY
select 'order-out', group_concat(query || ':' || rank) =
  '0:1,0:2,0:3,1:1,1:2,1:3'
  from emb_knn('w32', (select json_group_array(json(emb_json(v))) from (select v from q where qid < 2 order by qid)), 3);

-- one f32 blob holding n_q * dim floats = the same queries as JSON
create table qb(b);
insert into qb values (x'');
select 'blob-eq', (select group_concat(query || ':' || token_id || ':' || round(distance, 6))
                   from emb_knn('wbf', cast((select v from q where qid = 3) ||
                                            (select v from q where qid = 4) as blob), 5, 'l2'))
  = (select group_concat(query || ':' || token_id || ':' || round(distance, 6))
     from emb_knn('wbf', (select json_array(json(emb_json(v))) from q where qid = 3) , 5, 'l2')
     where query = 0) || ',' ||
    (select group_concat((query + 1) || ':' || token_id || ':' || round(distance, 6))
     from emb_knn('wbf', (select json_array(json(emb_json(v))) from q where qid = 4), 5, 'l2'));

-- the documented example
create virtual table w using embedding(dim=3);
insert into w(token_id, token, vector) values
  (0, 'a', '[1,0,0]'), (1, 'b', '[0,1,0]'), (2, 'c', '[1,1,0]');
select 'doc-01', group_concat(query || rank || token_id || token) = '010a,022c,111b,122c'
  from emb_knn('w', '[[1,0.1,0],[0,1,0]]', 2);
select 'doc-blob', group_concat(token) = 'a,c,b,c'
  from emb_knn('w', x'0000803f0000000000000000000000000000803f00000000', 2);
-- named arguments (HIDDEN columns), default k 10 capped by the rows, metric default = table's
select 'named', count(*) = 3 from emb_knn where "table" = 'w' and queries = '[[0,0,1]]';
select 'k-cap', count(*) = 6 from emb_knn('w', '[[1,2,3],[3,2,1]]', 1000);
-- error: emb_knn: k must be >= 1 (found 0)
select * from emb_knn('w', '[[1,2,3]]', 0);
select 'empty-json', count(*) = 0 from emb_knn('w', '[ ]');
select 'empty-blob', count(*) = 0 from emb_knn('w', x'');
select 'dot', group_concat(token_id) = '2,0,1' from emb_knn('w', '[[1, 0.5, 0]]', 3, 'dot');
select 'dot-dist', distance = -1.5 from emb_knn('w', '[[1, 0.5, 0]]', 1, 'dot');
select 'l2-dist', token_id = 2 and distance = 0 from emb_knn('w', '[[1,1,0]]', 1, 'l2');
select 'token', token = 'c' from emb_knn('w', '[[1,1,0]]', 1);
select 'json-ws', count(*) = 4 from emb_knn('w', ' [ [1,0,0] , [0,0,1] ] ', 2);

-- errors
-- error: emb_knn: no such embedding table: nope
select * from emb_knn('nope', '[[1,2,3]]');
-- error: emb_knn: queries must not be NULL
select * from emb_knn('w', null);
-- error: emb_knn: queries must be a JSON array of vectors or an f32 blob (found integer)
select * from emb_knn('w', 7);
-- error: emb_knn: queries blob has 8 bytes, not a multiple of 4 * dim = 12 (table w has dim 3)
select * from emb_knn('w', x'0000803f0000803f');
-- error: emb_knn: query 1 has 2 values; table w has dim 3
select * from emb_knn('w', '[[1,2,3],[1,2]]');
-- error: emb_knn: queries must be a JSON array of vectors (found '1,2,3')
select * from emb_knn('w', '1,2,3');
-- error: emb_knn: queries must be a JSON array of vectors (expected '[' at offset 1)
select * from emb_knn('w', '[1,2,3]');
-- error: emb_knn: queries must be a JSON array of vectors (expected ',' or ']' at offset 9)
select * from emb_knn('w', '[[1,2,3] [1,2,3]]');
-- error: emb_knn: queries must be a JSON array of vectors (trailing text at offset 10)
select * from emb_knn('w', '[[1,2,3]] x');
-- error: emb_knn: query 0: unterminated vector
select * from emb_knn('w', '[[1,2,3');
-- error: emb_knn: query 0: invalid JSON vector: expected a number at offset 3 (found 'x')
select * from emb_knn('w', '[[1,x,3]]');
-- error: emb_knn: k must be >= 1 (found -1)
select * from emb_knn('w', '[[1,2,3]]', -1);
-- error: emb_knn: unknown metric 'hamming' (expected 'cosine', 'dot' or 'l2')
select * from emb_knn('w', '[[1,2,3]]', 3, 'hamming');
