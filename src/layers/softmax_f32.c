/* The categorical's negative log-likelihood and its gradient in float32, vectorised: the
 * event model's mark head has one logit per mark (8,227 on Wiki), and libm's scalar expf,
 * twice per logit, was 40% of a Wiki training step. The same loops compiled for each
 * instruction-set path, chosen at run time (aaren_isa), as in gelu_f32.c (and with its
 * -fno-trapping-math); exp_f32 in place of expf.
 * Sums run in 8 fixed lanes then a fixed tree, so a result does not depend on the vector
 * width; the paths differ only where the compiler contracts a product and a sum into one
 * FMA. The float64 reference stays lnmix.inc's (libm's exp, one sequential sum). */
#include <math.h>
#include <stddef.h>
#include "kernels/kernels.h"
#include "layers/exp_f32.h"
#include "layers/layers.h"

#define LANES 8

/* z [C] logits, label in [0, C): returns log sum exp(z) - z[label]; dz [C] (may be NULL)
 * = softmax(z) - onehot(label). A nan or infinite logit gives nan (and dz all nan). */
#define SOFTMAX_NLL_KERNEL(SUFFIX, TARGET)                                                         \
    TARGET static float softmax_nll_##SUFFIX(const float *restrict z, int C, int label,             \
                                              float *restrict dz) {                                 \
        const int C8 = C - C % LANES;                                                               \
        float mx[LANES], s[LANES], chk[LANES];                                                      \
        for (int j = 0; j < LANES; j++) { mx[j] = z[0]; s[j] = 0.0f; chk[j] = 0.0f; }              \
        for (int k = 0; k < C8; k += LANES)                                                         \
            for (int j = 0; j < LANES; j++) mx[j] = z[k + j] > mx[j] ? z[k + j] : mx[j];            \
        for (int k = C8; k < C; k++) mx[0] = z[k] > mx[0] ? z[k] : mx[0];                           \
        float m = mx[0];                                                                            \
        for (int j = 1; j < LANES; j++) m = mx[j] > m ? mx[j] : m;                                  \
        /* chk: z * 0 is 0 for a finite z and nan for a nan or an infinity */                       \
        for (int k = 0; k < C8; k += LANES)                                                         \
            for (int j = 0; j < LANES; j++) {                                                       \
                s[j] += exp_f32(z[k + j] - m);                                                      \
                chk[j] += z[k + j] * 0.0f;                                                          \
            }                                                                                       \
        for (int k = C8; k < C; k++) {                                                              \
            s[k - C8] += exp_f32(z[k] - m);                                                         \
            chk[k - C8] += z[k] * 0.0f;                                                             \
        }                                                                                           \
        const float S = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));         \
        const float bad = ((chk[0] + chk[1]) + (chk[2] + chk[3])) + ((chk[4] + chk[5]) + (chk[6] + chk[7])); \
        if (bad != 0.0f) {   /* nan */                                                              \
            if (dz) for (int k = 0; k < C; k++) dz[k] = NAN;                                        \
            return NAN;                                                                             \
        }                                                                                           \
        const float lse = m + logf(S);                                                              \
        if (dz) {                                                                                   \
            for (int k = 0; k < C; k++) dz[k] = exp_f32(z[k] - lse);                                \
            dz[label] -= 1.0f;                                                                      \
        }                                                                                           \
        return lse - z[label];                                                                      \
    }

SOFTMAX_NLL_KERNEL(portable, )
#if defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)
#define HAVE_X86_SOFTMAX 1
SOFTMAX_NLL_KERNEL(avx2, __attribute__((target("avx2,fma"))))
#ifndef AAREN_NO_AVX512
#define HAVE_AVX512_SOFTMAX 1
SOFTMAX_NLL_KERNEL(avx512, __attribute__((target("avx512f"))))
#endif
#endif

float aaren_softmax_nll_f32_isa(int isa, const float *z, int C, int label, float *dz) {
#ifdef HAVE_AVX512_SOFTMAX
    if (isa == AAREN_ISA_AVX512) return softmax_nll_avx512(z, C, label, dz);
#endif
#ifdef HAVE_X86_SOFTMAX
    if (isa == AAREN_ISA_AVX2) return softmax_nll_avx2(z, C, label, dz);
#endif
    (void)isa;
    return softmax_nll_portable(z, C, label, dz);
}
