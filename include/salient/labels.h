/*
 * labels.h - token-level tasks: one label per token of a corpus.
 *
 * Two source formats:
 *  - NeuroX text: a sentences file and a labels file, one sentence per line,
 *    whitespace tokens; line i of both has the same number of tokens.
 *  - Brown Corpus (NLTK layout): one sentence per non-blank line, tokens `word/tag`,
 *    split on the last '/' (a word may contain '/'); one or several files, read in
 *    the order given.
 * Class ids are assigned in byte-wise sorted order of the label strings, so the same
 * data always gives the same ids. Every sentence remembers its file and line, so a
 * misalignment is reported as file:line:token. Not collective.
 */
#ifndef SALIENT_LABELS_H
#define SALIENT_LABELS_H

#include <stdint.h>

#include "salient/corpus.h"
#include "salient/status.h"

typedef struct sal_labels {
    sal_corpus corpus;    /* the words, as the label source has them */
    int32_t *label;       /* corpus.ntok class ids in [0, nclasses) */
    int32_t nclasses;     /* number of distinct labels */
    char **class_name;    /* nclasses label strings, sorted */
    int32_t nfiles;       /* number of source files */
    char **file;          /* source file paths (for messages) */
    int32_t *sent_file;   /* corpus.nsent: index into file[] of each sentence */
    int64_t *sent_line;   /* corpus.nsent: 1-based line of each sentence in its file */
} sal_labels;

/* Read NeuroX's sentences file + labels file. Fails (SAL_ERR_FORMAT) naming
 * file:line when the two differ in line count or in tokens on a line, and on an
 * empty file; SAL_ERR_IO naming the file when it cannot be read. */
sal_status sal_labels_read_text(const char *sentences_path, const char *labels_path,
                                sal_labels *out);

/* Read a NeuroX labels file alone, shaped like the sentences of words (a model's own
 * words): line i has one label per token of sentence i. The words are copied from
 * words; words_name (e.g. the model folder) appears in messages. */
sal_status sal_labels_read_tags(const char *labels_path, const sal_corpus *words,
                                const char *words_name, sal_labels *out);

/* Read Brown-format files (word/tag tokens). Fails (SAL_ERR_FORMAT) naming
 * file:line:token for a token without '/', an empty word or an empty tag. */
sal_status sal_labels_read_brown(int nfiles, const char *const *paths, sal_labels *out);

/* ---- Brown label rules ------------------------------------------------------------
 * The tasks the extractor derives from Brown tags (src/extract/lib/brown.js; the rules are
 * described in src/extract/README.md), computed here the same way so that a job's `derive`
 * gives exactly the label files `node brown.js` writes. tests/test-brown.c checks that on
 * a fixture the extractor wrote. */

/* A label rule. The values are those of SAL_JOB_DERIVE_* (job.h). Append only. */
enum {
    SAL_LABELS_DERIVE_POS_FINE = 0,   /* the full tag, as the corpus gives it (nn-tl) */
    SAL_LABELS_DERIVE_POS_COARSE = 1, /* the base tag (sal_labels_coarse_tag) */
    SAL_LABELS_DERIVE_SUFFIX = 2,     /* a frequent suffix of the word, else OTHER */
    SAL_LABELS_DERIVE_POS_UPOS = 3,   /* a universal tag (sal_labels_universal_tag) */
};

/* The suffix task's settings: the extractor's defaults (brown.js --suffix-*). */
#define SAL_LABELS_SUFFIX_LEN 3         /* letters of a suffix */
#define SAL_LABELS_SUFFIX_MIN_LEN 4     /* letters a word needs to have one */
#define SAL_LABELS_SUFFIX_TOP 30        /* the most frequent suffixes that are classes */
#define SAL_LABELS_SUFFIX_OTHER "OTHER" /* the label of every other word */

/* Write the coarse (base) tag of the full Brown tag `tag` into buf of size n (strlen(tag)
 * + 1 bytes always suffice). The tag is lowercased, then, in this order: fw-* becomes fw;
 * a compound a+b keeps a; the suffixes -tl, -hl, -nc are stripped repeatedly; a final '*'
 * is stripped unless the tag is '*'; a final '$' is stripped except from pp$, pp$$ and
 * wp$. A tag with a non-ASCII byte fails (SAL_ERR_FORMAT): the extractor lowercases by
 * Unicode rules, which this does not reproduce, and the Brown tag set is ASCII. */
sal_status sal_labels_coarse_tag(const char *tag, char *buf, size_t n);

/* Write the universal tag (Petrov et al.'s 12) of the full Brown tag `tag` into buf of size
 * n: its coarse tag looked up in src/extract/data/brown-universal.tsv, which is compiled
 * into the library. A coarse tag the table lacks fails with SAL_ERR_FORMAT. */
sal_status sal_labels_universal_tag(const char *tag, char *buf, size_t n);

/* Write the last SAL_LABELS_SUFFIX_LEN letters of word, lowercased, into buf and return 1
 * when word is made of at least SAL_LABELS_SUFFIX_MIN_LEN ASCII letters; else return 0
 * (buf is then ""). The extractor lowercases first, so U+212A KELVIN SIGN counts as 'k'. */
int sal_labels_suffix(const char *word, char buf[SAL_LABELS_SUFFIX_LEN + 1]);

/* Replace the labels of lab, full Brown tags as sal_labels_read_brown gives them, by those
 * of rule (SAL_LABELS_DERIVE_*), with new class ids in sorted order of the new names. The
 * suffix classes are the SAL_LABELS_SUFFIX_TOP most frequent suffixes among lab's tokens
 * (ties in alphabetical order). A tag that cannot be derived fails naming
 * FILE:LINE: token K; on failure lab is unchanged. */
sal_status sal_labels_derive(sal_labels *lab, int rule);

/* Check that the labels' words equal a model's words (sentence count, tokens per
 * sentence, and each word). On the first mismatch fails with SAL_ERR_FORMAT and a
 * message "FILE:LINE: token K: labels have 'a', model MODEL has 'b'" (or the
 * sentence/ token count that differs). model_name is used in the message. */
sal_status sal_labels_check_alignment(const sal_labels *lab, const sal_corpus *model_words,
                                      const char *model_name);

/* Release what lab holds and zero it. No operation on NULL. */
void sal_labels_free(sal_labels *lab);

#endif
