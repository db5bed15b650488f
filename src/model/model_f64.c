/* float64 instantiation of the encoder stack (reference for gradient checks). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "io/common.h"
#include "model/rng.h"
#define AAREN_F64
#include "kernels/precision.h"
#include "model.inc"
