/* The tool's training runs of the three task models behind one public options struct
 * (aaren_tasks.h: aaren_task_options, aaren_*_train), and forecasting a CSV with a loaded
 * forecaster. Each function does what the command (`aaren classify`, `aaren forecast`,
 * `aaren events --data`) does with the same options, without its printing. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aaren_tasks.h"
#include "data/events.h"
#include "base/common.h"
#include "tasks/classify.h"
#include "tasks/forecast.h"
#include "tasks/tpp.h"

void aaren_task_options_init(aaren_task_options *o, int task) {
    memset(o, 0, sizeof *o);
    if (task == AAREN_TASK_FORECAST) {
        aaren_forecast_options f;
        aaren_forecast_options_init(&f);
        o->enc = f.enc;
        o->epochs = f.epochs; o->patience = f.patience; o->batch = f.batch;
        o->lr = f.lr; o->dropout = f.dropout; o->seed = f.seed;
        o->seq_len = f.ts.seq_len; o->pred_len = f.ts.pred_len;
        o->steps_per_epoch = f.steps_per_epoch;
        o->recipe = aaren_recipe_name(f.recipe);
        o->patch_len = f.patch_len; o->patch_stride = f.patch_stride;
    } else if (task == AAREN_TASK_EVENTS) {
        aaren_tpp_options t;
        aaren_tpp_options_init(&t);
        o->enc = t.enc;
        o->epochs = t.epochs; o->patience = t.patience; o->batch = t.batch;
        o->lr = t.lr; o->dropout = t.dropout; o->clip = t.clip; o->seed = t.seed;
        o->K = t.K;
        o->tie_marks = t.tie_marks;
        o->copy_mark = t.copy_mark;
    } else {
        aaren_classify_options c;
        aaren_classify_options_init(&c);
        o->enc = c.enc;
        o->epochs = c.epochs; o->patience = c.patience; o->batch = c.batch;
        o->lr = c.lr; o->dropout = c.dropout; o->clip = c.clip; o->seed = c.seed;
        o->val_frac = c.val_frac;
    }
}

size_t aaren_task_options_size(void) { return sizeof(aaren_task_options); }

/* The checks the tool's option parser makes, for callers that fill the struct themselves. */
static int check_common(const aaren_task_options *o, const char *what, char *err, size_t errlen) {
    if (!o) return aaren_errf(err, errlen, "%s: no options", what);
    if (o->epochs < 1 || o->patience < 0 || o->batch < 1 || o->batch > 4096)
        return aaren_errf(err, errlen, "%s: epochs %d, patience %d, batch %d: expected epochs >= 1, patience >= 0, "
                          "batch 1..4096", what, o->epochs, o->patience, o->batch);
    if (!(o->lr > 0 && o->lr <= 10) || !(o->dropout >= 0 && o->dropout < 1) || !(o->clip >= 0))
        return aaren_errf(err, errlen, "%s: lr %g, dropout %g, clip %g: expected 0 < lr <= 10, 0 <= dropout < 1, "
                          "clip >= 0", what, o->lr, o->dropout, o->clip);
    return aaren_config_check(&o->enc, err, errlen);
}

static aaren_fit_io fit_io(const aaren_task_options *o) {
    aaren_fit_io io;
    memset(&io, 0, sizeof io);
    io.log = o->log;
    io.save = o->save;
    io.progress = o->verbose ? stderr : NULL;
    return io;
}

static void set_result(aaren_task_result *r, double val, double test, int epochs_run, int best_epoch, double s) {
    if (!r) return;
    r->val = val;
    r->test = test;
    r->epochs_run = epochs_run;
    r->best_epoch = best_epoch;
    r->seconds = s;
}

/* The checkpoint a trained model is reloaded from: o->save when given (the run wrote it),
 * else a new temporary file under $TMPDIR (tmp receives its name, to remove). */
static const char *reload_path(const aaren_task_options *o, char *tmp, size_t cap, char *err, size_t errlen) {
    tmp[0] = 0;
    if (o->save) return o->save;
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, cap, "%s/aaren-model-XXXXXX", dir && *dir ? dir : "/tmp");
    const int fd = mkstemp(tmp);
    if (fd < 0) {
        aaren_file_err(err, errlen, tmp, "cannot create a temporary checkpoint");
        tmp[0] = 0;
        return NULL;
    }
    close(fd);
    return tmp;
}

aaren_classifier *aaren_classifier_train(const char *train_ts, const char *test_ts, const aaren_task_options *o,
                                         aaren_task_result *r, char *err, size_t errlen) {
    if (check_common(o, "classify", err, errlen)) return NULL;
    if (!train_ts) return aaren_errf(err, errlen, "classify: no training file"), NULL;
    if (!(o->val_frac >= 0 && o->val_frac <= 0.9f))
        return aaren_errf(err, errlen, "classify: val_frac %g: expected 0 to 0.9", o->val_frac), NULL;
    aaren_classify_options c;
    aaren_classify_options_init(&c);
    c.train = train_ts;
    c.test = test_ts ? test_ts : train_ts;
    c.enc = o->enc;
    c.batch = o->batch; c.epochs = o->epochs; c.patience = o->patience;
    c.lr = o->lr; c.dropout = o->dropout; c.clip = o->clip; c.val_frac = o->val_frac; c.seed = o->seed;
    c.select_on_test = o->select_on_test != 0;
    aaren_classifier *m = aaren_classifier_new(&c, err, errlen);
    if (!m) return NULL;
    aaren_classify_result cr;
    const aaren_fit_io io = fit_io(o);
    int rc = aaren_classifier_run(m, &cr, NULL, &io, err, errlen);
    /* The trained classifier refers to the caller's file names; the one returned is its
     * checkpoint loaded back: self-contained. */
    char tmp[4096] = "";
    const char *ckpt = rc ? NULL : reload_path(o, tmp, sizeof tmp, err, errlen);
    if (ckpt && tmp[0]) rc = aaren_classifier_save(m, ckpt, err, errlen);
    aaren_classifier_free(m);
    m = ckpt && !rc ? aaren_classifier_load(ckpt, err, errlen) : NULL;
    if (tmp[0]) remove(tmp);
    if (m) set_result(r, cr.val_acc, cr.test_acc, cr.epochs_run, cr.best_epoch, cr.seconds);
    return m;
}

aaren_forecaster *aaren_forecaster_train(const char *csv, const aaren_task_options *o, aaren_task_result *r, char *err,
                                         size_t errlen) {
    if (check_common(o, "forecast", err, errlen)) return NULL;
    if (!csv) return aaren_errf(err, errlen, "forecast: no data file"), NULL;
    aaren_forecast_options f;
    aaren_forecast_options_init(&f);
    f.data = csv;
    const char *feat = o->features ? o->features : "M";
    if (!strcmp(feat, "M")) f.ts.features = AAREN_TS_M;
    else if (!strcmp(feat, "S")) f.ts.features = AAREN_TS_S;
    else if (!strcmp(feat, "MS")) f.ts.features = AAREN_TS_MS;
    else return aaren_errf(err, errlen, "forecast: features '%.40s': expected M, S or MS", feat), NULL;
    if (o->seq_len < 1 || o->pred_len < 1 || o->steps_per_epoch < 0)
        return aaren_errf(err, errlen, "forecast: seq_len %d, pred_len %d, steps_per_epoch %ld: expected lengths >= 1",
                          o->seq_len, o->pred_len, o->steps_per_epoch), NULL;
    f.ts.seq_len = o->seq_len;
    f.ts.pred_len = o->pred_len;
    f.ts.target = o->target;
    f.enc = o->enc;
    f.batch = o->batch; f.epochs = o->epochs; f.patience = o->patience;
    f.steps_per_epoch = o->steps_per_epoch;
    f.lr = o->lr; f.dropout = o->dropout; f.seed = o->seed;
    if (o->recipe && (f.recipe = aaren_recipe_from_name(o->recipe)) < 0)
        return aaren_errf(err, errlen, "forecast: recipe '%.40s': expected paper or patch", o->recipe), NULL;
    if (f.recipe == AAREN_RECIPE_PATCH) {
        if (o->patch_len < 1 || o->patch_stride < 1)
            return aaren_errf(err, errlen, "forecast: patch_len %d, patch_stride %d: expected >= 1", o->patch_len,
                              o->patch_stride), NULL;
        f.patch_len = o->patch_len;
        f.patch_stride = o->patch_stride;
    }
    if (o->calendar == 1) f.ts.freq = AAREN_TS_FREQ_AUTO;
    else if (o->calendar == 'h') f.ts.freq = AAREN_TS_FREQ_H;
    else if (o->calendar == 't') f.ts.freq = AAREN_TS_FREQ_T;
    else if (o->calendar != 0)
        return aaren_errf(err, errlen, "forecast: calendar %d: expected 0, 1, 'h' or 't'", o->calendar), NULL;
    aaren_forecaster *m = aaren_forecaster_new(&f, err, errlen);
    if (!m) return NULL;
    aaren_forecast_result fr;
    const aaren_fit_io io = fit_io(o);
    int rc = aaren_forecaster_run(m, &fr, &io, err, errlen);
    /* The trained forecaster refers to the caller's strings and its data file; the one
     * returned is its checkpoint loaded back: self-contained, with the scaler that
     * forecasting new rows needs. */
    char tmp[4096] = "";
    const char *ckpt = rc ? NULL : reload_path(o, tmp, sizeof tmp, err, errlen);
    if (ckpt && tmp[0]) rc = aaren_forecaster_save(m, ckpt, err, errlen);
    aaren_forecaster_free(m);
    m = ckpt && !rc ? aaren_forecaster_load(ckpt, err, errlen) : NULL;
    if (tmp[0]) remove(tmp);
    if (m) set_result(r, fr.val_mse, fr.test_mse, fr.epochs_run, fr.best_epoch, fr.seconds);
    return m;
}

aaren_tpp *aaren_tpp_train(const char *csv, const aaren_task_options *o, aaren_task_result *r, char *err,
                           size_t errlen) {
    if (check_common(o, "events", err, errlen)) return NULL;
    if (!csv) return aaren_errf(err, errlen, "events: no data file"), NULL;
    if (o->K < 1 || o->K > 64) return aaren_errf(err, errlen, "events: K %d: expected 1 to 64", o->K), NULL;
    aaren_events_options eo;
    aaren_events_options_init(&eo);
    aaren_events *d = aaren_events_load_csv(csv, &eo, err, errlen);
    if (!d) return NULL;
    aaren_tpp_options t;
    aaren_tpp_options_init(&t);
    t.enc = o->enc;
    t.K = o->K;
    t.tie_marks = o->tie_marks != 0;
    t.copy_mark = o->copy_mark;   /* copy lags: 1 the current mark, L the last L (tpp.h) */
    t.batch = o->batch; t.epochs = o->epochs; t.patience = o->patience;
    t.lr = o->lr; t.dropout = o->dropout; t.clip = o->clip; t.seed = o->seed;
    aaren_tpp *m = aaren_tpp_new(d, &t, err, errlen);
    aaren_tpp_result tr;
    const aaren_fit_io io = fit_io(o);
    if (m && aaren_tpp_run(m, d, &tr, &io, err, errlen)) {
        aaren_tpp_free(m);
        m = NULL;
    }
    aaren_events_free(d);
    if (m) set_result(r, tr.val.nll, tr.test.nll, tr.epochs_run, tr.best_epoch, tr.seconds);
    return m;
}

int aaren_forecaster_forecast_csv(aaren_forecaster *f, const char *csv, float *history, float *forecast, char *err,
                                  size_t errlen) {
    const int L = aaren_forecaster_seq_len(f), H = aaren_forecaster_pred_len(f), C = aaren_forecaster_d_out(f);
    float *hist = history ? history : malloc(sizeof(float) * (size_t)L * C);
    aaren_ts_date *dates = malloc(sizeof *dates * (size_t)H);
    int rc = hist && dates ? aaren_forecaster_forecast_file(f, csv, 0, hist, forecast, dates, err, errlen)
                           : aaren_file_err(err, errlen, csv, "out of memory");
    if (!history) free(hist);
    free(dates);
    return rc;
}
