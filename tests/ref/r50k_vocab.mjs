// r50k_vocab.mjs - GPT-2's r50k_base ranks (from js-tiktoken) as a BPE
// vocabulary: token texts in GPT-2's byte-level alphabet, merges derived
// from the ranks, and the special tokens.  Used by tok_ref.mjs (GGUF) and
// tok_hf_ref.mjs (tokenizer.json).
//
// Merges: each multi-byte token, BPE'd with the ranks below its own, ends as
// exactly two parts; that pair is its merge (rank = its rank).
export function byteToCp() {
  const map = [];
  let k = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    map.push(printable ? b : 256 + k++);
  }
  return map;
}

export function r50kVocab(enc, r50k) {
  const cp = byteToCp();
  const nRanks = enc.textMap.size;
  const toText = bytes => String.fromCodePoint(...Array.from(bytes, b => cp[b]));
  const rankOf = new Map();
  for (const [rank, bytes] of enc.textMap) rankOf.set(Array.from(bytes).join(","), rank);
  const merges = [];
  for (let r = 0; r < nRanks; r++) {
    const bytes = Array.from(enc.textMap.get(r));
    if (bytes.length < 2) continue;
    let parts = bytes.map(b => [b]);
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rr = rankOf.get([...parts[i], ...parts[i + 1]].join(","));
        if (rr !== undefined && rr < r && rr < bestRank) { bestRank = rr; best = i; }
      }
      if (best < 0) break;
      parts.splice(best, 2, [...parts[best], ...parts[best + 1]]);
    }
    if (parts.length !== 2) throw new Error(`rank ${r}: ${parts.length} parts`);
    merges.push([toText(parts[0]), toText(parts[1])]);
  }
  const special = Object.entries(r50k.special_tokens);
  const nVocab = Math.max(nRanks, ...special.map(([, id]) => id + 1));
  const tokens = new Array(nVocab), types = new Array(nVocab).fill(1);
  for (const [rank, bytes] of enc.textMap) tokens[rank] = toText(bytes);
  for (const [text, id] of special) { tokens[id] = text; types[id] = 3; }
  return { tokens, types, merges: merges.map(([a, b]) => a + " " + b), mergePairs: merges, nVocab, special };
}
