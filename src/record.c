/* record.c - the results record of one unit's analyses (see record.h). */
#include "salient/record.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netcdf.h>
#include <netcdf_mem.h>

#include "salient/version.h"

static sal_status rec_fail(int rc, const char *what)
{
    return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "results record: %s: %s", what,
                    nc_strerror(rc));
}

/* The scalar figures, by attribute name. */
typedef struct scalar {
    const char *name;
    size_t off;
} scalar;

#define F(field) {#field, offsetof(sal_lca_result, field)}
static const scalar scalars[] = {
    F(minimal_dev), F(minimal_test), F(top_test),     F(random_test), F(bottom_test),
    F(keep_test),   F(ablate_test),  F(control_test), F(selectivity), F(cluster_test),
    F(majority_test),
};
#undef F

static double *field(sal_lca_result *r, size_t off)
{
    return (double *)((char *)r + off);
}

static int put_text(int ncid, const char *name, const char *v)
{
    v = v ? v : "";
    return nc_put_att_text(ncid, NC_GLOBAL, name, strlen(v), v);
}

sal_status sal_record_write(int ncid, const sal_lca_result *r, const sal_record_meta *meta)
{
    int rc, dn, dc, dk, dl, dt;
    int v_ord, v_w, v_b, v_name = -1, v_ck, v_cd, v_ct, v_l, v_lc, v_ls, v_tc, v_ts;
    sal_lca_result *rw = (sal_lca_result *)r; /* only read through field() */
    long long ll[5] = {r->D, r->k_min, r->clusters, r->C, r->ncurve};
    const char *llname[5] = {"neurons", "k_min", "clusters", "classes", "curve_points"};
    int ints[3] = {r->fits, r->oracle.iterations, meta->params ? meta->params->stride : 0};
    const char *intname[3] = {"fits", "oracle_iterations", "stride"};
    nc_redef(ncid); /* harmless if already in define mode */
    if ((rc = put_text(ncid, "record", "salient unit analyses")) ||
        (rc = put_text(ncid, "written_by", "salient " SALIENT_VERSION_STRING)) ||
        (rc = put_text(ncid, "model", meta->model)) || (rc = put_text(ncid, "task", meta->task)) ||
        (rc = put_text(ncid, "layers", meta->layers)))
        return rec_fail(rc, "attributes");
    for (int i = 0; i < 5; i++)
        if ((rc = nc_put_att_longlong(ncid, NC_GLOBAL, llname[i], NC_INT64, 1, &ll[i])))
            return rec_fail(rc, llname[i]);
    for (int i = 0; i < 3; i++)
        if ((rc = nc_put_att_int(ncid, NC_GLOBAL, intname[i], NC_INT, 1, &ints[i])))
            return rec_fail(rc, intname[i]);
    double fig[] = {r->oracle_acc[0], r->oracle_acc[1], r->oracle_acc[2], r->oracle.objective,
                    r->oracle.violation};
    const char *fname[] = {"oracle_train", "oracle_dev", "oracle_test", "oracle_objective",
                           "oracle_violation"};
    for (int i = 0; i < 5; i++)
        if ((rc = nc_put_att_double(ncid, NC_GLOBAL, fname[i], NC_DOUBLE, 1, &fig[i])))
            return rec_fail(rc, fname[i]);
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
        if ((rc = nc_put_att_double(ncid, NC_GLOBAL, scalars[i].name, NC_DOUBLE, 1,
                                    field(rw, scalars[i].off))))
            return rec_fail(rc, scalars[i].name);
    if (meta->params) {
        const sal_lca_params *p = meta->params;
        unsigned long long seed = p->seed;
        if ((rc = nc_put_att_double(ncid, NC_GLOBAL, "lambda1", NC_DOUBLE, 1, &p->probe.lambda1)) ||
            (rc = nc_put_att_double(ncid, NC_GLOBAL, "lambda2", NC_DOUBLE, 1, &p->probe.lambda2)) ||
            (rc = nc_put_att_double(ncid, NC_GLOBAL, "tol", NC_DOUBLE, 1, &p->probe.tol)) ||
            (rc = nc_put_att_double(ncid, NC_GLOBAL, "delta", NC_DOUBLE, 1, &p->delta)) ||
            (rc = nc_put_att_double(ncid, NC_GLOBAL, "cluster_t", NC_DOUBLE, 1, &p->cluster_t)) ||
            (rc = nc_put_att_ulonglong(ncid, NC_GLOBAL, "seed", NC_UINT64, 1, &seed)))
            return rec_fail(rc, "settings");
    }
    int nsel = r->dist.nsel;
    if ((rc = nc_def_dim(ncid, "neuron", (size_t)r->D, &dn)) ||
        (rc = nc_def_dim(ncid, "class", (size_t)r->C, &dc)) ||
        (rc = nc_def_dim(ncid, "curve", (size_t)r->ncurve, &dk)) ||
        (rc = nc_def_dim(ncid, "layer", (size_t)nsel, &dl)) ||
        (rc = nc_def_dim(ncid, "third", 3, &dt)))
        return rec_fail(rc, "dimensions");
    int d2[2] = {dc, dn};
    if ((rc = nc_def_var(ncid, "ordering", NC_INT64, 1, &dn, &v_ord)) ||
        (rc = nc_def_var(ncid, "weight", NC_DOUBLE, 2, d2, &v_w)) ||
        (rc = nc_def_var(ncid, "bias", NC_DOUBLE, 1, &dc, &v_b)) ||
        (meta->class_name && (rc = nc_def_var(ncid, "class_name", NC_STRING, 1, &dc, &v_name))) ||
        (rc = nc_def_var(ncid, "curve_k", NC_INT64, 1, &dk, &v_ck)) ||
        (rc = nc_def_var(ncid, "curve_dev", NC_DOUBLE, 1, &dk, &v_cd)) ||
        (rc = nc_def_var(ncid, "curve_test", NC_DOUBLE, 1, &dk, &v_ct)) ||
        (rc = nc_def_var(ncid, "layer", NC_INT, 1, &dl, &v_l)) ||
        (rc = nc_def_var(ncid, "layer_count", NC_INT64, 1, &dl, &v_lc)) ||
        (rc = nc_def_var(ncid, "layer_share", NC_DOUBLE, 1, &dl, &v_ls)) ||
        (rc = nc_def_var(ncid, "third_count", NC_INT64, 1, &dt, &v_tc)) ||
        (rc = nc_def_var(ncid, "third_share", NC_DOUBLE, 1, &dt, &v_ts)) ||
        (rc = nc_enddef(ncid)))
        return rec_fail(rc, "variables");
    if ((r->D && (rc = nc_put_var_longlong(ncid, v_ord, (const long long *)r->ordering))) ||
        (r->oracle.W && (rc = nc_put_var_double(ncid, v_w, r->oracle.W))) ||
        (r->oracle.b && (rc = nc_put_var_double(ncid, v_b, r->oracle.b))) ||
        (meta->class_name &&
         (rc = nc_put_var_string(ncid, v_name, (const char **)meta->class_name))) ||
        (r->ncurve && (rc = nc_put_var_longlong(ncid, v_ck, (const long long *)r->curve_k))) ||
        (r->ncurve && (rc = nc_put_var_double(ncid, v_cd, r->curve_dev))) ||
        (r->ncurve && (rc = nc_put_var_double(ncid, v_ct, r->curve_test))) ||
        (nsel && (rc = nc_put_var_int(ncid, v_l, r->dist.layer))) ||
        (nsel && (rc = nc_put_var_longlong(ncid, v_lc, (const long long *)r->dist.count))) ||
        (nsel && (rc = nc_put_var_double(ncid, v_ls, r->dist.share))) ||
        (rc = nc_put_var_longlong(ncid, v_tc, (const long long *)r->dist.third_count)) ||
        (rc = nc_put_var_double(ncid, v_ts, r->dist.third_share)))
        return rec_fail(rc, "data");
    return SAL_OK;
}

/* Length of a dimension by name. */
static int dimlen(int ncid, const char *name, size_t *len)
{
    int d, rc = nc_inq_dimid(ncid, name, &d);
    return rc ? rc : nc_inq_dimlen(ncid, d, len);
}

static int get_var(int ncid, const char *name, nc_type type, void *out)
{
    int v, rc = nc_inq_varid(ncid, name, &v);
    if (rc)
        return rc;
    return type == NC_INT64 ? nc_get_var_longlong(ncid, v, out)
           : type == NC_INT ? nc_get_var_int(ncid, v, out)
                            : nc_get_var_double(ncid, v, out);
}

sal_status sal_record_read(int ncid, sal_lca_result *r)
{
    int rc;
    size_t D, C, K, L;
    long long kmin = 0, clusters = 0;
    memset(r, 0, sizeof(*r));
    if ((rc = dimlen(ncid, "neuron", &D)) || (rc = dimlen(ncid, "class", &C)) ||
        (rc = dimlen(ncid, "curve", &K)) || (rc = dimlen(ncid, "layer", &L)))
        return rec_fail(rc, "dimensions");
    r->D = (int64_t)D;
    r->C = r->oracle.C = (int)C;
    r->oracle.D = (int64_t)D;
    r->ncurve = (int)K;
    r->dist.nsel = (int)L;
    size_t k1 = K ? K : 1, l1 = L ? L : 1, d1 = D ? D : 1;
    r->ordering = malloc(sizeof(*r->ordering) * d1);
    r->oracle.W = malloc(sizeof(*r->oracle.W) * d1 * (C ? C : 1));
    r->oracle.b = malloc(sizeof(*r->oracle.b) * (C ? C : 1));
    r->curve_k = malloc(sizeof(*r->curve_k) * k1);
    r->curve_dev = malloc(sizeof(*r->curve_dev) * k1);
    r->curve_test = malloc(sizeof(*r->curve_test) * k1);
    r->dist.layer = malloc(sizeof(*r->dist.layer) * l1);
    r->dist.count = malloc(sizeof(*r->dist.count) * l1);
    r->dist.share = malloc(sizeof(*r->dist.share) * l1);
    if (!r->ordering || !r->oracle.W || !r->oracle.b || !r->curve_k || !r->curve_dev ||
        !r->curve_test || !r->dist.layer || !r->dist.count || !r->dist.share) {
        sal_lca_result_free(r);
        return sal_fail(SAL_ERR_NOMEM, "out of memory reading a results record");
    }
    double fig[5];
    const char *fname[] = {"oracle_train", "oracle_dev", "oracle_test", "oracle_objective",
                           "oracle_violation"};
    for (int i = 0; i < 5; i++)
        if ((rc = nc_get_att_double(ncid, NC_GLOBAL, fname[i], &fig[i])))
            goto fail;
    r->oracle_acc[0] = fig[0], r->oracle_acc[1] = fig[1], r->oracle_acc[2] = fig[2];
    r->oracle.objective = fig[3], r->oracle.violation = fig[4];
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
        if ((rc = nc_get_att_double(ncid, NC_GLOBAL, scalars[i].name, field(r, scalars[i].off))))
            goto fail;
    if ((rc = nc_get_att_longlong(ncid, NC_GLOBAL, "k_min", &kmin)) ||
        (rc = nc_get_att_longlong(ncid, NC_GLOBAL, "clusters", &clusters)) ||
        (rc = nc_get_att_int(ncid, NC_GLOBAL, "fits", &r->fits)) ||
        (rc = nc_get_att_int(ncid, NC_GLOBAL, "oracle_iterations", &r->oracle.iterations)))
        goto fail;
    r->k_min = kmin;
    r->clusters = clusters;
    if ((D && (rc = get_var(ncid, "ordering", NC_INT64, r->ordering))) ||
        (D && C && (rc = get_var(ncid, "weight", NC_DOUBLE, r->oracle.W))) ||
        (C && (rc = get_var(ncid, "bias", NC_DOUBLE, r->oracle.b))) ||
        (K && (rc = get_var(ncid, "curve_k", NC_INT64, r->curve_k))) ||
        (K && (rc = get_var(ncid, "curve_dev", NC_DOUBLE, r->curve_dev))) ||
        (K && (rc = get_var(ncid, "curve_test", NC_DOUBLE, r->curve_test))) ||
        (L && (rc = get_var(ncid, "layer", NC_INT, r->dist.layer))) ||
        (L && (rc = get_var(ncid, "layer_count", NC_INT64, r->dist.count))) ||
        (L && (rc = get_var(ncid, "layer_share", NC_DOUBLE, r->dist.share))) ||
        (rc = get_var(ncid, "third_count", NC_INT64, r->dist.third_count)) ||
        (rc = get_var(ncid, "third_share", NC_DOUBLE, r->dist.third_share)))
        goto fail;
    r->dist.n = r->k_min;
    return SAL_OK;
fail:
    sal_lca_result_free(r);
    return rec_fail(rc, "not a complete results record");
}

/* Packed records start with this header: the payload is an in-memory netCDF-4 file,
 * whose image HDF5 pads, so a truncated copy could still open; the length and an
 * FNV-1a checksum make a damaged transfer fail instead. */
#define REC_MAGIC "SALREC01"
typedef struct rec_header {
    char magic[8];
    uint64_t len;
    uint64_t sum;
} rec_header;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Pack what write puts into a fresh in-memory netCDF-4 file as record bytes. */
static sal_status pack_with(sal_status (*write)(int ncid, const void *ctx), const void *ctx,
                            void **buf, size_t *len)
{
    int ncid, rc;
    NC_memio io = {0, NULL, 0};
    *buf = NULL;
    *len = 0;
    if ((rc = nc_create_mem("record.nc", NC_NETCDF4, 16 * 1024, &ncid)))
        return rec_fail(rc, "cannot create in memory");
    sal_status st = write(ncid, ctx);
    rc = nc_close_memio(ncid, &io);
    if (st == SAL_OK && rc)
        st = rec_fail(rc, "cannot close in memory");
    unsigned char *out = NULL;
    if (st == SAL_OK && !(out = malloc(sizeof(rec_header) + io.size)))
        st = sal_fail(SAL_ERR_NOMEM, "out of memory packing a results record");
    if (st == SAL_OK) {
        rec_header h = {REC_MAGIC, io.size, fnv1a(io.memory, io.size)};
        memcpy(out, &h, sizeof(h));
        memcpy(out + sizeof(h), io.memory, io.size);
        *buf = out;
        *len = sizeof(h) + io.size;
    }
    free(io.memory);
    return st;
}

typedef struct lca_ctx {
    const sal_lca_result *r;
    const sal_record_meta *meta;
} lca_ctx;

static sal_status write_lca(int ncid, const void *ctx)
{
    const lca_ctx *c = ctx;
    return sal_record_write(ncid, c->r, c->meta);
}

sal_status sal_record_pack(const sal_lca_result *r, const sal_record_meta *meta, void **buf,
                           size_t *len)
{
    lca_ctx c = {r, meta};
    return pack_with(write_lca, &c, buf, len);
}

typedef struct cross_ctx {
    const sal_crosscorr *x;
    const double *const *best;
    const sal_crossmodel_meta *meta;
} cross_ctx;

static sal_status write_cross(int ncid, const void *ctx)
{
    const cross_ctx *c = ctx;
    const sal_crosscorr *x = c->x;
    const sal_crossmodel_meta *m = c->meta;
    int rc, dn, dother, dl, d2[2];
    int v_max, v_min, v_rmax, v_rmin, v_best, v_other, v_layer, v_width, v_lmax, v_lmin;
    double sum_max = 0, sum_min = 0;
    double *lmax = calloc((size_t)(m->nsel > 0 ? m->nsel : 1), sizeof(*lmax));
    double *lmin = calloc((size_t)(m->nsel > 0 ? m->nsel : 1), sizeof(*lmin));
    if (!lmax || !lmin) {
        free(lmax);
        free(lmin);
        return sal_fail(SAL_ERR_NOMEM, "out of memory packing a results record");
    }
    /* mean MaxCorr / MinCorr overall and per layer of the selection */
    for (int k = 0, j = 0; k < m->nsel; k++) {
        for (int64_t e = j + m->width[k]; j < e; j++) {
            lmax[k] += x->maxcorr[j];
            lmin[k] += x->mincorr[j];
        }
        sum_max += lmax[k];
        sum_min += lmin[k];
        lmax[k] /= (double)m->width[k];
        lmin[k] /= (double)m->width[k];
    }
    double mean_max = sum_max / (double)x->D, mean_min = sum_min / (double)x->D;
    long long D = x->D;
    if ((rc = put_text(ncid, "record", "salient cross-model correlation")) ||
        (rc = put_text(ncid, "kind", "crossmodel")) ||
        (rc = put_text(ncid, "written_by", "salient " SALIENT_VERSION_STRING)) ||
        (rc = put_text(ncid, "model", m->model)) || (rc = put_text(ncid, "task", "crossmodel")) ||
        (rc = put_text(ncid, "layers", m->layers)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "neurons", NC_INT64, 1, &D)) ||
        (rc = nc_put_att_longlong(ncid, NC_GLOBAL, "tokens", NC_INT64, 1, &m->tokens)) ||
        (rc = nc_put_att_double(ncid, NC_GLOBAL, "mean_maxcorr", NC_DOUBLE, 1, &mean_max)) ||
        (rc = nc_put_att_double(ncid, NC_GLOBAL, "mean_mincorr", NC_DOUBLE, 1, &mean_min)) ||
        (rc = nc_def_dim(ncid, "neuron", (size_t)x->D, &dn)) ||
        (rc = nc_def_dim(ncid, "other", (size_t)x->nother, &dother)) ||
        (rc = nc_def_dim(ncid, "layer", (size_t)m->nsel, &dl)))
        goto done;
    d2[0] = dother, d2[1] = dn;
    if ((rc = nc_def_var(ncid, "maxcorr", NC_DOUBLE, 1, &dn, &v_max)) ||
        (rc = nc_def_var(ncid, "mincorr", NC_DOUBLE, 1, &dn, &v_min)) ||
        (rc = nc_def_var(ncid, "maxcorr_rank", NC_INT64, 1, &dn, &v_rmax)) ||
        (rc = nc_def_var(ncid, "mincorr_rank", NC_INT64, 1, &dn, &v_rmin)) ||
        (rc = nc_def_var(ncid, "best", NC_DOUBLE, 2, d2, &v_best)) ||
        (rc = nc_def_var(ncid, "other_model", NC_STRING, 1, &dother, &v_other)) ||
        (rc = nc_def_var(ncid, "layer", NC_INT, 1, &dl, &v_layer)) ||
        (rc = nc_def_var(ncid, "layer_width", NC_INT64, 1, &dl, &v_width)) ||
        (rc = nc_def_var(ncid, "layer_mean_maxcorr", NC_DOUBLE, 1, &dl, &v_lmax)) ||
        (rc = nc_def_var(ncid, "layer_mean_mincorr", NC_DOUBLE, 1, &dl, &v_lmin)) ||
        (rc = nc_enddef(ncid)))
        goto done;
    if ((rc = nc_put_var_double(ncid, v_max, x->maxcorr)) ||
        (rc = nc_put_var_double(ncid, v_min, x->mincorr)) ||
        (rc = nc_put_var_longlong(ncid, v_rmax, (const long long *)x->maxcorr_rank)) ||
        (rc = nc_put_var_longlong(ncid, v_rmin, (const long long *)x->mincorr_rank)) ||
        (rc = nc_put_var_string(ncid, v_other, (const char **)m->other)) ||
        (rc = nc_put_var_int(ncid, v_layer, m->layer)) ||
        (rc = nc_put_var_longlong(ncid, v_width, (const long long *)m->width)) ||
        (rc = nc_put_var_double(ncid, v_lmax, lmax)) ||
        (rc = nc_put_var_double(ncid, v_lmin, lmin)))
        goto done;
    for (int o = 0; o < x->nother && !rc; o++) {
        size_t start[2] = {(size_t)o, 0}, count[2] = {1, (size_t)x->D};
        rc = nc_put_vara_double(ncid, v_best, start, count, c->best[o]);
    }
done:
    free(lmax);
    free(lmin);
    return rc ? rec_fail(rc, "cross-model record") : SAL_OK;
}

sal_status sal_record_pack_crossmodel(const sal_crosscorr *x, const double *const *best,
                                      const sal_crossmodel_meta *meta, void **buf, size_t *len)
{
    cross_ctx c = {x, best, meta};
    return pack_with(write_cross, &c, buf, len);
}

/* Check the header of packed bytes and open the netCDF image in them (read-only). */
static sal_status open_packed(const void *buf, size_t len, int *ncid)
{
    int rc;
    rec_header h;
    if (len < sizeof(h))
        return sal_fail(SAL_ERR_FORMAT, "results record: %zu bytes, too short", len);
    memcpy(&h, buf, sizeof(h));
    const unsigned char *payload = (const unsigned char *)buf + sizeof(h);
    if (memcmp(h.magic, REC_MAGIC, sizeof(h.magic)) != 0)
        return sal_fail(SAL_ERR_FORMAT, "results record: bad magic");
    if (h.len != len - sizeof(h))
        return sal_fail(SAL_ERR_FORMAT, "results record: %zu bytes, the header says %llu",
                        len - sizeof(h), (unsigned long long)h.len);
    if (fnv1a(payload, h.len) != h.sum)
        return sal_fail(SAL_ERR_FORMAT, "results record: checksum mismatch");
    /* nc_open_memio wants a writable pointer; NC_MEMIO_LOCKED keeps it from touching it */
    NC_memio io = {h.len, (void *)payload, NC_MEMIO_LOCKED};
    if ((rc = nc_open_memio("record.nc", NC_NOWRITE, &io, ncid)))
        return rec_fail(rc, "cannot open bytes");
    return SAL_OK;
}

sal_status sal_record_unpack(const void *buf, size_t len, sal_lca_result *r)
{
    int ncid;
    memset(r, 0, sizeof(*r));
    sal_status st = open_packed(buf, len, &ncid);
    if (st)
        return st;
    st = sal_record_read(ncid, r);
    nc_close(ncid);
    return st;
}

sal_status sal_record_copy(const void *buf, size_t len, int grp, int phase)
{
    int in, rc = 0, ndims, nvars, natts;
    sal_status st = open_packed(buf, len, &in);
    if (st)
        return st;
    if ((rc = nc_inq(in, &ndims, &nvars, &natts, NULL)))
        goto done;
    for (int d = 0; phase == SAL_COPY_DEFINE && d < ndims && !rc; d++) {
        char name[NC_MAX_NAME + 1];
        size_t n;
        int out;
        if (!(rc = nc_inq_dim(in, d, name, &n)))
            rc = nc_def_dim(grp, name, n, &out);
    }
    for (int a = 0; phase == SAL_COPY_DEFINE && a < natts && !rc; a++) {
        char name[NC_MAX_NAME + 1];
        if (!(rc = nc_inq_attname(in, NC_GLOBAL, a, name)))
            rc = nc_copy_att(in, NC_GLOBAL, name, grp, NC_GLOBAL);
    }
    /* variables by hand: nc_copy_var does not take string variables */
    for (int v = 0; v < nvars && !rc; v++) {
        char name[NC_MAX_NAME + 1], dname[NC_MAX_NAME + 1];
        nc_type type;
        int nd, dims[NC_MAX_VAR_DIMS], odims[NC_MAX_VAR_DIMS], out;
        size_t count = 1, tsize, n;
        if ((rc = nc_inq_var(in, v, name, &type, &nd, dims, NULL)) ||
            (rc = nc_inq_type(in, type, NULL, &tsize)))
            break;
        for (int k = 0; k < nd && !rc; k++)
            if (!(rc = nc_inq_dim(in, dims[k], dname, &n)) &&
                !(rc = nc_inq_dimid(grp, dname, &odims[k])))
                count *= n;
        if (rc)
            break;
        if (phase == SAL_COPY_DEFINE) {
            rc = nc_def_var(grp, name, type, nd, odims, &out);
            continue;
        }
        if ((rc = nc_inq_varid(grp, name, &out)) || count == 0)
            continue;
        void *data = malloc(tsize * count);
        if (!data) {
            rc = NC_ENOMEM;
            break;
        }
        if (type == NC_STRING) {
            if (!(rc = nc_get_var_string(in, v, data))) {
                rc = nc_put_var_string(grp, out, (const char **)data);
                nc_free_string(count, data);
            }
        } else if (!(rc = nc_get_var(in, v, data))) {
            rc = nc_put_var(grp, out, data);
        }
        free(data);
    }
done:
    nc_close(in);
    return rc ? rec_fail(rc, "cannot copy into the results file") : SAL_OK;
}
