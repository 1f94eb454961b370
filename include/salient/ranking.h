/*
 * ranking.h - which neurons matter: rankings and selections of a unit's neurons
 * from a trained probe's weights (Dalvi et al., AAAI 2019, as NeuroX implements
 * them), a seeded random control, and the probeless ranking (Antverg & Belinkov
 * 2021, ICLR 2022) from class means of the activations.
 *
 * Weights are the probe's W: D x C, column-major, W[j + c*D] is neuron j's weight
 * for class c (sal_probe's layout); every rule works on |W|. SCIENCE.md section 3
 * states the rules; they reproduce NeuroX's four test vectors. Unlike NeuroX (which
 * returns Python sets), every result here is deterministic: ties in a sort are
 * broken by neuron index, lower first, in both the descending and the ascending
 * sort, and sets are returned as sorted lists of neuron indices.
 *
 * Outputs are arrays allocated here, which the caller releases with free(); on
 * failure they are set to NULL and the counts to 0. An empty selection is a
 * non-NULL array with count 0. Non-finite weights or activations fail with
 * SAL_ERR_FORMAT, bad parameters with SAL_ERR_ARG, allocation with SAL_ERR_NOMEM.
 * Nothing here is collective.
 */
#ifndef SALIENT_RANKING_H
#define SALIENT_RANKING_H

#include <stdint.h>

#include "salient/status.h"

/*
 * The top-p selection of one class c: sort |W[., c]| descending (ties by index),
 * form cumulative sums s_1 <= s_2 <= ... <= s_D in that order, and keep the first m
 * neurons, m the smallest m >= 1 with s_m >= p * s_D (m = D if there is none). The
 * total is s_D, summed in the same order, so p = 1 reaches it exactly: top(1) keeps
 * each class's neurons down to its last one that adds to the sum (trailing zero
 * weights are left out). As in NeuroX, the prefix is never empty: top(0) keeps each
 * class's largest weight.
 */

/* Neurons in top(p) of any class (0 <= p <= 1), sorted, into out[*n]. */
sal_status sal_ranking_top(const double *W, int64_t D, int C, double p, int64_t **out,
                           int64_t *n);

/* Neurons in bottom(p) of any class: top(p)'s rule on the ascending sort of |W[., c]|
 * (ties by index, lower first), sorted, into out[*n]. */
sal_status sal_ranking_bottom(const double *W, int64_t D, int C, double p, int64_t **out,
                              int64_t *n);

/* Neurons with |W[j, c]| > max_j' |W[j', c]| / f for some class c (f > 0), sorted,
 * into out[*n]. A class with all weights zero contributes none. */
sal_status sal_ranking_hard_threshold(const double *W, int64_t D, int C, double f,
                                      int64_t **out, int64_t *n);

/*
 * The global neuron ordering (NeuroX's get_neuron_ordering) into order[D], a
 * permutation of 0..D-1, most important first. For k = 0, 1, ..., stride
 * (stride >= 1) the neurons of top(k / stride) not listed yet are appended; within
 * one step they are appended in ascending neuron index (NeuroX appends them in
 * Python set order, which is not reproducible). Neurons in no top(p) at all (zero,
 * or negligible, weight for every class) follow, ascending. If cutoffs is not NULL
 * it receives (*cutoffs)[stride + 1]: (*cutoffs)[k] is the length of the ordering
 * after step k, as NeuroX returns; order[(*cutoffs)[stride] .. D-1] are the
 * neurons of no step. NeuroX's default stride is 100.
 */
sal_status sal_ranking_ordering(const double *W, int64_t D, int C, int stride,
                                int64_t **order, int64_t **cutoffs);

/* Advance the splitmix64 generator (Steele, Lea & Flood, OOPSLA 2014) at *state and
 * return its next 64-bit output; the same sequence on every machine. */
uint64_t sal_ranking_splitmix64(uint64_t *state);

/* k distinct neurons of 0..D-1 (0 <= k <= D), sorted, into out[k]: the first k
 * places of a Fisher-Yates shuffle driven by splitmix64 from state seed (draws in
 * [0, b) by rejection, so unbiased and the same on every machine). */
sal_status sal_ranking_random(int64_t D, int64_t k, uint64_t seed, int64_t **out);

/*
 * The probeless ordering (Antverg & Belinkov 2021) of the activations X (N x D,
 * column-major, X[i + j*N] is token i's activation of neuron j) with labels y[N]
 * in [0, C): neuron j scores sum over class pairs a < b of |mu_a(j) - mu_b(j)|,
 * mu_c(j) the mean of neuron j over the tokens labelled c, classes without tokens
 * left out. order[D] holds the neurons by score descending, ties by index; if score
 * is not NULL it receives (*score)[D], indexed by neuron. Labels out of range fail
 * with SAL_ERR_FORMAT.
 */
sal_status sal_ranking_probeless(const double *X, int64_t N, int64_t D, const int32_t *y,
                                 int C, int64_t **order, double **score);

#endif
