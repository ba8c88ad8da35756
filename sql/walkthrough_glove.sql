-- Walkthrough 4: word analogies with GloVe (6B, 50d, first 10,000 words),
-- with gensim 4.2's exact rules and numbers.
--   sqlite3 :memory: -cmd '.load ./embext' -cmd ".param set :data 'tests/data'" \
--       < sql/walkthrough_glove.sql
-- Every result row ends in a check column that must be 1 (tests run this file).
create virtual table glove using embedding(dim=50);
insert into glove(token_id, token, vector)
  select * from emb_read_text(:data || '/glove.6B.50d.10k.txt');

-- king - man + woman = ?   (gensim: queen 0.8524, throne, prince, daughter, elizabeth)
select 'king-man+woman', token, round(score, 4) as score,
       json_extract('{"queen":0.8524,"throne":0.7664,"prince":0.7592,"daughter":0.7474,"elizabeth":0.7460}',
                    '$.' || token) - score between -1e-4 and 1e-4 as ok
  from emb_most_similar('glove', '["king", "woman"]', '["man"]', 5);
-- the same as "man is to king as woman is to ?"
select 'analogy', token, token = 'queen' as ok from emb_analogy('glove', 'man', 'king', 'woman', 1);
-- by hand: plain vector arithmetic and a nearest-neighbour query.  The inputs
-- are not normalised and not excluded here, so king itself comes first.
select 'by-hand', token, round(1 - distance, 4) as cosine, token in ('king', 'queen') as ok
  from glove where vector match emb_add(emb_sub(emb_lookup('glove', emb_token_id('glove', 'king')),
                                                emb_lookup('glove', emb_token_id('glove', 'man'))),
                                        emb_lookup('glove', emb_token_id('glove', 'woman')))
   and k = 2;
-- 3CosMul (Levy & Goldberg) agrees here
select '3cosmul', token, token = 'queen' as ok
  from emb_most_similar('glove', '["king", "woman"]', '["man"]', 1, '3cosmul');
-- capitals
select 'paris-france+germany', token, token = 'berlin' as ok
  from emb_analogy('glove', 'france', 'paris', 'germany', 1);
-- the Google analogy test set, gensim's evaluate_word_analogies rules:
-- 3958 of the 6762 answerable questions (58.53 %), as gensim 4.2 reports
select 'accuracy', correct, total, round(100.0 * correct / total, 2) as percent,
       correct = 3958 and total = 6762 as ok
  from emb_eval_analogies('glove', :data || '/questions-words.txt') where section = 'Total accuracy';
-- word similarity: Spearman correlation with human judgements (WordSim-353)
select 'wordsim353', round(pearson, 4) as pearson, round(spearman, 4) as spearman,
       round(oov_ratio, 1) as oov_percent, abs(spearman - 0.5269) < 1e-4 as ok
  from emb_eval_pairs('glove', :data || '/wordsim353.tsv');
