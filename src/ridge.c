/*
 * ridge.c - the ridge regression probe, in closed form (see ridge.h).
 *
 * Objective (SCIENCE.md section 2), w (D), b, targets y (N):
 *
 *   F(w, b) = (1/N) ||X w + b 1 - y||^2 + lambda2 ||w||^2.
 *
 * dF/db = 0 gives b = ybar - mu^T w (mu the column means of X, ybar the mean of y);
 * with that b, X w + b - y = X~ w - y~ for the centered X~ = X - 1 mu^T and
 * y~ = y - ybar, and dF/dw = 0 gives the normal equations
 *
 *   A w = r,   A = X~^T X~ / N + lambda2 I,   r = X~^T y~ / N,
 *
 * A symmetric positive definite when lambda2 > 0 (or X~ has full column rank).
 * Solved by Cholesky, A = U^T U (ScaLAPACK pdposv; Golub & Van Loan, Matrix
 * Computations, 4th ed., sections 4.2 and 5.3.1). A is formed by pdsyrk, r by pdgemm.
 *
 * Centering: a centered copy of the local part of X, not the rank-one correction
 * X^T X - N mu mu^T. Activations have column means up to ~46 with standard
 * deviations down to ~0.1: an entry of X^T X is then ~N (mu^2 + s^2) and the
 * correction cancels all but s^2 / (mu^2 + s^2) ~ 1e-5 of it, losing five of the
 * sixteen digits before the condition of A multiplies the error. The copy keeps the
 * rounding of A at the level of its centered entries, for the price of one more local
 * copy of X. The means themselves take two passes (the mean of the first deviations
 * corrects the first mean), so the centered columns sum to zero to rounding.
 *
 * Singularity: pdposv reports a pivot that is not positive. A pivot that rounding
 * leaves slightly positive (collinear neurons with lambda2 = 0) is caught from the
 * Cholesky factor: cond(A) >= max_j U_jj^2 / min_j U_jj^2, and a ratio above
 * 1 / (D eps) means the computed w has no correct digit to rely on.
 */
#include "salient/ridge.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Local index of global index gi of a dimension in blocks of nb over nprocs (first
 * block on process 0), or -1 when process coordinate iproc does not own it. */
static int64_t g2l(int64_t gi, int64_t nb, int iproc, int nprocs)
{
    if ((gi / nb) % nprocs != iproc)
        return -1;
    return (gi / (nb * nprocs)) * nb + gi % nb;
}

const char *sal_ridge_check(double lambda2)
{
    if (!(lambda2 >= 0) || !isfinite(lambda2))
        return "lambda2 must be a finite number >= 0";
    return NULL;
}

void sal_ridge_free(sal_ridge *r)
{
    if (!r)
        return;
    free(r->w);
    memset(r, 0, sizeof(*r));
}

sal_status sal_ridge_fit(const sal_pmat *X, const sal_grid *g, const double *y, double lambda2,
                         sal_ridge *out)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t N = X->desc[SAL_M], D = X->desc[SAL_N];
    int64_t mb = X->desc[SAL_MB], nb = X->desc[SAL_NB], lld = X->desc[SAL_LLD];
    sal_pmat Xc = {0}, A = {0}, Yc = {0}, B = {0};
    double *mu = NULL, *corr = NULL;
    sal_status st = SAL_OK;
    const char *msg = sal_ridge_check(lambda2);
    memset(out, 0, sizeof(*out));

    /* local checks and allocations; agreed before the first collective call */
    if (msg) {
        st = sal_fail(SAL_ERR_ARG, "ridge probe: %s, got %g", msg, lambda2);
        goto agree_setup;
    }
    if (X->desc[SAL_CTXT] != sal_grid_context(g)) {
        st = sal_fail(SAL_ERR_ARG, "ridge probe: the activation matrix is not on the grid given");
        goto agree_setup;
    }
    if (N < 2 || D < 1) {
        st = sal_fail(SAL_ERR_FORMAT,
                      "ridge probe needs at least 2 tokens and 1 neuron, got %lld x %lld",
                      (long long)N, (long long)D);
        goto agree_setup;
    }
    for (int64_t i = 0; i < N; i++)
        if (!isfinite(y[i])) {
            st = sal_fail(SAL_ERR_FORMAT, "regression target of token row %lld is %s",
                          (long long)i, isnan(y[i]) ? "NaN" : "infinite");
            goto agree_setup;
        }
    mu = malloc(sizeof(*mu) * (size_t)D);
    corr = malloc(sizeof(*corr) * (size_t)(N > D ? N : D)); /* column variances, then y~ */
    out->w = malloc(sizeof(*out->w) * (size_t)D);
    memcpy(Xc.desc, X->desc, sizeof(Xc.desc));
    Xc.lrows = X->lrows;
    Xc.lcols = X->lcols;
    Xc.a = malloc(sizeof(*Xc.a) * (size_t)lld * (size_t)(X->lcols > 0 ? X->lcols : 1));
    if (!mu || !corr || !out->w || !Xc.a) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a ridge probe on %lld x %lld",
                      (long long)N, (long long)D);
        goto agree_setup;
    }
    if ((st = sal_pmat_init(&A, g, D, D, nb, nb)) || (st = sal_pmat_init(&Yc, g, N, 1, mb, 1)) ||
        (st = sal_pmat_init(&B, g, D, 1, nb, 1)))
        goto agree_setup;
agree_setup:
    if ((st = sal_agree(st, comm)))
        goto free_all;

    /* column means (corrected two passes; NaN/Inf refused), then the centered copy */
    if ((st = sal_pmat_col_stats(X, comm, mu, corr)))
        goto free_all;
    sal_pmat_sub_col(X, mu, &Xc);

    /* y~ (y is replicated: the same arithmetic on every process) */
    double ybar = 0, ycorr = 0;
    for (int64_t i = 0; i < N; i++)
        ybar += y[i];
    ybar /= (double)N;
    for (int64_t i = 0; i < N; i++)
        ycorr += y[i] - ybar;
    ybar += ycorr / (double)N;
    for (int64_t i = 0; i < N; i++)
        corr[i] = y[i] - ybar;
    sal_pmat_scatter_replicated(&Yc, corr, N);

    /* A = X~^T X~ / N + lambda2 I (upper triangle), r = X~^T y~ / N into B */
    int n = (int)D, k = (int)N, one = 1, info = 0;
    double invn = 1.0 / (double)N, zero = 0, unit = 1, minus = -1;
    pdsyrk_("U", "T", &n, &k, &invn, Xc.a, &one, &one, Xc.desc, &zero, A.a, &one, &one, A.desc);
    int nprow = sal_grid_nprow(g), npcol = sal_grid_npcol(g);
    int myrow = sal_grid_myrow(g), mycol = sal_grid_mycol(g);
    int64_t ldA = A.desc[SAL_LLD];
    for (int64_t j = 0; j < D; j++) {
        int64_t il = g2l(j, nb, myrow, nprow), jl = g2l(j, nb, mycol, npcol);
        if (il >= 0 && jl >= 0)
            A.a[il + jl * ldA] += lambda2;
    }
    pdgemm_("T", "N", &n, &one, &k, &invn, Xc.a, &one, &one, Xc.desc, Yc.a, &one, &one, Yc.desc,
            &zero, B.a, &one, &one, B.desc);

    /* A w = r: B becomes w, A's upper triangle U */
    pdposv_("U", &n, &one, A.a, &one, &one, A.desc, B.a, &one, &one, B.desc, &info);
    if (info < 0)
        st = sal_fail(SAL_ERR_MPI, "pdposv rejected its argument %d", -info);
    else if (info > 0)
        st = sal_fail(SAL_ERR_FORMAT,
                      "ridge probe: the normal equations are not positive definite (pivot %d "
                      "of %lld) with lambda2 = %g: neurons are collinear or constant, or there "
                      "are more neurons than tokens; use lambda2 > 0",
                      info, (long long)D, lambda2);
    if ((st = sal_agree(st, comm)))
        goto free_all;
    {
        /* pivots U_jj^2: largest and smallest over the grid */
        double piv[2] = {0, -INFINITY};
        for (int64_t j = 0; j < D; j++) {
            int64_t il = g2l(j, nb, myrow, nprow), jl = g2l(j, nb, mycol, npcol);
            if (il >= 0 && jl >= 0) {
                double p = A.a[il + jl * ldA] * A.a[il + jl * ldA];
                piv[0] = fmax(piv[0], p);
                piv[1] = fmax(piv[1], -p);
            }
        }
        MPI_Allreduce(MPI_IN_PLACE, piv, 2, MPI_DOUBLE, MPI_MAX, comm);
        if (-piv[1] <= piv[0] * (double)D * DBL_EPSILON) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "ridge probe: the normal equations are numerically singular (pivot "
                          "ratio %.3g) with lambda2 = %g: neurons are collinear or constant, "
                          "or there are more neurons than tokens; use a larger lambda2",
                          -piv[1] / piv[0], lambda2);
            goto free_all; /* the same on every process */
        }
    }
    if ((st = sal_agree(sal_pmat_allgather(&B, out->w, D, comm), comm)))
        goto free_all;
    double muw = 0, ww = 0;
    for (int64_t j = 0; j < D; j++) {
        muw += mu[j] * out->w[j];
        ww += out->w[j] * out->w[j];
    }
    out->D = D;
    out->b = ybar - muw;
    out->lambda2 = lambda2;

    /* objective from the residual X~ w - y~ (= X w + b - y), formed in Yc */
    pdgemm_("N", "N", &k, &one, &n, &unit, Xc.a, &one, &one, Xc.desc, B.a, &one, &one, B.desc,
            &minus, Yc.a, &one, &one, Yc.desc);
    double ss = 0;
    for (int64_t i = 0; Yc.lcols == 1 && i < Yc.lrows; i++)
        ss += Yc.a[i] * Yc.a[i];
    MPI_Allreduce(MPI_IN_PLACE, &ss, 1, MPI_DOUBLE, MPI_SUM, comm);
    out->mse = ss / (double)N;
    out->objective = out->mse + lambda2 * ww;
free_all:
    free(mu);
    free(corr);
    sal_pmat_free(&Xc);
    sal_pmat_free(&A);
    sal_pmat_free(&Yc);
    sal_pmat_free(&B);
    if (st)
        sal_ridge_free(out);
    return st;
}

sal_status sal_ridge_predict(const sal_ridge *r, const sal_pmat *X, const sal_grid *g,
                             double *pred)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t N = X->desc[SAL_M], D = X->desc[SAL_N];
    sal_pmat Wp = {0}, P = {0};
    sal_status st = SAL_OK;
    if (X->desc[SAL_CTXT] != sal_grid_context(g))
        st = sal_fail(SAL_ERR_ARG, "ridge predict: the activation matrix is not on the grid given");
    else if (D != r->D)
        st = sal_fail(SAL_ERR_ARG, "ridge predict: the probe has %lld neurons, the matrix %lld",
                      (long long)r->D, (long long)D);
    else if (!(st = sal_pmat_init(&Wp, g, D, 1, X->desc[SAL_NB], 1)))
        st = sal_pmat_init(&P, g, N, 1, X->desc[SAL_MB], 1);
    if ((st = sal_agree(st, comm)))
        goto free_all;
    sal_pmat_scatter_replicated(&Wp, r->w, D);
    int m = (int)N, k = (int)D, one = 1;
    double unit = 1, zero = 0;
    pdgemm_("N", "N", &m, &one, &k, &unit, X->a, &one, &one, X->desc, Wp.a, &one, &one, Wp.desc,
            &zero, P.a, &one, &one, P.desc);
    if ((st = sal_agree(sal_pmat_allgather(&P, pred, N, comm), comm)))
        goto free_all;
    for (int64_t i = 0; i < N; i++)
        pred[i] += r->b;
free_all:
    sal_pmat_free(&Wp);
    sal_pmat_free(&P);
    return st;
}
