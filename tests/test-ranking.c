/*
 * test-ranking.c - neuron rankings: NeuroX's four test vectors, ties broken by
 * index, the p = 0 and p = 1 edges, the ordering against top(k / stride) step by
 * step, splitmix64 and the random selection against reference values, and the
 * probeless score on hand-worked and planted examples. Serial; no MPI needed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "salient/ranking.h"
#include "testutil.h"

/* W (D x C, column-major) from rows[C][D] written as NeuroX writes a probe's weight
 * matrix, one row per class: W[j + c*D] = rows[c*D + j]. */
static double *from_rows(const double *rows, int C, int64_t D)
{
    double *W = malloc(sizeof(*W) * (size_t)(C * D));
    for (int c = 0; c < C; c++)
        for (int64_t j = 0; j < D; j++)
            W[j + c * D] = rows[c * D + j];
    return W;
}

/* Whether got[n] equals want[nwant]. */
static int same(const int64_t *got, int64_t n, const int64_t *want, int64_t nwant)
{
    return got && n == nwant && (n == 0 || memcmp(got, want, sizeof(*got) * (size_t)n) == 0);
}

/* A printable list, for failure messages (one static buffer: one use per message). */
static const char *show(const int64_t *v, int64_t n)
{
    static char buf[512];
    size_t len = 0;
    buf[0] = 0;
    for (int64_t i = 0; v && i < n && len < sizeof(buf) - 24; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld", i ? "," : "",
                                (long long)v[i]);
    return buf;
}

enum { TOP, BOTTOM, HARD };

/* Run one selection rule on rows[C][D] and compare with want[nwant]. */
static void expect_sel(int rule, const double *rows, int C, int64_t D, double arg,
                       const int64_t *want, int64_t nwant, const char *what)
{
    double *W = from_rows(rows, C, D);
    int64_t *got = NULL, n = -1;
    sal_status st = rule == TOP      ? sal_ranking_top(W, D, C, arg, &got, &n)
                    : rule == BOTTOM ? sal_ranking_bottom(W, D, C, arg, &got, &n)
                                     : sal_ranking_hard_threshold(W, D, C, arg, &got, &n);
    CHECK(st == SAL_OK, "%s: %s", what, sal_errmsg());
    CHECK(same(got, n, want, nwant), "%s: got {%s}", what, show(got, n));
    free(got);
    free(W);
}

/* NeuroX's tests (tests/interpretation/test_linear_probe.py), W as classes x neurons. */
static void check_neurox_vectors(void)
{
    const double top[] = {5, 1, 1, 1, 10, 1};
    expect_sel(TOP, top, 2, 3, 0.5, (const int64_t[]){0, 1}, 2, "NeuroX top");

    const double bottom[] = {5, 4, 1, 10, 1, 1};
    expect_sel(BOTTOM, bottom, 2, 3, 0.1, (const int64_t[]){1, 2}, 2, "NeuroX bottom");

    const double hard[] = {5, 1, 2, 1, 1, 10, 1, 6};
    expect_sel(HARD, hard, 2, 4, 2, (const int64_t[]){0, 1, 3}, 3, "NeuroX hard threshold");

    /* ordering at NeuroX's default stride 100. Class 0, descending 5(#2) 4(#0) 1(#1),
     * mass 10: #0 enters when 5 < (k/100) 10, k = 51; #1 when 9 < (k/100) 10, k = 91.
     * Class 1, 10(#2) 1(#0) 1(#1), mass 12: #0 at 10 < 0.12 k, k = 84; #1 at
     * 11 < 0.12 k, k = 92. So #2 at step 0, #0 at 51, #1 at 91. */
    const double ord[] = {4, 1, 5, 1, 1, 10};
    double *W = from_rows(ord, 2, 3);
    int64_t *order = NULL, *cut = NULL;
    CHECK_OK(sal_ranking_ordering(W, 3, 2, 100, &order, &cut));
    CHECK(same(order, 3, (const int64_t[]){2, 0, 1}, 3), "NeuroX ordering: got [%s]",
          show(order, 3));
    int bad = -1;
    for (int k = 0; cut && k <= 100 && bad < 0; k++)
        if (cut[k] != (k < 51 ? 1 : k < 91 ? 2 : 3))
            bad = k;
    CHECK(cut && bad < 0, "cutoffs[%d] = %lld", bad, cut && bad >= 0 ? (long long)cut[bad] : -1LL);
    free(order);
    free(cut);
    free(W);
}

/* Ties go to the lower index; p = 0, p = 1, zeros, signs. */
static void check_ties_and_edges(void)
{
    /* all equal: cumulative 1..5 of mass 5 */
    const double eq[] = {1, 1, 1, 1, 1};
    expect_sel(TOP, eq, 1, 5, 0.5, (const int64_t[]){0, 1, 2}, 3, "ties top(0.5)");
    expect_sel(BOTTOM, eq, 1, 5, 0.5, (const int64_t[]){0, 1, 2}, 3, "ties bottom(0.5)");
    expect_sel(TOP, eq, 1, 5, 0, (const int64_t[]){0}, 1, "ties top(0)");
    expect_sel(TOP, eq, 1, 5, 1, (const int64_t[]){0, 1, 2, 3, 4}, 5, "ties top(1)");
    expect_sel(HARD, eq, 1, 5, 1, NULL, 0, "ties hard(1): none above the max");
    expect_sel(HARD, eq, 1, 5, 1.5, (const int64_t[]){0, 1, 2, 3, 4}, 5, "ties hard(1.5)");

    /* ties by index, not by position: descending 3(#0) 3(#2) 1(#1) 1(#3), mass 8 */
    const double tie2[] = {3, 1, 3, 1};
    expect_sel(TOP, tie2, 1, 4, 0.3, (const int64_t[]){0}, 1, "top(0.3): 3 >= 2.4");
    expect_sel(TOP, tie2, 1, 4, 0.5, (const int64_t[]){0, 2}, 2, "top(0.5): 6 >= 4");
    expect_sel(BOTTOM, tie2, 1, 4, 0.1, (const int64_t[]){1}, 1, "bottom(0.1): 1 >= 0.8");
    expect_sel(BOTTOM, tie2, 1, 4, 0.2, (const int64_t[]){1, 3}, 2, "bottom(0.2): 2 >= 1.6");

    /* |w|: a large negative weight is the top one */
    const double neg[] = {-5, 1, 1};
    expect_sel(TOP, neg, 1, 3, 0.5, (const int64_t[]){0}, 1, "top on |w|");
    expect_sel(HARD, neg, 1, 3, 2, (const int64_t[]){0}, 1, "hard on |w|");

    /* zeros: descending 2(#0) 1(#2) 0(#1) 0(#3), cumulative 2 3 3 3 */
    const double z[] = {2, 0, 1, 0};
    expect_sel(TOP, z, 1, 4, 1, (const int64_t[]){0, 2}, 2, "top(1) leaves zero weights out");
    expect_sel(TOP, z, 1, 4, 0, (const int64_t[]){0}, 1, "top(0) is the largest weight");
    expect_sel(BOTTOM, z, 1, 4, 0, (const int64_t[]){1}, 1, "bottom(0) is the smallest");
    expect_sel(BOTTOM, z, 1, 4, 1, (const int64_t[]){0, 1, 2, 3}, 4, "bottom(1): all");

    /* top(0) is the union of the per-class largest */
    const double top[] = {5, 1, 1, 1, 10, 1};
    expect_sel(TOP, top, 2, 3, 0, (const int64_t[]){0, 1}, 2, "top(0) over two classes");

    /* an all-zero class: the mass rule keeps its first neuron (NeuroX: cum >= 0 at
     * once); the hard threshold keeps none */
    const double zero[] = {0, 0, 0, 0, 0, 0, 3, 0};
    expect_sel(TOP, zero, 2, 4, 0.5, (const int64_t[]){0, 2}, 2, "zero class top");
    expect_sel(HARD, zero, 2, 4, 2, (const int64_t[]){2}, 1, "zero class hard");

    /* ordering with ties: position r enters when r < (k/10) 5, at k = 2r + 1 */
    double *W = from_rows(eq, 1, 5);
    int64_t *order = NULL, *cut = NULL;
    CHECK_OK(sal_ranking_ordering(W, 5, 1, 10, &order, &cut));
    CHECK(same(order, 5, (const int64_t[]){0, 1, 2, 3, 4}, 5), "tied ordering [%s]",
          show(order, 5));
    CHECK(same(cut, 11, (const int64_t[]){1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, 11), "cutoffs [%s]",
          show(cut, 11));
    free(order);
    free(cut);
    free(W);

    /* bad input */
    const double nanw[] = {1, NAN, 2};
    int64_t *got = (int64_t *)1, n = 7;
    W = from_rows(eq, 1, 5);
    CHECK(sal_ranking_top(W, 5, 1, -0.1, &got, &n) == SAL_ERR_ARG && !got && n == 0, "p < 0");
    CHECK(sal_ranking_bottom(W, 5, 1, 1.5, &got, &n) == SAL_ERR_ARG, "p > 1");
    CHECK(sal_ranking_top(W, 5, 1, NAN, &got, &n) == SAL_ERR_ARG, "p NaN");
    CHECK(sal_ranking_hard_threshold(W, 5, 1, 0, &got, &n) == SAL_ERR_ARG, "f = 0");
    CHECK(sal_ranking_ordering(W, 5, 1, 0, &order, NULL) == SAL_ERR_ARG && !order, "stride 0");
    CHECK(sal_ranking_top(W, 0, 1, 0.5, &got, &n) == SAL_ERR_ARG, "D = 0");
    free(W);
    W = from_rows(nanw, 1, 3);
    CHECK(sal_ranking_top(W, 3, 1, 0.5, &got, &n) == SAL_ERR_FORMAT, "NaN weight");
    CHECK(sal_ranking_ordering(W, 3, 1, 10, &order, NULL) == SAL_ERR_FORMAT, "NaN weight");
    free(W);
}

/* A D x C matrix of small integers (many ties) with some all-zero neurons. */
static double *random_weights(int64_t D, int C, uint64_t seed)
{
    double *W = malloc(sizeof(*W) * (size_t)(D * C));
    uint64_t s = seed;
    for (int64_t i = 0; i < D * C; i++)
        W[i] = (double)(sal_ranking_splitmix64(&s) % 9) - 4;
    for (int c = 0; c < C; c++)
        W[3 + c * D] = W[7 + c * D] = 0;
    return W;
}

/* The ordering against its definition: top(k / stride) for every k, the new neurons
 * of each step appended ascending, then the rest; and a permutation. */
static void check_ordering_definition(int64_t D, int C, int stride, uint64_t seed)
{
    double *W = random_weights(D, C, seed);
    int64_t *order = NULL, *cut = NULL, *want = malloc(sizeof(*want) * (size_t)D);
    unsigned char *listed = calloc((size_t)D, 1);
    int64_t len = 0;
    int cut_ok = 1;
    CHECK_OK(sal_ranking_ordering(W, D, C, stride, &order, &cut));
    for (int k = 0; k <= stride; k++) {
        int64_t *sel = NULL, n = 0;
        CHECK_OK(sal_ranking_top(W, D, C, (double)k / stride, &sel, &n));
        for (int64_t i = 0; i < n; i++)
            if (!listed[sel[i]]) {
                listed[sel[i]] = 1;
                want[len++] = sel[i];
            }
        cut_ok &= cut && cut[k] == len;
        free(sel);
    }
    for (int64_t j = 0; j < D; j++)
        if (!listed[j])
            want[len++] = j;
    CHECK(same(order, D, want, D), "D %lld C %d stride %d: ordering differs from top(k/stride)",
          (long long)D, C, stride);
    CHECK(cut_ok, "D %lld C %d stride %d: cutoffs differ", (long long)D, C, stride);
    memset(listed, 0, (size_t)D);
    int perm = order != NULL;
    for (int64_t i = 0; perm && i < D; i++) {
        perm = order[i] >= 0 && order[i] < D && !listed[order[i]];
        if (perm)
            listed[order[i]] = 1;
    }
    CHECK(perm, "ordering is not a permutation of 0..%lld", (long long)D - 1);
    /* neurons 3 and 7 have no weight: they are in no step, after the last cutoff */
    int64_t pos3 = -1, pos7 = -1;
    for (int64_t i = 0; order && i < D; i++) {
        pos3 = order[i] == 3 ? i : pos3;
        pos7 = order[i] == 7 ? i : pos7;
    }
    CHECK(cut && pos3 >= cut[stride] && pos7 > pos3, "zero neurons at %lld and %lld",
          (long long)pos3, (long long)pos7);
    free(order);
    free(cut);
    free(want);
    free(listed);
    free(W);
}

/* splitmix64 and the random selection against an independent Python rendering of
 * the same algorithm (and splitmix64's published outputs for seed 0). */
static void check_random(void)
{
    uint64_t s = 0;
    uint64_t a = sal_ranking_splitmix64(&s), b = sal_ranking_splitmix64(&s),
             c = sal_ranking_splitmix64(&s);
    CHECK(a == 0xE220A8397B1DCDAFu && b == 0x6E789E6AA1B965F4u && c == 0x06C45D188009454Fu,
          "splitmix64(0): %llx %llx %llx", (unsigned long long)a, (unsigned long long)b,
          (unsigned long long)c);

    int64_t *r = NULL, *r2 = NULL;
    CHECK_OK(sal_ranking_random(10, 3, 42, &r));
    CHECK(same(r, 3, (const int64_t[]){2, 3, 4}, 3), "random(10, 3, 42) = {%s}", show(r, 3));
    free(r);
    CHECK_OK(sal_ranking_random(1000, 8, 2024, &r));
    CHECK(same(r, 8, (const int64_t[]){66, 174, 309, 325, 405, 461, 468, 838}, 8),
          "random(1000, 8, 2024) = {%s}", show(r, 8));
    free(r);

    /* reproducible, distinct, sorted, in range; another seed differs */
    CHECK_OK(sal_ranking_random(500, 100, 7, &r));
    CHECK_OK(sal_ranking_random(500, 100, 7, &r2));
    CHECK(same(r, 100, r2, 100), "same seed, different selection");
    int ok = 1;
    for (int i = 0; r && i < 100; i++)
        ok &= r[i] >= 0 && r[i] < 500 && (i == 0 || r[i] > r[i - 1]);
    CHECK(r && ok, "random(500, 100) not distinct, sorted and in range: %s", show(r, 100));
    free(r2);
    CHECK_OK(sal_ranking_random(500, 100, 8, &r2));
    CHECK(!same(r, 100, r2, 100), "seeds 7 and 8 give the same selection");
    free(r);
    free(r2);

    CHECK_OK(sal_ranking_random(7, 7, 1, &r));
    CHECK(same(r, 7, (const int64_t[]){0, 1, 2, 3, 4, 5, 6}, 7), "k = D: %s", show(r, 7));
    free(r);
    CHECK_OK(sal_ranking_random(7, 0, 1, &r));
    CHECK(r != NULL, "k = 0 gives NULL");
    free(r);
    CHECK(sal_ranking_random(7, 8, 1, &r) == SAL_ERR_ARG && !r, "k > D accepted");

    /* uniform: each of 10 neurons is picked in 3/10 of 20000 draws of 3, sd ~ 65 */
    int count[10] = {0};
    ok = 1;
    for (uint64_t seed = 0; seed < 20000; seed++) {
        ok &= sal_ranking_random(10, 3, seed, &r) == SAL_OK;
        for (int i = 0; r && i < 3; i++)
            count[r[i]]++;
        free(r);
    }
    for (int j = 0; j < 10; j++)
        ok &= abs(count[j] - 6000) < 400;
    CHECK(ok, "random not uniform: %d %d %d %d %d %d %d %d %d %d", count[0], count[1], count[2],
          count[3], count[4], count[5], count[6], count[7], count[8], count[9]);
}

static void check_probeless(void)
{
    /* hand-worked: 6 tokens, 3 neurons, 4 classes (class 3 has no tokens).
     *   y      0  0  1  1  2  2
     *   #0     1  3  5  5  0  0   means 2, 5, 0: |2-5| + |2-0| + |5-0| = 10
     *   #1     7  7  7  7  7  7   means 7, 7, 7: 0
     *   #2     0  2  1  1  4  4   means 1, 1, 4: 0 + 3 + 3 = 6 */
    const int32_t y[6] = {0, 0, 1, 1, 2, 2};
    const double X[18] = {1, 3, 5, 5, 0, 0, 7, 7, 7, 7, 7, 7, 0, 2, 1, 1, 4, 4};
    int64_t *order = NULL;
    double *score = NULL;
    CHECK_OK(sal_ranking_probeless(X, 6, 3, y, 4, &order, &score));
    CHECK(score && score[0] == 10 && score[1] == 0 && score[2] == 6, "scores %g %g %g",
          score ? score[0] : NAN, score ? score[1] : NAN, score ? score[2] : NAN);
    CHECK(same(order, 3, (const int64_t[]){0, 2, 1}, 3), "probeless order [%s]", show(order, 3));
    free(order);
    free(score);

    /* ties by index: every neuron constant */
    const double flat[12] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
    CHECK_OK(sal_ranking_probeless(flat, 6, 2, y, 3, &order, NULL));
    CHECK(same(order, 2, (const int64_t[]){0, 1}, 2), "tied probeless [%s]", show(order, 2));
    free(order);

    /* planted: 300 tokens, 6 neurons of noise in [-1, 1), neuron 4 shifted by its
     * token's class (0, 1 or 2) */
    enum { N = 300, D = 6 };
    double *P = malloc(sizeof(*P) * N * D);
    int32_t yp[N];
    uint64_t s = 99;
    for (int i = 0; i < N; i++)
        yp[i] = (int32_t)(sal_ranking_splitmix64(&s) % 3);
    for (int j = 0; j < D; j++)
        for (int i = 0; i < N; i++)
            P[i + j * N] = (double)(sal_ranking_splitmix64(&s) >> 11) * 0x1p-52 - 1 +
                           (j == 4 ? yp[i] : 0);
    CHECK_OK(sal_ranking_probeless(P, N, D, yp, 3, &order, &score));
    CHECK(order && order[0] == 4, "planted neuron 4 is not first: [%s]", show(order, D));
    int desc = order != NULL;
    for (int r = 1; desc && r < D; r++)
        desc = score[order[r - 1]] >= score[order[r]];
    CHECK(desc, "probeless order not by descending score");
    free(order);
    free(score);
    free(P);

    int32_t ybad[6] = {0, 0, 1, 1, 2, 3};
    CHECK(sal_ranking_probeless(X, 6, 3, ybad, 3, &order, &score) == SAL_ERR_FORMAT && !order &&
              !score,
          "label out of range accepted");
    const double Xnan[6] = {0, 1, NAN, 0, 1, 2};
    CHECK(sal_ranking_probeless(Xnan, 6, 1, y, 3, &order, NULL) == SAL_ERR_FORMAT,
          "NaN activation accepted");
}

int main(void)
{
    check_neurox_vectors();
    check_ties_and_edges();
    check_ordering_definition(40, 3, 100, 1);
    check_ordering_definition(25, 5, 7, 2);
    check_ordering_definition(200, 12, 100, 3);
    check_random();
    check_probeless();
    return test_finish("test-ranking");
}
