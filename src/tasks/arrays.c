/* A sequence model trained on arrays through aaren_fit (see aaren_tasks.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren_tasks.h"
#include "base/common.h"

void aaren_arrays_fit_options_init(aaren_arrays_fit_options *o) {
    memset(o, 0, sizeof *o);
    o->loss = AAREN_LOSS_MSE;
    o->epochs = 10;
    o->batch = 32;
    o->lr = 1e-3f;
    o->weight_decay = 0.01f;
    o->clip = 1.0f;
    o->schedule = AAREN_SCHED_CONSTANT;
    o->seed = 1;
}

typedef struct {
    aaren_seqmodel *sm;
    const aaren_arrays *train, *val;
    int loss, last_only, d_in, d_out, batch;
    float *x, *target;     /* [batch, N, d_in], [batch, N or 1, d_out] gathered examples */
    int *labels, *lens;    /* [batch, N or 1], [batch] */
} arrays_run;

/* Checks an array set against the model and the loss. */
static int check_arrays(const aaren_arrays *a, const char *what, int loss, int last_only, int d_out, char *err, size_t errlen) {
    if (!a->x || a->n < 1 || a->N < 1)
        return aaren_errf(err, errlen, "%s: %ld examples of %d tokens; expected at least one of each", what, a->n, a->N);
    if (loss == AAREN_LOSS_MSE ? !a->target : !a->labels)
        return aaren_errf(err, errlen, "%s: no %s", what, loss == AAREN_LOSS_MSE ? "targets (MSE)" : "labels (cross-entropy)");
    if (loss == AAREN_LOSS_CE) {
        const long m = last_only ? a->n : a->n * a->N;
        for (long i = 0; i < m; i++)
            if (a->labels[i] < 0 || a->labels[i] >= d_out)
                return aaren_errf(err, errlen, "%s: label %d at %ld; expected a class from 0 to %d", what, a->labels[i], i, d_out - 1);
    }
    for (long i = 0; a->lengths && i < a->n; i++)
        if (a->lengths[i] < 1 || a->lengths[i] > a->N)
            return aaren_errf(err, errlen, "%s: example %ld has length %d; expected 1 to %d", what, i, a->lengths[i], a->N);
    return 0;
}

/* Copies examples idx[0..B) of a (or first..first+B when idx is NULL) into the run's buffers;
 * returns the tokens held. */
static long gather(arrays_run *r, const aaren_arrays *a, const long *idx, long first, int B) {
    const size_t xs = (size_t)a->N * r->d_in, ts = (size_t)(r->last_only ? 1 : a->N);
    long tokens = 0;
    for (int b = 0; b < B; b++) {
        const long i = idx ? idx[b] : first + b;
        memcpy(r->x + b * xs, a->x + i * xs, sizeof(float) * xs);
        if (r->loss == AAREN_LOSS_MSE) memcpy(r->target + b * ts * r->d_out, a->target + i * ts * r->d_out, sizeof(float) * ts * r->d_out);
        else memcpy(r->labels + b * ts, a->labels + i * ts, sizeof(int) * ts);
        r->lens[b] = a->lengths ? a->lengths[i] : a->N;
        tokens += r->lens[b];
    }
    return tokens;
}

/* Forward and loss of the gathered batch (gradient kept for backward). */
static int forward_loss(arrays_run *r, int B, int N, double *loss, char *err, size_t errlen) {
    const float *p = r->last_only ? aaren_seqmodel_forward_last(r->sm, r->x, B, N, r->lens, AAREN_SCAN, err, errlen)
                                  : aaren_seqmodel_forward(r->sm, r->x, B, N, AAREN_SCAN, err, errlen);
    if (!p) return -1;
    *loss = r->loss == AAREN_LOSS_MSE ? aaren_seqmodel_loss_mse(r->sm, r->target, r->lens, r->last_only)
                                      : aaren_seqmodel_loss_ce(r->sm, r->labels, r->lens, r->last_only);
    return 0;
}

static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    arrays_run *r = ctx;
    (void)rng;
    *tokens = gather(r, r->train, idx, 0, B);
    const aaren_batch b = {r->x, B, r->train->N, r->target, r->labels, r->lens, r->loss, r->last_only, NULL, NULL};
    return aaren_train_grads(r->sm, &b, drop, loss, err, errlen);
}

/* Mean loss over a (weighted by examples); an evaluation forward (no dropout). */
static double mean_loss(arrays_run *r, const aaren_arrays *a, char *err, size_t errlen) {
    double sum = 0;
    for (long i0 = 0; i0 < a->n; i0 += r->batch) {
        const int B = (int)(a->n - i0 < r->batch ? a->n - i0 : r->batch);
        double l;
        gather(r, a, NULL, i0, B);
        if (forward_loss(r, B, a->N, &l, err, errlen)) return NAN;
        sum += l * B;
    }
    return sum / (double)a->n;
}

static int fit_validate(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    arrays_run *r = ctx;
    if (errlen) err[0] = 0;
    const double l = mean_loss(r, r->val, err, errlen);
    if (isnan(l) && err[0]) return -1;
    ev->score = l;
    ev->tie = 0;
    aaren_fit_eval_add(ev, "val_loss", l);
    return 0;
}

static int fit_save(void *ctx, aaren_st *st) { return aaren_seqmodel_to_st(((arrays_run *)ctx)->sm, st) ? -1 : 0; }

/* Buffers for batches of the run's largest token count. */
static int run_open(arrays_run *r, aaren_seqmodel *sm, int loss, int last_only, int batch, int N, int grads, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->sm = sm;
    r->loss = loss;
    r->last_only = last_only;
    r->d_in = aaren_seqmodel_d_in(sm);
    r->d_out = aaren_seqmodel_d_out(sm);
    r->batch = batch;
    const size_t ts = (size_t)(last_only ? 1 : N);
    r->x = malloc(sizeof(float) * (size_t)batch * N * r->d_in);
    r->target = malloc(sizeof(float) * (size_t)batch * ts * r->d_out);
    r->labels = malloc(sizeof(int) * (size_t)batch * ts);
    r->lens = malloc(sizeof(int) * (size_t)batch);
    if (!r->x || !r->target || !r->labels || !r->lens) return aaren_errf(err, errlen, "out of memory for batches of %d x %d tokens", batch, N);
    return aaren_seqmodel_reserve(sm, batch, N, grads, err, errlen);
}

static void run_close(arrays_run *r) {
    free(r->x); free(r->target); free(r->labels); free(r->lens);
}

int aaren_seqmodel_fit_arrays(aaren_seqmodel *sm, const aaren_arrays *train, const aaren_arrays *val,
                              const aaren_arrays_fit_options *o, aaren_fit_result *res, char *err, size_t errlen) {
    if (o->loss != AAREN_LOSS_MSE && o->loss != AAREN_LOSS_CE) return aaren_errf(err, errlen, "fit: unknown loss %d", o->loss);
    if (o->epochs < 1 || o->batch < 1 || o->patience < 0 || !(o->lr > 0) || !(o->dropout >= 0 && o->dropout < 1))
        return aaren_errf(err, errlen, "fit: epochs %d, batch %d, patience %d, lr %g, dropout %g: expected epochs and batch "
                          "of at least 1, patience >= 0, lr > 0, dropout in [0, 1)", o->epochs, o->batch, o->patience,
                          (double)o->lr, (double)o->dropout);
    const int d_out = aaren_seqmodel_d_out(sm);
    if (check_arrays(train, "training data", o->loss, o->last_only, d_out, err, errlen)) return -1;
    const int has_val = val && val->n > 0;
    if (has_val && check_arrays(val, "validation data", o->loss, o->last_only, d_out, err, errlen)) return -1;
    const int N = has_val && val->N > train->N ? val->N : train->N;
    arrays_run r;
    aaren_adamw *opt = NULL;
    int rc = -1;
    if (run_open(&r, sm, o->loss, o->last_only, o->batch, N, 1, err, errlen)) goto done;
    r.train = train;
    r.val = has_val ? val : NULL;
    aaren_model *enc = aaren_seqmodel_encoder(sm);
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = o->lr;
    oc.weight_decay = o->weight_decay;
    oc.clip_norm = o->clip;
    oc.schedule = o->schedule;
    oc.warmup_steps = o->warmup_steps;
    oc.total_steps = (long)o->epochs * ((train->n + o->batch - 1) / o->batch);
    if (!(opt = aaren_adamw_new(aaren_model_n_trainable(enc), &oc, err, errlen))) goto done;
    aaren_seqmodel_decay_mask(sm, opt);
    aaren_fit_io io;
    memset(&io, 0, sizeof io);
    io.log = o->log;
    io.save = o->save;
    io.progress = o->verbose ? stderr : NULL;
    aaren_fit_task t = {&r, enc, opt, train->n, fit_batch, has_val ? fit_validate : NULL, fit_save, "arrays", 0};
    aaren_fit_options fo = aaren_fit_options_for(o->epochs, 0, o->batch, o->patience, o->dropout, o->seed, 0, &io);
    aaren_fit_result fr;
    rc = aaren_fit(&t, &fo, &fr, err, errlen);
    if (!rc && res) *res = fr;
done:
    aaren_adamw_free(opt);
    run_close(&r);
    return rc;
}

double aaren_seqmodel_loss_arrays(aaren_seqmodel *sm, const aaren_arrays *data, int loss, int last_only, int batch,
                                  char *err, size_t errlen) {
    if (batch < 1) batch = 32;
    if (loss != AAREN_LOSS_MSE && loss != AAREN_LOSS_CE) return aaren_errf(err, errlen, "unknown loss %d", loss), NAN;
    if (check_arrays(data, "data", loss, last_only, aaren_seqmodel_d_out(sm), err, errlen)) return NAN;
    arrays_run r;
    double l = NAN;
    if (!run_open(&r, sm, loss, last_only, batch, data->N, 0, err, errlen)) l = mean_loss(&r, data, err, errlen);
    run_close(&r);
    return l;
}
