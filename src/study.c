/*
 * study.c - a whole study: units, scheduling, journal, resume (see study.h).
 *
 * Rank 0 keeps the books: it expands the job, skips what the journal says is done,
 * and hands units out largest first to whichever worker group asks (one message
 * each way per unit), preferring among equally large units one on the activations
 * the group already holds. The books run in a thread of their own (polling, so an
 * idle rank 0 costs no core) while rank 0's main thread computes units too. A group
 * computes a unit on its own BLACS grid, keeping the last model, task and matrices
 * it loaded so that the next unit on the same activations does not read them again,
 * and its leader sends back the unit's results record (record.h) or its error
 * message. Rank 0 stores each record under a temporary name, renames it, appends a
 * line to the journal and syncs both before it hands out more work, so a run killed
 * at any moment loses at most the units in flight.
 */
#include "salient/study.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netcdf.h>

#include "salient/correlation.h"
#include "salient/dataset.h"
#include "salient/grid.h"
#include "salient/record.h"
#include "salient/unit.h"

enum { TAG_HEAD = 11, TAG_DATA = 12, TAG_WORK = 13 };
enum { MSG_READY = 0, MSG_RESULT = 1 };

void sal_study_request_stop(void)
{
    sal_request_stop();
}

/* SIGTERM / SIGINT: no new units, and the running probes stop at their next check. */
static void on_signal(int sig)
{
    (void)sig;
    sal_request_stop();
}

/* ---- units --------------------------------------------------------------------- */

/* Estimated bytes of a unit on one rank: the activations of every split in double
 * precision with room for a centered copy and column subsets, and the replicated
 * D x D matrices (Gram metric, correlations). */
static double unit_bytes(double ntok, double width)
{
    return ntok * width * 8.0 * 2.5 + width * width * 8.0 * 3.0;
}

static sal_status grow_units(sal_study_unit **u, int count, int *cap)
{
    if (count < *cap)
        return SAL_OK;
    int nc = *cap ? 2 * *cap : 64;
    sal_study_unit *q = realloc(*u, sizeof(*q) * (size_t)nc);
    if (!q)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    *u = q;
    *cap = nc;
    return SAL_OK;
}

sal_status sal_study_units(const sal_job *job, sal_study_unit **units, int *n)
{
    sal_status st = SAL_OK;
    int cap = 0, count = 0;
    sal_study_unit *u = NULL;
    int64_t *sel_width = calloc((size_t)job->nmodels, sizeof(*sel_width));
    double *model_tok = calloc((size_t)job->nmodels, sizeof(*model_tok));
    if (!sel_width || !model_tok)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    for (int mi = 0; mi < job->nmodels && st == SAL_OK; mi++) {
        const sal_job_model *jm = &job->models[mi];
        sal_model *m = NULL;
        int layers[SAL_MAX_LAYERS], nsel = 0;
        if ((st = sal_model_open(jm->shards, &m))) {
            sal_fail_context(st, "%s:%d: model %s", job->path, jm->shards_line, jm->name);
            break;
        }
        const sal_model_desc *d = sal_model_get_desc(m);
        if ((st = sal_parse_layers(jm->layers, d->nlayers, layers, &nsel))) {
            sal_fail_context(st, "%s:%d: model %s", job->path, jm->line, jm->name);
            sal_model_close(m);
            break;
        }
        double ntok = (double)sal_model_ntok(m);
        int64_t width = sal_model_width(m, nsel, layers);
        sel_width[mi] = width;
        model_tok[mi] = ntok;
        int per_layer = nsel > 1 && (job->analyses & SAL_JOB_LAYERWISE);
        for (int ti = 0; ti < job->ntasks && st == SAL_OK; ti++)
            for (int k = per_layer ? 0 : nsel; k <= nsel; k++) {
                if ((st = grow_units(&u, count, &cap)))
                    break;
                sal_study_unit *x = &u[count++];
                memset(x, 0, sizeof(*x));
                x->kind = SAL_UNIT_PROBE;
                x->model = mi;
                x->task = ti;
                x->layer = k < nsel ? layers[k] : -1;
                double w = (double)(k < nsel ? d->layer_width[layers[k]] : width);
                /* rough work: a probe is some hundred passes over the activations, the
                 * selection's analyses (minimal set, ablations, control) some probes */
                int full = k == nsel && (job->analyses & (SAL_JOB_MINIMAL | SAL_JOB_ABLATION));
                x->cost = ntok * w * 1000.0 * (full ? 8.0 : 1.0);
                x->bytes = unit_bytes(ntok, w);
                x->ranks = 1;
                if (k < nsel)
                    snprintf(x->id, sizeof(x->id), "%s/L%d/%s", jm->name, layers[k],
                             job->tasks[ti].name);
                else
                    snprintf(x->id, sizeof(x->id), "%s/%s/%s", jm->name, jm->layers,
                             job->tasks[ti].name);
            }
        sal_model_close(m);
    }
    /* cross-model correlations: each model's selection against every other model's */
    if (st == SAL_OK && (job->analyses & SAL_JOB_CROSSMODEL) && job->nmodels > 1) {
        if (sal_job_find_task(job, "crossmodel") >= 0)
            st = sal_fail(SAL_ERR_ARG, "%s:%d: a task named \"crossmodel\" clashes with the "
                          "crossmodel analysis' units; rename the task", job->path,
                          job->tasks[sal_job_find_task(job, "crossmodel")].line);
        for (int mi = 0; mi < job->nmodels && st == SAL_OK; mi++) {
            if ((st = grow_units(&u, count, &cap)))
                break;
            const sal_job_model *jm = &job->models[mi];
            double others = 0, widest = 0;
            for (int o = 0; o < job->nmodels; o++)
                if (o != mi) {
                    others += (double)sel_width[o];
                    widest = fmax(widest, (double)sel_width[o]);
                }
            sal_study_unit *x = &u[count++];
            memset(x, 0, sizeof(*x));
            x->kind = SAL_UNIT_CROSSMODEL;
            x->model = mi;
            x->task = -1;
            x->layer = -1;
            x->cost = model_tok[mi] * (double)sel_width[mi] * others * 2.0; /* one product */
            x->bytes = model_tok[mi] * ((double)sel_width[mi] + widest) * 8.0 * 2.0 +
                       (double)sel_width[mi] * widest * 8.0;
            x->ranks = 1;
            snprintf(x->id, sizeof(x->id), "%s/%s/crossmodel", jm->name, jm->layers);
        }
    }
    free(sel_width);
    free(model_tok);
    if (st) {
        free(u);
        u = NULL;
        count = 0;
    }
    *units = u;
    *n = count;
    return st;
}

void sal_study_unit_name(const char *id, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = id; *p && k + 3 < n; p++) {
        if (*p == '/') {
            out[k++] = '_';
            out[k++] = '_';
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
            out[k++] = *p;
        } else {
            out[k++] = '_';
        }
    }
    out[k] = '\0';
}

/* ---- the work of one unit (on a worker group's grid) ------------------------------ */

typedef struct worker {
    MPI_Comm comm;        /* the group: MPI_COMM_SELF or a sub-communicator of workers */
    int size, rank;       /* the group's size, this process's rank in it (0: leader) */
    sal_grid *grid;       /* size x 1 over comm */
    int model;            /* index of the open model, -1 */
    sal_model *m;
    int task;             /* index of the loaded task, -1 */
    sal_task_data t;
    int layer;            /* the loaded matrices' layer (-1: the selection), -2 none */
    sal_unit_matrices u;
    int nsel;
    int layers[SAL_MAX_LAYERS];
} worker;

static void worker_drop_matrices(worker *w)
{
    sal_unit_free(&w->u);
    w->layer = -2;
}

static void worker_free(worker *w)
{
    worker_drop_matrices(w);
    sal_task_free(&w->t);
    sal_model_close(w->m);
    sal_grid_free(w->grid);
    if (w->comm != MPI_COMM_NULL && w->comm != MPI_COMM_SELF)
        MPI_Comm_free(&w->comm);
    memset(w, 0, sizeof(*w));
    w->comm = MPI_COMM_NULL;
}

/* Open model x->model on every rank of the group (or keep the open one). Collective. */
static sal_status worker_model(const sal_job *job, int mi, worker *w)
{
    if (w->model == mi)
        return SAL_OK;
    const sal_job_model *jm = &job->models[mi];
    worker_drop_matrices(w);
    sal_task_free(&w->t);
    w->task = -1;
    sal_model_close(w->m);
    w->m = NULL;
    w->model = -1;
    sal_status st = sal_model_open(jm->shards, &w->m);
    if (st == SAL_OK)
        st = sal_parse_layers(jm->layers, sal_model_get_desc(w->m)->nlayers, w->layers, &w->nsel);
    if ((st = sal_agree(st, w->comm)) == SAL_OK)
        w->model = mi;
    return st;
}

/* The lambdas to use: the job's, or with a grid the pair with the best dev accuracy of
 * the oracle (ties: the first in file order). */
static sal_status choose_lambdas(const sal_job *job, worker *w, int C, sal_probe_params *prm)
{
    if (job->nl1 * job->nl2 == 1)
        return SAL_OK;
    sal_probe_problem *pb = NULL;
    sal_probe pr = {0}, warm = {0};
    int32_t *pred = malloc(sizeof(*pred) * (size_t)(w->u.n[1] > 0 ? w->u.n[1] : 1));
    double best = -1;
    sal_status st = pred ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
    if (st == SAL_OK)
        st = sal_probe_problem_init(&w->u.X[0], w->grid, w->u.y[0], C, &pb);
    for (int a = 0; a < job->nl1 && st == SAL_OK; a++)
        for (int b = 0; b < job->nl2 && st == SAL_OK; b++) {
            sal_probe_params q = *prm;
            q.lambda1 = job->l1[a];
            q.lambda2 = job->l2[b];
            if ((st = sal_probe_solve(pb, &q, warm.W ? &warm : NULL, &pr)) ||
                (st = sal_probe_predict(&pr, &w->u.X[1], w->grid, pred)))
                break;
            int64_t right = 0;
            for (int64_t i = 0; i < w->u.n[1]; i++)
                right += pred[i] == w->u.y[1][i];
            double acc = (double)right / (double)(w->u.n[1] > 0 ? w->u.n[1] : 1);
            if (acc > best) {
                best = acc;
                prm->lambda1 = q.lambda1;
                prm->lambda2 = q.lambda2;
            }
            sal_probe_free(&warm);
            warm = pr;
            memset(&pr, 0, sizeof(pr));
        }
    sal_probe_free(&warm);
    sal_probe_problem_free(pb);
    free(pred);
    return st;
}

/* Compute probe unit x on the group; on success the leader's *rec holds its record
 * bytes. Collective over the group. */
static sal_status compute_probe_unit(const sal_job *job, const sal_study_unit *x, worker *w,
                               void **rec, size_t *len)
{
    const sal_job_model *jm = &job->models[x->model];
    const sal_job_task *jt = &job->tasks[x->task];
    sal_status st = SAL_OK;
    if ((st = worker_model(job, x->model, w)))
        return st;
    if (w->task != x->task) {
        /* the matrices' rows depend on the split only, which every task of the model
         * shares: keep them and relabel (sal_unit_relabel checks the split) */
        sal_task_free(&w->t);
        w->task = -1;
        if (jt->kind == SAL_JOB_TASK_VALUES)
            st = sal_fail(SAL_ERR_ARG, "task %s: real-valued (ridge) tasks are not part of "
                          "salient run yet", jt->name);
        sal_task_source src = {.labels = jt->labels, .sentences = jt->sentences,
                               .nbrown = jt->nbrown, .brown = (const char *const *)jt->brown,
                               .derive = jt->derive};
        if (st == SAL_OK && w->rank == 0)
            st = sal_task_read(w->m, jm->name, &src, job->split, job->seed,
                               (job->analyses & SAL_JOB_CONTROL) != 0, &w->t);
        if ((st = sal_agree(st, w->comm)) || (w->size > 1 && (st = sal_task_share(&w->t, w->comm))))
            return st;
        w->task = x->task;
        if (w->layer != -2 && (st = sal_agree(sal_unit_relabel(&w->u, &w->t), w->comm)))
            worker_drop_matrices(w);
    }
    int one[1] = {x->layer}, nsel = x->layer >= 0 ? 1 : w->nsel;
    const int *layers = x->layer >= 0 ? one : w->layers;
    if (w->layer != x->layer) {
        worker_drop_matrices(w);
        if ((st = sal_unit_load(w->m, nsel, layers, &w->t, w->grid, &w->u)))
            return st;
        w->layer = x->layer;
    }
    if (w->u.n[1] == 0 || w->u.n[2] == 0)
        return sal_fail(SAL_ERR_ARG, "unit %s: the dev and test splits need sentences", x->id);
    sal_lca_params prm = job->lca;
    if (x->layer >= 0) { /* a layer-wise unit: the oracle only */
        prm.minimal = 0;
        prm.ablation = 0;
        prm.cluster_t = 0;
    } else {
        prm.minimal = (job->analyses & (SAL_JOB_MINIMAL | SAL_JOB_ABLATION)) != 0;
    }
    if ((st = choose_lambdas(job, w, w->t.C, &prm.probe)))
        return st;
    const sal_model_desc *d = sal_model_get_desc(w->m);
    int64_t width[SAL_MAX_LAYERS];
    for (int k = 0; k < nsel; k++)
        width[k] = d->layer_width[layers[k]];
    int control = x->layer < 0 && w->u.yc[0];
    sal_lca_data data = {.X = {&w->u.X[0], &w->u.X[1], &w->u.X[2]},
                         .y = {w->u.y[0], w->u.y[1], w->u.y[2]},
                         .C = w->t.C,
                         .yc = {control ? w->u.yc[0] : NULL, control ? w->u.yc[1] : NULL,
                                control ? w->u.yc[2] : NULL},
                         .Cc = w->t.C,
                         .nsel = nsel,
                         .layer = layers,
                         .width = width};
    sal_lca_result r;
    if ((st = sal_lca_run(&data, w->grid, &prm, &r)))
        return st;
    char ltext[32];
    snprintf(ltext, sizeof(ltext), "L%d", x->layer);
    sal_record_meta meta = {.model = jm->name,
                            .task = jt->name,
                            .layers = x->layer >= 0 ? ltext : jm->layers,
                            .class_name = w->t.class_name,
                            .params = &prm};
    if (w->rank == 0)
        st = sal_record_pack(&r, &meta, rec, len);
    sal_lca_result_free(&r);
    return st;
}

/* Compute cross-model unit x: correlations of the model's selection with each other
 * model's over all tokens (the models must have the same words). Collective over the
 * group; the leader's *rec holds the record. */
static sal_status compute_crossmodel_unit(const sal_job *job, const sal_study_unit *x, worker *w,
                                          void **rec, size_t *len)
{
    const sal_job_model *jm = &job->models[x->model];
    int nother = job->nmodels - 1;
    sal_status st = SAL_OK;
    worker_drop_matrices(w); /* a different shape of data: free the probe matrices */
    if ((st = worker_model(job, x->model, w)))
        return st;
    const sal_model_desc *d = sal_model_get_desc(w->m);
    int64_t D = sal_model_width(w->m, w->nsel, w->layers), ntok = sal_model_ntok(w->m);
    int64_t width[SAL_MAX_LAYERS];
    for (int k = 0; k < w->nsel; k++)
        width[k] = d->layer_width[w->layers[k]];
    sal_corpus words = SAL_CORPUS_INIT, other_words = SAL_CORPUS_INIT;
    sal_pmat X = {0}, Y = {0}, R = {0};
    double **best = calloc((size_t)nother, sizeof(*best));
    char **names = calloc((size_t)nother, sizeof(*names));
    sal_crosscorr cc = {0};
    if (!best || !names)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    for (int o = 0; o < nother && st == SAL_OK; o++)
        if (!(best[o] = malloc(sizeof(**best) * (size_t)D)))
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    if (st == SAL_OK && w->rank == 0)
        st = sal_model_read_corpus(w->m, &words);
    sal_rows rows = {.nrows = ntok, .tok0 = 0, .tokens = NULL};
    if ((st = sal_agree(st, w->comm)) == SAL_OK)
        st = sal_load_matrix(w->m, w->nsel, w->layers, &rows, w->grid, 256, &X);
    for (int o = 0, mi = 0; o < nother && st == SAL_OK; o++, mi++) {
        if (mi == x->model)
            mi++;
        const sal_job_model *om = &job->models[mi];
        names[o] = om->name;
        sal_model *m = NULL;
        int layers[SAL_MAX_LAYERS], nsel = 0;
        st = sal_model_open(om->shards, &m);
        if (st == SAL_OK)
            st = sal_parse_layers(om->layers, sal_model_get_desc(m)->nlayers, layers, &nsel);
        /* the same words, token for token (the leader checks) */
        if (st == SAL_OK && w->rank == 0 && (st = sal_model_read_corpus(m, &other_words)) == SAL_OK) {
            int64_t bad = -1;
            if (other_words.ntok != words.ntok)
                st = sal_fail(SAL_ERR_FORMAT, "crossmodel: models %s (%lld tokens) and %s "
                              "(%lld tokens) are not over the same words", jm->name,
                              (long long)words.ntok, om->name, (long long)other_words.ntok);
            for (int64_t t = 0; st == SAL_OK && t < words.ntok && bad < 0; t++)
                if (strcmp(sal_corpus_word(&words, t), sal_corpus_word(&other_words, t)) != 0)
                    bad = t;
            if (bad >= 0)
                st = sal_fail(SAL_ERR_FORMAT, "crossmodel: models %s and %s differ at token "
                              "%lld ('%s' vs '%s'); cross-model correlation needs the same words",
                              jm->name, om->name, (long long)bad, sal_corpus_word(&words, bad),
                              sal_corpus_word(&other_words, bad));
            sal_corpus_free(&other_words);
        }
        if ((st = sal_agree(st, w->comm)) == SAL_OK &&
            (st = sal_load_matrix(m, nsel, layers, &rows, w->grid, 256, &Y)) == SAL_OK &&
            (st = sal_correlation_pmat(&X, &Y, w->grid, &R, NULL, NULL)) == SAL_OK)
            st = sal_corr_pmat_best_match(&R, w->grid, SAL_CORR_ROWS, best[o], NULL);
        sal_pmat_free(&R);
        sal_pmat_free(&Y);
        sal_model_close(m);
        st = sal_agree(st, w->comm);
    }
    if (st == SAL_OK && w->rank == 0) {
        st = sal_crosscorr_rank(D, nother, (const double *const *)best, &cc);
        sal_crossmodel_meta meta = {.model = jm->name, .layers = jm->layers, .tokens = ntok,
                                    .other = names, .nsel = w->nsel, .layer = w->layers,
                                    .width = width};
        if (st == SAL_OK)
            st = sal_record_pack_crossmodel(&cc, (const double *const *)best, &meta, rec, len);
    }
    st = sal_agree(st, w->comm);
    sal_crosscorr_free(&cc);
    sal_pmat_free(&X);
    sal_corpus_free(&words);
    for (int o = 0; best && o < nother; o++)
        free(best[o]);
    free(best);
    free(names);
    return st;
}

/* Compute unit x on the group; on success the leader's *rec holds its record bytes.
 * Collective over the group. */
static sal_status compute_unit(const sal_job *job, const sal_study_unit *x, worker *w,
                               void **rec, size_t *len)
{
    *rec = NULL;
    *len = 0;
    sal_status st = x->kind == SAL_UNIT_CROSSMODEL ? compute_crossmodel_unit(job, x, w, rec, len)
                                                   : compute_probe_unit(job, x, w, rec, len);
    if (st) {
        free(*rec);
        *rec = NULL;
        *len = 0;
    }
    return st;
}

/* ---- rank 0's books -------------------------------------------------------------- */

typedef struct books {
    const sal_job *job;
    sal_study_unit *units;
    int n;
    char *state;         /* per unit: 0 pending, 1 ok, 2 failed, 3 in flight */
    FILE *journal;
    int lock;            /* descriptor holding the output folder's lock, -1 */
    char dir[PATH_MAX];
    double t0;
    double books_seconds; /* rank 0's time in bookkeeping: storing, journaling, choosing */
    int done, failed, skipped, inflight;
    pthread_mutex_t mu;  /* the books, between rank 0's computing and its books thread */
    int self_running;    /* rank 0's own computing loop has not ended */
    int *last;           /* per rank: the unit its group computed last, -1 */
    int big, nbig;       /* worker groups: nbig groups of big ranks (ranks 1..), then single ranks */
    double done_cost;    /* cost of the units settled in this run */
    int bar;             /* 1: progress as a bar redrawn in place (a terminal) */
    double every;        /* seconds between progress lines (not a bar) */
    double last_progress;
} books;

static int unit_index(const books *b, const char *id)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->units[i].id, id) == 0)
            return i;
    return -1;
}

/* Read the journal: units journaled ok with an intact record are done. */
static sal_status read_journal(books *b)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/journal.tsv", b->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? SAL_OK : sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *status = strtok(line, "\t\n"), *id = strtok(NULL, "\t\n"), *file = strtok(NULL, "\t\n");
        int i = id ? unit_index(b, id) : -1;
        if (i < 0 || !status)
            continue;
        if (strcmp(status, "ok") == 0 && file) {
            char rec[PATH_MAX + 300];
            struct stat sb;
            snprintf(rec, sizeof(rec), "%s/%s", b->dir, file);
            if (stat(rec, &sb) == 0 && b->state[i] != 1) {
                b->state[i] = 1;
                b->skipped++;
            }
        }
    }
    free(line);
    fclose(f);
    return SAL_OK;
}

/* Write bytes to path through a temporary file, synced, then renamed. */
static sal_status write_file(const char *path, const void *buf, size_t len)
{
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return sal_fail(SAL_ERR_IO, "%s: %s", tmp, strerror(errno));
    int ok = fwrite(buf, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return sal_fail(SAL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return SAL_OK;
}

static void format_seconds(double s, char *out, size_t n)
{
    long t = s > 0 && isfinite(s) ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(out, n, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
    else if (t >= 60)
        snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, n, "%lds", t);
}

/* Units done / total, running, failed, elapsed and ETA (from the estimated cost of
 * what is left at the pace of what was done). Books locked. */
static void progress_text(const books *b, char *out, size_t n)
{
    double left = 0, el = MPI_Wtime() - b->t0;
    for (int i = 0; i < b->n; i++)
        if (b->state[i] == 0 || b->state[i] == 3)
            left += b->units[i].cost;
    char e[32], eta[32];
    format_seconds(el, e, sizeof(e));
    if (b->done_cost > 0)
        format_seconds(el * left / b->done_cost, eta, sizeof(eta));
    else
        snprintf(eta, sizeof(eta), "?");
    snprintf(out, n, "%d/%d units done, %d running, %d failed | elapsed %s, ETA %s",
             b->skipped + b->done + b->failed, b->n, b->inflight, b->failed, e, eta);
}

/* The progress bar (a terminal) or line (a log), redrawn or printed now. Books locked. */
static void show_progress(books *b)
{
    char text[200];
    progress_text(b, text, sizeof(text));
    if (b->bar) {
        int width = 30, fill = b->n ? (int)((long)width * (b->skipped + b->done + b->failed) / b->n) : width;
        char bar[64];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[width] = '\0';
        printf("\r\033[K[%s] %s", bar, text);
    } else {
        printf("progress: %s\n", text);
    }
    fflush(stdout);
    b->last_progress = MPI_Wtime();
}

/* Called by the books thread between messages: progress when due. Books locked. */
static void progress_tick(books *b)
{
    double now = MPI_Wtime();
    if (now - b->last_progress >= (b->bar ? 1.0 : b->every))
        show_progress(b);
}

/* Store a finished unit: its record (or its failure) and a synced journal line.
 * Books locked. */
static sal_status settle(books *b, int i, sal_status st, const char *msg, const void *rec,
                         size_t len)
{
    b->inflight--;
    if (st == SAL_ERR_INTERRUPTED) { /* stopped by a signal: pending again, for the resume */
        b->state[i] = 0;
        return SAL_OK;
    }
    char name[300], path[PATH_MAX + 320];
    sal_study_unit_name(b->units[i].id, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/units/%s.rec", b->dir, name);
    sal_status ws = SAL_OK;
    if (st == SAL_OK && (ws = write_file(path, rec, len)) == SAL_OK)
        fprintf(b->journal, "ok\t%s\tunits/%s.rec\n", b->units[i].id, name);
    else
        fprintf(b->journal, "failed\t%s\t%s\n", b->units[i].id, st ? msg : sal_errmsg());
    if (fflush(b->journal) != 0 || fsync(fileno(b->journal)) != 0)
        ws = sal_fail(SAL_ERR_IO, "%s/journal.tsv: %s", b->dir, strerror(errno));
    int ok = st == SAL_OK && ws == SAL_OK;
    b->state[i] = ok ? 1 : 2;
    ok ? b->done++ : b->failed++;
    b->done_cost += b->units[i].cost;
    printf("%s[%d/%d] %s %s%s\n", b->bar ? "\r\033[K" : "", b->skipped + b->done + b->failed,
           b->n, b->units[i].id, ok ? "ok" : "FAILED: ", ok ? "" : (st ? msg : sal_errmsg()));
    if (b->bar)
        show_progress(b);
    fflush(stdout);
    return ws;
}

/* results.nc: every unit journaled ok, as a group, in unit order. */
/* Read a unit's stored record file into *buf (malloc'ed). */
static sal_status read_record(const books *b, int i, void **buf, size_t *len)
{
    char name[300], rec[PATH_MAX + 320];
    sal_study_unit_name(b->units[i].id, name, sizeof(name));
    snprintf(rec, sizeof(rec), "%s/units/%s.rec", b->dir, name);
    FILE *f = fopen(rec, "rb");
    long n = -1;
    *buf = NULL;
    sal_status st = SAL_OK;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(*buf = malloc((size_t)n)) || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        free(*buf);
        *buf = NULL;
        st = sal_fail(SAL_ERR_IO, "%s: cannot read the unit's record", rec);
    }
    if (f)
        fclose(f);
    *len = st ? 0 : (size_t)n;
    return st;
}

/* results.nc: every unit journaled ok, as a group, in unit order. Every group is
 * defined before any value is written (see sal_record_copy). */
static sal_status write_results(books *b)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/results.nc", b->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    int ncid, rc, du, vid, vst;
    sal_status st = SAL_OK;
    if ((rc = nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &ncid)))
        return sal_fail(SAL_ERR_IO, "%s: %s", tmp, nc_strerror(rc));
    int *grp = malloc(sizeof(*grp) * (size_t)(b->n > 0 ? b->n : 1));
    if (!grp)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    const char *study = b->job->study;
    nc_put_att_text(ncid, NC_GLOBAL, "study", strlen(study), study);
    nc_put_att_text(ncid, NC_GLOBAL, "job", strlen(b->job->path), b->job->path);
    nc_def_dim(ncid, "unit", (size_t)b->n, &du);
    nc_def_var(ncid, "unit_id", NC_STRING, 1, &du, &vid);
    nc_def_var(ncid, "unit_status", NC_STRING, 1, &du, &vst);
    /* the models, for the report: name, architecture label, base model ("" if none) */
    int dm, vmn, vma, vmb;
    nc_def_dim(ncid, "model", (size_t)b->job->nmodels, &dm);
    nc_def_var(ncid, "model_name", NC_STRING, 1, &dm, &vmn);
    nc_def_var(ncid, "model_architecture", NC_STRING, 1, &dm, &vma);
    nc_def_var(ncid, "model_base", NC_STRING, 1, &dm, &vmb);
    for (int phase = SAL_COPY_DEFINE; phase <= SAL_COPY_DATA && st == SAL_OK; phase++) {
        if (phase == SAL_COPY_DATA && (rc = nc_enddef(ncid))) {
            st = sal_fail(SAL_ERR_IO, "%s: %s", tmp, nc_strerror(rc));
            break;
        }
        for (int i = 0; i < b->n && st == SAL_OK; i++) {
            if (b->state[i] != 1)
                continue;
            void *buf;
            size_t len;
            char name[300];
            sal_study_unit_name(b->units[i].id, name, sizeof(name));
            if ((st = read_record(b, i, &buf, &len)))
                break;
            if (phase == SAL_COPY_DEFINE && (rc = nc_def_grp(ncid, name, &grp[i])))
                st = sal_fail(SAL_ERR_IO, "%s: group %s: %s", tmp, name, nc_strerror(rc));
            else
                st = sal_record_copy(buf, len, grp[i], phase);
            free(buf);
        }
    }
    for (int k = 0; k < b->job->nmodels && st == SAL_OK; k++) {
        const sal_job_model *jm = &b->job->models[k];
        const char *base = jm->base >= 0 ? b->job->models[jm->base].name : "";
        const char *arch = jm->architecture ? jm->architecture : "";
        size_t kk = (size_t)k;
        nc_put_var1_string(ncid, vmn, &kk, (const char **)&jm->name);
        nc_put_var1_string(ncid, vma, &kk, &arch);
        nc_put_var1_string(ncid, vmb, &kk, &base);
    }
    for (int i = 0; i < b->n && st == SAL_OK; i++) {
        const char *id = b->units[i].id, *status = b->state[i] == 1   ? "ok"
                                                   : b->state[i] == 2 ? "failed"
                                                                      : "missing";
        size_t k = (size_t)i;
        nc_put_var1_string(ncid, vid, &k, &id);
        nc_put_var1_string(ncid, vst, &k, &status);
    }
    free(grp);
    rc = nc_close(ncid);
    if (st == SAL_OK && rc)
        st = sal_fail(SAL_ERR_IO, "%s: %s", tmp, nc_strerror(rc));
    if (st == SAL_OK && rename(tmp, path) != 0)
        st = sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(errno));
    if (st)
        unlink(tmp);
    return st;
}

/* Take the output folder's lock (a POSIX record lock on OUTDIR/lock, released by the
 * system when the process dies, even by SIGKILL): two runs must never share a journal. */
static sal_status lock_output(books *b)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/lock", b->dir);
    b->lock = open(path, O_RDWR | O_CREAT, 0666);
    if (b->lock < 0)
        return sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(errno));
    struct flock lk;
    memset(&lk, 0, sizeof(lk));
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (fcntl(b->lock, F_SETLK, &lk) != 0)
        return sal_fail(SAL_ERR_IO, "%s is in use by another salient run (its lock %s is "
                        "held); wait for it or stop it first", b->dir, path);
    return SAL_OK;
}

/* The largest pending unit that fits a group of gsize ranks, marked in flight; among
 * equally large ones, one on the model and layer the group computed last (its loaded
 * activations serve again). -1 if none. Books locked. */
static int next_unit(books *b, int gsize, int who)
{
    int best = -1, prev = b->last[who];
    const sal_study_unit *p = prev >= 0 ? &b->units[prev] : NULL;
    for (int i = 0; i < b->n; i++) {
        const sal_study_unit *u = &b->units[i];
        if (b->state[i] != 0 || u->ranks > gsize)
            continue;
        if (best < 0 || u->cost > b->units[best].cost) {
            best = i;
        } else if (u->cost == b->units[best].cost && p && u->kind == p->kind &&
                   u->model == p->model && u->layer == p->layer) {
            const sal_study_unit *q = &b->units[best];
            if (!(q->kind == p->kind && q->model == p->model && q->layer == p->layer))
                best = i;
        }
    }
    if (best >= 0) {
        b->state[best] = 3;
        b->inflight++;
        b->last[who] = best;
    }
    return best;
}

/* Ranks in the group whose leader is rank src of the study. */
static int group_size(const books *b, int src)
{
    return src >= 1 && src <= b->nbig * b->big ? b->big : 1;
}

/* A short sleep between polls, growing while nothing happens. */
static void nap(long *ns)
{
    struct timespec t = {0, *ns};
    nanosleep(&t, NULL);
    *ns = *ns < 2000000 ? *ns * 2 : 2000000;
}

typedef struct serve_args {
    books *b;
    MPI_Comm comm;
    int groups;      /* worker groups to serve */
    sal_status st;
} serve_args;

/* Rank 0's books: answer the worker groups' leaders until every group is told to stop
 * and rank 0's own computing has ended; show progress on the way. */
static void *serve(void *arg)
{
    serve_args *a = arg;
    books *b = a->b;
    int active = a->groups;
    long ns = 50000;
    for (;;) {
        int flag = 0;
        MPI_Status ms;
        if (active > 0)
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_HEAD, a->comm, &flag, &ms);
        if (!flag) {
            pthread_mutex_lock(&b->mu);
            progress_tick(b);
            int self = b->self_running;
            pthread_mutex_unlock(&b->mu);
            if (active == 0 && !self)
                break;
            nap(&ns);
            continue;
        }
        ns = 50000;
        long long head[4];
        int src = ms.MPI_SOURCE;
        MPI_Recv(head, 4, MPI_LONG_LONG, src, TAG_HEAD, a->comm, MPI_STATUS_IGNORE);
        char *data = NULL;
        if (head[0] == MSG_RESULT) {
            data = malloc((size_t)(head[3] > 0 ? head[3] : 1));
            MPI_Recv(data, (int)head[3], MPI_BYTE, src, TAG_DATA, a->comm, MPI_STATUS_IGNORE);
        }
        pthread_mutex_lock(&b->mu);
        double tb = MPI_Wtime();
        if (head[0] == MSG_RESULT) {
            sal_status us = (sal_status)head[2];
            sal_status ws = settle(b, (int)head[1], us, us ? data : NULL, data, (size_t)head[3]);
            if (ws && a->st == SAL_OK)
                a->st = ws;
        }
        int next = a->st == SAL_OK && !sal_stop_requested() ? next_unit(b, group_size(b, src), src)
                                                            : -1;
        b->books_seconds += MPI_Wtime() - tb;
        pthread_mutex_unlock(&b->mu);
        free(data);
        MPI_Send(&next, 1, MPI_INT, src, TAG_WORK, a->comm);
        if (next < 0)
            active--;
    }
    return NULL;
}

/* Rank 0: serve the groups (in a thread when rank 0 computes too) and compute. */
static sal_status run_master(books *b, MPI_Comm comm, int groups, int self_compute, worker *self)
{
    serve_args a = {b, comm, groups, SAL_OK};
    pthread_t th;
    b->self_running = self_compute;
    if (!self_compute) {
        serve(&a);
        return a.st;
    }
    if (pthread_create(&th, NULL, serve, &a) != 0)
        return sal_fail(SAL_ERR_NOMEM, "cannot start rank 0's books thread");
    sal_status st = SAL_OK;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int i = st == SAL_OK && a.st == SAL_OK && !sal_stop_requested() ? next_unit(b, 1, 0) : -1;
        if (i < 0)
            b->self_running = 0;
        pthread_mutex_unlock(&b->mu);
        if (i < 0)
            break;
        void *rec;
        size_t len;
        sal_status us = compute_unit(b->job, &b->units[i], self, &rec, &len);
        char msg[2048];
        snprintf(msg, sizeof(msg), "%s", us ? sal_errmsg() : "");
        pthread_mutex_lock(&b->mu);
        st = settle(b, i, us, msg, rec, len);
        pthread_mutex_unlock(&b->mu);
        free(rec);
    }
    pthread_join(th, NULL);
    return st ? st : a.st;
}

/* A worker group: its leader asks rank 0 for units and sends back results, every
 * member computes them. Returns the seconds the leader spent waiting for work. */
static double run_worker(const sal_job *job, const sal_study_unit *units, MPI_Comm comm,
                         worker *w)
{
    double idle = 0;
    long long head[4] = {MSG_READY, -1, 0, 0};
    void *payload = NULL;
    for (;;) {
        int i;
        if (w->rank == 0) {
            MPI_Send(head, 4, MPI_LONG_LONG, 0, TAG_HEAD, comm);
            if (head[0] == MSG_RESULT)
                MPI_Send(payload, (int)head[3], MPI_BYTE, 0, TAG_DATA, comm);
            double tw = MPI_Wtime();
            MPI_Recv(&i, 1, MPI_INT, 0, TAG_WORK, comm, MPI_STATUS_IGNORE);
            idle += MPI_Wtime() - tw;
        }
        free(payload);
        payload = NULL;
        if (w->size > 1)
            MPI_Bcast(&i, 1, MPI_INT, 0, w->comm);
        if (i < 0)
            break;
        size_t len = 0;
        sal_status st = compute_unit(job, &units[i], w, &payload, &len);
        if (st && w->rank == 0) { /* the message travels instead of a record */
            payload = strdup(sal_errmsg());
            len = payload ? strlen(payload) + 1 : 0;
        }
        head[0] = MSG_RESULT, head[1] = i, head[2] = st, head[3] = (long long)len;
    }
    return idle;
}

/* Bytes a rank may use when the run does not say: its node's memory shared by the
 * node's ranks, with a fifth kept back. Collective. */
static double default_mem_per_rank(MPI_Comm comm)
{
    MPI_Comm node;
    int local = 1;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    return 0.8 * mem / local;
}

/* Rank 0: the ranks each unit needs, the worker groups (b->big, b->nbig), and the
 * units no group of this run can hold, failed at once with their reason. */
static sal_status plan_groups(books *b, double mem, int workers)
{
    int gmax = 1, nneed = 0;
    for (int i = 0; i < b->n; i++) {
        sal_study_unit *u = &b->units[i];
        double r = ceil(u->bytes / mem);
        u->ranks = r < 1 ? 1 : r > 1e6 ? 1000000 : (int)r;
        if (b->state[i] == 0 && u->ranks > 1) {
            nneed++;
            gmax = u->ranks > gmax ? u->ranks : gmax;
        }
    }
    b->big = gmax > workers ? workers : gmax;
    b->nbig = b->big > 1 ? (nneed < workers / b->big ? nneed : workers / b->big) : 0;
    if (b->big <= 1)
        b->big = 1, b->nbig = 0;
    sal_status st = SAL_OK;
    for (int i = 0; i < b->n && st == SAL_OK; i++) {
        const sal_study_unit *u = &b->units[i];
        if (b->state[i] != 0 || u->ranks <= 1 || u->ranks <= b->big)
            continue;
        char msg[512];
        snprintf(msg, sizeof(msg), "needs about %.1f GiB: %d ranks of %.2f GiB, and this run "
                 "has %d worker rank%s; run it with more ranks or a larger --memory-per-rank",
                 u->bytes / 1073741824.0, u->ranks, mem / 1073741824.0, workers,
                 workers == 1 ? "" : "s");
        b->state[i] = 3;
        b->inflight++;
        st = settle(b, i, SAL_ERR_NOMEM, msg, NULL, 0);
    }
    return st;
}

sal_status sal_study_run(const sal_job *job, const sal_study_opts *opts, MPI_Comm comm,
                         sal_study_summary *summary)
{
    int rank, size, provided;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Query_thread(&provided);
    memset(summary, 0, sizeof(*summary));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    books b;
    memset(&b, 0, sizeof(b));
    pthread_mutex_init(&b.mu, NULL);
    b.lock = -1;
    b.job = job;
    b.t0 = MPI_Wtime();
    b.every = opts->progress_every > 0 ? opts->progress_every : 10;
    b.bar = opts->bar;
    worker w;
    double idle = 0;
    memset(&w, 0, sizeof(w));
    w.comm = MPI_COMM_NULL;
    w.model = w.task = -1;
    w.layer = -2;
    int self_compute = size == 1 || (!opts->books_only && provided == MPI_THREAD_MULTIPLE);
    double mem = opts->mem_per_rank > 0 ? opts->mem_per_rank : default_mem_per_rank(comm);
    sal_status st = SAL_OK;
    if (rank == 0) {
        st = sal_study_units(job, &b.units, &b.n);
        if (st == SAL_OK) {
            snprintf(b.dir, sizeof(b.dir), "%s", job->output);
            char units_dir[PATH_MAX + 16], jpath[PATH_MAX + 32];
            snprintf(units_dir, sizeof(units_dir), "%s/units", b.dir);
            snprintf(jpath, sizeof(jpath), "%s/journal.tsv", b.dir);
            if ((mkdir(b.dir, 0777) != 0 && errno != EEXIST) ||
                (mkdir(units_dir, 0777) != 0 && errno != EEXIST))
                st = sal_fail(SAL_ERR_IO, "%s: cannot create: %s", b.dir, strerror(errno));
            else if ((st = lock_output(&b)))
                ;
            else if (!(b.state = calloc((size_t)(b.n > 0 ? b.n : 1), 1)) ||
                     !(b.last = malloc(sizeof(*b.last) * (size_t)size)))
                st = sal_fail(SAL_ERR_NOMEM, "out of memory");
            else if ((st = read_journal(&b)) == SAL_OK && !(b.journal = fopen(jpath, "a")))
                st = sal_fail(SAL_ERR_IO, "%s: %s", jpath, strerror(errno));
            for (int r = 0; b.last && r < size; r++)
                b.last[r] = -1;
        }
        if (st == SAL_OK)
            st = plan_groups(&b, mem, size - 1);
    }
    /* every rank needs the unit list to compute units by index, and the groups */
    if ((st = sal_agree(st, comm)))
        goto done;
    int plan[3] = {b.n, b.big, b.nbig};
    MPI_Bcast(plan, 3, MPI_INT, 0, comm);
    b.n = plan[0], b.big = plan[1], b.nbig = plan[2];
    if (rank != 0 && !(b.units = calloc((size_t)(b.n > 0 ? b.n : 1), sizeof(*b.units))))
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    if ((st = sal_agree(st, comm)))
        goto done;
    MPI_Bcast(b.units, (int)(sizeof(*b.units) * (size_t)b.n), MPI_BYTE, 0, comm);
    /* groups: rank 0 alone; ranks 1 .. nbig x big in groups of big; the rest alone */
    int color = rank == 0                  ? 0
                : rank <= b.nbig * b.big ? 1 + (rank - 1) / b.big
                                         : 1 + b.nbig + (rank - 1 - b.nbig * b.big);
    int groups = b.nbig + (size - 1 - b.nbig * b.big);
    MPI_Comm_split(comm, color, rank, &w.comm);
    MPI_Comm_size(w.comm, &w.size);
    MPI_Comm_rank(w.comm, &w.rank);
    if ((st = sal_agree(sal_grid_init(w.comm, w.size, 1, &w.grid), comm)))
        goto done;
    if (rank == 0) {
        printf("study %s: %d units, %d done before, %d ranks (%d computing", job->study, b.n,
               b.skipped, size, self_compute ? size : size - 1);
        if (b.nbig > 0)
            printf("; %d group%s of %d ranks for units over %.0f MiB", b.nbig,
                   b.nbig == 1 ? "" : "s", b.big, mem / 1048576.0);
        printf(")\n");
        fflush(stdout);
        st = run_master(&b, comm, groups, self_compute, &w);
        if (b.bar && b.n > 0) { /* leave the bar's last state on its line */
            show_progress(&b);
            printf("\n");
        }
        if (st == SAL_OK)
            st = write_results(&b);
    } else {
        idle = run_worker(job, b.units, comm, &w);
    }
    st = sal_agree(st, comm);
    /* the scheduler's own cost: rank 0's bookkeeping per unit, and how long workers waited */
    double idle_sum = 0, wall = MPI_Wtime() - b.t0;
    MPI_Reduce(&idle, &idle_sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm);
    summary->books_ms_per_unit = b.done + b.failed ? 1e3 * b.books_seconds / (b.done + b.failed) : 0;
    summary->idle_share = groups > 0 && wall > 0 ? idle_sum / (groups * wall) : 0;
    summary->units = b.n;
    summary->skipped = b.skipped;
    summary->done = b.done;
    summary->failed = b.failed;
    summary->interrupted = sal_stop_requested();
    MPI_Bcast(&summary->done, 1, MPI_INT, 0, comm);
    MPI_Bcast(&summary->failed, 1, MPI_INT, 0, comm);
    MPI_Bcast(&summary->skipped, 1, MPI_INT, 0, comm);
    int intr = summary->interrupted;
    MPI_Allreduce(MPI_IN_PLACE, &intr, 1, MPI_INT, MPI_MAX, comm);
    summary->interrupted = intr;
done:
    summary->seconds = MPI_Wtime() - b.t0;
    if (b.journal)
        fclose(b.journal);
    if (b.lock >= 0)
        close(b.lock); /* releases the lock */
    free(b.units);
    free(b.state);
    free(b.last);
    pthread_mutex_destroy(&b.mu);
    worker_free(&w);
    return st;
}
