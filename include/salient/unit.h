/*
 * unit.h - a unit's data: a task's labels aligned with a model's words, the sentence
 * split, control labels, and the split activation matrices of a layer selection.
 * Rank 0 reads the task (sal_task_read), every rank receives it (sal_task_share),
 * then the grid loads its matrices (sal_unit_load).
 */
#ifndef SALIENT_UNIT_H
#define SALIENT_UNIT_H

#include <stdint.h>

#include "salient/pmat.h"
#include "salient/shard.h"

/* Where a task's labels come from: a NeuroX labels file (with its sentences file, or
 * aligned with the model's own words), or Brown word/tag files and the rule that derives
 * labels from their tags (sal_labels_derive). */
typedef struct sal_task_source {
    const char *labels;          /* NeuroX labels file, or NULL */
    const char *sentences;       /* its sentences file, or NULL: the model's words */
    int nbrown;                  /* Brown files, or 0 */
    const char *const *brown;    /* their paths */
    int derive;                  /* Brown: SAL_LABELS_DERIVE_* (0: the full tags); else unused */
} sal_task_source;

typedef struct sal_task_data {
    int64_t nsent, ntok;
    int64_t *sent_start; /* nsent + 1 token offsets */
    int8_t *split;       /* nsent: SAL_SPLIT_* */
    int C;               /* classes with training tokens */
    int32_t *label;      /* ntok: class in [0, C), -1 for a class without training tokens */
    int32_t *control;    /* ntok control-task labels in [0, C) or -1; NULL if not asked */
    char **class_name;   /* C names (rank 0 only; NULL elsewhere) */
} sal_task_data;

/* Rank 0: read the task, check it word by word against the model's words (messages
 * name file:line:token), split the model's sentences (fractions, seed), keep the
 * classes present in train (ids in sorted order of their names), and if control is
 * nonzero draw control labels per word type (seed + 1). Not collective. */
sal_status sal_task_read(sal_model *m, const char *model_name, const sal_task_source *src,
                         const double frac[3], uint64_t seed, int control, sal_task_data *t);

/* Send rank 0's task to every rank of comm (class names stay on rank 0). Collective. */
sal_status sal_task_share(sal_task_data *t, MPI_Comm comm);

/* Release a task. No operation on NULL. */
void sal_task_free(sal_task_data *t);

/* The split matrices of a unit: rows of train, dev, test. */
typedef struct sal_unit_matrices {
    sal_pmat X[3];     /* n[s] x D activations of the selection */
    int64_t n[3];      /* rows */
    int64_t *tok[3];   /* global token of each row */
    int32_t *y[3];     /* task labels of the rows */
    int32_t *yc[3];    /* control labels of the rows (NULL without a control task) */
} sal_unit_matrices;

/* Load the unit's matrices for layers[nsel] of m on grid g. A split with no sentence
 * gets a 0-row matrix. Collective over the grid's communicator. */
sal_status sal_unit_load(sal_model *m, int nsel, const int *layers, const sal_task_data *t,
                         const sal_grid *g, sal_unit_matrices *u);

/* Give loaded matrices the labels (and control labels) of another task of the same
 * model, keeping the activations: the task's split must give the same rows (else
 * SAL_ERR_ARG, and u is unchanged but for labels). Not collective. */
sal_status sal_unit_relabel(sal_unit_matrices *u, const sal_task_data *t);

/* Release a unit's matrices. No operation on NULL. */
void sal_unit_free(sal_unit_matrices *u);

#endif
