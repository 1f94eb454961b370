import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  brownDir,
  coarseTag,
  listBrownFiles,
  loadUniversalMap,
  parseLine,
  parseToken,
  readBrown,
  selectSentences,
  suffixLabels,
  suffixOf,
  universalTag,
} from '../lib/brown.js';
import { tmpDir } from './helpers.js';

test('parseToken splits on the last slash', () => {
  assert.deepEqual(parseToken('The/at'), { word: 'The', tag: 'at' });
  assert.deepEqual(parseToken('and/or/cc'), { word: 'and/or', tag: 'cc' });
  assert.deepEqual(parseToken('1/2/cd'), { word: '1/2', tag: 'cd' });
  assert.deepEqual(parseToken('//.'), { word: '/', tag: '.' });
  assert.throws(() => parseToken('word'), /malformed/);
  assert.throws(() => parseToken('/nn'), /malformed/);
  assert.throws(() => parseToken('word/'), /malformed/);
});

test('parseLine: tabs and runs of spaces separate tokens; blank lines are no sentence', () => {
  assert.deepEqual(parseLine('\tThe/at jury/nn  said/vbd ./.'), {
    words: ['The', 'jury', 'said', '.'],
    tags: ['at', 'nn', 'vbd', '.'],
  });
  assert.equal(parseLine('   '), null);
  assert.equal(parseLine(''), null);
});

test('readBrown: file order, non-blank lines, file and line numbers', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'cb01'), '\n\n\tB/np one/cd ./.\n');
  fs.writeFileSync(path.join(dir, 'ca01'), '\n\tA/np and/or/cc x/nn ./.\n\n\tSecond/od ./.\n');
  fs.writeFileSync(path.join(dir, 'README'), 'not/nn a/at corpus/nn file/nn\n');
  assert.deepEqual(listBrownFiles(dir), ['ca01', 'cb01']);
  assert.deepEqual(listBrownFiles(dir, 'b'), ['cb01']);
  const all = [...readBrown(dir)];
  assert.deepEqual(
    all.map((s) => [s.file, s.line, s.words.join(' ')]),
    [
      ['ca01', 2, 'A and/or x .'],
      ['ca01', 4, 'Second .'],
      ['cb01', 3, 'B one .'],
    ],
  );
  fs.writeFileSync(path.join(dir, 'cc01'), 'bad token/nn\n');
  assert.throws(() => [...readBrown(dir)], /cc01:1: malformed Brown token 'bad'/);
});

test('the installed corpus: 500 files, 57,340 sentences, 1,161,192 tokens', () => {
  const dir = brownDir();
  assert.equal(listBrownFiles(dir).length, 500);
  let n = 0;
  let tokens = 0;
  for (const s of readBrown(dir)) {
    n++;
    tokens += s.words.length;
    assert.equal(s.words.length, s.tags.length);
  }
  assert.equal(n, 57340);
  assert.equal(tokens, 1161192);
});

test('selectSentences: every k-th eligible sentence, length limits, at most max', () => {
  const s = (n, i) => ({ words: Array(n).fill('w'), tags: Array(n).fill('nn'), i });
  const all = [s(3, 0), s(10, 1), s(2, 2), s(5, 3), s(1, 4), s(4, 5), s(6, 6)];
  const ids = (xs) => xs.map((x) => x.i);
  assert.deepEqual(ids(selectSentences(all)), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(ids(selectSentences(all, { max: 3 })), [0, 1, 2]);
  assert.deepEqual(ids(selectSentences(all, { every: 2 })), [0, 2, 4, 6]);
  assert.deepEqual(ids(selectSentences(all, { maxLen: 5 })), [0, 2, 3, 4, 5]);
  assert.deepEqual(ids(selectSentences(all, { minLen: 3, maxLen: 5, every: 2 })), [0, 5]);
  assert.deepEqual(ids(selectSentences(all, { every: 3, max: 2 })), [0, 3]);
});

test('coarseTag: the base-tag rules', () => {
  const cases = {
    nn: 'nn',
    'nn-tl': 'nn',
    'nn-tl-hl': 'nn',
    'nns-tl-nc': 'nns',
    '.-hl': '.',
    '---hl': '--',
    '--': '--',
    "''": "''",
    'pps+bez': 'pps', // it's
    'ppss+ber-n': 'ppss', // a truncated suffix after '+' goes with the second part
    'wdt+ber+pp': 'wdt',
    'md*': 'md', // can't
    'bez*': 'bez', // isn't
    'doz*-tl': 'doz',
    '*': '*', // not, n't
    '*-hl': '*',
    'nn$': 'nn', // possessive nouns
    'np$-tl': 'np',
    'nns$': 'nns',
    'pp$': 'pp$', // my, his: a base tag
    'pp$$': 'pp$$', // mine, hers
    'pp$-tl': 'pp$',
    wp$: 'wp$', // whose
    'fw-nn': 'fw',
    'fw-in+at-tl': 'fw',
    'fw-*': 'fw',
    nil: 'nil',
  };
  for (const [tag, want] of Object.entries(cases)) assert.equal(coarseTag(tag), want, tag);
});

test('the universal-tag table covers every coarse tag of the corpus and gives the 12 tags', () => {
  const map = loadUniversalMap();
  const seen = new Set();
  const coarse = new Set();
  for (const s of readBrown(brownDir())) {
    for (const t of s.tags) {
      coarse.add(coarseTag(t));
      seen.add(universalTag(t, map));
    }
  }
  assert.equal(coarse.size, 82);
  assert.deepEqual([...seen].sort(), ['.', 'ADJ', 'ADP', 'ADV', 'CONJ', 'DET', 'NOUN', 'NUM', 'PRON', 'PRT', 'VERB', 'X']);
  assert.equal(universalTag('np$-tl', map), 'NOUN');
  assert.equal(universalTag('ppss+md', map), 'PRON');
  assert.equal(universalTag('``', map), '.');
  assert.throws(() => universalTag('zz', map), /no universal tag/);
});

test('suffix labels: last 3 letters of alphabetic words, frequent ones only', () => {
  assert.equal(suffixOf('Running'), 'ing');
  assert.equal(suffixOf('the'), null); // shorter than 4 letters
  assert.equal(suffixOf('term-end'), null); // not alphabetic
  assert.equal(suffixOf("Atlanta's"), null);
  assert.equal(suffixOf('1960s'), null);
  const sents = [
    ['Running', 'jumping', 'nation', 'the', 'x-ray'],
    ['station', 'walking', 'Nation', 'table'],
  ];
  // counts: ing 3, ion 3, ble 1 -> top 2 = ing, ion (tie broken alphabetically)
  const { labels, kept } = suffixLabels(sents, { top: 2 });
  assert.deepEqual(kept, ['ing', 'ion']);
  assert.deepEqual(labels, [
    ['ing', 'ing', 'ion', 'OTHER', 'OTHER'],
    ['ion', 'ing', 'ion', 'OTHER'],
  ]);
  assert.deepEqual(suffixLabels(sents, { top: 1 }).kept, ['ing']);
});
