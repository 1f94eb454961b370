/*
 * plot.h - a study's figures (SCIENCE.md section 5) through PLplot, as PNG (the
 * pngcairo device) and SVG (the svg device, which keeps text as text):
 *   layers-TASK   heat map, rows = models, columns = layers: the share of each model's
 *                 minimal neuron set that sits in each layer, the value in each cell
 *   curves-TASK   test (solid) and dev (dashed) accuracy of the probe retrained on the
 *                 top k neurons against k, one line per model, the minimal set ringed
 * The caller reads the results (cli_report.c) and hands over plain arrays. Not
 * collective (rank 0 draws); PLplot keeps global state, so not thread-safe either.
 */
#ifndef SALIENT_PLOT_H
#define SALIENT_PLOT_H

#include <stddef.h>

#include "salient/status.h"

/* What the results say about a unit. */
typedef enum sal_plot_state {
    SAL_PLOT_MISSING = 0, /* not run (yet) */
    SAL_PLOT_FAILED = 1,  /* run, and failed */
    SAL_PLOT_OK = 2,      /* run, with results */
} sal_plot_state;

/* One model's unit for one task: the probe on the model's layer selection (not a
 * layer-wise unit). Arrays are borrowed; any may be empty. */
typedef struct sal_plot_unit {
    sal_plot_state state;
    int nlayer;               /* layers of the selection */
    const int *layer;         /* their numbers */
    const double *share;      /* share of the minimal set in each, in [0, 1] */
    int ncurve;               /* prefix sizes tried by the minimal-set search */
    const long long *curve_k; /* ascending neuron counts */
    const double *curve_dev;  /* dev accuracy of the probe retrained on the top k */
    const double *curve_test; /* its test accuracy */
    long long k_min;          /* minimal set size; 0 if not computed */
    long long neurons;        /* neurons of the selection (D) */
} sal_plot_unit;

/* A study's units, model by task. */
typedef struct sal_plot_study {
    const char *name; /* study name for subtitles (NULL: none) */
    int nmodel, ntask;
    const char *const *model;  /* nmodel names: heat map rows, curve legend */
    const char *const *task;   /* ntask names: one figure each */
    const sal_plot_unit *unit; /* nmodel x ntask: unit[m * ntask + t] */
} sal_plot_study;

/* Draw task t's heat map of salient neurons per layer into path, whose extension
 * (.png or .svg) picks the device. The file is written under a temporary name and
 * renamed; on failure nothing is left and the message names path. */
sal_status sal_plot_layers(const sal_plot_study *s, int t, const char *path);

/* Draw task t's accuracy-vs-neurons curves into path (.png or .svg), as above. */
sal_status sal_plot_curves(const sal_plot_study *s, int t, const char *path);

/* Create dir if needed and write every figure into it: layers-TASK.{png,svg} and
 * curves-TASK.{png,svg}, TASK being the task name with characters other than letters,
 * digits, '.', '_' and '-' replaced by '_'. *nfile (may be NULL) gets the number of
 * files written. Stops at the first failure. */
sal_status sal_plot_write(const sal_plot_study *s, const char *dir, int *nfile);

/* The file stem of task t ("TASK" above; distinct across tasks), into buf. */
void sal_plot_task_stem(const sal_plot_study *s, int t, char *buf, size_t size);

#endif
