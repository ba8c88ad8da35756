-- tests/oom/statements.sql - the statements of the allocation-failure sweep
-- (tests/oom/oom_sweep.c).  Everything up to the "-- statements" line is the
-- setup script, run on a fresh in-memory database before each statement's
-- sweep; after it, one statement per line (lines starting with -- are
-- comments).  $DATA is tests/data, $FIX tests/fixtures, $TMP a scratch folder.
create virtual table w using embedding(dim=4);
insert into w(token_id, token, vector) values (0,'king','[0.9,0.8,0.1,0.2]'),(1,'queen','[0.85,0.9,0.15,0.3]'),(2,'man','[0.5,0.1,0.1,0.1]'),(3,'woman','[0.45,0.2,0.15,0.25]'),(4,'apple','[0.01,0.1,0.9,0.8]'),(5,'paris','[0.1,0.3,0.6,0.9]'),(6,'france','[0.2,0.4,0.5,0.95]'),(7,'rome','[0.15,0.35,0.55,0.9]'),(8,'italy','[0.25,0.45,0.45,0.97]'),(9,'prince','[0.8,0.7,0.2,0.25]');
create virtual table h using embedding(dim=8, dtype=f16, metric=l2);
insert into h(token_id, token, vector) select token_id, 'h' || token_id, vector from emb_random(40, 8, 3);
create virtual table q8 using embedding(dim=8, dtype=int8, metric=dot, chunk_rows=16);
insert into q8(token_id, token, vector) select token_id, 'q' || token_id, vector from emb_random(50, 8, 4);
create virtual table b16 using embedding(dim=8, dtype=bf16, chunk_rows=8);
insert into b16(token_id, vector) select token_id, vector from emb_random(20, 8, 5);
create virtual table big using embedding(dim=16);
insert into big(token_id, vector) select token_id, vector from emb_random(600, 16, 6);
create virtual table tiny using embedding(dim=64);
insert into tiny(token_id, token, vector) select * from emb_read_gguf('$DATA/stories260k-v3.gguf');
select emb_tokenizer_load('tiny', '$DATA/stories260k-v3.gguf');
create table plain(x);
create table ids(i integer primary key, v blob);
insert into ids values (1, emb_vec('[1,0,0,0]')), (2, emb_vec('[0,1,0,0]')), (3, null);
-- statements
-- vector functions
select emb_vec('[1, 2, 3]')
select emb_vec(x'0000803f00000040')
select emb_json(emb_vec('[0.1, -2, 3e-1]'))
select emb_json(x'cdcccc3d')
select emb_dims('[1,2,3,4,5,6,7,8,9,10]')
select emb_version(), emb_isa()
select emb_dot('[1,2,3]','[4,5,6]')
select emb_cosine('[1,0]','[1,1]')
select emb_cosine_distance('[1,0]','[0,1]')
select emb_l2('[0,0]','[3,4]')
select emb_norm('[3,4]')
select emb_json(emb_normalize('[3,4]'))
select emb_json(emb_add('[1,2]','[3,4]','[10,20]'))
select emb_json(emb_sub('[1,2]','[3,5]'))
select emb_json(emb_scale('[1,-2]', 0.5))
select emb_json(emb_add(emb_sub(emb_lookup('w', 0), emb_lookup('w', 2)), emb_lookup('w', 3)))
select emb_json(emb_sum(v)) from (select '[1,2]' v union all select '[3,4]' union all select null)
select emb_json(emb_avg(v)) from (select '[1,2]' v union all select '[3,4]')
select emb_json(emb_avg(vector)) from h
select emb_json(emb_sum(vector)) from big where token_id < 500
select emb_dims(emb_sum(vector)) from q8
select emb_cosine(v, '[1,1,0,0]') from ids
select emb_l2(emb_vec(x'0000803f'), '[1, 2]')
select emb_dot('[1,2', '[1,2]')
select emb_vec('[nan]')
select emb_vec(x'000000')
select emb_json(emb_vec('[' || (select group_concat('1', ',') from (select 1 from big limit 2000)) || ']'))
select emb_norm(zeroblob(4096))
select length(emb_vec(zeroblob(262144)))
-- positional encodings
select emb_json(emb_pe(3, 6))
select emb_json(emb_pe(0, 8, 500))
select length(emb_pe(1000, 4096))
select emb_json(emb_add_pe('[1,2,3,4]', 2))
select emb_json(emb_add_pe('[1,2,3,4]', 2, 100))
select emb_json(emb_rope('[1,2,3,4]', 5))
select emb_json(emb_rope('[1,2,3,4]', 5, 100, 'gptj'))
select emb_json(emb_rope('[1,2,3,4]', 5, 100, 'neox'))
select emb_rope('[1,2,3]', 5)
select emb_pe(-1, 4)
select emb_json(emb_rope(vector, token_id)) from w
-- the embedding table: lookups
select token_id, token, vector from w where token_id = 2
select token_id, emb_json(vector) from w where token_id in (0, 3, 7, 99)
select token from w where token = 'queen'
select token_id from w where token in ('king', 'rome', 'nope')
select group_concat(token_id) from w where token_id between 2 and 6
select count(*), sum(token_id) from big
select count(*) from big where token_id > 500
select token, vector from h where token_id = 17
select token_id, hex(vector) from q8 where token_id = 33
select emb_json(vector) from b16 where token_id = 19
select * from w order by token desc
select * from w where rowid = 4
select token_id from big where token_id = 599
select emb_json(emb_lookup('w', 3))
select emb_lookup('big', 123456)
select emb_token_id('w', 'rome')
select emb_token_id('h', 'h39')
select emb_lookup('nope', 1)
select emb_lookup('plain', 1)
select emb_cache_release('w') is not null
select emb_cache_release('big') is not null
select w.token, ids.i from ids join w on w.token_id = ids.i
select token_id, emb_l2(vector, '[0,0,0,0]') from w where token_id < 5
-- the embedding table: nearest neighbours
select token, distance from w where vector match '[1,0.1,0,0]' and k = 3
select token, distance from w where vector match '[1,0.1,0,0]' order by distance limit 3
select token, distance from w where vector match '[1,0,0,0]' and k = 2 and metric = 'l2'
select token, distance from w where vector match '[1,0,0,0]' and k = 4 and metric = 'dot'
select token_id, distance from big where vector match (select vector from big where token_id = 7) and k = 10
select token_id, distance from big where vector match (select vector from big where token_id = 8) order by distance limit 20
select token_id, distance from big where vector match emb_vec('[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]') and k = 5 and metric = 'l2'
select token_id, distance from h where vector match (select vector from h where token_id = 3) and k = 7
select token_id, distance from q8 where vector match (select vector from q8 where token_id = 3) and k = 7
select token_id, distance from b16 where vector match (select vector from b16 where token_id = 3) and k = 7
select token_id from tiny where vector match (select vector from tiny where token_id = 300) and k = 3
select token, distance from w where vector match '[1,0,0]' and k = 3
select token, distance from w where vector match '[1,0,0,0]' and k = -1
select token, distance from w where vector match '[1,0,0,0]' and k = 100000
select token, distance from w where vector match '[1,0,0,0]' and k = 3 and metric = 'hamming'
select i, (select token from w where vector match ids.v and k = 1) from ids
select count(*) from w a, w b where b.vector match a.vector and b.k = 2
-- emb_knn
select query, rank, token_id, distance from emb_knn('w', '[[1,0.1,0,0],[0,1,0,0]]', 2)
select query, rank, token from emb_knn('w', x'0000803f000000000000000000000000', 3, 'dot')
select query, rank, token_id from emb_knn('big', (select group_concat(emb_json(vector)) from big where token_id < 9), 4)
select count(*) from emb_knn('big', '[' || (select group_concat(emb_json(vector)) from big where token_id < 40) || ']', 5, 'l2')
select query, rank, token_id from emb_knn('h', '[[1,2,3,4,5,6,7,8]]', 3)
select query, rank, token_id from emb_knn('q8', '[[1,2,3,4,5,6,7,8],[8,7,6,5,4,3,2,1]]', 3)
select * from emb_knn('w', '[[1,0]]')
select * from emb_knn('w', '[[1,0,0,0]]', 0)
select * from emb_knn('w', x'00000000', 2)
select * from emb_knn('nope', '[[1,0,0,0]]', 2)
-- table-valued functions: sequences, bags
select pos, token_id, emb_json(vector) from emb_sequence('w', '[2, 1, 2]')
select batch, pos, token_id from emb_sequence('w', '[[0,1],[2,3],[4,5]]')
select pos, emb_json(vector) from emb_sequence('w', '[1,2,3]', 'sinusoidal')
select pos, emb_json(vector) from emb_sequence('w', '[1,2,3]', 'rope')
select pos, emb_json(vector) from emb_sequence('w', '[1,2,3]', 'rope:gptj')
select count(*) from emb_sequence('big', (select json_group_array(token_id) from big))
select * from emb_sequence('w', '[1, 99]')
select * from emb_sequence('w', '[1,')
select bag, emb_json(vector) from emb_bag('w', '[1,3,7,2,2,9]', '[0,2,2]', 'max')
select bag, emb_json(vector) from emb_bag('w', '[[1,3],[2,9]]', null, 'sum', '[[0.5,2],[1,1]]', 2)
select bag, emb_json(vector) from emb_bag('w', '[1,3,7]', '[0,1,3]', 'mean', null, null, 1)
select bag, emb_json(vector) from emb_bag('w', '[1,3,7]', '[0,1]', 'mean', null, null, 0, 1.0)
select * from emb_bag('w', '[1,3,70]', '[0]')
select pos, token_id, emb_json(vector) from emb_embedding('w', '[3,7,3]', 1.0)
select batch, pos, token_id from emb_embedding('w', '[[3,7],[1,2]]')
select * from emb_embedding('w', '[3,7,300]')
-- emb_random
select token_id, emb_json(vector) from emb_random(3, 4, 7, 0.02)
select count(*), sum(emb_dims(vector)) from emb_random(500, 32, 1)
select * from emb_random(-1, 4)
select * from emb_random(2, 0)
-- semantics (gensim)
select token, score from emb_most_similar('w', '["king","woman"]', '["man"]', 3)
select token_id, score from emb_most_similar('w', '[0, 3]', '[2]', 3, '3cosmul')
select token, score from emb_most_similar('w', '["italy"]', null, 2)
select token, score from emb_most_similar('w', json_array(json(emb_json(emb_lookup('w', 0))), 'woman'), '["man"]', 3, null, 5)
select token, score from emb_most_similar('w', '["nope"]', '[]')
select token, score from emb_most_similar('big', '[1, 2, 3]', '[4]', 5)
select token, score from emb_analogy('w', 'man', 'king', 'woman', 2)
select token, score from emb_analogy('w', 'paris', 'france', 'rome', 1)
select token, logit, prob from emb_logits('w', '[0.5,1,0,0]', 5, 0.8)
select token_id, logit from emb_logits('big', (select vector from big where token_id = 1), 3)
select count(*) from emb_logits('tiny', (select vector from tiny where token_id = 10))
select * from emb_logits('w', '[1,2]', 3)
select token, score from emb_similar_by_vector('w', emb_lookup('w', 0), 3)
select token, score from emb_similar_by_vector('w', '[0,0,1,1]', 3, 5)
select token from emb_doesnt_match('w', '["paris","france","rome","king"]')
select token, score from emb_most_similar_to_given('w', 'king', '["queen","apple","man"]')
select token from emb_closer_than('w', 'king', 'man')
select token, distance from emb_distances('w', 'king', '["queen","man"]')
select token, distance from emb_distances('w', 'king')
select token, distance from emb_distances('w', '[1,0,0,0]')
select emb_similarity('w', 'king', 'queen'), emb_rank('w', 'king', 'queen')
select emb_n_similarity('w', '["king","man"]', '["queen","woman"]')
select emb_relative_cosine_similarity('w', 'king', 'queen', 3)
select emb_relative_cosine_similarity('w', 'king', 'queen')
select emb_similarity('w', 'king', 'nope')
select section, correct, total from emb_eval_analogies('w', '$FIX/keyed/questions-lf.txt')
select section, correct, total from emb_eval_analogies('w', '$FIX/keyed/questions-crlf.txt', 5, 1)
select pearson, spearman, oov_ratio from emb_eval_pairs('w', '$FIX/keyed/wordsim353-lf.tsv')
select pearson, spearman, oov_ratio from emb_eval_pairs('w', '$FIX/keyed/unicase-pairs.tsv', 0, 1, 1)
select * from emb_eval_pairs('w', '$FIX/nope.tsv')
select token, x, y from emb_pca('w', '["king","queen","man","woman"]', 2)
select token, coords from emb_pca('w', '["paris","france","rome","italy"]', 3)
select count(*) from emb_pca('w')
select count(*) from emb_pca('big', null, 3)
-- readers
select token_id, token, emb_json(vector) from emb_read_text('$FIX/text/glove.txt')
select count(*) from emb_read_text('$FIX/text/header.vec')
select count(*) from emb_read_text('$FIX/text/crlf.txt')
select count(*) from emb_read_text('$FIX/text/tabs.txt')
select count(*) from emb_read_text('$FIX/text/spellings.txt')
select * from emb_read_text('$FIX/text/ragged.txt')
select * from emb_read_text('$FIX/text/badutf8.txt')
select * from emb_read_text('$FIX/text/nan.txt')
select * from emb_read_text('$FIX/nope.txt')
select count(*) from emb_read_text('$DATA/googlenews-w2v-257x300.txt')
select count(*) from emb_read_word2vec('$FIX/word2vec/nl.bin')
select token, emb_json(vector) from emb_read_word2vec('$FIX/word2vec/nonl.bin')
select * from emb_read_word2vec('$FIX/word2vec/truncated.bin')
select token_id, emb_json(vector) from emb_read_npy('$FIX/npy/v1_f4.npy')
select count(*) from emb_read_npy('$FIX/npy/v2_f2.npy')
select count(*) from emb_read_npy('$FIX/npy/v3_f8.npy')
select count(*) from emb_read_npy('$FIX/npy/fortran.npy')
select * from emb_read_npy('$FIX/npy/truncated.npy')
select * from emb_read_npy('$FIX/npy/big_endian.npy')
select count(*) from emb_read_npy('$FIX/hf/embed.expected.npy', '$FIX/hf/vocab.txt')
select count(*) from emb_read_safetensors('$FIX/safetensors/model.safetensors', (select 'embed'))
select * from emb_read_safetensors('$FIX/safetensors/truncated.safetensors', 'embed')
select * from emb_read_safetensors('$FIX/safetensors/bad_json.safetensors', 'embed')
select count(*) from emb_read_safetensors('$FIX/hf/model.safetensors.index.json', 'model.embed_tokens.weight', '$FIX/hf/tokenizer.json')
select count(*) from emb_read_gguf('$FIX/gguf/v3.gguf')
select count(*) from emb_read_gguf('$FIX/gguf/v1.gguf')
select count(*) from emb_read_gguf('$FIX/gguf/q8_0.gguf')
select count(*) from emb_read_gguf('$FIX/gguf/quant/q4_k.gguf')
select count(*) from emb_read_gguf('$FIX/gguf/quant/q6_k.gguf')
select count(*) from emb_read_gguf('$FIX/gguf/quant/bf16.gguf')
select * from emb_read_gguf('$FIX/gguf/truncated.gguf')
select * from emb_read_gguf('$FIX/gguf/bad_magic.gguf')
select count(*), sum(length(token)) from emb_read_gguf('$DATA/stories260k-f32.gguf')
select * from emb_read_gguf('$DATA/stories260k-f32.gguf', 'nope')
-- writes: insert
insert into w(token_id, token, vector) values (10, 'duke', '[0.7,0.6,0.2,0.2]')
insert into w(token, vector) values ('duchess', '[0.7,0.7,0.2,0.3]')
insert into w(token_id, vector) values (11, x'0000803f0000803f0000803f0000803f')
insert into w(token_id, token, vector) values (3, 'again', '[1,1,1,1]')
insert into w(token_id, token, vector) values (12, 'king', '[1,1,1,1]')
insert into w(token_id, token, vector) values (13, 'bad', '[1,1,1]')
insert into w(token_id, token, vector) values (14, 'nan', '[1,1,1,nan]')
insert into w(token_id, token, vector) values (-1, 'neg', '[1,1,1,1]')
insert into w(token_id, token, vector) values (1000000, 'far', '[1,1,1,1]')
insert or replace into w(token_id, token, vector) values (3, 'lady', '[0.4,0.3,0.2,0.3]')
insert into w(token_id, token, vector) select token_id + 20, 'b' || token_id, emb_vec(substr(vector, 1, 16)) from big where token_id < 100
insert into big(token_id, vector) select token_id + 600, vector from emb_random(300, 16, 9)
insert into h(token_id, token, vector) select token_id + 40, 'x' || token_id, vector from emb_random(30, 8, 10)
insert into q8(token_id, vector) select token_id + 50, vector from emb_random(40, 8, 11)
insert into b16(token_id, vector) select token_id + 20, vector from emb_random(40, 8, 12)
insert into w(token_id, token, vector) select token_id + 100, token, vector from emb_read_text('$FIX/text/glove.txt') where emb_dims(vector) = 4
insert into h(token_id, token, vector) select token_id + 200, token, vector from emb_random(20, 8, 13)
insert into big(token_id, vector) values (5000, emb_vec('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'))
-- writes: update
update w set vector = emb_sub(vector, emb_scale('[0.1,0.1,0.1,0.1]', 0.01)) where token_id = 2
update w set token = 'monarch' where token_id = 0
update w set token = null where token_id = 4
update w set token = 'queen' where token_id = 0
update w set vector = '[1,2]' where token_id = 0
update w set token_id = 50 where token_id = 5
update w set vector = emb_normalize(vector)
update big set vector = emb_scale(vector, 2) where token_id between 100 and 400
update h set vector = emb_add(vector, vector) where token_id % 3 = 0
update q8 set vector = emb_scale(vector, 0.5) where token_id < 20
update b16 set token = 'b' || token_id
update tiny set vector = emb_scale(vector, 1.5) where token_id < 64
-- writes: delete
delete from w where token_id = 0
delete from w where token = 'rome'
delete from w where token_id in (1, 2, 3)
delete from w
delete from big where token_id >= 300
delete from big where token_id % 7 = 0
delete from h where token_id > 20
delete from q8 where token_id between 10 and 30
delete from b16 where token_id < 10
delete from tiny where token_id >= 256
delete from w where token_id = 999
-- schema changes
create virtual table nw using embedding(dim=16)
create virtual table nw using embedding(dim=16, dtype=f16, metric=dot, chunk_rows=64)
create virtual table nw using embedding(dim=3, dtype=int8, metric=l2)
create virtual table nw using embedding(dim=8, sketch=none)
create virtual table nw using embedding(dim=0)
create virtual table nw using embedding(dim=4, dtype=f64)
create virtual table nw using embedding(dim=4, bogus=1)
drop table w
drop table big
drop table tiny
drop table q8
alter table w rename to w2
alter table big rename to big2
-- tokenizer
select pos, token_id, token from emb_tokenize('tiny', 'I love dogs', 0)
select pos, token_id, token from emb_tokenize('tiny', 'Once upon a time, there was a little girl named Lily.')
select emb_tokens_json('tiny', 'I love dogs')
select emb_tokens_json('tiny', 'The quick brown fox jumps over the lazy dog. ' || char(233) || char(8364), 1)
select emb_tokens_json('tiny', cast(x'ff00c3' as text))
select emb_detokenize('tiny', '[359, 401, 360]')
select emb_detokenize('tiny', '[1, 2, 3, 400, 511]')
select emb_detokenize('tiny', '[100000]')
select emb_tokenizer_info('tiny')
select emb_tokenizer_load('w', '$DATA/stories260k-v3.gguf')
select emb_tokenizer_load('big', '$DATA/gpt2-r50k-tokenizer.gguf')
select emb_tokenizer_load('w', '$FIX/gguf/bad_magic.gguf')
select emb_tokenize('w', 'x')
select count(*) from emb_sequence('tiny', emb_tokens_json('tiny', 'I love dogs', 0), 'rope')
select count(*) from emb_tokenize('tiny', (select group_concat(token, ' ') from tiny where token_id between 300 and 500))
-- one-call import (table created or filled) and the gensim alias
select emb_import_gguf('imp', '$DATA/stories260k-v3.gguf')
select emb_import_gguf('tiny', '$DATA/stories260k-f32.gguf', 'token_embd.weight')
select emb_import_gguf('w', '$DATA/stories260k-v3.gguf')
select token from emb_words_closer_than('w', 'king', 'man')
