/* status.c - status codes and the per-thread error message (see status.h). */
#include "salient/status.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* per thread: rank 0 of a study computes a unit while its books thread settles others */
static _Thread_local char errbuf[2048];
static volatile sig_atomic_t stop_flag;

void sal_request_stop(void)
{
    stop_flag = 1;
}

int sal_stop_requested(void)
{
    return stop_flag != 0;
}

const char *sal_status_str(sal_status s)
{
    switch (s) {
    case SAL_OK: return "success";
    case SAL_ERR_ARG: return "invalid argument";
    case SAL_ERR_IO: return "I/O error";
    case SAL_ERR_FORMAT: return "bad input";
    case SAL_ERR_NOMEM: return "out of memory";
    case SAL_ERR_MPI: return "MPI/ScaLAPACK error";
    case SAL_ERR_NOCONV: return "no convergence";
    case SAL_ERR_EXISTS: return "output exists";
    case SAL_ERR_INTERRUPTED: return "interrupted (resumable)";
    case SAL_ERR_UNITS_FAILED: return "some units failed";
    case SAL_ERR_DIFFERS: return "results differ";
    }
    return "unknown status";
}

sal_status sal_vfail(sal_status code, const char *fmt, va_list ap)
{
    if (code == SAL_OK) {
        errbuf[0] = '\0';
        return code;
    }
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    return code;
}

sal_status sal_fail(sal_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sal_vfail(code, fmt, ap);
    va_end(ap);
    return code;
}

sal_status sal_fail_context(sal_status code, const char *fmt, ...)
{
    char old[sizeof(errbuf)];
    va_list ap;
    memcpy(old, errbuf, sizeof(old));
    va_start(ap, fmt);
    int n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(errbuf))
        return code;
    const char *rest = old[0] != '\0' ? old : sal_status_str(code);
    size_t used = (size_t)n;
    used += (size_t)snprintf(errbuf + used, sizeof(errbuf) - used, ": ");
    if (used < sizeof(errbuf)) {
        size_t len = strlen(rest), room = sizeof(errbuf) - used - 1;
        if (len > room)
            len = room;
        memcpy(errbuf + used, rest, len);
        errbuf[used + len] = '\0';
    }
    return code;
}

const char *sal_errmsg(void)
{
    return errbuf;
}

void sal_clear_error(void)
{
    errbuf[0] = '\0';
}

int sal_exit_code(sal_status s)
{
    switch (s) {
    case SAL_OK: return 0;
    case SAL_ERR_ARG: return 64;
    case SAL_ERR_FORMAT: return 65;
    case SAL_ERR_IO: return 74;
    case SAL_ERR_EXISTS: return 73;
    case SAL_ERR_INTERRUPTED: return 75;
    case SAL_ERR_UNITS_FAILED: return 3;
    case SAL_ERR_DIFFERS: return 1;
    default: return 70;
    }
}
