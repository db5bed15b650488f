/* Linear behaviour policies, episodes and episode stores (the raw material of the offline
 * data sets).
 *
 * A linear policy acts as  a = clip(M (s - mean) / std, -1, 1)  with M [act_dim, obs_dim] and
 * the observation statistics mean, std [obs_dim] frozen into the policy. Data collection may
 * add Gaussian noise N(0, noise^2) to each action before the clip.
 *
 * An episode store keeps whole episodes: for episode e of length T, observations s_0..s_T
 * (T + 1 rows, so next_observations need no second copy), actions a_0..a_{T-1} and rewards
 * r_0..r_{T-1}, and how it ended (terminated, truncated at the step cap, or unfinished). */
#ifndef AAREN_RL_POLICY_H
#define AAREN_RL_POLICY_H
#include <stddef.h>
#include <stdint.h>
#include "rl/env.h"

typedef struct {
    int obs_dim, act_dim;
    float *M;                 /* [act_dim, obs_dim] */
    float *mean, *std;        /* [obs_dim] */
    void *block_;             /* the one allocation behind M, mean, std */
} aaren_linpolicy;

/* Zero M, mean 0, std 1. Returns 0 or -1 (out of memory). */
int  aaren_linpolicy_init(aaren_linpolicy *p, int obs_dim, int act_dim);
void aaren_linpolicy_free(aaren_linpolicy *p);
void aaren_linpolicy_copy(aaren_linpolicy *dst, const aaren_linpolicy *src);   /* same dims */
/* act [act_dim] from obs [obs_dim] with matrix M [act_dim, obs_dim] (p->M when NULL);
 * z [obs_dim] is scratch. */
void aaren_linpolicy_act(const aaren_linpolicy *p, const float *M, const float *obs, float *z, float *act);
/* Safetensors file: tensors "policy.M", "policy.mean", "policy.std" and metadata
 * "policy.env" plus the caller's key/value pairs (keys[i], vals[i], n of them). */
int  aaren_linpolicy_save(const char *path, const aaren_linpolicy *p, aaren_env_kind env, int n,
                          const char *const *keys, const char *const *vals, char *err, size_t errlen);
/* Loads a policy file; *env gets its environment. Errors name the file. */
int  aaren_linpolicy_load(const char *path, aaren_linpolicy *p, aaren_env_kind *env, char *err, size_t errlen);

enum { AAREN_EP_UNFINISHED = 0, AAREN_EP_TERMINATED = 1, AAREN_EP_TRUNCATED = 2 };

/* One episode's transitions, room for the 1000-step cap. */
typedef struct {
    int obs_dim, act_dim, len, end;   /* end: AAREN_EP_* */
    double ret, shifted_ret;          /* sum of rewards; of (reward - shift) */
    float *obs;                       /* [AAREN_ENV_MAX_STEPS + 1, obs_dim] */
    float *act;                       /* [AAREN_ENV_MAX_STEPS, act_dim] */
    float *rew;                       /* [AAREN_ENV_MAX_STEPS] */
    float *z;                         /* [obs_dim] scratch */
    void *block_;
} aaren_episode;

int  aaren_episode_init(aaren_episode *ep, int obs_dim, int act_dim);
void aaren_episode_free(aaren_episode *ep);
/* Runs one episode of p (matrix M, or p->M when NULL) in e from a reset drawn with *rng;
 * action noise from *rng too. Records into ep. Reward shift: shifted_ret = ret - shift * len
 * (ARS trains Hopper, Walker2d and Ant without the alive bonus). Returns ep->ret. */
double aaren_episode_run(aaren_env *e, const aaren_linpolicy *p, const float *M, float noise, double shift,
                         uint64_t *rng, aaren_episode *ep);

/* Whole episodes, appended in order; grows as needed (never inside a training step). */
typedef struct {
    int obs_dim, act_dim;
    long n_ep, cap_ep, n_steps, cap_steps;
    long *ep_step;        /* [n_ep]: first step of each episode (the obs rows start at ep_step[e] + e) */
    int *ep_len;          /* [n_ep] */
    unsigned char *ep_end;/* [n_ep] AAREN_EP_* */
    double *ep_ret;       /* [n_ep] */
    float *obs;           /* [n_steps + n_ep, obs_dim] */
    float *act;           /* [n_steps, act_dim] */
    float *rew;           /* [n_steps] */
} aaren_episode_store;

void aaren_store_init(aaren_episode_store *s, int obs_dim, int act_dim);
void aaren_store_free(aaren_episode_store *s);
/* Appends the first `len` steps of ep (len <= ep->len; a shorter copy is unfinished).
 * Returns 0 or -1 (out of memory). */
int  aaren_store_add(aaren_episode_store *s, const aaren_episode *ep, int len);
#endif
