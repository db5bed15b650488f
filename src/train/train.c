/* The training step, run checkpoints (model + optimizer) and progress reporting. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aaren.h"
#include "base/common.h"

int aaren_train_grads(aaren_seqmodel *sm, const aaren_batch *b, const aaren_dropout *drop, double *loss,
                      char *err, size_t errlen) {
    const float *pred = aaren_seqmodel_forward_train(sm, b->x, b->B, b->N, b->lengths, b->last_only, AAREN_SCAN, drop,
                                                     err, errlen);
    if (!pred) return -1;
    if (b->loss == AAREN_LOSS_CUSTOM) {
        if (!b->loss_fn) return aaren_errf(err, errlen, "train: a custom loss needs loss_fn");
        *loss = b->loss_fn(b, pred, aaren_seqmodel_grad_output(sm));
    } else {
        *loss = b->loss == AAREN_LOSS_CE ? aaren_seqmodel_loss_ce(sm, b->labels, b->lengths, b->last_only)
                                         : aaren_seqmodel_loss_mse(sm, b->target, b->lengths, b->last_only);
    }
    return aaren_seqmodel_backward(sm, err, errlen);   /* the forward's dropout masks again */
}

float aaren_train_step(aaren_seqmodel *sm, aaren_adamw *o, const aaren_batch *b, float dropout,
                       uint64_t step_seed, float *grad_norm, char *err, size_t errlen) {
    aaren_model *enc = aaren_seqmodel_encoder(sm);
    aaren_model_zero_grad(enc);
    const aaren_dropout drop = {dropout, step_seed};
    double l;
    if (aaren_train_grads(sm, b, &drop, &l, err, errlen)) return NAN;
    const float loss = (float)l;
    const float norm = aaren_adamw_step(o, aaren_model_params(enc), aaren_model_grads(enc));
    if (grad_norm) *grad_norm = norm;
    if (!isfinite(loss) || !isfinite(norm)) {
        aaren_errf(err, errlen, "step %ld: loss %g, gradient norm %g: training diverged (try a lower learning rate)",
               aaren_adamw_steps(o), (double)loss, (double)norm);
        return NAN;
    }
    return loss;
}

int aaren_train_save(const char *path, const aaren_seqmodel *sm, aaren_adamw *o,
                     const char *const *meta_kv, int n_meta, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    const aaren_model *enc = aaren_seqmodel_encoder(sm);
    const int64_t n = (int64_t)aaren_model_n_trainable(enc);
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", aaren_adamw_steps(o));
    int rc = aaren_seqmodel_to_st(sm, &st) || aaren_st_set_meta(&st, "train.step", buf) ||
             !aaren_st_put(&st, "optim.m", 1, &n, aaren_adamw_moment(o, 0)) ||
             !aaren_st_put(&st, "optim.v", 1, &n, aaren_adamw_moment(o, 1));
    for (int i = 0; i < n_meta && !rc; i++) rc = aaren_st_set_meta(&st, meta_kv[2 * i], meta_kv[2 * i + 1]);
    if (rc) aaren_errf(err, errlen, "%s: out of memory while building the checkpoint", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}

/* The largest step count a run checkpoint may hold (far beyond any run, well inside long). */
#define AAREN_MAX_TRAIN_STEP 1000000000000L

int aaren_train_load(const char *path, aaren_seqmodel *sm, aaren_adamw *o, aaren_st *st,
                     char *err, size_t errlen) {
    if (aaren_st_read(path, st, err, errlen)) return -1;
    aaren_seqmodel *saved = aaren_seqmodel_from_st(st, path, err, errlen);
    if (!saved) { aaren_st_free(st); return -1; }
    aaren_model *enc = aaren_seqmodel_encoder(sm), *senc = aaren_seqmodel_encoder(saved);
    const aaren_config *a = aaren_model_config(enc), *b = aaren_model_config(senc);
    const size_t n = aaren_model_n_trainable(enc);
    int rc = 0;
    if (memcmp(a, b, sizeof *a) || aaren_model_n_trainable(senc) != n ||
        aaren_seqmodel_d_in(saved) != aaren_seqmodel_d_in(sm) || aaren_seqmodel_d_out(saved) != aaren_seqmodel_d_out(sm)) {
        aaren_errf(err, errlen, "%s: the checkpoint's model (%s, d_model %d, %d layers) differs from this run's (%s, d_model %d, %d layers)",
               path, aaren_arch_name(b->arch), b->d_model, b->n_layers, aaren_arch_name(a->arch), a->d_model, a->n_layers);
        rc = -1;
    }
    const aaren_tensor *m = aaren_st_find(st, "optim.m"), *v = aaren_st_find(st, "optim.v");
    const char *step = aaren_st_meta(st, "train.step");
    long steps = 0;
    if (!rc && (!m || !v || !step || m->numel != (int64_t)n || v->numel != (int64_t)n)) {
        aaren_errf(err, errlen, "%s: no optimizer state (optim.m, optim.v, train.step) for %zu parameters: not a training checkpoint", path, n);
        rc = -1;
    }
    if (!rc) rc = aaren_meta_long(path, "train.step", step, 0, AAREN_MAX_TRAIN_STEP, &steps, err, errlen);
    if (!rc) {
        memcpy(aaren_model_params(enc), aaren_model_params(senc), n * sizeof(float));
        memcpy(aaren_adamw_moment(o, 0), m->data, n * sizeof(float));
        memcpy(aaren_adamw_moment(o, 1), v->data, n * sizeof(float));
        aaren_adamw_set_steps(o, steps);
    }
    aaren_seqmodel_free(saved);
    if (rc) aaren_st_free(st);
    return rc;
}

/* ---- progress ------------------------------------------------------------------------------ */

static void fmt_time(char *buf, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) { snprintf(buf, n, "--:--"); return; }
    const long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

void aaren_progress_start(aaren_progress *p, long total, long every, void *stream) {
    memset(p, 0, sizeof *p);
    p->total = total;
    p->every = every > 0 ? every : 1;
    p->stream = stream;
    p->tty = isatty(fileno((FILE *)stream));
    p->t0 = aaren_now_s();
}

void aaren_progress_update(aaren_progress *p, long step, float loss, float lr, long tokens) {
    FILE *f = p->stream;
    p->tokens += tokens;
    const double t = aaren_now_s(), el = t - p->t0;
    const double tps = el > 0 ? p->tokens / el : 0;
    char eta[32], elapsed[32];
    const long done = step - p->first;
    fmt_time(eta, sizeof eta, done > 0 ? el / done * (p->total - step) : -1);
    fmt_time(elapsed, sizeof elapsed, el);
    const int line = step % p->every == 0 || step == p->total;
    if (p->tty) fputs("\r\033[K", f);
    if (line) {
        fprintf(f, "step %6ld/%ld  loss %.5f  lr %.2e  %8.0f tokens/s  elapsed %s  eta %s\n", step, p->total,
                (double)loss, (double)lr, tps, elapsed, eta);
    }
    if (p->tty && step < p->total && (line || t - p->last_draw > 0.1)) {
        const int width = 30, fill = (int)(width * (double)step / (p->total > 0 ? p->total : 1));
        fputc('[', f);
        for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', f);
        fprintf(f, "] %ld/%ld loss %.4f eta %s", step, p->total, (double)loss, eta);
        p->last_draw = t;
    }
    fflush(f);
}

void aaren_progress_finish(aaren_progress *p) {
    if (p->tty) fputs("\r\033[K", (FILE *)p->stream);
    fflush(p->stream);
}
