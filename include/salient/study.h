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
 * intact) and retries failed ones.
 */
#ifndef SALIENT_STUDY_H
#define SALIENT_STUDY_H

#include <mpi.h>

#include "salient/job.h"

/* One unit of work. */
typedef struct sal_study_unit {
    int model;       /* index in the job's models */
    int task;        /* index in the job's tasks */
    int layer;       /* a single layer, or -1 for the model's selection (the full analyses) */
    double cost;     /* estimated work: tokens x neurons */
    char id[256];    /* "MODEL/LAYER/TASK", LAYER as "L3" or "all" (or the selection) */
} sal_study_unit;

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

/* Run the study into job->output: rank 0 schedules (largest units first), the other
 * ranks compute; with one rank, rank 0 computes too. SIGTERM or SIGINT stops handing
 * out work; the run then returns with summary->interrupted set. Collective over comm. */
sal_status sal_study_run(const sal_job *job, MPI_Comm comm, sal_study_summary *summary);

/* The file and group name of a unit id: '/' becomes "__", anything but letters,
 * digits, '-' and '_' becomes '_' ("use-lite/L0/pos" -> "use-lite__L0__pos"). */
void sal_study_unit_name(const char *id, char *out, size_t n);

/* Ask a running study to stop (async-signal-safe: sets a flag). */
void sal_study_request_stop(void);

#endif
