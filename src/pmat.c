/* pmat.c - distributed dense double matrices (see pmat.h). */
#include "salient/pmat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void grid_pos(const sal_pmat *p, int *nprow, int *npcol, int *myrow, int *mycol)
{
    Cblacs_gridinfo(p->desc[SAL_CTXT], nprow, npcol, myrow, mycol);
}

sal_status sal_pmat_init(sal_pmat *p, const sal_grid *g, int64_t m, int64_t n, int64_t mb,
                         int64_t nb)
{
    memset(p, 0, sizeof(*p));
    sal_status st = sal_desc_init(p->desc, m, n, mb, nb, g);
    if (st)
        return st;
    p->lrows = sal_desc_local_rows(p->desc);
    p->lcols = sal_desc_local_cols(p->desc);
    size_t len = (size_t)p->desc[SAL_LLD] * (size_t)(p->lcols > 0 ? p->lcols : 1);
    p->a = calloc(len, sizeof(*p->a));
    if (!p->a)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for a %lld x %lld matrix (local %lld x %lld)",
                        (long long)m, (long long)n, (long long)p->lrows, (long long)p->lcols);
    return SAL_OK;
}

void sal_pmat_free(sal_pmat *p)
{
    if (!p)
        return;
    free(p->a);
    p->a = NULL;
}

int64_t sal_pmat_grow(const sal_pmat *p, int64_t il)
{
    int nprow, npcol, myrow, mycol;
    grid_pos(p, &nprow, &npcol, &myrow, &mycol);
    return sal_l2g(il, p->desc[SAL_MB], myrow, p->desc[SAL_RSRC], nprow);
}

int64_t sal_pmat_gcol(const sal_pmat *p, int64_t jl)
{
    int nprow, npcol, myrow, mycol;
    grid_pos(p, &nprow, &npcol, &myrow, &mycol);
    return sal_l2g(jl, p->desc[SAL_NB], mycol, p->desc[SAL_CSRC], npcol);
}

void sal_pmat_scatter_replicated(sal_pmat *p, const double *full, int64_t ld)
{
    int64_t lld = p->desc[SAL_LLD];
    for (int64_t jl = 0; jl < p->lcols; jl++) {
        int64_t gj = sal_pmat_gcol(p, jl);
        for (int64_t il = 0; il < p->lrows; il++)
            p->a[il + jl * lld] = full[sal_pmat_grow(p, il) + gj * ld];
    }
}

sal_status sal_pmat_allgather(const sal_pmat *p, double *full, int64_t ld, MPI_Comm comm)
{
    int64_t m = p->desc[SAL_M], n = p->desc[SAL_N], lld = p->desc[SAL_LLD];
    for (int64_t j = 0; j < n; j++)
        memset(full + j * ld, 0, sizeof(*full) * (size_t)m);
    for (int64_t jl = 0; jl < p->lcols; jl++) {
        int64_t gj = sal_pmat_gcol(p, jl);
        for (int64_t il = 0; il < p->lrows; il++)
            full[sal_pmat_grow(p, il) + gj * ld] = p->a[il + jl * lld];
    }
    /* one Allreduce over the whole ld x n array (ld == m in every caller that matters) */
    if (MPI_Allreduce(MPI_IN_PLACE, full, (int)(ld * n), MPI_DOUBLE, MPI_SUM, comm) !=
        MPI_SUCCESS)
        return sal_fail(SAL_ERR_MPI, "MPI_Allreduce of a %lld x %lld matrix failed",
                        (long long)m, (long long)n);
    return SAL_OK;
}

sal_status sal_pmat_col_stats(const sal_pmat *X, MPI_Comm comm, double *mean, double *var)
{
    sal_status st = SAL_OK;
    int64_t n = X->desc[SAL_N], lld = X->desc[SAL_LLD];
    double rows = (double)X->desc[SAL_M];
    memset(mean, 0, sizeof(*mean) * (size_t)n);
    memset(var, 0, sizeof(*var) * (size_t)n);
    for (int64_t jl = 0; jl < X->lcols && st == SAL_OK; jl++) {
        const double *col = X->a + jl * lld;
        double s = 0;
        for (int64_t il = 0; il < X->lrows; il++)
            s += col[il];
        for (int64_t il = 0; !isfinite(s) && il < X->lrows; il++)
            if (!isfinite(col[il])) {
                st = sal_fail(SAL_ERR_FORMAT, "activation of row %lld, neuron %lld is %s",
                              (long long)sal_pmat_grow(X, il), (long long)sal_pmat_gcol(X, jl),
                              isnan(col[il]) ? "NaN" : "infinite");
                break;
            }
        mean[sal_pmat_gcol(X, jl)] = s;
    }
    if ((st = sal_agree(st, comm)))
        return st;
    MPI_Allreduce(MPI_IN_PLACE, mean, (int)n, MPI_DOUBLE, MPI_SUM, comm);
    for (int64_t j = 0; j < n; j++)
        mean[j] /= rows;
    /* second pass: squared deviations, and their sum, which corrects the mean's rounding
     * (the corrected two-pass algorithm; Chan, Golub & LeVeque 1983) */
    double *dev = malloc(sizeof(*dev) * (size_t)(2 * n));
    if ((st = sal_agree(dev ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory"), comm)))
        return st;
    memset(dev, 0, sizeof(*dev) * (size_t)(2 * n));
    for (int64_t jl = 0; jl < X->lcols; jl++) {
        const double *col = X->a + jl * lld;
        int64_t j = sal_pmat_gcol(X, jl);
        double m = mean[j], d1 = 0, d2 = 0;
        for (int64_t il = 0; il < X->lrows; il++) {
            d1 += col[il] - m;
            d2 += (col[il] - m) * (col[il] - m);
        }
        dev[j] = d1;
        dev[n + j] = d2;
    }
    MPI_Allreduce(MPI_IN_PLACE, dev, (int)(2 * n), MPI_DOUBLE, MPI_SUM, comm);
    for (int64_t j = 0; j < n; j++) {
        mean[j] += dev[j] / rows;
        var[j] = fmax(0, (dev[n + j] - dev[j] * dev[j] / rows) / rows);
    }
    free(dev);
    return SAL_OK;
}

void sal_pmat_sub_col(const sal_pmat *X, const double *mean, sal_pmat *Z)
{
    int64_t lld = X->desc[SAL_LLD];
    for (int64_t jl = 0; jl < X->lcols; jl++) {
        double m = mean[sal_pmat_gcol(X, jl)];
        for (int64_t il = 0; il < X->lrows; il++)
            Z->a[il + jl * lld] = X->a[il + jl * lld] - m;
    }
}

/* PBLAS asks pilaenv for the panel width of its distributed products. The reference
 * value, 32, makes pdgemm repack its operands in thin panels, which on one process
 * ran at half the speed of dgemm on the same shape. This definition takes precedence
 * over the library's (the executable's symbol interposes). */
int pilaenv_(const int *ictxt, const char *prec)
{
    (void)ictxt;
    (void)prec;
    return 512;
}
