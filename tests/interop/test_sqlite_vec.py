"""embext and sqlite-vec 0.1.9 (vec0.so) side by side in one connection:
vec_f32 values in every embext function that takes vectors, embext values in
sqlite-vec's functions, and rows moved between a vec0 table and an embedding
table with INSERT ... SELECT both ways.  Run by tests/run.sh with Debian's
/usr/bin/python3 (VEC0 = path of vec0.so, EMBEXT_PATH = embext.so); prints
"N passed, M failed"."""
import json
import math
import os
import sqlite3
import struct

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", name, detail)


conn = sqlite3.connect(":memory:")
conn.enable_load_extension(True)
conn.load_extension(os.environ["EMBEXT_PATH"])
conn.load_extension(os.environ["VEC0"])
conn.enable_load_extension(False)
one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]
check("both-loaded", one("select vec_version()") == "v0.1.9" and one("select emb_version()") != "")

A, B = "[0.5,-1,2,0.25]", "[3,0.5,-1,1.5]"
VEC = {"a": "vec_f32('%s')" % A, "b": "vec_f32('%s')" % B}
JSN = {"a": "'%s'" % A, "b": "'%s'" % B}
# Every embext scalar/aggregate that takes a vector: the same call with JSON
# text and with vec_f32 values must give the same (non-NULL) result.
calls = {
    "emb_vec": "emb_vec({a})",
    "emb_json": "emb_json({a})",
    "emb_dims": "emb_dims({a})",
    "emb_dot": "emb_dot({a}, {b})",
    "emb_cosine": "emb_cosine({a}, {b})",
    "emb_cosine_distance": "emb_cosine_distance({a}, {b})",
    "emb_l2": "emb_l2({a}, {b})",
    "emb_norm": "emb_norm({a})",
    "emb_normalize": "emb_normalize({a})",
    "emb_add": "emb_add({a}, {b}, {a})",
    "emb_sub": "emb_sub({a}, {b})",
    "emb_scale": "emb_scale({a}, -0.5)",
    "emb_sum": "(select emb_sum(v) from (select {a} v union all select {b}))",
    "emb_avg": "(select emb_avg(v) from (select {a} v union all select {b}))",
    "emb_add_pe": "emb_add_pe({a}, 3)",
    "emb_rope": "emb_rope({a}, 3, 10000, 'gptj')",
}
for fn, tmpl in calls.items():
    want = one("select " + tmpl.format(**JSN))
    got = one("select " + tmpl.format(**VEC))
    check("vec_f32-in-" + fn, want is not None and got == want, "%r vs %r" % (got, want))

# The embedding table and the table-valued functions over it take vec_f32 too.
conn.execute("create virtual table t using embedding(dim=4)")
conn.execute("insert into t(token, vector) values ('a', vec_f32(?)), ('b', vec_f32(?)), ('c', ?)",
             (A, B, "[1,1,1,1]"))
check("vec_f32-in-embedding-insert", one("select emb_json(vector) from t where token='a'") == A)
conn.execute("update t set vector = vec_f32('[1,1,1,0.5]') where token = 'c'")
check("vec_f32-in-embedding-update", one("select emb_json(vector) from t where token='c'") == "[1,1,1,0.5]")
q = "[1,-1,2,0]"
check("vec_f32-in-match",
      one("select count(*) from t where vector match vec_f32(?) and k = 3", q) == 3 and [r[0] for r in conn.execute("select token from t where vector match vec_f32(?) and k = 3", (q,))]
      == [r[0] for r in conn.execute("select token from t where vector match ? and k = 3", (q,))])
check("vec_f32-in-emb_knn",
      conn.execute("select token, distance from emb_knn('t', vec_f32(?), 2)", (q,)).fetchall()
      == conn.execute("select token, distance from emb_knn('t', json_array(json(?)), 2)", (q,)).fetchall())
check("vec_f32-in-emb_logits",
      conn.execute("select token, logit from emb_logits('t', vec_f32(?), 3)", (q,)).fetchall()
      == conn.execute("select token, logit from emb_logits('t', ?, 3)", (q,)).fetchall())
check("vec_f32-row-through-emb_sequence",
      one("select emb_json(vector) from emb_sequence('t', '[0]')") == A)
rows = lambda sql, *a: conn.execute(sql, a).fetchall()
check("vec_f32-in-emb_similar_by_vector",
      rows("select token_id, token, score from emb_similar_by_vector('t', vec_f32(?), 3)", q)
      == rows("select token_id, token, score from emb_similar_by_vector('t', ?, 3)", q)
      and len(rows("select * from emb_similar_by_vector('t', vec_f32(?), 3)", q)) == 3)
check("vec_f32-in-emb_distances",
      rows("select token_id, token, distance from emb_distances('t', vec_f32(?))", q)
      == rows("select token_id, token, distance from emb_distances('t', ?)", q)
      and len(rows("select * from emb_distances('t', vec_f32(?))", q)) == 3)
check("vec_f32-in-emb_distances-others",
      rows("select token, distance from emb_distances('t', vec_f32(?), '[\"c\",\"a\"]')", q)
      == rows("select token, distance from emb_distances('t', ?, '[\"c\",\"a\"]')", q))
# vec_int8() values are int8 elements read exactly as f32; vec_bit() values are refused by name
q8 = "[1,-2,127,-128]"
for fn, tmpl in (("emb_similar_by_vector", "select token, score from emb_similar_by_vector('t', %s, 3)"),
                 ("emb_distances", "select token, distance from emb_distances('t', %s)"),
                 ("emb_logits", "select token, logit from emb_logits('t', %s, 3)"),
                 ("match", "select token, distance from t where vector match %s and k = 3")):
    check("vec_int8-in-" + fn, rows(tmpl % "vec_int8(?)", q8) == rows(tmpl % "?", q8)
          and len(rows(tmpl % "vec_int8(?)", q8)) == 3)
bit_msgs = {
    "emb_similar_by_vector": ("select * from emb_similar_by_vector('t', vec_bit(x'ffffffff'))",
                              "emb_similar_by_vector: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                              "expected float32 (an f32 blob, vec_f32() or JSON text)"),
    "emb_distances": ("select * from emb_distances('t', vec_bit(x'ffffffff'))",
                      "emb_distances: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                      "expected float32 (an f32 blob, vec_f32() or JSON text)"),
    "emb_logits": ("select * from emb_logits('t', vec_bit(x'ffffffff'))",
                   "emb_logits: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                   "expected float32 (an f32 blob, vec_f32() or JSON text)"),
    "embedding-insert": ("insert into t(vector) values (vec_bit(x'ffffffff'))",
                         "embedding t: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                         "expected float32 (an f32 blob, vec_f32() or JSON text)"),
    "emb_dot": ("select emb_dot(vec_bit(x'ffffffff'), '[1]')",
                "emb_dot: found a sqlite-vec bit vector (vec_bit, 32 bits); "
                "expected float32 (an f32 blob, vec_f32() or JSON text)"),
}
for fn, (sql, want) in bit_msgs.items():
    try:
        conn.execute(sql).fetchall()
        got = "(no error)"
    except sqlite3.Error as e:
        got = str(e)
    check("vec_bit-refused-" + fn, got == want, "%r vs %r" % (got, want))
# Coverage: every embext function is either called above with vec_f32 or
# takes no vector (so a new vector function must be added to this test).
no_vector = {"emb_cache_release", "emb_cache_info", "emb_search_threads", "emb_isa", "emb_lookup", "emb_pe", "emb_token_id",
             "emb_version", "emb_pca"}
covered = set(calls) | {"embedding", "emb_knn", "emb_logits", "emb_similar_by_vector", "emb_distances"}
no_vector_tvf = {"emb_most_similar", "emb_analogy", "emb_random", "emb_sequence",
                 "emb_eval_pairs", "emb_eval_analogies", "emb_read_text", "emb_read_word2vec",
                 "emb_read_npy", "emb_read_safetensors", "emb_read_gguf"}
names = {r[0] for r in conn.execute(
    "select name from pragma_function_list where name like 'emb\\_%' escape '\\' union "
    "select name from pragma_module_list where name like 'emb%'")}
# functions of tokens, token ids or text (no vector argument)
no_vector_tvf |= {"emb_closer_than", "emb_doesnt_match", "emb_most_similar_to_given",
                  "emb_n_similarity", "emb_rank", "emb_similarity", "emb_relative_cosine_similarity",
                  "emb_words_closer_than",
                  "emb_bag", "emb_embedding", "emb_tokenize", "emb_tokens_json", "emb_detokenize",
                  "emb_tokenizer_info", "emb_tokenizer_load", "emb_import_gguf"}
missing = names - covered - no_vector - no_vector_tvf
check("every-vector-function-covered", not missing, sorted(missing))

# embext values in sqlite-vec's functions
ea, eb = "emb_vec('%s')" % A, "emb_vec('%s')" % B
near = lambda x, y: abs(x - y) <= 1e-6 * max(1.0, abs(y))
check("emb_vec-in-vec_distance_cosine",
      near(one("select vec_distance_cosine(%s, %s)" % (ea, eb)), one("select emb_cosine_distance('%s','%s')" % (A, B))))
check("emb_vec-in-vec_distance_l2",
      near(one("select vec_distance_l2(%s, %s)" % (ea, eb)), one("select emb_l2('%s','%s')" % (A, B))))
l1 = sum(abs(x - y) for x, y in zip(json.loads(A), json.loads(B)))
check("emb_vec-in-vec_distance_l1", near(one("select vec_distance_l1(%s, %s)" % (ea, eb)), l1))
check("emb_normalize-in-vec_distance_cosine",
      near(one("select vec_distance_cosine(emb_normalize(%s), emb_scale(%s, 7))" % (ea, eb)),
           one("select emb_cosine_distance('%s','%s')" % (A, B))))
check("emb-in-vec_length", one("select vec_length(emb_add(%s, %s))" % (ea, eb)) == 4)
check("emb-in-vec_add", one("select vec_add(%s, %s) = emb_add(%s, %s)" % (ea, eb, ea, eb)) == 1)
check("emb-in-vec_to_json",
      json.loads(one("select vec_to_json(emb_sub(%s, %s))" % (ea, eb))) == [-2.5, -1.5, 3, -1.25])
check("vec_f32-bytes-equal-emb_vec", one("select vec_f32('%s') = emb_vec('%s')" % (A, A)) == 1)

# vec0 -> embedding -> vec0 with INSERT ... SELECT (GloVe rows from tests/data)
data = os.environ.get("EMB_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
conn.execute("create virtual table g using embedding(dim=50)")
conn.execute("insert into g(token_id, token, vector) select * from emb_read_text(?) where token_id < 2000",
             (os.path.join(data, "glove.6B.50d.10k.txt"),))
conn.execute("create virtual table v using vec0(embedding float[50])")
conn.execute("insert into v(rowid, embedding) select token_id, vector from g")
check("embedding-to-vec0", one("select count(*) from v") == 2000 and
      one("select count(*) from v join g on g.token_id = v.rowid where v.embedding = g.vector") == 2000)
conn.execute("create virtual table back using embedding(dim=50)")
conn.execute("insert into back(token_id, vector) select rowid, embedding from v")
check("vec0-to-embedding", one("select count(*) from back") == 2000 and
      one("select count(*) from back b join v on v.rowid = b.token_id where b.vector = v.embedding") == 2000)
# the same nearest rows through vec0 MATCH and embedding MATCH (l2 metric)
king = one("select vector from g where token = 'king'")
vk = [r for r in conn.execute(
    "select rowid, distance from v where embedding match ? and k = 10 order by distance", (king,))]
ek = [r for r in conn.execute(
    "select token_id, distance from back where vector match ? and k = 10 and metric = 'l2'", (king,))]
check("knn-vec0-equals-embedding", len(vk) == 10 and [r[0] for r in vk] == [r[0] for r in ek], "%r vs %r" % (vk, ek))
check("knn-distances", all(near(a[1], b[1]) or abs(a[1] - b[1]) < 1e-5 for a, b in zip(vk, ek)))
# a cosine query on vec0 rows through embext functions directly
got = conn.execute("select rowid from v order by emb_cosine_distance(embedding, ?) limit 3", (king,)).fetchall()
want = conn.execute("select token_id from g where vector match ? and k = 3", (king,)).fetchall()
check("emb-over-vec0-column", len(got) == 3 and got == want, "%r vs %r" % (got, want))

print("%d passed, %d failed" % (passed, failed))
raise SystemExit(1 if failed else 0)
