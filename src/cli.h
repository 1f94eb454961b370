/*
 * cli.h - the salient command's subcommands.
 *
 * A subcommand parses its arguments with argp before MPI_Init (help, --version and
 * usage errors leave every rank the same way, before any collective work), then
 * runs collectively over MPI_COMM_WORLD.
 */
#ifndef SALIENT_CLI_H
#define SALIENT_CLI_H

#include <mpi.h>

#include "salient/grid.h"
#include "salient/status.h"

typedef struct cli_command {
    const char *name;    /* word on the command line */
    const char *summary; /* one line for `salient --help` */
    /* Parse argv (argv[0] is "salient NAME"); exits through argp on --help or a usage
     * error. Returns options for run, or NULL when out of memory. */
    void *(*parse)(int argc, char **argv);
    /* Run. Collective over comm; every rank returns the same status. */
    sal_status (*run)(void *opts, MPI_Comm comm);
    void (*free)(void *opts);
} cli_command;

extern const cli_command cli_import_command;
extern const cli_command cli_inspect_command;
extern const cli_command cli_probe_command;
extern const cli_command cli_run_command;
extern const cli_command cli_compare_command;
extern const cli_command cli_report_command;

/* Write the tables of the study in dir (salient report). Collective over comm. */
sal_status cli_report_dir(const char *dir, MPI_Comm comm);

/* Exit-code table for --help texts. */
#define CLI_EXIT_DOC                                                                       \
    "Exit status: 0 success, 64 usage error, 65 bad input data, 70 internal error, "       \
    "73 output exists, 74 I/O error."

#endif
