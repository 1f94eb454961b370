/*
 * probe.h - the elastic-net probe: multinomial logistic regression on a unit's
 * neurons, solved to a stated optimality tolerance.
 *
 *   min over W (D x C), b (C):  (1/N) sum_i CE(softmax(W^T x_i + b), y_i)
 *                               + lambda1 * ||W||_1 + lambda2 * ||W||_F^2
 *
 * (bias unpenalized). X is an N x D block-cyclic matrix on a BLACS grid; every
 * process of the grid holds the labels of all N rows and, on return, the whole
 * solution. Functions marked Collective must be called by every process of the
 * grid's communicator with the same arguments.
 */
#ifndef SALIENT_PROBE_H
#define SALIENT_PROBE_H

#include <stdint.h>

#include "salient/pmat.h"
#include "salient/status.h"

typedef struct sal_probe_params {
    double lambda1; /* weight of ||W||_1, >= 0 */
    double lambda2; /* weight of ||W||_F^2, >= 0 */
    double tol;     /* stop when the largest optimality violation is below tol (> 0) */
    int max_iter;   /* iterations before giving up (SAL_ERR_NOCONV) */
    int verbose;    /* 1: a line per 10 iterations on rank 0 (stderr) */
    int metric;     /* SAL_PROBE_METRIC_*: no effect since the L-BFGS-B engine (kept so
                       that job files and command lines that set it still parse) */
} sal_probe_params;

/* The step metric of the accelerated proximal-gradient engine this one replaced
 * (probe.c's head comment says why). Accepted and ignored. */
enum { SAL_PROBE_METRIC_AUTO = 0, SAL_PROBE_METRIC_GRAM = 1, SAL_PROBE_METRIC_DIAGONAL = 2 };

/* The paper's setting (EMNLP 2020): lambda1 = lambda2 = 1e-5; tol 1e-6. */
#define SAL_PROBE_PARAMS_DEFAULT {1e-5, 1e-5, 1e-6, 20000, 0, SAL_PROBE_METRIC_AUTO}

/* NULL if p is usable, else a static message naming the bad field. */
const char *sal_probe_check(const sal_probe_params *p);

/* A trained probe, replicated on every process. */
typedef struct sal_probe {
    int64_t D;         /* neurons */
    int C;             /* classes */
    double *W;         /* D x C, column-major: W[j + c*D] is neuron j's weight for class c */
    double *b;         /* C biases (for the raw, uncentered activations) */
    double objective;  /* value of the objective above */
    double loss;       /* its mean cross-entropy part */
    double violation;  /* largest optimality violation (SCIENCE.md section 2) */
    int iterations;    /* L-BFGS-B iterations */
    int gemms;         /* N x D x C matrix products done (each one pass over X) */
    double seconds;    /* wall time of the solve */
} sal_probe;

/* Release a probe's arrays. No operation on NULL. */
void sal_probe_free(sal_probe *p);

/* A training problem: X, labels, and what is derived once from X (column means and
 * variances) so that several solves (a lambda path, warm starts) share it. */
typedef struct sal_probe_problem sal_probe_problem;

/* Set up a problem on X (N x D on any grid g, not copied: it must outlive the problem)
 * and labels y[N] in [0, nclasses). Computes the column means. Fails on a label out of
 * range, a class count < 2, a class with no training token, or a NaN / infinite
 * activation. Collective. */
sal_status sal_probe_problem_init(const sal_pmat *X, const sal_grid *g, const int32_t *y,
                                  int nclasses, sal_probe_problem **out);

/* Release a problem. Collective (frees grid-shaped buffers). No operation on NULL. */
void sal_probe_problem_free(sal_probe_problem *pb);

/* Solve to p->tol. warm (may be NULL) is a start point from an earlier solve with the
 * same D and C. On SAL_ERR_NOCONV out still holds the last iterate. Collective. */
sal_status sal_probe_solve(sal_probe_problem *pb, const sal_probe_params *p,
                           const sal_probe *warm, sal_probe *out);

/* Objective, loss and optimality violation of (W, b) on the problem, from scratch,
 * in double precision. Collective. */
sal_status sal_probe_evaluate(sal_probe_problem *pb, const sal_probe_params *p,
                              const double *W, const double *b, double *objective,
                              double *loss, double *violation);

/* Predicted class of every row of X (N x D, any grid) into pred[N] on every process.
 * Collective over the grid's communicator comm. */
sal_status sal_probe_predict(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                             int32_t *pred);

#endif
