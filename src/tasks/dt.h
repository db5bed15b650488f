/* Offline RL: the Decision Transformer (Chen et al. 2021) around the shared encoder, and
 * Decision Aaren, the same model with Aaren attention (the only difference).
 *
 * Step t of a trajectory gives three tokens, in this order:
 *   R_t  (return-to-go / rtg_scale)  ->  LN(W_R R_t + b_R + T[t])
 *   s_t  ((s_t - mean) / std)        ->  LN(W_s s_t + b_s + T[t])
 *   a_t                              ->  LN(W_a a_t + b_a + T[t])
 * with T [max_ep_len, D] a learned time-step embedding and LN one shared LayerNorm (the
 * embedding norm). The encoder is causal; the action a_t is predicted from the encoder's
 * output at the s_t token as tanh(W_h h + b_h). Loss: the mean squared action error.
 *
 * Behaviour cloning (options.no_returns, the baseline): the same network without the R_t
 * tokens, so a step is (s_t, a_t), K steps 2 K tokens, the action still from the s_t token's
 * output; W_R and b_R stay in the parameter block (one layout) but take no part. Training,
 * prediction, every agent and aaren_dt_stream_* take that layout from the model (its
 * checkpoint records it as dt.no_returns = 1), and ignore any target return.
 *
 * Training windows: a data row is drawn uniformly (so trajectories come in proportion to
 * their length) and the window is up to K steps from there to the trajectory's end. Short
 * windows are padded AFTER their tokens: the encoder is causal, so padding never reaches a
 * real position and no attention mask is needed. mean / std are the data set's observation
 * statistics. Optimisation: AdamW, linear warm-up, gradient norm clipping, dropout.
 *
 * Evaluation: condition on a target return, step the environment, subtract each reward
 * from the return-to-go. Three ways to run the model (aaren_dt_agent):
 *   AAREN_DT_RECOMPUTE  the parallel model over the last K steps, recomputed every step (the
 *                       original Decision Transformer's evaluation; any architecture);
 *   AAREN_DT_STREAMS    Aaren only: the same K-step window through the streaming API, with K
 *                       streams started one step apart (the one started K - 1 steps ago holds
 *                       exactly the window), stepped together as one batch: constant memory;
 *   AAREN_DT_FULL       one stream over the whole episode, no window (Aaren: constant memory;
 *                       the Transformer would need a KV cache that grows with the episode). */
#ifndef AAREN_DT_H
#define AAREN_DT_H
#include <stdio.h>
#include "aaren.h"
#include "data/d4rl.h"
#include "rl/env.h"

typedef struct {
    aaren_config enc;        /* [arch, 128 wide, 1 head, 3 layers, d_ff 512, pre-norm, GELU] */
    int K;                   /* context steps [20] */
    int batch;               /* [64] */
    long steps;              /* updates [10000] */
    long warmup;             /* linear warm-up steps [10000, capped at steps / 10] */
    float lr, weight_decay, clip, dropout;   /* [1e-4, 1e-4, 0.25, 0.1] */
    float rtg_scale;         /* [1000] */
    uint64_t seed;           /* [1] */
    int no_returns;          /* 1: behaviour cloning, the same network without return-to-go tokens
                                (a step is its state and action tokens, K steps 2 K tokens; the
                                action still from the state token's output) [0] */
} aaren_dt_options;

void aaren_dt_options_init(aaren_dt_options *o);

enum { AAREN_DT_MAX_EP_LEN = 1000 };

typedef struct aaren_dt aaren_dt;

/* A model for data d of environment env (observation statistics from d). */
aaren_dt *aaren_dt_new(const aaren_d4rl *d, aaren_env_kind env, const aaren_dt_options *o, char *err, size_t errlen);
aaren_dt *aaren_dt_load(const char *path, char *err, size_t errlen);
int aaren_dt_save(const aaren_dt *m, const char *path, char *err, size_t errlen);
void aaren_dt_free(aaren_dt *m);
aaren_model *aaren_dt_encoder(const aaren_dt *m);
/* The task's own parameters (the encoder's extra block, saved as the tensor dt.params): these
 * tensors back to back, in this order: W_R [D, 1], b_R [D], W_s [D, obs_dim], b_s [D], W_a
 * [D, act_dim], b_a [D], T [AAREN_DT_MAX_EP_LEN, D], the embedding norm's weight and bias [D],
 * W_h [act_dim, D], b_h [act_dim], then the observation mean and std [obs_dim] (not trained). */
enum { AAREN_DT_WR, AAREN_DT_BR, AAREN_DT_WS, AAREN_DT_BS, AAREN_DT_WA, AAREN_DT_BA, AAREN_DT_T, AAREN_DT_LNW,
       AAREN_DT_LNB, AAREN_DT_WH, AAREN_DT_BH, AAREN_DT_MEAN, AAREN_DT_STD, AAREN_DT_TENSORS };
/* Offsets of those tensors for width D and obs_dim, act_dim: off[i] is where tensor i starts,
 * off[AAREN_DT_TENSORS] the block's length (also returned). */
size_t aaren_dt_layout(int D, int obs_dim, int act_dim, size_t off[AAREN_DT_TENSORS + 1]);
aaren_env_kind aaren_dt_env(const aaren_dt *m);
int aaren_dt_K(const aaren_dt *m);
/* 1 for a behaviour-cloning model (no return tokens: its actions ignore any target return). */
int aaren_dt_no_returns(const aaren_dt *m);

/* Runs the model's steps of training on d (the data it was made for) through aaren_fit
 * (checkpoints, resume, log and progress as io says; NULL: silent). Returns 0 or -1. */
int aaren_dt_train(aaren_dt *m, const aaren_d4rl *d, const aaren_fit_io *io, char *err, size_t errlen);
/* As aaren_dt_train, and after every `every` updates (every > 0; counted from the run's start,
 * so a resumed run keeps the count) calls after(ctx, m, updates done, err, errlen); nonzero
 * ends training with its message. `after` must leave m unchanged (evaluate a copy made with
 * aaren_dt_copy_for_eval): the training draws its own random state, so the weights at the end
 * are those of the run without the calls, bit for bit. */
typedef int (*aaren_dt_step_fn)(void *ctx, const aaren_dt *m, long updates, char *err, size_t errlen);
int aaren_dt_train_every(aaren_dt *m, const aaren_d4rl *d, const aaren_fit_io *io, long every, aaren_dt_step_fn after,
                         void *ctx, char *err, size_t errlen);
/* A copy of m's weights for evaluation (activations for one window, no gradients, no
 * optimizer): agents made from it leave m as it was. Free with aaren_dt_free. */
aaren_dt *aaren_dt_copy_for_eval(const aaren_dt *m, char *err, size_t errlen);
/* Gradients (into the encoder's gradient block) of the mean squared action error on one
 * batch drawn with seed, without dropout and without a step; returns the loss (for tests). */
double aaren_dt_batch_grad(aaren_dt *m, const aaren_d4rl *d, uint64_t seed, char *err, size_t errlen);
/* One update as aaren_dt_train's engine makes it at step `step` (0-based; warm-up and dropout
 * follow it): zero the gradients, draw the windows with *rng, forward with the options'
 * dropout, loss, backward, clip and AdamW. For benchmarks: phase_s (NULL: not timed) gets the
 * seconds of its AAREN_DT_PHASES phases: drawing and embedding the windows, the encoder's
 * forward, the action head and loss, the encoder's backward, the embeddings' backward, the
 * optimizer (zeroing the gradients included). The data's returns-to-go are summed on the first
 * call with d and kept for the next ones with the same d. Returns the loss; NaN with a message
 * on error. */
enum { AAREN_DT_PHASES = 6 };
double aaren_dt_update(aaren_dt *m, const aaren_d4rl *d, uint64_t *rng, long step, double *phase_s, char *err,
                       size_t errlen);
/* The mean squared action error on n_windows windows of d drawn with seed (no dropout). */
double aaren_dt_action_mse(aaren_dt *m, const aaren_d4rl *d, int n_windows, uint64_t seed, char *err, size_t errlen);

/* Actions from the parallel model: history of L steps (rtg [L] raw returns-to-go (not read,
 * and may be NULL, for a model without return tokens), obs
 * [L, obs_dim] raw observations, act [L - 1, act_dim], timesteps [L]); writes the action
 * for step L - 1 into out [act_dim]. L <= the reserved tokens / 3 + 1 (K for a trained model;
 * aaren_dt_reserve raises it). */
int aaren_dt_predict(aaren_dt *m, const float *rtg, const float *obs, const float *act, const int *timesteps, int L,
                     float *out, char *err, size_t errlen);
/* Makes room for parallel predictions over histories of up to L steps (one sequence). */
int aaren_dt_reserve(aaren_dt *m, int L, char *err, size_t errlen);

enum { AAREN_DT_RECOMPUTE = 0, AAREN_DT_STREAMS = 1, AAREN_DT_FULL = 2 };
const char *aaren_dt_mode_name(int mode);

typedef struct aaren_dt_agent aaren_dt_agent;
/* A recompute agent shrinks the model's activations to one window without gradients, so a
 * model trains no more after one is made. Agents use the model's scratch: run the agents of
 * one model one at a time (from one thread). */
aaren_dt_agent *aaren_dt_agent_new(aaren_dt *m, int mode, char *err, size_t errlen);
void aaren_dt_agent_free(aaren_dt_agent *a);
/* A new episode conditioned on target_return. */
void aaren_dt_agent_reset(aaren_dt_agent *a, double target_return);
/* The action [act_dim] for observation obs [obs_dim] at the current step. */
int aaren_dt_agent_act(aaren_dt_agent *a, const float *obs, float *action, char *err, size_t errlen);
/* After the environment step: the reward received (the action was the last act's). */
int aaren_dt_agent_reward(aaren_dt_agent *a, double reward, char *err, size_t errlen);
/* Bytes the agent holds for its context: stream state (Aaren: constant) or the window's
 * history and activations (recompute). */
size_t aaren_dt_agent_bytes(const aaren_dt_agent *a);

typedef struct {
    double ret_mean, ret_std, score_mean, score_std, len_mean;
    double step_us;          /* mean wall time of act + reward per environment step */
    size_t agent_bytes;      /* at the end of the longest episode */
} aaren_dt_eval;

/* `episodes` episodes in the model's environment (model files from xml_dir) with the agent
 * mode; reset noise from seed. Returns 0 or -1. */
int aaren_dt_evaluate(aaren_dt *m, const char *xml_dir, int mode, double target_return, int episodes, uint64_t seed,
                      aaren_dt_eval *out, char *err, size_t errlen);
#endif
