/* Model layers: each a forward and a backward on float* with explicit sizes.
 * Backward functions ADD into parameter gradients and into input gradients (din +=),
 * so residual branches and shared inputs need no special care; callers zero once.
 * Declared in float32 (plain names) and float64 (_f64 suffix, used by gradient checks). */
#ifndef AAREN_LAYERS_H
#define AAREN_LAYERS_H
#include <stddef.h>
#include <stdint.h>
#include "kernels/kernels.h"

enum { AAREN_ACT_GELU = 0, AAREN_ACT_RELU = 1 };
/* Which attention implementation a forward pass uses. */
enum { AAREN_PATH_SCAN = 0, AAREN_PATH_NAIVE = 1, AAREN_PATH_FOLD = 2 };

#undef AAREN_F64
#include "kernels/precision.h"
#include "layers_decl.inc"
#define AAREN_F64
#include "kernels/precision.h"
#include "layers_decl.inc"
#undef AAREN_F64
#include "kernels/precision_end.h"
#endif
