/*
 * import.h - convert NeuroX activation files into salient activation shards.
 *
 * Formats (see ../shared/SCIENCE.md section 1 and README "Importing NeuroX files"):
 *  - neurox-hdf5: one HDF5 file with a dataset per sentence ("0", "1", ...) of shape
 *    (layers, tokens, dim), float32 or float16, and `sentence_to_index`, a (1,) string
 *    dataset holding JSON {sentence text: dataset name}; a repeated sentence's key
 *    carries the suffix " (Occurrence N)". Or NeuroX's per-layer files
 *    NAME-layer0.hdf5, NAME-layer1.hdf5, ... each (1, tokens, dim_l): give them all as
 *    inputs, or only the -layer0 file and the others are found beside it.
 *  - neurox-json: JSON lines, one sentence per line,
 *    {"linex_index": i, "features": [{"token": w, "layers": [{"index": l, "values": [...]}]}]}.
 * Everything is validated (same layer count and widths in every sentence, no NaN/Inf,
 * words equal to the optional sentences file) and written under a temporary name:
 * a failed import leaves nothing at the output path. Not collective (one process).
 */
#ifndef SALIENT_IMPORT_H
#define SALIENT_IMPORT_H

#include <stdint.h>

#include "salient/status.h"

typedef enum sal_import_format {
    SAL_IMPORT_NEUROX_HDF5 = 0,
    SAL_IMPORT_NEUROX_JSON = 1,
} sal_import_format;

typedef struct sal_import_params {
    sal_import_format format;
    const char *model_name;     /* required */
    const char *architecture;   /* NULL or "" = unknown */
    const char *base_model;     /* NULL or "" = not a fine-tuned variant */
    const char *pooling;        /* NULL = "last" (NeuroX's default) */
    const char *tokens_path;    /* NeuroX sentences file to check words against, or NULL */
    int64_t shard_sentences;    /* sentences per shard, >= 1 */
    int overwrite;              /* replace an existing output folder */
    int ninputs;                /* >= 1 */
    const char *const *inputs;  /* input files */
    const char *out_dir;        /* model folder to create */
} sal_import_params;

/* What an import produced. */
typedef struct sal_import_summary {
    int64_t nsent, ntok;
    int nlayers;
    int64_t total_width; /* sum of layer widths */
    int64_t nshards;
} sal_import_summary;

/* NULL if p is usable, else a static message naming the bad field. */
const char *sal_import_check(const sal_import_params *p);

/* Run the import. summary may be NULL. */
sal_status sal_import_run(const sal_import_params *p, sal_import_summary *summary);

#endif
