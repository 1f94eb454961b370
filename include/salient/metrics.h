/*
 * metrics.h - how well a probe predicts: classification metrics from labels and
 * predictions, and correlations for real-valued (regression) tasks.
 *
 * Plain arrays in, numbers out; nothing here is collective. Definitions follow
 * scikit-learn so that numbers can be compared with NeuroX's:
 *  - accuracy: the fraction of positions with pred == y;
 *  - per-class accuracy of class c: recall, tp_c / (tokens with y == c); NaN for a
 *    class absent from y. Their mean over the classes present in y is scikit-learn's
 *    balanced_accuracy_score;
 *  - macro-F1: scikit-learn's f1_score(average="macro", zero_division=0) with its
 *    default label set, the classes present in y or in pred:
 *        F1_c = 2 tp_c / (ntrue_c + npred_c)  (= 2PR/(P+R) when P + R > 0, else 0),
 *    averaged over those classes; a class only in pred scores 0, a class in neither
 *    is left out;
 *  - Pearson r (two-pass, deviations from the mean) and Spearman rho (Pearson r of
 *    the ranks, tied values sharing their average rank, as scipy.stats.spearmanr).
 */
#ifndef SALIENT_METRICS_H
#define SALIENT_METRICS_H

#include <stdint.h>

#include "salient/status.h"

typedef struct sal_class_metrics {
    int C;                      /* classes: labels are in [0, C) */
    int64_t n;                  /* positions scored */
    int classes_in_y;           /* classes with at least one true position */
    int classes_in_f1;          /* classes in y or in pred: the macro-F1 average's size */
    double accuracy;            /* fraction of positions with pred == y */
    double macro_f1;            /* mean F1 over the classes in y or pred */
    double mean_class_accuracy; /* mean per-class accuracy over classes in y (balanced) */
    double *per_class;          /* C recalls; NaN for a class absent from y */
    double *f1;                 /* C F1 scores; NaN for a class absent from y and pred */
} sal_class_metrics;

/* Score predictions pred[n] against true labels y[n], both in [0, C). Allocates
 * out->per_class and out->f1 (release with sal_class_metrics_free). Fails with
 * SAL_ERR_ARG for n < 1 or C < 1, SAL_ERR_FORMAT naming the position of a label or
 * prediction out of range; out is then zeroed. */
sal_status sal_class_metrics_compute(const int32_t *y, const int32_t *pred, int64_t n, int C,
                                     sal_class_metrics *out);

/* Release out's arrays and zero it. No operation on NULL. */
void sal_class_metrics_free(sal_class_metrics *m);

/* Confusion counts into counts[C * C] (row = true class, column = predicted:
 * counts[t * C + p]). Same checks as sal_class_metrics_compute; counts is zeroed
 * first. */
sal_status sal_confusion_counts(const int32_t *y, const int32_t *pred, int64_t n, int C,
                                int64_t *counts);

/* Pearson correlation of x[n] and y[n] into *r. When it is undefined (n < 2, a
 * non-finite value, or x or y constant) *r is NaN and SAL_ERR_FORMAT says why. */
sal_status sal_pearson(const double *x, const double *y, int64_t n, double *r);

/* Spearman rank correlation of x[n] and y[n] into *rho (average ranks for ties).
 * Undefined cases as sal_pearson (a constant input has all ranks tied);
 * SAL_ERR_NOMEM if the rank arrays cannot be allocated. */
sal_status sal_spearman(const double *x, const double *y, int64_t n, double *rho);

/* Average ranks (1-based; tied values share the mean of their ranks) of x[n] into
 * rank[n]. x must not contain NaN. SAL_ERR_NOMEM on allocation failure. */
sal_status sal_rank_average(const double *x, int64_t n, double *rank);

#endif
