/*
 * bench-probe.c - salient's probe solver on a benchmark case, against NeuroX's training
 * loop, on the same bytes the Python peers (bench/peers.py) read.
 *
 * Usage: mpirun -np P bench-probe CASE.nc --l1 X --l2 Y [--tol T] [--max-iter N]
 *                    [--reference-out REF.nc] [--no-adam] [--ranks-list 1,P] [--verbose]
 *
 * CASE.nc is a case file (bench/bench-case.c describes the layout). For every k of the
 * ranks list (default 1 and P), on the first k ranks (a tall k x 1 grid; k = 1 is rank 0
 * alone):
 *  - salient: sal_probe_problem_init (setup: what the problem derives once from X, such
 *    as the column means) and sal_probe_solve timed apart; iterations; products (N x D x C
 *    matrix products; each reads X once, so products = passes over the data); objective and optimality violation; train and test
 *    accuracy (sal_probe_predict; a test row labelled -1, a class unseen in training,
 *    counts as an error); GFLOP/s of the solve (2 N D C per product over the solve's wall
 *    time) against sgemm and dgemm measured just before on the same k ranks at once, each
 *    on the forward shape of its rows (min(N/k, 20000) x D times D x C), summed;
 *  - peak resident memory per rank (getrusage ru_maxrss after the high-water mark was reset
 *    through /proc/self/clear_refs at the start of the measurement; without the reset it is
 *    the process's peak so far, and the line says so).
 * Then, unless --no-adam, NeuroX's training loop in C on rank 0 (Adam, 10 epochs, batch 32,
 * lr 1e-3, float32, its loss CE + l1 |W|_1 + l2 |W|_F), scored with sal_probe_evaluate on
 * salient's objective: its time, how far above salient's optimum it ends, its accuracies.
 * --reference-out writes the solution of the run on the most ranks (if it converged):
 * variables w(neuron, class), b(class) (float64), attributes objective, violation,
 * lambda1, lambda2, tol.
 *
 * Output: human-readable lines, and one line per measured solver starting with "JSON "
 * followed by one JSON object for a driver to join with the Python peers' lines: peer
 * ("salient" or "adam-c"), case, N, Nt, D, C, ranks, lambda1, lambda2, tol, seconds (setup +
 * solve; Adam's training), setup, solve, iterations (salient's outer iterations; Adam's
 * epochs, as peers.py counts them), products, passes, steps (Adam), threads (ranks x
 * OPENBLAS_NUM_THREADS, null if unset), converged, objective, loss, violation, gap and
 * rel_gap (objective minus the lowest converged salient objective of this run so far,
 * absolute and relative; a salient line is printed as soon as its run ends, Adam's last), train_acc, test_acc, gflops, sgemm_gflops, dgemm_gflops, peak_rss_mb (the
 * largest rank's), peak_rss_mb_per_rank, peak_rss_reset, status ("ok", "noconv" or
 * "error") and error (a message, if any). Numbers are printed with %.17g (the C locale:
 * nothing here calls setlocale); a missing number is null.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <netcdf.h>

#include "bench-nc.h"

#include "salient/grid.h"
#include "salient/pmat.h"
#include "salient/probe.h"
#include "salient/status.h"

void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);
void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);

/* splitmix64 as a uniform in [0, 1). */
static double urand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* ---- the case file -------------------------------------------------------------- */

/* A case as every rank holds it: the shape, the labels, and the open file (the
 * activations are read where they are needed). */
typedef struct bench_case {
    const char *path;
    char name[256];    /* the `case` attribute */
    int ncid;          /* open read-only, -1 if not */
    int vx_train, vx_test;
    int64_t N, Nt, D;
    int C;
    int32_t *y_train;  /* N */
    int32_t *y_test;   /* Nt (-1: a class unseen in training) */
} bench_case;

static sal_status case_nc_fail(const bench_case *c, int rc, const char *what)
{
    return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s: %s: %s", c->path, what,
                    nc_strerror(rc));
}

/* Length of dimension `name`. */
static sal_status case_dim(bench_case *c, const char *name, int *dim, int64_t *len)
{
    size_t n;
    int rc = nc_inq_dimid(c->ncid, name, dim);
    if (rc == NC_NOERR)
        rc = nc_inq_dimlen(c->ncid, *dim, &n);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: dimension '%s': %s", c->path, name, nc_strerror(rc));
    *len = (int64_t)n;
    return SAL_OK;
}

/* Find variable `name` of type `type` on dimensions dims[ndims]. */
static sal_status case_var(bench_case *c, const char *name, nc_type type, int ndims,
                           const int *dims, int *var)
{
    int rc = nc_inq_varid(c->ncid, name, var), nd, d[NC_MAX_VAR_DIMS];
    nc_type t;
    if (rc == NC_NOERR)
        rc = nc_inq_var(c->ncid, *var, NULL, &t, &nd, d, NULL);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: variable '%s': %s", c->path, name, nc_strerror(rc));
    if (t != type)
        return sal_fail(SAL_ERR_FORMAT, "%s: variable '%s' is not %s", c->path, name,
                        type == NC_FLOAT ? "float32" : "int32");
    if (nd != ndims || d[0] != dims[0] || (ndims > 1 && d[1] != dims[1]))
        return sal_fail(SAL_ERR_FORMAT, "%s: variable '%s' is not on the dimensions (%s)",
                        c->path, name, ndims > 1 ? "rows, neuron" : "rows");
    return SAL_OK;
}

/* Open a case, check its layout and labels, read the labels. Not collective. */
static sal_status case_open(const char *path, bench_case *c)
{
    memset(c, 0, sizeof(*c));
    c->path = path;
    c->ncid = -1;
    int dtr, dte, dn, dc, vy, vyt, rc;
    sal_status st;
    if ((rc = nc_open(path, NC_NOWRITE, &c->ncid)) != NC_NOERR) {
        c->ncid = -1;
        return case_nc_fail(c, rc, "cannot open");
    }
    size_t len = 0;
    if (nc_inq_attlen(c->ncid, NC_GLOBAL, "case", &len) == NC_NOERR && len > 0 &&
        len < sizeof(c->name)) {
        if ((rc = nc_get_att_text(c->ncid, NC_GLOBAL, "case", c->name)) != NC_NOERR)
            return case_nc_fail(c, rc, "attribute case");
        c->name[len] = '\0';
    } else {
        const char *base = strrchr(path, '/');
        snprintf(c->name, sizeof(c->name), "%s", base ? base + 1 : path);
    }
    int64_t C;
    if ((st = case_dim(c, "train", &dtr, &c->N)) || (st = case_dim(c, "test", &dte, &c->Nt)) ||
        (st = case_dim(c, "neuron", &dn, &c->D)) || (st = case_dim(c, "class", &dc, &C)))
        return st;
    if (c->N < 1 || c->D < 1 || C < 2 || C > INT32_MAX || c->N > INT32_MAX ||
        c->Nt > INT32_MAX)
        return sal_fail(SAL_ERR_FORMAT, "%s: bad shape: train %lld, test %lld, neuron %lld, "
                        "class %lld", path, (long long)c->N, (long long)c->Nt, (long long)c->D,
                        (long long)C);
    c->C = (int)C;
    int d2[2] = {dtr, dn}, d2t[2] = {dte, dn};
    if ((st = case_var(c, "x_train", NC_FLOAT, 2, d2, &c->vx_train)) ||
        (st = case_var(c, "x_test", NC_FLOAT, 2, d2t, &c->vx_test)) ||
        (st = case_var(c, "y_train", NC_INT, 1, &dtr, &vy)) ||
        (st = case_var(c, "y_test", NC_INT, 1, &dte, &vyt)))
        return st;
    c->y_train = malloc(sizeof(*c->y_train) * (size_t)c->N);
    c->y_test = malloc(sizeof(*c->y_test) * (size_t)(c->Nt > 0 ? c->Nt : 1));
    int64_t *count = calloc((size_t)c->C, sizeof(*count));
    if (!c->y_train || !c->y_test || !count) {
        free(count);
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    }
    st = SAL_OK;
    if ((rc = nc_get_var_int(c->ncid, vy, c->y_train)) != NC_NOERR)
        st = case_nc_fail(c, rc, "reading y_train");
    else if (c->Nt > 0 && (rc = nc_get_var_int(c->ncid, vyt, c->y_test)) != NC_NOERR)
        st = case_nc_fail(c, rc, "reading y_test");
    for (int64_t i = 0; i < c->N && st == SAL_OK; i++) {
        if (c->y_train[i] < 0 || c->y_train[i] >= c->C)
            st = sal_fail(SAL_ERR_FORMAT, "%s: y_train[%lld] = %d is not in [0, %d)", path,
                          (long long)i, c->y_train[i], c->C);
        else
            count[c->y_train[i]]++;
    }
    for (int k = 0; k < c->C && st == SAL_OK; k++)
        if (count[k] == 0)
            st = sal_fail(SAL_ERR_FORMAT, "%s: class %d has no training row", path, k);
    for (int64_t i = 0; i < c->Nt && st == SAL_OK; i++)
        if (c->y_test[i] < -1 || c->y_test[i] >= c->C)
            st = sal_fail(SAL_ERR_FORMAT, "%s: y_test[%lld] = %d is not in [-1, %d)", path,
                          (long long)i, c->y_test[i], c->C);
    free(count);
    return st;
}

/* Close the file and free the labels. No operation on NULL. */
static void case_close(bench_case *c)
{
    if (!c)
        return;
    if (c->ncid >= 0)
        nc_close(c->ncid);
    free(c->y_train);
    free(c->y_test);
    c->ncid = -1;
    c->y_train = c->y_test = NULL;
}

/* Fill this process's local part of X (rows x D, in row blocks, from variable var of the
 * case), reading one row block at a time. Not collective. */
static sal_status case_fill(const bench_case *c, int var, const char *vname, sal_pmat *X)
{
    int64_t D = c->D, mb = X->desc[SAL_MB], ld = X->desc[SAL_LLD];
    if (X->lrows == 0 || X->lcols == 0)
        return SAL_OK;
    float *buf = malloc(sizeof(*buf) * (size_t)(mb * D));
    if (!buf)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    sal_status st = SAL_OK;
    for (int64_t il = 0; il < X->lrows && st == SAL_OK; il += mb) {
        int64_t nr = X->lrows - il < mb ? X->lrows - il : mb;
        size_t start[2] = {(size_t)sal_pmat_grow(X, il), 0}, count[2] = {(size_t)nr, (size_t)D};
        int rc = nc_get_vara_float(c->ncid, var, start, count, buf);
        if (rc != NC_NOERR) {
            st = sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s: reading %s rows %zu-%zu: %s",
                          c->path, vname, start[0], start[0] + count[0], nc_strerror(rc));
            break;
        }
        for (int64_t jl = 0; jl < X->lcols; jl++) {
            int64_t gj = sal_pmat_gcol(X, jl);
            double *col = X->a + il + jl * ld;
            for (int64_t r = 0; r < nr; r++)
                col[r] = buf[r * D + gj];
        }
    }
    free(buf);
    return st;
}

/* ---- measurements --------------------------------------------------------------- */

/* Reset this process's peak resident set size to its current size (Linux >= 4.0).
 * Returns 1 if it worked. */
static int peak_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Peak resident set size of this process, in MB (ru_maxrss is in KiB on Linux). */
static double peak_rss_mb(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return NAN;
    return (double)u.ru_maxrss / 1024.0;
}

/* A barrier that sleeps instead of spinning: ranks that wait while others measure (the
 * 1-rank run, the Adam baseline) must not take a core from them (Open MPI polls in
 * blocking calls, even with mpi_yield_when_idle). Collective over comm. */
static void sleepy_barrier(MPI_Comm comm)
{
    MPI_Request req;
    int done = 0;
    struct timespec ms = {0, 1000000};
    MPI_Ibarrier(comm, &req);
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done)
            break;
        nanosleep(&ms, NULL);
    }
}

/* GFLOP/s of sgemm and dgemm on the probe's forward shape (n x D times D x C). */
static void gemm_peak(int64_t N, int64_t D, int C, double *sg, double *dg)
{
    int n = (int)(N < 20000 ? N : 20000), d = (int)D;
    uint64_t rng = 7;
    float *a = calloc((size_t)n * (size_t)d, sizeof(float)), *b = calloc((size_t)d * (size_t)C, sizeof(float));
    float *c = calloc((size_t)n * (size_t)C, sizeof(float)), one = 1, zero = 0;
    double *A = calloc((size_t)n * (size_t)d, sizeof(double)), *Bd = calloc((size_t)d * (size_t)C, sizeof(double));
    double *Cd = calloc((size_t)n * (size_t)C, sizeof(double)), oned = 1, zerod = 0;
    *sg = *dg = NAN;
    if (!a || !b || !c || !A || !Bd || !Cd || n < 1)
        goto free_all;
    for (size_t i = 0; i < (size_t)n * (size_t)d; i++)
        a[i] = (float)(A[i] = urand(&rng));
    /* one untimed call of each warms the caches and the library */
    sgemm_("N", "N", &n, &C, &d, &one, a, &n, b, &d, &zero, c, &n);
    dgemm_("N", "N", &n, &C, &d, &oned, A, &n, Bd, &d, &zerod, Cd, &n);
    int reps = 5;
    double t0 = MPI_Wtime();
    for (int r = 0; r < reps; r++)
        sgemm_("N", "N", &n, &C, &d, &one, a, &n, b, &d, &zero, c, &n);
    double ts = MPI_Wtime() - t0;
    t0 = MPI_Wtime();
    for (int r = 0; r < reps; r++)
        dgemm_("N", "N", &n, &C, &d, &oned, A, &n, Bd, &d, &zerod, Cd, &n);
    double td = MPI_Wtime() - t0;
    *sg = 2.0 * n * d * C * reps / ts / 1e9;
    *dg = 2.0 * n * d * C * reps / td / 1e9;
free_all:
    free(a), free(b), free(c), free(A), free(Bd), free(Cd);
}

/* NeuroX's training (neurox.interpretation.linear_probe.train_logistic_regression_probe):
 * Adam on mini-batches, float32, X row-major (N x D). W (D x C col-major) and b out;
 * returns the seconds of training, *steps the Adam steps. */
static double adam_baseline(const float *X, const int32_t *y, int64_t N, int64_t D, int C,
                            double l1, double l2, double *Wout, double *bout, int64_t *steps)
{
    const int B = 32, epochs = 10;
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    int64_t P = D * C;
    uint64_t rng = 99;
    float *W = calloc((size_t)(P + C), sizeof(float)), *m = calloc((size_t)(P + C), sizeof(float));
    float *v = calloc((size_t)(P + C), sizeof(float)), *g = calloc((size_t)(P + C), sizeof(float));
    float *xb = malloc(sizeof(float) * (size_t)(B * D)), *z = malloc(sizeof(float) * (size_t)(B * C));
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)N);
    if (!W || !m || !v || !g || !xb || !z || !perm) {
        free(W), free(m), free(v), free(g), free(xb), free(z), free(perm);
        return NAN;
    }
    for (int64_t i = 0; i < N; i++)
        perm[i] = i;
    /* PyTorch's default Linear init: U(-1/sqrt(D), 1/sqrt(D)) */
    for (int64_t i = 0; i < P + C; i++)
        W[i] = (float)((2 * urand(&rng) - 1) / sqrt((double)D));
    double t0 = MPI_Wtime();
    int64_t step = 0;
    for (int e = 0; e < epochs; e++) {
        for (int64_t i = N - 1; i > 0; i--) {
            int64_t k = (int64_t)(urand(&rng) * (double)(i + 1)), t = perm[i];
            perm[i] = perm[k], perm[k] = t;
        }
        for (int64_t s = 0; s < N; s += B) {
            int nb = (int)(N - s < B ? N - s : B);
            for (int r = 0; r < nb; r++) {
                const float *row = X + perm[s + r] * D;
                for (int64_t j = 0; j < D; j++)
                    xb[r + j * nb] = row[j];
            }
            int Di = (int)D;
            float one = 1, zero = 0;
            /* z (nb x C) = xb (nb x D) W (D x C) */
            sgemm_("N", "N", &nb, &C, &Di, &one, xb, &nb, W, &Di, &zero, z, &nb);
            for (int r = 0; r < nb; r++) {
                float zmax = -INFINITY, sum = 0;
                for (int c = 0; c < C; c++) {
                    z[r + c * nb] += W[P + c];
                    zmax = fmaxf(zmax, z[r + c * nb]);
                }
                for (int c = 0; c < C; c++)
                    sum += z[r + c * nb] = expf(z[r + c * nb] - zmax);
                for (int c = 0; c < C; c++)
                    z[r + c * nb] = (z[r + c * nb] / sum - (c == y[perm[s + r]])) / (float)nb;
            }
            /* g (D x C) = xb^T z */
            sgemm_("T", "N", &Di, &C, &nb, &one, xb, &nb, z, &nb, &zero, g, &Di);
            for (int c = 0; c < C; c++) {
                g[P + c] = 0;
                for (int r = 0; r < nb; r++)
                    g[P + c] += z[r + c * nb];
            }
            double fro = 0;
            for (int64_t i = 0; i < P; i++)
                fro += (double)W[i] * W[i];
            fro = sqrt(fro) + 1e-30;
            for (int64_t i = 0; i < P; i++)
                g[i] += (float)(l1 * (W[i] > 0 ? 1 : (W[i] < 0 ? -1 : 0)) + l2 * W[i] / fro);
            step++;
            float c1 = 1 - powf(b1, (float)step), c2 = 1 - powf(b2, (float)step);
            for (int64_t i = 0; i < P + C; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                W[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
            }
        }
    }
    double t = MPI_Wtime() - t0;
    for (int64_t i = 0; i < P; i++)
        Wout[i] = W[i];
    for (int c = 0; c < C; c++)
        bout[c] = W[P + c];
    *steps = step;
    free(W), free(m), free(v), free(g), free(xb), free(z), free(perm);
    return t;
}

/* ---- the runs ------------------------------------------------------------------- */

typedef struct bench_opts {
    const char *case_path, *reference_out;
    sal_probe_params prm;
    int adam;
    int nk, k[64]; /* ranks list */
} bench_opts;

/* What one measured solver gave (meaningful on world rank 0). */
typedef struct run_result {
    const char *peer;
    int ranks;
    sal_status st;
    char msg[512];
    double seconds, setup, solve, objective, loss, violation, train_acc, test_acc;
    double gflops, sgemm, dgemm, rss_max, rss[64];
    int rss_reset;   /* the high-water mark was reset before the measurement */
    int iterations, products;
    int64_t steps;   /* Adam steps */
} run_result;

/* The Adam baseline's solution, on every rank once trained. */
typedef struct adam_state {
    double *W, *b;
    run_result r;
} adam_state;

/* Fraction of pred equal to y (a label -1 never matches). */
static double accuracy(const int32_t *pred, const int32_t *y, int64_t n)
{
    if (n == 0)
        return NAN;
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++)
        ok += pred[i] == y[i];
    return (double)ok / (double)n;
}

/* Train and test accuracy of (W, b) on the grid's matrices. Collective. */
static sal_status score(const sal_probe *pr, const sal_pmat *Xtr, const sal_pmat *Xte,
                        const sal_grid *g, const bench_case *c, int32_t *pred, double *tr,
                        double *te)
{
    sal_status st = sal_probe_predict(pr, Xtr, g, pred);
    if (st == SAL_OK)
        *tr = accuracy(pred, c->y_train, c->N);
    if (st == SAL_OK && c->Nt > 0 && (st = sal_probe_predict(pr, Xte, g, pred)) == SAL_OK)
        *te = accuracy(pred, c->y_test, c->Nt);
    return st;
}

/* Peak memory of the ranks of comm into r (on its rank 0). Collective over comm. */
static void gather_rss(MPI_Comm comm, run_result *r)
{
    int n, rank;
    MPI_Comm_size(comm, &n);
    MPI_Comm_rank(comm, &rank);
    double mine = peak_rss_mb(), all[64];
    MPI_Gather(&mine, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, comm);
    int reset = r->rss_reset;
    MPI_Allreduce(MPI_IN_PLACE, &reset, 1, MPI_INT, MPI_MIN, comm);
    r->rss_reset = reset;
    if (rank == 0) {
        r->rss_max = 0;
        for (int i = 0; i < n && i < 64; i++) {
            r->rss[i] = all[i];
            r->rss_max = all[i] > r->rss_max ? all[i] : r->rss_max;
        }
    }
}

/* salient on the grid over comm (k ranks): fill, set up, solve, score; and score the Adam
 * baseline's solution if adam is not NULL. keep (may be NULL) receives the solution.
 * Collective over comm. */
static void salient_run(const bench_opts *o, const bench_case *c, MPI_Comm comm,
                        adam_state *adam, run_result *r, sal_probe *keep)
{
    int k;
    MPI_Comm_size(comm, &k);
    memset(r, 0, sizeof(*r));
    r->peer = "salient";
    r->ranks = k;
    r->train_acc = r->test_acc = r->objective = r->violation = r->loss = NAN;
    r->rss_reset = peak_rss_reset();
    sal_grid *g = NULL;
    sal_pmat Xtr, Xte;
    memset(&Xtr, 0, sizeof(Xtr));
    memset(&Xte, 0, sizeof(Xte));
    sal_probe_problem *pb = NULL;
    sal_probe pr;
    memset(&pr, 0, sizeof(pr));
    int32_t *pred = malloc(sizeof(*pred) * (size_t)(c->N > c->Nt ? c->N : c->Nt));
    int gathered = 0, adam_scored = 0;

    /* the machine's gemm rates on this run's shape, all k ranks at once */
    double sg, dg;
    MPI_Barrier(comm);
    gemm_peak((c->N + k - 1) / k, c->D, c->C, &sg, &dg);
    MPI_Allreduce(&sg, &r->sgemm, 1, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(&dg, &r->dgemm, 1, MPI_DOUBLE, MPI_SUM, comm);

    sal_status st = sal_agree(pred ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory"), comm);
    if (st == SAL_OK)
        st = sal_agree(sal_grid_init(comm, 0, 0, &g), comm);
    if (st == SAL_OK) {
        st = sal_pmat_init(&Xtr, g, c->N, c->D, 256, c->D);
        if (st == SAL_OK)
            st = sal_pmat_init(&Xte, g, c->Nt, c->D, 256, c->D);
        if (st == SAL_OK)
            st = case_fill(c, c->vx_train, "x_train", &Xtr);
        if (st == SAL_OK)
            st = case_fill(c, c->vx_test, "x_test", &Xte);
        st = sal_agree(st, comm);
    }
    if (st)
        goto done;
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    if ((st = sal_probe_problem_init(&Xtr, g, c->y_train, c->C, &pb)))
        goto done;
    double t1 = MPI_Wtime();
    sal_status solved = sal_probe_solve(pb, &o->prm, NULL, &pr);
    double t2 = MPI_Wtime(), times[2] = {t1 - t0, t2 - t1};
    MPI_Allreduce(MPI_IN_PLACE, times, 2, MPI_DOUBLE, MPI_MAX, comm);
    r->setup = times[0];
    r->solve = times[1];
    r->seconds = r->setup + r->solve;
    if (solved != SAL_OK && solved != SAL_ERR_NOCONV) {
        st = solved;
        goto done;
    }
    r->iterations = pr.iterations;
    r->products = pr.gemms;
    r->objective = pr.objective;
    r->loss = pr.loss;
    r->violation = pr.violation;
    r->gflops = 2.0 * (double)c->N * (double)c->D * c->C * pr.gemms / r->solve / 1e9;
    if ((st = score(&pr, &Xtr, &Xte, g, c, pred, &r->train_acc, &r->test_acc)))
        goto done;
    gather_rss(comm, r);
    gathered = 1;
    if (solved == SAL_ERR_NOCONV) {
        st = solved;
        snprintf(r->msg, sizeof(r->msg), "no convergence: violation %.3g after %d iterations",
                 pr.violation, pr.iterations);
    }
    if (adam) {
        /* the baseline's solution, scored on salient's objective and on the same rows */
        adam_state *a = adam;
        sal_probe ap = {.D = c->D, .C = c->C, .W = a->W, .b = a->b};
        a->r.train_acc = a->r.test_acc = NAN;
        sal_status as = sal_probe_evaluate(pb, &o->prm, a->W, a->b, &a->r.objective, &a->r.loss,
                                           &a->r.violation);
        if (as == SAL_OK)
            as = score(&ap, &Xtr, &Xte, g, c, pred, &a->r.train_acc, &a->r.test_acc);
        if (as != SAL_OK) {
            a->r.st = as;
            snprintf(a->r.msg, sizeof(a->r.msg), "scoring failed: %s", sal_errmsg());
        }
        adam_scored = 1;
    }
    if (keep && (solved == SAL_OK || solved == SAL_ERR_NOCONV)) {
        *keep = pr;
        memset(&pr, 0, sizeof(pr));
    }
done:
    r->st = st;
    if (st && st != SAL_ERR_NOCONV)
        snprintf(r->msg, sizeof(r->msg), "%s", sal_errmsg());
    if (!gathered)
        gather_rss(comm, r);
    if (adam && !adam_scored) {
        adam->r.st = st;
        snprintf(adam->r.msg, sizeof(adam->r.msg), "not scored: the salient run failed (%s)",
                 sal_errmsg());
    }
    sal_probe_free(&pr);
    sal_probe_problem_free(pb);
    sal_pmat_free(&Xtr);
    sal_pmat_free(&Xte);
    sal_grid_free(g);
    free(pred);
}

/* ---- output --------------------------------------------------------------------- */

/* Append to a JSON line: `"key":number` (null for NaN or infinity). */
static void json_num(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.17g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

/* Append `"key":"text"` with JSON escapes. */
static void json_str(FILE *f, const char *key, const char *s, int first)
{
    fprintf(f, "%s\"%s\":\"", first ? "" : ",", key);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static const char *status_word(const run_result *r)
{
    return r->st == SAL_OK ? "ok" : r->st == SAL_ERR_NOCONV ? "noconv" : "error";
}

/* One JSON line for a measured solver. */
static void print_json(const bench_opts *o, const bench_case *c, const run_result *r,
                       double optimum)
{
    FILE *f = stdout;
    fputs("JSON {", f);
    json_str(f, "peer", r->peer, 1);
    json_str(f, "case", c->name, 0);
    fprintf(f, ",\"N\":%lld,\"Nt\":%lld,\"D\":%lld,\"C\":%d,\"ranks\":%d", (long long)c->N,
            (long long)c->Nt, (long long)c->D, c->C, r->ranks);
    json_num(f, "lambda1", o->prm.lambda1);
    json_num(f, "lambda2", o->prm.lambda2);
    json_num(f, "tol", o->prm.tol);
    json_num(f, "seconds", r->seconds);
    int salient = strcmp(r->peer, "salient") == 0;
    if (salient) {
        json_num(f, "setup", r->setup);
        json_num(f, "solve", r->solve);
        fprintf(f, ",\"iterations\":%d,\"products\":%d,\"passes\":%d", r->iterations,
                r->products, r->products);
    } else { /* as bench/peers.py's neurox peer: iterations are epochs */
        fprintf(f, ",\"iterations\":10,\"epochs\":10,\"steps\":%lld,\"passes\":10",
                (long long)r->steps);
    }
    const char *blas = getenv("OPENBLAS_NUM_THREADS");
    if (blas && atoi(blas) > 0)
        fprintf(f, ",\"threads\":%d", r->ranks * atoi(blas));
    else
        fputs(",\"threads\":null", f);
    fprintf(f, ",\"converged\":%s", salient && r->st == SAL_OK ? "true" : "false");
    json_num(f, "objective", r->objective);
    json_num(f, "loss", r->loss);
    json_num(f, "violation", r->violation);
    json_num(f, "gap", r->objective - optimum);
    json_num(f, "rel_gap", (r->objective - optimum) / fabs(optimum));
    json_num(f, "train_acc", r->train_acc);
    json_num(f, "test_acc", r->test_acc);
    json_num(f, "gflops", r->gflops);
    json_num(f, "sgemm_gflops", r->sgemm);
    json_num(f, "dgemm_gflops", r->dgemm);
    json_num(f, "peak_rss_mb", r->rss_max);
    fputs(",\"peak_rss_mb_per_rank\":[", f);
    for (int i = 0; i < r->ranks && i < 64; i++)
        fprintf(f, "%s%.1f", i ? "," : "", r->rss[i]);
    fprintf(f, "],\"peak_rss_reset\":%s", r->rss_reset ? "true" : "false");
    json_str(f, "status", status_word(r), 0);
    if (r->msg[0])
        json_str(f, "error", r->msg, 0);
    fputs("}\n", f);
}

/* Write salient's solution as the reference file (w as neuron x class). Not collective. */
static sal_status reference_write(const char *path, const bench_case *c, const sal_probe *pr,
                                  const bench_opts *o, int ranks)
{
    char tmp[PATH_MAX];
    int rc = NC_NOERR, ncid = -1, dn, dc, vw, vb, dims[2];
    const char *what = "";
    sal_status tst = bench_nc_temp(path, tmp, sizeof(tmp));
    if (tst)
        return tst;
    double *w = malloc(sizeof(*w) * (size_t)(pr->D * pr->C));
    if (!w)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    for (int64_t j = 0; j < pr->D; j++)
        for (int cl = 0; cl < pr->C; cl++)
            w[j * pr->C + cl] = pr->W[j + cl * pr->D];
    BENCH_NC_TRY(nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &ncid), "cannot create");
    static const char title[] = "salient's certified elastic-net probe solution (bench-probe)";
    BENCH_NC_TRY(nc_put_att_text(ncid, NC_GLOBAL, "title", strlen(title), title), "attribute title");
    BENCH_NC_TRY(nc_put_att_text(ncid, NC_GLOBAL, "case", strlen(c->name), c->name), "attribute case");
    double att[6] = {pr->objective, pr->violation, o->prm.lambda1, o->prm.lambda2, o->prm.tol,
                     pr->loss};
    const char *att_name[6] = {"objective", "violation", "lambda1", "lambda2", "tol", "loss"};
    for (int i = 0; i < 6; i++)
        BENCH_NC_TRY(nc_put_att_double(ncid, NC_GLOBAL, att_name[i], NC_DOUBLE, 1, &att[i]),
               att_name[i]);
    int ints[2] = {pr->iterations, ranks};
    BENCH_NC_TRY(nc_put_att_int(ncid, NC_GLOBAL, "iterations", NC_INT, 1, &ints[0]), "iterations");
    BENCH_NC_TRY(nc_put_att_int(ncid, NC_GLOBAL, "ranks", NC_INT, 1, &ints[1]), "ranks");
    BENCH_NC_TRY(nc_def_dim(ncid, "neuron", (size_t)pr->D, &dn), "dimension neuron");
    BENCH_NC_TRY(nc_def_dim(ncid, "class", (size_t)pr->C, &dc), "dimension class");
    dims[0] = dn, dims[1] = dc;
    BENCH_NC_TRY(nc_def_var(ncid, "w", NC_DOUBLE, 2, dims, &vw), "variable w");
    BENCH_NC_TRY(nc_def_var(ncid, "b", NC_DOUBLE, 1, &dc, &vb), "variable b");
    BENCH_NC_TRY(nc_enddef(ncid), "cannot end definitions");
    BENCH_NC_TRY(nc_put_var_double(ncid, vw, w), "writing w");
    BENCH_NC_TRY(nc_put_var_double(ncid, vb, pr->b), "writing b");
nc_failed: /* success falls through with rc == NC_NOERR */
    free(w);
    return bench_nc_finish(ncid, rc, what, tmp, path);
}

/* The human-readable line of a salient run. */
static void print_salient(const run_result *r, double t1)
{
    printf("salient %d rank%s: %s", r->ranks, r->ranks > 1 ? "s" : "", status_word(r));
    if (r->msg[0])
        printf(" (%s)", r->msg);
    printf("\n");
    if (r->st && r->st != SAL_ERR_NOCONV)
        return;
    printf("  setup (problem_init) %.2f s, solve %.2f s, total %.2f s", r->setup, r->solve,
           r->seconds);
    if (r->ranks > 1 && isfinite(t1))
        printf(" (speed-up over 1 rank %.2f)", t1 / r->seconds);
    printf("\n  %d iterations, %d products (= passes over X), objective %.12g, violation %.3g\n",
           r->iterations, r->products, r->objective, r->violation);
    printf("  accuracy train %.4f, test %.4f\n", r->train_acc, r->test_acc);
    printf("  solve %.1f GFLOP/s in products (%.0f%% of sgemm %.1f, %.0f%% of dgemm %.1f GFLOP/s "
           "on this shape, %d rank%s at once)\n",
           r->gflops, 100 * r->gflops / r->sgemm, r->sgemm, 100 * r->gflops / r->dgemm, r->dgemm,
           r->ranks, r->ranks > 1 ? "s" : "");
    printf("  peak RSS %.0f MB (per rank:", r->rss_max);
    for (int i = 0; i < r->ranks && i < 64; i++)
        printf(" %.0f", r->rss[i]);
    printf(")%s\n", r->rss_reset ? "" : " [process peak so far: reset unavailable]");
}

/* ---- command line --------------------------------------------------------------- */

static const char usage_text[] =
    "Usage: bench-probe CASE.nc --l1 X --l2 Y [--tol T] [--max-iter N] [--reference-out REF.nc]\n"
    "                   [--no-adam] [--ranks-list 1,P] [--verbose]\n";

/* Parse the command line; NULL on success, else a message (static or in buf). */
static const char *parse_args(int argc, char **argv, int size, bench_opts *o, char *buf,
                              size_t nbuf)
{
    sal_probe_params def = SAL_PROBE_PARAMS_DEFAULT;
    memset(o, 0, sizeof(*o));
    o->prm = def;
    o->adam = 1;
    int have_l1 = 0, have_l2 = 0;
    const char *ranks = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        static const char *const valued[] = {"--l1", "--l2", "--tol", "--max-iter",
                                             "--reference-out", "--ranks-list"};
        int which = -1;
        for (int k = 0; k < 6 && which < 0; k++) {
            size_t n = strlen(valued[k]);
            if (strncmp(a, valued[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                which = k;
                if (a[n] == '=')
                    v = a + n + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else {
                    snprintf(buf, nbuf, "%s needs a value", a);
                    return buf;
                }
            }
        }
        if (which >= 0 && which <= 3) {
            char *end;
            double x = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !isfinite(x)) {
                snprintf(buf, nbuf, "%s: '%s' is not a number", valued[which], v);
                return buf;
            }
            if (which == 0)
                o->prm.lambda1 = x, have_l1 = 1;
            else if (which == 1)
                o->prm.lambda2 = x, have_l2 = 1;
            else if (which == 2)
                o->prm.tol = x;
            else
                o->prm.max_iter = (int)x;
        } else if (which == 4) {
            o->reference_out = v;
        } else if (which == 5) {
            ranks = v;
        } else if (strcmp(a, "--no-adam") == 0) {
            o->adam = 0;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->prm.verbose = 1;
        } else if (a[0] != '-' && !o->case_path) {
            o->case_path = a;
        } else {
            snprintf(buf, nbuf, "unexpected argument '%s'", a);
            return buf;
        }
    }
    if (!o->case_path)
        return "CASE.nc is required";
    if (!have_l1 || !have_l2)
        return "--l1 and --l2 are required";
    const char *msg = sal_probe_check(&o->prm);
    if (msg)
        return msg;
    if (!ranks) {
        o->k[o->nk++] = 1;
        if (size > 1)
            o->k[o->nk++] = size;
    } else {
        const char *p = ranks;
        while (*p) {
            char *end;
            long k = strtol(p, &end, 10);
            if (end == p || k < 1 || k > size || k > 64 || (*end && *end != ',') ||
                o->nk >= 64) {
                snprintf(buf, nbuf, "--ranks-list '%s': give rank counts from 1 to %d (the "
                         "mpirun size), comma-separated", ranks, size);
                return buf;
            }
            o->k[o->nk++] = (int)k;
            p = *end ? end + 1 : end;
        }
        if (o->nk == 0)
            return "--ranks-list is empty";
    }
    return NULL;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    bench_opts o;
    char buf[512];
    const char *msg = parse_args(argc, argv, size, &o, buf, sizeof(buf));
    if (msg) {
        if (rank == 0)
            fprintf(stderr, "bench-probe: %s\n%s", msg, usage_text);
        MPI_Finalize();
        return 64;
    }

    bench_case c;
    sal_status st = sal_agree(case_open(o.case_path, &c), MPI_COMM_WORLD);
    if (st) {
        if (rank == 0)
            fprintf(stderr, "bench-probe: %s\n", sal_errmsg());
        case_close(&c);
        MPI_Finalize();
        return sal_exit_code(st);
    }
    if (rank == 0) {
        printf("== case %s (%s): N %lld train rows, Nt %lld test rows, D %lld neurons, C %d "
               "classes; lambda1 %g, lambda2 %g, tol %g; %d MPI rank%s ==\n",
               c.name, c.path, (long long)c.N, (long long)c.Nt, (long long)c.D, c.C,
               o.prm.lambda1, o.prm.lambda2, o.prm.tol, size, size > 1 ? "s" : "");
        fflush(stdout);
    }

    /* NeuroX's loop first, on rank 0 with the whole float matrix (freed after); it is
     * scored in the first salient run, which holds the problem */
    adam_state adam;
    memset(&adam, 0, sizeof(adam));
    if (o.adam) {
        adam.r.peer = "adam-c";
        adam.r.ranks = 1;
        adam.r.objective = adam.r.loss = adam.r.violation = NAN;
        adam.r.train_acc = adam.r.test_acc = adam.r.gflops = adam.r.sgemm = adam.r.dgemm = NAN;
        adam.W = malloc(sizeof(*adam.W) * (size_t)(c.D * c.C));
        adam.b = malloc(sizeof(*adam.b) * (size_t)c.C);
        sal_status as = adam.W && adam.b ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
        if (rank == 0 && as == SAL_OK) {
            adam.r.rss_reset = peak_rss_reset();
            float *X = malloc(sizeof(*X) * (size_t)(c.N * c.D));
            int rc;
            if (!X)
                as = sal_fail(SAL_ERR_NOMEM, "out of memory for the %lld x %lld float matrix",
                              (long long)c.N, (long long)c.D);
            else if ((rc = nc_get_var_float(c.ncid, c.vx_train, X)) != NC_NOERR)
                as = case_nc_fail(&c, rc, "reading x_train");
            else {
                adam.r.seconds = adam_baseline(X, c.y_train, c.N, c.D, c.C, o.prm.lambda1,
                                               o.prm.lambda2, adam.W, adam.b, &adam.r.steps);
                if (!isfinite(adam.r.seconds))
                    as = sal_fail(SAL_ERR_NOMEM, "out of memory in the Adam baseline");
            }
            adam.r.rss_max = adam.r.rss[0] = peak_rss_mb();
            free(X);
        }
        sleepy_barrier(MPI_COMM_WORLD); /* the other ranks wait for rank 0's Adam */
        if ((as = sal_agree(as, MPI_COMM_WORLD)) == SAL_OK) {
            MPI_Bcast(adam.W, (int)(c.D * c.C), MPI_DOUBLE, 0, MPI_COMM_WORLD);
            MPI_Bcast(adam.b, c.C, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        } else {
            adam.r.st = as;
            snprintf(adam.r.msg, sizeof(adam.r.msg), "%s", sal_errmsg());
        }
    }

    /* salient on each rank count; the reference is the run on the most ranks */
    int kref = 0;
    for (int i = 0; i < o.nk; i++)
        kref = o.k[i] > kref ? o.k[i] : kref;
    run_result *res = calloc((size_t)o.nk, sizeof(*res));
    sal_probe ref;
    memset(&ref, 0, sizeof(ref));
    int ref_taken = 0, adam_scored = 0, ref_run = -1;
    double t1 = NAN, optimum = NAN; /* the lowest objective of the converged runs so far */
    int it1 = 0;                    /* iterations of the 1-rank run */
    sal_status worst = SAL_OK;
    for (int i = 0; i < o.nk && res; i++) {
        MPI_Comm sub;
        MPI_Comm_split(MPI_COMM_WORLD, rank < o.k[i] ? 0 : MPI_UNDEFINED, rank, &sub);
        int take_ref = !ref_taken && o.k[i] == kref;
        int score_adam = o.adam && adam.r.st == SAL_OK && !adam_scored;
        if (sub != MPI_COMM_NULL) {
            salient_run(&o, &c, sub, score_adam ? &adam : NULL, &res[i],
                        take_ref ? &ref : NULL);
            MPI_Comm_free(&sub);
        }
        ref_taken |= take_ref;
        if (take_ref)
            ref_run = i;
        adam_scored |= score_adam;
        worst = res[i].st > worst && rank == 0 ? res[i].st : worst;
        if (res[i].st == SAL_OK && !(res[i].objective >= optimum))
            optimum = res[i].objective;
        if (rank == 0) { /* printed now, so that a long benchmark stopped later keeps it */
            if (o.k[i] == 1 && res[i].st == SAL_OK)
                t1 = res[i].seconds, it1 = res[i].iterations;
            print_salient(&res[i], t1);
            print_json(&o, &c, &res[i], optimum);
            fflush(stdout);
        }
        sleepy_barrier(MPI_COMM_WORLD); /* ranks outside the run wait here */
    }
    if (!res && rank == 0)
        fprintf(stderr, "bench-probe: out of memory\n");
    for (int i = 0; i < o.nk && res && rank == 0 && isfinite(t1); i++)
        if (o.k[i] > 1 && res[i].st == SAL_OK)
            printf("salient speed-up of %d ranks over 1 rank: %.2f (setup + solve; %d against "
                   "%d iterations)\n", o.k[i], t1 / res[i].seconds, res[i].iterations, it1);

    if (rank == 0 && o.adam) {
        run_result *a = &adam.r;
        printf("adam-c (NeuroX's loop in C: Adam, 10 epochs, batch 32, lr 1e-3, float32; "
               "1 rank): %s", status_word(a));
        if (a->msg[0])
            printf(" (%s)", a->msg);
        printf("\n");
        if (a->st == SAL_OK) {
            printf("  %.2f s, %lld steps; salient's objective %.12g, %.3g above the optimum "
                   "(%.3g relative), violation %.3g\n",
                   a->seconds, (long long)a->steps, a->objective, a->objective - optimum,
                   (a->objective - optimum) / fabs(optimum), a->violation);
            printf("  accuracy train %.4f, test %.4f; peak RSS %.0f MB%s\n", a->train_acc,
                   a->test_acc, a->rss_max,
                   a->rss_reset ? "" : " [process peak so far: reset unavailable]");
            if (isfinite(t1))
                printf("  time ratio salient 1 rank to the optimum / adam 10 epochs: %.2f\n",
                       t1 / a->seconds);
        }
    }
    if (rank == 0 && o.adam) {
        print_json(&o, &c, &adam.r, optimum);
        fflush(stdout);
    }

    /* the reference file: only a certified solution */
    if (o.reference_out) {
        sal_status ws = SAL_OK;
        if (rank == 0) {
            if (ref_run < 0 || res[ref_run].st != SAL_OK)
                ws = sal_fail(SAL_ERR_NOCONV, "%s not written: the %d-rank run did not reach "
                              "the tolerance", o.reference_out, kref);
            else if ((ws = reference_write(o.reference_out, &c, &ref, &o, kref)) == SAL_OK)
                printf("reference: %s (salient on %d rank%s, objective %.17g)\n",
                       o.reference_out, kref, kref > 1 ? "s" : "", ref.objective);
            if (ws)
                fprintf(stderr, "bench-probe: %s\n", sal_errmsg());
        }
        ws = sal_agree(ws, MPI_COMM_WORLD);
        worst = ws > worst ? ws : worst;
    }
    MPI_Bcast(&worst, (int)sizeof(worst), MPI_BYTE, 0, MPI_COMM_WORLD);
    sal_probe_free(&ref);
    free(res);
    free(adam.W);
    free(adam.b);
    case_close(&c);
    MPI_Finalize();
    return sal_exit_code(worst);
}
