/* float32 LayerNorm rows with a path per instruction set (rows.inc instantiated three
 * times: portable, AVX2 + FMA, AVX-512F), dispatched on aaren_isa() (isa.c). LayerNorm's
 * sums as plain loops do not vectorise (the compiler may not reorder float additions);
 * written as lanes of partial sums they do, at the width of each path. */
#include <math.h>
#include "kernels.h"

#define RW 8
#define RFN(name) name##_portable
#define RTARGET
#include "rows.inc"
#undef RW
#undef RFN
#undef RTARGET

#if defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)
#define RW 8
#define RFN(name) name##_avx2
#define RTARGET __attribute__((target("avx2,fma")))
#include "rows.inc"
#undef RW
#undef RFN
#undef RTARGET
#ifndef AAREN_NO_AVX512
#define RW 16
#define RFN(name) name##_avx512
#define RTARGET __attribute__((target("avx512f")))
#include "rows.inc"
#undef RW
#undef RFN
#undef RTARGET
#define HAVE_AVX512_ROWS 1
#endif
#define HAVE_AVX2_ROWS 1
#endif

void aaren_layernorm_row_f32_isa(int isa, float *y, float *mean, float *rstd, const float *x,
                                 const float *w, const float *b, int C, float eps) {
#ifdef HAVE_AVX512_ROWS
    if (isa == AAREN_ISA_AVX512) { ln_row_avx512(y, mean, rstd, x, w, b, C, eps); return; }
#endif
#ifdef HAVE_AVX2_ROWS
    if (isa == AAREN_ISA_AVX2) { ln_row_avx2(y, mean, rstd, x, w, b, C, eps); return; }
#endif
    (void)isa;
    ln_row_portable(y, mean, rstd, x, w, b, C, eps);
}

void aaren_layernorm_row_f32(float *y, float *mean, float *rstd, const float *x, const float *w,
                             const float *b, int C, float eps) {
    aaren_layernorm_row_f32_isa(aaren_isa(), y, mean, rstd, x, w, b, C, eps);
}

void aaren_layernorm_row_backward_f32_isa(int isa, float *dx, const float *dy, const float *x,
                                          float mean, float rstd, const float *w, int C) {
#ifdef HAVE_AVX512_ROWS
    if (isa == AAREN_ISA_AVX512) { ln_row_backward_avx512(dx, dy, x, mean, rstd, w, C); return; }
#endif
#ifdef HAVE_AVX2_ROWS
    if (isa == AAREN_ISA_AVX2) { ln_row_backward_avx2(dx, dy, x, mean, rstd, w, C); return; }
#endif
    (void)isa;
    ln_row_backward_portable(dx, dy, x, mean, rstd, w, C);
}

void aaren_layernorm_row_backward_f32(float *dx, const float *dy, const float *x, float mean,
                                      float rstd, const float *w, int C) {
    aaren_layernorm_row_backward_f32_isa(aaren_isa(), dx, dy, x, mean, rstd, w, C);
}
