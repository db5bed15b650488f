/* Decision models as batched streams (tasks/dt_stream.h, what aaren serve runs), both
 * architectures: three episodes of different targets stepped together through one batch
 * object (slots in a shuffled order, three aaren_stream_step_some calls per step) give the
 * actions of the full-stream agent (aaren_dt_agent) run on each episode alone, and those of
 * the parallel model over the whole history so far (aaren_dt_predict); the spec reads the
 * model's sizes from its checkpoint and refuses a file that is not a decision model. The same
 * for a behaviour-cloning model (no return tokens: two steps per episode step, the
 * return-to-go token not fed; the spec says so). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/rng.h"
#include "tasks/dt_stream.h"

enum { NO = 3, NA = 2, EPS = 3, LEN = 14 };

/* A small data set (random states, actions and rewards) for the model's statistics. */
static void make_data(aaren_d4rl *d) {
    aaren_d4rl_alloc(d, 4L * 20, NO, NA, 1);
    uint64_t r = 5;
    for (long i = 0; i < d->n; i++) {
        for (int k = 0; k < NO; k++) d->observations[i * NO + k] = (float)(1.5 * aaren_rng_normal(&r) + k);
        for (int a = 0; a < NA; a++) d->actions[i * NA + a] = (float)tanh(aaren_rng_normal(&r));
        d->rewards[i] = (float)aaren_rng_normal(&r);
        if (i % 20 == 19) d->timeouts[i] = 1;
    }
    aaren_d4rl_split(d);
}

static void run_arch(int arch, int bc, const aaren_d4rl *d) {
    char err[512] = "";
    aaren_dt_options o;
    aaren_dt_options_init(&o);
    o.enc.arch = arch;
    o.enc.d_model = 16;
    o.enc.n_heads = 2;
    o.enc.n_layers = 2;
    o.enc.d_ff = 32;
    o.K = 4;
    o.rtg_scale = 50;
    o.seed = 9 + (uint64_t)arch;
    o.no_returns = bc;
    aaren_dt *made = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    CHECK(made != NULL, "arch %d: model: %s", arch, err);
    if (!made) return;
    const char *path = check_tmp_path("dt.safetensors");
    CHECK(aaren_dt_save(made, path, err, sizeof err) == 0, "arch %d: save: %s", arch, err);
    aaren_dt_free(made);
    aaren_dt *m = aaren_dt_load(path, err, sizeof err);
    CHECK(m != NULL, "arch %d: load: %s", arch, err);
    if (!m) { remove(path); return; }
    aaren_dt_stream_spec s;
    CHECK(aaren_dt_stream_spec_get(path, m, &s, err, sizeof err) == 0, "arch %d: spec: %s", arch, err);
    CHECK(s.no_returns == bc, "arch %d bc %d: the spec's no_returns is %d", arch, bc, s.no_returns);
    CHECK(s.obs_dim == NO && s.act_dim == NA && s.d_model == 16 && s.rtg_scale == 50 && s.target == 3600,
          "arch %d: the spec's sizes, scale and hopper's target: %d %d %d %g %g", arch, s.obs_dim, s.act_dim, s.d_model,
          (double)s.rtg_scale, s.target);

    /* episodes: observations, rewards, targets */
    static float obs[EPS][LEN][NO];
    static double rew[EPS][LEN];
    const double target[EPS] = {3600, 120.5, -40};
    uint64_t r = 31 + (uint64_t)arch;
    for (int e = 0; e < EPS; e++)
        for (int t = 0; t < LEN; t++) {
            for (int k = 0; k < NO; k++) obs[e][t][k] = (float)(2 * aaren_rng_normal(&r));
            rew[e][t] = 3 * aaren_rng_normal(&r);
        }

    /* reference 1: the full-stream agent, each episode alone */
    static float ref[EPS][LEN][NA];
    aaren_dt_agent *ag = aaren_dt_agent_new(m, AAREN_DT_FULL, err, sizeof err);
    CHECK(ag != NULL, "arch %d: agent: %s", arch, err);
    for (int e = 0; ag && e < EPS; e++) {
        aaren_dt_agent_reset(ag, target[e]);
        for (int t = 0; t < LEN; t++) {
            if (t && aaren_dt_agent_reward(ag, rew[e][t], err, sizeof err)) CHECK(0, "agent reward: %s", err);
            if (aaren_dt_agent_act(ag, obs[e][t], ref[e][t], err, sizeof err)) CHECK(0, "agent act: %s", err);
        }
    }
    aaren_dt_agent_free(ag);

    /* the batched streams: episode e in slot slot_of[e] */
    const int slot_of[EPS] = {2, 0, 1};
    aaren_stream *bs = aaren_stream_new_batch(aaren_dt_encoder(m), EPS, 3L * LEN, 1, err, sizeof err);
    CHECK(bs != NULL, "arch %d: batch object: %s", arch, err);
    float xr[EPS * 16], xs[EPS * 16], y[EPS * 16], act[EPS * NA], mu[EPS], rs[EPS], sn[NO], ob[EPS * NO];
    double rtg[EPS];
    long ts[EPS];
    double worst = 0, worst_par = 0;
    for (int e = 0; e < EPS; e++) rtg[e] = target[e];
    for (int t = 0; bs && t < LEN; t++) {
        for (int e = 0; e < EPS; e++) {
            if (t) rtg[e] -= rew[e][t];
            memcpy(ob + e * NO, obs[e][t], sizeof(float) * NO);
            ts[e] = t;
        }
        aaren_dt_stream_tokens(&s, EPS, rtg, ob, ts, xr, xs, mu, rs, sn);
        int ok = (s.no_returns || aaren_stream_step_some(bs, slot_of, EPS, xr, y, err, sizeof err) == 0) &&
                 aaren_stream_step_some(bs, slot_of, EPS, xs, y, err, sizeof err) == 0;
        aaren_dt_stream_actions(&s, EPS, y, ts, act, xr, mu, rs);
        ok = ok && aaren_stream_step_some(bs, slot_of, EPS, xr, y, err, sizeof err) == 0;
        CHECK(ok, "arch %d: step %d: %s", arch, t, err);
        for (int e = 0; e < EPS; e++)
            for (int a = 0; a < NA; a++) worst = fmax(worst, fabs((double)act[e * NA + a] - ref[e][t][a]));
        for (int e = 0; e < EPS; e++)
            CHECK(aaren_stream_position_one(bs, slot_of[e]) == (bc ? 2L : 3L) * (t + 1), "arch %d: %s tokens per step", arch,
                  bc ? "two" : "three");
    }
    /* reference 2: the parallel model over the whole history of episode 1 at every step */
    CHECK(aaren_dt_reserve(m, LEN, err, sizeof err) == 0, "arch %d: reserve: %s", arch, err);
    {
        float h_rtg[LEN], h_obs[LEN * NO], h_act[LEN * NA], out[NA];
        int h_ts[LEN];
        double left = target[1];
        for (int t = 0; t < LEN; t++) {
            if (t) left -= rew[1][t];
            h_rtg[t] = (float)left;
            memcpy(h_obs + t * NO, obs[1][t], sizeof(float) * NO);
            memcpy(h_act + t * NA, ref[1][t], sizeof(float) * NA);
            h_ts[t] = t;
            if (aaren_dt_predict(m, h_rtg, h_obs, h_act, h_ts, t + 1, out, err, sizeof err)) CHECK(0, "predict: %s", err);
            for (int a = 0; a < NA; a++) worst_par = fmax(worst_par, fabs((double)out[a] - ref[1][t][a]));
        }
    }
    CHECK(worst <= 2e-6, "arch %d bc %d: batched streams give the full-stream agent's actions (worst %.2e)", arch, bc, worst);
    CHECK(worst_par <= 2e-5, "arch %d: ... and those of the parallel model over the history (worst %.2e)", arch, worst_par);
    /* a non-trivial check: the targets change the actions */
    double spread = 0;
    for (int a = 0; a < NA; a++) spread = fmax(spread, fabs((double)ref[0][3][a] - ref[1][3][a]));
    CHECK(spread > 1e-6, "arch %d: the episodes' actions differ (%.2e)", arch, spread);
    aaren_stream_free(bs);
    /* an encoder-only checkpoint is not a decision model */
    aaren_model *plain = aaren_model_new(&o.enc, err, sizeof err);
    const char *enc = check_tmp_path("enc.safetensors");
    CHECK(plain && aaren_model_save(plain, enc, err, sizeof err) == 0, "encoder save: %s", err);
    aaren_dt_stream_spec s2;
    CHECK(aaren_dt_stream_spec_get(enc, m, &s2, err, sizeof err) == -1 && strstr(err, "enc.safetensors") &&
          strstr(err, "dt.obs_dim"), "arch %d: a file without the dt metadata is refused naming it: %s", arch, err);
    aaren_model_free(plain);
    remove(enc);
    remove(check_tmp_path("dt.safetensors"));
    aaren_dt_free(m);
}

int main(void) {
    aaren_d4rl d;
    make_data(&d);
    CHECK(aaren_dt_default_target(AAREN_ENV_HALFCHEETAH) == 12000 && aaren_dt_default_target(AAREN_ENV_ANT) == 6000,
          "default targets");
    for (int bc = 0; bc < 2; bc++)
        for (int arch = 0; arch < 2; arch++) run_arch(arch, bc, &d);
    aaren_d4rl_free(&d);
    check_tmp_cleanup();
    return check_done("test_dt_stream");
}
