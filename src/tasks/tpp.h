/* Event forecasting: a neural temporal point process around the shared encoder (the paper's
 * Meta-TPP / THP setting, Aaren in place of the Transformer).
 *
 * Event i of a sequence (time t_i, mark k_i; tau_i = t_i - t_{i-1}, tau_0 = 0) enters the
 * encoder as the token
 *   x_i = E[k_i] + TE(t_i / time_scale) + v * y_i,      x_i [D]
 * with E [n_marks, D] a learned mark embedding (one learned row for unmarked data), TE the
 * sinusoidal temporal encoding of THP (channel j: sin or cos of t / 10000^(2 floor(j/2) / D)),
 * time_scale the mean inter-event time of the training events, v [D] learned and
 * y_i = (log max(tau_i, tau_min) - loc) / scale the standardised log inter-event time
 * (0 for the first event). The encoder (Aaren or Transformer: the only difference) gives
 * h_i; the decoder z_i = W h_i + b, z_i [3K + C], predicts the next event:
 *   tau_{i+1} ~ a mixture of K log-normals (layers_decl.inc: aaren_lnmix_*),
 *   k_{i+1}   ~ softmax(z_i[3K ..]) (C = n_marks; no mark head when unmarked).
 * loc and scale are the mean and std of log max(tau, tau_min) over the training events;
 * tau_min = 1e-3 * time_scale floors simultaneous events. Loss per sequence: the NLL of every
 * next event given its history (positions 0 .. n-2), time part plus mark part, averaged
 * over the events of the batch. The decoder runs in chunks of positions, so large mark
 * vocabularies (Wiki: 8227) never need a [B, N, C] buffer.
 *
 * Training: Adam (no weight decay), constant learning rate, gradient norm clipped at 1,
 * dropout; early stopping on the validation NLL per event; the best parameters are
 * restored for testing. Metrics per predicted event on a split: time NLL (in the file's
 * time units), mark NLL, their sum, RMSE of the predicted mean inter-event time, mark
 * accuracy; beside them a homogeneous Poisson process (rate = training events / training
 * time) with training mark frequencies. */
#ifndef AAREN_TPP_H
#define AAREN_TPP_H
#include <stdio.h>
#include "aaren.h"
#include "aaren_tasks.h"
#include "data/events.h"

typedef struct {
    aaren_config enc;
    int K;                       /* mixture components [8] */
    int batch, epochs, patience; /* [16, 30, 5] */
    float lr, dropout, clip;     /* [1e-3, 0.1, 1] */
    uint64_t seed;               /* [1] */
} aaren_tpp_options;

void aaren_tpp_options_init(aaren_tpp_options *o);

typedef struct {
    double nll_time, nll_mark, nll;     /* per predicted event */
    double rmse, acc;                   /* acc NaN when unmarked */
    long n_pred;                        /* predicted events */
} aaren_tpp_metrics;

typedef struct {
    aaren_tpp_metrics val, test, poisson_test;
    int epochs_run, best_epoch;
    double seconds;
    size_t n_params;
    int stopped;                 /* io->stop_after ended the run early: no test figures */
} aaren_tpp_result;

/* The model type, loading, saving, streaming and the event-line parser are public:
 * aaren_tasks.h. */

/* A model for data d (kept by pointer; its statistics are read from d's TRAIN split). */
aaren_tpp *aaren_tpp_new(const aaren_events *d, const aaren_tpp_options *o, char *err, size_t errlen);

/* Trains with early stopping on the validation NLL (aaren_fit: checkpoints, resume, log and
 * progress as io says; NULL: silent), then evaluates on TEST beside the Poisson baseline. */
int aaren_tpp_run(aaren_tpp *m, const aaren_events *d, aaren_tpp_result *r, const aaren_fit_io *io, char *err,
                  size_t errlen);
int aaren_tpp_evaluate(aaren_tpp *m, const aaren_events *d, int split, aaren_tpp_metrics *out, char *err, size_t errlen);
/* The Poisson baseline fitted on d's TRAIN split, scored on a split. */
void aaren_tpp_poisson(const aaren_events *d, int split, aaren_tpp_metrics *out);

/* Per-event predictions of sequence s of d through the parallel path: pred [len(s)], and when
 * mark_probs is given (marked models) every mark's probability [len(s), n_marks]. */
int aaren_tpp_predict_sequence(aaren_tpp *m, const aaren_events *d, int s, aaren_tpp_prediction *pred,
                               float *mark_probs, char *err, size_t errlen);

#endif
