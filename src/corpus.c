/* corpus.c - sentences of whitespace tokens in one arena (see corpus.h). */
#include "salient/corpus.h"

#include <stdlib.h>
#include <string.h>

/* Grow *p (of *cap elements of size elem) to hold at least need elements. */
static sal_status grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return SAL_OK;
    int64_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q)
        return sal_fail(SAL_ERR_NOMEM, "out of memory growing a corpus to %lld entries",
                        (long long)ncap);
    *p = q;
    *cap = ncap;
    return SAL_OK;
}

static sal_status add_word(sal_corpus *c, const char *w, size_t len)
{
    sal_status st = grow((void **)&c->word_off, &c->tok_cap, c->ntok + 1, sizeof(*c->word_off));
    if (st)
        return st;
    if (c->arena_len + len + 1 > c->arena_cap) {
        size_t ncap = c->arena_cap ? c->arena_cap : 4096;
        while (ncap < c->arena_len + len + 1)
            ncap *= 2;
        char *q = realloc(c->arena, ncap);
        if (!q)
            return sal_fail(SAL_ERR_NOMEM, "out of memory growing a corpus to %zu bytes", ncap);
        c->arena = q;
        c->arena_cap = ncap;
    }
    memcpy(c->arena + c->arena_len, w, len);
    c->arena[c->arena_len + len] = '\0';
    c->word_off[c->ntok++] = (int64_t)c->arena_len;
    c->arena_len += len + 1;
    return SAL_OK;
}

static sal_status open_sentence(sal_corpus *c)
{
    sal_status st = grow((void **)&c->sent_start, &c->sent_cap, c->nsent + 2,
                         sizeof(*c->sent_start));
    if (st)
        return st;
    if (c->nsent == 0)
        c->sent_start[0] = 0;
    return SAL_OK;
}

sal_status sal_corpus_add_sentence(sal_corpus *c, const char *const *words, int64_t n)
{
    sal_status st = open_sentence(c);
    for (int64_t i = 0; st == SAL_OK && i < n; i++)
        st = add_word(c, words[i], strlen(words[i]));
    if (st)
        return st;
    c->sent_start[++c->nsent] = c->ntok;
    return SAL_OK;
}

sal_status sal_corpus_add_line(sal_corpus *c, const char *line)
{
    sal_status st = open_sentence(c);
    const char *p = line;
    while (st == SAL_OK && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && !(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\v' ||
                       *q == '\f'))
            q++;
        st = add_word(c, p, (size_t)(q - p));
        p = q;
    }
    if (st)
        return st;
    c->sent_start[++c->nsent] = c->ntok;
    return SAL_OK;
}

void sal_corpus_free(sal_corpus *c)
{
    if (!c)
        return;
    free(c->sent_start);
    free(c->word_off);
    free(c->arena);
    memset(c, 0, sizeof(*c));
}
