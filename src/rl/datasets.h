/* The offline data sets, made the way D4RL made its locomotion data (v2):
 *
 *   medium         rollouts of the medium policy, `size` transitions (the last episode is cut
 *                  where the count is reached, as in D4RL's 1M-step files);
 *   medium-replay  the episodes the learner ran while training up to the medium policy (for
 *                  ARS: the perturbed policies' rollouts), thinned evenly over training to
 *                  about `size` transitions when there are more;
 *   medium-expert  the medium data followed by `size` transitions of expert rollouts.
 *
 * Collection adds Gaussian noise (std action_noise) to every action before the [-1, 1] clip,
 * so the data hold more than one deterministic trajectory per start state. Everything is a
 * function of the seed. */
#ifndef AAREN_RL_DATASETS_H
#define AAREN_RL_DATASETS_H
#include <stdint.h>
#include "data/d4rl.h"
#include "rl/policy.h"

/* Appends episodes of p to store until it holds `transitions` steps (the last one is cut).
 * Episodes run on all threads in batches and are appended in order: deterministic.
 * Returns 0 or -1 with err. */
int aaren_collect(aaren_env_kind k, const char *xml_dir, const aaren_linpolicy *p, float action_noise,
                  long transitions, uint64_t seed, aaren_episode_store *store, char *err, size_t errlen);

/* Marks (keep[e] = 1) an evenly spaced subset of the store's episodes holding about
 * `transitions` steps (all of them when the store holds no more). keep [n_ep]. Returns the
 * number of steps kept. */
long aaren_store_thin(const aaren_episode_store *s, long transitions, unsigned char *keep);

/* Converts the kept episodes (keep NULL: all) of one or two stores, in order, into the D4RL
 * layout with next_observations; terminals / timeouts mark how each episode ended. *d is
 * allocated here. Returns 0 or -1 with err. */
int aaren_store_to_d4rl(const aaren_episode_store *a, const unsigned char *keep_a, const aaren_episode_store *b,
                        aaren_d4rl *d, char *err, size_t errlen);
#endif
