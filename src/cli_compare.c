/*
 * cli_compare.c - `salient compare OUTDIR REFERENCE [--rtol R --atol A]`: every figure
 * of two studies' results side by side, for nightly reproduction runs.
 *
 * Each unit of either results.nc is matched by id; for units present in both, every
 * numeric attribute and every numeric variable of its group is compared element by
 * element (|a - b| <= atol + rtol |b|, NaN equal to NaN), strings exactly. Lists the
 * figures that drift and the units missing on either side; exits 1 if there is any.
 */
#include <argp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>

#include "cli.h"
#include "salient/study.h"

typedef struct compare_opts {
    const char *dir[2];
    int ndir;
    double rtol, atol;
    int max_report;
} compare_opts;

enum { OPT_RTOL = 1000, OPT_ATOL, OPT_MAXREP };

static const struct argp_option compare_options[] = {
    {"rtol", OPT_RTOL, "R", 0, "relative tolerance (default 1e-6)", 0},
    {"atol", OPT_ATOL, "A", 0, "absolute tolerance (default 1e-9)", 0},
    {"max-report", OPT_MAXREP, "N", 0, "list at most N drifting figures (default 50)", 0},
    {0}};

static const char compare_doc[] =
    "Compare two studies' results (OUTDIR/results.nc against REFERENCE/results.nc, or two "
    "results.nc files): every figure of every unit side by side. Lists the figures that "
    "differ by more than atol + rtol |reference| and the units present in one and missing "
    "in the other.\v"
    "Exit status: 0 the same within tolerance, 1 differences, 64 usage error, 65 or 74 if a "
    "results file cannot be read.";

static error_t compare_parse_opt(int key, char *arg, struct argp_state *state)
{
    compare_opts *o = state->input;
    char *end;
    switch (key) {
    case OPT_RTOL:
    case OPT_ATOL:
    case OPT_MAXREP: {
        double v = strtod(arg, &end);
        if (*arg == '\0' || *end != '\0' || !(v >= 0))
            argp_error(state, "'%s' is not a number >= 0", arg);
        if (key == OPT_RTOL)
            o->rtol = v;
        else if (key == OPT_ATOL)
            o->atol = v;
        else
            o->max_report = (int)v;
        return 0;
    }
    case ARGP_KEY_ARG:
        if (o->ndir == 2)
            argp_error(state, "two result folders, please");
        o->dir[o->ndir++] = arg;
        return 0;
    case ARGP_KEY_END:
        if (o->ndir != 2)
            argp_error(state, "give OUTDIR and REFERENCE");
        return 0;
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *compare_parse(int argc, char **argv)
{
    static const struct argp argp = {compare_options, compare_parse_opt, "OUTDIR REFERENCE",
                                     compare_doc, NULL, NULL, NULL};
    compare_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->rtol = 1e-6;
    o->atol = 1e-9;
    o->max_report = 50;
    argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

typedef struct tally {
    const compare_opts *o;
    long compared, drifted;
} tally;

static int close_enough(const compare_opts *o, double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= o->atol + o->rtol * fabs(b);
}

static void drift(tally *t, const char *unit, const char *what, double a, double b)
{
    if (t->drifted++ < t->o->max_report)
        printf("drift  %-32s %-24s %.10g  reference %.10g\n", unit, what, a, b);
}

/* Open path (a results.nc, or a folder holding one). */
static sal_status open_results(const char *path, int *ncid)
{
    char buf[4096];
    int rc = nc_open(path, NC_NOWRITE, ncid);
    if (rc) {
        snprintf(buf, sizeof(buf), "%s/results.nc", path);
        rc = nc_open(buf, NC_NOWRITE, ncid);
    }
    if (rc)
        return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s: no readable results.nc: %s",
                        path, nc_strerror(rc));
    return SAL_OK;
}

static int numeric(nc_type t)
{
    return t == NC_DOUBLE || t == NC_FLOAT || t == NC_INT || t == NC_INT64 || t == NC_SHORT ||
           t == NC_BYTE || t == NC_UINT64 || t == NC_UINT;
}

/* Compare two groups holding one unit each. */
static void compare_groups(tally *t, const char *unit, int ga, int gb)
{
    int natts, nvars;
    nc_inq(gb, NULL, &nvars, &natts, NULL);
    for (int i = 0; i < natts; i++) {
        char name[NC_MAX_NAME + 1];
        nc_type ta, tb;
        size_t la, lb;
        nc_inq_attname(gb, NC_GLOBAL, i, name);
        if (nc_inq_att(gb, NC_GLOBAL, name, &tb, &lb) || !numeric(tb) ||
            !strcmp(name, "fits"))
            continue;
        if (nc_inq_att(ga, NC_GLOBAL, name, &ta, &la) || la != lb) {
            if (t->drifted++ < t->o->max_report)
                printf("drift  %-32s %-24s missing or of another size\n", unit, name);
            continue;
        }
        double *a = malloc(sizeof(double) * la), *b = malloc(sizeof(double) * lb);
        if (a && b && !nc_get_att_double(ga, NC_GLOBAL, name, a) &&
            !nc_get_att_double(gb, NC_GLOBAL, name, b))
            for (size_t k = 0; k < la; k++) {
                t->compared++;
                if (!close_enough(t->o, a[k], b[k]))
                    drift(t, unit, name, a[k], b[k]);
            }
        free(a);
        free(b);
    }
    for (int v = 0; v < nvars; v++) {
        char name[NC_MAX_NAME + 1];
        nc_type type;
        int nd, dims[NC_MAX_VAR_DIMS], va;
        size_t n = 1, len;
        nc_inq_var(gb, v, name, &type, &nd, dims, NULL);
        if (!numeric(type))
            continue;
        for (int k = 0; k < nd; k++) {
            nc_inq_dimlen(gb, dims[k], &len);
            n *= len;
        }
        size_t na = 1;
        int nda, dimsa[NC_MAX_VAR_DIMS];
        if (nc_inq_varid(ga, name, &va) || nc_inq_var(ga, va, NULL, NULL, &nda, dimsa, NULL)) {
            if (t->drifted++ < t->o->max_report)
                printf("drift  %-32s %-24s missing\n", unit, name);
            continue;
        }
        for (int k = 0; k < nda; k++) {
            nc_inq_dimlen(ga, dimsa[k], &len);
            na *= len;
        }
        if (na != n) {
            if (t->drifted++ < t->o->max_report)
                printf("drift  %-32s %-24s %zu values, reference %zu\n", unit, name, na, n);
            continue;
        }
        double *a = malloc(sizeof(double) * (n ? n : 1)), *b = malloc(sizeof(double) * (n ? n : 1));
        if (a && b && (n == 0 || (!nc_get_var_double(ga, va, a) && !nc_get_var_double(gb, v, b))))
            for (size_t k = 0; k < n; k++) {
                t->compared++;
                if (!close_enough(t->o, a[k], b[k])) {
                    char what[NC_MAX_NAME + 32];
                    snprintf(what, sizeof(what), "%s[%zu]", name, k);
                    drift(t, unit, what, a[k], b[k]);
                }
            }
        free(a);
        free(b);
    }
}

/* The unit ids and statuses of a results file. */
static int read_units(int ncid, char ***id, char ***status, size_t *n)
{
    int dim, vid, vst, rc;
    if ((rc = nc_inq_dimid(ncid, "unit", &dim)) || (rc = nc_inq_dimlen(ncid, dim, n)) ||
        (rc = nc_inq_varid(ncid, "unit_id", &vid)) || (rc = nc_inq_varid(ncid, "unit_status", &vst)))
        return rc;
    *id = calloc(*n ? *n : 1, sizeof(**id));
    *status = calloc(*n ? *n : 1, sizeof(**status));
    if (!*id || !*status)
        return NC_ENOMEM;
    if (*n && ((rc = nc_get_var_string(ncid, vid, *id)) || (rc = nc_get_var_string(ncid, vst, *status))))
        return rc;
    return NC_NOERR;
}

static sal_status compare_run(void *opts, MPI_Comm comm)
{
    compare_opts *o = opts;
    int rank;
    MPI_Comm_rank(comm, &rank);
    sal_status st = SAL_OK;
    if (rank == 0) {
        int nc[2] = {-1, -1};
        char **id[2] = {NULL, NULL}, **stt[2] = {NULL, NULL};
        size_t n[2] = {0, 0};
        tally t = {o, 0, 0};
        long missing = 0;
        for (int s = 0; s < 2 && st == SAL_OK; s++) {
            st = open_results(o->dir[s], &nc[s]);
            int rc;
            if (st == SAL_OK && (rc = read_units(nc[s], &id[s], &stt[s], &n[s])))
                st = sal_fail(SAL_ERR_FORMAT, "%s: not a salient results file: %s", o->dir[s],
                              nc_strerror(rc));
        }
        for (size_t i = 0; st == SAL_OK && i < n[1]; i++) { /* every reference unit */
            size_t j = 0;
            while (j < n[0] && strcmp(id[0][j], id[1][i]) != 0)
                j++;
            int ok_ref = !strcmp(stt[1][i], "ok"), ok_out = j < n[0] && !strcmp(stt[0][j], "ok");
            if (ok_ref != ok_out || j == n[0]) {
                missing++;
                printf("missing %-31s %s in %s, %s in the reference\n", id[1][i],
                       j < n[0] ? stt[0][j] : "absent", o->dir[0], stt[1][i]);
                continue;
            }
            if (!ok_ref)
                continue;
            char name[300];
            int ga, gb;
            sal_study_unit_name(id[1][i], name, sizeof(name));
            if (nc_inq_grp_ncid(nc[0], name, &ga) || nc_inq_grp_ncid(nc[1], name, &gb)) {
                missing++;
                printf("missing %-31s group %s\n", id[1][i], name);
                continue;
            }
            compare_groups(&t, id[1][i], ga, gb);
        }
        for (size_t j = 0; st == SAL_OK && j < n[0]; j++) { /* units only in OUTDIR */
            size_t i = 0;
            while (i < n[1] && strcmp(id[0][j], id[1][i]) != 0)
                i++;
            if (i == n[1]) {
                missing++;
                printf("missing %-31s in the reference only\n", id[0][j]);
            }
        }
        if (st == SAL_OK) {
            printf("compared %ld figures of %zu units: %ld drift beyond rtol %g atol %g, %ld "
                   "units missing or not ok on one side\n",
                   t.compared, n[1], t.drifted, o->rtol, o->atol, missing);
            if (t.drifted || missing)
                st = sal_fail(SAL_ERR_DIFFERS, "%s and %s differ", o->dir[0], o->dir[1]);
        }
        for (int s = 0; s < 2; s++) {
            if (id[s]) {
                nc_free_string(n[s], id[s]);
                nc_free_string(n[s], stt[s]);
            }
            free(id[s]);
            free(stt[s]);
            if (nc[s] >= 0)
                nc_close(nc[s]);
        }
        fflush(stdout);
    }
    return sal_agree(st, comm);
}

static void compare_free(void *opts)
{
    free(opts);
}

const cli_command cli_compare_command = {"compare", "compare two studies' results",
                                         compare_parse, compare_run, compare_free};
