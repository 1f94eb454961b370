/*
 * job.h - study definitions ("job files", jobs/NAME.cfg): which models, which tasks, the
 * split, the probe settings and the analyses of one `salient run`.
 *
 * A job file is libconfig syntax (https://hyperrealm.github.io/libconfig/); jobs/example.cfg
 * shows and explains every setting:
 *
 *   study    = "name";                      required; letters, digits, '.', '_', '-'
 *   output   = "folder";                    optional (`salient run -o` overrides)
 *   models   = ( { name = "bert"; shards = "models/bert";      required: name, shards
 *                  architecture = "bert-base";                  optional text
 *                  base = "other-model";                        optional: fine-tuned from it
 *                  layers = "all" | "0,2" | "1-3";              optional, default "all"
 *                  control = true; }, ... );                    optional: random weights
 *   tasks    = ( { name = "pos"; labels = "pos.txt"; sentences = "sents.txt"; },
 *                { name = "suffix"; brown = ["ca01", "ca02"]; derive = "suffix"; },
 *                     (derive = "pos-fine" | "pos-coarse" | "pos-upos" | "suffix")
 *                { name = "depth"; values = "depth.txt"; }, ... );
 *   split    = { train = 0.8; dev = 0.1; test = 0.1; seed = 1; };     optional group
 *   probe    = { l1 = 1e-5 | [1e-5, 1e-4]; l2 = ...; tol = 1e-6;      optional group
 *                max_iter = 20000; metric = "auto" | "gram" | "diagonal"; };
 *   analyses = { run = ["layerwise", "minimal", "ablation", "control", "redundancy",
 *                       "crossmodel"];                          required list
 *                delta = 0.01; stride = 100; cluster_t = 0.3; };
 *
 * Relative paths are taken from the job file's folder and stored absolute. Every
 * mistake (libconfig syntax error, unknown setting, wrong type, missing required
 * setting, bad value, duplicate or dangling model name, base cycle, layer selection
 * syntax) is reported as "FILE:LINE: SETTING: problem", one line per mistake, all
 * mistakes of a file in one message. Nothing here is collective: the pipeline's rank 0
 * loads and checks the job before any rank starts work and broadcasts the outcome
 * (or the file's text, for sal_job_parse on every rank).
 *
 * Integers in libconfig are 32-bit unless written with an L suffix (12345678901L):
 * libconfig 1.5 silently wraps a larger literal without it.
 */
#ifndef SALIENT_JOB_H
#define SALIENT_JOB_H

#include <stdint.h>

#include "salient/labels.h"
#include "salient/lca.h"
#include "salient/status.h"

/* How a task's labels arrive. */
enum {
    SAL_JOB_TASK_LABELS = 0, /* NeuroX labels file (+ optional sentences file) */
    SAL_JOB_TASK_BROWN = 1,  /* Brown word/tag files, labels derived by a rule */
    SAL_JOB_TASK_VALUES = 2, /* one real value per token: a ridge (regression) task */
};

/* The label rule of a Brown task: the rules of labels.h (sal_labels_derive), whose values
 * these are; src/extract/README.md describes them. Append only. */
enum {
    SAL_JOB_DERIVE_NONE = -1,                                /* not a Brown task */
    SAL_JOB_DERIVE_POS_FINE = SAL_LABELS_DERIVE_POS_FINE,     /* "pos-fine": the full tag */
    SAL_JOB_DERIVE_POS_COARSE = SAL_LABELS_DERIVE_POS_COARSE, /* "pos-coarse": the base tag */
    SAL_JOB_DERIVE_SUFFIX = SAL_LABELS_DERIVE_SUFFIX, /* "suffix": frequent suffix or OTHER */
    SAL_JOB_DERIVE_POS_UPOS = SAL_LABELS_DERIVE_POS_UPOS, /* "pos-upos": 12 universal tags */
};

/* Analyses (bits of sal_job.analyses; SCIENCE.md section 4). Append only. */
enum {
    SAL_JOB_LAYERWISE = 1 << 0,  /* "layerwise": oracle accuracy per layer and all layers */
    SAL_JOB_MINIMAL = 1 << 1,    /* "minimal": minimal neuron set, layer distribution */
    SAL_JOB_ABLATION = 1 << 2,   /* "ablation": top / random / bottom k, zeroing */
    SAL_JOB_CONTROL = 1 << 3,    /* "control": control task and selectivity */
    SAL_JOB_REDUNDANCY = 1 << 4, /* "redundancy": correlation clustering */
    SAL_JOB_CROSSMODEL = 1 << 5, /* "crossmodel": MaxCorr / MinCorr across models */
};
#define SAL_JOB_NANALYSES 6

typedef struct sal_job_model {
    char *name;         /* unique among the job's models */
    char *shards;       /* absolute path of the model folder (from `salient import`) */
    char *architecture; /* label for tables; "" when not given */
    int base;           /* index in sal_job.models of the base model, -1: none */
    char *layers;       /* "all" or a selection such as "0,2" or "1-3" (sal_parse_layers) */
    int control;        /* 1: a random-weights control model */
    int line;           /* line of the model's group in the job file */
    int shards_line;    /* line of its `shards` setting */
} sal_job_model;

typedef struct sal_job_task {
    char *name;         /* unique among the job's tasks */
    int kind;           /* SAL_JOB_TASK_* */
    char *labels;       /* LABELS: absolute path of the labels file; else NULL */
    char *sentences;    /* LABELS, VALUES: sentences file, NULL: the model's own words */
    char *values;       /* VALUES: absolute path of the per-token values file; else NULL */
    int nbrown;         /* BROWN: number of files; else 0 */
    char **brown;       /* BROWN: nbrown absolute paths, in the order given */
    int derive;         /* BROWN: SAL_JOB_DERIVE_*; else SAL_JOB_DERIVE_NONE */
    int line;           /* line of the task's group */
    int labels_line;    /* line of `labels` (or `values`) */
    int sentences_line; /* line of `sentences` */
    int *brown_line;    /* nbrown lines of the Brown file names */
} sal_job_task;

typedef struct sal_job {
    char *path;            /* the job file, as given */
    char *dir;             /* absolute folder that relative paths were taken from */
    char *study;           /* study name */
    char *output;          /* absolute output folder; NULL when the file names none */
    int nmodels;           /* >= 1 */
    sal_job_model *models; /* in file order */
    int ntasks;            /* >= 1 */
    sal_job_task *tasks;   /* in file order */
    double split[3];       /* train, dev, test fractions (SAL_SPLIT_*): each > 0, sum 1 */
    uint64_t seed;         /* split seed; also the seed of random-k neurons and controls */
    int nl1, nl2;          /* grid sizes, >= 1 */
    double *l1, *l2;       /* lambda1 and lambda2 grids (>= 0, in file order); a grid of
                            * more than one point is searched on dev */
    unsigned analyses;     /* SAL_JOB_* bits, at least one */
    sal_lca_params lca;    /* probe tol, max_iter, metric; lambdas = l1[0], l2[0]; delta,
                            * stride, seed; ablation = the "ablation" bit; cluster_t = the
                            * file's value with "redundancy", else 0 */
} sal_job;

/* Read and check the job file at path into a new *out (NULL on failure). SAL_ERR_IO
 * when the file cannot be read; SAL_ERR_FORMAT with one "FILE:LINE: ..." line per
 * mistake otherwise. Does not look at the files the job names (sal_job_check_files
 * does). Not collective. */
sal_status sal_job_load(const char *path, sal_job **out);

/* The same from the text of a job file: path names it in messages, and relative paths
 * are taken from path's folder. For ranks that receive the text rank 0 read. Not
 * collective. */
sal_status sal_job_parse(const char *text, const char *path, sal_job **out);

/* Check that every file the job names exists and is readable: each model's
 * shards/model.nc (a complete import), each labels, sentences, values and Brown file.
 * SAL_ERR_IO with one "FILE:LINE: SETTING: PATH: reason" line per missing file (FILE:LINE
 * the job file's setting that names it). Not collective. */
sal_status sal_job_check_files(const sal_job *j);

/* Replace the output folder (the `-o` of `salient run`), made absolute against the
 * current directory. */
sal_status sal_job_set_output(sal_job *j, const char *dir);

/* Index of the model (or task) named name, -1 if none. */
int sal_job_find_model(const sal_job *j, const char *name);
int sal_job_find_task(const sal_job *j, const char *name);

/* The name of analysis bit a ("layerwise", ...), of a derive rule, of a task kind;
 * "?" for anything else. */
const char *sal_job_analysis_name(unsigned a);
const char *sal_job_derive_name(int d);
const char *sal_job_kind_name(int kind);

/* Release a job. No operation on NULL. */
void sal_job_free(sal_job *j);

#endif
