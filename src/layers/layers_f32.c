/* float32 instantiation of the layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layers/layers.h"
#include "model/rng.h"
#include "kernels/parallel.h"

#include "kernels/precision.h"
#include "layers.inc"
#include "lnmix.inc"
