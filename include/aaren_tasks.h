/* aaren task models as applications use them: a trained time-series classifier and a trained
 * event model (neural temporal point process), each loaded from the safetensors checkpoint the
 * command-line tool writes (`aaren classify --save`, `aaren events --save`), used to predict,
 * and saved again; a trained forecaster (`aaren forecast --save`); and the tool's training
 * runs of the three from data files (aaren_*_train). The training loop itself is aaren_fit
 * (aaren.h).
 *
 * Conventions as in aaren.h: 0 on success, non-zero (or NULL) with a one-line message in err
 * that names the file and the fault. */
#ifndef AAREN_TASKS_H
#define AAREN_TASKS_H

#include <stddef.h>

#include "aaren.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- time-series classification -----------------------------------------------------------
 * Each case is a multivariate series of some length; the model embeds every step, runs the
 * encoder and reads class logits off the last valid step. A checkpoint holds the model, the
 * class labels (strings, in the order of the logits) and the per-dimension standardisation. */
typedef struct aaren_classifier aaren_classifier;

/* A trained classifier from a checkpoint (for predicting). */
AAREN_API aaren_classifier *aaren_classifier_load(const char *path, char *err, size_t errlen);
AAREN_API void aaren_classifier_free(aaren_classifier *c);
AAREN_API aaren_seqmodel *aaren_classifier_model(const aaren_classifier *c);
AAREN_API int aaren_classifier_n_classes(const aaren_classifier *c);
/* The label of class k (NULL when k is out of range). */
AAREN_API const char *aaren_classifier_label(const aaren_classifier *c, int k);
/* Dimensions (channels) of a case. */
AAREN_API int aaren_classifier_n_dims(const aaren_classifier *c);
/* Class probabilities of n cases given as arrays in the file's units: case i is x[i] with
 * n_dims rows of lengths[i] values each (dimension-major, like a UEA case: x[i][d * lengths[i]
 * + t]); NaN marks a missing value (filled as for training). proba [n, n_classes]. */
AAREN_API int aaren_classifier_predict_proba(aaren_classifier *c, const float *const *x, const int *lengths, int n,
                                             float *proba, char *err, size_t errlen);
/* Predicts every case of a `.ts` file (its labels must be among the model's). out_csv (NULL:
 * none) receives one row per case: case, true label, predicted label, its probability; a
 * non-finite probability is an error naming the case (out_csv not written) unless
 * aaren_classifier_allow_nonfinite is set. *n_cases, *acc and confusion
 * [n_classes * n_classes] (row = true class, column = predicted; NULL: not wanted) describe
 * the file. */
AAREN_API int aaren_classifier_predict_file(aaren_classifier *c, const char *path, const char *out_csv, int *n_cases,
                                            double *acc, long *confusion, char *err, size_t errlen);
AAREN_API void aaren_classifier_allow_nonfinite(aaren_classifier *c, int allow);
/* The model plus classify.* metadata (labels, dimensions, standardisation). */
AAREN_API int aaren_classifier_save(const aaren_classifier *c, const char *path, char *err, size_t errlen);

/* ---- a sequence model trained on arrays -------------------------------------------------------
 * n examples of N tokens: x [n, N, d_in]; targets per token (MSE: target [n, N, d_out]; CE:
 * labels [n, N]) or, with last_only, one per example at its last valid token ([n, d_out] or
 * [n]); lengths [n] valid tokens of each example (NULL: all N). */
typedef struct {
    const float *x;
    const float *target;   /* AAREN_LOSS_MSE */
    const int *labels;     /* AAREN_LOSS_CE: class indices 0..d_out-1 */
    const int *lengths;
    long n;
    int N;
} aaren_arrays;

typedef struct {
    int loss;              /* AAREN_LOSS_MSE or AAREN_LOSS_CE */
    int last_only;         /* many-to-one */
    int epochs, batch, patience;   /* patience: epochs without validation improvement (0: never stop) */
    float lr, weight_decay, clip, dropout;
    int schedule;          /* AAREN_SCHED_CONSTANT or AAREN_SCHED_COSINE (over all the run's steps) */
    long warmup_steps;
    uint64_t seed;         /* example order and dropout */
    const char *log;       /* CSV log of steps and evaluations (aaren_fit's; NULL: none) */
    const char *save;      /* run checkpoint, also the model file (NULL: none) */
    int verbose;           /* progress and epoch lines on stderr */
} aaren_arrays_fit_options;

/* loss MSE, epochs 10, batch 32, patience 0, lr 1e-3, weight decay 0.01 (weight matrices only),
 * clip 1, dropout 0, constant schedule, seed 1. */
AAREN_API void aaren_arrays_fit_options_init(aaren_arrays_fit_options *o);
/* Trains sm on train through aaren_fit (AdamW); val (NULL or n = 0: none) is scored after
 * every epoch (its mean loss: early stopping and the best weights restored). *r receives the
 * run's figures (NULL: not wanted). 0, or -1 with a message. */
AAREN_API int aaren_seqmodel_fit_arrays(aaren_seqmodel *sm, const aaren_arrays *train, const aaren_arrays *val,
                                        const aaren_arrays_fit_options *o, aaren_fit_result *r, char *err,
                                        size_t errlen);
/* Mean loss of sm on data (no dropout, no gradients): NaN with a message on failure. */
AAREN_API double aaren_seqmodel_loss_arrays(aaren_seqmodel *sm, const aaren_arrays *data, int loss, int last_only,
                                            int batch, char *err, size_t errlen);

/* ---- event forecasting: a neural temporal point process -------------------------------------
 * Events (time, mark) enter the encoder one token each; after each event the model predicts
 * the next inter-event time (a mixture of log-normals) and the next mark. */
typedef struct aaren_tpp aaren_tpp;

AAREN_API aaren_tpp *aaren_tpp_load(const char *path, char *err, size_t errlen);
AAREN_API int aaren_tpp_save(const aaren_tpp *m, const char *path, char *err, size_t errlen);
AAREN_API void aaren_tpp_free(aaren_tpp *m);
AAREN_API aaren_model *aaren_tpp_encoder(const aaren_tpp *m);
/* Marks the model knows (0: unmarked events). */
AAREN_API int aaren_tpp_n_marks(const aaren_tpp *m);

/* What the model predicts after an event: the next inter-event time's mean, median and
 * 10% / 90% quantiles (file's units), the most likely next mark and its probability. */
typedef struct {
    double mean, median, q10, q90;
    int mark;           /* -1 when unmarked */
    double p_mark;
} aaren_tpp_prediction;

/* Streaming: one event at a time through the encoder's stream (Aaren: constant memory;
 * Transformer: a KV cache of up to max_events). */
typedef struct aaren_tpp_stream aaren_tpp_stream;
AAREN_API aaren_tpp_stream *aaren_tpp_stream_new(aaren_tpp *m, long max_events, char *err, size_t errlen);
AAREN_API void aaren_tpp_stream_free(aaren_tpp_stream *s);
/* Feeds the event (time, mark; mark ignored when unmarked) and predicts the next one.
 * Times must not decrease; marks must be in range. */
AAREN_API int aaren_tpp_stream_event(aaren_tpp_stream *s, double time, int mark, aaren_tpp_prediction *p,
                                     char *err, size_t errlen);
AAREN_API size_t aaren_tpp_stream_state_bytes(const aaren_tpp_stream *s);

/* One line of an event stream, line[0, len) (need not be NUL-terminated; a final "\n" or
 * "\r\n" is allowed): TIME [MARK], separated by spaces or tabs and at most one comma. TIME is
 * a finite decimal number, MARK an integer from 0 to INT_MAX, nothing after them. Returns 1
 * with *time and *mark set (*mark -1 when the line has none), 0 for a blank line or a '#'
 * comment, -1 for a malformed line with what is wrong in err. */
AAREN_API int aaren_tpp_parse_event_line(const char *line, size_t len, double *time, int *mark, char *err,
                                         size_t errlen);

/* ---- time-series forecasting: a trained forecaster --------------------------------------------
 * A window of seq_len rows of a CSV (a date column, then numeric columns) in, the next
 * pred_len rows of the output columns out (see `aaren forecast --help`). */
typedef struct aaren_forecaster aaren_forecaster;

/* A forecaster from its checkpoint (`aaren forecast --save`, or aaren_forecaster_save). */
AAREN_API aaren_forecaster *aaren_forecaster_load(const char *path, char *err, size_t errlen);
AAREN_API void aaren_forecaster_free(aaren_forecaster *f);
/* The model plus forecast.* metadata (sizes, feature mode, columns, target, scaler). */
AAREN_API int aaren_forecaster_save(const aaren_forecaster *f, const char *path, char *err, size_t errlen);
AAREN_API int aaren_forecaster_seq_len(const aaren_forecaster *f);    /* lookback rows */
AAREN_API int aaren_forecaster_pred_len(const aaren_forecaster *f);   /* horizon rows */
AAREN_API int aaren_forecaster_d_out(const aaren_forecaster *f);      /* output columns */
/* Forecast from the last seq_len rows of csv (the training file's columns, at least
 * max(seq_len, 2) rows) with a loaded forecaster: forecast [pred_len, d_out] and, when not
 * NULL, history [seq_len, d_out] of the output columns, in the file's units. */
AAREN_API int aaren_forecaster_forecast_csv(aaren_forecaster *f, const char *csv, float *history, float *forecast,
                                            char *err, size_t errlen);

/* ---- training task models from data files, as the tool trains them ----------------------------
 * The runs of `aaren classify`, `aaren forecast` and `aaren events` behind one options struct:
 * the same files and options give the same model, loss curve and checkpoint layout as the
 * tool. Fields a task does not use are ignored. Always fill the struct with
 * aaren_task_options_init first: fields are added at its end between versions (0.2.0 added
 * recipe, patch_len, patch_stride, calendar, select_on_test and tie_marks; 0.3.0 copy_mark; 0.3.1
 * gave copy_mark counts above 1, the copy lags). */
enum { AAREN_TASK_CLASSIFY = 0, AAREN_TASK_FORECAST = 1, AAREN_TASK_EVENTS = 2 };

typedef struct {
    aaren_config enc;
    int epochs, patience, batch;
    float lr, dropout;
    float clip;                  /* gradient norm (classifier and event model; the forecaster does not clip) */
    uint64_t seed;
    const char *log;             /* the engine's CSV log (NULL: none) */
    const char *save;            /* the run checkpoint, also the task's model file (NULL: none) */
    int verbose;                 /* progress and epoch lines on stderr */
    float val_frac;              /* classifier: share of each TRAIN class held out for validation */
    int seq_len, pred_len;       /* forecaster: lookback and horizon rows */
    const char *features;        /* forecaster: "M", "S" or "MS" (NULL: "M") */
    const char *target;          /* forecaster: the target column (NULL: "OT") */
    long steps_per_epoch;        /* forecaster: 0 = every training window once per epoch */
    int K;                       /* event model: log-normal mixture components */
    const char *recipe;          /* forecaster: "paper" (a token per step) or "patch" (channel-independent
                                    patches as tokens, `aaren forecast --recipe patch`); NULL: "paper" */
    int patch_len, patch_stride; /* forecaster, patch recipe: patch length and stride (16, 8) */
    int calendar;                /* forecaster, paper recipe: calendar features; 0 none, 1 at the file's
                                    frequency as `--calendar` reads it ('t' for the ETT minute files, else
                                    'h'), or the character 'h' (hour, weekday, day, day of year) or 't' (and
                                    the minute) */
    int select_on_test;          /* classifier: the Time-Series-Library's protocol (all of TRAIN trains, the
                                    epoch with the best TEST accuracy is kept: optimistic, only to compare
                                    with published figures) */
    int tie_marks;               /* event model: the mark head tied to the mark embedding (`--tie-marks`) */
    int copy_mark;               /* event model: copy logits; 1: a learned logit added to the current event's
                                  * mark (`--copy-mark`); L > 1: one per lag on the marks of the last L
                                  * events (`--copy-lags L`, 0.3.1); 0: none */
} aaren_task_options;

/* The tool's defaults for the task (AAREN_TASK_*): those of its --help. */
AAREN_API void aaren_task_options_init(aaren_task_options *o, int task);
/* sizeof(aaren_task_options) in this library: bindings that mirror the struct check theirs. */
AAREN_API size_t aaren_task_options_size(void);

/* What a training run measured: val and test are the task's own metric on its validation
 * and test parts (classifier: accuracy; forecaster: MSE in scaled units; event model: NLL
 * per event). */
typedef struct {
    double val, test;
    int epochs_run, best_epoch;
    double seconds;
} aaren_task_result;

/* The models returned keep no pointer to the options or files: the classifier and the
 * forecaster are their checkpoint loaded back (written by the run to o->save, or to a
 * temporary file under $TMPDIR that is removed). */

/* A classifier trained on train_ts and scored on test_ts (NULL: train_ts itself). */
AAREN_API aaren_classifier *aaren_classifier_train(const char *train_ts, const char *test_ts,
                                                   const aaren_task_options *o, aaren_task_result *r, char *err,
                                                   size_t errlen);
/* A forecaster trained on a TSLib-style CSV (splits as `aaren forecast` makes them), ready
 * to forecast new rows with aaren_forecaster_forecast_csv. */
AAREN_API aaren_forecaster *aaren_forecaster_train(const char *csv, const aaren_task_options *o, aaren_task_result *r,
                                                   char *err, size_t errlen);
/* An event model trained on an event CSV (columns and splits as `aaren events --data`). */
AAREN_API aaren_tpp *aaren_tpp_train(const char *csv, const aaren_task_options *o, aaren_task_result *r, char *err,
                                     size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
