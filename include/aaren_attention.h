/* One multi-head Aaren attention layer on its own (the attention of an encoder block, without
 * the block's residual, norms and feed-forward): out [B, N, D] at position t attends over the
 * tokens 1..t of x with one learned query,
 *   q = q_proj(query), s[b,h,t] = q_h . k_proj(x)[b,t,h] / sqrt(D/H),
 *   out = out_proj(concat_h sum_{i<=t} softmax_i(s[b,h,1..t]) v_proj(x)[b,i,h]),
 * computed by the parallel prefix scan, with its backward. For frameworks that hold the
 * layer's parameters themselves (aaren.torch.AarenAttention).
 *
 * Parameters are one block of aaren_attention_layer_n_params values, the tensors of an encoder's
 * layers.L.attn.* in checkpoint order: query [D], q_proj.weight [D, D], q_proj.bias [D], then
 * k_proj, v_proj and out_proj likewise (weights [out, in]). Calls as for the encoder (aaren.h):
 * reserve, forward, backward after a forward (dx written; parameter gradients added: zero them
 * first). The _f64 functions are the same layer in float64, for gradient checks. */
#ifndef AAREN_ATTENTION_H
#define AAREN_ATTENTION_H

#include <stddef.h>

#include "aaren_export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aaren_attention_layer aaren_attention_layer;
typedef struct aaren_attention_layer_f64 aaren_attention_layer_f64;

/* Parameters zero-filled; NULL with a message unless d_model >= 1 is a multiple of n_heads >= 1. */
AAREN_API aaren_attention_layer *aaren_attention_layer_new(int d_model, int n_heads, char *err, size_t errlen);
AAREN_API void aaren_attention_layer_free(aaren_attention_layer *a);
AAREN_API size_t aaren_attention_layer_n_params(const aaren_attention_layer *a);
AAREN_API float *aaren_attention_layer_params(const aaren_attention_layer *a);
AAREN_API float *aaren_attention_layer_grads(const aaren_attention_layer *a);
AAREN_API void aaren_attention_layer_zero_grad(aaren_attention_layer *a);
/* Buffers for up to max_batch x max_tokens (kept when already large enough). */
AAREN_API int aaren_attention_layer_reserve(aaren_attention_layer *a, int max_batch, int max_tokens, char *err, size_t errlen);
/* y [B, N, D] from x [B, N, D] (y may not alias x); keeps what backward needs. */
AAREN_API int aaren_attention_layer_forward(aaren_attention_layer *a, float *y, const float *x, int B, int N, char *err,
                                      size_t errlen);
/* dx [B, N, D] = dL/dx for dy = dL/dy of the last forward; dL/dparams added to the gradients. */
AAREN_API int aaren_attention_layer_backward(aaren_attention_layer *a, float *dx, const float *dy, char *err, size_t errlen);

AAREN_API aaren_attention_layer_f64 *aaren_attention_layer_new_f64(int d_model, int n_heads, char *err, size_t errlen);
AAREN_API void aaren_attention_layer_free_f64(aaren_attention_layer_f64 *a);
AAREN_API size_t aaren_attention_layer_n_params_f64(const aaren_attention_layer_f64 *a);
AAREN_API double *aaren_attention_layer_params_f64(const aaren_attention_layer_f64 *a);
AAREN_API double *aaren_attention_layer_grads_f64(const aaren_attention_layer_f64 *a);
AAREN_API void aaren_attention_layer_zero_grad_f64(aaren_attention_layer_f64 *a);
AAREN_API int aaren_attention_layer_reserve_f64(aaren_attention_layer_f64 *a, int max_batch, int max_tokens, char *err,
                                          size_t errlen);
AAREN_API int aaren_attention_layer_forward_f64(aaren_attention_layer_f64 *a, double *y, const double *x, int B, int N, char *err,
                                          size_t errlen);
AAREN_API int aaren_attention_layer_backward_f64(aaren_attention_layer_f64 *a, double *dx, const double *dy, char *err,
                                           size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
