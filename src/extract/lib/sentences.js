// NeuroX text files: one sentence per line, tokens separated by spaces; label files the same shape.

import fs from 'node:fs';

/** Read a sentences (or labels) file into arrays of tokens. Blank lines are errors. */
export function readTokenFile(path) {
  const text = fs.readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => {
    const toks = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (toks.length === 0) throw new Error(`${path}:${i + 1}: empty line`);
    return toks;
  });
}

/** Write arrays of tokens as one line each, tokens separated by single spaces. */
export function writeTokenFile(path, rows) {
  for (const [i, row] of rows.entries()) {
    for (const t of row) {
      if (t.length === 0 || /\s/.test(t)) throw new Error(`${path}: line ${i + 1}: token '${t}' is empty or has whitespace`);
    }
  }
  fs.writeFileSync(path, rows.map((r) => r.join(' ') + '\n').join(''));
}

/** A progress logger writing "label: n/total items, rate/s" to stderr at most every `every` ms. */
export function progress(label, total, unit = 'sentences', every = 2000) {
  const t0 = performance.now();
  let last = t0;
  return {
    tick(n, force = false) {
      const now = performance.now();
      if (!force && now - last < every) return;
      last = now;
      const rate = n / ((now - t0) / 1000);
      process.stderr.write(`${label}: ${n}/${total} ${unit}, ${rate.toFixed(1)} ${unit}/s\n`);
    },
    seconds() {
      return (performance.now() - t0) / 1000;
    },
  };
}
