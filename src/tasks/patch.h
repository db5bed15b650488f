/* The patch forecaster's network: one univariate series in, its forecast out, with the
 * encoder (Aaren or Transformer) as the backbone over patches of the lookback.
 *
 * For each series s of a batch, x[s] [L] (already normalised per series by the caller; RevIN
 * without its affine part):
 *   padded [L + stride]   = x followed by stride copies of its last value
 *   tokens [n, P]         = the n = (L - P) / stride + 2 windows of P values of padded that start
 *                           every stride steps (P = patch length)
 *   h0     [n, D]         = tokens W_p^T + b_p + pos           (W_p [D, P], b_p [D], pos [n, D])
 *   y      [n, D]         = encoder(h0)
 *   pred   [H]            = flatten(y) W_h^T + b_h             (W_h [H, n * D], b_h [H])
 * Batches are [S, L] in and [S, H] out; the encoder sees S sequences of n tokens. With the
 * Transformer backbone this is PatchTST's network, except that the library's Transformer
 * attends causally and normalises with LayerNorm (PatchTST: full attention, BatchNorm).
 *
 * Parameters: the encoder's, then the task's (patch.embed.weight, patch.embed.bias,
 * patch.pos, patch.head.weight, patch.head.bias) in the same block, so one optimizer
 * updates all. Nothing is allocated after aaren_patchmodel_reserve. */
#ifndef AAREN_TASKS_PATCH_H
#define AAREN_TASKS_PATCH_H
#include <stddef.h>
#include <stdint.h>
#include "aaren.h"

typedef struct aaren_patchmodel aaren_patchmodel;

/* Patches: 1 <= P <= L, 1 <= stride <= P. NULL and a message on bad sizes or no memory. */
aaren_patchmodel *aaren_patchmodel_new(const aaren_config *c, int L, int H, int P, int stride, char *err, size_t errlen);
void aaren_patchmodel_free(aaren_patchmodel *pm);
aaren_model *aaren_patchmodel_encoder(const aaren_patchmodel *pm);
int aaren_patchmodel_n_patches(const aaren_patchmodel *pm);
/* The encoder as aaren_model_init; W_p, W_h U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0,
 * pos U(-0.02, 0.02). */
void aaren_patchmodel_init(aaren_patchmodel *pm, uint64_t seed);
/* Activations for up to max_series series per batch (and gradients when with_grads). */
int aaren_patchmodel_reserve(aaren_patchmodel *pm, int max_series, int with_grads, char *err, size_t errlen);
/* The patches of one series: tokens [n, P] from x [L] (exposed for the tests). */
void aaren_patchmodel_unfold(const aaren_patchmodel *pm, const float *x, float *tokens);
/* pred [S, H] of x [S, L] (x must stay valid until backward). NULL and a message on error. */
const float *aaren_patchmodel_forward(aaren_patchmodel *pm, const float *x, int S, char *err, size_t errlen);
/* The same for training: dropout drop (NULL: none) in the encoder, remembered for the backward. */
const float *aaren_patchmodel_forward_train(aaren_patchmodel *pm, const float *x, int S, const aaren_dropout *drop, char *err,
                                            size_t errlen);
/* dL/dpred [S, H] of the last forward, zeroed, for the caller to fill before backward. */
float *aaren_patchmodel_grad_output(aaren_patchmodel *pm);
/* Adds dL/dparams into the encoder's gradient block (task part included). */
int aaren_patchmodel_backward(aaren_patchmodel *pm, char *err, size_t errlen);

/* Checkpoints: the encoder (aaren_model_to_st), the task's tensors and metadata patch.seq_len,
 * patch.pred_len, patch.len, patch.stride. */
int aaren_patchmodel_to_st(const aaren_patchmodel *pm, aaren_st *st);
aaren_patchmodel *aaren_patchmodel_from_st(const aaren_st *st, const char *path, char *err, size_t errlen);
#endif
