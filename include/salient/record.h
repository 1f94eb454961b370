/*
 * record.h - the results record of one unit's analyses, as NetCDF-4.
 *
 * A record is written into an open netCDF-4 file or group (one group per unit in a
 * study's results file) or packed into bytes (an in-memory netCDF-4 file) that a
 * worker sends to rank 0, which stores them unchanged. Layout:
 *   dimensions: neuron (D), class (C), curve (prefix sizes tried), layer (selection),
 *               third (3)
 *   int64  ordering(neuron)            neurons, most salient first
 *   double weight(class, neuron), bias(class)   the oracle probe
 *   string class_name(class)
 *   int64  curve_k(curve); double curve_dev(curve), curve_test(curve)
 *   int    layer(layer); int64 layer_count(layer); double layer_share(layer)
 *   int64  third_count(third); double third_share(third)
 * Attributes: model, task, layers, every scalar figure of sal_lca_result (names as the
 * struct fields, accuracies for train/dev/test as oracle_train/dev/test), lambdas,
 * delta and seed. Not collective.
 */
#ifndef SALIENT_RECORD_H
#define SALIENT_RECORD_H

#include <stddef.h>

#include "salient/correlation.h"
#include "salient/lca.h"

/* What a record says about its unit besides the figures. */
typedef struct sal_record_meta {
    const char *model;            /* model name */
    const char *task;             /* task name */
    const char *layers;           /* the layer selection as written ("all", "0,3") */
    char *const *class_name;      /* C class names (may be NULL) */
    const sal_lca_params *params; /* the settings the figures come from */
} sal_record_meta;

/* Write r and meta into the open netCDF-4 file or group ncid (in define mode or not). */
sal_status sal_record_write(int ncid, const sal_lca_result *r, const sal_record_meta *meta);

/* Read a record from ncid into r (allocated arrays; release with sal_lca_result_free).
 * The oracle's W and b are read; its fit statistics come from the attributes. */
sal_status sal_record_read(int ncid, sal_lca_result *r);

/* The record as bytes: a header (magic, length, FNV-1a checksum) and an in-memory
 * netCDF-4 file (*buf malloc'ed, *len bytes). */
sal_status sal_record_pack(const sal_lca_result *r, const sal_record_meta *meta, void **buf,
                           size_t *len);

/* The cross-model correlation record of one model's selection against the study's
 * other models (SCIENCE.md section 4.7), told apart by the attribute kind = "crossmodel":
 *   dimensions: neuron (D), other (models compared), layer (selection)
 *   double maxcorr(neuron), mincorr(neuron); int64 maxcorr_rank(neuron), mincorr_rank(neuron)
 *   double best(other, neuron)   each neuron's best |r| with any neuron of that model
 *   string other_model(other); int layer(layer); int64 layer_width(layer)
 *   double layer_mean_maxcorr(layer), layer_mean_mincorr(layer)
 * Attributes: model, task ("crossmodel"), layers, neurons, tokens, mean_maxcorr,
 * mean_mincorr. */
typedef struct sal_crossmodel_meta {
    const char *model;     /* model name */
    const char *layers;    /* its selection as written */
    long long tokens;      /* tokens the correlations are over */
    char *const *other;    /* names of the other models, x->nother of them */
    int nsel;              /* layers of the selection */
    const int *layer;      /* their numbers */
    const int64_t *width;  /* their widths (sum = D) */
} sal_crossmodel_meta;

sal_status sal_record_pack_crossmodel(const sal_crosscorr *x, const double *const *best,
                                      const sal_crossmodel_meta *meta, void **buf, size_t *len);

/* Read a record from bytes made by sal_record_pack (buf is not modified); truncated
 * or damaged bytes fail with SAL_ERR_FORMAT. */
sal_status sal_record_unpack(const void *buf, size_t len, sal_lca_result *r);

/* Copy packed record bytes, unchanged (every attribute, dimension and variable), into
 * the open netCDF-4 group grp of another file, in two phases: SAL_COPY_DEFINE makes the
 * dimensions, attributes and variables, SAL_COPY_DATA (after nc_enddef) writes the
 * values. A file of many groups must define all of them before it writes any data:
 * netCDF-4 rewrites the whole file's metadata at every switch from defining to writing,
 * which made writing 2,000 groups one after the other take many minutes. */
enum { SAL_COPY_DEFINE = 0, SAL_COPY_DATA = 1 };
sal_status sal_record_copy(const void *buf, size_t len, int grp, int phase);

#endif
