/*
 * correlation.c - neuron correlations, redundancy clusters, and cross-model
 * correlation analysis (see correlation.h for the definitions and citations).
 *
 * The correlation matrix is one distributed product of standardized activations:
 * for each column, a copy of the local part is centered with a two-pass mean (the mean
 * of the first deviations corrects the first mean, so the centered columns sum to zero
 * to rounding) and scaled to unit norm; then R = Zx^T Zy (pdgemm, or pdsyrk when X and
 * Y are one matrix). Each entry is the dot product of two unit vectors whose entries
 * were formed without cancellation, so its error is a few units of N eps whatever the
 * column means; the rank-one correction X^T Y / N - mu nu^T would instead lose
 * log10(mu^2 / s^2) digits (five for means ~40 and deviations ~0.1).
 */
#include "salient/correlation.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A constant column: its standard deviation is at most CONST_TOL eps max|x|. */
#define CONST_TOL 64.0

void sal_corr_free(sal_corr *c)
{
    if (!c)
        return;
    free(c->r);
    free(c->const_a);
    if (c->const_b != c->const_a)
        free(c->const_b);
    memset(c, 0, sizeof(*c));
}

void sal_crosscorr_free(sal_crosscorr *x)
{
    if (!x)
        return;
    free(x->maxcorr);
    free(x->mincorr);
    free(x->maxcorr_rank);
    free(x->mincorr_rank);
    memset(x, 0, sizeof(*x));
}

void sal_clusters_free(sal_clusters *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->size);
    free(c->rep);
    memset(c, 0, sizeof(*c));
}

/* NULL if X and Y can be correlated on g (code in *code), else a message. Every
 * process sees the same descriptors, so every process gets the same answer. */
static const char *check_pair(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                              sal_status *code)
{
    *code = SAL_ERR_ARG;
    if (X->desc[SAL_CTXT] != sal_grid_context(g) || Y->desc[SAL_CTXT] != sal_grid_context(g))
        return "the activation matrices are not on the grid given";
    if (X->desc[SAL_M] != Y->desc[SAL_M])
        return "the two activation matrices have different numbers of token rows";
    if (X->desc[SAL_MB] != Y->desc[SAL_MB] || X->desc[SAL_RSRC] != Y->desc[SAL_RSRC])
        return "the two activation matrices have different row blocking";
    *code = SAL_ERR_FORMAT;
    if (X->desc[SAL_M] < 2)
        return "a correlation needs at least 2 tokens";
    if (X->desc[SAL_N] < 1 || Y->desc[SAL_N] < 1)
        return "a correlation needs at least 1 neuron on each side";
    *code = SAL_OK;
    return NULL;
}

/* Z (allocated here, X's shape) := the columns of X centered and scaled to unit norm,
 * a constant column zeroed and flagged in flags[D] (on every process); the number of
 * constant columns into *nconst. On failure Z is unallocated. Collective; the status
 * is agreed. */
static sal_status standardize(const sal_pmat *X, MPI_Comm comm, const char *name, sal_pmat *Z,
                              unsigned char *flags, int64_t *nconst)
{
    int64_t N = X->desc[SAL_M], D = X->desc[SAL_N], lld = X->desc[SAL_LLD];
    sal_status st = SAL_OK;
    double *mu = malloc(sizeof(*mu) * (size_t)D), *buf = malloc(sizeof(*buf) * (size_t)D);
    double *ext = malloc(sizeof(*ext) * (size_t)(2 * D));
    memset(Z, 0, sizeof(*Z));
    memcpy(Z->desc, X->desc, sizeof(Z->desc));
    Z->lrows = X->lrows;
    Z->lcols = X->lcols;
    Z->a = malloc(sizeof(*Z->a) * (size_t)lld * (size_t)(X->lcols > 0 ? X->lcols : 1));
    if (!mu || !buf || !ext || !Z->a)
        st = sal_fail(SAL_ERR_NOMEM,
                      "correlation: out of memory for a standardized copy of "
                      "%lld x %lld activations",
                      (long long)N, (long long)D);
    if ((st = sal_agree(st, comm)))
        goto done;
    /* corrected two-pass means and variances (NaN/Inf refused), then the deviations */
    if ((st = sal_pmat_col_stats(X, comm, mu, buf))) {
        sal_fail_context(st, "correlation: %s", name);
        goto done;
    }
    sal_pmat_sub_col(X, mu, Z);
    /* the largest and minus the smallest deviation per column; buf becomes the norms */
    for (int64_t j = 0; j < 2 * D; j++)
        ext[j] = -INFINITY;
    for (int64_t jl = 0; jl < Z->lcols; jl++) {
        const double *col = Z->a + jl * lld;
        int64_t gj = sal_pmat_gcol(Z, jl);
        for (int64_t il = 0; il < Z->lrows; il++) {
            ext[gj] = fmax(ext[gj], col[il]);
            ext[D + gj] = fmax(ext[D + gj], -col[il]);
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, ext, (int)(2 * D), MPI_DOUBLE, MPI_MAX, comm);
    for (int64_t j = 0; j < D; j++) {
        buf[j] *= (double)N; /* sum of squared deviations */
        ext[j] += mu[j];     /* back to the raw extremes */
        ext[D + j] -= mu[j];
    }
    *nconst = 0;
    for (int64_t j = 0; j < D; j++) {
        double norm = sqrt(buf[j]), amax = fmax(fabs(ext[j]), fabs(ext[D + j]));
        int constant =
            ext[j] == -ext[D + j] || norm <= CONST_TOL * DBL_EPSILON * amax * sqrt((double)N);
        flags[j] = (unsigned char)constant;
        *nconst += constant;
        buf[j] = constant ? 0 : 1 / norm; /* the same on every process */
    }
    for (int64_t jl = 0; jl < Z->lcols; jl++) {
        double s = buf[sal_pmat_gcol(Z, jl)];
        for (int64_t il = 0; il < Z->lrows; il++)
            Z->a[il + jl * lld] *= s;
    }
done:
    free(mu);
    free(buf);
    free(ext);
    if (st)
        sal_pmat_free(Z);
    return st;
}

/* R (allocated here) := Zx^T Zy, by pdsyrk into the upper triangle when upper_only and
 * X == Y, else by pdgemm; entries clamped to [-1, 1]. Flags as standardize (cb and ncb
 * untouched when X == Y). Collective; the status is agreed. */
static sal_status corr_product(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                               int upper_only, sal_pmat *R, unsigned char *ca, unsigned char *cb,
                               int64_t *nca, int64_t *ncb)
{
    MPI_Comm comm = sal_grid_comm(g);
    sal_pmat Zx = {0}, Zy = {0};
    sal_status st;
    int same = X == Y;
    memset(R, 0, sizeof(*R));
    if ((st = standardize(X, comm, same ? "activations" : "first activations", &Zx, ca, nca)))
        return st;
    if (!same && (st = standardize(Y, comm, "second activations", &Zy, cb, ncb)))
        goto done;
    int64_t DA = X->desc[SAL_N], DB = Y->desc[SAL_N];
    if ((st = sal_agree(sal_pmat_init(R, g, DA, DB, X->desc[SAL_NB], Y->desc[SAL_NB]), comm)))
        goto done;
    int m = (int)DA, n = (int)DB, k = (int)X->desc[SAL_M], one = 1;
    double unit = 1, zero = 0;
    const sal_pmat *B = same ? &Zx : &Zy;
    if (same && upper_only)
        pdsyrk_("U", "T", &m, &k, &unit, Zx.a, &one, &one, Zx.desc, &zero, R->a, &one, &one,
                R->desc);
    else
        pdgemm_("T", "N", &m, &n, &k, &unit, Zx.a, &one, &one, Zx.desc, B->a, &one, &one, B->desc,
                &zero, R->a, &one, &one, R->desc);
    int64_t ldr = R->desc[SAL_LLD];
    for (int64_t jl = 0; jl < R->lcols; jl++)
        for (int64_t il = 0; il < R->lrows; il++) {
            double *v = &R->a[il + jl * ldr]; /* (a NaN would stay visible) */
            if (*v > 1)
                *v = 1;
            else if (*v < -1)
                *v = -1;
        }
done:
    sal_pmat_free(&Zx);
    sal_pmat_free(&Zy);
    if (st)
        sal_pmat_free(R);
    return st;
}

sal_status sal_correlation_pmat(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                                sal_pmat *R, unsigned char *const_a, unsigned char *const_b)
{
    MPI_Comm comm = sal_grid_comm(g);
    unsigned char *ca = NULL, *cb = NULL;
    int64_t nca = 0, ncb = 0;
    sal_status st;
    memset(R, 0, sizeof(*R));
    const char *msg = check_pair(X, Y, g, &st);
    if (msg)
        st = sal_fail(st, "correlation: %s (%lld x %lld and %lld x %lld)", msg,
                      (long long)X->desc[SAL_M], (long long)X->desc[SAL_N],
                      (long long)Y->desc[SAL_M], (long long)Y->desc[SAL_N]);
    else {
        ca = malloc((size_t)X->desc[SAL_N]);
        cb = malloc((size_t)Y->desc[SAL_N]);
        if (!ca || !cb)
            st = sal_fail(SAL_ERR_NOMEM, "correlation: out of memory");
    }
    if ((st = sal_agree(st, comm)))
        goto done;
    if ((st = corr_product(X, Y, g, 0, R, ca, cb, &nca, &ncb)))
        goto done;
    if (X == Y)
        memcpy(cb, ca, (size_t)X->desc[SAL_N]);
    if (const_a)
        memcpy(const_a, ca, (size_t)X->desc[SAL_N]);
    if (const_b)
        memcpy(const_b, cb, (size_t)Y->desc[SAL_N]);
done:
    free(ca);
    free(cb);
    return st;
}

sal_status sal_correlation_matrix(const sal_pmat *X, const sal_pmat *Y, const sal_grid *g,
                                  sal_corr *out)
{
    MPI_Comm comm = sal_grid_comm(g);
    sal_pmat R = {0};
    sal_status st;
    int same = X == Y;
    memset(out, 0, sizeof(*out));
    const char *msg = check_pair(X, Y, g, &st);
    int64_t DA = X->desc[SAL_N], DB = Y->desc[SAL_N];
    if (msg) {
        st = sal_fail(st, "correlation: %s (%lld x %lld and %lld x %lld)", msg,
                      (long long)X->desc[SAL_M], (long long)DA, (long long)Y->desc[SAL_M],
                      (long long)DB);
        goto agree_setup;
    }
    if (DA > INT_MAX / DB) {
        st = sal_fail(SAL_ERR_ARG,
                      "correlation: a %lld x %lld matrix is too large to "
                      "replicate; use sal_correlation_pmat",
                      (long long)DA, (long long)DB);
        goto agree_setup;
    }
    out->da = DA;
    out->db = DB;
    out->same = same;
    out->r = malloc(sizeof(*out->r) * (size_t)(DA * DB));
    out->const_a = malloc((size_t)DA);
    out->const_b = same ? out->const_a : malloc((size_t)DB);
    if (!out->r || !out->const_a || !out->const_b)
        st = sal_fail(SAL_ERR_NOMEM, "correlation: out of memory for a %lld x %lld matrix",
                      (long long)DA, (long long)DB);
agree_setup:
    if ((st = sal_agree(st, comm)))
        goto done;
    if ((st = corr_product(X, Y, g, 1, &R, out->const_a, out->const_b, &out->nconst_a,
                           &out->nconst_b)))
        goto done;
    if ((st = sal_agree(sal_pmat_allgather(&R, out->r, DA, comm), comm)))
        goto done;
    if (same) { /* the upper triangle, mirrored; an exact unit diagonal */
        out->nconst_b = out->nconst_a;
        for (int64_t j = 0; j < DA; j++) {
            for (int64_t i = 0; i < j; i++)
                out->r[j + i * DA] = out->r[i + j * DA];
            out->r[j + j * DA] = out->const_a[j] ? 0 : 1;
        }
    }
done:
    sal_pmat_free(&R);
    if (st)
        sal_corr_free(out);
    return st;
}

sal_status sal_corr_best_match(const sal_corr *c, int side, double *best, int64_t *arg)
{
    if (side != SAL_CORR_ROWS && side != SAL_CORR_COLS)
        return sal_fail(SAL_ERR_ARG,
                        "correlation best match: side %d is neither rows nor "
                        "columns",
                        side);
    int64_t da = c->da, db = c->db, n = side == SAL_CORR_ROWS ? da : db;
    int64_t *a = arg ? arg : malloc(sizeof(*a) * (size_t)n);
    if (!a)
        return sal_fail(SAL_ERR_NOMEM, "correlation best match: out of memory");
    for (int64_t i = 0; i < n; i++) {
        best[i] = -1;
        a[i] = -1;
    }
    /* strict > in index order keeps the lowest index on ties */
    for (int64_t j = 0; j < db; j++)
        for (int64_t i = 0; i < da; i++) {
            if (c->same && i == j)
                continue;
            double v = fabs(c->r[i + j * da]);
            int64_t me = side == SAL_CORR_ROWS ? i : j, other = side == SAL_CORR_ROWS ? j : i;
            if (v > best[me] || (v == best[me] && other < a[me])) {
                best[me] = v;
                a[me] = other;
            }
        }
    for (int64_t i = 0; i < n; i++)
        if (a[i] < 0)
            best[i] = 0;
    if (!arg)
        free(a);
    return SAL_OK;
}

sal_status sal_corr_pmat_best_match(const sal_pmat *R, const sal_grid *g, int side, double *best,
                                    int64_t *arg)
{
    MPI_Comm comm = sal_grid_comm(g);
    sal_status st = SAL_OK;
    struct vi {
        double v;
        int i;
    } *buf = NULL;
    int64_t n = 0, ld = R->desc[SAL_LLD];
    if (side != SAL_CORR_ROWS && side != SAL_CORR_COLS)
        st = sal_fail(SAL_ERR_ARG,
                      "correlation best match: side %d is neither rows nor "
                      "columns",
                      side);
    else if (R->desc[SAL_CTXT] != sal_grid_context(g))
        st = sal_fail(SAL_ERR_ARG, "correlation best match: the matrix is not on the grid given");
    else {
        n = side == SAL_CORR_ROWS ? R->desc[SAL_M] : R->desc[SAL_N];
        buf = malloc(sizeof(*buf) * (size_t)(n > 0 ? n : 1));
        if (!buf)
            st = sal_fail(SAL_ERR_NOMEM, "correlation best match: out of memory");
    }
    if ((st = sal_agree(st, comm)))
        goto done;
    for (int64_t i = 0; i < n; i++) {
        buf[i].v = -1;
        buf[i].i = INT_MAX;
    }
    for (int64_t jl = 0; jl < R->lcols; jl++) {
        int64_t gj = sal_pmat_gcol(R, jl);
        for (int64_t il = 0; il < R->lrows; il++) {
            int64_t gi = sal_pmat_grow(R, il);
            int64_t me = side == SAL_CORR_ROWS ? gi : gj, other = side == SAL_CORR_ROWS ? gj : gi;
            double v = fabs(R->a[il + jl * ld]);
            if (v > buf[me].v || (v == buf[me].v && other < buf[me].i)) {
                buf[me].v = v;
                buf[me].i = (int)other;
            }
        }
    }
    /* MAXLOC keeps the lowest index among equal values */
    if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE_INT, MPI_MAXLOC, comm) != MPI_SUCCESS)
        st = sal_fail(SAL_ERR_MPI, "correlation best match: MPI_Allreduce failed");
    if ((st = sal_agree(st, comm)))
        goto done;
    for (int64_t i = 0; i < n; i++) {
        best[i] = buf[i].v;
        if (arg)
            arg[i] = buf[i].i;
    }
done:
    free(buf);
    return st;
}

/* A neuron's score, for ranking by score descending, ties by index. */
typedef struct scored {
    double s;
    int64_t i;
} scored;

static int by_score_desc(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    if (a->s != b->s)
        return a->s > b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static void rank_by(const double *score, int64_t D, scored *tmp, int64_t *order)
{
    for (int64_t i = 0; i < D; i++) {
        tmp[i].s = score[i];
        tmp[i].i = i;
    }
    qsort(tmp, (size_t)D, sizeof(*tmp), by_score_desc);
    for (int64_t i = 0; i < D; i++)
        order[i] = tmp[i].i;
}

sal_status sal_crosscorr_rank(int64_t D, int nother, const double *const *best, sal_crosscorr *out)
{
    sal_status st = SAL_OK;
    scored *tmp = NULL;
    memset(out, 0, sizeof(*out));
    if (D < 1 || nother < 1)
        return sal_fail(SAL_ERR_ARG,
                        "cross-model correlation needs at least 1 neuron and 1 "
                        "other model, got %lld and %d",
                        (long long)D, nother);
    for (int m = 0; m < nother; m++)
        for (int64_t i = 0; i < D; i++)
            if (!(best[m][i] >= 0 && best[m][i] <= 1))
                return sal_fail(SAL_ERR_ARG,
                                "cross-model correlation: best match %g of neuron "
                                "%lld against model %d is not in [0, 1]",
                                best[m][i], (long long)i, m);
    out->D = D;
    out->nother = nother;
    out->maxcorr = malloc(sizeof(*out->maxcorr) * (size_t)D);
    out->mincorr = malloc(sizeof(*out->mincorr) * (size_t)D);
    out->maxcorr_rank = malloc(sizeof(*out->maxcorr_rank) * (size_t)D);
    out->mincorr_rank = malloc(sizeof(*out->mincorr_rank) * (size_t)D);
    tmp = malloc(sizeof(*tmp) * (size_t)D);
    if (!out->maxcorr || !out->mincorr || !out->maxcorr_rank || !out->mincorr_rank || !tmp) {
        st = sal_fail(SAL_ERR_NOMEM, "cross-model correlation: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < D; i++) {
        double hi = best[0][i], lo = best[0][i];
        for (int m = 1; m < nother; m++) {
            hi = fmax(hi, best[m][i]);
            lo = fmin(lo, best[m][i]);
        }
        out->maxcorr[i] = hi;
        out->mincorr[i] = lo;
    }
    rank_by(out->maxcorr, D, tmp, out->maxcorr_rank);
    rank_by(out->mincorr, D, tmp, out->mincorr_rank);
done:
    free(tmp);
    if (st)
        sal_crosscorr_free(out);
    return st;
}

/* Pair p ranks before pair q: larger |r|, then lower a, then lower b. */
static int pair_before(const sal_corr_pair *p, const sal_corr_pair *q)
{
    double x = fabs(p->r), y = fabs(q->r);
    if (x != y)
        return x > y;
    if (p->a != q->a)
        return p->a < q->a;
    return p->b < q->b;
}

static int pair_cmp(const void *pa, const void *pb)
{
    const sal_corr_pair *p = pa, *q = pb;
    return pair_before(p, q) ? -1 : (pair_before(q, p) ? 1 : 0);
}

/* Restore the heap below position i: the root is the pair ranked last. */
static void sift_down(sal_corr_pair *h, int64_t n, int64_t i)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && pair_before(&h[w], &h[l]))
            w = l;
        if (r < n && pair_before(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        sal_corr_pair t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sift_up(sal_corr_pair *h, int64_t i)
{
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!pair_before(&h[p], &h[i]))
            return;
        sal_corr_pair t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

sal_status sal_corr_top_pairs(const sal_corr *c, int64_t k, sal_corr_pair *pairs, int64_t *npairs)
{
    *npairs = 0;
    if (k < 0)
        return sal_fail(SAL_ERR_ARG, "correlation top pairs: k = %lld < 0", (long long)k);
    int64_t n = 0;
    for (int64_t j = 0; j < c->db && k > 0; j++)
        for (int64_t i = 0; i < (c->same ? j : c->da); i++) {
            sal_corr_pair p = {i, j, c->r[i + j * c->da]};
            if (n < k) {
                pairs[n] = p;
                sift_up(pairs, n++);
            } else if (pair_before(&p, &pairs[0])) {
                pairs[0] = p;
                sift_down(pairs, n, 0);
            }
        }
    qsort(pairs, (size_t)n, sizeof(*pairs), pair_cmp);
    *npairs = n;
    return SAL_OK;
}

/* The nearest active cluster of slot i: lowest index among the least distances. */
static void nearest(const double *d, const unsigned char *active, int64_t D, int64_t i, int64_t *nn,
                    double *nnd)
{
    int64_t best = -1;
    double bd = INFINITY;
    const double *row = d + i * D; /* column i = row i: d is symmetric */
    for (int64_t j = 0; j < D; j++)
        if (j != i && active[j] && (best < 0 || row[j] < bd)) {
            best = j;
            bd = row[j];
        }
    *nn = best;
    *nnd = bd;
}

sal_status sal_cluster_redundancy(const double *r, int64_t D, double t, sal_clusters *out)
{
    sal_status st = SAL_OK;
    double *d = NULL, *nnd = NULL, *score = NULL;
    int64_t *nn = NULL, *cnt = NULL, *next = NULL, *tail = NULL, *slot_id = NULL;
    unsigned char *active = NULL;
    memset(out, 0, sizeof(*out));
    if (D < 1 || isnan(t))
        return sal_fail(SAL_ERR_ARG,
                        "redundancy clustering: needs D >= 1 and a threshold, got "
                        "D = %lld, t = %g",
                        (long long)D, t);
    if (D > 0 && (uint64_t)D > SIZE_MAX / sizeof(double) / (uint64_t)D)
        return sal_fail(SAL_ERR_NOMEM, "redundancy clustering: %lld neurons are too many",
                        (long long)D);
    for (int64_t i = 0; i < D * D; i++)
        if (!isfinite(r[i]))
            return sal_fail(SAL_ERR_ARG, "redundancy clustering: correlation (%lld, %lld) is %g",
                            (long long)(i % D), (long long)(i / D), r[i]);
    d = malloc(sizeof(*d) * (size_t)(D * D));
    nnd = malloc(sizeof(*nnd) * (size_t)D);
    score = malloc(sizeof(*score) * (size_t)D);
    nn = malloc(sizeof(*nn) * (size_t)D);
    cnt = malloc(sizeof(*cnt) * (size_t)D);
    next = malloc(sizeof(*next) * (size_t)D);
    tail = malloc(sizeof(*tail) * (size_t)D);
    slot_id = malloc(sizeof(*slot_id) * (size_t)D);
    active = malloc((size_t)D);
    out->id = malloc(sizeof(*out->id) * (size_t)D);
    if (!d || !nnd || !score || !nn || !cnt || !next || !tail || !slot_id || !active || !out->id) {
        st = sal_fail(SAL_ERR_NOMEM, "redundancy clustering: out of memory for %lld neurons",
                      (long long)D);
        goto done;
    }
    out->D = D;
    for (int64_t j = 0; j < D; j++) {
        for (int64_t i = 0; i < D; i++) {
            double a = 0.5 * (fabs(r[i + j * D]) + fabs(r[j + i * D]));
            d[i + j * D] = i == j ? 0 : 1 - fmin(a, 1.0);
        }
        active[j] = 1;
        cnt[j] = 1;
        next[j] = -1;
        tail[j] = j;
    }
    for (int64_t i = 0; i < D; i++)
        nearest(d, active, D, i, &nn[i], &nnd[i]);

    /* Slot p holds a cluster whose lowest neuron is p: merging q > p into p keeps it. */
    for (int64_t nactive = D; nactive > 1; nactive--) {
        int64_t p = -1, q = -1;
        double h = INFINITY;
        for (int64_t i = 0; i < D; i++) {
            if (!active[i])
                continue;
            int64_t lo = i < nn[i] ? i : nn[i], hi = i < nn[i] ? nn[i] : i;
            if (p < 0 || nnd[i] < h || (nnd[i] == h && (lo < p || (lo == p && hi < q)))) {
                p = lo;
                q = hi;
                h = nnd[i];
            }
        }
        if (!(h <= t))
            break;
        /* Lance-Williams for average linkage */
        double wp = (double)cnt[p], wq = (double)cnt[q];
        for (int64_t k = 0; k < D; k++) {
            if (!active[k] || k == p || k == q)
                continue;
            double v = (wp * d[k + p * D] + wq * d[k + q * D]) / (wp + wq);
            d[k + p * D] = d[p + k * D] = v;
        }
        cnt[p] += cnt[q];
        active[q] = 0;
        next[tail[p]] = q;
        tail[p] = tail[q];
        out->merges++;
        out->last_height = h;
        nearest(d, active, D, p, &nn[p], &nnd[p]);
        for (int64_t k = 0; k < D; k++) {
            if (!active[k] || k == p)
                continue;
            if (nn[k] == p || nn[k] == q)
                nearest(d, active, D, k, &nn[k], &nnd[k]);
            else if (d[k + p * D] < nnd[k] || (d[k + p * D] == nnd[k] && p < nn[k])) {
                nn[k] = p;
                nnd[k] = d[k + p * D];
            }
        }
    }

    /* clusters in the order of their lowest neuron, i.e. of their slots */
    out->count = 0;
    for (int64_t s = 0; s < D; s++)
        slot_id[s] = active[s] ? out->count++ : -1;
    out->size = malloc(sizeof(*out->size) * (size_t)out->count);
    out->rep = malloc(sizeof(*out->rep) * (size_t)out->count);
    if (!out->size || !out->rep) {
        st = sal_fail(SAL_ERR_NOMEM, "redundancy clustering: out of memory");
        goto done;
    }
    for (int64_t s = 0; s < D; s++) {
        if (!active[s])
            continue;
        int64_t c = slot_id[s], rep = s;
        out->size[c] = cnt[s];
        for (int64_t i = s; i >= 0; i = next[i]) {
            out->id[i] = c;
            double sum = 0;
            for (int64_t j = s; j >= 0; j = next[j])
                if (j != i)
                    sum += 0.5 * (fabs(r[i + j * D]) + fabs(r[j + i * D]));
            score[i] = sum;
            if (sum > score[rep] || (sum == score[rep] && i < rep))
                rep = i;
        }
        out->rep[c] = rep;
    }
done:
    free(d);
    free(nnd);
    free(score);
    free(nn);
    free(cnt);
    free(next);
    free(tail);
    free(slot_id);
    free(active);
    if (st)
        sal_clusters_free(out);
    return st;
}
