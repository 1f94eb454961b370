import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadH5, NeuroxH5Writer, occurrenceKey, pythonJsonObject, pythonJsonString } from '../lib/neurox-h5.js';
import { tmpDir } from './helpers.js';

test("pythonJsonString: json.dumps with ensure_ascii", () => {
  assert.equal(pythonJsonString('plain text'), '"plain text"');
  assert.equal(pythonJsonString('say "hi"'), '"say \\"hi\\""');
  assert.equal(pythonJsonString('a\\b'), '"a\\\\b"');
  assert.equal(pythonJsonString('and/or'), '"and/or"'); // '/' is not escaped by Python
  assert.equal(pythonJsonString('café'), '"caf\\u00e9"');
  assert.equal(pythonJsonString('😀'), '"\\ud83d\\ude00"');
  assert.equal(pythonJsonString('\t\n\r\b\f\u0001\u007f'), '"\\t\\n\\r\\b\\f\\u0001\\u007f"');
  assert.equal(pythonJsonObject([['a b', '0'], ['c', '1']]), '{"a b": "0", "c": "1"}');
  assert.deepEqual(JSON.parse(pythonJsonObject([['caf\u00e9 "x"', '0']])), { 'caf\u00e9 "x"': '0' });
});

test('occurrenceKey: repeats numbered from 2', () => {
  const used = new Set();
  assert.equal(occurrenceKey('a b', used), 'a b');
  assert.equal(occurrenceKey('c', used), 'c');
  assert.equal(occurrenceKey('a b', used), 'a b (Occurrence 2)');
  assert.equal(occurrenceKey('a b', used), 'a b (Occurrence 3)');
  // a sentence whose text is itself a suffixed key
  assert.equal(occurrenceKey('a b (Occurrence 2)', used), 'a b (Occurrence 2) (Occurrence 2)');
});

test('NeuroxH5Writer: the NeuroX layout, re-read with h5wasm', async () => {
  const file = path.join(tmpDir(), 'acts-layer0.hdf5');
  const sents = [['The', 'jury', 'said'], ['and/or', 'café'], ['The', 'jury', 'said'], ['x'], ['The', 'jury', 'said']];
  const dim = 4;
  const w = await NeuroxH5Writer.create(file);
  const datas = sents.map((s, i) => Float32Array.from({ length: s.length * dim }, (_, k) => i + k / 8));
  sents.forEach((s, i) => w.add(s, 1, dim, datas[i]));
  assert.throws(() => w.add(['too', 'few'], 1, dim, new Float32Array(3)), /expected 1x2x4/);
  w.close();

  const h5 = await loadH5();
  const f = new h5.File(file, 'r');
  try {
    assert.deepEqual(f.keys().sort(), ['0', '1', '2', '3', '4', 'sentence_to_index']);
    sents.forEach((s, i) => {
      const ds = f.get(String(i));
      assert.deepEqual(ds.shape, [1, s.length, dim]);
      assert.equal(ds.dtype, '<f');
      assert.equal(ds.metadata.size, 4);
      assert.deepEqual([...ds.value], [...datas[i]]);
    });
    const s2i = f.get('sentence_to_index');
    assert.deepEqual(s2i.shape, [1]);
    assert.equal(s2i.metadata.vlen, true); // variable-length string
    assert.equal(s2i.metadata.type, 3); // H5T_STRING
    assert.equal(s2i.metadata.cset, 1); // UTF-8
    const text = s2i.value[0];
    assert.equal(
      text,
      '{"The jury said": "0", "and/or caf\\u00e9": "1", "The jury said (Occurrence 2)": "2", "x": "3", ' +
        '"The jury said (Occurrence 3)": "4"}',
    );
    assert.deepEqual(Object.values(JSON.parse(text)), ['0', '1', '2', '3', '4']);
  } finally {
    f.close();
  }
});
