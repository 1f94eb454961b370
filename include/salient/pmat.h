/*
 * pmat.h - distributed dense double matrices on a BLACS grid, and the PBLAS and
 * ScaLAPACK routines salient calls (Debian ships no header for them).
 *
 * A sal_pmat owns the local part of one block-cyclic matrix. Functions marked
 * "Collective" must be called by every process of the grid's communicator.
 */
#ifndef SALIENT_PMAT_H
#define SALIENT_PMAT_H

#include <stdint.h>

#include "salient/grid.h"
#include "salient/status.h"

typedef struct sal_pmat {
    int desc[9];    /* ScaLAPACK descriptor */
    int64_t lrows;  /* local rows */
    int64_t lcols;  /* local columns */
    double *a;      /* local part, column-major, leading dimension desc[SAL_LLD] */
} sal_pmat;

/* Allocate an m x n matrix in mb x nb blocks on g, zeroed. Not collective. */
sal_status sal_pmat_init(sal_pmat *p, const sal_grid *g, int64_t m, int64_t n, int64_t mb,
                         int64_t nb);

/* Release the local part. No operation on NULL or an unallocated matrix. */
void sal_pmat_free(sal_pmat *p);

/* Fill the local part from a full matrix every process holds (column-major, ld).
 * Not collective. */
void sal_pmat_scatter_replicated(sal_pmat *p, const double *full, int64_t ld);

/* Make the full matrix (column-major, ld >= m) on every process: each fills its own
 * entries and an Allreduce sums them. Collective over comm. */
sal_status sal_pmat_allgather(const sal_pmat *p, double *full, int64_t ld, MPI_Comm comm);

/* Column means and variances (population; the corrected two-pass algorithm, so no
 * cancellation against large means, and the mean's own rounding corrected) of X, on
 * every process. A NaN or infinite entry fails with SAL_ERR_FORMAT naming its row and
 * column. Collective over comm (the grid's communicator). */
sal_status sal_pmat_col_stats(const sal_pmat *X, MPI_Comm comm, double *mean, double *var);

/* Z := X - 1 mean^T, local parts (Z allocated with X's shape and leading dimension).
 * Not collective. */
void sal_pmat_sub_col(const sal_pmat *X, const double *mean, sal_pmat *Z);

/* Global row / column index of local row il / column jl. */
int64_t sal_pmat_grow(const sal_pmat *p, int64_t il);
int64_t sal_pmat_gcol(const sal_pmat *p, int64_t jl);

/* ---- PBLAS / ScaLAPACK (Fortran interfaces, 1-based indices) ---------------- */
void pdgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, const double *b, const int *ib, const int *jb, const int *descb,
             const double *beta, double *c, const int *ic, const int *jc, const int *descc);
void pdsyrk_(const char *uplo, const char *trans, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, const double *beta, double *c, const int *ic, const int *jc,
             const int *descc);
void pdposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *ia,
             const int *ja, const int *desca, double *b, const int *ib, const int *jb,
             const int *descb, int *info);

#endif
