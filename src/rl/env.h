/* MuJoCo locomotion environments with gym's v3 semantics (the environments D4RL's
 * locomotion data sets were collected in): HalfCheetah, Hopper, Walker2d, Ant.
 *
 * Each environment loads its model file (half_cheetah.xml, hopper.xml, walker2d.xml,
 * ant.xml) from a folder: the xml_dir argument, else $AAREN_MUJOCO_XML, else
 * ../shared/data/rl/mujoco_xml. A step writes the action into the controls, advances the
 * simulation frame_skip times, and returns the observation, the reward and whether the
 * episode ends (terminated: the state left the healthy set; truncated: the 1000-step cap).
 *
 *   env          frame_skip  obs                                          act  reward (dt = frame_skip * timestep)
 *   halfcheetah  5           qpos[1:] (8), qvel (9)                       6    dx/dt - 0.1 |a|^2
 *   hopper       4           qpos[1:] (5), clip(qvel, -10, 10) (6)        3    dx/dt + 1 - 1e-3 |a|^2
 *   walker2d     4           qpos[1:] (8), clip(qvel, -10, 10) (9)        6    dx/dt + 1 - 1e-3 |a|^2
 *   ant          5           qpos[2:] (13), qvel (14), contact forces (84: 14 bodies x 6) 8   dx/dt + 1 - 0.5 |a|^2 - 5e-4 |f|^2
 * x is qpos[0] (the root slider), for Ant the torso body's world x. Healthy sets (the
 * episode terminates when the state leaves them):
 *   hopper: all of (qpos, qvel) finite, |(qpos, qvel)[2:]| < 100, height qpos[1] > 0.7,
 *           |angle qpos[2]| < 0.2;
 *   walker2d: 0.8 < qpos[1] < 2.0 and -1 < qpos[2] < 1;
 *   ant: (qpos, qvel) finite and 0.2 <= qpos[2] <= 1.0;  halfcheetah: never terminates.
 * Ant's contact forces: gym reads cfrc_ext, which MuJoCo >= 2.0 leaves at zero unless
 * mj_rnePostConstraint runs; D4RL's Ant data hold zeros there, and so does this environment
 * (the 84 entries are 0, and so is their cost), to match the data sets.
 * Reset: qpos0 and zero velocity plus noise from the caller's splitmix64 state:
 * halfcheetah and ant qpos + U(-0.1, 0.1), qvel + 0.1 N(0, 1); hopper and walker2d qpos and
 * qvel + U(-0.005, 0.005). Then mj_forward. Actions are not clipped (MuJoCo clamps controls
 * to the model's ctrlrange [-1, 1]; the control cost uses the action as given).
 *
 * MuJoCo is optional: built without it (AAREN_HAVE_MUJOCO undefined), aaren_env_new fails
 * with a message saying so, and everything else in the library works. */
#ifndef AAREN_RL_ENV_H
#define AAREN_RL_ENV_H
#include <stddef.h>
#include <stdint.h>

typedef enum { AAREN_ENV_HALFCHEETAH = 0, AAREN_ENV_HOPPER, AAREN_ENV_WALKER2D, AAREN_ENV_ANT, AAREN_ENV_COUNT } aaren_env_kind;

enum { AAREN_ENV_MAX_STEPS = 1000 };

typedef struct aaren_env aaren_env;

/* 1 when the library was built with MuJoCo. */
int aaren_env_available(void);
/* Kind from a name ("halfcheetah", "hopper", "walker2d", "ant"; case-insensitive), or -1. */
int aaren_env_kind_from_name(const char *name);
const char *aaren_env_name(aaren_env_kind k);

aaren_env *aaren_env_new(aaren_env_kind k, const char *xml_dir, char *err, size_t errlen);
void aaren_env_free(aaren_env *e);
aaren_env_kind aaren_env_kind_of(const aaren_env *e);
int aaren_env_obs_dim(const aaren_env *e);
int aaren_env_act_dim(const aaren_env *e);
int aaren_env_nq(const aaren_env *e);
int aaren_env_nv(const aaren_env *e);
double aaren_env_dt(const aaren_env *e);

/* Starts an episode: noise from *rng; obs [obs_dim]. */
void aaren_env_reset(aaren_env *e, uint64_t *rng, float *obs);
/* Sets the simulation state exactly (qpos [nq], qvel [nv]; for tests and replays), runs
 * mj_forward, restarts the step count, and writes the observation. */
void aaren_env_set_state(aaren_env *e, const double *qpos, const double *qvel, float *obs);
/* One step: action [act_dim]. Writes obs, *reward, *terminated (left the healthy set) and
 * *truncated (the step cap reached without termination). Returns 0, or -1 when the episode
 * has already ended (reset first). */
int aaren_env_step(aaren_env *e, const float *action, float *obs, double *reward, int *terminated, int *truncated);
/* The current qpos / qvel (read-only views). */
const double *aaren_env_qpos(const aaren_env *e);
const double *aaren_env_qvel(const aaren_env *e);
int aaren_env_healthy(const aaren_env *e);

/* D4RL's normalised score: 100 (ret - random) / (expert - random), with the reference
 * returns of d4rl/infos.py (the same for the v2 data sets). */
double aaren_env_normalized_score(aaren_env_kind k, double ret);
#endif
