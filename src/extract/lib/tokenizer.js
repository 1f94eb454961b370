// SentencePiece unigram tokenizer for the USE-lite vocabulary (vocab.json: [piece, score] pairs).
//
// Each word is normalized on its own (NFKC; spaces become U+2581) and gets a leading U+2581
// that marks the start of a word; Viterbi then picks the best segmentation by piece score.
// Ids 0-5 are reserved; a character no piece starts with becomes the unknown id 0 with score 0,
// and consecutive unknowns merge into one.
//
// The ids must be exactly those the package tokenizer (@energetic-ai/embeddings) gives, since
// that is how the model is used. Its quirks are reproduced on purpose:
//   - a null score in vocab.json (the ':' pieces) counts as 0;
//   - a best score of exactly 0 means "not reached yet", and ties go to the later candidate;
//   - a piece listed twice keeps the later id;
//   - backtracking steps back by the piece's length in UTF-16 units.
// No piece holds U+2581 after its first character, so a piece never spans two words and each
// word's pieces can be read off the segmentation of the whole sentence. Segmenting word by word
// gives the same ids except in one case the quirks create: a word starting with a null-score
// piece (':' and emoticons) tokenizes differently at the very start of the text (score sum 0 =
// "not reached"). Segmenting the sentence as a whole, as the package does, keeps that case exact.

export const SEPARATOR = '\u2581';
export const RESERVED = 6;
export const UNK = 0;

/** The normalized form of one word, with its leading word-start mark. */
export function normalizeWord(word) {
  return SEPARATOR + word.normalize('NFKC').replace(/ /g, SEPARATOR);
}

export class Tokenizer {
  /** @param {Array<[string, number|null]>} vocab the [piece, score] list of vocab.json */
  constructor(vocab, reserved = RESERVED) {
    this.vocab = vocab;
    this.pieces = new Map(); // piece -> [score, id]
    this.maxLen = 1; // longest piece, in code points
    for (let id = reserved; id < vocab.length; id++) {
      const [piece, score] = vocab[id];
      this.pieces.set(piece, [score ?? 0, id]);
      this.maxLen = Math.max(this.maxLen, [...piece].length);
    }
  }

  /** Piece ids of one word on its own (what the package gives for that word as the text). */
  encodeWord(word) {
    return this.encodeWords([word]).ids;
  }

  /**
   * Piece ids of a sentence given as words, and for each word the range [start, end) of its
   * pieces in `ids`. Every word gets at least one piece (its word-start mark begins one).
   */
  encodeWords(words) {
    const wordStart = []; // first symbol (code point) of each word
    let text = '';
    let nsym = 0;
    for (const w of words) {
      const norm = normalizeWord(w);
      wordStart.push(nsym);
      nsym += [...norm].length;
      text += norm;
    }
    const { ids, starts } = this.viterbi(text);
    const spans = words.map(() => [0, 0]);
    let w = 0;
    for (let p = 0; p < ids.length; p++) {
      while (w + 1 < words.length && starts[p] >= wordStart[w + 1]) w++;
      if (spans[w][1] === 0) spans[w][0] = p;
      spans[w][1] = p + 1;
    }
    spans.forEach(([s, e], i) => {
      if (e <= s) throw new Error(`tokenizer: word ${i} '${words[i]}' got no piece`);
    });
    return { ids, spans };
  }

  /** The piece strings of some ids (for display). */
  pieceStrings(ids) {
    return ids.map((id) => this.vocab[id][0]);
  }

  /** Viterbi segmentation of a normalized text: ids and the start symbol of each piece. */
  viterbi(text) {
    const sym = [...text];
    const n = sym.length;
    const best = new Float64Array(n + 1); // 0 = not reached (the package's convention)
    const bestId = new Int32Array(n + 1);
    // For every end position, candidates come in order of increasing start, as in the package.
    const ends = Array.from({ length: n + 1 }, () => []);
    for (let i = 0; i < n; i++) {
      let found = false;
      let s = '';
      for (let len = 1; len <= this.maxLen && i + len <= n; len++) {
        s += sym[i + len - 1];
        const hit = this.pieces.get(s);
        if (hit) {
          ends[i + len].push(i, hit[0], hit[1]);
          found = true;
        }
      }
      if (!found) ends[i + 1].push(i, 0, UNK);
    }
    for (let end = 1; end <= n; end++) {
      const c = ends[end];
      for (let k = 0; k < c.length; k += 3) {
        const total = c[k + 1] + best[c[k]];
        if (best[end] === 0 || total >= best[end]) {
          best[end] = total;
          bestId[end] = c[k + 2];
        }
      }
    }
    // Backtrack from the end (stepping as the package does), then reverse, merging unknowns.
    const revIds = [];
    const revStarts = [];
    for (let pos = n; pos > 0; ) {
      const id = bestId[pos];
      pos -= this.vocab[id][0].length;
      revIds.push(id);
      revStarts.push(Math.max(pos, 0));
    }
    const ids = [];
    const starts = [];
    for (let i = revIds.length - 1; i >= 0; i--) {
      if (revIds[i] === UNK && ids.length > 0 && ids[ids.length - 1] === UNK) continue;
      ids.push(revIds[i]);
      starts.push(revStarts[i]);
    }
    return { ids, starts };
  }
}
