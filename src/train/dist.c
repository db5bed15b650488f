/* Data-parallel runs over MPI (see aaren.h, "more than one machine"). Built without MPI, one
 * process is the whole world and every call is a no-op or a copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren.h"
#ifdef AAREN_HAVE_MPI
#include <mpi.h>
#endif

int aaren_dist_init(int *argc, char ***argv) {
#ifdef AAREN_HAVE_MPI
    /* only under a launcher (mpirun sets these): a plain run stays one process without MPI */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) return 0;
    int up = 0;
    MPI_Initialized(&up);
    if (!up && MPI_Init(argc, argv) != MPI_SUCCESS) return -1;
#else
    (void)argc;
    (void)argv;
#endif
    return 0;
}

void aaren_dist_finalize(void) {
#ifdef AAREN_HAVE_MPI
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) MPI_Finalize();
#endif
}

void aaren_dist_abort(int code) {
#ifdef AAREN_HAVE_MPI
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) {
        int n = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &n);
        if (n > 1) {
            fflush(stdout);
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, code);   /* ends every rank; mpirun exits non-zero */
        }
    }
#endif
    (void)code;
}

int aaren_dist_available(void) {
#ifdef AAREN_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef AAREN_HAVE_MPI
/* 1 when MPI is up (and not yet finalized). */
static int mpi_up(void) {
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    return up && !down;
}
#endif

int aaren_dist_rank(void) {
    int r = 0;
#ifdef AAREN_HAVE_MPI
    if (mpi_up()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
#endif
    return r;
}

int aaren_dist_size(void) {
    int n = 1;
#ifdef AAREN_HAVE_MPI
    if (mpi_up()) MPI_Comm_size(MPI_COMM_WORLD, &n);
#endif
    return n;
}

int aaren_dist_allgather(const float *mine, size_t n, float *all) {
#ifdef AAREN_HAVE_MPI
    if (mpi_up() && aaren_dist_size() > 1)
        return MPI_Allgather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
#endif
    if (all != mine) memcpy(all, mine, n * sizeof(float));
    return 0;
}

int aaren_dist_allreduce_sum(float *v, size_t n) {
#ifdef AAREN_HAVE_MPI
    if (mpi_up() && aaren_dist_size() > 1)
        return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
#endif
    (void)v;
    (void)n;
    return 0;
}

int aaren_dist_allgather_double(const double *mine, size_t n, double *all) {
#ifdef AAREN_HAVE_MPI
    if (mpi_up() && aaren_dist_size() > 1)
        return MPI_Allgather(mine, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
#endif
    if (all != mine) memcpy(all, mine, n * sizeof(double));
    return 0;
}

void aaren_dist_part(long n, long *lo, long *hi) {
    const long P = aaren_dist_size(), k = aaren_dist_rank();
    /* k n / P without overflow for any n a long holds */
    *lo = n / P * k + n % P * k / P;
    *hi = n / P * (k + 1) + n % P * (k + 1) / P;
}

int aaren_dist_block_sums(double *rows, long n_blocks, int m, double *total) {
    const size_t n = (size_t)n_blocks * (size_t)m;
#ifdef AAREN_HAVE_MPI
    if (mpi_up() && aaren_dist_size() > 1) {
        /* one rank holds each row, the others zeros: x + 0 is x, so any order of the library's
         * sum gives every row exactly */
        for (size_t i0 = 0; i0 < n; i0 += 1 << 30) {
            const int c = (int)(n - i0 < (size_t)1 << 30 ? n - i0 : (size_t)1 << 30);
            if (MPI_Allreduce(MPI_IN_PLACE, rows + i0, c, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        }
    }
#endif
    (void)n;
    for (int j = 0; j < m; j++) total[j] = 0;
    for (long b = 0; b < n_blocks; b++)
        for (int j = 0; j < m; j++) total[j] += rows[(size_t)b * m + j];
    return 0;
}

int aaren_dist_sum_long(long *v, size_t n) {
#ifdef AAREN_HAVE_MPI
    if (mpi_up() && aaren_dist_size() > 1)
        return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_LONG, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
#endif
    (void)v;
    (void)n;
    return 0;
}
