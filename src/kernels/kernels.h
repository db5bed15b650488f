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
/* The products of a step's linear layers in aaren_gemm run as one band of C's rows per
 * thread, each a single-threaded BLAS call, in place of the BLAS's own threading (BLAS builds
 * with OpenMP threads): forward and input gradients (A not transposed, M >= 256 rows a thread,
 * N and K at most 1024) and weight gradients (A transposed, 64 rows a thread <= M <= 1024,
 * N <= 1024, a sum over K >= 256 a thread). aaren_gemm_row_split(0) turns that off, (1) on (the default),
 * (-1) only asks; returns the setting before the call. For benchmarks and tests: not while
 * products run on other threads. */
int aaren_gemm_row_split(int on);
int aaren_x86_avx2_fma(void);
void aaren_row_times_rows_avx2(int N, int K, float alpha, const float *a, const float *B, int ldb,
                               float beta, float *c);
/* The same with AVX-512F (row_x86.c; 16 lanes, masked tails): only where
 * aaren_isa_supported(AAREN_ISA_AVX512). */
void aaren_row_times_rows_avx512(int N, int K, float alpha, const float *a, const float *B, int ldb,
                                 float beta, float *c);

/* The instruction-set path of the float32 vector kernels (isa.c): the one-row product, GELU
 * and its gradient, LayerNorm rows. aaren_isa() is the path in use: the best one this CPU
 * and build have, or the one the environment variable AAREN_ISA=scalar|avx2|avx512 names
 * (when the CPU has it; otherwise a warning on stderr and the best one), decided at the
 * first call. aaren_isa_set forces a path (tests; not while kernels run on other threads):
 * 0, or -1 when this CPU or build lacks it. -DAAREN_NO_AVX512 builds without AVX-512. */
enum { AAREN_ISA_SCALAR = 0, AAREN_ISA_AVX2 = 1, AAREN_ISA_AVX512 = 2 };
int aaren_isa(void);
int aaren_isa_supported(int isa);
int aaren_isa_set(int isa);
const char *aaren_isa_name(int isa);   /* "portable", "AVX2+FMA", "AVX-512F" */

/* float32 row kernels with a path per instruction set (rows_f32.c), each dispatched on
 * aaren_isa(); the _isa variants take the path explicitly (tests; the path must be
 * supported). Summation: lanes of partial sums (8, or 16 for AVX-512), then a fixed tree;
 * results differ between paths by float rounding only.
 * LayerNorm of one row: y [C] = (x - mean) rstd w + b, rstd = 1 / sqrt(var + eps). */
void aaren_layernorm_row_f32(float *y, float *mean, float *rstd, const float *x, const float *w,
                             const float *b, int C, float eps);
void aaren_layernorm_row_f32_isa(int isa, float *y, float *mean, float *rstd, const float *x,
                                 const float *w, const float *b, int C, float eps);
/* Its backward for one row: dx [C] += rstd (w dy - mean(w dy) - xhat mean(w dy xhat)),
 * xhat = (x - mean) rstd; parameter gradients are left to the caller (a sum over rows). */
void aaren_layernorm_row_backward_f32(float *dx, const float *dy, const float *x, float mean,
                                      float rstd, const float *w, int C);
void aaren_layernorm_row_backward_f32_isa(int isa, float *dx, const float *dy, const float *x,
                                          float mean, float rstd, const float *w, int C);
/* One-row product through a given path (tests): as aaren_gemm(0, 1, 1, N, K, ...). */
void aaren_row_times_rows_f32_isa(int isa, int N, int K, float alpha, const float *a, const float *B,
                                  int ldb, float beta, float *c);

#endif
