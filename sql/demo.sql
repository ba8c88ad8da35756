-- embext demo: `make demo` runs this on the shipped real data
-- (data/glove.6B.50d.5k.txt: the 5,000 most frequent words of GloVe 6B 50d, PDDL).
.headers on
.mode box
.timer off

-- 1. Import a real matrix into an embedding table stored in the database.
create virtual table glove using embedding(dim=50, metric=cosine);
insert into glove(token_id, token, vector) select * from emb_read_text('data/glove.6B.50d.5k.txt');
select count(*) as rows, emb_dims(vector) as dim, emb_isa() as kernels from glove;

-- 2. Lookups: by token (index), by id, a sequence "the king and the queen" -> ids -> vectors.
select token_id, token, substr(emb_json(vector), 1, 48) || '...' as vector
  from glove where token = 'king';
select token_id, token from glove where token_id in (0, 1, 2, 3);
select s.pos, s.token_id, g.token, round(emb_norm(s.vector), 4) as norm
  from emb_sequence('glove', (select json_group_array(token_id) from
         (select t.token_id from (select 0 as p, 'the' as w union all select 1, 'king'
            union all select 2, 'and' union all select 3, 'the' union all select 4, 'queen') q
          join glove t on t.token = q.w order by q.p))) s
  join glove g on g.token_id = s.token_id;

-- 3. Nearest neighbours of "king" (exact cosine top-k by SIMD scan).
select token, round(1 - distance, 4) as cosine
  from glove where vector match (select vector from glove where token = 'king') and k = 6;

-- 4. king - man + woman = ?  gensim's most_similar rules (inputs normalised, excluded).
select token, round(score, 4) as score
  from emb_most_similar('glove', '["king", "woman"]', '["man"]', 5);
--    ... and the same with plain vector arithmetic and a KNN query:
select token, round(1 - distance, 4) as cosine from glove
 where vector match (select emb_add(emb_sub(emb_normalize(k.vector), emb_normalize(m.vector)),
                                    emb_normalize(w.vector))
                       from glove k, glove m, glove w
                      where k.token = 'king' and m.token = 'man' and w.token = 'woman')
   and k = 5;

-- 5. More analogies: a is to b as c is to ?
select 'paris : france :: tokyo : ?' as question, token, round(score, 4) as score
  from emb_analogy('glove', 'paris', 'france', 'tokyo', 1)
union all
select 'good : better :: bad : ?', token, round(score, 4)
  from emb_analogy('glove', 'good', 'better', 'bad', 1);

-- 6. Similarity of word pairs, and sentence vectors (mean pooling, EmbeddingBag 'mean').
select a.token as a, b.token as b, round(emb_cosine(a.vector, b.vector), 4) as cosine
  from glove a, glove b
 where (a.token, b.token) in (values ('dog', 'dogs'), ('dog', 'car'), ('film', 'movie'), ('love', 'music'));
select round(emb_cosine((select emb_avg(vector) from glove where token in ('i', 'love', 'dogs')),
                        (select emb_avg(vector) from glove where token in ('we', 'like', 'horse'))), 4)
       as "cos(mean(i love dogs), mean(we like horse))";

-- 7. Positional encodings for a 3-token sequence (the input representation of a transformer).
select pos, token_id, substr(emb_json(vector), 1, 40) || '...' as token_plus_sinusoidal_pe
  from emb_sequence('glove', '[49, 1, 3]', 'sinusoidal');
