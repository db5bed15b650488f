/* float64 instantiation of the layers (reference precision for the tests). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layers.h"
#include "base/rng.h"
#include "base/parallel.h"
#define AAREN_F64
#include "kernels/precision.h"
#include "layers.inc"
#include "lnmix.inc"
