/* test-brown.c - the Brown label rules (labels.h: sal_labels_derive): hand-worked examples
 * of every rule, equality with the labels the extractor (src/extract/brown.js) wrote for
 * the same sentences, and a Brown task of a job read through sal_task_read.
 *
 * Usage: test-brown SCRATCH_DIR FIXTURE_DIR BROWN_FILE...
 * FIXTURE_DIR holds the extractor's pos-fine.txt, pos-coarse.txt, pos-upos.txt and
 * suffix.txt for the sentences of the BROWN_FILEs, in order (tests/data/brown, written by
 * its make-fixture.sh; or `node brown.js --sentences 0` with all 500 corpus files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "salient/job.h"
#include "salient/labels.h"
#include "salient/unit.h"
#include "testutil.h"

static const char *dir;

/* Write text to DIR/name and return the path (in one of a few rotating buffers). */
static const char *put(const char *name, const char *text)
{
    static char paths[8][4096];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL, "cannot create %s: %s", path, strerror(errno));
    if (fp) {
        fputs(text, fp);
        CHECK(fclose(fp) == 0, "cannot write %s", path);
    }
    return path;
}

/* The label of token t. */
static const char *label_of(const sal_labels *lab, int64_t t)
{
    return lab->class_name[lab->label[t]];
}

/* README "pos-coarse" rules 1-5, one example (or more) each, worked by hand. */
static void test_coarse(void)
{
    static const char *const cases[][2] = {
        {"fw-at-tl", "fw"}, /* 1: foreign words, whatever follows */
        {"fw-in+nn", "fw"},
        {"fw-", "fw"},
        {"fw", "fw"},
        {"pps+bez", "pps"}, /* 2: a compound keeps its first part */
        {"ppss+ber", "ppss"},
        {"+bez", "+bez"},   /* ... a '+' at the start is no compound */
        {"nn-tl-hl", "nn"}, /* 3: -tl, -hl, -nc, repeatedly */
        {"---hl", "--"},
        {"in-nc", "in"},
        {"x-tl", "x"},
        {"-tl", "-tl"}, /* ... nothing before the '-': not a suffix */
        {"bez*", "bez"},   /* 4: negation, except the bare '*' */
        {"*", "*"},
        {"**", "*"},
        {"*-hl", "*"},
        {"md*-hl", "md"},
        {"np$", "np"}, /* 5: possessive, except pp$, pp$$, wp$ */
        {"nn$", "nn"},
        {"nns$-tl", "nns"},
        {"pp$", "pp$"},
        {"pp$$", "pp$$"},
        {"pp$$-tl", "pp$$"},
        {"wp$", "wp$"},
        {"$", "$"},
        {"bez*$", "bez*"}, /* '*' is looked at before '$' */
        {"NN-TL", "nn"},   /* lowercased first */
        {"FW-NN", "fw"},
        {"nn", "nn"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32] = "";
        CHECK_OK(sal_labels_coarse_tag(cases[i][0], buf, sizeof(buf)));
        CHECK(strcmp(buf, cases[i][1]) == 0, "coarse '%s' is '%s', want '%s'", cases[i][0], buf,
              cases[i][1]);
    }
    char small[3];
    CHECK(sal_labels_coarse_tag("nn-tl", small, sizeof(small)) == SAL_ERR_ARG,
          "a buffer shorter than the tag is refused");
    char buf[32];
    CHECK(sal_labels_coarse_tag("n\xc3\xa9", buf, sizeof(buf)) == SAL_ERR_FORMAT &&
              strstr(sal_errmsg(), "not ASCII"),
          "a non-ASCII tag is refused: %s", sal_errmsg());
}

/* Universal tags through data/brown-universal.tsv and the README's stated choices. */
static void test_upos(void)
{
    static const char *const cases[][2] = {
        {"nn-tl", "NOUN"}, {"np$", "NOUN"}, {"pps+bez", "PRON"}, {"pp$$", "PRON"},
        {"cs", "ADP"},     {"in", "ADP"},   {"od", "ADJ"},       {"*", "ADV"},
        {"ql", "ADV"},     {"abn", "DET"},  {"ex", "DET"},       {"wdt+bez", "DET"},
        {"to", "PRT"},     {"rp", "PRT"},   {"fw-nn", "X"},      {"nil", "X"},
        {"uh", "X"},       {"'", "."},      {"--", "."},         {"---hl", "."},
        {"bez*", "VERB"},  {"md", "VERB"},  {"cd", "NUM"},       {"cc", "CONJ"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[16] = "";
        CHECK_OK(sal_labels_universal_tag(cases[i][0], buf, sizeof(buf)));
        CHECK(strcmp(buf, cases[i][1]) == 0, "universal '%s' is '%s', want '%s'", cases[i][0],
              buf, cases[i][1]);
    }
    char buf[16];
    CHECK(sal_labels_universal_tag("zz-tl", buf, sizeof(buf)) == SAL_ERR_FORMAT &&
              strstr(sal_errmsg(), "'zz-tl' (coarse 'zz')") &&
              strstr(sal_errmsg(), "brown-universal.tsv"),
          "a tag the table lacks: %s", sal_errmsg());
    char small[4];
    CHECK(sal_labels_universal_tag("nn", small, sizeof(small)) == SAL_ERR_ARG,
          "NOUN does not fit in 4 bytes");
}

static void test_suffix_word(void)
{
    static const char *const cases[][2] = {
        {"Walking", "ing"}, {"said", "aid"}, {"ABCD", "bcd"}, {"the", ""}, {"it's", ""},
        {"1960", ""},       {"co-op", ""},   {"caf\xc3\xa9", ""}, {"", ""},
        {"wor\xe2\x84\xaa", "ork"}, /* U+212A KELVIN SIGN lowercases to 'k' */
        {"\xe2\x84\xaa" "elvin", "vin"},
        {"\xe2\x84", ""}, /* a truncated sequence is not a letter */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[SAL_LABELS_SUFFIX_LEN + 1];
        int has = sal_labels_suffix(cases[i][0], buf);
        CHECK(has == (cases[i][1][0] != '\0') && strcmp(buf, cases[i][1]) == 0,
              "suffix of '%s' is %d '%s', want '%s'", cases[i][0], has, buf, cases[i][1]);
    }
}

/* The suffix task's ranking, worked by hand: "zzz" 5 tokens, 28 suffixes "baa", "bab", ...
 * 3 tokens each, then a tie at 2 tokens among "zzc", "zza", "zzb" (first seen in that
 * order) for the 30th place, which alphabetical order gives to "zza"; "aaa" has 1 token.
 * Words without a suffix and the suffixes left out are OTHER. The two files are counted
 * as one task (the second alone would keep "zzb", "zzc" and "aaa"). */
static void test_suffix_task(void)
{
    static char text[2][8192];
    size_t len[2] = {0, 0};
    char want[200][8];
    int nwant = 0;
#define WORD(f, w, label)                                                                    \
    do {                                                                                   \
        len[f] += (size_t)snprintf(text[f] + len[f], sizeof(text[f]) - len[f], "%s/nn ", w); \
        snprintf(want[nwant++], sizeof(want[0]), "%s", label);                             \
    } while (0)
    for (int k = 0; k < 5; k++)
        WORD(0, "Fizzz", "zzz");
    for (int i = 0; i < 28; i++) {
        char w[8], s[4] = {'b', (char)('a' + i / 26), (char)('a' + i % 26), '\0'};
        snprintf(w, sizeof(w), "q%s", s);
        for (int k = 0; k < 3; k++)
            WORD(0, w, s);
        if (i % 10 == 9) /* a few sentences */
            len[0] += (size_t)snprintf(text[0] + len[0], sizeof(text[0]) - len[0], "\n");
    }
    WORD(0, "qzzc", "OTHER");
    WORD(1, "qzzc", "OTHER");
    WORD(1, "QZZA", "zza");
    WORD(1, "qzzb", "OTHER");
    WORD(1, "qzza", "zza");
    WORD(1, "qzzb", "OTHER");
    WORD(1, "qaaa", "OTHER");
    WORD(1, "the", "OTHER");
    WORD(1, "it's", "OTHER");
    WORD(1, "1960", "OTHER");
#undef WORD
    const char *paths[2] = {put("sfx-a", text[0]), put("sfx-b", text[1])};
    sal_labels lab;
    CHECK_OK(sal_labels_read_brown(2, paths, &lab));
    CHECK(lab.corpus.ntok == nwant, "%lld tokens, want %d", (long long)lab.corpus.ntok, nwant);
    CHECK_OK(sal_labels_derive(&lab, SAL_LABELS_DERIVE_SUFFIX));
    CHECK(lab.nclasses == SAL_LABELS_SUFFIX_TOP + 1, "%d suffix classes", (int)lab.nclasses);
    CHECK(lab.nclasses > 0 && strcmp(lab.class_name[0], "OTHER") == 0,
          "OTHER sorts first (byte-wise)");
    for (int64_t t = 0; t < lab.corpus.ntok && t < nwant; t++)
        CHECK(strcmp(label_of(&lab, t), want[t]) == 0, "token %lld '%s' is '%s', want '%s'",
              (long long)t, sal_corpus_word(&lab.corpus, t), label_of(&lab, t), want[t]);
    sal_labels_free(&lab);
}

/* Deriving labels of a small Brown file; failures name the token and leave lab as it was. */
static void test_derive(void)
{
    const char *p = put("cd01", "\tThe/at Fulton/np-tl jury/nn said/vbd ./.\n\n"
                                "\tIt's/pps+bez Fulton's/np$ ,/, not/* his/pp$ !/.\n");
    sal_labels lab;
    CHECK_OK(sal_labels_read_brown(1, &p, &lab));
    CHECK_OK(sal_labels_derive(&lab, SAL_LABELS_DERIVE_POS_FINE));
    CHECK(lab.nclasses == 10, "pos-fine keeps the %d full tags", (int)lab.nclasses);
    CHECK_OK(sal_labels_derive(&lab, SAL_LABELS_DERIVE_POS_COARSE));
    static const char *const coarse[] = {"at", "np", "nn", "vbd", ".", "pps", "np", ",", "*",
                                         "pp$", "."};
    static const char *const coarse_class[] = {"*", ",", ".", "at", "nn", "np", "pp$", "pps",
                                               "vbd"};
    CHECK(lab.corpus.ntok == 11 && lab.nclasses == 9, "%lld tokens, %d coarse classes",
          (long long)lab.corpus.ntok, (int)lab.nclasses);
    for (int k = 0; k < 9 && lab.nclasses == 9; k++)
        CHECK(strcmp(lab.class_name[k], coarse_class[k]) == 0, "coarse class %d is '%s'", k,
              lab.class_name[k]);
    for (int64_t t = 0; t < 11 && lab.corpus.ntok == 11; t++)
        CHECK(strcmp(label_of(&lab, t), coarse[t]) == 0, "token %lld coarse '%s'",
              (long long)t, label_of(&lab, t));
    sal_labels_free(&lab);

    CHECK_OK(sal_labels_read_brown(1, &p, &lab));
    CHECK_OK(sal_labels_derive(&lab, SAL_LABELS_DERIVE_POS_UPOS));
    static const char *const upos[] = {"DET", "NOUN", "NOUN", "VERB", ".", "PRON", "NOUN", ".",
                                       "ADV", "PRON", "."};
    CHECK(lab.nclasses == 6, "%d universal classes", (int)lab.nclasses);
    for (int64_t t = 0; t < 11 && lab.corpus.ntok == 11; t++)
        CHECK(strcmp(label_of(&lab, t), upos[t]) == 0, "token %lld universal '%s'",
              (long long)t, label_of(&lab, t));
    sal_labels_free(&lab);

    /* a tag the table lacks (pos-upos), a non-ASCII tag (pos-coarse, pos-upos): the
     * message names file:line: token, and lab is left as it was */
    const char *bad[3] = {put("cd02", "\tA/at b/nn\n\n\tc/nn d/zz-hl e/nn\n"),
                          put("cd03", "\tA/at b/nn\n\n\tc/nn d/n\xc3\xa9 e/nn\n"), NULL};
    bad[2] = bad[1];
    const int rule[3] = {SAL_LABELS_DERIVE_POS_UPOS, SAL_LABELS_DERIVE_POS_COARSE,
                         SAL_LABELS_DERIVE_POS_UPOS};
    const char *why[3] = {"no universal tag for Brown tag 'zz-hl' (coarse 'zz')",
                          "Brown tag 'n\xc3\xa9' is not ASCII",
                          "Brown tag 'n\xc3\xa9' is not ASCII"};
    char want[4200];
    for (int k = 0; k < 3; k++) {
        CHECK_OK(sal_labels_read_brown(1, &bad[k], &lab));
        sal_status st = sal_labels_derive(&lab, rule[k]);
        CHECK(st == SAL_ERR_FORMAT, "case %d gave %s", k, sal_status_str(st));
        snprintf(want, sizeof(want), "%s:3: token 2: %s", bad[k], why[k]);
        CHECK(strstr(sal_errmsg(), want), "message '%s' lacks '%s'", sal_errmsg(), want);
        CHECK(lab.nclasses == 3 && lab.corpus.ntok == 5 &&
                  strcmp(label_of(&lab, 3), k ? "n\xc3\xa9" : "zz-hl") == 0 &&
                  strcmp(label_of(&lab, 4), "nn") == 0,
              "case %d: a failed derivation leaves the labels", k);
        sal_labels_free(&lab);
    }
    CHECK_OK(sal_labels_read_brown(1, &p, &lab));
    CHECK(sal_labels_derive(&lab, 99) == SAL_ERR_ARG, "unknown rule");
    CHECK(sal_labels_derive(NULL, SAL_LABELS_DERIVE_SUFFIX) == SAL_ERR_ARG, "NULL labels");
    sal_labels_free(&lab);
}

/* Derive each task from the Brown files in C and compare every token with the
 * extractor's label file of that task. */
static void test_extractor(const char *fixture, int nfiles, const char *const *files)
{
    static const struct {
        const char *file;
        int rule;
    } task[] = {{"pos-fine.txt", SAL_LABELS_DERIVE_POS_FINE},
                {"pos-coarse.txt", SAL_LABELS_DERIVE_POS_COARSE},
                {"pos-upos.txt", SAL_LABELS_DERIVE_POS_UPOS},
                {"suffix.txt", SAL_LABELS_DERIVE_SUFFIX}};
    for (size_t k = 0; k < sizeof(task) / sizeof(task[0]); k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", fixture, task[k].file);
        sal_labels lab, x;
        memset(&x, 0, sizeof(x));
        CHECK_OK(sal_labels_read_brown(nfiles, files, &lab));
        CHECK_OK(sal_labels_derive(&lab, task[k].rule));
        CHECK_OK(sal_labels_read_tags(path, &lab.corpus, "the Brown files", &x));
        int64_t differ = 0, first = -1;
        for (int64_t t = 0; t < x.corpus.ntok; t++)
            if (strcmp(label_of(&lab, t), label_of(&x, t)) != 0 && differ++ == 0)
                first = t;
        CHECK(x.corpus.ntok > 0 && x.corpus.ntok == lab.corpus.ntok, "%s: %lld tokens, C %lld",
              task[k].file, (long long)x.corpus.ntok, (long long)lab.corpus.ntok);
        CHECK(differ == 0, "%s: %lld of %lld tokens differ; first: token %lld '%s': C '%s', "
              "extractor '%s'", task[k].file, (long long)differ, (long long)x.corpus.ntok,
              (long long)first, first >= 0 ? sal_corpus_word(&x.corpus, first) : "",
              first >= 0 ? label_of(&lab, first) : "", first >= 0 ? label_of(&x, first) : "");
        CHECK(lab.nclasses == x.nclasses, "%s: %d classes, extractor %d", task[k].file,
              (int)lab.nclasses, (int)x.nclasses);
        printf("%s: %lld tokens, %d classes, %lld differ\n", task[k].file,
               (long long)x.corpus.ntok, (int)x.nclasses, (long long)differ);
        sal_labels_free(&x);
        sal_labels_free(&lab);
    }
}

/* Write a model over the words of the Brown files (1 layer of 2 neurons). */
static sal_status write_model(const char *model_dir, int nfiles, const char *const *files)
{
    sal_labels lab;
    sal_status st = sal_labels_read_brown(nfiles, files, &lab);
    if (st)
        return st;
    const int width[1] = {2};
    sal_model_desc d = {.name = "brown",
                        .architecture = "test",
                        .base_model = "",
                        .pooling = "none",
                        .producer = "test-brown",
                        .nlayers = 1,
                        .layer_width = width};
    sal_shard_writer *w = NULL;
    const char **words = NULL;
    float *act = NULL;
    st = sal_shard_writer_open(model_dir, &d, 100, 1, &w);
    for (int64_t s = 0; st == SAL_OK && s < lab.corpus.nsent; s++) {
        int64_t t0 = lab.corpus.sent_start[s], n = sal_corpus_sent_len(&lab.corpus, s);
        const char **wq = realloc(words, sizeof(*wq) * (size_t)n);
        float *aq = realloc(act, sizeof(*aq) * (size_t)(2 * n));
        if (wq)
            words = wq;
        if (aq)
            act = aq;
        if (!wq || !aq) {
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            words[i] = sal_corpus_word(&lab.corpus, t0 + i);
            act[2 * i] = (float)(t0 + i);
            act[2 * i + 1] = (float)s;
        }
        st = sal_shard_writer_add(w, n, words, (const float *const *)&act);
    }
    if (st == SAL_OK)
        st = sal_shard_writer_finish(w);
    else
        sal_shard_writer_abort(w);
    free(words);
    free(act);
    sal_labels_free(&lab);
    return st;
}

/* A job's Brown tasks (derive = "suffix" and "pos-upos") read as salient run reads them:
 * the job's task into a sal_task_source, then sal_task_read against a model over the same
 * words. Each token's class is the extractor's label (or -1 for a class with no training
 * token). */
static void test_task_read(const char *fixture, int nfiles, const char *const *files)
{
    char model_dir[4096], path[4096];
    snprintf(model_dir, sizeof(model_dir), "%s/brown-model", dir);
    CHECK_OK(write_model(model_dir, nfiles, files));
    size_t room = 2 * strlen(model_dir) + 512, n = 0;
    for (int f = 0; f < nfiles; f++)
        room += 2 * (strlen(files[f]) + 4);
    char *list = malloc(room), *jobtext = malloc(room);
    CHECK(list && jobtext, "out of memory");
    if (!list || !jobtext) {
        free(list);
        free(jobtext);
        return;
    }
    list[0] = '\0';
    for (int f = 0; f < nfiles; f++)
        n += (size_t)snprintf(list + n, room - n, "%s\"%s\"", f ? ", " : "", files[f]);
    snprintf(jobtext, room,
             "study = \"brown\";\n"
             "models = ( { name = \"m\"; shards = \"%s\"; } );\n"
             "tasks = ( { name = \"suffix\"; derive = \"suffix\"; brown = [%s]; },\n"
             "          { name = \"upos\"; derive = \"pos-upos\"; brown = [%s]; } );\n"
             "analyses = { run = [\"layerwise\"]; };\n",
             model_dir, list, list);
    snprintf(path, sizeof(path), "%s/brown.cfg", dir);
    sal_job *job = NULL;
    CHECK_OK(sal_job_parse(jobtext, path, &job));
    free(list);
    free(jobtext);
    if (!job)
        return;
    CHECK(job->tasks[0].derive == SAL_JOB_DERIVE_SUFFIX &&
              job->tasks[1].derive == SAL_JOB_DERIVE_POS_UPOS &&
              strcmp(sal_job_derive_name(job->tasks[1].derive), "pos-upos") == 0,
          "derive values %d %d", job->tasks[0].derive, job->tasks[1].derive);
    sal_model *m = NULL;
    CHECK_OK(sal_model_open(model_dir, &m));
    const char *xfile[2] = {"suffix.txt", "pos-upos.txt"};
    for (int k = 0; k < 2 && m; k++) {
        const sal_job_task *jt = &job->tasks[k];
        sal_task_source src = {.labels = jt->labels, .sentences = jt->sentences,
                               .nbrown = jt->nbrown, .brown = (const char *const *)jt->brown,
                               .derive = jt->derive};
        sal_task_data t;
        sal_status st = sal_task_read(m, "m", &src, job->split, job->seed, 0, &t);
        CHECK_OK(st);
        if (st)
            continue;
        sal_labels x;
        snprintf(path, sizeof(path), "%s/%s", fixture, xfile[k]);
        sal_corpus words = SAL_CORPUS_INIT;
        CHECK_OK(sal_model_read_corpus(m, &words));
        CHECK_OK(sal_labels_read_tags(path, &words, "the model", &x));
        int64_t differ = 0, unlabelled = 0;
        for (int64_t i = 0; i < t.ntok && i < x.corpus.ntok; i++) {
            if (t.label[i] < 0)
                unlabelled++;
            else
                differ += strcmp(t.class_name[t.label[i]], label_of(&x, i)) != 0;
        }
        CHECK(t.ntok == x.corpus.ntok && differ == 0 && t.C >= 2 && t.C <= x.nclasses,
              "task %s: %lld tokens (extractor %lld), %lld differ, %d classes", jt->name,
              (long long)t.ntok, (long long)x.corpus.ntok, (long long)differ, t.C);
        printf("sal_task_read %s: %lld tokens, %d classes in train, %lld differ, %lld in "
               "classes absent from train\n",
               jt->name, (long long)t.ntok, t.C, (long long)differ, (long long)unlabelled);
        sal_labels_free(&x);
        sal_corpus_free(&words);
        sal_task_free(&t);
    }
    sal_model_close(m);
    sal_job_free(job);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    CHECK(argc >= 4, "usage: test-brown SCRATCH_DIR FIXTURE_DIR BROWN_FILE...");
    if (argc >= 4) {
        dir = argv[1];
        CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST, "cannot create %s: %s", dir,
              strerror(errno));
        const char *const *files = (const char *const *)argv + 3;
        test_coarse();
        test_upos();
        test_suffix_word();
        test_suffix_task();
        test_derive();
        test_extractor(argv[2], argc - 3, files);
        test_task_read(argv[2], argc - 3, files);
    }
    int rc = test_finish("test-brown");
    MPI_Finalize();
    return rc;
}
