// tok_hf_ref.mjs - Hugging Face tokenizer.json files and their reference ids,
// written as self-checking SQL tests (the fixtures; `make test` needs no
// network).
//
//   (cd bench/vendor/tok && npm i -E node-llama-cpp@3.21.1 js-tiktoken@1.0.21 @huggingface/tokenizers@0.2.0)
//   node tests/ref/tok_hf_ref.mjs
//
// Writes
//   tests/data/gpt2-r50k-tokenizer.json   GPT-2's r50k_base ranks (js-tiktoken)
//       as a byte-level BPE tokenizer.json, the shape of GPT-2's own file
//   tests/data/stories260k-tokenizer.json  stories260k-v3.gguf's vocabulary as
//       a LLaMA-style tokenizer.json (Prepend + Replace normalizer, byte
//       fallback, merges made from the scores as tokenizers' converter makes
//       them: every split of a piece into two pieces, pieces by score)
//   tests/data/stories260k-tokenizer-metaspace.json  the same with the newer
//       Metaspace pre-tokenizer (prepend_scheme "first", split false)
//   tests/sql/tok_hf_ref.sql   for every string of tests/data/tok_corpus.jsonl:
//       gpt2 json == js-tiktoken's ids (all strings), and each llama json ==
//       @huggingface/tokenizers' ids (tokenizers.js, HF's own JS port) for the
//       strings that hold no added-token text (tokenizers.js would turn "<s>"
//       into the control token; embext keeps text as text).  The script also
//       counts how many agree with llama.cpp (node-llama-cpp) and prints it.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { r50kVocab } from "./r50k_vocab.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const vendor = path.join(root, "bench/vendor/tok/node_modules");
const require = createRequire(path.join(vendor, "x.js"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));
const { Tiktoken } = require("js-tiktoken/lite");
const r50k = require("js-tiktoken/ranks/r50k_base");
const { Tokenizer } = await import(path.join(vendor, "@huggingface/tokenizers/dist/tokenizers.mjs"));
const pkgVersion = name => JSON.parse(readFileSync(path.join(vendor, name, "package.json"), "utf8")).version;

const corpus = readFileSync(path.join(root, "tests/data/tok_corpus.jsonl"), "utf8")
  .split("\n").filter(l => l).map(l => JSON.parse(l));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// ---- GPT-2 r50k as tokenizer.json ------------------------------------------
const enc = new Tiktoken(r50k);
const V = r50kVocab(enc, r50k);
const gpt2Json = {
  version: "1.0", truncation: null, padding: null,
  added_tokens: V.special.map(([content, id]) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true })),
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
    fuse_unk: false, byte_fallback: false, ignore_merges: false,
    vocab: Object.fromEntries(V.tokens.map((t, id) => [t, id])), merges: V.merges,
  },
};
writeFileSync(path.join(root, "tests/data/gpt2-r50k-tokenizer.json"), JSON.stringify(gpt2Json));

// ---- stories260k as LLaMA-style tokenizer.json ------------------------------
function ggufTokenizer(file) { // tokenizer.ggml.* of a GGUF v2/v3 file
  const b = readFileSync(file);
  let o = 0;
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(b.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const n = u64(); const s = b.toString("utf8", o, o + n); o += n; return s; };
  const sizes = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const val = t => {
    if (t === 8) return str();
    if (t === 9) {
      const et = u32(), n = u64(), out = [];
      for (let i = 0; i < n; i++) out.push(val(et));
      return out;
    }
    const v = t === 6 ? b.readFloatLE(o) : t === 5 ? b.readInt32LE(o) : t === 4 ? b.readUInt32LE(o)
      : t === 7 ? b[o] !== 0 : null;
    o += sizes[t];
    return v;
  };
  if (b.toString("latin1", 0, 4) !== "GGUF") throw new Error("not GGUF");
  o = 8; u64(); const nkv = u64();
  const kv = {};
  for (let i = 0; i < nkv; i++) { const k = str(); kv[k] = val(u32()); }
  return kv;
}
const kv = ggufTokenizer(path.join(root, "tests/data/stories260k-v3.gguf"));
const pieces = kv["tokenizer.ggml.tokens"], scores = kv["tokenizer.ggml.scores"];
const ttypes = kv["tokenizer.ggml.token_type"];
const vocab = Object.fromEntries(pieces.map((p, id) => [p, id]));
// tokenizers' SentencePieceExtractor: for each piece, every split into two
// pieces (ordered by their ids), all pieces ordered by score, highest first
// (a stable sort).
let spMerges = [];
pieces.forEach((p, id) => {
  const chars = Array.from(p), local = [];
  for (let i = 1; i < chars.length; i++) {
    const l = chars.slice(0, i).join(""), r = chars.slice(i).join("");
    if (l in vocab && r in vocab) local.push([l, r, scores[id]]);
  }
  local.sort((a, c) => vocab[a[0]] - vocab[c[0]] || vocab[a[1]] - vocab[c[1]]);
  spMerges.push(...local);
});
spMerges = spMerges.map((m, i) => [...m, i]).sort((a, c) => c[2] - a[2] || a[3] - c[3]).map(m => [m[0], m[1]]);
const special = pieces.map((p, id) => [p, id]).filter(([, id]) => ttypes[id] === 2 || ttypes[id] === 3);
const bos = kv["tokenizer.ggml.bos_token_id"], unk = kv["tokenizer.ggml.unknown_token_id"];
const llamaModel = {
  type: "BPE", dropout: null, unk_token: pieces[unk], continuing_subword_prefix: null,
  end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false,
  vocab, merges: spMerges.map(([l, r]) => l + " " + r),
};
const addedSp = special.map(([content, id]) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
const template = {
  type: "TemplateProcessing",
  single: [{ SpecialToken: { id: pieces[bos], type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
  pair: [{ SpecialToken: { id: pieces[bos], type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
    { SpecialToken: { id: pieces[bos], type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
  special_tokens: { [pieces[bos]]: { id: pieces[bos], ids: [bos], tokens: [pieces[bos]] } },
};
const legacyJson = {
  version: "1.0", truncation: null, padding: null, added_tokens: addedSp,
  normalizer: { type: "Sequence", normalizers: [
    { type: "Prepend", prepend: "▁" }, { type: "Replace", pattern: { String: " " }, content: "▁" }] },
  pre_tokenizer: null, post_processor: template,
  decoder: { type: "Sequence", decoders: [
    { type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" },
    { type: "Strip", content: " ", start: 1, stop: 0 }] },
  model: llamaModel,
};
const metaJson = {
  ...legacyJson, normalizer: null,
  pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
  decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
};
writeFileSync(path.join(root, "tests/data/stories260k-tokenizer.json"), JSON.stringify(legacyJson));
writeFileSync(path.join(root, "tests/data/stories260k-tokenizer-metaspace.json"), JSON.stringify(metaJson));

// ---- reference ids ----------------------------------------------------------
const hfIds = (json, s) => Array.from(new Tokenizer(json, {}).encode(s, { add_special_tokens: false }).ids);
const hfGpt2 = new Tokenizer(gpt2Json, {}), hfLegacy = new Tokenizer(legacyJson, {}), hfMeta = new Tokenizer(metaJson, {});
const ids = (tk, s) => Array.from(tk.encode(s, { add_special_tokens: false }).ids);
const llama = await getLlama({ build: "never", gpu: false });
const model = await llama.loadModel({ modelPath: path.join(root, "tests/data/stories260k-v3.gguf") });

const hex = s => Buffer.from(s, "utf8").toString("hex");
const lit = s => `cast(x'${hex(s)}' as text)`;
const hasAdded = (s, list) => list.some(([c]) => s.includes(c));
const gptSpecial = V.special;
let out = `-- Generated by tests/ref/tok_hf_ref.mjs: Hugging Face tokenizer.json files
-- (tests/data/*-tokenizer*.json, made by the script) against the real
-- implementations, for every string of tests/data/tok_corpus.jsonl.
--   h: gpt2-r50k-tokenizer.json vs js-tiktoken ${pkgVersion("js-tiktoken")} (r50k_base, encode(s, [], []))
--   l: stories260k-tokenizer.json (Prepend/Replace) vs @huggingface/tokenizers ${pkgVersion("@huggingface/tokenizers")}
--   m: stories260k-tokenizer-metaspace.json (Metaspace) vs @huggingface/tokenizers
-- Strings holding an added token's text are left out of l and m (tokenizers
-- would read "<s>" as the control token; embext keeps text as text).
-- Do not edit; rerun the script.
create virtual table h using embedding(dim=1);
create virtual table l using embedding(dim=1);
create virtual table m using embedding(dim=1);
select 'hf-load-h', emb_tokenizer_load('h', :data || '/gpt2-r50k-tokenizer.json') = ${V.nVocab};
select 'hf-load-l', emb_tokenizer_load('l', :data || '/stories260k-tokenizer.json') = ${pieces.length};
select 'hf-load-m', emb_tokenizer_load('m', :data || '/stories260k-tokenizer-metaspace.json') = ${pieces.length};
select 'hf-bos-l', emb_tokens_json('l', 'I love dogs') = '[${Array.from(hfLegacy.encode("I love dogs").ids).join(",")}]';
select 'hf-bos-m', emb_tokens_json('m', 'I love dogs') = '[${Array.from(hfMeta.encode("I love dogs").ids).join(",")}]';
`;
const counts = { h: 0, hHf: 0, l: 0, m: 0, lLlama: 0, mLlama: 0, lSkip: 0, lRt: 0, hRt: 0, mRt: 0 };
corpus.forEach((s, i) => {
  const label = String(i).padStart(4, "0");
  const tk = enc.encode(s, [], []);
  out += `select 'h-${label}', emb_tokens_json('h', ${lit(s)}, 0) = '[${tk.join(",")}]';\n`;
  counts.h++;
  if (!hasAdded(s, gptSpecial) && same(ids(hfGpt2, s), tk)) counts.hHf++;
  if (enc.decode(tk) === s) {
    out += `select 'h-rt-${label}', emb_detokenize('h', emb_tokens_json('h', ${lit(s)}, 0)) = ${lit(s)};\n`;
    counts.hRt++;
  }
  if (hasAdded(s, special)) { counts.lSkip++; return; }
  const ll = Array.from(model.tokenize(s));
  for (const [t, tab] of [[hfLegacy, "l"], [hfMeta, "m"]]) {
    const r = ids(t, s);
    out += `select '${tab}-${label}', emb_tokens_json('${tab}', ${lit(s)}, 0) = '[${r.join(",")}]';\n`;
    counts[tab]++;
    if (same(r, ll)) counts[tab + "Llama"]++;
    if ((r.length ? t.decode(r, { skip_special_tokens: true }) : "") === s) {
      out += `select '${tab}-rt-${label}', emb_detokenize('${tab}', emb_tokens_json('${tab}', ${lit(s)}, 0)) = ${lit(s)};\n`;
      counts[tab + "Rt"]++;
    }
  }
});
writeFileSync(path.join(root, "tests/sql/tok_hf_ref.sql"), out);
console.log(`tests/sql/tok_hf_ref.sql: gpt2 json ${counts.h} strings vs js-tiktoken (tokenizers.js agrees on ${counts.hHf} of ${counts.h - corpus.filter(s => hasAdded(s, gptSpecial)).length} without added-token text), ${counts.hRt} round trips`);
console.log(`  llama json (legacy) ${counts.l} strings vs tokenizers.js (${counts.lSkip} left out), ${counts.lRt} round trips; llama.cpp agrees on ${counts.lLlama}`);
console.log(`  llama json (metaspace) ${counts.m} strings vs tokenizers.js, ${counts.mRt} round trips; llama.cpp agrees on ${counts.mLlama}`);
console.log(`  merges: gpt2 ${V.merges.length}, stories260k ${spMerges.length}`);
await model.dispose();
