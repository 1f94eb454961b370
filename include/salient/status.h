/*
 * status.h - status codes and the per-thread error message.
 *
 * Every salient function that can fail returns a sal_status. The function that
 * detects a failure records a message naming what failed (file, line, variable,
 * token) with sal_fail(); callers pass the code up unchanged and the command line
 * prints sal_errmsg(). Each thread has its own message (rank 0 of `salient run`
 * computes in one thread and keeps the books in another); the stop flag is one per
 * process. None of these functions is collective.
 */
#ifndef SALIENT_STATUS_H
#define SALIENT_STATUS_H

#include <stdarg.h>

/* Status codes. Append only: the numbers reach exit codes and result files. */
typedef enum sal_status {
    SAL_OK = 0,          /* success */
    SAL_ERR_ARG = 1,     /* an invalid argument or option value */
    SAL_ERR_IO = 2,      /* a file could not be opened, created, read or written */
    SAL_ERR_FORMAT = 3,  /* input exists but is malformed: shapes, NaN, misaligned tokens, corrupt file */
    SAL_ERR_NOMEM = 4,   /* an allocation failed */
    SAL_ERR_MPI = 5,     /* an MPI, BLACS or ScaLAPACK call failed */
    SAL_ERR_NOCONV = 6,  /* an iterative solver stopped before its tolerance */
    SAL_ERR_EXISTS = 7,  /* an output already exists and overwriting was not asked for */
    SAL_ERR_INTERRUPTED = 8, /* stopped by a signal; the work done so far is saved (resumable) */
    SAL_ERR_UNITS_FAILED = 9, /* a study finished, but some of its units failed */
    SAL_ERR_DIFFERS = 10,     /* two results differ beyond tolerance (salient compare) */
} sal_status;

/* Return a short constant name for a status ("bad input format", ...). */
const char *sal_status_str(sal_status s);

/* Record a printf-style message for code and return code. The message replaces any
 * earlier one. SAL_OK clears the message. */
sal_status sal_fail(sal_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same as sal_fail with a va_list. */
sal_status sal_vfail(sal_status code, const char *fmt, va_list ap);

/* Prefix the recorded message with "context: " (e.g. a file name) and return code. */
sal_status sal_fail_context(sal_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last recorded message, "" if none. Valid until the next sal_fail. */
const char *sal_errmsg(void);

/* Clear the recorded message. */
void sal_clear_error(void);

/* Ask long computations in this process to stop at their next check (async-signal-safe:
 * sets a flag; called from signal handlers). */
void sal_request_stop(void);

/* Nonzero once sal_request_stop was called. */
int sal_stop_requested(void);

/* The process exit code for a status: 0 for SAL_OK, 64 (EX_USAGE) for SAL_ERR_ARG,
 * 65 (EX_DATAERR) for bad input, 74 (EX_IOERR) for I/O, 73 for an existing output,
 * 75 (EX_TEMPFAIL) for an interrupted, resumable run, 3 for a study whose units partly
 * failed, 1 for results that differ, 70 (EX_SOFTWARE) otherwise. */
int sal_exit_code(sal_status s);

#endif
