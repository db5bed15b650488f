/* Time-series forecasting around the shared encoder (the paper's TSLib setting).
 *
 * Model, per window of seq_len steps: per-window normalisation of the data channels (each
 * channel's mean and standard deviation over the window, as series stationarisation does),
 * a linear embedding of each step (data channels plus optional calendar features), the
 * encoder (Aaren or Transformer: the only difference), and a linear head on the encoder
 * output at the last step mapping to pred_len x d_out values, de-normalised with the
 * window's statistics. Loss: MSE against the (dataset-scaled) targets.
 * Training: AdamW (no weight decay, i.e. Adam), the learning rate halved every epoch
 * (TSLib's type1 schedule), early stopping on the validation MSE (patience epochs), the
 * best parameters restored for testing. The test split never influences training.
 *
 * The patch recipe (recipe AAREN_RECIPE_PATCH) keeps the data, normalisation, loss and
 * training, and replaces the network: each data channel of a window is a series of its own
 * (channel independence), cut into patches that are the encoder's tokens, with a flattening
 * linear head over all patch outputs (tasks/patch.h). With the Transformer as the backbone
 * this is PatchTST's design; no calendar features. */
#ifndef AAREN_FORECAST_H
#define AAREN_FORECAST_H
#include <stdio.h>
#include "aaren.h"
#include "aaren_tasks.h"
#include "data/timeseries.h"

typedef struct {
    const char *data;            /* TSLib-style CSV */
    aaren_ts_options ts;         /* seq_len, pred_len, features, target, calendar freq */
    aaren_config enc;            /* the encoder (arch, sizes) */
    int batch, epochs, patience;
    long steps_per_epoch;        /* 0: every training window once per epoch (the last batch smaller) */
    float lr, dropout;
    uint64_t seed;
    int recipe;                  /* AAREN_RECIPE_PAPER or AAREN_RECIPE_PATCH */
    int patch_len, patch_stride; /* the patch recipe's patches */
} aaren_forecast_options;

enum { AAREN_RECIPE_PAPER = 0, AAREN_RECIPE_PATCH = 1 };
/* "paper" / "patch"; the parser returns -1 for any other text. */
const char *aaren_recipe_name(int recipe);
int aaren_recipe_from_name(const char *s);
/* The encoder whose parameter block holds all of the forecaster's parameters. */
aaren_model *aaren_forecaster_encoder(const aaren_forecaster *f);

/* seq_len 96, pred_len 96, M; Aaren d_model 64, 4 heads, 2 layers, d_ff 128; batch 32,
 * 10 epochs, patience 3, 300 steps per epoch, lr 1e-3, dropout 0.1, seed 1; the paper's
 * recipe (patches of 16 steps every 8 for the patch recipe). */
void aaren_forecast_options_init(aaren_forecast_options *o);

typedef struct {
    double val_mse;              /* best validation MSE */
    double test_mse, test_mae;   /* on the dataset-scaled values (TSLib's convention) */
    double naive_mse, naive_mae; /* "repeat the last value" on the same test windows */
    int epochs_run, best_epoch;
    double seconds;              /* training and evaluation */
    size_t n_params;
    int stopped;                 /* io->stop_after ended the run early: no test figures */
} aaren_forecast_result;

/* The forecaster type, loading, saving and forecasting a CSV are public: aaren_tasks.h. */

aaren_forecaster *aaren_forecaster_new(const aaren_forecast_options *o, char *err, size_t errlen);
const aaren_ts *aaren_forecaster_data(const aaren_forecaster *f);
/* The paper recipe's sequence model (NULL for the patch recipe). */
aaren_seqmodel *aaren_forecaster_model(const aaren_forecaster *f);
/* Trains with early stopping (aaren_fit: checkpoints, resume, log and progress as io says;
 * NULL: silent) and evaluates on the test split. */
int aaren_forecaster_run(aaren_forecaster *f, aaren_forecast_result *r, const aaren_fit_io *io, char *err, size_t errlen);
/* MSE and MAE of the model (and of repeating the last value) over a split. */
int aaren_forecaster_evaluate(aaren_forecaster *f, int split, double *mse, double *mae,
                              double *naive_mse, double *naive_mae, char *err, size_t errlen);
/* One window of a split in the file's units: history [seq_len, d_out], truth and forecast
 * [pred_len, d_out] (the output channels). */
int aaren_forecaster_predict(aaren_forecaster *f, int split, long window, float *history,
                             float *truth, float *forecast, char *err, size_t errlen);
/* The model's input for one window of a split: the window normalised as the model sees it,
 * xn [seq_len, d_in] (for streaming it token by token). */
int aaren_forecaster_window_input(aaren_forecaster *f, int split, long window, float *xn, char *err, size_t errlen);

/* Every window of a split: pred and truth [n_windows, pred_len, d_out] in the dataset's scaled
 * units (TSLib's pred.npy / true.npy). 0, or -1 with a message. */
int aaren_forecaster_split_preds(aaren_forecaster *f, int split, float *pred, float *truth, char *err, size_t errlen);

/* ---- forecasting new rows with a saved model */
/* (aaren_forecaster_load, in aaren_tasks.h: a loaded forecaster forecasts files, not splits.) */
/* Reads csv (the training file's columns, in the same layout; at least seq_len rows), takes its
 * last seq_len rows and forecasts the next pred_len: forecast [pred_len, d_out] and history
 * [seq_len, d_out] of the output columns, in the file's units (scaled: in the scaled units the
 * model works in), dates [pred_len] continued from the last date at the step between the last
 * two rows. 0, or -1 with a message naming the file. */
int aaren_forecaster_forecast_file(aaren_forecaster *f, const char *csv, int scaled, float *history, float *forecast,
                                   aaren_ts_date *dates, char *err, size_t errlen);
/* The name of output column j of a loaded model into buf; -1 when j is out of range. */
int aaren_forecaster_out_name(const aaren_forecaster *f, int j, char *buf, size_t cap);
#endif
