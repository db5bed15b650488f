/* The encoder stack (internal view). The float32 model is the public aaren_model; the
 * float64 twin aaren_model_f64 exists for gradient checks against finite differences. */
#ifndef AAREN_MODEL_H
#define AAREN_MODEL_H
#include "aaren.h"
#include "layers/layers.h"

typedef struct {
    char name[64];
    int ndim;
    int64_t shape[2];
    size_t offset, size;     /* in elements, into the parameter block */
} aaren_param_entry;

/* Builds the checkpoint's tensor table for a config; returns the number of entries
 * (when table is non-NULL it must hold AAREN_MAX_LAYERS * 17 + 2 entries). */
int aaren_param_table(const aaren_config *c, aaren_param_entry *table, size_t *n_params);

#undef AAREN_F64
#include "kernels/precision.h"
#include "model_decl.inc"
#define AAREN_F64
#include "kernels/precision.h"
#include "model_decl.inc"
#undef AAREN_F64
#include "kernels/precision_end.h"
#endif
