/* float64 instantiation of the encoder stack (reference for gradient checks). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren_f64.h"
#include "model/model.h"
#include "base/common.h"
#include "base/rng.h"
#define AAREN_F64
#include "kernels/precision.h"
#include "model.inc"

/* The accessors of the public float64 API (aaren_f64.h). */
size_t aaren_model_n_params_f64(const aaren_model_f64 *m) { return m->n_params; }
double *aaren_model_params_f64(const aaren_model_f64 *m) { return m->params; }
double *aaren_model_grads_f64(const aaren_model_f64 *m) { return m->grads; }
