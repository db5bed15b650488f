/* float32 instantiation of the kernels. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "base/parallel.h"
#ifdef AAREN_HAVE_BLAS
#include <cblas.h>
#endif
#include "precision.h"
#include "gemm.inc"
#include "scan.inc"
#include "causal.inc"

const char *aaren_gemm_backend(void) {
#ifdef AAREN_HAVE_BLAS
#define AAREN_BACKEND_NAME "OpenBLAS (" AAREN_BLAS_LIB ")"
#else
#define AAREN_BACKEND_NAME "portable loops (no BLAS)"
#endif
    return aaren_x86_avx2_fma() ? AAREN_BACKEND_NAME "; one-row products: AVX2+FMA" : AAREN_BACKEND_NAME;
}
