/* Numerics kernels: matrix products and the two attention families (Aaren's scan,
 * causal softmax attention). Declared in float32 (plain names) and float64 (_f64). */
#ifndef AAREN_KERNELS_H
#define AAREN_KERNELS_H
#include <math.h>
#include <stddef.h>

#undef AAREN_F64
#include "precision.h"
#include "kernels_decl.inc"
#define AAREN_F64
#include "precision.h"
#include "kernels_decl.inc"
#undef AAREN_F64
#include "precision_end.h"

/* Name of the matrix-product backend compiled in ("OpenBLAS ..." or "portable"). */
const char *aaren_gemm_backend(void);

#endif
