/* Behaviour policies and data set assembly (rl/policy.h, rl/ars.h, rl/datasets.h):
 * the linear policy against a hand computation and through a save / load round trip;
 * episode stores turned into the D4RL layout (next_observations, terminals and timeouts at
 * episode ends, the cut between the medium and expert parts marked); even thinning of the
 * replay episodes. With MuJoCo: ARS improves Hopper's return over a tiny budget, gives the
 * same policies on one thread as on two, and a collected data set has exactly the asked-for
 * transitions. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/parallel.h"
#include "rl/ars.h"
#include "rl/datasets.h"

static void test_linpolicy(void) {
    aaren_linpolicy p;
    CHECK(aaren_linpolicy_init(&p, 3, 2) == 0, "init");
    const float M[6] = {1, -2, 0.5f, 0, 3, -1}, mean[3] = {0.5f, -1, 2}, sd[3] = {2, 1, 0.5f};
    memcpy(p.M, M, sizeof M); memcpy(p.mean, mean, sizeof mean); memcpy(p.std, sd, sizeof sd);
    const float obs[3] = {1.5f, 0, 2.25f};
    float z[3], act[2];
    aaren_linpolicy_act(&p, NULL, obs, z, act);
    /* z = (0.5, 1, 0.5) */
    CHECK(fabsf(act[0] - (0.5f - 2 + 0.25f)) < 1e-6f && fabsf(act[1] - (3 - 0.5f)) < 1e-6f, "act %g %g", act[0], act[1]);
    const char *path = check_tmp_path("p.safetensors");
    char err[1024];
    const char *keys[1] = {"policy.kind"}, *vals[1] = {"medium"};
    CHECK(aaren_linpolicy_save(path, &p, AAREN_ENV_HOPPER, 1, keys, vals, err, sizeof err) == 0, "save: %s", err);
    aaren_linpolicy q;
    aaren_env_kind k = AAREN_ENV_COUNT;
    CHECK(aaren_linpolicy_load(path, &q, &k, err, sizeof err) == 0, "load: %s", err);
    CHECK(k == AAREN_ENV_HOPPER && q.obs_dim == 3 && q.act_dim == 2 && !memcmp(q.M, M, sizeof M) &&
          !memcmp(q.mean, mean, sizeof mean) && !memcmp(q.std, sd, sizeof sd), "round trip");
    aaren_linpolicy_free(&q);
    p.std[1] = 0;   /* a policy with std 0 is refused by name */
    CHECK(aaren_linpolicy_save(path, &p, AAREN_ENV_HOPPER, 0, NULL, NULL, err, sizeof err) == 0, "save");
    CHECK(aaren_linpolicy_load(path, &q, &k, err, sizeof err) != 0 && strstr(err, "p.safetensors") && strstr(err, "std"),
          "std 0 refused: %s", err);
    const char *bad = check_write_text("bad.safetensors", "not a file");
    CHECK(aaren_linpolicy_load(bad, &q, &k, err, sizeof err) != 0 && strstr(err, "bad.safetensors"), "garbage: %s", err);
    remove(path);
    remove(bad);
    aaren_linpolicy_free(&p);
}

/* An episode of length len whose observations are (e, t) and rewards e + t / 100. */
static void fake_episode(aaren_episode *ep, int e, int len, int end) {
    ep->len = len;
    ep->end = end;
    for (int t = 0; t <= len; t++) { ep->obs[2 * t] = (float)e; ep->obs[2 * t + 1] = (float)t; }
    for (int t = 0; t < len; t++) { ep->act[t] = (float)(e * 1000 + t); ep->rew[t] = e + t / 100.0f; }
}

static void test_store(void) {
    aaren_episode ep;
    CHECK(aaren_episode_init(&ep, 2, 1) == 0, "episode init");
    aaren_episode_store a, b;
    aaren_store_init(&a, 2, 1);
    aaren_store_init(&b, 2, 1);
    const int lens[4] = {5, 1000, 7, 9}, ends[4] = {AAREN_EP_TERMINATED, AAREN_EP_TRUNCATED, AAREN_EP_TERMINATED, AAREN_EP_TRUNCATED};
    for (int e = 0; e < 4; e++) {
        fake_episode(&ep, e, lens[e], ends[e]);
        CHECK(aaren_store_add(&a, &ep, e == 3 ? 4 : lens[e]) == 0, "add");   /* the last one is cut after 4 steps */
    }
    fake_episode(&ep, 9, 3, AAREN_EP_TERMINATED);
    CHECK(aaren_store_add(&b, &ep, 3) == 0, "add b");
    CHECK(a.n_ep == 4 && a.n_steps == 5 + 1000 + 7 + 4 && a.ep_end[3] == AAREN_EP_UNFINISHED, "store counts");
    CHECK(fabs(a.ep_ret[2] - (7 * 2 + (0 + 6) * 7 / 2 / 100.0)) < 1e-4, "stored return %g", a.ep_ret[2]);
    aaren_d4rl d;
    char err[256];
    CHECK(aaren_store_to_d4rl(&a, NULL, &b, &d, err, sizeof err) == 0, "to d4rl: %s", err);
    CHECK(d.n == a.n_steps + 3 && d.obs_dim == 2 && d.act_dim == 1, "rows %ld", d.n);
    long bad = 0;
    for (long i = 0; i < d.n; i++) {   /* next observation is the following step of the same episode */
        const float *o = d.observations + 2 * i, *n = d.next_observations + 2 * i;
        bad += n[0] != o[0] || n[1] != o[1] + 1 || d.actions[i] != o[0] * 1000 + o[1];
    }
    CHECK(bad == 0, "%ld rows with a wrong next observation or action", bad);
    /* episode ends: 5 terminal, 1005 timeout, 1012 terminal, 1016 the cut (marked as a timeout before part b), 1019 terminal */
    const long ends_at[5] = {4, 1004, 1011, 1015, 1018};
    const int term[5] = {1, 0, 1, 0, 1}, tout[5] = {0, 1, 0, 1, 0};
    long flags = 0;
    for (long i = 0; i < d.n; i++) flags += d.terminals[i] + d.timeouts[i];
    CHECK(flags == 5, "%ld flagged rows", flags);
    for (int e = 0; e < 5; e++)
        CHECK(d.terminals[ends_at[e]] == term[e] && d.timeouts[ends_at[e]] == tout[e], "episode %d end flags", e);
    CHECK(d.n_episodes == 5, "episodes %ld", d.n_episodes);
    aaren_d4rl_free(&d);
    /* thinning: 100 episodes of 10 steps, about 300 steps kept, spread over the whole run */
    aaren_episode_store r;
    aaren_store_init(&r, 2, 1);
    for (int e = 0; e < 100; e++) { fake_episode(&ep, e, 10, AAREN_EP_TERMINATED); aaren_store_add(&r, &ep, 10); }
    unsigned char keep[100];
    const long kept = aaren_store_thin(&r, 300, keep);
    int first = -1, last = -1, n = 0;
    for (int e = 0; e < 100; e++) if (keep[e]) { if (first < 0) first = e; last = e; n++; }
    CHECK(kept == 300 && n == 30 && first <= 3 && last >= 96, "thin kept %ld steps, %d episodes, %d..%d", kept, n, first, last);
    CHECK(aaren_store_to_d4rl(&r, keep, NULL, &d, err, sizeof err) == 0 && d.n == 300 && d.n_episodes == 30, "thinned set");
    aaren_d4rl_free(&d);
    CHECK(aaren_store_thin(&r, 5000, keep) == 1000, "thin keeps everything when there is room");
    aaren_store_free(&r);
    aaren_store_free(&a);
    aaren_store_free(&b);
    aaren_episode_free(&ep);
}

static const char *xml_dir(void) {
    const char *shared = getenv("AAREN_SHARED");
    static char buf[1024];
    const char *roots[3] = {shared, "../shared", "../../shared"};
    for (int i = 0; i < 3; i++) {
        if (!roots[i] || !*roots[i]) continue;
        snprintf(buf, sizeof buf, "%s/data/rl/mujoco_xml/hopper.xml", roots[i]);
        FILE *f = fopen(buf, "rb");
        if (f) { fclose(f); snprintf(buf, sizeof buf, "%s/data/rl/mujoco_xml", roots[i]); return buf; }
    }
    return NULL;
}

static void test_ars(const char *dir) {
    aaren_ars_config c;
    aaren_ars_defaults(AAREN_ENV_HOPPER, &c);
    c.episodes = 96;
    c.seed = 3;
    aaren_linpolicy med[2], exp[2];
    aaren_ars_result res[2];
    char err[1024];
    for (int run = 0; run < 2; run++) {
#ifdef _OPENMP
        omp_set_num_threads(run ? 2 : 1);
#endif
        aaren_linpolicy_init(&med[run], 11, 3);
        aaren_linpolicy_init(&exp[run], 11, 3);
        CHECK(aaren_ars_train(AAREN_ENV_HOPPER, dir, &c, &med[run], &exp[run], NULL, NULL, NULL, &res[run], err, sizeof err) == 0,
              "ars: %s", err);
    }
    CHECK(!memcmp(exp[0].block_, exp[1].block_, sizeof(float) * (33 + 22)) && res[0].steps == res[1].steps,
          "ARS gives the same policy on one thread and on two");
    aaren_linpolicy zero;
    aaren_linpolicy_init(&zero, 11, 3);
    double zr, zs, er, es, len;
    CHECK(aaren_policy_evaluate(AAREN_ENV_HOPPER, dir, &zero, 8, 0, 11, &zr, &zs, &len, err, sizeof err) == 0 &&
          aaren_policy_evaluate(AAREN_ENV_HOPPER, dir, &exp[0], 8, 0, 11, &er, &es, &len, err, sizeof err) == 0, "%s", err);
    CHECK(er > zr + 100, "ARS after %ld episodes: return %.1f vs %.1f for the zero policy", res[0].episodes, er, zr);
    aaren_episode_store s;
    aaren_store_init(&s, 11, 3);
    CHECK(aaren_collect(AAREN_ENV_HOPPER, dir, &exp[0], 0.1f, 1234, 5, &s, err, sizeof err) == 0, "collect: %s", err);
    CHECK(s.n_steps == 1234 && s.ep_end[s.n_ep - 1] != AAREN_EP_TRUNCATED, "collected %ld steps", s.n_steps);
    long open = 0;
    for (long e = 0; e + 1 < s.n_ep; e++) open += s.ep_end[e] == AAREN_EP_UNFINISHED || (s.ep_end[e] == AAREN_EP_TRUNCATED) != (s.ep_len[e] == 1000);
    CHECK(s.n_ep > 1 && open == 0, "every episode but the cut last one ends by falling or at the 1000-step cap");
    aaren_store_free(&s);
    for (int run = 0; run < 2; run++) { aaren_linpolicy_free(&med[run]); aaren_linpolicy_free(&exp[run]); }
    aaren_linpolicy_free(&zero);
}

int main(void) {
    test_linpolicy();
    test_store();
    const char *dir = xml_dir();
    if (!aaren_env_available() || !dir) printf("test_policy: MuJoCo or the model files missing, ARS part skipped\n");
    else test_ars(dir);
    check_tmp_cleanup();
    return check_done("test_policy");
}
