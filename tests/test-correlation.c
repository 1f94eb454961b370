/*
 * test-correlation.c - neuron correlations and the analyses on them, against
 * independent truth:
 *  - the distributed correlation matrix (X against Y, X against itself, replicated and
 *    distributed) equals a serial two-pass computation done here to 1e-10 absolute on
 *    activation-like data (means up to 40, scales 0.1 to 10), odd blocks, DA != DB,
 *    on several grids (size x 1, 1 x size, 2 x 2 when run with 4 ranks);
 *  - planted duplicates across models: a neuron of B copying a neuron of A (plus noise
 *    of relative std 1e-3) ranks first by MaxCorr with r > 0.999 and is the top pair;
 *    a neuron copied into only one of two other models ranks high by MaxCorr, not by
 *    MinCorr;
 *  - redundancy clusters: copies within a unit share a cluster, random neurons stay
 *    apart; a hand-worked average-linkage case; a brute-force average linkage (cluster
 *    averages recomputed from scratch at every merge) agrees on factor-model data;
 *  - constant columns give r = 0, flags and no NaN; bad input is refused on every
 *    process with a message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/correlation.h"
#include "testutil.h"


static int g_rank;

/* N x D activations, column-major: column means in [-5, 40] (every 7th at 40), scales
 * 10^[-1, 1]. */
static double *make_acts(int64_t N, int64_t D)
{
    double *X = malloc(sizeof(*X) * (size_t)(N * D));
    for (int64_t j = 0; j < D; j++) {
        double mean = j % 7 == 3 ? 40 : 45 * urand() - 5, scale = pow(10, 2 * urand() - 1);
        for (int64_t i = 0; i < N; i++)
            X[i + j * N] = mean + scale * nrand();
    }
    return X;
}

/* Column dst of Y := a * (column src of X, centered) + offset + noise * std(src) * N(0,1). */
static void plant_copy(const double *X, int64_t src, double *Y, int64_t dst, int64_t N, double a,
                       double offset, double noise)
{
    double m = 0, q = 0;
    for (int64_t i = 0; i < N; i++)
        m += X[i + src * N];
    m /= (double)N;
    for (int64_t i = 0; i < N; i++)
        q += (X[i + src * N] - m) * (X[i + src * N] - m);
    double s = sqrt(q / (double)N);
    for (int64_t i = 0; i < N; i++)
        Y[i + dst * N] = a * (X[i + src * N] - m) + offset + fabs(a) * noise * s * nrand();
}

/* Serial two-pass Pearson matrix of the columns of X (N x DA) and Y (N x DB). */
static double *serial_corr(const double *X, int64_t DA, const double *Y, int64_t DB, int64_t N)
{
    double *dx = malloc(sizeof(*dx) * (size_t)(N * DA)),
           *dy = malloc(sizeof(*dy) * (size_t)(N * DB));
    double *nx = malloc(sizeof(*nx) * (size_t)DA), *ny = malloc(sizeof(*ny) * (size_t)DB);
    double *r = malloc(sizeof(*r) * (size_t)(DA * DB));
    const double *src[2] = {X, Y};
    double *dev[2] = {dx, dy}, *nrm[2] = {nx, ny};
    int64_t cols[2] = {DA, DB};
    for (int s = 0; s < 2; s++)
        for (int64_t j = 0; j < cols[s]; j++) {
            const double *c = src[s] + j * N;
            double m = 0, corr = 0, q = 0;
            for (int64_t i = 0; i < N; i++)
                m += c[i];
            m /= (double)N;
            for (int64_t i = 0; i < N; i++)
                corr += c[i] - m;
            m += corr / (double)N;
            for (int64_t i = 0; i < N; i++) {
                dev[s][i + j * N] = c[i] - m;
                q += (c[i] - m) * (c[i] - m);
            }
            nrm[s][j] = sqrt(q);
        }
    for (int64_t a = 0; a < DA; a++)
        for (int64_t b = 0; b < DB; b++) {
            double p = 0;
            for (int64_t i = 0; i < N; i++)
                p += dx[i + a * N] * dy[i + b * N];
            r[a + b * DA] = p / (nx[a] * ny[b]);
        }
    free(dx);
    free(dy);
    free(nx);
    free(ny);
    return r;
}

static void distribute(const double *full, int64_t N, int64_t D, const sal_grid *g, int64_t mb,
                       int64_t nb, sal_pmat *X)
{
    CHECK_OK(sal_pmat_init(X, g, N, D, mb, nb));
    sal_pmat_scatter_replicated(X, full, N);
}

static double max_abs_diff(const double *a, const double *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - b[i]));
    return e;
}

/* The distributed matrices against the serial one. */
static void check_serial(const sal_grid *g, const char *label, uint64_t seed, int64_t N, int64_t DA,
                         int64_t DB, int64_t mb, int64_t nba, int64_t nbb)
{
    rng_state = seed;
    double *X = make_acts(N, DA), *Y = make_acts(N, DB);
    /* some strong correlations too, of both signs */
    plant_copy(X, 1, Y, 0, N, 3.0, 40, 0.5);
    plant_copy(X, 4, Y, 2, N, -0.2, 12, 0.05);
    plant_copy(X, 0, X, DA - 1, N, 1.0, 39, 0.01);
    double *ref = serial_corr(X, DA, Y, DB, N), *refxx = serial_corr(X, DA, X, DA, N);
    sal_pmat Xp, Yp, R = {0};
    distribute(X, N, DA, g, mb, nba, &Xp);
    distribute(Y, N, DB, g, mb, nbb, &Yp);

    sal_corr c = {0}, cxx = {0};
    CHECK_OK(sal_correlation_matrix(&Xp, &Yp, g, &c));
    CHECK_OK(sal_correlation_matrix(&Xp, &Xp, g, &cxx));
    double exy = c.r ? max_abs_diff(c.r, ref, DA * DB) : INFINITY;
    double exx = cxx.r ? max_abs_diff(cxx.r, refxx, DA * DA) : INFINITY;
    CHECK(exy <= 1e-10, "%s: X-Y max error %.3g", label, exy);
    CHECK(exx <= 1e-10, "%s: X-X max error %.3g", label, exx);
    CHECK(c.nconst_a == 0 && c.nconst_b == 0 && !c.same && cxx.same, "%s: flags", label);
    int sym = 1;
    for (int64_t j = 0; cxx.r && j < DA; j++)
        for (int64_t i = 0; i < DA; i++)
            sym &= cxx.r[i + j * DA] == cxx.r[j + i * DA] && (i != j || cxx.r[i + j * DA] == 1);
    CHECK(sym, "%s: X-X not exactly symmetric with a unit diagonal", label);

    /* distributed: gathered, and its best matches against the replicated ones */
    unsigned char ca[64], cb[64];
    CHECK_OK(sal_correlation_pmat(&Xp, &Yp, g, &R, ca, cb));
    double *full = malloc(sizeof(*full) * (size_t)(DA * DB));
    CHECK_OK(sal_pmat_allgather(&R, full, DA, sal_grid_comm(g)));
    double ep = max_abs_diff(full, ref, DA * DB);
    CHECK(ep <= 1e-10, "%s: distributed X-Y max error %.3g", label, ep);
    for (int side = 0; side < 2; side++) {
        int64_t n = side == SAL_CORR_ROWS ? DA : DB;
        double b1[64], b2[64];
        int64_t a1[64], a2[64];
        CHECK_OK(sal_corr_best_match(&c, side, b1, a1));
        CHECK_OK(sal_corr_pmat_best_match(&R, g, side, b2, a2));
        int same = 1;
        for (int64_t i = 0; i < n; i++)
            same &= fabs(b1[i] - b2[i]) <= 1e-12 && a1[i] == a2[i];
        CHECK(same, "%s: distributed best matches differ on side %d", label, side);
    }
    if (g_rank == 0)
        printf("%s: N=%lld DA=%lld DB=%lld blocks %lldx%lld/%lld: max |error| X-Y %.2e, "
               "X-X %.2e, distributed %.2e\n",
               label, (long long)N, (long long)DA, (long long)DB, (long long)mb, (long long)nba,
               (long long)nbb, exy, exx, ep);
    free(full);
    sal_pmat_free(&R);
    sal_corr_free(&c);
    sal_corr_free(&cxx);
    sal_pmat_free(&Xp);
    sal_pmat_free(&Yp);
    free(X);
    free(Y);
    free(ref);
    free(refxx);
}

/* Planted duplicates across three models over the same tokens. */
static void check_planted(const sal_grid *g)
{
    int64_t N = 600, DA = 40, DB = 30, DC = 35;
    rng_state = 77;
    double *A = make_acts(N, DA), *B = make_acts(N, DB), *C = make_acts(N, DC);
    plant_copy(A, 7, B, 3, N, 0.5, 20, 1e-3);  /* A7 in B (r ~ 1 - 5e-7) */
    plant_copy(A, 7, C, 11, N, -4.0, 3, 1e-3); /* and in C, negated */
    plant_copy(A, 2, B, 20, N, 2.0, 35, 0.3);  /* A2 only in B, looser (r ~ 0.96) */
    sal_pmat Ap, Bp, Cp;
    distribute(A, N, DA, g, 37, 5, &Ap);
    distribute(B, N, DB, g, 37, 3, &Bp);
    distribute(C, N, DC, g, 37, 7, &Cp);
    sal_corr ab = {0}, ac = {0}, bc = {0};
    CHECK_OK(sal_correlation_matrix(&Ap, &Bp, g, &ab));
    CHECK_OK(sal_correlation_matrix(&Ap, &Cp, g, &ac));
    CHECK_OK(sal_correlation_matrix(&Bp, &Cp, g, &bc));

    /* model A against B and C */
    double bb[64], bcA[64];
    int64_t argb[64], argc[64];
    CHECK_OK(sal_corr_best_match(&ab, SAL_CORR_ROWS, bb, argb));
    CHECK_OK(sal_corr_best_match(&ac, SAL_CORR_ROWS, bcA, argc));
    const double *bestA[2] = {bb, bcA};
    sal_crosscorr xa = {0};
    CHECK_OK(sal_crosscorr_rank(DA, 2, bestA, &xa));
    if (xa.maxcorr_rank) {
        CHECK(xa.maxcorr_rank[0] == 7 && xa.maxcorr[7] > 0.999,
              "A: MaxCorr first %lld (r %.9f), want 7 with r > 0.999",
              (long long)xa.maxcorr_rank[0], xa.maxcorr[7]);
        CHECK(xa.maxcorr_rank[1] == 2 && xa.maxcorr[2] > 0.9 && xa.maxcorr[2] < 0.99,
              "A: MaxCorr second %lld (r %.6f), want 2", (long long)xa.maxcorr_rank[1],
              xa.maxcorr[2]);
        CHECK(xa.mincorr_rank[0] == 7 && xa.mincorr[7] > 0.999, "A: MinCorr first %lld",
              (long long)xa.mincorr_rank[0]);
        int pos2 = 0;
        while (xa.mincorr_rank[pos2] != 2)
            pos2++;
        CHECK(pos2 > 1 && xa.mincorr[2] < 0.5, "A: neuron 2 (in B only) is %d by MinCorr with %.3f",
              pos2, xa.mincorr[2]);
        CHECK(argb[7] == 3 && argc[7] == 11 && argb[2] == 20, "A: best matches %lld %lld %lld",
              (long long)argb[7], (long long)argc[7], (long long)argb[2]);
        int sorted = 1;
        for (int64_t i = 1; i < DA; i++)
            sorted &= xa.maxcorr[xa.maxcorr_rank[i - 1]] >= xa.maxcorr[xa.maxcorr_rank[i]] &&
                      xa.mincorr[xa.mincorr_rank[i - 1]] >= xa.mincorr[xa.mincorr_rank[i]];
        CHECK(sorted, "A: rankings not sorted");
        if (g_rank == 0)
            printf("planted: A7 MaxCorr %.9f MinCorr %.9f; A2 MaxCorr %.6f MinCorr %.6f "
                   "(MinCorr place %d)\n",
                   xa.maxcorr[7], xa.mincorr[7], xa.maxcorr[2], xa.mincorr[2], pos2);
    }

    /* model B against A (columns of A x B) and C: its copy of A7 ranks first */
    double ba[64], bcB[64];
    CHECK_OK(sal_corr_best_match(&ab, SAL_CORR_COLS, ba, NULL));
    CHECK_OK(sal_corr_best_match(&bc, SAL_CORR_ROWS, bcB, NULL));
    const double *bestB[2] = {ba, bcB};
    sal_crosscorr xb = {0};
    CHECK_OK(sal_crosscorr_rank(DB, 2, bestB, &xb));
    if (xb.maxcorr_rank) {
        CHECK(xb.maxcorr_rank[0] == 3 && xb.maxcorr[3] > 0.999, "B: MaxCorr first %lld (%.9f)",
              (long long)xb.maxcorr_rank[0], xb.maxcorr[3]);
        CHECK(xb.mincorr_rank[0] == 3, "B: MinCorr first %lld", (long long)xb.mincorr_rank[0]);
    }

    /* top pairs of A x B */
    sal_corr_pair top[5];
    int64_t np = 0;
    CHECK_OK(sal_corr_top_pairs(&ab, 5, top, &np));
    CHECK(np == 5 && top[0].a == 7 && top[0].b == 3 && top[0].r > 0.999,
          "top pair (%lld, %lld, %.6f)", (long long)top[0].a, (long long)top[0].b, top[0].r);
    CHECK(top[1].a == 2 && top[1].b == 20, "second pair (%lld, %lld)", (long long)top[1].a,
          (long long)top[1].b);
    int desc = 1;
    for (int i = 1; i < 5; i++)
        desc &= fabs(top[i - 1].r) >= fabs(top[i].r);
    CHECK(desc, "top pairs not by |r| descending");
    /* all pairs: the heap agrees with a full sort */
    sal_corr_pair *all = malloc(sizeof(*all) * (size_t)(DA * DB));
    CHECK_OK(sal_corr_top_pairs(&ab, DA * DB + 10, all, &np));
    int ok = np == DA * DB;
    for (int64_t i = 1; ok && i < np; i++)
        ok &= fabs(all[i - 1].r) > fabs(all[i].r) ||
              (fabs(all[i - 1].r) == fabs(all[i].r) &&
               (all[i - 1].a < all[i].a || (all[i - 1].a == all[i].a && all[i - 1].b < all[i].b)));
    CHECK(ok && all[0].a == 7 && all[4].a == top[4].a && all[4].b == top[4].b,
          "full pair list: %lld pairs, order broken", (long long)np);
    if (g_rank == 0)
        printf("planted: top pair A%lld-B%lld r %.9f, second A%lld-B%lld r %.6f\n",
               (long long)top[0].a, (long long)top[0].b, top[0].r, (long long)top[1].a,
               (long long)top[1].b, top[1].r);
    free(all);
    sal_crosscorr_free(&xa);
    sal_crosscorr_free(&xb);
    sal_corr_free(&ab);
    sal_corr_free(&ac);
    sal_corr_free(&bc);
    sal_pmat_free(&Ap);
    sal_pmat_free(&Bp);
    sal_pmat_free(&Cp);
    free(A);
    free(B);
    free(C);
}

/* Cluster labels and representatives must be consistent: ids numbered by lowest
 * member, sizes and representatives matching. */
static void check_cluster_shape(const sal_clusters *cl, const char *label)
{
    int ok = cl->id && cl->D > 0 && cl->merges == cl->D - cl->count;
    int64_t next = 0;
    int64_t *size = calloc((size_t)(cl->count > 0 ? cl->count : 1), sizeof(*size));
    for (int64_t i = 0; ok && i < cl->D; i++) {
        ok &= cl->id[i] >= 0 && cl->id[i] <= next;
        if (ok && cl->id[i] == next)
            next++;
        if (ok)
            size[cl->id[i]]++;
    }
    ok &= next == cl->count;
    for (int64_t c = 0; ok && c < cl->count; c++)
        ok &= size[c] == cl->size[c] && cl->id[cl->rep[c]] == c;
    CHECK(ok, "%s: cluster labels, sizes or representatives inconsistent", label);
    free(size);
}

/* Copies within one unit share a cluster; random neurons stay apart. */
static void check_redundancy(const sal_grid *g)
{
    int64_t N = 500, D = 40;
    rng_state = 99;
    double *X = make_acts(N, D);
    plant_copy(X, 5, X, 12, N, 1.0, 30, 1e-4);
    plant_copy(X, 5, X, 30, N, -2.0, 1, 1e-4);
    plant_copy(X, 8, X, 9, N, 0.1, -3, 1e-4);
    sal_pmat Xp;
    distribute(X, N, D, g, 37, 5, &Xp);
    sal_corr c = {0};
    CHECK_OK(sal_correlation_matrix(&Xp, &Xp, g, &c));
    sal_clusters cl = {0};
    CHECK_OK(sal_cluster_redundancy(c.r, D, 0.3, &cl));
    check_cluster_shape(&cl, "planted copies");
    if (cl.id) {
        CHECK(cl.count == D - 3, "clusters at t = 0.3: %lld, want %lld", (long long)cl.count,
              (long long)(D - 3));
        CHECK(cl.id[5] == cl.id[12] && cl.id[5] == cl.id[30] && cl.id[8] == cl.id[9],
              "copies apart: ids %lld %lld %lld, %lld %lld", (long long)cl.id[5],
              (long long)cl.id[12], (long long)cl.id[30], (long long)cl.id[8], (long long)cl.id[9]);
        CHECK(cl.size[cl.id[5]] == 3 && cl.size[cl.id[8]] == 2 && cl.id[5] == 5 && cl.id[9] == 8 &&
                  cl.id[10] == 9,
              "cluster ids not numbered by lowest neuron");
        CHECK(cl.last_height < 1e-6, "last merge height %.3g", cl.last_height);
        if (g_rank == 0)
            printf("redundancy: %lld neurons -> %lld clusters at t = 0.3 (representatives "
                   "%lld, %lld)\n",
                   (long long)D, (long long)cl.count, (long long)cl.rep[cl.id[5]],
                   (long long)cl.rep[cl.id[8]]);
    }
    sal_clusters_free(&cl);
    CHECK_OK(sal_cluster_redundancy(c.r, D, 0.0, &cl));
    CHECK(cl.count == D, "t = 0: %lld clusters", (long long)cl.count);
    sal_clusters_free(&cl);
    CHECK_OK(sal_cluster_redundancy(c.r, D, 1.0, &cl));
    CHECK(cl.count == 1 && cl.size && cl.size[0] == D, "t = 1: %lld clusters", (long long)cl.count);
    sal_clusters_free(&cl);
    sal_corr_free(&c);
    sal_pmat_free(&Xp);
    free(X);
}

/* A 4-neuron case worked by hand: d(0,1) = 0.1, d(0,2) = 0.45, d(1,2) = 0.25, neuron 3
 * at 0.9 from all. Average linkage puts 2 at (0.45 + 0.25) / 2 = 0.35 from {0, 1}
 * (single linkage would say 0.25). */
static void check_hand_case(void)
{
    double r[16] = {1, 0.9, 0.55, 0.1, 0.9, 1, -0.75, 0.1, 0.55, -0.75, 1, -0.1, 0.1, 0.1, -0.1, 1};
    sal_clusters cl = {0};
    CHECK_OK(sal_cluster_redundancy(r, 4, 0.3, &cl));
    CHECK(cl.count == 3 && cl.id && cl.id[0] == 0 && cl.id[1] == 0 && cl.id[2] == 1 &&
              cl.id[3] == 2 && cl.rep[0] == 0,
          "hand case t = 0.3: %lld clusters", (long long)cl.count);
    sal_clusters_free(&cl);
    CHECK_OK(sal_cluster_redundancy(r, 4, 0.4, &cl));
    /* {0,1,2}: mean |r| of 0: (0.9+0.55)/2, of 1: (0.9+0.75)/2, of 2: (0.55+0.75)/2 */
    CHECK(cl.count == 2 && cl.id && cl.id[2] == 0 && cl.rep[0] == 1 && cl.rep[1] == 3 &&
              fabs(cl.last_height - 0.35) < 1e-12,
          "hand case t = 0.4: %lld clusters, representative %lld, height %.17g",
          (long long)cl.count, cl.rep ? (long long)cl.rep[0] : -1LL, cl.last_height);
    check_cluster_shape(&cl, "hand case");
    sal_clusters_free(&cl);
    CHECK_OK(sal_cluster_redundancy(r, 4, -1, &cl));
    CHECK(cl.count == 4 && cl.merges == 0, "t < 0 merged");
    sal_clusters_free(&cl);
    CHECK_OK(sal_cluster_redundancy(r, 1, 0.5, &cl));
    CHECK(cl.count == 1 && cl.rep && cl.rep[0] == 0, "one neuron");
    sal_clusters_free(&cl);
}

/* Brute-force average linkage: every merge recomputes all cluster-pair averages from
 * the original distances. Labels by lowest member into id[D]; returns the count. */
static int64_t brute_average_linkage(const double *r, int64_t D, double t, int64_t *id)
{
    int64_t *lab = malloc(sizeof(*lab) * (size_t)D);
    for (int64_t i = 0; i < D; i++)
        lab[i] = i; /* a cluster is named by its lowest member */
    for (;;) {
        double best = INFINITY;
        int64_t bp = -1, bq = -1;
        for (int64_t p = 0; p < D; p++) {
            if (lab[p] != p)
                continue;
            for (int64_t q = p + 1; q < D; q++) {
                if (lab[q] != q)
                    continue;
                double s = 0;
                int64_t n = 0;
                for (int64_t i = 0; i < D; i++)
                    for (int64_t j = 0; j < D; j++)
                        if (lab[i] == p && lab[j] == q) {
                            s += 1 - fabs(r[i + j * D]);
                            n++;
                        }
                if (s / (double)n < best) {
                    best = s / (double)n;
                    bp = p;
                    bq = q;
                }
            }
        }
        if (bp < 0 || !(best <= t))
            break;
        for (int64_t i = 0; i < D; i++)
            if (lab[i] == bq)
                lab[i] = bp;
    }
    int64_t count = 0;
    for (int64_t i = 0; i < D; i++)
        if (lab[i] == i)
            id[i] = count++;
    for (int64_t i = 0; i < D; i++)
        id[i] = id[lab[i]];
    free(lab);
    return count;
}

/* Factor-model neurons (many intermediate correlations): the library's clusters equal
 * the brute force at several thresholds. */
static void check_linkage_brute(void)
{
    int64_t N = 300, D = 30, K = 5;
    rng_state = 4242;
    double *F = malloc(sizeof(*F) * (size_t)(N * K)), *X = malloc(sizeof(*X) * (size_t)(N * D));
    for (int64_t i = 0; i < N * K; i++)
        F[i] = nrand();
    for (int64_t j = 0; j < D; j++) {
        int64_t f1 = j % K, f2 = (j * 3 + 1) % K;
        double w1 = 0.5 + urand(), w2 = 0.6 * urand(), e = 0.1 + 0.6 * urand();
        for (int64_t i = 0; i < N; i++)
            X[i + j * N] = 10 + w1 * F[i + f1 * N] - w2 * F[i + f2 * N] + e * nrand();
    }
    double *r = serial_corr(X, D, X, D, N);
    for (int64_t j = 0; j < D; j++) /* symmetric, unit diagonal */
        for (int64_t i = 0; i <= j; i++)
            r[j + i * D] = r[i + j * D] = i == j ? 1 : r[i + j * D];
    int64_t id[30];
    const double ts[] = {0.1, 0.25, 0.4, 0.55, 0.7, 0.85};
    int64_t counts[6];
    for (int k = 0; k < 6; k++) {
        sal_clusters cl = {0};
        CHECK_OK(sal_cluster_redundancy(r, D, ts[k], &cl));
        int64_t nb = brute_average_linkage(r, D, ts[k], id);
        counts[k] = cl.count;
        CHECK(cl.id && cl.count == nb && memcmp(cl.id, id, sizeof(id)) == 0,
              "t = %g: %lld clusters, brute force %lld", ts[k], (long long)cl.count, (long long)nb);
        check_cluster_shape(&cl, "factor model");
        /* representatives: highest mean |r| to the other members, ties by index */
        for (int64_t c = 0; cl.id && c < cl.count; c++) {
            int64_t rep = -1;
            double bs = -1;
            for (int64_t i = 0; i < D; i++) {
                if (cl.id[i] != c)
                    continue;
                double s = 0;
                for (int64_t j = 0; j < D; j++)
                    if (j != i && cl.id[j] == c)
                        s += fabs(r[i + j * D]);
                if (s > bs + 1e-12) {
                    bs = s;
                    rep = i;
                }
            }
            CHECK(cl.rep[c] == rep, "t = %g: cluster %lld representative %lld, want %lld", ts[k],
                  (long long)c, (long long)cl.rep[c], (long long)rep);
        }
        sal_clusters_free(&cl);
    }
    if (g_rank == 0)
        printf("linkage vs brute force: clusters %lld %lld %lld %lld %lld %lld at t = 0.1 .. "
               "0.85\n",
               (long long)counts[0], (long long)counts[1], (long long)counts[2],
               (long long)counts[3], (long long)counts[4], (long long)counts[5]);
    free(F);
    free(X);
    free(r);
}

static int has_nan(const double *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (isnan(a[i]))
            return 1;
    return 0;
}

static void check_constant(const sal_grid *g)
{
    int64_t N = 200, DA = 9, DB = 6;
    rng_state = 5;
    double *X = make_acts(N, DA), *Y = make_acts(N, DB);
    for (int64_t i = 0; i < N; i++) {
        X[i + 3 * N] = 40.1;  /* constant, not a binary fraction */
        X[i + 6 * N] = 0;     /* all zero */
        Y[i + 5 * N] = -7.25; /* constant */
    }
    sal_pmat Xp, Yp;
    distribute(X, N, DA, g, 37, 2, &Xp);
    distribute(Y, N, DB, g, 37, 5, &Yp);
    sal_corr c = {0}, cxx = {0};
    CHECK_OK(sal_correlation_matrix(&Xp, &Yp, g, &c));
    CHECK_OK(sal_correlation_matrix(&Xp, &Xp, g, &cxx));
    if (c.r && cxx.r) {
        CHECK(!has_nan(c.r, DA * DB) && !has_nan(cxx.r, DA * DA), "NaN in a correlation");
        CHECK(c.nconst_a == 2 && c.nconst_b == 1 && c.const_a[3] && c.const_a[6] && c.const_b[5] &&
                  !c.const_a[0] && cxx.nconst_a == 2 && cxx.nconst_b == 2,
              "constant flags %lld %lld", (long long)c.nconst_a, (long long)c.nconst_b);
        int zero = 1;
        for (int64_t j = 0; j < DB; j++)
            zero &= c.r[3 + j * DA] == 0 && c.r[6 + j * DA] == 0;
        for (int64_t i = 0; i < DA; i++)
            zero &= c.r[i + 5 * DA] == 0 && cxx.r[i + 3 * DA] == 0 && cxx.r[3 + i * DA] == 0;
        CHECK(zero, "a constant column has r != 0");
        CHECK(cxx.r[0] == 1, "diagonal of a varying neuron %.17g", cxx.r[0]);
        double best[9];
        int64_t arg[9];
        CHECK_OK(sal_corr_best_match(&c, SAL_CORR_ROWS, best, arg));
        CHECK(best[3] == 0 && arg[3] == 0, "constant neuron best match %g at %lld", best[3],
              (long long)arg[3]);
        sal_clusters cl = {0};
        CHECK_OK(sal_cluster_redundancy(cxx.r, DA, 0.3, &cl));
        CHECK(cl.id && cl.size[cl.id[3]] == 1 && cl.size[cl.id[6]] == 1,
              "constant neurons clustered with others");
        sal_clusters_free(&cl);
    }
    sal_corr_free(&c);
    sal_corr_free(&cxx);
    sal_pmat_free(&Xp);
    sal_pmat_free(&Yp);
    free(X);
    free(Y);
}

static void check_bad_input(const sal_grid *g)
{
    rng_state = 6;
    double *X = make_acts(60, 4), *Y = make_acts(60, 3);
    sal_pmat Xp, Yp, Ys, Yb, X1, R;
    distribute(X, 60, 4, g, 16, 2, &Xp);
    distribute(Y, 50, 3, g, 16, 2, &Ys); /* 50 rows: the first 50 tokens */
    distribute(Y, 60, 3, g, 8, 2, &Yb);  /* other row blocks */
    distribute(X, 1, 4, g, 16, 2, &X1);  /* one token */
    sal_corr c = {0};
    sal_status st = sal_correlation_matrix(&Xp, &Ys, g, &c);
    CHECK(st == SAL_ERR_ARG && strstr(sal_errmsg(), "token rows") && !c.r,
          "mismatched rows: %s: %s", sal_status_str(st), sal_errmsg());
    st = sal_correlation_pmat(&Xp, &Ys, g, &R, NULL, NULL);
    CHECK(st == SAL_ERR_ARG && !R.a, "pmat, mismatched rows: %s", sal_status_str(st));
    st = sal_correlation_matrix(&Xp, &Yb, g, &c);
    CHECK(st == SAL_ERR_ARG && strstr(sal_errmsg(), "row blocking"), "row blocking: %s: %s",
          sal_status_str(st), sal_errmsg());
    st = sal_correlation_matrix(&X1, &X1, g, &c);
    CHECK(st == SAL_ERR_FORMAT && strstr(sal_errmsg(), "at least 2 tokens"), "N = 1: %s: %s",
          sal_status_str(st), sal_errmsg());
    /* a NaN, on whichever process holds it */
    Y[17 + 2 * 60] = NAN;
    distribute(Y, 60, 3, g, 16, 2, &Yp);
    st = sal_correlation_matrix(&Xp, &Yp, g, &c);
    CHECK(st == SAL_ERR_FORMAT && !c.r, "NaN accepted: %s", sal_status_str(st));
    CHECK(strstr(sal_errmsg(), "row 17, neuron 2 is NaN") ||
              strstr(sal_errmsg(), "another process failed"),
          "NaN message: %s", sal_errmsg());

    /* serial functions */
    double r[4] = {1, NAN, NAN, 1}, b0[2] = {0.5, 1.5}, b1[2] = {0.2, 0.3};
    sal_clusters cl;
    CHECK(sal_cluster_redundancy(r, 2, 0.3, &cl) == SAL_ERR_ARG && !cl.id, "NaN r accepted");
    r[1] = r[2] = 0.5;
    CHECK(sal_cluster_redundancy(r, 2, NAN, &cl) == SAL_ERR_ARG, "NaN threshold accepted");
    CHECK(sal_cluster_redundancy(r, 0, 0.3, &cl) == SAL_ERR_ARG, "D = 0 accepted");
    sal_crosscorr x;
    const double *best[2] = {b1, b0};
    CHECK(sal_crosscorr_rank(2, 0, best, &x) == SAL_ERR_ARG, "no other model accepted");
    CHECK(sal_crosscorr_rank(2, 2, best, &x) == SAL_ERR_ARG && strstr(sal_errmsg(), "1.5"),
          "best match 1.5 accepted: %s", sal_errmsg());
    sal_corr cc = {2, 2, 1, r, NULL, NULL, 0, 0};
    double bm[2];
    CHECK(sal_corr_best_match(&cc, 2, bm, NULL) == SAL_ERR_ARG, "bad side accepted");
    sal_corr_pair p[1];
    int64_t np;
    CHECK(sal_corr_top_pairs(&cc, -1, p, &np) == SAL_ERR_ARG, "k < 0 accepted");
    CHECK_OK(sal_corr_top_pairs(&cc, 1, p, &np));
    CHECK(np == 1 && p[0].a == 0 && p[0].b == 1, "one pair of a 2-neuron unit");
    sal_pmat_free(&Xp);
    sal_pmat_free(&Yp);
    sal_pmat_free(&Ys);
    sal_pmat_free(&Yb);
    sal_pmat_free(&X1);
    free(X);
    free(Y);
}

static void run_grid(const sal_grid *g, const char *label)
{
    char name[64];
    snprintf(name, sizeof(name), "%s serial", label);
    check_serial(g, name, 1, 700, 30, 23, 37, 5, 3);
    snprintf(name, sizeof(name), "%s small", label);
    check_serial(g, name, 2, 45, 7, 11, 4, 2, 5);
    check_planted(g);
    check_redundancy(g);
    check_constant(g);
    check_bad_input(g);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    sal_grid *g;
    char label[32];
    CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 0, 0, &g));
    snprintf(label, sizeof(label), "grid %dx1", size);
    run_grid(g, label);
    sal_grid_free(g);
    if (size > 1) {
        CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 1, size, &g));
        snprintf(label, sizeof(label), "grid 1x%d", size);
        run_grid(g, label);
        sal_grid_free(g);
    }
    if (size == 4) {
        CHECK_OK(sal_grid_init(MPI_COMM_WORLD, 2, 2, &g));
        run_grid(g, "grid 2x2");
        sal_grid_free(g);
    }
    check_hand_case();
    check_linkage_brute();
    int rc = test_finish("test-correlation");
    MPI_Finalize();
    return rc;
}
