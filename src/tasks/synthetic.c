/* Synthetic tasks (see synthetic.h). */
#include <math.h>
#include <stdlib.h>
#include "model/rng.h"
#include "tasks/synthetic.h"

void aaren_synth_running_max(float *x, float *y, int B, int N, uint64_t seed, long step) {
    for (int b = 0; b < B; b++) {
        uint64_t r = seed * 0x9E3779B97F4A7C15ull + (uint64_t)step * 0xBF58476D1CE4E5B9ull + (uint64_t)b * 0x94D049BB133111EBull;
        aaren_rng_next(&r);
        double mx = -INFINITY;
        for (int t = 0; t < N; t++) {
            const double z = aaren_rng_normal(&r), e = aaren_rng_normal(&r);
            if (z > mx) mx = z;
            x[(size_t)b * N + t] = (float)(z + 0.1 * e);
            y[(size_t)b * N + t] = (float)mx;
        }
    }
}

void aaren_synth_running_max_baselines(int B, int N, uint64_t seed, int n_batches,
                                       double *mse_mean, double *mse_noisy_max) {
    const size_t n = (size_t)B * N;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    double *sum = calloc((size_t)N, sizeof(double)), *sq = calloc((size_t)N, sizeof(double));
    double err_noisy = 0;
    for (int k = 0; k < n_batches && x && y && sum && sq; k++) {
        aaren_synth_running_max(x, y, B, N, seed ^ 0xBA5E11AEull, 1000000L + k);
        for (int b = 0; b < B; b++) {
            double mx = -INFINITY;
            for (int t = 0; t < N; t++) {
                const size_t i = (size_t)b * N + t;
                if (x[i] > mx) mx = x[i];
                err_noisy += (mx - y[i]) * (mx - y[i]);
                sum[t] += y[i];
                sq[t] += (double)y[i] * y[i];
            }
        }
    }
    double var = 0;
    const double cnt = (double)B * n_batches;
    for (int t = 0; t < N && sum && sq; t++) var += sq[t] / cnt - (sum[t] / cnt) * (sum[t] / cnt);
    *mse_mean = var / N;
    *mse_noisy_max = err_noisy / (cnt * N);
    free(x); free(y); free(sum); free(sq);
}
