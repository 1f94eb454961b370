// A small seeded PRNG (SplitMix32-style mixing of a 32-bit counter) and a Fisher-Yates shuffle.
// Deterministic across platforms: only 32-bit integer arithmetic (Math.imul).

/** Returns a function giving uniform floats in [0, 1) from a 32-bit seed. */
export function makeRng(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

/** Shuffle a typed or plain array in place with the given rng. */
export function shuffleInPlace(arr, rng) {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}
