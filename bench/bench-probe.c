/*
 * bench-probe.c - how fast the probe reaches the optimum, against NeuroX's way.
 *
 * For each shape (POS-like N x 768 x 45, all-layers-like N x 4096 x 45, binary
 * N x 768 x 2) on synthetic activations shaped like real ones (column means up to
 * 40, scales 0.1 to 10, classes with Zipf frequencies and low-rank centers, noise
 * so that accuracy is not 100%), prints:
 *  - salient's solve: time to the tolerance, iterations, products, GFLOP/s of the
 *    whole solve, and dgemm/sgemm GFLOP/s measured in this run on the same shapes;
 *  - NeuroX's baseline in the same process on the same data: Adam, 10 epochs, batch
 *    32, lr 1e-3, float32, its loss (CE + l1 |W|_1 + l2 |W|_F); its time and its final
 *    value of salient's objective; the ratio of times;
 *  - with 2+ ranks: the same unit on one rank and on all ranks.
 * Usage: bench-probe [N] [shapes: pos,all,binary]   (N defaults to 100000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salient/probe.h"

void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);
void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);

static uint64_t rng;
static double urand(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    return sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand());
}

/* Synthetic activations (N x D, column-major, float) and labels. */
static void make_data(int64_t N, int64_t D, int C, float *X, int32_t *y)
{
    rng = 12345;
    int R = 16;
    double *A = malloc(sizeof(double) * (size_t)(D * R)), *U = malloc(sizeof(double) * (size_t)(R * C));
    double *mean = malloc(sizeof(double) * (size_t)D), *scale = malloc(sizeof(double) * (size_t)D);
    double *cw = malloc(sizeof(double) * (size_t)C), tot = 0;
    for (int64_t i = 0; i < D * R; i++)
        A[i] = nrand() / sqrt((double)R);
    for (int i = 0; i < R * C; i++)
        U[i] = 0.9 * nrand();
    for (int64_t j = 0; j < D; j++) {
        mean[j] = urand() < 0.05 ? 20 + 26 * urand() : nrand();
        scale[j] = pow(10, 2 * urand() - 1);
    }
    for (int c = 0; c < C; c++)
        tot += cw[c] = 1.0 / (c + 1);
    double *center = malloc(sizeof(double) * (size_t)D);
    for (int64_t i = 0; i < N; i++) {
        double u = urand() * tot;
        int c = 0;
        while (c < C - 1 && u > cw[c])
            u -= cw[c++];
        if (i < C)
            c = (int)i; /* every class present */
        else if (urand() < 0.05)
            c = (int)(urand() * C); /* tagging noise: no probe reaches 100% */
        y[i] = c;
        for (int64_t j = 0; j < D; j++) {
            double m = 0;
            for (int r = 0; r < R; r++)
                m += A[j + r * D] * U[r + c * R];
            X[i + j * N] = (float)(mean[j] + scale[j] * (m + nrand()));
        }
    }
    free(A), free(U), free(mean), free(scale), free(cw), free(center);
}

/* NeuroX's training: Adam on mini-batches, float32. Returns W (D x C col-major), b. */
static double adam_baseline(const float *X, const int32_t *y, int64_t N, int64_t D, int C,
                            double l1, double l2, double *Wout, double *bout)
{
    const int B = 32, epochs = 10;
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    int64_t P = D * C;
    float *W = calloc((size_t)(P + C), sizeof(float)), *m = calloc((size_t)(P + C), sizeof(float));
    float *v = calloc((size_t)(P + C), sizeof(float)), *g = calloc((size_t)(P + C), sizeof(float));
    float *xb = malloc(sizeof(float) * (size_t)(B * D)), *z = malloc(sizeof(float) * (size_t)(B * C));
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)N);
    for (int64_t i = 0; i < N; i++)
        perm[i] = i;
    /* PyTorch's default Linear init: U(-1/sqrt(D), 1/sqrt(D)) */
    rng = 99;
    for (int64_t i = 0; i < P + C; i++)
        W[i] = (float)((2 * urand() - 1) / sqrt((double)D));
    double t0 = MPI_Wtime();
    int64_t step = 0;
    for (int e = 0; e < epochs; e++) {
        for (int64_t i = N - 1; i > 0; i--) {
            int64_t k = (int64_t)(urand() * (double)(i + 1)), t = perm[i];
            perm[i] = perm[k], perm[k] = t;
        }
        for (int64_t s = 0; s < N; s += B) {
            int nb = (int)(N - s < B ? N - s : B);
            for (int64_t j = 0; j < D; j++)
                for (int r = 0; r < nb; r++)
                    xb[r + j * nb] = X[perm[s + r] + j * N];
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
    free(W), free(m), free(v), free(g), free(xb), free(z), free(perm);
    return t;
}

/* GFLOP/s of sgemm and dgemm on the probe's forward shape (N x D times D x C). */
static void gemm_peak(int64_t N, int64_t D, int C, double *sg, double *dg)
{
    int n = (int)(N < 20000 ? N : 20000), d = (int)D;
    float *a = calloc((size_t)n * (size_t)d, sizeof(float)), *b = calloc((size_t)d * (size_t)C, sizeof(float));
    float *c = calloc((size_t)n * (size_t)C, sizeof(float)), one = 1, zero = 0;
    double *A = calloc((size_t)n * (size_t)d, sizeof(double)), *Bd = calloc((size_t)d * (size_t)C, sizeof(double));
    double *Cd = calloc((size_t)n * (size_t)C, sizeof(double)), oned = 1, zerod = 0;
    for (size_t i = 0; i < (size_t)n * (size_t)d; i++)
        a[i] = (float)(A[i] = urand());
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
    free(a), free(b), free(c), free(A), free(Bd), free(Cd);
}

/* Solve on grid g; returns the probe. */
static sal_status solve_on(const sal_grid *g, const float *X, const int32_t *y, int64_t N,
                           int64_t D, int C, const sal_probe_params *prm, sal_probe *pr,
                           double *setup)
{
    sal_pmat Xp;
    sal_status st = sal_pmat_init(&Xp, g, N, D, 256, D);
    if (st)
        return st;
    int64_t ld = Xp.desc[SAL_LLD];
    for (int64_t jl = 0; jl < Xp.lcols; jl++) {
        int64_t gj = sal_pmat_gcol(&Xp, jl);
        for (int64_t il = 0; il < Xp.lrows; il++)
            Xp.a[il + jl * ld] = X[sal_pmat_grow(&Xp, il) + gj * N];
    }
    double t0 = MPI_Wtime();
    sal_probe_problem *pb;
    st = sal_probe_problem_init(&Xp, g, y, C, &pb);
    *setup = MPI_Wtime() - t0;
    if (st == SAL_OK) {
        st = sal_probe_solve(pb, prm, NULL, pr);
        sal_probe_problem_free(pb);
    }
    sal_pmat_free(&Xp);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int64_t N = argc > 1 ? atoll(argv[1]) : 100000;
    const char *which = argc > 2 ? argv[2] : "pos,all,binary";
    struct {
        const char *name;
        int64_t D;
        int C;
    } shapes[] = {{"pos", 768, 45}, {"all", 4096, 45}, {"binary", 768, 2}};
    sal_probe_params prm = SAL_PROBE_PARAMS_DEFAULT;
    prm.verbose = getenv("BENCH_VERBOSE") != NULL;
    for (int s = 0; s < 3; s++) {
        if (!strstr(which, shapes[s].name))
            continue;
        int64_t D = shapes[s].D;
        int C = shapes[s].C;
        float *X = malloc(sizeof(float) * (size_t)(N * D));
        int32_t *y = malloc(sizeof(int32_t) * (size_t)N);
        make_data(N, D, C, X, y);
        double sg = 0, dg = 0;
        if (rank == 0) {
            gemm_peak(N, D, C, &sg, &dg);
            printf("\n== %s: N=%lld D=%lld C=%d lambda1=%g lambda2=%g tol=%g ==\n", shapes[s].name,
                   (long long)N, (long long)D, C, prm.lambda1, prm.lambda2, prm.tol);
            printf("gemm peak on this shape: sgemm %.1f GFLOP/s, dgemm %.1f GFLOP/s\n", sg, dg);
        }
        /* salient on one rank (rank 0 alone) */
        MPI_Comm solo;
        MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? 0 : MPI_UNDEFINED, 0, &solo);
        double t1 = 0;
        if (rank == 0) {
            sal_grid *g1;
            sal_probe pr;
            double setup;
            sal_grid_init(solo, 1, 1, &g1);
            sal_status st = solve_on(g1, X, y, N, D, C, &prm, &pr, &setup);
            double flops = 2.0 * N * D * C * pr.gemms + 2.0 * N * D * D / 2;
            t1 = pr.seconds + setup;
            printf("salient 1 rank: %s, setup (means, Gram) %.2f s, solve %.2f s, %d iterations, "
                   "%d products, objective %.10g, violation %.2g, %.1f GFLOP/s overall "
                   "(%.0f%% of sgemm, %.0f%% of dgemm)\n",
                   sal_status_str(st), setup, pr.seconds, pr.iterations, pr.gemms, pr.objective,
                   pr.violation, flops / t1 / 1e9, 100 * flops / t1 / 1e9 / sg,
                   100 * flops / t1 / 1e9 / dg);
            double *Wa = malloc(sizeof(double) * (size_t)(D * C)), *ba = malloc(sizeof(double) * (size_t)C);
            double ta = adam_baseline(X, y, N, D, C, prm.lambda1, prm.lambda2, Wa, ba);
            /* its value of salient's objective */
            sal_pmat Xp;
            sal_pmat_init(&Xp, g1, N, D, 256, D);
            for (int64_t j = 0; j < D; j++)
                for (int64_t i = 0; i < N; i++)
                    Xp.a[i + j * N] = X[i + j * N];
            sal_probe_problem *pb;
            double obj = NAN, loss, viol = NAN;
            if (sal_probe_problem_init(&Xp, g1, y, C, &pb) == SAL_OK) {
                sal_probe_evaluate(pb, &prm, Wa, ba, &obj, &loss, &viol);
                sal_probe_problem_free(pb);
            }
            sal_pmat_free(&Xp);
            printf("NeuroX baseline (Adam, 10 epochs, batch 32, lr 1e-3): %.2f s, objective %.10g "
                   "(%.3g above the optimum), violation %.2g\n",
                   ta, obj, obj - pr.objective, viol);
            printf("ratio: salient to optimum / baseline 10 epochs = %.2f\n", t1 / ta);
            free(Wa), free(ba);
            sal_probe_free(&pr);
            sal_grid_free(g1);
            MPI_Comm_free(&solo);
        }
        if (size > 1) {
            sal_grid *g;
            sal_probe pr;
            double setup;
            sal_grid_init(MPI_COMM_WORLD, 0, 0, &g);
            sal_status st = solve_on(g, X, y, N, D, C, &prm, &pr, &setup);
            if (rank == 0)
                printf("salient %d ranks: %s, setup %.2f s, solve %.2f s, %d iterations, objective "
                       "%.10g; speed-up over 1 rank %.2f\n",
                       size, sal_status_str(st), setup, pr.seconds, pr.iterations, pr.objective,
                       t1 / (pr.seconds + setup));
            sal_probe_free(&pr);
            sal_grid_free(g);
        }
        fflush(stdout);
        free(X);
        free(y);
    }
    MPI_Finalize();
    return 0;
}
