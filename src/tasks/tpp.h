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
 * time units), mark NLL, their sum, the log-likelihood in THP's form (below), RMSE of the
 * predicted mean and of the predicted median inter-event time, mark accuracy; beside them a
 * homogeneous Poisson process (rate = training events / training time) and a Hawkes process,
 * both with training mark frequencies. */
#ifndef AAREN_TPP_H
#define AAREN_TPP_H
#include <stdio.h>
#include "aaren.h"
#include "aaren_tasks.h"
#include "data/events.h"

enum { AAREN_TPP_MAX_COPY_LAGS = 64 };

typedef struct {
    aaren_config enc;
    int K;                       /* mixture components [8] */
    int batch, epochs, patience; /* [16, 30, 5] */
    float lr, dropout, clip;     /* [1e-3, 0.1, 1] */
    uint64_t seed;               /* [1] */
    int tie_marks;               /* [0] the mark head tied to the mark embedding: the logit of mark c
                                  * is E[c] . (T h) + b_c with T [D, D] learned, in place of a free
                                  * row per mark (W's mark rows are made as E T^T before each
                                  * forward pass); a mark seen rarely or never in training still
                                  * has a logit through its input embedding. T starts at the
                                  * identity plus U(+-0.1 / sqrt(D)), so the head starts out
                                  * favouring marks whose embedding is in h (the current one) */
    int copy_mark;               /* [0] copy logits on the recent marks: with copy_mark = L >= 1,
                                  * L learned scalars g_1..g_L, g_j added to the logit of the mark
                                  * of the event j - 1 before the current one (g_1: the current
                                  * event's mark), whatever the head (tied or not); a mark at
                                  * several of the lags gets the g of the most recent one only
                                  * (a mark repeated over the last L events is not boosted L
                                  * times). The next event often
                                  * repeats the current mark or one of the last few (a Wiki page's
                                  * editor edits again, or goes back to a page edited before),
                                  * which the head otherwise learns slowly for rare marks. g_j
                                  * starts at log(r_j (C - 1) / (1 - r_j)), r_j the TRAIN rate of a
                                  * next mark equal to lag j's and to no smaller lag's (r_1 the
                                  * repeat rate, aaren_tpp_repeat_acc), clipped to [0.001, 0.999]:
                                  * the logit that gives that mark probability r_j against C - 1
                                  * equal others. A stream keeps its last L marks (4 L bytes).
                                  * Needs 2 marks or more; L at most AAREN_TPP_MAX_COPY_LAGS. */
} aaren_tpp_options;

void aaren_tpp_options_init(aaren_tpp_options *o);

/* The log-likelihood in the form THP and EasyTPP report it: per sequence, the sum over its
 * predicted events of log lambda*(t_i) + log p(k_i), minus the integral of the total
 * intensity lambda* over its observed window, summed over sequences and divided by the
 * predicted events. The window starts at the sequence's first event (conditioned on, not
 * predicted) and ends at data->window_end when the data has one (Sin: the horizon),
 * else at the last event. With lambda* = p / S of the next inter-event time this is
 *   (sum_i [log p(tau_i) + log p(k_i)] + sum_seq log S(window_end - t_last)) / n_pred,
 * i.e. -nll plus the survival after the last event; the two agree when the window ends at
 * the last event. */
typedef struct {
    double nll_time, nll_mark, nll;     /* per predicted event */
    double rmse, acc;                   /* acc NaN when unmarked; rmse of the predicted mean */
    long n_pred;                        /* predicted events */
    double ll, ll_time;                 /* THP-form log-likelihood per predicted event, all / time part */
    double rmse_median;                 /* RMSE of the predicted median inter-event time */
} aaren_tpp_metrics;

/* The Hawkes baseline: one (univariate) process for all events, intensity
 *   lambda(t) = mu + alpha sum_{j < i} exp(-beta (t - t_j))   for t in (t_{i-1}, t_i],
 * the history counted by event index (events at equal times excite each other in file order),
 * fitted by maximum likelihood on the TRAIN sequences over the windows above; the marks with
 * the Poisson baseline's training frequencies. Not multivariate over marks: 75 marks (MIMIC)
 * would be 5,700 excitations for 1,930 training events, 8,227 (Wiki) 68 million. */
typedef struct {
    double mu, alpha, beta;   /* base rate, jump of the intensity at an event, decay rate */
    double loglik;            /* the fitted TRAIN log-likelihood (time part, whole windows) */
    long n_events;            /* predicted TRAIN events of the fit */
} aaren_hawkes;

/* The time part of the log-likelihood over the split's sequences in the THP form (whole
 * windows); *n_pred gets the predicted events. O(events) by the exponential recursion. */
double aaren_hawkes_loglik(const aaren_events *d, int split, const aaren_hawkes *h, long *n_pred);
/* Maximum likelihood on TRAIN: beta over a log grid around 1 / (mean inter-event time) then
 * golden-section refinement; for each beta the likelihood is concave in (mu, alpha), solved by
 * projected Newton steps with EM steps as the fallback. -1 with a message when TRAIN has no
 * inter-event times. */
int aaren_hawkes_fit(const aaren_events *d, aaren_hawkes *h, char *err, size_t errlen);
/* A fitted process scored on a split like the models: NLL per predicted event (time and
 * training mark frequencies), THP-form log-likelihood, RMSE of the mean and the median of the
 * next inter-event time, accuracy of the most frequent training mark. */
void aaren_tpp_hawkes(const aaren_events *d, const aaren_hawkes *h, int split, aaren_tpp_metrics *out);
/* The mark part shared by the baselines: training frequencies with add-one smoothing;
 * sum of -log p(mark) over the split's predicted events into *nll, right guesses of the most
 * frequent training mark into *right (both 0 when unmarked). */
void aaren_tpp_mark_baseline(const aaren_events *d, int split, double *nll, long *right);
/* A baseline's metrics from its sums over the split's cnt predicted events: time NLL nt, the
 * survival terms surv (<= 0), squared errors of the mean and the median; the mark part from
 * aaren_tpp_mark_baseline. */
void aaren_tpp_baseline_metrics(const aaren_events *d, int split, long cnt, double nt, double surv, double se,
                                double se_med, aaren_tpp_metrics *out);
/* The accuracy of guessing that the next mark repeats the current one (the editor of a Wiki
 * page is often its previous editor) over the split's predicted events; NaN when unmarked. */
double aaren_tpp_repeat_acc(const aaren_events *d, int split);

typedef struct {
    aaren_tpp_metrics val, test, poisson_test;
    int epochs_run, best_epoch;
    double seconds;
    size_t n_params;
    int stopped;                 /* io->stop_after ended the run early: no test figures */
    aaren_tpp_metrics hawkes_test;
    aaren_hawkes hawkes;         /* the Hawkes baseline fitted on TRAIN */
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
/* The figures that training does not use, in a pass of their own over the split (the
 * model's data checks are aaren_tpp_evaluate's: call it first): the THP-form
 * log-likelihood and the RMSE of the predicted median, into out's ll, ll_time and
 * rmse_median (aaren_tpp_evaluate leaves them 0; aaren_tpp_run fills both for TEST). */
int aaren_tpp_evaluate_ll(aaren_tpp *m, const aaren_events *d, int split, aaren_tpp_metrics *out, char *err,
                          size_t errlen);
/* The Poisson baseline fitted on d's TRAIN split, scored on a split. */
void aaren_tpp_poisson(const aaren_events *d, int split, aaren_tpp_metrics *out);

/* The training loss of sequences seqs[0..B) (B at most the batch size; no dropout), NLL per
 * predicted event, and its gradient with respect to every parameter (encoder and task,
 * aaren_model_grads of aaren_tpp_encoder, overwritten): what a training step computes, for
 * the finite-difference tests. -1 with a message on error or when nothing is predicted. */
int aaren_tpp_loss_grads(aaren_tpp *m, const aaren_events *d, const int *seqs, int B, double *loss, char *err,
                         size_t errlen);

/* Per-event predictions of sequence s of d through the parallel path: pred [len(s)], and when
 * mark_probs is given (marked models) every mark's probability [len(s), n_marks]. */
int aaren_tpp_predict_sequence(aaren_tpp *m, const aaren_events *d, int s, aaren_tpp_prediction *pred,
                               float *mark_probs, char *err, size_t errlen);

#endif
