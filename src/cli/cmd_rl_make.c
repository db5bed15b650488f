/* aaren rl make-data: trains the behaviour policies with ARS and writes the medium,
 * medium-replay and medium-expert data sets of one environment. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "rl/ars.h"
#include "rl/datasets.h"

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

typedef struct {
    FILE *log;
    const char *env;
    int quiet;
} progress_ctx;

static int on_eval(void *vctx, const aaren_ars_report *r) {
    progress_ctx *c = vctx;
    if (c->log)
        fprintf(c->log, "%d,%ld,%ld,%.3f,%.3f,%.3f,%d,%.2f\n", r->iteration, r->episodes, r->steps, r->eval_return,
                r->eval_std, r->best_return, r->medium_found, r->seconds);
    if (!c->quiet)
        fprintf(stderr, "[%s] iter %4d  episodes %6ld  steps %9ld  eval %8.1f +- %6.1f  best %8.1f%s  %6.1f s\n", c->env,
                r->iteration, r->episodes, r->steps, r->eval_return, r->eval_std, r->best_return,
                r->medium_found ? "  <- medium" : "", r->seconds);
    return 0;
}

/* Writes one data set with its meta; prints its summary line. */
static int write_set(const char *dir, const char *env, const char *set, aaren_d4rl *d, long seed, float noise,
                     double policy_return) {
    char path[1200], v[64], err[1024];
    snprintf(path, sizeof path, "%s/%s-%s.hdf5", dir, env, set);
    aaren_d4rl_set_meta(d, "env", env);
    aaren_d4rl_set_meta(d, "dataset", set);
    snprintf(v, sizeof v, "%ld", seed);
    aaren_d4rl_set_meta(d, "seed", v);
    snprintf(v, sizeof v, "%g", noise);
    aaren_d4rl_set_meta(d, "action_noise", v);
    snprintf(v, sizeof v, "%.3f", policy_return);
    aaren_d4rl_set_meta(d, "policy_return", v);
    aaren_d4rl_set_meta(d, "generator", "aaren rl make-data (ARS behaviour policies)");
    if (aaren_d4rl_save(path, d, err, sizeof err)) return cli_fail("rl make-data", "%s", err);
    aaren_d4rl_stats s;
    aaren_d4rl_stats_of(d, &s);
    const aaren_env_kind k = (aaren_env_kind)aaren_env_kind_from_name(env);
    printf("%-36s %8ld transitions  %5ld episodes  return %9.1f +- %7.1f  score %6.1f\n", path, s.n, s.episodes,
           s.ret_mean, s.ret_std, aaren_env_normalized_score(k, s.ret_mean));
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
    if (!aaren_env_available()) return cli_fail("rl make-data", "this build has no MuJoCo (install libmujoco-dev and rebuild)");
    if (!aaren_hdf5_available()) return cli_fail("rl make-data", "this build has no HDF5 (install libhdf5-dev and rebuild)");
    aaren_ars_config ac;
    aaren_ars_defaults((aaren_env_kind)k, &ac);
    long size, seed, budget, evals;
    if (cli_int(&a, "size", 100000, 1, 100000000, &size) || cli_int(&a, "seed", 0, 0, 0x7fffffffL, &seed) ||
        cli_int(&a, "train-episodes", ac.episodes, 1, 100000000, &budget) ||
        cli_int(&a, "eval-episodes", 10, 1, 100000, &evals))
        return 2;
    float noise;
    if (cli_float(&a, "action-noise", 0.1f, 0, 10, &noise)) return 2;
    ac.episodes = budget;
    ac.seed = (uint64_t)seed;
    const char *dir = cli_get(&a, "out") ? cli_get(&a, "out") : "rl_data", *xml = cli_get(&a, "xml-dir");
    if (mkdir(dir, 0777) && errno != EEXIST) return cli_fail("rl make-data", "%s: cannot create the folder", dir);

    char err[1024], path[1200];
    aaren_env *probe = aaren_env_new((aaren_env_kind)k, xml, err, sizeof err);
    if (!probe) return cli_fail("rl make-data", "%s", err);
    const int no = aaren_env_obs_dim(probe), na = aaren_env_act_dim(probe);
    aaren_env_free(probe);
    const char *env = aaren_env_name((aaren_env_kind)k);

    aaren_linpolicy med = {0}, exp = {0};
    aaren_episode_store replay, medium, expert;
    aaren_store_init(&replay, no, na);
    aaren_store_init(&medium, no, na);
    aaren_store_init(&expert, no, na);
    aaren_d4rl d = {0};
    unsigned char *keep = NULL;
    rc = 1;
    if (aaren_linpolicy_init(&med, no, na) || aaren_linpolicy_init(&exp, no, na)) {
        cli_fail("rl make-data", "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s-ars.csv", dir, env);
    aaren_writer *logw = aaren_writer_open(path, err, sizeof err);   /* in place when training ends */
    if (!logw) { cli_fail("rl make-data", "%s", err); goto done; }
    progress_ctx pc = {aaren_writer_file(logw), env, cli_flag(&a, "quiet")};
    fprintf(pc.log, "iteration,episodes,steps,eval_return,eval_std,best_return,medium_found,seconds\n");
    if (!pc.quiet)
        fprintf(stderr, "[%s] ARS: %d directions, top %d, step %g, noise %g, alive shift %g, %ld training episodes, "
                "medium target %.1f\n", env, ac.directions, ac.top, ac.step, ac.noise, ac.shift, ac.episodes, ac.medium_target);
    aaren_ars_result res;
    const double t0 = cli_now();
    int trc = aaren_ars_train((aaren_env_kind)k, xml, &ac, &med, &exp, &replay, on_eval, &pc, &res, err, sizeof err);
    if (trc) {
        aaren_writer_abort(logw);
        cli_fail("rl make-data", "%s", err);
        goto done;
    }
    if (aaren_writer_commit(logw, err, sizeof err)) { cli_fail("rl make-data", "%s", err); goto done; }
    const double t_train = cli_now() - t0;
    if (!res.medium_reached)
        fprintf(stderr, "aaren rl make-data: warning: no evaluation reached the medium target %.1f; the medium policy is "
                "the best one seen (%.1f)\n", ac.medium_target, res.medium_at.eval_return);

    /* fresh evaluations of both policies (streams never used in training) */
    double mr, ms, er, es, ml, el;
    const uint64_t eseed = (uint64_t)seed * 7919 + 104729;
    if (aaren_policy_evaluate((aaren_env_kind)k, xml, &med, (int)evals, 0, eseed, &mr, &ms, &ml, err, sizeof err) ||
        aaren_policy_evaluate((aaren_env_kind)k, xml, &exp, (int)evals, 0, eseed, &er, &es, &el, err, sizeof err)) {
        cli_fail("rl make-data", "%s", err);
        goto done;
    }
    const aaren_linpolicy *pols[2] = {&med, &exp};
    const char *pnames[2] = {"medium", "expert"};
    const double prets[2] = {mr, er};
    for (int i = 0; i < 2; i++) {
        char v[3][64];
        const char *keys[3] = {"policy.kind", "policy.eval_return", "policy.seed"};
        const char *vals[3] = {v[0], v[1], v[2]};
        snprintf(v[0], 64, "%s", pnames[i]);
        snprintf(v[1], 64, "%.3f", prets[i]);
        snprintf(v[2], 64, "%ld", seed);
        snprintf(path, sizeof path, "%s/%s-%s-policy.safetensors", dir, env, pnames[i]);
        if (aaren_linpolicy_save(path, pols[i], (aaren_env_kind)k, 3, keys, vals, err, sizeof err)) {
            cli_fail("rl make-data", "%s", err);
            goto done;
        }
    }
    printf("%s: ARS %ld episodes, %ld steps, %.1f s\n", env, res.episodes, res.steps, t_train);
    printf("%s: medium policy  return %8.1f +- %6.1f  length %6.1f  score %6.1f  (training evaluation %.1f, iteration %d)\n",
           env, mr, ms, ml, aaren_env_normalized_score((aaren_env_kind)k, mr), res.medium_at.eval_return, res.medium_at.iteration);
    printf("%s: expert policy  return %8.1f +- %6.1f  length %6.1f  score %6.1f  (training evaluation %.1f, iteration %d)\n",
           env, er, es, el, aaren_env_normalized_score((aaren_env_kind)k, er), res.expert_at.eval_return, res.expert_at.iteration);

    /* the data sets */
    const double t1 = cli_now();
    if (aaren_collect((aaren_env_kind)k, xml, &med, noise, size, (uint64_t)seed * 31 + 1, &medium, err, sizeof err) ||
        aaren_collect((aaren_env_kind)k, xml, &exp, noise, size, (uint64_t)seed * 31 + 2, &expert, err, sizeof err)) {
        cli_fail("rl make-data", "%s", err);
        goto done;
    }
    if (aaren_store_to_d4rl(&medium, NULL, NULL, &d, err, sizeof err)) { cli_fail("rl make-data", "%s", err); goto done; }
    if (write_set(dir, env, "medium", &d, seed, noise, mr)) goto done;
    aaren_d4rl_free(&d);
    if (!(keep = malloc(replay.n_ep ? (size_t)replay.n_ep : 1))) { cli_fail("rl make-data", "out of memory"); goto done; }
    aaren_store_thin(&replay, size, keep);
    if (aaren_store_to_d4rl(&replay, keep, NULL, &d, err, sizeof err)) { cli_fail("rl make-data", "%s", err); goto done; }
    if (write_set(dir, env, "medium-replay", &d, seed, 0, mr)) goto done;
    aaren_d4rl_free(&d);
    if (aaren_store_to_d4rl(&medium, NULL, &expert, &d, err, sizeof err)) { cli_fail("rl make-data", "%s", err); goto done; }
    if (write_set(dir, env, "medium-expert", &d, seed, noise, er)) goto done;
    printf("%s: data sets written in %.1f s\n", env, cli_now() - t1);
    rc = 0;
done:
    aaren_d4rl_free(&d);
    free(keep);
    aaren_store_free(&replay);
    aaren_store_free(&medium);
    aaren_store_free(&expert);
    aaren_linpolicy_free(&med);
    aaren_linpolicy_free(&exp);
    return rc;
}
