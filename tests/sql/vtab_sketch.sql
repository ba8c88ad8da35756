-- The int8 sketch (default) against sketch=none (the plain scan): the same
-- token ids, order and distances (printed to 17 digits) for k = N and for
-- ORDER BY distance LIMIT N, every metric and dtype, with duplicate rows,
-- zero rows, rows scaled by 1e-30 / 1e30, one outlier dimension, filters,
-- and writes between queries.  Also the option's errors.

-- 2000 rows x 16 values from an LCG in [-1, 1); every 9th row repeats row 4,
-- every 13th is zero, every 17th / 19th is scaled by 1e30 / 1e-30, every
-- 23rd has dimension 3 at 1000
create table src(id integer primary key, v);
with recursive r(i, s) as (
    select 0, 4242
    union all
    select i + 1, (s * 1103515245 + 12345) % 2147483648 from r where i < 31999)
insert into src select i / 16, json_group_array(((s >> 8) % 2000) / 1000.0 - 1.0) from r group by i / 16;
update src set v = (select v from src where id = 4) where id % 9 = 0 and id > 0;
update src set v = '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' where id % 13 = 0;
update src set v = emb_json(emb_scale(v, 1e30)) where id % 17 = 1;
update src set v = emb_json(emb_scale(v, 1e-30)) where id % 19 = 2;
update src set v = json_set(v, '$[3]', 1000.0) where id % 23 = 5;
create table qs(qid integer primary key, q);
with recursive r(i, s) as (
    select 0, 99
    union all
    select i + 1, (s * 1103515245 + 12345) % 2147483648 from r where i < 127)
insert into qs select i / 16, emb_vec(json_group_array(((s >> 8) % 2000) / 1000.0 - 1.0)) from r group by i / 16;
insert into qs select 100, emb_vec(v) from src where id = 4;       -- a duplicated row
insert into qs select 101, emb_scale(emb_vec(v), 1e30) from src where id = 7;
insert into qs values (102, emb_vec('[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]'));

create virtual table s32 using embedding(dim=16);
create virtual table n32 using embedding(dim=16, sketch=none);
create virtual table s16 using embedding(dim=16, dtype=f16);
create virtual table n16 using embedding(dim=16, dtype=f16, sketch=none);
create virtual table sbf using embedding(dim=16, dtype=bf16, sketch=int8);
create virtual table nbf using embedding(dim=16, dtype=bf16, sketch=none);
insert into s32(token_id, vector) select id, v from src;
insert into n32(token_id, vector) select id, v from src;
insert into s16(token_id, vector) select id, v from src where id % 17 <> 1; -- f16 max 65504
insert into n16(token_id, vector) select id, v from src where id % 17 <> 1;
insert into sbf(token_id, vector) select id, v from src;
insert into nbf(token_id, vector) select id, v from src;
select 'setup', (select value from n32_config where key = 'sketch') = 'none'
  and (select count(*) from s32_config where key = 'sketch') = 0;

-- k = N: one string per (table, query, metric)
select 'k-f32-' || qid || '-' || m,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s32 where vector match q and k = 10 and metric = m) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n32 where vector match q and k = 10 and metric = m)
from qs, (select 'cosine' as m union all select 'dot' union all select 'l2');
select 'k-f16-' || qid || '-' || m,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s16 where vector match q and k = 25 and metric = m) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n16 where vector match q and k = 25 and metric = m)
from qs, (select 'cosine' as m union all select 'dot' union all select 'l2');
select 'k-bf16-' || qid || '-' || m,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from sbf where vector match q and k = 3 and metric = m) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from nbf where vector match q and k = 3 and metric = m)
from qs, (select 'cosine' as m union all select 'dot' union all select 'l2');
-- ties: the duplicated row 4 (and its copies, one scaled by 1e-30) against its own vector
select 'ties-dup', (select group_concat(token_id) from s32 where vector match (select q from qs where qid = 100) and k = 12)
  = (select group_concat(token_id) from n32 where vector match (select q from qs where qid = 100) and k = 12)
  and (select count(*) from s32 where vector match (select q from qs where qid = 100) and k = 12 and distance < 1e-6) = 12;
-- ORDER BY distance LIMIT: first batch through the sketch, later ones not
select 'lim-' || qid || '-5',
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from s32 where vector match q order by distance limit 5)) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from n32 where vector match q order by distance limit 5))
from qs;
select 'lim-' || qid || '-32',
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from s32 where vector match q order by distance limit 32)) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from n32 where vector match q order by distance limit 32))
from qs;
select 'lim-' || qid || '-33',
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from s32 where vector match q order by distance limit 33)) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from n32 where vector match q order by distance limit 33))
from qs;
select 'lim-' || qid || '-300',
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from s32 where vector match q order by distance limit 300)) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from (select token_id, distance from n32 where vector match q order by distance limit 300))
from qs;
-- filters before the top-k
select 'filt-range-' || qid,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s32 where vector match q and k = 10 and token_id between 100 and 1500) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n32 where vector match q and k = 10 and token_id between 100 and 1500)
from qs;
select 'filt-in-' || qid,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s32 where vector match q and k = 10 and token_id in (select id from src where id % 5 = 2)) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n32 where vector match q and k = 10 and token_id in (select id from src where id % 5 = 2))
from qs;
-- k larger than the table
select 'k-big', (select count(*) from s32 where vector match (select q from qs where qid = 1) and k = 5000) = 2000;
-- writes between queries: the nearest row changes, a deleted row disappears
update s32 set vector = (select q from qs where qid = 3) where token_id = 1234;
update n32 set vector = (select q from qs where qid = 3) where token_id = 1234;
select 'w-upd', (select token_id from s32 where vector match (select q from qs where qid = 3) and k = 1) = 1234;
delete from s32 where token_id = 1234;
delete from n32 where token_id = 1234;
insert into s32(token_id, vector) values (2500, (select emb_scale(q, 2) from qs where qid = 3));
insert into n32(token_id, vector) values (2500, (select emb_scale(q, 2) from qs where qid = 3));
select 'w-' || qid || '-' || m,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s32 where vector match q and k = 10 and metric = m) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n32 where vector match q and k = 10 and metric = m)
from qs, (select 'cosine' as m union all select 'l2');
begin;
update s32 set vector = (select q from qs where qid = 5) where token_id = 77;
select 'w-txn', (select token_id from s32 where vector match (select q from qs where qid = 5) and k = 1 and metric = 'l2') = 77;
rollback;
select 'w-rollback', (select token_id from s32 where vector match (select q from qs where qid = 5) and k = 1 and metric = 'l2') <> 77;

-- error: embedding: unknown sketch 'int4' (expected int8 or none)
create virtual table bad using embedding(dim=4, sketch=int4);
-- error: embedding: option sketch given twice
create virtual table bad using embedding(dim=4, sketch=none, sketch=none);

-- emb_knn (batched), emb_most_similar / emb_analogy (3CosAdd) and the top k
-- of emb_logits take the same sketch path: the same ids, order and values
create table qj(js);
insert into qj select '[' || group_concat(emb_json(q)) || ']' from (select q from qs order by qid);
select 'knn-' || t || '-' || m || '-' || kk,
  (select group_concat(query || '/' || rank || '/' || token_id || ':' || printf('%.17g', distance))
     from emb_knn(t, (select js from qj), kk, m)) =
  (select group_concat(query || '/' || rank || '/' || token_id || ':' || printf('%.17g', distance))
     from emb_knn(n, (select js from qj), kk, m))
from (select 's32' as t, 'n32' as n union all select 's16', 'n16' union all select 'sbf', 'nbf'),
     (select 'cosine' as m union all select 'dot' union all select 'l2'),
     (select 1 as kk union all select 10 union all select 40);
select 'sim-' || t || '-' || a || '-' || kk,
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_most_similar(t, '[' || a || ', 11]', '[' || (a + 5) || ']', kk)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_most_similar(n, '[' || a || ', 11]', '[' || (a + 5) || ']', kk))
  and (select count(*) from emb_most_similar(t, '[' || a || ', 11]', '[' || (a + 5) || ']', kk)) = kk
from (select 's32' as t, 'n32' as n union all select 's16', 'n16' union all select 'sbf', 'nbf'),
     (select 3 as a union all select 4 union all select 8 union all select 100),
     (select 1 as kk union all select 10);
select 'analogy-s32-3',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s32', 3, 4, 5, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n32', 3, 4, 5, 10));
select 'analogy-s32-4',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s32', 4, 5, 6, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n32', 4, 5, 6, 10));
select 'analogy-s32-30',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s32', 30, 31, 32, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n32', 30, 31, 32, 10));
select 'analogy-s16-3',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s16', 3, 4, 5, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n16', 3, 4, 5, 10));
select 'analogy-s16-4',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s16', 4, 5, 6, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n16', 4, 5, 6, 10));
select 'analogy-s16-30',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('s16', 30, 31, 32, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('n16', 30, 31, 32, 10));
select 'analogy-sbf-3',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('sbf', 3, 4, 5, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('nbf', 3, 4, 5, 10));
select 'analogy-sbf-4',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('sbf', 4, 5, 6, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('nbf', 4, 5, 6, 10));
select 'analogy-sbf-30',
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('sbf', 30, 31, 32, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', score)) from emb_analogy('nbf', 30, 31, 32, 10));
select 'logits-' || t || '-' || qid,
  (select group_concat(token_id || ':' || printf('%.17g', logit)) from emb_logits(t, q, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', logit)) from emb_logits(n, q, 10))
  and (select group_concat(token_id || ':' || printf('%.17g', logit) || ':' || printf('%.17g', prob)) from emb_logits(t, q, 10)) =
  (select group_concat(token_id || ':' || printf('%.17g', logit) || ':' || printf('%.17g', prob)) from emb_logits(n, q, 10))
from (select 's32' as t, 'n32' as n union all select 's16', 'n16' union all select 'sbf', 'nbf'), qs
where t <> 's16' or qid <> 101;

-- two threads for the sketch pass (process-wide; the default on 2 cores or
-- more, never more than the cores; test_sketch.c checks the default against
-- the core count): the same results as one thread, then one for the rest
select 'threads-default', emb_search_threads() in (1, 2);
select 'threads-set', emb_search_threads(2) between 1 and 2;
select 'threads-knn-' || qid,
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from s32 where vector match q and k = 10) =
  (select group_concat(token_id || ':' || printf('%.17g', distance)) from n32 where vector match q and k = 10)
from qs;
select 'threads-off', emb_search_threads(1) = 1;
-- error: emb_search_threads: n must be 1 or 2 (found 3)
select emb_search_threads(3);
-- error: emb_search_threads: n must be an integer 1 or 2 (found text)
select emb_search_threads('2');
