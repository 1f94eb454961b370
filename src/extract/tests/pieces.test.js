import test from 'node:test';
import assert from 'node:assert/strict';
import { cutWindows, pool, poolInto } from '../lib/pieces.js';

// 5 pieces of dim 2: row p = [10p, 10p + 1]; words: [0,1) [1,4) [4,5)
const acts = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31, 40, 41]);
const spans = [[0, 1], [1, 4], [4, 5]];

test('pool: first, last and average on a hand-made piece -> word map', () => {
  assert.deepEqual([...pool(acts, 2, spans, 'first')], [0, 1, 10, 11, 40, 41]);
  assert.deepEqual([...pool(acts, 2, spans, 'last')], [0, 1, 30, 31, 40, 41]);
  assert.deepEqual([...pool(acts, 2, spans, 'average')], [0, 1, 20, 21, 40, 41]);
  assert.throws(() => pool(acts, 2, spans, 'max'), /unknown pooling/);
});

test('poolInto: a window of pieces [p0, p1) writes its words at the right rows', () => {
  // the window holds pieces 1..4 (rows 0..3 of winActs): words 1 and 2
  const winActs = acts.slice(2, 10);
  const out = new Float32Array(3 * 2).fill(-1);
  poolInto(out, 1, winActs, 2, spans.slice(1), 1, 5, 'last');
  assert.deepEqual([...out], [-1, -1, 30, 31, 40, 41]);
  poolInto(out, 1, winActs, 2, spans.slice(1), 1, 5, 'first');
  assert.deepEqual([...out], [-1, -1, 10, 11, 40, 41]);
});

test('cutWindows: whole words, at most maxPieces pieces per window', () => {
  // word piece counts 2, 3, 1, 4, 2 -> spans
  const counts = [2, 3, 1, 4, 2];
  const sp = [];
  let p = 0;
  for (const c of counts) sp.push([p, (p += c)]);
  assert.deepEqual(cutWindows(sp, 128), [{ w0: 0, w1: 5, p0: 0, p1: 12 }]);
  assert.deepEqual(cutWindows(sp, 6), [
    { w0: 0, w1: 3, p0: 0, p1: 6 },
    { w0: 3, w1: 5, p0: 6, p1: 12 },
  ]);
  assert.deepEqual(cutWindows(sp, 5), [
    { w0: 0, w1: 2, p0: 0, p1: 5 },
    { w0: 2, w1: 4, p0: 5, p1: 10 },
    { w0: 4, w1: 5, p0: 10, p1: 12 },
  ]);
  // a word longer than a window gets its own, clipped window
  assert.deepEqual(cutWindows(sp, 3), [
    { w0: 0, w1: 1, p0: 0, p1: 2 },
    { w0: 1, w1: 2, p0: 2, p1: 5 },
    { w0: 2, w1: 3, p0: 5, p1: 6 },
    { w0: 3, w1: 4, p0: 6, p1: 9, clipped: true },
    { w0: 4, w1: 5, p0: 10, p1: 12 },
  ]);
  // every word is in exactly one window, in order
  for (const max of [1, 2, 3, 4, 7, 128]) {
    const ws = cutWindows(sp, max);
    assert.equal(ws[0].w0, 0);
    ws.forEach((w, i) => {
      assert.ok(w.p1 - w.p0 <= max);
      if (i) assert.equal(w.w0, ws[i - 1].w1);
    });
    assert.equal(ws[ws.length - 1].w1, sp.length);
  }
});
