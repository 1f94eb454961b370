/*
 * inspect.h - summary statistics of a model's activation shards.
 * Not collective: one process reads the whole model.
 */
#ifndef SALIENT_INSPECT_H
#define SALIENT_INSPECT_H

#include <stdint.h>
#include <stdio.h>

#include "salient/shard.h"

typedef struct sal_layer_stats {
    int64_t count;     /* values seen (tokens x width) */
    double mean, std;  /* over all tokens and neurons of the layer (population std) */
    double min, max;
} sal_layer_stats;

/* Statistics of every layer of m into stats[nlayers], reading all shards once. */
sal_status sal_inspect_layers(sal_model *m, sal_layer_stats *stats);

/* Print the human-readable summary (model, layers and widths, sentences, tokens,
 * shards, per-layer statistics) to f. */
sal_status sal_inspect_print(sal_model *m, FILE *f);

#endif
