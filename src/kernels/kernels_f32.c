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
    /* the vector kernels' path in use (isa.c; AAREN_ISA=scalar|avx2|avx512 chooses) */
#define AAREN_VECTOR_KERNELS "; vector kernels (one-row products, GELU, LayerNorm): "
    switch (aaren_isa()) {
    case AAREN_ISA_AVX512: return AAREN_BACKEND_NAME AAREN_VECTOR_KERNELS "AVX-512F";
    case AAREN_ISA_AVX2: return AAREN_BACKEND_NAME AAREN_VECTOR_KERNELS "AVX2+FMA";
    default: return AAREN_BACKEND_NAME AAREN_VECTOR_KERNELS "portable";
    }
}
