/*
 * import.c - NeuroX activation files into salient shards (see import.h).
 *
 * Every input file is a "source" that yields one sentence at a time: its words, its
 * token count and its layers' activations (each layer ntok x width, token-major).
 * A single NeuroX file holds all layers; NeuroX's per-layer files (decompose_layers)
 * hold one layer each, and the layers of several files are concatenated in layer
 * order. Sentences are read, checked and handed to the shard writer one by one, so
 * memory holds one sentence's activations (plus the corpus text), never the model.
 *
 * Inputs: a lone PREFIX-layer0.EXT brings its siblings PREFIX-layer1.EXT, ... (until
 * one is missing); several per-layer files of one prefix are put in layer order (a
 * shell glob lists -layer10 before -layer2) and must be layers 0..n-1. HDF5 sentences
 * are read in dataset order "0", "1", ...; JSON lines in file order, where blank
 * lines are skipped and "linex_index", if present, must count 0, 1, ...
 *
 * Positions in messages: lines of text files count from 1; sentences are named by
 * their NeuroX index (dataset name / linex_index) and tokens, layers and neurons
 * count from 0, with the word quoted.
 */
#include "salient/import.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <netcdf.h>

#include "salient/corpus.h"
#include "salient/shard.h"

#define OCCURRENCE " (Occurrence "

/* One input file and the sentence last read from it. */
typedef struct source {
    char *path;             /* the file */
    int is_json;            /* JSON lines, else HDF5 */
    /* HDF5 */
    int ncid;               /* open netCDF id, -1 if not open */
    json_object *s2i;       /* parsed sentence_to_index (owns the key strings) */
    const char **key;       /* key[i]: the text of sentence i */
    int64_t nsent;          /* sentences listed in sentence_to_index */
    /* JSON lines */
    FILE *fp;               /* the open file, NULL if not open */
    char *line;             /* getline buffer */
    size_t linecap;         /* its size */
    long lineno;            /* line of the current sentence (1-based) */
    json_tokener *tok;      /* reused parser */
    /* the layout, fixed by the first sentence */
    int nlayers;            /* layers in this file, 0 until the first sentence */
    int *width;             /* their widths */
    int layer0;             /* global index of this file's first layer */
    /* the current sentence */
    int64_t ntok;           /* tokens */
    char *text;             /* the words, NUL-separated */
    size_t textcap;         /* size of text */
    char **words;           /* ntok pointers into text */
    int64_t wordcap;        /* size of words */
    float *buf;             /* activations of all layers */
    size_t bufcap;          /* floats allocated in buf */
    float **act;            /* act[l]: layer l, ntok x width[l] */
} source;

const char *sal_import_check(const sal_import_params *p)
{
    if (!p)
        return "no import parameters";
    if (!p->model_name || !p->model_name[0])
        return "model name is missing";
    if (p->ninputs < 1 || !p->inputs)
        return "no input files";
    for (int i = 0; i < p->ninputs; i++)
        if (!p->inputs[i] || !p->inputs[i][0])
            return "an input file name is empty";
    if (p->shard_sentences < 1)
        return "sentences per shard must be at least 1";
    if (!p->out_dir || !p->out_dir[0])
        return "output folder is missing";
    if (p->format != SAL_IMPORT_NEUROX_HDF5 && p->format != SAL_IMPORT_NEUROX_JSON)
        return "unknown import format (neurox-hdf5 or neurox-json)";
    return NULL;
}

/* ---- buffers ---------------------------------------------------------------------- */

/* Make *p hold at least need elements of size elem (contents not kept). */
static sal_status reserve(void **p, size_t *cap, size_t need, size_t elem, const char *path)
{
    if (need <= *cap)
        return SAL_OK;
    if (need > SIZE_MAX / elem / 2)
        return sal_fail(SAL_ERR_FORMAT, "%s: a sentence is too large (%zu values)", path,
                        need);
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    free(*p);
    *p = malloc(ncap * elem);
    *cap = *p ? ncap : 0;
    if (!*p)
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory for %zu values", path, ncap);
    return SAL_OK;
}

/* Set f's current words to the ntok words of text[0..len) (NUL-separated). */
static sal_status set_words(source *f, int64_t ntok)
{
    if ((size_t)ntok > (size_t)f->wordcap) {
        size_t cap = (size_t)f->wordcap;
        sal_status st = reserve((void **)&f->words, &cap, (size_t)ntok, sizeof(*f->words),
                                f->path);
        f->wordcap = (int64_t)cap;
        if (st)
            return st;
    }
    char *w = f->text;
    for (int64_t t = 0; t < ntok; t++) {
        f->words[t] = w;
        w += strlen(w) + 1;
    }
    f->ntok = ntok;
    return SAL_OK;
}

/* Fix f's layout (first sentence) or check that a sentence has it. */
static sal_status fix_layout(source *f, int nlayers, const int *width, const char *where)
{
    if (f->nlayers == 0) {
        if (nlayers < 1 || nlayers > SAL_MAX_LAYERS)
            return sal_fail(SAL_ERR_FORMAT, "%s: %d layers (1 to %d supported)", where,
                            nlayers, SAL_MAX_LAYERS);
        f->width = malloc((size_t)nlayers * sizeof(*f->width));
        f->act = malloc((size_t)nlayers * sizeof(*f->act));
        if (!f->width || !f->act)
            return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", f->path);
        for (int l = 0; l < nlayers; l++) {
            if (width[l] < 1)
                return sal_fail(SAL_ERR_FORMAT, "%s: layer %d has no neurons", where,
                                f->layer0 + l);
            f->width[l] = width[l];
        }
        f->nlayers = nlayers;
        return SAL_OK;
    }
    if (nlayers != f->nlayers)
        return sal_fail(SAL_ERR_FORMAT, "%s: %d layers, the first sentence has %d", where,
                        nlayers, f->nlayers);
    for (int l = 0; l < nlayers; l++)
        if (width[l] != f->width[l])
            return sal_fail(SAL_ERR_FORMAT,
                            "%s: layer %d has %d neurons, the first sentence has %d", where,
                            f->layer0 + l, width[l], f->width[l]);
    return SAL_OK;
}

/* ---- NeuroX HDF5 ------------------------------------------------------------------ */

/* Parse a dataset name or index value: decimal digits only, no sign or leading zero. */
static int64_t parse_index(const char *s)
{
    if (!s[0] || (s[0] == '0' && s[1]) || strlen(s) > 18)
        return -1;
    int64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

/* Read and check sentence_to_index of an open HDF5 source. */
static sal_status h5_read_index(source *f)
{
    int varid, ndims, dimids[NC_MAX_VAR_DIMS];
    nc_type type;
    size_t len = 1;
    char *js = NULL;
    sal_status st = SAL_OK;
    int rc = nc_inq_varid(f->ncid, "sentence_to_index", &varid);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: no sentence_to_index dataset (not a NeuroX activations file?)",
                        f->path);
    rc = nc_inq_var(f->ncid, varid, NULL, &type, &ndims, dimids, NULL);
    if (rc == NC_NOERR && ndims == 1)
        rc = nc_inq_dimlen(f->ncid, dimids[0], &len);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: sentence_to_index: %s", f->path,
                        nc_strerror(rc));
    if (type != NC_STRING)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: sentence_to_index is not a variable-length string (NeuroX "
                        "writes one; fixed-length strings are not supported)",
                        f->path);
    if (ndims > 1 || len != 1)
        return sal_fail(SAL_ERR_FORMAT, "%s: sentence_to_index holds %zu strings, expected 1",
                        f->path, len);
    rc = nc_get_var_string(f->ncid, varid, &js);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: cannot read sentence_to_index: %s", f->path,
                        nc_strerror(rc));
    if (!js) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: sentence_to_index is empty", f->path);
        goto free_string;
    }

    json_tokener *tok = json_tokener_new();
    if (!tok) {
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", f->path);
        goto free_string;
    }
    size_t jlen = strlen(js);
    f->s2i = json_tokener_parse_ex(tok, js, (int)(jlen < INT_MAX ? jlen : INT_MAX));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (end < jlen && isspace((unsigned char)js[end]))
        end++;
    if (!f->s2i || jerr != json_tokener_success || end != jlen) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: sentence_to_index is not valid JSON: %s", f->path,
                      !f->s2i || jerr != json_tokener_success
                          ? json_tokener_error_desc(jerr == json_tokener_success
                                                        ? json_tokener_error_parse_eof
                                                        : jerr)
                          : "characters after the object");
        goto free_string;
    }
    if (!json_object_is_type(f->s2i, json_type_object)) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: sentence_to_index is not a JSON object", f->path);
        goto free_string;
    }

    /* the values must be a bijection onto "0".."n-1" */
    int64_t n = json_object_object_length(f->s2i);
    f->nsent = n;
    f->key = calloc(n > 0 ? (size_t)n : 1, sizeof(*f->key));
    if (!f->key) {
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", f->path);
        goto free_string;
    }
    json_object_object_foreach(f->s2i, text, val)
    {
        int64_t i = -1;
        if (json_object_is_type(val, json_type_string))
            i = parse_index(json_object_get_string(val));
        else if (json_object_is_type(val, json_type_int))
            i = json_object_get_int64(val);
        if (i < 0 || i >= n) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s: sentence_to_index maps '%s' to %s, expected a dataset name "
                          "\"0\" to \"%lld\"",
                          f->path, text, json_object_to_json_string(val), (long long)(n - 1));
            goto free_string;
        }
        if (f->key[i]) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s: sentence_to_index maps both '%s' and '%s' to dataset '%lld'",
                          f->path, f->key[i], text, (long long)i);
            goto free_string;
        }
        f->key[i] = text;
    }

    /* every sentence dataset must be listed */
    int nvars;
    rc = nc_inq_nvars(f->ncid, &nvars);
    for (int v = 0; rc == NC_NOERR && v < nvars; v++) {
        char name[NC_MAX_NAME + 1];
        rc = nc_inq_varname(f->ncid, v, name);
        int64_t i = rc == NC_NOERR ? parse_index(name) : -1;
        if (i >= n) {
            st = sal_fail(SAL_ERR_FORMAT,
                          "%s: dataset '%s' is not listed in sentence_to_index (%lld "
                          "sentences)",
                          f->path, name, (long long)n);
            goto free_string;
        }
    }
    if (rc != NC_NOERR)
        st = sal_fail(SAL_ERR_FORMAT, "%s: %s", f->path, nc_strerror(rc));
free_string:
    if (js)
        nc_free_string(1, &js);
    return st;
}

static sal_status h5_open(source *f)
{
    int rc = nc_open(f->path, NC_NOWRITE, &f->ncid);
    if (rc != NC_NOERR) {
        f->ncid = -1;
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: cannot open as HDF5 (corrupt, truncated or not HDF5): %s",
                        f->path, nc_strerror(rc));
    }
    return h5_read_index(f);
}

/* Split key (a sentence's text) into f->text, dropping NeuroX's " (Occurrence N)"
 * when the words then number ntok; return the word count. */
static int64_t h5_split_key(source *f, const char *key, int64_t ntok)
{
    size_t len = strlen(key);
    int64_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += key[i] == ' ';
    if (n != ntok && n >= 3 && len > 0 && key[len - 1] == ')') {
        /* " (Occurrence " digits ")" at the end */
        size_t d = len - 1;
        while (d > 0 && isdigit((unsigned char)key[d - 1]))
            d--;
        size_t olen = strlen(OCCURRENCE);
        if (d < len - 1 && d >= olen && memcmp(key + d - olen, OCCURRENCE, olen) == 0 &&
            n - 2 == ntok) {
            len = d - olen;
            n -= 2;
        }
    }
    memcpy(f->text, key, len);
    f->text[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (f->text[i] == ' ')
            f->text[i] = '\0';
    return n;
}

static const char *type_name(nc_type t)
{
    switch (t) {
    case NC_BYTE: return "int8";
    case NC_UBYTE: return "uint8";
    case NC_SHORT: return "int16";
    case NC_USHORT: return "uint16";
    case NC_INT: return "int32";
    case NC_UINT: return "uint32";
    case NC_INT64: return "int64";
    case NC_UINT64: return "uint64";
    case NC_CHAR: return "char";
    case NC_STRING: return "string";
    default: return "a compound or user type";
    }
}

/* Read sentence s (dataset "s") of an HDF5 source. */
static sal_status h5_read(source *f, int64_t s)
{
    char name[32];
    snprintf(name, sizeof(name), "%lld", (long long)s);
    int varid, ndims, dimids[NC_MAX_VAR_DIMS];
    nc_type type;
    size_t dim[3];
    int rc = nc_inq_varid(f->ncid, name, &varid);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: no dataset '%s' (sentence_to_index lists %lld)",
                        f->path, name, (long long)f->nsent);
    rc = nc_inq_var(f->ncid, varid, NULL, &type, &ndims, dimids, NULL);
    if (rc == NC_NOERR && ndims != 3)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: dataset '%s' has %d dimensions, expected (layers, tokens, dim)",
                        f->path, name, ndims);
    for (int k = 0; rc == NC_NOERR && k < 3; k++)
        rc = nc_inq_dimlen(f->ncid, dimids[k], &dim[k]);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: dataset '%s': %s", f->path, name,
                        nc_strerror(rc));
    if (type != NC_FLOAT && type != NC_DOUBLE)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: dataset '%s' holds %s, expected float32 or float16 values",
                        f->path, name, type_name(type));
    if (dim[0] > SAL_MAX_LAYERS || dim[2] > INT_MAX)
        return sal_fail(SAL_ERR_FORMAT, "%s: dataset '%s' has shape (%zu, %zu, %zu)", f->path,
                        name, dim[0], dim[1], dim[2]);
    char where[4200];
    snprintf(where, sizeof(where), "%s: dataset '%s'", f->path, name);
    int width[SAL_MAX_LAYERS];
    for (size_t l = 0; l < dim[0]; l++)
        width[l] = (int)dim[2];
    sal_status st = fix_layout(f, (int)dim[0], width, where);
    if (st)
        return st;

    /* the words */
    const char *key = f->key[s];
    size_t klen = strlen(key);
    st = reserve((void **)&f->text, &f->textcap, klen + 1, 1, f->path);
    if (st)
        return st;
    int64_t ntok = (int64_t)dim[1];
    int64_t nw = h5_split_key(f, key, ntok);
    if (ntok == 0)
        return sal_fail(SAL_ERR_FORMAT, "%s: the sentence has no tokens", where);
    if (nw != ntok)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: %lld tokens, but its sentence_to_index text '%s' has %lld words",
                        where, (long long)ntok, key, (long long)nw);
    st = set_words(f, ntok);
    if (st)
        return st;

    /* the values: (layers, tokens, dim) in C order is each layer's token-major block */
    size_t block = dim[1] * dim[2];
    if (dim[1] > 0 && dim[2] > SIZE_MAX / dim[1] / (dim[0] + 1))
        return sal_fail(SAL_ERR_FORMAT, "%s: too large", where);
    st = reserve((void **)&f->buf, &f->bufcap, dim[0] * block, sizeof(*f->buf), f->path);
    if (st)
        return st;
    size_t start[3] = {0, 0, 0};
    rc = nc_get_vara_float(f->ncid, varid, start, dim, f->buf);
    if (rc != NC_NOERR)
        return sal_fail(SAL_ERR_FORMAT, "%s: cannot read values: %s", where, nc_strerror(rc));
    for (int l = 0; l < f->nlayers; l++)
        f->act[l] = f->buf + (size_t)l * block;
    return SAL_OK;
}

/* ---- NeuroX JSON lines ------------------------------------------------------------ */

static sal_status json_open(source *f)
{
    f->fp = fopen(f->path, "r");
    if (!f->fp)
        return sal_fail(SAL_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
    f->tok = json_tokener_new();
    if (!f->tok)
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", f->path);
    return SAL_OK;
}

/* A member of a JSON object, or NULL. */
static json_object *member(json_object *o, const char *name)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* Find the layers of one token: fill width[] (by "index") and set *nl to their
 * count. */
static sal_status json_layer_widths(json_object *layers, int *width, int *nl, const char *where,
                                    int64_t t)
{
    if (!layers || !json_object_is_type(layers, json_type_array))
        return sal_fail(SAL_ERR_FORMAT, "%s: token %lld: no \"layers\" array", where,
                        (long long)t);
    size_t n = json_object_array_length(layers);
    if (n < 1 || n > SAL_MAX_LAYERS)
        return sal_fail(SAL_ERR_FORMAT, "%s: token %lld: %zu layers (1 to %d supported)",
                        where, (long long)t, n, SAL_MAX_LAYERS);
    for (size_t k = 0; k < n; k++)
        width[k] = 0;
    for (size_t k = 0; k < n; k++) {
        json_object *lay = json_object_array_get_idx(layers, k);
        json_object *idx = lay ? member(lay, "index") : NULL;
        json_object *vals = lay ? member(lay, "values") : NULL;
        int64_t l = idx && json_object_is_type(idx, json_type_int) ? json_object_get_int64(idx)
                                                                    : -1;
        if (l < 0 || (size_t)l >= n || width[l] != 0)
            return sal_fail(SAL_ERR_FORMAT,
                            "%s: token %lld: layer entry %zu has index %s, expected each of 0 "
                            "to %zu once",
                            where, (long long)t, k,
                            idx ? json_object_to_json_string(idx) : "(none)", n - 1);
        if (!vals || !json_object_is_type(vals, json_type_array) ||
            json_object_array_length(vals) < 1 || json_object_array_length(vals) > INT_MAX)
            return sal_fail(SAL_ERR_FORMAT,
                            "%s: token %lld, layer %lld: \"values\" is not a non-empty array",
                            where, (long long)t, (long long)l);
        width[l] = (int)json_object_array_length(vals);
    }
    *nl = (int)n;
    return SAL_OK;
}

/* Read the next sentence (number s) of a JSON-lines source; *has = 0 at the end. */
static sal_status json_read(source *f, int64_t s, int *has)
{
    ssize_t len;
    *has = 0;
    for (;;) {
        errno = 0;
        len = getline(&f->line, &f->linecap, f->fp);
        if (len < 0) {
            if (ferror(f->fp))
                return sal_fail(SAL_ERR_IO, "%s:%ld: read failed: %s", f->path, f->lineno + 1,
                                strerror(errno));
            return SAL_OK;
        }
        f->lineno++;
        ssize_t i = 0;
        while (i < len && isspace((unsigned char)f->line[i]))
            i++;
        if (i < len)
            break; /* blank lines are skipped */
    }
    char where[4200];
    snprintf(where, sizeof(where), "%s:%ld", f->path, f->lineno);

    json_tokener_reset(f->tok);
    json_object *o = json_tokener_parse_ex(f->tok, f->line, len < INT_MAX ? (int)len : INT_MAX);
    enum json_tokener_error jerr = json_tokener_get_error(f->tok);
    sal_status st = SAL_OK;
    if (!o || jerr != json_tokener_success) {
        if (jerr == json_tokener_continue || jerr == json_tokener_success)
            jerr = json_tokener_error_parse_eof;
        st = sal_fail(SAL_ERR_FORMAT, "%s: invalid JSON (byte %zu): %s", where,
                      json_tokener_get_parse_end(f->tok) + 1, json_tokener_error_desc(jerr));
        goto put;
    }
    for (size_t e = json_tokener_get_parse_end(f->tok); e < (size_t)len; e++)
        if (!isspace((unsigned char)f->line[e])) {
            st = sal_fail(SAL_ERR_FORMAT, "%s: characters after the JSON object (byte %zu)",
                          where, e + 1);
            goto put;
        }
    if (!json_object_is_type(o, json_type_object)) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: not a JSON object", where);
        goto put;
    }
    json_object *li = member(o, "linex_index");
    if (li && (!json_object_is_type(li, json_type_int) || json_object_get_int64(li) != s)) {
        st = sal_fail(SAL_ERR_FORMAT,
                      "%s: linex_index is %s, expected %lld (sentences must be in order)",
                      where, json_object_to_json_string(li), (long long)s);
        goto put;
    }
    json_object *feats = member(o, "features");
    if (!feats || !json_object_is_type(feats, json_type_array)) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: no \"features\" array", where);
        goto put;
    }
    int64_t ntok = (int64_t)json_object_array_length(feats);
    if (ntok == 0) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: sentence %lld has no tokens", where, (long long)s);
        goto put;
    }

    /* layout from the first token, checked against the file's */
    int width[SAL_MAX_LAYERS], nl = 0;
    json_object *f0 = json_object_array_get_idx(feats, 0);
    json_object *lay0 = f0 && json_object_is_type(f0, json_type_object) ? member(f0, "layers")
                                                                        : NULL;
    st = json_layer_widths(lay0, width, &nl, where, 0);
    if (st == SAL_OK)
        st = fix_layout(f, nl, width, where);
    if (st)
        goto put;
    size_t total = 0;
    for (int l = 0; l < nl; l++)
        total += (size_t)width[l];
    if ((size_t)ntok > SIZE_MAX / sizeof(float) / total / 2) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: sentence too large", where);
        goto put;
    }
    st = reserve((void **)&f->buf, &f->bufcap, (size_t)ntok * total, sizeof(*f->buf), f->path);
    if (st)
        goto put;
    size_t off = 0;
    for (int l = 0; l < nl; l++) {
        f->act[l] = f->buf + off;
        off += (size_t)ntok * (size_t)width[l];
    }

    /* the words (first pass, into f->text), then the values */
    size_t tlen = 0;
    for (int64_t t = 0; t < ntok; t++) {
        json_object *ft = json_object_array_get_idx(feats, (size_t)t);
        json_object *word = ft && json_object_is_type(ft, json_type_object) ? member(ft, "token")
                                                                            : NULL;
        if (!word || !json_object_is_type(word, json_type_string)) {
            st = sal_fail(SAL_ERR_FORMAT, "%s: token %lld: no \"token\" string", where,
                          (long long)t);
            goto put;
        }
        tlen += strlen(json_object_get_string(word)) + 1;
    }
    st = reserve((void **)&f->text, &f->textcap, tlen, 1, f->path);
    if (st)
        goto put;
    tlen = 0;
    for (int64_t t = 0; t < ntok; t++) {
        json_object *ft = json_object_array_get_idx(feats, (size_t)t);
        const char *w = json_object_get_string(member(ft, "token"));
        size_t wl = strlen(w);
        memcpy(f->text + tlen, w, wl + 1);
        tlen += wl + 1;

        json_object *layers = member(ft, "layers");
        int tw[SAL_MAX_LAYERS], n = 0;
        st = json_layer_widths(layers, tw, &n, where, t);
        if (st)
            goto put;
        if (n != nl) {
            st = sal_fail(SAL_ERR_FORMAT, "%s: token %lld ('%s') has %d layers, token 0 has %d",
                          where, (long long)t, w, n, nl);
            goto put;
        }
        for (size_t k = 0; k < (size_t)n; k++) {
            json_object *lay = json_object_array_get_idx(layers, k);
            int l = (int)json_object_get_int64(member(lay, "index"));
            json_object *vals = member(lay, "values");
            if (tw[l] != width[l]) {
                st = sal_fail(SAL_ERR_FORMAT,
                              "%s: token %lld ('%s'), layer %d: %d values, token 0 has %d",
                              where, (long long)t, w, f->layer0 + l, tw[l], width[l]);
                goto put;
            }
            float *dst = f->act[l] + (size_t)t * (size_t)width[l];
            for (int d = 0; d < width[l]; d++) {
                json_object *v = json_object_array_get_idx(vals, (size_t)d);
                if (!v || !(json_object_is_type(v, json_type_double) ||
                            json_object_is_type(v, json_type_int))) {
                    st = sal_fail(SAL_ERR_FORMAT,
                                  "%s: token %lld ('%s'), layer %d, neuron %d: not a number",
                                  where, (long long)t, w, f->layer0 + l, d);
                    goto put;
                }
                double x = json_object_get_double(v);
                if (isfinite(x) && fabs(x) > FLT_MAX) {
                    st = sal_fail(SAL_ERR_FORMAT,
                                  "%s: token %lld ('%s'), layer %d, neuron %d: %g is outside "
                                  "the float32 range",
                                  where, (long long)t, w, f->layer0 + l, d, x);
                    goto put;
                }
                dst[d] = (float)x; /* NaN and Inf are reported by check_sentence */
            }
        }
    }
    st = set_words(f, ntok);
    if (st == SAL_OK)
        *has = 1;
put:
    json_object_put(o);
    return st;
}

/* ---- sources ---------------------------------------------------------------------- */

static void source_close(source *f)
{
    if (f->ncid >= 0)
        nc_close(f->ncid);
    json_object_put(f->s2i);
    free(f->key);
    if (f->fp)
        fclose(f->fp);
    free(f->line);
    if (f->tok)
        json_tokener_free(f->tok);
    free(f->width);
    free(f->act);
    free(f->text);
    free(f->words);
    free(f->buf);
    free(f->path);
    memset(f, 0, sizeof(*f));
    f->ncid = -1;
}

/* Read sentence s of f into its current sentence; *has = 0 if f has no more. */
static sal_status source_read(source *f, int64_t s, int *has)
{
    if (f->is_json)
        return json_read(f, s, has);
    *has = s < f->nsent;
    return *has ? h5_read(f, s) : SAL_OK;
}

/* Where sentence s of f is, for messages. */
static void source_where(const source *f, int64_t s, char *buf, size_t n)
{
    if (f->is_json)
        snprintf(buf, n, "%s:%ld", f->path, f->lineno);
    else
        snprintf(buf, n, "%s: dataset '%lld'", f->path, (long long)s);
}

/* ---- inputs ----------------------------------------------------------------------- */

/* If path is PREFIX-layerK.EXT (NeuroX decompose_layers), set its parts and return 1. */
static int layer_name(const char *path, size_t *prefix_len, long *k, const char **ext)
{
    const char *p = NULL;
    for (const char *q = strstr(path, "-layer"); q; q = strstr(q + 1, "-layer"))
        p = q;
    if (!p)
        return 0;
    const char *d = p + strlen("-layer");
    char *end;
    if (!isdigit((unsigned char)*d))
        return 0;
    errno = 0;
    long v = strtol(d, &end, 10);
    if (errno || *end != '.' || !end[1] || strchr(end + 1, '/') || strchr(end + 1, '.'))
        return 0;
    *prefix_len = (size_t)(p - path);
    *k = v;
    *ext = end + 1;
    return 1;
}

static char *layer_path(const char *prefix, size_t prefix_len, long k, const char *ext)
{
    size_t n = prefix_len + strlen(ext) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s-layer%ld.%s", (int)prefix_len, prefix, k, ext);
    return s;
}

/* The input files in layer order: a lone PREFIX-layer0.EXT brings its siblings
 * PREFIX-layer1.EXT, ... (until one is missing); a full set of per-layer files is
 * sorted by layer number and must be layers 0..n-1. */
static sal_status list_inputs(const sal_import_params *p, char ***out, int *nout)
{
    size_t plen;
    long k;
    const char *ext;
    int n = p->ninputs;
    char **paths = NULL;
    sal_status st = SAL_OK;
    *out = NULL;
    *nout = 0;

    if (n == 1 && layer_name(p->inputs[0], &plen, &k, &ext) && k == 0) {
        int cap = 16;
        paths = calloc((size_t)cap, sizeof(*paths));
        if (!paths || !(paths[0] = strdup(p->inputs[0])))
            goto nomem;
        for (n = 1;; n++) {
            struct stat sb;
            char *sib = layer_path(p->inputs[0], plen, n, ext);
            if (!sib)
                goto nomem;
            if (stat(sib, &sb) != 0) {
                free(sib);
                break;
            }
            if (n == SAL_MAX_LAYERS) {
                free(sib);
                st = sal_fail(SAL_ERR_FORMAT, "%s: more than %d per-layer files", p->inputs[0],
                              SAL_MAX_LAYERS);
                goto fail;
            }
            if (n == cap) {
                char **q = realloc(paths, 2 * (size_t)cap * sizeof(*paths));
                if (!q) {
                    free(sib);
                    goto nomem;
                }
                paths = q;
                memset(paths + cap, 0, (size_t)cap * sizeof(*paths));
                cap *= 2;
            }
            paths[n] = sib;
        }
        *out = paths;
        *nout = n;
        return SAL_OK;
    }

    paths = calloc((size_t)n, sizeof(*paths));
    if (!paths)
        goto nomem;
    int all_layers = n > 1;
    size_t plen0 = 0;
    const char *ext0 = NULL;
    for (int i = 0; i < n && all_layers; i++) {
        all_layers = layer_name(p->inputs[i], &plen, &k, &ext);
        if (all_layers && i == 0) {
            plen0 = plen;
            ext0 = ext;
        }
        all_layers = all_layers && plen == plen0 && strcmp(ext, ext0) == 0 &&
                     memcmp(p->inputs[i], p->inputs[0], plen) == 0;
    }
    for (int i = 0; i < n; i++) {
        int slot = i;
        if (all_layers) {
            layer_name(p->inputs[i], &plen, &k, &ext);
            if (k >= n || paths[k]) {
                char *want = NULL;
                for (int j = 0; j < n && !want; j++) {
                    int found = 0;
                    for (int m = 0; m < n && !found; m++) {
                        long km;
                        layer_name(p->inputs[m], &plen, &km, &ext);
                        found = km == j;
                    }
                    if (!found)
                        want = layer_path(p->inputs[0], plen0, j, ext0);
                }
                st = sal_fail(SAL_ERR_ARG,
                              "per-layer inputs must be layers 0 to %d, each once: %s is "
                              "missing",
                              n - 1, want ? want : "one");
                free(want);
                goto fail;
            }
            slot = (int)k;
        }
        if (!(paths[slot] = strdup(p->inputs[i])))
            goto nomem;
    }
    *out = paths;
    *nout = n;
    return SAL_OK;
nomem:
    st = sal_fail(SAL_ERR_NOMEM, "out of memory listing inputs");
fail:
    for (int i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    return st;
}

/* Read a NeuroX sentences file (one sentence per line) into c; *nlines excludes
 * blank lines at the end. */
static sal_status read_tokens(const char *path, sal_corpus *c, int64_t *nlines)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return sal_fail(SAL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    sal_status st = SAL_OK;
    *nlines = 0;
    while (st == SAL_OK && getline(&line, &cap, fp) >= 0) {
        st = sal_corpus_add_line(c, line);
        if (st == SAL_OK && sal_corpus_sent_len(c, c->nsent - 1) > 0)
            *nlines = c->nsent;
    }
    if (st == SAL_OK && ferror(fp))
        st = sal_fail(SAL_ERR_IO, "%s: read failed", path);
    free(line);
    fclose(fp);
    return st;
}

/* Check sentence s's words against line s+1 of the sentences file. */
static sal_status check_tokens(const char *path, const sal_corpus *c, int64_t nlines,
                               int64_t s, const source *f)
{
    if (s >= nlines)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: %lld sentences, but the activations have more (sentence %lld "
                        "is in %s)",
                        path, (long long)nlines, (long long)s, f->path);
    int64_t n = sal_corpus_sent_len(c, s);
    if (n != f->ntok)
        return sal_fail(SAL_ERR_FORMAT,
                        "%s:%lld: %lld tokens, activations of sentence %lld have %lld", path,
                        (long long)(s + 1), (long long)n, (long long)s, (long long)f->ntok);
    for (int64_t t = 0; t < n; t++) {
        const char *a = sal_corpus_word(c, c->sent_start[s] + t);
        if (strcmp(a, f->words[t]) != 0)
            return sal_fail(SAL_ERR_FORMAT,
                            "%s:%lld: token %lld: file has '%s', activations have '%s'", path,
                            (long long)(s + 1), (long long)t, a, f->words[t]);
    }
    return SAL_OK;
}

/* Check that sentence s agrees across sources and holds finite values only. */
static sal_status check_sentence(source *src, int nsrc, int64_t s)
{
    char where[4200];
    for (int i = 0; i < nsrc; i++) {
        source *f = &src[i];
        source_where(f, s, where, sizeof(where));
        if (i > 0 && f->ntok != src[0].ntok)
            return sal_fail(SAL_ERR_FORMAT, "%s: %lld tokens, but %s has %lld", where,
                            (long long)f->ntok, src[0].path, (long long)src[0].ntok);
        for (int64_t t = 0; t < f->ntok; t++) {
            if (!f->words[t][0])
                return sal_fail(SAL_ERR_FORMAT, "%s: token %lld is an empty word", where,
                                (long long)t);
            for (const char *c = f->words[t]; *c; c++)
                if (isspace((unsigned char)*c))
                    return sal_fail(SAL_ERR_FORMAT, "%s: token %lld ('%s') contains a space",
                                    where, (long long)t, f->words[t]);
            if (i > 0 && strcmp(f->words[t], src[0].words[t]) != 0)
                return sal_fail(SAL_ERR_FORMAT, "%s: token %lld is '%s', but %s has '%s'",
                                where, (long long)t, f->words[t], src[0].path,
                                src[0].words[t]);
        }
        for (int l = 0; l < f->nlayers; l++) {
            const float *a = f->act[l];
            size_t w = (size_t)f->width[l];
            for (size_t j = 0; j < (size_t)f->ntok * w; j++)
                if (!isfinite(a[j]))
                    return sal_fail(SAL_ERR_FORMAT,
                                    "%s: sentence %lld, token %zu ('%s'), layer %d, neuron "
                                    "%zu: %s",
                                    where, (long long)s, j / w, f->words[j / w],
                                    f->layer0 + l, j % w,
                                    isnan(a[j]) ? "NaN" : a[j] > 0 ? "Inf" : "-Inf");
        }
    }
    return SAL_OK;
}

sal_status sal_import_run(const sal_import_params *p, sal_import_summary *summary)
{
    const char *msg = sal_import_check(p);
    if (msg)
        return sal_fail(SAL_ERR_ARG, "import: %s", msg);
    if (summary)
        memset(summary, 0, sizeof(*summary));

    char **paths = NULL;
    int npaths = 0;
    source *src = NULL;
    sal_corpus tokens = SAL_CORPUS_INIT;
    int64_t ntoklines = 0;
    sal_shard_writer *w = NULL;
    int *widths = NULL;
    const float **act = NULL;
    int nlayers = 0;
    int64_t s = 0, ntok = 0;
    const int is_json = p->format == SAL_IMPORT_NEUROX_JSON;
    struct stat sb;

    if (!p->overwrite && stat(p->out_dir, &sb) == 0)
        return sal_fail(SAL_ERR_EXISTS, "%s already exists (use --force to replace it)",
                        p->out_dir);
    sal_status st = list_inputs(p, &paths, &npaths);
    if (st)
        return st;
    src = calloc((size_t)npaths, sizeof(*src));
    if (!src) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < npaths; i++) {
        src[i].ncid = -1;
        src[i].is_json = is_json;
        src[i].path = paths[i];
        paths[i] = NULL;
    }
    for (int i = 0; st == SAL_OK && i < npaths; i++) {
        if (stat(src[i].path, &sb) != 0) {
            st = sal_fail(SAL_ERR_IO, "%s: cannot open: %s", src[i].path, strerror(errno));
            break;
        }
        st = is_json ? json_open(&src[i]) : h5_open(&src[i]);
        if (st == SAL_OK && !is_json && src[i].nsent != src[0].nsent)
            st = sal_fail(SAL_ERR_FORMAT, "%s: %lld sentences, but %s has %lld", src[i].path,
                          (long long)src[i].nsent, src[0].path, (long long)src[0].nsent);
    }
    if (st == SAL_OK && p->tokens_path)
        st = read_tokens(p->tokens_path, &tokens, &ntoklines);
    if (st)
        goto done;

    for (s = 0;; s++) {
        int more = 0;
        for (int i = 0; st == SAL_OK && i < npaths; i++) {
            int has = 0;
            if (i > 0)
                src[i].layer0 = src[i - 1].layer0 + src[i - 1].nlayers;
            st = source_read(&src[i], s, &has);
            if (st == SAL_OK && i == 0)
                more = has;
            else if (st == SAL_OK && has != more)
                st = sal_fail(SAL_ERR_FORMAT, "%s: %s sentence %lld, but %s %s", src[i].path,
                              has ? "has a" : "ends before", (long long)s, src[0].path,
                              has ? "ends before it" : "has it");
        }
        if (st || !more)
            break;
        st = check_sentence(src, npaths, s);
        if (st == SAL_OK && p->tokens_path)
            st = check_tokens(p->tokens_path, &tokens, ntoklines, s, &src[0]);
        if (st)
            break;
        if (s == 0) {
            for (int i = 0; i < npaths; i++)
                nlayers += src[i].nlayers;
            if (nlayers > SAL_MAX_LAYERS) {
                st = sal_fail(SAL_ERR_FORMAT, "%s: %d layers in all (at most %d)",
                              src[0].path, nlayers, SAL_MAX_LAYERS);
                break;
            }
            widths = malloc((size_t)nlayers * sizeof(*widths));
            act = malloc((size_t)nlayers * sizeof(*act));
            if (!widths || !act) {
                st = sal_fail(SAL_ERR_NOMEM, "out of memory");
                break;
            }
            for (int i = 0, l = 0; i < npaths; i++)
                for (int k = 0; k < src[i].nlayers; k++)
                    widths[l++] = src[i].width[k];
            sal_model_desc desc = {
                .name = p->model_name,
                .architecture = p->architecture ? p->architecture : "",
                .base_model = p->base_model ? p->base_model : "",
                .pooling = p->pooling ? p->pooling : "last",
                .producer = is_json ? "salient import (neurox-json)"
                                    : "salient import (neurox-hdf5)",
                .nlayers = nlayers,
                .layer_width = widths,
            };
            st = sal_shard_writer_open(p->out_dir, &desc, p->shard_sentences, p->overwrite, &w);
            if (st) {
                w = NULL;
                break;
            }
        }
        for (int i = 0, l = 0; i < npaths; i++)
            for (int k = 0; k < src[i].nlayers; k++)
                act[l++] = src[i].act[k];
        st = sal_shard_writer_add(w, src[0].ntok, (const char *const *)src[0].words, act);
        if (st) {
            char where[4200];
            source_where(&src[0], s, where, sizeof(where));
            sal_fail_context(st, "%s", where);
            break;
        }
        ntok += src[0].ntok;
    }
    if (st)
        goto done;
    if (s == 0) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: no sentences", src[0].path);
        goto done;
    }
    if (p->tokens_path && ntoklines != s) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: %lld sentences, but the activations have %lld",
                      p->tokens_path, (long long)ntoklines, (long long)s);
        goto done;
    }
    st = sal_shard_writer_finish(w);
    w = NULL;
    if (st == SAL_OK && summary) {
        summary->nsent = s;
        summary->ntok = ntok;
        summary->nlayers = nlayers;
        for (int l = 0; l < nlayers; l++)
            summary->total_width += widths[l];
        summary->nshards = (s + p->shard_sentences - 1) / p->shard_sentences;
    }
done:
    sal_shard_writer_abort(w);
    for (int i = 0; src && i < npaths; i++)
        source_close(&src[i]);
    free(src);
    for (int i = 0; paths && i < npaths; i++)
        free(paths[i]);
    free(paths);
    sal_corpus_free(&tokens);
    free(widths);
    free(act);
    return st;
}
