/* MuJoCo locomotion environments (see env.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "base/rng.h"
#include "rl/env.h"

typedef struct {
    const char *name, *xml;
    int frame_skip, obs_dim, act_dim;
    double random_return, expert_return;   /* d4rl/infos.py reference returns */
} env_spec;

static const env_spec specs[AAREN_ENV_COUNT] = {
    {"halfcheetah", "half_cheetah.xml", 5, 17, 6, -280.178953, 12135.0},
    {"hopper", "hopper.xml", 4, 11, 3, -20.272305, 3234.3},
    {"walker2d", "walker2d.xml", 4, 17, 6, 1.629008, 4592.3},
    {"ant", "ant.xml", 5, 111, 8, -325.6, 3879.7},
};

int aaren_env_kind_from_name(const char *name) {
    for (int k = 0; k < AAREN_ENV_COUNT; k++) {
        const char *a = specs[k].name, *b = name;
        while (*a && *b && (*b >= 'A' && *b <= 'Z' ? *b + 32 : *b) == *a) { a++; b++; }
        if (!*a && !*b) return k;
    }
    return -1;
}

const char *aaren_env_name(aaren_env_kind k) { return k >= 0 && k < AAREN_ENV_COUNT ? specs[k].name : "?"; }

double aaren_env_normalized_score(aaren_env_kind k, double ret) {
    const env_spec *s = &specs[k];
    return 100.0 * (ret - s->random_return) / (s->expert_return - s->random_return);
}

#ifdef AAREN_HAVE_MUJOCO
#include <mujoco/mujoco.h>

struct aaren_env {
    aaren_env_kind kind;
    const env_spec *spec;
    mjModel *m;
    mjData *d;
    int torso;      /* Ant: the torso body */
    int steps, done;
};

int aaren_env_available(void) { return 1; }

aaren_env *aaren_env_new(aaren_env_kind k, const char *xml_dir, char *err, size_t errlen) {
    if (k < 0 || k >= AAREN_ENV_COUNT) { aaren_errf(err, errlen, "rl: unknown environment %d", (int)k); return NULL; }
    const char *dir = xml_dir ? xml_dir : getenv("AAREN_MUJOCO_XML");
    if (!dir || !*dir) dir = "../shared/data/rl/mujoco_xml";
    char path[2048], msg[1000] = "";
    snprintf(path, sizeof path, "%s/%s", dir, specs[k].xml);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        aaren_file_err(err, errlen, path, "cannot open the model file (set the folder with --xml-dir or $AAREN_MUJOCO_XML)");
        return NULL;
    }
    fclose(probe);
    aaren_env *e = calloc(1, sizeof *e);
    if (!e) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    e->kind = k;
    e->spec = &specs[k];
    e->m = mj_loadXML(path, NULL, msg, sizeof msg);
    if (!e->m) {
        aaren_file_err(err, errlen, path, "MuJoCo cannot load this model: %s", msg[0] ? msg : "unknown error");
        free(e);
        return NULL;
    }
    const int want_obs = k == AAREN_ENV_ANT ? (e->m->nq - 2) + e->m->nv + 6 * e->m->nbody
                                            : (e->m->nq - 1) + e->m->nv;
    if (e->m->nu != e->spec->act_dim || want_obs != e->spec->obs_dim) {
        aaren_file_err(err, errlen, path, "this model has %d actuators and gives %d observations; %s needs %d and %d",
                       e->m->nu, want_obs, e->spec->name, e->spec->act_dim, e->spec->obs_dim);
        mj_deleteModel(e->m);
        free(e);
        return NULL;
    }
    e->torso = mj_name2id(e->m, mjOBJ_BODY, "torso");
    if (k == AAREN_ENV_ANT && e->torso < 0) {
        aaren_file_err(err, errlen, path, "no body named 'torso'");
        mj_deleteModel(e->m);
        free(e);
        return NULL;
    }
    if (!(e->d = mj_makeData(e->m))) {
        aaren_errf(err, errlen, "out of memory for MuJoCo data");
        mj_deleteModel(e->m);
        free(e);
        return NULL;
    }
    e->done = 1;
    return e;
}

void aaren_env_free(aaren_env *e) {
    if (!e) return;
    mj_deleteData(e->d);
    mj_deleteModel(e->m);
    free(e);
}

aaren_env_kind aaren_env_kind_of(const aaren_env *e) { return e->kind; }
int aaren_env_obs_dim(const aaren_env *e) { return e->spec->obs_dim; }
int aaren_env_act_dim(const aaren_env *e) { return e->spec->act_dim; }
int aaren_env_nq(const aaren_env *e) { return e->m->nq; }
int aaren_env_nv(const aaren_env *e) { return e->m->nv; }
double aaren_env_dt(const aaren_env *e) { return e->m->opt.timestep * e->spec->frame_skip; }
const double *aaren_env_qpos(const aaren_env *e) { return e->d->qpos; }
const double *aaren_env_qvel(const aaren_env *e) { return e->d->qvel; }

static double clip(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void observe(const aaren_env *e, float *obs) {
    const mjModel *m = e->m;
    const mjData *d = e->d;
    int k = 0;
    const int skip = e->kind == AAREN_ENV_ANT ? 2 : 1;
    const int clipv = e->kind == AAREN_ENV_HOPPER || e->kind == AAREN_ENV_WALKER2D;
    for (int i = skip; i < m->nq; i++) obs[k++] = (float)d->qpos[i];
    for (int i = 0; i < m->nv; i++) obs[k++] = (float)(clipv ? clip(d->qvel[i], -10, 10) : d->qvel[i]);
    if (e->kind == AAREN_ENV_ANT)   /* cfrc_ext of every body, world included: zeros (see env.h) */
        for (int i = 0; i < 6 * m->nbody; i++) obs[k++] = 0.0f;
}

int aaren_env_healthy(const aaren_env *e) {
    const mjModel *m = e->m;
    const double *q = e->d->qpos, *v = e->d->qvel;
    switch (e->kind) {
    case AAREN_ENV_HOPPER: {
        for (int i = 0; i < m->nq; i++) if (!isfinite(q[i])) return 0;
        for (int i = 0; i < m->nv; i++) if (!isfinite(v[i])) return 0;
        for (int i = 2; i < m->nq + m->nv; i++) {
            const double s = i < m->nq ? q[i] : v[i - m->nq];
            if (!(fabs(s) < 100)) return 0;
        }
        return q[1] > 0.7 && fabs(q[2]) < 0.2;
    }
    case AAREN_ENV_WALKER2D:
        return q[1] > 0.8 && q[1] < 2.0 && q[2] > -1.0 && q[2] < 1.0;
    case AAREN_ENV_ANT:
        for (int i = 0; i < m->nq; i++) if (!isfinite(q[i])) return 0;
        for (int i = 0; i < m->nv; i++) if (!isfinite(v[i])) return 0;
        return q[2] >= 0.2 && q[2] <= 1.0;
    default:
        return 1;
    }
}

void aaren_env_set_state(aaren_env *e, const double *qpos, const double *qvel, float *obs) {
    mj_resetData(e->m, e->d);
    memcpy(e->d->qpos, qpos, sizeof(double) * (size_t)e->m->nq);
    memcpy(e->d->qvel, qvel, sizeof(double) * (size_t)e->m->nv);
    mj_forward(e->m, e->d);
    e->steps = 0;
    e->done = 0;
    if (obs) observe(e, obs);
}

void aaren_env_reset(aaren_env *e, uint64_t *rng, float *obs) {
    const mjModel *m = e->m;
    double qpos[64], qvel[64];
    const int wide = e->kind == AAREN_ENV_HALFCHEETAH || e->kind == AAREN_ENV_ANT;
    for (int i = 0; i < m->nq && i < 64; i++)
        qpos[i] = m->qpos0[i] + (wide ? -0.1 + 0.2 * aaren_rng_uniform(rng) : -0.005 + 0.01 * aaren_rng_uniform(rng));
    for (int i = 0; i < m->nv && i < 64; i++)
        qvel[i] = wide ? 0.1 * aaren_rng_normal(rng) : -0.005 + 0.01 * aaren_rng_uniform(rng);
    aaren_env_set_state(e, qpos, qvel, obs);
}

/* The forward position the reward differentiates: the root slider, or Ant's torso x as
 * gym reads it (the body position of the last simulation step's kinematics). */
static double x_position(const aaren_env *e) {
    return e->kind == AAREN_ENV_ANT ? e->d->xpos[3 * e->torso] : e->d->qpos[0];
}

int aaren_env_step(aaren_env *e, const float *action, float *obs, double *reward, int *terminated, int *truncated) {
    if (e->done) return -1;
    const mjModel *m = e->m;
    mjData *d = e->d;
    double a2 = 0;
    for (int i = 0; i < m->nu; i++) { d->ctrl[i] = action[i]; a2 += (double)action[i] * action[i]; }
    const double x0 = x_position(e);
    for (int f = 0; f < e->spec->frame_skip; f++) mj_step(m, d);
    const double vel = (x_position(e) - x0) / aaren_env_dt(e);
    double r;
    switch (e->kind) {
    case AAREN_ENV_HALFCHEETAH: r = vel - 0.1 * a2; break;
    case AAREN_ENV_ANT: r = vel + 1.0 - 0.5 * a2; break;   /* contact cost 5e-4 |0|^2 = 0 */
    default: r = vel + 1.0 - 1e-3 * a2; break;
    }
    e->steps++;
    const int term = !aaren_env_healthy(e);
    *terminated = term;
    *truncated = !term && e->steps >= AAREN_ENV_MAX_STEPS;
    *reward = r;
    e->done = *terminated || *truncated;
    observe(e, obs);
    return 0;
}

#else /* built without MuJoCo */

struct aaren_env { int unused; };

int aaren_env_available(void) { return 0; }
aaren_env *aaren_env_new(aaren_env_kind k, const char *xml_dir, char *err, size_t errlen) {
    (void)k; (void)xml_dir;
    aaren_errf(err, errlen, "rl: this build has no MuJoCo (install libmujoco-dev and rebuild)");
    return NULL;
}
void aaren_env_free(aaren_env *e) { (void)e; }
aaren_env_kind aaren_env_kind_of(const aaren_env *e) { (void)e; return AAREN_ENV_HALFCHEETAH; }
int aaren_env_obs_dim(const aaren_env *e) { (void)e; return 0; }
int aaren_env_act_dim(const aaren_env *e) { (void)e; return 0; }
int aaren_env_nq(const aaren_env *e) { (void)e; return 0; }
int aaren_env_nv(const aaren_env *e) { (void)e; return 0; }
double aaren_env_dt(const aaren_env *e) { (void)e; return 0; }
void aaren_env_reset(aaren_env *e, uint64_t *rng, float *obs) { (void)e; (void)rng; (void)obs; }
void aaren_env_set_state(aaren_env *e, const double *qpos, const double *qvel, float *obs) {
    (void)e; (void)qpos; (void)qvel; (void)obs;
}
int aaren_env_step(aaren_env *e, const float *action, float *obs, double *reward, int *terminated, int *truncated) {
    (void)e; (void)action; (void)obs; (void)reward; (void)terminated; (void)truncated;
    return -1;
}
const double *aaren_env_qpos(const aaren_env *e) { (void)e; return NULL; }
const double *aaren_env_qvel(const aaren_env *e) { (void)e; return NULL; }
int aaren_env_healthy(const aaren_env *e) { (void)e; return 0; }
#endif
