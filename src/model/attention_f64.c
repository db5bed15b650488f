/* float64 instantiation of the stand-alone attention layer (aaren_attention.h). */
#include <stdlib.h>
#include <string.h>
#include "aaren_attention.h"
#include "base/common.h"
#include "layers/layers.h"
#define AAREN_F64
#include "kernels/precision.h"
#include "attention.inc"
