-- Table-valued semantics functions (ext/tvf_semantics.c): small hand-checked
-- cases, argument handling, errors by exact text, cache invalidation, and
-- DIRECTONLY for the file readers.  gensim/numpy numbers: semantics_gensim.sql.
create virtual table w using embedding(dim=2);
insert into w(token_id, token, vector) values
  (0, 'a', '[1,0]'), (1, 'b', '[0,2]'), (2, 'c', '[0.6,0.8]'), (3, 'd', '[-1,0.2]'),
  (5, 'it''s', '[0.1,0.9]'), (6, 'zero', '[0,0]');

-- most_similar of one token = cosine ranking, input excluded, absent id 4 never returned
-- rows: 5
select 'ms-one-' || token_id,
       abs(score - emb_cosine((select vector from w where token = 'a'), emb_lookup('w', token_id))) < 1e-6
  from emb_most_similar('w', '["a"]', '[]');
select 'ms-one-order', (select json_group_array(token) from emb_most_similar('w', '["a"]', '[]'))
       = '["c","it''s","b","zero","d"]';
select 'ms-zero-row', score = 0.0 from emb_most_similar('w', '["a"]', NULL) where token = 'zero';
-- negative only; NULL and '[]' are empty; ids and tokens mixed; k limits
select 'ms-neg', (select json_group_array(token) from emb_most_similar('w', NULL, '["a"]', 1)) = '["d"]';
select 'ms-mixed', (select json_group_array(token_id) from emb_most_similar('w', '["a", 1]', '[]', 2))
       = (select json_group_array(token_id) from emb_most_similar('w', '[0, "b"]', NULL, 2));
select 'ms-k0', (select count(*) from emb_most_similar('w', '["a"]', '[]', 0)) = 0;
select 'ms-kbig', (select count(*) from emb_most_similar('w', '["a"]', '[]', 1000000)) = 5;
select 'ms-default-k', (select count(*) from emb_most_similar('w', '["a"]')) = 5;
-- a + b: the mean of the unit vectors is (1,1)/sqrt2: c scores cos(45 - 53.13 deg)
select 'ms-mean', abs(score - cos(radians(53.130102354) - radians(45))) < 1e-6
  from emb_most_similar('w', '["a","b"]', '[]', 1) where token = 'c';
-- 3cosmul: one positive ranks like cosine; score = (1 + cos) / 2 / (1 + 1e-6)
select 'mul-one', (select json_group_array(token) from emb_most_similar('w', '["a"]', '[]', 10, '3cosmul'))
       = '["c","it''s","b","zero","d"]';
select 'mul-score', abs(score - (1 + 0.6) / 2 / (1 + 1e-6)) < 1e-6
  from emb_most_similar('w', '["a"]', '[]', 1, '3cosmul');
select 'mul-null-method', (select json_group_array(token) from emb_most_similar('w', '["a"]', '[]', 3, NULL))
       = '["c","it''s","b"]';
-- emb_analogy(a, b, c) = most_similar([b, c], [a])
select 'analogy-eq', (select json_group_array(json_array(token_id, score)) from emb_analogy('w', 'a', 'b', 'c'))
       = (select json_group_array(json_array(token_id, score)) from emb_most_similar('w', '["b","c"]', '["a"]'));
select 'analogy-ids', (select json_group_array(token_id) from emb_analogy('w', 0, 1, 'c', 2))
       = (select json_group_array(token_id) from emb_analogy('w', 'a', 'b', 'c', 2));
-- as a join: one call per outer row (the arguments come from columns)
create table q(pos text);
insert into q values ('["a"]'), ('["b"]');
-- rows: 2
select 'join-' || q.pos, s.token_id is not null from q, emb_most_similar('w', q.pos, '[]', 1) s;

-- writes are seen by the next call (the cache follows the table's version)
update w set vector = '[1,0.1]' where token = 'b';
select 'ms-after-update', (select json_group_array(token) from emb_most_similar('w', '["a"]', '[]', 5))
       = '["b","c","it''s","zero","d"]';
delete from w where token = 'c';
select 'ms-after-delete', (select count(*) from emb_most_similar('w', '["a"]', '[]')) = 4;
insert into w(token_id, token, vector) values (9, 'new', '[2,0.1]');
select 'ms-after-insert', (select token from emb_most_similar('w', '["a"]', '[]', 1)) = 'new';

-- logits: dot with every row; softmax over all rows
-- rows now: a [1,0], b [1,0.1], d [-1,0.2], it's [0.1,0.9], zero [0,0], new [2,0.1]
select 'lg-values', abs(logit - 2.0) < 1e-6
       and abs(prob - exp(2.0) / (exp(2.0) + exp(2.1) + exp(-1.8) + exp(1.1) + exp(0) + exp(4.1))) < 1e-7
  from emb_logits('w', '[2,1]', 10) where token = 'a';
select 'lg-sum', abs((select sum(prob) from emb_logits('w', '[2,1]', 100)) - 1) < 1e-9;
select 'lg-order', (select json_group_array(token) from emb_logits('w', '[2,1]', 3)) = '["new","b","a"]';
select 'lg-temp', (select prob from emb_logits('w', '[2,1]', 1, 0.5)) > (select prob from emb_logits('w', '[2,1]', 1));
select 'lg-tie', (select json_group_array(token_id) from emb_logits('w', '[0,0]', 3)) = '[0,1,3]';
select 'lg-blob', (select token from emb_logits('w', emb_vec('[2,1]'), 1)) = 'new';
select 'lg-big', (select prob from emb_logits('w', '[1000,0]', 1)) = 1.0;

-- errors
-- error: emb_most_similar: unknown token 'zz' in table w
select * from emb_most_similar('w', '["zz"]', '[]');
-- error: emb_most_similar: unknown token 'c' in table w
select * from emb_most_similar('w', '["a"]', '["c"]');
-- error: emb_most_similar: unknown token_id 4 in table w
select * from emb_most_similar('w', '[4]', '[]');
-- error: emb_most_similar: unknown token_id -1 in table w
select * from emb_most_similar('w', '[-1]', '[]');
-- error: emb_most_similar: positive must be a JSON array of tokens, token ids or vectors (found 'a')
select * from emb_most_similar('w', 'a', '[]');
-- error: emb_most_similar: negative must be a JSON array of tokens, token ids or vectors (found '{"a":1}')
select * from emb_most_similar('w', '["a"]', '{"a":1}');
-- error: emb_most_similar: positive must be a JSON array of tokens, token ids or vectors (found integer)
select * from emb_most_similar('w', 5, '[]');
-- error: emb_most_similar: positive[1] must be a token (string), a token id (integer) or a vector (array of numbers) (found real)
select * from emb_most_similar('w', '["a", 1.5]', '[]');
-- error: emb_most_similar: positive[0] is not a vector: expected a number at offset 1 (found '"')
select * from emb_most_similar('w', '[["a"]]', '[]');
-- error: emb_most_similar: no input tokens (positive and negative are both empty)
select * from emb_most_similar('w', '[]', NULL);
-- error: emb_most_similar: 3cosmul needs at least one positive token
select * from emb_most_similar('w', NULL, '["a"]', 3, '3cosmul');
-- error: emb_most_similar: unknown method 'cos' (expected '3cosadd' or '3cosmul')
select * from emb_most_similar('w', '["a"]', '[]', 3, 'cos');
-- error: emb_most_similar: k must be >= 0 (found -1)
select * from emb_most_similar('w', '["a"]', '[]', -1);
-- error: emb_most_similar: k must be an integer (found text)
select * from emb_most_similar('w', '["a"]', '[]', 'ten');
-- error: emb_most_similar: no such embedding table: nope
select * from emb_most_similar('nope', '["a"]', '[]');
-- error: emb_most_similar: table must be text (found integer)
select * from emb_most_similar(1, '["a"]', '[]');
-- error: emb_most_similar: missing argument 'table' (usage: emb_most_similar(table [, positive [, negative [, k [, method [, restrict]]]]]))
select * from emb_most_similar;
-- error: emb_analogy: unknown token 'zz' in table w
select * from emb_analogy('w', 'a', 'b', 'zz');
-- error: emb_analogy: missing argument 'c' (usage: emb_analogy(table, a, b, c [, k]))
select * from emb_analogy('w', 'a', 'b');
-- error: emb_analogy: a must be a token (text) or a token id (integer) (found null)
select * from emb_analogy('w', NULL, 'b', 'a');
-- error: emb_analogy: c must be a token (text) or a token id (integer) (found real)
select * from emb_analogy('w', 'a', 'b', 2.5);
-- error: emb_logits: hidden has 3 values; table w has dim 2
select * from emb_logits('w', '[1,2,3]');
-- error: emb_logits: temperature must be > 0 (found 0)
select * from emb_logits('w', '[1,2]', 2, 0);
-- error: emb_logits: temperature must be > 0 (found -1.5)
select * from emb_logits('w', '[1,2]', 2, -1.5);
-- error: emb_logits: temperature must be a number (found text)
select * from emb_logits('w', '[1,2]', 2, 'hot');
-- error: emb_logits: hidden must not be NULL
select * from emb_logits('w', NULL);
-- error: emb_logits: expected a vector (f32 blob or JSON text), found integer
select * from emb_logits('w', 7);
-- error: emb_logits: missing argument 'hidden' (usage: emb_logits(table, hidden [, k [, temperature]]))
select * from emb_logits('w');
-- error: emb_eval_analogies: no/such/file.txt: cannot open (No such file or directory)
select * from emb_eval_analogies('w', 'no/such/file.txt');
-- error: emb_eval_analogies: restrict must be >= 1 (found 0)
select * from emb_eval_analogies('w', 'x', 0);
-- error: emb_eval_pairs: path must be text (found integer)
select * from emb_eval_pairs('w', 42);
-- error: emb_eval_pairs: no valid similarity judgements (353 pairs out of vocabulary)
select * from emb_eval_pairs('w', :data || '/wordsim353.tsv');

-- the evaluations read files: not usable from views or triggers (DIRECTONLY)
create table paths(name text primary key, p text);
insert into paths values ('ws', :data || '/wordsim353.tsv'), ('qw', :data || '/questions-words.txt');
create view ev as select * from emb_eval_pairs('w', (select p from paths where name = 'ws'));
-- error: unsafe use of virtual table "emb_eval_pairs"
select * from ev;
create view ea as select * from emb_eval_analogies('w', (select p from paths where name = 'qw'));
-- error: unsafe use of virtual table "emb_eval_analogies"
select * from ea;
-- emb_most_similar is not DIRECTONLY: it reads no file
create view ms as select token from emb_most_similar('w', '["a"]', '[]', 1);
select 'view-ms', (select token from ms) = 'new';

-- evaluations on a tiny table: the section rows and the total
create virtual table t using embedding(dim=2);
insert into t(token_id, token, vector) values (0, 'athens', '[1,0]'), (1, 'greece', '[0,1]'),
  (2, 'rome', '[0.7,0.1]'), (3, 'italy', '[0.6,0.9]');
-- with 4 words the only candidate left is the answer: every answerable question is right
-- rows: 3
select 'ea-small-' || section, correct = total and total = case section
         when 'capital-common-countries' then 2 when 'capital-world' then 1 else 3 end
  from emb_eval_analogies('t', :data || '/questions-words.txt') where total > 0;
select 'ea-small-count', (select count(*) from emb_eval_analogies('t', :data || '/questions-words.txt')) = 15;
select 'ea-small-restrict', (select correct || '/' || total from emb_eval_analogies('t', :data || '/questions-words.txt', 3)
       where section = 'Total accuracy') = '0/0';
