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
#include <stdint.h>
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

/* splitmix64 random numbers: the same stream on every process and machine. */
static uint64_t rng_state;
static inline double urand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* A standard normal deviate (Box-Muller) from urand. */
static inline double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

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
