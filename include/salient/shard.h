/*
 * shard.h - activation shards: salient's on-disk format for a model's per-token
 * activations (NetCDF-4), a streaming writer and a block reader.
 *
 * A model is one folder:
 *
 *   MODEL_DIR/model.nc           the index, written last: its presence means complete
 *   MODEL_DIR/shard-00000.nc     sentences [0, S0)
 *   MODEL_DIR/shard-00001.nc     sentences [S0, S0+S1) ...
 *
 * Global attributes of model.nc and of every shard (format "salient-activations",
 * version SAL_SHARD_FORMAT_VERSION):
 *   model, architecture, base_model ("" unless a fine-tuned variant), pooling
 *   ("first", "last", "average", "none" or as the producer says), producer,
 *   num_layers, layer_widths (int array), num_sentences, num_tokens.
 * model.nc also has dimensions layer and shard, and variables layer_width(layer),
 * shard_file(shard) (string), shard_first_sentence(shard), shard_sentences(shard),
 * shard_first_token(shard), shard_tokens(shard) (int64).
 *
 * A shard has dimensions sentence, token and neuron_L for every layer L, and
 *   int   sentence_length(sentence)   tokens of each sentence, in order
 *   string word(token)                the corpus words the activations belong to
 *   float layer_L(token, neuron_L)    activations of layer L, chunked by token rows
 *                                     over the full width, one variable per layer so
 *                                     that one layer's token range is read alone
 * plus attributes shard_index, first_sentence, first_token.
 *
 * Column space of a read: the selected layers' neurons concatenated in the order
 * the caller lists the layers ("all layers" is 0..L-1, neuron = offset(l) + d).
 *
 * Nothing here is collective except the parallel open and its close: each rank reads
 * only its part. sal_model_read_bc reads a rank's local part of a block-cyclic matrix.
 */
#ifndef SALIENT_SHARD_H
#define SALIENT_SHARD_H

#include <stdint.h>

#include <mpi.h>

#include "salient/corpus.h"
#include "salient/status.h"

#define SAL_SHARD_FORMAT_NAME "salient-activations"
#define SAL_SHARD_FORMAT_VERSION 1
#define SAL_MAX_LAYERS 1024

/* What a model is. Strings are NUL-terminated; unknown ones are "". */
typedef struct sal_model_desc {
    const char *name;         /* model name, e.g. "use-lite" */
    const char *architecture; /* architecture label, e.g. "transformer", "glove" */
    const char *base_model;   /* model this one was fine-tuned from, "" if none */
    const char *pooling;      /* sub-word pooling: "first", "last", "average", "none" */
    const char *producer;     /* the tool that produced the activations */
    int nlayers;              /* number of layers, 1..SAL_MAX_LAYERS */
    const int *layer_width;   /* nlayers widths (neurons per layer), each >= 1 */
} sal_model_desc;

/* Check a description: NULL if valid, else a static message naming the problem. */
const char *sal_model_desc_check(const sal_model_desc *d);

/* ---- writing ---------------------------------------------------------------- */

typedef struct sal_shard_writer sal_shard_writer;

/* Start writing a model into a temporary folder beside model_dir. Nothing under the
 * name model_dir exists until sal_shard_writer_finish succeeds. If model_dir exists,
 * fails with SAL_ERR_EXISTS unless overwrite is nonzero. shard_sentences >= 1 is the
 * number of sentences per shard file. */
sal_status sal_shard_writer_open(const char *model_dir, const sal_model_desc *desc,
                                 int64_t shard_sentences, int overwrite,
                                 sal_shard_writer **out);

/* Append one sentence of ntok >= 1 tokens: words[ntok] and, for every layer l,
 * act[l] holding ntok x layer_width[l] floats, row-major (token-major). Values are
 * copied. NaN or Inf fails with SAL_ERR_FORMAT naming sentence, token, layer, neuron. */
sal_status sal_shard_writer_add(sal_shard_writer *w, int64_t ntok, const char *const *words,
                                const float *const *act);

/* Number of sentences appended so far. */
int64_t sal_shard_writer_sentences(const sal_shard_writer *w);

/* Write the last shard and the index, move the folder into place, free w. On
 * failure the temporary folder is removed and nothing is left at model_dir. */
sal_status sal_shard_writer_finish(sal_shard_writer *w);

/* Remove the temporary folder and free w. No operation on NULL. */
void sal_shard_writer_abort(sal_shard_writer *w);

/* ---- reading ---------------------------------------------------------------- */

typedef struct sal_model sal_model;

/* Open a model folder (reads model.nc; shards are opened as reads need them). */
sal_status sal_model_open(const char *model_dir, sal_model **out);

/* Open a model for parallel reading: every shard is opened once, collectively, with
 * MPI-IO (netCDF-4 parallel, independent access), and stays open. Collective over comm;
 * the model must then be closed collectively too. Reads stay per-process. */
sal_status sal_model_open_par(const char *model_dir, MPI_Comm comm, sal_model **out);

/* Close a model (collectively if opened with sal_model_open_par). No operation on NULL. */
void sal_model_close(sal_model *m);

/* The model's description; valid while m is open. */
const sal_model_desc *sal_model_get_desc(const sal_model *m);

int64_t sal_model_nsent(const sal_model *m);   /* sentences */
int64_t sal_model_ntok(const sal_model *m);    /* tokens */
int64_t sal_model_nshards(const sal_model *m); /* shard files */
const char *sal_model_dir(const sal_model *m); /* the folder it was opened from */

/* Global token offset of sentence s (0 <= s <= nsent; s == nsent gives ntok). */
int64_t sal_model_sent_start(const sal_model *m, int64_t s);

/* Total width of a layer selection; -1 if a layer is out of range. */
int64_t sal_model_width(const sal_model *m, int nsel, const int *layers);

/* Read every sentence's words into out (which must be empty). */
sal_status sal_model_read_corpus(const sal_model *m, sal_corpus *out);

/* Rows of a read: either nrows consecutive tokens from tok0 (tokens == NULL), or the
 * global token indices tokens[0..nrows-1] (any order, repeats allowed; runs of
 * consecutive tokens are read together). */
typedef struct sal_rows {
    int64_t nrows;          /* number of matrix rows */
    int64_t tok0;           /* first token when tokens == NULL */
    const int64_t *tokens;  /* token of each row, or NULL */
} sal_rows;

/* Read rows [r0, r0+nr) of the row set x columns [c0, c0+nc) of the selected layers
 * into dst, column-major with leading dimension ld >= nr (dst[i + j*ld]). */
sal_status sal_model_read_block(sal_model *m, int nsel, const int *layers,
                                const sal_rows *rows, int64_t r0, int64_t nr, int64_t c0,
                                int64_t nc, float *dst, int64_t ld);

/* Read this process's local part of the block-cyclic matrix described by the
 * ScaLAPACK descriptor desc (M = rows->nrows, N = width of the selection, local
 * leading dimension desc[8]) into local. The process's grid position comes from
 * Cblacs_gridinfo(desc[1]); a process outside the grid reads nothing. */
sal_status sal_model_read_bc(sal_model *m, int nsel, const int *layers, const sal_rows *rows,
                             const int desc[9], float *local);

#endif
