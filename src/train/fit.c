/* The training engine (see aaren.h, aaren_fit): one loop for every task. The state that a
 * resumed run needs is one struct; a checkpoint writes it whole and reading it back continues
 * the run step for step. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren.h"
#include "base/common.h"
#include "base/rng.h"

#define ORDER_MAX 16777216L   /* example indices travel in checkpoints as exact float32 */
#define MAX_STEP 1000000000000L

void aaren_fit_options_init(aaren_fit_options *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->batch = 32;
    o->seed = 1;
}

aaren_fit_options aaren_fit_options_for(int epochs, long steps, int batch, int patience, float dropout, uint64_t seed,
                                        uint64_t order_salt, const aaren_fit_io *io) {
    aaren_fit_options o;
    aaren_fit_options_init(&o);
    o.epochs = epochs;
    o.steps = steps;
    o.batch = batch;
    o.patience = patience;
    o.dropout = dropout;
    o.seed = seed;
    o.order_salt = order_salt;
    if (io) o.io = *io;
    return o;
}

void aaren_fit_eval_add(aaren_fit_eval *ev, const char *name, double value) {
    if (ev->n >= AAREN_FIT_METRICS) return;
    ev->name[ev->n] = name;
    ev->value[ev->n++] = value;
}

/* Everything that moves during a run. */
typedef struct {
    long step;                  /* optimizer steps done */
    int epoch;                  /* the epoch under way, 1-based (epoch mode) */
    long pos;                   /* its steps done */
    uint64_t rng;               /* example order and the task's draws */
    double sum;                 /* training loss summed over the epoch (or the log window) so far */
    long count;
    int epochs_run, best_epoch, bad;
    double best_score, best_tie;
    int n_best;                 /* metrics kept of the best validation */
    char best_name[AAREN_FIT_METRICS][32];
    double best_value[AAREN_FIT_METRICS];
} fit_state;

/* What a run holds: the task, its options, the state and the buffers (one allocation). */
typedef struct {
    const aaren_fit_task *t;
    const aaren_fit_options *o;
    fit_state s;
    size_t n;                   /* parameters */
    long spe;                   /* steps per epoch (epoch mode) */
    long *order;                /* [n_train] */
    float *best;                /* [n] parameters of the best epoch */
    float *scratch;             /* [max(n_train, 1)] order as floats for checkpoints */
    void *block;
    FILE *log;
    long tokens;                /* tokens of this call's steps */
    int rank, ranks, shards;    /* this process, all of them, and the shards of a global batch */
    float *mine;                /* [shards / ranks, n] this rank's weighted shard gradients */
    float *all;                 /* [shards, n] every shard's, gathered (deterministic reduce) */
    double *losses;             /* [3 * shards] losses, tokens and empty flags of this rank's, then all shards */
    long start;                 /* the step this call began at */
    double reduce_s;            /* seconds in the exchange across ranks (losses, gradients) */
    aaren_progress prog;
    double t0;
    char *err;
    size_t errlen;
} fit_run;

static int epoch_mode(const fit_run *f) { return f->t->n_train > 0; }

/* ---- checkpoints ------------------------------------------------------------------------ */

static int put_meta(aaren_st *st, const char *key, const char *fmt, ...) AAREN_PRINTF(3, 4);
static int put_meta(aaren_st *st, const char *key, const char *fmt, ...) {
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return aaren_st_set_meta(st, key, buf);
}

static int save_checkpoint(fit_run *f) {
    if (f->rank != 0) return 0;   /* rank 0 writes; every rank holds the same state */
    const aaren_fit_task *t = f->t;
    const fit_state *s = &f->s;
    aaren_st st;
    aaren_st_init(&st);
    const int64_t n = (int64_t)f->n, nt = t->n_train;
    int rc = t->save ? t->save(t->ctx, &st) : 0;
    rc = rc || !aaren_st_put(&st, "fit.params", 1, &n, aaren_model_params(t->model)) ||
         !aaren_st_put(&st, "optim.m", 1, &n, aaren_adamw_moment(t->opt, 0)) ||
         !aaren_st_put(&st, "optim.v", 1, &n, aaren_adamw_moment(t->opt, 1));
    if (!rc && epoch_mode(f)) {
        for (long i = 0; i < nt; i++) f->scratch[i] = (float)f->order[i];
        rc = !aaren_st_put(&st, "fit.order", 1, &nt, f->scratch) || !aaren_st_put(&st, "fit.best", 1, &n, f->best);
    }
    rc = rc || put_meta(&st, "fit.task", "%s", t->name ? t->name : "") ||
         put_meta(&st, "fit.step", "%ld", s->step) || put_meta(&st, "fit.epoch", "%d", s->epoch) ||
         put_meta(&st, "fit.pos", "%ld", s->pos) || put_meta(&st, "fit.rng", "%016llx", (unsigned long long)s->rng) ||
         put_meta(&st, "fit.sum", "%.17g", s->sum) || put_meta(&st, "fit.count", "%ld", s->count) ||
         put_meta(&st, "fit.epochs_run", "%d", s->epochs_run) || put_meta(&st, "fit.best_epoch", "%d", s->best_epoch) ||
         put_meta(&st, "fit.bad", "%d", s->bad) || put_meta(&st, "fit.n_train", "%ld", t->n_train) ||
         put_meta(&st, "fit.batch", "%d", f->o->batch) || put_meta(&st, "fit.seed", "%llu", (unsigned long long)f->o->seed);
    if (!rc && s->best_epoch > 0)
        rc = put_meta(&st, "fit.best_score", "%.17g", s->best_score) || put_meta(&st, "fit.best_tie", "%.17g", s->best_tie);
    for (int i = 0; i < s->n_best && !rc; i++) {
        char key[64];
        snprintf(key, sizeof key, "fit.best.%s", s->best_name[i]);
        rc = put_meta(&st, key, "%.17g", s->best_value[i]);
    }
    if (!rc && f->o->io.options) rc = aaren_st_set_meta(&st, "fit.options", f->o->io.options);
    if (rc) aaren_errf(f->err, f->errlen, "%s: out of memory while building the checkpoint", f->o->io.save);
    else rc = aaren_st_write(f->o->io.save, &st, f->err, f->errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

/* A metadata integer of the checkpoint into *out (the key must be there). */
static int meta_long(const aaren_st *st, const char *path, const char *key, long lo, long hi, long *out, fit_run *f) {
    return aaren_meta_long(path, key, aaren_st_meta(st, key), lo, hi, out, f->err, f->errlen);
}

static int meta_double(const aaren_st *st, const char *path, const char *key, double *out, fit_run *f) {
    return aaren_meta_double(path, key, aaren_st_meta(st, key), -1e300, 1e300, out, f->err, f->errlen);
}

/* A tensor of the checkpoint with exactly n values, or NULL with a message. */
static const aaren_tensor *tensor_of(const aaren_st *st, const char *path, const char *name, int64_t n, fit_run *f) {
    const aaren_tensor *x = aaren_st_find(st, name);
    if (!x || x->numel != n) {
        aaren_file_err(f->err, f->errlen, path, "'%s' is %s (expected %lld values): not a run checkpoint of this task "
                       "and model", name, x ? "of another size" : "missing", (long long)n);
        return NULL;
    }
    return x;
}

static int load_checkpoint(fit_run *f, const char *path) {
    const aaren_fit_task *t = f->t;
    fit_state *s = &f->s;
    aaren_st st;
    long v[8];
    if (aaren_st_read(path, &st, f->err, f->errlen)) return -1;
    int rc = -1;
    const char *task = aaren_st_meta(&st, "fit.task"), *rng = aaren_st_meta(&st, "fit.rng");
    const aaren_tensor *p, *m, *vv, *order = NULL, *best = NULL;
    if (!task || strcmp(task, t->name ? t->name : "")) {
        aaren_file_err(f->err, f->errlen, path, "not a run checkpoint of '%s' (fit.task is '%s')", t->name ? t->name : "",
                       task ? task : "missing");
        goto out;
    }
    if (meta_long(&st, path, "fit.n_train", t->n_train, t->n_train, &v[0], f) ||
        meta_long(&st, path, "fit.batch", f->o->batch, f->o->batch, &v[1], f)) {
        aaren_file_err(f->err, f->errlen, path, "the checkpoint's run had other data or another batch size (fit.n_train "
                       "%s, fit.batch %s; this run: %ld, %d)", aaren_st_meta(&st, "fit.n_train") ? aaren_st_meta(&st, "fit.n_train") : "?",
                       aaren_st_meta(&st, "fit.batch") ? aaren_st_meta(&st, "fit.batch") : "?", t->n_train, f->o->batch);
        goto out;
    }
    if (!(p = tensor_of(&st, path, "fit.params", (int64_t)f->n, f)) || !(m = tensor_of(&st, path, "optim.m", (int64_t)f->n, f)) ||
        !(vv = tensor_of(&st, path, "optim.v", (int64_t)f->n, f)))
        goto out;
    if (epoch_mode(f) && (!(order = tensor_of(&st, path, "fit.order", t->n_train, f)) ||
                          !(best = tensor_of(&st, path, "fit.best", (int64_t)f->n, f))))
        goto out;
    if (meta_long(&st, path, "fit.step", 0, MAX_STEP, &s->step, f) || meta_long(&st, path, "fit.epoch", 0, 1000000000, &v[2], f) ||
        meta_long(&st, path, "fit.pos", 0, MAX_STEP, &s->pos, f) || meta_long(&st, path, "fit.count", 0, MAX_STEP, &s->count, f) ||
        meta_long(&st, path, "fit.epochs_run", 0, 1000000000, &v[3], f) ||
        meta_long(&st, path, "fit.best_epoch", 0, 1000000000, &v[4], f) || meta_long(&st, path, "fit.bad", 0, 1000000000, &v[5], f) ||
        meta_double(&st, path, "fit.sum", &s->sum, f))
        goto out;
    /* Exactly 16 hex digits: strtoull alone would take a sign, spaces or a 0x prefix. */
    if (!rng || strlen(rng) != 16 || strspn(rng, "0123456789abcdefABCDEF") != 16) {
        aaren_file_err(f->err, f->errlen, path, "metadata 'fit.rng' is '%.40s'; expected 16 hex digits", rng ? rng : "missing");
        goto out;
    }
    s->rng = (uint64_t)strtoull(rng, NULL, 16);
    s->epoch = (int)v[2];
    s->epochs_run = (int)v[3];
    s->best_epoch = (int)v[4];
    s->bad = (int)v[5];
    if (s->best_epoch > 0 && (meta_double(&st, path, "fit.best_score", &s->best_score, f) ||
                              meta_double(&st, path, "fit.best_tie", &s->best_tie, f)))
        goto out;
    s->n_best = 0;
    for (int i = 0; i < st.n_meta && s->n_best < AAREN_FIT_METRICS; i++)
        if (!strncmp(st.meta_keys[i], "fit.best.", 9)) {
            double x;
            if (meta_double(&st, path, st.meta_keys[i], &x, f)) goto out;
            snprintf(s->best_name[s->n_best], sizeof s->best_name[0], "%s", st.meta_keys[i] + 9);
            s->best_value[s->n_best++] = x;
        }
    if (order) {
        for (long i = 0; i < t->n_train; i++) {
            const float x = order->data[i];
            if (!(x >= 0 && x < (float)t->n_train) || x != floorf(x)) {
                aaren_file_err(f->err, f->errlen, path, "'fit.order' holds %g at %ld: not an example index", (double)x, i);
                goto out;
            }
            f->order[i] = (long)x;
        }
        memcpy(f->best, best->data, f->n * sizeof(float));
    }
    memcpy(aaren_model_params(t->model), p->data, f->n * sizeof(float));
    memcpy(aaren_adamw_moment(t->opt, 0), m->data, f->n * sizeof(float));
    memcpy(aaren_adamw_moment(t->opt, 1), vv->data, f->n * sizeof(float));
    aaren_adamw_set_steps(t->opt, s->step);
    rc = 0;
out:
    aaren_st_free(&st);
    return rc;
}

/* ---- the log ------------------------------------------------------------------------------ */

static const char log_header[] = "kind,step,epoch,loss,lr,grad_norm,tokens_per_s,seconds,metric,value\n";

/* Opens the log: a fresh file with its header, or on resume the existing one cut back to the
 * rows up to the resumed step (rows written after that checkpoint are written again). */
static int open_log(fit_run *f, int resumed) {
    const char *path = f->o->io.log;
    if (resumed) {
        FILE *in = fopen(path, "rb");
        aaren_writer *w = aaren_writer_open(path, f->err, f->errlen);
        if (!w) {
            if (in) fclose(in);
            return -1;
        }
        FILE *out = aaren_writer_file(w);
        fputs(log_header, out);
        char line[512];
        while (in && fgets(line, sizeof line, in)) {
            long step;
            char kind[16];
            if (sscanf(line, "%15[a-z],%ld,", kind, &step) == 2 && step <= f->s.step) fputs(line, out);
        }
        if (in) fclose(in);
        if (aaren_writer_commit(w, f->err, f->errlen)) return -1;
    } else {
        aaren_writer *w = aaren_writer_open(path, f->err, f->errlen);
        if (!w) return -1;
        fputs(log_header, aaren_writer_file(w));
        if (aaren_writer_commit(w, f->err, f->errlen)) return -1;
    }
    /* the log grows row by row as the run goes (a stream, not a document written at the end) */
    if (!(f->log = fopen(path, "a"))) return aaren_file_err(f->err, f->errlen, path, "cannot append: %s", strerror(errno));
    return 0;
}

static void log_eval(fit_run *f, const aaren_fit_eval *ev) {
    if (!f->log) return;
    for (int i = 0; i < ev->n; i++)
        fprintf(f->log, "eval,%ld,%d,,,,,%.3f,%s,%.17g\n", f->s.step, f->s.epoch, aaren_now_s() - f->t0, ev->name[i], ev->value[i]);
    fflush(f->log);
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* The gradient of a global batch split into shards (some on each rank): shard k holds
 * examples [k B / S, (k + 1) B / S) (or, drawn by the task, Bk examples from its own random
 * state derived from the step's) and weighs Bk / B, or, for a task whose loss is a mean over
 * tokens (weight_by_tokens), its tokens' share of the batch's; a shard with nothing to learn
 * from weighs 0. The weighted gradients are summed in shard order, across ranks by gathering
 * them (deterministic) or by the MPI library's all-reduce. The model's gradients end holding
 * the sum; *loss and *tokens the batch's. 0; 1 when no shard had tokens to learn from (token
 * weights); -1 with a message. */
static int sharded_grads(fit_run *f, const long *idx, int B, double *loss, long *tokens) {
    const aaren_fit_task *t = f->t;
    fit_state *s = &f->s;
    const int S = f->shards, per = S / f->ranks, k0 = f->rank * per;
    const size_t n = f->n;
    const uint64_t base = aaren_rng_next(&s->rng);   /* every rank advances the same */
    float *g = aaren_model_grads(t->model);
    /* losses [3 per]: each of this rank's shards' loss, tokens and 1 when it had nothing to learn from */
    for (int j = 0; j < per; j++) {
        const int k = k0 + j;
        const long b0 = (long)k * B / S, b1 = (long)(k + 1) * B / S;
        uint64_t rk = base ^ ((uint64_t)(k + 1) * 0xD1B54A32D192ED03ull);
        double l = 0;
        long tok = 0;
        aaren_model_zero_grad(t->model);
        const aaren_dropout drop = {f->o->dropout, f->o->seed * 1000003ull + (uint64_t)s->step * 131 + (uint64_t)k};
        const int rc =
            b1 > b0 ? t->batch(t->ctx, idx ? idx + b0 : NULL, (int)(b1 - b0), &rk, &drop, &l, &tok, f->err, f->errlen) : 1;
        if (rc < 0) return -1;
        memcpy(f->mine + (size_t)j * n, g, n * sizeof(float));   /* weighted below, once every shard's tokens are known */
        f->losses[3 * j] = rc == 1 ? 0 : l;
        f->losses[3 * j + 1] = rc == 1 ? 0 : (double)tok;
        f->losses[3 * j + 2] = rc == 1;
    }
    double *all_l = f->losses + 3 * (size_t)per;
    double tr = aaren_now_s();
    if (aaren_dist_allgather_double(f->losses, 3 * (size_t)per, all_l))
        return aaren_errf(f->err, f->errlen, "%s: gathering the losses across ranks failed", t->name ? t->name : "fit");
    if (f->ranks > 1) f->reduce_s += aaren_now_s() - tr;
    double tok_sum = 0;
    for (int k = 0; k < S; k++) tok_sum += all_l[3 * k + 1];
    if (t->weight_by_tokens && !(tok_sum > 0)) return 1;   /* every rank sees the same: no step anywhere */
    *loss = 0;
    *tokens = 0;
    for (int k = 0; k < S; k++) {
        const long b0 = (long)k * B / S, b1 = (long)(k + 1) * B / S;
        const double w = all_l[3 * k + 2] != 0 ? 0 : t->weight_by_tokens ? all_l[3 * k + 1] / tok_sum : (double)(b1 - b0) / B;
        all_l[3 * k] *= w;   /* the shard's weighted loss */
        *loss += all_l[3 * k];
        *tokens += (long)all_l[3 * k + 1];
        if (k >= k0 && k < k0 + per) {
            float *m = f->mine + (size_t)(k - k0) * n;
            for (size_t i = 0; i < n; i++) m[i] = (float)w * m[i];
        }
    }
    memset(g, 0, n * sizeof(float));
    tr = aaren_now_s();
    if (f->o->io.deterministic_reduce || f->ranks == 1) {
        if (aaren_dist_allgather(f->mine, (size_t)per * n, f->all))
            return aaren_errf(f->err, f->errlen, "%s: gathering the gradients across ranks failed", t->name ? t->name : "fit");
        for (int k = 0; k < S; k++)
            for (size_t i = 0; i < n; i++) g[i] += f->all[(size_t)k * n + i];
    } else {
        for (int j = 0; j < per; j++)
            for (size_t i = 0; i < n; i++) g[i] += f->mine[(size_t)j * n + i];
        if (aaren_dist_allreduce_sum(g, n))
            return aaren_errf(f->err, f->errlen, "%s: summing the gradients across ranks failed", t->name ? t->name : "fit");
    }
    if (f->ranks > 1) f->reduce_s += aaren_now_s() - tr;
    return 0;
}

/* One optimizer step on examples idx[0..B) (NULL: drawn by the task). */
static int one_step(fit_run *f, const long *idx, int B) {
    const aaren_fit_task *t = f->t;
    fit_state *s = &f->s;
    double loss = NAN;
    long tokens = 0;
    const float lr = aaren_lr_at(aaren_adamw_config(t->opt), s->step);
    if (f->shards > 1) {
        const int rc = sharded_grads(f, idx, B, &loss, &tokens);
        if (rc == 1) return 0;   /* nothing to learn from in this batch: no step */
        if (rc) return -1;
    } else {   /* the whole batch in one piece */
        aaren_model_zero_grad(t->model);
        const aaren_dropout drop = {f->o->dropout, f->o->seed * 1000003ull + (uint64_t)s->step};
        const int rc = t->batch(t->ctx, idx, B, &s->rng, &drop, &loss, &tokens, f->err, f->errlen);
        if (rc == 1) return 0;   /* nothing to learn from in this batch: no step */
        if (rc) return -1;
    }
    const float norm = aaren_adamw_step(t->opt, aaren_model_params(t->model), aaren_model_grads(t->model));
    if (!isfinite(loss) || !isfinite(norm)) {
        char where[32] = "";
        if (epoch_mode(f)) snprintf(where, sizeof where, " (epoch %d)", s->epoch);
        return aaren_errf(f->err, f->errlen, "%s: training diverged at step %ld%s (loss %g, gradient norm %g); try a lower "
                          "learning rate (--lr)%s%s", t->name ? t->name : "fit", s->step + 1, where, loss, (double)norm,
                          f->o->io.save ? "; the last checkpoint is " : "", f->o->io.save ? f->o->io.save : "");
    }
    s->step++;
    s->sum += loss;
    s->count++;
    f->tokens += tokens;
    if (f->o->io.progress && f->rank == 0) aaren_progress_update(&f->prog, s->step, (float)loss, lr, tokens);
    if (f->log) {
        const double el = aaren_now_s() - f->t0;
        fprintf(f->log, "train,%ld,%d,%.9g,%.6g,%.6g,%.1f,%.3f,,\n", s->step, epoch_mode(f) ? s->epoch : 0, loss,
                (double)lr, (double)norm, el > 0 ? (double)f->tokens / el : 0, el);
    }
    return 0;
}

/* After a step: a checkpoint when one is due. */
static int maybe_save(fit_run *f) {
    if (f->o->io.save && f->o->io.save_every > 0 && f->s.step % f->o->io.save_every == 0) return save_checkpoint(f);
    return 0;
}

static void shuffle(fit_run *f) {
    for (long i = f->t->n_train - 1; i > 0; i--) {
        const long j = (long)(aaren_rng_uniform(&f->s.rng) * (double)(i + 1));
        const long x = f->order[i];
        f->order[i] = f->order[j];
        f->order[j] = x;
    }
}

/* Validation at an epoch's end: improvement, best weights, the epoch line. Sets *stop. */
static int end_epoch(fit_run *f, double te, int *stop) {
    const aaren_fit_task *t = f->t;
    fit_state *s = &f->s;
    aaren_fit_eval ev;
    memset(&ev, 0, sizeof ev);
    const double train_loss = s->count ? s->sum / (double)s->count : NAN;
    if (t->validate) {
        if (t->validate(t->ctx, &ev, f->err, f->errlen)) return -1;
    } else {
        ev.score = ev.tie = train_loss;
    }
    s->epochs_run = s->epoch;
    const int improved = s->best_epoch == 0 || ev.score < s->best_score || (ev.score == s->best_score && ev.tie < s->best_tie);
    if (improved) {
        s->best_score = ev.score;
        s->best_tie = ev.tie;
        s->best_epoch = s->epoch;
        s->bad = 0;
        s->n_best = ev.n;
        for (int i = 0; i < ev.n; i++) {
            snprintf(s->best_name[i], sizeof s->best_name[0], "%s", ev.name[i]);
            s->best_value[i] = ev.value[i];
        }
        memcpy(f->best, aaren_model_params(t->model), f->n * sizeof(float));
    } else {
        s->bad++;
    }
    log_eval(f, &ev);
    if (f->o->io.progress && f->rank == 0) {
        aaren_progress_finish(&f->prog);
        FILE *o = f->o->io.progress;
        fprintf(o, "epoch %3d  train loss %.4f", s->epoch, train_loss);
        for (int i = 0; i < ev.n; i++) fprintf(o, "  %s %.4f", ev.name[i], ev.value[i]);
        fprintf(o, "%s  lr %.2e  %.1f s\n", improved ? " *" : "  ",
                (double)aaren_lr_at(aaren_adamw_config(t->opt), s->step > 0 ? s->step - 1 : 0), aaren_now_s() - te);
        fflush(o);
    }
    *stop = f->o->patience > 0 && s->bad >= f->o->patience;
    if (*stop && f->o->io.progress && f->rank == 0)
        fprintf(f->o->io.progress, "early stop: no validation improvement for %d epochs\n", s->bad);
    return 0;
}

static int run_epochs(fit_run *f, aaren_fit_result *r) {
    const aaren_fit_task *t = f->t;
    const aaren_fit_options *o = f->o;
    fit_state *s = &f->s;
    const long n = t->n_train;
    while (s->epoch <= o->epochs) {
        const double te = aaren_now_s();
        int stop = 0;
        if (s->pos == 0) shuffle(f);
        while (s->pos < f->spe) {
            const long i0 = s->pos * o->batch;
            const int B = (int)(n - i0 < o->batch ? n - i0 : o->batch);
            if (one_step(f, f->order + i0, B)) return -1;
            s->pos++;
            if (maybe_save(f)) return -1;
            if (o->io.stop_after > 0 && s->step - f->start >= o->io.stop_after) {
                r->stopped = 1;
                return o->io.save ? save_checkpoint(f) : 0;
            }
        }
        if (end_epoch(f, te, &stop)) return -1;
        r->last_loss = s->count ? s->sum / (double)s->count : NAN;
        /* the next epoch (its order is drawn when it starts); past the last after an early stop */
        s->epoch = stop ? o->epochs + 1 : s->epoch + 1;
        s->pos = 0;
        s->sum = 0;
        s->count = 0;
        if (o->io.save && s->epoch <= o->epochs && save_checkpoint(f)) return -1;
    }
    /* the best weights, and a last checkpoint holding them (a finished run resumes to itself) */
    memcpy(aaren_model_params(t->model), f->best, f->n * sizeof(float));
    return o->io.save ? save_checkpoint(f) : 0;
}

static int run_steps(fit_run *f, aaren_fit_result *r) {
    const aaren_fit_options *o = f->o;
    fit_state *s = &f->s;
    while (s->step < o->steps) {
        if (one_step(f, NULL, o->batch)) return -1;
        if (maybe_save(f)) return -1;
        if (o->after_step && o->after_step(f->t->ctx, s->step, f->err, f->errlen)) return -1;
        if (o->io.log_every > 0 && (s->step % o->io.log_every == 0 || s->step == o->steps)) {
            r->last_loss = s->sum / (double)s->count;
            s->sum = 0;
            s->count = 0;
        }
        if (o->io.stop_after > 0 && s->step - f->start >= o->io.stop_after && s->step < o->steps) {
            r->stopped = 1;
            return o->io.save ? save_checkpoint(f) : 0;
        }
    }
    if (s->count) r->last_loss = s->sum / (double)s->count;
    return o->io.save ? save_checkpoint(f) : 0;
}

int aaren_fit(const aaren_fit_task *t, const aaren_fit_options *o, aaren_fit_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (!t || !t->model || !t->opt || !t->batch || !o)
        return aaren_errf(err, errlen, "fit: the task needs a model, an optimizer and a batch function");
    if (o->batch < 1 || (t->n_train > 0 ? o->epochs < 1 : o->steps < 0) || o->patience < 0 || t->n_train < 0)
        return aaren_errf(err, errlen, "%s: batch and epochs must be >= 1 (batch %d, epochs %d, steps %ld)",
                          t->name ? t->name : "fit", o->batch, o->epochs, o->steps);
    if (t->n_train >= ORDER_MAX)
        return aaren_errf(err, errlen, "%s: %ld training examples; the engine takes fewer than %ld", t->name ? t->name : "fit",
                          t->n_train, ORDER_MAX);
    fit_run f;
    memset(&f, 0, sizeof f);
    f.t = t;
    f.o = o;
    f.err = err;
    f.errlen = errlen;
    f.n = aaren_model_n_trainable(t->model);
    const size_t nt = (size_t)t->n_train;
    f.rank = aaren_dist_rank();
    f.ranks = aaren_dist_size();
    f.shards = o->io.grad_shards > 0 ? o->io.grad_shards : f.ranks;
    if (f.shards % f.ranks || f.shards > o->batch)
        return aaren_errf(err, errlen, "%s: %d gradient shards for %d ranks and batches of %d: the shards must be a multiple "
                          "of the ranks and at most the batch", t->name ? t->name : "fit", f.shards, f.ranks, o->batch);
    const size_t sharded = f.shards > 1 ? (size_t)(f.shards / f.ranks + f.shards) * f.n : 0;
    if (!(f.block = malloc(6 * (size_t)f.shards * sizeof(double) + nt * sizeof(long) +
                           (nt + 1 + f.n + sharded) * sizeof(float))))
        return aaren_errf(err, errlen, "%s: out of memory for the training state", t->name ? t->name : "fit");
    f.losses = f.block;
    f.order = (long *)(f.losses + 6 * (size_t)f.shards);
    f.best = (float *)(f.order + nt);
    f.scratch = f.best + f.n;
    f.mine = f.scratch + nt + 1;
    f.all = f.mine + (size_t)(f.shards / f.ranks) * f.n;
    const long full = (t->n_train + o->batch - 1) / o->batch;
    f.spe = o->steps_per_epoch > 0 && o->steps_per_epoch < full ? o->steps_per_epoch : full;
    f.s.epoch = 1;
    f.s.rng = o->seed * 0x9E3779B97F4A7C15ull + o->order_salt;
    for (long i = 0; i < t->n_train; i++) f.order[i] = i;
    memcpy(f.best, aaren_model_params(t->model), f.n * sizeof(float));
    int rc = 0;
    if (o->io.resume) rc = load_checkpoint(&f, o->io.resume);
    if (!rc && o->io.log && f.rank == 0) rc = open_log(&f, o->io.resume != NULL);
    const long start = f.start = f.s.step;
    f.t0 = aaren_now_s();
    if (!rc) {
        if (o->io.progress && f.rank == 0) {
            const long total = t->n_train > 0 ? f.spe * o->epochs : o->steps;
            aaren_progress_start(&f.prog, total, o->io.log_every > 0 ? o->io.log_every : total + 1, o->io.progress);
            f.prog.first = start;
            if (start > 0) fprintf(o->io.progress, "resumed %s at step %ld (epoch %d) from %s\n", t->name ? t->name : "the run",
                                   start, f.s.epoch, o->io.resume);
        }
        rc = t->n_train > 0 ? run_epochs(&f, r) : run_steps(&f, r);
        if (o->io.progress && f.rank == 0) {
            aaren_progress_finish(&f.prog);
            const double el = aaren_now_s() - f.t0;
            if (f.ranks > 1 && f.s.step > start && el > 0)
                fprintf(o->io.progress, "exchange across %d ranks (%s): %.2f ms a step, %.1f%% of the time (rank 0, its wait "
                        "for the others included)\n", f.ranks, o->io.deterministic_reduce ? "gather in rank order" : "all-reduce",
                        1e3 * f.reduce_s / (double)(f.s.step - start), 100 * f.reduce_s / el);
        }
    }
    if (f.log) fclose(f.log);
    r->steps = f.s.step;
    r->epochs_run = f.s.epochs_run;
    r->best_epoch = f.s.best_epoch;
    r->best_score = f.s.best_score;
    r->best_tie = f.s.best_tie;
    r->n_best = f.s.n_best;
    memcpy(r->best_name, f.s.best_name, sizeof r->best_name);
    memcpy(r->best_value, f.s.best_value, sizeof r->best_value);
    free(f.block);
    r->seconds = aaren_now_s() - f.t0;
    r->tokens_per_s = r->seconds > 0 ? (double)f.tokens / r->seconds : 0;
    r->reduce_seconds = f.reduce_s;
    return rc;
}
