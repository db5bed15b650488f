/* The training engine (aaren_fit) on a small regression task of its own: it learns; a run cut
 * at any step (mid-epoch, at an epoch's end, after an early stop) and resumed from its
 * checkpoint ends with the same parameters and the same best epoch, to the last bit, as the
 * run that was never cut; the same for a run of steps; the log holds one row per step and per
 * evaluation, cut back on resume; a run killed while it writes checkpoints leaves one that
 * loads; a diverging run names its step; a checkpoint of another run is refused. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "aaren.h"
#include "check.h"
#include "base/rng.h"

enum { D_IN = 3, D_OUT = 2, N_TOK = 6, N_EX = 50, N_VAL = 20, BATCH = 8 };
static int shards;   /* grad_shards of the runs the tests make (0: one per rank) */

typedef struct {
    aaren_seqmodel *sm;
    aaren_adamw *opt;
    float x[N_EX + N_VAL][N_TOK][D_IN], y[N_EX + N_VAL][N_TOK][D_OUT];
    float bx[BATCH * N_TOK * D_IN], by[BATCH * N_TOK * D_OUT];
    float lr;
} task;

/* Example e: inputs from the seed, targets a fixed smooth function of the running inputs. */
static void make_data(task *T) {
    uint64_t r = 5;
    for (int e = 0; e < N_EX + N_VAL; e++) {
        double acc[D_IN] = {0};
        for (int t = 0; t < N_TOK; t++)
            for (int i = 0; i < D_IN; i++) {
                T->x[e][t][i] = (float)aaren_rng_normal(&r);
                acc[i] += T->x[e][t][i];
            }
        for (int t = 0; t < N_TOK; t++) {
            T->y[e][t][0] = (float)tanh(0.5 * T->x[e][t][0] + 0.2 * acc[1]);
            T->y[e][t][1] = (float)(0.3 * T->x[e][t][2] - 0.1 * acc[0]);
        }
    }
}

static int fill(task *T, const long *idx, int B, uint64_t *rng) {
    for (int b = 0; b < B; b++) {
        const long e = idx ? idx[b] : (long)(aaren_rng_uniform(rng) * N_EX);
        memcpy(T->bx + (size_t)b * N_TOK * D_IN, T->x[e], sizeof T->x[e]);
        memcpy(T->by + (size_t)b * N_TOK * D_OUT, T->y[e], sizeof T->y[e]);
    }
    return 0;
}

static int batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                 char *err, size_t errlen) {
    task *T = ctx;
    fill(T, idx, B, rng);
    if (!aaren_seqmodel_forward_train(T->sm, T->bx, B, N_TOK, NULL, 0, AAREN_SCAN, drop, err, errlen)) return -1;
    *loss = aaren_seqmodel_loss_mse(T->sm, T->by, NULL, 0);
    *tokens = (long)B * N_TOK;
    return aaren_seqmodel_backward(T->sm, err, errlen);
}

static int validate(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    task *T = ctx;
    double se = 0;
    for (int v = 0; v < N_VAL; v += BATCH) {
        const int B = N_VAL - v < BATCH ? N_VAL - v : BATCH;
        long idx[BATCH];
        for (int b = 0; b < B; b++) idx[b] = N_EX + v + b;
        fill(T, idx, B, NULL);
        if (!aaren_seqmodel_forward(T->sm, T->bx, B, N_TOK, AAREN_SCAN, err, errlen)) return -1;
        se += aaren_seqmodel_loss_mse(T->sm, T->by, NULL, 0) * B;
    }
    ev->score = ev->tie = se / N_VAL;
    ev->n = 1;
    ev->name[0] = "val MSE";
    ev->value[0] = ev->score;
    return 0;
}

static int save(void *ctx, aaren_st *st) { return aaren_seqmodel_to_st(((task *)ctx)->sm, st); }

static task *task_new(float lr, float dropout) {
    char err[256];
    task *T = calloc(1, sizeof *T);
    aaren_config c = {AAREN_ARCH_AAREN, 16, 2, 2, 32, AAREN_NORM_PRE, AAREN_GELU, 1e-5f};
    T->sm = aaren_seqmodel_new(&c, D_IN, D_OUT, err, sizeof err);
    aaren_seqmodel_reserve(T->sm, BATCH, N_TOK, 1, err, sizeof err);
    aaren_seqmodel_init(T->sm, 3);
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = lr;
    oc.total_steps = 200;
    T->opt = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(T->sm)), &oc, err, sizeof err);
    aaren_seqmodel_decay_mask(T->sm, T->opt);
    make_data(T);
    (void)dropout;
    return T;
}

static void task_free(task *T) {
    aaren_seqmodel_free(T->sm);
    aaren_adamw_free(T->opt);
    free(T);
}

static aaren_fit_task hooks(task *T, long n_train) {
    aaren_fit_task t = {T, aaren_seqmodel_encoder(T->sm), T->opt, n_train, batch, n_train ? validate : NULL, save, "test", 0};
    return t;
}

static const float *params(task *T) { return aaren_model_params(aaren_seqmodel_encoder(T->sm)); }
static size_t n_params(task *T) { return aaren_model_n_trainable(aaren_seqmodel_encoder(T->sm)); }

static aaren_fit_options options(int epochs, long steps, int patience) {
    aaren_fit_options o;
    aaren_fit_options_init(&o);
    o.epochs = epochs;
    o.steps = steps;
    o.batch = BATCH;
    o.patience = patience;
    o.dropout = 0.1f;
    o.seed = 11;
    o.order_salt = 3;
    o.io.grad_shards = shards;
    o.io.deterministic_reduce = 1;
    return o;
}

static char ckpt[1024], logp[1024];

/* The run uncut, then the same run cut after `cut` steps and resumed (twice when cut2 > 0):
 * the same parameters, best epoch and steps. */
static void resume_equals(const char *label, long n_train, int epochs, long steps, int patience, long cut, long cut2) {
    char err[512];
    aaren_fit_result full, part, rest;
    task *A = task_new(3e-3f, 0.1f), *B = task_new(3e-3f, 0.1f);
    aaren_fit_task ta = hooks(A, n_train), tb = hooks(B, n_train);
    aaren_fit_options o = options(epochs, steps, patience);
    CHECK(aaren_fit(&ta, &o, &full, err, sizeof err) == 0, "%s: uncut run: %s", label, err);
    o.io.save = ckpt;
    o.io.log = logp;
    o.io.stop_after = cut;
    CHECK(aaren_fit(&tb, &o, &part, err, sizeof err) == 0 && part.stopped, "%s: cut run: %s", label, err);
    task_free(B);
    B = task_new(3e-3f, 0.1f);   /* a fresh process: nothing carried over but the file */
    tb = hooks(B, n_train);
    o.io.resume = ckpt;
    o.io.stop_after = cut2;
    if (cut2 > 0) {
        CHECK(aaren_fit(&tb, &o, &part, err, sizeof err) == 0 && part.stopped, "%s: second cut: %s", label, err);
        task_free(B);
        B = task_new(3e-3f, 0.1f);
        tb = hooks(B, n_train);
    }
    o.io.stop_after = 0;
    CHECK(aaren_fit(&tb, &o, &rest, err, sizeof err) == 0 && !rest.stopped, "%s: resumed run: %s", label, err);
    CHECK(!memcmp(params(A), params(B), n_params(A) * sizeof(float)), "%s: resumed parameters differ from the uncut run's",
          label);
    CHECK(full.steps == rest.steps && full.best_epoch == rest.best_epoch && full.epochs_run == rest.epochs_run &&
          full.best_score == rest.best_score, "%s: steps %ld/%ld, best epoch %d/%d, epochs %d/%d, best %.9g/%.9g", label,
          full.steps, rest.steps, full.best_epoch, rest.best_epoch, full.epochs_run, rest.epochs_run, full.best_score,
          rest.best_score);
    /* the log: one train row per step of the whole run (rows after the cut written once) */
    FILE *f = fopen(logp, "r");
    long train_rows = 0, eval_rows = 0, last = 0, ordered = 1;
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        long step;
        if (!strncmp(line, "train,", 6) && sscanf(line + 6, "%ld", &step) == 1) {
            train_rows++;
            ordered &= step == last + 1;
            last = step;
        }
        eval_rows += !strncmp(line, "eval,", 5);
    }
    if (f) fclose(f);
    CHECK(train_rows == full.steps && ordered, "%s: the log has %ld train rows (steps 1..%ld in order: %ld)", label,
          train_rows, full.steps, ordered);
    CHECK(eval_rows == (n_train ? full.epochs_run : 0), "%s: %ld eval rows for %d epochs", label, eval_rows, full.epochs_run);
    /* resuming a finished run changes nothing */
    CHECK(aaren_fit(&tb, &o, &rest, err, sizeof err) == 0 && !memcmp(params(A), params(B), n_params(A) * sizeof(float)),
          "%s: resuming a finished run: %s", label, err);
    task_free(A);
    task_free(B);
    remove(ckpt);
    remove(logp);
}

static void test_learns(void) {
    char err[512];
    task *T = task_new(3e-3f, 0.1f);
    aaren_fit_task t = hooks(T, N_EX);
    aaren_fit_options o = options(1, 0, 0);
    aaren_fit_eval ev;
    validate(T, &ev, err, sizeof err);
    const double before = ev.score;
    o.epochs = 30;
    aaren_fit_result r;
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == 0, "fit: %s", err);
    validate(T, &ev, err, sizeof err);
    CHECK(ev.score < 0.5 * before && ev.score == r.best_score, "validation MSE %.4f from %.4f (best %.4f)", ev.score, before,
          r.best_score);
    CHECK(r.steps == 30L * ((N_EX + BATCH - 1) / BATCH) && r.epochs_run == 30, "steps %ld, epochs %d", r.steps, r.epochs_run);
    CHECK(r.n_best == 1 && !strcmp(r.best_name[0], "val MSE") && r.best_value[0] == r.best_score, "best metrics kept");
    task_free(T);
}

/* Shards change how a batch is computed, not what is learnt: three shards learn the task, their
 * run differs from the one-piece run (other dropout masks), and more shards than the batch is
 * an error. */
static void test_shards(void) {
    char err[512];
    task *A = task_new(3e-3f, 0.1f), *B = task_new(3e-3f, 0.1f);
    aaren_fit_task ta = hooks(A, N_EX), tb = hooks(B, N_EX);
    aaren_fit_options o = options(30, 0, 0);
    aaren_fit_result ra, rb;
    aaren_fit_eval ev;
    validate(A, &ev, err, sizeof err);
    const double before = ev.score;
    CHECK(aaren_fit(&ta, &o, &ra, err, sizeof err) == 0, "3 shards: %s", err);
    o.io.grad_shards = 1;
    CHECK(aaren_fit(&tb, &o, &rb, err, sizeof err) == 0, "1 shard: %s", err);
    CHECK(ra.best_score < 0.5 * before && rb.best_score < 0.5 * before, "both learn: %.4f and %.4f from %.4f",
          ra.best_score, rb.best_score, before);
    CHECK(memcmp(params(A), params(B), n_params(A) * sizeof(float)) != 0, "3 shards and 1 shard gave the same parameters");
    o.io.grad_shards = BATCH + 1;
    CHECK(aaren_fit(&tb, &o, &rb, err, sizeof err) == -1 && strstr(err, "gradient shards"), "9 shards of 8: '%s'", err);
    task_free(A);
    task_free(B);
}

static void test_diverges(void) {
    char err[512] = "";
    task *T = task_new(1e30f, 0);
    aaren_fit_task t = hooks(T, N_EX);
    aaren_fit_options o = options(5, 0, 0);
    aaren_fit_result r;
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == -1 && strstr(err, "diverged at step") && strstr(err, "--lr"),
          "a learning rate of 1e30: '%s'", err);
    task_free(T);
}

static void test_wrong_checkpoint(void) {
    char err[512];
    task *A = task_new(3e-3f, 0);
    aaren_fit_task t = hooks(A, N_EX);
    aaren_fit_options o = options(1, 0, 0);
    aaren_fit_result r;
    o.io.save = ckpt;
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == 0, "fit: %s", err);
    o.io.save = NULL;
    o.io.resume = ckpt;
    o.batch = BATCH - 1;
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == -1 && strstr(err, "another batch size"), "another batch: '%s'", err);
    o.batch = BATCH;
    t.name = "other";
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == -1 && strstr(err, "not a run checkpoint of 'other'"), "another task: '%s'",
          err);
    task_free(A);
    remove(ckpt);
}

/* A child writes a checkpoint after every step and is killed at a random moment, again and
 * again; the checkpoint that is there afterwards always resumes. */
static void test_kill_during_save(void) {
    char err[512];
    task *A = task_new(3e-3f, 0);
    aaren_fit_task t = hooks(A, N_EX);
    aaren_fit_options o = options(400, 0, 0);
    aaren_fit_result r;
    o.io.save = ckpt;
    o.io.save_every = 1;
    o.io.stop_after = 3;
    CHECK(aaren_fit(&t, &o, &r, err, sizeof err) == 0, "first checkpoint: %s", err);
    int loads = 0;
    for (int k = 0; k < 12; k++) {
        o.io.resume = ckpt;
        o.io.stop_after = 0;
        const pid_t pid = fork();
        if (pid == 0) {
            aaren_fit(&t, &o, &r, err, sizeof err);
            _exit(0);
        }
        const struct timespec nap = {0, (20000 + 7919L * k % 30000) * 1000L};
        nanosleep(&nap, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        task *B = task_new(3e-3f, 0);
        aaren_fit_task tb = hooks(B, N_EX);
        aaren_fit_options ob = o;
        ob.io.save = NULL;
        ob.epochs = 1;   /* the file's state decides; one epoch or fewer remains or the run is done */
        ob.io.stop_after = 1;
        const int rc = aaren_fit(&tb, &ob, &r, err, sizeof err);
        loads += rc == 0;
        CHECK(rc == 0 || strstr(err, "epochs"), "kill %d: the checkpoint left behind does not load: %s", k, err);
        task_free(B);
    }
    CHECK(loads > 0, "no checkpoint loaded");
    task_free(A);
    remove(ckpt);
    /* no temporary left over except the one the last kill cut short */
}

int main(void) {
    if (!check_tmp_dir()) return check_skip("test_fit", "no temporary folder");
    snprintf(ckpt, sizeof ckpt, "%s", check_tmp_path("run.safetensors"));
    snprintf(logp, sizeof logp, "%s", check_tmp_path("run.csv"));
    test_learns();
    const long spe = (N_EX + BATCH - 1) / BATCH;   /* 7 steps, the last of 2 examples */
    resume_equals("mid-epoch", N_EX, 6, 0, 0, spe + 3, 0);
    resume_equals("at an epoch's end", N_EX, 6, 0, 0, 2 * spe, 0);
    resume_equals("cut twice", N_EX, 6, 0, 0, 4, 2 * spe + 1);
    resume_equals("early stopping", N_EX, 60, 0, 2, 5 * spe + 2, 0);
    resume_equals("steps", 0, 0, 45, 0, 17, 0);
    shards = 3;   /* the batch as three shards whose gradients are summed (one process: accumulation) */
    resume_equals("3 shards, mid-epoch", N_EX, 6, 0, 0, spe + 3, 0);
    resume_equals("3 shards, steps", 0, 0, 45, 0, 17, 0);
    test_shards();
    shards = 0;
    test_diverges();
    test_wrong_checkpoint();
    test_kill_during_save();
    return check_done("test_fit");
}
