/*
 * grid.h - BLACS process grids and ScaLAPACK descriptors.
 *
 * A worker group (an MPI communicator) trains a unit on a BLACS grid made from
 * that communicator. ScaLAPACK ships no C header: the prototypes salient calls are
 * declared here, once.
 */
#ifndef SALIENT_GRID_H
#define SALIENT_GRID_H

#include <stdint.h>

#include <mpi.h>

#include "salient/status.h"

/* Descriptor fields (ScaLAPACK's DTYPE_, CTXT_, M_, N_, MB_, NB_, RSRC_, CSRC_, LLD_). */
enum { SAL_DTYPE = 0, SAL_CTXT, SAL_M, SAL_N, SAL_MB, SAL_NB, SAL_RSRC, SAL_CSRC, SAL_LLD };

typedef struct sal_grid sal_grid;

/* Make an nprow x npcol grid (row-major ranks) over comm. nprow * npcol must equal
 * the size of comm; nprow = npcol = 0 picks the tall grid size x 1 that suits
 * tall-skinny activation matrices. Collective over comm. */
sal_status sal_grid_init(MPI_Comm comm, int nprow, int npcol, sal_grid **out);

/* Release the grid. Collective over its communicator. No operation on NULL. */
void sal_grid_free(sal_grid *g);

int sal_grid_context(const sal_grid *g); /* BLACS context */
int sal_grid_nprow(const sal_grid *g);
int sal_grid_npcol(const sal_grid *g);
int sal_grid_myrow(const sal_grid *g);
int sal_grid_mycol(const sal_grid *g);
MPI_Comm sal_grid_comm(const sal_grid *g);

/* Number of rows (or columns) of an n-long dimension, blocked by nb, that process
 * coordinate iproc of nprocs owns when the first block is on isrc (ScaLAPACK NUMROC). */
int64_t sal_numroc(int64_t n, int64_t nb, int iproc, int isrc, int nprocs);

/* Fill desc for an m x n matrix in mb x nb blocks on g, first block on process
 * (0, 0); the local leading dimension is max(1, local rows). */
sal_status sal_desc_init(int desc[9], int64_t m, int64_t n, int64_t mb, int64_t nb,
                         const sal_grid *g);

/* Local rows and columns of the matrix desc describes, on this process. */
int64_t sal_desc_local_rows(const int desc[9]);
int64_t sal_desc_local_cols(const int desc[9]);

/* Global index (0-based) of local index il of a dimension blocked by nb, on process
 * coordinate iproc of nprocs, first block on isrc (ScaLAPACK INDXL2G). */
int64_t sal_l2g(int64_t il, int64_t nb, int iproc, int isrc, int nprocs);

/* Agree on a status across comm before the next collective call: the worst (largest)
 * code wins, and the message of the lowest rank that had it reaches every rank.
 * Collective over comm. */
sal_status sal_agree(sal_status st, MPI_Comm comm);

/* ---- BLACS / ScaLAPACK prototypes (no header ships with Debian's ScaLAPACK) ---- */
void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_get(int icontxt, int what, int *val);
void Cblacs_gridinit(int *icontxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int icontxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int icontxt);
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);

#endif
