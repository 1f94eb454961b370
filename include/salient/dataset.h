/*
 * dataset.h - from a model's shards and a task's labels to probe matrices: sentence
 * splits, token lists, layer selections, and distributed activation matrices.
 */
#ifndef SALIENT_DATASET_H
#define SALIENT_DATASET_H

#include <stdint.h>

#include "salient/pmat.h"
#include "salient/shard.h"

enum { SAL_SPLIT_TRAIN = 0, SAL_SPLIT_DEV = 1, SAL_SPLIT_TEST = 2 };

/* Assign each of nsent sentences to train, dev or test: a seeded shuffle (the same
 * on every machine), then the first round(f_train * nsent) are train, the next
 * round(f_dev * nsent) dev, the rest test. Fractions must be >= 0 and sum to 1
 * (within 1e-9); every split with a positive fraction must get a sentence, else
 * SAL_ERR_ARG naming the split. Not collective. */
sal_status sal_split_sentences(int64_t nsent, double f_train, double f_dev, double f_test,
                               uint64_t seed, int8_t *split);

/* Global token indices of the sentences in split `which`, in corpus order, into a new
 * array *tokens of *ntok entries. sent_start has nsent + 1 offsets. Not collective. */
sal_status sal_split_tokens(const int64_t *sent_start, int64_t nsent, const int8_t *split,
                            int which, int64_t **tokens, int64_t *ntok);

/* Parse a layer selection: "all", or comma-separated layer numbers and ranges
 * ("0,3", "2-5"), each in [0, nlayers), no repeats. Fills layers (capacity
 * SAL_MAX_LAYERS) and *nsel. Not collective. */
sal_status sal_parse_layers(const char *text, int nlayers, int *layers, int *nsel);

/* Read the rows x (selected layers) activations into a new N x D double matrix X on
 * grid g in mb-row blocks (all columns in one block per process column). Collective
 * over the grid's communicator: every process reads its own part; failures agreed. */
sal_status sal_load_matrix(sal_model *m, int nsel, const int *layers, const sal_rows *rows,
                           const sal_grid *g, int64_t mb, sal_pmat *X);

#endif
