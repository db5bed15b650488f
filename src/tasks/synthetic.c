/* Synthetic tasks (see synthetic.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/rng.h"
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

void aaren_synth_options_init(aaren_synth_options *o) {
    memset(o, 0, sizeof *o);
    const aaren_config c = {AAREN_ARCH_AAREN, 32, 2, 2, 64, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    o->cfg = c;
    o->opt = aaren_optim_default();
    o->opt.lr = 3e-3f;
    o->opt.warmup_steps = 30;
    o->steps = 300;
    o->opt.total_steps = o->steps;
    o->opt.step_size = o->steps / 3;
    o->batch = 32;
    o->tokens = 64;
    o->seed = 1;
}

double aaren_synth_eval_mse(aaren_seqmodel *sm, int B, int N, uint64_t seed, int path, char *err, size_t errlen) {
    enum { n_eval = 8 };
    float *x = malloc(sizeof(float) * (size_t)B * N), *y = malloc(sizeof(float) * (size_t)B * N);
    double rows[n_eval] = {0}, sum = 0;   /* each batch's MSE */
    long k0, k1;
    aaren_dist_part(n_eval, &k0, &k1);   /* under MPI each rank takes its part of the batches */
    int rc = x && y ? 0 : (aaren_errf(err, errlen, "running-max: out of memory"), -1);
    for (long k = k0; k < k1 && !rc; k++) {
        aaren_synth_running_max(x, y, B, N, seed ^ 0xE7A1ull, 2000000L + k);   /* far from any training draw */
        if (!aaren_seqmodel_forward(sm, x, B, N, path, err, errlen)) rc = -1;
        else rows[k] = aaren_seqmodel_loss_mse(sm, y, NULL, 0);
    }
    free(x);
    free(y);
    /* every rank takes part in the sum, even one that failed (the others would wait for it) */
    if (aaren_dist_block_sums(rows, n_eval, 1, &sum) && !rc) rc = -1, aaren_errf(err, errlen, "running-max: summing the evaluation across ranks failed");
    return rc ? NAN : sum / n_eval;
}

/* What the engine's batch hook needs. */
typedef struct {
    aaren_seqmodel *sm;
    const aaren_synth_options *o;
    float *x, *y;
} synth_run;

static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    synth_run *s = ctx;
    (void)idx;
    aaren_synth_running_max(s->x, s->y, B, s->o->tokens, s->o->seed, (long)(aaren_rng_next(rng) >> 24));
    const aaren_batch b = {s->x, B, s->o->tokens, s->y, NULL, NULL, AAREN_LOSS_MSE, 0, NULL, NULL};
    *tokens = (long)B * s->o->tokens;
    return aaren_train_grads(s->sm, &b, drop, loss, err, errlen);
}

static int fit_save(void *ctx, aaren_st *st) {
    return aaren_seqmodel_to_st(((synth_run *)ctx)->sm, st) || aaren_st_set_meta(st, "train.task", "running-max") ? -1 : 0;
}

aaren_seqmodel *aaren_synth_train(const aaren_synth_options *o, const aaren_fit_io *io, aaren_synth_result *r,
                                  char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    synth_run s = {aaren_seqmodel_new(&o->cfg, 1, 1, err, errlen), o, NULL, NULL};
    aaren_adamw *opt = NULL;
    s.x = malloc(sizeof(float) * (size_t)o->batch * o->tokens);
    s.y = malloc(sizeof(float) * (size_t)o->batch * o->tokens);
    int rc = -1;
    if (!s.sm) goto out;
    if (!s.x || !s.y) { aaren_errf(err, errlen, "running-max: out of memory"); goto out; }
    aaren_seqmodel_init(s.sm, o->seed);
    if (aaren_seqmodel_reserve(s.sm, o->batch, o->tokens, 1, err, errlen)) goto out;
    if (!(opt = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(s.sm)), &o->opt, err, errlen))) goto out;
    aaren_seqmodel_decay_mask(s.sm, opt);
    const aaren_fit_task t = {&s, aaren_seqmodel_encoder(s.sm), opt, 0, fit_batch, NULL, fit_save, "running-max", 0};
    const aaren_fit_options fo = aaren_fit_options_for(0, o->steps, o->batch, 0, o->dropout, o->seed, 7, io);
    aaren_fit_result fr;
    const double t0 = aaren_now_s();
    if (aaren_fit(&t, &fo, &fr, err, errlen)) goto out;
    r->train_seconds = aaren_now_s() - t0;
    r->steps = fr.steps;
    r->stopped = fr.stopped;
    r->tokens_per_s = fr.tokens_per_s;
    r->eval_mse = aaren_synth_eval_mse(s.sm, o->batch, o->tokens, o->seed, AAREN_SCAN, err, errlen);
    rc = isnan(r->eval_mse) ? -1 : 0;
out:
    aaren_adamw_free(opt);
    free(s.x);
    free(s.y);
    if (rc) {
        aaren_seqmodel_free(s.sm);
        return NULL;
    }
    return s.sm;
}
