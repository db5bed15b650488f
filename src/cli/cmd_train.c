/* aaren train (the synthetic running-maximum task) and aaren demo (the main job:
 * train both architectures, compare, then stream through the trained Aaren). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "io/common.h"
#include "tasks/synthetic.h"

/* MSE of the model on fresh batches (steps far from any training step). */
double synth_eval_mse(aaren_seqmodel *sm, int B, int N, uint64_t seed, float *x, float *y, int path) {
    char err[256];
    double sum = 0;
    const int n_eval = 8;
    for (int k = 0; k < n_eval; k++) {
        aaren_synth_running_max(x, y, B, N, seed ^ 0xE7A1ull, 2000000L + k);
        if (!aaren_seqmodel_forward(sm, x, B, N, path, err, sizeof err)) return NAN;
        sum += aaren_seqmodel_loss_mse(sm, y, NULL, 0);
    }
    return sum / n_eval;
}

/* Trains (or resumes) a sequence model on the running-maximum task. Returns the model, or
 * NULL after printing an error. */
aaren_seqmodel *train_running_max(const char *cmd, const train_opts *o, train_result *res) {
    char err[512];
    aaren_seqmodel *sm = aaren_seqmodel_new(&o->cfg, 1, 1, err, sizeof err);
    aaren_adamw *opt = NULL;
    float *x = malloc(sizeof(float) * (size_t)o->batch * o->tokens);
    float *y = malloc(sizeof(float) * (size_t)o->batch * o->tokens);
    if (!sm || !x || !y) goto fail;
    aaren_seqmodel_init(sm, o->seed);
    if (aaren_seqmodel_reserve(sm, o->batch, o->tokens, 1, err, sizeof err)) goto fail;
    opt = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(sm)), &o->opt, err, sizeof err);
    if (!opt) goto fail;
    aaren_seqmodel_decay_mask(sm, opt);
    if (o->resume) {
        aaren_st st;
        if (aaren_train_load(o->resume, sm, opt, &st, err, sizeof err)) goto fail;
        const char *seed = aaren_st_meta(&st, "train.seed");
        long saved_seed = 0;
        if (seed && aaren_meta_long(o->resume, "train.seed", seed, 0, 0x7fffffffL, &saved_seed, err, sizeof err)) {
            aaren_st_free(&st);
            goto fail;
        }
        if (seed && (uint64_t)saved_seed != o->seed)
            fprintf(stderr, "aaren %s: note: %s was trained with --seed %ld; continuing with --seed %llu\n", cmd,
                    o->resume, saved_seed, (unsigned long long)o->seed);
        aaren_st_free(&st);
        if (!o->quiet) printf("resumed %s at step %ld\n", o->resume, aaren_adamw_steps(opt));
    }
    aaren_progress p;
    aaren_progress_start(&p, o->steps, o->log_every, o->quiet ? stderr : stdout);
    const double t0 = cli_now();
    long first = aaren_adamw_steps(opt), done = 0;
    const long last = o->stop_after > 0 && first + o->stop_after < o->steps ? first + o->stop_after : o->steps;
    for (long s = first; s < last; s++) {
        aaren_synth_running_max(x, y, o->batch, o->tokens, o->seed, s);
        aaren_batch b = {x, o->batch, o->tokens, y, NULL, NULL, AAREN_LOSS_MSE, 0};
        float gn;
        const float loss = aaren_train_step(sm, opt, &b, o->dropout, o->seed * 1000003ull + (uint64_t)s, &gn, err, sizeof err);
        if (isnan(loss)) { aaren_progress_finish(&p); goto fail; }
        done++;
        if (!o->quiet) aaren_progress_update(&p, s + 1, loss, aaren_lr_at(&o->opt, s), (long)o->batch * o->tokens);
        if (o->save && o->save_every > 0 && (s + 1) % o->save_every == 0 && s + 1 < o->steps) {
            char seed[32];
            snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
            const char *kv[] = {"train.task", "running-max", "train.seed", seed};
            if (aaren_train_save(o->save, sm, opt, kv, 2, err, sizeof err)) { aaren_progress_finish(&p); goto fail; }
        }
    }
    aaren_progress_finish(&p);
    res->train_seconds = cli_now() - t0;
    res->steps_done = done;
    res->tokens_per_s = res->train_seconds > 0 ? done * (double)o->batch * o->tokens / res->train_seconds : 0;
    res->eval_mse = synth_eval_mse(sm, o->batch, o->tokens, o->seed, x, y, AAREN_SCAN);
    if (o->save) {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
        const char *kv[] = {"train.task", "running-max", "train.seed", seed};
        if (aaren_train_save(o->save, sm, opt, kv, 2, err, sizeof err)) goto fail;
    }
    aaren_adamw_free(opt);
    free(x); free(y);
    return sm;
fail:
    cli_fail(cmd, "%s", err);
    aaren_adamw_free(opt);
    aaren_seqmodel_free(sm);
    free(x); free(y);
    return NULL;
}

const char *const train_valued[] = {"task", "arch", "d-model", "n-heads", "n-layers", "d-ff", "norm",
                                           "activation", "steps", "batch", "tokens", "lr", "warmup",
                                           "schedule", "weight-decay", "clip", "dropout", "seed", "save",
                                           "save-every", "resume", "log-every", "stop-after", NULL};

static const char *train_help =
    "usage: aaren train [options]\n\n"
    "Trains a sequence model (linear embedding, encoder, linear head) on a synthetic task\n"
    "with AdamW, printing step, loss, learning rate, tokens/s and ETA (and a progress bar on\n"
    "a terminal), then its MSE on fresh sequences beside two baselines.\n\n"
    "task:\n"
    "  --task running-max     x_t = z_t + 0.1 noise, target max_{j<=t} z_j (the only task here)\n"
    "model (defaults: aaren, 32 wide, 2 heads, 2 layers, d_ff 64, post-norm, gelu):\n"
    "  --arch aaren|transformer --d-model N --n-heads N --n-layers N --d-ff N\n"
    "  --norm post|pre --activation gelu|relu\n"
    "training (defaults in brackets):\n"
    "  --steps N [300]  --batch B [32]  --tokens N [64]  --seed S [1]\n"
    "  --lr X [3e-3]  --warmup N [30]  --schedule cosine|step|constant [cosine]\n"
    "  --weight-decay X [0.01]  --clip X [1.0]  --dropout P [0]  --log-every N [steps/10]\n"
    "checkpoints:\n"
    "  --save F.safetensors   model + optimizer at the end (and every --save-every steps)\n"
    "  --resume F.safetensors continue a run saved by --save: same options give the same\n"
    "                         losses, to the last bit, as an uninterrupted run\n"
    "  --stop-after N         end this invocation after N more steps (saving with --save):\n"
    "                         a long run done in shards, each resumed with --resume\n";

/* Options shared by train and demo; defaults are the small synthetic-task model. */
int train_opts_from_args(const cli_args *a, train_opts *o) {
    memset(o, 0, sizeof *o);
    const aaren_config small = {AAREN_ARCH_AAREN, 32, 2, 2, 64, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    aaren_config c;
    long steps, batch, tokens, warmup, seed, save_every, log_every;
    const char *task = cli_get(a, "task"), *sched = cli_get(a, "schedule");
    if (cli_config(a, &small, &c)) return -1;
    if (task && strcmp(task, "running-max")) return cli_fail(a->cmd, "--task '%s': the only synthetic task is running-max", task), -1;
    if (cli_int(a, "steps", 300, 1, 100000000, &steps) || cli_int(a, "batch", 32, 1, 65536, &batch) ||
        cli_int(a, "tokens", 64, 1, 1 << 24, &tokens) || cli_int(a, "warmup", 30, 0, 100000000, &warmup) ||
        cli_int(a, "seed", 1, 0, 0x7fffffffL, &seed) || cli_int(a, "save-every", 0, 0, 100000000, &save_every) ||
        cli_int(a, "stop-after", 0, 0, 100000000, &o->stop_after))
        return -1;
    if (cli_int(a, "log-every", steps >= 10 ? steps / 10 : 1, 1, 100000000, &log_every)) return -1;
    o->cfg = c;
    o->opt = aaren_optim_default();
    if (cli_float(a, "lr", 3e-3f, 0, 10, &o->opt.lr) || cli_float(a, "weight-decay", 0.01f, 0, 10, &o->opt.weight_decay) ||
        cli_float(a, "clip", 1.0f, 0, 1e9f, &o->opt.clip_norm) || cli_float(a, "dropout", 0, 0, 0.95f, &o->dropout))
        return -1;
    o->opt.warmup_steps = warmup;
    o->opt.total_steps = steps;
    o->opt.step_size = steps / 3 > 0 ? steps / 3 : 1;
    if (!sched || !strcmp(sched, "cosine")) o->opt.schedule = AAREN_SCHED_COSINE;
    else if (!strcmp(sched, "step")) o->opt.schedule = AAREN_SCHED_STEP;
    else if (!strcmp(sched, "constant")) o->opt.schedule = AAREN_SCHED_CONSTANT;
    else return cli_fail(a->cmd, "--schedule '%s': expected cosine, step or constant", sched), -1;
    o->steps = steps; o->batch = (int)batch; o->tokens = (int)tokens; o->seed = (uint64_t)seed;
    o->save_every = save_every; o->log_every = log_every;
    o->save = cli_get(a, "save");
    o->resume = cli_get(a, "resume");
    return 0;
}

int cmd_train(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "train", argc, argv, train_valued, NULL);
    if (rc) { if (rc > 0) fputs(train_help, stdout); return rc > 0 ? 0 : 2; }
    train_opts o;
    if (train_opts_from_args(&a, &o)) return 2;
    static const char *const outputs[] = {"save", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    printf("training %s (d_model %d, %d heads, %d layers, d_ff %d) on running-max: %ld steps x %d sequences x %d tokens, %d threads\n",
           aaren_arch_name(o.cfg.arch), o.cfg.d_model, o.cfg.n_heads, o.cfg.n_layers, o.cfg.d_ff, o.steps, o.batch,
           o.tokens, aaren_threads());
    train_result r;
    aaren_seqmodel *sm = train_running_max("train", &o, &r);
    if (!sm) return 1;
    double mm, mn;
    aaren_synth_running_max_baselines(o.batch, o.tokens, o.seed, 8, &mm, &mn);
    printf("trained %ld steps in %.1f s (%.0f tokens/s)\n", r.steps_done, r.train_seconds, r.tokens_per_s);
    printf("test MSE %.5f   (per-position mean predictor %.5f, running max of the noisy input %.5f)\n",
           r.eval_mse, mm, mn);
    if (o.save) printf("saved %s\n", o.save);
    aaren_seqmodel_free(sm);
    return 0;
}
