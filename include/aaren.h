/* aaren: attention as an RNN (Feng et al. 2024) in C.
 *
 * An encoder is a stack of residual blocks whose attention is either Aaren (one learned
 * query per layer, softmax over each prefix computed as a prefix scan) or causal softmax
 * self-attention (the Transformer baseline). Checkpoints are safetensors files laid out
 * as shared/docs/contract.md describes. Everything here is float32.
 *
 * Conventions: functions returning int give 0 on success and non-zero on failure, with a
 * one-line message written to err (errlen bytes). Arrays are row-major float*; shapes are
 * given in comments as [dims]. Nothing is allocated after *_reserve / *_new returns. */
#ifndef AAREN_H
#define AAREN_H

#include <stddef.h>
#include <stdint.h>

#include "aaren_io.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *aaren_version(void);
/* The matrix-product backend compiled in, and the OpenMP thread count in use. */
const char *aaren_backend(void);
int aaren_threads(void);

/* ---- configuration -------------------------------------------------------------- */
enum { AAREN_ARCH_AAREN = 0, AAREN_ARCH_TRANSFORMER = 1 };
enum { AAREN_NORM_POST = 0, AAREN_NORM_PRE = 1 };
enum { AAREN_GELU = 0, AAREN_RELU = 1 };
/* Attention path of a forward pass: the parallel scan (training path), the quadratic
 * reference, or (Aaren only) the sequential fold. */
enum { AAREN_SCAN = 0, AAREN_NAIVE = 1, AAREN_FOLD = 2 };

#define AAREN_MAX_LAYERS 64

typedef struct {
    int arch;        /* AAREN_ARCH_AAREN or AAREN_ARCH_TRANSFORMER */
    int d_model, n_heads, n_layers, d_ff;
    int norm;        /* AAREN_NORM_POST (default) or AAREN_NORM_PRE */
    int activation;  /* AAREN_GELU (exact erf form, default) or AAREN_RELU */
    float ln_eps;    /* default 1e-5 */
} aaren_config;

aaren_config aaren_config_default(void);   /* aaren, 128 wide, 4 heads, 3 layers, d_ff 512 */
int aaren_config_check(const aaren_config *c, char *err, size_t errlen);
const char *aaren_arch_name(int arch);

/* ---- model ------------------------------------------------------------------------ */
typedef struct aaren_model aaren_model;

/* Parameters allocated (zeros). NULL and a message on a bad config or no memory. */
aaren_model *aaren_model_new(const aaren_config *c, char *err, size_t errlen);
void aaren_model_free(aaren_model *m);
const aaren_config *aaren_model_config(const aaren_model *m);
/* PyTorch-style initialisation from a seed: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * biases 0, LayerNorm (1, 0), Aaren queries N(0, 1). */
void aaren_model_init(aaren_model *m, uint64_t seed);

/* Named parameter tensors, in checkpoint order. */
int aaren_model_n_tensors(const aaren_model *m);
const char *aaren_model_tensor_name(const aaren_model *m, int i);
/* Tensor i's parameters (or gradients, NULL before reserve with grads); shape[0..ndim). */
float *aaren_model_tensor(const aaren_model *m, int i, int *ndim, int64_t shape[2]);
float *aaren_model_grad_tensor(const aaren_model *m, int i);
size_t aaren_model_n_params(const aaren_model *m);
float *aaren_model_params(const aaren_model *m);   /* all parameters, one block */
float *aaren_model_grads(const aaren_model *m);    /* all gradients, same layout */

/* Allocates activations for up to max_batch x max_tokens (and gradients when
 * with_grads). Calling again with other sizes replaces the activations. */
int aaren_model_reserve(aaren_model *m, int max_batch, int max_tokens, int with_grads,
                        char *err, size_t errlen);
/* Bytes held: parameters, gradients, activations (including backward scratch). */
void aaren_model_memory(const aaren_model *m, size_t *params, size_t *grads, size_t *acts);

/* y [B, N, d_model] = encoder(x [B, N, d_model]); y may not alias x. B, N within the
 * reserved sizes. */
int aaren_model_forward(aaren_model *m, float *y, const float *x, int B, int N, int path,
                        char *err, size_t errlen);
/* After a forward with path SCAN (or FOLD): adds dL/dparams into the gradients and, when
 * dx is non-NULL, writes dL/dx [B, N, d_model] given dy = dL/dy. */
int aaren_model_backward(aaren_model *m, float *dx, const float *dy, char *err, size_t errlen);
void aaren_model_zero_grad(aaren_model *m);
/* Training mode: dropout with probability p after attention and after the feed-forward
 * network of every block, masks drawn from seed (use a new seed each step; backward
 * reuses the last forward's). p = 0 (the default) is evaluation mode. */
void aaren_model_set_dropout(aaren_model *m, float p, uint64_t seed);

/* Checkpoints: the encoder's tensors are `layers.*` and `final_norm.*`, the config lives
 * in `aaren.*` metadata; other tensors in the file are ignored here (tasks read them). */
aaren_model *aaren_model_from_st(const aaren_st *st, const char *path, char *err, size_t errlen);
int aaren_model_to_st(const aaren_model *m, aaren_st *st);      /* adds/replaces tensors + metadata */
aaren_model *aaren_model_load(const char *path, char *err, size_t errlen);
int aaren_model_save(const aaren_model *m, const char *path, char *err, size_t errlen);

/* ---- streaming: one token at a time -------------------------------------------------
 * Aaren keeps n_layers * n_heads * (d_h + 2) floats of state per stream, whatever the
 * position. The Transformer keeps a KV cache of 2 * n_layers * d_model floats per token
 * seen, up to max_tokens (given at creation). */
typedef struct aaren_stream aaren_stream;

/* The stream reads the model's parameters (which must outlive it) and allocates its state
 * and scratch once. max_tokens is the Transformer's KV-cache capacity (ignored for Aaren). */
aaren_stream *aaren_stream_new(const aaren_model *m, long max_tokens, char *err, size_t errlen);
void aaren_stream_free(aaren_stream *s);
void aaren_stream_reset(aaren_stream *s);
/* y [d_model] = encoder output at the next position given x [d_model]. Non-zero when a
 * Transformer stream's cache is full. */
int aaren_stream_step(aaren_stream *s, const float *x, float *y, char *err, size_t errlen);
long aaren_stream_position(const aaren_stream *s);
/* Bytes of recurrent state now (Aaren: constant; Transformer: grows with position), and
 * of everything the stream allocated (state capacity and scratch). */
size_t aaren_stream_state_bytes(const aaren_stream *s);
size_t aaren_stream_alloc_bytes(const aaren_stream *s);
/* Serialise the state (position and recurrent state) to bytes and back; a state only
 * loads into a stream of a model with the same shape. get returns the bytes written
 * (0 when cap is too small); set returns 0 on success. */
size_t aaren_stream_get_state(const aaren_stream *s, void *buf, size_t cap);
int aaren_stream_set_state(aaren_stream *s, const void *buf, size_t len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
