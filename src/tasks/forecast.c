/* Time-series forecasting (see forecast.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "tasks/forecast.h"
#include "tasks/patch.h"
#include "tasks/serving.h"

#define NORM_EPS 1e-5

struct aaren_forecaster {
    aaren_forecast_options o;
    aaren_ts *ts;
    aaren_seqmodel *sm;     /* the paper's recipe: one token per step */
    aaren_patchmodel *pm;   /* the patch recipe: channels one by one, patches as tokens (NULL: sm) */
    aaren_adamw *opt;
    int L, H, c_in, c_data, c_out, d_in;   /* seq_len, pred_len, input width, data channels, outputs */
    long *idx;              /* [B] window indices of an evaluation batch */
    float *x, *y;           /* [B, L, d_in], [B, H, c_out] a batch as stored (dataset-scaled) */
    float *xn;              /* [B, L, d_in] the batch normalised per window */
    float *mu, *sd;         /* [B, c_data] per-window statistics */
    float *ser, *pout;      /* patch recipe: [B * c_data, L] series, [B, H, c_out] forecasts */
    void *block;            /* the one allocation behind the buffers above */
    /* a model loaded from its checkpoint (no data file): what forecasting new rows needs */
    int cols;               /* numeric columns of the training file */
    double *scaler;         /* [2 * cols]: the training rows' mean, then std */
    char *names;            /* the columns' names, escaped (see escape_name), comma-separated */
    char *target;           /* the target column's name */
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
    o->recipe = AAREN_RECIPE_PAPER;
    o->patch_len = 16;
    o->patch_stride = 8;
}

const char *aaren_recipe_name(int recipe) {
    return recipe == AAREN_RECIPE_PAPER ? "paper" : recipe == AAREN_RECIPE_PATCH ? "patch" : NULL;
}

int aaren_recipe_from_name(const char *s) {
    return !s ? -1 : !strcmp(s, "paper") ? AAREN_RECIPE_PAPER : !strcmp(s, "patch") ? AAREN_RECIPE_PATCH : -1;
}

/* The encoder and its parameter block (the task's tensors included), whichever the recipe. */
static aaren_model *encoder_of(const aaren_forecaster *f) {
    return f->pm ? aaren_patchmodel_encoder(f->pm) : aaren_seqmodel_encoder(f->sm);
}

const aaren_ts *aaren_forecaster_data(const aaren_forecaster *f) { return f->ts; }
aaren_seqmodel *aaren_forecaster_model(const aaren_forecaster *f) { return f->sm; }
aaren_model *aaren_forecaster_encoder(const aaren_forecaster *f) { return encoder_of(f); }

void aaren_forecaster_free(aaren_forecaster *f) {
    if (!f) return;
    aaren_ts_free(f->ts);
    aaren_seqmodel_free(f->sm);
    aaren_patchmodel_free(f->pm);
    aaren_adamw_free(f->opt);
    free(f->block);
    free(f->scaler);
    free(f->names);
    free(f->target);
    free(f);
}

/* The batch buffers for batches of B windows: [idx: B longs][x][xn][y][mu][sd], then for the
 * patch recipe [ser][pout], the longs first so that every array is aligned. */
static int alloc_buffers(aaren_forecaster *f, size_t B) {
    const size_t patch = f->pm ? B * f->c_data * f->L + B * f->H * f->c_out : 0;
    const size_t floats = B * f->L * f->d_in * 2 + B * f->H * f->c_out + 2 * B * f->c_data + patch;
    if (!(f->block = malloc(B * sizeof(long) + floats * sizeof(float)))) return -1;
    f->idx = f->block;
    float *p = (float *)(f->idx + B);
    f->x = p; p += B * f->L * f->d_in;
    f->xn = p; p += B * f->L * f->d_in;
    f->y = p; p += B * f->H * f->c_out;
    f->mu = p; p += B * f->c_data;
    f->sd = p; p += B * f->c_data;
    f->ser = f->pm ? p : NULL; p += f->pm ? B * f->c_data * f->L : 0;
    f->pout = f->pm ? p : NULL;
    return 0;
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
    f->o.ts.freq = aaren_ts_freq_used(f->ts);   /* AUTO resolved: the checkpoint records 'h' or 't' */
    f->L = aaren_ts_seq_len(f->ts);
    f->H = aaren_ts_pred_len(f->ts);
    f->d_in = aaren_ts_d_in(f->ts);
    f->c_data = f->d_in - aaren_ts_n_time(f->ts);
    f->c_out = aaren_ts_d_out(f->ts);
    if (o->recipe == AAREN_RECIPE_PATCH) {
        /* channel-independent: the data channels go through one by one; no calendar features */
        if (f->d_in != f->c_data) {
            aaren_errf(err, errlen, "forecast: the patch recipe takes no calendar features (drop --calendar)");
            aaren_forecaster_free(f);
            return NULL;
        }
        f->pm = aaren_patchmodel_new(&o->enc, f->L, f->H, o->patch_len, o->patch_stride, err, errlen);
        if (!f->pm || aaren_patchmodel_reserve(f->pm, o->batch * f->c_data, 1, err, errlen)) {
            aaren_forecaster_free(f);
            return NULL;
        }
        aaren_patchmodel_init(f->pm, o->seed);
    } else if (o->recipe != AAREN_RECIPE_PAPER) {
        aaren_errf(err, errlen, "forecast: unknown recipe %d", o->recipe);
        aaren_forecaster_free(f);
        return NULL;
    } else {
        f->sm = aaren_seqmodel_new(&o->enc, f->d_in, f->H * f->c_out, err, errlen);
        if (!f->sm || aaren_seqmodel_reserve(f->sm, o->batch, f->L, 1, err, errlen)) { aaren_forecaster_free(f); return NULL; }
        aaren_seqmodel_init(f->sm, o->seed);
    }
    const size_t B = (size_t)o->batch, n = aaren_model_n_trainable(encoder_of(f));
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
    if (!f->opt || alloc_buffers(f, B)) {
        if (f->opt) aaren_errf(err, errlen, "out of memory");
        aaren_forecaster_free(f);
        return NULL;
    }
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

/* Forward on the batch in x with dropout drop (NULL: none, an evaluation); returns the model's
 * (window-normalised) output [B, H, c_out]. The patch recipe forecasts every data channel as a
 * series of its own and keeps the output channels. */
static const float *predict_batch_train(aaren_forecaster *f, int B, const aaren_dropout *drop, char *err, size_t errlen) {
    normalise(f, B);
    if (!f->pm) return aaren_seqmodel_forward_train(f->sm, f->xn, B, f->L, NULL, 1, AAREN_SCAN, drop, err, errlen);
    const int L = f->L, C = f->c_data;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < L; t++)
                f->ser[((size_t)b * C + c) * L + t] = f->xn[((size_t)b * L + t) * f->d_in + c];
    const float *q = aaren_patchmodel_forward_train(f->pm, f->ser, B * C, drop, err, errlen);   /* [B * C, H] */
    if (!q) return NULL;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++)
                f->pout[((size_t)b * f->H + h) * f->c_out + j] = q[((size_t)b * C + out_channel(f, j)) * f->H + h];
    return f->pout;
}

static const float *predict_batch(aaren_forecaster *f, int B, char *err, size_t errlen) {
    return predict_batch_train(f, B, NULL, err, errlen);
}

/* Output j at step h of window b, de-normalised with that window's statistics. */
static double denorm(const aaren_forecaster *f, const float *p, int b, int h, int j) {
    const int c = b * f->c_data + out_channel(f, j);
    return (double)p[((size_t)b * f->H + h) * f->c_out + j] * f->sd[c] + f->mu[c];
}

static int load_batch(aaren_forecaster *f, int split, const long *idx, int B) {
    return aaren_ts_batch(f->ts, split, idx, B, f->x, f->y);
}

/* The training loss (aaren_batch.loss_fn): MSE in the dataset's scale, the de-normalised
 * forecasts p [B, H, c_out] against the targets in f->y; dL/dp into g. */
static double scaled_mse(const aaren_batch *bt, const float *p, float *g) {
    const aaren_forecaster *f = bt->loss_ctx;
    const int B = bt->B;
    const size_t count = (size_t)B * f->H * f->c_out;
    double se = 0;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++) {
                const size_t i = ((size_t)b * f->H + h) * f->c_out + j;
                const double d = denorm(f, p, b, h, j) - f->y[i];
                se += d * d;
                /* the patch recipe's gradient goes to its output channels' series (the others get none) */
                const size_t gi = f->pm ? ((size_t)b * f->c_data + out_channel(f, j)) * f->H + h : i;
                g[gi] = (float)(2 * d / (double)count * f->sd[b * f->c_data + out_channel(f, j)]);
            }
    return se / (double)count;
}

/* The engine's batch (aaren_fit): windows idx of the training split, normalised, then the
 * library's training step on them with the loss above (the head at the last step). */
static int fit_batch(void *ctx, const long *idx, int B, uint64_t *rng, const aaren_dropout *drop, double *loss, long *tokens,
                     char *err, size_t errlen) {
    aaren_forecaster *f = ctx;
    (void)rng;
    if (load_batch(f, AAREN_TS_TRAIN, idx, B)) return aaren_errf(err, errlen, "forecast: cannot read training windows");
    const aaren_batch b = {f->xn, B, f->L, NULL, NULL, NULL, AAREN_LOSS_CUSTOM, 1, scaled_mse, f};
    *tokens = (long)B * f->L;
    if (!f->pm) {
        normalise(f, B);
        return aaren_train_grads(f->sm, &b, drop, loss, err, errlen);
    }
    const float *p = predict_batch_train(f, B, drop, err, errlen);   /* the patch recipe's own forward */
    if (!p) return -1;
    *loss = scaled_mse(&b, p, aaren_patchmodel_grad_output(f->pm));
    return aaren_patchmodel_backward(f->pm, err, errlen);
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

/* Windows of a split in batches of the training batch size through the model: batches
 * [k0, k1) of the split's (k1 < 0: to the last). visit(ctx, f, p, b, w0) sees the forecasts
 * p [b, H, c_out] (window-normalised) of windows w0 .. w0 + b - 1, whose inputs and targets
 * are in f->x, f->y. */
typedef void (*window_visit)(void *ctx, const aaren_forecaster *f, const float *p, int b, long w0);
static int each_window(aaren_forecaster *f, int split, long k0, long k1, window_visit visit, void *ctx, char *err,
                       size_t errlen) {
    const long nw = f->ts ? aaren_ts_n_windows(f->ts, split) : -1;
    if (nw < 1) return aaren_errf(err, errlen, "forecast: split %d has no windows", split);
    const int B = f->o.batch;
    for (long w0 = k0 * B; w0 < nw && (k1 < 0 || w0 < k1 * B); w0 += B) {
        const int b = (int)(nw - w0 < B ? nw - w0 : B);
        for (int i = 0; i < b; i++) f->idx[i] = w0 + i;
        if (load_batch(f, split, f->idx, b)) return aaren_errf(err, errlen, "forecast: cannot read windows of split %d", split);
        const float *p = predict_batch(f, b, err, errlen);
        if (!p) return -1;
        visit(ctx, f, p, b, w0);
    }
    return 0;
}

/* Errors of the model and of repeating the last value, summed per batch: rows [batches, 5]
 * of squared and absolute errors, the same of the naive forecast, and the count. */
enum { N_SUMS = 5 };
typedef struct {
    double *rows;
    int B;
} error_sums;

static void add_errors(void *ctx, const aaren_forecaster *f, const float *p, int b, long w0) {
    error_sums *e = ctx;
    double *r = e->rows + (size_t)(w0 / e->B) * N_SUMS;
    for (int bb = 0; bb < b; bb++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++) {
                const size_t i = ((size_t)bb * f->H + h) * f->c_out + j;
                const double d = denorm(f, p, bb, h, j) - f->y[i];
                /* the last observed value of that channel (dataset-scaled) */
                const double last = f->x[((size_t)bb * f->L + f->L - 1) * f->d_in + out_channel(f, j)];
                const double dn = last - f->y[i];
                r[0] += d * d; r[1] += fabs(d); r[2] += dn * dn; r[3] += fabs(dn);
                r[4] += 1;
            }
}

/* Under MPI each rank evaluates its part of the split's batches and the per-batch sums are
 * combined (aaren_dist_block_sums): every rank gets one process's figures to the last bit. */
int aaren_forecaster_evaluate(aaren_forecaster *f, int split, double *mse, double *mae,
                              double *naive_mse, double *naive_mae, char *err, size_t errlen) {
    const long nw = f->ts ? aaren_ts_n_windows(f->ts, split) : -1;
    if (nw < 1) return aaren_errf(err, errlen, "forecast: split %d has no windows", split);
    const long nb = (nw + f->o.batch - 1) / f->o.batch;
    long k0, k1;
    aaren_dist_part(nb, &k0, &k1);
    error_sums e = {calloc((size_t)nb * N_SUMS, sizeof(double)), f->o.batch};
    double t[N_SUMS];
    if (!e.rows) return aaren_errf(err, errlen, "forecast: out of memory for the evaluation of split %d", split);
    const int rc = k1 > k0 ? each_window(f, split, k0, k1, add_errors, &e, err, errlen) : 0;
    /* every rank takes part in the sum, even one that failed (the others would wait for it) */
    const int rs = aaren_dist_block_sums(e.rows, nb, N_SUMS, t);
    free(e.rows);
    if (rc) return -1;
    if (rs) return aaren_errf(err, errlen, "forecast: summing the evaluation across ranks failed");
    *mse = t[0] / t[4]; *mae = t[1] / t[4];
    if (naive_mse) *naive_mse = t[2] / t[4];
    if (naive_mae) *naive_mae = t[3] / t[4];
    return 0;
}

int aaren_forecaster_run(aaren_forecaster *f, aaren_forecast_result *r, const aaren_fit_io *io, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    const double t0 = aaren_now_s();
    r->n_params = aaren_model_n_trainable(encoder_of(f));
    const aaren_fit_task t = {f, encoder_of(f), f->opt, aaren_ts_n_windows(f->ts, AAREN_TS_TRAIN),
                              fit_batch, fit_validate, fit_save, "forecast", 0};
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
    if (f->pm) return aaren_errf(err, errlen, "forecast: a patch-recipe model reads whole windows, not steps");
    if (window < 0 || window >= aaren_ts_n_windows(f->ts, split))
        return aaren_errf(err, errlen, "forecast: window %ld is outside the split's %ld windows", window,
                          aaren_ts_n_windows(f->ts, split));
    if (load_batch(f, split, &window, 1)) return aaren_errf(err, errlen, "forecast: cannot read window %ld", window);
    normalise(f, 1);
    memcpy(xn, f->xn, sizeof(float) * (size_t)f->L * f->d_in);
    return 0;
}

/* A column name as metadata text: safetensors metadata is UTF-8, headers are any bytes
 * (weather.csv's is Latin-1), so bytes >= 0x80, control bytes and '\\' become \\xHH. */
static void escape_name(const char *name, char *out, size_t cap) {
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && k + 5 < cap; c++) {
        if (*c >= 0x80 || *c < 0x20 || *c == '\\') k += (size_t)snprintf(out + k, cap - k, "\\x%02x", *c);
        else out[k++] = (char)*c;
    }
    out[k] = '\0';
}

/* The escaped names of ts's columns, comma-separated; malloc'd (NULL when out of memory). */
static char *column_names(const aaren_ts *ts) {
    const int cols = aaren_ts_cols(ts);
    size_t cap = 1;
    for (int c = 0; c < cols; c++) cap += 4 * strlen(aaren_ts_col_name(ts, c)) + 2;
    char *s = malloc(cap), *p = s;
    if (!s) return NULL;
    *p = '\0';
    for (int c = 0; c < cols; c++) {
        if (c) *p++ = ',';
        escape_name(aaren_ts_col_name(ts, c), p, cap - (size_t)(p - s));
        p += strlen(p);
    }
    return s;
}

/* The model's tensors and forecast.* metadata: what forecasting new rows needs (sizes, the
 * feature mode, calendar features, the columns, the target and the training rows' scaler). */
static int forecaster_to_st(const aaren_forecaster *f, aaren_st *st) {
    char buf[5][32];
    snprintf(buf[0], sizeof buf[0], "%d", f->L);
    snprintf(buf[1], sizeof buf[1], "%d", f->H);
    snprintf(buf[2], sizeof buf[2], "%d", (int)f->o.ts.features);
    snprintf(buf[3], sizeof buf[3], "%d", (int)f->o.ts.freq);
    snprintf(buf[4], sizeof buf[4], "%d", f->o.ts.no_scale ? 0 : 1);
    const int cols = f->ts ? aaren_ts_cols(f->ts) : f->cols;
    char *names = f->ts ? column_names(f->ts) : strdup(f->names);
    char *mean = aaren_join_doubles(f->ts ? aaren_ts_mean(f->ts) : f->scaler, cols);
    char *sd = aaren_join_doubles(f->ts ? aaren_ts_std(f->ts) : f->scaler + cols, cols);
    char target[1024];
    escape_name(f->ts ? (f->o.ts.target ? f->o.ts.target : "OT") : f->target, target, sizeof target);
    const int rc = !names || !mean || !sd || (f->pm ? aaren_patchmodel_to_st(f->pm, st) : aaren_seqmodel_to_st(f->sm, st)) ||
                   aaren_st_set_meta(st, "forecast.recipe", aaren_recipe_name(f->pm ? AAREN_RECIPE_PATCH : AAREN_RECIPE_PAPER)) ||
                   (f->o.data && aaren_st_set_meta(st, "forecast.data", f->o.data)) ||
                   aaren_st_set_meta(st, "forecast.seq_len", buf[0]) || aaren_st_set_meta(st, "forecast.pred_len", buf[1]) ||
                   aaren_st_set_meta(st, "forecast.features", buf[2]) || aaren_st_set_meta(st, "forecast.freq", buf[3]) ||
                   aaren_st_set_meta(st, "forecast.scaled", buf[4]) || aaren_st_set_meta(st, "forecast.columns", names) ||
                   aaren_st_set_meta(st, "forecast.target", target) || aaren_st_set_meta(st, "forecast.mean", mean) ||
                   aaren_st_set_meta(st, "forecast.std", sd);
    free(names);
    free(mean);
    free(sd);
    return rc ? -1 : 0;
}

/* The inverse of escape_name, in place. */
static void unescape_name(char *s) {
    char *o = s;
    for (; *s; s++) {
        unsigned v;
        if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1 && s[2] && s[3]) {
            *o++ = (char)v;
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

aaren_forecaster *aaren_forecaster_load(const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return NULL;
    aaren_forecaster *f = calloc(1, sizeof *f);
    const char *names = aaren_st_meta(&st, "forecast.columns"), *target = aaren_st_meta(&st, "forecast.target");
    long L, H, feat, freq, scaled;
    if (!f) { aaren_file_err(err, errlen, path, "out of memory"); goto fail; }
    if (!aaren_st_meta(&st, "forecast.seq_len")) {
        aaren_file_err(err, errlen, path, "no forecast.* metadata: not a model written by aaren forecast --save");
        goto fail;
    }
    if (!names || !target) {
        aaren_file_err(err, errlen, path, "no forecast.columns / forecast.target: a forecaster saved before models kept "
                       "their columns and scaler; train it again to forecast new rows");
        goto fail;
    }
    if (aaren_meta_long(path, "forecast.seq_len", aaren_st_meta(&st, "forecast.seq_len"), 1, 100000, &L, err, errlen) ||
        aaren_meta_long(path, "forecast.pred_len", aaren_st_meta(&st, "forecast.pred_len"), 1, 100000, &H, err, errlen) ||
        aaren_meta_long(path, "forecast.features", aaren_st_meta(&st, "forecast.features"), 0, 2, &feat, err, errlen) ||
        aaren_meta_long(path, "forecast.freq", aaren_st_meta(&st, "forecast.freq"), 0, 2, &freq, err, errlen) ||
        aaren_meta_long(path, "forecast.scaled", aaren_st_meta(&st, "forecast.scaled"), 0, 1, &scaled, err, errlen))
        goto fail;
    f->cols = 1;
    for (const char *c = names; *c; c++) f->cols += *c == ',';
    if (!(f->names = strdup(names)) || !(f->target = strdup(target)) || !(f->scaler = malloc(sizeof(double) * 2 * f->cols))) {
        aaren_file_err(err, errlen, path, "out of memory");
        goto fail;
    }
    unescape_name(f->target);
    if (aaren_meta_doubles(path, "forecast.mean", aaren_st_meta(&st, "forecast.mean"), f->scaler, f->cols, err, errlen) ||
        aaren_meta_doubles(path, "forecast.std", aaren_st_meta(&st, "forecast.std"), f->scaler + f->cols, f->cols, err, errlen))
        goto fail;
    for (int c = 0; c < f->cols; c++)
        if (!(f->scaler[f->cols + c] > 0)) {
            aaren_file_err(err, errlen, path, "metadata 'forecast.std': value %d is not positive", c + 1);
            goto fail;
        }
    aaren_ts_options_init(&f->o.ts);
    f->o.ts.seq_len = (int)L;
    f->o.ts.pred_len = (int)H;
    f->o.ts.features = (aaren_ts_features)feat;
    f->o.ts.freq = (aaren_ts_freq)freq;
    f->o.ts.no_scale = !scaled;
    f->o.ts.target = f->target;
    f->o.batch = 1;
    f->L = (int)L;
    f->H = (int)H;
    f->c_data = feat == AAREN_TS_S ? 1 : f->cols;
    f->c_out = feat == AAREN_TS_M ? f->cols : 1;
    f->d_in = f->c_data + (freq == AAREN_TS_FREQ_H ? 4 : freq == AAREN_TS_FREQ_T ? 5 : 0);
    const char *recipe = aaren_st_meta(&st, "forecast.recipe");   /* absent: saved before recipes, the paper's */
    const int rec = recipe ? aaren_recipe_from_name(recipe) : AAREN_RECIPE_PAPER;
    if (rec < 0) {
        aaren_file_err(err, errlen, path, "metadata 'forecast.recipe' is '%.40s' (expected paper or patch)", recipe);
        goto fail;
    }
    if (rec == AAREN_RECIPE_PATCH) {
        if (!(f->pm = aaren_patchmodel_from_st(&st, path, err, errlen))) goto fail;
        const char *pl = aaren_st_meta(&st, "patch.seq_len"), *ph = aaren_st_meta(&st, "patch.pred_len");
        if (f->d_in != f->c_data || atol(pl) != L || atol(ph) != H) {
            aaren_file_err(err, errlen, path, "the patch model's lookback %s and horizon %s (calendar features: %d) do not "
                           "match its forecast.* metadata (%ld, %ld, none)", pl, ph, f->d_in - f->c_data, L, H);
            goto fail;
        }
        if (aaren_patchmodel_reserve(f->pm, f->c_data, 0, err, errlen) || alloc_buffers(f, 1)) {
            aaren_file_err(err, errlen, path, "out of memory");
            goto fail;
        }
        aaren_st_free(&st);
        return f;
    }
    if (!(f->sm = aaren_seqmodel_from_st(&st, path, err, errlen))) goto fail;
    if (aaren_seqmodel_d_in(f->sm) != f->d_in || aaren_seqmodel_d_out(f->sm) != f->H * f->c_out) {
        aaren_file_err(err, errlen, path, "the model maps %d inputs to %d outputs; its forecast.* metadata says %d to %d x %d",
                       aaren_seqmodel_d_in(f->sm), aaren_seqmodel_d_out(f->sm), f->d_in, f->H, f->c_out);
        goto fail;
    }
    if (aaren_seqmodel_reserve(f->sm, 1, f->L, 0, err, errlen)) goto fail;
    if (alloc_buffers(f, 1)) { aaren_file_err(err, errlen, path, "out of memory"); goto fail; }
    aaren_st_free(&st);
    return f;
fail:
    aaren_st_free(&st);
    aaren_forecaster_free(f);
    return NULL;
}

int aaren_forecaster_forecast_file(aaren_forecaster *f, const char *csv, int scaled, float *history, float *forecast,
                                   aaren_ts_date *dates, char *err, size_t errlen) {
    if (!f->scaler) return aaren_errf(err, errlen, "forecast: forecasting new rows needs a model loaded from its checkpoint");
    aaren_ts_options o = f->o.ts;
    o.split = AAREN_TS_SPLIT_NONE;
    o.scaler_mean = f->scaler;
    o.scaler_std = f->scaler + f->cols;
    o.scaler_cols = f->cols;
    aaren_ts *ts = aaren_ts_load(csv, &o, err, errlen);
    if (!ts) return -1;
    int rc = 0;
    char *names = column_names(ts);
    const long n = aaren_ts_rows(ts);
    if (!names) rc = aaren_file_err(err, errlen, csv, "out of memory");
    else if (strcmp(names, f->names))
        rc = aaren_file_err(err, errlen, csv, "columns '%.300s' differ from the model's '%.300s'", names, f->names);
    else if (n < 2)
        rc = aaren_file_err(err, errlen, csv, "one data row: the step between rows (to date the forecast) needs two");
    free(names);
    const aaren_ts_date *d = aaren_ts_dates(ts);
    const long long step = n >= 2 ? aaren_ts_date_seconds(&d[n - 1]) - aaren_ts_date_seconds(&d[n - 2]) : 0;
    if (!rc && step <= 0)
        rc = aaren_file_err(err, errlen, csv, "the last two dates do not increase: no step to continue the dates with");
    if (!rc) {   /* the last seq_len rows, as a training window is built */
        const int cols = aaren_ts_cols(ts), nt = aaren_ts_n_time(ts);
        const int *in = aaren_ts_in_cols(ts), *oc = aaren_ts_out_cols(ts);
        const float *data = aaren_ts_data(ts), *time = aaren_ts_time(ts);
        const long r0 = n - f->L;
        for (int t = 0; t < f->L; t++) {
            float *x = f->x + (size_t)t * f->d_in;
            for (int j = 0; j < f->c_data; j++) x[j] = data[(size_t)(r0 + t) * cols + in[j]];
            for (int j = 0; j < nt; j++) x[f->c_data + j] = time[(size_t)(r0 + t) * nt + j];
            for (int j = 0; j < f->c_out; j++) history[(size_t)t * f->c_out + j] = data[(size_t)(r0 + t) * cols + oc[j]];
        }
        const float *p = predict_batch(f, 1, err, errlen);
        if (!p) rc = -1;
        for (int h = 0; h < f->H && !rc; h++) {
            for (int j = 0; j < f->c_out; j++) forecast[(size_t)h * f->c_out + j] = (float)denorm(f, p, 0, h, j);
            aaren_ts_date_from_seconds(aaren_ts_date_seconds(&d[n - 1]) + step * (h + 1), &dates[h]);
        }
        if (!rc && !scaled && aaren_ts_scaled(ts)) {   /* back to the file's units */
            aaren_ts_unscale(ts, AAREN_TS_OUTPUT, forecast, f->H);
            aaren_ts_unscale(ts, AAREN_TS_OUTPUT, history, f->L);
        }
    }
    aaren_ts_free(ts);
    return rc;
}

/* The forecasts and targets of a batch of windows into [n_windows, H, c_out] arrays. */
typedef struct {
    float *pred, *truth;
} pred_arrays;

static void keep_preds(void *ctx, const aaren_forecaster *f, const float *p, int b, long w0) {
    pred_arrays *a = ctx;
    const size_t per = (size_t)f->H * f->c_out;
    for (int bb = 0; bb < b; bb++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++) {
                const size_t i = ((size_t)bb * f->H + h) * f->c_out + j, at = (size_t)(w0 + bb) * per + i % per;
                a->pred[at] = (float)denorm(f, p, bb, h, j);
                a->truth[at] = f->y[i];
            }
}

int aaren_forecaster_split_preds(aaren_forecaster *f, int split, float *pred, float *truth, char *err, size_t errlen) {
    pred_arrays a = {pred, truth};
    return each_window(f, split, 0, -1, keep_preds, &a, err, errlen);
}

int aaren_forecaster_seq_len(const aaren_forecaster *f) { return f->L; }
int aaren_forecaster_pred_len(const aaren_forecaster *f) { return f->H; }
int aaren_forecaster_d_out(const aaren_forecaster *f) { return f->c_out; }

int aaren_forecaster_out_name(const aaren_forecaster *f, int j, char *buf, size_t cap) {
    if (j < 0 || j >= f->c_out || !cap) return -1;
    /* the output columns: all (M), or the target, which the loader puts last (S, MS) */
    const int col = f->c_out == f->cols ? j : f->cols - 1;
    const char *p = f->names;
    for (int c = 0; c < col; c++) p = strchr(p, ',') + 1;
    const size_t len = strcspn(p, ",");
    snprintf(buf, cap, "%.*s", (int)len, p);
    unescape_name(buf);
    return 0;
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

/* ---- windows given as numbers, for the server (tasks/serving.h) ------------------------- */

int aaren_forecaster_cols(const aaren_forecaster *f) { return f->cols; }
const char *aaren_forecaster_columns(const aaren_forecaster *f) { return f->names; }
int aaren_forecaster_n_time(const aaren_forecaster *f) { return f->d_in - f->c_data; }

int aaren_forecaster_reserve_windows(aaren_forecaster *f, int B, char *err, size_t errlen) {
    if (!f->scaler) return aaren_errf(err, errlen, "forecast: windows need a model loaded from its checkpoint");
    if (B < 1) return aaren_errf(err, errlen, "forecast: %d windows", B);
    if (B <= f->o.batch) return 0;
    void *old = f->block;
    if (alloc_buffers(f, (size_t)B)) {
        f->block = old;
        return aaren_errf(err, errlen, "forecast: out of memory for %d windows", B);
    }
    free(old);
    f->o.batch = B;
    return f->pm ? aaren_patchmodel_reserve(f->pm, B * f->c_data, 0, err, errlen)
                 : aaren_seqmodel_reserve(f->sm, B, f->L, 0, err, errlen);
}

int aaren_forecaster_forecast_windows(aaren_forecaster *f, const double *raw, const long long *secs, int B,
                                      float *forecast, char *err, size_t errlen) {
    if (!f->scaler) return aaren_errf(err, errlen, "forecast: windows need a model loaded from its checkpoint");
    if (B < 1 || B > f->o.batch) return aaren_errf(err, errlen, "forecast: %d windows; %d reserved", B, f->o.batch);
    const int cols = f->cols, nt = f->d_in - f->c_data, scaled = !f->o.ts.no_scale;
    const double *mean = f->scaler, *sd = f->scaler + cols;
    /* the columns a row feeds (the loader's in_cols and out_cols: the target is the last column) */
    const int in0 = f->c_data == cols ? 0 : cols - 1, out0 = f->c_out == cols ? 0 : cols - 1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < f->L; t++) {
            const double *r = raw + ((size_t)b * f->L + t) * cols;
            float *x = f->x + ((size_t)b * f->L + t) * f->d_in;
            for (int j = 0; j < f->c_data; j++) {
                const int c = in0 + j;
                x[j] = scaled ? (float)((r[c] - mean[c]) / sd[c]) : (float)r[c];
            }
            if (nt) {
                aaren_ts_date d;
                aaren_ts_date_from_seconds(secs[(size_t)b * f->L + t], &d);
                aaren_ts_time_features(&d, f->o.ts.freq, x + f->c_data);
            }
        }
    const float *p = predict_batch(f, B, err, errlen);
    if (!p) return -1;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < f->H; h++)
            for (int j = 0; j < f->c_out; j++) {
                const int c = out0 + j;
                const float v = (float)denorm(f, p, b, h, j);   /* scaled units, as forecast_file holds them */
                forecast[((size_t)b * f->H + h) * f->c_out + j] = scaled ? (float)((double)v * sd[c] + mean[c]) : v;
            }
    return 0;
}
