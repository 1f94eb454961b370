/*
 * check-probe-file.c - recompute a probe's objective from PROBE.nc, the model's shards
 * and the labels file alone (no solver code), and compare it with the objective the
 * file records. Usage: check-probe-file MODEL_DIR LABELS PROBE.nc. Exit 0 if they
 * agree to 1e-9 relative.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>

#include "salient/labels.h"
#include "salient/shard.h"

#define NC(call)                                                                           \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_) {                                                                         \
            fprintf(stderr, "%s: %s\n", #call, nc_strerror(rc_));                         \
            return 2;                                                                      \
        }                                                                                  \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: check-probe-file MODEL_DIR LABELS PROBE.nc\n");
        return 2;
    }
    int ncid, v, dim;
    size_t C, D, S, L;
    NC(nc_open(argv[3], NC_NOWRITE, &ncid));
    NC(nc_inq_dimid(ncid, "class", &dim));
    NC(nc_inq_dimlen(ncid, dim, &C));
    NC(nc_inq_dimid(ncid, "neuron", &dim));
    NC(nc_inq_dimlen(ncid, dim, &D));
    NC(nc_inq_dimid(ncid, "sentence", &dim));
    NC(nc_inq_dimlen(ncid, dim, &S));
    NC(nc_inq_dimid(ncid, "layer", &dim));
    NC(nc_inq_dimlen(ncid, dim, &L));
    double *W = malloc(sizeof(double) * C * D), *b = malloc(sizeof(double) * C), l1, l2, recorded;
    signed char *split = malloc(S);
    int *layer = malloc(sizeof(int) * L);
    char **names = calloc(C, sizeof(char *));
    NC(nc_inq_varid(ncid, "weight", &v));
    NC(nc_get_var_double(ncid, v, W));
    NC(nc_inq_varid(ncid, "bias", &v));
    NC(nc_get_var_double(ncid, v, b));
    NC(nc_inq_varid(ncid, "split", &v));
    NC(nc_get_var_schar(ncid, v, split));
    NC(nc_inq_varid(ncid, "layer", &v));
    NC(nc_get_var_int(ncid, v, layer));
    NC(nc_inq_varid(ncid, "class_name", &v));
    NC(nc_get_var_string(ncid, v, names));
    NC(nc_get_att_double(ncid, NC_GLOBAL, "lambda1", &l1));
    NC(nc_get_att_double(ncid, NC_GLOBAL, "lambda2", &l2));
    NC(nc_get_att_double(ncid, NC_GLOBAL, "objective", &recorded));
    nc_close(ncid);

    sal_model *m;
    sal_corpus words = SAL_CORPUS_INIT;
    sal_labels lab;
    if (sal_model_open(argv[1], &m) || sal_model_read_corpus(m, &words) ||
        sal_labels_read_tags(argv[2], &words, argv[1], &lab)) {
        fprintf(stderr, "%s\n", sal_errmsg());
        return 2;
    }
    /* the train tokens, their probe class (by name), and their activations */
    double loss = 0;
    int64_t n = 0;
    float *x = malloc(sizeof(float) * D);
    double *z = malloc(sizeof(double) * C);
    for (size_t s = 0; s < S; s++) {
        if (split[s] != 0)
            continue;
        for (int64_t t = words.sent_start[s]; t < words.sent_start[s + 1]; t++) {
            int y = -1;
            for (size_t c = 0; c < C; c++)
                if (strcmp(names[c], lab.class_name[lab.label[t]]) == 0)
                    y = (int)c;
            if (y < 0) {
                fprintf(stderr, "train token %lld has a class the probe lacks\n", (long long)t);
                return 1;
            }
            sal_rows rows = {.nrows = 1, .tok0 = t};
            if (sal_model_read_block(m, (int)L, layer, &rows, 0, 1, 0, (int64_t)D, x, 1)) {
                fprintf(stderr, "%s\n", sal_errmsg());
                return 2;
            }
            double zmax = -INFINITY, sum = 0;
            for (size_t c = 0; c < C; c++) {
                z[c] = b[c];
                for (size_t j = 0; j < D; j++)
                    z[c] += W[c * D + j] * x[j];
                zmax = fmax(zmax, z[c]);
            }
            for (size_t c = 0; c < C; c++)
                sum += exp(z[c] - zmax);
            loss += zmax + log(sum) - z[y];
            n++;
        }
    }
    double pen = 0;
    for (size_t i = 0; i < C * D; i++)
        pen += l1 * fabs(W[i]) + l2 * W[i] * W[i];
    double obj = loss / (double)n + pen;
    int ok = fabs(obj - recorded) <= 1e-9 * fabs(recorded);
    printf("recomputed objective %.15g, recorded %.15g over %lld train tokens: %s\n", obj,
           recorded, (long long)n, ok ? "agree" : "DIFFER");
    nc_free_string(C, names);
    sal_labels_free(&lab);
    sal_corpus_free(&words);
    sal_model_close(m);
    return ok ? 0 : 1;
}
