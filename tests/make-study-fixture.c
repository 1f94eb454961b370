/*
 * make-study-fixture.c - a synthetic study for the pipeline tests: three models of
 * four layers (m-base, its fine-tuned variant m-ft, and m-other), three tasks (A lives
 * in 6 neurons of layer 0, B in 6 neurons of layer 3, C has no signal), label files
 * and a job file using every analysis. The three models share only the label-driven
 * parts of those 12 neurons (the rest is independent noise), so those are the
 * neurons with the highest cross-model correlation. Usage: make-study-fixture DIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "salient/ranking.h"
#include "salient/shard.h"

#define NSENT 240
#define SLEN 10
#define NL 4
#define LW 16

static uint64_t rng;
static double urand(void)
{
    return (double)(sal_ranking_splitmix64(&rng) >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    return sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand());
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make-study-fixture DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[1024];
    mkdir(dir, 0777);
    int64_t N = (int64_t)NSENT * SLEN;
    int *word = malloc(sizeof(int) * (size_t)N), *lab[3];
    rng = 99;
    for (int t = 0; t < 3; t++)
        lab[t] = malloc(sizeof(int) * (size_t)N);
    for (int64_t i = 0; i < N; i++) {
        word[i] = (int)(urand() * 200);
        for (int t = 0; t < 3; t++)
            lab[t][i] = (int)(urand() * 3);
    }
    /* label files: one sentence per line */
    const char *tname[3] = {"A", "B", "C"};
    for (int t = 0; t < 3; t++) {
        snprintf(path, sizeof(path), "%s/%s.txt", dir, tname[t]);
        FILE *f = fopen(path, "w");
        for (int s = 0; s < NSENT; s++)
            for (int k = 0; k < SLEN; k++)
                fprintf(f, "%c%d%c", tname[t][0], lab[t][s * SLEN + k], k + 1 < SLEN ? ' ' : '\n');
        fclose(f);
    }
    const char *mname[3] = {"m-base", "m-ft", "m-other"};
    double strength[3] = {0.9, 1.2, 0.7};
    int widths[NL] = {LW, LW, LW, LW};
    for (int mi = 0; mi < 3; mi++) {
        sal_model_desc d = {mname[mi], "synthetic", mi == 1 ? "m-base" : "", "last",
                            "make-study-fixture", NL, widths};
        sal_shard_writer *w;
        snprintf(path, sizeof(path), "%s/%s", dir, mname[mi]);
        if (sal_shard_writer_open(path, &d, 60, 1, &w)) {
            fprintf(stderr, "%s\n", sal_errmsg());
            return 1;
        }
        float *act[NL];
        for (int l = 0; l < NL; l++)
            act[l] = malloc(sizeof(float) * SLEN * LW);
        char wbuf[SLEN][16];
        const char *words[SLEN];
        for (int s = 0; s < NSENT; s++) {
            for (int k = 0; k < SLEN; k++) {
                int64_t i = (int64_t)s * SLEN + k;
                snprintf(wbuf[k], sizeof(wbuf[k]), "w%d", word[i]);
                words[k] = wbuf[k];
                for (int l = 0; l < NL; l++)
                    for (int j = 0; j < LW; j++) {
                        double v = nrand() + 3.0 * l;
                        if (l == 0 && j < 6) /* A: one-hot-ish pattern over 6 neurons */
                            v += strength[mi] * (j % 3 == lab[0][i] ? 1 : -0.5);
                        if (l == NL - 1 && j >= 4 && j < 10)
                            v += strength[mi] * (j % 3 == lab[1][i] ? 1 : -0.5);
                        act[l][k * LW + j] = (float)v;
                    }
            }
            if (sal_shard_writer_add(w, SLEN, words, (const float *const *)act)) {
                fprintf(stderr, "%s\n", sal_errmsg());
                return 1;
            }
        }
        if (sal_shard_writer_finish(w)) {
            fprintf(stderr, "%s\n", sal_errmsg());
            return 1;
        }
        for (int l = 0; l < NL; l++)
            free(act[l]);
    }
    snprintf(path, sizeof(path), "%s/study.cfg", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "study = \"synthetic\";\n"
               "models = (\n"
               "  { name = \"m-base\"; shards = \"m-base\"; architecture = \"synthetic\"; },\n"
               "  { name = \"m-ft\"; shards = \"m-ft\"; architecture = \"synthetic\"; base = \"m-base\"; },\n"
               "  { name = \"m-other\"; shards = \"m-other\"; architecture = \"other\"; }\n"
               ");\n"
               "tasks = ( { name = \"A\"; labels = \"A.txt\"; }, { name = \"B\"; labels = \"B.txt\"; },\n"
               "          { name = \"C\"; labels = \"C.txt\"; } );\n"
               "split = { train = 0.6; dev = 0.2; test = 0.2; seed = 3; };\n"
               "probe = { l1 = 1e-3; l2 = 1e-3; tol = 1e-6; };\n"
               "analyses = { run = [\"layerwise\", \"minimal\", \"ablation\", \"control\", \"redundancy\",\n"
               "                     \"crossmodel\"]; };\n");
    fclose(f);
    free(word);
    for (int t = 0; t < 3; t++)
        free(lab[t]);
    return 0;
}
