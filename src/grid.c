/* grid.c - BLACS process grids and ScaLAPACK descriptors (see grid.h). */
#include "salient/grid.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

struct sal_grid {
    MPI_Comm comm;  /* the group the grid spans (not owned) */
    int sys_handle; /* BLACS system handle of comm */
    int ctxt;       /* BLACS context */
    int nprow, npcol, myrow, mycol;
};

sal_status sal_grid_init(MPI_Comm comm, int nprow, int npcol, sal_grid **out)
{
    int size;
    *out = NULL;
    if (MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return sal_fail(SAL_ERR_MPI, "MPI_Comm_size failed");
    if (nprow == 0 && npcol == 0) {
        nprow = size;
        npcol = 1;
    }
    if (nprow < 1 || npcol < 1 || nprow * npcol != size)
        return sal_fail(SAL_ERR_ARG, "grid %d x %d does not match a group of %d processes",
                        nprow, npcol, size);
    sal_grid *g = calloc(1, sizeof(*g));
    if (!g)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for a process grid");
    g->comm = comm;
    g->sys_handle = Csys2blacs_handle(comm);
    g->ctxt = g->sys_handle;
    Cblacs_gridinit(&g->ctxt, "Row", nprow, npcol);
    Cblacs_gridinfo(g->ctxt, &g->nprow, &g->npcol, &g->myrow, &g->mycol);
    if (g->nprow != nprow || g->npcol != npcol || g->myrow < 0) {
        free(g);
        return sal_fail(SAL_ERR_MPI, "BLACS could not make a %d x %d grid", nprow, npcol);
    }
    *out = g;
    return SAL_OK;
}

void sal_grid_free(sal_grid *g)
{
    if (!g)
        return;
    Cblacs_gridexit(g->ctxt);
    Cfree_blacs_system_handle(g->sys_handle);
    free(g);
}

int sal_grid_context(const sal_grid *g) { return g->ctxt; }
int sal_grid_nprow(const sal_grid *g) { return g->nprow; }
int sal_grid_npcol(const sal_grid *g) { return g->npcol; }
int sal_grid_myrow(const sal_grid *g) { return g->myrow; }
int sal_grid_mycol(const sal_grid *g) { return g->mycol; }
MPI_Comm sal_grid_comm(const sal_grid *g) { return g->comm; }

int64_t sal_numroc(int64_t n, int64_t nb, int iproc, int isrc, int nprocs)
{
    int64_t mydist = (nprocs + iproc - isrc) % nprocs;
    int64_t nblocks = n / nb;
    int64_t num = (nblocks / nprocs) * nb;
    int64_t extra = nblocks % nprocs;
    if (mydist < extra)
        num += nb;
    else if (mydist == extra)
        num += n % nb;
    return num;
}

int64_t sal_l2g(int64_t il, int64_t nb, int iproc, int isrc, int nprocs)
{
    int64_t mydist = (nprocs + iproc - isrc) % nprocs;
    return nprocs * nb * (il / nb) + il % nb + mydist * nb;
}

sal_status sal_desc_init(int desc[9], int64_t m, int64_t n, int64_t mb, int64_t nb,
                         const sal_grid *g)
{
    if (m < 0 || n < 0 || mb < 1 || nb < 1 || m > INT_MAX || n > INT_MAX || mb > INT_MAX ||
        nb > INT_MAX)
        return sal_fail(SAL_ERR_ARG, "bad matrix shape %lld x %lld in %lld x %lld blocks",
                        (long long)m, (long long)n, (long long)mb, (long long)nb);
    int64_t lr = sal_numroc(m, mb, g->myrow, 0, g->nprow);
    if (lr > INT_MAX)
        return sal_fail(SAL_ERR_ARG, "local part of %lld rows exceeds ScaLAPACK's int range",
                        (long long)lr);
    desc[SAL_DTYPE] = 1;
    desc[SAL_CTXT] = g->ctxt;
    desc[SAL_M] = (int)m;
    desc[SAL_N] = (int)n;
    desc[SAL_MB] = (int)mb;
    desc[SAL_NB] = (int)nb;
    desc[SAL_RSRC] = 0;
    desc[SAL_CSRC] = 0;
    desc[SAL_LLD] = lr > 1 ? (int)lr : 1;
    return SAL_OK;
}

int64_t sal_desc_local_rows(const int desc[9])
{
    int nprow, npcol, myrow, mycol;
    Cblacs_gridinfo(desc[SAL_CTXT], &nprow, &npcol, &myrow, &mycol);
    if (myrow < 0)
        return 0;
    return sal_numroc(desc[SAL_M], desc[SAL_MB], myrow, desc[SAL_RSRC], nprow);
}

int64_t sal_desc_local_cols(const int desc[9])
{
    int nprow, npcol, myrow, mycol;
    Cblacs_gridinfo(desc[SAL_CTXT], &nprow, &npcol, &myrow, &mycol);
    if (mycol < 0)
        return 0;
    return sal_numroc(desc[SAL_N], desc[SAL_NB], mycol, desc[SAL_CSRC], npcol);
}

sal_status sal_agree(sal_status st, MPI_Comm comm)
{
    int code = (int)st, worst = 0, rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (worst == SAL_OK)
        return SAL_OK;
    int me = code == worst ? rank : size, src = 0;
    MPI_Allreduce(&me, &src, 1, MPI_INT, MPI_MIN, comm);
    char msg[2048];
    if (rank == src)
        snprintf(msg, sizeof(msg), "%s", sal_errmsg());
    MPI_Bcast(msg, (int)sizeof(msg), MPI_CHAR, src, comm);
    sal_fail((sal_status)worst, "%s", msg);
    return (sal_status)worst;
}
