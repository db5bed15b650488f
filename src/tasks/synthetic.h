/* Synthetic sequence tasks with known answers, for tests and the demonstration. */
#ifndef AAREN_SYNTHETIC_H
#define AAREN_SYNTHETIC_H
#include <stdint.h>
#include "aaren.h"

/* Running maximum of a noisy signal. Input x_t = z_t + 0.1 e_t with z_t, e_t ~ N(0, 1)
 * (d_in = 1); target y_t = max_{j <= t} z_j (d_out = 1): the model must see through the
 * noise and remember the largest value so far. A batch is a pure function of
 * (seed, step): runs are reproducible and resumable without generator state.
 * x, y: [B, N, 1]. */
void aaren_synth_running_max(float *x, float *y, int B, int N, uint64_t seed, long step);

/* MSE of the best input-independent predictor (the per-position mean of the target), and
 * of the best "last input" predictor (y_t = max of the inputs so far, noise included),
 * estimated on n_batches fresh batches. */
void aaren_synth_running_max_baselines(int B, int N, uint64_t seed, int n_batches,
                                       double *mse_mean, double *mse_noisy_max);

/* Training a sequence model (linear embedding, the encoder, linear head) on the task. */
typedef struct aaren_synth_options {
    aaren_config cfg;            /* aaren, 32 wide, 2 heads, 2 layers, d_ff 64, post-norm, GELU */
    aaren_optim_config opt;      /* lr 3e-3, warm-up 30 steps, cosine, weight decay 0.01, clip 1 */
    long steps;                  /* 300 */
    int batch, tokens;           /* 32 sequences of 64 tokens */
    float dropout;               /* 0 */
    uint64_t seed;               /* 1 */
} aaren_synth_options;
void aaren_synth_options_init(aaren_synth_options *o);

typedef struct {
    double eval_mse;             /* on fresh sequences (never trained on) */
    double train_seconds, tokens_per_s;
    long steps;                  /* steps of the whole run */
    int stopped;                 /* io->stop_after ended this call early */
} aaren_synth_result;

/* Trains (or, with io->resume, continues) through aaren_fit; each step's batch is drawn from
 * the engine's random state. Returns the model (free with aaren_seqmodel_free), or NULL with
 * a message. */
aaren_seqmodel *aaren_synth_train(const aaren_synth_options *o, const aaren_fit_io *io, aaren_synth_result *r,
                                  char *err, size_t errlen);
/* MSE of sm on 8 fresh batches of B x N (path AAREN_SCAN / NAIVE / FOLD); NaN with a message. */
double aaren_synth_eval_mse(aaren_seqmodel *sm, int B, int N, uint64_t seed, int path, char *err, size_t errlen);
#endif
