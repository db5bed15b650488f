/* float64 instantiation of the kernels (reference precision for the tests). */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "base/parallel.h"
#ifdef AAREN_HAVE_BLAS
#include <cblas.h>
#endif
#define AAREN_F64
#include "precision.h"
#include "gemm.inc"
#include "scan.inc"
#include "causal.inc"
