/*
 * test-ridge.c - the ridge probe against independent truth:
 *  - a serial solution built here: two-pass column means, centered normal equations,
 *    LAPACK dposv; w and b agree to 1e-10 relative;
 *  - the gradient of the objective, recomputed serially from the raw X, is zero to
 *    rounding at the solution, and the reported objective matches a serial one;
 *  - predictions match X w + b computed serially;
 *  - several grids (the world grid, 2 x 2 when run with 4 ranks) and block sizes;
 *  - bad input (lambda2 < 0 or NaN, N < 2, NaN in X or y, collinear or constant
 *    neurons with lambda2 = 0) is refused with a message on every process.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/ridge.h"
#include "testutil.h"

void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info);


typedef struct problem {
    int64_t N, D;
    double *X; /* N x D column-major, full on every process */
    double *y;
} problem;

/* Activations like real ones: column means from -5 to 35 (a few up to 40), scales
 * from 0.1 to 10; y = 12 + a planted linear function of the centered activations of
 * every neuron + noise. */
static problem make_problem(uint64_t seed, int64_t N, int64_t D, double noise)
{
    problem p = {N, D, malloc(sizeof(*p.X) * (size_t)(N * D)), malloc(sizeof(*p.y) * (size_t)N)};
    rng_state = seed;
    double *mean = malloc(sizeof(*mean) * (size_t)D), *scale = malloc(sizeof(*scale) * (size_t)D);
    double *wt = malloc(sizeof(*wt) * (size_t)D);
    for (int64_t j = 0; j < D; j++) {
        mean[j] = j % 7 == 3 ? 40 : 40 * urand() - 5;
        scale[j] = pow(10, 2 * urand() - 1);
        wt[j] = nrand() / scale[j];
    }
    for (int64_t i = 0; i < N; i++) {
        double t = 12 + noise * nrand();
        for (int64_t j = 0; j < D; j++) {
            double x = mean[j] + scale[j] * nrand();
            p.X[i + j * N] = x;
            t += wt[j] * (x - mean[j]);
        }
        p.y[i] = t;
    }
    free(mean);
    free(scale);
    free(wt);
    return p;
}

static void free_problem(problem *p)
{
    free(p->X);
    free(p->y);
}

static void distribute(const problem *p, const sal_grid *g, int64_t mb, int64_t nb, sal_pmat *X)
{
    CHECK_OK(sal_pmat_init(X, g, p->N, p->D, mb, nb));
    sal_pmat_scatter_replicated(X, p->X, p->N);
}

/* Serial reference: centered normal equations solved by LAPACK's dposv. Returns info. */
static int serial_ridge(const problem *p, double lambda2, double *w, double *b, double *mu)
{
    int64_t N = p->N, D = p->D;
    double *Xc = malloc(sizeof(*Xc) * (size_t)(N * D)), *yc = malloc(sizeof(*yc) * (size_t)N);
    double *A = calloc((size_t)(D * D), sizeof(*A));
    for (int64_t j = 0; j < D; j++) {
        const double *x = p->X + j * N;
        double m = 0, c = 0;
        for (int64_t i = 0; i < N; i++)
            m += x[i];
        m /= (double)N;
        for (int64_t i = 0; i < N; i++)
            c += x[i] - m;
        mu[j] = m + c / (double)N;
        for (int64_t i = 0; i < N; i++)
            Xc[i + j * N] = x[i] - mu[j];
    }
    double ybar = 0, c = 0;
    for (int64_t i = 0; i < N; i++)
        ybar += p->y[i];
    ybar /= (double)N;
    for (int64_t i = 0; i < N; i++)
        c += p->y[i] - ybar;
    ybar += c / (double)N;
    for (int64_t i = 0; i < N; i++)
        yc[i] = p->y[i] - ybar;
    for (int64_t j = 0; j < D; j++) {
        for (int64_t k = 0; k <= j; k++) {
            double s = 0;
            for (int64_t i = 0; i < N; i++)
                s += Xc[i + k * N] * Xc[i + j * N];
            A[k + j * D] = A[j + k * D] = s / (double)N;
        }
        A[j + j * D] += lambda2;
        double s = 0;
        for (int64_t i = 0; i < N; i++)
            s += Xc[i + j * N] * yc[i];
        w[j] = s / (double)N;
    }
    int n = (int)D, one = 1, info;
    dposv_("U", &n, &one, A, &n, w, &n, &info);
    double muw = 0;
    for (int64_t j = 0; j < D; j++)
        muw += mu[j] * w[j];
    *b = ybar - muw;
    free(Xc);
    free(yc);
    free(A);
    return info;
}

/* Objective and the largest scaled gradient entry, serially from the raw X:
 * g_w = (2/N) X^T r + 2 lambda2 w, g_b = (2/N) 1^T r, r = X w + b - y.
 * Each entry is divided by the size of its rounding, (2/N) sum_i |x_ij| s_i with
 * s_i = sum_k |x_ik w_k| + |b| + |y_i| (+ 2 lambda2 |w_j|); the bias uses x_ij = 1. */
static void serial_check(const problem *p, const sal_ridge *r, double lambda2, double *obj,
                         double *gmax)
{
    int64_t N = p->N, D = p->D;
    double *res = malloc(sizeof(*res) * (size_t)N), *sz = malloc(sizeof(*sz) * (size_t)N);
    double ss = 0, ww = 0, gb = 0, sb = 0;
    for (int64_t i = 0; i < N; i++) {
        double t = r->b, s = fabs(r->b) + fabs(p->y[i]);
        for (int64_t j = 0; j < D; j++) {
            t += p->X[i + j * N] * r->w[j];
            s += fabs(p->X[i + j * N] * r->w[j]);
        }
        res[i] = t - p->y[i];
        sz[i] = s;
        ss += res[i] * res[i];
        gb += res[i];
        sb += s;
    }
    *gmax = fabs(gb) / sb;
    for (int64_t j = 0; j < D; j++) {
        double gj = 0, sj = 0;
        for (int64_t i = 0; i < N; i++) {
            gj += p->X[i + j * N] * res[i];
            sj += fabs(p->X[i + j * N]) * sz[i];
        }
        gj = 2 * gj / (double)N + 2 * lambda2 * r->w[j];
        sj = 2 * sj / (double)N + 2 * lambda2 * fabs(r->w[j]);
        *gmax = fmax(*gmax, fabs(gj) / sj);
        ww += r->w[j] * r->w[j];
    }
    *obj = ss / (double)N + lambda2 * ww;
    free(res);
    free(sz);
}

static void check_against_serial(const sal_grid *g, int rank, const char *gname)
{
    struct {
        int64_t N, D;
        double lambda2, noise;
        int64_t mb, nb;
    } cases[] = {
        {500, 20, 1e-2, 1.0, 37, 8},  {300, 40, 1e-5, 0.5, 64, 8},   {1000, 7, 0, 2.0, 37, 8},
        {50, 80, 1e-1, 1.0, 16, 16},  {2, 3, 1.0, 1.0, 1, 1},        {777, 33, 1e-3, 0.01, 100, 5},
        {400, 64, 0, 1.0, 37, 8},     {13, 5, 1e-4, 1.0, 4, 2},
    };
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        problem p = make_problem(200 + t, cases[t].N, cases[t].D, cases[t].noise);
        double l2 = cases[t].lambda2;
        int64_t D = p.D;
        double *wref = malloc(sizeof(*wref) * (size_t)D), *mu = malloc(sizeof(*mu) * (size_t)D);
        double bref;
        int info = serial_ridge(&p, l2, wref, &bref, mu);
        CHECK(info == 0, "case %zu: serial dposv info %d", t, info);
        sal_pmat X;
        distribute(&p, g, cases[t].mb, cases[t].nb, &X);
        sal_ridge r;
        sal_status st = sal_ridge_fit(&X, g, p.y, l2, &r);
        CHECK(st == SAL_OK, "case %zu: fit returned %s: %s", t, sal_status_str(st), sal_errmsg());
        if (st == SAL_OK) {
            double dw = 0, nw = 0, bscale = 0;
            for (int64_t j = 0; j < D; j++) {
                dw += (r.w[j] - wref[j]) * (r.w[j] - wref[j]);
                nw += wref[j] * wref[j];
                bscale += fabs(mu[j] * wref[j]);
            }
            double relw = sqrt(dw / nw);
            bscale += fabs(bref);
            double relb = fabs(r.b - bref) / bscale;
            CHECK(relw <= 1e-10, "case %zu: |w - w_ref| / |w_ref| = %.3g", t, relw);
            CHECK(relb <= 1e-10, "case %zu: b %.17g vs %.17g (scaled difference %.3g)", t, r.b,
                  bref, relb);
            double obj, gmax;
            serial_check(&p, &r, l2, &obj, &gmax);
            CHECK(gmax <= 1e-10, "case %zu: scaled gradient %.3g at the solution", t, gmax);
            CHECK(fabs(obj - r.objective) <= 1e-9 * obj, "case %zu: objective %.17g vs %.17g", t,
                  r.objective, obj);
            CHECK(r.D == D && r.lambda2 == l2, "case %zu: D %lld lambda2 %g", t, (long long)r.D,
                  r.lambda2);
            /* predictions, on a differently blocked copy of X */
            sal_pmat X2;
            distribute(&p, g, 11, 3, &X2);
            double *pred = malloc(sizeof(*pred) * (size_t)p.N), perr = 0;
            CHECK_OK(sal_ridge_predict(&r, &X2, g, pred));
            for (int64_t i = 0; i < p.N; i++) {
                double t2 = r.b, s = fabs(r.b);
                for (int64_t j = 0; j < D; j++) {
                    t2 += p.X[i + j * p.N] * r.w[j];
                    s += fabs(p.X[i + j * p.N] * r.w[j]);
                }
                perr = fmax(perr, fabs(pred[i] - t2) / s);
            }
            CHECK(perr <= 1e-13, "case %zu: prediction differs by %.3g (scaled)", t, perr);
            if (rank == 0)
                printf("%s case %zu: N=%lld D=%lld lambda2=%g blocks %lldx%lld: |dw|/|w| %.2g, "
                       "db %.2g, gradient %.2g, objective %.12g\n",
                       gname, t, (long long)p.N, (long long)D, l2, (long long)cases[t].mb,
                       (long long)cases[t].nb, relw, relb, gmax, r.objective);
            free(pred);
            sal_pmat_free(&X2);
        }
        sal_ridge_free(&r);
        sal_pmat_free(&X);
        free(wref);
        free(mu);
        free_problem(&p);
    }
}

/* Every process gets the same failing status, and out stays empty. */
static void expect_fail(const sal_pmat *X, const sal_grid *g, const double *y, double l2,
                        sal_status want, const char *what, const char *text)
{
    sal_ridge r;
    sal_status st = sal_ridge_fit(X, g, y, l2, &r);
    int mine = (int)st, lo, hi;
    MPI_Allreduce(&mine, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(st == want && r.w == NULL, "%s: got %s (%s)", what, sal_status_str(st), sal_errmsg());
    CHECK(lo == hi, "%s: processes disagree (%d .. %d)", what, lo, hi);
    /* the detailed message lives on the process that found the problem */
    int found = text == NULL || strstr(sal_errmsg(), text) != NULL, any;
    MPI_Allreduce(&found, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(any, "%s: no process says '%s' (here: %s)", what, text, sal_errmsg());
    if (getenv("RIDGE_VERBOSE") && test_rank() == 0)
        printf("%s: %s\n", what, sal_errmsg());
    sal_ridge_free(&r);
}

static void check_bad_input(const sal_grid *g)
{
    CHECK(sal_ridge_check(0) == NULL && sal_ridge_check(1e-5) == NULL, "good lambda2 refused");
    CHECK(sal_ridge_check(-1e-9) != NULL && sal_ridge_check(NAN) != NULL &&
              sal_ridge_check(INFINITY) != NULL,
          "bad lambda2 accepted");

    problem p = make_problem(5, 60, 6, 1.0);
    sal_pmat X;
    distribute(&p, g, 7, 2, &X);
    expect_fail(&X, g, p.y, -1, SAL_ERR_ARG, "lambda2 < 0", "lambda2");
    expect_fail(&X, g, p.y, NAN, SAL_ERR_ARG, "lambda2 NaN", "lambda2");

    p.y[41] = NAN;
    expect_fail(&X, g, p.y, 1e-3, SAL_ERR_FORMAT, "NaN in y", "row 41");
    p.y[41] = 1;

    double keep = p.X[17 + 4 * 60];
    p.X[17 + 4 * 60] = NAN;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    expect_fail(&X, g, p.y, 1e-3, SAL_ERR_FORMAT, "NaN in X", "row 17, neuron 4 is NaN");
    p.X[17 + 4 * 60] = INFINITY;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    expect_fail(&X, g, p.y, 1e-3, SAL_ERR_FORMAT, "inf in X", "infinite");
    p.X[17 + 4 * 60] = keep;

    /* collinear: neuron 5 = 2 * neuron 1 - 3 * neuron 2 + 7 (rounding leaves a tiny
     * positive or a non-positive pivot); then a constant neuron; then fine with lambda2 */
    for (int64_t i = 0; i < 60; i++)
        p.X[i + 5 * 60] = 2 * p.X[i + 1 * 60] - 3 * p.X[i + 2 * 60] + 7;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    expect_fail(&X, g, p.y, 0, SAL_ERR_FORMAT, "collinear neurons", "lambda2 = 0");
    sal_ridge r;
    CHECK_OK(sal_ridge_fit(&X, g, p.y, 1e-6, &r));
    sal_ridge_free(&r);
    for (int64_t i = 0; i < 60; i++)
        p.X[i + 5 * 60] = 0.1;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    expect_fail(&X, g, p.y, 0, SAL_ERR_FORMAT, "constant neuron", "collinear or constant");
    for (int64_t i = 0; i < 60; i++)
        p.X[i + 5 * 60] = 0;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    expect_fail(&X, g, p.y, 0, SAL_ERR_FORMAT, "dead neuron", "positive definite");
    sal_pmat_free(&X);
    free_problem(&p);

    /* more neurons than tokens, lambda2 = 0 */
    p = make_problem(6, 10, 20, 1.0);
    distribute(&p, g, 3, 4, &X);
    expect_fail(&X, g, p.y, 0, SAL_ERR_FORMAT, "D > N", "lambda2 = 0");
    sal_pmat_free(&X);
    free_problem(&p);

    /* a single token */
    p = make_problem(7, 1, 4, 1.0);
    distribute(&p, g, 1, 2, &X);
    expect_fail(&X, g, p.y, 1e-3, SAL_ERR_FORMAT, "N = 1", "at least 2 tokens");
    /* predict with the wrong width */
    sal_ridge wrong = {.D = 3, .w = (double[3]){1, 2, 3}, .b = 0};
    double pred[1];
    CHECK(sal_ridge_predict(&wrong, &X, g, pred) == SAL_ERR_ARG, "predict with D 3 on 4 columns");
    sal_pmat_free(&X);
    free_problem(&p);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    sal_grid *g;
    CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 0, 0, &g));
    char name[32];
    snprintf(name, sizeof(name), "%dx1", size);
    check_against_serial(g, rank, name);
    check_bad_input(g);
    sal_grid_free(g);
    if (size == 4) { /* a 2 x 2 grid too */
        CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 2, 2, &g));
        check_against_serial(g, rank, "2x2");
        check_bad_input(g);
        sal_grid_free(g);
    }
    int rc = test_finish("test-ridge");
    MPI_Finalize();
    return rc;
}
