/* Augmented Random Search (ARS V2-t, Mania, Guy and Recht 2018): the online method that
 * trains the behaviour policies of the offline data sets.
 *
 * Why ARS: a linear policy trained by random search reaches good locomotion returns in a
 * few thousand episodes with no networks, no replay buffer and no gradients; every rollout
 * is independent, so the directions run on all cores, and the whole run is deterministic for
 * a seed whatever the thread count (each rollout has its own random stream and the results
 * are combined in a fixed order).
 *
 * One iteration: draw N directions d_k ~ N(0, I) [act, obs]; run the policies M + nu d_k and
 * M - nu d_k for one episode each (returns r+_k, r-_k, with the alive bonus `shift` taken
 * off every reward); keep the b directions with the largest max(r+_k, r-_k); step
 *   M += alpha / (b sigma_R) sum_k (r+_k - r-_k) d_k,
 * sigma_R the std of the 2b kept returns; then fold every observation of the iteration into
 * the running mean and std that normalise the policy's input.
 *
 * Every eval_every iterations the unperturbed policy is evaluated (eval_episodes episodes,
 * true rewards). The "medium" policy is the first evaluated one whose mean return reaches
 * medium_target (D4RL's medium policies sit near a third of the expert reference return);
 * the "expert" policy is the evaluated one with the highest mean return. Training rollouts
 * up to the medium snapshot go to the replay store (the medium-replay data). */
#ifndef AAREN_RL_ARS_H
#define AAREN_RL_ARS_H
#include <stdint.h>
#include "rl/env.h"
#include "rl/policy.h"

typedef struct {
    int directions, top;        /* N, b */
    float step, noise;          /* alpha, nu */
    double shift;               /* alive bonus removed from training rewards */
    long episodes;              /* training budget: rollouts of perturbed policies */
    int eval_every, eval_episodes;
    double medium_target;       /* return that marks the medium policy */
    uint64_t seed;
} aaren_ars_config;

/* The settings used for environment k (see ars.c for the values and why). */
void aaren_ars_defaults(aaren_env_kind k, aaren_ars_config *c);

typedef struct {
    int iteration;
    long episodes, steps;       /* training rollouts and environment steps so far */
    double eval_return, eval_std, best_return, seconds;
    int medium_found;           /* 1 from the evaluation that found the medium policy on */
} aaren_ars_report;

/* Called after each evaluation; a nonzero return stops training. */
typedef int (*aaren_ars_progress)(void *ctx, const aaren_ars_report *r);

typedef struct {
    aaren_ars_report medium_at, expert_at;   /* the evaluations that chose each policy */
    int medium_reached;         /* 0: the target was never reached; medium is the best policy seen before the end */
    long episodes, steps;
} aaren_ars_result;

/* Trains in environment k (model files from xml_dir, see env.h). medium and expert must be
 * initialised with the environment's dimensions. replay may be NULL. Returns 0, or -1 with err. */
int aaren_ars_train(aaren_env_kind k, const char *xml_dir, const aaren_ars_config *c, aaren_linpolicy *medium,
                    aaren_linpolicy *expert, aaren_episode_store *replay, aaren_ars_progress progress, void *ctx,
                    aaren_ars_result *res, char *err, size_t errlen);

/* Mean and std (n - 1) of the return of p over `episodes` episodes with action noise
 * `noise`, reset noise from seed; runs on all threads, deterministic. Returns 0 or -1. */
int aaren_policy_evaluate(aaren_env_kind k, const char *xml_dir, const aaren_linpolicy *p, int episodes, float noise,
                          uint64_t seed, double *mean, double *std, double *mean_len, char *err, size_t errlen);
#endif
