/*
 * bench-case.c - write a probe benchmark "case": train and test activations with their
 * labels, in the NetCDF-4 layout that bench-probe (C) and bench/peers.py (scipy,
 * scikit-learn, NeuroX's PyTorch loop) both read, so that every solver sees the same bytes.
 *
 * The case file:
 *   dimensions  train (N), test (Nt), neuron (D), class (C)
 *   float x_train(train, neuron)   row i = token i (C row-major, token-major)
 *   int   y_train(train)           in [0, C), every class present at least once
 *   float x_test(test, neuron)
 *   int   y_test(test)             in [0, C), or -1: a class with no training token
 *   string class_name(class)       the class labels (extra; readers may ignore it)
 *   global attributes: case (short name), source (where it came from), format
 *   ("salient-bench-case"), format_version (1).
 *
 * Usage:
 *   bench-case synthetic NAME N D C SEED -o CASE.nc
 *   bench-case real NAME --model=MODEL_DIR --layers=SEL --labels=FILE
 *              [--label-format=brown|neurox] [--sentences=FILE] [--split=0.8,0.1,0.1]
 *              [--seed=1] -o CASE.nc
 *
 * A real case is built exactly as `salient probe` builds its data (src/cli_probe.c):
 * sal_task_read (the same label reading, alignment check, seeded sentence split and
 * compaction to the classes present in train), sal_parse_layers and sal_unit_load, on a
 * 1 x 1 grid. Its train rows are the probe's train split, its test rows the test split
 * (the dev split is left out). The activations are read as float32 and pass through the
 * library's double matrices unchanged (float -> double -> float is exact).
 *
 * Runs on one MPI rank (more ranks: rank 0 does the work, the others wait). The file is
 * written under a temporary name and renamed into place.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netcdf.h>

#include "bench-nc.h"

#include "salient/dataset.h"
#include "salient/grid.h"
#include "salient/pmat.h"
#include "salient/shard.h"
#include "salient/status.h"
#include "salient/unit.h"

#define CASE_FORMAT_NAME "salient-bench-case"
#define CASE_FORMAT_VERSION 1

/* A case in memory. */
typedef struct bench_case {
    const char *name;   /* short name (the `case` attribute) */
    char *source;       /* where it came from (the `source` attribute) */
    int64_t N, Nt, D;   /* train rows, test rows, neurons */
    int C;              /* classes */
    float *x_train;     /* N x D, row-major */
    int32_t *y_train;   /* N labels in [0, C) */
    float *x_test;      /* Nt x D, row-major */
    int32_t *y_test;    /* Nt labels in [0, C) or -1 */
    char **class_name;  /* C names */
} bench_case;

/* Release what c holds. No operation on NULL. */
static void case_free(bench_case *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->x_train);
    free(c->y_train);
    free(c->x_test);
    free(c->y_test);
    if (c->class_name)
        for (int k = 0; k < c->C; k++)
            free(c->class_name[k]);
    free(c->class_name);
    memset(c, 0, sizeof(*c));
}

/* A malloc'ed printf. NULL when out of memory. */
static char *format_string(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format_string(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- synthetic activations ------------------------------------------------------ */

/* splitmix64 as a uniform in [0, 1) and a Box-Muller normal. */
static double urand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static double nrand(uint64_t *state)
{
    double u = urand(state);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * urand(state));
}

/* Activation-like rows (the generator bench-probe.c had, moved here): n x D row-major
 * floats X and labels y. Column means 20 to 46 on about 5% of the neurons (N(0,1) on the
 * rest), column scales 10^U(-1,1), class frequencies proportional to 1/(c+1) (Zipf),
 * class centers of rank 16 through a random D x 16 map, unit noise, and 5% of the labels
 * redrawn uniformly after the row was drawn from its class (tagging noise, so that no probe
 * reaches 100%; bench-probe.c's former generator redrew the class before drawing the row,
 * which left the labels clean). The first C rows are classes 0..C-1, so that every class
 * is present in any prefix of >= C rows. One stream: the first N rows of a call with
 * n = N + Nt are those of a call with n = N. */
static sal_status make_data(uint64_t seed, int64_t n, int64_t D, int C, float *X, int32_t *y)
{
    const int R = 16;
    uint64_t rng = seed;
    sal_status st = SAL_OK;
    double *A = malloc(sizeof(*A) * (size_t)(D * R)), *U = malloc(sizeof(*U) * (size_t)(R * C));
    double *mean = malloc(sizeof(*mean) * (size_t)D), *scale = malloc(sizeof(*scale) * (size_t)D);
    double *cw = malloc(sizeof(*cw) * (size_t)C), *center = malloc(sizeof(*center) * (size_t)(D * C));
    double tot = 0;
    if (!A || !U || !mean || !scale || !cw || !center) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto free_all;
    }
    for (int64_t i = 0; i < D * R; i++)
        A[i] = nrand(&rng) / sqrt((double)R);
    for (int i = 0; i < R * C; i++)
        U[i] = 0.9 * nrand(&rng);
    for (int64_t j = 0; j < D; j++) {
        mean[j] = urand(&rng) < 0.05 ? 20 + 26 * urand(&rng) : nrand(&rng);
        scale[j] = pow(10, 2 * urand(&rng) - 1);
    }
    for (int c = 0; c < C; c++)
        tot += cw[c] = 1.0 / (c + 1);
    /* class centers A U (D x C), summed in the order the former generator used per row */
    for (int c = 0; c < C; c++)
        for (int64_t j = 0; j < D; j++) {
            double m = 0;
            for (int r = 0; r < R; r++)
                m += A[j + r * D] * U[r + c * R];
            center[j + c * D] = m;
        }
    for (int64_t i = 0; i < n; i++) {
        double u = urand(&rng) * tot;
        int c = 0;
        while (c < C - 1 && u > cw[c])
            u -= cw[c++];
        int label = c;
        if (i < C)
            c = label = (int)i; /* every class present */
        else if (urand(&rng) < 0.05)
            label = (int)(urand(&rng) * C); /* tagging noise: the row stays of class c */
        y[i] = label;
        for (int64_t j = 0; j < D; j++)
            X[i * D + j] = (float)(mean[j] + scale[j] * (center[j + c * D] + nrand(&rng)));
    }
free_all:
    free(A), free(U), free(mean), free(scale), free(cw), free(center);
    return st;
}

/* Build a synthetic case: N train rows and Nt = ceil(N / 10) test rows of one stream. */
static sal_status case_synthetic(const char *name, int64_t N, int64_t D, int C, uint64_t seed,
                                 bench_case *out)
{
    memset(out, 0, sizeof(*out));
    out->name = name;
    out->N = N, out->D = D, out->C = C;
    out->Nt = (N + 9) / 10;
    int64_t n = N + out->Nt;
    float *X = malloc(sizeof(*X) * (size_t)(n * D));
    int32_t *y = malloc(sizeof(*y) * (size_t)n);
    out->class_name = calloc((size_t)C, sizeof(*out->class_name));
    out->source = format_string(
        "synthetic activation-like data from bench/bench-case.c (make_data), seed %llu: "
        "column means 20-46 on ~5%% of neurons, scales 10^U(-1,1), Zipf class frequencies "
        "1/(c+1), rank-16 class centers, unit noise, 5%% of labels redrawn uniformly after the "
        "row was drawn (label noise); %lld train rows then "
        "%lld test rows of the same stream",
        (unsigned long long)seed, (long long)N, (long long)out->Nt);
    sal_status st = SAL_OK;
    if (!X || !y || !out->class_name || !out->source) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for %lld x %lld floats", (long long)n,
                      (long long)D);
        goto fail;
    }
    for (int c = 0; c < C && st == SAL_OK; c++)
        if (!(out->class_name[c] = format_string("c%d", c)))
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    if (st || (st = make_data(seed, n, D, C, X, y)))
        goto fail;
    out->x_train = X;
    out->y_train = y;
    out->x_test = malloc(sizeof(*out->x_test) * (size_t)(out->Nt * D));
    out->y_test = malloc(sizeof(*out->y_test) * (size_t)out->Nt);
    if (!out->x_test || !out->y_test) {
        case_free(out);
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    }
    memcpy(out->x_test, X + N * D, sizeof(*X) * (size_t)(out->Nt * D));
    memcpy(out->y_test, y + N, sizeof(*y) * (size_t)out->Nt);
    /* drop the test rows from the train arrays (realloc to a smaller size may fail: keep) */
    float *Xs = realloc(X, sizeof(*X) * (size_t)(N * D));
    int32_t *ys = realloc(y, sizeof(*y) * (size_t)N);
    if (Xs)
        out->x_train = Xs;
    if (ys)
        out->y_train = ys;
    return SAL_OK;
fail:
    free(X);
    free(y);
    case_free(out);
    return st;
}

/* ---- real activations, as `salient probe` loads them ------------------------------ */

typedef struct real_opts {
    const char *model, *layers, *labels, *sentences, *format;
    double frac[3];
    uint64_t seed;
} real_opts;

/* Copy an n x D double matrix on a 1 x 1 grid into new row-major floats. */
static sal_status pmat_to_rows(const sal_pmat *X, float **out)
{
    int64_t n = X->desc[SAL_M], D = X->desc[SAL_N], ld = X->desc[SAL_LLD];
    float *x = malloc(sizeof(*x) * (size_t)(n * D > 0 ? n * D : 1));
    if (!x)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for %lld x %lld floats", (long long)n,
                        (long long)D);
    if (X->lrows != n || X->lcols != D) {
        free(x);
        return sal_fail(SAL_ERR_ARG, "the matrix is not all local (%lld x %lld of %lld x %lld)",
                        (long long)X->lrows, (long long)X->lcols, (long long)n, (long long)D);
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < D; j++)
            x[i * D + j] = (float)X->a[i + j * ld];
    *out = x;
    return SAL_OK;
}

/* Build a real case with the library's own reading, split and layer selection, on a
 * 1 x 1 grid over comm (of one process). Collective over comm. */
static sal_status case_real(const char *name, const real_opts *o, MPI_Comm comm, bench_case *out)
{
    int nsel = 0, layers[SAL_MAX_LAYERS];
    sal_model *m = NULL;
    sal_grid *g = NULL;
    sal_task_data t;
    sal_unit_matrices u;
    memset(&t, 0, sizeof(t));
    memset(&u, 0, sizeof(u));
    memset(out, 0, sizeof(*out));
    out->name = name;

    sal_status st = sal_model_open_par(o->model, comm, &m);
    if (st == SAL_OK)
        st = sal_parse_layers(o->layers, sal_model_get_desc(m)->nlayers, layers, &nsel);
    if (st == SAL_OK) {
        sal_task_source src = {.labels = o->labels, .sentences = o->sentences};
        if (strcmp(o->format, "brown") == 0)
            src = (sal_task_source){.nbrown = 1, .brown = &o->labels};
        st = sal_task_read(m, o->model, &src, o->frac, o->seed, 0, &t);
    }
    if (st == SAL_OK)
        st = sal_grid_init(comm, 1, 1, &g);
    if (st == SAL_OK)
        st = sal_unit_load(m, nsel, layers, &t, g, &u);
    if (st)
        goto done;

    const sal_model_desc *d = sal_model_get_desc(m);
    out->N = u.n[SAL_SPLIT_TRAIN];
    out->Nt = u.n[SAL_SPLIT_TEST];
    out->D = u.X[SAL_SPLIT_TRAIN].desc[SAL_N];
    out->C = t.C;
    if ((st = pmat_to_rows(&u.X[SAL_SPLIT_TRAIN], &out->x_train)) ||
        (st = pmat_to_rows(&u.X[SAL_SPLIT_TEST], &out->x_test)))
        goto done;
    out->y_train = u.y[SAL_SPLIT_TRAIN];
    out->y_test = u.y[SAL_SPLIT_TEST];
    u.y[SAL_SPLIT_TRAIN] = u.y[SAL_SPLIT_TEST] = NULL;
    out->class_name = t.class_name;
    t.class_name = NULL;

    /* the sentence counts of the split, for the source sentence */
    int64_t ns[3] = {0, 0, 0};
    for (int64_t s = 0; s < t.nsent; s++)
        ns[t.split[s]]++;
    char sel[256] = "";
    for (int k = 0, at = 0; k < nsel && at < (int)sizeof(sel); k++)
        at += snprintf(sel + at, sizeof(sel) - (size_t)at, "%s%d", k ? "," : "", layers[k]);
    out->source = format_string(
        "model %s (%s, architecture %s, producer %s), layers %s (%s: %lld neurons); labels %s "
        "(%s%s%s); %lld sentences split %g,%g,%g with seed %llu: train %lld sentences / %lld "
        "tokens, dev %lld / %lld (left out), test %lld / %lld; %d classes present in train, "
        "test tokens of other classes labelled -1; built by bench-case with the library's "
        "sal_task_read and sal_unit_load as `salient probe` does",
        d->name, o->model, d->architecture, d->producer, o->layers, sel, (long long)out->D,
        o->labels, o->format, o->sentences ? ", sentences " : "", o->sentences ? o->sentences : "",
        (long long)t.nsent, o->frac[0], o->frac[1], o->frac[2], (unsigned long long)o->seed,
        (long long)ns[0], (long long)u.n[0], (long long)ns[1], (long long)u.n[1],
        (long long)ns[2], (long long)u.n[2], t.C);
    if (!out->source)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
done:
    sal_unit_free(&u);
    sal_grid_free(g);
    sal_model_close(m);
    sal_task_free(&t);
    if (st)
        case_free(out);
    return st;
}

/* ---- writing -------------------------------------------------------------------- */

/* Check the contract before writing: labels in range, every class in train. */
static sal_status case_check(const bench_case *c)
{
    if (c->N < 1 || c->D < 1 || c->C < 2)
        return sal_fail(SAL_ERR_ARG, "a case needs N >= 1, D >= 1, C >= 2 (got %lld, %lld, %d)",
                        (long long)c->N, (long long)c->D, c->C);
    int64_t *count = calloc((size_t)c->C, sizeof(*count));
    if (!count)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    sal_status st = SAL_OK;
    for (int64_t i = 0; i < c->N && st == SAL_OK; i++)
        if (c->y_train[i] < 0 || c->y_train[i] >= c->C)
            st = sal_fail(SAL_ERR_FORMAT, "y_train[%lld] = %d is not in [0, %d)", (long long)i,
                          c->y_train[i], c->C);
        else
            count[c->y_train[i]]++;
    for (int k = 0; k < c->C && st == SAL_OK; k++)
        if (count[k] == 0)
            st = sal_fail(SAL_ERR_FORMAT, "class %d has no training row", k);
    for (int64_t i = 0; i < c->Nt && st == SAL_OK; i++)
        if (c->y_test[i] < -1 || c->y_test[i] >= c->C)
            st = sal_fail(SAL_ERR_FORMAT, "y_test[%lld] = %d is not in [-1, %d)", (long long)i,
                          c->y_test[i], c->C);
    free(count);
    return st;
}

/* Define a (rows, neuron) float variable chunked in 256-row blocks over the full width
 * (bench-probe reads 256-row blocks). */
static int def_rows_var(int ncid, const char *name, int drow, int dneuron, int64_t n, int64_t D,
                        int *var)
{
    int dims[2] = {drow, dneuron}, rc = nc_def_var(ncid, name, NC_FLOAT, 2, dims, var);
    if (rc == NC_NOERR && n > 0) {
        size_t chunk[2] = {(size_t)(n < 256 ? n : 256), (size_t)D};
        rc = nc_def_var_chunking(ncid, *var, NC_CHUNKED, chunk);
    }
    return rc;
}

/* Write c to path: a temporary file beside it, then a rename. */
static sal_status case_write(const char *path, const bench_case *c)
{
    char tmp[PATH_MAX];
    int rc = NC_NOERR, ncid = -1, dtr, dte, dn, dc, vxtr, vytr, vxte, vyte, vname;
    const char *what = "";
    sal_status tst = bench_nc_temp(path, tmp, sizeof(tmp));
    if (tst)
        return tst;
    BENCH_NC_TRY(nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &ncid), "cannot create");
    int version = CASE_FORMAT_VERSION;
    BENCH_NC_TRY(nc_put_att_text(ncid, NC_GLOBAL, "case", strlen(c->name), c->name), "attribute case");
    BENCH_NC_TRY(nc_put_att_text(ncid, NC_GLOBAL, "source", strlen(c->source), c->source),
           "attribute source");
    BENCH_NC_TRY(nc_put_att_text(ncid, NC_GLOBAL, "format", strlen(CASE_FORMAT_NAME), CASE_FORMAT_NAME),
           "attribute format");
    BENCH_NC_TRY(nc_put_att_int(ncid, NC_GLOBAL, "format_version", NC_INT, 1, &version),
           "attribute format_version");
    BENCH_NC_TRY(nc_def_dim(ncid, "train", (size_t)c->N, &dtr), "dimension train");
    BENCH_NC_TRY(nc_def_dim(ncid, "test", (size_t)c->Nt, &dte), "dimension test");
    BENCH_NC_TRY(nc_def_dim(ncid, "neuron", (size_t)c->D, &dn), "dimension neuron");
    BENCH_NC_TRY(nc_def_dim(ncid, "class", (size_t)c->C, &dc), "dimension class");
    BENCH_NC_TRY(def_rows_var(ncid, "x_train", dtr, dn, c->N, c->D, &vxtr), "variable x_train");
    BENCH_NC_TRY(nc_def_var(ncid, "y_train", NC_INT, 1, &dtr, &vytr), "variable y_train");
    BENCH_NC_TRY(def_rows_var(ncid, "x_test", dte, dn, c->Nt, c->D, &vxte), "variable x_test");
    BENCH_NC_TRY(nc_def_var(ncid, "y_test", NC_INT, 1, &dte, &vyte), "variable y_test");
    BENCH_NC_TRY(nc_def_var(ncid, "class_name", NC_STRING, 1, &dc, &vname), "variable class_name");
    BENCH_NC_TRY(nc_enddef(ncid), "cannot end definitions");
    BENCH_NC_TRY(nc_put_var_float(ncid, vxtr, c->x_train), "writing x_train");
    BENCH_NC_TRY(nc_put_var_int(ncid, vytr, c->y_train), "writing y_train");
    if (c->Nt > 0) {
        BENCH_NC_TRY(nc_put_var_float(ncid, vxte, c->x_test), "writing x_test");
        BENCH_NC_TRY(nc_put_var_int(ncid, vyte, c->y_test), "writing y_test");
    }
    BENCH_NC_TRY(nc_put_var_string(ncid, vname, (const char **)c->class_name), "writing class_name");
nc_failed: /* success falls through with rc == NC_NOERR */
    return bench_nc_finish(ncid, rc, what, tmp, path);
}

/* Print what the case holds: shapes, class sizes, unseen test classes. */
static void case_describe(const char *path, const bench_case *c)
{
    int64_t *count = calloc((size_t)c->C, sizeof(*count)), unseen = 0;
    int kmin = 0, kmax = 0;
    if (!count)
        return;
    for (int64_t i = 0; i < c->N; i++)
        count[c->y_train[i]]++;
    for (int k = 1; k < c->C; k++) {
        kmin = count[k] < count[kmin] ? k : kmin;
        kmax = count[k] > count[kmax] ? k : kmax;
    }
    for (int64_t i = 0; i < c->Nt; i++)
        unseen += c->y_test[i] < 0;
    printf("%s: case %s: N %lld train rows, Nt %lld test rows, D %lld neurons, C %d classes\n",
           path, c->name, (long long)c->N, (long long)c->Nt, (long long)c->D, c->C);
    printf("  smallest class %s (%lld train rows), largest %s (%lld, %.1f%% of train); "
           "test rows of classes unseen in train (y_test = -1): %lld\n",
           c->class_name[kmin], (long long)count[kmin], c->class_name[kmax],
           (long long)count[kmax], 100.0 * (double)count[kmax] / (double)c->N,
           (long long)unseen);
    printf("  source: %s\n", c->source);
    free(count);
}

/* ---- command line --------------------------------------------------------------- */

static const char usage_text[] =
    "Usage:\n"
    "  bench-case synthetic NAME N D C SEED -o CASE.nc\n"
    "  bench-case real NAME --model=MODEL_DIR --layers=SEL --labels=FILE\n"
    "             [--label-format=brown|neurox] [--sentences=FILE] [--split=0.8,0.1,0.1]\n"
    "             [--seed=1] -o CASE.nc\n";

/* Parse a nonnegative integer; 0 on success. */
static int parse_int(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || x < 0)
        return -1;
    *v = x;
    return 0;
}

/* The value of --opt=V or "--opt V" at argv[*i] (advancing *i), or NULL if argv[*i] is
 * not that option. *missing is set when the option has no value. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, int *missing)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

typedef struct case_args {
    int real;                  /* 0 synthetic, 1 real */
    const char *name, *out;
    int64_t N, D, C;           /* synthetic */
    uint64_t seed;             /* synthetic: generator seed; real: split seed */
    real_opts ro;              /* real */
} case_args;

/* Parse the command line; NULL on success, else a message (static or in buf). */
static const char *parse_args(int argc, char **argv, case_args *a, char *buf, size_t nbuf)
{
    memset(a, 0, sizeof(*a));
    a->ro = (real_opts){.layers = "all", .format = "neurox", .frac = {0.8, 0.1, 0.1}, .seed = 1};
    if (argc < 3)
        return "too few arguments";
    if (strcmp(argv[1], "synthetic") == 0)
        a->real = 0;
    else if (strcmp(argv[1], "real") == 0)
        a->real = 1;
    else
        return "the first argument must be synthetic or real";
    a->name = argv[2];
    int npos = 0;
    int64_t pos[4] = {0, 0, 0, 0};
    for (int i = 3; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "-o", &missing)) ||
            (v = opt_value(argc, argv, &i, "--output", &missing))) {
            a->out = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--model", &missing))) {
            a->ro.model = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--layers", &missing))) {
            a->ro.layers = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--labels", &missing))) {
            a->ro.labels = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--sentences", &missing))) {
            a->ro.sentences = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--label-format", &missing))) {
            if (strcmp(v, "neurox") && strcmp(v, "brown"))
                return "--label-format must be neurox or brown";
            a->ro.format = v;
        } else if (a->real && (v = opt_value(argc, argv, &i, "--split", &missing))) {
            double *f = a->ro.frac;
            char tail;
            if (sscanf(v, "%lf,%lf,%lf%c", &f[0], &f[1], &f[2], &tail) != 3 || !(f[0] > 0) ||
                f[1] < 0 || f[2] < 0 || fabs(f[0] + f[1] + f[2] - 1) > 1e-9)
                return "--split must be three fractions >= 0, train > 0, summing to 1";
        } else if (a->real && (v = opt_value(argc, argv, &i, "--seed", &missing))) {
            int64_t s;
            if (parse_int(v, &s))
                return "--seed must be a nonnegative integer";
            a->ro.seed = (uint64_t)s;
        } else if (missing) {
            snprintf(buf, nbuf, "%s needs a value", argv[i]);
            return buf;
        } else if (!a->real && argv[i][0] != '-' && npos < 4) {
            if (parse_int(argv[i], &pos[npos++])) {
                snprintf(buf, nbuf, "'%s' is not a nonnegative integer", argv[i]);
                return buf;
            }
        } else {
            snprintf(buf, nbuf, "unexpected argument '%s'", argv[i]);
            return buf;
        }
    }
    if (!a->out)
        return "-o CASE.nc is required";
    if (!a->real) {
        if (npos != 4)
            return "synthetic needs N D C SEED";
        a->N = pos[0], a->D = pos[1], a->C = pos[2], a->seed = (uint64_t)pos[3];
        if (a->C < 2 || a->C > 1000000)
            return "C must be in [2, 1e6]";
        if (a->D < 1 || a->N < a->C)
            return "D must be >= 1 and N >= C (every class is in train)";
        if ((double)(a->N + a->N / 10 + 1) * (double)a->D > 4e12)
            return "N x D is too large";
    } else {
        if (!a->ro.model)
            return "--model=MODEL_DIR is required";
        if (!a->ro.labels)
            return "--labels=FILE is required";
        if (a->ro.sentences && strcmp(a->ro.format, "brown") == 0)
            return "--sentences goes with NeuroX labels, not --label-format=brown";
    }
    return NULL;
}

int main(int argc, char **argv)
{
    case_args a;
    char buf[512];
    const char *msg = parse_args(argc, argv, &a, buf, sizeof(buf));
    if (msg) {
        fprintf(stderr, "bench-case: %s\n%s", msg, usage_text);
        return 64;
    }
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    sal_status st = SAL_OK;
    if (rank == 0) {
        bench_case c;
        double t0 = MPI_Wtime();
        st = a.real ? case_real(a.name, &a.ro, MPI_COMM_SELF, &c)
                    : case_synthetic(a.name, a.N, a.D, (int)a.C, a.seed, &c);
        if (st == SAL_OK && (st = case_check(&c)))
            sal_fail_context(st, "case %s", a.name);
        if (st == SAL_OK)
            st = case_write(a.out, &c);
        if (st == SAL_OK) {
            case_describe(a.out, &c);
            printf("  written in %.1f s\n", MPI_Wtime() - t0);
        }
        case_free(&c); /* zeroed by a failed build, so this is safe on every path */
        if (st)
            fprintf(stderr, "bench-case: %s\n", sal_errmsg());
        fflush(stdout);
    }
    MPI_Bcast(&st, (int)sizeof(st), MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return sal_exit_code(st);
}
