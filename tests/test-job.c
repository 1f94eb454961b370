/*
 * test-job.c - job files: a valid job loads with the right values (paths resolved
 * against the job's folder, lambda grids, defaults); every kind of mistake gives
 * SAL_ERR_FORMAT naming FILE:LINE and the setting; missing files are found by
 * sal_job_check_files; the shipped jobs/example.cfg loads.
 *
 * Usage: test-job SCRATCH_DIR EXAMPLE_CFG
 *
 * A mistake's expected line is marked in the job text with a trailing "#<<" comment.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "salient/job.h"
#include "testutil.h"

static char scratch[PATH_MAX];

/* mkdir -p for one level under an existing parent; 0 on success or when it exists. */
static int make_dir(const char *path) { return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1; }

/* Write text to scratch/name; return the full path in buf. */
static const char *write_file(const char *name, const char *text, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", scratch, name);
    FILE *f = fopen(buf, "w");
    CHECK(f != NULL, "cannot create %s", buf);
    if (f) {
        fputs(text, f);
        CHECK(fclose(f) == 0, "cannot write %s", buf);
    }
    return buf;
}

/* 1-based line of text that holds the marker "#<<" (0 if none). */
static int marked_line(const char *text)
{
    const char *m = strstr(text, "#<<");
    if (!m)
        return 0;
    int line = 1;
    for (const char *p = text; p < m; p++)
        line += *p == '\n';
    return line;
}

/* A job with one mistake: loading it fails with SAL_ERR_FORMAT, and the message has
 * "PATH:LINE:" (LINE marked with #<<, or line if given) and each of the words. */
static void expect_mistake(const char *name, int line, const char *text, const char *word1,
                           const char *word2)
{
    char path[PATH_MAX + 64], where[PATH_MAX + 96];
    write_file(name, text, path, sizeof(path));
    if (line == 0)
        line = marked_line(text);
    CHECK(line > 0, "%s: no #<< marker", name);
    snprintf(where, sizeof(where), "%s:%d: ", path, line);
    sal_job *j = (sal_job *)1;
    sal_status st = sal_job_load(path, &j);
    const char *msg = sal_errmsg();
    CHECK(st == SAL_ERR_FORMAT, "%s: got %s (%s)", name, sal_status_str(st), msg);
    CHECK(j == NULL, "%s: *out not NULL on failure", name);
    CHECK(strstr(msg, where) != NULL, "%s: message lacks '%s': %s", name, where, msg);
    CHECK(!word1 || strstr(msg, word1), "%s: message lacks '%s': %s", name, word1, msg);
    CHECK(!word2 || strstr(msg, word2), "%s: message lacks '%s': %s", name, word2, msg);
    if (st == SAL_OK)
        sal_job_free(j);
}

/* The tail of a job that is valid, for mistakes placed before it. */
#define TASKS "tasks = ( { name = \"pos\"; labels = \"pos.txt\"; } );\n"
#define ANALYSES "analyses = { run = [\"layerwise\"]; };\n"
#define ONE_MODEL "models = ( { name = \"a\"; shards = \"m/a\"; } );\n"

static const char VALID[] =
    "# a valid job\n"
    "study = \"unit-test\";\n"
    "output = \"out/here\";\n"
    "models = (\n"
    "  { name = \"base\"; shards = \"models/base\"; architecture = \"toy\"; },\n"
    "  { name = \"tuned\"; shards = \"models/tuned\"; base = \"base\"; layers = \"0,2\"; },\n"
    "  { name = \"rand\"; shards = \"/abs/rand\"; control = true; layers = \"1-3\"; },\n"
    "  { name = \"one\"; shards = \"models/one\"; layers = 2; }\n"
    ");\n"
    "tasks = (\n"
    "  { name = \"pos\"; labels = \"data/pos.txt\"; sentences = \"data/sent.txt\"; },\n"
    "  { name = \"sfx\"; brown = [\"brown/ca01\", \"brown/ca02\"]; derive = \"suffix\"; },\n"
    "  { name = \"coarse\"; brown = \"brown/ca01\"; derive = \"pos-coarse\"; },\n"
    "  { name = \"depth\"; values = \"data/depth.txt\"; }\n"
    ");\n"
    "split = { train = 0.7; dev = 0.2; test = 0.1; seed = 42; };\n"
    "probe = { l1 = [1e-5, 1e-4, 1e-3]; l2 = 0; tol = 1e-7; max_iter = 500;\n"
    "          metric = \"diagonal\"; };\n"
    "analyses = { run = [\"layerwise\", \"minimal\", \"crossmodel\", \"redundancy\"];\n"
    "             delta = 0.02; stride = 50; cluster_t = 0.25; };\n";

/* Compare a resolved path with scratch/rel (job folder = scratch). */
static void check_path(const char *what, const char *got, const char *rel)
{
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s/%s", scratch, rel);
    CHECK(got && strcmp(got, want) == 0, "%s: '%s', expected '%s'", what, got ? got : "(null)",
          want);
}

static void test_valid(void)
{
    char path[PATH_MAX + 64];
    sal_job *j = NULL;
    write_file("valid.cfg", VALID, path, sizeof(path));
    CHECK_OK(sal_job_load(path, &j));
    if (!j)
        return;
    CHECK(strcmp(j->study, "unit-test") == 0, "study '%s'", j->study);
    check_path("output", j->output, "out/here");
    CHECK(strcmp(j->dir, scratch) == 0, "dir '%s'", j->dir);
    CHECK(j->nmodels == 4, "nmodels %d", j->nmodels);
    CHECK(j->ntasks == 4, "ntasks %d", j->ntasks);
    if (j->nmodels == 4) {
        check_path("models[0].shards", j->models[0].shards, "models/base");
        check_path("models[1].shards", j->models[1].shards, "models/tuned");
        CHECK(strcmp(j->models[2].shards, "/abs/rand") == 0, "absolute shards '%s'",
              j->models[2].shards);
        CHECK(strcmp(j->models[0].architecture, "toy") == 0, "architecture");
        CHECK(strcmp(j->models[1].architecture, "") == 0, "no architecture -> \"\"");
        CHECK(j->models[0].base == -1 && j->models[1].base == 0 && j->models[2].base == -1,
              "bases %d %d %d", j->models[0].base, j->models[1].base, j->models[2].base);
        CHECK(strcmp(j->models[0].layers, "all") == 0, "default layers '%s'", j->models[0].layers);
        CHECK(strcmp(j->models[1].layers, "0,2") == 0, "layers '%s'", j->models[1].layers);
        CHECK(strcmp(j->models[2].layers, "1-3") == 0, "layers '%s'", j->models[2].layers);
        CHECK(strcmp(j->models[3].layers, "2") == 0, "layers as a number '%s'",
              j->models[3].layers);
        CHECK(!j->models[0].control && j->models[2].control, "control flags");
        CHECK(j->models[1].line == 6 && j->models[1].shards_line == 6, "model lines %d %d",
              j->models[1].line, j->models[1].shards_line);
        CHECK(sal_job_find_model(j, "tuned") == 1 && sal_job_find_model(j, "nope") == -1,
              "find_model");
    }
    if (j->ntasks == 4) {
        const sal_job_task *t = j->tasks;
        CHECK(t[0].kind == SAL_JOB_TASK_LABELS && t[0].derive == SAL_JOB_DERIVE_NONE,
              "task 0 kind %d", t[0].kind);
        check_path("tasks[0].labels", t[0].labels, "data/pos.txt");
        check_path("tasks[0].sentences", t[0].sentences, "data/sent.txt");
        CHECK(t[1].kind == SAL_JOB_TASK_BROWN && t[1].nbrown == 2 &&
                  t[1].derive == SAL_JOB_DERIVE_SUFFIX,
              "task 1 kind %d nbrown %d derive %d", t[1].kind, t[1].nbrown, t[1].derive);
        if (t[1].nbrown == 2) {
            check_path("tasks[1].brown[0]", t[1].brown[0], "brown/ca01");
            check_path("tasks[1].brown[1]", t[1].brown[1], "brown/ca02");
        }
        CHECK(t[1].labels == NULL && t[1].sentences == NULL, "brown task has no labels");
        CHECK(t[2].nbrown == 1 && t[2].derive == SAL_JOB_DERIVE_POS_COARSE,
              "single brown file %d derive %d", t[2].nbrown, t[2].derive);
        CHECK(t[3].kind == SAL_JOB_TASK_VALUES, "task 3 kind %d", t[3].kind);
        check_path("tasks[3].values", t[3].values, "data/depth.txt");
        CHECK(sal_job_find_task(j, "depth") == 3, "find_task");
        CHECK(strcmp(sal_job_derive_name(t[2].derive), "pos-coarse") == 0, "derive name");
        CHECK(strcmp(sal_job_kind_name(t[3].kind), "values") == 0, "kind name");
    }
    CHECK(j->split[0] == 0.7 && j->split[1] == 0.2 && j->split[2] == 0.1 && j->seed == 42,
          "split %g %g %g seed %llu", j->split[0], j->split[1], j->split[2],
          (unsigned long long)j->seed);
    CHECK(j->nl1 == 3 && j->l1[0] == 1e-5 && j->l1[1] == 1e-4 && j->l1[2] == 1e-3, "l1 grid of %d",
          j->nl1);
    CHECK(j->nl2 == 1 && j->l2[0] == 0, "l2 grid of %d: %g", j->nl2, j->l2[0]);
    CHECK(j->lca.probe.lambda1 == 1e-5 && j->lca.probe.lambda2 == 0, "lca lambdas");
    CHECK(j->lca.probe.tol == 1e-7 && j->lca.probe.max_iter == 500 &&
              j->lca.probe.metric == SAL_PROBE_METRIC_DIAGONAL,
          "probe tol %g max_iter %d metric %d", j->lca.probe.tol, j->lca.probe.max_iter,
          j->lca.probe.metric);
    unsigned want = SAL_JOB_LAYERWISE | SAL_JOB_MINIMAL | SAL_JOB_CROSSMODEL | SAL_JOB_REDUNDANCY;
    CHECK(j->analyses == want, "analyses 0x%x, expected 0x%x", j->analyses, want);
    CHECK(j->lca.delta == 0.02 && j->lca.stride == 50 && j->lca.cluster_t == 0.25 &&
              j->lca.seed == 42 && j->lca.ablation == 0,
          "lca delta %g stride %d cluster_t %g seed %llu ablation %d", j->lca.delta, j->lca.stride,
          j->lca.cluster_t, (unsigned long long)j->lca.seed, j->lca.ablation);
    CHECK(strcmp(sal_job_analysis_name(SAL_JOB_CROSSMODEL), "crossmodel") == 0, "name");
    CHECK_OK(sal_job_set_output(j, "/tmp/elsewhere"));
    CHECK(strcmp(j->output, "/tmp/elsewhere") == 0, "set_output '%s'", j->output);
    sal_job_free(j);

    /* the defaults of the optional groups and settings */
    j = NULL;
    write_file("minimal.cfg", "study = \"m\";\n" ONE_MODEL TASKS ANALYSES, path, sizeof(path));
    CHECK_OK(sal_job_load(path, &j));
    if (j) {
        CHECK(j->output == NULL, "no output");
        CHECK(j->split[0] == 0.8 && j->split[1] == 0.1 && j->split[2] == 0.1 && j->seed == 1,
              "default split");
        CHECK(j->nl1 == 1 && j->l1[0] == 1e-5 && j->nl2 == 1 && j->l2[0] == 1e-5,
              "default lambdas");
        CHECK(j->lca.probe.tol == 1e-6 && j->lca.probe.max_iter == 20000 &&
                  j->lca.probe.metric == SAL_PROBE_METRIC_AUTO,
              "default probe");
        CHECK(j->analyses == SAL_JOB_LAYERWISE && j->lca.cluster_t == 0 && j->lca.delta == 0.01,
              "analyses 0x%x cluster_t %g", j->analyses, j->lca.cluster_t);
    }
    sal_job_free(j);

    /* parse from text, as a rank that received it: paths against the given path's folder */
    j = NULL;
    CHECK_OK(sal_job_parse("study = \"m\";\n" ONE_MODEL TASKS ANALYSES, "/no/such/dir/j.cfg", &j));
    if (j) {
        CHECK(strcmp(j->models[0].shards, "/no/such/dir/m/a") == 0, "parse: shards '%s'",
              j->models[0].shards);
    }
    sal_job_free(j);
    sal_job_free(NULL);
}

static void test_mistakes(void)
{
    /* syntax error, as libconfig reports it */
    expect_mistake("syntax.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "probe = {\n  tol = ;  #<<\n};\n" TASKS ANALYSES,
                   "syntax error", NULL);
    /* libconfig also refuses a setting given twice */
    expect_mistake("twice.cfg", 0, "study = \"s\";\nstudy = \"t\"; #<<\n" ONE_MODEL TASKS ANALYSES,
                   "duplicate setting", NULL);
    /* unknown settings, at the top and inside a model */
    expect_mistake("unknown-root.cfg", 0,
                   "study = \"s\";\nstudyy = 1; #<<\n" ONE_MODEL TASKS ANALYSES,
                   "unknown setting 'studyy'", NULL);
    expect_mistake("unknown-model.cfg", 0,
                   "study = \"s\";\nmodels = (\n { name = \"a\"; shards = \"m\";\n"
                   "   shard = \"x\"; }  #<<\n);\n" TASKS ANALYSES,
                   "models[0]", "unknown setting 'shard'");
    /* wrong types */
    expect_mistake("type-study.cfg", 0, "study = 3; #<<\n" ONE_MODEL TASKS ANALYSES, "study",
                   "must be a string");
    expect_mistake("type-control.cfg", 0,
                   "study = \"s\";\nmodels = ( { name = \"a\"; shards = \"m\";\n"
                   "  control = 1; } ); #<<\n" TASKS ANALYSES,
                   "models[0].control", "true or false");
    expect_mistake("type-models.cfg", 0,
                   "study = \"s\";\nmodels = { name = \"a\"; }; #<<\n" TASKS ANALYSES, "models",
                   "must be a list");
    /* missing required settings: the line of the enclosing group */
    expect_mistake("missing-shards.cfg", 0,
                   "study = \"s\";\nmodels = (\n  { name = \"a\"; } #<<\n);\n" TASKS ANALYSES,
                   "models[0]", "'shards' is missing");
    expect_mistake("missing-study.cfg", 1, ONE_MODEL TASKS ANALYSES, "'study' is missing", NULL);
    expect_mistake("missing-source.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = (\n { name = \"t\"; } #<<\n);\n" ANALYSES,
                   "tasks[0]", "needs one of");
    /* bad values */
    expect_mistake(
        "bad-name.cfg", 0,
        "study = \"s\";\nmodels = ( { name = \"a b\"; shards = \"m\"; } ); #<<\n" TASKS ANALYSES,
        "models[0].name", "not a usable name");
    expect_mistake("fraction.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
                   "split = { train = 1.5;  #<<\n dev = 0.1; test = 0.1; seed = 1; };\n",
                   "split.train", "outside");
    expect_mistake("fraction-sum.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
                   "split = { train = 0.5; dev = 0.2; test = 0.2; }; #<<\n",
                   "split", "not 1");
    expect_mistake("fraction-zero.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
                   "split = { train = 0.9; dev = 0.1;\n test = 0; }; #<<\n",
                   "split.test", "outside");
    expect_mistake("lambda.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
                   "probe = {\n  l1 = [1e-5,\n    -1e-4]; #<<\n};\n",
                   "probe.l1[1]", "negative");
    expect_mistake("lambda-one.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES "probe = { l2 = -1; }; #<<\n",
                   "probe.l2", "negative");
    expect_mistake("max-iter.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES "probe = { max_iter = 0; }; #<<\n",
                   "probe.max_iter", "outside");
    expect_mistake("metric.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
                   "probe = { metric = \"exact\"; }; #<<\n",
                   "probe.metric", "unknown metric 'exact'");
    expect_mistake("analysis.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS
                   "analyses = { run = [\"layerwise\",\n  \"layrwise\"]; }; #<<\n",
                   "analyses.run[1]", "unknown analysis 'layrwise'");
    expect_mistake("crossmodel.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS
                   "analyses = { run = [\"crossmodel\"]; }; #<<\n",
                   "analyses.run[0]", "at least two models");
    expect_mistake("delta.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL TASKS
                   "analyses = { run = \"minimal\"; delta = \"1%\"; }; #<<\n",
                   "analyses.delta", "must be a number");
    expect_mistake("empty-models.cfg", 0, "study = \"s\";\nmodels = ( ); #<<\n" TASKS ANALYSES,
                   "models", "empty");
    /* names */
    expect_mistake("dup-model.cfg", 0,
                   "study = \"s\";\nmodels = (\n { name = \"a\"; shards = \"m1\"; },\n"
                   " { name = \"a\"; shards = \"m2\"; } #<<\n);\n" TASKS ANALYSES,
                   "models[1]", "'a' is already used by models[0] (line 3)");
    expect_mistake("dup-task.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = (\n { name = \"t\"; labels = \"a\"; },\n"
                   " { name = \"t\"; values = \"b\"; } #<<\n);\n" ANALYSES,
                   "tasks[1]", "'t' is already used");
    expect_mistake(
        "base.cfg", 0,
        "study = \"s\";\nmodels = (\n { name = \"a\"; shards = \"m1\"; },\n"
        " { name = \"b\"; shards = \"m2\";\n   base = \"bert\"; } #<<\n);\n" TASKS ANALYSES,
        "models[1].base", "'bert' names no model");
    expect_mistake("cycle.cfg", 0,
                   "study = \"s\";\nmodels = (\n { name = \"a\"; shards = \"m1\"; base = \"b\"; },"
                   " #<<\n { name = \"b\"; shards = \"m2\"; base = \"a\"; }\n);\n" TASKS ANALYSES,
                   "models[0].base", "cycle");
    expect_mistake("self-base.cfg", 0,
                   "study = \"s\";\nmodels = (\n { name = \"a\"; shards = \"m1\"; base = \"a\"; }"
                   " #<<\n);\n" TASKS ANALYSES,
                   "models[0].base", "cycle");
    /* layer selections */
    expect_mistake("layers.cfg", 0,
                   "study = \"s\";\nmodels = ( { name = \"a\"; shards = \"m\";\n"
                   "  layers = \"1-x\"; } ); #<<\n" TASKS ANALYSES,
                   "models[0].layers", "1-x");
    expect_mistake("layers-repeat.cfg", 0,
                   "study = \"s\";\nmodels = ( { name = \"a\"; shards = \"m\";\n"
                   "  layers = \"0-3,2\"; } ); #<<\n" TASKS ANALYSES,
                   "models[0].layers", "twice");
    /* task sources */
    expect_mistake("two-sources.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = ( { name = \"t\"; labels = \"l\";\n"
                   "  brown = \"b\"; derive = \"suffix\"; } ); #<<\n" ANALYSES,
                   "tasks[0]", "only one of");
    expect_mistake("derive.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = ( { name = \"t\"; brown = \"b\";\n"
                   "  derive = \"lemma\"; } ); #<<\n" ANALYSES,
                   "tasks[0].derive", "unknown rule 'lemma'");
    expect_mistake("derive-labels.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = ( { name = \"t\"; labels = \"l\";\n"
                   "  derive = \"suffix\"; } ); #<<\n" ANALYSES,
                   "tasks[0].derive", "only a Brown task");
    expect_mistake("brown-type.cfg", 0,
                   "study = \"s\";\n" ONE_MODEL "tasks = ( { name = \"t\"; derive = \"suffix\";\n"
                   "  brown = [\"a\",\n   \"\"]; } ); #<<\n" ANALYSES,
                   "tasks[0].brown[1]", "empty path");

    /* several mistakes: all reported, each with its line */
    char path[PATH_MAX + 64], where[PATH_MAX + 96];
    sal_job *j = NULL;
    write_file("several.cfg",
               "study = \"s\";\n" ONE_MODEL TASKS ANALYSES
               "split = { train = 2; dev = 0.1; test = 0.1; };\n"
               "probe = { l1 = -1; };\n",
               path, sizeof(path));
    CHECK(sal_job_load(path, &j) == SAL_ERR_FORMAT, "several: not refused");
    snprintf(where, sizeof(where), "%s:5: split.train", path);
    CHECK(strstr(sal_errmsg(), where), "several: lacks '%s': %s", where, sal_errmsg());
    snprintf(where, sizeof(where), "%s:6: probe.l1", path);
    CHECK(strstr(sal_errmsg(), where), "several: lacks '%s': %s", where, sal_errmsg());
    sal_job_free(j);

    /* a file that cannot be read */
    j = (sal_job *)1;
    snprintf(path, sizeof(path), "%s/no-such-job.cfg", scratch);
    CHECK(sal_job_load(path, &j) == SAL_ERR_IO && j == NULL, "missing job file: %s", sal_errmsg());
    CHECK(strstr(sal_errmsg(), "no-such-job.cfg"), "missing job file message: %s", sal_errmsg());
}

static void test_files(void)
{
    char dir[PATH_MAX + 64], path[PATH_MAX + 64], where[PATH_MAX + 128];
    static const char *const DIRS[] = {"files", "files/models", "files/models/a", "files/models/b",
                                       "files/data"};
    for (int i = 0; i < 5; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", scratch, DIRS[i]);
        CHECK(make_dir(dir) == 0, "mkdir %s: %s", dir, strerror(errno));
    }
    /* what an earlier run supplied must be missing again */
    static const char *const GONE[] = {"files/models/b/model.nc", "files/models/c/model.nc",
                                       "files/models/c", "files/data/sent.txt", "files/data/ca02"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/%s", scratch, GONE[i]);
        CHECK(remove(path) == 0 || errno == ENOENT, "remove %s: %s", path, strerror(errno));
    }
    write_file("files/models/a/model.nc", "x", path, sizeof(path));
    write_file("files/data/pos.txt", "NN\n", path, sizeof(path));
    write_file("files/data/ca01", "a/at\n", path, sizeof(path));
    const char *job = "study = \"files\";\n"
                      "models = (\n"
                      "  { name = \"a\"; shards = \"models/a\"; },\n"
                      "  { name = \"b\"; shards = \"models/b\"; },\n" /* line 4: no model.nc */
                      "  { name = \"c\"; shards = \"models/c\"; }\n"  /* line 5: no folder */
                      ");\n"
                      "tasks = (\n"
                      "  { name = \"pos\"; labels = \"data/pos.txt\";\n"
                      "    sentences = \"data/sent.txt\"; },\n" /* line 9: missing */
                      "  { name = \"sfx\"; derive = \"suffix\";\n"
                      "    brown = [\"data/ca01\",\n"
                      "             \"data/ca02\"]; }\n" /* line 12: missing */
                      ");\n"
                      "analyses = { run = [\"layerwise\"]; };\n";
    sal_job *j = NULL;
    write_file("files/job.cfg", job, path, sizeof(path));
    CHECK_OK(sal_job_load(path, &j));
    if (!j)
        return;
    sal_status st = sal_job_check_files(j);
    const char *msg = sal_errmsg();
    CHECK(st == SAL_ERR_IO, "check_files: %s (%s)", sal_status_str(st), msg);
    static const char *const WANT[] = {":4: models[1].shards", ":5: models[2].shards",
                                       ":9: tasks[0].sentences", ":12: tasks[1].brown[1]"};
    for (int i = 0; i < 4; i++) {
        snprintf(where, sizeof(where), "%s%s", path, WANT[i]);
        CHECK(strstr(msg, where), "check_files: lacks '%s': %s", where, msg);
    }
    CHECK(strstr(msg, "model.nc") && strstr(msg, "salient import"), "no model.nc hint: %s", msg);
    CHECK(!strstr(msg, "models[0]") && !strstr(msg, "tasks[0].labels") && !strstr(msg, "brown[0]"),
          "check_files names a present file: %s", msg);
    /* supply them: the check passes */
    write_file("files/models/b/model.nc", "x", path, sizeof(path));
    snprintf(dir, sizeof(dir), "%s/files/models/c", scratch);
    CHECK(make_dir(dir) == 0, "mkdir %s", dir);
    write_file("files/models/c/model.nc", "x", path, sizeof(path));
    write_file("files/data/sent.txt", "a\n", path, sizeof(path));
    write_file("files/data/ca02", "b/nn\n", path, sizeof(path));
    CHECK_OK(sal_job_check_files(j));
    sal_job_free(j);
}

static void test_example(const char *path)
{
    sal_job *j = NULL;
    CHECK_OK(sal_job_load(path, &j));
    if (!j)
        return;
    CHECK(j->nmodels >= 2 && j->ntasks >= 3, "example: %d models, %d tasks", j->nmodels, j->ntasks);
    int fine_tuned = 0, control = 0, kinds = 0;
    for (int i = 0; i < j->nmodels; i++) {
        fine_tuned += j->models[i].base >= 0;
        control += j->models[i].control;
    }
    for (int i = 0; i < j->ntasks; i++)
        kinds |= 1 << j->tasks[i].kind;
    CHECK(fine_tuned >= 1 && control >= 1 && kinds == 7,
          "example covers too little: %d fine-tuned, %d control, task kinds 0x%x", fine_tuned,
          control, kinds);
    CHECK(j->analyses == (1u << SAL_JOB_NANALYSES) - 1, "example: analyses 0x%x", j->analyses);
    CHECK(j->nl1 > 1, "example: no lambda grid");
    sal_job_free(j);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test-job SCRATCH_DIR EXAMPLE_CFG\n");
        return 2;
    }
    if (make_dir(argv[1]) != 0 || !realpath(argv[1], scratch)) {
        fprintf(stderr, "test-job: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    test_valid();
    test_mistakes();
    test_files();
    test_example(argv[2]);
    return test_finish("test-job");
}
