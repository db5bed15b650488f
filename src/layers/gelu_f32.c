/* GELU in float32, 0.5 x (1 + erf(x / sqrt 2)), with an erf of our own that vectorises
 * (libm's erff is a scalar call per value: it was half of a training step's forward time).
 * CMake compiles this file with -fno-trapping-math (it changes no result: it lets the
 * compiler evaluate both sides of the selects below in vector lanes); on x86-64 the same
 * loops compiled for AVX2 + FMA and for AVX-512F, the path chosen at run time (aaren_isa:
 * the best the CPU has, or AAREN_ISA's).
 * The gradient, d GELU / dx = y / x + x phi(x) (y = GELU(x), phi the Gaussian density; 1/2
 * at x = 0), likewise, with exp_f32 below in place of libm's scalar expf.
 *
 * erf_f32: absolute error at most 1.6e-7 on [-12, 12] (checked against double erf in
 * test_layers; libm's erff: 3e-8):
 *   |x| <= 1:          x P(x^2), P of degree 6, least-squares fit to erf(x)/x (fit error 1.3e-9);
 *   1 < |x| < 3.9375:  1 - exp(Q(|x| - 2.46875)), Q of degree 9 fitted to log erfc (5e-9);
 *   beyond:            +-1 (erfc(3.9375) = 2.4e-8, below half an ulp of 1).
 * exp_f32: layers/exp_f32.h. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kernels/kernels.h"
#include "layers/layers.h"
#include "layers/exp_f32.h"

static inline float erf_f32(float x) {
    const float a = fabsf(x), u = a * a;
    float p = 7.9334939427710776e-05f;
    p = p * u - 0.00080348466661965187f;
    p = p * u + 0.005191218379117013f;
    p = p * u - 0.026855399452889853f;
    p = p * u + 0.11283625725101259f;
    p = p * u - 0.37612629877676917f;
    p = p * u + 1.1283791665931535f;
    const float small = p * a;
    const float s = a - 2.46875f;
    float q = -5.6058256369052289e-08f;
    q = q * s + 1.6384832324650577e-06f;
    q = q * s - 1.3425776838586367e-05f;
    q = q * s + 8.0254004304304628e-05f;
    q = q * s - 0.00043542276553729266f;
    q = q * s + 0.0022320714816528912f;
    q = q * s - 0.011133001185992624f;
    q = q * s - 0.94286288178619071f;
    q = q * s - 5.2937194603822109f;
    q = q * s - 7.6404654410128057f;
    /* exp_f32 keeps q in [-80, 0]: a nan q (from a nan x; the result is then nan through x
     * itself) or one below -80 gives mid = 1 in float32, as erfc is below 1e-35 there. For
     * 1 < |x| < 3.9375, q is already inside (log erfc there lies in [-17, -1.8]). */
    const float mid = 1.0f - exp_f32(q);
    const float big = a < 3.9375f ? mid : 1.0f;
    const float v = a <= 1.0f ? small : big;
    return x < 0 ? -v : v;
}

/* the loops every path compiles: out = GELU(in + b), and d *= GELU'(x + b) given
 * y = GELU(x + b); b [n] may be NULL (no bias) */
#define GELU_LOOP(out, in, b, n)                                                                   \
    do {                                                                                           \
        if (b)                                                                                     \
            for (size_t i = 0; i < (n); i++) {                                                     \
                const float x = (in)[i] + (b)[i];                                                  \
                (out)[i] = 0.5f * x * (1.0f + erf_f32(x * 0.70710678118654752f));                 \
            }                                                                                      \
        else                                                                                       \
            for (size_t i = 0; i < (n); i++)                                                       \
                (out)[i] = 0.5f * (in)[i] * (1.0f + erf_f32((in)[i] * 0.70710678118654752f));       \
    } while (0)
static inline float gelu_grad_f32(float x, float y) {
    return (x != 0 ? y / x : 0.5f) + x * 0.39894228040143267794f * exp_f32(-0.5f * x * x);
}
#define GELU_GRAD_LOOP(d, in, b, out, n)                                                           \
    do {                                                                                           \
        if (b)                                                                                     \
            for (size_t i = 0; i < (n); i++) (d)[i] *= gelu_grad_f32((in)[i] + (b)[i], (out)[i]);  \
        else                                                                                       \
            for (size_t i = 0; i < (n); i++) (d)[i] *= gelu_grad_f32((in)[i], (out)[i]);           \
    } while (0)

/* one function per path and kernel: NAME_portable, NAME_avx2, NAME_avx512 */
#define GELU_KERNELS(SUFFIX, TARGET)                                                               \
    TARGET static void gelu_##SUFFIX(float *restrict out, const float *restrict in,                \
                                      const float *restrict b, size_t n) {                         \
        GELU_LOOP(out, in, b, n);                                                                  \
    }                                                                                              \
    TARGET static void gelu_grad_##SUFFIX(float *restrict d, const float *restrict in,             \
                                          const float *restrict b, const float *restrict out,      \
                                          size_t n) {                                              \
        GELU_GRAD_LOOP(d, in, b, out, n);                                                          \
    }

GELU_KERNELS(portable, )
#if defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)
#define HAVE_X86_GELU 1
GELU_KERNELS(avx2, __attribute__((target("avx2,fma"))))
#ifndef AAREN_NO_AVX512
#define HAVE_AVX512_GELU 1
GELU_KERNELS(avx512, __attribute__((target("avx512f"))))
#endif
#endif

void aaren_gelu_f32_portable(float *out, const float *in, size_t n) { gelu_portable(out, in, NULL, n); }

void aaren_bias_gelu_f32_isa(int isa, float *out, const float *in, const float *b, size_t n) {
#ifdef HAVE_AVX512_GELU
    if (isa == AAREN_ISA_AVX512) { gelu_avx512(out, in, b, n); return; }
#endif
#ifdef HAVE_X86_GELU
    if (isa == AAREN_ISA_AVX2) { gelu_avx2(out, in, b, n); return; }
#endif
    (void)isa;
    gelu_portable(out, in, b, n);
}

void aaren_gelu_f32(float *out, const float *in, size_t n) { aaren_bias_gelu_f32_isa(aaren_isa(), out, in, NULL, n); }
void aaren_bias_gelu_f32(float *out, const float *in, const float *b, size_t n) {
    aaren_bias_gelu_f32_isa(aaren_isa(), out, in, b, n);
}

void aaren_gelu_grad_f32_isa(int isa, float *d, const float *in, const float *b, const float *out, size_t n) {
#ifdef HAVE_AVX512_GELU
    if (isa == AAREN_ISA_AVX512) { gelu_grad_avx512(d, in, b, out, n); return; }
#endif
#ifdef HAVE_X86_GELU
    if (isa == AAREN_ISA_AVX2) { gelu_grad_avx2(d, in, b, out, n); return; }
#endif
    (void)isa;
    gelu_grad_portable(d, in, b, out, n);
}

void aaren_gelu_grad_f32(float *d, const float *in, const float *b, const float *out, size_t n) {
    aaren_gelu_grad_f32_isa(aaren_isa(), d, in, b, out, n);
}
