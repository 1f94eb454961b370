/* cli_inspect.c - `salient inspect MODEL_DIR...`: summarize activation shards. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "salient/inspect.h"

typedef struct inspect_opts {
    int ndirs;
    char **dirs;
} inspect_opts;

static const char inspect_doc[] =
    "Summarize the activation shards of one or more models: name, architecture, base "
    "model, pooling, sentences, tokens, shards, layers and widths, and per layer the "
    "mean, standard deviation, minimum and maximum of the activations. Reads every "
    "shard, so it also checks that none is truncated or corrupt.\v" CLI_EXIT_DOC;

static error_t inspect_parse_opt(int key, char *arg, struct argp_state *state)
{
    inspect_opts *o = state->input;
    switch (key) {
    case ARGP_KEY_ARG:
        o->dirs[o->ndirs++] = arg;
        return 0;
    case ARGP_KEY_NO_ARGS:
        argp_error(state, "no MODEL_DIR given");
        return 0;
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *inspect_parse(int argc, char **argv)
{
    static const struct argp argp = {NULL, inspect_parse_opt, "MODEL_DIR...", inspect_doc,
                                     NULL, NULL, NULL};
    inspect_opts *o = calloc(1, sizeof(*o));
    if (!o || !(o->dirs = calloc((size_t)argc, sizeof(*o->dirs)))) {
        free(o);
        return NULL;
    }
    argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

static sal_status inspect_run(void *opts, MPI_Comm comm)
{
    inspect_opts *o = opts;
    int rank;
    sal_status st = SAL_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        for (int i = 0; i < o->ndirs && st == SAL_OK; i++) {
            sal_model *m = NULL;
            if (i > 0)
                printf("\n");
            st = sal_model_open(o->dirs[i], &m);
            if (st == SAL_OK)
                st = sal_inspect_print(m, stdout);
            sal_model_close(m);
        }
        fflush(stdout);
    }
    return sal_agree(st, comm);
}

static void inspect_free(void *opts)
{
    inspect_opts *o = opts;
    if (o)
        free(o->dirs);
    free(o);
}

const cli_command cli_inspect_command = {"inspect", "summarize a model's shards", inspect_parse,
                                         inspect_run, inspect_free};
