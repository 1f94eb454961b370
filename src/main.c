/*
 * main.c - `salient COMMAND [OPTIONS]`: find the salient neurons of NLP models.
 *
 * Arguments are parsed before MPI_Init so that --help, --version and usage errors
 * end every rank the same way; ranks other than 0 (known from the launcher's
 * environment) parse silently. Then MPI starts and the command runs collectively.
 */
#include <argp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "cli.h"
#include "salient/version.h"

const char *argp_program_version = "salient " SALIENT_VERSION_STRING;
const char *argp_program_bug_address = "the salient issue tracker";

static const cli_command *const commands[] = {&cli_import_command, &cli_inspect_command,
                                              &cli_probe_command, &cli_run_command,
                                              &cli_compare_command, &cli_report_command};
#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

/* The commands, listed in --help as documentation entries. */
static const struct argp_option top_options[] = {
    {NULL, 0, NULL, 0, "Commands:", 1},
    {"import", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "convert NeuroX activation files (HDF5 or JSON lines) into salient shards", 1},
    {"inspect", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "summarize a model's shards: layers, widths, sentences, tokens, statistics", 1},
    {"probe", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "train one elastic-net probe on a model's layers for a token task", 1},
    {"run", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "run a study (job file): every model x layer x task, resumable", 1},
    {"report", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "write a study's tables (layer-wise, cross-architecture, fine-tuning): CSV, Markdown, LaTeX",
     1},
    {"compare", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
     "compare two studies' results figure by figure (nightly reproduction)", 1},
    {NULL, 0, NULL, 0, "Options:", 2},
    {0}};

static const char doc[] =
    "salient -- find the salient neurons of NLP models (Linguistic Correlation Analysis) "
    "at cluster scale.\v"
    "`salient COMMAND --help` explains each command. Run under MPI with "
    "`mpirun -np N salient ...` or `srun --mpi=pmix salient ...`.\n\n" CLI_EXIT_DOC;

typedef struct top_args {
    int cmd_index; /* argv index of the command word, 0 if none */
} top_args;

static error_t top_parse(int key, char *arg, struct argp_state *state)
{
    top_args *a = state->input;
    switch (key) {
    case ARGP_KEY_ARG:
        a->cmd_index = state->next - 1;
        state->next = state->argc; /* the command parses the rest */
        return 0;
    case ARGP_KEY_NO_ARGS:
        argp_usage(state);
        return 0;
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

/* This process's rank as the launcher announced it, before MPI_Init; 0 if unknown. */
static int launcher_rank(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct argp top = {top_options, top_parse, "COMMAND [ARG...]", doc, NULL, NULL,
                                    NULL};
    top_args ta = {0};
    int saved_out = -1, saved_err = -1;
    if (launcher_rank() != 0) {
        /* only rank 0 speaks while parsing; the others exit the same way in silence */
        int null = open("/dev/null", O_WRONLY);
        saved_out = dup(STDOUT_FILENO);
        saved_err = dup(STDERR_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
    argp_parse(&top, argc, argv, ARGP_IN_ORDER, NULL, &ta);
    const char *name = argv[ta.cmd_index];
    const cli_command *cmd = NULL;
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i]->name) == 0)
            cmd = commands[i];
    if (!cmd) {
        fprintf(stderr, "salient: unknown command '%s'\n"
                        "Try `salient --help' for the list of commands.\n", name);
        exit(64);
    }
    char prog[64];
    snprintf(prog, sizeof(prog), "salient %s", cmd->name);
    argv[ta.cmd_index] = prog;
    void *opts = cmd->parse(argc - ta.cmd_index, argv + ta.cmd_index);
    if (!opts) {
        fprintf(stderr, "salient: out of memory\n");
        exit(70);
    }
    if (saved_out >= 0) {
        dup2(saved_out, STDOUT_FILENO);
        dup2(saved_err, STDERR_FILENO);
        close(saved_out);
        close(saved_err);
    }

    /* `salient run` keeps rank 0's books in a second thread while rank 0 computes a unit
     * (study.c); with less than MPI_THREAD_MULTIPLE rank 0 only keeps the books. */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    sal_status st = cmd->run(opts, MPI_COMM_WORLD);
    if (st != SAL_OK && rank == 0)
        fprintf(stderr, "salient %s: error: %s\n", cmd->name, sal_errmsg());
    cmd->free(opts);
    MPI_Finalize();
    return sal_exit_code(st);
}
