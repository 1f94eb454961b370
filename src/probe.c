/*
 * probe.c - the elastic-net multinomial logistic probe, solved to optimality.
 *
 * Objective (SCIENCE.md section 2), W (D x C), b (C), y_i in [0, C):
 *
 *   F(W, b) = (1/N) sum_i [ logsumexp(z_i) - z_{i,y_i} ] + lambda1 ||W||_1 + lambda2 ||W||_F^2,
 *   z_i = W^T x_i + b.
 *
 * Method: accelerated proximal gradient in the metric of the Gram matrix.
 *  - Columns are centered (x~ = x - mu). The bias is unpenalized, so this leaves the
 *    optimum unchanged (b_raw = b - W^T mu) and removes the huge mean directions that
 *    make raw activations ill-conditioned.
 *  - Boehning's bound (Boehning 1992; used for sparse multinomial logistic regression
 *    by Krishnapuram, Carin, Figueiredo & Hartemink, IEEE TPAMI 2005): the Hessian of
 *    the cross-entropy in the logits is below (1/2)(I - 11^T/C) <= (1/2) I, so
 *      f(Y + D) <= f(Y) + <G, D> + (1/4) sum_c d_c^T S d_c + (1/4)|d_b|^2,
 *    S = X~^T X~ / N. Each step minimizes this model, scaled by L, plus the penalty:
 *    an elastic-net quadratic per class, solved by coordinate descent in Gram space
 *    (one column of S updates every class at once), to a tolerance that shrinks with
 *    the steps (inexact proximal steps; Schmidt, Le Roux & Bach, NIPS 2011). L = 1 is
 *    a true majorizer; smaller L is tried first and backtracked on sufficient decrease
 *    of f. After a step that needed backtracking L shrinks only slightly, so that the
 *    next trial is not rejected again (a rejected L costs a product). Above
 *    GRAM_MAX_D neurons (or on request) the metric is the Gram diagonal, whose step is
 *    closed-form; it majorizes only for L large enough, which the same backtracking
 *    finds.
 *  - FISTA momentum (Beck & Teboulle 2009) with the gradient restart of O'Donoghue &
 *    Candes (2015): when a step turns back against the last move (in the metric), the
 *    momentum starts again from zero.
 *  - The logits are affine in (W, b), so the extrapolated point's logits are the same
 *    combination of the iterates' logits: one forward product X W and one backward
 *    product X^T R per iteration (pdgemm), plus one forward per rejected L. Objective
 *    changes are computed from the change of the logits (log1p/expm1), not as the
 *    difference of two rounded totals, so the line search tells descent from rounding
 *    even when F agrees to 12 digits; the logits are recomputed from scratch every
 *    REFRESH_EVERY iterations so summed steps do not drift.
 * Stopping rule: the largest violation of the optimality conditions
 *    w != 0: |g + lambda1 sign(w) + 2 lambda2 w|,   w == 0: max(0, |g| - lambda1),
 *    bias: |g_b|,
 * with g the gradient of the smooth part for the raw activations, is below tol. It is
 * computed exactly (an extra backward product) whenever the step suggests it may hold.
 */
#include "salient/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void daxpy_(const int *n, const double *alpha, const double *x, const int *incx, double *y,
            const int *incy);

#define GRAM_MAX_D 2048 /* above this many neurons, a diagonal metric instead of the Gram */
#define L_MIN 1e-6      /* smallest curvature scale tried */
#define L_SHRINK 0.7    /* after a step accepted at the first L tried */
#define L_SHRINK_SLOW 0.95 /* after a step that needed a larger L */
#define CD_SWEEPS 500   /* coordinate descent sweeps per step, at most */

struct sal_probe_problem {
    const sal_pmat *X;
    const sal_grid *g;
    MPI_Comm comm;
    int64_t N, D;
    int C;
    int has_z;          /* this process holds a column block of Z (all C columns) */
    int64_t lz;         /* local rows of Z */
    int64_t ldz;        /* leading dimension of Z's local part */
    int32_t *ly;        /* labels of the local rows of Z */
    int64_t *count;     /* examples per class */
    double *mu;         /* D column means */
    double *S;          /* D x D centered Gram / N, replicated; NULL above GRAM_MAX_D */
    double *var;        /* D column variances (the Gram diagonal, computed in two passes) */
    sal_pmat Wt;        /* C x D: the weights, transposed, for pdgemm */
    sal_pmat Z;         /* N x C logits / residuals */
    sal_pmat Gt;        /* C x D: gradient, transposed */
    int gemms;          /* products since the last solve started */
};

const char *sal_probe_check(const sal_probe_params *p)
{
    if (!(p->lambda1 >= 0) || !isfinite(p->lambda1))
        return "lambda1 must be a finite number >= 0";
    if (!(p->lambda2 >= 0) || !isfinite(p->lambda2))
        return "lambda2 must be a finite number >= 0";
    if (!(p->tol > 0) || !isfinite(p->tol))
        return "tolerance must be a finite number > 0";
    if (p->max_iter < 1)
        return "the iteration limit must be at least 1";
    return NULL;
}

void sal_probe_free(sal_probe *p)
{
    if (!p)
        return;
    free(p->W);
    free(p->b);
    p->W = p->b = NULL;
}

void sal_probe_problem_free(sal_probe_problem *pb)
{
    if (!pb)
        return;
    free(pb->ly);
    free(pb->count);
    free(pb->mu);
    free(pb->S);
    free(pb->var);
    sal_pmat_free(&pb->Wt);
    sal_pmat_free(&pb->Z);
    sal_pmat_free(&pb->Gt);
    free(pb);
}

sal_status sal_probe_problem_init(const sal_pmat *X, const sal_grid *g, const int32_t *y,
                                  int nclasses, sal_probe_problem **out)
{
    sal_status st = SAL_OK;
    *out = NULL;
    /* local failures before the first collective call jump to done, which agrees */
    sal_probe_problem *pb = calloc(1, sizeof(*pb));
    if (!pb)
        return sal_agree(sal_fail(SAL_ERR_NOMEM, "out of memory"), sal_grid_comm(g));
    pb->X = X;
    pb->g = g;
    pb->comm = sal_grid_comm(g);
    pb->N = X->desc[SAL_M];
    pb->D = X->desc[SAL_N];
    pb->C = nclasses;
    if (nclasses < 2) {
        st = sal_fail(SAL_ERR_FORMAT, "a probe needs at least 2 classes, got %d", nclasses);
        goto done;
    }
    if (pb->N < 1 || pb->D < 1) {
        st = sal_fail(SAL_ERR_FORMAT, "empty training matrix (%lld x %lld)", (long long)pb->N,
                      (long long)pb->D);
        goto done;
    }
    pb->count = calloc((size_t)nclasses, sizeof(*pb->count));
    pb->mu = calloc((size_t)pb->D, sizeof(*pb->mu));
    pb->var = calloc((size_t)pb->D, sizeof(*pb->var));
    if (pb->D <= GRAM_MAX_D)
        pb->S = malloc(sizeof(*pb->S) * (size_t)(pb->D * pb->D));
    if (!pb->count || !pb->mu || !pb->var || (pb->D <= GRAM_MAX_D && !pb->S)) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a %lld-neuron Gram matrix",
                      (long long)pb->D);
        goto done;
    }
    for (int64_t i = 0; i < pb->N; i++) {
        if (y[i] < 0 || y[i] >= nclasses) {
            st = sal_fail(SAL_ERR_FORMAT, "training token %lld has label %d, not in [0, %d)",
                          (long long)i, y[i], nclasses);
            goto done;
        }
        pb->count[y[i]]++;
    }
    for (int c = 0; c < nclasses; c++)
        if (pb->count[c] == 0) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "class %d has no training tokens: its optimal bias is -infinity; "
                          "leave it out of the label set",
                          c);
            goto done;
        }
    int64_t mb = X->desc[SAL_MB], nb = X->desc[SAL_NB];
    if ((st = sal_pmat_init(&pb->Wt, g, pb->C, pb->D, pb->C, nb)) ||
        (st = sal_pmat_init(&pb->Gt, g, pb->C, pb->D, pb->C, nb)) ||
        (st = sal_pmat_init(&pb->Z, g, pb->N, pb->C, mb, pb->C)))
        goto done;
    pb->has_z = pb->Z.lcols == pb->C;
    pb->lz = pb->has_z ? pb->Z.lrows : 0;
    pb->ldz = pb->Z.desc[SAL_LLD];
    pb->ly = malloc(sizeof(*pb->ly) * (size_t)(pb->lz > 0 ? pb->lz : 1));
    if (!pb->ly) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* from here on every failure is agreed before the next collective call */
    for (int64_t i = 0; i < pb->lz; i++)
        pb->ly[i] = y[sal_pmat_grow(&pb->Z, i)];

    if ((st = sal_pmat_col_stats(X, pb->comm, pb->mu, pb->var)))
        goto agreed;

    /* S = (X - 1 mu^T)^T (X - 1 mu^T) / N through pdsyrk (upper triangle) on a centered
     * copy, then replicated, with the exact variances on its diagonal. Centering first
     * keeps S positive semidefinite: X^T X / N - mu mu^T cancels catastrophically for a
     * neuron whose mean dwarfs its spread (a random-weights model has nearly constant
     * ones), and an indefinite metric sent the solver's steps off to infinity. */
    if (pb->S) {
        sal_pmat Sp, Xc;
        memset(&Xc, 0, sizeof(Xc));
        memcpy(Xc.desc, X->desc, sizeof(Xc.desc));
        Xc.lrows = X->lrows;
        Xc.lcols = X->lcols;
        Xc.a = malloc(sizeof(*Xc.a) * (size_t)(X->desc[SAL_LLD] > 0 ? X->desc[SAL_LLD] : 1) *
                      (size_t)(X->lcols > 0 ? X->lcols : 1));
        st = Xc.a ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory for a centered copy of "
                                      "%lld x %lld activations", (long long)pb->N,
                                      (long long)pb->D);
        if ((st = sal_agree(st, pb->comm)) ||
            (st = sal_agree(sal_pmat_init(&Sp, g, pb->D, pb->D, nb, nb), pb->comm))) {
            free(Xc.a);
            goto agreed;
        }
        sal_pmat_sub_col(X, pb->mu, &Xc);
        int n = (int)pb->D, k = (int)pb->N, one = 1;
        double alpha = 1.0 / (double)pb->N, beta = 0;
        pdsyrk_("U", "T", &n, &k, &alpha, Xc.a, &one, &one, Xc.desc, &beta, Sp.a, &one, &one,
                Sp.desc);
        free(Xc.a);
        st = sal_pmat_allgather(&Sp, pb->S, pb->D, pb->comm);
        sal_pmat_free(&Sp);
        if (st)
            goto agreed;
        int64_t D = pb->D;
        for (int64_t j = 0; j < D; j++) {
            for (int64_t i = 0; i < j; i++)
                pb->S[j + i * D] = pb->S[i + j * D];
            pb->S[j + j * D] = pb->var[j];
        }
    }
done:
    st = sal_agree(st, pb->comm);
agreed:
    if (st) {
        sal_probe_problem_free(pb);
        return st;
    }
    *out = pb;
    return SAL_OK;
}

/* Logits of (Wt, b) for the raw activations into the local part z (ldz x C):
 * z = X W + 1 b^T, with W given transposed (C x D, replicated). */
static void forward(sal_probe_problem *pb, const double *Wt, const double *braw, double *z)
{
    sal_pmat_scatter_replicated(&pb->Wt, Wt, pb->C);
    int m = (int)pb->N, n = pb->C, k = (int)pb->D, one = 1;
    double alpha = 1, beta = 0;
    pdgemm_("N", "T", &m, &n, &k, &alpha, pb->X->a, &one, &one, pb->X->desc, pb->Wt.a, &one,
            &one, pb->Wt.desc, &beta, pb->Z.a, &one, &one, pb->Z.desc);
    pb->gemms++;
    for (int c = 0; c < pb->C && pb->has_z; c++)
        for (int64_t i = 0; i < pb->lz; i++)
            z[i + c * pb->ldz] = pb->Z.a[i + c * pb->ldz] + braw[c];
}

/* Mean cross-entropy of local logits z; with G != NULL also the gradient of the mean
 * cross-entropy for the raw activations: G (C x D, replicated, = (X^T R)^T) and gb. */
static double loss_grad(sal_probe_problem *pb, const double *z, double *G, double *gb)
{
    double loss = 0;
    int C = pb->C;
    int64_t ldz = pb->ldz;
    double invn = 1.0 / (double)pb->N;
    double *r = pb->Z.a; /* residuals go where the logits were */
    if (G)
        memset(gb, 0, sizeof(*gb) * (size_t)C);
    for (int64_t i = 0; i < pb->lz; i++) {
        double zmax = z[i];
        for (int c = 1; c < C; c++)
            if (z[i + c * ldz] > zmax)
                zmax = z[i + c * ldz];
        double s = 0;
        for (int c = 0; c < C; c++) /* the exponentials wait in r for the residuals */
            s += r[i + c * ldz] = exp(z[i + c * ldz] - zmax);
        loss += zmax + log(s) - z[i + pb->ly[i] * ldz];
        if (G) {
            for (int c = 0; c < C; c++) {
                double v = (r[i + c * ldz] / s - (c == pb->ly[i])) * invn;
                r[i + c * ldz] = v;
                gb[c] += v;
            }
        }
    }
    if (!G) {
        MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, pb->comm);
        return loss * invn;
    }
    int m = C, n = (int)pb->D, k = (int)pb->N, one = 1;
    double alpha = 1, beta = 0;
    pdgemm_("T", "N", &m, &n, &k, &alpha, pb->Z.a, &one, &one, pb->Z.desc, pb->X->a, &one,
            &one, pb->X->desc, &beta, pb->Gt.a, &one, &one, pb->Gt.desc);
    pb->gemms++;
    sal_pmat_allgather(&pb->Gt, G, C, pb->comm);
    /* loss and gb in one reduction */
    double *buf = malloc(sizeof(*buf) * (size_t)(C + 1));
    memcpy(buf, gb, sizeof(*gb) * (size_t)C);
    buf[C] = loss;
    MPI_Allreduce(MPI_IN_PLACE, buf, C + 1, MPI_DOUBLE, MPI_SUM, pb->comm);
    memcpy(gb, buf, sizeof(*gb) * (size_t)C);
    loss = buf[C];
    free(buf);
    return loss * invn;
}

static double penalty(const double *W, int64_t n, double l1, double l2)
{
    double a = 0, q = 0;
    for (int64_t i = 0; i < n; i++) {
        a += fabs(W[i]);
        q += W[i] * W[i];
    }
    return l1 * a + l2 * q;
}

/* Largest optimality violation of W (C x D layout) given the raw gradient G and gb. */
static double violation(const double *W, const double *G, const double *gb, int64_t n, int C,
                        double l1, double l2)
{
    double v = 0;
    for (int64_t i = 0; i < n; i++) {
        double e;
        if (W[i] != 0)
            e = fabs(G[i] + l1 * (W[i] > 0 ? 1 : -1) + 2 * l2 * W[i]);
        else
            e = fabs(G[i]) - l1;
        if (e > v)
            v = e;
    }
    for (int c = 0; c < C; c++)
        if (fabs(gb[c]) > v)
            v = fabs(gb[c]);
    return v;
}

/*
 * The proximal step: for every class c,
 *   min_w  gc_c^T (w - y_c) + (L/4) (w - y_c)^T S (w - y_c) + l1 |w|_1 + l2 |w|^2
 * by cyclic coordinate descent, all classes at once per neuron j (arrays are C x D,
 * column-major: entry (c, j) at [c + j*C]). V = S (W - Y), D x C column-major, is kept
 * up to date. Active set: after a full sweep, sweep the neurons with a nonzero weight
 * until they settle, then a full sweep again; stop when a full sweep moves nothing by more than tol_in
 * (in gradient units). Returns (L/4) sum_c (w_c - y_c)^T S (w_c - y_c).
 */
static double prox_cd(const double *S, const double *var, int64_t D, int C, const double *Y,
                      const double *Gc, double L, double l1, double l2, double tol_in, double *W,
                      double *V, double *delta)
{
    memcpy(W, Y, sizeof(*W) * (size_t)(D * C));
    memset(V, 0, sizeof(*V) * (size_t)(D * C));
    if (!S) { /* diagonal metric: the problem separates, one exact pass */
        double q = 0;
        for (int64_t j = 0; j < D; j++) {
            double a = 0.5 * L * var[j] + 2 * l2, t = a > 0 ? l1 / a : 0;
            for (int c = 0; c < C; c++) {
                double y = Y[c + j * C], wn = 0;
                if (a > 0) {
                    double u = y - (Gc[c + j * C] + 2 * l2 * y) / a;
                    wn = u > t ? u - t : (u < -t ? u + t : 0);
                }
                W[c + j * C] = wn;
                V[j + c * D] = var[j] * (wn - y);
                q += (wn - y) * V[j + c * D];
            }
        }
        return 0.25 * L * q;
    }
    int full = 1;
    for (int sweep = 0; sweep < CD_SWEEPS; sweep++) {
        double moved = 0;
        for (int64_t j = 0; j < D; j++) {
            double *w = W + j * C;
            if (!full) {
                int any = 0;
                for (int c = 0; c < C && !any; c++)
                    any = w[c] != 0;
                if (!any)
                    continue;
            }
            double a = 0.5 * L * S[j + j * D] + 2 * l2;
            const double *g = Gc + j * C;
            int changed = 0;
            for (int c = 0; c < C; c++) {
                double wn = 0;
                if (a > 0) {
                    double d = g[c] + 0.5 * L * V[j + c * D] + 2 * l2 * w[c];
                    double u = w[c] - d / a, t = l1 / a;
                    wn = u > t ? u - t : (u < -t ? u + t : 0);
                }
                delta[c] = wn - w[c];
                if (delta[c] != 0) {
                    changed = 1;
                    double m = a * fabs(delta[c]);
                    if (m > moved)
                        moved = m;
                    w[c] = wn;
                }
            }
            if (!changed)
                continue;
            /* V[:, c] += delta_c S[:, j] for every class that moved */
            int di = (int)D, one = 1;
            for (int c = 0; c < C; c++)
                if (delta[c] != 0)
                    daxpy_(&di, &delta[c], S + j * D, &one, V + c * D, &one);
        }
        if (moved <= tol_in) {
            if (full)
                break;
            full = 1;
        } else {
            full = 0;
        }
    }
    double q = 0;
    for (int64_t j = 0; j < D; j++)
        for (int c = 0; c < C; c++)
            q += (W[c + j * C] - Y[c + j * C]) * V[j + c * D];
    return 0.25 * L * q;
}

sal_status sal_probe_evaluate(sal_probe_problem *pb, const sal_probe_params *p,
                              const double *W, const double *b, double *objective,
                              double *loss, double *violation_out)
{
    int C = pb->C;
    int64_t D = pb->D, n = D * C;
    double *Wt = malloc(sizeof(*Wt) * (size_t)n), *G = malloc(sizeof(*G) * (size_t)n);
    double *gb = malloc(sizeof(*gb) * (size_t)C);
    double *z = malloc(sizeof(*z) * (size_t)(pb->ldz * C));
    if (!Wt || !G || !gb || !z) {
        free(Wt);
        free(G);
        free(gb);
        free(z);
        return sal_agree(sal_fail(SAL_ERR_NOMEM, "out of memory"), pb->comm);
    }
    for (int64_t j = 0; j < D; j++)
        for (int c = 0; c < C; c++)
            Wt[c + j * C] = W[j + c * D];
    forward(pb, Wt, b, z);
    double f = loss_grad(pb, z, G, gb);
    *loss = f;
    *objective = f + penalty(Wt, n, p->lambda1, p->lambda2);
    *violation_out = violation(Wt, G, gb, n, C, p->lambda1, p->lambda2);
    free(Wt);
    free(G);
    free(gb);
    free(z);
    return SAL_OK;
}

/* Logit change dz = X D + 1 db^T of a step D (C x D layout, replicated) into the local
 * part dz (ldz x C). Computing the change, not the new logits, keeps it exact to the
 * size of the step. */
static void forward_delta(sal_probe_problem *pb, const double *Dt, const double *db, double *dz)
{
    forward(pb, Dt, db, dz);
}

/* f(zY + dz) - f(zY), summed row by row without cancellation:
 * lse(zY + dz) - lse(zY) = log1p(sum_c p_c expm1(dz_c)) with p = softmax(zY) for a
 * small change; for a large one (|dz_c| > 1 somewhere) the two log-sum-exps are taken
 * apart, which then loses nothing, while the log1p form would under- or overflow (all
 * dz_c very negative gave log1p(-1) = -inf: a line search that accepted every step). */
static double loss_change(sal_probe_problem *pb, const double *zY, const double *dz)
{
    double sum = 0;
    int C = pb->C;
    int64_t ldz = pb->ldz;
    for (int64_t i = 0; i < pb->lz; i++) {
        double zmax = zY[i], big = 0;
        for (int c = 1; c < C; c++)
            zmax = fmax(zmax, zY[i + c * ldz]);
        for (int c = 0; c < C; c++)
            big = fmax(big, fabs(dz[i + c * ldz]));
        double s = 0, t = 0;
        if (big <= 1) {
            for (int c = 0; c < C; c++) {
                double e = exp(zY[i + c * ldz] - zmax);
                s += e;
                t += e * expm1(dz[i + c * ldz]);
            }
            sum += log1p(t / s) - dz[i + pb->ly[i] * ldz];
            continue;
        }
        double wmax = zY[i] + dz[i];
        for (int c = 1; c < C; c++)
            wmax = fmax(wmax, zY[i + c * ldz] + dz[i + c * ldz]);
        for (int c = 0; c < C; c++) {
            s += exp(zY[i + c * ldz] - zmax);
            t += exp(zY[i + c * ldz] + dz[i + c * ldz] - wmax);
        }
        sum += (wmax + log(t)) - (zmax + log(s)) - dz[i + pb->ly[i] * ldz];
    }
    MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, pb->comm);
    return sum / (double)pb->N;
}

#define REFRESH_EVERY 50 /* iterations between exact recomputations of the logits */

sal_status sal_probe_solve(sal_probe_problem *pb, const sal_probe_params *p,
                           const sal_probe *warm, sal_probe *out)
{
    const char *msg = sal_probe_check(p);
    memset(out, 0, sizeof(*out));
    if (msg)
        return sal_fail(SAL_ERR_ARG, "%s", msg);
    int C = pb->C, rank;
    int64_t D = pb->D, n = D * C, lzc = pb->ldz * C;
    MPI_Comm_rank(pb->comm, &rank);
    double t0 = MPI_Wtime();
    pb->gemms = 0;
    /* iterates in C x D layout; z* are local logits; b* are raw biases */
    size_t vec = sizeof(double) * (size_t)n, zsz = sizeof(double) * (size_t)(lzc > 0 ? lzc : 1);
    size_t bsz = sizeof(double) * (size_t)C;
    double *W = malloc(vec), *Wp = malloc(vec), *Y = malloc(vec), *Wn = malloc(vec);
    double *G = malloc(vec), *Gc = malloc(vec), *V = malloc(vec), *Dt = malloc(vec);
    double *b = malloc(bsz), *bp = malloc(bsz), *by = malloc(bsz), *bn = malloc(bsz);
    double *gb = malloc(bsz), *delta = malloc(bsz), *db = malloc(bsz);
    double *zW = malloc(zsz), *zP = malloc(zsz), *zY = malloc(zsz), *dz = malloc(zsz);
    sal_status st = SAL_OK;
    if (!W || !Wp || !Y || !Wn || !G || !Gc || !V || !Dt || !b || !bp || !by || !bn || !gb ||
        !delta || !db || !zW || !zP || !zY || !dz) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a %lld x %d probe", (long long)D, C);
        goto done;
    }
    if (warm && warm->W && warm->D == D && warm->C == C) {
        for (int64_t j = 0; j < D; j++)
            for (int c = 0; c < C; c++)
                W[c + j * C] = warm->W[j + c * D];
        memcpy(b, warm->b, bsz);
    } else {
        memset(W, 0, vec);
        for (int c = 0; c < C; c++) /* the optimal bias of W = 0: log class frequencies */
            b[c] = log((double)pb->count[c] / (double)pb->N);
    }
    double l1 = p->lambda1, l2 = p->lambda2;
    forward(pb, W, b, zW);
    double fW = loss_grad(pb, zW, NULL, NULL);
    memcpy(Wp, W, vec);
    memcpy(bp, b, bsz);
    memcpy(zP, zW, zsz);
    /* the Gram metric majorizes at L = 1; the diagonal one may need more */
    const double *S = p->metric == SAL_PROBE_METRIC_DIAGONAL ? NULL : pb->S;
    double l_max = S ? 1 : 1e12;
    double tk = 1, tprev = 1, L = 1, viol = INFINITY, Fprev = fW + penalty(W, n, l1, l2);
    int it, converged = 0, since_refresh = 0;
    double last_step = INFINITY; /* gradient-unit size of the last step: (L/2) |S D|_inf */
    for (it = 1; it <= p->max_iter; it++) {
        if (it % 10 == 0) { /* a stop request (SIGTERM) ends the solve on every rank at once */
            int stop = sal_stop_requested();
            MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, pb->comm);
            if (stop) {
                st = sal_fail(SAL_ERR_INTERRUPTED, "probe interrupted after %d iterations", it);
                break;
            }
        }
        double beta = (tprev - 1) / tk;
        if (beta > 0) {
            for (int64_t i = 0; i < n; i++)
                Y[i] = W[i] + beta * (W[i] - Wp[i]);
            for (int c = 0; c < C; c++)
                by[c] = b[c] + beta * (b[c] - bp[c]);
            for (int64_t i = 0; i < lzc; i++)
                zY[i] = zW[i] + beta * (zW[i] - zP[i]);
        } else {
            if (since_refresh >= REFRESH_EVERY) { /* drop the rounding of summed steps */
                forward(pb, W, b, zW);
                fW = loss_grad(pb, zW, NULL, NULL);
                since_refresh = 0;
            }
            memcpy(Y, W, vec);
            memcpy(by, b, bsz);
            memcpy(zY, zW, zsz);
        }
        double fY = loss_grad(pb, zY, G, gb);
        if (last_step == INFINITY) {
            last_step = 0;
            for (int64_t i = 0; i < n; i++)
                last_step = fmax(last_step, fabs(G[i]));
        }
        if (beta == 0) {
            viol = violation(W, G, gb, n, C, l1, l2);
            if (viol < p->tol) {
                converged = 1;
                break;
            }
        }
        /* centered gradient, and the bias in centered form: b_c = b_raw + W^T mu */
        for (int64_t j = 0; j < D; j++)
            for (int c = 0; c < C; c++)
                Gc[c + j * C] = G[c + j * C] - pb->mu[j] * gb[c];
        double df, quad, lin;
        int descended, rejected = 0;
        for (;;) {
            /* inexact steps: the inner tolerance follows the size of the last step
             * (errors that shrink with the steps keep the outer method convergent) */
            double tol_in = fmax(0.1 * p->tol, 0.1 * last_step);
            quad = prox_cd(S, pb->var, D, C, Y, Gc, L, l1, l2, tol_in, Wn, V, delta);
            lin = 0;
            for (int64_t i = 0; i < n; i++) {
                Dt[i] = Wn[i] - Y[i];
                lin += Gc[i] * Dt[i];
            }
            /* centered bias step, converted back to raw: b_raw = b_c - W^T mu */
            for (int c = 0; c < C; c++) {
                double step = -2 * gb[c] / L, shift = 0;
                quad += 0.25 * L * step * step;
                lin += gb[c] * step;
                for (int64_t j = 0; j < D; j++)
                    shift += Dt[c + j * C] * pb->mu[j];
                db[c] = step - shift;
                bn[c] = by[c] + db[c];
            }
            forward_delta(pb, Dt, db, dz);
            df = loss_change(pb, zY, dz);
            descended = df <= lin + quad;
            if (descended || L >= l_max)
                break;
            L = fmin(l_max, 2 * L);
            rejected = 1;
        }
        if (!descended && beta == 0) /* a majorized step that cannot descend: rounding */
            break;
        /* gradient restart (O'Donoghue & Candes): the step turns back against the last
         * move, measured in the metric: <S (Y - Wn), Wn - W> > 0 */
        double turn = 0;
        for (int64_t j = 0; j < D; j++)
            for (int c = 0; c < C; c++)
                turn -= V[j + c * D] * (Wn[c + j * C] - W[c + j * C]);
        double *sw;
        sw = Wp, Wp = W, W = Wn, Wn = sw;
        sw = bp, bp = b, b = bn, bn = sw;
        sw = zP, zP = zW, zW = sw;
        for (int64_t i = 0; i < lzc; i++)
            zW[i] = zY[i] + dz[i];
        fW = fY + df;
        since_refresh++;
        /* function restart too (O'Donoghue & Candes): momentum that raised the objective
         * is dropped. The gradient test alone let the extrapolation run away on
         * activations whose loss is flat along large-variance directions (L shrank to
         * 1e-5 and the objective climbed from 2.5 into the thousands on a
         * random-weights model). */
        double Fnew = fW + penalty(W, n, l1, l2);
        if (Fnew > Fprev + 1e-9 * fmax(1, fabs(Fprev))) /* beyond rounding of summed steps */
            turn = 1;
        Fprev = Fnew;
        if (turn > 0 || !descended) {
            tk = tprev = 1;
        } else {
            double tn = (1 + sqrt(1 + 4 * tk * tk)) / 2;
            tprev = tk;
            tk = tn;
        }
        L = fmax(L_MIN, L * (rejected ? L_SHRINK_SLOW : L_SHRINK));
        if (p->verbose && rank == 0 && it % 50 == 0)
            fprintf(stderr, "probe: iteration %d objective %.12g L %.3g\n", it,
                    fW + penalty(W, n, l1, l2), L);
        /* the step is small: check optimality at W exactly */
        double vmax = 0;
        for (int64_t i = 0; i < n; i++)
            vmax = fmax(vmax, fabs(V[i]));
        last_step = 0.5 * L * vmax;
        if (last_step < p->tol) {
            loss_grad(pb, zW, G, gb);
            viol = violation(W, G, gb, n, C, l1, l2);
            if (viol < p->tol) {
                converged = 1;
                break;
            }
        }
    }
    /* the reported figures come from logits computed afresh */
    forward(pb, W, b, zW);
    fW = loss_grad(pb, zW, G, gb);
    viol = violation(W, G, gb, n, C, l1, l2);
    converged = viol < p->tol;
    out->D = D;
    out->C = C;
    out->W = malloc(vec);
    out->b = malloc(bsz);
    if (!out->W || !out->b) {
        sal_probe_free(out);
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t j = 0; j < D; j++)
        for (int c = 0; c < C; c++)
            out->W[j + c * D] = W[c + j * C];
    memcpy(out->b, b, bsz);
    out->loss = fW;
    out->objective = fW + penalty(W, n, l1, l2);
    out->violation = viol;
    out->iterations = it > p->max_iter ? p->max_iter : it;
    out->gemms = pb->gemms;
    out->seconds = MPI_Wtime() - t0;
    if (!converged && st == SAL_OK)
        st = sal_fail(SAL_ERR_NOCONV,
                      "probe stopped after %d iterations with optimality violation %.3g "
                      "(tolerance %.3g)",
                      out->iterations, viol, p->tol);
done:
    free(W), free(Wp), free(Y), free(Wn), free(G), free(Gc), free(V), free(Dt);
    free(b), free(bp), free(by), free(bn), free(gb), free(delta), free(db);
    free(zW), free(zP), free(zY), free(dz);
    return sal_agree(st, pb->comm);
}

sal_status sal_probe_predict(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                             int32_t *pred)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t N = X->desc[SAL_M], D = X->desc[SAL_N];
    int C = pr->C;
    sal_status st = SAL_OK;
    sal_pmat Wp = {0}, Z = {0};
    if (D != pr->D) {
        st = sal_fail(SAL_ERR_ARG, "probe has %lld neurons, data has %lld", (long long)pr->D,
                      (long long)D);
        goto done;
    }
    if ((st = sal_pmat_init(&Wp, g, D, C, X->desc[SAL_NB], C)) ||
        (st = sal_pmat_init(&Z, g, N, C, X->desc[SAL_MB], C)))
        goto done;
    sal_pmat_scatter_replicated(&Wp, pr->W, D);
    int m = (int)N, n = C, k = (int)D, one = 1;
    double alpha = 1, beta = 0;
    pdgemm_("N", "N", &m, &n, &k, &alpha, X->a, &one, &one, X->desc, Wp.a, &one, &one,
            Wp.desc, &beta, Z.a, &one, &one, Z.desc);
    for (int64_t i = 0; i < N; i++)
        pred[i] = -1;
    if (Z.lcols == C) {
        int64_t ld = Z.desc[SAL_LLD];
        for (int64_t i = 0; i < Z.lrows; i++) {
            int best = 0;
            double bz = Z.a[i] + pr->b[0];
            for (int c = 1; c < C; c++)
                if (Z.a[i + c * ld] + pr->b[c] > bz) {
                    bz = Z.a[i + c * ld] + pr->b[c];
                    best = c;
                }
            pred[sal_pmat_grow(&Z, i)] = best;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, pred, (int)N, MPI_INT32_T, MPI_MAX, comm);
done:
    sal_pmat_free(&Wp);
    sal_pmat_free(&Z);
    return sal_agree(st, comm);
}
