/*
 * probe.c - the elastic-net multinomial logistic probe, solved to optimality.
 *
 * Objective (SCIENCE.md section 2), W (D x C), b (C), y_i in [0, C):
 *
 *   F(W, b) = (1/N) sum_i [ logsumexp(z_i) - z_{i,y_i} ] + lambda1 ||W||_1 + lambda2 ||W||_F^2,
 *   z_i = W^T x_i + b.
 *
 * Method: L-BFGS-B (Byrd, Lu, Nocedal & Zhu, SIAM J. Sci. Comput. 1995; the Fortran
 * 3.0 code of Zhu et al., ACM TOMS 1997 and Morales & Nocedal 2011, from Debian's
 * liblbfgsb) on the split form W = P - M, P, M >= 0, where the objective is smooth:
 *   f(P - M, b) + lambda1 sum (P + M) + lambda2 ||P - M||^2.
 * Why this, measured on real activations (USE-lite embedding layer on 2,000 Brown
 * sentences, 32k tokens x 256 neurons x 79 base-tag classes, lambda1 = lambda2 = 1e-5,
 * tolerance 1e-6), one rank:
 *  - the previous engine, accelerated proximal gradient in the centered Gram metric
 *    with Boehning's curvature bound (1/2 for every class), did not reach the tolerance
 *    in 15 minutes: the bound is worst case, and rare or confidently predicted classes
 *    have orders of magnitude less curvature than frequent ones;
 *  - the same with a per-class curvature mean p_c (1 - p_c) in place of the bound: 1,400
 *    iterations and still 2e-3 above the optimum (a shared scale per class does not
 *    describe where a rare class's few tokens lie);
 *  - orthant-wise L-BFGS (OWL-QN, Andrew & Gao 2007) with the Gram matrix as initial
 *    Hessian: 250 iterations and 4e-3 above the optimum; an orthant-wise Newton-CG with
 *    the same preconditioner took steps cut to 1/32 by its line search (the quadratic
 *    model fails on near-separable classes);
 *  - L-BFGS-B with 10 pairs: 464 iterations; with 30 pairs: 302 iterations, 612
 *    products. It moves weights through zero and onto it through its generalized
 *    Cauchy point, which the orthant-wise methods did poorly with half the weights at
 *    zero at the optimum. Scaling variables by neuron standard deviation made it
 *    slower.
 * The pieces around it:
 *  - Columns are centered (x~ = x - mu): the bias is unpenalized, so this leaves the
 *    optimum unchanged (b_raw = b - W^T mu) and removes the mean directions that make
 *    raw activations ill-conditioned. The products multiply the raw X and subtract the
 *    mean term, so no centered copy of X is held.
 *  - One function-and-gradient evaluation is one forward product X W and one backward
 *    product X^T R over the local rows (dgemm), the softmax in between, and one
 *    reduction of the D x C gradient over the grid, whatever the grid's shape. Every
 *    process runs the same L-BFGS-B arithmetic on the same replicated numbers, so all
 *    processes hold the same iterate without further messages.
 *  - The stopping rule is ours, checked at every iterate, not L-BFGS-B's: the largest
 *    violation of the optimality conditions
 *      w != 0: |g + lambda1 sign(w) + 2 lambda2 w|,   w == 0: max(0, |g| - lambda1),
 *      bias: |g_b|,
 *    with g the gradient of the smooth part for the raw activations (g~ + mu g_b^T).
 *  - The mean term mu g_b^T multiplies the bias gradient by neuron means of up to 40,
 *    and L-BFGS-B cannot push g_b below the rounding of the total objective; so when
 *    only that term is left, or L-BFGS-B stops by its own tests, Newton's method on the
 *    bias alone (no products: the logits move by the bias change) takes g_b to
 *    rounding level, and L-BFGS-B starts again from there (at most MAX_RESTARTS
 *    times, each of which must lower the violation).
 *  - L-BFGS-B's line search sees only values of F, and near the optimum a step's
 *    decrease falls below the rounding of F (1e-16 of a value near 1): it stops short
 *    (tolerance 1e-9 was out of reach). After such a stop the values it is given are
 *    relative to the restart point, F(x) - F(x_r), computed from the change of the
 *    logits row by row (log1p/expm1), accurate to the size of the change.
 */
#include "salient/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info);

#define LBFGS_M 30       /* L-BFGS-B's correction pairs (10 took 1.5x the iterations) */
#define MAX_RESTARTS 20  /* fresh starts after L-BFGS-B stops short of the tolerance */

struct sal_probe_problem {
    const sal_pmat *X;
    MPI_Comm comm;      /* the grid's communicator */
    MPI_Comm rowcomm;   /* processes that hold the same rows (one grid row); only when
                           the columns are split (npcol > 1) */
    int npcol;
    int64_t N, D;
    int C;
    int64_t lr, lc, ldx; /* local rows and columns of X, its leading dimension */
    int64_t *gcol;      /* global column of each local column */
    int own_rows;       /* counts its rows' loss and bias gradient (first grid column) */
    int32_t *ly;        /* labels of the local rows */
    int64_t *count;     /* examples per class */
    double *mu;         /* D column means */
    double *Wl;         /* lc x C: the local rows of a weight matrix, for the products */
    double *Gl;         /* lc x C: local part of a gradient */
    double *Gfull;      /* D x C + C + 1: reduction buffer [G | gb | extra] */
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
    if (pb->rowcomm != MPI_COMM_NULL)
        MPI_Comm_free(&pb->rowcomm);
    free(pb->gcol);
    free(pb->ly);
    free(pb->count);
    free(pb->mu);
    free(pb->Wl);
    free(pb->Gl);
    free(pb->Gfull);
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
    pb->rowcomm = MPI_COMM_NULL;
    pb->X = X;
    pb->comm = sal_grid_comm(g);
    pb->npcol = sal_grid_npcol(g);
    pb->N = X->desc[SAL_M];
    pb->D = X->desc[SAL_N];
    pb->C = nclasses;
    pb->lr = X->lrows;
    pb->lc = X->lcols;
    pb->ldx = X->desc[SAL_LLD];
    pb->own_rows = sal_grid_mycol(g) == 0;
    /* the row communicator is made first, by every process, so that no early exit
     * leaves a collective half done; a tall grid (npcol = 1) needs none */
    if (pb->npcol > 1)
        MPI_Comm_split(pb->comm, sal_grid_myrow(g), sal_grid_mycol(g), &pb->rowcomm);
    double *var = NULL; /* sal_pmat_col_stats's variances: not needed past the check */
    if (nclasses < 2) {
        st = sal_fail(SAL_ERR_FORMAT, "a probe needs at least 2 classes, got %d", nclasses);
        goto done;
    }
    if (pb->N < 1 || pb->D < 1) {
        st = sal_fail(SAL_ERR_FORMAT, "empty training matrix (%lld x %lld)", (long long)pb->N,
                      (long long)pb->D);
        goto done;
    }
    size_t C = (size_t)nclasses, lc1 = (size_t)(pb->lc > 0 ? pb->lc : 1);
    pb->count = calloc(C, sizeof(*pb->count));
    pb->mu = calloc((size_t)pb->D, sizeof(*pb->mu));
    var = calloc((size_t)pb->D, sizeof(*var));
    pb->gcol = malloc(sizeof(*pb->gcol) * lc1);
    pb->ly = malloc(sizeof(*pb->ly) * (size_t)(pb->lr > 0 ? pb->lr : 1));
    pb->Wl = malloc(sizeof(*pb->Wl) * lc1 * C);
    pb->Gl = malloc(sizeof(*pb->Gl) * lc1 * C);
    pb->Gfull = malloc(sizeof(*pb->Gfull) * ((size_t)pb->D * C + C + 1));

    if (!pb->count || !pb->mu || !var || !pb->gcol || !pb->ly || !pb->Wl || !pb->Gl ||
        !pb->Gfull) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a %lld-neuron, %d-class probe",
                      (long long)pb->D, nclasses);
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
    for (int64_t i = 0; i < pb->lr; i++)
        pb->ly[i] = y[sal_pmat_grow(X, i)];
    for (int64_t j = 0; j < pb->lc; j++)
        pb->gcol[j] = sal_pmat_gcol(X, j);
    /* from here on every failure is agreed before the next collective call */
    if ((st = sal_agree(st, pb->comm)))
        goto agreed;
    if ((st = sal_pmat_col_stats(X, pb->comm, pb->mu, var)))
        goto agreed;

done:
    st = sal_agree(st, pb->comm);
agreed:
    free(var);
    if (st) {
        sal_probe_problem_free(pb);
        return st;
    }
    *out = pb;
    return SAL_OK;
}

/* ---- the two products ---------------------------------------------------------- */

/* Centered logits z = (X - 1 mu^T) W + 1 bc^T of the local rows into z (lr x C),
 * W the full D x C matrix (replicated). The raw X is multiplied and the mean term
 * subtracted (in double the difference loses nothing that matters: the mean term is
 * one number per class). Collective over the grid (a reduction along grid rows when
 * the columns are split). */
static void forward(sal_probe_problem *pb, const double *W, const double *bc, double *z)
{
    int64_t lr = pb->lr, lc = pb->lc, D = pb->D;
    int C = pb->C;
    double shift[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int64_t j = 0; j < lc; j++) {
            double w = W[pb->gcol[j] + c * D];
            pb->Wl[j + c * lc] = w;
            s += pb->mu[pb->gcol[j]] * w;
        }
        shift[c] = s;
    }
    if (lr > 0) {
        if (lc > 0) {
            int m = (int)lr, n = C, k = (int)lc, lda = (int)pb->ldx, ldb = (int)lc;
            double one = 1, zero = 0;
            dgemm_("N", "N", &m, &n, &k, &one, pb->X->a, &lda, pb->Wl, &ldb, &zero, z, &m);
        } else {
            memset(z, 0, sizeof(*z) * (size_t)(lr * C));
        }
        for (int c = 0; c < C; c++)
            for (int64_t i = 0; i < lr; i++)
                z[i + c * lr] -= shift[c];
    }
    if (pb->npcol > 1)
        MPI_Allreduce(MPI_IN_PLACE, z, (int)(lr * C), MPI_DOUBLE, MPI_SUM, pb->rowcomm);
    for (int c = 0; c < C; c++)
        for (int64_t i = 0; i < lr; i++)
            z[i + c * lr] += bc[c];
    pb->gemms++;
}

/* This process's share of the mean cross-entropy of the local logits z (lr x C): the
 * grid's sum of these is the loss (processes that repeat rows give 0). With r != NULL
 * also the residuals r = (softmax(z) - onehot(y)) / N of the local rows. Not
 * collective. */
static double loss_resid_local(sal_probe_problem *pb, const double *z, double *r)
{
    int64_t lr = pb->lr;
    int C = pb->C;
    double loss = 0, invn = 1.0 / (double)pb->N;
    for (int64_t i = 0; i < lr; i++) {
        double zmax = z[i];
        for (int c = 1; c < C; c++)
            zmax = fmax(zmax, z[i + c * lr]);
        double s = 0;
        if (r) {
            for (int c = 0; c < C; c++)
                s += r[i + c * lr] = exp(z[i + c * lr] - zmax);
            double inv = invn / s;
            for (int c = 0; c < C; c++)
                r[i + c * lr] *= inv;
            r[i + pb->ly[i] * lr] -= invn;
        } else {
            for (int c = 0; c < C; c++)
                s += exp(z[i + c * lr] - zmax);
        }
        loss += zmax + log(s) - z[i + pb->ly[i] * lr];
    }
    return pb->own_rows ? loss * invn : 0;
}

/* The mean cross-entropy (summed over the grid) and, with r != NULL, the residuals of
 * the local rows. Collective. */
static double loss_resid(sal_probe_problem *pb, const double *z, double *r)
{
    double loss = loss_resid_local(pb, z, r);
    MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, pb->comm);
    return loss;
}

/* Gradient of the mean cross-entropy from the residuals r (lr x C): G = X~^T r (D x C,
 * replicated; centered activations) and gb = 1^T r, in one reduction over the grid that
 * also sums *extra (each process's share of the loss, say; NULL: nothing). Collective. */
static void backward(sal_probe_problem *pb, const double *r, double *G, double *gb,
                     double *extra)
{
    int64_t lr = pb->lr, lc = pb->lc, D = pb->D;
    int C = pb->C;
    double rs[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int64_t i = 0; i < lr; i++)
            s += r[i + c * lr];
        rs[c] = s;
    }
    if (lc > 0) {
        if (lr > 0) {
            int m = (int)lc, n = C, k = (int)lr, lda = (int)pb->ldx, ldb = (int)lr;
            double one = 1, zero = 0;
            dgemm_("T", "N", &m, &n, &k, &one, pb->X->a, &lda, r, &ldb, &zero, pb->Gl, &m);
        } else {
            memset(pb->Gl, 0, sizeof(*pb->Gl) * (size_t)(lc * C));
        }
    }
    /* [G | gb | extra] in one buffer, one reduction */
    double *Gf = pb->Gfull;
    if (lc != D)
        memset(Gf, 0, sizeof(*Gf) * (size_t)(D * C));
    for (int c = 0; c < C; c++)
        for (int64_t j = 0; j < lc; j++)
            Gf[pb->gcol[j] + c * D] = pb->Gl[j + c * lc] - pb->mu[pb->gcol[j]] * rs[c];
    for (int c = 0; c < C; c++)
        Gf[D * C + c] = pb->own_rows ? rs[c] : 0;
    Gf[D * C + C] = extra ? *extra : 0;
    MPI_Allreduce(MPI_IN_PLACE, Gf, (int)(D * C + C + 1), MPI_DOUBLE, MPI_SUM, pb->comm);
    memcpy(G, Gf, sizeof(*G) * (size_t)(D * C));
    memcpy(gb, Gf + D * C, sizeof(*gb) * (size_t)C);
    if (extra)
        *extra = Gf[D * C + C];
    pb->gemms++;
}

/* ---- the objective's pieces ---------------------------------------------------- */

static double penalty(const double *W, int64_t n, double l1, double l2)
{
    double a = 0, q = 0;
    for (int64_t i = 0; i < n; i++) {
        a += fabs(W[i]);
        q += W[i] * W[i];
    }
    return l1 * a + l2 * q;
}

/* The largest optimality violation of W (D x C, n entries) given the gradient G of the
 * mean cross-entropy and the bias gradient gb: the infinity norm of the pseudo-gradient
 * (the minimum-norm subgradient of F), the rule of SCIENCE.md section 2 when G is the
 * raw gradient. */
static double pseudo_gradient(const double *W, const double *G, const double *gb, int64_t n,
                              int C, double l1, double l2)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = G[i] + 2 * l2 * W[i], e;
        if (W[i] > 0)
            e = g + l1;
        else if (W[i] < 0)
            e = g - l1;
        else
            e = g + l1 < 0 ? g + l1 : (g - l1 > 0 ? g - l1 : 0);
        m = fmax(m, fabs(e));
    }
    for (int c = 0; c < C; c++)
        m = fmax(m, fabs(gb[c]));
    return m;
}

/* The violation for the raw activations: g_raw = g~ + mu gb^T (the centered gradient
 * misses the mean term, which vanishes only at the optimum). */
static double raw_violation(const sal_probe_problem *pb, const double *W, const double *G,
                            const double *gb, double l1, double l2, double *tmp)
{
    int64_t D = pb->D;
    int C = pb->C;
    for (int c = 0; c < C; c++)
        for (int64_t j = 0; j < D; j++)
            tmp[j + c * D] = G[j + c * D] + pb->mu[j] * gb[c];
    return pseudo_gradient(W, tmp, gb, D * C, C, l1, l2);
}

/* The bias for the other parametrization: centered from raw (sign +1: b_c = b_raw +
 * W^T mu) or raw from centered (sign -1: b_raw = b_c - W^T mu). W is D x C. */
static void convert_bias(const sal_probe_problem *pb, const double *W, const double *b,
                         double sign, double *out)
{
    for (int c = 0; c < pb->C; c++) {
        double s = b[c];
        for (int64_t j = 0; j < pb->D; j++)
            s += sign * (pb->mu[j] * W[j + c * pb->D]);
        out[c] = s;
    }
}

sal_status sal_probe_evaluate(sal_probe_problem *pb, const sal_probe_params *p,
                              const double *W, const double *b, double *objective,
                              double *loss, double *violation_out)
{
    int C = pb->C;
    int64_t D = pb->D, n = D * C, lr = pb->lr;
    double *G = malloc(sizeof(*G) * (size_t)n), *T = malloc(sizeof(*T) * (size_t)n);
    double *bc = malloc(sizeof(*bc) * (size_t)C), *gb = malloc(sizeof(*gb) * (size_t)C);
    double *z = malloc(sizeof(*z) * (size_t)(lr > 0 ? lr * C : 1));
    double *r = malloc(sizeof(*r) * (size_t)(lr > 0 ? lr * C : 1));
    sal_status st = SAL_OK;
    if (!G || !T || !bc || !gb || !z || !r) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    convert_bias(pb, W, b, 1, bc);
    forward(pb, W, bc, z);
    double f = loss_resid_local(pb, z, r);
    backward(pb, r, G, gb, &f);
    *loss = f;
    *objective = *loss + penalty(W, n, p->lambda1, p->lambda2);
    *violation_out = raw_violation(pb, W, G, gb, p->lambda1, p->lambda2, T);
done:
    free(G), free(T), free(bc), free(gb), free(z), free(r);
    return sal_agree(st, pb->comm);
}

/* This process's share of f(z + dz) - f(z) for the local logits, without cancellation:
 * lse(z + dz) - lse(z) = log1p(sum_c p_c expm1(dz_c)) with p = softmax(z) for a small
 * change; for a large one (|dz_c| > 1 somewhere) the two log-sum-exps are taken apart,
 * which then loses nothing. Accurate relative to the change, not to f. Not collective. */
static double loss_change_local(const sal_probe_problem *pb, const double *z, const double *dz)
{
    double sum = 0;
    int C = pb->C;
    int64_t lr = pb->lr;
    for (int64_t i = 0; i < lr && pb->own_rows; i++) {
        double zmax = z[i], big = 0;
        for (int c = 1; c < C; c++)
            zmax = fmax(zmax, z[i + c * lr]);
        for (int c = 0; c < C; c++)
            big = fmax(big, fabs(dz[i + c * lr]));
        double s = 0, t = 0;
        if (big <= 1) {
            for (int c = 0; c < C; c++) {
                double e = exp(z[i + c * lr] - zmax);
                s += e;
                t += e * expm1(dz[i + c * lr]);
            }
            sum += log1p(t / s) - dz[i + pb->ly[i] * lr];
            continue;
        }
        double wmax = z[i] + dz[i];
        for (int c = 1; c < C; c++)
            wmax = fmax(wmax, z[i + c * lr] + dz[i + c * lr]);
        for (int c = 0; c < C; c++) {
            s += exp(z[i + c * lr] - zmax);
            t += exp(z[i + c * lr] + dz[i + c * lr] - wmax);
        }
        sum += (wmax + log(t)) - (zmax + log(s)) - dz[i + pb->ly[i] * lr];
    }
    return sum / (double)pb->N;
}

/* ---- L-BFGS-B on the split form ------------------------------------------------ */

/* L-BFGS-B 3.0 (Zhu, Byrd, Lu & Nocedal, ACM TOMS 1997; Morales & Nocedal 2011), the
 * Fortran reverse-communication driver from Debian's liblbfgsb. */
void setulb_(const int *n, const int *m, double *x, const double *l, const double *u,
             const int *nbd, double *f, double *g, const double *factr, const double *pgtol,
             double *wa, int *iwa, char *task, const int *iprint, char *csave, int *lsave,
             int *isave, double *dsave, size_t task_len, size_t csave_len);

static void set_task(char *task, const char *word)
{
    memset(task, ' ', 60);
    memcpy(task, word, strlen(word));
}

/* The split problem's gradient gxi (P part, M part, bias) from the mean cross-entropy's
 * gradient G (W part, then bias) at W. */
static void split_gradient(int64_t nw, int C, double l1, double l2, const double *W,
                           const double *G, double *gxi)
{
    for (int64_t i = 0; i < nw; i++) {
        double g = G[i] + 2 * l2 * W[i];
        gxi[i] = g + l1;
        gxi[nw + i] = l1 - g;
    }
    for (int c = 0; c < C; c++)
        gxi[2 * nw + c] = G[nw + c];
}

/* The split problem's value and gradient at xi = (P, M, centered bias): W = P - M,
 * objective f(W, b) + lambda1 sum (P + M) + lambda2 ||W||^2, gradient into gxi. Leaves
 * (W, bias) in W, the logits in z, the residuals in r and the mean cross-entropy's
 * gradient (W part, then bias part) in G. Collective. */
static double split_value(sal_probe_problem *pb, const double *xi, double l1, double l2,
                          double *W, double *z, double *r, double *G, double *gxi)
{
    int64_t nw = pb->D * pb->C;
    int C = pb->C;
    double pen = 0;
    for (int64_t i = 0; i < nw; i++) {
        W[i] = xi[i] - xi[nw + i];
        pen += l1 * (xi[i] + xi[nw + i]) + l2 * W[i] * W[i];
    }
    for (int c = 0; c < C; c++)
        W[nw + c] = xi[2 * nw + c];
    forward(pb, W, W + nw, z);
    double f = loss_resid_local(pb, z, r);
    backward(pb, r, G, G + nw, &f); /* the loss travels with the gradient */
    split_gradient(nw, C, l1, l2, W, G, gxi);
    return f + pen;
}

/* The same split problem, its value taken relative to a reference point xr whose local
 * logits are zr: F(xi) - F(xr), computed from the change of the logits (one forward
 * product of the change) so that it is accurate to the size of the change, not to
 * rounding of F. Near the optimum the decrease of a step falls below the rounding of F
 * (1e-16 of a value near 1), and L-BFGS-B's line search, which sees only values, then
 * stops short; this lets a restart from a near-optimal point go on. dz is lr x C work
 * space. Collective. */
static double split_value_diff(sal_probe_problem *pb, const double *xi, const double *xr,
                               const double *zr, double l1, double l2, double *W, double *z,
                               double *dz, double *r, double *G, double *gxi)
{
    int64_t nw = pb->D * pb->C, lz = pb->lr * pb->C;
    int C = pb->C;
    double pen = 0;
    for (int64_t i = 0; i < nw; i++) { /* W holds the change first */
        double w = xi[i] - xi[nw + i], wr = xr[i] - xr[nw + i];
        W[i] = w - wr;
        pen += l1 * ((xi[i] - xr[i]) + (xi[nw + i] - xr[nw + i])) + l2 * (w - wr) * (w + wr);
    }
    for (int c = 0; c < C; c++)
        W[nw + c] = xi[2 * nw + c] - xr[2 * nw + c];
    forward(pb, W, W + nw, dz);
    for (int64_t i = 0; i < lz; i++)
        z[i] = zr[i] + dz[i];
    double f = loss_change_local(pb, zr, dz);
    loss_resid_local(pb, z, r);
    backward(pb, r, G, G + nw, &f);
    for (int64_t i = 0; i < nw; i++)
        W[i] = xi[i] - xi[nw + i];
    for (int c = 0; c < C; c++)
        W[nw + c] = xi[2 * nw + c];
    split_gradient(nw, C, l1, l2, W, G, gxi);
    return f + pen;
}

/* Newton's method on the centered bias alone, W fixed: the logits move by the bias
 * change, so no product is needed, only the rows' softmax. The optimality rule is on
 * the raw gradient g + mu gb^T, whose mean term L-BFGS-B cannot drive below the
 * rounding of the total objective (neuron means of 40 multiply the bias gradient);
 * here gb goes to rounding level in a few steps. Updates bc and the local logits z;
 * leaves the residuals r of the final point. Collective. */
static sal_status bias_newton(sal_probe_problem *pb, double *bc, double *z, double *r)
{
    int C = pb->C;
    int64_t lr = pb->lr;
    size_t cc = (size_t)C * (size_t)C;
    double *buf = malloc(sizeof(*buf) * (cc + (size_t)C + 1)), *step = malloc(sizeof(*step) * (size_t)C);
    sal_status st = buf && step ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
    if ((st = sal_agree(st, pb->comm)))
        goto done;
    double f = loss_resid(pb, z, r);
    for (int k = 0; k < 20; k++) {
        /* gradient gb (in r's column sums) and Hessian sum_i (diag p_i - p_i p_i^T) / N */
        double *H = buf, *gb = buf + cc;
        memset(buf, 0, sizeof(*buf) * (cc + (size_t)C));
        double n = (double)pb->N;
        for (int64_t i = 0; i < lr && pb->own_rows; i++) {
            int yi = pb->ly[i];
            for (int a = 0; a < C; a++) {
                double pa = n * r[i + a * lr] + (a == yi);
                gb[a] += r[i + a * lr];
                H[a + a * C] += pa / n;
                for (int b = 0; b < C; b++)
                    H[a + b * C] -= pa * (n * r[i + b * lr] + (b == yi)) / n;
            }
        }
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)(cc + (size_t)C), MPI_DOUBLE, MPI_SUM, pb->comm);
        double gmax = 0;
        for (int c = 0; c < C; c++)
            gmax = fmax(gmax, fabs(gb[c]));
        if (gmax < 1e-15)
            break;
        /* H is singular along 1 (softmax is shift invariant, and so is gb's sum): a
         * relative ridge keeps the solve defined without changing the step elsewhere */
        double tr = 0;
        for (int c = 0; c < C; c++)
            tr += H[c + c * C];
        for (int c = 0; c < C; c++) {
            H[c + c * C] += 1e-12 * tr + 1e-300;
            step[c] = -gb[c];
        }
        int nn = C, one = 1, info = 0;
        dposv_("U", &nn, &one, H, &nn, step, &nn, &info);
        if (info != 0)
            break;
        /* the exact step is orthogonal to 1 (gb sums to 0); rounding along 1, which
         * the ridge amplifies, would shift every bias at once: drop it */
        double mean = 0;
        for (int c = 0; c < C; c++)
            mean += step[c] / C;
        for (int c = 0; c < C; c++)
            step[c] -= mean;
        /* backtrack on the loss (exactly representable change: z += step) */
        double t = 1, fn = f;
        for (int bt = 0; bt < 30; bt++, t *= 0.5) {
            for (int c = 0; c < C; c++)
                for (int64_t i = 0; i < lr; i++)
                    z[i + c * lr] += t * step[c];
            fn = loss_resid(pb, z, r);
            if (fn <= f)
                break;
            for (int c = 0; c < C; c++)
                for (int64_t i = 0; i < lr; i++)
                    z[i + c * lr] -= t * step[c];
        }
        if (!(fn <= f)) {
            f = loss_resid(pb, z, r);
            break;
        }
        for (int c = 0; c < C; c++)
            bc[c] += t * step[c];
        f = fn;
    }
done:
    free(buf);
    free(step);
    return st;
}

/* Newton on the bias at the point (W, bias) whose logits are z, then the gradient G
 * there and the raw violation; the split iterate xi takes the new bias. Collective. */
static sal_status polish_bias(sal_probe_problem *pb, double l1, double l2, double *xi,
                              double *W, double *z, double *r, double *G, double *tmp,
                              double *viol)
{
    int64_t nw = pb->D * pb->C;
    sal_status st = bias_newton(pb, W + nw, z, r);
    if (st)
        return st;
    backward(pb, r, G, G + nw, NULL);
    memcpy(xi + 2 * nw, W + nw, sizeof(double) * (size_t)pb->C);
    *viol = raw_violation(pb, W, G, G + nw, l1, l2, tmp);
    return SAL_OK;
}

sal_status sal_probe_solve(sal_probe_problem *pb, const sal_probe_params *p,
                           const sal_probe *warm, sal_probe *out)
{
    const char *msg = sal_probe_check(p);
    memset(out, 0, sizeof(*out));
    if (msg)
        return sal_fail(SAL_ERR_ARG, "%s", msg);
    int C = pb->C, rank, m = LBFGS_M;
    int64_t D = pb->D, nw = D * C, nx = 2 * nw + C, lz = pb->lr * C;
    MPI_Comm_rank(pb->comm, &rank);
    double t0 = MPI_Wtime();
    pb->gemms = 0;
    size_t zsz = sizeof(double) * (size_t)(lz > 0 ? lz : 1);
    double *xi = malloc(sizeof(double) * (size_t)nx), *gxi = malloc(sizeof(double) * (size_t)nx);
    double *lo = calloc((size_t)nx, sizeof(double));
    double *W = malloc(sizeof(double) * (size_t)(nw + C)), *G = malloc(sizeof(double) * (size_t)(nw + C));
    double *tmp = malloc(sizeof(double) * (size_t)(nw + C));
    double *z = malloc(zsz), *r = malloc(zsz), *dz = malloc(zsz), *zr = malloc(zsz);
    double *xr = malloc(sizeof(double) * (size_t)nx);
    int *nbd = malloc(sizeof(int) * (size_t)nx), *iwa = malloc(sizeof(int) * 3 * (size_t)nx);
    double *wa = malloc(sizeof(double) *
                        ((size_t)(2 * m + 5) * (size_t)nx + 11 * (size_t)m * m + 8 * (size_t)m));
    sal_status st = SAL_OK;
    if (!xi || !gxi || !lo || !W || !G || !tmp || !z || !r || !dz || !zr || !xr || !nbd || !iwa || !wa)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a %lld x %d probe", (long long)D, C);
    if (nx > 2147483647)
        st = sal_fail(SAL_ERR_ARG, "a %lld x %d probe is too large for L-BFGS-B", (long long)D, C);
    if ((st = sal_agree(st, pb->comm)))
        goto done;
    double l1 = p->lambda1, l2 = p->lambda2;
    for (int64_t i = 0; i < nx; i++)
        nbd[i] = i < 2 * nw ? 1 : 0; /* P, M >= 0; the bias is free */
    if (warm && warm->W && warm->D == D && warm->C == C) {
        for (int64_t i = 0; i < nw; i++) {
            xi[i] = fmax(warm->W[i], 0);
            xi[nw + i] = fmax(-warm->W[i], 0);
        }
        convert_bias(pb, warm->W, warm->b, 1, xi + 2 * nw);
    } else {
        memset(xi, 0, sizeof(double) * (size_t)(2 * nw));
        for (int c = 0; c < C; c++) /* the optimal bias of W = 0: log class frequencies */
            xi[2 * nw + c] = log((double)pb->count[c] / (double)pb->N);
    }
    char task[60], csave[60];
    int lsave[4], isave[44], iprint = -1, n = (int)nx, it = 0, restarts = 0, polishes = 0;
    int relative = 0; /* 1: values relative to the point of the last restart (xr, zr) */
    double dsave[29], F = 0, factr = 0, pgtol = 0, viol = INFINITY, viol_at_start = INFINITY;
    set_task(task, "START");
    for (;;) {
        setulb_(&n, &m, xi, lo, lo, nbd, &F, gxi, &factr, &pgtol, wa, iwa, task, &iprint,
                csave, lsave, isave, dsave, 60, 60);
        if (!strncmp(task, "FG", 2)) {
            F = relative ? split_value_diff(pb, xi, xr, zr, l1, l2, W, z, dz, r, G, gxi)
                         : split_value(pb, xi, l1, l2, W, z, r, G, gxi);
            continue;
        }
        if (strncmp(task, "NEW_X", 5)) {
            /* L-BFGS-B stopped by its own tests: f no longer decreases in double
             * precision, or its line search found no decrease along a direction built
             * from stale pairs. Start it again from here with no pairs, as long as the
             * previous run improved the violation. */
            /* after a failed line search L-BFGS-B hands back its last iterate, not the
             * last point it asked for: evaluate there afresh */
            split_value(pb, xi, l1, l2, W, z, r, G, gxi);
            polishes++;
            if ((st = polish_bias(pb, l1, l2, xi, W, z, r, G, tmp, &viol)))
                break;
            if (viol < p->tol || it >= p->max_iter || restarts >= MAX_RESTARTS ||
                !(viol < viol_at_start))
                break;
            restarts++;
            viol_at_start = viol;
            /* from now on, values relative to this point: what stopped L-BFGS-B is
             * usually a decrease below the rounding of F */
            relative = 1;
            memcpy(xr, xi, sizeof(double) * (size_t)nx);
            memcpy(zr, z, zsz);
            set_task(task, "START");
            continue;
        }
        it++;
        /* the optimality check of W = P - M, for the raw activations, from the
         * gradient at this point (the last FG was here) */
        viol = raw_violation(pb, W, G, G + nw, l1, l2, tmp);
        if (viol >= p->tol &&
            pseudo_gradient(W, G, G + nw, nw, C, l1, l2) < 0.5 * p->tol) {
            /* only the bias's mean term is left: polish the bias, then go on from the
             * new point with a fresh L-BFGS-B (its state knew the old bias) */
            polishes++;
            if ((st = polish_bias(pb, l1, l2, xi, W, z, r, G, tmp, &viol)))
                break;
            if (viol >= p->tol) {
                set_task(task, "START");
                if (relative) { /* a new start needs a new reference */
                    memcpy(xr, xi, sizeof(double) * (size_t)nx);
                    memcpy(zr, z, zsz);
                }
            }
        }
        if (p->verbose && rank == 0 && it % 10 == 0)
            fprintf(stderr, "probe: iteration %d objective %.15g violation %.3g, %d products\n",
                    it, F, viol, pb->gemms);
        if (viol < p->tol || it >= p->max_iter)
            break;
        if (it % 5 == 0) { /* a stop request (SIGTERM) ends the solve on every rank at once */
            int stop = sal_stop_requested();
            MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, pb->comm);
            if (stop) {
                st = sal_fail(SAL_ERR_INTERRUPTED, "probe interrupted after %d iterations", it);
                break;
            }
        }
    }
    /* the reported figures come from logits computed afresh at W. The softmax ignores a
     * shift of every bias at once, so the biases are put in one canonical form: their
     * centered mean is that of the log class frequencies (a cold start's, which every
     * gradient step keeps), whatever the path, the start or the number of ranks. */
    double shift = 0;
    for (int c = 0; c < C; c++)
        shift += (log((double)pb->count[c] / (double)pb->N) - xi[2 * nw + c]) / C;
    for (int64_t i = 0; i < nw; i++)
        W[i] = xi[i] - xi[nw + i];
    for (int c = 0; c < C; c++)
        W[nw + c] = xi[2 * nw + c] + shift;
    forward(pb, W, W + nw, z);
    double f = loss_resid(pb, z, r);
    backward(pb, r, G, G + nw, NULL);
    viol = raw_violation(pb, W, G, G + nw, l1, l2, tmp);
    out->D = D;
    out->C = C;
    out->W = malloc(sizeof(double) * (size_t)nw);
    out->b = malloc(sizeof(double) * (size_t)C);
    if (!out->W || !out->b) {
        sal_probe_free(out);
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(out->W, W, sizeof(double) * (size_t)nw);
    convert_bias(pb, W, W + nw, -1, out->b);
    out->loss = f;
    out->objective = f + penalty(W, nw, l1, l2);
    out->violation = viol;
    out->iterations = it;
    out->gemms = pb->gemms;
    out->seconds = MPI_Wtime() - t0;
    if (p->verbose && rank == 0)
        fprintf(stderr, "probe: %d iterations, %d restarts of L-BFGS-B, %d bias polishes, "
                "%d products, %.2f s\n", it, restarts, polishes, pb->gemms, out->seconds);
    if (viol >= p->tol && st == SAL_OK)
        st = sal_fail(SAL_ERR_NOCONV,
                      "probe stopped after %d iterations with optimality violation %.3g "
                      "(tolerance %.3g; L-BFGS-B: %.40s)",
                      out->iterations, viol, p->tol, task);
done:
    free(xi), free(gxi), free(lo), free(W), free(G), free(tmp), free(z), free(r);
    free(dz), free(zr), free(xr);
    free(nbd), free(iwa), free(wa);
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
