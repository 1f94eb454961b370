import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadGlove, lookupKeys } from '../lib/glove.js';
import { tmpDir } from './helpers.js';

// A small file in the package's format: keys that look like JSON syntax, escapes, non-ASCII.
function writeSample(file) {
  const words = ['the', ']', '"', '\\', 'café', 'x,y', '[a]', ':', 'über'];
  const vectors = {};
  words.forEach((w, i) => {
    vectors[w] = [i + 0.5, 1 - i, i / 4, Math.hypot(i + 0.5, 1 - i, i / 4), i];
  });
  const obj = { precision: 8, l2NormIndex: 3, wordIndex: 4, size: words.length, dimensions: 3, words, vectors, unkVector: [0, 0, 0, 0, -1] };
  fs.writeFileSync(file, JSON.stringify(obj));
  return vectors;
}

test('loadGlove: the wanted vectors, across chunk boundaries of every size', async () => {
  const file = path.join(tmpDir(), 'sample.json');
  const vectors = writeSample(file);
  const wanted = new Set(['the', ']', '"', '\\', 'café', 'x,y', 'über', 'missing']);
  for (const chunkBytes of [1, 2, 3, 7, 16, 64, 1 << 20]) {
    const g = await loadGlove(wanted, { file, chunkBytes });
    assert.equal(g.dims, 3);
    assert.equal(g.size, 9);
    assert.equal(g.seen, 9);
    assert.deepEqual([...g.unk], [0, 0, 0]);
    assert.deepEqual([...g.vectors.keys()].sort(), ['"', '\\', ']', 'café', 'the', 'x,y', 'über'].sort());
    for (const [w, v] of g.vectors) assert.deepEqual([...v], vectors[w].slice(0, 3).map(Math.fround), `${w} @${chunkBytes}`);
  }
});

test('loadGlove: truncated files are errors', async () => {
  const file = path.join(tmpDir(), 'cut.json');
  writeSample(file);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.slice(0, text.lastIndexOf('"café"') + 12));
  await assert.rejects(loadGlove(new Set(['the']), { file, chunkBytes: 16 }), /truncated/);
});

test('the package file: 341,479 vectors of 100 dimensions', async () => {
  const g = await loadGlove(new Set(['the', 'jury', 'a', 'mr.']));
  assert.equal(g.dims, 100);
  assert.equal(g.seen, 341479);
  assert.deepEqual([...g.vectors.keys()].sort(), ['jury', 'the']); // no single letters, no periods
  assert.equal(g.unk.length, 100);
  assert.ok(g.unk.every((x) => x === 0));
  assert.ok(g.vectors.get('the').some((x) => x !== 0));
});

test('lookupKeys: lowercase, then the documented fallbacks', () => {
  assert.deepEqual(lookupKeys('The', false), ['the']);
  assert.deepEqual(lookupKeys("Mr.", false), ['mr.']);
  assert.deepEqual(lookupKeys('Mr.', true), ['mr.', 'mr']);
  assert.deepEqual(lookupKeys('``', true), ['``', '"']);
  assert.deepEqual(lookupKeys("Atlanta's", true), ["atlanta's", 'atlanta', 'atlanta']);
  assert.deepEqual(lookupKeys('U.S.', true), ['u.s.', 'us']);
});
