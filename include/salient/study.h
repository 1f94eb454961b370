/*
 * study.h - a whole study: a job expanded into units (model x layer selection x
 * task), handed out by rank 0 to worker ranks, every finished unit journaled and
 * stored, resumable after a crash or a signal.
 *
 * Output folder:
 *   journal.tsv         one line per finished unit, flushed and synced:
 *                       "ok<TAB>UNIT<TAB>units/FILE.rec" or "failed<TAB>UNIT<TAB>MESSAGE"
 *   units/NAME.rec      each finished unit's results record (record.h bytes)
 *   results.nc          every unit as a NetCDF-4 group, written at the end
 * Running again on the same folder skips the units journaled ok (whose record is
 * intact) and retries failed ones. Progress goes to stdout: a line per finished unit,
 * and a bar (on a terminal) or a status line every few seconds (in a log).
 */
#ifndef SALIENT_STUDY_H
#define SALIENT_STUDY_H

#include <mpi.h>

#include "salient/job.h"

/* Kinds of unit. */
enum {
    SAL_UNIT_PROBE = 0,     /* probes of one task (layer-wise, or the selection's analyses) */
    SAL_UNIT_CROSSMODEL = 1 /* the selection's cross-model correlations (no task) */
};

/* One unit of work. */
typedef struct sal_study_unit {
    int kind;        /* SAL_UNIT_* */
    int model;       /* index in the job's models */
    int task;        /* index in the job's tasks (-1 for a cross-model unit) */
    int layer;       /* a single layer, or -1 for the model's selection (the full analyses) */
    double cost;     /* estimated work (rough flops: study.c), for the order and the ETA */
    double bytes;    /* estimated memory of the unit on one rank */
    int ranks;       /* ranks it needs at the run's memory per rank (sal_study_plan) */
    char id[256];    /* "MODEL/LAYER/TASK", LAYER as "L3" or "all" (or the selection);
                      * "MODEL/LAYERS/crossmodel" for a cross-model unit */
} sal_study_unit;

/* How a run uses its ranks. */
typedef struct sal_study_opts {
    double mem_per_rank;   /* bytes a rank may use; 0: the node's memory / its ranks x 0.8 */
    double progress_every; /* seconds between progress lines in a log (not a terminal);
                            * 0: 10 s */
    int books_only;        /* 1: rank 0 only keeps the books, even with other ranks */
    int bar;               /* 1: progress as a bar redrawn in place (for a terminal) */
} sal_study_opts;

/* Outcome of a run. */
typedef struct sal_study_summary {
    int units;       /* in the study */
    int skipped;     /* already done by an earlier run */
    int done;        /* finished ok in this run */
    int failed;      /* failed (journaled with their message) */
    int interrupted; /* 1 if a signal stopped the run before the end */
    double seconds;
    double books_ms_per_unit; /* rank 0's bookkeeping per finished unit (rank 0 only) */
    double idle_share;        /* workers' time waiting for work / their wall time (rank 0) */
} sal_study_summary;

/* Expand the job into units (rank 0: opens every model's index for its layers and
 * size; a model that cannot be opened fails naming the job file line). Not collective. */
sal_status sal_study_units(const sal_job *job, sal_study_unit **units, int *n);

/* Run the study into job->output. Rank 0 keeps the books in a thread of its own and
 * hands units out (largest first, preferring a unit on the activations a group already
 * holds) to worker groups; it computes units itself too (unless opts->books_only, or
 * MPI gives less than MPI_THREAD_MULTIPLE). A unit whose estimated memory exceeds
 * opts->mem_per_rank runs on a group of ranks with its own BLACS grid: the workers
 * are split once into groups of the largest size any unit needs (as many as there
 * are such units and ranks for) and single ranks. SIGTERM or SIGINT stops handing out
 * work; the run then returns with summary->interrupted set. Collective over comm. */
sal_status sal_study_run(const sal_job *job, const sal_study_opts *opts, MPI_Comm comm,
                         sal_study_summary *summary);

/* The file and group name of a unit id: '/' becomes "__", anything but letters,
 * digits, '-' and '_' becomes '_' ("use-lite/L0/pos" -> "use-lite__L0__pos"). */
void sal_study_unit_name(const char *id, char *out, size_t n);

/* Ask a running study to stop (async-signal-safe: sets a flag). */
void sal_study_request_stop(void);

#endif
