-- embext walkthrough (hand-written vectors): run with `make demo`.
.headers on
.mode box
-- 1. "I love dogs" -> token ids -> vectors.  A toy vocabulary of 4-dim vectors.
create table vocab(token_id integer primary key, token text unique, vector blob);
insert into vocab values
  (0, 'I',     emb_vec('[0.9, 0.1, 0.0, 0.2]')),
  (1, 'love',  emb_vec('[0.1, 0.8, 0.3, 0.0]')),
  (2, 'dogs',  emb_vec('[0.2, 0.3, 0.9, 0.1]')),
  (3, 'cats',  emb_vec('[0.25, 0.35, 0.85, 0.05]')),
  (4, 'hate',  emb_vec('[0.1, -0.8, 0.3, 0.0]'));
select 'I love dogs -> ids and vectors' as step;
select v.token_id, v.token, emb_json(v.vector) as vector
  from (select 0 as pos, 'I' as w union all select 1, 'love' union all select 2, 'dogs') s
  join vocab v on v.token = s.w order by s.pos;
-- 2. Cosine similarity: dogs is closer to cats than to hate.
select 'cosine similarity' as step;
select a.token as a, b.token as b, round(emb_cosine(a.vector, b.vector), 4) as cosine
  from vocab a, vocab b where a.token = 'dogs' and b.token in ('cats', 'hate', 'I');
-- 3. Sentence vector: mean pooling (EmbeddingBag 'mean').
select 'mean of I love dogs' as step;
select emb_json(emb_avg(vector)) as sentence from vocab where token in ('I', 'love', 'dogs');
-- 4. king - man + woman with small hand-written 3-dim vectors
--    (dims: royalty, maleness, femaleness).
create table words(token text primary key, vector blob);
insert into words values
  ('king',  emb_vec('[0.9, 0.8, 0.1]')), ('queen', emb_vec('[0.9, 0.1, 0.8]')),
  ('man',   emb_vec('[0.1, 0.9, 0.1]')), ('woman', emb_vec('[0.1, 0.1, 0.9]')),
  ('prince',emb_vec('[0.7, 0.7, 0.1]')), ('apple', emb_vec('[0.0, 0.1, 0.1]'));
select 'king - man + woman, ranked by cosine' as step;
with q(v) as (select emb_add(emb_sub(k.vector, m.vector), w.vector)
                from words k, words m, words w
               where k.token = 'king' and m.token = 'man' and w.token = 'woman')
select token, round(emb_cosine(vector, q.v), 4) as cosine
  from words, q where token not in ('king', 'man', 'woman')
 order by cosine desc;
select 'kernel set' as step, emb_isa() as isa, emb_version() as version;
