/*
 * ridge.h - the regression probe: ridge regression of a real-valued target on a
 * unit's neurons, solved in closed form (SCIENCE.md section 2).
 *
 *   min over w (D), b:  (1/N) ||X w + b 1 - y||^2 + lambda2 ||w||^2
 *
 * (bias unpenalized). X is an N x D block-cyclic matrix on a BLACS grid; every
 * process holds all N targets and, on return, the whole solution. Functions marked
 * Collective must be called by every process of the grid's communicator with the
 * same arguments; they agree on failure, so all processes return the same status.
 */
#ifndef SALIENT_RIDGE_H
#define SALIENT_RIDGE_H

#include <stdint.h>

#include "salient/pmat.h"
#include "salient/status.h"

/* A fitted regression probe, replicated on every process. */
typedef struct sal_ridge {
    int64_t D;        /* neurons */
    double *w;        /* D weights */
    double b;         /* bias, for the raw (uncentered) activations */
    double lambda2;   /* the penalty it was fitted with */
    double objective; /* value of the objective above at (w, b) */
    double mse;       /* its data part, (1/N) ||X w + b - y||^2 */
} sal_ridge;

/* NULL if lambda2 is usable (finite and >= 0), else a static message. Not collective. */
const char *sal_ridge_check(double lambda2);

/* Fit on X (N x D on grid g) and targets y[N] (the same on every process). Fails
 * with SAL_ERR_ARG for a bad lambda2 or an X not on g, SAL_ERR_FORMAT for N < 2,
 * D < 1, a NaN or infinity in X or y, or normal equations that are not numerically
 * positive definite (lambda2 = 0 with collinear or constant neurons, or D > N);
 * out is then zeroed. Collective. */
sal_status sal_ridge_fit(const sal_pmat *X, const sal_grid *g, const double *y, double lambda2,
                         sal_ridge *out);

/* Predictions X w + b of every row of X (N x D on grid g, any blocking) into pred[N]
 * on every process. Fails with SAL_ERR_ARG if X has not r->D columns. Collective. */
sal_status sal_ridge_predict(const sal_ridge *r, const sal_pmat *X, const sal_grid *g,
                             double *pred);

/* Release the weights and zero r. No operation on NULL. */
void sal_ridge_free(sal_ridge *r);

#endif
