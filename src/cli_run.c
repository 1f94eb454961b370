/* cli_run.c - `salient run JOB [-o OUTDIR] [options]`: a whole study under MPI. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "salient/study.h"

typedef struct run_opts {
    const char *job;
    const char *out;
    int progress; /* 0 auto, 1 bar, 2 log */
    sal_study_opts study;
} run_opts;

enum { OPT_MEM = 1000, OPT_PROGRESS, OPT_EVERY, OPT_BOOKS_ONLY };

static const struct argp_option run_options[] = {
    {"output", 'o', "OUTDIR", 0, "output folder (default: the job's `output`)", 0},
    {"memory-per-rank", OPT_MEM, "SIZE", 0,
     "memory a rank may use, e.g. 4G, 512M (default: the node's memory shared by its ranks, "
     "less a fifth); a unit estimated above it runs on a group of ranks", 0},
    {"progress", OPT_PROGRESS, "MODE", 0,
     "auto (a bar on a terminal when run without mpirun/srun, else lines), bar, or log (a "
     "line every --progress-every seconds; what a Slurm output file wants)", 0},
    {"progress-every", OPT_EVERY, "SECONDS", 0, "seconds between progress lines (default 10)", 0},
    {"books-only", OPT_BOOKS_ONLY, 0, 0,
     "rank 0 only keeps the books (by default it computes units too, in a second thread)", 0},
    {0}};

/* "4G", "512M", "100k", "123456" (bytes) -> bytes; -1 if malformed. */
static double parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0)
        return -1;
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1048576.0; end++; break;
    case 'g': case 'G': mult = 1073741824.0; end++; break;
    case 't': case 'T': mult = 1099511627776.0; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    return *end ? -1 : v * mult;
}

static const char run_doc[] =
    "Run a study: every model x layer x task of the job file (and, with the crossmodel "
    "analysis, each model against the others), handed out by rank 0, largest first, to "
    "the ranks; rank 0 keeps the books in a thread of its own and computes units too. A "
    "unit estimated above --memory-per-rank runs on a group of ranks with its own BLACS "
    "grid. Each finished unit is journaled in OUTDIR/journal.tsv and stored in OUTDIR/units/ "
    "at once; all of them go into OUTDIR/results.nc at the end, then the tables and plots "
    "(salient report).\v"
    "Running the same command again resumes: units already done are not recomputed, failed "
    "ones are retried. SIGTERM or SIGINT (Slurm's warning before a time limit) stops handing "
    "out work; the run then saves and exits 75 (resumable). A unit that fails is recorded "
    "with its message and the others go on; the run then exits 3.\n\n"
    "Progress: a line per finished unit, and a bar on a terminal or a status line (units "
    "done / total, running, failed, elapsed, ETA) every --progress-every seconds in a log.\n\n"
    "Example:\n  mpirun -np 4 salient run jobs/brown-demo.cfg -o out/brown-demo/study\n\n"
    "Exit status: 0 all units done, 3 some units failed, 75 interrupted (run again to "
    "resume), 64 usage error, 65 bad job or input data, 74 I/O error.";

static error_t run_parse_opt(int key, char *arg, struct argp_state *state)
{
    run_opts *o = state->input;
    switch (key) {
    case 'o': o->out = arg; return 0;
    case OPT_MEM:
        if ((o->study.mem_per_rank = parse_size(arg)) <= 0)
            argp_error(state, "--memory-per-rank: '%s' is not a size such as 4G or 512M", arg);
        return 0;
    case OPT_PROGRESS:
        if (strcmp(arg, "auto") == 0)
            o->progress = 0;
        else if (strcmp(arg, "bar") == 0)
            o->progress = 1;
        else if (strcmp(arg, "log") == 0)
            o->progress = 2;
        else
            argp_error(state, "--progress: '%s' is not auto, bar or log", arg);
        return 0;
    case OPT_EVERY: {
        char *end;
        o->study.progress_every = strtod(arg, &end);
        if (*end || !(o->study.progress_every > 0))
            argp_error(state, "--progress-every: '%s' is not a positive number of seconds", arg);
        return 0;
    }
    case OPT_BOOKS_ONLY: o->study.books_only = 1; return 0;
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
    if (st == SAL_OK) {
        /* mpirun hands its ranks a pseudo-terminal even when its own output goes to a
         * file, so under a launcher "auto" means lines (--progress=bar asks for it) */
        int launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") ||
                       getenv("PMIX_RANK") || getenv("SLURM_PROCID");
        o->study.bar = o->progress == 1 || (o->progress == 0 && !launched && isatty(STDOUT_FILENO));
        st = sal_study_run(job, &o->study, comm, &sum);
    }
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
