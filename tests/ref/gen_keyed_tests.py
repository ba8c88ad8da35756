#!/usr/bin/python3
"""Turn tests/ref/gensim_keyed_ref.json into tests/sql/semantics_keyed.sql.

    /usr/bin/python3 tests/ref/gen_keyed_tests.py            # write the SQL
    /usr/bin/python3 tests/ref/gen_keyed_tests.py --measure [--ref other.json]
        # print the largest difference of every check kind, in float32 ulps
        # of gensim's value (needs build/embext.so); --ref compares with
        # another run of gensim_keyed_ref.py (e.g. with another BLAS)

Ids and orders must be equal; float32 results must be within ULP[kind]
units in the last place of gensim's value (see README "Coming from gensim /
PyTorch" for why they are not always bit-identical), correlations within
CORR of gensim's float64.
"""
import json
import sys

import numpy as np

# Largest allowed difference in float32 ulps of the expected value, per kind.
# 0 = bit for bit.  Measured with --measure; see the reasons in README.
ULP = {"most_similar": 8, "similar_by_vector": 8, "doesnt_match": 8, "n_similarity": 8,
       "to_given": 8, "similarity": 8, "distances": 8, "relative_cosine": 8}
CORR = 1e-6  # Pearson / Spearman (float64) absolute


def q(s):
    return "'" + s.replace("'", "''") + "'"


def jarr(x):
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))


def vec_json(v):
    return "[" + ",".join(repr(float(np.float32(x))) for x in v) + "]"


def term_json(t):
    return vec_json(t["vec"]) if isinstance(t, dict) else json.dumps(t, ensure_ascii=False)


def spacing(e):
    return float(np.spacing(np.float32(abs(e))))


checks = []  # (kind, label, sql returning 1/0, measure sql returning |diff| / spacing or None)


def add(kind, label, sql, measure=None):
    checks.append((kind, label, sql, measure))


def close(kind, expr, e):
    """SQL: expr within ULP[kind] ulps of e; and the measure expression."""
    s = spacing(e)
    return ("abs((%s) - %r) <= %r" % (expr, e, ULP[kind] * s), "abs((%s) - %r) / %r" % (expr, e, s))


def scored_checks(kind, label, src, result):
    ids = [r[0] for r in result]
    add(kind, label + "-ids", "select %s, (select json_group_array(token_id) from %s) = %s;" % (q(label + "-ids"), src, q(jarr(ids))))
    exp = json.dumps({str(r[0]): r[2] for r in result})
    s = {str(r[0]): spacing(r[2]) for r in result}
    add(kind, label + "-scores",
        "select %s, (select count(*) from %s s join json_each(%s) e on e.key = s.token_id"
        " where abs(s.score - e.value) <= %d * json_extract(%s, '$.\"' || s.token_id || '\"')) = %d;"
        % (q(label + "-scores"), src, q(exp), ULP[kind], q(json.dumps(s)), len(result)),
        "select max(abs(s.score - e.value) / json_extract(%s, '$.\"' || s.token_id || '\"')) from %s s join json_each(%s) e on e.key = s.token_id"
        % (q(json.dumps(s)), src, q(exp)))


def model_sql(name, table, ref):
    for n, m in enumerate(ref["most_similar"], 1):
        pos = "[" + ",".join(term_json(t) for t in m["positive"]) + "]"
        neg = "[" + ",".join(term_json(t) for t in m["negative"]) + "]"
        src = "emb_most_similar('%s', %s, %s, %d, null, %s)" % (table, q(pos), q(neg), m["k"],
                                                                 m["restrict"] if m["restrict"] else "null")
        scored_checks("most_similar", "%s-ms-%d" % (name, n), src, m["result"])
    for n, m in enumerate(ref["similar_by_vector"], 1):
        src = "emb_similar_by_vector('%s', %s, %d%s)" % (table, q(vec_json(m["vec"])), m["k"],
                                                          ", %d" % m["restrict"] if m["restrict"] else "")
        scored_checks("similar_by_vector", "%s-sbv-%d" % (name, n), src, m["result"])
    for n, d in enumerate(ref["doesnt_match"], 1):
        src = "emb_doesnt_match('%s', %s)" % (table, q(jarr(d["tokens"])))
        lab = "%s-dm-%d" % (name, n)
        add("doesnt_match", lab + "-answer", "select %s, (select token from %s limit 1) = %s;" % (q(lab + "-answer"), src, q(d["answer"])))
        asc = list(reversed(d["ranked"]))
        add("doesnt_match", lab + "-order", "select %s, (select json_group_array(token) from %s) = %s;" % (q(lab + "-order"), src, q(jarr([w for w, _ in asc]))))
        for i, (w, sc) in enumerate(asc):
            c, mm = close("doesnt_match", "select score from %s limit 1 offset %d" % (src, i), sc)
            add("doesnt_match", "%s-score-%d" % (lab, i), "select %s, %s;" % (q("%s-score-%d" % (lab, i)), c), "select " + mm)
    for n, d in enumerate(ref["n_similarity"], 1):
        expr = "emb_n_similarity('%s', %s, %s)" % (table, q(jarr(d["a"])), q(jarr(d["b"])))
        c, mm = close("n_similarity", expr, d["result"])
        add("n_similarity", "%s-ns-%d" % (name, n), "select %s, %s;" % (q("%s-ns-%d" % (name, n)), c), "select " + mm)
    for n, d in enumerate(ref["to_given"], 1):
        src = "emb_most_similar_to_given('%s', %s, %s)" % (table, q(d["word"]), q(jarr(d["candidates"])))
        lab = "%s-tg-%d" % (name, n)
        add("to_given", lab, "select %s, (select token from %s limit 1) = %s;" % (q(lab), src, q(d["result"])))
        for w, sc in zip(d["candidates"], d["scores"]):
            c, mm = close("to_given", "select score from %s where token = %s" % (src, q(w)), sc)
            add("to_given", "%s-%s" % (lab, w), "select %s, %s;" % (q("%s-%s" % (lab, w)), c), "select " + mm)
    for n, (a, b, sc) in enumerate(ref["similarity"], 1):
        c, mm = close("similarity", "emb_similarity('%s', %s, %s)" % (table, q(a), q(b)), sc)
        add("similarity", "%s-sim-%d" % (name, n), "select %s, %s;" % (q("%s-sim-%d" % (name, n)), c), "select " + mm)
    for n, (a, b, rank, closer) in enumerate(ref["rank"], 1):
        add("rank", "%s-rank-%d" % (name, n), "select %s, emb_rank('%s', %s, %s) = %d;" % (q("%s-rank-%d" % (name, n)), table, q(a), q(b), rank))
        add("rank", "%s-closer-%d" % (name, n), "select %s, (select json_group_array(token_id) from emb_closer_than('%s', %s, %s)) = %s;"
            % (q("%s-closer-%d" % (name, n)), table, q(a), q(b), q(jarr(closer))))
    a, b, ids = ref["words_closer_than"]
    add("rank", "%s-words-closer" % name, "select %s, (select json_group_array(token_id) from emb_words_closer_than('%s', %s, %s)) = %s;"
        % (q("%s-words-closer" % name), table, q(a), q(b), q(jarr(ids))))
    a, others, dist = ref["distances_list"]
    for i, (w, d) in enumerate(zip(others, dist)):
        c, mm = close("distances", "select distance from emb_distances('%s', %s, %s) where token = %s" % (table, q(a), q(jarr(others)), q(w)), d)
        add("distances", "%s-dist-%s" % (name, w), "select %s, %s;" % (q("%s-dist-%s" % (name, w)), c), "select " + mm)
    da = ref["distances_all"]
    add("distances", "%s-dist-all-n" % name, "select %s, count(*) = %d from emb_distances('%s', %s);" % (q("%s-dist-all-n" % name), da["n"], table, q(da["word"])))
    add("distances", "%s-dist-all-closest" % name,
        "select %s, (select json_group_array(token_id) from (select token_id from emb_distances('%s', %s) order by distance, token_id limit 10)) = %s;"
        % (q("%s-dist-all-closest" % name), table, q(da["word"]), q(jarr(da["closest"]))))
    for i, d in da["sample"]:
        if i == da["closest"][0]:
            continue  # 1 - 1.0000001: a difference of cancellation, checked by id above
        c, mm = close("distances", "select distance from emb_distances('%s', %s) where token_id = %d" % (table, q(da["word"]), i), d)
        add("distances", "%s-dist-all-%d" % (name, i), "select %s, %s;" % (q("%s-dist-all-%d" % (name, i)), c), "select " + mm)
    dv = ref["distances_vec"]
    for w, d in zip(dv["others"], dv["result"]):
        c, mm = close("distances", "select distance from emb_distances('%s', %s, %s) where token = %s" % (table, q(vec_json(dv["vec"])), q(jarr(dv["others"])), q(w)), d)
        add("distances", "%s-distvec-%s" % (name, w), "select %s, %s;" % (q("%s-distvec-%s" % (name, w)), c), "select " + mm)
    for n, (a, b, k, r) in enumerate(ref["relative_cosine"], 1):
        s = spacing(r)
        expr = "emb_relative_cosine_similarity('%s', %s, %s, %d)" % (table, q(a), q(b), k)
        add("relative_cosine", "%s-rcs-%d" % (name, n), "select %s, abs(%s - %r) <= %r;" % (q("%s-rcs-%d" % (name, n)), expr, r, ULP["relative_cosine"] * s),
            "select abs(%s - %r) / %r" % (expr, r, s))
    ev = ref["evals"]
    for n, e in enumerate(ev["pairs"], 1):
        lab = "%s-pairs-%d-%s" % (name, n, e["file"])
        src = "emb_eval_pairs('%s', :data || '/%s', %d, %d, %d)" % (table, e["file"], e["restrict"], e["case_insensitive"], e["dummy4unknown"])
        add("pairs", lab, "select %s, abs(pearson - %r) <= %g and abs(spearman - %r) <= %g and abs(oov_ratio - %r) <= 1e-9 from %s;"
            % (q(lab), e["pearson"], CORR, e["spearman"], CORR, e["oov_ratio"], src),
            "select max(abs(pearson - %r), abs(spearman - %r)) from %s" % (e["pearson"], e["spearman"], src.replace(":data", "'tests/data'")))
    for n, e in enumerate(ev["analogies"], 1):
        lab = "%s-analogies-%d" % (name, n)
        src = "emb_eval_analogies('%s', :data || '/questions-words.txt', %d, %d, %d)" % (table, e["restrict"], e["case_insensitive"], e["dummy4unknown"])
        add("analogies", lab, "select %s, (select json_group_array(json_array(section, correct, total)) from %s) = %s;"
            % (q(lab), src, q(jarr(e["sections"]))))


def build(ref):
    checks.clear()
    model_sql("glove", "glove", ref["glove"])
    model_sql("w2v", "w2v", ref["w2v"])
    le = ref["line_endings"]
    for tag in ("lf", "crlf", "cr"):
        pe, sp, oov = le[tag]
        add("pairs", "eol-pairs-" + tag, "select %s, abs(pearson - %r) <= %g and abs(spearman - %r) <= %g and abs(oov_ratio - %r) <= 1e-9"
            " from emb_eval_pairs('glove', :fixtures || '/keyed/wordsim353-%s.tsv');" % (q("eol-pairs-" + tag), pe, CORR, sp, CORR, oov, tag))
        add("analogies", "eol-analogies-" + tag, "select %s, (select json_group_array(json_array(section, correct, total)) from"
            " emb_eval_analogies('glove', :fixtures || '/keyed/questions-%s.txt')) = %s;" % (q("eol-analogies-" + tag), tag, q(jarr(le["analogies_lf"]))))
    uc = ref["unicase"]
    for key, tag, ci, dummy in (("True", "ci", 1, 0), ("True-dummy", "ci-dummy", 1, 1), ("False-dummy", "cs-dummy", 0, 1)):
        pe, sp, oov = uc[key]
        src = "emb_eval_pairs('uc', :fixtures || '/keyed/unicase-pairs.tsv', 300000, %d, %d)" % (ci, dummy)
        if pe != pe:  # NaN: constant model similarities
            add("pairs", "unicase-" + tag, "select %s, pearson is null and spearman is null and abs(oov_ratio - %r) <= 1e-9 from %s;" % (q("unicase-" + tag), oov, src))
        else:
            add("pairs", "unicase-" + tag, "select %s, abs(pearson - %r) <= %g and abs(spearman - %r) <= %g and abs(oov_ratio - %r) <= 1e-9 from %s;"
                % (q("unicase-" + tag), pe, CORR, sp, CORR, oov, src))
    return checks


HEAD = """-- GENERATED by tests/ref/gen_keyed_tests.py from tests/ref/gensim_keyed_ref.json
-- (gensim %s, numpy %s); do not edit.  The gensim KeyedVectors calls on the
-- shipped GloVe and word2vec files: ids and orders exact, float32 results
-- within ULP ulps of gensim's (%s), correlations within %g.
create virtual table glove using embedding(dim=50);
insert into glove(token_id, token, vector) select * from emb_read_text(:data || '/glove.6B.50d.10k.txt');
create virtual table w2v using embedding(dim=300);
insert into w2v(token_id, token, vector) select * from emb_read_text(:data || '/googlenews-w2v-1000x300-unit.txt');
create virtual table uc using embedding(dim=4);
insert into uc(token_id, token, vector) select * from emb_read_text(:fixtures || '/keyed/unicase-4d.txt');
"""


def main():
    path = sys.argv[sys.argv.index("--ref") + 1] if "--ref" in sys.argv else "tests/ref/gensim_keyed_ref.json"
    ref = json.load(open(path, encoding="utf-8"))
    cs = build(ref)
    if "--measure" in sys.argv:
        import sqlite3
        db = sqlite3.connect(":memory:")
        db.enable_load_extension(True)
        db.load_extension("build/embext")
        for st in HEAD.split("\n"):
            if st and not st.startswith("--"):
                db.execute(st.replace(":data", "'tests/data'").replace(":fixtures", "'tests/fixtures'"))
        worst = {}
        for kind, label, _, m in cs:
            if m:
                v = db.execute(m.replace(":data", "'tests/data'").replace(":fixtures", "'tests/fixtures'")).fetchone()[0]
                if v is not None and v > worst.get(kind, (-1, ""))[0]:
                    worst[kind] = (v, label)
        for k, (v, label) in sorted(worst.items()):
            print("%-18s max %.3g (%s)" % (k, v, label))
        return
    with open("tests/sql/semantics_keyed.sql", "w", encoding="utf-8") as f:
        f.write(HEAD % (ref["gensim"], ref["numpy"], ", ".join("%s %d" % kv for kv in ULP.items()), CORR))
        for _, _, sql, _ in cs:
            f.write(sql + "\n")


main()
