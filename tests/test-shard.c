/*
 * test-shard.c - activation shards: write a planted model, read it back as plain
 * blocks and as block-cyclic local parts on several grids, and refuse bad input.
 * Argument: a scratch folder. MPI: rank 0 writes; every rank reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "salient/grid.h"
#include "salient/shard.h"
#include "testutil.h"

#define NLAYERS 3
#define NSENT 23
static const int widths[NLAYERS] = {5, 8, 3};

/* The planted value of token t, layer l, neuron d: exact in float32. */
static float value(int64_t t, int l, int d)
{
    return (float)(t * 0.5 + l * 1000 + d * 0.25 - 7);
}

static int sent_len(int s)
{
    return 1 + (s * 5) % 7;
}

static void word_of(int64_t t, char *buf, size_t n)
{
    snprintf(buf, n, "w%lld/x", (long long)t);
}

/* Write the planted model: NSENT sentences, shard_sentences per shard. */
static sal_status write_model(const char *dir, int64_t per_shard, int overwrite, int nan_at)
{
    sal_model_desc d = {.name = "planted",
                        .architecture = "test",
                        .base_model = "",
                        .pooling = "last",
                        .producer = "test-shard",
                        .nlayers = NLAYERS,
                        .layer_width = widths};
    sal_shard_writer *w;
    sal_status st = sal_shard_writer_open(dir, &d, per_shard, overwrite, &w);
    if (st)
        return st;
    int64_t t0 = 0;
    for (int s = 0; s < NSENT && st == SAL_OK; s++) {
        int n = sent_len(s);
        char wbuf[8][32];
        const char *words[8];
        float *act[NLAYERS];
        for (int i = 0; i < n; i++) {
            word_of(t0 + i, wbuf[i], sizeof(wbuf[i]));
            words[i] = wbuf[i];
        }
        for (int l = 0; l < NLAYERS; l++) {
            act[l] = malloc(sizeof(float) * (size_t)(n * widths[l]));
            for (int i = 0; i < n; i++)
                for (int dd = 0; dd < widths[l]; dd++)
                    act[l][i * widths[l] + dd] = value(t0 + i, l, dd);
        }
        if (s == nan_at)
            act[1][widths[1] * (n - 1) + 2] = 0.0f / 0.0f;
        st = sal_shard_writer_add(w, n, words, (const float *const *)act);
        for (int l = 0; l < NLAYERS; l++)
            free(act[l]);
        t0 += n;
        if (s == 3 && st == SAL_OK) {
            struct stat sb;
            CHECK(stat(dir, &sb) != 0 || overwrite, "%s visible before finish", dir);
        }
    }
    if (st) {
        sal_shard_writer_abort(w);
        return st;
    }
    return sal_shard_writer_finish(w);
}

/* Expected value at (row token t, column c of the selection). */
static float expect(int nsel, const int *layers, int64_t t, int64_t c)
{
    for (int k = 0; k < nsel; k++) {
        if (c < widths[layers[k]])
            return value(t, layers[k], (int)c);
        c -= widths[layers[k]];
    }
    return -1e30f;
}

static void check_block_reads(sal_model *m)
{
    int64_t ntok = sal_model_ntok(m);
    int all[NLAYERS] = {0, 1, 2}, swapped[2] = {2, 0};
    /* contiguous rows, every column of all layers */
    sal_rows rows = {.nrows = ntok, .tok0 = 0, .tokens = NULL};
    int64_t width = sal_model_width(m, NLAYERS, all);
    CHECK(width == 16, "width %lld", (long long)width);
    float *buf = malloc(sizeof(float) * (size_t)(ntok * width));
    CHECK_OK(sal_model_read_block(m, NLAYERS, all, &rows, 0, ntok, 0, width, buf, ntok));
    int bad = 0;
    for (int64_t t = 0; t < ntok; t++)
        for (int64_t c = 0; c < width; c++)
            bad += buf[t + c * ntok] != expect(NLAYERS, all, t, c);
    CHECK(bad == 0, "%d wrong values in the full read", bad);
    /* scattered token list (repeats, backwards, across shards), a column range across
     * two layers, layers listed out of order */
    int64_t toks[] = {40, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, ntok - 1, 17, 18, 19, 20, 21, 22};
    int64_t nr = (int64_t)(sizeof(toks) / sizeof(toks[0]));
    sal_rows list = {.nrows = nr, .tok0 = 0, .tokens = toks};
    int64_t ld = nr + 3, c0 = 1, nc = 5;
    bad = 0;
    CHECK_OK(sal_model_read_block(m, 2, swapped, &list, 0, nr, c0, nc, buf, ld));
    for (int64_t i = 0; i < nr; i++)
        for (int64_t c = 0; c < nc; c++)
            bad += buf[i + c * ld] != expect(2, swapped, toks[i], c0 + c);
    CHECK(bad == 0, "%d wrong values in the scattered read", bad);
    /* out of range */
    int64_t badtok[] = {ntok};
    sal_rows oob = {.nrows = 1, .tokens = badtok};
    CHECK(sal_model_read_block(m, 2, swapped, &oob, 0, 1, 0, 1, buf, 1) == SAL_ERR_ARG,
          "token past the end accepted");
    int nolayer[] = {3};
    CHECK(sal_model_read_block(m, 1, nolayer, &rows, 0, 1, 0, 1, buf, 1) == SAL_ERR_ARG,
          "layer 3 accepted");
    free(buf);
}

/* Read a selection block-cyclically on an nprow x npcol grid and check every local entry. */
static void check_bc(sal_model *m, int nprow, int npcol, int64_t mb, int64_t nb)
{
    sal_grid *g;
    CHECK_OK(sal_grid_init(MPI_COMM_WORLD, nprow, npcol, &g));
    if (!g)
        return;
    int layers[] = {1, 2, 0};
    int64_t width = sal_model_width(m, 3, layers), ntok = sal_model_ntok(m);
    /* rows: the tokens of every second sentence (a "split") */
    int64_t *toks = malloc(sizeof(*toks) * (size_t)ntok), nr = 0;
    for (int64_t s = 0; s < sal_model_nsent(m); s += 2)
        for (int64_t t = sal_model_sent_start(m, s); t < sal_model_sent_start(m, s + 1); t++)
            toks[nr++] = t;
    sal_rows rows = {.nrows = nr, .tokens = toks};
    int desc[9];
    CHECK_OK(sal_desc_init(desc, nr, width, mb, nb, g));
    int64_t lr = sal_desc_local_rows(desc), lc = sal_desc_local_cols(desc);
    float *local = malloc(sizeof(float) * (size_t)(desc[SAL_LLD] * (lc > 0 ? lc : 1)));
    CHECK_OK(sal_model_read_bc(m, 3, layers, &rows, desc, local));
    int bad = 0;
    for (int64_t j = 0; j < lc; j++) {
        int64_t gc = sal_l2g(j, nb, sal_grid_mycol(g), 0, npcol);
        for (int64_t i = 0; i < lr; i++) {
            int64_t gr = sal_l2g(i, mb, sal_grid_myrow(g), 0, nprow);
            bad += local[i + j * desc[SAL_LLD]] != expect(3, layers, toks[gr], gc);
        }
    }
    CHECK(bad == 0, "%d wrong local values on a %d x %d grid, blocks %lld x %lld", bad, nprow,
          npcol, (long long)mb, (long long)nb);
    /* every global entry is owned exactly once */
    long long mine = lr * lc, total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(total == nr * width, "grid owns %lld of %lld entries", total, (long long)(nr * width));
    free(local);
    free(toks);
    sal_grid_free(g);
}

static void copy_file(const char *from, const char *to, long keep)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[4096];
    size_t n;
    long done = 0;
    while (a && b && (n = fread(buf, 1, sizeof(buf), a)) > 0) {
        if (keep >= 0 && done + (long)n > keep)
            n = (size_t)(keep - done);
        fwrite(buf, 1, n, b);
        done += (long)n;
        if (keep >= 0 && done >= keep)
            break;
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Bad input on rank 0: every failure is clean and named. */
static void check_errors(const char *work, const char *good)
{
    char dir[512], path[1024], from[1024];
    sal_model *m = NULL;

    snprintf(dir, sizeof(dir), "%s/nowhere", work);
    CHECK(sal_model_open(dir, &m) == SAL_ERR_IO && m == NULL, "missing folder: %s",
          sal_errmsg());
    CHECK(strstr(sal_errmsg(), "nowhere") != NULL, "message names the folder: %s", sal_errmsg());

    snprintf(dir, sizeof(dir), "%s/empty", work);
    mkdir(dir, 0777);
    CHECK(sal_model_open(dir, &m) == SAL_ERR_FORMAT, "folder without index: %s", sal_errmsg());

    /* writing over an existing model needs overwrite; NaN is refused and leaves nothing */
    CHECK(write_model(good, 4, 0, -1) == SAL_ERR_EXISTS, "overwrite without asking");
    snprintf(dir, sizeof(dir), "%s/nan", work);
    sal_status st = write_model(dir, 4, 0, 9);
    CHECK(st == SAL_ERR_FORMAT, "NaN accepted");
    CHECK(strstr(sal_errmsg(), "sentence 9") && strstr(sal_errmsg(), "NaN") &&
              strstr(sal_errmsg(), "layer 1 neuron 2"),
          "NaN message: %s", sal_errmsg());
    struct stat sb;
    CHECK(stat(dir, &sb) != 0, "a failed write left %s", dir);
    snprintf(path, sizeof(path), "%s.partial-%ld", dir, (long)getpid());
    CHECK(stat(path, &sb) != 0, "a failed write left %s", path);

    /* a copy of the model with a truncated shard: open works, the read names the shard */
    snprintf(dir, sizeof(dir), "%s/truncated", work);
    mkdir(dir, 0777);
    const char *files[] = {"model.nc", "shard-00000.nc", "shard-00001.nc", "shard-00002.nc",
                           "shard-00003.nc", "shard-00004.nc", "shard-00005.nc"};
    for (int i = 0; i < 7; i++) {
        snprintf(from, sizeof(from), "%s/%s", good, files[i]);
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        copy_file(from, path, i == 2 ? file_size(from) / 2 : -1);
    }
    CHECK_OK(sal_model_open(dir, &m));
    if (m) {
        int all[] = {0, 1, 2};
        sal_rows rows = {.nrows = sal_model_ntok(m)};
        float *buf = malloc(sizeof(float) * (size_t)(rows.nrows * 16));
        st = sal_model_read_block(m, 3, all, &rows, 0, rows.nrows, 0, 16, buf, rows.nrows);
        CHECK(st == SAL_ERR_FORMAT, "truncated shard read gave %s", sal_status_str(st));
        CHECK(strstr(sal_errmsg(), "shard-00001.nc") != NULL, "message: %s", sal_errmsg());
        sal_corpus c = SAL_CORPUS_INIT;
        CHECK(sal_model_read_corpus(m, &c) == SAL_ERR_FORMAT, "truncated corpus read");
        sal_corpus_free(&c);
        free(buf);
        sal_model_close(m);
        m = NULL;
    }
    /* a corrupt index: garbage bytes */
    snprintf(path, sizeof(path), "%s/model.nc", dir);
    FILE *f = fopen(path, "wb");
    fputs("this is not a netcdf file\n", f);
    fclose(f);
    st = sal_model_open(dir, &m);
    CHECK(st == SAL_ERR_FORMAT && strstr(sal_errmsg(), "model.nc"), "corrupt index: %s (%s)",
          sal_status_str(st), sal_errmsg());

    /* overwrite replaces the model in place */
    CHECK_OK(write_model(good, 100, 1, -1));
    CHECK_OK(sal_model_open(good, &m));
    if (m) {
        CHECK(sal_model_nshards(m) == 1, "overwritten model has %lld shards",
              (long long)sal_model_nshards(m));
        sal_model_close(m);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *work = argc > 1 ? argv[1] : "shard-work";
    char good[512];
    snprintf(good, sizeof(good), "%s/planted", work);
    int ok = 1;
    if (rank == 0) {
        mkdir(work, 0777);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", work);
        if (system(cmd) != 0)
            fprintf(stderr, "could not clean %s\n", work);
        sal_status st = write_model(good, 4, 0, -1);
        CHECK(st == SAL_OK, "write: %s", sal_errmsg());
        ok = st == SAL_OK;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (ok) {
        sal_model *m;
        CHECK_OK(sal_model_open(good, &m));
        if (m) {
            const sal_model_desc *d = sal_model_get_desc(m);
            CHECK(d->nlayers == NLAYERS && d->layer_width[1] == 8, "layers");
            CHECK(!strcmp(d->name, "planted") && !strcmp(d->pooling, "last") &&
                      !strcmp(d->base_model, ""),
                  "description");
            CHECK(sal_model_nsent(m) == NSENT, "sentences %lld", (long long)sal_model_nsent(m));
            CHECK(sal_model_nshards(m) == 6, "shards %lld", (long long)sal_model_nshards(m));
            int64_t ntok = 0;
            for (int s = 0; s < NSENT; s++) {
                CHECK(sal_model_sent_start(m, s) == ntok, "sentence %d start", s);
                ntok += sent_len(s);
            }
            CHECK(sal_model_ntok(m) == ntok, "tokens %lld", (long long)sal_model_ntok(m));
            sal_corpus c = SAL_CORPUS_INIT;
            CHECK_OK(sal_model_read_corpus(m, &c));
            CHECK(c.nsent == NSENT && c.ntok == ntok, "corpus shape");
            int bad = 0;
            char wb[32];
            for (int64_t t = 0; t < c.ntok; t++) {
                word_of(t, wb, sizeof(wb));
                bad += strcmp(sal_corpus_word(&c, t), wb) != 0;
            }
            CHECK(bad == 0, "%d wrong words", bad);
            sal_corpus_free(&c);
            check_block_reads(m);
            check_bc(m, size, 1, 4, 16);
            check_bc(m, 1, size, 7, 2);
            check_bc(m, size, 1, 1, 1);
            if (size == 4)
                check_bc(m, 2, 2, 3, 3);
            sal_model_close(m);
        }
        /* the same reads through parallel netCDF-4 (collective open, MPI-IO) */
        CHECK_OK(sal_model_open_par(good, MPI_COMM_WORLD, &m));
        if (m) {
            check_bc(m, size, 1, 5, 16);
            check_bc(m, 1, size, 3, 3);
            sal_model_close(m);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        check_errors(work, good);
    int rc = test_finish("test-shard");
    MPI_Finalize();
    return rc;
}
