/*
 * analysis.h - building blocks of the analyses of SCIENCE.md section 4: the control
 * task and selectivity (Hewitt & Liang, EMNLP 2019), where salient neurons sit across
 * layers, zero-out (masked) evaluation of a trained probe without retraining, and
 * column subsets of a distributed matrix for retraining on selected neurons.
 *
 * Neuron indices are columns of the probe matrix X: with several layers selected,
 * the concatenated "all layers" column space, layers in selection order. Functions
 * marked "Collective" must be called by every process of the grid's communicator with
 * the same arguments (the same index lists on every process); their failures are
 * agreed across it (sal_agree). The others are "Not collective".
 */
#ifndef SALIENT_ANALYSIS_H
#define SALIENT_ANALYSIS_H

#include <stdint.h>

#include "salient/corpus.h"
#include "salient/pmat.h"
#include "salient/probe.h"
#include "salient/status.h"

/* ---- Control task and selectivity ------------------------------------------ */

/*
 * Control labels (Hewitt & Liang 2019) into control[ntok]. label[ntok] holds the
 * task's class per token, in [0, nclasses) or -1 for unknown; split[nsent] holds
 * SAL_SPLIT_TRAIN / DEV / TEST per sentence of words. The train distribution is the
 * empirical frequency of each class over train tokens with a known label. Word types
 * (exact byte strings) are visited in byte-wise sorted order (strcmp); each draws one
 * class from the train distribution with a splitmix64 stream seeded by seed (an
 * unbiased integer draw in [0, train tokens) by rejection, mapped through cumulative
 * counts), so the result depends only on the set of types, the counts and the seed,
 * and is the same on every machine. Every token of a type gets the type's label in
 * every split, except tokens whose task label is -1, which stay -1 (so task and
 * control are scored on the same tokens). Classes absent from train are never drawn.
 * SAL_ERR_FORMAT for a label out of range, SAL_ERR_ARG for nclasses < 1 or no train
 * token with a known label, SAL_ERR_NOMEM. Not collective.
 */
sal_status sal_control_labels(const sal_corpus *words, const int32_t *label, int nclasses,
                              const int8_t *split, uint64_t seed, int32_t *control);

/* Selectivity: task accuracy minus control accuracy, both on test. Not collective. */
static inline double sal_selectivity(double task_accuracy, double control_accuracy)
{
    return task_accuracy - control_accuracy;
}

/* ---- Layer distribution ------------------------------------------------------ */

/* Where a set of neurons sits: per selected layer and per third of depth. */
typedef struct sal_layer_dist {
    int nsel;              /* selected layers */
    int *layer;            /* nsel layer numbers, in column order */
    int64_t *count;        /* nsel neurons of the set in each selected layer */
    double *share;         /* nsel count / n (0 when the set is empty) */
    int64_t third_count[3]; /* neurons in the lower, middle, upper third of the selection */
    double third_share[3]; /* third_count / n (0 when the set is empty) */
    int64_t n;             /* neurons in the set */
} sal_layer_dist;

/*
 * Count the neurons idx[n] (distinct, in [0, sum of widths)) per selected layer:
 * the selection's layers occupy consecutive column ranges of widths[0], widths[1],
 * ..., widths[nsel - 1] in that order; layers[nsel] are their layer numbers (may be
 * NULL: 0, 1, ...), copied into out->layer. Thirds are of the selection, by
 * position: the layer at position l (0-based) of nsel goes to third floor(3 l / nsel)
 * (0 lower, 1 middle, 2 upper; 13 layers split 5, 4, 4; with fewer than 3 layers some
 * thirds are empty). Allocates out's arrays (release with sal_layer_dist_free).
 * SAL_ERR_ARG for nsel < 1, a width < 1, an index out of range or repeated;
 * SAL_ERR_NOMEM. out is zeroed on failure. Not collective.
 */
sal_status sal_layer_distribution(const int64_t *idx, int64_t n, int nsel, const int64_t *widths,
                                  const int *layers, sal_layer_dist *out);

/* Release out's arrays and zero it. No operation on NULL. Not collective. */
void sal_layer_dist_free(sal_layer_dist *d);

/* ---- Zero-out evaluation, without retraining ---------------------------------- */

/* Which neurons a mask zeroes: all but the subset ("keep only top k"), or the subset
 * ("ablate top k"). */
typedef enum sal_zero_mode { SAL_ZERO_KEEP = 0, SAL_ZERO_ABLATE = 1 } sal_zero_mode;

/* A copy of pr (W, b; the fit statistics copied as they are) whose weights are zero
 * for the neurons the mask zeroes: zeroing column j of X equals zeroing row j of W in
 * the logits X W + b. subset[k] in [0, pr->D), repeats harmless. Release out with
 * sal_probe_free. SAL_ERR_ARG for an index out of range, SAL_ERR_NOMEM. Not
 * collective. */
sal_status sal_zero_out_probe(const sal_probe *pr, const int64_t *subset, int64_t k,
                              sal_zero_mode mode, sal_probe *out);

/* Predictions pred[N] (on every process) of pr on X (N x pr->D, on grid g) with the
 * mask's neurons zeroed in the input. Collective over the grid's communicator. */
sal_status sal_zero_out_predict(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                                const int64_t *subset, int64_t k, sal_zero_mode mode,
                                int32_t *pred);

/* Accuracies of pr on (X, y[N]) with every neuron outside subset[k] zeroed (*keep)
 * and with only subset[k] zeroed (*ablate); either output may be NULL to skip it.
 * Rows with y < 0 are left out of the accuracy; SAL_ERR_ARG if no row is left.
 * Collective over the grid's communicator. */
sal_status sal_zero_out_accuracy(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                                 const int32_t *y, const int64_t *subset, int64_t k,
                                 double *keep, double *ablate);

/* ---- Column subsets of a distributed matrix ------------------------------------ */

/*
 * The N x ncols matrix out of the columns cols[ncols] of X (N x D on g; indices in
 * [0, D), any order, repeats allowed): out's column j is X's column cols[j]. out is
 * allocated here on the same grid with X's row blocking and one column block
 * (nb = ncols), the layout of the probe matrices. With one process column (and X's
 * first row block on process row 0) each process copies locally; otherwise
 * pdgemr2d_ moves each run of consecutive indices. ncols = 0 gives an N x 0 matrix.
 * SAL_ERR_ARG for a bad index, SAL_ERR_NOMEM; out is released on failure.
 * Collective over the grid's communicator.
 */
sal_status sal_pmat_select_columns(const sal_pmat *X, const sal_grid *g, const int64_t *cols,
                                   int64_t ncols, sal_pmat *out);

/* ScaLAPACK's general redistribution (Fortran interface, 1-based indices). */
void pdgemr2d_(const int *m, const int *n, const double *a, const int *ia, const int *ja,
               const int *desca, double *b, const int *ib, const int *jb, const int *descb,
               const int *ictxt);

#endif
