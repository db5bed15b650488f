/* Augmented Random Search (see ars.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/parallel.h"
#include "base/rng.h"
#include "rl/ars.h"

/* Step sizes and direction counts in the range the ARS paper reports for these tasks;
 * Ant uses fewer directions than is usual because its simulation is the slowest (about
 * 0.25 ms a step here). The alive bonus is removed for the three tasks that have one, so
 * that standing still is not a local optimum. medium_target: a third of the D4RL expert
 * reference return. The budgets keep one environment's training within minutes on two
 * cores. */
void aaren_ars_defaults(aaren_env_kind k, aaren_ars_config *c) {
    memset(c, 0, sizeof *c);
    c->eval_every = 5;
    c->eval_episodes = 10;
    c->seed = 0;
    switch (k) {
    case AAREN_ENV_HALFCHEETAH:
        c->directions = 32; c->top = 4; c->step = 0.02f; c->noise = 0.03f; c->shift = 0; c->episodes = 25600;
        c->medium_target = 12135.0 / 3; break;
    case AAREN_ENV_HOPPER:
        c->directions = 8; c->top = 4; c->step = 0.01f; c->noise = 0.025f; c->shift = 1; c->episodes = 8000;
        c->medium_target = 3234.3 / 3; break;
    case AAREN_ENV_WALKER2D:
        c->directions = 40; c->top = 30; c->step = 0.025f; c->noise = 0.01f; c->shift = 1; c->episodes = 40000;
        c->medium_target = 4592.3 / 3; break;
    default:
        c->directions = 16; c->top = 8; c->step = 0.015f; c->noise = 0.025f; c->shift = 1; c->episodes = 3200;
        c->medium_target = 3879.7 / 3; break;
    }
}

/* A rollout's own random stream: a function of the run seed, the iteration and its index. */
static uint64_t stream(uint64_t seed, long iter, long idx) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)iter * 0xD1B54A32D192ED03ull ^ (uint64_t)idx * 0xABC98388FB8FAC03ull;
    aaren_rng_next(&s);
    return s;
}

/* One simulator per thread. */
typedef struct {
    int n;
    aaren_env **env;
} env_pool;

static int pool_open(env_pool *p, aaren_env_kind k, const char *xml_dir, char *err, size_t errlen) {
    p->n = aaren_max_threads();
    p->env = calloc((size_t)p->n, sizeof *p->env);
    if (!p->env) return aaren_errf(err, errlen, "out of memory");
    for (int i = 0; i < p->n; i++)
        if (!(p->env[i] = aaren_env_new(k, xml_dir, err, errlen))) return -1;
    return 0;
}

static void pool_close(env_pool *p) {
    for (int i = 0; p->env && i < p->n; i++) aaren_env_free(p->env[i]);
    free(p->env);
}

/* Runs n episodes in parallel: episode i uses matrix Ms[i] (NULL: the policy's own), the
 * stream stream(seed, iter, i) and buffer eps[i]. */
static void run_batch(env_pool *pool, const aaren_linpolicy *p, float *const *Ms, int n, float noise, double shift,
                      uint64_t seed, long iter, aaren_episode *eps) {
    #pragma omp parallel for schedule(dynamic, 1) num_threads(pool->n)
    for (int i = 0; i < n; i++) {
        uint64_t rng = stream(seed, iter, i);
        aaren_episode_run(pool->env[aaren_thread_id()], p, Ms ? Ms[i] : NULL, noise, shift, &rng, &eps[i]);
    }
}

static void mean_std(const aaren_episode *eps, int n, double *mean, double *std, double *len) {
    double s = 0, s2 = 0, l = 0;
    for (int i = 0; i < n; i++) { s += eps[i].ret; l += eps[i].len; }
    *mean = s / n;
    for (int i = 0; i < n; i++) s2 += (eps[i].ret - *mean) * (eps[i].ret - *mean);
    *std = n > 1 ? sqrt(s2 / (n - 1)) : 0;
    if (len) *len = l / n;
}

int aaren_policy_evaluate(aaren_env_kind k, const char *xml_dir, const aaren_linpolicy *p, int episodes, float noise,
                          uint64_t seed, double *mean, double *std, double *mean_len, char *err, size_t errlen) {
    env_pool pool = {0};
    aaren_episode *eps = calloc((size_t)episodes, sizeof *eps);
    int rc = eps ? pool_open(&pool, k, xml_dir, err, errlen) : aaren_errf(err, errlen, "out of memory");
    for (int i = 0; i < episodes && !rc; i++)
        if (aaren_episode_init(&eps[i], p->obs_dim, p->act_dim)) rc = aaren_errf(err, errlen, "out of memory");
    if (!rc) {
        run_batch(&pool, p, NULL, episodes, noise, 0, seed, -1, eps);
        mean_std(eps, episodes, mean, std, mean_len);
    }
    for (int i = 0; eps && i < episodes; i++) aaren_episode_free(&eps[i]);
    free(eps);
    pool_close(&pool);
    return rc;
}

int aaren_ars_train(aaren_env_kind k, const char *xml_dir, const aaren_ars_config *c, aaren_linpolicy *medium,
                    aaren_linpolicy *expert, aaren_episode_store *replay, aaren_ars_progress progress, void *ctx,
                    aaren_ars_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    if (c->directions < 1 || c->top < 1 || c->top > c->directions || !(c->step > 0) || !(c->noise > 0) ||
        c->eval_every < 1 || c->eval_episodes < 1)
        return aaren_errf(err, errlen, "rl: ARS needs directions >= top >= 1, step > 0, noise > 0 and evaluations");
    const int N = c->directions, no = medium->obs_dim, na = medium->act_dim, nE = c->eval_episodes;
    const size_t P = (size_t)na * no;
    const int nb = 2 * N > nE ? 2 * N : nE;
    env_pool pool = {0};
    aaren_linpolicy cur = {0};
    aaren_episode *eps = calloc((size_t)nb, sizeof *eps);
    float *delta = malloc(sizeof(float) * P * (size_t)N), *Mpm = malloc(sizeof(float) * P * 2 * (size_t)N);
    float **Ms = malloc(sizeof(float *) * 2 * (size_t)N);
    double *sum = calloc(2 * (size_t)no, sizeof(double)), *sum2 = sum ? sum + no : NULL, *score = malloc(sizeof(double) * N);
    int *order = malloc(sizeof(int) * N);
    int rc = 0;
    if (!eps || !delta || !Mpm || !Ms || !sum || !score || !order || aaren_linpolicy_init(&cur, no, na))
        rc = aaren_errf(err, errlen, "out of memory");
    for (int i = 0; i < nb && !rc; i++)
        if (aaren_episode_init(&eps[i], no, na)) rc = aaren_errf(err, errlen, "out of memory");
    if (!rc) rc = pool_open(&pool, k, xml_dir, err, errlen);
    if (!rc && (aaren_env_obs_dim(pool.env[0]) != no || aaren_env_act_dim(pool.env[0]) != na))
        rc = aaren_errf(err, errlen, "rl: the policies' dimensions do not match %s", aaren_env_name(k));
    double count = 0, best = -INFINITY;
    long replay_ep_at_best = 0, replay_steps_at_best = 0;
    uint64_t drng = stream(c->seed, -2, 0);
    const double t0 = aaren_now_s();
    long episodes = 0, steps = 0;
    for (int iter = 1; !rc && episodes < c->episodes; iter++) {
        for (size_t i = 0; i < P * N; i++) delta[i] = (float)aaren_rng_normal(&drng);
        for (int d = 0; d < N; d++)
            for (int s = 0; s < 2; s++) {
                float *M = Ms[2 * d + s] = Mpm + P * (2 * (size_t)d + s);
                const float sg = s ? -c->noise : c->noise;
                for (size_t i = 0; i < P; i++) M[i] = cur.M[i] + sg * delta[P * d + i];
            }
        run_batch(&pool, &cur, Ms, 2 * N, 0, c->shift, c->seed, iter, eps);
        /* the b best directions by max(r+, r-), ties by index */
        for (int d = 0; d < N; d++) {
            score[d] = fmax(eps[2 * d].shifted_ret, eps[2 * d + 1].shifted_ret);
            order[d] = d;
        }
        for (int i = 1; i < N; i++)
            for (int j = i; j > 0 && score[order[j]] > score[order[j - 1]]; j--) {
                const int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
            }
        double m = 0, v = 0;
        for (int i = 0; i < c->top; i++) m += eps[2 * order[i]].shifted_ret + eps[2 * order[i] + 1].shifted_ret;
        m /= 2 * c->top;
        for (int i = 0; i < c->top; i++) {
            const double a = eps[2 * order[i]].shifted_ret - m, b = eps[2 * order[i] + 1].shifted_ret - m;
            v += a * a + b * b;
        }
        const double sd = sqrt(v / (2 * c->top));
        const double scale = c->step / (c->top * (sd > 1e-8 ? sd : 1.0));
        for (int i = 0; i < c->top; i++) {
            const int d = order[i];
            const float w = (float)(scale * (eps[2 * d].shifted_ret - eps[2 * d + 1].shifted_ret));
            for (size_t j = 0; j < P; j++) cur.M[j] += w * delta[P * d + j];
        }
        /* observation statistics and the replay store, in rollout order */
        for (int i = 0; i < 2 * N; i++) {
            const aaren_episode *ep = &eps[i];
            for (int t = 0; t <= ep->len; t++) {
                const float *o = ep->obs + (size_t)t * no;
                for (int j = 0; j < no; j++) { sum[j] += o[j]; sum2[j] += (double)o[j] * o[j]; }
            }
            count += ep->len + 1;
            episodes++;
            steps += ep->len;
            if (replay && !res->medium_reached && aaren_store_add(replay, ep, ep->len)) rc = aaren_errf(err, errlen, "out of memory");
        }
        for (int j = 0; j < no; j++) {
            const double mu = sum[j] / count, var = sum2[j] / count - mu * mu, s = var > 1e-12 ? sqrt(var) : 0;
            cur.mean[j] = (float)mu;
            cur.std[j] = s > 1e-6 ? (float)s : 1.0f;
        }
        if (rc || (iter % c->eval_every && episodes < c->episodes)) continue;
        aaren_ars_report r = {.iteration = iter, .episodes = episodes, .steps = steps};
        run_batch(&pool, &cur, NULL, nE, 0, 0, c->seed ^ 0x5EEDull, iter, eps);
        mean_std(eps, nE, &r.eval_return, &r.eval_std, NULL);
        if (r.eval_return > best) {
            best = r.eval_return;
            aaren_linpolicy_copy(expert, &cur);
            res->expert_at = r;
            if (!res->medium_reached) {
                aaren_linpolicy_copy(medium, &cur);
                res->medium_at = r;
                if (replay) { replay_ep_at_best = replay->n_ep; replay_steps_at_best = replay->n_steps; }
            }
        }
        if (!res->medium_reached && r.eval_return >= c->medium_target) {
            aaren_linpolicy_copy(medium, &cur);
            res->medium_reached = 1;
            res->medium_at = r;
            r.medium_found = 1;
        }
        r.best_return = best;
        r.seconds = aaren_now_s() - t0;
        res->expert_at.best_return = best;
        if (progress && progress(ctx, &r)) break;
    }
    if (!rc && replay && !res->medium_reached) {   /* keep what was seen up to the medium stand-in */
        replay->n_ep = replay_ep_at_best;
        replay->n_steps = replay_steps_at_best;
    }
    res->episodes = episodes;
    res->steps = steps;
    for (int i = 0; eps && i < nb; i++) aaren_episode_free(&eps[i]);
    free(eps); free(delta); free(Mpm); free(Ms); free(sum); free(score); free(order);
    aaren_linpolicy_free(&cur);
    pool_close(&pool);
    return rc;
}
