/* cli_import.c - `salient import`: NeuroX activation files into salient shards. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "salient/import.h"

typedef struct import_opts {
    sal_import_params p;
    const char **inputs;
    int format_set; /* --format was given */
    int quiet;
} import_opts;

enum { OPT_ARCH = 1000, OPT_BASE, OPT_POOLING, OPT_TOKENS, OPT_SHARD, OPT_FORCE };

static const struct argp_option import_options[] = {
    {"format", 'f', "FORMAT", 0,
     "neurox-hdf5 (one file, or NAME-layer0.hdf5 and its per-layer siblings) or neurox-json "
     "(JSON lines)", 0},
    {"model", 'm', "NAME", 0, "model name recorded in the shards (required)", 0},
    {"output", 'o', "MODEL_DIR", 0, "folder to create (required); nothing appears there "
     "unless the whole import succeeds", 0},
    {"tokens", OPT_TOKENS, "SENTENCES.txt", 0, "NeuroX sentences file (one sentence per line): "
     "every sentence's words must equal it", 0},
    {"shard-sentences", OPT_SHARD, "N", 0, "sentences per shard file (default 1000)", 0},
    {"architecture", OPT_ARCH, "LABEL", 0, "architecture label, e.g. transformer, glove", 0},
    {"base-model", OPT_BASE, "NAME", 0, "the model this one was fine-tuned from", 0},
    {"pooling", OPT_POOLING, "HOW", 0, "sub-word pooling the extractor used: first, last "
     "(default, as NeuroX), average or none", 0},
    {"force", OPT_FORCE, NULL, 0, "replace MODEL_DIR if it exists", 0},
    {"quiet", 'q', NULL, 0, "print nothing on success", 0},
    {0}};

static const char import_doc[] =
    "Convert NeuroX activation files into salient activation shards (NetCDF-4).\v"
    "INPUT is a NeuroX HDF5 file (datasets \"0\", \"1\", ... of shape (layers, tokens, dim), "
    "float32 or float16, and sentence_to_index), NeuroX's per-layer files NAME-layer0.hdf5, "
    "NAME-layer1.hdf5, ... (give the -layer0 file alone and the rest are found), or a JSON "
    "lines file. Everything is checked: the same layers and widths in every sentence, no "
    "NaN or Inf, and the words against --tokens.\n\n"
    "Example:\n  salient import --format=neurox-hdf5 --model=bert-base --tokens=train.txt "
    "-o models/bert-base bert-activations.hdf5\n\n" CLI_EXIT_DOC;

static error_t import_parse_opt(int key, char *arg, struct argp_state *state)
{
    import_opts *o = state->input;
    char *end;
    switch (key) {
    case 'f':
        if (strcmp(arg, "neurox-hdf5") == 0)
            o->p.format = SAL_IMPORT_NEUROX_HDF5;
        else if (strcmp(arg, "neurox-json") == 0)
            o->p.format = SAL_IMPORT_NEUROX_JSON;
        else
            argp_error(state, "--format: '%s' is not neurox-hdf5 or neurox-json", arg);
        o->format_set = 1;
        return 0;
    case 'm': o->p.model_name = arg; return 0;
    case 'o': o->p.out_dir = arg; return 0;
    case 'q': o->quiet = 1; return 0;
    case OPT_TOKENS: o->p.tokens_path = arg; return 0;
    case OPT_ARCH: o->p.architecture = arg; return 0;
    case OPT_BASE: o->p.base_model = arg; return 0;
    case OPT_POOLING:
        if (strcmp(arg, "first") && strcmp(arg, "last") && strcmp(arg, "average") &&
            strcmp(arg, "none"))
            argp_error(state, "--pooling: '%s' is not first, last, average or none", arg);
        o->p.pooling = arg;
        return 0;
    case OPT_SHARD:
        o->p.shard_sentences = strtoll(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || o->p.shard_sentences < 1)
            argp_error(state, "--shard-sentences: '%s' is not a positive integer", arg);
        return 0;
    case OPT_FORCE: o->p.overwrite = 1; return 0;
    case ARGP_KEY_ARG: o->inputs[o->p.ninputs++] = arg; return 0;
    case ARGP_KEY_END: {
        const char *msg = NULL;
        if (!o->format_set)
            msg = "--format=neurox-hdf5|neurox-json is required";
        else if (o->p.ninputs == 0)
            msg = "no INPUT file given";
        else if (!o->p.model_name)
            msg = "--model=NAME is required";
        else if (!o->p.out_dir)
            msg = "-o MODEL_DIR is required";
        else
            msg = sal_import_check(&o->p);
        if (msg)
            argp_error(state, "%s", msg);
        return 0;
    }
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *import_parse(int argc, char **argv)
{
    static const struct argp argp = {import_options, import_parse_opt, "INPUT...", import_doc,
                                     NULL, NULL, NULL};
    import_opts *o = calloc(1, sizeof(*o));
    if (!o || !(o->inputs = calloc((size_t)argc, sizeof(*o->inputs)))) {
        free(o);
        return NULL;
    }
    o->p.format = SAL_IMPORT_NEUROX_HDF5;
    o->p.shard_sentences = 1000;
    o->p.inputs = o->inputs;
    argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

static sal_status import_run(void *opts, MPI_Comm comm)
{
    import_opts *o = opts;
    int rank;
    sal_status st = SAL_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        sal_import_summary sum;
        st = sal_import_run(&o->p, &sum);
        if (st == SAL_OK && !o->quiet)
            printf("imported %s: %lld sentences, %lld tokens, %d layers (%lld neurons), "
                   "%lld shards -> %s\n",
                   o->p.model_name, (long long)sum.nsent, (long long)sum.ntok, sum.nlayers,
                   (long long)sum.total_width, (long long)sum.nshards, o->p.out_dir);
        fflush(stdout);
    }
    return sal_agree(st, comm);
}

static void import_free(void *opts)
{
    import_opts *o = opts;
    if (o)
        free(o->inputs);
    free(o);
}

const cli_command cli_import_command = {"import",
                                        "convert NeuroX activation files into shards",
                                        import_parse, import_run, import_free};
