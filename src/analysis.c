/* analysis.c - building blocks of the analyses (see analysis.h). */
#include "salient/analysis.h"

#include <stdlib.h>
#include <string.h>

#include "salient/dataset.h"
#include "salient/ranking.h"

/* ---- Control task --------------------------------------------------------------- */

typedef struct word_ref {
    const char *w; /* the token's word */
    int64_t t;     /* its global token index */
} word_ref;

/* Byte-wise order of words, then token order (so the sort is total). */
static int cmp_word_ref(const void *a, const void *b)
{
    const word_ref *x = a, *y = b;
    int c = strcmp(x->w, y->w);
    if (c)
        return c;
    return (x->t > y->t) - (x->t < y->t);
}

/* An unbiased draw in [0, bound) (bound >= 1) from the splitmix64 stream at *state:
 * outputs below 2^64 mod bound are rejected, so every residue is equally likely. */
static uint64_t draw_below(uint64_t *state, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound, x;
    do
        x = sal_ranking_splitmix64(state);
    while (x < threshold);
    return x % bound;
}

sal_status sal_control_labels(const sal_corpus *words, const int32_t *label, int nclasses,
                              const int8_t *split, uint64_t seed, int32_t *control)
{
    sal_status st = SAL_OK;
    int64_t ntok = words->ntok;
    uint64_t *cum = NULL, total = 0;
    word_ref *refs = NULL;
    if (nclasses < 1)
        return sal_fail(SAL_ERR_ARG, "control task: %d classes", nclasses);
    for (int64_t t = 0; t < ntok; t++)
        if (label[t] < -1 || label[t] >= nclasses)
            return sal_fail(SAL_ERR_FORMAT, "control task: label %d of token %lld is outside "
                            "[-1, %d)", (int)label[t], (long long)t, nclasses);
    cum = calloc((size_t)nclasses, sizeof(*cum));
    refs = malloc(sizeof(*refs) * (size_t)(ntok > 0 ? ntok : 1));
    if (!cum || !refs) {
        st = sal_fail(SAL_ERR_NOMEM, "control task: out of memory for %lld tokens",
                      (long long)ntok);
        goto free_all;
    }
    /* the train distribution, as cumulative counts */
    for (int64_t s = 0; s < words->nsent; s++)
        if (split[s] == SAL_SPLIT_TRAIN)
            for (int64_t t = words->sent_start[s]; t < words->sent_start[s + 1]; t++)
                if (label[t] >= 0)
                    cum[label[t]]++;
    for (int c = 0; c < nclasses; c++)
        cum[c] = total += cum[c];
    if (total == 0) {
        st = sal_fail(SAL_ERR_ARG, "control task: no train token has a known label");
        goto free_all;
    }
    /* word types in byte-wise order; one draw per type */
    for (int64_t t = 0; t < ntok; t++)
        refs[t] = (word_ref){sal_corpus_word(words, t), t};
    qsort(refs, (size_t)ntok, sizeof(*refs), cmp_word_ref);
    uint64_t state = seed;
    for (int64_t a = 0, b; a < ntok; a = b) {
        uint64_t r = draw_below(&state, total);
        int32_t cls = 0;
        while (cum[cls] <= r) /* the first class whose cumulative count exceeds r */
            cls++;
        for (b = a; b < ntok && strcmp(refs[b].w, refs[a].w) == 0; b++)
            control[refs[b].t] = label[refs[b].t] < 0 ? -1 : cls;
    }
free_all:
    free(cum);
    free(refs);
    return st;
}

/* ---- Layer distribution ----------------------------------------------------------- */

void sal_layer_dist_free(sal_layer_dist *d)
{
    if (!d)
        return;
    free(d->layer);
    free(d->count);
    free(d->share);
    memset(d, 0, sizeof(*d));
}

sal_status sal_layer_distribution(const int64_t *idx, int64_t n, int nsel, const int64_t *widths,
                                  const int *layers, sal_layer_dist *out)
{
    sal_status st = SAL_OK;
    int64_t *start = NULL, D = 0;
    unsigned char *seen = NULL;
    memset(out, 0, sizeof(*out));
    if (nsel < 1)
        return sal_fail(SAL_ERR_ARG, "layer distribution: %d layers selected", nsel);
    if (n < 0)
        return sal_fail(SAL_ERR_ARG, "layer distribution: %lld neurons", (long long)n);
    for (int l = 0; l < nsel; l++) {
        if (widths[l] < 1)
            return sal_fail(SAL_ERR_ARG, "layer distribution: width %lld of selected layer %d",
                            (long long)widths[l], l);
        D += widths[l];
    }
    out->nsel = nsel;
    out->n = n;
    out->layer = malloc(sizeof(*out->layer) * (size_t)nsel);
    out->count = calloc((size_t)nsel, sizeof(*out->count));
    out->share = calloc((size_t)nsel, sizeof(*out->share));
    start = malloc(sizeof(*start) * (size_t)(nsel + 1));
    seen = calloc((size_t)D, sizeof(*seen));
    if (!out->layer || !out->count || !out->share || !start || !seen) {
        st = sal_fail(SAL_ERR_NOMEM, "layer distribution: out of memory for %lld neurons",
                      (long long)D);
        goto free_tmp;
    }
    start[0] = 0;
    for (int l = 0; l < nsel; l++) {
        start[l + 1] = start[l] + widths[l];
        out->layer[l] = layers ? layers[l] : l;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t j = idx[i];
        if (j < 0 || j >= D) {
            st = sal_fail(SAL_ERR_ARG, "layer distribution: neuron %lld outside [0, %lld)",
                          (long long)j, (long long)D);
            goto free_tmp;
        }
        if (seen[j]) {
            st = sal_fail(SAL_ERR_ARG, "layer distribution: neuron %lld listed twice",
                          (long long)j);
            goto free_tmp;
        }
        seen[j] = 1;
        int lo = 0, hi = nsel - 1; /* the layer l with start[l] <= j < start[l + 1] */
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2;
            if (start[mid] <= j)
                lo = mid;
            else
                hi = mid - 1;
        }
        out->count[lo]++;
        out->third_count[(int)(3 * (int64_t)lo / nsel)]++;
    }
    for (int l = 0; l < nsel; l++)
        out->share[l] = n > 0 ? (double)out->count[l] / (double)n : 0;
    for (int k = 0; k < 3; k++)
        out->third_share[k] = n > 0 ? (double)out->third_count[k] / (double)n : 0;
free_tmp:
    free(start);
    free(seen);
    if (st)
        sal_layer_dist_free(out);
    return st;
}

/* ---- Zero-out evaluation ------------------------------------------------------------ */

sal_status sal_zero_out_probe(const sal_probe *pr, const int64_t *subset, int64_t k,
                              sal_zero_mode mode, sal_probe *out)
{
    int64_t D = pr->D;
    int C = pr->C;
    *out = *pr;
    out->W = NULL;
    out->b = NULL;
    if (k < 0)
        return sal_fail(SAL_ERR_ARG, "zero-out: subset of %lld neurons", (long long)k);
    for (int64_t i = 0; i < k; i++)
        if (subset[i] < 0 || subset[i] >= D)
            return sal_fail(SAL_ERR_ARG, "zero-out: neuron %lld outside [0, %lld)",
                            (long long)subset[i], (long long)D);
    size_t wsz = sizeof(*out->W) * (size_t)(D * C), bsz = sizeof(*out->b) * (size_t)C;
    out->W = malloc(wsz > 0 ? wsz : 1);
    out->b = malloc(bsz > 0 ? bsz : 1);
    if (!out->W || !out->b) {
        sal_probe_free(out);
        return sal_fail(SAL_ERR_NOMEM, "zero-out: out of memory for a %lld x %d probe",
                        (long long)D, C);
    }
    memcpy(out->b, pr->b, bsz);
    if (mode == SAL_ZERO_KEEP) {
        memset(out->W, 0, wsz);
        for (int64_t i = 0; i < k; i++)
            for (int c = 0; c < C; c++)
                out->W[subset[i] + c * D] = pr->W[subset[i] + c * D];
    } else {
        memcpy(out->W, pr->W, wsz);
        for (int64_t i = 0; i < k; i++)
            for (int c = 0; c < C; c++)
                out->W[subset[i] + c * D] = 0;
    }
    return SAL_OK;
}

sal_status sal_zero_out_predict(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                                const int64_t *subset, int64_t k, sal_zero_mode mode,
                                int32_t *pred)
{
    sal_probe masked = {0};
    sal_status st = sal_agree(sal_zero_out_probe(pr, subset, k, mode, &masked), sal_grid_comm(g));
    if (st == SAL_OK)
        st = sal_probe_predict(&masked, X, g, pred);
    sal_probe_free(&masked);
    return st;
}

sal_status sal_zero_out_accuracy(const sal_probe *pr, const sal_pmat *X, const sal_grid *g,
                                 const int32_t *y, const int64_t *subset, int64_t k,
                                 double *keep, double *ablate)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t N = X->desc[SAL_M], scored = 0;
    sal_status st = SAL_OK;
    int32_t *pred = malloc(sizeof(*pred) * (size_t)(N > 0 ? N : 1));
    double *acc[2] = {keep, ablate};
    if (!pred)
        st = sal_fail(SAL_ERR_NOMEM, "zero-out: out of memory for %lld predictions",
                      (long long)N);
    for (int64_t i = 0; i < N; i++)
        scored += y[i] >= 0;
    if (!st && scored == 0)
        st = sal_fail(SAL_ERR_ARG, "zero-out: no row has a known label");
    if ((st = sal_agree(st, comm)))
        goto free_pred;
    for (int m = 0; m < 2; m++) {
        if (!acc[m])
            continue;
        st = sal_zero_out_predict(pr, X, g, subset, k, m ? SAL_ZERO_ABLATE : SAL_ZERO_KEEP, pred);
        if (st)
            goto free_pred;
        int64_t right = 0;
        for (int64_t i = 0; i < N; i++)
            right += y[i] >= 0 && pred[i] == y[i];
        *acc[m] = (double)right / (double)scored;
    }
free_pred:
    free(pred);
    return st;
}

/* ---- Column subsets ------------------------------------------------------------------ */

sal_status sal_pmat_select_columns(const sal_pmat *X, const sal_grid *g, const int64_t *cols,
                                   int64_t ncols, sal_pmat *out)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t N = X->desc[SAL_M], D = X->desc[SAL_N];
    sal_status st = SAL_OK;
    memset(out, 0, sizeof(*out));
    if (ncols < 0)
        st = sal_fail(SAL_ERR_ARG, "select columns: %lld columns", (long long)ncols);
    for (int64_t j = 0; j < ncols && !st; j++)
        if (cols[j] < 0 || cols[j] >= D)
            st = sal_fail(SAL_ERR_ARG, "select columns: column %lld outside [0, %lld)",
                          (long long)cols[j], (long long)D);
    if (!st)
        st = sal_pmat_init(out, g, N, ncols, X->desc[SAL_MB], ncols > 0 ? ncols : 1);
    if ((st = sal_agree(st, comm))) {
        sal_pmat_free(out);
        return st;
    }
    if (sal_grid_npcol(g) == 1 && X->desc[SAL_RSRC] == 0 && X->desc[SAL_CSRC] == 0) {
        /* every process holds all columns of its rows, blocked as out's */
        int64_t ldx = X->desc[SAL_LLD], ldo = out->desc[SAL_LLD];
        for (int64_t j = 0; j < ncols; j++)
            memcpy(out->a + j * ldo, X->a + cols[j] * ldx, sizeof(*out->a) * (size_t)out->lrows);
        return SAL_OK;
    }
    /* runs of consecutive columns, one redistribution each */
    int ctxt = sal_grid_context(g), m = (int)N, one = 1;
    for (int64_t a = 0, b; a < ncols; a = b) {
        for (b = a + 1; b < ncols && cols[b] == cols[b - 1] + 1; b++)
            ;
        int n = (int)(b - a), ja = (int)cols[a] + 1, jb = (int)a + 1;
        pdgemr2d_(&m, &n, X->a, &one, &ja, X->desc, out->a, &one, &jb, out->desc, &ctxt);
    }
    return SAL_OK;
}
