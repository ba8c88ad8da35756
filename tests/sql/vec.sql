-- Scalar and aggregate vector functions (ext/fn_vec.c).
select 'l2-01', emb_l2('[0,0]', '[3,4]') = 5.0;
select 'l2-02', emb_l2(emb_vec('[1,2,3]'), '[1,2,3]') = 0.0;
select 'dot-01', emb_dot('[1,2,3]', '[4,5,6]') = 32.0;
select 'dot-02', emb_dot('[1.5]', '[-2]') = -3.0;
select 'cos-01', abs(emb_cosine('[1,0]', '[0,1]')) < 1e-7;
select 'cos-02', abs(emb_cosine('[1,2,3]', '[2,4,6]') - 1.0) < 1e-6;
select 'cos-03', abs(emb_cosine('[1,2]', '[-1,-2]') + 1.0) < 1e-6;
select 'cos-04', emb_cosine('[0,0,0]', '[1,2,3]') = 0.0;
select 'cos-05', emb_cosine_distance('[0,0,0]', '[1,2,3]') = 1.0;
select 'cos-06', abs(emb_cosine_distance('[1,0]', '[1,1]') - (1 - 1/sqrt(2))) < 1e-6;
-- 40 elements: SIMD body plus tail in every kernel set; a_i = i, b_i = 41 - i
select 'cos-07', abs(emb_cosine('[' || group_concat(i, ',') || ']',
                                '[' || group_concat(41 - i, ',') || ']') - 11480.0 / 22140) < 1e-6
  from (with recursive s(i) as (select 1 union all select i + 1 from s where i < 40)
        select i from s order by i);
select 'cos-08', emb_cosine('[0,0,0]', '[0,0,0]') = 0.0;
select 'norm-01', emb_norm('[3,4]') = 5.0;
select 'norm-02', emb_json(emb_normalize('[3,4]')) = '[0.6,0.8]';
select 'norm-03', emb_json(emb_normalize('[0,0]')) = '[0,0]';
select 'add-01', emb_json(emb_add('[1,2]', '[3,4]')) = '[4,6]';
select 'add-02', emb_json(emb_add('[1,2]', '[3,4]', '[10,20]')) = '[14,26]';
select 'add-03', emb_add('[1]', NULL) is null;
select 'sub-01', emb_json(emb_sub('[1,2]', '[3,5]')) = '[-2,-3]';
select 'scale-01', emb_json(emb_scale('[1,-2]', 0.5)) = '[0.5,-1]';
select 'scale-02', emb_json(emb_scale('[1,-2]', 3)) = '[3,-6]';
select 'scale-03', emb_scale('[1]', NULL) is null;
select 'analogy-01', emb_json(emb_add(emb_sub('[1,1,0]', '[1,0,0]'), '[0,0,1]')) = '[0,1,1]';
select 'dims-01', emb_dims('[1,2,3]') = 3;
select 'dims-02', emb_dims(x'0000803f00000040') = 2;
select 'vec-01', emb_vec('[1, 2]') = x'0000803f00000040';
select 'vec-02', emb_vec(x'0000803f') = x'0000803f';
select 'vec-03', emb_json(' [ 1 , -2.5e0 ] ') = '[1,-2.5]';
select 'json-01', emb_json('[0.1, 0.2, 3.4028235e38, 1e-45, -0]') = '[0.1,0.2,3.4028235e+38,1e-45,-0]';
select 'json-02', emb_vec(emb_json(x'cdcccc3d')) = x'cdcccc3d';
select 'json-03', emb_json('[0.333333333333]') = '[0.33333334]';
select 'null-01', emb_dot(NULL, '[1]') is null;
select 'null-02', emb_json(NULL) is null;
select 'null-03', emb_vec(NULL) is null;
select 'null-04', emb_norm(NULL) is null;
select 'isa-01', emb_isa() in ('serial', 'avx2', 'avx512', 'neon');
select 'version-01', emb_version() glob '[0-9]*.[0-9]*.[0-9]*';
-- aggregates
create table t(g, v);
insert into t values (1, '[1,2]'), (1, '[3,4]'), (1, NULL), (2, '[5,5]');
select 'sum-01', emb_json(emb_sum(v)) = '[4,6]' from t where g = 1;
select 'avg-01', emb_json(emb_avg(v)) = '[2,3]' from t where g = 1;
select 'avg-02', emb_avg(v) is null from t where g = 3;
select 'avg-03', emb_json(emb_avg(v)) = '[5,5]' from t where g = 2;
-- errors: exact text
-- error: emb_add: dimension mismatch: argument 1 has 3 values, argument 2 has 4
select emb_add('[1,2,3]', '[1,2,3,4]');
-- error: emb_vec: blob length 7 is not a multiple of 4
select emb_vec(x'00000000000000');
-- error: emb_vec: blob length 0 is not a positive multiple of 4
select emb_vec(x'');
-- error: emb_cosine: dimension mismatch: argument 1 has 2 values, argument 2 has 1
select emb_cosine('[1,2]', '[1]');
-- error: emb_vec: invalid JSON vector: expected ',' or ']' at offset 5 (found end of text)
select emb_vec('[1, 2');
-- error: emb_vec: invalid JSON vector: expected ',' or ']' at offset 3 (found '2')
select emb_vec('[1 2]');
-- error: emb_vec: invalid JSON vector: expected a number at offset 3 (found ',')
select emb_vec('[1,,2]');
-- error: emb_vec: invalid JSON vector: expected a number at offset 1 (found ']')
select emb_vec('[]');
-- error: emb_vec: invalid JSON vector: expected a number at offset 1 (found 'n')
select emb_vec('[nan]');
-- error: emb_vec: invalid JSON vector: number 1e39 at offset 1 is out of float32 range
select emb_vec('[1e39]');
-- error: emb_vec: invalid JSON vector: unexpected 'x' after ']' at offset 4
select emb_vec('[1] x');
-- error: emb_vec: expected a vector (f32 blob or JSON text), found integer
select emb_vec(42);
-- error: emb_vec: element 0 is NaN (expected a finite float)
select emb_vec(x'0000c07f');
-- error: emb_scale: scale factor must be a number (found text)
select emb_scale('[1]', 'abc');
-- error: emb_sum: dimension mismatch: this row has 3 values, earlier rows have 2
select emb_sum(v) from (select '[1,2]' as v union all select '[1,2,3]');
-- error: emb_add: expected 2 or more vectors (found 1)
select emb_add('[1]');
-- error: emb_vec: vector dimension 65537 exceeds the limit 65536
select emb_vec(zeroblob(4 * 65537));
