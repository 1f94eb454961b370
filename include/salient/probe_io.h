/*
 * probe_io.h - a trained probe as a NetCDF-4 file (PROBE.nc).
 *
 *   dimensions: class, neuron, sentence, layer
 *   double weight(class, neuron)   W, for the raw activations
 *   double bias(class)
 *   string class_name(class)
 *   byte   split(sentence)         0 train, 1 dev, 2 test, for every sentence of the model
 *   int    layer(layer)            the selected layers, in column order
 *   int    neuron_layer(neuron), neuron_index(neuron)   where each column comes from
 * Attributes: model, model_dir, labels, layers, lambda1, lambda2, tol, objective,
 * loss, violation, iterations, seconds, seed, split_fractions, accuracy_train,
 * accuracy_dev, accuracy_test, converged, written_by. Numbers are stored in double,
 * so the objective can be recomputed from the file, the shards and the labels.
 * Not collective: one process writes.
 */
#ifndef SALIENT_PROBE_IO_H
#define SALIENT_PROBE_IO_H

#include <stdint.h>

#include "salient/probe.h"

typedef struct sal_probe_meta {
    const char *model;         /* model name */
    const char *model_dir;     /* shard folder */
    const char *labels;        /* label file(s) */
    const char *layers;        /* the selection as given, e.g. "all" */
    int nsel;                  /* selected layers */
    const int *layer;          /* nsel layer numbers */
    const int *layer_width;    /* widths of all the model's layers */
    int C;                     /* classes */
    char *const *class_name;   /* C names */
    int64_t nsent;             /* sentences of the model */
    const int8_t *split;       /* nsent split codes */
    double split_fraction[3];  /* train, dev, test */
    uint64_t seed;             /* split seed */
    const sal_probe_params *params;
    double accuracy[3];        /* train, dev, test (NaN if a split is empty) */
    int converged;             /* 1 if the violation met the tolerance */
} sal_probe_meta;

/* Write pr and meta to path (through path.tmp-PID, renamed at the end). */
sal_status sal_probe_save(const char *path, const sal_probe *pr, const sal_probe_meta *meta);

/* Read weight and bias back (for checks and reuse): fills pr (D, C, W, b, objective,
 * violation). */
sal_status sal_probe_load(const char *path, sal_probe *pr);

#endif
