/* Synthetic sequence tasks with known answers, for tests and the demonstration. */
#ifndef AAREN_SYNTHETIC_H
#define AAREN_SYNTHETIC_H
#include <stdint.h>

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
#endif
