/* OpenMP helpers that keep the build without OpenMP working (one thread). */
#ifndef AAREN_BASE_PARALLEL_H
#define AAREN_BASE_PARALLEL_H
#ifdef _OPENMP
#include <omp.h>
static inline int aaren_max_threads(void) { return omp_get_max_threads(); }
static inline int aaren_thread_id(void) { return omp_get_thread_num(); }
static inline int aaren_in_parallel(void) { return omp_in_parallel(); }
#else
static inline int aaren_max_threads(void) { return 1; }
static inline int aaren_thread_id(void) { return 0; }
static inline int aaren_in_parallel(void) { return 0; }
#endif
#endif
