/* aaren train (the synthetic running-maximum task) and aaren demo (the main job:
 * train both architectures, compare, then stream through the trained Aaren). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

const char *const train_valued[] = {"task", "arch", "d-model", "n-heads", "n-layers", "d-ff", "norm",
                                    "activation", "steps", "batch", "tokens", "lr", "warmup", "schedule",
                                    "weight-decay", "clip", "dropout", "seed", "log-every", CLI_FIT_VALUED, NULL};

static const char *train_help =
    "usage: aaren train [options]\n\n"
    "Trains a sequence model (linear embedding, encoder, linear head) on a synthetic task\n"
    "with AdamW, printing step, loss, learning rate, tokens/s and ETA (and a progress bar on\n"
    "a terminal), then its MSE on fresh sequences beside two baselines.\n\n"
    "task:\n"
    "  --task running-max     x_t = z_t + 0.1 noise, target max_{j<=t} z_j (the only task here)\n"
    "model (defaults in brackets):\n"
    "  --arch aaren|transformer [{arch}]  --d-model N [{d-model}]  --n-heads N [{n-heads}]\n"
    "  --n-layers N [{n-layers}]  --d-ff N [{d-ff}]  --norm post|pre [{norm}]  --activation gelu|relu [{activation}]\n"
    "training (defaults in brackets):\n"
    "  --steps N [{steps}]  --batch B [{batch}]  --tokens N [{tokens}]  --seed S [{seed}]\n"
    "  --lr X [{lr}]  --warmup N [{warmup}]  --schedule cosine|step|constant [{schedule}]\n"
    "  --weight-decay X [{weight-decay}]  --clip X [{clip}]  --dropout P [{dropout}]  --log-every N [steps/10]\n"
    "  --quiet                no progress lines\n"
    CLI_FIT_HELP;

static const char *const schedule_names[] = {"constant", "cosine", "step"};   /* AAREN_SCHED_* */

/* --help, its defaults from aaren_synth_options_init. */
static void print_help(void) {
    aaren_synth_options o;
    aaren_synth_options_init(&o);
    cli_defaults d = {0};
    cli_default_config(&d, &o.cfg);
    cli_default(&d, "steps", "%ld", o.steps);
    cli_default(&d, "batch", "%d", o.batch);
    cli_default(&d, "tokens", "%d", o.tokens);
    cli_default(&d, "seed", "%llu", (unsigned long long)o.seed);
    cli_default(&d, "lr", "%g", (double)o.opt.lr);
    cli_default(&d, "warmup", "%ld", o.opt.warmup_steps);
    cli_default(&d, "schedule", "%s", schedule_names[o.opt.schedule]);
    cli_default(&d, "weight-decay", "%g", (double)o.opt.weight_decay);
    cli_default(&d, "clip", "%g", (double)o.opt.clip_norm);
    cli_default(&d, "dropout", "%g", (double)o.dropout);
    cli_print_help(train_help, &d);
}

/* Options shared by train and demo, over the task's defaults (aaren_synth_options_init). */
int synth_opts_from_args(const cli_args *a, aaren_synth_options *o) {
    aaren_synth_options_init(o);
    long steps, batch, tokens, warmup, seed;
    const char *task = cli_get(a, "task"), *sched = cli_get(a, "schedule");
    const aaren_config dflt = o->cfg;
    if (cli_config(a, &dflt, &o->cfg)) return -1;
    if (task && strcmp(task, "running-max")) return cli_fail(a->cmd, "--task '%s': the only synthetic task is running-max", task), -1;
    if (cli_int(a, "steps", o->steps, 1, 100000000, &steps) || cli_int(a, "batch", o->batch, 1, 65536, &batch) ||
        cli_int(a, "tokens", o->tokens, 1, 1 << 24, &tokens) || cli_int(a, "warmup", o->opt.warmup_steps, 0, 100000000, &warmup) ||
        cli_int(a, "seed", (long)o->seed, 0, 0x7fffffffL, &seed) ||
        cli_float(a, "lr", o->opt.lr, 0, 10, &o->opt.lr) || cli_float(a, "weight-decay", o->opt.weight_decay, 0, 10, &o->opt.weight_decay) ||
        cli_float(a, "clip", o->opt.clip_norm, 0, 1e9f, &o->opt.clip_norm) || cli_float(a, "dropout", o->dropout, 0, 0.95f, &o->dropout))
        return -1;
    o->opt.warmup_steps = warmup;
    o->opt.total_steps = steps;
    o->opt.step_size = steps / 3 > 0 ? steps / 3 : 1;
    if (!sched) sched = schedule_names[o->opt.schedule];
    if (!strcmp(sched, "cosine")) o->opt.schedule = AAREN_SCHED_COSINE;
    else if (!strcmp(sched, "step")) o->opt.schedule = AAREN_SCHED_STEP;
    else if (!strcmp(sched, "constant")) o->opt.schedule = AAREN_SCHED_CONSTANT;
    else return cli_fail(a->cmd, "--schedule '%s': expected cosine, step or constant", sched), -1;
    o->steps = steps; o->batch = (int)batch; o->tokens = (int)tokens; o->seed = (uint64_t)seed;
    return 0;
}

int cmd_train(int argc, char **argv) {
    cli_args a;
    static const char *const flags[] = {"quiet", "deterministic-reduce", NULL};
    int rc = cli_parse(&a, "train", argc, argv, train_valued, flags);
    if (rc) { if (rc > 0) print_help(); return rc > 0 ? 0 : 2; }
    aaren_synth_options o;
    aaren_fit_io io;
    long log_every;
    if (synth_opts_from_args(&a, &o) || cli_fit_io(&a, &io) ||
        cli_int(&a, "log-every", o.steps >= 10 ? o.steps / 10 : 1, 1, 100000000, &log_every))
        return 2;
    io.log_every = log_every;
    static const char *const outputs[] = {"save", "log", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    printf("training %s (d_model %d, %d heads, %d layers, d_ff %d) on running-max: %ld steps x %d sequences x %d tokens, %d threads\n",
           aaren_arch_name(o.cfg.arch), o.cfg.d_model, o.cfg.n_heads, o.cfg.n_layers, o.cfg.d_ff, o.steps, o.batch,
           o.tokens, aaren_threads());
    aaren_synth_result r;
    char err[1024];
    aaren_seqmodel *sm = aaren_synth_train(&o, &io, &r, err, sizeof err);
    if (!sm) return cli_fail("train", "%s", err);
    if (r.stopped) {
        printf("stopped at step %ld as --stop-after asks; continue with --resume %s\n", r.steps, io.save ? io.save : "(no --save)");
    } else {
        double mm, mn;
        aaren_synth_running_max_baselines(o.batch, o.tokens, o.seed, 8, &mm, &mn);
        printf("trained %ld steps (%.1f s, %.0f tokens/s in this run)\n", r.steps, r.train_seconds, r.tokens_per_s);
        printf("test MSE %.5f   (per-position mean predictor %.5f, running max of the noisy input %.5f)\n",
               r.eval_mse, mm, mn);
    }
    if (io.save) printf("saved %s\n", io.save);
    aaren_seqmodel_free(sm);
    return 0;
}

int cmd_plot_log(int argc, char **argv) {
    static const char *const valued[] = {"output", "title", NULL};
    static const char *help =
        "usage: aaren plot-log LOG.csv [--output OUT.png] [--title TEXT]\n\n"
        "Draws a training log written by --log (any training command): the training loss per step\n"
        "and each evaluation metric, into OUT.png (default: LOG.csv with .png for .csv). Needs\n"
        "/usr/bin/python3 with matplotlib.\n";
    cli_args a;
    int rc = cli_parse(&a, "plot-log", argc, argv, valued, NULL);
    if (rc) { if (rc > 0) fputs(help, stdout); return rc > 0 ? 0 : 2; }
    if (a.n_positional != 1) return cli_fail("plot-log", "give one log file (see 'aaren plot-log --help')"), 2;
    const char *log = a.positional[0], *title = cli_get(&a, "title");
    char out[1100];
    const size_t n = strlen(log);
    if (cli_get(&a, "output")) snprintf(out, sizeof out, "%s", cli_get(&a, "output"));
    else if (n > 4 && !strcmp(log + n - 4, ".csv")) snprintf(out, sizeof out, "%.*s.png", (int)(n - 4), log);
    else snprintf(out, sizeof out, "%s.png", log);
    char err[1400];
    if (aaren_check_writable(out, err, sizeof err)) return cli_fail("plot-log", "%s", err);
    const char *args[] = {log, out, title ? "--title" : NULL, title, NULL};
    return cli_run_python("plot-log", "plot_log.py", args) ? 1 : 0;
}
