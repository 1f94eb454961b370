// From sub-word pieces back to words: windows of at most maxPieces pieces cut at word
// boundaries, and pooling of a word's pieces (first, last, average).

export const POOLINGS = ['first', 'last', 'average'];

/**
 * Cut a sentence into windows of whole words holding at most maxPieces pieces each.
 * spans[w] = [start, end) of word w's pieces. Returns [{ w0, w1, p0, p1 }]: words [w0, w1) and
 * pieces [p0, p1). A single word with more than maxPieces pieces gets a window of its own,
 * keeping its first maxPieces pieces (p1 - p0 = maxPieces; `clipped` is set).
 */
export function cutWindows(spans, maxPieces) {
  if (!(maxPieces >= 1)) throw new Error('cutWindows: maxPieces must be >= 1');
  const windows = [];
  let w0 = 0;
  while (w0 < spans.length) {
    const p0 = spans[w0][0];
    let w1 = w0;
    while (w1 < spans.length && spans[w1][1] - p0 <= maxPieces) w1++;
    if (w1 === w0) {
      windows.push({ w0, w1: w0 + 1, p0, p1: p0 + maxPieces, clipped: true });
      w0++;
    } else {
      windows.push({ w0, w1, p0, p1: spans[w1 - 1][1] });
      w0 = w1;
    }
  }
  return windows;
}

/**
 * Pool piece vectors into word vectors. acts holds the pieces [p0, p1) of a window as rows of
 * `dim` floats (row 0 = piece p0); spans are the words' absolute piece ranges, clipped to the
 * window. Writes word rows into out (Float32Array) starting at row outRow.
 */
export function poolInto(out, outRow, acts, dim, spans, p0, p1, how) {
  spans.forEach(([s, e], i) => {
    const start = Math.max(s, p0) - p0;
    const end = Math.min(e, p1) - p0;
    if (end <= start) throw new Error('poolInto: a word has no piece in its window');
    const dst = (outRow + i) * dim;
    if (how === 'first' || how === 'last') {
      const row = how === 'first' ? start : end - 1;
      out.set(acts.subarray(row * dim, (row + 1) * dim), dst);
    } else if (how === 'average') {
      for (let d = 0; d < dim; d++) {
        let sum = 0;
        for (let r = start; r < end; r++) sum += acts[r * dim + d];
        out[dst + d] = sum / (end - start);
      }
    } else {
      throw new Error(`unknown pooling '${how}' (first, last or average)`);
    }
  });
}

/** Pool a whole sentence's piece vectors (rows of dim floats) into word vectors. */
export function pool(acts, dim, spans, how) {
  const out = new Float32Array(spans.length * dim);
  const npieces = acts.length / dim;
  poolInto(out, 0, acts, dim, spans, 0, npieces, how);
  return out;
}
