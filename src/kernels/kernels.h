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

/* The float32 one-row product with AVX2 + FMA (row_x86.c): c[j] = alpha a . B[j,:] + beta c[j]
 * for j < N. aaren_row_kernel_avx2() is 1 when this CPU runs it and the build has it (x86-64
 * gcc/clang; -DAAREN_NO_X86_KERNELS leaves it out); aaren_gemm uses it by itself. */
int aaren_row_kernel_avx2(void);
void aaren_row_times_rows_avx2(int N, int K, float alpha, const float *a, const float *B, int ldb,
                               float beta, float *c);

#endif
