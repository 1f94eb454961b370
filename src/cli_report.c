/*
 * cli_report.c - `salient report OUTDIR`: the tables of SCIENCE.md section 5 from a
 * study's results.nc, each as CSV, Markdown and LaTeX:
 *   layerwise   test accuracy of the probe on each layer and on the selection, per
 *               model and task, beside the majority-class baseline
 *   cross-architecture   per task, one column per model: best layer, all layers,
 *               control accuracy, selectivity, minimal set size (% of neurons), top /
 *               random / bottom k retrained, and the minimal set's share per third
 *   fine-tuning per task, each fine-tuned variant beside its base, with the shift
 *   cross-model per model (with the crossmodel analysis): neurons, mean MaxCorr and
 *               MinCorr against the other models, mean MaxCorr per layer
 * and the plots of SCIENCE.md section 5, as PNG and SVG in OUTDIR/plots/ (plot.c):
 *   layers-TASK  heat map, models x layers: the share of each model's minimal neuron
 *               set (from the probe on its layer selection) in each layer
 *   curves-TASK  accuracy (test solid, dev dashed) of the probe retrained on the top k
 *               neurons against k, one line per model, the minimal set ringed
 * A unit that failed shows as "failed", one that is missing as "-" (in the plots: grey
 * cells so marked, hatched if failed).
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netcdf.h>

#include "cli.h"
#include "salient/plot.h"
#include "salient/study.h"

typedef struct report_opts {
    const char *dir;
} report_opts;

static const char report_doc[] =
    "Write a study's tables (layer-wise, cross-architecture, fine-tuning) as CSV, Markdown "
    "and LaTeX into OUTDIR/tables/, and its plots (per task: salient neurons per layer, "
    "accuracy vs number of neurons) as PNG and SVG into OUTDIR/plots/, from "
    "OUTDIR/results.nc.\v" CLI_EXIT_DOC;

static error_t report_parse_opt(int key, char *arg, struct argp_state *state)
{
    report_opts *o = state->input;
    switch (key) {
    case ARGP_KEY_ARG:
        if (o->dir)
            argp_error(state, "one OUTDIR, please");
        o->dir = arg;
        return 0;
    case ARGP_KEY_END:
        if (!o->dir)
            argp_error(state, "no OUTDIR given");
        return 0;
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *report_parse(int argc, char **argv)
{
    static const struct argp argp = {NULL, report_parse_opt, "OUTDIR", report_doc, NULL, NULL,
                                     NULL};
    report_opts *o = calloc(1, sizeof(*o));
    if (o)
        argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

/* ---- what the results say about one unit ---------------------------------------- */

enum { F_ALL, F_CONTROL, F_SELECT, F_MINIMAL, F_TOP, F_RANDOM, F_BOTTOM, F_T0, F_T1, F_T2, NF };
static const char *const fig_name[NF] = {
    "all layers",   "control task", "selectivity",  "minimal set (% neurons)",
    "top k",        "random k",     "bottom k",     "lower third (%)",
    "middle third (%)", "upper third (%)"};

typedef struct unit_fig {
    char model[128], task[128], layers[64];
    int ok;          /* 1 ok, 0 failed */
    double test;     /* oracle test accuracy */
    double majority; /* test accuracy of the majority-class baseline */
    double fig[NF];  /* the selection's figures (NaN if not computed) */
    /* for the plots (empty unless ok) */
    int nlayer, ncurve;             /* sizes of the arrays below */
    int *layer;                     /* the selection's layer numbers */
    double *share;                  /* share of the minimal set in each */
    long long *curve_k;             /* the minimal-set search: neurons kept */
    double *curve_dev, *curve_test; /* and the retrained probe's accuracy */
    long long k_min, neurons;       /* minimal set size (0: none), neurons of the selection */
} unit_fig;

static double att(int g, const char *name)
{
    double v = NAN;
    if (nc_get_att_double(g, NC_GLOBAL, name, &v))
        return NAN;
    return v;
}

/* Read the 1-D variable name of group g, converted to type (NC_INT, NC_INT64 or
 * NC_DOUBLE), into a new array *p of *n values. An absent or unreadable variable
 * reads as empty; only running out of memory fails. */
static sal_status vec(int g, const char *name, nc_type type, int *n, void **p)
{
    int v, dim, nd, rc;
    size_t len = 0, size = type == NC_INT     ? sizeof(int)
                           : type == NC_INT64 ? sizeof(long long)
                                              : sizeof(double);
    *n = 0;
    *p = NULL;
    if (nc_inq_varid(g, name, &v) || nc_inq_varndims(g, v, &nd) || nd != 1 ||
        nc_inq_vardimid(g, v, &dim) || nc_inq_dimlen(g, dim, &len) || len == 0)
        return SAL_OK;
    if (!(*p = malloc(size * len)))
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    rc = type == NC_INT     ? nc_get_var_int(g, v, *p)
         : type == NC_INT64 ? nc_get_var_longlong(g, v, *p)
                            : nc_get_var_double(g, v, *p);
    if (rc) {
        free(*p);
        *p = NULL;
    } else {
        *n = (int)len;
    }
    return SAL_OK;
}

/* ---- tables ------------------------------------------------------------------------ */

typedef struct table {
    int nrow, ncol;
    char **cell; /* nrow x ncol, row 0 the header */
} table;

static sal_status table_init(table *t, int nrow, int ncol)
{
    t->nrow = nrow;
    t->ncol = ncol;
    t->cell = calloc((size_t)(nrow * ncol), sizeof(*t->cell));
    return t->cell ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
}

static void table_free(table *t)
{
    for (int i = 0; t->cell && i < t->nrow * t->ncol; i++)
        free(t->cell[i]);
    free(t->cell);
    t->cell = NULL;
}

static void cell(table *t, int r, int c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(t->cell[r * t->ncol + c]);
    t->cell[r * t->ncol + c] = strdup(buf);
}

static const char *get(const table *t, int r, int c)
{
    const char *s = t->cell[r * t->ncol + c];
    return s ? s : "";
}

static void put_csv(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void put_tex(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("&%$#_{}", *s))
            fprintf(f, "\\%c", *s);
        else if (*s == '~' || *s == '^' || *s == '\\')
            fprintf(f, "\\textascii%s{}", *s == '~' ? "tilde" : *s == '^' ? "circum" : "");
        else
            fputc(*s, f);
    }
}

/* Write t as DIR/NAME.csv, .md and .tex, each through a temporary file. */
static sal_status table_write(const table *t, const char *dir, const char *name,
                              const char *caption)
{
    const char *ext[3] = {"csv", "md", "tex"};
    for (int k = 0; k < 3; k++) {
        char path[4096], tmp[4200];
        snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext[k]);
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f)
            return sal_fail(SAL_ERR_IO, "%s: %s", tmp, strerror(errno));
        if (k == 2) {
            fprintf(f, "%% %s\n\\begin{tabular}{l", caption);
            for (int c = 1; c < t->ncol; c++)
                fputc('r', f);
            fputs("}\n\\hline\n", f);
        } else if (k == 1) {
            fprintf(f, "**%s**\n\n", caption);
        }
        for (int r = 0; r < t->nrow; r++) {
            if (k == 1)
                fputs("| ", f);
            for (int c = 0; c < t->ncol; c++) {
                if (c > 0)
                    fputs(k == 0 ? "," : k == 1 ? " | " : " & ", f);
                if (k == 0)
                    put_csv(f, get(t, r, c));
                else if (k == 1)
                    fputs(get(t, r, c), f);
                else
                    put_tex(f, get(t, r, c));
            }
            fputs(k == 1 ? " |\n" : k == 2 ? " \\\\\n" : "\n", f);
            if (r == 0 && k == 1) {
                fputs("|", f);
                for (int c = 0; c < t->ncol; c++)
                    fputs(c == 0 ? " --- |" : " ---: |", f);
                fputc('\n', f);
            }
            if (r == 0 && k == 2)
                fputs("\\hline\n", f);
        }
        if (k == 2)
            fputs("\\hline\n\\end{tabular}\n", f);
        int ok = !ferror(f);
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            unlink(tmp);
            return sal_fail(SAL_ERR_IO, "%s: cannot write", path);
        }
    }
    return SAL_OK;
}

/* A figure as text: a percentage or accuracy with 4 digits, "-" when absent. */
static void figure(table *t, int r, int c, const unit_fig *u, double v)
{
    if (!u)
        cell(t, r, c, "-");
    else if (!u->ok)
        cell(t, r, c, "failed");
    else if (isnan(v))
        cell(t, r, c, "-");
    else
        cell(t, r, c, "%.4f", v);
}

/* ---- the report -------------------------------------------------------------------- */

/* What a cross-model unit says about one model's neurons. */
typedef struct cross_fig {
    char model[128];
    int ok;                    /* 1 ok, 0 failed */
    double neurons, mean_max, mean_min;
    char by_layer[256];        /* "L0 0.17, L1 0.06, ..." mean MaxCorr per layer */
} cross_fig;

typedef struct study_data {
    char name[128]; /* the study's name ("" if not recorded) */
    int nunit, nmodel, ntask, ncross;
    unit_fig *unit;
    cross_fig *cross;
    char (*model)[128], (*base)[128], (*task)[128];
} study_data;

static const unit_fig *find(const study_data *s, const char *model, const char *task,
                            const char *layers)
{
    for (int i = 0; i < s->nunit; i++)
        if (!strcmp(s->unit[i].model, model) && !strcmp(s->unit[i].task, task) &&
            (layers ? !strcmp(s->unit[i].layers, layers) : s->unit[i].layers[0] != 'L'))
            return &s->unit[i];
    return NULL;
}

/* The best single-layer unit of a model and task (highest test accuracy). */
static const unit_fig *best_layer(const study_data *s, const char *model, const char *task)
{
    const unit_fig *best = NULL;
    for (int i = 0; i < s->nunit; i++) {
        const unit_fig *u = &s->unit[i];
        if (u->ok && u->layers[0] == 'L' && !strcmp(u->model, model) && !strcmp(u->task, task) &&
            (!best || u->test > best->test))
            best = u;
    }
    return best;
}

static sal_status read_study(const char *dir, study_data *s)
{
    char path[4096];
    int ncid, rc, dim, v;
    size_t n, nm;
    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "%s/results.nc", dir);
    if ((rc = nc_open(path, NC_NOWRITE, &ncid)))
        return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s: %s", path, nc_strerror(rc));
    char **id = NULL, **status = NULL, **mn = NULL, **mb = NULL;
    sal_status st = SAL_OK;
    if ((rc = nc_inq_dimid(ncid, "unit", &dim)) || (rc = nc_inq_dimlen(ncid, dim, &n)) ||
        (rc = nc_inq_dimid(ncid, "model", &dim)) || (rc = nc_inq_dimlen(ncid, dim, &nm))) {
        nc_close(ncid);
        return sal_fail(SAL_ERR_FORMAT, "%s: not a salient results file: %s", path,
                        nc_strerror(rc));
    }
    id = calloc(n + 1, sizeof(*id));
    status = calloc(n + 1, sizeof(*status));
    mn = calloc(nm + 1, sizeof(*mn));
    mb = calloc(nm + 1, sizeof(*mb));
    s->unit = calloc(n + 1, sizeof(*s->unit));
    s->model = calloc(nm + 1, sizeof(*s->model));
    s->base = calloc(nm + 1, sizeof(*s->base));
    s->task = calloc(n + 1, sizeof(*s->task));
    s->cross = calloc(n + 1, sizeof(*s->cross));
    if (!id || !status || !mn || !mb || !s->unit || !s->model || !s->base || !s->task ||
        !s->cross) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = nc_inq_varid(ncid, "unit_id", &v)) || (rc = nc_get_var_string(ncid, v, id)) ||
        (rc = nc_inq_varid(ncid, "unit_status", &v)) || (rc = nc_get_var_string(ncid, v, status)) ||
        (rc = nc_inq_varid(ncid, "model_name", &v)) || (rc = nc_get_var_string(ncid, v, mn)) ||
        (rc = nc_inq_varid(ncid, "model_base", &v)) || (rc = nc_get_var_string(ncid, v, mb))) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: %s", path, nc_strerror(rc));
        goto done;
    }
    s->nmodel = (int)nm;
    size_t namelen = 0;
    if (nc_inq_attlen(ncid, NC_GLOBAL, "study", &namelen) == NC_NOERR &&
        namelen < sizeof(s->name) && nc_get_att_text(ncid, NC_GLOBAL, "study", s->name))
        s->name[0] = '\0';
    for (size_t k = 0; k < nm; k++) {
        snprintf(s->model[k], sizeof(s->model[k]), "%s", mn[k]);
        snprintf(s->base[k], sizeof(s->base[k]), "%s", mb[k]);
    }
    for (size_t i = 0; i < n; i++) {
        unit_fig *u = &s->unit[s->nunit];
        char name[300];
        int g;
        /* MODEL/LAYERS/TASK */
        const char *a = strchr(id[i], '/'), *b = a ? strrchr(id[i], '/') : NULL;
        if (!a || b == a)
            continue;
        snprintf(u->model, sizeof(u->model), "%.*s", (int)(a - id[i]), id[i]);
        snprintf(u->layers, sizeof(u->layers), "%.*s", (int)(b - a - 1), a + 1);
        snprintf(u->task, sizeof(u->task), "%s", b + 1);
        if (!strcmp(u->task, "crossmodel")) { /* a cross-model unit: no task, no probe */
            if (strcmp(status[i], "ok") && strcmp(status[i], "failed"))
                continue;
            cross_fig *x = &s->cross[s->ncross++];
            snprintf(x->model, sizeof(x->model), "%s", u->model);
            x->ok = !strcmp(status[i], "ok");
            sal_study_unit_name(id[i], name, sizeof(name));
            if (x->ok && nc_inq_grp_ncid(ncid, name, &g) == NC_NOERR) {
                x->neurons = att(g, "neurons");
                x->mean_max = att(g, "mean_maxcorr");
                x->mean_min = att(g, "mean_mincorr");
                int nl = 0, nm2 = 0;
                void *lay = NULL, *mx = NULL;
                if ((st = vec(g, "layer", NC_INT, &nl, &lay)) == SAL_OK)
                    st = vec(g, "layer_mean_maxcorr", NC_DOUBLE, &nm2, &mx);
                size_t off = 0;
                for (int l = 0; l < nl && l < nm2 && off < sizeof(x->by_layer); l++)
                    off += (size_t)snprintf(x->by_layer + off, sizeof(x->by_layer) - off,
                                            "%sL%d %.3f", l ? ", " : "", ((int *)lay)[l],
                                            ((double *)mx)[l]);
                free(lay);
                free(mx);
                if (st)
                    goto done;
            }
            continue;
        }
        u->ok = !strcmp(status[i], "ok");
        if (strcmp(status[i], "ok") && strcmp(status[i], "failed"))
            continue; /* missing: shown as "-" */
        u->test = NAN;
        for (int f = 0; f < NF; f++)
            u->fig[f] = NAN;
        sal_study_unit_name(id[i], name, sizeof(name));
        if (u->ok && nc_inq_grp_ncid(ncid, name, &g) == NC_NOERR) {
            double thirds[3] = {NAN, NAN, NAN}, k = att(g, "k_min"), d = att(g, "neurons");
            u->test = att(g, "oracle_test");
            u->majority = att(g, "majority_test");
            u->fig[F_ALL] = u->test;
            u->fig[F_CONTROL] = att(g, "control_test");
            u->fig[F_SELECT] = att(g, "selectivity");
            u->fig[F_MINIMAL] = k > 0 ? 100 * k / d : NAN;
            u->fig[F_TOP] = att(g, "top_test");
            u->fig[F_RANDOM] = att(g, "random_test");
            u->fig[F_BOTTOM] = att(g, "bottom_test");
            if (k > 0 && nc_inq_varid(g, "third_share", &v) == NC_NOERR &&
                nc_get_var_double(g, v, thirds) == NC_NOERR)
                for (int t = 0; t < 3; t++)
                    u->fig[F_T0 + t] = 100 * thirds[t];
            u->k_min = k > 0 ? (long long)k : 0;
            u->neurons = d > 0 ? (long long)d : 0;
            /* for the plots */
            static const char *const vname[5] = {"layer", "layer_share", "curve_k", "curve_dev",
                                                 "curve_test"};
            static const nc_type vtype[5] = {NC_INT, NC_DOUBLE, NC_INT64, NC_DOUBLE, NC_DOUBLE};
            void *arr[5] = {NULL};
            int len[5] = {0};
            for (int j = 0; j < 5 && st == SAL_OK; j++)
                st = vec(g, vname[j], vtype[j], &len[j], &arr[j]);
            u->layer = arr[0], u->share = arr[1], u->curve_k = arr[2];
            u->curve_dev = arr[3], u->curve_test = arr[4];
            if (st)
                goto done;
            u->nlayer = len[0] == len[1] ? len[0] : 0;
            u->ncurve = len[2] == len[3] && len[2] == len[4] ? len[2] : 0;
        }
        int known = 0;
        for (int t = 0; t < s->ntask; t++)
            known |= !strcmp(s->task[t], u->task);
        if (!known)
            snprintf(s->task[s->ntask++], sizeof(s->task[0]), "%s", u->task);
        s->nunit++;
    }
done:
    if (id)
        nc_free_string(n, id);
    if (status)
        nc_free_string(n, status);
    if (mn)
        nc_free_string(nm, mn);
    if (mb)
        nc_free_string(nm, mb);
    free(id), free(status), free(mn), free(mb);
    nc_close(ncid);
    return st;
}

static void study_free(study_data *s)
{
    for (int i = 0; s->unit && i < s->nunit + 1; i++) {
        unit_fig *u = &s->unit[i];
        free(u->layer), free(u->share), free(u->curve_k), free(u->curve_dev), free(u->curve_test);
    }
    free(s->unit);
    free(s->cross);
    free(s->model);
    free(s->base);
    free(s->task);
}

static sal_status write_tables(const char *outdir, const study_data *s)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tables", outdir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return sal_fail(SAL_ERR_IO, "%s: %s", dir, strerror(errno));
    sal_status st = SAL_OK;
    /* layer-wise: rows model x task, columns L0..Lmax and the selection */
    int maxl = -1;
    for (int i = 0; i < s->nunit; i++)
        if (s->unit[i].layers[0] == 'L' && atoi(s->unit[i].layers + 1) > maxl)
            maxl = atoi(s->unit[i].layers + 1);
    table t = {0};
    if ((st = table_init(&t, 1 + s->nmodel * s->ntask, 4 + maxl + 1)))
        return st;
    cell(&t, 0, 0, "model");
    cell(&t, 0, 1, "task");
    for (int l = 0; l <= maxl; l++)
        cell(&t, 0, 2 + l, "layer %d", l);
    cell(&t, 0, 3 + maxl, "all layers");
    cell(&t, 0, 4 + maxl, "majority class");
    for (int m = 0; m < s->nmodel; m++)
        for (int k = 0; k < s->ntask; k++) {
            int r = 1 + m * s->ntask + k;
            char lname[16];
            cell(&t, r, 0, "%s", s->model[m]);
            cell(&t, r, 1, "%s", s->task[k]);
            for (int l = 0; l <= maxl; l++) {
                snprintf(lname, sizeof(lname), "L%d", l);
                const unit_fig *u = find(s, s->model[m], s->task[k], lname);
                figure(&t, r, 2 + l, u, u ? u->test : NAN);
            }
            const unit_fig *u = find(s, s->model[m], s->task[k], NULL);
            figure(&t, r, 3 + maxl, u, u ? u->test : NAN);
            figure(&t, r, 4 + maxl, u, u ? u->majority : NAN);
        }
    st = table_write(&t, dir, "layerwise", "Test accuracy of the probe per layer and on all "
                     "layers, and of always predicting the most frequent training class");
    table_free(&t);
    /* cross-architecture: rows task x figure, one column per model */
    if (st == SAL_OK && (st = table_init(&t, 1 + s->ntask * (NF + 1), 2 + s->nmodel)) == SAL_OK) {
        cell(&t, 0, 0, "task");
        cell(&t, 0, 1, "figure");
        for (int m = 0; m < s->nmodel; m++)
            cell(&t, 0, 2 + m, "%s", s->model[m]);
        for (int k = 0; k < s->ntask; k++) {
            int r0 = 1 + k * (NF + 1);
            cell(&t, r0, 0, "%s", s->task[k]);
            cell(&t, r0, 1, "best layer");
            for (int f = 0; f < NF; f++) {
                cell(&t, r0 + 1 + f, 0, "%s", s->task[k]);
                cell(&t, r0 + 1 + f, 1, "%s", fig_name[f]);
            }
            for (int m = 0; m < s->nmodel; m++) {
                const unit_fig *b = best_layer(s, s->model[m], s->task[k]);
                if (b)
                    cell(&t, r0, 2 + m, "%.4f (%s)", b->test, b->layers);
                else
                    cell(&t, r0, 2 + m, "-");
                const unit_fig *u = find(s, s->model[m], s->task[k], NULL);
                for (int f = 0; f < NF; f++)
                    figure(&t, r0 + 1 + f, 2 + m, u, u ? u->fig[f] : NAN);
            }
        }
        st = table_write(&t, dir, "cross-architecture",
                         "Per task, one column per model (test accuracies; shares of the minimal "
                         "set in %)");
        table_free(&t);
    }
    /* fine-tuning: each variant beside its base, and the shift */
    int nft = 0;
    for (int m = 0; m < s->nmodel; m++)
        nft += s->base[m][0] != '\0';
    if (st == SAL_OK && nft > 0 &&
        (st = table_init(&t, 1 + nft * s->ntask * NF, 5)) == SAL_OK) {
        const char *head[5] = {"task", "figure", "base", "fine-tuned", "shift"};
        for (int c = 0; c < 5; c++)
            cell(&t, 0, c, "%s", head[c]);
        int r = 1;
        for (int m = 0; m < s->nmodel; m++) {
            if (!s->base[m][0])
                continue;
            for (int k = 0; k < s->ntask; k++) {
                const unit_fig *ub = find(s, s->base[m], s->task[k], NULL);
                const unit_fig *uv = find(s, s->model[m], s->task[k], NULL);
                for (int f = 0; f < NF; f++, r++) {
                    cell(&t, r, 0, "%s", s->task[k]);
                    cell(&t, r, 1, "%s: %s vs %s", fig_name[f], s->model[m], s->base[m]);
                    figure(&t, r, 2, ub, ub ? ub->fig[f] : NAN);
                    figure(&t, r, 3, uv, uv ? uv->fig[f] : NAN);
                    double d = ub && uv && ub->ok && uv->ok ? uv->fig[f] - ub->fig[f] : NAN;
                    if (isnan(d))
                        cell(&t, r, 4, "-");
                    else
                        cell(&t, r, 4, "%+.4f", d);
                }
            }
        }
        st = table_write(&t, dir, "fine-tuning", "Fine-tuned variants beside their base models");
        table_free(&t);
    }
    /* cross-model correlation: per model, how much its neurons have a counterpart in the
     * other models (MaxCorr: in any of them; MinCorr: in all of them) */
    if (st == SAL_OK && s->ncross > 0 && (st = table_init(&t, 1 + s->ncross, 5)) == SAL_OK) {
        const char *head[5] = {"model", "neurons", "mean MaxCorr", "mean MinCorr",
                               "mean MaxCorr per layer"};
        for (int c = 0; c < 5; c++)
            cell(&t, 0, c, "%s", head[c]);
        for (int i = 0; i < s->ncross; i++) {
            const cross_fig *x = &s->cross[i];
            cell(&t, 1 + i, 0, "%s", x->model);
            if (!x->ok) {
                for (int c = 1; c < 5; c++)
                    cell(&t, 1 + i, c, "failed");
                continue;
            }
            cell(&t, 1 + i, 1, "%.0f", x->neurons);
            cell(&t, 1 + i, 2, "%.4f", x->mean_max);
            cell(&t, 1 + i, 3, "%.4f", x->mean_min);
            cell(&t, 1 + i, 4, "%s", x->by_layer);
        }
        st = table_write(&t, dir, "cross-model",
                         "Cross-model correlation: each neuron's best |r| with the other models' "
                         "neurons, averaged (MaxCorr: best over models; MinCorr: worst)");
        table_free(&t);
    }
    return st;
}

/* The figures of plot.h into OUTDIR/plots/, from the units that probe each model's
 * layer selection (the same units as the cross-architecture table's). */
static sal_status write_plots(const char *outdir, const study_data *s, int *nfile)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/plots", outdir);
    const char **model = calloc((size_t)s->nmodel + 1, sizeof(*model));
    const char **task = calloc((size_t)s->ntask + 1, sizeof(*task));
    sal_plot_unit *pu = calloc((size_t)(s->nmodel * s->ntask) + 1, sizeof(*pu));
    sal_status st = SAL_OK;
    if (!model || !task || !pu) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int m = 0; m < s->nmodel; m++)
        model[m] = s->model[m];
    for (int k = 0; k < s->ntask; k++)
        task[k] = s->task[k];
    for (int m = 0; m < s->nmodel; m++)
        for (int k = 0; k < s->ntask; k++) {
            const unit_fig *u = find(s, s->model[m], s->task[k], NULL);
            sal_plot_unit *p = &pu[m * s->ntask + k];
            if (!u)
                continue; /* SAL_PLOT_MISSING */
            *p = (sal_plot_unit){.state = u->ok ? SAL_PLOT_OK : SAL_PLOT_FAILED,
                                 .nlayer = u->nlayer,
                                 .layer = u->layer,
                                 .share = u->share,
                                 .ncurve = u->ncurve,
                                 .curve_k = u->curve_k,
                                 .curve_dev = u->curve_dev,
                                 .curve_test = u->curve_test,
                                 .k_min = u->k_min,
                                 .neurons = u->neurons};
        }
    sal_plot_study ps = {.name = s->name[0] ? s->name : NULL, .nmodel = s->nmodel,
                         .ntask = s->ntask, .model = model, .task = task, .unit = pu};
    st = sal_plot_write(&ps, dir, nfile);
done:
    free(model), free(task), free(pu);
    return st;
}

static sal_status report_run_opts(const report_opts *o, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    sal_status st = SAL_OK;
    if (rank == 0) {
        study_data s;
        st = read_study(o->dir, &s);
        if (st == SAL_OK)
            st = write_tables(o->dir, &s);
        if (st == SAL_OK)
            printf("tables: %s/tables/{layerwise,cross-architecture,fine-tuning%s}.{csv,md,tex}\n",
                   o->dir, s.ncross ? ",cross-model" : "");
        int nfile = 0;
        if (st == SAL_OK && s.nmodel > 0 && s.ntask > 0 &&
            (st = write_plots(o->dir, &s, &nfile)) == SAL_OK)
            printf("plots: %s/plots/{layers,curves}-TASK.{png,svg} (%d files)\n", o->dir, nfile);
        study_free(&s);
        fflush(stdout);
    }
    return sal_agree(st, comm);
}

sal_status cli_report_dir(const char *dir, MPI_Comm comm)
{
    report_opts o = {dir};
    return report_run_opts(&o, comm);
}

static sal_status report_run(void *opts, MPI_Comm comm)
{
    return report_run_opts(opts, comm);
}

static void report_free(void *opts)
{
    free(opts);
}

const cli_command cli_report_command = {"report", "write a study's tables and plots", report_parse,
                                        report_run, report_free};
