/*
 * lca.c - Linguistic Correlation Analysis of one unit (see lca.h).
 *
 * Dalvi et al. AAAI 2019; Durrani et al. EMNLP 2020; Durrani, Dalvi & Sajjad JMLR 2023:
 * train the oracle probe on all neurons, order the neurons by its weights (NeuroX's
 * ordering, ties by index), then retrain on prefixes of the ordering to find the
 * smallest one whose dev accuracy is within delta (relative) of the oracle's.
 * The prefix sizes are the paper's grid of percentages of D (0.1-0.5% by 0.1, 1-10% by
 * 1, 15-50% by 5, 60-90% by 10, then all), and once the grid brackets the answer, a
 * bisection between the last size that failed and the first that passed: dev
 * accuracy grows with the prefix (nested neuron sets), so the bisection finds the
 * smallest passing size the grid would have skipped. Every retraining starts from
 * the oracle's weights on the kept neurons (a warm start, not from zero).
 */
#include "salient/lca.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/correlation.h"
#include "salient/ranking.h"

void sal_lca_result_free(sal_lca_result *r)
{
    if (!r)
        return;
    sal_probe_free(&r->oracle);
    free(r->ordering);
    free(r->curve_k);
    free(r->curve_dev);
    free(r->curve_test);
    sal_layer_dist_free(&r->dist);
    memset(r, 0, sizeof(*r));
}

/* Accuracy of pr on (X, y): rows whose label is -1 count as errors. With mode >= 0,
 * the neurons subset[k] are masked as sal_zero_out_predict does. Collective. */
static sal_status accuracy(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                           const int32_t *y, const int64_t *subset, int64_t k, int mode,
                           double *acc)
{
    int64_t N = X->desc[SAL_M], right = 0;
    int32_t *pred = malloc(sizeof(*pred) * (size_t)(N > 0 ? N : 1));
    sal_status st = sal_agree(pred ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory"),
                              sal_grid_comm(g));
    if (st == SAL_OK)
        st = mode < 0 ? sal_probe_predict(pr, X, g, pred)
                      : sal_zero_out_predict(pr, X, g, subset, k, (sal_zero_mode)mode, pred);
    if (st == SAL_OK) {
        for (int64_t i = 0; i < N; i++)
            right += pred[i] == y[i];
        *acc = N > 0 ? (double)right / (double)N : NAN;
    }
    free(pred);
    return st;
}

/* Train a probe on the columns cols[k] (labels y of C classes), warm-started from the
 * oracle's weights on those neurons; its dev and test accuracy (test on yt). */
static sal_status fit_columns(const sal_lca_data *d, const sal_grid *g,
                              const sal_lca_params *p, const sal_probe *oracle,
                              const int64_t *cols, int64_t k, double *dev, double *test,
                              int *fits)
{
    sal_pmat Xs[3];
    memset(Xs, 0, sizeof(Xs));
    sal_probe warm = {0}, pr = {0};
    sal_probe_problem *pb = NULL;
    sal_status st = SAL_OK;
    for (int s = 0; s < 3 && st == SAL_OK; s++)
        st = sal_pmat_select_columns(d->X[s], g, cols, k, &Xs[s]);
    if (st == SAL_OK) {
        warm.D = k;
        warm.C = oracle->C;
        warm.W = malloc(sizeof(*warm.W) * (size_t)(k * oracle->C));
        warm.b = malloc(sizeof(*warm.b) * (size_t)oracle->C);
        st = sal_agree(warm.W && warm.b ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory"),
                       sal_grid_comm(g));
    }
    if (st == SAL_OK) {
        for (int c = 0; c < oracle->C; c++) {
            warm.b[c] = oracle->b[c];
            for (int64_t j = 0; j < k; j++)
                warm.W[j + c * k] = oracle->W[cols[j] + c * oracle->D];
        }
        st = sal_probe_problem_init(&Xs[0], g, d->y[0], d->C, &pb);
    }
    if (st == SAL_OK) {
        st = sal_probe_solve(pb, &p->probe, &warm, &pr);
        (*fits)++;
    }
    if (st == SAL_OK)
        st = accuracy(&pr, &Xs[1], g, d->y[1], NULL, 0, -1, dev);
    if (st == SAL_OK)
        st = accuracy(&pr, &Xs[2], g, d->y[2], NULL, 0, -1, test);
    sal_probe_free(&pr);
    sal_probe_free(&warm);
    sal_probe_problem_free(pb);
    for (int s = 0; s < 3; s++)
        sal_pmat_free(&Xs[s]);
    return st;
}

/* The paper's prefix sizes for D neurons: distinct, ascending, ending with D. */
static int64_t size_grid(int64_t D, int64_t *k)
{
    static const double pct[] = {0.1, 0.2, 0.3, 0.4, 0.5, 1,  2,  3,  4,  5,  6,  7,  8, 9,
                                 10,  15,  20,  25,  30,  35, 40, 45, 50, 60, 70, 80, 90};
    int64_t n = 0;
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
        int64_t v = llround(pct[i] / 100 * (double)D);
        if (v < 1)
            v = 1;
        if (v < D && (n == 0 || v > k[n - 1]))
            k[n++] = v;
    }
    k[n++] = D;
    return n;
}

/* Add (k, dev, test) to the curve, which has room for every size. */
static void curve_add(sal_lca_result *r, int64_t k, double dev, double test)
{
    int i = r->ncurve++;
    while (i > 0 && r->curve_k[i - 1] > k) { /* keep it sorted by k */
        r->curve_k[i] = r->curve_k[i - 1];
        r->curve_dev[i] = r->curve_dev[i - 1];
        r->curve_test[i] = r->curve_test[i - 1];
        i--;
    }
    r->curve_k[i] = k;
    r->curve_dev[i] = dev;
    r->curve_test[i] = test;
}

/* The control labels of the three splits with classes renumbered to those present in
 * train (others -1), into yc[3] (allocated) and *Cc. */
static sal_status compact_control(const sal_lca_data *d, int32_t **yc, int *Cc)
{
    int32_t *map = malloc(sizeof(*map) * (size_t)(d->Cc > 0 ? d->Cc : 1));
    sal_status st = map ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
    for (int c = 0; st == SAL_OK && c < d->Cc; c++)
        map[c] = -1;
    int64_t n[3];
    for (int s = 0; s < 3; s++)
        n[s] = d->X[s]->desc[SAL_M];
    for (int64_t i = 0; st == SAL_OK && i < n[0]; i++)
        if (d->yc[0][i] >= 0 && d->yc[0][i] < d->Cc)
            map[d->yc[0][i]] = 0;
    *Cc = 0;
    for (int c = 0; st == SAL_OK && c < d->Cc; c++)
        if (map[c] == 0)
            map[c] = (*Cc)++;
    for (int s = 0; s < 3 && st == SAL_OK; s++) {
        if (!(yc[s] = malloc(sizeof(*yc[s]) * (size_t)(n[s] > 0 ? n[s] : 1)))) {
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
            break;
        }
        for (int64_t i = 0; i < n[s]; i++) {
            int32_t c = d->yc[s][i];
            yc[s][i] = c >= 0 && c < d->Cc ? map[c] : -1;
        }
    }
    free(map);
    return st;
}

sal_status sal_lca_run(const sal_lca_data *d, const sal_grid *g, const sal_lca_params *p,
                       sal_lca_result *out)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t D = d->X[0]->desc[SAL_N], *grid = NULL, *pick = NULL;
    sal_probe_problem *pb = NULL;
    sal_probe control = {0};
    int32_t *yc[3] = {NULL, NULL, NULL};
    memset(out, 0, sizeof(*out));
    out->D = D;
    out->C = d->C;
    out->control_test = out->selectivity = NAN;
    sal_status st = SAL_OK;
    /* the majority-class baseline: the most frequent training class (the lowest on a tie)
     * predicted for every test token */
    {
        int64_t *count = calloc((size_t)(d->C > 0 ? d->C : 1), sizeof(*count));
        int64_t n0 = d->X[0]->desc[SAL_M], n2 = d->X[2]->desc[SAL_M], hit = 0;
        int major = 0;
        if (count) {
            for (int64_t i = 0; i < n0; i++)
                if (d->y[0][i] >= 0 && d->y[0][i] < d->C)
                    count[d->y[0][i]]++;
            for (int c = 1; c < d->C; c++)
                if (count[c] > count[major])
                    major = c;
            for (int64_t i = 0; i < n2; i++)
                hit += d->y[2][i] == major;
        }
        out->majority_test = count && n2 > 0 ? (double)hit / (double)n2 : NAN;
        free(count);
    }
    if (!(p->delta >= 0 && p->delta < 1) || p->stride < 1)
        st = sal_fail(SAL_ERR_ARG, "delta must be in [0, 1) and the stride at least 1");
    if (st == SAL_OK) {
        grid = malloc(sizeof(*grid) * 40);
        out->curve_k = malloc(sizeof(*out->curve_k) * (size_t)(40 + 64));
        out->curve_dev = malloc(sizeof(*out->curve_dev) * (size_t)(40 + 64));
        out->curve_test = malloc(sizeof(*out->curve_test) * (size_t)(40 + 64));
        if (!grid || !out->curve_k || !out->curve_dev || !out->curve_test)
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    }
    if ((st = sal_agree(st, comm)))
        goto done;

    /* 1. the oracle on all neurons, and its ordering */
    if ((st = sal_probe_problem_init(d->X[0], g, d->y[0], d->C, &pb)) ||
        (st = sal_probe_solve(pb, &p->probe, NULL, &out->oracle)))
        goto done;
    out->fits++;
    sal_probe_problem_free(pb);
    pb = NULL;
    for (int s = 0; s < 3 && st == SAL_OK; s++)
        st = accuracy(&out->oracle, d->X[s], g, d->y[s], NULL, 0, -1, &out->oracle_acc[s]);
    if (st == SAL_OK)
        st = sal_agree(sal_ranking_ordering(out->oracle.W, D, d->C, p->stride, &out->ordering,
                                            NULL),
                       comm);
    if (st)
        goto done;

    double dev, test;
    out->random_test = out->bottom_test = out->keep_test = out->ablate_test = NAN;
    out->minimal_dev = out->minimal_test = out->top_test = NAN;
    if (p->minimal) {
        /* 2. the minimal neuron set: the grid, then bisection inside the bracket */
        double target = (1 - p->delta) * out->oracle_acc[1];
        int64_t ng = size_grid(D, grid), lo = 0, hi = D;
        for (int64_t i = 0; i < ng; i++) {
            if ((st = fit_columns(d, g, p, &out->oracle, out->ordering, grid[i], &dev, &test,
                                  &out->fits)))
                goto done;
            curve_add(out, grid[i], dev, test);
            if (dev >= target) {
                hi = grid[i];
                break;
            }
            lo = grid[i];
        }
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if ((st = fit_columns(d, g, p, &out->oracle, out->ordering, mid, &dev, &test,
                                  &out->fits)))
                goto done;
            curve_add(out, mid, dev, test);
            if (dev >= target)
                hi = mid;
            else
                lo = mid;
        }
        out->k_min = hi;
        for (int i = 0; i < out->ncurve; i++)
            if (out->curve_k[i] == hi) {
                out->minimal_dev = out->curve_dev[i];
                out->minimal_test = out->curve_test[i];
            }
        if ((st = sal_agree(sal_layer_distribution(out->ordering, out->k_min, d->nsel, d->width,
                                                   d->layer, &out->dist),
                            comm)))
            goto done;

        /* 3. ablations: retrain on top, random and bottom k; zero-out the oracle */
        out->top_test = out->minimal_test;
        if (p->ablation) {
            if ((st = sal_agree(sal_ranking_random(D, out->k_min, p->seed, &pick), comm)) ||
                (st = fit_columns(d, g, p, &out->oracle, pick, out->k_min, &dev,
                                  &out->random_test, &out->fits)) ||
                (st = fit_columns(d, g, p, &out->oracle, out->ordering + (D - out->k_min),
                                  out->k_min, &dev, &out->bottom_test, &out->fits)) ||
                (st = accuracy(&out->oracle, d->X[2], g, d->y[2], out->ordering, out->k_min,
                               SAL_ZERO_KEEP, &out->keep_test)) ||
                (st = accuracy(&out->oracle, d->X[2], g, d->y[2], out->ordering, out->k_min,
                               SAL_ZERO_ABLATE, &out->ablate_test)))
                goto done;
        }
    } else if ((st = sal_agree(sal_layer_distribution(out->ordering, 0, d->nsel, d->width,
                                                      d->layer, &out->dist),
                               comm))) {
        goto done;
    }

    /* 4. redundancy: cluster the neurons on their train correlations, probe on one
     * representative per cluster */
    out->cluster_test = NAN;
    if (p->cluster_t > 0) {
        sal_corr cr = {0};
        sal_clusters cl = {0};
        st = sal_correlation_matrix(d->X[0], d->X[0], g, &cr);
        if (st == SAL_OK)
            st = sal_agree(sal_cluster_redundancy(cr.r, D, p->cluster_t, &cl), comm);
        if (st == SAL_OK) {
            out->clusters = cl.count;
            st = fit_columns(d, g, p, &out->oracle, cl.rep, cl.count, &dev, &out->cluster_test,
                             &out->fits);
        }
        sal_clusters_free(&cl);
        sal_corr_free(&cr);
        if (st)
            goto done;
    }

    /* 5. the control task with the same probe settings, and selectivity */
    if (d->yc[0]) {
        int Cc = 0;
        if ((st = sal_agree(compact_control(d, yc, &Cc), comm)) ||
            (st = sal_probe_problem_init(d->X[0], g, yc[0], Cc, &pb)) ||
            (st = sal_probe_solve(pb, &p->probe, NULL, &control)) ||
            (st = accuracy(&control, d->X[2], g, yc[2], NULL, 0, -1, &out->control_test)))
            goto done;
        out->fits++;
        out->selectivity = sal_selectivity(out->oracle_acc[2], out->control_test);
    }
done:
    free(grid);
    free(pick);
    for (int s = 0; s < 3; s++)
        free(yc[s]);
    sal_probe_free(&control);
    sal_probe_problem_free(pb);
    if (st)
        sal_lca_result_free(out);
    return st;
}
