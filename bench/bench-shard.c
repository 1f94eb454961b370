/*
 * bench-shard.c - reading activation shards into a block-cyclic matrix: each process
 * opening the files itself (POSIX through HDF5) against parallel netCDF-4 (one
 * collective MPI-IO open, independent reads). Prints the time and GB/s of reading a
 * whole model, with the page cache dropped first (when allowed) and warm.
 * Usage: bench-shard DIR [NTOK]   (writes DIR/bench-model once: NTOK tokens x 3 x 768)
 */
#define _DEFAULT_SOURCE /* sync() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "salient/grid.h"
#include "salient/shard.h"

static int drop_caches(void)
{
    sync();
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (!f)
        return 0;
    int ok = fputs("3\n", f) >= 0;
    return fclose(f) == 0 && ok;
}

static sal_status write_model(const char *dir, int64_t ntok)
{
    int widths[3] = {768, 768, 768};
    sal_model_desc d = {"bench", "synthetic", "", "last", "bench-shard", 3, widths};
    sal_shard_writer *w;
    sal_status st = sal_shard_writer_open(dir, &d, 1000, 1, &w);
    if (st)
        return st;
    const int len = 25;
    float *act[3];
    const char *words[25];
    for (int l = 0; l < 3; l++)
        act[l] = malloc(sizeof(float) * len * 768);
    for (int t = 0; t < len; t++)
        words[t] = "w";
    for (int64_t s = 0; s * len < ntok && st == SAL_OK; s++) {
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < len * 768; i++)
                act[l][i] = (float)((s * 7 + l * 3 + i) % 101) * 0.01f;
        st = sal_shard_writer_add(w, len, words, (const float *const *)act);
    }
    for (int l = 0; l < 3; l++)
        free(act[l]);
    return st ? (sal_shard_writer_abort(w), st) : sal_shard_writer_finish(w);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 2) {
        if (rank == 0)
            fprintf(stderr, "usage: bench-shard DIR [NTOK]\n");
        MPI_Finalize();
        return 2;
    }
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/bench-model", argv[1]);
    int64_t ntok = argc > 2 ? atoll(argv[2]) : 100000;
    struct stat sb;
    int ok = 1;
    if (rank == 0 && stat(dir, &sb) != 0) {
        mkdir(argv[1], 0777);
        ok = write_model(dir, ntok) == SAL_OK;
        if (!ok)
            fprintf(stderr, "%s\n", sal_errmsg());
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        MPI_Finalize();
        return 1;
    }
    sal_grid *g;
    sal_grid_init(MPI_COMM_WORLD, 0, 0, &g);
    int layers[3] = {0, 1, 2};
    const char *mode[2] = {"each process opens (POSIX)", "parallel netCDF-4 (MPI-IO)"};
    for (int rep = 0; rep < 2; rep++)
        for (int par = 0; par < 2; par++) {
            int dropped = 0;
            if (rep == 0 && rank == 0)
                dropped = drop_caches();
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            sal_model *m;
            sal_status st = par ? sal_model_open_par(dir, MPI_COMM_WORLD, &m) : sal_model_open(dir, &m);
            if (st) {
                fprintf(stderr, "%s\n", sal_errmsg());
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            sal_rows rows = {.nrows = sal_model_ntok(m)};
            int desc[9];
            sal_desc_init(desc, rows.nrows, 2304, 256, 2304, g);
            float *local = malloc(sizeof(float) * (size_t)desc[SAL_LLD] * 2304);
            st = sal_model_read_bc(m, 3, layers, &rows, desc, local);
            sal_model_close(m);
            double t = MPI_Wtime() - t0, tmax;
            MPI_Reduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
            if (rank == 0)
                printf("%d ranks, %s, %s: %.2f s, %.2f GB/s (%s)\n", size, mode[par],
                       rep == 0 ? (dropped ? "cold cache" : "cache not dropped") : "warm cache",
                       tmax, (double)rows.nrows * 2304 * 4 / tmax / 1e9, sal_status_str(st));
            free(local);
        }
    sal_grid_free(g);
    MPI_Finalize();
    return 0;
}
