/* The public entry points the Python package's estimators and torch modules call, tested in C
 * (where the sanitizer build also checks for leaks):
 *  - aaren_attention.h: the float64 layer's backward against central finite differences of
 *    its forward (dx and every parameter), the float32 layer against the float64 one, and its
 *    errors;
 *  - aaren_f64.h: the float64 encoder's forward equals the float32 encoder's within rounding,
 *    and its backward against finite differences for a few parameters and inputs;
 *  - aaren_tasks.h: aaren_classifier_train, aaren_forecaster_train and aaren_tpp_train on
 *    small generated files give models that predict, forecast and stream; bad files and
 *    options are errors naming them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aaren.h"
#include "aaren_attention.h"
#include "aaren_f64.h"
#include "aaren_tasks.h"
#include "check.h"

static uint64_t rng_state = 12345;
static double urand(void) {   /* uniform in [-1, 1) */
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0 * 2 - 1;
}

/* L = sum(y * g) of the float64 layer at its current parameters. */
static double attn_loss(aaren_attention_layer_f64 *a, double *y, const double *x, const double *g, int B, int N, int D) {
    char err[256];
    if (aaren_attention_layer_forward_f64(a, y, x, B, N, err, sizeof err)) return NAN;
    double s = 0;
    for (int i = 0; i < B * N * D; i++) s += y[i] * g[i];
    return s;
}

static void test_attention(void) {
    const int B = 2, N = 5, D = 8, H = 2, n = B * N * D;
    char err[256];
    aaren_attention_layer_f64 *a = aaren_attention_layer_new_f64(D, H, err, sizeof err);
    aaren_attention_layer *a32 = aaren_attention_layer_new(D, H, err, sizeof err);
    CHECK(a && a32, "new: %s", err);
    if (!a || !a32) return;
    const size_t np = aaren_attention_layer_n_params_f64(a);
    CHECK(np == 4u * D * D + 5u * D && aaren_attention_layer_n_params(a32) == np, "n_params %zu", np);
    double *p = aaren_attention_layer_params_f64(a);
    float *p32 = aaren_attention_layer_params(a32);
    for (size_t i = 0; i < np; i++) p32[i] = (float)(p[i] = 0.5 * urand());
    double *x = malloc(sizeof(double) * n * 4), *y = x + n, *g = y + n, *dx = g + n;
    float *xf = malloc(sizeof(float) * n * 2), *yf = xf + n;
    for (int i = 0; i < n; i++) { x[i] = urand(); g[i] = urand(); xf[i] = (float)x[i]; }
    CHECK(aaren_attention_layer_forward_f64(a, y, x, B, N, err, sizeof err) != 0 && strstr(err, "reserve"),
          "forward before reserve: %s", err);
    CHECK(aaren_attention_layer_backward_f64(a, dx, g, err, sizeof err) != 0 && strstr(err, "forward"),
          "backward before forward: %s", err);
    CHECK(!aaren_attention_layer_reserve_f64(a, B, N, err, sizeof err) &&
          !aaren_attention_layer_reserve(a32, B, N, err, sizeof err), "reserve: %s", err);
    /* float32 against float64 */
    attn_loss(a, y, x, g, B, N, D);
    CHECK(!aaren_attention_layer_forward(a32, yf, xf, B, N, err, sizeof err), "forward32: %s", err);
    double worst = 0;
    for (int i = 0; i < n; i++) worst = fmax(worst, fabs(yf[i] - y[i]));
    CHECK(worst < 1e-5, "float32 vs float64: %g", worst);
    /* backward against central differences */
    aaren_attention_layer_zero_grad_f64(a);
    attn_loss(a, y, x, g, B, N, D);
    CHECK(!aaren_attention_layer_backward_f64(a, dx, g, err, sizeof err), "backward: %s", err);
    const double *gp = aaren_attention_layer_grads_f64(a), h = 1e-6;
    double worst_x = 0, worst_p = 0;
    for (int i = 0; i < n; i += 3) {
        const double keep = x[i];
        x[i] = keep + h; const double lp = attn_loss(a, y, x, g, B, N, D);
        x[i] = keep - h; const double lm = attn_loss(a, y, x, g, B, N, D);
        x[i] = keep;
        worst_x = fmax(worst_x, fabs((lp - lm) / (2 * h) - dx[i]));
    }
    for (size_t i = 0; i < np; i += 7) {
        const double keep = p[i];
        p[i] = keep + h; const double lp = attn_loss(a, y, x, g, B, N, D);
        p[i] = keep - h; const double lm = attn_loss(a, y, x, g, B, N, D);
        p[i] = keep;
        worst_p = fmax(worst_p, fabs((lp - lm) / (2 * h) - gp[i]));
    }
    CHECK(worst_x < 1e-7 && worst_p < 1e-7, "finite differences: dx %g, dparams %g", worst_x, worst_p);
    CHECK(aaren_attention_layer_new(10, 4, err, sizeof err) == NULL && strstr(err, "n_heads"), "10 / 4: %s", err);
    CHECK(aaren_attention_layer_forward(a32, (float *)xf, xf, B, N, err, sizeof err) != 0 && strstr(err, "alias"),
          "alias: %s", err);
    free(x);
    free(xf);
    aaren_attention_layer_free_f64(a);
    aaren_attention_layer_free(a32);
}

static void test_encoder_f64(void) {
    aaren_config c = aaren_config_default();
    c.d_model = 8; c.n_heads = 2; c.n_layers = 2; c.d_ff = 12;
    const int B = 2, N = 4, n = B * N * c.d_model;
    char err[256];
    aaren_model *m = aaren_model_new(&c, err, sizeof err);
    aaren_model_f64 *m64 = aaren_model_new_f64(&c, err, sizeof err);
    CHECK(m && m64, "new: %s", err);
    if (!m || !m64) { aaren_model_free(m); aaren_model_free_f64(m64); return; }
    aaren_model_init(m, 3);
    const size_t np = aaren_model_n_params(m);
    CHECK(aaren_model_n_params_f64(m64) == np, "n_params");
    const float *pf = aaren_model_params(m);
    double *pd = aaren_model_params_f64(m64);
    for (size_t i = 0; i < np; i++) pd[i] = pf[i];
    CHECK(aaren_model_grads_f64(m64) == NULL, "grads before reserve");
    CHECK(!aaren_model_reserve(m, B, N, 0, err, sizeof err) && !aaren_model_reserve_f64(m64, B, N, 1, err, sizeof err),
          "reserve: %s", err);
    float *xf = malloc(sizeof(float) * n * 2), *yf = xf + n;
    double *x = malloc(sizeof(double) * n * 4), *y = x + n, *g = y + n, *dx = g + n;
    for (int i = 0; i < n; i++) { x[i] = urand(); xf[i] = (float)x[i]; g[i] = urand(); }
    CHECK(!aaren_model_forward(m, yf, xf, B, N, AAREN_SCAN, err, sizeof err) &&
          !aaren_model_forward_f64(m64, y, x, B, N, AAREN_SCAN, err, sizeof err), "forward: %s", err);
    double worst = 0;
    for (int i = 0; i < n; i++) worst = fmax(worst, fabs(yf[i] - y[i]));
    CHECK(worst < 1e-4, "float32 vs float64 encoder: %g", worst);
    aaren_model_zero_grad_f64(m64);
    CHECK(!aaren_model_backward_f64(m64, dx, g, err, sizeof err), "backward: %s", err);
    const double *gp = aaren_model_grads_f64(m64), h = 1e-6;
    double worst_fd = 0;
    for (size_t i = 0; i < np; i += np / 9 + 1) {
        double l[2];
        for (int s = 0; s < 2; s++) {
            const double keep = pd[i];
            pd[i] = keep + (s ? -h : h);
            aaren_model_forward_f64(m64, y, x, B, N, AAREN_SCAN, err, sizeof err);
            l[s] = 0;
            for (int k = 0; k < n; k++) l[s] += y[k] * g[k];
            pd[i] = keep;
        }
        worst_fd = fmax(worst_fd, fabs((l[0] - l[1]) / (2 * h) - gp[i]));
    }
    CHECK(worst_fd < 1e-6, "encoder float64 finite differences: %g", worst_fd);
    free(xf);
    free(x);
    aaren_model_free(m);
    aaren_model_free_f64(m64);
}

static void test_task_training(void) {
    char err[512];
    /* a classifier: rising or falling two-channel series */
    char *ts = malloc(1 << 16);
    int len = snprintf(ts, 1 << 16, "@problemName t\n@timeStamps false\n@missing false\n@univariate false\n"
                       "@dimensions 2\n@equalLength false\n@classLabel true up down\n@data\n");
    for (int i = 0; i < 30; i++) {
        const int L = 5 + i % 4, up = i % 2 == 0;
        for (int d = 0; d < 2; d++) {
            for (int t = 0; t < L; t++)
                len += snprintf(ts + len, (1 << 16) - len, "%s%.4f", t ? "," : "", (up ? 1 : -1) * t / (double)L + 0.1 * urand());
            len += snprintf(ts + len, (1 << 16) - len, ":");
        }
        len += snprintf(ts + len, (1 << 16) - len, "%s\n", up ? "up" : "down");
    }
    const char *ts_path = check_write_text("t_TRAIN.ts", ts);
    char ts_copy[1024];
    snprintf(ts_copy, sizeof ts_copy, "%s", ts_path ? ts_path : "");
    aaren_task_options o;
    aaren_task_options_init(&o, AAREN_TASK_CLASSIFY);
    CHECK(o.epochs == 100 && o.patience == 15 && o.batch == 16 && fabsf(o.val_frac - 0.2f) < 1e-6f, "classify defaults");
    o.enc.d_model = 8; o.enc.n_heads = 2; o.enc.n_layers = 1; o.enc.d_ff = 8; o.epochs = 3;
    aaren_task_result r;
    aaren_classifier *c = aaren_classifier_train(ts_copy, NULL, &o, &r, err, sizeof err);
    CHECK(c != NULL, "classifier_train: %s", err);
    if (c) {
        CHECK(r.epochs_run == 3 && r.test >= 0 && r.test <= 1, "result: %d epochs, test %g", r.epochs_run, r.test);
        CHECK(aaren_classifier_n_classes(c) == 2 && aaren_classifier_n_dims(c) == 2, "classes, dims");
        float xv[2 * 6], proba[2];
        for (int i = 0; i < 12; i++) xv[i] = (float)(i % 6) / 6;
        const float *xs[1] = {xv};
        const int lens[1] = {6};
        CHECK(!aaren_classifier_predict_proba(c, xs, lens, 1, proba, err, sizeof err) &&
              fabsf(proba[0] + proba[1] - 1) < 1e-5f, "predict_proba: %s", err);
        aaren_classifier_free(c);
    }
    o.epochs = 0;
    CHECK(aaren_classifier_train(ts_copy, NULL, &o, &r, err, sizeof err) == NULL && strstr(err, "epochs"),
          "epochs 0: %s", err);
    o.epochs = 1;
    CHECK(aaren_classifier_train("/nonexistent/x.ts", NULL, &o, &r, err, sizeof err) == NULL &&
          strstr(err, "/nonexistent/x.ts"), "missing file: %s", err);
    remove(ts_copy);

    /* a forecaster on a small CSV */
    char *csv = ts;
    len = snprintf(csv, 1 << 16, "date,a,b\n");
    for (int t = 0; t < 300; t++)
        len += snprintf(csv + len, (1 << 16) - len, "2001-01-%02d %02d:00:00,%.5f,%.5f\n", 1 + t / 24, t % 24,
                        sin(t / 5.0), cos(t / 7.0));
    const char *csv_path = check_write_text("s.csv", csv);
    char csv_copy[1024];
    snprintf(csv_copy, sizeof csv_copy, "%s", csv_path ? csv_path : "");
    aaren_task_options_init(&o, AAREN_TASK_FORECAST);
    CHECK(o.seq_len == 96 && o.pred_len == 96 && o.steps_per_epoch == 300, "forecast defaults");
    o.enc.d_model = 8; o.enc.n_heads = 2; o.enc.n_layers = 1; o.enc.d_ff = 8;
    o.seq_len = 12; o.pred_len = 4; o.epochs = 1; o.steps_per_epoch = 5;
    aaren_forecaster *f = aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err);
    CHECK(f != NULL, "forecaster_train: %s", err);
    if (f) {
        CHECK(aaren_forecaster_seq_len(f) == 12 && aaren_forecaster_pred_len(f) == 4 && aaren_forecaster_d_out(f) == 2,
              "sizes");
        float fc[4 * 2];
        CHECK(!aaren_forecaster_forecast_csv(f, csv_copy, NULL, fc, err, sizeof err) && isfinite(fc[0]) && isfinite(fc[7]),
              "forecast_csv: %s", err);
        aaren_forecaster_free(f);
    }
    /* the patch recipe and calendar features through the same options */
    CHECK(o.recipe && !strcmp(o.recipe, "paper") && o.patch_len == 16 && o.patch_stride == 8 && o.calendar == 0,
          "forecast defaults: recipe, patches, calendar");
    o.recipe = "patch"; o.patch_len = 4; o.patch_stride = 2;
    f = aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err);
    CHECK(f != NULL, "forecaster_train, patch recipe: %s", err);
    if (f) {
        float fc[4 * 2];
        CHECK(!aaren_forecaster_forecast_csv(f, csv_copy, NULL, fc, err, sizeof err) && isfinite(fc[0]) && isfinite(fc[7]),
              "forecast_csv, patch recipe: %s", err);
        aaren_forecaster_free(f);
    }
    o.calendar = 1;
    CHECK(aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "calendar"),
          "patch recipe with calendar features: %s", err);
    o.recipe = "paper";
    o.calendar = 't';
    f = aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err);
    CHECK(f != NULL, "forecaster_train, calendar 't': %s", err);
    aaren_forecaster_free(f);
    o.calendar = 'x';
    CHECK(aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "calendar 120"),
          "calendar 'x': %s", err);
    o.calendar = 0;
    o.recipe = "tokens";
    CHECK(aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "recipe 'tokens'"),
          "recipe tokens: %s", err);
    o.recipe = "patch"; o.patch_len = 0;
    CHECK(aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "patch_len 0"),
          "patch_len 0: %s", err);
    o.recipe = NULL;
    o.features = "X";
    CHECK(aaren_forecaster_train(csv_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "features"),
          "features X: %s", err);
    remove(csv_copy);

    /* an event model */
    len = snprintf(csv, 1 << 16, "seq_id,time\n");
    for (int s = 0; s < 10; s++)
        for (int e = 0; e < 8; e++) len += snprintf(csv + len, (1 << 16) - len, "%d,%.3f\n", s, e * 1.5 + 0.1 * (s % 3));
    const char *ev_path = check_write_text("e.csv", csv);
    char ev_copy[1024];
    snprintf(ev_copy, sizeof ev_copy, "%s", ev_path ? ev_path : "");
    aaren_task_options_init(&o, AAREN_TASK_EVENTS);
    CHECK(o.K == 8 && o.epochs == 30 && o.tie_marks == 0 && o.copy_mark == 0, "events defaults");
    o.enc.d_model = 8; o.enc.n_heads = 2; o.enc.n_layers = 1; o.enc.d_ff = 8; o.epochs = 2; o.K = 2;
    aaren_tpp *m = aaren_tpp_train(ev_copy, &o, &r, err, sizeof err);
    CHECK(m != NULL, "tpp_train: %s", err);
    if (m) {
        aaren_tpp_stream *s = aaren_tpp_stream_new(m, 16, err, sizeof err);
        aaren_tpp_prediction p;
        CHECK(s && !aaren_tpp_stream_event(s, 0.0, 0, &p, err, sizeof err) && !aaren_tpp_stream_event(s, 1.5, 0, &p, err, sizeof err)
              && p.q10 <= p.median && p.median <= p.q90, "stream: %s", err);
        aaren_tpp_stream_free(s);
        aaren_tpp_free(m);
    }
    o.K = 0;
    CHECK(aaren_tpp_train(ev_copy, &o, &r, err, sizeof err) == NULL && strstr(err, "K"), "K 0: %s", err);
    remove(ev_copy);
    free(ts);
}

int main(void) {
    test_attention();
    test_encoder_f64();
    test_task_training();
    check_tmp_cleanup();
    return check_done("test_public_python_api");
}
