/* unit.c - a unit's task, split and matrices (see unit.h). */
#include "salient/unit.h"

#include <stdlib.h>
#include <string.h>

#include "salient/analysis.h"
#include "salient/dataset.h"
#include "salient/labels.h"

void sal_task_free(sal_task_data *t)
{
    if (!t)
        return;
    free(t->sent_start);
    free(t->split);
    free(t->label);
    free(t->control);
    if (t->class_name)
        for (int c = 0; c < t->C; c++)
            free(t->class_name[c]);
    free(t->class_name);
    memset(t, 0, sizeof(*t));
}

sal_status sal_task_read(sal_model *m, const char *model_name, const sal_task_source *src,
                         const double frac[3], uint64_t seed, int control, sal_task_data *t)
{
    sal_corpus words = SAL_CORPUS_INIT;
    sal_labels lab;
    int32_t *remap = NULL;
    memset(&lab, 0, sizeof(lab));
    memset(t, 0, sizeof(*t));
    sal_status st = sal_model_read_corpus(m, &words);
    if (st == SAL_OK) {
        if (src->nbrown > 0) {
            st = sal_labels_read_brown(src->nbrown, src->brown, &lab);
            if (st == SAL_OK)
                st = sal_labels_derive(&lab, src->derive);
        } else if (src->sentences) {
            st = sal_labels_read_text(src->sentences, src->labels, &lab);
        } else {
            st = sal_labels_read_tags(src->labels, &words, model_name, &lab);
        }
    }
    if (st == SAL_OK)
        st = sal_labels_check_alignment(&lab, &words, model_name);
    if (st)
        goto done;
    t->nsent = words.nsent;
    t->ntok = words.ntok;
    t->sent_start = malloc(sizeof(*t->sent_start) * (size_t)(t->nsent + 1));
    t->label = malloc(sizeof(*t->label) * (size_t)t->ntok);
    t->split = malloc(sizeof(*t->split) * (size_t)t->nsent);
    remap = malloc(sizeof(*remap) * (size_t)(lab.nclasses > 0 ? lab.nclasses : 1));
    t->class_name = calloc((size_t)(lab.nclasses > 0 ? lab.nclasses : 1), sizeof(*t->class_name));
    if (control)
        t->control = malloc(sizeof(*t->control) * (size_t)t->ntok);
    if (!t->sent_start || !t->label || !t->split || !remap || !t->class_name ||
        (control && !t->control)) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(t->sent_start, words.sent_start, sizeof(*t->sent_start) * (size_t)(t->nsent + 1));
    if ((st = sal_split_sentences(t->nsent, frac[0], frac[1], frac[2], seed, t->split)))
        goto done;
    for (int32_t c = 0; c < lab.nclasses; c++)
        remap[c] = -1;
    for (int64_t s = 0; s < t->nsent; s++)
        if (t->split[s] == SAL_SPLIT_TRAIN)
            for (int64_t k = words.sent_start[s]; k < words.sent_start[s + 1]; k++)
                remap[lab.label[k]] = 0;
    for (int32_t c = 0; c < lab.nclasses && st == SAL_OK; c++)
        if (remap[c] == 0) {
            remap[c] = t->C;
            if (!(t->class_name[t->C++] = strdup(lab.class_name[c])))
                st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        }
    for (int64_t k = 0; k < t->ntok; k++)
        t->label[k] = remap[lab.label[k]];
    if (st == SAL_OK && t->C < 2)
        st = sal_fail(SAL_ERR_FORMAT, "%s: the train split has %d class%s; a probe needs two",
                      src->labels ? src->labels : src->brown[0], t->C, t->C == 1 ? "" : "es");
    if (st == SAL_OK && control)
        st = sal_control_labels(&words, t->label, t->C, t->split, seed + 1, t->control);
done:
    free(remap);
    sal_labels_free(&lab);
    sal_corpus_free(&words);
    if (st)
        sal_task_free(t);
    return st;
}

sal_status sal_task_share(sal_task_data *t, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    long long sizes[4] = {t->nsent, t->ntok, t->C, t->control != NULL};
    MPI_Bcast(sizes, 4, MPI_LONG_LONG, 0, comm);
    sal_status st = SAL_OK;
    if (rank != 0) {
        t->nsent = sizes[0], t->ntok = sizes[1], t->C = (int)sizes[2];
        t->sent_start = malloc(sizeof(*t->sent_start) * (size_t)(t->nsent + 1));
        t->label = malloc(sizeof(*t->label) * (size_t)(t->ntok > 0 ? t->ntok : 1));
        t->split = malloc(sizeof(*t->split) * (size_t)(t->nsent > 0 ? t->nsent : 1));
        if (sizes[3])
            t->control = malloc(sizeof(*t->control) * (size_t)(t->ntok > 0 ? t->ntok : 1));
        if (!t->sent_start || !t->label || !t->split || (sizes[3] && !t->control))
            st = sal_fail(SAL_ERR_NOMEM, "out of memory for a task of %lld tokens",
                          (long long)t->ntok);
    }
    if ((st = sal_agree(st, comm)))
        return st;
    MPI_Bcast(t->sent_start, (int)(t->nsent + 1), MPI_INT64_T, 0, comm);
    MPI_Bcast(t->label, (int)t->ntok, MPI_INT32_T, 0, comm);
    MPI_Bcast(t->split, (int)t->nsent, MPI_INT8_T, 0, comm);
    if (sizes[3])
        MPI_Bcast(t->control, (int)t->ntok, MPI_INT32_T, 0, comm);
    return SAL_OK;
}

void sal_unit_free(sal_unit_matrices *u)
{
    if (!u)
        return;
    for (int s = 0; s < 3; s++) {
        sal_pmat_free(&u->X[s]);
        free(u->tok[s]);
        free(u->y[s]);
        free(u->yc[s]);
    }
    memset(u, 0, sizeof(*u));
}

sal_status sal_unit_load(sal_model *m, int nsel, const int *layers, const sal_task_data *t,
                         const sal_grid *g, sal_unit_matrices *u)
{
    MPI_Comm comm = sal_grid_comm(g);
    sal_status st = SAL_OK;
    memset(u, 0, sizeof(*u));
    for (int s = 0; s < 3 && st == SAL_OK; s++) {
        st = sal_split_tokens(t->sent_start, t->nsent, t->split, s, &u->tok[s], &u->n[s]);
        if (st == SAL_OK) {
            size_t n = (size_t)(u->n[s] > 0 ? u->n[s] : 1);
            u->y[s] = malloc(sizeof(*u->y[s]) * n);
            if (t->control)
                u->yc[s] = malloc(sizeof(*u->yc[s]) * n);
            if (!u->y[s] || (t->control && !u->yc[s]))
                st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; st == SAL_OK && i < u->n[s]; i++) {
            u->y[s][i] = t->label[u->tok[s][i]];
            if (t->control)
                u->yc[s][i] = t->control[u->tok[s][i]];
        }
    }
    if ((st = sal_agree(st, comm)))
        goto done;
    for (int s = 0; s < 3 && st == SAL_OK; s++) {
        sal_rows rows = {.nrows = u->n[s], .tokens = u->tok[s]};
        st = sal_load_matrix(m, nsel, layers, &rows, g, 256, &u->X[s]);
    }
done:
    if (st)
        sal_unit_free(u);
    return st;
}

sal_status sal_unit_relabel(sal_unit_matrices *u, const sal_task_data *t)
{
    sal_status st = SAL_OK;
    for (int s = 0; s < 3 && st == SAL_OK; s++) {
        int64_t *tok = NULL, n = 0;
        if ((st = sal_split_tokens(t->sent_start, t->nsent, t->split, s, &tok, &n)))
            break;
        if (n != u->n[s] || (n > 0 && memcmp(tok, u->tok[s], sizeof(*tok) * (size_t)n) != 0))
            st = sal_fail(SAL_ERR_ARG, "the task's split differs from the loaded matrices'");
        free(tok);
        size_t rows = (size_t)(u->n[s] > 0 ? u->n[s] : 1);
        if (st == SAL_OK && t->control && !u->yc[s] && !(u->yc[s] = malloc(sizeof(*u->yc[s]) * rows)))
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        if (st == SAL_OK && !t->control) {
            free(u->yc[s]);
            u->yc[s] = NULL;
        }
        for (int64_t i = 0; st == SAL_OK && i < u->n[s]; i++) {
            u->y[s][i] = t->label[u->tok[s][i]];
            if (t->control)
                u->yc[s][i] = t->control[u->tok[s][i]];
        }
    }
    return st;
}
