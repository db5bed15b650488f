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

#include "aaren_export.h"
#include "aaren_io.h"

#ifdef __cplusplus
extern "C" {
#endif

AAREN_API const char *aaren_version(void);
/* The matrix-product backend compiled in, and the OpenMP thread count in use. */
AAREN_API const char *aaren_backend(void);
AAREN_API int aaren_threads(void);
/* The CPU's model name ("unknown" when /proc/cpuinfo has none) and cores per socket (0 when
 * unknown), for printing beside measurements. */
AAREN_API void aaren_cpu_info(char *model, size_t len, int *cores);

/* ---- configuration -------------------------------------------------------------- */
/* AAREN_ARCH_*, AAREN_NORM_*, AAREN_GELU / RELU, AAREN_SCAN / NAIVE / FOLD and their names */
#include "aaren_enums.h"

#define AAREN_MAX_LAYERS 64

typedef struct {
    int arch;        /* AAREN_ARCH_AAREN or AAREN_ARCH_TRANSFORMER */
    int d_model, n_heads, n_layers, d_ff;
    int norm;        /* AAREN_NORM_POST (default) or AAREN_NORM_PRE */
    int activation;  /* AAREN_GELU (exact erf form, default) or AAREN_RELU */
    float ln_eps;    /* default 1e-5 */
} aaren_config;

AAREN_API aaren_config aaren_config_default(void);   /* aaren, 128 wide, 4 heads, 3 layers, d_ff 512 */
AAREN_API int aaren_config_check(const aaren_config *c, char *err, size_t errlen);

/* ---- model ------------------------------------------------------------------------ */
typedef struct aaren_model aaren_model;

/* Parameters allocated (zeros). NULL and a message on a bad config or no memory. */
AAREN_API aaren_model *aaren_model_new(const aaren_config *c, char *err, size_t errlen);
/* The same with n_extra more parameters (and gradients) after the encoder's in the same
 * blocks, for a task's embeddings and heads: one optimizer then updates everything. */
AAREN_API aaren_model *aaren_model_new_ext(const aaren_config *c, size_t n_extra, char *err, size_t errlen);
AAREN_API void aaren_model_free(aaren_model *m);
AAREN_API const aaren_config *aaren_model_config(const aaren_model *m);
/* PyTorch-style initialisation from a seed: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * biases 0, LayerNorm (1, 0), Aaren queries N(0, 1). */
AAREN_API void aaren_model_init(aaren_model *m, uint64_t seed);

/* Named parameter tensors, in checkpoint order. */
AAREN_API int aaren_model_n_tensors(const aaren_model *m);
AAREN_API const char *aaren_model_tensor_name(const aaren_model *m, int i);
/* Tensor i's parameters (or gradients, NULL before reserve with grads); shape[0..ndim). */
AAREN_API float *aaren_model_tensor(const aaren_model *m, int i, int *ndim, int64_t shape[2]);
AAREN_API float *aaren_model_grad_tensor(const aaren_model *m, int i);
AAREN_API size_t aaren_model_n_params(const aaren_model *m);       /* the encoder's */
AAREN_API size_t aaren_model_n_extra(const aaren_model *m);
AAREN_API size_t aaren_model_n_trainable(const aaren_model *m);   /* n_params + n_extra */
AAREN_API float *aaren_model_params(const aaren_model *m);   /* all parameters, one block (encoder, then extra) */
AAREN_API float *aaren_model_grads(const aaren_model *m);    /* all gradients, same layout */
AAREN_API float *aaren_model_extra(const aaren_model *m);    /* the task's part of the parameter block */
AAREN_API float *aaren_model_extra_grads(const aaren_model *m);

/* Allocates activations for up to max_batch x max_tokens (and gradients when
 * with_grads). Calling again with other sizes replaces the activations. */
AAREN_API int aaren_model_reserve(aaren_model *m, int max_batch, int max_tokens, int with_grads,
                        char *err, size_t errlen);
/* Bytes held: parameters, gradients, activations (including backward scratch). */
AAREN_API void aaren_model_memory(const aaren_model *m, size_t *params, size_t *grads, size_t *acts);

/* y [B, N, d_model] = encoder(x [B, N, d_model]); y may not alias x. B, N within the
 * reserved sizes. Evaluation: no dropout. */
AAREN_API int aaren_model_forward(aaren_model *m, float *y, const float *x, int B, int N, int path,
                        char *err, size_t errlen);
/* Dropout of a training forward: probability p after attention and after the feed-forward
 * network of every block, masks drawn from seed (a new seed each step). p = 0: none. */
typedef struct {
    float p;
    uint64_t seed;
} aaren_dropout;
/* A training forward: aaren_model_forward with dropout drop (NULL: none). The model remembers
 * drop until its next forward, so that the backward of this forward applies the same masks. */
AAREN_API int aaren_model_forward_train(aaren_model *m, float *y, const float *x, int B, int N, int path,
                                        const aaren_dropout *drop, char *err, size_t errlen);
/* After a forward with path SCAN (or FOLD): adds dL/dparams into the gradients and, when
 * dx is non-NULL, writes dL/dx [B, N, d_model] given dy = dL/dy. */
AAREN_API int aaren_model_backward(aaren_model *m, float *dx, const float *dy, char *err, size_t errlen);
AAREN_API void aaren_model_zero_grad(aaren_model *m);

/* Checkpoints: the encoder's tensors are `layers.*` and `final_norm.*`, the config lives
 * in `aaren.*` metadata; other tensors in the file are ignored here (tasks read them). */
AAREN_API aaren_model *aaren_model_from_st(const aaren_st *st, const char *path, char *err, size_t errlen);
AAREN_API int aaren_model_to_st(const aaren_model *m, aaren_st *st);      /* adds/replaces tensors + metadata */
AAREN_API aaren_model *aaren_model_load(const char *path, char *err, size_t errlen);
AAREN_API int aaren_model_save(const aaren_model *m, const char *path, char *err, size_t errlen);

/* ---- streaming: one token at a time, one stream or a batch ---------------------------
 * A stream object holds n_streams independent streams (a batch of users) of one model.
 * Aaren keeps n_layers * n_heads * (d_h + 2) floats of state per stream, whatever the
 * position. The Transformer keeps a KV cache of 2 * n_layers * d_model floats per token
 * seen, per stream, up to max_tokens per stream (given at creation).
 *
 * A batch step feeds one token to every stream as the rows of one matrix product per
 * weight matrix, so the weights are read once per call, not once per stream. A prefill
 * feeds many tokens of one stream through the parallel path (Aaren: the prefix scan
 * continued from the stream's state; Transformer: causal attention over its cache), in
 * passes of at most prefill_chunk tokens, and leaves the state that stepping those tokens
 * one by one leaves (equal to float32 rounding). Steps and prefills mix freely.
 *
 * Functions named *_one act on stream i (0 <= i < n_streams); the others act on the whole
 * batch, which for n_streams = 1 is the one stream. Nothing is allocated after creation. */
typedef struct aaren_stream aaren_stream;

enum { AAREN_PREFILL_CHUNK = 256 };   /* prefill_chunk of aaren_stream_new */

/* The stream reads the model's parameters (which must outlive it) and allocates its state
 * and scratch once. max_tokens is the Transformer's KV-cache capacity per stream (ignored
 * for Aaren). Scratch holds max(n_streams, prefill_chunk) rows of activations
 * ([rows, d_model] and [rows, d_ff]); prefill_chunk = 1 gives the smallest stream.
 * aaren_stream_new is aaren_stream_new_batch(m, 1, max_tokens, AAREN_PREFILL_CHUNK). */
AAREN_API aaren_stream *aaren_stream_new(const aaren_model *m, long max_tokens, char *err, size_t errlen);
AAREN_API aaren_stream *aaren_stream_new_batch(const aaren_model *m, int n_streams, long max_tokens,
                                     int prefill_chunk, char *err, size_t errlen);
AAREN_API void aaren_stream_free(aaren_stream *s);
AAREN_API int aaren_stream_n_streams(const aaren_stream *s);
/* Back to position 0: every stream, or stream i (non-zero when i is out of range). */
AAREN_API void aaren_stream_reset(aaren_stream *s);
AAREN_API int aaren_stream_reset_one(aaren_stream *s, int i);

/* y [n_streams, d_model] = encoder output at each stream's next position given
 * x [n_streams, d_model] (row i belongs to stream i). Non-zero, and no stream changed,
 * when a Transformer stream's cache is full. aaren_stream_step is the same call (for one
 * stream, x and y are [d_model]). y may equal x. */
AAREN_API int aaren_stream_step_batch(aaren_stream *s, const float *x, float *y, char *err, size_t errlen);
AAREN_API int aaren_stream_step(aaren_stream *s, const float *x, float *y, char *err, size_t errlen);
/* Steps stream i only: x, y [d_model]. */
AAREN_API int aaren_stream_step_one(aaren_stream *s, int i, const float *x, float *y, char *err, size_t errlen);
/* Steps k distinct streams (streams[r] for row r; NULL: streams 0..k-1) as one batch:
 * x, y [k, d_model]. Non-zero, and no stream changed, on a bad or repeated index or a
 * full cache. */
AAREN_API int aaren_stream_step_some(aaren_stream *s, const int *streams, int k, const float *x, float *y,
                           char *err, size_t errlen);
/* Feeds N tokens x [N, d_model] to stream i from its current position; y [N, d_model]
 * receives the outputs, or NULL when only the state is wanted (then the last layer's
 * feed-forward and, for the Transformer, its attention are skipped). Non-zero, and
 * nothing changed, on a bad index or when a Transformer stream's cache cannot take N more
 * tokens. Aaren: the scan scratch is sized for the OpenMP thread count at creation; a
 * prefill after raising it is refused. */
AAREN_API int aaren_stream_prefill(aaren_stream *s, int i, const float *x, long N, float *y,
                         char *err, size_t errlen);

/* Tokens seen: by stream 0, or by stream i (-1 when i is out of range). */
AAREN_API long aaren_stream_position(const aaren_stream *s);
AAREN_API long aaren_stream_position_one(const aaren_stream *s, int i);
/* Bytes of recurrent state now (Aaren: constant; Transformer: grows with position), summed
 * over the batch, or of stream i; and of everything the stream object allocated (state
 * capacity of every stream and scratch). */
AAREN_API size_t aaren_stream_state_bytes(const aaren_stream *s);
AAREN_API size_t aaren_stream_state_bytes_one(const aaren_stream *s, int i);
AAREN_API size_t aaren_stream_alloc_bytes(const aaren_stream *s);
/* Serialise the state (position and recurrent state) to bytes and back; a state only
 * loads into a stream of a model with the same shape. A stream's record is a header and
 * its state; the batch's state is the n_streams records one after another (so for one
 * stream both are the same bytes, and a record taken from one batch loads into any
 * stream of another). state_size gives the bytes get writes now; get returns the bytes
 * written (0 when cap is too small or buf is NULL); set returns 0 on success and changes
 * nothing on failure. */
AAREN_API size_t aaren_stream_state_size(const aaren_stream *s);
AAREN_API size_t aaren_stream_state_size_one(const aaren_stream *s, int i);
AAREN_API size_t aaren_stream_get_state(const aaren_stream *s, void *buf, size_t cap);
AAREN_API int aaren_stream_set_state(aaren_stream *s, const void *buf, size_t len, char *err, size_t errlen);
AAREN_API size_t aaren_stream_get_state_one(const aaren_stream *s, int i, void *buf, size_t cap);
AAREN_API int aaren_stream_set_state_one(aaren_stream *s, int i, const void *buf, size_t len,
                               char *err, size_t errlen);

/* ---- optimisation --------------------------------------------------------------------- */
enum { AAREN_SCHED_CONSTANT = 0, AAREN_SCHED_COSINE = 1, AAREN_SCHED_STEP = 2 };

typedef struct {
    float lr;             /* peak learning rate */
    float beta1, beta2, eps;
    float weight_decay;   /* decoupled (AdamW), applied where the decay mask is set */
    float clip_norm;      /* clip the global gradient norm to this; 0: no clipping */
    long warmup_steps;    /* linear warm-up from lr / warmup_steps to lr */
    long total_steps;     /* the cosine schedule reaches min_lr_frac * lr here */
    int schedule;         /* AAREN_SCHED_*, after warm-up */
    float min_lr_frac;    /* cosine floor, as a fraction of lr */
    long step_size;       /* step schedule: multiply by gamma every step_size steps */
    float gamma;
} aaren_optim_config;

/* lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, clip 1.0, no warm-up, cosine to
 * 0.1 lr over total_steps = 1000, step decay gamma 0.5 every 1000 steps. */
AAREN_API aaren_optim_config aaren_optim_default(void);
/* Learning rate at step (0-based). */
AAREN_API float aaren_lr_at(const aaren_optim_config *c, long step);

/* AdamW over one block of n parameters. Its state (first and second moments, decay mask)
 * is one allocation; a step allocates nothing. */
typedef struct aaren_adamw aaren_adamw;
AAREN_API aaren_adamw *aaren_adamw_new(size_t n, const aaren_optim_config *c, char *err, size_t errlen);
AAREN_API void aaren_adamw_free(aaren_adamw *o);
/* Weight decay on parameters [offset, offset + len) (default: everywhere). */
AAREN_API void aaren_adamw_set_decay(aaren_adamw *o, size_t offset, size_t len, int on);
/* Clips grads (in place) to the configured global norm, then updates params with the
 * learning rate of the current step and advances the step. Returns the norm before
 * clipping (NaN or Inf when the gradients are not finite: then nothing is updated). */
AAREN_API float aaren_adamw_step(aaren_adamw *o, float *params, float *grads);
AAREN_API long aaren_adamw_steps(const aaren_adamw *o);
AAREN_API const aaren_optim_config *aaren_adamw_config(const aaren_adamw *o);
/* Moments and step count, for checkpoints: m and v are n floats each. */
AAREN_API float *aaren_adamw_moment(aaren_adamw *o, int which);   /* 0: first, 1: second */
AAREN_API void aaren_adamw_set_steps(aaren_adamw *o, long steps);

/* ---- sequence model: embedding -> encoder -> head ----------------------------------------
 * pred [B, N, d_out] = head(encoder(embed(x [B, N, d_in]))), embed and head linear. Its
 * parameters live in the encoder's block (after the encoder's), as tensors embed.weight
 * [d_model, d_in], embed.bias, head.weight [d_out, d_model], head.bias. */
enum { AAREN_LOSS_MSE = 0, AAREN_LOSS_CE = 1, AAREN_LOSS_CUSTOM = 2 };
typedef struct aaren_seqmodel aaren_seqmodel;

AAREN_API aaren_seqmodel *aaren_seqmodel_new(const aaren_config *c, int d_in, int d_out, char *err, size_t errlen);
AAREN_API void aaren_seqmodel_free(aaren_seqmodel *sm);
AAREN_API aaren_model *aaren_seqmodel_encoder(const aaren_seqmodel *sm);
AAREN_API int aaren_seqmodel_d_in(const aaren_seqmodel *sm);
AAREN_API int aaren_seqmodel_d_out(const aaren_seqmodel *sm);
/* Encoder init as aaren_model_init; embedding and head U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
AAREN_API void aaren_seqmodel_init(aaren_seqmodel *sm, uint64_t seed);
/* Weight decay applies to weight matrices only (not biases, norms, queries): sets o's mask. */
AAREN_API void aaren_seqmodel_decay_mask(const aaren_seqmodel *sm, aaren_adamw *o);
AAREN_API int aaren_seqmodel_reserve(aaren_seqmodel *sm, int max_batch, int max_tokens, int with_grads,
                           char *err, size_t errlen);
/* Returns the predictions [B, N, d_out] (owned by sm, valid until the next forward), or NULL
 * with a message. x must stay valid until backward. */
AAREN_API const float *aaren_seqmodel_forward(aaren_seqmodel *sm, const float *x, int B, int N, int path,
                                    char *err, size_t errlen);
/* Many-to-one: the head only at each sequence's last valid token (lengths [B], NULL: all
 * N). Returns predictions [B, d_out]; the losses then take one target row per sequence
 * (last_only is implied). Costs one head product per sequence instead of per token. */
AAREN_API const float *aaren_seqmodel_forward_last(aaren_seqmodel *sm, const float *x, int B, int N,
                                         const int *lengths, int path, char *err, size_t errlen);
/* Either forward for training: last_only 0 as aaren_seqmodel_forward, 1 as _forward_last,
 * with dropout drop (NULL: none) in the encoder, remembered for the backward. */
AAREN_API const float *aaren_seqmodel_forward_train(aaren_seqmodel *sm, const float *x, int B, int N, const int *lengths,
                                                    int last_only, int path, const aaren_dropout *drop, char *err,
                                                    size_t errlen);
/* Loss of the last forward, and its gradient kept for backward. lengths [B]: valid tokens
 * of each sequence (NULL: all N); positions past a length count for nothing.
 * many-to-many (last_only 0): every valid position; many-to-one (1): the last valid one.
 * MSE: target [B, N, d_out] (or [B, d_out] when last_only), mean over the counted values.
 * CE: labels [B, N] (or [B]) class indices in 0..d_out-1, mean over counted positions. */
AAREN_API float aaren_seqmodel_loss_mse(aaren_seqmodel *sm, const float *target, const int *lengths, int last_only);
AAREN_API float aaren_seqmodel_loss_ce(aaren_seqmodel *sm, const int *labels, const int *lengths, int last_only);
/* For a loss of the caller's own: returns the gradient buffer [B, N, d_out] of the last
 * forward, zeroed, for the caller to fill with dL/dpred before backward. */
AAREN_API float *aaren_seqmodel_grad_output(aaren_seqmodel *sm);
/* Adds the loss gradient into the parameter gradients (zero them first). */
AAREN_API int aaren_seqmodel_backward(aaren_seqmodel *sm, char *err, size_t errlen);
/* Checkpoint: the encoder's tensors and metadata plus embed.* / head.* and seq.d_in/d_out. */
AAREN_API int aaren_seqmodel_to_st(const aaren_seqmodel *sm, aaren_st *st);
AAREN_API aaren_seqmodel *aaren_seqmodel_from_st(const aaren_st *st, const char *path, char *err, size_t errlen);
/* One token through a stream of the encoder (one-stream object): pred [d_out] from x [d_in]. */
AAREN_API int aaren_seqmodel_stream_step(aaren_seqmodel *sm, aaren_stream *s, const float *x, float *pred,
                               char *err, size_t errlen);

/* ---- training ---------------------------------------------------------------------------- */
/* A batch of a training step and its loss. With last_only the forward applies the head at
 * each sequence's last valid token only (aaren_seqmodel_forward_last) and the loss takes one
 * row per sequence. AAREN_LOSS_CUSTOM: loss_fn(b, pred, grad) gets the batch (its loss_ctx
 * for the caller's data), the predictions pred [rows, d_out] (rows: B with last_only, else
 * B * N) and a zeroed grad of the same shape to fill with dL/dpred; it returns the loss. */
typedef struct aaren_batch aaren_batch;
struct aaren_batch {
    const float *x;        /* [B, N, d_in] */
    int B, N;
    const float *target;   /* MSE: [B, N, d_out] or [B, d_out] (last_only) */
    const int *labels;     /* CE: [B, N] or [B] */
    const int *lengths;    /* [B] valid tokens, or NULL */
    int loss;              /* AAREN_LOSS_MSE, AAREN_LOSS_CE or AAREN_LOSS_CUSTOM */
    int last_only;         /* many-to-one */
    double (*loss_fn)(const aaren_batch *b, const float *pred, float *grad);
    void *loss_ctx;
};

/* The gradient part of a step: forward (parallel path, dropout drop, NULL: none), the loss,
 * backward; the loss's gradients are added to the model's (zero them first). *loss receives
 * the loss. 0, or -1 with a message. Every task's batch for aaren_fit that trains a sequence
 * model is this call. */
AAREN_API int aaren_train_grads(aaren_seqmodel *sm, const aaren_batch *b, const aaren_dropout *drop, double *loss,
                                char *err, size_t errlen);
/* One optimisation step: zero gradients, aaren_train_grads with dropout (dropout, step_seed),
 * clip, AdamW. Returns the loss (NaN with a message on failure); *grad_norm receives the
 * norm before clipping. */
AAREN_API float aaren_train_step(aaren_seqmodel *sm, aaren_adamw *o, const aaren_batch *b, float dropout,
                       uint64_t step_seed, float *grad_norm, char *err, size_t errlen);

/* Checkpoint of a training run: the model (as aaren_seqmodel_to_st), the optimizer's
 * moments and step count, plus metadata given as n_meta key/value pairs. */
AAREN_API int aaren_train_save(const char *path, const aaren_seqmodel *sm, aaren_adamw *o,
                     const char *const *meta_kv, int n_meta, char *err, size_t errlen);
/* Restores the model parameters and the optimizer state saved by aaren_train_save into an
 * existing model and optimizer of the same shape (train.step: an integer from 0 to 10^12);
 * st receives the file (for its metadata; free it with aaren_st_free). */
AAREN_API int aaren_train_load(const char *path, aaren_seqmodel *sm, aaren_adamw *o, aaren_st *st,
                     char *err, size_t errlen);

/* Progress of a run: a line every `every` steps (step, loss, lr, tokens/s, ETA) and, when
 * the stream is a terminal, a progress bar redrawn in place between lines. */
typedef struct {
    long total, every;
    long first;            /* steps done before this process (a resumed run): ETA from the rest */
    double t0, last_draw;
    long tokens;
    int tty;
    void *stream;          /* FILE* */
} aaren_progress;
AAREN_API void aaren_progress_start(aaren_progress *p, long total, long every, void *stream);
AAREN_API void aaren_progress_update(aaren_progress *p, long step, float loss, float lr, long tokens);
AAREN_API void aaren_progress_finish(aaren_progress *p);

/* ---- more than one machine: data-parallel runs over MPI ---------------------------------
 * Built with MPI (found by CMake; AAREN_USE_MPI), `mpirun -np P aaren <training command>` runs
 * P processes (ranks) that split every global batch (aaren_fit's grad_shards); built without
 * it, one process is the whole world. */
/* MPI_Init when built with MPI and started by a launcher (mpirun); 0 or -1 */
AAREN_API int aaren_dist_init(int *argc, char ***argv);
AAREN_API void aaren_dist_finalize(void);
/* A failed rank's way out: with more than one rank, MPI_Abort ends every rank of the job (none
 * is left waiting in a collective) and mpirun exits non-zero; returns at once otherwise. */
AAREN_API void aaren_dist_abort(int code);
AAREN_API int aaren_dist_available(void);   /* 1 when built with MPI */
AAREN_API int aaren_dist_rank(void);        /* 0 .. size - 1 (0 without MPI) */
AAREN_API int aaren_dist_size(void);        /* processes (1 without MPI) */
/* all [size * n] = every rank's mine [n] in rank order; 0 or -1. */
AAREN_API int aaren_dist_allgather(const float *mine, size_t n, float *all);
AAREN_API int aaren_dist_allgather_double(const double *mine, size_t n, double *all);
/* v [n] summed over the ranks, in place, in the MPI library's order; 0 or -1. */
AAREN_API int aaren_dist_allreduce_sum(float *v, size_t n);
/* Evaluation split across the ranks: this rank's contiguous part [*lo, *hi) of n blocks
 * (rank k takes [k n / P, (k + 1) n / P); one process takes them all). */
AAREN_API void aaren_dist_part(long n, long *lo, long *hi);
/* rows [n_blocks, m]: each rank has filled the rows of its part (aaren_dist_part) and left the
 * others zero. Afterwards every rank holds every row exactly (each came from one rank) and
 * total [m] = the rows summed in block order, so the result equals one process's to the last
 * bit whatever P. 0 or -1. */
AAREN_API int aaren_dist_block_sums(double *rows, long n_blocks, int m, double *total);
/* v [n] summed over the ranks in place (integer counts: exact in any order); 0 or -1. */
AAREN_API int aaren_dist_sum_long(long *v, size_t n);

/* ---- the training engine: the one loop every task runs ------------------------------------
 * A task supplies hooks; the engine owns the loop: epochs over shuffled examples (or a number
 * of steps of batches the task draws), dropout for each step's forward and backward, clipping
 * and AdamW, validation after each epoch with early stopping and the best weights restored,
 * divergence detection, the progress bar and ETA, a CSV log of every step and evaluation, and
 * checkpoints that resume a run to the last bit (model, optimizer moments, step, the example
 * order and random state, early-stopping state), each written all or nothing. */
enum { AAREN_FIT_METRICS = 6 };
typedef struct {
    double score;          /* lower is better (e.g. MSE, NLL, or -accuracy) */
    double tie;            /* breaks equal scores, lower is better (e.g. the loss) */
    int n;                 /* metrics to show and log */
    const char *name[AAREN_FIT_METRICS];
    double value[AAREN_FIT_METRICS];
} aaren_fit_eval;

typedef struct {
    void *ctx;
    aaren_model *model;    /* the parameters and gradients the optimizer updates */
    aaren_adamw *opt;      /* the task's optimizer over them (schedule, clipping, decay mask) */
    long n_train;          /* > 0: epochs over examples 0..n_train-1 in shuffled batches;
                              0: the task draws each batch itself from *rng */
    /* One batch: forward with the dropout drop the engine gives for this step (to pass to
     * aaren_train_grads, aaren_seqmodel_forward_train or aaren_model_forward_train), loss,
     * backward into the model's gradients (zeroed by the engine). idx[0..B) are the
     * examples (NULL when n_train is 0: draw B from *rng). Sets *loss (the batch's mean) and
     * *tokens (for tokens/s). 0; 1 when the batch holds nothing to learn from (no optimizer
     * step is taken); -1 with a message. */
    int (*batch)(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                 char *err, size_t errlen);
    /* Validation after each epoch (NULL: none; the epoch's training loss decides then). 0,
     * or -1 with a message. */
    int (*validate)(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen);
    /* The task's own tensors and metadata for a checkpoint, so that a run checkpoint is also
     * the task's model file (NULL: none). 0, or -1 when out of memory. */
    int (*save)(void *ctx, aaren_st *st);
    const char *name;      /* the task, for messages and the log ("forecast") */
    /* 1: the batch's loss is a mean over its tokens (as *tokens counts them), not over its
     * examples, so gradient shards weigh by their tokens' share of the global batch (and a
     * batch without tokens takes no step); 0: by their examples' share. */
    int weight_by_tokens;
} aaren_fit_task;

/* Where a run reports and keeps its state (all optional; zeroed: silent, no files). */
typedef struct {
    long save_every;       /* > 0: a checkpoint every this many steps (and at every epoch's end) */
    const char *save;      /* the run checkpoint, also the task's model file (NULL: none) */
    const char *resume;    /* a run checkpoint to continue from (NULL: start afresh) */
    const char *log;       /* CSV log of steps and evaluations (NULL: none); cut back and appended on resume */
    const char *options;   /* the run's options as text, kept in checkpoints (NULL: none) */
    FILE *progress;        /* progress bar and epoch lines (NULL: silent) */
    long log_every;        /* progress lines every this many steps (0: epoch lines only) */
    long stop_after;       /* > 0: end this call after this many more steps, with a checkpoint (a long run in
                              shards, or a kill simulated for tests of resume) */
    int grad_shards;       /* the global batch computed as this many shards (0: one per rank),
                              a multiple of the ranks; their gradients, weighted by their share
                              of the batch, are summed in shard order. Shards on one process
                              are gradient accumulation; a run on P ranks with S shards equals
                              the run on one process with S shards, to the last bit, when
                              deterministic_reduce is set (else to float32 rounding) */
    int deterministic_reduce;   /* gather every shard's gradient and sum in shard order */
} aaren_fit_io;

typedef struct {
    int epochs;            /* > 0 with n_train > 0: at most this many epochs */
    long steps_per_epoch;  /* 0: a full pass (the last batch may be smaller); else at most this many */
    long steps;            /* n_train == 0: optimizer steps in all */
    int batch;
    int patience;          /* stop after this many epochs without validation improvement; 0: never */
    float dropout;
    uint64_t seed;         /* example order, dropout masks and the task's draws */
    uint64_t order_salt;   /* mixed into the seed of the example order (tasks differ) */
    aaren_fit_io io;
    /* Runs of steps (n_train == 0) only; NULL: none. Called with the task's ctx after every
     * optimizer step with the steps done so far (a resumed run counts from its start); nonzero
     * ends the run with its message. For evaluations during training: it must change neither
     * the model nor the optimizer, and the engine's random state is not its to draw from. */
    int (*after_step)(void *ctx, long step, char *err, size_t errlen);
} aaren_fit_options;

typedef struct {
    long steps;            /* optimizer steps of the whole run */
    int epochs_run, best_epoch;
    double best_score, best_tie;   /* the best epoch's validation (or training loss) */
    int n_best;            /* its metrics (0 without validation) */
    char best_name[AAREN_FIT_METRICS][32];
    double best_value[AAREN_FIT_METRICS];
    double last_loss;      /* mean training loss of the last epoch, or of the last log_every steps */
    double seconds;        /* of this call */
    double tokens_per_s;   /* of this call's steps, as the task counts tokens */
    double reduce_seconds; /* of this call, in the gradient and loss exchange across ranks (0 on one) */
    int stopped;           /* 1 when stop_after ended the call before the run's end */
} aaren_fit_result;

AAREN_API void aaren_fit_options_init(aaren_fit_options *o);   /* 1 epoch, batch 32, patience 0, seed 1 */
/* A task's run: epochs (> 0, over examples) or steps (epochs 0, task-drawn batches), the batch,
 * patience, dropout, seed and the task's order salt, with io (NULL: silent). */
AAREN_API aaren_fit_options aaren_fit_options_for(int epochs, long steps, int batch, int patience, float dropout, uint64_t seed,
                                        uint64_t order_salt, const aaren_fit_io *io);
/* Appends a named metric to an evaluation (ignored past AAREN_FIT_METRICS). */
AAREN_API void aaren_fit_eval_add(aaren_fit_eval *ev, const char *name, double value);
/* Runs (or, with resume, continues) the loop; with validation the model ends with its best
 * weights. 0, or -1 with a message (a diverged loss names the step and suggests a lower
 * learning rate). */
AAREN_API int aaren_fit(const aaren_fit_task *t, const aaren_fit_options *o, aaren_fit_result *r, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
