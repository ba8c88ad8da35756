'use strict';
// GloVe in Node: import the shipped GloVe rows into an embedding table, find
// nearest neighbours with a Float32Array query, solve king - man + woman and
// take a vector back as a Float32Array.
//
//   npm install better-sqlite3@12 && make && node examples/node/glove.js [glove.txt]
//
// (better-sqlite3 is looked up the usual way; the test suite sets NODE_PATH.)
const path = require('path');
const Database = require('better-sqlite3');
const embext = require('../../bindings/node');

const root = path.join(__dirname, '..', '..');
const file = process.argv[2] || path.join(root, 'tests', 'data', 'glove.6B.50d.10k.txt');

const db = embext.load(new Database(':memory:'));
db.exec('create virtual table glove using embedding(dim=50)');
const imported = db.prepare(
  'insert into glove(token_id, token, vector) select * from emb_read_text(?)').run(file).changes;
console.log(`imported ${imported} rows, embext ${db.prepare('select emb_version() v').get().v}`);

// a vector out of the table, as a Float32Array
const paris = embext.fromBlob(db.prepare('select vector from glove where token = ?').get('paris').vector);
console.log(`paris: ${paris.length} floats, first ${paris[0]}`);

// nearest neighbours of a Float32Array query (exact top-k, cosine)
const knn = db.prepare(
  'select token, round(distance, 4) as distance from glove where vector match ? and k = ?');
for (const row of knn.all(embext.toBlob(paris), 6)) console.log(`  ${row.token} ${row.distance}`);

// king - man + woman, computed in JavaScript and searched in SQL ...
const vec = (t) => embext.fromBlob(db.prepare('select vector from glove where token = ?').get(t).vector);
const [king, man, woman] = ['king', 'man', 'woman'].map(vec);
const q = king.map((x, i) => x - man[i] + woman[i]);
const near = knn.all(embext.toBlob(q), 4).map((r) => r.token);
console.log(`king - man + woman, nearest rows: ${near.join(', ')}`);
// ... and the gensim-style analogy, which leaves the three inputs out
const best = db.prepare("select token, round(score, 4) as score from emb_analogy('glove', 'man', 'king', 'woman', 1)").get();
console.log(`emb_analogy(man : king :: woman : ?) = ${best.token} ${best.score}`);
db.close();
