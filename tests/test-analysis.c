/*
 * test-analysis.c - the analyses' building blocks against independent truth:
 *  - control labels: one label per word type across splits, unknown tokens kept
 *    unknown, reproducible per seed, independent of corpus order, type frequencies
 *    following the train distribution (chi-square), classes absent in train never drawn;
 *  - layer distribution on hand examples (counts, shares, thirds) and bad input;
 *  - zero-out: masked predictions and accuracies equal those computed serially from
 *    a copy of X with the columns zeroed;
 *  - column subsets: on grids size x 1, 1 x size (and 2 x 2 at 4 ranks), every local
 *    entry equals the serial X[:, cols[j]].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salient/analysis.h"
#include "salient/dataset.h"
#include "testutil.h"


/* ---- control task ---------------------------------------------------------------- */

enum { V = 4000, NSENT = 3000, SLEN = 8, NCLS = 5 };

typedef struct control_data {
    sal_corpus words;
    int32_t *label;
    int8_t *split;
    int *type; /* type number of each token */
} control_data;

/* NSENT sentences of SLEN words "w<n>" over V types (every type occurs); task labels
 * from a skewed distribution over classes 0..3 (with 1 in 20 unknown); class 4 occurs
 * only outside train. Sentence s is train for s % 5 < 3, dev for 3, test for 4.
 * With reversed = 1 the same sentences come in reverse order. */
static control_data make_control(int reversed)
{
    control_data d = {SAL_CORPUS_INIT, NULL, NULL, NULL};
    int64_t ntok = (int64_t)NSENT * SLEN;
    int32_t *lab = malloc(sizeof(*lab) * (size_t)ntok);
    int *typ = malloc(sizeof(*typ) * (size_t)ntok);
    rng_state = 2024;
    for (int64_t t = 0; t < ntok; t++) {
        int s = (int)(t / SLEN);
        double u = urand();
        typ[t] = t < V ? (int)t : (int)(urand() * V);
        lab[t] = u < 0.05 ? -1 : u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
        if (s % 5 >= 3 && urand() < 0.1)
            lab[t] = 4;
    }
    d.label = malloc(sizeof(*d.label) * (size_t)ntok);
    d.split = malloc(sizeof(*d.split) * NSENT);
    d.type = malloc(sizeof(*d.type) * (size_t)ntok);
    char buf[SLEN][16];
    const char *w[SLEN];
    for (int k = 0; k < NSENT; k++) {
        int s = reversed ? NSENT - 1 - k : k;
        for (int i = 0; i < SLEN; i++) {
            snprintf(buf[i], sizeof(buf[i]), "w%d", typ[s * SLEN + i]);
            w[i] = buf[i];
            d.label[k * SLEN + i] = lab[s * SLEN + i];
            d.type[k * SLEN + i] = typ[s * SLEN + i];
        }
        CHECK_OK(sal_corpus_add_sentence(&d.words, w, SLEN));
        d.split[k] = s % 5 < 3 ? SAL_SPLIT_TRAIN : s % 5 == 3 ? SAL_SPLIT_DEV : SAL_SPLIT_TEST;
    }
    free(lab);
    free(typ);
    return d;
}

static void free_control(control_data *d)
{
    sal_corpus_free(&d->words);
    free(d->label);
    free(d->split);
    free(d->type);
}

/* The label of each type (-1 if it has only unknown tokens); checks one label per
 * type and -1 exactly where the task label is -1. */
static void type_labels(const control_data *d, const int32_t *control, int *of_type)
{
    int64_t bad = 0, unknown = 0;
    for (int v = 0; v < V; v++)
        of_type[v] = -1;
    for (int64_t t = 0; t < d->words.ntok; t++) {
        if (d->label[t] < 0) {
            unknown += control[t] != -1;
            continue;
        }
        int v = d->type[t];
        if (control[t] < 0 || (of_type[v] >= 0 && of_type[v] != control[t]))
            bad++;
        of_type[v] = control[t];
    }
    CHECK(bad == 0, "%lld tokens disagree with their type's control label", (long long)bad);
    CHECK(unknown == 0, "%lld unknown tokens got a control label", (long long)unknown);
}

static void check_control(void)
{
    control_data d = make_control(0), r = make_control(1);
    int64_t ntok = d.words.ntok;
    int32_t *c1 = malloc(sizeof(*c1) * (size_t)ntok), *c2 = malloc(sizeof(*c2) * (size_t)ntok);
    int32_t *c3 = malloc(sizeof(*c3) * (size_t)ntok), *cr = malloc(sizeof(*cr) * (size_t)ntok);
    int t1[V], t2[V], t3[V], tr[V];

    CHECK_OK(sal_control_labels(&d.words, d.label, NCLS, d.split, 7, c1));
    CHECK_OK(sal_control_labels(&d.words, d.label, NCLS, d.split, 7, c2));
    CHECK_OK(sal_control_labels(&d.words, d.label, NCLS, d.split, 8, c3));
    CHECK_OK(sal_control_labels(&r.words, r.label, NCLS, r.split, 7, cr));
    type_labels(&d, c1, t1);
    type_labels(&d, c2, t2);
    type_labels(&d, c3, t3);
    type_labels(&r, cr, tr);
    CHECK(memcmp(c1, c2, sizeof(*c1) * (size_t)ntok) == 0, "seed 7 twice: different labels");
    CHECK(memcmp(t1, tr, sizeof(t1)) == 0, "reversed corpus: different labels per type");
    int differ = 0, typed = 0;
    for (int v = 0; v < V; v++)
        if (t1[v] >= 0) {
            typed++;
            differ += t1[v] != t3[v];
        }
    /* two independent draws differ with probability 1 - sum p^2 ~ 0.65 */
    CHECK(differ > typed / 2, "seeds 7 and 8 differ on only %d of %d types", differ, typed);

    /* type frequencies against the train distribution */
    double p[NCLS] = {0}, ntrain = 0;
    for (int64_t s = 0; s < NSENT; s++)
        if (d.split[s] == SAL_SPLIT_TRAIN)
            for (int64_t t = s * SLEN; t < (s + 1) * SLEN; t++)
                if (d.label[t] >= 0) {
                    p[d.label[t]]++;
                    ntrain++;
                }
    CHECK(p[4] == 0, "class 4 occurs in train");
    const uint64_t seeds[3] = {7, 8, 12345};
    for (int k = 0; k < 3; k++) {
        int64_t obs[NCLS] = {0};
        uint64_t seed = seeds[k];
        int *tt = k == 0 ? t1 : t3;
        if (k == 2) {
            CHECK_OK(sal_control_labels(&d.words, d.label, NCLS, d.split, 12345, c3));
            type_labels(&d, c3, t3);
        }
        for (int v = 0; v < V; v++)
            if (tt[v] >= 0)
                obs[tt[v]]++;
        CHECK(obs[4] == 0, "seed %llu: class 4 (absent in train) drawn for %lld types",
              (unsigned long long)seed,
              (long long)obs[4]);
        double chi2 = 0;
        for (int c = 0; c < 4; c++) {
            double e = typed * p[c] / ntrain;
            chi2 += (obs[c] - e) * (obs[c] - e) / e;
        }
        /* 3 degrees of freedom: P(chi2 > 25) ~ 1.6e-5 */
        CHECK(chi2 < 25, "seed %llu: chi-square %.3g of type labels vs train distribution",
              (unsigned long long)seed,
              chi2);
        if (test_rank() == 0)
            printf("control seed %llu: %d types, counts %lld %lld %lld %lld %lld, chi2 %.3g\n",
                   (unsigned long long)seed, typed, (long long)obs[0], (long long)obs[1], (long long)obs[2],
                   (long long)obs[3], (long long)obs[4], chi2);
    }

    /* bad input */
    d.label[5] = NCLS;
    CHECK(sal_control_labels(&d.words, d.label, NCLS, d.split, 7, c1) == SAL_ERR_FORMAT,
          "label out of range accepted");
    d.label[5] = 0;
    memset(d.split, SAL_SPLIT_TEST, NSENT);
    CHECK(sal_control_labels(&d.words, d.label, NCLS, d.split, 7, c1) == SAL_ERR_ARG,
          "no train tokens accepted");
    free(c1);
    free(c2);
    free(c3);
    free(cr);
    free_control(&d);
    free_control(&r);
}

/* ---- layer distribution --------------------------------------------------------------- */

static void check_layer_dist(void)
{
    sal_layer_dist ld;
    int64_t widths[3] = {4, 6, 6}, idx[4] = {0, 3, 5, 15};
    int layers[3] = {2, 5, 9};
    CHECK_OK(sal_layer_distribution(idx, 4, 3, widths, layers, &ld));
    CHECK(ld.count[0] == 2 && ld.count[1] == 1 && ld.count[2] == 1, "counts %lld %lld %lld",
          (long long)ld.count[0], (long long)ld.count[1], (long long)ld.count[2]);
    CHECK(ld.share[0] == 0.5 && ld.share[1] == 0.25 && ld.share[2] == 0.25, "shares");
    CHECK(ld.layer[0] == 2 && ld.layer[1] == 5 && ld.layer[2] == 9, "layer numbers");
    CHECK(ld.third_count[0] == 2 && ld.third_count[1] == 1 && ld.third_count[2] == 1,
          "thirds %lld %lld %lld", (long long)ld.third_count[0], (long long)ld.third_count[1],
          (long long)ld.third_count[2]);
    CHECK(ld.n == 4 && ld.third_share[0] == 0.5, "third shares");
    sal_layer_dist_free(&ld);

    /* boundaries: the first and last neuron of each layer */
    int64_t edge[6] = {15, 10, 9, 4, 3, 0};
    CHECK_OK(sal_layer_distribution(edge, 6, 3, widths, NULL, &ld));
    CHECK(ld.count[0] == 2 && ld.count[1] == 2 && ld.count[2] == 2 && ld.layer[2] == 2,
          "edges: counts %lld %lld %lld", (long long)ld.count[0], (long long)ld.count[1],
          (long long)ld.count[2]);
    sal_layer_dist_free(&ld);

    /* 13 layers of 2 neurons, all neurons: thirds of 5, 4 and 4 layers */
    int64_t w13[13], all[26];
    for (int l = 0; l < 13; l++)
        w13[l] = 2;
    for (int j = 0; j < 26; j++)
        all[j] = 25 - j;
    CHECK_OK(sal_layer_distribution(all, 26, 13, w13, NULL, &ld));
    CHECK(ld.third_count[0] == 10 && ld.third_count[1] == 8 && ld.third_count[2] == 8,
          "13 layers: thirds %lld %lld %lld", (long long)ld.third_count[0],
          (long long)ld.third_count[1], (long long)ld.third_count[2]);
    CHECK(fabs(ld.third_share[0] + ld.third_share[1] + ld.third_share[2] - 1) < 1e-15,
          "13 layers: third shares do not sum to 1");
    sal_layer_dist_free(&ld);

    /* empty set: zero shares */
    CHECK_OK(sal_layer_distribution(NULL, 0, 3, widths, NULL, &ld));
    CHECK(ld.count[1] == 0 && ld.share[1] == 0 && ld.third_share[2] == 0, "empty set");
    sal_layer_dist_free(&ld);

    int64_t dup[2] = {3, 3}, out[1] = {16};
    CHECK(sal_layer_distribution(dup, 2, 3, widths, NULL, &ld) == SAL_ERR_ARG && !ld.count,
          "repeated neuron accepted");
    CHECK(sal_layer_distribution(out, 1, 3, widths, NULL, &ld) == SAL_ERR_ARG,
          "neuron 16 of 16 accepted");
    CHECK(sal_layer_distribution(idx, 4, 0, widths, NULL, &ld) == SAL_ERR_ARG,
          "no layers accepted");
}

/* ---- zero-out -------------------------------------------------------------------------- */

/* argmax_c (X W + b)[i, c] computed serially, first class on ties */
static void serial_predict(const double *X, int64_t N, const sal_probe *pr, int32_t *pred)
{
    for (int64_t i = 0; i < N; i++) {
        double best = -INFINITY;
        for (int c = 0; c < pr->C; c++) {
            double z = pr->b[c];
            for (int64_t j = 0; j < pr->D; j++)
                z += X[i + j * N] * pr->W[j + c * pr->D];
            if (z > best) {
                best = z;
                pred[i] = c;
            }
        }
    }
}

static void check_zero_out(const sal_grid *g, const char *name)
{
    enum { N = 301, D = 12, C = 4 };
    int64_t subset[4] = {7, 1, 10, 4};
    double *X = malloc(sizeof(*X) * N * D), *Xk = malloc(sizeof(*Xk) * N * D);
    double *Xa = malloc(sizeof(*Xa) * N * D), W[D * C], b[C];
    int32_t y[N], pk[N], pa[N], pf[N], sk[N], sa[N];
    rng_state = 99;
    for (int i = 0; i < N * D; i++)
        X[i] = 4 * urand() - 2;
    for (int i = 0; i < D * C; i++)
        W[i] = 2 * urand() - 1;
    for (int c = 0; c < C; c++)
        b[c] = 0.1 * c;
    sal_probe pr = {.D = D, .C = C, .W = W, .b = b};
    /* the zeroed copies: all columns but the subset, and the subset */
    memset(Xk, 0, sizeof(*Xk) * N * D);
    memcpy(Xa, X, sizeof(*Xa) * N * D);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < N; i++) {
            Xk[i + subset[s] * N] = X[i + subset[s] * N];
            Xa[i + subset[s] * N] = 0;
        }
    serial_predict(Xk, N, &pr, sk);
    serial_predict(Xa, N, &pr, sa);
    for (int i = 0; i < N; i++)
        y[i] = i % 7 == 0 ? -1 : i % 3 == 0 ? sk[i] : i % 3 == 1 ? sa[i] : (int32_t)(i % C);

    sal_pmat Xp;
    CHECK_OK(sal_pmat_init(&Xp, g, N, D, 16, 5));
    sal_pmat_scatter_replicated(&Xp, X, N);
    CHECK_OK(sal_zero_out_predict(&pr, &Xp, g, subset, 4, SAL_ZERO_KEEP, pk));
    CHECK_OK(sal_zero_out_predict(&pr, &Xp, g, subset, 4, SAL_ZERO_ABLATE, pa));
    CHECK_OK(sal_probe_predict(&pr, &Xp, g, pf));
    int bad_k = 0, bad_a = 0, changed_k = 0, changed_a = 0, scored = 0, right_k = 0, right_a = 0;
    for (int i = 0; i < N; i++) {
        bad_k += pk[i] != sk[i];
        bad_a += pa[i] != sa[i];
        changed_k += pk[i] != pf[i];
        changed_a += pa[i] != pf[i];
        if (y[i] >= 0) {
            scored++;
            right_k += sk[i] == y[i];
            right_a += sa[i] == y[i];
        }
    }
    CHECK(bad_k == 0, "%s: keep-only predictions differ from serial in %d rows", name, bad_k);
    CHECK(bad_a == 0, "%s: ablated predictions differ from serial in %d rows", name, bad_a);
    CHECK(changed_k > 0 && changed_a > 0, "%s: masks changed no prediction (%d, %d)", name,
          changed_k, changed_a);
    double acc_k = -1, acc_a = -1;
    CHECK_OK(sal_zero_out_accuracy(&pr, &Xp, g, y, subset, 4, &acc_k, &acc_a));
    CHECK(acc_k == (double)right_k / scored, "%s: keep accuracy %.17g, serial %.17g", name, acc_k,
          (double)right_k / scored);
    CHECK(acc_a == (double)right_a / scored, "%s: ablate accuracy %.17g, serial %.17g", name,
          acc_a, (double)right_a / scored);
    CHECK(acc_k != acc_a, "%s: keep and ablate accuracies equal (%g)", name, acc_k);

    /* the masked probe itself; the input probe untouched */
    sal_probe m;
    CHECK_OK(sal_zero_out_probe(&pr, subset, 4, SAL_ZERO_KEEP, &m));
    int wrong = 0;
    for (int j = 0; j < D; j++) {
        int in = j == 7 || j == 1 || j == 10 || j == 4;
        for (int c = 0; c < C; c++)
            wrong += m.W[j + c * D] != (in ? W[j + c * D] : 0);
    }
    CHECK(wrong == 0 && m.b[2] == b[2] && m.W != W, "%s: masked probe has %d wrong weights",
          name, wrong);
    sal_probe_free(&m);

    int64_t bad_subset[1] = {D};
    CHECK(sal_zero_out_predict(&pr, &Xp, g, bad_subset, 1, SAL_ZERO_KEEP, pk) == SAL_ERR_ARG,
          "%s: neuron %d of %d accepted", name, D, D);
    int32_t none[N];
    for (int i = 0; i < N; i++)
        none[i] = -1;
    CHECK(sal_zero_out_accuracy(&pr, &Xp, g, none, subset, 4, &acc_k, NULL) == SAL_ERR_ARG,
          "%s: all-unknown labels accepted", name);
    if (test_rank() == 0)
        printf("zero-out %s: keep %.4f ablate %.4f over %d rows\n", name, acc_k, acc_a, scored);
    sal_pmat_free(&Xp);
    free(X);
    free(Xk);
    free(Xa);
}

/* ---- column subsets ---------------------------------------------------------------------- */

static void check_select(const sal_grid *g, const char *name, int64_t mb, int64_t nb)
{
    enum { N = 53, D = 17 };
    double *X = malloc(sizeof(*X) * N * D);
    int64_t cols[10] = {16, 3, 4, 5, 0, 0, 9, 10, 2, 15};
    int64_t ncols = 10;
    for (int j = 0; j < D; j++)
        for (int i = 0; i < N; i++)
            X[i + j * N] = 1000.0 * j + i;
    sal_pmat Xp, S;
    CHECK_OK(sal_pmat_init(&Xp, g, N, D, mb, nb));
    sal_pmat_scatter_replicated(&Xp, X, N);
    CHECK_OK(sal_pmat_select_columns(&Xp, g, cols, ncols, &S));
    CHECK(S.desc[SAL_M] == N && S.desc[SAL_N] == ncols && S.desc[SAL_MB] == mb &&
              S.desc[SAL_NB] == ncols,
          "%s: descriptor %d x %d in %d x %d blocks", name, S.desc[SAL_M], S.desc[SAL_N],
          S.desc[SAL_MB], S.desc[SAL_NB]);
    int64_t wrong = 0, seen = 0, lld = S.desc[SAL_LLD];
    for (int64_t jl = 0; jl < S.lcols; jl++)
        for (int64_t il = 0; il < S.lrows; il++) {
            int64_t i = sal_pmat_grow(&S, il), j = sal_pmat_gcol(&S, jl);
            wrong += S.a[il + jl * lld] != X[i + cols[j] * N];
            seen++;
        }
    int64_t total = seen;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CHECK(wrong == 0, "%s: %lld of %lld local entries wrong", name, (long long)wrong,
          (long long)seen);
    CHECK(total == (int64_t)N * ncols, "%s: %lld entries held over the grid, expected %lld",
          name, (long long)total, (long long)N * ncols);
    sal_pmat_free(&S);

    /* no columns; a bad column */
    CHECK_OK(sal_pmat_select_columns(&Xp, g, cols, 0, &S));
    CHECK(S.desc[SAL_N] == 0 && S.lcols == 0, "%s: zero columns", name);
    sal_pmat_free(&S);
    int64_t bad[2] = {0, D};
    CHECK(sal_pmat_select_columns(&Xp, g, bad, 2, &S) == SAL_ERR_ARG && !S.a,
          "%s: column %d of %d accepted", name, D, D);
    sal_pmat_free(&Xp);
    free(X);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_control();
    check_layer_dist();

    struct {
        int nprow, npcol;
        const char *name;
    } grids[3] = {{size, 1, "size x 1"}, {1, size, "1 x size"}, {2, 2, "2 x 2"}};
    for (int k = 0; k < 3; k++) {
        if (grids[k].nprow * grids[k].npcol != size)
            continue;
        sal_grid *g;
        CHECK_OK(sal_grid_init(MPI_COMM_WORLD, grids[k].nprow, grids[k].npcol, &g));
        check_zero_out(g, grids[k].name);
        check_select(g, grids[k].name, 5, 17); /* the probe layout: one column block */
        check_select(g, grids[k].name, 5, 3);  /* block-cyclic columns */
        sal_grid_free(g);
    }
    int rc = test_finish("test-analysis");
    MPI_Finalize();
    return rc;
}
