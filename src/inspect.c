/* inspect.c - summary statistics of a model's activation shards (see inspect.h). */
#include "salient/inspect.h"

#include <math.h>
#include <stdlib.h>

#define INSPECT_ROWS 2048 /* tokens read at a time */

sal_status sal_inspect_layers(sal_model *m, sal_layer_stats *stats)
{
    const sal_model_desc *d = sal_model_get_desc(m);
    int64_t ntok = sal_model_ntok(m), maxw = 0;
    for (int l = 0; l < d->nlayers; l++)
        if (d->layer_width[l] > maxw)
            maxw = d->layer_width[l];
    float *buf = malloc(sizeof(*buf) * (size_t)(INSPECT_ROWS * maxw));
    if (!buf)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for inspect");
    sal_status st = SAL_OK;
    sal_rows rows = {.nrows = ntok, .tok0 = 0, .tokens = NULL};
    for (int l = 0; l < d->nlayers && st == SAL_OK; l++) {
        /* mean and sum of squared deviations, merged block by block (Chan et al. 1979) */
        double n = 0, mean = 0, m2 = 0, lo = INFINITY, hi = -INFINITY;
        int64_t w = d->layer_width[l];
        for (int64_t r0 = 0; r0 < ntok && st == SAL_OK; r0 += INSPECT_ROWS) {
            int64_t nr = ntok - r0 < INSPECT_ROWS ? ntok - r0 : INSPECT_ROWS;
            st = sal_model_read_block(m, 1, &l, &rows, r0, nr, 0, w, buf, nr);
            if (st)
                break;
            int64_t nb = nr * w;
            double s = 0;
            for (int64_t i = 0; i < nb; i++) {
                s += buf[i];
                if (buf[i] < lo)
                    lo = buf[i];
                if (buf[i] > hi)
                    hi = buf[i];
            }
            double bmean = s / (double)nb, bm2 = 0;
            for (int64_t i = 0; i < nb; i++)
                bm2 += (buf[i] - bmean) * (buf[i] - bmean);
            double tot = n + (double)nb, delta = bmean - mean;
            mean += delta * (double)nb / tot;
            m2 += bm2 + delta * delta * n * (double)nb / tot;
            n = tot;
        }
        stats[l] = (sal_layer_stats){.count = (int64_t)n,
                                     .mean = mean,
                                     .std = n > 0 ? sqrt(m2 / n) : 0,
                                     .min = lo,
                                     .max = hi};
    }
    free(buf);
    return st;
}

sal_status sal_inspect_print(sal_model *m, FILE *f)
{
    const sal_model_desc *d = sal_model_get_desc(m);
    sal_layer_stats *stats = calloc((size_t)d->nlayers, sizeof(*stats));
    if (!stats)
        return sal_fail(SAL_ERR_NOMEM, "out of memory for inspect");
    sal_status st = sal_inspect_layers(m, stats);
    if (st)
        goto done;
    int64_t total = 0;
    for (int l = 0; l < d->nlayers; l++)
        total += d->layer_width[l];
    fprintf(f, "model         %s\n", d->name);
    fprintf(f, "folder        %s\n", sal_model_dir(m));
    fprintf(f, "architecture  %s\n", d->architecture[0] ? d->architecture : "-");
    fprintf(f, "base model    %s\n", d->base_model[0] ? d->base_model : "- (not fine-tuned)");
    fprintf(f, "pooling       %s\n", d->pooling[0] ? d->pooling : "-");
    fprintf(f, "producer      %s\n", d->producer[0] ? d->producer : "-");
    fprintf(f, "sentences     %lld\n", (long long)sal_model_nsent(m));
    fprintf(f, "tokens        %lld\n", (long long)sal_model_ntok(m));
    fprintf(f, "shards        %lld\n", (long long)sal_model_nshards(m));
    fprintf(f, "layers        %d (%lld neurons in all)\n\n", d->nlayers, (long long)total);
    fprintf(f, "%5s %7s %14s %14s %14s %14s\n", "layer", "width", "mean", "std", "min", "max");
    for (int l = 0; l < d->nlayers; l++)
        fprintf(f, "%5d %7d %14.6g %14.6g %14.6g %14.6g\n", l, d->layer_width[l],
                stats[l].mean, stats[l].std, stats[l].min, stats[l].max);
    if (ferror(f))
        st = sal_fail(SAL_ERR_IO, "cannot write the summary");
done:
    free(stats);
    return st;
}
