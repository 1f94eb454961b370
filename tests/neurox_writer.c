/* neurox_writer.c - NeuroX-layout activation files for tests (see neurox_writer.h). */
#include "neurox_writer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

/* ---- the synthetic corpus ----------------------------------------------------- */

static const char *const fixture_text[NEUROX_FIXTURE_NSENT] = {
    "The cat sat on the mat .",
    "Dogs bark .",
    "It rained .",
    "She is reading a book about 1984 .",
    "Yes",
    "They walked home and/or ran quickly .",
    "It rained .",
    "A café opened in Paris last year .",
    "Prices rose 5 percent , analysts said .",
    "It rained .",
    "We were testing the new parser on long sentences",
    "Hello world !",
};

#define FIXTURE_MAX_WORDS 16

/* Words of the corpus, split once on first use. */
static char fixture_words[NEUROX_FIXTURE_NSENT][FIXTURE_MAX_WORDS][32];
static int fixture_len[NEUROX_FIXTURE_NSENT];
static int fixture_ready;

static void fixture_init(void)
{
    if (fixture_ready)
        return;
    for (int s = 0; s < NEUROX_FIXTURE_NSENT; s++) {
        const char *p = fixture_text[s];
        int n = 0;
        while (*p) {
            const char *q = strchr(p, ' ');
            size_t len = q ? (size_t)(q - p) : strlen(p);
            memcpy(fixture_words[s][n], p, len);
            fixture_words[s][n][len] = '\0';
            n++;
            p += len;
            if (*p == ' ')
                p++;
        }
        fixture_len[s] = n;
    }
    fixture_ready = 1;
}

int neurox_fixture_ntok(int s)
{
    fixture_init();
    return fixture_len[s];
}

const char *neurox_fixture_word(int s, int t)
{
    fixture_init();
    return fixture_words[s][t];
}

int neurox_fixture_total_tokens(void)
{
    int n = 0;
    for (int s = 0; s < NEUROX_FIXTURE_NSENT; s++)
        n += neurox_fixture_ntok(s);
    return n;
}

float neurox_fixture_value(int s, int l, int t, int d)
{
    int k = (37 * s + 11 * l + 5 * t + 3 * d) % 97;
    return (float)(k - 48) / 16.0f;
}

const char *neurox_fixture_label(const char *word)
{
    static const char *const det[] = {"the", "a", "an", "this", "that"};
    size_t n = strlen(word);
    int alpha = 0, digit = 0;
    for (size_t i = 0; i < n; i++) {
        alpha |= isalpha((unsigned char)word[i]) || ((unsigned char)word[i] >= 0x80);
        digit |= isdigit((unsigned char)word[i]) != 0;
    }
    char lower[64];
    size_t m = n < sizeof(lower) - 1 ? n : sizeof(lower) - 1;
    for (size_t i = 0; i < m; i++)
        lower[i] = (char)tolower((unsigned char)word[i]);
    lower[m] = '\0';
    for (size_t i = 0; i < sizeof(det) / sizeof(det[0]); i++)
        if (strcmp(lower, det[i]) == 0)
            return "DT";
    if (strchr(word, '/'))
        return "SYM";
    if (digit)
        return "CD";
    if (!alpha)
        return "PUNCT";
    if (isupper((unsigned char)word[0]))
        return "NNP";
    if (n > 3 && strcmp(word + n - 3, "ing") == 0)
        return "VBG";
    if (n > 2 && strcmp(word + n - 2, "ed") == 0)
        return "VBD";
    if (n > 2 && word[n - 1] == 's')
        return "NNS";
    return "NN";
}

/* ---- Python's json.dumps, for the few things NeuroX writes ---------------------- */

/* A growing string. */
typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static int sb_putn(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int sb_puts(strbuf *b, const char *s)
{
    return sb_putn(b, s, strlen(s));
}

/* Decode one UTF-8 sequence at *p into a code point, advancing *p; U+FFFD if invalid. */
static unsigned long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long c = s[0];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (c >= 0x80 && extra == 0) {
        (*p)++;
        return 0xfffd;
    }
    c &= extra == 3 ? 0x07 : extra == 2 ? 0x0f : extra == 1 ? 0x1f : 0x7f;
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return 0xfffd;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *p = s + extra + 1;
    return c;
}

/* Append s as a JSON string the way json.dumps(ensure_ascii=True) writes it. */
static int sb_json_string(strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[32];
    int rc = sb_puts(b, "\"");
    while (rc == 0 && *p) {
        unsigned long c = *p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = sb_putn(b, esc, 2);
            p++;
        } else if (c < 0x20) {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
            if (named)
                rc = sb_puts(b, named);
            else {
                snprintf(esc, sizeof(esc), "\\u%04lx", c);
                rc = sb_puts(b, esc);
            }
            p++;
        } else if (c < 0x80) {
            rc = sb_putn(b, (const char *)p, 1);
            p++;
        } else {
            c = utf8_next(&p);
            if (c >= 0x10000) {
                c -= 0x10000;
                snprintf(esc, sizeof(esc), "\\u%04lx\\u%04lx", 0xd800 + (c >> 10),
                         0xdc00 + (c & 0x3ff));
            } else {
                snprintf(esc, sizeof(esc), "\\u%04lx", c);
            }
            rc = sb_puts(b, esc);
        }
    }
    return rc ? rc : sb_puts(b, "\"");
}

/* Append round(x, 8) as Python's repr prints a float (json.dumps uses it). */
static int sb_json_float(strbuf *b, double x)
{
    if (isnan(x))
        return sb_puts(b, "NaN");
    if (isinf(x))
        return sb_puts(b, x > 0 ? "Infinity" : "-Infinity");
    char tmp[64], out[64];
    snprintf(tmp, sizeof(tmp), "%.8f", x);
    x = strtod(tmp, NULL);
    if (x == 0)
        return sb_puts(b, signbit(x) ? "-0.0" : "0.0");
    /* shortest digits that round-trip */
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    char digits[32];
    int nd = 0, neg = tmp[0] == '-';
    const char *p = tmp + neg;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1)
                for (int i = exp10 + 1; i < nd; i++)
                    out[o++] = digits[i];
            else
                out[o++] = '0';
        } else {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                out[o++] = '0';
            for (int i = 0; i < nd; i++)
                out[o++] = digits[i];
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        snprintf(out + o, sizeof(out) - o, "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
    }
    return sb_puts(b, out);
}

/* ---- HDF5 ------------------------------------------------------------------------ */

struct neurox_h5 {
    char *path;
    hid_t file;
    hid_t ftype;     /* file type of the activations */
    char **keys;     /* sentence_to_index keys, in insertion order */
    char **values;   /* their values (dataset names) */
    int64_t n, cap;
};

/* h5py's float16: IEEE binary16, little-endian. */
static hid_t half_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0)
        return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

sal_status neurox_h5_open(const char *path, int float16, neurox_h5 **out)
{
    *out = NULL;
    neurox_h5 *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* failures are reported through sal_fail */
    w->ftype = float16 ? half_type() : H5Tcopy(H5T_IEEE_F32LE);
    w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->ftype < 0 || w->file < 0) {
        if (w->ftype >= 0)
            H5Tclose(w->ftype);
        if (w->file >= 0)
            H5Fclose(w->file);
        free(w->path);
        free(w);
        return sal_fail(SAL_ERR_IO, "%s: cannot create HDF5 file", path);
    }
    *out = w;
    return SAL_OK;
}

sal_status neurox_h5_add(neurox_h5 *w, int64_t index, int ntok, const char *const *words,
                         int nlayers, int dim, const float *data)
{
    char name[32];
    snprintf(name, sizeof(name), "%lld", (long long)index);
    hsize_t dims[3] = {(hsize_t)nlayers, (hsize_t)ntok, (hsize_t)dim};
    hid_t space = H5Screate_simple(3, dims, NULL);
    hid_t ds = -1;
    herr_t rc = -1;
    if (space >= 0) /* h5py's create_dataset(data=...): default properties, contiguous */
        ds = H5Dcreate2(w->file, name, w->ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0)
        rc = (size_t)nlayers * (size_t)ntok * (size_t)dim == 0
                 ? 0
                 : H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0)
        H5Dclose(ds);
    if (space >= 0)
        H5Sclose(space);
    if (rc < 0)
        return sal_fail(SAL_ERR_IO, "%s: cannot write dataset '%s'", w->path, name);

    /* sentence_to_index key: NeuroX's " (Occurrence N)" numbering, N from 2 */
    strbuf text = {0}, key = {0};
    int bad = 0;
    for (int t = 0; t < ntok && !bad; t++)
        bad = (t && sb_puts(&text, " ")) || sb_puts(&text, words[t]);
    bad = bad || sb_puts(&key, text.p ? text.p : "");
    for (int counter = 1; !bad;) {
        int64_t i;
        for (i = 0; i < w->n && strcmp(w->keys[i], key.p) != 0; i++)
            ;
        if (i == w->n)
            break;
        counter++;
        char suffix[48];
        snprintf(suffix, sizeof(suffix), " (Occurrence %d)", counter);
        key.len = 0;
        bad = sb_puts(&key, text.p ? text.p : "") || sb_puts(&key, suffix);
    }
    free(text.p);
    if (!bad && w->n == w->cap) {
        int64_t cap = w->cap ? 2 * w->cap : 16;
        char **k = realloc(w->keys, (size_t)cap * sizeof(*k));
        if (k)
            w->keys = k;
        char **v = realloc(w->values, (size_t)cap * sizeof(*v));
        if (v)
            w->values = v;
        if (k && v)
            w->cap = cap;
        else
            bad = 1;
    }
    char *val = bad ? NULL : strdup(name);
    if (!val) {
        free(key.p);
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", w->path);
    }
    w->keys[w->n] = key.p;
    w->values[w->n] = val;
    w->n++;
    return SAL_OK;
}

sal_status neurox_h5_close(neurox_h5 *w)
{
    if (!w)
        return SAL_OK;
    sal_status st = SAL_OK;
    strbuf js = {0};
    int bad = sb_puts(&js, "{");
    for (int64_t i = 0; i < w->n && !bad; i++)
        bad = (i && sb_puts(&js, ", ")) || sb_json_string(&js, w->keys[i]) ||
              sb_puts(&js, ": ") || sb_json_string(&js, w->values[i]);
    bad = bad || sb_puts(&js, "}");
    if (bad) {
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", w->path);
    } else {
        hsize_t one = 1;
        hid_t space = H5Screate_simple(1, &one, NULL);
        hid_t st_type = H5Tcopy(H5T_C_S1);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        hid_t ds = -1;
        herr_t rc = -1;
        /* h5py: special_dtype(vlen=str) is a NUL-terminated variable-length UTF-8
         * string, and its dataset is created with fill time "alloc" */
        if (space >= 0 && st_type >= 0 && dcpl >= 0 && H5Tset_size(st_type, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(st_type, H5T_CSET_UTF8) >= 0 &&
            H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) >= 0)
            ds = H5Dcreate2(w->file, "sentence_to_index", st_type, space, H5P_DEFAULT, dcpl,
                            H5P_DEFAULT);
        if (ds >= 0) {
            const char *buf[1] = {js.p};
            rc = H5Dwrite(ds, st_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            H5Dclose(ds);
        }
        if (dcpl >= 0)
            H5Pclose(dcpl);
        if (st_type >= 0)
            H5Tclose(st_type);
        if (space >= 0)
            H5Sclose(space);
        if (rc < 0)
            st = sal_fail(SAL_ERR_IO, "%s: cannot write sentence_to_index", w->path);
    }
    free(js.p);
    if (H5Fclose(w->file) < 0 && st == SAL_OK)
        st = sal_fail(SAL_ERR_IO, "%s: cannot close HDF5 file", w->path);
    H5Tclose(w->ftype);
    for (int64_t i = 0; i < w->n; i++) {
        free(w->keys[i]);
        free(w->values[i]);
    }
    free(w->keys);
    free(w->values);
    free(w->path);
    free(w);
    return st;
}

/* ---- JSON lines ------------------------------------------------------------------ */

struct neurox_json {
    char *path;
    FILE *fp;
    strbuf line;
};

sal_status neurox_json_open(const char *path, neurox_json **out)
{
    *out = NULL;
    neurox_json *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    }
    w->fp = fopen(path, "w");
    if (!w->fp) {
        free(w->path);
        free(w);
        return sal_fail(SAL_ERR_IO, "%s: cannot create file", path);
    }
    *out = w;
    return SAL_OK;
}

sal_status neurox_json_add(neurox_json *w, int64_t index, int ntok, const char *const *words,
                           int nlayers, const int *widths, const float *const *act)
{
    strbuf *b = &w->line;
    char num[32];
    b->len = 0;
    snprintf(num, sizeof(num), "%lld", (long long)index);
    int bad = sb_puts(b, "{\"linex_index\": ") || sb_puts(b, num) ||
              sb_puts(b, ", \"features\": [");
    for (int t = 0; t < ntok && !bad; t++) {
        bad = (t && sb_puts(b, ", ")) || sb_puts(b, "{\"token\": ") ||
              sb_json_string(b, words[t]) || sb_puts(b, ", \"layers\": [");
        for (int l = 0; l < nlayers && !bad; l++) {
            snprintf(num, sizeof(num), "%d", l);
            bad = (l && sb_puts(b, ", ")) || sb_puts(b, "{\"index\": ") || sb_puts(b, num) ||
                  sb_puts(b, ", \"values\": [");
            for (int d = 0; d < widths[l] && !bad; d++)
                bad = (d && sb_puts(b, ", ")) ||
                      sb_json_float(b, act[l][(size_t)t * (size_t)widths[l] + (size_t)d]);
            bad = bad || sb_puts(b, "]}");
        }
        bad = bad || sb_puts(b, "]}");
    }
    bad = bad || sb_puts(b, "]}\n");
    if (bad)
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", w->path);
    if (fwrite(b->p, 1, b->len, w->fp) != b->len)
        return sal_fail(SAL_ERR_IO, "%s: write failed", w->path);
    return SAL_OK;
}

sal_status neurox_json_close(neurox_json *w)
{
    if (!w)
        return SAL_OK;
    sal_status st = SAL_OK;
    if ((ferror(w->fp) | fclose(w->fp)) != 0)
        st = sal_fail(SAL_ERR_IO, "%s: write failed", w->path);
    free(w->line.p);
    free(w->path);
    free(w);
    return st;
}

/* ---- fixture files ----------------------------------------------------------------- */

/* Fill buf (nlayers x ntok x dim, C order) with sentence s's values for layers
 * [l0, l0 + nlayers), damaged as corrupt says. */
static void fill(float *buf, int s, int l0, int nlayers, int ntok, int dim,
                 neurox_corrupt corrupt)
{
    for (int l = 0; l < nlayers; l++)
        for (int t = 0; t < ntok; t++)
            for (int d = 0; d < dim; d++)
                buf[((size_t)l * (size_t)ntok + (size_t)t) * (size_t)dim + (size_t)d] =
                    neurox_fixture_value(s, l0 + l, t, d);
    if (corrupt == NEUROX_CORRUPT_NAN && s == 3 && l0 <= 1 && 1 < l0 + nlayers)
        buf[((size_t)(1 - l0) * (size_t)ntok + 1) * (size_t)dim + 2] = NAN;
}

static sal_status write_hdf5(const char *path, int s_layer0, int nlayers, int dim, int float16,
                             neurox_corrupt corrupt)
{
    neurox_h5 *w = NULL;
    sal_status st = neurox_h5_open(path, float16, &w);
    for (int s = 0; st == SAL_OK && s < NEUROX_FIXTURE_NSENT; s++) {
        int n = neurox_fixture_ntok(s);
        int D = dim + (corrupt == NEUROX_CORRUPT_WIDTH && s == 5);
        float *buf = malloc((size_t)nlayers * (size_t)n * (size_t)D * sizeof(*buf));
        const char *words[FIXTURE_MAX_WORDS];
        if (!buf) {
            st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        for (int t = 0; t < n; t++)
            words[t] = neurox_fixture_word(s, t);
        fill(buf, s, s_layer0, nlayers, n, D, corrupt);
        st = neurox_h5_add(w, s, n, words, nlayers, D, buf);
        free(buf);
    }
    if (w) {
        sal_status st2 = neurox_h5_close(w);
        if (st == SAL_OK)
            st = st2;
    }
    return st;
}

sal_status neurox_fixture_write_hdf5(const char *path, int nlayers, int dim, int float16,
                                     neurox_corrupt corrupt)
{
    return write_hdf5(path, 0, nlayers, dim, float16, corrupt);
}

sal_status neurox_fixture_write_layers(const char *prefix, int nlayers, const int *widths,
                                       int float16)
{
    sal_status st = SAL_OK;
    for (int l = 0; st == SAL_OK && l < nlayers; l++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s-layer%d.hdf5", prefix, l);
        st = write_hdf5(path, l, 1, widths[l], float16, NEUROX_CORRUPT_NONE);
    }
    return st;
}

/* The fixture's layers [l0, l0 + nlayers) as JSON lines (file layers 0..nlayers-1). */
static sal_status write_json(const char *path, int l0, int nlayers, const int *widths)
{
    neurox_json *w = NULL;
    sal_status st = neurox_json_open(path, &w);
    float **act = calloc((size_t)nlayers, sizeof(*act));
    if (st == SAL_OK && !act)
        st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    for (int s = 0; st == SAL_OK && s < NEUROX_FIXTURE_NSENT; s++) {
        int n = neurox_fixture_ntok(s);
        const char *words[FIXTURE_MAX_WORDS];
        for (int t = 0; t < n; t++)
            words[t] = neurox_fixture_word(s, t);
        for (int l = 0; st == SAL_OK && l < nlayers; l++) {
            free(act[l]);
            act[l] = malloc((size_t)n * (size_t)widths[l] * sizeof(**act));
            if (!act[l])
                st = sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
            else
                fill(act[l], s, l0 + l, 1, n, widths[l], NEUROX_CORRUPT_NONE);
        }
        if (st == SAL_OK)
            st = neurox_json_add(w, s, n, words, nlayers, widths, (const float *const *)act);
    }
    for (int l = 0; act && l < nlayers; l++)
        free(act[l]);
    free(act);
    if (w) {
        sal_status st2 = neurox_json_close(w);
        if (st == SAL_OK)
            st = st2;
    }
    return st;
}

sal_status neurox_fixture_write_json(const char *path, int nlayers, const int *widths)
{
    return write_json(path, 0, nlayers, widths);
}

sal_status neurox_fixture_write_json_layers(const char *prefix, int nlayers, const int *widths)
{
    sal_status st = SAL_OK;
    for (int l = 0; st == SAL_OK && l < nlayers; l++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s-layer%d.json", prefix, l);
        st = write_json(path, l, 1, widths + l);
    }
    return st;
}

/* Write the corpus, each word mapped through label (NULL = the word itself). */
static sal_status write_text(const char *path, const char *(*label)(const char *))
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return sal_fail(SAL_ERR_IO, "%s: cannot create file", path);
    for (int s = 0; s < NEUROX_FIXTURE_NSENT; s++)
        for (int t = 0; t < neurox_fixture_ntok(s); t++) {
            const char *w = neurox_fixture_word(s, t);
            fprintf(fp, "%s%s", t ? " " : "", label ? label(w) : w);
            if (t == neurox_fixture_ntok(s) - 1)
                fputc('\n', fp);
        }
    if ((ferror(fp) | fclose(fp)) != 0)
        return sal_fail(SAL_ERR_IO, "%s: write failed", path);
    return SAL_OK;
}

sal_status neurox_fixture_write_sentences(const char *path)
{
    return write_text(path, NULL);
}

sal_status neurox_fixture_write_labels(const char *path)
{
    return write_text(path, neurox_fixture_label);
}
