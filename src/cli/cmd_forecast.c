/* aaren forecast: train, evaluate and predict on a TSLib-style CSV file. */
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *forecast_help =
    "usage: aaren forecast --data FILE.csv [options]\n"
    "       aaren forecast --model F.safetensors --input RECENT.csv --output FORECAST.csv [--scaled] [--plot P]\n\n"
    "Trains a forecaster (per-window normalisation, linear embedding, the encoder, a head on\n"
    "the last step) with early stopping on the validation split, then prints test MSE and MAE\n"
    "on the dataset-scaled values (TSLib's convention) beside repeating the last value.\n"
    "With --model, a saved forecaster (--save) forecasts new data instead: the horizon after the\n"
    "last lookback rows of RECENT.csv (the training file's columns), dated on from its last two\n"
    "dates, in the file's units (--scaled: in the model's scaled units), with --plot the history\n"
    "and the forecast drawn.\n"
    "Splits: ETTh* 12/4/4 months, ETTm* the same in 15-minute rows, others 70/10/20; the\n"
    "scaler is fitted on the training rows only.\n\n"
    "data:\n"
    "  --seq-len N [{seq-len}]  --pred-len N [{pred-len}]  --features M|S|MS [{features}]  --target COL [{target}]\n"
    "  --calendar        add calendar features (hour, weekday, day, day of year[, minute])\n"
    "model (same for both architectures; defaults in brackets):\n"
    "  --recipe paper|patch [{recipe}]  paper: a token per step, a head on the last step; patch: each\n"
    "                          channel alone, patches of the lookback as tokens, a flattening head\n"
    "                          (PatchTST's design; no --calendar)\n"
    "  --patch-len N [{patch-len}]  --stride N [{stride}]   the patch recipe's patches\n"
    "  --arch aaren|transformer [{arch}]  --d-model [{d-model}]  --n-heads [{n-heads}]  --n-layers [{n-layers}]\n"
    "  --d-ff [{d-ff}]  --norm post|pre [{norm}]  --activation gelu|relu [{activation}]\n"
    "training:\n"
    "  --epochs N [{epochs}]  --patience N [{patience}]  --steps-per-epoch N [{steps-per-epoch}; 0 = every window]\n"
    "  --batch B [{batch}]  --lr X [{lr}, halved every epoch]  --dropout P [{dropout}]  --seed S [{seed}]\n"
    "output:\n"
    "  --plot PREFIX           PREFIX.csv (history, truth, forecast of one test window, in the\n"
    "                          file's units) and PREFIX.png (needs /usr/bin/python3 + matplotlib)\n"
    "  --window I [{window}]          which test window to plot\n"
    "  --allow-nonfinite       plot a forecast holding nan or inf (by default that is an error\n"
    "                          naming the first such value, and PREFIX.csv is not written)\n"
    "  --results-csv F         append one row with this run's settings and metrics\n"
    "  --save-preds DIR        DIR/pred.npy and true.npy [windows, horizon, outputs] of the test\n"
    "                          split in scaled units, and metrics.csv (Time-Series-Library's layout)\n"
    "  --quiet                 no per-epoch lines\n"
    CLI_FIT_HELP;

static const char *const forecast_valued[] = {"data", "seq-len", "pred-len", "features", "target", "arch",
                                              "d-model", "n-heads", "n-layers", "d-ff", "norm", "activation",
                                              "epochs", "patience", "steps-per-epoch", "batch", "lr", "dropout",
                                              "seed", "plot", "window", "results-csv", "model", "input", "output", "save-preds",
                                              "recipe", "patch-len", "stride",
                                              CLI_FIT_VALUED, NULL};
static const char *const forecast_flags[] = {"calendar", "quiet", "allow-nonfinite", "scaled", "deterministic-reduce",
                                             NULL};

static const long default_window = 0;
static const char *const feature_names[] = {"M", "S", "MS"};   /* AAREN_TS_M, _S, _MS */   /* --window: the first test window */

/* --help, its defaults from aaren_forecast_options_init. */
static void print_help(void) {
    aaren_forecast_options o;
    aaren_forecast_options_init(&o);
    cli_defaults d = {0};
    cli_default(&d, "seq-len", "%d", o.ts.seq_len);
    cli_default(&d, "pred-len", "%d", o.ts.pred_len);
    cli_default(&d, "features", "%s", feature_names[o.ts.features]);
    cli_default(&d, "target", "%s", o.ts.target ? o.ts.target : "OT");
    cli_default_config(&d, &o.enc);
    cli_default_run(&d, o.epochs, o.patience, o.batch, o.lr, o.dropout, o.seed);
    cli_default(&d, "steps-per-epoch", "%ld", o.steps_per_epoch);
    cli_default(&d, "window", "%ld", default_window);
    cli_default(&d, "recipe", "%s", aaren_recipe_name(o.recipe));
    cli_default(&d, "patch-len", "%d", o.patch_len);
    cli_default(&d, "stride", "%d", o.patch_stride);
    cli_print_help(forecast_help, &d);
}

/* Appends one run to a CSV file, writing the header first when the file is new. */
static int append_result(const char *path, const aaren_forecast_options *o, const aaren_forecast_result *r,
                         const char *features, char *err, size_t errlen) {
    const char *base = strrchr(o->data, '/');
    return cli_append_row(path, err, errlen,
        "data,features,seq_len,pred_len,arch,d_model,n_heads,n_layers,d_ff,seed,epochs_run,best_epoch,"
        "val_mse,test_mse,test_mae,naive_mse,naive_mae,seconds,params,threads,"
        "recipe,patch_len,stride,lr,batch,steps_per_epoch,calendar,dropout,epochs,patience\n",
        "%s,%s,%d,%d,%s,%d,%d,%d,%d,%llu,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.1f,%zu,%d,%s,%d,%d,%g,%d,%ld,%d,%g,%d,%d\n",
        base ? base + 1 : o->data, features, o->ts.seq_len, o->ts.pred_len, aaren_arch_name(o->enc.arch), o->enc.d_model,
        o->enc.n_heads, o->enc.n_layers, o->enc.d_ff, (unsigned long long)o->seed, r->epochs_run, r->best_epoch,
        r->val_mse, r->test_mse, r->test_mae, r->naive_mse, r->naive_mae, r->seconds, r->n_params, aaren_threads(),
        aaren_recipe_name(o->recipe), o->recipe == AAREN_RECIPE_PATCH ? o->patch_len : 0,
        o->recipe == AAREN_RECIPE_PATCH ? o->patch_stride : 0, (double)o->lr, o->batch, o->steps_per_epoch,
        o->ts.freq != AAREN_TS_FREQ_NONE, (double)o->dropout, o->epochs, o->patience);
}

/* Writes one test window and draws it (see cli.h). */
int forecast_plot_window(aaren_forecaster *fc, long window, const char *prefix, int allow_nonfinite) {
    const aaren_ts *ts = aaren_forecaster_data(fc);
    const int L = aaren_ts_seq_len(ts), H = aaren_ts_pred_len(ts), C = aaren_ts_d_out(ts);
    float *hist = malloc(sizeof(float) * L * C), *truth = malloc(sizeof(float) * H * C), *pred = malloc(sizeof(float) * H * C);
    char err[1024] = "out of memory", path[1024];
    int rc = hist && truth && pred ? aaren_forecaster_predict(fc, AAREN_TS_TEST, window, hist, truth, pred, err, sizeof err) : -1;
    aaren_writer *w = NULL;
    snprintf(path, sizeof path, "%s.csv", prefix);
    const long bad = rc || allow_nonfinite ? -1 : cli_first_nonfinite(pred, (size_t)H * C);
    if (bad >= 0) {
        cli_fail_nonfinite("forecast", "%s not written: test window %ld: the forecast at step %ld of column %s is %s", path,
                           window, bad / C, aaren_ts_col_name(ts, aaren_ts_out_cols(ts)[bad % C]),
                           cli_nonfinite_name(pred[bad]));
        free(hist); free(truth); free(pred);
        return 1;
    }
    if (!rc && !(w = aaren_writer_open(path, err, sizeof err))) rc = -1;
    if (!rc) {
        FILE *f = aaren_writer_file(w);
        const int *oc = aaren_ts_out_cols(ts);
        fprintf(f, "t,kind");
        for (int j = 0; j < C; j++) fprintf(f, ",%s", aaren_ts_col_name(ts, oc[j]));
        fputc('\n', f);
        for (int t = 0; t < L; t++) {
            fprintf(f, "%d,history", t - L);
            for (int j = 0; j < C; j++) fprintf(f, ",%.6g", hist[t * C + j]);
            fputc('\n', f);
        }
        for (int k = 0; k < 2; k++)
            for (int t = 0; t < H; t++) {
                fprintf(f, "%d,%s", t, k ? "forecast" : "truth");
                for (int j = 0; j < C; j++) fprintf(f, ",%.6g", (k ? pred : truth)[t * C + j]);
                fputc('\n', f);
            }
        rc = aaren_writer_commit(w, err, sizeof err);
    }
    if (!rc) {
        printf("wrote %s\n", path);
        fflush(stdout);
        char png[1100];
        snprintf(png, sizeof png, "%s.png", prefix);
        const char *args[] = {path, png, NULL};
        cli_run_python("forecast", "plot_forecast.py", args);
    }
    free(hist); free(truth); free(pred);
    return rc ? cli_fail("forecast", "%s", err) : 0;
}

/* --save-preds DIR: the test split's pred.npy and true.npy [windows, pred_len, d_out] (scaled
 * units) and metrics.csv (mae, mse, rmse, mape, mspe over them), as Time-Series-Library lays
 * them out. */
static int save_preds(aaren_forecaster *fc, const char *dir, char *err, size_t errlen) {
    const aaren_ts *ts = aaren_forecaster_data(fc);
    const long nw = aaren_ts_n_windows(ts, AAREN_TS_TEST);
    const int H = aaren_ts_pred_len(ts), C = aaren_ts_d_out(ts);
    const size_t n = (size_t)nw * H * C;
    float *pred = malloc(sizeof(float) * n), *truth = malloc(sizeof(float) * n);
    char path[1100];
    int rc = pred && truth ? 0 : (snprintf(err, errlen, "%s: out of memory for %zu predictions", dir, n), -1);
    if (!rc && mkdir(dir, 0777) != 0 && errno != EEXIST) rc = (snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno)), -1);
    if (!rc) rc = aaren_forecaster_split_preds(fc, AAREN_TS_TEST, pred, truth, err, errlen);
    const int64_t shape[3] = {nw, H, C};
    if (!rc) snprintf(path, sizeof path, "%s/pred.npy", dir), rc = aaren_npy_write(path, pred, 3, shape, err, errlen);
    if (!rc) snprintf(path, sizeof path, "%s/true.npy", dir), rc = aaren_npy_write(path, truth, 3, shape, err, errlen);
    if (!rc) {
        double ae = 0, se = 0, ape = 0, spe = 0;
        for (size_t i = 0; i < n; i++) {
            const double d = (double)pred[i] - truth[i], r = truth[i] != 0 ? d / truth[i] : 0;
            ae += fabs(d); se += d * d; ape += fabs(r); spe += r * r;
        }
        snprintf(path, sizeof path, "%s/metrics.csv", dir);
        aaren_writer *w = aaren_writer_open(path, err, errlen);
        if (!w) rc = -1;
        else {
            fprintf(aaren_writer_file(w), "mae,mse,rmse,mape,mspe\n%.9g,%.9g,%.9g,%.9g,%.9g\n", ae / n, se / n, sqrt(se / n),
                    ape / n, spe / n);
            rc = aaren_writer_commit(w, err, errlen);
        }
    }
    if (!rc) printf("wrote %s/pred.npy, true.npy and metrics.csv (%ld test windows)\n", dir, nw);
    free(pred);
    free(truth);
    return rc;
}

/* A forecast as CSV: "date,<columns>" rows (plot_layout 0), or the plot helper's
 * "t,kind,<columns>" rows of the history and the forecast (1). */
static int write_forecast(const char *path, int plot_layout, int L, int H, int C, char (*names)[256], const float *hist,
                          const float *pred, const aaren_ts_date *dates, char *err, size_t errlen) {
    aaren_writer *w = aaren_writer_open(path, err, errlen);
    if (!w) return -1;
    FILE *o = aaren_writer_file(w);
    fputs(plot_layout ? "t,kind" : "date", o);
    for (int j = 0; j < C; j++) fprintf(o, ",%s", names[j]);
    fputc('\n', o);
    for (int t = 0; plot_layout && t < L; t++) {
        fprintf(o, "%d,history", t - L);
        for (int j = 0; j < C; j++) fprintf(o, ",%.9g", hist[(size_t)t * C + j]);
        fputc('\n', o);
    }
    for (int h = 0; h < H; h++) {
        const aaren_ts_date *d = &dates[h];
        if (plot_layout) fprintf(o, "%d,forecast", h);
        else fprintf(o, "%04d-%02d-%02d %02d:%02d:%02d", d->year, d->month, d->day, d->hour, d->minute, d->second);
        for (int j = 0; j < C; j++) fprintf(o, ",%.9g", pred[(size_t)h * C + j]);
        fputc('\n', o);
    }
    if (aaren_writer_commit(w, err, errlen)) return -1;
    printf("wrote %s\n", path);
    return 0;
}

/* aaren forecast --model F --input recent.csv --output forecast.csv: the horizon after the
 * input's last rows, dated, in the file's units. */
static int forecast_new_rows(const cli_args *a) {
    const char *model = cli_get(a, "model"), *in = cli_get(a, "input"), *out = cli_get(a, "output");
    const char *plot = cli_get(a, "plot");
    if (!in || !out) return cli_fail("forecast", "--model needs --input RECENT.csv and --output FORECAST.csv"), 2;
    static const char *const outputs[] = {"output", "plot+.csv", "plot+.png", NULL};
    if (cli_check_outputs(a, outputs)) return 1;
    char err[1024];
    aaren_forecaster *f = aaren_forecaster_load(model, err, sizeof err);
    if (!f) return cli_fail("forecast", "%s", err);
    const int L = aaren_forecaster_seq_len(f), H = aaren_forecaster_pred_len(f), C = aaren_forecaster_d_out(f);
    float *hist = malloc(sizeof(float) * (size_t)L * C), *pred = malloc(sizeof(float) * (size_t)H * C);
    aaren_ts_date *dates = malloc(sizeof *dates * (size_t)H);
    char (*names)[256] = malloc(sizeof *names * (size_t)C);
    int rc = hist && pred && dates && names ? 0 : (snprintf(err, sizeof err, "out of memory"), -1);
    for (int j = 0; j < C && !rc; j++) aaren_forecaster_out_name(f, j, names[j], sizeof names[j]);
    if (!rc) rc = aaren_forecaster_forecast_file(f, in, cli_flag(a, "scaled"), hist, pred, dates, err, sizeof err);
    const long bad = rc || cli_flag(a, "allow-nonfinite") ? -1 : cli_first_nonfinite(pred, (size_t)H * C);
    if (bad >= 0) {
        rc = cli_fail_nonfinite("forecast", "%s not written: the forecast at step %ld of column %s is %s", out, bad / C,
                                names[bad % C], cli_nonfinite_name(pred[bad]));
    } else if (!rc) {
        char csv[1100], png[1100];
        snprintf(csv, sizeof csv, "%s.csv", plot ? plot : "");
        snprintf(png, sizeof png, "%s.png", plot ? plot : "");
        rc = write_forecast(out, 0, L, H, C, names, hist, pred, dates, err, sizeof err) ||
             (plot && write_forecast(csv, 1, L, H, C, names, hist, pred, dates, err, sizeof err));
        if (!rc && plot) {
            const char *args[] = {csv, png, NULL};
            cli_run_python("forecast", "plot_forecast.py", args);
        }
        if (rc) cli_fail("forecast", "%s", err);
    } else {
        cli_fail("forecast", "%s", err);
    }
    free(hist); free(pred); free(dates); free(names);
    aaren_forecaster_free(f);
    return rc ? 1 : 0;
}

int cmd_forecast(int argc, char **argv) {
    cli_args a;
    int rc = cli_parse(&a, "forecast", argc, argv, forecast_valued, forecast_flags);
    if (rc) { if (rc > 0) print_help(); return rc > 0 ? 0 : 2; }
    if (cli_get(&a, "model")) return forecast_new_rows(&a);
    static const char *const outputs[] = {"save", "results-csv", "plot+.csv", "plot+.png", NULL};
    if (cli_check_outputs(&a, outputs)) return 1;
    aaren_forecast_options o;
    aaren_forecast_options_init(&o);
    o.data = cli_need(&a, "data");
    if (!o.data) return 2;
    long seq, pred, ep, pat, spe, batch, seed, window;
    aaren_fit_io io;
    if (cli_int(&a, "seq-len", o.ts.seq_len, 1, 100000, &seq) || cli_int(&a, "pred-len", o.ts.pred_len, 1, 100000, &pred) ||
        cli_int(&a, "epochs", o.epochs, 1, 100000, &ep) || cli_int(&a, "patience", o.patience, 1, 100000, &pat) ||
        cli_int(&a, "steps-per-epoch", o.steps_per_epoch, 0, 100000000, &spe) ||
        cli_int(&a, "batch", o.batch, 1, 4096, &batch) || cli_int(&a, "seed", (long)o.seed, 0, 0x7fffffffL, &seed) ||
        cli_int(&a, "window", default_window, 0, 100000000, &window) || cli_fit_io(&a, &io))
        return 2;
    o.ts.seq_len = (int)seq; o.ts.pred_len = (int)pred; o.epochs = (int)ep; o.patience = (int)pat;
    o.steps_per_epoch = spe; o.batch = (int)batch; o.seed = (uint64_t)seed;
    const char *feat = cli_get(&a, "features");
    if (!feat) feat = feature_names[o.ts.features];
    else if (!strcmp(feat, "M")) o.ts.features = AAREN_TS_M;
    else if (!strcmp(feat, "S")) o.ts.features = AAREN_TS_S;
    else if (!strcmp(feat, "MS")) o.ts.features = AAREN_TS_MS;
    else return cli_fail("forecast", "--features '%s': expected M, S or MS", feat), 2;
    o.ts.target = cli_get(&a, "target");
    if (cli_float(&a, "lr", o.lr, 1e-7f, 10, &o.lr) || cli_float(&a, "dropout", o.dropout, 0, 0.99f, &o.dropout)) return 2;
    const char *recipe = cli_get(&a, "recipe");
    if (recipe && (o.recipe = aaren_recipe_from_name(recipe)) < 0)
        return cli_fail("forecast", "--recipe '%s': expected paper or patch", recipe), 2;
    long plen, pstride;
    if (cli_int(&a, "patch-len", o.patch_len, 1, 100000, &plen) || cli_int(&a, "stride", o.patch_stride, 1, 100000, &pstride))
        return 2;
    o.patch_len = (int)plen;
    o.patch_stride = (int)pstride;
    const aaren_config base = o.enc;
    if (cli_config(&a, &base, &o.enc)) return 2;
    char err[1024];
    if (cli_flag(&a, "calendar")) o.ts.freq = AAREN_TS_FREQ_AUTO;   /* the loader reads the frequency off the file */
    aaren_forecaster *fc = aaren_forecaster_new(&o, err, sizeof err);
    if (!fc) return cli_fail("forecast", "%s", err);
    const aaren_ts *ts = aaren_forecaster_data(fc);
    printf("forecast %s: %ld rows x %d columns, features %s, lookback %d, horizon %d; windows train %ld, val %ld, test %ld\n",
           o.data, aaren_ts_rows(ts), aaren_ts_cols(ts), feat, o.ts.seq_len, o.ts.pred_len,
           aaren_ts_n_windows(ts, AAREN_TS_TRAIN), aaren_ts_n_windows(ts, AAREN_TS_VAL), aaren_ts_n_windows(ts, AAREN_TS_TEST));
    printf("model: %s, d_model %d, %d heads, %d layers, d_ff %d", aaren_arch_name(o.enc.arch), o.enc.d_model,
           o.enc.n_heads, o.enc.n_layers, o.enc.d_ff);
    if (o.recipe == AAREN_RECIPE_PATCH) printf("; patch recipe, patches of %d every %d", o.patch_len, o.patch_stride);
    printf("; %d threads\n", aaren_threads());
    aaren_forecast_result r;
    rc = aaren_forecaster_run(fc, &r, &io, err, sizeof err);
    if (!rc && r.stopped) {
        printf("stopped after %ld steps as --stop-after asks; continue with --resume %s\n", io.stop_after, io.save);
    } else if (!rc) {
        printf("test MSE %.4f  MAE %.4f   (repeat last value: MSE %.4f  MAE %.4f)   best epoch %d of %d, %.1f s\n",
               r.test_mse, r.test_mae, r.naive_mse, r.naive_mae, r.best_epoch, r.epochs_run, r.seconds);
        const char *save = cli_get(&a, "save"), *plot = cli_get(&a, "plot"), *csv = cli_get(&a, "results-csv");
        if (save) printf("saved %s\n", save);
        if (!rc && csv) rc = append_result(csv, &o, &r, feat, err, sizeof err);
        if (!rc && cli_get(&a, "save-preds")) rc = save_preds(fc, cli_get(&a, "save-preds"), err, sizeof err);
        if (rc) cli_fail("forecast", "%s", err);
        else if (plot) rc = forecast_plot_window(fc, window, plot, cli_flag(&a, "allow-nonfinite"));   /* prints its own error */
    } else {
        cli_fail("forecast", "%s", err);
    }
    aaren_forecaster_free(fc);
    return rc ? 1 : 0;
}
