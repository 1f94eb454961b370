/* cli_probe.c - `salient probe`: train one elastic-net probe from the command line. */
#include <argp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "salient/dataset.h"
#include "salient/metrics.h"
#include "salient/unit.h"
#include "salient/probe_io.h"

typedef struct probe_opts {
    const char *model, *layers, *labels, *sentences, *format, *out;
    double frac[3];
    uint64_t seed;
    sal_probe_params prm;
} probe_opts;

enum { OPT_LAYERS = 1000, OPT_LABELS, OPT_SENTENCES, OPT_FORMAT, OPT_SPLIT, OPT_SEED, OPT_L1,
       OPT_L2, OPT_TOL, OPT_MAXIT, OPT_VERBOSE, OPT_METRIC };

static const struct argp_option probe_options[] = {
    {"model", 'm', "MODEL_DIR", 0, "activation shards (from salient import) (required)", 0},
    {"layers", OPT_LAYERS, "SEL", 0, "layers to probe: all, or numbers and ranges: 0  0,3  1-4 "
     "(default all)", 0},
    {"labels", OPT_LABELS, "FILE", 0, "token labels (required): NeuroX labels file, one sentence "
     "per line, aligned with the model's words; or Brown word/tag files with "
     "--label-format=brown", 0},
    {"sentences", OPT_SENTENCES, "FILE", 0, "NeuroX sentences file for --labels; its words must "
     "equal the model's", 0},
    {"label-format", OPT_FORMAT, "FMT", 0, "neurox (default) or brown", 0},
    {"split", OPT_SPLIT, "TR,DEV,TEST", 0, "fractions of sentences (default 0.8,0.1,0.1)", 0},
    {"seed", OPT_SEED, "N", 0, "seed of the sentence shuffle (default 1)", 0},
    {"l1", OPT_L1, "X", 0, "lambda1, weight of ||W||_1 (default 1e-5)", 0},
    {"l2", OPT_L2, "Y", 0, "lambda2, weight of ||W||_F^2 (default 1e-5)", 0},
    {"tol", OPT_TOL, "T", 0, "optimality tolerance (default 1e-6)", 0},
    {"max-iter", OPT_MAXIT, "N", 0, "iteration limit (default 20000)", 0},
    {"metric", OPT_METRIC, "M", OPTION_HIDDEN, "accepted for old command lines, no effect: "
     "the L-BFGS-B solver has no step metric", 0},
    {"output", 'o', "PROBE.nc", 0, "write the probe (weights, biases, classes, split)", 0},
    {"verbose", 'v', NULL, 0, "print solver progress", 0},
    {0}};

static const char probe_doc[] =
    "Train one elastic-net probe (multinomial logistic regression, lambda1 ||W||_1 + "
    "lambda2 ||W||_F^2, bias unpenalized) on a model's activations for a token task, "
    "solved to the optimality tolerance, and report train/dev/test accuracy.\v"
    "Runs on any number of MPI ranks: the activations are distributed over a process grid. "
    "Classes that have no training token are left out of the probe (their dev and test "
    "tokens count as errors).\n\n"
    "Example:\n  mpirun -np 2 salient probe --model=models/use-lite --layers=all "
    "--labels=pos.txt --l1=1e-5 --l2=1e-5 -o pos-probe.nc\n\n" CLI_EXIT_DOC;

/* Parse a number or fail the argument parse naming the option. */
static double number(struct argp_state *state, const char *opt, const char *arg)
{
    char *end;
    double v = strtod(arg, &end);
    if (*arg == '\0' || *end != '\0' || !isfinite(v))
        argp_error(state, "--%s: '%s' is not a number", opt, arg);
    return v;
}

static error_t probe_parse_opt(int key, char *arg, struct argp_state *state)
{
    probe_opts *o = state->input;
    switch (key) {
    case 'm': o->model = arg; return 0;
    case 'o': o->out = arg; return 0;
    case 'v': o->prm.verbose = 1; return 0;
    case OPT_LAYERS: o->layers = arg; return 0;
    case OPT_LABELS: o->labels = arg; return 0;
    case OPT_SENTENCES: o->sentences = arg; return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "neurox") && strcmp(arg, "brown"))
            argp_error(state, "--label-format: '%s' is not neurox or brown", arg);
        o->format = arg;
        return 0;
    case OPT_SPLIT:
        if (sscanf(arg, "%lf,%lf,%lf", &o->frac[0], &o->frac[1], &o->frac[2]) != 3)
            argp_error(state, "--split: '%s' is not three fractions like 0.8,0.1,0.1", arg);
        return 0;
    case OPT_SEED: o->seed = (uint64_t)number(state, "seed", arg); return 0;
    case OPT_L1: o->prm.lambda1 = number(state, "l1", arg); return 0;
    case OPT_L2: o->prm.lambda2 = number(state, "l2", arg); return 0;
    case OPT_TOL: o->prm.tol = number(state, "tol", arg); return 0;
    case OPT_MAXIT: o->prm.max_iter = (int)number(state, "max-iter", arg); return 0;
    case OPT_METRIC:
        if (strcmp(arg, "auto") == 0)
            o->prm.metric = SAL_PROBE_METRIC_AUTO;
        else if (strcmp(arg, "gram") == 0)
            o->prm.metric = SAL_PROBE_METRIC_GRAM;
        else if (strcmp(arg, "diagonal") == 0)
            o->prm.metric = SAL_PROBE_METRIC_DIAGONAL;
        else
            argp_error(state, "--metric: '%s' is not auto, gram or diagonal", arg);
        return 0;
    case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); return 0;
    case ARGP_KEY_END: {
        const char *msg = NULL;
        if (!o->model)
            msg = "--model=MODEL_DIR is required";
        else if (!o->labels)
            msg = "--labels=FILE is required";
        else if (o->sentences && strcmp(o->format, "brown") == 0)
            msg = "--sentences goes with NeuroX labels, not --label-format=brown";
        else
            msg = sal_probe_check(&o->prm);
        if (!msg && (!(o->frac[0] > 0) || o->frac[1] < 0 || o->frac[2] < 0 ||
                     fabs(o->frac[0] + o->frac[1] + o->frac[2] - 1) > 1e-9))
            msg = "--split: fractions must be >= 0, train > 0, and sum to 1";
        if (msg)
            argp_error(state, "%s", msg);
        return 0;
    }
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *probe_parse(int argc, char **argv)
{
    static const struct argp argp = {probe_options, probe_parse_opt, NULL, probe_doc, NULL,
                                     NULL, NULL};
    probe_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    sal_probe_params def = SAL_PROBE_PARAMS_DEFAULT;
    o->prm = def;
    o->layers = "all";
    o->format = "neurox";
    o->frac[0] = 0.8, o->frac[1] = 0.1, o->frac[2] = 0.1;
    o->seed = 1;
    argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

static const char *const split_name[3] = {"train", "dev", "test"};

static sal_status probe_run(void *opts, MPI_Comm comm)
{
    probe_opts *o = opts;
    int rank, nsel = 0, layers[SAL_MAX_LAYERS];
    MPI_Comm_rank(comm, &rank);
    sal_task_data t;
    sal_unit_matrices u;
    memset(&t, 0, sizeof(t));
    memset(&u, 0, sizeof(u));
    sal_model *m = NULL;
    sal_grid *g = NULL;
    int32_t *pred = NULL, *ytrue = NULL;
    sal_probe pr;
    sal_probe_problem *pb = NULL;
    double acc[3] = {NAN, NAN, NAN}, f1[3] = {NAN, NAN, NAN};
    memset(&pr, 0, sizeof(pr));

    /* parallel netCDF-4 read faster than per-process opens in bench-shard (README) */
    sal_status st = sal_model_open_par(o->model, comm, &m);
    if (st == SAL_OK)
        st = sal_agree(sal_parse_layers(o->layers, sal_model_get_desc(m)->nlayers, layers,
                                        &nsel), comm);
    if (st == SAL_OK) {
        sal_task_source src = {.labels = o->labels, .sentences = o->sentences};
        if (strcmp(o->format, "brown") == 0)
            src = (sal_task_source){.nbrown = 1, .brown = &o->labels};
        st = sal_agree(rank == 0 ? sal_task_read(m, o->model, &src, o->frac, o->seed, 0, &t)
                                 : SAL_OK,
                       comm);
    }
    if (st == SAL_OK)
        st = sal_task_share(&t, comm);
    if (st == SAL_OK)
        st = sal_agree(sal_grid_init(comm, 0, 0, &g), comm);
    if (st == SAL_OK)
        st = sal_unit_load(m, nsel, layers, &t, g, &u);
    if (st)
        goto done;
    int64_t nmax = u.n[0];
    for (int w = 1; w < 3; w++)
        nmax = u.n[w] > nmax ? u.n[w] : nmax;
    pred = malloc(sizeof(*pred) * (size_t)nmax);
    ytrue = malloc(sizeof(*ytrue) * (size_t)nmax);
    if ((st = sal_agree(pred && ytrue ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory"),
                        comm)))
        goto done;
    if ((st = sal_probe_problem_init(&u.X[0], g, u.y[0], t.C, &pb)))
        goto done;
    sal_status solved = sal_probe_solve(pb, &o->prm, NULL, &pr);
    if (solved != SAL_OK && solved != SAL_ERR_NOCONV) {
        st = solved;
        goto done;
    }
    for (int w = 0; w < 3 && st == SAL_OK; w++) {
        if (u.n[w] == 0)
            continue;
        if ((st = sal_probe_predict(&pr, &u.X[w], g, pred)))
            break;
        /* a class without training tokens is scored as class C, which no prediction is */
        for (int64_t i = 0; i < u.n[w]; i++)
            ytrue[i] = u.y[w][i] >= 0 ? u.y[w][i] : t.C;
        sal_class_metrics cm;
        if ((st = sal_class_metrics_compute(ytrue, pred, u.n[w], t.C + 1, &cm)))
            break;
        acc[w] = cm.accuracy;
        f1[w] = cm.macro_f1;
        sal_class_metrics_free(&cm);
    }
    if (st)
        goto done;
    if (rank == 0) {
        const sal_model_desc *d = sal_model_get_desc(m);
        printf("probe %s layers %s (%lld neurons), %d classes, lambda1 %g lambda2 %g\n", d->name,
               o->layers, (long long)pr.D, pr.C, o->prm.lambda1, o->prm.lambda2);
        for (int w = 0; w < 3; w++)
            printf("%-5s %8lld tokens  accuracy %.4f  macro-F1 %.4f\n", split_name[w],
                   (long long)u.n[w], acc[w], f1[w]);
        printf("objective %.12g  loss %.12g  optimality violation %.3g (tolerance %.3g)\n",
               pr.objective, pr.loss, pr.violation, o->prm.tol);
        printf("iterations %d  matrix products %d  time %.2f s  ranks %d\n", pr.iterations,
               pr.gemms, pr.seconds, sal_grid_nprow(g) * sal_grid_npcol(g));
        fflush(stdout);
    }
    if (o->out) {
        sal_status ws = SAL_OK;
        if (rank == 0) {
            const sal_model_desc *d = sal_model_get_desc(m);
            sal_probe_meta meta = {.model = d->name,
                                   .model_dir = o->model,
                                   .labels = o->labels,
                                   .layers = o->layers,
                                   .nsel = nsel,
                                   .layer = layers,
                                   .layer_width = d->layer_width,
                                   .C = t.C,
                                   .class_name = t.class_name,
                                   .nsent = t.nsent,
                                   .split = t.split,
                                   .split_fraction = {o->frac[0], o->frac[1], o->frac[2]},
                                   .seed = o->seed,
                                   .params = &o->prm,
                                   .accuracy = {acc[0], acc[1], acc[2]},
                                   .converged = solved == SAL_OK};
            ws = sal_probe_save(o->out, &pr, &meta);
        }
        if ((st = sal_agree(ws, comm)))
            goto done;
    }
    if (solved == SAL_ERR_NOCONV)
        st = sal_agree(sal_fail(SAL_ERR_NOCONV,
                                "the probe did not reach the tolerance %.3g in %d iterations "
                                "(violation %.3g); raise --max-iter or --tol",
                                o->prm.tol, pr.iterations, pr.violation),
                       comm);
done:
    sal_probe_free(&pr);
    sal_probe_problem_free(pb);
    sal_unit_free(&u);
    free(pred);
    free(ytrue);
    sal_grid_free(g);
    sal_model_close(m);
    sal_task_free(&t);
    return st;
}

static void probe_free(void *opts)
{
    free(opts);
}

const cli_command cli_probe_command = {"probe", "train one elastic-net probe", probe_parse,
                                       probe_run, probe_free};
