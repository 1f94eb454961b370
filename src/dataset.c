/* dataset.c - splits, token lists, layer selections, activation matrices (see dataset.h). */
#include "salient/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea & Flood 2014): a tiny generator whose stream is the same
 * everywhere, so a seed names one split forever. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

sal_status sal_split_sentences(int64_t nsent, double f_train, double f_dev, double f_test,
                               uint64_t seed, int8_t *split)
{
    if (!(f_train >= 0) || !(f_dev >= 0) || !(f_test >= 0) ||
        fabs(f_train + f_dev + f_test - 1) > 1e-9)
        return sal_fail(SAL_ERR_ARG,
                        "split fractions %g,%g,%g must be >= 0 and sum to 1", f_train, f_dev,
                        f_test);
    int64_t ntrain = llround(f_train * (double)nsent), ndev = llround(f_dev * (double)nsent);
    if (ntrain + ndev > nsent)
        ndev = nsent - ntrain;
    int64_t ntest = nsent - ntrain - ndev;
    const char *empty = f_train > 0 && ntrain == 0 ? "train"
                        : f_dev > 0 && ndev == 0   ? "dev"
                        : f_test > 0 && ntest == 0 ? "test"
                                                   : NULL;
    if (empty)
        return sal_fail(SAL_ERR_ARG,
                        "the %s split is empty: %lld sentences split %g,%g,%g give it none",
                        empty, (long long)nsent, f_train, f_dev, f_test);
    if (ntrain == 0)
        return sal_fail(SAL_ERR_ARG, "the train split is empty");
    int64_t *perm = malloc(sizeof(*perm) * (size_t)(nsent > 0 ? nsent : 1));
    if (!perm)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    uint64_t state = seed;
    for (int64_t i = 0; i < nsent; i++)
        perm[i] = i;
    for (int64_t i = nsent - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t k = (int64_t)(splitmix64(&state) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    for (int64_t i = 0; i < nsent; i++)
        split[perm[i]] = i < ntrain ? SAL_SPLIT_TRAIN
                         : i < ntrain + ndev ? SAL_SPLIT_DEV
                                             : SAL_SPLIT_TEST;
    free(perm);
    return SAL_OK;
}

sal_status sal_split_tokens(const int64_t *sent_start, int64_t nsent, const int8_t *split,
                            int which, int64_t **tokens, int64_t *ntok)
{
    int64_t n = 0;
    for (int64_t s = 0; s < nsent; s++)
        if (split[s] == which)
            n += sent_start[s + 1] - sent_start[s];
    *ntok = n;
    *tokens = malloc(sizeof(**tokens) * (size_t)(n > 0 ? n : 1));
    if (!*tokens)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for %lld token indices", (long long)n);
    n = 0;
    for (int64_t s = 0; s < nsent; s++)
        if (split[s] == which)
            for (int64_t t = sent_start[s]; t < sent_start[s + 1]; t++)
                (*tokens)[n++] = t;
    return SAL_OK;
}

sal_status sal_parse_layers(const char *text, int nlayers, int *layers, int *nsel)
{
    *nsel = 0;
    if (strcmp(text, "all") == 0) {
        for (int l = 0; l < nlayers; l++)
            layers[l] = l;
        *nsel = nlayers;
        return SAL_OK;
    }
    char seen[SAL_MAX_LAYERS] = {0};
    const char *p = text;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            return sal_fail(SAL_ERR_ARG, "layers '%s': expected a number at '%s'", text, p);
        if (*end == '-') {
            const char *q = end + 1;
            b = strtol(q, &end, 10);
            if (end == q)
                return sal_fail(SAL_ERR_ARG, "layers '%s': bad range at '%s'", text, p);
        }
        if (a < 0 || b < a || b >= nlayers)
            return sal_fail(SAL_ERR_ARG, "layers '%s': %ld..%ld is outside 0..%d", text, a, b,
                            nlayers - 1);
        for (long l = a; l <= b; l++) {
            if (seen[l])
                return sal_fail(SAL_ERR_ARG, "layers '%s': layer %ld listed twice", text, l);
            seen[l] = 1;
            layers[(*nsel)++] = (int)l;
        }
        if (*end == ',')
            end++;
        else if (*end)
            return sal_fail(SAL_ERR_ARG, "layers '%s': unexpected '%s'", text, end);
        p = end;
    }
    if (*nsel == 0)
        return sal_fail(SAL_ERR_ARG, "layers: empty selection");
    return SAL_OK;
}

sal_status sal_load_matrix(sal_model *m, int nsel, const int *layers, const sal_rows *rows,
                           const sal_grid *g, int64_t mb, sal_pmat *X)
{
    MPI_Comm comm = sal_grid_comm(g);
    int64_t D = sal_model_width(m, nsel, layers);
    float *buf = NULL;
    sal_status st = SAL_OK;
    memset(X, 0, sizeof(*X));
    if (D < 1)
        st = sal_fail(SAL_ERR_ARG, "%s: bad layer selection", sal_model_dir(m));
    if (st == SAL_OK)
        st = sal_pmat_init(X, g, rows->nrows, D, mb, D);
    if (st == SAL_OK) {
        size_t len = (size_t)X->desc[SAL_LLD] * (size_t)(X->lcols > 0 ? X->lcols : 1);
        if (!(buf = malloc(sizeof(*buf) * len)))
            st = sal_fail(SAL_ERR_NOMEM, "out of memory for %lld x %lld activations",
                          (long long)X->lrows, (long long)X->lcols);
    }
    if (st == SAL_OK)
        st = sal_model_read_bc(m, nsel, layers, rows, X->desc, buf);
    if (st == SAL_OK) {
        int64_t lld = X->desc[SAL_LLD];
        for (int64_t j = 0; j < X->lcols; j++)
            for (int64_t i = 0; i < X->lrows; i++)
                X->a[i + j * lld] = buf[i + j * lld];
    }
    free(buf);
    int code = (int)st, worst = 0;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (worst != SAL_OK) {
        if (code == SAL_OK)
            sal_fail((sal_status)worst, "another process failed to read %s", sal_model_dir(m));
        sal_pmat_free(X);
    }
    return (sal_status)worst;
}
