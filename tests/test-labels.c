/* test-labels.c - NeuroX text and Brown labels, class ids, errors, alignment.
 * Usage: test-labels SCRATCH_DIR (created if missing). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "salient/labels.h"
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

/* Return 1 when every byte of lab is zero (what a failed read must leave). */
static int is_zero(const sal_labels *lab)
{
    static const sal_labels zero;
    return memcmp(lab, &zero, sizeof(zero)) == 0;
}

/* Check that a call failed with code, left lab zeroed and named each of want[] in
 * its message. */
static void expect_fail(sal_status st, sal_status code, const sal_labels *lab,
                        const char *const *want, int nwant, const char *what)
{
    CHECK(st == code, "%s: got %s (%s), want %s", what, sal_status_str(st), sal_errmsg(),
          sal_status_str(code));
    CHECK(is_zero(lab), "%s: the output is not zeroed after a failure", what);
    for (int i = 0; i < nwant; i++)
        CHECK(strstr(sal_errmsg(), want[i]) != NULL, "%s: message '%s' lacks '%s'", what,
              sal_errmsg(), want[i]);
}

/* Read text files that fail; out starts dirty to show it is zeroed. */
static void text_fails(const char *s, const char *l, sal_status code, const char *const *want,
                       int nwant, const char *what)
{
    sal_labels lab;
    memset(&lab, 0x5a, sizeof(lab));
    sal_status st = sal_labels_read_text(s, l, &lab);
    expect_fail(st, code, &lab, want, nwant, what);
    sal_labels_free(&lab);
}

static void brown_fails(int n, const char *const *paths, sal_status code,
                        const char *const *want, int nwant, const char *what)
{
    sal_labels lab;
    memset(&lab, 0x5a, sizeof(lab));
    sal_status st = sal_labels_read_brown(n, paths, &lab);
    expect_fail(st, code, &lab, want, nwant, what);
    sal_labels_free(&lab);
}

/* Words of the whole corpus joined by spaces, sentences by '|'. */
static const char *joined(const sal_corpus *c)
{
    static char buf[4096];
    size_t len = 0;
    buf[0] = '\0';
    for (int64_t s = 0; s < c->nsent; s++)
        for (int64_t t = c->sent_start[s]; t < c->sent_start[s + 1]; t++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    t == c->sent_start[s] ? (s ? "|" : "") : " ",
                                    sal_corpus_word(c, t));
    return buf;
}

/* Labels as "class_name" per token, joined like joined(). */
static const char *joined_labels(const sal_labels *lab)
{
    static char buf[4096];
    size_t len = 0;
    const sal_corpus *c = &lab->corpus;
    buf[0] = '\0';
    for (int64_t s = 0; s < c->nsent; s++)
        for (int64_t t = c->sent_start[s]; t < c->sent_start[s + 1]; t++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    t == c->sent_start[s] ? (s ? "|" : "") : " ",
                                    lab->class_name[lab->label[t]]);
    return buf;
}

static void test_text(void)
{
    const char *s = put("ok.txt", "dogs bark .\nthe  cat\tsleeps\n");
    const char *l = put("ok.labels", "NNS VBP .\nDT NN VBZ\n");
    sal_labels lab;
    CHECK_OK(sal_labels_read_text(s, l, &lab));
    CHECK(lab.corpus.nsent == 2 && lab.corpus.ntok == 6, "%lld sentences, %lld tokens",
          (long long)lab.corpus.nsent, (long long)lab.corpus.ntok);
    CHECK(strcmp(joined(&lab.corpus), "dogs bark .|the cat sleeps") == 0, "words '%s'",
          joined(&lab.corpus));
    /* Byte-wise order: "." < "DT" < "NN" < "NNS" < "VBP" < "VBZ". */
    static const char *const want_class[] = {".", "DT", "NN", "NNS", "VBP", "VBZ"};
    static const int32_t want_id[] = {3, 4, 0, 1, 2, 5};
    CHECK(lab.nclasses == 6, "%d classes", (int)lab.nclasses);
    for (int k = 0; k < 6 && lab.nclasses == 6; k++)
        CHECK(strcmp(lab.class_name[k], want_class[k]) == 0, "class %d is '%s'", k,
              lab.class_name[k]);
    for (int t = 0; t < 6 && lab.corpus.ntok == 6; t++)
        CHECK(lab.label[t] == want_id[t], "token %d has class %d, want %d", t,
              (int)lab.label[t], (int)want_id[t]);
    CHECK(lab.nfiles == 2 && strcmp(lab.file[0], s) == 0 && strcmp(lab.file[1], l) == 0,
          "files recorded");
    CHECK(lab.sent_file[0] == 0 && lab.sent_file[1] == 0, "sentences come from file 0");
    CHECK(lab.sent_line[0] == 1 && lab.sent_line[1] == 2, "sentence lines %lld %lld",
          (long long)lab.sent_line[0], (long long)lab.sent_line[1]);
    sal_labels_free(&lab);
    CHECK(is_zero(&lab), "sal_labels_free zeroes");
    sal_labels_free(NULL);

    /* CRLF endings, and a last line without an ending. */
    s = put("crlf.txt", "a b\r\nc\r\nd e");
    l = put("crlf.labels", "X Y\r\nZ\r\nX Z");
    CHECK_OK(sal_labels_read_text(s, l, &lab));
    CHECK(strcmp(joined(&lab.corpus), "a b|c|d e") == 0, "CRLF words '%s'", joined(&lab.corpus));
    CHECK(lab.nclasses == 3 && strcmp(joined_labels(&lab), "X Y|Z|X Z") == 0,
          "CRLF labels '%s' (%d classes)", lab.nclasses ? joined_labels(&lab) : "",
          (int)lab.nclasses);
    sal_labels_free(&lab);
}

static void test_text_errors(void)
{
    const char *s = put("e.txt", "a b\nc d\ne\n");
    const char *missing = put("e.none", ""); /* made, then removed */
    remove(missing);
    text_fails(missing, s, SAL_ERR_IO, (const char *[]){missing, strerror(ENOENT)}, 2,
               "missing sentences file");
    text_fails(s, missing, SAL_ERR_IO, (const char *[]){missing}, 1, "missing labels file");

    const char *l = put("short.labels", "X X\nX X\n");
    text_fails(s, l, SAL_ERR_FORMAT, (const char *[]){s, "has 3 lines", l, "has 2"}, 4,
               "line counts differ");
    text_fails(l, s, SAL_ERR_FORMAT, (const char *[]){l, "has 2 lines", s, "has 3"}, 4,
               "line counts differ the other way");

    l = put("count.labels", "X X\nX\nX\n");
    char want[8192];
    snprintf(want, sizeof(want), "%s:2: 1 labels for 2 tokens in %s:2", l, s);
    text_fails(s, l, SAL_ERR_FORMAT, (const char *[]){want}, 1, "token counts differ");

    const char *empty = put("empty.txt", "");
    text_fails(empty, put("empty.labels", ""), SAL_ERR_FORMAT, (const char *[]){empty, "empty"},
               2, "empty files");
    text_fails(empty, l, SAL_ERR_FORMAT, (const char *[]){empty}, 1, "empty sentences file");

    const char *bs = put("blank.txt", "a b\n  \r\nc\n");
    const char *bl = put("blank.labels", "X X\n\nX\n");
    snprintf(want, sizeof(want), "%s:2:", bs);
    text_fails(bs, bl, SAL_ERR_FORMAT, (const char *[]){want, "blank"}, 2, "blank line");
    snprintf(want, sizeof(want), "%s:2:", bl);
    text_fails(s, bl, SAL_ERR_FORMAT, (const char *[]){want, "blank"}, 2,
               "blank line in labels only");
}

static void test_brown(void)
{
    const char *paths[2] = {
        put("ca01", "\n\n\tThe/at Fulton/np-tl jury/nn said/vbd ./.\n\n\n"
                    "\tIt/pps cost/vbd 1/2/cd dollar/nn ./.\n\n"),
        put("ca02", "\r\n\tNo/at ./.\r\n"),
    };
    sal_labels lab;
    CHECK_OK(sal_labels_read_brown(2, paths, &lab));
    CHECK(strcmp(joined(&lab.corpus), "The Fulton jury said .|It cost 1/2 dollar .|No .") == 0,
          "Brown words '%s'", joined(&lab.corpus));
    CHECK(lab.corpus.nsent == 3 && strcmp(joined_labels(&lab), "at np-tl nn vbd .|pps vbd cd "
                                                               "nn .|at .") == 0,
          "Brown tags '%s'", lab.corpus.nsent == 3 ? joined_labels(&lab) : "");
    static const char *const want_class[] = {".", "at", "cd", "nn", "np-tl", "pps", "vbd"};
    CHECK(lab.nclasses == 7, "%d Brown classes", (int)lab.nclasses);
    for (int k = 0; k < 7 && lab.nclasses == 7; k++)
        CHECK(strcmp(lab.class_name[k], want_class[k]) == 0, "Brown class %d is '%s'", k,
              lab.class_name[k]);
    static const int32_t want_file[] = {0, 0, 1};
    static const int64_t want_line[] = {3, 6, 2};
    for (int s = 0; s < 3 && lab.corpus.nsent == 3; s++)
        CHECK(lab.sent_file[s] == want_file[s] && lab.sent_line[s] == want_line[s],
              "sentence %d from file %d line %lld", s, (int)lab.sent_file[s],
              (long long)lab.sent_line[s]);
    CHECK(lab.nfiles == 2 && strcmp(lab.file[1], paths[1]) == 0, "Brown files recorded");
    sal_labels_free(&lab);
}

static void test_brown_errors(void)
{
    const char *good = put("cb01", "\tA/at b/nn\n");
    char want[8192];
    const char *p = put("cb02", "\n\tThe/at dog barks/vbz\n");
    snprintf(want, sizeof(want), "%s:2: token 2 'dog'", p);
    brown_fails(2, (const char *[]){good, p}, SAL_ERR_FORMAT, (const char *[]){want, "'/'"}, 2,
                "Brown token without '/' in the second file");
    p = put("cb03", "\tgood/jj /nn\n");
    snprintf(want, sizeof(want), "%s:1: token 2 '/nn'", p);
    brown_fails(1, &p, SAL_ERR_FORMAT, (const char *[]){want, "empty word"}, 2,
                "Brown empty word");
    p = put("cb04", "\tok/jj\n\n\tgood/jj dog/\n");
    snprintf(want, sizeof(want), "%s:3: token 2 'dog/'", p);
    brown_fails(1, &p, SAL_ERR_FORMAT, (const char *[]){want, "empty tag"}, 2,
                "Brown empty tag");
    p = put("cb05", "\n \t\n");
    brown_fails(2, (const char *[]){good, p}, SAL_ERR_FORMAT, (const char *[]){p}, 1,
                "Brown blank file");
    p = put("cb06", "");
    remove(p);
    brown_fails(1, &p, SAL_ERR_IO, (const char *[]){p}, 1, "Brown missing file");
    brown_fails(0, &p, SAL_ERR_ARG, NULL, 0, "Brown without files");
}

static void test_alignment(void)
{
    const char *s = put("al.txt", "dogs bark .\nthe cat sleeps\n");
    const char *l = put("al.labels", "NNS VBP .\nDT NN VBZ\n");
    sal_labels lab;
    CHECK_OK(sal_labels_read_text(s, l, &lab));
    char want[8192];

    sal_corpus m = SAL_CORPUS_INIT;
    CHECK_OK(sal_corpus_add_line(&m, "dogs bark ."));
    CHECK_OK(sal_corpus_add_line(&m, " the cat\tsleeps\n"));
    CHECK_OK(sal_labels_check_alignment(&lab, &m, "bert"));
    sal_corpus_free(&m);

    CHECK_OK(sal_corpus_add_line(&m, "dogs bark ."));
    CHECK_OK(sal_corpus_add_line(&m, "the dog sleeps"));
    CHECK(sal_labels_check_alignment(&lab, &m, "bert") == SAL_ERR_FORMAT, "word differs");
    snprintf(want, sizeof(want), "%s:2: token 2: labels have 'cat', model bert has 'dog'", s);
    CHECK(strstr(sal_errmsg(), want), "message '%s' lacks '%s'", sal_errmsg(), want);
    sal_corpus_free(&m);

    CHECK_OK(sal_corpus_add_line(&m, "dogs bark . ."));
    CHECK_OK(sal_corpus_add_line(&m, "the cat sleeps"));
    CHECK(sal_labels_check_alignment(&lab, &m, "bert") == SAL_ERR_FORMAT, "length differs");
    snprintf(want, sizeof(want), "%s:1: 3 tokens, model bert has 4 in sentence 1", s);
    CHECK(strstr(sal_errmsg(), want), "message '%s' lacks '%s'", sal_errmsg(), want);
    sal_corpus_free(&m);

    CHECK_OK(sal_corpus_add_line(&m, "dogs bark ."));
    CHECK(sal_labels_check_alignment(&lab, &m, "bert") == SAL_ERR_FORMAT, "count differs");
    CHECK(strstr(sal_errmsg(), "labels have 2 sentences") && strstr(sal_errmsg(), s) &&
              strstr(sal_errmsg(), "model bert has 1"),
          "message '%s'", sal_errmsg());
    sal_corpus_free(&m);
    sal_labels_free(&lab);

    /* A Brown sentence reports its own file and line. */
    const char *paths[2] = {put("cc01", "\tA/at b/nn\n"), put("cc02", "\n\n\tc/nn ./.\n")};
    CHECK_OK(sal_labels_read_brown(2, paths, &lab));
    CHECK_OK(sal_corpus_add_line(&m, "A b"));
    CHECK_OK(sal_corpus_add_line(&m, "c !"));
    CHECK(sal_labels_check_alignment(&lab, &m, "gpt2") == SAL_ERR_FORMAT, "Brown word differs");
    snprintf(want, sizeof(want), "%s:3: token 2: labels have '.', model gpt2 has '!'", paths[1]);
    CHECK(strstr(sal_errmsg(), want), "message '%s' lacks '%s'", sal_errmsg(), want);
    sal_corpus_free(&m);
    sal_labels_free(&lab);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: test-labels SCRATCH_DIR");
    if (argc == 2) {
        dir = argv[1];
        CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST, "cannot create %s: %s", dir,
              strerror(errno));
        test_text();
        test_text_errors();
        test_brown();
        test_brown_errors();
        test_alignment();
    }
    return test_finish("test-labels");
}
