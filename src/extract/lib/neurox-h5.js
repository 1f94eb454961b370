// NeuroX-format HDF5 activation files, written with h5wasm.
//
// Layout (NeuroX neurox/data/writer.py, HDF5ActivationsWriter): one float32 dataset per sentence
// named "0", "1", ... of shape (layers, tokens, dim), contiguous, no filters; and
// `sentence_to_index`, a (1,) dataset holding one variable-length UTF-8 string: Python's
// json.dumps({sentence text: "index"}) with ", " / ": " separators and non-ASCII escaped
// (ensure_ascii). A repeated sentence gets " (Occurrence 2)", " (Occurrence 3)", ...
// Per-layer files (decompose_layers) are this layout with layers = 1, one file per layer.

import h5wasm from 'h5wasm/node';

let ready = null;

/** The initialized h5wasm module. */
export async function loadH5() {
  if (!ready) ready = h5wasm.ready.then(() => h5wasm);
  return ready;
}

/** A JSON string literal as Python's json.dumps(s) (ensure_ascii=True) writes it. */
export function pythonJsonString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i); // UTF-16 unit: astral characters come out as surrogate pairs
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Python's json.dumps of a list of [key, value] string pairs as an object, in order. */
export function pythonJsonObject(pairs) {
  return '{' + pairs.map(([k, v]) => `${pythonJsonString(k)}: ${pythonJsonString(v)}`).join(', ') + '}';
}

/**
 * The sentence_to_index key of a sentence text, given the keys used so far (a Set, updated):
 * the text itself the first time, then "text (Occurrence 2)", "text (Occurrence 3)", ...
 */
export function occurrenceKey(text, used) {
  let key = text;
  let counter = 1;
  while (used.has(key)) {
    counter++;
    key = `${text} (Occurrence ${counter})`;
  }
  used.add(key);
  return key;
}

/** Writes one NeuroX HDF5 activations file, one sentence at a time. */
export class NeuroxH5Writer {
  static async create(path) {
    const h5 = await loadH5();
    return new NeuroxH5Writer(new h5.File(path, 'w'), path);
  }

  constructor(file, path) {
    this.file = file;
    this.path = path;
    this.pairs = [];
    this.used = new Set();
    this.count = 0;
  }

  /**
   * Add the next sentence (its dataset is named by its index, counting from 0).
   * data: Float32Array of layers x tokens x dim, C order.
   */
  add(words, layers, dim, data) {
    const ntok = words.length;
    if (data.length !== layers * ntok * dim) {
      throw new Error(`${this.path}: sentence ${this.count}: ${data.length} values, expected ${layers}x${ntok}x${dim}`);
    }
    const name = String(this.count++);
    this.file.create_dataset({ name, data, shape: [layers, ntok, dim], dtype: '<f' });
    this.pairs.push([occurrenceKey(words.join(' '), this.used), name]);
  }

  /** Write sentence_to_index and close the file. */
  close() {
    this.file.create_dataset({ name: 'sentence_to_index', data: [pythonJsonObject(this.pairs)], shape: [1] });
    this.file.close();
  }
}
