/*
 * lca.h - Linguistic Correlation Analysis of one unit (a model's layer selection x a
 * task): the oracle probe, the neuron ordering, the minimal neuron set, ablations,
 * the control task and selectivity, and where the salient neurons sit
 * (SCIENCE.md section 4, items 1-5). Collective over the grid's communicator.
 */
#ifndef SALIENT_LCA_H
#define SALIENT_LCA_H

#include <stdint.h>

#include "salient/analysis.h"
#include "salient/probe.h"

typedef struct sal_lca_params {
    sal_probe_params probe; /* settings of every probe fit */
    double delta;           /* minimal set: dev accuracy >= (1 - delta) x the oracle's */
    int stride;             /* ordering granularity (NeuroX: 100) */
    uint64_t seed;          /* random-k neurons */
    int ablation;           /* 1: retrain on top/random/bottom k, zero-out the oracle */
    double cluster_t;       /* redundancy: cut average linkage on 1 - |r| here; 0 = skip */
    int minimal;            /* 1: the minimal neuron set (and the ablations); 0: the oracle,
                               control and redundancy only (a layer-wise unit) */
} sal_lca_params;

/* delta 1% relative, stride 100, seed 1, ablations on, redundancy cut at 0.3 (neurons
 * correlated beyond |r| = 0.7 on average share a cluster); the probe's defaults. */
#define SAL_LCA_PARAMS_DEFAULT {SAL_PROBE_PARAMS_DEFAULT, 0.01, 100, 1, 1, 0.3, 1}

/* A unit's data, split: rows of train (0), dev (1), test (2) on one grid. */
typedef struct sal_lca_data {
    const sal_pmat *X[3];     /* N_s x D activations; dev and test need at least one row */
    const int32_t *y[3];      /* N_s task labels in [0, C), or -1 (class unseen in train) */
    int C;                    /* task classes */
    const int32_t *yc[3];     /* control-task labels (NULL: no control task) */
    int Cc;                   /* control classes */
    int nsel;                 /* layers of the selection, in column order */
    const int *layer;         /* their numbers */
    const int64_t *width;     /* their widths (sum = D) */
} sal_lca_data;

typedef struct sal_lca_result {
    int64_t D;
    int C;
    sal_probe oracle;          /* the probe on all D neurons */
    double oracle_acc[3];      /* train, dev, test accuracy */
    int64_t *ordering;         /* D neurons, most salient first */
    int ncurve;                /* retrained prefix sizes tried */
    int64_t *curve_k;          /* ncurve sizes, ascending */
    double *curve_dev;         /* their dev accuracy */
    double *curve_test;        /* their test accuracy */
    int64_t k_min;             /* the minimal neuron set: the first k_min of ordering */
    double minimal_dev, minimal_test; /* its accuracies */
    double top_test, random_test, bottom_test; /* retrained on top / random / bottom k_min */
    double keep_test, ablate_test;  /* oracle with all but top k_min / top k_min zeroed */
    double control_test;       /* the control probe's test accuracy (NaN without one) */
    double majority_test;      /* test accuracy of always predicting the most frequent
                                * training class (the majority-class baseline) */
    double selectivity;        /* oracle test accuracy - control test accuracy */
    sal_layer_dist dist;       /* layers of the minimal set */
    int64_t clusters;          /* redundancy: clusters of the unit's neurons (0: skipped) */
    double cluster_test;       /* a probe on one representative neuron per cluster */
    int fits;                  /* probes trained */
} sal_lca_result;

/* Run the analyses. Collective over the grid's communicator. Every probe that fails
 * to reach its tolerance fails the run (SAL_ERR_NOCONV) with its message. */
sal_status sal_lca_run(const sal_lca_data *d, const sal_grid *g, const sal_lca_params *p,
                       sal_lca_result *out);

/* Release a result's arrays. No operation on NULL. */
void sal_lca_result_free(sal_lca_result *r);

#endif
