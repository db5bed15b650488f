/* The MuJoCo locomotion environments (rl/env.h): dimensions; observations built from states
 * set explicitly (qpos[1:] or qpos[2:], clipped or raw qvel, Ant's zero contact forces);
 * rewards against the formula (forward velocity from qpos[0] before and after, healthy
 * bonus, control cost); each healthy rule at and beyond its bounds; reset noise within its
 * documented range and deterministic for a seed; the 1000-step cap; errors for a missing or
 * broken model file; the D4RL normalised score. Skips (77) without MuJoCo or the model files. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/rng.h"
#include "rl/env.h"

static const char *xml_dir(void) {
    const char *env = getenv("AAREN_MUJOCO_XML");
    if (env && *env) return env;
    const char *shared = getenv("AAREN_SHARED");
    static char buf[1024];
    const char *roots[3] = {shared, "../shared", "../../shared"};
    for (int i = 0; i < 3; i++) {
        if (!roots[i] || !*roots[i]) continue;
        snprintf(buf, sizeof buf, "%s/data/rl/mujoco_xml", roots[i]);
        char probe[1100];
        snprintf(probe, sizeof probe, "%s/hopper.xml", buf);
        FILE *f = fopen(probe, "rb");
        if (f) { fclose(f); return buf; }
    }
    return NULL;
}

static void check_env(aaren_env_kind k, const char *dir) {
    char err[1024];
    aaren_env *e = aaren_env_new(k, dir, err, sizeof err);
    CHECK(e != NULL, "%s: %s", aaren_env_name(k), err);
    if (!e) return;
    const int nq = aaren_env_nq(e), nv = aaren_env_nv(e), no = aaren_env_obs_dim(e), na = aaren_env_act_dim(e);
    static const int want_obs[] = {17, 11, 17, 111}, want_act[] = {6, 3, 6, 8};
    CHECK(no == want_obs[k] && na == want_act[k], "%s: obs %d act %d", aaren_env_name(k), no, na);
    float obs[128], obs2[128], act[8];
    double q[64], v[64];
    uint64_t r = 7;
    /* reset: noise within range, same seed same state */
    uint64_t s1 = 42, s2 = 42, s3 = 43;
    aaren_env_reset(e, &s1, obs);
    double q1[64];
    memcpy(q1, aaren_env_qpos(e), sizeof(double) * nq);
    aaren_env_reset(e, &s2, obs2);
    CHECK(!memcmp(obs, obs2, sizeof(float) * no) && !memcmp(q1, aaren_env_qpos(e), sizeof(double) * nq),
          "%s: the same seed gives a different reset", aaren_env_name(k));
    aaren_env_reset(e, &s3, obs2);
    CHECK(memcmp(obs, obs2, sizeof(float) * no) != 0, "%s: different seeds give the same reset", aaren_env_name(k));
    /* observation from an explicit state */
    for (int i = 0; i < nq; i++) q[i] = q1[i] + 0.01 * aaren_rng_normal(&r);
    for (int i = 0; i < nv; i++) v[i] = 15.0 * aaren_rng_normal(&r);   /* some beyond +-10 */
    aaren_env_set_state(e, q, v, obs);
    const int skip = k == AAREN_ENV_ANT ? 2 : 1, clipv = k == AAREN_ENV_HOPPER || k == AAREN_ENV_WALKER2D;
    int bad = 0, n = 0;
    /* MuJoCo normalises quaternions (Ant's free joint, qpos[3:7]) in mj_forward */
    for (int i = 0; i < nq; i++)
        if (!(k == AAREN_ENV_ANT && i >= 3 && i < 7)) bad += aaren_env_qpos(e)[i] != q[i];
    for (int i = skip; i < nq; i++) bad += obs[n++] != (float)aaren_env_qpos(e)[i];
    for (int i = 0; i < nv; i++) {
        const double w = clipv ? fmax(-10, fmin(10, v[i])) : v[i];
        bad += obs[n++] != (float)w;
    }
    while (n < no) bad += obs[n++] != 0.0f;
    CHECK(bad == 0, "%s: %d observation entries differ from the state", aaren_env_name(k), bad);
    /* reward from the formula (Ant reads the torso body position; checked loosely) */
    aaren_env_set_state(e, q1, v, obs);
    for (int i = 0; i < nq; i++) q[i] = aaren_env_qpos(e)[i];
    for (int i = 0; i < na; i++) act[i] = (float)(0.8 * aaren_rng_normal(&r));
    double rew, a2 = 0;
    int term, trunc;
    for (int i = 0; i < na; i++) a2 += (double)act[i] * act[i];
    CHECK(aaren_env_step(e, act, obs, &rew, &term, &trunc) == 0, "%s: step refused", aaren_env_name(k));
    const double vel = (aaren_env_qpos(e)[0] - q[0]) / aaren_env_dt(e);
    static const double ctrl[] = {0.1, 1e-3, 1e-3, 0.5}, alive[] = {0, 1, 1, 1};
    const double want = vel + alive[k] - ctrl[k] * a2;
    CHECK(k == AAREN_ENV_ANT ? fabs(rew - want) < 0.5 * fabs(vel) + 1e-6 : fabs(rew - want) < 1e-9 * (1 + fabs(want)),
          "%s: reward %.12g, formula %.12g", aaren_env_name(k), rew, want);
    aaren_env_free(e);
}

/* Healthy rules at explicit states: the given coordinate set to each value. */
static void check_health(aaren_env_kind k, const char *dir, int coord, const double *vals, const int *healthy, int n) {
    char err[1024];
    aaren_env *e = aaren_env_new(k, dir, err, sizeof err);
    if (!e) return;
    uint64_t r = 1;
    float obs[128];
    aaren_env_reset(e, &r, obs);
    double q[64], v[64] = {0};
    memcpy(q, aaren_env_qpos(e), sizeof(double) * aaren_env_nq(e));
    for (int i = 0; i < n; i++) {
        q[coord] = vals[i];
        aaren_env_set_state(e, q, v, obs);
        CHECK(aaren_env_healthy(e) == healthy[i], "%s: qpos[%d] = %g should be %s", aaren_env_name(k), coord, vals[i],
              healthy[i] ? "healthy" : "unhealthy");
    }
    aaren_env_free(e);
}

int main(void) {
    CHECK(fabs(aaren_env_normalized_score(AAREN_ENV_HOPPER, -20.272305)) < 1e-9 &&
          fabs(aaren_env_normalized_score(AAREN_ENV_HOPPER, 3234.3) - 100) < 1e-9, "hopper normalised score references");
    CHECK(aaren_env_kind_from_name("Walker2d") == AAREN_ENV_WALKER2D && aaren_env_kind_from_name("walker") == -1,
          "environment names");
    if (!aaren_env_available()) return check_skip("test_env", "built without MuJoCo (install libmujoco-dev)");
    const char *dir = xml_dir();
    if (!dir) return check_skip("test_env", "the model files (../shared/data/rl/mujoco_xml) are absent");
    char err[1024];
    CHECK(aaren_env_new(AAREN_ENV_HOPPER, "/nonexistent", err, sizeof err) == NULL && strstr(err, "/nonexistent/hopper.xml"),
          "a missing model file is named: %s", err);
    if (check_tmp_dir()) {
        check_write_text("hopper.xml", "<mujoco><worldbody><body></mujoco>");
        CHECK(aaren_env_new(AAREN_ENV_HOPPER, check_tmp_dir(), err, sizeof err) == NULL && strstr(err, "hopper.xml") &&
              strstr(err, "cannot load"), "a broken model file is named: %s", err);
        check_write_text("ant.xml", "<mujoco><worldbody><body name='torso'><joint type='free'/><geom size='0.1'/></body></worldbody></mujoco>");
        CHECK(aaren_env_new(AAREN_ENV_ANT, check_tmp_dir(), err, sizeof err) == NULL && strstr(err, "actuators"),
              "a model of the wrong shape is refused: %s", err);
        remove(check_tmp_path("hopper.xml"));
        remove(check_tmp_path("ant.xml"));
        check_tmp_cleanup();
    }
    for (int k = 0; k < AAREN_ENV_COUNT; k++) check_env((aaren_env_kind)k, dir);
    {   /* hopper: height > 0.7, |angle| < 0.2 */
        const double h[] = {1.25, 0.71, 0.7, 0.5}, a[] = {0.0, 0.19, -0.19, 0.2, -0.25};
        const int hh[] = {1, 1, 0, 0}, ha[] = {1, 1, 1, 0, 0};
        check_health(AAREN_ENV_HOPPER, dir, 1, h, hh, 4);
        check_health(AAREN_ENV_HOPPER, dir, 2, a, ha, 5);
        const double big[] = {0.0, 99.0, 100.0, NAN};   /* a joint angle: |state[2:]| < 100, finite */
        const int hb[] = {1, 1, 0, 0};
        check_health(AAREN_ENV_HOPPER, dir, 3, big, hb, 4);
    }
    {   /* walker2d: 0.8 < height < 2, -1 < angle < 1 */
        const double h[] = {1.25, 0.81, 0.8, 2.0, 1.99}, a[] = {0.0, 0.99, -0.99, 1.0, -1.0};
        const int hh[] = {1, 1, 0, 0, 1}, ha[] = {1, 1, 1, 0, 0};
        check_health(AAREN_ENV_WALKER2D, dir, 1, h, hh, 5);
        check_health(AAREN_ENV_WALKER2D, dir, 2, a, ha, 5);
    }
    {   /* ant: 0.2 <= z <= 1 */
        const double z[] = {0.75, 0.2, 1.0, 0.19, 1.01};
        const int hz[] = {1, 1, 1, 0, 0};
        check_health(AAREN_ENV_ANT, dir, 2, z, hz, 5);
    }
    {   /* the step cap, and determinism of a whole episode */
        aaren_env *e = aaren_env_new(AAREN_ENV_HALFCHEETAH, dir, err, sizeof err);
        if (e) {
            float obs[32], act[6], first[32];
            double rew, ret[2] = {0, 0};
            int term = 0, trunc = 0, steps = 0;
            for (int rep = 0; rep < 2; rep++) {
                uint64_t s = 5, ra = 9;
                aaren_env_reset(e, &s, obs);
                steps = 0;
                do {
                    for (int i = 0; i < 6; i++) act[i] = (float)(2 * aaren_rng_uniform(&ra) - 1);
                    if (aaren_env_step(e, act, obs, &rew, &term, &trunc)) break;
                    ret[rep] += rew;
                    steps++;
                } while (!term && !trunc);
                if (rep == 0) memcpy(first, obs, sizeof first);
            }
            CHECK(steps == 1000 && trunc && !term, "halfcheetah: episode of %d steps (truncated %d, terminated %d)", steps, trunc, term);
            CHECK(ret[0] == ret[1] && !memcmp(first, obs, sizeof(float) * 17), "halfcheetah: the same seeds give a different episode");
            CHECK(aaren_env_step(e, act, obs, &rew, &term, &trunc) == -1, "a step after the end is refused");
            aaren_env_free(e);
        }
    }
    {   /* hopper falls under random actions and terminates before the cap */
        aaren_env *e = aaren_env_new(AAREN_ENV_HOPPER, dir, err, sizeof err);
        if (e) {
            float obs[16], act[3];
            double rew;
            int term = 0, trunc = 0, steps = 0;
            uint64_t s = 3, ra = 4;
            aaren_env_reset(e, &s, obs);
            do {
                for (int i = 0; i < 3; i++) act[i] = (float)(2 * aaren_rng_uniform(&ra) - 1);
                if (aaren_env_step(e, act, obs, &rew, &term, &trunc)) break;
                steps++;
            } while (!term && !trunc);
            CHECK(term && !trunc && steps < 1000 && !aaren_env_healthy(e), "hopper: random actions end by termination (%d steps)", steps);
            aaren_env_free(e);
        }
    }
    return check_done("test_env");
}
