/* Time-series forecasting (see forecast.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/common.h"
#include "tasks/forecast.h"

#define NORM_EPS 1e-5

struct aaren_forecaster {
    aaren_forecast_options o;
    aaren_ts *ts;
    aaren_seqmodel *sm;
    aaren_adamw *opt;
    int L, H, c_in, c_data, c_out, d_in;   /* seq_len, pred_len, input width, data channels, outputs */
    long *idx;              /* [B] window indices of an evaluation batch */
    float *x, *y;           /* [B, L, d_in], [B, H, c_out] a batch as stored (dataset-scaled) */
    float *xn;              /* [B, L, d_in] the batch normalised per window */
    float *mu, *sd;         /* [B, c_data] per-window statistics */
    void *block;            /* the one allocation behind the buffers above */
};

void aaren_forecast_options_init(aaren_forecast_options *o) {
    memset(o, 0, sizeof *o);
    aaren_ts_options_init(&o->ts);
    aaren_config c = {AAREN_ARCH_AAREN, 64, 4, 2, 128, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    o->enc = c;
    o->batch = 32;
    o->epochs = 10;
    o->patience = 3;
    o->steps_per_epoch = 300;
    o->lr = 1e-3f;
    o->dropout = 0.1f;
    o->seed = 1;
}

const aaren_ts *aaren_forecaster_data(const aaren_forecaster *f) { return f->ts; }
aaren_seqmodel *aaren_forecaster_model(const aaren_forecaster *f) { return f->sm; }

void aaren_forecaster_free(aaren_forecaster *f) {
    if (!f) return;
    aaren_ts_free(f->ts);
    aaren_seqmodel_free(f->sm);
    aaren_adamw_free(f->opt);
    free(f->block);
    free(f);
}

aaren_forecaster *aaren_forecaster_new(const aaren_forecast_options *o, char *err, size_t errlen) {
    if (o->batch < 1 || o->epochs < 1 || o->patience < 1) {
        aaren_errf(err, errlen, "forecast: batch, epochs and patience must be >= 1");
        return NULL;
    }
    aaren_forecaster *f = calloc(1, sizeof *f);
    if (!f) { aaren_errf(err, errlen, "out of memory"); return NULL; }
    f->o = *o;
    f->ts = aaren_ts_load(o->data, &o->ts, err, errlen);
    if (!f->ts) { aaren_forecaster_free(f); return NULL; }
    f->L = aaren_ts_seq_len(f->ts);
    f->H = aaren_ts_pred_len(f->ts);
    f->d_in = aaren_ts_d_in(f->ts);
    f->c_data = f->d_in - aaren_ts_n_time(f->ts);
    f->c_out = aaren_ts_d_out(f->ts);
    f->sm = aaren_seqmodel_new(&o->enc, f->d_in, f->H * f->c_out, err, errlen);
    if (!f->sm || aaren_seqmodel_reserve(f->sm, o->batch, f->L, 1, err, errlen)) { aaren_forecaster_free(f); return NULL; }
    aaren_seqmodel_init(f->sm, o->seed);
    const size_t B = (size_t)o->batch, n = aaren_model_n_trainable(aaren_seqmodel_encoder(f->sm));
    const long nw = aaren_ts_n_windows(f->ts, AAREN_TS_TRAIN);
    const long full = (nw + o->batch - 1) / o->batch;   /* the engine's epoch (aaren_fit) */
    const long spe = o->steps_per_epoch > 0 && o->steps_per_epoch < full ? o->steps_per_epoch : full;
    aaren_optim_config oc = aaren_optim_default();
    oc.lr = o->lr;
    oc.weight_decay = 0;
    oc.clip_norm = 0;
    oc.schedule = AAREN_SCHED_STEP;
    oc.step_size = spe;
    oc.gamma = 0.5f;
    f->opt = aaren_adamw_new(n, &oc, err, errlen);
    const size_t floats = B * f->L * f->d_in * 2 + B * f->H * f->c_out + 2 * B * f->c_data;
    /* [idx: B longs][x][xn][y][mu][sd]: the longs first, so every array is aligned */
    f->block = malloc(B * sizeof(long) + floats * sizeof(float));
    if (!f->opt || !f->block) {
        if (f->opt) aaren_errf(err, errlen, "out of memory");
        aaren_forecaster_free(f);
        return NULL;
    }
    f->idx = f->block;
    float *p = (float *)(f->idx + B);
    f->x = p; p += B * f->L * f->d_in;
    f->xn = p; p += B * f->L * f->d_in;
    f->y = p; p += B * f->H * f->c_out;
    f->mu = p; p += B * f->c_data;
    f->sd = p;
    return f;
}

/* xn = x with each data channel of each window normalised over the window; calendar
 * columns pass through. Saves the statistics in mu, sd. */
static void normalise(aaren_forecaster *f, int B) {
    const int L = f->L, d = f->d_in;
    memcpy(f->xn, f->x, sizeof(float) * (size_t)B * L * d);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < f->c_data; c++) {
            const float *x = f->x + (size_t)b * L * d + c;
            double s = 0, ss = 0;
            for (int t = 0; t < L; t++) s += x[(size_t)t * d];
            const double m = s / L;
            for (int t = 0; t < L; t++) ss += (x[(size_t)t * d] - m) * (x[(size_t)t * d] - m);
            const double sd = sqrt(ss / L + NORM_EPS);
            f->mu[b * f->c_data + c] = (float)m;
            f->sd[b * f->c_data + c] = (float)sd;
            float *xn = f->xn + (size_t)b * L * d + c;
            for (int t = 0; t < L; t++) xn[(size_t)t * d] = (float)((x[(size_t)t * d] - m) / sd);
        }
}

/* Output channel j is data channel c_data - c_out + j (the target is the last column). */
static int out_channel(const aaren_forecaster *f, int j) { return f->c_data - f->c_out + j; }

/* Forward on the batch in x; returns the model's (window-normalised) output [B, H, c_out]. */
static const float *predict_batch(aaren_forecaster *f, int B, char *err, size_t errlen) {
    normalise(f, B);
    return aaren_seqmodel_forward_last(f->sm, f->xn, B, f->L, NULL, AAREN_SCAN, err, errlen);
}

/* Output j at step h of window b, de-normalised with that window's statistics. */
static double denorm(const aaren_forecaster *f, const float *p, int b, int h, int j) {
    const int c = b * f->c_data + out_channel(f, j);
    return (double)p[((size_t)b * f->H + h) * f->c_out + j] * f->sd[c] + f->mu[c];
}

static int load_batch(aaren_forecaster *f, int split, const long *idx, int B) {
    return aaren_ts_batch(f->ts, split, idx, B, f->x, f->y);
}

/* The engine's batch (aaren_fit): windows idx of the training split, forward, MSE in the
 * dataset's scale (the de-normalised forecast against the target), backward. */
static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, double *loss, long *tokens, char *err, size_t errlen) {
    aaren_forecaster *f = ctx;
    (void)rng;
    if (load_batch(f, AAREN_TS_TRAIN, idx, B)) return aaren_errf(err, errlen, "forecast: cannot read training windows");
    const float *p = predict_batch(f, B, err, errlen);
    if (!p) return -1;
    float *g = aaren_seqmodel_grad_output(f->sm);
    const size_t count = (size_t)B * f->H * f->c_out;
    double se = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++) {
                const size_t i = ((size_t)b * f->H + h) * f->c_out + j;
                const double d = denorm(f, p, b, h, j) - f->y[i];
                se += d * d;
                g[i] = (float)(2 * d / (double)count * f->sd[b * f->c_data + out_channel(f, j)]);
            }
    *loss = se / (double)count;
    *tokens = (long)B * f->L;
    return aaren_seqmodel_backward(f->sm, err, errlen);
}

static int fit_validate(void *ctx, aaren_fit_eval *ev, char *err, size_t errlen) {
    aaren_forecaster *f = ctx;
    double mse, mae;
    if (aaren_forecaster_evaluate(f, AAREN_TS_VAL, &mse, &mae, NULL, NULL, err, errlen)) return -1;
    ev->score = ev->tie = mse;
    aaren_fit_eval_add(ev, "val MSE", mse);
    aaren_fit_eval_add(ev, "val MAE", mae);
    return 0;
}

static int forecaster_to_st(const aaren_forecaster *f, aaren_st *st);
static int fit_save(void *ctx, aaren_st *st) { return forecaster_to_st(ctx, st); }

int aaren_forecaster_evaluate(aaren_forecaster *f, int split, double *mse, double *mae,
                              double *naive_mse, double *naive_mae, char *err, size_t errlen) {
    const long nw = aaren_ts_n_windows(f->ts, split);
    const int B = f->o.batch;
    long *idx = f->idx;
    double se = 0, ae = 0, nse = 0, nae = 0;
    size_t count = 0;
    for (long w0 = 0; w0 < nw; w0 += B) {
        const int b = (int)(nw - w0 < B ? nw - w0 : B);
        for (int i = 0; i < b; i++) idx[i] = w0 + i;
        if (load_batch(f, split, idx, b)) return aaren_errf(err, errlen, "forecast: cannot read windows of split %d", split);
        const float *p = predict_batch(f, b, err, errlen);
        if (!p) return -1;
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < f->H; h++)
                for (int j = 0; j < f->c_out; j++) {
                    const size_t i = ((size_t)bb * f->H + h) * f->c_out + j;
                    const double d = denorm(f, p, bb, h, j) - f->y[i];
                    /* the last observed value of that channel (dataset-scaled) */
                    const double last = f->x[((size_t)bb * f->L + f->L - 1) * f->d_in + out_channel(f, j)];
                    const double dn = last - f->y[i];
                    se += d * d; ae += fabs(d); nse += dn * dn; nae += fabs(dn);
                    count++;
                }
    }
    if (!count) return aaren_errf(err, errlen, "forecast: split %d has no windows", split);
    *mse = se / count; *mae = ae / count;
    if (naive_mse) *naive_mse = nse / count;
    if (naive_mae) *naive_mae = nae / count;
    return 0;
}

int aaren_forecaster_run(aaren_forecaster *f, aaren_forecast_result *r, const aaren_fit_io *io, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    const double t0 = aaren_now_s();
    r->n_params = aaren_model_n_trainable(aaren_seqmodel_encoder(f->sm));
    const aaren_fit_task t = {f, aaren_seqmodel_encoder(f->sm), f->opt, aaren_ts_n_windows(f->ts, AAREN_TS_TRAIN),
                              fit_batch, fit_validate, fit_save, "forecast"};
    aaren_fit_options fo = aaren_fit_options_for(f->o.epochs, 0, f->o.batch, f->o.patience,
                                                 f->o.dropout, f->o.seed, 17, io);
    fo.steps_per_epoch = f->o.steps_per_epoch;
    aaren_fit_result fr;
    if (aaren_fit(&t, &fo, &fr, err, errlen)) return -1;
    r->epochs_run = fr.epochs_run;
    r->best_epoch = fr.best_epoch;
    r->val_mse = fr.best_score;
    r->stopped = fr.stopped;
    if (fr.stopped) return 0;
    if (aaren_forecaster_evaluate(f, AAREN_TS_TEST, &r->test_mse, &r->test_mae, &r->naive_mse, &r->naive_mae, err, errlen))
        return -1;
    r->seconds = aaren_now_s() - t0;
    return 0;
}

int aaren_forecaster_predict(aaren_forecaster *f, int split, long window, float *history,
                             float *truth, float *forecast, char *err, size_t errlen) {
    if (window < 0 || window >= aaren_ts_n_windows(f->ts, split))
        return aaren_errf(err, errlen, "forecast: window %ld is outside the split's %ld windows", window,
                          aaren_ts_n_windows(f->ts, split));
    if (load_batch(f, split, &window, 1)) return aaren_errf(err, errlen, "forecast: cannot read window %ld", window);
    const float *p = predict_batch(f, 1, err, errlen);
    if (!p) return -1;
    for (int h = 0; h < f->H; h++)
        for (int j = 0; j < f->c_out; j++) {
            const size_t i = (size_t)h * f->c_out + j;
            forecast[i] = (float)denorm(f, p, 0, h, j);
            truth[i] = f->y[i];
        }
    for (int t = 0; t < f->L; t++)
        for (int j = 0; j < f->c_out; j++) history[(size_t)t * f->c_out + j] = f->x[(size_t)t * f->d_in + out_channel(f, j)];
    /* back to the file's units */
    aaren_ts_unscale(f->ts, AAREN_TS_OUTPUT, forecast, f->H);   /* n is rows of d_out values */
    aaren_ts_unscale(f->ts, AAREN_TS_OUTPUT, truth, f->H);
    aaren_ts_unscale(f->ts, AAREN_TS_OUTPUT, history, f->L);
    return 0;
}

int aaren_forecaster_window_input(aaren_forecaster *f, int split, long window, float *xn, char *err, size_t errlen) {
    if (window < 0 || window >= aaren_ts_n_windows(f->ts, split))
        return aaren_errf(err, errlen, "forecast: window %ld is outside the split's %ld windows", window,
                          aaren_ts_n_windows(f->ts, split));
    if (load_batch(f, split, &window, 1)) return aaren_errf(err, errlen, "forecast: cannot read window %ld", window);
    normalise(f, 1);
    memcpy(xn, f->xn, sizeof(float) * (size_t)f->L * f->d_in);
    return 0;
}

/* The model's tensors and forecast.* metadata. */
static int forecaster_to_st(const aaren_forecaster *f, aaren_st *st) {
    char buf[3][32];
    snprintf(buf[0], sizeof buf[0], "%d", f->L);
    snprintf(buf[1], sizeof buf[1], "%d", f->H);
    snprintf(buf[2], sizeof buf[2], "%d", (int)f->o.ts.features);
    return aaren_seqmodel_to_st(f->sm, st) || aaren_st_set_meta(st, "forecast.data", f->o.data) ||
           aaren_st_set_meta(st, "forecast.seq_len", buf[0]) || aaren_st_set_meta(st, "forecast.pred_len", buf[1]) ||
           aaren_st_set_meta(st, "forecast.features", buf[2]);
}

int aaren_forecaster_save(const aaren_forecaster *f, const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    int rc = forecaster_to_st(f, &st);
    if (rc) aaren_errf(err, errlen, "%s: out of memory while building the checkpoint", path);
    else rc = aaren_st_write(path, &st, err, errlen);
    aaren_st_free(&st);
    return rc ? -1 : 0;
}
