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

/* Check that the labels' words equal a model's words (sentence count, tokens per
 * sentence, and each word). On the first mismatch fails with SAL_ERR_FORMAT and a
 * message "FILE:LINE: token K: labels have 'a', model MODEL has 'b'" (or the
 * sentence/ token count that differs). model_name is used in the message. */
sal_status sal_labels_check_alignment(const sal_labels *lab, const sal_corpus *model_words,
                                      const char *model_name);

/* Release what lab holds and zero it. No operation on NULL. */
void sal_labels_free(sal_labels *lab);

#endif
