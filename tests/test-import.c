/*
 * test-import.c - NeuroX files (written by neurox_writer) imported into shards and read
 * back value by value and word by word; and every failure leaves nothing behind.
 *
 * Usage: test-import SCRATCH_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>

#include "neurox_writer.h"
#include "salient/import.h"
#include "salient/shard.h"
#include "testutil.h"

static char work[2048];  /* the scratch folder */
static char outdir[2100]; /* work/out: where every model goes */

/* work/name into buf. */
static const char *wpath(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", work, name);
    return buf;
}

/* outdir/name into buf. */
static const char *opath(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", outdir, name);
    return buf;
}

/* Remove a flat folder (a model) if it exists. */
static void rm_model(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char f[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
            unlink(f);
        }
    closedir(d);
    rmdir(dir);
}

/* Whether outdir holds NAME.* (the writer's temporary or old folder) or, unless
 * allow_self, NAME itself. */
static int left_behind(const char *dir, int allow_self)
{
    const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    size_t n = strlen(base);
    int found = 0;
    DIR *d = opendir(outdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, base, n) == 0 &&
            ((e->d_name[n] == '\0' && !allow_self) || e->d_name[n] == '.')) {
            fprintf(stderr, "left behind: %s/%s\n", outdir, e->d_name);
            found = 1;
        }
    if (d)
        closedir(d);
    return found;
}

/* Copy the first max bytes (all if max < 0) of src to dst. */
static int copy_file(const char *src, const char *dst, long max)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    char buf[4096];
    size_t n;
    long done = 0;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (max < 0 || done < max) && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        if (max >= 0 && done + (long)n > max)
            n = (size_t)(max - done);
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
        done += (long)n;
    }
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Copy a text file, replacing line `line` (1-based) by repl (NULL drops it). */
static int edit_line(const char *src, const char *dst, int line, const char *repl)
{
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    char *buf = NULL;
    size_t cap = 0;
    int k = 0, rc = in && out ? 0 : -1;
    while (rc == 0 && getline(&buf, &cap, in) >= 0) {
        if (++k != line)
            fputs(buf, out);
        else if (repl)
            fputs(repl, out);
    }
    free(buf);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Default parameters for one input. */
static sal_import_params params(sal_import_format fmt, const char *const *inputs, int n,
                                const char *out)
{
    sal_import_params p = {
        .format = fmt,
        .model_name = "fixture",
        .architecture = "transformer",
        .shard_sentences = 5,
        .ninputs = n,
        .inputs = inputs,
        .out_dir = out,
    };
    return p;
}

/* Open dir and compare everything with the fixture. */
static void check_model(const char *dir, int nlayers, const int *widths, const char *producer)
{
    sal_model *m = NULL;
    sal_status st = sal_model_open(dir, &m);
    CHECK(st == SAL_OK, "%s: open: %s", dir, sal_errmsg());
    if (st)
        return;
    const sal_model_desc *d = sal_model_get_desc(m);
    CHECK(strcmp(d->name, "fixture") == 0, "%s: name '%s'", dir, d->name);
    CHECK(strcmp(d->architecture, "transformer") == 0, "%s: architecture '%s'", dir,
          d->architecture);
    CHECK(strcmp(d->base_model, "") == 0, "%s: base model '%s'", dir, d->base_model);
    CHECK(strcmp(d->pooling, "last") == 0, "%s: pooling '%s'", dir, d->pooling);
    CHECK(strcmp(d->producer, producer) == 0, "%s: producer '%s'", dir, d->producer);
    CHECK(d->nlayers == nlayers, "%s: %d layers", dir, d->nlayers);
    int total = 0, ok = d->nlayers == nlayers;
    for (int l = 0; ok && l < nlayers; l++) {
        CHECK(d->layer_width[l] == widths[l], "%s: layer %d width %d, want %d", dir, l,
              d->layer_width[l], widths[l]);
        ok = d->layer_width[l] == widths[l];
        total += widths[l];
    }
    int64_t ntok = neurox_fixture_total_tokens();
    CHECK(sal_model_nsent(m) == NEUROX_FIXTURE_NSENT, "%s: %lld sentences", dir,
          (long long)sal_model_nsent(m));
    CHECK(sal_model_ntok(m) == ntok, "%s: %lld tokens", dir, (long long)sal_model_ntok(m));
    CHECK(sal_model_nshards(m) == 3, "%s: %lld shards", dir, (long long)sal_model_nshards(m));
    if (!ok || sal_model_ntok(m) != ntok || sal_model_nsent(m) != NEUROX_FIXTURE_NSENT) {
        sal_model_close(m);
        return;
    }

    sal_corpus c = SAL_CORPUS_INIT;
    CHECK_OK(sal_model_read_corpus(m, &c));
    int bad_words = c.nsent != NEUROX_FIXTURE_NSENT;
    for (int s = 0; !bad_words && s < NEUROX_FIXTURE_NSENT; s++) {
        bad_words = sal_corpus_sent_len(&c, s) != neurox_fixture_ntok(s);
        for (int t = 0; !bad_words && t < neurox_fixture_ntok(s); t++) {
            const char *w = sal_corpus_word(&c, c.sent_start[s] + t);
            bad_words = strcmp(w, neurox_fixture_word(s, t)) != 0;
            CHECK(!bad_words, "%s: sentence %d token %d is '%s', want '%s'", dir, s, t, w,
                  neurox_fixture_word(s, t));
        }
    }
    CHECK(!bad_words, "%s: corpus differs", dir);
    sal_corpus_free(&c);

    int layers[SAL_MAX_LAYERS];
    for (int l = 0; l < nlayers; l++)
        layers[l] = l;
    float *x = malloc((size_t)ntok * (size_t)total * sizeof(*x));
    sal_rows rows = {.nrows = ntok, .tok0 = 0, .tokens = NULL};
    CHECK_OK(sal_model_read_block(m, nlayers, layers, &rows, 0, ntok, 0, total, x, ntok));
    int64_t wrong = 0, g = 0;
    for (int s = 0; s < NEUROX_FIXTURE_NSENT; s++)
        for (int t = 0; t < neurox_fixture_ntok(s); t++, g++)
            for (int l = 0, off = 0; l < nlayers; off += widths[l], l++)
                for (int dd = 0; dd < widths[l]; dd++) {
                    float want = neurox_fixture_value(s, l, t, dd);
                    float got = x[g + (int64_t)(off + dd) * ntok];
                    if (got != want && wrong++ < 5)
                        fprintf(stderr, "%s: s %d l %d t %d d %d: %g, want %g\n", dir, s, l, t,
                                dd, got, want);
                }
    CHECK(wrong == 0, "%s: %lld values differ", dir, (long long)wrong);
    free(x);
    sal_model_close(m);
}

/* Run an import that must fail with code and a message containing must[0..]; then
 * nothing may exist at its output or beside it. */
static void expect_fail(const char *what, const sal_import_params *p, sal_status code,
                        const char *must1, const char *must2)
{
    sal_status st = sal_import_run(p, NULL);
    const char *msg = sal_errmsg();
    CHECK(st == code, "%s: returned %s (%s), want %s", what, sal_status_str(st), msg,
          sal_status_str(code));
    CHECK(!must1 || strstr(msg, must1), "%s: message '%s' lacks '%s'", what, msg, must1);
    CHECK(!must2 || strstr(msg, must2), "%s: message '%s' lacks '%s'", what, msg, must2);
    if (p->out_dir && p->out_dir[0]) {
        struct stat sb;
        CHECK(stat(p->out_dir, &sb) != 0, "%s: %s exists after a failed import", what,
              p->out_dir);
        CHECK(!left_behind(p->out_dir, 0), "%s: temporary files left beside %s", what, p->out_dir);
    }
    if (getenv("TEST_IMPORT_VERBOSE"))
        fprintf(stderr, "%s: %s\n", what, msg);
}

static void test_check(void)
{
    const char *in[1] = {"x.hdf5"};
    sal_import_params p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, "out");
    CHECK(sal_import_check(&p) == NULL, "valid params refused: %s", sal_import_check(&p));
    sal_import_params q = p;
    q.model_name = NULL;
    CHECK(sal_import_check(&q) && strstr(sal_import_check(&q), "model"), "no model name");
    q = p;
    q.model_name = "";
    CHECK(sal_import_check(&q) != NULL, "empty model name");
    q = p;
    q.ninputs = 0;
    CHECK(sal_import_check(&q) && strstr(sal_import_check(&q), "input"), "no inputs");
    q = p;
    q.shard_sentences = 0;
    CHECK(sal_import_check(&q) && strstr(sal_import_check(&q), "shard"), "shard_sentences 0");
    q = p;
    q.out_dir = NULL;
    CHECK(sal_import_check(&q) && strstr(sal_import_check(&q), "output"), "no out_dir");
    q = p;
    q.format = (sal_import_format)7;
    CHECK(sal_import_check(&q) && strstr(sal_import_check(&q), "format"), "bad format");
    CHECK(sal_import_check(NULL) != NULL, "NULL params");
    CHECK(sal_import_run(&q, NULL) == SAL_ERR_ARG, "run with bad params: %s", sal_errmsg());
}

/* Every good format imports to the fixture exactly. */
static void test_formats(void)
{
    char h5[4096], h16[4096], pre[4096], l0[4096], l1[4096], l2[4096], js[4096], sent[4096],
        out[4096];
    const int eq[3] = {4, 4, 4}, wide[3] = {4, 6, 6};
    CHECK_OK(neurox_fixture_write_hdf5(wpath(h5, sizeof(h5), "f32.hdf5"), 3, 4, 0, 0));
    CHECK_OK(neurox_fixture_write_hdf5(wpath(h16, sizeof(h16), "f16.hdf5"), 3, 4, 1, 0));
    CHECK_OK(neurox_fixture_write_layers(wpath(pre, sizeof(pre), "acts"), 3, wide, 0));
    CHECK_OK(neurox_fixture_write_json(wpath(js, sizeof(js), "acts.jsonl"), 3, wide));
    CHECK_OK(neurox_fixture_write_sentences(wpath(sent, sizeof(sent), "sentences.txt")));
    wpath(l0, sizeof(l0), "acts-layer0.hdf5");
    wpath(l1, sizeof(l1), "acts-layer1.hdf5");
    wpath(l2, sizeof(l2), "acts-layer2.hdf5");
    CHECK(file_size(h16) < file_size(h5), "float16 file not smaller (%ld vs %ld)",
          file_size(h16), file_size(h5));

    /* one file, float32, with the sentences file */
    const char *in[3] = {h5};
    sal_import_params p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, opath(out, sizeof(out), "f32"));
    p.tokens_path = sent;
    sal_import_summary sum;
    CHECK_OK(sal_import_run(&p, &sum));
    CHECK(sum.nsent == NEUROX_FIXTURE_NSENT && sum.ntok == neurox_fixture_total_tokens() &&
              sum.nlayers == 3 && sum.total_width == 12 && sum.nshards == 3,
          "summary %lld %lld %d %lld %lld", (long long)sum.nsent, (long long)sum.ntok,
          sum.nlayers, (long long)sum.total_width, (long long)sum.nshards);
    check_model(out, 3, eq, "salient import (neurox-hdf5)");

    /* existing output: refused and left as it was; replaced with overwrite */
    CHECK(sal_import_run(&p, NULL) == SAL_ERR_EXISTS, "existing output: %s", sal_errmsg());
    CHECK(strstr(sal_errmsg(), out) != NULL, "existing output: message '%s'", sal_errmsg());
    check_model(out, 3, eq, "salient import (neurox-hdf5)");
    p.overwrite = 1;
    CHECK_OK(sal_import_run(&p, NULL));
    check_model(out, 3, eq, "salient import (neurox-hdf5)");
    CHECK(!left_behind(out, 1), "leftovers after overwrite");
    rm_model(out);

    /* float16: the values are multiples of 1/16 and come back exactly */
    in[0] = h16;
    p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, opath(out, sizeof(out), "f16"));
    CHECK_OK(sal_import_run(&p, NULL));
    check_model(out, 3, eq, "salient import (neurox-hdf5)");
    rm_model(out);

    /* per-layer files with widths 4, 6, 6: the -layer0 file alone ... */
    in[0] = l0;
    p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, opath(out, sizeof(out), "layers"));
    p.tokens_path = sent;
    CHECK_OK(sal_import_run(&p, &sum));
    CHECK(sum.nlayers == 3 && sum.total_width == 16, "per-layer summary %d %lld", sum.nlayers,
          (long long)sum.total_width);
    check_model(out, 3, wide, "salient import (neurox-hdf5)");
    rm_model(out);
    /* ... and all of them, in glob-like disorder */
    in[0] = l2;
    in[1] = l0;
    in[2] = l1;
    p = params(SAL_IMPORT_NEUROX_HDF5, in, 3, out);
    CHECK_OK(sal_import_run(&p, NULL));
    check_model(out, 3, wide, "salient import (neurox-hdf5)");
    rm_model(out);

    /* JSON lines */
    in[0] = js;
    p = params(SAL_IMPORT_NEUROX_JSON, in, 1, opath(out, sizeof(out), "json"));
    p.tokens_path = sent;
    CHECK_OK(sal_import_run(&p, &sum));
    CHECK(sum.nsent == NEUROX_FIXTURE_NSENT && sum.total_width == 16, "json summary");
    check_model(out, 3, wide, "salient import (neurox-json)");
    rm_model(out);

    /* per-layer JSON files, found from the -layer0 file */
    CHECK_OK(neurox_fixture_write_json_layers(wpath(pre, sizeof(pre), "jacts"), 3, wide));
    in[0] = wpath(l0, sizeof(l0), "jacts-layer0.json");
    p = params(SAL_IMPORT_NEUROX_JSON, in, 1, out);
    CHECK_OK(sal_import_run(&p, NULL));
    check_model(out, 3, wide, "salient import (neurox-json)");
    rm_model(out);
}

/* NeuroX's " (Occurrence N)" keys, including a real sentence that ends in such words. */
static void test_occurrence(void)
{
    char h5[4096], out[4096];
    const char *x[1] = {"x"}, *occ[3] = {"x", "(Occurrence", "2)"}, *y[2] = {"y", "z"};
    const char *const *sents[5] = {x, occ, x, y, x};
    int lens[5] = {1, 3, 1, 2, 1};
    neurox_h5 *w = NULL;
    CHECK_OK(neurox_h5_open(wpath(h5, sizeof(h5), "occ.hdf5"), 0, &w));
    for (int s = 0; w && s < 5; s++) {
        float v[2 * 3 * 2];
        for (int i = 0; i < 2 * lens[s] * 2; i++)
            v[i] = (float)(100 * s + i);
        CHECK_OK(neurox_h5_add(w, s, lens[s], sents[s], 2, 2, v));
    }
    CHECK_OK(neurox_h5_close(w));
    const char *in[1] = {h5};
    sal_import_params p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, opath(out, sizeof(out), "occ"));
    CHECK_OK(sal_import_run(&p, NULL));
    sal_model *m = NULL;
    CHECK_OK(sal_model_open(out, &m));
    sal_corpus c = SAL_CORPUS_INIT;
    if (m)
        CHECK_OK(sal_model_read_corpus(m, &c));
    CHECK(c.nsent == 5, "occurrence corpus has %lld sentences", (long long)c.nsent);
    for (int s = 0; s < 5 && c.nsent == 5; s++) {
        CHECK(sal_corpus_sent_len(&c, s) == lens[s], "sentence %d has %lld words", s,
              (long long)sal_corpus_sent_len(&c, s));
        for (int t = 0; t < lens[s] && sal_corpus_sent_len(&c, s) == lens[s]; t++)
            CHECK(strcmp(sal_corpus_word(&c, c.sent_start[s] + t), sents[s][t]) == 0,
                  "sentence %d word %d is '%s'", s, t, sal_corpus_word(&c, c.sent_start[s] + t));
    }
    /* sentence 3's values: layer 1, token 1, neuron 0 is v[(1*2+1)*2+0] */
    float got = -1;
    int l1 = 1;
    if (m) {
        sal_rows rows = {.nrows = 1, .tok0 = sal_model_sent_start(m, 3) + 1};
        CHECK_OK(sal_model_read_block(m, 1, &l1, &rows, 0, 1, 0, 1, &got, 1));
    }
    CHECK(got == 306.0f, "sentence 3 layer 1 token 1 neuron 0 = %g", got);
    sal_corpus_free(&c);
    sal_model_close(m);
    rm_model(out);
}

/* Every failure: the right code, a message naming the place, nothing left behind. */
static void test_errors(void)
{
    char f[4096], g[4096], sent[4096], bad[4096], out[4096], js[4096], pre[4096];
    const char *in[3] = {f};
    const int wide[3] = {4, 6, 6};
    opath(out, sizeof(out), "bad");
    wpath(sent, sizeof(sent), "sentences.txt");

    CHECK_OK(neurox_fixture_write_hdf5(wpath(f, sizeof(f), "nan.hdf5"), 3, 4, 0,
                                       NEUROX_CORRUPT_NAN));
    sal_import_params p = params(SAL_IMPORT_NEUROX_HDF5, in, 1, out);
    expect_fail("NaN", &p, SAL_ERR_FORMAT, "nan.hdf5: dataset '3'",
                "token 1 ('is'), layer 1, neuron 2: NaN");

    CHECK_OK(neurox_fixture_write_hdf5(wpath(f, sizeof(f), "width.hdf5"), 3, 4, 0,
                                       NEUROX_CORRUPT_WIDTH));
    expect_fail("width", &p, SAL_ERR_FORMAT, "width.hdf5: dataset '5'",
                "layer 0 has 5 neurons, the first sentence has 4");

    /* the sentences file disagrees: a changed word, a missing line, an extra line */
    CHECK_OK(neurox_fixture_write_hdf5(wpath(f, sizeof(f), "good.hdf5"), 3, 4, 0, 0));
    edit_line(sent, wpath(bad, sizeof(bad), "changed.txt"), 8,
              "A café closed in Paris last year .\n");
    p.tokens_path = bad;
    expect_fail("changed word", &p, SAL_ERR_FORMAT, "changed.txt:8: token 2",
                "file has 'closed', activations have 'opened'");
    edit_line(sent, bad, 12, NULL);
    expect_fail("short sentences file", &p, SAL_ERR_FORMAT, "changed.txt: 11 sentences", NULL);
    edit_line(sent, bad, 2, "Dogs bark loudly .\n");
    expect_fail("token count", &p, SAL_ERR_FORMAT, "changed.txt:2: 4 tokens",
                "sentence 1 have 3");
    copy_file(sent, bad, -1);
    FILE *fp = fopen(bad, "a");
    if (fp) {
        fputs("\n\none more\n\n", fp);
        fclose(fp);
    }
    expect_fail("long sentences file", &p, SAL_ERR_FORMAT, "changed.txt: 15 sentences",
                "activations have 12");
    p.tokens_path = "/nonexistent/sentences.txt";
    expect_fail("missing sentences file", &p, SAL_ERR_IO, "/nonexistent/sentences.txt", NULL);
    p.tokens_path = NULL;
    /* trailing blank lines are fine */
    copy_file(sent, bad, -1);
    fp = fopen(bad, "a");
    if (fp) {
        fputs("\n\n", fp);
        fclose(fp);
    }
    p.tokens_path = bad;
    CHECK_OK(sal_import_run(&p, NULL));
    rm_model(out);
    p.tokens_path = NULL;

    /* missing input */
    in[0] = wpath(g, sizeof(g), "missing.hdf5");
    expect_fail("missing input", &p, SAL_ERR_IO, "missing.hdf5", NULL);

    /* truncated HDF5: half of a good file, and other cuts */
    wpath(f, sizeof(f), "good.hdf5");
    long size = file_size(f), cuts[6] = {size / 2, 0, 100, size / 4, 3 * size / 4, size - 1};
    in[0] = wpath(g, sizeof(g), "half.hdf5");
    for (int k = 0; k < 6; k++) {
        copy_file(f, g, cuts[k]);
        sal_status st = sal_import_run(&p, NULL);
        CHECK(st == SAL_ERR_FORMAT || st == SAL_ERR_IO, "truncated at %ld: %s", cuts[k],
              sal_status_str(st));
        CHECK(strstr(sal_errmsg(), "half.hdf5") != NULL, "truncated at %ld: message '%s'",
              cuts[k], sal_errmsg());
        if (k == 0)
            expect_fail("truncated", &p, st, "half.hdf5", NULL);
        rm_model(out);
    }
    /* not HDF5 at all */
    in[0] = sent;
    expect_fail("text as HDF5", &p, SAL_ERR_FORMAT, "sentences.txt", NULL);

    /* an empty sentence */
    neurox_h5 *w = NULL;
    const char *words[2] = {"a", "b"};
    float v[4] = {1, 2, 3, 4};
    CHECK_OK(neurox_h5_open(wpath(g, sizeof(g), "empty.hdf5"), 0, &w));
    if (w) {
        CHECK_OK(neurox_h5_add(w, 0, 2, words, 1, 2, v));
        CHECK_OK(neurox_h5_add(w, 1, 0, words, 1, 2, v));
        CHECK_OK(neurox_h5_close(w));
    }
    in[0] = g;
    expect_fail("empty sentence", &p, SAL_ERR_FORMAT, "empty.hdf5: dataset '1'", "no tokens");

    /* per-layer files that disagree: layer 1 holds "No" where the others hold "Yes" */
    CHECK_OK(neurox_fixture_write_layers(wpath(pre, sizeof(pre), "dis"), 3, wide, 0));
    CHECK_OK(neurox_h5_open(wpath(g, sizeof(g), "dis-layer1.hdf5"), 0, &w));
    for (int s = 0; w && s < NEUROX_FIXTURE_NSENT; s++) {
        const char *ws[16];
        float vals[16 * 6];
        int n = neurox_fixture_ntok(s);
        for (int t = 0; t < n; t++)
            ws[t] = s == 4 ? "No" : neurox_fixture_word(s, t);
        for (int i = 0; i < n * 6; i++)
            vals[i] = 0.5f;
        CHECK_OK(neurox_h5_add(w, s, n, ws, 1, 6, vals));
    }
    CHECK_OK(neurox_h5_close(w));
    in[0] = wpath(f, sizeof(f), "dis-layer0.hdf5");
    expect_fail("layer files disagree", &p, SAL_ERR_FORMAT, "dis-layer1.hdf5: dataset '4'",
                "token 0 is 'No'");
    /* per-layer files with a gap */
    in[0] = wpath(f, sizeof(f), "dis-layer0.hdf5");
    in[1] = wpath(g, sizeof(g), "dis-layer2.hdf5");
    p.ninputs = 2;
    expect_fail("layer gap", &p, SAL_ERR_ARG, "dis-layer1.hdf5 is missing", NULL);
    p.ninputs = 1;

    /* JSON: a broken line, a value that is not a number, an out-of-order line */
    CHECK_OK(neurox_fixture_write_json(wpath(js, sizeof(js), "good.jsonl"), 3, wide));
    edit_line(js, wpath(bad, sizeof(bad), "bad.jsonl"), 5, "{\"linex_index\": 4, \"feat\n");
    in[0] = bad;
    p.format = SAL_IMPORT_NEUROX_JSON;
    expect_fail("broken JSON", &p, SAL_ERR_FORMAT, "bad.jsonl:5: invalid JSON", NULL);
    edit_line(js, bad, 5,
              "{\"linex_index\": 4, \"features\": [{\"token\": \"Yes\", \"layers\": "
              "[{\"index\": 0, \"values\": [1, 2, 3, \"x\"]}, {\"index\": 1, \"values\": "
              "[1, 2, 3, 4, 5, 6]}, {\"index\": 2, \"values\": [1, 2, 3, 4, 5, 6]}]}]}\n");
    expect_fail("JSON string value", &p, SAL_ERR_FORMAT, "bad.jsonl:5: token 0 ('Yes'), layer 0",
                "not a number");
    edit_line(js, bad, 5,
              "{\"linex_index\": 4, \"features\": [{\"token\": \"Yes\", \"layers\": "
              "[{\"index\": 2, \"values\": [1, 2, 3, 4, 5, 6]}, {\"index\": 0, \"values\": "
              "[1, 2, 3, NaN]}, {\"index\": 1, \"values\": [1, 2, 3, 4, 5, 6]}]}]}\n");
    expect_fail("JSON NaN", &p, SAL_ERR_FORMAT, "bad.jsonl:5:", "layer 0, neuron 3: NaN");
    edit_line(js, bad, 5,
              "{\"linex_index\": 4, \"features\": [{\"token\": \"Yes\", \"layers\": "
              "[{\"index\": 0, \"values\": [1, 2, 3, 4]}, {\"index\": 1, \"values\": "
              "[1, 2, 3, 4, 5]}, {\"index\": 2, \"values\": [1, 2, 3, 4, 5, 6]}]}]}\n");
    expect_fail("JSON width", &p, SAL_ERR_FORMAT, "bad.jsonl:5:",
                "layer 1 has 5 neurons, the first sentence has 6");
    edit_line(js, bad, 5,
              "{\"linex_index\": 4, \"features\": [{\"token\": \"Yes\", \"layers\": "
              "[{\"index\": 0, \"values\": [1, 2, 3, 4]}, {\"index\": 1, \"values\": "
              "[1, 2, 3, 4, 5, 1e39]}, {\"index\": 2, \"values\": [1, 2, 3, 4, 5, 6]}]}]}\n");
    expect_fail("JSON out of range", &p, SAL_ERR_FORMAT, "bad.jsonl:5: token 0 ('Yes'), layer 1",
                "float32 range");
    edit_line(js, bad, 3, NULL);
    expect_fail("JSON order", &p, SAL_ERR_FORMAT, "bad.jsonl:3: linex_index is 3, expected 2",
                NULL);
    copy_file(js, bad, file_size(js) * 2 / 3);
    expect_fail("JSON truncated", &p, SAL_ERR_FORMAT, "bad.jsonl:", "invalid JSON");
    p.tokens_path = wpath(sent, sizeof(sent), "sentences.txt");
    edit_line(js, bad, 12, NULL);
    expect_fail("JSON short", &p, SAL_ERR_FORMAT, "sentences.txt: 12 sentences",
                "activations have 11");
    p.tokens_path = NULL;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: test-import SCRATCH_DIR\n");
        MPI_Finalize();
        return 2;
    }
    snprintf(work, sizeof(work), "%s", argv[1]);
    snprintf(outdir, sizeof(outdir), "%s/out", work);
    mkdir(work, 0777);
    mkdir(outdir, 0777);
    CHECK(access(outdir, W_OK) == 0, "cannot use %s: %s", outdir, strerror(errno));

    test_check();
    test_formats();
    test_occurrence();
    test_errors();

    int rc = test_finish("test-import");
    MPI_Finalize();
    return rc;
}
