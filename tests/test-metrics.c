/*
 * test-metrics.c - classification metrics and correlations against values worked by
 * hand (the arithmetic is in the comments), ties in Spearman, undefined cases and
 * bad input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/metrics.h"
#include "testutil.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-15 * fmax(1, fabs(b)))

/*
 * Five classes; class 3 occurs only in the predictions, class 4 nowhere.
 *
 *   position  0 1 2 3 4 5 6 7 8 9
 *   y         0 0 0 1 1 1 2 2 2 2
 *   pred      0 0 1 1 1 3 2 2 0 2
 *
 * Confusion (row true, column predicted):
 *          p0 p1 p2 p3 p4
 *     t0 [  2  1  0  0  0 ]   ntrue 3, npred 3, tp 2
 *     t1 [  0  2  0  1  0 ]   ntrue 3, npred 3, tp 2
 *     t2 [  1  0  3  0  0 ]   ntrue 4, npred 3, tp 3
 *     t3 [  0  0  0  0  0 ]   ntrue 0, npred 1, tp 0
 *     t4 [  0  0  0  0  0 ]   ntrue 0, npred 0
 * accuracy = (2 + 2 + 3) / 10 = 0.7
 * per-class accuracy (recall) = 2/3, 2/3, 3/4, NaN, NaN; mean over y's classes
 *   = (2/3 + 2/3 + 3/4) / 3 = 25/36 (sklearn balanced_accuracy_score)
 * F1 = 2tp / (ntrue + npred): 4/6, 4/6, 6/7, 0/1 = 0, undefined (left out)
 * macro-F1 over {0, 1, 2, 3} = (2/3 + 2/3 + 6/7 + 0) / 4 = (14 + 14 + 18) / 84 = 23/42
 *   (sklearn f1_score(y, pred, average="macro", zero_division=0): class 3 has
 *    P = 0/1 = 0 and R = 0/0 -> 0, so F1 = 0; class 4 is not in its label set).
 */
static void check_classification(void)
{
    const int32_t y[10] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
    const int32_t pred[10] = {0, 0, 1, 1, 1, 3, 2, 2, 0, 2};
    sal_class_metrics m;
    CHECK_OK(sal_class_metrics_compute(y, pred, 10, 5, &m));
    CHECK(m.C == 5 && m.n == 10, "C %d n %lld", m.C, (long long)m.n);
    CHECK(NEAR(m.accuracy, 0.7), "accuracy %.17g", m.accuracy);
    CHECK(m.classes_in_y == 3 && m.classes_in_f1 == 4, "classes %d %d", m.classes_in_y,
          m.classes_in_f1);
    CHECK(NEAR(m.per_class[0], 2.0 / 3) && NEAR(m.per_class[1], 2.0 / 3) &&
              NEAR(m.per_class[2], 0.75) && isnan(m.per_class[3]) && isnan(m.per_class[4]),
          "per class %g %g %g %g %g", m.per_class[0], m.per_class[1], m.per_class[2],
          m.per_class[3], m.per_class[4]);
    CHECK(NEAR(m.mean_class_accuracy, 25.0 / 36), "balanced %.17g", m.mean_class_accuracy);
    CHECK(NEAR(m.f1[0], 2.0 / 3) && NEAR(m.f1[1], 2.0 / 3) && NEAR(m.f1[2], 6.0 / 7) &&
              m.f1[3] == 0 && isnan(m.f1[4]),
          "f1 %g %g %g %g %g", m.f1[0], m.f1[1], m.f1[2], m.f1[3], m.f1[4]);
    CHECK(NEAR(m.macro_f1, 23.0 / 42), "macro-F1 %.17g", m.macro_f1);
    sal_class_metrics_free(&m);
    CHECK(m.per_class == NULL && m.f1 == NULL, "free did not zero");
    sal_class_metrics_free(NULL);

    int64_t cm[25];
    const int64_t want[25] = {2, 1, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0, 3, 0, 0,
                              0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_OK(sal_confusion_counts(y, pred, 10, 5, cm));
    CHECK(memcmp(cm, want, sizeof(cm)) == 0, "confusion matrix differs");

    /* perfect predictions; then all wrong: two classes swapped.
     * y = 0 1 1, pred = 1 0 0: tp = 0 everywhere, F1 = 0 for both classes */
    const int32_t y2[3] = {0, 1, 1}, p2[3] = {1, 0, 0};
    CHECK_OK(sal_class_metrics_compute(y2, y2, 3, 2, &m));
    CHECK(m.accuracy == 1 && m.macro_f1 == 1 && m.mean_class_accuracy == 1, "perfect: %g %g %g",
          m.accuracy, m.macro_f1, m.mean_class_accuracy);
    sal_class_metrics_free(&m);
    CHECK_OK(sal_class_metrics_compute(y2, p2, 3, 2, &m));
    CHECK(m.accuracy == 0 && m.macro_f1 == 0 && m.mean_class_accuracy == 0, "wrong: %g %g %g",
          m.accuracy, m.macro_f1, m.mean_class_accuracy);
    sal_class_metrics_free(&m);

    /* binary, unbalanced: y = 1 1 1 1 0, pred = 1 1 1 0 1
     * class 0: tp 0, ntrue 1, npred 1 -> F1 0, recall 0
     * class 1: tp 3, ntrue 4, npred 4 -> F1 6/8, recall 3/4
     * accuracy 3/5; macro-F1 (0 + 0.75) / 2 = 0.375; balanced (0 + 0.75) / 2 = 0.375 */
    const int32_t y3[5] = {1, 1, 1, 1, 0}, p3[5] = {1, 1, 1, 0, 1};
    CHECK_OK(sal_class_metrics_compute(y3, p3, 5, 2, &m));
    CHECK(NEAR(m.accuracy, 0.6) && NEAR(m.macro_f1, 0.375) && NEAR(m.mean_class_accuracy, 0.375),
          "binary: %.17g %.17g %.17g", m.accuracy, m.macro_f1, m.mean_class_accuracy);
    sal_class_metrics_free(&m);

    /* bad input: the struct comes back zeroed */
    const int32_t bad[3] = {0, 2, 1};
    CHECK(sal_class_metrics_compute(y2, bad, 3, 2, &m) == SAL_ERR_FORMAT && !m.per_class,
          "prediction 2 of 2 classes accepted");
    CHECK(strstr(sal_errmsg(), "position 1") != NULL, "message: %s", sal_errmsg());
    CHECK(sal_class_metrics_compute(bad, y2, 3, 2, &m) == SAL_ERR_FORMAT, "label 2 accepted");
    CHECK(sal_class_metrics_compute(y2, y2, 0, 2, &m) == SAL_ERR_ARG, "n = 0 accepted");
    CHECK(sal_class_metrics_compute(y2, y2, 3, 0, &m) == SAL_ERR_ARG, "C = 0 accepted");
    const int32_t neg[1] = {-1};
    CHECK(sal_confusion_counts(neg, neg, 1, 2, cm) == SAL_ERR_FORMAT, "label -1 accepted");
}

/*
 * x = 1 2 3 4 5, y = 2 4 5 4 5.
 * Pearson: means 3 and 4; dx = -2 -1 0 1 2, dy = -2 0 1 0 1;
 *   sxy = 4 + 0 + 0 + 0 + 2 = 6, sxx = 10, syy = 4 + 0 + 1 + 0 + 1 = 6;
 *   r = 6 / sqrt(60) = 0.77459666924148338.
 * Spearman: ranks of y with ties averaged: 2 -> 1; the two 4s -> (2+3)/2 = 2.5;
 *   the two 5s -> (4+5)/2 = 4.5: ry = 1 2.5 4.5 2.5 4.5, rx = 1 2 3 4 5, means 3;
 *   dry = -2 -0.5 1.5 -0.5 1.5; sxy = 4 + 0.5 + 0 - 0.5 + 3 = 7, syy = 4 + 0.25 + 2.25
 *   + 0.25 + 2.25 = 9; rho = 7 / sqrt(90) = 0.73786478737262184
 *   (scipy.stats.spearmanr gives the same).
 */
static void check_correlation(void)
{
    const double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 5, 4, 5};
    double r, rho;
    CHECK_OK(sal_pearson(x, y, 5, &r));
    CHECK(NEAR(r, 6 / sqrt(60)), "pearson %.17g", r);
    CHECK_OK(sal_spearman(x, y, 5, &rho));
    CHECK(NEAR(rho, 7 / sqrt(90)), "spearman %.17g", rho);
    CHECK_OK(sal_spearman(y, x, 5, &rho));
    CHECK(NEAR(rho, 7 / sqrt(90)), "spearman, swapped %.17g", rho);

    double rank[5];
    CHECK_OK(sal_rank_average(y, 5, rank));
    CHECK(rank[0] == 1 && rank[1] == 2.5 && rank[2] == 4.5 && rank[3] == 2.5 && rank[4] == 4.5,
          "ranks %g %g %g %g %g", rank[0], rank[1], rank[2], rank[3], rank[4]);
    /* three-way tie in the middle, unsorted: 9 1 5 5 5 0 -> ranks 6 2 4 4 4 1 */
    const double t[6] = {9, 1, 5, 5, 5, 0};
    double tr[6];
    CHECK_OK(sal_rank_average(t, 6, tr));
    CHECK(tr[0] == 6 && tr[1] == 2 && tr[2] == 4 && tr[3] == 4 && tr[4] == 4 && tr[5] == 1,
          "ranks %g %g %g %g %g %g", tr[0], tr[1], tr[2], tr[3], tr[4], tr[5]);

    /* a large offset does not cost precision (two-pass deviations) */
    double xo[5], yo[5];
    for (int i = 0; i < 5; i++) {
        xo[i] = 1e8 + x[i];
        yo[i] = -3e9 + y[i];
    }
    CHECK_OK(sal_pearson(xo, yo, 5, &r));
    CHECK(fabs(r - 6 / sqrt(60)) <= 1e-12, "pearson with offsets %.17g", r);

    /* exact +-1: affine maps for Pearson, any increasing map for Spearman */
    double ax[50], ay[50], ez[50];
    for (int i = 0; i < 50; i++) {
        ax[i] = sin(i * 1.3) * 10;
        ay[i] = -3 * ax[i] + 7;
        ez[i] = exp(ax[i]);
    }
    CHECK_OK(sal_pearson(ax, ay, 50, &r));
    CHECK(r == -1 || fabs(r + 1) <= 1e-15, "pearson of -3x + 7: %.17g", r);
    CHECK_OK(sal_spearman(ax, ez, 50, &rho));
    CHECK(rho == 1 || fabs(rho - 1) <= 1e-15, "spearman of exp(x): %.17g", rho);
    CHECK_OK(sal_pearson(ax, ez, 50, &r));
    CHECK(r < 0.99, "pearson of exp(x) should not be 1: %.17g", r);

    /* undefined: NaN result and SAL_ERR_FORMAT */
    const double c[4] = {0.1, 0.1, 0.1, 0.1}, v[4] = {1, 2, 3, 4};
    CHECK(sal_pearson(c, v, 4, &r) == SAL_ERR_FORMAT && isnan(r), "constant x accepted");
    CHECK(strstr(sal_errmsg(), "constant") != NULL, "message: %s", sal_errmsg());
    CHECK(sal_pearson(v, c, 4, &r) == SAL_ERR_FORMAT && isnan(r), "constant y accepted");
    CHECK(sal_spearman(c, v, 4, &rho) == SAL_ERR_FORMAT && isnan(rho), "spearman constant");
    CHECK(sal_pearson(v, v, 1, &r) == SAL_ERR_FORMAT && isnan(r), "n = 1 accepted");
    CHECK(sal_spearman(v, v, 0, &rho) == SAL_ERR_FORMAT && isnan(rho), "n = 0 accepted");
    const double nanv[4] = {1, 2, NAN, 4};
    CHECK(sal_pearson(v, nanv, 4, &r) == SAL_ERR_FORMAT && isnan(r), "NaN accepted");
    CHECK(strstr(sal_errmsg(), "position 2") != NULL, "message: %s", sal_errmsg());
    CHECK(sal_spearman(nanv, v, 4, &rho) == SAL_ERR_FORMAT && isnan(rho), "NaN accepted");
    /* two values: r = +-1 */
    CHECK_OK(sal_pearson(v, v + 2, 2, &r));
    CHECK(r == 1, "two points: %.17g", r);
}

int main(void)
{
    check_classification();
    check_correlation();
    return test_finish("test-metrics");
}
