import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  LAYERS,
  MAX_PIECES,
  OUTPUT_NODES,
  initBackend,
  loadUse,
  modelDir,
  pieceActivations,
  shuffleWeights,
  tf,
  wordActivations,
} from '../lib/use.js';

const SENTENCES = [
  'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced `` no evidence \'\' that any irregularities took place .',
  'Unquestionably , the mid-century phenomena were extraordinary .',
  'Hello',
].map((s) => s.split(' '));

await initBackend('wasm');
const use = await loadUse();

/** The graph's own tensors for one sequence of ids: [T*256], [T*512], [T*512]. */
async function direct(model, ids) {
  const indices = tf.tensor2d(ids.flatMap((_, t) => [0, t]), [ids.length, 2], 'int32');
  const values = tf.tensor1d(ids, 'int32');
  const outs = await model.executeAsync({ indices, values }, OUTPUT_NODES);
  assert.deepEqual(outs[0].shape, [ids.length, 256]);
  assert.deepEqual(outs[1].shape, [1, ids.length, 512]);
  assert.deepEqual(outs[2].shape, [1, ids.length, 512]);
  const data = outs.map((t) => t.dataSync().slice());
  tf.dispose([indices, values, ...outs]);
  return data;
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('per-piece activations are the graph tensors, value for value', async () => {
  for (const words of SENTENCES) {
    const { ids } = use.tokenizer.encodeWords(words);
    const [mine] = await pieceActivations(use.model, [ids]);
    const ref = await direct(use.model, ids);
    for (let l = 0; l < 3; l++) assert.deepEqual(mine[l], ref[l], `layer ${l}`);
  }
});

test('pooling reads the graph tensors unchanged: first and last piece rows, average', async () => {
  for (const pooling of ['first', 'last', 'average']) {
    const res = await wordActivations(use, SENTENCES, { pooling });
    for (const [s, words] of SENTENCES.entries()) {
      const { ids, spans } = use.tokenizer.encodeWords(words);
      const ref = await direct(use.model, ids);
      LAYERS.forEach(([, , dim], l) => {
        const got = res[s].layers[l];
        assert.equal(got.length, words.length * dim);
        spans.forEach(([a, b], w) => {
          const row = got.subarray(w * dim, (w + 1) * dim);
          if (pooling === 'average') {
            const want = new Float32Array(dim);
            for (let d = 0; d < dim; d++) {
              let sum = 0;
              for (let p = a; p < b; p++) sum += ref[l][p * dim + d];
              want[d] = sum / (b - a);
            }
            assert.deepEqual(row, want);
          } else {
            const p = pooling === 'first' ? a : b - 1;
            assert.deepEqual(row, ref[l].subarray(p * dim, (p + 1) * dim));
          }
        });
      });
    }
  }
});

test('long sentences run window by window at word boundaries', async () => {
  const words = [];
  while (use.tokenizer.encodeWords(words).ids.length <= MAX_PIECES + 40) words.push(...SENTENCES[0]);
  const { ids, spans } = use.tokenizer.encodeWords(words);
  const [res] = await wordActivations(use, [words], { pooling: 'last' });
  assert.equal(res.windows, 2);
  assert.equal(res.pieces, ids.length);
  // the first window: as many whole words as fit in 128 pieces
  let w1 = 0;
  while (spans[w1][1] <= MAX_PIECES) w1++;
  const windows = [
    [0, w1],
    [w1, words.length],
  ];
  for (const [w0, wEnd] of windows) {
    const p0 = spans[w0][0];
    const ref = await direct(use.model, ids.slice(p0, spans[wEnd - 1][1]));
    LAYERS.forEach(([, , dim], l) => {
      for (let w = w0; w < wEnd; w++) {
        const p = spans[w][1] - 1 - p0;
        assert.deepEqual(res.layers[l].subarray(w * dim, (w + 1) * dim), ref[l].subarray(p * dim, (p + 1) * dim));
      }
    });
  }
  // smaller windows give other (context-limited) values, but the same shapes
  const [small] = await wordActivations(use, [words], { maxPieces: 16 });
  assert.ok(small.windows > 10);
  assert.equal(small.layers[2].length, words.length * 512);
});

test('batches of windows agree with one window at a time up to float32 rounding', async () => {
  const one = await wordActivations(use, SENTENCES, { batch: 1 });
  const many = await wordActivations(use, SENTENCES, { batch: 3 });
  for (let s = 0; s < SENTENCES.length; s++) {
    for (let l = 0; l < 3; l++) assert.ok(maxAbsDiff(one[s].layers[l], many[s].layers[l]) < 1e-3);
  }
});

test('random weights: each learned tensor shuffled (same values), deterministic by seed', async () => {
  const dir = modelDir();
  const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = mj.weightsManifest[0].weights;
  const buf = Buffer.concat(mj.weightsManifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const orig = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const a = orig.slice(0);
  const b = orig.slice(0);
  const c = orig.slice(0);
  const names = shuffleWeights(specs, a, 7);
  shuffleWeights(specs, b, 7);
  shuffleWeights(specs, c, 8);
  assert.deepEqual(new Uint8Array(a), new Uint8Array(b));
  assert.notDeepEqual(new Uint8Array(a), new Uint8Array(c));
  assert.ok(names.includes('module/Embeddings_en'));
  assert.ok(!names.some((n) => /TimingSignal/.test(n)));
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((x, y) => x * y, 1);
    const before = new Float32Array(orig, offset, n);
    const after = new Float32Array(a, offset, n);
    if (names.includes(spec.name)) {
      assert.deepEqual(Float32Array.from(after).sort(), Float32Array.from(before).sort(), spec.name);
      if (n > 100) assert.notDeepEqual(after, before, spec.name);
    } else {
      assert.deepEqual(new Uint8Array(a, offset, n * 4), new Uint8Array(orig, offset, n * 4), spec.name);
    }
    offset += n * 4;
  }
  // every float32 tensor with more than one entry except the timing signal: 29 of the 61
  const learned = specs.filter((x) => x.dtype === 'float32' && x.shape.reduce((u, v) => u * v, 1) > 1 && !/TimingSignal/.test(x.name));
  assert.equal(names.length, learned.length);
  assert.equal(names.length, 29);

  // the control model runs, with other values at the same shapes
  const control = await loadUse({ randomSeed: 7 });
  const [r] = await wordActivations(control, [SENTENCES[1]]);
  const [t] = await wordActivations(use, [SENTENCES[1]]);
  for (let l = 0; l < 3; l++) {
    assert.equal(r.layers[l].length, t.layers[l].length);
    assert.ok(maxAbsDiff(r.layers[l], t.layers[l]) > 0.1);
    assert.ok(r.layers[l].every(Number.isFinite));
  }
});
