/*
 * study.c - a whole study: units, scheduling, journal, resume (see study.h).
 *
 * Rank 0 keeps the books: it expands the job, skips what the journal says is done,
 * and hands units out largest first to whichever worker asks (one message each way
 * per unit). A worker computes a unit on its own one-process grid, keeping the last
 * model, task and matrices it loaded so that the next unit on the same activations
 * does not read them again, and sends back the unit's results record (record.h) or
 * its error message. Rank 0 stores each record under a temporary name, renames it,
 * appends a line to the journal and syncs both before it hands out more work, so a
 * run killed at any moment loses at most the units in flight.
 */
#include "salient/study.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netcdf.h>

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

sal_status sal_study_units(const sal_job *job, sal_study_unit **units, int *n)
{
    sal_status st = SAL_OK;
    int cap = 0, count = 0;
    sal_study_unit *u = NULL;
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
        int per_layer = nsel > 1 && (job->analyses & SAL_JOB_LAYERWISE);
        for (int ti = 0; ti < job->ntasks && st == SAL_OK; ti++)
            for (int k = per_layer ? 0 : nsel; k <= nsel; k++) {
                if (count == cap) {
                    cap = cap ? 2 * cap : 64;
                    sal_study_unit *q = realloc(u, sizeof(*q) * (size_t)cap);
                    if (!q) {
                        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
                        break;
                    }
                    u = q;
                }
                sal_study_unit *x = &u[count++];
                x->model = mi;
                x->task = ti;
                x->layer = k < nsel ? layers[k] : -1;
                x->cost = ntok * (double)(k < nsel ? d->layer_width[layers[k]] : width);
                if (k < nsel)
                    snprintf(x->id, sizeof(x->id), "%s/L%d/%s", jm->name, layers[k],
                             job->tasks[ti].name);
                else
                    snprintf(x->id, sizeof(x->id), "%s/%s/%s", jm->name, jm->layers,
                             job->tasks[ti].name);
            }
        sal_model_close(m);
    }
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

/* ---- the work of one unit (on a worker's own one-process grid) -------------------- */

typedef struct worker {
    sal_grid *grid;       /* over MPI_COMM_SELF */
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
    memset(w, 0, sizeof(*w));
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

/* Compute unit x; on success *rec holds its record bytes. */
static sal_status compute_unit(const sal_job *job, const sal_study_unit *x, worker *w,
                               void **rec, size_t *len)
{
    const sal_job_model *jm = &job->models[x->model];
    const sal_job_task *jt = &job->tasks[x->task];
    sal_status st = SAL_OK;
    *rec = NULL;
    *len = 0;
    if (w->model != x->model) {
        worker_drop_matrices(w);
        sal_task_free(&w->t);
        w->task = -1;
        sal_model_close(w->m);
        w->m = NULL;
        w->model = -1;
        if ((st = sal_model_open(jm->shards, &w->m)))
            return st;
        w->model = x->model;
        if ((st = sal_parse_layers(jm->layers, sal_model_get_desc(w->m)->nlayers, w->layers,
                                   &w->nsel)))
            return st;
    }
    if (w->task != x->task) {
        worker_drop_matrices(w);
        sal_task_free(&w->t);
        w->task = -1;
        if (jt->kind == SAL_JOB_TASK_VALUES)
            return sal_fail(SAL_ERR_ARG, "task %s: real-valued (ridge) tasks are not part of "
                            "salient run yet", jt->name);
        sal_task_source src = {.labels = jt->labels, .sentences = jt->sentences,
                               .nbrown = jt->nbrown, .brown = (const char *const *)jt->brown,
                               .derive = jt->derive};
        if ((st = sal_task_read(w->m, jm->name, &src, job->split, job->seed,
                                (job->analyses & SAL_JOB_CONTROL) != 0, &w->t)))
            return st;
        w->task = x->task;
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
    st = sal_record_pack(&r, &meta, rec, len);
    sal_lca_result_free(&r);
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
    sal_study_summary *sum;
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

/* Store a finished unit: its record (or its failure) and a synced journal line. */
static sal_status settle(books *b, int i, sal_status st, const char *msg, const void *rec,
                         size_t len)
{
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
    double el = MPI_Wtime() - b->t0;
    int finished = b->done + b->failed, left = b->n - b->skipped - finished;
    printf("[%d/%d] %s %s | running %d, failed %d | elapsed %.0f s, ETA %.0f s%s%s\n",
           b->skipped + finished, b->n, b->units[i].id, ok ? "ok" : "FAILED", b->inflight,
           b->failed, el, finished ? el / finished * left : 0, ok ? "" : ": ",
           ok ? "" : (st ? msg : sal_errmsg()));
    fflush(stdout);
    return ws;
}

/* results.nc: every unit journaled ok, as a group, in unit order. */
static sal_status write_results(books *b)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/results.nc", b->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    int ncid, rc, du, vid, vst;
    sal_status st = SAL_OK;
    if ((rc = nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &ncid)))
        return sal_fail(SAL_ERR_IO, "%s: %s", tmp, nc_strerror(rc));
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
    for (int k = 0; k < b->job->nmodels; k++) {
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
        if (b->state[i] != 1)
            continue;
        char name[300], rec[PATH_MAX + 320];
        sal_study_unit_name(id, name, sizeof(name));
        snprintf(rec, sizeof(rec), "%s/units/%s.rec", b->dir, name);
        FILE *f = fopen(rec, "rb");
        void *buf = NULL;
        long len = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)len)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            int grp;
            if ((rc = nc_def_grp(ncid, name, &grp)))
                st = sal_fail(SAL_ERR_IO, "%s: group %s: %s", tmp, name, nc_strerror(rc));
            else
                st = sal_record_copy(buf, (size_t)len, grp);
        } else {
            st = sal_fail(SAL_ERR_IO, "%s: cannot read the unit's record", rec);
        }
        free(buf);
        if (f)
            fclose(f);
    }
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

/* The largest pending unit, marked in flight; -1 if none. */
static int next_unit(books *b)
{
    int best = -1;
    for (int i = 0; i < b->n; i++)
        if (b->state[i] == 0 && (best < 0 || b->units[i].cost > b->units[best].cost))
            best = i;
    if (best >= 0) {
        b->state[best] = 3;
        b->inflight++;
    }
    return best;
}

static sal_status run_master(books *b, MPI_Comm comm, int size, worker *self)
{
    sal_status st = SAL_OK;
    if (size == 1) { /* rank 0 does the work too */
        int i;
        while (st == SAL_OK && !sal_stop_requested() && (i = next_unit(b)) >= 0) {
            void *rec;
            size_t len;
            sal_status us = compute_unit(b->job, &b->units[i], self, &rec, &len);
            b->inflight--;
            st = settle(b, i, us, sal_errmsg(), rec, len);
            free(rec);
        }
        return st;
    }
    int active = size - 1;
    while (active > 0) {
        long long head[4];
        MPI_Status ms;
        MPI_Recv(head, 4, MPI_LONG_LONG, MPI_ANY_SOURCE, TAG_HEAD, comm, &ms);
        int src = ms.MPI_SOURCE;
        if (head[0] == MSG_RESULT) {
            char *data = malloc((size_t)(head[3] > 0 ? head[3] : 1));
            MPI_Recv(data, (int)head[3], MPI_BYTE, src, TAG_DATA, comm, MPI_STATUS_IGNORE);
            b->inflight--;
            sal_status us = (sal_status)head[2];
            double tb = MPI_Wtime();
            sal_status ws = settle(b, (int)head[1], us, us ? data : NULL, data, (size_t)head[3]);
            b->books_seconds += MPI_Wtime() - tb;
            if (ws && st == SAL_OK)
                st = ws;
            free(data);
        }
        double tn = MPI_Wtime();
        int next = st == SAL_OK && !sal_stop_requested() ? next_unit(b) : -1;
        b->books_seconds += MPI_Wtime() - tn;
        MPI_Send(&next, 1, MPI_INT, src, TAG_WORK, comm);
        if (next < 0)
            active--;
    }
    return st;
}

/* Returns the seconds the worker spent waiting for work. */
static double run_worker(const sal_job *job, const sal_study_unit *units, MPI_Comm comm,
                         worker *w)
{
    double idle = 0;
    long long head[4] = {MSG_READY, -1, 0, 0};
    void *payload = NULL;
    for (;;) {
        MPI_Send(head, 4, MPI_LONG_LONG, 0, TAG_HEAD, comm);
        if (head[0] == MSG_RESULT)
            MPI_Send(payload, (int)head[3], MPI_BYTE, 0, TAG_DATA, comm);
        free(payload);
        payload = NULL;
        int i;
        double tw = MPI_Wtime();
        MPI_Recv(&i, 1, MPI_INT, 0, TAG_WORK, comm, MPI_STATUS_IGNORE);
        idle += MPI_Wtime() - tw;
        if (i < 0)
            break;
        size_t len = 0;
        sal_status st = compute_unit(job, &units[i], w, &payload, &len);
        if (st) { /* the message travels instead of a record */
            free(payload);
            payload = strdup(sal_errmsg());
            len = payload ? strlen(payload) + 1 : 0;
        }
        head[0] = MSG_RESULT, head[1] = i, head[2] = st, head[3] = (long long)len;
    }
    return idle;
}

sal_status sal_study_run(const sal_job *job, MPI_Comm comm, sal_study_summary *summary)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(summary, 0, sizeof(*summary));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    books b;
    memset(&b, 0, sizeof(b));
    b.lock = -1;
    b.job = job;
    b.t0 = MPI_Wtime();
    worker w;
    double idle = 0;
    memset(&w, 0, sizeof(w));
    w.model = w.task = -1;
    w.layer = -2;
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
            else if (!(b.state = calloc((size_t)(b.n > 0 ? b.n : 1), 1)))
                st = sal_fail(SAL_ERR_NOMEM, "out of memory");
            else if ((st = read_journal(&b)) == SAL_OK && !(b.journal = fopen(jpath, "a")))
                st = sal_fail(SAL_ERR_IO, "%s: %s", jpath, strerror(errno));
        }
    }
    /* every rank needs the unit list to compute units by index */
    if ((st = sal_agree(st, comm)))
        goto done;
    MPI_Bcast(&b.n, 1, MPI_INT, 0, comm);
    if (rank != 0 && !(b.units = calloc((size_t)(b.n > 0 ? b.n : 1), sizeof(*b.units))))
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    if ((st = sal_agree(st, comm)))
        goto done;
    MPI_Bcast(b.units, (int)(sizeof(*b.units) * (size_t)b.n), MPI_BYTE, 0, comm);
    if ((st = sal_agree(sal_grid_init(MPI_COMM_SELF, 1, 1, &w.grid), comm)))
        goto done;
    if (rank == 0) {
        printf("study %s: %d units, %d done before, %d ranks (%d computing)\n", job->study, b.n,
               b.skipped, size, size > 1 ? size - 1 : 1);
        fflush(stdout);
        st = run_master(&b, comm, size, &w);
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
    summary->idle_share = size > 1 && wall > 0 ? idle_sum / ((size - 1) * wall) : 0;
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
    worker_free(&w);
    return st;
}
