-- Walkthrough 1: the embedding layer is a lookup table.
--   sqlite3 :memory: -cmd '.load ./embext' < sql/walkthrough_lookup.sql
-- Every result row ends in a check column that must be 1 (tests run this file).

-- A toy vocabulary with 8-dimensional vectors (an nn.Embedding(5, 8)).
create virtual table wte using embedding(dim=8);
insert into wte(token_id, token, vector) values
  (0, '<pad>', '[0, 0, 0, 0, 0, 0, 0, 0]'),
  (1, 'I',     '[0.9, 0.1, 0.0, 0.2, -0.3, 0.5, 0.1, 0.0]'),
  (2, 'love',  '[0.1, 0.8, 0.3, 0.0, 0.2, -0.1, 0.4, 0.6]'),
  (3, 'dogs',  '[0.2, 0.3, 0.9, 0.1, 0.0, 0.7, -0.2, 0.3]'),
  (4, 'cats',  '[0.25, 0.35, 0.85, 0.05, 0.1, 0.6, -0.1, 0.2]');

-- "I love dogs": tokens -> ids (the tokenizer's job, here a word lookup)
select 'ids', json_group_array(emb_token_id('wte', value)) as ids,
       json_group_array(emb_token_id('wte', value)) = '[1,2,3]' as ok
  from json_each('["I", "love", "dogs"]');

-- ids -> vectors for a batch of one sequence: a (1, 3, 8)-shaped result,
-- one row per (batch, pos) holding an 8-float vector
select 'row', batch, pos, token_id, emb_json(vector) as vector,
       emb_dims(vector) = 8 and vector = emb_lookup('wte', token_id) as ok
  from emb_sequence('wte', '[[1, 2, 3]]');
select 'shape', json_array(count(distinct batch), count(*), max(emb_dims(vector))) as shape,
       json_array(count(distinct batch), count(*), max(emb_dims(vector))) = '[1,3,8]' as ok
  from emb_sequence('wte', '[[1, 2, 3]]');
-- a batch of two sequences of different lengths: (2, <=3, 8)
select 'batch', json_group_array(json_array(batch, pos, token_id)) as rows,
       json_group_array(json_array(batch, pos, token_id)) = '[[0,0,1],[0,1,2],[0,2,3],[1,0,1],[1,1,2],[1,2,4]]' as ok
  from emb_sequence('wte', '[[1, 2, 3], [1, 2, 4]]');

-- Lookup = one-hot x W.  W is the 4 x 5 matrix of the seed example, ids [2, 3, 1].
create virtual table w4 using embedding(dim=5);
insert into w4(token_id, vector) values
  (0, '[0.1, 0.2, 0.3, 0.4, 0.5]'),
  (1, '[1.0, 1.1, 1.2, 1.3, 1.4]'),
  (2, '[2.0, 2.1, 2.2, 2.3, 2.4]'),
  (3, '[3.0, 3.1, 3.2, 3.3, 3.4]');
-- one_hot(id) is a 4-vector with a 1 at position id; one_hot x W = sum_i one_hot[i] * W[i]
create table onehot as
  select s.key as pos, s.value as id, w.token_id as i, (w.token_id = s.value) * 1.0 as x, w.vector as row
    from json_each('[2, 3, 1]') s, w4 w;
select 'onehot', pos, json_group_array(x) as one_hot,
       count(*) = 4 and sum(x) = 1 and max(x * (i = id)) = 1 as ok
  from (select * from onehot order by pos, i) group by pos;
select 'onehot-x-W', pos, emb_json(emb_sum(emb_scale(row, x))) as product,
       emb_l2(emb_sum(emb_scale(row, x)), emb_lookup('w4', id)) = 0 as ok
  from onehot group by pos order by pos;
-- the same three rows straight from the table
select 'lookup', pos, token_id, emb_json(vector) as vector,
       vector = emb_lookup('w4', token_id) as ok
  from emb_sequence('w4', '[2, 3, 1]');
