/* Decision Transformer / Decision Aaren (tasks/dt.h), both architectures:
 *  - the gradients of the task's own parameters (return, state and action embeddings, the
 *    time-step table, the embedding norm, the action head) against central differences;
 *  - behaviour cloning of a fixed linear policy on a small data set reaches a low action
 *    error (far below the actions' variance);
 *  - the agents give the actions of the parallel model over the same history: recompute and
 *    the K-stream window over the last K steps, the full stream over the whole history;
 *  - a checkpoint round trip predicts the same actions; bad checkpoints are refused;
 *  - all of the above also for the behaviour-cloning model (no return tokens, 2 tokens a
 *    step), whose actions do not change with the target return while the decision model's do;
 *  - evaluating copies of the model during training (aaren_dt_train_every) leaves training
 *    as it was: the final weights equal those of the run without it, bit for bit. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/rng.h"
#include "tasks/dt.h"

enum { NO = 4, NA = 2 };

/* Episodes of random-walk states with actions tanh(A s) from a fixed A; reward 1 - |a|^2. */
static void make_data(aaren_d4rl *d, int episodes, int len) {
    aaren_d4rl_alloc(d, (long)episodes * len, NO, NA, 1);
    static const float A[NA][NO] = {{0.8f, -0.5f, 0.3f, 0.0f}, {-0.2f, 0.4f, 0.9f, -0.6f}};
    uint64_t r = 77;
    for (int e = 0; e < episodes; e++) {
        float s[NO];
        for (int k = 0; k < NO; k++) s[k] = (float)aaren_rng_normal(&r);
        for (int t = 0; t < len; t++) {
            const long i = (long)e * len + t;
            memcpy(d->observations + i * NO, s, sizeof s);
            double n2 = 0;
            for (int a = 0; a < NA; a++) {
                double z = 0;
                for (int k = 0; k < NO; k++) z += A[a][k] * s[k];
                d->actions[i * NA + a] = (float)tanh(z);
                n2 += tanh(z) * tanh(z);
            }
            d->rewards[i] = (float)(1 - n2);
            for (int k = 0; k < NO; k++) s[k] = 0.8f * s[k] + 0.6f * (float)aaren_rng_normal(&r);
            memcpy(d->next_observations + i * NO, s, sizeof s);
        }
        d->timeouts[(long)e * len + len - 1] = 1;
    }
    aaren_d4rl_split(d);
}

static aaren_dt_options small_options(int arch, int bc) {
    aaren_dt_options o;
    aaren_dt_options_init(&o);
    o.no_returns = bc;
    o.enc.arch = arch;
    o.enc.d_model = 32;
    o.enc.n_heads = 2;
    o.enc.n_layers = 2;
    o.enc.d_ff = 64;
    o.K = 5;
    o.batch = 16;
    o.rtg_scale = 10;
    o.seed = 3;
    return o;
}

static const char *model_name(int arch, int bc) {
    return bc ? (arch == AAREN_ARCH_AAREN ? "aaren (BC)" : "transformer (BC)") : aaren_arch_name(arch);
}

static void test_grads(int arch, int bc, const aaren_d4rl *d) {
    aaren_dt_options o = small_options(arch, bc);
    o.batch = 4;
    char err[512] = "";
    aaren_dt *m = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    CHECK(m != NULL, "new: %s", err);
    if (!m) return;
    aaren_model *enc = aaren_dt_encoder(m);
    const size_t n0 = aaren_model_n_params(enc), ne = aaren_model_n_extra(enc);
    float *p = aaren_model_params(enc), *g = aaren_model_grads(enc);
    float *g0 = malloc(sizeof(float) * ne);
    CHECK(!isnan(aaren_dt_batch_grad(m, d, 9, err, sizeof err)), "grad: %s", err);
    memcpy(g0, g + n0, sizeof(float) * ne);
    /* the extra block: Wr, br, Ws, bs, Wa, ba, T, ln w, ln b, Wh, bh (then the statistics) */
    const int D = 32;
    const size_t off[11] = {0, (size_t)D, 2 * (size_t)D, 2 * (size_t)D + D * NO, 3 * (size_t)D + D * NO,
                            3 * (size_t)D + D * (NO + NA), 4 * (size_t)D + D * (NO + NA),
                            4 * (size_t)D + D * (NO + NA) + 1000 * (size_t)D, 5 * (size_t)D + D * (NO + NA) + 1000 * (size_t)D,
                            6 * (size_t)D + D * (NO + NA) + 1000 * (size_t)D, 6 * (size_t)D + D * (NO + NA) + 1000 * (size_t)D + NA * D};
    const char *names[11] = {"W_R", "b_R", "W_s", "b_s", "W_a", "b_a", "T", "ln.w", "ln.b", "W_head", "b_head"};
    /* dt.h's layout (which dt_stream.c reads too) is the one written out above */
    size_t lay[AAREN_DT_TENSORS + 1];
    const size_t total = aaren_dt_layout(D, NO, NA, lay);
    int same = total == ne && total == off[10] + NA + 2 * NO && lay[AAREN_DT_MEAN] == off[10] + NA &&
               lay[AAREN_DT_STD] == off[10] + NA + NO;
    for (int s = 0; s < 11; s++) same &= lay[s] == off[s];
    CHECK(same, "aaren_dt_layout differs from the documented layout (total %zu, extra block %zu)", total, ne);
    int worst_seg = -1;
    double worst = 0;
    for (int s = 0; s < 11; s++) {
        for (int k = 0; k < 3; k++) {
            size_t i = off[s] + (size_t)k * 7;
            if (s == 6) i = off[s] + (size_t)k * D + 3;   /* time steps 0..2 appear in the windows */
            if (s == 10) i = off[s] + (size_t)(k % NA);
            const float keep = p[n0 + i], h = 1e-2f;
            p[n0 + i] = keep + h;
            const double lp = aaren_dt_batch_grad(m, d, 9, err, sizeof err);
            p[n0 + i] = keep - h;
            const double lm = aaren_dt_batch_grad(m, d, 9, err, sizeof err);
            p[n0 + i] = keep;
            const double fd = (lp - lm) / (2 * h), an = g0[i];
            const double rel = fabs(fd - an) / fmax(fabs(fd) + fabs(an), 1e-3);
            if (rel > worst) { worst = rel; worst_seg = s; }
        }
    }
    CHECK(worst < 0.05, "%s: task-parameter gradients vs central differences: worst relative %.3g (%s)",
          model_name(arch, bc), worst, worst_seg >= 0 ? names[worst_seg] : "-");
    printf("%s: gradients of the embeddings, norm and head match central differences (worst relative %.2g)\n",
           model_name(arch, bc), worst);
    if (bc) {   /* without return tokens W_R and b_R take no part */
        double g_r = 0;
        for (size_t i = 0; i < 2 * (size_t)D; i++) g_r = fmax(g_r, fabs(g0[i]));
        CHECK(g_r == 0, "%s: W_R, b_R gradients %.3g (expected none)", model_name(arch, bc), g_r);
    }
    free(g0);
    aaren_dt_free(m);
}

static void test_learns_and_streams(int arch, int bc, const aaren_d4rl *d) {
    aaren_dt_options o = small_options(arch, bc);
    o.steps = 400;
    o.lr = 1e-3f;
    o.warmup = 20;
    o.dropout = 0;
    char err[512] = "";
    aaren_dt *m = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    CHECK(m != NULL, "new: %s", err);
    if (!m) return;
    const double before = aaren_dt_action_mse(m, d, 256, 5, err, sizeof err);
    CHECK(aaren_dt_train(m, d, NULL, err, sizeof err) == 0, "train: %s", err);
    const double after = aaren_dt_action_mse(m, d, 256, 5, err, sizeof err);
    double var = 0, mean[NA] = {0, 0};
    for (long i = 0; i < d->n; i++) for (int a = 0; a < NA; a++) mean[a] += d->actions[i * NA + a] / d->n;
    for (long i = 0; i < d->n; i++) for (int a = 0; a < NA; a++) var += pow(d->actions[i * NA + a] - mean[a], 2) / ((double)d->n * NA);
    CHECK(after < 0.05 * var && after < before, "%s: behaviour cloning action MSE %.4g (before %.4g, action variance %.4g)",
          model_name(arch, bc), after, before, var);
    printf("%s: behaviour cloning: action MSE %.4f -> %.4f (action variance %.4f)\n", model_name(arch, bc), before, after, var);

    /* a checkpoint predicts what the model predicts */
    const char *path = check_tmp_path("dt.safetensors");
    CHECK(aaren_dt_save(m, path, err, sizeof err) == 0, "save: %s", err);
    aaren_dt *l = aaren_dt_load(path, err, sizeof err);
    CHECK(l != NULL, "load: %s", err);
    CHECK(!l || aaren_dt_no_returns(l) == bc, "%s: the checkpoint records the return tokens' absence", model_name(arch, bc));
    /* a history of L steps from the data, with returns-to-go counting down from a target */
    enum { L = 40 };
    float rtg[L], obs[L * NO], act[3][L * NA], a1[NA], a2[NA];
    int ts[L];
    double target = 30, worst[3] = {0, 0, 0}, worst_load = 0;
    aaren_dt_agent *ag[3];
    for (int mode = 0; mode < 3; mode++) {
        ag[mode] = aaren_dt_agent_new(m, mode, err, sizeof err);
        if (arch != AAREN_ARCH_AAREN && mode == AAREN_DT_STREAMS) {
            CHECK(ag[mode] == NULL && strstr(err, "Aaren"), "the K-stream window is refused for the Transformer: %s", err);
            continue;
        }
        CHECK(ag[mode] != NULL, "agent %d: %s", mode, err);
        if (ag[mode]) aaren_dt_agent_reset(ag[mode], target);
    }
    CHECK(aaren_dt_reserve(m, L, err, sizeof err) == 0, "reserve: %s", err);
    double r = target;
    for (int t = 0; t < L; t++) {
        rtg[t] = (float)r;
        memcpy(obs + t * NO, d->observations + (size_t)(100 + t) * NO, sizeof(float) * NO);
        ts[t] = t;
        const int w0 = t + 1 > o.K ? t + 1 - o.K : 0;
        for (int mode = 0; mode < 3; mode++) {
            if (!ag[mode]) continue;
            CHECK(aaren_dt_agent_act(ag[mode], obs + t * NO, a1, err, sizeof err) == 0, "act: %s", err);
            const int from = mode == AAREN_DT_FULL ? 0 : w0;
            CHECK(aaren_dt_predict(m, rtg + from, obs + from * NO, act[mode] + from * NA, ts + from, t + 1 - from, a2, err, sizeof err) == 0,
                  "predict: %s", err);
            for (int a = 0; a < NA; a++) worst[mode] = fmax(worst[mode], fabs(a1[a] - a2[a]));
            memcpy(act[mode] + t * NA, a1, sizeof a1);   /* each agent's history holds its own actions */
        }
        if (l && t < o.K) {
            CHECK(aaren_dt_predict(l, rtg, obs, act[0], ts, t + 1, a1, err, sizeof err) == 0, "loaded predict: %s", err);
            CHECK(aaren_dt_predict(m, rtg, obs, act[0], ts, t + 1, a2, err, sizeof err) == 0, "predict: %s", err);
            for (int a = 0; a < NA; a++) worst_load = fmax(worst_load, fabs(a1[a] - a2[a]));
        }
        const double rew = 0.5 + 0.1 * (t % 3);
        for (int mode = 0; mode < 3; mode++)
            if (ag[mode]) CHECK(aaren_dt_agent_reward(ag[mode], rew, err, sizeof err) == 0, "reward: %s", err);
        r -= rew;
    }
    for (int mode = 0; mode < 3; mode++) {
        if (!ag[mode]) continue;
        CHECK(worst[mode] < 2e-4, "%s %s agent vs the parallel model over %d steps: worst action difference %.3g",
              model_name(arch, bc), aaren_dt_mode_name(mode), L, worst[mode]);
        printf("%s %s agent = parallel model over the same history (worst difference %.2g over %d steps)\n",
               model_name(arch, bc), aaren_dt_mode_name(mode), worst[mode], L);
        aaren_dt_agent_free(ag[mode]);
    }
    CHECK(worst_load == 0, "a loaded checkpoint predicts the same actions (worst %.3g)", worst_load);
    /* the target return: every agent of a BC model (the loaded one too) acts the same whatever
     * the target; a decision model's actions change with it */
    for (int which = 0; which < 2; which++) {
        aaren_dt *mm = which ? l : m;
        for (int mode = 0; mode < 3 && mm; mode++) {
            if (arch != AAREN_ARCH_AAREN && mode == AAREN_DT_STREAMS) continue;
            aaren_dt_agent *g = aaren_dt_agent_new(mm, mode, err, sizeof err);
            CHECK(g != NULL, "agent: %s", err);
            if (!g) continue;
            static float acts[2][12][NA];
            for (int k = 0; k < 2; k++) {
                aaren_dt_agent_reset(g, k ? -500.0 : 30.0);
                for (int t = 0; t < 12; t++) {
                    CHECK(aaren_dt_agent_act(g, d->observations + (size_t)(200 + t) * NO, acts[k][t], err, sizeof err) == 0 &&
                          aaren_dt_agent_reward(g, 0.7, err, sizeof err) == 0, "act: %s", err);
                }
            }
            double diff = 0;
            for (int t = 0; t < 12; t++) for (int a = 0; a < NA; a++) diff = fmax(diff, fabs(acts[0][t][a] - acts[1][t][a]));
            if (bc) CHECK(diff == 0, "%s %s%s: the actions change with the target (by %.3g)", model_name(arch, bc),
                          aaren_dt_mode_name(mode), which ? " (loaded)" : "", diff);
            else CHECK(diff > 1e-4, "%s %s%s: the actions do not change with the target (%.3g)", model_name(arch, bc),
                       aaren_dt_mode_name(mode), which ? " (loaded)" : "", diff);
            if (!which) printf("%s %s: targets 30 and -500 give actions %.3g apart%s\n", model_name(arch, bc),
                               aaren_dt_mode_name(mode), diff, bc ? " (BC: none expected)" : "");
            aaren_dt_agent_free(g);
        }
    }
    aaren_dt_free(l);
    /* every number of the dt.* metadata is read strictly */
    {
        static const char *const kv[][3] = {
            {"dt.K", "3x", "metadata 'dt.K' is '3x'; expected an integer from 1 to 1000"},
            {"dt.obs_dim", " 3", "metadata 'dt.obs_dim' is ' 3'"},
            {"dt.act_dim", "2.0", "metadata 'dt.act_dim' is '2.0'"},
            {"dt.rtg_scale", "1000abc", "metadata 'dt.rtg_scale' is '1000abc'; expected a number"},
            {"dt.rtg_scale", "-5", "metadata 'dt.rtg_scale' is '-5'"},
            {"dt.rtg_scale", "inf", "metadata 'dt.rtg_scale' is 'inf'"},
        };
        char saved[512], edited[512];   /* check_tmp_path returns one static buffer */
        snprintf(saved, sizeof saved, "%s", path);
        snprintf(edited, sizeof edited, "%s", check_tmp_path("edited.safetensors"));
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
            aaren_st st;
            CHECK(aaren_st_read(saved, &st, err, sizeof err) == 0, "read: %s", err);
            CHECK(aaren_st_set_meta(&st, kv[i][0], kv[i][1]) == 0 && aaren_st_write(edited, &st, err, sizeof err) == 0,
                  "write: %s", err);
            aaren_st_free(&st);
            err[0] = 0;
            aaren_dt *e = aaren_dt_load(edited, err, sizeof err);
            CHECK(e == NULL && strstr(err, "edited.safetensors: ") && strstr(err, kv[i][2]), "%s = '%s': %s", kv[i][0],
                  kv[i][1], err);
            aaren_dt_free(e);
        }
        remove(edited);
        path = check_tmp_path("dt.safetensors");
    }
    remove(path);
    /* bad checkpoints */
    const char *bad = check_write_text("bad.safetensors", "nonsense");
    CHECK(aaren_dt_load(bad, err, sizeof err) == NULL && strstr(err, "bad.safetensors"), "garbage refused: %s", err);
    remove(bad);
    aaren_model *plain = aaren_model_new(aaren_model_config(aaren_dt_encoder(m)), err, sizeof err);
    const char *enc_only = check_tmp_path("enc.safetensors");
    CHECK(plain && aaren_model_save(plain, enc_only, err, sizeof err) == 0, "save encoder: %s", err);
    CHECK(aaren_dt_load(enc_only, err, sizeof err) == NULL && strstr(err, "dt.params"), "an encoder-only file is refused: %s", err);
    remove(enc_only);
    aaren_model_free(plain);
    aaren_dt_free(m);
}

/* The batched training path (the windows' tokens and the action head as products over all
 * steps, padding after short windows) against the prediction path, one history at a time:
 * the windows aaren_dt_action_mse draws (its documented rule, redone here: a uniform row, up
 * to K steps to its episode's end), each step's action predicted from the window up to it.
 * The encoder is causal, so the two mean squared errors agree up to float rounding. */
static void test_batch_vs_predict(int arch, int bc, const aaren_d4rl *d) {
    aaren_dt_options o = small_options(arch, bc);
    char err[512] = "";
    aaren_dt *m = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    CHECK(m != NULL, "new: %s", err);
    if (!m) return;
    const int n_windows = 40, K = o.K;   /* 40 > batch 16: three batches drawn in sequence */
    const uint64_t seed = 21;
    const double mse = aaren_dt_action_mse(m, d, n_windows, seed, err, sizeof err);
    CHECK(isfinite(mse), "action_mse: %s", err);
    float *rtg = malloc(sizeof(float) * (size_t)d->n);
    for (long e = 0; e < d->n_episodes; e++) {
        double acc = 0;
        for (long i = d->ep_start[e + 1] - 1; i >= d->ep_start[e]; i--) { acc += d->rewards[i]; rtg[i] = (float)acc; }
    }
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 7;
    double se = 0;
    long rows = 0, short_windows = 0;
    int ts[64];
    float out[NA];
    for (int w = 0; w < n_windows; w++) {
        long row = (long)(aaren_rng_uniform(&rng) * (double)d->n);
        if (row >= d->n) row = d->n - 1;
        long e = 0;
        while (d->ep_start[e + 1] <= row) e++;
        const long end = d->ep_start[e + 1];
        const int len = (int)(end - row < K ? end - row : K);
        short_windows += len < K;
        for (int i = 0; i < len; i++) ts[i] = (int)(row - d->ep_start[e]) + i;
        for (int L = 1; L <= len; L++) {
            CHECK(!aaren_dt_predict(m, rtg + row, d->observations + (size_t)row * NO, d->actions + (size_t)row * NA, ts, L,
                                    out, err, sizeof err), "predict: %s", err);
            for (int a = 0; a < NA; a++) {
                const double er = out[a] - d->actions[(size_t)(row + L - 1) * NA + a];
                se += er * er;
            }
            rows++;
        }
    }
    const double ref = se / ((double)rows * NA);
    CHECK(fabs(mse - ref) <= 1e-5 * ref, "%s: batched action MSE %.9g, one history at a time %.9g", model_name(arch, bc),
          mse, ref);
    printf("%s: the batched training path's action MSE %.7g = the prediction path's %.7g (%ld windows of %d, %ld short)\n",
           model_name(arch, bc), mse, ref, (long)n_windows, K, short_windows);
    free(rtg);
    aaren_dt_free(m);
}

/* What the hook below saw: the update counts it was called at. */
typedef struct {
    long calls[16];
    int n;
    const float *obs;
} hook_log;

/* An evaluation during training as `aaren rl train --eval-every` makes one: a copy of the
 * weights, every agent mode the architecture has, a few steps each. */
static int eval_hook(void *ctx, const aaren_dt *m, long updates, char *err, size_t errlen) {
    hook_log *h = ctx;
    if (h->n < 16) h->calls[h->n] = updates;
    h->n++;
    aaren_dt *c = aaren_dt_copy_for_eval(m, err, errlen);
    if (!c) return -1;
    const int aar = aaren_model_config(aaren_dt_encoder(c))->arch == AAREN_ARCH_AAREN;
    for (int mode = 0; mode < 3; mode++) {
        if (!aar && mode == AAREN_DT_STREAMS) continue;
        aaren_dt_agent *g = aaren_dt_agent_new(c, mode, err, errlen);
        if (!g) { aaren_dt_free(c); return -1; }
        aaren_dt_agent_reset(g, 25);
        float act[NA];
        for (int t = 0; t < 8; t++)
            if (aaren_dt_agent_act(g, h->obs + (size_t)t * NO, act, err, errlen) || aaren_dt_agent_reward(g, 0.5, err, errlen)) {
                aaren_dt_agent_free(g);
                aaren_dt_free(c);
                return -1;
            }
        aaren_dt_agent_free(g);
    }
    aaren_dt_free(c);
    return 0;
}

static void test_eval_during_training(int arch, int bc, const aaren_d4rl *d) {
    aaren_dt_options o = small_options(arch, bc);
    o.steps = 30;
    o.warmup = 5;   /* dropout stays on (0.1): its masks follow the step */
    char err[512] = "";
    aaren_dt *a = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err), *b = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    CHECK(a && b, "new: %s", err);
    if (!a || !b) { aaren_dt_free(a); aaren_dt_free(b); return; }
    hook_log h = {{0}, 0, d->observations};
    CHECK(aaren_dt_train(a, d, NULL, err, sizeof err) == 0, "train: %s", err);
    CHECK(aaren_dt_train_every(b, d, NULL, 7, eval_hook, &h, err, sizeof err) == 0, "train with evaluations: %s", err);
    CHECK(h.n == 4 && h.calls[0] == 7 && h.calls[1] == 14 && h.calls[2] == 21 && h.calls[3] == 28,
          "%s: evaluations after 7, 14, 21, 28 of 30 updates (got %d calls, first %ld)", model_name(arch, bc), h.n, h.calls[0]);
    aaren_model *ea = aaren_dt_encoder(a), *eb = aaren_dt_encoder(b);
    const int same = !memcmp(aaren_model_params(ea), aaren_model_params(eb), sizeof(float) * aaren_model_n_params(ea)) &&
                     !memcmp(aaren_model_extra(ea), aaren_model_extra(eb), sizeof(float) * aaren_model_n_extra(ea));
    /* and a run that moved at all (the comparison is not between two untouched models) */
    aaren_dt *c = aaren_dt_new(d, AAREN_ENV_HOPPER, &o, err, sizeof err);
    const int moved = c && memcmp(aaren_model_params(aaren_dt_encoder(c)), aaren_model_params(ea), sizeof(float) * aaren_model_n_params(ea));
    CHECK(same && moved, "%s: final weights with evaluations every 7 updates equal those without: %s (trained: %d)",
          model_name(arch, bc), same ? "yes" : "no", moved);
    printf("%s: evaluating copies after 7, 14, 21, 28 updates leaves the 30-update run's weights bit-identical\n",
           model_name(arch, bc));
    aaren_dt_free(a);
    aaren_dt_free(b);
    aaren_dt_free(c);
}

int main(void) {
    /* the temporary folder first: check_tmp_path names files inside it */
    if (!check_tmp_dir()) return check_skip("test_dt", "cannot make a temporary folder");
    aaren_d4rl d;
    make_data(&d, 12, 50);
    for (int bc = 0; bc < 2; bc++)
        for (int arch = 0; arch < 2; arch++) {
            test_grads(arch, bc, &d);
            test_batch_vs_predict(arch, bc, &d);
            test_learns_and_streams(arch, bc, &d);
            test_eval_during_training(arch, bc, &d);
        }
    aaren_d4rl_free(&d);
    check_tmp_cleanup();
    return check_done("test_dt");
}
