/* aaren rl: offline RL on the MuJoCo locomotion environments (dispatch and eval-policy). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *rl_help =
    "usage: aaren rl make-data --env NAME [options]   (see aaren rl make-data --help)\n"
    "       aaren rl eval-policy --env NAME [--policy random|zero|FILE] [--episodes K] [--seed S]\n"
    "                            [--action-noise X] [--xml-dir DIR]\n"
    "       aaren rl info --data FILE.hdf5   (a D4RL-style data set; see aaren rl info --help)\n"
    "       aaren rl train --data FILE.hdf5 [--arch aaren|transformer] [options]\n"
    "       aaren rl eval --model FILE [--mode recompute|streams|full|all]\n"
    "       aaren rl act --model FILE --input EPISODE.csv --output ACTIONS.csv [--target R]\n\n"
    "make-data trains behaviour policies and writes D4RL-layout data sets.\n"
    "train / eval: Decision Aaren and the Decision Transformer (see aaren rl train --help).\n"
    "act: a saved decision model's actions for the observations and rewards of an episode.\n"
    "eval-policy runs K episodes (at most 1000 steps each) of a MuJoCo locomotion environment\n"
    "with gym's v3 semantics (halfcheetah, hopper, walker2d, ant; see src/rl/env.h) and prints\n"
    "the mean and std of the return, the episode lengths and D4RL's normalised score.\n"
    "Policies: random (uniform actions in [-1, 1]), zero (no action), or a policy file written\n"
    "by make-data (NAME-medium-policy.safetensors; --env may then be left out).\n"
    "The model files come from --xml-dir, else $AAREN_MUJOCO_XML, else\n"
    "../shared/data/rl/mujoco_xml. Needs a build with MuJoCo (libmujoco-dev).\n";

static const char *const rl_valued[] = {"env", "policy", "episodes", "seed", "xml-dir", "action-noise", NULL};

static int eval_policy(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "rl eval-policy", argc, argv, rl_valued, NULL);
    if (rc) { if (rc > 0) fputs(rl_help, stdout); return rc > 0 ? 0 : 2; }
    const char *pol = cli_get(&a, "policy") ? cli_get(&a, "policy") : "random";
    const int random = !strcmp(pol, "random");
    char err[1024];
    aaren_linpolicy lp = {0};
    aaren_env_kind pk = AAREN_ENV_COUNT;
    if (!random && strcmp(pol, "zero") && aaren_linpolicy_load(pol, &lp, &pk, err, sizeof err)) return cli_fail("rl", "%s", err);
    const char *name = cli_get(&a, "env") ? cli_get(&a, "env") : pk < AAREN_ENV_COUNT ? aaren_env_name(pk) : NULL;
    if (!name) return cli_fail("rl", "missing --env"), 2;
    const int k = aaren_env_kind_from_name(name);
    if (k < 0) return aaren_linpolicy_free(&lp), cli_fail("rl", "--env '%s': expected halfcheetah, hopper, walker2d or ant", name), 2;
    if (pk < AAREN_ENV_COUNT && (int)pk != k)
        return aaren_linpolicy_free(&lp), cli_fail("rl", "%s: the policy is for %s, not %s", pol, aaren_env_name(pk), name), 2;
    float noise;
    if (cli_float(&a, "action-noise", 0, 0, 10, &noise)) return aaren_linpolicy_free(&lp), 2;
    long episodes, seed;
    if (cli_int(&a, "episodes", 10, 1, 1000000, &episodes) || cli_int(&a, "seed", 1, 0, 0x7fffffffL, &seed))
        return aaren_linpolicy_free(&lp), 2;
    aaren_env *e = aaren_env_new((aaren_env_kind)k, cli_get(&a, "xml-dir"), err, sizeof err);
    if (!e) return aaren_linpolicy_free(&lp), cli_fail("rl", "%s", err);
    if (lp.block_ && (lp.obs_dim != aaren_env_obs_dim(e) || lp.act_dim != aaren_env_act_dim(e))) {
        aaren_env_free(e);
        aaren_linpolicy_free(&lp);
        return cli_fail("rl", "%s: the policy's dimensions do not match %s", pol, name);
    }
    const int no = aaren_env_obs_dim(e), na = aaren_env_act_dim(e);
    float *obs = malloc(sizeof(float) * (size_t)(2 * no + na)), *act = obs + no, *z = act + na;
    if (!obs) { aaren_env_free(e); aaren_linpolicy_free(&lp); return cli_fail("rl", "out of memory"); }
    uint64_t rs = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1, ra = rs ^ 0xA5A5A5A5ull;
    double sum = 0, sum2 = 0, len_sum = 0;
    long ended = 0;
    for (long ep = 0; ep < episodes; ep++) {
        aaren_env_reset(e, &rs, obs);
        double ret = 0, r;
        int term = 0, trunc = 0, steps = 0;
        while (!term && !trunc) {
            if (lp.block_) aaren_linpolicy_act(&lp, NULL, obs, z, act);
            for (int i = 0; i < na; i++) {
                const float v = random ? (float)(2 * aaren_rng_uniform(&ra) - 1) : lp.block_ ? act[i] : 0.0f;
                const float w = v + (noise > 0 ? noise * (float)aaren_rng_normal(&ra) : 0.0f);
                act[i] = w < -1 ? -1 : w > 1 ? 1 : w;
            }
            if (aaren_env_step(e, act, obs, &r, &term, &trunc)) break;
            ret += r;
            steps++;
        }
        sum += ret; sum2 += ret * ret; len_sum += steps; ended += term;
    }
    const double mean = sum / episodes, sd = episodes > 1 ? sqrt(fmax(0, (sum2 - sum * mean) / (episodes - 1))) : 0;
    printf("%s, %s policy, %ld episodes (seed %ld): return %.2f +- %.2f, length %.1f (%ld terminated), "
           "normalised score %.2f\n", aaren_env_name((aaren_env_kind)k), pol, episodes, seed, mean, sd, len_sum / episodes,
           ended, aaren_env_normalized_score((aaren_env_kind)k, mean));
    free(obs);
    aaren_env_free(e);
    aaren_linpolicy_free(&lp);
    return 0;
}

int cmd_rl(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(rl_help, stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "eval-policy")) return eval_policy(argc - 1, argv + 1);
    if (!strcmp(argv[0], "info")) return cmd_rl_info(argc - 1, argv + 1);
    if (!strcmp(argv[0], "make-data")) return cmd_rl_make_data(argc - 1, argv + 1);
    if (!strcmp(argv[0], "train")) return cmd_rl_dt_train(argc - 1, argv + 1);
    if (!strcmp(argv[0], "eval")) return cmd_rl_dt_eval(argc - 1, argv + 1);
    if (!strcmp(argv[0], "act")) return cmd_rl_dt_act(argc - 1, argv + 1);
    return cli_fail("rl", "unknown subcommand '%s' (see 'aaren rl --help')", argv[0]), 2;
}
