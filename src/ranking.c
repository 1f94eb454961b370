/* ranking.c - neuron rankings and selections from probe weights, random and
 * probeless orderings (see ranking.h). */
#include "salient/ranking.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A neuron's |weight| (or score) and index, for sorting. */
typedef struct entry {
    double v;
    int64_t j;
} entry;

/* Descending by value, ties by ascending index. */
static int cmp_desc(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return (x->j > y->j) - (x->j < y->j);
}

/* Ascending by value, ties by ascending index. */
static int cmp_asc(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/* An index array of n entries; never NULL on success, even for n = 0, so that an
 * empty result is told apart from a failure. */
static int64_t *alloc_idx(int64_t n)
{
    return malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
}

/* Check the shape of W (D x C) and that every weight is finite. */
static sal_status check_weights(const double *W, int64_t D, int C)
{
    if (!W || D < 1 || C < 1)
        return sal_fail(SAL_ERR_ARG, "ranking needs a D x C weight matrix, got %lld x %d%s",
                        (long long)D, C, W ? "" : " (NULL)");
    for (int c = 0; c < C; c++)
        for (int64_t j = 0; j < D; j++)
            if (!isfinite(W[j + (int64_t)c * D]))
                return sal_fail(SAL_ERR_FORMAT, "weight of neuron %lld for class %d is %g",
                                (long long)j, c, W[j + (int64_t)c * D]);
    return SAL_OK;
}

/* Sort class c's |weights| into e[D] (descending or ascending, ties by index) and
 * their cumulative sums in that order into cum[D]. */
static void sort_class(const double *W, int64_t D, int c, int descending, entry *e, double *cum)
{
    for (int64_t j = 0; j < D; j++) {
        e[j].v = fabs(W[j + (int64_t)c * D]);
        e[j].j = j;
    }
    qsort(e, (size_t)D, sizeof(*e), descending ? cmp_desc : cmp_asc);
    double s = 0;
    for (int64_t r = 0; r < D; r++)
        cum[r] = s += e[r].v;
}

/* The prefix length of the mass rule: the smallest m >= 1 with cum[m-1] >= p * cum[D-1],
 * or D if there is none. cum is non-decreasing, so a binary search finds it. */
static int64_t mass_prefix(const double *cum, int64_t D, double p)
{
    double need = p * cum[D - 1];
    int64_t lo = 0, hi = D; /* the first r with cum[r] >= need is in [lo, hi] */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] >= need)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < D ? lo + 1 : D;
}

/* Collect the marked neurons of mark[D], ascending, into a new array. */
static sal_status collect_marked(const unsigned char *mark, int64_t D, int64_t **out, int64_t *n)
{
    int64_t cnt = 0;
    for (int64_t j = 0; j < D; j++)
        cnt += mark[j] != 0;
    int64_t *r = alloc_idx(cnt);
    if (!r)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for %lld neuron indices", (long long)cnt);
    int64_t k = 0;
    for (int64_t j = 0; j < D; j++)
        if (mark[j])
            r[k++] = j;
    *out = r;
    *n = cnt;
    return SAL_OK;
}

/* top(p) and bottom(p): the union over classes of the mass-rule prefixes. */
static sal_status mass_selection(const double *W, int64_t D, int C, double p, int descending,
                                 int64_t **out, int64_t *n)
{
    entry *e = NULL;
    double *cum = NULL;
    unsigned char *mark = NULL;
    *out = NULL;
    *n = 0;
    sal_status st = check_weights(W, D, C);
    if (st)
        return st;
    if (!(p >= 0 && p <= 1))
        return sal_fail(SAL_ERR_ARG, "%s fraction of weight mass must be in [0, 1], got %g",
                        descending ? "top" : "bottom", p);
    e = malloc(sizeof(*e) * (size_t)D);
    cum = malloc(sizeof(*cum) * (size_t)D);
    mark = calloc((size_t)D, sizeof(*mark));
    if (!e || !cum || !mark) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory ranking %lld neurons", (long long)D);
        goto free_work;
    }
    for (int c = 0; c < C; c++) {
        sort_class(W, D, c, descending, e, cum);
        int64_t m = mass_prefix(cum, D, p);
        for (int64_t r = 0; r < m; r++)
            mark[e[r].j] = 1;
    }
    st = collect_marked(mark, D, out, n);
free_work:
    free(e);
    free(cum);
    free(mark);
    return st;
}

sal_status sal_ranking_top(const double *W, int64_t D, int C, double p, int64_t **out,
                           int64_t *n)
{
    return mass_selection(W, D, C, p, 1, out, n);
}

sal_status sal_ranking_bottom(const double *W, int64_t D, int C, double p, int64_t **out,
                              int64_t *n)
{
    return mass_selection(W, D, C, p, 0, out, n);
}

sal_status sal_ranking_hard_threshold(const double *W, int64_t D, int C, double f,
                                      int64_t **out, int64_t *n)
{
    *out = NULL;
    *n = 0;
    sal_status st = check_weights(W, D, C);
    if (st)
        return st;
    if (!(f > 0) || !isfinite(f))
        return sal_fail(SAL_ERR_ARG, "hard-threshold divisor must be finite and > 0, got %g", f);
    unsigned char *mark = calloc((size_t)D, sizeof(*mark));
    if (!mark)
        return sal_fail(SAL_ERR_NOMEM, "out of memory ranking %lld neurons", (long long)D);
    for (int c = 0; c < C; c++) {
        const double *w = W + (int64_t)c * D;
        double mx = 0;
        for (int64_t j = 0; j < D; j++)
            mx = fmax(mx, fabs(w[j]));
        double thr = mx / f;
        for (int64_t j = 0; j < D; j++)
            if (fabs(w[j]) > thr)
                mark[j] = 1;
    }
    st = collect_marked(mark, D, out, n);
    free(mark);
    return st;
}

/*
 * Rather than computing top(k / stride) for every k (stride + 1 sorts per class),
 * find for every neuron the first step at which it enters: in class c's descending
 * sort, position r = 0 is in top(p) for every p, and position r >= 1 is in top(p)
 * exactly when the prefix of length r falls short, cum[r-1] < p * cum[D-1] (cum is
 * non-decreasing, so no shorter prefix reaches either). p = k / stride and the
 * product are the same floating-point expressions as in mass_prefix, so the steps
 * agree exactly with sal_ranking_top, and both sides grow with k and r, so one sweep
 * per class finds them. A neuron's step is its earliest over the classes; the
 * ordering is then by (step, index), a bucket sort.
 */
sal_status sal_ranking_ordering(const double *W, int64_t D, int C, int stride,
                                int64_t **order, int64_t **cutoffs)
{
    entry *e = NULL;
    double *cum = NULL;
    int *step = NULL;
    int64_t *start = NULL, *ord = NULL, *cut = NULL;
    *order = NULL;
    if (cutoffs)
        *cutoffs = NULL;
    sal_status st = check_weights(W, D, C);
    if (st)
        return st;
    if (stride < 1 || stride > 1000000)
        return sal_fail(SAL_ERR_ARG, "ordering stride must be in [1, 1000000], got %d", stride);
    const int never = stride + 1; /* the step of a neuron in no top(p) */
    e = malloc(sizeof(*e) * (size_t)D);
    cum = malloc(sizeof(*cum) * (size_t)D);
    step = malloc(sizeof(*step) * (size_t)D);
    start = calloc((size_t)never + 2, sizeof(*start));
    ord = alloc_idx(D);
    cut = alloc_idx((int64_t)stride + 1);
    if (!e || !cum || !step || !start || !ord || !cut) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory ordering %lld neurons", (long long)D);
        goto free_work;
    }
    for (int64_t j = 0; j < D; j++)
        step[j] = never;
    for (int c = 0; c < C; c++) {
        sort_class(W, D, c, 1, e, cum);
        step[e[0].j] = 0;
        int k = 0;
        for (int64_t r = 1; r < D; r++) {
            while (k <= stride && !(cum[r - 1] < (double)k / stride * cum[D - 1]))
                k++;
            if (k > stride)
                break;
            if (k < step[e[r].j])
                step[e[r].j] = k;
        }
    }
    /* bucket sort by step; within a step the neurons stay in ascending index */
    for (int64_t j = 0; j < D; j++)
        start[step[j] + 1]++;
    for (int k = 0; k <= never; k++)
        start[k + 1] += start[k];
    for (int k = 0; k <= stride; k++)
        cut[k] = start[k + 1];
    for (int64_t j = 0; j < D; j++)
        ord[start[step[j]]++] = j;
    *order = ord;
    ord = NULL;
    if (cutoffs) {
        *cutoffs = cut;
        cut = NULL;
    }
free_work:
    free(e);
    free(cum);
    free(step);
    free(start);
    free(ord);
    free(cut);
    return st;
}

uint64_t sal_ranking_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* A uniform draw in [0, b), b >= 1: reject the 2^64 mod b lowest outputs so that
 * every residue is equally likely. */
static uint64_t uniform_below(uint64_t *state, uint64_t b)
{
    uint64_t reject = (0 - b) % b, r;
    do
        r = sal_ranking_splitmix64(state);
    while (r < reject);
    return r % b;
}

static int cmp_idx(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

sal_status sal_ranking_random(int64_t D, int64_t k, uint64_t seed, int64_t **out)
{
    *out = NULL;
    if (D < 1 || k < 0 || k > D)
        return sal_fail(SAL_ERR_ARG, "cannot pick %lld random neurons of %lld", (long long)k,
                        (long long)D);
    int64_t *perm = alloc_idx(D);
    if (!perm)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for %lld neuron indices", (long long)D);
    for (int64_t j = 0; j < D; j++)
        perm[j] = j;
    uint64_t state = seed;
    for (int64_t i = 0; i < k; i++) {
        int64_t s = i + (int64_t)uniform_below(&state, (uint64_t)(D - i));
        int64_t t = perm[i];
        perm[i] = perm[s];
        perm[s] = t;
    }
    qsort(perm, (size_t)k, sizeof(*perm), cmp_idx);
    *out = perm;
    return SAL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * The pair sum without C^2 work or cancellation: with the K class means sorted,
 * m_0 <= ... <= m_{K-1}, each gap m_i - m_{i-1} lies between the i means below and
 * the K - i above, so sum over pairs |m_a - m_b| = sum_i (m_i - m_{i-1}) i (K - i),
 * a sum of non-negative terms. Ties among the means do not change it.
 */
sal_status sal_ranking_probeless(const double *X, int64_t N, int64_t D, const int32_t *y,
                                 int C, int64_t **order, double **score)
{
    int64_t *count = NULL, *ord = NULL;
    double *sum = NULL, *mean = NULL, *sc = NULL;
    entry *e = NULL;
    sal_status st = SAL_OK;
    *order = NULL;
    if (score)
        *score = NULL;
    if (!X || !y || N < 1 || D < 1 || C < 1)
        return sal_fail(SAL_ERR_ARG, "probeless ranking needs N x D activations, N labels and "
                        "C >= 1 classes, got %lld x %lld, C = %d", (long long)N, (long long)D, C);
    for (int64_t i = 0; i < N; i++)
        if (y[i] < 0 || y[i] >= C)
            return sal_fail(SAL_ERR_FORMAT, "label of token %lld is %d, not in [0, %d)",
                            (long long)i, y[i], C);
    count = calloc((size_t)C, sizeof(*count));
    sum = malloc(sizeof(*sum) * (size_t)C);
    mean = malloc(sizeof(*mean) * (size_t)C);
    sc = malloc(sizeof(*sc) * (size_t)D);
    e = malloc(sizeof(*e) * (size_t)D);
    ord = alloc_idx(D);
    if (!count || !sum || !mean || !sc || !e || !ord) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory ranking %lld neurons of %d classes",
                      (long long)D, C);
        goto free_work;
    }
    for (int64_t i = 0; i < N; i++)
        count[y[i]]++;
    for (int64_t j = 0; j < D; j++) {
        const double *x = X + j * N;
        memset(sum, 0, sizeof(*sum) * (size_t)C);
        for (int64_t i = 0; i < N; i++)
            sum[y[i]] += x[i];
        int K = 0;
        for (int c = 0; c < C; c++)
            if (count[c] > 0) {
                mean[K] = sum[c] / (double)count[c];
                if (!isfinite(mean[K])) {
                    st = sal_fail(SAL_ERR_FORMAT,
                                  "mean activation of neuron %lld over class %d is %g",
                                  (long long)j, c, mean[K]);
                    goto free_work;
                }
                K++;
            }
        qsort(mean, (size_t)K, sizeof(*mean), cmp_double);
        double s = 0;
        for (int i = 1; i < K; i++)
            s += (mean[i] - mean[i - 1]) * ((double)i * (double)(K - i));
        sc[j] = s;
        e[j].v = s;
        e[j].j = j;
    }
    qsort(e, (size_t)D, sizeof(*e), cmp_desc);
    for (int64_t r = 0; r < D; r++)
        ord[r] = e[r].j;
    *order = ord;
    ord = NULL;
    if (score) {
        *score = sc;
        sc = NULL;
    }
free_work:
    free(count);
    free(sum);
    free(mean);
    free(sc);
    free(e);
    free(ord);
    return st;
}
