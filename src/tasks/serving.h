/* What `aaren serve` needs of the task models beyond their public API: each task's work per
 * token split around the encoder, so that the server steps the streams of many clients of a
 * task model through one batched encoder step (aaren_stream_step_some) and keeps each stream's
 * task state (a few numbers, or the forecaster's window) beside the encoder state; and the
 * task a checkpoint holds, read from its metadata. Plain functions on arrays with explicit
 * sizes; none allocates. */
#ifndef AAREN_SERVING_H
#define AAREN_SERVING_H
#include <stddef.h>
#include "aaren.h"
#include "aaren_tasks.h"
#include "tasks/forecast.h"

/* The task of a checkpoint, by its metadata. */
enum { AAREN_KIND_ENCODER = 0, AAREN_KIND_FORECAST, AAREN_KIND_CLASSIFY, AAREN_KIND_EVENTS, AAREN_KIND_DECISION };
/* One of AAREN_KIND_*, or -1 with a message naming the file when it cannot be read. */
int aaren_checkpoint_kind(const char *path, char *err, size_t errlen);
const char *aaren_kind_name(int kind);   /* "encoder", "forecaster", "classifier", "events", "decision" */

/* ---- classifier: embed -> encoder stream -> head at every step ----------------------------
 * The class probabilities after step t are those of aaren_classifier_predict_proba on the
 * case's first t steps (no missing values: a stream has no later values to fill them from). */
/* x [k, dims] in the file's units is standardised in place, then embedded: h [k, d_model]. */
void aaren_classifier_stream_embed(const aaren_classifier *c, float *x, int k, float *h);
/* The encoder outputs y [k, d_model] to probabilities proba [k, n_classes]. */
void aaren_classifier_stream_proba(const aaren_classifier *c, const float *y, int k, float *proba);

/* ---- event model: one token per event, as aaren_tpp_stream_event makes them ---------------
 * Event i of the k: time[i] after a stream's n_before[i] events, the last at last_t[i]; its
 * mark (ignored when unmarked). x [k, d_model]. The caller checks times and marks. */
void aaren_tpp_stream_tokens(const aaren_tpp *m, int k, const double *time, const double *last_t,
                             const long *n_before, const int *mark, float *x);
/* Floats of one decoder row (scratch z of aaren_tpp_stream_decode is [k, this]). */
int aaren_tpp_decoder_width(const aaren_tpp *m);
/* Copy lags L of the model (0: no copy logits): what aaren_tpp_stream_decode reads of each
 * event's recent marks. */
int aaren_tpp_copy_lags(const aaren_tpp *m);
/* The encoder outputs h [k, d_model] of k events to the predictions p [k] and, when
 * mark_probs is not NULL and the model is marked, every mark's probability [k, n_marks].
 * hist [k, L] holds each event's recent marks, lag 1 first (the event's own mark, then the
 * marks of the L - 1 events before it in its stream; -1 where there is none), for the copy
 * logits; with L = 1 that is just the events' marks [k]; unused when L = 0. */
void aaren_tpp_stream_decode(const aaren_tpp *m, const float *h, int k, const int *hist, float *z, aaren_tpp_prediction *p,
                             float *mark_probs);

/* ---- forecaster: the last seq_len rows in, the horizon out ---------------------------------
 * A loaded forecaster (aaren_forecaster_load) forecasting windows given as numbers rather
 * than a CSV: the same arithmetic as aaren_forecaster_forecast_file. */
int aaren_forecaster_cols(const aaren_forecaster *f);          /* numeric columns of a row */
const char *aaren_forecaster_columns(const aaren_forecaster *f);   /* their names, escaped, comma-separated */
int aaren_forecaster_n_time(const aaren_forecaster *f);        /* calendar features: 0, 4 or 5 */
/* Room for windows of up to B at once. 0, or -1 with a message. */
int aaren_forecaster_reserve_windows(aaren_forecaster *f, int B, char *err, size_t errlen);
/* B windows: raw [B, seq_len, cols] in the file's units, secs [B, seq_len] each row's date as
 * seconds (aaren_ts_date_seconds; read only when the model has calendar features); forecast
 * [B, pred_len, d_out] in the file's units. B at most what was reserved. */
int aaren_forecaster_forecast_windows(aaren_forecaster *f, const double *raw, const long long *secs, int B,
                                      float *forecast, char *err, size_t errlen);
#endif
