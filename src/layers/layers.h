/* Model layers: each a forward and a backward on float* with explicit sizes.
 * Backward functions ADD into parameter gradients and into input gradients (din +=),
 * so residual branches and shared inputs need no special care; callers zero once.
 * Declared in float32 (plain names) and float64 (_f64 suffix, used by gradient checks). */
#ifndef AAREN_LAYERS_H
#define AAREN_LAYERS_H
#include <stddef.h>
#include <stdint.h>
#include "aaren_enums.h"   /* activations (AAREN_GELU / RELU) and attention paths (AAREN_SCAN / NAIVE / FOLD) */
#include "kernels/kernels.h"

/* GELU in float32 with a vectorised erf (gelu_f32.c; absolute error <= 1.6e-7 relative to
 * max(1, |x|)); out and in must not overlap. aaren_act_forward uses it for float32. */
void aaren_gelu_f32(float *out, const float *in, size_t n);
void aaren_gelu_f32_portable(float *out, const float *in, size_t n);   /* without the AVX2 path (tests) */
/* out [n] = GELU(in + b), b [n] (may be NULL: no bias): the bias and the activation in one
 * pass; out must not overlap in or b. */
void aaren_bias_gelu_f32(float *out, const float *in, const float *b, size_t n);
/* d [n] *= GELU'(in + b) given out = GELU(in + b) (the float32 kernel's value; b may be
 * NULL): the activation's backward in place, vectorised likewise (its own exp in place of
 * libm's scalar expf; error <= 3e-7 max(1, |x|) against double); d must not overlap the
 * others. The _isa variants take the instruction-set path explicitly (kernels.h: aaren_isa;
 * it must be supported). */
void aaren_gelu_grad_f32(float *d, const float *in, const float *b, const float *out, size_t n);
void aaren_bias_gelu_f32_isa(int isa, float *out, const float *in, const float *b, size_t n);
void aaren_gelu_grad_f32_isa(int isa, float *d, const float *in, const float *b, const float *out, size_t n);
/* The categorical's NLL, log sum exp(z) - z[label], and dz [C] = softmax(z) - onehot(label)
 * (dz may be NULL), vectorised with exp_f32 (softmax_f32.c); nan for a nan or infinite logit.
 * aaren_softmax_nll (float32) calls it with aaren_isa(); the _f64 reference is libm's. */
float aaren_softmax_nll_f32_isa(int isa, const float *z, int C, int label, float *dz);

#undef AAREN_F64
#include "kernels/precision.h"
#include "layers_decl.inc"
#define AAREN_F64
#include "kernels/precision.h"
#include "layers_decl.inc"
#undef AAREN_F64
#include "kernels/precision_end.h"
#endif
