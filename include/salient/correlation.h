/*
 * correlation.h - Pearson correlations between neurons over the same tokens, and the
 * two analyses built on them (SCIENCE.md section 4, items 6 and 7):
 *
 *  - redundancy: average-linkage agglomerative clustering of one unit's neurons on
 *    the distance 1 - |r| (Dalvi, Sajjad, Durrani & Belinkov, "Analyzing redundancy
 *    in pretrained transformer models", EMNLP 2020; NeuroX's
 *    create_correlation_clusters with scipy's linkage(method="average") and
 *    fcluster(t, criterion="distance"));
 *  - cross-model correlation analysis (Bau, Belinkov, Sajjad, Durrani, Dalvi & Glass,
 *    "Identifying and controlling important neurons in neural machine translation",
 *    ICLR 2019, used by Dalvi et al., AAAI 2019): for neuron i of model A and another
 *    model m over the same tokens, best_m(i) = max_j |r(x_i^A, x_j^m)|;
 *        MaxCorr(i) = max_{m != A} best_m(i),   MinCorr(i) = min_{m != A} best_m(i),
 *    and both rank A's neurons by the score, descending (a neuron that some other
 *    model also learned ranks high by MaxCorr; one that every other model learned,
 *    high by MinCorr).
 *
 * Definitions:
 *  - r(x, y) = sum_t (x_t - mean x)(y_t - mean y) / (||x - mean x|| ||y - mean y||)
 *    over the N tokens (rows), computed as one distributed product Zx^T Zy of
 *    standardized activations (each column centered with a two-pass mean and scaled
 *    to unit norm, in a copy: never X^T Y - N mu nu^T, which cancels five digits when
 *    means are ~40 and standard deviations ~0.1);
 *  - a column is constant when all its values are equal or its standard deviation is
 *    at most 64 eps max|x| (zero to rounding: its deviations would be rounding noise);
 *    a constant column gets r = 0 with every neuron (itself included) and is flagged;
 *  - ties, everywhere: by the lowest neuron index.
 *
 * Functions marked Collective must be called by every process of the grid's
 * communicator with the same arguments; they agree on failure, so every process
 * returns the same status. The others are serial and work on replicated data.
 */
#ifndef SALIENT_CORRELATION_H
#define SALIENT_CORRELATION_H

#include <stdint.h>

#include "salient/pmat.h"
#include "salient/status.h"

/* A correlation matrix, replicated on every process. */
typedef struct sal_corr {
    int64_t da;             /* rows: neurons of X */
    int64_t db;             /* columns: neurons of Y */
    int same;               /* 1: X and Y were the same matrix; r is exactly symmetric with
                               a unit diagonal (0 for a constant neuron) */
    double *r;              /* da x db, column-major: r[i + j*da] = r(X_i, Y_j), in [-1, 1] */
    unsigned char *const_a; /* da flags: 1 for a constant column of X */
    unsigned char *const_b; /* db flags: 1 for a constant column of Y (== const_a if same) */
    int64_t nconst_a;       /* constant columns of X */
    int64_t nconst_b;       /* constant columns of Y */
} sal_corr;

/* The da x db correlation matrix of the columns of X (N x da) and Y (N x db) on grid g,
 * replicated into out (release with sal_corr_free). X and Y must be on g with the same
 * N rows in the same row blocks (the same tokens in the same order); Y == X (the same
 * pointer) gives the neuron-neuron matrix of one unit, by pdsyrk, mirrored. Fails with
 * SAL_ERR_ARG for matrices not on g, different row counts or row blocking, a result
 * too large to replicate (da * db > INT_MAX: use sal_correlation_pmat), SAL_ERR_FORMAT
 * for N < 2 or a NaN or infinity in X or Y; out is then zeroed. Collective. */
sal_status sal_correlation_matrix(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                                  sal_corr *out);

/* The same matrix left distributed: R is allocated (release with sal_pmat_free) as
 * da x db on g in nb_X x nb_Y blocks and filled by one pdgemm, clamped to [-1, 1]
 * (symmetric to rounding when Y == X, not exactly). const_a[da] and const_b[db] (each
 * may be NULL) receive the constant-column flags on every process. Same failures as
 * sal_correlation_matrix, without the size limit; R is then unallocated. Collective. */
sal_status sal_correlation_pmat(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                                sal_pmat *R, unsigned char *const_a, unsigned char *const_b);

/* Release the arrays and zero c. No operation on NULL. */
void sal_corr_free(sal_corr *c);

/* Sides of a correlation matrix: its rows (X's neurons) or its columns (Y's). */
enum { SAL_CORR_ROWS = 0, SAL_CORR_COLS = 1 };

/* For each neuron on one side, its best match on the other: best[i] = max_j |r_ij| and
 * arg[i] = that j (lowest on ties; arg may be NULL). With c->same the diagonal is left
 * out (a neuron's best match among the others of its unit); a lone neuron gets 0 and
 * -1. Fails with SAL_ERR_ARG for a bad side. Not collective. */
sal_status sal_corr_best_match(const sal_corr *c, int side, double *best, int64_t *arg);

/* The same on a distributed matrix R (from sal_correlation_pmat, any Y), into best
 * and arg (may be NULL) on every process: one MPI_MAXLOC reduction. The diagonal is
 * not left out. Collective over g's communicator. */
sal_status sal_corr_pmat_best_match(const sal_pmat *R, const sal_grid *g, int side, double *best,
                                    int64_t *arg);

/* MaxCorr and MinCorr of model A's D neurons against nother >= 1 other models. */
typedef struct sal_crosscorr {
    int64_t D;             /* neurons of model A */
    int nother;            /* other models */
    double *maxcorr;       /* D: max over the other models of best_m(i) */
    double *mincorr;       /* D: min over the other models of best_m(i) */
    int64_t *maxcorr_rank; /* D neuron indices by maxcorr, descending, ties by index */
    int64_t *mincorr_rank; /* D neuron indices by mincorr, descending, ties by index */
} sal_crosscorr;

/* Rank model A's D neurons from best[m][i] = best_m(i) for m < nother (each from
 * sal_corr_best_match(corr(A, model m), SAL_CORR_ROWS), or the pmat version). Fails
 * with SAL_ERR_ARG for D < 1, nother < 1, or a best value that is not in [0, 1];
 * out is then zeroed. Not collective. */
sal_status sal_crosscorr_rank(int64_t D, int nother, const double *const *best, sal_crosscorr *out);

/* Release the arrays and zero x. No operation on NULL. */
void sal_crosscorr_free(sal_crosscorr *x);

/* One pair of neurons: a of X (rows), b of Y (columns), and their correlation. */
typedef struct sal_corr_pair {
    int64_t a;
    int64_t b;
    double r;
} sal_corr_pair;

/* The min(k, pairs) most correlated pairs into pairs[k], by |r| descending, ties by a
 * then b; their number into *npairs. With c->same only a < b counts (each unordered
 * pair once, no diagonal). O(da db log k) time. Fails with SAL_ERR_ARG for k < 0,
 * SAL_ERR_NOMEM. Not collective. */
sal_status sal_corr_top_pairs(const sal_corr *c, int64_t k, sal_corr_pair *pairs, int64_t *npairs);

/* Flat clusters of one unit's neurons. */
typedef struct sal_clusters {
    int64_t D;          /* neurons */
    int64_t count;      /* clusters */
    int64_t *id;        /* D: cluster of each neuron, in [0, count); clusters are numbered
                           in the order of their lowest neuron (neuron 0 is in cluster 0) */
    int64_t *size;      /* count: members of each cluster */
    int64_t *rep;       /* count: representative of each cluster: the member with the
                           highest mean |r| to the cluster's other members, ties by index */
    int64_t merges;     /* merges done (= D - count) */
    double last_height; /* linkage distance of the last merge done (0 if none) */
} sal_clusters;

/*
 * Average-linkage agglomerative clustering of D neurons on d(i, j) = 1 - |r_ij| from
 * a D x D correlation matrix r (column-major, replicated; symmetrized as
 * (|r_ij| + |r_ji|) / 2, the diagonal ignored), cut at threshold t: repeatedly merge
 * the two clusters at the least average distance
 *     d(P, Q) = sum_{i in P, j in Q} d(i, j) / (|P| |Q|)
 * while it is <= t; ties go to the pair whose lowest neurons are lowest. Distances are
 * kept up to date with the Lance-Williams update for average linkage,
 *     d(K, P u Q) = (|P| d(K, P) + |Q| d(K, Q)) / (|P| + |Q|),
 * and each cluster's nearest neighbour is cached (recomputed only when it was one of
 * the merged pair): O(D^2) memory, O(D^2) to O(D^3) time. Average linkage is monotone,
 * so this is scipy's fcluster(linkage(d, "average"), t, criterion="distance").
 * Fails with SAL_ERR_ARG for D < 1, a NaN t or a non-finite r; SAL_ERR_NOMEM; out is
 * then zeroed. Not collective.
 */
sal_status sal_cluster_redundancy(const double *r, int64_t D, double t, sal_clusters *out);

/* Release the arrays and zero c. No operation on NULL. */
void sal_clusters_free(sal_clusters *c);

#endif
