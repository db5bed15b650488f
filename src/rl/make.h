/* The D4RL recipe for one environment: behaviour policies trained by ARS, then the medium,
 * medium-replay and medium-expert data sets made the way D4RL made its v2 locomotion data:
 *   OUT/ENV-medium.hdf5         size transitions of the medium policy (the first one whose
 *                               evaluation reaches a third of the expert reference return)
 *   OUT/ENV-medium-replay.hdf5  the learner's rollouts up to the medium policy (about size)
 *   OUT/ENV-medium-expert.hdf5  the medium data plus size transitions of the expert policy
 *                               (the best evaluated policy of the training budget)
 * with the policies (OUT/ENV-{medium,expert}-policy.safetensors) and the ARS log
 * (OUT/ENV-ars.csv). Deterministic for a seed, whatever the thread count. Needs MuJoCo and
 * HDF5. */
#ifndef AAREN_RL_MAKE_H
#define AAREN_RL_MAKE_H
#include <stdio.h>
#include "rl/ars.h"

typedef struct {
    aaren_ars_config ars;      /* the environment's ARS defaults (aaren_ars_defaults) */
    long size;                 /* transitions per data set [100000; D4RL's are 1M] */
    float action_noise;        /* Gaussian action noise while collecting [0.1] */
    int eval_episodes;         /* fresh episodes evaluating each chosen policy [10] */
    const char *xml_dir;       /* the MuJoCo model files (NULL: the default place) */
} aaren_make_options;
void aaren_make_options_init(aaren_env_kind k, aaren_make_options *o);   /* seed 0 */

/* Trains, evaluates and writes everything into out_dir (created when missing). on_eval (may be
 * NULL) sees each ARS evaluation; report (NULL: silent) receives the summary lines: the
 * policies' returns and scores, then each data set's transitions, episodes, return and score.
 * 0, or -1 with a message naming the file or the fault. */
int aaren_make_data(aaren_env_kind k, const aaren_make_options *o, const char *out_dir, aaren_ars_progress on_eval,
                    void *ctx, FILE *report, char *err, size_t errlen);
#endif
