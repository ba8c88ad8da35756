'use strict';
// embext for Node: load the SQLite extension into a better-sqlite3 database
// and move vectors between Float32Array and the extension's BLOB format
// (float32, little-endian, 4 * dim bytes).
//
//   const Database = require('better-sqlite3');
//   const embext = require('./bindings/node');
//   const db = embext.load(new Database(':memory:'));
//   db.prepare('select emb_dot(?, ?) d').get(embext.toBlob([1, 2]), embext.toBlob([3, 4]));
//
// The library is found, in order, at $EMBEXT_PATH, next to this file (a
// packaged copy), at the repository root (./embext.so of `make`) or in
// build/ (build/embext.so).
const fs = require('fs');
const os = require('os');
const path = require('path');

const version = require('./package.json').version;
const littleEndian = os.endianness() === 'LE';

function libraryPath() {
  const env = process.env.EMBEXT_PATH;
  if (env) {
    if (fs.existsSync(env)) return path.resolve(env);
    throw new Error(`embext: EMBEXT_PATH names ${env}, which does not exist`);
  }
  const root = path.join(__dirname, '..', '..');
  const candidates = [
    path.join(__dirname, 'embext.so'),
    path.join(root, 'embext.so'),
    path.join(root, 'build', 'embext.so'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return path.resolve(c);
  throw new Error(`embext: no embext.so (looked at: ${candidates.join(', ')}); ` +
                  'run `make` or set EMBEXT_PATH');
}

// Load embext into an open better-sqlite3 Database; returns db.
function load(db) {
  if (!db || typeof db.loadExtension !== 'function') {
    throw new TypeError('embext.load: expected a better-sqlite3 Database');
  }
  db.loadExtension(libraryPath());
  return db;
}

// A Buffer holding the vector as float32 little-endian, from a Float32Array,
// any other typed array or a plain array of numbers.
function toBlob(vector) {
  if (vector == null || typeof vector.length !== 'number' || typeof vector === 'string') {
    throw new TypeError('embext.toBlob: expected a Float32Array or an array of numbers, found ' +
                        (vector === null ? 'null' : typeof vector));
  }
  if (vector instanceof Float32Array && littleEndian) {
    return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
  }
  const out = Buffer.alloc(4 * vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i];
    if (typeof x !== 'number') {
      throw new TypeError(`embext.toBlob: element ${i} is ${typeof x}, expected a number`);
    }
    out.writeFloatLE(x, 4 * i);
  }
  return out;
}

// The floats of a float32 BLOB (a Buffer or Uint8Array) as a Float32Array
// (a copy, so the result is aligned and independent of the row buffer);
// null stays null.
function fromBlob(blob) {
  if (blob == null) return null;
  if (!(blob instanceof Uint8Array)) {
    throw new TypeError(`embext.fromBlob: expected a Buffer (BLOB), found ${typeof blob}`);
  }
  if (blob.byteLength % 4 !== 0) {
    throw new RangeError(`embext.fromBlob: blob length ${blob.byteLength} is not a multiple of 4`);
  }
  const n = blob.byteLength / 4;
  const out = new Float32Array(n);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

module.exports = { load, path: libraryPath, toBlob, fromBlob, version };
