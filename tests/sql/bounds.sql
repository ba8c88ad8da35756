-- bounds.sql - every size taken from input has a limit, and going past it
-- gives a message "<fn>: <what> (<limit> vs <found>)" (docs/SECURITY.md,
-- "Bounds").  The in-memory copy bound depends on the machine's memory and
-- is checked in tests/unit/test_security.c.

-- emb_random: rows (token ids of a table) and rows * dim (2^31 values)
-- error: emb_random: rows out of range (0..16777216 vs 100000000)
select count(*) from emb_random(100000000, 65536);
-- error: emb_random: rows out of range (0..16777216 vs 16777217)
select count(*) from emb_random(16777217, 1);
-- error: emb_random: rows * dim too large (2147483648 vs 1099511627776)
select count(*) from emb_random(16777216, 65536);
-- error: emb_random: rows * dim too large (2147483648 vs 2147483904)
select count(*) from emb_random(8388609, 256);
select 'random-at-limit', count(*) = 3 from emb_random(3, 65536);
-- error: emb_random: dim out of range (1..65536 vs 65537)
select count(*) from emb_random(1, 65537);

-- emb_sequence: at most 2^20 ids
create virtual table w using embedding(dim=2);
insert into w(token_id, vector) values (0, '[1,0]'), (1, '[0,1]');
-- error: emb_sequence: too many ids (1048576 vs 1048577)
select count(*) from emb_sequence('w', (with recursive c(i) as (select 1 union all select i + 1 from c
  where i < 1048577) select '[' || group_concat(i % 2) || ']' from c));
-- error: emb_sequence: too many ids (1048576 vs 1048578)
select count(*) from emb_sequence('w', (with recursive c(i) as (select 1 union all select i + 1 from c
  where i < 524289) select '[[' || group_concat(i % 2) || '],[' || group_concat(i % 2) || ']]' from c));
select 'seq-at-limit', count(*) = 1048576 from emb_sequence('w', (with recursive c(i) as (select 1
  union all select i + 1 from c where i < 1048576) select '[' || group_concat(i % 2) || ']' from c));

-- emb_knn: queries * min(k, rows) at most 2^26 hits held at once
create virtual table one using embedding(dim=1);
insert into one(token_id, vector) select token_id, vector from emb_random(10000, 1, 1);
-- error: emb_knn: queries * k too large (67108864 vs 70000000)
select count(*) from emb_knn('one', (with recursive c(i) as (select 1 union all select i + 1 from c
  where i < 7000) select '[' || group_concat('[1]') || ']' from c), 10000);
select 'knn-k-clipped', count(*) = 7000 from emb_knn('one', (with recursive c(i) as (select 1
  union all select i + 1 from c where i < 7000) select '[' || group_concat('[1]') || ']' from c), 1);

-- dimensions: 1 .. 65536 everywhere (EMB_MAX_DIM)
-- error: emb_pe: dim out of range (1..65536 vs 65537)
select emb_pe(1, 65537);

-- token ids of a table: 0 .. 16777215
-- error: embedding w: token_id 16777216 exceeds the maximum 16777215
insert into w(token_id, vector) values (16777216, '[1,1]');

-- emb_bag / emb_embedding: at most 2^20 elements per argument
-- error: emb_embedding: input has too many elements (1048576 vs 1048577)
select count(*) from emb_embedding('w', (with recursive c(i) as (select 1 union all select i + 1 from c
  where i < 1048577) select '[' || group_concat(i % 2) || ']' from c));
-- error: emb_bag: input has too many elements (1048576 vs 1048578)
select count(*) from emb_bag('w', (with recursive c(i) as (select 1 union all select i + 1 from c
  where i < 524289) select '[[' || group_concat(i % 2) || '],[' || group_concat(i % 2) || ']]' from c));
select 'bag-at-limit', count(*) = 1 from emb_bag('w', (with recursive c(i) as (select 1
  union all select i + 1 from c where i < 1048576) select '[' || group_concat(i % 2) || ']' from c), '[0]');
