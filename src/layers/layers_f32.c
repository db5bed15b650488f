/* float32 instantiation of the layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layers.h"
#include "base/rng.h"
#include "base/parallel.h"

#include "kernels/precision.h"
#include "layers.inc"
#include "lnmix.inc"
