/* probe_io.c - a trained probe as a NetCDF-4 file (see probe_io.h). */
#include "salient/probe_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netcdf.h>

#include "salient/version.h"

static sal_status probe_nc_fail(int rc, const char *path, const char *what)
{
    return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s: %s: %s", path, what,
                    nc_strerror(rc));
}

static int put_text(int ncid, const char *name, const char *v)
{
    v = v ? v : "";
    return nc_put_att_text(ncid, NC_GLOBAL, name, strlen(v), v);
}

static int put_double(int ncid, const char *name, double v)
{
    return nc_put_att_double(ncid, NC_GLOBAL, name, NC_DOUBLE, 1, &v);
}

sal_status sal_probe_save(const char *path, const sal_probe *pr, const sal_probe_meta *mt)
{
    char tmp[PATH_MAX];
    int rc, ncid = -1, dc, dn, ds, dl;
    int vw, vb, vname, vsplit, vlayer, vnl, vni;
    int *nl = NULL, *ni = NULL;
    sal_status st = SAL_OK;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return sal_fail(SAL_ERR_ARG, "path too long: %s", path);
    nl = malloc(sizeof(*nl) * (size_t)pr->D);
    ni = malloc(sizeof(*ni) * (size_t)pr->D);
    if (!nl || !ni) {
        st = sal_fail(SAL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0, j = 0; k < mt->nsel; k++)
        for (int d = 0; d < mt->layer_width[mt->layer[k]] && j < pr->D; d++, j++) {
            nl[j] = mt->layer[k];
            ni[j] = d;
        }
    if ((rc = nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &ncid))) {
        ncid = -1;
        goto ncfail;
    }
    double frac[3] = {mt->split_fraction[0], mt->split_fraction[1], mt->split_fraction[2]};
    unsigned long long seed = mt->seed;
    int iters = pr->iterations, conv = mt->converged;
    if ((rc = put_text(ncid, "title", "salient probe: elastic-net multinomial logistic regression")) ||
        (rc = put_text(ncid, "objective_definition",
                       "(1/N) sum_i CE(softmax(W x_i + b), y_i) + lambda1 ||W||_1 + "
                       "lambda2 ||W||_F^2 over the train split, bias unpenalized")) ||
        (rc = put_text(ncid, "model", mt->model)) ||
        (rc = put_text(ncid, "model_dir", mt->model_dir)) ||
        (rc = put_text(ncid, "labels", mt->labels)) ||
        (rc = put_text(ncid, "layers", mt->layers)) ||
        (rc = put_double(ncid, "lambda1", mt->params->lambda1)) ||
        (rc = put_double(ncid, "lambda2", mt->params->lambda2)) ||
        (rc = put_double(ncid, "tol", mt->params->tol)) ||
        (rc = put_double(ncid, "objective", pr->objective)) ||
        (rc = put_double(ncid, "loss", pr->loss)) ||
        (rc = put_double(ncid, "violation", pr->violation)) ||
        (rc = nc_put_att_int(ncid, NC_GLOBAL, "iterations", NC_INT, 1, &iters)) ||
        (rc = nc_put_att_int(ncid, NC_GLOBAL, "converged", NC_INT, 1, &conv)) ||
        (rc = put_double(ncid, "seconds", pr->seconds)) ||
        (rc = nc_put_att_ulonglong(ncid, NC_GLOBAL, "seed", NC_UINT64, 1, &seed)) ||
        (rc = nc_put_att_double(ncid, NC_GLOBAL, "split_fractions", NC_DOUBLE, 3, frac)) ||
        (rc = put_double(ncid, "accuracy_train", mt->accuracy[0])) ||
        (rc = put_double(ncid, "accuracy_dev", mt->accuracy[1])) ||
        (rc = put_double(ncid, "accuracy_test", mt->accuracy[2])) ||
        (rc = put_text(ncid, "written_by", "salient " SALIENT_VERSION_STRING)) ||
        (rc = nc_def_dim(ncid, "class", (size_t)pr->C, &dc)) ||
        (rc = nc_def_dim(ncid, "neuron", (size_t)pr->D, &dn)) ||
        (rc = nc_def_dim(ncid, "sentence", (size_t)mt->nsent, &ds)) ||
        (rc = nc_def_dim(ncid, "layer", (size_t)mt->nsel, &dl)))
        goto ncfail;
    int d2[2] = {dc, dn};
    if ((rc = nc_def_var(ncid, "weight", NC_DOUBLE, 2, d2, &vw)) ||
        (rc = nc_def_var(ncid, "bias", NC_DOUBLE, 1, &dc, &vb)) ||
        (rc = nc_def_var(ncid, "class_name", NC_STRING, 1, &dc, &vname)) ||
        (rc = nc_def_var(ncid, "split", NC_BYTE, 1, &ds, &vsplit)) ||
        (rc = nc_def_var(ncid, "layer", NC_INT, 1, &dl, &vlayer)) ||
        (rc = nc_def_var(ncid, "neuron_layer", NC_INT, 1, &dn, &vnl)) ||
        (rc = nc_def_var(ncid, "neuron_index", NC_INT, 1, &dn, &vni)))
        goto ncfail;
    const char *sd = "0 train, 1 dev, 2 test";
    nc_put_att_text(ncid, vsplit, "flag_meanings", strlen(sd), sd);
    if ((rc = nc_enddef(ncid)))
        goto ncfail;
    /* weight(class, neuron) is row-major: class c's row is W[:, c], contiguous in pr->W */
    if ((rc = nc_put_var_double(ncid, vw, pr->W)) || (rc = nc_put_var_double(ncid, vb, pr->b)) ||
        (rc = nc_put_var_string(ncid, vname, (const char **)mt->class_name)) ||
        (rc = nc_put_var_schar(ncid, vsplit, (const signed char *)mt->split)) ||
        (rc = nc_put_var_int(ncid, vlayer, mt->layer)) ||
        (rc = nc_put_var_int(ncid, vnl, nl)) || (rc = nc_put_var_int(ncid, vni, ni)))
        goto ncfail;
    rc = nc_close(ncid);
    ncid = -1;
    if (rc)
        goto ncfail;
    if (rename(tmp, path) != 0) {
        st = sal_fail(SAL_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
    goto done;
ncfail:
    st = probe_nc_fail(rc, path, "cannot write probe");
    if (ncid >= 0)
        nc_close(ncid);
    unlink(tmp);
done:
    free(nl);
    free(ni);
    return st;
}

sal_status sal_probe_load(const char *path, sal_probe *pr)
{
    int rc, ncid, dim, vw, vb;
    size_t C, D;
    memset(pr, 0, sizeof(*pr));
    if ((rc = nc_open(path, NC_NOWRITE, &ncid)))
        return probe_nc_fail(rc, path, "cannot open");
    if ((rc = nc_inq_dimid(ncid, "class", &dim)) || (rc = nc_inq_dimlen(ncid, dim, &C)) ||
        (rc = nc_inq_dimid(ncid, "neuron", &dim)) || (rc = nc_inq_dimlen(ncid, dim, &D)) ||
        (rc = nc_inq_varid(ncid, "weight", &vw)) || (rc = nc_inq_varid(ncid, "bias", &vb)))
        goto fail;
    pr->C = (int)C;
    pr->D = (int64_t)D;
    pr->W = malloc(sizeof(*pr->W) * C * D);
    pr->b = malloc(sizeof(*pr->b) * C);
    if (!pr->W || !pr->b) {
        nc_close(ncid);
        sal_probe_free(pr);
        return sal_fail(SAL_ERR_NOMEM, "out of memory");
    }
    if ((rc = nc_get_var_double(ncid, vw, pr->W)) || (rc = nc_get_var_double(ncid, vb, pr->b)) ||
        (rc = nc_get_att_double(ncid, NC_GLOBAL, "objective", &pr->objective)) ||
        (rc = nc_get_att_double(ncid, NC_GLOBAL, "violation", &pr->violation)))
        goto fail;
    nc_close(ncid);
    return SAL_OK;
fail:
    nc_close(ncid);
    sal_probe_free(pr);
    return probe_nc_fail(rc, path, "not a salient probe file");
}
