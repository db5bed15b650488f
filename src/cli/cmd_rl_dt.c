/* aaren rl train / eval / act: Decision Aaren and the Decision Transformer on a
 * D4RL-style data set, evaluated in the MuJoCo environments (src/tasks/dt.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *train_help =
    "usage: aaren rl train --data FILE.hdf5 [--arch aaren|transformer] [--steps N] [--save FILE]\n"
    "                      [--eval-episodes K] [--target R,...] [--no-returns] [--eval-every N] [options]\n\n"
    "Trains a decision model (return-to-go, state and action tokens with a time-step embedding,\n"
    "the causal encoder, tanh action head, MSE on actions; src/tasks/dt.h) on a D4RL-layout\n"
    "data set (ours from 'aaren rl make-data', or D4RL's own v2 files), then evaluates it in\n"
    "the environment, conditioned on the target return:\n"
    "  transformer: the last K steps recomputed every step (window-recompute);\n"
    "  aaren:       the same window through K streams (window-streams, constant memory) and\n"
    "               the whole episode through one stream (full-stream, constant memory).\n"
    "Each evaluation prints a 'result:' line (return, D4RL normalised score, per-step latency\n"
    "and the bytes the agent holds).\n"
    "  --no-returns        behaviour cloning: the same network without return-to-go tokens (a step\n"
    "                      is its state and action tokens, the action from the state token);\n"
    "                      optimizer, warm-up, batch and loss unchanged. The checkpoint records it;\n"
    "                      rl eval, rl act and aaren serve ignore any target for such a model, and\n"
    "                      it is evaluated once (target 'none')\n"
    "  --target LIST       comma-separated target returns, each evaluated on its own ('result:'\n"
    "                      line and CSV row): a number, 'data-best' (the largest episode return\n"
    "                      in the data set, as 'aaren rl info' computes it) or 'paper' (the\n"
    "                      Decision Transformer paper's target for the environment:\n"
    "                      {target}) [paper]\n"
    "  --eval-every N      also evaluate (every target, --curve-episodes episodes) after every N\n"
    "                      updates, on a copy of the weights (training unchanged to the bit): a\n"
    "                      learning curve, one CSV row each with its update count in updates_at\n"
    "  --curve-episodes K [{curve-episodes}]\n"
    "  --env NAME          environment (default: the file's env attribute or name)\n"
    "  --steps N [{steps}]   --batch B [{batch}]  --K [{K}]  --lr [{lr}]  --weight-decay [{weight-decay}]\n"
    "  --warmup N [{warmup}, at most steps/10]  --clip [{clip}]  --dropout [{dropout}]  --rtg-scale [{rtg-scale}]\n"
    "  --arch aaren|transformer [{arch}]  --d-model [{d-model}]  --n-heads [{n-heads}]  --n-layers [{n-layers}]\n"
    "  --d-ff [{d-ff}]  --norm pre|post [{norm}]  --activation gelu|relu [{activation}]\n"
    "  --eval-episodes K [{eval-episodes}] (0: no evaluation)  --seed S [{seed}]  --log-every N [steps/20]\n"
    "  --xml-dir DIR\n"
    "  --results-csv FILE  append one row per evaluation (created with a header; columns model\n"
    "                      dt|bc, target_kind paper|data-best|number|none, updates_at (empty for\n"
    "                      the final evaluation), eval_every, curve_episodes after the older ones;\n"
    "                      a file of the older layout, without them, takes runs of one target, with\n"
    "                      return tokens and without --eval-every only, in its layout)\n"
    "  --quiet             no progress lines\n"
    CLI_HDF5_OPTIONS_HELP CLI_FIT_HELP;

static const char *eval_help =
    "usage: aaren rl eval --model FILE [--mode recompute|streams|full|all] [--episodes K]\n"
    "                     [--target R,...] [--seed S] [--xml-dir DIR]\n\n"
    "Evaluates a model saved by 'aaren rl train --save' in its environment and prints one\n"
    "'result:' line per mode and target (see 'aaren rl train --help'). --mode all (the default)\n"
    "runs window-recompute, and for Aaren also window-streams and full-stream. --target: numbers\n"
    "or 'paper' (the default; 'data-best' needs the data: give its number). A behaviour-cloning\n"
    "model (rl train --no-returns) ignores the target and is evaluated once.\n";

static const char *const dt_train_valued[] = {"data", "max-memory", "read-timeout", "env", "arch", "steps", "batch", "K",
                                              "lr", "weight-decay", "warmup", "clip", "dropout", "rtg-scale", "d-model",
                                              "n-heads", "n-layers", "d-ff", "norm", "activation", "target",
                                              "eval-episodes", "seed", "log-every", "xml-dir", "results-csv",
                                              "eval-every", "curve-episodes", CLI_FIT_VALUED, NULL};
static const char *const train_flags[] = {"quiet", "deterministic-reduce", "no-returns", NULL};

static double default_target(aaren_env_kind k) { return aaren_dt_default_target(k); }

static const long default_episodes = 10;   /* --eval-episodes */
static const long default_curve_episodes = 10;   /* --curve-episodes */

/* The targets of one run: values and their kinds. */
enum { MAX_TARGETS = 16 };
typedef struct {
    int n;
    double value[MAX_TARGETS];
    const char *kind[MAX_TARGETS];   /* "paper", "data-best", "number"; "none" for a model without return tokens */
} target_list;

/* --target's comma-separated list (NULL: paper) for environment env; data_best: the data
 * set's best episode return (NAN without the data: 'data-best' refused). 0, or 2 after a message. */
static int parse_targets(const char *cmd, const char *spec, aaren_env_kind env, double data_best, target_list *t) {
    t->n = 0;
    if (!spec) spec = "paper";
    const char *p = spec;
    for (;;) {
        const size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item)
            return cli_fail(cmd, "--target '%s': expected a comma-separated list of numbers, 'paper' or 'data-best'", spec), 2;
        memcpy(item, p, len);
        item[len] = 0;
        if (t->n == MAX_TARGETS) return cli_fail(cmd, "--target '%s': at most %d targets", spec, MAX_TARGETS), 2;
        double v;
        if (!strcmp(item, "paper")) {
            t->value[t->n] = aaren_dt_default_target(env);
            t->kind[t->n] = "paper";
        } else if (!strcmp(item, "data-best")) {
            if (isnan(data_best))
                return cli_fail(cmd, "--target data-best needs the data set (rl train); give the number here"), 2;
            t->value[t->n] = data_best;
            t->kind[t->n] = "data-best";
        } else if (!aaren_parse_double(item, -1e9, 1e9, &v)) {
            t->value[t->n] = v;
            t->kind[t->n] = "number";
        } else {
            return cli_fail(cmd, "--target item '%s': expected a number from -1e9 to 1e9, 'paper' or 'data-best'", item), 2;
        }
        t->n++;
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

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
    cli_default(&d, "curve-episodes", "%ld", default_curve_episodes);
    cli_default(&d, "seed", "%llu", (unsigned long long)o.seed);
    cli_default_d4rl(&d);
    cli_print_help(train_help, &d);
}

/* What a results row records about training. */
typedef struct {
    const char *csv;
    long steps, eval_every, curve_episodes;
    int batch, old_layout;   /* old_layout: the CSV exists without the columns from model on */
    double train_s, mse;
} run_info;

static const char results_header[] =
    "env,data,arch,mode,seed,steps,batch,K,target,episodes,return_mean,return_std,score,length,step_us,agent_bytes,"
    "train_s,action_mse,threads,model,target_kind,updates_at,eval_every,curve_episodes\n";

/* The columns up to threads: the whole header of the older layout. */
static const size_t old_header_len = sizeof "env,data,arch,mode,seed,steps,batch,K,target,episodes,return_mean,return_std,score,"
                                            "length,step_us,agent_bytes,train_s,action_mse,threads" - 1;

/* A results CSV that exists has this layout, or the older one (columns up to threads), which
 * takes rows of runs with one target, return tokens and no curve (as before), in its layout.
 * *old gets 1 for that layout. 0, or 2 after a message. */
static int check_results_csv(const char *path, int plain_run, int *old) {
    *old = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return 0;
    char line[8192] = "";
    const int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got || !strncmp(line, results_header, strlen(results_header) - 1)) return 0;
    const size_t hl = strcspn(line, "\r\n");
    if (!strncmp(line, results_header, old_header_len) && (hl == old_header_len || !strcmp(line + old_header_len, ",options\n") ||
                                                          !strncmp(line + old_header_len, ",options\r", 9))) {
        if (plain_run) { *old = 1; return 0; }
        return cli_fail("rl train", "%s: the older layout (no model, target_kind, updates_at columns) takes runs with one "
                        "target, return tokens and no --eval-every only; give a new --results-csv file", path), 2;
    }
    return cli_fail("rl train", "%s: its header is not the results layout (%.*s...); give a new --results-csv file", path,
                    60, line), 2;
}

static int append_row(const run_info *ri, const aaren_dt *m, int mode, const char *data, long seed, double target,
                      const char *kind, long updates_at, int episodes, const aaren_dt_eval *ev) {
    char err[1024], tv[48], more[160] = "";
    const int bc = aaren_dt_no_returns(m);
    if (bc) snprintf(tv, sizeof tv, "none");
    else snprintf(tv, sizeof tv, ri->old_layout ? "%g" : "%.10g", target);   /* the older layout: as it was written */
    if (!ri->old_layout) {   /* the newer columns: model, target_kind, updates_at (empty: final), eval_every, curve_episodes */
        char ua[32] = "";
        if (updates_at >= 0) snprintf(ua, sizeof ua, "%ld", updates_at);
        snprintf(more, sizeof more, ",%s,%s,%s,%ld,%ld", bc ? "bc" : "dt", bc ? "none" : kind, ua, ri->eval_every,
                 ri->curve_episodes);
    }
    if (cli_append_row(ri->csv, err, sizeof err, results_header,
            "%s,%s,%s,%s,%ld,%ld,%d,%d,%s,%d,%.3f,%.3f,%.3f,%.1f,%.2f,%zu,%.1f,%.6f,%d%s\n", aaren_env_name(aaren_dt_env(m)),
            data, aaren_arch_name(aaren_model_config(aaren_dt_encoder(m))->arch), aaren_dt_mode_name(mode), seed, ri->steps,
            ri->batch, aaren_dt_K(m), tv, episodes, ev->ret_mean, ev->ret_std, ev->score_mean, ev->len_mean, ev->step_us,
            ev->agent_bytes, ri->train_s, ri->mse, aaren_threads(), more))
        return cli_fail("rl train", "%s", err);
    return 0;
}

/* Evaluates m in the modes of the bit set `modes` (bit AAREN_DT_*) for every target of t (once,
 * without a target, for a model without return tokens) and prints result lines; updates_at >= 0:
 * an evaluation during training after that many updates (a learning curve's point). */
static int evaluate(aaren_dt *m, unsigned modes, int episodes, const target_list *t, long seed, const char *xml,
                    const char *data, const run_info *ri, long updates_at) {
    const double train_s = ri ? ri->train_s : 0;
    const int bc = aaren_dt_no_returns(m), nt = bc ? 1 : t->n;
    for (int i = 0; i < nt; i++) {
        const double target = bc ? 0 : t->value[i];
        const char *kind = bc ? "none" : t->kind[i];
        char tv[48];
        if (bc) snprintf(tv, sizeof tv, "none");
        else snprintf(tv, sizeof tv, "%.10g", target);
        for (int md = AAREN_DT_RECOMPUTE; md <= AAREN_DT_FULL; md++) {
            if (!(modes >> md & 1)) continue;
            aaren_dt_eval ev;
            char err[1024], at[48] = "";
            if (aaren_dt_evaluate(m, xml, md, target, episodes, (uint64_t)seed * 7919 + 17, &ev, err, sizeof err))
                return cli_fail("rl", "%s", err);
            if (updates_at >= 0) snprintf(at, sizeof at, " updates_at=%ld", updates_at);
            printf("result: env=%s data=%s arch=%s model=%s mode=%s seed=%ld target=%s target_kind=%s%s episodes=%d "
                   "return_mean=%.2f return_std=%.2f score=%.2f length=%.1f step_us=%.1f agent_bytes=%zu train_s=%.1f\n",
                   aaren_env_name(aaren_dt_env(m)), data, aaren_arch_name(aaren_model_config(aaren_dt_encoder(m))->arch),
                   bc ? "bc" : "dt", aaren_dt_mode_name(md), seed, tv, kind, at, episodes, ev.ret_mean, ev.ret_std,
                   ev.score_mean, ev.len_mean, ev.step_us, ev.agent_bytes, train_s);
            fflush(stdout);
            if (ri && ri->csv && append_row(ri, m, md, data, seed, target, kind, updates_at, episodes, &ev)) return 1;
        }
    }
    return 0;
}

/* --eval-every: what the hook after every N updates needs. */
typedef struct {
    unsigned modes;
    int episodes;
    const target_list *targets;
    long seed;
    const char *xml, *data;
    run_info *ri;
    double t_start, eval_s;  /* training's start; seconds spent in these evaluations (not training time) */
} curve_ctx;

/* A learning curve's point: the weights after `updates` updates, copied and evaluated. */
static int curve_point(void *ctx, const aaren_dt *m, long updates, char *err, size_t errlen) {
    curve_ctx *c = ctx;
    const double t0 = aaren_now_s();
    aaren_dt *copy = aaren_dt_copy_for_eval(m, err, errlen);
    if (!copy) return -1;
    c->ri->train_s = t0 - c->t_start - c->eval_s;   /* training seconds so far */
    const int rc = evaluate(copy, c->modes, c->episodes, c->targets, c->seed, c->xml, c->data, c->ri, updates);
    aaren_dt_free(copy);
    c->eval_s += aaren_now_s() - t0;
    if (rc) snprintf(err, errlen, "the evaluation after %ld updates failed", updates);
    return rc ? -1 : 0;
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
    long steps, batch, K, warmup, episodes, seed, log_every, eval_every, curve_episodes;
    if (cli_config(&a, &base, &o.enc) || cli_int(&a, "steps", o.steps, 0, 100000000, &steps) ||
        cli_int(&a, "batch", o.batch, 1, 4096, &batch) || cli_int(&a, "K", o.K, 1, 1000, &K) ||
        cli_int(&a, "warmup", o.warmup, 0, 100000000, &warmup) || cli_int(&a, "eval-episodes", default_episodes, 0, 100000, &episodes) ||
        cli_int(&a, "eval-every", 0, 0, 100000000, &eval_every) ||
        cli_int(&a, "curve-episodes", default_curve_episodes, 1, 100000, &curve_episodes) ||
        cli_int(&a, "seed", (long)o.seed, 0, 0x7fffffffL, &seed) || cli_float(&a, "lr", o.lr, 1e-8f, 1, &o.lr) ||
        cli_float(&a, "weight-decay", o.weight_decay, 0, 1, &o.weight_decay) || cli_float(&a, "clip", o.clip, 0, 1e6f, &o.clip) ||
        cli_float(&a, "dropout", o.dropout, 0, 0.9f, &o.dropout) || cli_float(&a, "rtg-scale", o.rtg_scale, 1e-3f, 1e9f, &o.rtg_scale))
        return 2;
    o.steps = steps; o.batch = (int)batch; o.K = (int)K; o.warmup = warmup; o.seed = (uint64_t)seed;
    o.no_returns = cli_flag(&a, "no-returns");
    const char *tspec = cli_get(&a, "target");
    int old_layout;
    if (check_results_csv(cli_get(&a, "results-csv"), !o.no_returns && eval_every == 0 && (!tspec || !strchr(tspec, ',')),
                          &old_layout))
        return 2;
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
    aaren_d4rl_stats dst;
    aaren_d4rl_stats_of(&d, &dst);   /* data-best: the largest episode return, as rl info reports it */
    target_list targets;
    if (parse_targets("rl train", cli_get(&a, "target"), (aaren_env_kind)k, dst.ret_max, &targets)) {
        aaren_d4rl_free(&d);
        return 2;
    }
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
    /* the Transformer over its recomputed window; Aaren over the same window as streams, and the whole episode */
    const unsigned modes = o.enc.arch == AAREN_ARCH_AAREN ? 1u << AAREN_DT_STREAMS | 1u << AAREN_DT_FULL : 1u << AAREN_DT_RECOMPUTE;
    run_info ri = {cli_get(&a, "results-csv"), steps, eval_every, eval_every > 0 ? curve_episodes : 0, o.batch, old_layout,
                   0, NAN};
    const double t0 = aaren_now_s();
    curve_ctx cc = {modes, (int)curve_episodes, &targets, seed, cli_get(&a, "xml-dir"), data_name, &ri, t0, 0};
    rc = aaren_dt_train_every(m, &d, &io, eval_every, curve_point, &cc, err, sizeof err);
    const double train_s = aaren_now_s() - t0 - cc.eval_s;
    ri.train_s = train_s;
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
    rc = episodes > 0 ? evaluate(m, modes, (int)episodes, &targets, seed, cli_get(&a, "xml-dir"), data_name, &ri, -1) : 0;
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
    target_list targets;
    if (parse_targets("rl eval", cli_get(&a, "target"), aaren_dt_env(m), NAN, &targets)) { aaren_dt_free(m); return 2; }
    if (mode == AAREN_DT_STREAMS && aaren_model_config(aaren_dt_encoder(m))->arch != AAREN_ARCH_AAREN) {
        aaren_dt_free(m);
        return cli_fail("rl eval", "--mode streams needs an Aaren model (a Transformer stream keeps a KV cache)"), 2;
    }
    const char *base = strrchr(path, '/');
    /* all: the recomputed window, and for Aaren also both stream modes */
    const unsigned modes = mode >= 0 ? 1u << mode
                         : aaren_model_config(aaren_dt_encoder(m))->arch == AAREN_ARCH_AAREN ? 7u : 1u << AAREN_DT_RECOMPUTE;
    rc = evaluate(m, modes, (int)episodes, &targets, seed, cli_get(&a, "xml-dir"), base ? base + 1 : path, NULL, -1);
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
    "  --target R          the return to condition on (default: the environment's, as rl eval;\n"
    "                      ignored by a behaviour-cloning model, rl train --no-returns)\n";

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
