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
 * for j < N. aaren_x86_avx2_fma() is 1 when this CPU has AVX2 and FMA and the build has the
 * x86 kernels (x86-64 gcc/clang; -DAAREN_NO_X86_KERNELS leaves them out); aaren_gemm and
 * the float32 GELU use them by themselves. */
int aaren_x86_avx2_fma(void);
void aaren_row_times_rows_avx2(int N, int K, float alpha, const float *a, const float *B, int ldb,
                               float beta, float *c);

#endif
