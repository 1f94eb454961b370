/* job.c - study definitions read from libconfig job files (see job.h).
 *
 * libconfig does the syntax; this file checks the shape (known settings, types,
 * required ones) and the values, and collects every mistake as a "FILE:LINE: SETTING:
 * problem" line instead of stopping at the first, so a user fixes a job file in one
 * round. The lines come from config_setting_source_line of the offending setting (of
 * the enclosing group for a missing one). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "salient/job.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "salient/dataset.h"

/* Room for collected mistakes: sal_fail keeps 2048 bytes. */
#define MSG_ROOM 1800

static const char *const ANALYSIS_NAMES[SAL_JOB_NANALYSES] = {
    "layerwise", "minimal", "ablation", "control", "redundancy", "crossmodel"};
static const char *const DERIVE_NAMES[] = {"pos-fine", "pos-coarse", "suffix",
                                           "pos-upos"}; /* SAL_JOB_DERIVE_* */
#define NDERIVE ((int)(sizeof(DERIVE_NAMES) / sizeof(DERIVE_NAMES[0])))
static const char *const METRIC_NAMES[] = {"auto", "gram", "diagonal"}; /* SAL_PROBE_METRIC_* */

static const char *const ROOT_KEYS[] = {"study", "output", "models",   "tasks",
                                        "split", "probe",  "analyses", NULL};
static const char *const MODEL_KEYS[] = {"name",    "shards", "architecture", "base", "layers",
                                         "control", NULL};
static const char *const TASK_KEYS[] = {"name",   "labels", "sentences", "brown",
                                        "derive", "values", NULL};
static const char *const SPLIT_KEYS[] = {"train", "dev", "test", "seed", NULL};
static const char *const PROBE_KEYS[] = {"l1", "l2", "tol", "max_iter", "metric", NULL};
static const char *const ANALYSES_KEYS[] = {"run", "delta", "stride", "cluster_t", NULL};

/* The mistakes found so far, as newline-separated lines. */
typedef struct checker {
    const char *file; /* the job file, for settings libconfig does not place elsewhere */
    char msg[MSG_ROOM];
    size_t len;  /* bytes used in msg */
    int nerr;    /* mistakes found */
    int dropped; /* mistakes that did not fit in msg */
    int nomem;   /* an allocation failed */
} checker;

/* Record a mistake at line of file (the job file when file is NULL). */
static void note_at(checker *ck, const char *file, int line, const char *where, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
static void note_at(checker *ck, const char *file, int line, const char *where, const char *fmt,
                    ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ck->nerr++;
    char lineb[768];
    int n = snprintf(lineb, sizeof(lineb), "%s%s:%d: %s%s%s", ck->len ? "\n" : "",
                     file ? file : ck->file, line > 0 ? line : 1, where ? where : "",
                     where ? ": " : "", text);
    if (n < 0 || ck->len + (size_t)n >= sizeof(ck->msg) - 48) {
        ck->dropped++;
        return;
    }
    memcpy(ck->msg + ck->len, lineb, (size_t)n + 1);
    ck->len += (size_t)n;
}

/* Record a mistake in setting s (named where in messages). */
#define NOTE(ck, s, where, ...)                                                                    \
    note_at((ck), config_setting_source_file(s), config_setting_source_line(s), (where),           \
            __VA_ARGS__)

/* Return a copy of s, or NULL (and ck->nomem) when out of memory. */
static char *dup_str(checker *ck, const char *s)
{
    char *d = strdup(s);
    if (!d)
        ck->nomem = 1;
    return d;
}

/* The text of a setting's type, for "must be X, not Y" messages. */
static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group { }";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array [ ]";
    case CONFIG_TYPE_LIST:
        return "a list ( )";
    }
    return "?";
}

/* Flag every setting of group g not named in keys (NULL-terminated). */
static void check_keys(checker *ck, const config_setting_t *g, const char *where,
                       const char *const *keys)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int known = 0;
        for (int k = 0; keys[k] && !known; k++)
            known = strcmp(name, keys[k]) == 0;
        if (!known) {
            char expect[256];
            size_t used = 0;
            expect[0] = '\0';
            for (int k = 0; keys[k]; k++)
                used += (size_t)snprintf(expect + used, sizeof(expect) - used, "%s%s",
                                         k ? ", " : "", keys[k]);
            NOTE(ck, s, where, "unknown setting '%s' (known: %s)", name, expect);
        }
    }
}

/* The member key of group g, or NULL; a missing required one is a mistake. */
static config_setting_t *member(checker *ck, const config_setting_t *g, const char *where,
                                const char *key, int required)
{
    config_setting_t *s = config_setting_get_member(g, key);
    if (!s && required)
        NOTE(ck, g, where, "required setting '%s' is missing", key);
    return s;
}

/* Name a member key of group where ("models[0]" + "base" -> "models[0].base"). */
static void sub_name(char *buf, size_t size, const char *where, const char *key)
{
    if (where && *where)
        snprintf(buf, size, "%s.%s", where, key);
    else
        snprintf(buf, size, "%s", key);
}

/* String member key of g into *out (NULL when absent or bad); 1 when usable. */
static int get_string(checker *ck, const config_setting_t *g, const char *where, const char *key,
                      int required, const char **out, int *line)
{
    char name[160];
    sub_name(name, sizeof(name), where, key);
    *out = NULL;
    config_setting_t *s = member(ck, g, where, key, required);
    if (!s)
        return 0;
    if (line)
        *line = config_setting_source_line(s);
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        NOTE(ck, s, name, "must be a string, not %s", type_name(s));
        return 0;
    }
    *out = config_setting_get_string(s);
    return 1;
}

/* A number (integer or floating point) setting s into *v; 1 when it is one. */
static int as_number(checker *ck, const config_setting_t *s, const char *name, double *v)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        *v = (double)config_setting_get_int64(s);
        return 1;
    case CONFIG_TYPE_FLOAT:
        *v = config_setting_get_float(s);
        if (isfinite(*v))
            return 1;
        NOTE(ck, s, name, "must be a finite number");
        return 0;
    default:
        NOTE(ck, s, name, "must be a number, not %s", type_name(s));
        return 0;
    }
}

/* Number member key of g in [lo, hi] (open at lo when lo_open) into *v, which keeps its
 * default when key is absent. */
static void get_number(checker *ck, const config_setting_t *g, const char *where, const char *key,
                       int required, double lo, int lo_open, double hi, double *v)
{
    char name[160];
    sub_name(name, sizeof(name), where, key);
    config_setting_t *s = member(ck, g, where, key, required);
    double x;
    if (!s || !as_number(ck, s, name, &x))
        return;
    if (x < lo || (lo_open && x == lo) || x > hi)
        NOTE(ck, s, name, "%.17g is outside %s%g, %g]", x, lo_open ? "(" : "[", lo, hi);
    else
        *v = x;
}

/* Integer member key of g in [lo, hi] into *v (default kept when absent). */
static void get_integer(checker *ck, const config_setting_t *g, const char *where, const char *key,
                        long long lo, long long hi, long long *v)
{
    char name[160];
    sub_name(name, sizeof(name), where, key);
    config_setting_t *s = member(ck, g, where, key, 0);
    if (!s)
        return;
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        NOTE(ck, s, name, "must be an integer, not %s", type_name(s));
        return;
    }
    long long x = config_setting_get_int64(s);
    if (x < lo || x > hi)
        NOTE(ck, s, name, "%lld is outside [%lld, %lld]", x, lo, hi);
    else
        *v = x;
}

/* A group member key of g (NULL when absent or not a group). */
static config_setting_t *get_group(checker *ck, const config_setting_t *g, const char *key,
                                   int required)
{
    config_setting_t *s = member(ck, g, NULL, key, required);
    if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
        NOTE(ck, s, key, "must be a group { ... }, not %s", type_name(s));
        s = NULL;
    }
    return s;
}

/* A member key of g that is a list ( ... ) or array [ ... ], or a single scalar (then
 * *single is set). NULL when absent or of another type. */
static config_setting_t *get_sequence(checker *ck, const config_setting_t *g, const char *where,
                                      const char *key, int required, int *single)
{
    char name[160];
    sub_name(name, sizeof(name), where, key);
    config_setting_t *s = member(ck, g, where, key, required);
    *single = 0;
    if (!s)
        return NULL;
    if (config_setting_is_scalar(s))
        *single = 1;
    else if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
        NOTE(ck, s, name, "must be a value or a list, not %s", type_name(s));
        return NULL;
    } else if (config_setting_length(s) == 0) {
        NOTE(ck, s, name, "is empty");
        return NULL;
    }
    return s;
}

/* A lambda grid: one number or a list of numbers, each >= 0. */
static void get_grid(checker *ck, const config_setting_t *g, const char *key, int *n, double **grid)
{
    char name[160];
    int single;
    sub_name(name, sizeof(name), "probe", key);
    config_setting_t *s = g ? get_sequence(ck, g, "probe", key, 0, &single) : NULL;
    int len = !s ? 1 : single ? 1 : config_setting_length(s);
    if (!(*grid = malloc(sizeof(**grid) * (size_t)len))) {
        ck->nomem = 1;
        return;
    }
    *n = len;
    (*grid)[0] = 1e-5; /* the paper's setting (SAL_PROBE_PARAMS_DEFAULT) */
    for (int i = 0; s && i < len; i++) {
        const config_setting_t *e = single ? s : config_setting_get_elem(s, (unsigned)i);
        char ename[176];
        if (single)
            snprintf(ename, sizeof(ename), "%s", name);
        else
            snprintf(ename, sizeof(ename), "%s[%d]", name, i);
        double x = 0;
        if (!as_number(ck, e, ename, &x))
            continue;
        if (x < 0)
            NOTE(ck, e, ename, "%.17g is negative (a penalty weight must be >= 0)", x);
        (*grid)[i] = x;
    }
}

/* Whether a name is usable as a file and NetCDF group name: [A-Za-z0-9][A-Za-z0-9._-]*,
 * at most 64 bytes. */
static int good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

/* A required name member of g, checked with good_name; NULL when absent or bad. */
static const char *get_name(checker *ck, const config_setting_t *g, const char *where)
{
    const char *v;
    char name[160];
    sub_name(name, sizeof(name), where, "name");
    if (!get_string(ck, g, where, "name", 1, &v, NULL))
        return NULL;
    if (!good_name(v)) {
        NOTE(ck, config_setting_get_member(g, "name"), name,
             "'%s' is not a usable name (letters, digits, '.', '_', '-'; starts with a "
             "letter or digit; at most 64 bytes)",
             v);
        return NULL;
    }
    return v;
}

/* Path p made absolute against folder dir (already absolute: copied). */
static char *resolve(checker *ck, const char *dir, const char *p)
{
    if (p[0] == '/')
        return dup_str(ck, p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *r = malloc(n);
    if (!r) {
        ck->nomem = 1;
        return NULL;
    }
    snprintf(r, n, "%s/%s", dir, p);
    return r;
}

/* A required or optional path member key of g, resolved against dir; NULL if absent. */
static char *get_path(checker *ck, const config_setting_t *g, const char *where, const char *key,
                      int required, const char *dir, int *line)
{
    const char *v;
    char name[160];
    sub_name(name, sizeof(name), where, key);
    if (!get_string(ck, g, where, key, required, &v, line))
        return NULL;
    if (v[0] == '\0') {
        NOTE(ck, config_setting_get_member(g, key), name, "is an empty path");
        return NULL;
    }
    return resolve(ck, dir, v);
}

/* The models list: names, paths, layers; then the bases, resolved and free of cycles. */
static void read_models(checker *ck, const config_setting_t *root, sal_job *j)
{
    config_setting_t *list = member(ck, root, NULL, "models", 1);
    if (!list)
        return;
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        NOTE(ck, list, "models", "must be a list ( { ... }, ... ), not %s", type_name(list));
        return;
    }
    int n = config_setting_length(list);
    if (n == 0) {
        NOTE(ck, list, "models", "is empty: a study needs at least one model");
        return;
    }
    if (!(j->models = calloc((size_t)n, sizeof(*j->models)))) {
        ck->nomem = 1;
        return;
    }
    j->nmodels = n;
    const char **base_name = calloc((size_t)n, sizeof(*base_name));
    const config_setting_t **base_set = calloc((size_t)n, sizeof(*base_set));
    if (!base_name || !base_set) {
        ck->nomem = 1;
        goto free_bases;
    }
    for (int i = 0; i < n; i++) {
        sal_job_model *m = &j->models[i];
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        char where[32], name[48];
        snprintf(where, sizeof(where), "models[%d]", i);
        m->base = -1;
        m->line = config_setting_source_line(g);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            NOTE(ck, g, where, "must be a group { name = ...; shards = ...; }, not %s",
                 type_name(g));
            continue;
        }
        check_keys(ck, g, where, MODEL_KEYS);
        const char *v = get_name(ck, g, where);
        if (v) {
            for (int k = 0; k < i; k++)
                if (j->models[k].name && strcmp(j->models[k].name, v) == 0)
                    NOTE(ck, config_setting_get_member(g, "name"), where,
                         "model name '%s' is already used by models[%d] (line %d)", v, k,
                         j->models[k].line);
            m->name = dup_str(ck, v);
        }
        m->shards = get_path(ck, g, where, "shards", 1, j->dir, &m->shards_line);
        m->architecture =
            dup_str(ck, get_string(ck, g, where, "architecture", 0, &v, NULL) ? v : "");
        m->layers = dup_str(ck, "all");
        config_setting_t *ls = config_setting_get_member(g, "layers");
        snprintf(name, sizeof(name), "%s.layers", where);
        if (ls) {
            char text[32];
            const char *sel = NULL;
            if (config_setting_type(ls) == CONFIG_TYPE_STRING)
                sel = config_setting_get_string(ls);
            else if (config_setting_type(ls) == CONFIG_TYPE_INT) {
                snprintf(text, sizeof(text), "%d", config_setting_get_int(ls));
                sel = text;
            } else
                NOTE(ck, ls, name,
                     "must be \"all\" or a selection such as \"0,2\" or \"1-3\", "
                     "not %s",
                     type_name(ls));
            if (sel) {
                int *layers = malloc(sizeof(*layers) * SAL_MAX_LAYERS), nsel = 0;
                if (!layers)
                    ck->nomem = 1;
                else if (sal_parse_layers(sel, SAL_MAX_LAYERS, layers, &nsel) != SAL_OK)
                    NOTE(ck, ls, name,
                         "%s (expected \"all\" or layer numbers and ranges such "
                         "as \"0,2\" or \"1-3\")",
                         sal_errmsg());
                else {
                    free(m->layers);
                    m->layers = dup_str(ck, sel);
                }
                free(layers);
                sal_clear_error();
            }
        }
        config_setting_t *cs = config_setting_get_member(g, "control");
        snprintf(name, sizeof(name), "%s.control", where);
        if (cs && config_setting_type(cs) != CONFIG_TYPE_BOOL)
            NOTE(ck, cs, name, "must be true or false, not %s", type_name(cs));
        else if (cs)
            m->control = config_setting_get_bool(cs);
        if (get_string(ck, g, where, "base", 0, &base_name[i], NULL))
            base_set[i] = config_setting_get_member(g, "base");
    }
    /* bases: each names a listed model; following them never comes back */
    for (int i = 0; i < n; i++) {
        if (!base_name[i])
            continue;
        char name[48];
        snprintf(name, sizeof(name), "models[%d].base", i);
        for (int k = 0; k < n && j->models[i].base < 0; k++)
            if (j->models[k].name && strcmp(j->models[k].name, base_name[i]) == 0)
                j->models[i].base = k;
        if (j->models[i].base < 0)
            NOTE(ck, base_set[i], name, "'%s' names no model of this job", base_name[i]);
    }
    for (int i = 0; i < n; i++) {
        int at = i, steps = 0;
        while (at >= 0 && steps <= n) {
            at = j->models[at].base;
            steps++;
            if (at == i)
                break;
        }
        if (at == i) {
            char name[48];
            snprintf(name, sizeof(name), "models[%d].base", i);
            NOTE(ck, base_set[i], name,
                 "model '%s' is its own base, directly or through "
                 "other models (a cycle of bases)",
                 j->models[i].name);
        }
    }
free_bases:
    free(base_name);
    free(base_set);
}

/* The tasks list. */
static void read_tasks(checker *ck, const config_setting_t *root, sal_job *j)
{
    config_setting_t *list = member(ck, root, NULL, "tasks", 1);
    if (!list)
        return;
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        NOTE(ck, list, "tasks", "must be a list ( { ... }, ... ), not %s", type_name(list));
        return;
    }
    int n = config_setting_length(list);
    if (n == 0) {
        NOTE(ck, list, "tasks", "is empty: a study needs at least one task");
        return;
    }
    if (!(j->tasks = calloc((size_t)n, sizeof(*j->tasks)))) {
        ck->nomem = 1;
        return;
    }
    j->ntasks = n;
    for (int i = 0; i < n; i++) {
        sal_job_task *t = &j->tasks[i];
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        char where[32], name[48];
        snprintf(where, sizeof(where), "tasks[%d]", i);
        t->derive = SAL_JOB_DERIVE_NONE;
        t->line = config_setting_source_line(g);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            NOTE(ck, g, where, "must be a group { name = ...; labels = ...; }, not %s",
                 type_name(g));
            continue;
        }
        check_keys(ck, g, where, TASK_KEYS);
        const char *v = get_name(ck, g, where);
        if (v) {
            for (int k = 0; k < i; k++)
                if (j->tasks[k].name && strcmp(j->tasks[k].name, v) == 0)
                    NOTE(ck, config_setting_get_member(g, "name"), where,
                         "task name '%s' is already used by tasks[%d] (line %d)", v, k,
                         j->tasks[k].line);
            t->name = dup_str(ck, v);
        }
        /* exactly one source: labels, brown or values */
        static const char *const SOURCES[] = {"labels", "brown", "values"};
        const config_setting_t *src[3];
        int nsrc = 0;
        for (int k = 0; k < 3; k++)
            nsrc += (src[k] = config_setting_get_member(g, SOURCES[k])) != NULL;
        if (nsrc == 0) {
            NOTE(ck, g, where, "needs one of 'labels', 'brown' or 'values'");
            continue;
        }
        if (nsrc > 1) {
            const config_setting_t *second = src[2] ? src[2] : src[1];
            NOTE(ck, second, where, "give only one of 'labels', 'brown' and 'values'");
            continue;
        }
        t->kind = src[0] ? SAL_JOB_TASK_LABELS : src[1] ? SAL_JOB_TASK_BROWN : SAL_JOB_TASK_VALUES;
        const config_setting_t *sent = config_setting_get_member(g, "sentences");
        const config_setting_t *der = config_setting_get_member(g, "derive");
        if (t->kind == SAL_JOB_TASK_BROWN && sent) {
            snprintf(name, sizeof(name), "%s.sentences", where);
            NOTE(ck, sent, name, "a Brown task takes its words from the Brown files");
        }
        if (t->kind != SAL_JOB_TASK_BROWN && der) {
            snprintf(name, sizeof(name), "%s.derive", where);
            NOTE(ck, der, name, "only a Brown task ('brown' files) derives its labels");
        }
        if (t->kind == SAL_JOB_TASK_LABELS)
            t->labels = get_path(ck, g, where, "labels", 1, j->dir, &t->labels_line);
        if (t->kind == SAL_JOB_TASK_VALUES)
            t->values = get_path(ck, g, where, "values", 1, j->dir, &t->labels_line);
        if (t->kind != SAL_JOB_TASK_BROWN)
            t->sentences = get_path(ck, g, where, "sentences", 0, j->dir, &t->sentences_line);
        if (t->kind != SAL_JOB_TASK_BROWN)
            continue;
        /* Brown: files, and the rule that derives labels from their tags */
        int single;
        config_setting_t *bs = get_sequence(ck, g, where, "brown", 1, &single);
        int nb = !bs ? 0 : single ? 1 : config_setting_length(bs);
        if (nb > 0) {
            t->brown = calloc((size_t)nb, sizeof(*t->brown));
            t->brown_line = calloc((size_t)nb, sizeof(*t->brown_line));
            if (!t->brown || !t->brown_line) {
                ck->nomem = 1;
                continue;
            }
            t->nbrown = nb;
        }
        for (int k = 0; k < nb; k++) {
            const config_setting_t *e = single ? bs : config_setting_get_elem(bs, (unsigned)k);
            snprintf(name, sizeof(name), single ? "%s.brown" : "%s.brown[%d]", where, k);
            t->brown_line[k] = config_setting_source_line(e);
            if (config_setting_type(e) != CONFIG_TYPE_STRING)
                NOTE(ck, e, name, "must be a file name (a string), not %s", type_name(e));
            else if (config_setting_get_string(e)[0] == '\0')
                NOTE(ck, e, name, "is an empty path");
            else
                t->brown[k] = resolve(ck, j->dir, config_setting_get_string(e));
        }
        if (get_string(ck, g, where, "derive", 1, &v, NULL)) {
            for (int k = 0; k < NDERIVE; k++)
                if (strcmp(v, DERIVE_NAMES[k]) == 0)
                    t->derive = k;
            snprintf(name, sizeof(name), "%s.derive", where);
            if (t->derive == SAL_JOB_DERIVE_NONE)
                NOTE(ck, der, name,
                     "unknown rule '%s' (known: pos-fine, pos-coarse, pos-upos, suffix)", v);
        }
    }
}

/* split = { train; dev; test; seed; } (optional: 0.8 / 0.1 / 0.1, seed 1). */
static void read_split(checker *ck, const config_setting_t *root, sal_job *j)
{
    config_setting_t *g = get_group(ck, root, "split", 0);
    j->split[0] = 0.8;
    j->split[1] = 0.1;
    j->split[2] = 0.1;
    j->seed = 1;
    if (!g)
        return;
    check_keys(ck, g, "split", SPLIT_KEYS);
    double f[3] = {NAN, NAN, NAN};
    static const char *const KEYS[3] = {"train", "dev", "test"};
    for (int k = 0; k < 3; k++)
        get_number(ck, g, "split", KEYS[k], 1, 0, 1, 1, &f[k]);
    if (!isnan(f[0]) && !isnan(f[1]) && !isnan(f[2])) {
        double sum = f[0] + f[1] + f[2];
        if (fabs(sum - 1) > 1e-9)
            NOTE(ck, g, "split", "train + dev + test = %.17g, not 1", sum);
        else
            memcpy(j->split, f, sizeof(f));
    }
    long long seed = 1;
    get_integer(ck, g, "split", "seed", 0, LLONG_MAX, &seed);
    j->seed = (uint64_t)seed;
}

/* probe = { l1; l2; tol; max_iter; metric; } (optional: SAL_PROBE_PARAMS_DEFAULT). */
static void read_probe(checker *ck, const config_setting_t *root, sal_job *j)
{
    config_setting_t *g = get_group(ck, root, "probe", 0);
    sal_probe_params *p = &j->lca.probe;
    if (g)
        check_keys(ck, g, "probe", PROBE_KEYS);
    get_grid(ck, g, "l1", &j->nl1, &j->l1);
    get_grid(ck, g, "l2", &j->nl2, &j->l2);
    if (j->l1)
        p->lambda1 = j->l1[0];
    if (j->l2)
        p->lambda2 = j->l2[0];
    if (!g)
        return;
    get_number(ck, g, "probe", "tol", 0, 0, 1, 1, &p->tol);
    long long it = p->max_iter;
    get_integer(ck, g, "probe", "max_iter", 1, INT_MAX, &it);
    p->max_iter = (int)it;
    const char *v;
    if (get_string(ck, g, "probe", "metric", 0, &v, NULL)) {
        int m = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(v, METRIC_NAMES[k]) == 0)
                m = k;
        if (m < 0)
            NOTE(ck, config_setting_get_member(g, "metric"), "probe.metric",
                 "unknown metric '%s' (known: auto, gram, diagonal)", v);
        else
            p->metric = m;
    }
}

/* analyses = { run = [ ... ]; delta; stride; cluster_t; } (required). */
static void read_analyses(checker *ck, const config_setting_t *root, sal_job *j)
{
    config_setting_t *g = get_group(ck, root, "analyses", 1);
    if (!g)
        return;
    check_keys(ck, g, "analyses", ANALYSES_KEYS);
    int single;
    config_setting_t *run = get_sequence(ck, g, "analyses", "run", 1, &single);
    int n = !run ? 0 : single ? 1 : config_setting_length(run);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = single ? run : config_setting_get_elem(run, (unsigned)i);
        char name[32];
        snprintf(name, sizeof(name), single ? "analyses.run" : "analyses.run[%d]", i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            NOTE(ck, e, name, "must be an analysis name (a string), not %s", type_name(e));
            continue;
        }
        const char *v = config_setting_get_string(e);
        int a = -1;
        for (int k = 0; k < SAL_JOB_NANALYSES; k++)
            if (strcmp(v, ANALYSIS_NAMES[k]) == 0)
                a = k;
        if (a < 0)
            NOTE(ck, e, name,
                 "unknown analysis '%s' (known: layerwise, minimal, ablation, "
                 "control, redundancy, crossmodel)",
                 v);
        else if (j->analyses & (1u << a))
            NOTE(ck, e, name, "'%s' is listed twice", v);
        else
            j->analyses |= 1u << a;
        if (a == 5 && j->nmodels == 1)
            NOTE(ck, e, name, "'crossmodel' needs at least two models");
    }
    get_number(ck, g, "analyses", "delta", 0, 0, 0, 1, &j->lca.delta);
    long long stride = j->lca.stride;
    get_integer(ck, g, "analyses", "stride", 1, 1000000, &stride);
    j->lca.stride = (int)stride;
    get_number(ck, g, "analyses", "cluster_t", 0, 0, 0, 1, &j->lca.cluster_t);
}

/* Read the whole job from a parsed configuration. */
static void read_job(checker *ck, const config_t *cfg, sal_job *j)
{
    const config_setting_t *root = config_root_setting(cfg);
    const char *v;
    check_keys(ck, root, NULL, ROOT_KEYS);
    const char *study = NULL;
    if (get_string(ck, root, NULL, "study", 1, &v, NULL)) {
        if (!good_name(v))
            NOTE(ck, config_setting_get_member(root, "study"), "study",
                 "'%s' is not a usable name (letters, digits, '.', '_', '-'; starts with a "
                 "letter or digit; at most 64 bytes)",
                 v);
        else
            study = v;
    }
    j->study = dup_str(ck, study ? study : "");
    j->output = get_path(ck, root, NULL, "output", 0, j->dir, NULL);
    read_models(ck, root, j);
    read_tasks(ck, root, j);
    read_split(ck, root, j);
    read_probe(ck, root, j);
    read_analyses(ck, root, j);
    j->lca.seed = j->seed;
    j->lca.ablation = (j->analyses & SAL_JOB_ABLATION) != 0;
    if (!(j->analyses & SAL_JOB_REDUNDANCY))
        j->lca.cluster_t = 0;
}

/* The absolute folder of path ("." for a bare name), realpath'ed when it exists. */
static char *job_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return NULL;
    char *real = realpath(dir, NULL);
    if (real) {
        free(dir);
        return real;
    }
    if (dir[0] == '/')
        return dir;
    /* not there (a job text for a path elsewhere): absolute against the cwd */
    char *cwd = getcwd(NULL, 0);
    char *abs = NULL;
    if (cwd) {
        size_t n = strlen(cwd) + strlen(dir) + 2;
        if ((abs = malloc(n)))
            snprintf(abs, n, "%s/%s", cwd, dir);
    }
    free(cwd);
    free(dir);
    return abs;
}

sal_status sal_job_parse(const char *text, const char *path, sal_job **out)
{
    sal_status st = SAL_OK;
    config_t cfg;
    checker *ck = NULL;
    sal_lca_params lca = SAL_LCA_PARAMS_DEFAULT;
    sal_job *j = calloc(1, sizeof(*j));
    *out = NULL;
    config_init(&cfg);
    if (!j || !(ck = calloc(1, sizeof(*ck)))) {
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    ck->file = path;
    j->lca = lca;
    if (!(j->path = strdup(path)) || !(j->dir = job_folder(path))) {
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* @include "x.cfg" is taken from the job's folder too */
    config_set_include_dir(&cfg, j->dir);
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        const char *f = config_error_file(&cfg);
        st = sal_fail(config_error_type(&cfg) == CONFIG_ERR_FILE_IO ? SAL_ERR_IO : SAL_ERR_FORMAT,
                      "%s:%d: %s", f ? f : path, config_error_line(&cfg), config_error_text(&cfg));
        goto done;
    }
    read_job(ck, &cfg, j);
    if (ck->nomem)
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    else if (ck->nerr > 0) {
        if (ck->dropped)
            snprintf(ck->msg + ck->len, sizeof(ck->msg) - ck->len, "\n... and %d more mistakes",
                     ck->dropped);
        st = sal_fail(SAL_ERR_FORMAT, "%s", ck->msg);
    }
done:
    config_destroy(&cfg);
    free(ck);
    if (st != SAL_OK)
        sal_job_free(j);
    else
        *out = j;
    return st;
}

sal_status sal_job_load(const char *path, sal_job **out)
{
    sal_status st = SAL_OK;
    char *text = NULL;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(errno));
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            char *t = realloc(text, cap + 65536);
            if (!t) {
                st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
                goto close_file;
            }
            text = t;
            cap += 65536;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        st = sal_fail(SAL_ERR_IO, "%s: read error", path);
        goto close_file;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        st = sal_fail(SAL_ERR_FORMAT, "%s: not a text file (contains a NUL byte)", path);
        goto close_file;
    }
close_file:
    fclose(f);
    if (st == SAL_OK)
        st = sal_job_parse(text, path, out);
    free(text);
    return st;
}

/* Note at line of the job file when path (named by setting where) cannot be read. */
static void check_file(checker *ck, int line, const char *where, const char *path)
{
    if (path && access(path, R_OK) != 0)
        note_at(ck, NULL, line, where, "%s: %s", path, strerror(errno));
}

sal_status sal_job_check_files(const sal_job *j)
{
    checker *ck = calloc(1, sizeof(*ck));
    if (!ck)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    ck->file = j->path;
    char where[64];
    sal_status st = SAL_OK;
    for (int i = 0; i < j->nmodels; i++) {
        const sal_job_model *m = &j->models[i];
        snprintf(where, sizeof(where), "models[%d].shards", i);
        if (access(m->shards, R_OK | X_OK) != 0) {
            note_at(ck, NULL, m->shards_line, where, "%s: %s", m->shards, strerror(errno));
            continue;
        }
        size_t n = strlen(m->shards) + sizeof("/model.nc");
        char *index = malloc(n);
        if (!index) {
            ck->nomem = 1;
            break;
        }
        snprintf(index, n, "%s/model.nc", m->shards);
        if (access(index, R_OK) != 0)
            note_at(ck, NULL, m->shards_line, where,
                    "%s: %s (not a complete model folder: import it with `salient import`)", index,
                    strerror(errno));
        free(index);
    }
    for (int i = 0; i < j->ntasks; i++) {
        const sal_job_task *t = &j->tasks[i];
        snprintf(where, sizeof(where), "tasks[%d].%s", i,
                 t->kind == SAL_JOB_TASK_VALUES ? "values" : "labels");
        check_file(ck, t->labels_line, where, t->labels ? t->labels : t->values);
        snprintf(where, sizeof(where), "tasks[%d].sentences", i);
        check_file(ck, t->sentences_line, where, t->sentences);
        for (int k = 0; k < t->nbrown; k++) {
            snprintf(where, sizeof(where),
                     t->nbrown == 1 ? "tasks[%d].brown" : "tasks[%d].brown[%d]", i, k);
            check_file(ck, t->brown_line[k], where, t->brown[k]);
        }
    }
    if (ck->nomem)
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
    else if (ck->nerr > 0) {
        if (ck->dropped)
            snprintf(ck->msg + ck->len, sizeof(ck->msg) - ck->len,
                     "\n... and %d more missing files", ck->dropped);
        st = sal_fail(SAL_ERR_IO, "%s", ck->msg);
    }
    free(ck);
    return st;
}

sal_status sal_job_set_output(sal_job *j, const char *dir)
{
    char *abs = NULL;
    if (!dir || !*dir)
        return sal_fail(SAL_ERR_ARG, "output folder: empty name");
    if (dir[0] == '/')
        abs = strdup(dir);
    else {
        char *cwd = getcwd(NULL, 0);
        if (cwd) {
            size_t n = strlen(cwd) + strlen(dir) + 2;
            if ((abs = malloc(n)))
                snprintf(abs, n, "%s/%s", cwd, dir);
        }
        free(cwd);
    }
    if (!abs)
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    free(j->output);
    j->output = abs;
    return SAL_OK;
}

int sal_job_find_model(const sal_job *j, const char *name)
{
    for (int i = 0; i < j->nmodels; i++)
        if (j->models[i].name && strcmp(j->models[i].name, name) == 0)
            return i;
    return -1;
}

int sal_job_find_task(const sal_job *j, const char *name)
{
    for (int i = 0; i < j->ntasks; i++)
        if (j->tasks[i].name && strcmp(j->tasks[i].name, name) == 0)
            return i;
    return -1;
}

const char *sal_job_analysis_name(unsigned a)
{
    for (int k = 0; k < SAL_JOB_NANALYSES; k++)
        if (a == 1u << k)
            return ANALYSIS_NAMES[k];
    return "?";
}

const char *sal_job_derive_name(int d) { return d >= 0 && d < NDERIVE ? DERIVE_NAMES[d] : "?"; }

const char *sal_job_kind_name(int kind)
{
    switch (kind) {
    case SAL_JOB_TASK_LABELS:
        return "labels";
    case SAL_JOB_TASK_BROWN:
        return "brown";
    case SAL_JOB_TASK_VALUES:
        return "values";
    }
    return "?";
}

void sal_job_free(sal_job *j)
{
    if (!j)
        return;
    for (int i = 0; i < j->nmodels; i++) {
        free(j->models[i].name);
        free(j->models[i].shards);
        free(j->models[i].architecture);
        free(j->models[i].layers);
    }
    for (int i = 0; i < j->ntasks; i++) {
        sal_job_task *t = &j->tasks[i];
        free(t->name);
        free(t->labels);
        free(t->sentences);
        free(t->values);
        for (int k = 0; k < t->nbrown; k++)
            free(t->brown[k]);
        free(t->brown);
        free(t->brown_line);
    }
    free(j->models);
    free(j->tasks);
    free(j->l1);
    free(j->l2);
    free(j->path);
    free(j->dir);
    free(j->study);
    free(j->output);
    free(j);
}
