-- Bad input a demanding user would try: wrong types, NULL in every argument
-- position of every table-valued function, huge k / ids / bounds, names that
-- are not embedding tables, a dropped and re-created table, cache released
-- under an open cursor.  Each gives a clear error (exact text) or a defined
-- result; the sanitizer build runs this file too.
create virtual table w using embedding(dim=2);
insert into w(token_id, token, vector) values (0, 'a', '[1,0]'), (1, 'b', '[0,1]'), (2, 'c', '[1,1]');
create table plain(x);
create view vw as select 1;

-- table-name arguments
-- error: emb_lookup: table name must be text (found null)
select emb_lookup(null, 1);
-- error: emb_lookup: table name must be text (found integer)
select emb_lookup(1, 1);
-- error: emb_lookup: no such embedding table: vw
select emb_lookup('vw', 1);
-- error: emb_lookup: no such embedding table: main.
select emb_lookup('main.', 1);
-- error: emb_lookup: no such embedding table: .w
select emb_lookup('.w', 1);
-- error: emb_lookup: no such embedding table: nosuch.w
select emb_lookup('nosuch.w', 1);
-- error: emb_lookup: no such embedding table: w_chunks
select emb_lookup('w_chunks', 1);
-- error: emb_cache_release: table name must be text (found null)
select emb_cache_release(null);
select 'cache-int', emb_cache_release(3) = 0;
-- error: emb_lookup: token_id must be an integer (found real)
select emb_lookup('w', 1.5);
-- error: emb_lookup: token_id must be an integer (found blob)
select emb_lookup('w', x'00');
select 'lookup-max', emb_lookup('w', 9223372036854775807) is null;
select 'lookup-min', emb_lookup('w', -9223372036854775808) is null;
select 'tokid-int', emb_token_id('w', 1) is null;

-- emb_sequence: NULL in each position, argument counts, odd ids
-- error: emb_sequence: table name must be text (found null)
select * from emb_sequence(null, '[1]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', null);
select 'seq-null-pe', count(*) = 1 and max(token_id) = 1 from emb_sequence('w', '[1]', null);
-- error: emb_sequence: unknown pe '3' (expected none, sinusoidal, rope, rope:neox or rope:gptj)
select * from emb_sequence('w', '[1]', 3);
-- error: emb_sequence: expected arguments (table, ids [, pe])
select * from emb_sequence('w');
-- error: emb_sequence: expected arguments (table, ids [, pe])
select * from emb_sequence();
-- error: too many arguments on emb_sequence() - max 3
select * from emb_sequence('w', '[1]', 'none', 4);
-- error: emb_sequence: no such embedding table: plain
select * from emb_sequence('plain', '[1]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', '[[[1]]]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', '[1e300]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', '[1.5]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', '[true]');
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select * from emb_sequence('w', '[1,');
-- error: emb_sequence: token_id -1 not in table w
select * from emb_sequence('w', '[-1]');
-- error: emb_sequence: token_id 9223372036854775807 not in table w
select * from emb_sequence('w', '[99999999999999999999]');
-- rows: 0
select 'seq-empty', 0 from emb_sequence('w', '[]');
-- rows: 0
select 'seq-empty-inner', 0 from emb_sequence('w', '[[]]');
-- a million ids, with and without RoPE
select 'seq-1e6', count(*) = 1000000 and sum(token_id) = 1000000 from emb_sequence('w',
  (with recursive s(v) as (select 1 union all select v + 1 from s where v < 1000000)
   select json_group_array(v % 3) from s));
select 'seq-1e6-rope', count(*) = 1000000 from emb_sequence('w',
  (with recursive s(v) as (select 1 union all select v + 1 from s where v < 1000000)
   select json_group_array(v % 3) from s), 'rope');

-- emb_most_similar: NULL in each position, k extremes
-- error: emb_most_similar: table must be text (found null)
select * from emb_most_similar(null, '["a"]');
-- error: emb_most_similar: no input tokens (positive and negative are both empty)
select * from emb_most_similar('w', null);
-- error: emb_most_similar: no input tokens (positive and negative are both empty)
select * from emb_most_similar('w', null, null);
select 'ms-null-k', count(*) = 2 from emb_most_similar('w', '["a"]', null, null);
select 'ms-null-method', count(*) = 2 from emb_most_similar('w', '["a"]', null, 3, null);
select 'ms-kmax', count(*) = 2 from emb_most_similar('w', '["a"]', '[]', 9223372036854775807);
-- error: emb_most_similar: k must be >= 0 (found -1)
select * from emb_most_similar('w', '["a"]', '[]', -1);
-- error: emb_most_similar: k must be an integer (found real)
select * from emb_most_similar('w', '["a"]', '[]', 1e300);
-- error: emb_most_similar: k must be an integer (found text)
select * from emb_most_similar('w', '["a"]', '[]', 'x');
-- error: emb_most_similar: unknown token_id -1 in table w
select * from emb_most_similar('w', '[-1]', '[]');
-- error: emb_most_similar: positive must be a JSON array of tokens, token ids or vectors (found 'a')
select * from emb_most_similar('w', 'a', '[]');
-- error: emb_most_similar: positive[0] must be a token (string), a token id (integer) or a vector (array of numbers) (found null)
select * from emb_most_similar('w', '[null]');
-- error: emb_most_similar: positive[0] must be a token (string), a token id (integer) or a vector (array of numbers) (found real)
select * from emb_most_similar('w', '[1e300]');
-- error: emb_most_similar: no such embedding table: plain
select * from emb_most_similar('plain', '["a"]');
-- error: too many arguments on emb_most_similar() - max 6
select * from emb_most_similar('w', '["a"]', '[]', 3, '3cosadd', 5, 1);

-- 100000 nested brackets: a clear error, no deep recursion
-- error: emb_sequence: ids must be a JSON array of integers or of arrays of integers
select count(*) from emb_sequence('w', (select group_concat('[', '') || '0' || group_concat(']', '')
  from (with recursive s(v) as (select 1 union all select v + 1 from s where v < 100000) select v from s)));
-- error: emb_dims: invalid JSON vector: expected a number at offset 1 (found '[')
select emb_dims((select group_concat('[', '') || '0' || group_concat(']', '')
  from (with recursive s(v) as (select 1 union all select v + 1 from s where v < 100000) select v from s)));
select 'ms-100k-terms', count(*) = 0 from emb_most_similar('w',
  (select json_group_array(v % 3) from (with recursive s(v) as (select 1 union all select v + 1 from s where v < 100000) select v from s)));
select 'mul-kmax', count(*) = 1 from emb_most_similar('w', '["a"]', '["b"]', 9223372036854775807, '3cosmul');
select 'an-kmax', count(*) = 0 from emb_analogy('w', 'a', 'b', 'c', 9223372036854775807);
select 'lg-kmax', count(*) = 3 from emb_logits('w', '[1,0]', 9223372036854775807);

-- emb_analogy
-- error: emb_analogy: table must be text (found null)
select * from emb_analogy(null, 'a', 'b', 'c');
-- error: emb_analogy: a must be a token (text) or a token id (integer) (found null)
select * from emb_analogy('w', null, 'b', 'c');
-- error: emb_analogy: b must be a token (text) or a token id (integer) (found null)
select * from emb_analogy('w', 'a', null, 'c');
-- error: emb_analogy: c must be a token (text) or a token id (integer) (found null)
select * from emb_analogy('w', 'a', 'b', null);
-- error: emb_analogy: missing argument 'c' (usage: emb_analogy(table, a, b, c [, k]))
select * from emb_analogy('w', 'a', 'b');
-- error: emb_analogy: a must be a token (text) or a token id (integer) (found blob)
select * from emb_analogy('w', x'00', 'b', 'c');
-- rows: 0
select 'an-k0', 0 from emb_analogy('w', 'a', 'b', 'c', 0);

-- emb_logits
-- error: emb_logits: table must be text (found null)
select * from emb_logits(null, '[1,0]');
-- error: emb_logits: hidden must not be NULL
select * from emb_logits('w', null);
select 'lg-null-k', count(*) = 3 from emb_logits('w', '[1,0]', null);
select 'lg-null-temp', abs(sum(prob) - 1) < 1e-9 from emb_logits('w', '[1,0]', 3, null);
-- error: emb_logits: temperature must be > 0 (found 0)
select * from emb_logits('w', '[1,0]', 3, 0);
-- error: emb_logits: hidden has 3 values; table w has dim 2
select * from emb_logits('w', '[1,0,0]', 3);
-- error: emb_logits: expected a vector (f32 blob or JSON text), found integer
select * from emb_logits('w', 5);
-- huge logits and a tiny temperature stay finite probabilities
select 'lg-huge', abs(sum(prob) - 1) < 1e-9 from emb_logits('w', '[1e38,1e38]', 3);
select 'lg-tiny-temp', abs(sum(prob) - 1) < 1e-9 from emb_logits('w', '[1,0]', 3, 1e-320);

-- emb_knn
-- error: emb_knn: table must be text (found null)
select * from emb_knn(null, '[[1,0]]');
-- error: emb_knn: queries must not be NULL
select * from emb_knn('w', null);
-- error: emb_knn: missing argument 'queries' (usage: emb_knn(table, queries [, k [, metric]]))
select * from emb_knn('w');
-- error: emb_knn: table must be text (found integer)
select * from emb_knn(5, '[[1,0]]');
select 'knn-null-k', count(*) = 3 from emb_knn('w', '[[1,0]]', null);
select 'knn-null-metric', count(*) = 2 from emb_knn('w', '[[1,0]]', 2, null);
select 'knn-kmax', count(*) = 3 from emb_knn('w', zeroblob(8), 9223372036854775807, 'l2');
-- error: emb_knn: unknown metric '5' (expected 'cosine', 'dot' or 'l2')
select * from emb_knn('w', '[[1,0]]', 2, 5);
-- error: emb_knn: queries blob has 1 bytes, not a multiple of 4 * dim = 8 (table w has dim 2)
select * from emb_knn('w', x'00');
-- error: emb_knn: query 0: invalid JSON vector: expected a number at offset 1 (found '[')
select * from emb_knn('w', (select group_concat('[', '') || '0' || group_concat(']', '')
  from (with recursive s(v) as (select 1 union all select v + 1 from s where v < 100000) select v from s)));
select 'knn-100k-queries', count(*) = 300000 from emb_knn('w', (select json_group_array(json('[1,0]'))
  from (with recursive s(v) as (select 1 union all select v + 1 from s where v < 100000) select v from s)), 3);

-- evaluations
-- error: emb_eval_analogies: table must be text (found null)
select * from emb_eval_analogies(null, 'x');
-- error: emb_eval_analogies: path must be text (found null)
select * from emb_eval_analogies('w', null);
-- error: emb_eval_analogies: restrict must be >= 1 (found -1)
select * from emb_eval_analogies('w', '/dev/null', -1);
-- error: emb_eval_pairs: table must be text (found null)
select * from emb_eval_pairs(null, 'x');
-- error: emb_eval_pairs: path must be text (found null)
select * from emb_eval_pairs('w', null);
-- error: emb_eval_pairs: path must be text (found integer)
select * from emb_eval_pairs('w', 5);

-- readers and emb_random
-- error: emb_read_text: path must be text (found null)
select count(*) from emb_read_text(null);
-- error: emb_read_text: missing argument 'path' (usage: emb_read_text(path))
select count(*) from emb_read_text();
-- error: emb_read_safetensors: path must be text (found null)
select count(*) from emb_read_safetensors(null, 'x');
-- error: emb_read_safetensors: tensor must be text (found null)
select count(*) from emb_read_safetensors('/dev/null', null);
-- error: emb_random: rows must be an integer (found null)
select count(*) from emb_random(null, 2);
-- error: emb_random: dim must be an integer (found null)
select count(*) from emb_random(2, null);
select 'rand-null-seed', count(*) = 2 from emb_random(2, 2, null);
select 'rand-null-std', count(*) = 2 from emb_random(2, 2, 1, null);
-- error: emb_random: dim out of range (1..65536 vs 9223372036854775807)
select count(*) from emb_random(9223372036854775807, 9223372036854775807);
-- error: emb_random: std must be a finite number >= 0 (found inf)
select count(*) from emb_random(2, 2, 1, 1e309);

-- scalar functions
-- wrong argument counts are rejected by SQLite before the call
-- error: wrong number of arguments to function emb_l2()
select emb_l2('[1]');
-- error: wrong number of arguments to function emb_lookup()
select emb_lookup('w');
-- error: wrong number of arguments to function emb_rope()
select emb_rope('[1,0]', 1, 2, 'neox', 5);
-- error: emb_add: expected 2 or more vectors (found 0)
select emb_add();
-- error: emb_scale: scale factor must be finite (found Inf)
select emb_scale('[1]', 1e309);
-- error: emb_dims: vector dimension 100000000 exceeds the limit 65536
select emb_dims(zeroblob(400000000));
-- error: emb_pe: dim out of range (1..65536 vs 1000000000)
select emb_pe(1, 1000000000);
-- error: emb_rope: style must be 'neox' or 'gptj' (found integer)
select emb_rope('[1,0]', 1, 10000, 5);

-- the embedding table: id bounds at the int64 limits (used to overflow in
-- the range planner), odd k, MATCH values
-- rows: 0
select 'range-neg', 0 from w where token_id between 9223372036854775807 and -1;
-- rows: 0
select 'range-lt-min', 0 from w where token_id < -9223372036854775808;
-- rows: 0
select 'range-le-min', 0 from w where token_id <= -9223372036854775808;
-- rows: 0
select 'range-real-min', 0 from w where token_id < -1e300;
-- rows: 0
select 'range-knn-min', 0 from w where token_id < -1e300 and vector match '[1,0]' and k = 1;
-- rows: 0
select 'range-gt-max', 0 from w where token_id > 9223372036854775807;
select 'range-gt-min', count(*) = 3 from w where token_id > -9223372036854775808;
select 'range-in-extremes', count(*) = 0
  from w where token_id in (-9223372036854775808, 9223372036854775807, -1e300, 1e300);
select 'knn-kmax', count(*) = 3 from w where vector match '[1,0]' and k = 9223372036854775807;
-- error: embedding w: k must be a positive integer (found NULL)
select * from w where vector match '[1,0]' and k = null;
-- error: embedding w: k requires vector MATCH
select * from w where k = 1;
-- error: embedding w: unknown metric 'NULL' (expected cosine, dot or l2)
select * from w where vector match '[1,0]' and k = 2 and metric = null;
-- error: embedding w: vector MATCH: blob length 0 is not a positive multiple of 4
select * from w where vector match x'' and k = 1;
-- error: embedding w: vector MATCH: expected a vector (f32 blob or JSON text), found integer
select * from w where vector match 5 and k = 1;

-- dropped and re-created under the same name: the cache follows
create virtual table d using embedding(dim=2);
insert into d(vector) values ('[1,2]'), ('[3,4]');
select 'drop-before', emb_json(emb_lookup('d', 1)) = '[3,4]';
drop table d;
-- error: emb_lookup: no such embedding table: d
select emb_lookup('d', 0);
select 'drop-release', emb_cache_release('d') = 0;
create virtual table d using embedding(dim=3);
insert into d(vector) values ('[1,2,3]');
select 'drop-recreated', emb_json(emb_lookup('d', 0)) = '[1,2,3]' and emb_lookup('d', 1) is null;

-- the cache released while cursors over it are open: they keep their copy
select 'rel-seq', count(*) = 3 from (select emb_cache_release('w'), * from emb_sequence('w', '[0,1,2]'));
select 'rel-ms', count(*) = 2 from (select emb_cache_release('w'), * from emb_most_similar('w', '[0]'));
select 'rel-knn', count(*) = 3 from (select emb_cache_release('w'), * from w where vector match '[1,0]' and k = 3);
select 'rel-scan', count(*) = 3 from (select emb_cache_release('w'), * from w);
select 'rel-self-join', count(*) = 9 from (select emb_cache_release('w') from w, w as w2);

-- attached and temp schemas: detach, shadowing by temp, rename
attach ':memory:' as aux;
create virtual table aux.x using embedding(dim=2);
insert into aux.x(vector) values ('[1,2]');
select 'att-qualified', emb_json(emb_lookup('aux.x', 0)) = '[1,2]';
select 'att-search', emb_json(emb_lookup('x', 0)) = '[1,2]';
create virtual table temp.x using embedding(dim=3);
insert into temp.x(vector) values ('[1,2,3]');
select 'att-temp-first', emb_json(emb_lookup('x', 0)) = '[1,2,3]';
drop table temp.x;
select 'att-temp-dropped', emb_json(emb_lookup('x', 0)) = '[1,2]';
alter table aux.x rename to x2;
select 'att-renamed', emb_json(emb_lookup('x2', 0)) = '[1,2]';
-- error: emb_lookup: no such embedding table: x
select emb_lookup('x', 0);
detach aux;
-- error: emb_lookup: no such embedding table: aux.x2
select emb_lookup('aux.x2', 0);
-- error: emb_sequence: no such embedding table: x2
select * from emb_sequence('x2', '[0]');
