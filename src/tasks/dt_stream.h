/* A decision model (tasks/dt.h) run as many episodes at once, one stream per episode, the way
 * `aaren serve` steps them: the tokens of every stream that steps go through one batched
 * encoder step (return-to-go tokens, then observation tokens, then action tokens), and each
 * stream keeps only its encoder state, its return-to-go and its step count. The arithmetic is
 * that of aaren_dt_agent in AAREN_DT_FULL mode (one stream over the whole episode, no window);
 * tests/test_dt_stream.c checks the two against each other.
 *
 * Step t of an episode: the return-to-go R_t (the target return less the rewards received so
 * far) and the observation s_t go in, the action a_t comes out, and its token goes in too, so
 * that the next step needs only the reward of a_t and the next observation. */
#ifndef AAREN_DT_STREAM_H
#define AAREN_DT_STREAM_H
#include <stddef.h>
#include "tasks/dt.h"

/* The target return `aaren rl eval` conditions on when none is given, per environment: the
 * original Decision Transformer paper's (hopper 3600, halfcheetah 12000, walker2d 5000,
 * ant 6000; the one table of them). */
double aaren_dt_default_target(aaren_env_kind env);

/* What the streamed model needs: sizes, and views of the parameters inside the model. */
typedef struct {
    int obs_dim, act_dim, d_model;
    float rtg_scale, ln_eps;
    double target;           /* aaren_dt_default_target of the model's environment */
    int no_returns;          /* 1: a behaviour-cloning model: no return-to-go token (step only the
                                observation and action tokens; xr is computed but not used) */
    const float *Wr, *br, *Ws, *bs, *Wa, *ba, *T, *lnw, *lnb, *Wh, *bh, *mean, *std;
} aaren_dt_stream_spec;

/* The spec of model m loaded from path (its sizes and return scale from the checkpoint's
 * metadata). 0, or -1 with a message naming the file. */
int aaren_dt_stream_spec_get(const char *path, const aaren_dt *m, aaren_dt_stream_spec *s, char *err, size_t errlen);

/* The first two tokens of step t[i] of k streams, embedded and normalised: xr [k, d_model]
 * from the returns-to-go rtg [k], xs [k, d_model] from the observations obs [k, obs_dim] in
 * the data's units. Scratch: mu, rs [k], sn [obs_dim]. */
void aaren_dt_stream_tokens(const aaren_dt_stream_spec *s, int k, const double *rtg, const float *obs, const long *t,
                            float *xr, float *xs, float *mu, float *rs, float *sn);
/* From the encoder outputs y [k, d_model] at the observation tokens: the actions act
 * [k, act_dim], and their tokens xa [k, d_model] (embedded, normalised) for step t[i]. */
void aaren_dt_stream_actions(const aaren_dt_stream_spec *s, int k, const float *y, const long *t, float *act, float *xa,
                             float *mu, float *rs);

/* `aaren rl act`: the actions of model m (spec s) for the episode in the CSV in_csv, as one stream
 * (aaren_dt_agent, full-stream mode) conditioned on target. in_csv: a header line, then one
 * row per step: the reward received for the previous step's action (read but not used on the
 * first row), then obs_dim observation values; every value a finite number. out_csv (written
 * atomically): "step,return_to_go,a_1,...,a_<act_dim>", one row per input row, 9 significant
 * digits. *n_steps gets the rows. 0, or -1 with a message naming the file (and line). */
int aaren_dt_act_file(aaren_dt *m, const aaren_dt_stream_spec *s, const char *in_csv, const char *out_csv, double target,
                      long *n_steps, char *err, size_t errlen);
#endif
