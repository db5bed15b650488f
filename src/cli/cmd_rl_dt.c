/* aaren rl train / eval / act: Decision Aaren and the Decision Transformer on a
 * D4RL-style data set, evaluated in the MuJoCo environments (src/tasks/dt.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *train_help =
    "usage: aaren rl train --data FILE.hdf5 [--arch aaren|transformer] [--steps N] [--save FILE]\n"
    "                      [--eval-episodes K] [--target R] [options]\n\n"
    "Trains a decision model (return-to-go, state and action tokens with a time-step embedding,\n"
    "the causal encoder, tanh action head, MSE on actions; src/tasks/dt.h) on a D4RL-layout\n"
    "data set (ours from 'aaren rl make-data', or D4RL's own v2 files), then evaluates it in\n"
    "the environment, conditioned on the target return:\n"
    "  transformer: the last K steps recomputed every step (window-recompute);\n"
    "  aaren:       the same window through K streams (window-streams, constant memory) and\n"
    "               the whole episode through one stream (full-stream, constant memory).\n"
    "Each evaluation prints a 'result:' line (return, D4RL normalised score, per-step latency\n"
    "and the bytes the agent holds).\n"
    "  --env NAME          environment (default: the file's env attribute or name)\n"
    "  --steps N [{steps}]   --batch B [{batch}]  --K [{K}]  --lr [{lr}]  --weight-decay [{weight-decay}]\n"
    "  --warmup N [{warmup}, at most steps/10]  --clip [{clip}]  --dropout [{dropout}]  --rtg-scale [{rtg-scale}]\n"
    "  --arch aaren|transformer [{arch}]  --d-model [{d-model}]  --n-heads [{n-heads}]  --n-layers [{n-layers}]\n"
    "  --d-ff [{d-ff}]  --norm pre|post [{norm}]  --activation gelu|relu [{activation}]\n"
    "  --target R          default: {target}\n"
    "  --eval-episodes K [{eval-episodes}] (0: no evaluation)  --seed S [{seed}]  --log-every N [steps/20]\n"
    "  --xml-dir DIR\n"
    "  --results-csv FILE  append one row per evaluation (created with a header)\n"
    "  --quiet             no progress lines\n"
    CLI_HDF5_OPTIONS_HELP CLI_FIT_HELP;

static const char *eval_help =
    "usage: aaren rl eval --model FILE [--mode recompute|streams|full|all] [--episodes K]\n"
    "                     [--target R] [--seed S] [--xml-dir DIR]\n\n"
    "Evaluates a model saved by 'aaren rl train --save' in its environment and prints one\n"
    "'result:' line per mode (see 'aaren rl train --help'). --mode all (the default) runs\n"
    "window-recompute, and for Aaren also window-streams and full-stream.\n";

static const char *const dt_train_valued[] = {"data", "max-memory", "read-timeout", "env", "arch", "steps", "batch", "K",
                                              "lr", "weight-decay", "warmup", "clip", "dropout", "rtg-scale", "d-model",
                                              "n-heads", "n-layers", "d-ff", "norm", "activation", "target",
                                              "eval-episodes", "seed", "log-every", "xml-dir", "results-csv",
                                              CLI_FIT_VALUED, NULL};
static const char *const train_flags[] = {"quiet", "deterministic-reduce", NULL};

static double default_target(aaren_env_kind k) { return aaren_dt_default_target(k); }

static const long default_episodes = 10;   /* --eval-episodes */

/* --help, its defaults from aaren_dt_options_init (and the targets above). */
static void print_train_help(void) {
    aaren_dt_options o;
    aaren_dt_options_init(&o);
    cli_defaults d = {0};
    cli_default(&d, "steps", "%ld", o.steps);
    cli_default(&d, "batch", "%d", o.batch);
    cli_default(&d, "K", "%d", o.K);
    cli_default(&d, "lr", "%g", (double)o.lr);
    cli_default(&d, "weight-decay", "%g", (double)o.weight_decay);
    cli_default(&d, "warmup", "%ld", o.warmup);
    cli_default(&d, "clip", "%g", (double)o.clip);
    cli_default(&d, "dropout", "%g", (double)o.dropout);
    cli_default(&d, "rtg-scale", "%g", (double)o.rtg_scale);
    cli_default_config(&d, &o.enc);
    char targets[160] = "";
    for (int k = 0; k < AAREN_ENV_COUNT; k++)
        snprintf(targets + strlen(targets), sizeof targets - strlen(targets), "%s%s %g", k ? ", " : "",
                 aaren_env_name((aaren_env_kind)k), default_target((aaren_env_kind)k));
    cli_default(&d, "target", "%s", targets);
    cli_default(&d, "eval-episodes", "%ld", default_episodes);
    cli_default(&d, "seed", "%llu", (unsigned long long)o.seed);
    cli_default_d4rl(&d);
    cli_print_help(train_help, &d);
}

/* What a results row records about training. */
typedef struct {
    const char *csv;
    long steps;
    int batch;
    double train_s, mse;
} run_info;

static int append_row(const run_info *ri, const aaren_dt *m, int mode, const char *data, long seed, double target,
                      int episodes, const aaren_dt_eval *ev) {
    char err[1024];
    if (cli_append_row(ri->csv, err, sizeof err,
            "env,data,arch,mode,seed,steps,batch,K,target,episodes,return_mean,return_std,score,length,step_us,"
            "agent_bytes,train_s,action_mse,threads\n",
            "%s,%s,%s,%s,%ld,%ld,%d,%d,%g,%d,%.3f,%.3f,%.3f,%.1f,%.2f,%zu,%.1f,%.6f,%d\n", aaren_env_name(aaren_dt_env(m)),
            data, aaren_arch_name(aaren_model_config(aaren_dt_encoder(m))->arch), aaren_dt_mode_name(mode), seed,
            ri->steps, ri->batch, aaren_dt_K(m), target, episodes, ev->ret_mean, ev->ret_std, ev->score_mean, ev->len_mean,
            ev->step_us, ev->agent_bytes, ri->train_s, ri->mse, aaren_threads()))
        return cli_fail("rl train", "%s", err);
    return 0;
}

/* Evaluates m in the modes of the bit set `modes` (bit AAREN_DT_*) and prints result lines. */
static int evaluate(aaren_dt *m, unsigned modes, int episodes, double target, long seed, const char *xml, const char *data,
                    const run_info *ri) {
    const double train_s = ri ? ri->train_s : 0;
    for (int md = AAREN_DT_RECOMPUTE; md <= AAREN_DT_FULL; md++) {
        if (!(modes >> md & 1)) continue;
        aaren_dt_eval ev;
        char err[1024];
        if (aaren_dt_evaluate(m, xml, md, target, episodes, (uint64_t)seed * 7919 + 17, &ev, err, sizeof err))
            return cli_fail("rl", "%s", err);
        printf("result: env=%s data=%s arch=%s mode=%s seed=%ld target=%g episodes=%d return_mean=%.2f return_std=%.2f "
               "score=%.2f length=%.1f step_us=%.1f agent_bytes=%zu train_s=%.1f\n",
               aaren_env_name(aaren_dt_env(m)), data, aaren_arch_name(aaren_model_config(aaren_dt_encoder(m))->arch),
               aaren_dt_mode_name(md), seed, target, episodes, ev.ret_mean, ev.ret_std, ev.score_mean, ev.len_mean,
               ev.step_us, ev.agent_bytes, train_s);
        fflush(stdout);
        if (ri && ri->csv && append_row(ri, m, md, data, seed, target, episodes, &ev)) return 1;
    }
    return 0;
}

int cmd_rl_dt_train(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "rl train", argc, argv, dt_train_valued, train_flags);
    if (rc) { if (rc > 0) print_train_help(); return rc > 0 ? 0 : 2; }
    static const char *const outputs[] = {"save", "results-csv", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    const char *path = cli_need(&a, "data");
    if (!path) return 2;
    aaren_dt_options o;
    aaren_dt_options_init(&o);
    aaren_config base = o.enc;
    long steps, batch, K, warmup, episodes, seed, log_every;
    if (cli_config(&a, &base, &o.enc) || cli_int(&a, "steps", o.steps, 0, 100000000, &steps) ||
        cli_int(&a, "batch", o.batch, 1, 4096, &batch) || cli_int(&a, "K", o.K, 1, 1000, &K) ||
        cli_int(&a, "warmup", o.warmup, 0, 100000000, &warmup) || cli_int(&a, "eval-episodes", default_episodes, 0, 100000, &episodes) ||
        cli_int(&a, "seed", (long)o.seed, 0, 0x7fffffffL, &seed) || cli_float(&a, "lr", o.lr, 1e-8f, 1, &o.lr) ||
        cli_float(&a, "weight-decay", o.weight_decay, 0, 1, &o.weight_decay) || cli_float(&a, "clip", o.clip, 0, 1e6f, &o.clip) ||
        cli_float(&a, "dropout", o.dropout, 0, 0.9f, &o.dropout) || cli_float(&a, "rtg-scale", o.rtg_scale, 1e-3f, 1e9f, &o.rtg_scale))
        return 2;
    o.steps = steps; o.batch = (int)batch; o.K = (int)K; o.warmup = warmup; o.seed = (uint64_t)seed;
    aaren_fit_io io;
    if (cli_int(&a, "log-every", steps / 20 > 0 ? steps / 20 : 1, 1, 100000000, &log_every) || cli_fit_io(&a, &io)) return 2;
    io.log_every = log_every;
    io.progress = cli_flag(&a, "quiet") ? NULL : stderr;
    char err[1024];
    aaren_d4rl d;
    if ((rc = cli_d4rl_load(&a, path, &d))) return rc;
    const int k = cli_get(&a, "env") ? aaren_env_kind_from_name(cli_get(&a, "env")) : cli_data_env(&d, path);
    if (k < 0) {
        aaren_d4rl_free(&d);
        return cli_fail("rl train", "%s: cannot tell the environment (give --env halfcheetah|hopper|walker2d|ant)", path), 2;
    }
    float target = (float)default_target((aaren_env_kind)k);
    if (cli_float(&a, "target", target, -1e9f, 1e9f, &target)) { aaren_d4rl_free(&d); return 2; }
    const char *ds = aaren_d4rl_meta(&d, "dataset"), *base_name = strrchr(path, '/');
    char data_name[160];
    snprintf(data_name, sizeof data_name, "%s", ds ? ds : base_name ? base_name + 1 : path);
    aaren_dt *m = aaren_dt_new(&d, (aaren_env_kind)k, &o, err, sizeof err);
    if (!m) { aaren_d4rl_free(&d); return cli_fail("rl train", "%s", err); }
    const int quiet = cli_flag(&a, "quiet");
    if (!quiet)
        fprintf(stderr, "%s on %s (%s): %ld transitions, %ld episodes; %zu parameters; %ld steps of %d windows of %d steps; "
                "%d threads\n", aaren_arch_name(o.enc.arch), path, aaren_env_name((aaren_env_kind)k), d.n, d.n_episodes,
                aaren_model_n_params(aaren_dt_encoder(m)) + aaren_model_n_extra(aaren_dt_encoder(m)), steps, o.batch, o.K,
                aaren_threads());
    const double t0 = aaren_now_s();
    rc = aaren_dt_train(m, &d, &io, err, sizeof err);
    const double train_s = aaren_now_s() - t0;
    run_info ri = {cli_get(&a, "results-csv"), steps, o.batch, train_s, NAN};
    if (!rc && io.stop_after > 0 && io.stop_after < steps) {
        printf("stopped after %ld steps as --stop-after asks; continue with --resume %s\n", io.stop_after, io.save);
        aaren_d4rl_free(&d);
        aaren_dt_free(m);
        return 0;
    }
    if (!rc) {
        ri.mse = aaren_dt_action_mse(m, &d, 1024, (uint64_t)seed + 99, err, sizeof err);
        printf("trained: %ld steps in %.1f s; action MSE on 1024 drawn windows %.5f\n", steps, train_s, ri.mse);
    }
    aaren_d4rl_free(&d);
    if (rc) { aaren_dt_free(m); return cli_fail("rl train", "%s", err); }
    /* the Transformer over its recomputed window; Aaren over the same window as streams, and the whole episode */
    const unsigned modes = o.enc.arch == AAREN_ARCH_AAREN ? 1u << AAREN_DT_STREAMS | 1u << AAREN_DT_FULL : 1u << AAREN_DT_RECOMPUTE;
    rc = episodes > 0 ? evaluate(m, modes, (int)episodes, target, seed, cli_get(&a, "xml-dir"), data_name, &ri) : 0;
    aaren_dt_free(m);
    return rc;
}

int cmd_rl_dt_eval(int argc, char **argv) {
    static const char *const valued[] = {"model", "mode", "episodes", "target", "seed", "xml-dir", NULL};
    cli_args a;
    int rc = cli_parse(&a, "rl eval", argc, argv, valued, NULL);
    if (rc) { if (rc > 0) fputs(eval_help, stdout); return rc > 0 ? 0 : 2; }
    const char *path = cli_need(&a, "model");
    if (!path) return 2;
    const char *ms = cli_get(&a, "mode") ? cli_get(&a, "mode") : "all";
    const int mode = !strcmp(ms, "all") ? -1 : !strcmp(ms, "recompute") ? AAREN_DT_RECOMPUTE
                   : !strcmp(ms, "streams") ? AAREN_DT_STREAMS : !strcmp(ms, "full") ? AAREN_DT_FULL : -2;
    if (mode == -2) return cli_fail("rl eval", "--mode '%s': expected recompute, streams, full or all", ms), 2;
    long episodes, seed;
    if (cli_int(&a, "episodes", 10, 1, 100000, &episodes) || cli_int(&a, "seed", 1, 0, 0x7fffffffL, &seed)) return 2;
    char err[1024];
    aaren_dt *m = aaren_dt_load(path, err, sizeof err);
    if (!m) return cli_fail("rl eval", "%s", err);
    float target = (float)default_target(aaren_dt_env(m));
    if (cli_float(&a, "target", target, -1e9f, 1e9f, &target)) { aaren_dt_free(m); return 2; }
    if (mode == AAREN_DT_STREAMS && aaren_model_config(aaren_dt_encoder(m))->arch != AAREN_ARCH_AAREN) {
        aaren_dt_free(m);
        return cli_fail("rl eval", "--mode streams needs an Aaren model (a Transformer stream keeps a KV cache)"), 2;
    }
    const char *base = strrchr(path, '/');
    /* all: the recomputed window, and for Aaren also both stream modes */
    const unsigned modes = mode >= 0 ? 1u << mode
                         : aaren_model_config(aaren_dt_encoder(m))->arch == AAREN_ARCH_AAREN ? 7u : 1u << AAREN_DT_RECOMPUTE;
    rc = evaluate(m, modes, (int)episodes, target, seed, cli_get(&a, "xml-dir"), base ? base + 1 : path, NULL);
    aaren_dt_free(m);
    return rc;
}

static const char *act_help =
    "usage: aaren rl act --model FILE --input EPISODE.csv --output ACTIONS.csv [--target R]\n\n"
    "The actions a model saved by 'aaren rl train --save' takes in one episode, the whole episode\n"
    "through one stream (full-stream mode of 'aaren rl eval'; the same steps 'aaren serve' gives a\n"
    "decision stream). EPISODE.csv: a header line, then one row per step: the reward received for\n"
    "the previous step's action (read but not used on the first row), then the observation's\n"
    "obs_dim values. The return-to-go starts at the target and loses each reward. ACTIONS.csv:\n"
    "step,return_to_go,a_1,...,a_<act_dim>, one row per step.\n"
    "  --target R          the return to condition on (default: the environment's, as rl eval)\n";

int cmd_rl_dt_act(int argc, char **argv) {
    static const char *const valued[] = {"model", "input", "output", "target", NULL};
    cli_args a;
    int rc = cli_parse(&a, "rl act", argc, argv, valued, NULL);
    if (rc) { if (rc > 0) fputs(act_help, stdout); return rc > 0 ? 0 : 2; }
    static const char *const outputs[] = {"output", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    const char *path = cli_need(&a, "model"), *in = path ? cli_need(&a, "input") : NULL, *out = in ? cli_need(&a, "output") : NULL;
    if (!out) return 2;
    char err[1024];
    aaren_dt *m = aaren_dt_load(path, err, sizeof err);
    if (!m) return cli_fail("rl act", "%s", err);
    aaren_dt_stream_spec s;
    if (aaren_dt_stream_spec_get(path, m, &s, err, sizeof err)) { aaren_dt_free(m); return cli_fail("rl act", "%s", err); }
    float target = (float)s.target;
    if (cli_float(&a, "target", target, -1e9f, 1e9f, &target)) { aaren_dt_free(m); return 2; }
    long n = 0;
    rc = aaren_dt_act_file(m, &s, in, out, target, &n, err, sizeof err);
    aaren_dt_free(m);
    if (rc) return cli_fail("rl act", "%s", err);
    printf("%ld steps: actions in %s\n", n, out);
    return 0;
}
