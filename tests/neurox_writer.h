/*
 * neurox_writer.h - write activation files laid out exactly as NeuroX writes them
 * (fdalvi/NeuroX neurox/data/writer.py, v1.0.9), for tests and the bundled demo.
 *
 * HDF5 (HDF5ActivationsWriter, through the HDF5 C API as h5py does it):
 *   - one dataset per sentence, named by its index "0", "1", ..., of shape
 *     (layers, tokens, dim), file type little-endian float32, or h5py's float16
 *     (IEEE binary16: 1 sign, 5 exponent bits with bias 15, 10 mantissa bits);
 *     contiguous layout, no filters, no dimension scales;
 *   - `sentence_to_index`: a (1,) dataset of one variable-length UTF-8 string holding
 *     Python's json.dumps of {sentence text: "index"} in insertion order, with ", "
 *     and ": " separators and non-ASCII escaped as \uXXXX (ensure_ascii). The text is
 *     the words joined by single spaces. NeuroX numbers repeats from 2: the first
 *     occurrence is plain, the second gets " (Occurrence 2)", the third
 *     " (Occurrence 3)", ... (the writer's counter starts at 1 and is incremented
 *     before the first suffix is tried).
 * Per-layer files (ActivationsWriterManager with decompose_layers): PREFIX-layerL.hdf5
 *   for every layer L, each a file of the layout above with datasets (1, tokens, dim_L).
 * JSON lines (JSONActivationsWriter): one line per sentence (PREFIX-layerL.json when
 * decomposed),
 *   {"linex_index": i, "features": [{"token": w, "layers": [{"index": l, "values": [..]}]}]}
 *   with values printed as Python's repr (shortest round trip, "1.0" for integers).
 *
 * The synthetic corpus (neurox_fixture_*) has NEUROX_FIXTURE_NSENT sentences of 1 to 9
 * words; sentence 2 is repeated as sentences 6 and 9 (so the keys carry
 * " (Occurrence 2)" and " (Occurrence 3)"); one word contains '/' ("and/or"), one is
 * non-ASCII UTF-8 ("café"). Its activations are
 *
 *   value(s, l, t, d) = ((37 s + 11 l + 5 t + 3 d) mod 97 - 48) / 16
 *
 * for sentence s, layer l, token t, neuron d: multiples of 1/16 in [-3, 3], exactly
 * representable in float16, so every format round-trips them exactly.
 *
 * All functions return SAL_OK or a salient status with sal_errmsg() naming the file.
 */
#ifndef SALIENT_TESTS_NEUROX_WRITER_H
#define SALIENT_TESTS_NEUROX_WRITER_H

#include <stdint.h>

#include "salient/status.h"

/* ---- the synthetic corpus ----------------------------------------------------- */

#define NEUROX_FIXTURE_NSENT 12

/* Number of words of fixture sentence s (0 <= s < NEUROX_FIXTURE_NSENT). */
int neurox_fixture_ntok(int s);

/* Word t of fixture sentence s. */
const char *neurox_fixture_word(int s, int t);

/* Total tokens of the corpus. */
int neurox_fixture_total_tokens(void);

/* The activation of sentence s, layer l, token t, neuron d (formula above). */
float neurox_fixture_value(int s, int l, int t, int d);

/* A POS-like label for a word, derived from its spelling only ("DT", "NNP", "CD",
 * "SYM", "PUNCT", "VBG", "VBD", "NNS", "NN"). */
const char *neurox_fixture_label(const char *word);

/* How a fixture file is damaged, for error tests. */
typedef enum neurox_corrupt {
    NEUROX_CORRUPT_NONE = 0,
    NEUROX_CORRUPT_NAN = 1,   /* sentence 3, layer 1, token 1, neuron 2 is NaN */
    NEUROX_CORRUPT_WIDTH = 2, /* sentence 5 has one neuron more in every layer */
} neurox_corrupt;

/* The fixture in one HDF5 file: nlayers layers of width dim (float16 file type if
 * float16 is nonzero), damaged as corrupt says. */
sal_status neurox_fixture_write_hdf5(const char *path, int nlayers, int dim, int float16,
                                     neurox_corrupt corrupt);

/* The fixture as per-layer files PREFIX-layer0.hdf5 ... with the given widths. */
sal_status neurox_fixture_write_layers(const char *prefix, int nlayers, const int *widths,
                                       int float16);

/* The fixture as JSON lines with the given layer widths. */
sal_status neurox_fixture_write_json(const char *path, int nlayers, const int *widths);

/* The fixture as NeuroX's per-layer JSON files PREFIX-layer0.json ... (each layer's
 * "index" is 0 within its file, as decompose_layers writes them). */
sal_status neurox_fixture_write_json_layers(const char *prefix, int nlayers,
                                            const int *widths);

/* The corpus as a NeuroX sentences file: one sentence per line, words separated by
 * single spaces. */
sal_status neurox_fixture_write_sentences(const char *path);

/* The labels of the corpus (neurox_fixture_label of every word), shaped like the
 * sentences file. */
sal_status neurox_fixture_write_labels(const char *path);

/* ---- the general writers -------------------------------------------------------- */

typedef struct neurox_h5 neurox_h5;

/* Create (truncate) an HDF5 activations file. float16 != 0 stores binary16. */
sal_status neurox_h5_open(const char *path, int float16, neurox_h5 **out);

/* Write sentence number `index` (the dataset is named by it) of ntok words:
 * data holds nlayers x ntok x dim floats, C order (layer-major). */
sal_status neurox_h5_add(neurox_h5 *w, int64_t index, int ntok, const char *const *words,
                         int nlayers, int dim, const float *data);

/* Write sentence_to_index, close the file and free w (also on failure). */
sal_status neurox_h5_close(neurox_h5 *w);

typedef struct neurox_json neurox_json;

/* Create (truncate) a JSON-lines activations file. */
sal_status neurox_json_open(const char *path, neurox_json **out);

/* Write one sentence: act[l] holds ntok x widths[l] floats, token-major. */
sal_status neurox_json_add(neurox_json *w, int64_t index, int ntok, const char *const *words,
                           int nlayers, const int *widths, const float *const *act);

/* Close the file and free w (also on failure). */
sal_status neurox_json_close(neurox_json *w);

#endif
