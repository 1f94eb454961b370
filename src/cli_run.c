/* cli_run.c - `salient run JOB [-o OUTDIR]`: a whole study under MPI. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "salient/study.h"

typedef struct run_opts {
    const char *job;
    const char *out;
} run_opts;

static const struct argp_option run_options[] = {
    {"output", 'o', "OUTDIR", 0, "output folder (default: the job's `output`)", 0},
    {0}};

static const char run_doc[] =
    "Run a study: every model x layer x task of the job file, handed out by rank 0 to the "
    "other ranks (largest first), each finished unit journaled in OUTDIR/journal.tsv and "
    "stored in OUTDIR/units/ at once, all of them in OUTDIR/results.nc at the end.\v"
    "Running the same command again resumes: units already done are not recomputed, failed "
    "ones are retried. SIGTERM or SIGINT (Slurm's warning before a time limit) stops handing "
    "out work; the run then saves and exits 75 (resumable). A unit that fails is recorded "
    "with its message and the others go on; the run then exits 3.\n\n"
    "Example:\n  mpirun -np 4 salient run jobs/brown-demo.cfg -o out/brown-demo\n\n"
    "Exit status: 0 all units done, 3 some units failed, 75 interrupted (run again to "
    "resume), 64 usage error, 65 bad job or input data, 74 I/O error.";

static error_t run_parse_opt(int key, char *arg, struct argp_state *state)
{
    run_opts *o = state->input;
    switch (key) {
    case 'o': o->out = arg; return 0;
    case ARGP_KEY_ARG:
        if (o->job)
            argp_error(state, "one JOB file, please ('%s' is a second)", arg);
        o->job = arg;
        return 0;
    case ARGP_KEY_END:
        if (!o->job)
            argp_error(state, "no JOB file given");
        return 0;
    default:
        return ARGP_ERR_UNKNOWN;
    }
}

static void *run_parse(int argc, char **argv)
{
    static const struct argp argp = {run_options, run_parse_opt, "JOB", run_doc, NULL, NULL,
                                     NULL};
    run_opts *o = calloc(1, sizeof(*o));
    if (o)
        argp_parse(&argp, argc, argv, 0, NULL, o);
    return o;
}

/* Rank 0 reads and checks the job (every mistake as file:line), then every rank parses
 * the same text. Collective. */
static sal_status load_job(const run_opts *o, MPI_Comm comm, sal_job **job)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char *text = NULL;
    long len = 0;
    sal_status st = SAL_OK;
    *job = NULL;
    if (rank == 0) {
        sal_job *j = NULL;
        st = sal_job_load(o->job, &j);
        if (st == SAL_OK && o->out)
            st = sal_job_set_output(j, o->out);
        if (st == SAL_OK && !j->output)
            st = sal_fail(SAL_ERR_ARG, "%s: no `output` in the job and no -o OUTDIR", o->job);
        if (st == SAL_OK)
            st = sal_job_check_files(j);
        sal_job_free(j);
        FILE *f = st == SAL_OK ? fopen(o->job, "rb") : NULL;
        if (st == SAL_OK && (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
                             fseek(f, 0, SEEK_SET) || !(text = calloc((size_t)len + 1, 1)) ||
                             fread(text, 1, (size_t)len, f) != (size_t)len))
            st = sal_fail(SAL_ERR_IO, "%s: cannot read", o->job);
        if (f)
            fclose(f);
    }
    if ((st = sal_agree(st, comm))) {
        free(text);
        return st;
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
    if (rank != 0 && !(text = calloc((size_t)len + 1, 1)))
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    if ((st = sal_agree(st, comm)) == SAL_OK) {
        MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm);
        st = sal_job_parse(text, o->job, job);
        if (st == SAL_OK && o->out)
            st = sal_job_set_output(*job, o->out);
        st = sal_agree(st, comm);
    }
    free(text);
    return st;
}

static sal_status run_run(void *opts, MPI_Comm comm)
{
    run_opts *o = opts;
    int rank;
    MPI_Comm_rank(comm, &rank);
    sal_job *job = NULL;
    sal_study_summary sum;
    sal_status st = load_job(o, comm, &job);
    if (st == SAL_OK)
        st = sal_study_run(job, comm, &sum);
    if (st == SAL_OK) {
        if (rank == 0) {
            printf("study %s: %d units: %d done now, %d done before, %d failed, %.1f s%s\n",
                   job->study, sum.units, sum.done, sum.skipped, sum.failed, sum.seconds,
                   sum.interrupted ? " (interrupted: run the same command again to resume)"
                                   : "");
            printf("results: %s/results.nc, journal: %s/journal.tsv\n", job->output,
                   job->output);
            printf("scheduling: rank 0 spent %.3f ms per unit on bookkeeping; workers were idle "
                   "%.1f%% of the time\n",
                   sum.books_ms_per_unit, 100 * sum.idle_share);
            fflush(stdout);
        }
        if (!sum.interrupted)
            st = cli_report_dir(job->output, comm); /* the tables, failed cells marked */
        if (st == SAL_OK && sum.interrupted)
            st = sal_fail(SAL_ERR_INTERRUPTED, "stopped by a signal after %d units; the rest "
                          "resumes with the same command", sum.done);
        else if (st == SAL_OK && sum.failed)
            st = sal_fail(SAL_ERR_UNITS_FAILED, "%d of %d units failed (see %s/journal.tsv)",
                          sum.failed, sum.units, job->output);
    }
    sal_job_free(job);
    return st;
}

static void run_free(void *opts)
{
    free(opts);
}

const cli_command cli_run_command = {"run", "run a study", run_parse, run_run, run_free};
