/* aaren in float64: the same encoder stack computed in double precision, for gradient checks
 * (finite differences, PyTorch's torch.autograd.gradcheck) and as an exact reference for the
 * float32 library. Slower than float32 and not for production runs.
 *
 * The parameters are one block of aaren_model_n_params values in the float32 model's layout:
 * tensor i of a float32 model of the same config (aaren_model_tensor) starts at the same
 * offset from aaren_model_params there as it does from aaren_model_params_f64 here. Calls as
 * the float32 ones (aaren.h): reserve before forward, backward after a forward with path
 * AAREN_SCAN or AAREN_FOLD, gradients added into the gradient block (zero them first). */
#ifndef AAREN_F64_H
#define AAREN_F64_H

#include <stddef.h>
#include <stdint.h>

#include "aaren.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aaren_model_f64 aaren_model_f64;

/* Parameters allocated (zeros); set them through aaren_model_params_f64. */
AAREN_API aaren_model_f64 *aaren_model_new_f64(const aaren_config *c, char *err, size_t errlen);
AAREN_API void aaren_model_free_f64(aaren_model_f64 *m);
AAREN_API size_t aaren_model_n_params_f64(const aaren_model_f64 *m);
AAREN_API double *aaren_model_params_f64(const aaren_model_f64 *m);
/* The gradient block (NULL before a reserve with gradients). */
AAREN_API double *aaren_model_grads_f64(const aaren_model_f64 *m);
AAREN_API int aaren_model_reserve_f64(aaren_model_f64 *m, int max_batch, int max_tokens, int with_grads, char *err,
                                      size_t errlen);
/* y [B, N, d_model] = encoder(x [B, N, d_model]). */
AAREN_API int aaren_model_forward_f64(aaren_model_f64 *m, double *y, const double *x, int B, int N, int path,
                                      char *err, size_t errlen);
/* dx [B, N, d_model] (NULL: not wanted) from dy of the last forward; parameter gradients added. */
AAREN_API int aaren_model_backward_f64(aaren_model_f64 *m, double *dx, const double *dy, char *err, size_t errlen);
AAREN_API void aaren_model_zero_grad_f64(aaren_model_f64 *m);

#ifdef __cplusplus
}
#endif
#endif
