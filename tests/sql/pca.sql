-- emb_pca (ext/tvf_pca.c, src/lm/pca.c): shape, sign convention, rank
-- deficiency, invariants and errors.  Agreement with numpy: pca_numpy.sql.
create virtual table w using embedding(dim=2);
insert into w(token, vector) values ('a', '[0,0]'), ('b', '[1,1]'), ('c', '[2,2]'), ('d', '[5,-1]');
-- three collinear points: one component along the line, the second has variance 0
select 'pca-line-x', (select json_group_array(round(x, 12)) from emb_pca('w', '["a","b","c"]', 2))
    = json_array(round(sqrt(2), 12), 0.0, -round(sqrt(2), 12));
select 'pca-line-y0', (select count(*) from emb_pca('w', '["a","b","c"]', 2) where y = 0.0) = 3;
-- sign: the largest |score| is positive (the first of equal ones: a, not c)
select 'pca-line-coords', (select json_group_array(coords) from emb_pca('w', '["a","b","c"]'))
    = '["[1.4142135,0]","[0,0]","[-1.4142135,0]"]';
select 'pca-sign', (select max(x) from emb_pca('w', null)) = (select max(abs(x)) from emb_pca('w', null))
    and (select max(y) from emb_pca('w', null)) = (select max(abs(y)) from emb_pca('w', null));
-- columns, order, defaults
select 'pca-order', (select json_group_array(token) from emb_pca('w', '["d",0,"b"]')) = '["d","a","b"]';
select 'pca-ids', (select json_group_array(token_id) from emb_pca('w', '["d",0,"b"]')) = '[3,0,1]';
select 'pca-all-rows', (select count(*) from emb_pca('w')) = 4;
select 'pca-one-component', (select count(*) from emb_pca('w', null, 1) where y is null and emb_dims(coords) = 1) = 4;
select 'pca-named-args', (select count(*) from emb_pca where "table" = 'w' and tokens = '["a","d"]' and components = 1) = 2;
-- scores are centred and (all components) keep every pairwise distance
select 'pca-centred', (select abs(sum(x)) < 1e-12 and abs(sum(y)) < 1e-12 from emb_pca('w', null));
select 'pca-distances', (select max(abs(emb_l2(p.coords, q.coords) - emb_l2(emb_lookup('w', p.token_id), emb_lookup('w', q.token_id))))
    from emb_pca('w', null) p, emb_pca('w', null) q) < 1e-6;
-- a translation of every point changes nothing
create virtual table w2 using embedding(dim=2);
insert into w2(token_id, token, vector) select token_id, token, emb_add(vector, '[100,-7]') from w;
select 'pca-translate', (select max(abs(p.x - q.x)) + max(abs(p.y - q.y)) from emb_pca('w', null) p
    join emb_pca('w2', null) q using (token_id)) < 1e-9;
-- deleted rows are not points; writes are seen by the next call
delete from w2 where token_id = 3;
select 'pca-after-delete', (select count(*) from emb_pca('w2')) = 3;
-- other dtypes are widened to f32 first
create virtual table h using embedding(dim=2, dtype=f16);
insert into h(token_id, token, vector) select token_id, token, vector from w;
select 'pca-f16', (select max(abs(p.x - q.x)) from emb_pca('w', null) p join emb_pca('h', null) q using (token_id)) < 1e-9;
select 'pca-repeat', (select count(*) from emb_pca('w', '["a","a","d"]')) = 3;

-- errors
-- error: emb_pca: missing argument 'table' (usage: emb_pca(table [, tokens [, components]]))
select * from emb_pca();
-- error: emb_pca: table must be text (found integer)
select * from emb_pca(3);
-- error: emb_pca: no such embedding table: nope
select * from emb_pca('nope', null);
-- error: emb_pca: tokens must be a JSON array of tokens or token ids (found 'king')
select * from emb_pca('w', 'king');
-- error: emb_pca: unknown token 'zz' in table w
select * from emb_pca('w', '["a","zz"]');
-- error: emb_pca: unknown token_id 9 in table w
select * from emb_pca('w', '[0, 9]');
-- error: emb_pca: needs at least 2 points (found 1)
select * from emb_pca('w', '["a"]');
-- error: emb_pca: needs at least 2 points (found 0)
select * from emb_pca('w', '[]');
-- error: emb_pca: components must be >= 1 (found 0)
select * from emb_pca('w', null, 0);
-- error: emb_pca: components must be an integer (found text)
select * from emb_pca('w', null, 'x');
-- error: emb_pca: components must be 1 .. min(points, dim) = 2 (found 3)
select * from emb_pca('w', null, 3);
