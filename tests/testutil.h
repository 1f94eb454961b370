/*
 * testutil.h - minimal checking for salient's tests.
 *
 * CHECK(cond, fmt, ...) counts a failure and prints rank:file:line and the message;
 * test_finish() reduces the failure count over MPI_COMM_WORLD (when MPI is
 * initialized), prints "N passed, N failed" on rank 0 and returns the exit code.
 */
#ifndef SALIENT_TESTUTIL_H
#define SALIENT_TESTUTIL_H

#include <math.h>
#include <stdio.h>

#include <mpi.h>

static int test_checks, test_failures;

static inline int test_rank(void)
{
    int init = 0, rank = 0;
    MPI_Initialized(&init);
    if (init)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        test_checks++;                                                                     \
        if (!(cond)) {                                                                     \
            test_failures++;                                                               \
            fprintf(stderr, "FAIL rank %d %s:%d: %s: ", test_rank(), __FILE__, __LINE__,   \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

/* Check that a salient call returned SAL_OK, printing its message otherwise. */
#define CHECK_OK(expr)                                                                     \
    do {                                                                                   \
        sal_status st_ = (expr);                                                           \
        CHECK(st_ == SAL_OK, "%s returned %s: %s", #expr, sal_status_str(st_),            \
              sal_errmsg());                                                               \
    } while (0)

static inline int test_finish(const char *name)
{
    int init = 0, fin = 0, failures = test_failures, checks = test_checks;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        MPI_Allreduce(&test_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(&test_checks, &checks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    }
    if (test_rank() == 0)
        printf("%s: %d passed, %d failed\n", name, checks - failures, failures);
    return failures ? 1 : 0;
}

#endif
