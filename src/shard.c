/*
 * shard.c - activation shards: writer and reader (format described in shard.h).
 *
 * The writer streams sentences into the current shard file through unlimited
 * token and sentence dimensions, so memory holds one sentence, not one shard; the
 * index model.nc is written last and the folder is renamed into place only then.
 * The reader keeps a few shard files open (least recently used first out) and reads
 * hyperslabs of the per-layer variables, transposing rows into column-major blocks.
 */
#include "salient/shard.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netcdf.h>
#include <netcdf_par.h>

#include "salient/grid.h"
#include "salient/version.h"

#define INDEX_NAME "model.nc"
#define OPEN_SHARDS 8          /* shard files a reader keeps open */
#define READ_ROWS_MAX 4096     /* rows per hyperslab read */
#define CHUNK_FLOATS (1 << 18) /* about 1 MiB of float32 per chunk */

/* ---- shared helpers ------------------------------------------------------- */

/* Record a netCDF failure: system errors are I/O, library errors mean a bad file. */
static sal_status nc_fail(int rc, const char *path, const char *what)
{
    sal_status code = (rc > 0 || rc == NC_EPERM) ? SAL_ERR_IO : SAL_ERR_FORMAT;
    return sal_fail(code, "%s: %s: %s", path, what, nc_strerror(rc));
}

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

const char *sal_model_desc_check(const sal_model_desc *d)
{
    if (!d->name || !d->name[0])
        return "model name is empty";
    if (d->nlayers < 1 || d->nlayers > SAL_MAX_LAYERS)
        return "number of layers must be between 1 and 1024";
    if (!d->layer_width)
        return "layer widths are missing";
    for (int l = 0; l < d->nlayers; l++)
        if (d->layer_width[l] < 1)
            return "every layer width must be at least 1";
    return NULL;
}

/* Owned copy of a description (strings and widths). */
typedef struct desc_copy {
    sal_model_desc d;
    char *name, *architecture, *base_model, *pooling, *producer;
    int *width;
} desc_copy;

static sal_status desc_copy_init(desc_copy *c, const sal_model_desc *d)
{
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(d->name);
    c->architecture = xstrdup(d->architecture);
    c->base_model = xstrdup(d->base_model);
    c->pooling = xstrdup(d->pooling);
    c->producer = xstrdup(d->producer);
    c->width = malloc((size_t)d->nlayers * sizeof(*c->width));
    if (!c->name || !c->architecture || !c->base_model || !c->pooling || !c->producer ||
        !c->width)
        return sal_fail(SAL_ERR_NOMEM, "out of memory copying a model description");
    memcpy(c->width, d->layer_width, (size_t)d->nlayers * sizeof(*c->width));
    c->d = (sal_model_desc){.name = c->name,
                            .architecture = c->architecture,
                            .base_model = c->base_model,
                            .pooling = c->pooling,
                            .producer = c->producer,
                            .nlayers = d->nlayers,
                            .layer_width = c->width};
    return SAL_OK;
}

static void desc_copy_free(desc_copy *c)
{
    free(c->name);
    free(c->architecture);
    free(c->base_model);
    free(c->pooling);
    free(c->producer);
    free(c->width);
    memset(c, 0, sizeof(*c));
}

/* Write the global attributes shared by the index and every shard. */
static int put_model_attrs(int ncid, const sal_model_desc *d)
{
    int rc, version = SAL_SHARD_FORMAT_VERSION;
    const char *conv = SAL_SHARD_FORMAT_NAME;
    if ((rc = nc_put_att_text(ncid, NC_GLOBAL, "format", strlen(conv), conv)))
        return rc;
    if ((rc = nc_put_att_int(ncid, NC_GLOBAL, "format_version", NC_INT, 1, &version)))
        return rc;
    const char *names[] = {"model", "architecture", "base_model", "pooling", "producer"};
    const char *vals[] = {d->name, d->architecture, d->base_model, d->pooling, d->producer};
    for (int i = 0; i < 5; i++)
        if ((rc = nc_put_att_text(ncid, NC_GLOBAL, names[i], strlen(vals[i]), vals[i])))
            return rc;
    if ((rc = nc_put_att_int(ncid, NC_GLOBAL, "num_layers", NC_INT, 1, &d->nlayers)))
        return rc;
    if ((rc = nc_put_att_int(ncid, NC_GLOBAL, "layer_widths", NC_INT, (size_t)d->nlayers,
                             d->layer_width)))
        return rc;
    const char *tool = "salient " SALIENT_VERSION_STRING;
    return nc_put_att_text(ncid, NC_GLOBAL, "written_by", strlen(tool), tool);
}

/* Make every missing folder of path (like mkdir -p). */
static sal_status mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return sal_fail(SAL_ERR_ARG, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sal_fail(SAL_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return sal_fail(SAL_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
    return SAL_OK;
}

/* Remove a flat folder and the files in it. Returns 0 on success. */
static int remove_flat_dir(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    char f[PATH_MAX];
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
        unlink(f);
    }
    closedir(dir);
    return rmdir(path);
}

/* ---- writer ----------------------------------------------------------------- */

struct sal_shard_writer {
    desc_copy desc;
    char final_dir[PATH_MAX];
    char tmp_dir[PATH_MAX];
    int64_t shard_sentences;
    int overwrite;
    /* finished shards */
    int64_t nshards, shard_cap;
    int64_t *shard_first_sent, *shard_nsent, *shard_first_tok, *shard_ntok;
    /* every sentence's length (for the index) */
    int64_t nsent, sent_cap;
    int32_t *sent_len;
    int64_t ntok;
    /* the shard being written */
    int ncid;            /* -1 when no shard is open */
    int64_t cur_sent, cur_tok; /* sentences and tokens in the open shard */
    int var_len, var_word;
    int *var_layer;      /* nlayers */
};

static sal_status grow64(int64_t **p, int64_t cap)
{
    int64_t *q = realloc(*p, (size_t)cap * sizeof(*q));
    if (!q)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    *p = q;
    return SAL_OK;
}

sal_status sal_shard_writer_open(const char *model_dir, const sal_model_desc *desc,
                                 int64_t shard_sentences, int overwrite,
                                 sal_shard_writer **out)
{
    sal_status st = SAL_OK;
    struct stat sb;
    *out = NULL;
    const char *msg = sal_model_desc_check(desc);
    if (msg)
        return sal_fail(SAL_ERR_ARG, "%s: %s", model_dir, msg);
    if (shard_sentences < 1)
        return sal_fail(SAL_ERR_ARG, "sentences per shard must be at least 1");
    if (!overwrite && stat(model_dir, &sb) == 0)
        return sal_fail(SAL_ERR_EXISTS, "%s already exists (use --force to replace it)",
                        model_dir);
    sal_shard_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    w->ncid = -1;
    if ((st = desc_copy_init(&w->desc, desc)))
        goto fail;
    w->var_layer = calloc((size_t)desc->nlayers, sizeof(*w->var_layer));
    if (!w->var_layer) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t len = strlen(model_dir);
    while (len > 1 && model_dir[len - 1] == '/')
        len--;
    if (len + 32 >= sizeof(w->final_dir)) {
        st = sal_fail(SAL_ERR_ARG, "path too long: %s", model_dir);
        goto fail;
    }
    memcpy(w->final_dir, model_dir, len);
    w->final_dir[len] = '\0';
    snprintf(w->tmp_dir, sizeof(w->tmp_dir), "%s.partial-%ld", w->final_dir, (long)getpid());
    w->shard_sentences = shard_sentences;
    w->overwrite = overwrite;
    remove_flat_dir(w->tmp_dir);
    if ((st = mkdirs(w->tmp_dir)))
        goto fail;
    *out = w;
    return SAL_OK;
fail:
    desc_copy_free(&w->desc);
    free(w->var_layer);
    free(w);
    return st;
}

/* Create shard file number w->nshards and define its variables. */
static sal_status shard_begin(sal_shard_writer *w)
{
    char path[PATH_MAX + 32];
    int rc, dim_tok, dim_sent, ncid;
    snprintf(path, sizeof(path), "%s/shard-%05lld.nc", w->tmp_dir, (long long)w->nshards);
    if ((rc = nc_create(path, NC_NETCDF4 | NC_CLOBBER, &ncid)))
        return nc_fail(rc, path, "cannot create shard");
    w->ncid = ncid;
    w->cur_sent = w->cur_tok = 0;
    const sal_model_desc *d = &w->desc.d;
    long long idx = w->nshards, first_sent = w->nsent, first_tok = w->ntok;
    if ((rc = put_model_attrs(ncid, d)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "shard_index", NC_INT64, 1, &idx)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "first_sentence", NC_INT64, 1,
                                  &first_sent)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "first_token", NC_INT64, 1, &first_tok)) ||
        (rc = nc_def_dim(ncid, "sentence", NC_UNLIMITED, &dim_sent)) ||
        (rc = nc_def_dim(ncid, "token", NC_UNLIMITED, &dim_tok)) ||
        (rc = nc_def_var(ncid, "sentence_length", NC_INT, 1, &dim_sent, &w->var_len)) ||
        (rc = nc_def_var(ncid, "word", NC_STRING, 1, &dim_tok, &w->var_word)))
        return nc_fail(rc, path, "cannot define shard");
    const char *ln = "number of tokens of each sentence, in corpus order";
    nc_put_att_text(ncid, w->var_len, "long_name", strlen(ln), ln);
    ln = "corpus word of each token";
    nc_put_att_text(ncid, w->var_word, "long_name", strlen(ln), ln);
    for (int l = 0; l < d->nlayers; l++) {
        char name[64], lname[96];
        int dims[2], dim_neu;
        snprintf(name, sizeof(name), "neuron_%d", l);
        if ((rc = nc_def_dim(ncid, name, (size_t)d->layer_width[l], &dim_neu)))
            return nc_fail(rc, path, "cannot define shard");
        dims[0] = dim_tok;
        dims[1] = dim_neu;
        snprintf(name, sizeof(name), "layer_%d", l);
        if ((rc = nc_def_var(ncid, name, NC_FLOAT, 2, dims, &w->var_layer[l])))
            return nc_fail(rc, path, "cannot define shard");
        size_t rows = CHUNK_FLOATS / (size_t)d->layer_width[l];
        if (rows < 1)
            rows = 1;
        if (rows > 1024)
            rows = 1024;
        size_t chunk[2] = {rows, (size_t)d->layer_width[l]};
        if ((rc = nc_def_var_chunking(ncid, w->var_layer[l], NC_CHUNKED, chunk)))
            return nc_fail(rc, path, "cannot set chunking");
        snprintf(lname, sizeof(lname), "activations of layer %d (token x neuron)", l);
        nc_put_att_text(ncid, w->var_layer[l], "long_name", strlen(lname), lname);
        nc_put_att_int(ncid, w->var_layer[l], "layer", NC_INT, 1, &l);
    }
    if ((rc = nc_enddef(ncid)))
        return nc_fail(rc, path, "cannot define shard");
    return SAL_OK;
}

/* Close the open shard and record it. */
static sal_status shard_end(sal_shard_writer *w)
{
    int rc = nc_close(w->ncid);
    w->ncid = -1;
    if (rc)
        return nc_fail(rc, w->tmp_dir, "cannot close shard");
    if (w->nshards == w->shard_cap) {
        int64_t cap = w->shard_cap ? 2 * w->shard_cap : 16;
        sal_status st;
        if ((st = grow64(&w->shard_first_sent, cap)) || (st = grow64(&w->shard_nsent, cap)) ||
            (st = grow64(&w->shard_first_tok, cap)) || (st = grow64(&w->shard_ntok, cap)))
            return st;
        w->shard_cap = cap;
    }
    w->shard_first_sent[w->nshards] = w->nsent - w->cur_sent;
    w->shard_nsent[w->nshards] = w->cur_sent;
    w->shard_first_tok[w->nshards] = w->ntok - w->cur_tok;
    w->shard_ntok[w->nshards] = w->cur_tok;
    w->nshards++;
    return SAL_OK;
}

sal_status sal_shard_writer_add(sal_shard_writer *w, int64_t ntok, const char *const *words,
                                const float *const *act)
{
    sal_status st;
    int rc;
    const sal_model_desc *d = &w->desc.d;
    if (ntok < 1 || ntok > INT_MAX)
        return sal_fail(SAL_ERR_FORMAT, "sentence %lld has %lld tokens", (long long)w->nsent,
                        (long long)ntok);
    for (int64_t t = 0; t < ntok; t++)
        if (!words[t] || !words[t][0])
            return sal_fail(SAL_ERR_FORMAT, "sentence %lld token %lld: empty word",
                            (long long)w->nsent, (long long)t);
    for (int l = 0; l < d->nlayers; l++) {
        int64_t n = ntok * d->layer_width[l];
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(act[l][i]))
                return sal_fail(SAL_ERR_FORMAT,
                                "sentence %lld token %lld ('%s') layer %d neuron %lld: %s "
                                "activation",
                                (long long)w->nsent, (long long)(i / d->layer_width[l]),
                                words[i / d->layer_width[l]], l,
                                (long long)(i % d->layer_width[l]),
                                isnan(act[l][i]) ? "NaN" : "infinite");
    }
    if (w->ncid < 0 && (st = shard_begin(w)))
        return st;
    if (w->nsent == w->sent_cap) {
        int64_t cap = w->sent_cap ? 2 * w->sent_cap : 1024;
        int32_t *q = realloc(w->sent_len, (size_t)cap * sizeof(*q));
        if (!q)
            return sal_fail(SAL_ERR_NOMEM, "out of memory");
        w->sent_len = q;
        w->sent_cap = cap;
    }
    size_t start[2] = {(size_t)w->cur_tok, 0}, count[2] = {(size_t)ntok, 0};
    size_t sstart = (size_t)w->cur_sent, one = 1;
    int len = (int)ntok;
    if ((rc = nc_put_vara_int(w->ncid, w->var_len, &sstart, &one, &len)) ||
        (rc = nc_put_vara_string(w->ncid, w->var_word, start, count, (const char **)words)))
        return nc_fail(rc, w->tmp_dir, "cannot write sentence");
    for (int l = 0; l < d->nlayers; l++) {
        count[1] = (size_t)d->layer_width[l];
        if ((rc = nc_put_vara_float(w->ncid, w->var_layer[l], start, count, act[l])))
            return nc_fail(rc, w->tmp_dir, "cannot write activations");
    }
    w->sent_len[w->nsent++] = len;
    w->ntok += ntok;
    w->cur_sent++;
    w->cur_tok += ntok;
    if (w->cur_sent == w->shard_sentences)
        return shard_end(w);
    return SAL_OK;
}

int64_t sal_shard_writer_sentences(const sal_shard_writer *w)
{
    return w->nsent;
}

/* Write model.nc, the index, into the temporary folder. */
static sal_status write_index(sal_shard_writer *w)
{
    char path[PATH_MAX + 32];
    int rc, ncid, dim_layer, dim_shard, dim_sent;
    int v_width, v_file, v_fs, v_ns, v_ft, v_nt, v_len;
    const sal_model_desc *d = &w->desc.d;
    long long nsent = w->nsent, ntok = w->ntok;
    snprintf(path, sizeof(path), "%s/%s", w->tmp_dir, INDEX_NAME);
    if ((rc = nc_create(path, NC_NETCDF4 | NC_CLOBBER, &ncid)))
        return nc_fail(rc, path, "cannot create index");
    const char *title = "salient activation shards: index";
    if ((rc = put_model_attrs(ncid, d)) ||
        (rc = nc_put_att_text(ncid, NC_GLOBAL, "title", strlen(title), title)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "num_sentences", NC_INT64, 1, &nsent)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "num_tokens", NC_INT64, 1, &ntok)) ||
        (rc = nc_def_dim(ncid, "layer", (size_t)d->nlayers, &dim_layer)) ||
        (rc = nc_def_dim(ncid, "shard", (size_t)w->nshards, &dim_shard)) ||
        (rc = nc_def_dim(ncid, "sentence", (size_t)w->nsent, &dim_sent)) ||
        (rc = nc_def_var(ncid, "layer_width", NC_INT, 1, &dim_layer, &v_width)) ||
        (rc = nc_def_var(ncid, "shard_file", NC_STRING, 1, &dim_shard, &v_file)) ||
        (rc = nc_def_var(ncid, "shard_first_sentence", NC_INT64, 1, &dim_shard, &v_fs)) ||
        (rc = nc_def_var(ncid, "shard_sentences", NC_INT64, 1, &dim_shard, &v_ns)) ||
        (rc = nc_def_var(ncid, "shard_first_token", NC_INT64, 1, &dim_shard, &v_ft)) ||
        (rc = nc_def_var(ncid, "shard_tokens", NC_INT64, 1, &dim_shard, &v_nt)) ||
        (rc = nc_def_var(ncid, "sentence_length", NC_INT, 1, &dim_sent, &v_len)) ||
        (rc = nc_enddef(ncid)))
        goto fail;
    if ((rc = nc_put_var_int(ncid, v_width, d->layer_width)))
        goto fail;
    for (int64_t s = 0; s < w->nshards; s++) {
        char name[32];
        const char *p = name;
        size_t i = (size_t)s;
        snprintf(name, sizeof(name), "shard-%05lld.nc", (long long)s);
        if ((rc = nc_put_var1_string(ncid, v_file, &i, &p)))
            goto fail;
    }
    if ((rc = nc_put_var_longlong(ncid, v_fs, (long long *)w->shard_first_sent)) ||
        (rc = nc_put_var_longlong(ncid, v_ns, (long long *)w->shard_nsent)) ||
        (rc = nc_put_var_longlong(ncid, v_ft, (long long *)w->shard_first_tok)) ||
        (rc = nc_put_var_longlong(ncid, v_nt, (long long *)w->shard_ntok)) ||
        (rc = nc_put_var_int(ncid, v_len, w->sent_len)))
        goto fail;
    if ((rc = nc_close(ncid)))
        return nc_fail(rc, path, "cannot write index");
    return SAL_OK;
fail:
    nc_close(ncid);
    return nc_fail(rc, path, "cannot write index");
}

static void writer_free(sal_shard_writer *w)
{
    if (w->ncid >= 0)
        nc_close(w->ncid);
    desc_copy_free(&w->desc);
    free(w->var_layer);
    free(w->shard_first_sent);
    free(w->shard_nsent);
    free(w->shard_first_tok);
    free(w->shard_ntok);
    free(w->sent_len);
    free(w);
}

sal_status sal_shard_writer_finish(sal_shard_writer *w)
{
    sal_status st = SAL_OK;
    char old[PATH_MAX + 32];
    old[0] = '\0';
    if (w->nsent == 0) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: no sentences to write", w->final_dir);
        goto fail;
    }
    if (w->ncid >= 0 && (st = shard_end(w)))
        goto fail;
    if ((st = write_index(w)))
        goto fail;
    struct stat sb;
    if (stat(w->final_dir, &sb) == 0) {
        if (!w->overwrite) {
            st = sal_fail(SAL_ERR_EXISTS, "%s appeared while importing; not replaced",
                          w->final_dir);
            goto fail;
        }
        snprintf(old, sizeof(old), "%s.old-%ld", w->final_dir, (long)getpid());
        if (rename(w->final_dir, old) != 0) {
            st = sal_fail(SAL_ERR_IO, "%s: cannot move aside: %s", w->final_dir,
                          strerror(errno));
            goto fail;
        }
    }
    if (rename(w->tmp_dir, w->final_dir) != 0) {
        st = sal_fail(SAL_ERR_IO, "%s: cannot rename to %s: %s", w->tmp_dir, w->final_dir,
                      strerror(errno));
        if (old[0])
            rename(old, w->final_dir);
        goto fail;
    }
    if (old[0])
        remove_flat_dir(old);
    writer_free(w);
    return SAL_OK;
fail:
    sal_shard_writer_abort(w);
    return st;
}

void sal_shard_writer_abort(sal_shard_writer *w)
{
    if (!w)
        return;
    if (w->ncid >= 0) {
        nc_close(w->ncid);
        w->ncid = -1;
    }
    remove_flat_dir(w->tmp_dir);
    writer_free(w);
}

/* ---- reader ----------------------------------------------------------------- */

typedef struct open_shard {
    int64_t shard; /* shard index, -1 if the slot is free */
    int ncid;
    int *var;      /* per layer */
    uint64_t used; /* last use, for eviction */
} open_shard;

struct sal_model {
    char dir[PATH_MAX];
    desc_copy desc;
    int64_t nsent, ntok, nshards;
    int64_t *offset;       /* nlayers + 1 column offsets of the full model */
    char **shard_file;     /* nshards */
    int64_t *shard_first_sent, *shard_nsent, *shard_first_tok, *shard_ntok;
    int64_t *sent_start;   /* nsent + 1 */
    open_shard slot[OPEN_SHARDS];
    uint64_t clock;
    float *buf;            /* read buffer */
    size_t buf_len;
    MPI_Comm comm;         /* MPI_COMM_NULL, or the group of sal_model_open_par */
    open_shard *par_slot;  /* parallel mode: every shard, open for the model's life */
};

/* Read a text attribute into a new string ("" if absent). */
static int get_text_att(int ncid, const char *name, char **out)
{
    size_t len = 0;
    int rc = nc_inq_attlen(ncid, NC_GLOBAL, name, &len);
    if (rc == NC_ENOTATT) {
        *out = strdup("");
        return *out ? NC_NOERR : NC_ENOMEM;
    }
    if (rc)
        return rc;
    *out = calloc(len + 1, 1);
    if (!*out)
        return NC_ENOMEM;
    return nc_get_att_text(ncid, NC_GLOBAL, name, *out);
}

/* Length of a dimension by name. */
static int dim_len(int ncid, const char *name, size_t *len)
{
    int dim, rc = nc_inq_dimid(ncid, name, &dim);
    return rc ? rc : nc_inq_dimlen(ncid, dim, len);
}

/* Read an int64 index variable of n entries into a new array. */
static int get_i64_var(int ncid, const char *name, int64_t n, int64_t **out)
{
    int var, rc = nc_inq_varid(ncid, name, &var);
    if (rc)
        return rc;
    *out = malloc((size_t)(n > 0 ? n : 1) * sizeof(**out));
    if (!*out)
        return NC_ENOMEM;
    return nc_get_var_longlong(ncid, var, (long long *)*out);
}

sal_status sal_model_open(const char *model_dir, sal_model **out)
{
    sal_status st = SAL_OK;
    int rc, ncid = -1, var;
    char path[PATH_MAX + 32];
    char *fmt = NULL;
    int *len = NULL;
    *out = NULL;
    sal_model *m = calloc(1, sizeof(*m));
    if (!m)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < OPEN_SHARDS; i++)
        m->slot[i].shard = -1;
    m->comm = MPI_COMM_NULL;
    snprintf(m->dir, sizeof(m->dir), "%s", model_dir);
    snprintf(path, sizeof(path), "%s/%s", model_dir, INDEX_NAME);
    struct stat sb;
    if (stat(model_dir, &sb) != 0) {
        st = sal_fail(SAL_ERR_IO, "%s: %s", model_dir, strerror(errno));
        goto fail;
    }
    if (stat(path, &sb) != 0) {
        st = sal_fail(SAL_ERR_FORMAT,
                      "%s: no %s: not a salient model folder, or an import that did not finish",
                      model_dir, INDEX_NAME);
        goto fail;
    }
    if ((rc = nc_open(path, NC_NOWRITE, &ncid))) {
        st = nc_fail(rc, path, "cannot open index");
        goto fail;
    }
    int version = 0, nlayers = 0;
    if ((rc = get_text_att(ncid, "format", &fmt)))
        goto ncfail;
    if (strcmp(fmt, SAL_SHARD_FORMAT_NAME) != 0) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: attribute format is '%s', not '%s'", path, fmt,
                      SAL_SHARD_FORMAT_NAME);
        goto fail;
    }
    if ((rc = nc_get_att_int(ncid, NC_GLOBAL, "format_version", &version)))
        goto ncfail;
    if (version < 1 || version > SAL_SHARD_FORMAT_VERSION) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: format version %d; this salient reads up to %d",
                      path, version, SAL_SHARD_FORMAT_VERSION);
        goto fail;
    }
    size_t nl, ns, nsh;
    if ((rc = dim_len(ncid, "layer", &nl)) || (rc = dim_len(ncid, "sentence", &ns)) ||
        (rc = dim_len(ncid, "shard", &nsh)))
        goto ncfail;
    nlayers = (int)nl;
    if (nl < 1 || nl > SAL_MAX_LAYERS || nsh < 1) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: %zu layers in %zu shards", path, nl, nsh);
        goto fail;
    }
    m->nsent = (int64_t)ns;
    m->nshards = (int64_t)nsh;
    m->desc.width = malloc(nl * sizeof(*m->desc.width));
    m->offset = malloc((nl + 1) * sizeof(*m->offset));
    m->shard_file = calloc(nsh, sizeof(*m->shard_file));
    m->sent_start = malloc((ns + 1) * sizeof(*m->sent_start));
    len = malloc((ns > 0 ? ns : 1) * sizeof(*len));
    if (!m->desc.width || !m->offset || !m->shard_file || !m->sent_start || !len) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory opening %s", path);
        goto fail;
    }
    if ((rc = nc_inq_varid(ncid, "layer_width", &var)) ||
        (rc = nc_get_var_int(ncid, var, m->desc.width)) ||
        (rc = get_text_att(ncid, "model", &m->desc.name)) ||
        (rc = get_text_att(ncid, "architecture", &m->desc.architecture)) ||
        (rc = get_text_att(ncid, "base_model", &m->desc.base_model)) ||
        (rc = get_text_att(ncid, "pooling", &m->desc.pooling)) ||
        (rc = get_text_att(ncid, "producer", &m->desc.producer)) ||
        (rc = get_i64_var(ncid, "shard_first_sentence", m->nshards, &m->shard_first_sent)) ||
        (rc = get_i64_var(ncid, "shard_sentences", m->nshards, &m->shard_nsent)) ||
        (rc = get_i64_var(ncid, "shard_first_token", m->nshards, &m->shard_first_tok)) ||
        (rc = get_i64_var(ncid, "shard_tokens", m->nshards, &m->shard_ntok)) ||
        (rc = nc_inq_varid(ncid, "shard_file", &var)) ||
        (rc = nc_get_var_string(ncid, var, m->shard_file)) ||
        (rc = nc_inq_varid(ncid, "sentence_length", &var)) ||
        (rc = nc_get_var_int(ncid, var, len)))
        goto ncfail;
    m->desc.d = (sal_model_desc){.name = m->desc.name,
                                 .architecture = m->desc.architecture,
                                 .base_model = m->desc.base_model,
                                 .pooling = m->desc.pooling,
                                 .producer = m->desc.producer,
                                 .nlayers = nlayers,
                                 .layer_width = m->desc.width};
    const char *msg = sal_model_desc_check(&m->desc.d);
    if (msg) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: %s", path, msg);
        goto fail;
    }
    m->offset[0] = 0;
    for (int l = 0; l < nlayers; l++)
        m->offset[l + 1] = m->offset[l] + m->desc.width[l];
    m->sent_start[0] = 0;
    for (int64_t s = 0; s < m->nsent; s++) {
        if (len[s] < 1) {
            st = sal_fail(SAL_ERR_FORMAT, "%s: sentence %lld has %d tokens", path,
                          (long long)s, len[s]);
            goto fail;
        }
        m->sent_start[s + 1] = m->sent_start[s] + len[s];
    }
    m->ntok = m->sent_start[m->nsent];
    /* the shard table must tile the sentences and tokens exactly */
    int64_t fs = 0, ft = 0;
    for (int64_t i = 0; i < m->nshards; i++) {
        int64_t ls = m->shard_first_sent[i], n = m->shard_nsent[i];
        if (ls != fs || n < 1 || ls + n > m->nsent || m->shard_first_tok[i] != ft ||
            m->shard_ntok[i] != m->sent_start[ls + n] - m->sent_start[ls]) {
            st = sal_fail(SAL_ERR_FORMAT, "%s: shard table is inconsistent at shard %lld",
                          path, (long long)i);
            goto fail;
        }
        fs += n;
        ft += m->shard_ntok[i];
    }
    if (fs != m->nsent) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: shards cover %lld of %lld sentences", path,
                      (long long)fs, (long long)m->nsent);
        goto fail;
    }
    nc_close(ncid);
    free(fmt);
    free(len);
    *out = m;
    return SAL_OK;
ncfail:
    st = nc_fail(rc, path, "bad index");
fail:
    if (ncid >= 0)
        nc_close(ncid);
    free(fmt);
    free(len);
    sal_model_close(m);
    return st;
}

void sal_model_close(sal_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < OPEN_SHARDS; i++) {
        if (m->slot[i].shard >= 0)
            nc_close(m->slot[i].ncid);
        free(m->slot[i].var);
    }
    if (m->par_slot) { /* collective: the files were opened together */
        for (int64_t i = 0; i < m->nshards; i++) {
            if (m->par_slot[i].shard >= 0)
                nc_close(m->par_slot[i].ncid);
            free(m->par_slot[i].var);
        }
        free(m->par_slot);
    }
    if (m->shard_file) {
        for (int64_t i = 0; i < m->nshards; i++)
            if (m->shard_file[i])
                nc_free_string(1, &m->shard_file[i]);
    }
    free(m->shard_file);
    free(m->shard_first_sent);
    free(m->shard_nsent);
    free(m->shard_first_tok);
    free(m->shard_ntok);
    free(m->sent_start);
    free(m->offset);
    free(m->buf);
    desc_copy_free(&m->desc);
    free(m);
}

const sal_model_desc *sal_model_get_desc(const sal_model *m) { return &m->desc.d; }
int64_t sal_model_nsent(const sal_model *m) { return m->nsent; }
int64_t sal_model_ntok(const sal_model *m) { return m->ntok; }
int64_t sal_model_nshards(const sal_model *m) { return m->nshards; }
const char *sal_model_dir(const sal_model *m) { return m->dir; }

int64_t sal_model_sent_start(const sal_model *m, int64_t s)
{
    return m->sent_start[s];
}

int64_t sal_model_width(const sal_model *m, int nsel, const int *layers)
{
    int64_t w = 0;
    for (int i = 0; i < nsel; i++) {
        if (layers[i] < 0 || layers[i] >= m->desc.d.nlayers)
            return -1;
        w += m->desc.width[layers[i]];
    }
    return w;
}

/* Open shard i into slot (its own MPI-IO open over m->comm in parallel mode) and check
 * it against the index. */
static sal_status open_shard_file(sal_model *m, int64_t i, open_shard *slot)
{
    char path[2 * PATH_MAX];
    int rc, ncid;
    int nl = m->desc.d.nlayers;
    size_t ns, nt;
    snprintf(path, sizeof(path), "%s/%s", m->dir, m->shard_file[i]);
    if (m->comm != MPI_COMM_NULL)
        rc = nc_open_par(path, NC_NOWRITE, m->comm, MPI_INFO_NULL, &ncid);
    else
        rc = nc_open(path, NC_NOWRITE, &ncid);
    if (rc)
        return nc_fail(rc, path, "cannot open shard");
    if (!slot->var && !(slot->var = malloc((size_t)nl * sizeof(*slot->var)))) {
        nc_close(ncid);
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    }
    if ((rc = dim_len(ncid, "sentence", &ns)) || (rc = dim_len(ncid, "token", &nt)))
        goto ncfail;
    if ((int64_t)ns != m->shard_nsent[i] || (int64_t)nt != m->shard_ntok[i]) {
        nc_close(ncid);
        return sal_fail(SAL_ERR_FORMAT,
                        "%s: %zu sentences and %zu tokens, the index says %lld and %lld", path,
                        ns, nt, (long long)m->shard_nsent[i], (long long)m->shard_ntok[i]);
    }
    for (int l = 0; l < nl; l++) {
        char name[32];
        int dims[2], ndims;
        size_t w;
        snprintf(name, sizeof(name), "layer_%d", l);
        if ((rc = nc_inq_varid(ncid, name, &slot->var[l])) ||
            (rc = nc_inq_varndims(ncid, slot->var[l], &ndims)))
            goto ncfail;
        if (ndims != 2 || (rc = nc_inq_vardimid(ncid, slot->var[l], dims)) ||
            (rc = nc_inq_dimlen(ncid, dims[1], &w)) || (int64_t)w != m->desc.width[l]) {
            nc_close(ncid);
            return sal_fail(SAL_ERR_FORMAT, "%s: variable %s does not have shape (token, %d)",
                            path, name, m->desc.width[l]);
        }
    }
    slot->shard = i;
    slot->ncid = ncid;
    slot->used = ++m->clock;
    return SAL_OK;
ncfail:
    nc_close(ncid);
    return nc_fail(rc, path, "bad shard");
}

/* The open-shard slot for shard i, opening (and checking) it if needed. */
static sal_status shard_slot(sal_model *m, int64_t i, open_shard **out)
{
    if (m->par_slot) { /* parallel mode: every shard was opened by sal_model_open_par */
        *out = &m->par_slot[i];
        return SAL_OK;
    }
    open_shard *victim = &m->slot[0];
    for (int k = 0; k < OPEN_SHARDS; k++) {
        if (m->slot[k].shard == i) {
            m->slot[k].used = ++m->clock;
            *out = &m->slot[k];
            return SAL_OK;
        }
        if (m->slot[k].shard < 0 || m->slot[k].used < victim->used)
            victim = &m->slot[k];
    }
    if (victim->shard >= 0) {
        nc_close(victim->ncid);
        victim->shard = -1;
    }
    sal_status st = open_shard_file(m, i, victim);
    if (st == SAL_OK)
        *out = victim;
    return st;
}

sal_status sal_model_open_par(const char *model_dir, MPI_Comm comm, sal_model **out)
{
    sal_model *m = NULL;
    sal_status st = sal_model_open(model_dir, &m);
    int code = (int)st, worst = 0;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (worst != SAL_OK) {
        sal_model_close(m);
        *out = NULL;
        return code ? st : sal_fail((sal_status)worst, "%s: another process failed to open it",
                                    model_dir);
    }
    m->comm = comm;
    m->par_slot = calloc((size_t)m->nshards, sizeof(*m->par_slot));
    code = m->par_slot ? SAL_OK : sal_fail(SAL_ERR_NOMEM, "out of memory");
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
    /* the files are opened collectively, in the same order on every process; a bad
     * shard fails the same way everywhere, since every process reads the same bytes */
    for (int64_t i = 0; worst == SAL_OK && i < m->nshards; i++) {
        m->par_slot[i].shard = -1;
        st = open_shard_file(m, i, &m->par_slot[i]);
        code = (int)st;
        MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm);
    }
    if (worst != SAL_OK) {
        sal_status ret = code ? (sal_status)code
                              : sal_fail((sal_status)worst, "%s: another process failed",
                                         model_dir);
        sal_model_close(m);
        *out = NULL;
        return ret;
    }
    *out = m;
    return SAL_OK;
}

sal_status sal_model_read_corpus(const sal_model *mc, sal_corpus *out)
{
    sal_model *m = (sal_model *)mc; /* the open-file cache changes; the model does not */
    sal_status st = SAL_OK;
    char **words = NULL;
    size_t nwords = 0;
    for (int64_t i = 0; i < m->nshards && st == SAL_OK; i++) {
        open_shard *os;
        int var, rc;
        if ((st = shard_slot(m, i, &os)))
            break;
        nwords = (size_t)m->shard_ntok[i];
        words = calloc(nwords, sizeof(*words));
        if (!words) {
            st = sal_fail(SAL_ERR_NOMEM, "out of memory reading words");
            break;
        }
        if ((rc = nc_inq_varid(os->ncid, "word", &var)) ||
            (rc = nc_get_var_string(os->ncid, var, words))) {
            st = nc_fail(rc, m->shard_file[i], "cannot read words");
            free(words);
            words = NULL;
            break;
        }
        for (int64_t s = m->shard_first_sent[i];
             st == SAL_OK && s < m->shard_first_sent[i] + m->shard_nsent[i]; s++)
            st = sal_corpus_add_sentence(
                out, (const char *const *)words + (m->sent_start[s] - m->shard_first_tok[i]),
                m->sent_start[s + 1] - m->sent_start[s]);
        nc_free_string(nwords, words);
        free(words);
        words = NULL;
    }
    return st;
}

/* Shard holding global token t (binary search). */
static int64_t shard_of_token(const sal_model *m, int64_t t)
{
    int64_t lo = 0, hi = m->nshards - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (m->shard_first_tok[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static inline int64_t row_token(const sal_rows *rows, int64_t i)
{
    return rows->tokens ? rows->tokens[i] : rows->tok0 + i;
}

sal_status sal_model_read_block(sal_model *m, int nsel, const int *layers,
                                const sal_rows *rows, int64_t r0, int64_t nr, int64_t c0,
                                int64_t nc, float *dst, int64_t ld)
{
    int64_t width = sal_model_width(m, nsel, layers);
    if (width < 0)
        return sal_fail(SAL_ERR_ARG, "%s: layer selection out of range (model has %d layers)",
                        m->dir, m->desc.d.nlayers);
    if (r0 < 0 || nr < 0 || r0 + nr > rows->nrows || c0 < 0 || nc < 0 || c0 + nc > width ||
        ld < nr)
        return sal_fail(SAL_ERR_ARG, "read of rows [%lld,+%lld) cols [%lld,+%lld) outside "
                        "%lld x %lld",
                        (long long)r0, (long long)nr, (long long)c0, (long long)nc,
                        (long long)rows->nrows, (long long)width);
    int64_t i = r0;
    while (i < r0 + nr) {
        int64_t t = row_token(rows, i);
        if (t < 0 || t >= m->ntok)
            return sal_fail(SAL_ERR_ARG, "%s: row %lld asks for token %lld of %lld", m->dir,
                            (long long)i, (long long)t, (long long)m->ntok);
        int64_t sh = shard_of_token(m, t);
        int64_t end_tok = m->shard_first_tok[sh] + m->shard_ntok[sh];
        int64_t n = 1;
        while (i + n < r0 + nr && n < READ_ROWS_MAX && row_token(rows, i + n) == t + n &&
               t + n < end_tok)
            n++;
        open_shard *os;
        sal_status st = shard_slot(m, sh, &os);
        if (st)
            return st;
        /* the columns [c0, c0+nc) cut across the selected layers */
        int64_t col = 0;
        for (int k = 0; k < nsel; k++) {
            int l = layers[k];
            int64_t w = m->desc.width[l];
            int64_t lo = c0 > col ? c0 : col, hi = c0 + nc < col + w ? c0 + nc : col + w;
            if (lo < hi) {
                size_t need = (size_t)(n * (hi - lo));
                if (need > m->buf_len) {
                    float *b = realloc(m->buf, need * sizeof(*b));
                    if (!b)
                        return sal_fail(SAL_ERR_NOMEM, "out of memory for a read buffer");
                    m->buf = b;
                    m->buf_len = need;
                }
                size_t start[2] = {(size_t)(t - m->shard_first_tok[sh]), (size_t)(lo - col)};
                size_t count[2] = {(size_t)n, (size_t)(hi - lo)};
                int rc = nc_get_vara_float(os->ncid, os->var[l], start, count, m->buf);
                if (rc) {
                    char what[96];
                    snprintf(what, sizeof(what), "cannot read layer_%d tokens %zu..%zu", l,
                             start[0], start[0] + count[0] - 1);
                    return nc_fail(rc, m->shard_file[sh], what);
                }
                int64_t nw = hi - lo;
                float *out = dst + (i - r0) + (lo - c0) * ld;
                for (int64_t r = 0; r < n; r++)
                    for (int64_t c = 0; c < nw; c++)
                        out[r + c * ld] = m->buf[r * nw + c];
            }
            col += w;
        }
        i += n;
    }
    return SAL_OK;
}

sal_status sal_model_read_bc(sal_model *m, int nsel, const int *layers, const sal_rows *rows,
                             const int desc[9], float *local)
{
    int nprow, npcol, myrow, mycol;
    Cblacs_gridinfo(desc[SAL_CTXT], &nprow, &npcol, &myrow, &mycol);
    if (myrow < 0 || mycol < 0)
        return SAL_OK;
    int64_t width = sal_model_width(m, nsel, layers);
    if (width != desc[SAL_N] || rows->nrows != desc[SAL_M])
        return sal_fail(SAL_ERR_ARG,
                        "descriptor is %d x %d but the read is %lld rows x %lld neurons",
                        desc[SAL_M], desc[SAL_N], (long long)rows->nrows, (long long)width);
    int64_t mb = desc[SAL_MB], nb = desc[SAL_NB], lld = desc[SAL_LLD];
    int64_t lr = sal_numroc(desc[SAL_M], mb, myrow, desc[SAL_RSRC], nprow);
    int64_t lc = sal_numroc(desc[SAL_N], nb, mycol, desc[SAL_CSRC], npcol);
    /* with one process in a direction, all its blocks are contiguous: read them at once */
    int64_t rstep = nprow == 1 ? (lr > 0 ? lr : 1) : mb;
    int64_t cstep = npcol == 1 ? (lc > 0 ? lc : 1) : nb;
    for (int64_t jl = 0; jl < lc; jl += cstep) {
        int64_t gc = sal_l2g(jl, nb, mycol, desc[SAL_CSRC], npcol);
        int64_t ncb = lc - jl < cstep ? lc - jl : cstep;
        for (int64_t il = 0; il < lr; il += rstep) {
            int64_t gr = sal_l2g(il, mb, myrow, desc[SAL_RSRC], nprow);
            int64_t nrb = lr - il < rstep ? lr - il : rstep;
            sal_status st = sal_model_read_block(m, nsel, layers, rows, gr, nrb, gc, ncb,
                                                 local + il + jl * lld, lld);
            if (st)
                return st;
        }
    }
    return SAL_OK;
}
