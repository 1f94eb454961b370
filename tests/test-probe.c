/*
 * test-probe.c - the elastic-net probe against independent truth:
 *  - optimality conditions recomputed here, serially, from the full X (not the
 *    solver's distributed gradient), on random problems over N, D, C, lambdas;
 *  - a 10x longer run does not lower the objective by more than 1e-9 relative;
 *  - planted informative neurons carry the largest weights;
 *  - the world grid and a one-process grid agree (objective to 1e-8, top 20);
 *  - bad input is refused with a message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/probe.h"
#include "testutil.h"


typedef struct problem {
    int64_t N, D;
    int C;
    double *X; /* N x D column-major, full on every process */
    int32_t *y;
} problem;

/* Activations like real ones: column means up to 40, scales from 0.1 to 10, labels
 * from a planted softmax model on the first k neurons (signal strength s). */
static problem make_problem(uint64_t seed, int64_t N, int64_t D, int C, int k, double s)
{
    problem p = {N, D, C, malloc(sizeof(double) * (size_t)(N * D)), malloc(sizeof(int32_t) * (size_t)N)};
    rng_state = seed;
    double *mean = malloc(sizeof(double) * (size_t)D), *scale = malloc(sizeof(double) * (size_t)D);
    for (int64_t j = 0; j < D; j++) {
        mean[j] = 40 * urand() - 5;
        scale[j] = pow(10, 2 * urand() - 1);
    }
    double *Wt = malloc(sizeof(double) * (size_t)(k * C));
    for (int i = 0; i < k * C; i++)
        Wt[i] = s * nrand();
    for (int64_t i = 0; i < N; i++) {
        double best = -INFINITY;
        int arg = 0;
        for (int64_t j = 0; j < D; j++)
            p.X[i + j * N] = mean[j] + scale[j] * nrand();
        for (int c = 0; c < C; c++) {
            double z = 0.5 * nrand();
            for (int j = 0; j < k && j < D; j++)
                z += Wt[j + c * k] * (p.X[i + j * N] - mean[j]) / scale[j];
            if (z > best) {
                best = z;
                arg = c;
            }
        }
        p.y[i] = arg;
    }
    /* every class present */
    for (int c = 0; c < C; c++)
        p.y[c] = c;
    free(mean);
    free(scale);
    free(Wt);
    return p;
}

static void free_problem(problem *p)
{
    free(p->X);
    free(p->y);
}

/* The distributed copy of X on grid g (blocks mb x nb). */
static void distribute(const problem *p, const sal_grid *g, int64_t mb, int64_t nb, sal_pmat *X)
{
    CHECK_OK(sal_pmat_init(X, g, p->N, p->D, mb, nb));
    sal_pmat_scatter_replicated(X, p->X, p->N);
}

/* Objective and optimality violation computed serially and directly from the full X. */
static void serial_kkt(const problem *p, const sal_probe *pr, double l1, double l2, double *obj,
                       double *viol)
{
    int64_t N = p->N, D = p->D;
    int C = p->C;
    double *g = calloc((size_t)(D * C), sizeof(double)), *gb = calloc((size_t)C, sizeof(double));
    double *z = malloc(sizeof(double) * (size_t)C), loss = 0;
    for (int64_t i = 0; i < N; i++) {
        double zmax = -INFINITY, s = 0;
        for (int c = 0; c < C; c++) {
            z[c] = pr->b[c];
            for (int64_t j = 0; j < D; j++)
                z[c] += pr->W[j + c * D] * p->X[i + j * N];
            zmax = fmax(zmax, z[c]);
        }
        for (int c = 0; c < C; c++)
            s += exp(z[c] - zmax);
        loss += zmax + log(s) - z[p->y[i]];
        for (int c = 0; c < C; c++) {
            double r = (exp(z[c] - zmax) / s - (c == p->y[i])) / (double)N;
            gb[c] += r;
            for (int64_t j = 0; j < D; j++)
                g[j + c * D] += r * p->X[i + j * N];
        }
    }
    double pen = 0, v = 0;
    for (int64_t i = 0; i < D * C; i++) {
        double w = pr->W[i], e;
        pen += l1 * fabs(w) + l2 * w * w;
        e = w != 0 ? fabs(g[i] + l1 * (w > 0 ? 1 : -1) + 2 * l2 * w) : fabs(g[i]) - l1;
        v = fmax(v, e);
    }
    for (int c = 0; c < C; c++)
        v = fmax(v, fabs(gb[c]));
    *obj = loss / (double)N + pen;
    *viol = v;
    free(g);
    free(gb);
    free(z);
}

/* Rank neurons by sum over classes of |w|, descending, ties by index. */
static void rank_neurons(const sal_probe *pr, int64_t *order)
{
    int64_t D = pr->D;
    double *score = calloc((size_t)D, sizeof(double));
    for (int64_t j = 0; j < D; j++) {
        order[j] = j;
        for (int c = 0; c < pr->C; c++)
            score[j] += fabs(pr->W[j + c * D]);
    }
    for (int64_t a = 1; a < D; a++) { /* insertion sort: D is small here */
        int64_t x = order[a], b = a;
        while (b > 0 && score[order[b - 1]] < score[x])
            order[b] = order[b - 1], b--;
        order[b] = x;
    }
    free(score);
}

static void check_optimality(const sal_grid *g, int rank, int size)
{
    struct {
        int64_t N, D;
        int C;
        double l1, l2;
        int metric;
    } cases[] = {
        {400, 12, 2, 1e-2, 1e-2, 0},   {600, 30, 5, 1e-3, 1e-4, 0},
        {500, 20, 50, 1e-4, 1e-3, 0},  {800, 40, 10, 1e-5, 1e-5, 0},
        {300, 25, 3, 1e-6, 1e-6, 0},   {700, 16, 20, 1e-2, 1e-6, 0},
        {1500, 30, 6, 1e-4, 1e-4, SAL_PROBE_METRIC_DIAGONAL},
    };
    const char *only = getenv("PROBE_CASE");
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        if (only && (size_t)atoi(only) != t)
            continue;
        problem p = make_problem(100 + t, cases[t].N, cases[t].D, cases[t].C, 4, 3.0);
        sal_pmat X;
        distribute(&p, g, 64, 8, &X);
        sal_probe_problem *pb;
        CHECK_OK(sal_probe_problem_init(&X, g, p.y, p.C, &pb));
        sal_probe_params prm = SAL_PROBE_PARAMS_DEFAULT;
        prm.lambda1 = cases[t].l1;
        prm.lambda2 = cases[t].l2;
        prm.tol = 1e-7;
        prm.metric = cases[t].metric;
        prm.verbose = getenv("PROBE_VERBOSE") != NULL;
        sal_probe pr, longer = {0};
        CHECK_OK(sal_probe_solve(pb, &prm, NULL, &pr));
        double obj, viol;
        serial_kkt(&p, &pr, prm.lambda1, prm.lambda2, &obj, &viol);
        CHECK(viol < prm.tol, "case %zu: serial violation %.3g >= tol (solver says %.3g)", t,
              viol, pr.violation);
        CHECK(fabs(obj - pr.objective) <= 1e-10 * fabs(obj), "case %zu: objective %.17g vs %.17g",
              t, pr.objective, obj);
        /* ten times the iterations, with a tolerance it cannot meet (on one rank only:
         * optimality does not depend on the grid, which check_grids covers, and thousands
         * of oversubscribed collectives would only slow the suite) */
        longer.objective = pr.objective;
        if (size == 1) {
            sal_probe_params lp = prm;
            lp.tol = 1e-300;
            lp.max_iter = 10 * pr.iterations;
            sal_status st = sal_probe_solve(pb, &lp, NULL, &longer);
            CHECK(st == SAL_OK || st == SAL_ERR_NOCONV, "long run failed");
            CHECK(pr.objective - longer.objective <= 1e-9 * fabs(pr.objective),
                  "case %zu: 10x run lowered the objective from %.17g to %.17g", t, pr.objective,
                  longer.objective);
        }
        if (rank == 0)
            printf("case %zu: N=%lld D=%lld C=%d l1=%g l2=%g %s: %d iterations, %d products, "
                   "violation %.2g, objective %.12g (10x run: %.12g)\n",
                   t, (long long)p.N, (long long)p.D, p.C, prm.lambda1, prm.lambda2,
                   prm.metric == SAL_PROBE_METRIC_DIAGONAL ? "diagonal" : "gram", pr.iterations, pr.gemms, viol, pr.objective, longer.objective);
        sal_probe_free(&pr);
        sal_probe_free(&longer);
        sal_probe_problem_free(pb);
        sal_pmat_free(&X);
        free_problem(&p);
    }
}

/* Planted: k informative neurons among D are the top k of the ranking. */
static void check_planted(const sal_grid *g)
{
    int k = 5;
    problem p = make_problem(7, 3000, 60, 4, k, 4.0);
    sal_pmat X;
    distribute(&p, g, 100, 16, &X);
    sal_probe_problem *pb;
    CHECK_OK(sal_probe_problem_init(&X, g, p.y, p.C, &pb));
    sal_probe_params prm = SAL_PROBE_PARAMS_DEFAULT;
    prm.lambda1 = 1e-3;
    sal_probe pr;
    CHECK_OK(sal_probe_solve(pb, &prm, NULL, &pr));
    int64_t order[60];
    rank_neurons(&pr, order);
    int hits = 0;
    for (int i = 0; i < k; i++)
        hits += order[i] < k;
    CHECK(hits == k, "planted neurons in the top %d: %d", k, hits);
    sal_probe_free(&pr);
    sal_probe_problem_free(pb);
    sal_pmat_free(&X);
    free_problem(&p);
}

/* The world grid and a grid of rank 0 alone give the same answer. */
static void check_grids(const sal_grid *world, int rank, int size)
{
    problem p = make_problem(11, 2000, 64, 8, 6, 3.0);
    sal_probe_params prm = SAL_PROBE_PARAMS_DEFAULT;
    prm.tol = 1e-8;
    sal_pmat X;
    distribute(&p, world, 37, 8, &X);
    sal_probe_problem *pb;
    sal_probe pw, p1 = {0};
    CHECK_OK(sal_probe_problem_init(&X, world, p.y, p.C, &pb));
    CHECK_OK(sal_probe_solve(pb, &prm, NULL, &pw));
    sal_probe_problem_free(pb);
    sal_pmat_free(&X);
    MPI_Comm solo;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? 0 : MPI_UNDEFINED, 0, &solo);
    double obj1 = 0;
    int64_t top1[20], topw[20], order[64];
    if (rank == 0) {
        sal_grid *g1;
        CHECK_OK(sal_grid_init(solo, 1, 1, &g1));
        distribute(&p, g1, 64, 64, &X);
        CHECK_OK(sal_probe_problem_init(&X, g1, p.y, p.C, &pb));
        CHECK_OK(sal_probe_solve(pb, &prm, NULL, &p1));
        obj1 = p1.objective;
        rank_neurons(&p1, order);
        memcpy(top1, order, sizeof(top1));
        sal_probe_problem_free(pb);
        sal_pmat_free(&X);
        sal_grid_free(g1);
        MPI_Comm_free(&solo);
    }
    MPI_Bcast(&obj1, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Bcast(top1, 20, MPI_INT64_T, 0, MPI_COMM_WORLD);
    rank_neurons(&pw, order);
    memcpy(topw, order, sizeof(topw));
    CHECK(fabs(pw.objective - obj1) <= 1e-8 * fabs(obj1), "%d ranks: objective %.17g, 1 rank %.17g",
          size, pw.objective, obj1);
    CHECK(memcmp(top1, topw, sizeof(top1)) == 0, "%d ranks: top 20 differs from 1 rank", size);
    if (rank == 0)
        printf("grids: %d ranks objective %.15g, 1 rank %.15g\n", size, pw.objective, obj1);
    sal_probe_free(&pw);
    sal_probe_free(&p1);
    free_problem(&p);
}

static void check_bad_input(const sal_grid *g)
{
    sal_probe_params prm = SAL_PROBE_PARAMS_DEFAULT;
    prm.lambda1 = -1;
    const char *msg = sal_probe_check(&prm);
    CHECK(msg && strstr(msg, "lambda1"), "negative lambda1 accepted");
    prm.lambda1 = 0;
    prm.lambda2 = NAN;
    msg = sal_probe_check(&prm);
    CHECK(msg && strstr(msg, "lambda2"), "NaN lambda2 accepted");

    problem p = make_problem(3, 50, 4, 2, 2, 1.0);
    sal_pmat X;
    distribute(&p, g, 16, 4, &X);
    sal_probe_problem *pb = NULL;
    for (int i = 0; i < 50; i++)
        p.y[i] = 0;
    CHECK(sal_probe_problem_init(&X, g, p.y, 2, &pb) == SAL_ERR_FORMAT && !pb,
          "one class accepted");
    CHECK(strstr(sal_errmsg(), "class 1 has no training tokens") != NULL, "message: %s",
          sal_errmsg());
    CHECK(sal_probe_problem_init(&X, g, p.y, 1, &pb) == SAL_ERR_FORMAT, "C = 1 accepted");
    p.y[3] = 7;
    CHECK(sal_probe_problem_init(&X, g, p.y, 2, &pb) == SAL_ERR_FORMAT, "label 7 accepted");
    p.y[3] = 1;
    /* a NaN, wherever it lives */
    p.X[17 + 2 * 50] = NAN;
    sal_pmat_scatter_replicated(&X, p.X, p.N);
    CHECK(sal_probe_problem_init(&X, g, p.y, 2, &pb) == SAL_ERR_FORMAT, "NaN accepted");
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
    check_optimality(g, rank, size);
    check_planted(g);
    check_grids(g, rank, size);
    check_bad_input(g);
    sal_grid_free(g);
    if (size == 4) { /* a 2 x 2 grid too */
        CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 2, 2, &g));
        check_optimality(g, rank, size);
        sal_grid_free(g);
    }
    int rc = test_finish("test-probe");
    MPI_Finalize();
    return rc;
}
