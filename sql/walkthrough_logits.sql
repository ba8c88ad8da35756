-- Walkthrough 3: the tied output layer.  Many small LMs (llama2.c's
-- stories260K) use the token-embedding matrix also as the output layer:
-- logits = hidden . wte[v] for every token v, then softmax.
--   sqlite3 :memory: -cmd '.load ./embext' -cmd ".param set :data 'tests/data'" \
--       < sql/walkthrough_logits.sql
-- Every result row ends in a check column that must be 1 (tests run this file);
-- the expected numbers come from numpy (tests/ref/gensim_ref.py).
create virtual table wte using embedding(dim=64);
insert into wte(token_id, token, vector)
  select * from emb_read_gguf(:data || '/stories260k-f32.gguf');
select 'vocab', count(*) as tokens, count(*) = 512 as ok from wte;

-- the hidden state for "Once" (here simply its own embedding, as after a
-- residual stream dominated by the input): the next token is "upon"
select 'next', token_id, token, round(logit, 4) as logit, round(prob, 5) as prob,
       token in ('▁Once', '▁upon', '▁One') as ok
  from emb_logits('wte', emb_lookup('wte', emb_token_id('wte', '▁Once')), 3);
select 'next-upon', (select token from emb_logits('wte', emb_lookup('wte', 403), 2) where token_id != 403) as next,
       (select token from emb_logits('wte', emb_lookup('wte', 403), 2) where token_id != 403) = '▁upon' as ok;
select 'numpy', abs(logit - 5.5115) < 1e-4 and abs(prob - 0.11041) < 1e-5 as ok
  from emb_logits('wte', emb_lookup('wte', 403), 1);
-- temperature sharpens (T < 1) or flattens (T > 1) the distribution; logits stay
select 'temperature', t.value as t, round(prob, 5) as p_once,
       abs(prob - json_extract('{"0.5": 0.7955, "1": 0.11041, "2": 0.01628}', '$."' || t.value || '"')) < 1e-4 as ok
  from json_each('[0.5, 1, 2]') t, emb_logits('wte', emb_lookup('wte', 403), 1, t.value);
-- probabilities are a softmax over the whole vocabulary
select 'softmax', round((select sum(prob) from emb_logits('wte', emb_lookup('wte', 403), 512)), 12) as total,
       abs((select sum(prob) from emb_logits('wte', emb_lookup('wte', 403), 512)) - 1) < 1e-9 as ok;
