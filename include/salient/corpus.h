/*
 * corpus.h - sentences of whitespace tokens, held compactly.
 *
 * A corpus is what activations and labels are aligned on: the words of each
 * sentence in order. Words live in one arena, so a corpus of a million tokens is
 * three allocations, not a million. Not collective.
 */
#ifndef SALIENT_CORPUS_H
#define SALIENT_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "salient/status.h"

typedef struct sal_corpus {
    int64_t nsent;       /* number of sentences */
    int64_t ntok;        /* number of tokens over all sentences */
    int64_t *sent_start; /* nsent + 1 token offsets: sentence s is tokens [sent_start[s], sent_start[s+1]) */
    int64_t *word_off;   /* ntok offsets into arena, each word NUL-terminated */
    char *arena;         /* the words */
    size_t arena_len;    /* bytes used in arena */
    size_t arena_cap;    /* bytes allocated in arena */
    int64_t sent_cap;    /* allocated sentences */
    int64_t tok_cap;     /* allocated tokens */
} sal_corpus;

/* An empty corpus, ready for sal_corpus_add_sentence. */
#define SAL_CORPUS_INIT {0, 0, NULL, NULL, NULL, 0, 0, 0, 0}

/* Append one sentence of n words (copied). n may be 0. */
sal_status sal_corpus_add_sentence(sal_corpus *c, const char *const *words, int64_t n);

/* Append one sentence given as a line of whitespace-separated words (copied).
 * The line is not modified. */
sal_status sal_corpus_add_line(sal_corpus *c, const char *line);

/* The word of global token t (0 <= t < ntok). */
static inline const char *sal_corpus_word(const sal_corpus *c, int64_t t)
{
    return c->arena + c->word_off[t];
}

/* Number of tokens of sentence s. */
static inline int64_t sal_corpus_sent_len(const sal_corpus *c, int64_t s)
{
    return c->sent_start[s + 1] - c->sent_start[s];
}

/* Release what c holds and reset it to empty. No operation on NULL. */
void sal_corpus_free(sal_corpus *c);

#endif
