/* aaren rl make-data: trains the behaviour policies with ARS and writes the medium,
 * medium-replay and medium-expert data sets of one environment. */
#include <string.h>
#include "cli.h"

static const char *make_help =
    "usage: aaren rl make-data --env NAME [--out DIR] [--size N] [--seed S] [--train-episodes N]\n"
    "                          [--action-noise X] [--eval-episodes K] [--xml-dir DIR] [--quiet]\n\n"
    "Trains linear behaviour policies with Augmented Random Search (src/rl/ars.h) and writes\n"
    "D4RL-layout HDF5 data sets made the way D4RL made its v2 locomotion data:\n"
    "  DIR/NAME-medium.hdf5         N transitions of the medium policy (the first one whose\n"
    "                               evaluation reaches a third of the expert reference return)\n"
    "  DIR/NAME-medium-replay.hdf5  the learner's rollouts up to the medium policy (about N)\n"
    "  DIR/NAME-medium-expert.hdf5  the medium data plus N transitions of the expert policy\n"
    "                               (the best evaluated policy of the training budget)\n"
    "and the policies (DIR/NAME-{medium,expert}-policy.safetensors) and the training log\n"
    "(DIR/NAME-ars.csv). Prints each policy's return and D4RL normalised score over K fresh\n"
    "episodes (default 10).\n"
    "  --size N            transitions per data set (default 100000; D4RL's are 1M, scaled down\n"
    "                      so that generation takes minutes)\n"
    "  --train-episodes N  ARS budget in training episodes (default per environment, ars.c)\n"
    "  --action-noise X    Gaussian action noise while collecting (default 0.1)\n"
    "  --out DIR           output folder (default rl_data)\n"
    "Deterministic for a seed, whatever the thread count. Needs MuJoCo and HDF5.\n";

static const char *const make_valued[] = {"env", "out", "size", "seed", "train-episodes", "action-noise",
                                          "eval-episodes", "xml-dir", NULL};
static const char *const make_flags[] = {"quiet", NULL};

/* Each ARS evaluation on stderr. */
static int on_eval(void *ctx, const aaren_ars_report *r) {
    fprintf(stderr, "[%s] iter %4d  episodes %6ld  steps %9ld  eval %8.1f +- %6.1f  best %8.1f%s  %6.1f s\n",
            (const char *)ctx, r->iteration, r->episodes, r->steps, r->eval_return, r->eval_std, r->best_return,
            r->medium_found ? "  <- medium" : "", r->seconds);
    return 0;
}

int cmd_rl_make_data(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "rl make-data", argc, argv, make_valued, make_flags);
    if (rc) { if (rc > 0) fputs(make_help, stdout); return rc > 0 ? 0 : 2; }
    const char *name = cli_need(&a, "env");
    if (!name) return 2;
    const int k = aaren_env_kind_from_name(name);
    if (k < 0) return cli_fail("rl make-data", "--env '%s': expected halfcheetah, hopper, walker2d or ant", name), 2;
    aaren_make_options o;
    aaren_make_options_init((aaren_env_kind)k, &o);
    long size, seed, budget, evals;
    if (cli_int(&a, "size", o.size, 1, 100000000, &size) || cli_int(&a, "seed", 0, 0, 0x7fffffffL, &seed) ||
        cli_int(&a, "train-episodes", o.ars.episodes, 1, 100000000, &budget) ||
        cli_int(&a, "eval-episodes", o.eval_episodes, 1, 100000, &evals) ||
        cli_float(&a, "action-noise", o.action_noise, 0, 10, &o.action_noise))
        return 2;
    o.size = size;
    o.ars.episodes = budget;
    o.ars.seed = (uint64_t)seed;
    o.eval_episodes = (int)evals;
    o.xml_dir = cli_get(&a, "xml-dir");
    const char *dir = cli_get(&a, "out") ? cli_get(&a, "out") : "rl_data";
    const int quiet = cli_flag(&a, "quiet");
    const char *env = aaren_env_name((aaren_env_kind)k);
    if (!quiet)
        fprintf(stderr, "[%s] ARS: %d directions, top %d, step %g, noise %g, alive shift %g, %ld training episodes, "
                "medium target %.1f\n", env, o.ars.directions, o.ars.top, o.ars.step, o.ars.noise, o.ars.shift,
                o.ars.episodes, o.ars.medium_target);
    char err[1024];
    if (aaren_make_data((aaren_env_kind)k, &o, dir, quiet ? NULL : on_eval, (void *)env, stdout, err, sizeof err))
        return cli_fail("rl make-data", "%s", err);
    return 0;
}
