-- Walkthrough 2: token + position.  Sinusoidal encodings, a learned position
-- table (GPT-2's wpe) joined on position, and rotary encodings (RoPE).
--   sqlite3 :memory: -cmd '.load ./embext' < sql/walkthrough_position.sql
-- Every result row ends in a check column that must be 1 (tests run this file).
create virtual table wte using embedding(dim=8);
insert into wte(token_id, token, vector) values
  (0, '<pad>', '[0, 0, 0, 0, 0, 0, 0, 0]'),
  (1, 'I',     '[0.9, 0.1, 0.0, 0.2, -0.3, 0.5, 0.1, 0.0]'),
  (2, 'love',  '[0.1, 0.8, 0.3, 0.0, 0.2, -0.1, 0.4, 0.6]'),
  (3, 'dogs',  '[0.2, 0.3, 0.9, 0.1, 0.0, 0.7, -0.2, 0.3]');

-- PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...)
select 'pe', pos.value as pos, emb_json(emb_pe(pos.value, 8)) as pe,
       abs(json_extract(emb_json(emb_pe(pos.value, 8)), '$[0]') - sin(pos.value)) < 1e-7
       and abs(json_extract(emb_json(emb_pe(pos.value, 8)), '$[3]') - cos(pos.value / pow(10000, 2.0 / 8))) < 1e-7 as ok
  from json_each('[0, 1, 2]') pos;

-- input representation = token vector + PE(pos), in one call or by hand
select 'tok+pe', s.pos, s.token_id, emb_json(s.vector) as x,
       emb_l2(s.vector, emb_add(emb_lookup('wte', s.token_id), emb_pe(s.pos, 8))) < 1e-6 as ok
  from emb_sequence('wte', '[1, 2, 3]', 'sinusoidal') s;
select 'tok+pe-2', s.pos, emb_l2(s.vector, emb_add_pe(emb_lookup('wte', s.token_id), s.pos)) < 1e-6 as ok
  from emb_sequence('wte', '[1, 2, 3]', 'sinusoidal') s;

-- learned positions (GPT-2 wpe, BERT): a second embedding table with one row
-- per position; x = wte[ids] + wpe[pos] is a join on position
create virtual table wpe using embedding(dim=8);
insert into wpe(token_id, vector) select token_id, vector from emb_random(16, 8, 7, 0.02);
select 'wte+wpe', s.pos, s.token_id, emb_json(emb_add(s.vector, p.vector)) as x,
       emb_l2(emb_add(s.vector, p.vector),
              emb_add(emb_lookup('wte', s.token_id), emb_lookup('wpe', s.pos))) = 0 as ok
  from emb_sequence('wte', '[1, 2, 3]') s join wpe p on p.token_id = s.pos;

-- rotary: q and k rotated by their positions; the score depends only on m - n
create table qk(name text primary key, v blob);
insert into qk values ('q', emb_vec('[0.5, -1.0, 0.25, 2.0, 1.5, 0.0, -0.5, 1.0]')),
                      ('k', emb_vec('[1.0, 0.5, -0.5, 0.25, 0.0, 2.0, 1.0, -1.0]'));
select 'rope', m.value as m, n.value as n,
       round(emb_dot(emb_rope((select v from qk where name = 'q'), m.value),
                     emb_rope((select v from qk where name = 'k'), n.value)), 5) as score,
       abs(emb_dot(emb_rope((select v from qk where name = 'q'), m.value),
                   emb_rope((select v from qk where name = 'k'), n.value))
         - emb_dot(emb_rope((select v from qk where name = 'q'), 3),
                   emb_rope((select v from qk where name = 'k'), 0))) < 1e-5 as ok
  from json_each('[3, 10, 1003]') m, json_each('[0, 7, 1000]') n where m.value - n.value = 3;
select 'rope-norm', abs(emb_norm(emb_rope(v, 42)) - emb_norm(v)) < 1e-6 as ok from qk;
