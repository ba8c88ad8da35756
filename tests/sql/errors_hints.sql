-- Error messages a gensim / PyTorch / sqlite-vec user meets (issue 14): each
-- names the function or table first, what was expected and what was found,
-- and how to fix it where there is one fix.  Exact texts; the README's
-- "Errors" list is this file's subset.
create virtual table w using embedding(dim=2);
insert into w(token_id, token, vector) values (0, 'a', '[1,0]'), (1, 'b', '[0,1]'), (2, 'c', '[1,1]');
create virtual table wb using embedding(dim=2, dtype=bf16);
-- error: embedding w: vector MATCH needs a bound: add k = N, or ORDER BY distance LIMIT N
select * from w where vector match '[1,0]';
-- error: embedding w: vector MATCH needs a bound: add k = N, or ORDER BY distance LIMIT N
select token_id from w where vector match '[1,0]' limit 2;
-- error: embedding w: k must be a positive integer (found 0)
select * from w where vector match '[1,0]' and k = 0;
-- error: emb_knn: k must be >= 1 (found 0)
select * from emb_knn('w', '[[1,0]]', 0);
-- error: emb_knn: k must be >= 1 (found -3)
select * from emb_knn('w', '[[1,0]]', -3);
-- error: emb_knn: query 0 has 3 values; table w has dim 2
select * from emb_knn('w', '[[1,0,0]]', 1);
-- a float64 blob of n queries is a valid f32 blob of 2n queries: emb_knn cannot tell
select 'knn-f64-blob-reads-as-2-queries', count(*) = 2 from emb_knn('w', x'000000000000f03f0000000000000000', 1);
-- error: embedding w: vector has 3 values; table w has dim 2
insert into w(vector) values ('[1,2,3]');
-- error: embedding w: vector has 4 values; table w has dim 2 (the blob has 8 bytes per value: it looks like float64; convert it to float32, e.g. numpy v.astype(np.float32).tobytes() or new Float32Array(values))
insert into w(vector) values (x'000000000000f03f0000000000000000');
-- error: embedding w: query has 4 values; table w has dim 2
select * from w where vector match '[1,2,3,4]' and k = 1;
-- error: embedding w: query has 4 values; table w has dim 2 (the blob has 8 bytes per value: it looks like float64; convert it to float32, e.g. numpy v.astype(np.float32).tobytes() or new Float32Array(values))
select * from w where vector match x'000000000000f03f0000000000000000' and k = 1;
-- error: emb_logits: hidden has 3 values; table w has dim 2
select * from emb_logits('w', '[1,2,3]');
-- error: emb_logits: hidden has 4 values; table w has dim 2 (the blob has 8 bytes per value: it looks like float64; convert it to float32, e.g. numpy v.astype(np.float32).tobytes() or new Float32Array(values))
select * from emb_logits('w', x'000000000000f03f0000000000000000');
-- error: emb_similar_by_vector: vector has 3 values; table w has dim 2
select * from emb_similar_by_vector('w', '[1,2,3]');
-- error: emb_similar_by_vector: vector has 4 values; table w has dim 2 (the blob has 8 bytes per value: it looks like float64; convert it to float32, e.g. numpy v.astype(np.float32).tobytes() or new Float32Array(values))
select * from emb_similar_by_vector('w', x'000000000000f03f0000000000000000');
-- error: emb_most_similar: positive[0] has 3 values; table w has dim 2
select * from emb_most_similar('w', '[[1,2,3]]', null);
-- error: emb_distances: token_or_vector has 3 values; table w has dim 2
select * from emb_distances('w', '[1,2,3]');
-- error: emb_distances: unknown token 'zz' in table w
select * from emb_distances('w', 'zz');
-- error: emb_dot: dimension mismatch: argument 1 has 2 values, argument 2 has 3
select emb_dot('[1,2]', '[1,2,3]');
-- error: emb_add: dimension mismatch: argument 1 has 2 values, argument 3 has 1
select emb_add('[1,2]', '[1,2]', '[1]');
-- error: emb_avg: dimension mismatch: this row has 3 values, earlier rows have 2
select emb_avg(v) from (select '[1,2]' v union all select '[1,2,3]');
-- error: embedding wb: vector element 0 (3.4e+38) exceeds the bf16 range (3.38953e+38)
insert into wb(vector) values ('[3.4e38, 0]');
-- error: embedding wb: vector element 1 (-3.39e+38) exceeds the bf16 range (3.38953e+38)
insert into wb(vector) values ('[0, -3.39e38]');
insert into wb(token_id, vector) values (5, '[3.3895313892515355e38, -3.3895313892515355e38]');
-- error: emb_eval_pairs: no/such/pairs.tsv: cannot open (No such file or directory)
select * from emb_eval_pairs('w', 'no/such/pairs.tsv');
-- error: emb_eval_pairs: /: cannot read (Is a directory)
select * from emb_eval_pairs('w', '/');
-- error: emb_eval_pairs: case_insensitive must be 0 or 1 (found 2)
select * from emb_eval_pairs('w', '/dev/null', 1, 2);
-- error: emb_eval_analogies: dummy4unknown must be 0 or 1 (found 5)
select * from emb_eval_analogies('w', '/dev/null', 1, 1, 5);
-- error: emb_bag: unknown mode 'avg' (expected 'sum', 'mean' or 'max')
select * from emb_bag('w', '[0,1]', '[0]', 'avg');
-- error: emb_bag: per_sample_weights needs mode 'sum' (as torch)
select * from emb_bag('w', '[0,1]', '[0]', 'mean', '[1,2]');
-- error: emb_bag: offsets[0] must be 0 (found 1)
select * from emb_bag('w', '[0,1]', '[1]');
-- error: emb_bag: offsets must be non-decreasing and at most 3 (the input length); offsets[2] = 1
select * from emb_bag('w', '[0,1,2]', '[0,2,1]');
-- error: emb_bag: offsets must be non-decreasing and at most 3 (the input length); offsets[1] = 4
select * from emb_bag('w', '[0,1,2]', '[0,4]');
-- error: emb_bag: offsets must be NULL when input is 2-D (each row is a bag)
select * from emb_bag('w', '[[0,1],[2,0]]', '[0]');
-- error: emb_bag: a 1-D input needs offsets (or give a 2-D input: one bag per row)
select * from emb_bag('w', '[0,1]');
-- error: emb_bag: input[1]: token_id 9 not in table w
select * from emb_bag('w', '[0,9]', '[0]');
-- error: emb_bag: input rows differ in length (2 and 1)
select * from emb_bag('w', '[[0,1],[2]]');
-- error: emb_bag: per_sample_weights has 1 values; input has 2
select * from emb_bag('w', '[0,1]', '[0]', 'sum', '[1]');
-- error: emb_bag: padding_idx must be >= 0 (found -1)
select * from emb_bag('w', '[0,1]', '[0]', 'sum', null, -1);
-- error: emb_bag: include_last_offset must be 0 or 1 (found 2)
select * from emb_bag('w', '[0,1]', '[0]', 'sum', null, null, 2);
-- error: emb_bag: max_norm must be a positive number (found 0)
select * from emb_bag('w', '[0,1]', '[0]', 'sum', null, null, 0, 0);
-- error: emb_bag: norm_type must be a number > 0 or 1e999 for inf (found -1)
select * from emb_bag('w', '[0,1]', '[0]', 'sum', null, null, 0, 1, -1);
-- error: emb_bag: input must be a JSON array of integers or of arrays of integers (found text)
select * from emb_bag('w', '[0,"a"]', '[0]');
-- error: emb_bag: input must be a JSON array of integers (found 'x')
select * from emb_bag('w', 'x', '[0]');
-- error: emb_bag: offsets is empty
select * from emb_bag('w', '[0,1]', '[]', 'sum', null, null, 1);
-- error: emb_embedding: input[1]: token_id 7 not in table w
select * from emb_embedding('w', '[0,7]');
-- error: emb_embedding: max_norm must be a positive number (found big)
select * from emb_embedding('w', '[0,1]', 'big');
-- error: emb_doesnt_match: no token of the list is in table w
select * from emb_doesnt_match('w', '["x","y"]');
-- error: emb_most_similar_to_given: candidates is empty
select * from emb_most_similar_to_given('w', 'a', '[]');
-- error: emb_most_similar_to_given: unknown token 'zz' in table w
select * from emb_most_similar_to_given('w', 'zz', '["a"]');
-- error: emb_n_similarity: tokens1 has no token of table w
select emb_n_similarity('w', '["zz"]', '["a"]');
-- error: emb_rank: unknown token 'zz' in table w
select emb_rank('w', 'a', 'zz');
-- error: emb_similarity: b must be a token (text) or a token id (integer) (found real)
select emb_similarity('w', 'a', 3.5);
-- error: emb_relative_cosine_similarity: topn must be >= 1 (found 0)
select emb_relative_cosine_similarity('w', 'a', 'b', 0);
-- error: emb_closer_than: b must be a token (text) or a token id (integer) (found null)
select * from emb_closer_than('w', 'a', null);
-- error: emb_most_similar: restrict must be >= 1 (found 0)
select * from emb_most_similar('w', '["a"]', null, 3, null, 0);
-- error: emb_similar_by_vector: vector must not be NULL
select * from emb_similar_by_vector('w', null);
select 'bf16-max-roundtrip', emb_json(vector) = '[3.3895314e+38,-3.3895314e+38]' from wb where token_id = 5;
select 'bf16-nothing-stored', count(*) = 1 from wb;
select 'match-ordered-ok', count(*) = 2 from (select token_id from w where vector match '[1,0]' order by distance limit 2);
select 'match-k-ok', count(*) = 2 from w where vector match '[1,0]' and k = 2;
select 'w-unchanged', count(*) = 3 from w;
-- A file that cannot be opened or read is named by the path as given, with the OS reason
-- error: emb_read_text: no/such/glove.txt: cannot open (No such file or directory)
select count(*) from emb_read_text('no/such/glove.txt');
-- error: emb_read_text: /dev/null/x.txt: cannot open (Not a directory)
select count(*) from emb_read_text('/dev/null/x.txt');
-- error: emb_read_text: /: cannot read (Is a directory)
select count(*) from emb_read_text('/');
-- error: emb_read_text: /dev/null: not a regular file
select count(*) from emb_read_text('/dev/null');
-- error: emb_read_word2vec: no/such/vectors.bin: cannot open (No such file or directory)
select count(*) from emb_read_word2vec('no/such/vectors.bin');
-- error: emb_read_npy: no/such/wte.npy: cannot open (No such file or directory)
select count(*) from emb_read_npy('no/such/wte.npy');
-- error: emb_read_npy: /: cannot read (Is a directory)
select count(*) from emb_read_npy('/');
-- error: emb_read_safetensors: no/such/model.safetensors: cannot open (No such file or directory)
select count(*) from emb_read_safetensors('no/such/model.safetensors', 'wte');
-- error: emb_read_gguf: no/such/model.gguf: cannot open (No such file or directory)
select count(*) from emb_read_gguf('no/such/model.gguf');
-- error: emb_read_gguf: ./: cannot read (Is a directory)
select count(*) from emb_read_gguf('./');
-- error: emb_read_npy: tokens file no/such/vocab.json: cannot open (No such file or directory)
select count(*) from emb_read_npy(:fixtures || '/hf/embed.expected.npy', 'no/such/vocab.json');
-- error: emb_read_safetensors: tokens file /: cannot read (Is a directory)
select count(*) from emb_read_safetensors(:fixtures || '/hf/model.safetensors.index.json', 'model.embed_tokens.weight', '/');
-- error: emb_tokenizer_load: no/such/model.gguf: cannot open (No such file or directory)
select emb_tokenizer_load('w', 'no/such/model.gguf');
-- error: emb_eval_analogies: no/such/questions-words.txt: cannot open (No such file or directory)
select * from emb_eval_analogies('w', 'no/such/questions-words.txt');
-- error: emb_eval_analogies: /dev/null/q.txt: cannot open (Not a directory)
select * from emb_eval_analogies('w', '/dev/null/q.txt');
