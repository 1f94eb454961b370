/* metrics.c - classification metrics and correlations (see metrics.h). */
#include "salient/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Check that n, C and every label and prediction are usable. */
static sal_status check_labels(const int32_t *y, const int32_t *pred, int64_t n, int C)
{
    if (n < 1)
        return sal_fail(SAL_ERR_ARG, "no positions to score (n = %lld)", (long long)n);
    if (C < 1)
        return sal_fail(SAL_ERR_ARG, "class count must be at least 1, got %d", C);
    for (int64_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= C)
            return sal_fail(SAL_ERR_FORMAT, "true label of position %lld is %d, not in [0, %d)",
                            (long long)i, y[i], C);
        if (pred[i] < 0 || pred[i] >= C)
            return sal_fail(SAL_ERR_FORMAT, "prediction at position %lld is %d, not in [0, %d)",
                            (long long)i, pred[i], C);
    }
    return SAL_OK;
}

sal_status sal_confusion_counts(const int32_t *y, const int32_t *pred, int64_t n, int C,
                                int64_t *counts)
{
    sal_status st = check_labels(y, pred, n, C);
    if (st)
        return st;
    memset(counts, 0, sizeof(*counts) * (size_t)C * (size_t)C);
    for (int64_t i = 0; i < n; i++)
        counts[(int64_t)y[i] * C + pred[i]]++;
    return SAL_OK;
}

void sal_class_metrics_free(sal_class_metrics *m)
{
    if (!m)
        return;
    free(m->per_class);
    free(m->f1);
    memset(m, 0, sizeof(*m));
}

/* Per-class counts (true positives, true and predicted totals) take O(C) memory, so
 * C may be a vocabulary-sized class count where a C x C confusion matrix would not fit. */
sal_status sal_class_metrics_compute(const int32_t *y, const int32_t *pred, int64_t n, int C,
                                     sal_class_metrics *out)
{
    int64_t *tp = NULL, *ntrue = NULL, *npred = NULL;
    memset(out, 0, sizeof(*out));
    sal_status st = check_labels(y, pred, n, C);
    if (st)
        return st;
    tp = calloc((size_t)C, sizeof(*tp));
    ntrue = calloc((size_t)C, sizeof(*ntrue));
    npred = calloc((size_t)C, sizeof(*npred));
    out->per_class = malloc(sizeof(*out->per_class) * (size_t)C);
    out->f1 = malloc(sizeof(*out->f1) * (size_t)C);
    if (!tp || !ntrue || !npred || !out->per_class || !out->f1) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for metrics of %d classes", C);
        goto free_counts;
    }
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++) {
        ntrue[y[i]]++;
        npred[pred[i]]++;
        if (y[i] == pred[i]) {
            tp[y[i]]++;
            correct++;
        }
    }
    out->C = C;
    out->n = n;
    out->accuracy = (double)correct / (double)n;
    double sum_recall = 0, sum_f1 = 0;
    for (int c = 0; c < C; c++) {
        if (ntrue[c] > 0) {
            out->per_class[c] = (double)tp[c] / (double)ntrue[c];
            sum_recall += out->per_class[c];
            out->classes_in_y++;
        } else {
            out->per_class[c] = NAN;
        }
        if (ntrue[c] + npred[c] > 0) {
            out->f1[c] = 2.0 * (double)tp[c] / (double)(ntrue[c] + npred[c]);
            sum_f1 += out->f1[c];
            out->classes_in_f1++;
        } else {
            out->f1[c] = NAN;
        }
    }
    /* n >= 1 puts at least one class in y, so both averages are defined */
    out->mean_class_accuracy = sum_recall / out->classes_in_y;
    out->macro_f1 = sum_f1 / out->classes_in_f1;
free_counts:
    free(tp);
    free(ntrue);
    free(npred);
    if (st)
        sal_class_metrics_free(out);
    return st;
}

/* Why a correlation of x[n], y[n] is undefined, or NULL if it is defined: too few
 * values, a non-finite value, or a constant input (tested exactly, not through a
 * variance that rounding can leave a little above zero). */
static const char *undefined_why(const double *x, const double *y, int64_t n, int64_t *where)
{
    *where = -1;
    if (n < 2)
        return "fewer than 2 values";
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            *where = i;
            return "a non-finite value";
        }
    int xvar = 0, yvar = 0;
    for (int64_t i = 1; i < n && !(xvar && yvar); i++) {
        xvar |= x[i] != x[0];
        yvar |= y[i] != y[0];
    }
    if (!xvar)
        return "the first series is constant (zero variance)";
    if (!yvar)
        return "the second series is constant (zero variance)";
    return NULL;
}

/* Mean of x[n], with one correction pass (the mean of the deviations) for rounding. */
static double mean2(const double *x, int64_t n)
{
    double s = 0, c = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    s /= (double)n;
    for (int64_t i = 0; i < n; i++)
        c += x[i] - s;
    return s + c / (double)n;
}

/* Pearson r of inputs already known to be defined. */
static double pearson_defined(const double *x, const double *y, int64_t n)
{
    double mx = mean2(x, n), my = mean2(y, n), sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    /* sqrt of the product is exact more often (r = 1 for two points); the product of
     * square roots guards against overflow or underflow of sxx * syy */
    double den = sxx * syy;
    den = isfinite(den) && den > 0 ? sqrt(den) : sqrt(sxx) * sqrt(syy);
    double r = sxy / den;
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

sal_status sal_pearson(const double *x, const double *y, int64_t n, double *r)
{
    int64_t where;
    const char *why = undefined_why(x, y, n, &where);
    *r = NAN;
    if (why && where >= 0)
        return sal_fail(SAL_ERR_FORMAT, "Pearson r undefined: %s at position %lld", why,
                        (long long)where);
    if (why)
        return sal_fail(SAL_ERR_FORMAT, "Pearson r undefined: %s (n = %lld)", why, (long long)n);
    *r = pearson_defined(x, y, n);
    return SAL_OK;
}

typedef struct ranked {
    double v;
    int64_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double u = ((const ranked *)a)->v, v = ((const ranked *)b)->v;
    return (u > v) - (u < v);
}

sal_status sal_rank_average(const double *x, int64_t n, double *rank)
{
    if (n < 1)
        return SAL_OK;
    ranked *r = malloc(sizeof(*r) * (size_t)n);
    if (!r)
        return sal_fail(SAL_ERR_NOMEM, "out of memory ranking %lld values", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        r[i].v = x[i];
        r[i].i = i;
    }
    qsort(r, (size_t)n, sizeof(*r), cmp_ranked);
    for (int64_t a = 0; a < n;) {
        int64_t b = a + 1;
        while (b < n && r[b].v == r[a].v)
            b++;
        /* positions a .. b-1 hold 1-based ranks a+1 .. b: their mean is (a + b + 1) / 2 */
        double avg = 0.5 * (double)(a + b + 1);
        for (int64_t k = a; k < b; k++)
            rank[r[k].i] = avg;
        a = b;
    }
    free(r);
    return SAL_OK;
}

sal_status sal_spearman(const double *x, const double *y, int64_t n, double *rho)
{
    int64_t where;
    const char *why = undefined_why(x, y, n, &where);
    double *rx = NULL, *ry = NULL;
    sal_status st = SAL_OK;
    *rho = NAN;
    if (why && where >= 0)
        return sal_fail(SAL_ERR_FORMAT, "Spearman rho undefined: %s at position %lld", why,
                        (long long)where);
    if (why)
        return sal_fail(SAL_ERR_FORMAT, "Spearman rho undefined: %s (n = %lld)", why,
                        (long long)n);
    rx = malloc(sizeof(*rx) * (size_t)n);
    ry = malloc(sizeof(*ry) * (size_t)n);
    if (!rx || !ry) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory ranking %lld values", (long long)n);
        goto free_ranks;
    }
    if ((st = sal_rank_average(x, n, rx)) || (st = sal_rank_average(y, n, ry)))
        goto free_ranks;
    *rho = pearson_defined(rx, ry, n);
free_ranks:
    free(rx);
    free(ry);
    return st;
}
