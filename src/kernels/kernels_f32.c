/* float32 instantiation of the kernels. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "parallel.h"
#ifdef AAREN_HAVE_BLAS
#include <cblas.h>
#endif
#include "precision.h"
#include "gemm.inc"
#include "scan.inc"
#include "causal.inc"

const char *aaren_gemm_backend(void) {
#ifdef AAREN_HAVE_BLAS
    return "OpenBLAS (" AAREN_BLAS_LIB ")";
#else
    return "portable loops (no BLAS)";
#endif
}
