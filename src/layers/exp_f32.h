/* e^y in float32 for y <= 0, written so that a loop over it vectorises (libm's expf is a
 * scalar call per value); shared by the GELU and softmax kernels, which compile it for each
 * instruction-set path (see gelu_f32.c).
 * n = round(y / ln 2) by adding and subtracting 1.5 * 2^23, r = y - n ln 2 with ln 2 in two
 * parts, a degree-6 Taylor polynomial of e^r (|r| <= ln 2 / 2), times 2^n from its bits;
 * relative error about 2e-7 (checked against double in test_isa and test_layers). */
#ifndef AAREN_EXP_F32_H
#define AAREN_EXP_F32_H
#include <stdint.h>
#include <string.h>

/* e^y for y <= 0; 0 below -80 (e^-80 = 1.8e-35: GELU's gradient term x phi(x) is then below
 * 1e-33, a softmax term below float32's smallest normal). A nan y gives 0, so a caller that
 * must propagate nan checks for it itself (GELU's gradient is nan through y / x; the softmax
 * checks its inputs). */
static inline float exp_f32(float y0) {
    const float y = y0 >= -80.0f ? (y0 <= 0.0f ? y0 : 0.0f) : -80.0f;
    const float nf = (y * 1.4426950408889634f + 12582912.0f) - 12582912.0f;
    const float r = (y - nf * 0.693145751953125f) - nf * 1.428606765330187e-06f;
    float e = 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    const int32_t bits = ((int32_t)nf + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    const float v = e * two_n;
    return y0 >= -80.0f ? v : 0.0f;
}

#endif
