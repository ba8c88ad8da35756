// tok_bench.mjs - tokenizer speed of the references, one thread:
//   node bench/tok_bench.mjs llama MODEL.gguf TEXT_FILE   llama.cpp (node-llama-cpp model.tokenize)
//   node bench/tok_bench.mjs tiktoken - TEXT_FILE         js-tiktoken r50k_base encode
// The text is split into paragraphs at blank lines, as bench/tok_bench.c
// does; one untimed warm-up pass, then one timed pass; prints
// "seconds cpu_seconds bytes tokens digest" (cpu: the process's user +
// system time, all its threads).  Packages come from bench/vendor/tok (see tok_run.sh).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const [kind, modelPath, textPath] = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "bench/vendor/tok/node_modules/x.js"));
const text = readFileSync(textPath, "utf8");
const paras = text.split("\n\n");
const bytes = paras.reduce((a, p) => a + Buffer.byteLength(p), 0);
let encode, done = async () => {};
if (kind === "llama") {
  const { getLlama } = await import(require.resolve("node-llama-cpp"));
  const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath });
  encode = s => model.tokenize(s);
  done = () => model.dispose();
} else {
  const { Tiktoken } = require("js-tiktoken/lite");
  const enc = new Tiktoken(require("js-tiktoken/ranks/r50k_base"));
  encode = s => enc.encode(s, [], []);
}
const pass = () => paras.map(p => encode(p));
pass();
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
const out = pass();
const sec = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
let tokens = 0, digest = 2166136261; // FNV-1a over the ids, as tok_bench.c
for (const ids of out)
  for (const id of ids) { digest = Math.imul((digest ^ id) >>> 0, 16777619) >>> 0; tokens++; }
console.log(`${sec.toFixed(6)} ${cpu.toFixed(6)} ${bytes} ${tokens} ${digest.toString(16).padStart(8, "0")}`);
await done();
