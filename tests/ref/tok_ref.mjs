// tok_ref.mjs - reference token ids from the real tokenizers, written as
// self-checking SQL tests (the fixtures; `make test` needs no network).
//
//   (cd bench/vendor/tok && npm i -E node-llama-cpp@3.21.1 js-tiktoken@1.0.21)
//   node tests/ref/tok_ref.mjs
//
// Writes
//   tests/data/tok_corpus.jsonl         the corpus: one JSON string per line
//   tests/data/gpt2-r50k-tokenizer.gguf GPT-2's r50k_base ranks (from js-tiktoken)
//                                       as a GGUF "gpt2" tokenizer: tokens in
//                                       GPT-2's byte-level text, merges derived
//                                       from the ranks, <|endoftext|> control
//   tests/sql/tok_llama_ref.sql         stories260k-v3.gguf: llama.cpp's ids
//                                       (node-llama-cpp model.tokenize, which
//                                       adds no BOS) and its round trip
//   tests/sql/tok_gpt2_ref.sql          the GGUF above: js-tiktoken's ids
//                                       and its round trip
// Every corpus string is a test: any id that differs fails.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const vendor = path.join(root, "bench/vendor/tok/node_modules");
const require = createRequire(path.join(vendor, "x.js"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));
const { Tiktoken } = require("js-tiktoken/lite");
const r50k = require("js-tiktoken/ranks/r50k_base");
import { r50kVocab } from "./r50k_vocab.mjs";
const pkgVersion = name => JSON.parse(readFileSync(path.join(vendor, name, "package.json"), "utf8")).version;

// ---- corpus -----------------------------------------------------------------
let seed = 12345;
function rnd(n) { // deterministic LCG
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}
const fixed = [
  "I love dogs", "Hello world", "hello world", " Hello world", "Hello  world", "Hello   world ",
  "Once upon a time, there was a little girl named Lily.", "She liked to play outside.",
  "The cat sat on the mat.", "Tom and Sue went to the park. They saw a big tree!",
  "don't", "I'm", "you're", "we've", "she'll", "he'd", "it's", "DON'T", "I'M", "they're here",
  "can't won't shouldn't", "'s 't 're 've 'm 'll 'd", "rock'n'roll", "o'clock", "'quoted'", "\"double\"",
  "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\tindented", "a\tb\tc", "line1\nline2",
  "line1\n\nline2\n", "trailing space ", "  leading spaces", "mixed \t\n whitespace", "a  \n  b",
  "\u00a0non-breaking\u00a0space", "ideographic\u3000space", "em\u2003space", "zero\u200bwidth",
  "0", "1", "12", "123", "1234", "12345", "3.14159", "1,000,000", "2026-12-04", "10:30pm", "$100",
  "50%", "+1-555-0100", "v1.2.3", "x=42;", "0x7F", "1e-9", "½ ¾ ²", "٣٤٥", "१२३", "Ⅻ",
  "café", "naïve", "résumé", "Zürich", "façade", "jalapeño", "São Paulo", "Ærøskøbing", "Ångström",
  "e\u0301", "n\u0303", "crème brûlée", "Łódź", "İstanbul", "straße", "ﬁ ligature", "Ǆ",
  "日本語", "東京は日本の首都です。", "中文测试", "你好，世界！", "한국어", "안녕하세요", "ひらがな", "カタカナ",
  "Привет, мир!", "Ελληνικά", "עברית", "مرحبا بالعالم", "हिन्दी", "ไทย", "ქართული", "Հայերեն", "ᚠᛇᚻ",
  "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇩🇪🇯🇵", "I ❤️ NY", "emoji 🐶 dog", "🙂 smile 🙃",
  "©®™", "→ ← ↑ ↓", "∑∫√∞", "♠♣♥♦", "★☆", "…", "—", "–", "“smart quotes”", "‘single’", "«guillemets»",
  "<html><body>hi</body></html>", "def f(x):\n    return x*2\n", "int main(void) { return 0; }",
  "SELECT * FROM t WHERE id = 1;", "https://example.com/path?q=1&r=2", "user@example.com", "#hashtag",
  "@mention", "C:\\Windows\\path", "a/b/c", "~/.bashrc", "{\"json\": [1, 2, 3]}", "!!!", "???", "...",
  "--", "__init__", "==>", "<|endoftext|>", "<s>", "</s>", "<unk>", "<0x41>", "▁", "▁▁hello",
  "ALL CAPS SENTENCE", "MiXeD cAsE", "camelCaseWord", "snake_case_word", "kebab-case-word",
  "supercalifragilisticexpialidocious", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababab",
  "The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs!",
];
const words = ["the", "little", "girl", "dog", "cat", "happy", "sun", "play", "ran", "big", "tree",
  "Lily", "Tom", "mom", "ball", "house", "friend", "wanted", "saw", "said", "very", "and", "was",
  "world", "zebra", "quixotic", "jump", "running", "jumped", "unbelievable", "Go", "OK"];
const bits = [" ", "  ", "\t", "\n", "\n\n", ", ", ". ", "! ", "? ", "'s", "'t", "'ll", "n't", "0", "42",
  "2026", "é", "ü", "ñ", "日本", "中", "한", "Ж", "λ", "ع", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "‍", "€", "£",
  "¥", "–", "…", "\u00a0", "\r\n", "  \t ", "   ", "(", ")", "[", "]", "\"", "'", "-", "_", "/", ":"];
const qw = readFileSync(path.join(root, "tests/data/questions-words.txt"), "utf8").split("\n")
  .filter(l => l && !l.startsWith(":"));
const corpus = [...fixed];
for (let i = 0; i < 120; i++) corpus.push(qw[rnd(qw.length)]);
for (let i = 0; i < 300; i++) {
  let s = "";
  const n = 1 + rnd(8);
  for (let k = 0; k < n; k++) {
    const w = rnd(3) ? words[rnd(words.length)] : bits[rnd(bits.length)];
    s += (rnd(4) === 0 ? w.toUpperCase() : w) + (rnd(2) ? " " : bits[rnd(bits.length)]);
  }
  if (rnd(3) === 0) s = s.trimEnd();
  corpus.push(s);
}
const stories = [
  "Once upon a time, in a small town, there lived a boy named Tim. Tim had a red ball.\nHe loved to play with it every day.",
  "One day, Lily saw a bird in the sky. \"Look, Mom!\" she said. \"A bird!\"\n\nMom smiled.",
  "The end.\n", "  The dog barked.   The cat ran away!\t\t", "Tim was sad :( but then he was happy :)",
];
corpus.push(...stories);
mkdirSync(path.join(root, "tests/data"), { recursive: true });
writeFileSync(path.join(root, "tests/data/tok_corpus.jsonl"), corpus.map(s => JSON.stringify(s)).join("\n") + "\n");

// ---- SQL writing ------------------------------------------------------------
const hex = s => Buffer.from(s, "utf8").toString("hex");
const lit = s => `cast(x'${hex(s)}' as text)`;
function writeSql(file, header, setup, table, refs) {
  let out = header + setup;
  let nrt = 0;
  refs.forEach(({ s, ids, rt }, i) => {
    const label = String(i).padStart(4, "0");
    out += `select '${table}-${label}', emb_tokens_json('${table}', ${lit(s)}, 0) = '[${ids.join(",")}]';\n`;
    if (rt) {
      out += `select '${table}-rt-${label}', emb_detokenize('${table}', emb_tokens_json('${table}', ${lit(s)}, 0)) = ${lit(s)};\n`;
      nrt++;
    }
  });
  writeFileSync(path.join(root, file), out);
  console.log(`${file}: ${refs.length} strings, ${nrt} round trips`);
}

// ---- llama.cpp on stories260k -----------------------------------------------
const llama = await getLlama({ build: "never", gpu: false });
const model = await llama.loadModel({ modelPath: path.join(root, "tests/data/stories260k-v3.gguf") });
const llamaRefs = corpus.map(s => {
  const ids = Array.from(model.tokenize(s));
  return { s, ids, rt: model.detokenize(ids) === s };
});
const bos = model.tokens.bos;
writeSql("tests/sql/tok_llama_ref.sql",
  `-- Generated by tests/ref/tok_ref.mjs from llama.cpp (node-llama-cpp ${pkgVersion("node-llama-cpp")}):
-- stories260k-v3.gguf, model.tokenize(text) (no BOS) for every string of
-- tests/data/tok_corpus.jsonl, and detokenize(tokenize(s)) == s where
-- llama.cpp's own round trip gives s back.  Do not edit; rerun the script.
`,
  `create virtual table wte using embedding(dim=64);
insert into wte(token_id, token, vector) select token_id, token, vector from emb_read_gguf(:data || '/stories260k-v3.gguf');
select 'llama-load', emb_tokenizer_load('wte', :data || '/stories260k-v3.gguf') = 512;
select 'llama-bos-default', emb_tokens_json('wte', 'I love dogs') = '[${[bos, ...model.tokenize("I love dogs")].join(",")}]';
select 'llama-bos-on', emb_tokens_json('wte', 'I love dogs', 1) = '[${[bos, ...model.tokenize("I love dogs")].join(",")}]';
select 'llama-detok', emb_detokenize('wte', '[359, 401, 360]') = '${model.detokenize([359, 401, 360]).replace(/'/g, "''")}';
`, "wte", llamaRefs);

// ---- GPT-2 r50k_base from js-tiktoken ---------------------------------------
const enc = new Tiktoken(r50k);
const nRanks = enc.textMap.size;
const { tokens, types, merges, nVocab } = r50kVocab(enc, r50k);

function gguf(kvs) { // GGUF v3, no tensors
  const chunks = [];
  const u32 = v => { const b = Buffer.alloc(4); b.writeUInt32LE(v); chunks.push(b); };
  const u64 = v => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); chunks.push(b); };
  const str = s => { const b = Buffer.from(s, "utf8"); u64(b.length); chunks.push(b); };
  chunks.push(Buffer.from("GGUF")); u32(3); u64(0); u64(kvs.length);
  for (const [key, type, val, et] of kvs) {
    str(key); u32(type);
    if (type === 8) str(val);
    else if (type === 4) u32(val);
    else if (type === 7) chunks.push(Buffer.from([val ? 1 : 0]));
    else if (type === 9) {
      u32(et); u64(val.length);
      for (const v of val) {
        if (et === 8) str(v);
        else { const b = Buffer.alloc(4); b.writeInt32LE(v); chunks.push(b); }
      }
    }
  }
  return Buffer.concat(chunks);
}
const eot = r50k.special_tokens["<|endoftext|>"];
writeFileSync(path.join(root, "tests/data/gpt2-r50k-tokenizer.gguf"), gguf([
  ["general.name", 8, "gpt2 r50k_base tokenizer (from js-tiktoken)"],
  ["tokenizer.ggml.model", 8, "gpt2"],
  ["tokenizer.ggml.pre", 8, "gpt2"],
  ["tokenizer.ggml.tokens", 9, tokens, 8],
  ["tokenizer.ggml.token_type", 9, types, 5],
  ["tokenizer.ggml.merges", 9, merges, 8],
  ["tokenizer.ggml.bos_token_id", 4, eot],
  ["tokenizer.ggml.eos_token_id", 4, eot],
  ["tokenizer.ggml.add_bos_token", 7, false],
]));
const gptRefs = corpus.map(s => {
  const ids = enc.encode(s, [], []);
  return { s, ids, rt: enc.decode(ids) === s };
});
writeSql("tests/sql/tok_gpt2_ref.sql",
  `-- Generated by tests/ref/tok_ref.mjs from js-tiktoken ${pkgVersion("js-tiktoken")}
-- (r50k_base, encode(s, [], [])) for every string of tests/data/tok_corpus.jsonl,
-- tokenized with tests/data/gpt2-r50k-tokenizer.gguf (the same ranks as a GGUF
-- "gpt2" tokenizer), and the round trip.  Do not edit; rerun the script.
`,
  `create virtual table g using embedding(dim=1);
select 'gpt2-load', emb_tokenizer_load('g', :data || '/gpt2-r50k-tokenizer.gguf') = ${nVocab};
select 'gpt2-hello', emb_tokens_json('g', 'Hello world') = '[${enc.encode("Hello world").join(",")}]';
`, "g", gptRefs);
console.log(`corpus: ${corpus.length} strings; gpt2 vocab ${nVocab}, merges ${merges.length}`);
await model.dispose();
