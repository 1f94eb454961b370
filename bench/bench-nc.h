/*
 * bench-nc.h - the benchmark tools' one way of writing a netCDF file whole: a temporary
 * name beside the target, every call checked (BENCH_NC_TRY, which records the first
 * failure in the caller's rc and what and jumps to its nc_failed label), then
 * bench_nc_finish closes, and renames the temporary into place or removes it.
 */
#ifndef SALIENT_BENCH_NC_H
#define SALIENT_BENCH_NC_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netcdf.h>

#include "salient/status.h"

#define BENCH_NC_TRY(call, text)                                                             \
    do {                                                                                     \
        if ((rc = (call)) != NC_NOERR) {                                                     \
            what = (text);                                                                   \
            goto nc_failed;                                                                  \
        }                                                                                    \
    } while (0)

/* The temporary name for path into tmp (size bytes): PATH.tmp-PID. */
static inline sal_status bench_nc_temp(const char *path, char *tmp, size_t size)
{
    if (snprintf(tmp, size, "%s.tmp-%ld", path, (long)getpid()) >= (int)size)
        return sal_fail(SAL_ERR_ARG, "path too long: %s", path);
    return SAL_OK;
}

/* End a write: rc (and what) is the first failure or NC_NOERR; ncid the open file or -1.
 * Closes, then renames tmp to path, or removes tmp and names the failure. */
static inline sal_status bench_nc_finish(int ncid, int rc, const char *what, const char *tmp,
                                         const char *path)
{
    if (rc == NC_NOERR && (rc = nc_close(ncid)) != NC_NOERR)
        what = "cannot close";
    else if (rc != NC_NOERR && ncid >= 0)
        nc_close(ncid);
    if (rc != NC_NOERR) {
        unlink(tmp);
        return sal_fail(rc > 0 ? SAL_ERR_IO : SAL_ERR_FORMAT, "%s (writing %s): %s: %s", tmp,
                        path, what, nc_strerror(rc));
    }
    if (rename(tmp, path) != 0) {
        sal_status st = sal_fail(SAL_ERR_IO, "%s: cannot rename to %s: %s", tmp, path,
                                 strerror(errno));
        unlink(tmp);
        return st;
    }
    return SAL_OK;
}

#endif
