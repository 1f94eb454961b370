/* labels.c - token-level tasks read from NeuroX text or Brown files (see labels.h). */
#include "salient/labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What separates tokens: C-locale whitespace, the same set sal_corpus_add_line uses. */
#define SPACE " \t\n\v\f\r"

/* A growable array of pointers into a line buffer. */
typedef struct ptr_vec {
    char **p;    /* n pointers */
    int64_t n;   /* pointers in use */
    int64_t cap; /* pointers allocated */
} ptr_vec;

/* Scratch for reading lines: getline's buffer and the tokens of the current line. */
typedef struct line_buf {
    char *buf;   /* getline's buffer */
    size_t size; /* bytes allocated in buf */
    ptr_vec tok; /* tokens of the current line, pointing into buf */
} line_buf;

/* Distinct label strings, each with a provisional id in order of first appearance,
 * found through an open-addressing hash table with linear probing. */
typedef struct interner {
    char **name;   /* n strings (owned) */
    int32_t n;     /* distinct strings */
    int64_t cap;   /* entries allocated in name */
    int32_t *slot; /* nslot entries: an index into name, or -1 when empty */
    size_t nslot;  /* a power of two, more than twice n */
} interner;

/* What a reader is building: the result and the state needed to grow it. */
typedef struct builder {
    sal_labels *out;       /* the result (NULL until set) */
    interner names;        /* label string -> provisional id */
    int64_t label_cap;     /* entries allocated in out->label */
    int64_t sent_file_cap; /* entries allocated in out->sent_file */
    int64_t sent_line_cap; /* entries allocated in out->sent_line */
} builder;

/* A distinct label and its provisional id, for sorting. */
typedef struct name_entry {
    const char *s;
    int32_t id;
} name_entry;

/* Return p grown to hold at least need elements of size elem, doubling *cap; NULL when
 * out of memory, in which case p and *cap are unchanged. */
static void *grow(void *p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    int64_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(p, (size_t)ncap * elem);
    if (q)
        *cap = ncap;
    return q;
}

/* Split line in place at whitespace into v (pointers into line). */
static sal_status split(char *line, ptr_vec *v)
{
    sal_status st = SAL_OK;
    char *save = NULL;
    v->n = 0;
    for (char *t = strtok_r(line, SPACE, &save); t; t = strtok_r(NULL, SPACE, &save)) {
        char **q = grow(v->p, &v->cap, v->n + 1, sizeof(*v->p));
        if (!q) {
            st = sal_fail(SAL_ERR_NOMEM, "out of memory splitting a line into tokens");
            break;
        }
        v->p = q;
        v->p[v->n++] = t;
    }
    return st;
}

/* Read the next line of fp (named path) into lb->buf without its "\n" or "\r\n";
 * *got is 1 when a line was read, 0 at end of file. */
static sal_status next_line(FILE *fp, const char *path, line_buf *lb, int *got)
{
    sal_status st = SAL_OK;
    errno = 0;
    ssize_t len = getline(&lb->buf, &lb->size, fp);
    *got = len >= 0;
    if (len < 0 && ferror(fp))
        st = sal_fail(SAL_ERR_IO, "%s: read error: %s", path, strerror(errno));
    else if (len < 0 && errno == ENOMEM)
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory reading a line", path);
    if (len > 0 && lb->buf[len - 1] == '\n')
        lb->buf[--len] = '\0';
    if (len > 0 && lb->buf[len - 1] == '\r')
        lb->buf[--len] = '\0';
    return st;
}

/* Count the lines left in fp (named path) into *n. */
static sal_status count_rest(FILE *fp, const char *path, line_buf *lb, int64_t *n)
{
    sal_status st = SAL_OK;
    int got = 1;
    *n = 0;
    while (st == SAL_OK && got) {
        st = next_line(fp, path, lb, &got);
        *n += got;
    }
    return st;
}

/* FNV-1a hash of s. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Rebuild in's hash table with nslot slots (a power of two). */
static sal_status rehash(interner *in, size_t nslot)
{
    sal_status st = SAL_OK;
    int32_t *slot = malloc(nslot * sizeof(*slot));
    if (!slot) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for a table of %zu labels", nslot);
    } else {
        for (size_t i = 0; i < nslot; i++)
            slot[i] = -1;
        for (int32_t k = 0; k < in->n; k++) {
            size_t i = hash_str(in->name[k]) & (nslot - 1);
            while (slot[i] >= 0)
                i = (i + 1) & (nslot - 1);
            slot[i] = k;
        }
        free(in->slot);
        in->slot = slot;
        in->nslot = nslot;
    }
    return st;
}

/* Set *id to the provisional id of s, adding a copy of s if it is new. */
static sal_status intern(interner *in, const char *s, int32_t *id)
{
    sal_status st = SAL_OK;
    if (2 * ((size_t)in->n + 1) > in->nslot)
        st = rehash(in, in->nslot ? 2 * in->nslot : 1024);
    size_t i = st ? 0 : hash_str(s) & (in->nslot - 1);
    while (st == SAL_OK && in->slot[i] >= 0 && strcmp(in->name[in->slot[i]], s) != 0)
        i = (i + 1) & (in->nslot - 1);
    if (st == SAL_OK && in->slot[i] >= 0) {
        *id = in->slot[i];
    } else if (st == SAL_OK) {
        char **name = grow(in->name, &in->cap, (int64_t)in->n + 1, sizeof(*in->name));
        char *copy = strdup(s);
        if (name)
            in->name = name;
        if (!name || !copy) {
            free(copy);
            st = sal_fail(SAL_ERR_NOMEM, "out of memory for label '%s'", s);
        } else {
            in->name[in->n] = copy;
            in->slot[i] = in->n;
            *id = in->n++;
        }
    }
    return st;
}

/* Release what in holds. */
static void interner_free(interner *in)
{
    for (int32_t k = 0; k < in->n; k++)
        free(in->name[k]);
    free(in->name);
    free(in->slot);
    memset(in, 0, sizeof(*in));
}

/* Start b on an emptied out that records the nfiles source paths. */
static sal_status builder_init(builder *b, sal_labels *out, int nfiles, const char *const *paths)
{
    sal_status st = SAL_OK;
    memset(b, 0, sizeof(*b));
    b->out = out;
    if (out)
        memset(out, 0, sizeof(*out));
    if (!out || nfiles < 1 || !paths) {
        st = sal_fail(SAL_ERR_ARG, "reading labels needs an output and at least one file");
    } else if (!(out->file = calloc((size_t)nfiles, sizeof(*out->file)))) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for %d file names", nfiles);
    } else {
        out->nfiles = nfiles;
        for (int f = 0; st == SAL_OK && f < nfiles; f++) {
            if (!paths[f])
                st = sal_fail(SAL_ERR_ARG, "label file %d has no path", f + 1);
            else if (!(out->file[f] = strdup(paths[f])))
                st = sal_fail(SAL_ERR_NOMEM, "out of memory for file name %s", paths[f]);
        }
    }
    return st;
}

/* Make room in b->out for ntok token labels and nsent sentence origins. */
static sal_status reserve(builder *b, int64_t ntok, int64_t nsent)
{
    sal_status st = SAL_OK;
    sal_labels *out = b->out;
    int32_t *label = grow(out->label, &b->label_cap, ntok, sizeof(*label));
    if (label)
        out->label = label;
    int32_t *sent_file = grow(out->sent_file, &b->sent_file_cap, nsent, sizeof(*sent_file));
    if (sent_file)
        out->sent_file = sent_file;
    int64_t *sent_line = grow(out->sent_line, &b->sent_line_cap, nsent, sizeof(*sent_line));
    if (sent_line)
        out->sent_line = sent_line;
    if (!label || !sent_file || !sent_line)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for labels of %lld tokens", (long long)ntok);
    return st;
}

/* Append a sentence of n words with their n labels, read from line of file f. */
static sal_status builder_add(builder *b, char *const *words, char *const *labels, int64_t n,
                              int32_t f, int64_t line)
{
    sal_labels *out = b->out;
    int64_t t0 = out->corpus.ntok;
    sal_status st = sal_corpus_add_sentence(&out->corpus, (const char *const *)words, n);
    if (st == SAL_OK)
        st = reserve(b, t0 + n, out->corpus.nsent);
    for (int64_t i = 0; st == SAL_OK && i < n; i++)
        st = intern(&b->names, labels[i], &out->label[t0 + i]);
    if (st == SAL_OK) {
        out->sent_file[out->corpus.nsent - 1] = f;
        out->sent_line[out->corpus.nsent - 1] = line;
    }
    return st;
}

/* Order two name entries byte-wise by their strings. */
static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const name_entry *)a)->s, ((const name_entry *)b)->s);
}

/* Give the labels their final ids, in byte-wise sorted order of the strings, and move
 * the strings to out->class_name. Callers refuse input with no tokens, so names.n > 0. */
static sal_status builder_finish(builder *b)
{
    sal_status st = SAL_OK;
    interner *in = &b->names;
    sal_labels *out = b->out;
    size_t n = (size_t)in->n;
    name_entry *entry = malloc(n * sizeof(*entry));
    int32_t *rank = malloc(n * sizeof(*rank));
    char **class_name = malloc(n * sizeof(*class_name));
    if (!entry || !rank || !class_name) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory sorting %zu labels", n);
        goto free_scratch;
    }
    for (int32_t k = 0; k < in->n; k++)
        entry[k] = (name_entry){in->name[k], k};
    qsort(entry, n, sizeof(*entry), cmp_entry);
    for (int32_t k = 0; k < in->n; k++) {
        class_name[k] = (char *)entry[k].s;
        rank[entry[k].id] = k;
    }
    for (int64_t t = 0; t < out->corpus.ntok; t++)
        out->label[t] = rank[out->label[t]];
    out->class_name = class_name;
    out->nclasses = in->n;
    class_name = NULL;
    in->n = 0; /* the strings now belong to out->class_name */
free_scratch:
    free(class_name);
    free(rank);
    free(entry);
    return st;
}

/* Finish with b: release its scratch and, when st is a failure, the result. */
static sal_status builder_end(builder *b, sal_status st)
{
    interner_free(&b->names);
    if (st)
        sal_labels_free(b->out);
    return st;
}

/* Blank lines: NeuroX would read a blank line as a sentence of 0 tokens, but a model
 * has no activations for an empty sentence, so a blank line in either file (trailing
 * ones included) is refused with its file:line. CRLF line endings are accepted. */
sal_status sal_labels_read_text(const char *sentences_path, const char *labels_path,
                                sal_labels *out)
{
    const char *paths[2] = {sentences_path, labels_path};
    builder b;
    line_buf sl = {0}, ll = {0};
    FILE *sfp = NULL, *lfp = NULL;
    int sgot = 0, lgot = 0;
    int64_t line = 0;
    sal_status st = builder_init(&b, out, 2, paths);
    if (st)
        goto free_builder;
    if (!(sfp = fopen(sentences_path, "r"))) {
        st = sal_fail(SAL_ERR_IO, "%s: %s", sentences_path, strerror(errno));
        goto free_builder;
    }
    if (!(lfp = fopen(labels_path, "r"))) {
        st = sal_fail(SAL_ERR_IO, "%s: %s", labels_path, strerror(errno));
        goto close_sentences;
    }
    for (;;) {
        st = next_line(sfp, sentences_path, &sl, &sgot);
        if (st == SAL_OK)
            st = next_line(lfp, labels_path, &ll, &lgot);
        if (st || !sgot || !lgot)
            break;
        line++;
        if ((st = split(sl.buf, &sl.tok)) || (st = split(ll.buf, &ll.tok)))
            break;
        if (sl.tok.n == 0 || ll.tok.n == 0) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s:%lld: blank line; a sentence needs at least one token",
                          sl.tok.n == 0 ? sentences_path : labels_path, (long long)line);
            break;
        }
        if (sl.tok.n != ll.tok.n) {
            st = sal_fail(SAL_ERR_FORMAT, "%s:%lld: %lld labels for %lld tokens in %s:%lld",
                          labels_path, (long long)line, (long long)ll.tok.n,
                          (long long)sl.tok.n, sentences_path, (long long)line);
            break;
        }
        st = builder_add(&b, sl.tok.p, ll.tok.p, sl.tok.n, 0, line);
        if (st)
            break;
    }
    if (st == SAL_OK && (sgot || lgot)) {
        /* One file ended first: count what is left of the other for the message. */
        int64_t rest = 0;
        st = sgot ? count_rest(sfp, sentences_path, &sl, &rest)
                  : count_rest(lfp, labels_path, &ll, &rest);
        if (st == SAL_OK && line == 0)
            st = sal_fail(SAL_ERR_FORMAT, "%s: empty file, no sentences",
                          sgot ? labels_path : sentences_path);
        else if (st == SAL_OK)
            st = sal_fail(SAL_ERR_FORMAT, "%s has %lld lines but %s has %lld", sentences_path,
                          (long long)(line + sgot * (1 + rest)), labels_path,
                          (long long)(line + lgot * (1 + rest)));
    } else if (st == SAL_OK && line == 0) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: empty file, no sentences", sentences_path);
    }
    if (st == SAL_OK)
        st = builder_finish(&b);
    fclose(lfp);
close_sentences:
    fclose(sfp);
free_builder:
    free(sl.buf);
    free(sl.tok.p);
    free(ll.buf);
    free(ll.tok.p);
    return builder_end(&b, st);
}

/* Split the tokens of lb (words after this call) at their last '/' into tags, naming
 * path:line:token on a token without '/', with an empty word or an empty tag. */
sal_status sal_labels_read_tags(const char *labels_path, const sal_corpus *words,
                                const char *words_name, sal_labels *out)
{
    const char *paths[1] = {labels_path};
    builder b;
    line_buf ll = {0};
    FILE *lfp = NULL;
    int lgot = 0;
    int64_t line = 0;
    const char **w = NULL;
    sal_status st = builder_init(&b, out, 1, paths);
    if (st)
        goto free_builder;
    if (!(lfp = fopen(labels_path, "r"))) {
        st = sal_fail(SAL_ERR_IO, "%s: %s", labels_path, strerror(errno));
        goto free_builder;
    }
    for (;;) {
        if ((st = next_line(lfp, labels_path, &ll, &lgot)) || !lgot)
            break;
        line++;
        if ((st = split(ll.buf, &ll.tok)))
            break;
        if (ll.tok.n == 0) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s:%lld: blank line; a sentence needs at least one token",
                          labels_path, (long long)line);
            break;
        }
        if (line > words->nsent) {
            st = sal_fail(SAL_ERR_FORMAT, "%s:%lld: more lines than the %lld sentences of %s",
                          labels_path, (long long)line, (long long)words->nsent, words_name);
            break;
        }
        int64_t s = line - 1, n = sal_corpus_sent_len(words, s);
        if (ll.tok.n != n) {
            st = sal_fail(SAL_ERR_FORMAT, "%s:%lld: %lld labels for the %lld tokens of sentence "
                          "%lld of %s",
                          labels_path, (long long)line, (long long)ll.tok.n, (long long)n,
                          (long long)line, words_name);
            break;
        }
        const char **q = realloc(w, sizeof(*q) * (size_t)n);
        if (!q) {
            st = sal_fail(SAL_ERR_NOMEM, "out of memory");
            break;
        }
        w = q;
        for (int64_t i = 0; i < n; i++)
            w[i] = sal_corpus_word(words, words->sent_start[s] + i);
        if ((st = builder_add(&b, (char *const *)w, ll.tok.p, n, 0, line)))
            break;
    }
    if (st == SAL_OK && line < words->nsent)
        st = sal_fail(SAL_ERR_FORMAT, "%s has %lld lines, %s has %lld sentences", labels_path,
                      (long long)line, words_name, (long long)words->nsent);
    if (st == SAL_OK)
        st = builder_finish(&b);
    fclose(lfp);
free_builder:
    free(w);
    free(ll.buf);
    free(ll.tok.p);
    return builder_end(&b, st);
}

static sal_status split_tags(line_buf *lb, ptr_vec *tags, const char *path, int64_t line)
{
    sal_status st = SAL_OK;
    const char *why = NULL;
    char **p = grow(tags->p, &tags->cap, lb->tok.n, sizeof(*tags->p));
    if (!p)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory for %lld tags", (long long)lb->tok.n);
    else
        tags->p = p;
    for (int64_t i = 0; st == SAL_OK && i < lb->tok.n; i++) {
        char *tok = lb->tok.p[i];
        char *slash = strrchr(tok, '/');
        if (!slash)
            why = "no '/' between word and tag";
        else if (slash == tok)
            why = "empty word";
        else if (slash[1] == '\0')
            why = "empty tag";
        if (why) {
            st = sal_fail(SAL_ERR_FORMAT, "%s:%lld: token %lld '%s': %s", path, (long long)line,
                          (long long)(i + 1), tok, why);
        } else {
            *slash = '\0';
            tags->p[i] = slash + 1;
        }
    }
    tags->n = st ? 0 : lb->tok.n;
    return st;
}

/* Read Brown file f of b->out->file into b. Whitespace-only lines are skipped; a file
 * with no sentence at all is refused (it is likely not a Brown file). */
static sal_status read_brown_file(builder *b, int32_t f, line_buf *lb, ptr_vec *tags)
{
    const char *path = b->out->file[f];
    int64_t nsent0 = b->out->corpus.nsent;
    sal_status st = SAL_OK;
    int got = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        st = sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(errno));
        goto close_file;
    }
    for (int64_t line = 1; st == SAL_OK; line++) {
        st = next_line(fp, path, lb, &got);
        if (st || !got)
            break;
        st = split(lb->buf, &lb->tok);
        if (st == SAL_OK && lb->tok.n > 0) {
            st = split_tags(lb, tags, path, line);
            if (st == SAL_OK)
                st = builder_add(b, lb->tok.p, tags->p, lb->tok.n, f, line);
        }
    }
    if (st == SAL_OK && b->out->corpus.nsent == nsent0)
        st = sal_fail(SAL_ERR_FORMAT, "%s: no sentences (empty or blank file)", path);
close_file:
    if (fp)
        fclose(fp);
    return st;
}

sal_status sal_labels_read_brown(int nfiles, const char *const *paths, sal_labels *out)
{
    builder b;
    line_buf lb = {0};
    ptr_vec tags = {0};
    sal_status st = builder_init(&b, out, nfiles, paths);
    for (int32_t f = 0; st == SAL_OK && f < nfiles; f++)
        st = read_brown_file(&b, f, &lb, &tags);
    if (st == SAL_OK)
        st = builder_finish(&b);
    free(lb.buf);
    free(lb.tok.p);
    free(tags.p);
    return builder_end(&b, st);
}

/* Write where sentence s of lab came from ("FILE:LINE") into buf of size n. */
static void where(const sal_labels *lab, int64_t s, char *buf, size_t n)
{
    if (lab->file && lab->sent_file && lab->sent_line && lab->sent_file[s] >= 0 &&
        lab->sent_file[s] < lab->nfiles)
        snprintf(buf, n, "%s:%lld", lab->file[lab->sent_file[s]], (long long)lab->sent_line[s]);
    else
        snprintf(buf, n, "labels sentence %lld", (long long)(s + 1));
}

/* Sentence and token numbers in messages are 1-based, like lines. */
sal_status sal_labels_check_alignment(const sal_labels *lab, const sal_corpus *model_words,
                                      const char *model_name)
{
    sal_status st = SAL_OK;
    const char *model = model_name ? model_name : "(unnamed)";
    const sal_corpus *lc = lab ? &lab->corpus : NULL;
    const sal_corpus *mc = model_words;
    char from[1024] = "";
    if (!lab || !mc) {
        st = sal_fail(SAL_ERR_ARG, "checking alignment needs labels and model words");
    } else if (lc->nsent != mc->nsent) {
        if (lab->file && lab->nfiles == 1)
            snprintf(from, sizeof(from), " (%s)", lab->file[0]);
        else if (lab->file && lab->nfiles == 2)
            snprintf(from, sizeof(from), " (%s, %s)", lab->file[0], lab->file[1]);
        else if (lab->file && lab->nfiles > 2)
            snprintf(from, sizeof(from), " (%s ... %s, %d files)", lab->file[0],
                     lab->file[lab->nfiles - 1], (int)lab->nfiles);
        st = sal_fail(SAL_ERR_FORMAT, "labels have %lld sentences%s, model %s has %lld",
                      (long long)lc->nsent, from, model, (long long)mc->nsent);
    }
    for (int64_t s = 0; st == SAL_OK && s < lc->nsent; s++) {
        int64_t ln = sal_corpus_sent_len(lc, s), mn = sal_corpus_sent_len(mc, s);
        int64_t k = 0; /* the first token that differs, if any */
        while (k < ln && k < mn &&
               strcmp(sal_corpus_word(lc, lc->sent_start[s] + k),
                      sal_corpus_word(mc, mc->sent_start[s] + k)) == 0)
            k++;
        if (ln == mn && k == ln)
            continue;
        char at[1024], diff[2048] = "";
        where(lab, s, at, sizeof(at));
        if (k < ln && k < mn)
            snprintf(diff, sizeof(diff), "token %lld: labels have '%s', model %s has '%s'",
                     (long long)(k + 1), sal_corpus_word(lc, lc->sent_start[s] + k), model,
                     sal_corpus_word(mc, mc->sent_start[s] + k));
        if (ln == mn)
            st = sal_fail(SAL_ERR_FORMAT, "%s: %s", at, diff);
        else if (diff[0])
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s: %lld tokens, model %s has %lld in sentence %lld (first difference "
                          "at %s)",
                          at, (long long)ln, model, (long long)mn, (long long)(s + 1), diff);
        else
            st = sal_fail(SAL_ERR_FORMAT, "%s: %lld tokens, model %s has %lld in sentence %lld",
                          at, (long long)ln, model, (long long)mn, (long long)(s + 1));
    }
    return st;
}

void sal_labels_free(sal_labels *lab)
{
    if (!lab)
        return;
    sal_corpus_free(&lab->corpus);
    free(lab->label);
    for (int32_t k = 0; lab->class_name && k < lab->nclasses; k++)
        free(lab->class_name[k]);
    free(lab->class_name);
    for (int32_t f = 0; lab->file && f < lab->nfiles; f++)
        free(lab->file[f]);
    free(lab->file);
    free(lab->sent_file);
    free(lab->sent_line);
    memset(lab, 0, sizeof(*lab));
}
