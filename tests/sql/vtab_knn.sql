-- KNN over the `embedding` table vs a brute force in SQL (emb_cosine_distance,
-- emb_l2, emb_dot) over the same rows, ties by token_id; filters; dtypes.

-- 300 rows x 8 pseudo-random values in [-1, 1) (an LCG, so every run is the same)
create table src(id integer primary key, v);
with recursive r(i, s) as (
    select 0, 12345
    union all
    select i + 1, (s * 1103515245 + 12345) % 2147483648 from r where i < 2399)
insert into src select i / 8, json_group_array(((s >> 8) % 2000) / 1000.0 - 1.0) from r group by i / 8;
create table qs(qid integer primary key, q);
with recursive r(i, s) as (
    select 0, 777
    union all
    select i + 1, (s * 1103515245 + 12345) % 2147483648 from r where i < 79)
insert into qs select i / 8, emb_vec(json_group_array(((s >> 8) % 2000) / 1000.0 - 1.0)) from r group by i / 8;
insert into qs values (100, emb_vec('[0,0,0,0,0,0,0,0]'));

create virtual table w using embedding(dim=8, chunk_rows=16);
insert into w(token_id, token, vector) select id, 't' || id, v from src where id % 7 <> 3;
create table ref as select token_id, vector from w;
select 'setup-01', count(*) = 257 from w;
-- brute-force ranks (rows inserted in (qid, rank) order, so group_concat follows rank)
create table bf as select * from (
  select qid, token_id,
    row_number() over (partition by qid order by emb_cosine_distance(vector, q), token_id) as rc,
    row_number() over (partition by qid order by emb_l2(vector, q), token_id) as rl,
    row_number() over (partition by qid order by -emb_dot(vector, q), token_id) as rd
  from qs, ref) order by qid, rc;
create table bfl as select qid, token_id, rl from bf order by qid, rl;
create table bfd as select qid, token_id, rd from bf order by qid, rd;

-- k = N, all three metrics, compared with the brute force order and distances
select 'knn-cos-' || qid,
  (select group_concat(token_id) from w where vector match qs.q and k = 10) =
  (select group_concat(token_id) from bf where bf.qid = qs.qid and rc <= 10)
from qs;
select 'knn-l2-' || qid,
  (select group_concat(token_id) from w where vector match qs.q and k = 7 and metric = 'l2') =
  (select group_concat(token_id) from bfl where bfl.qid = qs.qid and rl <= 7)
from qs;
select 'knn-dot-' || qid,
  (select group_concat(token_id) from w where vector match qs.q and k = 12 and metric = 'dot') =
  (select group_concat(token_id) from bfd where bfd.qid = qs.qid and rd <= 12)
from qs;
select 'knn-dist-cos', max(abs(distance - emb_cosine_distance(vector, q))) < 1e-6
  from w, qs where vector match qs.q and k = 20;
select 'knn-dist-l2', max(abs(distance - emb_l2(vector, q))) < 1e-5
  from w, qs where vector match qs.q and k = 20 and metric = 'l2';
select 'knn-dist-dot', max(abs(distance + emb_dot(vector, q))) < 1e-5
  from w, qs where vector match qs.q and k = 20 and metric = 'dot';
-- ORDER BY distance LIMIT (lazy batches: 32, then 128, then all)
select 'knn-lim-1', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 1)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 1));
select 'knn-lim-10', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 10)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 10));
select 'knn-lim-32', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 32)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 32));
select 'knn-lim-33', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 33)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 33));
select 'knn-lim-200', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 200)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 200));
select 'knn-lim-1000', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 3) order by distance limit 1000)) =
  (select group_concat(token_id) from (select token_id from bf where qid = 3 and rc <= 1000));
select 'knn-lim-off',
  (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 4) order by distance limit 5 offset 30)) =
  (select group_concat(token_id) from (select token_id from ref order by emb_cosine_distance(vector, (select q from qs where qid = 4)), token_id limit 5 offset 30));
-- error: embedding w: vector MATCH needs a bound: add k = N, or ORDER BY distance LIMIT N
select count(*) from w where vector match (select q from qs where qid = 1);
select 'knn-all-ordered', count(*) = 257 from (select token_id from w where vector match (select q from qs where qid = 1) order by distance);
select 'knn-k-big', count(*) = 257 from w where vector match (select q from qs where qid = 1) and k = 100000;
select 'knn-k-lim', (select count(*) from (select 1 from w where vector match (select q from qs where qid = 1) and k = 10 limit 3)) = 3;
select 'knn-sorted', count(*) = 0 from (
  select distance, lag(distance) over () as prev from (select distance from w where vector match (select q from qs where qid = 2) order by distance))
  where prev > distance;
-- the zero query: cosine distance 1 for every row, so ties by token_id
select 'knn-zero', group_concat(token_id) = '0,1,2,4,5' and max(distance) = 1.0 and min(distance) = 1.0
  from w where vector match (select q from qs where qid = 100) and k = 5;
-- JSON text query
select 'knn-json', token_id = 0 and distance < 1e-6 from w where vector match (select v from src where id = 0) and k = 1;

-- filters apply before the top-k
select 'knn-in-' || qid,
  (select group_concat(token_id) from w where vector match qs.q and k = 3 and token_id in (1, 2, 4, 5, 8, 9, 20, 31, 3)) =
  (select group_concat(token_id) from bf where bf.qid = qs.qid and token_id in (1, 2, 4, 5, 8, 9, 20, 31, 3) and
     (select count(*) from bf b2 where b2.qid = bf.qid and b2.token_id in (1, 2, 4, 5, 8, 9, 20, 31, 3) and b2.rc < bf.rc) < 3)
from qs;
select 'knn-range-' || qid,
  (select group_concat(token_id) from w where vector match qs.q and k = 4 and token_id between 100 and 150) =
  (select group_concat(token_id) from bf where bf.qid = qs.qid and token_id between 100 and 150 and
     (select count(*) from bf b2 where b2.qid = bf.qid and b2.token_id between 100 and 150 and b2.rc < bf.rc) < 4)
from qs;
select 'knn-lt', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 5) and k = 4 and token_id < 40 and token_id >= 10)) =
  (select group_concat(token_id) from (select token_id from ref where token_id < 40 and token_id >= 10 order by emb_cosine_distance(vector, (select q from qs where qid = 5)), token_id limit 4));
select 'knn-eq', count(*) = 1 from w where vector match (select q from qs where qid = 5) and k = 4 and token_id = 77;
select 'knn-tok', token_id = 77 from w where vector match (select q from qs where qid = 5) and k = 4 and token = 't77';
select 'knn-none', count(*) = 0 from w where vector match (select q from qs where qid = 5) and k = 4 and token_id = 3;
select 'knn-like', (select group_concat(token_id) from (select token_id from w where vector match (select q from qs where qid = 6) and k = 300 and token like 't1_'  order by distance)) =
  (select group_concat(token_id) from (select token_id from ref where token_id between 10 and 19 order by emb_cosine_distance(vector, (select q from qs where qid = 6)), token_id));

-- ties: identical vectors rank by token_id
create virtual table t using embedding(dim=2, metric=dot);
insert into t(token_id, vector) values (5, '[1,1]'), (2, '[1,1]'), (9, '[1,1]'), (1, '[0,1]'), (7, '[1,1]');
select 't-01', group_concat(token_id) = '2,5,7' from t where vector match '[1,1]' and k = 3;
select 't-02', group_concat(token_id) = '2,5,7,9,1' from (select token_id from t where vector match '[1,1]' order by distance limit 10);
select 't-03', group_concat(distance) = '-2.0,-2.0' from t where vector match '[1,1]' and k = 2;
select 't-04', group_concat(token_id) = '2,5' from t where vector match '[1,1]' and k = 2 and metric = 'cosine';
select 't-05', group_concat(token_id) = '1,2' from t where vector match '[0,1]' and k = 2 and metric = 'l2';
select 't-06', count(*) = 0 from t where vector match null and k = 2;

-- errors
-- error: embedding t: k must be a positive integer (found 0)
select * from t where vector match '[1,1]' and k = 0;
-- error: embedding t: k must be a positive integer (found -3)
select * from t where vector match '[1,1]' and k = -3;
-- error: embedding t: k must be a positive integer (found ten)
select * from t where vector match '[1,1]' and k = 'ten';
-- error: embedding t: k requires vector MATCH
select * from t where k = 3;
-- error: embedding t: metric requires vector MATCH
select * from t where metric = 'l2';
-- error: embedding t: query has 3 values; table t has dim 2
select * from t where vector match '[1,1,1]' and k = 1;
-- error: embedding t: unknown metric 'manhattan' (expected cosine, dot or l2)
select * from t where vector match '[1,1]' and k = 1 and metric = 'manhattan';
-- error: embedding t: vector MATCH: expected a vector (f32 blob or JSON text), found integer
select * from t where vector match 7 and k = 1;

-- dtypes: stored error within the documented bounds, KNN over the stored values
create virtual table w16 using embedding(dim=8, dtype=f16);
create virtual table wbf using embedding(dim=8, dtype=bf16);
create virtual table wi8 using embedding(dim=8, dtype=int8);
insert into w16(token_id, vector) select id, v from src;
insert into wbf(token_id, vector) select id, v from src;
insert into wi8(token_id, vector) select id, v from src;
select 'f16-01', max(emb_l2(w16.vector, src.v) / emb_norm(src.v)) <= 1.0 / 2048 from w16 join src on src.id = w16.token_id;
select 'f16-02', max(emb_l2(w16.vector, src.v) / emb_norm(src.v)) > 0 from w16 join src on src.id = w16.token_id;
select 'bf16-01', max(emb_l2(wbf.vector, src.v) / emb_norm(src.v)) <= 1.0 / 256 from wbf join src on src.id = wbf.token_id;
select 'i8-01', max(emb_l2(wi8.vector, src.v) / emb_norm(src.v)) <= sqrt(8) / 254 from wi8 join src on src.id = wi8.token_id;
select 'i8-02', emb_json(vector) = '[0,0,0]' from (select 1), (select vector from wi8 where 0 union all select emb_vec('[0,0,0]')) where 1 limit 1;
-- format 2 slots: f16 dim 8 = 16 bytes + 1 valid byte, 240 per 4092-byte page, 4096 rows
-- in 18 pages; int8 dim 8 = 8 + 4 (scale) + 1, 314 per page, 4096 rows in 14 pages
select 'dt-01', (select value from w16_config where key = 'chunk_rows') = 4096 and length(slots) = 18 * 4092 from w16_chunks;
select 'dt-02', (select value from wi8_config where key = 'slab_rows') = 314 and length(slots) = 14 * 4092 from wi8_chunks;
create table r16 as select token_id, vector from w16;
create table rbf as select token_id, vector from wbf;
create table ri8 as select token_id, vector from wi8;
create table b16 as select * from (select qid, token_id,
    row_number() over (partition by qid order by emb_cosine_distance(vector, q), token_id) as rc,
    row_number() over (partition by qid order by emb_l2(vector, q), token_id) as rl
  from qs, r16) order by qid, rc;
create table b16l as select * from b16 order by qid, rl;
create table bbf as select * from (select qid, token_id,
    row_number() over (partition by qid order by -emb_dot(vector, q), token_id) as rd
  from qs, rbf) order by qid, rd;
create table bi8 as select * from (select qid, token_id,
    row_number() over (partition by qid order by emb_cosine_distance(vector, q), token_id) as rc,
    row_number() over (partition by qid order by emb_l2(vector, q), token_id) as rl
  from qs, ri8) order by qid, rc;
create table bi8l as select * from bi8 order by qid, rl;
select 'f16-knn-' || qid,
  (select group_concat(token_id) from w16 where vector match qs.q and k = 10) =
  (select group_concat(token_id) from b16 where b16.qid = qs.qid and rc <= 10)
from qs;
select 'f16-knn-l2-' || qid,
  (select group_concat(token_id) from w16 where vector match qs.q and k = 10 and metric = 'l2') =
  (select group_concat(token_id) from b16l where b16l.qid = qs.qid and rl <= 10)
from qs;
select 'bf16-knn-' || qid,
  (select group_concat(token_id) from wbf where vector match qs.q and k = 10 and metric = 'dot') =
  (select group_concat(token_id) from bbf where bbf.qid = qs.qid and rd <= 10)
from qs;
select 'i8-knn-' || qid,
  (select group_concat(token_id) from wi8 where vector match qs.q and k = 10) =
  (select group_concat(token_id) from bi8 where bi8.qid = qs.qid and rc <= 10)
from qs;
select 'i8-knn-l2-' || qid,
  (select group_concat(token_id) from wi8 where vector match qs.q and k = 10 and metric = 'l2') =
  (select group_concat(token_id) from bi8l where bi8l.qid = qs.qid and rl <= 10)
from qs;
select 'i8-dist-l2', max(abs(distance - emb_l2(vector, q))) < 1e-3
  from wi8, qs where vector match qs.q and k = 20 and metric = 'l2';
-- error: embedding w16: vector element 2 (70000) exceeds the f16 range (65504)
insert into w16(vector) values ('[0, 0, 70000, 0, 0, 0, 0, 0]');
-- the range check looks at |v| first: a vector whose norm exceeds 65504 with every
-- element in range is stored; an f32 one whose squares overflow too
insert into w16(token_id, vector) values (9000, '[60000, 60000, -60000, 60000, 0, 0, 0, 1]');
select 'f16-big-01', emb_json(vector) = '[6e+04,6e+04,-6e+04,6e+04,0,0,0,1]' and emb_dot(vector, '[1,0,0,0,0,0,0,0]') = 60000 from w16 where token_id = 9000;
delete from w16 where token_id = 9000;
create virtual table wbig using embedding(dim=3);
insert into wbig(vector) values ('[3e38, -3e38, 1e30]');
select 'f32-big-01', emb_json(vector) = '[3e+38,-3e+38,1e+30]' from wbig;
-- error: embedding wbig: vector element 2 is inf (expected a finite float)
insert into wbig(vector) values (x'0000803f000080bf0000807f');
drop table wbig;
