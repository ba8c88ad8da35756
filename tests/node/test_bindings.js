'use strict';
// Checks bindings/node against the loaded extension with better-sqlite3@12.
// Run by tests/run.sh (NODE_PATH=tests/vendor/node_modules, EMBEXT_PATH set);
// prints "N passed, M failed".
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const Database = require('better-sqlite3');
const embext = require('../../bindings/node');

const root = path.join(__dirname, '..', '..');
const data = process.env.EMB_DATA || path.join(root, 'tests', 'data');
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else { failed++; console.log(`FAIL ${name}${detail === undefined ? '' : ': ' + detail}`); }
}
function throws(name, fn, pattern) {
  try { fn(); check(name, false, 'no error'); } catch (e) { check(name, pattern.test(e.message), e.message); }
}

const db = embext.load(new Database(':memory:'));
const one = (sql, ...args) => db.prepare(sql).pluck().get(...args);
check('isa', ['serial', 'avx2', 'avx512', 'neon'].includes(one('select emb_isa()')));
const VERSION = fs.readFileSync(path.join(root, 'VERSION'), 'utf8').trim();
check('version-package', embext.version === VERSION, `${embext.version} vs VERSION ${VERSION}`);
check('version-sql', one('select emb_version()') === VERSION);

// the BLOB format: float32 little-endian
const le = (xs) => { const b = Buffer.alloc(4 * xs.length); xs.forEach((x, i) => b.writeFloatLE(x, 4 * i)); return b; };
check('blob-f32array', embext.toBlob(new Float32Array([1, 2, 3.5])).equals(le([1, 2, 3.5])));
check('blob-array', embext.toBlob([1, 2, 3.5]).equals(le([1, 2, 3.5])));
const big = new Float32Array([9, 8, 7, 6]);
check('blob-subarray', embext.toBlob(big.subarray(1, 3)).equals(le([8, 7])));
check('blob-f64array', embext.toBlob(new Float64Array([0.1])).equals(le([0.1])));
throws('blob-string', () => embext.toBlob('[1,2]'), /toBlob: expected a Float32Array/);
throws('blob-bad-element', () => embext.toBlob([1, 'x']), /element 1 is string/);

const a = embext.toBlob(new Float32Array([1, 2, 3]));
const b = embext.toBlob([4, 5, 6.5]);
check('dot', one('select emb_dot(?, ?)', a, b) === 33.5);
check('json-agrees', one("select emb_dot(?, '[4,5,6.5]')", a) === 33.5);
const sum = embext.fromBlob(one('select emb_add(?, ?)', a, b));
check('result-f32array', sum instanceof Float32Array && sum.join() === '5,7,9.5', sum && sum.join());
check('result-null', embext.fromBlob(one('select emb_add(NULL, ?)', a)) === null);
// an unaligned Buffer (offset 1 into its memory) reads the same floats
const raw = Buffer.concat([Buffer.from([0]), le([0.25, -2])]).subarray(1);
check('result-unaligned', embext.fromBlob(raw).join() === '0.25,-2');
throws('result-bad-length', () => embext.fromBlob(Buffer.alloc(7)), /blob length 7 is not a multiple of 4/);
throws('sql-error', () => one('select emb_dot(?, ?)', a, embext.toBlob([1, 2])), /emb_dot: dimension mismatch: argument 1 has 3 values, argument 2 has 2/);

// GloVe: the stored rows are the file's numbers rounded to float32
const file = path.join(data, 'glove.6B.50d.10k.txt');
db.exec('create virtual table glove using embedding(dim=50)');
const n = db.prepare('insert into glove(token_id, token, vector) select * from emb_read_text(?)').run(file).changes;
check('import', n === 10000, n);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length);
const rows = lines.map((l) => { const p = l.split(' '); return [p[0], Float32Array.from(p.slice(1).map(Number))]; });
const lookup = (t) => embext.fromBlob(one('select vector from glove where token = ?', t));
let same = true;
for (const i of [0, 1, 4321, 9999]) same = same && lookup(rows[i][0]).join() === rows[i][1].join();
check('lookup-equals-file', same);

// KNN with a Float32Array parameter equals a brute-force cosine in JavaScript
function cosine(x, y) {
  let d = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) { d += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
  return nx === 0 || ny === 0 ? 0 : d / Math.sqrt(nx * ny);
}
const q = new Float32Array(50).map((_, i) => lookup('king')[i] - lookup('man')[i] + lookup('woman')[i]);
const want = rows.map(([t, v]) => [t, 1 - cosine(q, v)]).sort((x, y) => x[1] - y[1]).slice(0, 8);
const got = db.prepare('select token, distance from glove where vector match ? and k = 8').all(embext.toBlob(q));
check('knn-order', got.map((r) => r.token).join() === want.map((r) => r[0]).join(),
      `${got.map((r) => r.token)} vs ${want.map((r) => r[0])}`);
check('knn-distance', got.every((r, i) => Math.abs(r.distance - want[i][1]) < 1e-5));
check('analogy', one("select token from emb_analogy('glove', 'man', 'king', 'woman', 1)") === 'queen');
db.close();

// the library path: a wrong EMBEXT_PATH is named in the error
const saved = process.env.EMBEXT_PATH;
process.env.EMBEXT_PATH = '/nonexistent/embext.so';
throws('path-env', () => embext.load(new Database(':memory:')), /EMBEXT_PATH names \/nonexistent\/embext.so/);
process.env.EMBEXT_PATH = saved;
throws('load-not-db', () => embext.load({}), /expected a better-sqlite3 Database/);

// the example runs and finds queen
const out = execFileSync(process.execPath, [path.join(root, 'examples', 'node', 'glove.js'), file],
                         { encoding: 'utf8' });
check('example', /emb_analogy\(man : king :: woman : \?\) = queen 0\.8524/.test(out) &&
      /^ {2}france 0\.1975$/m.test(out), out);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
