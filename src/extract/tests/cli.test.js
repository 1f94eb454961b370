import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadH5, pythonJsonObject } from '../lib/neurox-h5.js';
import { readTokenFile } from '../lib/sentences.js';
import { ROOT, tmpDir } from './helpers.js';

function run(script, args) {
  const r = spawnSync(process.execPath, [path.join(ROOT, script), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Re-open a NeuroX file and check its layout against the sentences; returns the datasets. */
async function checkNeurox(file, sentences, dim) {
  const h5 = await loadH5();
  const f = new h5.File(file, 'r');
  try {
    const names = sentences.map((_, i) => String(i));
    assert.deepEqual(f.keys().sort(), [...names, 'sentence_to_index'].sort());
    const data = names.map((n, i) => {
      const ds = f.get(n);
      assert.deepEqual(ds.shape, [1, sentences[i].length, dim], `${file} ${n}`);
      assert.equal(ds.dtype, '<f');
      const v = ds.value;
      assert.ok(v.every(Number.isFinite));
      return v;
    });
    const s2i = f.get('sentence_to_index');
    assert.deepEqual(s2i.shape, [1]);
    assert.equal(s2i.metadata.vlen, true);
    assert.equal(s2i.metadata.cset, 1);
    const seen = new Map();
    const pairs = sentences.map((words, i) => {
      const text = words.join(' ');
      const k = (seen.get(text) || 0) + 1;
      seen.set(text, k);
      return [k === 1 ? text : `${text} (Occurrence ${k})`, String(i)];
    });
    assert.equal(s2i.value[0], pythonJsonObject(pairs));
    return data;
  } finally {
    f.close();
  }
}

test('brown.js: sentences and label files of the same shape', () => {
  const out = tmpDir();
  const r = run('brown.js', ['--sentences', '40', '--every', '3', '--max-len', '30', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const sents = readTokenFile(path.join(out, 'sentences.txt'));
  assert.equal(sents.length, 40);
  assert.ok(sents.every((s) => s.length <= 30));
  for (const task of ['pos-fine', 'pos-coarse', 'pos-upos', 'suffix']) {
    const labels = readTokenFile(path.join(out, `${task}.txt`));
    assert.deepEqual(labels.map((l) => l.length), sents.map((s) => s.length), task);
  }
  const info = JSON.parse(fs.readFileSync(path.join(out, 'labels-info.json'), 'utf8'));
  assert.equal(info.selected, 40);
  assert.equal(Object.keys(info.classes['pos-upos']).length <= 12, true);
  assert.equal(fs.readFileSync(path.join(out, 'provenance.tsv'), 'utf8').split('\n')[1], '0\tca01\t3\t25');
  // the same options give the same files
  const again = tmpDir();
  run('brown.js', ['--sentences', '40', '--every', '3', '--max-len', '30', '--out', again]);
  for (const f of ['sentences.txt', 'pos-fine.txt', 'suffix.txt']) {
    assert.equal(fs.readFileSync(path.join(again, f), 'utf8'), fs.readFileSync(path.join(out, f), 'utf8'));
  }
});

test('extract-use.js and extract-glove.js: NeuroX files salient can import', async () => {
  const dir = tmpDir();
  const sentFile = path.join(dir, 'sentences.txt');
  const sentences = [
    ['The', 'jury', 'said', 'it', 'did', 'not', '.'],
    ['Prices', 'rose', 'and/or', 'fell', 'at', 'the', 'café', '.'],
    ['The', 'jury', 'said', 'it', 'did', 'not', '.'],
    ['Yes'],
    ['The', 'jury', 'said', 'it', 'did', 'not', '.'],
  ];
  fs.writeFileSync(sentFile, sentences.map((s) => s.join(' ') + '\n').join(''));

  let r = run('extract-use.js', ['--sentences', sentFile, '--out', path.join(dir, 'use')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sentences\/s/);
  const use = [];
  for (const [l, dim] of [256, 512, 512].entries()) use.push(await checkNeurox(path.join(dir, `use-layer${l}.hdf5`), sentences, dim));
  // a repeated sentence gets the same activations
  assert.deepEqual(use[2][2], use[2][0]);
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'use-info.json'), 'utf8'));
  assert.equal(info.words, 30);

  r = run('extract-use.js', ['--sentences', sentFile, '--out', path.join(dir, 'rand'), '--random-weights', '3']);
  assert.equal(r.status, 0, r.stderr);
  const rand = await checkNeurox(path.join(dir, 'rand-layer2.hdf5'), sentences, 512);
  assert.notDeepEqual(rand[0], use[2][0]);

  r = run('extract-glove.js', ['--sentences', sentFile, '--out', path.join(dir, 'glove')]);
  assert.equal(r.status, 0, r.stderr);
  const glove = await checkNeurox(path.join(dir, 'glove.hdf5'), sentences, 100);
  const gi = JSON.parse(fs.readFileSync(path.join(dir, 'glove-info.json'), 'utf8'));
  // the package has no words with '/' and no accented words
  assert.deepEqual(gi.topUnknown, { 'and/or': 1, 'café': 1 });
  assert.ok(glove[1].subarray(200, 300).every((x) => x === 0)); // and/or: the unkVector
  assert.ok(glove[1].subarray(300, 400).some((x) => x !== 0)); // fell
});

test('usage errors exit with 64', () => {
  for (const script of ['brown.js', 'extract-use.js', 'extract-glove.js']) {
    const r = run(script, ['--bogus']);
    assert.equal(r.status, 64, script);
    assert.match(r.stderr, /unknown option --bogus/);
  }
  assert.equal(run('extract-use.js', ['--sentences', 'x', '--out', 'y', '--pooling', 'max']).status, 64);
});
